"""Organiser pages for monthly series: the one-form set-up, field errors, the coming dates with the
focus countries' local times and the daylight-saving warning, and who may see them."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.fairs import series as series_service
from app.fairs.models import Series
from app.fairs.series_views import parse_themes
from tests.conftest import csrf_from
from tests.factories import at, make_organiser, make_user

THEMES = ("Europe: new materials | DE,BE | new_materials\n"
          "\n"
          "North America: health | us, ca | biomedicine_health\n")


def _form(client, **changes) -> dict:
    data = {
        "title": "Cloud investment fair", "timezone": "Asia/Shanghai", "rrule": "FREQ=MONTHLY;BYDAY=2TH",
        "local_start": "15:00", "minutes": "240", "starts_on": "2027-01-01", "capacity": "",
        "themes": THEMES, "csrf_token": csrf_from(client.get("/series/new").text),
    }
    data.update(changes)
    return data


def _series_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Series))


def test_parse_themes_reads_one_theme_a_line_and_keeps_line_numbers():
    themes, lines = parse_themes(THEMES)
    assert themes == [
        {"theme": "Europe: new materials", "focus_countries": ["DE", "BE"], "focus_sectors": ["new_materials"]},
        {"theme": "North America: health", "focus_countries": ["US", "CA"], "focus_sectors": ["biomedicine_health"]},
    ]
    assert lines == [1, 3]


def test_organiser_creates_a_series_through_the_form(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client))

    assert response.status_code == 302
    created = db.session.scalars(select(Series)).one()
    assert response.headers["Location"] == f"/series/{created.id}"
    assert (created.title, created.rrule, created.local_start.strftime("%H:%M"), created.minutes, created.capacity) == (
        "Cloud investment fair", "FREQ=MONTHLY;BYDAY=2TH", "15:00", 240, None)
    assert [t["focus_countries"] for t in created.themes] == [["DE", "BE"], ["US", "CA"]]
    listing = client.get("/series")
    assert listing.status_code == 200 and "Cloud investment fair" in listing.text


def test_bad_rrule_is_a_field_error_and_nothing_is_saved(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, rrule="FREQ=SOMETIMES"))

    assert response.status_code == 422
    rrule_error = re.search(r'id="rrule-error">([^<]*)<', response.text)
    assert rrule_error and "not a valid RRULE" in rrule_error.group(1)
    assert 'aria-invalid="true"' in response.text
    assert _series_count() == 0


def test_a_bad_theme_line_is_shown_beside_the_themes_with_its_line_number(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, themes="Europe | DE | new_materials\nMars | XX | new_materials"))

    assert response.status_code == 422
    themes_error = re.search(r'id="themes-error">([^<]*)<', response.text)
    assert themes_error and themes_error.group(1).startswith("Line 2:")
    assert _series_count() == 0


def test_series_page_shows_local_times_and_the_daylight_saving_warning(client, login):
    organiser = make_organiser()
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        created = series_service.create_series(organiser, {
            "title": "Europe monthly", "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00", "minutes": 240,
            "starts_on": "2027-01-01",
            "themes": [{"theme": "Europe: new materials", "focus_countries": ["DE"], "focus_sectors": ["new_materials"]}],
        })
        series_service.make_due_fairs()
        login(organiser)
        page = client.get(f"/series/{created.id}")

    assert page.status_code == 200
    assert ("In Germany (Europe/Berlin) the fair on 8 Apr 2027 starts at 09:00 instead of 08:00"
            " — daylight saving") in page.text
    assert '<time datetime="2027-03-11T08:00:00+01:00">08:00</time>' in page.text
    assert '<time datetime="2027-04-08T09:00:00+02:00">09:00</time>' in page.text
    assert '<time datetime="2027-03-11T15:00:00+08:00">15:00</time>' in page.text
    made = re.findall(r'href="/fairs/(\d+)">Europe monthly: Europe: new materials</a>', page.text)
    assert len(made) == 3


@pytest.mark.parametrize("path", ["/series", "/series/new"])
def test_series_pages_are_for_organisers_only(client, login, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login?next=")

    login(make_user("attendee"))
    assert client.get(path).status_code == 403
