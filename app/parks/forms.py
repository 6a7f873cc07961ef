"""Page forms for managing parks: a park, a plot, an incentive, and the confirm buttons.

Numbers and dates are taken as text and checked by the services (the same rules and messages as
the API); the forms only carry them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from ..bilingual import form_fields
from ..forms import Form
from .enums import EmissionsClass, IncentiveKind, LandUse, ParkKind, PlotStatus


def _select(label, enum) -> SelectField:
    """A choice of the enum's codes, each shown by its label (translated when the page is drawn)."""
    return SelectField(label, choices=[(str(code), text) for code, text in enum.labels().items()])


def _text(label, max_length: int = 50, **kwargs) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=max_length)], **kwargs)


def _date(label) -> StringField:
    """A date picker; the service reads the YYYY-MM-DD text (HTML allows no maxlength on a date input)."""
    return StringField(label, validators=[Optional()], render_kw={"type": "date"})


class ParkForm(Form):
    name_zh, name_en = form_fields(_l("Name in Chinese"), _l("Name in English"), max_length=200)
    summary_zh, summary_en = form_fields(_l("Summary in Chinese"), _l("Summary in English"), max_length=5000, area=True)
    organisation_id = SelectField(_l("Managed by"), choices=[], validate_choice=False)
    division = _text(_l("Division code (GB/T 2260)"), 6, render_kw={"inputmode": "numeric"})
    kind = _select(_l("Kind"), ParkKind)
    sectors = SelectMultipleField(_l("Sectors hosted (none: any sector)"), choices=[], validate_choice=False)
    emissions_limit = _select(_l("Highest emissions class admitted"), EmissionsClass)
    area_km2 = _text(_l("Area (km²)"), render_kw={"inputmode": "decimal"})
    companies = _text(_l("Companies in the park"), render_kw={"inputmode": "numeric"})
    contact_name = _text(_l("Contact name"), 200)
    contact_phone = _text(_l("Contact phone"))
    contact_email = _text(_l("Contact e-mail"), 254, render_kw={"type": "email"})
    submit = SubmitField(_l("Save park"))


class PlotForm(Form):
    name = _text(_l("Plot name or number"), 200)
    area_mu = _text(_l("Area (mu)"), render_kw={"inputmode": "decimal"})
    land_use = _select(_l("Land use"), LandUse)
    status = _select(_l("Status"), PlotStatus)
    price_per_mu = _text(_l("Price per mu"), render_kw={"inputmode": "decimal"})
    currency = _text(_l("Currency (ISO 4217)"), 3, default="CNY")
    plot_ratio = _text(_l("Plot ratio"), render_kw={"inputmode": "decimal"})
    ready_on = _date(_l("Ready on (YYYY-MM-DD)"))
    power_kva = _text(_l("Power (kVA)"), render_kw={"inputmode": "numeric"})
    water_tpd = _text(_l("Water (t/day)"), render_kw={"inputmode": "numeric"})
    wastewater_tpd = _text(_l("Wastewater capacity (t/day)"), render_kw={"inputmode": "numeric"})
    gas = BooleanField(_l("Natural gas connected"))
    rail_km = _text(_l("Rail freight station (km)"), render_kw={"inputmode": "decimal"})
    port_km = _text(_l("Port (km)"), render_kw={"inputmode": "decimal"})
    airport_km = _text(_l("Airport (km)"), render_kw={"inputmode": "decimal"})
    submit = SubmitField(_l("Save plot"))


class IncentiveForm(Form):
    kind = _select(_l("Kind"), IncentiveKind)
    amount = _text(_l("Amount"), render_kw={"inputmode": "decimal"})
    currency = _text(_l("Currency (ISO 4217)"), 3)
    rate = _text(_l("Rate (%)"), render_kw={"inputmode": "decimal"})
    conditions_zh, conditions_en = form_fields(_l("Conditions in Chinese"), _l("Conditions in English"),
                                               max_length=2000, area=True)
    valid_until = _date(_l("Valid until (YYYY-MM-DD)"))
    submit = SubmitField(_l("Save incentive"))


class ConfirmForm(Form):
    """One button: "these figures are still right" (stamps confirmed-at and -by)."""

    submit = SubmitField(_l("Confirm unchanged"))


class PlanForm(Form):
    file = FileField(_l("Master-plan image (PNG or JPEG)"), validators=[FileRequired()])
    submit = SubmitField(_l("Upload the plan"))


class OutlineForm(Form):
    plot_id = SelectField(_l("Plot"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save the outline"))


class ProposalForm(Form):
    """A site proposal from a lead's page: one to three of the organisation's plots (checked by the service)."""

    plot_ids = SelectMultipleField(_l("Plots (one to three)"), choices=[], coerce=int, validate_choice=False)
    #: Not `note`: the lead page's progress form has a `note` field (ids must be unique on the page).
    proposal_note = TextAreaField(_l("A word to the investor (printed on the proposal)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Send the proposal"))


class VisitForm(Form):
    visited_on = _date(_l("Site visit on"))
    submit = SubmitField(_l("Record the visit"))
