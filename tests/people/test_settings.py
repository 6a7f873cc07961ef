"""My settings: name, language, time zone (with the zone search and its current offsets), password change,
and the private calendar link."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine
from markupsafe import escape
from sqlalchemy import func, select

from app.accounts import services
from app.accounts.models import ApiToken, AuditEvent, User
from app.errors import Unauthorized
from app.extensions import db
from tests.conftest import csrf_from
from tests.factories import PASSWORD, make_user
from tests.i18n import zh

NEW_PASSWORD = "a much longer new secret"


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def audit_actions(action: str | None = None) -> list[tuple]:
    db.session.expire_all()
    query = select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.subject_user_id).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.execute(query).all())


def settings_token(client) -> str:
    return csrf_from(client.get("/me/settings").text)


def save_settings(client, name: str, locale: str, timezone: str):
    """Send the settings form as the page would (with its CSRF token)."""
    return client.post("/me/settings", data={
        "csrf_token": settings_token(client), "name": name, "locale": locale, "timezone": timezone})


# ---------------------------------------------------------------- name, language, zone


def test_settings_page_shows_my_values_the_zone_list_and_my_calendar_link(login):
    user = make_user("attendee", name="Li Na", timezone="Europe/Berlin")
    client = login(user)

    response = client.get("/me/settings")

    assert response.status_code == 200
    html = response.text
    assert 'value="Li Na"' in html and 'value="Europe/Berlin"' in html
    assert 'list="tz-list"' in html and '<datalist id="tz-list">' in html
    assert '<option value="America/New_York"' in html
    assert f"http://localhost/calendar/{user.calendar_token}.ics" in html
    assert 'aria-live="polite"' in html and "js/settings.js" in html


def test_settings_page_needs_a_login(client):
    response = client.get("/me/settings")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_change_name_language_and_timezone(login):
    user = make_user("presenter", name="Klaus", timezone="Asia/Shanghai", locale="zh")
    client = login(user)

    response = save_settings(client, "  Klaus  Weber ", "en", "Europe/Berlin")

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/settings"
    user = reload(user)
    assert (user.name, user.locale, user.timezone) == ("Klaus Weber", "en", "Europe/Berlin")
    assert "Your settings are saved." in client.get("/me/settings").text


def test_unknown_timezone_is_refused_with_a_clear_error_and_nothing_is_written(login):
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai", locale="en")
    client = login(user)

    response = save_settings(client, "Someone Else", "zh", "Europe/Berlinn")

    assert response.status_code == 422
    assert "&#39;Europe/Berlinn&#39; is not a known time zone. Pick one from the list" in response.text
    assert 'id="timezone-error"' in response.text
    user = reload(user)
    assert (user.name, user.locale, user.timezone) == ("Zhao Min", "en", "Asia/Shanghai")


def test_an_empty_name_is_refused_and_nothing_is_written(login):
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai")
    client = login(user)

    response = save_settings(client, "   ", "en", "Europe/Paris")

    assert response.status_code == 422
    assert 'id="name-error"' in response.text
    assert (reload(user).name, reload(user).timezone) == ("Zhao Min", "Asia/Shanghai")


def test_settings_post_without_csrf_token_changes_nothing(login):
    user = make_user("attendee", name="Zhao Min")
    client = login(user)

    response = client.post("/me/settings", data={"name": "Hijacked", "locale": "en", "timezone": "UTC"})

    assert response.status_code in (400, 422)
    assert reload(user).name == "Zhao Min"


# ---------------------------------------------------------------- the zone search


def test_timezone_search_finds_zones_by_city_with_their_offset(client):
    with time_machine.travel(datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc), tick=False):
        response = client.get("/api/v1/timezones?q=berl")

    assert response.status_code == 200
    assert response.get_json() == {"items": [{
        "name": "Europe/Berlin", "offset": "+01:00", "offset_minutes": 60, "label": "Europe/Berlin (UTC+01:00)",
    }], "total": 1}


def test_timezone_search_understands_spaces_and_offsets(client):
    new_york = client.get("/api/v1/timezones?q=new york").get_json()["items"]
    kathmandu = client.get("/api/v1/timezones?q=%2B05:45").get_json()["items"]

    assert [z["name"] for z in new_york] == ["America/New_York"]
    assert "Asia/Kathmandu" in [z["name"] for z in kathmandu]
    assert {z["offset"] for z in kathmandu} == {"+05:45"}


def test_timezone_offsets_follow_daylight_saving_time(client):
    with time_machine.travel(datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc), tick=False):
        winter = client.get("/api/v1/timezones?q=Europe/Berlin").get_json()["items"][0]
    with time_machine.travel(datetime(2026, 7, 15, 12, 0, tzinfo=timezone.utc), tick=False):
        summer = client.get("/api/v1/timezones?q=Europe/Berlin").get_json()["items"][0]
        shanghai = client.get("/api/v1/timezones?q=Asia/Shanghai").get_json()["items"][0]

    assert (winter["offset"], summer["offset"]) == ("+01:00", "+02:00")
    assert (winter["offset_minutes"], summer["offset_minutes"]) == (60, 120)
    assert shanghai["offset"] == "+08:00"


def test_timezone_list_without_query_holds_every_usual_zone(client):
    body = client.get("/api/v1/timezones").get_json()

    names = [z["name"] for z in body["items"]]
    assert body["total"] == len(names) > 300
    assert {"Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles", "UTC"} <= set(names)
    assert not any(name.startswith("Etc/") for name in names)


def test_settings_page_datalist_shows_the_current_offsets(login):
    user = make_user("attendee")

    with time_machine.travel(datetime(2026, 7, 15, 12, 0, tzinfo=timezone.utc), tick=False):
        html = login(user).get("/me/settings").text  # signed in then: login cookies carry their time

    assert '<option value="Europe/Berlin" label="Europe/Berlin (UTC+02:00)">' in html


# ---------------------------------------------------------------- password


def change_password(client, current: str, new: str = NEW_PASSWORD, repeat: str | None = None):
    return client.post("/me/password", data={
        "csrf_token": settings_token(client), "current_password": current, "new_password": new,
        "repeat_password": new if repeat is None else repeat,
    })


def test_password_change_needs_the_current_password(login):
    user = make_user("attendee")
    client = login(user)

    response = change_password(client, "not my password")

    assert response.status_code == 422
    assert 'id="current_password-error"' in response.text
    assert "This is not your current password." in response.text
    assert services.authenticate(user.email, PASSWORD).id == user.id
    assert audit_actions("password_changed") == []


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"repeat": "a different new secret"}, "repeat_password", id="not-the-same-twice"),
    pytest.param({"new": "short"}, "new_password", id="too-short"),
])
def test_password_change_refuses_a_new_password_typed_differently_twice_or_too_short(login, change, field):
    user = make_user("attendee")
    client = login(user)

    response = change_password(client, PASSWORD, **change)

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert services.authenticate(user.email, PASSWORD).id == user.id


def test_password_change_ends_other_sessions_and_tokens_but_keeps_this_browser(app, login, auth):
    user = make_user("attendee")
    other_browser = app.test_client()
    other_browser.post("/login", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_from(other_browser.get("/login").text),
    })
    assert other_browser.get("/me/settings").status_code == 200
    headers = auth(user)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    client = login(user)

    response = change_password(client, PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/settings"
    assert client.get("/me/settings").status_code == 200
    gone = other_browser.get("/me/settings")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
    try:
        services.authenticate(user.email, PASSWORD)
        raise AssertionError("the old password still works")
    except Unauthorized:
        pass
    assert audit_actions("password_changed") == [("password_changed", user.id, user.id)]


# ---------------------------------------------------------------- calendar link


def test_calendar_regenerate_replaces_the_link_and_the_old_feed_is_gone(login):
    user = make_user("attendee")
    client = login(user)
    old = user.calendar_token
    assert client.get(f"/calendar/{old}.ics").status_code == 200

    response = client.post("/me/calendar", data={"csrf_token": settings_token(client), "next": "/me/settings"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/settings"
    new = reload(user).calendar_token
    assert new != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    assert f"http://localhost/calendar/{new}.ics" in client.get("/me/settings").text


def test_calendar_regenerate_returns_to_the_referring_page_but_never_off_site(login):
    client = login(make_user("attendee"))
    token = settings_token(client)

    from_calendar = client.post("/me/calendar", data={"csrf_token": token},
                                headers={"Referer": "http://localhost/me/calendar"})
    off_site = client.post("/me/calendar", data={"csrf_token": token, "next": "https://evil.example/x"})
    schemeless = client.post("/me/calendar", data={"csrf_token": token, "next": "//evil.example/x"})

    assert from_calendar.headers["Location"] == "/me/calendar"
    assert off_site.headers["Location"] == "/me/settings"
    assert schemeless.headers["Location"] == "/me/settings"


def test_calendar_regenerate_without_csrf_keeps_the_link(login):
    user = make_user("attendee")
    client = login(user)
    old = user.calendar_token

    client.post("/me/calendar", data={"next": "/me/settings"})

    assert reload(user).calendar_token == old


def _error(response, field: str) -> str:
    """The message shown beside a field of the page's form."""
    marker = f'id="{field}-error">'
    start = response.text.index(marker) + len(marker)
    return response.text[start:response.text.index("</span>", start)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_settings_form_shows_the_schemas_messages_beside_its_fields(login, lang):
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai", locale=lang)
    client = login(user)
    say = zh if lang == "zh" else (lambda msgid, **values: msgid % values)

    response = save_settings(client, "x" * 201, "fr", "")

    assert response.status_code == 422
    assert _error(response, "name") == say("At most %(n)d characters.", n=200)
    assert _error(response, "locale") == say("Choose 中文 (zh) or English (en).")
    assert _error(response, "timezone") == escape(say(
        "%(zone)s is not a known time zone. Pick one from the list, e.g. Europe/Berlin or Asia/Shanghai.", zone="''"))
    assert (reload(user).name, reload(user).timezone) == ("Zhao Min", "Asia/Shanghai")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_profile_form_shows_the_schemas_messages_beside_its_fields(login, lang):
    user = make_user("presenter", name="Klaus Weber", timezone="Europe/Berlin", locale=lang)
    client = login(user)
    say = zh if lang == "zh" else (lambda msgid, **values: msgid % values)

    response = client.post("/me/profile", data={"csrf_token": csrf_from(client.get("/me/profile").text),
                                                "name": " ", "bio": "b" * 2001, "timezone": "Europe/Berlin",
                                                "locale": "en"})

    assert response.status_code == 422
    assert _error(response, "name") == say("A name is required.")
    assert _error(response, "bio") == say("The bio has at most 2,000 characters.")
    assert reload(user).name == "Klaus Weber"
