"""A session's fields as the services load them: `SessionValuesSchema`, the one set of checks for the
API and the session pages (whose forms only render and report its errors), with the helpers the
fair services share."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError, fields
from sqlalchemy import select

from .. import bilingual
from ..accounts.enums import Role
from ..accounts.models import User
from ..bilingual import text
from ..core.api_helpers import EnumCode
from ..errors import ValidationFailed
from ..extensions import db
from ..i18n import ui_locale
from ..projects.models import Project
from ..validation import CheckedField, CrossFieldSchema
from .enums import SessionKind
from .queries import find_track


# ---------------------------------------------------------------- helpers the session checks and services share

#: A join link: http(s) and no spaces.
URL = re.compile(r"^https?://[^\s]+$")


def local_moment(moment: datetime, fair) -> str:
    """A moment as the fair's host reads it: "2027-03-11 09:00 Asia/Shanghai"."""
    return f"{moment.astimezone(fair.zone):%Y-%m-%d %H:%M} {fair.timezone}"


def list_names(items) -> str:
    """Names run together the way the current language lists them (“A, B” / “A、B”)."""
    return ("、" if ui_locale() == "zh" else ", ").join(items)


# ---------------------------------------------------------------- a session's fields, as the services load them


class _Aware(CheckedField, fields.Raw):
    """A moment with a UTC offset (the API and pages parse it), stored in UTC; none is "required"."""

    def check(self, value):
        if value is None:
            raise ValidationError(gettext("This field is required."))
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationError(gettext("Give a date and time with a UTC offset (ISO 8601)."))
        return value.astimezone(timezone.utc)


class _JoinUrl(CheckedField, fields.String):
    def check(self, value):
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not URL.match(value) or len(value) > 500:
            raise ValidationError(gettext("Give an http:// or https:// address."))
        return value


class _Rows(CheckedField, fields.List):
    """Ids of existing rows of `model`, once each, loaded (those `fits` accepts); `message` when one is not."""

    def __init__(self, model, message, fits=lambda row: True, **kwargs):
        super().__init__(fields.Integer(), **kwargs)
        self.model, self.message, self.fits = model, message, fits

    def check(self, value):
        ids = value or []
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ValidationError(str(self.message))
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        found = list(db.session.scalars(select(self.model).where(self.model.id.in_(ids))).unique())
        if len(found) != len(ids) or not all(self.fits(row) for row in found):
            raise ValidationError(str(self.message))
        return found


class SessionValuesSchema(CrossFieldSchema):
    """A session's fields in, for `create_session` (`current` None) and `update_session`: the one set of
    checks for the API and the session pages. Loaded: `lang`, `title` and `description` (both languages,
    app/bilingual.py), `kind`, `starts_at`/`ends_at` (UTC, inside the fair), `track`, `presenters`,
    `projects` and `join_url` when given. A field left out of a change keeps the session's value."""

    kind = EnumCode(SessionKind, load_default=SessionKind.PITCH.value)
    starts_at = _Aware(required=True)
    ends_at = _Aware(required=True)
    presenter_ids = _Rows(User, lazy_gettext("Every presenter_id must be an existing presenter."),
                          fits=lambda user: user.role == Role.PRESENTER, attribute="presenters")
    project_ids = _Rows(Project, lazy_gettext("Every project_id must be an existing project."),
                        attribute="projects")
    join_url = _JoinUrl(allow_none=True)

    def __init__(self, *, fair, current=None, actor=None, **kwargs):
        super().__init__(**kwargs)
        self.fair, self.current, self.actor = fair, current, actor

    def prepare(self, data: dict) -> tuple[dict, dict]:
        """The checks read the whole input; the fields load theirs, a change's left-out times and kind
        being the session's."""
        loaded = {k: v for k, v in data.items()
                  if k in ("kind", "starts_at", "ends_at", "join_url", "presenter_ids", "project_ids")}
        if self.current is not None:
            for field in ("kind", "starts_at", "ends_at"):
                loaded.setdefault(field, getattr(self.current, field))
        else:
            loaded.setdefault("presenter_ids", [])
            loaded.setdefault("project_ids", [])
        return data, loaded

    def check_together(self, data, values, derived, errors):
        """The bilingual texts, the times against each other and the fair, the track by name."""
        fair, current = self.fair, self.current
        lang = bilingual.author_lang(data, self.actor)
        derived["lang"] = lang
        if current is None or bilingual.mentions(data, "title"):
            try:
                derived["title"] = bilingual.resolve(data, "title", current=current, lang=lang, required=True,
                                                     max_length=200, label=gettext("the title"))
            except ValidationFailed as exc:
                errors.update(exc.fields)
        if bilingual.mentions(data, "description"):
            try:
                derived["description"] = bilingual.resolve(data, "description", current=current, lang=lang,
                                                           max_length=5000)
            except ValidationFailed as exc:
                errors.update(exc.fields)
        if "starts_at" in values and "ends_at" in values:
            starts_at, ends_at = values["starts_at"], values["ends_at"]
            if ends_at <= starts_at:
                errors["ends_at"] = [gettext("The session must end after it starts.")]
            elif starts_at < fair.starts_at:
                errors["starts_at"] = [gettext("The session starts before its fair (%(start)s).",
                                               start=local_moment(fair.starts_at, fair))]
            elif ends_at > fair.ends_at:
                errors["ends_at"] = [gettext("The session ends after its fair (%(end)s).",
                                             end=local_moment(fair.ends_at, fair))]
        track_name = data.get("track")
        if track_name is None:
            derived["track"] = current.track if current is not None else fair.tracks[0]
        else:
            track = find_track(fair, track_name) if isinstance(track_name, str) else None
            if track is None:
                errors["track"] = [gettext("The fair has no track “%(track)s”; it has: %(tracks)s.", track=track_name,
                                           tracks=list_names(text(t, "name") for t in fair.tracks))]
            else:
                derived["track"] = track
        if current is not None and "presenter_ids" not in data:
            derived["presenters"] = list(current.presenters)
