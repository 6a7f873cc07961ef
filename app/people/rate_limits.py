"""Rate limits of the public forms that send mail to a typed address (password resets, sign-ups):
each is limited per typed address and per client address, shared by the page and the API, and a
refusal is a 429 that says how long to wait (JSON, or the page again with the sentence)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import current_app, jsonify, request

from ..errors import error_body, wants_json
from ..extensions import limiter


def typed_email() -> str:
    """The rate-limit key of a request: the typed address, lower-cased (form or JSON)."""
    value = request.form.get("email") if request.form else None
    if value is None:
        body = request.get_json(silent=True)
        value = body.get("email") if isinstance(body, dict) else None
    return "email:" + (value.strip().lower()[:254] if isinstance(value, str) else "")


def refusal(limit, message: Callable[[int], str], page: Callable[[str], object]):
    """Flask-Limiter's on_breach answer: 429 with `message(minutes to wait)`, as JSON for the API
    and as `page(message)` (the form again) for browsers, with Retry-After."""
    retry_after = max(1, int(limit.reset_at - time.time()))
    text = message(max(1, math.ceil(retry_after / 60)))
    if request.path.startswith("/api/") or wants_json():
        response = jsonify(error_body(429, "rate_limited", text, {"retry_after": retry_after}))
    else:
        response = current_app.make_response(page(text))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def per_address_and_client(limit_value: Callable[[], str], scope: str, on_breach) -> Callable:
    """A decorator: `limit_value()` POSTs per typed address (`<scope>_email`) and per client address
    (`<scope>_client`), each shared by the page and the API."""

    def decorate(view):
        view = limiter.shared_limit(limit_value, scope=f"{scope}_email", key_func=typed_email, methods=["POST"],
                                    on_breach=on_breach)(view)
        return limiter.shared_limit(limit_value, scope=f"{scope}_client", methods=["POST"], on_breach=on_breach)(view)

    return decorate
