"""People: organisations (and merging duplicates), invitations and password resets, the people
import, one's settings pages and the audit log.

Built on `app.accounts` (identity) and allowed to use the domains; no domain imports this package.
A merge asks each domain to move its own rows through `app.signals.organisations_merged` (each domain connects its receiver).
"""

from flask import Blueprint
from ..core.api_helpers import ApiBlueprint

#: The route modules (`*_views`) add their routes to these; `create_app` imports them and registers both.
bp = Blueprint("people", __name__)
api = ApiBlueprint("people_api", __name__, url_prefix="/api/v1",
                   description="People, organisations, invitations and the audit log")

