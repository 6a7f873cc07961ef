"""Notification pages: the list with mark-read buttons, the bell's count on every page, and the
development mail page (/dev/mail: the outbox, readable in the browser, where DEV_MAIL_PAGE is on)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from .. import mail
from ..accounts.access import USER, allow
from ..errors import NotFound
from ..fairs.forms import ActionForm
from . import services

bp = Blueprint("notifications", __name__)

PER_PAGE = 30


@bp.app_context_processor
def _bell():
    """`unread_notifications()` for base.html: one COUNT, only when the template asks."""

    def unread_notifications() -> int:
        if not current_user or not current_user.is_authenticated:
            return 0
        return services.unread_count(current_user)

    return {"unread_notifications": unread_notifications}


@bp.route("/notifications")
@allow(USER)
def notifications_page():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, total = services.list_notifications(current_user, page=page, per_page=PER_PAGE)
    return render_template("notifications/list.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           action_form=ActionForm())


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@allow(USER)
def read(notification_id: int):
    if ActionForm().validate_on_submit():
        services.mark_read(current_user, notification_id)
    return redirect(url_for("notifications.notifications_page"))


@bp.route("/notifications/read-all", methods=["POST"])
@allow(USER)
def read_all():
    if ActionForm().validate_on_submit():
        count = services.mark_all_read(current_user)
        flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count) if count
              else gettext("Nothing was unread."), "success")
    return redirect(url_for("notifications.notifications_page"))


# ---------------------------------------------------------------- the development mail page


def _dev_mail_page_on() -> None:
    """The outbox viewer exists where DEV_MAIL_PAGE is on (development's default); elsewhere it is a 404."""
    if not current_app.config.get("DEV_MAIL_PAGE"):
        raise NotFound(gettext("No such page."))


@bp.route("/dev/mail")
@allow("organiser")
def dev_mail():
    """The development mail page: every outbox message, newest first, with what became of it."""
    from ..core.services import health

    _dev_mail_page_on()
    return render_template("notifications/dev_mail.html", messages=mail.outbox(),
                           status_of=mail.status_of, smtp_host=current_app.config.get("SMTP_HOST"),
                           scheduler=health()[0]["scheduler"])


@bp.route("/dev/mail/<int:message_id>")
@allow("organiser")
def dev_mail_message(message_id: int):
    """One message: its headers, its text part (escaped) and its HTML part in a sandboxed frame."""
    _dev_mail_page_on()
    message = mail.get_message(message_id)
    return render_template("notifications/dev_mail_message.html", message=message, status=mail.status_of(message))


@bp.route("/dev/mail/<int:message_id>/html")
@allow("organiser")
def dev_mail_html(message_id: int):
    """The HTML part as the mail client would get it, sandboxed: no scripts, no requests, framed only here."""
    _dev_mail_page_on()
    message = mail.get_message(message_id)
    return message.html_body, 200, {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                                   "frame-ancestors 'self'",
        "X-Frame-Options": "SAMEORIGIN",
    }
