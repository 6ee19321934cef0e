"""Report packs for leadership: a PDF briefing and an XLSX workbook per city and as-of period.

A pack is requested by :func:`report_pack_request` (a ``ReportPack`` row, then a background job
after commit, :mod:`core.jobs`) and built by :func:`report_pack_build` (the task
``reports.build_report_pack``), which reads the stored progress through the same view-model as
the city dashboard (:mod:`reports.dashboards.packs`), writes the workbook with openpyxl and the briefing with
WeasyPrint (Noto Sans CJK from the system's fonts; no web fonts), with charts drawn here as SVG
(ECharts draws in the browser only). Text cells in the workbook go through
:func:`core.exporting.safe_cell` so that a name starting with ``=`` cannot run as a formula.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from html import escape

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from core import jobs
from core.exporting import safe_cell
from core.numbers import as_float, format_number
from core.text import name_of
from districts.models import OrgUnit

from .dashboards.common import level_label, rounded, status_of, value_display
from .dashboards.packs import pack_content
from .models import ReportPack
from .templatetags.dashboard import status_color

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
STEP_LABELS = {
    "": gettext_lazy("排队中"),
    ReportPack.WAITING: gettext_lazy("等待任务队列，恢复后自动开始"),
    "data": gettext_lazy("读取进度数据"),
    "xlsx": gettext_lazy("生成数据表"),
    "pdf": gettext_lazy("生成简报"),
    "save": gettext_lazy("保存文件"),
    "done": gettext_lazy("完成"),
}
BRIEFING_CHARTS = 8
"""How many of the indicators needing attention get a chart of their child units in the PDF."""


# ---------------------------------------------------------------------------------------------
# Request and build
# ---------------------------------------------------------------------------------------------


def report_pack_request(*, actor, city: OrgUnit, as_of: str, language: str) -> ReportPack:
    """Queue a pack for ``city`` as of ``as_of``; the build starts after the transaction commits.
    The caller has checked that ``actor`` may read the city."""
    pack = ReportPack.objects.create(city=city, as_of=as_of, language=language, created_by=actor)
    jobs.enqueue(pack)
    return pack


def report_pack_build(*, pack_id: int) -> bool:
    """Build one pack. Idempotent: a pack already built, or being built by a live worker, is left
    alone (``ReportPack.claim``). A failure is stored on the row."""
    pack = ReportPack.claim(pack_id, percent=2, step="data")
    if pack is None:
        return False
    pack = ReportPack.objects.select_related("city").get(pk=pack_id)
    try:
        with jobs.heartbeat(pack), translation.override(pack.language):
            content = pack_content(city=pack.city, as_of=pack.as_of)
            pack.heartbeat(percent=25, step="xlsx")
            xlsx = workbook_bytes(content)
            pack.heartbeat(percent=50, step="pdf")
            pdf = briefing_pdf(content)
            pack.heartbeat(percent=90, step="save")
            pack.xlsx.save(download_name(pack, "xlsx", ascii_only=True), ContentFile(xlsx), False)
            pack.pdf.save(download_name(pack, "pdf", ascii_only=True), ContentFile(pdf), False)
        return pack.finish(percent=100, step="done", pdf=pack.pdf.name, xlsx=pack.xlsx.name)
    except Exception as exc:
        logger.exception("report pack %s failed", pack_id)
        pack.fail(f"{type(exc).__name__}: {exc}"[:2000])
        return False


def download_name(pack: ReportPack, kind: str, ascii_only: bool = False) -> str:
    """``东莞市-2015-简报.pdf`` (in the pack's language); ``441900-2015-briefing.pdf`` on disk."""
    ext = "pdf" if kind == "pdf" else "xlsx"
    if ascii_only:
        label = "briefing" if kind == "pdf" else "workbook"
        return f"{pack.city.code}-{pack.as_of or 'latest'}-{label}.{ext}"
    with translation.override(pack.language):
        label = _("简报") if kind == "pdf" else _("数据表")
        name = name_of(pack.city)
    return f"{name}-{pack.as_of or 'latest'}-{label}.{ext}"


# ---------------------------------------------------------------------------------------------
# XLSX workbook
# ---------------------------------------------------------------------------------------------


def _num(value) -> float | None:
    return as_float(value)


def workbook_bytes(content: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    dashboard = content["dashboard"]
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="F1E4E4")

    def sheet(ws, headers: Sequence[str], rows, widths: Sequence[int] = ()):
        ws.append([safe_cell(str(h)) for h in headers])
        for cell in ws[ws.max_row]:
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            ws.append([safe_cell(v) for v in row])
        ws.freeze_panes = ws.cell(row=2, column=1)
        if ws.max_row > 1:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{ws.max_row}"
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width

    summary = wb.active
    summary.title = _("概览")[:31]
    summary.append([safe_cell(_("社会建设目标进展报告包"))])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([safe_cell(_("城市")), safe_cell(content["city_name"])])
    summary.append([safe_cell(_("单位代码")), safe_cell(content["city"].code)])
    summary.append([safe_cell(_("截至期间")), safe_cell(dashboard.as_of if dashboard else "")])
    summary.append([safe_cell(_("生成时间")), content["generated_at"].strftime("%Y-%m-%d %H:%M")])
    if dashboard:
        summary.append([safe_cell(_("指标数")), dashboard.total])
        summary.append([safe_cell(_("已达成或按计划推进的比例（%）")), dashboard.share_good])
        summary.append([safe_cell(_("平均数据完整度（%）")), dashboard.completeness_pct])
        summary.append([])
        summary.append([safe_cell(_("状态")), safe_cell(_("指标数"))])
        for c in summary[summary.max_row]:
            c.font = bold
        for item in dashboard.counts:
            summary.append([safe_cell(item["status"].label), item["n"]])
        summary.append([])
        summary.append([safe_cell(_("规划")), safe_cell(_("文号"))])
        for c in summary[summary.max_row]:
            c.font = bold
        for plan in dashboard.plans:
            summary.append([safe_cell(plan.title), safe_cell(plan.document_number)])
    summary.column_dimensions["A"].width = 34
    summary.column_dimensions["B"].width = 60

    lines = dashboard.all_lines if dashboard else []
    ind_rows = []
    plan_titles = {p.id: p for p in dashboard.plans} if dashboard else {}
    goal_titles = {}
    if dashboard:
        for plan in dashboard.plans:
            for goal in plan.goals:
                goal_titles[goal.id] = goal
    for line in lines:
        plan = plan_titles.get(line.plan_id)
        goal = goal_titles.get(line.goal_id)
        ind_rows.append(
            [
                plan.document_number if plan else "",
                f"{goal.code} {goal.title}" if goal else "",
                line.code,
                line.name,
                line.kind_label,
                line.unit,
                line.target_display,
                line.deadline,
                rounded(line.value, line.precision),
                rounded(line.pct, 2),
                line.status.label,
                line.expected_display if line.expected_display != "—" else "",
                line.forecast_display if line.forecast_display != "—" else "",
                line.completeness_pct,
                line.basis,
                line.plan_kind_label,
            ]
        )
    ws = wb.create_sheet(_("指标")[:31])
    sheet(
        ws,
        [
            _("文号"),
            _("条款"),
            _("指标代码"),
            _("指标"),
            _("类型"),
            _("计量单位"),
            pgettext("target", "目标"),
            _("期限"),
            _("当前值"),
            _("目标完成度（%）"),
            _("状态"),
            _("轨迹期望值"),
            _("期限预测值"),
            _("数据完整度（%）"),
            _("依据的下级单位"),
            _("文件性质"),
        ],
        ind_rows,
        (18, 28, 30, 44, 8, 8, 14, 12, 14, 12, 12, 14, 14, 12, 18, 18),
    )
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=8):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"

    code_name = {line.code: line.name for line in lines}
    # Each figure to its indicator's precision (97.649146 read as a finding, not a figure).
    places = {line.code: line.precision for line in lines}
    unit_rows = [
        [
            r["indicator__code"],
            code_name.get(r["indicator__code"], ""),
            r["org_unit__code"],
            name_of({"name_zh": r["org_unit__name_zh"], "name_en": r["org_unit__name_en"]}),
            level_label(r["org_unit__level"]),
            rounded(_num(r["value"]), places.get(r["indicator__code"], 2)),
            rounded(_num(r["target"]), places.get(r["indicator__code"], 2)),
            rounded(_num(r["percent_of_target"]), 2),
            status_of(r["status"]).label,
            rounded(_num(r["share_of_total"]), 2),
            round(float(r["completeness"]) * 100) if r["completeness"] is not None else None,
        ]
        for r in content["children"]
    ]
    sheet(
        wb.create_sheet(_("下级单位")[:31]),
        [
            _("指标代码"),
            _("指标"),
            _("单位代码"),
            _("单位"),
            _("层级"),
            _("数值"),
            pgettext("target", "目标"),
            _("目标完成度（%）"),
            _("状态"),
            _("占全市（%）"),
            _("数据完整度（%）"),
        ],
        unit_rows,
        (30, 40, 14, 20, 8, 14, 12, 12, 12, 12, 12),
    )

    periods = dashboard.periods if dashboard else []
    trend_rows = []
    for line in lines:
        values = dict(line.series)
        trend_rows.append(
            [line.code, line.name, *[rounded(values.get(p), line.precision) for p in periods]]
        )
    sheet(
        wb.create_sheet(_("历年数值")[:31]),
        [_("指标代码"), _("指标"), *periods],
        trend_rows,
        (30, 44, *([12] * len(periods))),
    )

    source_rows = []
    for ind in content["indicators"]:
        source_rows.append(
            [
                ind.code,
                name_of(ind),
                ind.plan.document_number,
                ind.goal.code,
                ind.quote,
            ]
        )
    sheet(
        wb.create_sheet(_("原文")[:31]),
        [_("指标代码"), _("指标"), _("文号"), _("条款"), _("原文")],
        source_rows,
        (30, 40, 18, 8, 90),
    )

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# SVG charts for the PDF (drawn here: ECharts only draws in a browser)
# ---------------------------------------------------------------------------------------------

FONT = "Noto Sans CJK SC"


def svg_hbars(
    items: Sequence[dict],
    *,
    width: int = 640,
    bar_height: int = 16,
    label_width: int | None = None,
    target: float | None = None,
    target_label: str = "",
    title: str = "",
) -> str:
    """Horizontal bars: ``items`` are ``{"label", "value", "color", "text"}``; an optional
    dashed target line. Values at or below zero draw no bar."""
    gap = 6
    top = 22 if title else 6
    # Room for the longest label (English names are long: never cut them at 14 characters).
    widest = max((_text_width(i["label"]) for i in items), default=60)
    label_width = label_width or int(min(max(widest + 10, 80), 280))
    height = top + len(items) * (bar_height + gap) + 18
    values = [i["value"] for i in items if i["value"] is not None]
    high = max([*values, target or 0, 0]) or 1.0
    plot = width - label_width - 150  # room for the value and status after the longest bar

    def x_of(v: float) -> float:
        return label_width + max(v, 0) / high * plot

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(
            f'<text font-family="{FONT}" x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>'
        )
    for n, item in enumerate(items):
        y = top + n * (bar_height + gap)
        label = _fit(item["label"], label_width - 10)
        parts.append(
            f'<text font-family="{FONT}" x="{label_width - 6}" y="{y + bar_height - 4}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if item["value"] is not None:
            w = x_of(item["value"]) - label_width
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_height}" '
                f'fill="{escape(item["color"])}"/>'
            )
        parts.append(
            f'<text font-family="{FONT}" x="{label_width + (x_of(item["value"]) - label_width if item["value"] else 0) + 4:.1f}" '
            f'y="{y + bar_height - 4}">{escape(item.get("text", ""))}</text>'
        )
    if target is not None and target > 0:
        tx = x_of(target)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - 14}" '
            f'stroke="#111" stroke-dasharray="4 3" stroke-width="1.2"/>'
            f'<text font-family="{FONT}" x="{tx:.1f}" y="{height - 3}" text-anchor="middle">{escape(target_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _text_width(text: str, size: float = 11) -> float:
    """About how wide ``text`` is drawn at ``size`` points: CJK glyphs are square, Latin ones
    a little over half as wide."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def _fit(text: str, width: float) -> str:
    if _text_width(text) <= width:
        return text
    while text and _text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def svg_trend(
    values: Sequence[float | None],
    *,
    target: float | None = None,
    color: str = "#1d4ed8",
    width: int = 150,
    height: int = 40,
) -> str:
    """A small line of values (one point a period) with the target as a dashed line."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return ""
    ys = [v for _i, v in points] + ([target] if target is not None else [])
    low, high = min(ys), max(ys)
    span = (high - low) or 1.0
    steps = max(len(values) - 1, 1)
    pad = 4

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + i / steps * (width - 2 * pad)
        y = height - pad - (v - low) / span * (height - 2 * pad)
        return round(x, 1), round(y, 1)

    coords = [xy(i, v) for i, v in points]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    ]
    if target is not None:
        _x, ty = xy(0, target)
        parts.append(
            f'<line x1="{pad}" y1="{ty}" x2="{width - pad}" y2="{ty}" stroke="#6b7280" '
            f'stroke-dasharray="3 2" stroke-width="1"/>'
        )
    if len(coords) > 1:
        parts.append(
            f'<polyline fill="none" stroke="{escape(color)}" stroke-width="1.8" points="'
            + " ".join(f"{x},{y}" for x, y in coords)
            + '"/>'
        )
    lx, ly = coords[-1]
    parts.append(f'<circle cx="{lx}" cy="{ly}" r="2.5" fill="{escape(color)}"/>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# PDF briefing
# ---------------------------------------------------------------------------------------------


def briefing_html(content: dict) -> str:
    dashboard = content["dashboard"]
    status_chart = ""
    attention_charts = []
    trends: dict[int, str] = {}
    if dashboard:
        status_chart = svg_hbars(
            [
                {
                    "label": item["status"].label,
                    "value": item["n"],
                    "color": status_color(item["status"].code),
                    "text": str(item["n"]),
                }
                for item in dashboard.counts
            ],
            title=_("各状态指标数"),
        )
        for line in dashboard.all_lines:
            trends[line.indicator_id] = svg_trend(
                [v for _p, v in line.series],
                target=line.target if line.kind not in ("milestone",) else None,
                color=status_color(line.status.code),
            )
        for line in dashboard.attention[:BRIEFING_CHARTS]:
            rows = content["children_by_indicator"].get(line.indicator_id, [])
            ranked = sorted(
                (r for r in rows if r["value"] is not None),
                key=lambda r: float(r["value"]),
                reverse=line.comparator not in ("<=", "<"),
            )
            if not ranked:
                continue
            items = [
                {
                    "label": name_of(
                        {"name_zh": r["org_unit__name_zh"], "name_en": r["org_unit__name_en"]}
                    ),
                    "value": float(r["value"]),
                    "color": status_color(r["status"]),
                    "text": f"{value_display(line, as_float(r['value']))} · {status_of(r['status']).label}",
                }
                for r in ranked
            ]
            has_target = any(r["target"] is not None for r in ranked)
            attention_charts.append(
                {
                    "line": line,
                    "svg": svg_hbars(
                        items,
                        target=line.target if has_target else None,
                        target_label=pgettext("target", "目标") + " " + format_number(line.target),
                        title=line.name,
                    ),
                }
            )
    off_track = (
        sorted(
            (line for line in dashboard.attention if line.status.code != "no_data"),
            key=lambda line: (line.attention_rank, line.pct if line.pct is not None else 0),
        )[:10]
        if dashboard
        else []
    )
    return render_to_string(
        "reports/pack/briefing.html",
        {
            **content,
            "d": dashboard,
            "off_track": off_track,
            "status_chart": status_chart,
            "attention_charts": attention_charts,
            "sections": [
                {
                    "title": plan.title,
                    "kind_label": plan.kind_label,
                    "document_number": plan.document_number,
                    "goals": [
                        {
                            "code": goal.code,
                            "title": goal.title,
                            "rows": [
                                (line, trends.get(line.indicator_id, "")) for line in goal.lines
                            ],
                        }
                        for goal in plan.goals
                    ],
                }
                for plan in (dashboard.plans if dashboard else [])
            ],
            "LANGUAGE_CODE": translation.get_language(),
        },
    )


def briefing_pdf(content: dict) -> bytes:
    from weasyprint import HTML

    return HTML(string=briefing_html(content)).write_pdf()
