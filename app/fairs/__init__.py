"""Series, fairs, tracks, sessions, registrations, scheduling rules and calendar feeds."""

from flask import Blueprint

#: The fair and session pages (`views`) and the series pages (`series_views`) add their routes to it;
#: `create_app` imports both modules and registers it.
bp = Blueprint("fairs", __name__)
