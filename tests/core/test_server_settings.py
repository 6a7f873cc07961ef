"""The production server's settings (gunicorn.conf.py) do what they say."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_freezes_the_loaded_app_out_of_the_collectors_full_passes():
    settings = runpy.run_path(str(CONF))
    assert settings["worker_class"] == "gevent"
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 10_000  # the app and the libraries loaded so far
    finally:
        gc.unfreeze()


def test_a_worker_spawns_greenlets_without_their_spawning_tree_and_collects_rarely(monkeypatch):
    """Engine.IO starts two greenlets per connection and one per event: none captures its spawner's
    stack (a tenth of a join's CPU), and the collector's full passes (a pause as long as the live heap
    is large: 50–150 ms with 1,000 connections) come rarely (GC_THRESHOLDS)."""
    import gevent

    monkeypatch.delenv("GEVENT_TRACK_GREENLET_TREE", raising=False)
    monkeypatch.setenv("GC_THRESHOLDS", "40000,15,90")
    settings = runpy.run_path(str(CONF))
    before_tree, before_thresholds = gevent.config.track_greenlet_tree, gc.get_threshold()
    try:
        gevent.config.track_greenlet_tree = True
        settings["post_worker_init"](worker=None)
        assert gevent.config.track_greenlet_tree is False
        assert gc.get_threshold() == (40000, 15, 90)
        assert gevent.Greenlet(lambda: None).spawning_stack is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before_thresholds)
        gevent.config.track_greenlet_tree = before_tree
