"""Two languages: the catalogue is complete, the language is chosen as the README says, and the switch works."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.i18n import format_amount, format_moment

from . import factories
from .conftest import csrf_from

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "pgettext": ((1, "c"), 2)}


def _marked_strings() -> dict[tuple[str, str | None], str]:
    """Every string marked for translation in the code and templates, as `pybabel extract` finds them:
    (msgid, context) → where; a plural's key is its singular, as in the catalogue."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS,
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    with open(PO, "rb") as handle:
        return read_po(handle, locale="zh")


def test_strings_are_marked_at_all():
    marked = _marked_strings()
    assert ("Log in", None) in marked  # base.html; an empty extraction would make the next test pass vacuously
    assert len(marked) > 50


def test_every_marked_string_has_a_chinese_translation(catalogue):
    missing = []
    for (msgid, context), where in sorted(_marked_strings().items(), key=lambda item: item[1]):
        message = catalogue.get(msgid, context=context)
        if message is None or not message.string or message.fuzzy or (
            isinstance(message.string, tuple) and not all(message.string)
        ):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, "No Chinese entry (run `make messages`, then translate):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders(catalogue):
    broken = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        try:
            python_format(catalogue, message)
        except Exception as exc:  # babel's TranslationError
            broken.append(f"{message.id!r}: {exc}")
    assert not broken, "\n".join(broken)


def test_accept_language_picks_chinese_for_visitors(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "<html lang=\"zh-CN\">" in page.get_data(as_text=True)
    assert "登录" in page.get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<html lang=\"en\">" in english.get_data(as_text=True)
    assert ">Log in<" in english.get_data(as_text=True)


def test_the_switch_sets_a_cookie_that_beats_accept_language(client):
    token = csrf_from(client.get("/login").text)
    response = client.post("/language", data={"lang": "zh", "next": "/?x=1", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/?x=1")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<html lang=\"zh-CN\">" in page


def test_the_switch_refuses_an_offsite_next_and_ignores_an_unknown_language(client):
    token = csrf_from(client.get("/login").text)
    response = client.post("/language", data={"lang": "fr", "next": "//evil.example/", "csrf_token": token})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
    assert "lang=" not in response.headers.get("Set-Cookie", "")


def test_a_visitors_switch_needs_no_token_and_cached_pages_carry_none(client):
    response = client.post("/language", data={"lang": "zh", "next": "/"})
    assert response.status_code == 302
    assert "lang=zh" in response.headers.get("Set-Cookie", "")
    assert 'name="csrf_token"' not in client.get("/").get_data(as_text=True).split('class="language-switch"')[1]


def test_a_signed_in_persons_switch_needs_the_csrf_token(client, login):
    from app.extensions import db

    user = factories.make_user("attendee", locale="en")
    login(user)
    response = client.post("/language", data={"lang": "zh"})
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.locale == "en"


def test_a_signed_in_persons_setting_wins_and_the_switch_saves_it(client, login):
    from app.extensions import db

    user = factories.make_user("attendee", locale="zh")
    login(user)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<html lang=\"zh-CN\">" in page
    token = csrf_from(client.get("/").text)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    db.session.refresh(user)
    assert user.locale == "en"
    assert "<html lang=\"en\">" in client.get("/").get_data(as_text=True)


def test_moments_are_written_the_locale_way_in_the_viewers_zone(app):
    from flask_babel import force_locale

    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # Berlin switches to summer time at 01:00 UTC
    with app.test_request_context("/"):
        with force_locale("en"):
            assert format_moment(moment, "Europe/Berlin") == "Sun 29 Mar 2026, 01:30"
            assert format_moment(moment.replace(hour=1, minute=30), "Europe/Berlin") == "Sun 29 Mar 2026, 03:30"
        with force_locale("zh"):
            assert format_moment(moment, "Asia/Shanghai") == "2026年3月29日 周日 08:30"
            assert format_moment(moment, "Asia/Shanghai", "date") == "2026年3月29日"


def test_amounts_group_their_digits_and_drop_whole_cents(app):
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("en"):
        assert format_amount("15000000", "EUR") == "EUR 15,000,000"
        assert format_amount("1234.5") == "1,234.50"
        assert format_amount(None) == "—"


def test_speaking_forces_a_language_parsed_once(app):
    """The live room's `speaking`: the same words as `force_locale`, with the language's `Locale` parsed
    once (the same object every time), and a code it does not keep still parsed."""
    from flask_babel import force_locale, get_locale, gettext

    from app import i18n

    with app.test_request_context():
        for code in i18n.LANGUAGES:
            with i18n.speaking(code):
                locale, words = get_locale(), gettext("Send a JSON object.")
            with force_locale(code):
                assert words == gettext("Send a JSON object.")
            assert locale is i18n._PARSED[code]
        with i18n.speaking("zh"):
            assert gettext("Send a JSON object.") != "Send a JSON object."
        with i18n.speaking("en_GB"):
            assert str(get_locale()) == "en_GB"
