from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext

from ..i18n import enum_label


class InterestLevel(StrEnum):
    INFO = "info"  # send more information
    MEETING = "meeting"  # wants a call
    SITE_VISIT = "site_visit"  # wants to visit or host a visit
    INTENT = "intent"  # ready to negotiate


#: How each level reads to people (translated when shown; the codes stay in the API).
LEVEL_LABELS = {
    InterestLevel.INFO: lazy_gettext("Send more information"),
    InterestLevel.MEETING: lazy_gettext("Wants a meeting"),
    InterestLevel.SITE_VISIT: lazy_gettext("Wants a site visit"),
    InterestLevel.INTENT: lazy_gettext("Ready to negotiate (intent)"),
}


class LeadStage(StrEnum):
    SEEKING_PARTNER = "seeking_partner"
    PARTNER_IDENTIFIED = "partner_identified"
    PRELIMINARY_INTENT = "preliminary_intent"
    FOLLOW_UP = "follow_up"
    INTENT_REACHED = "intent_reached"
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    PERFORMING = "performing"
    CONSTRUCTION = "construction"
    OPERATING = "operating"
    DROPPED = "dropped"


#: How each stage reads to people (translated when read: `stage_label`).
STAGE_LABELS = {
    LeadStage.SEEKING_PARTNER: lazy_gettext("Seeking partner"),
    LeadStage.PARTNER_IDENTIFIED: lazy_gettext("Partner identified"),
    LeadStage.PRELIMINARY_INTENT: lazy_gettext("Preliminary intent"),
    LeadStage.FOLLOW_UP: lazy_gettext("Follow-up"),
    LeadStage.INTENT_REACHED: lazy_gettext("Intent reached"),
    LeadStage.NEGOTIATING: lazy_gettext("Negotiating"),
    LeadStage.SIGNED: lazy_gettext("Signed"),
    LeadStage.PERFORMING: lazy_gettext("Performing"),
    LeadStage.CONSTRUCTION: lazy_gettext("Under construction"),
    LeadStage.OPERATING: lazy_gettext("Operating"),
    LeadStage.DROPPED: lazy_gettext("Dropped"),
}


def stage_label(stage: str | None) -> str:
    """The stage as the reader reads it ("—" for none, the code itself when unknown)."""
    if not stage:
        return "—"
    return enum_label(STAGE_LABELS, stage)


#: The pipeline in order (`dropped` stands outside it).
STAGE_ORDER = [s for s in LeadStage if s is not LeadStage.DROPPED]


def stage_rank(stage: str) -> int:
    return STAGE_ORDER.index(LeadStage(stage)) if stage != LeadStage.DROPPED else -1


#: Every stage a lead can be in: the pipeline's order, then dropped.
ALL_STAGES = [*STAGE_ORDER, LeadStage.DROPPED]


def is_backwards(current: str, target: str) -> bool:
    """A move back: to an earlier stage, or out of `dropped` (dropping is not a move back)."""
    return target != current and (current == LeadStage.DROPPED or (
        target != LeadStage.DROPPED and stage_rank(target) < stage_rank(current)))


def allowed_stages(role: str, current: str) -> list[LeadStage]:
    """The stages a person may move a lead to from `current` (the service's rule, the pages' choices):
    organisers any; everyone else the current one, later ones and dropped, never back (a dropped lead
    stays dropped until an organiser revives it). Moving back or dropping also needs a reason."""
    if role == "organiser":
        return ALL_STAGES
    if current == LeadStage.DROPPED:
        return [LeadStage.DROPPED]
    return [s for s in STAGE_ORDER if stage_rank(s) >= stage_rank(current)] + [LeadStage.DROPPED]


def stage_for_level(level: str) -> LeadStage:
    """Where a lead made from an interest of this level starts."""
    return LeadStage.PRELIMINARY_INTENT if level == InterestLevel.INTENT else LeadStage.PARTNER_IDENTIFIED


class DocumentKind(StrEnum):
    AGREEMENT = "agreement"
    BROCHURE = "brochure"
    OTHER = "other"


#: How each kind reads to people.
DOCUMENT_KIND_LABELS = {
    DocumentKind.AGREEMENT: lazy_gettext("Signed agreement"),
    DocumentKind.BROCHURE: lazy_gettext("Brochure"),
    DocumentKind.OTHER: lazy_gettext("Other"),
}

#: The kind of a site proposal's PDF: CloudFair writes it (`parks.proposals`); nobody uploads one.
SITE_PROPOSAL_KIND = "site_proposal"


def level_label(level: str) -> str:
    return enum_label(LEVEL_LABELS, level)


def document_kind_label(kind: str) -> str:
    if kind == SITE_PROPOSAL_KIND:
        return str(lazy_gettext("Site proposal"))
    return enum_label(DOCUMENT_KIND_LABELS, kind)


#: Stages from which on a lead needs the agreement and the contracted amount.
SIGNED_STAGES = frozenset({LeadStage.SIGNED, LeadStage.PERFORMING, LeadStage.CONSTRUCTION, LeadStage.OPERATING})
#: Stages where a lead is still being pursued (stall reminders apply).
OPEN_STAGES = frozenset(set(STAGE_ORDER) - {LeadStage.OPERATING})


def default_stall_days(stage: str) -> int:
    """14 days for the early stages, 30 from negotiating on."""
    return 30 if stage_rank(stage) >= stage_rank(LeadStage.NEGOTIATING) else 14
