"""The pipeline: who sees which leads (one place), how a lead moves, its documents, the monthly
report, stall limits, exchange rates, CSV and the province's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, case, false, func, or_, select

from .. import bilingual
from ..accounts.access import require_role
from ..accounts.enums import Role
from ..accounts.models import Organisation, User
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import ui_locale
from ..fairs.models import FairSession
from ..pagination import paginate
from ..projects.models import Project
from ..projects.services import _check_amount
from ..reference.services import check_currency
from ..types import utcnow
from . import numbers
from .enums import SIGNED_STAGES, DocumentKind, LeadStage, STAGE_ORDER, default_stall_days, stage_label, stage_rank
from .models import ExchangeRate, Interest, Lead, LeadDocument, LeadEvent, ProgressReport, StageLimit

# ---------------------------------------------------------------- scoping: the one place


def scope(actor, query):
    """Limit a select over Lead to what the actor may see: organisers all, attendees their
    organisation's, presenters the leads on their own projects, nobody else anything."""
    if actor is None:
        return query.where(false())
    if actor.role == Role.ORGANISER:
        return query
    if actor.role == Role.ATTENDEE:
        return query.where(Lead.organisation_id == actor.organisation_id)
    if actor.role == Role.PRESENTER:
        return query.where(Lead.project_id.in_(select(Project.id).where(Project.owner_id == actor.id)))
    return query.where(false())


def get_lead(actor, lead_id: int) -> Lead:
    lead = db.session.scalar(scope(actor, select(Lead).where(Lead.id == lead_id)))
    if lead is None:
        raise NotFound(gettext("No such lead."))
    return lead


def can_change(actor, lead: Lead) -> bool:
    """The lead's organisation and organisers change it; presenters only read."""
    return actor is not None and (
        actor.role == Role.ORGANISER or (actor.role == Role.ATTENDEE and actor.organisation_id == lead.organisation_id)
    )


def _changeable(actor, lead_id: int) -> Lead:
    lead = get_lead(actor, lead_id)
    if not can_change(actor, lead):
        raise Forbidden(gettext("Only the lead's organisation and organisers change it."))
    return lead


# ---------------------------------------------------------------- stall limits and flags


def stall_limits() -> dict[str, int]:
    limits = {stage.value: default_stall_days(stage) for stage in STAGE_ORDER}
    limits.update({row.stage: row.days for row in db.session.scalars(select(StageLimit))})
    return limits


def set_stall_limit(actor, stage: str, days) -> dict[str, int]:
    require_role(actor, Role.ORGANISER)
    if stage not in {s.value for s in STAGE_ORDER}:
        raise ValidationFailed({"stage": gettext("Give a pipeline stage code.")})
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise ValidationFailed({"days": gettext("Give a number of days from 1 to 365.")})
    row = db.session.get(StageLimit, stage) or StageLimit(stage=stage, days=days)
    row.days = days
    db.session.add(row)
    db.session.commit()
    return stall_limits()


def stalled_condition(now: datetime | None = None):
    """SQL: the lead has been in its stage longer than that stage's limit without progress."""
    now = now or utcnow()
    limits = stall_limits()
    return or_(*[
        and_(Lead.stage == stage, Lead.last_progress_at < now - timedelta(days=days))
        for stage, days in limits.items() if stage != LeadStage.OPERATING
    ])


def is_stalled(lead: Lead, limits: dict[str, int] | None = None, now: datetime | None = None) -> bool:
    if lead.stage in (LeadStage.OPERATING, LeadStage.DROPPED):
        return False
    limits = limits or stall_limits()
    return lead.last_progress_at < (now or utcnow()) - timedelta(days=limits[lead.stage])


def contested_project_ids():
    """Projects that two or more organisations pursue (leads not dropped)."""
    return (
        select(Lead.project_id)
        .where(Lead.stage != LeadStage.DROPPED)
        .group_by(Lead.project_id)
        .having(func.count(func.distinct(Lead.organisation_id)) > 1)
    )


# ---------------------------------------------------------------- lists


@dataclass
class LeadFilters:
    stage: str | None = None
    city: str | None = None
    sector: str | None = None
    fair_id: int | None = None
    owner_id: int | None = None
    organisation_id: int | None = None
    project_id: int | None = None
    stalled: bool | None = None
    contested: bool | None = None
    #: The rows behind a number: leads `made`, `signed` or still `open` in the period (see `numbers`).
    period: numbers.Period | None = None
    counted: str = "made"
    foreign: bool | None = None


def leads_query(actor, filters: LeadFilters):
    query = scope(actor, select(Lead).join(Project, Project.id == Lead.project_id)
                  .join(Organisation, Organisation.id == Lead.organisation_id))
    if filters.stage:
        query = query.where(Lead.stage == filters.stage)
    if filters.city:
        # A division code (a city with its counties, a county, a province); else a foreign city's name.
        code = filters.city if filters.city.isdigit() and len(filters.city) == 6 else None
        if code is None:
            from ..reference.divisions import match_division

            division = match_division(filters.city)  # "Tangshan", "唐山", "tangshan" name one city
            code = division.code if division is not None else None
        if code is not None:
            query = query.where(numbers.division_condition(code))
        else:
            query = query.where(Organisation.city == filters.city, Organisation.division_code.is_(None))
    if filters.period is not None:
        first_signed = numbers.first_signed_subquery()
        if filters.counted == "signed":
            query = query.outerjoin(first_signed, first_signed.c.lead_id == Lead.id)
        query = query.where(numbers.counted_condition(filters.counted, filters.period, first_signed))
    if filters.foreign is not None:
        query = query.where(Project.country != "CN" if filters.foreign else Project.country == "CN")
    if filters.sector:
        query = query.where(Project.sector == filters.sector)
    if filters.fair_id:
        query = query.where(Lead.fair_id == filters.fair_id)
    if filters.owner_id:
        query = query.where(Lead.owner_id == filters.owner_id)
    if filters.organisation_id:
        query = query.where(Lead.organisation_id == filters.organisation_id)
    if filters.project_id:
        query = query.where(Lead.project_id == filters.project_id)
    if filters.stalled is not None:
        query = query.where(stalled_condition() if filters.stalled else ~stalled_condition())
    if filters.contested is not None:
        contested = Lead.project_id.in_(contested_project_ids())
        query = query.where(contested if filters.contested else ~contested)
    return query.order_by(Lead.last_progress_at.desc(), Lead.id.desc())


def list_leads(actor, filters: LeadFilters, *, page: int = 1, per_page: int = 50):
    return paginate(leads_query(actor, filters), page, per_page)


def annotate(actor, leads: list[Lead]) -> list[dict]:
    """Lead rows with their flags (stalled; contested for organisers)."""
    limits = stall_limits()
    now = utcnow()
    contested = set()
    if actor is not None and actor.role == Role.ORGANISER and leads:
        contested = set(db.session.scalars(contested_project_ids().where(Lead.project_id.in_({l.project_id for l in leads}))))
    return [lead_row(lead, stalled=is_stalled(lead, limits, now), contested=lead.project_id in contested)
            for lead in leads]


def place_name(organisation: Organisation) -> str | None:
    """The organisation's city as the reader reads it: its division's name, else the free text."""
    if organisation.division is not None:
        return organisation.division.name(ui_locale())
    return organisation.city


def lead_row(lead: Lead, *, stalled: bool = False, contested: bool = False) -> dict:
    project = lead.project
    return {
        "id": lead.id,
        "project_id": lead.project_id,
        "project": bilingual.text(project, "title"),
        "sector": project.sector,
        "country": project.country,
        "organisation_id": lead.organisation_id,
        "organisation": lead.organisation.name,
        "division": lead.organisation.division_code,
        "city": place_name(lead.organisation),
        "owner_id": lead.owner_id,
        "owner": lead.owner.name if lead.owner else None,
        "stage": lead.stage,
        "expected_amount": None if lead.expected_amount is None else f"{lead.expected_amount:.2f}",
        "currency": lead.currency,
        "project_investment": None if project.investment_amount is None else f"{project.investment_amount:.2f}",
        "project_currency": project.currency,
        "next_action_on": lead.next_action_on.isoformat() if lead.next_action_on else None,
        "fair_id": lead.fair_id,
        "stalled": stalled,
        "contested": contested,
        "last_progress_at": lead.last_progress_at.isoformat(),
        "created_at": lead.created_at.isoformat(),
    }


def history(lead: Lead) -> list[dict]:
    rows = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.created_at, LeadEvent.id))
    return [{
        "id": e.id, "user": e.user.name if e.user else None, "from_stage": e.from_stage, "to_stage": e.to_stage,
        "note": e.note, "amount": None if e.amount is None else f"{e.amount:.2f}", "currency": e.currency,
        "next_action_on": e.next_action_on.isoformat() if e.next_action_on else None,
        "source": e.source, "report_id": e.report_id, "created_at": e.created_at.isoformat(),
    } for e in rows]


def documents(lead: Lead) -> list[LeadDocument]:
    return list(db.session.scalars(select(LeadDocument).where(LeadDocument.lead_id == lead.id).order_by(LeadDocument.id)))


def interests_of(lead: Lead) -> list[Interest]:
    return list(db.session.scalars(select(Interest).where(Interest.lead_id == lead.id).order_by(Interest.created_at)))


# ---------------------------------------------------------------- progress


def _check_date(value, field: str = "next_action_on") -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed({field: gettext("Give a date as YYYY-MM-DD.")}) from None


def progress(actor, lead_id: int, data: dict, *, report: ProgressReport | None = None, commit: bool = True) -> Lead:
    """Record progress: a note, a next action, an amount, and perhaps a new stage.

    Forward any number of stages; back only by an organiser with a reason; `dropped` with a
    reason; `signed` and later with the agreement attached and the contracted amount.
    """
    lead = _changeable(actor, lead_id)
    errors: dict[str, str] = {}
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 4000:
        errors["note"] = gettext("The note is text of at most 4,000 characters.")
        note = ""
    note = note.strip()
    stage = data.get("stage") or lead.stage
    if stage not in {s.value for s in LeadStage}:
        errors["stage"] = gettext("Give a pipeline stage code.")
    amount = currency = next_action = None
    try:
        amount = _check_amount(data.get("amount"), "amount")
    except ValidationFailed as exc:
        errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if data.get("currency") not in (None, ""):
        try:
            currency = check_currency(data["currency"])
        except ValidationFailed as exc:
            errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if amount is not None and currency is None and "currency" not in errors:
        errors["currency"] = gettext("An amount needs its ISO 4217 currency.")
    try:
        next_action = _check_date(data.get("next_action_on"))
    except ValidationFailed as exc:
        errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if errors:
        raise ValidationFailed(errors)

    moving = stage != lead.stage
    if moving:
        backwards = lead.stage == LeadStage.DROPPED or (
            stage != LeadStage.DROPPED and stage_rank(stage) < stage_rank(lead.stage))
        if backwards and actor.role != Role.ORGANISER:
            raise Forbidden(gettext("Only an organiser moves a lead back, with a reason."), code="organiser_only")
        if (backwards or stage == LeadStage.DROPPED) and not note:
            raise ValidationFailed({"note": gettext("Give the reason.")})
        if stage in SIGNED_STAGES:
            if (amount if amount is not None else lead.expected_amount) is None:
                raise ValidationFailed({"amount": gettext("A signed lead needs the contracted amount and currency.")})
            has_agreement = db.session.scalar(select(LeadDocument.id).where(
                LeadDocument.lead_id == lead.id, LeadDocument.kind == DocumentKind.AGREEMENT).limit(1))
            if has_agreement is None:
                raise Conflict(gettext("Attach the signed agreement before moving the lead to %(stage)s or later.",
                                       stage=stage_label(LeadStage.SIGNED)), code="agreement_missing")
    elif not (note or amount is not None or next_action is not None):
        raise ValidationFailed({"note": gettext("Say what happened, set a next action or an amount.")})

    now = utcnow()
    db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=stage, note=note,
                             amount=amount, currency=currency, next_action_on=next_action,
                             source="report" if report else "progress", report_id=report.id if report else None))
    if moving:
        lead.stage = stage
        lead.stage_changed_at = now
    if amount is not None:
        lead.expected_amount, lead.currency = amount, currency
    if next_action is not None:
        lead.next_action_on = next_action
    lead.last_progress_at = now
    if commit:
        db.session.commit()
    return lead


def set_owner(actor, lead_id: int, owner_id) -> Lead:
    lead = _changeable(actor, lead_id)
    owner = db.session.get(User, owner_id) if isinstance(owner_id, int) else None
    if owner is None or owner.organisation_id != lead.organisation_id or not owner.active:
        raise ValidationFailed({"owner_id": gettext(
            "The responsible person must be an active member of the lead's organisation.")})
    if owner.id != lead.owner_id:
        db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=lead.stage,
                                 note=f"Responsible person: {owner.name}.", source="owner"))
        lead.owner_id = owner.id
        db.session.commit()
    return lead


# ---------------------------------------------------------------- documents


def add_document(actor, lead_id: int, stream, filename: str | None, kind) -> LeadDocument:
    from ..projects import storage
    from ..projects.services import _store_row, receive_checked

    lead = _changeable(actor, lead_id)
    if kind not in {k.value for k in DocumentKind}:
        raise ValidationFailed({"kind": gettext("The kind is %(kinds)s.", kinds=", ".join(k.value for k in DocumentKind))})
    received, sniffed, name = receive_checked(stream, filename)
    try:
        document = LeadDocument(lead_id=lead.id, kind=kind, original_name=name, mime=sniffed.mime,
                                size=received.size, sha256=received.sha256, uploaded_by_id=actor.id)
        db.session.add(document)
        db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=lead.stage,
                                 note=f"Document added ({kind}): {name}", source="document"))
        lead.last_progress_at = utcnow()
    except BaseException:
        db.session.rollback()
        storage.discard(received)
        raise
    _store_row(received, document)
    return document


def get_document(actor, document_id: int) -> LeadDocument:
    document = db.session.get(LeadDocument, document_id)
    if document is None:
        raise NotFound(gettext("No such document."))
    get_lead(actor, document.lead_id)  # the same scoping as the lead
    return document


# ---------------------------------------------------------------- the monthly report


def host_month(now: datetime | None = None) -> str:
    zone = ZoneInfo(current_app.config["HOST_TIMEZONE"])
    return (now or utcnow()).astimezone(zone).strftime("%Y-%m")


def open_leads_for_report(actor) -> list[Lead]:
    """The reporter's organisation's leads still being pursued (not operating, not dropped)."""
    if actor is None or actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Monthly reports are filed by the organisation's people."))
    return list(db.session.scalars(
        select(Lead).where(Lead.organisation_id == actor.organisation_id,
                           Lead.stage.not_in([LeadStage.OPERATING, LeadStage.DROPPED]))
        .order_by(Lead.id)
    ))


def file_report(actor, updates: list[dict], note: str = "") -> ProgressReport:
    """All of an organisation's open leads updated at once, saved as one report: all or nothing."""
    leads = {lead.id: lead for lead in open_leads_for_report(actor)}
    if not isinstance(updates, list) or not updates:
        raise ValidationFailed({"updates": gettext("Give at least one lead's progress.")})
    report = ProgressReport(organisation_id=actor.organisation_id, month=host_month(), user_id=actor.id,
                            note=(note or "").strip()[:4000])
    db.session.add(report)
    db.session.flush()
    from ..validation import fields_message

    errors: dict[str, list[str]] = {}
    problems: list[str] = []  # "Update 2: Stage: …", by translated labels (the codes stay in `errors`)
    for n, update in enumerate(updates):
        lead_id = update.get("lead_id") if isinstance(update, dict) else None
        if lead_id not in leads:
            errors[f"updates[{n}].lead_id"] = [gettext("Not an open lead of your organisation.")]
            problems.append(gettext("Update %(num)d: %(problem)s", num=n + 1,
                                    problem=fields_message({"lead_id": errors[f"updates[{n}].lead_id"]})))
            continue
        try:
            progress(actor, lead_id, update, report=report, commit=False)
        except (ValidationFailed, Conflict, Forbidden) as exc:
            details = exc.fields if isinstance(exc, ValidationFailed) else {"stage": [exc.message]}
            for field, messages in details.items():
                errors[f"updates[{n}].{field}"] = messages
            problems.append(gettext("Update %(num)d: %(problem)s", num=n + 1, problem=fields_message(details)))
    if errors:
        db.session.rollback()
        raise ValidationFailed(errors, message=gettext("Nothing was saved: %(problems)s",
                                                       problems=gettext("; ").join(problems)))
    db.session.commit()
    return report


def missing_reports(actor, month: str | None = None) -> list[Organisation]:
    """Organisations with open leads that have not filed a report for the month (organisers)."""
    require_role(actor, Role.ORGANISER)
    month = month or host_month()
    reported = select(ProgressReport.organisation_id).where(ProgressReport.month == month)
    with_open = select(Lead.organisation_id).where(Lead.stage.not_in([LeadStage.OPERATING, LeadStage.DROPPED]))
    return list(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(with_open), Organisation.id.not_in(reported)).order_by(Organisation.name)
    ))


# ---------------------------------------------------------------- rates and numbers


def rates() -> dict[str, Decimal]:
    table = {row.currency: row.cny_per_unit for row in db.session.scalars(select(ExchangeRate))}
    table["CNY"] = Decimal(1)
    return table


def set_rate(actor, currency, cny_per_unit) -> ExchangeRate:
    require_role(actor, Role.ORGANISER)
    code = check_currency(currency)
    if code == "CNY":
        raise ValidationFailed({"currency": gettext("CNY is the unit itself.")})
    try:
        value = Decimal(str(cny_per_unit))
    except Exception:
        raise ValidationFailed({"cny_per_unit": gettext("Give a decimal number.")}) from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e9") or value.as_tuple().exponent < -6:
        raise ValidationFailed({"cny_per_unit": gettext("Give a positive decimal with at most six decimal places.")})
    row = db.session.get(ExchangeRate, code) or ExchangeRate(currency=code, cny_per_unit=value)
    row.cny_per_unit = value
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.commit()
    return row


#: How `stats/pipeline` groups a lead (by the same facts as the province's numbers).
GROUPS = {
    "stage": lambda f: f.stage,
    "city": lambda f: numbers.prefecture_of(f.division),
    "sector": lambda f: f.sector,
    "country": lambda f: f.country,
    "fair": lambda f: f.fair_id,
}

_CENT = Decimal("0.01")


def pipeline_stats(actor, group_by: str = "stage", fair_id: int | None = None, *, locale: str = "en") -> dict:
    """Leads alive now, grouped, with investment per currency and in CNY (decimal strings), and the funnel.

    Counted by the one rule in `numbers`: a signed lead brings its contracted amount; the open leads
    of a project bring the project's amount once, or their own expected amounts, never both. Dropped
    leads are left out of the groups and totals (counted apart as `dropped`). Groups add up to totals.
    """
    require_role(actor, Role.ORGANISER)
    if group_by not in GROUPS:
        raise ValidationFailed({"group_by": gettext("Group by one of %(choices)s.", choices=", ".join(GROUPS))})
    key = GROUPS[group_by]
    everything = numbers.facts(None, numbers.Scope(fair_id=fair_id))
    live = [f for f in everything if f.stage != LeadStage.DROPPED]
    shares = numbers.pipeline_shares([f for f in live if f.is_open])
    money = numbers.Money()
    groups: dict = {}
    for fact in live:
        group = groups.setdefault(key(fact), {"key": key(fact), "count": 0, "investment": {}, "_cny": Decimal(0)})
        group["count"] += 1
        amount, cur = shares[fact.lead_id] if fact.is_open else numbers.signed_amount(fact)
        if amount is not None and cur:
            group["investment"][cur] = group["investment"].get(cur, Decimal(0)) + Decimal(amount)
            group["_cny"] += money.cny(amount, cur)
    order = {s.value: n for n, s in enumerate(STAGE_ORDER)}
    ordered = sorted(groups.values(), key=lambda g: (order.get(g["key"], 99) if group_by == "stage" else 0,
                                                      str(g["key"]) if g["key"] is not None else "~"))
    names = numbers.division_names((g["key"] for g in ordered), locale) if group_by == "city" else {}
    total_cny = sum((g["_cny"] for g in ordered), Decimal(0))
    out_groups = [{
        "key": g["key"], "count": g["count"],
        **({"name": names.get(g["key"], g["key"]) if g["key"] else None} if group_by == "city" else {}),
        "investment": {c: str(v.quantize(_CENT, ROUND_HALF_UP)) for c, v in sorted(g["investment"].items())},
        "investment_cny": str(g["_cny"].quantize(_CENT, ROUND_HALF_UP)),
    } for g in ordered]
    return {
        "group_by": group_by,
        "groups": out_groups,
        "totals": {"count": len(live), "projects": len({f.project_id for f in live}),
                   "investment_cny": str(total_cny.quantize(_CENT, ROUND_HALF_UP)),
                   "foreign_projects": len({f.project_id for f in live if f.foreign}),
                   "dropped": len(everything) - len(live)},
        "missing_rates": sorted(money.missing),
        "funnel": funnel(fair_id),
    }


def funnel(fair_id: int | None = None) -> dict[str, int]:
    """registered (places taken) → attended (joined while live) → interested (organisations) → leads → signed."""
    from ..fairs.services import registration_counts

    people = registration_counts(fair_id)
    interested = select(func.count(func.distinct(Interest.organisation_id)))
    leads = select(func.count(Lead.id))
    signed = select(func.count(Lead.id)).where(Lead.stage.in_([s.value for s in SIGNED_STAGES]))
    if fair_id is not None:
        interested = interested.join(FairSession, FairSession.id == Interest.session_id).where(FairSession.fair_id == fair_id)
        leads = leads.where(Lead.fair_id == fair_id)
        signed = signed.where(Lead.fair_id == fair_id)
    return {"registered": people["registered"], "attended": people["attended"],
            **{name: db.session.scalar(q) or 0 for name, q in (
                ("interested", interested), ("leads", leads), ("signed", signed))}}
