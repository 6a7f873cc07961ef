"""Which browser origins may open a live connection: the page's own, plus `CORS_ORIGINS`."""

from __future__ import annotations


def origin_allowed(origin: str | None, environ: dict, extra: set[str] | frozenset[str]) -> bool:
    if not origin:  # not a browser (or a same-origin request that omitted it): authentication decides
        return True
    # Behind a proxy, gunicorn sets the scheme from X-Forwarded-Proto for trusted proxies.
    own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
    return origin == own or origin in extra
