"""The reverse view: which pitched projects fit a park's vacant plots.

A pitched project is one on the agenda of a published fair (a session not cancelled: the projects
anyone signed in may see) that has site needs. Each is matched against this park's available plots
with the matcher's own filters and score (`matching.rank_for_park`); the park's best plot for it is
shown with its reasons and gap lines. For the park's managers (its organisation and organisers)."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..fairs.enums import SessionStatus
from ..fairs.models import Fair, FairSession, session_projects
from ..projects.models import Project
from ..projects.services import public_project_ids
from . import matching
from .models import Plot, SiteNeeds
from .services import managed_park

#: At most this many projects in one answer.
MAX_LIMIT = 100


def pitched_with_needs() -> list[tuple[Project, SiteNeeds]]:
    """Projects on a published fair's agenda that have said what they need of a site."""
    rows = db.session.execute(select(Project, SiteNeeds).join(SiteNeeds, SiteNeeds.project_id == Project.id)
                              .where(Project.id.in_(public_project_ids())).order_by(Project.id))
    return [(project, needs) for project, needs in rows]


def _sessions(project_ids: list[int]) -> dict[int, list[FairSession]]:
    """The published, not cancelled sessions each project is pitched in, earliest first."""
    out: dict[int, list[FairSession]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return out
    rows = db.session.execute(
        select(session_projects.c.project_id, FairSession)
        .join(FairSession, FairSession.id == session_projects.c.session_id)
        .join(Fair, Fair.id == FairSession.fair_id)
        .where(session_projects.c.project_id.in_(project_ids), Fair.published_at.is_not(None),
               FairSession.status != SessionStatus.CANCELLED)
        .order_by(FairSession.starts_at, FairSession.id))
    for project_id, session in rows:
        out[project_id].append(session)
    return out


def pitched_projects(actor, park_id: int, *, limit: int = 50) -> dict:
    """Pitched projects that fit the park's vacant plots, best first, each with the park's best plot
    for it, the score, a reason per criterion and the gap lines (in the reader's language). Raises
    403 for anyone but the park's managers."""
    park = managed_park(actor, park_id)
    pitched = pitched_with_needs()
    needs_by_id = {project.id: matching.Needs.of(project.sector, needs) for project, needs in pitched}
    projects = {project.id: project for project, _needs in pitched}
    ranked = matching.rank_for_park(park.id, list(needs_by_id.items()))[: max(1, min(limit, MAX_LIMIT))]
    plots = {p.id: p for p in db.session.scalars(select(Plot).where(Plot.id.in_([r[2] for r in ranked])))}
    sessions = _sessions([r[1] for r in ranked])
    items = []
    for score, project_id, plot_id, fit in ranked:
        reasons, gaps = matching.explain(plots[plot_id], needs_by_id[project_id], fit)
        items.append({"project": projects[project_id], "plot": plots[plot_id], "score": score, "reasons": reasons,
                      "gaps": gaps, "sessions": sessions[project_id]})
    return {"park": park, "items": items, "pitched": len(pitched)}
