"""Login safety: failed sign-ins lock one address out for a while, from every client, on the page and the API;
sign-ins, failures and lock-outs land in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import ApiToken, AuditEvent
from app.extensions import db
from app.types import utcnow
from tests.conftest import csrf_from, fresh_database, make_test_config
from tests.factories import PASSWORD, make_user

LOCK_OUT = "Too many failed sign-ins for this address. Try again in 15 minutes."


@pytest.fixture
def app(tmp_path):
    """TestConfig switches the limiter off: these tests need it on, with the default limits."""
    app = create_app(make_test_config(RATELIMIT_ENABLED=True, UPLOAD_DIR=str(tmp_path / "uploads")))
    assert app.config["LOGIN_ADDRESS_LIMIT"] == "5 per 15 minutes"
    with fresh_database(app):
        yield app


def page_sign_in(client, email: str, password: str, ip: str):
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": ip}).text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def api_sign_in(client, email: str, password: str, ip: str):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def audit_rows(action: str) -> list[tuple]:
    db.session.expire_all()
    return list(db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.subject_user_id, AuditEvent.email, AuditEvent.ip)
        .where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all())


def test_failed_sign_ins_from_many_clients_lock_the_address_out_even_for_the_right_password(app):
    user = make_user("attendee", email="target@example.org")
    neighbour = make_user("attendee", email="neighbour@example.org")

    failures = [page_sign_in(app.test_client(), "Target@Example.org ", "wrong-guess", f"10.0.0.{n}") for n in range(5)]
    locked = app.test_client()
    refused = page_sign_in(locked, user.email, PASSWORD, "10.0.1.1")

    assert [r.status_code for r in failures] == [401] * 5
    assert refused.status_code == 429
    assert LOCK_OUT in refused.text
    assert int(refused.headers["Retry-After"]) > 14 * 60
    assert 'name="email"' in refused.text  # the sign-in page itself, with the message
    assert locked.get("/me/settings").headers["Location"].startswith("/login")
    other = app.test_client()
    assert page_sign_in(other, neighbour.email, PASSWORD, "10.0.1.1").status_code == 302
    assert other.get("/me/settings").status_code == 200


def test_the_api_refuses_a_locked_address_with_too_many_attempts(app):
    user = make_user("attendee", email="api-target@example.org")

    failures = [api_sign_in(app.test_client(), user.email, "wrong-guess", f"10.0.2.{n}").status_code for n in range(5)]
    refused = api_sign_in(app.test_client(), user.email, PASSWORD, "10.0.2.99")

    assert failures == [401] * 5
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"]["code"] == "too_many_attempts"
    assert body["error"]["message"] == LOCK_OUT
    assert 14 * 60 < body["error"]["details"]["retry_after"] <= 15 * 60
    assert int(refused.headers["Retry-After"]) > 14 * 60
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_page_and_api_failures_count_together(app):
    user = make_user("attendee", email="both@example.org")

    for n in range(3):
        assert page_sign_in(app.test_client(), user.email, "wrong-guess", f"10.0.3.{n}").status_code == 401
    for n in range(2):
        assert api_sign_in(app.test_client(), user.email, "wrong-guess", f"10.0.4.{n}").status_code == 401

    assert api_sign_in(app.test_client(), user.email, PASSWORD, "10.0.5.1").status_code == 429
    assert page_sign_in(app.test_client(), user.email, PASSWORD, "10.0.5.2").status_code == 429


def test_four_failures_do_not_lock_and_successful_sign_ins_do_not_count(app):
    user = make_user("attendee", email="careful@example.org")

    for n in range(4):
        assert api_sign_in(app.test_client(), user.email, "wrong-guess", f"10.0.6.{n}").status_code == 401
    successes = [api_sign_in(app.test_client(), user.email, PASSWORD, f"10.0.7.{n}").status_code for n in range(6)]

    assert successes == [201] * 6


def test_the_lock_out_ends_with_its_window(app):
    user = make_user("attendee", email="patient@example.org")
    for n in range(5):
        api_sign_in(app.test_client(), user.email, "wrong-guess", f"10.0.8.{n}")
    assert api_sign_in(app.test_client(), user.email, PASSWORD, "10.0.8.50").status_code == 429

    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        response = api_sign_in(app.test_client(), user.email, PASSWORD, "10.0.8.51")

    assert response.status_code == 201


def test_an_unknown_address_gets_the_same_answer_and_locks_out_the_same_way(app):
    make_user("attendee", email="real@example.org")

    known = api_sign_in(app.test_client(), "real@example.org", "wrong-guess", "10.0.9.1")
    unknown = [api_sign_in(app.test_client(), "ghost@example.org", "wrong-guess", f"10.0.9.{n}") for n in range(2, 7)]
    refused = api_sign_in(app.test_client(), "ghost@example.org", "anything", "10.0.9.20")

    assert known.status_code == 401 and [r.status_code for r in unknown] == [401] * 5
    assert known.get_json() == unknown[0].get_json()
    assert refused.status_code == 429
    assert refused.get_json()["error"]["message"] == LOCK_OUT


def test_sign_ins_failures_and_lock_outs_are_audited(app):
    user = make_user("attendee", email="audited@example.org")

    api_sign_in(app.test_client(), user.email, PASSWORD, "10.1.0.1")
    page_sign_in(app.test_client(), user.email, PASSWORD, "10.1.0.2")
    for n in range(5):
        page_sign_in(app.test_client(), "AUDITED@example.org", "wrong-guess", f"10.1.1.{n}")
    api_sign_in(app.test_client(), "nobody@example.org", "wrong-guess", "10.1.2.1")
    api_sign_in(app.test_client(), user.email, PASSWORD, "10.1.3.1")

    assert audit_rows("sign_in") == [
        (user.id, user.id, user.email, "10.1.0.1"),
        (user.id, user.id, user.email, "10.1.0.2"),
    ]
    assert audit_rows("sign_in_failed") == [
        *[(None, user.id, "audited@example.org", f"10.1.1.{n}") for n in range(5)],
        (None, None, "nobody@example.org", "10.1.2.1"),
    ]
    assert audit_rows("locked_out") == [(None, user.id, "audited@example.org", "10.1.3.1")]
    db.session.expire_all()
    via = list(db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id)))
    assert [d["via"] for d in via] == ["token", "page"]


def test_the_per_client_limit_still_applies_across_addresses(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()

    answers = [api_sign_in(client, f"spray{n}@example.org", "wrong-guess", "10.2.0.1").status_code for n in range(4)]

    assert answers == [401, 401, 401, 429]
    assert api_sign_in(client, "spray9@example.org", "x", "10.2.0.1").get_json()["error"]["code"] == "rate_limited"


def test_the_lock_out_message_is_in_the_visitors_language(app):
    make_user("attendee", email="zh.target@example.org")
    for n in range(5):
        page_sign_in(app.test_client(), "zh.target@example.org", "wrong-guess", f"10.0.3.{n}")
    client = app.test_client()
    token = csrf_from(client.get("/login", headers={"Accept-Language": "zh-CN"},
                                 environ_base={"REMOTE_ADDR": "10.0.4.1"}).text)
    refused = client.post("/login", data={"email": "zh.target@example.org", "password": PASSWORD, "csrf_token": token},
                          headers={"Accept-Language": "zh-CN"}, environ_base={"REMOTE_ADDR": "10.0.4.1"})

    assert refused.status_code == 429
    assert "此邮箱登录失败次数过多。请在 15 分钟后重试。" in refused.text
    assert LOCK_OUT not in refused.text
