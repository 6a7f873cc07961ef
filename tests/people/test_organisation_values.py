"""An organisation's fields are checked by one schema (`OrganisationValuesSchema`) and its demand profile
by the demand profile's own (`DemandSchema`): the organisation API, the organisation page and the demand
API refuse the same input with the same message, and nothing is written."""

from __future__ import annotations

import pytest

from app.accounts.models import Organisation
from app.errors import ValidationFailed
from app.extensions import db
from app.leads import services as leads
from app.people.schemas import OrganisationValuesSchema
from app.schemas import load
from tests.conftest import csrf_from
from tests.people.helpers import organisation_count, refused_organisation
from tests.factories import make_organiser, make_user

UNKNOWN_SECTOR = "Unknown sector code(s): skiing."
UNKNOWN_COUNTRY = "Unknown country code(s): QQ."


def test_the_demand_rules_are_the_same_for_organisations_and_the_demand_profile(client, auth):
    organiser = make_organiser()
    before = organisation_count()
    body = {"name": "Baoding Park", "kind": "park", "country": "CN",
            "demand_sectors": ["skiing"], "demand_countries": ["de", "QQ"]}

    created = client.post("/api/v1/organisations", headers=auth(organiser), json=body)
    member = make_user("attendee", organisation="Langfang Bureau")
    demand = client.patch(f"/api/v1/organisations/{member.organisation_id}/demand", headers=auth(member),
                          json={"demand_sectors": ["skiing"], "demand_countries": ["de", "QQ"]})

    expected = {"demand_sectors": [UNKNOWN_SECTOR], "demand_countries": [UNKNOWN_COUNTRY]}
    assert created.status_code == 422 and created.json["error"]["details"]["fields"] == expected
    assert demand.status_code == 422 and demand.json["error"]["details"]["fields"] == expected
    assert organisation_count() == before + 1  # only the member's organisation


def test_an_organisations_demand_is_cleaned_as_the_demand_profile_cleans_it(client, auth):
    organiser = make_organiser()

    created = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Tangshan Bureau", "kind": "city_bureau", "country": "CN",
        "demand_countries": ["de", "BE", "DE"], "demand_note": "  rinks  "})

    assert created.status_code == 201, created.json
    org = db.session.get(Organisation, created.json["id"])
    assert (org.demand_countries, org.demand_note) == (["BE", "DE"], "rinks")
    leads.update_demand(organiser, org.id, {"demand_countries": ["de", "BE", "DE"], "demand_note": "  rinks  "})
    assert (org.demand_countries, org.demand_note) == (["BE", "DE"], "rinks")


def test_the_organisation_page_reports_the_schemas_errors_and_writes_nothing(login):
    organiser = make_organiser()
    client = login(organiser)
    before = organisation_count()
    token = csrf_from(client.get("/organisations/new").text)

    response = client.post("/organisations/new", data={
        "csrf_token": token, "name": "Baoding Park", "kind": "park", "country": "CN", "city": "",
        "demand_note": "x" * 1001})

    assert response.status_code == 422
    assert "At most 1000 characters." in response.text
    assert organisation_count() == before


def test_the_schema_names_every_bad_field_at_once_when_creating():
    with pytest.raises(ValidationFailed) as refused:
        load(OrganisationValuesSchema(), {"kind": "ministry", "demand_sectors": ["skiing"]})

    assert set(refused.value.fields) == {"name", "kind", "country", "demand_sectors"}
    assert refused.value.fields["name"] == ["A name is required."]


def test_the_schema_keeps_the_name_in_each_language_and_finds_the_division():
    values = load(OrganisationValuesSchema(), {"name": "石家庄市商务局 / Shijiazhuang Bureau of Commerce",
                                               "kind": "city_bureau", "country": "cn"})

    assert (values["name_zh"], values["name_en"], values["country"]) == (
        "石家庄市商务局", "Shijiazhuang Bureau of Commerce", "CN")
    assert values["division_code"] is not None and values["city"]


def test_a_city_that_names_no_place_comes_back_with_suggestions(client, auth):
    organiser = make_organiser()

    details = refused_organisation(client, auth(organiser), {
        "name": "Somewhere Bureau", "kind": "city_bureau", "country": "CN", "city": "Tangshann"})

    assert set(details["fields"]) == {"city"}
    assert "suggestions" in details
