"""Site proposals in the browser: "Propose a site" and "Record the visit" on a lead's page (the list
is drawn by the lead's page itself, `leads.views`), and the PDF at an address a mail can link to. The
API's services and messages; nothing is written on error; the posts go through the lead page's
`leads.views.post_form`."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from ..accounts.access import USER, allow
from ..leads.views import post_form
from . import bp, proposals
from .forms import ProposalForm, VisitForm


@bp.route("/leads/<int:lead_id>/site-proposals", methods=["POST"])
@allow("attendee", "organiser")
def propose(lead_id: int):
    form = ProposalForm()

    def send() -> str:
        proposal = proposals.propose(current_user, lead_id, {"plot_ids": list(form.plot_ids.data or []),
                                                              "note": form.proposal_note.data or ""})
        return gettext("The site proposal is sent; the presenter is told (%(count)d plot(s)).",
                       count=len(proposal.plot_ids))

    return post_form(form, send, url_for("leads.lead_page", lead_id=lead_id) + "#proposals")


@bp.route("/site-proposals/<int:proposal_id>/visit", methods=["POST"])
@allow("attendee", "organiser")
def record_visit(proposal_id: int):
    form = VisitForm()
    proposal = proposals.get_proposal(current_user, proposal_id)  # 404 before anything else

    def record() -> str:
        proposals.record_visit(current_user, proposal_id, form.visited_on.data)
        return gettext("The site visit is recorded.")

    return post_form(form, record, url_for("leads.lead_page", lead_id=proposal.lead_id) + "#proposals")


@bp.route("/site-proposals/<int:proposal_id>/pdf")
@allow(USER)
def proposal_pdf(proposal_id: int):
    """The proposal's PDF for a browser: the mailed link and the lead page's (someone signed out signs in
    first and comes back here); the same answer as the API's."""
    return pdf_answer(proposal_id)


def pdf_answer(proposal_id: int):
    """The proposal's PDF, shown in the browser, for whoever sees the lead (404 for anyone else); the
    presenter's first opening is recorded (`opened_at`)."""
    from ..leads import services as leads
    from ..projects.api import attachment

    document = proposals.get_proposal(current_user, proposal_id).document
    leads.document_opened(current_user, document)
    return attachment(document.sha256, document.mime, document.original_name, inline=True)
