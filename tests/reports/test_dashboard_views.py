"""The leadership pages: who sees what (the scope rule), what each page shows, and that pages
only read stored progress rows with a bounded number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from reports.templatetags.dashboard import sparkline
from tests.reports.test_dashboard_data import AS_OF, grow, make_catalog, make_progress


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


def login(client, user):
    client.force_login(user)
    return client


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


CITY_DG = reverse("reports:city", args=["441900"])
CITY_ZS = reverse("reports:city", args=["442000"])


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        CITY_DG,
        reverse("reports:unit", args=["441900003"]),
        reverse("reports:indicator", args=["dg.volunteers.share"]),
        reverse("reports:compare"),
        reverse("reports:packs"),
    ],
)
def test_anonymous_visitor_is_sent_to_the_login_page(client, data, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_leader_of_one_city_cannot_open_another_citys_pages(client, data, cast):
    login(client, cast["erin"])  # leader of Zhongshan
    for url in [
        CITY_DG,
        reverse("reports:unit", args=["441900"]),
        reverse("reports:unit", args=["441900003"]),
        reverse("reports:indicator", args=["dg.volunteers.share"]),
        reverse("reports:indicator", args=["dg.volunteers.share"]) + "?unit=441900101",
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "不在您的权限范围内" in response.content.decode()
    assert client.get(CITY_ZS).status_code == 200


def test_leader_of_dongguan_is_refused_zhongshan(client, data, cast):
    login(client, cast["carol"])
    assert client.get(CITY_ZS).status_code == 403
    assert client.get(reverse("reports:indicator", args=["zs.online.share"])).status_code == 403
    assert client.get(CITY_DG).status_code == 200


def test_town_official_sees_their_town_but_not_the_city_or_a_neighbour(client, data, cast):
    login(client, cast["alice"])  # official on 东城
    assert client.get(CITY_DG).status_code == 403
    assert client.get(reverse("reports:unit", args=["441900101"])).status_code == 403
    html = page(client, reverse("reports:unit", args=["441900003"]))
    assert "东城街道" in html and "东城社区A" in html
    # The indicator page opens on the official's own unit, not the city.
    html = page(client, reverse("reports:indicator", args=["dg.volunteers.share"]))
    assert "东城街道" in html
    assert "7" in html


def test_user_without_a_role_sees_no_city(client, data, cast):
    login(client, cast["zoe"])
    html = page(client, "/")
    assert "您的权限范围内还没有规划" in html
    assert client.get(CITY_DG).status_code == 403


def test_unknown_codes_are_not_found(client, data, cast):
    login(client, cast["admin"])
    assert client.get(reverse("reports:city", args=["999999"])).status_code == 404
    assert client.get(reverse("reports:indicator", args=["nope"])).status_code == 404
    # A unit outside the plan's city is not part of that indicator.
    url = reverse("reports:indicator", args=["dg.volunteers.share"]) + "?unit=442000001"
    assert client.get(url).status_code == 404


# --- home ---------------------------------------------------------------------------------------


def test_home_shows_a_leaders_city_with_status_counts_and_next_deadlines(client, data, cast):
    login(client, cast["carol"])
    html = page(client, "/")
    assert 'data-city="441900"' in html
    assert 'data-city="442000"' not in html
    assert "东莞市" in html and CITY_DG in html
    # 2014 at the city: achieved ×2, off track, at risk, missed → 2 of 5 good = 40%.
    assert "40%" in html
    assert "截至 2014" in html
    assert "2015-12-31" in html  # the next deadline
    assert "滞后" in html and "未达成" in html


def test_home_shows_every_city_to_the_administrator(client, data, cast):
    login(client, cast["admin"])
    html = page(client, "/")
    assert 'data-city="441900"' in html and 'data-city="442000"' in html
    assert reverse("reports:compare") in html


def test_home_gives_a_town_official_a_card_for_their_own_unit(client, data, cast):
    login(client, cast["alice"])
    html = page(client, "/")
    assert 'data-city="441900003"' in html
    assert reverse("reports:unit", args=["441900003"]) in html
    assert CITY_DG not in html


# --- city dashboard -----------------------------------------------------------------------------


def test_city_dashboard_shows_every_indicator_with_value_target_and_status_in_words(
    client, data, cast
):
    login(client, cast["carol"])
    html = page(client, CITY_DG)
    for name in [
        "注册志愿者占常住人口比例",
        "网上办理事项比例",
        "建成社区服务中心",
        "注册志愿者总数",
    ]:
        assert name in html
    assert "8.6%" in html and "≥ 12%" in html and "2015-12-31" in html
    assert "1,200,000 人" in html
    # Status is text and icon, never colour alone.
    assert 'class="status st-off_track"' in html and "滞后" in html
    assert "已达成" in html and "未达成" in html
    assert 'data-chart="goals"' in html and 'id="chart-data"' in html


def test_needs_attention_lists_off_track_indicators_and_the_towns_dragging_them(client, data, cast):
    login(client, cast["carol"])
    response = client.get(CITY_DG)
    dashboard = response.context["d"]
    attention = [line.code for line in dashboard.attention]
    # Missed first, then off track, then at risk.
    assert attention == [
        "dg.centres",
        "dg.volunteers.share",
        "dg.social_orgs.coverage",
    ]
    volunteers = dashboard.attention[1]
    assert [u["code"] for u in volunteers.draggers] == ["441900003"]
    centres = dashboard.attention[0]
    assert [u["code"] for u in centres.draggers] == ["441900101"]
    # 石碣 has no data on the coverage indicator for 2014: listed as not reported.
    assert [(u["code"], u["missing"]) for u in dashboard.missing_reports] == [("441900101", 1)]
    html = response.content.decode()
    assert "拖后腿的下级单位" in html and "东城街道" in html


def test_city_dashboard_filters_by_plan_goal_status_and_as_of(client, data, cast):
    login(client, cast["carol"])
    goal = data["goals"]["19"]
    d = client.get(CITY_DG, {"goal": goal.id}).context["d"]
    assert {line.code for g in d.plans[0].goals for line in g.lines} == {
        "dg.volunteers.share",
        "dg.volunteers.total",
    }
    d = client.get(CITY_DG, {"status": "achieved"}).context["d"]
    assert {line.code for p in d.plans for g in p.goals for line in g.lines} == {
        "dg.volunteers.total",
        "dg.online.share",
    }
    d = client.get(CITY_DG, {"status": "attention"}).context["d"]
    assert d.shown == 3
    d = client.get(CITY_DG, {"as_of": "2012"}).context["d"]
    assert d.as_of == "2012"
    by_code = {line.code: line for line in d.all_lines}
    assert by_code["dg.volunteers.share"].status.code == "on_track"
    assert by_code["dg.volunteers.share"].value_display == "7.2%"
    # An unknown period or plan falls back to the defaults rather than failing.
    d = client.get(CITY_DG, {"as_of": "1999", "plan": "nope", "status": "bogus"}).context["d"]
    assert d.as_of == AS_OF and d.shown == d.total == 5


def test_city_dashboard_progress_bar_marks_the_trajectory(client, data, cast):
    login(client, cast["carol"])
    d = client.get(CITY_DG).context["d"]
    line = next(x for x in d.all_lines if x.code == "dg.volunteers.share")
    assert line.bar_pct == pytest.approx(8.6 / 12 * 100, rel=1e-3)
    assert line.expected_pct == pytest.approx(8.6 * 1.1 / 12 * 100, abs=0.1)
    spark = sparkline([v for _p, v in line.series], line.spark_target)
    assert spark is not None and len(spark["points"].split()) == 4


def test_city_dashboard_in_english_shows_english_names(client, data, cast):
    login(client, cast["carol"])
    response = client.post(
        reverse("set_language"), {"language": "en", "next": CITY_DG}, follow=True
    )
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Dongguan" in html
    assert "Registered volunteers as a share of residents" in html
    assert "Opinions on Strengthening Social Construction" in html
    # Every page keeps the language switch.
    assert 'data-lang="zh-hans"' in html and 'name="language"' in html


# --- org-unit and indicator pages ------------------------------------------------------------


def test_unit_page_lists_indicators_at_the_unit_and_drills_down_to_children(client, data, cast):
    login(client, cast["carol"])
    html = page(client, reverse("reports:unit", args=["441900003"]))
    assert "东城街道" in html and "东城社区A" in html and "东城社区B" in html
    assert reverse("reports:unit", args=["441900003001"]) in html
    assert "注册志愿者占常住人口比例" in html and "7%" in html
    # The breadcrumb leads back to the city.
    assert reverse("reports:unit", args=["441900"]) in html


def test_indicator_page_shows_trend_league_table_source_and_completeness(client, data, cast):
    login(client, cast["carol"])
    response = client.get(reverse("reports:indicator", args=["dg.volunteers.share"]))
    assert response.status_code == 200
    detail = response.context["i"]
    html = response.content.decode()
    assert detail.trend_chart["categories"] == ["2011", "2012", "2013", "2014", "2015"]
    assert detail.trend_chart["values"][:4] == [6.5, 7.2, 7.9, 8.6]
    assert detail.trend_chart["trajectory"] == [6.5, None, None, None, 12.0]
    assert detail.trend_chart["forecast"][3] == 8.6 and detail.trend_chart["forecast"][4]
    # League table: 石碣 ranks first (11.5%), 东城 second; each with its own status.
    assert [(u["code"], u["rank"], u["status"].code) for u in detail.league] == [
        ("441900101", 1, "on_track"),
        ("441900003", 2, "off_track"),
    ]
    assert "力争到2015年全市注册志愿者占常住人口的12%以上" in html
    # The source is the document (number, title), never its file name (issue 13).
    assert "东委发〔2012〕14号" in html and "001_6b5a303b382abbae.txt" not in html
    assert "6.5%（2011）" in html  # the declared baseline
    assert 'data-chart="trend"' in html and 'data-chart="league"' in html


def test_indicator_page_shows_shares_not_status_for_totals_below_the_city(client, data, cast):
    login(client, cast["carol"])
    detail = client.get(reverse("reports:indicator", args=["dg.volunteers.total"])).context["i"]
    assert detail.league_kind == "share"
    assert [(u["code"], u["share"]) for u in detail.league] == [
        ("441900003", "60%"),
        ("441900101", "40%"),
    ]


def test_indicator_page_shows_who_reported_what_and_when(client, data, cast):
    from core.periods import Period
    from districts.services import value_save, values_approve

    value = value_save(
        actor=cast["alice"],
        element=data["el"]["volunteers.registered"],
        org_unit=data["ind"]["dg.volunteers.share"].plan.city.children.get(code="441900003"),
        period=Period.parse("2014"),
        value=Decimal(72000),
        submit=True,
    )
    values_approve(actor=cast["bob"], values=[value])
    login(client, cast["carol"])
    detail = client.get(reverse("reports:indicator", args=["dg.volunteers.share"])).context["i"]
    assert [(r["unit"]["code"], r["by"], r["state"], r["reviewed_by"]) for r in detail.reports] == [
        ("441900003", "alice", "approved", "bob")
    ]
    assert [s["state"] for s in detail.report_states] == ["approved"]
    assert {c["by"] for c in detail.changes} == {"alice", "bob"}


# --- comparison ---------------------------------------------------------------------------------


def test_comparison_puts_like_indicators_of_the_cities_side_by_side(client, data, cast):
    login(client, cast["admin"])
    c = client.get(reverse("reports:compare")).context["c"]
    assert not c.single_city
    groups = {tuple(sorted(cell["line"].code for cell in g.cells)): g for g in c.groups}
    assert set(groups) == {
        ("dg.online.share", "zs.online.share"),
        ("dg.volunteers.share", "zs.volunteers.share"),
    }
    volunteers = groups[("dg.volunteers.share", "zs.volunteers.share")]
    # Each city against its own target.
    assert [(cell["city"]["code"], cell["line"].target_display) for cell in volunteers.cells] == [
        ("441900", "≥ 12%"),
        ("442000", "≥ 10%"),
    ]
    assert volunteers.chart["values"] == [round(8.6 / 12 * 100, 1), round(9.1 / 10 * 100, 1)]


def test_comparison_needs_a_scope_covering_several_cities(client, data, cast):
    login(client, cast["carol"])
    html = page(client, reverse("reports:compare"))
    assert "需要覆盖多个城市的权限" in html
    assert "zs.online.share" not in html


# --- query counts -------------------------------------------------------------------------------


def _grow(data, tree, size):
    if size == "large":
        grow(data, tree, towns=12, indicators=15)


@pytest.mark.parametrize("size", ["small", "large"])
def test_city_dashboard_query_count_does_not_grow_with_towns_or_indicators(
    client, data, cast, tree, size, django_assert_num_queries
):
    _grow(data, tree, size)
    login(client, cast["carol"])
    # session, user, city, scope, then plans, goals, indicators, rows, children, draggers
    # + the reporting schedules (the as-of rule), + the city's departments (the department filter)
    with django_assert_num_queries(12):
        response = client.get(CITY_DG)
    assert response.status_code == 200
    assert len(response.context["d"].all_lines) == (20 if size == "large" else 5)


@pytest.mark.parametrize("size", ["small", "large"])
def test_indicator_page_query_count_does_not_grow_with_towns_or_periods(
    client, data, cast, tree, size, django_assert_num_queries
):
    _grow(data, tree, size)
    login(client, cast["carol"])
    url = reverse(
        "reports:indicator", args=["dg.extra.1" if size == "large" else "dg.online.share"]
    )
    # session, user, indicator, scope, rows, children, breadcrumb, 3 × reports
    with django_assert_num_queries(13):  # + as-of (unit periods, schedules) and same_as
        response = client.get(url)
    assert response.status_code == 200
    if size == "large":
        assert len(response.context["i"].league) == 14


@pytest.mark.parametrize("size", ["small", "large"])
def test_home_unit_and_comparison_query_counts_are_bounded(
    client, data, cast, tree, size, django_assert_max_num_queries
):
    _grow(data, tree, size)
    login(client, cast["admin"])
    with django_assert_max_num_queries(7):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("reports:unit", args=["441900"])).status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(reverse("reports:compare")).status_code == 200
