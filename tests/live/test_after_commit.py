"""A question, a vote and a moderation answer with what their transaction built: after the commit nothing
is read again (a reload there began another transaction whose rollback, a round trip after the
broadcast, held the acknowledgement back until the whole room had been written to)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from tests.conftest import sql_seen
from tests.live.test_events import NS, room  # noqa: F401  (fixture)


@contextmanager
def after_commit():
    """The statements sent after the last commit while the block runs."""
    seen: list[str] = []

    def statement(conn, cursor, text, *args):
        seen.append(" ".join(text.split()))

    def committed(conn):
        seen.clear()

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", committed)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", committed)


def _emit(client, name, data):
    return client.emit(name, data, namespace=NS, callback=True)


def test_ask_vote_and_moderate_read_nothing_after_their_commit(room, connect):
    sid = room["session"].id
    asker, voter, organiser = connect(room["sjz"]), connect(room["ts"]), connect(room["organiser"])
    for client in (asker, voter, organiser):
        assert _emit(client, "join", {"session_id": sid})["ok"] is True

    with after_commit() as asking:
        asked = _emit(asker, "ask", {"session_id": sid, "text": "Rail links to Tianjin port?", "client_id": "ac-ask-00001"})
    assert asked["ok"] is True and asking == [], asking
    question = asked["question"]
    assert (question["text"], question["author"], question["mine"], question["votes"]) == (
        "Rail links to Tianjin port?", "Zhao Min", True, 0)
    assert question["organisation"] == "Shijiazhuang Commerce Bureau"

    with after_commit() as voting:
        voted = _emit(voter, "vote", {"question_id": question["id"]})
    assert voted["ok"] is True and voting == [], voting
    assert (voted["question"]["votes"], voted["question"]["voted"], voted["question"]["mine"]) == (1, True, False)

    with after_commit() as moderating:
        pinned = _emit(organiser, "moderate", {"question_id": question["id"], "action": "pin"})
    assert pinned["ok"] is True and moderating == [], moderating
    assert (pinned["question"]["pinned"], pinned["question"]["votes"], pinned["question"]["author"]) == (True, 1, "Zhao Min")

    # What they answered is what is stored.
    state = _emit(connect(room["ts"]), "join", {"session_id": sid})
    assert [(q["id"], q["votes"], q["pinned"], q["updated_at"]) for q in state["questions"]] == [
        (question["id"], 1, True, pinned["question"]["updated_at"])]


def test_a_vote_reads_its_room_in_one_statement_and_a_question_reads_none(room, connect):
    """A vote reads the room's row (`_ROOM`: status, times, the fair's publication, the event number) with
    its presenters kept per process, instead of the session, then its fair, then its presenters; a
    question reads no room at all: its insert checks the session itself (`_NEW_QUESTION`)."""
    sid = room["session"].id
    asker, voter = connect(room["sjz"]), connect(room["ts"])
    for client in (asker, voter):
        assert _emit(client, "join", {"session_id": sid})["ok"] is True
    with sql_seen() as asking:
        question = _emit(asker, "ask", {"session_id": sid, "text": "Power prices for a data centre?",
                                        "client_id": "ac-ask-00002"})["question"]
    with sql_seen() as voting:
        assert _emit(voter, "vote", {"question_id": question["id"]})["ok"] is True
    for seen, expected in ((asking, 0), (voting, 1)):
        rooms = [s for s in seen if s.startswith("SELECT fair_sessions.status") and "live_counters" in s]
        loads = [s for s in seen if "FROM fair_sessions" in s and s not in rooms and not s.startswith("INSERT")]
        fairs = [s for s in seen if "FROM fairs" in s and "FROM fair_sessions" not in s]
        assert len(rooms) == expected and loads == [] and fairs == [], seen


def test_a_question_s_event_is_numbered_with_its_commit(room, connect, monkeypatch):
    """Every event of a room moves the session's counter row: the question's event is numbered in the
    round trip that commits (psycopg's pipeline mode on PostgreSQL), so the row is not held across the
    worker's turns; the event is stored with the number the room heard."""
    from sqlalchemy import select

    from app.live.models import LiveEvent

    sid = room["session"].id
    asker, listener = connect(room["sjz"]), connect(room["ts"])
    for client in (asker, listener):
        assert _emit(client, "join", {"session_id": sid})["ok"] is True
    listener.get_received(NS)
    commits = []  # PostgreSQL: each driver commit, and whether it went in a pipeline with statements
    if db.engine.dialect.name == "postgresql":
        import psycopg

        original = psycopg.Connection.commit
        monkeypatch.setattr(psycopg.Connection, "commit", lambda self: commits.append(self._pipeline is not None)
                            or original(self))
    asked = _emit(asker, "ask", {"session_id": sid, "text": "Bonded warehouses near Caofeidian?",
                                 "client_id": "ac-ask-00003"})
    assert asked["ok"] is True
    heard = [m["args"][0] for m in listener.get_received(NS) if m["name"] == "question"]
    stored = db.session.execute(select(LiveEvent.seq, LiveEvent.payload).where(LiveEvent.session_id == sid,
                                                                                LiveEvent.name == "question")).one()
    assert [event["seq"] for event in heard] == [stored.seq] and stored.payload["id"] == asked["question"]["id"]
    if db.engine.dialect.name == "postgresql":  # the first, the question's, with its statements (the next ends
        assert commits[:1] == [True], commits      # the session's transaction, which is over: a no-op)
