from __future__ import annotations

from enum import StrEnum


class InterestLevel(StrEnum):
    INFO = "info"  # send more information
    MEETING = "meeting"  # wants a call
    SITE_VISIT = "site_visit"  # wants to visit or host a visit
    INTENT = "intent"  # ready to negotiate


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


#: The pipeline in order (`dropped` stands outside it).
STAGE_ORDER = [s for s in LeadStage if s is not LeadStage.DROPPED]


def stage_rank(stage: str) -> int:
    return STAGE_ORDER.index(LeadStage(stage)) if stage != LeadStage.DROPPED else -1


def stage_for_level(level: str) -> LeadStage:
    """Where a lead made from an interest of this level starts."""
    return LeadStage.PRELIMINARY_INTENT if level == InterestLevel.INTENT else LeadStage.PARTNER_IDENTIFIED


class DocumentKind(StrEnum):
    AGREEMENT = "agreement"
    BROCHURE = "brochure"
    OTHER = "other"


#: Stages from which on a lead needs the agreement and the contracted amount.
SIGNED_STAGES = frozenset({LeadStage.SIGNED, LeadStage.PERFORMING, LeadStage.CONSTRUCTION, LeadStage.OPERATING})
#: Stages where a lead is still being pursued (stall reminders apply).
OPEN_STAGES = frozenset(set(STAGE_ORDER) - {LeadStage.OPERATING})


def default_stall_days(stage: str) -> int:
    """14 days for the early stages, 30 from negotiating on."""
    return 30 if stage_rank(stage) >= stage_rank(LeadStage.NEGOTIATING) else 14
