"""A park's photos and MP4 tour: uploaded by the park's managers under the upload rules (sniffed by
content, size-limited, kept by hash), removed by them, shown on the public page, and the API."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.parks import media
from app.parks.models import ParkMedia
from tests.conftest import count, csrf_from
from tests.factories import make_organiser, make_presenter
from tests.page_validity import report, validate, vnu_missing
from tests.parks.helpers import make_city, make_park
from tests.projects import samples


def assert_valid_html(pages: dict[str, str]) -> None:
    """The W3C checker finds no error on these pages (checked where it can run)."""
    if vnu_missing() is None:
        errors = validate(pages)
        assert not errors, report(errors)


def _files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts]


def _page_upload(browser, park, what: str, content: bytes, name: str, caption: str = ""):
    token = csrf_from(browser.get(f"/parks/{park.id}/media/edit").text)
    data = {"csrf_token": token, "file": (io.BytesIO(content), name)}
    if what == "photos":
        data["caption"] = caption
    return browser.post(f"/parks/{park.id}/{what}", data=data, content_type="multipart/form-data")


def _api_upload(client, headers, park, what: str, content: bytes, name: str, **form):
    method = client.post if what == "photos" else client.put
    return method(f"/api/v1/parks/{park.id}/{what}", headers=headers,
                  data={"file": (io.BytesIO(content), name), **form}, content_type="multipart/form-data")


def test_a_city_adds_photos_and_a_tour_on_its_page_and_the_public_page_shows_them(app, login_as, client):
    city = make_city()
    park = make_park(city)
    browser = login_as(city)
    assert _page_upload(browser, park, "photos", samples.jpeg_bytes(), "gate.jpg", "The park's gate").status_code == 302
    assert _page_upload(browser, park, "photos", samples.png_bytes(), "site.png").status_code == 302
    assert _page_upload(browser, park, "tour", samples.mp4_bytes(), "tour.mp4").status_code == 302
    rows = db.session.scalars(select(ParkMedia).order_by(ParkMedia.id)).all()
    assert [(m.kind, m.mime, m.caption, m.original_name, m.uploaded_by_id) for m in rows] == [
        ("photo", "image/jpeg", "The park's gate", "gate.jpg", city.id),
        ("photo", "image/png", "", "site.png", city.id),
        ("tour", "video/mp4", "", "tour.mp4", city.id),
    ]

    page = client.get(f"/parks/{park.id}", headers={"Accept-Language": "en"})
    gate, site, tour = rows
    assert f'src="/parks/{park.id}/media/{gate.id}?v={gate.sha256[:12]}" alt="The park&#39;s gate"' in page.text
    assert 'alt="Photo 2 of Ice and Snow Equipment Park"' in page.text
    assert f'<video controls preload="metadata" class="park-tour" id="park-tour" src="/parks/{park.id}/media/{tour.id}' in page.text

    video = client.get(f"/parks/{park.id}/media/{tour.id}")
    assert (video.status_code, video.mimetype, video.data) == (200, "video/mp4", samples.mp4_bytes())
    assert video.headers["X-Content-Type-Options"] == "nosniff"
    assert video.headers["Content-Disposition"].startswith("inline")
    assert video.headers["ETag"].strip('"') == tour.sha256
    part = client.get(f"/parks/{park.id}/media/{tour.id}", headers={"Range": "bytes=0-7"})
    assert (part.status_code, part.data) == (206, samples.mp4_bytes()[:8])
    assert client.get(f"/parks/{park.id}/media/{gate.id}").data == samples.jpeg_bytes()

    # The management page lists them and removes one.
    manage = browser.get(f"/parks/{park.id}/media/edit")
    assert_valid_html({"public park page": page.text, "media page": manage.text})
    token = csrf_from(manage.text)
    assert browser.post(f"/parks/{park.id}/media/{gate.id}/remove", data={"csrf_token": token}).status_code == 302
    assert [m.id for m in db.session.scalars(select(ParkMedia).order_by(ParkMedia.id))] == [site.id, tour.id]
    assert client.get(f"/parks/{park.id}/media/{gate.id}").status_code == 404


def test_a_new_tour_replaces_the_old_one(app, auth):
    city = make_city()
    park = make_park(city)
    client = app.test_client()
    first = _api_upload(client, auth(city), park, "tour", samples.mp4_bytes(), "old.mp4")
    second = _api_upload(client, auth(city), park, "tour", samples.mp4_bytes(b"mp42", (b"mp42", b"isom")), "new.mp4")
    assert (first.status_code, second.status_code) == (200, 200)
    assert [(m.kind, m.original_name) for m in db.session.scalars(select(ParkMedia))] == [("tour", "new.mp4")]


def test_bad_uploads_are_refused_by_their_content_and_nothing_is_kept(app, auth, login_as):
    city = make_city()
    park = make_park(city)
    client = app.test_client()
    for what, content, name in (
        ("photos", samples.pdf_bytes(), "photo.jpg"),         # a PDF under an image's name
        ("photos", samples.html_bytes(), "photo.png"),
        ("photos", samples.svg_with_script_bytes(), "photo.png"),
        ("photos", samples.mp4_bytes(), "photo.jpg"),         # a video is no photo
        ("tour", samples.jpeg_bytes(), "tour.mp4"),           # a photo is no tour
        ("tour", samples.mp4_bytes(b"qt  ", (b"qt  ",)), "tour.mp4"),  # a QuickTime movie
        ("tour", samples.elf_bytes(), "tour.mp4"),
    ):
        answer = _api_upload(client, auth(city), park, what, content, name)
        assert answer.status_code == 415, (what, name, answer.json)
        assert answer.json["error"]["code"] == "unsupported_media_type"
    damaged = _api_upload(client, auth(city), park, "photos", samples.png_bytes()[:200], "cut.png")
    assert damaged.status_code == 415 and damaged.json["error"]["code"] == "damaged_file"
    empty = _api_upload(client, auth(city), park, "photos", b"", "empty.png")
    assert empty.status_code == 422
    no_file = client.post(f"/api/v1/parks/{park.id}/photos", headers=auth(city), data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.json["error"]["details"]["fields"]
    long_caption = _api_upload(client, auth(city), park, "photos", samples.png_bytes(), "a.png", caption="x" * 201)
    assert long_caption.status_code == 422 and "caption" in long_caption.json["error"]["details"]["fields"]
    # The page says why, and keeps nothing either.
    answer = _page_upload(login_as(city), park, "photos", samples.pdf_bytes(), "photo.jpg")
    assert answer.status_code == 415 and "This file is a PDF document; accepted: PNG, JPEG." in answer.text
    assert count(ParkMedia) == 0
    assert _files(app) == []


def test_an_upload_over_the_size_limit_is_413(app, auth):
    app.config["MAX_UPLOAD_MB"] = 1
    city = make_city()
    park = make_park(city)
    big = samples.mp4_bytes() + b"\0" * (2 * 1024 * 1024)
    answer = _api_upload(app.test_client(), auth(city), park, "tour", big, "tour.mp4")
    assert answer.status_code == 413
    assert count(ParkMedia) == 0 and _files(app) == []


def test_a_park_holds_at_most_max_photos(app, auth, monkeypatch):
    monkeypatch.setattr(media, "MAX_PHOTOS", 2)
    city = make_city()
    park = make_park(city)
    client = app.test_client()
    for _ in range(2):
        assert _api_upload(client, auth(city), park, "photos", samples.png_bytes(), "a.png").status_code == 201
    answer = _api_upload(client, auth(city), park, "photos", samples.jpeg_bytes(), "b.jpg")
    assert answer.status_code == 409 and answer.json["error"]["code"] == "too_many_photos"
    assert count(ParkMedia) == 2


def test_another_organisation_a_presenter_and_strangers_may_not_upload_or_remove(app, auth, login_as):
    city = make_city()
    park = make_park(city)
    client = app.test_client()
    photo = _api_upload(client, auth(city), park, "photos", samples.png_bytes(), "a.png").json
    other = make_city(organisation="Tangshan Commerce Bureau", email="tangshan@example.org")
    presenter = make_presenter()
    for person in (other, presenter):
        for what, content in (("photos", samples.png_bytes()), ("tour", samples.mp4_bytes())):
            assert _api_upload(client, auth(person), park, what, content, "x.bin").status_code == 403
        assert client.delete(f"/api/v1/parks/{park.id}/media/{photo['id']}", headers=auth(person)).status_code == 403
        assert client.patch(f"/api/v1/parks/{park.id}/media/{photo['id']}", headers=auth(person),
                            json={"caption": "Mine"}).status_code == 403
    assert _api_upload(client, {}, park, "photos", samples.png_bytes(), "x.png").status_code == 401
    # Pages: another city's person gets 403 on the management page and its posts.
    browser = login_as(other)
    assert browser.get(f"/parks/{park.id}/media/edit").status_code == 403
    own = make_park(other, name="Caofeidian", name_i18n=None, division="130200")
    token = csrf_from(browser.get(f"/parks/{own.id}/media/edit").text)
    answer = browser.post(f"/parks/{park.id}/photos", data={"csrf_token": token, "file": (io.BytesIO(samples.png_bytes()), "a.png")},
                          content_type="multipart/form-data")
    assert answer.status_code == 403
    assert browser.post(f"/parks/{park.id}/media/{photo['id']}/remove", data={"csrf_token": token}).status_code == 403
    assert [(m.id, m.caption) for m in db.session.scalars(select(ParkMedia))] == [(photo["id"], "")]
    assert len(_files(app)) == 1


def test_the_api_lists_captions_and_removes_media_and_organisers_manage_any_park(app, auth):
    city = make_city()
    park = make_park(city)
    organiser = make_organiser()
    client = app.test_client()
    photo = _api_upload(client, auth(organiser), park, "photos", samples.png_bytes(), "a.png", caption="Plant A").json
    assert (photo["kind"], photo["mime"], photo["caption"], photo["park_id"]) == ("photo", "image/png", "Plant A", park.id)
    tour = _api_upload(client, auth(city), park, "tour", samples.mp4_bytes(), "t.mp4").json
    listing = client.get(f"/api/v1/parks/{park.id}/media").json  # public
    assert [(m["id"], m["kind"]) for m in listing["items"]] == [(photo["id"], "photo"), (tour["id"], "tour")]
    assert client.get(listing["items"][0]["url"]).data == samples.png_bytes()
    changed = client.patch(f"/api/v1/parks/{park.id}/media/{photo['id']}", headers=auth(city), json={"caption": " Plant B "})
    assert (changed.status_code, changed.json["caption"]) == (200, "Plant B")
    assert client.delete(f"/api/v1/parks/{park.id}/media/{tour['id']}", headers=auth(city)).status_code == 204
    assert [m["id"] for m in client.get(f"/api/v1/parks/{park.id}/media").json["items"]] == [photo["id"]]
    # Another park's id in the path: 404.
    other = make_park(city, name="Other", name_i18n=None)
    assert client.delete(f"/api/v1/parks/{other.id}/media/{photo['id']}", headers=auth(city)).status_code == 404
    assert client.get(f"/parks/{other.id}/media/{photo['id']}").status_code == 404
