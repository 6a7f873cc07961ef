"""The fairs API under /api/v1: fairs, sessions, slot suggestions, registrations."""

from __future__ import annotations

import json

from flask import Response, current_app
from flask_login import current_user

from marshmallow import EXCLUDE, Schema, fields, validate

from .. import bilingual
from ..accounts.access import PUBLIC
from ..caching import PageCache
from ..core.api_helpers import ApiBlueprint, caller, listing, page_from_list
from ..bounds import HHMM_PATTERN, MAX_INT, YEARS_PATTERN, Int
from ..reference.services import SECTOR_CODE, country_codes, timezone_names
from ..schemas import Body, matching, one_of
from ..schemas import PageQuery, i18n_in, lang_in, page_of, read_page
from . import services
from .schemas import (
    FairDetailSchema,
    FairPage,
    FairQuery,
    FairPatchSchema,
    FairWriteSchema,
    RegistrationPage,
    RegistrationSchema,
    SessionPage,
    SessionSchema,
    SessionPatchSchema,
    SessionWriteSchema,
    SlotList,
    SlotQuery,
)

api = ApiBlueprint("fairs_api", __name__, url_prefix="/api/v1", description="Fairs, sessions and registrations")


@api.operation("GET /fairs", PUBLIC, query=FairQuery, returns=FairPage)
def list_fairs(args):
    """Fairs, soonest first; filters `status`, `from`, `to`, words `q` in either language (drafts: organisers only)."""
    return read_page(args, services.list_fairs, caller(), status=args["status"], starts_from=args["from_"],
                     starts_to=args["to"], q=args["q"])


@api.operation("POST /fairs", "organiser", body=FairWriteSchema, returns=FairDetailSchema, status=201)
def create_fair(body):
    """Create a draft fair."""
    fair = services.create_fair(current_user, body)
    return _detail(fair)


def _detail(fair):
    return fair


@api.operation("GET /fairs/<int:fair_id>", PUBLIC, returns=FairDetailSchema)
def get_fair(fair_id):
    """One fair with its agenda."""
    return _cached_detail(caller(), fair_id)


def _fair_answers() -> PageCache:
    return current_app.extensions.setdefault(
        "cloudfair.fair_answers", PageCache(max_entries=512, ttl_seconds=float(current_app.config["FAIR_API_CACHE_SECONDS"])))


def _cached_detail(actor, fair_id: int) -> Response:
    """The fair with its agenda as JSON, built once per revision, session statuses and language in each
    process: the answer is the same for everyone who may see the fair (no personal data in it). The
    revision moves on every change of the fair or its sessions; the statuses on the scheduler's flips;
    `FAIR_API_CACHE_SECONDS` bounds renamed projects, people and organisations. A kept answer costs one
    query (`services.fair_version`), or none when this process read the version less than
    `FAIR_API_VERSION_SECONDS` ago for someone who is not an organiser (organisers change fairs and read
    their change at once); the fair is loaded only to build a new one."""
    kept = 0.0 if services.is_organiser(actor) else float(current_app.config["FAIR_API_VERSION_SECONDS"])
    published_at, revision, status, statuses = services.fair_version(actor, fair_id, kept_seconds=kept)
    key = (fair_id, revision, status, published_at, statuses, bilingual.content_locale())
    cache = _fair_answers()
    body = cache.get(key)
    if body is None:
        fair = services.get_fair(actor, fair_id)
        body = json.dumps(FairDetailSchema().dump(fair), ensure_ascii=False, separators=(",", ":"))
        cache.put(key, body)
    return Response(body, mimetype="application/json")


@api.operation("PATCH /fairs/<int:fair_id>", "organiser", body=FairPatchSchema(partial=True), returns=FairDetailSchema,
               errors=[409])
def update_fair(body, fair_id):
    fair = services.update_fair(current_user, services.get_fair(current_user, fair_id), body)
    return _detail(fair)


def _moved(change, fair_id):
    """The fair moved on by the service `change` (publish, cancel), as its detail."""
    return _detail(change(current_user, services.get_fair(current_user, fair_id)))


@api.operation("POST /fairs/<int:fair_id>/publish", "organiser", returns=FairDetailSchema, errors=[409])
def publish_fair(fair_id):
    return _moved(services.publish_fair, fair_id)


@api.operation("POST /fairs/<int:fair_id>/cancel", "organiser", returns=FairDetailSchema, errors=[409])
def cancel_fair(fair_id):
    return _moved(services.cancel_fair, fair_id)


@api.operation("GET /fairs/<int:fair_id>/sessions", PUBLIC, query=PageQuery, returns=SessionPage)
def list_sessions(args, fair_id):
    return page_from_list(services.agenda(services.get_fair(caller(), fair_id)), args)


@api.operation("POST /fairs/<int:fair_id>/sessions", "organiser", body=SessionWriteSchema, returns=SessionSchema,
               status=201, errors=[409])
def create_session(body, fair_id):
    """Add a session; 409 `schedule_conflict` names the clashing sessions."""
    return services.create_session(current_user, services.get_fair(current_user, fair_id), body)


@api.operation("GET /sessions/<int:session_id>", PUBLIC, returns=SessionSchema)
def get_session(session_id):
    return services.get_session(caller(), session_id)


@api.operation("PATCH /sessions/<int:session_id>", "organiser", body=SessionPatchSchema(partial=True),
               returns=SessionSchema, errors=[409])
def update_session(body, session_id):
    return services.update_session(current_user, services.get_session(current_user, session_id), body)


@api.operation("POST /sessions/<int:session_id>/cancel", "organiser", returns=SessionSchema, errors=[409])
def cancel_session(session_id):
    return services.cancel_session(current_user, services.get_session(current_user, session_id))


@api.operation("GET /fairs/<int:fair_id>/slot-suggestions", "organiser", query=SlotQuery, returns=SlotList)
def slot_suggestions(args, fair_id):
    """Free slots in working hours in both the fair's and the presenter's zone."""
    fair = services.get_fair(current_user, fair_id)
    return listing(services.suggest_slots(current_user, fair, args["presenter_id"], args["minutes"]))


@api.operation("POST /fairs/<int:fair_id>/registrations", "attendee", returns=RegistrationSchema, status=201,
               errors=[409])
@api.alt_response(200, schema=RegistrationSchema, description="Already registered")
def register(fair_id):
    """Ask for a place: 201 `registered`, or 201 `waitlisted` with the `position` when the fair is full
    and keeps a waiting list; 409 `fair_full` when it keeps none; asking again: 200, the same state."""
    registration, created = services.register(current_user, fair_id)
    return registration, (201 if created else 200)


@api.operation("DELETE /fairs/<int:fair_id>/registrations", "attendee", status=204, errors=[409])
def withdraw(fair_id):
    """Give up one's place or leave the waiting list; the first waiting person moves up and is told."""
    services.withdraw(current_user, fair_id)
    return None


@api.operation("GET /fairs/<int:fair_id>/registrations", "organiser", query=PageQuery, returns=RegistrationPage)
def list_registrations(args, fair_id):
    """Everyone's status, number on the waiting list and attendance (organisers)."""
    fair = services.get_fair(current_user, fair_id)
    return read_page(args, services.list_registrations, current_user, fair)




# ---------------------------------------------------------------- series


#: An RRULE as the series takes one: FREQ daily at most, then RFC 5545 parts (the service also checks
#: that the parts make a rule that occurs).
RRULE_PATTERN = r"^(RRULE:)?FREQ=(YEARLY|MONTHLY|WEEKLY|DAILY)(;[A-Z]+=[A-Z0-9,+-]+)*$"


class SeriesTheme(Body):
    theme = fields.String(metadata={"description": "the month's theme in the author's language; or give theme_i18n",
                                    "maxLength": 300})
    theme_i18n = i18n_in("theme")
    focus_countries = fields.List(one_of(country_codes()))
    focus_sectors = fields.List(matching(SECTOR_CODE, metadata={"description": "a known sector's code"}))


class SeriesWrite(Schema):
    """Checked by the series service, which names every bad field (422); it ignores other fields."""

    class Meta:
        unknown = EXCLUDE

    title = fields.String(metadata={"description": "the title in the author's language; or give title_i18n",
                                    "maxLength": 200})
    title_i18n = i18n_in("title")
    lang = lang_in()
    timezone = one_of(timezone_names(), required=True, metadata={"description": "IANA zone"})
    rrule = matching(RRULE_PATTERN, required=True, metadata={"description": "RFC 5545 RRULE, daily at most, e.g. FREQ=MONTHLY;BYDAY=2TH"})
    local_start = matching(HHMM_PATTERN, required=True, metadata={"description": "HH:MM in the series' zone"})
    minutes = Int(30, 720, required=True)
    themes = fields.List(fields.Nested(SeriesTheme), required=True, validate=validate.Length(min=1, max=24))
    starts_on = matching(YEARS_PATTERN, metadata={"format": "date", "description": "YYYY-MM-DD"})
    capacity = Int(1, MAX_INT, allow_none=True)


class SeriesBody(Body):
    id = fields.Integer(required=True)
    title = fields.String()
    timezone = fields.String()
    rrule = fields.String()
    local_start = fields.String()
    minutes = fields.Integer()
    themes = fields.List(fields.Dict())
    starts_on = fields.String()
    capacity = fields.Integer(allow_none=True)
    active = fields.Boolean()
    fairs = fields.List(fields.Dict(), metadata={"description": "id, title, starts_at, status, occurrence"})
    coming = fields.List(fields.Dict(), metadata={"description": "date, local_start, theme (in the reader's language), theme_i18n, focus"})
    dst_warnings = fields.List(fields.Raw())


SeriesPage = page_of(SeriesBody, "SeriesPage", built=True)


def _series_body() -> dict:
    from flask import request
    from flask_babel import gettext

    from ..errors import ValidationFailed

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"body": gettext("Send a JSON object.")})
    return body


@api.operation("POST /series", "organiser", errors=[409])
@api.doc(requestBody={"required": True, "content": {"application/json": {"schema": SeriesWrite}}})
@api.alt_response(201, schema=SeriesBody, success=True, description="the series with its coming dates and DST warnings")
def create_series():
    """A monthly themed series: `{"title", "timezone", "rrule", "local_start", "minutes", "themes"}`
    (`themes`: one `{"theme", "focus_countries", "focus_sectors"}` a month, in rotation)."""
    from . import series

    created = series.create_series(current_user, _series_body())
    return series.series_dict(created), 201


@api.operation("GET /series", "organiser")
@api.alt_response(200, schema=SeriesPage, success=True, description="the series")
def list_series():
    from . import series

    items = [series.series_dict(s) for s in series.list_series(current_user)]
    return {"items": items, "total": len(items), "page": 1, "per_page": len(items) or 1}


@api.operation("GET /series/<int:series_id>", "organiser")
@api.alt_response(200, schema=SeriesBody, success=True, description="the series")
def get_series(series_id):
    """One series: the fairs it made, the coming dates in the host's and the focus countries' zones."""
    from . import series

    return series.series_dict(series.get_series(current_user, series_id))
