"""The checks of an organisation's fields, as the organisation services load them (`app.validation.load`).

`OrganisationValuesSchema` is the one set of rules for the organisation pages and
`POST`/`PATCH /api/v1/organisations` (whose documented shape is `app.accounts.schemas.OrganisationSchema`);
its demand fields are the demand profile's own schema (`app.leads.schemas.DemandSchema`).
"""

from __future__ import annotations

from flask_babel import gettext
from marshmallow import ValidationError, fields

from .. import bilingual
from ..accounts.enums import OrganisationKind
from ..accounts.models import Organisation
from ..accounts.services import city_error, organisation_name_holder, resolve_city
from ..core.api_helpers import EnumCode
from ..errors import ValidationFailed
from ..leads.schemas import DemandSchema
from ..reference.services import country_codes
from ..validation import CheckedField, CrossFieldSchema

NAME_MAX = 200
CITY_MAX = 100
#: The fields a new organisation always has, and what a left-out one is checked as.
CREATE_DEFAULTS = {"name": None, "kind": None, "city": None, "country": None,
                   "demand_sectors": [], "demand_countries": [], "demand_note": ""}


def clean_name(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


class OrganisationName(CheckedField, fields.String):
    def check(self, value):
        name = clean_name(value)
        if not name:
            raise ValidationError(gettext("A name is required."))
        if len(name) > NAME_MAX:
            raise ValidationError(gettext("At most %(n)d characters.", n=NAME_MAX))
        return name


class City(CheckedField, fields.String):
    def check(self, value):
        city = clean_name(value)
        if len(city) > CITY_MAX:
            raise ValidationError(gettext("At most %(n)d characters.", n=CITY_MAX))
        return city or None


class Country(CheckedField, fields.String):
    def check(self, value):
        if isinstance(value, str) and value.upper() in country_codes():
            return value.upper()
        raise ValidationError(gettext("%(code)s is not an ISO 3166-1 alpha-2 country code.", code=repr(value)))


class Aliases(CheckedField, fields.List):
    """Other names the organisation is found by: cleaned, once each (ignoring case); checked against
    the other organisations' names by the schema."""

    def check(self, value):
        aliases = value or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValidationError(gettext("Give a list of names."))
        return [clean_name(a) for a in aliases]


class Raw(CheckedField, fields.Raw):
    def check(self, value):
        return value


class OrganisationValuesSchema(CrossFieldSchema, DemandSchema):
    """An organisation's fields in: all of them when creating (`current` None), those given when
    changing `current`. Loaded values are ready to store (with `name_zh`/`name_en` and
    `division_code`); `suggestions` holds the places a Chinese city that matched nothing may mean."""

    #: Read into `name_zh`/`name_en` and `division_code`.
    consumed = ("name_i18n", "division")

    name = OrganisationName()
    name_i18n = Raw(allow_none=True)
    name_zh = Raw(allow_none=True)
    name_en = Raw(allow_none=True)
    kind = EnumCode(OrganisationKind)
    city = City(allow_none=True)
    division = Raw(allow_none=True)
    country = Country()
    aliases = Aliases(fields.String())

    def __init__(self, *, current: Organisation | None = None, **kwargs):
        super().__init__(**kwargs)
        self.current = current
        self.suggestions: dict = {}

    def prepare(self, data: dict) -> tuple[dict, dict]:
        """A new organisation's left-out fields are checked as their defaults; a null demand is empty."""
        if self.current is None:
            data = {**CREATE_DEFAULTS, **data}
        data = {k: (CREATE_DEFAULTS[k] if k.startswith("demand_") and v is None else v) for k, v in data.items()}
        return dict(data), data

    def check_together(self, data, values, derived, errors):
        """The checks that need several fields or the database: the name in each language, the place
        (a division in China), aliases no other organisation has."""
        current = self.current
        if any(key in data for key in ("name_i18n", "name_zh", "name_en")):
            # The name in each language; `name` stays the name it is registered and found by.
            try:
                texts = bilingual.resolve({k: data[k] for k in ("name_i18n", "name_zh", "name_en") if k in data},
                                          "name", current=current, max_length=NAME_MAX)
            except ValidationFailed as exc:
                errors.update(exc.fields)
            else:
                derived["name_zh"], derived["name_en"] = texts["zh"] or None, texts["en"] or None
        elif "name" in values:
            texts = bilingual.split_text(values["name"])
            derived["name_zh"], derived["name_en"] = texts["zh"] or None, texts["en"] or None
        if "country" in data and "country" not in values:
            pass  # a bad country: where the place is cannot be told
        else:
            self.suggestions = _place_values(data, values, derived, errors, current=current)
        if "aliases" in values:
            own = values.get("name") or (current.name if current else "")
            cleaned: dict[str, str] = {}
            for alias in values["aliases"]:
                if alias and alias.casefold() != own.casefold():
                    cleaned.setdefault(alias.casefold(), alias)
            too_long = [a for a in cleaned.values() if len(a) > NAME_MAX]
            taken = [a for a in cleaned.values()
                     if organisation_name_holder(a, exclude_id=current.id if current else None)]
            if too_long:
                errors["aliases"] = [gettext("At most %(n)d characters.", n=NAME_MAX)]
            elif taken:
                errors["aliases"] = [gettext("Already the name of another organisation: %(names)s.",
                                             names=", ".join(taken))]
            else:
                derived["aliases"] = list(cleaned.values())


def _place_values(data: dict, values: dict, derived: dict, errors: dict, *,
                  current: Organisation | None) -> dict:
    """Set `division_code` for an organisation in China (`city` keeps the text given, else the division's
    Chinese name, for readers that predate divisions).

    A `division` code wins; else a `city` is matched to a division (Chinese, English, pinyin or an
    alias); on creation with neither, the name may imply one ("石家庄市商务局"). Abroad, `city`
    stays free text and `division` must be empty. Returns the suggestions for a city that matched nothing.
    """
    from ..reference.divisions import city_from_organisation_name, get_division

    creating = current is None
    country = values.get("country") or (current.country if current is not None else None)
    code = data.get("division")
    if country is None:
        return {}
    if country != "CN":
        if code not in (None, ""):
            errors["division"] = [gettext("Only organisations in China have a division; give the city as text.")]
        elif creating or "country" in values:
            derived["division_code"] = None
        return {}
    if code not in (None, ""):
        division = get_division(code)
        if division is None:
            errors["division"] = [gettext("%(code)s is not a known division code (GB/T 2260).", code=repr(code))]
        else:
            derived["division_code"] = division.code
            if not values.get("city"):
                derived["city"] = division.name_zh
        return {}
    if "division" in data and "city" not in data:  # cleared explicitly
        derived["division_code"], derived["city"] = None, None
        return {}
    city = values.get("city")
    if city:
        division, suggestions = resolve_city(city)
        if division is None:
            errors["city"] = [city_error(city, suggestions)]
            return {"city": suggestions}
        derived["division_code"] = division.code
    elif creating:
        division = city_from_organisation_name(values.get("name"))
        derived["division_code"] = division.code if division is not None else None
        derived["city"] = division.name_zh if division is not None else None
    elif "city" in data:
        derived["division_code"] = None
    elif "country" in values and current is not None and current.country != "CN" and current.city:
        division, _ = resolve_city(current.city)
        derived["division_code"] = division.code if division is not None else None
    return {}
