"""The allocations file (SPEC §7): every bad row named by line, column and reason, all or
nothing, idempotent, with who/when/why kept; the rules; the warning when totals do not add up."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accountability import allocating
from accountability.models import Allocation, AllocationChange
from accountability.selectors import allocation_warnings
from accountability.services import allocation_set
from targets.models import DataElement, Goal, Indicator, Plan


@pytest.fixture
def indicator(tree):
    element = DataElement.objects.create(
        code="volunteers.registered", name_zh="志愿者", value_type="integer",
        period_type="year", aggregation="sum", temporal="last",
    )  # fmt: skip
    plan = Plan.objects.create(code="dg-test", city=tree["441900"], title_zh="测试规划")
    goal = Goal.objects.create(plan=plan, code="19", title_zh="志愿服务")
    return Indicator.objects.create(
        code="dg.vol", plan=plan, goal=goal, name_zh="志愿者人数", kind="value",
        element=element, comparator=">=", target=1000, deadline=date(2015, 12, 31), quote="1000人",
    )  # fmt: skip


def run(tmp_path, content: bytes, name="alloc.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    out = io.StringIO()
    call_command("import_allocations", str(path), stdout=out)
    return out.getvalue()


GOOD = "indicator,org_unit,target,deadline,note\ndg.vol,441900003,600,,东城\ndg.vol,441900101,400,2014,\n"


def test_file_loads_once_and_keeps_history(indicator, tmp_path):
    assert "2 created, 0 updated, 0 unchanged" in run(tmp_path, GOOD.encode("utf-8-sig"))
    assert "0 created, 0 updated, 2 unchanged" in run(tmp_path, GOOD.encode())
    shijie = Allocation.objects.get(org_unit__code="441900101")
    assert shijie.target == 400 and shijie.deadline == date(2014, 12, 31)
    assert shijie.source == Allocation.UPLOAD
    assert AllocationChange.objects.count() == 2
    changed = GOOD.replace("600", "650")
    assert "1 updated" in run(tmp_path, changed.encode())
    change = AllocationChange.objects.filter(org_unit__code="441900003").first()
    assert (change.old_target, change.new_target) == (600, 650)
    assert "alloc.csv" in change.reason


def test_chinese_headers_in_gb18030(indicator, tmp_path):
    text = "指标,单位代码,目标值,期限,备注\ndg.vol,441900003,600,2015-12-31,东城街道\n"
    assert "1 created" in run(tmp_path, text.encode("gb18030"))
    assert Allocation.objects.get().note == "东城街道"


def test_bad_rows_are_named_and_nothing_is_written(indicator, tmp_path):
    bad = (
        "indicator,org_unit,target,deadline\n"
        "dg.vol,441900003,600,\n"  # line 2: fine
        "dg.nope,441900101,400,\n"  # line 3: no such indicator
        "dg.vol,441900,400,\n"  # line 4: the city itself
        "dg.vol,442000001,abc,\n"  # line 5: another city's unit; not a number
        "dg.vol,441900101,400,2016-12-31\n"  # line 6: after the indicator's deadline
        "dg.vol,441900003,700,\n"  # line 7: same as line 2
    )
    with pytest.raises(CommandError) as excinfo:
        run(tmp_path, bad.encode())
    message = str(excinfo.value)
    assert "第 3 行，indicator 列：“dg.nope”：指标不存在（no such indicator）" in message
    assert "第 4 行，org_unit 列：“441900”：单位不在该指标所属城市之下" in message
    assert "第 5 行，org_unit 列：“442000001”" in message
    assert "第 5 行，target 列：“abc”：目标值不是数字" in message
    assert "第 6 行，deadline 列：“2016-12-31”：期限晚于指标期限 2015-12-31" in message
    assert "第 7 行：与第 2 行重复" in message
    assert not Allocation.objects.exists() and not AllocationChange.objects.exists()


def test_missing_column_refuses_the_file(indicator, tmp_path):
    with pytest.raises(CommandError, match="缺少列 target"):
        run(tmp_path, b"indicator,org_unit\ndg.vol,441900003\n")


def test_warning_when_allocated_totals_do_not_add_up(indicator, tree):
    allocation_set(indicator=indicator, org_unit=tree["441900003"], target=600)
    allocation_set(indicator=indicator, org_unit=tree["441900101"], target=300)
    [warning] = allocation_warnings(indicator=indicator)
    assert "900" in warning and "1000" in warning
    allocation_set(indicator=indicator, org_unit=tree["441900101"], target=400)
    assert allocation_warnings(indicator=indicator) == []


def test_rules():
    units = ["A", "B"]
    assert allocating.share_target("same", target=12, comparator=">=", units=units) == {
        "A": 12, "B": 12}  # fmt: skip
    shares = allocating.share_target(
        "pro_rata", target=1000, comparator=">=", units=units, weights={"A": 300, "B": 100}
    )
    assert shares == {"A": 750, "B": 250}
    # A total: 1000 to reach, the city is at 700; A's pro-rata share is 750 and it holds 650
    # (gap 100), B's 250 and it holds 50 (gap 200): B carries two thirds of the city's 300.
    by_gap = allocating.share_target(
        "by_gap", target=1000, comparator=">=", units=units, weights={"A": 300, "B": 100},
        values={"A": 650, "B": 50}, city_value=700, is_total=True,
    )  # fmt: skip
    assert by_gap == pytest.approx({"A": 750, "B": 250})
    # A rate: the city is at 10 of 12; A at 11 (gap 1), B at 8 (gap 4); mean gap 2.5.
    rate = allocating.share_target(
        "by_gap", target=12, comparator=">=", units=units, values={"A": 11, "B": 8},
        city_value=10,
    )  # fmt: skip
    assert rate == pytest.approx({"A": 11 + 2 * 1 / 2.5, "B": 8 + 2 * 4 / 2.5})
    with pytest.raises(allocating.RuleError, match="B"):
        allocating.share_target("pro_rata", target=1, comparator=">=", units=units,
                                weights={"A": 1})  # fmt: skip


def test_import_warns_when_the_totals_do_not_add_up(indicator, tmp_path):
    path = tmp_path / "half.csv"
    path.write_text("indicator,org_unit,target\ndg.vol,441900003,600\n", encoding="utf-8")
    err = io.StringIO()
    call_command("import_allocations", str(path), stdout=io.StringIO(), stderr=err)
    assert "warning: dg.vol" in err.getvalue() and "600" in err.getvalue()


def test_allocate_command_pro_rata_by_population(indicator, tree, cast):
    from core.periods import Period
    from districts.services import value_save, values_approve

    pop = DataElement.objects.create(
        code="population.resident", name_zh="常住人口", value_type="integer",
        period_type="year", aggregation="sum", temporal="last",
    )  # fmt: skip
    # 东城 from its two communities (300 + 300), 石碣 its own figure (400)
    rows = [
        value_save(actor=cast["admin"], element=pop, org_unit=tree[code],
                   period=Period.parse("2014"), value=Decimal(value), submit=True)
        for code, value in (("441900003001", 300), ("441900003002", 300), ("441900101", 400))
    ]  # fmt: skip
    values_approve(actor=cast["admin"], values=rows)
    out, err = io.StringIO(), io.StringIO()
    call_command("allocate", "dg.vol", "--rule", "pro_rata", "--by", "population.resident",
                 "--period", "2014", stdout=out, stderr=err)  # fmt: skip
    assert "2 created" in out.getvalue() and err.getvalue() == ""
    targets = dict(Allocation.objects.values_list("org_unit__code", "target"))
    assert targets == {"441900003": 600, "441900101": 400}
    assert set(Allocation.objects.values_list("source", flat=True)) == {"pro_rata"}
    call_command("allocate", "dg.vol", "--rule", "same", stdout=out, stderr=err)
    assert "2000" in err.getvalue()  # 1000 each: the towns no longer add up to the city's 1000
