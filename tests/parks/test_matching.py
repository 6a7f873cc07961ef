"""The matcher on hand-made cases whose answers are worked out by hand: filters, weights, gaps, ties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.parks import matching, services
from tests.factories import make_organiser, make_presenter, make_project
from tests.parks.helpers import make_city, make_park, make_plot

ALL = ("land", "power", "water", "ready", "budget", "region", "emissions", "sector")


def only(**weights):
    """A weight table with every other criterion at 0."""
    return {c: weights.get(c, 0) for c in ALL}


def needs(**values):
    return matching.Needs(sector="ice_snow", **values)


def ranked_names(items):
    return [(item["plot"].name, item["score"]) for item in items]


def test_hard_filters_drop_plots_short_of_land_power_water_late_taken_or_of_another_sector(app):
    city = make_city()
    park = make_park(city)
    other_sector = make_park(city, name="Steel park", name_i18n=None, sectors=["new_materials"])
    make_plot(city, park, name="fits")
    make_plot(city, park, name="land short 30%", area_mu="70")
    make_plot(city, park, name="power short 40%", power_kva=600)
    make_plot(city, park, name="water unknown", water_tpd=None)
    make_plot(city, park, name="ready 120 days late", ready_on="2027-06-29")
    make_plot(city, park, name="taken", status="taken")
    make_plot(city, other_sector, name="other sector")

    items = matching.site_matches(needs(land_mu=Decimal(100), power_kva=1000, water_tpd=500, ready_by=date(2027, 3, 1)),
                                  limit=10, per_park=10)

    assert [item["plot"].name for item in items] == ["fits"]


def test_a_plot_within_the_shortfall_stays_with_an_honest_gap_line(app):
    city = make_city()
    park = make_park(city)
    make_plot(city, park, name="630 kVA", power_kva=630)

    [item] = matching.site_matches(needs(power_kva=800))

    assert item["gaps"] == ["Needs 800 kVA, plot has 630 kVA."]
    power = next(r for r in item["reasons"] if r["criterion"] == "power")
    assert (power["fit"], power["text"]) == (0.79, "Needs 800 kVA, plot has 630 kVA.")
    # 100 × (100 − 15 × (1 − 630/800)) / 100 − sector (5 × 1) full: 15 × 0.2125 = 3.1875 lost
    assert item["score"] == 96.8


def test_the_score_weighs_each_criterion(app):
    city = make_city()
    park = make_park(city)
    make_plot(city, park, name="cheap, late", price_per_mu="100000", ready_on="2027-04-30")  # 60 days late
    make_plot(city, park, name="dear, on time", price_per_mu="300000", ready_on="2027-01-01")
    wanted = needs(land_mu=Decimal(100), budget=Decimal("15000000"), currency="CNY", ready_by=date(2027, 3, 1))

    by_budget = matching.rank(wanted, limit=2, per_park=2, weight_table=only(budget=1, ready=1))
    by_ready = matching.rank(wanted, limit=2, per_park=2, weight_table=only(budget=1, ready=3))

    # cheap, late: budget 1, ready 1 − 60/90 = 1/3 → (1 + 1/3)/2 = 66.7; dear: budget 15/30 = 0.5, ready 1 → 75.0
    assert [(score, fits["budget"], round(fits["ready"], 3)) for score, _id, fits in by_budget] == [
        (75.0, 0.5, 1.0), (66.7, 1.0, 0.333)]
    # with ready ×3: cheap (1 + 3/3)/4 = 50.0; dear (0.5 + 3)/4 = 87.5
    assert [score for score, _id, _fits in by_ready] == [87.5, 50.0]


def test_weights_set_by_organisers_change_the_order(app):
    city = make_city()
    park = make_park(city)
    near = make_park(city, name="Zhangjiakou North", name_i18n=None, division="130703", emissions_limit="low")
    make_plot(city, park, name="big, outside the region", area_mu="200")
    make_plot(city, near, name="small, in the region", area_mu="80")
    wanted = needs(land_mu=Decimal(100), divisions=("130703",))

    before = ranked_names(matching.site_matches(wanted, limit=2))
    services.set_weights(make_organiser(), only(land=1, region=3))
    after = ranked_names(matching.site_matches(wanted, limit=2))

    # defaults: big loses region (10) → 90.0; small loses 20 × 0.2 land = 4 → 96.0, so small first already;
    assert before == [("small, in the region", 96.0), ("big, outside the region", 90.0)]
    # land 1, region 3: small (0.8 + 3)/4 = 95.0; big (1 + 0)/4 = 25.0
    assert after == [("small, in the region", 95.0), ("big, outside the region", 25.0)]
    services.set_weights(make_organiser(), only(land=1))
    assert ranked_names(matching.site_matches(wanted, limit=2)) == [
        ("big, outside the region", 100.0), ("small, in the region", 80.0)]


def test_equal_scores_go_to_cheaper_land_then_the_plot_entered_first(app):
    city = make_city()
    park = make_park(city)
    make_plot(city, park, name="first, dear", price_per_mu="300000")
    make_plot(city, park, name="second, cheap", price_per_mu="100000")
    make_plot(city, park, name="third, cheap", price_per_mu="100000")

    items = matching.site_matches(needs(land_mu=Decimal(100)), limit=3, per_park=3)

    assert ranked_names(items) == [("second, cheap", 100.0), ("third, cheap", 100.0), ("first, dear", 100.0)]


def test_one_plot_per_park_by_default(app):
    city = make_city()
    park = make_park(city)
    other = make_park(city, name="Caofeidian", name_i18n=None, division="130209")
    make_plot(city, park, name="best", area_mu="100")
    make_plot(city, park, name="second best", area_mu="90")
    make_plot(city, other, name="other park", area_mu="80")

    items = matching.site_matches(needs(land_mu=Decimal(100)), limit=3)

    assert [item["plot"].name for item in items] == ["best", "other park"]


def test_budget_gap_in_the_projects_currency_and_emissions_gap(app):
    from app.leads.services import set_rate

    set_rate(make_organiser(), "EUR", "8")
    city = make_city()
    park = make_park(city, emissions_limit="medium")
    make_plot(city, park, name="A", price_per_mu="200000")  # 100 mu × 200,000 CNY = 20,000,000 CNY = 2,500,000 EUR

    [item] = matching.site_matches(needs(land_mu=Decimal(100), budget=Decimal("2000000"), currency="EUR",
                                         emissions_class="high"))

    assert item["gaps"] == [
        "Land for 100 mu costs EUR 2,500,000.00, the budget is EUR 2,000,000.00.",
        "Project: High emissions; the park admits up to: Medium emissions.",
    ]
    budget = next(r for r in item["reasons"] if r["criterion"] == "budget")
    assert budget["fit"] == 0.8


def test_a_city_sees_only_its_own_plots_and_the_presenter_all(client, auth):
    presenter = make_presenter()
    project = make_project(presenter, sector="ice_snow")
    zhangjiakou, xingtai = make_city(), make_city("Xingtai Commerce Bureau")
    make_plot(zhangjiakou, make_park(zhangjiakou), name="Z-1")
    make_plot(xingtai, make_park(xingtai, name="Xingtai park", name_i18n=None, division="130500"), name="X-1")
    organiser = make_organiser()
    from tests.factories import make_fair, make_session
    from app.fairs import services as fairs

    session = make_session(make_fair(organiser), organiser, presenter_ids=[presenter.id])
    fairs.update_session(organiser, session, {"project_ids": [project.id]})
    client.put(f"/api/v1/projects/{project.id}/site-needs", headers=auth(presenter), json={"land_mu": "90"})

    def names(user):
        response = client.get(f"/api/v1/projects/{project.id}/site-matches?limit=5", headers=auth(user))
        return sorted(item["plot"]["name"] for item in response.json["items"])

    assert names(presenter) == ["X-1", "Z-1"]
    assert names(xingtai) == ["X-1"]
    assert names(zhangjiakou) == ["Z-1"]


def test_reasons_are_in_the_readers_language(client, auth):
    presenter = make_presenter(locale="zh")
    project = make_project(presenter, sector="ice_snow")
    city = make_city()
    make_plot(city, make_park(city), power_kva=630)
    client.put(f"/api/v1/projects/{project.id}/site-needs", headers=auth(presenter), json={"power_kva": 800})

    item = client.get(f"/api/v1/projects/{project.id}/site-matches", headers=auth(presenter)).json["items"][0]

    assert item["gaps"] == ["需要800千伏安，地块有630千伏安。"]
    assert item["park"]["name"] == "冰雪装备产业园"
