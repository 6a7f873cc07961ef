"""Organiser pages for monthly series: the list, the one-form set-up, and a series' coming dates
with the focus countries' local times and daylight-saving warnings. Routes on the `fairs` blueprint."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import bilingual
from ..accounts.access import allow
from ..errors import ValidationFailed, gathering
from ..i18n import format_moment, ui_locale
from ..reference.services import country_choices, country_name, list_sectors, pickable_timezones, utc_offset
from . import bp
from . import series as series_service
from .forms import SERIES_INTERVALS, SERIES_MAX_ROWS, SERIES_ORDINALS, SERIES_WEEKDAYS, SeriesForm

THEME_KEY = re.compile(r"^themes\[(\d+)\](?:\.(\w+))?$")

#: Zones offered first in the host zone picker (the rest follow by name).
COMMON_ZONES = ("Asia/Shanghai", "Europe/Berlin", "Europe/London", "America/New_York", "UTC")


BYDAY = re.compile(r"^([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)$")


def rrule_in_words(text: str) -> str | None:
    """"every month, on the second Thursday" for the rules the form makes (and the same rules typed in
    the API); None for any other rule, which the pages then show as it is."""
    try:
        parts = dict(part.split("=", 1) for part in text.upper().split(";") if part)
    except ValueError:
        return None
    if parts.get("FREQ") != "MONTHLY" or set(parts) - {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY"}:
        return None
    intervals, ordinals, weekdays = dict(SERIES_INTERVALS), dict(SERIES_ORDINALS), dict(SERIES_WEEKDAYS)
    interval = intervals.get(parts.get("INTERVAL", "1"))
    if interval is None:
        return None
    if "BYDAY" in parts and "BYMONTHDAY" not in parts:
        match = BYDAY.match(parts["BYDAY"])
        ordinal = ordinals.get(str(int(match.group(1)))) if match else None
        if ordinal is None:
            return None
        return gettext("%(interval)s, on the %(ordinal)s %(weekday)s", interval=interval, ordinal=ordinal,
                       weekday=weekdays[match.group(2)])
    if "BYMONTHDAY" in parts and "BYDAY" not in parts and parts["BYMONTHDAY"].isdigit():
        return gettext("%(interval)s, on day %(day)s", interval=interval, day=int(parts["BYMONTHDAY"]))
    return None


def _zone_label(zone: str) -> str:
    offset, _minutes = utc_offset(zone)
    if zone == "Asia/Shanghai":
        return gettext("Beijing time (Asia/Shanghai, UTC%(offset)s)", offset=offset)
    return f"{zone} (UTC{offset})"


def _series_choices(form: SeriesForm) -> None:
    locale = ui_locale()
    form.timezone.choices = [(z, _zone_label(z)) for z in COMMON_ZONES] + [
        (z, _zone_label(z)) for z in pickable_timezones() if z not in COMMON_ZONES]
    countries = country_choices(locale)
    sectors = [(s.code, s.name_zh if locale == "zh" else s.name_en) for s in list_sectors()]
    for row in form.themes:
        row.focus_countries.choices = countries
        row.focus_sectors.choices = sectors


def _themes(form: SeriesForm) -> tuple[list[dict], list[int]]:
    """The filled month rows as the service's themes, and each one's row index (empty rows are skipped)."""
    themes, rows = [], []
    for index, row in enumerate(form.themes):
        texts = {"theme_zh": (row.theme_zh.data or "").strip(), "theme_en": (row.theme_en.data or "").strip()}
        legacy = f"{row.name}-theme"  # a post from before the two fields: the theme in the author's language
        if not any(f"{row.name}-{name}" in request.form for name in texts) and legacy in request.form:
            texts = {"theme": request.form.get(legacy, "").strip()}
        countries = [c for c in row.focus_countries.data or [] if c]
        sectors = [s for s in row.focus_sectors.data or [] if s]
        if not (any(texts.values()) or countries or sectors):
            continue
        themes.append({**texts, "focus_countries": countries, "focus_sectors": sectors})
        rows.append(index)
    return themes, rows


def _series_data(form: SeriesForm) -> tuple[dict, list[int]]:
    """The form's words as the API's series: the recurrence composed into an RRULE (errors name the
    form's own fields), the filled month rows as themes."""
    themes, rows = _themes(form)
    errors: dict[str, str] = {}
    typed = (form.rrule.data or "").strip()
    if typed:  # the advanced field: the RRULE as typed (the service checks it), the choices above unused
        rrule = typed
    else:
        rrule = None
        with gathering(errors):
            rrule = series_service.build_rrule(form.pattern.data, interval=form.interval.data,
                                               ordinal=form.ordinal.data, weekday=form.weekday.data,
                                               month_day=(form.month_day.data or "").strip())
    data = {
        **bilingual.form_data(form, "title"),
        "timezone": form.timezone.data or "Asia/Shanghai",
        "local_start": (form.local_start.data or "").strip(),
        "minutes": form.minutes.data,
        "capacity": form.capacity.data,
        "themes": themes,
    }
    if rrule:
        data["rrule"] = rrule
    if (form.starts_on.data or "").strip():
        data["starts_on"] = form.starts_on.data.strip()
    with gathering(errors):  # every other field's errors at once, even when the recurrence has its own
        series_service.check_series({**data, "rrule": rrule or "FREQ=MONTHLY"})
        if typed and not errors:
            data["rrule"] = series_service.check_series({**data, "rrule": typed})["rrule"]
    if errors:
        raise _FormErrors(errors, rows)
    return data, rows


class _FormErrors(Exception):
    def __init__(self, fields: dict, rows: list[int]):
        super().__init__(fields)
        self.fields, self.rows = fields, rows


def _attach_series_errors(form: SeriesForm, fields: dict, rows: list[int]) -> list[str]:
    """Each error beside its field; `themes[n].…` beside that month's field. Returns the errors about
    the months as a whole (shown under the months' heading)."""
    about_months = []
    for key, message in fields.items():
        messages = message if isinstance(message, list) else [message]
        key = bilingual.form_errors({key: messages}, "title").popitem()[0]  # the title's errors beside its fields
        match = THEME_KEY.match(key)
        if match:
            index = int(match.group(1))
            row = form.themes[rows[index]] if index < len(rows) else None
            name = match.group(2) or "theme"
            name = "theme_zh" if name in ("theme", "theme_i18n") else name  # the theme's errors beside its fields
            target = getattr(row, name, None) if row is not None else None
            if target is not None:
                target.errors = list(target.errors) + messages
            else:
                about_months += messages
            continue
        if key == "themes":
            about_months += messages
            continue
        target = getattr(form, key, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + messages
        else:
            about_months += messages
    return about_months


def _shown_dates(coming: list[dict], dst: list[dict], zone: str) -> tuple[list[dict], list[dict]]:
    """Coming dates and daylight-saving warnings as the pages show them (the sentence in the reader's language)."""
    locale = ui_locale()
    warnings = [{
        **w,
        "text": gettext("In %(country)s (%(zone)s) the fair on %(date)s starts at %(time)s instead of %(previous)s"
                        " — daylight saving", country=country_name(w["country"], locale), zone=w["zone"],
                        date=format_moment(_on(w["date"], zone), zone, "date"), time=w["local_time"],
                        previous=w["previous_local_time"]),
    } for w in dst]
    warned = {(w["date"], w["zone"]) for w in warnings}
    rows = [{
        "date": c["date"],
        "theme_zh": c["theme_i18n"]["zh"], "theme_en": c["theme_i18n"]["en"],  # tr(row, "theme") in the reader's language
        "host": datetime.fromisoformat(c["local_start"]),
        "focus": [{**f, "at": datetime.fromisoformat(f["local_start"]), "shifted": (c["date"], f["zone"]) in warned}
                  for f in c["focus"]],
    } for c in coming]
    return rows, warnings


@bp.route("/series")
@allow("organiser")
def series_list():
    return render_template("fairs/series_list.html", series=series_service.list_series(current_user),
                           in_words=rrule_in_words)


@bp.route("/series/new", methods=["GET", "POST"])
@allow("organiser")
def new_series():
    form = SeriesForm()
    if form.add_month.data and len(form.themes) < SERIES_MAX_ROWS:
        form.themes.append_entry()
    _series_choices(form)
    about_months: list[str] = []
    preview = None
    if form.add_month.data:
        pass  # only re-show the form with one more month
    elif form.validate_on_submit():
        try:
            data, _rows = _series_data(form)
            if form.preview.data:
                preview = _preview(data)
            else:
                created = series_service.create_series(current_user, data)
                flash(gettext("The series was created. The scheduler makes its drafts for the coming months."),
                      "success")
                return redirect(url_for("fairs.series_page", series_id=created.id))
        except _FormErrors as exc:
            about_months = _attach_series_errors(form, exc.fields, exc.rows)
        except ValidationFailed as exc:
            about_months = _attach_series_errors(form, {k: v for k, v in exc.fields.items()}, _themes(form)[1])
    invalid = request.method == "POST" and not form.add_month.data and bool(
        form.errors or about_months or _has_errors(form))
    named = _named_errors(form) if invalid else []
    return render_template("fairs/series_form.html", form=form, about_months=about_months, preview=preview,
                           max_rows=SERIES_MAX_ROWS, invalid=invalid, named_errors=named), 422 if invalid else 200


def _preview(data: dict) -> dict:
    shown = series_service.preview(current_user, data)
    rows, warnings = _shown_dates(shown["coming"], shown["dst_warnings"], shown["timezone"])
    return {"rows": rows, "warnings": warnings, "timezone": shown["timezone"], "rrule": shown["rrule"],
            "in_words": rrule_in_words(shown["rrule"])}


@bp.route("/series/preview", methods=["POST"])
@allow("organiser")
def series_preview():
    """The coming dates of the form as it stands, as an HTML fragment (the form's script puts it under
    the form as the organiser types; without the script the form's Preview button shows the same).
    200 with the dates, 422 with what is missing or wrong; nothing is written either way."""
    form = SeriesForm()
    _series_choices(form)
    preview, problems = None, []
    if not form.validate_on_submit():
        problems = [gettext("%(field)s: %(message)s", field=e["label"], message=" ".join(e["messages"]))
                    if e["label"] else " ".join(e["messages"]) for e in _named_errors(form)]
    else:
        try:
            data, _rows = _series_data(form)
            preview = _preview(data)
        except (_FormErrors, ValidationFailed) as exc:
            rows = exc.rows if isinstance(exc, _FormErrors) else _themes(form)[1]
            about_months = _attach_series_errors(form, dict(exc.fields), rows)
            problems = [gettext("%(field)s: %(message)s", field=e["label"], message=" ".join(e["messages"]))
                        if e["label"] else " ".join(e["messages"]) for e in _named_errors(form)]
            problems += [gettext("%(field)s: %(message)s", field=gettext("Monthly themes, used in rotation"),
                                 message=m) for m in about_months]
    html = render_template("fairs/_series_preview.html", preview=preview, problems=problems)
    return html, 422 if problems else 200


def _has_errors(form: SeriesForm) -> bool:
    return bool(_named_errors(form))


def _named_errors(form: SeriesForm) -> list[dict]:
    """Every field error with the field's label in the reader's language ("Month 2, Focus countries")
    and the id it links to, for the summary above the form."""
    named = []
    for field in form:
        if field.name == "themes":
            for number, row in enumerate(form.themes, start=1):
                for sub in row:
                    if sub.errors:
                        named.append({"id": sub.id, "label": gettext(
                            "Month %(number)s, %(field)s", number=number, field=str(sub.label.text)),
                            "messages": list(sub.errors)})
        elif field.errors and field.type not in ("CSRFTokenField", "SubmitField"):
            named.append({"id": field.id, "label": str(field.label.text), "messages": list(field.errors)})
        elif field.errors:
            named.append({"id": field.id, "label": "", "messages": list(field.errors)})
    return named


def _on(iso_date: str, zone: str) -> datetime:
    """A local date of the series as a moment (noon there), for the `moment` filter's "date"."""
    return datetime.combine(date.fromisoformat(iso_date), time(12), tzinfo=ZoneInfo(zone))


@bp.route("/series/<int:series_id>")
@allow("organiser")
def series_page(series_id: int):
    found = series_service.get_series(current_user, series_id)
    shown = series_service.series_dict(found)
    zone = shown["timezone"]
    rows, warnings = _shown_dates(shown["coming"], shown["dst_warnings"], zone)
    fairs = [{**f, "starts": datetime.fromisoformat(f["starts_at"])} for f in shown["fairs"]]
    return render_template("fairs/series.html", series=shown, rows=rows, warnings=warnings, fairs=fairs,
                           in_words=rrule_in_words(shown["rrule"]),
                           starts_on=_on(shown["starts_on"], zone))
