"""A join storm reads the room once: what every joiner gets alike (the first questions, whether there are
more, the interest counts) is kept per process while the room's seq stands (`LIVE_JOIN_CACHE_SECONDS`),
and each joiner still gets its own marks."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from tests.factories import make_user
from tests.live.test_events import NS, room  # noqa: F401  (fixture)


def _emit(client, name, data):
    return client.emit(name, data, namespace=NS, callback=True)


@contextmanager
def page_reads():
    """How many times the room's question page (its ordered query) is read while the block runs."""
    reads = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "questions.pinned DESC" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield reads
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_joiners_share_one_reading_until_the_seq_moves(app, room, connect):
    app.config["LIVE_JOIN_CACHE_SECONDS"] = 60
    sid = room["session"].id
    asker = connect(room["sjz"])
    assert _emit(asker, "join", {"session_id": sid})["ok"]
    question = _emit(asker, "ask", {"session_id": sid, "text": "Land prices in Caofeidian?",
                                    "client_id": "q-cache-000001"})["question"]
    others = [room["ts"], make_user("attendee", organisation="Xingtai Commerce Bureau", city="Xingtai")]

    with page_reads() as reads:
        mine = _emit(asker, "join", {"session_id": sid})
        theirs = [_emit(connect(person), "join", {"session_id": sid}) for person in others]
    assert len(reads) == 1  # one reading for three joins
    assert [(q["id"], q["mine"], q["voted"]) for q in mine["questions"]] == [(question["id"], True, False)]
    for state in theirs:
        assert [(q["id"], q["mine"], q["voted"], q["votes"]) for q in state["questions"]] == [(question["id"], False, False, 0)]

    voter = connect(room["ts"])
    assert _emit(voter, "join", {"session_id": sid})["ok"]
    assert _emit(voter, "vote", {"question_id": question["id"]})["ok"]
    with page_reads() as reads:
        after = _emit(voter, "join", {"session_id": sid})
        again = _emit(asker, "join", {"session_id": sid})
    assert len(reads) == 1  # the vote moved the seq: read once more, then kept again
    assert [(q["votes"], q["voted"], q["mine"]) for q in after["questions"]] == [(1, True, False)]
    assert [(q["votes"], q["voted"], q["mine"]) for q in again["questions"]] == [(1, False, True)]
    assert after["seq"] == again["seq"] > mine["seq"]


def test_without_the_cache_every_join_reads_the_room(app, room, connect):
    app.config["LIVE_JOIN_CACHE_SECONDS"] = 0
    sid = room["session"].id
    with page_reads() as reads:
        for person in (room["sjz"], room["ts"]):
            assert _emit(connect(person), "join", {"session_id": sid})["ok"]
    assert len(reads) == 2


def test_staff_and_attendees_are_kept_apart(app, room, connect):
    """Staff see hidden questions (with their text); attendees never get the staff's copy."""
    app.config["LIVE_JOIN_CACHE_SECONDS"] = 60
    sid = room["session"].id
    asker = connect(room["sjz"])
    _emit(asker, "join", {"session_id": sid})
    hidden = _emit(asker, "ask", {"session_id": sid, "text": "Off topic", "client_id": "q-cache-hidden1"})["question"]
    organiser = connect(room["organiser"])
    _emit(organiser, "join", {"session_id": sid})
    assert _emit(organiser, "moderate", {"question_id": hidden["id"], "action": "hide"})["ok"]
    staff = _emit(organiser, "join", {"session_id": sid})
    attendee = _emit(connect(room["ts"]), "join", {"session_id": sid})
    assert [q["text"] for q in staff["questions"]] == ["Off topic"]
    assert attendee["questions"] == []


def test_a_joiner_behind_the_kept_page_takes_it_with_its_seq(app, room, connect):
    """A join that read the room's seq before a question moved it takes the newer kept page and that
    page's seq (the events after it are what the page lacks), instead of reading an older page again."""
    from app.live import services as live

    app.config["LIVE_JOIN_CACHE_SECONDS"] = 60
    sid = room["session"].id
    asker = connect(room["sjz"])
    first = _emit(asker, "join", {"session_id": sid})
    question = _emit(asker, "ask", {"session_id": sid, "text": "Rail links to Tianjin port?",
                                    "client_id": "q-cache-000010"})["question"]
    newer = _emit(connect(room["ts"]), "join", {"session_id": sid})  # reads the page at the new seq
    assert newer["seq"] > first["seq"]
    session = live.live_room(room["ts"], sid)
    with page_reads() as reads:
        questions, more, counts, seq = live._join_page(room["ts"], session, first["seq"], (set(), set()))
    assert reads == [] and seq == newer["seq"] and [q["id"] for q in questions] == [question["id"]]


def test_joiners_of_a_moved_room_wait_for_one_reading(app, room, monkeypatch):
    """When the seq moves during a storm, one joiner reads the new page; those arriving meanwhile wait for
    it instead of each reading it."""
    import threading
    import time

    from app.live import services as live

    app.config["LIVE_JOIN_CACHE_SECONDS"] = 60
    readings = []

    def slow_first_questions(actor, session):
        readings.append(threading.get_ident())
        time.sleep(0.3)  # the reading is under way while the others arrive
        return [{"id": 1, "text": "Water rights in Chengde?"}], False

    monkeypatch.setattr(live, "_first_questions", slow_first_questions)
    monkeypatch.setattr(live, "_counts", lambda session: {"1": 2})
    session = live.live_room(room["ts"], room["session"].id)
    answers = []

    def joining(delay):
        time.sleep(delay)
        with app.app_context():
            answers.append(live._join_page(room["ts"], session, 7, ({1}, set())))

    threads = [threading.Thread(target=joining, args=(0.05 * n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(readings) == 1
    assert answers == [([{"id": 1, "text": "Water rights in Chengde?", "mine": True, "voted": False}], False, {"1": 2}, 7)] * 4
