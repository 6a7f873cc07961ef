"""The demo province, from the Hebei "cloud investment promotion" story.

Dates are relative to today so the demo always has an upcoming Europe fair,
an upcoming America fair and one that has already happened.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .accounts.models import User
from .accounts.services import create_user, hash_password
from .extensions import db
from .fairs import services as fairs
from .fairs.enums import FairStatus
from .fairs.models import Registration
from .projects.models import Project
from .reference.services import ensure_default_sectors, ensure_divisions
from .types import utcnow

ORGANISER = ("organiser", "organiser@cloudfair.example", "Wang Li 王丽", "Hebei Department of Commerce 河北省商务厅",
             "agency", "Shijiazhuang", "CN", "Asia/Shanghai", "zh")

PRESENTERS = [
    ("presenter", "k.weber@cloudfair.example", "Klaus Weber", "Weber Consulting GmbH", "agency", "Berlin", "DE", "Europe/Berlin", "en"),
    ("presenter", "a.peeters@cloudfair.example", "An Peeters", "Flanders Membrane Partners", "agency", "Brussels", "BE", "Europe/Brussels", "en"),
    ("presenter", "j.devries@cloudfair.example", "Jan de Vries", "Holland Modular Housing Agency", "agency", "Amsterdam", "NL", "Europe/Amsterdam", "en"),
    ("presenter", "p.novak@cloudfair.example", "Petr Novák", "Czech Winter Sports Trade Office", "agency", "Prague", "CZ", "Europe/Prague", "en"),
    ("presenter", "s.tremblay@cloudfair.example", "Sophie Tremblay", "Maple Health Investment Agency", "agency", "Toronto", "CA", "America/Toronto", "en"),
    ("presenter", "m.chen@cloudfair.example", "Michael Chen", "Pacific MedTech Investment Agency", "agency", "Los Angeles", "US", "America/Los_Angeles", "en"),
]

ATTENDEES = [
    ("attendee", "sjz@cloudfair.example", "Zhao Min 赵敏", "Shijiazhuang Commerce Bureau 石家庄市商务局", "city_bureau", "Shijiazhuang", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "zjk@cloudfair.example", "Liu Yang 刘洋", "Zhangjiakou Commerce Bureau 张家口市商务局", "city_bureau", "Zhangjiakou", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "zjk-park@cloudfair.example", "Sun Hao 孙浩", "Zhangjiakou High-tech Zone Investment Bureau 张家口高新区招商局", "park", "Zhangjiakou", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "ts@cloudfair.example", "Zhou Qiang 周强", "Tangshan Commerce Bureau 唐山市商务局", "city_bureau", "Tangshan", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "cfd@cloudfair.example", "Wu Jing 吴静", "Caofeidian Industrial Park 曹妃甸工业区", "park", "Caofeidian", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "xt@cloudfair.example", "Zheng Lei 郑磊", "Xingtai Commerce Bureau 邢台市商务局", "city_bureau", "Xingtai", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "lf@cloudfair.example", "Feng Yu 冯雨", "Langfang Commerce Bureau 廊坊市商务局", "city_bureau", "Langfang", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "cz@cloudfair.example", "Chen Tao 陈涛", "Cangzhou Commerce Bureau 沧州市商务局", "city_bureau", "Cangzhou", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "cd@cloudfair.example", "He Ping 何平", "Chengde Shuangluan District Investment Bureau 承德双滦区招商局", "park", "Shuangluan District", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "bd@cloudfair.example", "Gao Fei 高飞", "Baoding Commerce Bureau 保定市商务局", "city_bureau", "保定", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "hd@cloudfair.example", "Tian Li 田丽", "Handan Commerce Bureau 邯郸市商务局", "city_bureau", "邯郸", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "zd@cloudfair.example", "Guo Jun 郭军", "Zhengding High-tech Zone 正定高新区", "park", "正定县", "CN", "Asia/Shanghai", "zh"),
    ("attendee", "jichuang@cloudfair.example", "Ma Lin 马琳", "Hebei Jichuang Medical Devices Co. 河北冀创医疗器械有限公司", "enterprise", "Shijiazhuang", "CN", "Asia/Shanghai", "zh"),
]

#: The Chinese names of the organisations abroad (registered under their English name).
ORGANISATION_ZH = {
    "Weber Consulting GmbH": "韦伯咨询有限公司",
    "Flanders Membrane Partners": "佛兰德膜技术伙伴公司",
    "Holland Modular Housing Agency": "荷兰模块化住房机构",
    "Czech Winter Sports Trade Office": "捷克冬季运动贸易办事处",
    "Maple Health Investment Agency": "枫叶健康投资机构",
    "Pacific MedTech Investment Agency": "太平洋医疗科技投资机构",
}

#: (presenter email, title, summary, sector, country, amount, currency)
PROJECTS = [
    ("a.peeters@cloudfair.example", "Wastewater-treatment membrane technology",
     "Belgian ceramic membrane modules for industrial wastewater reuse, presented with Weber Consulting.",
     "energy_saving_environment", "BE", "45000000", "EUR"),
    ("k.weber@cloudfair.example", "Wearable diagnostic devices",
     "German wearable ECG and vital-sign patches seeking a manufacturing partner in Hebei.",
     "biomedicine_health", "DE", "28000000", "EUR"),
    ("j.devries@cloudfair.example", "Container (box-type) modular housing",
     "Dutch prefabricated container housing for parks, construction camps and emergency use.",
     "new_materials", "NL", "15000000", "EUR"),
    ("p.novak@cloudfair.example", "Mobile ice-rink blanket",
     "Czech mobile ice-rink cooling blanket: a rink anywhere in hours, for winter-sports towns.",
     "ice_snow", "CZ", "12000000", "EUR"),
    ("s.tremblay@cloudfair.example", "Community health and rehabilitation centres",
     "Canadian operators of medical and rehabilitation centres looking for city partners.",
     "biomedicine_health", "CA", "60000000", "CAD"),
    ("m.chen@cloudfair.example", "Portable ECMO device",
     "A US portable extracorporeal membrane oxygenation device for emergency and transport use.",
     "biomedicine_health", "US", "80000000", "USD"),
    ("m.chen@cloudfair.example", "Digital health scanning equipment",
     "Body-scanning kiosks with AI screening for clinics and health checks.",
     "information_intelligence", "US", "25000000", "USD"),
]


#: The demo's content in Chinese beside its English (fairs, themes, sessions, projects, summaries).
ZH = {
    "Wastewater-treatment membrane technology": "比利时污水处理膜技术",
    "Belgian ceramic membrane modules for industrial wastewater reuse, presented with Weber Consulting.":
        "比利时陶瓷膜组件，用于工业污水回用，与韦伯咨询公司共同推介。",
    "Wearable diagnostic devices": "德国可穿戴诊断设备",
    "German wearable ECG and vital-sign patches seeking a manufacturing partner in Hebei.":
        "德国可穿戴心电和生命体征贴片，寻求河北生产合作伙伴。",
    "Container (box-type) modular housing": "荷兰集装箱（箱式）模块化房屋",
    "Dutch prefabricated container housing for parks, construction camps and emergency use.":
        "荷兰预制集装箱房屋，适用于园区、施工营地和应急用途。",
    "Mobile ice-rink blanket": "捷克移动冰毯",
    "Czech mobile ice-rink cooling blanket: a rink anywhere in hours, for winter-sports towns.":
        "捷克移动冰场制冷毯：数小时内随处建成冰场，服务冰雪运动城镇。",
    "Community health and rehabilitation centres": "加拿大社区医疗康复中心",
    "Canadian operators of medical and rehabilitation centres looking for city partners.":
        "加拿大医疗和康复中心运营商，寻求城市合作伙伴。",
    "Portable ECMO device": "美国便携式 ECMO 设备",
    "A US portable extracorporeal membrane oxygenation device for emergency and transport use.":
        "美国便携式体外膜肺氧合设备，用于急救和转运。",
    "Digital health scanning equipment": "数字健康扫描设备",
    "Body-scanning kiosks with AI screening for clinics and health checks.":
        "带人工智能筛查的人体扫描终端，用于诊所和健康体检。",
    "Europe online investment fair: new materials & energy saving": "欧洲网上投洽会：新材料与节能环保",
    "New materials, energy saving & environmental protection, ice & snow": "新材料、节能环保、冰雪产业",
    "Opening: Hebei's investment environment": "开幕：河北投资环境推介",
    "Belgian wastewater membrane technology": "比利时污水处理膜技术推介",
    "Dutch container housing": "荷兰集装箱房屋推介",
    "Czech mobile ice-rink blanket": "捷克移动冰毯推介",
    "German wearable diagnostics": "德国可穿戴诊断设备推介",
    "Four cities present: Shijiazhuang, Xingtai, Zhangjiakou, Tangshan": "四市推介：石家庄、邢台、张家口、唐山",
    "Online signing ceremony": "云签约仪式",
    "North America online investment fair: biomedicine & health": "北美网上投洽会：生物医药与健康",
    "Biomedicine & health, digital health": "生物医药与健康、数字健康",
    "Canadian health and rehabilitation centres": "加拿大医疗康复中心推介",
    "US portable ECMO": "美国便携式 ECMO 推介",
    "Investment promotion practice training": "招商引资实务培训",
    "First online investment fair": "首届网上投洽会",
    "Europe, the USA and Canada: overseas agents present": "欧洲、美国和加拿大：海外招商代理推介",
    "Overseas agents' round of pitches": "海外招商代理集中推介",
    "Europe online investment fair: energy saving & environment (draft)": "欧洲网上投洽会：节能环保（草稿）",
    "Energy saving & environmental protection": "节能环保",
    "Hebei cloud investment fair": "河北云招商月度专场",
    "Europe: new materials": "欧洲：新材料",
    "North America: biomedicine & health": "北美：生物医药与健康",
    "Europe: energy saving & environment": "欧洲：节能环保",
    "Winter sports: ice & snow": "冬季运动：冰雪产业",
    "Japan & Korea: high-end equipment": "日韩：高端装备",
    "ASEAN: modern logistics": "东盟：现代物流",
    "Europe: information & intelligent technology": "欧洲：信息智能",
    "Oceania: biomedicine & health": "大洋洲：生物医药与健康",
    "Middle East: energy saving & environment": "中东：节能环保",
    "Latin America: new materials": "拉美：新材料",
    "Central & Eastern Europe: high-end equipment": "中东欧：高端装备",
    "Belt and Road: modern logistics": "“一带一路”：现代物流",
}


def _both(data: dict, *fields: str) -> dict:
    """A service body with each English text beside its Chinese (`<field>_i18n`); English stays the primary text
    (the original column), as the demo was first written in it."""
    out = {**data, "lang": "en"}
    for field in fields:
        if field in out:
            english = out.pop(field)
            out[f"{field}_i18n"] = {"en": english, "zh": ZH.get(english, "")}
    return out

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def seed(password: str) -> list[tuple[str, str, str]]:
    """Create the demo once; a second run changes nothing. Returns the demo accounts."""
    ensure_default_sectors()
    ensure_divisions()
    people = [ORGANISER, *PRESENTERS, *ATTENDEES]
    existing = db.session.scalar(select(User).where(User.email == ORGANISER[1]))
    if existing is None:
        _seed_everything(password, people)
    return [(p[0], p[1], p[2]) for p in people]


def _seed_everything(password: str, people) -> None:
    users = {}
    for role, email, name, org, kind, city, country, tz, locale in people:
        users[email] = create_user(
            None, email=email, name=name, role=role, organisation=org, password=None,
            kind=kind, city=city, country=country, timezone=tz, locale=locale,
        )
    for user in users.values():  # the demo password is short on purpose, so it skips the policy
        user.password_hash = hash_password(password)
        named = re.match(r"^([^\u4e00-\u9fff]+?)\s+([\u4e00-\u9fff].*)$", user.organisation.name)
        if named:  # "Shijiazhuang Commerce Bureau 石家庄市商务局": each half in its own language
            user.organisation.name_en, user.organisation.name_zh = named.groups()
        elif user.organisation.name in ORGANISATION_ZH:  # the agencies abroad, named in English
            user.organisation.name_en = user.organisation.name
            user.organisation.name_zh = ORGANISATION_ZH[user.organisation.name]
    organiser = users[ORGANISER[1]]
    projects = {}
    for owner, title, summary, sector, country, amount, currency in PROJECTS:
        project = Project(title=title, summary=summary, sector=sector, country=country,
                          title_en=title, title_zh=ZH[title], summary_en=summary, summary_zh=ZH[summary],
                          investment_amount=Decimal(amount), currency=currency, owner=users[owner])
        db.session.add(project)
        projects[title] = project
    db.session.commit()

    today = utcnow().astimezone(SHANGHAI).date()
    europe_day = _next_weekday(today + timedelta(days=14), 3)  # a Thursday two weeks on
    america_day = _next_weekday(today + timedelta(days=35), 3)
    past_day = _next_weekday(today - timedelta(days=30), 3)

    europe = fairs.create_fair(organiser, _both({
        "title": "Europe online investment fair: new materials & energy saving",
        "theme": "New materials, energy saving & environmental protection, ice & snow",
        "focus_countries": ["DE", "BE", "NL", "CZ"],
        "focus_sectors": ["new_materials", "energy_saving_environment", "ice_snow", "biomedicine_health"],
        "starts_at": _at(europe_day, 15), "ends_at": _at(europe_day, 21),
        "timezone": "Asia/Shanghai", "capacity": 500,
        "tracks": [{"name_i18n": {"en": "Main stage", "zh": "主会场"}}, {"name_i18n": {"en": "City stage", "zh": "城市推介厅"}}],
        "stream_url": "https://live.cloudfair.example/europe",
    }, "title", "theme"))
    s = fairs.create_session
    s(organiser, europe, _both({"title": "Opening: Hebei's investment environment", "kind": "city_promotion",
                          "starts_at": _at(europe_day, 15), "ends_at": _at(europe_day, 15, 30), "track": "Main stage"}, "title", "theme"))
    s(organiser, europe, _both({"title": "Belgian wastewater membrane technology", "kind": "pitch",
                          "starts_at": _at(europe_day, 15, 30), "ends_at": _at(europe_day, 16, 15), "track": "Main stage",
                          "presenter_ids": [users["k.weber@cloudfair.example"].id, users["a.peeters@cloudfair.example"].id],
                          "project_ids": [projects["Wastewater-treatment membrane technology"].id],
                          "join_url": "https://meet.cloudfair.example/eu-membrane"}, "title", "theme"))
    s(organiser, europe, _both({"title": "Dutch container housing", "kind": "pitch",
                          "starts_at": _at(europe_day, 16, 30), "ends_at": _at(europe_day, 17, 15), "track": "Main stage",
                          "presenter_ids": [users["j.devries@cloudfair.example"].id],
                          "project_ids": [projects["Container (box-type) modular housing"].id]}, "title", "theme"))
    s(organiser, europe, _both({"title": "Czech mobile ice-rink blanket", "kind": "pitch",
                          "starts_at": _at(europe_day, 17, 30), "ends_at": _at(europe_day, 18, 15), "track": "Main stage",
                          "presenter_ids": [users["p.novak@cloudfair.example"].id],
                          "project_ids": [projects["Mobile ice-rink blanket"].id]}, "title", "theme"))
    s(organiser, europe, _both({"title": "German wearable diagnostics", "kind": "pitch",
                          "starts_at": _at(europe_day, 18, 30), "ends_at": _at(europe_day, 19, 15), "track": "Main stage",
                          "presenter_ids": [users["k.weber@cloudfair.example"].id],
                          "project_ids": [projects["Wearable diagnostic devices"].id]}, "title", "theme"))
    s(organiser, europe, _both({"title": "Four cities present: Shijiazhuang, Xingtai, Zhangjiakou, Tangshan",
                          "kind": "city_promotion", "starts_at": _at(europe_day, 16), "ends_at": _at(europe_day, 17),
                          "track": "City stage"}, "title", "theme"))
    s(organiser, europe, _both({"title": "Online signing ceremony", "kind": "signing",
                          "starts_at": _at(europe_day, 20), "ends_at": _at(europe_day, 20, 45), "track": "Main stage"}, "title", "theme"))
    fairs.publish_fair(organiser, europe)

    america = fairs.create_fair(organiser, _both({
        "title": "North America online investment fair: biomedicine & health",
        "theme": "Biomedicine & health, digital health",
        "focus_countries": ["US", "CA"], "focus_sectors": ["biomedicine_health", "information_intelligence"],
        "starts_at": _at(america_day, 8), "ends_at": _at(america_day, 11),
        "timezone": "Asia/Shanghai", "capacity": 400,
    }, "title", "theme"))
    s(organiser, america, _both({"title": "Canadian health and rehabilitation centres", "kind": "pitch",
                           "starts_at": _at(america_day, 8), "ends_at": _at(america_day, 8, 45),
                           "presenter_ids": [users["s.tremblay@cloudfair.example"].id],
                           "project_ids": [projects["Community health and rehabilitation centres"].id]}, "title", "theme"))
    s(organiser, america, _both({"title": "US portable ECMO", "kind": "pitch",
                           "starts_at": _at(america_day, 9), "ends_at": _at(america_day, 9, 45),
                           "presenter_ids": [users["m.chen@cloudfair.example"].id],
                           "project_ids": [projects["Portable ECMO device"].id,
                                           projects["Digital health scanning equipment"].id]}, "title", "theme"))
    s(organiser, america, _both({"title": "Investment promotion practice training", "kind": "training",
                           "starts_at": _at(america_day, 10), "ends_at": _at(america_day, 10, 45)}, "title", "theme"))
    fairs.publish_fair(organiser, america)

    past = fairs.create_fair(organiser, _both({
        "title": "First online investment fair",
        "theme": "Europe, the USA and Canada: overseas agents present",
        "focus_countries": ["DE", "US", "CA"], "focus_sectors": ["biomedicine_health", "new_materials"],
        "starts_at": _at(past_day, 15), "ends_at": _at(past_day, 18), "timezone": "Asia/Shanghai",
    }, "title", "theme"))
    past_panel = s(organiser, past, _both({
        "title": "Overseas agents' round of pitches", "kind": "panel",
        "starts_at": _at(past_day, 15), "ends_at": _at(past_day, 17),
        "presenter_ids": [users[p[1]].id for p in PRESENTERS],
        "project_ids": [project.id for project in projects.values()],
    }, "title", "theme"))
    past_signing = s(organiser, past, _both({"title": "Online signing ceremony", "kind": "signing",
                                       "starts_at": _at(past_day, 17), "ends_at": _at(past_day, 17, 45)}, "title", "theme"))
    fairs.publish_fair(organiser, past)
    past.status = FairStatus.CLOSED
    for session in past.sessions:
        session.status = "ended"
    now = utcnow()
    for email in ("sjz@cloudfair.example", "zjk-park@cloudfair.example", "ts@cloudfair.example"):
        db.session.add(Registration(fair_id=europe.id, user_id=users[email].id))
        db.session.add(Registration(fair_id=past.id, user_id=users[email].id, attended_at=now))
    db.session.commit()

    _seed_profiles(users)
    _seed_material(organiser, projects)
    _seed_live(organiser, users, projects, past_panel, past_signing)
    _seed_demand(users)
    _seed_series(organiser)
    from .meetings.demo import seed_meetings

    seed_meetings(users, projects)
    from .parks.demo import seed_parks

    seed_parks(users, projects, today)

    fairs.create_fair(organiser, _both({
        "title": "Europe online investment fair: energy saving & environment (draft)",
        "theme": "Energy saving & environmental protection",
        "focus_countries": ["DE", "FR", "IT"], "focus_sectors": ["energy_saving_environment"],
        "starts_at": _at(america_day + timedelta(days=28), 15), "ends_at": _at(america_day + timedelta(days=28), 20),
        "timezone": "Asia/Shanghai",
    }, "title", "theme"))


BIOS = {
    "k.weber@cloudfair.example": ("Investment agent for German medical-technology and environmental firms; "
                                  "twelve years bringing Mittelstand companies to northern China.", ["de", "en"]),
    "a.peeters@cloudfair.example": ("Represents Flemish water-technology companies looking for Chinese industrial parks.",
                                    ["nl", "fr", "en"]),
    "j.devries@cloudfair.example": ("Modular construction and prefabricated housing, from Amsterdam.", ["nl", "en"]),
    "p.novak@cloudfair.example": ("Czech winter-sports equipment makers: rinks, snow-making, ski-lift parts.", ["cs", "en", "de"]),
    "s.tremblay@cloudfair.example": ("Health-care operators from Ontario and Quebec seeking city partners.", ["en", "fr"]),
    "m.chen@cloudfair.example": ("Californian medical-device start-ups looking for manufacturing and clinical partners.",
                                 ["en", "zh"]),
}

#: (project title, file name, review outcome: "approved" / "pending" / "rejected" / "two versions")
MATERIAL = [
    ("Wastewater-treatment membrane technology", "膜技术项目介绍.pdf", "approved"),
    ("Wearable diagnostic devices", "wearable-devices-brief.pdf", "two versions"),
    ("Container (box-type) modular housing", "modular-housing.pdf", "pending"),
    ("Mobile ice-rink blanket", "ice-rink-blanket.pdf", "approved"),
    ("Community health and rehabilitation centres", "rehab-centres.pdf", "rejected"),
    ("Portable ECMO device", "便携式ECMO.pdf", "approved"),
    ("Digital health scanning equipment", "scanning-kiosk.pdf", "pending"),
]


def _seed_profiles(users) -> None:
    for email, (bio, languages) in BIOS.items():
        users[email].bio = bio
        users[email].languages = languages
    db.session.commit()


def _brief_pdf(project, edition: int = 1) -> bytes:
    """A one-page project brief, drawn with fpdf2."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(project.title)
    pdf.add_page()
    pdf.set_fill_color(21, 94, 117)
    pdf.rect(0, 0, 210, 30, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 20)
    pdf.set_xy(15, 9)
    pdf.cell(0, 12, "CloudFair project brief")
    pdf.set_text_color(20, 20, 20)
    pdf.set_xy(15, 40)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(180, 8, project.title)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 12)
    pdf.multi_cell(180, 6, project.summary)
    pdf.ln(6)
    amount = f"{project.currency} {project.investment_amount:,.2f}" if project.investment_amount is not None else "-"
    for label, value in (("Sector", project.sector), ("Origin", project.country), ("Investment", amount),
                         ("Presenter", f"{project.owner.name}, {project.owner.organisation.name}"),
                         ("Edition", str(edition))):
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(40, 8, label)
        pdf.set_font("Helvetica", "", 12)
        pdf.cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _seed_material(organiser, projects) -> None:
    import io

    from .projects import services as project_services

    for title, name, outcome in MATERIAL:
        project = projects[title]
        first = project_services.upload_material(project.owner, project.id, io.BytesIO(_brief_pdf(project)), name)
        if outcome in ("approved", "two versions"):
            project_services.review_material(organiser, first.id, "approve", "Clear and complete.")
        elif outcome == "rejected":
            project_services.review_material(
                organiser, first.id, "reject", "Please add the investment schedule and the partner profile."
            )
        if outcome == "two versions":
            project_services.upload_material(
                project.owner, project.id, io.BytesIO(_brief_pdf(project, edition=2)), name, replaces=first.id
            )


#: (attendee email, project title, level, note, the stage the lead has reached since)
PAST_INTERESTS = [
    ("sjz@cloudfair.example", "Portable ECMO device", "intent", "Shijiazhuang biomedicine park has a GMP workshop ready.", "operating"),
    ("jichuang@cloudfair.example", "Portable ECMO device", "meeting", "We could assemble the consoles.", "negotiating"),
    ("zjk@cloudfair.example", "Mobile ice-rink blanket", "intent", "For the Chongli winter-sports towns.", "construction"),
    ("zjk-park@cloudfair.example", "Mobile ice-rink blanket", "site_visit", "Host a visit to the high-tech zone.", "performing"),
    ("ts@cloudfair.example", "Wastewater-treatment membrane technology", "intent", "Caofeidian steel plants need water reuse.", "signed"),
    ("cfd@cloudfair.example", "Wastewater-treatment membrane technology", "meeting", "", "intent_reached"),
    ("xt@cloudfair.example", "Container (box-type) modular housing", "info", "Send the product range.", "follow_up"),
    ("lf@cloudfair.example", "Digital health scanning equipment", "meeting", "", "preliminary_intent"),
    ("cz@cloudfair.example", "Wearable diagnostic devices", "info", "", "partner_identified"),
    ("cd@cloudfair.example", "Community health and rehabilitation centres", "site_visit", "Chengde has a site by the river.", "seeking_partner"),
    ("sjz@cloudfair.example", "Community health and rehabilitation centres", "info", "", "dropped"),
]

#: Contracted amounts of the demo's signed leads (decimal strings) and their currency.
SIGNED_AMOUNTS = {
    "operating": ("80000000", "USD"),
    "construction": ("12000000", "EUR"),
    "performing": ("6000000", "EUR"),
    "signed": ("45000000", "EUR"),
}

PAST_QUESTIONS = [
    ("zjk@cloudfair.example", "How long does the rink blanket take to install on site?", "answered", True, 3),
    ("ts@cloudfair.example", "Which steel plants already use the membranes, and with what reuse rate?", "answered", False, 2),
    ("sjz@cloudfair.example", "Does the ECMO device already have CE or FDA approval?", "open", False, 1),
    ("cz@cloudfair.example", "Buy our products at a discount!!!", "hidden", False, 0),
]


def _seed_live(organiser, users, projects, session, signing_session) -> None:
    """History of the past fair: questions and interests, and the leads they became, in every stage."""
    from .leads import services as lead_services
    from .leads.enums import STAGE_ORDER, LeadStage
    from .leads.models import ExchangeRate, LeadDocument, LeadEvent, Signing
    from .live import services as live_services
    from .live.models import Question

    for n, (email, text, status, pinned, votes) in enumerate(PAST_QUESTIONS):
        asker = users[email]
        question = Question(session_id=session.id, user_id=asker.id, organisation_id=asker.organisation_id,
                            client_id=f"demo-question-{n:04d}", text=text, status=status, pinned=pinned, votes=votes)
        db.session.add(question)
        db.session.flush()
        live_services.record(session.id, "question", live_services.question_dict(question))
    for n, (email, title, level, note, stage) in enumerate(PAST_INTERESTS):
        attendee = users[email]
        interest, _ = lead_services.record_interest(
            attendee, session, {"project_id": projects[title].id, "level": level, "note": note,
                                "client_id": f"demo-interest-{n:04d}"},
            at=session.starts_at + timedelta(minutes=10 + 7 * n),
        )
        lead = interest.lead
        target = LeadStage(stage)
        path = [target] if target in (LeadStage.DROPPED, LeadStage.SEEKING_PARTNER) else [
            s for s in STAGE_ORDER if STAGE_ORDER.index(s) > STAGE_ORDER.index(LeadStage(lead.stage))
            and STAGE_ORDER.index(s) <= STAGE_ORDER.index(target)
        ]
        if stage in SIGNED_AMOUNTS:
            import io

            from .leads import services as lead_services

            lead_services.add_document(attendee, lead.id, io.BytesIO(_agreement_pdf(lead)), f"{lead.project.title} agreement.pdf",
                                       "agreement")
        for step in path:
            amount, currency = SIGNED_AMOUNTS.get(stage, (None, None)) if step == LeadStage.SIGNED else (None, None)
            backwards = step in (LeadStage.DROPPED, LeadStage.SEEKING_PARTNER)
            db.session.add(LeadEvent(
                lead_id=lead.id, user_id=organiser.id if backwards else attendee.id, from_stage=lead.stage, to_stage=step,
                note={LeadStage.DROPPED: "Partner lost interest: budget moved to elderly care.",
                      LeadStage.SEEKING_PARTNER: "The operator withdrew; looking for a new partner."}.get(step, ""),
                amount=Decimal(amount) if amount else None, currency=currency, source="progress",
            ))
            lead.stage = step
        if stage in SIGNED_AMOUNTS:
            lead.expected_amount = Decimal(SIGNED_AMOUNTS[stage][0])
            lead.currency = SIGNED_AMOUNTS[stage][1]
            agreement = db.session.scalar(select(LeadDocument).where(LeadDocument.lead_id == lead.id))
            db.session.add(Signing(session_id=signing_session.id, lead_id=lead.id, amount=lead.expected_amount,
                                   currency=lead.currency, document_id=agreement.id, recorded_by_id=organiser.id))
        live_services.record(session.id, "interest", {"project_id": interest.project_id,
                                                      "organisation": attendee.organisation.name}, "staff")
        # Spread the history over the months since the fair; the earlier stages stall.
        days_ago = 60 - 5 * n
        for k, event in enumerate(db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id)
                                                     .order_by(LeadEvent.id))):
            event.created_at = utcnow() - timedelta(days=max(days_ago - 6 * k, 1))
            lead.stage_changed_at = event.created_at
            if k == 0:  # the lead was made when its first interest came (the numbers count it then)
                lead.created_at = event.created_at
        lead.last_progress_at = utcnow() - timedelta(days=max(days_ago - 6 * len(path), 1) if n % 3 else 40)
    for currency, rate in (("EUR", "7.85"), ("USD", "7.20"), ("CAD", "5.25"), ("CZK", "0.31")):
        db.session.add(ExchangeRate(currency=currency, cny_per_unit=Decimal(rate), updated_by_id=organiser.id))
    db.session.commit()


def _agreement_pdf(lead) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Investment cooperation agreement", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.multi_cell(180, 7, f"Project: {lead.project.title}\nPresenter: {lead.project.owner.name}\n"
                           f"Signed online at a CloudFair signing ceremony.")
    return bytes(pdf.output())


#: What each demo organisation seeks: sectors, origin countries, a sentence.
DEMAND = {
    "sjz@cloudfair.example": (["biomedicine_health", "new_materials"], ["DE", "US"], "Biomedicine park with GMP workshops."),
    "zjk@cloudfair.example": (["ice_snow", "energy_saving_environment"], ["CZ", "AT", "CA"], "Winter-sports towns around Chongli."),
    "zjk-park@cloudfair.example": (["ice_snow", "information_intelligence"], ["CZ", "FI"], "Data centres and ice-and-snow equipment."),
    "ts@cloudfair.example": (["energy_saving_environment", "high_end_equipment"], ["BE", "DE", "NL"], "Steel and port industry upgrades."),
    "cfd@cloudfair.example": (["energy_saving_environment", "modern_logistics"], ["BE", "NL"], "Port logistics and water reuse."),
    "xt@cloudfair.example": (["new_materials"], ["NL", "DE"], "Building materials and prefabrication."),
    "lf@cloudfair.example": (["information_intelligence", "biomedicine_health"], ["US"], "Digital health near Beijing."),
    "cz@cloudfair.example": (["biomedicine_health", "high_end_equipment"], ["DE"], "Medical devices along the coast."),
    "cd@cloudfair.example": (["biomedicine_health"], ["CA"], "Health and rehabilitation tourism."),
    "jichuang@cloudfair.example": (["biomedicine_health"], ["US", "DE"], "Contract manufacturing of medical devices."),
}


def _seed_demand(users) -> None:
    for email, (sectors, countries, note) in DEMAND.items():
        organisation = users[email].organisation
        organisation.demand_sectors, organisation.demand_countries, organisation.demand_note = sectors, countries, note
    db.session.commit()


#: A year of monthly themes: (theme, focus countries, focus sectors).
SERIES_THEMES = [
    ("Europe: new materials", ["DE", "BE", "NL"], ["new_materials"]),
    ("North America: biomedicine & health", ["US", "CA"], ["biomedicine_health"]),
    ("Europe: energy saving & environment", ["DE", "FR", "NL"], ["energy_saving_environment"]),
    ("Winter sports: ice & snow", ["AT", "CZ", "NO", "FI"], ["ice_snow"]),
    ("Japan & Korea: high-end equipment", ["JP", "KR"], ["high_end_equipment"]),
    ("ASEAN: modern logistics", ["SG", "MY", "TH", "VN"], ["modern_logistics"]),
    ("Europe: information & intelligent technology", ["DE", "FR", "GB"], ["information_intelligence"]),
    ("Oceania: biomedicine & health", ["AU", "NZ"], ["biomedicine_health"]),
    ("Middle East: energy saving & environment", ["AE", "SA"], ["energy_saving_environment", "new_materials"]),
    ("Latin America: new materials", ["BR", "MX", "CL"], ["new_materials"]),
    ("Central & Eastern Europe: high-end equipment", ["CZ", "PL", "HU"], ["high_end_equipment"]),
    ("Belt and Road: modern logistics", ["KZ", "UZ", "TR"], ["modern_logistics", "information_intelligence"]),
]


def _seed_series(organiser) -> None:
    """The monthly cloud fair, and its drafts for the coming months."""
    from .fairs import series as fair_series

    fair_series.create_series(organiser, {
        "title_i18n": {"en": "Hebei cloud investment fair", "zh": ZH["Hebei cloud investment fair"]}, "lang": "en",
        "timezone": "Asia/Shanghai",
        "rrule": "FREQ=MONTHLY;BYDAY=2TH", "local_start": "15:00", "minutes": 240, "capacity": 500,
        "themes": [{"theme_i18n": {"en": t, "zh": ZH[t]}, "focus_countries": c, "focus_sectors": s}
                   for t, c, s in SERIES_THEMES],
    })
    fair_series.make_due_fairs()
