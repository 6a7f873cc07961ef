"""Jinja helpers: times in the viewer's zone beside the fair's, names of sectors and countries."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .accounts.enums import kind_label, role_label
from .i18n import LANGUAGE_NAMES, format_amount, format_moment, repeated_hour_suffix, ui_locale
from .reference.services import country_name, language_name, timezone_names


def viewer_timezone() -> str:
    """The logged-in user's zone, else the browser's (cookie set by app.js), else the host's."""
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    cookie = request.cookies.get("tz") if request else None
    if cookie and cookie in timezone_names():
        return cookie
    return current_app.config["HOST_TIMEZONE"]


def in_zone(moment: datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    text = moment.astimezone(ZoneInfo(zone)).strftime(fmt)
    return text + repeated_hour_suffix(moment, zone) if "%H" in fmt else text


def zone_abbrev(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


def html_time(value) -> str:
    """A `<time datetime>` value HTML accepts: an aware time in whole seconds (HTML allows at most three
    decimals; Python writes six) with its offset, or a date; ISO text is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["html_time"] = html_time  # <time datetime="{{ s.starts_at | html_time }}">
    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.filters["zone_abbrev"] = zone_abbrev
    app.jinja_env.filters["fromiso"] = datetime.fromisoformat
    app.jinja_env.filters["moment"] = format_moment  # {{ s.starts_at | moment(viewer_tz, "date") }}
    app.jinja_env.filters["money"] = format_amount  # {{ amount | money("EUR") }}
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["organisation_kind_label"] = kind_label
    app.jinja_env.filters["language_name"] = lambda code: language_name(code, ui_locale())
    # Labels every page and mail may need (mails are rendered outside a request, by jobs).
    from .leads.enums import level_label, stage_label

    app.jinja_env.globals["lead_stage_label"] = stage_label
    app.jinja_env.globals["interest_level_label"] = level_label

    @app.context_processor
    def inject():
        from flask import has_request_context

        from .reference.services import list_sectors

        locale = ui_locale()
        if not has_request_context():  # mail rendered by a job: the template gets what it needs passed in
            return {"country_name": lambda code: country_name(code, locale), "ui_locale": locale}
        return {
            "languages": LANGUAGE_NAMES,
            "viewer_tz": viewer_timezone(),
            "country_name": lambda code: country_name(code, locale),
            "sector_names": lambda: {s.code: s.name(locale) for s in list_sectors()},
            "ui_locale": locale,
        }
