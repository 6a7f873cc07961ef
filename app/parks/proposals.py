"""Site proposals: from a lead, its city proposes one to three of its own plots to the investor.

Who may: the lead's own organisation and organisers (the leads' `can_change`); whoever cannot see
the lead gets 404, a presenter (who reads the lead) 403, and nothing is written. The plots must be
the lead's organisation's own (parks it manages) and not taken. CloudFair writes a bilingual PDF
(`proposal_pdf`), stores it like every upload (by its SHA-256) as one of the lead's documents, and
tells the project's presenter in-app and by mail, in their language, after the commit. The
presenter's first opening of the PDF is recorded (`leads.services.document_opened`); the city
records the day of a site visit. The province's numbers count proposals in `leads.queries.numbers`.

The net first-year cost, per plot (the plots are alternatives: the investor takes one): the land
(area × price per mu) less the park's incentives that can be counted without the company's own
figures and are valid on the day: a land-price reduction's rate (a share of the land cost) and a
land-price reduction's or an investment subsidy's amount; never below zero. Tax, rent, talent and
other incentives are listed, not counted. Each amount goes to yuan at the dashboard's rates
(`leads.queries.rates`), the total to the investor's currency (the project's, else CNY); rounded to
the cent once, at the end (half up). A missing price or rate leaves the figure out, saying why.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from .. import bilingual
from ..errors import Forbidden, NotFound, Unavailable, ValidationFailed
from ..extensions import db
from ..leads.enums import SITE_PROPOSAL_KIND
from ..leads.models import Lead, LeadDocument, LeadEvent, SiteProposal
from ..leads.queries import can_change, get_lead, rates
from ..notifications.services import deliver_live, in_both, notify
from ..projects import storage
from ..projects.services import storing
from ..types import utcnow
from .enums import IncentiveKind, PlotStatus
from .models import Incentive, Plot

log = logging.getLogger(__name__)

_CENT = Decimal("0.01")
MAX_PLOTS = 3
#: Incentives whose amount comes off the first year's cost.
AMOUNT_KINDS = (IncentiveKind.LAND_PRICE, IncentiveKind.SUBSIDY)


def cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, ROUND_HALF_UP)


# ---------------------------------------------------------------- costs


@dataclass
class Reduction:
    incentive: Incentive
    #: In the incentive's own currency (or the plot's, for a rate), and in yuan (null: no rate).
    amount: Decimal
    currency: str
    cny: Decimal | None


@dataclass
class PlotCost:
    plot: Plot
    land: Decimal | None  # area × price, in the plot's currency
    land_cny: Decimal | None
    reductions: list[Reduction] = field(default_factory=list)
    #: Listed but not counted (tax, rent, talent, other).
    listed: list[Incentive] = field(default_factory=list)
    net_cny: Decimal | None = None
    net: Decimal | None = None  # in the investor's currency, to the cent
    missing: list[str] = field(default_factory=list)  # why a figure is left out

    def to_dict(self) -> dict:
        def text(value):
            return None if value is None else str(cents(value))

        return {"plot_id": self.plot.id, "land_cny": text(self.land_cny),
                "reductions_cny": text(sum((r.cny for r in self.reductions if r.cny is not None), Decimal(0))
                                       if all(r.cny is not None for r in self.reductions) else None),
                "net_cny": text(self.net_cny), "net": text(self.net)}


def valid_incentives(plot: Plot, on: date) -> list[Incentive]:
    return [i for i in plot.park.incentives if i.valid_until is None or i.valid_until >= on]


def plot_cost(plot: Plot, currency: str, table: dict[str, Decimal], on: date) -> PlotCost:
    """The net first-year cost of one plot in `currency` (see the module's rule)."""
    land = None if plot.price_per_mu is None else plot.area_mu * plot.price_per_mu
    cost = PlotCost(plot=plot, land=None if land is None else cents(land), land_cny=None)
    if land is None:
        cost.missing.append("price")
    elif plot.currency in table:
        cost.land_cny = land * table[plot.currency]
    else:
        cost.missing.append(plot.currency)
    for incentive in valid_incentives(plot, on):
        if incentive.kind == IncentiveKind.LAND_PRICE and incentive.rate is not None:
            if land is None:
                continue
            amount = land * incentive.rate / 100
            cost.reductions.append(Reduction(incentive, cents(amount), plot.currency,
                                             None if cost.land_cny is None else cost.land_cny * incentive.rate / 100))
        elif incentive.kind in AMOUNT_KINDS and incentive.amount is not None:
            code = incentive.currency or "CNY"
            rate = table.get(code)
            if rate is None:
                cost.missing.append(code)
            cost.reductions.append(Reduction(incentive, incentive.amount, code,
                                             None if rate is None else incentive.amount * rate))
        else:
            cost.listed.append(incentive)
    if cost.land_cny is not None and all(r.cny is not None for r in cost.reductions):
        cost.net_cny = max(Decimal(0), cost.land_cny - sum((r.cny for r in cost.reductions), Decimal(0)))
        if currency in table:
            cost.net = cents(cost.net_cny / table[currency])
        else:
            cost.missing.append(currency)
        cost.net_cny = cents(cost.net_cny)
    cost.missing = list(dict.fromkeys(cost.missing))
    return cost


# ---------------------------------------------------------------- proposing


def investor_currency(lead: Lead) -> str:
    return lead.project.currency or "CNY"


def proposing_lead(actor, lead_id: int) -> Lead:
    """The lead, if the actor may propose on it: 404 when they cannot see it, 403 when they only read it."""
    lead = get_lead(actor, lead_id)
    if not can_change(actor, lead):
        raise Forbidden(gettext("Only the lead's organisation and organisers propose sites on it."))
    return lead


def own_plots(lead: Lead) -> list[Plot]:
    """The plots the lead's organisation may propose: its parks' plots that are not taken."""
    from .models import Park

    return list(db.session.scalars(
        select(Plot).join(Park, Park.id == Plot.park_id)
        .where(Park.organisation_id == lead.organisation_id, Plot.status != PlotStatus.TAKEN)
        .order_by(Park.id, Plot.id)))


def _check_plots(lead: Lead, plot_ids) -> list[Plot]:
    if (not isinstance(plot_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in plot_ids)):
        raise ValidationFailed({"plot_ids": gettext("Give a list of plot ids.")})
    if len(set(plot_ids)) != len(plot_ids):
        raise ValidationFailed({"plot_ids": gettext("Name each plot once.")})
    if not 1 <= len(plot_ids) <= MAX_PLOTS:
        raise ValidationFailed({"plot_ids": gettext("Propose one to three plots.")})
    plots = []
    for plot_id in plot_ids:
        plot = db.session.get(Plot, plot_id)
        if plot is None or plot.park.organisation_id != lead.organisation_id:
            raise ValidationFailed({"plot_ids": gettext(
                "Plot %(id)s is not one of %(organisation)s's plots.", id=plot_id,
                organisation=bilingual.text(lead.organisation, "name"))})
        if plot.status == PlotStatus.TAKEN:
            raise ValidationFailed({"plot_ids": gettext("Plot %(id)s is taken.", id=plot_id)})
        plots.append(plot)
    return plots


def _check_note(value) -> str:
    value = "" if value is None else value
    if not isinstance(value, str) or len(value) > 2000:
        raise ValidationFailed({"note": gettext("The note is text of at most 2,000 characters.")})
    return value.strip()


def font_file() -> Path:
    """The CJK font the PDF is written in (`PROPOSAL_FONT`); 503 naming the setting when it is missing."""
    path = Path(current_app.config.get("PROPOSAL_FONT") or "")
    if not path.is_file():
        log.error("Site proposals need a CJK font: PROPOSAL_FONT=%s is not a file", path)
        raise Unavailable(gettext("Site proposals cannot be written: the Chinese font (PROPOSAL_FONT) is missing "
                                  "on the server."), code="font_missing")
    return path


def propose(actor, lead_id: int, data: dict) -> SiteProposal:
    """Propose one to three of the lead's organisation's plots: the PDF becomes a document of the lead
    and the presenter is told. 404/403 as `proposing_lead`, 422 naming `plot_ids` or `note`, 503 without the font."""
    from .proposal_pdf import render

    lead = proposing_lead(actor, lead_id)
    plots = _check_plots(lead, data.get("plot_ids"))
    note = _check_note(data.get("note"))
    font = font_file()
    now = utcnow()
    currency = investor_currency(lead)
    table = rates()
    costs = [plot_cost(plot, currency, table, now.date()) for plot in plots]
    pdf = render(lead=lead, plots=plots, costs=costs, currency=currency, table=table, note=note, sender=actor,
                 when=now, font=font, font_index=int(current_app.config.get("PROPOSAL_FONT_INDEX", 0)))
    received = storage.receive(io.BytesIO(pdf))
    with storing(received):  # the commit, once the file is in place
        name = f"site-proposal-{lead.id}-{now:%Y%m%d-%H%M%S}.pdf"
        document = LeadDocument(lead_id=lead.id, kind=SITE_PROPOSAL_KIND, original_name=name,
                                mime="application/pdf", size=received.size, sha256=received.sha256,
                                uploaded_by_id=actor.id, created_at=now)
        db.session.add(document)
        db.session.flush()
        proposal = SiteProposal(lead_id=lead.id, document_id=document.id, plot_ids=[p.id for p in plots],
                                currency=currency, costs=[c.to_dict() for c in costs], note=note,
                                sent_by_id=actor.id, sent_at=now)
        db.session.add(proposal)
        db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=lead.stage,
                                 note=f"Site proposal sent: {', '.join(p.name for p in plots)}", source="proposal"))
        lead.last_progress_at = now
        db.session.flush()  # the proposal's id: the presenter's mail links to its PDF
        told = _tell_presenter(lead, proposal, plots)
        db.session.flush()
    deliver_live([told] if told is not None else [])
    return proposal


def _tell_presenter(lead: Lead, proposal: SiteProposal, plots: list[Plot]):
    """The project's presenter: an in-app notification and a mail, in their language (caller's transaction)."""
    from ..mail import queue, site_link

    presenter = lead.project.owner
    if presenter is None or not presenter.active:
        return None
    lang = presenter.locale if presenter.locale in ("zh", "en") else "en"
    link = f"/leads/{lead.id}#proposals"
    names = ", ".join(p.name for p in plots)
    texts = in_both(lambda code: (
        gettext("Site proposal for “%(project)s” from %(organisation)s",
                project=bilingual.plain(lead.project, "title", code),
                organisation=bilingual.plain(lead.organisation, "name", code)),
        gettext("%(count)d plot(s) proposed: %(plots)s. The PDF is on the lead.", count=len(plots), plots=names)))
    row = notify(presenter.id, kind="site_proposal", texts=texts, lang=lang, link=link)
    queue(presenter.email, "site_proposal", lang, person=presenter,
          project=bilingual.plain(lead.project, "title", lang),
          organisation=bilingual.plain(lead.organisation, "name", lang), plots=names, note=proposal.note,
          link=site_link(link), pdf_link=site_link(f"/site-proposals/{proposal.id}/pdf"))
    return row


# ---------------------------------------------------------------- reading, visits


def proposals_of(actor, lead_id: int) -> list[SiteProposal]:
    """The lead's proposals, newest first, for whoever sees the lead (404 otherwise)."""
    lead = get_lead(actor, lead_id)
    return list(db.session.scalars(
        select(SiteProposal).where(SiteProposal.lead_id == lead.id).order_by(SiteProposal.id.desc())))


def get_proposal(actor, proposal_id: int) -> SiteProposal:
    proposal = db.session.get(SiteProposal, proposal_id)
    if proposal is None:
        raise NotFound(gettext("No such site proposal."))
    get_lead(actor, proposal.lead_id)  # the lead's scoping
    return proposal


def plot_names(proposal: SiteProposal) -> dict[int, str]:
    rows = db.session.execute(select(Plot.id, Plot.name).where(Plot.id.in_(proposal.plot_ids)))
    return dict(rows.all())


def record_visit(actor, proposal_id: int, visited_on) -> SiteProposal:
    """Record the day the investor visited the proposed site (the lead's organisation and organisers)."""
    from ..leads.services import _check_date

    proposal = get_proposal(actor, proposal_id)
    lead = proposing_lead(actor, proposal.lead_id)
    day = _check_date(visited_on, "visited_on")
    if day is None:
        raise ValidationFailed({"visited_on": gettext("Give a date as YYYY-MM-DD.")})
    if day < proposal.sent_at.date():
        raise ValidationFailed({"visited_on": gettext("A visit follows the proposal: give a day on or after %(day)s.",
                                                      day=proposal.sent_at.date().isoformat())})
    if day > utcnow().date():
        raise ValidationFailed({"visited_on": gettext("A visit is recorded once it has happened.")})
    proposal.visited_on = day
    db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage, to_stage=lead.stage,
                             note=f"Site visit on {day.isoformat()} (proposal {proposal.id})", source="proposal"))
    lead.last_progress_at = utcnow()
    db.session.commit()
    return proposal


def proposal_dict(proposal: SiteProposal, names: dict[int, str] | None = None) -> dict:
    names = plot_names(proposal) if names is None else names
    return {
        "id": proposal.id, "lead_id": proposal.lead_id, "document_id": proposal.document_id,
        "plots": [{"id": i, "name": names.get(i)} for i in proposal.plot_ids],
        "currency": proposal.currency, "costs": proposal.costs, "note": proposal.note,
        "sent_by": proposal.sent_by.name, "sent_at": proposal.sent_at.isoformat(),
        "opened_at": proposal.opened_at.isoformat() if proposal.opened_at else None,
        "visited_on": proposal.visited_on.isoformat() if proposal.visited_on else None,
        "pdf_url": f"/api/v1/site-proposals/{proposal.id}/pdf",
    }
