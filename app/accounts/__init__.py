"""Identity: users, roles, API tokens, signing in and out, login sessions and `access` (`@allow`).

The lowest domain: every other package may import it, it imports none of them (but `reference`).
The people features built on it (organisations, invitations, the import, settings pages, the audit
log) are `app.people`.
"""

from flask import Blueprint

from ..openapi import ApiBlueprint

#: `views` adds its routes to these; `create_app` imports it and registers both.
bp = Blueprint("accounts", __name__)
api = ApiBlueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts and tokens")

