"""The parks API under /api/v1: parks, plots, incentives, site needs, matches, weights."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..bounds import Id

from ..accounts.access import PUBLIC, USER, allow
from ..openapi import answers
from ..schemas import BINARY
from ..accounts.enums import Role
from ..projects import services as projects
from . import matching, proposals, services
from .schemas import (
    IncentiveSchema,
    IncentiveWriteSchema,
    MatchList,
    MatchQuery,
    ParkPage,
    ParkPatchSchema,
    ParkQuery,
    ParkSchema,
    ParkWriteSchema,
    PlotSchema,
    PlotWriteSchema,
    ProposalList,
    ProposalSchema,
    ProposalWriteSchema,
    VisitSchema,
    SiteNeedsOut,
    SiteNeedsSchema,
    WeightsSchema,
)

api = Blueprint("parks_api", __name__, url_prefix="/api/v1", description="Parks, plots, incentives and site matching")

MANAGERS = ("attendee", "organiser")


@api.route("/parks", methods=["GET"])
@allow(PUBLIC)
@api.arguments(ParkQuery, location="query")
@api.response(200, ParkPage)
def list_parks(args):
    """Parks, with their plots and incentives (public: they advertise the province)."""
    parks = services.list_parks(organisation_id=args["organisation_id"], division=args["division"],
                                sector=args["sector"], q=args["q"])
    start = (args["page"] - 1) * args["per_page"]
    return {"items": parks[start:start + args["per_page"]], "total": len(parks), "page": args["page"],
            "per_page": args["per_page"]}


@api.route("/parks", methods=["POST"])
@allow(*MANAGERS)
@api.arguments(ParkWriteSchema)
@api.response(201, ParkSchema)
def create_park(body):
    """A city bureau or park organisation adds its park; organisers give `organisation_id`."""
    return services.create_park(current_user, body)


@api.route("/parks/<int:park_id>", methods=["GET"])
@allow(PUBLIC)
@api.response(200, ParkSchema)
def get_park(park_id):
    """One park with its plots and incentives; every figure says when it was confirmed and by whom."""
    return services.get_park(park_id)


@api.route("/parks/<int:park_id>", methods=["PATCH"])
@allow(*MANAGERS)
@api.arguments(ParkPatchSchema)
@api.response(200, ParkSchema)
def update_park(body, park_id):
    """Change a park (its organisation or organisers); an empty body confirms its figures."""
    return services.update_park(current_user, park_id, body)


@api.route("/parks/<int:park_id>/plots", methods=["POST"])
@allow(*MANAGERS)
@api.arguments(PlotWriteSchema)
@api.response(201, PlotSchema)
def add_plot(body, park_id):
    """Add a plot to a park."""
    return services.add_plot(current_user, park_id, body)


@api.route("/plots/<int:plot_id>", methods=["GET"])
@allow(PUBLIC)
@api.response(200, PlotSchema)
def get_plot(plot_id):
    return services.get_plot(plot_id)


@api.route("/plots/<int:plot_id>", methods=["PATCH"])
@allow(*MANAGERS)
@api.arguments(PlotWriteSchema)
@api.response(200, PlotSchema)
def update_plot(body, plot_id):
    """Change a plot's figures or status; an empty body confirms them."""
    return services.update_plot(current_user, plot_id, body)


@api.route("/parks/<int:park_id>/incentives", methods=["POST"])
@allow(*MANAGERS)
@api.arguments(IncentiveWriteSchema)
@api.response(201, IncentiveSchema)
def add_incentive(body, park_id):
    """Add an incentive (an amount with its currency, or a rate)."""
    return services.add_incentive(current_user, park_id, body)


@api.route("/incentives/<int:incentive_id>", methods=["PATCH"])
@allow(*MANAGERS)
@api.arguments(IncentiveWriteSchema)
@api.response(200, IncentiveSchema)
def update_incentive(body, incentive_id):
    """Change an incentive; an empty body confirms it."""
    return services.update_incentive(current_user, incentive_id, body)


@api.route("/projects/<int:project_id>/site-needs", methods=["GET"])
@allow(USER)
@api.response(200, SiteNeedsOut)
def get_site_needs(project_id):
    """What the project needs of a site (404 when none are given yet)."""
    needs = services.get_site_needs(current_user, project_id)
    if needs is None:
        from flask_babel import gettext

        from ..errors import NotFound

        raise NotFound(gettext("This project has no site needs yet."))
    return needs


@api.route("/projects/<int:project_id>/site-needs", methods=["PUT"])
@allow("presenter", "organiser")
@api.arguments(SiteNeedsSchema)
@api.response(200, SiteNeedsOut)
def put_site_needs(body, project_id):
    """Set the project's site needs (its presenter or organisers); the body replaces them."""
    return services.put_site_needs(current_user, project_id, body)


@api.route("/projects/<int:project_id>/site-matches", methods=["GET"])
@allow(USER)
@api.arguments(MatchQuery, location="query")
@api.response(200, MatchList)
def site_matches(args, project_id):
    """The best plots for the project: a city's people see their own organisation's plots only."""
    project = projects.get_project(current_user, project_id)
    needs = matching.Needs.of(project.sector, services.get_site_needs(current_user, project.id))
    organisation_id = current_user.organisation_id if current_user.role == Role.ATTENDEE else None
    return {"items": matching.site_matches(needs, limit=args["limit"], per_park=args["per_park"],
                                           organisation_id=organisation_id)}


@api.route("/site-match-weights", methods=["GET"])
@allow(USER)
@api.response(200, WeightsSchema)
def get_weights():
    """The matcher's weight per criterion."""
    return services.weights()


@api.route("/site-match-weights", methods=["PUT"])
@allow("organiser")
@api.arguments(WeightsSchema)
@api.response(200, WeightsSchema)
def put_weights(body):
    """Change some or all weights (0 … 100 each, not all 0)."""
    return services.set_weights(current_user, body)




class PitchQuery(Schema):
    project_id = Id(required=True, metadata={"description": "a project pitched in the session"})


class PitchMatches(MatchList):
    session_id = fields.Integer()
    project_id = fields.Integer()


@api.route("/sessions/<int:session_id>/site-matches", methods=["GET"])
@allow(USER)
@api.arguments(PitchQuery, location="query")
@api.response(200, PitchMatches)
def pitch_site_matches(args, session_id):
    """The best sites for a project pitched in the session (as the live room's `site_matches`): its
    presenters and organisers get the top three parks, a city bureau or park organisation its own
    matching plots; anyone else 403."""
    from . import pitch

    return pitch.site_matches(current_user, session_id, args["project_id"], dump=False)


@api.route("/leads/<int:lead_id>/site-proposals", methods=["POST"])
@allow("attendee", "organiser")
@api.arguments(ProposalWriteSchema)
@answers(503)
@api.response(201, ProposalSchema)
def propose_site(body, lead_id):
    """Propose one to three of the lead's organisation's plots: a bilingual PDF attached to the lead as a
    document, and the presenter told. The lead's organisation and organisers; 503 without the PDF font."""
    proposal = proposals.propose(current_user, lead_id, body)
    return proposals.proposal_dict(proposal), 201


@api.route("/leads/<int:lead_id>/site-proposals", methods=["GET"])
@allow(USER)
@api.response(200, ProposalList)
def list_site_proposals(lead_id):
    """The lead's site proposals, newest first (whoever sees the lead)."""
    return {"items": [proposals.proposal_dict(p) for p in proposals.proposals_of(current_user, lead_id)]}


@api.route("/site-proposals/<int:proposal_id>/pdf", methods=["GET"])
@allow(USER)
@api.response(200, BINARY, content_type="application/pdf", description="the proposal's PDF")
def site_proposal_pdf(proposal_id):
    """The proposal's PDF; the presenter's first opening is recorded (`opened_at`)."""
    from ..leads import services as leads
    from ..projects.api import attachment

    proposal = proposals.get_proposal(current_user, proposal_id)
    document = proposal.document
    leads.document_opened(current_user, document)
    return attachment(document.sha256, document.mime, document.original_name, inline=True)


@api.route("/site-proposals/<int:proposal_id>/visit", methods=["POST"])
@allow("attendee", "organiser")
@api.arguments(VisitSchema)
@api.response(200, ProposalSchema)
def record_site_visit(body, proposal_id):
    """Record the day the investor visited the proposed site (the lead's organisation and organisers)."""
    return proposals.proposal_dict(proposals.record_visit(current_user, proposal_id, body["visited_on"]))
