"""Who a route or a service call is for: the audience codes, the `@allow` declaration a view carries,
and `require_role`, the same rule for a call that comes through no route (a job, a socket, a service
of the foundation such as editing reference data).

Shared, below every package: the route check that reads the declarations on each request
(`app/accounts/access.py`) and the OpenAPI document that states each operation's roles from them
(`app/openapi.py`) both read what is declared here.

Audiences: "public" (anyone), "user" (anyone logged in), or role codes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext

from .errors import Forbidden

PUBLIC = "public"
USER = "user"


def allow(*audiences: str) -> Callable:
    """Declare who may call a view: `@allow("organiser")`, `@allow(PUBLIC)`."""
    if not audiences:
        raise ValueError("allow() needs at least one audience")

    def decorate(view: Callable) -> Callable:
        view.access = frozenset(audiences)  # type: ignore[attr-defined]
        return view

    return decorate


def require_role(actor, *roles: str) -> None:
    """Service-level guard for calls that do not come through a route (jobs, sockets)."""
    if actor is None or getattr(actor, "role", None) not in roles:
        raise Forbidden(gettext("Your role may not do this."))
