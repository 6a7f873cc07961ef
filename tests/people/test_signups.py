"""Self sign-up: a person asks for an account, confirms the address by mail, an organiser approves
(account, organisation, registration for the fair, a link to set the password) or declines; either
way the person is mailed in their language. Same answer for known addresses; rate-limited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import Organisation, User
from app.extensions import db
from app.fairs.models import Registration
from app.mail import deliver_due
from app.people import signups
from app.notifications.models import Notification
from app.people.models import SignupRequest
from tests.conftest import count, csrf_from, mails_to, token_in
from tests.factories import make_fair, make_organiser, make_user

NEW_PASSWORD = "a fresh long passphrase"

NEW_ORG = {"name": "王芳", "email": "wang.fang@example.cn", "organisation": "保定市新材料产业园",
           "kind": "park", "division": "130600", "locale": "zh"}


def ask(client, **overrides):
    return client.post("/api/v1/signup", json={**NEW_ORG, **overrides})


def confirm_link(address: str) -> str:
    return token_in(mails_to(address)[-1], "signup/confirm")


def confirmed(client, **overrides) -> SignupRequest:
    assert ask(client, **overrides).status_code == 202
    address = overrides.get("email", NEW_ORG["email"])
    assert client.post(f"/api/v1/signup/confirm/{confirm_link(address)}").status_code == 200
    return db.session.scalar(select(SignupRequest).where(SignupRequest.email == address))


# ---------------------------------------------------------------- asking and confirming


def test_asking_mails_a_confirmation_link_and_nothing_is_in_the_queue_before_it_is_opened(client, auth):
    organiser = make_organiser()

    response = ask(client)

    assert response.status_code == 202
    [message] = mails_to("wang.fang@example.cn")
    assert message.subject == "请确认您在云招商 CloudFair 的邮箱" and "保定市新材料产业园" in message.text_body
    queue = client.get("/api/v1/signups", headers=auth(organiser)).get_json()
    assert queue["total"] == 0
    assert count(User, User.email == "wang.fang@example.cn") == 0


def test_the_confirmation_page_asks_for_a_click_and_then_the_request_waits(client, auth):
    organiser = make_organiser()
    ask(client)
    token = confirm_link("wang.fang@example.cn")

    page = client.get(f"/signup/confirm/{token}")
    assert page.status_code == 200
    assert db.session.scalar(select(SignupRequest.status)) == "unconfirmed"  # opening the link is not enough
    done = client.post(f"/signup/confirm/{token}", data={"csrf_token": csrf_from(page.text)})

    assert done.status_code == 200 and 'id="signup-waiting"' in done.text
    [item] = client.get("/api/v1/signups", headers=auth(organiser)).get_json()["items"]
    assert item["status"] == "pending" and item["organisation_name"] == "保定市新材料产业园"
    assert item["organisation_id"] is None and item["division"] == "130600"
    assert client.get(f"/signup/confirm/{token}").status_code == 404  # used


def test_an_existing_organisation_is_found_by_its_name_in_either_language(client):
    org = Organisation(name="Shijiazhuang Commerce Bureau", name_zh="石家庄市商务局", name_en="Shijiazhuang Commerce Bureau",
                       kind="city_bureau", country="CN", demand_sectors=[], demand_countries=[], demand_note="", aliases=[])
    db.session.add(org)
    db.session.commit()

    assert ask(client, organisation=" 石家庄市商务局 ", kind=None, division=None).status_code == 202

    signup = db.session.scalar(select(SignupRequest))
    assert signup.organisation_id == org.id and signup.division_code is None


@pytest.mark.parametrize("overrides, field", [
    ({"email": "not an address"}, "email"),
    ({"name": "   "}, "name"),
    ({"organisation": ""}, "organisation"),
    ({"kind": None}, "kind"),
    ({"division": "999999"}, "division"),
    ({"fair_id": 99999}, "fair_id"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(client, overrides, field):
    response = ask(client, **overrides)

    assert response.status_code == 422, response.text
    assert field in response.get_json()["error"]["details"]["fields"]
    assert count(SignupRequest) == 0 and mails_to(overrides.get("email", NEW_ORG["email"])) == []


def test_the_agency_is_not_signed_up_for(client):
    make_organiser(organisation="CloudFair Agency")

    response = ask(client, organisation="CloudFair Agency")

    assert response.status_code == 422 and "organisation" in response.get_json()["error"]["details"]["fields"]


def test_a_known_address_gets_the_same_answer_and_a_mail_saying_so_not_a_second_account(client):
    user = make_user("attendee", email="known@example.org", locale="en")
    unknown = ask(client, email="someone.new@example.org")

    known = ask(client, email="Known@example.org")

    assert known.status_code == unknown.status_code == 202 and known.get_json() == unknown.get_json()
    [message] = mails_to("known@example.org")
    assert message.subject == "You already have a CloudFair account" and "/password-reset" in message.text_body
    assert count(SignupRequest, SignupRequest.email == "known@example.org") == 0
    assert user.password_hash


# ---------------------------------------------------------------- deciding


def test_approval_makes_the_organisation_and_account_registers_for_the_fair_and_mails_a_password_link(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser, title="Europe fair")
    signup = confirmed(client, fair_id=fair.id, locale="en")

    response = client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"}, headers=auth(organiser))

    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["status"] == "approved" and body["registration"] == "registered"
    user = db.session.get(User, body["user_id"])
    assert user.role == "attendee" and user.password_hash is None and user.locale == "en"
    org = user.organisation
    assert (org.name, org.kind, org.division_code, org.country) == ("保定市新材料产业园", "park", "130600", "CN")
    assert count(Registration, Registration.user_id == user.id, Registration.fair_id == fair.id) == 1
    message = mails_to("wang.fang@example.cn")[-1]
    assert message.subject == "Your CloudFair account is approved" and "You are registered for" in message.text_body
    token = token_in(message, "invitations")
    assert client.post(f"/api/v1/invitations/{token}", json={"password": NEW_PASSWORD}).status_code == 200
    assert client.post("/api/v1/auth/token", json={"email": user.email, "password": NEW_PASSWORD}).status_code == 201


def test_decline_mails_the_note_in_the_persons_language_and_makes_nothing(client, auth):
    organiser = make_organiser()
    signup = confirmed(client)

    response = client.post(f"/api/v1/signups/{signup.id}/decision",
                           json={"decision": "decline", "note": "请由贵局统一报名"}, headers=auth(organiser))

    assert response.status_code == 200 and response.get_json()["status"] == "declined"
    message = mails_to("wang.fang@example.cn")[-1]
    assert message.subject == "关于您的云招商 CloudFair 账户申请" and "请由贵局统一报名" in message.text_body
    assert count(User, User.email == "wang.fang@example.cn") == 0
    assert count(Organisation, Organisation.name == "保定市新材料产业园") == 0
    again = client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"}, headers=auth(organiser))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"


def test_an_unconfirmed_request_cannot_be_approved(client, auth):
    organiser = make_organiser()
    ask(client)
    signup = db.session.scalar(select(SignupRequest))

    response = client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"}, headers=auth(organiser))

    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_confirmed"
    assert count(User, User.email == "wang.fang@example.cn") == 0


def test_bad_decision_is_refused_and_nothing_changes(client, auth):
    organiser = make_organiser()
    signup = confirmed(client)

    for body in ({"decision": "maybe"}, {"decision": "approve", "organisation_id": 99999}):
        response = client.post(f"/api/v1/signups/{signup.id}/decision", json=body, headers=auth(organiser))
        assert response.status_code == 422, response.text
    db.session.expire_all()
    assert db.session.get(SignupRequest, signup.id).status == "pending" and count(User) == 1


def test_a_lookalike_organisation_is_warned_and_the_organiser_can_file_the_person_under_it(client, auth):
    organiser = make_organiser()
    existing = Organisation(name="保定市新材料产业园管委会", kind="park", country="CN", division_code="130600",
                            demand_sectors=[], demand_countries=[], demand_note="", aliases=[])
    db.session.add(existing)
    db.session.commit()
    signup = confirmed(client)

    [item] = client.get("/api/v1/signups", headers=auth(organiser)).get_json()["items"]
    assert item["similar"] == [{"id": existing.id, "name": "保定市新材料产业园管委会"}]
    response = client.post(f"/api/v1/signups/{signup.id}/decision",
                           json={"decision": "approve", "organisation_id": existing.id}, headers=auth(organiser))

    assert response.get_json()["organisation_id"] == existing.id
    assert count(Organisation, Organisation.name == "保定市新材料产业园") == 0


def test_the_queue_page_approves_and_declines_many_at_once(app, login_as):
    organiser = make_organiser()
    anonymous = app.test_client()
    first = confirmed(anonymous, email="a@example.cn")
    second = confirmed(anonymous, email="b@example.cn")
    third = confirmed(anonymous, email="c@example.cn", locale="en")
    browser = login_as(organiser)
    page = browser.get("/people/signups")
    assert page.status_code == 200 and "a@example.cn" in page.text and "保定市新材料产业园" in page.text

    browser.post("/people/signups/decide", data={"ids": [first.id, second.id], "decision": "approve",
                                                 "csrf_token": csrf_from(page.text)})
    browser.post("/people/signups/decide", data={"ids": [third.id], "decision": "decline",
                                                 "csrf_token": csrf_from(page.text)})

    db.session.expire_all()
    assert [db.session.get(SignupRequest, s.id).status for s in (first, second, third)] == ["approved", "approved", "declined"]
    assert count(Organisation, Organisation.name == "保定市新材料产业园") == 1  # made once, both filed under it
    assert mails_to("c@example.cn")[-1].subject == "Your request for a CloudFair account"


def test_only_organisers_see_or_decide_requests(client, auth):
    signup = confirmed(client)
    attendee = make_user("attendee")

    assert client.get("/api/v1/signups", headers=auth(attendee)).status_code == 403
    assert client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"},
                       headers=auth(attendee)).status_code == 403
    assert client.get("/api/v1/signups").status_code == 401
    db.session.expire_all()
    assert db.session.get(SignupRequest, signup.id).status == "pending"


# ---------------------------------------------------------------- the pages


def test_the_fair_page_offers_sign_up_to_anonymous_visitors_and_the_form_carries_the_fair(client):
    fair = make_fair(make_organiser(), title="Europe fair")

    fair_page = client.get(f"/fairs/{fair.id}")
    assert f'href="/signup?fair={fair.id}"' in fair_page.text
    form = client.get(f"/signup?fair={fair.id}")
    response = client.post(f"/signup?fair={fair.id}", data={**NEW_ORG, "csrf_token": csrf_from(form.text)})

    assert response.status_code == 302
    assert db.session.scalar(select(SignupRequest)).fair_id == fair.id


def test_the_form_without_a_csrf_token_writes_nothing(client):
    response = client.post("/signup", data=NEW_ORG)

    assert response.status_code in (400, 422) and count(SignupRequest) == 0


def test_the_form_names_what_is_missing_for_a_new_organisation(client):
    form = client.get("/signup")

    response = client.post("/signup", data={**NEW_ORG, "division": "", "csrf_token": csrf_from(form.text)})

    assert response.status_code == 422 and 'id="division-error"' in response.text and count(SignupRequest) == 0


def test_the_mails_reach_a_real_smtp_server(client, auth, smtp):
    organiser = make_organiser()
    signup = confirmed(client)
    client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"}, headers=auth(organiser))

    deliver_due()

    subjects = [m["Subject"] for m in smtp.messages if m["To"] == "wang.fang@example.cn"]
    assert subjects == ["请确认您在云招商 CloudFair 的邮箱", "您的云招商 CloudFair 账户已获批准"]


# ---------------------------------------------------------------- rate limit


@pytest.mark.settings(SIGNUP_RATE_LIMIT="3 per 15 minutes")
def test_sign_up_requests_are_rate_limited(limited):
    client = limited.test_client()

    answers = [client.post("/api/v1/signup", json={**NEW_ORG, "email": f"p{n}@example.cn"}).status_code for n in range(4)]

    assert answers == [202, 202, 202, 429]
    assert client.post("/api/v1/signup", json=NEW_ORG).get_json()["error"]["code"] == "rate_limited"


# ---------------------------------------------------------------- the organisation's name in both languages

BOTH = {"zh": "保定市新材料产业园", "en": "Baoding New Materials Park"}


def test_the_proposed_organisation_is_named_in_both_languages_and_made_with_both(client, auth):
    organiser = make_organiser(locale="en")
    signup = confirmed(client, organisation=None, organisation_i18n=BOTH)

    assert (signup.organisation_name, signup.organisation_name_zh, signup.organisation_name_en) == (
        BOTH["zh"], BOTH["zh"], BOTH["en"])  # registered in the person's language (zh)
    listed = client.get("/api/v1/signups", headers=auth(organiser)).get_json()["items"][0]
    assert listed["organisation_name_i18n"] == BOTH
    assert client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"},
                       headers=auth(organiser)).status_code == 200
    org = db.session.get(User, signup.user_id).organisation
    assert (org.name, org.name_zh, org.name_en) == (BOTH["zh"], BOTH["zh"], BOTH["en"])


def test_one_language_is_enough_and_the_other_stays_empty(client, auth):
    organiser = make_organiser()
    signup = confirmed(client, organisation=None, organisation_i18n={"en": BOTH["en"]}, locale="zh")
    client.post(f"/api/v1/signups/{signup.id}/decision", json={"decision": "approve"}, headers=auth(organiser))

    org = db.session.get(User, signup.user_id).organisation
    assert (org.name, org.name_zh, org.name_en) == (BOTH["en"], None, BOTH["en"])


@pytest.mark.parametrize("organisation", [
    {"organisation": None, "organisation_i18n": {"zh": "", "en": "  "}},
    {"organisation": None, "organisation_i18n": None},
    {"organisation": None, "organisation_i18n": {"de": "Baoding Park"}},
    {"organisation": None, "organisation_i18n": {"en": "x" * 201}},
])
def test_a_request_without_a_usable_organisation_name_is_refused(client, organisation):
    response = ask(client, **organisation)

    assert response.status_code == 422, response.text
    assert [k for k in response.get_json()["error"]["details"]["fields"] if k.startswith("organisation")]
    assert count(SignupRequest) == 0


def test_an_existing_organisation_is_found_by_either_name_and_two_different_ones_are_refused(client):
    baoding = make_user("attendee", organisation="Baoding Commerce Bureau", kind="city_bureau").organisation
    baoding.name_zh, baoding.name_en = "保定市商务局", "Baoding Commerce Bureau"
    make_user("attendee", organisation="石家庄市商务局", kind="city_bureau")
    db.session.commit()

    found = ask(client, organisation=None, organisation_i18n={"zh": "保定市商务局", "en": "A new name"}, kind=None,
                division=None)
    refused = ask(client, email="li.lei@example.cn", organisation=None,
                  organisation_i18n={"zh": "石家庄市商务局", "en": "Baoding Commerce Bureau"})

    assert found.status_code == 202
    signup = db.session.scalar(select(SignupRequest))
    assert signup.organisation_id == baoding.id
    assert (signup.organisation_name_zh, signup.organisation_name_en) == ("保定市商务局", "Baoding Commerce Bureau")
    assert refused.status_code == 422 and "organisation" in refused.get_json()["error"]["details"]["fields"]


def test_the_form_takes_the_name_in_both_languages_side_by_side(client):
    form = client.get("/signup")
    assert 'name="organisation_zh"' in form.text and 'name="organisation_en"' in form.text

    response = client.post("/signup", data={**{k: v for k, v in NEW_ORG.items() if k != "organisation"},
                                            "organisation_zh": BOTH["zh"], "organisation_en": BOTH["en"],
                                            "csrf_token": csrf_from(form.text)})
    missing = client.post("/signup", data={**{k: v for k, v in NEW_ORG.items() if k != "organisation"},
                                           "email": "li.lei@example.cn", "csrf_token": csrf_from(form.text)})

    assert response.status_code == 302, response.text
    signup = db.session.scalar(select(SignupRequest))
    assert (signup.organisation_name_zh, signup.organisation_name_en) == (BOTH["zh"], BOTH["en"])
    assert missing.status_code == 422 and 'id="organisation_zh-error"' in missing.text


def test_organisers_are_told_of_a_request_with_the_name_in_their_language(client):
    make_organiser(locale="zh")
    confirmed(client, organisation=None, organisation_i18n=BOTH)

    told = db.session.scalar(select(Notification).where(Notification.kind == "signup"))
    assert BOTH["zh"] in told.title_zh and BOTH["en"] in told.title_en and told.title == told.title_zh
