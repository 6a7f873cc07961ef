"""The parks API: who may write which park, every figure's confirmation, every validation error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.parks.models import Incentive, Park, Plot, SiteNeeds
from tests.factories import make_organiser, make_presenter, make_project, make_user
from tests.parks.helpers import PLOT, age, make_city, make_park, make_plot

PARK = {"name": "Caofeidian Industrial Zone", "division": "130209", "kind": "port_area",
        "sectors": ["high_end_equipment", "new_materials"], "emissions_limit": "high"}


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Park, Plot, Incentive, SiteNeeds))


def test_a_city_bureau_adds_its_park_plot_and_incentive_each_confirmed_by_it(client, auth):
    city = make_city()
    headers = auth(city)

    park = client.post("/api/v1/parks", headers=headers, json={**PARK, "lang": "en"})
    plot = client.post(f"/api/v1/parks/{park.json['id']}/plots", headers=headers,
                       json={**PLOT, "area_mu": "150", "plot_ratio": 1.2, "gas": True, "rail_km": "12.5"})
    incentive = client.post(f"/api/v1/parks/{park.json['id']}/incentives", headers=headers,
                            json={"kind": "land_price", "rate": "30", "conditions": "Investment above CNY 100 million",
                                  "valid_until": "2027-12-31"})

    assert (park.status_code, plot.status_code, incentive.status_code) == (201, 201, 201)
    assert park.json["organisation_id"] == city.organisation_id
    assert park.json["name_i18n"] == {"en": "Caofeidian Industrial Zone", "zh": ""}
    assert park.json["confirmed_by"] == {"id": city.id, "name": city.name}
    assert (plot.json["area_mu"], plot.json["area_ha"], plot.json["plot_ratio"], plot.json["rail_km"]) == (
        "150.00", "10.00", "1.20", "12.5")
    assert plot.json["confirmed_by"]["id"] == city.id and plot.json["stale"] is False
    assert (incentive.json["rate"], incentive.json["amount"], incentive.json["valid_until"]) == ("30.00", None, "2027-12-31")
    whole = client.get(f"/api/v1/parks/{park.json['id']}").json  # public
    assert [p["name"] for p in whole["plots"]] == ["A-1"] and len(whole["incentives"]) == 1


def test_an_organiser_adds_a_park_for_a_named_organisation_only(client, auth):
    organiser = make_organiser()
    city = make_city()

    missing = client.post("/api/v1/parks", headers=auth(organiser), json=PARK)
    enterprise = make_user("attendee", organisation="Hebei Steel", kind="enterprise")
    wrong = client.post("/api/v1/parks", headers=auth(organiser), json={**PARK, "organisation_id": enterprise.organisation_id})
    made = client.post("/api/v1/parks", headers=auth(organiser), json={**PARK, "organisation_id": city.organisation_id})

    assert (missing.status_code, wrong.status_code, made.status_code) == (422, 422, 201)
    assert list(missing.json["error"]["details"]["fields"]) == ["organisation_id"]
    assert made.json["organisation_id"] == city.organisation_id
    assert made.json["confirmed_by"]["id"] == organiser.id


@pytest.mark.parametrize("who", ["enterprise", "presenter"])
def test_only_city_bureaus_parks_and_organisers_create_parks(client, auth, who):
    user = make_user("attendee", organisation="Hebei Steel", kind="enterprise") if who == "enterprise" else make_presenter()
    before = counts()

    response = client.post("/api/v1/parks", headers=auth(user), json=PARK)

    assert response.status_code == 403
    assert counts() == before


def test_another_city_cannot_change_a_park_its_plots_or_incentives(client, auth):
    owner = make_city()
    park = make_park(owner)
    plot = make_plot(owner, park)
    incentive = client.post(f"/api/v1/parks/{park.id}/incentives", headers=auth(owner),
                            json={"kind": "tax", "rate": "50"}).json
    other = make_city("Xingtai Commerce Bureau")
    before = counts()
    headers = auth(other)

    answers = [
        client.patch(f"/api/v1/parks/{park.id}", headers=headers, json={"name": "Taken"}).status_code,
        client.post(f"/api/v1/parks/{park.id}/plots", headers=headers, json=PLOT).status_code,
        client.patch(f"/api/v1/plots/{plot.id}", headers=headers, json={"status": "taken"}).status_code,
        client.post(f"/api/v1/parks/{park.id}/incentives", headers=headers, json={"kind": "tax", "rate": "1"}).status_code,
        client.patch(f"/api/v1/incentives/{incentive['id']}", headers=headers, json={"rate": "99"}).status_code,
    ]

    assert answers == [403] * 5
    assert counts() == before
    db.session.expire_all()
    assert (park.name_en, plot.status, db.session.get(Incentive, incentive["id"]).rate) == (
        "Ice and Snow Equipment Park", "available", 50)


def test_an_empty_patch_confirms_the_figures_again(client, auth):
    owner = make_city()
    park = make_park(owner)
    plot = make_plot(owner, park)
    age(plot, 400)
    colleague = make_city(owner.organisation.name)
    assert client.get(f"/api/v1/plots/{plot.id}").json["stale"] is True

    response = client.patch(f"/api/v1/plots/{plot.id}", headers=auth(colleague), json={})

    assert response.status_code == 200
    assert (response.json["stale"], response.json["confirmed_by"]["id"], response.json["area_mu"]) == (False, colleague.id, "100.00")


PARK_ERRORS = [
    ({"name": "", "name_i18n": {"zh": "", "en": ""}}, "name"),
    ({"name_i18n": {"fr": "Parc"}}, "name_i18n"),
    ({"division": "999999"}, "division"),
    ({"kind": "castle"}, "kind"),
    ({"sectors": ["bananas"]}, "sectors"),
    ({"emissions_limit": "extreme"}, "emissions_limit"),
    ({"area_km2": "-1"}, "area_km2"),
    ({"area_km2": "ten"}, "area_km2"),
    ({"companies": -3}, "companies"),
    ({"contact_email": "not an address"}, "contact_email"),
]


def test_each_bad_park_field_is_named_and_nothing_is_written(client, auth):
    city = make_city()
    headers = auth(city)
    park = make_park(city)
    before = counts()

    created = {field: client.post("/api/v1/parks", headers=headers, json={**PARK, **change}) for change, field in PARK_ERRORS}
    patched = {field: client.patch(f"/api/v1/parks/{park.id}", headers=headers, json=change) for change, field in PARK_ERRORS}

    for answers in (created, patched):
        assert {f: r.status_code for f, r in answers.items()} == {f: 422 for _c, f in PARK_ERRORS}
        assert {f: f in r.json["error"]["details"]["fields"] for f, r in answers.items()} == {f: True for _c, f in PARK_ERRORS}
    assert counts() == before
    db.session.expire_all()
    assert (park.name_en, park.division_code, park.kind) == ("Ice and Snow Equipment Park", "130700", "high_tech_zone")


def test_a_new_park_names_every_missing_field(client, auth):
    response = client.post("/api/v1/parks", headers=auth(make_city()), json={})

    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"name", "division", "kind"}


PLOT_ERRORS = [
    ({"name": ""}, "name"),
    ({"area_mu": "0"}, "area_mu"),
    ({"area_mu": "12.345"}, "area_mu"),
    ({"land_use": "farm"}, "land_use"),
    ({"price_per_mu": "-5"}, "price_per_mu"),
    ({"currency": "XXY"}, "currency"),
    ({"plot_ratio": "0"}, "plot_ratio"),
    ({"plot_ratio": "25"}, "plot_ratio"),
    ({"ready_on": "2027-02-30"}, "ready_on"),
    ({"ready_on": "3000-01-01"}, "ready_on"),
    ({"power_kva": -1}, "power_kva"),
    ({"water_tpd": 10_000_001}, "water_tpd"),
    ({"wastewater_tpd": -1}, "wastewater_tpd"),
    ({"rail_km": "1.25"}, "rail_km"),
    ({"port_km": "-2"}, "port_km"),
    ({"airport_km": "far"}, "airport_km"),
    ({"status": "sold"}, "status"),
]


def test_each_bad_plot_field_is_named_and_nothing_is_written(client, auth):
    city = make_city()
    headers = auth(city)
    park = make_park(city)
    plot = make_plot(city, park)
    before = counts()

    for change, field in PLOT_ERRORS:
        created = client.post(f"/api/v1/parks/{park.id}/plots", headers=headers, json={**PLOT, **change})
        patched = client.patch(f"/api/v1/plots/{plot.id}", headers=headers, json=change)
        for response in (created, patched):
            assert response.status_code == 422, (change, response.json)
            assert field in response.json["error"]["details"]["fields"], change

    assert counts() == before
    db.session.expire_all()
    assert (plot.name, plot.area_mu, plot.status) == ("A-1", 100, "available")


INCENTIVE_ERRORS = [
    ({"kind": "bribe", "rate": "5"}, "kind"),
    ({"kind": "tax"}, "amount"),
    ({"kind": "subsidy", "amount": "1000000"}, "currency"),
    ({"kind": "tax", "rate": "101"}, "rate"),
    ({"kind": "subsidy", "amount": "-1", "currency": "CNY"}, "amount"),
    ({"kind": "tax", "rate": "5", "valid_until": "soon"}, "valid_until"),
    ({"kind": "tax", "rate": "5", "conditions": "x" * 2001}, "conditions_en"),  # the author's language (English here)
]


def test_each_bad_incentive_is_named_and_nothing_is_written(client, auth):
    city = make_city()
    park = make_park(city)
    before = counts()

    for body, field in INCENTIVE_ERRORS:
        response = client.post(f"/api/v1/parks/{park.id}/incentives", headers=auth(city), json=body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["details"]["fields"], body

    assert counts() == before


def test_parks_are_listed_publicly_by_division_and_sector(client):
    city = make_city()
    make_park(city)
    make_park(city, name="Caofeidian", name_i18n=None, division="130209", sectors=["new_materials"])
    make_park(city, name="Langfang Development Zone", name_i18n=None, division="131000", sectors=[])

    def names(query):
        return [p["name"] for p in client.get(f"/api/v1/parks?lang=en{query}").json["items"]]

    assert names("&division=130200") == ["Caofeidian"]
    assert names("&division=130000") == ["Caofeidian", "Ice and Snow Equipment Park", "Langfang Development Zone"]
    assert names("&sector=ice_snow") == ["Ice and Snow Equipment Park", "Langfang Development Zone"]


# ---------------------------------------------------------------- site needs


NEEDS = {"land_mu": "80", "power_kva": 800, "water_tpd": 300, "emissions_class": "low", "jobs": 120,
         "budget": "20000000", "currency": "CNY", "divisions": ["130700"], "ready_by": "2027-06-30"}


def test_the_presenter_sets_site_needs_and_reads_them_back(client, auth):
    presenter = make_presenter()
    project = make_project(presenter)

    put = client.put(f"/api/v1/projects/{project.id}/site-needs", headers=auth(presenter), json=NEEDS)
    got = client.get(f"/api/v1/projects/{project.id}/site-needs", headers=auth(presenter))

    assert put.status_code == 200
    assert got.json | {"updated_at": None} == {
        "project_id": project.id, "land_mu": "80.00", "power_kva": 800, "water_tpd": 300, "emissions_class": "low",
        "jobs": 120, "budget": "20000000.00", "currency": "CNY", "divisions": ["130700"], "ready_by": "2027-06-30",
        "updated_at": None}


def test_site_needs_of_another_presenters_project_are_not_written(client, auth):
    project = make_project(make_presenter())
    before = counts()

    other = client.put(f"/api/v1/projects/{project.id}/site-needs", headers=auth(make_presenter()), json=NEEDS)
    attendee = client.put(f"/api/v1/projects/{project.id}/site-needs", headers=auth(make_city()), json=NEEDS)

    assert (other.status_code, attendee.status_code) == (404, 403)
    assert counts() == before


NEEDS_ERRORS = [
    ({"land_mu": "0"}, "land_mu"),
    ({"power_kva": -800}, "power_kva"),
    ({"emissions_class": "dirty"}, "emissions_class"),
    ({"jobs": -1}, "jobs"),
    ({"budget": "100", "currency": None}, "currency"),
    ({"divisions": ["130700", "000000"]}, "divisions"),
    ({"ready_by": "30/06/2027"}, "ready_by"),
]


def test_each_bad_site_need_is_named_and_nothing_is_written(client, auth):
    presenter = make_presenter()
    project = make_project(presenter)

    for change, field in NEEDS_ERRORS:
        response = client.put(f"/api/v1/projects/{project.id}/site-needs", headers=auth(presenter), json={**NEEDS, **change})
        assert response.status_code == 422, change
        assert field in response.json["error"]["details"]["fields"], change

    assert db.session.get(SiteNeeds, project.id) is None


# ---------------------------------------------------------------- weights


def test_organisers_change_weights_and_others_may_not(client, auth):
    organiser = make_organiser()

    changed = client.put("/api/v1/site-match-weights", headers=auth(organiser), json={"power": 40, "sector": 0})
    refused = client.put("/api/v1/site-match-weights", headers=auth(make_city()), json={"power": 1})
    bad = client.put("/api/v1/site-match-weights", headers=auth(organiser), json={"power": 101})

    assert changed.status_code == 200 and (changed.json["power"], changed.json["sector"], changed.json["land"]) == (40, 0, 20)
    assert (refused.status_code, bad.status_code) == (403, 422)
    assert client.get("/api/v1/site-match-weights", headers=auth(make_city())).json["power"] == 40


def test_weights_cannot_all_be_zero(client, auth):
    zeros = {c: 0 for c in ("land", "power", "water", "ready", "budget", "region", "emissions", "sector")}

    response = client.put("/api/v1/site-match-weights", headers=auth(make_organiser()), json=zeros)

    assert response.status_code == 422
