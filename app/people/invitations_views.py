"""Invitations and password resets: the organiser's page of people who have not accepted yet, the
public pages behind the mailed links, and their API (routes on the accounts blueprints)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..schemas import email_in
from ..errors import Conflict, NotFound, ValidationFailed
from ..core.view_helpers import press
from ..forms import Form, attach_errors
from ..i18n import ui_locale
from ..reference.services import country_choices
from ..schemas import PageQuery, page_of, read_page
from ..accounts import browser, services
from . import api, bp, invitations, password_reset, rate_limits
from ..accounts.access import PUBLIC, allow
from ..accounts.enums import ROLE_LABELS, Role
from ..accounts.schemas import UserCreateSchema, UserSchema

# ---------------------------------------------------------------- rate limits of reset requests


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _refuse_reset(limit):
    """429 with a sentence saying how long to wait (JSON, or the form again)."""
    return rate_limits.refusal(limit, lambda minutes: ngettext(
        "Too many password reset requests for this address or from this network. Try again in %(num)d minute.",
        "Too many password reset requests for this address or from this network. Try again in %(num)d minutes.",
        minutes), lambda message: render_template("people/forgot_password.html", form=ForgotPasswordForm(),
                                                  error=message))


_reset_limits = rate_limits.per_address_and_client(_reset_limit, "password_reset", _refuse_reset)


# ---------------------------------------------------------------- forms


class InviteForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[(role.value, ROLE_LABELS[role])
                                            for role in (Role.ATTENDEE, Role.PRESENTER, Role.ORGANISER)])
    organisation = StringField(_l("Organisation (found by name, or made)"), validators=[DataRequired(), Length(max=200)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    country = SelectField(_l("Country"), choices=[], validate_choice=False)
    timezone = StringField(_l("Time zone (e.g. Asia/Shanghai, Europe/Berlin)"), validators=[Optional(), Length(max=64)])
    locale = SelectField(_l("Language of the invitation and CloudFair"), choices=[("zh", "中文"), ("en", "English")])
    submit = SubmitField(_l("Invite"))


class NewPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    repeat = PasswordField(_l("The same password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ.")),
    ])
    submit = SubmitField(_l("Set password"))


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ActionForm(Form):
    """A button: just the CSRF token."""


# ---------------------------------------------------------------- the organiser's page


def _render_invitations(form: InviteForm, problems: list[str] | None = None, status: int = 200):
    items, total = invitations.pending(current_user, page=1, per_page=500)
    return render_template("people/invitations.html", form=form, items=items, total=total,
                           problems=problems or [], action_form=ActionForm()), status


@bp.route("/people/invitations", methods=["GET", "POST"])
@allow("organiser")
def invitations_page():
    form = InviteForm()
    form.country.choices = country_choices(ui_locale())  # by name, in pinyin order in Chinese
    if request.method == "GET":
        form.timezone.data = current_app.config["HOST_TIMEZONE"]
        form.country.data = "CN"
        return _render_invitations(form)
    if not form.validate_on_submit():
        return _render_invitations(form, status=422)
    try:
        user = invitations.create_and_invite(
            current_user, email=form.email.data, name=form.name.data, role=form.role.data,
            organisation=form.organisation.data, city=form.city.data or None,
            country=(form.country.data or "").upper() or None, timezone=form.timezone.data or None,
            locale=form.locale.data,
        )
    except ValidationFailed as exc:
        return _render_invitations(form, attach_errors(form, exc.fields), status=422)
    except Conflict as exc:
        form.email.errors = list(form.email.errors) + [exc.message]
        return _render_invitations(form, status=409)
    flash(gettext("%(name)s is invited; the mail with the link to %(email)s is queued (its state is in the list).",
                  name=user.name, email=user.email), "success")
    return redirect(url_for("people.invitations_page"))


def _invitation_button(user_id: int, act, done, **options):
    """A button on the invitations page for one person's invitation: `act(user, actor)` is the service,
    `done(user)` the message; back to the page."""
    user = services.get_user(user_id)
    return press(ActionForm(), lambda: act(user, current_user), done(user), url_for("people.invitations_page"),
                 **options)


@bp.route("/people/invitations/<int:user_id>/resend", methods=["POST"])
@allow("organiser")
def resend_invitation(user_id: int):
    return _invitation_button(user_id, invitations.resend, lambda user: gettext(
        "A new invitation to %(email)s is queued; the earlier link no longer works.", email=user.email))


@bp.route("/people/invitations/<int:user_id>/revoke", methods=["POST"])
@allow("organiser")
def revoke_invitation(user_id: int):
    return _invitation_button(user_id, invitations.revoke, lambda user: gettext(
        "The invitation of %(name)s is revoked; its link no longer works.", name=user.name),
        category="info", refused=(NotFound,))


# ---------------------------------------------------------------- pages behind the mailed links


def _dead_link(kind: str, message: str):
    return render_template("people/dead_link.html", kind=kind, message=message), 404


def _set_password_page(token: str, kind: str, link, *, dead, set_password, welcome, template: str, **context):
    """A page behind a mailed link that sets a password (an invitation, a password reset): a dead
    link answers 404; a good password logs the person in and goes to the fairs; a bad one is named
    on the form. `link` is the looked-up row (None when dead), `dead()` the service's dead-link
    error, `set_password(token, password)` the service, `welcome(user)` the message shown after."""
    if link is None:
        return _dead_link(kind, dead().message)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = set_password(token, form.password.data)
        except ValidationFailed as exc:
            for message in attach_errors(form, exc.fields):
                flash(message, "error")
        except NotFound as exc:
            return _dead_link(kind, exc.message)
        else:
            browser.log_in(user)
            flash(welcome(user), "success")
            return redirect(url_for("fairs.index"))
    status = 422 if form.errors else 200
    return render_template(template, form=form, person=link.user, min_length=services.MIN_PASSWORD_LENGTH,
                           **context), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def accept_invitation(token: str):
    invitation = invitations.lookup(token)
    return _set_password_page(
        token, "invitation", invitation, dead=invitations.dead_link_error, set_password=invitations.accept,
        welcome=lambda user: gettext("Welcome to CloudFair, %(name)s. Your password is set and you are logged in.",
                                     name=user.name),
        template="people/accept_invitation.html", invitation=invitation)


@bp.route("/password-reset", methods=["GET", "POST"])
@allow(PUBLIC)
@_reset_limits
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.request_reset(form.email.data)
        except ValidationFailed as exc:
            attach_errors(form, exc.fields)
        else:
            flash(gettext("If %(email)s belongs to a CloudFair account, a link to set a new password is on its way "
                          "there. It works for %(minutes)s minutes.", email=form.email.data.strip(),
                          minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "info")
            return redirect(url_for("people.forgot_password"))
    status = 422 if form.errors else 200
    return render_template("people/forgot_password.html", form=form), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(token: str):
    reset = password_reset.lookup(token)
    return _set_password_page(
        token, "password_reset", reset, dead=password_reset.dead_link_error, set_password=password_reset.reset_password,
        welcome=lambda user: gettext("Your password is changed and you are logged in. Everywhere else you were "
                                     "logged in, you are logged out."),
        template="people/reset_password.html")


# ---------------------------------------------------------------- API


class InvitationSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "The invitation's id; null when none was sent."})
    user = fields.Nested(UserSchema)
    status = fields.String(metadata={"description": "live, expired, revoked or not_sent"})
    sent_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    invited_by = fields.String(allow_none=True)
    mail_status = fields.String(allow_none=True, metadata={
        "description": "What became of the invitation's mail: queued (waiting or retrying), sent or failed."})
    mail_error = fields.String(allow_none=True, metadata={"description": "The last delivery error, if any."})


InvitationPage = page_of(InvitationSchema, "InvitationPage")


class NewPasswordSchema(Schema):
    password = fields.String(required=True, load_only=True)


class ResetRequestSchema(Schema):
    email = email_in(required=True)


class ResetRequestedSchema(Schema):
    message = fields.String()


@api.operation("POST /users", "organiser", body=UserCreateSchema, returns=UserSchema, status=201, errors=[409])
def create_user(body):
    """Create a person; without a `password` they get an invitation mail to set their own."""
    if body.get("password") is None:
        return invitations.create_and_invite(current_user, **body)
    return services.create_user(current_user, **body)


@api.operation("POST /users/<int:user_id>/invitation", "organiser", returns=InvitationSchema, status=201, errors=[409])
def send_user_invitation(user_id):
    """(Re-)send a person's invitation; the older link stops working. 409 when they already have a password."""
    return invitations.resend(services.get_user(user_id), current_user)


@api.operation("DELETE /users/<int:user_id>/invitation", "organiser", status=204)
def revoke_user_invitation(user_id):
    """Revoke a person's live invitation; 404 when there is none."""
    invitations.revoke(services.get_user(user_id), current_user)
    return None


@api.operation("GET /invitations", "organiser", query=PageQuery, returns=InvitationPage)
def list_invitations(args):
    """People who have not set a password yet, with their latest invitation."""
    return read_page(args, invitations.pending, current_user)


@api.operation("POST /invitations/<token>", PUBLIC, body=NewPasswordSchema, returns=UserSchema, errors=[404, 409])
def accept_invitation_api(body, token):
    """Accept an invitation with `{"password"}`; 404 `invitation_invalid` when the link is dead."""
    return invitations.accept(token, body["password"])


@api.operation("POST /auth/password-reset", PUBLIC, guards=[_reset_limits], body=ResetRequestSchema,
               returns=ResetRequestedSchema, status=202, errors=[429])
def request_password_reset(body):
    """Ask for a password reset link by mail; the same answer whether the address is known or not."""
    password_reset.request_reset(body["email"])
    return {"message": gettext("If this address belongs to a CloudFair account, a link to set a new password "
                               "has been sent to it.")}


@api.operation("POST /auth/password-reset/<token>", PUBLIC, body=NewPasswordSchema, returns=UserSchema,
               errors=[404, 409])
def complete_password_reset(body, token):
    """Set a new password with `{"password"}`; ends all the person's sessions and API tokens."""
    return password_reset.reset_password(token, body["password"])

