"""What a number on the leadership pages means: a lagging town's own value, percent of target
labelled as such, which children a parent's figure rests on, plans named by their title, a
restated target counted once, and an indicator's source as its document."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.reports.test_dashboard_data import AS_OF, make_catalog, make_progress, put_row

CITY_DG = reverse("reports:city", args=["441900"])
SLUG = "dongguan-2012-csjwh"


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


@pytest.fixture
def leader(client, cast):
    client.force_login(cast["carol"])
    return client


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def second_plan(data, tree):
    """A second Dongguan document without a number (known by its slug), with an indicator named
    like one of the first plan's and a target restating another."""
    from targets.models import Goal, Indicator, Plan

    plan = Plan.objects.create(
        code=SLUG, city=tree["441900"], title_zh="关于加强城市社区居委会建设的意见",
        title_en="Opinions on urban residents' committees", issued_on=date(2012, 6, 1),
    )  # fmt: skip
    goal = Goal.objects.create(plan=plan, code="3", title_zh="社区服务", position=1)
    twin = Indicator.objects.create(
        code="dg.csjwh.volunteers", plan=plan, goal=goal, position=1,
        name_zh="注册志愿者占常住人口比例", name_en="Registered volunteers as a share of residents",
        kind="ratio", numerator=data["el"]["volunteers.registered"],
        denominator=data["el"]["population.resident"], factor=Decimal(100), unit="%",
        comparator=">=", target=Decimal(10), deadline=date(2015, 12, 31), quote="10%",
    )  # fmt: skip
    restated = Indicator.objects.create(
        code="dg.csjwh.centres", plan=plan, goal=goal, position=2, name_zh="建成社区服务中心站",
        kind="milestone", element=data["el"]["centres.built"], comparator="=",
        target=Decimal(1), deadline=date(2012, 12, 31), quote="建成社区服务中心",
        same_as=data["ind"]["dg.centres"],
    )  # fmt: skip
    for period in ("2013", AS_OF):
        put_row(twin, tree["441900"], period, 8.0, "off_track")
        put_row(restated, tree["441900"], period, 0, "missed")
    return plan


def test_lagging_towns_show_their_own_value_with_its_unit_and_status(leader, data):
    response = leader.get(CITY_DG)
    line = next(x for x in response.context["d"].attention if x.code == "dg.volunteers.share")
    # 东城街道 is at 7.0% against ≥ 12% (58.33% of the target).
    assert [(u["code"], u["value_display"], u["status"].code) for u in line.draggers] == [
        ("441900003", "7%", "off_track")
    ]
    row = re.search(
        r'<tr data-indicator="dg.volunteers.share".*?</tr>', response.content.decode(), re.S
    ).group(0)
    assert "7%" in row and "滞后" in row and "58.33" not in row


def test_percent_of_target_is_labelled_as_such_everywhere(leader, data):
    for url in (CITY_DG, reverse("reports:indicator", args=["dg.volunteers.share"])):
        text = leader.get(url).content.decode()
        assert "目标完成度" in text
        assert "完成目标" not in text, url


def test_a_parents_figure_says_how_many_children_it_rests_on(leader, data, tree):
    from reports.models import ProgressRow

    at_city = ProgressRow.objects.filter(org_unit=tree["441900"], period=AS_OF)
    # The engine's count of the units the figure rests on, not the row's completeness (0.5 and
    # 1 here): a coverage rests on the communities at its level, a ratio on the towns.
    at_city.filter(indicator__code="dg.social_orgs.coverage").update(
        reporting_units=28, expected_units=36
    )
    at_city.filter(indicator__code="dg.online.share").update(reporting_units=2, expected_units=2)
    # Reported by the city itself: the figure rests on no children, and says nothing.
    at_city.filter(indicator__code="dg.volunteers.share").update(
        reporting_units=None, expected_units=None
    )
    response = leader.get(CITY_DG)
    by_code = {line.code: line for line in response.context["d"].all_lines}
    assert by_code["dg.social_orgs.coverage"].basis == "36个村（社区）中28个"
    assert by_code["dg.online.share"].basis == "2个镇街中2个"
    assert by_code["dg.volunteers.share"].basis == ""
    assert "36个村（社区）中28个" in response.content.decode()
    for url, expected in (
        (reverse("reports:unit", args=["441900"]), "36个村（社区）中28个"),
        (reverse("reports:indicator", args=["dg.online.share"]), "2个镇街中2个"),
    ):
        assert expected in leader.get(url).content.decode(), url
    leader.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = leader.get(CITY_DG).context["d"]
    assert {x.code: x.basis for x in english.all_lines}["dg.social_orgs.coverage"] == (
        "28 of 36 communities"
    )


def test_plans_are_named_by_title_and_homonyms_by_their_plan(leader, data, second_plan):
    response = leader.get(CITY_DG)
    d = response.context["d"]
    assert all(SLUG not in o["label"] for o in d.plan_options)
    assert all(SLUG not in c for c in d.chart["categories"])
    assert SLUG not in visible_text(response.content.decode())
    twins = [x for x in d.all_lines if x.name == "注册志愿者占常住人口比例"]
    assert len(twins) == 2 and all(x.homonym for x in twins)
    assert {x.plan_title for x in twins} == {
        "关于加强社会建设的意见",
        "关于加强城市社区居委会建设的意见",
    }
    assert "（关于加强城市社区居委会建设的意见）" in response.content.decode()
    # The goal filter lists each goal under its plan.
    assert '<optgroup label="关于加强城市社区居委会建设的意见">' in response.content.decode()


def test_a_restated_target_is_one_line_naming_the_other_document(leader, data, second_plan):
    d = leader.get(CITY_DG).context["d"]
    codes = [x.code for x in d.all_lines]
    assert "dg.csjwh.centres" not in codes and "dg.centres" in codes
    centres = next(x for x in d.all_lines if x.code == "dg.centres")
    assert centres.also_in == ["关于加强城市社区居委会建设的意见"]
    assert [x.code for x in d.attention].count("dg.centres") == 1
    assert "dg.csjwh.centres" not in [x.code for x in d.attention]
    assert d.total == 6  # five of the first plan and the twin; not the restatement
    card = next(c for c in leader.get("/").context["cards"] if c.unit.code == "441900")
    unit = leader.get(reverse("reports:unit", args=["441900"])).context["o"]
    assert card.indicators == d.total
    assert card.attention == len(d.attention) == len(unit.attention)
    detail = leader.get(reverse("reports:indicator", args=["dg.centres"])).context["i"]
    assert detail.also_in == ["关于加强城市社区居委会建设的意见"]


def test_an_indicators_source_is_its_document_never_a_file_name(leader, data):
    text = leader.get(reverse("reports:indicator", args=["dg.volunteers.share"])).content.decode()
    assert "001_6b5a303b382abbae.txt" not in text
    for shown in (
        "关于加强社会建设的意见",
        "东委发〔2012〕14号",
        "中共东莞市委 东莞市人民政府",
        "2012-05-28",
        "19 完善志愿服务体系",
        "力争到2015年全市注册志愿者占常住人口的12%以上",
    ):
        assert shown in text, shown
