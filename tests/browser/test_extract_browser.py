"""A catalog editor turns a real plan (the Zhongshan opinions, 000_….txt) into a draft in a real
browser (Debian's Chromium through Playwright) against a live server: upload, see the source
with every candidate highlighted, reject one, edit one, save the draft file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "targets" / "catalog" / "sources" / "000_3571e8818ef61e74.txt"
SCREENS = Path(os.environ.get("TRACKER_SCREENS", "/work/wt/screens"))


def _screenshot(page, name: str) -> None:
    if SCREENS.is_dir():
        page.screenshot(path=str(SCREENS / name), full_page=False)


def test_editor_uploads_reviews_and_saves_a_draft(browser, live_server, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cast["zoe"].is_staff = True
    cast["zoe"].save()
    site = live_server.url
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site}/accounts/login/?next=/catalog/extract/")
    page.fill("#id_username", "zoe")
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_url(f"{site}/catalog/extract/")

    page.set_input_files("#id_file", str(SOURCE))
    page.select_option("#id_city", "442000")
    page.fill("#id_issued", "2014-06-12")
    page.fill("#id_horizon", "2015-12-31")
    page.click("#extract-form button[type=submit]")
    page.wait_for_selector("#extract-doc mark.hl")

    candidates = page.eval_on_selector_all(".cand", "els => els.length")
    marks = page.eval_on_selector_all("#extract-doc mark.hl", "els => els.length")
    assert candidates >= 15 and marks >= candidates
    # The highlighted text is the source's own: the first candidate's quote is in its mark.
    first_quote = page.text_content("#cand-0 .cand-quote").split(" ", 1)[1]
    assert first_quote == "城乡居民收入年均增长8%以上"
    assert page.text_content("#mark-0") in first_quote
    # Candidates below 0.4 confidence start rejected, the rest accepted.
    accepted = page.eval_on_selector_all("input[value='accept']:checked", "els => els.length")
    assert 0 < accepted <= candidates
    assert page.text_content("#review-count") == f"{accepted} / {candidates}"
    page.check("input[name='c1-decision'][value='accept']")
    accepted = page.eval_on_selector_all("input[value='accept']:checked", "els => els.length")

    # Clicking a quote focuses its row and its highlight; rejecting greys both.
    page.click("#cand-1 .cand-quote")
    assert "is-focused" in page.get_attribute("#cand-1", "class")
    page.check("input[name='c1-decision'][value='reject']")
    assert "is-rejected" in page.get_attribute("#cand-1", "class")
    assert "hl-rejected" in page.get_attribute("#mark-1", "class")
    assert page.text_content("#review-count") == f"{accepted - 1} / {candidates}"
    page.fill("input[name='c0-target']", "9")
    page.dispatch_event("input[name='c0-target']", "change")
    assert "is-edited" in page.get_attribute("#cand-0", "class")
    page.click("#cand-5 .cand-quote")
    _screenshot(page, "extract-review.png")

    page.click("#save-draft")
    page.wait_for_selector(".msg-success")
    assert "已保存草稿" in page.text_content(".messages")
    _screenshot(page, "extract-saved.png")
    (saved,) = (tmp_path / "plan-drafts").glob("*.yaml")
    document = yaml.safe_load(saved.read_text(encoding="utf-8"))
    indicators = [i for g in document["goals"] for i in g["indicators"]]
    assert len(indicators) == accepted - 1
    assert indicators[0]["target"] == 9 and indicators[0]["kind"] == "growth"
    source = SOURCE.read_text(encoding="utf-8")
    assert all(source[slice(*i["source_span"])] == i["quote"] for i in indicators)
    assert errors == []
