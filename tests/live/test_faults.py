"""The live room keeps its promise through faults: two real gunicorn gevent processes on PostgreSQL
and a private Redis (bench/live_faults.py starts them and runs each scenario; this asserts on what it
returns). Marked `faults`: CI runs them once, after the PostgreSQL pass, without xdist.

- kill -9 of one process under steady interest load: every acknowledged interest is stored, none twice,
  and every listener ends with every event (by seq, gaps filled from the event log);
- presence after kill -9: the survivor's count drops the dead process's people (LIVE_PRESENCE_TTL=6);
- Redis killed mid-session: sign-in, joins and questions keep working, /healthz says 207, delivery
  across processes comes back and the listener on the other process fills what it missed;
- 40 actions queued on a polling-only connection, sent in one request: all acknowledged once;
- one limit per person over several connections on both processes, a reconnect and HTTP; a cap on
  connections per person, refused with JSON `{"code", "message"}`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest

_spec = importlib.util.spec_from_file_location(
    "live_faults", os.path.join(os.path.dirname(__file__), "..", "..", "bench", "live_faults.py"))
faults = sys.modules["live_faults"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(faults)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"), reason="needs TEST_DATABASE_URL on PostgreSQL"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server (a private one is started)"),
    pytest.mark.usefixtures("app"),
]


@pytest.fixture
def app():
    return None  # the servers have their own database; no per-test app here


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = faults.start_cluster(TEST_DATABASE_URL, tmp_path_factory.mktemp("faults"))
    yield cluster
    cluster.stop()


def _run(cluster, scenario, *args):
    try:
        return scenario(cluster, *args)
    except BaseException:
        print(cluster.logs())
        raise


def test_kill_9_under_interest_load_loses_and_doubles_nothing(cluster):
    result = _run(cluster, faults.run_kill)
    print(result)
    assert result["acknowledged"] > 0
    assert result["missing"] == 0 and result["duplicates"] == 0
    assert result["acknowledged"] == result["rows"], result  # nothing stored that was not acknowledged
    assert result["listeners_complete"] == [True, True, True], result


def test_presence_is_right_after_a_process_dies(cluster):
    result = _run(cluster, faults.run_presence)
    print(result)
    assert result["present_before"] == 4
    assert result["present_after"] == 1, result


def test_a_redis_outage_mid_session(cluster):
    result = _run(cluster, faults.run_redis_outage)
    print(result)
    assert result["sign_in"] == [201]
    assert result["healthz"] == [207]
    assert result["joins_ok"] and result["asks_ok"] and result["asks"] >= 1
    assert result["cross_process_recovery_seconds"] is not None, result
    assert result["listener_complete_after_fill"] is True


def test_forty_queued_actions_over_polling_are_all_acknowledged_once(cluster):
    result = _run(cluster, faults.run_burst)
    assert result["acknowledged"] == 40 and result["rows"] == 40, str(result)


def test_one_limit_per_person_across_connections_reconnects_and_http(cluster):
    result = _run(cluster, faults.run_person_limit)
    print(result)
    assert result["accepted"] == 5 and result["refused"] == 15, result
    assert result["retry_after_ok"] is True
    assert result["connections_opened"] == 6
    assert result["refusal"]["data"]["code"] == "too_many_connections"
