"""The per-person limit on questions, votes and interests (`live.limits.check_person`): a hit that is
allowed costs one call to the limiter; the window is read only to tell a refused person when to come back.
A group commit's batch counts its people together (`count_people`: one Redis round trip)."""

from __future__ import annotations

import os
import uuid

import pytest
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited
from app.live.limits import check_person, count_people


def test_an_allowed_hit_reads_no_window_and_a_refusal_says_when_to_come_back(app, monkeypatch):
    app.config["LIVE_INTERESTS_PER_MINUTE"] = 3
    reads = []
    window = MovingWindowRateLimiter.get_window_stats
    monkeypatch.setattr(MovingWindowRateLimiter, "get_window_stats",
                        lambda self, *args: reads.append(args) or window(self, *args))
    for _ in range(3):
        check_person("interest", 424242)
    assert reads == []
    with pytest.raises(RateLimited) as refused:
        check_person("interest", 424242)
    assert len(reads) == 1 and 1 <= refused.value.details["retry_after"] <= 60


_REDIS = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture(params=["memory", "redis"])
def limited(app, request):
    """The app with a limit of 3 interests a minute per person, counted in this process's memory or in
    Redis (TEST_REDIS_URL, under a key prefix of its own)."""
    if request.param == "redis":
        if not _REDIS:
            pytest.skip("needs TEST_REDIS_URL")
        app.config.update(REDIS_URL=_REDIS, REDIS_KEY_PREFIX=f"cf-test-limits-{uuid.uuid4().hex}")
        app.extensions.pop("cloudfair.person_limits", None)
        app.extensions.pop("cloudfair.shared", None)
    app.config["LIVE_INTERESTS_PER_MINUTE"] = 3
    return request.param


def test_a_batch_counts_each_hit_in_its_order_and_refuses_only_the_hits_past_a_person_s_limit(limited, monkeypatch,
                                                                                               redis_pipelines):
    hits = []
    hit = MovingWindowRateLimiter.hit
    monkeypatch.setattr(MovingWindowRateLimiter, "hit", lambda self, *args: hits.append(args) or hit(self, *args))

    answers = count_people("interest", [7001, 7002, 7001, 7001, 7001, 7002])

    assert answers[:4] == [None] * 4 and answers[5] is None
    assert 1 <= answers[4] <= 60  # the person's fourth in a minute
    if limited == "redis":  # one round trip for the batch, not a hit each
        assert (len(hits), len(redis_pipelines)) == (0, 1)
    with pytest.raises(RateLimited):
        check_person("interest", 7001)  # the batch's hits count for the next check as any
    check_person("interest", 7002)


def test_an_empty_batch_counts_nothing(limited):
    assert count_people("interest", []) == []
