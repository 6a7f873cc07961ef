from flask import Blueprint, current_app, jsonify, send_from_directory

from ..accounts.access import PUBLIC, allow
from . import services

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    """200 ok; 207 degraded (Redis is down: still serving, each process on its own); 503 when the
    database is down (take the process out of rotation)."""
    report, ok = services.health()
    return jsonify(report), (503 if not ok else 207 if report["status"] == "degraded" else 200)


@bp.route("/livez")
@allow(PUBLIC)
def livez():
    """Liveness for load balancers: the process answers; touches nothing else."""
    return "ok\n", 200, {"Content-Type": "text/plain"}


@bp.route("/favicon.ico")
@allow(PUBLIC)
def favicon():
    """Browsers ask for /favicon.ico whatever the page links (the pages link favicon.svg too)."""
    response = send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                                   max_age=7 * 24 * 3600)
    return response
