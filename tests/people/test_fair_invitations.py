"""Invite from suggestions: the chosen organisations' people get a mail in their language with the
agenda and a register link; the page tracks sent / opened / registered."""

from __future__ import annotations

import re

from app.extensions import db
from app.fairs import services as fairs
from app.people.models import FairInvitation
from tests.conftest import count, csrf_from, mails_to
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user


def setup_world():
    organiser = make_organiser()
    presenter = make_presenter()
    fair = make_fair(organiser, title="Europe fair")
    project = make_project(presenter, title="Membrane water treatment")
    session = make_session(fair, organiser, presenter_ids=[presenter.id])
    fairs.update_session(organiser, session, {"project_ids": [project.id]})
    zh_person = make_user("attendee", organisation="Baoding Commerce Bureau", locale="zh", timezone="Asia/Shanghai")
    en_person = make_user("attendee", organisation="Baoding Commerce Bureau", locale="en", timezone="Europe/Berlin")
    org = zh_person.organisation
    org.demand_sectors = [project.sector]
    other = make_user("attendee", organisation="Cangzhou Commerce Bureau")
    db.session.commit()
    return organiser, fair, session, org, zh_person, en_person, other


def link(message) -> str:
    found = re.findall(r"https?://[^\s\"<>]+(/fairs/invitation/[A-Za-z0-9_-]+)", message.text_body)
    assert found, message.text_body
    return found[0]


def test_inviting_mails_each_person_in_their_language_with_the_agenda(client, auth):
    organiser, fair, session, org, zh_person, en_person, other = setup_world()

    response = client.post(f"/api/v1/sessions/{session.id}/invitations", json={"organisation_ids": [org.id]},
                           headers=auth(organiser))

    assert response.status_code == 201, response.text
    assert sorted(i["user_id"] for i in response.get_json()["sent"]) == [zh_person.id, en_person.id]
    [zh_mail], [en_mail] = mails_to(zh_person.email), mails_to(en_person.email)
    assert zh_mail.subject.startswith("诚邀参加") and "议程" in zh_mail.text_body and "请点击以下链接报名" in zh_mail.text_body
    assert en_mail.subject.startswith("You are invited") and "Agenda (your time, Europe/Berlin)" in en_mail.text_body
    assert mails_to(other.email) == []


def test_the_link_marks_opened_and_a_registration_counts_as_registered(client, auth):
    organiser, fair, session, org, zh_person, en_person, other = setup_world()
    client.post(f"/api/v1/sessions/{session.id}/invitations", json={"organisation_ids": [org.id]}, headers=auth(organiser))

    opened = client.get(link(mails_to(zh_person.email)[0]))
    fairs.register(en_person, fair.id)

    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/fairs/{fair.id}")
    items = {i["user_id"]: i["status"] for i in
             client.get(f"/api/v1/fairs/{fair.id}/invitations", headers=auth(organiser)).get_json()["items"]}
    assert items == {zh_person.id: "opened", en_person.id: "registered"}
    assert client.get("/fairs/invitation/not-a-real-token").status_code == 404


def test_nobody_is_mailed_twice_and_registered_people_are_skipped(client, auth):
    organiser, fair, session, org, zh_person, en_person, other = setup_world()
    fairs.register(en_person, fair.id)
    client.post(f"/api/v1/sessions/{session.id}/invitations", json={"organisation_ids": [org.id]}, headers=auth(organiser))

    again = client.post(f"/api/v1/sessions/{session.id}/invitations", json={"organisation_ids": [org.id]},
                        headers=auth(organiser))

    assert again.status_code == 201 and again.get_json()["sent"] == []
    assert len(mails_to(zh_person.email)) == 1 and mails_to(en_person.email) == []
    assert count(FairInvitation) == 1


def test_bad_input_is_refused_and_nothing_sent(client, auth):
    organiser, fair, session, org, zh_person, en_person, other = setup_world()
    agency = organiser.organisation_id

    for body in ({"organisation_ids": []}, {"organisation_ids": [99999]}, {"organisation_ids": [agency]},
                 {"organisation_ids": [org.id, org.id]}, {"organisation_ids": "x"}):
        response = client.post(f"/api/v1/sessions/{session.id}/invitations", json=body, headers=auth(organiser))
        assert response.status_code == 422, (body, response.text)
    assert count(FairInvitation) == 0 and mails_to(zh_person.email) == []


def test_a_draft_fair_cannot_be_invited_to(client, auth):
    organiser = make_organiser()
    draft = make_fair(organiser, title="Draft", publish=False)
    session = make_session(draft, organiser)
    person = make_user("attendee", organisation="Baoding Commerce Bureau")

    response = client.post(f"/api/v1/sessions/{session.id}/invitations",
                           json={"organisation_ids": [person.organisation_id]}, headers=auth(organiser))

    assert response.status_code == 409 and count(FairInvitation) == 0


def test_only_organisers_invite_or_see_the_tracking(client, auth):
    organiser, fair, session, org, zh_person, en_person, other = setup_world()

    assert client.post(f"/api/v1/sessions/{session.id}/invitations", json={"organisation_ids": [org.id]},
                       headers=auth(other)).status_code == 403
    assert client.get(f"/api/v1/fairs/{fair.id}/invitations", headers=auth(other)).status_code == 403
    assert count(FairInvitation) == 0


def test_the_suggestions_page_invites_the_ticked_organisations_and_shows_the_tracking(app, login_as):
    organiser, fair, session, org, zh_person, en_person, other = setup_world()
    browser = login_as(organiser)
    page = browser.get(f"/sessions/{session.id}/invitees")
    assert page.status_code == 200 and f'value="{org.id}"' in page.text

    done = browser.post(f"/sessions/{session.id}/invitees/invite",
                        data={"organisation_ids": [str(org.id)], "csrf_token": csrf_from(page.text)})

    assert done.status_code == 302
    after = browser.get(f"/sessions/{session.id}/invitees")
    row = re.search(rf'id="invitee-{org.id}".*?</tr>', after.text, re.S).group(0)
    assert "2 / 0 / 0" in row
    assert count(FairInvitation) == 2
