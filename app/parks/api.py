"""The parks API under /api/v1: parks, plots, incentives, site needs, matches, weights."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import Schema, fields

from ..bounds import Id

from ..accounts.access import PUBLIC, USER
from ..core.api_helpers import ApiBlueprint, page_from_list
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

api = ApiBlueprint("parks_api", __name__, url_prefix="/api/v1", description="Parks, plots, incentives and site matching")

#: Who manages parks: a city bureau or park organisation (its own parks), and organisers.
MANAGERS = ("attendee", "organiser")


@api.operation("GET /parks", PUBLIC, query=ParkQuery, returns=ParkPage)
def list_parks(args):
    """Parks, with their plots and incentives (public: they advertise the province)."""
    parks = services.list_parks(organisation_id=args["organisation_id"], division=args["division"],
                                sector=args["sector"], q=args["q"])
    return page_from_list(parks, args)


@api.operation("POST /parks", *MANAGERS, body=ParkWriteSchema, returns=ParkSchema, status=201)
def create_park(body):
    """A city bureau or park organisation adds its park; organisers give `organisation_id`."""
    return services.create_park(current_user, body)


@api.operation("GET /parks/<int:park_id>", PUBLIC, returns=ParkSchema)
def get_park(park_id):
    """One park with its plots and incentives; every figure says when it was confirmed and by whom."""
    return services.get_park(park_id)


@api.operation("PATCH /parks/<int:park_id>", *MANAGERS, body=ParkPatchSchema, returns=ParkSchema)
def update_park(body, park_id):
    """Change a park (its organisation or organisers); an empty body confirms its figures."""
    return services.update_park(current_user, park_id, body)


@api.operation("POST /parks/<int:park_id>/plots", *MANAGERS, body=PlotWriteSchema, returns=PlotSchema, status=201)
def add_plot(body, park_id):
    """Add a plot to a park."""
    return services.add_plot(current_user, park_id, body)


@api.operation("GET /plots/<int:plot_id>", PUBLIC, returns=PlotSchema)
def get_plot(plot_id):
    return services.get_plot(plot_id)


@api.operation("PATCH /plots/<int:plot_id>", *MANAGERS, body=PlotWriteSchema, returns=PlotSchema)
def update_plot(body, plot_id):
    """Change a plot's figures or status; an empty body confirms them."""
    return services.update_plot(current_user, plot_id, body)


@api.operation("POST /parks/<int:park_id>/incentives", *MANAGERS, body=IncentiveWriteSchema, returns=IncentiveSchema,
               status=201)
def add_incentive(body, park_id):
    """Add an incentive (an amount with its currency, or a rate)."""
    return services.add_incentive(current_user, park_id, body)


@api.operation("PATCH /incentives/<int:incentive_id>", *MANAGERS, body=IncentiveWriteSchema, returns=IncentiveSchema)
def update_incentive(body, incentive_id):
    """Change an incentive; an empty body confirms it."""
    return services.update_incentive(current_user, incentive_id, body)


@api.operation("GET /projects/<int:project_id>/site-needs", USER, returns=SiteNeedsOut)
def get_site_needs(project_id):
    """What the project needs of a site (404 when none are given yet)."""
    needs = services.get_site_needs(current_user, project_id)
    if needs is None:
        from flask_babel import gettext

        from ..errors import NotFound

        raise NotFound(gettext("This project has no site needs yet."))
    return needs


@api.operation("PUT /projects/<int:project_id>/site-needs", "presenter", "organiser", body=SiteNeedsSchema,
               returns=SiteNeedsOut)
def put_site_needs(body, project_id):
    """Set the project's site needs (its presenter or organisers); the body replaces them."""
    return services.put_site_needs(current_user, project_id, body)


@api.operation("GET /projects/<int:project_id>/site-matches", USER, query=MatchQuery, returns=MatchList)
def site_matches(args, project_id):
    """The best plots for the project: a city's people see their own organisation's plots only."""
    project = projects.get_project(current_user, project_id)
    needs = matching.Needs.of(project.sector, services.get_site_needs(current_user, project.id))
    organisation_id = current_user.organisation_id if current_user.role == Role.ATTENDEE else None
    return {"items": matching.site_matches(needs, limit=args["limit"], per_park=args["per_park"],
                                           organisation_id=organisation_id)}


@api.operation("GET /site-match-weights", USER, returns=WeightsSchema)
def get_weights():
    """The matcher's weight per criterion."""
    return services.weights()


@api.operation("PUT /site-match-weights", "organiser", body=WeightsSchema, returns=WeightsSchema)
def put_weights(body):
    """Change some or all weights (0 … 100 each, not all 0)."""
    return services.set_weights(current_user, body)




class PitchQuery(Schema):
    project_id = Id(required=True, metadata={"description": "a project pitched in the session"})


class PitchMatches(MatchList):
    session_id = fields.Integer()
    project_id = fields.Integer()


@api.operation("GET /sessions/<int:session_id>/site-matches", USER, query=PitchQuery, returns=PitchMatches)
def pitch_site_matches(args, session_id):
    """The best sites for a project pitched in the session (as the live room's `site_matches`): its
    presenters and organisers get the top three parks, a city bureau or park organisation its own
    matching plots; anyone else 403."""
    from . import pitch

    return pitch.site_matches(current_user, session_id, args["project_id"], dump=False)


@api.operation("POST /leads/<int:lead_id>/site-proposals", "attendee", "organiser", body=ProposalWriteSchema,
               returns=ProposalSchema, status=201, errors=[503])
def propose_site(body, lead_id):
    """Propose one to three of the lead's organisation's plots: a bilingual PDF attached to the lead as a
    document, and the presenter told. The lead's organisation and organisers; 503 without the PDF font."""
    proposal = proposals.propose(current_user, lead_id, body)
    return proposals.proposal_dict(proposal), 201


@api.operation("GET /leads/<int:lead_id>/site-proposals", USER, returns=ProposalList)
def list_site_proposals(lead_id):
    """The lead's site proposals, newest first (whoever sees the lead)."""
    return {"items": [proposals.proposal_dict(p) for p in proposals.proposals_of(current_user, lead_id)]}


@api.operation("GET /site-proposals/<int:proposal_id>/pdf", USER)
@api.response(200, BINARY, content_type="application/pdf", description="the proposal's PDF")
def site_proposal_pdf(proposal_id):
    """The proposal's PDF; the presenter's first opening is recorded (`opened_at`)."""
    from .proposal_views import pdf_answer

    return pdf_answer(proposal_id)


@api.operation("POST /site-proposals/<int:proposal_id>/visit", "attendee", "organiser", body=VisitSchema,
               returns=ProposalSchema)
def record_site_visit(body, proposal_id):
    """Record the day the investor visited the proposed site (the lead's organisation and organisers)."""
    return proposals.proposal_dict(proposals.record_visit(current_user, proposal_id, body["visited_on"]))
