"""Forgotten passwords: the same answer for known and unknown addresses, a one-time expiring link
in the person's language, every other session and token ended, and rate limits per address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import AccountToken, AuditEvent
from app.extensions import db
from app.notifications.models import MailMessage
from app.types import utcnow
from tests.conftest import count, csrf_from, mails_to, sign_in, token_in
from tests.factories import PASSWORD, make_organiser, make_user

NEW_PASSWORD = "a fresh long passphrase"
RESET_LINK = re.compile(r"https?://[^\s\"<>]+/password-reset/([A-Za-z0-9_-]+)")
INVITE_LINK = re.compile(r"https?://[^\s\"<>]+/invitations/([A-Za-z0-9_-]+)")


def reset_token_in(message: MailMessage) -> str:
    return token_in(message, "password-reset")


def ask(client, email: str, **kwargs):
    return client.post("/api/v1/auth/password-reset", json={"email": email}, **kwargs)


def logged_in_as(client) -> int | None:
    response = client.get("/api/v1/me")
    return response.get_json()["id"] if response.status_code == 200 else None


# ---------------------------------------------------------------- asking


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_a_mail(client):
    user = make_user("attendee", email="known@example.org")

    known = ask(client, "Known@Example.org")
    unknown = ask(client, "nobody@example.org")

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.get_data() == unknown.get_data()
    assert set(known.get_json()) == {"message"}
    assert [m.to_address for m in db.session.scalars(select(MailMessage))] == ["known@example.org"]
    assert count(AccountToken) == 1
    audit = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password_reset_requested")
                                    .order_by(AuditEvent.id)))
    assert [(e.email, e.subject_user_id) for e in audit] == [("Known@Example.org", user.id), ("nobody@example.org", None)]


def test_the_reset_page_answers_alike_for_known_and_unknown_addresses(client):
    make_user("attendee", email="known@example.org")

    def ask_on_page(address: str) -> str:
        csrf = csrf_from(client.get("/password-reset").text)
        response = client.post("/password-reset", data={"email": address, "csrf_token": csrf}, follow_redirects=True)
        assert response.status_code == 200
        return response.text.replace(address, "ADDRESS")

    known, unknown = ask_on_page("known@example.org"), ask_on_page("ghost@example.org")

    assert re.sub(r'value="[^"]+"', "", known) == re.sub(r'value="[^"]+"', "", unknown)  # CSRF tokens differ
    assert "If ADDRESS belongs to a CloudFair account" in known
    assert [m.to_address for m in db.session.scalars(select(MailMessage))] == ["known@example.org"]


def test_a_malformed_address_is_422_naming_the_field_and_writes_nothing(client):
    response = ask(client, "not an address")
    missing = client.post("/api/v1/auth/password-reset", json={})

    assert response.status_code == 422 and list(response.get_json()["error"]["details"]["fields"]) == ["email"]
    assert missing.status_code == 422 and list(missing.get_json()["error"]["details"]["fields"]) == ["email"]
    assert count(AuditEvent) == 0 and count(MailMessage) == 0


@pytest.mark.parametrize("locale, subject", [("zh", "重设您的云招商 CloudFair 密码"), ("en", "Set a new CloudFair password")])
def test_the_reset_mail_is_in_the_persons_language_with_a_working_link(client, locale, subject):
    user = make_user("attendee", locale=locale)

    ask(client, user.email)

    [message] = mails_to(user.email)
    assert message.subject == subject
    assert "60" in message.text_body
    page = client.get(f"/password-reset/{reset_token_in(message)}")
    assert page.status_code == 200 and user.email in page.text
    [token] = db.session.scalars(select(AccountToken)).all()
    assert (token.purpose, token.expires_at - token.created_at) == ("password_reset", timedelta(minutes=60))


def test_a_person_without_a_password_gets_their_invitation_again(client):
    user = make_user("attendee", password=None, locale="en")

    response = ask(client, user.email)

    assert response.status_code == 202
    [message] = mails_to(user.email)
    assert message.subject == "You are invited to CloudFair"
    assert INVITE_LINK.search(message.text_body) and not RESET_LINK.search(message.text_body)
    assert count(AuditEvent, AuditEvent.action == "invitation_sent") == 1


def test_a_deactivated_person_gets_nothing(client):
    user = make_user("attendee")
    services.update_user(make_organiser(), user, {"active": False})

    assert ask(client, user.email).status_code == 202
    assert mails_to(user.email) == [] and count(AccountToken) == 0


def test_a_newer_request_replaces_the_older_link(client):
    user = make_user("attendee")
    ask(client, user.email)
    ask(client, user.email)
    first, second = (reset_token_in(m) for m in mails_to(user.email))

    old = client.post(f"/api/v1/auth/password-reset/{first}", json={"password": NEW_PASSWORD})
    new = client.post(f"/api/v1/auth/password-reset/{second}", json={"password": NEW_PASSWORD})

    assert (old.status_code, new.status_code) == (404, 200)


# ---------------------------------------------------------------- using the link


def test_reset_ends_the_old_password_other_sessions_and_api_tokens(app, client, auth):
    user = make_user("attendee")
    old_headers = auth(user)
    other_browser = app.test_client()
    sign_in(other_browser, user)
    assert logged_in_as(other_browser) == user.id
    ask(client, user.email)
    token = reset_token_in(mails_to(user.email)[0])

    response = client.post(f"/api/v1/auth/password-reset/{token}", json={"password": NEW_PASSWORD})

    assert response.status_code == 200 and response.get_json()["id"] == user.id
    assert logged_in_as(other_browser) is None
    assert client.get("/api/v1/me", headers=old_headers).status_code == 401
    old = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    new = client.post("/api/v1/auth/token", json={"email": user.email, "password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (401, 201)
    changed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password_changed")).all()
    assert [(e.actor_id, e.subject_user_id, e.details) for e in changed] == [(user.id, user.id, {"via": "password_reset"})]


def test_a_reset_link_works_once(client):
    user = make_user("attendee")
    ask(client, user.email)
    token = reset_token_in(mails_to(user.email)[0])

    first = client.post(f"/api/v1/auth/password-reset/{token}", json={"password": NEW_PASSWORD})
    second = client.post(f"/api/v1/auth/password-reset/{token}", json={"password": "yet another long one"})

    assert first.status_code == 200
    assert second.status_code == 404 and second.get_json()["error"]["code"] == "reset_link_invalid"
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id


def test_a_reset_link_expires(client):
    user = make_user("attendee")
    ask(client, user.email)
    token = reset_token_in(mails_to(user.email)[0])

    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        api = client.post(f"/api/v1/auth/password-reset/{token}", json={"password": NEW_PASSWORD})
        page = client.get(f"/password-reset/{token}")

    assert api.status_code == 404 and api.get_json()["error"]["code"] == "reset_link_invalid"
    assert page.status_code == 404 and "Ask for a new one." in page.text and 'href="/password-reset"' in page.text
    assert services.authenticate(user.email, PASSWORD).id == user.id


def test_a_short_password_is_422_and_the_link_still_works(client):
    user = make_user("attendee")
    ask(client, user.email)
    token = reset_token_in(mails_to(user.email)[0])

    short = client.post(f"/api/v1/auth/password-reset/{token}", json={"password": "short"})

    assert short.status_code == 422 and list(short.get_json()["error"]["details"]["fields"]) == ["password"]
    assert services.authenticate(user.email, PASSWORD).id == user.id
    assert client.post(f"/api/v1/auth/password-reset/{token}", json={"password": NEW_PASSWORD}).status_code == 200


def test_the_reset_page_sets_the_password_and_logs_in(client):
    user = make_user("attendee")
    ask(client, user.email)
    token = reset_token_in(mails_to(user.email)[0])
    csrf = csrf_from(client.get(f"/password-reset/{token}").text)

    response = client.post(f"/password-reset/{token}", data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD,
                                                             "csrf_token": csrf})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert logged_in_as(client) == user.id
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
    assert client.get(f"/password-reset/{token}").status_code == 404


# ---------------------------------------------------------------- rate limits


#: The rate-limited app (`limited`) allows 3 reset requests per 15 minutes.
three_resets = pytest.mark.settings(RESET_RATE_LIMIT="3 per 15 minutes")


@three_resets
def test_reset_requests_for_one_address_are_limited_whatever_the_client_address(limited):
    client = limited.test_client()
    make_user("attendee", email="target@example.org")

    answers = [ask(client, "Target@example.org", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}) for n in range(1, 5)]
    other_address = ask(client, "someone.else@example.org", environ_base={"REMOTE_ADDR": "10.0.0.99"})
    csrf = csrf_from(client.get("/password-reset", environ_base={"REMOTE_ADDR": "10.0.0.50"}).text)
    page = client.post("/password-reset", data={"email": "target@example.org", "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": "10.0.0.50"})

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    error = answers[-1].get_json()["error"]
    assert error["code"] == "rate_limited" and "Too many password reset requests" in error["message"]
    assert "Try again in 15 minutes." in error["message"] and error["details"]["retry_after"] > 800
    assert other_address.status_code == 202
    assert page.status_code == 429 and "Too many password reset requests" in page.text  # shared with the API
    assert len(mails_to("target@example.org")) == 3


@three_resets
def test_reset_requests_from_one_client_address_are_limited(limited):
    client = limited.test_client()

    answers = [ask(client, f"person{n}@example.org", environ_base={"REMOTE_ADDR": "192.0.2.7"}) for n in range(4)]
    elsewhere = ask(client, "person9@example.org", environ_base={"REMOTE_ADDR": "192.0.2.8"})

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].headers.get("Retry-After")
    assert elsewhere.status_code == 202
    assert count(AuditEvent, AuditEvent.action == "password_reset_requested") == 4
