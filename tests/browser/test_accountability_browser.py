"""A leader in a real browser (Debian's Chromium through Playwright) opens the published
ranking, drills from a town's score to the indicator that cost it points and on to the
indicator page, and downloads the bulletin (通报)."""

from __future__ import annotations

import pytest

from tests.accountability.test_pages import published  # noqa: F401  (the fixture)
from tests.api.conftest import catalog  # noqa: F401
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_drills_from_the_ranking_and_downloads_the_bulletin(
    browser,
    live_server,
    published,  # noqa: F811
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = str(tmp_path)
    site = live_server.url
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site}/accounts/login/?next=/accountability/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_url(f"{site}/accountability/")

    page.click(f"a[href='/accountability/assessments/{published.id}/']")
    assert page.text_content("tr[data-unit='441900101'] td.num") == "1"
    page.click("tr[data-unit='441900101'] a")
    first = page.locator("tbody tr").first
    assert first.get_attribute("data-indicator") == "do.volunteers.share"
    assert "东莞市民政局" in first.text_content()
    first.locator("th a").click()
    page.wait_for_url("**/reports/indicator/do.volunteers.share/?unit=441900101")

    page.goto(f"{site}/accountability/assessments/{published.id}/")
    page.click("form[action$='/bulletin/'] button")
    page.wait_for_selector("li[data-state='succeeded'] a")
    with page.expect_download() as download:
        page.click("li[data-state='succeeded'] a:text('PDF')")
    path = download.value.path()
    with open(path, "rb") as f:
        assert f.read(4) == b"%PDF"
    assert download.value.suggested_filename.endswith(".pdf")
    assert not [e for e in errors if "Content Security Policy" in e]
