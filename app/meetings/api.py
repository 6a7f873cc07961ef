"""The meetings API under /api/v1: slots, booking, answers, settings, meeting hours."""

from __future__ import annotations

from flask import request
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import USER
from ..core.api_helpers import ApiBlueprint, listing
from ..errors import ValidationFailed
from ..fairs import services as fairs
from ..schemas import read_page
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

api = ApiBlueprint("meetings_api", __name__, url_prefix="/api/v1", description="One-to-one meetings and meeting days")


@api.operation("GET /projects/<int:project_id>/meeting-slots", "attendee", query=MeetingSlotQuery,
               returns=MeetingSlotList)
def meeting_slots(args, project_id):
    """Free slots with the project's presenter, in both people's working hours and zones (default: 14 days)."""
    return listing(services.meeting_slots(current_user, project_id, starts_from=args["from_"], to=args["to"],
                                          minutes=args["minutes"]))


@api.operation("POST /meetings", "attendee", body=MeetingWriteSchema, returns=MeetingSchema, status=201,
               errors=[404, 409])
@api.alt_response(200, schema=MeetingSchema, description="the same client_id again: the stored meeting")
def book(body):
    """Book a meeting; 409 `slot_taken` when the time is no longer free."""
    meeting, duplicate = services.book(current_user, body)
    return meeting, 200 if duplicate else 201


@api.operation("GET /meetings", USER, query=MeetingQuery, returns=MeetingPage)
def list_meetings(args):
    """Meetings I may see (organisers all, presenters their own, attendees their organisation's), soonest first."""
    return read_page(args, queries.list_meetings, current_user, status=args["status"], upcoming=args["upcoming"])


@api.operation("GET /meetings/<int:meeting_id>", USER, returns=MeetingSchema)
def get_meeting(meeting_id):
    return services.get_meeting(current_user, meeting_id)


@api.operation("POST /meetings/<int:meeting_id>/accept", "presenter", "organiser", returns=MeetingSchema, errors=[409])
def accept(meeting_id):
    return services.accept(current_user, meeting_id)


@api.operation("POST /meetings/<int:meeting_id>/decline", "presenter", "organiser", returns=MeetingSchema, errors=[409])
@api.arguments(DeclineSchema, required=False)
def decline(body, meeting_id):
    return services.decline(current_user, meeting_id, (body or {}).get("note", ""))


@api.operation("POST /meetings/<int:meeting_id>/cancel", USER, returns=MeetingSchema, errors=[409])
def cancel(meeting_id):
    return services.cancel(current_user, meeting_id)


@api.operation("POST /meetings/<int:meeting_id>/reschedule", USER, body=RescheduleSchema, returns=MeetingSchema,
               errors=[404, 409])
def reschedule(body, meeting_id):
    """Move a planned meeting (either side or an organiser): same UID, higher SEQUENCE, both told;
    409 `slot_taken` when the new time is not free."""
    return services.reschedule(current_user, meeting_id, body["starts_at"], body["minutes"])


@api.operation("GET /me/meeting-settings", "presenter", "attendee", returns=ProfileSchema)
def get_settings():
    return services.profile_of(current_user)


@api.operation("PUT /me/meeting-settings", "presenter", "attendee", body=ProfileWriteSchema, returns=ProfileSchema)
def put_settings(body):
    """Working hours in your zone (meeting slots respect them); presenters also auto-accept and their
    own meeting address (else each meeting gets a room). The body is required: every field left out
    takes its default, so an empty request would reset them all."""
    if not request.get_data():
        raise ValidationFailed({"body": gettext("Give the settings as JSON.")})
    return services.save_profile(current_user, body)


@api.operation("GET /fairs/<int:fair_id>/meeting-hours", USER, returns=HoursList)
def list_hours(fair_id):
    return listing(services.fair_hours(fairs.get_fair(current_user, fair_id).id))


@api.operation("POST /fairs/<int:fair_id>/meeting-hours", "organiser", body=SpanSchema, returns=HoursSchema, status=201)
def open_hours(body, fair_id):
    """Open meeting hours for a fair (e.g. the day after it); presenters then publish availability inside."""
    fair = fairs.get_fair(current_user, fair_id)
    return services.open_hours(current_user, fair, body["starts_at"], body["ends_at"])


@api.operation("POST /meeting-hours/<int:hours_id>/availability", "presenter", body=SpanSchema,
               returns=AvailabilitySchema, status=201, errors=[409])
def publish_availability(body, hours_id):
    hours = services.get_hours(current_user, hours_id)
    return services.publish_availability(current_user, hours, body["starts_at"], body["ends_at"])


@api.operation("DELETE /availability/<int:availability_id>", "presenter", status=204, errors=[404])
def withdraw_availability(availability_id):
    """Withdraw availability you published; 404 when it is not yours."""
    services.withdraw_availability(current_user, availability_id)
    return None


@api.operation("GET /meeting-hours/<int:hours_id>/matrix", "organiser", returns=MatrixBody)
def matrix(hours_id):
    """Booked, free and away half hours per presenter."""
    found = services.matrix(current_user, services.get_hours(current_user, hours_id))
    return {"times": found["times"], "rows": [
        {"presenter_id": row["presenter"].id, "presenter": row["presenter"].name,
         "cells": [{**c, "starts_at": c["starts_at"].isoformat()} for c in row["cells"]]} for row in found["rows"]]}
