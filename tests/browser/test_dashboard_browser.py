"""A leader's morning in a real browser (Debian's Chromium through Playwright) against a live
server: log in, open the city dashboard and see the charts drawn, switch to English and back,
drill down to a town and an indicator, build a report pack and download its PDF and XLSX; and a
leader of another city is refused. Screenshots go to ``.run/screenshots`` (or
``$TRACKER_SCREENSHOT_DIR``)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, ROOT
from tests.reports.test_dashboard_data import make_catalog, make_progress

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SHOTS = Path(os.environ.get("TRACKER_SCREENSHOT_DIR", ROOT / ".run" / "screenshots"))
# How many non-transparent pixels a chart's canvas has: 0 when ECharts drew nothing.
INKED_PIXELS = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas) { return -1; }
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { inked++; } }
  return inked;
}"""


@pytest.fixture
def site(live_server, cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return live_server.url


def new_page(browser, width=1440, height=900):
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def log_in(page, site, username):
    page.goto(f"{site}/accounts/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_url(f"{site}/")


def chart_drawn(page, selector):
    page.wait_for_selector(f'{selector}[data-rendered="1"]', state="attached")
    inked = page.evaluate(INKED_PIXELS, selector)
    data_url = page.evaluate(
        "(s) => document.querySelector(s + ' canvas').toDataURL().length", selector
    )
    return inked, data_url


def shot(page, name):
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_leader_reads_the_dashboard_drills_down_and_downloads_a_report_pack(browser, site):
    page = new_page(browser)
    log_in(page, site, "carol")
    assert page.locator('[data-city="441900"]').is_visible()
    assert page.locator('[data-city="442000"]').count() == 0
    shot(page, "01-home")

    # Home → city dashboard.
    page.click('[data-city="441900"] a.button')
    page.wait_for_url(f"{site}/reports/city/441900/")
    assert "东莞市" in page.locator("h1").inner_text()
    for chart in ('[data-chart="donut"]', '[data-chart="goals"]'):
        inked, data_url = chart_drawn(page, chart)
        assert inked > 1000, (chart, inked)
        assert data_url > 5000, (chart, data_url)
    attention = page.locator("section.attention")
    assert "滞后" in attention.inner_text() and "东城街道" in attention.inner_text()
    shot(page, "02-city-dashboard")

    # English and back, on the same page.
    page.click('button[data-lang="en"]')
    page.wait_for_selector('html[lang="en"]')
    assert "Dongguan" in page.locator("h1").inner_text()
    assert "Registered volunteers as a share of residents" in page.content()
    assert chart_drawn(page, '[data-chart="goals"]')[0] > 1000
    shot(page, "03-city-dashboard-en")
    page.click('button[data-lang="zh-hans"]')
    page.wait_for_selector('html[lang="zh-hans"]')
    assert "东莞市" in page.locator("h1").inner_text()

    # Drill down: the town behind an off-track indicator, then one of its indicators.
    page.click('section.children tr[data-unit="441900003"] a')
    page.wait_for_url(f"{site}/reports/unit/441900003/*")
    assert "东城街道" in page.locator("h1").inner_text()
    assert page.locator('tr[data-unit="441900003001"]').is_visible()
    shot(page, "04-town")
    page.click('tr[data-indicator="dg.volunteers.share"] th a')
    page.wait_for_url("**/reports/indicator/dg.volunteers.share/**")
    inked, _url = chart_drawn(page, '[data-chart="trend"]')
    assert inked > 1000
    assert "力争到2015年全市注册志愿者占常住人口的12%以上" in page.content()
    shot(page, "05-indicator-town")

    # The indicator at the city: the trend and the league table of towns.
    page.goto(f"{site}/reports/indicator/dg.volunteers.share/")
    assert chart_drawn(page, '[data-chart="trend"]')[0] > 1000
    assert chart_drawn(page, '[data-chart="league"]')[0] > 500
    ranked = page.locator("table.league-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.unit)"
    )
    assert ranked == ["441900101", "441900003"]
    shot(page, "06-indicator-city")

    # A report pack from the dashboard: progress page, then both files.
    page.goto(f"{site}/reports/city/441900/")
    page.click("text=生成报告包（PDF / XLSX）")
    page.wait_for_url("**/reports/packs/?city=441900")
    page.select_option("#pack-asof", "2014")
    page.click("form.packform button[type=submit]")
    page.wait_for_url("**/reports/packs/*/")
    page.wait_for_selector("#pack-files:not([hidden])")
    assert page.locator("#pack-progress").get_attribute("value") == "100"
    shot(page, "07-report-pack")

    with page.expect_download() as pdf_download:
        page.click("#pack-pdf")
    pdf_path = pdf_download.value.path()
    assert pdf_download.value.suggested_filename.endswith(".pdf")
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert "东莞市" in text and "注册志愿者占常住人口比例" in text and "滞后" in text

    with page.expect_download() as xlsx_download:
        page.click("#pack-xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    assert "指标" in wb.sheetnames
    codes = {row[2] for row in wb["指标"].iter_rows(min_row=2, values_only=True)}
    assert {"dg.volunteers.share", "dg.online.share", "dg.centres"} <= codes
    page.context.close()


def test_leader_of_another_city_is_refused_dongguans_pages(browser, site):
    page = new_page(browser)
    log_in(page, site, "erin")
    assert page.locator('[data-city="442000"]').is_visible()
    assert page.locator('[data-city="441900"]').count() == 0
    for path in [
        "/reports/city/441900/",
        "/reports/unit/441900003/",
        "/reports/indicator/dg.volunteers.share/",
    ]:
        response = page.goto(f"{site}{path}")
        assert response.status == 403, path
        assert "不在您的权限范围内" in page.locator("main").inner_text()
    shot(page, "08-refused")
    response = page.goto(f"{site}/reports/city/442000/")
    assert response.status == 200
    assert chart_drawn(page, '[data-chart="goals"]')[0] > 1000
    page.context.close()


def test_dashboard_fits_a_meeting_room_screen_and_a_phone(browser, site):
    for width, height, name in [(2560, 1440, "09-meeting-room"), (390, 844, "10-phone")]:
        page = new_page(browser, width, height)
        log_in(page, site, "carol")
        page.goto(f"{site}/reports/city/441900/")
        assert chart_drawn(page, '[data-chart="goals"]')[0] > 500
        # Nothing but the wide tables scrolls sideways.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (name, overflow)
        shot(page, name)
        page.context.close()
