"""Meeting pages: book a slot, my meetings (answer, cancel, settings), one meeting, meeting days."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import USER, allow
from ..errors import ServiceError, ValidationFailed
from ..fairs import services as fairs
from ..projects import services as projects
from ..types import utcnow
from . import invitations, queries, services
from .enums import HOLDING, status_label

bp = Blueprint("meetings", __name__)


def _day_groups(slots: list[dict], zone: str) -> OrderedDict:
    days: OrderedDict = OrderedDict()
    for slot in slots:
        days.setdefault(slot["starts_at"].astimezone(ZoneInfo(zone)).date(), []).append(slot)
    return days


def _other(meeting):
    return meeting.attendee if current_user.id == meeting.presenter_id else meeting.presenter


@bp.app_context_processor
def _labels():
    return {"meeting_status_label": status_label}


# ---------------------------------------------------------------- booking


@bp.route("/projects/<int:project_id>/meetings/new", methods=["GET", "POST"])
@allow("attendee")
def book_page(project_id: int):
    project = projects.get_project(current_user, project_id)
    error = None
    note = ""
    if request.method == "POST":
        note = request.form.get("note", "")
        try:
            starts_at = datetime.fromisoformat(request.form.get("slot", ""))
        except ValueError:
            starts_at = None
        try:
            if starts_at is None:
                raise ValidationFailed({"starts_at": gettext("Choose a time.")})
            meeting, _ = services.book(current_user, {
                "project_id": project.id, "starts_at": starts_at, "minutes": services.DEFAULT_MINUTES,
                "note": note, "client_id": request.form.get("client_id", "")})
            flash(gettext("Meeting booked. The presenter has been asked.") if meeting.status == "requested"
                  else gettext("Meeting booked and confirmed."), "success")
            return redirect(url_for("meetings.meeting_page", meeting_id=meeting.id))
        except ServiceError as exc:
            error = exc.message
    try:
        week = max(0, min(int(request.args.get("week", 0)), 12))
    except ValueError:
        week = 0
    start = utcnow() + timedelta(days=7 * week)
    slots = services.meeting_slots(current_user, project.id, starts_from=start, to=start + timedelta(days=7))
    return render_template(
        "meetings/book.html", project=project, presenter=project.owner, days=_day_groups(slots, current_user.timezone),
        week=week, note=note, error=error, client_id=str(uuid.uuid4()), minutes=services.DEFAULT_MINUTES,
    ), (409 if error else 200)


# ---------------------------------------------------------------- my meetings


@bp.route("/meetings")
@allow(USER)
def my_meetings():
    items, _ = queries.list_meetings(current_user, per_page=100, upcoming=True)
    past = queries.past_meetings(current_user)
    profile = services.profile_of(current_user) if current_user.role == "presenter" else None
    return render_template("meetings/list.html", meetings=items, past=past, profile=profile, holding=HOLDING)


@bp.route("/meetings/<int:meeting_id>")
@allow(USER)
def meeting_page(meeting_id: int):
    meeting = services.get_meeting(current_user, meeting_id)
    return render_template("meetings/meeting.html", meeting=meeting, other=_other(meeting), holding=HOLDING,
                           now=utcnow())


@bp.route("/meetings/<int:meeting_id>.ics")
@allow(USER)
def meeting_ics(meeting_id: int):
    meeting = services.get_meeting(current_user, meeting_id)
    body = invitations.invitation(meeting, current_user, "publish") or ""
    body = body.replace("METHOD:REQUEST", "METHOD:PUBLISH").replace("METHOD:CANCEL", "METHOD:PUBLISH")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="meeting-{meeting.id}.ics"'
    return response


def _act(meeting_id: int, action, success: str):
    try:
        action()
        flash(success, "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("meetings.meeting_page", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/accept", methods=["POST"])
@allow("presenter", "organiser")
def accept(meeting_id: int):
    return _act(meeting_id, lambda: services.accept(current_user, meeting_id),
                gettext("Meeting accepted; both of you have the invitation."))


@bp.route("/meetings/<int:meeting_id>/decline", methods=["POST"])
@allow("presenter", "organiser")
def decline(meeting_id: int):
    return _act(meeting_id, lambda: services.decline(current_user, meeting_id, request.form.get("note", "")),
                gettext("Meeting declined."))


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["POST"])
@allow(USER)
def cancel(meeting_id: int):
    return _act(meeting_id, lambda: services.cancel(current_user, meeting_id), gettext("Meeting cancelled."))


@bp.route("/meetings/settings", methods=["POST"])
@allow("presenter")
def save_settings():
    try:
        services.save_profile(current_user, {
            "auto_accept": request.form.get("auto_accept") == "on", "meeting_url": request.form.get("meeting_url", ""),
            "day_start": request.form.get("day_start", "08:00"), "day_end": request.form.get("day_end", "20:00")})
        flash(gettext("Meeting settings saved."), "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("meetings.my_meetings"))


# ---------------------------------------------------------------- meeting days


def _local_moment(day: str, clock: str, zone: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        raise ValidationFailed({field: gettext("Give a date and a time.")}) from None
    from ..fairs.timezones import resolve_local

    return resolve_local(value, zone, field, fold=0)


@bp.route("/fairs/<int:fair_id>/meeting-hours", methods=["GET", "POST"])
@allow("organiser", "presenter")
def meeting_days(fair_id: int):
    fair = fairs.get_fair(current_user, fair_id)
    if request.method == "POST":
        if current_user.role != "organiser":
            abort(403)
        try:
            day = request.form.get("day", "")
            services.open_hours(current_user, fair, _local_moment(day, request.form.get("start", ""), fair.timezone, "starts_at"),
                                _local_moment(day, request.form.get("end", ""), fair.timezone, "ends_at"))
            flash(gettext("Meeting hours opened."), "success")
        except ServiceError as exc:
            flash(exc.message, "error")
        return redirect(url_for("meetings.meeting_days", fair_id=fair.id))
    hours = services.fair_hours(fair.id)
    matrices = {h.id: services.matrix(current_user, h) for h in hours} if current_user.role == "organiser" else {}
    mine = {}
    if current_user.role == "presenter":
        mine = {h.id: services.availability_of(current_user.id, h.starts_at, h.ends_at) for h in hours}
    return render_template("meetings/days.html", fair=fair, hours=hours, matrices=matrices, mine=mine)


@bp.route("/meeting-hours/<int:hours_id>/availability", methods=["POST"])
@allow("presenter")
def add_availability(hours_id: int):
    hours = services.get_hours(current_user, hours_id)
    zone = current_user.timezone
    try:
        day = request.form.get("day", "")
        services.publish_availability(
            current_user, hours, _local_moment(day, request.form.get("start", ""), zone, "starts_at"),
            _local_moment(day, request.form.get("end", ""), zone, "ends_at"))
        flash(gettext("Availability published."), "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("meetings.meeting_days", fair_id=hours.fair_id))

