"""A burst of interests tells each organiser in one notification per session and window: the count
and the latest, in both languages, one row whatever happens at once (PostgreSQL); the project's
presenter still hears of each interest, and nobody else's notifications change."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.leads import services as lead_services
from app.live import services as live
from app.notifications import services as notifications
from app.notifications.models import Notification
from tests.conftest import at_once
from tests.factories import make_fair, make_notification, make_organiser, make_presenter, make_project, make_session, make_user
from tests.i18n import zh

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")

SESSION = {"zh": "冬季推介", "en": "Winter pitch"}


@pytest.fixture
def room(app, monkeypatch):
    monkeypatch.setattr(live, "interest_count_changed", lambda *args: None)  # the throttle's own work
    # Windows are counted from the epoch: a test's interests all fall in one (a burst that crossed a
    # minute's end would rightly make two rows). The test of a new window sets its own moments.
    one_window = datetime.now(timezone.utc).replace(second=1, microsecond=0)
    monkeypatch.setattr(lead_services, "utcnow", lambda: one_window)
    organiser = make_organiser(locale="zh")
    second = make_organiser(locale="en")
    agent = make_presenter(name="Petr Novak", locale="en")
    rink = make_project(agent, title="Ice-rink blanket")
    fair = make_fair(organiser)
    session = make_session(fair, organiser, title=None, title_i18n=SESSION, presenter_ids=[agent.id],
                           project_ids=[rink.id])
    db.session.commit()
    return {"organiser": organiser, "second": second, "agent": agent, "project": rink, "fair": fair,
            "session": session}


def _interest(room, person, n: int, level: str = "info", note: str = ""):
    return live.express_interest(person, room["session"].id, {"project_id": room["project"].id, "level": level,
                                                              "note": note, "client_id": f"fold-{n:06d}"})


def _rows(user_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id)))


def _cities(n: int) -> list[User]:
    return [make_user("attendee", organisation=f"City {k} Commerce Bureau") for k in range(n)]


def test_a_burst_is_one_row_per_organiser_with_the_count_and_the_latest_in_both_languages(room):
    cities = _cities(5)
    for n, city in enumerate(cities):
        _interest(room, city, n, note="Land in Luancheng" if n == 4 else "")

    for organiser in (room["organiser"], room["second"]):
        [row] = _rows(organiser.id)
        assert (row.kind, row.fold_count, row.read_at) == ("interests", 5, None)
        assert row.title_en == "5 new interests in “Winter pitch”"
        assert row.title_zh == zh("%(count)s new interests in “%(session)s”", count="5", session=SESSION["zh"])
        assert row.body_en == ("Latest: City 4 Commerce Bureau is interested in “Ice-rink blanket” "
                               "(Send more information)\nLand in Luancheng")
        assert row.body_zh.startswith(zh("Latest: %(interest)s", interest="")) and "City 4" in row.body_zh
        assert row.link == f"/leads?fair_id={room['fair'].id}"
    [zh_reader] = _rows(room["organiser"].id)
    [en_reader] = _rows(room["second"].id)
    assert (zh_reader.title, zh_reader.body) == (zh_reader.title_zh, zh_reader.body_zh)
    assert (en_reader.title, en_reader.body) == (en_reader.title_en, en_reader.body_en)
    # The presenter still hears of each interest, one row each.
    assert [(r.kind, r.fold_count) for r in _rows(room["agent"].id)] == [("interest", None)] * 5


def test_the_first_interest_of_a_window_reads_as_one(room):
    _interest(room, _cities(1)[0], 1)

    [row] = _rows(room["second"].id)
    assert (row.title_en, row.fold_count) == ("A new interest in “Winter pitch”", 1)
    assert row.title_zh == zh("A new interest in “%(session)s”", session=SESSION["zh"])
    assert row.body_en == "City 0 Commerce Bureau is interested in “Ice-rink blanket” (Send more information)"
    # In Chinese the names written only in English carry the marker, in Chinese words, as on a page.
    assert row.body_zh == zh("%(organisation)s is interested in “%(project)s” (%(level)s)",
                             organisation="City 0 Commerce Bureau " + zh("(in English)"),
                             project="Ice-rink blanket " + zh("(in English)"), level=zh("Send more information"))


def test_a_replay_tells_nobody_again_and_makes_no_notices(room, monkeypatch):
    city = _cities(1)[0]
    _interest(room, city, 1)
    made = []
    real = lead_services._interest_notices
    monkeypatch.setattr(lead_services, "_interest_notices", lambda *args: made.append(args) or real(*args))
    again = _interest(room, city, 1)  # the same client id again: a resend after a lost ack

    assert again.duplicate is True and made == []
    [row] = _rows(room["second"].id)
    assert row.fold_count == 1


def test_a_new_window_makes_a_new_row(room, app, monkeypatch):
    app.config["INTEREST_NOTIFY_WINDOW_SECONDS"] = 60
    start = datetime(2026, 12, 10, 7, 0, 0, tzinfo=timezone.utc)
    now = {}
    monkeypatch.setattr(lead_services, "utcnow", lambda: now["at"])
    for n, (city, second) in enumerate(zip(_cities(4), (0, 50, 56, 70))):  # windows from the epoch's minutes
        now["at"] = start + timedelta(seconds=second)
        _interest(room, city, n)

    rows = _rows(room["second"].id)
    assert [(r.fold_count, r.title_en) for r in rows] == [(3, "3 new interests in “Winter pitch”"),
                                                        (1, "A new interest in “Winter pitch”")]
    assert rows[0].created_at == start + timedelta(seconds=56)  # the latest interest's time


def test_another_session_has_its_own_row(room):
    other = make_session(room["fair"], room["organiser"], title=None, title_i18n={"zh": "第二场", "en": "Second pitch"}, presenter_ids=[room["agent"].id],
                         project_ids=[room["project"].id], starts_at=room["fair"].starts_at + timedelta(hours=1))
    city = _cities(1)[0]
    _interest(room, city, 1)
    live.express_interest(city, other.id, {"project_id": room["project"].id, "level": "meeting",
                                           "client_id": "fold-other-01"})

    assert sorted(r.title_en for r in _rows(room["second"].id)) == ["A new interest in “Second pitch”",
                                                                   "A new interest in “Winter pitch”"]


def test_a_read_notification_is_not_folded_into(room):
    cities = _cities(3)
    _interest(room, cities[0], 0)
    _interest(room, cities[1], 1)
    [seen] = _rows(room["second"].id)
    notifications.mark_read(room["second"], seen.id)
    _interest(room, cities[2], 2)

    rows = _rows(room["second"].id)
    assert [(r.fold_count, r.read_at is None) for r in rows] == [(2, False), (1, True)]
    assert [r.fold_count for r in _rows(room["organiser"].id)] == [3]  # the other organiser had not read it


def test_marking_all_read_ends_the_fold_too(room):
    cities = _cities(2)
    _interest(room, cities[0], 0)
    assert notifications.mark_all_read(room["second"]) == 1
    _interest(room, cities[1], 1)

    assert [(r.fold_count, r.read_at is None) for r in _rows(room["second"].id)] == [(1, False), (1, True)]


def test_a_window_of_zero_tells_of_each_interest(room, app):
    app.config["INTEREST_NOTIFY_WINDOW_SECONDS"] = 0
    for n, city in enumerate(_cities(3)):
        _interest(room, city, n)

    assert [(r.fold_key, r.fold_count) for r in _rows(room["second"].id)] == [(None, 1)] * 3


def test_the_presenters_and_the_citys_own_notifications_are_unaffected(room):
    city = _cities(1)[0]
    for person in (city, room["agent"], room["second"]):
        make_notification(person, "Before the burst", kind="report_request")
    db.session.commit()
    for n, person in enumerate([city, *_cities(2)]):
        _interest(room, person, n)

    assert [(r.kind, r.title) for r in _rows(city.id)] == [("report_request", "Before the burst")]  # nothing new
    assert [r.kind for r in _rows(room["agent"].id)] == ["report_request", "interest", "interest", "interest"]
    assert [(r.kind, r.fold_count) for r in _rows(room["second"].id)] == [("report_request", None), ("interests", 3)]
    assert _rows(room["second"].id)[0].title == "Before the burst"


def test_an_interest_costs_one_statement_on_notifications_however_many_organisers(room):
    from tests.live.test_interest_ingest import Statements

    for _ in range(3):
        make_organiser()
    db.session.commit()
    cities = _cities(3)
    _interest(room, cities[0], 0)
    _interest(room, cities[1], 1)
    cities[2].organisation  # the socket handler loads the person with their organisation
    with Statements() as seen:
        _interest(room, cities[1], 2)

    assert sum("notifications" in s for s in seen.log) == 1, seen.log
    folded = list(db.session.scalars(select(Notification.fold_count).where(Notification.kind == "interests")))
    assert folded == [3] * 5  # five organisers, one row each


@postgres_only
def test_interests_at_once_make_one_row_per_organiser_and_lose_no_count(app, room):
    """Twelve cities send at the same moment: each organiser has one row counting twelve, the
    presenter twelve rows, and every interest is stored."""
    sid, project_id = room["session"].id, room["project"].id
    people = iter([c.id for c in _cities(12)])
    organisers = (room["organiser"].id, room["second"].id)

    def send():
        actor = db.session.get(User, next(people))
        actor.organisation
        return live.express_interest(actor, sid, {"project_id": project_id, "level": "info",
                                                  "client_id": f"fold-at-once-{actor.id:04d}"})

    results, errors = at_once(app, 12, send)

    assert errors == [] and len(results) == 12 and not any(r.duplicate for r in results)
    for organiser_id in organisers:
        assert [(r.kind, r.fold_count) for r in _rows(organiser_id)] == [("interests", 12)]
        assert _rows(organiser_id)[0].title_en == "12 new interests in “Winter pitch”"
    assert len(_rows(room["agent"].id)) == 12


def _notice(user_lang: dict[int, str], key: str, n: int, note: str = "") -> tuple[list[dict], dict]:
    """One event's (rows, folded texts) as `leads.services._interest_notices` makes them."""
    at = datetime(2026, 12, 10, 7, 0, n, tzinfo=timezone.utc)
    first = {"zh": f"新意向 {n}", "en": f"A new interest {n}"}
    body = {"zh": f"城市 {n}\n{note}", "en": f"City {n}\n{note}"}
    rows = [{"user_id": user_id, "kind": "interests", "title": first[lang], "title_zh": first["zh"],
             "title_en": first["en"], "body": body[lang], "body_zh": body["zh"], "body_en": body["en"],
             "link": f"/leads?n={n}", "created_at": at, "fold_key": key, "fold_count": 1}
            for user_id, lang in sorted(user_lang.items())]
    folded = {lang: {"title": (f"{lang}-before ", f" {lang}-after"), "body": f"{lang} latest {n} {note}".strip()}
              for lang in ("zh", "en")}
    return rows, folded


_COMPARED = ("kind", "title", "title_zh", "title_en", "body", "body_zh", "body_en", "link", "created_at", "fold_count")


@pytest.mark.parametrize("already", [0, 1], ids=["new rows", "rows already there"])
def test_a_batch_of_events_folds_as_one_event_at_a_time_does_in_one_row_written_per_person(app, already):
    """What the group commit hands over at once (`add_folded_many`) ends as the same rows as the same
    events folded one statement each, and each person's row is written once, not once per event."""
    from tests.live.test_interest_ingest import Statements

    zh_reader, en_reader = make_user("organiser", locale="zh"), make_user("organiser", locale="en")
    db.session.commit()
    people = {zh_reader.id: "zh", en_reader.id: "en"}
    events = range(5)
    for key in ("one-at-a-time", "batch"):
        for n in events[:already]:
            notifications.add_folded(*_notice(people, key, n))
    for n in events[already:]:
        notifications.add_folded(*_notice(people, "one-at-a-time", n, note="land" if n == 4 else ""))
    with Statements() as seen:
        notifications.add_folded_many([_notice(people, "batch", n, note="land" if n == 4 else "")
                                       for n in events[already:]])
    db.session.commit()

    [statement] = [s for s in seen.log if "notifications" in s]
    assert seen.rows[statement] == len(people)  # one row per person, whatever the number of events
    for person in people:
        rows = {r.fold_key: r for r in _rows(person)}
        alone, batch = rows["one-at-a-time"], rows["batch"]
        assert [getattr(batch, c) for c in _COMPARED] == [getattr(alone, c) for c in _COMPARED]
        assert batch.fold_count == 5 and batch.title_en == "en-before 5 en-after" and batch.body_en == "en latest 4 land"
    assert _rows(zh_reader.id)[0].title == "zh-before 5 zh-after"
