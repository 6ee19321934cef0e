"""The values file to fill in: a template per unit subtree and period (CSV or XLSX)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.exporting import safe_cell
from core.numbers import plain
from core.periods import Period
from core.text import name_of, unit_label

from .. import scopes
from ..models import DataValue, OrgUnit
from ..selectors import reporting_plan
from .validator import VALUE_HINT_COLUMNS

TEMPLATE_HEADER = (
    "单位代码",
    "期间",
    "数据项",
    "数值",
    "备注",
    *(aliases[0] for aliases in VALUE_HINT_COLUMNS.values()),
)
"""The columns an upload reads, then the read-only hints (unit and element names, the unit of
measure, last period's value) that the upload ignores."""
TEMPLATE_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class TemplateFile:
    content: bytes
    filename: str
    content_type: str
    rows: int


def upload_template(*, actor, org_unit: OrgUnit, period: Period, fmt: str = "csv") -> TemplateFile:
    """A values file to fill in (SPEC §4.3, Chinese headers): one row for every unit of
    ``org_unit``'s subtree and every element it must report for ``period``.

    Values already entered and not yet approved are filled in, so a corrected file re-uploads
    cleanly; approved values are left out, since an official's upload may not change them any
    more (a reviewer reopens them first). The XLSX has a second sheet naming the units and
    elements; the importer reads only the first sheet.
    """
    if not scopes.can(actor, scopes.WRITE, org_unit):
        raise PermissionDenied(f"{org_unit.code} 不在您的填报范围内（outside your scope）")
    if fmt not in TEMPLATE_FORMATS:
        raise ValidationError(f"未知格式 {fmt}（unknown format: use csv or xlsx）")
    plan = reporting_plan(root=org_unit, period=period)
    key = str(period)
    stored = DataValue.objects.filter(
        org_unit__path__startswith=org_unit.path, period=key
    ).values_list("org_unit_id", "element_id", "value", "comment", "state")
    values: dict[tuple[int, int], tuple[Decimal, str]] = {}
    approved: set[tuple[int, int]] = set()
    for unit_id, element_id, value, comment, state in stored:
        if state == DataValue.APPROVED:
            approved.add((unit_id, element_id))
        values[(unit_id, element_id)] = (value, comment)
    previous = {
        (unit_id, element_id): value
        for unit_id, element_id, value in DataValue.objects.filter(
            org_unit__path__startswith=org_unit.path, period=str(period.previous())
        ).values_list("org_unit_id", "element_id", "value")
    }
    rows: list[tuple[str, ...]] = []
    listed: set[int] = set()
    for unit, elements in plan.units:
        for element in elements:
            if (unit.id, element.id) in approved:
                continue
            listed.add(unit.id)
            value, comment = values.get((unit.id, element.id), (None, ""))
            rows.append(
                (
                    unit.code,
                    key,
                    element.code,
                    plain(value),
                    comment,
                    name_of(unit),
                    name_of(element),
                    unit_label(element.unit),
                    plain(previous.get((unit.id, element.id))),
                )
            )
    stem = f"values-template-{org_unit.code}-{key}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(TEMPLATE_HEADER)
        writer.writerows(
            (u, p, e, v, safe_cell(c), safe_cell(un), safe_cell(en), safe_cell(m), prev)
            for u, p, e, v, c, un, en, m, prev in rows
        )
        # UTF-8 with BOM: what Excel on Chinese Windows opens without garbling.
        return TemplateFile(
            out.getvalue().encode("utf-8-sig"), f"{stem}.csv", "text/csv; charset=utf-8", len(rows)
        )

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("数据")
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["C"].width = 32
    sheet.column_dimensions["E"].width = 30
    sheet.column_dimensions["F"].width = 20
    sheet.column_dimensions["G"].width = 36

    def text(ws, value: str):
        # Codes and periods are text: Excel would turn 441900003001 into 4.419E+11 and
        # 2015-07 into a date.
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "@"
        return cell

    sheet.append([text(sheet, h) for h in TEMPLATE_HEADER])
    for unit_code, period_text, element_code, value, comment, *hints in rows:
        unit_name, element_name, measure, prev = hints
        sheet.append(
            [
                text(sheet, unit_code),
                text(sheet, period_text),
                text(sheet, element_code),
                Decimal(value) if value else None,
                text(sheet, safe_cell(comment)) if comment else None,
                text(sheet, safe_cell(unit_name)),
                text(sheet, safe_cell(element_name)),
                text(sheet, safe_cell(measure)),
                Decimal(prev) if prev else None,
            ]
        )
    notes = workbook.create_sheet("说明")
    notes.append([_("填写说明（只导入第一个工作表“数据”）")])
    notes.append(
        [_("每行一个数值；可写千分位（1,234）、全角数字或百分数（15%）。不填报的行请删除。")]
    )
    notes.append([_("已审核通过的数值已省略：如需修改，请先请审核员重新开放。")])
    notes.append([])
    notes.append([_("数据项代码"), _("名称"), _("英文名称"), _("计量单位"), _("数值类型")])
    for element in plan.elements:
        notes.append(
            [
                element.code,
                safe_cell(element.name_zh),
                safe_cell(element.name_en),
                element.unit,
                str(element.get_value_type_display()),
            ]
        )
    notes.append([])
    notes.append([_("单位代码"), _("名称"), _("层级")])
    for unit, _elements in plan.units:
        if unit.id in listed:
            notes.append([unit.code, safe_cell(name_of(unit)), str(unit.get_level_display())])
    out = io.BytesIO()
    workbook.save(out)
    return TemplateFile(
        out.getvalue(),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        len(rows),
    )
