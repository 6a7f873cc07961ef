"""CloudFair: monthly themed online investment fairs."""

from __future__ import annotations

import logging
import os

from flask import Flask, g, request
from flask_login import current_user

from config import Config, config_for_environment

from .extensions import babel, csrf, db, limiter, login, migrate, socketio
from .openapi import api


def create_app(config_class: type[Config] | None = None) -> Flask:
    config_class = config_class or config_for_environment()
    app = Flask(
        __name__,
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
        instance_relative_config=True,
    )
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set outside development (CLOUDFAIR_ENV=development).")
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    from .bounds import init_converters, init_request_check

    init_converters(app)
    _register_models()
    _connect_receivers()
    db.init_app(app)
    from .pool import ping_after_idle

    with app.app_context():
        for engine in db.engines.values():
            ping_after_idle(engine, app.config["DATABASE_PING_AFTER_SECONDS"])
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    login.init_app(app)
    _limit_bodies(app)  # before CSRFProtect, whose hook reads form bodies
    csrf.init_app(app)
    limiter.init_app(app)
    from .i18n import compile_catalogues

    compile_catalogues(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    # Flask-Babel remembers the locale on the app context, which a request shares with an app
    # context that was already pushed (CLI, tests, jobs): choose it afresh for every request, as
    # the request starts (before any before_request hook can ask for a translated message).
    from flask import request_started
    from flask_babel import refresh as _refresh_babel

    request_started.connect(lambda sender, **extra: _refresh_babel(), app, weak=False)
    api.init_app(app)
    _init_socketio(app)

    from .accounts.access import init_access
    from .accounts.views import init_auth

    init_auth(app)
    init_access(app)
    _protect_api_cookies(app)
    init_request_check(app)

    from .accounts import api as accounts_api, bp as accounts_bp
    from .accounts import views as _account_pages  # noqa: F401 (adds its routes to accounts' blueprints)
    from .core.views import bp as core_bp
    from .fairs.api import api as fairs_api
    from .fairs import bp as fairs_bp
    from .fairs import series_views as _series_pages, views as _fair_pages  # noqa: F401 (they add their routes to bp)
    from .leads.api import api as leads_api
    from .leads.views import bp as leads_bp
    from .live.api import api as live_api
    from .live.views import bp as live_bp
    from .notifications.api import api as notifications_api
    from .notifications.views import bp as notifications_bp
    from .people import api as people_api, bp as people_bp
    from .people import (invitations_views, organisations_views, people_import_views,  # noqa: F401 (they add their
                         settings_views, signup_views, fair_invitations_views)  # routes to people's blueprints)
    from .parks.api import api as parks_api
    from .parks import bp as parks_bp
    from .parks import manage_views as _park_management, views as _park_pages  # noqa: F401 (they add their routes to bp)
    from .parks import media_views as _park_media, plan_views as _park_plan, reverse_views as _park_reverse  # noqa: F401,E501 (routes on bp and the parks API)
    from .parks import proposal_views as _site_proposals  # noqa: F401 (adds its routes to bp)
    from .projects.api import api as projects_api
    from .projects.views import bp as projects_bp
    from .reference.views import api as reference_api

    from .meetings.api import api as meetings_api
    from .meetings.views import bp as meetings_bp

    for blueprint in (accounts_api, people_api, fairs_api, reference_api, projects_api, notifications_api, live_api,
                      leads_api, meetings_api, parks_api):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # _protect_api_cookies checks cookie-authenticated API writes
    from .openapi import finish_document

    finish_document(app, api)

    app.register_blueprint(core_bp)
    csrf.exempt("app.accounts.views.switch_language")  # checked inside for signed-in people
    app.register_blueprint(accounts_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(fairs_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(leads_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(parks_bp)

    from .bilingual import init_templating as init_bilingual_templating
    from .errors import register_error_handlers
    from .templating import init_templating

    register_error_handlers(app)
    init_templating(app)
    init_bilingual_templating(app)

    from .cli import register_cli

    register_cli(app)

    if app.config.get("PROXY_COUNT", 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust exactly PROXY_COUNT hops of X-Forwarded-For/-Proto: the client address (rate limits,
        # the audit log) is the one the outermost proxy saw, and a client's own header is ignored.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    hsts = None
    if app.config.get("HSTS_SECONDS", 0) > 0 and not app.config.get("DEVELOPMENT"):
        hsts = f"max-age={app.config['HSTS_SECONDS']}"
        if app.config.get("HSTS_INCLUDE_SUBDOMAINS"):
            hsts += "; includeSubDomains"
    permissions_policy = app.config.get("PERMISSIONS_POLICY") or None
    # Frames come from CloudFair itself (the development mail page shows each mail in a sandboxed
    # frame) and, for streams and meetings in the live room, only from EMBED_HOSTS over https.
    frame_src = " ".join(["'self'", *(f"https://{host}" for host in app.config.get("EMBED_HOSTS", ()))])

    @app.after_request
    def security_headers(response):
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        if permissions_policy:
            response.headers.setdefault("Permissions-Policy", permissions_policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"connect-src 'self'; frame-src {frame_src}; frame-ancestors 'none'",
        )
        return response

    _maybe_run_scheduler(app)
    return app


def scheduler_wanted(app: Flask, argv: list[str], environ) -> bool:
    """Whether this process should run the scheduled jobs in-process: `RUN_SCHEDULER_IN_PROCESS` is on
    (the development default), the settings are development's (or a test's that asked for it), the
    process is `flask run`'s web server, and, with the reloader, it is the reloader's child (the one
    that serves), so the jobs run once."""
    if not app.config.get("RUN_SCHEDULER_IN_PROCESS"):
        return False
    if not (app.config.get("DEVELOPMENT") or app.testing):
        logging.getLogger(__name__).warning("RUN_SCHEDULER_IN_PROCESS is for development; run `flask scheduler`.")
        return False
    if "run" not in argv[1:]:
        return False  # `flask db upgrade`, `flask scheduler`, gunicorn …: not the development web process
    reloading = "--reload" in argv or ("--no-reload" not in argv and (app.debug or "--debug" in argv))
    if reloading and environ.get("WERKZEUG_RUN_MAIN") != "true":
        return False  # the reloader's watching parent: its child serves and runs the jobs
    return True


def _maybe_run_scheduler(app: Flask) -> None:
    """Development: `make run` runs the jobs inside the web process, once (see `scheduler_wanted`)."""
    import sys

    from .core import in_process

    if in_process.started() or not scheduler_wanted(app, sys.argv, os.environ):
        return
    from .jobs import make_scheduler

    scheduler = make_scheduler(app, background=True)
    in_process.keep(scheduler)
    scheduler.start()
    logging.getLogger(__name__).info("Scheduler running in the web process (RUN_SCHEDULER_IN_PROCESS).")


def _init_socketio(app: Flask) -> None:
    from .live import events as _events  # noqa: F401  (registers the /live handlers)

    from .live.origins import origin_allowed as allowed_for

    extra = frozenset(app.config["CORS_ORIGINS"])

    def origin_allowed(origin, environ) -> bool:
        return allowed_for(origin, environ, extra)

    # Engine.IO reads this class attribute for every long-polling payload (there is no per-server option).
    from engineio.payload import Payload

    Payload.max_decode_packets = app.config["LIVE_MAX_PACKETS_PER_PAYLOAD"]
    # The SocketIO object outlives apps (tests make many): forget a previous app's queue.
    socketio.server_options.pop("client_manager", None)
    from .live.rooms import IndexedManager

    queue = {"client_manager": IndexedManager()}  # a disconnect visits its own rooms only (`live/rooms.py`)
    if app.config["REDIS_URL"]:
        from .live.queue import ResilientRedisManager

        queue["client_manager"] = ResilientRedisManager(
            app.config["REDIS_URL"], channel=app.config["LIVE_QUEUE_CHANNEL"],
            retry_seconds=app.config["LIVE_QUEUE_RETRY_SECONDS"], timeout_seconds=app.config["REDIS_TIMEOUT_SECONDS"])
    from .live import wire

    wire.install(app.config["LIVE_DEFLATE_THRESHOLD"], app.config["LIVE_PACKETS_PER_POLL"], app.config["LIVE_DEFLATE_LEVEL"])
    socketio.init_app(
        app,
        **queue,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        cors_allowed_origins=origin_allowed,
        max_http_buffer_size=app.config["LIVE_MAX_PACKET_BYTES"],
        manage_session=False,
        serializer=wire.LivePacket,  # packets written by orjson, a quicker look for binary parts
        logger=False,
        engineio_logger=False,
    )


def _limit_bodies(app: Flask) -> None:
    """Small bodies everywhere; upload views raise the limit for themselves before reading."""

    @app.before_request
    def limit_body():
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if getattr(view, "accepts_upload", False):
            request.max_content_length = (app.config["MAX_UPLOAD_MB"] * 1024 + 256) * 1024
        else:
            request.max_content_length = app.config["MAX_BODY_KB"] * 1024


def _register_models() -> None:
    """Import every model module so metadata (and Alembic) sees all tables."""
    from .accounts import models as _accounts  # noqa: F401
    from .core import models as _core  # noqa: F401
    from .fairs import models as _fairs  # noqa: F401
    from .leads import models as _leads  # noqa: F401
    from .live import models as _live  # noqa: F401
    from .meetings import models as _meetings  # noqa: F401
    from .notifications import models as _notifications  # noqa: F401
    from .parks import models as _parks  # noqa: F401
    from .people import models as _people  # noqa: F401
    from .projects import models as _projects  # noqa: F401
    from .reference import models as _reference  # noqa: F401


def _protect_api_cookies(app: Flask) -> None:
    """API writes authenticated by the browser's session cookie need the CSRF token too."""

    @app.before_request
    def check_api_csrf():
        if not request.path.startswith("/api/") or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if current_user.is_authenticated and g.get("auth_via") != "token":
            csrf.protect()
        return None


def _select_locale() -> str:
    from .i18n import select_locale

    return select_locale()


def _select_timezone() -> str:
    from .templating import viewer_timezone

    return viewer_timezone()


def _connect_receivers() -> None:
    """Import every module that connects receivers to `app.signals`: a merge asks each domain to
    move its own rows, and a domain whose receiver is not imported would be skipped silently."""
    from .fairs import queries as _fairs  # noqa: F401 (a merge's plan: registrations)
    from .leads import queries as _lead_reads, services as _leads  # noqa: F401 (plan; leads, interests, reports)
    from .live import broadcast as _broadcast, services as _live  # noqa: F401 (plan and move: questions; notifications live)
    from .meetings import services as _meetings  # noqa: F401 (meetings, and those of a combined lead)
    from .notifications import services as _notifications  # noqa: F401 (links to a combined lead)
    from .parks import services as _parks  # noqa: F401 (parks)
    from .parks import pitch as _pitch  # noqa: F401 (a live pitch's best sites: pitch_changed)
