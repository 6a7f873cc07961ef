"""Login pages and the accounts API (tokens, me, users)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user

from ..errors import NotFound, Unauthorized
from ..extensions import limiter
from ..i18n import COOKIE, LANGUAGES
from ..schemas import read_page
from . import api, bp, browser, lockout, services, settings
from .access import PUBLIC, USER, allow
from .forms import LoginForm, LogoutForm
from .schemas import (
    SettingsSchema,
    TokenRequestSchema,
    TokenSchema,
    UserPage,
    UserPatchSchema,
    UserQuery,
    UserSchema,
)


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("fairs.index")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(_login_limit, methods=["POST"])
@lockout.address_limit
def login():
    if current_user.is_authenticated:
        return redirect(url_for("fairs.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = settings.sign_in(form.email.data, form.password.data, via="page")
        except Unauthorized as exc:
            error = exc.message
        else:
            browser.log_in(user, remember=bool(form.remember.data))
            with force_locale(user.locale):
                flash(gettext("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200  # only 401s count towards the address's lock-out
    return render_template("accounts/login.html", form=form, error=error,
                           forgot_url=lockout.forgot_password_url()), status


@bp.route("/logout", methods=["POST"])
@allow(USER)
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        browser.log_out()
        flash(gettext("You are logged out."), "info")
    return redirect(url_for("fairs.index"))


# ---------------------------------------------------------------- API


@api.operation("POST /auth/token", PUBLIC, guards=[limiter.limit(_login_limit), lockout.address_limit],
               body=TokenRequestSchema, returns=TokenSchema, status=201, errors=[401, 429])
def create_token(body):
    """Exchange an e-mail address and password for an API token.

    Too many failures for one address: 429 `too_many_attempts` for a while, whatever the password."""
    user = settings.sign_in(body["email"], body["password"], via="token")
    plain, token = services.issue_token(user)
    return {"token": plain, "expires_at": token.expires_at, "user": user}


@api.operation("DELETE /auth/token", USER, status=204)
def revoke_token():
    """Revoke the bearer token this request was made with."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not services.revoke_token(header[7:].strip()):
        raise NotFound(gettext("This request carries no live API token."))
    return None


@api.operation("GET /me", USER, returns=UserSchema)
def me():
    """Who am I."""
    return current_user


@api.operation("PATCH /me", USER, returns=UserSchema)
@api.arguments(SettingsSchema, required=False)
def update_me(body):
    """Change one's own name, bio, languages, time zone or language."""
    return services.update_settings(current_user, body, current_user)


@api.operation("GET /users", "organiser", query=UserQuery, returns=UserPage)
def list_users(args):
    return read_page(args, services.list_users, current_user, role=args["role"],
                     organisation_id=args["organisation_id"])


@api.operation("PATCH /users/<int:user_id>", "organiser", body=UserPatchSchema, returns=UserSchema)
def update_user(body, user_id):
    return services.update_user(current_user, services.get_user(user_id), body)


def init_auth(app) -> None:
    """Flask-Login: session cookies for pages, bearer tokens for programs."""
    from ..extensions import login

    @app.before_request
    def forget_previous_user():
        # Each request authenticates afresh, even when it shares an app context
        # (as in tests that hold one open around the test client).
        g.pop("_login_user", None)
        g.pop("auth_via", None)
        g.pop("csrf_token", None)  # Flask-WTF caches the token in g; a new request reads its own session

    login.login_view = "accounts.login"
    login.session_protection = "basic"

    @login.user_loader
    def load_user(cookie_id: str):
        return services.load_session_user(cookie_id)

    @login.request_loader
    def load_user_from_request(req):
        header = req.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            user = services.user_for_token(header[7:].strip())
            if user is not None:
                g.auth_via = "token"
            return user
        return None


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def switch_language():
    """The switch on every page: remembers the choice in a cookie, and on a signed-in person's settings.

    A visitor's switch only sets a cookie in their own browser, so it needs no CSRF token (anonymous
    pages are cached and shared, and must not carry one); a signed-in person's switch changes their
    stored setting and is CSRF-checked like every other form.
    """
    from ..extensions import csrf

    if current_user.is_authenticated:
        csrf.protect()

    code = request.form.get("lang", "")
    target = request.form.get("next") or url_for("fairs.index")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("fairs.index")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        if current_user.is_authenticated and current_user.locale != code:
            user = current_user._get_current_object()
            services.update_settings(user, {"locale": code}, user)
    return response
