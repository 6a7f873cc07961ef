"""Managing parks in the browser: a city bureau edits its own parks, plots and incentives (bilingual
conditions), confirm buttons stamp confirmed-at and -by; organisers manage all; another
organisation gets nothing; bad input is named beside its field and nothing is written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.parks.models import Incentive, Park, Plot
from tests.conftest import csrf_from
from tests.factories import make_organiser, make_user
from tests.parks.helpers import age, make_city, make_city_plot, make_park, make_plot


def _post(client, url, data, page=None):
    token = csrf_from(client.get(page or url).text)
    return client.post(url, data={"csrf_token": token, **data})


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


PARK = {"name_zh": "冰雪装备产业园", "name_en": "Ice and Snow Equipment Park", "summary_zh": "", "summary_en": "Rinks.",
        "division": "130700", "kind": "high_tech_zone", "sectors": ["ice_snow"], "emissions_limit": "low",
        "area_km2": "12.5", "companies": "40", "contact_name": "Li Na", "contact_phone": "+86 313 1",
        "contact_email": "li@example.cn"}


def test_a_city_bureau_adds_its_park_a_plot_and_a_bilingual_incentive(login_as, client):
    city = make_city()
    browser = login_as(city)
    assert "Add a park" in browser.get("/parks/manage").text
    answer = _post(browser, "/parks/new", PARK)
    assert answer.status_code == 302
    park = db.session.scalars(select(Park)).one()
    assert (park.name_zh, park.name_en, park.organisation_id, park.sectors) == (
        "冰雪装备产业园", "Ice and Snow Equipment Park", city.organisation_id, ["ice_snow"])
    assert park.confirmed_by_id == city.id and str(park.area_km2) == "12.50" and park.companies == 40

    answer = _post(browser, f"/parks/{park.id}/plots/new", {
        "name": "A-1", "area_mu": "120", "land_use": "industrial", "status": "available", "price_per_mu": "210000",
        "currency": "cny", "plot_ratio": "1.5", "ready_on": "2027-05-01", "power_kva": "1250", "water_tpd": "400",
        "wastewater_tpd": "", "gas": "y", "rail_km": "3.5", "port_km": "", "airport_km": "40"})
    assert answer.status_code == 302
    plot = db.session.scalars(select(Plot)).one()
    assert (plot.power_kva, plot.currency, plot.gas, plot.wastewater_tpd, str(plot.rail_km)) == (1250, "CNY", True, None, "3.5")

    answer = _post(browser, f"/parks/{park.id}/incentives/new", {
        "kind": "land_price", "amount": "", "currency": "", "rate": "30", "valid_until": "2027-12-31",
        "conditions_zh": "投资1亿元以上的冰雪装备项目", "conditions_en": "Ice and snow equipment projects above CNY 100 million"})
    assert answer.status_code == 302
    incentive = db.session.scalars(select(Incentive)).one()
    assert incentive.conditions_zh == "投资1亿元以上的冰雪装备项目"
    assert incentive.conditions_en.startswith("Ice and snow")

    page = browser.get(f"/parks/{park.id}/edit").text
    assert "A-1" in page and "Ice and snow equipment projects" in page
    client.set_cookie("lang", "zh")
    public = client.get(f"/parks/{park.id}").text
    assert "投资1亿元以上的冰雪装备项目" in public and "Ice and snow equipment projects" not in public
    assert "Edit this park" not in public and "Edit this park" in browser.get(f"/parks/{park.id}").text


def test_confirm_buttons_stamp_when_and_who(login_as):
    city = make_city()
    colleague = make_city(organisation=city.organisation.name)
    park = make_park(city)
    plot = make_plot(city, park)
    incentive_id = _incentive(city, park)
    for record in (park, plot, db.session.get(Incentive, incentive_id)):
        age(record, 400)
    browser = login_as(colleague)
    page = browser.get(f"/parks/{park.id}/edit").text
    assert page.count("Stale: not confirmed recently") == 3
    for url in (f"/parks/{park.id}/confirm", f"/plots/{plot.id}/confirm", f"/incentives/{incentive_id}/confirm"):
        assert _post(browser, url, {}, page=f"/parks/{park.id}/edit").status_code == 302
    db.session.expire_all()
    for record in (db.session.get(Park, park.id), db.session.get(Plot, plot.id), db.session.get(Incentive, incentive_id)):
        assert record.confirmed_by_id == colleague.id
    assert "Stale: not confirmed recently" not in browser.get(f"/parks/{park.id}/edit").text
    # Without the CSRF token nothing is confirmed.
    age(db.session.get(Plot, plot.id), 400)
    assert browser.post(f"/plots/{plot.id}/confirm", data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Plot, plot.id).confirmed_at < db.session.get(Park, park.id).confirmed_at - timedelta(days=300)


def _incentive(owner, park) -> int:
    from app.parks import services

    return services.add_incentive(owner, park.id, {"kind": "rent", "rate": "100", "conditions": "Three years"}).id


def test_another_organisation_gets_nothing(login_as):
    city, park, plot = make_city_plot()
    incentive_id = _incentive(city, park)
    other = login_as(make_city(organisation="Tangshan Commerce Bureau"))
    assert "Ice and Snow" not in other.get("/parks/manage").text
    for url in (f"/parks/{park.id}/edit", f"/plots/{plot.id}/edit", f"/incentives/{incentive_id}/edit",
                f"/parks/{park.id}/plots/new", f"/parks/{park.id}/incentives/new"):
        assert other.get(url).status_code == 403, url
    token = csrf_from(other.get("/parks/manage").text)
    before = db.session.get(Plot, plot.id).confirmed_at
    assert other.post(f"/plots/{plot.id}/confirm", data={"csrf_token": token}).status_code == 403
    assert other.post(f"/plots/{plot.id}/edit", data={"csrf_token": token, "name": "Taken", "area_mu": "1",
                                                      "land_use": "industrial", "status": "taken"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Plot, plot.id).name == "A-1" and db.session.get(Plot, plot.id).confirmed_at == before
    # Enterprises and presenters do not manage parks at all.
    enterprise = login_as(make_user("attendee", organisation="Hebei Ice Gear Co.", kind="enterprise"))
    assert enterprise.get("/parks/manage").status_code == 403
    assert enterprise.get("/parks/new").status_code == 403
    assert login_as(make_user("presenter")).get("/parks/manage").status_code == 403


def test_organisers_manage_every_park_and_name_the_organisation(login_as):
    city = make_city()
    park = make_park(city)
    organiser = login_as(make_organiser())
    assert "Ice and Snow Equipment Park" in organiser.get("/parks/manage").text
    assert organiser.get(f"/parks/{park.id}/edit").status_code == 200
    answer = _post(organiser, "/parks/new", {**PARK, "name_en": "Caofeidian Port Park", "name_zh": "",
                                            "organisation_id": str(city.organisation_id)})
    assert answer.status_code == 302
    assert db.session.scalars(select(Park).where(Park.name_en == "Caofeidian Port Park")).one().organisation_id == city.organisation_id


def test_bad_input_is_named_beside_its_field_and_nothing_is_written(login_as):
    city = make_city()
    park = make_park(city)
    browser = login_as(city)
    answer = _post(browser, "/parks/new", {**PARK, "name_zh": "", "name_en": "", "division": "999999", "companies": "many"})
    assert answer.status_code == 422
    page = answer.text
    assert "Nothing was saved. Please correct the fields marked below." in page
    assert "Give the name in Chinese or in English (at least one)." in page
    assert "Give a division code of China (GB/T 2260), e.g. 130700." in page and "Give a whole number." in page
    assert _count(Park) == 1
    answer = _post(browser, f"/parks/{park.id}/plots/new", {"name": "B-1", "area_mu": "-5", "land_use": "industrial",
                                                            "status": "available", "ready_on": "soon", "currency": "XXQ"})
    assert answer.status_code == 422 and "Give a date as YYYY-MM-DD." in answer.text
    assert "Nothing was saved" in answer.text
    assert _count(Plot) == 0
    answer = _post(browser, f"/parks/{park.id}/incentives/new", {"kind": "subsidy", "amount": "", "rate": "",
                                                                 "conditions_zh": "x" * 2001})
    assert answer.status_code == 422 and "Nothing was saved" in answer.text
    assert _count(Incentive) == 0
