"""The PDF briefing a mayor reads: a summary first (headline figures, the indicators most off
track with the towns dragging each and their values, the change since the previous period,
overdue reports), then the appendix; no codes; figures to each indicator's precision."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from reports import packs
from tests.reports.test_dashboard_data import AS_OF, make_catalog, make_progress


@pytest.fixture
def content(cast, tree):
    from reports.models import ProgressRow

    catalog = make_catalog()
    make_progress(catalog, tree)
    # A figure as the engine stores it: six decimals.
    ProgressRow.objects.filter(
        indicator=catalog["ind"]["dg.online.share"], org_unit=tree["441900003"], period=AS_OF
    ).update(value=Decimal("97.649146"))
    return packs.pack_content(city=tree["441900"], as_of=AS_OF)


def pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_briefing_opens_with_a_summary_then_the_appendix(content):
    text = pages(packs.briefing_pdf(content))
    summary = "\n".join(text[:2])
    assert "最偏离目标的指标" in summary
    # Most off track first: the missed milestone, then the off-track share with its town.
    assert summary.index("建成社区服务中心") < summary.index("注册志愿者占常住人口比例")
    assert "东城街道 7%（滞后）" in summary.replace("\n", "")
    assert "较上期" in summary and "+0.7 个百分点" in summary  # 7.9% → 8.6%
    assert "未按期报送" in summary
    assert "附录" in "\n".join(text)


def test_the_briefing_shows_no_codes_and_rounds_figures(content):
    text = "\n".join(pages(packs.briefing_pdf(content)))
    for code in ("dg.volunteers.share", "dg.online.share", "dg.centres"):
        assert code not in text
    assert "97.649146" not in text


def test_the_workbook_rounds_each_figure_to_its_indicators_precision(content):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(packs.workbook_bytes(content)))
    rows = {(r[0], r[2]): r for r in wb["下级单位"].iter_rows(min_row=2, values_only=True)}
    assert rows[("dg.online.share", "441900003")][5] == 97.65
    total = {r[2]: r for r in wb["指标"].iter_rows(min_row=2, values_only=True)}
    assert total["dg.volunteers.total"][8] == 1_200_000  # a count: no decimals
    assert isinstance(total["dg.volunteers.total"][8], int)


def test_the_english_briefing_reads_in_english(cast, tree, content):
    import os
    from pathlib import Path

    from django.utils import translation

    from reports.models import ProgressRow

    assert ProgressRow.objects.exists()
    shots = os.environ.get("TRACKER_SCREENSHOT_DIR")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            briefing = packs.pack_content(city=tree["441900"], as_of=AS_OF)
            pdf = packs.briefing_pdf(briefing)
        text = "\n".join(pages(pdf)[:2])
        if language == "en":
            assert "Indicators most off track" in text and "Dongcheng 7%" in text
            assert "Registered volunteers as a share of residents" in text
        if shots:  # the first two pages as images, for the closing note
            import pypdfium2

            document = pypdfium2.PdfDocument(pdf)
            for n in range(min(2, len(document))):
                image = document[n].render(scale=1.4).to_pil()
                image.save(Path(shots) / f"briefing-{language}-page{n + 1}.png")
