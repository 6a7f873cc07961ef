"""Projects and pitch material over the API: upload, refusal of bad files, versions,
review, download rights, and nothing left on disk or in the database after an error."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Notification
from app.projects import services
from app.projects.models import Material, Project
from tests.conftest import csrf_from
from tests.factories import at, make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.projects import samples


def _files_on_disk(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _materials() -> int:
    return db.session.scalar(select(func.count(Material.id)))


def _upload(client, headers, project_id, content: bytes, name: str, **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post(f"/api/v1/projects/{project_id}/materials", data=data, headers=headers,
                       content_type="multipart/form-data")


@pytest.fixture
def world():
    organiser = make_organiser()
    agent = make_presenter(name="Anke Peeters", timezone_name="Europe/Brussels", country="BE")
    other_agent = make_presenter(name="Petr Novak", timezone_name="Europe/Prague", country="CZ")
    project = make_project(agent, title="Membrane water treatment")
    fair = make_fair(organiser)
    make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    attendee = make_user("attendee", organisation="Shijiazhuang Commerce Bureau")
    return {"organiser": organiser, "agent": agent, "other": other_agent, "project": project,
            "fair": fair, "attendee": attendee}


# ---------------------------------------------------------------- projects


def test_presenter_creates_and_edits_a_project_with_a_decimal_amount(client, auth):
    agent = make_presenter()
    headers = auth(agent)
    created = client.post("/api/v1/projects", json={
        "title": "Ice-rink blanket", "summary": "Keeps rinks cold for less", "sector": "ice_snow",
        "country": "CZ", "investment_amount": "12500000.50", "currency": "eur",
    }, headers=headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["investment_amount"] == "12500000.50" and body["currency"] == "EUR" and body["owner_id"] == agent.id

    patched = client.patch(f"/api/v1/projects/{body['id']}", json={"investment_amount": "13000000"}, headers=headers)
    assert patched.status_code == 200 and patched.json["investment_amount"] == "13000000.00"


@pytest.mark.parametrize("change, field", [
    ({"sector": "tourism_unknown"}, "sector"),
    ({"country": "XX"}, "country"),
    ({"currency": "EURO"}, "currency"),
    ({"investment_amount": "12,5 million"}, "investment_amount"),
    ({"investment_amount": "-5"}, "investment_amount"),
    ({"investment_amount": "1.005"}, "investment_amount"),
    ({"title": ""}, "title"),
    ({"currency": None}, "currency"),
])
def test_bad_project_fields_are_named_and_nothing_is_written(client, auth, change, field):
    agent = make_presenter()
    body = {"title": "Portable ECMO", "sector": "biomedicine_health", "country": "US",
            "investment_amount": "5000000", "currency": "USD", **change}
    response = client.post("/api/v1/projects", json=body, headers=auth(agent))
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]
    assert db.session.scalar(select(func.count(Project.id))) == 0


def test_presenter_cannot_change_another_presenters_project(client, auth, world):
    response = client.patch(f"/api/v1/projects/{world['project'].id}", json={"title": "Mine now"},
                            headers=auth(world["other"]))
    assert response.status_code in (403, 404)
    db.session.refresh(world["project"])
    assert world["project"].title == "Membrane water treatment"


def test_attendees_cannot_create_projects(client, auth):
    response = client.post("/api/v1/projects", json={"title": "x", "sector": "ice_snow", "country": "CZ"},
                           headers=auth(make_user("attendee")))
    assert response.status_code == 403


def test_a_project_is_public_only_once_on_a_published_agenda(client):
    agent = make_presenter()
    hidden = make_project(agent, title="Not pitched yet")
    organiser = make_organiser()
    draft = make_fair(organiser, publish=False)
    make_session(draft, organiser, presenter_ids=[agent.id], project_ids=[hidden.id])
    assert client.get(f"/api/v1/projects/{hidden.id}").status_code == 404
    assert client.get(f"/projects/{hidden.id}").status_code == 404
    shown = make_project(agent, title="On the agenda")
    later = make_fair(organiser, starts_at=at("2026-12-17T07:00+00:00"), ends_at=at("2026-12-17T13:00+00:00"))
    make_session(later, organiser, presenter_ids=[agent.id], project_ids=[shown.id],
                 starts_at=later.starts_at, ends_at=later.starts_at + timedelta(minutes=30))
    assert client.get(f"/api/v1/projects/{shown.id}").status_code == 200
    page = client.get(f"/projects/{shown.id}")
    assert page.status_code == 200 and "On the agenda" in page.text


# ---------------------------------------------------------------- upload


@pytest.mark.parametrize("maker, name, kind", [
    (samples.pdf_bytes, "项目介绍 2026.pdf", "pdf"),
    (samples.pptx_bytes, "pitch.pptx", "pptx"),
    (samples.docx_bytes, "brief.docx", "docx"),
    (samples.png_bytes, "plant.png", "png"),
    (samples.jpeg_bytes, "site.jpg", "jpeg"),
    (samples.mp4_bytes, "demo.mp4", "mp4"),
    (samples.pdf_bytes, "named-wrong.docx", "pdf"),
])
def test_upload_decides_the_type_from_the_content(app, client, auth, world, maker, name, kind):
    content = maker()
    response = _upload(client, auth(world["agent"]), world["project"].id, content, name)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == kind and body["status"] == "pending" and body["version"] == 1
    assert body["original_name"] == name and body["size"] == len(content)
    stored = _files_on_disk(app)
    assert [p.name for p in stored] == [body["sha256"]]
    assert name not in str(stored[0]) and "static" not in str(stored[0])


@pytest.mark.parametrize("maker, name, status, code", [
    (samples.elf_bytes, "brochure.pdf", 415, None),
    (samples.pe_bytes, "setup.pdf", 415, None),
    (samples.html_bytes, "page.pdf", 415, None),
    (samples.svg_with_script_bytes, "logo.png", 415, None),
    (samples.pdf_html_polyglot_bytes, "polyglot.pdf", 415, None),
    (samples.zip_bomb_pptx_bytes, "huge.pptx", 415, "archive_too_large"),
    (samples.pptm_bytes, "macro.pptx", 415, "macro_enabled"),
    (samples.xlsx_bytes, "sheet.docx", 415, None),
    (samples.zip_bytes, "files.pptx", 415, None),
    (lambda: b"", "empty.pdf", 422, None),
    (samples.pdf_bytes, "../../etc/passwd.pdf", 422, None),
    (samples.pdf_bytes, "/etc/cron.d/evil.pdf", 422, None),
    (samples.pdf_bytes, "C:\\Windows\\evil.pdf", 422, None),
    (samples.pdf_bytes, "x" * 296 + ".pdf", 422, None),
    (samples.pdf_bytes, "CON.pdf", 422, None),
])
def test_bad_uploads_are_refused_and_leave_nothing(app, client, auth, world, maker, name, status, code):
    response = _upload(client, auth(world["agent"]), world["project"].id, maker(), name)
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    if status == 422:
        assert "file" in error["details"]["fields"]
    assert _materials() == 0
    assert _files_on_disk(app) == []


def test_oversize_upload_is_413_before_the_body_is_read(app, client, auth, world):
    app.config["MAX_UPLOAD_MB"] = 1
    big = samples.pdf_bytes() + b"\0" * (2 * 1024 * 1024)
    consumed = {"bytes": 0}

    class Watching(io.BytesIO):
        def read(self, n=-1):
            chunk = super().read(n)
            consumed["bytes"] += len(chunk)
            return chunk

    response = client.post(
        f"/api/v1/projects/{world['project'].id}/materials",
        input_stream=Watching(b"x" * len(big)),
        headers={**auth(world["agent"]), "Content-Type": "multipart/form-data; boundary=zzz",
                 "Content-Length": str(len(big))},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert consumed["bytes"] < 1024 * 1024  # refused from the Content-Length
    assert _materials() == 0 and _files_on_disk(app) == []


def test_a_file_over_the_limit_is_413_even_when_the_body_size_is_not_announced(app, world):
    app.config["MAX_UPLOAD_MB"] = 1
    stream = io.BytesIO(b"%PDF-" + b"\0" * (2 * 1024 * 1024))
    from app.errors import TooLarge

    with pytest.raises(TooLarge):
        services.upload_material(world["agent"], world["project"].id, stream, "big.pdf")
    assert _materials() == 0 and _files_on_disk(app) == []


def test_the_presenters_quota_is_enforced(app, client, auth, world):
    app.config["UPLOAD_QUOTA_MB"] = 0
    response = _upload(client, auth(world["agent"]), world["project"].id, samples.pdf_bytes(), "a.pdf")
    assert response.status_code == 413 and response.json["error"]["code"] == "quota_exceeded"
    assert _materials() == 0 and _files_on_disk(app) == []


def test_upload_needs_login_and_ones_own_project(app, client, auth, world):
    anonymous = _upload(client, {}, world["project"].id, samples.pdf_bytes(), "a.pdf")
    assert anonymous.status_code == 401
    stranger = _upload(client, auth(world["other"]), world["project"].id, samples.pdf_bytes(), "a.pdf")
    assert stranger.status_code in (403, 404)
    attendee = _upload(client, auth(world["attendee"]), world["project"].id, samples.pdf_bytes(), "a.pdf")
    assert attendee.status_code == 403
    assert _materials() == 0 and _files_on_disk(app) == []


def test_a_new_version_keeps_the_earlier_one_for_organisers(client, auth, world):
    headers = auth(world["agent"])
    first = _upload(client, headers, world["project"].id, samples.pdf_bytes("v1"), "deck.pdf").json
    second = _upload(client, headers, world["project"].id, samples.pdf_bytes("v2"), "deck.pdf",
                     replaces=str(first["id"])).json
    assert second["version"] == 2 and second["document_id"] == first["id"]
    versions = client.get(f"/api/v1/materials/{second['id']}/versions", headers=auth(world["organiser"])).json
    assert [v["version"] for v in versions["items"]] == [2, 1]
    old = client.get(f"/api/v1/materials/{first['id']}/download", headers=auth(world["organiser"]))
    assert old.status_code == 200 and old.data == samples.pdf_bytes("v1")


# ---------------------------------------------------------------- review and download


def test_review_approves_and_notifies_the_presenter(client, auth, world):
    material = _upload(client, auth(world["agent"]), world["project"].id, samples.pdf_bytes(), "deck.pdf").json
    queue = client.get("/api/v1/materials/review-queue", headers=auth(world["organiser"])).json
    assert [m["id"] for m in queue["items"]] == [material["id"]]

    response = client.post(f"/api/v1/materials/{material['id']}/review", json={"decision": "approve", "note": "Clear."},
                           headers=auth(world["organiser"]))
    assert response.status_code == 200 and response.json["status"] == "approved"
    note = db.session.scalars(select(Notification).where(Notification.user_id == world["agent"].id)).one()
    assert note.kind == "material_approved" and "deck.pdf" in note.title
    listed = client.get("/api/v1/notifications", headers=auth(world["agent"])).json
    assert listed["total"] == 1 and listed["items"][0]["read_at"] is None


def test_a_superseded_version_leaves_the_review_queue(client, auth, world, login):
    headers = auth(world["agent"])
    first = _upload(client, headers, world["project"].id, samples.pdf_bytes("v1"), "deck.pdf").json
    other = _upload(client, headers, world["project"].id, samples.pdf_bytes("other"), "costs.pdf").json
    second = _upload(client, headers, world["project"].id, samples.pdf_bytes("v2"), "deck-v2.pdf",
                     replaces=str(first["id"])).json
    assert second["version"] == 2
    queue = client.get("/api/v1/materials/review-queue", headers=auth(world["organiser"])).json
    assert [m["id"] for m in queue["items"]] == [other["id"], second["id"]]  # version 1 waits no more
    assert queue["total"] == 2
    assert db.session.get(Material, first["id"]).status == "pending"  # kept as it was, only not queued

    third = _upload(client, headers, world["project"].id, samples.pdf_bytes("v3"), "deck-v3.pdf",
                    replaces=str(second["id"])).json
    page = login(world["organiser"]).get("/review").text
    assert "deck-v3.pdf" in page and "costs.pdf" in page
    assert "deck-v2.pdf" not in page and "deck.pdf" not in page.replace("deck-v3.pdf", "")
    assert third["version"] == 3

    # The project page lists every version for its presenter; the replaced ones are not "pending".
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    rows = re.findall(r"<tr>\s*<td><a [^>]*>([^<]+)</a></td>(.*?)</tr>",
                      login(world["agent"]).get(f"/projects/{world['project'].id}").text, re.S)
    statuses = {name: re.search(r"badge-material-(\w+)", row).group(1) for name, row in rows}
    assert len(rows) == 4
    assert statuses == {"deck-v3.pdf": "pending", "deck-v2.pdf": "replaced", "deck.pdf": "replaced",
                        "costs.pdf": "pending"}


def test_rejecting_needs_a_note_and_bad_decisions_are_422(client, auth, world):
    material = _upload(client, auth(world["agent"]), world["project"].id, samples.pdf_bytes(), "deck.pdf").json
    headers = auth(world["organiser"])
    no_note = client.post(f"/api/v1/materials/{material['id']}/review", json={"decision": "reject"}, headers=headers)
    assert no_note.status_code == 422 and "note" in no_note.json["error"]["details"]["fields"]
    bad = client.post(f"/api/v1/materials/{material['id']}/review", json={"decision": "maybe"}, headers=headers)
    assert bad.status_code == 422 and "decision" in bad.json["error"]["details"]["fields"]
    assert db.session.get(Material, material["id"]).status == "pending"


@pytest.mark.parametrize("who", ["agent", "other", "attendee"])
def test_only_organisers_review(client, auth, world, who):
    material = _upload(client, auth(world["agent"]), world["project"].id, samples.pdf_bytes(), "deck.pdf").json
    response = client.post(f"/api/v1/materials/{material['id']}/review", json={"decision": "approve"},
                           headers=auth(world[who]))
    assert response.status_code == 403
    assert db.session.get(Material, material["id"]).status == "pending"


def test_download_rights_follow_review_and_publication(client, auth, world):
    material = _upload(client, auth(world["agent"]), world["project"].id, samples.pdf_bytes(), "项目介绍.pdf").json
    url = f"/api/v1/materials/{material['id']}/download"
    assert client.get(url, headers=auth(world["attendee"])).status_code == 404  # pending
    assert client.get(url, headers=auth(world["other"])).status_code == 404
    assert client.get(url, headers=auth(world["agent"])).status_code == 200
    assert client.get(url).status_code == 401

    services.review_material(world["organiser"], material["id"], "approve", None)
    response = client.get(url, headers=auth(world["attendee"]))
    assert response.status_code == 200
    assert response.data == samples.pdf_bytes()
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('项目介绍.pdf')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["ETag"] == f'"{material["sha256"]}"'
    again = client.get(url, headers={**auth(world["attendee"]), "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_attendees_see_only_the_current_approved_version_of_projects_in_published_fairs(client, auth, world):
    headers = auth(world["agent"])
    v1 = _upload(client, headers, world["project"].id, samples.pdf_bytes("v1"), "deck.pdf").json
    services.review_material(world["organiser"], v1["id"], "approve", None)
    v2 = _upload(client, headers, world["project"].id, samples.pdf_bytes("v2"), "deck.pdf", replaces=str(v1["id"])).json
    seen = client.get(f"/api/v1/projects/{world['project'].id}/materials", headers=auth(world["attendee"])).json
    assert [m["id"] for m in seen["items"]] == [v1["id"]]  # v2 still pending
    services.review_material(world["organiser"], v2["id"], "approve", None)
    seen = client.get(f"/api/v1/projects/{world['project'].id}/materials", headers=auth(world["attendee"])).json
    assert [m["id"] for m in seen["items"]] == [v2["id"]]
    assert client.get(f"/api/v1/materials/{v1['id']}/download", headers=auth(world["attendee"])).status_code == 404
    assert client.get(f"/api/v1/materials/{v1['id']}/versions", headers=auth(world["attendee"])).status_code == 404

    unpublished = make_project(world["agent"], title="Not on an agenda")
    m = _upload(client, headers, unpublished.id, samples.pdf_bytes(), "x.pdf").json
    services.review_material(world["organiser"], m["id"], "approve", None)
    assert client.get(f"/api/v1/materials/{m['id']}/download", headers=auth(world["attendee"])).status_code == 404


def test_the_same_content_twice_is_stored_once(app, client, auth, world):
    headers = auth(world["agent"])
    a = _upload(client, headers, world["project"].id, samples.pdf_bytes(), "a.pdf").json
    b = _upload(client, headers, world["project"].id, samples.pdf_bytes(), "b.pdf").json
    assert a["sha256"] == b["sha256"] and a["id"] != b["id"]
    assert len(_files_on_disk(app)) == 1


# ---------------------------------------------------------------- profile and photo


def test_profile_and_photo(client, auth):
    agent = make_presenter(name="Klaus Weber")
    headers = auth(agent)
    patched = client.patch("/api/v1/me", json={"bio": "Invest in Bavaria", "languages": ["en", "de", "zh"]},
                           headers=headers)
    assert patched.status_code == 200
    assert agent.languages == ["en", "de", "zh"] and agent.bio == "Invest in Bavaria"
    bad = client.patch("/api/v1/me", json={"languages": ["klingon!"], "timezone": "Mars/Base"}, headers=headers)
    assert bad.status_code == 422 and set(bad.json["error"]["details"]["fields"]) == {"languages", "timezone"}

    refused = client.put("/api/v1/me/photo", data={"file": (io.BytesIO(samples.pdf_bytes()), "me.png")},
                         headers=headers, content_type="multipart/form-data")
    assert refused.status_code == 415
    photo = client.put("/api/v1/me/photo", data={"file": (io.BytesIO(samples.png_bytes()), "me.png")},
                       headers=headers, content_type="multipart/form-data")
    assert photo.status_code == 200
    served = client.get(f"/presenters/{agent.id}/photo")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    assert served.data == samples.png_bytes()
