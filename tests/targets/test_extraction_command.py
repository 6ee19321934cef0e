"""extract_targets (SPEC §7): a draft plan file that load_plans accepts; clear refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from targets.models import Indicator, Plan
from targets.services import plan_files_load

ROOT = Path(__file__).resolve().parents[2]
ELEMENTS = ROOT / "targets" / "catalog" / "elements.yaml"
ZHONGSHAN = ROOT / "targets" / "catalog" / "sources" / "000_3571e8818ef61e74.txt"

PLAN_TEXT = """中山市社会建设实施方案
一、目标任务
1.志愿服务。“十二五”期末,全市注册志愿者占常住人口的15%以上。
2.社会工作。到2015年,全市实现每万人中有5名社工的目标;每个城市社区至少配备3名社会工作人才。
3.养老服务。2013年底前出台养老服务设施建设规划。每千名老人拥有养老床位不少于30张。
4.收入。城乡居民收入年均增长8%以上,财政社会建设支出比重每年提高2个百分点。
"""


def _run(path: Path, *extra: str) -> str:
    err = io.StringIO()
    call_command("extract_targets", str(path), *extra, stderr=err, stdout=io.StringIO())
    return err.getvalue()


@pytest.mark.django_db
def test_draft_of_a_real_plan_loads_with_load_plans(tree, tmp_path):
    out = tmp_path / "zhongshan-draft.yaml"
    message = _run(ZHONGSHAN, "--city", "442000", "--issued", "2014-06-12", "--out", str(out))
    assert "candidate indicators" in message and str(out) in message
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 草稿")
    document = yaml.safe_load(text)
    assert document["draft"] is True
    source = ZHONGSHAN.read_text(encoding="utf-8")
    indicators = [i for g in document["goals"] for i in g["indicators"]]
    assert len(indicators) >= 15
    for indicator in indicators:
        start, end = indicator["source_span"]
        assert source[start:end].strip() == indicator["quote"]
    share = next(
        i for i in indicators if i["quote"] == "“十二五”期末,全市注册志愿者占常住人口的15%以上"
    )
    assert (share["kind"], share["comparator"], share["target"], share["unit"]) == (
        "ratio", ">=", 15, "%")  # fmt: skip
    assert share["numerator"] == "volunteers.registered"
    assert str(share["deadline"]) == "2015-12-31"

    plan_files_load(paths=[ELEMENTS])
    results = plan_files_load(paths=[out])
    assert results[0].plan_code == document["plan"]["code"]
    plan = Plan.objects.get(code=document["plan"]["code"])
    assert Indicator.objects.filter(plan=plan).count() == len(indicators)
    # Loading the same draft twice changes nothing (SPEC §4.1).
    assert plan_files_load(paths=[out])[0].changed is False


@pytest.mark.django_db
def test_every_kind_of_target_drafts_into_a_loadable_file(tree, tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="gb18030")
    out = tmp_path / "draft.yaml"
    _run(source, "--city", "442000", "--issued", "2012-05-28", "--out", str(out))
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    kinds = {i["kind"] for g in document["goals"] for i in g["indicators"]}
    assert kinds == {"ratio", "coverage", "milestone", "growth"}
    assert document["plan"]["title_zh"] == "中山市社会建设实施方案"
    plan_files_load(paths=[ELEMENTS])
    plan_files_load(paths=[out])
    plan = Plan.objects.get(code=document["plan"]["code"])
    milestone = Indicator.objects.get(plan=plan, kind="milestone")
    assert milestone.deadline.isoformat() == "2013-12-31"
    assert milestone.element.value_type == "boolean"
    growth = Indicator.objects.filter(plan=plan, kind="growth").order_by("target")
    assert [(g.growth_mode, float(g.target)) for g in growth] == [("points", 2.0), ("percent", 8.0)]


@pytest.mark.django_db
def test_draft_goes_to_standard_output_without_out(tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    stdout = io.StringIO()
    call_command(
        "extract_targets", str(source), "--city", "442000", "--issued", "2012-05-28",
        stdout=stdout, stderr=io.StringIO(),
    )  # fmt: skip
    assert yaml.safe_load(stdout.getvalue())["plan"]["city"] == "442000"


def test_a_document_without_targets_is_refused(tmp_path):
    source = tmp_path / "notice.txt"
    source.write_text("关于召开社会建设工作会议的通知\n各单位:请准时参加会议。\n", encoding="utf-8")
    with pytest.raises(CommandError, match="未找到可量化的目标"):
        _run(source, "--city", "442000", "--issued", "2012-05-28")


def test_an_image_only_pdf_is_refused(tmp_path):
    from tests.targets.test_extraction_reading import image_only_pdf

    source = tmp_path / "scan.pdf"
    source.write_bytes(image_only_pdf())
    with pytest.raises(CommandError, match="没有文字层"):
        _run(source, "--city", "442000", "--issued", "2012-05-28")


def test_a_bad_date_and_a_missing_file_are_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run(tmp_path / "missing.txt", "--city", "442000", "--issued", "2012-05-28")
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    with pytest.raises(CommandError, match="is not a date"):
        _run(source, "--city", "442000", "--issued", "28/05/2012")
