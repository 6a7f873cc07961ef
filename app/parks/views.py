"""Pages: the parks list and a park's public page (plots, incentives, when each was confirmed)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from ..accounts.access import PUBLIC, allow
from . import bp, services
from .enums import EmissionsClass, IncentiveKind, LandUse, ParkKind, PlotStatus
from .queries import is_stale, plot_counts



def _labels() -> dict:
    return {"park_kind": ParkKind.labels(), "land_use": LandUse.labels(), "plot_status": PlotStatus.labels(),
            "incentive_kind": IncentiveKind.labels(), "emissions": EmissionsClass.labels()}


@bp.route("/parks")
@allow(PUBLIC)
def park_list():
    sector = (request.args.get("sector") or "").strip()[:50] or None
    parks = services.list_parks(sector=sector)
    manager = current_user.is_authenticated and (services.is_staff(current_user) or (
        current_user.role == "attendee" and current_user.organisation.kind in services.MANAGING_KINDS))
    return render_template("parks/list.html", parks=parks, sector=sector, plot_counts=plot_counts,
                           labels=_labels(), manager=manager)


@bp.route("/parks/<int:park_id>")
@allow(PUBLIC)
def park_page(park_id: int):
    park = services.get_park(park_id)
    manageable = current_user.is_authenticated and services.may_manage(current_user, park)
    return render_template("parks/park.html", park=park, is_stale=is_stale, labels=_labels(),
                           plot_counts=plot_counts(park), manageable=manageable)


@bp.route("/parks/<int:park_id>/plan")
@allow(PUBLIC)
def plan_image(park_id: int):
    """The park's master-plan image (public, like the park)."""
    from flask_babel import gettext

    from ..projects.views import stored_image

    park = services.get_park(park_id)
    return stored_image(park.plan_sha256, park.plan_mime, f"park-{park.id}-plan",
                        gettext("This park has no master plan yet."), inline=True)


@bp.app_template_global()
def plan_plots(park, labels) -> list[dict]:
    """The park's drawn plots for the plan's map: outline, status and a label in the reader's language."""
    return [{"id": p.id, "status": p.status, "outline": p.outline,
             "label": f"{p.name} · {labels['plot_status'][p.status]}"} for p in park.plots if p.outline]


@bp.app_template_filter("day")
def day(value) -> str:
    """A calendar date as the reader's language writes it."""
    from flask_babel import format_date

    return format_date(value, "medium") if value else "—"
