"""Self sign-up in the browser: an anonymous visitor of a fair's page signs up, confirms the address
from the mail, an organiser approves the request from the queue, and the new person sets a password
from the approval mail and is signed in, registered for the fair."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
EMAIL = "chen.jing@bd-newmaterials.example"
NAME = "Chen Jing"
NEW_PASSWORD = "Baoding-2026-fair"


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _link(message, path: str) -> str:
    [link] = set(re.findall(rf"https?://\S+/{path}/[\w-]+", _text(message)))
    return link


def test_sign_up_from_a_fair_then_approval_then_first_sign_in(new_page, page_as, live_server, mailbox):
    fair = live_server.api("/api/v1/fairs?status=published&per_page=50")["items"][0]

    visitor = new_page()
    visitor.goto(f"/fairs/{fair['id']}")
    visitor.get_by_role("link", name="No account? Sign up").click()
    expect(visitor.locator("#signup-fair")).to_be_visible()
    visitor.get_by_label("Your name").fill(NAME)
    visitor.get_by_label("E-mail").fill(EMAIL)
    visitor.get_by_label("Name in English").fill("Baoding New Materials Park")
    visitor.get_by_label("Kind of organisation").select_option("park")
    visitor.get_by_label("City, district or county in Hebei").select_option("130600")
    visitor.get_by_label("Language of the mails and CloudFair").select_option("en")
    visitor.get_by_role("button", name="Ask for an account").click()
    expect(visitor.get_by_role("status")).to_contain_text(EMAIL)

    live_server.deliver_mail()
    [confirm] = mailbox.to(EMAIL)
    assert confirm["Subject"] == "Confirm your address for CloudFair"
    visitor.goto(_link(confirm, "signup/confirm"))
    visitor.get_by_role("button", name="Confirm my address").click()
    expect(visitor.locator("#signup-waiting")).to_be_visible()

    organiser = page_as(ORGANISER)
    organiser.goto("/people/signups")
    row = organiser.locator("tr", has_text=EMAIL)
    row.get_by_role("checkbox").check()
    organiser.get_by_role("button", name="Approve the chosen").click()
    expect(organiser.get_by_role("status")).to_contain_text("approved")

    live_server.deliver_mail()
    approved = mailbox.to(EMAIL)[-1]
    assert approved["Subject"] == "Your CloudFair account is approved"
    assert "You are registered for" in _text(approved)
    visitor.goto(_link(approved, "invitations"))
    visitor.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    visitor.get_by_label("The same password again", exact=True).fill(NEW_PASSWORD)
    visitor.get_by_role("button", name="Set password").click()
    expect(visitor.locator(".who")).to_contain_text(NAME)
    visitor.goto(f"/fairs/{fair['id']}")
    expect(visitor.get_by_role("link", name="No account? Sign up")).to_have_count(0)
