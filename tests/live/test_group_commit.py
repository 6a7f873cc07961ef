"""The group commit of interests: what arrives together is written in one transaction, and each caller
is answered after that commit with its own outcome (stored, a replay, or its own refusal)."""

from __future__ import annotations

import os
import time

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.errors import RateLimited
from app.accounts.models import User
from app.extensions import db
from app.fairs.models import FairSession
from app.leads.models import Interest, Lead, LeadEvent
from app.live import services as live
from app.live.group_commit import GroupCommit
from app.live.models import LiveEvent
from app.notifications.models import Notification
from tests.conftest import filling, in_threads
from tests.factories import make_pitch, make_user

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")


def _one_batch(app, monkeypatch, module, name: str, read, size: int) -> GroupCommit:
    """Replace `module.<name>` with a group read whose first batch waits until `size` items are queued."""
    commit = None
    commit = GroupCommit(read, pause=filling(lambda: commit, size), waiting=module._let_go)
    monkeypatch.setattr(module, name, commit)
    return commit


def _in_app(app, call):
    """`call` as a thread of its own runs it: in an app context, its session removed after."""
    def run():
        with app.app_context():
            try:
                return call()
            finally:
                db.session.remove()
    return run


# ---------------------------------------------------------------- the coordination alone


def test_items_submitted_together_are_written_in_one_batch_and_each_caller_returns_after_it():
    written, answered = [], {}
    commit = None

    def write(items):
        time.sleep(0.01)
        written.append(list(items))
        for item in items:
            item["done_at"] = len(written)

    commit = GroupCommit(write, pause=filling(lambda: commit, 8))
    items = [{"n": n} for n in range(8)]

    def submit(item):
        commit.submit(item)
        answered[item["n"]] = item.get("done_at")  # the item was written before its caller returned

    in_threads([lambda item=item: submit(item) for item in items])
    assert commit.batches == [8] and len(written) == 1
    assert sorted(item["n"] for item in written[0]) == list(range(8))
    assert answered == {n: 1 for n in range(8)}


def test_the_writer_role_passes_on_and_a_failed_batch_leaves_its_items_to_their_callers():
    import threading

    calls = []
    commit = None
    writing = threading.Event()

    def write(items):
        calls.append(len(items))
        if len(calls) == 1:
            writing.set()
            deadline = time.monotonic() + 10
            while commit.queued < 30 and time.monotonic() < deadline:  # the others queue meanwhile
                time.sleep(0.005)
            raise RuntimeError("the database went away")
        for item in items:
            item["written"] = True

    commit = GroupCommit(write)
    first = {"n": 0}
    out = {}

    def submit_first():
        commit.submit(first)

    def submit_later(n):
        assert writing.wait(10)  # the first batch (the first item alone) is being written
        item = {"n": n}
        commit.submit(item)
        out[n] = item

    results = in_threads([submit_first] + [lambda n=n: submit_later(n) for n in range(1, 31)])
    assert all(not isinstance(result, Exception) for result in results)  # logged; nobody's answer
    assert "written" not in first  # its batch failed: its caller writes it alone
    assert all(item.get("written") for item in out.values()) and len(out) == 30
    assert calls == [1, 30]  # the next writer took all that queued meanwhile
    assert commit.queued == 0


# ---------------------------------------------------------------- interests in one transaction


@pytest.fixture
def room(app):
    pitch = make_pitch("Membrane water treatment", "Ceramic filters")
    project, other = pitch["projects"]
    return {**pitch, "project": project, "other": other}


def _batched(monkeypatch, size: int) -> GroupCommit:
    commit = None
    commit = GroupCommit(live._write_interests, pause=filling(lambda: commit, size))
    monkeypatch.setattr(live, "_interests", commit)
    monkeypatch.setattr(live, "interest_count_changed", lambda *args: None)  # the throttle's own work
    return commit


def _express(app, user_id: int, session_id: int, data: dict):
    def call():
        with app.app_context(), app.test_request_context():
            try:
                person = db.session.get(User, user_id)
                person.organisation
                with force_locale(person.locale):  # as the socket handler does
                    return live.express_interest(person, session_id, dict(data))
            finally:
                db.session.remove()
    return call


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query))


@postgres_only
def test_a_batch_stores_each_interest_once_numbers_its_events_and_folds_the_organisers_notice(app, room, monkeypatch):
    sid, project, other, organiser = room["session"].id, room["project"].id, room["other"].id, room["organiser"].id
    people = [make_user("attendee", organisation=f"City {n} Commerce Bureau").id for n in range(4)]
    colleague = make_user("attendee", organisation="City 0 Commerce Bureau").id  # the same lead as people[0]
    earlier = live.express_interest(db.session.get(User, people[3]), sid,
                                    {"project_id": other, "level": "info", "client_id": "i-earlier-01"})
    db.session.remove()
    commit = _batched(monkeypatch, 7)
    sends = [(people[0], {"project_id": project, "level": "info", "client_id": "i-batch-0001"}),
             (colleague, {"project_id": project, "level": "intent", "client_id": "i-batch-0002"}),
             (people[1], {"project_id": project, "level": "info", "client_id": "i-batch-0003"}),
             (people[1], {"project_id": project, "level": "info", "client_id": "i-batch-0003"}),  # sent twice at once
             (people[2], {"project_id": other, "level": "meeting", "note": "Visit in March", "client_id": "i-batch-0004"}),
             (people[3], {"project_id": other, "level": "info", "client_id": "i-earlier-01"}),  # a replay of a stored one
             (people[3], {"project_id": project, "level": "info", "client_id": "i-batch-0005"})]
    results = in_threads([_express(app, user_id, sid, data) for user_id, data in sends])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert commit.batches[0] == 7
    new = [r for r in results if not r.duplicate]
    assert len(new) == 5 and [r.duplicate for r in results].count(True) == 2
    assert results[3].value["interest"]["id"] == results[2].value["interest"]["id"]
    assert results[5].value["interest"]["id"] == earlier.value["interest"]["id"]
    ids = {r.value["interest"]["id"] for r in new}
    assert _count(select(Interest).where(Interest.id.in_(ids)).subquery()) == 5
    assert _count(select(Interest).subquery()) == 6  # the earlier one and the batch's five, none twice
    # people[0] and their colleague share one lead: made by one, raised to intent by the other
    lead = db.session.scalar(select(Lead).where(Lead.project_id == project, Lead.organisation_id == results[0].value["lead"]["organisation_id"]))
    assert lead.stage == "preliminary_intent"
    steps = db.session.execute(select(LeadEvent.from_stage, LeadEvent.to_stage).where(LeadEvent.lead_id == lead.id)
                               .order_by(LeadEvent.id)).all()
    assert steps == [(None, "partner_identified"), ("partner_identified", "preliminary_intent")]
    # one staff event per new interest, numbered after the earlier one's without a gap
    seqs = sorted(event.payload["seq"] for result in new for event in result.events)
    stored = db.session.scalars(select(LiveEvent.seq).where(LiveEvent.session_id == sid, LiveEvent.name == "interest")
                                .order_by(LiveEvent.seq)).all()
    assert seqs == stored[1:] and seqs == list(range(seqs[0], seqs[0] + 5))
    # the organiser's folded notification counts the earlier interest and the batch's five
    folded = db.session.scalar(select(Notification).where(Notification.user_id == organiser,
                                                          Notification.kind == "interests"))
    assert folded.fold_count == 6


@postgres_only
def test_a_batch_moves_leads_forward_only_and_never_out_of_dropped(app, room, monkeypatch):
    """The batch's statement compares each lead's stage with the stages below the interest's own (sent as
    one array per interest): a lead further on, or dropped, keeps its stage; one behind moves up."""
    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"Town {n} Commerce Bureau") for n in range(4)]
    for person, stage in zip(people, ("negotiating", "dropped", "seeking_partner")):
        db.session.add(Lead(project_id=project, organisation_id=person.organisation_id, stage=stage))
    db.session.commit()
    ids, organisations = [person.id for person in people], [person.organisation_id for person in people]
    db.session.remove()
    commit = _batched(monkeypatch, 4)
    sends = [(ids[0], "intent"), (ids[1], "intent"), (ids[2], "intent"), (ids[3], "info")]
    results = in_threads([_express(app, user_id, sid, {"project_id": project, "level": level,
                                                       "client_id": f"i-order-{n:04d}"})
                          for n, (user_id, level) in enumerate(sends)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert commit.batches[0] == 4
    stages = dict(db.session.execute(select(Lead.organisation_id, Lead.stage).where(Lead.project_id == project)).all())
    assert [stages[organisation] for organisation in organisations] == [
        "negotiating", "dropped", "preliminary_intent", "partner_identified"]
    assert [r.value["lead"]["stage"] for r in results] == [
        "negotiating", "dropped", "preliminary_intent", "partner_identified"]
    history = {tuple(row) for row in db.session.execute(select(LeadEvent.from_stage, LeadEvent.to_stage))}
    assert history == {("seeking_partner", "preliminary_intent"), (None, "partner_identified")}


def test_a_batch_s_rows_go_in_rounds_that_name_each_lead_once_in_its_order():
    from app.leads.services import _rounds

    rows = [{"project_id": p, "organisation_id": o} for p, o in ((1, 7), (1, 8), (1, 7), (1, 7), (2, 7))]
    assert _rounds(rows) == [[0, 1, 4], [2], [3]]
    rows = [{"project_id": p, "organisation_id": o} for p, o in ((2, 7), (1, 8), (1, 8), (1, 7))]
    assert _rounds(rows) == [[3, 1, 0], [2]]  # each round in the leads' order
    assert _rounds([]) == []


@postgres_only
def test_a_lead_named_by_several_interests_of_a_batch_is_answered_as_it_stood_after_each(app, room, monkeypatch,
                                                                                         caplog):
    """Colleagues of one organisation in one batch share a lead: the set-based statements take them in
    rounds, and each acknowledgement shows the lead after that interest, the history one row per step."""
    from app.leads.enums import stage_rank

    sid, project = room["session"].id, room["project"].id
    colleagues = [make_user("attendee", organisation="Langfang Commerce Bureau").id for _ in range(4)]
    db.session.commit()
    commit = _batched(monkeypatch, 4)
    levels = ["info", "intent", "info", "meeting"]
    caplog.set_level("WARNING", logger="app.live.services")
    results = in_threads([_express(app, user_id, sid, {"project_id": project, "level": level,
                                                       "client_id": f"i-round-{n:04d}"})
                          for n, (user_id, level) in enumerate(zip(colleagues, levels))])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert commit.batches[0] == 4
    assert len({r.value["lead"]["id"] for r in results}) == 1
    # in the order the batch wrote them (their ids were given in that order), the lead only moves forward
    written = sorted(results, key=lambda r: r.value["interest"]["id"])
    expected, stage, steps = [], None, []
    for r in written:
        wanted = "preliminary_intent" if r.value["interest"]["level"] == "intent" else "partner_identified"
        if stage is None or stage_rank(stage) < stage_rank(wanted):
            steps.append((stage, wanted, r.value["interest"]["user_id"]))
            stage = wanted
        expected.append(stage)
    assert [r.value["lead"]["stage"] for r in written] == expected
    assert expected[-1] == "preliminary_intent"
    history = db.session.execute(select(LeadEvent.from_stage, LeadEvent.to_stage, LeadEvent.user_id)
                                 .order_by(LeadEvent.id)).all()
    assert [tuple(row) for row in history] == steps
    assert not [r for r in caplog.records if "failed as a whole" in r.getMessage()]  # written as one batch
    assert {e.payload["lead_id"] for e in db.session.scalars(select(LiveEvent).where(LiveEvent.name == "interest"))} == {
        results[0].value["lead"]["id"]}


@postgres_only
def test_a_client_id_stored_by_another_process_after_the_batch_looked_is_answered_as_a_replay(app, room, monkeypatch,
                                                                                              caplog):
    """Another process stores one of the batch's client ids between the batch's look-up and its write:
    the batch fails as a whole on the unique (person, client id), which is expected (no warning), and
    each interest is written alone: that one is answered with the stored interest, the others stored."""
    from app.leads import services as leads

    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"City {n} Commerce Bureau").id for n in range(3)]
    db.session.commit()
    looked_up = live._looked_up
    elsewhere = {}

    def store_elsewhere():
        person = db.session.get(User, people[1])
        facts, _ = live.interest_room(person, sid)
        values = leads.check_interest(person, facts, {"project_id": project, "level": "info", "client_id": "i-race-0001"})
        elsewhere["stored"] = leads.write_interest(person, facts, values)
        leads.complete_interests(elsewhere["stored"])
        db.session.commit()

    def racing(batch):
        found = looked_up(batch)
        in_threads([_in_app(app, store_elsewhere)])
        return found

    monkeypatch.setattr(live, "_looked_up", racing)
    _batched(monkeypatch, 3)
    with caplog.at_level("WARNING", logger="app.live.services"):
        results = in_threads([_express(app, user_id, sid, {"project_id": project, "level": "info",
                                                           "client_id": f"i-race-{n:04d}"})
                              for n, user_id in enumerate(people)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.duplicate for r in results] == [False, True, False]
    assert results[1].value["interest"]["id"] == elsewhere["stored"].interest["id"]
    assert _count(select(Interest).subquery()) == 3
    assert _count(select(LiveEvent).where(LiveEvent.name == "interest").subquery()) == 2  # the batch's, written alone
    assert not [r for r in caplog.records if "failed as a whole" in r.getMessage()]


@postgres_only
@pytest.mark.parametrize("change", ["a person deactivated", "the session ended"])
def test_a_batch_checks_its_kept_people_and_room_against_the_database_before_writing(app, room, monkeypatch, change):
    """Interests over live connections carry the person and room the process kept; the batch reads both
    (with its replays' look-up, in one round trip) and writes none whose facts changed meanwhile."""
    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"Town {n} Commerce Bureau").id for n in range(3)]
    kept = {person: live.KeptPerson.from_facts(tuple(db.session.execute(live._PEOPLE, {"ids": [person]}).one()))
            for person in people}
    live.interest_room(kept[people[0]], sid, kept=True)  # the room as this process keeps it
    if change == "a person deactivated":
        db.session.get(User, people[1]).active = False
    else:
        db.session.execute(FairSession.__table__.update().where(FairSession.id == sid).values(status="ended"))
    db.session.commit()
    db.session.remove()
    commit = _batched(monkeypatch, 3)

    def express(person: int, n: int):
        def call():
            with app.app_context(), app.test_request_context():
                try:
                    return live.express_interest(kept[person], sid, {"project_id": project, "level": "info",
                                                                     "client_id": f"i-kept-{n:04d}"})
                finally:
                    db.session.remove()
        return call

    results = in_threads([express(person, n) for n, person in enumerate(people)])
    assert commit.batches[0] == 3
    stale = [n for n, r in enumerate(results) if isinstance(r, live.StaleFacts)]
    assert stale == ([1] if change == "a person deactivated" else [0, 1, 2]), results
    written = sorted(db.session.scalars(select(Interest.client_id)))
    assert written == sorted(f"i-kept-{n:04d}" for n in range(3) if n not in stale)
    assert all(not isinstance(results[n], Exception) and results[n].duplicate is False for n in range(3) if n not in stale)


@postgres_only
def test_a_refusal_in_a_batch_is_that_interest_s_answer_alone_in_its_own_language(app, room, monkeypatch):
    sid, project = room["session"].id, room["project"].id
    monkeypatch.setitem(app.config, "LIVE_INTERESTS_PER_MINUTE", 1)
    quick = make_user("attendee", organisation="Baoding Commerce Bureau", locale="zh").id
    others = [make_user("attendee", organisation=f"City {n}").id for n in range(3)]
    live.express_interest(db.session.get(User, quick), sid,
                          {"project_id": project, "level": "info", "client_id": "i-quick-0001"})
    db.session.remove()
    commit = _batched(monkeypatch, 4)
    sends = [(quick, {"project_id": project, "level": "intent", "client_id": "i-quick-0002"})] + [
        (user_id, {"project_id": project, "level": "info", "client_id": f"i-other-{n:04d}"}) for n, user_id in enumerate(others)]
    results = in_threads([_express(app, user_id, sid, data) for user_id, data in sends])

    assert commit.batches[0] == 4
    assert isinstance(results[0], RateLimited) and "短时间内提交过多" in results[0].message, results[0]
    assert all(not isinstance(r, Exception) and not r.duplicate for r in results[1:]), results
    assert _count(select(Interest).where(Interest.client_id == "i-quick-0002").subquery()) == 0
    assert _count(select(Interest).where(Interest.client_id.like("i-other-%")).subquery()) == 3
    assert results[0].details["retry_after"] >= 1


@postgres_only
def test_a_batch_that_fails_as_a_whole_is_written_one_by_one_and_only_the_faulty_interest_fails(app, room, monkeypatch):
    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"City {n}").id for n in range(4)]
    commit = _batched(monkeypatch, 4)
    write, queue = live.leads.write_interest, live.leads.queue_interests

    def faulty(actor, room_, values, **kwargs):
        if values["client_id"] == "i-fault-0002":
            raise RuntimeError("a fault in one interest's rows")
        return write(actor, room_, values, **kwargs)

    def faulty_batch(driver, items, ids):  # the batch's statements fail with the faulty interest's
        if any(values["client_id"] == "i-fault-0002" for _, _, values, _, _ in items):
            raise RuntimeError("a fault in one interest's rows")
        return queue(driver, items, ids)

    monkeypatch.setattr(live.leads, "write_interest", faulty)
    monkeypatch.setattr(live.leads, "queue_interests", faulty_batch)
    sends = [(user_id, {"project_id": project, "level": "info", "client_id": f"i-fault-{n:04d}"})
             for n, user_id in enumerate(people)]
    results = in_threads([_express(app, user_id, sid, data) for user_id, data in sends])

    assert commit.batches[0] == 4
    assert isinstance(results[2], RuntimeError)
    assert [n for n, r in enumerate(results) if not isinstance(r, Exception)] == [0, 1, 3]
    assert sorted(db.session.scalars(select(Interest.client_id))) == ["i-fault-0000", "i-fault-0001", "i-fault-0003"]
    assert _count(select(LiveEvent).where(LiveEvent.name == "interest").subquery()) == 3


@postgres_only
def test_replays_in_a_batch_are_answered_from_the_batch_s_own_query(app, room, monkeypatch):
    from sqlalchemy import event

    sid, project = room["session"].id, room["project"].id
    person, other = (make_user("attendee", organisation=f"City {n} Commerce Bureau").id for n in range(2))
    stored = live.express_interest(db.session.get(User, person), sid,
                                   {"project_id": project, "level": "meeting", "note": "March", "client_id": "i-stored-001"})
    db.session.remove()
    _batched(monkeypatch, 5)
    sends = [(person, {"project_id": project, "level": "meeting", "note": "March", "client_id": "i-stored-001"}),
             (person, {"project_id": project, "level": "intent", "client_id": "i-stored-001"}),  # other content
             (other, {"project_id": project, "level": "info", "client_id": "i-fresh-0001"}),
             (other, {"project_id": project, "level": "info", "client_id": "i-fresh-0001"}),  # twice at once
             (other, {"project_id": project, "level": "meeting", "client_id": "i-fresh-0001"})]  # and changed
    statements = []
    listen = lambda conn, cursor, statement, *args: statements.append(" ".join(statement.split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        results = in_threads([_express(app, user_id, sid, data) for user_id, data in sends])
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert results[0].duplicate is True and results[0].value == {**stored.value, "lead": results[0].value["lead"]}
    assert results[0].value["interest"] == stored.value["interest"]
    assert getattr(results[1], "code", None) == "client_id_reused"
    # Whichever of the three sends of i-fresh-0001 the batch met first is stored (the threads queue in
    # any order); a send with the same content is its replay, one with other content is refused.
    fresh = list(zip([data for _, data in sends[2:]], results[2:]))
    [winner] = [data for data, r in fresh if not isinstance(r, Exception) and r.duplicate is False]
    stored_fresh = next(r for data, r in fresh if not isinstance(r, Exception)).value["interest"]
    for data, r in fresh:
        if data == winner:
            assert not isinstance(r, Exception) and r.value["interest"] == stored_fresh
        else:
            assert getattr(r, "code", None) == "client_id_reused"
    assert sum(not isinstance(r, Exception) and r.duplicate for _, r in fresh) == (1 if winner == sends[2][1] else 0)
    assert _count(select(Interest).subquery()) == 2
    # No replay looked itself up: the batch found the stored one with its lead in one query.
    assert not [s for s in statements if "WHERE interests.user_id = " in s], statements
    assert sum("FROM interests JOIN leads" in s for s in statements) == 1, statements


@postgres_only
def test_a_database_error_inside_a_batch_leaves_nothing_and_the_session_usable(app, room):
    """A batch's statements go to PostgreSQL together (psycopg's pipeline mode, as the live room sends
    them with its commit): one row the server refuses aborts the batch, the rollback leaves nothing of
    it, and the next write works."""
    from app.leads import services as leads

    sid, project = room["session"].id, room["project"].id
    people = [db.session.get(User, make_user("attendee", organisation=f"City {n}").id) for n in range(2)]
    facts, _ = live.interest_room(people[0], sid)

    def write(items):
        for person, *_ in items:
            person.organisation.name  # loaded first: nothing may be read through the session in pipeline mode
        driver = db.session.connection().connection.driver_connection
        with driver.cursor() as cursor:
            cursor.execute(leads.PG_NEW_INTEREST_IDS, {"n": len(items)})
            ids = [interest_id for (interest_id,) in cursor.fetchall()]
        with driver.pipeline():
            _, stored = leads.queue_interests(driver, items, ids)
            driver.commit()
        return stored()

    items = [(person, facts, leads.check_interest(person, facts, {"project_id": project, "level": "info",
                                                                   "client_id": f"i-pipe-{n:05d}"}), None, None)
             for n, person in enumerate(people)]
    items[1][2]["level"] = "x" * 500  # longer than the column: the server refuses the batch's statement
    with pytest.raises(Exception):
        write(items)
    db.session.rollback()
    assert _count(select(Interest).subquery()) == 0 and _count(select(Lead).subquery()) == 0
    items[1][2]["level"] = "info"
    written = write(items)
    db.session.commit()
    assert [w.interest["client_id"] for w in written] == ["i-pipe-00000", "i-pipe-00001"]
    assert [w.interest["id"] for w in written] == sorted(w.interest["id"] for w in written)
    assert _count(select(Interest).subquery()) == 2 and _count(select(LeadEvent).subquery()) == 2


@postgres_only
def test_two_processes_batches_over_the_same_leads_in_opposite_orders_both_commit(app, room):
    """Two batches (two processes' writers) name the same leads, new and then existing, given in
    opposite orders, at once: both commit every time, each lead made once and moved once (the order a
    round locks and inserts its leads in, whatever the caller's: the test of `_rounds` above)."""
    from app.leads import services as leads

    sid, projects = room["session"].id, [room["project"].id, room["other"].id]
    people = [db.session.get(User, make_user("attendee", organisation=f"Town {n} Commerce Bureau").id)
              for n in range(6)]
    colleagues = [db.session.get(User, make_user("attendee", organisation=f"Town {n} Commerce Bureau").id)
                  for n in range(6)]
    db.session.commit()
    ids = [(p.id, c.id) for p, c in zip(people, colleagues)]
    db.session.remove()

    def batch(side: int, attempt: int, reverse: bool):
        def call():
            with app.app_context():
                try:
                    senders = [db.session.get(User, pair[side]) for pair in ids]
                    facts, _ = live.interest_room(senders[0], sid)
                    items = [(person, facts, leads.check_interest(person, facts, {
                        "project_id": project, "level": "intent" if attempt else "info",
                        "client_id": f"i-both-{side}-{attempt}-{person.id}-{project}"}), None, None)
                        for person in senders for project in projects]
                    for person in senders:
                        person.organisation.name  # loaded first: nothing is read through the session in pipeline mode
                    driver = db.session.connection().connection.driver_connection
                    with driver.cursor() as cursor:
                        cursor.execute(leads.PG_NEW_INTEREST_IDS, {"n": len(items)})
                        new_ids = [found for (found,) in cursor.fetchall()]
                    with driver.pipeline():
                        _, stored = leads.queue_interests(driver, items[::-1] if reverse else items, new_ids)
                        driver.commit()
                    return len(stored())
                finally:
                    db.session.remove()
        return call

    for attempt in range(3):
        results = in_threads([batch(0, attempt, False), batch(1, attempt, True)])
        assert results == [12, 12], results
    assert _count(select(Interest).subquery()) == 72 and _count(select(Lead).subquery()) == 12
    steps = db.session.execute(select(LeadEvent.from_stage, LeadEvent.to_stage)).all()
    assert sorted(steps, key=str) == sorted([(None, "partner_identified")] * 12
                                            + [("partner_identified", "preliminary_intent")] * 12, key=str)


@postgres_only
@pytest.mark.parametrize("theirs, ours, stage, history", [
    ("partner_identified", "intent", "preliminary_intent", [("partner_identified", "preliminary_intent")]),
    ("preliminary_intent", "info", "preliminary_intent", []),
])
def test_a_lead_another_transaction_made_while_the_batch_waited_is_moved_from_its_stage(app, room, theirs, ours,
                                                                                       stage, history):
    """The batch's statement does not see a lead another transaction is making (not committed when the
    statement started): its insert waits for that one, then moves the lead as an interest would. The
    batch's rule for that case (`_PG_LEADS_AND_INTERESTS`' `r`) answers as `_lead_outcome` does: not
    made by this batch; moved from the stage the other made it at, or not moved."""
    import threading

    from sqlalchemy import text as sql

    from app.leads import services as leads
    from app.types import utcnow

    sid, project = room["session"].id, room["project"].id
    people = [db.session.get(User, make_user("attendee", organisation=f"Cangzhou {n} Commerce Bureau").id)
              for n in range(2)]
    organisation = people[0].organisation_id
    facts, _ = live.interest_room(people[0], sid)
    items = [(person, facts, leads.check_interest(person, facts, {"project_id": project, "level": ours,
                                                                   "client_id": f"i-wait-{n:04d}"}), None, None)
             for n, person in enumerate(people)]
    db.session.commit()  # the people and their organisations, for the other transaction to see
    for person in people:
        person.organisation.name  # loaded first: nothing is read through the session in pipeline mode
    driver = db.session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(leads.PG_NEW_INTEREST_IDS, {"n": 2})
        ids = [found for (found,) in cursor.fetchall()]
    written = {}

    def write():  # on this test's connection, in a thread of its own (with the app's settings)
        try:
            with app.app_context(), driver.pipeline():
                _, stored = leads.queue_interests(driver, items, ids)
                driver.commit()
            written["stored"] = stored()
        except Exception as error:  # the test looks at it
            written["error"] = error

    with db.engine.connect() as other:  # the other process: its lead made, not committed yet
        other.execute(sql("INSERT INTO leads (project_id, organisation_id, stage, stage_changed_at, last_progress_at,"
                          " created_at, updated_at) VALUES (:p, :o, :s, :t, :t, :t, :t)"),
                      {"p": project, "o": organisation, "s": theirs, "t": utcnow()})
        batch = threading.Thread(target=write)
        batch.start()
        batch.join(0.5)
        waited = batch.is_alive()
        other.commit()
    batch.join(10)
    assert waited and not batch.is_alive() and "error" not in written, written
    db.session.commit()

    mine = written["stored"][0]
    assert mine.lead["stage"] == stage
    steps = db.session.execute(select(LeadEvent.from_stage, LeadEvent.to_stage)
                               .where(LeadEvent.lead_id == mine.lead["id"])).all()
    assert [tuple(step) for step in steps] == history  # never "made" by this batch: the other made it
    assert _count(select(Lead).where(Lead.organisation_id == organisation).subquery()) == 1


@postgres_only
def test_a_batch_s_history_notifications_and_events_go_with_its_commit_and_are_stored_as_sent(app, room, monkeypatch):
    """After the leads, the batch's tail (history, notifications, the numbered events) is queued in
    psycopg's pipeline mode and the COMMIT goes with it: what the room is sent is what the event log
    stores, numbered in one range."""
    import psycopg

    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"City {n} Commerce Bureau").id for n in range(3)]
    db.session.commit()
    commits = []
    original = psycopg.Connection.commit
    monkeypatch.setattr(psycopg.Connection, "commit",
                        lambda self: commits.append(self._pipeline is not None) or original(self))
    _batched(monkeypatch, 3)
    notes = ['Land "near the port", 50 mu', "路径 C:\\parks\\新区 {a,b}", "Visit in March 🚄, NULL"]  # what a text array escapes
    results = in_threads([_express(app, person, sid, {"project_id": project, "level": "intent", "note": notes[n],
                                                      "client_id": f"i-tail-{n:04d}"})
                          for n, person in enumerate(people)])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert commits[0] is True  # the batch's own commit, in the pipeline with its tail
    assert sorted(event.payload["note"] for r in results for event in r.events) == sorted(notes)
    sent = sorted((event.payload for r in results for event in r.events), key=lambda body: body["seq"])
    stored = {e.seq: e.payload for e in db.session.scalars(select(LiveEvent).where(LiveEvent.name == "interest"))}
    assert [body["seq"] for body in sent] == list(range(sent[0]["seq"], sent[0]["seq"] + 3))
    assert [stored[body["seq"]] for body in sent] == sent
    assert _count(select(LeadEvent).subquery()) == 3  # each lead made, each with its history
    folded = [n.fold_count for n in db.session.scalars(select(Notification).where(Notification.kind == "interests"))]
    assert folded and set(folded) == {3}  # each organiser: one row counting the batch's three


@postgres_only
def test_a_batch_writes_the_presenter_s_row_per_interest_in_one_statement_as_one_at_a_time_would(app, room,
                                                                                                  monkeypatch):
    """The presenter hears of each interest in a row of its own (no fold key): a batch writes those rows
    in one insert of arrays, not one statement per row, and they read as the rows of the same interests
    written one at a time (texts, notes that a text array would escape, link, language columns)."""
    import psycopg

    sid, project, agent = room["session"].id, room["project"].id, room["agent"].id
    people = [make_user("attendee", organisation=f"City {n} Commerce Bureau").id for n in range(3)]
    db.session.commit()
    notes = ['Land "near the port", 50 mu', "路径 C:\\parks\\新区 {a,b}", "Visit in March 🚄, NULL"]
    sent = []
    for name in ("execute", "executemany"):
        original = getattr(psycopg.Cursor, name)
        monkeypatch.setattr(psycopg.Cursor, name, lambda self, query, *args, _original=original, _name=name, **kwargs:
                            sent.append((_name, str(query))) or _original(self, query, *args, **kwargs))
    _batched(monkeypatch, 3)
    results = in_threads([_express(app, person, sid, {"project_id": project, "level": "intent", "note": notes[n],
                                                      "client_id": f"i-pres-{n:04d}"})
                          for n, person in enumerate(people)])
    assert not [r for r in results if isinstance(r, Exception)], results
    to_notifications = [(name, query) for name, query in sent if "INSERT INTO notifications" in query]
    assert [name for name, query in to_notifications if "unnest" in query] == ["execute"]  # the three rows at once
    assert all("unnest" in query or "ON CONFLICT" in query for _, query in to_notifications)  # the rest: folded rows
    monkeypatch.undo()

    _batched(monkeypatch, 1)  # the same interests again, each written alone
    for n, person in enumerate(people):
        [alone] = in_threads([_express(app, person, sid, {"project_id": project, "level": "intent", "note": notes[n],
                                                          "client_id": f"i-alone-{n:04d}"})])
        assert not isinstance(alone, Exception), alone
    columns = ("kind", "title", "title_zh", "title_en", "body", "body_zh", "body_en", "link", "fold_key", "fold_count")
    rows = db.session.scalars(select(Notification).where(Notification.user_id == agent, Notification.kind == "interest")
                              .order_by(Notification.id)).all()
    written = sorted(tuple(getattr(row, c) for c in columns) for row in rows)
    assert len(rows) == 6 and written[0::2] == written[1::2]  # each batch row has its one-at-a-time twin
    assert sorted(row[4] for row in written[0::2]) == sorted(notes)


@postgres_only
def test_a_failure_in_the_batch_s_tail_leaves_nothing_of_it_and_each_interest_is_written_alone(app, room,
                                                                                               monkeypatch):
    from app.notifications import services as notifications

    sid, project = room["session"].id, room["project"].id
    people = [make_user("attendee", organisation=f"City {n} Commerce Bureau").id for n in range(3)]
    db.session.commit()
    monkeypatch.setattr(notifications, "_ADD_FOLDED_PSYCOPG", "INSERT INTO no_such_table VALUES (%(user_id)s)")
    _batched(monkeypatch, 3)
    results = in_threads([_express(app, person, sid, {"project_id": project, "level": "info",
                                                      "client_id": f"i-tail-{n:04d}"})
                          for n, person in enumerate(people)])

    assert [r.duplicate for r in results] == [False] * 3, results  # each in a transaction of its own
    assert _count(select(Interest).subquery()) == 3 and _count(select(LeadEvent).subquery()) == 3
    assert sorted(e.seq for e in db.session.scalars(select(LiveEvent).where(LiveEvent.name == "interest"))) \
        == sorted(event.payload["seq"] for r in results for event in r.events)


def test_a_caller_that_never_used_its_session_lets_nothing_go(app):
    """A kept interest waiting for its batch has read nothing: letting go makes no session to close."""
    from app.live import services as live

    db.session.remove()
    live._let_go()
    assert not db.session.registry.has()
    db.session.execute(select(func.count()).select_from(Interest))
    live._let_go()  # one that read gives its connection back
    assert not db.session().in_transaction()


def test_the_writer_of_interests_waits_for_the_rest_of_a_burst_as_configured(app, monkeypatch):
    """`LIVE_INTEREST_GATHER_MS` (8 by default): the first interest of a burst waits that long before its
    batch is taken, so a burst's interests make a few large batches (README, BENCHMARKS.md)."""
    slept = []
    monkeypatch.setattr(live.time, "sleep", slept.append)
    assert app.config["LIVE_INTEREST_GATHER_MS"] == 8
    live._interests._pause()
    app.config["LIVE_INTEREST_GATHER_MS"] = 0
    live._interests._pause()
    assert slept == [0.008, 0.0]


def test_the_readers_of_joins_and_tokens_wait_for_the_rest_of_a_wave_as_configured(app, monkeypatch):
    """`LIVE_JOIN_GATHER_MS`: the reader of a batch of joins, or of connects' tokens, waits that long
    before it takes the queue, so a wave of people joining makes fewer, larger reads (BENCHMARKS.md)."""
    from config import Config

    slept = []
    monkeypatch.setattr(live.time, "sleep", slept.append)
    assert app.config["LIVE_JOIN_GATHER_MS"] == Config.LIVE_JOIN_GATHER_MS
    app.config["LIVE_JOIN_GATHER_MS"] = 5
    live._joins._pause()
    live._tokens._pause()
    app.config["LIVE_JOIN_GATHER_MS"] = 0
    live._joins._pause()
    assert slept == [0.005, 0.005, 0.0]
