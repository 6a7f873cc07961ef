"""Schemas every API shares: pagination and the error body."""

from marshmallow import Schema, fields, validate


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class ErrorInner(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorInner, required=True)


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """A list schema `{"items": [...], "total", "page", "per_page"}` for `item_schema`."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
        },
    )


def page_body(items, total: int, args: dict) -> dict:
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}
