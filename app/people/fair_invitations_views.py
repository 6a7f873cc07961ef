"""Invitations to a fair from a session's suggested invitees: the page's "invite the chosen" button,
the mail's tracked link, and the API."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from marshmallow import Schema, fields, validate

from ..accounts.access import PUBLIC, allow
from ..errors import Conflict, NotFound, ValidationFailed
from ..forms import Form
from ..schemas import MAX_INT
from . import api, bp, fair_invitations


class ActionForm(Form):
    """A button: just the CSRF token."""


@bp.route("/sessions/<int:session_id>/invitees/invite", methods=["POST"])
@allow("organiser")
def invite_from_suggestions(session_id: int):
    if ActionForm().validate_on_submit():
        ids = [int(v) for v in request.form.getlist("organisation_ids") if v.isdigit() and int(v) < MAX_INT]
        try:
            outcome = fair_invitations.invite_organisations(current_user, session_id, ids)
        except ValidationFailed as exc:
            flash(" ".join(" ".join(v) for v in exc.fields.values()), "error")
        except (Conflict, NotFound) as exc:
            flash(exc.message, "error")
        else:
            flash(ngettext("%(num)d invitation sent.", "%(num)d invitations sent.", len(outcome.sent)), "success")
            if outcome.skipped:
                flash(gettext("No mail for: %(people)s.", people="; ".join(f"{name} ({why})" for name, why in outcome.skipped)),
                      "info")
    return redirect(url_for("leads.invitees", session_id=session_id))


@bp.route("/fairs/invitation/<token>")
@allow(PUBLIC)
def open_fair_invitation(token: str):
    """The mail's link: noted as opened, then on to the fair's page (where the person registers)."""
    try:
        invitation = fair_invitations.open_invitation(token)
    except NotFound as exc:
        return render_template("people/dead_link.html", kind="fair_invitation", message=exc.message), 404
    return redirect(url_for("fairs.fair_page", fair_id=invitation.fair_id))


class InviteBodySchema(Schema):
    organisation_ids = fields.List(fields.Integer(validate=validate.Range(1, MAX_INT)), required=True,
                                   validate=validate.Length(1, fair_invitations.MAX_ORGANISATIONS))


class FairInvitationSchema(Schema):
    id = fields.Integer()
    fair_id = fields.Integer()
    session_id = fields.Integer(allow_none=True)
    organisation_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    sent_at = fields.DateTime()
    opened_at = fields.DateTime(allow_none=True)
    mail_status = fields.String(allow_none=True, metadata={"description": "queued, sent or failed"})
    status = fields.String(metadata={"description": "sent, opened (the link was followed) or registered"})


class SkippedSchema(Schema):
    name = fields.String()
    reason = fields.String()


class InviteOutcomeSchema(Schema):
    sent = fields.List(fields.Nested(FairInvitationSchema))
    skipped = fields.List(fields.Nested(SkippedSchema))


class FairInvitationList(Schema):
    items = fields.List(fields.Nested(FairInvitationSchema))


@api.operation("POST /sessions/<int:session_id>/invitations", "organiser", body=InviteBodySchema,
               returns=InviteOutcomeSchema, status=201, errors=[404, 409])
def invite_organisations_api(body, session_id):
    """Invite the given organisations' people to the session's fair (mail in their language with the
    agenda and a link to register); people already registered or invited are skipped."""
    outcome = fair_invitations.invite_organisations(current_user, session_id, body["organisation_ids"])
    items = {i["id"]: i for i in fair_invitations.list_invitations(current_user, outcome.sent[0].fair_id)} \
        if outcome.sent else {}
    return {"sent": [items[i.id] for i in outcome.sent],
            "skipped": [{"name": name, "reason": why} for name, why in outcome.skipped]}


@api.operation("GET /fairs/<int:fair_id>/invitations", "organiser", returns=FairInvitationList, errors=[404])
def list_fair_invitations(fair_id):
    """Everyone invited to a fair, each `sent`, `opened` or `registered`."""
    return {"items": fair_invitations.list_invitations(current_user, fair_id)}
