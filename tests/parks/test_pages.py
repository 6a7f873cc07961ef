"""Public park pages in both languages: plots, incentives, confirmations and stale figures."""

from __future__ import annotations

from tests.parks.helpers import age, make_city, make_park, make_plot
from app.parks import services


def test_the_park_page_shows_plots_incentives_and_stale_figures_in_english(client):
    city = make_city()
    park = make_park(city)
    fresh = make_plot(city, park, name="A-1", power_kva=630)
    stale = make_plot(city, park, name="A-2", status="reserved")
    age(stale, 400)
    services.add_incentive(city, park.id, {"kind": "land_price", "rate": "30", "valid_until": "2027-12-31"})

    page = client.get(f"/parks/{park.id}", headers={"Accept-Language": "en"}).text

    assert "Ice and Snow Equipment Park" in page
    assert "Power: 630 kVA" in page and "100 mu (6.67 ha)" in page
    assert "Land price reduction" in page and "30%" in page
    assert f"by {city.name}" in page
    assert page.count("Stale: not confirmed recently") == 1
    assert page.index("Stale: not confirmed recently") > page.index(f'id="plot-{stale.id}"') > page.index(f'id="plot-{fresh.id}"')


def test_the_park_pages_in_chinese(client):
    city = make_city()
    park = make_park(city)
    make_plot(city, park, power_kva=630)
    client.set_cookie("lang", "zh")

    listing = client.get("/parks").text
    page = client.get(f"/parks/{park.id}").text

    assert "冰雪装备产业园" in listing and "可用地块：1块（共1块）" in listing
    assert "供电：630千伏安" in page and "100亩（6.67公顷）" in page and "高新技术产业开发区" in page
