"""The Chinese interface has no English and no raw codes left (issue 14, point 2).

With the demo seeded and every demo person set to Chinese, each role (and a visitor) walks every page
it can reach: every page route without parameters, and every link on the pages it sees (a few of each
kind of address, e.g. three fairs' pages, so the walk stays fast). Every mail CloudFair sends is made
in Chinese, and a few errors and messages are provoked. tests/leaks.py says what counts as a leak;
people's own words (names, titles, notes) are taken from the database and do not count.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, time, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import template_rendered

from app import demo
from app.accounts.models import User
from app.extensions import db
from app.types import utcnow
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD
from tests.leaks import DataStrings, leaks_in_html, leaks_in_text, strings_in

#: Columns that hold what people typed (matched by name; "title" also finds "title_en", "title_zh").
CONTENT_STEMS = ("name", "city", "demand_note", "bio", "note", "title", "summary", "theme", "description", "text",
                 "original_name", "review_note", "attachment_name", "email", "aliases", "themes")
#: Tables of reference data and of text CloudFair writes itself: their words must be translated.
NOT_CONTENT = {"divisions", "sectors", "mail_messages", "notifications", "audit_events", "heartbeats",
               "live_events", "reminders", "alembic_version"}
#: Addresses the walk does not follow: the API, files, signing out, the switch of language.
SKIP = re.compile(r"^/(api/|static/|socket\.io|logout|language|favicon)|\.(ics|csv|xlsx|pdf|png|jpe?g|webp|svg)$"
                  r"|/download|/photo|/file|/calendar/")
PER_KIND = 3  # pages walked per kind of address ("/fairs/#", "/leads/#")
ROLES = ("anonymous", "attendee", "presenter", "organiser")


def _data_strings() -> DataStrings:
    values: list[str] = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in NOT_CONTENT:
                continue
            columns = [c for c in table.columns
                       if any(c.name == s or c.name.startswith(s + "_") for s in CONTENT_STEMS)
                       and not c.name.endswith(("_id", "_sha256", "_mime", "_code"))]
            for column in columns:
                # No DISTINCT: PostgreSQL has no equality for json columns (aliases, themes).
                for (value,) in conn.execute(sa.select(column)):
                    values += strings_in(value)
    return DataStrings(values)


def _kind(path: str) -> str:
    parts = urlsplit(path)
    return re.sub(r"\d+", "#", parts.path) + ("?" + "&".join(sorted(k.split("=")[0] for k in parts.query.split("&")))
                                             if parts.query else "")


def _page_routes(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not SKIP.search(rule.rule):
            paths.append(rule.rule)
    return sorted(paths)


def _links(html: str, base: str) -> list[str]:
    found = []
    for href in re.findall(r'<a\s[^>]*href="([^"#]+)', html):
        href = href.replace("&amp;", "&")
        absolute = urljoin("http://localhost" + base, href)
        parts = urlsplit(absolute)
        if parts.netloc != "localhost":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP.search(parts.path):
            found.append(path)
    return found


def _walk(client, start: list[str], data: DataStrings, role: str) -> tuple[list, int]:
    seen: set[str] = set()
    per_kind: Counter = Counter()
    queue = list(start)
    leaks = []
    walked = 0
    while queue:
        path = queue.pop(0)
        kind = _kind(path)
        if path in seen or per_kind[kind] >= PER_KIND:
            continue
        seen.add(path)
        per_kind[kind] += 1
        response = client.get(path, headers={"Accept": "text/html"})
        if not response.content_type.startswith("text/html"):
            continue
        walked += 1
        html = response.get_data(as_text=True)
        leaks += leaks_in_html(html, f"{role} GET {path} ({response.status_code})", data)
        queue += [link for link in _links(html, urlsplit(path).path) if link not in seen]
    return leaks, walked


def _login(client, user) -> None:
    sign_in(client, user, PASSWORD)


@pytest.fixture
def demo_in_chinese(app, monkeypatch):
    """The demo with every person reading Chinese from the start (so their notifications are Chinese too)."""
    monkeypatch.setattr(demo, "ORGANISER", (*demo.ORGANISER[:-1], "zh"))
    for name in ("PRESENTERS", "ATTENDEES"):
        monkeypatch.setattr(demo, name, [(*person[:-1], "zh") for person in getattr(demo, name)])
    demo.seed(PASSWORD)
    assert set(db.session.scalars(sa.select(User.locale))) == {"zh"}
    return app


def _person(role: str) -> User:
    return db.session.scalars(sa.select(User).where(User.role == role).order_by(User.id)).first()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_in_chinese(demo_in_chinese, role):
    app = demo_in_chinese
    client = app.test_client()
    client.set_cookie("lang", "zh")
    if role != "anonymous":
        _login(client, _person(role))
    data = _data_strings()
    start = ["/", *_page_routes(app), "/no-such-page"]
    leaks, walked = _walk(client, start, data, role)
    assert walked >= 8, f"the walk saw only {walked} pages"
    assert not leaks, _report(leaks)


def _report(leaks) -> str:
    """Each distinct leak once (the first place it was seen), so a missing translation reads as one line."""
    first: dict = {}
    for leak in leaks:
        first.setdefault((leak.word, leak.context), leak)
    return f"{len(first)} untranslated words or codes:\n" + "\n".join(map(str, list(first.values())[:80]))


def test_every_mail_reads_in_chinese(demo_in_chinese):
    """Each mail template is rendered at least once, for a Chinese reader, by the code that sends it."""
    from app.people import invitations, password_reset
    from app.fairs import services as fairs
    from app.leads.models import Lead
    from app.notifications import reminders
    from app.notifications.models import MailMessage
    from tests.factories import make_fair, make_user

    app = demo_in_chinese
    rendered: list[str] = []

    def record(sender, template, context, **extra):
        if template.name and template.name.startswith("mail/"):
            rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        organiser = _person("organiser")
        newcomer = make_user(email="xin@example.org", name="新人", role="attendee", locale="zh")
        with app.test_request_context("/"):
            invitations.invite(newcomer, organiser)
            db.session.commit()
            password_reset.request_reset(_person("attendee").email)
            db.session.commit()
        now = utcnow()
        # Every open lead has stalled a year on; a next action falls due; the monthly report is asked for.
        lead = db.session.scalars(sa.select(Lead).where(Lead.stage == "performing")).first()
        if lead is not None:
            lead.next_action_on = (now + timedelta(days=1)).date()
        db.session.commit()
        reminders.lead_reminders(now + timedelta(days=400))
        first_day = reminders.first_working_day((now.replace(day=1) + timedelta(days=32)).date())
        reminders.report_requests(datetime.combine(first_day, time(2, 0), tzinfo=timezone.utc))  # 10:00 in Beijing
        from app.parks.staleness import nudge_stale_parks

        nudge_stale_parks(now + timedelta(days=400))  # every demo park's figures have gone stale
        for fair_session in _upcoming_sessions():
            reminders.session_reminders(fair_session.starts_at - timedelta(hours=23, minutes=30))
        # A full fair: the first person withdraws, the second moves up from the waiting list.
        full = make_fair(organiser, capacity=1)
        first, second = make_user(email="a1@example.org", locale="zh"), make_user(email="a2@example.org", locale="zh")
        fairs.register(first, full.id)
        fairs.register(second, full.id)
        fairs.withdraw(first, full.id)
        # A meeting the demo booked is accepted: both people get the invitation mail.
        from app.meetings import services as meetings
        from app.meetings.models import Meeting

        waiting = db.session.scalars(sa.select(Meeting).where(Meeting.status == "requested")).first()
        meetings.accept(waiting.presenter, waiting.id)
        # Self sign-up: two ask (the confirmation mail), one asks with an address that has an account;
        # once confirmed, one is approved and one declined.
        from app.people import fair_invitations, signups
        from app.people.models import SignupRequest

        known = make_user(email="known@example.cn", name="老用户", role="attendee", locale="zh")
        with app.test_request_context("/"):
            for email in ("s1@example.cn", "s2@example.cn"):
                signups.request_signup({"name": "王芳", "email": email, "organisation": "保定市新材料产业园",
                                        "kind": "park", "division": "130600", "locale": "zh"})
            signups.request_signup({"name": known.name, "email": known.email, "organisation": "保定市新材料产业园",
                                    "kind": "park", "division": "130600", "locale": "zh"})
            asked = db.session.scalars(sa.select(SignupRequest).order_by(SignupRequest.id)).all()[-2:]
            for signup in asked:
                signup.status, signup.confirmed_at = signups.PENDING, now
            db.session.commit()
            signups.decide(organiser, asked[0].id, signups.APPROVE)
            signups.decide(organiser, asked[1].id, signups.DECLINE, note="请先由市商务局统一报名。")
            # An organisation invited from a session's suggestions: its person gets the invitation.
            invited = make_user(email="yq@example.cn", name="园区联系人", role="attendee", locale="zh",
                                organisation="石家庄高新区管委会")
            fair_invitations.invite_organisations(organiser, _upcoming_sessions()[0].id, [invited.organisation_id])
            # A city proposes one of its plots on a lead: the project's presenter gets the proposal mail.
            from app.parks import proposals
            from app.parks.models import Park, Plot

            plot = db.session.scalars(sa.select(Plot).join(Park, Park.id == Plot.park_id).where(
                Park.organisation_id.in_(sa.select(Lead.organisation_id)), Plot.status != "taken").order_by(Plot.id)).first()
            proposed_on = db.session.scalars(sa.select(Lead).where(Lead.organisation_id == plot.park.organisation_id)
                                             .order_by(Lead.id)).first()
            proposals.propose(organiser, proposed_on.id, {"plot_ids": [plot.id]})
    finally:
        template_rendered.disconnect(record, app)

    names = {re.sub(r"\.(zh|en)\.(txt|html)$", "", n.removeprefix("mail/")) for n in rendered}
    expected = {p.name.split(".")[0] for p in (app.root_path and _mail_templates(app))}
    assert names >= expected, f"mails never rendered: {sorted(expected - names)}"
    assert all(".zh." in n for n in rendered), [n for n in rendered if ".zh." not in n]

    data = _data_strings()
    leaks = []
    for message in db.session.scalars(sa.select(MailMessage)):
        leaks += leaks_in_text(message.subject, f"mail {message.id} subject", data)
        leaks += leaks_in_text(" ".join(message.text_body.split()), f"mail {message.id} text", data)
        leaks += leaks_in_html(message.html_body, f"mail {message.id} html", data)
    assert not leaks, _report(leaks)


def _mail_templates(app):
    from pathlib import Path

    return sorted(Path(app.root_path).parent.joinpath("templates", "mail").glob("*.zh.txt"))


def _upcoming_sessions():
    from app.fairs.models import FairSession

    return db.session.scalars(sa.select(FairSession).where(FairSession.starts_at > utcnow())
                              .order_by(FairSession.starts_at).limit(2)).all()


def test_errors_and_refusals_read_in_chinese(demo_in_chinese):
    """What comes back from a wrong form, a bad import file and a bad API call, for a Chinese organiser."""
    import io

    from app.accounts.services import issue_token

    app = demo_in_chinese
    client = app.test_client()
    organiser = _person("organiser")
    _login(client, organiser)
    data = _data_strings()
    leaks = []

    page = client.get("/people/import")
    bad_file = ("name,email,role,organisation,kind,country\n"
                "张伟,zhang.example.org,老板,某单位,工厂,火星\n,li@example.org,attendee,,park,DE\n")
    preview = client.post("/people/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page.text), "file": (io.BytesIO(bad_file.encode()), "people.csv")})
    assert preview.status_code == 422
    typed = DataStrings([*data.values, *re.split(r"[,\n]", bad_file)])  # the file's cells are typed too
    leaks += leaks_in_html(preview.get_data(as_text=True), "POST /people/import (bad file)", typed)

    form = client.get("/fairs/new")
    empty = client.post("/fairs/new", data={"csrf_token": csrf_from(form.text)})
    assert empty.status_code == 422
    leaks += leaks_in_html(empty.get_data(as_text=True), "POST /fairs/new (empty)", data)

    client = app.test_client()  # a token alone, as an API client calls
    plain, _ = issue_token(organiser)
    headers = {"Authorization": f"Bearer {plain}"}
    for method, path, body in (("POST", "/api/v1/fairs", {}), ("GET", "/api/v1/fairs?per_page=0", None),
                               ("POST", "/api/v1/fairs", {"title": 5, "starts_at": "morgen", "capacity": "viele"})):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code in (400, 422), (path, answer.status_code)
        leaks += leaks_in_text(answer.json["error"]["message"], f"{method} {path} {body}", data)
    assert not leaks, _report(leaks)
