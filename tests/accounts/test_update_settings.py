"""A person's settings have one writer (`app.accounts.services.update_settings`) and one set of rules
(`SettingsSchema`): the settings page, the profile page, `PATCH /api/v1/me`, the language switch and an
organiser's `PATCH /api/v1/users/<id>` refuse the same input with the same message and write nothing."""

from __future__ import annotations

import pytest

from app.accounts.models import User
from app.accounts.services import update_settings
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from tests.conftest import csrf_from
from tests.factories import make_organiser, make_presenter, make_user

BAD_ZONE = "'Europe/Berlinn' is not a known time zone. Pick one from the list, e.g. Europe/Berlin or Asia/Shanghai."
BAD_ZONE_HTML = BAD_ZONE.replace("'", "&#39;")


def _reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _unchanged(user: User) -> tuple:
    user = _reload(user)
    return user.name, user.timezone, user.locale, user.bio, user.languages


def test_the_service_refuses_an_unknown_zone_naming_it_and_writes_nothing():
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai", locale="en")
    before = _unchanged(user)

    with pytest.raises(ValidationFailed) as refused:
        update_settings(user, {"name": "Someone Else", "timezone": "Europe/Berlinn"}, user)

    assert refused.value.fields == {"timezone": [BAD_ZONE]}
    assert _unchanged(user) == before


def test_the_service_changes_only_ones_own_settings():
    user = make_user("attendee", name="Zhao Min")
    organiser = make_organiser()

    with pytest.raises(NotFound):
        update_settings(user, {"name": "Someone Else"}, organiser)

    assert _reload(user).name == "Zhao Min"


def test_the_service_applies_the_same_rules_to_every_field():
    user = make_user("attendee", name="Zhao Min", locale="en")

    saved = update_settings(user, {"name": "  Li   Na ", "bio": "  Hi  ", "languages": ["EN", "de_DE", "en"],
                                   "timezone": " Europe/Paris ", "locale": "zh"}, user)

    assert (saved.name, saved.bio, saved.languages, saved.timezone, saved.locale) == (
        "Li Na", "Hi", ["en", "de-de"], "Europe/Paris", "zh")
    with pytest.raises(ValidationFailed) as refused:
        update_settings(user, {"name": " ", "locale": "fr", "languages": ["klingon!"], "bio": "x" * 2001}, user)
    assert refused.value.fields == {
        "name": ["A name is required."],
        "locale": ["Choose 中文 (zh) or English (en)."],
        "languages": ["'klingon!' is not a language code."],
        "bio": ["The bio has at most 2,000 characters."],
    }


def test_the_settings_page_refuses_an_unknown_zone_with_the_shared_message(login):
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai", locale="en")
    client = login(user)
    before = _unchanged(user)

    response = client.post("/me/settings", data={"csrf_token": csrf_from(client.get("/me/settings").text),
                                                 "name": "Someone Else", "locale": "en", "timezone": "Europe/Berlinn"})

    assert response.status_code == 422 and BAD_ZONE_HTML in response.text
    assert _unchanged(user) == before


def test_the_profile_page_refuses_an_unknown_zone_with_the_shared_message(login):
    user = make_presenter(name="Klaus Weber")
    client = login(user)
    before = _unchanged(user)

    response = client.post("/me/profile", data={"csrf_token": csrf_from(client.get("/me/profile").text),
                                                "name": "Someone Else", "locale": "en", "languages": "de",
                                                "timezone": "Europe/Berlinn"})

    assert response.status_code == 422 and BAD_ZONE_HTML in response.text
    assert _unchanged(user) == before


def test_patch_me_refuses_an_unknown_zone_with_the_shared_message(client, auth):
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai", locale="en")
    before = _unchanged(user)

    response = client.patch("/api/v1/me", json={"name": "Someone Else", "timezone": "Europe/Berlinn"},
                            headers=auth(user))

    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert response.json["error"]["details"]["fields"] == {"timezone": [BAD_ZONE]}
    assert _unchanged(user) == before


def test_patch_me_collapses_the_name_as_the_pages_do(client, auth):
    user = make_user("attendee", name="Zhao Min")

    response = client.patch("/api/v1/me", json={"name": "  Li   Na "}, headers=auth(user))

    assert response.status_code == 200 and response.json["name"] == "Li Na"
    assert _reload(user).name == "Li Na"


def test_an_organiser_changing_someones_zone_meets_the_same_rule(client, auth):
    user = make_user("attendee", name="Zhao Min", timezone="Asia/Shanghai")
    before = _unchanged(user)

    response = client.patch(f"/api/v1/users/{user.id}", json={"timezone": "Europe/Berlinn", "role": "presenter"},
                            headers=auth(make_organiser()))

    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"] == {"timezone": [BAD_ZONE]}
    assert _unchanged(user) == before and _reload(user).role == "attendee"


def test_the_language_switch_saves_through_the_same_writer(client, login):
    user = make_user("attendee", locale="zh")
    login(user)

    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_from(client.get("/").text)})

    assert _reload(user).locale == "en"


def test_patch_me_refuses_a_bio_that_is_not_text_and_writes_nothing(client, auth):
    person = make_user("attendee", name="Zhao Min")
    person.bio = "Trade promotion"
    db.session.commit()

    response = client.patch("/api/v1/me", json={"bio": {}, "name": "Someone else"}, headers=auth(person))

    assert response.status_code == 422 and "bio" in response.get_json()["error"]["details"]["fields"]
    db.session.expire_all()
    assert (person.bio, person.name) == ("Trade promotion", "Zhao Min")
