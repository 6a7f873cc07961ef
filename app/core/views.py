from flask import Blueprint, jsonify

from ..accounts.access import PUBLIC, allow
from . import services

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    report, ok = services.health()
    return jsonify(report), (200 if ok else 503)


@bp.route("/livez")
@allow(PUBLIC)
def livez():
    """Liveness for load balancers: the process answers; touches nothing else."""
    return "ok\n", 200, {"Content-Type": "text/plain"}
