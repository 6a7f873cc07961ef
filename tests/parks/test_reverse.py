"""The reverse view: a park's managers see the pitched projects (on a published fair's agenda, with
site needs) that fit its vacant plots, scored by the same matcher, with the park's best plot for each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.parks import matching, reverse, services as parks
from tests.factories import make_fair, make_pitch, make_session
from tests.parks.helpers import make_city, make_park, make_plot


@pytest.fixture
def fair(app):
    # The first five are pitched; the curling stones are not, the groomers only at a draft fair.
    pitch = make_pitch("Mobile ice-rink blanket", "Snow-making lances",
                       {"title": "Green steel mill", "sector": "new_materials"}, "Ski-resort gondolas",
                       "Ice hotel kits", "Curling stones", "Snow groomers", pitched=5, title="Ice pitch")
    organiser, agent, session = pitch["organiser"], pitch["agent"], pitch["session"]
    rink, lances, steel, huge, no_needs, unpitched, draft = pitch["projects"]
    make_session(make_fair(organiser, publish=False, title="Draft fair"), organiser, title="Draft pitch",
                 project_ids=[draft.id])
    for project, values in ((rink, {"land_mu": "100", "power_kva": 800}), (lances, {"power_kva": 1600}),
                            (steel, {"land_mu": "10"}), (huge, {"land_mu": "1000"}), (unpitched, {"land_mu": "10"}),
                            (draft, {"land_mu": "10"})):
        parks.put_site_needs(agent, project.id, values)
    city = make_city()
    park = make_park(city)
    small = make_plot(city, park, name="A-1 small", area_mu="60", power_kva=630)
    big = make_plot(city, park, name="A-2 big", area_mu="120", power_kva=2000)
    make_plot(city, park, name="A-3 taken", area_mu="5000", power_kva=9000, status="taken")
    return {"organiser": organiser, "agent": agent, "city": city, "park": park, "small": small, "big": big,
            "rink": rink, "lances": lances, "session": session}


def test_a_park_sees_the_pitched_projects_its_vacant_plots_fit_best_first(fair):
    answer = reverse.pitched_projects(fair["city"], fair["park"].id)
    # Steel: another sector (the park hosts ice and snow); gondolas: 1,000 mu, no plot within a quarter;
    # kits: no needs; curling stones and groomers: not pitched at a published fair.
    assert [(i["project"].title, i["plot"].name, i["score"]) for i in answer["items"]] == [
        ("Mobile ice-rink blanket", "A-2 big", 100.0),
        ("Snow-making lances", "A-2 big", 100.0),
    ]
    assert answer["pitched"] == 4  # the pitched projects with needs, fitting or not
    assert [s.title for s in answer["items"][0]["sessions"]] == ["Ice pitch"]


def test_each_project_gets_what_the_matcher_gives_it_for_this_park(fair):
    """The same plot, score, reasons and gaps as the project's own matches restricted to this park."""
    parks.update_plot(fair["city"], fair["big"].id, {"power_kva": 700})
    answer = reverse.pitched_projects(fair["city"], fair["park"].id)
    for item in answer["items"]:
        needs = matching.Needs.of(item["project"].sector, parks.get_site_needs(fair["agent"], item["project"].id))
        [own] = matching.site_matches(needs, limit=1, organisation_id=fair["city"].organisation_id)
        assert (item["plot"].id, item["score"], item["reasons"], item["gaps"]) == (
            own["plot"].id, own["score"], own["reasons"], own["gaps"])
    rink = next(i for i in answer["items"] if i["project"].id == fair["rink"].id)
    assert rink["gaps"] == ["Needs 800 kVA, plot has 700 kVA."]
    # 1,600 kVA: 700 is short of three quarters, and 630 too; the lances drop out.
    assert [i["project"].id for i in answer["items"]] == [fair["rink"].id]


def test_ties_go_to_the_cheaper_land_then_the_plot_entered_first(fair):
    # Every plot fits 50 mu fully (score 100); land at 200,000 a mu, except this one.
    cheap = make_plot(fair["city"], fair["park"], name="A-4 cheap", area_mu="120", power_kva=2000, price_per_mu="100000")
    needs = [("x", matching.Needs(sector="ice_snow", land_mu=Decimal(50)))]
    assert [(key, plot_id) for _score, key, plot_id, _fit in matching.rank_for_park(fair["park"].id, needs)] == [
        ("x", cheap.id)]
    parks.update_plot(fair["city"], cheap.id, {"price_per_mu": "200000"})
    assert matching.rank_for_park(fair["park"].id, needs)[0][2] == fair["small"].id  # equal cost: entered first


def test_rank_for_park_filters_as_the_database_does(fair):
    """`passes` and the database query read the same thresholds: a plot at exactly three quarters stays."""
    edge = make_plot(fair["city"], fair["park"], name="edge", area_mu="75", power_kva=600, water_tpd=None)
    for needs in (matching.Needs(sector="ice_snow", land_mu=Decimal(100), power_kva=800),
                  matching.Needs(sector="ice_snow", land_mu=Decimal("100.01")),
                  matching.Needs(sector="ice_snow", water_tpd=1),
                  matching.Needs(sector="ice_snow", ready_by=date(2026, 12, 1)),
                  matching.Needs(sector="ice_snow", power_kva=801)):
        by_database = {item["plot"].id for item in matching.site_matches(needs, limit=50, per_park=50)}
        least = matching._thresholds(needs, 0.25, 90)
        rows = [r for r in matching.db.session.execute(matching.select(*matching._COLUMNS)
                                                       .where(matching.Plot.status == "available"))]
        assert {r[0] for r in rows if matching.passes(r, least)} == by_database, needs
    assert edge.id in {i["plot"].id for i in matching.site_matches(
        matching.Needs(sector="ice_snow", land_mu=Decimal(100), power_kva=800), limit=50, per_park=50)}


def test_only_the_parks_managers_see_it(fair, app, auth, login_as):
    client = app.test_client()
    path = f"/api/v1/parks/{fair['park'].id}/pitched-projects"
    other = make_city(organisation="Tangshan Commerce Bureau", email="tangshan@example.org")
    for person, status in ((fair["city"], 200), (fair["organiser"], 200), (other, 403), (fair["agent"], 403)):
        assert client.get(path, headers=auth(person)).status_code == status
    assert client.get(path).status_code == 401
    body = client.get(path + "?limit=1", headers=auth(fair["city"])).json
    assert [(i["project"]["title"], i["plot"]["name"], i["score"]) for i in body["items"]] == [
        ("Mobile ice-rink blanket", "A-2 big", 100.0)]
    assert body["items"][0]["sessions"][0]["title"] == "Ice pitch" and body["pitched"] == 4
    assert client.get(path + "?limit=0", headers=auth(fair["city"])).status_code == 422
    # The page.
    browser = login_as(fair["city"])
    page = browser.get(f"/parks/{fair['park'].id}/projects", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "2 of 4 pitched projects with site needs fit this park." in page.text
    assert page.text.index("Mobile ice-rink blanket") < page.text.index("Snow-making lances")
    assert "Green steel mill" not in page.text
    assert login_as(other).get(f"/parks/{fair['park'].id}/projects").status_code == 403
