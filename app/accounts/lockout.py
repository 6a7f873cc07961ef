"""Too many failed sign-ins for one address lock that address out for a while, from every client.

The sign-in page and `POST /api/v1/auth/token` share one Flask-Limiter limit keyed by the typed address
(`LOGIN_ADDRESS_LIMIT`, default "5 per 15 minutes"). Only failures (401 answers) count; once the limit is
met, every attempt for the address is refused with 429, the right password too, until the window ends.
The per-client limit (`LOGIN_RATE_LIMIT`) stays beside it.
"""

from __future__ import annotations

import math
import time

from flask import current_app, jsonify, render_template, request
from flask_babel import ngettext

from ..errors import error_body, wants_json
from ..extensions import limiter
from . import settings


def _typed_email() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    return settings.typed_address(email)


def _address_key() -> str:
    # A blank address still gets a key: Flask-Limiter skips (and logs) limits with an empty one.
    return "address:" + (_typed_email() or "-")


def _failed(response) -> bool:
    return response.status_code == 401


def lock_out_message(minutes: int) -> str:
    return ngettext(
        "Too many failed sign-ins for this address. Try again in %(num)d minute.",
        "Too many failed sign-ins for this address. Try again in %(num)d minutes.",
        minutes,
    )


def forgot_password_url() -> str:
    """The password reset page, where it exists yet."""
    from flask import url_for
    from werkzeug.routing import BuildError

    try:
        return url_for("people.forgot_password")
    except BuildError:
        return "/password-reset"


def _refuse(limit) -> object:
    """Flask-Limiter's on_breach: record the lock-out and answer 429 (page or JSON) in the person's language."""
    retry_after = max(1, int(limit.reset_at - time.time()))
    message = lock_out_message(max(1, math.ceil(retry_after / 60)))
    api = request.path.startswith("/api/")
    settings.record_lock_out(_typed_email(), via="token" if api else "page", retry_after=retry_after)
    if api or wants_json():
        response = jsonify(error_body(429, "too_many_attempts", message, {"retry_after": retry_after}))
    else:
        from .forms import LoginForm

        response = current_app.make_response(
            render_template("accounts/login.html", form=LoginForm(), error=message,
                            forgot_url=forgot_password_url())
        )
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


#: Decorate the sign-in views with this (one counter for the page and the API).
address_limit = limiter.shared_limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMIT"],
    scope="login-address",
    key_func=_address_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_refuse,
)
