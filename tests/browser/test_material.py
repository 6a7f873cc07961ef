"""Pitch material in the browser: drag-and-drop upload with progress, a refused disguise, review, download.

Everything runs against the real server (`live_server`), whose demo database lives for the whole session:
every journey uploads its own file (unique content, unique name) and finds it by that name, so the tests
pass in any order and beside each other. The login form allows ten attempts a minute per address, so each
account logs in once per module and later pages reuse its cookies.
"""

from __future__ import annotations

import base64
import os
import re
import uuid

import pytest
from fpdf import FPDF
from playwright.sync_api import expect

from tests.projects.samples import pdf_bytes

pytestmark = pytest.mark.browser

PRESENTER = "j.devries@cloudfair.example"  # Jan de Vries owns the container-housing project
ORGANISER = "organiser@cloudfair.example"
ATTENDEE = "sjz@cloudfair.example"  # Zhao Min, registered for the Europe fair
PROJECT = "Container (box-type) modular housing"  # pitched in "Dutch container housing" on the published Europe fair

MB = 1024 * 1024


# ---------------------------------------------------------------- helpers


def project_id(live_server) -> int:
    """The container-housing project's id, from the published Europe fair's agenda."""
    fairs = live_server.api("/api/v1/fairs?status=published&per_page=50")["items"]
    [europe] = [f for f in fairs if f["title"].startswith("Europe")]
    sessions = live_server.api(f"/api/v1/fairs/{europe['id']}")["sessions"]
    [project] = [p for s in sessions for p in s["projects"] if p["title"] == PROJECT]
    return project["id"]


def padded_pdf(text: str, size: int) -> bytes:
    """A valid one-page PDF of about `size` bytes: the bulk is an uncompressed embedded file of random bytes,
    so the cross-reference table stays right and nothing resembling HTML lands in the head or tail."""
    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=24)
    pdf.add_page()
    pdf.cell(text=text)
    pdf.embed_file(bytes=os.urandom(size), basename="appendix.bin", compress=False)
    return bytes(pdf.output())


def drop_file(page, name: str, data: bytes, mime: str = "application/pdf") -> None:
    """Drag a file onto the drop zone the way a browser does: dragenter, dragover, drop, one DataTransfer."""
    data_transfer = page.evaluate_handle(
        """([name, mime, b64]) => {
            const text = atob(b64);  // not fetch("data:..."): the page's CSP allows no such connection
            const bytes = new Uint8Array(text.length);
            for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            return transfer;
        }""",
        [name, mime, base64.b64encode(data).decode("ascii")],
    )
    zone = page.locator("form.upload .dropzone")
    zone.dispatch_event("dragenter", {"dataTransfer": data_transfer})
    zone.dispatch_event("dragover", {"dataTransfer": data_transfer})
    expect(zone).to_have_class(re.compile(r"\bdragging\b"))
    zone.dispatch_event("drop", {"dataTransfer": data_transfer})
    expect(zone).not_to_have_class(re.compile(r"\bdragging\b"))


def material_row(page, name: str):
    return page.locator("table.materials tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


# ---------------------------------------------------------------- journeys


def test_presenter_drops_a_pdf_and_watches_it_upload(page_as, live_server, screenshot):
    name = "集装箱房屋介绍.pdf"
    data = padded_pdf(f"Container housing {uuid.uuid4().hex[:8]}", 8 * MB)
    page = page_as(PRESENTER)
    page.goto(f"/projects/{project_id(live_server)}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PROJECT)
    # Another journey may have uploaded a file of this name already; this one adds one row more.
    before = material_row(page, name).count()

    # Every value and visibility change of the progress bar, reported to Python as it happens
    # (the page reloads once the upload is done, so nothing may be kept in the page itself).
    seen: list[tuple[float, bool]] = []
    page.expose_function("cfProgress", lambda value, hidden: seen.append((value, hidden)))
    page.evaluate("""() => {
        const bar = document.querySelector("progress.upload-progress");
        new MutationObserver(() => window.cfProgress(bar.value, bar.hidden))
            .observe(bar, {attributes: true, attributeFilter: ["value", "hidden"]});
    }""")
    # Throttle the upload to 2 MB/s, so the 8 MB take about four seconds: long enough to see progress.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 2 * MB})

    drop_file(page, name, data)
    status = page.locator("form.upload .upload-status")
    expect(status).to_have_text(f"Ready to upload: {name}")
    assert page.locator("form.upload input[type=file]").evaluate("i => [...i.files].map(f => [f.name, f.size])") == [
        [name, len(data)]
    ]

    bar = page.locator("progress.upload-progress")
    expect(bar).to_be_hidden()
    page.get_by_role("button", name="Upload").click()
    expect(bar).to_be_visible()
    page.wait_for_function("() => document.querySelector('progress.upload-progress').value >= 25")
    expect(status).to_have_text(re.compile(rf"^Uploading {re.escape(name)}: \d+%$"))
    page.locator("form.upload").scroll_into_view_if_needed()
    screenshot(page, "material-upload-en")

    # The script reloads the page when the server answers 201; the new file is then listed, pending review.
    row = material_row(page, name)
    expect(row).to_have_count(before + 1, timeout=30_000)
    new = row.first  # newest document first
    expect(new.get_by_role("cell").nth(1)).to_have_text("v1")
    expect(new.get_by_role("cell").nth(2)).to_have_text("PDF")
    expect(new.get_by_role("cell").nth(3)).to_have_text("8.0 MB")
    expect(new.locator(".badge")).to_have_text("pending")
    expect(page.locator("progress.upload-progress")).to_be_hidden()  # a fresh form after the reload

    values = [value for value, hidden in seen if not hidden]
    assert values, f"the progress bar never showed: {seen}"
    assert values[-1] == 100, f"the progress bar did not reach 100: {values}"
    between = sorted({v for v in values if 0 < v < 100})
    assert len(between) >= 2, f"too few intermediate progress values: {values}"
    assert values == sorted(values), f"progress went backwards: {values}"


def test_a_renamed_html_file_is_refused_with_the_servers_message(page_as, live_server):
    page = page_as(PRESENTER)
    page.goto(f"/projects/{project_id(live_server)}")
    rows_before = page.locator("table.materials tbody tr").count()
    evil = f"<!DOCTYPE html><html><body><script>alert('{uuid.uuid4()}')</script></body></html>\n".encode()

    page.locator("form.upload input[type=file]").set_input_files(
        {"name": "evil.pdf", "mimeType": "application/pdf", "buffer": evil}
    )
    with page.expect_response(lambda r: r.request.method == "POST" and "/api/v1/projects/" in r.url) as answer:
        page.get_by_role("button", name="Upload").click()
    response = answer.value
    assert response.status == 415
    message = response.json()["error"]["message"]
    assert message.startswith("This file is an HTML document; accepted: PDF"), message

    status = page.locator("form.upload .upload-status")
    expect(status).to_have_text(message)
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("progress.upload-progress")).to_be_hidden()

    page.reload()
    expect(page.get_by_role("link", name="evil.pdf")).to_have_count(0)
    expect(page.locator("table.materials tbody tr")).to_have_count(rows_before)


def test_organiser_approves_with_a_preview_then_an_attendee_downloads_it(page_as, live_server, screenshot):
    name = "集装箱房屋项目简介.pdf"
    data = pdf_bytes(f"Container housing {uuid.uuid4().hex[:8]}", pages=2)
    project = project_id(live_server)

    presenter = page_as(PRESENTER)
    presenter.goto(f"/projects/{project}")
    presenter.locator("form.upload input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": data}
    )
    presenter.get_by_role("button", name="Upload").click()
    expect(material_row(presenter, name).locator(".badge")).to_have_text("pending")

    organiser = page_as(ORGANISER)
    organiser.goto("/review")
    expect(organiser.get_by_role("heading", level=1)).to_contain_text("Material to review")
    card = organiser.locator("ol.review-queue > li").filter(
        has=organiser.get_by_role("heading", name=re.compile(rf":\s*{re.escape(name)}\s"))
    )
    expect(card).to_have_count(1)
    expect(card).to_contain_text(f"{PROJECT}: {name} v1")
    expect(card).to_contain_text("uploaded by Jan de Vries")
    preview = card.get_by_role("img", name=f"First page of {name}")
    preview.scroll_into_view_if_needed()  # the preview loads lazily
    organiser.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") > 0
    # For the picture: the top of the queue, once the previews in view have loaded.
    organiser.evaluate("window.scrollTo(0, 0)")
    organiser.wait_for_function("""() => [...document.querySelectorAll("img.preview")]
        .filter(img => img.getBoundingClientRect().top < innerHeight)
        .every(img => img.complete && img.naturalWidth > 0)""")
    screenshot(organiser, "review-queue-en")

    card.get_by_role("button", name="Approve").click()
    expect(organiser.locator(".flash")).to_have_text(f"“{name}” is approved.")
    expect(card).to_have_count(0)

    attendee = page_as(ATTENDEE)
    attendee.goto(f"/projects/{project}")
    expect(attendee.get_by_role("heading", level=1)).to_have_text(PROJECT)
    expect(attendee.locator("form.upload")).to_have_count(0)
    expect(attendee.get_by_role("columnheader", name="Review")).to_have_count(0)
    expect(attendee.get_by_role("link", name="modular-housing.pdf")).to_have_count(0)  # the demo's, still pending
    link = attendee.get_by_role("link", name=name, exact=True)
    expect(link).to_have_count(1)

    with attendee.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == name
    with open(download.path(), "rb") as f:
        assert f.read() == data
