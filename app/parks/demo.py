"""Demo parks from the seed brief: Zhangjiakou high-tech zone's ice and snow equipment park,
Caofeidian, Xingtai, Langfang, Zhengding; plots, incentives and the pitched projects' site needs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from ..extensions import db
from ..types import utcnow
from .models import Incentive, Park, Plot, SiteNeeds

#: (manager e-mail, en, zh, division, kind, sectors, emissions limit, km², companies, summary en, summary zh)
PARKS = [
    ("zjk-park@cloudfair.example", "Zhangjiakou High-tech Zone Ice and Snow Equipment Park", "张家口高新区冰雪装备产业园",
     "130702", "high_tech_zone", ["ice_snow", "high_end_equipment"], "medium", "6.8", 46,
     "Ice and snow equipment makers beside the 2022 Winter Olympics venues: rinks, snow-making, ski lifts.",
     "紧邻2022年冬奥会场馆的冰雪装备产业集聚区：冰场、造雪、索道等装备制造。"),
    ("cfd@cloudfair.example", "Caofeidian Industrial Zone", "曹妃甸工业区",
     "130209", "port_area", ["high_end_equipment", "new_materials", "modern_logistics", "energy_saving_environment"],
     "high", "310", 420,
     "A deep-water port zone on the Bohai Sea for heavy equipment, new materials and logistics.",
     "渤海湾深水港区，承接重型装备、新材料和现代物流项目。"),
    ("xt@cloudfair.example", "Xingtai Economic Development Zone", "邢台经济开发区",
     "130503", "economic_development_zone", ["new_materials", "high_end_equipment", "energy_saving_environment"],
     "medium", "120", 380,
     "New-energy equipment and new materials on the Beijing–Guangzhou corridor.",
     "位于京广通道上，以新能源装备和新材料为主导。"),
    ("lf@cloudfair.example", "Langfang Economic and Technological Development Zone", "廊坊经济技术开发区",
     "131003", "economic_development_zone", ["information_intelligence", "biomedicine_health", "modern_logistics"],
     "low", "67", 520,
     "Between Beijing and Tianjin: information technology, life sciences and logistics, 30 minutes from Daxing airport.",
     "地处京津之间，主导电子信息、生命健康和物流，距大兴机场30分钟。"),
    ("zd@cloudfair.example", "Zhengding High-tech Zone", "正定高新区",
     "130123", "high_tech_zone", ["biomedicine_health", "information_intelligence"], "low", "35", 160,
     "Biomedicine and digital industries next to Shijiazhuang airport.",
     "毗邻石家庄机场，发展生物医药和数字产业。"),
]

#: park index → (name, mu, land use, price per mu CNY, ratio, ready in days, kVA, water t/d, gas, wastewater t/d,
#: rail km, port km, airport km, status, confirmed days ago)
PLOTS = {
    0: [("ZJK-A01", "85", "industrial", "192000", "1.2", -30, 1250, 400, True, 300, "8", "260", "25", "available", 20),
        ("ZJK-A02", "60", "industrial", "192000", "1.2", 120, 630, 200, True, 150, "8", "260", "25", "available", 200),
        ("ZJK-B01", "140", "industrial", "185000", "1.0", 300, 2000, 800, True, 600, "9", "262", "27", "reserved", 30)],
    1: [("CFD-3-07", "300", "industrial", "150000", "1.0", 60, 5000, 3000, True, 2500, "3", "5", "90", "available", 10),
        ("CFD-3-08", "120", "logistics", "135000", "0.8", 0, 1600, 600, False, 400, "2", "3", "92", "available", 45),
        ("CFD-1-02", "500", "industrial", "150000", "1.0", -400, 10000, 6000, True, 5000, "4", "6", "95", "taken", 60)],
    2: [("XT-E12", "110", "industrial", "168000", "1.5", 90, 1600, 700, True, 500, "6", "380", "45", "available", 15),
        ("XT-E15", "45", "industrial", "168000", "1.5", 30, 800, 300, True, 200, "6", "380", "45", "available", 15)],
    3: [("LF-K05", "70", "research", "480000", "2.0", 45, 1000, 300, True, 200, "12", "160", "30", "available", 25),
        ("LF-L02", "150", "logistics", "360000", "1.0", 150, 800, 200, False, 100, "5", "150", "35", "available", 25)],
    4: [("ZD-M03", "50", "research", "420000", "2.0", 60, 800, 250, True, 200, "15", "300", "6", "available", 40)],
}

#: park index → (kind, amount, currency, rate, conditions (en, zh; the plain column keeps the Chinese, as a Hebei park writes it), valid for days, confirmed days ago)
INCENTIVES = {
    0: [("land_price", None, None, "30", ("Ice and snow equipment projects above CNY 100 million", "投资1亿元以上的冰雪装备项目"), 365, 20),
        ("rent", None, None, None, ("Three years rent-free in the standard factory buildings", "标准厂房三年免租"), 365, 200)],
    1: [("subsidy", "5000000", "CNY", None, ("Port-related projects starting within a year of signing", "签约一年内开工的临港项目"), 540, 10)],
    2: [("tax", None, None, "50", ("Local share of enterprise income tax, first three years", "前三年企业所得税地方留成部分"), 730, 15)],
    3: [("talent", "300000", "CNY", None, ("Per recruited senior engineer, up to ten", "每引进一名高级工程师，最多十名"), 365, 25)],
    4: [("land_price", None, None, "20", ("Biomedicine manufacturing", "生物医药制造项目"), 365, 40)],
}

#: project title → site needs
NEEDS = {
    "Mobile ice-rink blanket": dict(land_mu=Decimal(60), power_kva=800, water_tpd=150, emissions_class="low", jobs=120,
                                    budget=Decimal("2000000"), currency="EUR", divisions=["130700"], ready_in=180),
    "Wastewater-treatment membrane technology": dict(land_mu=Decimal(100), power_kva=1500, water_tpd=600,
                                                     emissions_class="medium", jobs=200, budget=Decimal("3000000"),
                                                     currency="EUR", divisions=["130000"], ready_in=240),
    "Portable ECMO device": dict(land_mu=Decimal(50), power_kva=800, water_tpd=200, emissions_class="low", jobs=150,
                                 budget=Decimal("4000000"), currency="USD", divisions=["130100", "131000"], ready_in=200),
}


def seed_parks(users: dict, projects: dict, today: date) -> None:
    """Parks, plots, incentives and needs; some figures left unconfirmed long enough to show as stale."""
    now = utcnow()
    for index, (email, en, zh, division, kind, sectors, limit, km2, companies, summary_en, summary_zh) in enumerate(PARKS):
        manager = users[email]
        park = Park(organisation_id=manager.organisation_id, name=zh, name_zh=zh, name_en=en, summary=summary_zh,
                    summary_zh=summary_zh, summary_en=summary_en, division_code=division, kind=kind, sectors=sectors,
                    emissions_limit=limit, area_km2=Decimal(km2), companies=companies, contact_name=manager.name,
                    contact_phone="+86 311 8000 %04d" % (index + 1), contact_email=manager.email,
                    confirmed_at=now - timedelta(days=20), confirmed_by_id=manager.id)
        db.session.add(park)
        db.session.flush()
        for (name, mu, use, price, ratio, ready, kva, water, gas, waste, rail, port, airport, status, ago) in PLOTS[index]:
            db.session.add(Plot(park_id=park.id, name=name, area_mu=Decimal(mu), land_use=use, price_per_mu=Decimal(price),
                                currency="CNY", plot_ratio=Decimal(ratio), ready_on=today + timedelta(days=ready),
                                power_kva=kva, water_tpd=water, gas=gas, wastewater_tpd=waste, rail_km=Decimal(rail),
                                port_km=Decimal(port), airport_km=Decimal(airport), status=status,
                                confirmed_at=now - timedelta(days=ago), confirmed_by_id=manager.id))
        for kind_, amount, currency, rate, (cond_en, cond_zh), valid, ago in INCENTIVES[index]:
            db.session.add(Incentive(park_id=park.id, kind=kind_, amount=Decimal(amount) if amount else None,
                                     currency=currency, rate=Decimal(rate) if rate else None,
                                     conditions=cond_zh, conditions_zh=cond_zh, conditions_en=cond_en, valid_until=today + timedelta(days=valid),
                                     confirmed_at=now - timedelta(days=ago), confirmed_by_id=manager.id))
    for title, values in NEEDS.items():
        values = dict(values)
        ready_in = values.pop("ready_in")
        db.session.add(SiteNeeds(project_id=projects[title].id, ready_by=today + timedelta(days=ready_in), **values))
    db.session.commit()
