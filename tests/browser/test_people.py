"""People: a CSV import fixed and confirmed, the invitation read back from a real SMTP server and accepted,
and axe on the pages around them (import, preview, invitations, accept, settings, organisations, audit,
password reset).

The import leaves three new people and one new organisation in the session's demo data; their addresses
and the organisation's name are the import's own, so no other test meets them. Mail goes to the session's
SMTP server (conftest's `mailbox`) when `live_server.deliver_mail()` runs the scheduler's mail job.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from .a11y import check_a11y
from .language import BROWSER_LOCALE, HTML_LANG
from .zh import require_merged_catalogue, zh

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"  # Wang Li 王丽
TANGSHAN = "Tangshan Commerce Bureau 唐山市商务局"  # a city bureau of the demo, by its registered name
#: How pages and mails name it: in the reader's language.
SHOWN = {TANGSHAN: {"en": "Tangshan Commerce Bureau", "zh": "唐山市商务局"}}


def shown(organisation: str, lang: str = "en") -> str:
    return SHOWN.get(organisation, {}).get(lang, organisation)

AGENCY = "Lombardia Invest Partners"  # new: made by the import
NEW_PASSWORD = "Tangshan-2026-fair"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str
    organisation: str
    kind: str
    city: str
    country: str
    timezone: str
    locale: str

    def row(self) -> list[str]:
        return [self.name, self.email, self.role, self.organisation, self.kind, self.city, self.country,
                self.timezone, self.locale]


LI_NA = Person("Li Na 李娜", "li.na@ts-commerce.example", "attendee", TANGSHAN, "city_bureau", "Tangshan", "CN",
               "Asia/Shanghai", "zh")
BIANCHI = Person("Marco Bianchi", "m.bianchi@lombardia-invest.example", "presenter", AGENCY, "agency", "Milan",
                 "IT", "Europe/Rome", "en")
#: Row 4 of the first file: an address without its @ and a time zone that does not exist.
ZHAO_WRONG = Person("Zhao Min 赵敏", "zhao.min#ts-commerce.example", "attendee", TANGSHAN, "city_bureau", "Tangshan",
                    "CN", "Asia/Tangshan", "zh")
ZHAO = Person("Zhao Min 赵敏", "zhao.min@ts-commerce.example", "attendee", TANGSHAN, "city_bureau", "Tangshan", "CN",
              "Asia/Shanghai", "zh")


def write_csv(path, header: list[str], people: list[Person]):
    """The file as Excel's "CSV UTF-8" writes it: a BOM, commas, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for person in people:
        writer.writerow(person.row())
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    return path


#: The template's header: the columns as the reader names them (the import also takes the codes).
TEMPLATE_HEADER = ["Name", "E-mail", "Role", "Organisation", "Kind", "City", "Country", "Time zone", "Language"]


def heading(page):
    return page.get_by_role("heading", level=1)


def section(page, title: str):
    """The <section> (a region labelled by its h2) whose heading starts with `title`."""
    return page.get_by_role("region", name=re.compile("^" + re.escape(title)))


def upload(page, path, button: str = "Check the file", label: str = "CSV file"):
    page.get_by_label(label, exact=True).set_input_files(str(path))
    page.get_by_role("button", name=button, exact=True).click()


def plain_body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_body(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


# ---------------------------------------------------------------- the journey


def test_import_fix_confirm_then_accept_the_mailed_invitation_and_log_in(
        page_as, new_page, log_in, live_server, mailbox, tmp_path, screenshot):
    organiser = page_as(ORGANISER)

    # People → Import, and the template the page offers.
    organiser.goto("/")
    main_nav = organiser.get_by_role("navigation", name="Main")
    main_nav.locator("summary", has_text="People").click()  # the organisers' People menu
    main_nav.get_by_role("link", name="People", exact=True).click()
    expect(heading(organiser)).to_have_text("Invitations")
    organiser.get_by_role("link", name="Import people").click()
    expect(heading(organiser)).to_have_text("Import people")
    check_a11y(organiser, "import")
    with organiser.expect_download() as download_info:
        organiser.get_by_role("link", name="Download the template (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "cloudfair-people-template.csv"
    template = download.path().read_bytes()
    assert template.startswith(b"\xef\xbb\xbf"), "the template starts with the BOM Excel needs for Chinese"
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    assert rows[0] == TEMPLATE_HEADER
    assert len(rows) == 3  # the header and two examples

    # A file with one bad row: the preview names the cells, and nothing can be confirmed.
    bad = write_csv(tmp_path / "people.csv", rows[0], [LI_NA, BIANCHI, ZHAO_WRONG])
    upload(organiser, bad)
    expect(heading(organiser)).to_have_text("Check the import")
    expect(organiser.get_by_role("alert")).to_contain_text("The file has errors, so nothing can be imported.")
    expect(organiser.locator(".import-summary")).to_contain_text("Errors: 2")
    errors = organiser.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td")).to_have_text(
        ["4", "E-mail", ZHAO_WRONG.email, "An e-mail address must have an @ sign, as in name@example.com."])
    expect(errors.nth(1).locator("td")).to_have_text(
        ["4", "Time zone", "Asia/Tangshan", "Unknown time zone; use an IANA name such as Asia/Shanghai or "
                                           "Europe/Berlin."])
    row_4 = organiser.locator("#row-4")
    expect(row_4.locator("td.error")).to_have_count(2)
    expect(row_4.locator('td[data-error="email"] mark')).to_have_text(ZHAO_WRONG.email)
    expect(row_4.locator('td[data-error="timezone"] mark')).to_have_text("Asia/Tangshan")
    expect(organiser.locator("#row-2")).to_contain_text("new person")
    expect(organiser.get_by_role("button", name="Import these people")).to_have_count(0)
    check_a11y(organiser, "import preview with errors")
    screenshot(organiser, "people-import-preview-en")

    # The corrected file, from the same page: three new people, one new organisation.
    fixed = write_csv(tmp_path / "people-fixed.csv", rows[0], [LI_NA, BIANCHI, ZHAO])
    again = section(organiser, "Upload the corrected file")
    again.get_by_label("CSV file", exact=True).set_input_files(str(fixed))
    again.get_by_role("button", name="Check the file").click()
    expect(heading(organiser)).to_have_text("Check the import")
    summary = organiser.locator(".import-summary li")
    expect(summary).to_have_text(["Rows: 3", "New people: 3", "People updated: 0", "Unchanged: 0",
                                  "New organisations: 1", "Errors: 0"])
    expect(organiser.locator("table.import-errors")).to_have_count(0)
    expect(section(organiser, "New organisations").locator("tbody td")).to_have_text(
        [AGENCY, "Agency", "Milan", "Italy", "3"])
    expect(organiser.locator("table.import-rows tbody tr").filter(has_text="new person")).to_have_count(3)
    check_a11y(organiser, "import preview, ready")

    organiser.get_by_role("button", name="Import these people").click()
    expect(heading(organiser)).to_have_text("Import people")
    expect(organiser.get_by_role("status")).to_have_text(
        "Imported: 3 new people, 0 updated, 1 new organisations.")
    expect(section(organiser, "The import is done").locator("li")).to_have_text(
        ["New people: 3", "People updated: 0", "Unchanged: 0", "New organisations: 1", "Invitations queued: 3"])

    organiser.get_by_role("link", name="See the pending invitations").click()
    expect(heading(organiser)).to_have_text("Invitations")
    pending = section(organiser, "Not accepted yet")
    for person in (LI_NA, BIANCHI, ZHAO):
        row = pending.get_by_role("row").filter(has_text=person.email)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(person.name)
        expect(row).to_contain_text(shown(person.organisation))
        expect(row).to_contain_text("by Wang Li 王丽")
        expect(row.get_by_role("button", name=f"Revoke the invitation of {person.name}")).to_be_visible()
    check_a11y(organiser, "invitations")
    screenshot(organiser, "people-invitations-en")

    # The mail job sends the outbox to the SMTP server; each invitation is in its person's language.
    delivered = live_server.deliver_mail()
    assert delivered["sent"] >= 3, delivered
    [chinese] = mailbox.to(LI_NA.email)
    assert chinese["Subject"] == "邀请您加入云招商 CloudFair"
    assert chinese["From"] == "CloudFair <noreply@cloudfair.example>"
    text = plain_body(chinese)
    assert text.startswith(f"{LI_NA.name}，您好：")
    assert f"Wang Li 王丽邀请您以{shown(TANGSHAN, 'zh')}参会代表的身份加入云招商 CloudFair" in text
    assert f"您的登录邮箱为：{LI_NA.email}" in text
    links = re.findall(r"https?://\S+/invitations/[\w-]+", text)
    assert len(links) == 1, text
    [link] = links
    assert link.startswith(f"{live_server.url}/invitations/")
    assert link in html_body(chinese)

    [english] = mailbox.to(BIANCHI.email)
    assert english["Subject"] == "You are invited to CloudFair"
    assert plain_body(english).startswith(f"Dear {BIANCHI.name},")
    assert f"as a presenter of {AGENCY}." in plain_body(english)
    assert "Europe/Rome" in plain_body(english)  # the link's expiry, in the person's own zone

    # The link, in a browser of her own (Chinese, signed in as nobody): a short password first.
    guest = new_page(locale=BROWSER_LOCALE["zh"])
    guest.goto(link)
    expect(guest.locator("html")).to_have_attribute("lang", HTML_LANG["zh"])
    expect(heading(guest)).to_have_text(zh("Welcome to CloudFair, %(name)s", name=LI_NA.name))
    expect(guest.get_by_role("button", name=zh("Log out"))).to_have_count(0)
    check_a11y(guest, "accept invitation")
    guest.get_by_label(zh("New password"), exact=True).fill("short")
    guest.get_by_label(zh("The same password again"), exact=True).fill("short")
    guest.get_by_role("button", name=zh("Set password")).click()
    password = guest.get_by_label(zh("New password"), exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(guest.locator("#password-error")).to_have_text(zh("Use at least %(count)s characters.", count=8))
    expect(heading(guest)).to_have_text(zh("Welcome to CloudFair, %(name)s", name=LI_NA.name))
    check_a11y(guest, "accept invitation, password too short")

    password.fill(NEW_PASSWORD)
    guest.get_by_label(zh("The same password again"), exact=True).fill(NEW_PASSWORD)
    guest.get_by_role("button", name=zh("Set password")).click()
    expect(guest.get_by_role("status")).to_have_text(
        zh("Welcome to CloudFair, %(name)s. Your password is set and you are logged in.", name=LI_NA.name))
    expect(guest.locator(".who")).to_contain_text(LI_NA.name)
    assert guest.url.rstrip("/") == live_server.url

    # Out, and in again through the login form with the new password.
    guest.get_by_role("button", name=zh("Log out")).click()
    expect(guest.get_by_role("button", name=zh("Log out"))).to_have_count(0)
    log_in(guest, LI_NA.email, NEW_PASSWORD, language=None)
    expect(guest.locator(".who")).to_contain_text(LI_NA.name)
    expect(guest.locator("html")).to_have_attribute("lang", HTML_LANG["zh"])  # her language, from the import

    # The link worked once.
    dead = new_page()
    assert dead.goto(link).status == 404
    expect(heading(dead)).to_have_text("This link no longer works")

    # The organiser's pending list no longer shows her; the audit log has the import and her acceptance.
    organiser.reload()
    pending = section(organiser, "Not accepted yet")
    expect(pending.get_by_role("row").filter(has_text=BIANCHI.email)).to_have_count(1)
    expect(pending.get_by_role("row").filter(has_text=LI_NA.email)).to_have_count(0)

    organiser.get_by_role("navigation", name="Main").locator("summary", has_text="People").click()
    organiser.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(heading(organiser)).to_contain_text("Audit log")
    events = organiser.locator("table.audit tbody tr")
    accepted = events.filter(has_text="Invitation accepted").filter(has_text=LI_NA.email)
    expect(accepted).to_have_count(1)
    expect(accepted.locator("td").nth(1)).to_contain_text(LI_NA.name)  # she did it herself
    expect(accepted.locator("td").nth(4)).to_have_text(TANGSHAN)
    imported = events.filter(has_text="People imported").filter(has_text="File: people-fixed.csv")
    expect(imported).to_have_count(1)
    expect(imported.locator("td").nth(1)).to_contain_text("Wang Li 王丽")
    expect(imported.locator("td").nth(6)).to_contain_text(  # the details by name, in the key order
        re.compile(r"New: 3; File: people-fixed\.csv; New organisations: 1; Rows: 3; Checksum \(SHA-256\): "
                   r"[0-9a-f]{64}; Unchanged: 0; Updated: 0"))
    expect(events.filter(has_text="Invitation sent").filter(has_text=BIANCHI.email)).to_have_count(1)
    check_a11y(organiser, "audit")
    screenshot(organiser, "audit-en")


def test_import_preview_names_the_errors_in_chinese(page_as, tmp_path, screenshot):
    require_merged_catalogue()
    page = page_as(ORGANISER, language="zh")
    page.goto("/people/invitations")
    page.get_by_role("link", name=zh("Import people")).click()
    expect(heading(page)).to_have_text(zh("Import people"))
    check_a11y(page, "import")

    people = [Person("Sun Li 孙丽", "sun.li#ts-commerce.example", "参会者", TANGSHAN, "商务局", "唐山", "中国",
                     "Asia/Tangshan", "中文")]
    bad = write_csv(tmp_path / "人员.csv", ["姓名", "邮箱", "角色", "单位", "类型", "城市", "国家", "时区", "语言"], people)
    upload(page, bad, button=zh("Check the file"), label=zh("CSV file"))

    expect(heading(page)).to_have_text(zh("Check the import"))
    expect(page.get_by_role("alert")).to_have_text(zh(
        "The file has errors, so nothing can be imported. Fix the cells named below in your spreadsheet and upload "
        "the file again."))
    errors = page.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td")).to_have_text(
        ["2", zh("E-mail"), people[0].email, zh("An e-mail address must have an @ sign, as in name@example.com.")])
    expect(errors.nth(1).locator("td")).to_have_text(
        ["2", zh("Time zone"), "Asia/Tangshan",
         zh("Unknown time zone; use an IANA name such as Asia/Shanghai or Europe/Berlin.")])
    expect(page.locator("#row-2 td.error")).to_have_count(2)
    expect(page.get_by_role("button", name=zh("Import these people"))).to_have_count(0)
    check_a11y(page, "import preview with errors")
    screenshot(page, "people-import-preview-zh")


# ---------------------------------------------------------------- the other people pages


@dataclass(frozen=True)
class Page:
    name: str
    who: str | None
    path: str
    #: The page's own heading in English (a regular expression).
    heading: str
    #: Languages to save a screenshot in, as docs/screenshots/<name>-<language>.png.
    shots: tuple[str, ...] = ()


PAGES = [
    Page("people-import", ORGANISER, "/people/import", r"^Import people$"),
    Page("people-invitations", ORGANISER, "/people/invitations", r"^Invitations$"),
    Page("settings", ORGANISER, "/me/settings", r"^My settings$", shots=("en", "zh")),
    Page("organisations", ORGANISER, "/organisations", r"^Organisations", shots=("en",)),
    Page("audit", ORGANISER, "/audit", r"^Audit log"),
    Page("password-reset", None, "/password-reset", r"^Forgotten password$"),
]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_people_page_has_no_serious_accessibility_violations(spec, language, page_as, new_page, screenshot):
    if spec.who is None:  # a visitor's language comes from the browser's Accept-Language
        page = new_page(locale=BROWSER_LOCALE[language])
    else:
        page = page_as(spec.who, language=language)
    response = page.goto(spec.path)
    assert response.status == 200, f"{spec.path} answered {response.status}"
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    expect(heading(page)).to_have_count(1)
    if language == "en":
        expect(heading(page)).to_have_text(re.compile(spec.heading))
    check_a11y(page, spec.name)
    if language in spec.shots:
        screenshot(page, f"{spec.name}-{language}")
