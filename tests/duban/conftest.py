"""督办 fixtures: a Dongguan plan with a yearly milestone indicator and a Zhongshan plan on the
shared tree, media under a temporary folder, and small real files (PDF, PNG, DOCX, XLSX).

Tasks: ``dongcheng_task`` is led by 东城 (alice's unit; bob reviews it, carol leads over it),
``zhongshan_task`` by 中山 (erin's city). See tests/conftest.py for the cast.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def plans(tree, media):
    from targets.models import DataElement, Goal, Indicator, Plan

    element = DataElement.objects.create(
        code="gov.purchase_catalogue", name_zh="出台政府购买服务目录", name_en="Catalogue",
        unit="yes/no", value_type="boolean", period_type="year", aggregation="none",
        temporal="last",
    )  # fmt: skip
    dg = Plan.objects.create(code="dg-test", city=tree["441900"], title_zh="东莞社会建设意见")
    goal = Goal.objects.create(plan=dg, code="8", title_zh="培育发展社会组织")
    milestone = Indicator.objects.create(
        code="dg.gov.purchase_catalogue", plan=dg, goal=goal, name_zh="出台政府购买服务目录",
        name_en="Catalogue issued", kind="milestone", element=element, comparator="=", target=1,
        deadline=date(2026, 12, 31), quote="出台政府购买服务目录",
    )  # fmt: skip
    zs = Plan.objects.create(code="zs-test", city=tree["442000"], title_zh="中山实施意见")
    zgoal = Goal.objects.create(plan=zs, code="3", title_zh="社区建设")
    return {"dg": dg, "goal": goal, "milestone": milestone, "element": element, "zs": zs,
            "zgoal": zgoal}  # fmt: skip


@pytest.fixture
def dongcheng_task(plans, cast, tree):
    from duban import services

    return services.task_assign(
        actor=cast["bob"],
        plan=plans["dg"],
        indicator=plans["milestone"],
        title_zh="出台政府购买服务目录",
        deadline=date(2026, 12, 31),
        lead_unit=tree["441900003"],
        assignees=[tree["441900003"]],
        steps=[services.StepIn(title_zh="起草目录", due=date(2026, 10, 31))],
    )


@pytest.fixture
def zhongshan_task(plans, cast, tree):
    from duban import services

    return services.task_assign(
        actor=cast["admin"],
        plan=plans["zs"],
        goal=plans["zgoal"],
        title_zh="建立社区工作准入制度",
        deadline=date(2026, 6, 30),
        lead_unit=tree["442000001"],
        assignees=[tree["442000001"]],
    )


def pdf_bytes(text: str = "证明材料") -> bytes:
    from duban.sheet import document_pdf

    return document_pdf(text, ["测试用证明材料（test evidence）。"])


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def docx_bytes(extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="x"></Types>')
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    wb = Workbook()
    wb.active["A1"] = "进展"
    wb.save(out)
    return out.getvalue()
