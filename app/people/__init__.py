"""People: organisations (and merging duplicates), invitations and password resets, the people
import, one's settings pages and the audit log.

Built on `app.accounts` (identity) and allowed to use the domains; no domain imports this package.
A merge asks each domain to move its own rows through `app.signals.organisations_merged` (each domain connects its receiver).
"""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("people", __name__)
api = ApiBlueprint("people_api", __name__, url_prefix="/api/v1",
                   description="People, organisations, invitations and the audit log")


def blueprints() -> tuple[Blueprint, ApiBlueprint]:
    """The page and API blueprints with their routes (importing the route modules registers them)."""
    from . import (invitations_views, organisations_views, people_import_views, settings_views,  # noqa: F401
                   signup_views)

    return bp, api
