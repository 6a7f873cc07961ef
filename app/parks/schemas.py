"""Bodies of the parks API. Writes pass values through to the services, which check them and name
every bad field; the document states each field's type, range and codes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..bounds import Bool, Id, Int
from ..core.api_helpers import bilingual_read, bilingual_write, list_of
from ..schemas import LANG_CODES, PageQuery, i18n_in, i18n_out, lang_in, one_of, page_of, text_out
from .enums import Criterion, EmissionsClass, IncentiveKind, LandUse, ParkKind, PlotStatus


def decimal_in(description: str, **kwargs) -> fields.Raw:
    return fields.Raw(allow_none=True, metadata={"description": f"{description}; a decimal string or a number"}, **kwargs)


def date_in(**kwargs) -> fields.String:
    return fields.String(allow_none=True, metadata={"format": "date"}, **kwargs)


def count_in(description: str) -> fields.Integer:
    return Int(0, 10_000_000, allow_none=True, metadata={"description": description})


def _decimal_out(name: str):
    return fields.Function(lambda obj: None if getattr(obj, name) is None else str(getattr(obj, name)),
                           metadata={"type": "string", "nullable": True})


class ParkPatchSchema(bilingual_write("name", "summary")):
    division = fields.String(metadata={"description": "GB/T 2260 code of the park's county or city", "pattern": r"^\d{6}$"})
    kind = one_of(ParkKind)
    sectors = fields.List(fields.String(), allow_none=True)
    emissions_limit = one_of(EmissionsClass, allow_none=True)
    area_km2 = decimal_in("the park's area in km²")
    companies = count_in("companies in the park")
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True, metadata={"format": "email"})


class ParkWriteSchema(ParkPatchSchema):
    organisation_id = Id(metadata={"description": "organisers only (required for them): the managing city bureau or park organisation"})


class PlotWriteSchema(Schema):
    name = fields.String()
    area_mu = decimal_in("area in mu (亩, 1/15 ha)")
    land_use = one_of(LandUse)
    price_per_mu = decimal_in("land price per mu")
    currency = fields.String(allow_none=True, metadata={"description": "ISO 4217 of the price (default CNY)", "pattern": r"^[A-Z]{3}$"})
    plot_ratio = decimal_in("floor area ratio (容积率)")
    ready_on = date_in()
    power_kva = count_in("power supply, kVA")
    water_tpd = count_in("water supply, tonnes a day")
    gas = Bool(allow_none=True)
    wastewater_tpd = count_in("wastewater treatment capacity, tonnes a day")
    rail_km = decimal_in("distance to the nearest railway freight station, km")
    port_km = decimal_in("distance to the nearest port, km")
    airport_km = decimal_in("distance to the nearest airport, km")
    status = one_of(PlotStatus, allow_none=True)


class IncentiveWriteSchema(Schema):
    kind = one_of(IncentiveKind)
    amount = decimal_in("an amount of money")
    currency = fields.String(allow_none=True, metadata={"pattern": r"^[A-Z]{3}$"})
    rate = decimal_in("a percentage, 0 to 100")
    conditions = fields.String(allow_none=True, metadata={"description": "in the author's language; or give conditions_i18n"})
    conditions_i18n = i18n_in("conditions")
    lang = lang_in()
    valid_until = date_in()


class SiteNeedsSchema(Schema):
    land_mu = decimal_in("land needed, mu")
    power_kva = count_in("power needed, kVA")
    water_tpd = count_in("water needed, tonnes a day")
    emissions_class = one_of(EmissionsClass, allow_none=True)
    jobs = count_in("jobs the project creates")
    budget = decimal_in("what the investor means to spend on land")
    currency = fields.String(allow_none=True, metadata={"pattern": r"^[A-Z]{3}$"})
    divisions = fields.List(fields.String(metadata={"pattern": r"^\d{6}$"}), allow_none=True,
                            metadata={"description": "preferred GB/T 2260 divisions (province, city or county); empty: anywhere"})
    ready_by = date_in()


def _who(obj):
    user = obj.confirmed_by
    return None if user is None else {"id": user.id, "name": user.name}


def _stale(obj):
    from .queries import is_stale

    return is_stale(obj)


class Confirmation(Schema):
    confirmed_at = fields.DateTime()
    confirmed_by = fields.Function(_who, metadata={"type": "object", "nullable": True,
                                                   "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}})
    stale = fields.Function(_stale, metadata={"type": "boolean", "description": "not confirmed within PARK_STALE_DAYS"})


class PlotSchema(Confirmation):
    id = fields.Integer()
    park_id = fields.Integer()
    name = fields.String()
    area_mu = _decimal_out("area_mu")
    area_ha = _decimal_out("area_ha")
    land_use = fields.String()
    price_per_mu = _decimal_out("price_per_mu")
    currency = fields.String()
    plot_ratio = _decimal_out("plot_ratio")
    ready_on = fields.Date(allow_none=True)
    power_kva = fields.Integer(allow_none=True)
    water_tpd = fields.Integer(allow_none=True)
    gas = fields.Boolean()
    wastewater_tpd = fields.Integer(allow_none=True)
    rail_km = _decimal_out("rail_km")
    port_km = _decimal_out("port_km")
    airport_km = _decimal_out("airport_km")
    status = fields.String()


class IncentiveSchema(Confirmation):
    id = fields.Integer()
    park_id = fields.Integer()
    kind = fields.String()
    amount = _decimal_out("amount")
    currency = fields.String(allow_none=True)
    rate = _decimal_out("rate")
    conditions = text_out("conditions")
    conditions_i18n = i18n_out("conditions")
    valid_until = fields.Date(allow_none=True)


def _place(park):
    from .. import bilingual

    return park.division.name(bilingual.content_locale())


class ParkBrief(bilingual_read("name")):
    division = fields.String(attribute="division_code")
    city = fields.Function(_place, metadata={"type": "string"})
    organisation_id = fields.Integer()


class ParkSchema(ParkBrief, Confirmation):
    summary = text_out("summary")
    summary_i18n = i18n_out("summary")
    kind = fields.String()
    sectors = fields.List(fields.String())
    emissions_limit = fields.String()
    area_km2 = _decimal_out("area_km2")
    companies = fields.Integer(allow_none=True)
    contact_name = fields.String()
    contact_phone = fields.String()
    contact_email = fields.String()
    plots = fields.List(fields.Nested(PlotSchema))
    incentives = fields.List(fields.Nested(IncentiveSchema))


ParkPage = page_of(ParkSchema, "ParkPage")


class ParkQuery(PageQuery):
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    division = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$"),
                             metadata={"description": "a province, city or county code: parks in it"})
    sector = fields.String(load_default=None, validate=validate.Length(max=50))
    organisation_id = Id(load_default=None)
    lang = fields.String(load_default=None, validate=validate.OneOf(LANG_CODES))


class SiteNeedsOut(Schema):
    project_id = fields.Integer()
    land_mu = _decimal_out("land_mu")
    power_kva = fields.Integer(allow_none=True)
    water_tpd = fields.Integer(allow_none=True)
    emissions_class = fields.String(allow_none=True)
    jobs = fields.Integer(allow_none=True)
    budget = _decimal_out("budget")
    currency = fields.String(allow_none=True)
    divisions = fields.List(fields.String())
    ready_by = fields.Date(allow_none=True)
    updated_at = fields.DateTime()


class MatchQuery(Schema):
    limit = Int(1, 50, load_default=3)
    per_park = Int(1, 50, load_default=1, metadata={"description": "at most this many plots of one park"})
    lang = fields.String(load_default=None, validate=validate.OneOf(LANG_CODES))


class Reason(Schema):
    criterion = fields.String(metadata={"enum": [str(c) for c in Criterion]})
    fit = fields.Float(metadata={"description": "0 to 1"})
    text = fields.String()


class Match(Schema):
    park = fields.Nested(ParkBrief)
    plot = fields.Nested(PlotSchema)
    score = fields.Float(metadata={"description": "0 to 100"})
    reasons = fields.List(fields.Nested(Reason))
    gaps = fields.List(fields.String())


MatchList = list_of(Match, "MatchList", total=False)


class WeightsSchema(Schema):
    """A weight (0 … 100) per criterion (a write names at least one)."""

    #: Added to the schema in the document (`app/openapi.py`): the service refuses `{}` with 422.
    OPENAPI_EXTRA = {"minProperties": 1}

    land = Int(0, 100)
    power = Int(0, 100)
    water = Int(0, 100)
    ready = Int(0, 100)
    budget = Int(0, 100)
    region = Int(0, 100)
    emissions = Int(0, 100)
    sector = Int(0, 100)


class ProposalWriteSchema(Schema):
    plot_ids = fields.List(Id(strict=True), required=True, validate=validate.Length(min=1, max=3), metadata={
        "description": "one to three of the lead's organisation's plots (not taken), each once"})
    note = fields.String(load_default="", validate=validate.Length(max=2000),
                         metadata={"description": "a word to the investor, printed on the PDF"})


class VisitSchema(Schema):
    visited_on = fields.String(required=True, metadata={"format": "date",
                                                        "description": "the day of the site visit (YYYY-MM-DD)"})


class ProposalPlot(Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)


class ProposalCost(Schema):
    plot_id = fields.Integer()
    land_cny = fields.String(allow_none=True, metadata={"description": "decimal string"})
    reductions_cny = fields.String(allow_none=True, metadata={"description": "decimal string"})
    net_cny = fields.String(allow_none=True, metadata={"description": "decimal string"})
    net = fields.String(allow_none=True, metadata={"description": "decimal string, in `currency`"})


class ProposalSchema(Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    document_id = fields.Integer()
    plots = fields.List(fields.Nested(ProposalPlot))
    currency = fields.String(metadata={"description": "the investor's currency (ISO 4217)"})
    costs = fields.List(fields.Nested(ProposalCost), metadata={"description": "the net first-year cost per plot"})
    note = fields.String()
    sent_by = fields.String()
    sent_at = fields.String(metadata={"format": "date-time"})
    opened_at = fields.String(allow_none=True, metadata={"format": "date-time",
                                                          "description": "when the presenter first opened it"})
    visited_on = fields.String(allow_none=True, metadata={"format": "date"})
    pdf_url = fields.String()


class ProposalList(Schema):
    items = fields.List(fields.Nested(ProposalSchema), required=True)
