"""My settings (name, language, time zone, password, private calendar link) and the audit log, as pages and API."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext, lazy_gettext
from flask_login import current_user
from marshmallow import Schema, fields

from ..bounds import AwareDateTime, Id
from ..errors import gathering
from ..core.view_helpers import save_form
from ..reference.services import search_timezones, timezone_names, utc_offset
from ..schemas import PageQuery, page_of, read_page
from ..templating import viewer_timezone
from ..accounts import browser, services, settings
from . import api, audit, bp
from ..accounts.access import USER, allow
from ..accounts.forms import CalendarLinkForm, PasswordChangeForm, SettingsForm

#: What each audit action is called on the audit page; unknown codes are shown as they are.
ACTION_LABELS = {
    "sign_in": lazy_gettext("Signed in"),
    "sign_in_failed": lazy_gettext("Sign-in failed"),
    "locked_out": lazy_gettext("Locked out after failed sign-ins"),
    "password_changed": lazy_gettext("Password changed"),
    "password_reset_requested": lazy_gettext("Password reset requested"),
    "role_changed": lazy_gettext("Role changed"),
    "user_created": lazy_gettext("Person added"),
    "invitation_sent": lazy_gettext("Invitation sent"),
    "invitation_accepted": lazy_gettext("Invitation accepted"),
    "invitation_revoked": lazy_gettext("Invitation revoked"),
    "users_imported": lazy_gettext("People imported"),
    "organisation_merged": lazy_gettext("Organisations merged"),
}

AUDIT_PER_PAGE = 50


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


#: How the details of an audit row read (the codes stay in the stored row and the API).
DETAIL_LABELS = {
    "via": lazy_gettext("Through"), "retry_after": lazy_gettext("Locked for (seconds)"),
    "old": lazy_gettext("Before"), "new": lazy_gettext("After"), "expires_at": lazy_gettext("Valid until"),
    "rows": lazy_gettext("Rows"), "created": lazy_gettext("New"), "updated": lazy_gettext("Updated"),
    "unchanged": lazy_gettext("Unchanged"), "organisations_created": lazy_gettext("New organisations"),
    "filename": lazy_gettext("File"), "sha256": lazy_gettext("Checksum (SHA-256)"),
    "merged_name": lazy_gettext("Merged organisation"), "merged_id": lazy_gettext("Merged organisation no."),
    "moved": lazy_gettext("Moved"), "combined_leads": lazy_gettext("Combined leads"),
}
_VIA_LABELS = {"page": lazy_gettext("the sign-in page"), "token": lazy_gettext("an API token"),
               "password_reset": lazy_gettext("a password reset link")}


def audit_details(details: dict, zone: str) -> list[tuple[str, str, bool]]:
    """An audit row's details as (label, value, is_code) in the reader's language: roles and ways of
    signing in by name, times in the reader's zone; values that only a machine reads (checksums, the
    counts of a merge) are marked so the page shows them as code."""
    from ..i18n import format_moment
    from ..accounts.enums import role_label

    out = []
    for key in sorted(details):
        value = details[key]
        label = str(DETAIL_LABELS.get(key, key))
        if key == "via":
            out.append((label, str(_VIA_LABELS.get(value, value)), False))
        elif key in ("old", "new"):
            out.append((label, role_label(str(value)), False))
        elif key == "expires_at":
            try:
                out.append((label, format_moment(datetime.fromisoformat(str(value)), zone), False))
            except ValueError:
                out.append((label, str(value), True))
        elif isinstance(value, (dict, list)):
            out.append((label, json.dumps(value, ensure_ascii=False, sort_keys=True), True))
        elif key == "sha256":  # the hex digits as they are, without the quotes of JSON
            out.append((label, str(value), True))
        else:
            out.append((label, str(value), False))
    return out


def _back(target: str | None, default: str) -> str:
    """A same-site path to return to, else `default`."""
    if target:
        parts = urlsplit(target)
        if parts.netloc in ("", request.host) and parts.path.startswith("/") and not parts.path.startswith("//"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return default


# ---------------------------------------------------------------- my settings


def _render_settings(settings_form=None, password_form=None, problems=(), status: int = 200):
    user = current_user
    if settings_form is None:
        settings_form = SettingsForm(formdata=None, name=user.name, locale=user.locale, timezone=user.timezone)
    zone = settings_form.timezone.data if settings_form.timezone.data in timezone_names() else user.timezone
    return render_template(
        "people/settings.html",
        settings_form=settings_form,
        password_form=password_form or PasswordChangeForm(formdata=None),
        calendar_form=CalendarLinkForm(formdata=None, next=url_for("people.my_settings")),
        feed=url_for("fairs.personal_feed", token=user.calendar_token, _external=True),
        zones=_zones(),
        zone_name=zone,
        zone_offset=f"UTC{utc_offset(zone)[0]}",
        problems=list(problems),
    ), status


def _save(form, name: str, save):
    """One of the settings page's forms (`name` on the page): `save()` calls the service; errors show
    the page again with this form as it was sent."""
    return save_form(form, save, lambda problems, status: _render_settings(**{name: form}, problems=problems,
                                                                           status=status))


def _zones() -> list[dict]:
    # Offsets are "now": a zone's entry changes with daylight saving time.
    return search_timezones()


@bp.route("/me/settings", methods=["GET", "POST"])
@allow(USER)
def my_settings():
    """Name, language and time zone; the password and calendar forms post to their own addresses."""
    if request.method == "GET":
        return _render_settings()
    form = SettingsForm()

    def save():
        user = services.update_settings(current_user, {
            "name": form.name.data or "", "locale": form.locale.data, "timezone": form.timezone.data or "",
        }, current_user)
        with force_locale(user.locale):
            return gettext("Your settings are saved."), url_for("people.my_settings")

    return _save(form, "settings_form", save)


@bp.route("/me/password", methods=["POST"])
@allow(USER)
def change_password():
    """Change my password: other browsers and API tokens are signed out, this browser stays signed in."""
    form = PasswordChangeForm()

    def save():
        user = current_user._get_current_object()
        settings.change_password(user, current=form.current_password.data, new=form.new_password.data,
                                 repeat=form.repeat_password.data)
        # The cookie names the password version: sign this browser in again with the new one.
        remembered = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")) is not None
        browser.log_in(user, remember=remembered)
        return (gettext("Your password is changed. Other browsers and API tokens were signed out."),
                url_for("people.my_settings"))

    return _save(form, "password_form", save)


@bp.route("/me/calendar", methods=["POST"])
@allow(USER)
def regenerate_calendar():
    """Replace my private calendar link; back to the page the form came from (or my settings)."""
    form = CalendarLinkForm()
    if form.validate_on_submit():
        services.regenerate_calendar_token(current_user)
        flash(gettext("Your private calendar link was replaced; the old one no longer works."), "info")
    default = url_for("people.my_settings")
    return redirect(_back(form.next.data or request.referrer, default))


# ---------------------------------------------------------------- the audit log page


def _day_start(text: str | None, zone: str, field: str, errors: dict) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time.min, tzinfo=ZoneInfo(zone))
    except ValueError:
        errors[field] = gettext("Give a date as YYYY-MM-DD.")
        return None


@bp.route("/audit")
@allow("organiser")
def audit_log():
    """Who did what: newest first, filtered by action, person and dates (in the viewer's zone)."""
    zone = viewer_timezone()
    filters = {key: (request.args.get(key) or "").strip() for key in ("action", "person", "since", "until")}
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    errors: dict[str, str] = {}
    since = _day_start(filters["since"], zone, "since", errors)
    until = _day_start(filters["until"], zone, "until", errors)
    events, total = [], 0
    if not errors:
        with gathering(errors):
            events, total = audit.list_audit(
                current_user, page=page, per_page=AUDIT_PER_PAGE, action=filters["action"] or None,
                email=filters["person"] or None, since=since, until=until + timedelta(days=1) if until else None,
            )
    actions = sorted(set(ACTION_LABELS) | set(audit.audit_actions(current_user)), key=action_label)
    return render_template(
        "people/audit.html",
        events=events, total=total, page=page, per_page=AUDIT_PER_PAGE,
        filters={k: v for k, v in filters.items() if v}, form_values=filters, errors=errors,
        actions=[(code, action_label(code)) for code in actions], action_label=action_label,
        audit_details=audit_details,
        organisation_names=audit.organisation_names(events),
    ), 422 if errors else 200


# ---------------------------------------------------------------- API
# (`PATCH /api/v1/me` for name, time zone and language is app/accounts/views.py's `update_me`.)


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    action = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_email = fields.Function(lambda e: e.actor.email if e.actor else None)
    subject_user_id = fields.Integer(allow_none=True)
    subject_email = fields.Function(lambda e: e.subject.email if e.subject else None)
    organisation_id = fields.Integer(allow_none=True)
    #: The address typed at a sign-in (there may be no such person).
    email = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    details = fields.Dict()


class AuditQuery(PageQuery):
    action = fields.String(load_default=None)
    actor_id = Id(load_default=None)
    subject_user_id = Id(load_default=None)
    #: Part of the actor's, the subject's or the typed address.
    email = fields.String(load_default=None)
    since = AwareDateTime(load_default=None)
    until = AwareDateTime(load_default=None)


AuditPage = page_of(AuditEventSchema, "AuditPage")


@api.operation("GET /audit", "organiser", query=AuditQuery, returns=AuditPage)
def list_audit(args):
    """The audit log, newest first: sign-ins, lock-outs, invitations, imports, role and password changes."""
    return read_page(args, audit.list_audit, current_user, action=args["action"], actor_id=args["actor_id"],
                     subject_user_id=args["subject_user_id"], email=args["email"], since=args["since"],
                     until=args["until"])
