"""Reference data over the API: sectors (organisers may add), countries."""

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..accounts.access import PUBLIC, allow
from . import services

api = Blueprint("reference_api", __name__, url_prefix="/api/v1", description="Sectors and countries")


class SectorSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=2, max=50))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=120))


class SectorList(Schema):
    items = fields.List(fields.Nested(SectorSchema))
    total = fields.Integer()


class CountrySchema(Schema):
    code = fields.String()
    name_en = fields.String()
    name_zh = fields.String()


class CountryList(Schema):
    items = fields.List(fields.Nested(CountrySchema))
    total = fields.Integer()


class TimezoneQuery(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))


class TimezoneSchema(Schema):
    name = fields.String()
    #: The offset from UTC right now ("+01:00"), so it follows daylight saving time.
    offset = fields.String()
    offset_minutes = fields.Integer()
    label = fields.String()


class TimezoneList(Schema):
    items = fields.List(fields.Nested(TimezoneSchema))
    total = fields.Integer()


@api.route("/timezones", methods=["GET"])
@allow(PUBLIC)
@api.arguments(TimezoneQuery, location="query")
@api.response(200, TimezoneList)
def list_timezones(args):
    """IANA time zones with their current UTC offset; `q` searches names ("berl", "new york") and offsets ("+08:00")."""
    items = services.search_timezones(args["q"])
    return {"items": items, "total": len(items)}


@api.route("/sectors", methods=["GET"])
@allow(PUBLIC)
@api.response(200, SectorList)
def list_sectors():
    """The bilingual sector taxonomy."""
    items = services.list_sectors()
    return {"items": items, "total": len(items)}


@api.route("/sectors", methods=["POST"])
@allow("organiser")
@api.arguments(SectorSchema)
@api.response(201, SectorSchema)
def create_sector(body):
    return services.create_sector(current_user, body["code"], body["name_en"], body["name_zh"])


@api.route("/countries", methods=["GET"])
@allow(PUBLIC)
@api.response(200, CountryList)
def list_countries():
    """ISO 3166-1 countries with English and Chinese names."""
    items = [
        {"code": c, "name_en": services.country_name(c, "en"), "name_zh": services.country_name(c, "zh")}
        for c in sorted(services.country_codes())
    ]
    return {"items": items, "total": len(items)}
