"""Read models for the lead pages: the board's columns and filter choices, the month's reports,
the leads a signing ceremony may record. Everything about leads goes through `queries.scope`."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext
from sqlalchemy import func, select

from ...accounts.access import require_role
from ...accounts.models import Organisation, User
from ...extensions import db
from ...i18n import ui_locale
from . import LeadFilters, annotate, host_month, leads_query, list_leads, numbers
from ..enums import SIGNED_STAGES, STAGE_ORDER, LeadStage, document_kind_label
from ..enums import stage_label  # noqa: F401 (the pages read it as board.stage_label)
from ..models import Lead, LeadEvent, ProgressReport, Signing

#: The most cards the board draws at once; filters narrow the rest.
BOARD_LIMIT = 400


#: Notes CloudFair writes into a lead's history itself (services, pipeline, matching) are stored in
#: English, the same for every reader, and shown in the reader's language: (source, stored form, words).
_SYSTEM_NOTES = [
    ("interest", re.compile(r"Interest expressed in a live session\."),
     lambda m: gettext("Interest expressed in a live session.")),
    ("interest", re.compile(r"Interest raised to intent\."), lambda m: gettext("Interest raised to intent.")),
    ("owner", re.compile(r"Responsible person: (?P<name>.+)\.", re.S),
     lambda m: gettext("Responsible person: %(name)s.", name=m["name"])),
    ("document", re.compile(r"Document added \((?P<kind>\w+)\): (?P<name>.+)", re.S),
     lambda m: gettext("Document added (%(kind)s): %(name)s", kind=document_kind_label(m["kind"]), name=m["name"])),
    ("progress", re.compile(r"Signed on screen: (?P<title>.+)\.", re.S),
     lambda m: gettext("Signed on screen: %(session)s.", session=m["title"])),
    ("progress", re.compile(r"Signing ceremony: (?P<title>.+)\.", re.S),
     lambda m: gettext("Signing ceremony: %(session)s.", session=m["title"])),
    ("meeting", re.compile(r"Meeting (?P<id>\d+) booked\."), lambda m: gettext("Meeting %(id)s booked.", id=m["id"])),
    ("meeting", re.compile(r"Meeting (?P<id>\d+) accepted\."), lambda m: gettext("Meeting %(id)s accepted.", id=m["id"])),
    ("meeting", re.compile(r"Meeting (?P<id>\d+) declined\."), lambda m: gettext("Meeting %(id)s declined.", id=m["id"])),
    ("meeting", re.compile(r"Meeting (?P<id>\d+) cancelled\."), lambda m: gettext("Meeting %(id)s cancelled.", id=m["id"])),
    ("meeting", re.compile(r"Meeting (?P<id>\d+) held\."), lambda m: gettext("Meeting %(id)s held.", id=m["id"])),
    ("proposal", re.compile(r"Site proposal sent: (?P<plots>.+)", re.S),
     lambda m: gettext("Site proposal sent: %(plots)s", plots=m["plots"])),
    ("proposal", re.compile(r"Site visit on (?P<day>[\d-]+) \(proposal (?P<id>\d+)\)"),
     lambda m: gettext("Site visit on %(day)s (proposal %(id)s)", day=m["day"], id=m["id"])),
    ("merge", re.compile(r"Merged from (?P<name>.+)\.", re.S),
     lambda m: gettext("Merged from %(name)s.", name=m["name"])),
]


def history_note(note: str | None, source: str | None) -> str:
    """A history row's note as the reader reads it: CloudFair's own notes translated, people's as written."""
    for where, pattern, words in _SYSTEM_NOTES:
        match = pattern.fullmatch(note or "") if source == where else None
        if match:
            return words(match)
    return note or ""


def next_stage(stage: str) -> str | None:
    """The stage after this one in the pipeline (none after operating or for dropped leads)."""
    if stage == LeadStage.DROPPED:
        return None
    index = STAGE_ORDER.index(LeadStage(stage))
    return STAGE_ORDER[index + 1].value if index + 1 < len(STAGE_ORDER) else None


def board(actor, filters: LeadFilters, limit: int = BOARD_LIMIT) -> tuple[dict[str, list[dict]], int]:
    """The actor's leads (scoped) as annotated rows per stage, pipeline order, and the total."""
    leads, total = list_leads(actor, filters, page=1, per_page=limit)
    columns: dict[str, list[dict]] = {s.value: [] for s in STAGE_ORDER}
    columns[LeadStage.DROPPED.value] = []
    for row in annotate(actor, leads):
        columns.setdefault(row["stage"], []).append(row)
    return columns, total


def filter_choices(actor) -> dict[str, list]:
    """Cities (value, name: prefecture-level divisions, or a foreign city's text) and responsible people
    among the leads the actor may see."""
    scoped = leads_query(actor, LeadFilters()).order_by(None)
    codes = {numbers.prefecture_of(c) for c in db.session.scalars(
        scoped.with_only_columns(Organisation.division_code).where(Organisation.division_code.is_not(None)).distinct())}
    names = numbers.division_names(codes, ui_locale())
    free = db.session.scalars(scoped.with_only_columns(Organisation.city).where(
        Organisation.division_code.is_(None), Organisation.city.is_not(None)).distinct())
    cities = sorted(((code, names.get(code, code)) for code in codes if code), key=lambda c: c[0])
    cities += sorted((c, c) for c in free if c)
    owner_ids = scoped.with_only_columns(Lead.owner_id).where(Lead.owner_id.is_not(None)).distinct()
    owners = db.session.execute(select(User.id, User.name).where(User.id.in_(owner_ids)).order_by(User.name))
    return {"cities": cities, "owners": [(i, n) for i, n in owners]}


def month_reports(actor, month: str | None = None) -> list[dict]:
    """The reports filed in a month (organisers), newest first, with how many leads each changed."""
    require_role(actor, "organiser")
    month = month or host_month()
    changes = (select(LeadEvent.report_id, func.count(LeadEvent.id).label("n"))
               .where(LeadEvent.report_id.is_not(None)).group_by(LeadEvent.report_id).subquery())
    rows = db.session.execute(
        select(ProgressReport, func.coalesce(changes.c.n, 0))
        .outerjoin(changes, changes.c.report_id == ProgressReport.id)
        .where(ProgressReport.month == month)
        .order_by(ProgressReport.created_at.desc(), ProgressReport.id.desc())
    )
    return [{"report": report, "changes": n} for report, n in rows]


def signable_leads(actor) -> list[Lead]:
    """Leads a signing ceremony may record: not yet signed, not dropped, no signing on file (organisers)."""
    require_role(actor, "organiser")
    query = leads_query(actor, LeadFilters()).order_by(None).where(
        Lead.stage.not_in([s.value for s in SIGNED_STAGES] + [LeadStage.DROPPED.value]),
        Lead.id.not_in(select(Signing.lead_id)),
    ).order_by(Lead.id)
    return list(db.session.scalars(query).unique())


def organisation_members(organisation_id: int) -> list[User]:
    """Active people of an organisation, by name: who may be a lead's responsible person."""
    return list(db.session.scalars(
        select(User).where(User.organisation_id == organisation_id, User.active.is_(True)).order_by(User.name)
    ))


def billions(amount: str | Decimal) -> str:
    """CNY as the article writes it: 215.1 billion → "215.10"."""
    return f"{(Decimal(amount) / Decimal(10) ** 9).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def yi(amount: str | Decimal) -> str:
    """CNY in 亿 (hundreds of millions), one decimal."""
    return f"{(Decimal(amount) / Decimal(10) ** 8).quantize(Decimal('0.1'), ROUND_HALF_UP):,}"


def large_cny(amount: str | Decimal, *, short: bool = False) -> str:
    """A large yuan amount the way the reader counts: 亿元 in Chinese, billions in English."""
    if ui_locale() == "zh":
        return f"{yi(amount)} 亿元"
    return f"CNY {billions(amount)} bn" if short else f"CNY {billions(amount)} billion"


def large_usd(amount: str | Decimal | None) -> str:
    """A large dollar amount the way the reader counts: 亿美元 in Chinese, millions in English."""
    if amount is None:
        return "—"
    if ui_locale() == "zh":
        return f"{yi(amount)} 亿美元"
    return f"USD {(Decimal(amount) / Decimal(10) ** 6).quantize(Decimal('0.1'), ROUND_HALF_UP):,} million"
