"""Sites during a live pitch: the top three parks for a pitched project (for its presenters and the
organisers) and a city's own matching plots (beside "express interest" in the live room).

The events go out through the live room's log and broadcaster (`site_match_events`,
`announce_site_matches`), prompted by `app.signals.pitch_changed` (a session goes live, its projects
or a project's needs change), so fairs and the scheduler need not know of parks. Staff events reach people of both languages through one
broadcast, so they carry the matches in both (`{"en": [...], "zh": [...]}`); the page shows its own.
"""

from __future__ import annotations

import logging

from flask_babel import force_locale, gettext
from sqlalchemy import select

from .. import signals
from ..accounts.enums import Role
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..fairs.enums import SessionStatus
from ..fairs.models import FairSession
from ..live import broadcast
from ..live import services as live
from ..live.enums import Audience
from . import matching
from .models import SiteNeeds
from .schemas import Match
from .services import MANAGING_KINDS

#: The languages CloudFair writes in.
LANGS = ("en", "zh")
#: How many parks the presenter and organisers see for a pitched project.
TOP = 3


def is_city(actor) -> bool:
    """A person of a city bureau or park organisation: sees their own plots in the live room."""
    return (actor is not None and actor.role == Role.ATTENDEE and actor.organisation is not None
            and actor.organisation.kind in MANAGING_KINDS)


def needs_of(project) -> matching.Needs:
    return matching.Needs.of(project.sector, db.session.get(SiteNeeds, project.id))


def matches(project, *, organisation_id: int | None = None, limit: int = TOP, dump: bool = True) -> list:
    """The best plots for the project in the reader's language, as plain JSON-ready dicts (`dump`),
    or as the matcher gives them (park and plot records, for an API schema to shape)."""
    items = matching.site_matches(needs_of(project), limit=limit, organisation_id=organisation_id)
    return Match(many=True).dump(items) if dump else items


def matches_in_both(project, limit: int = TOP) -> dict[str, list[dict]]:
    """The top parks for the project, once in each language (for a broadcast to mixed readers)."""
    out = {}
    for lang in LANGS:
        with force_locale(lang):
            out[lang] = matches(project, limit=limit)
    return out


def for_reader(actor, project, *, staff: bool, dump: bool = True) -> list | None:
    """What this reader sees for a pitched project: staff the top three of every park, a city its
    own plots, anyone else nothing (None)."""
    if staff:
        return matches(project, dump=dump)
    if is_city(actor):
        return matches(project, organisation_id=actor.organisation_id, dump=dump)
    return None


# ---------------------------------------------------------------- the live pitch


def site_match_events(session_id: int, project_ids=None) -> list[live.Outgoing]:
    """Record, for the session's staff, the top three parks for each pitched project (or those of
    `project_ids`), in both languages; the caller commits."""
    session = db.session.get(FairSession, session_id)
    if session is None:
        return []
    chosen = [p for p in session.projects if project_ids is None or p.id in project_ids]
    built = [(p.id, matches_in_both(p)) for p in chosen]  # before the numbers: their row stays locked
    return [live.record(session.id, "site_matches", {"project_id": project_id, "matches": matches}, Audience.STAFF)
            for project_id, matches in built]


def announce_site_matches(session_id: int, project_ids=None) -> None:
    """Tell a live session's presenters and organisers the top three parks for its pitched projects:
    when the pitch starts, when its projects change, when a project's site needs change. A failure is
    logged, never raised: the change that prompted it is already stored."""
    try:
        status = db.session.scalar(select(FairSession.status).where(FairSession.id == session_id))
        if status != SessionStatus.LIVE:
            return
        events = site_match_events(session_id, project_ids)
        db.session.commit()
    except Exception:
        db.session.rollback()
        logging.getLogger(__name__).exception("Could not announce site matches for session %s", session_id)
        return
    broadcast.send(events)


def site_matches(actor, session_id, project_id, *, dump: bool = True) -> dict:
    """The `site_matches` client event: for a project pitched in the session, its presenters and the
    organisers get the top three parks, a city bureau or park organisation its own matching plots, in
    the reader's language. Anyone else: 403."""
    session = live.get_live_session(actor, session_id)
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise ValidationFailed({"project_id": gettext("Give a project id.")})
    project = next((p for p in session.projects if p.id == project_id), None)
    if project is None:
        raise NotFound(gettext("This project is not pitched in this session."))
    items = for_reader(actor, project, staff=live.is_staff(actor, session), dump=dump)
    if items is None:
        raise Forbidden(gettext("Site matches are for the session's presenters, organisers and cities."))
    return {"session_id": session.id, "project_id": project.id, "items": items}


@signals.receiver(signals.pitch_changed)
def _pitch_changed(session_id, *, project_ids=None) -> None:
    announce_site_matches(session_id, project_ids)
