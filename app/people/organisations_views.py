"""Organisers' organisation pages (list, new, edit, one, merge) and the organisations API.

Registered on the accounts blueprints: `views` defines `bp` and `api` before importing this module.
"""

from __future__ import annotations

from .. import bilingual
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField

from ..errors import ValidationFailed
from ..core.api_helpers import page_from_list
from ..core.view_helpers import save_form
from ..forms import Form
from ..i18n import ui_locale
from ..leads.enums import stage_label
from ..reference.divisions import hebei_choices
from ..reference.services import country_choices, list_sectors
from ..schemas import PageQuery, page_body
from ..accounts import services
from . import api, bp, organisations
from ..accounts.enums import OrganisationKind
from ..accounts.schemas import (
    OrganisationMemberPage,
    OrganisationMergeSchema,
    OrganisationPage,
    OrganisationQuery,
    OrganisationSchema,
)
from ..accounts.access import allow

PAGE_SIZE = 50


class OrganisationForm(Form):
    """Renders the organisation's fields; the service's schema (`app/people/schemas.py`) checks them."""

    name = StringField(lazy_gettext("Organisation name"), render_kw={"maxlength": 200})
    name_zh, name_en = bilingual.form_fields(lazy_gettext("Name in Chinese"), lazy_gettext("Name in English"),
                                             max_length=200)
    kind = SelectField(lazy_gettext("Kind"), choices=[], validate_choice=False)
    #: A GB/T 2260 code from the grouped picker of Hebei's cities and counties (rendered by the template).
    division_code = StringField(lazy_gettext("City, district or county in Hebei"), render_kw={"maxlength": 6})
    city = StringField(lazy_gettext("City"), render_kw={"maxlength": 100})
    country = SelectField(lazy_gettext("Country"), choices=[], validate_choice=False)
    demand_sectors = SelectMultipleField(lazy_gettext("Sectors sought"), choices=[], validate_choice=False)
    demand_countries = SelectMultipleField(lazy_gettext("Countries investors are sought from"), choices=[],
                                           validate_choice=False)
    demand_note = TextAreaField(lazy_gettext("What the organisation needs, in a sentence"),
                                render_kw={"maxlength": 1000})
    aliases = TextAreaField(lazy_gettext("Other spellings (one a line)"))
    submit = SubmitField(lazy_gettext("Save organisation"))


class MergeForm(Form):
    other = HiddenField()
    direction = HiddenField()
    submit = SubmitField(lazy_gettext("Merge now"))


def _choices(form: OrganisationForm) -> None:
    locale = ui_locale()
    form.kind.choices = [(k.value, organisations.kind_label(k.value)) for k in OrganisationKind]
    form.country.choices = form.demand_countries.choices = country_choices(locale)
    form.demand_sectors.choices = [
        (s.code, s.name(locale)) for s in list_sectors()]


def _form_data(form: OrganisationForm) -> dict:
    return {
        "name": form.name.data or "",
        **{k: v for k, v in bilingual.form_data(form, "name").items() if k != "name"},
        "kind": form.kind.data,
        "city": form.city.data or "",
        "division": form.division_code.data or None,
        "country": form.country.data,
        "demand_sectors": form.demand_sectors.data or [],
        "demand_countries": form.demand_countries.data or [],
        "demand_note": form.demand_note.data or "",
        "aliases": [line for line in (form.aliases.data or "").splitlines() if line.strip()],
    }


def _page_fields(fields: dict) -> dict:
    """The service names the picker's field `division`; the page calls it `division_code`."""
    return {("division_code" if name == "division" else name): messages for name, messages in fields.items()}


def _render_form(form, organisation, problems, status=200):
    return render_template("people/organisation_form.html", form=form, organisation=organisation,
                           problems=problems, division_groups=hebei_choices(ui_locale())), status


def _save(form, organisation, save):
    """The form page of a new (`organisation` None) or an existing organisation: `save()` calls the
    service; a name already taken is shown beside the name."""
    return save_form(form, save, lambda problems, status: _render_form(form, organisation, problems, status),
                     fields=_page_fields, conflict_field="name")


def _page_of(org) -> str:
    return url_for("people.organisation_page", organisation_id=org.id)


# ---------------------------------------------------------------- pages


@bp.route("/organisations")
@allow("organiser")
def organisations_page():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    filters = {"q": request.args.get("q", "").strip(), "kind": request.args.get("kind", ""),
               "city": request.args.get("city", "")}
    items, total = services.list_organisations(current_user, page=page, per_page=PAGE_SIZE, **filters)
    return render_template("people/organisations.html", organisations=organisations.annotate(items), total=total,
                           page=page, per_page=PAGE_SIZE, filters=filters, cities=organisations.cities(),
                           kinds=[(k.value, organisations.kind_label(k.value)) for k in OrganisationKind],
                           kind_label=organisations.kind_label)


@bp.route("/organisations/new", methods=["GET", "POST"])
@allow("organiser")
def new_organisation():
    form = OrganisationForm()
    _choices(form)
    if request.method == "GET":
        form.kind.data, form.country.data = OrganisationKind.CITY_BUREAU.value, "CN"

    def create():
        org = organisations.create_organisation(current_user, **_form_data(form))
        return gettext("Organisation %(name)s created.", name=bilingual.plain(org, "name")), _page_of(org)

    return _save(form, None, create)


@bp.route("/organisations/<int:organisation_id>")
@allow("organiser")
def organisation_page(organisation_id: int):
    org = organisations.get_organisation(current_user, organisation_id)
    people = organisations.people(current_user, org.id)
    leads = organisations.leads_of(current_user, org.id)
    locale = ui_locale()
    sectors = {s.code: s.name(locale) for s in list_sectors()}
    return render_template("people/organisation.html", organisation=org, people=people, leads=leads,
                           sectors=sectors, kind_label=organisations.kind_label, stage_label=stage_label)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@allow("organiser")
def edit_organisation(organisation_id: int):
    org = organisations.get_organisation(current_user, organisation_id)
    form = OrganisationForm(obj=org)
    _choices(form)
    if request.method == "GET":
        form.aliases.data = "\n".join(org.aliases or [])
        # A place in Hebei shows in the picker; any other (Beijing, or a city abroad) as text.
        in_picker = org.division_code is not None and org.division_code.startswith("13")
        form.division_code.data = org.division_code if in_picker else ""
        form.city.data = (org.city or "") if in_picker else (org.place(ui_locale()) or "")

    def save():
        organisations.update_organisation(current_user, org.id, _form_data(form))
        return gettext("Organisation %(name)s saved.", name=bilingual.plain(org, "name")), _page_of(org)

    return _save(form, org, save)


@bp.route("/organisations/<int:organisation_id>/merge", methods=["GET", "POST"])
@allow("organiser")
def merge_organisation_page(organisation_id: int):
    """Pick the other organisation and the direction, see what moves, confirm."""
    org = organisations.get_organisation(current_user, organisation_id)
    form = MergeForm()
    if form.validate_on_submit():  # CSRFProtect has checked the token already; the form carries the choice
        survivor_id, duplicate_id = _merge_pair(org.id, form.other.data, form.direction.data)
        survivor = organisations.merge_organisations(current_user, survivor_id, duplicate_id)
        flash(gettext("Merged. %(name)s now holds everything of both organisations.", name=bilingual.plain(survivor, "name")), "success")
        return redirect(url_for("people.organisation_page", organisation_id=survivor.id))
    other_id = request.args.get("other", type=int)
    direction = request.args.get("direction", "into_this")
    plan = None
    if other_id:
        survivor_id, duplicate_id = _merge_pair(org.id, str(other_id), direction)
        plan = organisations.plan_merge(current_user, survivor_id, duplicate_id)
        form.other.data, form.direction.data = str(other_id), direction
    return render_template("people/organisation_merge.html", organisation=org, others=_others(org), plan=plan,
                           form=form, direction=direction, other_id=other_id,
                           kind_label=organisations.kind_label, stage_label=stage_label)


def _others(org) -> list:
    items, _ = services.list_organisations(current_user, page=1, per_page=10_000)
    return [o for o in items if o.id != org.id]


def _merge_pair(this_id: int, other: str | None, direction: str | None) -> tuple[int, int]:
    """(survivor, duplicate) from the page's choice: the other into this one, or this into the other."""
    try:
        other_id = int(other or "")
    except ValueError:
        raise ValidationFailed({"other": gettext("Choose the other organisation.")}) from None
    if direction not in ("into_this", "into_other"):
        raise ValidationFailed({"direction": gettext("Choose which organisation remains.")})
    return (this_id, other_id) if direction == "into_this" else (other_id, this_id)


# ---------------------------------------------------------------- API


@api.operation("GET /organisations", "organiser", query=OrganisationQuery, returns=OrganisationPage)
def list_organisations(args):
    """Organisations by name; `q` searches names and aliases, `kind` and `city` filter."""
    items, total = services.list_organisations(current_user, page=args["page"], per_page=args["per_page"],
                                               q=args["q"], kind=args["kind"], city=args["city"])
    return page_body(organisations.annotate(items), total, args)


@api.operation("POST /organisations", "organiser", body=OrganisationSchema, returns=OrganisationSchema, status=201,
               errors=[409])
def create_organisation(body):
    """Create an organisation with its demand profile."""
    return organisations.annotate([organisations.create_organisation(current_user, **body)])[0]


@api.operation("GET /organisations/<int:organisation_id>", "organiser", returns=OrganisationSchema)
def get_organisation(organisation_id):
    """One organisation."""
    return organisations.annotate([organisations.get_organisation(current_user, organisation_id)])[0]


@api.operation("PATCH /organisations/<int:organisation_id>", "organiser", body=OrganisationSchema,
               returns=OrganisationSchema, errors=[409])
def update_organisation(body, organisation_id):
    """Change an organisation: any of its fields, aliases included."""
    return organisations.annotate([organisations.update_organisation(current_user, organisation_id, body)])[0]


@api.operation("GET /organisations/<int:organisation_id>/users", "organiser", query=PageQuery,
               returns=OrganisationMemberPage)
def organisation_users(args, organisation_id):
    """The organisation's people, with `invitation_pending` for those who have not set a password."""
    return page_from_list(organisations.people(current_user, organisation_id), args)


@api.operation("POST /organisations/<int:organisation_id>/merge", "organiser", body=OrganisationMergeSchema,
               returns=OrganisationSchema, errors=[409])
def merge_organisation(body, organisation_id):
    """Merge `duplicate_id` into this organisation: every row moves over, the duplicate is deleted."""
    survivor = organisations.merge_organisations(current_user, organisation_id, body["duplicate_id"])
    return organisations.annotate([survivor])[0]
