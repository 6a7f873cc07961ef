"""Pages for managing parks in the browser: a city bureau or park organisation its own parks, their
plots and incentives; organisers all. The same services as the API (same rules, same messages);
every save confirms the record, and a "confirm unchanged" button stamps confirmed-at and -by alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from .. import bilingual
from ..accounts.access import allow
from ..accounts.models import Organisation
from ..errors import Forbidden, ServiceError, UnsupportedType, ValidationFailed
from ..extensions import db
from ..core.view_helpers import save_form
from ..i18n import ui_locale
from ..reference.services import list_sectors
from . import services
from ..projects import storage
from .forms import ConfirmForm, IncentiveForm, OutlineForm, ParkForm, PlanForm, PlotForm
from .models import Park
from .queries import is_stale
from . import bp
from .views import _labels

MANAGERS = ("attendee", "organiser")


def _require_manager() -> None:
    if not services.is_staff(current_user) and current_user.organisation.kind not in services.MANAGING_KINDS:
        raise Forbidden(gettext("Only city bureaus, park organisations and organisers manage parks."))


def _number(value: str | None):
    """A whole number when the text is one (the services check the rest and say what is wrong)."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else value


def _text(value: str | None) -> str:
    return (value or "").strip()


def _fill_texts(form, record, names) -> None:
    """Show the record's values in the form's text inputs (an empty input for a missing value)."""
    for name in names:
        value = getattr(record, name)
        getattr(form, name).data = "" if value is None else str(value)


def _confirm(update, record_id: int, done: str):
    """Stamp a record's figures as confirmed now (a save with no changes) and go back to its park."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record = update(current_user, record_id, {})
    flash(done, "success")
    return redirect(url_for("parks.edit_park", park_id=record.id if isinstance(record, Park) else record.park_id))


# ---------------------------------------------------------------- parks


@bp.route("/parks/manage")
@allow(*MANAGERS)
def manage():
    _require_manager()
    organisation_id = None if services.is_staff(current_user) else current_user.organisation_id
    parks = services.list_parks(organisation_id=organisation_id)
    return render_template("parks/manage.html", parks=parks, is_stale=is_stale, labels=_labels())


def _park_form_choices(form: ParkForm) -> None:
    locale = ui_locale()
    form.sectors.choices = [(s.code, s.name(locale)) for s in list_sectors()]
    if services.is_staff(current_user):
        form.organisation_id.choices = [(str(o.id), o.name) for o in db.session.scalars(
            select(Organisation).where(Organisation.kind.in_(services.MANAGING_KINDS)).order_by(Organisation.name))]


def _park_data(form: ParkForm, creating: bool) -> dict:
    data = {
        **bilingual.form_data(form, "name", "summary"),
        "division": _text(form.division.data), "kind": form.kind.data, "sectors": form.sectors.data or [],
        "emissions_limit": form.emissions_limit.data, "area_km2": _text(form.area_km2.data),
        "companies": _number(form.companies.data), "contact_name": _text(form.contact_name.data),
        "contact_phone": _text(form.contact_phone.data), "contact_email": _text(form.contact_email.data),
        "lang": ui_locale(),
    }
    if creating and services.is_staff(current_user):
        data["organisation_id"] = _number(form.organisation_id.data)
    return data


def _save(form, template: str, save, done: str, **context):
    """Validate the form, call the service (`save()` returns the address to go to), put its field
    errors beside the fields (422)."""
    return save_form(form, lambda: (done, save()),
                     lambda problems, status: (render_template(template, form=form, problems=problems,
                                                               labels=_labels(), **context), status),
                     fields=lambda fields: bilingual.form_errors(fields, "name", "summary", "conditions"))


@bp.route("/parks/new", methods=["GET", "POST"])
@allow(*MANAGERS)
def new_park():
    _require_manager()
    form = ParkForm()
    _park_form_choices(form)
    if request.method == "GET":
        form.emissions_limit.data = "medium"

    def save():
        park = services.create_park(current_user, _park_data(form, creating=True))
        return url_for("parks.edit_park", park_id=park.id)

    return _save(form, "parks/park_form.html", save, gettext("The park was added."), park=None)


@bp.route("/parks/<int:park_id>/edit", methods=["GET", "POST"])
@allow(*MANAGERS)
def edit_park(park_id: int):
    park = services.managed_park(current_user, park_id)
    form = ParkForm()
    _park_form_choices(form)
    if request.method == "GET":
        bilingual.fill_form(form, park, "name", "summary")
        form.division.data, form.kind.data, form.sectors.data = park.division_code, park.kind, park.sectors
        form.emissions_limit.data = park.emissions_limit
        _fill_texts(form, park, ("area_km2", "companies"))
        form.contact_name.data, form.contact_phone.data = park.contact_name, park.contact_phone
        form.contact_email.data = park.contact_email

    def save():
        services.update_park(current_user, park.id, _park_data(form, creating=False))
        return url_for("parks.edit_park", park_id=park.id)

    return _save(form, "parks/park_form.html", save, gettext("The park was saved; its figures are confirmed as of now."),
                 park=park, confirm=ConfirmForm(), is_stale=is_stale)


@bp.route("/parks/<int:park_id>/confirm", methods=["POST"])
@allow(*MANAGERS)
def confirm_park(park_id: int):
    return _confirm(services.update_park, park_id, gettext("The park's figures are confirmed as of now."))


# ---------------------------------------------------------------- plots and incentives


_PLOT_TEXTS = ("area_mu", "price_per_mu", "plot_ratio", "ready_on", "rail_km", "port_km", "airport_km")
_PLOT_COUNTS = ("power_kva", "water_tpd", "wastewater_tpd")


def _plot_data(form: PlotForm) -> dict:
    data = {"name": _text(form.name.data), "land_use": form.land_use.data, "status": form.status.data,
            "currency": _text(form.currency.data).upper(), "gas": bool(form.gas.data)}
    data.update({name: _text(getattr(form, name).data) for name in _PLOT_TEXTS})
    data.update({name: _number(getattr(form, name).data) for name in _PLOT_COUNTS})
    return data


def _fill_plot(form: PlotForm, plot) -> None:
    form.name.data, form.land_use.data, form.status.data = plot.name, plot.land_use, plot.status
    form.currency.data, form.gas.data = plot.currency, plot.gas
    _fill_texts(form, plot, _PLOT_TEXTS + _PLOT_COUNTS)


def _incentive_data(form: IncentiveForm) -> dict:
    return {**bilingual.form_data(form, "conditions"), "kind": form.kind.data, "amount": _text(form.amount.data),
            "currency": _text(form.currency.data).upper(), "rate": _text(form.rate.data),
            "valid_until": _text(form.valid_until.data), "lang": ui_locale()}


def _fill_incentive(form: IncentiveForm, incentive) -> None:
    bilingual.fill_form(form, incentive, "conditions")
    form.kind.data, form.currency.data = incentive.kind, incentive.currency or ""
    _fill_texts(form, incentive, ("amount", "rate", "valid_until"))


@dataclass(frozen=True)
class _Part:
    """A part of a park with pages of its own (new under its park, edit, confirm unchanged): `name` is
    the template's variable, the addresses' word (`/plots/<plot_id>/edit`) and the endpoints' end
    (`parks.edit_plot`); the messages are functions, translated when shown."""

    name: str
    form: type
    get: Callable
    add: Callable
    update: Callable
    data: Callable
    fill: Callable
    added: Callable[[], str]
    saved: Callable[[], str]
    confirmed: Callable[[], str]


_PARTS = (
    _Part("plot", PlotForm, services.get_plot, services.add_plot, services.update_plot, _plot_data, _fill_plot,
          lambda: gettext("The plot was added."),
          lambda: gettext("The plot was saved; its figures are confirmed as of now."),
          lambda: gettext("The plot's figures are confirmed as of now.")),
    _Part("incentive", IncentiveForm, services.get_incentive, services.add_incentive, services.update_incentive,
          _incentive_data, _fill_incentive,
          lambda: gettext("The incentive was added."),
          lambda: gettext("The incentive was saved; it is confirmed as of now."),
          lambda: gettext("The incentive is confirmed as of now.")),
)


def _part_page(part: _Part, park, form, save, done: str, record):
    """A plot's or an incentive's form page: `save()` calls the service, then the park's page shows."""

    def saved():
        save()
        return url_for("parks.edit_park", park_id=park.id)

    return _save(form, f"parks/{part.name}_form.html", saved, done, park=park, **{part.name: record})


def _add_part_pages(part: _Part) -> None:
    """Route a part's pages: its form page under its park (new), its own form page (edit), its confirm button."""
    key = f"{part.name}_id"

    @allow(*MANAGERS)
    def new(park_id: int):
        park = services.managed_park(current_user, park_id)
        form = part.form()
        return _part_page(part, park, form, lambda: part.add(current_user, park.id, part.data(form)),
                          part.added(), None)

    @allow(*MANAGERS)
    def edit(**ids: int):
        record = part.get(ids[key])
        park = services.managed_park(current_user, record.park_id)
        form = part.form()
        if request.method == "GET":
            part.fill(form, record)
        return _part_page(part, park, form, lambda: part.update(current_user, record.id, part.data(form)),
                          part.saved(), record)

    @allow(*MANAGERS)
    def confirm(**ids: int):
        return _confirm(part.update, ids[key], part.confirmed())

    bp.add_url_rule(f"/parks/<int:park_id>/{part.name}s/new", f"new_{part.name}", new, methods=["GET", "POST"])
    bp.add_url_rule(f"/{part.name}s/<int:{key}>/edit", f"edit_{part.name}", edit, methods=["GET", "POST"])
    bp.add_url_rule(f"/{part.name}s/<int:{key}>/confirm", f"confirm_{part.name}", confirm, methods=["POST"])


for _part in _PARTS:
    _add_part_pages(_part)


# ---------------------------------------------------------------- the master plan


def _plan_page(park, problems=(), status: int = 200):
    outline = OutlineForm()
    outline.plot_id.choices = [(str(p.id), p.name) for p in park.plots]
    return render_template("parks/plan_form.html", park=park, upload=PlanForm(), outline=outline,
                           problems=list(problems), labels=_labels()), status


@bp.route("/parks/<int:park_id>/plan/edit")
@allow(*MANAGERS)
def edit_plan(park_id: int):
    return _plan_page(services.managed_park(current_user, park_id))


@bp.route("/parks/<int:park_id>/plan", methods=["POST"])
@allow(*MANAGERS)
@storage.accepts_upload
def upload_plan(park_id: int):
    park = services.managed_park(current_user, park_id)
    form = PlanForm()
    if not form.validate_on_submit():
        return _plan_page(park, [e for errors in form.errors.values() for e in errors], 422)
    try:
        services.set_plan(current_user, park.id, form.file.data.stream, form.file.data.filename)
    except ServiceError as exc:
        if not isinstance(exc, (ValidationFailed, UnsupportedType)):
            raise
        db.session.rollback()
        messages = [m for ms in exc.fields.values() for m in ms] if isinstance(exc, ValidationFailed) else [exc.message]
        return _plan_page(services.get_park(park_id), messages, exc.status)
    flash(gettext("The master plan was uploaded."), "success")
    return redirect(url_for("parks.edit_plan", park_id=park.id))


@bp.route("/parks/<int:park_id>/outline", methods=["POST"])
@allow(*MANAGERS)
def save_outline(park_id: int):
    park = services.managed_park(current_user, park_id)
    form = OutlineForm()
    form.plot_id.choices = [(str(p.id), p.name) for p in park.plots]
    if not form.validate_on_submit():
        abort(400)
    plot = next((p for p in park.plots if str(p.id) == form.plot_id.data), None)
    if plot is None:
        return _plan_page(park, [gettext("Choose one of the park's plots.")], 422)
    try:
        outline = json.loads(request.form.get("outline") or "[]")
    except ValueError:
        return _plan_page(park, [gettext("The outline could not be read; draw it again.")], 422)
    try:
        services.set_outline(current_user, plot.id, outline)
    except ValidationFailed as exc:
        db.session.rollback()
        return _plan_page(park, [m for ms in exc.fields.values() for m in ms], 422)
    flash(gettext("The outline of plot %(name)s was saved.", name=plot.name), "success")
    return redirect(url_for("parks.edit_plan", park_id=park.id))


__all__ = ["Park"]
