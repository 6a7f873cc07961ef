"""Where things are in the demo province, asked of the live server's API (ids and times change per run)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MEMBRANE_SESSION = "Belgian wastewater membrane technology"  # Weber and Peeters pitch the membrane project
MEMBRANE_PROJECT = "Wastewater-treatment membrane technology"
#: The same in Chinese: Chinese pages show the demo's Chinese titles.
MEMBRANE_SESSION_ZH = "比利时污水处理膜技术推介"
MEMBRANE_PROJECT_ZH = "比利时污水处理膜技术"


def europe_fair(live_server) -> dict:
    """The published Europe fair with its agenda, as GET /api/v1/fairs/<id> returns it."""
    fairs = live_server.api("/api/v1/fairs?status=published&per_page=50")["items"]
    [summary] = [f for f in fairs if f["title"].startswith("Europe")]
    return live_server.api(f"/api/v1/fairs/{summary['id']}")


def session_titled(fair: dict, title: str) -> dict:
    [session] = [s for s in fair["sessions"] if s["title"] == title]
    return session


def membrane(live_server) -> dict:
    """The membrane pitch of the Europe fair: {"id", "fair_id", "project_id", "presenters": {name: id}}."""
    fair = europe_fair(live_server)
    session = session_titled(fair, MEMBRANE_SESSION)
    [project] = [p for p in session["projects"] if p["title"] == MEMBRANE_PROJECT]
    return {"id": session["id"], "fair_id": fair["id"], "project_id": project["id"],
            "presenters": {p["name"]: p["id"] for p in session["presenters"]}}


def local(iso: str, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO moment from the API as wall-clock time in `zone`."""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime(fmt)


#: How the pages write a moment per language (app/i18n.py), spelled out here so a change shows in the tests.
MOMENT = {"en": ("EEE d MMM y, HH:mm", "en_GB"), "zh": ("y年M月d日 EEE HH:mm", "zh_Hans_CN")}


def shown(iso: str, zone: str, language: str = "en") -> str:
    """An ISO moment from the API as the pages show it in `zone`: "Thu 10 Dec 2026, 08:30" in English."""
    from babel.dates import format_datetime

    pattern, locale = MOMENT[language]
    return format_datetime(datetime.fromisoformat(iso), pattern, tzinfo=ZoneInfo(zone), locale=locale)
