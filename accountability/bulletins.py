"""The bulletin (通报) of a published assessment, built in the background as PDF (WeasyPrint,
Noto Sans CJK from the system's fonts) and XLSX (openpyxl): the ranking, the commended units
(every item achieved or on track), the criticised ones (vetoed, or an item off track or missed),
a table per responsible department (its indicators and the units behind on them) and the gaps
that remain (what each criticised unit still has to add, and the yearly rate that takes).

Everything is read from the frozen publication, so the bulletin says what was published; the
gaps are read from the progress rows at the assessment's period.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from django.core.files.base import ContentFile
from django.template.loader import render_to_string

from core import jobs
from core.exporting import safe_cell
from reports.models import STATUS_CHOICES, ProgressRow

from .gaps import gap_of
from .models import Assessment, Bulletin

logger = logging.getLogger(__name__)
STATUS_LABELS = dict(STATUS_CHOICES)
GOOD = {"achieved", "on_track"}
BAD = {"off_track", "missed"}
CSS = Path(__file__).resolve().parent / "static" / "accountability" / "bulletin.css"


def bulletin_content(assessment: Assessment) -> dict:
    scheme = assessment.scheme
    order = ["group", "rank"] if scheme.rank_by_group else ["rank"]
    units = list(
        assessment.units.select_related("org_unit")
        .prefetch_related("items__indicator__lead", "items__indicator__goal__lead")
        .order_by(*order, "org_unit__code")
    )
    ranking, commended, criticised = [], [], []
    by_department: dict[str, dict] = {}
    behind: list[tuple] = []
    for s in units:
        items = list(s.items.all())
        ranking.append(
            {
                "unit": s.org_unit.code,
                "name": s.org_unit.name_zh,
                "group": s.group,
                "rank": s.rank,
                "score": float(s.score),
                "max_score": float(s.max_score),
                "vetoed": s.vetoed,
            }
        )
        bad = [i for i in items if i.status in BAD]
        if items and all(i.status in GOOD for i in items):
            commended.append(s.org_unit.name_zh)
        if bad or s.vetoed:
            criticised.append(
                {
                    "name": s.org_unit.name_zh,
                    "vetoed": s.vetoed,
                    "items": [
                        f"{i.indicator.name_zh}（{STATUS_LABELS.get(i.status, i.status)}）"
                        for i in bad
                    ],
                }
            )
        for i in items:
            lead = i.indicator.lead or i.indicator.goal.lead
            key = lead.name_zh if lead else "文件未明确"
            block = by_department.setdefault(key, {"department": key, "rows": {}})
            row = block["rows"].setdefault(
                i.indicator.code, {"indicator": i.indicator.name_zh, "behind": []}
            )
            if i.status not in GOOD:
                row["behind"].append(s.org_unit.name_zh)
            if i.status in BAD:
                behind.append((i.indicator_id, s.org_unit_id, i.indicator.name_zh, s.org_unit))
    gaps = []
    rows = {
        (r.indicator_id, r.org_unit_id): r
        for r in ProgressRow.objects.filter(
            period=assessment.period,
            indicator_id__in={b[0] for b in behind},
            org_unit_id__in={b[1] for b in behind},
        )
    }
    for indicator_id, unit_id, name, unit in behind:
        r = rows.get((indicator_id, unit_id))
        if r is None or r.target is None:
            continue
        g = gap_of(
            indicator=name,
            org_unit=unit.name_zh,
            period=r.period,
            t=r.period_end,
            value=None if r.value is None else float(r.value),
            target=float(r.target),
            comparator=r.comparator,
            deadline=r.deadline,
            baseline=None,
            baseline_date=None,
            status=r.status,
        )
        gaps.append(g)
    departments = [
        {"department": b["department"], "rows": list(b["rows"].values())}
        for b in sorted(by_department.values(), key=lambda b: b["department"])
    ]
    return {
        "title": scheme.title_zh,
        "period": assessment.period,
        "number": assessment.number,
        "published_at": assessment.published_at,
        "ranking": ranking,
        "commended": commended,
        "criticised": criticised,
        "departments": departments,
        "gaps": gaps,
        "rank_by_group": scheme.rank_by_group,
    }


def bulletin_xlsx(content: dict) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "排名"
    ws.append(["分组", "名次", "单位", "代码", "得分", "满分", "一票否决"])
    for r in content["ranking"]:
        ws.append(
            [r["group"], r["rank"], safe_cell(r["name"]), r["unit"], r["score"], r["max_score"],
             "是" if r["vetoed"] else ""]
        )  # fmt: skip
    ws = wb.create_sheet("表扬")
    ws.append(["单位（全部指标达成或按计划推进）"])
    for name in content["commended"]:
        ws.append([safe_cell(name)])
    ws = wb.create_sheet("通报批评")
    ws.append(["单位", "一票否决", "滞后或未达成的指标"])
    for c in content["criticised"]:
        ws.append([safe_cell(c["name"]), "是" if c["vetoed"] else "", "；".join(c["items"])])
    ws = wb.create_sheet("责任单位")
    ws.append(["责任单位（牵头）", "指标", "未按计划推进的单位"])
    for block in content["departments"]:
        for row in block["rows"]:
            ws.append(
                [safe_cell(block["department"]), safe_cell(row["indicator"]),
                 "、".join(row["behind"])]
            )  # fmt: skip
    ws = wb.create_sheet("缺口")
    ws.append(["单位", "指标", "当前值", "目标", "期限", "尚差", "所需年均进度"])
    for g in content["gaps"]:
        ws.append(
            [safe_cell(g.org_unit), safe_cell(g.indicator), g.value, g.target,
             g.deadline.isoformat(), g.remaining, g.required_rate]
        )  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bulletin_pdf(content: dict) -> bytes:
    from weasyprint import CSS as WeasyCSS
    from weasyprint import HTML

    html = render_to_string("accountability/bulletin_pdf.html", {"c": content})
    return HTML(string=html).write_pdf(stylesheets=[WeasyCSS(filename=str(CSS))])


def bulletin_request(*, actor, assessment: Assessment) -> Bulletin:
    """Queue a bulletin; the build starts after the transaction commits."""
    bulletin = Bulletin.objects.create(assessment=assessment, created_by=actor)
    jobs.enqueue(bulletin)
    return bulletin


def bulletin_build(*, bulletin_id: int) -> bool:
    """Build one bulletin; idempotent (a bulletin not this worker's to run is left alone: the
    job base's claim, heartbeat and reaper, as for report packs)."""
    bulletin = Bulletin.claim(bulletin_id)
    if bulletin is None:
        return False
    try:
        with jobs.heartbeat(bulletin):
            assessment = Assessment.objects.select_related("scheme").get(pk=bulletin.assessment_id)
            content = bulletin_content(assessment)
            name = f"bulletin-{assessment.scheme.code}-{assessment.number}"
            bulletin.xlsx.save(f"{name}.xlsx", ContentFile(bulletin_xlsx(content)), False)
            bulletin.pdf.save(f"{name}.pdf", ContentFile(bulletin_pdf(content)), False)
        return bulletin.finish(pdf=bulletin.pdf.name, xlsx=bulletin.xlsx.name)
    except Exception as exc:
        logger.exception("bulletin %s failed", bulletin_id)
        bulletin.fail(f"{type(exc).__name__}: {exc}"[:2000])
        return False
