"""Parks in the browser: a city bureau's person adds and edits a park (refused saves say why beside the
field and write nothing), adds plots, uploads a master plan, draws two plots on it with the mouse
(Leaflet, vendored), and the public park page colours them by availability.

Each journey makes its own park under a unique name, so the tests pass in any order on the shared
demo server."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CITY = "zjk-park@cloudfair.example"  # manages the Zhangjiakou ice and snow equipment park


def _png(width: int = 800, height: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (235, 240, 230)).save(buffer, "PNG")
    return buffer.getvalue()


def _add_park(page, name: str) -> int:
    page.goto("/parks/new")
    page.locator("#name_en").fill(name)
    page.locator("#division").fill("130700")
    page.locator("#kind").select_option("high_tech_zone")
    page.locator("#park-form [type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("The park was added.")
    return int(re.search(r"/parks/(\d+)/edit", page.url).group(1))


def _add_plot(page, park_id: int, name: str, status: str) -> None:
    page.goto(f"/parks/{park_id}/plots/new")
    page.locator("#name").fill(name)
    page.locator("#area_mu").fill("120")
    page.locator("#land_use").select_option("industrial")
    page.locator("#status").select_option(status)
    page.locator("#power_kva").fill("1000")
    page.locator("#plot-form [type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("The plot was added.")


def test_a_city_adds_and_edits_a_park_and_a_refused_save_says_why(page_as, live_server):
    page = page_as(CITY)
    name = f"Snow Valley Park {uuid.uuid4().hex[:6]}"
    # A refused add: no name, a division that is not one; the fields say why and nothing is added.
    page.goto("/parks/new")
    page.locator("#division").fill("999999")
    page.locator("#park-form [type=submit]").click()
    expect(page.locator(".flash-error")).to_contain_text("Nothing was saved.")
    expect(page.locator("#division-error")).to_contain_text("Give a division code of China (GB/T 2260)")
    expect(page.locator("#division")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/parks/new")

    park_id = _add_park(page, name)
    expect(page.locator("h1")).to_contain_text(name)
    # Edit: a bad e-mail is refused and the figure typed beside it is not saved either.
    page.locator("#companies").fill("42")
    page.locator("#contact_email").fill("not an address")
    page.locator("#park-form [type=submit]").click()
    expect(page.locator("#contact_email-error")).to_contain_text("Give an e-mail address")
    assert live_server.api(f"/api/v1/parks/{park_id}")["companies"] is None
    page.locator("#contact_email").fill("snow@example.cn")
    page.locator("#park-form [type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("its figures are confirmed as of now")
    expect(page.locator("#companies")).to_have_value("42")
    park = live_server.api(f"/api/v1/parks/{park_id}")
    assert (park["name"], park["companies"], park["contact_email"], park["division"]) == (name, 42, "snow@example.cn", "130700")
    # The public page shows it.
    page.goto(f"/parks/{park_id}")
    expect(page.locator("h1")).to_have_text(name)


def test_a_city_draws_two_plots_on_its_plan_and_the_public_page_colours_them(page_as, new_page, live_server):
    page = page_as(CITY)
    tag = uuid.uuid4().hex[:6]
    park_id = _add_park(page, f"Plan Park {tag}")
    _add_plot(page, park_id, f"P-{tag}-1", "available")
    _add_plot(page, park_id, f"P-{tag}-2", "reserved")
    plots = {p["name"]: p["id"] for p in live_server.api(f"/api/v1/parks/{park_id}")["plots"]}

    page.goto(f"/parks/{park_id}/plan/edit")
    page.locator("#plan-upload input[type=file]").set_input_files(
        files=[{"name": "plan.png", "mimeType": "image/png", "buffer": _png()}])
    page.locator("#plan-upload [type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("The master plan was uploaded.")
    expect(page.locator("#plan-map .leaflet-image-layer")).to_be_visible()

    def draw(plot_name: str, corners: list[tuple[int, int]]) -> None:
        page.locator("#outline-form select[name=plot_id]").select_option(str(plots[plot_name]))
        page.locator("#plan-map").scroll_into_view_if_needed()
        box = page.locator("#plan-map").bounding_box()
        middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in corners:
            page.mouse.click(middle_x + dx, middle_y + dy)
        expect(page.locator("#outline-count")).to_have_text(f"{len(corners)} corners")
        page.locator("#outline-form [type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text(f"The outline of plot {plot_name} was saved.")

    draw(f"P-{tag}-1", [(-150, -100), (-40, -100), (-40, -20)])
    draw(f"P-{tag}-2", [(20, 20), (140, 20), (140, 110), (20, 110)])

    plan = live_server.api(f"/api/v1/parks/{park_id}/plan")
    outlines = {p["name"]: p["outline"] for p in plan["plots"]}
    assert [len(outlines[f"P-{tag}-1"]), len(outlines[f"P-{tag}-2"])] == [3, 4]
    assert all(0 <= x <= 800 and 0 <= y <= 600 for points in outlines.values() for x, y in points)
    # The first plot lies up and left of the second, as drawn (image y runs down).
    assert max(x for x, _ in outlines[f"P-{tag}-1"]) < min(x for x, _ in outlines[f"P-{tag}-2"])
    assert max(y for _, y in outlines[f"P-{tag}-1"]) < min(y for _, y in outlines[f"P-{tag}-2"])

    visitor = new_page()
    visitor.goto(f"/parks/{park_id}")
    shapes = visitor.locator("#plan-map path.plan-plot")
    expect(shapes).to_have_count(2)
    colours = {shapes.nth(i).get_attribute("data-plot-id"): (shapes.nth(i).get_attribute("data-status"),
                                                            shapes.nth(i).get_attribute("stroke"))
               for i in range(2)}
    assert colours == {str(plots[f"P-{tag}-1"]): ("available", "#1a7f37"),
                       str(plots[f"P-{tag}-2"]): ("reserved", "#b35900")}
    expect(visitor.locator(".plan-legend")).to_contain_text("Reserved")


def test_a_city_puts_up_photos_and_a_tour_and_visitors_see_them(page_as, new_page, live_server):
    from tests.projects.samples import jpeg_bytes, mp4_bytes, pdf_bytes

    page = page_as(CITY)
    tag = uuid.uuid4().hex[:6]
    park_id = _add_park(page, f"Media Park {tag}")
    page.goto(f"/parks/{park_id}/edit")
    page.get_by_role("link", name="Photos and video tour").click()
    # A PDF under a photo's name is refused by its content, and the page says so.
    page.locator("#photo-file").set_input_files(files=[{"name": "gate.jpg", "mimeType": "image/jpeg", "buffer": pdf_bytes()}])
    page.locator("#photo-upload [type=submit]").click()
    expect(page.locator(".flash-error")).to_contain_text("This file is a PDF document; accepted: PNG, JPEG.")
    page.locator("#photo-file").set_input_files(files=[{"name": "gate.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}])
    page.locator("#caption").fill(f"The gate {tag}")
    page.locator("#photo-upload [type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("The photo was added.")
    page.locator("#tour-file").set_input_files(files=[{"name": "tour.mp4", "mimeType": "video/mp4", "buffer": mp4_bytes()}])
    page.locator("#tour-upload [type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("The video tour was uploaded.")
    assert [m["kind"] for m in live_server.api(f"/api/v1/parks/{park_id}/media")["items"]] == ["photo", "tour"]

    visitor = new_page()
    visitor.goto(f"/parks/{park_id}")
    photo = visitor.get_by_role("img", name=f"The gate {tag}")
    expect(photo).to_be_visible()
    assert visitor.evaluate("(img) => img.complete && img.naturalWidth", photo.element_handle()) == 320
    video = visitor.locator("video#park-tour")
    expect(video).to_have_attribute("controls", "")
    answer = visitor.request.get(video.get_attribute("src"))
    assert (answer.status, answer.headers["content-type"], answer.headers["x-content-type-options"]) == (
        200, "video/mp4", "nosniff")
