"""The lead pages and the leads API in Chinese for a person whose language is zh: stage names,
headings, dates and amounts the Chinese way, and the API's error messages."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape

import pytest

from app.extensions import db
from app.leads import queries, services as lead_services
from app.leads.models import ExchangeRate
from app.leads.services import record_interest
from tests.factories import make_organiser, make_user, make_winter_pitch

ZH_STAGES = ["寻找合作方", "已对接合作方", "初步意向", "跟进洽谈", "达成意向", "商务谈判", "已签约", "履约中", "在建",
             "已投产运营"]


@pytest.fixture
def world():
    organiser = make_organiser(locale="zh")
    pitch = make_winter_pitch(organiser)
    [rink], session = pitch["projects"], pitch["session"]
    zjk = make_user("attendee", name="刘洋", organisation="张家口市商务局", city="张家口", locale="zh")
    db.session.add(ExchangeRate(currency="EUR", cny_per_unit=Decimal("7.85")))
    db.session.commit()
    interest, _ = record_interest(zjk, session, {"project_id": rink.id, "level": "meeting",
                                                 "client_id": "i18n-pages-0001"})
    db.session.commit()
    return {"organiser": organiser, "zjk": zjk, "rink": rink, "lead": interest.lead}


@pytest.fixture
def login(login_as):
    """Each user signed in in a client of their own (tests/conftest.py)."""
    return login_as


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def _zh_month(month: str) -> str:
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


def test_board_names_the_stages_in_chinese(login, world):
    html = login(world["zjk"]).get("/leads").text
    assert '<html lang="zh-CN">' in html
    assert re.search(r"<h1>线索 <span", html)
    headings = re.findall(r'<h2 id="col-\w+">([^<]+?) <span class="count">', html)
    assert headings == ZH_STAGES
    assert 'data-label="已终止"' in html
    card = html.split('data-column="partner_identified"')[1].split("</section>")[0]
    assert "Ice-rink blanket" in card and "责任人：刘洋" in _text(card)
    assert 'aria-label="将Ice-rink blanket（张家口市商务局）调整为“初步意向”"' in html
    strings = json.loads(re.search(r'<script type="application/json" id="board-strings">(.*?)</script>', html, re.S).group(1))
    assert strings["moved"] == "{project}已调整为“{stage}”。"
    assert strings["moveTo"] == "将{project}（{organisation}）调整为“{stage}”"


def test_lead_page_in_chinese_with_its_history_and_dates(login, world):
    lead = world["lead"]
    lead_services.progress(world["zjk"], lead.id, {"stage": "follow_up", "note": "已安排考察", "amount": "11000000",
                                             "currency": "EUR", "next_action_on": "2027-01-15"})
    html = login(world["zjk"]).get(f"/leads/{lead.id}").text
    text = _text(html)
    assert '<span class="badge badge-stage stage-follow_up">跟进洽谈</span>' in html
    assert "时间线" in text and "记录进展" in text and "责任人" in text
    # Expressed before the pitch began (the fair is in December): no made-up "minute 0".
    assert "意向：希望会谈" in text and "于“Winter pitch”，推介开始前" in text and "推介第 0 分钟" not in text
    assert "刘洋：建立线索，阶段为“已对接合作方”" in text
    assert "在直播场次中表达了意向。" in text  # CloudFair's own note, in the reader's language
    assert "刘洋：已对接合作方 → 跟进洽谈" in text and "已安排考察" in text
    assert "金额：EUR 11,000,000" in text and "下一步行动：2027年1月15日" in text
    assert re.search(r'<time datetime="[^"]+">\d{4}年\d{1,2}月\d{1,2}日 周.', html)  # moments the Chinese way
    assert '<label for="note">进展情况（回退或终止时请说明原因）</label>' in html


def test_monthly_report_in_chinese(login, world):
    html = login(world["zjk"]).get("/leads/report").text
    month = _zh_month(queries.host_month())
    assert f'<h1>月度进展报告 <span class="muted">{month}</span></h1>' in html
    assert "当前阶段：已对接合作方" in _text(html)
    assert re.search(r'<option (selected )?value="partner_identified"( selected)?>已对接合作方</option>', html)
    assert re.search(r'<input[^>]*type="submit"[^>]*value="提交报告"', html)

    organiser = login(world["organiser"]).get("/leads/reports").text
    assert f'<h1>月度报告 <span class="muted">{month}</span></h1>' in organiser
    assert "尚未报告" in organiser and "张家口市商务局" in organiser


def test_dashboard_in_chinese_counts_in_yi(login, world):
    stats = queries.pipeline_stats(world["organiser"], "stage")
    html = login(world["organiser"]).get("/dashboard?period=range&from=2026-01&to=2027-12").text
    assert "<h1>全省数据</h1>" in html
    headline = _text(html.split('class="headline"')[1].split("</p>")[0].split(">", 1)[1])
    assert headline == "2026-01 至 2027-12：签约项目 0 个，签约金额 0.0 亿元；其中外资项目 0 个，0.0 亿美元。"
    assert stats["totals"]["investment_cny"] == "94200000.00"  # EUR 12,000,000 × 7.85, open
    figures = html.split('data-figure="pipeline"')[1].split("</tr>")[0]
    assert "0.9 亿元" in figures
    stage_chart = html.split('data-chart="stage"')[1].split("</svg>")[0]
    assert re.findall(r'<text class="bar-label"[^>]*>([^<]+)</text>', stage_chart) == ZH_STAGES
    assert "<title>已对接合作方：1 条线索，0.9 亿元</title>" in stage_chart
    assert "按城市" in html and "转化漏斗" in html and "停滞期限（无进展天数）" in html


def test_api_errors_speak_the_token_owners_language(client, auth, world):
    lead = world["lead"]
    lead_services.progress(world["zjk"], lead.id, {"stage": "negotiating", "note": "Term sheet"})
    response = client.post(f"/api/v1/leads/{lead.id}/progress", headers=auth(world["zjk"]),
                           json={"stage": "follow_up", "note": "回退"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "organiser_only"
    assert response.json["error"]["message"] == "只有组织方可以回退线索，且须说明原因。"

    bad = client.post(f"/api/v1/leads/{lead.id}/progress", headers=auth(world["zjk"]),
                      json={"next_action_on": "next week"})
    assert bad.status_code == 422
    assert bad.json["error"]["details"]["fields"] == {"next_action_on": ["请按 YYYY-MM-DD 格式填写日期。"]}
