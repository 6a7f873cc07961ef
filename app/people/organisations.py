"""Organisations: read one with its people and leads, change it, and merge a duplicate into it.

Creating and listing live in `services` (imports and `user create` find organisations there too);
this module holds what only organisers' organisation pages and API do.

A merge reaches into the other domains' tables (leads, live questions, notifications) because an
organisation's rows are spread over them; `ORGANISATION_REFERENCES` and `LEAD_REFERENCES` name
every column it moves, and a test compares them with the models' foreign keys, so a table added
later cannot be forgotten silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import delete, func, or_, select, update

from ..errors import Conflict, NotFound
from ..extensions import db
from ..fairs.models import Registration
from ..leads.enums import stage_rank
from ..leads.models import Interest, Lead, LeadDocument, LeadEvent, ProgressReport, Signing
from ..live.models import Question
from ..meetings.models import Meeting
from ..parks.models import Park
from .models import SignupRequest
from ..notifications.models import Notification
from ..projects.models import Project
from ..accounts import audit
from ..accounts.access import require_role
from ..accounts.enums import Role, kind_label  # noqa: F401 (kind_label: used by the views)
from ..accounts.models import AuditEvent, Organisation, User
from ..accounts.services import organisation_values

#: (table, column) pairs that point at an organisation; a merge moves every one of them.
ORGANISATION_REFERENCES = frozenset({
    ("users", "organisation_id"),
    ("leads", "organisation_id"),
    ("interests", "organisation_id"),
    ("questions", "organisation_id"),
    ("progress_reports", "organisation_id"),
    ("audit_events", "organisation_id"),
    ("meetings", "organisation_id"),
    ("parks", "organisation_id"),
    ("signup_requests", "organisation_id"),
})
#: (table, column) pairs that point at a lead; when two leads are combined, all of them follow.
LEAD_REFERENCES = frozenset({
    ("lead_events", "lead_id"),
    ("interests", "lead_id"),
    ("lead_documents", "lead_id"),
    ("signings", "lead_id"),
    ("meetings", "lead_id"),
})


def get_organisation(actor, organisation_id: int) -> Organisation:
    """One organisation (organisers); 404 when unknown."""
    require_role(actor, Role.ORGANISER)
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(gettext("No such organisation."))
    return org


def annotate(organisations: list[Organisation]) -> list[Organisation]:
    """Set `people_count` and `leads_count` on each organisation (two queries for the lot)."""
    ids = [o.id for o in organisations]
    people = dict(db.session.execute(
        select(User.organisation_id, func.count(User.id)).where(User.organisation_id.in_(ids))
        .group_by(User.organisation_id)).all()) if ids else {}
    leads = dict(db.session.execute(
        select(Lead.organisation_id, func.count(Lead.id)).where(Lead.organisation_id.in_(ids))
        .group_by(Lead.organisation_id)).all()) if ids else {}
    for org in organisations:
        org.people_count = people.get(org.id, 0)
        org.leads_count = leads.get(org.id, 0)
    return organisations


def cities() -> list[str]:
    """The cities organisations are in, for the list's filter."""
    return sorted(c for c in db.session.scalars(select(Organisation.city).distinct()) if c)


def update_organisation(actor, organisation_id: int, changes: dict) -> Organisation:
    """Change an organisation's name, kind, place, demand profile or aliases (organisers).

    Raises 422 naming every bad field (nothing is written), 409 when the new name is taken.
    """
    org = get_organisation(actor, organisation_id)
    values = organisation_values(changes, current=org)
    for key, value in values.items():
        setattr(org, key, value)
    db.session.commit()
    return org


def people(actor, organisation_id: int) -> list[User]:
    """The organisation's people by name (organisers). `password_hash is None`: invitation pending."""
    org = get_organisation(actor, organisation_id)
    return list(db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.name, User.id)))


def leads_of(actor, organisation_id: int) -> list[Lead]:
    """The organisation's leads, newest first (organisers)."""
    org = get_organisation(actor, organisation_id)
    return list(db.session.scalars(
        select(Lead).where(Lead.organisation_id == org.id).order_by(Lead.created_at.desc(), Lead.id.desc())))


# ---------------------------------------------------------------- merging duplicates


@dataclass
class MergePlan:
    """What merging `duplicate` into `survivor` would do: counts of moved rows, the leads that
    are combined because both organisations pursue the same project, and what blocks it."""

    survivor: Organisation
    duplicate: Organisation
    counts: dict[str, int] = field(default_factory=dict)
    #: (kept lead, absorbed lead) pairs: both organisations have a lead on the same project.
    combined: list[tuple[Lead, Lead]] = field(default_factory=list)
    #: Sentences saying why the merge cannot be done (empty when it can).
    blockers: list[str] = field(default_factory=list)


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def plan_merge(actor, survivor_id: int, duplicate_id: int) -> MergePlan:
    """Work out what merging the duplicate into the survivor moves (organisers; nothing is written).

    Raises 404 for an unknown organisation, 409 `same_organisation` for a merge into itself.
    """
    survivor = get_organisation(actor, survivor_id)
    duplicate = get_organisation(actor, duplicate_id)
    if survivor.id == duplicate.id:
        raise Conflict(gettext("An organisation cannot be merged into itself."), code="same_organisation")
    dup_leads = list(db.session.scalars(select(Lead).where(Lead.organisation_id == duplicate.id).order_by(Lead.id)))
    kept_by_project = {lead.project_id: lead for lead in db.session.scalars(
        select(Lead).where(Lead.organisation_id == survivor.id, Lead.project_id.in_([d.project_id for d in dup_leads])))}
    plan = MergePlan(survivor=survivor, duplicate=duplicate)
    plan.combined = [(kept_by_project[d.project_id], d) for d in dup_leads if d.project_id in kept_by_project]
    absorbed_ids = [gone.id for _, gone in plan.combined]
    dup_lead_ids = [d.id for d in dup_leads]
    signed = set(db.session.scalars(select(Signing.lead_id).where(
        Signing.lead_id.in_([kept.id for kept, _ in plan.combined] + absorbed_ids))))
    for kept, gone in plan.combined:
        if kept.id in signed and gone.id in signed:
            plan.blockers.append(gettext(
                "Both organisations recorded a signing for “%(project)s”; one lead can hold only one signing. "
                "Correct one of them first.", project=kept.project.title))
    user_ids = select(User.id).where(User.organisation_id == duplicate.id)
    plan.counts = {
        "people": _count(User, User.organisation_id == duplicate.id),
        "registrations": _count(Registration, Registration.user_id.in_(user_ids)),
        "leads_moved": len(dup_leads) - len(plan.combined),
        "leads_combined": len(plan.combined),
        "interests": _count(Interest, Interest.organisation_id == duplicate.id),
        "questions": _count(Question, Question.organisation_id == duplicate.id),
        "progress_reports": _count(ProgressReport, ProgressReport.organisation_id == duplicate.id),
        "history_rows": _count(LeadEvent, LeadEvent.lead_id.in_(dup_lead_ids)) if dup_lead_ids else 0,
        "documents": _count(LeadDocument, LeadDocument.lead_id.in_(dup_lead_ids)) if dup_lead_ids else 0,
        "signings": _count(Signing, Signing.lead_id.in_(dup_lead_ids)) if dup_lead_ids else 0,
        "audit_events": _count(AuditEvent, AuditEvent.organisation_id == duplicate.id),
    }
    return plan


def _combine_leads(actor, kept: Lead, gone: Lead, duplicate_name: str) -> None:
    """Fold `gone` into `kept`: every history row, interest, document and signing moves over, and
    `kept` takes whatever `gone` knew better. Flushes; `gone` is deleted by the caller.

    The kept row is the survivor's lead, so its id (links, calendar entries) stays valid. It
    takes over the absorbed lead's stage when that one is further along (a live lead beats a
    dropped one), with its amount and stage date; an empty owner, amount or next action is filled
    in; the earliest next action wins; the lead's origin (fair, session, created) is the older
    lead's. A history row "Merged from <name>." records the fold, from and to the stage.
    """
    for model in (LeadEvent, Interest, LeadDocument, Signing, Meeting):
        db.session.execute(update(model).where(model.lead_id == gone.id).values(lead_id=kept.id)
                           .execution_options(synchronize_session=False))
    link = f"/leads/{gone.id}"
    db.session.execute(
        update(Notification)
        .where(or_(Notification.link == link, Notification.link.like(link + "/%"), Notification.link.like(link + "?%"),
                   Notification.link.like(link + "#%")))
        .values(link=func.replace(Notification.link, link, f"/leads/{kept.id}"))
        .execution_options(synchronize_session=False))
    before = kept.stage
    if stage_rank(gone.stage) > stage_rank(kept.stage):
        kept.stage, kept.stage_changed_at = gone.stage, gone.stage_changed_at
        if gone.expected_amount is not None:
            kept.expected_amount, kept.currency = gone.expected_amount, gone.currency
    if kept.expected_amount is None and gone.expected_amount is not None:
        kept.expected_amount, kept.currency = gone.expected_amount, gone.currency
    if kept.owner_id is None:
        kept.owner_id = gone.owner_id
    dates = [d for d in (kept.next_action_on, gone.next_action_on) if d is not None]
    kept.next_action_on = min(dates) if dates else None
    if gone.created_at < kept.created_at:
        kept.created_at, kept.fair_id, kept.session_id = gone.created_at, gone.fair_id, gone.session_id
    kept.last_progress_at = max(kept.last_progress_at, gone.last_progress_at)
    db.session.add(LeadEvent(lead_id=kept.id, user_id=getattr(actor, "id", None), from_stage=before,
                             to_stage=kept.stage, note=f"Merged from {duplicate_name}.", source="merge",
                             amount=kept.expected_amount, currency=kept.currency,
                             next_action_on=kept.next_action_on))
    db.session.flush()


def merge_organisations(actor, survivor_id: int, duplicate_id: int) -> Organisation:
    """Merge the duplicate organisation into the survivor, in one transaction (organisers).

    Everything of the duplicate moves: people (and so their registrations, questions' authors,
    tokens), leads, interests, questions, monthly reports, audit rows. Where both have a lead on
    the same project the survivor's lead is kept and the other folded into it (see
    `_combine_leads`): no history row, interest, document or signing is lost. The survivor learns
    the duplicate's name and aliases as aliases, and the union of both demand profiles (its own
    place and note first). The duplicate is deleted and an `organisation_merged` audit row written.
    Any failure rolls everything back.

    Raises 404 (unknown), 409 `same_organisation`, 409 `merge_blocked` (both leads of a pair signed).
    """
    plan = plan_merge(actor, survivor_id, duplicate_id)
    if plan.blockers:
        raise Conflict(" ".join(plan.blockers), code="merge_blocked")
    survivor, duplicate = plan.survivor, plan.duplicate
    duplicate_name, duplicate_aliases = duplicate.name, list(duplicate.aliases or [])
    try:
        for kept, gone in plan.combined:
            _combine_leads(actor, kept, gone, duplicate_name)
            db.session.execute(delete(Lead).where(Lead.id == gone.id).execution_options(synchronize_session=False))
            db.session.expunge(gone)
        for model in (User, Lead, Interest, Question, ProgressReport, AuditEvent, Meeting, Park, SignupRequest):
            db.session.execute(update(model).where(model.organisation_id == duplicate.id)
                               .values(organisation_id=survivor.id).execution_options(synchronize_session=False))
        known = {survivor.name.casefold()}
        aliases = []
        for name in [*(survivor.aliases or []), duplicate_name, *duplicate_aliases]:
            if name.casefold() not in known:
                known.add(name.casefold())
                aliases.append(name)
        survivor.aliases = aliases
        survivor.demand_sectors = sorted(set(survivor.demand_sectors or []) | set(duplicate.demand_sectors or []))
        survivor.demand_countries = sorted(set(survivor.demand_countries or []) | set(duplicate.demand_countries or []))
        survivor.demand_note = survivor.demand_note or duplicate.demand_note or ""
        survivor.city = survivor.city or duplicate.city
        survivor.division_code = survivor.division_code or duplicate.division_code
        audit.record("organisation_merged", actor=actor, organisation=survivor, merged_name=duplicate_name,
                     merged_id=duplicate.id, moved=plan.counts,
                     combined_leads=[{"kept": kept.id, "absorbed": gone.id, "project_id": kept.project_id}
                                     for kept, gone in plan.combined])
        db.session.flush()
        db.session.execute(delete(Organisation).where(Organisation.id == duplicate.id)
                           .execution_options(synchronize_session=False))
        db.session.expunge(duplicate)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return survivor


def project_titles(leads: list[Lead]) -> dict[int, str]:
    ids = {lead.project_id for lead in leads}
    return dict(db.session.execute(select(Project.id, Project.title).where(Project.id.in_(ids))).all()) if ids else {}
