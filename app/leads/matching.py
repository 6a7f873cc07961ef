"""Signing ceremonies and recommendations: the two ends of a fair's promise."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import select

from .. import bilingual
from ..accounts.access import require_role
from ..accounts.enums import OrganisationKind, Role
from ..accounts.models import Organisation, User
from ..bounds import MAX_INT
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..fairs import services as fairs
from ..fairs.enums import SessionKind, SessionStatus
from ..fairs.models import Fair, FairSession, Registration
from ..reference.services import check_country, check_sectors
from ..types import utcnow
from . import pipeline
from .enums import SIGNED_STAGES, DocumentKind, LeadStage
from .models import Lead, LeadDocument, Signing

_CENT = Decimal("0.01")


# ---------------------------------------------------------------- signing ceremonies


def record_signing(actor, session_id: int, data: dict, *, stream=None, filename: str | None = None) -> Signing:
    """An organiser records an agreement signed on screen: the lead moves to `signed`.

    The agreement is uploaded with the call (or the lead already has one); the amount is the
    contracted amount. All or nothing.
    """
    require_role(actor, Role.ORGANISER)
    session = fairs.get_session(actor, session_id)
    if session.kind != SessionKind.SIGNING:
        raise Conflict(gettext("Agreements are recorded in signing sessions."), code="not_a_signing_session")
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(gettext("This session is cancelled."), code="session_closed")
    if not signing_open(session):
        raise Conflict(gettext("The ceremony has not begun: signings are recorded from the session's start."),
                       code="session_not_started", details={"starts_at": session.starts_at.isoformat()})
    lead_id = data.get("lead_id")
    lead = (db.session.get(Lead, lead_id)
            if isinstance(lead_id, int) and not isinstance(lead_id, bool) and 0 < lead_id <= MAX_INT else None)
    if lead is None:
        raise ValidationFailed({"lead_id": gettext("Name the lead whose agreement is signed.")})
    if lead.stage == LeadStage.DROPPED:
        raise Conflict(gettext("This lead was dropped; an organiser must revive it first."), code="lead_dropped")
    if db.session.scalar(select(Signing.id).where(Signing.lead_id == lead.id)):
        raise Conflict(gettext("This lead's signing is already recorded."), code="already_signed")
    if stream is not None:
        document = pipeline.add_document(actor, lead.id, stream, filename, DocumentKind.AGREEMENT)
    else:
        document = db.session.scalar(select(LeadDocument).where(
            LeadDocument.lead_id == lead.id, LeadDocument.kind == DocumentKind.AGREEMENT).order_by(LeadDocument.id.desc()))
        if document is None:
            raise ValidationFailed({"file": gettext("Attach the signed agreement.")})
    try:
        if lead.stage not in SIGNED_STAGES:
            pipeline.progress(actor, lead.id, {"stage": LeadStage.SIGNED.value, "amount": data.get("amount"),
                                               "currency": data.get("currency"),
                                               "note": f"Signed on screen: {session.title}."}, commit=False)
        else:
            pipeline.progress(actor, lead.id, {"amount": data.get("amount"), "currency": data.get("currency"),
                                               "note": f"Signing ceremony: {session.title}."}, commit=False)
        if lead.expected_amount is None or lead.currency is None:
            raise ValidationFailed({"amount": gettext("Give the contracted amount and currency.")})
        signing = Signing(session_id=session.id, lead_id=lead.id, amount=lead.expected_amount, currency=lead.currency,
                          document_id=document.id, recorded_by_id=actor.id)
        db.session.add(signing)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return signing


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
    return set(db.session.scalars(pipeline.scope(actor, select(Lead.id).where(Lead.id.in_(ids)))))


def signing_totals(signings: list[Signing], visible: set[int] | None = None) -> dict:
    """The ceremony's count, and the sums of the amounts the viewer may see (`visible` lead ids; None:
    all); `hidden` says how many signings the sums leave out."""
    per_currency: dict[str, Decimal] = {}
    shown = [s for s in signings if visible is None or s.lead_id in visible]
    for signing in shown:
        per_currency[signing.currency] = per_currency.get(signing.currency, Decimal(0)) + signing.amount
    table = pipeline.rates()
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
            "project_id": lead.project_id, "organisation": lead.organisation.name, "city": lead.organisation.city,
            "amount": f"{signing.amount:.2f}" if visible else None, "currency": signing.currency if visible else None,
            "document_url": f"/api/v1/lead-documents/{signing.document_id}/download" if visible else None,
            "created_at": signing.created_at.isoformat()}


def signings_for(actor, session: FairSession) -> dict:
    """The signings page and API: each signing with what this viewer may see, and the totals."""
    signings = signings_of(session)
    visible = visible_lead_ids(actor, signings)
    return {"items": [signing_dict(s, s.lead_id in visible) for s in signings],
            "total": signing_totals(signings, visible), "signings": signings, "visible": visible}


# ---------------------------------------------------------------- demand profiles


def update_demand(actor, organisation_id: int, data: dict) -> Organisation:
    """An organisation's demand profile: its own people and organisers may edit it."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(gettext("No such organisation."))
    if actor is None or not (actor.role == Role.ORGANISER or actor.organisation_id == organisation.id):
        raise Forbidden(gettext("Only the organisation's people and organisers edit its profile."))
    errors: dict[str, str] = {}
    values: dict = {}
    for field, check in (("demand_sectors", lambda v: check_sectors(v, "demand_sectors")),
                         ("demand_countries", lambda v: [check_country(c, "demand_countries") for c in v])):
        if field in data:
            if not isinstance(data[field], list):
                errors[field] = gettext("Give a list of codes.")
                continue
            try:
                values[field] = sorted(set(check(data[field])))
            except ValidationFailed as exc:
                errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if "demand_note" in data:
        note = data["demand_note"] if isinstance(data["demand_note"], str) else ""
        if len(note) > 1000:
            errors["demand_note"] = gettext("At most 1,000 characters.")
        values["demand_note"] = note.strip()
    if errors:
        raise ValidationFailed(errors)
    for key, value in values.items():
        setattr(organisation, key, value)
    db.session.commit()
    return organisation


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


