from flask_babel import lazy_gettext
from marshmallow import Schema, fields, validate

from ..bounds import HHMM_PATTERN, MAX_INT, AwareDateTime, Bool, Id, Int
from ..core.api_helpers import bilingual_read, bilingual_write, list_of
from ..schemas import PageQuery, matching, one_of, i18n_in, i18n_out, organisation_i18n_out, page_of, text_out
from ..bilingual import pair, text
from .enums import FairStatus, SessionKind


class TrackIn(fields.Raw):
    """A track on write: its name in the author's language, or an object with `name_i18n` and/or `name`."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"oneOf": [
            {"type": "string"},
            {"type": "object", "properties": {"name": {"type": "string"}, "name_i18n": {
                "type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}}},
        ]}, **kwargs)


class TrackSchema(bilingual_read("name")):
    position = fields.Integer()


class FairWriteSchema(bilingual_write("title", "theme")):
    focus_countries = fields.List(fields.String())
    focus_sectors = fields.List(fields.String())
    starts_at = AwareDateTime(required=True)
    ends_at = AwareDateTime(required=True)
    timezone = fields.String(load_default="Asia/Shanghai")
    capacity = Int(1, MAX_INT, allow_none=True, strict=True)
    waitlist = Bool(metadata={"description": "a full fair keeps a waiting list; default true"})
    stream_url = fields.String(allow_none=True)
    tracks = fields.List(TrackIn(), metadata={
        "description": "the tracks in order: a name in the author's language, or {\"name_i18n\": {\"zh\", \"en\"}}; "
                       "a track keeps its sessions when one of its names stays (or it keeps its place)"})
    tracks_i18n = fields.List(TrackIn(), metadata={"description": "the same as `tracks`, in the shape it is read in"})
    fair_day_start = matching(HHMM_PATTERN, metadata={"description": "HH:MM, fair's zone; default 08:00"})
    fair_day_end = matching(HHMM_PATTERN, metadata={"description": "HH:MM, fair's zone; default 20:00"})
    presenter_day_start = matching(HHMM_PATTERN, metadata={"description": "HH:MM, presenter's zone; default 08:00"})
    presenter_day_end = matching(HHMM_PATTERN, metadata={"description": "HH:MM, presenter's zone; default 20:00"})




class SessionWriteSchema(bilingual_write("title")):
    kind = fields.String(load_default=SessionKind.PITCH.value)
    description = fields.String(allow_none=True)
    description_i18n = i18n_in("description")
    starts_at = AwareDateTime(required=True)
    ends_at = AwareDateTime(required=True)
    track = fields.String(metadata={"description": "a track's name, in either language"})
    presenter_ids = fields.List(Id(strict=True))
    project_ids = fields.List(Id(strict=True))
    join_url = fields.String(allow_none=True)


class FairPatchSchema(FairWriteSchema):
    pass


class SessionPatchSchema(SessionWriteSchema):
    pass


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    timezone = fields.String()
    organisation = fields.Function(lambda u: u.organisation.name)
    organisation_i18n = organisation_i18n_out()


class PlainProjectBrief(Schema):
    """A project in one line, its title in the reader's language (a park's reverse match shows these)."""
    id = fields.Integer()
    title = text_out("title")
    sector = fields.String()
    country = fields.String()


class ProjectBriefSchema(PlainProjectBrief):
    """A project in one line on a fair's agenda, with its title in each language."""
    title_i18n = i18n_out("title")


class SessionSchema(Schema):
    id = fields.Integer()
    fair_id = fields.Integer()
    title = text_out("title")
    title_i18n = i18n_out("title")
    kind = fields.String()
    description = text_out("description")
    description_i18n = i18n_out("description")
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    track = fields.Function(lambda s: text(s.track, "name"), metadata={
        "type": "string", "description": "the track's name in the request's language"})
    track_i18n = fields.Function(lambda s: pair(s.track, "name"), metadata={
        "type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}})
    presenter_ids = fields.Function(lambda s: [p.id for p in s.presenters])
    presenters = fields.List(fields.Nested(PersonSchema))
    project_ids = fields.Function(lambda s: [p.id for p in s.projects])
    projects = fields.List(fields.Nested(ProjectBriefSchema))
    join_url = fields.String(allow_none=True)
    status = fields.String()
    sequence = fields.Integer()


class FairSchema(bilingual_read("title", "theme")):
    focus_countries = fields.List(fields.String())
    focus_sectors = fields.List(fields.String())
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    timezone = fields.String()
    status = fields.String()
    capacity = fields.Integer(allow_none=True)
    waitlist = fields.Boolean()
    stream_url = fields.String(allow_none=True)
    tracks = fields.Function(lambda f: [text(t, "name") for t in f.tracks], metadata={
        "type": "array", "items": {"type": "string"}, "description": "track names in the request's language"})
    tracks_i18n = fields.List(fields.Nested(TrackSchema), attribute="tracks",
                              metadata={"description": "each track with `name_i18n`"})
    fair_day_start = fields.Function(lambda f: f.fair_day_start.strftime("%H:%M"))
    fair_day_end = fields.Function(lambda f: f.fair_day_end.strftime("%H:%M"))
    presenter_day_start = fields.Function(lambda f: f.presenter_day_start.strftime("%H:%M"))
    presenter_day_end = fields.Function(lambda f: f.presenter_day_end.strftime("%H:%M"))
    published_at = fields.DateTime(allow_none=True)


class FairDetailSchema(FairSchema):
    sessions = fields.Method("dump_sessions")

    def dump_sessions(self, fair):
        from .services import agenda

        return SessionSchema(many=True).dump(agenda(fair))


class FairQuery(PageQuery):
    q = fields.String(load_default=None, validate=validate.Length(max=200),
                      metadata={"description": "words in the title or theme, in either language"})
    lang = fields.String(load_default=None, validate=validate.OneOf(("zh", "en")),
                         metadata={"description": "the language of `title`/`theme` in the answer"})
    status = one_of([s.value for s in FairStatus], load_default=None)
    from_ = AwareDateTime(data_key="from", load_default=None)
    to = AwareDateTime(load_default=None)


class SlotQuery(Schema):
    presenter_id = Id(required=True)
    minutes = Int(5, 12 * 60, required=True, error=lazy_gettext("Give a length between 5 and 720 minutes."))


class SlotSchema(Schema):
    starts_at = fields.String()
    ends_at = fields.String()
    tracks = fields.List(fields.String())
    fair_local = fields.String()
    presenter_local = fields.String()


SlotList = list_of(SlotSchema, "SlotList")


class RegistrationSchema(Schema):
    id = fields.Integer()
    fair_id = fields.Integer()
    user_id = fields.Integer()
    user_name = fields.Function(lambda r: r.user.name)
    organisation = fields.Function(lambda r: r.user.organisation.name)
    organisation_i18n = organisation_i18n_out(lambda r: r.user)
    status = fields.String(metadata={"description": "registered, waitlisted, withdrawn or walk_in"})
    position = fields.Function(
        lambda r: r.position if r.status == "waitlisted" else None,
        metadata={"description": "place on the waiting list (1 = next); null unless waitlisted"},
    )
    attended = fields.Function(lambda r: r.attended_at is not None)
    registered_at = fields.DateTime()
    waitlisted_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    attended_at = fields.DateTime(allow_none=True)


FairPage = page_of(FairSchema, "FairPage")
SessionPage = page_of(SessionSchema, "SessionPage")
RegistrationPage = page_of(RegistrationSchema, "RegistrationPage")
