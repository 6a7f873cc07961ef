"""Tokens, who-am-I, passwords, sessions, and creating people over the API and the login pages."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import services
from app.accounts.models import ApiToken, Organisation, User
from app.extensions import db
from app.types import utcnow
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, make_organiser, make_user


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def is_logged_in(client) -> bool:
    return client.get("/me/calendar").status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- tokens


def test_token_for_good_credentials_returns_token_and_user(client):
    user = make_user("attendee", email="Zhao.Min@Example.org", name="Zhao Min")

    response = client.post("/api/v1/auth/token", json={"email": "zhao.min@example.org", "password": PASSWORD})

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["user"]["id"] == user.id
    assert (body["user"]["email"], body["user"]["name"], body["user"]["role"]) == (
        "zhao.min@example.org", "Zhao Min", "attendee"
    )
    assert "password" not in body["user"] and "password_hash" not in body["user"]


def test_token_is_stored_only_hashed(client):
    make_user("attendee", email="hash@example.org")

    plain = client.post("/api/v1/auth/token", json={"email": "hash@example.org", "password": PASSWORD}).get_json()["token"]

    rows = db.session.execute(select(ApiToken.__table__)).all()
    assert len(rows) == 1
    assert all(plain not in str(value) for value in rows[0])
    assert rows[0].token_hash == hashlib.sha256(plain.encode()).hexdigest()


def test_wrong_password_and_unknown_email_get_the_same_401(client):
    make_user("attendee", email="known@example.org")

    wrong_password = client.post("/api/v1/auth/token", json={"email": "known@example.org", "password": "nope-nope"})
    unknown_email = client.post("/api/v1/auth/token", json={"email": "ghost@example.org", "password": PASSWORD})
    not_an_email = client.post("/api/v1/auth/token", json={"email": "ghost", "password": PASSWORD})

    assert wrong_password.status_code == unknown_email.status_code == not_an_email.status_code == 401
    assert wrong_password.get_json() == unknown_email.get_json() == not_an_email.get_json()
    assert wrong_password.get_json()["error"]["code"] == "invalid_credentials"
    assert count(ApiToken) == 0


def test_inactive_user_gets_no_token(client):
    user = make_user("attendee", email="gone@example.org")
    user.active = False
    db.session.commit()

    response = client.post("/api/v1/auth/token", json={"email": "gone@example.org", "password": PASSWORD})

    assert response.status_code == 401


def test_me_with_the_token(client, auth):
    user = make_user("presenter", name="Klaus Weber", timezone="Europe/Berlin", organisation="Weber Consulting GmbH")

    response = client.get("/api/v1/me", headers=auth(user))

    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("id", "email", "name", "role", "organisation", "timezone", "locale")} == {
        "id": user.id, "email": user.email, "name": "Klaus Weber", "role": "presenter",
        "organisation": "Weber Consulting GmbH", "timezone": "Europe/Berlin", "locale": "en",
    }


def test_revoked_token_no_longer_works(client, auth):
    headers = auth(make_user("attendee"))

    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401


def test_revoking_one_token_keeps_the_others(client, auth):
    user = make_user("attendee")
    first, second = auth(user), auth(user)

    client.delete("/api/v1/auth/token", headers=first)

    assert client.get("/api/v1/me", headers=second).status_code == 200


def test_expired_token_is_401(client):
    user = make_user("attendee")
    plain, token = services.issue_token(user)
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.get("/api/v1/me", headers=bearer(plain))

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_token_of_a_deactivated_user_is_401(client, auth):
    user = make_user("attendee")
    headers = auth(user)
    user.active = False
    db.session.commit()

    assert client.get("/api/v1/me", headers=headers).status_code == 401


# ---------------------------------------------------------------- passwords and sessions


def test_password_is_stored_hashed(client, auth):
    response = client.post(
        "/api/v1/users",
        json={"email": "new@example.org", "name": "New", "role": "attendee", "organisation": "Tangshan",
              "password": "a long secret phrase"},
        headers=auth(make_organiser()),
    )
    assert response.status_code == 201

    stored = db.session.scalar(select(User.password_hash).where(User.email == "new@example.org"))
    assert stored and "a long secret phrase" not in stored
    assert services.authenticate("new@example.org", "a long secret phrase").id == response.get_json()["id"]


def test_set_password_revokes_tokens_and_ends_other_sessions(app, auth):
    user = make_user("attendee")
    headers = auth(user)
    browser = app.test_client()
    sign_in(browser, user)
    assert is_logged_in(browser)
    version = user.session_version

    services.set_password(user, "a brand new password")

    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert not is_logged_in(browser)
    assert user.session_version == version + 1
    assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)))
    with pytest.raises(Exception):
        services.authenticate(user.email, PASSWORD)
    assert services.authenticate(user.email, "a brand new password").id == user.id


def test_set_password_refuses_a_short_password_and_keeps_the_old_one():
    from app.errors import ValidationFailed

    user = make_user("attendee")

    with pytest.raises(ValidationFailed) as caught:
        services.set_password(user, "short")

    assert list(caught.value.fields) == ["password"]
    db.session.rollback()
    assert services.authenticate(user.email, PASSWORD).id == user.id


# ---------------------------------------------------------------- creating people


def test_organiser_creates_a_user_in_a_new_organisation(client, auth):
    organiser = make_organiser()
    orgs = count(Organisation)

    response = client.post(
        "/api/v1/users",
        json={"email": "Zhou.Qiang@Example.org", "name": "Zhou Qiang", "role": "attendee",
              "organisation": "Tangshan Commerce Bureau", "city": "Tangshan", "country": "CN",
              "timezone": "Asia/Shanghai", "locale": "zh"},
        headers=auth(organiser),
    )

    assert response.status_code == 201, response.text
    body = response.get_json()
    assert {k: body[k] for k in ("email", "name", "role", "organisation", "timezone", "locale")} == {
        "email": "zhou.qiang@example.org", "name": "Zhou Qiang", "role": "attendee",
        "organisation": "Tangshan Commerce Bureau", "timezone": "Asia/Shanghai", "locale": "zh",
    }
    assert count(Organisation) == orgs + 1
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Tangshan Commerce Bureau"))
    assert (org.kind, org.city, org.country) == ("city_bureau", "Tangshan", "CN")


def test_organiser_creates_a_user_in_an_existing_organisation_found_by_name(client, auth):
    organiser = make_organiser()
    colleague = make_user("attendee", organisation="Tangshan Commerce Bureau")
    orgs = count(Organisation)

    response = client.post(
        "/api/v1/users",
        json={"email": "second@example.org", "name": "Second", "role": "attendee",
              "organisation": "tangshan commerce bureau"},
        headers=auth(organiser),
    )

    assert response.status_code == 201
    assert response.get_json()["organisation_id"] == colleague.organisation_id
    assert count(Organisation) == orgs


@pytest.mark.parametrize(
    "change, field",
    [
        ({"timezone": "Asia/Beijing"}, "timezone"),
        ({"country": "ZZ"}, "country"),
        ({"locale": "fr"}, "locale"),
        ({"role": "admin"}, "role"),
        ({"email": "not-an-address"}, "email"),
        ({"password": "short"}, "password"),
        ({"kind": "castle"}, "kind"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_create_user_rejects_a_bad_field_naming_it_and_writes_nothing(client, auth, change, field):
    headers = auth(make_organiser())
    users, orgs = count(User), count(Organisation)

    response = client.post(
        "/api/v1/users",
        json={"email": "x@example.org", "name": "X", "role": "attendee", "organisation": "Brand New Org", **change},
        headers=headers,
    )

    assert response.status_code == 422, response.text
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert list(error["details"]["fields"]) == [field]
    assert (count(User), count(Organisation)) == (users, orgs)


def test_create_user_with_a_taken_email_is_409_and_writes_nothing(client, auth):
    headers = auth(make_organiser())
    make_user("attendee", email="taken@example.org")
    users, orgs = count(User), count(Organisation)

    response = client.post(
        "/api/v1/users",
        json={"email": "TAKEN@example.org", "name": "Twin", "role": "attendee", "organisation": "Another Org"},
        headers=headers,
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_exists"
    assert (count(User), count(Organisation)) == (users, orgs)


def test_patch_user_rejects_bad_timezone_and_changes_nothing(client, auth):
    headers = auth(make_organiser())
    user = make_user("attendee", name="Before")

    response = client.patch(f"/api/v1/users/{user.id}", json={"name": "After", "timezone": "Nowhere"}, headers=headers)

    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["timezone"]
    db.session.expire_all()
    assert (user.name, user.timezone) == ("Before", "Asia/Shanghai")


def test_patch_unknown_user_is_404(client, auth):
    response = client.patch("/api/v1/users/999999", json={"name": "Nobody"}, headers=auth(make_organiser()))

    assert response.status_code == 404


# ---------------------------------------------------------------- login pages


def test_login_page_with_wrong_password_shows_an_error_and_does_not_log_in(client):
    user = make_user("attendee")
    token = csrf_from(client.get("/login").text)

    response = client.post("/login", data={"email": user.email, "password": "wrong-password", "csrf_token": token})

    assert response.status_code == 401
    assert "The e-mail address or password is wrong." in response.text
    assert not is_logged_in(client)


def test_login_redirects_only_to_a_local_next(client):
    user = make_user("attendee")
    token = csrf_from(client.get("/login").text)

    response = client.post(
        "/login?next=https://evil.example/steal",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_needs_post_with_csrf(client):
    token = sign_in(client, make_user("attendee"))

    assert client.get("/logout").status_code == 405
    assert client.post("/logout", data={}).status_code == 400
    assert is_logged_in(client)

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 302
    assert not is_logged_in(client)
