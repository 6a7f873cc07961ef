"""Hostile input on every route family: a 4xx in the one error shape, and no row written.

Ids past the database's INTEGER (2^31, 2^63 and beyond), NUL bytes and lone surrogates in any text,
JSON nested 10,000 deep, dates at the calendar's edges, paging out of range, invisible-only
question text, a garbage month; the same on the Socket.IO events. Runs on SQLite and (with
TEST_DATABASE_URL) on PostgreSQL, where most of these once answered 500.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.bounds import MAX_INT, MAX_JSON_DEPTH, json_depth
from app.extensions import db, socketio
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

HUGE = [2**31, 2**63, 2**64 + 7, 10**30]
NUL = "a\u0000b"
SURROGATE = "\ud800"
DEEP_LIST = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
EDGE_DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:00:00+00:00",
              "2201-01-01T00:00:00+00:00"]

#: Every API list that pages, as the organiser reads it ({fair}: a fair's id, {org}: an organisation's).
PAGED = ["/api/v1/fairs", "/api/v1/leads", "/api/v1/leads.csv", "/api/v1/projects", "/api/v1/users",
         "/api/v1/organisations", "/api/v1/notifications", "/api/v1/invitations", "/api/v1/audit",
         "/api/v1/fairs/{fair}/registrations", "/api/v1/fairs/{fair}/sessions", "/api/v1/materials/review-queue",
         "/api/v1/organisations/{org}/users"]


@pytest.fixture
def world(app, auth):
    organiser = make_organiser()
    agent = make_presenter()
    attendee = make_user("attendee", organisation="Tangshan Commerce Bureau")
    project = make_project(agent)
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    return {"organiser": organiser, "agent": agent, "attendee": attendee, "project": project, "fair": fair,
            "session": session, "as_organiser": auth(organiser), "as_attendee": auth(attendee),
            "as_presenter": auth(agent)}


def rows() -> dict[str, int]:
    db.session.expire_all()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def error_of(response, status: int | None = None) -> dict:
    """A 4xx in the one error shape; `status` when the exact one matters."""
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, text[:500])
    if status is not None:
        assert response.status_code == status, text[:500]
    assert response.mimetype == "application/json", text[:200]
    body = response.get_json()
    assert list(body) == ["error"]
    assert {"code", "message", "details"} <= set(body["error"])
    assert body["error"]["code"] != "internal_error"
    return body["error"]


def send(client, method, url, headers, *, body=None, raw=None):
    kwargs = {"headers": headers}
    if raw is not None:
        kwargs.update(data=raw, content_type="application/json")
    elif body is not None:
        kwargs["json"] = body
    return client.open(url, method=method, **kwargs)


# ---------------------------------------------------------------- path ids


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if any(type(c).__name__ == "BoundedIntConverter" for c in rule._converters.values()):
            yield rule


def test_every_int_route_answers_404_for_ids_that_cannot_exist(client, world):
    rules = list(_int_rules(client.application))
    assert len(rules) > 40  # every <int:…> route of the API and the pages
    before = rows()
    for rule in rules:
        for huge in HUGE:
            url = re.sub(r"<int:[a-z_]+>", str(huge), rule.rule)
            url = re.sub(r"<[^>]+>", "x", url)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, headers=world["as_organiser"])
                # 405 where a sibling rule of the same path takes other methods (Werkzeug checks the
                # method before the converter): still no lookup, no 500.
                assert response.status_code in (404, 405), (method, url, response.status_code)
                if url.startswith("/api/"):
                    assert error_of(response)["code"] in ("not_found", "method_not_allowed")
    assert rows() == before


def test_the_largest_possible_id_is_looked_up_and_not_found(client, world):
    for url in (f"/api/v1/fairs/{MAX_INT}", f"/api/v1/sessions/{MAX_INT}", f"/fairs/{MAX_INT}.ics"):
        assert client.get(url, headers=world["as_organiser"]).status_code == 404


# ---------------------------------------------------------------- numbers in bodies and filters


def _body_cases(w):
    s, f = w["session"].id, w["fair"].id
    fair = {"title": "T", "starts_at": "2027-03-01T09:00:00+08:00", "ends_at": "2027-03-01T12:00:00+08:00"}
    session = {"title": "S", "starts_at": "2026-12-10T08:00:00+00:00", "ends_at": "2026-12-10T08:30:00+00:00",
               "track": "main"}
    cases = []
    for huge in HUGE:
        cases += [
            ("organiser", "POST", "/api/v1/fairs", {**fair, "capacity": huge}),
            ("organiser", "PATCH", f"/api/v1/fairs/{f}", {"capacity": huge}),
            ("organiser", "POST", f"/api/v1/fairs/{f}/sessions", {**session, "presenter_ids": [huge]}),
            ("organiser", "POST", f"/api/v1/fairs/{f}/sessions", {**session, "project_ids": [1, huge]}),
            ("organiser", "PATCH", f"/api/v1/sessions/{s}", {"presenter_ids": [huge]}),
            ("attendee", "PATCH", "/api/v1/leads/1", {"owner_id": huge}),
            ("organiser", "POST", "/api/v1/organisations/1/merge", {"duplicate_id": huge}),
            ("organiser", "PUT", "/api/v1/stage-limits", {"stage": "contacted", "days": huge}),
            ("organiser", "POST", "/api/v1/projects", {"title": "P", "sector": "ice_snow", "country": "DE",
                                                       "owner_id": huge}),
            ("organiser", "POST", f"/api/v1/sessions/{s}/signings", {"lead_id": huge, "amount": "1",
                                                                      "currency": "EUR"}),
            ("attendee", "POST", f"/api/v1/sessions/{s}/interests", {"project_id": huge, "level": "info",
                                                                      "client_id": "c-client-1"}),
            ("attendee", "POST", "/api/v1/reports", {"updates": [{"lead_id": huge, "stage": "contacted"}]}),
        ]
    return cases


def test_integers_in_bodies_past_their_range_are_refused(client, world):
    before = rows()
    for role, method, url, body in _body_cases(world):
        error = error_of(send(client, method, url, world[f"as_{role}"], body=body))
        # Refused at the edge (or for another reason first), not by the database's overflow net.
        assert "body" not in error["details"].get("fields", {}), (url, body, error)
    assert rows() == before


FILTERS = ["/api/v1/leads?fair_id={n}", "/api/v1/leads?owner_id={n}", "/api/v1/leads.csv?fair_id={n}",
           "/api/v1/projects?owner_id={n}", "/api/v1/users?organisation_id={n}", "/api/v1/audit?actor_id={n}",
           "/api/v1/audit?subject_user_id={n}", "/api/v1/stats/pipeline?fair_id={n}",
           "/api/v1/stats/summary?fair_id={n}", "/api/v1/reports/province.xlsx?fair_id={n}",
           "/api/v1/fairs/{fair}/slot-suggestions?presenter_id={n}&minutes=30",
           "/api/v1/fairs/{fair}/slot-suggestions?presenter_id=1&minutes={n}", "/api/v1/fairs?page={n}",
           "/api/v1/divisions?limit={n}"]


def test_integers_in_filters_past_their_range_are_422(client, world):
    for template in FILTERS:
        for n in HUGE + [-1]:
            url = template.format(n=n, fair=world["fair"].id)
            error = error_of(client.get(url, headers=world["as_organiser"]), 422)
            assert error["code"] == "validation_failed", url
            assert "body" not in error["details"]["fields"], (url, error)  # the filter is named


PAGING = ["page=-3", "page=0", "per_page=-1", "per_page=0", "per_page=100000", "per_page=101", "page=abc",
          f"page={2**63}"]


def test_every_list_validates_its_paging(client, world):
    for template, query in [(t, q) for t in PAGED for q in PAGING]:
        url = template.format(fair=world["fair"].id, org=world["organiser"].organisation_id) + "?" + query
        error = error_of(client.get(url, headers=world["as_organiser"]), 422)
        assert error["code"] == "validation_failed"
        assert set(error["details"]["fields"]) <= {"page", "per_page"}, url


def test_every_list_takes_per_page_100(client, world):
    for template in PAGED:
        url = template.format(fair=world["fair"].id, org=world["organiser"].organisation_id) + "?per_page=100"
        assert client.get(url, headers=world["as_organiser"]).status_code == 200, url


# ---------------------------------------------------------------- text: NUL and lone surrogates


def _text_cases(w, bad):
    s, f = w["session"].id, w["fair"].id
    return [
        (None, "POST", "/api/v1/auth/token", {"email": f"{bad}@x.example", "password": "x"}),
        (None, "POST", "/api/v1/auth/password-reset", {"email": f"{bad}@x.example"}),
        ("organiser", "POST", "/api/v1/fairs", {"title": bad, "starts_at": "2027-03-01T09:00:00+08:00",
                                                "ends_at": "2027-03-01T12:00:00+08:00"}),
        ("organiser", "PATCH", f"/api/v1/fairs/{f}", {"theme": bad}),
        ("organiser", "POST", f"/api/v1/fairs/{f}/sessions", {"title": "S", "description": bad,
                                                              "starts_at": "2026-12-10T08:00:00+00:00",
                                                              "ends_at": "2026-12-10T08:30:00+00:00"}),
        ("organiser", "POST", "/api/v1/organisations", {"name": bad, "kind": "government", "country": "CN"}),
        ("organiser", "POST", "/api/v1/users", {"email": "z@example.org", "name": bad, "role": "attendee",
                                                "organisation": "Z"}),
        ("organiser", "POST", "/api/v1/sectors", {"code": "xx", "name_en": bad, "name_zh": "x"}),
        ("organiser", "PUT", "/api/v1/rates", {"currency": bad, "cny_per_unit": "7.1"}),
        ("organiser", "POST", "/api/v1/series", {"title": bad, "timezone": "Asia/Shanghai"}),
        ("attendee", "PATCH", "/api/v1/me", {"name": bad}),
        ("attendee", "PATCH", "/api/v1/me", {"languages": ["en", bad]}),
        ("attendee", "POST", f"/api/v1/sessions/{s}/questions", {"text": bad, "client_id": "q-client-1"}),
        ("attendee", "POST", f"/api/v1/sessions/{s}/questions", {"text": "Why?", "client_id": bad}),
        ("attendee", "POST", f"/api/v1/sessions/{s}/interests", {"project_id": w["project"].id, "level": "info",
                                                                 "client_id": "i-client-1", "note": bad}),
        ("attendee", "PATCH", f"/api/v1/organisations/{w['attendee'].organisation_id}/demand",
         {"demand_note": bad}),
        ("attendee", "POST", "/api/v1/reports", {"note": bad, "updates": []}),
        ("presenter", "POST", "/api/v1/projects", {"title": "P", "summary": bad, "sector": "ice_snow",
                                                   "country": "DE"}),
        ("organiser", "POST", "/api/v1/fairs", {bad: "key", "title": "T"}),
    ]


def test_nul_and_lone_surrogates_in_json_text_are_422(client, world):
    before = rows()
    bads = [NUL, SURROGATE, "\u0000", f"ok{SURROGATE}ok", "\udfff"]
    for role, method, url, body in [case for bad in bads for case in _text_cases(world, bad)]:
        headers = world[f"as_{role}"] if role else {}
        raw = json.dumps(body)  # escapes: "\u0000", "\ud800" on the wire, as an attacker sends them
        error = error_of(send(client, method, url, headers, raw=raw), 422)
        assert error["code"] == "validation_failed", (url, error)
    assert rows() == before


NUL_URLS = ["/api/v1/fairs?status=a%00b", "/api/v1/leads?city=%00",
                                 "/api/v1/leads?stage=x%00", "/api/v1/organisations?q=%00",
                                 "/api/v1/timezones?q=%00", "/api/v1/divisions?q=a%00",
                                 "/api/v1/audit?email=%00", "/calendar/a%00b.ics", "/fairs?q=%00",
                                 "/api/v1/fairs?%00=1", "/api/v1/users?role=%00"]


def test_nul_in_the_path_or_query_is_422(client, world):
    for url in NUL_URLS:
        response = client.get(url, headers=world["as_organiser"])
        assert response.status_code == 422, (url, response.status_code)
        if url.startswith("/api/"):
            error_of(response, 422)


def test_nul_in_a_form_or_a_file_name_is_422(client, world, login):
    from tests.conftest import csrf_from

    page = client.get("/login")
    response = client.post("/login", data={"email": NUL + "@x.example", "password": "x",
                                           "csrf_token": csrf_from(page.text)})
    assert response.status_code == 422
    before = rows()
    import io

    response = client.post(f"/api/v1/projects/{world['project'].id}/materials", headers=world["as_presenter"],
                           data={"file": (io.BytesIO(b"%PDF-1.4\n"), "deck\u0000.pdf")},
                           content_type="multipart/form-data")
    error_of(response, 422)
    assert rows() == before


def test_a_form_part_without_a_name_is_no_500(client, world):
    """A multipart part with no `name` (the parser gives it the name None) is ignored like any other
    field the operation does not take: the request gets the answer it would get without it."""
    boundary = "cloudfair-no-name"
    body = (f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\n{{}}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deck.pdf\"\r\n\r\n"
            f"%PDF-1.4\n\r\n--{boundary}--\r\n").encode()
    before = rows()
    for url in [f"/api/v1/projects/{world['project'].id}/materials", "/api/v1/projects/2147483648/materials"]:
        response = client.post(url, headers={**world["as_attendee"],
                                             "Content-Type": f"multipart/form-data; boundary={boundary}"}, data=body)
        assert response.status_code in (403, 404, 405), (url, response.status_code)
        error_of(response, response.status_code)
    assert rows() == before


# ---------------------------------------------------------------- JSON depth, dates, invisible text, months


def test_deep_json_is_422(client, world):
    before = rows()
    raws = [DEEP_LIST, DEEP_OBJECT, "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)]
    for raw, (role, method, url) in [(r, c) for r in raws for c in [("organiser", "POST", "/api/v1/fairs"), ("organiser", "POST", "/api/v1/series"),
                              (None, "POST", "/api/v1/auth/token"),
                              ("attendee", "POST", f"/api/v1/sessions/{world['session'].id}/interests"),
                              ("organiser", "POST", f"/api/v1/sessions/{world['session'].id}/signings")]]:
        headers = world[f"as_{role}"] if role else {}
        error = error_of(send(client, method, url, headers, raw=raw), 422)
        assert error["details"]["fields"] == {"body": [error["details"]["fields"]["body"][0]]}
    assert rows() == before


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1
    assert json_depth(b'[[["\\"[["]]]') == 3
    assert json_depth(b"[]") == 1 and json_depth(b"1") == 0


def test_dates_at_the_calendars_edges_are_422(client, world):
    for moment in EDGE_DATES:
        _dates_refused(client, world, moment)


def _dates_refused(client, world, moment):
    before = rows()
    fair = {"title": "T", "starts_at": "2027-03-01T09:00:00+08:00", "ends_at": "2027-03-01T12:00:00+08:00"}
    s, f = world["session"].id, world["fair"].id
    for role, method, url, body in [
        ("organiser", "POST", "/api/v1/fairs", {**fair, "starts_at": moment}),
        ("organiser", "POST", "/api/v1/fairs", {**fair, "ends_at": moment}),
        ("organiser", "PATCH", f"/api/v1/fairs/{f}", {"starts_at": moment}),
        ("organiser", "POST", f"/api/v1/fairs/{f}/sessions", {"title": "S", "starts_at": moment,
                                                              "ends_at": "2026-12-10T08:30:00+00:00"}),
        ("attendee", "POST", f"/api/v1/sessions/{s}/interests", {"project_id": world["project"].id,
                                                                 "level": "info", "client_id": "i-client-9", "at": moment}),
    ]:
        error_of(send(client, method, url, world[f"as_{role}"], body=body), 422)
    from urllib.parse import quote

    for url in (f"/api/v1/fairs?from={quote(moment)}", f"/api/v1/fairs?to={quote(moment)}",
                f"/api/v1/audit?since={quote(moment)}", f"/api/v1/audit?until={quote(moment)}"):
        error_of(client.get(url, headers=world["as_organiser"]), 422)
    assert rows() == before


def test_a_question_of_invisible_characters_only_is_422(client, world):
    session = world["session"]
    fairs_registration = client.post(f"/api/v1/fairs/{world['fair'].id}/registrations",
                                     headers=world["as_attendee"])
    assert fairs_registration.status_code in (200, 201)
    before = rows()
    with time_machine.travel(session.starts_at + timedelta(minutes=5), tick=False):
        for text in ["\u200b", " \u200b\u200c\u200d\ufeff ", "\u2060\u00a0", "\u3000", "\u0301"]:
            response = client.post(f"/api/v1/sessions/{session.id}/questions", headers=world["as_attendee"],
                                   json={"text": text, "client_id": "q-client-zw"})
            assert error_of(response, 422)["details"]["fields"] == {"text": ["Write a question."]}
        assert rows() == before
        response = client.post(f"/api/v1/sessions/{session.id}/questions", headers=world["as_attendee"],
                               json={"text": "\u200bWhy?", "client_id": "q-client-ok"})
        assert response.status_code == 201  # visible text with an invisible character is fine


def test_missing_reports_month_is_validated(client, world):
    for month in ["garbage", "2026-13", "2026-1", "0000-00", "%00"]:
        response = client.get(f"/api/v1/reports/missing?month={month}", headers=world["as_organiser"])
        assert error_of(response, 422)["code"] == "validation_failed"
    assert client.get("/api/v1/reports/missing?month=2026-12", headers=world["as_organiser"]).status_code == 200
    unknown = client.get("/api/v1/reports/missing?month=2026-12&city=Tangshan", headers=world["as_organiser"])
    assert error_of(unknown, 422)["code"] == "validation_failed"  # an unknown parameter is refused, not ignored


@pytest.mark.parametrize("path", ["/api/v1/stats/summary?to=", "/api/v1/stats/summary?from=",
                                  "/api/v1/reports/province.xlsx?to=", "/api/v1/leads?from=",
                                  "/api/v1/leads.csv?from=", "/api/v1/reports/missing?month="])
def test_months_outside_the_years_are_422(client, world, path):
    for month in ["0000-01", "1899-12", "2201-01", "9999-12"]:
        response = client.get(path + month, headers=world["as_organiser"])
        assert error_of(response, 422)["details"]["fields"], (path, month)
    assert client.get(path + "1900-01", headers=world["as_organiser"]).status_code == 200


# ---------------------------------------------------------------- the Socket.IO events


@pytest.fixture
def socket_client(app, world, auth):
    app.config["LIVE_BURST"] = 1_000  # every case answered on its merits, not by the rate limit
    client = socketio.test_client(app, namespace="/live", auth={"token": auth(world["attendee"])["Authorization"][7:]})
    assert client.is_connected("/live")
    yield client
    if client.is_connected("/live"):
        client.disconnect(namespace="/live")


def _socket_cases(w):
    s, p = w["session"].id, w["project"].id
    cases = []
    for huge in HUGE + [-1]:
        cases += [("join", {"session_id": huge}), ("join", {"session_id": s, "since_seq": huge}),
                  ("leave", {"session_id": huge}), ("ask", {"session_id": huge, "text": "Why?", "client_id": "a-client-0"}),
                  ("vote", {"question_id": huge}), ("moderate", {"question_id": huge, "action": "pin"}),
                  ("express_interest", {"session_id": s, "project_id": huge, "level": "info", "client_id": "b-client-0"})]
    for bad in (NUL, SURROGATE):
        cases += [("ask", {"session_id": s, "text": bad, "client_id": "c-client-0"}),
                  ("ask", {"session_id": s, "text": "Why?", "client_id": bad}),
                  ("express_interest", {"session_id": s, "project_id": p, "level": "info", "client_id": "d-client-0",
                                        "note": bad}),
                  ("moderate", {"question_id": 1, "action": bad})]
    cases += [("express_interest", {"session_id": s, "project_id": p, "level": "info", "client_id": "e-client-0",
                                    "at": moment}) for moment in EDGE_DATES]
    nested: object = 1
    for _ in range(MAX_JSON_DEPTH + 2):
        nested = [nested]
    cases += [("ask", {"session_id": s, "text": "Why?", "client_id": "f-client-0", "extra": nested})]
    return cases


def test_socket_events_refuse_the_same_inputs_with_an_error_ack(world, socket_client):
    before = rows()
    for event, data in _socket_cases(world):
        ack = socket_client.emit(event, data, namespace="/live", callback=True)
        assert ack["ok"] is False, (event, data)
        assert ack["error"]["code"] in ("validation_failed", "not_found", "forbidden", "conflict",
                                        "too_large"), (event, ack)
        assert ack["error"]["code"] != "internal_error"
    assert rows() == before


def test_a_signing_body_that_is_not_an_object_or_an_id_of_other_digits_is_422(client, world):
    url = f"/api/v1/sessions/{world['session'].id}/signings"
    for body in ([None, None], "text", 5):
        response = client.post(url, json=body, headers=world["as_organiser"])
        assert error_of(response, 422)["code"] == "validation_failed", body
    response = client.post(url, data={"lead_id": "\u00b2", "amount": "1", "currency": "CNY"},
                           headers=world["as_organiser"])
    assert 400 <= response.status_code < 500
