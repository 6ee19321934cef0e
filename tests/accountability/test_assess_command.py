"""Assessment schemes (SPEC §7) load from files like plans; `assess` prints per unit and its
items; publishing freezes the ranking, and a republication records who, why and what moved."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date

import pytest
import yaml
from django.core.management import CommandError, call_command

from accountability.models import Assessment, AssessmentScheme
from districts.unit_facts import orgunit_groups_assign_defaults
from reports.models import ProgressRow
from targets.models import DataElement, Goal, Indicator, Plan

SCHEME = {
    "scheme": {
        "code": "dongguan-2015-towns",
        "city": "441900",
        "period": "2015",
        "title_zh": "东莞市2015年镇街社会建设考评",
        "units": {"level": "town"},
        "scoring": {"achieved": 1, "on_track": 1, "at_risk": 0.5, "off_track": 0, "missed": 0,
                    "no_data": 0, "not_assessable": 0},
    },
    "items": [
        {"indicator": "dg.vol.share", "points": 10},
        {"indicator": "dg.sw.per_10k", "points": 10, "veto": True},
    ],
}  # fmt: skip


@pytest.fixture
def indicators(tree):
    orgunit_groups_assign_defaults()
    e = DataElement.objects.create(
        code="x", name_zh="x", value_type="number", period_type="year", aggregation="sum",
        temporal="last",
    )  # fmt: skip
    plan = Plan.objects.create(code="dg-test", city=tree["441900"], title_zh="测试")
    goal = Goal.objects.create(plan=plan, code="19", title_zh="g")
    out = {}
    for code in ("dg.vol.share", "dg.sw.per_10k"):
        out[code] = Indicator.objects.create(
            code=code, plan=plan, goal=goal, name_zh=code, kind="ratio", numerator=e,
            denominator=e, factor=100, comparator=">=", target=12, deadline=date(2015, 12, 31),
            quote="q",
        )  # fmt: skip
    return out


def status(tree, indicator, unit, value):
    ProgressRow.objects.update_or_create(
        indicator=indicator, org_unit=tree[unit], period="2015",
        defaults=dict(period_end=date(2015, 12, 31), comparator=">=", deadline=date(2015, 12, 31),
                      status=value),
    )  # fmt: skip


def write(tmp_path, document):
    path = tmp_path / "scheme.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_scheme_loads_once_and_a_change_is_a_new_version(indicators, tmp_path):
    path = write(tmp_path, SCHEME)
    assert "2 items, version 1 (changed)" in run("load_schemes", str(path))
    assert "version 1 (unchanged)" in run("load_schemes", str(path))
    changed = copy.deepcopy(SCHEME)
    changed["items"][0]["points"] = 20
    assert "version 2 (changed)" in run("load_schemes", str(write(tmp_path, changed)))
    scheme = AssessmentScheme.objects.get()
    assert scheme.unit_level == "town" and scheme.scoring["at_risk"] == 0.5
    assert [(i.indicator.code, i.points, i.veto) for i in scheme.items.all()] == [
        ("dg.vol.share", 20, False), ("dg.sw.per_10k", 10, True)]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["items"].append({"indicator": "nope", "points": 5}),
         "items[2].indicator: unknown indicator “nope”"),
        (lambda d: d["scheme"]["scoring"].update(great=1), "scheme.scoring.great: unknown status"),
        (lambda d: d["scheme"].update(units={"level": "town", "group": "town"}),
         "scheme.units: needs exactly one of"),
        (lambda d: d["items"][1].update(points=-1), "items[1].points: must not be negative"),
    ],
)  # fmt: skip
def test_bad_scheme_is_rejected_with_file_path_and_problem(indicators, tmp_path, change, problem):
    document = copy.deepcopy(SCHEME)
    change(document)
    path = write(tmp_path, document)
    with pytest.raises(CommandError) as excinfo:
        run("load_schemes", str(path))
    assert f"{path}: {problem}" in str(excinfo.value)
    assert not AssessmentScheme.objects.exists()


def test_assess_prints_scores_and_publishing_freezes_them(indicators, tree, tmp_path):
    run("load_schemes", str(write(tmp_path, SCHEME)))
    vol, sw = indicators["dg.vol.share"], indicators["dg.sw.per_10k"]
    status(tree, vol, "441900003", "achieved")  # 东城街道: 10 + 0, vetoed (missed)
    status(tree, sw, "441900003", "missed")
    status(tree, vol, "441900101", "at_risk")  # 石碣镇: 5 + 10 = 15
    status(tree, sw, "441900101", "on_track")
    rows = json.loads(run("assess", "dongguan-2015-towns", "--format", "json"))
    assert [(r["unit"], r["group"], r["score"], r["max_score"], r["rank"], r["vetoed"])
            for r in rows] == [
        ("441900101", "town", 15.0, 20.0, 1, False),
        ("441900003", "subdistrict", 10.0, 20.0, 2, True),
    ]  # fmt: skip
    assert rows[0]["items"][0] == {
        "indicator": "dg.vol.share", "status": "at_risk", "points": 10.0, "earned": 5.0}  # fmt: skip

    out = run("assess", "dongguan-2015-towns", "--publish", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0]) == ["unit", "group", "score", "max_score", "rank", "vetoed",
                              "indicator", "status", "points", "earned"]  # fmt: skip
    assert (table[0]["unit"], table[0]["rank"], table[0]["indicator"]) == (
        "441900101", "1", "dg.vol.share")  # fmt: skip
    first = Assessment.objects.get()

    # Data changes later: the published ranking does not.
    status(tree, sw, "441900003", "achieved")
    assert first.units.get(org_unit__code="441900003").vetoed
    live = json.loads(run("assess", "dongguan-2015-towns"))
    assert [(r["unit"], r["rank"]) for r in live] == [("441900003", 1), ("441900101", 2)]

    # A republication records what moved.
    call_command("assess", "dongguan-2015-towns", "--publish", "--reason", "数据更正",
                 stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    second = Assessment.objects.get(number=2)
    assert second.reason == "数据更正"
    assert {m["unit"]: m["rank"] for m in second.moves} == {
        "441900003": [2, 1], "441900101": [1, 2]}  # fmt: skip
    assert first.units.get(org_unit__code="441900003").rank == 2
