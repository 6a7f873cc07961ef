"""Monthly themed series: the recurrence, the theme rotation, the drafts the scheduler makes
ahead (never twice), and the daylight-saving warnings for the focus countries' zones."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.core import get_global
from dateutil.relativedelta import relativedelta
from dateutil import rrule as rr
from dateutil.rrule import rrulestr
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import bilingual
from ..accounts.access import require_role
from ..accounts.enums import Role
from ..bounds import MAX_INT, moment_in_range
from ..errors import ValidationFailed, gathering, get_or_not_found
from ..extensions import db
from ..reference.services import check_country, check_sectors, check_timezone
from ..types import utcnow
from .enums import FairStatus
from .models import Fair, Series, Track
from .timezones import rfc5545_local

log = logging.getLogger(__name__)

#: How far ahead the scheduler makes drafts.
AHEAD_MONTHS = 3

#: The zone to show for a country with several (the capital's or the most populous).
MAIN_ZONES = {
    "US": ["America/New_York", "America/Los_Angeles"], "CA": ["America/Toronto", "America/Vancouver"],
    "RU": ["Europe/Moscow"], "AU": ["Australia/Sydney"], "BR": ["America/Sao_Paulo"], "MX": ["America/Mexico_City"],
    "CN": ["Asia/Shanghai"], "KZ": ["Asia/Almaty"], "ID": ["Asia/Jakarta"], "ES": ["Europe/Madrid"],
    "PT": ["Europe/Lisbon"], "DE": ["Europe/Berlin"], "NZ": ["Pacific/Auckland"], "CL": ["America/Santiago"],
    "AR": ["America/Argentina/Buenos_Aires"], "GB": ["Europe/London"], "FR": ["Europe/Paris"], "NL": ["Europe/Amsterdam"],
}


def zones_of(country: str) -> list[str]:
    return MAIN_ZONES.get(country) or (get_global("territory_zones").get(country) or [])[:1]


# ---------------------------------------------------------------- checking


def _check(data: dict, current: Series | None = None, lang: str = "en") -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    lang = bilingual.author_lang(data, None) if data.get("lang") else lang

    def take(field, check):
        if field in data:
            with gathering(errors):
                out[field] = check(data[field])

    def local_start(value):
        try:
            return value if isinstance(value, time) else time.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed({"local_start": gettext("Give the local start time as HH:MM.")}) from None

    def minutes(value):
        if not isinstance(value, int) or isinstance(value, bool) or not 30 <= value <= 720:
            raise ValidationFailed({"minutes": gettext("A fair lasts 30 to 720 minutes.")})
        return value

    def starts_on(value):
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed({"starts_on": gettext("Give a date as YYYY-MM-DD.")}) from None
        return moment_in_range(day, "starts_on")

    def themes(value):
        if not isinstance(value, list) or not value or len(value) > 24:
            raise ValidationFailed({"themes": gettext("Give 1 to 24 themes, one a month in rotation.")})
        checked = []
        for n, theme in enumerate(value):
            if not isinstance(theme, dict):
                raise ValidationFailed({f"themes[{n}].theme": gettext("Each month needs a theme.")})
            try:  # the theme in either language or both: "theme", "theme_i18n", "theme_zh"/"theme_en"
                texts = bilingual.resolve(theme, "theme", lang=lang, required=True, max_length=300)
            except ValidationFailed as exc:
                if set(exc.fields) == {"theme"}:  # none in either language
                    raise ValidationFailed({f"themes[{n}].theme": gettext("Each month needs a theme.")}) from None
                raise ValidationFailed({f"themes[{n}].{key}": messages for key, messages in exc.fields.items()
                                        if key != "theme"}) from None
            countries = theme.get("focus_countries") or []
            sectors = theme.get("focus_sectors") or []
            if not isinstance(countries, list) or not isinstance(sectors, list):
                raise ValidationFailed({f"themes[{n}]": gettext("Focus countries and sectors are lists of codes.")})
            checked.append({
                "theme": bilingual.primary(texts, lang), "theme_zh": texts["zh"], "theme_en": texts["en"],
                "focus_countries": [check_country(c, f"themes[{n}].focus_countries") for c in countries],
                "focus_sectors": check_sectors(sectors, f"themes[{n}].focus_sectors"),
            })
        return checked

    def capacity(value):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_INT):
            raise ValidationFailed({"capacity": gettext("Give a positive number or nothing.")})
        return value

    if current is None:
        for field in ("rrule", "local_start", "minutes", "themes"):
            if data.get(field) in (None, "", []):
                errors[field] = gettext("This field is required.")
    if current is None or bilingual.mentions(data, "title"):
        with gathering(errors):
            out["title_texts"] = bilingual.resolve(data, "title", current=current, lang=lang, required=True,
                                                   max_length=200, label=gettext("the title"))
    take("timezone", lambda v: check_timezone(v or "Asia/Shanghai"))
    take("local_start", local_start)
    take("minutes", minutes)
    take("starts_on", starts_on)
    take("themes", themes)
    take("capacity", capacity)
    if "rrule" in data and "rrule" not in errors:
        out["rrule"] = _check_rrule(data["rrule"])
    if errors:
        raise ValidationFailed(errors)
    return out


def check_series(data: dict) -> dict:
    """The checked values of a new series (422 naming every bad field); nothing is written."""
    return _check({"timezone": data.get("timezone") or "Asia/Shanghai", **data})


def _check_rrule(value) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise ValidationFailed({"rrule": gettext("Give one RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=2TH.")})
    if any(f"FREQ={f}" in text.upper().replace(" ", "") for f in ("SECONDLY", "MINUTELY", "HOURLY")):
        raise ValidationFailed({"rrule": gettext("Fairs recur daily at most.")})
    try:
        rule = rrulestr(text, dtstart=datetime(2026, 1, 1))
        first = next(iter(rule), None)  # never count(): an endless rule would never finish
    except (ValueError, TypeError) as exc:
        raise ValidationFailed({"rrule": gettext("This is not a valid RRULE: %(reason)s.", reason=exc)}) from None
    if first is None:
        raise ValidationFailed({"rrule": gettext("This rule never occurs.")})
    return text


# ---------------------------------------------------------------- the form's recurrence

#: The weekdays as RFC 5545 names them, and dateutil's weekday for each.
WEEKDAYS = {"MO": rr.MO, "TU": rr.TU, "WE": rr.WE, "TH": rr.TH, "FR": rr.FR, "SA": rr.SA, "SU": rr.SU}
#: Which weekday of the month: first … fourth, or the last (-1).
ORDINALS = (1, 2, 3, 4, -1)
#: Every month, every other month, every quarter, twice a year.
INTERVALS = (1, 2, 3, 6)


def build_rrule(pattern: object, *, interval: object = 1, ordinal: object = None, weekday: object = None,
                month_day: object = None) -> str:
    """The RRULE for "every [interval] month(s) on the [ordinal] [weekday]" (pattern "weekday") or
    "on day [month_day]" (pattern "monthday"), composed by dateutil's rrule; errors name the field."""
    errors: dict[str, str] = {}
    try:
        interval = int(interval or 1)
    except (TypeError, ValueError):
        interval = 0
    if interval not in INTERVALS:
        errors["interval"] = gettext("Choose how often the fair recurs.")
    parts: dict = {}
    if pattern == "weekday":
        try:
            ordinal = int(ordinal)
        except (TypeError, ValueError):
            ordinal = 0
        if ordinal not in ORDINALS:
            errors["ordinal"] = gettext("Choose which weekday of the month: first to fourth, or the last.")
        if weekday not in WEEKDAYS:
            errors["weekday"] = gettext("Choose a weekday.")
        if not errors:
            parts["byweekday"] = WEEKDAYS[weekday](ordinal)
    elif pattern == "monthday":
        try:
            day = int(month_day)
        except (TypeError, ValueError):
            day = 0
        if not 1 <= day <= 31:
            errors["month_day"] = gettext("Give a day of the month from 1 to 31.")
        elif day > 28:
            errors["month_day"] = gettext("Months shorter than %(day)d days would have no fair: choose a day from 1 to 28.",
                                          day=day)
        parts["bymonthday"] = day
    else:
        errors["pattern"] = gettext("Choose a weekday of the month or a day of the month.")
    if errors:
        raise ValidationFailed(errors)
    rule = rr.rrule(rr.MONTHLY, interval=interval, dtstart=datetime(2026, 1, 1), **parts)
    # str() gives "DTSTART:…\nRRULE:…"; the series keeps its own first date, so only the rule is stored.
    line = next(line for line in str(rule).splitlines() if line.startswith("RRULE:"))
    return line[len("RRULE:"):]


def preview(actor, data: dict, now: datetime | None = None, count: int = 6) -> dict:
    """The next `count` dates of a series not yet saved, with the focus countries' local times and the
    daylight-saving warnings, exactly as the saved series would show them. Nothing is written."""
    require_role(actor, Role.ORGANISER)
    values = _check({"timezone": data.get("timezone") or "Asia/Shanghai", **data})
    now = now or utcnow()
    values.setdefault("starts_on", now.astimezone(ZoneInfo(values["timezone"])).date())
    texts = values.pop("title_texts", None)
    draft = Series(**values)  # transient: never added to the session
    if texts is not None:
        bilingual.assign(draft, "title", texts, "en")
    dates = coming(draft, now, months=12 * 6)[:count]
    return {"timezone": draft.timezone, "rrule": draft.rrule, **_coming_dict(draft, dates)}


# ---------------------------------------------------------------- writing and reading


def create_series(actor, data: dict) -> Series:
    require_role(actor, Role.ORGANISER)
    lang = bilingual.author_lang(data, actor)
    values = _check({"timezone": data.get("timezone") or "Asia/Shanghai", **data}, lang=lang)
    values.setdefault("starts_on", utcnow().astimezone(ZoneInfo(values["timezone"])).date())
    texts = values.pop("title_texts")
    series = Series(created_by_id=actor.id, **values)
    bilingual.assign(series, "title", texts, lang)
    db.session.add(series)
    db.session.commit()
    return series


def get_series(actor, series_id: int) -> Series:
    require_role(actor, Role.ORGANISER)
    return get_or_not_found(Series, series_id, _l("No such series."))


def list_series(actor) -> list[Series]:
    require_role(actor, Role.ORGANISER)
    return list(db.session.scalars(select(Series).order_by(Series.id)))


def occurrences(series: Series, until: datetime, *, after: datetime | None = None) -> list[tuple[int, datetime]]:
    """(index, local start) of each occurrence up to `until`, counting from `starts_on`."""
    zone = ZoneInfo(series.timezone)
    start = datetime.combine(series.starts_on, series.local_start)
    rule = rrulestr(series.rrule, dtstart=start)
    until_local = until.astimezone(zone).replace(tzinfo=None)
    after_local = after.astimezone(zone).replace(tzinfo=None) if after else None
    out = []
    for index, moment in enumerate(rule):
        if moment > until_local or index > 1000:
            break
        if after_local is None or moment >= after_local:
            # Nobody is asked for a scheduled date: a time in the spring gap or the repeated hour is read
            # as RFC 5545 reads it (timezones.rfc5545_local), the same instant every calendar shows.
            out.append((index, rfc5545_local(moment, zone)))
    return out


def theme_for(series: Series, index: int) -> dict:
    return series.themes[index % len(series.themes)]


def coming(series: Series, now: datetime | None = None, months: int = AHEAD_MONTHS) -> list[tuple[int, datetime]]:
    now = now or utcnow()
    return occurrences(series, now + relativedelta(months=months), after=now)


def _fair_titles(series: Series, theme: dict) -> dict[str, str]:
    """A drafted fair's title in each language: the series' and the month's theme, each in that language where
    it has one (else the other); none for a language that neither has."""
    own_title, own_theme = bilingual.pair(series, "title"), bilingual.pair(theme, "theme")
    out = {}
    for lang in bilingual.LANGS:
        if not own_title[lang] and not own_theme[lang]:
            out[lang] = ""
            continue
        title = own_title[lang] or own_title[bilingual.OTHER[lang]]
        month = own_theme[lang] or own_theme[bilingual.OTHER[lang]]
        out[lang] = (f"{title}：{month}" if lang == "zh" else f"{title}: {month}")[:200]
    return out


def make_due_fairs(now: datetime | None = None) -> list[Fair]:
    """Drafts for every active series' occurrences in the coming months; each made once."""
    now = now or utcnow()
    made = []
    for series in db.session.scalars(select(Series).where(Series.active.is_(True))):
        existing = set(db.session.scalars(select(Fair.series_occurrence).where(Fair.series_id == series.id)))
        for index, local in coming(series, now):
            key = local.date().isoformat()
            if key in existing:
                continue
            theme = theme_for(series, index)
            starts = local.astimezone(ZoneInfo("UTC"))
            titles = _fair_titles(series, theme)
            fair = Fair(
                title=f"{series.title}: {theme['theme']}", theme=theme["theme"],
                title_zh=titles["zh"] or None, title_en=titles["en"] or None,
                theme_zh=bilingual.pair(theme, "theme")["zh"] or None, theme_en=bilingual.pair(theme, "theme")["en"] or None,
                focus_countries=theme["focus_countries"], focus_sectors=theme["focus_sectors"],
                starts_at=starts, ends_at=starts + timedelta(minutes=series.minutes), timezone=series.timezone,
                status=FairStatus.DRAFT, capacity=series.capacity, series_id=series.id, series_occurrence=key,
                fair_day_start=time(8, 0), fair_day_end=time(20, 0), presenter_day_start=time(8, 0),
                presenter_day_end=time(20, 0), revision=0,
            )
            fair.tracks = [Track(name="main", name_zh="主会场", name_en="main", position=0)]
            try:
                with db.session.begin_nested():
                    db.session.add(fair)
            except IntegrityError:  # another scheduler made it first
                continue
            made.append(fair)
    db.session.commit()
    for fair in made:
        log.info("Series %s: made draft fair %s for %s", fair.series_id, fair.id, fair.series_occurrence)
    return made


def dst_warnings(series: Series, dates: list[tuple[int, datetime]]) -> list[dict]:
    """Where a focus country's clock change moves the fair's local time there against the month before."""
    warnings = []
    previous: dict[str, datetime] = {}
    for index, local in dates:
        for country in theme_for(series, index)["focus_countries"]:
            for zone_name in zones_of(country):
                there = local.astimezone(ZoneInfo(zone_name))
                before = previous.get(zone_name)
                if before is not None and (there.hour, there.minute) != (before.hour, before.minute):
                    warnings.append({
                        "date": local.date().isoformat(), "country": country, "zone": zone_name,
                        "local_time": there.strftime("%H:%M"), "previous_local_time": before.strftime("%H:%M"),
                    })
                previous[zone_name] = there
    return warnings


def series_dict(series: Series, now: datetime | None = None) -> dict:
    dates = coming(series, now, months=12)[:12]
    fairs = list(db.session.scalars(select(Fair).where(Fair.series_id == series.id).order_by(Fair.starts_at)))
    return {
        "id": series.id, "title": bilingual.text(series, "title"), "title_i18n": bilingual.pair(series, "title"),
        "timezone": series.timezone, "rrule": series.rrule,
        "local_start": series.local_start.strftime("%H:%M"), "minutes": series.minutes, "themes": series.themes,
        "starts_on": series.starts_on.isoformat(), "capacity": series.capacity, "active": series.active,
        "fairs": [{"id": f.id, "title": bilingual.text(f, "title"), "title_i18n": bilingual.pair(f, "title"), "starts_at": f.starts_at.isoformat(), "status": f.status,
                   "occurrence": f.series_occurrence} for f in fairs],
        **_coming_dict(series, dates),
    }


def _coming_dict(series: Series, dates: list[tuple[int, datetime]]) -> dict:
    return {
        "coming": [{
            "date": local.date().isoformat(), "local_start": local.isoformat(),
            "theme": bilingual.text(theme_for(series, index), "theme"),
            "theme_i18n": bilingual.pair(theme_for(series, index), "theme"),
            "focus": [{"country": c, "zone": z, "local_start": local.astimezone(ZoneInfo(z)).isoformat()}
                      for c in theme_for(series, index)["focus_countries"] for z in zones_of(c)],
        } for index, local in dates],
        "dst_warnings": dst_warnings(series, dates),
    }
