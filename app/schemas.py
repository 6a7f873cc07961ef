"""Schemas every API shares: pagination and the error body."""

from marshmallow import INCLUDE, Schema, fields, validate

from .bounds import EMAIL_PATTERN, MAX_INT, MAX_PER_PAGE, NONBLANK_PATTERN, TEXT_PATTERN, Int
from .errors import ValidationFailed
from .validation import flatten_messages

LANG_CODES = ("zh", "en")


def load(schema: Schema, data, **kwargs) -> dict:
    """Load `data` with a marshmallow `schema`: the one way a service checks its input.

    Raises ValidationFailed naming each bad field (dotted codes for nested ones) in the reader's
    language; nothing is changed before that.
    """
    from marshmallow import ValidationError

    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise ValidationFailed(flatten_messages(exc.messages)) from None


# The document states the rules a service checks itself (so that the service keeps its own messages):
# each helper is a plain `String` whose OpenAPI property carries the rule.


def email_in(**kwargs) -> fields.Field:
    """An e-mail address a client sends (the service normalises and checks it)."""
    return fields.String(metadata={"format": "email", "maxLength": 254, "pattern": EMAIL_PATTERN}, **kwargs)


def one_of(values, **kwargs) -> fields.Field:
    """A code from a fixed list the service checks (null too where the field takes it)."""
    enum: list = sorted(values)
    if kwargs.get("allow_none") or ("load_default" in kwargs and kwargs["load_default"] is None):
        enum.append(None)
    metadata = kwargs.pop("metadata", {}) or {}
    return fields.String(metadata={"enum": enum, **metadata}, **kwargs)


def nonblank(**kwargs) -> fields.Field:
    """Text that must hold more than white space."""
    metadata = kwargs.pop("metadata", {}) or {}
    return fields.String(metadata={"pattern": NONBLANK_PATTERN, **metadata}, **kwargs)


def matching(pattern: str, **kwargs) -> fields.Field:
    """Text the service checks against `pattern`."""
    metadata = kwargs.pop("metadata", {})
    return fields.String(metadata={"pattern": pattern, **metadata}, **kwargs)


def i18n_object() -> dict:
    """The OpenAPI schema of a write's `{"zh": …, "en": …}`: only those keys, text or null."""
    text = {"type": "string", "pattern": TEXT_PATTERN, "nullable": True}
    return {"type": "object", "additionalProperties": False, "properties": {"zh": dict(text), "en": dict(text)}}


def i18n_in(field: str) -> fields.Field:
    """A write's `<field>_i18n`: {"zh": "…", "en": "…"}, checked by the service (app/bilingual.py)."""
    return fields.Raw(allow_none=True, metadata={
        **i18n_object(),
        "description": f"the {field} in each language; at least one (with `{field}`) where the {field} is required",
    })


def i18n_out(field: str) -> fields.Field:
    """A read's `<field>_i18n`: both languages, "" where one is missing."""
    from .bilingual import pair

    return fields.Function(lambda obj: pair(obj, field), metadata={
        "type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
        "description": f"the {field} in each language (\"\" where missing)",
    })


def organisation_i18n_out(person=lambda obj: obj) -> fields.Field:
    """A read's `organisation_i18n`: the name of the person's organisation in each language (beside
    `organisation`, the registered name), null when the person has none."""
    from .bilingual import pair

    def names(obj):
        organisation = getattr(person(obj), "organisation", None)
        return pair(organisation, "name") if organisation is not None else None

    return fields.Function(names, allow_none=True, metadata={
        "type": "object", "nullable": True, "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
        "description": "the organisation's name in each language (\"\" where missing)",
    })


def text_out(field: str, **kwargs) -> fields.Field:
    """A read's `<field>`: the text in the request's language (`lang`, else the user's or Accept-Language),
    else in the other language."""
    from .bilingual import text

    return fields.Function(lambda obj: text(obj, field), metadata={"type": "string"}, **kwargs)


def lang_in() -> fields.Field:
    return fields.String(validate=validate.OneOf(LANG_CODES), metadata={
        "description": "the language plain text fields of this body are in (default: the author's setting)"})


class PageQuery(Schema):
    page = Int(1, MAX_INT, load_default=1)
    per_page = Int(1, MAX_PER_PAGE, load_default=20)


class ErrorInner(Schema):
    code = fields.String(required=True, metadata={"description": "stable, for programs: not_found, validation_failed, …"})
    message = fields.String(required=True, metadata={"description": "for people, in the caller's language"})
    details = fields.Dict(required=True, metadata={
        "description": "e.g. `fields`: each bad field's messages (422); `conflicts` (409)"})


class ErrorSchema(Schema):
    """The one error body every 4xx (and a 500) has."""

    error = fields.Nested(ErrorInner, required=True)


def page_of(item_schema: type[Schema], name: str, *, built: bool = False) -> type[Schema]:
    """A list schema `{"items": [...], "total", "page", "per_page"}` for `item_schema`. `built`: a page
    the view builds as a dict (a `Body`), whose four keys are always there."""
    return type(
        name,
        (Body if built else Schema,),
        {
            "items": fields.List(fields.Nested(item_schema), required=built),
            "total": fields.Integer(required=built),
            "page": fields.Integer(required=built),
            "per_page": fields.Integer(required=built),
        },
    )


def page_body(items, total: int, args: dict) -> dict:
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


def read_page(args: dict, read, *positional, **filters) -> dict:
    """The page `args` asks for (`page`, `per_page`) of a read that pages itself and answers
    `(items, total)`: `read(*positional, page=…, per_page=…, **filters)`."""
    items, total = read(*positional, page=args["page"], per_page=args["per_page"], **filters)
    return page_body(items, total, args)


class Body(Schema):
    """A response body that a view builds as a dict and this schema only documents (never loads):
    its fields are what the server sends; a field added later does not make clients fail."""

    class Meta:
        unknown = INCLUDE


def Decimal(**kwargs) -> fields.String:
    """A decimal amount as a string, e.g. "12500000.00"."""
    metadata = kwargs.pop("metadata", {}) or {}
    metadata.setdefault("description", "decimal string, e.g. \"12500000.00\"")
    return fields.String(metadata=metadata, **kwargs)


BINARY = {"type": "string", "format": "binary"}
