"""The shapes and checks of leads' inputs that services load (`app.validation.load`)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, pre_load

from ..reference.services import SECTOR_CODE, country_codes, sector_codes
from ..schemas import matching, one_of

DEMAND_NOTE_MAX = 1000


class _Codes(fields.List, ABC):
    """A list of codes from a known set, stored sorted and once each; the whole list is named in an
    error (never an index). Abstract: each kind of code says which codes it knows and its messages."""

    @abstractmethod
    def known(self) -> set[str]:
        """The codes this field accepts."""

    def clean(self, code: str) -> str:
        return code

    @abstractmethod
    def not_a_list(self) -> str:
        """The message for a value that is not a list of strings."""

    @abstractmethod
    def unknown(self, codes: str) -> str:
        """The message naming the unknown `codes` (joined with commas)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ValidationError(self.not_a_list())
        known = self.known()
        unknown = sorted({c for c in value if self.clean(c) not in known})
        if unknown:
            raise ValidationError(self.unknown(", ".join(unknown)))
        return sorted({self.clean(c) for c in value})


class SectorCodes(_Codes):
    def known(self):
        return set(sector_codes())

    def not_a_list(self):
        return gettext("Give a list of sector codes.")

    def unknown(self, codes):
        return gettext("Unknown sector code(s): %(codes)s.", codes=codes)


class CountryCodes(_Codes):
    def known(self):
        return set(country_codes())

    def clean(self, code):
        return code.upper()

    def not_a_list(self):
        return gettext("Give a list of country codes.")

    def unknown(self, codes):
        return gettext("Unknown country code(s): %(codes)s.", codes=codes)


class DemandNote(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > DEMAND_NOTE_MAX:
            raise ValidationError(gettext("At most %(n)d characters.", n=DEMAND_NOTE_MAX))
        return value.strip()


class DemandSchema(Schema):
    """An organisation's demand profile: what it looks for (sectors, countries, a note). The one set of
    rules for the demand page, `PATCH /api/v1/organisations/<id>/demand` and the organisation pages."""

    demand_sectors = SectorCodes(matching(SECTOR_CODE), metadata={"description": "codes of known sectors (GET /sectors)"})
    demand_countries = CountryCodes(one_of(country_codes()), metadata={"description": "ISO 3166-1 alpha-2 codes"})
    demand_note = DemandNote(metadata={"maxLength": DEMAND_NOTE_MAX})

    @pre_load
    def _none_is_empty(self, data, **kwargs):
        """A service caller's None means "none" (an empty list or note)."""
        if isinstance(data, dict):
            empty = {"demand_sectors": [], "demand_countries": [], "demand_note": ""}
            data = {k: (empty[k] if k in empty and v is None else v) for k, v in data.items()}
        return data
