"""VTIMEZONE components every calendar program reads alike, and the one rule for local times.

**Writing zones.** A feed's VTIMEZONE covers only the years its events fall in. Its transitions come
from the zone database (zoneinfo), grouped the way Outlook and Google write them: a run of yearly
changes on the same rule ("last Sunday of March at 02:00") becomes one observance with
`RRULE:FREQ=YEARLY;BYMONTH=…;BYDAY=…` (with `COUNT` when the rule stops inside the window), an
irregular change is an observance of its own whose DTSTART is the change. Nothing is written as a
list of RDATE values on one line: ical.js and vobject read only its first value. An observance at the
window's start gives the offset in force before the first change (and is the only one for a zone
without daylight saving).

**Local times** (`resolve_local`): a local time that occurs twice (the repeated hour when clocks go
back) must say which of the two it means; one that does not exist (the hour skipped when clocks go
forward) is refused. Where nobody can be asked (a monthly series' automatic dates), RFC 5545 §3.3.5
applies (`rfc5545_local`): the repeated hour means its first occurrence, a time in the gap moves on
by the gap's length.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_babel import gettext
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from ..errors import ValidationFailed

UTC = timezone.utc
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


# ---------------------------------------------------------------- local times


def is_ambiguous(local: datetime) -> bool:
    """True when this wall-clock time (naive or aware, in its zone) occurs twice."""
    zone = local.tzinfo
    if zone is None:
        return False
    first, second = local.replace(fold=0), local.replace(fold=1)
    return first.utcoffset() != second.utcoffset() and _exists(first) and _exists(second)


def _exists(aware: datetime) -> bool:
    """False for a wall-clock time inside a spring gap (it does not survive a round trip through UTC)."""
    back = aware.astimezone(UTC).astimezone(aware.tzinfo)
    return back.replace(tzinfo=None, fold=0) == aware.replace(tzinfo=None, fold=0)


def does_not_exist(local: datetime) -> bool:
    return local.tzinfo is not None and not _exists(local.replace(fold=0))


@dataclass(frozen=True)
class Reading:
    """One of the two instants a repeated local time may mean."""

    fold: int
    instant: datetime  # UTC
    offset: str  # "+02:00"
    abbreviation: str  # "CEST"


def readings(value: datetime, zone_name: str) -> list[Reading]:
    """The instants a naive local time means in a zone: none (gap), one, or two (repeated hour)."""
    zone = ZoneInfo(zone_name)
    local = value.replace(tzinfo=zone, fold=0)
    if does_not_exist(local):
        return []
    folds = (0, 1) if is_ambiguous(local) else (0,)
    out = []
    for fold in folds:
        moment = local.replace(fold=fold)
        out.append(Reading(fold, moment.astimezone(UTC), format_offset(moment.utcoffset()), moment.tzname() or ""))
    return out


def format_offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def resolve_local(value: datetime | None, zone_name: str, field: str, fold: int | None = None) -> datetime | None:
    """A naive local time typed in a form → the UTC instant it names, under the written rule.

    A time in the spring gap is refused; a time in the repeated hour needs `fold` (0: the first,
    in daylight time; 1: the second, in standard time), else a 422 that asks which.
    """
    if value is None:
        return None
    try:
        zone = ZoneInfo(zone_name)
    except Exception:
        return value.replace(tzinfo=UTC)  # the service reports the unknown zone itself
    found = readings(value, zone_name)
    when = value.strftime("%Y-%m-%d %H:%M")
    if not found:
        after = value.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
        raise ValidationFailed({field: gettext(
            "%(when)s does not exist in %(zone)s: the clocks jump forward that night. "
            "Choose another time (for example %(after)s).", when=when, zone=zone_name, after=f"{after:%H:%M}")})
    if len(found) == 1:
        return found[0].instant
    if fold not in (0, 1):
        first, second = found
        raise ValidationFailed({field: gettext(
            "%(when)s occurs twice in %(zone)s: the clocks go back that night. Choose which one you mean: "
            "the first (UTC%(first)s, %(first_name)s) or the second (UTC%(second)s, %(second_name)s).",
            when=when, zone=zone_name, first=first.offset, first_name=first.abbreviation,
            second=second.offset, second_name=second.abbreviation)})
    return found[fold].instant


def rfc5545_local(value: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time where nobody can be asked, as RFC 5545 §3.3.5 reads it: the repeated hour
    means its first occurrence; a time in the gap moves on by the gap's length (zoneinfo's fold=0)."""
    return value.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


# ---------------------------------------------------------------- VTIMEZONE


@dataclass(frozen=True)
class Change:
    at: datetime  # UTC instant
    offset_from: timedelta
    offset_to: timedelta
    dst: bool
    name: str

    @property
    def local(self) -> datetime:
        """The onset as RFC 5545 writes it: the wall-clock time before the change."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    def byday(self) -> set[str]:
        """The BYDAY values that describe the onset's day: the n-th weekday and, if it is, the last (-1)."""
        day = self.local
        weekday = WEEKDAYS[day.weekday()]
        found = {f"{(day.day - 1) // 7 + 1}{weekday}"}
        if day.day + 7 > month_calendar.monthrange(day.year, day.month)[1]:
            found.add(f"-1{weekday}")
        return found


def _state(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, bool, str]:
    local = moment.astimezone(zone)
    return local.utcoffset(), (local.dst() or timedelta(0)) > timedelta(0), local.tzname() or ""


@lru_cache(maxsize=256)
def changes(zone_name: str, first_year: int, last_year: int) -> tuple[Change, ...]:
    """The zone's offset changes from 1 January of `first_year` to the end of `last_year` (UTC, to the second)."""
    zone = ZoneInfo(zone_name)
    start = datetime(first_year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    step = timedelta(hours=6)
    found = []
    moment, state = start, _state(zone, start)
    while moment < end:
        following = moment + step
        new_state = _state(zone, following)
        if new_state[0] != state[0]:
            low, high = moment, following  # the change lies in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _state(zone, middle)[0] == state[0]:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            # DAYLIGHT for a change that puts the clocks forward, as Outlook labels them (a negative
            # "daylight saving" like Dublin's winter is still the standard side); offsets decide anyway.
            found.append(Change(high, state[0], new_state[0], new_state[0] > state[0], new_state[2]))
        moment, state = following, new_state
    return tuple(c for c in found if first_year <= c.local.year <= last_year)


def _runs(items: list[Change]) -> list[tuple[list[Change], str | None]]:
    """Split same-kind changes into runs on one yearly rule (consecutive years, same month, weekday
    rule and time of day): (changes, BYDAY), BYDAY None for a change that fits no run."""
    runs: list[tuple[list[Change], set[str]]] = []
    for change in items:
        if runs:
            last, rule = runs[-1]
            previous = last[-1]
            common = rule & change.byday()
            if (
                change.local.year == previous.local.year + 1
                and change.local.month == previous.local.month
                and change.local.time() == previous.local.time()
                and common
            ):
                last.append(change)
                runs[-1] = (last, common)
                continue
        runs.append(([change], change.byday()))
    out = []
    for members, rule in runs:
        if len(members) == 1:
            out.append((members, None))
        else:
            # "-1SU" (last Sunday) is how Outlook writes the European rule; otherwise the n-th weekday.
            out.append((members, sorted(rule, key=lambda r: (not r.startswith("-"), r))[0]))
    return out


def vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for `zone_name` that is right from 1 January of `first_year` to the end of `last_year`."""
    zone = ZoneInfo(zone_name)
    component = Timezone()
    component.add("tzid", zone_name)
    found = changes(zone_name, first_year, last_year)
    # The offset in force before the window's first change (or all along), from the day before the window.
    offset, dst, name = _state(zone, found[0].at - timedelta(seconds=1) if found else datetime(first_year, 1, 1, tzinfo=UTC))
    start_local = datetime(first_year - 1, 12, 31)
    component.add_component(_observance(dst, name, start_local, offset, offset))
    kinds: dict[tuple, list[Change]] = {}
    for change in found:
        kinds.setdefault((change.offset_from, change.offset_to, change.dst, change.name), []).append(change)
    observances = []
    for members in kinds.values():
        for run, byday in _runs(members):
            first = run[0]
            observance = _observance(first.dst, first.name, first.local, first.offset_from, first.offset_to)
            if byday is not None:
                rule = {"freq": "YEARLY", "bymonth": first.local.month, "byday": byday}
                if run[-1].local.year < last_year:
                    rule["count"] = len(run)  # the rule stops inside the window (COUNT: no UNTIL-in-UTC pitfalls)
                observance.add("rrule", rule)
            observances.append((first.at, observance))
    for _, observance in sorted(observances, key=lambda pair: pair[0]):
        component.add_component(observance)
    return component


def _observance(dst: bool, name: str, start: datetime, offset_from: timedelta, offset_to: timedelta):
    observance = TimezoneDaylight() if dst else TimezoneStandard()
    observance.add("dtstart", start)
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", offset_to)
    if name:
        observance.add("tzname", name)
    return observance


def years_of(moments) -> tuple[int, int] | None:
    years = [m.year for m in moments]
    return (min(years), max(years)) if years else None


__all__ = ["Change", "Reading", "changes", "does_not_exist", "format_offset", "is_ambiguous", "readings",
           "resolve_local", "rfc5545_local", "vtimezone", "years_of", "date"]
