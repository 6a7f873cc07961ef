"""Site proposals in the browser: "Propose a site" and "Record the visit" on a lead's page (the list
is drawn by the lead's page itself, `leads.views`). The API's services and messages; nothing is
written on error."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import allow
from ..errors import NotFound, ServiceError, ValidationFailed
from . import bp, proposals
from .forms import ProposalForm, VisitForm


def _said(exc: ServiceError) -> str:
    """A refusal in words: a validation's messages without the API's field names."""
    if isinstance(exc, ValidationFailed):
        return " ".join(message for messages in exc.fields.values() for message in messages)
    return exc.message


@bp.route("/leads/<int:lead_id>/site-proposals", methods=["POST"])
@allow("attendee", "organiser")
def propose(lead_id: int):
    form = ProposalForm()
    if form.validate_on_submit():
        try:
            proposal = proposals.propose(current_user, lead_id, {"plot_ids": list(form.plot_ids.data or []),
                                                                  "note": form.proposal_note.data or ""})
            flash(gettext("The site proposal is sent; the presenter is told (%(count)d plot(s)).",
                          count=len(proposal.plot_ids)), "success")
        except NotFound:
            raise
        except ServiceError as exc:
            flash(_said(exc), "error")
    else:
        flash(gettext("The form expired or was incomplete; try again."), "error")
    return redirect(url_for("leads.lead_page", lead_id=lead_id) + "#proposals")


@bp.route("/site-proposals/<int:proposal_id>/visit", methods=["POST"])
@allow("attendee", "organiser")
def record_visit(proposal_id: int):
    form = VisitForm()
    proposal = proposals.get_proposal(current_user, proposal_id)  # 404 before anything else
    if form.validate_on_submit():
        try:
            proposals.record_visit(current_user, proposal_id, form.visited_on.data)
            flash(gettext("The site visit is recorded."), "success")
        except ServiceError as exc:
            flash(_said(exc), "error")
    else:
        flash(gettext("The form expired or was incomplete; try again."), "error")
    return redirect(url_for("leads.lead_page", lead_id=proposal.lead_id) + "#proposals")
