"""Exports for people rather than programs: the leads as CSV and the province's workbook (Excel),
with headers and values in the reader's language. The figures come from `numbers` (the one rule);
the API keeps the codes."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, gettext, lazy_gettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from ... import bilingual
from ...accounts.access import require_role
from ...accounts.enums import Role
from ...extensions import db
from ...reference.services import country_name, list_sectors
from ...spreadsheets import append_row, csv_writer
from . import LeadFilters, annotate, leads_query, numbers
from ..enums import stage_label
from ..models import Lead

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The lead list's columns: (key in the row, header).
LEAD_COLUMNS = [
    ("id", lazy_gettext("Lead no.")),
    ("project", lazy_gettext("Project")),
    ("sector_name", lazy_gettext("Sector")),
    ("country_name", lazy_gettext("Origin country")),
    ("foreign_text", lazy_gettext("Foreign-funded")),
    ("organisation", lazy_gettext("Organisation")),
    ("city", lazy_gettext("City")),
    ("owner", lazy_gettext("Responsible person")),
    ("stage_name", lazy_gettext("Stage")),
    ("amount", lazy_gettext("Amount (expected or contracted)")),
    ("currency", lazy_gettext("Currency")),
    ("project_amount", lazy_gettext("Project investment")),
    ("project_currency", lazy_gettext("Project currency")),
    ("made_on", lazy_gettext("Lead made on")),
    ("signed_on", lazy_gettext("Signed on")),
    ("next_action_on", lazy_gettext("Next action on")),
    ("stalled_text", lazy_gettext("Stalled")),
    ("contested_text", lazy_gettext("Contested")),
    ("last_progress_on", lazy_gettext("Last progress on")),
]


def _yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")


def _local_date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(current_app.config["HOST_TIMEZONE"])).date().isoformat()


def _decimal(value: str | None) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


def lead_export_rows(actor, leads: list[Lead], locale: str) -> list[dict]:
    """The lead rows as a reader sees them: names instead of codes, dates in the host's zone."""
    if not leads:
        return []
    sectors = {s.code: s.name(locale) for s in list_sectors()}
    first_signed = numbers.first_signed_subquery()
    signed_at = dict(db.session.execute(
        select(Lead.id, numbers.signed_at_column(first_signed)).outerjoin(first_signed, first_signed.c.lead_id == Lead.id)
        .where(Lead.id.in_([lead.id for lead in leads]))).all())
    by_id = {lead.id: lead for lead in leads}
    rows = []
    for row in annotate(actor, leads):
        lead = by_id[row["id"]]
        rows.append({
            **row,
            # Names in the reader's language, the other one marked in words where it is missing.
            "organisation": bilingual.plain(lead.organisation, "name", locale),
            "project": bilingual.plain(lead.project, "title", locale),
            "sector_name": sectors.get(row["sector"], row["sector"] or ""),
            "country_name": country_name(row["country"], locale) if row["country"] else "",
            "foreign_text": _yes_no((row["country"] or "CN") != "CN"),
            "stage_name": stage_label(row["stage"]),
            "amount": _decimal(row["expected_amount"]),
            "project_amount": _decimal(row["project_investment"]),
            "made_on": _local_date(lead.created_at),
            "signed_on": _local_date(signed_at.get(lead.id)),
            "stalled_text": _yes_no(row["stalled"]),
            "contested_text": _yes_no(row["contested"]),
            "last_progress_on": _local_date(lead.last_progress_at),
        })
    return rows


def leads_csv(actor, filters: LeadFilters, *, locale: str) -> str:
    """The same rows as the list, as CSV with a BOM (Excel reads the Chinese), in the reader's language."""
    leads = list(db.session.scalars(leads_query(actor, filters)).unique())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow([str(label) for _, label in LEAD_COLUMNS])
    for row in lead_export_rows(actor, leads, locale):
        writer.writerow(["" if row[key] is None else row[key] for key, _ in LEAD_COLUMNS])
    return out.getvalue()


# ---------------------------------------------------------------- the province's workbook

_MONEY = "#,##0.00"
_BOLD = Font(bold=True)


def _figure_columns(first_header) -> list[tuple[str, object]]:
    return [
        ("_label", first_header),
        ("projects", gettext("Projects")),
        ("leads", gettext("Leads")),
        ("signed_count", gettext("Signed projects")),
        ("signed_cny", gettext("Signed amount (CNY)")),
        ("foreign_count", gettext("Foreign-funded signed projects")),
        ("foreign_usd", gettext("Foreign-funded signed amount (USD)")),
        ("pipeline_cny", gettext("Pipeline value (CNY)")),
        ("proposals_sent", gettext("Site proposals sent")),
        ("proposals_opened", gettext("Site proposals opened by the presenter")),
        ("proposals_visits", gettext("Site proposals leading to a site visit")),
    ]


def _flat(figures: dict) -> dict:
    signed = figures["signed"]
    return {
        "projects": figures["projects"], "leads": figures["leads"], "signed_count": signed["count"],
        "signed_cny": _decimal(signed["amount_cny"]), "foreign_count": signed["foreign_count"],
        "foreign_usd": _decimal(signed["foreign_amount_usd"]), "pipeline_cny": _decimal(figures["pipeline_value_cny"]),
        "proposals_sent": figures["proposals"]["sent"], "proposals_opened": figures["proposals"]["opened"],
        "proposals_visits": figures["proposals"]["site_visits"],
    }


def _write_table(sheet, columns, rows: list[dict], total: dict | None = None) -> None:
    append_row(sheet, [str(header) for _, header in columns])
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows + ([total] if total else []):
        append_row(sheet, [row.get(key) for key, _ in columns])
        for key_cell, (key, _) in zip(sheet[sheet.max_row], columns):
            if key in ("signed_cny", "foreign_usd", "pipeline_cny", "amount", "project_amount"):
                key_cell.number_format = _MONEY
    if total:
        for cell in sheet[sheet.max_row]:
            cell.font = _BOLD
    sheet.freeze_panes = sheet.cell(row=sheet.max_row - len(rows) - (1 if total else 0) + 1, column=2)
    for index, (key, header) in enumerate(columns, start=1):
        width = max([len(str(header)) * (2 if any(ord(c) > 0x2E80 for c in str(header)) else 1)]
                    + [len(str(r.get(key) or "")) * 2 for r in rows[:200]] + [8])
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 50)


def province_workbook(actor, period: numbers.Period, scope: numbers.Scope, *, locale: str) -> bytes:
    """The province's figures for a period as an .xlsx: summary (with last year's same period), by city,
    by month, by sector, and the leads behind them; numbers as numbers."""
    require_role(actor, Role.ORGANISER)
    with force_locale(locale):
        return _build(actor, period, scope, locale)


def _build(actor, period: numbers.Period, scope: numbers.Scope, locale: str) -> bytes:
    now = numbers.summary(actor, period, scope, locale=locale)
    before = numbers.summary(actor, period.year_before(), scope, locale=locale)
    book = Workbook()

    sheet = book.active
    sheet.title = gettext("Overview")
    append_row(sheet, [gettext("CloudFair: the province's numbers")])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, [gettext("Period"), f"{period.first} – {period.last}"])
    if scope.division:
        append_row(sheet, [gettext("City"), now["by_city"][0]["name"] if len(now["by_city"]) == 1 else scope.division])
    append_row(sheet, [])
    append_row(sheet, [gettext("Figure"), f"{period.first} – {period.last}",
                  f"{period.year_before().first} – {period.year_before().last}"])
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
    this_flat, last_flat = _flat(now), _flat(before)
    for key, header in _figure_columns("")[1:]:
        append_row(sheet, [str(header), this_flat[key], last_flat[key]])
        if key in ("signed_cny", "foreign_usd", "pipeline_cny"):
            sheet.cell(row=sheet.max_row, column=2).number_format = _MONEY
            sheet.cell(row=sheet.max_row, column=3).number_format = _MONEY
    append_row(sheet, [])
    if now["missing_rates"]:
        append_row(sheet, [gettext("No exchange rate for %(currencies)s: those amounts are left out.",
                              currencies=", ".join(now["missing_rates"]))])
    for line in counting_rule_lines():
        append_row(sheet, [line])
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 22
    sheet.column_dimensions["C"].width = 22

    total = {"_label": gettext("Total"), **this_flat}
    for title, rows, header, label in (
        (gettext("By city"), now["by_city"], gettext("City"), lambda r: r["name"]),
        (gettext("By month"), now["by_month"], gettext("Month"), lambda r: r["month"]),
        (gettext("By sector"), now["by_sector"], gettext("Sector"), lambda r: r["name"]),
    ):
        table = book.create_sheet(title)
        _write_table(table, _figure_columns(header), [{"_label": label(r), **_flat(r)} for r in rows], total)

    leads_sheet = book.create_sheet(gettext("Leads"))
    ids = [f.lead_id for f in numbers.facts(period, scope)]
    leads = list(db.session.scalars(select(Lead).where(Lead.id.in_(ids)).order_by(Lead.created_at, Lead.id))) if ids else []
    _write_table(leads_sheet, [(k, h) for k, h in LEAD_COLUMNS], lead_export_rows(actor, leads, locale))

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counting_rule_lines() -> list[str]:
    """The counting rule in the reader's words (the README says the same)."""
    return [
        gettext("How it is counted:"),
        gettext("A project counts once however many organisations pursue it; a lead is a project and one "
                "organisation; groups carry a project on its first lead, so they add up to the total."),
        gettext("A signed project is a lead at “signed” or later; it counts in the month it first reached "
                "“signed”; the signed amount is the contracted amounts of those leads."),
        gettext("Foreign-funded: the project comes from outside China; its amount is also given in USD."),
        gettext("Pipeline value: open leads made in the period; a project's amount once, or the leads' own "
                "expected amounts, never both. Amounts in yuan at the dashboard's exchange rates."),
        gettext("Site proposals count once each, in the month they were sent; opened and leading to a site "
                "visit are those of them the presenter has opened, or whose visit is recorded, by now."),
    ]
