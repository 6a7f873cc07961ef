"""Content in two languages: fairs, sessions and projects carry Chinese and English text; the API, pages,
feeds and mails give the reader's language and mark a fallback; search finds either language."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app import bilingual
from app.extensions import db
from app.fairs import services as fairs
from app.fairs.models import Fair, FairSession
from app.projects.models import Project
from tests.conftest import csrf_from
from tests.factories import make_fair, make_organiser, make_presenter, make_session, make_user
from tests.i18n import zh

START = datetime(2026, 12, 10, 7, 0, tzinfo=timezone.utc)
FAIR_I18N = {"zh": "2027年1月云招商·欧洲新材料", "en": "Jan 2027 cloud fair: European new materials"}


def _fair_body(**overrides) -> dict:
    body = {"title_i18n": FAIR_I18N, "theme_i18n": {"zh": "欧洲：新材料", "en": "Europe: new materials"},
            "starts_at": START.isoformat(), "ends_at": (START + timedelta(hours=6)).isoformat(),
            "timezone": "Asia/Shanghai"}
    body.update(overrides)
    return body


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(("text", "expected"), [
    ("2027年1月云招商 / Jan 2027 cloud fair", {"zh": "2027年1月云招商", "en": "Jan 2027 cloud fair"}),
    ("Jan 2027 cloud fair ／ 2027年1月云招商", {"zh": "2027年1月云招商", "en": "Jan 2027 cloud fair"}),
    ("Wearable diagnostic devices", {"zh": "", "en": "Wearable diagnostic devices"}),
    ("可穿戴诊断设备", {"zh": "可穿戴诊断设备", "en": ""}),
    ("Europe - new materials", {"zh": "", "en": "Europe - new materials"}),
    ("", {"zh": "", "en": ""}),
])
def test_existing_text_goes_to_the_language_it_is_written_in(text, expected):
    assert bilingual.split_text(text) == expected


def test_pick_gives_the_readers_language_else_the_other_marked():
    project = {"title_zh": "可穿戴诊断设备", "title_en": ""}

    assert bilingual.pick(project, "title", "zh") == bilingual.Picked("可穿戴诊断设备", "zh", False)
    assert bilingual.pick(project, "title", "en") == bilingual.Picked("可穿戴诊断设备", "zh", True)


# ---------------------------------------------------------------- API


def test_api_creates_a_fair_in_both_languages_and_reads_each(client, auth):
    organiser = make_organiser()

    created = client.post("/api/v1/fairs", json=_fair_body(), headers=auth(organiser))

    assert created.status_code == 201, created.text
    assert created.json["title_i18n"] == FAIR_I18N
    fair_id = created.json["id"]
    fairs.publish_fair(organiser, db.session.get(Fair, fair_id))
    in_zh = client.get(f"/api/v1/fairs/{fair_id}?lang=zh").json
    in_en = client.get(f"/api/v1/fairs/{fair_id}", headers={"Accept-Language": "en"}).json
    assert (in_zh["title"], in_zh["theme"]) == (FAIR_I18N["zh"], "欧洲：新材料")
    assert (in_en["title"], in_en["theme"]) == (FAIR_I18N["en"], "Europe: new materials")
    assert in_zh["title_i18n"] == in_en["title_i18n"] == FAIR_I18N


def test_api_plain_title_is_the_authors_language_and_the_other_falls_back(client, auth):
    organiser = make_organiser(locale="zh")

    created = client.post("/api/v1/fairs", json=_fair_body(title_i18n=None, theme_i18n=None, title="石家庄推介会"),
                          headers=auth(organiser))
    by_lang = client.post("/api/v1/fairs", json=_fair_body(title_i18n=None, theme_i18n=None, title="Berlin day",
                                                           lang="en"), headers=auth(organiser))

    assert created.status_code == 201, created.text
    assert created.json["title_i18n"] == {"zh": "石家庄推介会", "en": ""}
    assert by_lang.json["title_i18n"] == {"zh": "", "en": "Berlin day"}
    english = client.get(f"/api/v1/fairs/{created.json['id']}?lang=en", headers=auth(organiser)).json
    assert english["title"] == "石家庄推介会"  # the other language, rather than nothing


def test_api_patch_changes_one_language_and_keeps_the_other(client, auth):
    organiser = make_organiser()
    fair_id = client.post("/api/v1/fairs", json=_fair_body(), headers=auth(organiser)).json["id"]

    patched = client.patch(f"/api/v1/fairs/{fair_id}", json={"title_i18n": {"en": "Europe, January"}},
                           headers=auth(organiser))

    assert patched.status_code == 200, patched.text
    assert patched.json["title_i18n"] == {"zh": FAIR_I18N["zh"], "en": "Europe, January"}


@pytest.mark.parametrize(("body", "field"), [
    ({"title_i18n": {"zh": "", "en": "  "}}, "title"),
    ({"title_i18n": {"de": "Messe"}}, "title_i18n"),
    ({"title_i18n": "Messe"}, "title_i18n"),
    ({"title_i18n": {"zh": 5}}, "title_i18n"),
    ({"title_i18n": {"en": "x" * 201}}, "title_en"),
])
def test_api_refuses_bad_bilingual_text_with_a_clear_error_and_writes_nothing(client, auth, body, field):
    organiser = make_organiser()

    response = client.post("/api/v1/fairs", json=_fair_body(**body), headers=auth(organiser))

    assert response.status_code == 422, response.text
    assert response.json["error"]["code"] == "validation_failed"
    assert list(response.json["error"]["details"]["fields"]) == [field]
    assert db.session.scalar(select(func.count(Fair.id))) == 0


def test_api_missing_title_says_so_in_the_readers_language(client, auth):
    organiser = make_organiser(locale="zh")

    response = client.post("/api/v1/fairs", json=_fair_body(title_i18n={}), headers=auth(organiser))

    assert response.json["error"]["details"]["fields"] == {
        "title": [zh("Give %(what)s in Chinese or in English (at least one).", what=zh("the title"))]}


def test_api_only_organisers_write_fairs_in_any_language(client, auth):
    presenter = make_presenter()

    response = client.post("/api/v1/fairs", json=_fair_body(), headers=auth(presenter))

    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Fair.id))) == 0


def test_api_sessions_and_projects_carry_both_languages(client, auth):
    organiser = make_organiser()
    presenter = make_presenter()
    fair = make_fair(organiser)

    project = client.post("/api/v1/projects", json={
        "title_i18n": {"zh": "可穿戴诊断设备", "en": "Wearable diagnostic devices"},
        "summary_i18n": {"en": "Patches that read the heart."}, "sector": "biomedicine_health", "country": "DE",
    }, headers=auth(presenter))
    session = client.post(f"/api/v1/fairs/{fair.id}/sessions", json={
        "title_i18n": {"zh": "德国推介", "en": "Germany pitches"}, "starts_at": fair.starts_at.isoformat(),
        "ends_at": (fair.starts_at + timedelta(minutes=45)).isoformat(), "project_ids": [project.json["id"]],
    }, headers=auth(organiser))

    assert project.status_code == 201, project.text
    assert session.status_code == 201, session.text
    read = client.get(f"/api/v1/sessions/{session.json['id']}?lang=zh").json
    assert read["title"] == "德国推介"
    assert read["projects"][0]["title"] == "可穿戴诊断设备"
    assert read["projects"][0]["title_i18n"] == {"zh": "可穿戴诊断设备", "en": "Wearable diagnostic devices"}
    mine = client.get(f"/api/v1/projects/{project.json['id']}?lang=zh", headers=auth(presenter)).json
    assert (mine["title"], mine["summary"]) == ("可穿戴诊断设备", "Patches that read the heart.")
    assert mine["summary_i18n"] == {"zh": "", "en": "Patches that read the heart."}


def test_api_search_finds_fairs_and_projects_in_either_language(client, auth):
    organiser = make_organiser()
    fair_id = client.post("/api/v1/fairs", json=_fair_body(), headers=auth(organiser)).json["id"]
    fairs.publish_fair(organiser, db.session.get(Fair, fair_id))
    make_fair(organiser, title="North America: health", theme="Health")
    presenter = make_presenter()
    client.post("/api/v1/projects", json={"title_i18n": {"zh": "可穿戴诊断设备", "en": "Wearable diagnostic devices"},
                                          "sector": "biomedicine_health", "country": "DE"}, headers=auth(presenter))

    def fair_ids(q):
        return [f["id"] for f in client.get("/api/v1/fairs", query_string={"q": q}).json["items"]]

    def project_titles(q):
        items = client.get("/api/v1/projects", query_string={"q": q, "lang": "en"}, headers=auth(organiser)).json
        return [p["title"] for p in items["items"]]

    assert fair_ids("新材料") == [fair_id]
    assert fair_ids("NEW MATERIALS") == [fair_id]
    assert fair_ids("100%") == []
    assert project_titles("诊断") == ["Wearable diagnostic devices"]
    assert project_titles("diagnostic") == ["Wearable diagnostic devices"]


# ---------------------------------------------------------------- pages


def test_fair_page_shows_the_viewers_language_and_marks_a_fallback(client, login):
    organiser = make_organiser()
    fair = make_fair(organiser, title=None, title_i18n=FAIR_I18N, theme_i18n={"en": "Europe: new materials"})
    make_session(fair, organiser, title=None, title_i18n={"zh": "德国推介"})

    english = client.get(f"/fairs/{fair.id}", headers={"Accept-Language": "en"}).text
    chinese = client.get(f"/fairs/{fair.id}", headers={"Accept-Language": "zh"}).text

    assert FAIR_I18N["en"] in english and FAIR_I18N["zh"] not in english
    assert FAIR_I18N["zh"] in chinese and FAIR_I18N["en"] not in chinese
    assert ('<span lang="zh-Hans">德国推介</span> <small class="fallback-mark" title="Not available in your language">'
            "(in Chinese)</small>") in english
    assert f'<span lang="en">Europe: new materials</span> <small class="fallback-mark" ' \
           f'title="{zh("Not available in your language")}">{zh("(in English)")}</small>' in chinese


def test_fairs_page_search_box_finds_either_language(client):
    organiser = make_organiser()
    make_fair(organiser, title=None, title_i18n=FAIR_I18N)
    make_fair(organiser, title="North America: health")

    found = client.get("/?q=云招商", headers={"Accept-Language": "en"}).text
    none = client.get("/?q=Atlantis", headers={"Accept-Language": "en"}).text

    assert FAIR_I18N["en"] in found and "North America: health" not in found
    assert 'name="q" value="云招商"' in found
    assert "No upcoming fair matches “Atlantis”." in none


def _post_fair_form(client, **fields):
    token = csrf_from(client.get("/fairs/new").text)
    data = {"csrf_token": token, "timezone": "Asia/Shanghai", "starts_at": "2026-12-10T15:00",
            "ends_at": "2026-12-10T21:00", "tracks": "main", "waitlist": "y", **fields}
    return client.post("/fairs/new", data=data)


def test_fair_form_takes_both_languages_side_by_side(client, login):
    login(make_organiser())

    page = client.get("/fairs/new").text
    response = _post_fair_form(client, title_zh=FAIR_I18N["zh"], title_en=FAIR_I18N["en"], theme_zh="欧洲：新材料",
                               theme_en="")

    assert 'name="title_zh"' in page and 'lang="zh-Hans"' in page and 'name="title_en"' in page
    assert response.status_code == 302, response.text
    fair = db.session.scalars(select(Fair)).one()
    assert (fair.title_zh, fair.title_en, fair.theme_zh, fair.theme_en) == (FAIR_I18N["zh"], FAIR_I18N["en"],
                                                                              "欧洲：新材料", None)
    edit = client.get(f"/fairs/{fair.id}/edit").text
    assert f'value="{FAIR_I18N["zh"]}"' in edit and f'value="{FAIR_I18N["en"]}"' in edit


def test_fair_form_without_any_title_says_so_and_saves_nothing(client, login):
    login(make_organiser(locale="zh"))

    response = _post_fair_form(client, title_zh="  ", title_en="")

    assert response.status_code == 422
    assert zh("Give %(what)s in Chinese or in English (at least one).", what=zh("the title")) in response.text
    assert 'id="title_zh-error"' in response.text
    assert db.session.scalar(select(func.count(Fair.id))) == 0


def test_project_form_takes_both_languages(client, login):
    presenter = make_presenter()
    login(presenter)
    token = csrf_from(client.get("/projects/new").text)

    response = client.post("/projects/new", data={"csrf_token": token, "title_zh": "", "title_en": "Portable ECMO",
                                                  "summary_zh": "便携式体外膜肺", "summary_en": "",
                                                  "sector": "biomedicine_health", "country": "DE"})

    assert response.status_code == 302, response.text
    project = db.session.scalars(select(Project)).one()
    assert (project.title, project.title_zh, project.title_en) == ("Portable ECMO", None, "Portable ECMO")
    assert (project.summary_zh, project.summary_en) == ("便携式体外膜肺", None)


def test_attendee_cannot_open_the_project_form(client, login):
    login(make_user("attendee"))

    assert client.get("/projects/new").status_code == 403


def test_session_form_takes_both_languages(client, login):
    organiser = make_organiser()
    fair = make_fair(organiser)
    login(organiser)
    token = csrf_from(client.get(f"/fairs/{fair.id}/sessions/new").text)

    response = client.post(f"/fairs/{fair.id}/sessions/new", data={
        "csrf_token": token, "title_zh": "石家庄专场", "title_en": "Shijiazhuang hour", "kind": "pitch",
        "starts_at": "2026-12-10T15:00", "ends_at": "2026-12-10T15:45", "track": "main",
        "description_zh": "", "description_en": "Six projects."})

    assert response.status_code == 302, response.text
    session = db.session.scalars(select(FairSession)).one()
    assert (session.title_zh, session.title_en, session.description_en) == ("石家庄专场", "Shijiazhuang hour",
                                                                             "Six projects.")


# ---------------------------------------------------------------- feeds and mail


def test_fair_feed_is_in_the_asked_language_with_a_marked_fallback(client):
    organiser = make_organiser()
    fair = make_fair(organiser, title=None, title_i18n=FAIR_I18N)
    make_session(fair, organiser, title=None, title_i18n={"en": "Germany pitches"})

    chinese = client.get(f"/fairs/{fair.id}.ics?lang=zh")
    english = client.get(f"/fairs/{fair.id}.ics?lang=en")

    zh_text = chinese.data.decode().replace("\r\n ", "")
    en_text = english.data.decode().replace("\r\n ", "")
    assert f"SUMMARY:{FAIR_I18N['zh']}" in zh_text
    assert f"SUMMARY:Germany pitches {zh('(in English)')} · {FAIR_I18N['zh']}" in zh_text
    assert f"SUMMARY:{FAIR_I18N['en']}" in en_text and FAIR_I18N["zh"] not in en_text
    assert chinese.headers["ETag"] != english.headers["ETag"]


def test_mail_is_in_the_recipients_language_with_the_other_as_fallback():
    from app.notifications.models import MailMessage

    fair = make_fair(capacity=1, title=None, title_i18n={"zh": "加拿大推介会", "en": "Canada fair"})
    holder = make_user("attendee")
    chinese, english = make_user("attendee", locale="zh"), make_user("attendee", locale="en")
    for person in (holder, chinese):
        fairs.register(person, fair.id)
    fairs.withdraw(holder, fair.id)
    other = make_fair(capacity=1, title=None, title_i18n={"zh": "仅中文推介会"})
    fairs.register(holder, other.id)
    fairs.register(english, other.id)
    fairs.withdraw(holder, other.id)

    mails = {m.to_address: m for m in db.session.scalars(select(MailMessage))}

    assert mails[chinese.email].subject == "您已获得名额：加拿大推介会"
    assert "加拿大推介会" in mails[chinese.email].text_body and "Canada fair" not in mails[chinese.email].text_body
    assert mails[english.email].subject == "A place is yours: 仅中文推介会"  # the body marks it
    assert "仅中文推介会 (in Chinese)" in mails[english.email].text_body
    assert '<span lang="zh-Hans">仅中文推介会</span>' in mails[english.email].html_body


def test_organisation_name_in_both_languages_by_api_and_the_registered_name_stays(client, auth):
    organiser = make_organiser()

    created = client.post("/api/v1/organisations", json={
        "name": "Baoding Commerce Bureau", "name_i18n": {"zh": "保定市商务局", "en": "Baoding Commerce Bureau"},
        "kind": "city_bureau", "country": "CN", "city": "保定"}, headers=auth(organiser))
    bad = client.patch(f"/api/v1/organisations/{created.json['id']}", json={"name_i18n": {"fr": "Bureau"}},
                       headers=auth(organiser))

    assert created.status_code == 201, created.text
    assert created.json["name"] == "Baoding Commerce Bureau"
    assert created.json["name_i18n"] == {"zh": "保定市商务局", "en": "Baoding Commerce Bureau"}
    assert bad.status_code == 422 and list(bad.json["error"]["details"]["fields"]) == ["name_i18n"]
    again = client.get(f"/api/v1/organisations/{created.json['id']}", headers=auth(organiser)).json
    assert again["name_i18n"] == {"zh": "保定市商务局", "en": "Baoding Commerce Bureau"}


def test_projects_page_search_finds_either_language(client, login):
    presenter = make_presenter()
    login(presenter)
    from app.projects import services as projects

    projects.create_project(presenter, {"title_i18n": {"zh": "可穿戴诊断设备", "en": "Wearable diagnostic devices"},
                                        "sector": "biomedicine_health", "country": "DE"})
    projects.create_project(presenter, {"title": "Mobile ice-rink blanket", "sector": "ice_snow", "country": "CZ"})

    found = client.get("/projects?q=诊断", headers={"Accept-Language": "en"}).text

    assert "Wearable diagnostic devices" in found and "Mobile ice-rink blanket" not in found
    assert 'name="q" value="诊断"' in found


def test_series_form_takes_the_title_in_both_languages_and_its_fairs_get_each(client, login):
    from app.fairs.models import Series
    from app.fairs.series import make_due_fairs
    from tests.fairs.test_series_pages import _form

    login(make_organiser(locale="en"))
    empty = client.post("/series/new", data=_form(client, title=None, title_zh="", title_en=""))
    response = client.post("/series/new", data=_form(client, title=None, title_zh="河北云招商", title_en="Hebei cloud fair"))

    assert empty.status_code == 422 and 'id="title_zh-error"' in empty.text
    assert response.status_code == 302, response.text
    series = db.session.scalars(select(Series)).one()
    assert (series.title_zh, series.title_en) == ("河北云招商", "Hebei cloud fair")
    make_due_fairs(datetime(2027, 1, 1, tzinfo=timezone.utc))
    first = db.session.scalars(select(Fair).order_by(Fair.starts_at)).first()
    # The month's theme was typed in English only: the Chinese title falls back to it for that part.
    assert (first.title_zh, first.title_en) == ("河北云招商：Europe: new materials", "Hebei cloud fair: Europe: new materials")


def test_series_form_takes_each_months_theme_in_both_languages_and_shows_the_readers(client, login):
    from app.fairs.models import Series
    from tests.fairs.test_series_pages import _form

    organiser = make_organiser(locale="en")
    login(organiser)
    response = client.post("/series/new", data=_form(client, **{
        "themes-0-theme_zh": "欧洲：新材料", "themes-0-theme_en": "Europe: new materials",
        "themes-1-theme_zh": "北美：健康", "themes-1-theme_en": ""}))

    assert response.status_code == 302, response.text
    series = db.session.scalars(select(Series)).one()
    assert [(t["theme_zh"], t["theme_en"]) for t in series.themes] == [("欧洲：新材料", "Europe: new materials"),
                                                                      ("北美：健康", "")]
    english = client.get(f"/series/{series.id}").text
    api = client.get(f"/api/v1/series/{series.id}?lang=zh").json
    organiser.locale = "zh"
    db.session.commit()
    chinese = client.get(f"/series/{series.id}").text
    assert "<td>Europe: new materials</td>" in english and "欧洲：新材料" not in english
    assert '<span lang="zh-Hans">北美：健康</span> <small class="fallback-mark"' in english
    assert "<td>欧洲：新材料</td>" in chinese and "<td>北美：健康</td>" in chinese
    assert "Europe: new materials" not in chinese.split("<h2>")[1]  # the coming dates, not the fairs' titles
    assert {c["theme"] for c in api["coming"]} == {"欧洲：新材料", "北美：健康"}
    assert {(c["theme_i18n"]["zh"], c["theme_i18n"]["en"]) for c in api["coming"]} == {("欧洲：新材料", "Europe: new materials"),
                                                                        ("北美：健康", "")}


def test_series_form_theme_rows_in_two_languages_refuse_bad_input_beside_the_field(client, login):
    from app.fairs.models import Series
    from tests.fairs.test_series_pages import _form

    login(make_organiser(locale="zh"))
    too_long = client.post("/series/new", data=_form(client, **{"themes-1-theme_en": "x" * 301}))
    neither = client.post("/series/new", data=_form(client, **{"themes-0-theme_en": ""}))

    assert too_long.status_code == 422 and 'id="themes-1-theme_en-error"' in too_long.text
    assert neither.status_code == 422
    assert f'id="themes-0-theme_zh-error">{zh("Each month needs a theme.")}' in neither.text
    assert db.session.scalar(select(func.count(Series.id))) == 0


def test_series_form_post_with_one_theme_field_takes_it_in_the_authors_language(client, login):
    """A post from before the two fields (`themes-N-theme`) is read as the author's language."""
    from app.fairs.models import Series
    from tests.fairs.test_series_pages import _form

    login(make_organiser(locale="zh"))
    response = client.post("/series/new", data=_form(client, **{
        "themes-0-theme_en": None, "themes-0-theme": "欧洲：新材料", "themes-1-theme_en": None,
        "themes-1-theme": "健康"}))

    assert response.status_code == 302, response.text
    themes = db.session.scalars(select(Series)).one().themes
    assert [(t["theme"], t["theme_zh"], t["theme_en"]) for t in themes] == [("欧洲：新材料", "欧洲：新材料", ""),
                                                                           ("健康", "健康", "")]


def test_api_series_theme_in_a_language_other_than_zh_or_en_is_refused(client, auth):
    from app.fairs.models import Series

    response = client.post("/api/v1/series", json={
        "title": "Hebei cloud fair", "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00", "minutes": 240,
        "themes": [{"theme_i18n": {"de": "Europa"}, "focus_countries": ["DE"]}]}, headers=auth(make_organiser()))

    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == ["themes[0].theme_i18n"]
    assert db.session.scalar(select(func.count(Series.id))) == 0


# ---------------------------------------------------------------- tracks


TRACKS = [{"name_i18n": {"zh": "主会场", "en": "Main hall"}}, {"name_i18n": {"zh": "城市推介厅"}}]


def test_api_tracks_carry_both_languages_and_sessions_name_them_in_either(client, auth):
    organiser = make_organiser()

    created = client.post("/api/v1/fairs", json=_fair_body(tracks=TRACKS, lang="en"), headers=auth(organiser))
    assert created.status_code == 201, created.text
    fair_id = created.json["id"]
    session = client.post(f"/api/v1/fairs/{fair_id}/sessions", json={
        "title": "Opening", "kind": "panel", "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=1)).isoformat(), "track": "主会场"}, headers=auth(organiser))
    in_zh = client.get(f"/api/v1/fairs/{fair_id}?lang=zh", headers=auth(organiser)).json
    in_en = client.get(f"/api/v1/fairs/{fair_id}?lang=en", headers=auth(organiser)).json

    assert session.status_code == 201, session.text
    assert session.json["track_i18n"] == {"zh": "主会场", "en": "Main hall"}
    assert in_zh["tracks"] == ["主会场", "城市推介厅"]
    assert in_en["tracks"] == ["Main hall", "城市推介厅"]  # no English name: the Chinese one, unmarked
    assert [t["name_i18n"] for t in in_en["tracks_i18n"]] == [{"zh": "主会场", "en": "Main hall"},
                                                              {"zh": "城市推介厅", "en": ""}]
    assert (in_zh["sessions"][0]["track"], in_en["sessions"][0]["track"]) == ("主会场", "Main hall")


def test_api_renaming_a_track_in_one_language_keeps_its_sessions(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser, tracks=TRACKS)
    make_session(fair, organiser, track="Main hall")

    renamed = client.patch(f"/api/v1/fairs/{fair.id}", json={"tracks_i18n": [
        {"name_i18n": {"zh": "主会场", "en": "Main stage"}}, {"name_i18n": {"zh": "城市推介厅", "en": "City hall"}}]},
        headers=auth(organiser))

    assert renamed.status_code == 200, renamed.text
    assert [t["name_i18n"]["en"] for t in renamed.json["tracks_i18n"]] == ["Main stage", "City hall"]
    db.session.expire_all()
    assert bilingual.pair(db.session.scalars(select(FairSession)).one().track, "name") == {
        "zh": "主会场", "en": "Main stage"}


@pytest.mark.parametrize("tracks", [
    [{"name_i18n": {"fr": "Salle"}}],
    [{"name_i18n": {"zh": "", "en": ""}}],
    [{"name_i18n": {"zh": "主会场"}}, {"name_i18n": {"zh": "主会场", "en": "Other"}}],
    [{"name_i18n": {"en": "x" * 101}}],
    [7],
])
def test_api_refuses_bad_track_names_with_a_clear_error_and_writes_nothing(client, auth, tracks):
    organiser = make_organiser()

    response = client.post("/api/v1/fairs", json=_fair_body(tracks=tracks), headers=auth(organiser))

    assert response.status_code == 422, response.text
    assert list(response.json["error"]["details"]["fields"]) == ["tracks"]
    assert db.session.scalar(select(func.count(Fair.id))) == 0


def test_api_only_organisers_change_track_names(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser, tracks=TRACKS)

    refused = client.patch(f"/api/v1/fairs/{fair.id}", json={"tracks": ["Hijacked"]}, headers=auth(make_user()))

    assert refused.status_code in (403, 404)
    db.session.expire_all()
    assert [t.name_zh for t in db.session.get(Fair, fair.id).tracks] == ["主会场", "城市推介厅"]


def test_fair_page_shows_track_names_in_the_viewers_language_and_marks_a_fallback(client):
    organiser = make_organiser()
    fair = make_fair(organiser, tracks=TRACKS)
    make_session(fair, organiser, track="城市推介厅")
    make_session(fair, organiser, track="主会场", starts_at=fair.starts_at + timedelta(hours=2))

    english = client.get(f"/fairs/{fair.id}", headers={"Accept-Language": "en"}).text
    chinese = client.get(f"/fairs/{fair.id}", headers={"Accept-Language": "zh"}).text

    assert "<td>Main hall</td>" in english and "<td>主会场</td>" in chinese
    assert ('<span lang="zh-Hans">城市推介厅</span> <small class="fallback-mark" '
            'title="Not available in your language">(in Chinese)</small>') in english
    assert "<td>城市推介厅</td>" in chinese


def test_fair_form_takes_track_names_in_both_languages_side_by_side(client, login):
    login(make_organiser())

    page = client.get("/fairs/new").text
    response = _post_fair_form(client, title_en="Track fair", tracks_zh="主会场，城市推介厅", tracks_en="Main hall")

    assert 'name="tracks_zh"' in page and 'name="tracks_en"' in page
    assert response.status_code == 302, response.text
    fair = db.session.scalars(select(Fair)).one()
    assert [(t.name_zh, t.name_en) for t in fair.tracks] == [("主会场", "Main hall"), ("城市推介厅", None)]
    edit = client.get(f"/fairs/{fair.id}/edit").text
    assert 'value="主会场, 城市推介厅"' in edit and 'value="Main hall"' in edit, edit[edit.index("tracks_zh"):][:600]
    session_form = client.get(f"/fairs/{fair.id}/sessions/new").text
    assert ">Main hall</option>" in session_form and ">城市推介厅 (in Chinese)</option>" in session_form


def test_fair_form_with_a_gap_in_the_track_names_says_so_and_saves_nothing(client, login):
    login(make_organiser())

    response = _post_fair_form(client, title_en="Track fair", tracks_zh="主会场,,城市", tracks_en="")

    assert response.status_code == 422
    assert 'id="tracks_zh-error"' in response.text
    assert db.session.scalar(select(func.count(Fair.id))) == 0


def test_fair_form_without_track_names_gives_the_default_track_in_both_languages(client, login):
    login(make_organiser())

    response = _post_fair_form(client, title_en="Track fair", tracks_zh="", tracks_en="")

    assert response.status_code == 302, response.text
    fair = db.session.scalars(select(Fair)).one()
    assert [(t.name, t.name_zh, t.name_en) for t in fair.tracks] == [("main", "主会场", "main")]
