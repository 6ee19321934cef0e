"""The entry form (/data/entry/): which elements a unit reports, saving a grid atomically with
one message per cell, Chinese number formats, locks, rejections, version conflicts, scopes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.periods import Period
from districts import services
from districts.models import DataValue, DataValueChange, OrgUnit
from districts.selectors import tier_of, unit_reports
from targets.models import DataElement

URL = reverse("districts:entry")
COMMUNITY = "441900003001"
SUBDISTRICT = "441900003"
OTHER_TOWNS_VILLAGE = "441900101001"


@pytest.fixture
def elements(db):
    pop = DataElement.objects.create(
        code="population.resident", name_zh="常住人口", name_en="Resident population",
        unit="persons", value_type="integer", period_type="year", aggregation="sum",
        temporal="last", level="community",
    )  # fmt: skip
    made = {"pop": pop}
    made["vol"] = DataElement.objects.create(
        code="volunteers.registered", name_zh="注册志愿者人数", name_en="Registered volunteers",
        unit="persons", value_type="integer", period_type="year", aggregation="sum",
        temporal="last", level="community", not_above=pop,
    )  # fmt: skip
    made["rate"] = DataElement.objects.create(
        code="services.online_rate", name_zh="网上办理率", name_en="Online rate", unit="%",
        value_type="percent", period_type="year", aggregation="average", temporal="last",
        level="community",
    )  # fmt: skip
    made["budget"] = DataElement.objects.create(
        code="town.budget", name_zh="镇街社会建设经费", name_en="Town budget", unit="yuan",
        value_type="number", period_type="year", aggregation="sum", temporal="sum",
        level="town",
    )  # fmt: skip
    made["monthly"] = DataElement.objects.create(
        code="cases.monthly", name_zh="月度受理件数", name_en="Cases", unit="件",
        value_type="integer", period_type="month", aggregation="sum", temporal="sum",
        level="community",
    )  # fmt: skip
    return made


def login(client, cast, name):
    client.force_login(cast[name])
    return client


def grid_url(unit=COMMUNITY, period="2015", **extra):
    query = "&".join(f"{k}={v}" for k, v in {"unit": unit, "period": period, **extra}.items())
    return f"{URL}?{query}"


def post(client, data, unit=COMMUNITY, period="2015"):
    return client.post(grid_url(unit, period), data)


def value_of(element, unit=COMMUNITY, period="2015") -> DataValue | None:
    return DataValue.objects.filter(element=element, org_unit__code=unit, period=period).first()


def enter(actor, element, value, unit=COMMUNITY, period="2015", **kwargs) -> DataValue:
    return services.value_save(
        actor=actor, element=element, org_unit=OrgUnit.objects.get(code=unit),
        period=Period.parse(period), value=Decimal(value), **kwargs,
    )  # fmt: skip


# --- which elements a unit reports -------------------------------------------------------------


def test_a_unit_reports_at_the_first_level_at_or_below_the_elements_level():
    community, town, city = tier_of("community"), tier_of("town"), tier_of("city")
    # A community reports community-level figures; its town does not (it gets the sum).
    assert unit_reports(unit_tier=community, parent_tier=town, is_leaf=True, element_tier=community)
    assert not unit_reports(unit_tier=town, parent_tier=city, is_leaf=False, element_tier=community)
    # A grid below the community does not report them a second time.
    assert not unit_reports(
        unit_tier=tier_of("grid"), parent_tier=community, is_leaf=True, element_tier=community
    )
    # Dongguan has no districts: its towns report district-level figures.
    assert unit_reports(
        unit_tier=town, parent_tier=city, is_leaf=False, element_tier=tier_of("district")
    )
    # A town with no communities in the tree yet reports the community figures itself.
    assert unit_reports(unit_tier=town, parent_tier=city, is_leaf=True, element_tier=community)
    # An element without a level may be entered anywhere.
    assert unit_reports(unit_tier=city, parent_tier=None, is_leaf=False, element_tier=-1)


def test_grid_lists_the_elements_the_community_reports_with_last_periods_value(
    client, cast, elements
):
    enter(cast["alice"], elements["pop"], "11800", period="2014")
    response = login(client, cast, "alice").get(grid_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "population.resident" in body and "volunteers.registered" in body
    assert "town.budget" not in body  # reported by the subdistrict
    assert "cases.monthly" not in body  # a monthly element on a yearly form
    grid = response.context["grid"]
    row = next(r for r in grid.rows if r.element.code == "population.resident")
    assert row.previous_shown == "11800"
    assert f'name="v-{elements["pop"].id}"' in body


def test_the_subdistrict_grid_lists_town_level_elements_and_can_show_all(client, cast, elements):
    client = login(client, cast, "alice")
    codes = [r.element.code for r in client.get(grid_url(SUBDISTRICT)).context["grid"].rows]
    assert codes == ["town.budget"]
    every = client.get(grid_url(SUBDISTRICT, all="1")).context["grid"].rows
    assert len(every) == 4


def test_a_monthly_period_shows_the_monthly_elements(client, cast, elements):
    rows = login(client, cast, "alice").get(grid_url(period="2015-07")).context["grid"].rows
    assert [r.element.code for r in rows] == ["cases.monthly"]


def test_a_bad_period_is_explained(client, cast, elements):
    response = login(client, cast, "alice").get(grid_url(period="2015Q5"))
    assert response.status_code == 400
    assert "2015Q3" in response.context["period_error"]


def test_english_page_shows_english_element_names(client, cast, elements):
    client = login(client, cast, "alice")
    client.cookies["django_language"] = "en"
    body = client.get(grid_url()).content.decode()
    assert "Resident population" in body and "常住人口" not in body


# --- saving ------------------------------------------------------------------------------


def test_official_saves_a_draft_typed_in_chinese_number_formats(client, cast, elements):
    pop, vol, rate = elements["pop"], elements["vol"], elements["rate"]
    response = post(
        login(client, cast, "alice"),
        {
            f"v-{pop.id}": "１２,０００",
            f"ver-{pop.id}": "0",
            f"c-{pop.id}": "社区统计",
            f"v-{vol.id}": "1,500",
            f"ver-{vol.id}": "0",
            f"v-{rate.id}": "85.5%",
            f"ver-{rate.id}": "0",
            "action": "save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = value_of(pop)
    assert saved.value == 12000 and saved.state == "draft" and saved.comment == "社区统计"
    assert saved.source == "form" and saved.created_by == cast["alice"]
    assert value_of(vol).value == 1500 and value_of(rate).value == Decimal("85.5")
    change = DataValueChange.objects.get(data_value=saved)
    assert (change.action, change.new_value, change.actor) == ("create", 12000, cast["alice"])


def test_submit_saves_and_sends_the_drafts_for_review(client, cast, elements):
    pop, vol = elements["pop"], elements["vol"]
    draft = enter(cast["alice"], vol, "100")
    response = post(
        login(client, cast, "alice"),
        {f"v-{pop.id}": "12000", f"ver-{pop.id}": "0", f"v-{vol.id}": "100",
         f"ver-{vol.id}": str(draft.version), "action": "submit"},
    )  # fmt: skip
    assert response.status_code == 302
    assert {v.state for v in DataValue.objects.all()} == {"submitted"}
    assert DataValueChange.objects.filter(action="submit").count() == 2


def test_every_bad_cell_gets_its_own_message_and_nothing_is_saved(client, cast, elements):
    pop, vol, rate = elements["pop"], elements["vol"], elements["rate"]
    response = post(
        login(client, cast, "alice"),
        {
            f"v-{pop.id}": "1000",
            f"v-{vol.id}": "1001",  # above the population of the same form
            f"v-{rate.id}": "120%",
            "action": "save",
        },
    )
    assert response.status_code == 400
    rows = {r.element.code: r for r in response.context["grid"].rows}
    assert "population.resident" in rows["volunteers.registered"].error
    assert "100" in rows["services.online_rate"].error
    assert rows["population.resident"].error == ""
    assert rows["services.online_rate"].text == "120%"  # shown again as typed
    assert not DataValue.objects.exists()


def test_a_number_that_is_not_a_number_is_refused(client, cast, elements):
    pop = elements["pop"]
    response = post(login(client, cast, "alice"), {f"v-{pop.id}": "一万二", "action": "save"})
    assert response.status_code == 400
    row = next(r for r in response.context["grid"].rows if r.element == pop)
    assert "不是数字" in row.error and row.error in response.content.decode()
    assert not DataValue.objects.exists()


def test_a_reported_value_cannot_be_cleared(client, cast, elements):
    pop = elements["pop"]
    stored = enter(cast["alice"], pop, "12000")
    response = post(
        login(client, cast, "alice"),
        {f"v-{pop.id}": "", f"ver-{pop.id}": str(stored.version), "action": "save"},
    )
    assert response.status_code == 400
    assert value_of(pop).value == 12000


def test_a_concurrent_edit_gets_a_version_conflict_message(client, cast, elements):
    pop = elements["pop"]
    stored = enter(cast["alice"], pop, "12000")
    seen_version = stored.version
    enter(cast["admin"], pop, "12500", expected_version=seen_version)  # someone else, meanwhile
    response = post(
        login(client, cast, "alice"),
        {f"v-{pop.id}": "13000", f"ver-{pop.id}": str(seen_version), "action": "save"},
    )
    assert response.status_code == 400
    row = next(r for r in response.context["grid"].rows if r.element == pop)
    assert "已被他人修改" in row.error
    assert value_of(pop).value == 12500


def test_approved_cells_are_read_only_and_cannot_be_overwritten(client, cast, elements):
    pop = elements["pop"]
    stored = enter(cast["alice"], pop, "12000", submit=True)
    services.values_approve(actor=cast["bob"], values=[stored])
    client = login(client, cast, "alice")
    body = client.get(grid_url()).content.decode()
    assert f'id="v-{pop.id}" value="12000" class="value-input" readonly disabled' in body
    assert "已锁定" in body
    # A hand-made post is refused by the service all the same.
    response = post(client, {f"v-{pop.id}": "99", f"ver-{pop.id}": "3", "action": "save"})
    assert response.status_code == 400
    assert value_of(pop).value == 12000 and value_of(pop).state == "approved"


def test_the_official_sees_the_reviewers_comment_on_a_rejected_value(client, cast, elements):
    pop = elements["pop"]
    stored = enter(cast["alice"], pop, "12000", submit=True)
    services.values_reject(actor=cast["bob"], values=[stored], comment="与统计年鉴不符，请核实")
    client = login(client, cast, "alice")
    assert "与统计年鉴不符，请核实" in client.get(grid_url()).content.decode()
    index = client.get(reverse("districts:index")).content.decode()
    assert f"unit={COMMUNITY}&amp;period=2015" in index
    # Correcting it and submitting again sends it back to the reviewer.
    stored.refresh_from_db()
    response = post(
        client,
        {f"v-{pop.id}": "12100", f"ver-{pop.id}": str(stored.version), "action": "submit"},
    )
    assert response.status_code == 302
    assert (value_of(pop).value, value_of(pop).state) == (12100, "submitted")


# --- scopes --------------------------------------------------------------------------------


def test_official_cannot_enter_for_another_town(client, cast, elements):
    pop = elements["pop"]
    client = login(client, cast, "alice")
    assert client.get(grid_url(OTHER_TOWNS_VILLAGE)).status_code == 404
    response = post(client, {f"v-{pop.id}": "5", "action": "save"}, unit=OTHER_TOWNS_VILLAGE)
    assert response.status_code == 404
    assert not DataValue.objects.exists()
    with pytest.raises(PermissionDenied):
        services.values_save_grid(
            actor=cast["alice"],
            org_unit=OrgUnit.objects.get(code=OTHER_TOWNS_VILLAGE),
            period=Period.parse("2015"),
            cells=[services.GridCell(element=pop, text="5")],
        )


@pytest.mark.parametrize("name", ["bob", "carol", "erin", "zoe"])
def test_only_officials_and_admins_may_open_the_entry_form(client, cast, elements, name):
    response = login(client, cast, name).get(grid_url())
    assert response.status_code == 403


def test_a_reviewer_who_can_read_the_unit_is_refused_not_hidden(client, cast, elements):
    from districts.services import role_grant

    role_grant(username="bob", role="official", org_unit_code="441900101")
    # bob now writes in 石碣 and reads all of Dongguan: 东城 is visible but not writable.
    assert login(client, cast, "bob").get(grid_url()).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, elements):
    response = client.get(grid_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_unit_picker_lists_only_units_in_write_scope(client, cast, elements):
    response = login(client, cast, "alice").get(URL)
    codes = [code for code, _label in response.context["units"]]
    assert codes == [SUBDISTRICT, COMMUNITY, "441900003002"]


def test_entry_check_reads_a_cell_by_the_upload_rules(client, cast, elements):
    client = login(client, cast, "alice")
    url = reverse("districts:entry_check")
    ok = client.get(url, {"element": "population.resident", "value": "１,２３４"}).json()
    assert ok == {"ok": True, "value": "1234"}
    bad = client.get(url, {"element": "population.resident", "value": "-5"}).json()
    assert bad["ok"] is False and "负数" in bad["error"]


def test_grid_queries_do_not_grow_with_the_number_of_elements(
    client, cast, elements, django_assert_max_num_queries
):
    for i in range(30):
        DataElement.objects.create(
            code=f"extra.{i}", name_zh=f"附加{i}", unit="个", value_type="integer",
            period_type="year", aggregation="sum", temporal="last", level="community",
        )  # fmt: skip
    client = login(client, cast, "alice")
    # 12 for the grid, 1 for its plan/goal sections, 4 for the period picker (the unit's
    # reporting state by the supervision rule and the periods with values): constant.
    with django_assert_max_num_queries(17):
        assert client.get(grid_url()).status_code == 200


# --- the service directly ----------------------------------------------------------------


def test_values_save_grid_writes_every_cell_or_none(cast, elements):
    unit, period = OrgUnit.objects.get(code=COMMUNITY), Period.parse("2015")
    stored = enter(cast["alice"], elements["rate"], "50")
    enter(cast["admin"], elements["rate"], "60", expected_version=stored.version)
    result = services.values_save_grid(
        actor=cast["alice"],
        org_unit=unit,
        period=period,
        cells=[
            services.GridCell(element=elements["pop"], text="12000"),
            services.GridCell(element=elements["rate"], text="55", version=stored.version),
        ],
    )
    # The stale cell fails after the good one was written: the good one is rolled back too.
    assert not result.ok and list(result.errors) == ["services.online_rate"]
    assert result.saved == 0 and value_of(elements["pop"]) is None
    assert value_of(elements["rate"]).value == 60


def test_values_save_grid_leaves_untouched_cells_alone(cast, elements):
    unit, period = OrgUnit.objects.get(code=COMMUNITY), Period.parse("2015")
    stored = enter(cast["alice"], elements["pop"], "12000")
    result = services.values_save_grid(
        actor=cast["alice"],
        org_unit=unit,
        period=period,
        cells=[services.GridCell(element=elements["pop"], text="12,000", version=stored.version)],
    )
    assert result.ok and result.saved == 0
    assert DataValueChange.objects.count() == 1  # only the original create


# --- issue 17: a grid that reads well, and "complete" ---------------------------------------


@pytest.fixture
def planned(elements, tree):
    """A plan of Dongguan whose goal 一 uses population and volunteers; a yes/no element."""
    from targets.models import Goal, Indicator, Plan

    plan = Plan.objects.create(code="dg-plan", city=tree["441900"], title_zh="东莞社会建设规划")
    goal = Goal.objects.create(plan=plan, code="一", title_zh="人口与志愿服务", position=1)
    Indicator.objects.create(
        code="dg.vol_rate", plan=plan, goal=goal, name_zh="志愿者比例", kind="ratio",
        numerator=elements["vol"], denominator=elements["pop"], factor=100,
        comparator=">=", target=5, deadline=date(2025, 12, 31), quote="原文",
    )  # fmt: skip
    elements["flag"] = DataElement.objects.create(
        code="services.hotline", name_zh="是否开通服务热线", name_en="Hotline open",
        unit="yes/no", value_type="boolean", period_type="year", aggregation="sum",
        temporal="last", level="community",
    )  # fmt: skip
    return elements


def test_grid_is_grouped_by_plan_and_goal_with_names_first(client, cast, planned):
    response = login(client, cast, "alice").get(grid_url())
    sections = response.context["grid"].sections
    assert sections[0].title == "东莞社会建设规划 · 一 人口与志愿服务"
    assert [r.element.code for r in sections[0].rows] == [
        "population.resident",
        "volunteers.registered",
    ]
    assert sections[-1].title == "其他数据项"
    html = response.content.decode()
    row = html.split('id="row-population.resident"', 1)[1].split("</th>", 1)[0]
    assert row.index("常住人口") < row.index('<span class="code">population.resident')
    assert "单位：人" in row  # "persons" in the page's language


def test_yes_no_items_are_two_radio_buttons(client, cast, planned):
    enter(cast["alice"], planned["flag"], "1")
    html = login(client, cast, "alice").get(grid_url()).content.decode()
    row = html.split('id="row-services.hotline"', 1)[1].split("</tr>", 1)[0]
    eid = planned["flag"].id
    assert row.count('type="radio"') == 2 and f'name="v-{eid}"' in row
    yes = row.split(f'id="v-{eid}"', 1)[1].split(">", 1)[0]
    assert 'value="是"' in yes and "checked" in yes
    # Choosing 否 saves 0.
    response = post(
        client,
        {f"v-{eid}": "否", f"ver-{eid}": value_of(planned["flag"]).version, "action": "save"},
    )
    assert response.status_code == 302
    assert value_of(planned["flag"]).value == 0


def test_each_field_shows_last_value_and_the_expected_range(client, cast, planned):
    enter(cast["alice"], planned["pop"], "12000", period="2014")
    html = login(client, cast, "alice").get(grid_url()).content.decode()
    hint = html.split(f'id="hint-{planned["pop"].id}"', 1)[1].split("</span>\n", 1)[0]
    assert '<span class="prev">12000</span>' in hint
    assert '<span class="expected">4000–36000</span>' in hint
    assert 'data-factor="3"' in html


def test_complete_refuses_errors_then_asks_to_confirm_outliers_then_submits(client, cast, planned):
    enter(cast["alice"], planned["pop"], "3", period="2014")
    pop, vol, rate = planned["pop"].id, planned["vol"].id, planned["rate"].id
    flag = planned["flag"].id
    base = {f"ver-{i}": 0 for i in (pop, vol, rate, flag)}
    client = login(client, cast, "alice")
    # A part above its whole is an error: nothing saved.
    bad = post(client, {**base, f"v-{pop}": "30", f"v-{vol}": "40", "action": "complete"})
    assert bad.status_code == 400 and value_of(planned["pop"]) is None
    assert "不能大于" in bad.content.decode()
    # 30 against 3 last year, and an empty cell: warnings to confirm, nothing saved yet.
    data = {**base, f"v-{pop}": "30", f"v-{vol}": "20", f"v-{rate}": "50", "action": "complete"}
    warn = post(client, data)
    assert warn.status_code == 400 and value_of(planned["pop"]) is None
    html = warn.content.decode()
    assert 'name="confirm"' in html
    row = html.split('id="row-population.resident"', 1)[1].split("</tr>", 1)[0]
    assert "比上期高出 3 倍以上" in row
    row = html.split('id="row-services.hotline"', 1)[1].split("</tr>", 1)[0]
    assert "未填写" in row
    # Confirmed: saved and submitted, every value.
    done = post(client, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert {value_of(planned[k]).state for k in ("pop", "vol", "rate")} == {"submitted"}
