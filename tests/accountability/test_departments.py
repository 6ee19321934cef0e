"""Responsible departments (责任单位, SPEC §7): the directory loads from files like the catalog,
idempotently, rejecting a bad file whole with file, path and problem; plans name lead and
support departments; the catalog records what the documents name and says so where they name
none."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from accountability.models import Department
from targets.models import Goal, Indicator

CATALOG = Path(__file__).resolve().parents[2] / "targets" / "catalog"

DEPARTMENTS = {
    "city": "441900",
    "departments": [
        {"code": "dg-mzj", "name_zh": "东莞市民政局", "name_en": "Dongguan Civil Affairs Bureau"},
        {"code": "dg-zj", "name_zh": "各镇（街道）"},
    ],
}
PLAN = {
    "plan": {"code": "dg-test", "city": "441900", "title_zh": "测试规划", "horizon": "2015-12-31"},
    "data_elements": [
        {"code": "volunteers.registered", "name_zh": "注册志愿者人数", "value_type": "integer",
         "period_type": "year", "aggregation": "sum", "temporal": "last"},
    ],
    "goals": [
        {"code": "19", "title_zh": "志愿服务", "lead": "dg-mzj", "support": ["dg-zj"],
         "indicators": [
             {"code": "dg.t.volunteers", "name_zh": "志愿者", "kind": "value",
              "element": "volunteers.registered", "comparator": ">=", "target": 100,
              "quote": "志愿者100人", "lead": "dg-zj"},
             {"code": "dg.t.other", "name_zh": "其他", "kind": "value",
              "element": "volunteers.registered", "comparator": ">=", "target": 5,
              "quote": "其他5人", "lead_note": "文件未明确"},
         ]},
    ],
}  # fmt: skip


def write(tmp_path, document, name):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def run(command, *paths) -> str:
    out = io.StringIO()
    call_command(command, *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def test_departments_file_loads_once(tree, tmp_path):
    path = write(tmp_path, DEPARTMENTS, "dg.yaml")
    assert "2 departments of 441900 (changed)" in run("load_departments", path)
    assert "(unchanged)" in run("load_departments", path)
    mzj = Department.objects.get(code="dg-mzj")
    assert (mzj.name_zh, mzj.name_en, mzj.city.code) == (
        "东莞市民政局", "Dongguan Civil Affairs Bureau", "441900")  # fmt: skip


def test_bad_departments_file_is_rejected_whole(tree, tmp_path):
    bad = copy.deepcopy(DEPARTMENTS)
    bad["departments"].append({"code": "dg-mzj", "name_zh": "重复"})
    bad["departments"].append({"code": "dg x"})
    path = write(tmp_path, bad, "bad.yaml")
    with pytest.raises(CommandError) as excinfo:
        run("load_departments", path)
    message = str(excinfo.value)
    assert f"{path}: departments[2].code: “dg-mzj” is declared twice" in message
    assert f"{path}: departments[3].name_zh: is required" in message
    assert "departments[3].code" in message
    assert not Department.objects.exists()


def test_a_department_code_belongs_to_one_city(tree, tmp_path):
    run("load_departments", write(tmp_path, DEPARTMENTS, "dg.yaml"))
    other = {"city": "442000", "departments": [{"code": "dg-mzj", "name_zh": "中山市民政局"}]}
    with pytest.raises(CommandError, match=r"departments\[0\].code: “dg-mzj” is already a"):
        run("load_departments", write(tmp_path, other, "zs.yaml"))


def test_plan_names_lead_and_support_departments(tree, tmp_path):
    run("load_departments", write(tmp_path, DEPARTMENTS, "dg.yaml"))
    plan = write(tmp_path, PLAN, "plan.yaml")
    run("load_plans", plan)
    goal = Goal.objects.get(code="19")
    assert goal.lead.code == "dg-mzj"
    assert list(goal.support.values_list("code", flat=True)) == ["dg-zj"]
    volunteers = Indicator.objects.get(code="dg.t.volunteers")
    assert volunteers.lead.code == "dg-zj" and not volunteers.support.exists()
    other = Indicator.objects.get(code="dg.t.other")
    assert other.lead is None and other.lead_note == "文件未明确"
    assert "(unchanged)" in run("load_plans", plan)
    # Dropping a support department from the file drops it from the goal.
    changed = copy.deepcopy(PLAN)
    del changed["goals"][0]["support"]
    assert "(changed)" in run("load_plans", write(tmp_path, changed, "plan.yaml"))
    assert not Goal.objects.get(code="19").support.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"lead": "nobody"}, "goals[0].lead: unknown department “nobody”"),
        ({"support": ["dg-mzj"]}, "goals[0].support[0]: “dg-mzj” is already the lead"),
        ({"support": ["dg-zj", "dg-zj"]}, "goals[0].support[1]: “dg-zj” is named twice"),
        ({"lead": "zs-mzj"}, "goals[0].lead: department “zs-mzj” belongs to city 442000"),
    ],
)
def test_plan_naming_a_wrong_department_is_rejected(tree, tmp_path, change, problem):
    run("load_departments", write(tmp_path, DEPARTMENTS, "dg.yaml"))
    zs = {"city": "442000", "departments": [{"code": "zs-mzj", "name_zh": "中山市民政局"}]}
    run("load_departments", write(tmp_path, zs, "zs.yaml"))
    document = copy.deepcopy(PLAN)
    document["goals"][0].update(change)
    path = write(tmp_path, document, "plan.yaml")
    with pytest.raises(CommandError) as excinfo:
        run("load_plans", path)
    assert f"{path}: {problem}" in str(excinfo.value)
    assert not Goal.objects.exists()


# --- the catalog (pure: files only) -------------------------------------------------------------


def _yaml(path: Path):
    return yaml.safe_load(path.read_text("utf-8"))


def _departments_by_code() -> dict[str, dict]:
    out = {}
    for path in sorted((CATALOG / "departments").glob("*.yaml")):
        document = _yaml(path)
        for d in document["departments"]:
            out[d["code"]] = {**d, "city": document["city"]}
    return out


def _plans():
    return [_yaml(p) for p in sorted(CATALOG.glob("*.yaml")) if p.name != "elements.yaml"]


def test_every_goal_names_its_lead_or_says_the_document_names_none():
    departments = _departments_by_code()
    for plan in _plans():
        for goal in plan["goals"]:
            where = f"{plan['plan']['code']} {goal['code']}"
            if "lead" in goal:
                for code in [goal["lead"], *goal.get("support", [])]:
                    assert departments[code]["city"] == plan["plan"]["city"], where
            else:
                assert goal.get("lead_note") == "文件未明确", where


def test_xiamen_tasks_carry_their_responsibility_lists():
    """Each Xiamen task's "(责任单位：…)" list, in order: the first body leads."""
    departments = _departments_by_code()
    plan = _yaml(CATALOG / "xiamen-2021-sg.yaml")
    lists = {
        "二(一)": "市民政局、财政局、税务局,各区人民政府",
        "二(四)": "市民政局,各区人民政府",
        "二(五)": "市民政局、人社局、财政局,各区人民政府",
        "二(九)": "市民政局、财政局,各区人民政府",
        "二(十)": "市民政局、财政局,各区人民政府",
        "二(十一)": "市民政局、财政局,各区人民政府",
    }
    short = {"xm-mzj": "民政局", "xm-czj": "财政局", "xm-swj": "税务局", "xm-rsj": "人社局",
             "xm-qzf": "各区人民政府"}  # fmt: skip
    for goal in plan["goals"]:
        if goal["code"] not in lists:
            assert goal["lead_note"] == "文件未明确"
            continue
        named = [goal["lead"], *goal["support"]]
        text = lists[goal["code"]]
        positions = [text.index(short[code]) for code in named]
        assert positions == sorted(positions) and len(named) == len(short.keys() & set(named))
        assert all(departments[code]["city"] == "350200" for code in named)


def test_every_body_of_xiamens_lists_is_in_the_directory():
    seeds = Path("/work/shared/seeds/002_8e7c3650f3c1c1af.txt")
    names = {d["name_zh"] for d in _departments_by_code().values() if d["city"] == "350200"}
    assert len(names) == 18  # 17 bodies and 各区人民政府, as the twelve lists name them
    if seeds.exists():
        text = seeds.read_text("utf-8")
        assert text.count("责任单位") == 12
