from __future__ import annotations

from flask_babel import lazy_gettext

from ..i18n import LabelledEnum


class InterestLevel(LabelledEnum):
    """How far an interest goes, and how it reads to people (translated when shown; the codes stay
    in the API)."""

    INFO = "info", lazy_gettext("Send more information")
    MEETING = "meeting", lazy_gettext("Wants a meeting")  # wants a call
    SITE_VISIT = "site_visit", lazy_gettext("Wants a site visit")  # wants to visit or host a visit
    INTENT = "intent", lazy_gettext("Ready to negotiate (intent)")


LEVEL_LABELS = InterestLevel.labels()


class LeadStage(LabelledEnum):
    """Each stage and how it reads to people (translated when read: `stage_label`)."""

    SEEKING_PARTNER = "seeking_partner", lazy_gettext("Seeking partner")
    PARTNER_IDENTIFIED = "partner_identified", lazy_gettext("Partner identified")
    PRELIMINARY_INTENT = "preliminary_intent", lazy_gettext("Preliminary intent")
    FOLLOW_UP = "follow_up", lazy_gettext("Follow-up")
    INTENT_REACHED = "intent_reached", lazy_gettext("Intent reached")
    NEGOTIATING = "negotiating", lazy_gettext("Negotiating")
    SIGNED = "signed", lazy_gettext("Signed")
    PERFORMING = "performing", lazy_gettext("Performing")
    CONSTRUCTION = "construction", lazy_gettext("Under construction")
    OPERATING = "operating", lazy_gettext("Operating")
    DROPPED = "dropped", lazy_gettext("Dropped")


STAGE_LABELS = LeadStage.labels()


def stage_label(stage: str | None) -> str:
    """The stage as the reader reads it ("—" for none, the code itself when unknown)."""
    if not stage:
        return "—"
    return LeadStage.label_of(stage)


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


class DocumentKind(LabelledEnum):
    """Each kind of lead document and how it reads to people."""

    AGREEMENT = "agreement", lazy_gettext("Signed agreement")
    BROCHURE = "brochure", lazy_gettext("Brochure")
    OTHER = "other", lazy_gettext("Other")


DOCUMENT_KIND_LABELS = DocumentKind.labels()

#: The kind of a site proposal's PDF: CloudFair writes it (`parks.proposals`); nobody uploads one.
SITE_PROPOSAL_KIND = "site_proposal"


level_label = InterestLevel.label_of


def document_kind_label(kind: str) -> str:
    if kind == SITE_PROPOSAL_KIND:
        return str(lazy_gettext("Site proposal"))
    return DocumentKind.label_of(kind)


#: Stages from which on a lead needs the agreement and the contracted amount.
SIGNED_STAGES = frozenset({LeadStage.SIGNED, LeadStage.PERFORMING, LeadStage.CONSTRUCTION, LeadStage.OPERATING})
#: Stages where a lead is still being pursued (stall reminders apply).
OPEN_STAGES = frozenset(set(STAGE_ORDER) - {LeadStage.OPERATING})


def default_stall_days(stage: str) -> int:
    """14 days for the early stages, 30 from negotiating on."""
    return 30 if stage_rank(stage) >= stage_rank(LeadStage.NEGOTIATING) else 14
