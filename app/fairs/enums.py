from enum import StrEnum

from flask_babel import lazy_gettext as _l

from ..i18n import enum_label


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


class RegistrationStatus(StrEnum):
    """A person's place at a fair. Only `registered` takes one of the fair's places."""

    REGISTERED = "registered"
    #: Asked for a place when the fair was full; moves up in `waitlisted_at` order.
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    #: Joined a live session without a place; counts as attended, never as registered.
    WALK_IN = "walk_in"


#: How each registration status reads to organisers.
REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.REGISTERED: _l("registered"),
    RegistrationStatus.WAITLISTED: _l("on the waiting list"),
    RegistrationStatus.WITHDRAWN: _l("withdrawn"),
    RegistrationStatus.WALK_IN: _l("walk-in"),
}


#: How each status reads to people (fairs and sessions share "live" and "cancelled").
STATUS_LABELS = {
    "draft": _l("draft"),
    "published": _l("published"),
    "live": _l("live"),
    "closed": _l("closed"),
    "cancelled": _l("cancelled"),
    "scheduled": _l("scheduled"),
    "ended": _l("ended"),
}

#: How each session kind reads to people, in the order the session form offers them.
KIND_LABELS = {
    SessionKind.PITCH: _l("Pitch"),
    SessionKind.CITY_PROMOTION: _l("City promotion"),
    SessionKind.TRAINING: _l("Training"),
    SessionKind.SIGNING: _l("Signing ceremony"),
    SessionKind.PANEL: _l("Panel"),
}


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(str(status))
    return str(label) if label is not None else str(status)


def kind_label(kind: str) -> str:
    return str(enum_label(KIND_LABELS, kind))


def registration_status_label(status: str) -> str:
    return str(enum_label(REGISTRATION_STATUS_LABELS, status))
