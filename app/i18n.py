"""Languages: which one a request gets and locale-aware formatting (the switch on every page is
`app/accounts/views.py: switch_language`).

The language is the signed-in person's setting, else the `lang` cookie set by the switch, else the
browser's Accept-Language, else English. Strings are marked with `gettext`/`lazy_gettext` (`_` in
templates); the Chinese catalogue is app/translations/zh/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal
from flask import has_request_context, request
from flask_babel import force_locale, get_locale
from flask_login import current_user


LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
COOKIE = "lang"
#: Each language as babel's `Locale`, parsed once (`speaking`).
_PARSED = {code: Locale.parse(code) for code in LANGUAGES}


def select_locale() -> str:
    if not has_request_context():
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or "en"


def speaking(locale: str):
    """`flask_babel.force_locale` with the language parsed once: given a code, it parses it on every
    call (about 20 µs of a live event's CPU, and every live event speaks its person's language)."""
    return force_locale(_PARSED.get(locale, locale))


def ui_locale() -> str:
    """'zh' or 'en' for the current request (or the locale forced around a mail)."""
    return "zh" if str(get_locale() or "en").startswith("zh") else "en"


def enum_label(labels: Mapping[StrEnum, Any], value):
    """`value` as `labels` says it in the reader's language; a value that is not one of the enum's codes
    is shown as it is."""
    enum = type(next(iter(labels)))
    try:
        return str(labels[enum(value)])
    except ValueError:
        return value


class LabelledEnum(StrEnum):
    """A StrEnum whose members are declared with the words people read for them, code and label
    together: `INFO = "info", lazy_gettext("Send more information")`. The code stays in the database
    and the API; `member.label` is translated when it is shown."""

    label: Any

    def __new__(cls, value: str, label: Any):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict:
        """Each member and its label, in the order they are declared (a form's choices, a legend)."""
        return {member: member.label for member in cls}

    @classmethod
    def label_of(cls, value):
        """`value` in the reader's language; a value that is not one of the codes is shown as it is."""
        return enum_label(cls.labels(), value)


def _babel_locale() -> str:
    return "zh_Hans_CN" if ui_locale() == "zh" else "en_GB"


# Formats per locale: the same information, each in the order and words its readers expect.
_FORMATS = {
    "zh": {"datetime": "y年M月d日 EEE HH:mm", "date": "y年M月d日", "time": "HH:mm", "month": "y年M月"},
    "en": {"datetime": "EEE d MMM y, HH:mm", "date": "d MMM y", "time": "HH:mm", "month": "MMMM y"},
}


def repeated_hour_suffix(moment: datetime, zone: str) -> str:
    """" (UTC+02:00)" when the moment's local time in `zone` occurs twice (the hour repeated when the
    clocks go back), else "": pages and mails name which of the two they mean (README, calendar)."""
    local = moment.astimezone(ZoneInfo(zone))
    if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
        return ""
    minutes = int(local.utcoffset().total_seconds() // 60)
    return f" (UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def format_moment(moment: datetime | None, zone: str, kind: str = "datetime") -> str:
    """A stored UTC moment in `zone`, as the current locale writes it (`kind`: datetime, date, time, month);
    a time in a repeated hour carries its UTC offset."""
    if moment is None:
        return ""
    pattern = _FORMATS[ui_locale()][kind]
    text = babel_format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=_babel_locale())
    return text + repeated_hour_suffix(moment, zone) if kind in ("datetime", "time") else text


def format_amount(value, currency: str | None = None) -> str:
    """1234567.5 → "EUR 1,234,567.50" (whole amounts without the cents), digits grouped for the locale."""
    if value in (None, ""):
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    pattern = "#,##0" if number == number.to_integral_value() else "#,##0.00"
    text = format_decimal(number, format=pattern, locale=_babel_locale())
    return f"{currency} {text}" if currency else text


def compile_catalogues(app) -> None:
    """Build each messages.mo from its messages.po when it is missing or older (fresh clones, tests).

    `make translations` does the same ahead of time; writing to a temporary file and renaming keeps
    several processes starting at once from reading half a file.
    """
    import os
    import tempfile

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = os.path.join(app.root_path, "translations")
    for language in LANGUAGES:
        po = os.path.join(root, language, "LC_MESSAGES", "messages.po")
        mo = po[:-3] + ".mo"
        if not os.path.exists(po):
            continue
        if os.path.exists(mo) and os.path.getmtime(mo) > os.path.getmtime(po):
            continue  # strictly newer: a .po saved in the same second as the .mo is compiled again
        with open(po, "rb") as handle:
            catalogue = read_po(handle, locale=language)
        try:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(po), suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as handle:
                write_mo(handle, catalogue, use_fuzzy=False)
            os.chmod(tmp, 0o644)
            os.replace(tmp, mo)
        except OSError as exc:  # a read-only install: `make translations` built it beforehand
            app.logger.warning("Could not compile %s: %s", po, exc)
