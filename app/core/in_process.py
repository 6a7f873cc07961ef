"""The scheduler a development web process runs itself (`make run`, `RUN_SCHEDULER_IN_PROCESS`): once
per process, however often `create_app` runs. `create_app` starts it; /healthz says whether it runs."""

from __future__ import annotations

#: The in-process scheduler, once per process (create_app may run more than once).
_scheduler = None


def started() -> bool:
    """Whether this process has started its scheduler already."""
    return _scheduler is not None


def keep(scheduler) -> None:
    """Remember the scheduler this process started."""
    global _scheduler
    _scheduler = scheduler


def running() -> bool:
    """Whether this process runs the scheduled jobs itself (shown by /healthz)."""
    return bool(_scheduler is not None and getattr(_scheduler, "running", False))
