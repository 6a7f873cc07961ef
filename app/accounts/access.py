"""Who may call which route: one mechanism, deny by default.

Every view declares its audience with `@allow(...)`. A `before_request` hook
reads that declaration for the matched endpoint; an endpoint without one is
refused (403) for everyone, so a forgotten declaration fails closed.

Audiences: "public" (anyone), "user" (anyone logged in), or role codes; they,
`allow` and `require_role` are declared in the shared `app/audiences.py` (the
OpenAPI document and reference data read them too) and re-exported here.
Object-level rules (whose lead, which draft) live in the services, which take
the acting user.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..audiences import PUBLIC, USER, allow, require_role
from ..errors import Forbidden, Unauthorized, wants_json

__all__ = ["PUBLIC", "USER", "allow", "audience_of", "check_request_access", "init_access", "require_role"]

log = logging.getLogger(__name__)

#: Endpoints of other libraries that are public by nature.
_LIBRARY_PUBLIC_ENDPOINTS = {"static", "api-docs.openapi_json"}


def audience_of(endpoint: str) -> frozenset[str] | None:
    if endpoint in _LIBRARY_PUBLIC_ENDPOINTS:
        return frozenset({PUBLIC})
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def check_request_access() -> object | None:
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let routing answer 404/405
        return None
    audience = audience_of(endpoint)
    if audience is None:
        log.error("Endpoint %s declares no audience; refused", endpoint)
        raise Forbidden(gettext("This address is not open to anyone."))
    if PUBLIC in audience:
        return None
    if not current_user.is_authenticated:
        if wants_json():
            raise Unauthorized(gettext("Log in or send a valid API token."))
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if USER in audience or current_user.role in audience:
        return None
    raise Forbidden(gettext("Your role may not do this."))


def init_access(app: Flask) -> None:
    app.before_request(check_request_access)
