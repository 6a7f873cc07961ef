"""The leads API under /api/v1: the scoped pipeline, progress, documents, reports, CSV, numbers."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..accounts.access import USER, allow
from ..errors import ValidationFailed
from ..i18n import ui_locale
from ..live.models import Question
from ..live.services import question_dict
from ..projects import storage
from ..extensions import db
from . import exports, numbers, pipeline
from .services import interest_dict

api = Blueprint("leads_api", __name__, url_prefix="/api/v1", description="Leads, progress and the province's numbers")


_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class LeadQuery(Schema):
    stage = fields.String(load_default=None)
    city = fields.String(load_default=None, metadata={
        "description": "a division code (a city takes in its counties), or a foreign city's name"})
    sector = fields.String(load_default=None)
    fair_id = fields.Integer(load_default=None)
    owner_id = fields.Integer(load_default=None)
    stalled = fields.Boolean(load_default=None)
    contested = fields.Boolean(load_default=None)
    from_ = fields.String(data_key="from", load_default=None, validate=validate.Regexp(_MONTH),
                          metadata={"description": "YYYY-MM: with `to`, the rows behind a number of that period"})
    to = fields.String(load_default=None, validate=validate.Regexp(_MONTH), metadata={"description": "YYYY-MM"})
    counted = fields.String(load_default="made", validate=validate.OneOf(numbers.COUNTED), metadata={
        "description": "with a period: leads `made` in it, `signed` in it, or made in it and still `open`"})
    foreign = fields.Boolean(load_default=None, metadata={"description": "projects from abroad (true) or China"})
    page = fields.Integer(load_default=1, validate=lambda n: n >= 1)
    per_page = fields.Integer(load_default=50, validate=lambda n: 1 <= n <= 500)


class ProgressSchema(Schema):
    stage = fields.String(load_default=None)
    note = fields.String(load_default="")
    amount = fields.Raw(load_default=None, metadata={"description": "decimal string"})
    currency = fields.String(load_default=None)
    next_action_on = fields.String(load_default=None, metadata={"description": "YYYY-MM-DD"})


class LeadPatchSchema(Schema):
    owner_id = fields.Integer(required=True, strict=True)


class ReportSchema(Schema):
    note = fields.String(load_default="")
    updates = fields.List(fields.Dict(), required=True,
                          metadata={"description": "[{lead_id, stage, note, amount, currency, next_action_on}]"})


class StatsQuery(Schema):
    group_by = fields.String(load_default="stage")
    fair_id = fields.Integer(load_default=None)


class RateSchema(Schema):
    currency = fields.String(required=True)
    cny_per_unit = fields.Raw(required=True, metadata={"description": "yuan per unit, decimal string"})


class StageLimitSchema(Schema):
    stage = fields.String(required=True)
    days = fields.Integer(required=True, strict=True)


def _filters(args) -> pipeline.LeadFilters:
    period = None
    if args.get("from_") or args.get("to"):
        period = numbers.parse_period(args.get("from_"), args.get("to"))
    return pipeline.LeadFilters(period=period, counted=args.get("counted") or "made", **{k: args.get(k) for k in (
        "stage", "city", "sector", "fair_id", "owner_id", "stalled", "contested", "foreign")})


def lead_detail(actor, lead) -> dict:
    row = pipeline.annotate(actor, [lead])[0]
    questions = []
    if lead.session_id:
        questions = [question_dict(q) for q in db.session.scalars(
            select(Question).where(Question.session_id == lead.session_id,
                                   Question.organisation_id == lead.organisation_id).order_by(Question.created_at))]
    return {
        **row,
        "can_change": pipeline.can_change(actor, lead),
        "history": pipeline.history(lead),
        "interests": [interest_dict(i) for i in pipeline.interests_of(lead)],
        "questions": questions,
        "documents": [{"id": d.id, "kind": d.kind, "name": d.original_name, "mime": d.mime, "size": d.size,
                       "created_at": d.created_at.isoformat(),
                       "download_url": f"/api/v1/lead-documents/{d.id}/download"} for d in pipeline.documents(lead)],
    }


@api.route("/leads", methods=["GET"])
@allow(USER)
@api.arguments(LeadQuery, location="query")
def list_leads(args):
    """Leads the caller may see (organisers: all; attendees: their organisation's; presenters: on their projects)."""
    items, total = pipeline.list_leads(current_user, _filters(args), page=args["page"], per_page=args["per_page"])
    return {"items": pipeline.annotate(current_user, items), "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@api.route("/leads.csv", methods=["GET"])
@allow(USER)
@api.arguments(LeadQuery, location="query")
def leads_csv(args):
    """The same rows as `GET /leads`, as CSV (UTF-8 with BOM, opens in Excel)."""
    body = exports.leads_csv(current_user, _filters(args), locale=ui_locale())
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cloudfair-leads.csv"'})


@api.route("/leads/<int:lead_id>", methods=["GET"])
@allow(USER)
def get_lead(lead_id):
    """One lead with its history, interests, the organisation's questions in that session, documents."""
    return lead_detail(current_user, pipeline.get_lead(current_user, lead_id))


@api.route("/leads/<int:lead_id>", methods=["PATCH"])
@allow("attendee", "organiser")
@api.arguments(LeadPatchSchema)
def update_lead(body, lead_id):
    """Set the responsible person (a member of the lead's organisation)."""
    return lead_detail(current_user, pipeline.set_owner(current_user, lead_id, body["owner_id"]))


@api.route("/leads/<int:lead_id>/progress", methods=["POST"])
@allow("attendee", "organiser")
@api.arguments(ProgressSchema)
def post_progress(body, lead_id):
    """Progress: `{"stage", "note", "amount", "currency", "next_action_on"}`."""
    return lead_detail(current_user, pipeline.progress(current_user, lead_id, body)), 201


@api.route("/leads/<int:lead_id>/documents", methods=["POST"])
@allow("attendee", "organiser")
@storage.accepts_upload
def post_document(lead_id):
    """Attach a document (multipart `file`, `kind`: agreement, brochure, other), under the upload rules."""
    pipeline._changeable(current_user, lead_id)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed({"file": gettext("Send the file as the multipart field `file`.")})
    document = pipeline.add_document(current_user, lead_id, upload.stream, upload.filename, request.form.get("kind"))
    return {"id": document.id, "kind": document.kind, "name": document.original_name, "mime": document.mime,
            "size": document.size, "download_url": f"/api/v1/lead-documents/{document.id}/download"}, 201


@api.route("/lead-documents/<int:document_id>/download", methods=["GET"])
@allow(USER)
def download_document(document_id):
    from ..projects.api import attachment

    document = pipeline.get_document(current_user, document_id)
    return attachment(document.sha256, document.mime, document.original_name)


@api.route("/reports", methods=["POST"])
@allow("attendee")
@api.arguments(ReportSchema)
def post_report(body):
    """The monthly progress report: all of the organisation's open leads at once; all or nothing."""
    report = pipeline.file_report(current_user, body["updates"], body["note"])
    return {"id": report.id, "month": report.month, "organisation_id": report.organisation_id}, 201


@api.route("/reports/missing", methods=["GET"])
@allow("organiser")
def missing_reports():
    """Organisations with open leads that have not reported this month (`?month=YYYY-MM`)."""
    month = request.args.get("month") or None
    return {"month": month or pipeline.host_month(),
            "items": [{"id": o.id, "name": o.name, "city": o.city} for o in pipeline.missing_reports(current_user, month)]}


@api.route("/stats/pipeline", methods=["GET"])
@allow("organiser")
@api.arguments(StatsQuery, location="query")
def stats(args):
    """Leads grouped by `stage`, `city`, `sector`, `country` or `fair`, with amounts and the funnel."""
    return pipeline.pipeline_stats(current_user, args["group_by"], args["fair_id"], locale=ui_locale())


class SummaryQuery(Schema):
    from_ = fields.String(data_key="from", load_default=None, validate=validate.Regexp(_MONTH),
                          metadata={"description": "first month, YYYY-MM (default: January of this year)"})
    to = fields.String(load_default=None, validate=validate.Regexp(_MONTH),
                       metadata={"description": "last month, YYYY-MM (default: December of this year)"})
    city = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$"),
                         metadata={"description": "a division code: a city takes in its counties"})
    fair_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class SignedFigures(Schema):
    count = fields.Integer()
    amount_cny = fields.String(metadata={"description": "decimal string"})
    foreign_count = fields.Integer()
    foreign_amount_usd = fields.String(allow_none=True, metadata={"description": "decimal string; null without a USD rate"})


class _Figures(Schema):
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


@api.route("/stats/summary", methods=["GET"])
@allow("organiser")
@api.arguments(SummaryQuery, location="query")
@api.response(200, SummarySchema)
def stats_summary(args):
    """The province's numbers for a period by the one counting rule: projects, leads, signed (and
    foreign-funded) projects and amounts, pipeline value; by city, month and sector. Each figure's rows:
    `GET /leads?from=&to=&counted=made|signed|open&city=&sector=&foreign=`."""
    period, scope = _period_and_scope(args)
    result = numbers.summary(current_user, period, scope, locale=ui_locale())
    result["period"] = {"from_": result["period"]["from"], "to": result["period"]["to"]}
    return result


@api.route("/reports/province.xlsx", methods=["GET"])
@allow("organiser")
@api.arguments(SummaryQuery, location="query")
@api.response(200, {"format": "binary", "type": "string"}, content_type=exports.XLSX_MIME,
              description="an Excel workbook: summary, by city, by month, by sector, the leads")
def province_workbook(args):
    """The same figures as `stats/summary`, as an Excel workbook in the viewer's language."""
    period, scope = _period_and_scope(args)
    body = exports.province_workbook(current_user, period, scope, locale=ui_locale())
    name = f"cloudfair-province-{period.first}-{period.last}.xlsx"
    return Response(body, mimetype=exports.XLSX_MIME, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api.route("/rates", methods=["GET"])
@allow("organiser")
def list_rates():
    """Yuan per unit of each currency (organiser-maintained)."""
    return {"items": [{"currency": c, "cny_per_unit": str(v)} for c, v in sorted(pipeline.rates().items())]}


@api.route("/rates", methods=["PUT"])
@allow("organiser")
@api.arguments(RateSchema)
def put_rate(body):
    row = pipeline.set_rate(current_user, body["currency"], body["cny_per_unit"])
    return {"currency": row.currency, "cny_per_unit": str(row.cny_per_unit)}


@api.route("/stage-limits", methods=["GET"])
@allow(USER)
def list_stage_limits():
    """Days without progress after which a lead in each stage is stalled."""
    return pipeline.stall_limits()


@api.route("/stage-limits", methods=["PUT"])
@allow("organiser")
@api.arguments(StageLimitSchema)
def put_stage_limit(body):
    return pipeline.set_stall_limit(current_user, body["stage"], body["days"])




# ---------------------------------------------------------------- signings and recommendations


class DemandSchema(Schema):
    demand_sectors = fields.List(fields.String())
    demand_countries = fields.List(fields.String())
    demand_note = fields.String()


@api.route("/sessions/<int:session_id>/signings", methods=["GET"])
@allow(USER)
def list_signings(session_id):
    """Agreements signed in a signing session, with the total. Every viewer sees the project, organisation
    and city of each; the lead, amount and agreement only where they may open the lead (`visible`), and the
    total sums those (`total.hidden` counts the rest)."""
    from ..fairs import services as fairs
    from . import matching

    result = matching.signings_for(current_user, fairs.get_session(current_user, session_id))
    return {"items": result["items"], "total": result["total"]}


@api.route("/sessions/<int:session_id>/signings", methods=["POST"])
@allow("organiser")
@storage.accepts_upload
def post_signing(session_id):
    """Record an agreement signed on screen (multipart: `lead_id`, `amount`, `currency`, `file`); the lead moves to signed."""
    from . import matching

    form = request.form if request.mimetype == "multipart/form-data" else (request.get_json(silent=True) or {})
    lead_id = form.get("lead_id")
    data = {"lead_id": int(lead_id) if isinstance(lead_id, str) and lead_id.isdigit() else lead_id,
            "amount": form.get("amount"), "currency": form.get("currency")}
    upload = request.files.get("file")
    signing = matching.record_signing(current_user, session_id, data,
                                      stream=upload.stream if upload and upload.filename else None,
                                      filename=upload.filename if upload else None)
    return matching.signing_dict(signing), 201


@api.route("/organisations/<int:organisation_id>/demand", methods=["PATCH"])
@allow("attendee", "organiser")
@api.arguments(DemandSchema)
def update_demand(body, organisation_id):
    """An organisation's demand profile (its own people and organisers)."""
    from . import matching

    organisation = matching.update_demand(current_user, organisation_id, body)
    return {"id": organisation.id, "name": organisation.name, "demand_sectors": organisation.demand_sectors,
            "demand_countries": organisation.demand_countries, "demand_note": organisation.demand_note}


@api.route("/recommendations", methods=["GET"])
@allow("attendee")
def get_recommendations():
    """Sessions and projects that fit the caller's organisation, each with its reasons."""
    from . import matching

    return matching.recommendations(current_user)


@api.route("/sessions/<int:session_id>/invitees", methods=["GET"])
@allow("organiser")
def get_invitees(session_id):
    """Organisations whose demand fits the session's projects: whom to invite."""
    from . import matching

    return {"items": matching.invitees(current_user, session_id)}
