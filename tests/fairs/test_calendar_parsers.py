"""Every feed read by six independent iCalendar parsers gives the API's instants.

Fairs in ten zones (both hemispheres, with and without daylight saving, one with irregular changes) get sessions, made through
the API with UTC offsets, around both of 2027's clock changes: before, across and right after each
change, and twice in the repeated hour. The fair feeds, one session feed per zone and a presenter's
private feed (several zones and a lead's all-day next action in one file) are then read by
icalendar (with the zone database, and with the feed's VTIMEZONE alone, as Outlook does), vobject,
ics and recurring_ical_events in Python, and by ical.js (Thunderbird's parser, with the feed's
VTIMEZONEs registered) and node-ical in Node. Every event's start and end must equal the API's.

The Node parsers are installed pinned (`tests/fairs/node_ical/package-lock.json`) with `npm ci` on
first use; the tests skip with a reason only where `node` or `npm` is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.factories import make_organiser, make_presenter, make_project, make_user

from .calendar_helpers import make_lead

pytestmark = pytest.mark.parsers

UTC = timezone.utc
NODE_DIR = Path(__file__).parent / "node_ical"
YEAR = 2027
ZONES = [
    "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Shanghai", "Europe/Prague",
    "America/Toronto", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo",
    "Africa/Casablanca",  # irregular: the changes follow Ramadan, so no yearly rule fits them
]
#: Zones whose "later the same day" sessions the presenter holds (their changes never coincide).
PRESENTER_ZONES = {"Europe/Berlin", "America/New_York", "America/Los_Angeles", "Australia/Sydney", "Pacific/Auckland"}
PARSERS = ["icalendar", "icalendar-vtimezone-only", "vobject", "ics", "recurring_ical_events", "ical.js", "node-ical"]


# ---------------------------------------------------------------- the Node parsers


@pytest.fixture(scope="session")
def node_parsers() -> Path:
    """ical.js and node-ical installed from the lock file into tests/fairs/node_ical (once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the ical.js and node-ical readings (not installed here)")
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return NODE_DIR / "read_feeds.mjs"


def _read_with_node(script: Path, files: list[Path]) -> dict:
    # A zone far from every fair's: a parser that fell back to the machine's clock would show it.
    done = subprocess.run(["node", str(script), *map(str, files)], capture_output=True, text=True, timeout=300,
                          env={"PATH": shutil.os.environ.get("PATH", ""), "TZ": "Asia/Kolkata"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# ---------------------------------------------------------------- the Python parsers


def _instant(value) -> object:
    """A parsed start or end as an ISO UTC instant, or a date for an all-day event."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"floating time {value!r}: the parser could not place it"
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert isinstance(value, date)
    return value.isoformat()


def _pair(start, end) -> dict:
    start, end = _instant(start), _instant(end)
    return {"start": start, "end": end} if "T" in start else {"date": start, "end_date": end}


def _with_icalendar(text: bytes) -> dict:
    cal = Calendar.from_ical(text)
    return {str(e["UID"]): _pair(e.decoded("DTSTART"), e.decoded("DTEND")) for e in cal.walk("VEVENT")}


def _with_icalendar_vtimezones_only(text: bytes) -> dict:
    """The feed's VTIMEZONE rules alone, never the zone database's (as Outlook reads a feed)."""
    cal = Calendar.from_ical(text)
    zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in cal.walk("VTIMEZONE")}
    out = {}
    for event in cal.walk("VEVENT"):
        pair = []
        for name in ("DTSTART", "DTEND"):
            value = event.decoded(name)
            tzid = event[name].params.get("TZID")
            if tzid:
                value = value.replace(tzinfo=zones[tzid])
            pair.append(value)
        out[str(event["UID"])] = _pair(*pair)
    return out


def _with_vobject(text: bytes) -> dict:
    import vobject
    import vobject.icalendar

    # vobject keeps every TZID it has read in a process-wide map: each feed must bring its own.
    registry = getattr(vobject.icalendar, "__tzidMap")
    registry.clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    cal = vobject.readOne(text.decode())
    return {e.uid.value: _pair(e.dtstart.value, e.dtend.value) for e in cal.vevent_list}


def _with_ics(text: bytes) -> dict:
    import ics

    out = {}
    for event in ics.Calendar(text.decode()).events:
        if event.all_day:
            out[event.uid] = {"date": event.begin.date().isoformat(), "end_date": event.end.date().isoformat()}
        else:
            out[event.uid] = _pair(event.begin.datetime, event.end.datetime)
    return out


def _with_recurring_ical_events(text: bytes) -> dict:
    import recurring_ical_events

    cal = Calendar.from_ical(text)
    found = recurring_ical_events.of(cal).between(date(YEAR - 2, 1, 1), date(YEAR + 3, 1, 1))
    return {str(e["UID"]): _pair(e.decoded("DTSTART"), e.decoded("DTEND")) for e in found}


PYTHON_PARSERS = {
    "icalendar": _with_icalendar,
    "icalendar-vtimezone-only": _with_icalendar_vtimezones_only,
    "vobject": _with_vobject,
    "ics": _with_ics,
    "recurring_ical_events": _with_recurring_ical_events,
}


# ---------------------------------------------------------------- the fairs


def _clock_changes(zone_name: str, year: int) -> list[datetime]:
    """The UTC instants the zone's offset changes in `year`, found hour by hour (then to the minute)."""
    zone = ZoneInfo(zone_name)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    found = []
    while moment.year == year:
        following = moment + timedelta(hours=1)
        if moment.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            minute = moment
            while minute.astimezone(zone).utcoffset() == moment.astimezone(zone).utcoffset():
                minute += timedelta(minutes=1)
            found.append(minute)
        moment = following
    return found


def _session_times(zone_name: str) -> list[tuple[str, datetime, datetime]]:
    """Sessions (title, start, end) around each clock change of the year, and on ordinary days."""
    zone = ZoneInfo(zone_name)
    times = [("January", datetime(YEAR, 1, 20, 10, tzinfo=zone), datetime(YEAR, 1, 20, 11, tzinfo=zone)),
             ("July", datetime(YEAR, 7, 20, 10, tzinfo=zone), datetime(YEAR, 7, 20, 11, tzinfo=zone)),
             # The next year too: the VTIMEZONE's yearly rules must repeat rightly in every parser.
             ("next March", datetime(YEAR + 1, 3, 20, 10, tzinfo=zone), datetime(YEAR + 1, 3, 20, 11, tzinfo=zone)),
             ("next November", datetime(YEAR + 1, 11, 20, 10, tzinfo=zone), datetime(YEAR + 1, 11, 20, 11, tzinfo=zone))]
    minutes = timedelta(minutes=1)
    for n, change in enumerate(_clock_changes(zone_name, YEAR)):
        times += [
            (f"change {n}: the hour before", change - 90 * minutes, change - 60 * minutes),
            (f"change {n}: across it", change - 20 * minutes, change + 20 * minutes),
            (f"change {n}: right at it", change, change + 15 * minutes),
            (f"change {n}: first of a repeated half hour", change - 30 * minutes, change - 25 * minutes),
            (f"change {n}: second of a repeated half hour", change + 30 * minutes, change + 35 * minutes),
            (f"change {n}: the same day, later", change + 6 * 60 * minutes, change + 7 * 60 * minutes),
            (f"change {n}: the next day", change + 24 * 60 * minutes, change + 25 * 60 * minutes),
        ]
    return times


@pytest.fixture
def world(client, auth):
    """A fair per zone (made and filled through the API), a presenter in all of them, a lead with a next action."""
    organiser = make_organiser()
    presenter = make_presenter(name="Anna Weber")
    headers = auth(organiser)
    fairs, presented = [], set()
    for zone_name in ZONES:
        zone = ZoneInfo(zone_name)
        times = _session_times(zone_name)
        tracks = [f"track {n}" for n in range(len(times))]  # one each: the sessions overlap on purpose
        created = client.post("/api/v1/fairs", headers=headers, json={
            "title": f"Fair in {zone_name}", "timezone": zone_name, "tracks": tracks,
            "starts_at": datetime(YEAR, 1, 10, 9, tzinfo=zone).isoformat(),
            "ends_at": datetime(YEAR + 1, 12, 20, 18, tzinfo=zone).isoformat()})
        assert created.status_code == 201, created.text
        fair_id = created.json["id"]
        assert client.post(f"/api/v1/fairs/{fair_id}/publish", headers=headers).status_code == 200
        sessions = []
        for (title, start, end), track in zip(times, tracks):
            presents = zone_name in PRESENTER_ZONES and title.endswith("later")
            made = client.post(f"/api/v1/fairs/{fair_id}/sessions", headers=headers, json={
                "title": title, "kind": "pitch", "track": track, "starts_at": start.isoformat(),
                "ends_at": end.isoformat(), "presenter_ids": [presenter.id] if presents else []})
            assert made.status_code == 201, made.text
            sessions.append(made.json["id"])
            if presents:
                presented.add(f"session-{made.json['id']}@cloudfair")
        fairs.append({"id": fair_id, "zone": zone_name, "sessions": sessions})
    attendee = make_user("attendee", name="Liu Yang", organisation="张家口市商务局")
    lead = make_lead(attendee, make_project(presenter, title="Ice-rink blanket"), next_action_on=date(YEAR, 10, 31))
    assert len(presented) == 2 * len(PRESENTER_ZONES)
    return {"fairs": fairs, "presenter": presenter, "lead": lead, "presented": presented}


def _expected(client, world) -> dict[str, dict]:
    """UID → the API's instants for every fair and session (and the lead's next action date)."""
    out = {}
    for fair in world["fairs"]:
        body = client.get(f"/api/v1/fairs/{fair['id']}").json
        out[f"fair-{fair['id']}@cloudfair"] = _pair(datetime.fromisoformat(body["starts_at"]),
                                                   datetime.fromisoformat(body["ends_at"]))
        listed = client.get(f"/api/v1/fairs/{fair['id']}/sessions?per_page=100").json["items"]
        assert len(listed) == len(fair["sessions"])
        for session in listed:
            out[f"session-{session['id']}@cloudfair"] = _pair(datetime.fromisoformat(session["starts_at"]),
                                                             datetime.fromisoformat(session["ends_at"]))
    lead = world["lead"]
    out[f"lead-{lead.id}-next-action@cloudfair"] = {
        "date": lead.next_action_on.isoformat(), "end_date": (lead.next_action_on + timedelta(days=1)).isoformat()}
    return out


def _feeds(client, world, folder: Path) -> dict[Path, set[str]]:
    """Every feed written to a file, with the UIDs each must hold."""
    feeds: dict[Path, set[str]] = {}

    def save(url: str, name: str, uids: set[str]) -> None:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/calendar", url
        path = folder / name
        path.write_bytes(response.data)
        feeds[path] = uids

    for fair in world["fairs"]:
        uids = {f"fair-{fair['id']}@cloudfair"} | {f"session-{s}@cloudfair" for s in fair["sessions"]}
        save(f"/fairs/{fair['id']}.ics", f"fair-{fair['id']}.ics", uids)
        # The second of the last change's repeated half hours (a plain session where there is no change).
        repeated = fair["sessions"][-3] if len(fair["sessions"]) > 4 else fair["sessions"][0]
        save(f"/sessions/{repeated}.ics", f"session-{repeated}.ics", {f"session-{repeated}@cloudfair"})
    save(f"/calendar/{world['presenter'].calendar_token}.ics", "presenter.ics", world["presented"])
    lead = world["lead"]
    save(f"/calendar/{lead.owner.calendar_token}.ics", "owner.ics", {f"lead-{lead.id}-next-action@cloudfair"})
    return feeds


def _readings(parser: str, feeds: dict[Path, set[str]], node_script: Path | None) -> dict[Path, dict]:
    if parser in PYTHON_PARSERS:
        return {path: PYTHON_PARSERS[parser](path.read_bytes()) for path in feeds}
    read = _read_with_node(node_script, list(feeds))[parser]
    return {path: read[str(path)] for path in feeds}


@pytest.mark.parametrize("parser", PARSERS)
def test_every_parser_reads_every_feed_at_the_api_instants(parser, client, world, tmp_path, request):
    node_script = request.getfixturevalue("node_parsers") if parser in ("ical.js", "node-ical") else None
    expected = _expected(client, world)
    feeds = _feeds(client, world, tmp_path)
    assert sum(len(uids) for uids in feeds.values()) > 9 * 16  # every zone's sessions are in play

    wrong = []
    for path, read in _readings(parser, feeds, node_script).items():
        assert set(read) == feeds[path], f"{parser} read other events from {path.name}"
        for uid, instants in read.items():
            if instants != expected[uid]:
                wrong.append(f"{path.name} {uid}: read {instants}, the API says {expected[uid]}")
    assert not wrong, f"{parser} misreads {len(wrong)} times:\n" + "\n".join(wrong[:20])


def test_the_sessions_cover_both_changes_and_the_repeated_hour_in_every_zone_with_daylight_saving():
    """The test data itself: each zone with daylight saving has two changes in the year, one going back."""
    for zone_name in ZONES:
        changes = _clock_changes(zone_name, YEAR)
        if zone_name in ("Asia/Shanghai", "America/Sao_Paulo"):
            assert changes == []
            continue
        assert len(changes) == 2, zone_name
        zone = ZoneInfo(zone_name)
        backs = [c for c in changes if (c - timedelta(minutes=1)).astimezone(zone).utcoffset() > c.astimezone(zone).utcoffset()]
        assert len(backs) == 1, zone_name
        first, second = backs[0] - timedelta(minutes=30), backs[0] + timedelta(minutes=30)
        assert first.astimezone(zone).replace(tzinfo=None) == second.astimezone(zone).replace(tzinfo=None, fold=0)
