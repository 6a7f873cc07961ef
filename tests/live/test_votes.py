"""A vote: one per person, written with the question's tally in one statement (PostgreSQL; two on
SQLite) and nothing read back; a resend is a duplicate that is not counted against the person's
limit, a refusal takes the vote back, and a person voting from two devices at once counts once."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from app.errors import RateLimited
from app.extensions import db
from app.live import services as live
from app.live.models import Question, QuestionVote
from tests.conftest import at_once
from tests.factories import make_user
from tests.live.test_events import room  # noqa: F401  (fixture)
from tests.live.test_interest_ingest import Statements

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def asked(app, room, monkeypatch):  # noqa: F811
    monkeypatch.setattr(live, "question_votes_changed", lambda *args: None)  # the room's tally: tests/live/test_events.py
    question = live.ask(room["sjz"], room["session"].id, "Where is the nearest bonded zone?", "q-votes-00001").value
    return question["id"]


def _tally(question_id: int) -> tuple[int, int]:
    db.session.expire_all()
    votes = db.session.get(Question, question_id).votes
    rows = db.session.scalar(select(func.count()).select_from(QuestionVote).where(QuestionVote.question_id == question_id))
    return votes, rows


def test_a_vote_is_written_with_its_tally_and_nothing_is_read_back(app, room, asked, monkeypatch):  # noqa: F811
    import psycopg

    commits = []  # PostgreSQL: the driver's commits, and whether each went in a pipeline with its statement
    original = psycopg.Connection.commit
    monkeypatch.setattr(psycopg.Connection, "commit", lambda self: commits.append(self._pipeline is not None) or original(self))
    voter = db.session.get(type(room["ts"]), room["ts"].id)
    with Statements() as seen:
        voted = live.vote(voter, asked)
    assert (voted.value["votes"], voted.value["voted"], voted.duplicate) == (1, True, False)
    # One read of the question with its author, organisation and the person's vote; one of the room.
    reads = [s for s in seen.log if s.startswith("SELECT")]
    assert len(reads) == 2 and reads[0].startswith("SELECT questions.id, questions.session_id"), seen.log
    writes = [s for s in seen.log if s.startswith(("INSERT", "UPDATE", "WITH"))]
    if db.engine.dialect.name == "postgresql":
        assert writes == [] and commits[0] is True, (seen.log, commits)  # the write went with its COMMIT
    else:
        assert [s[:26] for s in writes] == ["INSERT INTO question_votes", "UPDATE questions SET votes"], seen.log
    assert seen.log[-1] == "COMMIT", seen.log  # nothing read after it: the answer is what was read and returned
    assert _tally(asked) == (1, 1)
    stored = db.session.get(Question, asked)
    assert voted.value["updated_at"] == stored.updated_at.isoformat()


def test_a_resend_is_a_duplicate_and_is_not_counted_against_the_limit(app, room, asked):  # noqa: F811
    app.config["LIVE_VOTES_PER_MINUTE"] = 1
    voter = room["ts"]
    assert live.vote(voter, asked).duplicate is False
    again = live.vote(voter, asked)  # over the limit if it were counted
    assert again.duplicate is True and again.value["votes"] == 1
    assert _tally(asked) == (1, 1)


def test_a_refused_vote_leaves_nothing(app, room, asked):  # noqa: F811
    app.config["LIVE_VOTES_PER_MINUTE"] = 1
    second = live.ask(room["sjz"], room["session"].id, "And the rail freight terminal?", "q-votes-00002").value["id"]
    voter = room["ts"]
    live.vote(voter, asked)
    with pytest.raises(RateLimited):
        live.vote(voter, second)
    assert _tally(second) == (0, 0) and _tally(asked) == (1, 1)


@postgres_only
def test_one_person_voting_from_two_devices_at_once_counts_once_and_many_people_count_each(app, room, asked):  # noqa: F811
    voter_id = room["ts"].id
    results, errors = at_once(app, 2, lambda: live.vote(db.session.get(type(room["ts"]), voter_id), asked))
    assert errors == [] and sorted(r.duplicate for r in results) == [False, True]
    assert _tally(asked) == (1, 1)
    people = [make_user("attendee", organisation=f"Hebei park {n}").id for n in range(8)]
    db.session.commit()
    queue = list(people)
    results, errors = at_once(app, 8, lambda: live.vote(db.session.get(type(room["ts"]), queue.pop()), asked))
    assert errors == [] and sorted(r.value["votes"] for r in results) == list(range(2, 10))
    assert _tally(asked) == (9, 9)
