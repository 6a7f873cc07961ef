"""The master plan and plots' outlines over the API: the same service (and so the same checks and
words) as the plan editor's page."""

from __future__ import annotations

import io

from app.extensions import db
from app.parks.models import Park, Plot
from tests.factories import make_organiser, make_presenter
from tests.parks.helpers import make_city, make_city_plot, make_park, make_plot
from tests.parks.test_plan import _outline, _png
from tests.projects import samples


def _put_plan(client, headers, park, content: bytes, name="plan.png"):
    return client.put(f"/api/v1/parks/{park.id}/plan", headers=headers, data={"file": (io.BytesIO(content), name)},
                      content_type="multipart/form-data")


def test_a_city_uploads_its_plan_draws_plots_and_anyone_reads_the_outlines(app, auth):
    city = make_city()
    park = make_park(city)
    free = make_plot(city, park, name="A-1")
    taken = make_plot(city, park, name="A-2", status="taken")
    client = app.test_client()
    empty = client.get(f"/api/v1/parks/{park.id}/plan").json
    assert (empty["image"], empty["width"], empty["plots"][0]["outline"]) == (None, None, None)

    plan = _put_plan(client, auth(city), park, _png(800, 600))
    assert plan.status_code == 200 and (plan.json["width"], plan.json["height"], plan.json["mime"]) == (800, 600, "image/png")
    drawn = client.put(f"/api/v1/plots/{free.id}/outline", headers=auth(city),
                       json={"outline": [[10, 10], [200, 10.04], [200, 150]]})
    assert drawn.status_code == 200 and drawn.json == {"id": free.id, "name": "A-1", "status": "available",
                                                      "outline": [[10.0, 10.0], [200.0, 10.0], [200.0, 150.0]]}
    assert client.put(f"/api/v1/plots/{taken.id}/outline", headers=auth(city),
                      json={"outline": [[300, 300], [500, 300], [400, 480], [300, 480]]}).status_code == 200

    read = client.get(f"/api/v1/parks/{park.id}/plan").json  # public
    assert read["park_id"] == park.id and read["image"].startswith(f"/parks/{park.id}/plan?v=")
    assert [(p["id"], p["status"], len(p["outline"])) for p in read["plots"]] == [(free.id, "available", 3), (taken.id, "taken", 4)]
    assert client.get(read["image"]).data == _png(800, 600)
    # null (or []) removes it.
    assert client.put(f"/api/v1/plots/{free.id}/outline", headers=auth(city), json={"outline": None}).json["outline"] is None
    assert client.put(f"/api/v1/plots/{taken.id}/outline", headers=auth(city), json={"outline": []}).json["outline"] is None


def test_the_api_refuses_what_the_page_refuses_with_the_same_words(app, auth, login_as):
    city, park, plot = make_city_plot()
    client = app.test_client()
    early = client.put(f"/api/v1/plots/{plot.id}/outline", headers=auth(city), json={"outline": [[1, 1], [2, 1], [2, 2]]})
    assert early.status_code == 422
    assert early.json["error"]["details"]["fields"]["outline"] == ["Upload the park's master plan before drawing plots on it."]
    not_image = _put_plan(client, auth(city), park, samples.pdf_bytes(), "plan.png")
    assert not_image.status_code == 415
    db.session.expire_all()
    assert db.session.get(Park, park.id).plan_sha256 is None
    assert _put_plan(client, auth(city), park, _png(100, 50)).status_code == 200

    browser = login_as(city)
    for points in ([[1, 1], [2, 2]], [[1, 1], [2, 1], [500, 2]], [[1, 1], [2, "x"], [2, 2]], [[1, 1]] * 201,
                   [[1, 1, 1], [2, 1], [2, 2]], "[[1, 1], [2, 1], [2, 2]]", [[True, 1], [2, 1], [2, 2]]):
        answer = client.put(f"/api/v1/plots/{plot.id}/outline", headers=auth(city), json={"outline": points})
        assert answer.status_code == 422, points
        [message] = answer.json["error"]["details"]["fields"]["outline"]
        if isinstance(points, list):
            assert message in _outline(browser, park, plot, points).text  # the page says the same
    assert client.put(f"/api/v1/plots/{plot.id}/outline", headers=auth(city), json={}).status_code == 422
    db.session.expire_all()
    assert db.session.get(Plot, plot.id).outline is None


def test_only_the_parks_managers_draw_or_upload_and_nothing_is_written_otherwise(app, auth):
    city, park, plot = make_city_plot()
    client = app.test_client()
    assert _put_plan(client, auth(city), park, _png(100, 100)).status_code == 200
    other = make_city(organisation="Tangshan Commerce Bureau", email="tangshan@example.org")
    for person in (other, make_presenter()):
        assert client.put(f"/api/v1/plots/{plot.id}/outline", headers=auth(person),
                          json={"outline": [[1, 1], [9, 1], [9, 9]]}).status_code == 403
        assert _put_plan(client, auth(person), park, _png(50, 50)).status_code == 403
    assert client.put(f"/api/v1/plots/{plot.id}/outline", json={"outline": None}).status_code == 401
    db.session.expire_all()
    stored = db.session.get(Park, park.id)
    assert (stored.plan_width, db.session.get(Plot, plot.id).outline) == (100, None)
    # Organisers draw on any park.
    drawn = client.put(f"/api/v1/plots/{plot.id}/outline", headers=auth(make_organiser()),
                       json={"outline": [[1, 1], [9, 1], [9, 9]]})
    assert drawn.status_code == 200
    assert client.put(f"/api/v1/plots/999999/outline", headers=auth(city), json={"outline": None}).status_code == 404
