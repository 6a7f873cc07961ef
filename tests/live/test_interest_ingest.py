"""Recording interests at a fair's pace: one short transaction each with few statements, nothing
read back after the commit, and every acknowledged interest stored exactly once (SQLite, and
PostgreSQL with concurrent clients)."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.fairs import services as fairs
from app.leads.models import Interest, Lead, LeadEvent
from app.live import services as live
from app.notifications.models import Notification
from tests.factories import make_pitch, make_project, make_user

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def room(app):
    pitch = make_pitch("Membrane water treatment", "Ceramic filters")
    project, other = pitch["projects"]
    return {**pitch, "project": project, "other": other}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class Statements:
    """Every statement sent to the database, and where the commits fell; `rows`: how many parameter
    sets each statement (as logged) was last sent with (more than one: an executemany)."""

    def __init__(self):
        self.log: list[str] = []
        self.rows: dict[str, int] = {}

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._statement)
        event.listen(db.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._statement)
        event.remove(db.engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self.log.append(" ".join(statement.split())[:80])
        self.rows[self.log[-1]] = len(parameters) if executemany else 1

    def _commit(self, conn):
        self.log.append("COMMIT")


def test_a_new_interest_is_a_few_statements_in_one_transaction_and_nothing_is_read_back(room, monkeypatch):
    monkeypatch.setattr(live, "interest_count_changed", lambda *args: None)  # the throttle's own work
    sid, project_id = room["session"].id, room["project"].id
    first = make_user("attendee", organisation="Tangshan Commerce Bureau")
    live.express_interest(first, sid, {"project_id": project_id, "level": "info", "client_id": "i-warm-0001"})
    person = make_user("attendee", name="Zhao Min", organisation="Shijiazhuang Commerce Bureau")
    person.organisation  # the socket handler loads the person with their organisation (one query)
    with Statements() as seen:
        result = live.express_interest(person, sid, {"project_id": project_id, "level": "intent",
                                                      "note": "Land in Luancheng", "client_id": "i-fast-0001"})
    assert seen.log.count("COMMIT") == 1 and seen.log[-1] == "COMMIT", seen.log  # nothing after the commit
    # session check, lead upsert (+ a read first on SQLite), lead event, interest, notifications, seq, event
    assert len(seen.log) - 1 <= 8, seen.log
    assert not any(s.startswith("SELECT users") or "FROM projects" in s for s in seen.log), seen.log
    stored = db.session.get(Interest, result.value["interest"]["id"])
    lead = db.session.get(Lead, stored.lead_id)
    assert result.value["interest"] == live.lead_queries.interest_dict(stored)
    assert result.value["lead"] == live.lead_queries.lead_dict(lead)
    assert lead.stage == "preliminary_intent"
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.body == "Land in Luancheng")))
    assert told == {room["agent"].id}  # the presenter hears of each interest
    organiser = db.session.scalars(select(Notification).where(Notification.user_id == room["organiser"].id)).one()
    assert organiser.fold_count == 2 and organiser.body.endswith("\nLand in Luancheng")  # folded with the first
    assert sum("notifications" in s for s in seen.log) == 1, seen.log  # one statement: the upsert
    if db.engine.dialect.name == "postgresql":  # the lead's upsert and the interest's insert: one statement
        assert [s for s in seen.log if "INSERT INTO interests" in s] == [], seen.log  # (80 characters of each shown)
        assert sum(s.startswith("WITH prev AS") for s in seen.log) == 1, seen.log


def test_every_statement_of_an_interest_is_compiled_once_per_process(room, monkeypatch):
    """An upsert built with a dialect's `insert().on_conflict_do_*()` is compiled again on every call
    (SQLAlchemy 2.0 keeps no cache key for ON CONFLICT): a millisecond of CPU each. After the first
    interests, every statement of the next one comes from the compiled cache."""
    from sqlalchemy.engine.default import CacheStats

    monkeypatch.setattr(live, "interest_count_changed", lambda *args: None)
    sid, project_id = room["session"].id, room["project"].id
    for n in range(2):  # warm: the first calls compile
        person = make_user("attendee", organisation=f"Warm-up Bureau {n}")
        live.express_interest(person, sid, {"project_id": project_id, "level": ("info", "intent")[n],
                                            "note": "warm", "client_id": f"i-warm-c{n:03d}"})
    person = make_user("attendee", name="Zhao Min", organisation="Shijiazhuang Commerce Bureau")
    person.organisation
    seen = []

    def statement(conn, cursor, sql, parameters, context, executemany):
        seen.append((" ".join(sql.split())[:60], context.cache_hit))

    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        live.express_interest(person, sid, {"project_id": project_id, "level": "intent", "note": "Land in Luancheng",
                                            "client_id": "i-cache-001"})
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
    assert len(seen) >= 5, seen
    assert all(hit == CacheStats.CACHE_HIT for _, hit in seen), seen


def test_the_lead_moves_forward_only_and_its_history_says_from_where(room):
    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation="Handan Commerce Bureau") for _ in range(4)]
    steps = ["info", "intent", "info", "meeting"]
    for n, (person, level) in enumerate(zip(people, steps)):
        live.express_interest(person, sid, {"project_id": project, "level": level, "client_id": f"i-move-{n:04d}"})
    lead = db.session.scalar(select(Lead))
    assert lead.stage == "preliminary_intent" and _count(Lead) == 1 and _count(Interest) == 4
    history = [(e.from_stage, e.to_stage) for e in db.session.scalars(select(LeadEvent).order_by(LeadEvent.id))]
    assert history == [(None, "partner_identified"), ("partner_identified", "preliminary_intent")]


def test_a_dropped_lead_stays_dropped_and_a_seeking_one_moves(room):
    sid = room["session"].id
    person = make_user("attendee", organisation="Baoding Commerce Bureau")
    for project, stage in ((room["project"], "dropped"), (room["other"], "seeking_partner")):
        db.session.add(Lead(project_id=project.id, organisation_id=person.organisation_id, stage=stage))
    db.session.commit()
    for n, project in enumerate((room["project"], room["other"])):
        result = live.express_interest(person, sid, {"project_id": project.id, "level": "info",
                                                      "client_id": f"i-kept-{n:04d}"})
        assert result.duplicate is False
    stages = {p: s for p, s in db.session.execute(select(Lead.project_id, Lead.stage))}
    assert stages == {room["project"].id: "dropped", room["other"].id: "partner_identified"}
    history = [(e.from_stage, e.to_stage) for e in db.session.scalars(select(LeadEvent))]
    assert history == [("seeking_partner", "partner_identified")]


def test_a_project_added_to_the_session_is_taken_at_once(room):
    """The session's projects are kept per process by the fair's revision: a change shows at once."""
    sid = room["session"].id
    person = make_user("attendee", organisation="Xingtai Commerce Bureau")
    live.express_interest(person, sid, {"project_id": room["project"].id, "level": "info", "client_id": "i-rev-00001"})
    added = make_project(room["agent"], title="Sludge drying")
    fairs.update_session(room["organiser"], room["session"],
                         {"project_ids": [room["project"].id, room["other"].id, added.id]})
    result = live.express_interest(person, sid, {"project_id": added.id, "level": "info", "client_id": "i-rev-00002"})
    assert result.value["interest"]["project_id"] == added.id


def test_a_closed_session_takes_no_new_interest_but_acknowledges_a_replay(room):
    sid = room["session"].id
    person = make_user("attendee", organisation="Cangzhou Commerce Bureau")
    payload = {"project_id": room["project"].id, "level": "info", "client_id": "i-closed-001"}
    made = live.express_interest(person, sid, dict(payload))
    room["session"].status = "ended"
    db.session.commit()
    again = live.express_interest(person, sid, dict(payload))
    assert again.duplicate is True and again.value == made.value
    with pytest.raises(live.Conflict):
        live.express_interest(person, sid, {**payload, "client_id": "i-closed-002"})
    assert _count(Interest) == 1


def test_many_clients_in_a_row_acknowledged_equals_rows(room):
    sid = room["session"].id
    people = [make_user("attendee", organisation=f"Park {n % 5}") for n in range(15)]
    acks = []
    for n, person in enumerate(people):
        payload = {"project_id": (room["project"], room["other"])[n % 2].id, "level": ("info", "intent")[n % 3 == 0],
                   "client_id": f"i-row-{n:05d}"}
        acks.append(live.express_interest(person, sid, dict(payload)))
        if n % 4 == 0:
            acks.append(live.express_interest(person, sid, dict(payload)))
    new = [a for a in acks if not a.duplicate]
    assert len(new) == 15 and _count(Interest) == 15
    assert {a.value["interest"]["id"] for a in acks} == {a.value["interest"]["id"] for a in new}
    assert _count(Lead) == 10  # 5 organisations × 2 projects


@postgres_only
def test_concurrent_clients_every_ack_is_one_row_and_one_lead_per_organisation(app, room):
    """Twenty-four people of six organisations send at the same moment, a third of them twice at
    once: every new acknowledgement is one row, each organisation has one lead per project with one
    creation in its history, and a lead with an intent among its interests is at preliminary intent."""
    from app.accounts.models import User
    from app.live import services

    sid, project_id = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"City {n % 6}").id for n in range(24)]
    sends = [(user_id, {"project_id": project_id, "level": ("info", "intent", "meeting", "info")[n // 6],
                        "client_id": f"i-storm-{n:05d}"}) for n, user_id in enumerate(people)]
    sends += [s for n, s in enumerate(sends) if n % 3 == 0]
    results, errors = [], []
    barrier = threading.Barrier(len(sends))

    def worker(user_id, payload):
        with app.app_context():
            try:
                actor = db.session.get(User, user_id)  # with the organisation (joined)
                db.session.close()  # back to the pool while waiting: more threads than connections
                barrier.wait(timeout=60)
                results.append((user_id, payload["level"], services.express_interest(actor, sid, dict(payload))))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=send) for send in sends]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    new = [r for _, _, r in results if not r.duplicate]
    assert len(new) == 24 and len(results) == 32
    assert _count(Interest) == 24
    assert len({r.value["interest"]["id"] for _, _, r in results}) == 24
    leads = list(db.session.scalars(select(Lead)))
    assert len(leads) == 6
    for lead in leads:
        history = [(e.from_stage, e.to_stage) for e in db.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id))]
        assert [h for h in history if h[0] is None] == [history[0]]
        assert lead.stage == "preliminary_intent"  # each city's four send info, intent, meeting, info
        assert history[-1][1] == lead.stage
        if len(history) > 1:
            assert history[1] == ("partner_identified", "preliminary_intent")
    ack_leads = {r.value["lead"]["id"] for _, _, r in results}
    assert ack_leads == {lead.id for lead in leads}
