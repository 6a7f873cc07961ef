"""Development conveniences: `make run` runs the scheduled jobs in-process (once, never in tests unless
asked), the development mail page reads the outbox, the invitations page tells the mail's truth, and a
session that entered the 24-hour window late still gets its 24-hour reminder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from app.core import in_process
from app import create_app, scheduler_wanted
from app.people import invitations
from app.extensions import db
from app.fairs import services as fairs
from app.jobs import run_due
from app.mail import MAX_ATTEMPTS, deliver_due
from app.notifications.models import MailMessage, Notification, Reminder
from tests.conftest import csrf_from, free_port, make_test_config
from tests.factories import at, make_fair, make_organiser, make_presenter, make_session, make_user

ROOT = Path(__file__).resolve().parents[2]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- the in-process scheduler


def test_scheduler_and_mail_page_are_on_in_development_and_off_in_production_and_tests():
    env = {k: v for k, v in os.environ.items() if k not in ("RUN_SCHEDULER_IN_PROCESS", "DEV_MAIL_PAGE")}
    script = ("import json, config; print(json.dumps({name: [getattr(getattr(config, name), s) for s in "
              "('RUN_SCHEDULER_IN_PROCESS', 'DEV_MAIL_PAGE')] for name in ('Config', 'DevelopmentConfig', 'TestConfig')}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    assert json.loads(out.stdout) == {"Config": [False, False], "DevelopmentConfig": [True, True],
                                      "TestConfig": [False, False]}

    turned_off = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                                env={**env, "RUN_SCHEDULER_IN_PROCESS": "0"})
    assert json.loads(turned_off.stdout)["DevelopmentConfig"][0] is False


@pytest.fixture
def dev_app(app):
    """The test app with development's settings (the scheduler check reads them; nothing starts)."""
    app.config.update(DEVELOPMENT=True, RUN_SCHEDULER_IN_PROCESS=True)
    app.debug = False
    return app


def test_the_scheduler_runs_only_in_the_web_process_of_flask_run(dev_app):
    assert scheduler_wanted(dev_app, ["flask", "run"], {})
    assert not scheduler_wanted(dev_app, ["flask", "db", "upgrade"], {})
    assert not scheduler_wanted(dev_app, ["flask", "scheduler"], {})
    assert not scheduler_wanted(dev_app, ["gunicorn", "wsgi:app"], {})


def test_with_the_reloader_only_its_child_runs_the_scheduler(dev_app):
    dev_app.debug = True
    assert not scheduler_wanted(dev_app, ["flask", "run"], {})  # the watching parent
    assert scheduler_wanted(dev_app, ["flask", "run"], {"WERKZEUG_RUN_MAIN": "true"})  # the serving child
    assert scheduler_wanted(dev_app, ["flask", "run", "--no-reload"], {})
    dev_app.debug = False
    assert not scheduler_wanted(dev_app, ["flask", "run", "--reload"], {})


def test_off_outside_development_and_when_turned_off(dev_app):
    dev_app.config.update(DEVELOPMENT=False, TESTING=False)  # production's settings
    assert not scheduler_wanted(dev_app, ["flask", "run"], {})
    dev_app.config.update(DEVELOPMENT=True, RUN_SCHEDULER_IN_PROCESS=False)
    assert not scheduler_wanted(dev_app, ["flask", "run"], {})


def test_a_test_app_never_starts_it_unless_asked_and_then_once(monkeypatch):
    started = []

    class FakeScheduler:
        def start(self):
            started.append(self)

    monkeypatch.setattr("app.jobs.make_scheduler", lambda app, background: FakeScheduler())
    monkeypatch.setattr(sys, "argv", ["flask", "run"])
    monkeypatch.setattr(in_process, "_scheduler", None)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)

    create_app(make_test_config())
    assert started == []

    create_app(make_test_config(RUN_SCHEDULER_IN_PROCESS=True))
    create_app(make_test_config(RUN_SCHEDULER_IN_PROCESS=True))
    assert len(started) == 1


def test_make_runs_flask_run_runs_the_jobs_and_healthz_shows_the_heartbeat(tmp_path):
    """`make run`'s command (`flask run` with CLOUDFAIR_ENV=development, nothing else set) in a process of
    its own on a fresh database: the web process runs the scheduler, whose heartbeat /healthz shows."""
    import time
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k not in ("RUN_SCHEDULER_IN_PROCESS", "FLASK_DEBUG")}
    env.update(CLOUDFAIR_ENV="development", DATABASE_URL=f"sqlite:///{tmp_path / 'cf.db'}", REDIS_URL="",
               SMTP_HOST="", SOCKETIO_ASYNC_MODE="threading", UPLOAD_DIR=str(tmp_path / "uploads"))
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, check=True, timeout=120)
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    scheduler = None
    try:
        for _ in range(300):  # up to a minute: the first heartbeat is written as the scheduler starts
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    scheduler = json.load(response)["scheduler"]
            except OSError:
                scheduler = None
            if scheduler and scheduler["status"] == "ok":
                break
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
        log.close()

    assert scheduler is not None, (tmp_path / "server.log").read_text()
    assert scheduler["status"] == "ok" and scheduler["last_heartbeat"]
    assert scheduler["in_process"] is True


def test_healthz_says_when_the_web_process_runs_the_jobs(app, client, monkeypatch):
    class Running:
        running = True

    assert client.get("/healthz").json["scheduler"]["in_process"] is False
    monkeypatch.setattr(in_process, "_scheduler", Running())
    assert client.get("/healthz").json["scheduler"]["in_process"] is True


# ---------------------------------------------------------------- the development mail page


def _invite_through_the_page(client, name="Anna Schmidt", email="anna@example.de"):
    page = client.get("/people/invitations")
    return client.post("/people/invitations", data={
        "name": name, "email": email, "role": "presenter", "organisation": "Bavaria Invest", "city": "",
        "country": "DE", "timezone": "Europe/Berlin", "locale": "en", "csrf_token": csrf_from(page.text)})


def test_the_mail_page_lists_and_shows_a_queued_invitation(app, client, login):
    app.config["DEV_MAIL_PAGE"] = True
    login(make_organiser())
    assert _invite_through_the_page(client).status_code == 302
    message = db.session.scalars(select(MailMessage)).one()

    listing = client.get("/dev/mail")

    assert listing.status_code == 200
    row = re.search(rf'<tr data-message="{message.id}">(.*?)</tr>', listing.text, re.S).group(1)
    assert "anna@example.de" in row and message.subject in row and ">queued<" in row
    shown = client.get(f"/dev/mail/{message.id}")
    assert shown.status_code == 200
    assert "/invitations/" in shown.text  # the link, in the escaped text part
    assert '<iframe class="mail-html" sandbox=""' in shown.text
    html = client.get(f"/dev/mail/{message.id}/html")
    assert html.status_code == 200 and html.text == message.html_body
    assert html.headers["Content-Security-Policy"].startswith("sandbox;")
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"

    assert "No scheduler is running" in _scheduler_state(listing.text)  # nothing has beaten yet

    deliver_due()  # no SMTP_HOST: logged, marked sent, kept
    assert ">sent<" in client.get("/dev/mail").text
    assert 'href="/dev/mail">development mail page</a>' in client.get("/people/invitations").text


def _scheduler_state(html: str) -> str:
    return re.sub(r"\s+", " ", re.search(r'<p id="scheduler-state"[^>]*>(.*?)</p>', html, re.S).group(1)).strip()


def test_the_mail_page_says_whether_a_scheduler_runs(app, client, login, monkeypatch):
    from app.core.services import beat

    app.config["DEV_MAIL_PAGE"] = True
    login(make_organiser())
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        beat()
    with time_machine.travel(at("2026-12-09T07:05:20+00:00"), tick=False):
        separate = _scheduler_state(client.get("/dev/mail").text)

        class Running:
            running = True

        monkeypatch.setattr(in_process, "_scheduler", Running())
        inside = _scheduler_state(client.get("/dev/mail").text)
    with time_machine.travel(at("2026-12-09T07:30+00:00"), tick=False):
        stopped = _scheduler_state(client.get("/dev/mail").text)

    assert separate.startswith("A scheduler process is running (last heartbeat 20 s ago)")
    assert inside.startswith("The scheduler runs in this web process (last heartbeat 20 s ago)")
    assert stopped.startswith("No scheduler is running")


def test_the_mail_page_escapes_what_a_message_holds(app, client, login):
    app.config["DEV_MAIL_PAGE"] = True
    db.session.add(MailMessage(to_address="x@example.com", subject="<script>alert(1)</script>",
                               text_body="<b>bold</b>", html_body="<p>hi</p>"))
    db.session.commit()
    login(make_organiser())
    message_id = db.session.scalar(select(MailMessage.id))

    for path in ("/dev/mail", f"/dev/mail/{message_id}"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in client.get(f"/dev/mail/{message_id}").text


def test_the_mail_page_is_a_404_where_it_is_off_and_for_organisers_only(app, client, login):
    db.session.add(MailMessage(to_address="x@example.com", subject="Hello", text_body="t", html_body="<p>h</p>"))
    db.session.commit()
    message_id = db.session.scalar(select(MailMessage.id))
    login(make_organiser())
    for path in ("/dev/mail", f"/dev/mail/{message_id}", f"/dev/mail/{message_id}/html"):
        assert client.get(path).status_code == 404  # the test settings, like production's: off

    app.config["DEV_MAIL_PAGE"] = True
    assert client.get("/dev/mail").status_code == 200
    anonymous = app.test_client().get("/dev/mail")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_an_attendee_gets_403_on_the_mail_page(app, login):
    app.config["DEV_MAIL_PAGE"] = True
    client = login(make_user("attendee"))
    assert client.get("/dev/mail").status_code == 403


def test_the_mail_page_in_chinese(app, login):
    app.config["DEV_MAIL_PAGE"] = True
    client = login(make_organiser(locale="zh"))
    page = client.get("/dev/mail").text
    assert "开发环境邮件" in page and "发件箱为空。" in page
    assert _scheduler_state(page).startswith("没有调度程序在运行")
    assert "Development mail" not in page and "No scheduler" not in page


# ---------------------------------------------------------------- invitations say what became of the mail


def _mail_status_cell(html: str, email: str) -> str:
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if email in r)
    return re.sub(r"\s+", " ", re.search(r'<td class="mail-status"[^>]*>(.*?)</td>', row, re.S).group(1)).strip()


def test_invitations_say_queued_then_sent_or_failed_with_the_reason(app, client, login):
    login(make_organiser())
    response = _invite_through_the_page(client)
    assert "is queued" in client.get(response.headers["Location"]).text
    _invite_through_the_page(client, name="Bo Li", email="bo@example.cn")

    page = client.get("/people/invitations").text
    assert _mail_status_cell(page, "anna@example.de") == "queued"
    assert "dev-mail-link" not in page  # the page is off in these settings

    anna = db.session.scalar(select(MailMessage).where(MailMessage.to_address == "anna@example.de"))
    deliver_due()  # no SMTP_HOST: logged and counted as sent
    bo = db.session.scalar(select(MailMessage).where(MailMessage.to_address == "bo@example.cn"))
    assert anna.sent_at is not None
    page = client.get("/people/invitations").text
    assert _mail_status_cell(page, "anna@example.de").startswith("sent ")

    # a message that cannot be delivered: retried, then failed for good, with the reason shown
    _invite_through_the_page(client, name="Carla Diaz", email="carla@example.es")
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    deliver_due()
    page = client.get("/people/invitations").text
    assert _mail_status_cell(page, "carla@example.es").startswith("queued; retrying after a failed attempt (")
    carla = db.session.scalar(select(MailMessage).where(MailMessage.to_address == "carla@example.es"))
    carla.attempts, carla.next_attempt_at = MAX_ATTEMPTS - 1, carla.created_at
    db.session.commit()
    deliver_due()
    page = client.get("/people/invitations").text
    cell = _mail_status_cell(page, "carla@example.es")
    assert cell.startswith("<strong>failed (") and "Error" in cell
    assert bo.sent_at is not None and _mail_status_cell(page, "bo@example.cn").startswith("sent ")

    api = client.get("/api/v1/invitations").get_json()["items"]
    by_email = {item["user"]["email"]: item for item in api}
    assert by_email["anna@example.de"]["mail_status"] == "sent"
    assert by_email["carla@example.es"]["mail_status"] == "failed" and by_email["carla@example.es"]["mail_error"]


def test_an_invitation_made_in_a_service_links_its_mail():
    organiser = make_organiser()
    person = invitations.create_and_invite(organiser, email="dana@example.com", name="Dana", role="attendee",
                                           organisation="Tangshan Bureau")
    (pending,), _total = invitations.pending(organiser, page=1, per_page=10)
    assert pending.user.id == person.id and pending.mail_status == "queued"
    assert pending.mail.to_address == "dana@example.com"


# ---------------------------------------------------------------- a session inside the 24-hour window


@pytest.fixture
def late_session():
    """At 2026-12-10 04:00 UTC an organiser adds a session starting 3 hours later (07:00 UTC) to a
    published fair that two people registered for."""
    with time_machine.travel(at("2026-12-01T00:00+00:00"), tick=False):
        organiser = make_organiser()
        fair = make_fair(organiser, starts_at=at("2026-12-10T06:00+00:00"), ends_at=at("2026-12-10T13:00+00:00"))
        zh = make_user("attendee", name="赵敏", locale="zh")
        en = make_user("attendee", name="Sun Hao", locale="en")
        for person in (zh, en):
            fairs.register(person, fair.id)
    with time_machine.travel(at("2026-12-10T04:00+00:00"), tick=False):
        agent = make_presenter(name="Klaus Weber", timezone_name="Europe/Berlin", country="DE")
        session = make_session(fair, organiser, title="Wearable diagnostics", presenter_ids=[agent.id],
                               starts_at=at("2026-12-10T07:00+00:00"), ends_at=at("2026-12-10T07:45+00:00"))
    return session


def test_a_session_created_3_hours_ahead_gets_its_24h_reminder_on_the_next_run(app, late_session):
    with time_machine.travel(at("2026-12-10T04:01+00:00"), tick=False):
        results = run_due(app)

    assert results["session_reminders"] == {"sent": 3, "dropped": 0}
    assert _count(Reminder, Reminder.outcome == "dropped") == 0
    assert _count(Notification, Notification.kind == "session_24h") == 3
    titles = set(db.session.scalars(select(Notification.title)))
    assert titles == {"Coming up: Wearable diagnostics", "即将开始：Wearable diagnostics"}
    subjects = sorted(db.session.scalars(select(MailMessage.subject)))
    assert subjects == ["Coming up: Wearable diagnostics", "Coming up: Wearable diagnostics", "即将开始：Wearable diagnostics"]
    assert _count(MailMessage, MailMessage.sent_at.is_not(None)) == 3  # the same run delivered them

    with time_machine.travel(at("2026-12-10T04:02+00:00"), tick=False):
        assert run_due(app)["session_reminders"] == {"sent": 0, "dropped": 0}  # once
    with time_machine.travel(at("2026-12-10T06:46+00:00"), tick=False):
        assert run_due(app)["session_reminders"] == {"sent": 3, "dropped": 0}  # then the 15-minute one


def _one_attendee_at_a_session_at_07_00():
    """A fair on 2026-12-10 from 06:00 UTC with one registered attendee and a session 07:00–07:30 UTC."""
    organiser = make_organiser()
    fair = make_fair(organiser, starts_at=at("2026-12-10T06:00+00:00"), ends_at=at("2026-12-10T13:00+00:00"))
    fairs.register(make_user("attendee"), fair.id)
    make_session(fair, organiser, starts_at=at("2026-12-10T07:00+00:00"), ends_at=at("2026-12-10T07:30+00:00"))


def test_a_session_created_10_minutes_ahead_gets_only_the_15_minute_reminder(app):
    with time_machine.travel(at("2026-12-10T06:50+00:00"), tick=False):
        _one_attendee_at_a_session_at_07_00()
        assert run_due(app)["session_reminders"] == {"sent": 1, "dropped": 1}
    assert _count(Notification, Notification.kind == "session_15m") == 1
    assert _count(Reminder, Reminder.kind == "session_24h", Reminder.outcome == "dropped") == 1


def test_a_reminder_missed_while_the_scheduler_was_down_is_still_dropped(app):
    with time_machine.travel(at("2026-12-01T00:00+00:00"), tick=False):
        _one_attendee_at_a_session_at_07_00()
    with time_machine.travel(at("2026-12-10T04:00+00:00"), tick=False):  # 21 hours late, made long before
        assert run_due(app)["session_reminders"] == {"sent": 0, "dropped": 1}
