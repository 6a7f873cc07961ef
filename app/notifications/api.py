"""Notifications API: a person's own in-app notifications."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import Schema, fields

from ..accounts.access import USER
from ..core.api_helpers import ApiBlueprint
from ..schemas import PageQuery, i18n_out, page_of, read_page, text_out
from . import services


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = text_out("title")
    title_i18n = i18n_out("title")
    body = text_out("body")
    body_i18n = i18n_out("body")
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationQuery(PageQuery):
    unread = fields.Boolean(load_default=False)


NotificationPage = page_of(NotificationSchema, "NotificationPage")

api = ApiBlueprint("notifications_api", __name__, url_prefix="/api/v1", description="In-app notifications")


@api.operation("GET /notifications", USER, query=NotificationQuery, returns=NotificationPage)
def list_notifications(args):
    """The caller's notifications, newest first (`unread=true` for unread only)."""
    return read_page(args, services.list_notifications, current_user, unread_only=args["unread"])


@api.operation("POST /notifications/<int:notification_id>/read", USER, returns=NotificationSchema)
def mark_read(notification_id):
    """Mark one of the caller's notifications read."""
    return services.mark_read(current_user, notification_id)
