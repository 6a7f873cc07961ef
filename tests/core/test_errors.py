"""One error shape, the right status, HTML pages for browsers, CSRF, health; bad input writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.access import PUBLIC, allow
from app.accounts.models import Organisation, User
from app.extensions import db
from app.fairs import services as fairs
from app.fairs.models import Fair, FairSession, Registration
from tests.conftest import sign_in
from tests.factories import PASSWORD, make_fair, make_organiser, make_session, make_user

GOOD_FAIR = {
    "title": "America fair",
    "starts_at": "2026-12-17T21:00:00+08:00",
    "ends_at": "2026-12-18T01:00:00+08:00",
    "timezone": "Asia/Shanghai",
}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def error_of(response, status: int, code: str | None = None) -> dict:
    """Assert the one error shape and return its `error` object."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error.get("details", {}), dict)
    if code is not None:
        assert error["code"] == code
    return error


# ---------------------------------------------------------------- the statuses


def test_bad_json_body_is_400_invalid_json_and_writes_nothing(client, auth):
    organiser = make_organiser()
    before = count(Fair)

    response = client.post(
        "/api/v1/fairs", data='{"title": "Broken', content_type="application/json", headers=auth(organiser)
    )

    error_of(response, 400, "invalid_json")
    assert count(Fair) == before


def test_missing_or_bad_token_is_401(client):
    error_of(client.get("/api/v1/me"), 401, "unauthorized")
    error_of(client.get("/api/v1/me", headers={"Authorization": "Bearer cf_not-a-token"}), 401, "unauthorized")


def test_wrong_role_is_403_and_writes_nothing(client, auth):
    attendee = make_user("attendee")

    response = client.post("/api/v1/fairs", json=GOOD_FAIR, headers=auth(attendee))

    error_of(response, 403, "forbidden")
    assert count(Fair) == 0


def test_unknown_api_path_is_404_json(client):
    error_of(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_unknown_object_is_404_json(client):
    error_of(client.get("/api/v1/fairs/999999"), 404, "not_found")
    error_of(client.get("/api/v1/sessions/999999"), 404, "not_found")


def test_wrong_method_is_405_with_allow_header(client):
    response = client.delete("/api/v1/fairs")

    error_of(response, 405, "method_not_allowed")
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_schedule_conflict_is_409_naming_the_clash_and_writes_nothing(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser)
    opening = make_session(fair, organiser, title="Opening", track="main")
    before = count(FairSession)

    response = client.post(
        f"/api/v1/fairs/{fair.id}/sessions",
        json={
            "title": "Clash", "kind": "pitch", "track": "main",
            "starts_at": (fair.starts_at + timedelta(minutes=10)).isoformat(),
            "ends_at": (fair.starts_at + timedelta(minutes=40)).isoformat(),
        },
        headers=auth(organiser),
    )

    error = error_of(response, 409, "schedule_conflict")
    assert [c["session_id"] for c in error["details"]["conflicts"]] == [opening.id]
    assert count(FairSession) == before


def test_full_fair_is_409_fair_full_and_writes_nothing(client, auth):
    fair = make_fair(capacity=1, waitlist=False)  # with a waiting list the latecomer would wait (201)
    fairs.register(make_user("attendee"), fair.id)
    latecomer = make_user("attendee")

    response = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(latecomer))

    error = error_of(response, 409, "fair_full")
    assert error["details"] == {"capacity": 1}
    assert count(Registration) == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"ends_at": "2026-12-17T20:00:00+08:00"}, "ends_at"),
        ({"focus_countries": ["XX"]}, "focus_countries"),
        ({"focus_sectors": ["alchemy"]}, "focus_sectors"),
        ({"title": None}, "title"),
    ],
    ids=["timezone", "end-before-start", "country", "sector", "title"],
)
def test_bad_field_is_422_naming_the_field_and_writes_nothing(client, auth, change, field):
    organiser = make_organiser()

    response = client.post("/api/v1/fairs", json={**GOOD_FAIR, **change}, headers=auth(organiser))

    error = error_of(response, 422, "validation_failed")
    assert field in error["details"]["fields"]
    assert all(isinstance(m, str) for m in error["details"]["fields"][field])
    assert count(Fair) == 0


def test_missing_required_field_is_422_naming_it(client, auth):
    organiser = make_organiser()

    response = client.post("/api/v1/fairs", json={"title": "No times"}, headers=auth(organiser))

    error = error_of(response, 422, "validation_failed")
    assert {"starts_at", "ends_at"} <= set(error["details"]["fields"])
    assert count(Fair) == 0


# ---------------------------------------------------------------- 500


@pytest.fixture
def broken_app(app):
    """The test app with routes that write and then fail; added before the first request."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def write_then_fail():
        db.session.add(Organisation(name="Half-made Org", kind="park", country="CN"))
        db.session.flush()
        raise RuntimeError("database said something secret")

    app.add_url_rule("/api/v1/_boom", "api_boom", allow(PUBLIC)(write_then_fail))
    app.add_url_rule("/_boom", "page_boom", allow(PUBLIC)(lambda: write_then_fail()))
    return app


@pytest.mark.own_app
def test_unexpected_error_in_api_is_500_json_rolled_back_without_traceback(broken_app):
    before = count(Organisation)

    response = broken_app.test_client().get("/api/v1/_boom")

    error = error_of(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text
    assert error["message"]
    assert count(Organisation) == before


@pytest.mark.own_app
def test_unexpected_error_on_a_page_is_a_500_html_page_without_traceback(broken_app):
    response = broken_app.test_client().get("/_boom")

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert count(Organisation) == 0


# ---------------------------------------------------------------- pages get pages


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True).lower()


def test_unknown_page_asked_for_json_gets_the_json_shape(client):
    error_of(client.get("/no-such-page", headers={"Accept": "application/json"}), 404, "not_found")


def test_hidden_draft_page_is_an_html_404(client):
    draft = make_fair(publish=False)

    response = client.get(f"/fairs/{draft.id}")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert draft.title not in response.get_data(as_text=True)


def test_forbidden_page_is_an_html_403(client):
    sign_in(client, make_user("attendee"))

    response = client.get("/fairs/new")

    assert response.status_code == 403
    assert response.mimetype == "text/html"


# ---------------------------------------------------------------- CSRF


def test_login_form_without_csrf_token_is_refused_and_does_not_log_in(client):
    user = make_user("attendee")
    client.get("/login")

    response = client.post("/login", data={"email": user.email, "password": PASSWORD})

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert client.get("/me/calendar").status_code == 302  # still anonymous


def test_register_form_without_csrf_token_is_refused_and_writes_nothing(client):
    fair = make_fair()
    sign_in(client, make_user("attendee"))

    response = client.post(f"/fairs/{fair.id}/register", data={})

    assert response.status_code == 400
    assert count(Registration) == 0


def test_register_form_with_a_wrong_csrf_token_is_refused(client):
    fair = make_fair()
    sign_in(client, make_user("attendee"))

    response = client.post(f"/fairs/{fair.id}/register", data={"csrf_token": "forged"})

    assert response.status_code == 400
    assert count(Registration) == 0


def test_register_form_with_csrf_token_registers(client):
    fair = make_fair()
    token = sign_in(client, make_user("attendee"))

    response = client.post(f"/fairs/{fair.id}/register", data={"csrf_token": token})

    assert response.status_code == 302
    assert count(Registration) == 1


def test_cookie_authenticated_api_write_needs_the_csrf_header(client):
    token = sign_in(client, make_organiser())

    refused = client.post("/api/v1/fairs", json=GOOD_FAIR)
    error_of(refused, 400)
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert count(Fair) == 0

    accepted = client.post("/api/v1/fairs", json=GOOD_FAIR, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    assert count(Fair) == 1


def test_cookie_authenticated_api_read_needs_no_csrf_header(client):
    sign_in(client, make_organiser())

    assert client.get("/api/v1/users").status_code == 200


def test_token_authenticated_api_write_needs_no_csrf_header(client, auth):
    response = client.post("/api/v1/fairs", json=GOOD_FAIR, headers=auth(make_organiser()))

    assert response.status_code == 201


# ---------------------------------------------------------------- health


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok"}
    assert body["scheduler"] == {"last_heartbeat": None, "status": "never", "age_seconds": None, "in_process": False}
    assert "message_queue" in body


def test_healthz_shows_the_scheduler_heartbeat(client):
    from app.core.services import beat

    beat()

    assert client.get("/healthz").get_json()["scheduler"]["last_heartbeat"] is not None


def test_nothing_written_by_a_run_of_bad_requests(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser)
    headers = auth(organiser)
    counts = {m.__name__: count(m) for m in (Fair, FairSession, Registration, User, Organisation)}

    client.post("/api/v1/fairs", data="{", content_type="application/json", headers=headers)
    client.post("/api/v1/fairs", json={**GOOD_FAIR, "timezone": "Nowhere"}, headers=headers)
    client.patch(f"/api/v1/fairs/{fair.id}", json={"timezone": "Nowhere"}, headers=headers)
    client.post(f"/api/v1/fairs/{fair.id}/sessions", json={"title": "x"}, headers=headers)
    client.post("/api/v1/users", json={"email": "x@example.org", "name": "X", "role": "attendee",
                                       "organisation": "New Org", "timezone": "Nowhere"}, headers=headers)
    client.post("/api/v1/organisations", json={"name": "Bad", "kind": "park", "country": "XX"}, headers=headers)

    assert {m.__name__: count(m) for m in (Fair, FairSession, Registration, User, Organisation)} == counts
    db.session.expire_all()
    assert db.session.get(Fair, fair.id).timezone == "Asia/Shanghai"
