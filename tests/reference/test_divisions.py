"""China's administrative divisions: the seed data, the matcher, the search API, mapping free-text cities."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.extensions import db
from app.reference.divisions import (
    city_from_organisation_name,
    division_candidates,
    match_division,
    search_divisions,
)
from app.reference.models import Division
from app.reference.services import DIVISIONS_CSV, division_rows, ensure_divisions
from tests.factories import make_user

PREFECTURES = {"130100": "石家庄市", "130200": "唐山市", "130300": "秦皇岛市", "130400": "邯郸市", "130500": "邢台市",
               "130600": "保定市", "130700": "张家口市", "130800": "承德市", "130900": "沧州市", "131000": "廊坊市",
               "131100": "衡水市"}


# ---------------------------------------------------------------- the seed data


def test_seed_has_hebei_its_eleven_cities_their_counties_and_every_province():
    rows = {row["code"]: row for row in division_rows()}

    assert {c: r["name_zh"] for c, r in rows.items() if r["level"] == "prefecture"} == PREFECTURES
    counties = [r for r in rows.values() if r["level"] == "county"]
    assert len(counties) == 167  # Hebei's 49 districts, 21 county-level cities, 97 counties
    assert all(r["parent_code"] in PREFECTURES and r["code"][:4] == r["parent_code"][:4] for r in counties)
    assert len([r for r in rows.values() if r["level"] == "province"]) == 34
    sjz = {r["code"]: r["name_zh"] for r in counties if r["parent_code"] == "130100"}
    assert {"130102": "长安区", "130104": "桥西区", "130105": "新华区", "130107": "井陉矿区", "130108": "裕华区",
            "130109": "藁城区", "130110": "鹿泉区", "130111": "栾城区", "130121": "井陉县", "130123": "正定县",
            "130181": "辛集市", "130183": "晋州市", "130184": "新乐市"}.items() <= sjz.items()


def test_seed_names_in_english_and_pinyin_follow_the_usual_romanisation():
    rows = {row["code"]: row for row in division_rows()}

    assert [(rows[c]["name_en"], rows[c]["pinyin"]) for c in ("130100", "130102", "130123", "130181", "130225",
                                                              "130726", "130503", "610000")] == [
        ("Shijiazhuang", "shijiazhuang"), ("Chang'an District", "changan"), ("Zhengding County", "zhengding"),
        ("Xinji City", "xinji"), ("Laoting County", "laoting"), ("Yu County", "yuxian"), ("Xindu District", "xindu"),
        ("Shaanxi", "shaanxi")]


def test_seed_file_is_utf8_with_unique_codes():
    with DIVISIONS_CSV.open(encoding="utf-8") as handle:
        codes = [row["code"] for row in csv.DictReader(handle)]
    assert len(codes) == len(set(codes)) == 212


def test_ensure_divisions_is_idempotent_and_corrects_a_changed_row(app):
    db.session.get(Division, "130100").name_en = "Wrong"
    db.session.commit()

    ensure_divisions()
    ensure_divisions()

    assert db.session.scalar(select(func.count()).select_from(Division)) == 212
    assert db.session.get(Division, "130100").name_en == "Shijiazhuang"


def test_ensure_divisions_is_cheap_enough_to_run_for_every_test(app):
    """Cheap by its statements, not by a time a loaded machine may miss: one read, one bulk insert."""
    from tests.live.test_interest_ingest import Statements

    db.session.execute(Division.__table__.delete())
    db.session.commit()
    with Statements() as seen:
        ensure_divisions()

    assert db.session.scalar(select(func.count()).select_from(Division)) == 212
    statements = [s for s in seen.log if s != "COMMIT"]
    reads, inserts = statements[:1], statements[1:]
    assert reads[0].startswith("SELECT") and all(s.startswith("INSERT") for s in inserts), seen.log
    assert 1 <= len(inserts) <= 4, seen.log  # a bulk insert (the driver's batches of many rows), never a row each
    assert seen.log.count("COMMIT") == 1


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize("text", ["石家庄", "石家庄市", "Shijiazhuang", "shijiazhuang city", "SHIJIAZHUANG City",
                                  "shi jia zhuang", "Shijiazhuang Shi", "石家庄市 "])
def test_match_finds_a_city_in_chinese_english_and_pinyin(app, text):
    assert match_division(text).code == "130100"


@pytest.mark.parametrize("text,code", [
    ("Chang'an District", "130102"), ("changan", "130102"), ("Chang an Qu", "130102"), ("长安区", "130102"),
    ("正定", "130123"), ("正定县", "130123"), ("Zhengding County", "130123"), ("zhengding", "130123"),
    ("Xinji City", "130181"), ("辛集", "130181"), ("曹妃甸", "130209"), ("Caofeidian", "130209"),
    ("赵县", "130133"), ("北京", "110000"), ("Beijing", "110000"), ("Inner Mongolia", "150000"),
    ("内蒙古", "150000"), ("井陉", "130121"), ("井陉矿区", "130107"),
])
def test_match_finds_counties_districts_and_provinces(app, text, code):
    assert match_division(text).code == code


def test_match_uses_aliases(app):
    division = db.session.get(Division, "130100")
    division.aliases = [*division.aliases, "SJZ"]
    db.session.commit()
    from app.reference.divisions import forget_index

    forget_index()
    try:
        assert match_division("sjz").code == "130100"
    finally:
        division.aliases = [a for a in division.aliases if a != "SJZ"]
        db.session.commit()
        forget_index()


def test_an_ambiguous_short_name_matches_nothing_but_lists_its_candidates(app):
    assert match_division("桥西") is None
    assert match_division("Qiaoxi District") is None
    assert [d.code for d in division_candidates("桥西")] == ["130104", "130703"]
    assert match_division("桥西", within="130100").code == "130104"
    assert match_division("Qiaoxi", within="130700").code == "130703"


def test_a_city_wins_over_a_county_of_the_same_short_name(app):
    assert match_division("承德").code == "130800"
    assert match_division("承德县").code == "130821"


def test_unknown_places_match_nothing(app):
    assert [match_division(t) for t in ("Atlantis", "", None, "市", "Munich")] == [None] * 5


@pytest.mark.parametrize("name,code", [
    ("石家庄市商务局", "130100"), ("Shijiazhuang Commerce Bureau 石家庄市商务局", "130100"),
    ("Zhangjiakou High-tech Zone", "130700"), ("承德双滦区招商局", "130803"), ("石家庄市桥西区商务局", "130104"),
    ("正定县高新区", "130123"), ("Caofeidian Industrial Park 曹妃甸工业区", "130209"), ("河北省商务厅", "130000"),
])
def test_city_from_organisation_name(app, name, code):
    assert city_from_organisation_name(name).code == code


@pytest.mark.parametrize("name", ["长安汽车", "Bavaria Invest Partners", "桥西区商务局", "石家庄 唐山 联合会"])
def test_city_from_organisation_name_refuses_to_guess(app, name):
    assert city_from_organisation_name(name) is None


def test_search_ranks_exact_then_prefix_in_all_three_spellings(app):
    assert [d.code for d in search_divisions("石家", 5)[0]] == ["130100"]
    assert [d.code for d in search_divisions("zhengd", 5)[0]] == ["130123"]
    assert [d.code for d in search_divisions("Zheng Ding", 5)[0]] == ["130123"]
    items, total = search_divisions("xin", 50)
    codes = [d.code for d in items]
    assert total == len(codes) and "130181" in codes and "130105" in codes
    # "xinji" starts with it, "anxin" only contains it; "Luanping County" has no "xin" at all
    assert codes.index("130181") < codes.index("130632") and "130824" not in codes
    assert [d.code for d in search_divisions("tangshan", 5)[0]][0] == "130200"


# ---------------------------------------------------------------- the API


def test_api_lists_divisions_in_the_viewers_language(client):
    response = client.get("/api/v1/divisions?q=shijiazhuang", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 200
    assert response.json == {"items": [{
        "code": "130100", "name": "石家庄市", "name_i18n": {"zh": "石家庄市", "en": "Shijiazhuang"},
        "pinyin": "shijiazhuang", "level": "prefecture", "parent_code": "130000", "prefecture_code": "130100"}],
        "total": 1}
    english = client.get("/api/v1/divisions?q=正定", headers={"Accept-Language": "en"}).json["items"]
    assert [(d["name"], d["prefecture_code"]) for d in english] == [("Zhengding County", "130100")]


def test_api_filters_by_level_and_parent(client):
    cities = client.get("/api/v1/divisions?level=prefecture&limit=500").json
    counties = client.get("/api/v1/divisions?parent=130100&limit=500").json

    assert sorted(d["code"] for d in cities["items"]) == sorted(PREFECTURES) and cities["total"] == 11
    assert counties["total"] == 22 and {d["parent_code"] for d in counties["items"]} == {"130100"}


def test_api_names_a_bad_query_parameter(client):
    response = client.get("/api/v1/divisions?level=village")

    assert response.status_code == 422
    assert "level" in response.json["error"]["details"]["fields"]


# ---------------------------------------------------------------- mapping existing cities (operators)


def test_map_cities_command_reports_then_maps(app):
    orgs = [Organisation(name=n, kind="city_bureau", city=c, country=k, demand_sectors=[], demand_countries=[],
                         demand_note="", aliases=[])
            for n, c, k in [("Handan Office", "Handan", "CN"), ("Lost Office", "Atlantis", "CN"),
                            ("Berlin Office", "Berlin", "DE")]]
    db.session.add_all(orgs)
    db.session.commit()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["divisions", "map-cities", "--dry-run"])
    db.session.expire_all()
    assert dry.exit_code == 0, dry.output
    assert f"would map organisation {orgs[0].id} to 130400 邯郸市" in dry.output
    assert f"could not map organisation {orgs[1].id} 'Lost Office' (city 'Atlantis')" in dry.output
    assert orgs[0].division_code is None

    real = runner.invoke(args=["divisions", "map-cities"])
    db.session.expire_all()
    assert real.exit_code == 0, real.output
    assert [(o.division_code, o.city) for o in orgs] == [("130400", "Handan"), (None, "Atlantis"), (None, "Berlin")]
    assert "1 organisation(s) mapped to a division, 1 not mapped" in real.output


def test_user_create_resolves_the_city(app):
    user = make_user("attendee", organisation="Baoding Park", city="baoding", country="CN")

    assert (user.organisation.division_code, user.organisation.place("zh")) == ("130600", "保定市")


#: Where the seed's pinyin departs from pypinyin's reading on purpose.
HAND_READINGS = {
    "610000": "shaanxi",  # 陕西: the official romanisation, apart from 山西 Shanxi
    "130502": "xiangdu", "130503": "xindu", "130631": "wangdu",  # 都 reads du in place names
    "130981": "botou",  # 泊头 Bótóu
    "130821": "chengde",  # 承德县: the bare name, shared with the city (which wins)
}


def test_seed_pinyin_is_pypinyins_reading_but_for_the_hand_corrected_ones():
    from pypinyin import lazy_pinyin

    differing = {}
    for row in division_rows():
        core = next((a for a in row["aliases"] if len(a) >= 2 and a in row["name_zh"]), row["name_zh"])
        if "".join(lazy_pinyin(core)) != row["pinyin"]:
            differing[row["code"]] = row["pinyin"]
    assert differing == HAND_READINGS
