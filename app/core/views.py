from flask import Blueprint, jsonify

from ..accounts.access import PUBLIC, allow
from . import services

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    report, ok = services.health()
    return jsonify(report), (200 if ok else 503)
