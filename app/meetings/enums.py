"""Meeting statuses and how they read."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext

from ..i18n import enum_label


class MeetingStatus(StrEnum):
    REQUESTED = "requested"  # booked, waiting for the presenter
    ACCEPTED = "accepted"  # confirmed by the presenter (or automatically)
    DECLINED = "declined"  # the presenter said no
    CANCELLED = "cancelled"  # called off by either side or an organiser
    HELD = "held"  # an accepted meeting whose end has passed


#: Statuses that hold the time (nobody else may book it).
HOLDING = (MeetingStatus.REQUESTED.value, MeetingStatus.ACCEPTED.value)

STATUS_LABELS = {
    MeetingStatus.REQUESTED: lazy_gettext("Requested"),
    MeetingStatus.ACCEPTED: lazy_gettext("Accepted"),
    MeetingStatus.DECLINED: lazy_gettext("Declined"),
    MeetingStatus.CANCELLED: lazy_gettext("Cancelled"),
    MeetingStatus.HELD: lazy_gettext("Held"),
}


def status_label(status: str) -> str:
    return enum_label(STATUS_LABELS, status)
