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
