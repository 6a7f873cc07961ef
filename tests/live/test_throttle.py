"""`broadcast.throttle`: the first change of a quiet period is sent at once, later ones folded into
one send at the end of the interval, and a send scheduled for state that has since been reset (the
app's state cleared, as between tests on the shared app) does not take the newer state's changes."""

from __future__ import annotations

from app.live import broadcast
from tests.conftest import wait_until


def _recorder(calls: list, label: str):
    return lambda items: calls.append((label, sorted(items)))


def test_later_changes_are_folded_into_one_send(app):
    calls: list = []
    flush = _recorder(calls, "a")
    broadcast.throttle("probe", 7, 1, flush, interval=0.2)
    broadcast.throttle("probe", 7, 2, flush, interval=0.2)
    broadcast.throttle("probe", 7, 3, flush, interval=0.2)
    assert calls == [("a", [1])]
    assert wait_until(lambda: len(calls) == 2, timeout=5)
    assert calls == [("a", [1]), ("a", [2, 3])]


def test_a_send_scheduled_before_a_reset_leaves_the_new_state_alone(app):
    calls: list = []
    broadcast.throttle("probe", 7, 1, _recorder(calls, "old"), interval=0.2)
    broadcast.throttle("probe", 7, 2, _recorder(calls, "old"), interval=0.2)  # scheduled for 0.2 s on
    app.extensions.pop("cloudfair.probe_throttles")  # the state reset meanwhile
    broadcast.throttle("probe", 7, 3, _recorder(calls, "new"), interval=30)
    broadcast.throttle("probe", 7, 4, _recorder(calls, "new"), interval=30)  # waits for the new interval
    assert not wait_until(lambda: len(calls) > 2, timeout=0.6)
    assert calls == [("old", [1]), ("new", [3])]
    assert broadcast.take("probe", 7) == {4}  # still pending for the new state's own send
