"""Signals that let a change in one package ask the domains to do their part, without importing them.

An organisation's rows are spread over the domains (leads, live questions, meetings, parks), so a
merge cannot move them itself without reaching into every domain's tables. Instead `app.people`
sends these signals inside the merge's one transaction, and each domain connects a receiver in its
own package that moves its own rows (as Indico's `users.merged`). Receivers only flush; the sender
commits once (or rolls everything back). Each receiver names the (table, column) references it
moves, and a test compares them with the models' foreign keys, so a new domain cannot be forgotten.

The modules holding receivers are imported by `create_app` (`app._connect_receivers`), so they are
connected in every process that has an app.

This module sits in the shared layer: it imports nothing of CloudFair, so any package may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from blinker import ANY, Namespace, Signal

_signals = Namespace()

organisation_merge_planned = _signals.signal("organisation-merge-planned", doc="""
Work out what merging `source` into the sender (the surviving organisation) would move; nothing is
written. Receivers add their counts to `plan.counts` and sentences saying why the merge cannot be
done to `plan.blockers`; leads also fills `plan.combined` (the pairs of leads on the same project).
Keyword arguments: `source`, `plan`.""")

organisations_merged = _signals.signal("organisations-merged", doc="""
Sent inside the merge's transaction, before the duplicate organisation is deleted: each receiver
moves its domain's rows of `source` to the sender (the surviving organisation) and flushes.
Keyword arguments: `source` (the duplicate), `actor` (who merges).""")

leads_combined = _signals.signal("leads-combined", doc="""
Sent inside a merge's transaction when the lead `gone` is folded into the sender (the kept lead),
before `gone` is deleted: each receiver points its rows (and links) at the kept lead and flushes.
Keyword arguments: `gone`, `actor`.""")

pitch_changed = _signals.signal("pitch-changed", doc="""
Sent after the change is committed, when what a live pitch shows may change: a session went live
(`project_ids` None: all its projects), its pitched projects changed, or a pitched project's site
needs changed (`project_ids`: those projects). The sender is the session's id. Parks connects the
receiver that tells the session's staff the best sites (app/parks/pitch.py).""")

public_projects = _signals.signal("public-projects", doc="""
Asked whenever projects decides who may see a project (nothing changes): each receiver returns a
select of the ids of projects its domain shows the public. Fairs connects the one that returns the
projects on a published fair's agenda in a session not cancelled (app/fairs/queries.py). A project no
receiver returns is seen only by its own people and organisers.""")

notifications_stored = _signals.signal("notifications-stored", doc="""
Sent after the commit with in-app notifications just stored, so they reach the people's open pages at
once. Live connects the receiver that delivers them (app/live/broadcast.py); live delivery is a
courtesy, the stored rows (and mails) stand anyway. Keyword argument: `rows`.""")


def receiver(signal: Signal, *, moves: Iterable[tuple[str, str]] = ()) -> Callable:
    """Connect the decorated function to `signal` (strongly: it lives as long as the process) and
    record the (table, column) foreign keys it moves, for `moved_references`."""

    def connect(function: Callable) -> Callable:
        function.moves = frozenset(moves)
        signal.connect(function, weak=False)
        return function

    return connect


def moved_references(signal: Signal) -> frozenset[tuple[str, str]]:
    """Every (table, column) that the receivers connected to `signal` say they move."""
    return frozenset().union(*(getattr(r, "moves", ()) for r in signal.receivers_for(ANY)))
