"""What page views share: a form page's submission and a button's POST.

A page posts a form, the view calls one service, flashes what was done and redirects; or it puts the
service's messages beside the form's fields and shows the page again (422). These two helpers hold
that sequence once, so each view says only which service it calls and what it answers.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect

from ..errors import Conflict, ServiceError, ValidationFailed
from ..forms import attach_errors


def _same(fields: dict) -> dict:
    return fields


def save_form(form, save: Callable[[], tuple[str, str]], show: Callable[[list[str], int], object], *,
              fields: Callable[[dict], dict] = _same, conflict_field: str | None = None):
    """Answer a form page: on a valid submission `save()` calls the service and returns what to flash
    (as success) and the address to go to. A ValidationFailed puts the service's messages beside the
    form's fields (`fields` turns them into the page's names), and so does a Conflict when
    `conflict_field` names the field it concerns. Otherwise `show(problems, status)` renders the page:
    the messages that have no field, and 422 when anything is wrong (200 for a first look)."""
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            done, target = save()
        except ValidationFailed as exc:
            problems = attach_errors(form, fields(exc.fields))
        except Conflict as exc:
            if conflict_field is None:
                raise
            problems = attach_errors(form, {conflict_field: [exc.message]})
        else:
            flash(done, "success")
            return redirect(target)
    return show(problems, 422 if form.errors or problems else 200)


def press(form, act: Callable[[], object], done: str | Callable[[object], str], target: str, *,
          category: str = "success", refused: tuple[type[ServiceError], ...] = (Conflict,)):
    """Answer a button (a form of only its CSRF token): when the form holds, `act()` calls the service
    and `done` (a message, or a function of what `act` returned) is flashed under `category`; a refusal
    of the `refused` kinds is flashed as an error instead. Either way, back to `target`."""
    if form.validate_on_submit():
        try:
            result = act()
        except refused as exc:
            flash(exc.message, "error")
        else:
            flash(done(result) if callable(done) else done, category)
    return redirect(target)
