"""The audit log: role changes are recorded; organisers read it at /audit and GET /api/v1/audit, with filters;
nobody else may."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.accounts import audit
from app.accounts.models import AuditEvent
from app.extensions import db
from tests.factories import make_organiser, make_user


def add_event(action: str, at: datetime, *, actor=None, subject=None, email=None, **details) -> AuditEvent:
    event = audit.record(action, actor=actor, subject=subject, email=email, **details)
    event.at = at
    db.session.commit()
    return event


@pytest.fixture
def log():
    """An organiser, two people and five audit rows over three days of January 2026."""
    organiser = make_organiser(email="boss@hebei.example", timezone="Asia/Shanghai")
    wang = make_user("attendee", email="wang.li@tangshan.example", name="Wang Li", organisation="Tangshan Bureau")
    klaus = make_user("presenter", email="klaus@weber.example", name="Klaus Weber")
    db.session.execute(AuditEvent.__table__.delete())
    db.session.commit()
    events = {
        "wang_in": add_event("sign_in", datetime(2026, 1, 10, 1, 0, tzinfo=timezone.utc), actor=wang, subject=wang,
                             email=wang.email, via="page"),
        "ghost_failed": add_event("sign_in_failed", datetime(2026, 1, 10, 2, 0, tzinfo=timezone.utc),
                                  email="ghost@nowhere.example", via="token"),
        "klaus_role": add_event("role_changed", datetime(2026, 1, 11, 3, 0, tzinfo=timezone.utc), actor=organiser,
                                subject=klaus, old="attendee", new="presenter"),
        "klaus_in": add_event("sign_in", datetime(2026, 1, 11, 20, 0, tzinfo=timezone.utc), actor=klaus,
                              subject=klaus, email=klaus.email, via="token"),
        "wang_password": add_event("password_changed", datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc),
                                   actor=wang, subject=wang),
    }
    return {"organiser": organiser, "wang": wang, "klaus": klaus, "events": {k: e.id for k, e in events.items()}}


def rows_of(html: str) -> str:
    """The table of the page, without the filter's list of actions."""
    assert 'class="agenda audit"' in html
    return html.split('class="agenda audit"', 1)[1].split("</table>", 1)[0]


def ids(body) -> list[int]:
    return [item["id"] for item in body["items"]]


# ---------------------------------------------------------------- role changes are recorded


def test_a_role_change_is_audited_with_old_and_new_role(client, auth):
    organiser = make_organiser()
    person = make_user("attendee")

    response = client.patch(f"/api/v1/users/{person.id}", headers=auth(organiser), json={"role": "presenter"})

    assert response.status_code == 200
    db.session.expire_all()
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.subject_user_id, AuditEvent.organisation_id,
               AuditEvent.details).where(AuditEvent.action == "role_changed")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("role_changed", organiser.id, person.id, person.organisation_id, {"old": "attendee", "new": "presenter"})
    ]


def test_changing_other_fields_or_the_same_role_records_no_role_change(client, auth):
    organiser = make_organiser()
    person = make_user("attendee")

    client.patch(f"/api/v1/users/{person.id}", headers=auth(organiser), json={"role": "attendee", "name": "New Name"})

    db.session.expire_all()
    assert db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == "role_changed")).all() == []


# ---------------------------------------------------------------- who may read it


@pytest.mark.parametrize("role", ["attendee", "presenter"])
def test_non_organisers_get_403_from_the_page_and_the_api(app, login, auth, log, role):
    person = log["wang"] if role == "attendee" else log["klaus"]

    api = app.test_client().get("/api/v1/audit", headers=auth(person))
    page = login(person).get("/audit")

    assert api.status_code == 403 and page.status_code == 403
    assert "ghost@nowhere.example" not in api.get_data(as_text=True) + page.text


def test_anonymous_visitors_are_sent_to_login_and_programs_get_401(client):
    page = client.get("/audit")
    api = client.get("/api/v1/audit")

    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    assert api.status_code == 401


# ---------------------------------------------------------------- the API


def test_api_lists_newest_first_with_page_fields(client, auth, log):
    response = client.get("/api/v1/audit", headers=auth(log["organiser"]))

    assert response.status_code == 200
    body = response.get_json()
    e = log["events"]
    assert ids(body) == [e["wang_password"], e["klaus_in"], e["klaus_role"], e["ghost_failed"], e["wang_in"]]
    assert (body["total"], body["page"], body["per_page"]) == (5, 1, 20)
    role = body["items"][2]
    assert {k: role[k] for k in ("action", "actor_id", "subject_user_id", "subject_email", "details")} == {
        "action": "role_changed", "actor_id": log["organiser"].id, "subject_user_id": log["klaus"].id,
        "subject_email": "klaus@weber.example", "details": {"old": "attendee", "new": "presenter"},
    }
    assert body["items"][3]["email"] == "ghost@nowhere.example" and body["items"][3]["subject_user_id"] is None


def test_api_filters(client, auth, log):
    headers = auth(log["organiser"])
    e, wang, klaus = log["events"], log["wang"], log["klaus"]

    def query(**params):
        response = client.get("/api/v1/audit", headers=headers, query_string=params)
        assert response.status_code == 200, response.text
        return ids(response.get_json())

    assert query(action="sign_in") == [e["klaus_in"], e["wang_in"]]
    assert query(actor_id=wang.id) == [e["wang_password"], e["wang_in"]]
    assert query(subject_user_id=klaus.id) == [e["klaus_in"], e["klaus_role"]]
    assert query(email="ghost") == [e["ghost_failed"]]
    assert query(email="weber") == [e["klaus_in"], e["klaus_role"]]
    assert query(since="2026-01-11T00:00:00+00:00", until="2026-01-12T00:00:00+00:00") == [e["klaus_in"], e["klaus_role"]]
    assert query(since="2026-01-11T09:00:00+08:00") == [e["wang_password"], e["klaus_in"], e["klaus_role"]]
    assert query(per_page=2, page=2) == [e["klaus_role"], e["ghost_failed"]]


def test_api_refuses_a_time_without_offset_and_an_end_before_the_start(client, auth, log):
    headers = auth(log["organiser"])

    naive = client.get("/api/v1/audit", headers=headers, query_string={"since": "2026-01-11T00:00:00"})
    backwards = client.get("/api/v1/audit", headers=headers,
                           query_string={"since": "2026-01-12T00:00:00Z", "until": "2026-01-11T00:00:00Z"})

    assert naive.status_code == 422 and list(naive.get_json()["error"]["details"]["fields"]) == ["since"]
    assert backwards.status_code == 422 and list(backwards.get_json()["error"]["details"]["fields"]) == ["until"]


# ---------------------------------------------------------------- the page


def test_page_shows_rows_newest_first_in_the_viewers_zone(login, log):
    client = login(log["organiser"])

    response = client.get("/audit")

    assert response.status_code == 200
    html = response.text
    order = [html.index(label) for label in ("Password changed", "Role changed", "Sign-in failed")]
    assert order == sorted(order)
    # 2026-01-11 20:00 UTC is 12 January 04:00 in Shanghai, the organiser's zone.
    assert "Mon 12 Jan 2026, 04:00" in html
    assert "ghost@nowhere.example" in html and "Tangshan Bureau" in html
    assert "After: presenter; Before: attendee" in html  # details by their labels, roles by name


def test_page_shows_an_imports_checksum_as_its_hex_digits(login, log):
    organiser = log["organiser"]
    add_event("users_imported", datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc), actor=organiser,
              filename="people.csv", rows=2, sha256="ab" * 32)

    html = login(organiser).get("/audit").text

    assert f"Checksum (SHA-256): <code>{'ab' * 32}</code>" in html  # no JSON quotes around it
    assert "File: people.csv" in html


def test_page_filters_by_action_person_and_dates(login, log):
    client = login(log["organiser"])

    by_action = client.get("/audit", query_string={"action": "sign_in_failed"}).text
    by_person = client.get("/audit", query_string={"person": "klaus@"}).text
    # Days in Shanghai: 11 January runs from 10 Jan 16:00 to 11 Jan 16:00 UTC.
    by_day = client.get("/audit", query_string={"since": "2026-01-11", "until": "2026-01-11"}).text

    assert "ghost@nowhere.example" in by_action and "Role changed" not in rows_of(by_action)
    assert "klaus@weber.example" in by_person and "wang.li@tangshan.example" not in by_person
    body = rows_of(by_day)
    assert "Role changed" in body
    assert "Signed in" not in body and "Password changed" not in body and "Sign-in failed" not in body


def test_page_refuses_a_bad_date_naming_the_field(login, log):
    client = login(log["organiser"])

    response = client.get("/audit", query_string={"since": "11/01/2026"})

    assert response.status_code == 422
    assert 'id="f-since-error"' in response.text and "YYYY-MM-DD" in response.text


def test_page_pages_through_many_rows(login, log):
    for n in range(55):
        add_event("sign_in_failed", datetime(2026, 2, 1, 0, n, tzinfo=timezone.utc), email=f"guess{n}@example.org")
    client = login(log["organiser"])

    first = client.get("/audit", query_string={"action": "sign_in_failed"}).text
    second = client.get("/audit", query_string={"action": "sign_in_failed", "page": 2}).text

    assert "guess54@example.org" in first and "guess5@example.org" in first and "guess4@example.org" not in first
    assert "guess4@example.org" in second and "ghost@nowhere.example" in second
    assert "page=2" in first and "action=sign_in_failed" in first
