"""Sites during a live pitch: the top three parks for the presenter and organisers over Socket.IO
(pushed when the pitch starts, when its projects change, when a project's needs change), and each
city's own matching plots beside "express interest" (the `site_matches` event, HTTP, the room page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.fairs import services as fairs
from app.live.models import LiveEvent
from app.notifications.reminders import flip_statuses
from app.parks import services as parks
from tests.factories import make_fair, make_pitch, make_session, make_user
from tests.parks.helpers import make_city, make_park, make_plot

NS = "/live"


@pytest.fixture
def pitch(app):
    made = make_pitch("Mobile ice-rink blanket", "Snow-making lances", pitched=1, title="Ice pitch")
    project, later = made["projects"]
    cities = {}
    for name, division, power in (("Zhangjiakou", "130700", 2000), ("Tangshan", "130200", 1500),
                                  ("Xingtai", "130500", 1200), ("Langfang", "131000", 900)):
        person = make_city(organisation=f"{name} Commerce Bureau")
        park = make_park(person, name_i18n={"en": f"{name} Ice Park", "zh": f"{name}冰雪园"}, division=division)
        plot = make_plot(person, park, name=f"{name[0]}-1", power_kva=power)
        cities[name] = {"person": person, "park": park, "plot": plot}
    enterprise = make_user("attendee", organisation="Hebei Ice Gear Co.", kind="enterprise")
    return {**made, "project": project, "later": later, "cities": cities, "enterprise": enterprise}


def _emit(client, event, data):
    return client.emit(event, data, namespace=NS, callback=True)


def _received(client, name):
    return [m["args"][0] for m in client.get_received(NS) if m["name"] == name]


def _go_live(pitch):
    return flip_statuses(now=pitch["session"].starts_at + timedelta(minutes=1))


def _needs(pitch, **values):
    return parks.put_site_needs(pitch["agent"], pitch["project"].id, values)


def test_the_pitch_starting_pushes_the_top_three_parks_to_staff_only(pitch, connect):
    _needs(pitch, power_kva=1600)
    staff = connect(pitch["agent"])
    attendee = connect(pitch["cities"]["Tangshan"]["person"])
    sid = pitch["session"].id
    assert _emit(staff, "join", {"session_id": sid})["ok"]
    assert _emit(attendee, "join", {"session_id": sid})["ok"]
    staff.get_received(NS), attendee.get_received(NS)

    assert _go_live(pitch)["sessions_live"] == 1

    [event] = _received(staff, "site_matches")
    assert event["session_id"] == sid and event["project_id"] == pitch["project"].id and event["seq"] == 1
    en, zh = event["matches"]["en"], event["matches"]["zh"]
    assert [m["park"]["name"] for m in en] == ["Zhangjiakou Ice Park", "Tangshan Ice Park", "Xingtai Ice Park"]
    assert [m["park"]["name"] for m in zh] == ["Zhangjiakou冰雪园", "Tangshan冰雪园", "Xingtai冰雪园"]
    assert en[0]["gaps"] == [] and en[2]["gaps"] == ["Needs 1,600 kVA, plot has 1,200 kVA."]
    assert zh[2]["gaps"] == ["需要1,600千伏安，地块有1,200千伏安。"]
    assert en[0]["score"] > en[2]["score"]
    # The room hears only the number (no gap in seq), never the matches.
    heard = [(m["name"], m["args"][0]) for m in attendee.get_received(NS)]
    assert heard == [("skip", {"session_id": sid, "seq": 1, "seqs": [1]})]
    # Stored as a staff event: a staff catch-up replays it, an attendee's gets a skip.
    row = db.session.scalars(select(LiveEvent).where(LiveEvent.session_id == sid)).one()
    assert (row.name, row.audience) == ("site_matches", "staff")
    caught = _emit(attendee, "catch_up", {"session_id": sid, "since_seq": 0})
    assert caught["events"] == [{"event": "skip", "data": {"session_id": sid, "seq": 1}}]
    caught = _emit(staff, "catch_up", {"session_id": sid, "since_seq": 0})
    assert caught["events"][0]["event"] == "site_matches"


def test_a_session_not_yet_live_pushes_nothing(pitch, connect):
    staff = connect(pitch["agent"])
    assert _emit(staff, "join", {"session_id": pitch["session"].id})["ok"]
    staff.get_received(NS)
    fairs.update_session(pitch["organiser"], pitch["session"], {"project_ids": [pitch["project"].id, pitch["later"].id]})
    _needs(pitch, power_kva=100)
    assert _received(staff, "site_matches") == []
    assert db.session.scalars(select(LiveEvent)).all() == []


def test_a_project_added_to_a_live_pitch_and_changed_needs_are_pushed(pitch, connect):
    _go_live(pitch)
    staff = connect(pitch["organiser"])
    assert _emit(staff, "join", {"session_id": pitch["session"].id})["ok"]
    staff.get_received(NS)
    session = db.session.get(type(pitch["session"]), pitch["session"].id)
    fairs.update_session(pitch["organiser"], session, {"project_ids": [pitch["project"].id, pitch["later"].id]})
    [event] = _received(staff, "site_matches")
    assert event["project_id"] == pitch["later"].id and len(event["matches"]["en"]) == 3

    _needs(pitch, power_kva=1800)  # the pitched project's needs change: its matches again
    [event] = _received(staff, "site_matches")
    assert event["project_id"] == pitch["project"].id
    assert [m["park"]["name"] for m in event["matches"]["en"]][0] == "Zhangjiakou Ice Park"
    assert event["matches"]["en"][1]["gaps"] == ["Needs 1,800 kVA, plot has 1,500 kVA."]


def test_the_site_matches_event_gives_staff_the_top_three_and_a_city_its_own_plots(pitch, connect):
    sid, pid = pitch["session"].id, pitch["project"].id
    ack = _emit(connect(pitch["agent"]), "site_matches", {"session_id": sid, "project_id": pid})
    assert ack["ok"] and ack["project_id"] == pid and len(ack["items"]) == 3
    tangshan = pitch["cities"]["Tangshan"]
    ack = _emit(connect(tangshan["person"]), "site_matches", {"session_id": sid, "project_id": pid})
    assert ack["ok"] and [m["plot"]["id"] for m in ack["items"]] == [tangshan["plot"].id]
    # A city with no park of its own sees an empty list; nobody else's plots.
    no_parks = make_city(organisation="Cangzhou Commerce Bureau")
    assert _emit(connect(no_parks), "site_matches", {"session_id": sid, "project_id": pid})["items"] == []


def test_the_site_matches_event_refuses_bad_input_and_other_people(pitch, connect):
    sid, pid = pitch["session"].id, pitch["project"].id
    enterprise = connect(pitch["enterprise"])
    refused = _emit(enterprise, "site_matches", {"session_id": sid, "project_id": pid})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    city = connect(pitch["cities"]["Xingtai"]["person"])
    assert _emit(city, "site_matches", {"session_id": sid, "project_id": "one"})["error"]["code"] == "validation_failed"
    assert _emit(city, "site_matches", {"session_id": sid})["error"]["code"] == "validation_failed"
    assert _emit(city, "site_matches", {"session_id": sid, "project_id": pitch["later"].id})["error"]["code"] == "not_found"
    draft = make_fair(pitch["organiser"], publish=False, starts_at=pitch["fair"].starts_at + timedelta(days=7),
                      ends_at=pitch["fair"].ends_at + timedelta(days=7))
    hidden = make_session(draft, pitch["organiser"], project_ids=[pid])
    assert _emit(city, "site_matches", {"session_id": hidden.id, "project_id": pid})["error"]["code"] == "not_found"


def test_the_http_twin_scopes_the_same_way(pitch, client, auth):
    sid, pid = pitch["session"].id, pitch["project"].id
    url = f"/api/v1/sessions/{sid}/site-matches?project_id={pid}"
    staff = client.get(url, headers=auth(pitch["organiser"]))
    assert staff.status_code == 200 and len(staff.json["items"]) == 3
    xingtai = pitch["cities"]["Xingtai"]
    own = client.get(url, headers=auth(xingtai["person"]))
    assert own.status_code == 200 and [m["park"]["id"] for m in own.json["items"]] == [xingtai["park"].id]
    refused = client.get(url, headers=auth(pitch["enterprise"]))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    missing = client.get(f"/api/v1/sessions/{sid}/site-matches", headers=auth(xingtai["person"]))
    assert missing.status_code == 422
    assert client.get(url).status_code == 401


def test_the_room_shows_staff_the_best_sites_and_a_city_its_own_plots(pitch, login_as):
    url = f"/sessions/{pitch['session'].id}/live"
    staff = login_as(pitch["agent"]).get(url).get_data(as_text=True)
    assert "Best sites for this project" in staff and "Zhangjiakou Ice Park" in staff and "Xingtai Ice Park" in staff
    assert "Langfang Ice Park" not in staff  # the fourth is not in the top three
    city = login_as(pitch["cities"]["Langfang"]["person"]).get(url).get_data(as_text=True)
    assert "Your matching plots" in city and "Langfang Ice Park" in city and "Zhangjiakou Ice Park" not in city
    other = login_as(pitch["enterprise"]).get(url).get_data(as_text=True)
    assert "Your matching plots" not in other and "Ice Park" not in other
