"""Invitations: a person made without a password gets a mailed link, in their language, to set it;
organisers see who has not accepted, re-send and revoke; dead links say so clearly."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.accounts import services
from app.people import invitations
from app.accounts.models import AccountToken, AuditEvent, User
from app.extensions import db
from app.mail import deliver_due
from app.notifications.models import MailMessage
from app.types import utcnow
from tests.conftest import count, csrf_from, mails_to, token_in
from tests.factories import PASSWORD, make_organiser, make_user

NEW_PASSWORD = "a fresh long passphrase"
LINK = re.compile(r"https?://[^\s\"<>]+/invitations/([A-Za-z0-9_-]+)")


def link_in(message: MailMessage) -> str:
    """The invitation token in a queued mail (text and HTML carry the same link)."""
    return token_in(message, "invitations")


def actions(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def invite_over_api(client, organiser, auth, **overrides) -> User:
    body = {"email": "wang.fang@example.cn", "name": "王芳", "role": "attendee", "organisation": "唐山市商务局",
            "city": "Tangshan", "country": "CN", "timezone": "Asia/Shanghai", "locale": "zh"}
    body.update(overrides)
    response = client.post("/api/v1/users", json=body, headers=auth(organiser))
    assert response.status_code == 201, response.text
    return db.session.get(User, response.get_json()["id"])


def logged_in_as(client) -> int | None:
    response = client.get("/api/v1/me")
    return response.get_json()["id"] if response.status_code == 200 else None


# ---------------------------------------------------------------- sending


@pytest.mark.parametrize("locale, subject, phrase", [
    ("zh", "邀请您加入云招商 CloudFair", "请点击以下链接设置您的密码"),
    ("en", "You are invited to CloudFair", "Choose your password here"),
])
def test_creating_a_user_without_password_mails_an_invitation_in_their_language(client, auth, locale, subject, phrase):
    organiser = make_organiser(name="Li Organiser")

    user = invite_over_api(client, organiser, auth, locale=locale, email=f"{locale}@example.cn")

    assert user.password_hash is None
    [message] = mails_to(user.email)
    assert message.subject == subject
    assert phrase in message.text_body and "Li Organiser" in message.text_body
    token = link_in(message)
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert user.email in page.text and 'name="password"' in page.text
    [sent] = actions("invitation_sent")
    assert (sent.actor_id, sent.subject_user_id) == (organiser.id, user.id)
    [row] = db.session.scalars(select(AccountToken)).all()
    assert row.expires_at - row.created_at == timedelta(days=14)
    assert token not in row.token_hash  # only the hash is stored


def test_creating_a_user_with_a_password_sends_no_invitation(client, auth):
    user = invite_over_api(client, make_organiser(), auth, password="a chosen long password")

    assert user.password_hash is not None
    assert mails_to(user.email) == [] and count(AccountToken) == 0


def test_invite_works_in_the_callers_transaction_and_does_not_commit():
    organiser = make_organiser()
    user = make_user("attendee", password=None)

    token = invitations.invite(user, organiser)

    assert isinstance(token, AccountToken) and token.purpose == "invitation" and token.created_by_id == organiser.id
    db.session.rollback()
    assert count(AccountToken) == 0 and count(MailMessage) == 0 and actions("invitation_sent") == []


def test_invitation_link_outside_a_request_uses_base_url(app):
    app.config["BASE_URL"] = "https://fairs.example.gov.cn/"
    user = make_user("presenter", password=None, locale="en")

    invitations.invite(user, make_organiser())
    db.session.commit()

    [message] = mails_to(user.email)
    assert re.search(r"https://fairs\.example\.gov\.cn/invitations/[A-Za-z0-9_-]{20,}\s", message.text_body)


# ---------------------------------------------------------------- accepting


def test_accepting_on_the_page_sets_the_password_and_logs_in(client, auth):
    user = invite_over_api(client, make_organiser(), auth, locale="en")
    token = link_in(mails_to(user.email)[0])
    page = client.get(f"/invitations/{token}")

    response = client.post(f"/invitations/{token}", data={
        "password": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf_from(page.text)})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert logged_in_as(client) == user.id
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
    assert [e.subject_user_id for e in actions("invitation_accepted")] == [user.id]
    assert db.session.scalar(select(AccountToken.used_at)) is not None
    assert "Welcome to CloudFair, 王芳." in client.get("/").text


def test_accepting_with_different_repeat_or_short_password_changes_nothing(client, auth):
    user = invite_over_api(client, make_organiser(), auth, locale="en")
    token = link_in(mails_to(user.email)[0])
    csrf = csrf_from(client.get(f"/invitations/{token}").text)

    differ = client.post(f"/invitations/{token}", data={"password": NEW_PASSWORD, "repeat": "something else",
                                                        "csrf_token": csrf})
    short = client.post(f"/api/v1/invitations/{token}", json={"password": "short"})

    assert differ.status_code == 422 and "The two passwords differ." in differ.text
    assert short.status_code == 422
    assert list(short.get_json()["error"]["details"]["fields"]) == ["password"]
    db.session.expire_all()
    assert user.password_hash is None and logged_in_as(client) is None
    assert actions("invitation_accepted") == []
    assert client.get(f"/invitations/{token}").status_code == 200  # the link still works


def test_accept_over_the_api_returns_the_user_and_a_second_accept_fails(client, auth):
    user = invite_over_api(client, make_organiser(), auth)
    token = link_in(mails_to(user.email)[0])

    first = client.post(f"/api/v1/invitations/{token}", json={"password": NEW_PASSWORD})
    again = client.post(f"/api/v1/invitations/{token}", json={"password": "another long password"})

    assert first.status_code == 200 and first.get_json()["id"] == user.id
    assert again.status_code == 404
    assert again.get_json()["error"]["code"] == "invitation_invalid"
    assert "organiser" in again.get_json()["error"]["message"]
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
    dead_page = client.get(f"/invitations/{token}")
    assert dead_page.status_code == 404 and "This link no longer works" in dead_page.text


def test_an_expired_invitation_is_refused_clearly(client, auth):
    organiser = make_organiser()
    user = invite_over_api(client, organiser, auth, locale="en")
    token = link_in(mails_to(user.email)[0])
    headers = auth(organiser)

    with time_machine.travel(utcnow() + timedelta(days=14, minutes=1)):
        page = client.get(f"/invitations/{token}")
        api = client.post(f"/api/v1/invitations/{token}", json={"password": NEW_PASSWORD})
        listed = client.get("/api/v1/invitations", headers=headers)

    assert page.status_code == 404 and "Ask the organiser to send you a new invitation." in page.text
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "invitation_invalid"
    assert [i["status"] for i in listed.get_json()["items"]] == ["expired"]
    db.session.expire_all()
    assert user.password_hash is None


def test_an_unknown_token_gets_a_clear_page_not_an_error(client):
    response = client.get("/invitations/not-a-real-token")

    assert response.status_code == 404
    assert "This link no longer works" in response.text and "Ask the organiser" in response.text


# ---------------------------------------------------------------- re-send, revoke, the pending list


def test_resending_makes_the_old_link_stop_working(client, auth):
    organiser = make_organiser()
    user = invite_over_api(client, organiser, auth)
    old = link_in(mails_to(user.email)[0])

    response = client.post(f"/api/v1/users/{user.id}/invitation", headers=auth(organiser))

    assert response.status_code == 201
    assert response.get_json()["status"] == "live" and response.get_json()["user"]["id"] == user.id
    first, second = mails_to(user.email)
    new = link_in(second)
    assert new != old
    assert client.post(f"/api/v1/invitations/{old}", json={"password": NEW_PASSWORD}).status_code == 404
    assert client.post(f"/api/v1/invitations/{new}", json={"password": NEW_PASSWORD}).status_code == 200


def test_resending_to_someone_with_a_password_is_409_and_sends_nothing(client, auth):
    user = make_user("attendee")

    response = client.post(f"/api/v1/users/{user.id}/invitation", headers=auth(make_organiser()))

    assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_accepted"
    assert count(AccountToken) == 0 and count(MailMessage) == 0


def test_revoking_kills_the_link(client, auth):
    organiser = make_organiser()
    user = invite_over_api(client, organiser, auth)
    token = link_in(mails_to(user.email)[0])

    revoked = client.delete(f"/api/v1/users/{user.id}/invitation", headers=auth(organiser))
    again = client.delete(f"/api/v1/users/{user.id}/invitation", headers=auth(organiser))

    assert revoked.status_code == 204
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "no_live_invitation"
    assert client.post(f"/api/v1/invitations/{token}", json={"password": NEW_PASSWORD}).status_code == 404
    assert [(e.actor_id, e.subject_user_id) for e in actions("invitation_revoked")] == [(organiser.id, user.id)]
    listed = client.get("/api/v1/invitations", headers=auth(organiser)).get_json()
    assert [(i["user"]["id"], i["status"]) for i in listed["items"]] == [(user.id, "revoked")]


def test_pending_list_shows_only_people_without_a_password(client, auth):
    organiser = make_organiser()
    waiting = invite_over_api(client, organiser, auth, email="waiting@example.cn")
    accepted = invite_over_api(client, organiser, auth, email="accepted@example.cn")
    make_user("attendee", email="has-password@example.cn")
    client.post(f"/api/v1/invitations/{link_in(mails_to(accepted.email)[0])}", json={"password": NEW_PASSWORD})

    response = client.get("/api/v1/invitations", headers=auth(organiser))

    body = response.get_json()
    assert response.status_code == 200
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 20)
    [item] = body["items"]
    assert (item["user"]["email"], item["status"]) == ("waiting@example.cn", "live")
    assert item["sent_at"] and item["expires_at"] and item["invited_by"] == organiser.name
    page = client.get("/people/invitations")  # not logged in: sent to the login page
    assert page.status_code == 302


def test_the_invitations_page_lists_and_offers_resend_and_revoke(client, auth, login):
    organiser = make_organiser()
    user = invite_over_api(client, organiser, auth, name="Chen Jing", email="chen.jing@example.cn")
    make_user("attendee", name="Already Active")
    login(organiser)

    page = client.get("/people/invitations")

    assert page.status_code == 200
    assert "Chen Jing" in page.text and "chen.jing@example.cn" in page.text and "唐山市商务局" in page.text
    assert "Already Active" not in page.text
    assert f"/people/invitations/{user.id}/resend" in page.text and f"/people/invitations/{user.id}/revoke" in page.text

    csrf = csrf_from(page.text)
    resent = client.post(f"/people/invitations/{user.id}/resend", data={"csrf_token": csrf})
    assert resent.status_code == 302 and len(mails_to(user.email)) == 2
    revoked = client.post(f"/people/invitations/{user.id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 302 and invitations.pending(organiser)[0][0].status == "revoked"
    assert f"/people/invitations/{user.id}/revoke" not in client.get("/people/invitations").text


def test_resend_and_revoke_buttons_need_the_csrf_token(client, auth, login):
    organiser = make_organiser()
    user = invite_over_api(client, organiser, auth)
    login(organiser)

    response = client.post(f"/people/invitations/{user.id}/revoke", data={})

    assert response.status_code == 400
    assert invitations.pending(organiser)[0][0].status == "live"


def test_the_invite_form_creates_the_person_without_password_and_invites_them(client, login):
    organiser = make_organiser()
    login(organiser)
    csrf = csrf_from(client.get("/people/invitations").text)

    response = client.post("/people/invitations", data={
        "csrf_token": csrf, "name": "Anna Novak", "email": "Anna.Novak@Example.cz", "role": "presenter",
        "organisation": "CzechInvest", "city": "Prague", "country": "cz", "timezone": "Europe/Prague", "locale": "en",
    })

    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "anna.novak@example.cz"))
    assert (user.role, user.organisation.name, user.organisation.country, user.timezone, user.locale) == (
        "presenter", "CzechInvest", "CZ", "Europe/Prague", "en")
    assert user.password_hash is None
    [message] = mails_to(user.email)
    assert message.subject == "You are invited to CloudFair"
    assert "Anna Novak is invited" in client.get("/people/invitations").text


def test_the_invite_form_names_a_bad_field_and_writes_nothing(client, login):
    organiser = make_organiser()
    login(organiser)
    csrf = csrf_from(client.get("/people/invitations").text)
    users_before = count(User)

    response = client.post("/people/invitations", data={
        "csrf_token": csrf, "name": "Bad Zone", "email": "bad.zone@example.org", "role": "attendee",
        "organisation": "Somewhere", "country": "CN", "timezone": "Mars/Olympus", "locale": "en",
    })
    taken = client.post("/people/invitations", data={
        "csrf_token": csrf, "name": "Copy", "email": organiser.email, "role": "attendee",
        "organisation": "Somewhere", "country": "CN", "timezone": "Asia/Shanghai", "locale": "en",
    })

    assert response.status_code == 422
    assert re.search(r'id="timezone-error"[^>]*>[^<]*Mars/Olympus', response.text)
    assert taken.status_code == 409 and organiser.email in taken.text
    assert count(User) == users_before and count(MailMessage) == 0 and count(AccountToken) == 0


# ---------------------------------------------------------------- who may


def test_non_organisers_get_403_and_nothing_is_written(client, auth, login):
    organiser = make_organiser()
    pending_user = invite_over_api(client, organiser, auth)
    attendee = make_user("attendee")
    headers = auth(attendee)
    tokens_before, mails_before, users_before = count(AccountToken), count(MailMessage), count(User)

    answers = [
        client.post(f"/api/v1/users/{pending_user.id}/invitation", headers=headers),
        client.delete(f"/api/v1/users/{pending_user.id}/invitation", headers=headers),
        client.get("/api/v1/invitations", headers=headers),
        client.post("/api/v1/users", json={"email": "x@example.org", "name": "X", "role": "attendee",
                                            "organisation": "X"}, headers=headers),
    ]
    login(attendee)
    csrf = csrf_from(client.get("/").text)
    answers += [
        client.get("/people/invitations"),
        client.post("/people/invitations", data={"csrf_token": csrf, "name": "Y", "email": "y@example.org",
                                                 "role": "attendee", "organisation": "Y", "locale": "en"}),
        client.post(f"/people/invitations/{pending_user.id}/resend", data={"csrf_token": csrf}),
        client.post(f"/people/invitations/{pending_user.id}/revoke", data={"csrf_token": csrf}),
    ]

    assert [a.status_code for a in answers] == [403] * 8
    assert (count(AccountToken), count(MailMessage), count(User)) == (tokens_before, mails_before, users_before)
    assert invitations.pending(organiser)[0][0].status == "live"


# ---------------------------------------------------------------- through a real mail server


def test_the_invitation_arrives_by_smtp_and_its_link_sets_the_password(app, client, auth, smtp):
    user = invite_over_api(client, make_organiser(), auth, name="赵敏", email="zhao.min@example.cn", locale="zh")

    assert deliver_due() == {"sent": 1, "failed": 0, "retry": 0}

    [received] = smtp.messages
    assert received["To"] == "zhao.min@example.cn"
    assert received["Subject"] == "邀请您加入云招商 CloudFair"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "赵敏，您好" in text and "唐山市商务局" in text
    url = LINK.search(text)
    assert url and url.group(0) in html
    path = "/" + url.group(0).split("/", 3)[3]
    csrf = csrf_from(client.get(path).text)
    response = client.post(path, data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf})
    assert response.status_code == 302
    assert logged_in_as(client) == user.id
