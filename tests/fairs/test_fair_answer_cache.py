"""`GET /api/v1/fairs/<id>` is built once per revision, session statuses and language in each process
(`fairs.api._cached_detail`): a repeat costs one small read, and every change of the fair, its
sessions' statuses or the reader's language is seen at once."""

from __future__ import annotations

from app.fairs import services as fairs
from app.notifications.reminders import flip_statuses
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session
from tests.live.test_interest_ingest import Statements


def test_a_repeat_is_one_read_and_every_change_shows_at_once(app, client):
    organiser = make_organiser()
    agent = make_presenter()
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[make_project(agent).id])
    url = f"/api/v1/fairs/{fair.id}"
    first = client.get(url)
    assert first.status_code == 200 and first.json["sessions"][0]["status"] == "scheduled"
    with Statements() as seen:
        again = client.get(url)
    assert again.json == first.json
    assert len(seen.log) == 1 and seen.log[0].startswith("SELECT fairs.published_at"), seen.log  # the fair's version with its sessions' statuses

    fairs.update_fair(organiser, fair, {"title": "Europe online investment fair, second edition"})
    assert client.get(url).json["title"] == "Europe online investment fair, second edition"

    flip_statuses(session.starts_at)  # the scheduler's flip moves no revision
    assert client.get(url).json["sessions"][0]["status"] == "live"

    chinese = client.get(url, headers={"Accept-Language": "zh-CN"}).json
    assert chinese["title_i18n"] == first.json["title_i18n"] | {"en": "Europe online investment fair, second edition"}
    assert client.get(url + "?lang=zh").json["title"] == chinese["title"]


def test_an_unpublished_fair_is_still_refused_to_the_public_after_an_organiser_read_it(app, client, login_as):
    organiser = make_organiser()
    draft = make_fair(organiser, publish=False)
    assert login_as(organiser).get(f"/api/v1/fairs/{draft.id}").status_code == 200
    assert client.get(f"/api/v1/fairs/{draft.id}").status_code == 404


def test_a_fair_without_sessions_and_a_missing_fair(app, client):
    fair = make_fair(make_organiser())
    assert client.get(f"/api/v1/fairs/{fair.id}").json["sessions"] == []
    missing = client.get(f"/api/v1/fairs/{fair.id + 1000}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_a_fair_feed_answers_304_from_one_read(app, client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    etag = client.get(f"/fairs/{fair.id}.ics").headers["ETag"]
    with Statements() as seen:
        unchanged = client.get(f"/fairs/{fair.id}.ics", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert len(seen.log) == 1 and seen.log[0].startswith("SELECT fairs.published_at"), seen.log
    fairs.update_fair(organiser, fair, {"title": "Renamed"})
    assert client.get(f"/fairs/{fair.id}.ics", headers={"If-None-Match": etag}).status_code == 200


def test_a_fair_feed_s_validator_is_read_at_most_once_per_feed_version_seconds(app, client):
    """`FEED_VERSION_SECONDS`: a feed request within that long of the last one answers its `304`
    without a query; the fair's next revision shows once it passes (0: every request reads it)."""
    from sqlalchemy import event

    from app.extensions import db
    from app.fairs.models import Fair

    fair = make_fair(make_organiser())
    db.session.commit()
    app.config["FEED_VERSION_SECONDS"] = 60
    first = client.get(f"/fairs/{fair.id}.ics?lang=en")
    assert first.status_code == 200
    statements = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        again = client.get(f"/fairs/{fair.id}.ics?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert again.status_code == 304 and not [s for s in statements if "fairs" in s], statements
    db.session.get(Fair, fair.id).revision += 1
    db.session.commit()
    kept = client.get(f"/fairs/{fair.id}.ics?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert kept.status_code == 304  # within the seconds kept
    app.config["FEED_VERSION_SECONDS"] = 0
    changed = client.get(f"/fairs/{fair.id}.ics?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_readers_version_is_read_at_most_once_per_fair_api_version_seconds_organisers_every_time(app, client, login_as):
    """`FAIR_API_VERSION_SECONDS`: a reader's `GET /api/v1/fairs/<id>` within that long of the last one
    is answered without a query; a change made elsewhere (another process: the revision moved in the
    database) shows to readers once it passes, and to organisers at once."""
    from app.extensions import db
    from app.fairs.models import Fair

    organiser = make_organiser()
    fair = make_fair(organiser)
    db.session.commit()
    url = f"/api/v1/fairs/{fair.id}"
    app.config["FAIR_API_VERSION_SECONDS"] = 60
    first = client.get(url)
    assert first.status_code == 200
    with Statements() as seen:
        again = client.get(url)
    assert again.json == first.json and seen.log == []
    row = db.session.get(Fair, fair.id)
    row.title = row.title_en = "Renamed elsewhere"
    row.revision += 1
    db.session.commit()
    assert client.get(url).json["title"] == first.json["title"]  # kept for readers
    staff = login_as(organiser)
    assert staff.get(url).json["title"] == "Renamed elsewhere"  # organisers read the version every time
    app.config["FAIR_API_VERSION_SECONDS"] = 0
    assert client.get(url).json["title"] == "Renamed elsewhere"
