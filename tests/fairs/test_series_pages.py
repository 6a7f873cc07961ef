"""Organiser pages for monthly series: the one-form set-up, field errors, the coming dates with the
focus countries' local times and the daylight-saving warning, and who may see them."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from itertools import islice

import pytest
import time_machine
from dateutil.rrule import rrulestr
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.fairs import series as series_service
from app.fairs.models import Series
from app.fairs.series_views import rrule_in_words
from tests.conftest import csrf_from
from tests.factories import at, make_monthly_series, make_organiser, make_user

def _fields(**changes) -> dict:
    """The form as a person fills it: every month on the second Thursday at 15:00 Beijing time, 240 minutes,
    two months of themes (the third row left empty); no CSRF token."""
    data = {
        "title": "Cloud investment fair", "interval": "1", "pattern": "weekday", "ordinal": "2", "weekday": "TH",
        "month_day": "", "local_start": "15:00", "timezone": "Asia/Shanghai", "minutes": "240",
        "starts_on": "2027-01-01", "capacity": "",
        "themes-0-theme_en": "Europe: new materials", "themes-0-focus_countries": ["DE", "BE"],
        "themes-0-focus_sectors": ["new_materials"],
        "themes-1-theme_en": "North America: health", "themes-1-focus_countries": ["US", "CA"],
        "themes-1-focus_sectors": ["biomedicine_health"],
        "themes-2-theme_en": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _form(client, **changes) -> dict:
    """`_fields` with the CSRF token of the organiser's new-series page."""
    return _fields(csrf_token=csrf_from(client.get("/series/new").text), **changes)


def _series_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Series))


def _error(html: str, field_id: str) -> str | None:
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    return match.group(1) if match else None


def test_build_rrule_composes_dateutils_rule_from_the_words():
    assert series_service.build_rrule("weekday", ordinal="2", weekday="TH") == "FREQ=MONTHLY;BYDAY=+2TH"
    assert series_service.build_rrule("weekday", interval="2", ordinal="-1", weekday="TU") == (
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1TU")
    assert series_service.build_rrule("monthday", month_day="15") == "FREQ=MONTHLY;BYMONTHDAY=15"
    with pytest.raises(ValidationFailed) as refused:
        series_service.build_rrule("weekday", ordinal="2", weekday="")
    assert set(refused.value.fields) == {"weekday"}
    with pytest.raises(ValidationFailed) as refused:
        series_service.build_rrule("monthday", month_day="31")
    assert set(refused.value.fields) == {"month_day"}


@pytest.mark.parametrize(("rule", "words"), [
    ("FREQ=MONTHLY;BYDAY=+2TH", "every month, on the second Thursday"),
    ("FREQ=MONTHLY;BYDAY=2TH", "every month, on the second Thursday"),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1TU", "every second month, on the last Tuesday"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "every month, on day 15"),
    ("FREQ=WEEKLY;BYDAY=MO", None),
    ("FREQ=MONTHLY;BYDAY=MO,TU", None),
    ("FREQ=MONTHLY;INTERVAL=5;BYDAY=1MO", None),
])
def test_a_series_rule_in_words(app, rule, words):
    with app.test_request_context("/"):
        assert rrule_in_words(rule) == words


def test_the_new_series_form_has_words_not_codes(client, login):
    login(make_organiser())

    page = client.get("/series/new").text

    advanced = re.search(r'<details class="advanced">.*?</details>', page, re.S)
    assert advanced, "the RRULE only in the closed advanced part"
    outside = page.replace(advanced.group(0), "")
    assert "RRULE" not in outside and "FREQ=" not in outside
    assert '<option selected value="2">second</option>' in page
    assert '<option selected value="TH">Thursday</option>' in page
    assert '<option selected value="Asia/Shanghai">Beijing time (Asia/Shanghai, UTC+08:00)</option>' in page
    assert '<option value="DE">Germany</option>' in page
    assert re.search(r'<input[^>]*name="themes-0-focus_sectors"[^>]*type="checkbox"[^>]*value="new_materials"', page)
    assert len(re.findall(r'name="themes-\d+-theme_zh"', page)) == 3


def test_a_series_made_with_the_form_has_the_rrule_and_fairs_the_api_would_make(client, login):
    organiser = make_organiser()

    with time_machine.travel(at("2026-12-15T00:00+00:00"), tick=False):
        login(organiser)
        response = client.post("/series/new", data=_form(client))
        assert response.status_code == 302
        made = db.session.scalars(select(Series)).one()
        assert response.headers["Location"] == f"/series/{made.id}"
        by_api = series_service.create_series(organiser, {
            "title": "Cloud investment fair", "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00",
            "minutes": 240, "starts_on": "2027-01-01", "themes": [
                {"theme": "Europe: new materials", "focus_countries": ["DE", "BE"], "focus_sectors": ["new_materials"]},
                {"theme": "North America: health", "focus_countries": ["US", "CA"],
                 "focus_sectors": ["biomedicine_health"]}]})
        fairs = series_service.make_due_fairs()
        listing = client.get("/series")
        page = client.get(f"/series/{made.id}")

    assert listing.status_code == 200 and "Cloud investment fair" in listing.text
    assert "every month, on the second Thursday" in listing.text
    assert "every month, on the second Thursday <small" in page.text
    assert made.rrule == "FREQ=MONTHLY;BYDAY=+2TH"
    start = datetime(2027, 1, 1, 15)
    assert list(islice(rrulestr(made.rrule, dtstart=start), 12)) == list(islice(rrulestr(by_api.rrule, dtstart=start), 12))
    assert (made.timezone, made.local_start, made.minutes, made.capacity, made.themes) == (
        by_api.timezone, by_api.local_start, by_api.minutes, by_api.capacity, by_api.themes)

    def shape(series_id):
        return [(f.starts_at, f.ends_at, f.theme, f.focus_countries, f.focus_sectors)
                for f in sorted(fairs, key=lambda f: f.starts_at) if f.series_id == series_id]

    assert len(shape(made.id)) == 3 and shape(made.id) == shape(by_api.id)
    assert shape(made.id)[0][0] == at("2027-01-14T07:00+00:00")  # the second Thursday, 15:00 Beijing


def test_a_day_of_the_month_series(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, pattern="monthday", month_day="15", weekday=""))

    assert response.status_code == 302
    assert db.session.scalars(select(Series)).one().rrule == "FREQ=MONTHLY;BYMONTHDAY=15"


def test_preview_shows_the_next_six_dates_and_the_dst_warning_and_saves_nothing(client, login):
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        login(make_organiser())
        response = client.post("/series/new", data=_form(
            client, preview="Preview the dates", **{"themes-1-focus_countries": ["US"]}))

    assert response.status_code == 200
    page = response.text
    assert "The next 6 dates" in page
    assert _series_count() == 0
    host_times = re.findall(r'<time datetime="(2027-\d\d-\d\dT15:00:00\+08:00)">15:00</time>', page)
    assert host_times == ["2027-02-11T15:00:00+08:00", "2027-03-11T15:00:00+08:00", "2027-04-08T15:00:00+08:00",
                          "2027-05-13T15:00:00+08:00", "2027-06-10T15:00:00+08:00", "2027-07-08T15:00:00+08:00"]
    # Berlin in the odd months (rotation: Europe, North America, Europe …), New York in the even ones
    assert '<time datetime="2027-03-11T08:00:00+01:00">08:00</time>' in page
    assert '<time datetime="2027-05-13T09:00:00+02:00">09:00</time>' in page
    assert '<time datetime="2027-02-11T02:00:00-05:00">02:00</time>' in page
    assert '<time datetime="2027-04-08T03:00:00-04:00">03:00</time>' in page
    assert ("In Germany (Europe/Berlin) the fair on 13 May 2027 starts at 09:00 instead of 08:00"
            " — daylight saving") in page
    assert ("In United States (America/New_York) the fair on 8 Apr 2027 starts at 03:00 instead of 02:00"
            " — daylight saving") in page
    # the form keeps what was typed
    assert 'value="Europe: new materials"' in page


def test_add_another_month_shows_one_more_row_and_keeps_the_others(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, add_month="Add another month"))

    assert response.status_code == 200
    assert len(re.findall(r'name="themes-\d+-theme_zh"', response.text)) == 4
    assert 'value="North America: health"' in response.text
    assert _series_count() == 0


@pytest.mark.parametrize(("changes", "field_id", "words"), [
    ({"weekday": ""}, "weekday", "Choose a weekday."),
    ({"local_start": "25:00"}, "local_start", "Give the local start time as HH:MM."),
    ({"pattern": "monthday", "month_day": "40"}, "month_day", "from 1 to 31"),
    ({"themes-1-focus_countries": ["XX"]}, "themes-1-focus_countries", "XX"),
    ({"themes-0-theme_en": ""}, "themes-0-theme_zh", "Each month needs a theme."),
    ({"themes-0-theme_zh": "长" * 301}, "themes-0-theme_zh", "300"),
])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(client, login, changes, field_id, words):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, **changes))

    assert response.status_code == 422
    message = _error(response.text, field_id)
    assert message and words in message
    assert 'aria-invalid="true"' in response.text
    assert _series_count() == 0


def test_no_weekday_and_a_bad_time_are_both_named_at_once(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, weekday="", local_start="25:00"))

    assert response.status_code == 422
    assert _error(response.text, "weekday") and _error(response.text, "local_start")
    assert _series_count() == 0


def test_no_theme_at_all_is_named_under_the_months(client, login):
    login(make_organiser())
    empty = {f"themes-{n}-{part}": None for n in range(3) for part in ("theme_en", "focus_countries", "focus_sectors")}

    response = client.post("/series/new", data=_form(client, **empty))

    assert response.status_code == 422
    assert _error(response.text, "themes") and _series_count() == 0


def test_series_page_shows_local_times_and_the_daylight_saving_warning(client, login):
    organiser = make_organiser()
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        created = make_monthly_series(organiser)
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


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def test_the_series_form_preview_and_errors_in_chinese(client, login):
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        login(make_organiser(locale="zh"))
        page = client.get("/series/new").text
        preview = client.post("/series/new", data=_form(client, preview="预览日期"))
        refused = client.post("/series/new", data=_form(client, weekday="", local_start="25:00"))

    text = _text(page)
    for words in ("展会何时举行", "重复频率", "每月", "第二个", "星期四", "北京时间（Asia/Shanghai，UTC+08:00）",
                  "每月主题（轮流使用）", "第 1 个月", "重点国家", "德国"):
        assert words in text, words
    for button in ("再加一个月", "预览日期", "创建系列"):
        assert f'value="{button}"' in page, button
    for english in ("Thursday", "second", "every month", "Add another month", "Preview the dates", "Germany"):
        assert english not in text and english not in page, english

    assert preview.status_code == 200
    shown = _text(preview.text)
    assert "接下来的 6 个日期" in shown and "尚未保存。" in shown
    with client.application.test_request_context("/"):
        from flask_babel import force_locale
        with force_locale("zh"):
            assert rrule_in_words("FREQ=MONTHLY;BYDAY=+2TH") == "每月的第二个星期四"
    assert "受夏令时影响，2027年5月13日 的展会在德国（Europe/Berlin）的开始时间为 09:00，而非 08:00" in shown

    assert refused.status_code == 422
    summary = _text(re.search(r'<ul id="error-summary">(.*?)</ul>', refused.text, re.S).group(1))
    assert "星期几 ：请选择星期几。" in summary
    assert "开始时间（24 小时制） ：请按 HH:MM 格式填写当地开始时间。" in summary
    assert _series_count() == 0


# ---------------------------------------------------------------- across a clock change, the advanced RRULE, the preview


def test_a_series_made_with_the_form_in_a_summer_time_zone_keeps_its_local_hour_across_the_change(client, login):
    """15:00 Berlin time on the second Thursday: 14:00 UTC in winter, 13:00 UTC after the clocks go
    forward on 28 March 2027; Beijing (no summer time) sees the fair an hour earlier from April."""
    organiser = make_organiser()
    with time_machine.travel(at("2027-01-20T00:00+00:00"), tick=False):
        login(organiser)
        response = client.post("/series/new", data=_form(
            client, timezone="Europe/Berlin", starts_on="2027-02-01",
            **{"themes-0-focus_countries": ["CN"], "themes-1-focus_countries": ["CN"]}))
        made = db.session.scalars(select(Series)).one()
        fairs = sorted(series_service.make_due_fairs(), key=lambda f: f.starts_at)
        page = client.get(f"/series/{made.id}")

    assert response.status_code == 302
    assert (made.timezone, made.rrule, made.local_start.isoformat()) == ("Europe/Berlin", "FREQ=MONTHLY;BYDAY=+2TH",
                                                                         "15:00:00")
    assert [f.starts_at for f in fairs] == [at("2027-02-11T14:00+00:00"), at("2027-03-11T14:00+00:00"),
                                            at("2027-04-08T13:00+00:00")]
    assert all(f.timezone == "Europe/Berlin" for f in fairs)
    assert '<time datetime="2027-03-11T22:00:00+08:00">22:00</time>' in page.text
    assert '<time datetime="2027-04-08T21:00:00+08:00">21:00</time>' in page.text
    assert ("In China (Asia/Shanghai) the fair on 8 Apr 2027 starts at 21:00 instead of 22:00"
            " — daylight saving") in page.text


def test_the_advanced_rrule_field_replaces_the_choices(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, rrule="RRULE:FREQ=MONTHLY;BYDAY=-1FR", weekday=""))

    assert response.status_code == 302
    made = db.session.scalars(select(Series)).one()
    assert made.rrule == "FREQ=MONTHLY;BYDAY=-1FR"
    assert "every month, on the last Friday" in client.get(f"/series/{made.id}").text


def test_a_bad_advanced_rrule_is_refused_beside_it_and_nothing_is_saved(client, login):
    login(make_organiser())

    response = client.post("/series/new", data=_form(client, rrule="FREQ=FORTNIGHTLY"))

    assert response.status_code == 422
    assert "This is not a valid RRULE" in _error(response.text, "rrule")
    assert re.search(r'<details class="advanced" open>', response.text)
    assert _series_count() == 0


def test_the_form_offers_the_rrule_only_as_an_advanced_field(client, login):
    login(make_organiser())

    page = client.get("/series/new").text

    assert re.search(r'<details class="advanced">\s*<summary>Advanced: type the rule as an RRULE</summary>', page)
    assert re.search(r'<input[^>]*id="rrule"[^>]*value=""', page) or 'id="rrule"' in page
    assert 'data-preview-url="/series/preview"' in page


def test_the_preview_endpoint_returns_the_dates_as_a_fragment_and_saves_nothing(client, login):
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        login(make_organiser())
        response = client.post("/series/preview", data=_form(client, **{"themes-1-focus_countries": ["US"]}))

    assert response.status_code == 200
    assert "<html" not in response.text and "<form" not in response.text
    text = _text(response.text)
    assert "The next 6 dates" in text and "every month, on the second Thursday" in text
    assert '<time datetime="2027-03-11T08:00:00+01:00">08:00</time>' in response.text
    assert ("In Germany (Europe/Berlin) the fair on 13 May 2027 starts at 09:00 instead of 08:00"
            " — daylight saving") in text
    assert _series_count() == 0


def test_the_preview_endpoint_names_what_is_missing_and_saves_nothing(client, login):
    login(make_organiser())

    response = client.post("/series/preview", data=_form(client, weekday="", local_start="25:00"))

    assert response.status_code == 422
    text = _text(response.text)
    assert "No preview yet" in text
    assert "Weekday: Choose a weekday." in text
    assert "Start time (24-hour clock): Give the local start time as HH:MM." in text
    assert _series_count() == 0


def test_the_preview_endpoint_is_for_organisers_only(client, login):
    def filled(page: str) -> dict:  # the filled form with a CSRF token from a page this visitor may open
        return _fields(csrf_token=csrf_from(client.get(page).text))

    anonymous = client.post("/series/preview", data=filled("/login"))
    assert anonymous.status_code in (302, 401) and "The next" not in anonymous.text

    login(make_user("attendee"))
    refused = client.post("/series/preview", data=filled("/"))
    assert refused.status_code == 403 and "The next" not in refused.text
    assert _series_count() == 0
