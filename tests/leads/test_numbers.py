"""The province's numbers on hand-made data with known answers: one counting rule for the summary,
the pipeline stats, the lists behind every number, the dashboard, CSV and the workbook."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.leads import queries
from app.leads.queries import numbers
from app.leads.models import ExchangeRate, Lead, LeadEvent
from app.reference.models import Division
from tests.factories import make_organiser, make_presenter, make_project, make_user

EUR, USD = Decimal("7.85"), Decimal("7.20")

DIVISIONS = [
    ("130000", "province", None, "河北省", "Hebei", "hebei"),
    ("130100", "prefecture", "130000", "石家庄市", "Shijiazhuang", "shijiazhuang"),
    ("130123", "county", "130100", "正定县", "Zhengding County", "zhengding"),
    ("130900", "prefecture", "130000", "沧州市", "Cangzhou", "cangzhou"),
    ("130700", "prefecture", "130000", "张家口市", "Zhangjiakou", "zhangjiakou"),
]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def book(app):
    """Three cities (one organisation in a county), four projects in three currencies, leads with
    hand-written histories. Every expected number below is worked out by hand from this."""
    for code, level, parent, zh, en, py in DIVISIONS:
        db.session.merge(Division(code=code, level=level, parent_code=parent, name_zh=zh, name_en=en, pinyin=py,
                                  aliases=[]))
    db.session.flush()
    organiser = make_organiser()
    agent = make_presenter(name="Michael Chen", timezone_name="America/Los_Angeles", country="US")
    sjz = make_user("attendee", name="Zhao Min", organisation="石家庄市商务局")
    zd = make_user("attendee", name="Sun Li", organisation="正定高新区")
    cz = make_user("attendee", name="Chen Tao", organisation="沧州市商务局")
    for user, code in ((sjz, "130100"), (zd, "130123"), (cz, "130900")):
        user.organisation.division_code = code
    ecmo = make_project(agent, title="Portable ECMO", sector="biomedicine_health", country="US",
                        investment_amount=Decimal("80000000"), currency="USD")
    membrane = make_project(agent, title="Membrane technology", sector="new_materials", country="DE",
                            investment_amount=Decimal("45000000"), currency="EUR")
    steel = make_project(agent, title="Green steel works", sector="high_end_equipment", country="CN",
                         investment_amount=Decimal("300000000"), currency="CNY")
    rink = make_project(agent, title="Ice-rink blanket", sector="ice_snow", country="CZ",
                        investment_amount=Decimal("12000000"), currency="EUR")
    db.session.add_all([ExchangeRate(currency="EUR", cny_per_unit=EUR), ExchangeRate(currency="USD", cny_per_unit=USD)])
    db.session.commit()

    def lead(user, project, made, history, amount=None, currency=None):
        """`history`: [(moment, to_stage)], oldest first, from partner_identified."""
        row = Lead(project_id=project.id, organisation_id=user.organisation_id, owner_id=user.id,
                   stage="partner_identified", created_at=_utc(made), stage_changed_at=_utc(made),
                   last_progress_at=_utc(made), expected_amount=amount, currency=currency)
        db.session.add(row)
        db.session.flush()
        db.session.add(LeadEvent(lead_id=row.id, user_id=user.id, from_stage=None, to_stage="partner_identified",
                                 source="interest", created_at=_utc(made)))
        for moment, stage in history:
            db.session.add(LeadEvent(lead_id=row.id, user_id=user.id, from_stage=row.stage, to_stage=stage,
                                     created_at=_utc(moment)))
            row.stage, row.stage_changed_at = stage, _utc(moment)
        db.session.commit()
        return row

    leads = {
        # The ECMO, pursued by two cities: Shijiazhuang signs it (USD 80 m) in February 2027 …
        "ecmo_sjz": lead(sjz, ecmo, "2027-01-10T10:00+08:00", [("2027-02-20T10:00+08:00", "signed")],
                         Decimal("80000000"), "USD"),
        # … Cangzhou still pursues it (no amount of its own: the project's counts, once).
        "ecmo_cz": lead(cz, ecmo, "2027-01-12T10:00+08:00", [("2027-03-01T10:00+08:00", "negotiating")]),
        # The membrane: Zhengding (a county of Shijiazhuang) signs in February, an organiser moves it back
        # in March, it is signed again in April: it counts once, in February, at EUR 40 m.
        "membrane_zd": lead(zd, membrane, "2027-01-20T10:00+08:00", [
            ("2027-02-03T10:00+08:00", "signed"), ("2027-03-05T10:00+08:00", "negotiating"),
            ("2027-04-07T10:00+08:00", "signed")], Decimal("40000000"), "EUR"),
        # … and Cangzhou wants it too, with an expected amount of its own (EUR 45 m).
        "membrane_cz": lead(cz, membrane, "2027-03-15T10:00+08:00", [], Decimal("45000000"), "EUR"),
        # A Chinese project signed at 00:30 on 1 March in Shanghai (16:30 UTC on 28 February): March.
        "steel_cz": lead(cz, steel, "2027-02-10T10:00+08:00", [("2027-02-28T16:30Z", "signed")],
                         Decimal("250000000"), "CNY"),
        # Made last year, dropped: it counts in last year's leads only.
        "rink_sjz": lead(sjz, rink, "2026-03-01T10:00+08:00", [("2026-05-01T10:00+08:00", "dropped")]),
    }
    return {"organiser": organiser, "sjz": sjz, "zd": zd, "cz": cz, "leads": leads,
            "ecmo": ecmo, "membrane": membrane, "steel": steel, "rink": rink}


Y2027 = numbers.Period("2027-01", "2027-12")

ECMO_CNY = Decimal("80000000") * USD
MEMBRANE_CNY = Decimal("40000000") * EUR
STEEL_CNY = Decimal("250000000")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def test_the_year_counts_projects_once_and_signings_from_history(book):
    result = numbers.summary(book["organiser"], Y2027)
    assert result["projects"] == 3  # ECMO, membrane, steel (the rink's lead was made in 2026)
    assert result["leads"] == 5
    assert result["signed"] == {
        "count": 3,
        "amount_cny": _money(ECMO_CNY + MEMBRANE_CNY + STEEL_CNY),
        "foreign_count": 2,
        "foreign_amount_usd": _money((ECMO_CNY + MEMBRANE_CNY) / USD),
    }
    # Open leads: Cangzhou's ECMO (the project's USD 80 m, once) and Cangzhou's membrane (its own EUR 45 m).
    assert result["pipeline_value_cny"] == _money(ECMO_CNY + Decimal("45000000") * EUR)
    assert result["missing_rates"] == []


def test_by_month_puts_a_signing_in_the_month_it_first_happened(book):
    months = {m["month"]: m for m in numbers.summary(book["organiser"], Y2027)["by_month"]}
    assert len(months) == 12
    assert {m: row["signed"]["count"] for m, row in months.items() if row["signed"]["count"]} == {
        "2027-02": 2, "2027-03": 1}
    assert months["2027-03"]["signed"]["amount_cny"] == _money(STEEL_CNY)  # the Shanghai-midnight boundary
    assert months["2027-04"]["signed"]["count"] == 0  # signed again: not counted twice
    assert {m: row["leads"] for m, row in months.items() if row["leads"]} == {"2027-01": 3, "2027-02": 1, "2027-03": 1}
    assert {m: row["projects"] for m, row in months.items() if row["projects"]} == {"2027-01": 2, "2027-02": 1}


def test_a_period_counts_only_what_happened_in_it(book):
    march_april = numbers.summary(book["organiser"], numbers.Period("2027-03", "2027-04"))
    assert (march_april["leads"], march_april["projects"], march_april["signed"]["count"]) == (1, 1, 1)
    assert march_april["signed"]["amount_cny"] == _money(STEEL_CNY)
    last_year = numbers.summary(book["organiser"], numbers.Period("2026-01", "2026-12"))
    assert (last_year["leads"], last_year["projects"], last_year["signed"]["count"]) == (1, 1, 0)
    assert last_year["pipeline_value_cny"] == "0.00"  # dropped


def test_by_city_rolls_counties_into_their_city_and_lists_the_home_cities(book, app):
    app.config["HOME_DIVISION"] = "130000"
    cities = {c["division"]: c for c in numbers.summary(book["organiser"], Y2027, locale="zh")["by_city"]}
    home = list(db.session.scalars(select(Division.code).where(Division.parent_code == "130000",
                                                               Division.level == "prefecture").order_by(Division.code)))
    assert list(cities) == home and {"130100", "130700", "130900"} <= set(home)  # every city, Zhangjiakou at zero
    assert cities["130100"]["name"] == "石家庄市"
    assert cities["130100"]["signed"]["count"] == 2  # Shijiazhuang itself and Zhengding county
    assert cities["130100"]["projects"] == 2  # ECMO and the membrane: first made in Shijiazhuang's leads
    assert cities["130900"]["projects"] == 1 and cities["130900"]["leads"] == 3
    assert cities["130700"]["leads"] == 0


@pytest.mark.parametrize("grouping", ["by_city", "by_month", "by_sector"])
def test_groups_add_up_to_the_totals(book, grouping):
    result = numbers.summary(book["organiser"], Y2027)
    rows = result[grouping]
    for figure in ("projects", "leads"):
        assert sum(r[figure] for r in rows) == result[figure], figure
    for figure in ("count", "foreign_count"):
        assert sum(r["signed"][figure] for r in rows) == result["signed"][figure], figure
    for figure in ("amount_cny", "foreign_amount_usd"):
        total = sum(Decimal(r["signed"][figure]) for r in rows)
        assert abs(total - Decimal(result["signed"][figure])) <= Decimal("0.01") * len(rows), figure
    assert sum(Decimal(r["pipeline_value_cny"]) for r in rows) == Decimal(result["pipeline_value_cny"])


@pytest.mark.parametrize("group_by", ["stage", "city", "sector", "country", "fair"])
def test_pipeline_stats_groups_add_up_and_count_a_project_amount_once(book, group_by):
    stats = queries.pipeline_stats(book["organiser"], group_by)
    assert sum(g["count"] for g in stats["groups"]) == stats["totals"]["count"] == 5
    assert sum(Decimal(g["investment_cny"]) for g in stats["groups"]) == Decimal(stats["totals"]["investment_cny"])
    # Signed at contracted amounts + Cangzhou's ECMO (project amount once) + Cangzhou's membrane (own amount).
    expected = ECMO_CNY + MEMBRANE_CNY + STEEL_CNY + ECMO_CNY + Decimal("45000000") * EUR
    assert Decimal(stats["totals"]["investment_cny"]) == expected.quantize(Decimal("0.01"))
    assert stats["totals"]["projects"] == 3 and stats["totals"]["foreign_projects"] == 2
    assert stats["totals"]["dropped"] == 1


def test_a_project_amount_is_never_counted_twice_in_the_pipeline(book):
    extra = make_user("attendee", name="Liu Yang", organisation="张家口市商务局")
    extra.organisation.division_code = "130700"
    db.session.add(Lead(project_id=book["ecmo"].id, organisation_id=extra.organisation_id, stage="follow_up",
                        created_at=_utc("2027-05-01T10:00+08:00"), stage_changed_at=_utc("2027-05-01T10:00+08:00"),
                        last_progress_at=_utc("2027-05-01T10:00+08:00")))
    db.session.commit()
    result = numbers.summary(book["organiser"], Y2027)
    # Two open ECMO leads without amounts of their own: the project's USD 80 m once.
    assert result["pipeline_value_cny"] == _money(ECMO_CNY + Decimal("45000000") * EUR)
    assert result["projects"] == 3 and result["leads"] == 6


def test_a_currency_without_a_rate_is_named_and_left_out(book):
    db.session.delete(db.session.get(ExchangeRate, "EUR"))
    db.session.commit()
    result = numbers.summary(book["organiser"], Y2027)
    assert result["missing_rates"] == ["EUR"]
    assert result["signed"]["amount_cny"] == _money(ECMO_CNY + STEEL_CNY)


def test_a_city_filter_takes_in_its_counties(book):
    result = numbers.summary(book["organiser"], Y2027, numbers.Scope(division="130100"))
    assert (result["leads"], result["signed"]["count"]) == (2, 2)
    county = numbers.summary(book["organiser"], Y2027, numbers.Scope(division="130123"))
    assert (county["leads"], county["signed"]["count"]) == (1, 1)


# ---------------------------------------------------------------- the API


def test_summary_api_and_the_rows_behind_each_number(client, auth, book):
    headers = auth(book["organiser"])
    body = client.get("/api/v1/stats/summary?from=2027-01&to=2027-12", headers=headers).get_json()
    assert body["period"] == {"from": "2027-01", "to": "2027-12"}
    assert body["signed"]["count"] == 3 and body["projects"] == 3

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/leads?{query}&per_page=100", headers=headers)
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.get_json()["items"]}

    leads = book["leads"]
    assert ids("from=2027-01&to=2027-12&counted=signed") == {leads[k].id for k in ("ecmo_sjz", "membrane_zd", "steel_cz")}
    assert ids("from=2027-01&to=2027-12&counted=signed&foreign=true") == {leads["ecmo_sjz"].id, leads["membrane_zd"].id}
    assert ids("from=2027-01&to=2027-12&counted=made") == {
        leads[k].id for k in ("ecmo_sjz", "ecmo_cz", "membrane_zd", "membrane_cz", "steel_cz")}
    assert ids("from=2027-01&to=2027-12&counted=open") == {leads["ecmo_cz"].id, leads["membrane_cz"].id}
    assert ids("from=2027-01&to=2027-12&counted=signed&city=130100") == {leads["ecmo_sjz"].id, leads["membrane_zd"].id}
    for row in body["by_month"]:
        assert len(ids(f"from={row['month']}&to={row['month']}&counted=signed")) == row["signed"]["count"]


@pytest.mark.parametrize("query, field", [
    ("from=2027-13", "from"), ("to=27-01", "to"), ("from=2027-05&to=2027-01", "to"),
    ("city=Shijiazhuang", "city"), ("from=1990-01&to=2027-01", "to"),
])
def test_summary_refuses_bad_periods_with_the_field_named(client, auth, book, query, field):
    response = client.get(f"/api/v1/stats/summary?{query}", headers=auth(book["organiser"]))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_only_organisers_see_the_province_numbers(client, auth, book):
    for who in ("sjz", "cz"):
        assert client.get("/api/v1/stats/summary", headers=auth(book[who])).status_code == 403
        assert client.get("/api/v1/reports/province.xlsx", headers=auth(book[who])).status_code == 403
    assert client.get("/api/v1/stats/summary").status_code == 401


def test_an_attendee_sees_only_own_rows_behind_a_number(client, auth, book):
    response = client.get("/api/v1/leads?from=2027-01&to=2027-12&counted=signed", headers=auth(book["cz"]))
    assert {row["id"] for row in response.get_json()["items"]} == {book["leads"]["steel_cz"].id}


# ---------------------------------------------------------------- exports


def test_the_workbook_has_the_summarys_numbers_as_numbers_in_chinese(client, auth, book):
    book["organiser"].locale = "zh"
    db.session.commit()
    headers = auth(book["organiser"])
    response = client.get("/api/v1/reports/province.xlsx?from=2027-01&to=2027-12", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    summary = client.get("/api/v1/stats/summary?from=2027-01&to=2027-12", headers=headers).get_json()
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["汇总", "按城市", "按月份", "按行业", "线索"]
    rows = {r[0]: r[1:] for r in workbook["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert rows["签约项目"][0] == 3
    assert rows["签约金额（元）"][0] == pytest.approx(float(summary["signed"]["amount_cny"]))
    assert rows["外资签约金额（美元）"][0] == pytest.approx(float(summary["signed"]["foreign_amount_usd"]))
    city = list(workbook["按城市"].iter_rows(values_only=True))
    assert city[0][:4] == ("城市", "项目", "线索", "签约项目")
    by_name = {r[0]: r for r in city[1:]}
    assert by_name["石家庄市"][3] == 2 and isinstance(by_name["石家庄市"][4], float | int)
    assert by_name["合计"][2] == summary["leads"]
    leads = list(workbook["线索"].iter_rows(values_only=True))
    assert len(leads) == 1 + 5
    assert "已签约" in {r[8] for r in leads[1:]}


def test_the_csv_reads_in_the_viewers_language(client, auth, book):
    book["organiser"].locale = "zh"
    db.session.commit()
    text = client.get("/api/v1/leads.csv?from=2027-01&to=2027-12&counted=signed",
                      headers=auth(book["organiser"])).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["线索编号", "项目", "行业", "来源国家/地区"]
    assert len(rows) == 4
    stages = {r[8] for r in rows[1:]}
    assert stages == {"已签约"}
    assert "biomedicine_health" not in text and "signed" not in text


# ---------------------------------------------------------------- the dashboard


def _login(app, user):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, user)
    return client


def test_the_dashboard_leads_with_signed_figures_and_each_opens_its_rows(app, book):
    client = _login(app, book["organiser"])
    html = client.get("/dashboard?period=range&from=2027-01&to=2027-12").text
    headline = html.split('class="headline"')[1].split("</p>")[0]
    assert 'data-signed-count="3"' in headline
    assert f'data-signed-cny="{_money(ECMO_CNY + MEMBRANE_CNY + STEEL_CNY)}"' in headline
    link = unescape(re.search(r'class="headline-signed" href="([^"]+)"', headline).group(1))
    board = client.get(link).text
    assert all(f'data-lead-id="{book["leads"][k].id}"' in board for k in ("ecmo_sjz", "membrane_zd", "steel_cz"))
    assert f'data-lead-id="{book["leads"]["ecmo_cz"].id}"' not in board
    # Last year's same months beside this year's.
    assert "2026-01 – 2026-12" in html
    figures = html.split('data-figure="leads"')[1].split("</tr>")[0]
    assert re.findall(r">(\d+)</a>", figures) == ["5", "1"]


def test_the_dashboard_refuses_a_backwards_range_with_a_message(app, book):
    client = _login(app, book["organiser"])
    response = client.get("/dashboard?period=range&from=2027-05&to=2027-01")
    assert response.status_code == 200
    assert "The period ends before it starts." in response.text


# ---------------------------------------------------------------- site proposals


def _proposal(lead, user, sent: str, *, opened: str | None = None, visited: str | None = None):
    from app.leads.models import LeadDocument, SiteProposal

    document = LeadDocument(lead_id=lead.id, kind="site_proposal", original_name="p.pdf", mime="application/pdf",
                            size=1, sha256="0" * 64, uploaded_by_id=user.id)
    db.session.add(document)
    db.session.flush()
    db.session.add(SiteProposal(lead_id=lead.id, document_id=document.id, plot_ids=[1], currency="USD", costs=[],
                                sent_by_id=user.id, sent_at=_utc(sent), opened_at=_utc(opened) if opened else None,
                                visited_on=date.fromisoformat(visited) if visited else None))
    db.session.commit()


@pytest.fixture
def proposed(book):
    """Five proposals: Shijiazhuang's on the ECMO (January; opened, visited), Zhengding's on the membrane
    sent at 00:30 on 1 February in Shanghai (16:30 UTC on 31 January: February; opened), two of
    Cangzhou's on its ECMO lead in March (the first never opened, the second opened and visited), and
    Shijiazhuang's on the rink in 2026 (last year)."""
    leads = book["leads"]
    _proposal(leads["ecmo_sjz"], book["sjz"], "2027-01-15T10:00+08:00", opened="2027-01-16T09:00+08:00",
              visited="2027-01-25")
    _proposal(leads["membrane_zd"], book["zd"], "2027-01-31T16:30Z", opened="2027-02-02T09:00+08:00")
    _proposal(leads["ecmo_cz"], book["cz"], "2027-03-01T10:00+08:00")
    _proposal(leads["ecmo_cz"], book["cz"], "2027-03-10T10:00+08:00", opened="2027-03-11T09:00+08:00",
              visited="2027-04-02")
    _proposal(leads["rink_sjz"], book["sjz"], "2026-04-01T10:00+08:00", opened="2026-04-02T10:00+08:00")
    return book


def test_proposals_sent_opened_and_leading_to_visits_count_in_the_period_they_were_sent(proposed):
    result = numbers.summary(proposed["organiser"], Y2027)

    assert result["proposals"] == {"sent": 4, "opened": 3, "site_visits": 2}
    cities = {row["division"]: row["proposals"] for row in result["by_city"]}
    assert cities["130100"] == {"sent": 2, "opened": 2, "site_visits": 1}  # Zhengding counts in Shijiazhuang
    assert cities["130900"] == {"sent": 2, "opened": 1, "site_visits": 1}
    assert cities["130700"] == {"sent": 0, "opened": 0, "site_visits": 0}
    months = {row["month"]: row["proposals"] for row in result["by_month"] if row["proposals"]["sent"]}
    assert months == {"2027-01": {"sent": 1, "opened": 1, "site_visits": 1},
                      "2027-02": {"sent": 1, "opened": 1, "site_visits": 0},
                      "2027-03": {"sent": 2, "opened": 1, "site_visits": 1}}
    sectors = {row["sector"]: row["proposals"] for row in result["by_sector"]}
    assert sectors["biomedicine_health"] == {"sent": 3, "opened": 2, "site_visits": 2}
    assert sectors["new_materials"] == {"sent": 1, "opened": 1, "site_visits": 0}
    assert numbers.summary(proposed["organiser"], Y2027.year_before())["proposals"] == {
        "sent": 1, "opened": 1, "site_visits": 0}


def test_proposal_figures_follow_the_city_and_period_filters(proposed, client, auth):
    cangzhou = client.get("/api/v1/stats/summary?from=2027-01&to=2027-12&city=130900", headers=auth(proposed["organiser"]))
    february = client.get("/api/v1/stats/summary?from=2027-02&to=2027-02", headers=auth(proposed["organiser"]))

    assert cangzhou.status_code == 200
    assert cangzhou.json["proposals"] == {"sent": 2, "opened": 1, "site_visits": 1}
    assert february.json["proposals"] == {"sent": 1, "opened": 1, "site_visits": 0}


def test_the_dashboard_shows_the_proposal_figures(proposed, login_as):
    page = login_as(proposed["organiser"]).get("/dashboard?from=2027-01&to=2027-12").get_data(as_text=True)
    row = re.search(r'<tr data-figure="proposals_sent">.*?</tr>', page, re.S).group(0)
    assert re.findall(r'<td class="num (?:now|before)">(\d+)</td>', row) == ["4", "1"]
    visits = re.search(r'<tr data-figure="proposals_visits">.*?</tr>', page, re.S).group(0)
    assert re.findall(r'<td class="num (?:now|before)">(\d+)</td>', visits) == ["2", "0"]


def test_the_workbook_carries_the_proposal_figures_in_chinese(client, auth, proposed):
    proposed["organiser"].locale = "zh"
    db.session.commit()
    response = client.get("/api/v1/reports/province.xlsx?from=2027-01&to=2027-12", headers=auth(proposed["organiser"]))
    workbook = load_workbook(io.BytesIO(response.data))

    rows = {r[0]: r[1:] for r in workbook["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert rows["发出的选址建议书"][:2] == (4, 1)
    assert rows["路演人已打开的选址建议书"][:2] == (3, 1)
    assert rows["促成实地考察的选址建议书"][:2] == (2, 0)
    assert any(str(line).startswith("选址建议书每份计一次") for line in rows)
    city = list(workbook["按城市"].iter_rows(values_only=True))
    assert city[0][-3:] == ("发出的选址建议书", "路演人已打开的选址建议书", "促成实地考察的选址建议书")
    by_name = {r[0]: r for r in city[1:]}
    assert by_name["沧州市"][-3:] == (2, 1, 1) and by_name["合计"][-3:] == (4, 3, 2)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="PostgreSQL sums the pipeline statistics in SQL (set TEST_DATABASE_URL)")
@pytest.mark.parametrize("group_by", ["stage", "city", "sector", "country", "fair"])
def test_postgresql_sums_the_pipeline_statistics_as_the_rule_counts_them_lead_by_lead(book, group_by):
    """PostgreSQL sums the statistics in SQL (`numbers.pipeline_sums`); on data that meets every branch of the rule
    (a project's open leads with and without amounts of their own, two made at the same moment, signed
    leads with and without one, dropped ones, a county, a province-level and an empty division, a project
    without a country, a currency without a rate, two fairs) it gives, group by group and currency, what
    the rule gives lead by lead (`_pipeline_shares`), and the same statistics."""
    from app.leads.queries import _pipeline_shares
    from tests.factories import make_fair

    organiser, agent = book["organiser"], make_presenter(name="Anna Virtanen", country="FI")
    fairs = [make_fair(organiser, title=f"Fair {n}") for n in range(2)]
    db.session.merge(Division(code="110000", level="province", parent_code=None, name_zh="北京市", name_en="Beijing",
                              pinyin="beijing", aliases=[]))
    people = []
    for n, code in enumerate(("130123", "110000", None, "130900", "130100")):
        person = make_user("attendee", name=f"Person {n}", organisation=f"Organisation {n}")
        person.organisation.division_code = code
        people.append(person)
    projects = [make_project(agent, title="Solar glass", sector="new_materials", country="",
                             investment_amount=Decimal("9000000.55"), currency="GBP"),  # no rate for GBP
                make_project(agent, title="Cold chain", sector="modern_logistics", country="CN",
                             investment_amount=Decimal("70000000"), currency="CNY"),
                make_project(agent, title="No amount", sector="ice_snow", country="FI")]
    db.session.commit()
    moment = _utc("2027-06-01T09:00+08:00")
    plan = [  # (person, project, stage, own amount, currency, fair)
        (0, 0, "follow_up", None, None, 0), (1, 0, "negotiating", None, None, 1),  # the same moment: the lower id carries
        (2, 1, "preliminary_intent", Decimal("1000000.10"), "CNY", 0), (3, 1, "follow_up", None, None, None),
        (4, 1, "signed", None, None, 0), (0, 2, "signed", Decimal("5.50"), "EUR", 1), (1, 2, "dropped", None, None, 0),
        (2, 2, "intent_reached", None, "USD", None), (3, 0, "operating", Decimal("300"), "GBP", 1),
    ]
    for person, project, stage, amount, currency, fair in plan:
        db.session.add(Lead(project_id=projects[project].id, organisation_id=people[person].organisation_id,
                            stage=stage, created_at=moment, stage_changed_at=moment, last_progress_at=moment,
                            expected_amount=amount, currency=currency,
                            fair_id=None if fair is None else fairs[fair].id))
    db.session.commit()

    for fair_id in (None, fairs[0].id, fairs[1].id):
        by_rule: dict = {}
        shares, totals = _pipeline_shares(group_by, fair_id)
        for key, cur, count, amount in shares:
            got = by_rule.setdefault((key, cur), [0, None])
            got[0] += count
            if amount is not None:
                got[1] = (got[1] or Decimal(0)) + amount
        sums, sum_totals = numbers.pipeline_sums(group_by, fair_id)
        assert {(key, cur): [count, amount] for key, cur, count, amount in sums} == by_rule, fair_id
        assert sum_totals == totals, fair_id
    assert queries.pipeline_stats(organiser, group_by)["missing_rates"] == ["GBP"]
