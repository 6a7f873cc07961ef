"""The room most live tests meet in (one builder, so the modules do not copy it)."""

from __future__ import annotations

import pytest

from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user


def make_room(*, other_project: bool = False, zh: bool = False) -> dict:
    """An organiser; An Peeters pitching "Membrane water treatment" (and "Ceramic filters" with
    `other_project`) in "Membrane pitch"; attendees from Shijiazhuang (`sjz`) and Tangshan (`ts`).
    `zh`: the organiser, the presenter and sjz read Chinese, ts English (people keep default names)."""
    organiser = make_organiser(**({"locale": "zh"} if zh else {}))
    agent = make_presenter(name="An Peeters", **({"locale": "zh"} if zh else
                                                 {"timezone_name": "Europe/Brussels", "country": "BE"}))
    project = make_project(agent, title="Membrane water treatment")
    projects = [project]
    if other_project:
        projects.append(make_project(agent, title="Ceramic filters"))
    fair = make_fair(organiser)
    session = make_session(fair, organiser, title="Membrane pitch", presenter_ids=[agent.id],
                           project_ids=[p.id for p in projects])
    sjz = make_user("attendee", **({"locale": "zh"} if zh else {"name": "Zhao Min"}),
                    organisation="Shijiazhuang Commerce Bureau", city="Shijiazhuang")
    ts = make_user("attendee", **({"locale": "en"} if zh else {"name": "Zhou Qiang"}),
                   organisation="Tangshan Commerce Bureau", city="Tangshan")
    room = {"organiser": organiser, "agent": agent, "project": project, "fair": fair, "session": session,
            "sjz": sjz, "ts": ts}
    if other_project:
        room["other_project"] = projects[1]
    return room


def ask_twice_over_http(client, headers: dict, session_id: int, text: str, client_id: str):
    """Ask a question over HTTP, then send the same again: 201, then 200 with the same question (the
    `client_id` makes the call idempotent). Returns the first answer."""
    url = f"/api/v1/sessions/{session_id}/questions"
    asked = client.post(url, json={"text": text, "client_id": client_id}, headers=headers)
    assert asked.status_code == 201
    replay = client.post(url, json={"text": text, "client_id": client_id}, headers=headers)
    assert replay.status_code == 200 and replay.json["id"] == asked.json["id"]
    return asked


@pytest.fixture
def room(app):
    """The one-project room (modules that need another shape define their own `room`)."""
    return make_room()
