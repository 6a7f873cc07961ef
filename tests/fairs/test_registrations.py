"""Registrations, the waiting list and what the fair page says about places, through the services,
the API and the pages, in both languages; the last-place race on PostgreSQL."""

from __future__ import annotations

import re
import threading
from html import unescape

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.errors import Conflict
from app.extensions import db
from app.fairs import services
from app.fairs.models import Fair, Registration
from app.notifications.models import MailMessage, Notification
from tests.conftest import csrf_from
from tests.factories import make_fair, make_organiser, make_user
from tests.i18n import zh


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _status(user, fair) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Registration.status).where(Registration.user_id == user.id,
                                                               Registration.fair_id == fair.id))


@pytest.fixture
def browser(login_as):
    """Each user signed in in a client of their own (tests/conftest.py)."""
    return login_as


# ---------------------------------------------------------------- the API


def test_a_full_fair_answers_201_waitlisted_with_the_position_and_registering_again_changes_nothing(client, auth):
    fair = make_fair(capacity=1)
    first, second, third = (make_user("attendee") for _ in range(3))

    placed = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(first))
    assert placed.status_code == 201
    assert placed.json["status"] == "registered" and placed.json["position"] is None
    assert {"fair_id", "status", "position", "registered_at", "attended_at"} <= set(placed.json)
    assert placed.json["fair_id"] == fair.id and placed.json["attended_at"] is None

    waiting = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(second))
    assert (waiting.status_code, waiting.json["status"], waiting.json["position"]) == (201, "waitlisted", 1)
    behind = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(third))
    assert (behind.status_code, behind.json["status"], behind.json["position"]) == (201, "waitlisted", 2)

    again = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(second))
    assert (again.status_code, again.json["status"], again.json["position"]) == (200, "waitlisted", 1)
    assert again.json["id"] == waiting.json["id"]
    again_placed = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(first))
    assert (again_placed.status_code, again_placed.json["status"]) == (200, "registered")
    assert services.registration_counts(fair.id) == {"registered": 1, "waitlisted": 2, "attended": 0, "walk_ins": 0}


def test_a_full_fair_without_a_waiting_list_answers_409_and_writes_nothing(client, auth):
    fair = make_fair(capacity=1, waitlist=False)
    first, second = make_user("attendee"), make_user("attendee")
    assert client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(first)).status_code == 201

    refused = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(second))

    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "fair_full" and refused.json["error"]["details"]["capacity"] == 1
    assert _count(Registration, Registration.user_id == second.id) == 0


def test_withdrawing_a_place_moves_the_first_waiting_person_up_and_tells_them_in_their_language(client, auth):
    fair = make_fair(capacity=1, title="Hebei–Europe fair")
    holder = make_user("attendee")
    first_waiting = make_user("attendee", locale="zh", name="Li Na")
    second_waiting = make_user("attendee", locale="en")
    for person in (holder, first_waiting, second_waiting):
        services.register(person, fair.id)
    assert _status(first_waiting, fair) == "waitlisted"

    assert client.delete(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(holder)).status_code == 204

    assert _status(holder, fair) == "withdrawn"
    assert _status(first_waiting, fair) == "registered"
    assert _status(second_waiting, fair) == "waitlisted"
    again = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(second_waiting)).json
    assert (again["status"], again["position"]) == ("waitlisted", 1)
    told = db.session.scalars(select(Notification).where(Notification.kind == "waitlist_moved_up")).all()
    assert [n.user_id for n in told] == [first_waiting.id]
    assert told[0].title == "您已获得名额：Hebei–Europe fair" and told[0].link == f"/fairs/{fair.id}"
    mails = db.session.scalars(select(MailMessage)).all()
    assert [m.to_address for m in mails] == [first_waiting.email]
    assert mails[0].subject == "您已获得名额：Hebei–Europe fair"
    assert "候补名单递补" in mails[0].text_body and "候补名单递补" in mails[0].html_body
    assert f"/fairs/{fair.id}" in mails[0].text_body


def test_a_mail_in_english_for_an_english_speaker(client, auth):
    fair = make_fair(capacity=1, title="Canada fair")
    holder, waiting = make_user("attendee"), make_user("attendee", locale="en", timezone="America/Toronto")
    services.register(holder, fair.id)
    services.register(waiting, fair.id)
    services.withdraw(holder, fair.id)
    mail = db.session.scalars(select(MailMessage)).one()
    assert mail.subject == "A place is yours: Canada fair"
    assert "moved up from the waiting list" in mail.text_body
    assert "2026-12-10 02:00 (America/Toronto)" in mail.text_body  # 07:00 UTC in the person's zone


def test_a_waiting_person_withdrawing_leaves_the_list_and_the_others_move_up_a_number(client, auth):
    fair = make_fair(capacity=1)
    holder, leaver, stayer = (make_user("attendee") for _ in range(3))
    for person in (holder, leaver, stayer):
        services.register(person, fair.id)

    assert client.delete(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(leaver)).status_code == 204

    assert (_status(holder, fair), _status(leaver, fair), _status(stayer, fair)) == ("registered", "withdrawn", "waitlisted")
    body = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(stayer)).json
    assert body["position"] == 1
    assert _count(Notification) == 0 and _count(MailMessage) == 0
    assert client.delete(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(leaver)).status_code == 404
    # Asking again puts the person at the end of the list, not back at the old number.
    back = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(leaver)).json
    assert (back["status"], back["position"]) == ("waitlisted", 2)


def test_raising_the_capacity_moves_waiting_people_up_in_order(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser, capacity=1)
    people = [make_user("attendee") for _ in range(4)]
    for person in people:
        services.register(person, fair.id)

    raised = client.patch(f"/api/v1/fairs/{fair.id}", json={"capacity": 2}, headers=auth(organiser))
    assert raised.status_code == 200
    assert [_status(p, fair) for p in people] == ["registered", "registered", "waitlisted", "waitlisted"]
    assert db.session.scalars(select(Notification.user_id)).all() == [people[1].id]

    unlimited = client.patch(f"/api/v1/fairs/{fair.id}", json={"capacity": None}, headers=auth(organiser))
    assert unlimited.status_code == 200
    assert [_status(p, fair) for p in people] == ["registered"] * 4
    assert sorted(db.session.scalars(select(Notification.user_id)).all()) == sorted(p.id for p in people[1:])
    assert _count(MailMessage) == 3


def test_lowering_the_capacity_takes_no_place_away():
    organiser = make_organiser()
    fair = make_fair(organiser, capacity=2)
    a, b, c = (make_user("attendee") for _ in range(3))
    for person in (a, b):
        services.register(person, fair.id)
    services.update_fair(organiser, fair, {"capacity": 1})
    assert (_status(a, fair), _status(b, fair)) == ("registered", "registered")
    registration, created = services.register(c, fair.id)
    assert (registration.status, registration.position, created) == ("waitlisted", 1, True)
    services.withdraw(a, fair.id)  # still 1 of 1 taken: nobody moves up
    assert _status(c, fair) == "waitlisted"


def test_the_waitlist_setting_in_the_api_with_a_clear_422(client, auth):
    organiser = make_organiser()
    created = client.post("/api/v1/fairs", json={
        "title": "Closed list fair", "starts_at": "2026-12-10T15:00:00+08:00", "ends_at": "2026-12-10T18:00:00+08:00",
        "capacity": 40, "waitlist": False}, headers=auth(organiser))
    assert created.status_code == 201 and created.json["waitlist"] is False
    fair_id = created.json["id"]
    assert db.session.get(Fair, fair_id).waitlist is False
    default = client.post("/api/v1/fairs", json={
        "title": "Default fair", "starts_at": "2026-12-10T15:00:00+08:00", "ends_at": "2026-12-10T18:00:00+08:00"},
        headers=auth(organiser))
    assert default.json["waitlist"] is True

    bad = client.patch(f"/api/v1/fairs/{fair_id}", json={"waitlist": "perhaps"}, headers=auth(organiser))
    assert bad.status_code == 422 and "waitlist" in bad.json["error"]["details"]["fields"]
    db.session.expire_all()
    assert db.session.get(Fair, fair_id).waitlist is False
    assert client.patch(f"/api/v1/fairs/{fair_id}", json={"waitlist": True}, headers=auth(organiser)).json["waitlist"] is True


def test_organisers_see_status_position_and_attendance_others_see_nothing(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser, capacity=1)
    holder, waiting, gone = (make_user("attendee") for _ in range(3))
    for person in (holder, waiting, gone):
        services.register(person, fair.id)
    services.withdraw(gone, fair.id)

    body = client.get(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(organiser)).json
    rows = {r["user_id"]: (r["status"], r["position"], r["attended"]) for r in body["items"]}
    assert rows == {holder.id: ("registered", None, False), waiting.id: ("waitlisted", 1, False),
                    gone.id: ("withdrawn", None, False)}
    assert client.get(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(waiting)).status_code == 403
    # Another person's registration shows nowhere in one's own answers.
    mine = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(waiting)).json
    assert mine["user_id"] == waiting.id and holder.name not in str(mine)
    assert services.registration_for(gone, fair) is None
    assert services.registration_for(waiting, fair).user_id == waiting.id


def test_withdrawing_without_a_registration_is_404_and_promotes_nobody(client, auth):
    fair = make_fair(capacity=1)
    holder, waiting, stranger = (make_user("attendee") for _ in range(3))
    services.register(holder, fair.id)
    services.register(waiting, fair.id)
    response = client.delete(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(stranger))
    assert response.status_code == 404
    assert _status(waiting, fair) == "waitlisted" and _count(Notification) == 0


def test_registration_counts_for_one_fair_and_for_all():
    one, two = make_fair(capacity=1), make_fair(capacity=5)
    a, b, c = (make_user("attendee") for _ in range(3))
    services.register(a, one.id)
    services.register(b, one.id)
    services.register(c, two.id)
    db.session.add(Registration(fair_id=two.id, user_id=a.id, status="walk_in",
                                attended_at=one.starts_at))
    db.session.commit()
    assert services.registration_counts(one.id) == {"registered": 1, "waitlisted": 1, "attended": 0, "walk_ins": 0}
    assert services.registration_counts(two.id) == {"registered": 1, "waitlisted": 0, "attended": 1, "walk_ins": 1}
    assert services.registration_counts() == {"registered": 2, "waitlisted": 1, "attended": 1, "walk_ins": 1}


# ---------------------------------------------------------------- pages


def test_a_capacity_one_fair_reads_1_of_1_and_offers_the_waiting_list(browser):
    fair = make_fair(capacity=1)
    holder, next_one = make_user("attendee"), make_user("attendee")
    holder_page = browser(holder)
    holder_page.post(f"/fairs/{fair.id}/register", data={"csrf_token": csrf_from(holder_page.get(f"/fairs/{fair.id}").text)})

    client = browser(next_one)
    page = _text(client.get(f"/fairs/{fair.id}").text)
    assert "1 of 1 places taken. Full — 0 waiting." in page
    assert "Join the waiting list" in page and ">Register<" not in client.get(f"/fairs/{fair.id}").text

    joined = client.post(f"/fairs/{fair.id}/register", data={"csrf_token": csrf_from(client.get(f"/fairs/{fair.id}").text)},
                         follow_redirects=True)
    text = _text(joined.text)
    assert "you are number 1 on the waiting list" in text
    assert "You are number 1 on the waiting list." in text and "Leave the waiting list" in text
    assert "1 of 1 places taken. Full — 1 waiting." in text
    assert "You are registered." in _text(holder_page.get(f"/fairs/{fair.id}").text)

    left = client.post(f"/fairs/{fair.id}/withdraw", data={"csrf_token": csrf_from(client.get(f"/fairs/{fair.id}").text)},
                       follow_redirects=True)
    assert "You left the waiting list." in _text(left.text) and "Join the waiting list" in _text(left.text)


def test_a_full_fair_without_a_list_shows_a_disabled_explained_button(browser):
    fair = make_fair(capacity=1, waitlist=False)
    services.register(make_user("attendee"), fair.id)
    html = browser(make_user("attendee")).get(f"/fairs/{fair.id}").text
    assert re.search(r'<button type="button" class="button" disabled aria-describedby="full-why">Full</button>', html)
    assert "Every place is taken and this fair keeps no waiting list." in html
    assert "Join the waiting list" not in html and "1 of 1 places taken. Full." in _text(html)


def test_a_waiting_person_sees_their_number_in_chinese(browser):
    fair = make_fair(capacity=1)
    services.register(make_user("attendee"), fair.id)
    services.register(make_user("attendee"), fair.id)
    me = make_user("attendee", locale="zh")
    services.register(me, fair.id)
    page = _text(browser(me).get(f"/fairs/{fair.id}").text)
    assert zh("You are number %(position)d on the waiting list.", position=2) in page
    assert zh("%(taken)d of %(capacity)d places taken.", taken=1, capacity=1) in page
    assert "已满，候补 2 人。" in page and zh("Leave the waiting list") in page

    other = make_user("attendee", locale="zh")
    other_page = _text(browser(other).get(f"/fairs/{fair.id}").text)
    assert zh("Join the waiting list") in other_page and "候补名单第" not in other_page


def test_the_organisers_list_page_in_both_languages(browser):
    organiser = make_organiser(locale="zh")
    fair = make_fair(organiser, capacity=1)
    holder = make_user("attendee", name="Zhao Min")
    waiting = make_user("attendee", name="Zhou Qiang")
    services.register(holder, fair.id)
    services.register(waiting, fair.id)
    page = _text(browser(organiser).get(f"/fairs/{fair.id}/registrations").text)
    assert "Zhao Min" in page and "Zhou Qiang" in page
    assert f"{zh('on the waiting list')} ({zh('number %(position)d', position=1)})" in page
    assert zh("%(num)d waiting.", num=1) in page or "候补 1 人。" in page
    english = _text(browser(make_organiser()).get(f"/fairs/{fair.id}/registrations").text)
    assert "on the waiting list (number 1)" in english and "1 of 1 places taken." in english
    fair_page = _text(browser(make_organiser()).get(f"/fairs/{fair.id}").text)
    assert "1 registered, 1 waiting, 0 attended (0 walk-ins)" in fair_page


def test_the_fair_form_keeps_the_waiting_list_setting(browser):
    organiser = make_organiser()
    fair = make_fair(organiser, capacity=10)
    client = browser(organiser)
    form = client.get(f"/fairs/{fair.id}/edit").text
    assert re.search(r'<input checked id="waitlist" name="waitlist" type="checkbox" value="y">', form)
    data = {"csrf_token": csrf_from(form), "title": fair.title, "timezone": "Asia/Shanghai",
            "starts_at": "2026-12-10T15:00", "ends_at": "2026-12-10T21:00", "capacity": "10", "tracks": "main, cities"}
    assert client.post(f"/fairs/{fair.id}/edit", data=data).status_code == 302  # the box left unticked
    db.session.expire_all()
    assert db.session.get(Fair, fair.id).waitlist is False
    assert 'checked id="waitlist"' not in client.get(f"/fairs/{fair.id}/edit").text


# ---------------------------------------------------------------- the last place, raced


def _race(app, fair_id: int, user_ids: list[int]) -> list:
    barrier = threading.Barrier(len(user_ids))
    outcomes: list = []
    lock = threading.Lock()

    def worker(user_id: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                registration, _ = services.register(user, fair_id)
                result = registration.status
            except Conflict as exc:
                result = exc.code
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def _needs_postgresql():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite in memory serialises everything")


def test_concurrent_registrations_never_overfill_a_fair_on_postgresql(app):
    _needs_postgresql()
    fair = make_fair(capacity=3)
    ids = [make_user("attendee").id for _ in range(8)]
    outcomes = _race(app, fair.id, ids)
    assert sorted(outcomes) == ["registered"] * 3 + ["waitlisted"] * 5
    db.session.expire_all()
    waiting = db.session.scalars(select(Registration).where(Registration.status == "waitlisted")).all()
    assert sorted(services.waitlist_position(r) for r in waiting) == [1, 2, 3, 4, 5]


def test_concurrent_registrations_without_a_list_refuse_the_rest_on_postgresql(app):
    _needs_postgresql()
    fair = make_fair(capacity=2, waitlist=False)
    ids = [make_user("attendee").id for _ in range(6)]
    outcomes = _race(app, fair.id, ids)
    assert sorted(outcomes) == ["fair_full"] * 4 + ["registered"] * 2
    assert _count(Registration) == 2


# ---------------------------------------------------------------- what follows from a status


def test_the_person_who_moves_up_hears_it_live(monkeypatch):
    from app.live import broadcast

    heard = []

    def push(row):
        heard.append((row.user_id, row.kind, row.id is not None))

    monkeypatch.setattr(broadcast, "send_notification", push)
    fair = make_fair(capacity=1)
    holder, waiting = make_user("attendee"), make_user("attendee")
    services.register(holder, fair.id)
    services.register(waiting, fair.id)
    assert heard == []
    services.withdraw(holder, fair.id)
    assert heard == [(waiting.id, "waitlist_moved_up", True)]


def test_session_reminders_and_calendars_go_to_places_not_to_the_waiting_list():
    from datetime import timedelta

    from app.notifications.reminders import session_reminders
    from tests.factories import make_session

    organiser = make_organiser()
    fair = make_fair(organiser, capacity=1)
    session = make_session(fair, organiser)
    holder, waiting = make_user("attendee"), make_user("attendee")
    services.register(holder, fair.id)
    services.register(waiting, fair.id)
    session_reminders(session.starts_at - timedelta(hours=23, minutes=59))
    assert db.session.scalars(select(Notification.user_id).where(Notification.kind == "session_24h")).all() == [holder.id]
    assert [f.id for f in services.registered_fairs(holder)] == [fair.id]
    assert services.registered_fairs(waiting) == []
