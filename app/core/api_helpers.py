"""What the API modules share: one declaration per operation (`ApiBlueprint.operation`, declared in
the shared `app/openapi.py` beside `answers` so that identity's API uses it too), the caller of a
public read, list bodies and list schemas, the bilingual text fields of a write and a read, and a
field that takes an enum's code."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields

from ..openapi import ApiBlueprint  # noqa: F401 (the API modules take it from here)
from ..schemas import i18n_in, i18n_out, lang_in, page_body, text_out
from ..validation import CheckedField


def caller():
    """Who reads: the signed-in person, or None for an anonymous reader of a public operation."""
    return current_user if current_user.is_authenticated else None


def listing(items: Sequence) -> dict:
    """A whole list as a body: `{"items", "total"}`."""
    return {"items": items, "total": len(items)}


def page_from_list(items: Sequence, args: dict) -> dict:
    """The page `args` asks for (`page`, `per_page`) of a list read whole, with the list's length as total."""
    start = (args["page"] - 1) * args["per_page"]
    return page_body(items[start:start + args["per_page"]], len(items), args)


def list_of(item_schema: type[Schema], name: str, *, total: bool = True) -> type[Schema]:
    """A whole-list schema `{"items": [...], "total"}` (without `total`: `{"items"}`) for `item_schema`."""
    declared: dict[str, fields.Field] = {"items": fields.List(fields.Nested(item_schema))}
    if total:
        declared["total"] = fields.Integer()
    return type(name, (Schema,), declared)


def bilingual_write(first: str, second: str | None = None, *, described: bool = True) -> type[Schema]:
    """The head of a write that holds text in two languages: `<first>` in the author's language (described,
    unless `described` is false) and `<first>_i18n`; then `<second>` (nullable) and `<second>_i18n` where
    given; then `lang`, the language of the plain fields."""
    declared: dict[str, fields.Field] = {
        first: fields.String(metadata={"description": f"the {first} in the author's language; or give {first}_i18n"})
        if described else fields.String(),
        f"{first}_i18n": i18n_in(first),
    }
    if second is not None:
        declared[second] = fields.String(allow_none=True)
        declared[f"{second}_i18n"] = i18n_in(second)
    declared["lang"] = lang_in()
    return type(f"Bilingual{first.title()}Write", (Schema,), declared)


def bilingual_read(first: str, second: str | None = None) -> type[Schema]:
    """The head of a read of a row that holds text in two languages: `id`, `<first>` in the reader's
    language and `<first>_i18n`, then likewise `<second>` where given."""
    declared: dict[str, fields.Field] = {"id": fields.Integer()}
    for name in (first, second) if second is not None else (first,):
        declared[name] = text_out(name)
        declared[f"{name}_i18n"] = i18n_out(name)
    return type(f"Bilingual{first.title()}Read", (Schema,), declared)


class EnumCode(CheckedField, fields.String):
    """A code of `enum` (a StrEnum), checked with CloudFair's message naming the codes in order."""

    def __init__(self, enum, **kwargs):
        super().__init__(**kwargs)
        self.enum = enum

    def check(self, value):
        if value not in {member.value for member in self.enum}:
            raise ValidationError(gettext("Must be one of: %(choices)s.",
                                          choices=", ".join(member.value for member in self.enum)))
        return value
