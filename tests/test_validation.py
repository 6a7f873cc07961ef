"""The shared validation helpers (app/validation.py) and the field bases built on them."""

from __future__ import annotations

import pytest
from marshmallow import fields

from app.leads.schemas import CountryCodes, SectorCodes, _Codes
from app.validation import CheckedField


def test_a_checked_field_without_its_check_cannot_be_made():
    class Unchecked(CheckedField, fields.String):
        pass

    with pytest.raises(TypeError):
        CheckedField()
    with pytest.raises(TypeError):
        Unchecked()


def test_a_checked_field_with_its_check_sees_every_given_value():
    class Upper(CheckedField, fields.String):
        def check(self, value):
            return (value or "").upper()

    assert Upper().deserialize("ab") == "AB"
    assert Upper().deserialize(None) == ""


def test_a_list_of_codes_must_say_what_it_knows_and_its_messages():
    class Silent(_Codes):
        def known(self):
            return {"a"}

    with pytest.raises(TypeError):
        Silent(fields.String())
    assert SectorCodes(fields.String()) is not None
    assert CountryCodes(fields.String()) is not None
