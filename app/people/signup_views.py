"""Self sign-up: the public form and its mailed confirmation link, the organisers' queue, and the API."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import bilingual
from ..accounts.access import PUBLIC, allow
from ..accounts.enums import KIND_LABELS
from ..errors import Conflict, NotFound, ValidationFailed
from ..forms import Form, attach_errors
from ..i18n import ui_locale
from ..reference.divisions import hebei_choices
from ..schemas import MAX_INT, PageQuery, email_in, i18n_in, i18n_out, nonblank, one_of, page_of, read_page
from . import api, bp, rate_limits, signups

# ---------------------------------------------------------------- rate limits


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _refuse(limit):
    """429 with how long to wait (JSON, or the form again)."""
    def page(message):
        form = SignupForm()
        _choices(form)
        return _render_signup(form, error=message)

    return rate_limits.refusal(limit, lambda minutes: ngettext(
        "Too many sign-up requests for this address or from this network. Try again in %(num)d minute.",
        "Too many sign-up requests for this address or from this network. Try again in %(num)d minutes.",
        minutes), page)


_limits = rate_limits.per_address_and_client(_signup_limit, "signup", _refuse)


# ---------------------------------------------------------------- forms


class SignupForm(Form):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    organisation_zh, organisation_en = bilingual.form_fields(_l("Name in Chinese"), _l("Name in English"),
                                                            max_length=200)
    kind = SelectField(_l("Kind of organisation"), choices=[], validate_choice=False)
    division = SelectField(_l("City, district or county in Hebei"), choices=[], validate_choice=False)
    locale = SelectField(_l("Language of the mails and CloudFair"), choices=[("zh", "中文"), ("en", "English")])
    submit = SubmitField(_l("Ask for an account"))


#: The queue page's tabs.
STATUS_LABELS = {"unconfirmed": _l("Address not confirmed"), "pending": _l("Waiting for a decision"),
                 "approved": _l("Approved"), "declined": _l("Declined")}


class ConfirmForm(Form):
    submit = SubmitField(_l("Confirm my address"))


class DecisionForm(Form):
    note = TextAreaField(_l("Note to the people (optional; sent with the decision)"),
                         validators=[Optional(), Length(max=1000)])


def _choices(form: SignupForm) -> None:
    form.kind.choices = [("", "—")] + [(k, str(KIND_LABELS[k])) for k in signups.SIGNUP_KINDS]


def _render_signup(form: SignupForm, error: str | None = None, problems: list[str] | None = None):
    fair_id = request.args.get("fair", type=int)
    fair = signups._public_fair(fair_id) if fair_id else None
    return render_template("people/signup.html", form=form, fair=fair, error=error, problems=problems or [],
                           division_groups=hebei_choices(ui_locale()))


# ---------------------------------------------------------------- public pages


@bp.route("/signup", methods=["GET", "POST"])
@allow(PUBLIC)
@_limits
def signup():
    form = SignupForm()
    _choices(form)
    if request.method == "GET":
        form.locale.data = ui_locale()
        return _render_signup(form)
    if not form.validate_on_submit():
        return _render_signup(form), 422
    try:
        signups.request_signup({
            "name": form.name.data, "email": form.email.data, **bilingual.form_data(form, "organisation"),
            "kind": form.kind.data or None, "division": form.division.data or None, "locale": form.locale.data,
            "fair_id": request.args.get("fair") or None,
        })
    except ValidationFailed as exc:
        problems = attach_errors(form, bilingual.form_errors(exc.fields, "organisation"))
        return _render_signup(form, problems=problems), 422
    flash(gettext("Thank you. We sent a mail to %(email)s: open its link to confirm your address. An organiser "
                  "then looks at your request.", email=form.email.data.strip()), "info")
    return redirect(url_for("people.signup", **({"fair": request.args["fair"]} if request.args.get("fair") else {})))


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def confirm_signup(token: str):
    """GET shows a button (mail scanners that open links confirm nothing); POST confirms."""
    pending = signups.lookup(token)
    if pending is None:
        return render_template("people/dead_link.html", kind="signup", message=signups.dead_link_error().message), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        signups.confirm(token)
        return render_template("people/signup_confirmed.html", signup=pending)
    return render_template("people/signup_confirm.html", form=form, signup=pending)


# ---------------------------------------------------------------- the organisers' queue


@bp.route("/people/signups", methods=["GET"])
@allow("organiser")
def signups_page():
    status = request.args.get("status", signups.PENDING)
    if status not in signups.STATUSES:
        status = signups.PENDING
    items, total = signups.list_signups(current_user, status=status, page=1, per_page=500)
    return render_template("people/signups.html", items=items, total=total, status=status, form=DecisionForm(),
                           statuses=signups.STATUSES, status_labels=STATUS_LABELS)


@bp.route("/people/signups/decide", methods=["POST"])
@allow("organiser")
def decide_signups():
    form = DecisionForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        ids = [int(v) for v in request.form.getlist("ids") if v.isdigit() and int(v) < MAX_INT]
        if decision not in (signups.APPROVE, signups.DECLINE) or not ids:
            flash(gettext("Tick at least one request, then approve or decline."), "error")
        else:
            done, problems = signups.decide_many(current_user, ids, decision, form.note.data)
            for message in problems:
                flash(message, "error")
            if done:
                flash(ngettext("%(num)d request approved; the person is mailed a link to set a password.",
                               "%(num)d requests approved; each person is mailed a link to set a password.", len(done))
                      if decision == signups.APPROVE else
                      ngettext("%(num)d request declined; the person is told by mail.",
                               "%(num)d requests declined; each person is told by mail.", len(done)), "success")
    return redirect(url_for("people.signups_page"))


@bp.route("/people/signups/<int:signup_id>/decide", methods=["POST"])
@allow("organiser")
def decide_signup(signup_id: int):
    """One request, with the organisation the organiser picked for it (after a look-alike warning)."""
    form = DecisionForm()
    if form.validate_on_submit():
        organisation_id = request.form.get("organisation_id", type=int)
        try:
            signups.decide(current_user, signup_id, request.form.get("decision", ""), form.note.data,
                           organisation_id=organisation_id or None)
        except (Conflict, NotFound, ValidationFailed) as exc:
            flash(exc.message if not isinstance(exc, ValidationFailed) else
                  " ".join(" ".join(v) for v in exc.fields.values()), "error")
        else:
            flash(gettext("Decided; the person is told by mail."), "success")
    return redirect(url_for("people.signups_page"))


# ---------------------------------------------------------------- API


class SignupRequestSchema(Schema):
    name = nonblank(required=True, validate=validate.Length(max=200))
    email = email_in(required=True)
    organisation = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "The organisation's name in the request's `locale` (an existing one is found by it); "
                       "`organisation` or `organisation_i18n` is required."})
    organisation_i18n = i18n_in("organisation")
    kind = one_of(signups.SIGNUP_KINDS, load_default=None, allow_none=True, metadata={
        "description": "For an organisation new to CloudFair: its kind."})
    division = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12), metadata={
        "description": "For an organisation new to CloudFair: its GB/T 2260 division code."})
    locale = one_of(("zh", "en"), load_default=None, allow_none=True)
    timezone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    fair_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_INT), metadata={
        "description": "The fair the person came from: approval registers them for it."})


class SignupAnswerSchema(Schema):
    message = fields.String()


class SimilarSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class SignupSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    locale = fields.String()
    timezone = fields.String()
    status = fields.String(metadata={"description": "unconfirmed, pending, approved or declined"})
    organisation_id = fields.Integer(allow_none=True, metadata={"description": "Existing (or, once approved, made)."})
    organisation_name = fields.String(metadata={"description": "The registered name (existing or proposed)."})
    organisation_name_i18n = i18n_out("organisation_name")
    organisation_kind = fields.String(allow_none=True)
    division = fields.String(attribute="division_code", allow_none=True)
    fair_id = fields.Integer(allow_none=True)
    similar = fields.List(fields.Nested(SimilarSchema), metadata={
        "description": "Existing organisations a proposed new one looks like (the import's warning)."})
    created_at = fields.DateTime()
    confirmed_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    registration = fields.String(allow_none=True, metadata={
        "description": "What registering for the fair gave on approval: registered, waitlisted, or why not."})


SignupPage = page_of(SignupSchema, "SignupPage")


class SignupQuery(PageQuery):
    status = one_of(signups.STATUSES, load_default=signups.PENDING)


class DecisionSchema(Schema):
    decision = one_of((signups.APPROVE, signups.DECLINE), required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    organisation_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_INT),
                                     metadata={"description": "File the person under this existing organisation "
                                                              "instead of the one asked for (approve only)."})


@api.operation("POST /signup", PUBLIC, guards=[_limits], body=SignupRequestSchema, returns=SignupAnswerSchema,
               status=202, errors=[429])
def request_signup(body):
    """Ask for an attendee account; the same answer whether the address is known or not.

    A confirmation link goes to the address; once confirmed, an organiser approves or declines."""
    signups.request_signup(body)
    return {"message": gettext("If the address can receive mail, a link to confirm it is on its way there.")}


@api.operation("POST /signup/confirm/<token>", PUBLIC, returns=SignupAnswerSchema, errors=[404])
def confirm_signup_api(token):
    """Confirm the address with the mailed link's token; 404 `signup_link_invalid` when the link is dead."""
    signups.confirm(token)
    return {"message": gettext("Your address is confirmed. An organiser looks at your request; you get a mail "
                               "either way.")}


@api.operation("GET /signups", "organiser", query=SignupQuery, returns=SignupPage)
def list_signups(args):
    """Sign-up requests (default: confirmed ones waiting for a decision), oldest first."""
    return read_page(args, signups.list_signups, current_user, status=args["status"])


@api.operation("POST /signups/<int:signup_id>/decision", "organiser", body=DecisionSchema, returns=SignupSchema,
               errors=[404, 409])
def decide_signup_api(body, signup_id):
    """Approve (the account is made, mailed a link to set a password, and registered for the fair) or
    decline (mailed with the note). 409 `not_confirmed`, `already_decided` or `already_exists`."""
    signup = signups.decide(current_user, signup_id, body["decision"], body["note"],
                            organisation_id=body["organisation_id"])
    signup.similar = []
    return signup
