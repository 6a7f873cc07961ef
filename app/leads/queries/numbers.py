"""The province's numbers: ONE counting rule, used by the dashboard, the API, CSV and the workbook.

The rule (the README says the same in words):

- A **lead** is a (project, organisation) pair. In a period, the leads counted are those *made* in it.
- A **project** is counted once however many organisations pursue it. When figures are split into
  groups (city, month, sector, stage, fair), the project is carried by its *first* lead among those
  counted (earliest made, then lowest id), so the groups add up to the total.
- A **signed project** is a lead at `signed` or later *now* (each signed agreement with a city is one);
  it counts in the month its history *first* reached a signed stage (a lead signed, moved back and
  signed again counts once, in its first month; a lead moved back below `signed` or dropped counts
  no more). The **signed amount** is the sum of those leads' contracted amounts.
- **Foreign-funded** means the project's origin country is not CN; their signed amount is also given
  in USD (converted through CNY at the organisers' rates), as the province reports it.
- The **pipeline value** counts the open leads (made in the period, not dropped, not yet signed): a
  project's amount once (carried by its first open lead), or, where the project's leads have their
  own expected amounts, those instead: never both.
- Amounts are converted to CNY at the rates on the dashboard; a currency without a rate is left out
  of the yuan figures and named in `missing_rates`.
- **Site proposals** are counted in the period they were *sent* in (each proposal once, a lead may
  have several), grouped by the lead's city, its project's sector and the month sent; of those,
  `opened` have been opened by the project's presenter and `site_visits` have a site visit recorded
  (by now, whenever it happened).
- Months are calendar months in the host's zone (`HOST_TIMEZONE`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, case, func, or_, select

from ...accounts.access import require_role
from ...accounts.enums import Role
from ...accounts.models import Organisation
from ...bounds import MONTH_PATTERN
from ...errors import ValidationFailed
from ...extensions import db
from ...projects.models import Project
from ...reference.models import Division
from ...types import utcnow
from ..enums import SIGNED_STAGES, LeadStage
from ..models import ExchangeRate, Lead, LeadEvent, SiteProposal

_CENT = Decimal("0.01")
_MONTH = re.compile(MONTH_PATTERN)
#: The longest period a figure is asked for (keeps by-month tables and queries bounded).
MAX_MONTHS = 240
SIGNED_CODES = tuple(s.value for s in SIGNED_STAGES)
CLOSED_CODES = SIGNED_CODES + (LeadStage.DROPPED.value,)


# ---------------------------------------------------------------- periods


def _host_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOST_TIMEZONE"])


def _month_index(month: str) -> int:
    year, mon = int(month[:4]), int(month[5:7])
    return year * 12 + mon - 1


def _month_of_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    """Whole calendar months `first`..`last` (inclusive, "YYYY-MM") in the host's zone."""

    first: str
    last: str

    def months(self) -> list[str]:
        return [_month_of_index(i) for i in range(_month_index(self.first), _month_index(self.last) + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) instants."""
        zone = _host_zone()
        start = datetime(int(self.first[:4]), int(self.first[5:]), 1, tzinfo=zone)
        after = _month_of_index(_month_index(self.last) + 1)
        end = datetime(int(after[:4]), int(after[5:]), 1, tzinfo=zone)
        return start, end

    def year_before(self) -> Period:
        """The same months a year earlier (for "last year's same period")."""
        return Period(_month_of_index(_month_index(self.first) - 12), _month_of_index(_month_index(self.last) - 12))

    def to_dict(self) -> dict:
        return {"from": self.first, "to": self.last}


def this_month(today: date | None = None) -> str:
    today = today or utcnow().astimezone(_host_zone()).date()
    return f"{today.year:04d}-{today.month:02d}"


def preset(name: str, today: date | None = None) -> Period:
    """`month`, `quarter` or `year` (the current one, in the host's zone)."""
    month = this_month(today)
    year, mon = int(month[:4]), int(month[5:])
    if name == "month":
        return Period(month, month)
    if name == "quarter":
        first = (mon - 1) // 3 * 3 + 1
        return Period(f"{year:04d}-{first:02d}", f"{year:04d}-{first + 2:02d}")
    return Period(f"{year:04d}-01", f"{year:04d}-12")


def parse_period(first: str | None, last: str | None, *, default: str = "year") -> Period:
    """A period from two "YYYY-MM" months (either may be missing); 422 naming the field when wrong."""
    errors: dict[str, str] = {}
    for name, value in (("from", first), ("to", last)):
        if value not in (None, "") and not (isinstance(value, str) and _MONTH.match(value)):
            errors[name] = gettext("Give a month as YYYY-MM.")
    if errors:
        raise ValidationFailed(errors)
    if not first and not last:
        return preset(default)
    first = first or last
    last = last or first
    if _month_index(first) > _month_index(last):
        raise ValidationFailed({"to": gettext("The period ends before it starts.")})
    if _month_index(last) - _month_index(first) >= MAX_MONTHS:
        raise ValidationFailed({"to": gettext("A period is at most %(num)d months.", num=MAX_MONTHS)})
    return Period(first, last)


# ---------------------------------------------------------------- what is counted


@dataclass(frozen=True)
class Scope:
    """What the figures are restricted to besides the period."""

    division: str | None = None
    fair_id: int | None = None


def division_condition(code: str):
    """SQL: the organisation is in the division `code` (a province, a city with its counties, or a county)."""
    if code.endswith("0000"):
        return Organisation.division_code.like(code[:2] + "%")
    if code.endswith("00"):
        return Organisation.division_code.like(code[:4] + "%")
    return Organisation.division_code == code


def within(code: str | None, division: str) -> bool:
    """Whether division `code` lies in `division` (the same nesting as `division_condition`)."""
    if not code:
        return False
    if division.endswith("0000"):
        return code[:2] == division[:2]
    if division.endswith("00"):
        return code[:4] == division[:4]
    return code == division


def check_division(code) -> str:
    if not (isinstance(code, str) and re.fullmatch(r"\d{6}", code)):
        raise ValidationFailed({"city": gettext("Give a six-digit division code.")})
    return code


def prefecture_of(code: str | None) -> str | None:
    """The prefecture-level city a division code lies in (a province-level code is its own)."""
    if not code:
        return None
    return code if code.endswith("0000") else code[:4] + "00"


def first_signed_subquery():
    """Per lead: the moment its history first reached a signed stage."""
    return (select(LeadEvent.lead_id.label("lead_id"), func.min(LeadEvent.created_at).label("at"))
            .where(LeadEvent.to_stage.in_(SIGNED_CODES)).group_by(LeadEvent.lead_id).subquery("first_signed"))


def signed_at_column(first_signed):
    """SQL: when a lead counts as signed (null unless it is at `signed` or later now)."""
    return case((Lead.stage.in_(SIGNED_CODES), func.coalesce(first_signed.c.at, Lead.stage_changed_at)), else_=None)


#: Which leads a figure is made of, for the lists behind the numbers: `made` (leads), `signed`,
#: `open` (the pipeline value's leads).
COUNTED = ("made", "signed", "open")


def counted_condition(counted: str, period: Period, first_signed):
    """SQL: the lead belongs to the figure `counted` for the period (used by the lists behind numbers)."""
    start, end = period.bounds()
    if counted == "signed":
        at = signed_at_column(first_signed)
        return and_(at >= start, at < end)
    made = and_(Lead.created_at >= start, Lead.created_at < end)
    if counted == "open":
        return and_(made, Lead.stage.not_in(CLOSED_CODES))
    return made


@dataclass
class Fact:
    """One lead as the numbers see it."""

    lead_id: int
    project_id: int
    division: str | None
    sector: str | None
    country: str | None
    fair_id: int | None
    stage: str
    made_at: datetime
    signed_at: datetime | None
    amount: Decimal | None  # the lead's own (expected or contracted) amount
    currency: str | None
    project_amount: Decimal | None
    project_currency: str | None

    @property
    def foreign(self) -> bool:
        return (self.country or "CN") != "CN"

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED_CODES


def facts(period: Period | None, scope: Scope = Scope()) -> list[Fact]:
    """The leads made or signed in the period (all leads without one), within the scope, as facts."""
    first_signed = first_signed_subquery()
    signed_at = signed_at_column(first_signed)
    query = (
        select(Lead.id, Lead.project_id, Organisation.division_code, Project.sector, Project.country, Lead.fair_id,
               Lead.stage, Lead.created_at, signed_at.label("signed_at"), Lead.expected_amount, Lead.currency,
               Project.investment_amount, Project.currency)
        .join(Project, Project.id == Lead.project_id)
        .join(Organisation, Organisation.id == Lead.organisation_id)
        .outerjoin(first_signed, first_signed.c.lead_id == Lead.id)
    )
    if period is not None:
        start, end = period.bounds()
        query = query.where(or_(and_(Lead.created_at >= start, Lead.created_at < end),
                                and_(signed_at >= start, signed_at < end)))
    if scope.division:
        query = query.where(division_condition(scope.division))
    if scope.fair_id is not None:
        query = query.where(Lead.fair_id == scope.fair_id)
    return [Fact(*row) for row in db.session.execute(query)]


# ---------------------------------------------------------------- money


class Money:
    """Converts amounts to CNY at the organisers' rates, remembering currencies it could not convert."""

    def __init__(self) -> None:
        self.table = {row.currency: row.cny_per_unit for row in db.session.scalars(select(ExchangeRate))}
        self.table["CNY"] = Decimal(1)
        self.missing: set[str] = set()

    def cny(self, amount: Decimal | None, currency: str | None) -> Decimal:
        if amount is None or not currency:
            return Decimal(0)
        if currency not in self.table:
            self.missing.add(currency)
            return Decimal(0)
        return Decimal(amount) * self.table[currency]

    def usd(self, cny: Decimal) -> Decimal | None:
        if not cny:
            return Decimal(0)
        if "USD" not in self.table:
            self.missing.add("USD")
            return None
        return cny / self.table["USD"]


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_CENT, ROUND_HALF_UP))


# ---------------------------------------------------------------- the tally


@dataclass
class Figures:
    projects: int = 0
    leads: int = 0
    signed: int = 0
    signed_cny: Decimal = field(default_factory=lambda: Decimal(0))
    foreign: int = 0
    foreign_cny: Decimal = field(default_factory=lambda: Decimal(0))
    pipeline_cny: Decimal = field(default_factory=lambda: Decimal(0))
    proposals_sent: int = 0
    proposals_opened: int = 0
    proposals_visited: int = 0

    def to_dict(self, money: Money) -> dict:
        return {
            "proposals": {"sent": self.proposals_sent, "opened": self.proposals_opened,
                          "site_visits": self.proposals_visited},
            "projects": self.projects,
            "leads": self.leads,
            "signed": {"count": self.signed, "amount_cny": money_text(self.signed_cny),
                       "foreign_count": self.foreign, "foreign_amount_usd": money_text(money.usd(self.foreign_cny))},
            "pipeline_value_cny": money_text(self.pipeline_cny),
        }


def _carriers(made: Iterable[Fact]) -> dict[int, Fact]:
    """Per project, the lead that carries it in groups: the first made (then lowest id)."""
    carriers: dict[int, Fact] = {}
    for fact in made:
        best = carriers.get(fact.project_id)
        if best is None or (fact.made_at, fact.lead_id) < (best.made_at, best.lead_id):
            carriers[fact.project_id] = fact
    return carriers


Amount = tuple[Decimal | None, str | None]


def pipeline_shares(open_leads: list[Fact]) -> dict[int, Amount]:
    """Each open lead's share of the pipeline value: a project's amount once (on its first open lead),
    or the leads' own expected amounts where the project's leads have any: never both."""
    by_project: dict[int, list[Fact]] = defaultdict(list)
    for fact in open_leads:
        by_project[fact.project_id].append(fact)
    shares: dict[int, Amount] = {}
    for leads in by_project.values():
        if any(f.amount is not None for f in leads):
            for f in leads:
                shares[f.lead_id] = (f.amount, f.currency)
        else:
            carrier = min(leads, key=lambda f: (f.made_at, f.lead_id))
            for f in leads:
                shares[f.lead_id] = (None, None)
            shares[carrier.lead_id] = (carrier.project_amount, carrier.project_currency)
    return shares


def signed_amount(fact: Fact) -> Amount:
    """A signed lead's contracted amount (its own amount; the project's if it has none)."""
    if fact.amount is not None:
        return fact.amount, fact.currency
    return fact.project_amount, fact.project_currency


#: PostgreSQL: the statistics' rule (`pipeline_shares`, `signed_amount`) in SQL, summed per (group key,
#: currency): a province's 100,000 leads were ~1.2 million values read into Python (1.35–1.54 s a
#: request; BENCHMARKS.md). The same tests with known answers run on both paths
#: (tests/leads/test_pipeline.py, test_numbers.py). The keys are `queries.GROUPS`' in SQL.
PIPELINE_GROUP_KEYS = {
    "stage": "l.stage",
    "city": ("CASE WHEN coalesce(o.division_code, '') = '' THEN NULL WHEN o.division_code LIKE '%%0000'"
             " THEN o.division_code ELSE substr(o.division_code, 1, 4) || '00' END"),  # prefecture_of
    "sector": "p.sector",
    "country": "p.country",
    "fair": "l.fair_id",
}
_PG_FAIR = "(%(fair_id)s::integer IS NULL OR l.fair_id = %(fair_id)s::integer)"
_PG_OPEN = "l.stage NOT IN ({})".format(", ".join(f"'{code}'" for code in CLOSED_CODES))
#: Per project with open leads, whether any has an amount of its own and which one carries the project's
#: amount (the first made, then the lowest id): two passes over the leads alone (every lead has its
#: project and organisation), then one over the leads with their projects and organisations, each a hash
#: aggregate (sorting every lead by project and moment took most of a first version's 400 ms).
_PG_SUMS = f"""
WITH firsts AS (
  SELECT l.project_id, bool_or(l.expected_amount IS NOT NULL) AS own, min(l.created_at) AS first_at
  FROM leads AS l WHERE {_PG_FAIR} AND {_PG_OPEN} GROUP BY l.project_id
), carriers AS (
  SELECT l.project_id, min(l.id) AS carrier
  FROM leads AS l JOIN firsts ON firsts.project_id = l.project_id AND firsts.first_at = l.created_at
  WHERE {_PG_FAIR} AND {_PG_OPEN} GROUP BY l.project_id
)
SELECT {{key}} AS key,
       CASE WHEN NOT ({_PG_OPEN}) THEN (CASE WHEN l.expected_amount IS NOT NULL THEN l.currency ELSE p.currency END)
            WHEN firsts.own THEN l.currency WHEN l.id = carriers.carrier THEN p.currency END AS currency,
       count(*),
       sum(CASE WHEN NOT ({_PG_OPEN}) THEN coalesce(l.expected_amount, p.investment_amount)
                WHEN firsts.own THEN l.expected_amount WHEN l.id = carriers.carrier THEN p.investment_amount END)
FROM leads AS l JOIN projects AS p ON p.id = l.project_id JOIN organisations AS o ON o.id = l.organisation_id
     LEFT JOIN firsts ON firsts.project_id = l.project_id LEFT JOIN carriers ON carriers.project_id = l.project_id
WHERE {_PG_FAIR} AND l.stage <> 'dropped'
GROUP BY 1, 2
"""
#: The totals: per project first (a hash aggregate, no sort for the distinct projects).
_PG_TOTALS = ("SELECT coalesce(sum(alive), 0)::integer, count(*) FILTER (WHERE alive > 0),"
              " count(*) FILTER (WHERE alive > 0 AND foreign_funded), coalesce(sum(dropped), 0)::integer FROM ("
              " SELECT l.project_id, count(*) FILTER (WHERE l.stage <> 'dropped') AS alive,"
              " count(*) FILTER (WHERE l.stage = 'dropped') AS dropped,"
              " bool_or(coalesce(nullif(p.country, ''), 'CN') <> 'CN') AS foreign_funded"
              f" FROM leads AS l JOIN projects AS p ON p.id = l.project_id WHERE {_PG_FAIR} GROUP BY l.project_id)"
              " AS per_project")


def pipeline_sums(group_by: str, fair_id: int | None) -> tuple[list[tuple], dict[str, int]]:
    """The statistics' leads alive (not dropped) summed by PostgreSQL: (group key, currency, leads, amount)
    per group and currency, each lead's share as `queries._pipeline_shares` gives it lead by lead; and the
    totals (leads alive, their projects, the foreign-funded ones, leads dropped)."""
    driver = db.session.connection().connection.driver_connection
    params = {"fair_id": fair_id}
    with driver.cursor() as cursor:
        # For this transaction: the last step's 92,000 rows hashed in memory, not sorted on disk (the
        # planner cannot tell that a CASE's groups are few): 359 → 291 ms, median of 24 alternating runs.
        cursor.execute("SET LOCAL work_mem = '16MB'")
        rows = cursor.execute(_PG_SUMS.format(key=PIPELINE_GROUP_KEYS[group_by]), params).fetchall()
        count, projects, foreign, dropped = cursor.execute(_PG_TOTALS, params).fetchone()
    return rows, {"count": count, "projects": projects, "foreign_projects": foreign, "dropped": dropped}


def tally(all_facts: list[Fact], period: Period, money: Money, *,
          made_key: Callable[[Fact], object], signed_key: Callable[[Fact], object] | None = None) -> dict[object, Figures]:
    """Figures per group key. `made_key` groups leads, projects and pipeline value; `signed_key`
    (default the same) groups signings, so that by-month puts a signing in the month it happened."""
    signed_key = signed_key or made_key
    start, end = period.bounds()
    made = [f for f in all_facts if start <= f.made_at < end]
    signed = [f for f in all_facts if f.signed_at is not None and start <= f.signed_at < end]
    groups: dict[object, Figures] = defaultdict(Figures)
    for fact in made:
        groups[made_key(fact)].leads += 1
    for fact in _carriers(made).values():
        groups[made_key(fact)].projects += 1
    shares = pipeline_shares([f for f in made if f.is_open])
    by_id = {f.lead_id: f for f in made}
    for lead_id, share in shares.items():
        groups[made_key(by_id[lead_id])].pipeline_cny += money.cny(*share)
    for fact in signed:
        group = groups[signed_key(fact)]
        amount = money.cny(*signed_amount(fact))
        group.signed += 1
        group.signed_cny += amount
        if fact.foreign:
            group.foreign += 1
            group.foreign_cny += amount
    return groups


@dataclass
class ProposalFact:
    """One site proposal as the numbers see it."""

    division: str | None
    sector: str | None
    sent_at: datetime
    opened: bool
    visited: bool


def proposal_facts(period: Period, scope: Scope = Scope()) -> list[ProposalFact]:
    """The site proposals sent in the period, within the scope (the lead's city and fair)."""
    start, end = period.bounds()
    query = (
        select(Organisation.division_code, Project.sector, SiteProposal.sent_at, SiteProposal.opened_at.is_not(None),
               SiteProposal.visited_on.is_not(None))
        .join(Lead, Lead.id == SiteProposal.lead_id)
        .join(Project, Project.id == Lead.project_id)
        .join(Organisation, Organisation.id == Lead.organisation_id)
        .where(SiteProposal.sent_at >= start, SiteProposal.sent_at < end)
    )
    if scope.division:
        query = query.where(division_condition(scope.division))
    if scope.fair_id is not None:
        query = query.where(Lead.fair_id == scope.fair_id)
    return [ProposalFact(*row) for row in db.session.execute(query)]


def add_proposals(groups: dict[object, Figures], rows: list[ProposalFact], key: Callable[[ProposalFact], object]) -> None:
    """Count proposals sent, opened and leading to site visits into the groups."""
    for row in rows:
        group = groups[key(row)]
        group.proposals_sent += 1
        group.proposals_opened += int(bool(row.opened))
        group.proposals_visited += int(bool(row.visited))


def _month_key(moment: datetime) -> str:
    local = moment.astimezone(_host_zone())
    return f"{local.year:04d}-{local.month:02d}"


# ---------------------------------------------------------------- the summary


def division_names(codes: Iterable[str | None], locale: str) -> dict[str, str]:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return {d.code: d.name(locale) for d in db.session.scalars(select(Division).where(Division.code.in_(wanted)))}


def home_cities() -> list[str]:
    """The prefecture-level cities of the host province (`HOME_DIVISION`), listed even when zero."""
    home = current_app.config.get("HOME_DIVISION") or ""
    if not re.fullmatch(r"\d{2}0000", home):
        return []
    return list(db.session.scalars(
        select(Division.code).where(Division.parent_code == home, Division.level == "prefecture").order_by(Division.code)))


def summary(actor, period: Period, scope: Scope = Scope(), *, locale: str = "en") -> dict:
    """The province's figures for a period: totals, by city, by month, by sector (organisers)."""
    require_role(actor, Role.ORGANISER)
    if scope.division:
        check_division(scope.division)
    money = Money()
    all_facts = facts(period, scope)
    proposals = proposal_facts(period, scope)
    total_groups = tally(all_facts, period, money, made_key=lambda f: None)
    add_proposals(total_groups, proposals, lambda p: None)
    totals = total_groups[None]

    by_city_groups = tally(all_facts, period, money, made_key=lambda f: prefecture_of(f.division))
    add_proposals(by_city_groups, proposals, lambda p: prefecture_of(p.division))
    cities = [c for c in home_cities() if not scope.division or within(c, scope.division)]
    keys = list(dict.fromkeys([*cities, *sorted((k for k in by_city_groups if k), key=str)]))
    if None in by_city_groups:
        keys.append(None)
    names = division_names(keys, locale)
    by_city = [{"division": key, "name": names.get(key, key) if key else gettext("(no city)"),
                **by_city_groups.get(key, Figures()).to_dict(money)} for key in keys]

    by_month_groups = tally(all_facts, period, money, made_key=lambda f: _month_key(f.made_at),
                            signed_key=lambda f: _month_key(f.signed_at))
    add_proposals(by_month_groups, proposals, lambda p: _month_key(p.sent_at))
    by_month = [{"month": m, **by_month_groups.get(m, Figures()).to_dict(money)} for m in period.months()]

    from ...reference.services import list_sectors

    sector_names = {s.code: s.name(locale) for s in list_sectors()}
    by_sector_groups = tally(all_facts, period, money, made_key=lambda f: f.sector)
    add_proposals(by_sector_groups, proposals, lambda p: p.sector)
    by_sector = [{"sector": key, "name": sector_names.get(key, key or gettext("(no sector)")),
                  **figures.to_dict(money)}
                 for key, figures in sorted(by_sector_groups.items(), key=lambda kv: (kv[0] is None, str(kv[0])))]

    return {
        "period": period.to_dict(),
        "city": scope.division,
        "fair_id": scope.fair_id,
        **totals.to_dict(money),
        "by_city": by_city,
        "by_month": by_month,
        "by_sector": by_sector,
        "missing_rates": sorted(money.missing),
    }
