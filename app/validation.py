"""Validation messages in the reader's language.

marshmallow and webargs write their messages in English ("Missing data for required field."). Rather
than configure `error_messages` on every field, `translate_message` recognises each of their default
messages (with its placeholders) and says it through gettext; a message of our own passes unchanged.
Error messages name a field by its translated label (`field_label`), never by its code: the codes stay,
dotted for nested fields ("themes.0.theme"), in the JSON error's `details.fields`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

from flask_babel import gettext, lazy_gettext
from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, post_load, pre_load, validates_schema

#: marshmallow's and webargs' default messages (English, `{placeholder}` as they write them) → our msgid.
#: The msgids are literals so that `make messages` finds them.
_DEFAULTS: list[tuple[str, object]] = [
    ("Missing data for required field.", lazy_gettext("This field is required.")),
    ("Field may not be null.", lazy_gettext("This field may not be empty (null).")),
    ("Invalid value.", lazy_gettext("Invalid value.")),
    ("Invalid input.", lazy_gettext("Invalid value.")),
    ("Invalid input type.", lazy_gettext("The value has the wrong type.")),
    ("Invalid type.", lazy_gettext("The value has the wrong type.")),
    ("Unknown field.", lazy_gettext("This field is not known here.")),
    ("Invalid JSON body.", lazy_gettext("The request body is not valid JSON.")),
    ("Not a valid string.", lazy_gettext("Not a valid text.")),
    ("Not a valid utf-8 string.", lazy_gettext("Not a valid text.")),
    ("Not a valid integer.", lazy_gettext("Not a whole number.")),
    ("Not a valid number.", lazy_gettext("Not a valid number.")),
    ("Number too large.", lazy_gettext("The number is too large.")),
    ("Special numeric values (nan or infinity) are not permitted.", lazy_gettext("Give a finite number.")),
    ("Not a valid boolean.", lazy_gettext("Give true or false.")),
    ("Not a valid list.", lazy_gettext("Give a list.")),
    ("Not a valid tuple.", lazy_gettext("Give a list.")),
    ("Not a valid mapping type.", lazy_gettext("Give an object (a mapping).")),
    ("Not a valid email address.", lazy_gettext("Not a valid e-mail address.")),
    ("Not a valid URL.", lazy_gettext("Not a valid web address (URL).")),
    ("Not a valid UUID.", lazy_gettext("Not a valid identifier (UUID).")),
    ("Not a valid date.", lazy_gettext("Give a date as YYYY-MM-DD.")),
    ("Not a valid datetime.", lazy_gettext("Give a date and time (ISO 8601).")),
    ("Not a valid time.", lazy_gettext("Give a time as HH:MM.")),
    ("Not a valid period of time.", lazy_gettext("Not a valid length of time.")),
    ("Not a valid naive datetime.", lazy_gettext("Give a date and time without a UTC offset.")),
    ("Not a valid aware datetime.", lazy_gettext("Give a date and time with a UTC offset (ISO 8601).")),
    ("Not a valid IP address.", lazy_gettext("Not a valid IP address.")),
    ('"{input}" cannot be formatted as a date.', lazy_gettext("This cannot be written as a date.")),
    ('"{input}" cannot be formatted as a {obj_type}.', lazy_gettext("This cannot be written as a date or time.")),
    ("String does not match expected pattern.", lazy_gettext("The value does not have the expected form.")),
    ("Must be one of: {choices}.", lazy_gettext("Must be one of: %(choices)s.")),
    ("One or more of the choices you made was not in: {choices}.", lazy_gettext("Choose only from: %(choices)s.")),
    ("Must be equal to {other}.", lazy_gettext("Must be %(other)s.")),
    ("Shorter than minimum length {min}.", lazy_gettext("Give at least %(min)s characters or items.")),
    ("Longer than maximum length {max}.", lazy_gettext("Give at most %(max)s characters or items.")),
    ("Length must be between {min} and {max}.", lazy_gettext("Give %(min)s to %(max)s characters or items.")),
    ("Length must be {equal}.", lazy_gettext("Give exactly %(equal)s characters or items.")),
    # Flask-WTF's reasons for refusing a form (shown inside our CSRF message).
    ("The CSRF token is missing.", lazy_gettext("the form carries no token")),
    ("The CSRF session token is missing.", lazy_gettext("the session has no token; cookies may be blocked")),
    ("The CSRF token has expired.", lazy_gettext("the form has expired")),
    ("The CSRF token is invalid.", lazy_gettext("the token is not valid")),
    ("The CSRF tokens do not match.", lazy_gettext("the token belongs to another session")),
    ("The referrer header is missing.", lazy_gettext("the browser sent no referrer")),
    ("The referrer does not match the host.", lazy_gettext("the form came from another site")),
    ("Must be greater than or equal to {min} and less than or equal to {max}.",
     lazy_gettext("Must be from %(min)s to %(max)s.")),
    ("Must be greater than {min} and less than {max}.", lazy_gettext("Must be above %(min)s and below %(max)s.")),
    ("Must be greater than or equal to {min} and less than {max}.",
     lazy_gettext("Must be at least %(min)s and below %(max)s.")),
    ("Must be greater than {min} and less than or equal to {max}.",
     lazy_gettext("Must be above %(min)s and at most %(max)s.")),
    ("Must be greater than or equal to {min}.", lazy_gettext("Must be at least %(min)s.")),
    ("Must be greater than {min}.", lazy_gettext("Must be above %(min)s.")),
    ("Must be less than or equal to {max}.", lazy_gettext("Must be at most %(max)s.")),
    ("Must be less than {max}.", lazy_gettext("Must be below %(max)s.")),
]


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)(?:![rs])?\}", template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$", re.S)


_PATTERNS = [(_pattern(english), ours) for english, ours in _DEFAULTS]


def translate_message(message: object) -> str:
    """One of marshmallow's or webargs' English messages in the reader's language; any other as it is."""
    text = str(message)
    for pattern, ours in _PATTERNS:
        found = pattern.match(text)
        if found:
            return gettext(ours._args[0], **found.groupdict())  # type: ignore[attr-defined]
    return text


#: Field codes (as services and schemas name them) → the label a person reads.
FIELD_LABELS = {
    "title": lazy_gettext("Title"),
    "summary": lazy_gettext("Summary"),
    "description": lazy_gettext("Description"),
    "sector": lazy_gettext("Sector"),
    "sectors": lazy_gettext("Sectors"),
    "file": lazy_gettext("File"),
    "note": lazy_gettext("Note"),
    "text": lazy_gettext("Text"),
    "decision": lazy_gettext("Decision"),
    "languages": lazy_gettext("Languages"),
    "replaces": lazy_gettext("Replaces"),
    "owner_id": lazy_gettext("Owner"),
    "local_start": lazy_gettext("Local start time"),
    "minutes": lazy_gettext("Length in minutes"),
    "starts_on": lazy_gettext("First date"),
    "starts_at": lazy_gettext("Starts"),
    "ends_at": lazy_gettext("Ends"),
    "themes": lazy_gettext("Themes"),
    "theme": lazy_gettext("Theme"),
    "capacity": lazy_gettext("Capacity"),
    "rrule": lazy_gettext("Recurrence rule"),
    "status": lazy_gettext("Status"),
    "waitlist": lazy_gettext("Waiting list"),
    "tracks": lazy_gettext("Tracks"),
    "presenter_id": lazy_gettext("Presenter"),
    "project_id": lazy_gettext("Project"),
    "session_id": lazy_gettext("Session"),
    "fair_id": lazy_gettext("Fair"),
    "lead_id": lazy_gettext("Lead"),
    "amount": lazy_gettext("Amount"),
    "currency": lazy_gettext("Currency"),
    "rate": lazy_gettext("Rate"),
    "client_id": lazy_gettext("Client"),
    "from": lazy_gettext("From"),
    "to": lazy_gettext("To"),
    "city": lazy_gettext("City"),
    "country": lazy_gettext("Country"),
    "stage": lazy_gettext("Stage"),
    "days": lazy_gettext("Days"),
    "level": lazy_gettext("Interest"),
    "email": lazy_gettext("E-mail"),
    "password": lazy_gettext("Password"),
    "name": lazy_gettext("Name"),
    "role": lazy_gettext("Role"),
    "kind": lazy_gettext("Kind"),
    "organisation": lazy_gettext("Organisation"),
    "organisation_id": lazy_gettext("Organisation"),
    "timezone": lazy_gettext("Time zone"),
    "locale": lazy_gettext("Language"),
    "page": lazy_gettext("Page"),
    "per_page": lazy_gettext("Per page"),
    "q": lazy_gettext("Search"),
    "bio": lazy_gettext("About"),
    "next_action": lazy_gettext("Next action"),
    "next_action_on": lazy_gettext("Next action due"),
}


def field_label(code: str) -> str | None:
    """The label of a field code, a dotted one by its last named part ("themes.0.theme" → Theme);
    None when the code names nothing a person knows (the message then stands alone)."""
    for part in reversed(re.split(r"[.\[\]]+", str(code))):
        if part in FIELD_LABELS:
            return str(FIELD_LABELS[part])
        base, _, language = part.rpartition("_")
        if base in FIELD_LABELS and language in ("zh", "en", "i18n"):  # title_en, title_i18n (bilingual content)
            if language == "i18n":
                return str(FIELD_LABELS[base])
            return gettext("%(field)s (%(language)s)", field=FIELD_LABELS[base],
                           language=gettext("Chinese") if language == "zh" else gettext("English"))
    return None


def fields_message(fields: dict[str, list[str]]) -> str:
    """One sentence for a set of field errors: "Title: Give a title…; Capacity: …" in the reader's
    language, each field by its label (or no label), never its code."""
    parts = []
    for code, messages in fields.items():
        label = field_label(code)
        said = " ".join(str(m) for m in messages)
        parts.append(gettext("%(field)s: %(message)s", field=label, message=said) if label else said)
    return gettext("; ").join(parts)


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {code: [message, …]}: nested fields under dotted codes
    ("themes.0.theme"), each message in the reader's language."""
    fields: dict[str, list[str]] = {}

    def add(code: str, msgs) -> None:
        if isinstance(msgs, dict):  # nested schema or list index
            for key, inner in msgs.items():
                add(f"{code}.{key}" if code else str(key), inner)
            return
        items = msgs if isinstance(msgs, list) else [msgs]
        fields.setdefault(code or "_schema", []).extend(translate_message(m) for m in items)

    add(prefix, messages)
    return fields


class CheckedField(fields.Field, ABC):
    """A field whose `check(value)` sees every given value, null included (services' callers pass None
    for "empty"), and raises `ValidationError` with CloudFair's own message. Mix it in before the
    marshmallow type the document should show: `class Kind(CheckedField, fields.String)`. Abstract:
    each field defines `check`."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is missing:
            return super().deserialize(value, attr, data, **kwargs)
        return self.check(value)

    @abstractmethod
    def check(self, value):
        """The loaded value, or `ValidationError` with the field's message."""


class CrossFieldSchema(Schema):
    """A service's input whose checks across fields (`check_together`) read the input as it was given
    and derive values from several fields (a text in each language, a row found by name); the loaded
    values carry what they derive, and every field's message comes at once. Each schema says in
    `prepare` what its checks read and what its fields load; the fields in `consumed` are read only by
    its checks (what they derive replaces them)."""

    class Meta:
        unknown = EXCLUDE

    consumed: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._given: dict = {}
        self._derived: dict = {}

    def prepare(self, data: dict) -> tuple[dict, dict]:
        """The input as the checks across fields read it, and the input the fields load."""
        return data, data

    @abstractmethod
    def check_together(self, data: dict, values: dict, derived: dict, errors: dict[str, list[str]]) -> None:
        """Add to `derived` what the given `data` and the fields' `values` make, to `errors` each bad
        field's messages."""

    @pre_load
    def _keep_given(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        self._given, data = self.prepare(data)
        return data

    @validates_schema(skip_on_field_errors=False)
    def _together(self, values, **kwargs):
        errors: dict[str, list[str]] = {}
        derived: dict = {}
        self.check_together(self._given, values, derived, errors)
        self._derived = derived
        if errors:
            raise ValidationError(errors)

    @post_load
    def _with_derived(self, values, **kwargs):
        values = {**values, **self._derived}
        for key in self.consumed:
            values.pop(key, None)
        return values
