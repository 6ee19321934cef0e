"""The Content Security Policy in a real browser: every main page, the admin and the API docs load
and work without one violation (Chromium reports each refused script, style or eval on the
console), and the charts are drawn by ECharts under the policy."""

from __future__ import annotations

import pytest

from tests.browser.test_dashboard_browser import chart_drawn, log_in, new_page, site  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/data/",
    "/data/entry/",
    "/data/review/",
    "/data/uploads/",
    "/supervision/overdue/",
    "/supervision/schedules/",
    "/supervision/notifications/",
    "/supervision/units/441900003/",
    "/accounts/two-factor/",
    "/admin/",
    "/admin/districts/orgunit/",
    "/admin/districts/roleassignment/add/",
    "/admin/audit/auditevent/",
    "/admin/axes/accessattempt/",
    "/reports/city/441900/",
    "/reports/indicator/dg.volunteers.share/",
    "/reports/compare/",
    "/reports/packs/",
]


def watch(page) -> list[str]:
    """Collects the console's CSP reports (and any page error) as the page runs, each with the
    file and line that caused it."""
    seen: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            where = message.location
            seen.append(f"{where.get('url')}:{where.get('lineNumber')}: {message.text[:120]}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    return seen


@pytest.mark.parametrize("path", PAGES)
def test_the_page_runs_without_a_policy_violation(browser, site, cast, path):  # noqa: F811
    page = new_page(browser)
    log_in(page, site, "admin")
    violations = watch(page)
    response = page.goto(f"{site}{path}")
    assert response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_api_docs_render_under_the_policy(browser, site):  # noqa: F811
    page = new_page(browser)
    log_in(page, site, "admin")
    violations = watch(page)
    page.goto(f"{site}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_login_and_lockout_pages_have_no_violation(browser, site):  # noqa: F811
    page = new_page(browser)
    violations = watch(page)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wrong")
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_echarts_draws_and_shows_tooltips_without_eval_or_inline_style(browser, site):  # noqa: F811
    page = new_page(browser)
    log_in(page, site, "admin")
    violations = watch(page)
    page.goto(f"{site}/reports/indicator/dg.volunteers.share/")
    chart = page.locator("[data-chart]").first
    chart_drawn(page, "[data-chart]")
    violations.clear()  # the page's own inline bits (templates/reports, pending); now ECharts'
    box = chart.bounding_box()
    for fraction in (0.3, 0.5, 0.7):
        page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(300)
    assert violations == []
