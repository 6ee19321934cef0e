"""The as-of jump, in a real browser: a reviewer approves a few values of a new year for one
community; the home card and the city dashboard still open on the last complete year, and offer
the new year as "in progress" with its completeness. Screenshots of the city dashboard before and
after, on a desktop (1366 wide) and a phone (390 wide), in Chinese and English, go to
``$TRACKER_SCREENSHOT_DIR`` (default ``.run/screenshots``; /work/wt/screens for the issue)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.test_dashboard_browser import log_in, new_page
from tests.conftest import ROOT
from tests.reports.test_dashboard_data import make_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("TRACKER_SCREENSHOT_DIR", ROOT / ".run" / "screenshots"))
COMMUNITIES = ["441900003001", "441900003002", "441900101001"]
VALUES = {
    "population.resident": 10_000,
    "volunteers.registered": 900,
    "social_orgs.count": 2,
    "services.online_items": 80,
    "services.total_items": 100,
    "centres.built": 1,
}


def put(element, unit, period, value):
    from core.periods import Period
    from districts.models import DataValue

    p = Period.parse(period)
    DataValue.objects.create(
        element=element, org_unit=unit, period=str(p), value=Decimal(value), state="approved",
        period_start=p.start, period_end=p.end,
    )  # fmt: skip


@pytest.fixture
def site(live_server, cast, tree):
    from reports import services

    catalog = make_catalog()
    for year in ("2012", "2013", "2014"):
        for code in COMMUNITIES:
            for element, value in VALUES.items():
                put(catalog["el"][element], tree[code], year, value)
    services.progress_recompute(as_of=date(2026, 1, 1))
    SHOTS.mkdir(parents=True, exist_ok=True)
    return live_server.url, catalog


def approve_a_few_new_values(catalog, tree, cast):
    """A town official enters three 2015 values for one community; the reviewer approves them
    (the approval queues the progress job, which runs at once in the tests)."""
    from core.periods import Period
    from districts.services import value_save, values_approve
    from reports import services

    values = [
        value_save(
            actor=cast["alice"],
            element=catalog["el"][element],
            org_unit=tree["441900003001"],
            period=Period.parse("2015"),
            value=Decimal(VALUES[element]),
            submit=True,
        )
        for element in ("population.resident", "volunteers.registered", "social_orgs.count")
    ]
    values_approve(actor=cast["bob"], values=values)
    services.progress_recompute(as_of=date(2026, 1, 1))


def shots(browser, base, name):
    """The city dashboard at 1366 and 390 wide, in Chinese and English."""
    for width, height, device in [(1366, 900, "desktop"), (390, 844, "phone")]:
        page = new_page(browser, width, height)
        log_in(page, base, "carol")
        for lang in ("zh-hans", "en"):
            page.goto(f"{base}/reports/city/441900/")
            if page.locator("html").get_attribute("lang") != lang:
                page.click(f'button[data-lang="{lang}"]')
                page.wait_for_selector(f'html[lang="{lang}"]')
            page.wait_for_selector('[data-chart="goals"][data-rendered="1"]', state="attached")
            page.screenshot(path=str(SHOTS / f"asof-{name}-{device}-{lang}.png"), full_page=True)
        page.click('button[data-lang="zh-hans"]')
        page.context.close()


def test_a_few_values_of_a_new_year_do_not_move_the_dashboards(browser, site, tree, cast):
    base, catalog = site
    shots(browser, base, "before")
    approve_a_few_new_values(catalog, tree, cast)
    shots(browser, base, "after")

    page = new_page(browser, 1366, 900)
    log_in(page, base, "carol")
    card = page.locator('[data-city="441900"]')
    assert "截至 2014" in card.inner_text()
    assert "2015 进行中（完整度" in card.locator("a.asof-progress").inner_text()

    page.goto(f"{base}/reports/city/441900/")
    info = page.locator(".asof-info").first
    assert info.get_attribute("data-asof") == "2014"
    assert "截至 2014（完整度" in info.inner_text()
    offer = info.locator("a.asof-progress")
    assert "2015 进行中（完整度" in offer.inner_text()

    # The newer year is one click away, and says it is not the complete one.
    offer.click()
    page.wait_for_url("**/reports/city/441900/?as_of=2015")
    info = page.locator(".asof-info").first
    assert info.get_attribute("data-asof") == "2015"
    assert "回到最近的完整期间 2014" in info.inner_text()

    page.goto(f"{base}/reports/unit/441900/")
    assert page.locator(".asof-info").first.get_attribute("data-asof") == "2014"
    page.context.close()
