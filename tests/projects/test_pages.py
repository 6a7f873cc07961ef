"""Project, review, presenter and profile pages through the test client (forms with CSRF)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from app.accounts.services import update_settings
from app.extensions import db
from app.projects import services
from app.projects.models import Material, Project
from tests.conftest import csrf_from
from tests.factories import at, make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.projects import samples


def test_presenter_creates_a_project_on_the_page_and_sees_field_errors(login):
    agent = make_presenter()
    client = login(agent)
    page = client.get("/projects/new")
    assert page.status_code == 200
    token = csrf_from(page.text)
    bad = client.post("/projects/new", data={"csrf_token": token, "title": "ECMO", "sector": "biomedicine_health",
                                             "country": "US", "investment_amount": "lots", "currency": "USD"})
    assert bad.status_code == 422 and "is not a decimal number" in bad.text
    assert db.session.scalar(select(Project)) is None
    good = client.post("/projects/new", data={"csrf_token": token, "title": "Portable ECMO", "sector": "biomedicine_health",
                                              "country": "US", "investment_amount": "5,000,000", "currency": "usd"})
    assert good.status_code == 302
    project = db.session.scalars(select(Project)).one()
    assert project.owner_id == agent.id and str(project.investment_amount) == "5000000.00" and project.currency == "USD"
    shown = client.get(good.headers["Location"])
    assert "Portable ECMO" in shown.text and "<dd>USD 5,000,000</dd>" in shown.text and 'data-upload-url' in shown.text


def test_upload_form_fallback_and_review_page(login, app):
    organiser = make_organiser()
    agent = make_presenter()
    project = make_project(agent, title="Membrane")
    client = login(agent)
    page = client.get(f"/projects/{project.id}")
    token = csrf_from(page.text)
    response = client.post(f"/projects/{project.id}/materials", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(samples.pdf_bytes()), "deck.pdf"), "replaces": ""})
    assert response.status_code == 302
    assert "waits for review" in client.get(f"/projects/{project.id}").text
    refused = client.post(f"/projects/{project.id}/materials", content_type="multipart/form-data",
                          data={"csrf_token": token, "file": (io.BytesIO(samples.html_bytes()), "deck.pdf")})
    assert refused.status_code == 302
    assert "HTML" in client.get(f"/projects/{project.id}").text
    assert len(list(db.session.scalars(select(Material)))) == 1

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    client = login(organiser)
    queue = client.get("/review")
    assert "deck.pdf" in queue.text and "Membrane" in queue.text
    material = db.session.scalars(select(Material)).one()
    preview = client.get(f"/materials/{material.id}/preview.png")
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")
    done = client.post(f"/materials/{material.id}/review", data={"csrf_token": csrf_from(queue.text), "approve": "y", "note": ""})
    assert done.status_code == 302
    db.session.refresh(material)
    assert material.status == "approved"
    assert "Nothing waits for review" in client.get("/review").text


def test_review_page_and_preview_are_for_organisers(login):
    agent = make_presenter()
    project = make_project(agent)

    material = services.upload_material(agent, project.id, io.BytesIO(samples.pdf_bytes()), "deck.pdf")
    client = login(make_user("attendee"))
    assert client.get("/review").status_code == 403
    assert client.get(f"/materials/{material.id}/preview.png").status_code == 404


def test_presenter_page_is_public_with_projects_and_upcoming_sessions_in_the_viewers_zone(client):
    organiser = make_organiser()
    agent = make_presenter(name="Scott Tremblay", timezone_name="America/Toronto", country="CA")
    update_settings(agent, {"bio": "Ontario <b>clean-tech</b> agent", "languages": ["en", "fr"]}, agent)
    project = make_project(agent, title="Hydrogen buses", sector="energy_saving_environment", country="CA")
    hidden = make_project(agent, title="Secret project")
    fair = make_fair(organiser, starts_at=at("2027-03-11T00:00+00:00"), ends_at=at("2027-03-11T06:00+00:00"))
    make_session(fair, organiser, title="Hydrogen pitch", presenter_ids=[agent.id], project_ids=[project.id],
                 starts_at=fair.starts_at + timedelta(hours=1), ends_at=fair.starts_at + timedelta(hours=2))
    client.set_cookie("tz", "Asia/Shanghai")
    page = client.get(f"/presenters/{agent.id}")
    assert page.status_code == 200
    assert "Hydrogen buses" in page.text and "Secret project" not in page.text
    assert "Thu 11 Mar 2027, 09:00" in page.text  # 01:00 UTC in Beijing
    assert "20:00 in America/Toronto" in page.text  # the evening before, Toronto time
    assert "&lt;b&gt;clean-tech&lt;/b&gt;" in page.text
    assert client.get(f"/presenters/{organiser.id}").status_code == 404


def test_profile_page_saves_and_names_bad_fields(login):
    user = make_presenter()
    client = login(user)
    page = client.get("/me/profile")
    token = csrf_from(page.text)
    bad = client.post("/me/profile", data={"csrf_token": token, "name": "K", "timezone": "Europe/Nowhere",
                                           "locale": "en", "languages": "en"})
    assert bad.status_code == 422 and "is not a known time zone. Pick one from the list" in bad.text
    good = client.post("/me/profile", data={"csrf_token": token, "name": "Klaus Weber", "timezone": "Europe/Berlin",
                                            "locale": "zh", "languages": "de, en", "bio": "Bavaria"})
    assert good.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.timezone, user.locale, user.languages) == ("Klaus Weber", "Europe/Berlin", "zh", ["de", "en"])
