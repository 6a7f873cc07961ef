"""Every read of leads: who sees which leads (`scope`, the one place), lists and filters, a lead's
history, documents and interests, the monthly report's due leads, stall limits and flags, exchange
rates, pipeline statistics and the funnel, interests in a session, signings and recommendations.

The board's read models are in `queries.board`, the province's numbers in `queries.numbers`, CSV and
spreadsheets in `queries.exports`. Changes are in `services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, bindparam, false, func, or_, select, tuple_
from sqlalchemy.orm import Load, lazyload

from ... import bilingual, signals
from ...accounts.access import require_role
from ...accounts.enums import OrganisationKind, Role
from ...accounts.models import Organisation, User
from ...errors import Forbidden, NotFound, ValidationFailed
from ...extensions import db
from ...fairs import services as fairs
from ...fairs.enums import SessionStatus
from ...fairs.models import Fair, FairSession, Registration
from ...i18n import ui_locale
from ...pagination import paginate
from ...projects.models import Project
from ...types import utcnow
from ..enums import SIGNED_STAGES, LeadStage, STAGE_ORDER, default_stall_days
from ..models import ExchangeRate, Interest, Lead, LeadDocument, LeadEvent, ProgressReport, Signing, StageLimit
from . import numbers

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


# ---------------------------------------------------------------- stall limits and flags


def stall_limits() -> dict[str, int]:
    limits = {stage.value: default_stall_days(stage) for stage in STAGE_ORDER}
    limits.update({row.stage: row.days for row in db.session.scalars(select(StageLimit))})
    return limits


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
            from ...reference.divisions import match_division

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
        "organisation": bilingual.text(lead.organisation, "name"),
        "organisation_i18n": bilingual.pair(lead.organisation, "name"),
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


GROUPS = {  # the same keys in SQL: numbers.PIPELINE_GROUP_KEYS
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
    money = numbers.Money()
    groups: dict = {}
    if db.session.get_bind().dialect.name == "postgresql":
        shares, totals = numbers.pipeline_sums(group_by, fair_id)
    else:
        shares, totals = _pipeline_shares(group_by, fair_id)
    for key, cur, count, amount in shares:
        group = groups.setdefault(key, {"key": key, "count": 0, "investment": {}, "_cny": Decimal(0)})
        group["count"] += count
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
        "totals": {"count": totals["count"], "projects": totals["projects"],
                   "investment_cny": str(total_cny.quantize(_CENT, ROUND_HALF_UP)),
                   "foreign_projects": totals["foreign_projects"], "dropped": totals["dropped"]},
        "missing_rates": sorted(money.missing),
        "funnel": funnel(fair_id),
    }


def _pipeline_shares(group_by: str, fair_id: int | None) -> tuple[list[tuple], dict[str, int]]:
    """The statistics' leads by the counting rule (`numbers`), one (group key, currency, 1, amount) per
    lead alive (not dropped), its share of the investment: a signed lead its contracted amount, the open
    leads of a project the project's amount once or their own, never both (`numbers.pipeline_shares`);
    and the totals. Every lead read as a fact (SQLite; PostgreSQL sums them: `numbers.pipeline_sums`)."""
    key = GROUPS[group_by]
    everything = numbers.facts(None, numbers.Scope(fair_id=fair_id))
    live = [f for f in everything if f.stage != LeadStage.DROPPED]
    shares = numbers.pipeline_shares([f for f in live if f.is_open])
    rows = []
    for fact in live:
        amount, cur = shares[fact.lead_id] if fact.is_open else numbers.signed_amount(fact)
        rows.append((key(fact), cur, 1, amount))
    return (rows,
            {"count": len(live), "projects": len({f.project_id for f in live}),
             "foreign_projects": len({f.project_id for f in live if f.foreign}), "dropped": len(everything) - len(live)})


assert set(GROUPS) == set(numbers.PIPELINE_GROUP_KEYS)


def funnel(fair_id: int | None = None) -> dict[str, int]:
    """registered (places taken) → attended (joined while live) → interested (organisations) → leads → signed."""
    from ...fairs.services import registration_counts

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


# ---------------------------------------------------------------- interests


#: The person's interest by client id, its own columns only (a replay's answer needs no more; built once).
_BY_CLIENT_ID = (select(Interest).options(lazyload("*"))
                 .where(Interest.user_id == bindparam("user_id"), Interest.client_id == bindparam("client_id")))


def find_interest(actor, client_id: str) -> Interest | None:
    return db.session.scalar(_BY_CLIENT_ID, {"user_id": actor.id, "client_id": client_id})


#: Interests with their leads and the leads' organisations: a replay's whole answer in one query.
_WITH_LEAD = (select(Interest, Lead).join(Lead, Lead.id == Interest.lead_id)
              .options(Load(Interest).lazyload("*"), Load(Lead).lazyload(Lead.project)))
#: The person's interest by client id with its lead (built once).
_REPLAY = _WITH_LEAD.where(Interest.user_id == bindparam("user_id"), Interest.client_id == bindparam("client_id"))


def find_interest_and_lead(actor, client_id: str) -> tuple[Interest, Lead] | None:
    """The person's interest by client id and its lead (a replay's answer), or None."""
    return db.session.execute(_REPLAY, {"user_id": actor.id, "client_id": client_id}).one_or_none()


def stored_replays(pairs) -> dict[tuple[int, str], tuple[dict, dict]]:
    """Those of these (person, client id) pairs that name a stored interest, each with the replay's
    answer (the interest and its lead as `interest_dict`/`lead_dict`): one query."""
    pairs = list(pairs)
    if not pairs:
        return {}
    rows = db.session.execute(_WITH_LEAD.where(tuple_(Interest.user_id, Interest.client_id).in_(pairs)))
    return {(interest.user_id, interest.client_id): (interest_dict(interest), lead_dict(lead)) for interest, lead in rows}


def interest_count(session_id: int, project_id: int) -> int:
    """Organisations that expressed interest in the project in this session."""
    return db.session.scalar(
        select(func.count(func.distinct(Interest.organisation_id))).where(
            Interest.session_id == session_id, Interest.project_id == project_id
        )
    ) or 0


def interest_counts(session_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(Interest.project_id, func.count(func.distinct(Interest.organisation_id)))
        .where(Interest.session_id == session_id)
        .group_by(Interest.project_id)
    )
    return {project_id: count for project_id, count in rows}


def session_interests(session_id: int) -> list[Interest]:
    """Interests expressed in a session, oldest first (the caller decides who may see them)."""
    return list(db.session.scalars(
        select(Interest).where(Interest.session_id == session_id).order_by(Interest.created_at, Interest.id)
    ))


def lead_dict(lead: Lead) -> dict:
    return {
        "id": lead.id,
        "project_id": lead.project_id,
        "organisation_id": lead.organisation_id,
        "organisation": bilingual.text(lead.organisation, "name"),
        "organisation_i18n": bilingual.pair(lead.organisation, "name"),
        "owner_id": lead.owner_id,
        "stage": lead.stage,
        "expected_amount": None if lead.expected_amount is None else f"{lead.expected_amount:.2f}",
        "currency": lead.currency,
        "next_action_on": lead.next_action_on.isoformat() if lead.next_action_on else None,
        "created_at": lead.created_at.isoformat(),
    }


def interest_dict(interest: Interest) -> dict:
    return {
        "id": interest.id,
        "client_id": interest.client_id,
        "session_id": interest.session_id,
        "project_id": interest.project_id,
        "organisation_id": interest.organisation_id,
        "user_id": interest.user_id,
        "lead_id": interest.lead_id,
        "level": interest.level,
        "note": interest.note,
        "pitch_second": interest.pitch_second,
        "attachment": (
            {"name": interest.attachment_name, "mime": interest.attachment_mime,
             "download_url": f"/api/v1/interests/{interest.id}/attachment"}
            if interest.attachment_sha256 else None
        ),
        "created_at": interest.created_at.isoformat(),
    }


# ---------------------------------------------------------------- signing ceremonies


def signing_open(session: FairSession, now=None) -> bool:
    """A signing is recorded once its ceremony has begun (never weeks ahead of it)."""
    return (now or utcnow()) >= session.starts_at


def signings_of(session: FairSession) -> list[Signing]:
    return list(db.session.scalars(select(Signing).where(Signing.session_id == session.id).order_by(Signing.id)))


def visible_lead_ids(actor, signings: list[Signing]) -> set[int]:
    """The signings' leads the viewer may open (the leads' own scoping: organisers all, an attendee
    their organisation's, a presenter those on their projects)."""
    ids = [s.lead_id for s in signings]
    if not ids:
        return set()
    return set(db.session.scalars(scope(actor, select(Lead.id).where(Lead.id.in_(ids)))))


def signing_totals(signings: list[Signing], visible: set[int] | None = None) -> dict:
    """The ceremony's count, and the sums of the amounts the viewer may see (`visible` lead ids; None:
    all); `hidden` says how many signings the sums leave out."""
    per_currency: dict[str, Decimal] = {}
    shown = [s for s in signings if visible is None or s.lead_id in visible]
    for signing in shown:
        per_currency[signing.currency] = per_currency.get(signing.currency, Decimal(0)) + signing.amount
    table = rates()
    cny = sum((v * table[c] for c, v in per_currency.items() if c in table), Decimal(0))
    return {
        "count": len(signings),
        "hidden": len(signings) - len(shown),
        "amounts": {c: str(v.quantize(_CENT)) for c, v in sorted(per_currency.items())},
        "amount_cny": str(cny.quantize(_CENT)),
        "missing_rates": sorted(c for c in per_currency if c not in table),
    }


def signing_dict(signing: Signing, visible: bool = True) -> dict:
    """A signing as the viewer may see it: the ceremony is public (project, organisation, city, when);
    the lead, the amount and the agreement only for those who may open the lead (else null)."""
    lead = signing.lead
    return {"id": signing.id, "session_id": signing.session_id, "visible": visible,
            "lead_id": lead.id if visible else None, "project": bilingual.text(lead.project, "title"),
            "project_id": lead.project_id, "organisation": bilingual.text(lead.organisation, "name"),
            "organisation_i18n": bilingual.pair(lead.organisation, "name"), "city": lead.organisation.city,
            "amount": f"{signing.amount:.2f}" if visible else None, "currency": signing.currency if visible else None,
            "document_url": f"/api/v1/lead-documents/{signing.document_id}/download" if visible else None,
            "created_at": signing.created_at.isoformat()}


def signings_for(actor, session: FairSession) -> dict:
    """The signings page and API: each signing with what this viewer may see, and the totals."""
    signings = signings_of(session)
    visible = visible_lead_ids(actor, signings)
    return {"items": [signing_dict(s, s.lead_id in visible) for s in signings],
            "total": signing_totals(signings, visible), "signings": signings, "visible": visible}


# ---------------------------------------------------------------- recommendations


# ---------------------------------------------------------------- recommendations


def _reasons(organisation: Organisation, project, fair: Fair | None = None) -> list[str]:
    reasons = []
    if project.sector in (organisation.demand_sectors or []):
        reasons.append(f"sector:{project.sector}")
    if project.country in (organisation.demand_countries or []):
        reasons.append(f"country:{project.country}")
    if fair is not None and set(fair.focus_sectors or []) & set(organisation.demand_sectors or []) and not reasons:
        reasons.append("fair_focus")
    return reasons


def recommendations(actor, *, limit: int = 20) -> dict:
    """Upcoming sessions and the projects in them that fit the organisation's demand, best first."""
    if actor is None or actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Recommendations are for attendees."))
    organisation = actor.organisation
    sessions = list(db.session.scalars(
        select(FairSession).join(Fair, Fair.id == FairSession.fair_id)
        .where(Fair.published_at.is_not(None), FairSession.ends_at >= utcnow(),
               FairSession.status.not_in([SessionStatus.CANCELLED, SessionStatus.ENDED]))
        .order_by(FairSession.starts_at)
    ))
    pursued = set(db.session.scalars(select(Lead.project_id).where(Lead.organisation_id == organisation.id)))
    session_items, project_items = [], {}
    for session in sessions:
        best: list[str] = []
        for project in session.projects:
            reasons = _reasons(organisation, project, session.fair)
            if not reasons:
                continue
            score = 2 * sum(r.startswith("sector:") for r in reasons) + sum(r.startswith("country:") for r in reasons)
            item = project_items.get(project.id)
            if item is None or score > item["score"]:
                project_items[project.id] = {"project_id": project.id, "title": bilingual.text(project, "title"), "sector": project.sector,
                                             "country": project.country, "session_id": session.id, "score": score,
                                             "reasons": reasons, "already_pursued": project.id in pursued}
            best = best if len(best) >= len(reasons) else reasons
        if best:
            session_items.append({"session_id": session.id, "fair_id": session.fair_id, "title": bilingual.text(session, "title"),
                                  "starts_at": session.starts_at.isoformat(), "reasons": best,
                                  "score": 2 * sum(r.startswith("sector:") for r in best) + sum(r.startswith("country:") for r in best)})
    session_items.sort(key=lambda i: (-i["score"], i["starts_at"]))
    projects = sorted(project_items.values(), key=lambda i: (i["already_pursued"], -i["score"], i["title"]))
    return {"organisation": organisation.name, "sessions": session_items[:limit], "projects": projects[:limit]}


def invitees(actor, session_id: int) -> list[dict]:
    """For a pitch: the attendee organisations whose demand fits its projects, and whether they registered."""
    require_role(actor, Role.ORGANISER)
    session = fairs.get_session(actor, session_id)
    registered = set(db.session.scalars(
        select(User.organisation_id).join(Registration, Registration.user_id == User.id)
        .where(Registration.fair_id == session.fair_id, Registration.withdrawn_at.is_(None))
    ))
    out = []
    for organisation in db.session.scalars(select(Organisation).where(Organisation.kind != OrganisationKind.AGENCY).order_by(Organisation.name)):
        reasons = sorted({r for project in session.projects for r in _reasons(organisation, project)})
        if reasons:
            out.append({"organisation_id": organisation.id, "name": organisation.name, "city": organisation.city,
                        "reasons": reasons, "registered": organisation.id in registered})
    out.sort(key=lambda i: (i["registered"], -len(i["reasons"]), i["name"]))
    return out


# ---------------------------------------------------------------- organisations (their pages and merges)


def lead_counts(organisation_ids: list[int]) -> dict[int, int]:
    """How many leads each organisation has (one query), for the organisations list."""
    if not organisation_ids:
        return {}
    return dict(db.session.execute(
        select(Lead.organisation_id, func.count(Lead.id)).where(Lead.organisation_id.in_(organisation_ids))
        .group_by(Lead.organisation_id)).all())


def organisation_leads(organisation_id: int) -> list[Lead]:
    """An organisation's leads, newest first (the caller has checked that the actor may see them)."""
    return list(db.session.scalars(
        select(Lead).where(Lead.organisation_id == organisation_id).order_by(Lead.created_at.desc(), Lead.id.desc())))


def shared_project_leads(survivor_id: int, duplicate_id: int) -> tuple[list[Lead], list[tuple[Lead, Lead]]]:
    """The duplicate's leads, and the (kept, absorbed) pairs where both organisations have a lead on
    the same project: a merge folds the absorbed lead into the survivor's."""
    dup_leads = list(db.session.scalars(select(Lead).where(Lead.organisation_id == duplicate_id).order_by(Lead.id)))
    kept_by_project = {lead.project_id: lead for lead in db.session.scalars(
        select(Lead).where(Lead.organisation_id == survivor_id, Lead.project_id.in_([d.project_id for d in dup_leads])))}
    return dup_leads, [(kept_by_project[d.project_id], d) for d in dup_leads if d.project_id in kept_by_project]


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


@signals.receiver(signals.organisation_merge_planned)
def plan_organisation_merge(survivor, *, source, plan) -> None:
    """Leads' part of a merge's plan: the leads combined (both pursue one project) and moved, their
    interests, reports, history, documents and signings; a pair of signed leads blocks the merge."""
    dup_leads, plan.combined = shared_project_leads(survivor.id, source.id)
    absorbed_ids = [gone.id for _, gone in plan.combined]
    dup_lead_ids = [d.id for d in dup_leads]
    signed = set(db.session.scalars(select(Signing.lead_id).where(
        Signing.lead_id.in_([kept.id for kept, _ in plan.combined] + absorbed_ids))))
    for kept, gone in plan.combined:
        if kept.id in signed and gone.id in signed:
            plan.blockers.append(gettext(
                "Both organisations recorded a signing for “%(project)s”; one lead can hold only one signing. "
                "Correct one of them first.", project=kept.project.title))
    plan.counts.update({
        "leads_moved": len(dup_leads) - len(plan.combined),
        "leads_combined": len(plan.combined),
        "interests": _count(Interest, Interest.organisation_id == source.id),
        "progress_reports": _count(ProgressReport, ProgressReport.organisation_id == source.id),
        "history_rows": _count(LeadEvent, LeadEvent.lead_id.in_(dup_lead_ids)) if dup_lead_ids else 0,
        "documents": _count(LeadDocument, LeadDocument.lead_id.in_(dup_lead_ids)) if dup_lead_ids else 0,
        "signings": _count(Signing, Signing.lead_id.in_(dup_lead_ids)) if dup_lead_ids else 0,
    })
