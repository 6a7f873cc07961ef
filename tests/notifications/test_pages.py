"""Notification pages: the bell's count on every page, one's own list, marking read."""

from __future__ import annotations

import re

from app.extensions import db
from tests.conftest import csrf_from
from tests.factories import make_notification, make_user


def _bell(html: str) -> int:
    match = re.search(r'id="bell-count"[^>]*>(\d+)<', html)
    assert match, "page has no bell"
    return int(match.group(1))


def _people():
    me, other = make_user("attendee"), make_user("presenter")
    first = make_notification(me, "Your fair starts tomorrow")
    second = make_notification(me, "Material approved")
    theirs = make_notification(other, "Someone else's news")
    db.session.commit()
    return me, other, first, second, theirs


def test_bell_shows_the_unread_count_on_every_page(client, login):
    me, *_ = _people()
    login(me)

    for path in ("/", "/projects", "/notifications"):
        assert _bell(client.get(path).text) == 2


def test_anonymous_visitors_have_no_bell(client):
    assert 'id="bell-count"' not in client.get("/").text


def test_notifications_page_lists_only_ones_own_newest_first(client, login):
    me, *_ = _people()
    login(me)

    page = client.get("/notifications").text

    titles = re.findall(r'<li class="notification[^"]*" id="notification-\d+">\s*<p><strong>([^<]+)<', page)
    assert titles == ["Material approved", "Your fair starts tomorrow"]
    assert "Someone else" not in page


def test_mark_read_changes_the_count(client, login):
    me, _, first, *_ = _people()
    login(me)
    token = csrf_from(client.get("/notifications").text)

    response = client.post(f"/notifications/{first.id}/read", data={"csrf_token": token})

    assert response.status_code == 302
    assert _bell(client.get("/").text) == 1
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert _bell(client.get("/").text) == 0


def test_mark_read_without_csrf_changes_nothing(client, login):
    me, _, first, *_ = _people()
    login(me)

    client.post(f"/notifications/{first.id}/read", data={})

    assert _bell(client.get("/").text) == 2


def test_someone_elses_notification_is_not_found(client, login):
    me, _, _, _, theirs = _people()
    login(me)
    token = csrf_from(client.get("/notifications").text)

    response = client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token})

    assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None
