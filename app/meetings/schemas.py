from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..bounds import HHMM_PATTERN, AwareDateTime, Bool, Id, Int
from ..core.api_helpers import list_of
from ..schemas import Body, PageQuery, matching, one_of, page_of
from ..leads.services import CLIENT_ID
from .enums import MeetingStatus


def _text(obj, field: str) -> str:
    from ..bilingual import text

    return text(obj, field)


class MeetingSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    project = fields.Function(lambda m: _text(m.project, "title"), metadata={"type": "string"})
    presenter_id = fields.Integer()
    presenter = fields.Function(lambda m: m.presenter.name)
    attendee_id = fields.Integer()
    attendee = fields.Function(lambda m: m.attendee.name)
    organisation_id = fields.Integer()
    organisation = fields.Function(lambda m: _text(m.organisation, "name"), metadata={"type": "string"})
    lead_id = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    minutes = fields.Integer()
    note = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in MeetingStatus]})
    decline_note = fields.String()
    meeting_url = fields.String()
    sequence = fields.Integer()
    presenter_local = fields.Function(lambda m: _local(m, m.presenter))
    attendee_local = fields.Function(lambda m: _local(m, m.attendee))
    created_at = fields.DateTime()


def _local(meeting, person) -> str:
    from .services import local_text

    return local_text(meeting.starts_at, meeting.ends_at, person.timezone)


MeetingPage = page_of(MeetingSchema, "MeetingPage")


class MeetingWriteSchema(Schema):
    project_id = Id(required=True, strict=True)
    starts_at = AwareDateTime(required=True)
    minutes = Int(15, 120, strict=True, load_default=None, metadata={"description": "15 to 120 in quarters; default 30"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    client_id = matching(CLIENT_ID.pattern, required=True, metadata={
        "description": "made by the client (a UUID); the same again returns the stored meeting"})


class RescheduleSchema(Schema):
    starts_at = AwareDateTime(required=True)
    minutes = Int(15, 120, strict=True, load_default=None, metadata={"description": "15 to 120 in quarters; default: as before"})


class DeclineSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class MeetingQuery(PageQuery):
    status = one_of([s.value for s in MeetingStatus], load_default=None,
                    validate=validate.OneOf([s.value for s in MeetingStatus]))
    upcoming = fields.Boolean(load_default=False)


class MeetingSlotQuery(Schema):
    from_ = AwareDateTime(data_key="from", load_default=None)
    to = AwareDateTime(load_default=None)
    minutes = Int(15, 120, load_default=None)


class MeetingSlotSchema(Schema):
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    minutes = fields.Integer()
    attendee_local = fields.String()
    presenter_local = fields.String()


MeetingSlotList = list_of(MeetingSlotSchema, "MeetingSlotList")


class ProfileSchema(Schema):
    auto_accept = fields.Boolean()
    meeting_url = fields.String(allow_none=True)
    day_start = fields.Function(lambda p: p.day_start.strftime("%H:%M"))
    day_end = fields.Function(lambda p: p.day_end.strftime("%H:%M"))


class ProfileWriteSchema(Schema):
    auto_accept = Bool(load_default=False)
    meeting_url = fields.String(allow_none=True, load_default=None)
    day_start = matching(HHMM_PATTERN, load_default="08:00", metadata={"description": "HH:MM, your zone"})
    day_end = matching(HHMM_PATTERN, load_default="20:00", metadata={"description": "HH:MM, your zone"})


class SpanSchema(Schema):
    starts_at = AwareDateTime(required=True)
    ends_at = AwareDateTime(required=True)


class HoursSchema(Schema):
    id = fields.Integer()
    fair_id = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()


HoursList = list_of(HoursSchema, "HoursList")


class AvailabilitySchema(Schema):
    id = fields.Integer()
    hours_id = fields.Integer()
    presenter_id = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()


class MatrixBody(Body):
    times = fields.List(fields.DateTime())
    rows = fields.List(fields.Dict(), metadata={"description": "{presenter_id, presenter, cells: [{starts_at, state, meeting_id}]}"})
