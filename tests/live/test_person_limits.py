"""The per-person limit on questions, votes and interests (`live.limits.check_person`): a hit that is
allowed costs one call to the limiter; the window is read only to tell a refused person when to come back."""

from __future__ import annotations

import pytest
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited
from app.live.limits import check_person


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
