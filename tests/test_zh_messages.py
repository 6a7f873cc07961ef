"""Errors, labels, lists and imports read in Chinese, without English or codes (issue 14, point 2)."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from app.people import people_import
from app.accounts.enums import KIND_LABELS, ROLE_LABELS
from app.errors import ValidationFailed
from app.extensions import db
from app.leads import enums as lead_enums
from app.live import views as live_views
from app.reference.services import country_choices, country_codes
from app.validation import translate_message
from tests.conftest import csrf_from
from tests.factories import make_organiser, make_user
from tests.i18n import zh


def test_a_refused_role_reads_its_refusal_in_chinese(client, login):
    attendee = make_user(locale="zh")
    login(attendee)
    page = client.get("/people/import")
    assert page.status_code == 403
    assert zh("Your role may not do this.") in page.text and "Your role may not do this." not in page.text
    api = client.get("/api/v1/organisations", headers={"Accept": "application/json"})
    assert api.status_code == 403 and api.json["error"]["message"] == zh("Your role may not do this.")


def test_field_errors_name_the_field_by_its_label_and_keep_the_code_in_details(app):
    with app.test_request_context("/"), force_locale("zh"):
        exc = ValidationFailed({"title": "太长", "themes[0].theme": "缺少", "zz_unknown": "不对"})
        assert exc.message == f"{zh('Title')}：太长；{zh('Theme')}：缺少；不对"
        assert set(exc.details["fields"]) == {"title", "themes[0].theme", "zz_unknown"}
        assert "title:" not in exc.message and "zz_unknown" not in exc.message


def test_marshmallow_and_webargs_messages_are_said_in_chinese(client, auth):
    organiser = make_organiser(locale="zh")
    headers = {**auth(organiser), "Accept-Language": "zh"}
    missing = client.post("/api/v1/fairs", json={}, headers=headers)
    assert missing.status_code == 422
    error = missing.json["error"]
    assert error["details"]["fields"]["starts_at"] == [zh("This field is required.")]
    assert "Missing data" not in error["message"] and "starts_at" not in error["message"]
    assert zh("Starts") + "：" + zh("This field is required.") in error["message"]
    bounds = client.get("/api/v1/fairs?per_page=0", headers=headers)
    assert bounds.status_code == 422
    assert bounds.json["error"]["details"]["fields"]["per_page"] == [zh("Must be from %(min)s to %(max)s.", min=1, max=100)]


def test_translate_message_reads_placeholders_and_leaves_our_own_words(app):
    with app.test_request_context("/"), force_locale("zh"):
        assert translate_message("Longer than maximum length 200.") == zh("Give at most %(max)s characters or items.", max=200)
        assert translate_message("Must be one of: a, b.") == zh("Must be one of: %(choices)s.", choices="a, b")
        assert translate_message("已经是中文。") == "已经是中文。"


def test_one_label_per_interest_level_everywhere():
    assert live_views.LEVEL_LABELS is lead_enums.LEVEL_LABELS
    assert zh("Send more information") == "索取更多资料"


def test_role_and_kind_labels_live_in_one_place(app):
    from app.people import organisations
    from app.templating import role_label

    assert organisations.kind_label is not None and role_label("attendee") == str(ROLE_LABELS["attendee"])
    with app.test_request_context("/"), force_locale("zh"):
        assert organisations.kind_label("city_bureau") == str(KIND_LABELS["city_bureau"]) == zh("City commerce bureau")


def test_stall_nudge_names_the_stage_not_its_code(app):
    from app.leads.models import Lead
    from app.notifications import reminders
    from app.notifications.models import MailMessage
    from app.types import utcnow
    from tests.factories import make_fair, make_presenter, make_project

    organiser = make_organiser()
    attendee = make_user(locale="zh")
    project = make_project(make_presenter())
    lead = Lead(project=project, organisation=attendee.organisation, owner=attendee, stage="performing",
                last_progress_at=utcnow() - timedelta(days=200))
    db.session.add(lead)
    db.session.commit()
    assert make_fair(organiser) is not None
    reminders.lead_reminders(utcnow())
    mails = db.session.scalars(sa.select(MailMessage).where(MailMessage.to_address == attendee.email)).all()
    assert mails, "no stall nudge was queued"
    with force_locale("zh"):
        label = zh("Performing")
    assert f"（阶段：{label}）" in mails[0].text_body and "performing" not in mails[0].text_body
    assert label in mails[0].html_body and "performing" not in mails[0].html_body


def _plan(organiser, text: str):
    return people_import.plan(organiser, ("\ufeff" + text).encode("utf-8"))


def test_the_import_reads_chinese_role_and_kind_names(app):
    organiser = make_organiser()
    with app.test_request_context("/"), force_locale("zh"):
        report = _plan(organiser, "姓名,邮箱,角色,单位,类型\n"
                                  "张伟,zhang.wei@example.org,参会代表,石家庄市商务局,城市商务局\n"
                                  "Anna,anna@example.com,推介嘉宾,Bavaria Invest,招商机构\n"
                                  "Bo,bo@example.com,Presenter,Bo Org,Industrial park\n")
    assert report.ok, report.errors
    assert [r.values["role"] for r in report.rows] == ["attendee", "presenter", "presenter"]
    assert [r.values["kind"] for r in report.rows] == ["city_bureau", "agency", "park"]


def test_the_import_says_its_own_problems_in_chinese(app):
    organiser = make_organiser()
    with app.test_request_context("/"), force_locale("zh"):
        report = _plan(organiser, "name,email,role,organisation\n张伟,zhang.wei.example.org,老板,某单位\n")
        messages = {e["column"]: e["message"] for e in report.errors}
        assert messages["email"] == zh("An e-mail address must have an @ sign, as in name@example.com.")
        assert "@-sign" not in messages["email"]
        assert messages["role"] == zh("Unknown role; use one of: %(choices)s.", choices="组织方、推介嘉宾、参会代表")


def test_the_import_template_is_in_the_readers_language_and_imports_as_it_is(client, login, app):
    organiser = make_organiser(locale="zh")
    login(organiser)
    body = client.get("/people/import/template.csv").data.decode("utf-8-sig")
    header, first = body.splitlines()[:2]
    assert header == "姓名,电子邮箱,角色,单位,类型,城市,国家,时区,语言"
    assert "参会代表" in first and "城市商务局" in first and "中国" in first and "attendee" not in first
    with app.test_request_context("/"):
        assert _plan(organiser, body).ok


def test_the_preview_shows_names_not_codes(client, login):
    organiser = make_organiser(locale="zh")
    login(organiser)
    page = client.get("/people/import")
    data = {"csrf_token": csrf_from(page.text),
            "file": (io.BytesIO("name,email,role,organisation,kind,country\n张伟,zw@example.org,attendee,某局,park,DE\n"
                                .encode()), "people.csv")}
    preview = client.post("/people/import", data=data, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.text
    assert zh("attendee") in preview.text and zh("Industrial park") in preview.text and "德国" in preview.text
    assert ">attendee<" not in preview.text and ">park<" not in preview.text and ">email<" not in preview.text


def test_countries_are_sorted_by_pinyin_in_chinese_and_by_name_in_english(app):
    chinese = [name for _, name in country_choices("zh")]
    assert chinese.index("阿尔巴尼亚") < chinese.index("德国") < chinese.index("法国") < chinese.index("中国")
    english = [name for _, name in country_choices("en")]
    assert english.index("Albania") < english.index("Germany") < english.index("Zambia")
    assert english.index("Åland Islands") < english.index("Albania")  # accents sort as their letter


def test_reserved_codes_are_no_countries(app):
    assert not {"AC", "CP", "CQ", "DG", "EA", "IC", "TA"} & country_codes()
    assert all(name != code for code, name in country_choices("zh"))
