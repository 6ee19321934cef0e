"""Report packs: requested by a leader in scope, built in the background (in-process here),
downloadable afterwards as a PDF briefing with Chinese text and charts and an XLSX workbook in
which no text cell can run as a formula."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from reports import packs
from reports.models import ReportPack
from tests.reports.test_dashboard_data import make_catalog, make_progress


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


def request_pack(client, user, city="441900", as_of="2014", language="zh-hans", capture=None):
    client.force_login(user)
    with capture(execute=True):
        return client.post(
            reverse("reports:packs"), {"city": city, "as_of": as_of, "language": language}
        )


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def download(client, pack, kind):
    response = client.get(reverse("reports:pack_file", args=[pack.pk, kind]))
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def test_leader_builds_a_pack_and_downloads_the_pdf_and_the_workbook(
    client, data, cast, django_capture_on_commit_callbacks
):
    response = request_pack(client, cast["carol"], capture=django_capture_on_commit_callbacks)
    pack = ReportPack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:pack", args=[pack.pk])
    assert (pack.state, pack.percent, pack.created_by, pack.as_of) == (
        "succeeded",
        100,
        cast["carol"],
        "2014",
    )
    status = client.get(reverse("reports:pack_status", args=[pack.pk])).json()
    assert status["state"] == "succeeded" and status["percent"] == 100
    assert status["pdf_url"].endswith("/pdf") and status["xlsx_url"].endswith("/xlsx")

    response, body = download(client, pack, "pdf")
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert body.startswith(b"%PDF")
    text = pdf_text(body)
    assert "东莞市" in text
    assert "注册志愿者占常住人口比例" in text
    assert "滞后" in text and "最偏离目标的指标" in text
    assert "东城街道" in text  # the towns behind an off-track indicator
    assert "力争到2015年全市注册志愿者占常住人口的12%以上" in text

    response, body = download(client, pack, "xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["概览", "指标", "下级单位", "历年数值", "原文"]
    rows = list(wb["指标"].iter_rows(values_only=True))
    by_code = {row[2]: row for row in rows[1:]}
    assert by_code["dg.volunteers.share"][8] == pytest.approx(8.6)
    assert by_code["dg.volunteers.share"][10] == "滞后"
    units = list(wb["下级单位"].iter_rows(values_only=True))
    assert ("dg.volunteers.share", "441900003") in {(r[0], r[2]) for r in units}
    trend = list(wb["历年数值"].iter_rows(values_only=True))
    assert trend[0][2:] == ("2011", "2012", "2013", "2014")


def test_pdf_embeds_the_cjk_font_and_draws_charts(data, cast):
    from pypdf import PdfReader

    content = packs.pack_content(city=data["plans"]["dg"].city, as_of="2014")
    html = packs.briefing_html(content)
    assert html.count("<svg") >= 5  # status chart, charts of child units, trend lines
    reader = PdfReader(io.BytesIO(packs.briefing_pdf(content)))
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    assert any("NotoSansCJK" in f.replace("-", "") for f in fonts), fonts


def test_english_pack_uses_english_names(client, data, cast, django_capture_on_commit_callbacks):
    request_pack(client, cast["carol"], language="en", capture=django_capture_on_commit_callbacks)
    pack = ReportPack.objects.get()
    response, body = download(client, pack, "pdf")
    assert "Dongguan" in response["Content-Disposition"]
    text = pdf_text(body)
    assert "Dongguan" in text
    assert "Registered volunteers as a share of residents" in text


def test_workbook_neutralises_spreadsheet_formulas(data, cast):
    from openpyxl import load_workbook

    indicator = data["ind"]["dg.online.share"]
    indicator.name_zh = '=HYPERLINK("http://evil.example","点我")'
    indicator.quote = "+1+cmd|' /C calc'!A0"
    indicator.save()
    town = data["ind"]["dg.online.share"].plan.city.children.get(code="441900101")
    town.name_zh = "@SUM(1+1)"
    town.save()
    content = packs.pack_content(city=indicator.plan.city, as_of="2014")
    wb = load_workbook(io.BytesIO(packs.workbook_bytes(content)))
    cells = [
        cell
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    ]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert "'+1+cmd|' /C calc'!A0" in cells
    assert "'@SUM(1+1)" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    # Numbers stay numbers.
    rows = list(wb["指标"].iter_rows(values_only=True))
    assert any(row[8] == pytest.approx(92.0) for row in rows[1:])


def test_a_pack_of_another_city_can_be_neither_requested_nor_seen(
    client, data, cast, django_capture_on_commit_callbacks
):
    response = request_pack(
        client, cast["erin"], city="441900", capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert "请选择您权限范围内的城市" in response.content.decode()
    assert not ReportPack.objects.exists()

    request_pack(client, cast["carol"], capture=django_capture_on_commit_callbacks)
    pack = ReportPack.objects.get()
    client.force_login(cast["erin"])
    for name, args in [
        ("reports:pack", [pack.pk]),
        ("reports:pack_status", [pack.pk]),
        ("reports:pack_file", [pack.pk, "pdf"]),
        ("reports:pack_file", [pack.pk, "xlsx"]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404
    assert f'data-pack="{pack.pk}"' not in client.get(reverse("reports:packs")).content.decode()
    # Another reader of Dongguan (the reviewer) may use it.
    client.force_login(cast["bob"])
    assert f'data-pack="{pack.pk}"' in client.get(reverse("reports:packs")).content.decode()
    assert client.get(reverse("reports:pack_file", args=[pack.pk, "xlsx"])).status_code == 200


def test_pack_with_an_unknown_period_is_refused(
    client, data, cast, django_capture_on_commit_callbacks
):
    response = request_pack(
        client, cast["carol"], as_of="2030", capture=django_capture_on_commit_callbacks
    )
    assert "没有这一期间的进度数据" in response.content.decode()
    assert not ReportPack.objects.exists()


def test_pack_without_a_period_is_as_of_the_latest_one(
    client, data, cast, django_capture_on_commit_callbacks
):
    request_pack(client, cast["carol"], as_of="", capture=django_capture_on_commit_callbacks)
    assert ReportPack.objects.get().as_of == "2014"


def test_building_twice_changes_nothing(data, cast):
    pack = ReportPack.objects.create(city=data["plans"]["dg"].city, as_of="2014")
    assert packs.report_pack_build(pack_id=pack.pk) is True
    first = ReportPack.objects.get(pk=pack.pk)
    assert packs.report_pack_build(pack_id=pack.pk) is False
    again = ReportPack.objects.get(pk=pack.pk)
    assert (again.pdf.name, again.finished_at) == (first.pdf.name, first.finished_at)


def test_a_failed_build_keeps_its_error(data, cast, monkeypatch, client):
    def broken(content):
        raise RuntimeError("font missing")

    monkeypatch.setattr(packs, "briefing_pdf", broken)
    pack = ReportPack.objects.create(
        city=data["plans"]["dg"].city, as_of="2014", created_by=cast["carol"]
    )
    assert packs.report_pack_build(pack_id=pack.pk) is False
    pack.refresh_from_db()
    assert pack.state == "failed" and "font missing" in pack.error and pack.finished_at
    client.force_login(cast["carol"])
    status = client.get(reverse("reports:pack_status", args=[pack.pk])).json()
    assert status["state"] == "failed" and "font missing" in status["error"]
    assert client.get(reverse("reports:pack_file", args=[pack.pk, "pdf"])).status_code == 404


def test_svg_charts_escape_their_text():
    svg = packs.svg_hbars(
        [{"label": "<script>", "value": 3.0, "color": "#123456", "text": "a&b"}],
        target=2.0,
        target_label="目标 2",
        title='"t"',
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert packs.svg_trend([None, None]) == ""
    assert "<polyline" in packs.svg_trend([1.0, 2.0, None, 3.0], target=4.0)
