"""Plain `make_*` functions with obvious defaults; override what a test cares about."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from app.accounts.services import create_user
from app.extensions import db
from app.fairs import services as fairs
from app.projects.models import Project

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(role: str = "attendee", **overrides):
    n = next(_counter)
    values = {
        "email": f"{role}{n}@example.org",
        "name": f"{role.title()} {n}",
        "role": role,
        "organisation": overrides.pop("organisation", f"{role.title()} Org {n}"),
        "password": PASSWORD,
        "timezone": "Asia/Shanghai",
        "locale": "en",
    }
    values.update(overrides)
    return create_user(None, **values)


def make_organiser(**overrides):
    return make_user("organiser", organisation=overrides.pop("organisation", "Hebei Department of Commerce"), **overrides)


def make_presenter(timezone_name: str = "Europe/Berlin", **overrides):
    return make_user("presenter", timezone=timezone_name, country=overrides.pop("country", "DE"), **overrides)


def at(text: str) -> datetime:
    """Parse an ISO time with offset: at("2026-12-10T15:00+08:00")."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value


def make_fair(organiser=None, *, publish: bool = True, **overrides):
    organiser = organiser or make_organiser()
    start = overrides.pop("starts_at", datetime(2026, 12, 10, 7, 0, tzinfo=timezone.utc))
    data = {
        "title": "Europe online investment fair",
        "theme": "New materials",
        "focus_countries": ["DE", "BE"],
        "focus_sectors": ["new_materials"],
        "starts_at": start,
        "ends_at": overrides.pop("ends_at", start + timedelta(hours=6)),
        "timezone": "Asia/Shanghai",
        "tracks": ["main", "cities"],
    }
    data.update(overrides)
    fair = fairs.create_fair(organiser, data)
    if publish:
        fairs.publish_fair(organiser, fair)
    return fair


def make_session(fair, organiser=None, **overrides):
    organiser = organiser or make_organiser()
    start = overrides.pop("starts_at", fair.starts_at)
    data = {
        "title": "A pitch",
        "kind": "pitch",
        "starts_at": start,
        "ends_at": overrides.pop("ends_at", start + timedelta(minutes=45)),
        "track": "main",
        "presenter_ids": [],
    }
    data.update(overrides)
    return fairs.create_session(organiser, fair, data)


def make_pitch(*projects, pitched: int | None = None, organiser=None, agent=None, **session_values) -> dict:
    """An organiser's published fair with one pitch by its presenter (`agent`, by default "An Peeters"),
    who owns a project of each of `projects` (a title, or a dict of the project's values), made in that
    order; the session pitches the first `pitched` of them (all of them by default). Returns the
    organiser, the agent, the projects, the fair and the session."""
    organiser = organiser or make_organiser()
    agent = agent or make_presenter(name="An Peeters")
    made = [make_project(agent, **({"title": p} if isinstance(p, str) else p)) for p in projects]
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[p.id for p in made[:pitched]],
                           **session_values)
    return {"organiser": organiser, "agent": agent, "projects": made, "fair": fair, "session": session}


def make_winter_pitch(organiser) -> dict:
    """Petr Novak (CZ) pitches his ice-rink blanket (12 million euros) at "Winter pitch" on `organiser`'s
    published fair (`make_pitch`'s answer)."""
    rink = {"title": "Ice-rink blanket", "sector": "ice_snow", "country": "CZ",
            "investment_amount": Decimal("12000000"), "currency": "EUR"}
    return make_pitch(rink, organiser=organiser, agent=make_presenter(name="Petr Novak", country="CZ"),
                      title="Winter pitch")


def make_monthly_series(organiser):
    """"Europe monthly": the second Thursday of every month, 15:00–19:00 Beijing, from 2027-01-01, with
    the fairs that are due made (call it at the time the test stands at)."""
    from app.fairs import series

    created = series.create_series(organiser, {
        "title": "Europe monthly", "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00", "minutes": 240,
        "starts_on": "2027-01-01",
        "themes": [{"theme": "Europe: new materials", "focus_countries": ["DE"], "focus_sectors": ["new_materials"]}],
    })
    series.make_due_fairs()
    return created


def make_project(owner, **overrides):
    values = {
        "title": "Mobile ice-rink blanket",
        "summary": "A rink anywhere in hours.",
        "sector": "ice_snow",
        "country": "CZ",
        "currency": "EUR",
        "owner": owner,
    }
    values.update(overrides)
    project = Project(**values)
    db.session.add(project)
    db.session.commit()
    return project


def make_notification(user, title: str, *, kind: str = "report_request", zh: str | None = None,
                      link: str | None = None):
    """A notification in both languages (the Chinese title defaults to the English one)."""
    from app.notifications.services import notify

    return notify(user.id, kind=kind, texts={"zh": (zh or title, ""), "en": (title, "")}, lang=user.locale, link=link)
