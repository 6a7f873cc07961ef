"""The live room's background work: `broadcast.throttle` sends the first change of a quiet period at
once and folds later ones into one send at the end of the interval; and work started for state that
has since been reset (the app's state cleared, as between tests on the shared app) neither takes the
newer state's changes (a scheduled send) nor keeps running (the attendance writer, the presence
heartbeat)."""

from __future__ import annotations

import threading

from app.live import attendance, broadcast, presence
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


def test_a_writer_whose_state_was_reset_stops(app, monkeypatch):
    """A writer started for state that has since been reset (tests share one app) stops at its next
    turn instead of writing a later state's notes at its own pace."""
    writes = []
    monkeypatch.setattr(attendance, "write", lambda app=None: writes.append(1) or 0)
    writer = threading.Thread(target=attendance._writer_loop, args=(app, 0.01, attendance._state(app)), daemon=True)
    writer.start()
    assert wait_until(lambda: writes, timeout=5)
    app.extensions.pop("cloudfair.attendance")
    writer.join(timeout=5)
    assert not writer.is_alive()


def test_a_presence_heartbeat_whose_state_was_reset_stops(app, monkeypatch):
    app.config["LIVE_PRESENCE_TTL"] = 0.1  # a beat every second (the shortest)
    beats = []
    monkeypatch.setattr(presence, "heartbeat", lambda: beats.append(1))
    loop = threading.Thread(target=presence._heartbeat_loop, args=(app, presence._state(app)), daemon=True)
    loop.start()
    assert wait_until(lambda: beats, timeout=5)
    app.extensions.pop("cloudfair.presence")
    loop.join(timeout=5)
    assert not loop.is_alive()
