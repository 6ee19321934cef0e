"""Issue 17 in a real browser: an official's and a reviewer's pages on a phone (390×844) do not
scroll sideways, axe-core finds no serious or critical problem on each role's main pages, the
entry grid warns of a likely typo as it is typed, and phone screenshots of the grid and the
inbox go to /work/wt/screens (or ``$TRACKER_DAILY_SCREENS``)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.test_dashboard_browser import log_in, site  # noqa: F401
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = Path(os.environ.get("TRACKER_DAILY_SCREENS", "/work/wt/screens"))
COMMUNITY = "441900003001"
GRID = f"/data/entry/?unit={COMMUNITY}&period=2015"

PAGES = [
    ("alice", "/data/"),
    ("alice", GRID),
    ("alice", "/data/uploads/"),
    ("bob", "/data/review/"),
    ("carol", "/"),
    ("carol", "/reports/city/441900/"),
    ("carol", "/reports/indicator/dg.volunteers.share/"),
]
PHONE_PAGES = [
    ("alice", GRID),
    ("bob", "/data/review/"),
    ("carol", "/reports/city/441900/"),
    ("carol", "/reports/indicator/dg.volunteers.share/"),
]


@pytest.fixture
def daily(site, cast):  # noqa: F811
    """Last year's population of 东城社区A is 3; this year 30 is submitted with its volunteers,
    so the inbox has an outlier to show."""
    from core.periods import Period
    from districts import services
    from districts.models import OrgUnit
    from targets.models import DataElement

    DataElement.objects.filter(code__in=["population.resident", "volunteers.registered"]).update(
        unit="persons"
    )
    unit = OrgUnit.objects.get(code=COMMUNITY)
    pop = DataElement.objects.get(code="population.resident")
    vol = DataElement.objects.get(code="volunteers.registered")
    for element, period, value, submit in [
        (pop, "2014", 3, False),
        (pop, "2015", 30, True),
        (vol, "2015", 4, True),
    ]:
        services.value_save(
            actor=cast["admin"], element=element, org_unit=unit, period=Period.parse(period),
            value=Decimal(value), submit=submit,
        )  # fmt: skip
    SCREENS.mkdir(parents=True, exist_ok=True)
    return site


def phone(browser, locale="zh-CN"):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale=locale, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !e.closest('.tablewrap, .table-scroll, .chart, canvas'))
  .slice(0, 8)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations (the script injected from node_modules; the
    context bypasses the CSP only so the test can add it)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:4])
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(("user", "path"), PHONE_PAGES)
def test_no_sideways_scrolling_at_390_px(browser, daily, user, path):
    page = phone(browser)
    log_in(page, daily, user)
    assert page.goto(f"{daily}{path}").status == 200
    page.wait_for_load_state("networkidle")
    assert overflow(page) <= 0, (path, page.evaluate(WIDEST))
    # Every input of the page is on screen horizontally.
    off = page.evaluate(
        """() => [...document.querySelectorAll('main input:not([type=hidden]), main select')]
          .filter(e => e.offsetParent !== null)
          .map(e => e.getBoundingClientRect())
          .filter(r => r.left < 0 || r.right > window.innerWidth + 1).length"""
    )
    assert off == 0, path


@pytest.mark.parametrize(("user", "path"), PAGES)
def test_axe_finds_no_serious_problem(browser, daily, user, path):
    page = phone(browser)
    log_in(page, daily, user)
    assert page.goto(f"{daily}{path}").status == 200
    page.wait_for_load_state("networkidle")
    assert axe_problems(page) == []


def test_the_grid_warns_of_a_likely_typo_as_it_is_typed(browser, daily):
    page = phone(browser)
    log_in(page, daily, "alice")
    page.goto(f"{daily}{GRID}")
    row = page.locator("tr#row-population\\.resident")
    assert "1–9" in row.locator(".expected").inner_text()
    field = row.locator("input.value-input")
    field.fill("3")
    assert row.locator(".cell-warn").inner_text() == ""
    field.fill("300")
    assert "高出 3 倍" in row.locator(".cell-warn").inner_text()
    field.fill("30")
    page.screenshot(path=str(SCREENS / "daily-entry-grid.png"), full_page=True)


def test_phone_screenshot_of_the_review_inbox(browser, daily):
    page = phone(browser)
    log_in(page, daily, "bob")
    page.goto(f"{daily}/data/review/")
    row = page.locator("tr.is-flagged").first
    assert "比上期高出 3 倍以上" in row.inner_text()
    page.screenshot(path=str(SCREENS / "daily-review-inbox.png"), full_page=True)


def test_key_figures_come_before_the_filters_on_a_phone(browser, daily):
    page = phone(browser)
    log_in(page, daily, "carol")
    page.goto(f"{daily}/reports/city/441900/")
    summary = page.locator("section.summary").bounding_box()
    filters = page.locator("form.filters").bounding_box()
    assert summary["y"] < filters["y"]
    page.screenshot(path=str(SCREENS / "daily-city.png"), full_page=True)
