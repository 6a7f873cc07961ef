"""The meetings API under /api/v1: slots, booking, answers, settings, meeting hours."""

from __future__ import annotations

from flask import request
from flask_babel import gettext
from flask_login import current_user
from flask_smorest import Blueprint

from ..accounts.access import USER, allow
from ..errors import ValidationFailed
from ..fairs import services as fairs
from ..openapi import answers
from ..schemas import page_body
from . import queries, services
from .schemas import (
    AvailabilitySchema,
    DeclineSchema,
    HoursList,
    HoursSchema,
    MatrixBody,
    MeetingPage,
    MeetingQuery,
    MeetingSchema,
    MeetingWriteSchema,
    ProfileSchema,
    ProfileWriteSchema,
    RescheduleSchema,
    MeetingSlotList,
    MeetingSlotQuery,
    SpanSchema,
)

api = Blueprint("meetings_api", __name__, url_prefix="/api/v1", description="One-to-one meetings and meeting days")


@api.route("/projects/<int:project_id>/meeting-slots", methods=["GET"])
@allow("attendee")
@api.arguments(MeetingSlotQuery, location="query")
@api.response(200, MeetingSlotList)
def meeting_slots(args, project_id):
    """Free slots with the project's presenter, in both people's working hours and zones (default: 14 days)."""
    slots = services.meeting_slots(current_user, project_id, starts_from=args["from_"], to=args["to"],
                                   minutes=args["minutes"])
    return {"items": slots, "total": len(slots)}


@api.route("/meetings", methods=["POST"])
@allow("attendee")
@api.arguments(MeetingWriteSchema)
@api.response(201, MeetingSchema)
@api.alt_response(200, schema=MeetingSchema, description="the same client_id again: the stored meeting")
@answers(404, 409)
def book(body):
    """Book a meeting; 409 `slot_taken` when the time is no longer free."""
    meeting, duplicate = services.book(current_user, body)
    return meeting, 200 if duplicate else 201


@api.route("/meetings", methods=["GET"])
@allow(USER)
@api.arguments(MeetingQuery, location="query")
@api.response(200, MeetingPage)
def list_meetings(args):
    """Meetings I may see (organisers all, presenters their own, attendees their organisation's), soonest first."""
    items, total = queries.list_meetings(current_user, status=args["status"], upcoming=args["upcoming"],
                                         page=args["page"], per_page=args["per_page"])
    return page_body(items, total, args)


@api.route("/meetings/<int:meeting_id>", methods=["GET"])
@allow(USER)
@api.response(200, MeetingSchema)
def get_meeting(meeting_id):
    return services.get_meeting(current_user, meeting_id)


@api.route("/meetings/<int:meeting_id>/accept", methods=["POST"])
@allow("presenter", "organiser")
@api.response(200, MeetingSchema)
@answers(409)
def accept(meeting_id):
    return services.accept(current_user, meeting_id)


@api.route("/meetings/<int:meeting_id>/decline", methods=["POST"])
@allow("presenter", "organiser")
@api.arguments(DeclineSchema, required=False)
@api.response(200, MeetingSchema)
@answers(409)
def decline(body, meeting_id):
    return services.decline(current_user, meeting_id, (body or {}).get("note", ""))


@api.route("/meetings/<int:meeting_id>/cancel", methods=["POST"])
@allow(USER)
@api.response(200, MeetingSchema)
@answers(409)
def cancel(meeting_id):
    return services.cancel(current_user, meeting_id)


@api.route("/meetings/<int:meeting_id>/reschedule", methods=["POST"])
@allow(USER)
@api.arguments(RescheduleSchema)
@api.response(200, MeetingSchema)
@answers(404, 409)
def reschedule(body, meeting_id):
    """Move a planned meeting (either side or an organiser): same UID, higher SEQUENCE, both told;
    409 `slot_taken` when the new time is not free."""
    return services.reschedule(current_user, meeting_id, body["starts_at"], body["minutes"])


@api.route("/me/meeting-settings", methods=["GET"])
@allow("presenter", "attendee")
@api.response(200, ProfileSchema)
def get_settings():
    return services.profile_of(current_user)


@api.route("/me/meeting-settings", methods=["PUT"])
@allow("presenter", "attendee")
@api.arguments(ProfileWriteSchema)
@api.response(200, ProfileSchema)
def put_settings(body):
    """Working hours in your zone (meeting slots respect them); presenters also auto-accept and their
    own meeting address (else each meeting gets a room). The body is required: every field left out
    takes its default, so an empty request would reset them all."""
    if not request.get_data():
        raise ValidationFailed({"body": gettext("Give the settings as JSON.")})
    return services.save_profile(current_user, body)


@api.route("/fairs/<int:fair_id>/meeting-hours", methods=["GET"])
@allow(USER)
@api.response(200, HoursList)
def list_hours(fair_id):
    fair = fairs.get_fair(current_user, fair_id)
    items = services.fair_hours(fair.id)
    return {"items": items, "total": len(items)}


@api.route("/fairs/<int:fair_id>/meeting-hours", methods=["POST"])
@allow("organiser")
@api.arguments(SpanSchema)
@api.response(201, HoursSchema)
def open_hours(body, fair_id):
    """Open meeting hours for a fair (e.g. the day after it); presenters then publish availability inside."""
    fair = fairs.get_fair(current_user, fair_id)
    return services.open_hours(current_user, fair, body["starts_at"], body["ends_at"])


@api.route("/meeting-hours/<int:hours_id>/availability", methods=["POST"])
@allow("presenter")
@api.arguments(SpanSchema)
@api.response(201, AvailabilitySchema)
@answers(409)
def publish_availability(body, hours_id):
    hours = services.get_hours(current_user, hours_id)
    return services.publish_availability(current_user, hours, body["starts_at"], body["ends_at"])


@api.route("/availability/<int:availability_id>", methods=["DELETE"])
@allow("presenter")
@api.response(204)
@answers(404)
def withdraw_availability(availability_id):
    """Withdraw availability you published; 404 when it is not yours."""
    services.withdraw_availability(current_user, availability_id)
    return None


@api.route("/meeting-hours/<int:hours_id>/matrix", methods=["GET"])
@allow("organiser")
@api.response(200, MatrixBody)
def matrix(hours_id):
    """Booked, free and away half hours per presenter."""
    found = services.matrix(current_user, services.get_hours(current_user, hours_id))
    return {"times": found["times"], "rows": [
        {"presenter_id": row["presenter"].id, "presenter": row["presenter"].name,
         "cells": [{**c, "starts_at": c["starts_at"].isoformat()} for c in row["cells"]]} for row in found["rows"]]}
