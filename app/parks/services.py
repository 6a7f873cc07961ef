"""Parks, plots, incentives and site needs: who may change them, the rules their figures keep.

Who may change a park: organisers any; a person of the city bureau or park organisation that
manages it (`Park.organisation_id`) their own. Parks are public (they advertise the province), so
another organisation's write is 403 (the park exists for everyone) and writes nothing. Every write
of a record confirms its figures: `confirmed_at` is now and `confirmed_by` the writer; an empty
PATCH confirms them unchanged.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import delete, select, update

from .. import bilingual, signals
from ..accounts.access import require_role
from ..accounts.enums import OrganisationKind, Role
from ..accounts.models import Organisation
from ..errors import Forbidden, ValidationFailed, gathering, get_or_not_found
from ..extensions import db
from ..projects import services as projects
from ..reference.divisions import get_division
from ..reference.services import check_currency, check_sectors
from ..types import utcnow
from .enums import DEFAULT_WEIGHTS, Criterion, EmissionsClass, IncentiveKind, LandUse, ParkKind, PlotStatus
from .models import Incentive, MatchWeight, Park, Plot, SiteNeeds

#: Organisations whose people may manage parks.
MANAGING_KINDS = (OrganisationKind.CITY_BUREAU, OrganisationKind.PARK)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ---------------------------------------------------------------- who may


def is_staff(actor) -> bool:
    return actor is not None and actor.role == Role.ORGANISER


def may_manage(actor, park: Park) -> bool:
    if is_staff(actor):
        return True
    return (actor is not None and actor.role == Role.ATTENDEE and actor.organisation_id == park.organisation_id
            and actor.organisation.kind in MANAGING_KINDS)


def get_park(park_id: int) -> Park:
    return get_or_not_found(Park, park_id, _l("No such park."))


def managed_park(actor, park_id: int) -> Park:
    park = get_park(park_id)
    if not may_manage(actor, park):
        raise Forbidden(gettext("Only the park's own organisation and organisers may change it."))
    return park


def get_plot(plot_id: int) -> Plot:
    return get_or_not_found(Plot, plot_id, _l("No such plot."))


def get_incentive(incentive_id: int) -> Incentive:
    return get_or_not_found(Incentive, incentive_id, _l("No such incentive."))


def _confirm(record, actor) -> None:
    record.confirmed_at = utcnow()
    record.confirmed_by_id = actor.id


def _save(record, values: dict, actor, texts: tuple[str, ...] = ()):
    """Write checked values into a park, plot or incentive (each of `texts` in its author's language),
    note its figures as confirmed by `actor` now, and commit (adding the record when it is new)."""
    lang = values.pop("lang", None)
    for field in texts:
        if field in values:
            bilingual.assign(record, field, values.pop(field), lang)
    for key, value in values.items():
        setattr(record, key, value)
    _confirm(record, actor)
    db.session.add(record)
    db.session.commit()
    return record


# ---------------------------------------------------------------- checking values


class _Checker:
    """Collects each field's error so one answer names every bad field; nothing is written on error."""

    def __init__(self, data: dict, creating: bool):
        if not isinstance(data, dict):
            raise ValidationFailed({"body": gettext("Send a JSON object.")})
        self.data = data
        self.creating = creating
        self.errors: dict[str, str] = {}
        self.out: dict = {}

    def field(self, name: str, check, *, required: bool = False) -> None:
        if name not in self.data:
            if required and self.creating:
                self.errors[name] = gettext("This field is required.")
            return
        value = self.data[name]
        if value is None or value == "":
            if required:
                self.errors[name] = gettext("This field is required.")
            else:
                self.out[name] = None
            return
        with gathering(self.errors):
            self.out[name] = check(value, name)

    def texts(self, name: str, current, actor, **options) -> None:
        if current is None or bilingual.mentions(self.data, name):
            with gathering(self.errors):
                self.out[name] = bilingual.resolve(self.data, name, current=current,
                                                   lang=bilingual.author_lang(self.data, actor), **options)

    def done(self) -> dict:
        if self.errors:
            raise ValidationFailed(self.errors)
        return self.out


def decimal_value(value, field: str, *, maximum: Decimal, places: int = 2, positive: bool = False) -> Decimal:
    """A decimal number (a string or a JSON number) within 0 … maximum, at most `places` decimals."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationFailed({field: gettext("Give a number.")})
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed({field: gettext("%(value)r is not a decimal number.", value=value)}) from None
    if not number.is_finite() or number < 0 or number > maximum or (positive and number == 0):
        if positive:
            raise ValidationFailed({field: gettext("Give a number above 0 and at most %(maximum)s.", maximum=maximum)})
        raise ValidationFailed({field: gettext("Give a number from 0 to %(maximum)s.", maximum=maximum)})
    if number.as_tuple().exponent < -places:
        raise ValidationFailed({field: gettext("At most %(places)d decimal places.", places=places)})
    return number.quantize(Decimal(1).scaleb(-places))


def integer_value(value, field: str, *, maximum: int = 10_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed({field: gettext("Give a whole number.")})
    if value < 0 or value > maximum:
        raise ValidationFailed({field: gettext("Give a whole number from 0 to %(maximum)d.", maximum=maximum)})
    return value


def date_value(value, field: str) -> date:
    if not isinstance(value, str):
        raise ValidationFailed({field: gettext("Give a date as YYYY-MM-DD.")})
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed({field: gettext("Give a date as YYYY-MM-DD.")}) from None
    if not 1900 <= day.year <= 2200:
        raise ValidationFailed({field: gettext("Give a date in the years 1900 to 2200.")})
    return day


def code_value(codes) -> callable:
    allowed = [str(c) for c in codes]

    def check(value, field: str) -> str:
        if value not in allowed:
            raise ValidationFailed({field: gettext("Choose one of: %(codes)s.", codes=", ".join(allowed))})
        return value

    return check


def text_value(max_length: int):
    def check(value, field: str) -> str:
        if not isinstance(value, str):
            raise ValidationFailed({field: gettext("Must be text.")})
        value = value.strip()
        if len(value) > max_length:
            raise ValidationFailed({field: gettext("At most %(count)d characters (this has %(length)d).",
                                                   count=max_length, length=len(value))})
        return value

    return check


def division_value(value, field: str) -> str:
    division = get_division(value) if isinstance(value, str) else None
    if division is None:
        raise ValidationFailed({field: gettext("Give a division code of China (GB/T 2260), e.g. 130700.")})
    return division.code


def divisions_value(value, field: str) -> list[str]:
    if not isinstance(value, list) or len(value) > 50:
        raise ValidationFailed({field: gettext("Give a list of at most 50 division codes.")})
    return list(dict.fromkeys(division_value(v, field) for v in value))


def sectors_value(value, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed({field: gettext("Give a list of sector codes.")})
    return check_sectors(value, field=field)


def currency_value(value, field: str) -> str:
    return check_currency(value, field)


def email_value(value, field: str) -> str:
    value = text_value(254)(value, field)
    if value and not _EMAIL.match(value):
        raise ValidationFailed({field: gettext("Give an e-mail address such as name@example.org.")})
    return value


def boolean_value(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed({field: gettext("Give true or false.")})
    return value


_HUGE = Decimal("9999999999")


# ---------------------------------------------------------------- parks


def _park_values(actor, data: dict, current: Park | None) -> dict:
    check = _Checker(data, current is None)
    check.texts("name", current, actor, required=True, max_length=200, label=gettext("the name"))
    check.texts("summary", current, actor, max_length=5000)
    check.field("division", division_value, required=True)
    check.field("kind", code_value(ParkKind), required=True)
    check.field("sectors", sectors_value)
    check.field("emissions_limit", code_value(EmissionsClass))
    check.field("area_km2", lambda v, f: decimal_value(v, f, maximum=Decimal("99999999")))
    check.field("companies", integer_value)
    check.field("contact_name", text_value(200))
    check.field("contact_phone", text_value(50))
    check.field("contact_email", email_value)
    if current is None and is_staff(actor):
        check.field("organisation_id", _managing_organisation, required=True)
    elif current is None and data.get("organisation_id") not in (None, actor.organisation_id):
        check.errors["organisation_id"] = gettext("Only organisers add a park for another organisation.")
    out = check.done()
    for key, empty in (("sectors", []), ("contact_name", ""), ("contact_phone", ""), ("contact_email", "")):
        if key in out and out[key] is None:
            out[key] = empty
    if "division" in out:
        out["division_code"] = out.pop("division")
    out["lang"] = bilingual.author_lang(data, actor)
    return out


def _managing_organisation(value, field: str) -> int:
    organisation = db.session.get(Organisation, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if organisation is None or organisation.kind not in MANAGING_KINDS:
        raise ValidationFailed({field: gettext("Name a city bureau or park organisation by its id.")})
    return organisation.id


def create_park(actor, data: dict) -> Park:
    """A city bureau or park organisation adds a park of its own; organisers name the organisation."""
    require_role(actor, Role.ATTENDEE, Role.ORGANISER)
    if not is_staff(actor) and actor.organisation.kind not in MANAGING_KINDS:
        raise Forbidden(gettext("Only city bureaus, park organisations and organisers manage parks."))
    values = _park_values(actor, data, None)
    park = Park(organisation_id=values.pop("organisation_id", None) or actor.organisation_id, sectors=[],
                emissions_limit=EmissionsClass.MEDIUM)
    if "emissions_limit" in values and values["emissions_limit"] is None:
        values.pop("emissions_limit")
    return _save(park, values, actor, texts=("name", "summary"))


def update_park(actor, park_id: int, data: dict) -> Park:
    """Change a park's text and figures (an empty body confirms them unchanged)."""
    park = managed_park(actor, park_id)
    values = _park_values(actor, data, park)
    if "emissions_limit" in values and values["emissions_limit"] is None:
        values["emissions_limit"] = EmissionsClass.MEDIUM
    return _save(park, values, actor, texts=("name", "summary"))


def list_parks(*, organisation_id: int | None = None, division: str | None = None, sector: str | None = None,
               q: str | None = None):
    """Parks anyone may see; `division` takes a province, city or county code."""
    query = select(Park)
    if organisation_id is not None:
        query = query.where(Park.organisation_id == organisation_id)
    if division:
        query = query.where(Park.division_code.like(division_prefix(division) + "%"))
    if q and q.strip():
        query = query.where(bilingual.search_clause([Park.name, Park.name_zh, Park.name_en], q.strip()))
    parks = list(db.session.scalars(query.order_by(Park.division_code, Park.name, Park.id)).unique())
    if sector:
        parks = [p for p in parks if not p.sectors or sector in p.sectors]
    return parks


def division_prefix(code: str) -> str:
    """The code prefix shared by a division and everything in it: 13 for Hebei, 1307 for Zhangjiakou."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


# ---------------------------------------------------------------- plots


def _plot_values(data: dict, creating: bool) -> dict:
    check = _Checker(data, creating)
    check.field("name", text_value(200), required=True)
    check.field("area_mu", lambda v, f: decimal_value(v, f, maximum=Decimal("9999999"), positive=True), required=True)
    check.field("land_use", code_value(LandUse), required=True)
    check.field("price_per_mu", lambda v, f: decimal_value(v, f, maximum=_HUGE))
    check.field("currency", currency_value)
    check.field("plot_ratio", lambda v, f: decimal_value(v, f, maximum=Decimal("20"), positive=True))
    check.field("ready_on", date_value)
    for name in ("power_kva", "water_tpd", "wastewater_tpd"):
        check.field(name, integer_value)
    check.field("gas", boolean_value)
    for name in ("rail_km", "port_km", "airport_km"):
        check.field(name, lambda v, f: decimal_value(v, f, maximum=Decimal("99999"), places=1))
    check.field("status", code_value(PlotStatus))
    out = check.done()
    if out.get("name") is None and "name" in out:
        out.pop("name")
    for key, default in (("currency", "CNY"), ("status", PlotStatus.AVAILABLE), ("gas", False)):
        if key in out and out[key] is None:
            out[key] = default
    return out


def add_plot(actor, park_id: int, data: dict) -> Plot:
    """Add a plot to a park."""
    park = managed_park(actor, park_id)
    values = _plot_values(data, creating=True)
    return _save(Plot(park_id=park.id, currency="CNY", status=PlotStatus.AVAILABLE, gas=False), values, actor)


def update_plot(actor, plot_id: int, data: dict) -> Plot:
    """Change a plot's figures or status (an empty body confirms them unchanged)."""
    plot = get_plot(plot_id)
    managed_park(actor, plot.park_id)
    return _save(plot, _plot_values(data, creating=False), actor)


# ---------------------------------------------------------------- incentives


def _incentive_values(actor, data: dict, current: Incentive | None) -> dict:
    check = _Checker(data, current is None)
    check.texts("conditions", current, actor, max_length=2000)
    check.field("kind", code_value(IncentiveKind), required=True)
    check.field("amount", lambda v, f: decimal_value(v, f, maximum=Decimal("1e15")))
    check.field("currency", currency_value)
    check.field("rate", lambda v, f: decimal_value(v, f, maximum=Decimal(100)))
    check.field("valid_until", date_value)
    out = check.done()
    amount = out.get("amount", current.amount if current else None)
    currency = out.get("currency", current.currency if current else None)
    rate = out.get("rate", current.rate if current else None)
    if amount is None and rate is None:
        raise ValidationFailed({"amount": gettext("Give an amount or a rate (a percentage).")})
    if amount is not None and currency is None:
        raise ValidationFailed({"currency": gettext("An amount needs its ISO 4217 currency.")})
    out["lang"] = bilingual.author_lang(data, actor)
    return out


def add_incentive(actor, park_id: int, data: dict) -> Incentive:
    """Add an incentive a park offers."""
    park = managed_park(actor, park_id)
    return _save(Incentive(park_id=park.id, conditions=""), _incentive_values(actor, data, None), actor,
                 texts=("conditions",))


def update_incentive(actor, incentive_id: int, data: dict) -> Incentive:
    """Change an incentive (an empty body confirms it unchanged)."""
    incentive = get_incentive(incentive_id)
    managed_park(actor, incentive.park_id)
    return _save(incentive, _incentive_values(actor, data, incentive), actor, texts=("conditions",))


# ---------------------------------------------------------------- site needs


def get_site_needs(actor, project_id: int) -> SiteNeeds | None:
    project = projects.get_project(actor, project_id)
    return db.session.get(SiteNeeds, project.id)


def put_site_needs(actor, project_id: int, data: dict) -> SiteNeeds:
    """Set what a project needs of a site (its presenter or an organiser); the body replaces them."""
    project = projects.editable_project(actor, project_id)
    check = _Checker(data, creating=True)
    check.field("land_mu", lambda v, f: decimal_value(v, f, maximum=Decimal("9999999"), positive=True))
    check.field("power_kva", integer_value)
    check.field("water_tpd", integer_value)
    check.field("emissions_class", code_value(EmissionsClass))
    check.field("jobs", integer_value)
    check.field("budget", lambda v, f: decimal_value(v, f, maximum=Decimal("1e15")))
    check.field("currency", currency_value)
    check.field("divisions", divisions_value)
    check.field("ready_by", date_value)
    values = check.done()
    if values.get("budget") is not None and values.get("currency") is None:
        raise ValidationFailed({"currency": gettext("A budget needs its ISO 4217 currency.")})
    needs = db.session.get(SiteNeeds, project.id) or SiteNeeds(project_id=project.id)
    for key in ("land_mu", "power_kva", "water_tpd", "emissions_class", "jobs", "budget", "currency", "ready_by"):
        setattr(needs, key, values.get(key))
    needs.divisions = values.get("divisions") or []
    db.session.add(needs)
    db.session.commit()
    _needs_changed(project.id)
    return needs


def _needs_changed(project_id: int) -> None:
    """A project pitched in a live session changed its needs: that session's staff see the new best sites."""
    from ..fairs.enums import SessionStatus
    from ..fairs.models import FairSession
    from ..projects.models import Project

    live = db.session.scalars(select(FairSession.id).where(
        FairSession.status == SessionStatus.LIVE, FairSession.projects.any(Project.id == project_id))).all()
    for session_id in live:
        signals.pitch_changed.send(session_id, project_ids={project_id})


# ---------------------------------------------------------------- weights


def weights() -> dict[str, int]:
    """The matcher's weight per criterion: organisers' where set, else the defaults."""
    table = {str(k): v for k, v in DEFAULT_WEIGHTS.items()}
    for row in db.session.scalars(select(MatchWeight)):
        if row.criterion in table:
            table[row.criterion] = row.weight
    return table


def set_weights(actor, data: dict) -> dict[str, int]:
    """Organisers change some or all weights (0 … 100 each; not all zero)."""
    require_role(actor, Role.ORGANISER)
    if not isinstance(data, dict) or not data:
        raise ValidationFailed({"body": gettext("Give at least one criterion's weight.")})
    errors: dict[str, str] = {}
    for key, value in data.items():
        if key not in {str(c) for c in Criterion}:
            errors[str(key)] = gettext("Unknown criterion; choose from: %(codes)s.", codes=", ".join(map(str, Criterion)))
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors[key] = gettext("Give a whole number from 0 to 100.")
    if errors:
        raise ValidationFailed(errors)
    table = {**weights(), **data}
    if sum(table.values()) == 0:
        raise ValidationFailed({"body": gettext("At least one weight must be above 0.")})
    db.session.execute(delete(MatchWeight))
    for criterion, weight in table.items():
        db.session.add(MatchWeight(criterion=criterion, weight=weight))
    db.session.commit()
    return table


# ---------------------------------------------------------------- organisation merges


@signals.receiver(signals.organisations_merged, moves={("parks", "organisation_id")})
def move_organisation_parks(survivor, *, source, actor) -> None:
    """Parks' part of merging `source` into `survivor`: its parks move over (inside the merge's
    transaction; flushes)."""
    db.session.execute(update(Park).where(Park.organisation_id == source.id)
                       .values(organisation_id=survivor.id).execution_options(synchronize_session=False))
    db.session.flush()


# ---------------------------------------------------------------- the master plan


#: At most this many corners in a plot's outline.
MAX_OUTLINE_POINTS = 200


def set_plan(actor, park_id: int, stream, filename: str | None) -> Park:
    """Replace the park's master-plan image (PNG or JPEG, sniffed by content, under the upload rules).
    Outlines already drawn are kept: they are in the image's pixels, so a new image of another size
    clears those that no longer fit."""
    from PIL import Image

    from ..projects.services import receive_checked, store_row
    from ..projects.sniffing import IMAGE_KINDS

    park = managed_park(actor, park_id)
    received, sniffed, _ = receive_checked(stream, filename, allowed=IMAGE_KINDS)
    with Image.open(received.path) as image:
        width, height = image.size
    park.plan_sha256, park.plan_mime, park.plan_width, park.plan_height = received.sha256, sniffed.mime, width, height
    for plot in park.plots:
        if plot.outline and not all(0 <= x <= width and 0 <= y <= height for x, y in plot.outline):
            plot.outline = None
    _confirm(park, actor)
    store_row(received, park)
    return park


def outline_value(value, park: Park) -> list[list[float]] | None:
    """A plot's outline on the park's plan: 3 to 200 corners [x, y] in image pixels, inside the image."""
    if value is None or value == []:
        return None
    if park.plan_sha256 is None:
        raise ValidationFailed({"outline": gettext("Upload the park's master plan before drawing plots on it.")})
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_OUTLINE_POINTS:
        raise ValidationFailed({"outline": gettext("Give an outline of 3 to %(max)d corners, each [x, y].",
                                                   max=MAX_OUTLINE_POINTS)})
    points = []
    for point in value:
        if (not isinstance(point, list) or len(point) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)):
            raise ValidationFailed({"outline": gettext("Give an outline of 3 to %(max)d corners, each [x, y].",
                                                       max=MAX_OUTLINE_POINTS)})
        x, y = float(point[0]), float(point[1])
        if not (0 <= x <= park.plan_width and 0 <= y <= park.plan_height):
            raise ValidationFailed({"outline": gettext(
                "Every corner must lie on the plan (x 0 to %(width)d, y 0 to %(height)d).",
                width=park.plan_width, height=park.plan_height)})
        points.append([round(x, 1), round(y, 1)])
    return points


def set_outline(actor, plot_id: int, value) -> Plot:
    """Draw (or clear, with none) a plot's outline on its park's plan."""
    plot = get_plot(plot_id)
    park = managed_park(actor, plot.park_id)
    plot.outline = outline_value(value, park)
    db.session.commit()
    return plot
