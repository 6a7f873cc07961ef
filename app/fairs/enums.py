from flask_babel import lazy_gettext as _l

from ..i18n import LabelledEnum


class FairStatus(LabelledEnum):
    DRAFT = "draft", _l("draft")
    PUBLISHED = "published", _l("published")
    LIVE = "live", _l("live")
    CLOSED = "closed", _l("closed")
    CANCELLED = "cancelled", _l("cancelled")


#: Fairs the public may see.
VISIBLE_FAIR_STATUSES = (FairStatus.PUBLISHED, FairStatus.LIVE, FairStatus.CLOSED)


class SessionKind(LabelledEnum):
    """Each kind and how it reads to people, in the order the session form offers them."""

    PITCH = "pitch", _l("Pitch")
    CITY_PROMOTION = "city_promotion", _l("City promotion")
    TRAINING = "training", _l("Training")
    SIGNING = "signing", _l("Signing ceremony")
    PANEL = "panel", _l("Panel")


class SessionStatus(LabelledEnum):
    SCHEDULED = "scheduled", _l("scheduled")
    LIVE = "live", _l("live")
    ENDED = "ended", _l("ended")
    CANCELLED = "cancelled", _l("cancelled")


class RegistrationStatus(LabelledEnum):
    """A person's place at a fair, and how it reads to organisers. Only `registered` takes one of the
    fair's places."""

    REGISTERED = "registered", _l("registered")
    #: Asked for a place when the fair was full; moves up in `waitlisted_at` order.
    WAITLISTED = "waitlisted", _l("on the waiting list")
    WITHDRAWN = "withdrawn", _l("withdrawn")
    #: Joined a live session without a place; counts as attended, never as registered.
    WALK_IN = "walk_in", _l("walk-in")


REGISTRATION_STATUS_LABELS = RegistrationStatus.labels()
#: How each status reads to people (fairs and sessions share "live" and "cancelled").
STATUS_LABELS = {**FairStatus.labels(), **SessionStatus.labels()}
KIND_LABELS = SessionKind.labels()


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(str(status))
    return str(label) if label is not None else str(status)


def kind_label(kind: str) -> str:
    return str(SessionKind.label_of(kind))


def registration_status_label(status: str) -> str:
    return str(RegistrationStatus.label_of(status))
