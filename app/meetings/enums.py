"""Meeting statuses and how they read."""

from __future__ import annotations

from flask_babel import lazy_gettext

from ..i18n import LabelledEnum


class MeetingStatus(LabelledEnum):
    REQUESTED = "requested", lazy_gettext("Requested")  # booked, waiting for the presenter
    ACCEPTED = "accepted", lazy_gettext("Accepted")  # confirmed by the presenter (or automatically)
    DECLINED = "declined", lazy_gettext("Declined")  # the presenter said no
    CANCELLED = "cancelled", lazy_gettext("Cancelled")  # called off by either side or an organiser
    HELD = "held", lazy_gettext("Held")  # an accepted meeting whose end has passed


#: Statuses that hold the time (nobody else may book it).
HOLDING = (MeetingStatus.REQUESTED.value, MeetingStatus.ACCEPTED.value)

STATUS_LABELS = MeetingStatus.labels()
status_label = MeetingStatus.label_of
