"""Notification pages: the list with mark-read buttons, and the bell's count on every page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from ..accounts.access import USER, allow
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
