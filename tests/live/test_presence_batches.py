"""Presence's Redis scripts for connects and joins that arrive together go in one pipeline
(`live.presence._together`): a join storm costs Redis one round trip per batch, not one per connect and
one per join, and each caller still gets its own answer (a connection over the limit is refused), or
falls back to this process's memory when Redis fails. Needs TEST_REDIS_URL."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from app.live import presence, shared
from app.live.group_commit import GroupCommit
from tests.conftest import filling, in_threads

URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="needs TEST_REDIS_URL (a real Redis)")


@pytest.fixture
def shared_app(app):
    app.config.update(REDIS_URL=URL, REDIS_KEY_PREFIX=f"cf-test-presence-{uuid.uuid4().hex}",
                      LIVE_MAX_CONNECTIONS_PER_USER=2, LIVE_PRESENCE_TTL=30)
    app.extensions.pop("cloudfair.shared", None)
    app.extensions.pop("cloudfair.presence", None)
    return app


def _filled(app, size: int) -> GroupCommit:
    """This app's group of presence calls, its first batch waiting until `size` calls are queued."""
    commit = None
    commit = GroupCommit(presence._run_together, pause=filling(lambda: commit, size))
    presence._state(app)["together"] = commit
    return commit


def _at_once(app, calls) -> list:
    return in_threads([lambda call=call: _in_context(app, call) for call in calls])


def _in_context(app, call):
    with app.app_context():
        return call()


def test_connects_and_joins_at_once_are_one_pipeline_each_answered_as_alone(shared_app, redis_pipelines):
    with shared_app.app_context():
        commit = _filled(shared_app, 8)
        # Person 1 opens three connections (the third is one too many), person 2 one; four joins.
        calls = [lambda n=n: presence.connect(1, f"sid-1-{n}") for n in range(3)]
        calls += [lambda: presence.connect(2, "sid-2-0")]
        calls += [lambda person=person: presence.enter(501, person) for person in (1, 1, 2, 3)]
        answers = _at_once(shared_app, calls)

        assert sorted(answers[:3]) == [False, True, True] and answers[3] is True
        assert commit.batches[0] == 8 and redis_pipelines[0] == 8  # one round trip for the eight scripts
        assert all(size == 1 for size in redis_pipelines[1:])  # then the joins' replies: one count of the room
        assert presence.count(501) == 3  # people, not tabs, as written by the batch
        assert redis.Redis.from_url(URL).zcard(presence._connections_key(1)) == 2


def test_disconnects_at_once_are_one_pipeline_and_free_the_connections(shared_app, redis_pipelines):
    with shared_app.app_context():
        _filled(shared_app, 3)
        taken = _at_once(shared_app, [lambda n=n: presence.connect(3, f"sid-3-{n}") for n in range(3)])
        assert sorted(taken) == [False, True, True]  # at the limit of two
        kept = [f"sid-3-{n}" for n in range(3) if f"{presence._state()['process']}:sid-3-{n}" in {
            m.decode() for m in redis.Redis.from_url(URL).zrange(presence._connections_key(3), 0, -1)}]
        commit = _filled(shared_app, 2)
        redis_pipelines.clear()
        _at_once(shared_app, [lambda sid=sid: presence.disconnect(3, sid) for sid in kept])

        assert commit.batches[0] == 2 and redis_pipelines == [2]  # both in one round trip
        assert redis.Redis.from_url(URL).zcard(presence._connections_key(3)) == 0
        presence._state()["together"] = GroupCommit(presence._run_together)
        assert presence.connect(3, "sid-3-9") is True  # room for new connections again


def test_counts_asked_together_read_each_room_once_after_the_batch_s_enters(shared_app, redis_pipelines):
    with shared_app.app_context():
        _filled(shared_app, 9)
        calls = [lambda person=person: presence.enter(601, person) for person in (11, 12, 13)]
        calls += [lambda: presence.count(601) for _ in range(4)] + [lambda: presence.count(602) for _ in range(2)]
        answers = _at_once(shared_app, calls)

        assert redis_pipelines[0] == 3 + 2  # three enters, then one count per room, not six
        assert all(size == 1 for size in redis_pipelines[1:])  # the enters' own replies: one count
        assert answers[3:7] == [3, 3, 3, 3] and answers[7:] == [0, 0]


def test_when_redis_fails_a_batch_each_caller_falls_back_to_its_process(shared_app, monkeypatch):
    with shared_app.app_context():
        _filled(shared_app, 4)

        def down(work):
            raise shared.Unavailable("down")

        monkeypatch.setattr(shared, "run", down)
        answers = _at_once(shared_app, [lambda n=n: presence.connect(7, f"sid-7-{n}") for n in range(3)]
                           + [lambda: presence.enter(502, 7)])

        assert sorted(answers[:3]) == [False, True, True]  # this process's memory keeps the limit
        assert answers[3] == 1 and presence.count(502) == 1
