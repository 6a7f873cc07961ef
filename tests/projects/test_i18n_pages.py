"""Project, review and presenter pages for a Chinese-speaking person: the words, dates, amounts and
messages in Chinese; the data (titles, file names, codes) as entered."""

from __future__ import annotations

import io
import json
import re

import pytest
from flask_babel import force_locale, ngettext, pgettext
from sqlalchemy import select

from app.accounts.services import update_settings
from app.extensions import db
from app.notifications.models import Notification
from app.projects import services
from tests.conftest import csrf_from
from tests.factories import make_organiser, make_presenter, make_project
from tests.i18n import CJK, zh
from tests.projects import samples

def zh_plural(singular: str, plural: str, n: int, **values) -> str:
    with force_locale("zh"):
        text = ngettext(singular, plural, n, **values)
    assert CJK.search(text), f"no Chinese for {singular!r}"
    return text


def test_project_page_for_a_chinese_presenter(login):
    agent = make_presenter(locale="zh")
    project = make_project(agent, title="Mobile ice-rink blanket", investment_amount="12500000.50", currency="EUR")
    services.upload_material(agent, project.id, io.BytesIO(samples.pdf_bytes()), "deck.pdf")
    client = login(agent)

    html = client.get(f"/projects/{project.id}").text

    assert '<html lang="zh-CN">' in html
    assert "Mobile ice-rink blanket" in html and "deck.pdf" in html
    for msgid in ("Investment", "Presenter", "Edit project", "Pitched in", "Not on an agenda yet.", "Upload progress",
                  "Material is checked by an organiser before attendees see it."):
        assert zh(msgid) in html, msgid
    assert f'<th scope="col">{zh("Review")}</th>' in html
    size = client.application.config["MAX_UPLOAD_MB"]
    assert zh("PDF, PowerPoint (.pptx), Word (.docx), PNG, JPEG or MP4, up to %(size)s MB.", size=size) in html
    assert "<dd>EUR 12,500,000.50</dd>" in html  # the money filter
    with force_locale("zh"):
        pending = pgettext("material status", "pending")
    assert CJK.search(pending) and f'<span class="badge badge-material-pending">{pending}</span>' in html
    texts = json.loads(re.search(r'<script type="application/json" class="upload-i18n">(.*?)</script>', html, re.S)[1])
    assert texts["ready"] == zh("Ready to upload: %(name)s", name="{name}")
    assert texts["progress"] == zh("Uploading %(name)s: %(percent)s%%", name="{name}", percent="{percent}")
    assert all(CJK.search(value) for value in texts.values())


def test_amount_not_stated_and_form_labels_in_chinese(login):
    agent = make_presenter(locale="zh")
    project = make_project(agent, currency=None)
    client = login(agent)

    assert zh("not stated") in client.get(f"/projects/{project.id}").text
    form = client.get(f"/projects/{project.id}/edit").text
    for msgid in ("Origin country", "Investment amount", "Save project", "A decimal, e.g. 12500000.00", "Cancel"):
        assert zh(msgid) in form, msgid
    # An English-only title in a Chinese page is marked as English.
    assert zh("Edit “%(title)s”", title=f"{project.title} {zh('(in English)')}") in form


def test_field_errors_from_the_service_are_in_chinese(login):
    agent = make_presenter(locale="zh")
    client = login(agent)
    token = csrf_from(client.get("/projects/new").text)

    bad = client.post("/projects/new", data={"csrf_token": token, "title": "ECMO", "sector": "biomedicine_health",
                                             "country": "US", "investment_amount": "1.234", "currency": "USD"})

    assert bad.status_code == 422
    assert zh("The amount has at most two decimal places.") in bad.text
    assert zh("Please correct the marked fields.") in bad.text


def test_review_queue_for_a_chinese_organiser(login):
    organiser = make_organiser(locale="zh")
    agent = make_presenter(name="Jan de Vries")
    project = make_project(agent, title="Membrane")
    material = services.upload_material(agent, project.id, io.BytesIO(samples.pdf_bytes()), "deck.pdf")
    client = login(organiser)

    html = client.get("/review").text

    assert '<html lang="zh-CN">' in html
    for msgid in ("Material to review", "Download to check", "Approve", "Reject",
                  "Note to the presenter (required to reject)"):
        assert zh(msgid) in html, msgid
    assert zh("First page of %(name)s", name="deck.pdf") in html
    assert "Membrane" in html and "Jan de Vries" in html
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 周. \d\d:\d\d</time>", html)  # the moment filter, in Chinese
    assert f'datetime="{material.created_at.replace(microsecond=0).isoformat()}"' in html  # machine-readable stays ISO

    done = client.post(f"/materials/{material.id}/review", data={"csrf_token": csrf_from(html), "reject": "y", "note": ""})
    assert done.status_code == 302
    assert zh("Say why the material is rejected, so the presenter can fix it.") in client.get("/review").text
    client.post(f"/materials/{material.id}/review", data={"csrf_token": csrf_from(html), "approve": "y", "note": ""})
    assert zh("“%(name)s” is approved.", name="deck.pdf") in client.get("/review").text
    assert zh("Nothing waits for review.") in client.get("/review").text


def test_the_review_notification_is_in_the_presenters_language_not_the_reviewers(app):
    organiser = make_organiser(locale="en")
    chinese = make_presenter(locale="zh")
    english = make_presenter(locale="en")
    for owner in (chinese, english):
        project = make_project(owner)
        material = services.upload_material(owner, project.id, io.BytesIO(samples.pdf_bytes()), "deck.pdf")
        services.review_material(organiser, material.id, "approve", None)

    titles = {row.user_id: row.title for row in db.session.scalars(select(Notification))}

    assert titles == {
        chinese.id: zh("“%(name)s” (version %(version)s) was approved", name="deck.pdf", version=1),
        english.id: "“deck.pdf” (version 1) was approved",
    }


def test_an_upload_refused_by_its_content_says_why_in_chinese(client, auth):
    agent = make_presenter(locale="zh")
    project = make_project(agent)

    answer = client.post(f"/api/v1/projects/{project.id}/materials", headers=auth(agent),
                         data={"file": (io.BytesIO(samples.html_bytes()), "deck.pdf")},
                         content_type="multipart/form-data")

    assert answer.status_code == 415
    assert answer.json["error"]["code"] == "unsupported_media_type"  # codes are not translated
    this_file = zh("This file is %(what)s", what=zh("an HTML document"))
    assert answer.json["error"]["message"] == zh(
        "%(problem)s; accepted: %(kinds)s.", problem=this_file, kinds="PDF、PowerPoint (.pptx)、Word (.docx)、PNG、JPEG、MP4"
    )


def test_presenter_page_in_chinese_for_a_visitor_whose_browser_asks_for_it(client):
    agent = make_presenter(timezone_name="America/Toronto")
    update_settings(agent, {"languages": ["en", "fr"]}, agent)

    html = client.get(f"/presenters/{agent.id}", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text

    assert '<html lang="zh-CN">' in html
    assert zh("Local time zone: %(zone)s", zone="America/Toronto") in html
    assert zh("Speaks: %(languages)s", languages="英语、法语") in html
    assert zh("Upcoming sessions") in html and zh("No upcoming sessions.") in html
    assert zh("No projects on a published agenda yet.") in html


def test_a_small_file_size_is_counted_in_chinese(login):
    agent = make_presenter(locale="zh")
    project = make_project(agent)
    material = services.upload_material(agent, project.id, io.BytesIO(samples.png_bytes(2, 2)), "dot.png")
    client = login(agent)

    html = client.get(f"/projects/{project.id}").text

    assert material.size < 1024
    assert f"<td>{zh_plural('%(num)s byte', '%(num)s bytes', material.size)}</td>" in html
