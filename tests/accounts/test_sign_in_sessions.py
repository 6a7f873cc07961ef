"""Browser sign-ins live on the server: cookie flags, logout and password changes end them (a copied
cookie stops working), the client address behind a proxy, HSTS and Permissions-Policy, and a password
reset that does the same work for every address."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.people import password_reset
from app.accounts.models import AuditEvent, LoginSession
from app.extensions import db
from app.types import utcnow
from config import Config, DevelopmentConfig
from tests.conftest import _reset_database, csrf_from, make_test_config
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "a brand new passphrase"


def _app(tmp_path, **settings):
    return create_app(make_test_config(UPLOAD_DIR=str(tmp_path / "uploads"), **settings))


@pytest.fixture
def secure_app(tmp_path):
    """The production cookie settings (TestConfig turns Secure off for plain-HTTP test clients)."""
    app = _app(tmp_path, SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    with app.app_context():
        _reset_database()
        yield app
        db.session.remove()
        db.engine.dispose()


def sign_in(client, user, *, remember: bool = False, password: str = PASSWORD, **kwargs):
    token = csrf_from(client.get("/login", **kwargs).text)
    data = {"email": user.email, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, **kwargs)
    assert response.status_code == 302, response.text
    return response


def set_cookies(response) -> dict[str, dict]:
    """Each Set-Cookie of a response: name → its attributes (lower-cased) and value."""
    out = {}
    for header in response.headers.getlist("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            flags = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
            out[name] = {"value": morsel.value, "flags": flags, "samesite": morsel["samesite"],
                         "expires": morsel["expires"], "header": header}
    return out


def signed_in(client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def copy_of(app, client, *names: str):
    """A new browser holding copies of these cookies of `client` (what a thief would carry away)."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def live_sessions(user) -> int:
    return db.session.scalar(select(func.count(LoginSession.id)).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)))


# ---------------------------------------------------------------- cookie flags


def test_production_settings_make_both_cookies_secure_lax_and_the_remember_cookie_short_lived():
    if Config.DEVELOPMENT:
        pytest.skip("the environment asks for development settings")
    assert (Config.SESSION_COOKIE_SECURE, Config.REMEMBER_COOKIE_SECURE) == (True, True)
    assert (Config.SESSION_COOKIE_SAMESITE, Config.REMEMBER_COOKIE_SAMESITE) == ("Lax", "Lax")
    assert Config.REMEMBER_COOKIE_HTTPONLY and Config.SESSION_COOKIE_HTTPONLY
    assert Config.REMEMBER_DAYS == 14 and Config.REMEMBER_COOKIE_DURATION == timedelta(days=14)
    assert (DevelopmentConfig.SESSION_COOKIE_SECURE, DevelopmentConfig.REMEMBER_COOKIE_SECURE) == (False, False)


def test_the_cookies_a_sign_in_sets_are_secure_httponly_and_samesite_lax(secure_app):
    user = make_user("attendee")
    client = secure_app.test_client()
    response = sign_in(client, user, remember=True, base_url="https://localhost",
                       headers={"Referer": "https://localhost/login"})
    cookies = set_cookies(response)
    assert set(cookies) >= {"session", "remember_token"}
    for name in ("session", "remember_token"):
        assert {"secure", "httponly"} <= cookies[name]["flags"], cookies[name]["header"]
        assert cookies[name]["samesite"] == "Lax"
    assert "expires" not in cookies["session"]["flags"]  # ends with the browser
    # The remember-me cookie lives REMEMBER_DAYS (14), not a year.
    from email.utils import parsedate_to_datetime

    lifetime = parsedate_to_datetime(cookies["remember_token"]["expires"]) - utcnow()
    assert timedelta(days=13, hours=23) < lifetime <= timedelta(days=14)


def test_without_keep_me_logged_in_there_is_no_remember_cookie(client):
    user = make_user("attendee")
    assert "remember_token" not in set_cookies(sign_in(client, user))
    assert signed_in(client)


# ---------------------------------------------------------------- the sign-in behind the cookies


def test_the_cookie_names_a_stored_sign_in_and_only_its_hash_is_kept(app, client):
    user = make_user("attendee")
    sign_in(client, user, remember=True)
    row = db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert row.remember is True and row.revoked_at is None
    assert timedelta(days=13, hours=23) < row.expires_at - utcnow() <= timedelta(days=14)
    remember = client.get_cookie("remember_token").value
    key = remember.split("|")[0].split(":")[2]
    assert len(key) > 30 and key not in row.key_hash and row.key_hash != key


def test_logout_ends_the_sign_in_so_copied_cookies_stop_working(app, client):
    user = make_user("attendee")
    sign_in(client, user, remember=True)
    session_copy = copy_of(app, client, "session")
    remember_copy = copy_of(app, client, "remember_token")
    assert signed_in(session_copy) and signed_in(remember_copy)  # a copy works while the sign-in lives

    token = csrf_from(client.get("/me/settings").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    assert not signed_in(client)
    assert not signed_in(copy_of(app, session_copy, "session"))
    assert not signed_in(remember_copy)
    assert live_sessions(user) == 0


def test_logout_ends_only_that_browsers_sign_in(app, client):
    user = make_user("attendee")
    other = app.test_client()
    sign_in(client, user)
    sign_in(other, user)
    token = csrf_from(client.get("/me/settings").text)
    client.post("/logout", data={"csrf_token": token})
    assert not signed_in(client) and signed_in(other)
    assert live_sessions(user) == 1


def test_a_password_change_ends_every_other_sign_in_and_remember_cookie(app, client):
    user = make_user("attendee")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(client, user, remember=True)
    sign_in(laptop, user)
    sign_in(phone, user, remember=True)
    phone_remember = copy_of(app, phone, "remember_token")
    assert signed_in(phone_remember)

    page = client.get("/me/settings").text
    response = client.post("/me/password", data={"csrf_token": csrf_from(page), "current_password": PASSWORD,
                                                  "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD})
    assert response.status_code == 302, response.text

    assert signed_in(client)  # the browser that changed it stays signed in, on a new sign-in
    assert not signed_in(laptop) and not signed_in(phone) and not signed_in(phone_remember)
    assert live_sessions(user) == 1


def test_a_reset_password_ends_every_sign_in(app, client):
    user = make_user("attendee")
    sign_in(client, user, remember=True)
    remember_copy = copy_of(app, client, "remember_token")
    with app.test_request_context():
        from app.accounts import services

        services.set_password(db.session.get(type(user), user.id), NEW_PASSWORD)
    assert not signed_in(client) and not signed_in(remember_copy)


def test_a_sign_in_ends_after_remember_days_even_with_the_cookie(app, client):
    user = make_user("attendee")
    sign_in(client, user, remember=True)
    remember_copy = copy_of(app, client, "remember_token")
    with time_machine.travel(utcnow() + timedelta(days=14, minutes=1)):
        assert not signed_in(remember_copy)
        assert not signed_in(client)


def test_cookies_from_before_stored_sign_ins_sign_in_nobody(app, client):
    from app.accounts import services

    user = make_user("attendee")
    assert services.load_session_user(f"{user.id}:{user.session_version}") is None
    assert services.load_session_user(f"{user.id}:{user.session_version}:") is None
    assert services.load_session_user(f"{user.id}:{user.session_version}:made-up-key") is None
    assert services.load_session_user("99999999999999999999:1:x") is None


# ---------------------------------------------------------------- behind a reverse proxy


@pytest.fixture
def proxied(tmp_path):
    def build(count: int):
        return _app(tmp_path, PROXY_COUNT=count, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute",
                    RATELIMIT_STORAGE_URI="memory://")
    return build


def _attempts(app, forwarded_for: str, n: int) -> list[int]:
    client = app.test_client()
    statuses = []
    for _ in range(n):
        token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                     headers={"X-Forwarded-For": forwarded_for}).text)
        statuses.append(client.post("/login", data={"email": "nobody@example.org", "password": "x" * 12,
                                                    "csrf_token": token},
                                    environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                    headers={"X-Forwarded-For": forwarded_for}).status_code)
    return statuses


def test_behind_one_proxy_each_client_has_its_own_login_limit_and_audit_address(proxied):
    app = proxied(1)
    with app.app_context():
        _reset_database()
        # One proxy (10.0.0.1) in front: its X-Forwarded-For names the client; a client's own claim is ignored.
        assert _attempts(app, "203.0.113.7", 3) == [401, 401, 429]
        assert _attempts(app, "198.51.100.9", 2) == [401, 401]
        assert _attempts(app, "203.0.113.7, 198.51.100.20", 1) == [401]  # spoofed first hop: the proxy's hop counts
        ips = list(db.session.scalars(select(AuditEvent.ip).where(AuditEvent.action == "sign_in_failed")
                                      .order_by(AuditEvent.id)))
        assert ips == ["203.0.113.7", "203.0.113.7", "198.51.100.9", "198.51.100.9", "198.51.100.20"]
        db.session.remove()
        db.engine.dispose()


def test_without_a_proxy_count_forwarded_headers_are_ignored(proxied):
    app = proxied(0)
    with app.app_context():
        _reset_database()
        assert _attempts(app, "203.0.113.7", 2) == [401, 401]
        assert _attempts(app, "198.51.100.9", 1) == [429]  # the same address (10.0.0.1) whatever the header says
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- headers


def test_hsts_and_permissions_policy_are_sent(client):
    response = client.get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    policy = response.headers["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy
    assert client.get("/api/v1/fairs").headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize("settings, hsts, policy", [
    ({"HSTS_SECONDS": 600, "HSTS_INCLUDE_SUBDOMAINS": True, "PERMISSIONS_POLICY": "camera=()"},
     "max-age=600; includeSubDomains", "camera=()"),
    ({"HSTS_SECONDS": 0, "PERMISSIONS_POLICY": ""}, None, None),
    ({"DEVELOPMENT": True}, None, "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
])
def test_the_headers_follow_their_settings(tmp_path, settings, hsts, policy):
    app = _app(tmp_path, **settings)
    with app.app_context():
        response = app.test_client().get("/livez")
        assert response.headers.get("Strict-Transport-Security") == hsts
        assert response.headers.get("Permissions-Policy") == policy


# ---------------------------------------------------------------- password reset: the same work for everyone


def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(client, monkeypatch):
    make_user("attendee", email="known@example.org")
    work: list[tuple[str, str]] = []
    real_render = password_reset.mail.render
    real_hash = password_reset.tokens.hash_token
    real_live = password_reset.tokens.live_tokens
    monkeypatch.setattr(password_reset.mail, "render",
                        lambda template, locale, **c: work.append(("render", template)) or real_render(template, locale, **c))
    monkeypatch.setattr(password_reset.tokens, "hash_token",
                        lambda plain: work.append(("hash", "")) or real_hash(plain))
    monkeypatch.setattr(password_reset.tokens, "live_tokens",
                        lambda user_id, purpose: work.append(("live_tokens", purpose)) or real_live(user_id, purpose))

    def ask(address):
        work.clear()
        response = client.post("/api/v1/auth/password-reset", json={"email": address})
        assert response.status_code == 202
        return sorted(work)

    known = ask("known@example.org")
    unknown = ask("nobody@example.org")
    assert known == unknown == sorted([("hash", ""), ("live_tokens", "password_reset"), ("render", "password_reset")])
