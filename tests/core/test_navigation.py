"""The frame every page shares: the organisers' grouped navigation and the favicon."""

from __future__ import annotations

import re

from tests.factories import make_organiser, make_user


def _nav(html: str) -> str:
    return re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S).group(1)


def test_organisers_get_three_menus_instead_of_fifteen_links(login):
    client = login(make_organiser())
    nav = _nav(client.get("/").text)
    menus = re.findall(r'<details data-nav-menu>\s*<summary id="menu-(\w+)"[^>]*>([^<]*)<', nav)
    assert [(key, label.strip()) for key, label in menus] == [("fairs", "Fairs"), ("people", "People"),
                                                              ("leads", "Leads")]
    inside = re.findall(r'<details data-nav-menu>.*?</details>', nav, re.S)
    hrefs = [re.findall(r'href="([^"]+)"', menu) for menu in inside]
    assert hrefs == [["/", "/fairs/new", "/series", "/parks", "/review"], ["/organisations", "/people/invitations", "/people/signups", "/audit"],
                     ["/leads", "/dashboard"]]
    outside = re.sub(r'<details data-nav-menu>.*?</details>', "", nav, flags=re.S)
    assert len(re.findall(r"<a ", outside)) <= 7  # the brand, projects, profile, calendar, settings, bell


def test_the_current_page_is_marked_in_its_menu(login):
    client = login(make_organiser())
    nav = _nav(client.get("/audit").text)
    assert re.search(r'<summary id="menu-people" class="current">', nav)
    assert '<a href="/audit" aria-current="page">' in nav


def test_attendees_keep_their_short_flat_navigation(login):
    client = login(make_user("attendee", organisation="Shijiazhuang Commerce Bureau"))
    nav = _nav(client.get("/").text)
    assert "data-nav-menu" not in nav
    assert 'href="/leads"' in nav and 'href="/"' in nav


def test_the_favicon_answers_and_is_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon" and icon.data[:4] == b"\x00\x00\x01\x00"
    page = client.get("/").text
    linked = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    svg = client.get(linked)
    assert svg.status_code == 200 and b"<svg" in svg.data
