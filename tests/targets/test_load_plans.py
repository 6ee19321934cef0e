"""load_plans: the SPEC §4.1 contract — valid files load idempotently; an invalid file is
rejected whole with the file, the path inside it and the problem."""

from __future__ import annotations

import copy
import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from targets.models import DataElement, Goal, Indicator, Plan

ELEMENTS = [
    {"code": "volunteers.registered", "name_zh": "注册志愿者人数", "name_en": "Registered volunteers",
     "unit": "persons", "value_type": "integer", "period_type": "year", "aggregation": "sum",
     "temporal": "last", "not_above": "population.resident"},
    {"code": "population.resident", "name_zh": "常住人口", "unit": "persons",
     "value_type": "integer", "period_type": "year", "aggregation": "sum", "temporal": "last"},
    {"code": "social_orgs.count", "name_zh": "社会组织数", "unit": "orgs",
     "value_type": "integer", "period_type": "year", "aggregation": "sum", "temporal": "last"},
    {"code": "life.expectancy", "name_zh": "人均预期寿命", "unit": "years", "value_type": "number",
     "period_type": "year", "aggregation": "weighted_average", "weight": "population.resident",
     "temporal": "last"},
    {"code": "centres.built", "name_zh": "建成社区服务中心", "unit": "", "value_type": "boolean",
     "period_type": "year", "aggregation": "none", "temporal": "last"},
]  # fmt: skip

PLAN = {
    "plan": {
        "code": "dongguan-2012-14",
        "city": "441900",
        "title_zh": "中共东莞市委 东莞市人民政府关于加强社会建设的意见",
        "title_en": "Opinions on Strengthening Social Construction",
        "document_number": "东委发〔2012〕14号",
        "issuer_zh": "中共东莞市委 东莞市人民政府",
        "issued_on": "2012-05-28",
        "source": "001_6b5a303b382abbae.txt",
    },
    "data_elements": ELEMENTS,
    "goals": [
        {
            "code": "19",
            "title_zh": "不断完善社会志愿服务体系",
            "indicators": [
                {"code": "dg.volunteers.registered_share", "name_zh": "注册志愿者占常住人口比例",
                 "kind": "ratio", "numerator": "volunteers.registered",
                 "denominator": "population.resident", "factor": 100, "unit": "%",
                 "comparator": ">=", "target": 12, "deadline": "2015-12-31",
                 "baseline": {"value": 6.5, "period": "2011"},
                 "quote": "力争到2015年全市注册志愿者占常住人口的12%以上"},
                {"code": "dg.communities.with_social_org", "name_zh": "拥有1个以上社会组织的社区比例",
                 "kind": "coverage", "level": "community",
                 "condition": {"element": "social_orgs.count", "comparator": ">=", "value": 1},
                 "unit": "%", "comparator": ">=", "target": 100, "deadline": "2015-12-31",
                 "quote": "力争到2015年所有城乡社区都拥有1个以上社会组织"},
            ],
        },
        {
            "code": "20",
            "title_zh": "其他",
            "indicators": [
                {"code": "dg.volunteers.growth", "name_zh": "志愿者年均增长", "kind": "growth",
                 "of": "volunteers.registered", "mode": "percent", "from": "2011",
                 "comparator": ">=", "target": 8, "deadline": "2015-12-31", "quote": "年均增长8%"},
                {"code": "dg.centres", "name_zh": "建成中心", "kind": "milestone",
                 "element": "centres.built", "comparator": "=", "target": 1,
                 "deadline": "2012-12-31", "quote": "2012年底前建成"},
                {"code": "dg.life", "name_zh": "人均预期寿命", "kind": "value",
                 "element": "life.expectancy", "comparator": ">=", "target": 80,
                 "deadline": "2020-12-31", "quote": "人均预期寿命达到80岁"},
            ],
        },
    ],
}  # fmt: skip


def write(tmp_path, document, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def load(*paths) -> str:
    out = io.StringIO()
    call_command("load_plans", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def rejected(tmp_path, document) -> str:
    path = write(tmp_path, document)
    with pytest.raises(CommandError) as excinfo:
        load(path)
    message = str(excinfo.value)
    assert str(path) in message
    return message


def test_plan_file_creates_plan_goals_indicators_and_elements(tree, tmp_path):
    output = load(write(tmp_path, PLAN))

    assert "plan dongguan-2012-14: 2 goals, 5 indicators" in output
    plan = Plan.objects.get(code="dongguan-2012-14")
    assert plan.city.code == "441900" and plan.document_number == "东委发〔2012〕14号"
    assert list(plan.goals.values_list("code", flat=True)) == ["19", "20"]
    share = Indicator.objects.get(code="dg.volunteers.registered_share")
    assert (share.numerator.code, share.denominator.code, share.factor) == (
        "volunteers.registered", "population.resident", 100)  # fmt: skip
    assert share.baseline_value == 6.5 and share.baseline_period == "2011"
    coverage = Indicator.objects.get(code="dg.communities.with_social_org")
    assert coverage.condition_element.code == "social_orgs.count"
    assert coverage.condition_comparator == ">=" and coverage.condition_value == 1
    growth = Indicator.objects.get(code="dg.volunteers.growth")
    assert (growth.element.code, growth.growth_mode, growth.growth_from) == (
        "volunteers.registered", "percent", "2011")  # fmt: skip
    life = DataElement.objects.get(code="life.expectancy")
    assert life.aggregation == "weighted_average" and life.weight.code == "population.resident"
    assert (
        DataElement.objects.get(code="volunteers.registered").not_above.code
        == "population.resident"
    )


def test_loading_the_same_file_twice_changes_nothing(tree, tmp_path):
    path = write(tmp_path, PLAN)
    load(path)
    before = {
        "indicators": list(Indicator.objects.order_by("id").values()),
        "goals": list(Goal.objects.order_by("id").values()),
        "elements": list(DataElement.objects.order_by("id").values()),
    }
    output = load(path)
    assert "(unchanged)" in output and "(changed)" not in output
    after = {
        "indicators": list(Indicator.objects.order_by("id").values()),
        "goals": list(Goal.objects.order_by("id").values()),
        "elements": list(DataElement.objects.order_by("id").values()),
    }
    assert before == after


def test_updated_file_updates_target_and_drops_removed_indicator(tree, tmp_path):
    load(write(tmp_path, PLAN))
    changed = copy.deepcopy(PLAN)
    changed["goals"][0]["indicators"][0]["target"] = 15
    del changed["goals"][1]["indicators"][2]
    load(write(tmp_path, changed))
    assert Indicator.objects.get(code="dg.volunteers.registered_share").target == 15
    assert not Indicator.objects.filter(code="dg.life").exists()


def _broken(mutate):
    document = copy.deepcopy(PLAN)
    mutate(document)
    return document


def _indicator(document, goal=0, index=0):
    return document["goals"][goal]["indicators"][index]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _indicator(d).update(numerator="volunteers.unknown"),
         "goals[0].indicators[0].numerator: unknown data element “volunteers.unknown”"),
        (lambda d: _indicator(d).update(comparator="≥"),
         "goals[0].indicators[0].comparator: “≥” is not one of >=, >, <=, <, ="),
        (lambda d: _indicator(d).pop("target"), "goals[0].indicators[0].target: is required"),
        (lambda d: _indicator(d).update(target="twelve"),
         "goals[0].indicators[0].target: “twelve” is not a number"),
        (lambda d: d["plan"].update(city="999999"),
         "plan.city: org unit “999999” does not exist"),
        (lambda d: _indicator(d).pop("denominator"),
         "goals[0].indicators[0].denominator: is required"),
        (lambda d: _indicator(d).update(factor=0),
         "goals[0].indicators[0].factor: must be greater than 0"),
        (lambda d: _indicator(d, 0, 1).pop("condition"),
         "goals[0].indicators[1].condition: is required for a coverage indicator"),
        (lambda d: _indicator(d, 0, 1).update(level="province"),
         "goals[0].indicators[1].level: “province” is not one of"),
        (lambda d: _indicator(d, 0, 1)["condition"].pop("element"),
         "goals[0].indicators[1].condition: needs `element:` or `numerator:` and `denominator:`"),
        (lambda d: _indicator(d, 1, 0).update(mode="fast"),
         "goals[1].indicators[0].mode: “fast” is not one of percent, points"),
        (lambda d: _indicator(d, 1, 0).update({"from": "2011-13"}),
         "goals[1].indicators[0].from: “2011-13”: month 13 is not 1–12"),
        (lambda d: _indicator(d, 1, 1).update(element="social_orgs.count"),
         "goals[1].indicators[1].element: a milestone needs a boolean element"),
        (lambda d: _indicator(d).update(kind="index"),
         "goals[0].indicators[0].kind: “index” is not one of value, ratio, coverage, growth, milestone"),
        (lambda d: _indicator(d).pop("quote"), "goals[0].indicators[0].quote: is required"),
        (lambda d: _indicator(d).pop("deadline"), "goals[0].indicators[0].deadline: is required"),
        (lambda d: _indicator(d).update(deadline="2015-13-01"),
         "goals[0].indicators[0].deadline: “2015-13-01” is not a date"),
        (lambda d: _indicator(d, 0, 1).update(code="dg.volunteers.registered_share"),
         "indicator “dg.volunteers.registered_share” already appears at goals[0].indicators[0]"),
        (lambda d: _indicator(d).update(colour="red"), "goals[0].indicators[0].colour: unknown key"),
        (lambda d: d["data_elements"][3].pop("weight"),
         "data_elements[3].weight: is required for aggregation weighted_average"),
        (lambda d: d["data_elements"][0].update(aggregation="max"),
         "data_elements[0].aggregation: “max” is not one of"),
        (lambda d: _indicator(d).update(baseline={"value": 6.5, "period": "2016"}),
         "goals[0].indicators[0].baseline.period: must end before the deadline"),
        (lambda d: _indicator(d).update(same_as="dg.nothing"),
         "goals[0].indicators[0].same_as: unknown indicator “dg.nothing”"),
        (lambda d: d.pop("goals"), "goals: a plan needs at least one goal"),
        (lambda d: d["plan"].update(kind="memo"),
         "plan.kind: “memo” is not one of policy, implementation, work_plan, report, proposal"),
        (lambda d: _indicator(d).update(group="gated_estates"),
         "goals[0].indicators[0].group: unknown org-unit group “gated_estates” (known: "),
        (lambda d: _indicator(d, 1, 2).update(group="urban_community"),
         "goals[1].indicators[2].group: only a coverage or ratio indicator can be restricted"),
    ],
)  # fmt: skip
def test_invalid_plan_is_rejected_whole_naming_path_and_problem(tree, tmp_path, mutate, expected):
    message = rejected(tmp_path, _broken(mutate))
    assert expected in message
    assert not Plan.objects.exists()
    assert not DataElement.objects.exists()  # nothing of the file was written


def test_every_problem_of_a_file_is_reported_at_once(tree, tmp_path):
    def two_problems(d):
        _indicator(d).update(comparator="gte")
        _indicator(d, 1, 0).pop("target")

    message = rejected(tmp_path, _broken(two_problems))
    assert "goals[0].indicators[0].comparator" in message
    assert "goals[1].indicators[0].target: is required" in message


def test_yaml_syntax_error_names_line(tree, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("plan:\n  code: x\n  title_zh: [unclosed\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"broken.yaml: line \d+, column \d+: not valid YAML"):
        load(path)


def test_a_later_invalid_file_keeps_earlier_valid_files(tree, tmp_path):
    good = write(tmp_path, PLAN, "a.yaml")
    bad = write(
        tmp_path, _broken(lambda d: d["plan"].update(code="other", city="nowhere")), "b.yaml"
    )
    with pytest.raises(CommandError, match=r"b\.yaml"):
        load(good, bad)
    assert Plan.objects.filter(code="dongguan-2012-14").exists()
    assert not Plan.objects.filter(code="other").exists()


def test_indicator_code_owned_by_another_plan_is_refused(tree, tmp_path):
    load(write(tmp_path, PLAN, "a.yaml"))
    other = _broken(lambda d: d["plan"].update(code="dongguan-other"))
    message = rejected(tmp_path, other)
    assert "belongs to plan “dongguan-2012-14”" in message


def test_vocabulary_file_and_plan_without_own_elements(tree, tmp_path):
    vocab = write(tmp_path, {"data_elements": ELEMENTS}, "elements.yaml")
    plan_only = copy.deepcopy(PLAN)
    del plan_only["data_elements"]
    plan_path = write(tmp_path, plan_only, "plan.yaml")
    load(plan_path, vocab)  # order on the command line does not matter
    assert Indicator.objects.count() == 5


def test_export_catalog_lists_targets_with_quotes(tree, tmp_path):
    load(write(tmp_path, PLAN))
    out = io.StringIO()
    call_command("export_catalog", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    share = next(r for r in rows if r["indicator"] == "dg.volunteers.registered_share")
    assert share == {
        "plan": "dongguan-2012-14",
        "plan_title_zh": "中共东莞市委 东莞市人民政府关于加强社会建设的意见",
        "city": "441900",
        "document_number": "东委发〔2012〕14号",
        "goal": "19",
        "goal_title_zh": "不断完善社会志愿服务体系",
        "indicator": "dg.volunteers.registered_share",
        "name_zh": "注册志愿者占常住人口比例",
        "name_en": "",
        "kind": "ratio",
        "comparator": ">=",
        "target": 12,
        "unit": "%",
        "deadline": "2015-12-31",
        "baseline_value": 6.5,
        "baseline_period": "2011",
        "elements": ["volunteers.registered", "population.resident"],
        "same_as": None,
        "quote": "力争到2015年全市注册志愿者占常住人口的12%以上",
    }
    csv_out = io.StringIO()
    call_command("export_catalog", "--format", "csv", stdout=csv_out)
    lines = csv_out.getvalue().splitlines()
    assert lines[0].startswith("plan,plan_title_zh,city")
    assert len(lines) == 1 + 5


def test_a_plan_records_its_kind_and_an_indicator_its_group(tree, tmp_path):
    document = copy.deepcopy(PLAN)
    document["plan"]["kind"] = "report"
    _indicator(document).update(group="urban_community")
    _indicator(document, 0, 1).update(group="rural_village")
    load(write(tmp_path, document))
    plan = Plan.objects.get(code="dongguan-2012-14")
    assert plan.kind == "report" and not plan.is_binding
    share = Indicator.objects.get(code="dg.volunteers.registered_share")
    assert share.group.code == "urban_community" and share.group.name_zh == "城市社区"
    assert Indicator.objects.get(code="dg.communities.with_social_org").group.code == (
        "rural_village"
    )
    # Without `kind:` a plan is policy; without `group:` an indicator counts every unit.
    load(write(tmp_path, PLAN))
    assert Plan.objects.get(code="dongguan-2012-14").kind == "policy"
    assert Indicator.objects.get(code="dg.volunteers.registered_share").group is None
