"""Importing people from CSV: decoding, every kind of bad row, the plan, all or nothing, the pages and the API."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from app.people import invitations, people_import
from app.accounts.models import AccountToken, AuditEvent, Organisation, User
from app.extensions import db
from app.notifications.models import MailMessage
from tests.conftest import csrf_from
from tests.factories import make_organiser, make_presenter, make_user

HEADER = ["name", "email", "role", "organisation", "kind", "city", "country", "timezone", "locale"]


def make_csv(rows, header=HEADER, encoding="utf-8-sig", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def person(n: int, **cells) -> list[str]:
    values = {"name": f"Person {n}", "email": f"person{n}@example.org", "role": "attendee",
              "organisation": "Tangshan Bureau of Commerce", "kind": "city_bureau", "city": "Tangshan",
              "country": "CN", "timezone": "Asia/Shanghai", "locale": "zh"}
    values.update(cells)
    return [values[c] for c in HEADER]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> dict[str, int]:
    return {m.__name__: count(m) for m in (User, Organisation, MailMessage, AccountToken, AuditEvent)}


def post_api(client, headers, data: bytes, dry_run: bool | None = None, filename: str = "people.csv"):
    form = {"file": (io.BytesIO(data), filename)}
    if dry_run is not None:
        form["dry_run"] = "true" if dry_run else "false"
    return client.post("/api/v1/users/import", headers=headers, data=form, content_type="multipart/form-data")


def upload_page(client, data: bytes, filename: str = "people.csv"):
    token = csrf_from(client.get("/people/import").text)
    return client.post("/people/import", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm_form(html: str) -> tuple[str, dict]:
    import re

    action = re.search(r'action="(/people/import/[^"]+/confirm)"', html)
    assert action, "the preview has no confirm form"
    digest = re.search(r'name="digest"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="digest"', html)
    return action.group(1), {"csrf_token": csrf_from(html), "digest": digest.group(1)}


@pytest.fixture
def organiser():
    return make_organiser()


# ---------------------------------------------------------------- the happy path


def test_import_creates_people_and_organisations_and_invites_them_after_the_commit(client, auth, organiser):
    known = make_user("attendee", organisation="Shijiazhuang Bureau of Commerce", kind="city_bureau")
    before = counts()
    data = make_csv([
        person(1, name="王芳", email="Wang.Fang@Example.org", organisation="shijiazhuang bureau of commerce",
               kind="", city="", country=""),
        person(2, organisation="Caofeidian Industrial Park", kind="park", city="Tangshan"),
        person(3, name="Anna Schmidt", role="presenter", organisation="Bavaria Invest Partners", kind="agency",
               city="Munich", country="DE", timezone="Europe/Berlin", locale="en"),
    ])

    response = post_api(client, auth(organiser), data)

    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["summary"]["created"] == 3 and body["summary"]["organisations_created"] == 2
    assert body["summary"]["invited"] == 3 and body["summary"]["invitations_failed"] is False
    assert [(r["row"], r["email"], r["outcome"], r["new_organisation"]) for r in body["rows"]] == [
        (2, "wang.fang@example.org", "new", False),
        (3, "person2@example.org", "new", True),
        (4, "person3@example.org", "new", True),
    ]
    assert all(r["user_id"] for r in body["rows"])
    wang = db.session.scalar(select(User).where(User.email == "wang.fang@example.org"))
    assert (wang.name, wang.organisation_id, wang.password_hash, wang.locale) == ("王芳", known.organisation_id, None, "zh")
    anna = db.session.scalar(select(User).where(User.email == "person3@example.org"))
    assert (anna.role, anna.timezone, anna.locale) == ("presenter", "Europe/Berlin", "en")
    assert (anna.organisation.name, anna.organisation.kind, anna.organisation.city, anna.organisation.country) == (
        "Bavaria Invest Partners", "agency", "Munich", "DE")
    park = db.session.scalar(select(Organisation).where(Organisation.name == "Caofeidian Industrial Park"))
    assert (park.kind, park.city, park.division_code, park.country) == ("park", "Tangshan", "130200", "CN")
    after = counts()
    assert after["User"] - before["User"] == 3 and after["Organisation"] - before["Organisation"] == 2
    mails = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
    assert sorted(m.to_address for m in mails) == ["person2@example.org", "person3@example.org", "wang.fang@example.org"]
    tokens = db.session.scalars(select(AccountToken).where(AccountToken.purpose == "invitation")).all()
    assert sorted(t.user_id for t in tokens) == sorted(r["user_id"] for r in body["rows"])
    imported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "users_imported")).all()
    assert len(imported) == 1
    assert imported[0].actor_id == organiser.id
    details = imported[0].details
    assert (details["rows"], details["created"], details["updated"], details["unchanged"],
            details["organisations_created"], details["filename"]) == (3, 3, 0, 0, 2, "people.csv")


def test_dry_run_reports_and_writes_nothing(client, auth, organiser):
    data = make_csv([person(1), person(2, organisation="Qian'an Park", kind="park")])
    headers = auth(organiser)
    before = counts()

    as_form = post_api(client, headers, data, dry_run=True)
    as_query = client.post("/api/v1/users/import?dry_run=true", headers=headers,
                           data={"file": (io.BytesIO(data), "p.csv")}, content_type="multipart/form-data")

    assert as_form.status_code == 200 and as_query.status_code == 200
    body = as_form.get_json()
    assert body == as_query.get_json()
    assert body["summary"] == {"rows": 2, "new": 2, "updated": 0, "unchanged": 0, "invalid": 0,
                               "new_organisations": 2, "similar_organisations": 0, "errors": 0, "warnings": 0}
    assert [r["outcome"] for r in body["rows"]] == ["new", "new"]
    assert body["errors"] == []
    assert counts() == before


def test_invitation_failure_keeps_the_people_and_says_so(client, auth, organiser, monkeypatch):
    def broken(user, actor):
        raise RuntimeError("mail templates missing")

    monkeypatch.setattr(invitations, "invite", broken)

    response = post_api(client, auth(organiser), make_csv([person(1)]))

    assert response.status_code == 201
    assert response.get_json()["summary"]["invitations_failed"] is True
    assert count(User) == 2 and count(MailMessage) == 0  # the people were committed before any invitation


# ---------------------------------------------------------------- bad rows


def test_every_kind_of_bad_row_is_reported_by_row_and_column_and_nothing_is_written(client, auth, organiser):
    rows = [
        person(1),                                     # row 2: fine
        person(2, name=""),                            # row 3
        person(3, email=""),                           # row 4
        person(4, role=""),                            # row 5
        person(5, organisation=""),                    # row 6
        person(6, email="not-an-address"),             # row 7
        person(7, role="boss"),                        # row 8
        person(8, kind="ministry"),                    # row 9
        person(9, country="XX"),                       # row 10
        person(10, timezone="Mars/Olympus"),           # row 11
        person(11, locale="fr"),                       # row 12
        person(12, email="twice@example.org"),         # row 13
        person(13, email="TWICE@example.org"),         # row 14: the same address
        person(14, name="x" * 201),                    # row 15
    ]
    before = counts()

    response = post_api(client, auth(organiser), make_csv(rows))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "import_invalid"
    found = [(e["row"], e["column"]) for e in error["details"]["errors"]]
    assert found == [
        (3, "name"), (4, "email"), (5, "role"), (6, "organisation"), (7, "email"), (8, "role"), (9, "kind"),
        (10, "country"), (11, "timezone"), (12, "locale"), (13, "email"), (14, "email"), (15, "name"),
    ]
    by_cell = {(e["row"], e["column"]): e for e in error["details"]["errors"]}
    assert by_cell[(13, "email")]["message"] == "This address is also on row 14; each person may appear once."
    assert by_cell[(14, "email")]["message"] == "This address is also on row 13; each person may appear once."
    assert by_cell[(8, "role")]["value"] == "boss"
    assert by_cell[(11, "timezone")]["value"] == "Mars/Olympus"
    assert [r["outcome"] for r in error["details"]["rows"]][:2] == ["new", "invalid"]
    assert counts() == before


def test_missing_and_repeated_header_columns_are_errors_on_row_one(client, auth, organiser):
    data = make_csv([["Li Lei", "li.lei@example.org", "Tangshan", "li@example.org"]],
                    header=["name", "email", "city", "邮箱"])

    response = post_api(client, auth(organiser), data, dry_run=True)

    assert response.status_code == 200
    assert [(e["row"], e["column"]) for e in response.get_json()["errors"]] == [
        (1, "email"), (1, "role"), (1, "organisation")]


def test_unknown_columns_are_ignored_with_a_warning(client, auth, organiser):
    data = make_csv([person(1) + ["VIP"]], header=HEADER + ["notes"])

    body = post_api(client, auth(organiser), data, dry_run=True).get_json()

    assert body["errors"] == []
    assert [(w["row"], w["value"]) for w in body["warnings"]] == [(1, "notes")]


def test_you_cannot_change_your_own_role(client, auth, organiser):
    data = make_csv([[organiser.name, organiser.email, "attendee", organiser.organisation.name, "", "", "", "", ""]])

    body = post_api(client, auth(organiser), data, dry_run=True).get_json()

    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "role")]
    assert organiser.role == "organiser"


def test_kind_that_contradicts_an_existing_organisation_is_a_warning_and_changes_nothing(client, auth, organiser):
    make_user("attendee", organisation="Zhangjiakou Bureau of Commerce", kind="city_bureau", city="Zhangjiakou")

    response = post_api(client, auth(organiser), make_csv([person(1, organisation="Zhangjiakou Bureau of Commerce",
                                                                   kind="park", city="Zhangjiakou")]))

    assert response.status_code == 201
    warnings = response.get_json()["warnings"]
    assert [(w["row"], w["column"], w["value"]) for w in warnings] == [(2, "kind", "park")]
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Zhangjiakou Bureau of Commerce"))
    assert org.kind == "city_bureau"


def test_an_organisation_is_found_by_an_alias(client, auth, organiser):
    known = make_user("attendee", organisation="Tangshan Municipal Commerce Bureau", kind="city_bureau")
    known.organisation.aliases = ["唐山市商务局"]
    db.session.commit()

    body = post_api(client, auth(organiser), make_csv([person(1, organisation="唐山市商务局")]), dry_run=True).get_json()

    assert body["summary"]["new_organisations"] == 0
    assert body["rows"][0]["new_organisation"] is False


def test_country_names_in_english_and_chinese_become_codes(client, auth, organiser):
    data = make_csv([
        person(1, organisation="Munich Partners", country="Germany"),
        person(2, organisation="Lyon Partners", country="法国"),
    ])

    body = post_api(client, auth(organiser), data).get_json()

    assert [o["country"] for o in body["new_organisations"]] == ["DE", "FR"]


def test_rows_over_the_limit_are_refused_with_413(app, client, auth, organiser):
    app.config["IMPORT_MAX_ROWS"] = 3

    response = post_api(client, auth(organiser), make_csv([person(n) for n in range(4)]))

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_many_rows"
    assert count(User) == 1


# ---------------------------------------------------------------- encodings, delimiters, headers


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_utf8_with_and_without_bom(client, auth, organiser, encoding):
    data = make_csv([person(1, name="李娜", organisation="唐山市商务局", city="唐山")], encoding=encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")

    response = post_api(client, auth(organiser), data)

    assert response.status_code == 201, response.text
    user = db.session.scalar(select(User).where(User.email == "person1@example.org"))
    assert (user.name, user.organisation.name, user.organisation.division_code) == ("李娜", "唐山市商务局", "130200")


def test_gb18030_file_with_chinese_headers_names_and_organisations(client, auth, organiser):
    header = ["姓名", "邮箱", "角色", "单位", "类型", "城市", "国家", "时区", "语言"]
    rows = [
        ["张伟", "zhang.wei@example.org", "attendee", "石家庄市商务局", "city_bureau", "石家庄", "中国", "Asia/Shanghai", "中文"],
        ["刘洋", "liu.yang@example.org", "参会者", "曹妃甸工业区", "园区", "唐山", "CN", "", "zh"],
    ]
    data = make_csv(rows, header=header, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8

    response = post_api(client, auth(organiser), data)

    assert response.status_code == 201, response.text
    zhang = db.session.scalar(select(User).where(User.email == "zhang.wei@example.org"))
    liu = db.session.scalar(select(User).where(User.email == "liu.yang@example.org"))
    assert (zhang.name, zhang.organisation.name, zhang.organisation.division_code, zhang.locale) == (
        "张伟", "石家庄市商务局", "130100", "zh")
    assert (liu.name, liu.role, liu.organisation.name, liu.organisation.kind) == ("刘洋", "attendee", "曹妃甸工业区", "park")


def test_semicolon_separated_file(client, auth, organiser):
    data = make_csv([person(1), person(2)], delimiter=";")

    body = post_api(client, auth(organiser), data, dry_run=True).get_json()

    assert body["summary"]["new"] == 2 and body["errors"] == []


@pytest.mark.parametrize("data, status, code", [
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, 415, "unsupported_file"),
    ("name,email\nA,a@example.org\n".encode("utf-16"), 415, "unsupported_encoding"),
    (b"name,email,role,organisation\n\x00\x01\x02\x03,\x04\x05\n", 415, "unsupported_encoding"),
    (b"", 422, "validation_failed"),
])
def test_files_that_are_not_text_csv_are_refused(client, auth, organiser, data, status, code):
    response = post_api(client, auth(organiser), data)

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert count(User) == 1


def test_a_missing_file_field_is_422_naming_file(client, auth, organiser):
    response = client.post("/api/v1/users/import", headers=auth(organiser), data={"dry_run": "true"},
                           content_type="multipart/form-data")

    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["file"]


# ---------------------------------------------------------------- existing people


def test_existing_person_is_updated_and_a_role_change_is_audited(client, auth, organiser):
    moved = make_user("attendee", email="moved@example.org", name="Old Name", organisation="Old Org",
                      timezone="Asia/Shanghai", locale="zh")
    same = make_user("attendee", email="same@example.org", name="Same", organisation="Same Org", kind="park",
                     timezone="Asia/Shanghai", locale="en")
    data = make_csv([
        ["New Name", "MOVED@example.org", "presenter", "New Org", "agency", "Berlin", "DE", "Europe/Berlin", "en"],
        ["Same", "same@example.org", "attendee", "same org", "", "", "", "", ""],
    ])

    preview = post_api(client, auth(organiser), data, dry_run=True).get_json()
    response = post_api(client, auth(organiser), data)

    assert [(r["outcome"], r["changes"]) for r in preview["rows"]] == [
        ("updated", {"name": {"from": "Old Name", "to": "New Name"},
                     "role": {"from": "attendee", "to": "presenter"},
                     "timezone": {"from": "Asia/Shanghai", "to": "Europe/Berlin"},
                     "locale": {"from": "zh", "to": "en"},
                     "organisation": {"from": "Old Org", "to": "New Org"}}),
        ("unchanged", {}),
    ]
    assert response.status_code == 201
    assert response.get_json()["summary"]["updated"] == 1
    db.session.expire_all()
    assert (moved.name, moved.role, moved.timezone, moved.locale, moved.organisation.name) == (
        "New Name", "presenter", "Europe/Berlin", "en", "New Org")
    assert moved.password_hash is not None  # an existing person keeps their password and gets no invitation
    assert count(MailMessage) == 0
    changed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "role_changed")).all()
    assert [(e.actor_id, e.subject_user_id, e.details["old"], e.details["new"]) for e in changed] == [
        (organiser.id, moved.id, "attendee", "presenter")]
    assert same.organisation.name == "Same Org"


# ---------------------------------------------------------------- all or nothing


def test_one_bad_row_among_many_writes_nothing(client, auth, organiser):
    existing = make_user("attendee", email="person5@example.org", name="Before")
    rows = [person(n) for n in range(40)]
    rows[5][0] = "After"  # would update `existing`
    rows[30] = person(30, email="broken@")
    before = counts()

    response = post_api(client, auth(organiser), make_csv(rows))

    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.get_json()["error"]["details"]["errors"]] == [(32, "email")]
    assert counts() == before
    db.session.expire_all()
    assert existing.name == "Before"


def test_a_failure_while_applying_rolls_back_everything(organiser, monkeypatch):
    existing = make_user("attendee", email="person0@example.org", name="Before")
    rows = [person(0, name="After")] + [person(n, organisation=f"Park {n}", kind="park") for n in range(1, 10)]
    data = make_csv(rows)
    real = people_import._create_user

    def fail_on_last(row, org):
        if row.row == len(rows) + 1:
            raise RuntimeError("disk full")
        return real(row, org)

    monkeypatch.setattr(people_import, "_create_user", fail_on_last)
    before = counts()

    with pytest.raises(RuntimeError):
        people_import.import_people(organiser, data)

    assert counts() == before
    db.session.expire_all()
    assert existing.name == "Before"


def test_five_thousand_rows_preview_with_a_few_queries(client, auth, organiser):
    for n in range(10):
        make_user("attendee", email=f"person{n}@example.org", name=f"Person {n}")
    rows = [person(n, organisation=f"Organisation {n % 50}") for n in range(5000)]
    data = make_csv(rows)
    statements = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    started = time.perf_counter()
    try:
        report = people_import.plan(organiser, data)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    elapsed = time.perf_counter() - started
    print(f"\n5,000-row plan: {elapsed:.2f} s, {len(statements)} SQL statements")

    assert report.summary()["rows"] == 5000
    assert report.summary()["new"] == 4990
    assert report.summary()["updated"] == 10  # their organisation changes
    assert report.summary()["new_organisations"] == 50
    assert report.summary()["errors"] == 0
    assert len(statements) <= 3

    started = time.perf_counter()
    response = post_api(client, auth(organiser), data, dry_run=True)
    print(f"5,000-row API dry run: {time.perf_counter() - started:.2f} s")
    assert response.get_json()["summary"]["new"] == 4990


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("role", ["attendee", "presenter"])
def test_only_organisers_may_import(client, auth, login, role):
    someone = make_presenter() if role == "presenter" else make_user(role)
    data = make_csv([person(1)])
    before = counts()

    api = post_api(client, auth(someone), data)
    template = client.get("/people/import/template.csv", headers=auth(someone))
    login(someone)
    page = client.get("/people/import")
    posted = client.post("/people/import", data={"csrf_token": csrf_from(client.get("/").text),
                                                 "file": (io.BytesIO(data), "p.csv")},
                         content_type="multipart/form-data")

    assert (api.status_code, template.status_code, page.status_code, posted.status_code) == (403, 403, 403, 403)
    after = counts()
    assert {k: v for k, v in after.items() if k != "AuditEvent"} == {k: v for k, v in before.items() if k != "AuditEvent"}
    assert count(MailMessage) == 0 and count(User) == before["User"]


def test_anonymous_pages_redirect_to_login_and_api_says_401(client):
    assert client.get("/people/import").status_code == 302
    response = client.post("/api/v1/users/import", data={"file": (io.BytesIO(make_csv([person(1)])), "p.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 401


# ---------------------------------------------------------------- the pages


def test_page_flow_preview_then_confirm_creates_and_invites(app, client, login, organiser):
    login(organiser)
    data = make_csv([person(1), person(2, name="Anna Schmidt", role="presenter", organisation="Bavaria Invest",
                                        kind="agency", city="Munich", country="DE", timezone="Europe/Berlin",
                                        locale="en")])

    preview = upload_page(client, data)

    assert preview.status_code == 200
    assert "Import these people" in preview.text
    assert "New people: 2" in preview.text and "New organisations: 2" in preview.text
    assert count(User) == 1  # nothing written by the preview
    stored = list((Path(app.config["UPLOAD_DIR"]) / "imports").glob("*.csv"))
    assert [p.read_bytes() for p in stored] == [data]  # the upload waits on disk, not in the cookie
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 1000
    action, form = confirm_form(preview.text)

    done = client.post(action, data=form)

    assert done.status_code == 302 and done.headers["Location"].endswith("/people/import")
    assert count(User) == 3
    assert sorted(db.session.scalars(select(MailMessage.to_address))) == ["person1@example.org", "person2@example.org"]
    result = client.get("/people/import")
    assert "New people: 2" in result.text and "Invitations queued: 2" in result.text
    assert "/people/invitations" in result.text
    assert list((Path(app.config["UPLOAD_DIR"]) / "imports").glob("*.csv")) == []
    again = client.post(action, data=form)  # a second click applies nothing
    assert again.status_code == 404
    assert count(User) == 3


def test_page_shows_errors_by_row_and_column_and_offers_no_confirm(app, client, login, organiser):
    login(organiser)

    response = upload_page(client, make_csv([person(1), person(2, email="nope", timezone="Asia/Nowhere")]))

    assert response.status_code == 422
    assert "Import these people" not in response.text and "/confirm" not in response.text
    assert 'id="row-3"' in response.text
    assert 'data-error="email"' in response.text and 'data-error="timezone"' in response.text
    assert "Upload the corrected file" in response.text
    assert not (Path(app.config["UPLOAD_DIR"]) / "imports").exists() or not list(
        (Path(app.config["UPLOAD_DIR"]) / "imports").glob("*.csv"))
    assert count(User) == 1


def test_page_refuses_a_workbook_on_the_form(client, login, organiser):
    login(organiser)

    response = upload_page(client, b"PK\x03\x04" + b"\x00" * 64, filename="people.xlsx")

    assert response.status_code == 415
    assert "Excel workbook" in response.text


def test_confirm_with_someone_elses_import_is_404_and_writes_nothing(client, login, organiser):
    other = make_organiser(organisation="Hebei Investment Promotion Agency")
    login(organiser)
    preview = upload_page(client, make_csv([person(1)]))
    action, form = confirm_form(preview.text)
    client.post("/logout", data={"csrf_token": csrf_from(preview.text)})
    login(other)
    form["csrf_token"] = csrf_from(client.get("/people/import").text)

    response = client.post(action, data=form)

    assert response.status_code == 404
    assert count(User) == 2 and count(MailMessage) == 0


def test_confirm_shows_the_new_plan_when_the_database_changed_since_the_preview(client, login, organiser):
    login(organiser)
    preview = upload_page(client, make_csv([person(1), person(2)]))
    action, form = confirm_form(preview.text)
    make_user("attendee", email="person2@example.org", name="Someone Else", organisation="Elsewhere")

    changed = client.post(action, data=form)

    assert changed.status_code == 409
    assert "existing person updated" in changed.text
    assert count(User) == 2
    action, form = confirm_form(changed.text)
    assert client.post(action, data=form).status_code == 302
    assert count(User) == 3
    db.session.expire_all()
    assert db.session.scalar(select(User.name).where(User.email == "person2@example.org")) == "Person 2"


def test_template_downloads_with_bom_and_imports_cleanly(client, auth, organiser):
    response = client.get("/people/import/template.csv", headers=auth(organiser))

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    # In the reader's language (English here), which the import reads back as well as the codes.
    assert lines[0] == "Name,E-mail,Role,Organisation,Kind,City,Country,Time zone,Language" and len(lines) == 3
    assert "attendee" in lines[1] and "City commerce bureau" in lines[1] and "China" in lines[1]
    body = post_api(client, auth(organiser), response.data, dry_run=True).get_json()
    assert body["errors"] == [] and body["warnings"] == []
    assert body["summary"]["new"] == 2
    assert [(o["kind"], o["country"]) for o in body["new_organisations"]] == [("city_bureau", "CN"), ("agency", "DE")]


# ---------------------------------------------------------------- places and organisations that look alike

BUREAU = "Shijiazhuang Commerce Bureau 石家庄市商务局"
TEMPLATE_ROW = dict(name="张伟", organisation="石家庄市商务局", city="石家庄", kind="city_bureau")


@pytest.fixture
def bureau():
    return make_user("attendee", organisation=BUREAU, kind="city_bureau", city="Shijiazhuang").organisation


def test_city_column_is_matched_in_chinese_english_and_pinyin_and_the_name_implies_one(client, auth, organiser):
    data = make_csv([person(1, organisation="A Park", kind="park", city="Zhengding County"),
                     person(2, organisation="B Park", kind="park", city="baoding"),
                     person(3, organisation="C Park", kind="park", city="邯郸"),
                     person(4, organisation="承德双滦区招商局", kind="park", city=""),
                     person(5, organisation="Munich Agency", kind="agency", city="München", country="DE")])

    response = post_api(client, auth(organiser), data)

    assert response.status_code == 201, response.text
    places = {o["name"]: (o["division"], o["city"]) for o in response.json["new_organisations"]}
    assert places == {"A Park": ("130123", "Zhengding County"), "B Park": ("130600", "baoding"),
                      "C Park": ("130400", "邯郸"), "承德双滦区招商局": ("130803", "双滦区"),
                      "Munich Agency": (None, "München")}
    stored = dict(db.session.execute(select(Organisation.name, Organisation.division_code)).all())
    assert {name: stored[name] for name in places} == {name: code for name, (code, _) in places.items()}


def test_a_chinese_city_that_matches_nothing_is_a_row_error_with_suggestions(client, auth, organiser):
    before = counts()
    data = make_csv([person(1, organisation="New Bureau", city="Shijazhuang")])

    response = post_api(client, auth(organiser), data)

    assert response.status_code == 422
    errors = response.json["error"]["details"]["errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(2, "city", "Shijazhuang")]
    assert "石家庄市" in errors[0]["message"]
    assert counts() == before


def test_dry_run_warns_about_an_organisation_that_looks_like_an_existing_one(client, auth, organiser, bureau):
    data = make_csv([person(1, **TEMPLATE_ROW)])

    body = post_api(client, auth(organiser), data, dry_run=True).json

    assert body["similar_organisations"] == [{"row": 2, "organisation": "石家庄市商务局", "strong": True,
                                              "similar": [{"id": bureau.id, "name": BUREAU}], "choice": bureau.id}]
    assert [(w["row"], w["column"]) for w in body["warnings"]] == [(2, "organisation")]
    assert body["summary"]["similar_organisations"] == 1 and body["summary"]["new_organisations"] == 0


def test_api_refuses_a_strong_lookalike_without_a_mapping_and_writes_nothing(client, auth, organiser, bureau):
    before = counts()

    response = post_api(client, auth(organiser), make_csv([person(1, **TEMPLATE_ROW)]))

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "similar_organisations" and "map" in error["details"]["fields"]
    assert error["details"]["similar_organisations"][0]["similar"] == [{"id": bureau.id, "name": BUREAU}]
    assert counts() == before


def _post_with_map(client, headers, data, mapping):
    import json

    form = {"file": (io.BytesIO(data), "people.csv"), "map": json.dumps(mapping, ensure_ascii=False)}
    return client.post("/api/v1/users/import", headers=headers, data=form, content_type="multipart/form-data")


def test_api_mapping_files_people_under_the_existing_organisation_which_learns_the_name(client, auth, organiser,
                                                                                         bureau):
    data = make_csv([person(1, **TEMPLATE_ROW)])

    response = _post_with_map(client, auth(organiser), data, {"石家庄市商务局": bureau.id})

    assert response.status_code == 201, response.text
    user = db.session.scalar(select(User).where(User.email == "person1@example.org"))
    assert user.organisation_id == bureau.id
    db.session.refresh(bureau)
    assert bureau.aliases == ["石家庄市商务局"]
    assert count(Organisation) == 2  # the organiser's and the bureau: no duplicate
    # The next import of the same name finds the bureau directly, without a warning.
    again = post_api(client, auth(organiser), make_csv([person(2, **TEMPLATE_ROW)]), dry_run=True).json
    assert again["similar_organisations"] == [] and again["summary"]["new_organisations"] == 0


def test_api_mapping_new_creates_the_organisation(client, auth, organiser, bureau):
    response = _post_with_map(client, auth(organiser), make_csv([person(1, **TEMPLATE_ROW)]), {"石家庄市商务局": "new"})

    assert response.status_code == 201, response.text
    created = db.session.scalar(select(Organisation).where(Organisation.name == "石家庄市商务局"))
    assert (created.division_code, created.kind) == ("130100", "city_bureau")


@pytest.mark.parametrize("mapping", ["not json", '{"石家庄市商务局": 99999}', '{"Someone Else": "new"}',
                                     '{"石家庄市商务局": true}'])
def test_api_names_a_bad_mapping(client, auth, organiser, bureau, mapping):
    before = counts()
    form = {"file": (io.BytesIO(make_csv([person(1, **TEMPLATE_ROW)])), "people.csv"), "map": mapping}

    response = client.post("/api/v1/users/import", headers=auth(organiser), data=form,
                           content_type="multipart/form-data")

    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == ["map"]
    assert counts() == before


def test_a_lookalike_of_another_kind_or_city_is_a_weak_warning_and_is_created(client, auth, organiser, bureau):
    park = make_csv([person(1, name="P", organisation="石家庄市商务局", kind="park", city="石家庄")])
    elsewhere = make_csv([person(2, organisation="Tangshan Commerce Bureau 石家庄市商务局", city="Tangshan")])

    weak = post_api(client, auth(organiser), park, dry_run=True).json["similar_organisations"]
    other_city = post_api(client, auth(organiser), elsewhere, dry_run=True).json["similar_organisations"]
    applied = post_api(client, auth(organiser), park)

    assert [(s["strong"], s["choice"]) for s in weak] == [(False, "new")]
    assert other_city == []
    assert applied.status_code == 201
    assert count(Organisation) == 3


def test_page_preview_offers_the_existing_organisation_by_default_and_confirm_maps_it(client, login, organiser,
                                                                                      bureau):
    login(organiser)

    preview = upload_page(client, make_csv([person(1, **TEMPLATE_ROW)]))

    assert preview.status_code == 200
    assert "looks like an organisation that already exists" in preview.text
    assert f'name="map_choice_1" value="{bureau.id}" checked' in preview.text
    assert 'name="map_choice_1" value="new">' in preview.text
    action, form = confirm_form(preview.text)
    done = client.post(action, data={**form, "map_name_1": "石家庄市商务局", "map_choice_1": str(bureau.id)})

    assert done.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "person1@example.org"))
    assert user.organisation_id == bureau.id
    assert count(Organisation) == 2


def test_page_confirm_can_choose_a_new_organisation(client, login, organiser, bureau):
    login(organiser)
    preview = upload_page(client, make_csv([person(1, **TEMPLATE_ROW)]))
    action, form = confirm_form(preview.text)

    done = client.post(action, data={**form, "map_name_1": "石家庄市商务局", "map_choice_1": "new"})

    assert done.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "person1@example.org"))
    assert user.organisation.name == "石家庄市商务局" and user.organisation_id != bureau.id


def test_readme_template_row_maps_to_the_demo_bureau(app, client, auth):
    app.test_cli_runner().invoke(args=["demo", "seed"])
    organiser = db.session.scalar(select(User).where(User.email == "organiser@cloudfair.example"))
    template = client.get("/people/import/template.csv", headers=auth(organiser)).data

    body = post_api(client, auth(organiser), template, dry_run=True).json

    demo_bureau = db.session.scalar(select(Organisation).where(Organisation.name == BUREAU))
    assert [(s["organisation"], s["choice"]) for s in body["similar_organisations"]] == [
        ("石家庄市商务局", demo_bureau.id)]
