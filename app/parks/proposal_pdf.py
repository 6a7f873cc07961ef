"""A site proposal as a bilingual PDF (fpdf2, one CJK font for both languages).

Every label is written in Chinese then English ("面积 Area"); values in both languages where they
are words (land use, a park's name), numbers once. Figures are those of the day it is written.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from flask_babel import force_locale

from .. import bilingual
from ..projects import storage
from .enums import IncentiveKind, LandUse, PlotStatus
from .models import Plot

#: Labels: (Chinese, English).
L = {
    "title": ("选址建议书", "Site proposal"),
    "project": ("项目", "Project"),
    "to": ("致", "To"),
    "from": ("发自", "From"),
    "date": ("日期", "Date"),
    "currency": ("投资方币种", "Investor's currency"),
    "note": ("说明", "Note"),
    "plot": ("地块", "Plot"),
    "park": ("园区", "Park"),
    "area": ("面积", "Area"),
    "land_use": ("用地性质", "Land use"),
    "price": ("地价（每亩）", "Price per mu"),
    "plot_ratio": ("容积率", "Plot ratio"),
    "ready": ("交付日期", "Ready on"),
    "power": ("供电", "Power"),
    "water": ("供水", "Water"),
    "gas": ("天然气", "Gas"),
    "wastewater": ("污水处理", "Wastewater"),
    "distances": ("距离（铁路/港口/机场）", "Distance (rail/port/airport)"),
    "status": ("状态", "Status"),
    "confirmed": ("数据核实于", "Figures confirmed on"),
    "plan": ("规划图节选", "Plan excerpt"),
    "incentives": ("优惠政策", "Incentives"),
    "counted": ("计入首年成本", "counted in the first year"),
    "not_counted": ("不计入（取决于企业情况）", "not counted (depends on the company)"),
    "until": ("有效期至", "valid until"),
    "costs": ("费用", "Costs"),
    "land_cost": ("土地费用", "Land cost"),
    "reduction": ("减免", "Reduction"),
    "net_cny": ("首年净成本（人民币）", "Net first-year cost (CNY)"),
    "net": ("首年净成本", "Net first-year cost"),
    "rate": ("汇率", "Rate"),
    "unknown": ("无法计算", "cannot be given"),
    "no_price": ("未标地价", "no land price"),
    "no_rate": ("缺少汇率", "no exchange rate for"),
    "contacts": ("联系方式", "Contacts"),
    "sender": ("建议人", "Proposed by"),
    "yes": ("有", "yes"),
    "no": ("无", "no"),
    "rule": ("首年净成本 = 土地费用 − 地价减免 − 投资补贴（不低于零），按看板汇率折算。",
             "Net first-year cost = land cost − land-price reductions − investment subsidies (never below zero), "
             "at the dashboard's exchange rates."),
}


def both(key: str) -> str:
    zh, en = L[key]
    return f"{zh} {en}"


def money(value: Decimal | None, currency: str) -> str:
    return "—" if value is None else f"{currency} {value:,.2f}"


def number(value) -> str:
    return "—" if value is None else f"{value:,}"


def label_both(enum, code: str | None) -> str:
    if not code:
        return "—"
    try:
        lazy = enum(code).label
    except ValueError:
        return code
    out = []
    for lang in ("zh", "en"):
        with force_locale(lang):
            out.append(str(lazy))
    return " / ".join(dict.fromkeys(out))


def text_both(obj, field: str) -> str:
    pair = bilingual.pair(obj, field)
    return " / ".join(dict.fromkeys(t for t in (pair["zh"], pair["en"]) if t)) or "—"


def plan_excerpt(plot: Plot) -> bytes | None:
    """The part of the park's plan around the plot, the outline drawn in red (PNG), or None."""
    park = plot.park
    if not (park.plan_sha256 and plot.outline):
        return None
    from PIL import Image, ImageDraw

    try:
        path = storage.path_for(park.plan_sha256)
        with Image.open(path) as image:
            image = image.convert("RGB")
            xs = [p[0] for p in plot.outline]
            ys = [p[1] for p in plot.outline]
            margin = max(20, int(max(max(xs) - min(xs), max(ys) - min(ys)) * 0.5))
            box = (max(0, int(min(xs)) - margin), max(0, int(min(ys)) - margin),
                   min(image.width, int(max(xs)) + margin), min(image.height, int(max(ys)) + margin))
            draw = ImageDraw.Draw(image)
            draw.line([tuple(p) for p in plot.outline] + [tuple(plot.outline[0])], fill=(220, 0, 0),
                      width=max(2, (box[2] - box[0]) // 150))
            crop = image.crop(box)
            crop.thumbnail((1200, 1200))
            out = io.BytesIO()
            crop.save(out, format="PNG")
            return out.getvalue()
    except (OSError, ValueError):
        return None


def render(*, lead, plots, costs, currency: str, table: dict, note: str, sender, when: datetime, font: Path,
           font_index: int = 0) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", "", str(font), collection_font_number=font_index)
    project_title = text_both(lead.project, "title")
    pdf.set_title(f"{L['title'][0]} {L['title'][1]}: {project_title}")
    pdf.set_creator("CloudFair")
    pdf.add_page()
    width = pdf.epw

    def heading(value: str, size: int = 14) -> None:
        pdf.set_font("cjk", "", size)
        pdf.set_text_color(21, 94, 117)
        pdf.multi_cell(width, size * 0.55, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(20, 20, 20)
        pdf.ln(1)

    def row(key: str, value: str) -> None:
        pdf.set_font("cjk", "", 9)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(62, 5.5, both(key), new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(20, 20, 20)
        pdf.set_font("cjk", "", 10)
        pdf.multi_cell(width - 62, 5.5, value, new_x="LMARGIN", new_y="NEXT")

    heading(both("title"), 20)
    row("project", project_title)
    presenter = lead.project.owner
    row("to", f"{presenter.name}" if presenter else "—")
    row("from", f"{text_both(lead.organisation, 'name')} · {sender.name}")
    row("date", when.strftime("%Y-%m-%d"))
    row("currency", currency)
    if note:
        row("note", note)
    pdf.ln(3)

    for n, (plot, cost) in enumerate(zip(plots, costs), start=1):
        if n > 1:
            pdf.add_page()
        park = plot.park
        heading(f"{L['plot'][0]} {n} {L['plot'][1]} {n}: {plot.name}")
        row("park", text_both(park, "name"))
        row("area", f"{plot.area_mu:,.2f} 亩 mu ({plot.area_ha:,.2f} 公顷 ha)")
        row("land_use", label_both(LandUse, plot.land_use))
        row("price", money(plot.price_per_mu, plot.currency))
        row("plot_ratio", "—" if plot.plot_ratio is None else f"{plot.plot_ratio}")
        row("ready", plot.ready_on.isoformat() if plot.ready_on else "—")
        row("power", "—" if plot.power_kva is None else f"{plot.power_kva:,} kVA")
        row("water", "—" if plot.water_tpd is None else f"{plot.water_tpd:,} 吨/日 t/day")
        row("gas", both("yes") if plot.gas else both("no"))
        row("wastewater", "—" if plot.wastewater_tpd is None else f"{plot.wastewater_tpd:,} 吨/日 t/day")
        row("distances", " / ".join("—" if v is None else f"{v} km" for v in (plot.rail_km, plot.port_km, plot.airport_km)))
        row("status", label_both(PlotStatus, plot.status))
        row("confirmed", plot.confirmed_at.strftime("%Y-%m-%d"))

        image = plan_excerpt(plot)
        if image is not None:
            pdf.ln(2)
            heading(both("plan"), 11)
            pdf.image(io.BytesIO(image), w=min(width, 120))
        pdf.ln(2)

        heading(both("incentives"), 11)
        counted = {id(r.incentive) for r in cost.reductions}
        incentives = [r.incentive for r in cost.reductions] + cost.listed
        if not incentives:
            row("incentives", "—")
        for incentive in incentives:
            figure = []
            if incentive.rate is not None:
                figure.append(f"{incentive.rate}%")
            if incentive.amount is not None:
                figure.append(money(incentive.amount, incentive.currency or "CNY"))
            if incentive.valid_until:
                figure.append(f"{L['until'][0]} {L['until'][1]} {incentive.valid_until.isoformat()}")
            conditions = text_both(incentive, "conditions")
            how = both("counted") if id(incentive) in counted else both("not_counted")
            pdf.set_font("cjk", "", 10)
            pdf.multi_cell(width, 5.5, f"• {label_both(IncentiveKind, incentive.kind)}: "
                                       f"{', '.join(figure) or '—'} ({how})"
                                       + ("" if conditions == "—" else f"\n   {conditions}"),
                           new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

        heading(both("costs"), 11)
        if plot.price_per_mu is None:
            row("land_cost", f"{both('unknown')} ({both('no_price')})")
        else:
            row("land_cost", f"{plot.area_mu:,.2f} × {plot.price_per_mu:,.2f} = {money(cost.land, plot.currency)}")
        for reduction in cost.reductions:
            kind = label_both(IncentiveKind, reduction.incentive.kind)
            row("reduction", f"− {money(reduction.amount, reduction.currency)} ({kind})")
        missing_rates = [c for c in cost.missing if c != "price"]
        why = f" ({both('no_rate')} {', '.join(missing_rates)})" if missing_rates else ""
        row("net_cny", money(cost.net_cny, "CNY") if cost.net_cny is not None else both("unknown") + why)
        if currency != "CNY":
            rate = table.get(currency)
            row("net", f"{money(cost.net, currency)}" + (f" ({L['rate'][0]} {L['rate'][1]} 1 {currency} = {rate} CNY)"
                                                          if rate is not None and cost.net is not None else "")
                if cost.net is not None else both("unknown") + why)
        pdf.set_font("cjk", "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(width, 4.5, f"{L['rule'][0]}\n{L['rule'][1]}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(20, 20, 20)
        pdf.ln(2)

        heading(both("contacts"), 11)
        contact = " · ".join(v for v in (park.contact_name, park.contact_phone, park.contact_email) if v) or "—"
        row("park", contact)
        row("sender", " · ".join(v for v in (sender.name, sender.email) if v))
    return bytes(pdf.output())
