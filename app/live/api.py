"""The live room over HTTP: the same services as the Socket.IO handlers, the same broadcasts."""

from __future__ import annotations

from flask import request
from flask_babel import gettext
from flask_login import current_user
from marshmallow import Schema, fields

from ..bounds import MAX_INT, MAX_PER_PAGE, YEARS_PATTERN, Id, Int
from ..leads.enums import InterestLevel
from ..leads.services import CLIENT_ID
from ..schemas import Body, matching, nonblank, one_of
from ..accounts.access import USER
from ..core.api_helpers import ApiBlueprint
from ..errors import ValidationFailed
from ..projects import storage
from . import services
from .events import _moment

api = ApiBlueprint("live_api", __name__, url_prefix="/api/v1", description="Questions and interest (also over Socket.IO)")


class QuestionSchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    client_id = fields.String()
    text = fields.String(allow_none=True)
    status = fields.String()
    pinned = fields.Boolean()
    votes = fields.Integer()
    author = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
    mine = fields.Boolean(metadata={"description": "the reader asked it (in the reader's own list, acks)"})
    voted = fields.Boolean(metadata={"description": "the reader voted for it (in the reader's own list, acks)"})


class QuestionList(Schema):
    items = fields.List(fields.Nested(QuestionSchema))
    total = fields.Integer(metadata={"description": "how many questions in all (not only on this page)"})
    seq = fields.Integer()
    page = fields.Integer(metadata={"description": "present when a page was asked for"})
    per_page = fields.Integer(metadata={"description": "present when a page was asked for"})


class QuestionPageQuery(Schema):
    """Without `per_page` every question comes at once (as before paging existed)."""

    page = Int(1, MAX_INT, load_default=1)
    per_page = Int(1, MAX_PER_PAGE, metadata={"description": "questions per page; leave out for all"})


class AskSchema(Schema):
    text = nonblank(required=True, metadata={
        "description": "plain text that shows something: not only spaces, zero-width or combining characters",
        "maxLength": services.MAX_QUESTION_CHARS})
    client_id = fields.String(required=True, metadata={"description": "made by the client (a UUID); makes the call idempotent"})


class ModerationSchema(Schema):
    action = fields.String(required=True, metadata={"description": "answer, hide, pin or unpin"})


class InterestWriteSchema(Schema):
    project_id = Id(required=True, strict=True)
    level = one_of([level.value for level in InterestLevel], required=True)
    note = fields.String(load_default="")
    client_id = matching(CLIENT_ID.pattern, required=True, metadata={"description": "made by the client (a UUID)"})
    at = fields.String(load_default=None, metadata={"description": "when the person clicked (ISO 8601 with offset)",
                                                    "format": "date-time", "pattern": YEARS_PATTERN})


class CatchUpArgs(Schema):
    since_seq = Int(0, MAX_INT, required=True,
                               metadata={"description": "the last seq the client applied"})


class CatchUpEvent(Schema):
    event = fields.String(metadata={"description": "question, interest_count, interest (staff), site_matches (staff), or skip (a staff-only number)"})
    data = fields.Dict()


class CatchUp(Schema):
    session_id = fields.Integer()
    seq = fields.Integer(metadata={"description": "the session's current seq: every event up to it is in `events`"})
    reset = fields.Boolean(metadata={"description": "too far behind: join again for the full state"})
    events = fields.List(fields.Nested(CatchUpEvent))


class InterestForm(InterestWriteSchema):
    #: A form field cannot be null: leave `at` out for "now".
    at = fields.String(metadata={"description": "when the person clicked (ISO 8601 with offset); leave out for now",
                                 "format": "date-time", "pattern": YEARS_PATTERN})
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": "a brochure"})


class InterestBody(Body):
    interest = fields.Dict(required=True, metadata={"description": "id, client_id, session_id, project_id, level, …"})
    lead = fields.Dict(required=True, metadata={"description": "the lead it made or moved"})


def _status(result) -> int:
    return 200 if result.duplicate else 201


@api.operation("GET /sessions/<int:session_id>/questions", USER, query=QuestionPageQuery, returns=QuestionList)
def list_questions(args, session_id):
    """The session's questions: pinned first, then most votes, then oldest; one page of them with
    `per_page` (the live room fetches the ones past its first page this way)."""
    session = services.get_live_session(current_user, session_id)
    seq = services.current_seq(session.id)
    per_page = args.get("per_page")
    if per_page is None:
        items = services.list_questions(current_user, session, personal=True)
        return {"items": items, "total": len(items), "seq": seq}
    page = args["page"]
    items = services.list_questions(current_user, session, personal=True, limit=per_page, offset=(page - 1) * per_page)
    return {"items": items, "total": services.count_questions(current_user, session), "seq": seq,
            "page": page, "per_page": per_page}


@api.operation("GET /sessions/<int:session_id>/events", USER, query=CatchUpArgs, returns=CatchUp)
def catch_up(args, session_id):
    """Exactly the events after `since_seq` up to the current seq (the twin of `join` with `since_seq`):
    a client fills a gap in the numbers, or checks it missed nothing at the end."""
    return services.events_since(current_user, session_id, args["since_seq"])


@api.operation("POST /sessions/<int:session_id>/questions", USER, body=AskSchema, returns=QuestionSchema, status=201,
               errors=[409])
@api.alt_response(200, schema=QuestionSchema, description="the same client_id again: the stored question")
def ask(body, session_id):
    """Ask a question (201; a replayed `client_id` answers 200 with the stored question)."""
    result = services.ask(current_user, session_id, body["text"], body["client_id"])
    return result.value, _status(result)


@api.operation("POST /questions/<int:question_id>/votes", "attendee", returns=QuestionSchema, status=201, errors=[409])
@api.alt_response(200, schema=QuestionSchema, description="already voted: nothing changes")
def vote(question_id):
    """Vote for a question, once."""
    result = services.vote(current_user, question_id)
    return result.value, _status(result)


@api.operation("POST /questions/<int:question_id>/moderation", "organiser", "presenter", body=ModerationSchema,
               returns=QuestionSchema, errors=[409])
def moderate(body, question_id):
    """Answer, hide, pin or unpin a question (organisers and the session's presenters)."""
    return services.moderate(current_user, question_id, body["action"]).value


@api.operation("POST /sessions/<int:session_id>/interests", "attendee", errors=[409, 415])
@api.doc(requestBody={"required": True, "content": {"application/json": {"schema": InterestWriteSchema},
                                                    "multipart/form-data": {"schema": InterestForm}}})
@api.alt_response(201, schema=InterestBody, success=True, description="the interest and its lead")
@api.alt_response(200, schema=InterestBody, success=True, description="the same client_id again: the same body")
@storage.accepts_upload
def express_interest(session_id):
    """Express interest in a project pitched in the session: JSON, or multipart with a `file` (a brochure)."""
    attachment = received = None
    if request.mimetype == "multipart/form-data":
        from ..projects import services as projects



        form = request.form
        data = {
            "project_id": int(form["project_id"]) if form.get("project_id", "").isdigit() else form.get("project_id"),
            "level": form.get("level"), "note": form.get("note", ""), "client_id": form.get("client_id"),
            "at": form.get("at"),
        }
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            received, sniffed, name = projects.receive_checked(upload.stream, upload.filename)
            attachment = (received.sha256, sniffed.mime, name)
    else:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ValidationFailed({"body": gettext("Send a JSON object.")})
    try:
        result = services.express_interest(current_user, session_id, data, at=_moment(data.get("at")),
                                           attachment=attachment)
    except BaseException:
        if received is not None:
            storage.discard(received)
        raise
    if received is not None:
        if result.duplicate:
            storage.discard(received)
        else:
            storage.keep(received)
    return result.value, _status(result)


class OwnInterestSchema(Schema):
    id = fields.Integer()
    client_id = fields.String()
    project_id = fields.Integer()
    level = fields.String()
    note = fields.String()
    user = fields.String(metadata={"description": "who in the organisation expressed it"})
    created_at = fields.String()


class ProjectInterestSchema(Schema):
    level = fields.String(metadata={"description": "the organisation's highest level so far"})
    items = fields.List(fields.Nested(OwnInterestSchema), metadata={"description": "oldest first"})


class PersonalStateSchema(Schema):
    session_id = fields.Integer()
    mine = fields.List(fields.Integer(), metadata={"description": "ids of the questions the reader asked"})
    voted = fields.List(fields.Integer(), metadata={"description": "ids of the questions the reader voted for"})
    my_interests = fields.Dict(keys=fields.String(), values=fields.Nested(ProjectInterestSchema), metadata={
        "description": "per project id: the reader's organisation's interests in the session's projects "
                       "(from any session); empty for people who are not attendees"})


@api.operation("GET /sessions/<int:session_id>/me", USER, returns=PersonalStateSchema)
def personal_state(session_id):
    """What is the reader's own in the room (the same on every device; the `join` ack carries it too)."""
    session = services.get_live_session(current_user, session_id)
    return services.personal_state(current_user, session)
