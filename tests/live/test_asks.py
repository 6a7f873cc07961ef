"""A question: written with one statement that also checks the room (a session the person may see, not
ended or cancelled) and tells a resend (the person's client id taken), with no read of the room before
it; its answer and broadcast built from what was written with nothing read back; a resend is the stored question
(also once the session has ended), the same id with other text a conflict, and concurrent resends of
one id make one question. Over a live connection, an ask right after a read of the person uses that
read (as a join and a vote do); an older one is read again."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.errors import Conflict, NotFound, RateLimited, ValidationFailed
from app.extensions import db
from app.fairs.models import FairSession
from app.live import services as live
from app.live.models import LiveEvent, Question
from tests.conftest import at_once
from tests.live.test_events import _emit, _events, room  # noqa: F401  (fixture)
from tests.live.test_kept_facts import Seen, _person_read

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _client_id_read(statement: str) -> bool:  # `_QUESTION_ID_BY_CLIENT_ID`
    return statement.startswith("SELECT questions.id") and "questions.client_id" in statement


def test_the_answer_and_the_broadcast_are_the_question_as_stored(room, connect):  # noqa: F811
    listener = connect(room["ts"])
    assert _emit(listener, "join", {"session_id": room["session"].id})["ok"] is True
    listener.get_received("/live")
    ack = _emit(connect(room["sjz"]), "ask", {"session_id": room["session"].id, "text": "  Is there rail freight?  ",
                                               "client_id": "ask-stored-01"})
    assert ack["ok"] is True and ack["duplicate"] is False
    shown = {k: v for k, v in ack["question"].items() if k not in ("mine", "voted")}
    db.session.expire_all()
    stored = live.question_dict(db.session.get(Question, shown["id"]))
    assert shown == stored  # text trimmed, author, organisation in both languages, times: as a later read gives them
    assert stored["text"] == "Is there rail freight?" and stored["author"] == "Zhao Min"
    assert stored["organisation"] == "Shijiazhuang Commerce Bureau"
    [(_, heard)] = _events(listener, "question")
    assert heard == {**stored, "seq": heard["seq"]}


def test_the_answer_names_the_organisation_in_both_languages_as_stored(room, connect):  # noqa: F811
    """The kept person's organisation (read with the token) gives the answer its two names, as a later
    read of the stored question does."""
    from app.accounts.models import Organisation

    organisation = db.session.get(Organisation, room["sjz"].organisation_id)
    organisation.name_zh, organisation.name_en = "石家庄市商务局", "Shijiazhuang Commerce Bureau"
    db.session.commit()
    ack = _emit(connect(room["sjz"]), "ask", {"session_id": room["session"].id, "text": "港口在哪里？",
                                               "client_id": "ask-i18n-0001"})
    assert ack["ok"] is True
    assert ack["question"]["organisation_i18n"] == {"zh": "石家庄市商务局", "en": "Shijiazhuang Commerce Bureau"}
    db.session.expire_all()
    stored = live.question_dict(db.session.get(Question, ack["question"]["id"]))
    assert {k: v for k, v in ack["question"].items() if k not in ("mine", "voted")} == stored


def test_a_new_question_is_one_insert_with_no_read_of_its_client_id_first(app, room):  # noqa: F811
    asker, sid = db.session.get(User, room["sjz"].id), room["session"].id
    with Seen() as seen:
        live.ask(asker, sid, "Which port serves the park?", "ask-insert-01")
    inserts = [s for s in seen.statements if s.startswith("INSERT INTO questions")]
    assert len(inserts) == 1 and "ON CONFLICT (user_id, client_id) DO NOTHING" in inserts[0], seen.statements
    assert not any(_client_id_read(s) for s in seen.statements), seen.statements
    before = seen.statements[:seen.statements.index(inserts[0])]
    assert not any("fair_sessions" in s for s in before), "\n".join(before)  # the insert checks the room itself
    after = seen.statements[seen.statements.index(inserts[0]) + 1:]
    assert not any(s.startswith("SELECT") for s in after), "\n".join(after)  # nothing read back
    assert _count(Question) == 1 and _count(LiveEvent) == 1


def test_a_resend_is_the_stored_question_and_is_not_counted_against_the_limit(app, room):  # noqa: F811
    app.config["LIVE_QUESTIONS_PER_MINUTE"] = 1
    asker, sid = room["sjz"], room["session"].id
    first = live.ask(asker, sid, "Is there a bonded zone?", "ask-resend-01")
    again = live.ask(asker, sid, "Is there a bonded zone?", "ask-resend-01")  # over the limit if it were counted
    assert again.duplicate is True and again.value == first.value
    with pytest.raises(RateLimited):
        live.ask(asker, sid, "And the customs office?", "ask-resend-02")
    db.session.rollback()
    assert _count(Question) == 1 and _count(LiveEvent) == 1


def test_a_client_id_used_for_another_question_is_a_conflict_and_writes_nothing(app, room):  # noqa: F811
    asker, sid = room["sjz"], room["session"].id
    live.ask(asker, sid, "Is there a bonded zone?", "ask-reused-01")
    with pytest.raises(Conflict) as refused:
        live.ask(asker, sid, "Something else entirely?", "ask-reused-01")
    assert refused.value.code == "client_id_reused"
    db.session.rollback()
    assert _count(Question) == 1 and _count(LiveEvent) == 1


def test_after_the_session_ends_a_resend_is_answered_and_a_new_question_refused(app, room):  # noqa: F811
    asker, sid = room["sjz"], room["session"].id
    first = live.ask(asker, sid, "Is there a bonded zone?", "ask-ended-01")
    db.session.get(FairSession, sid).status = "ended"
    db.session.commit()
    again = live.ask(asker, sid, "Is there a bonded zone?", "ask-ended-01")
    assert again.duplicate is True and again.value["id"] == first.value["id"]
    with pytest.raises(Conflict) as refused:
        live.ask(asker, sid, "A new one?", "ask-ended-02")
    assert refused.value.code == "session_closed"
    db.session.rollback()
    assert _count(Question) == 1


def test_no_question_where_the_person_may_not_ask_and_the_refusal_says_why(app, room):  # noqa: F811
    """The insert's own check of the room refuses as reading the room first did: a session of an
    unpublished fair is not found but for an organiser, one that does not exist is not found (also with
    text that would be refused), a cancelled one is closed; nothing is written for any of them."""
    from tests.factories import make_fair, make_session

    asker, organiser = room["sjz"], room["organiser"]
    hidden = make_session(make_fair(organiser, publish=False), organiser, title="Not yet announced")
    with pytest.raises(NotFound):
        live.ask(asker, hidden.id, "Is there a bonded zone?", "ask-hidden-01")
    db.session.rollback()
    with pytest.raises(NotFound):
        live.ask(asker, hidden.id, "   ", "ask-hidden-02")  # not found before the text is judged
    db.session.rollback()
    with pytest.raises(NotFound):
        live.ask(asker, 987654, "Is there a bonded zone?", "ask-missing-01")
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        live.ask(asker, room["session"].id, "   ", "ask-blank-01")
    db.session.rollback()
    assert _count(Question) == 0 and _count(LiveEvent) == 0
    assert live.ask(organiser, hidden.id, "Rehearsal: is the sound on?", "ask-hidden-03").value["session_id"] == hidden.id
    db.session.get(FairSession, room["session"].id).status = "cancelled"
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        live.ask(asker, room["session"].id, "Is there a bonded zone?", "ask-cancelled-01")
    assert refused.value.code == "session_closed"
    db.session.rollback()
    assert _count(Question) == 1 and _count(LiveEvent) == 1


@postgres_only
def test_concurrent_resends_of_one_question_make_one(app, room):  # noqa: F811
    sid, user_id = room["session"].id, room["sjz"].id
    results, errors = at_once(app, 6, lambda: live.ask(db.session.get(User, user_id), sid, "Rail freight?", "ask-race-0001"))
    assert errors == []
    assert sorted(r.duplicate for r in results) == [False] + [True] * 5
    assert len({r.value["id"] for r in results}) == 1
    assert _count(Question) == 1 and _count(LiveEvent) == 1


def test_an_ask_right_after_a_read_of_the_person_uses_it_and_an_old_read_is_read_again(app, room, connect):  # noqa: F811
    """As a join and a vote: within LIVE_PERSON_FRESH_SECONDS of the connection's last read of the person
    (here the token check's), an ask uses it; later, the person is read again and a deactivated one refused."""
    client, sid = connect(room["sjz"]), room["session"].id
    with Seen() as seen:
        assert _emit(client, "ask", {"session_id": sid, "text": "Rail freight?", "client_id": "ask-kept-0001"})["ok"]
    assert not any(_person_read(s) for s in seen.statements), seen.statements
    app.config["LIVE_PERSON_FRESH_SECONDS"] = 0
    with Seen() as seen:
        assert _emit(client, "ask", {"session_id": sid, "text": "Customs?", "client_id": "ask-kept-0002"})["ok"]
    assert sum(_person_read(s) for s in seen.statements) == 1, "\n".join(seen.statements)
    db.session.get(User, room["sjz"].id).active = False
    db.session.commit()
    refused = _emit(client, "ask", {"session_id": sid, "text": "Power supply?", "client_id": "ask-kept-0003"})
    assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"
    assert _count(Question) == 2
