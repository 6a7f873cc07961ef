"""The VTIMEZONEs the feeds write, read back rule by rule against the zone database, and the local-time rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.errors import ValidationFailed
from app.fairs.timezones import changes, readings, resolve_local, rfc5545_local, vtimezone

UTC = timezone.utc

# Regular rules, a rule change inside the window (US 2007), irregular Ramadan changes (Casablanca),
# DST abolished (São Paulo 2019), half-hour DST (Lord Howe), a skipped day (Apia 2011), negative DST (Dublin).
WINDOWS = [
    ("Europe/Berlin", 2026, 2028), ("America/New_York", 2005, 2008), ("America/Los_Angeles", 2027, 2027),
    ("Africa/Casablanca", 2026, 2028), ("America/Sao_Paulo", 2017, 2020), ("Australia/Lord_Howe", 2026, 2027),
    ("Pacific/Apia", 2011, 2012), ("Europe/Dublin", 2026, 2027), ("Asia/Shanghai", 2027, 2027),
    ("Pacific/Auckland", 2026, 2028), ("Australia/Sydney", 2027, 2027),
]


def _read_back(zone_name: str, first: int, last: int):
    """The component as a calendar program that trusts the VTIMEZONE (never its own database) reads it."""
    text = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" + vtimezone(zone_name, first, last).to_ical() + \
        b"END:VCALENDAR\r\n"
    return Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False), text


def _moments(zone_name: str, first: int, last: int):
    """Noon every day of the window, and a minute either side of each change."""
    zone = ZoneInfo(zone_name)
    day = datetime(first, 1, 1, 12, tzinfo=UTC)
    while day.year <= last:
        yield day
        day += timedelta(days=1)
    for change in changes(zone_name, first, last):
        for delta in (-60, -1, 0, 60, 3600):
            yield change.at + timedelta(seconds=delta)
    del zone


@pytest.mark.parametrize(("zone_name", "first", "last"), WINDOWS)
def test_the_vtimezone_alone_gives_the_zone_databases_offset_at_every_moment_of_its_window(zone_name, first, last):
    written, text = _read_back(zone_name, first, last)
    zone = ZoneInfo(zone_name)
    wrong = []
    for moment in _moments(zone_name, first, last):
        local = moment.astimezone(zone)
        # The written rules must place the same wall-clock time (with its fold) at the same instant.
        read = local.replace(tzinfo=written)
        if read.utcoffset() != local.utcoffset() and local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
            wrong.append(f"{local:%Y-%m-%d %H:%M}: {read.utcoffset()} instead of {local.utcoffset()}")
    assert not wrong, "\n".join(wrong[:10])
    # One value per RDATE line at most, and nothing before the window.
    assert b"RDATE" not in text or all(b"," not in line for line in text.splitlines() if line.startswith(b"RDATE"))
    assert not any(line.startswith(b"DTSTART:") and int(line[8:12]) < first - 1 for line in text.splitlines())


def test_regular_rules_are_written_as_yearly_rrules_and_a_rule_change_closes_the_old_one():
    text = vtimezone("America/New_York", 2005, 2008).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;COUNT=2;BYDAY=1SU;BYMONTH=4" in text  # 2005–2006: first Sunday of April
    assert "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in text  # from 2007: second Sunday of March
    berlin = vtimezone("Europe/Berlin", 2026, 2028).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in berlin and "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in berlin
    assert berlin.count("BEGIN:DAYLIGHT") == 1 and berlin.count("BEGIN:STANDARD") == 2


def test_a_feed_zone_covers_only_its_years_so_it_stays_small():
    one_year = vtimezone("Europe/Berlin", 2027, 2027).to_ical()
    assert len(one_year) < 600
    assert b"1970" not in one_year and b"2037" not in one_year
    shanghai = vtimezone("Asia/Shanghai", 2027, 2027).to_ical().decode()
    assert shanghai.count("BEGIN:STANDARD") == 1 and "TZOFFSETTO:+0800" in shanghai and "RRULE" not in shanghai


# ---------------------------------------------------------------- the local-time rule


BERLIN = "Europe/Berlin"


def test_a_time_in_the_repeated_hour_has_two_readings_and_needs_a_choice():
    found = readings(datetime(2027, 10, 31, 2, 30), BERLIN)
    assert [(r.instant, r.offset, r.abbreviation) for r in found] == [
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "+02:00", "CEST"),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), "+01:00", "CET"),
    ]
    with pytest.raises(ValidationFailed) as asked:
        resolve_local(datetime(2027, 10, 31, 2, 30), BERLIN, "starts_at")
    assert "occurs twice" in asked.value.fields["starts_at"][0]
    assert resolve_local(datetime(2027, 10, 31, 2, 30), BERLIN, "starts_at", 0) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert resolve_local(datetime(2027, 10, 31, 2, 30), BERLIN, "starts_at", 1) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_a_time_in_the_spring_gap_is_refused_and_an_ordinary_one_needs_no_choice():
    assert readings(datetime(2027, 3, 28, 2, 30), BERLIN) == []
    with pytest.raises(ValidationFailed) as refused:
        resolve_local(datetime(2027, 3, 28, 2, 30), BERLIN, "ends_at", 0)
    assert "does not exist" in refused.value.fields["ends_at"][0]
    assert resolve_local(datetime(2027, 3, 28, 3, 30), BERLIN, "ends_at") == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    # Southern hemisphere: Sydney's repeated hour is in April.
    assert len(readings(datetime(2027, 4, 4, 2, 30), "Australia/Sydney")) == 2


def test_where_nobody_can_be_asked_rfc_5545_reads_the_gap_forward_and_the_repeat_as_the_first():
    zone = ZoneInfo(BERLIN)
    assert rfc5545_local(datetime(2027, 3, 28, 2, 30), zone).astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert rfc5545_local(datetime(2027, 3, 28, 2, 30), zone).strftime("%H:%M") == "03:30"
    assert rfc5545_local(datetime(2027, 10, 31, 2, 30), zone).astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
