"""Organiser pages for monthly series: the list, the one-form set-up, and a series' coming dates
with the focus countries' local times and daylight-saving warnings. Routes on the `fairs` blueprint."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import allow
from ..errors import ValidationFailed
from ..i18n import format_moment, ui_locale
from ..reference.services import country_name
from . import series as series_service
from .forms import SeriesForm
from .views import bp

THEME_KEY = re.compile(r"^themes\[(\d+)\](?:\.(\w+))?$")


def parse_themes(text: str) -> tuple[list[dict], list[int]]:
    """`Theme | DE,BE | new_materials,ice_snow` per line → the service's themes, and each one's line number."""
    themes, lines = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (3 - len(parts))
        themes.append({
            "theme": parts[0],
            "focus_countries": [c.strip().upper() for c in parts[1].split(",") if c.strip()],
            "focus_sectors": [s.strip() for s in parts[2].split(",") if s.strip()],
        })
        lines.append(number)
    return themes, lines


def _series_data(form: SeriesForm) -> tuple[dict, list[int]]:
    themes, lines = parse_themes(form.themes.data or "")
    data = {
        "title": form.title.data or "",
        "timezone": (form.timezone.data or "").strip() or "Asia/Shanghai",
        "rrule": form.rrule.data or "",
        "local_start": (form.local_start.data or "").strip(),
        "minutes": form.minutes.data,
        "capacity": form.capacity.data,
        "themes": themes,
    }
    if (form.starts_on.data or "").strip():
        data["starts_on"] = form.starts_on.data.strip()
    return data, lines


def _attach_series_errors(form: SeriesForm, exc: ValidationFailed, lines: list[int]) -> list[str]:
    """Field errors beside their fields; `themes[n].…` beside the textarea, naming the line."""
    leftover = []
    for key, messages in exc.fields.items():
        match = THEME_KEY.match(key)
        if match:
            index = int(match.group(1))
            line = lines[index] if index < len(lines) else index + 1
            form.themes.errors = list(form.themes.errors) + [
                gettext("Line %(line)d: %(message)s", line=line, message=m) for m in messages]
            continue
        target = getattr(form, key, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + messages
        else:
            leftover += [f"{key}: {m}" for m in messages]
    return leftover


@bp.route("/series")
@allow("organiser")
def series_list():
    return render_template("fairs/series_list.html", series=series_service.list_series(current_user))


@bp.route("/series/new", methods=["GET", "POST"])
@allow("organiser")
def new_series():
    form = SeriesForm()
    problems: list[str] = []
    if form.validate_on_submit():
        data, lines = _series_data(form)
        try:
            created = series_service.create_series(current_user, data)
        except ValidationFailed as exc:
            problems = _attach_series_errors(form, exc, lines)
        else:
            flash(gettext("The series was created. The scheduler makes its drafts for the coming months."), "success")
            return redirect(url_for("fairs.series_page", series_id=created.id))
    status = 422 if form.errors or problems else 200
    return render_template("fairs/series_form.html", form=form, problems=problems), status


def _on(iso_date: str, zone: str) -> datetime:
    """A local date of the series as a moment (noon there), for the `moment` filter's "date"."""
    return datetime.combine(date.fromisoformat(iso_date), time(12), tzinfo=ZoneInfo(zone))


@bp.route("/series/<int:series_id>")
@allow("organiser")
def series_page(series_id: int):
    found = series_service.get_series(current_user, series_id)
    shown = series_service.series_dict(found)
    locale, zone = ui_locale(), shown["timezone"]
    warnings = [{
        **w,
        "text": gettext("In %(country)s (%(zone)s) the fair on %(date)s starts at %(time)s instead of %(previous)s"
                        " — daylight saving", country=country_name(w["country"], locale), zone=w["zone"],
                        date=format_moment(_on(w["date"], zone), zone, "date"), time=w["local_time"],
                        previous=w["previous_local_time"]),
    } for w in shown["dst_warnings"]]
    warned = {(w["date"], w["zone"]) for w in warnings}
    rows = [{
        "date": c["date"],
        "theme": c["theme"],
        "host": datetime.fromisoformat(c["local_start"]),
        "focus": [{**f, "at": datetime.fromisoformat(f["local_start"]), "shifted": (c["date"], f["zone"]) in warned}
                  for f in c["focus"]],
    } for c in shown["coming"]]
    fairs = [{**f, "starts": datetime.fromisoformat(f["starts_at"])} for f in shown["fairs"]]
    return render_template("fairs/series.html", series=shown, rows=rows, warnings=warnings, fairs=fairs,
                           starts_on=_on(shown["starts_on"], zone))
