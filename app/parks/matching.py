"""The site matcher: hard filters first, then a weighted score with a reason per criterion.

Hard filters (a plot that fails one is not shown): the plot is `available`; its park hosts the
project's sector (a park that lists no sectors takes any); and for land, power and water the plot
has at least the need less `SITE_MATCH_SHORTFALL` (a quarter by default), and it is ready at most
`SITE_MATCH_LATE_DAYS` after the project's date. A figure the plot does not state does not meet a
need. A plot kept although short of a need (or late) says so in a gap line ("needs 800 kVA, plot has
630 kVA") and scores less on that criterion.

Score: 100 × Σ weight × fit / Σ weight, each fit from 0 to 1 (`fits`); equal scores go to the cheaper
land (in CNY), then to the plot entered first. Texts are made only for the plots returned, so
matching thousands of plots stays fast (bench/bench_site_matching.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Float, select, type_coerce

from .. import bilingual
from ..extensions import db
from ..leads.queries import rates
from .enums import EMISSIONS_ORDER, Criterion, EmissionsClass, PlotStatus
from .models import Park, Plot, SiteNeeds
from .services import division_prefix, weights

UNKNOWN_COST = float("inf")


@dataclass(frozen=True)
class Needs:
    """A project's needs as the matcher reads them (plain values, so tests and the bench build them)."""

    sector: str | None = None
    land_mu: Decimal | None = None
    power_kva: int | None = None
    water_tpd: int | None = None
    emissions_class: str | None = None
    budget: Decimal | None = None
    currency: str | None = None
    divisions: tuple[str, ...] = ()
    ready_by: date | None = None

    @classmethod
    def of(cls, sector: str, needs: SiteNeeds | None) -> "Needs":
        if needs is None:
            return cls(sector=sector)
        return cls(sector=sector, land_mu=needs.land_mu, power_kva=needs.power_kva, water_tpd=needs.water_tpd,
                   emissions_class=needs.emissions_class, budget=needs.budget, currency=needs.currency,
                   divisions=tuple(needs.divisions or ()), ready_by=needs.ready_by)


_COLUMNS = (Plot.id, Plot.park_id, type_coerce(Plot.area_mu, Float), type_coerce(Plot.price_per_mu, Float), Plot.currency,
            Plot.ready_on, Plot.power_kva, Plot.water_tpd)


def _thresholds(needs: Needs, shortfall: float, late_days: int) -> dict:
    """The least a plot must have to pass the hard filters (absent: no need given): land (mu), power,
    water, and the latest ready date. The database query and `passes` both read them."""
    keep = 1 - shortfall
    out = {}
    if needs.land_mu:
        out["land"] = Decimal(str(float(needs.land_mu) * keep)).quantize(Decimal("0.01"))
    if needs.power_kva:
        out["power"] = needs.power_kva * keep
    if needs.water_tpd:
        out["water"] = needs.water_tpd * keep
    if needs.ready_by:
        out["ready"] = needs.ready_by + timedelta(days=late_days)
    return out


def passes(row, least: dict) -> bool:
    """Whether a plot row (`_COLUMNS`) passes the `_thresholds` the database applies in `_candidates`
    (a figure the plot does not state does not meet a need)."""
    (_id, _park, area, _price, _currency, ready_on, power, water) = row
    return not (("land" in least and (area is None or area < float(least["land"])))
                or ("power" in least and (power is None or power < least["power"]))
                or ("water" in least and (water is None or water < least["water"]))
                or ("ready" in least and (ready_on is None or ready_on > least["ready"])))


def _candidates(needs: Needs, organisation_id: int | None, shortfall: float, late_days: int):
    """Plot rows past the hard filters the database can apply, and their parks by id."""
    least = _thresholds(needs, shortfall, late_days)
    parks = select(Park.id, Park.division_code, Park.sectors, Park.emissions_limit)
    query = select(*_COLUMNS).join(Park, Park.id == Plot.park_id).where(Plot.status == PlotStatus.AVAILABLE)
    if organisation_id is not None:
        query = query.where(Park.organisation_id == organisation_id)
        parks = parks.where(Park.organisation_id == organisation_id)
    if "land" in least:
        query = query.where(Plot.area_mu >= least["land"])
    if "power" in least:
        query = query.where(Plot.power_kva >= least["power"])
    if "water" in least:
        query = query.where(Plot.water_tpd >= least["water"])
    if "ready" in least:
        query = query.where(Plot.ready_on <= least["ready"])
    by_id = {row[0]: row for row in db.session.execute(parks)}
    return db.session.execute(query).all(), by_id


def _share(has, need) -> float:
    if not need:
        return 1.0
    return min(1.0, float(has) / float(need))


def fits(row, park, needs: Needs, table: dict[str, float], late_days: int) -> tuple[dict[str, float], float]:
    """Each criterion's fit (0 … 1) for one candidate plot row and its park row, and its land cost in CNY."""
    (_id, _park, area, price, currency, ready_on, power, water) = row
    (_pid, division, sectors, emissions_limit) = park
    out = {
        Criterion.LAND: _share(area, needs.land_mu),
        Criterion.POWER: _share(power, needs.power_kva),
        Criterion.WATER: _share(water, needs.water_tpd),
    }
    if needs.ready_by is None or ready_on <= needs.ready_by:
        out[Criterion.READY] = 1.0
    else:
        out[Criterion.READY] = max(0.0, 1 - (ready_on - needs.ready_by).days / max(late_days, 1))
    cost = UNKNOWN_COST
    if price is not None and currency in table:
        cost = price * float(needs.land_mu or area) * table[currency]
    if needs.budget is None:
        out[Criterion.BUDGET] = 1.0
    elif cost == UNKNOWN_COST or needs.currency not in table:
        out[Criterion.BUDGET] = 0.5
    else:
        budget = float(needs.budget) * table[needs.currency]
        out[Criterion.BUDGET] = 1.0 if cost <= budget else budget / cost
    if needs.divisions:
        out[Criterion.REGION] = 1.0 if any(division.startswith(division_prefix(d)) for d in needs.divisions) else 0.0
    else:
        out[Criterion.REGION] = 1.0
    if needs.emissions_class is None:
        out[Criterion.EMISSIONS] = 1.0
    else:
        admitted = EMISSIONS_ORDER[EmissionsClass(emissions_limit)] >= EMISSIONS_ORDER[EmissionsClass(needs.emissions_class)]
        out[Criterion.EMISSIONS] = 1.0 if admitted else 0.0
    out[Criterion.SECTOR] = 1.0 if needs.sector in (sectors or []) else 0.5
    return out, cost


def rank(needs: Needs, *, limit: int = 3, per_park: int = 1, organisation_id: int | None = None,
         weight_table: dict[str, int] | None = None) -> list[tuple[float, int, dict[str, float]]]:
    """The best `limit` plots as (score, plot id, fits), at most `per_park` from one park."""
    config = current_app.config
    shortfall, late_days = config["SITE_MATCH_SHORTFALL"], config["SITE_MATCH_LATE_DAYS"]
    table = {code: float(rate) for code, rate in rates().items()}
    weight_table = weight_table or weights()
    total = sum(weight_table.values()) or 1
    rows, parks = _candidates(needs, organisation_id, shortfall, late_days)
    fitting = {pid: park for pid, park in parks.items() if not park[2] or needs.sector in park[2]}
    scored = []
    for row in rows:
        park = fitting.get(row[1])
        if park is None:
            continue
        scored.append(_scored(row, park, needs, table, late_days, weight_table, total))
    if per_park == 1:
        chosen = _best_per_park(scored)[:limit]
    else:
        chosen, taken = [], {}
        for item in sorted(scored):
            if taken.get(item[3], 0) < per_park:
                taken[item[3]] = taken.get(item[3], 0) + 1
                chosen.append(item)
                if len(chosen) == limit:
                    break
    return [(-item[0], item[2], item[4]) for item in chosen]


def _scored(row, park, needs: Needs, table: dict, late_days: int, weight_table: dict, total: int) -> tuple:
    """(-score, land cost, plot id, park id, fits): sorting these puts the best plot first."""
    fit, cost = fits(row, park, needs, table, late_days)
    score = round(100 * sum(weight_table[c] * f for c, f in fit.items()) / total, 1)
    return (-score, cost, row[0], row[1], fit)


def rank_for_park(park_id: int, many: list[tuple[object, Needs]], *,
                  weight_table: dict[str, int] | None = None) -> list[tuple[float, object, int, dict[str, float]]]:
    """One park's best available plot for each of many projects' needs, as (score, key, plot id,
    fits), best first: the hard filters and the score of `rank`, with the park's plots, the rates
    and the weights read once (the reverse view: which pitched projects fit this park)."""
    config = current_app.config
    shortfall, late_days = config["SITE_MATCH_SHORTFALL"], config["SITE_MATCH_LATE_DAYS"]
    table = {code: float(rate) for code, rate in rates().items()}
    weight_table = weight_table or weights()
    total = sum(weight_table.values()) or 1
    park = db.session.execute(select(Park.id, Park.division_code, Park.sectors, Park.emissions_limit)
                              .where(Park.id == park_id)).first()
    if park is None:
        return []
    rows = db.session.execute(select(*_COLUMNS).where(Plot.park_id == park_id, Plot.status == PlotStatus.AVAILABLE)
                              .order_by(Plot.id)).all()
    found = []
    for key, needs in many:
        if park[2] and needs.sector not in park[2]:
            continue
        least = _thresholds(needs, shortfall, late_days)
        kept = [_scored(row, park, needs, table, late_days, weight_table, total) for row in rows if passes(row, least)]
        if kept:
            best = min(kept, key=lambda item: item[:3])
            found.append((best[:3], key, best))
    found.sort(key=lambda item: item[0])
    return [(-best[0], key, best[2], best[4]) for _order, key, best in found]


def _best_per_park(scored: list) -> list:
    best: dict[int, tuple] = {}
    for item in scored:
        current = best.get(item[3])
        if current is None or item < current:
            best[item[3]] = item
    return sorted(best.values())


# ---------------------------------------------------------------- words


def _n(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        value = value.normalize() if value == value.to_integral() else value
        return f"{value:,f}" if value != value.to_integral() else f"{int(value):,}"
    return f"{value:,}"


def _money(amount: float, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def explain(plot: Plot, needs: Needs, fit: dict[str, float]) -> tuple[list[dict], list[str]]:
    """A reason per criterion and the gap lines, in the reader's language."""
    reasons: list[dict] = []
    gaps: list[str] = []

    def reason(criterion: Criterion, text: str, gap: str | None = None) -> None:
        reasons.append({"criterion": str(criterion), "fit": round(fit[criterion], 2), "text": text})
        if gap:
            gaps.append(gap)

    if needs.land_mu is None:
        reason(Criterion.LAND, gettext("No land need given; the plot has %(has)s mu.", has=_n(plot.area_mu)))
    elif plot.area_mu >= needs.land_mu:
        reason(Criterion.LAND, gettext("Needs %(need)s mu, plot has %(has)s mu.", need=_n(needs.land_mu), has=_n(plot.area_mu)))
    else:
        line = gettext("Needs %(need)s mu, plot has %(has)s mu.", need=_n(needs.land_mu), has=_n(plot.area_mu))
        reason(Criterion.LAND, line, line)
    for criterion, need, has, unit in (
        (Criterion.POWER, needs.power_kva, plot.power_kva, "kva"),
        (Criterion.WATER, needs.water_tpd, plot.water_tpd, "tpd"),
    ):
        if unit == "kva":
            line = gettext("Needs %(need)s kVA, plot has %(has)s kVA.", need=_n(need), has=_n(has))
            none = gettext("No power need given; the plot has %(has)s kVA.", has=_n(has))
        else:
            line = gettext("Needs %(need)s t of water a day, plot has %(has)s t.", need=_n(need), has=_n(has))
            none = gettext("No water need given; the plot has %(has)s t a day.", has=_n(has))
        if not need:
            reason(criterion, none)
        else:
            reason(criterion, line, line if has < need else None)
    if needs.ready_by is None:
        reason(Criterion.READY, gettext("No date given; the plot is ready on %(ready)s.",
                                        ready=plot.ready_on.isoformat() if plot.ready_on else "—"))
    elif plot.ready_on <= needs.ready_by:
        reason(Criterion.READY, gettext("Needed by %(need)s, ready on %(ready)s.", need=needs.ready_by.isoformat(),
                                        ready=plot.ready_on.isoformat()))
    else:
        line = gettext("Needed by %(need)s, ready only on %(ready)s (%(days)d days later).",
                       need=needs.ready_by.isoformat(), ready=plot.ready_on.isoformat(),
                       days=(plot.ready_on - needs.ready_by).days)
        reason(Criterion.READY, line, line)
    land = needs.land_mu or plot.area_mu
    if needs.budget is None:
        reason(Criterion.BUDGET, gettext("No budget given."))
    elif plot.price_per_mu is None:
        reason(Criterion.BUDGET, gettext("The plot's price is not stated."))
    else:
        cost = plot.price_per_mu * land
        table = rates()
        if plot.currency not in table or needs.currency not in table:
            missing = plot.currency if plot.currency not in table else needs.currency
            reason(Criterion.BUDGET, gettext("Land costs %(cost)s; no exchange rate for %(currency)s to compare with the budget.",
                                             cost=_money(float(cost), plot.currency), currency=missing))
        else:
            in_budget = cost * table[plot.currency] / table[needs.currency]
            line = gettext("Land for %(mu)s mu costs %(cost)s, the budget is %(budget)s.", mu=_n(land),
                           cost=_money(float(in_budget), needs.currency), budget=_money(float(needs.budget), needs.currency))
            reason(Criterion.BUDGET, line, line if fit[Criterion.BUDGET] < 1 else None)
    if not needs.divisions:
        reason(Criterion.REGION, gettext("No preferred region given."))
    elif fit[Criterion.REGION] == 1:
        reason(Criterion.REGION, gettext("In a preferred region (%(place)s).", place=plot.park.division.name(_lang())))
    else:
        line = gettext("Outside the preferred regions (%(place)s).", place=plot.park.division.name(_lang()))
        reason(Criterion.REGION, line, line)
    limit_label = str(EmissionsClass(plot.park.emissions_limit).label)
    if needs.emissions_class is None:
        reason(Criterion.EMISSIONS, gettext("No emissions class given; the park admits up to: %(limit)s.", limit=limit_label))
    else:
        need_label = str(EmissionsClass(needs.emissions_class).label)
        line = gettext("Project: %(need)s; the park admits up to: %(limit)s.", need=need_label, limit=limit_label)
        reason(Criterion.EMISSIONS, line, line if fit[Criterion.EMISSIONS] < 1 else None)
    if fit[Criterion.SECTOR] == 1:
        reason(Criterion.SECTOR, gettext("The park hosts this sector."))
    else:
        reason(Criterion.SECTOR, gettext("The park takes any sector."))
    return reasons, gaps


def _lang() -> str:
    return bilingual.content_locale()


def site_matches(needs: Needs, *, limit: int = 3, per_park: int = 1, organisation_id: int | None = None) -> list[dict]:
    """The best plots for the needs, each with its park, score, reasons and gaps."""
    ranked = rank(needs, limit=limit, per_park=per_park, organisation_id=organisation_id)
    plots = {p.id: p for p in db.session.scalars(select(Plot).where(Plot.id.in_([r[1] for r in ranked])))}
    items = []
    for score, plot_id, fit in ranked:
        plot = plots[plot_id]
        reasons, gaps = explain(plot, needs, fit)
        items.append({"park": plot.park, "plot": plot, "score": score, "reasons": reasons, "gaps": gaps})
    return items
