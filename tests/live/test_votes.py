"""A vote: one per person, written with the question's tally in one statement (PostgreSQL; two on
SQLite) and nothing read back; the votes that arrive together written in one batch that moves each
question's tally once; a resend is a duplicate that is not counted against the person's limit, a
refusal takes the vote back, and a person voting from two devices at once counts once."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, inspect, select

from app.accounts.models import User
from app.errors import RateLimited
from app.extensions import db
from app.live import services as live
from app.live.group_commit import GroupCommit
from app.live.models import Question, QuestionVote
from tests.conftest import at_once, filling, in_threads
from tests.factories import make_user
from tests.live.test_events import room  # noqa: F401  (fixture)
from tests.live.test_interest_ingest import Statements

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def asked(app, room, monkeypatch):  # noqa: F811
    monkeypatch.setattr(live, "question_votes_changed", lambda *args: None)  # the room's tally: tests/live/test_events.py
    live.live_room(room["sjz"], room["session"].id)  # kept by this process, as the voters' joins leave it
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
    # each answered with the tally its batch left (the votes of one batch share it), the last with all
    assert errors == [] and all(2 <= r.value["votes"] <= 9 for r in results) and max(r.value["votes"] for r in results) == 9
    assert all(r.duplicate is False for r in results)
    assert _tally(asked) == (9, 9)


def _batched(monkeypatch, size: int) -> GroupCommit:
    commit = None
    commit = GroupCommit(live._write_votes, pause=filling(lambda: commit, size), waiting=live._let_go)
    monkeypatch.setattr(live, "_votes", commit)
    return commit


def _vote(app, user_id: int, question_id: int):
    def call():
        with app.app_context():
            try:
                return live.vote(db.session.get(User, user_id), question_id)
            finally:
                db.session.remove()
    return call


@postgres_only
def test_votes_that_arrive_together_are_one_batch_that_moves_each_tally_once(app, room, asked, monkeypatch):  # noqa: F811
    other = live.ask(room["ts"], room["session"].id, "And the rail freight terminal?", "q-votes-00003").value["id"]
    people = [make_user("attendee", organisation=f"Hebei park {n}").id for n in range(4)]
    earlier = live.vote(db.session.get(User, people[3]), asked)  # voted before the batch
    db.session.commit()
    db.session.remove()
    commit = _batched(monkeypatch, 6)
    sends = [(people[0], asked), (people[1], asked), (people[1], asked),  # the same person on two devices
             (people[2], asked), (people[3], asked),  # people[3] had voted: a duplicate, never queued
             (people[0], other), (people[2], other)]
    results = in_threads([_vote(app, user_id, question_id) for user_id, question_id in sends])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert commit.batches[0] == 6
    assert [r.duplicate for r in results].count(True) == 2 and results[4].duplicate is True
    assert sorted([results[1].duplicate, results[2].duplicate]) == [False, True]
    counted = [r for r in results if not r.duplicate]
    # every counted vote of a question answered with the tally the batch left
    assert {r.value["votes"] for r in counted if r.value["id"] == asked} == {earlier.value["votes"] + 3}
    assert {r.value["votes"] for r in counted if r.value["id"] == other} == {2}
    assert all(r.value["voted"] for r in results)
    assert _tally(asked) == (4, 4) and _tally(other) == (2, 2)


@postgres_only
def test_a_failed_batch_leaves_each_vote_to_its_caller(app, room, asked, monkeypatch):  # noqa: F811
    people = [make_user("attendee", organisation=f"Langfang park {n}").id for n in range(3)]
    db.session.commit()
    db.session.remove()
    batches = []
    real = live._write_votes

    def write(batch):
        batches.append(len(batch))
        if len(batches) == 1:
            db.session.execute(select(func.count()).select_from(QuestionVote))  # a statement in the transaction
            raise RuntimeError("the database went away mid-batch")
        real(batch)

    commit = None
    commit = GroupCommit(write, pause=filling(lambda: commit, 3), waiting=live._let_go)
    monkeypatch.setattr(live, "_votes", commit)
    monkeypatch.setattr(live, "_write_votes", write)
    results = in_threads([_vote(app, user_id, asked) for user_id in people])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert batches[0] == 3 and batches[1:] == [1, 1, 1]  # the batch failed; each vote written alone after it
    assert sorted(r.value["votes"] for r in results) == [1, 2, 3] and not any(r.duplicate for r in results)
    assert _tally(asked) == (3, 3)


@postgres_only
def test_batches_of_two_processes_over_the_same_questions_each_count(app, room, asked, monkeypatch):  # noqa: F811
    """Batches that move the same questions' rows at once (two server processes) wait for each other
    (the rows locked in id order) and every vote counts once."""
    other = live.ask(room["ts"], room["session"].id, "And the rail freight terminal?", "q-votes-00004").value["id"]
    people = [make_user("attendee", organisation=f"Cangzhou park {n}").id for n in range(12)]
    db.session.commit()
    db.session.remove()

    def batch(n: int):
        def call():
            with app.app_context():
                try:
                    votes = [live._PendingVote(asked, people[n]), live._PendingVote(other, people[n])]
                    live._write_votes(votes if n % 2 else votes[::-1])
                    return votes
                finally:
                    db.session.remove()
        return call

    results = in_threads([batch(n) for n in range(12)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(vote.written and vote.counted is not None for votes in results for vote in votes)
    assert sorted(votes[0].counted[0] for votes in results) == list(range(1, 13))  # one batch after another
    assert _tally(asked) == (12, 12) and _tally(other) == (12, 12)


@postgres_only
def test_a_voter_that_waited_for_another_s_batch_has_its_person_back_in_its_session(app, room, asked, monkeypatch):  # noqa: F811
    """Over HTTP the person is the signed-in user, which the view may read after the vote: a caller that
    let go of its connection while another wrote the batch gets it back."""
    people = [make_user("attendee", organisation=f"Xingtai park {n}").id for n in range(2)]
    db.session.commit()
    db.session.remove()
    commit = _batched(monkeypatch, 2)

    def call(user_id: int):
        def run():
            with app.app_context():
                try:
                    person = db.session.get(User, user_id)
                    live.vote(person, asked)
                    return inspect(person).detached, person.organisation.name  # a lazy load still works
                finally:
                    db.session.remove()
        return run

    results = in_threads([call(user_id) for user_id in people])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert commit.batches[0] == 2
    assert sorted(results) == [(False, "Xingtai park 0"), (False, "Xingtai park 1")]
