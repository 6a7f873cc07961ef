"""Sites during a live pitch: the top three parks for a pitched project (for its presenters and the
organisers) and a city's own matching plots (beside "express interest" in the live room).

The live room builds and records the events (`app/live/services.site_match_events`); this module
only answers "which plots, in which words". Staff events reach people of both languages through one
broadcast, so they carry the matches in both (`{"en": [...], "zh": [...]}`); the page shows its own.
"""

from __future__ import annotations

from flask_babel import force_locale

from ..accounts.enums import Role
from ..extensions import db
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
