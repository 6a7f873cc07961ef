"""The fair pages, the series, notifications, error pages and the fairs API in Chinese for a person
whose language is zh: headings, labels, statuses, dates the Chinese way, and the API's messages."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from icalendar import Calendar

from app.extensions import db
from tests.conftest import csrf_from
from tests.factories import (at, make_fair, make_monthly_series, make_notification, make_organiser, make_presenter,
                             make_session, make_user)


@pytest.fixture
def login(login_as):
    """Each user signed in in a client of their own (tests/conftest.py)."""
    return login_as


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def test_agenda_in_chinese_with_chinese_dates_statuses_and_kinds(login):
    organiser = make_organiser()
    agent = make_presenter(name="Klaus Weber")
    fair = make_fair(organiser)  # 2026-12-10 15:00 in Shanghai, a Thursday
    make_session(fair, organiser, title="Membrane pitch", presenter_ids=[agent.id])
    make_session(fair, organiser, title="Hebei today", kind="city_promotion", track="cities")
    attendee = make_user("attendee", locale="zh")

    html = login(attendee).get(f"/fairs/{fair.id}").text
    text = _text(html)

    assert '<html lang="zh-CN">' in html
    assert '<h2 id="agenda-h">议程</h2>' in html
    assert "2026年12月10日 周四 15:00" in text
    assert '<time datetime="2026-12-10T07:00:00+00:00">' in html  # machine-readable stays ISO
    assert '<span class="badge badge-published">已发布</span>' in html
    assert '<span class="kind">项目推介</span>' in html and '<span class="kind">城市推介</span>' in html
    assert "时间按您所在的时区（Asia/Shanghai）显示。" in text
    assert ">报名</button>" in html
    for english in ("Agenda", "Presenters", "Add to calendar", "Live room", "Register", "city_promotion"):
        assert english not in text


def test_registering_flashes_in_chinese(login):
    fair = make_fair()
    client = login(make_user("attendee", locale="zh"))
    token = csrf_from(client.get(f"/fairs/{fair.id}").text)

    page = client.post(f"/fairs/{fair.id}/register", data={"csrf_token": token}, follow_redirects=True).text

    assert "您已报名。" in page and ">取消报名</button>" in page
    assert "You are registered" not in page


def test_fair_form_labels_and_errors_in_chinese(login):
    client = login(make_organiser(locale="zh"))

    form = client.get("/fairs/new").text
    assert "<label" in form and "开始时间（展会时区）" in form and 'value="保存展会"' in form
    assert "<h1>新建展会</h1>" in form

    response = client.post("/fairs/new", data={"csrf_token": csrf_from(form), "timezone": "Asia/Shanghai",
                                               "tracks": "main", "title": ""})
    text = _text(response.text)
    assert response.status_code == 422
    assert "展会未保存。请修改下方标出的字段。" in text
    for english in ("The fair was not saved", "This field is required", "Save fair", "Working hours"):
        assert english not in text


def test_session_form_conflict_in_chinese(login):
    organiser = make_organiser(locale="zh")
    fair = make_fair(organiser)
    make_session(fair, organiser, title="Opening", track="main")
    client = login(organiser)
    form = client.get(f"/fairs/{fair.id}/sessions/new").text

    response = client.post(f"/fairs/{fair.id}/sessions/new", data={
        "csrf_token": csrf_from(form), "title": "Clash", "kind": "pitch", "track": "main",
        "starts_at": "2026-12-10T15:10", "ends_at": "2026-12-10T15:40",
    })

    text = _text(response.text)
    assert response.status_code == 409
    assert "未保存：该时间存在冲突。" in text
    assert "分会场“main”已安排“Opening”（2026年12月10日 周四 15:00–15:45）。" in text
    assert "clashes" not in text and "already holds" not in text


def test_series_page_in_chinese_with_the_daylight_saving_warning(login):
    organiser = make_organiser(locale="zh")
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        created = make_monthly_series(organiser)
        page = login(organiser).get(f"/series/{created.id}")

    text = _text(page.text)
    assert page.status_code == 200
    assert "<h2>近期日期</h2>" in page.text
    assert "受夏令时影响，2027年4月8日 的展会在德国（Europe/Berlin）的开始时间为 09:00，而非 08:00" in text
    assert "15:00（Asia/Shanghai），时长 240 分钟" in text
    assert '<span class="badge badge-draft">草稿</span>' in page.text
    for english in ("Coming dates", "daylight saving", "Germany", "minutes", "Recurrence"):
        assert english not in text


def test_notifications_page_in_chinese(login):
    me = make_user("attendee", locale="zh")
    make_notification(me, "Starting in 24 hours: Membrane pitch", zh="24小时后开始：Membrane pitch")
    db.session.commit()
    client = login(me)

    page = client.get("/notifications").text
    text = _text(page)
    assert "<h1>通知</h1>" in page and ">全部标为已读</button>" in page and "标为已读" in text
    assert "Mark read" not in text and "Mark all read" not in text

    done = client.post("/notifications/read-all", data={"csrf_token": csrf_from(page)}, follow_redirects=True).text
    assert "已将 1 条通知标为已读。" in done
    assert "marked read" not in done


def test_not_found_page_in_chinese(login):
    client = login(make_user("attendee", locale="zh"))

    missing_fair = client.get("/fairs/999999")
    missing_path = client.get("/no-such-page")

    assert missing_fair.status_code == 404
    assert "<h1>未找到</h1>" in missing_fair.text and "展会不存在。" in missing_fair.text
    assert "返回展会列表" in missing_fair.text
    assert "该页面或对象不存在。" in missing_path.text
    for english in ("Not found", "No such fair", "Back to the fairs", "requested URL"):
        assert english not in missing_fair.text + missing_path.text


def test_schedule_conflict_api_message_in_chinese_keeps_its_code(client, auth):
    organiser = make_organiser(locale="zh")
    fair = make_fair(organiser)
    make_session(fair, organiser, title="Opening", track="main")

    response = client.post(f"/api/v1/fairs/{fair.id}/sessions", headers=auth(organiser), json={
        "title": "Clash", "kind": "pitch", "track": "main",
        "starts_at": (fair.starts_at + timedelta(minutes=10)).isoformat(),
        "ends_at": (fair.starts_at + timedelta(minutes=40)).isoformat(),
    })

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "schedule_conflict"
    assert error["message"] == "该时间存在冲突：分会场“main”已安排“Opening”（2026-12-10 15:00–15:45）。"
    assert error["details"]["conflicts"][0]["reason"] == "track"


def test_api_field_messages_in_chinese_and_english(client, auth):
    fair = make_fair()
    zh = client.get(f"/api/v1/fairs/{fair.id}/slot-suggestions?presenter_id=999&minutes=2",
                    headers=auth(make_organiser(locale="zh")))
    en = client.get(f"/api/v1/fairs/{fair.id}/slot-suggestions?presenter_id=999&minutes=2",
                    headers=auth(make_organiser()))

    assert zh.get_json()["error"]["details"]["fields"] == {"minutes": ["请填写 5 至 720 分钟之间的时长。"]}
    assert en.get_json()["error"]["details"]["fields"] == {"minutes": ["Give a length between 5 and 720 minutes."]}


def test_private_calendar_feed_speaks_the_persons_language(client):
    organiser = make_organiser()
    agent = make_presenter(name="Klaus Weber", locale="zh")
    fair = make_fair(organiser)
    make_session(fair, organiser, title="Membrane pitch", presenter_ids=[agent.id])

    body = client.get(f"/calendar/{agent.calendar_token}.ics", headers={"Accept-Language": "en"}).data

    event = next(c for c in Calendar.from_ical(body).walk("VEVENT") if "Membrane pitch" in str(c["SUMMARY"]))
    assert "推介人：Klaus Weber" in str(event["DESCRIPTION"])
    assert [str(c) for c in event["CATEGORIES"].cats] == ["项目推介"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_session_form_shows_the_session_schemas_messages_beside_its_fields(login, lang):
    from app.fairs.enums import SessionKind
    from tests.i18n import zh

    organiser = make_organiser(locale=lang)
    fair = make_fair(organiser)
    client = login(organiser)
    say = zh if lang == "zh" else (lambda msgid, **values: msgid % values)
    form = client.get(f"/fairs/{fair.id}/sessions/new").text

    response = client.post(f"/fairs/{fair.id}/sessions/new", data={
        "csrf_token": csrf_from(form), "title_en": "Pitch", "kind": "lecture", "track": "nowhere",
        "starts_at": "soon", "ends_at": "2026-12-10T15:40", "join_url": "https://" + "a" * 500,
    })

    def beside(field: str) -> str:
        found = re.search(f'id="{field}-error">([^<]*)</span>', response.text)
        return unescape(found.group(1)) if found else ""

    assert response.status_code == 422
    assert beside("kind") == say("Must be one of: %(choices)s.", choices=", ".join(k.value for k in SessionKind))
    assert beside("starts_at") == say("Give a date and time with a UTC offset (ISO 8601).")
    assert beside("join_url") == say("Give an http:// or https:// address.")
    assert "nowhere" in beside("track")
