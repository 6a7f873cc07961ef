"""A park's master plan: the image is uploaded under the upload rules (sniffed by content), plots are
drawn on it as outlines in image pixels, and the public page shows it with plots coloured by status."""

from __future__ import annotations

import io
import json

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.parks.models import Park, Plot
from tests.conftest import csrf_from
from tests.parks.helpers import make_city, make_city_plot, make_park, make_plot


def _png(width=800, height=600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 240, 230)).save(buffer, "PNG")
    return buffer.getvalue()


def _upload(browser, park, content: bytes, name="plan.png"):
    token = csrf_from(browser.get(f"/parks/{park.id}/plan/edit").text)
    return browser.post(f"/parks/{park.id}/plan", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                        content_type="multipart/form-data")


def _outline(browser, park, plot, points):
    token = csrf_from(browser.get(f"/parks/{park.id}/plan/edit").text)
    return browser.post(f"/parks/{park.id}/outline", data={"csrf_token": token, "plot_id": str(plot.id),
                                                           "outline": json.dumps(points)})


def test_a_city_uploads_its_plan_draws_two_plots_and_the_public_page_colours_them(login_as, client):
    city = make_city()
    park = make_park(city)
    free = make_plot(city, park, name="A-1")
    reserved = make_plot(city, park, name="A-2", status="reserved")
    browser = login_as(city)
    assert _upload(browser, park, _png()).status_code == 302
    db.session.expire_all()
    stored = db.session.get(Park, park.id)
    assert (stored.plan_mime, stored.plan_width, stored.plan_height) == ("image/png", 800, 600)

    assert _outline(browser, park, free, [[10, 10], [200, 10], [200, 150], [10, 150]]).status_code == 302
    assert _outline(browser, park, reserved, [[300, 300], [500.25, 300], [400, 480]]).status_code == 302
    db.session.expire_all()
    assert db.session.get(Plot, reserved.id).outline == [[300.0, 300.0], [500.2, 300.0], [400.0, 480.0]]

    page = client.get(f"/parks/{park.id}", headers={"Accept-Language": "en"}).text
    assert 'id="plan-map"' in page and "vendor/leaflet/leaflet.js" in page and "//unpkg" not in page
    config = json.loads(page.split('id="plan-config">')[1].split("</script>")[0])
    assert (config["width"], config["height"]) == (800, 600)
    assert {p["id"]: p["status"] for p in config["plots"]} == {free.id: "available", reserved.id: "reserved"}
    assert config["plots"][1]["label"] == "A-2 · Reserved"
    image = client.get(config["image"])
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == _png()
    client.set_cookie("lang", "zh")
    page = client.get(f"/parks/{park.id}").text
    config = json.loads(page.split('id="plan-config">')[1].split("</script>")[0])
    assert config["plots"][1]["label"].startswith("A-2 · ") and config["plots"][1]["label"] != "A-2 · Reserved"
    assert config["alt"].startswith("总体规划") or "总体规划" in config["alt"] or config["alt"] != "Master plan of Ice and Snow Equipment Park"

    # Saving with no corners removes the outline.
    assert _outline(browser, park, free, []).status_code == 302
    db.session.expire_all()
    assert db.session.get(Plot, free.id).outline is None


def test_bad_files_and_outlines_are_refused_and_nothing_is_written(login_as):
    city, park, plot = make_city_plot()
    browser = login_as(city)
    # No plan yet: no outline.
    answer = _outline(browser, park, plot, [[1, 1], [2, 1], [2, 2]])
    assert answer.status_code == 422 and "master plan before drawing plots on it." in answer.text
    # A PDF named .png is refused by its content.
    answer = _upload(browser, park, b"%PDF-1.4\n%%EOF\n", name="plan.png")
    assert answer.status_code == 415
    db.session.expire_all()
    assert db.session.get(Park, park.id).plan_sha256 is None
    assert _upload(browser, park, _png(100, 50)).status_code == 302
    for points, message in (([[1, 1], [2, 2]], "Give an outline of 3 to 200 corners"),
                            ([[1, 1], [2, 1], [500, 2]], "Every corner must lie on the plan (x 0 to 100, y 0 to 50)."),
                            ([[1, 1], [2, "x"], [2, 2]], "Give an outline of 3 to 200 corners")):
        answer = _outline(browser, park, plot, points)
        assert answer.status_code == 422 and message in answer.text
    token = csrf_from(browser.get(f"/parks/{park.id}/plan/edit").text)
    answer = browser.post(f"/parks/{park.id}/outline", data={"csrf_token": token, "plot_id": str(plot.id), "outline": "{nope"})
    assert answer.status_code == 422
    db.session.expire_all()
    assert db.session.get(Plot, plot.id).outline is None


def test_another_organisation_cannot_upload_or_draw(login_as, client):
    city, park, plot = make_city_plot()
    own = login_as(city)
    assert _upload(own, park, _png()).status_code == 302
    other = login_as(make_city(organisation="Tangshan Commerce Bureau"))
    assert other.get(f"/parks/{park.id}/plan/edit").status_code == 403
    token = csrf_from(other.get("/parks/manage").text)
    answer = other.post(f"/parks/{park.id}/plan", data={"csrf_token": token, "file": (io.BytesIO(_png(10, 10)), "p.png")},
                        content_type="multipart/form-data")
    assert answer.status_code == 403
    answer = other.post(f"/parks/{park.id}/outline", data={"csrf_token": token, "plot_id": str(plot.id),
                                                           "outline": "[[1,1],[5,1],[5,5]]"})
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(Park, park.id).plan_width == 800 and db.session.get(Plot, plot.id).outline is None
    # A park without a plan has no image.
    bare = make_park(city)
    assert client.get(f"/parks/{bare.id}/plan").status_code == 404
