"""Reference data over the API: sectors (organisers may add), countries, time zones, divisions."""

from flask_login import current_user
from marshmallow import Schema, fields, validate

from ..accounts.access import PUBLIC
from ..core.api_helpers import ApiBlueprint, list_of, listing
from ..i18n import ui_locale
from ..schemas import matching
from . import services
from .services import SECTOR_CODE
from .divisions import search_divisions

api = ApiBlueprint("reference_api", __name__, url_prefix="/api/v1",
                description="Sectors, countries, time zones and divisions")


class SectorSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = matching(SECTOR_CODE, required=True, validate=validate.Length(min=2, max=50))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=120))


SectorList = list_of(SectorSchema, "SectorList")


class CountrySchema(Schema):
    code = fields.String()
    name_en = fields.String()
    name_zh = fields.String()


CountryList = list_of(CountrySchema, "CountryList")


class TimezoneQuery(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))


class TimezoneSchema(Schema):
    name = fields.String()
    #: The offset from UTC right now ("+01:00"), so it follows daylight saving time.
    offset = fields.String()
    offset_minutes = fields.Integer()
    label = fields.String()


TimezoneList = list_of(TimezoneSchema, "TimezoneList")


@api.operation("GET /timezones", PUBLIC, query=TimezoneQuery, returns=TimezoneList)
def list_timezones(args):
    """IANA time zones with their current UTC offset; `q` searches names ("berl", "new york") and offsets ("+08:00")."""
    return listing(services.search_timezones(args["q"]))


@api.operation("GET /sectors", PUBLIC, returns=SectorList)
def list_sectors():
    """The bilingual sector taxonomy."""
    return listing(services.list_sectors())


@api.operation("POST /sectors", "organiser", body=SectorSchema, returns=SectorSchema, status=201, errors=[409])
def create_sector(body):
    return services.create_sector(current_user, body["code"], body["name_en"], body["name_zh"])


@api.operation("GET /countries", PUBLIC, returns=CountryList)
def list_countries():
    """ISO 3166-1 countries with English and Chinese names."""
    return listing([
        {"code": c, "name_en": services.country_name(c, "en"), "name_zh": services.country_name(c, "zh")}
        for c in sorted(services.country_codes())
    ])


class DivisionQuery(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    level = fields.String(load_default=None, validate=validate.OneOf(["province", "prefecture", "county"]))
    parent = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DivisionSchema(Schema):
    code = fields.String()
    #: In the viewer's language.
    name = fields.Function(lambda d: d.name(ui_locale()))
    name_i18n = fields.Function(lambda d: {"zh": d.name_zh, "en": d.name_en})
    pinyin = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)
    prefecture_code = fields.String()


DivisionList = list_of(DivisionSchema, "DivisionList")


@api.operation("GET /divisions", PUBLIC, query=DivisionQuery, returns=DivisionList)
def list_divisions(args):
    """China's administrative divisions (GB/T 2260): `q` searches Chinese, English and pinyin names and
    aliases (exact matches first, then prefixes); `level` and `parent` (a code) filter; `total` counts
    every match, `items` holds at most `limit`."""
    items, total = search_divisions(args["q"], args["limit"], level=args["level"], parent=args["parent"])
    return {"items": items, "total": total}
