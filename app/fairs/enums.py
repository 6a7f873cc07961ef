from enum import StrEnum


class FairStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    LIVE = "live"
    CLOSED = "closed"
    CANCELLED = "cancelled"


#: Fairs the public may see.
VISIBLE_FAIR_STATUSES = (FairStatus.PUBLISHED, FairStatus.LIVE, FairStatus.CLOSED)


class SessionKind(StrEnum):
    PITCH = "pitch"
    CITY_PROMOTION = "city_promotion"
    TRAINING = "training"
    SIGNING = "signing"
    PANEL = "panel"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"
