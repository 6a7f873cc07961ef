"""The leads API under /api/v1: the scoped pipeline, progress, documents, reports, CSV, numbers."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext
from flask_login import current_user
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

from ..bounds import MAX_INT, MAX_PER_PAGE, MONTH_PATTERN, RATE_PATTERN, Id, Int
from ..accounts.access import USER
from ..core.api_helpers import ApiBlueprint
from ..schemas import BINARY, Body, Decimal, one_of, page_body, page_of
from .enums import STAGE_ORDER, LeadStage
from ..reference.services import currency_codes
from ..errors import ValidationFailed
from ..i18n import ui_locale
from ..projects import storage
from . import queries, services
from .detail import lead_detail
from .schemas import DemandSchema
from .queries import exports, numbers

api = ApiBlueprint("leads_api", __name__, url_prefix="/api/v1", description="Leads, progress and the province's numbers")


_MONTH = MONTH_PATTERN


class LeadQuery(Schema):
    stage = fields.String(load_default=None)
    city = fields.String(load_default=None, metadata={
        "description": "a division code (a city takes in its counties), or a foreign city's name"})
    sector = fields.String(load_default=None)
    fair_id = Id(load_default=None)
    owner_id = Id(load_default=None)
    stalled = fields.Boolean(load_default=None)
    contested = fields.Boolean(load_default=None)
    from_ = fields.String(data_key="from", load_default=None, validate=validate.Regexp(_MONTH),
                          metadata={"description": "YYYY-MM: with `to`, the rows behind a number of that period"})
    to = fields.String(load_default=None, validate=validate.Regexp(_MONTH), metadata={"description": "YYYY-MM"})
    counted = fields.String(load_default="made", validate=validate.OneOf(numbers.COUNTED), metadata={
        "description": "with a period: leads `made` in it, `signed` in it, or made in it and still `open`"})
    foreign = fields.Boolean(load_default=None, metadata={"description": "projects from abroad (true) or China"})
    page = Int(1, MAX_INT, load_default=1)
    per_page = Int(1, MAX_PER_PAGE, load_default=50)


class ProgressSchema(Schema):
    stage = fields.String(load_default=None)
    note = fields.String(load_default="")
    amount = fields.Raw(load_default=None, metadata={"description": "decimal string"})
    currency = fields.String(load_default=None)
    next_action_on = fields.String(load_default=None, metadata={"description": "YYYY-MM-DD"})


class LeadPatchSchema(Schema):
    owner_id = Id(required=True, strict=True)


class ReportSchema(Schema):
    note = fields.String(load_default="")
    updates = fields.List(fields.Dict(), required=True,
                          metadata={"description": "[{lead_id, stage, note, amount, currency, next_action_on}]"})


class StatsQuery(Schema):
    group_by = one_of(queries.GROUPS, load_default="stage")
    fair_id = Id(load_default=None)


class RateSchema(Schema):
    currency = one_of(currency_codes() - {"CNY"}, required=True, metadata={"description": "ISO 4217, not CNY (the unit)"})
    cny_per_unit = fields.String(required=True, validate=validate.Regexp(RATE_PATTERN), metadata={
        "pattern": RATE_PATTERN, "description": "yuan per unit: a positive decimal string below 10^9, at most six places"})


class StageLimitSchema(Schema):
    stage = one_of([s.value for s in STAGE_ORDER], required=True)
    days = Int(1, 365, required=True, strict=True)


# ---------------------------------------------------------------- response bodies (documentation)


class LeadRow(Body):
    id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    project = fields.String()
    sector = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    organisation_id = fields.Integer()
    organisation = fields.String()
    division = fields.String(allow_none=True, metadata={"description": "GB/T 2260 code of the organisation's division"})
    city = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    owner = fields.String(allow_none=True)
    stage = fields.String(validate=validate.OneOf([s.value for s in LeadStage]))
    expected_amount = Decimal(allow_none=True)
    currency = fields.String(allow_none=True)
    project_investment = Decimal(allow_none=True)
    project_currency = fields.String(allow_none=True)
    next_action_on = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    fair_id = fields.Integer(allow_none=True)
    stalled = fields.Boolean()
    contested = fields.Boolean()
    last_progress_at = fields.String(metadata={"description": "ISO 8601"})
    created_at = fields.String(metadata={"description": "ISO 8601"})


LeadPage = page_of(LeadRow, "LeadPage", built=True)


class LeadHistoryEntry(Body):
    id = fields.Integer()
    user = fields.String(allow_none=True)
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    amount = Decimal(allow_none=True)
    currency = fields.String(allow_none=True)
    next_action_on = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    report_id = fields.Integer(allow_none=True)
    created_at = fields.String()


class LeadDocumentBody(Body):
    id = fields.Integer(required=True)
    kind = fields.String()
    name = fields.String()
    mime = fields.String()
    size = fields.Integer()
    created_at = fields.String()
    download_url = fields.String()


class LeadDetail(LeadRow):
    can_change = fields.Boolean()
    history = fields.List(fields.Nested(LeadHistoryEntry))
    interests = fields.List(fields.Dict(), metadata={"description": "each interest behind the lead"})
    questions = fields.List(fields.Dict(), metadata={"description": "the organisation's questions in the session"})
    documents = fields.List(fields.Nested(LeadDocumentBody))


class ReportBody(Body):
    id = fields.Integer(required=True)
    month = fields.String(metadata={"description": "YYYY-MM"})
    organisation_id = fields.Integer()


class MissingOrganisation(Body):
    id = fields.Integer()
    name = fields.String()
    city = fields.String(allow_none=True)


class MissingReports(Body):
    month = fields.String(required=True)
    items = fields.List(fields.Nested(MissingOrganisation), required=True)


class StatsGroup(Body):
    key = fields.String(allow_none=True)
    name = fields.String(allow_none=True, metadata={"description": "grouping by city: the city's name"})
    count = fields.Integer()
    investment = fields.Dict(keys=fields.String(), values=fields.String(),
                             metadata={"description": "decimal string per currency"})
    investment_cny = Decimal()


class PipelineStats(Body):
    group_by = fields.String(required=True)
    groups = fields.List(fields.Nested(StatsGroup), required=True)
    totals = fields.Dict(metadata={"description": "count, projects, investment_cny, foreign_projects, dropped"})
    missing_rates = fields.List(fields.String())
    funnel = fields.Dict(metadata={"description": "registered, attended, … for the fair (or all)"})


class RateBody(Body):
    currency = fields.String(required=True)
    cny_per_unit = Decimal(required=True)


class RateList(Body):
    items = fields.List(fields.Nested(RateBody), required=True)


class StageLimits(Body):
    """Days per stage code."""

    class Meta:
        unknown = INCLUDE


class SigningBody(Body):
    id = fields.Integer(required=True)
    session_id = fields.Integer()
    visible = fields.Boolean(metadata={"description": "whether the viewer may open the lead; when false, "
                                                      "lead_id, amount, currency and document_url are null"})
    lead_id = fields.Integer(allow_none=True)
    project = fields.String(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    organisation = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    amount = Decimal(allow_none=True)
    currency = fields.String(allow_none=True)
    document_url = fields.String(allow_none=True)
    created_at = fields.String()


class SigningList(Body):
    items = fields.List(fields.Nested(SigningBody), required=True)
    total = fields.Dict(required=True, metadata={"description": "count (all signings), hidden (signings whose amount the viewer "
                                                           "may not see), amounts per currency, amount_cny and "
                                                           "missing_rates over the visible ones"})


class DemandBody(Body):
    id = fields.Integer(required=True)
    name = fields.String()
    demand_sectors = fields.List(fields.String(), allow_none=True)
    demand_countries = fields.List(fields.String(), allow_none=True)
    demand_note = fields.String(allow_none=True)


class Recommendations(Body):
    organisation = fields.String()
    sessions = fields.List(fields.Dict(), required=True,
                           metadata={"description": "session_id, fair_id, title, starts_at, reasons, score"})
    projects = fields.List(fields.Dict(), required=True, metadata={
        "description": "project_id, title, sector, country, session_id, score, reasons, already_pursued"})


class Invitee(Body):
    organisation_id = fields.Integer()
    name = fields.String()
    city = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    registered = fields.Boolean()


class InviteeList(Body):
    items = fields.List(fields.Nested(Invitee), required=True)


CSV = {"type": "string", "description": "CSV, UTF-8 with BOM"}


class DocumentUploadForm(Schema):
    """Read by the view: other form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    kind = fields.String(validate=validate.OneOf(["agreement", "brochure", "other"]))


class SigningForm(Schema):
    """Read by the view: other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    lead_id = Id(required=True)
    amount = fields.String(required=True, metadata={"description": "decimal string"})
    currency = fields.String(required=True, metadata={"description": "ISO 4217"})
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": "the agreement (multipart)"})


def _filters(args) -> queries.LeadFilters:
    period = None
    if args.get("from_") or args.get("to"):
        period = numbers.parse_period(args.get("from_"), args.get("to"))
    return queries.LeadFilters(period=period, counted=args.get("counted") or "made", **{k: args.get(k) for k in (
        "stage", "city", "sector", "fair_id", "owner_id", "stalled", "contested", "foreign")})


@api.operation("GET /leads", USER, query=LeadQuery)
@api.alt_response(200, schema=LeadPage, success=True, description="a page of leads")
def list_leads(args):
    """Leads the caller may see (organisers: all; attendees: their organisation's; presenters: on their projects)."""
    items, total = queries.list_leads(current_user, _filters(args), page=args["page"], per_page=args["per_page"])
    return page_body(queries.annotate(current_user, items), total, args)


@api.operation("GET /leads.csv", USER, query=LeadQuery)
@api.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="the leads as CSV")
def leads_csv(args):
    """The same rows as `GET /leads`, as CSV (UTF-8 with BOM, opens in Excel)."""
    body = exports.leads_csv(current_user, _filters(args), locale=ui_locale())
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cloudfair-leads.csv"'})


@api.operation("GET /leads/<int:lead_id>", USER)
@api.alt_response(200, schema=LeadDetail, success=True, description="the lead")
def get_lead(lead_id):
    """One lead with its history, interests, the organisation's questions in that session, documents."""
    return lead_detail(current_user, queries.get_lead(current_user, lead_id))


@api.operation("PATCH /leads/<int:lead_id>", "attendee", "organiser", body=LeadPatchSchema, errors=[409])
@api.alt_response(200, schema=LeadDetail, success=True, description="the lead")
def update_lead(body, lead_id):
    """Set the responsible person (a member of the lead's organisation)."""
    return lead_detail(current_user, services.set_owner(current_user, lead_id, body["owner_id"]))


@api.operation("POST /leads/<int:lead_id>/progress", "attendee", "organiser", body=ProgressSchema, errors=[409])
@api.alt_response(201, schema=LeadDetail, success=True, description="the lead with the new entry")
def post_progress(body, lead_id):
    """Progress: `{"stage", "note", "amount", "currency", "next_action_on"}`."""
    return lead_detail(current_user, services.progress(current_user, lead_id, body)), 201


@api.operation("POST /leads/<int:lead_id>/documents", "attendee", "organiser", errors=[415, 409])
@storage.accepts_upload
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": DocumentUploadForm}}})
@api.alt_response(201, schema=LeadDocumentBody, success=True, description="the stored document")
def post_document(lead_id):
    """Attach a document (multipart `file`, `kind`: agreement, brochure, other), under the upload rules."""
    services._changeable(current_user, lead_id)
    upload = storage.sent_file()
    document = services.add_document(current_user, lead_id, upload.stream, upload.filename, request.form.get("kind"))
    return {"id": document.id, "kind": document.kind, "name": document.original_name, "mime": document.mime,
            "size": document.size, "download_url": f"/api/v1/lead-documents/{document.id}/download"}, 201


@api.operation("GET /lead-documents/<int:document_id>/download", USER)
@api.alt_response(200, schema=BINARY, content_type="application/octet-stream", success=True, description="the file, in its own type")
def download_document(document_id):
    from ..projects.api import attachment

    document = queries.get_document(current_user, document_id)
    services.document_opened(current_user, document)
    return attachment(document.sha256, document.mime, document.original_name)


@api.operation("POST /reports", "attendee", body=ReportSchema, errors=[409])
@api.alt_response(201, schema=ReportBody, success=True, description="the filed report")
def post_report(body):
    """The monthly progress report: all of the organisation's open leads at once; all or nothing."""
    report = services.file_report(current_user, body["updates"], body["note"])
    return {"id": report.id, "month": report.month, "organisation_id": report.organisation_id}, 201


class MissingQuery(Schema):
    month = fields.String(load_default=None, validate=validate.Regexp(_MONTH),
                          metadata={"description": "YYYY-MM (default: this month in the host's zone)"})


@api.operation("GET /reports/missing", "organiser")
@api.arguments(MissingQuery, location="query", unknown=RAISE)
@api.alt_response(200, schema=MissingReports, success=True, description="who has not reported")
def missing_reports(args):
    """Organisations with open leads that have not reported this month (`?month=YYYY-MM`)."""
    month = args["month"] or None
    return {"month": month or queries.host_month(),
            "items": [{"id": o.id, "name": o.name, "city": o.city} for o in queries.missing_reports(current_user, month)]}


@api.operation("GET /stats/pipeline", "organiser", query=StatsQuery)
@api.alt_response(200, schema=PipelineStats, success=True, description="the grouped pipeline")
def stats(args):
    """Leads grouped by `stage`, `city`, `sector`, `country` or `fair`, with amounts and the funnel."""
    return queries.pipeline_stats(current_user, args["group_by"], args["fair_id"], locale=ui_locale())


class SummaryQuery(Schema):
    from_ = fields.String(data_key="from", load_default=None, validate=validate.Regexp(_MONTH),
                          metadata={"description": "first month, YYYY-MM (default: January of this year)"})
    to = fields.String(load_default=None, validate=validate.Regexp(_MONTH),
                       metadata={"description": "last month, YYYY-MM (default: December of this year)"})
    city = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$"),
                         metadata={"description": "a division code: a city takes in its counties"})
    fair_id = Id(load_default=None)


class SignedFigures(Schema):
    count = fields.Integer()
    amount_cny = fields.String(metadata={"description": "decimal string"})
    foreign_count = fields.Integer()
    foreign_amount_usd = fields.String(allow_none=True, metadata={"description": "decimal string; null without a USD rate"})


class ProposalFigures(Schema):
    sent = fields.Integer(metadata={"description": "site proposals sent in the period"})
    opened = fields.Integer(metadata={"description": "of those, opened by the project's presenter"})
    site_visits = fields.Integer(metadata={"description": "of those, with a site visit recorded"})


class _Figures(Schema):
    proposals = fields.Nested(ProposalFigures)
    projects = fields.Integer()
    leads = fields.Integer()
    signed = fields.Nested(SignedFigures)
    pipeline_value_cny = fields.String()


class CityFigures(_Figures):
    division = fields.String(allow_none=True, metadata={"description": "prefecture-level division code; null: no city"})
    name = fields.String()


class MonthFigures(_Figures):
    month = fields.String(metadata={"description": "YYYY-MM"})


class SectorFigures(_Figures):
    sector = fields.String(allow_none=True)
    name = fields.String()


class PeriodSchema(Schema):
    from_ = fields.String(data_key="from")
    to = fields.String()


class SummarySchema(_Figures):
    period = fields.Nested(PeriodSchema)
    city = fields.String(allow_none=True)
    fair_id = fields.Integer(allow_none=True)
    by_city = fields.List(fields.Nested(CityFigures))
    by_month = fields.List(fields.Nested(MonthFigures))
    by_sector = fields.List(fields.Nested(SectorFigures))
    missing_rates = fields.List(fields.String())


def _period_and_scope(args) -> tuple[numbers.Period, numbers.Scope]:
    return (numbers.parse_period(args.get("from_"), args.get("to")),
            numbers.Scope(division=args.get("city"), fair_id=args.get("fair_id")))


@api.operation("GET /stats/summary", "organiser")
@api.arguments(SummaryQuery, location="query", unknown=RAISE)
@api.response(200, SummarySchema)
def stats_summary(args):
    """The province's numbers for a period by the one counting rule: projects, leads, signed (and
    foreign-funded) projects and amounts, pipeline value; by city, month and sector. Each figure's rows:
    `GET /leads?from=&to=&counted=made|signed|open&city=&sector=&foreign=`."""
    period, scope = _period_and_scope(args)
    result = numbers.summary(current_user, period, scope, locale=ui_locale())
    result["period"] = {"from_": result["period"]["from"], "to": result["period"]["to"]}
    return result


@api.operation("GET /reports/province.xlsx", "organiser")
@api.arguments(SummaryQuery, location="query", unknown=RAISE)
@api.response(200, {"format": "binary", "type": "string"}, content_type=exports.XLSX_MIME,
              description="an Excel workbook: summary, by city, by month, by sector, the leads")
def province_workbook(args):
    """The same figures as `stats/summary`, as an Excel workbook in the viewer's language."""
    period, scope = _period_and_scope(args)
    body = exports.province_workbook(current_user, period, scope, locale=ui_locale())
    name = f"cloudfair-province-{period.first}-{period.last}.xlsx"
    return Response(body, mimetype=exports.XLSX_MIME, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api.operation("GET /rates", "organiser")
@api.alt_response(200, schema=RateList, success=True, description="the rates")
def list_rates():
    """Yuan per unit of each currency (organiser-maintained)."""
    return {"items": [{"currency": c, "cny_per_unit": str(v)} for c, v in sorted(queries.rates().items())]}


@api.operation("PUT /rates", "organiser", body=RateSchema)
@api.alt_response(200, schema=RateBody, success=True, description="the rate")
def put_rate(body):
    row = services.set_rate(current_user, body["currency"], body["cny_per_unit"])
    return {"currency": row.currency, "cny_per_unit": str(row.cny_per_unit)}


@api.operation("GET /stage-limits", USER)
@api.alt_response(200, schema=StageLimits, success=True, description="days per stage code")
def list_stage_limits():
    """Days without progress after which a lead in each stage is stalled."""
    return queries.stall_limits()


@api.operation("PUT /stage-limits", "organiser", body=StageLimitSchema)
@api.alt_response(200, schema=StageLimits, success=True, description="days per stage code")
def put_stage_limit(body):
    return services.set_stall_limit(current_user, body["stage"], body["days"])




# ---------------------------------------------------------------- signings and recommendations


@api.operation("GET /sessions/<int:session_id>/signings", USER)
@api.alt_response(200, schema=SigningList, success=True, description="the signings and their total")
def list_signings(session_id):
    """Agreements signed in a signing session, with the total. Every viewer sees the project, organisation
    and city of each; the lead, amount and agreement only where they may open the lead (`visible`), and the
    total sums those (`total.hidden` counts the rest)."""
    from ..fairs import services as fairs

    result = queries.signings_for(current_user, fairs.get_session(current_user, session_id))
    return {"items": result["items"], "total": result["total"]}


@api.operation("POST /sessions/<int:session_id>/signings", "organiser", errors=[409, 415])
@storage.accepts_upload
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": SigningForm}, "application/json": {"schema": SigningForm}}})
@api.alt_response(201, schema=SigningBody, success=True, description="the recorded signing")
def post_signing(session_id):
    """Record an agreement signed on screen (multipart: `lead_id`, `amount`, `currency`, `file`); the lead moves to signed."""

    form = request.form if request.mimetype == "multipart/form-data" else (request.get_json(silent=True) or {})
    if not hasattr(form, "get"):
        raise ValidationFailed({"body": gettext("Give an object with lead_id, amount and currency.")})
    lead_id = form.get("lead_id")
    digits = isinstance(lead_id, str) and lead_id.isascii() and lead_id.isdigit()
    data = {"lead_id": int(lead_id) if digits else lead_id,
            "amount": form.get("amount"), "currency": form.get("currency")}
    upload = request.files.get("file")
    signing = services.record_signing(current_user, session_id, data,
                                      stream=upload.stream if upload and upload.filename else None,
                                      filename=upload.filename if upload else None)
    return queries.signing_dict(signing), 201


@api.operation("PATCH /organisations/<int:organisation_id>/demand", "attendee", "organiser", body=DemandSchema)
@api.alt_response(200, schema=DemandBody, success=True, description="the demand profile")
def update_demand(body, organisation_id):
    """An organisation's demand profile (its own people and organisers)."""

    organisation = services.update_demand(current_user, organisation_id, body)
    return {"id": organisation.id, "name": organisation.name, "demand_sectors": organisation.demand_sectors,
            "demand_countries": organisation.demand_countries, "demand_note": organisation.demand_note}


@api.operation("GET /recommendations", "attendee")
@api.alt_response(200, schema=Recommendations, success=True, description="what fits")
def get_recommendations():
    """Sessions and projects that fit the caller's organisation, each with its reasons."""

    return queries.recommendations(current_user)


@api.operation("GET /sessions/<int:session_id>/invitees", "organiser")
@api.alt_response(200, schema=InviteeList, success=True, description="whom to invite")
def get_invitees(session_id):
    """Organisations whose demand fits the session's projects: whom to invite."""

    return {"items": queries.invitees(current_user, session_id)}
