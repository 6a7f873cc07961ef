"""Parks, plots and incentives that cities offer, projects' site needs, and the matcher."""

from flask import Blueprint

#: The public park pages (`views`) and the management pages (`manage_views`) add their routes to it;
#: `create_app` imports both modules and registers it.
bp = Blueprint("parks", __name__)
