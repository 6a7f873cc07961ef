"""In-app notifications are written in both languages when they happen (the row they tell about may
change or vanish later): the API gives `title_i18n`/`body_i18n` and the reader's language, the page
the reader's language with the other marked; nobody else sees them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.fairs import services as fairs
from app.leads.services import record_interest
from app.notifications.models import Notification
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.i18n import zh

FAIR_I18N = {"zh": "2027年1月云招商", "en": "Jan 2027 cloud fair"}


def _moved_up(locale="zh"):
    fair = make_fair(capacity=1, title=None, title_i18n=FAIR_I18N)
    holder, waiting = make_user("attendee"), make_user("attendee", locale=locale)
    fairs.register(holder, fair.id)
    fairs.register(waiting, fair.id)
    fairs.withdraw(holder, fair.id)
    return waiting, db.session.scalars(select(Notification).where(Notification.user_id == waiting.id)).one()


def test_a_moved_up_notification_is_stored_in_both_languages(app):
    waiting, row = _moved_up("zh")

    assert row.title_zh == zh("A place is yours: %(fair)s", fair=FAIR_I18N["zh"])
    assert row.title_en == f"A place is yours: {FAIR_I18N['en']}"
    assert row.title == row.title_zh  # the person's language
    assert row.body_zh and row.body_en and row.body_zh != row.body_en


def test_api_gives_the_notification_in_both_languages_and_in_the_readers(client, auth):
    waiting, row = _moved_up("zh")
    fair_title = FAIR_I18N["en"]
    # The fair is renamed afterwards: the notification keeps what it said.
    db.session.execute(db.text("UPDATE fairs SET title_en = 'Renamed'"))
    db.session.commit()

    in_en = client.get("/api/v1/notifications?lang=en", headers=auth(waiting)).json["items"][0]
    in_zh = client.get("/api/v1/notifications?lang=zh", headers=auth(waiting)).json["items"][0]
    other = client.get("/api/v1/notifications", headers=auth(make_user("attendee"))).json

    assert in_en["title"] == f"A place is yours: {fair_title}"
    assert in_zh["title"] == row.title_zh
    assert in_en["title_i18n"] == in_zh["title_i18n"] == {"zh": row.title_zh, "en": row.title_en}
    assert in_en["body_i18n"]["en"] and in_en["body_i18n"]["zh"]
    assert other["items"] == [] and other["total"] == 0  # another person sees nothing of it


def test_page_shows_the_readers_language_and_marks_a_one_language_notification(login_as):
    person = make_user("attendee", locale="en")
    db.session.add(Notification(user_id=person.id, kind="note", title="河北来信", title_zh="河北来信"))  # an older row
    db.session.commit()
    waiting, row = _moved_up("en")

    page = login_as(person).get("/notifications").text
    own = login_as(waiting).get("/notifications").text

    assert ('<span lang="zh-Hans">河北来信</span> <small class="fallback-mark" '
            'title="Not available in your language">(in Chinese)</small>') in page
    assert f"A place is yours: {FAIR_I18N['en']}" in own and "河北来信" not in own


def test_an_interest_tells_organisers_in_both_languages():
    organiser = make_organiser(locale="zh")
    agent = make_presenter(name="Petr Novak", country="CZ")
    rink = make_project(agent, title="Ice-rink blanket", sector="ice_snow", country="CZ",
                        investment_amount=Decimal("12000000"), currency="EUR")
    rink.title_zh, rink.title_en = "移动冰场保温毯", "Ice-rink blanket"
    fair = make_fair(organiser)
    session = make_session(fair, organiser, title=None, title_i18n={"zh": "冬季推介", "en": "Winter pitch"},
                           presenter_ids=[agent.id], project_ids=[rink.id])
    city = make_user("attendee", organisation="Baoding Commerce Bureau")
    city.organisation.name_zh, city.organisation.name_en = "保定市商务局", "Baoding Commerce Bureau"
    db.session.commit()

    record_interest(city, session, {"project_id": rink.id, "level": "meeting", "client_id": "n-i18n-00001"})
    db.session.commit()

    told = db.session.scalars(select(Notification).where(Notification.user_id == organiser.id)).one()
    assert "保定市商务局" in told.body_zh and "移动冰场保温毯" in told.body_zh
    assert "Baoding Commerce Bureau" in told.body_en and "Ice-rink blanket" in told.body_en
    assert told.title_en == "A new interest in “Winter pitch”" and told.title_zh
    assert told.title == told.title_zh  # the organiser reads Chinese
    owner = db.session.scalars(select(Notification).where(Notification.user_id == agent.id)).one()
    assert "保定市商务局" in owner.title_zh and "移动冰场保温毯" in owner.title_zh
    assert "Baoding Commerce Bureau" in owner.title_en and "Ice-rink blanket" in owner.title_en
