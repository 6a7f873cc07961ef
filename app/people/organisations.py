"""Organisations: read one with its people and leads, change it, and merge a duplicate into it.

Listing and finding by name live in `accounts.services` (imports and `user create` find
organisations there too); this module holds what only organisers' organisation pages and API do.
Their fields are checked by one schema (`app.people.schemas.OrganisationValuesSchema`), the demand
profile among them written by its one writer (`app.leads.services.write_demand`).

An organisation's rows are spread over the domains (leads, live questions, meetings, parks), and
this module imports none of their models: a merge moves the people, audit rows and sign-up
requests (identity's and people's own tables) and asks each domain to move its rows through
`app.signals` (`organisation_merge_planned` for the preview's counts, `organisations_merged`
inside the merge's one transaction). Each
receiver names the columns it moves; a test compares them with the models' foreign keys, so a
domain added later cannot be forgotten silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from .. import signals
from ..errors import Conflict, ValidationFailed, get_or_not_found
from ..extensions import db
from ..leads import queries as lead_queries
from ..accounts import audit
from ..accounts.access import require_role
from ..accounts.enums import Role, kind_label  # noqa: F401 (kind_label: used by the views)
from ..accounts.models import AuditEvent, Organisation, User
from ..accounts.services import organisation_name_holder
from ..leads.services import DEMAND_FIELDS, write_demand
from ..schemas import load
from .models import FairInvitation, SignupRequest
from .schemas import OrganisationValuesSchema

#: (table, column) pairs pointing at an organisation that the merge moves itself (identity's and
#: people's tables); every other one is moved by a receiver of `signals.organisations_merged`.
ORGANISATION_REFERENCES = frozenset({
    ("users", "organisation_id"),
    ("audit_events", "organisation_id"),
    ("signup_requests", "organisation_id"),
    ("fair_invitations", "organisation_id"),
})


def get_organisation(actor, organisation_id: int) -> Organisation:
    """One organisation (organisers); 404 when unknown."""
    require_role(actor, Role.ORGANISER)
    return get_or_not_found(Organisation, organisation_id, _l("No such organisation."))


def annotate(organisations: list[Organisation]) -> list[Organisation]:
    """Set `people_count` and `leads_count` on each organisation (two queries for the lot)."""
    ids = [o.id for o in organisations]
    people = dict(db.session.execute(
        select(User.organisation_id, func.count(User.id)).where(User.organisation_id.in_(ids))
        .group_by(User.organisation_id)).all()) if ids else {}
    leads = lead_queries.lead_counts(ids)
    for org in organisations:
        org.people_count = people.get(org.id, 0)
        org.leads_count = leads.get(org.id, 0)
    return organisations


def cities() -> list[str]:
    """The cities organisations are in, for the list's filter."""
    return sorted(c for c in db.session.scalars(select(Organisation.city).distinct()) if c)


def _organisation_values(data: dict, current: Organisation | None) -> dict:
    """The organisation's fields checked by `OrganisationValuesSchema` (all when creating, those given
    when changing): 422 naming every bad field at once (with `suggestions` for a city that named no
    place), 409 `already_exists` when the name is another organisation's name or alias."""
    schema = OrganisationValuesSchema(current=current)
    try:
        values = load(schema, data, partial=current is not None)
    except ValidationFailed as exc:
        if schema.suggestions:
            exc.details["suggestions"] = schema.suggestions
        raise
    if "name" in values:
        holder = organisation_name_holder(values["name"], exclude_id=current.id if current else None)
        if holder is not None:
            raise Conflict(
                gettext("An organisation called %(name)s already exists.", name=values["name"])
                if holder.name.casefold() == values["name"].casefold()
                else gettext("%(name)s is another spelling of %(other)s.", name=values["name"], other=holder.name),
                code="already_exists", details={"organisation_id": holder.id},
            )
    return values


def _store(org: Organisation, values: dict) -> None:
    """Set the checked values; the demand profile through its one writer. Flushes."""
    for key, value in values.items():
        if key not in DEMAND_FIELDS:
            setattr(org, key, value)
    write_demand(org, {key: value for key, value in values.items() if key in DEMAND_FIELDS})


def create_organisation(actor, **data) -> Organisation:
    """Create an organisation with its demand profile (organisers).

    Fields: name, kind, city, division, country, demand_sectors, demand_countries, demand_note, aliases
    (and name_i18n, name_zh, name_en). Raises 422 naming every bad field, 409 when the name is taken.
    """
    require_role(actor, Role.ORGANISER)
    values = _organisation_values(data, None)
    org = Organisation(aliases=[])
    db.session.add(org)
    _store(org, values)
    db.session.commit()
    return org


def update_organisation(actor, organisation_id: int, changes: dict) -> Organisation:
    """Change an organisation's name, kind, place, demand profile or aliases (organisers).

    Raises 422 naming every bad field (nothing is written), 409 when the new name is taken.
    """
    org = get_organisation(actor, organisation_id)
    values = _organisation_values(changes, org)
    _store(org, values)
    db.session.commit()
    return org


def people(actor, organisation_id: int) -> list[User]:
    """The organisation's people by name (organisers). `password_hash is None`: invitation pending."""
    org = get_organisation(actor, organisation_id)
    return list(db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.name, User.id)))


def leads_of(actor, organisation_id: int) -> list:
    """The organisation's leads, newest first (organisers)."""
    org = get_organisation(actor, organisation_id)
    return lead_queries.organisation_leads(org.id)


# ---------------------------------------------------------------- merging duplicates


@dataclass
class MergePlan:
    """What merging `duplicate` into `survivor` would do: counts of moved rows (each domain adds
    its own), the leads that are combined because both organisations pursue the same project
    (filled by leads), and what blocks it."""

    survivor: Organisation
    duplicate: Organisation
    counts: dict[str, int] = field(default_factory=dict)
    #: (kept lead, absorbed lead) pairs: both organisations have a lead on the same project.
    combined: list = field(default_factory=list)
    #: Sentences saying why the merge cannot be done (empty when it can).
    blockers: list[str] = field(default_factory=list)


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def plan_merge(actor, survivor_id: int, duplicate_id: int) -> MergePlan:
    """Work out what merging the duplicate into the survivor moves (organisers; nothing is written).

    People and audit rows are counted here; each domain adds its counts (and leads the combined
    pairs and blockers) through `signals.organisation_merge_planned`.
    Raises 404 for an unknown organisation, 409 `same_organisation` for a merge into itself.
    """
    survivor = get_organisation(actor, survivor_id)
    duplicate = get_organisation(actor, duplicate_id)
    if survivor.id == duplicate.id:
        raise Conflict(gettext("An organisation cannot be merged into itself."), code="same_organisation")
    plan = MergePlan(survivor=survivor, duplicate=duplicate)
    plan.counts["people"] = _count(User, User.organisation_id == duplicate.id)
    signals.organisation_merge_planned.send(survivor, source=duplicate, plan=plan)
    plan.counts["audit_events"] = _count(AuditEvent, AuditEvent.organisation_id == duplicate.id)
    return plan


def merge_organisations(actor, survivor_id: int, duplicate_id: int) -> Organisation:
    """Merge the duplicate organisation into the survivor, in one transaction (organisers).

    Everything of the duplicate moves: people (and so their registrations, questions' authors,
    tokens) and audit rows here; leads, interests, questions, monthly reports, meetings and parks
    by each domain's receiver of `signals.organisations_merged` (they flush; this commits once).
    Where both have a lead on the same project the survivor's lead is kept and the other folded
    into it (`app.leads.services._combine_leads`): no history row, interest, document or signing is
    lost. The survivor learns the duplicate's name and aliases as aliases, and the union of both
    demand profiles (its own place and note first). The duplicate is deleted and an
    `organisation_merged` audit row written. Any failure rolls everything back.

    Raises 404 (unknown), 409 `same_organisation`, 409 `merge_blocked` (both leads of a pair signed).
    """
    plan = plan_merge(actor, survivor_id, duplicate_id)
    if plan.blockers:
        raise Conflict(" ".join(plan.blockers), code="merge_blocked")
    survivor, duplicate = plan.survivor, plan.duplicate
    duplicate_name, duplicate_aliases = duplicate.name, list(duplicate.aliases or [])
    combined_leads = [{"kept": kept.id, "absorbed": gone.id, "project_id": kept.project_id}
                      for kept, gone in plan.combined]
    try:
        signals.organisations_merged.send(survivor, source=duplicate, actor=actor)
        for model in (User, AuditEvent, SignupRequest, FairInvitation):
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
                     merged_id=duplicate.id, moved=plan.counts, combined_leads=combined_leads)
        db.session.flush()
        db.session.execute(delete(Organisation).where(Organisation.id == duplicate.id)
                           .execution_options(synchronize_session=False))
        db.session.expunge(duplicate)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return survivor
