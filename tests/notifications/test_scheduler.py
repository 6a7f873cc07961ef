"""Scheduled work with time under control (time-machine) and mail read back from a real SMTP
server started by the test (aiosmtpd): reminders once, on time, in each person's language."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db, socketio
from app.fairs import series as series_service
from app.fairs import services as fairs
from app.fairs.models import Fair, FairSession
from app.jobs import run_due
from app.leads import services as lead_services
from app.leads.services import record_interest
from app.mail import deliver_due
from app.notifications import reminders
from app.notifications.models import MailMessage, Notification, Reminder
from tests.conftest import at_once, free_port, smtp_server
from tests.factories import at, make_fair, make_organiser, make_presenter, make_project, make_session, make_user

UTC = timezone.utc


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def fair_day():
    """A published fair on 2026-12-10 with a pitch at 15:00 Beijing (07:00 UTC)."""
    organiser = make_organiser()
    agent = make_presenter(name="Klaus Weber", timezone_name="Europe/Berlin", country="DE")
    fair = make_fair(organiser, starts_at=at("2026-12-10T07:00+00:00"), ends_at=at("2026-12-10T13:00+00:00"))
    session = make_session(fair, organiser, title="Wearable diagnostics", presenter_ids=[agent.id],
                           starts_at=at("2026-12-10T07:00+00:00"), ends_at=at("2026-12-10T07:45+00:00"))
    zh = make_user("attendee", name="赵敏", organisation="石家庄市商务局", locale="zh")
    en = make_user("attendee", name="Sun Hao", organisation="Zhangjiakou Park", locale="en", timezone="Asia/Shanghai")
    for person in (zh, en):
        fairs.register(person, fair.id)
    return {"organiser": organiser, "agent": agent, "fair": fair, "session": session, "zh": zh, "en": en}


# ---------------------------------------------------------------- session reminders


def test_24h_and_15m_reminders_go_out_once_in_each_language_and_zone(app, smtp, fair_day):
    with time_machine.travel(at("2026-12-09T07:00:30+00:00"), tick=False):
        first = reminders.session_reminders()
        again = reminders.session_reminders()
        deliver_due()
    assert first == {"sent": 3, "dropped": 0} and again == {"sent": 0, "dropped": 0}
    assert _count(Notification, Notification.kind == "session_24h") == 3
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == ["Tomorrow: Wearable diagnostics", "Tomorrow: Wearable diagnostics", "明天开始：Wearable diagnostics"]
    to_agent = next(m for m in smtp.messages if m["To"] == fair_day["agent"].email)
    body = to_agent.get_body(("plain",)).get_content()
    assert "2026-12-10 08:00 (Europe/Berlin)" in body  # the presenter's own zone
    assert "/sessions/" in body and ".ics" in body
    assert any(part.get_content_type() == "text/calendar" for part in to_agent.iter_attachments())
    zh_mail = next(m for m in smtp.messages if m["To"] == fair_day["zh"].email)
    assert "2026-12-10 15:00 (Asia/Shanghai)" in zh_mail.get_body(("plain",)).get_content()

    with time_machine.travel(at("2026-12-10T06:46+00:00"), tick=False):
        assert reminders.session_reminders() == {"sent": 3, "dropped": 0}
        deliver_due()
    assert len(smtp.messages) == 6
    assert "15分钟后开始：Wearable diagnostics" in [m["Subject"] for m in smtp.messages]


def test_a_reminder_due_while_down_is_sent_within_the_grace_period_and_dropped_after(app, fair_day, caplog):
    app.config["REMINDER_GRACE_MINUTES"] = 60
    with time_machine.travel(at("2026-12-09T07:40+00:00"), tick=False):  # 40 minutes late: still sent
        assert reminders.session_reminders() == {"sent": 3, "dropped": 0}
    with caplog.at_level(logging.WARNING), time_machine.travel(at("2026-12-10T07:10+00:00"), tick=False):
        # the session has started: its 15-minute reminder is dropped, and logged
        assert reminders.session_reminders() == {"sent": 0, "dropped": 3}
    assert _count(Notification, Notification.kind == "session_15m") == 0
    assert _count(Reminder, Reminder.outcome == "dropped") == 3
    assert "Dropped reminder session:" in caplog.text


def test_run_due_twice_sends_once(app, smtp, fair_day):
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        run_due(app)
        run_due(app)
    assert _count(Notification, Notification.kind == "session_24h") == 3
    assert len(smtp.messages) == 3


def test_a_crash_between_claiming_and_sending_sends_once_after_the_restart(app, smtp, fair_day):
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        reminders.session_reminders()  # claimed, notified and queued in one transaction ...
    # ... and the process dies before the mail leaves: nothing was sent
    assert len(smtp.messages) == 0 and _count(MailMessage, MailMessage.sent_at.is_(None)) == 3
    with time_machine.travel(at("2026-12-09T07:06+00:00"), tick=False):  # the restart
        run_due(app)
        run_due(app)
    assert len(smtp.messages) == 3
    assert _count(Notification, Notification.kind == "session_24h") == 3


def test_failed_mail_is_retried_with_back_off_and_does_not_block_the_rest(app, fair_day):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listening
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        reminders.session_reminders()
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 3}
        assert deliver_due() == {"sent": 0, "failed": 0, "retry": 0}  # waiting for its next attempt
    row = db.session.scalars(select(MailMessage)).first()
    assert row.attempts == 1 and row.next_attempt_at == at("2026-12-09T07:06+00:00") and row.last_error

    with smtp_server() as (inbox, port):
        app.config["SMTP_PORT"] = port
        with time_machine.travel(at("2026-12-09T07:07+00:00"), tick=False):
            assert deliver_due()["sent"] == 3
    assert len(inbox.messages) == 3


def test_without_smtp_mail_is_logged(app, fair_day, caplog):
    app.config["SMTP_HOST"] = None
    with caplog.at_level(logging.INFO), time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        reminders.session_reminders()
        assert deliver_due()["sent"] == 3
    assert "Mail (no SMTP_HOST set)" in caplog.text


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="two schedulers at once need PostgreSQL (set TEST_DATABASE_URL)")
def test_two_schedulers_by_mistake_send_once(app, fair_day):

    def scheduler():
        with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
            reminders.session_reminders()

    _, errors = at_once(app, 2, scheduler)
    assert errors == []
    assert _count(Notification, Notification.kind == "session_24h") == 3
    assert _count(MailMessage) == 3


# ---------------------------------------------------------------- leads and reports


def test_stalled_and_overdue_leads_remind_their_owner_once(app, smtp):
    organiser = make_organiser()
    agent = make_presenter()
    project = make_project(agent, title="Ice-rink blanket")
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    owner = make_user("attendee", organisation="Zhangjiakou Commerce Bureau", locale="zh")
    with time_machine.travel(at("2026-11-01T02:00+00:00"), tick=False):
        interest, _ = record_interest(owner, session, {"project_id": project.id, "level": "info",
                                                       "client_id": "stall-000001"})
        db.session.commit()
        lead_services.progress(owner, interest.lead_id, {"note": "Called", "next_action_on": "2026-11-10"})
    with time_machine.travel(at("2026-11-20T02:00+00:00"), tick=False):
        assert reminders.lead_reminders() == {"stalled": 1, "next_action": 1}
        assert reminders.lead_reminders() == {"stalled": 0, "next_action": 0}
        deliver_due()
    assert sorted(m["Subject"] for m in smtp.messages) == ["下一步行动已到期：Ice-rink blanket", "项目久无进展：Ice-rink blanket"]


def test_report_requests_go_out_on_the_first_working_day_once(app):
    organiser = make_organiser()
    agent = make_presenter()
    project = make_project(agent)
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    person = make_user("attendee", organisation="Tangshan Commerce Bureau")
    record_interest(person, session, {"project_id": project.id, "level": "info", "client_id": "report-0000001"})
    db.session.commit()
    with time_machine.travel(at("2027-05-01T02:00+00:00"), tick=False):  # a Saturday
        assert reminders.report_requests() == {"asked": 0}
    with time_machine.travel(at("2027-05-03T02:00+00:00"), tick=False):  # Monday, the first working day
        assert reminders.report_requests() == {"asked": 1}
        assert reminders.report_requests() == {"asked": 0}
    with time_machine.travel(at("2027-05-04T02:00+00:00"), tick=False):
        assert reminders.report_requests() == {"asked": 0}


def test_statuses_flip_at_their_times(app):
    organiser = make_organiser()
    fair = make_fair(organiser, starts_at=at("2026-12-10T07:00+00:00"), ends_at=at("2026-12-10T09:00+00:00"))
    session = make_session(fair, organiser, starts_at=fair.starts_at, ends_at=fair.starts_at + timedelta(minutes=30))
    with time_machine.travel(at("2026-12-10T07:10+00:00"), tick=False):
        reminders.flip_statuses()
    db.session.refresh(fair)
    db.session.refresh(session)
    assert (fair.status, session.status) == ("live", "live")
    with time_machine.travel(at("2026-12-10T09:00+00:00"), tick=False):
        reminders.flip_statuses()
    db.session.refresh(fair)
    db.session.refresh(session)
    assert (fair.status, session.status) == ("closed", "ended")


def test_notifications_are_delivered_live_to_a_connected_person(app, auth, fair_day):
    client = socketio.test_client(app, namespace="/live", auth={"token": auth(fair_day["zh"])["Authorization"][7:]})
    assert client.is_connected("/live")
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        reminders.session_reminders()
    received = [m for m in client.get_received("/live") if m["name"] == "notification"]
    assert len(received) == 1 and received[0]["args"][0]["kind"] == "session_24h"
    client.disconnect(namespace="/live")


def test_heartbeat_shows_in_healthz(app, client):
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        run_due(app)
    assert client.get("/healthz").json["scheduler"]["last_heartbeat"].startswith("2026-12-09T07:05")


def test_healthz_says_a_fresh_heartbeat_is_ok_and_an_old_one_stale(app, client):
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        run_due(app)
    with time_machine.travel(at("2026-12-09T07:06+00:00"), tick=False):
        fresh = client.get("/healthz")
    with time_machine.travel(at("2026-12-09T07:15+00:00"), tick=False):
        stale = client.get("/healthz")

    assert fresh.status_code == 200 and stale.status_code == 200  # the pages work without a scheduler
    assert (fresh.json["scheduler"]["status"], fresh.json["scheduler"]["age_seconds"]) == ("ok", 60)
    assert (stale.json["scheduler"]["status"], stale.json["scheduler"]["age_seconds"]) == ("stale", 600)
    assert fresh.json["scheduler"]["in_process"] is False


def test_flask_scheduler_run_due(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "--run-due"])
    assert result.exit_code == 0, result.output
    assert "heartbeat:" in result.output and "session_reminders:" in result.output


# ---------------------------------------------------------------- series


SERIES = {
    "title": "Cloud investment fair", "timezone": "Asia/Shanghai", "rrule": "FREQ=MONTHLY;BYDAY=2TH",
    "local_start": "15:00", "minutes": 240, "starts_on": "2027-01-01",
    "themes": [
        {"theme": "Europe: new materials", "focus_countries": ["DE", "BE"], "focus_sectors": ["new_materials"]},
        {"theme": "North America: health", "focus_countries": ["US", "CA"], "focus_sectors": ["biomedicine_health"]},
        {"theme": "Europe: energy saving", "focus_countries": ["DE", "NL"], "focus_sectors": ["energy_saving_environment"]},
    ],
}


@pytest.mark.parametrize("change, field", [
    ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
    ({"rrule": "FREQ=MINUTELY"}, "rrule"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"local_start": "25:00"}, "local_start"),
    ({"themes": []}, "themes"),
    ({"themes": [{"theme": "X", "focus_countries": ["XX"], "focus_sectors": []}]}, "themes[0].focus_countries"),
])
def test_bad_series_are_422_naming_the_field(client, auth, change, field):
    response = client.post("/api/v1/series", json={**SERIES, **change}, headers=auth(make_organiser()))
    assert response.status_code == 422 and field in response.json["error"]["details"]["fields"]


def test_series_makes_three_months_of_drafts_once_with_rotating_themes(app, client, auth):
    organiser = make_organiser()
    with time_machine.travel(at("2027-01-05T00:00+00:00"), tick=False):
        made = client.post("/api/v1/series", json=SERIES, headers=auth(organiser))
        assert made.status_code == 201, made.get_data(as_text=True)[:600]
        first = series_service.make_due_fairs()
        second = series_service.make_due_fairs()
    assert [(f.series_occurrence, f.theme, f.status) for f in first] == [
        ("2027-01-14", "Europe: new materials", "draft"),
        ("2027-02-11", "North America: health", "draft"),
        ("2027-03-11", "Europe: energy saving", "draft"),
    ]
    assert second == [] and _count(Fair) == 3
    assert first[0].starts_at == at("2027-01-14T07:00+00:00")
    shown = client.get(f"/api/v1/series/{made.json['id']}", headers=auth(organiser)).json
    assert [f["occurrence"] for f in shown["fairs"]] == ["2027-01-14", "2027-02-11", "2027-03-11"]


def test_series_warns_when_daylight_saving_moves_the_local_time_there(client, auth):
    organiser = make_organiser()
    with time_machine.travel(at("2027-02-01T00:00+00:00"), tick=False):
        body = client.post("/api/v1/series", json={**SERIES, "themes": [SERIES["themes"][0]]},
                           headers=auth(organiser)).json
    berlin = [w for w in body["dst_warnings"] if w["zone"] == "Europe/Berlin"]
    # 11 March 15:00 Beijing is 08:00 in Berlin; 8 April (after the last Sunday of March) it is 09:00
    assert berlin[0] == {"date": "2027-04-08", "country": "DE", "zone": "Europe/Berlin",
                         "local_time": "09:00", "previous_local_time": "08:00"}
    march = next(c for c in body["coming"] if c["date"] == "2027-03-11")
    assert {"country": "DE", "zone": "Europe/Berlin", "local_start": "2027-03-11T08:00:00+01:00"} in march["focus"]
    assert all(w["zone"] != "Asia/Shanghai" for w in body["dst_warnings"])  # China does not shift


def test_in_app_reminders_speak_each_persons_language(app, fair_day):
    with time_machine.travel(at("2026-12-09T07:05+00:00"), tick=False):
        reminders.session_reminders()
    titles = {n.user_id: n.title for n in db.session.scalars(select(Notification))}
    assert titles[fair_day["zh"].id] == "24小时后开始：Wearable diagnostics"
    assert titles[fair_day["en"].id] == "Starting in 24 hours: Wearable diagnostics"
    assert titles[fair_day["zh"].id] != titles[fair_day["en"].id]


def test_the_scheduler_process_runs_every_job_at_start(app, tmp_path):
    import time

    from app.core.models import Heartbeat
    from app.jobs import JOBS, make_scheduler

    app.config["SCHEDULER_JOBSTORE_URL"] = f"sqlite:///{tmp_path / 'jobs.db'}"
    scheduler = make_scheduler(app, background=True)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(job.id for job in JOBS)
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and db.session.get(Heartbeat, "scheduler") is None:
            db.session.expire_all()
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert db.session.get(Heartbeat, "scheduler") is not None
