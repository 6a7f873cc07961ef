"""Bounds on what a request may carry, so that no input reaches the database or the clock unchecked.

- Path ids: the `int` URL converter takes 0 … 2^31−1 (the database's INTEGER); a larger id cannot
  exist, so the route does not match and the answer is 404.
- Text: a NUL byte or a lone surrogate (neither can be stored, nor encoded as UTF-8) in the path, the
  query, a form field, a file name or any string of a JSON body is refused with 422 before any view runs.
- JSON: nested at most `MAX_JSON_DEPTH` deep (422 past that, before the parser recurses).
- Numbers and dates in bodies and filters: `Id`, `Int` and `AwareDateTime` below carry their ranges
  (422 naming the field); every list takes 1 ≤ page ≤ 2^31−1 and 1 ≤ per_page ≤ `MAX_PER_PAGE`.
- Socket.IO payloads: `check_payload` applies the same rules to an event's data (an error ack).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from flask import Flask, request
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

from .errors import ValidationFailed

#: The largest id (and integer) a column of type INTEGER holds on PostgreSQL.
MAX_INT = 2**31 - 1
MAX_JSON_DEPTH = 32
MAX_PER_PAGE = 100
#: Dates outside these years are refused: far enough for any fair, near enough that moving a moment
#: to another zone (±14 h) never leaves the calendar.
MIN_YEAR = 1900
MAX_YEAR = 2200

#: The text rule as the OpenAPI document states it on every free-text string (`app/openapi.py`): a JSON
#: Schema `pattern`, read alike by ECMA 262 and Python. (A lone surrogate is not valid UTF-8, so no
#: client's string can hold one; the server refuses it all the same.)
TEXT_PATTERN = r"^[^\u0000]*$"
#: A month as "YYYY-MM" in the years MIN_YEAR … MAX_YEAR (a filter's `from`/`to`/`month`; the document says it too).
MONTH_PATTERN = r"^(19[0-9][0-9]|2[01][0-9][0-9]|2200)-(0[1-9]|1[0-2])$"
#: A date or moment ("YYYY-…") in the years MIN_YEAR … MAX_YEAR, as the document states it.
YEARS_PATTERN = r"^(19[0-9][0-9]|2[01][0-9][0-9]|2200)-"
#: Text that must say something: no NUL, and at least one character that is not white space.
NONBLANK_PATTERN = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
#: An e-mail address as the server takes one (email-validator): the JSON Schema `email` format, and
#: a domain with a dot, none of the special-use domains it refuses.
EMAIL_PATTERN = r"^(?!.*\.(arpa|invalid|local|localhost|onion|test)\.?$)[^\u0000@]+@[^\u0000@]+\.[^\u0000@]+$"
#: A positive rate below 10^9 with at most six decimal places, e.g. "7.85" (no exponent, no sign).
RATE_PATTERN = (r"^([1-9][0-9]{0,8}(\.[0-9]{1,6})?|0?\.([1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}"
                r"|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|00000[1-9]))$")
#: A local time of day, "HH:MM".
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
#: Characters that show nothing although Unicode does not call them spaces (fillers, the braille blank).
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"))


def _invisible(ch: str) -> bool:
    return ch.isspace() or ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def has_visible_text(text: str) -> bool:
    """Whether a text shows anything: not only spaces, zero-width and other format characters
    (U+200B, U+FEFF, U+2060 …), control characters, combining marks or blank fillers."""
    return any(not _invisible(ch) for ch in text)


_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that matches only ids a row can have: 0 … 2^31−1 (else the route does not match: 404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_INT if max is None else max, signed=signed)


# ---------------------------------------------------------------- fields with their ranges


def Id(**kwargs) -> fields.Integer:
    """An id in a body or a filter: 1 … 2^31−1."""
    return Int(1, MAX_INT, **kwargs)


class _JsonBoolean(fields.Boolean):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # 0 and 1 equal False and True in Python: ask for the type
            raise self.make_error("invalid", input=value)
        return value


def Bool(**kwargs) -> fields.Boolean:
    """A JSON body's true or false, and nothing else (marshmallow also takes 0, 1, "yes", "on" …,
    which the document's `boolean` does not allow). Query strings keep marshmallow's words."""
    return _JsonBoolean(**kwargs)


def Int(minimum: int, maximum: int, **kwargs) -> fields.Integer:
    """An integer with its range (the range also goes into the OpenAPI document)."""
    extra = kwargs.pop("validate", None)
    error = kwargs.pop("error", None)  # a message of the field's own ("Give a length between …")
    validators = [validate.Range(min=minimum, max=maximum, error=error)]
    if extra is not None:
        validators += list(extra) if isinstance(extra, (list, tuple)) else [extra]
    return fields.Integer(validate=validators, **kwargs)


def check_year(value: date | datetime) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(lazy_gettext("Give a date between the years %(first)s and %(last)s.",
                                           first=MIN_YEAR, last=MAX_YEAR))


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 moment with an offset, in the years MIN_YEAR … MAX_YEAR."""

    def __init__(self, **kwargs) -> None:
        metadata = kwargs.pop("metadata", {}) or {}
        metadata.setdefault("description", f"ISO 8601 with an offset, years {MIN_YEAR}–{MAX_YEAR}")
        metadata.setdefault("pattern", YEARS_PATTERN)
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        check_year(moment)
        return moment


def moment_in_range(moment: datetime, field: str) -> datetime:
    """For code that parses a moment itself: refuse one outside the years (422 naming `field`)."""
    try:
        check_year(moment)
    except ValidationError as exc:
        raise ValidationFailed({field: [str(m) for m in exc.messages]}) from None
    return moment


# ---------------------------------------------------------------- the request's text and JSON


def bad_text(value: str | None) -> bool:
    """Whether text holds a NUL or a lone surrogate (None, e.g. a form part whose name the multipart
    parser could not read, holds neither)."""
    return value is not None and _BAD_TEXT.search(value) is not None


def _text_message() -> str:
    return gettext("Text may not contain NUL characters or unpaired surrogates.")


def json_depth(body: bytes) -> int:
    """How deep a JSON text nests (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _walk(value, path: str, depth: int = 0):
    """Yield (path, message) for each string, key or number of a parsed payload that breaks a rule."""
    if depth > MAX_JSON_DEPTH:
        yield path or "body", gettext("The JSON is nested too deeply (at most %(max)s levels).", max=MAX_JSON_DEPTH)
        return
    if isinstance(value, str):
        if bad_text(value):
            yield path or "body", _text_message()
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            where = f"{path}.{key_text}" if path else key_text
            if bad_text(key_text):
                yield "body", _text_message()
                continue
            yield from _walk(item, where, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}" if path else str(index), depth + 1)


def _refuse(problems) -> None:
    fields_: dict[str, list[str]] = {}
    for where, message in problems:
        fields_.setdefault(where, [])
        if message not in fields_[where]:
            fields_[where].append(message)
    if fields_:
        raise ValidationFailed(fields_)


def check_request() -> None:
    """before_request: refuse NUL bytes and lone surrogates anywhere in the request's text, and JSON
    nested deeper than MAX_JSON_DEPTH (422, in the standard error shape)."""
    problems: list[tuple[str, str]] = []
    if "\x00" in request.path:
        problems.append(("path", _text_message()))
    for key, value in request.args.items(multi=True):
        if bad_text(key) or bad_text(value):
            problems.append((key if not bad_text(key) else "query", _text_message()))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            for key, value in request.form.items(multi=True):
                if bad_text(key) or bad_text(value):
                    problems.append((key if not bad_text(key) else "form", _text_message()))
            for key, upload in request.files.items(multi=True):
                if upload.filename and bad_text(upload.filename):
                    problems.append((key, _text_message()))
        elif request.is_json:
            body = request.get_data(cache=True)
            if body:
                if json_depth(body) > MAX_JSON_DEPTH:
                    raise ValidationFailed({"body": gettext(
                        "The JSON is nested too deeply (at most %(max)s levels).", max=MAX_JSON_DEPTH)})
                parsed = request.get_json(silent=True)
                if parsed is not None:
                    problems.extend(_walk(parsed, ""))
    _refuse(problems)


def check_payload(data) -> None:
    """A Socket.IO event's data: the same text and depth rules, and every integer within 0 … 2^31−1."""
    problems = list(_walk(data, ""))
    problems.extend(_out_of_range(data, ""))
    _refuse(problems)


def _out_of_range(value, path: str, depth: int = 0):
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not 0 <= value <= MAX_INT:
            yield path or "body", gettext("Give a number between %(min)s and %(max)s.", min=0, max=MAX_INT)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _out_of_range(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _out_of_range(item, f"{path}.{index}" if path else str(index), depth + 1)


def init_converters(app: Flask) -> None:
    """The bounded `int` converter: before any route is added."""
    app.url_map.converters["int"] = BoundedIntConverter


def init_request_check(app: Flask) -> None:
    """The text and depth check, after the access check (a stranger learns nothing from it)."""
    app.before_request(check_request)
