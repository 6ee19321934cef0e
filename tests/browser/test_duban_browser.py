"""The 督办 loop in a real browser (Debian's Chromium through Playwright) as the three roles:
bob (reviewer) assigns a task, alice (official) acknowledges it, starts and reports it done with
a PDF, bob returns it with a reason, alice reports again, bob closes it; carol (leader) sees the
red task with its 督办单, writes an instruction and reads alice's reply. Desktop and phone
(390 px) screenshots go to ``$TRACKER_SCREENSHOT_DIR`` (default /work/wt/screens when it
exists, else .run/screenshots) as duban-*.png."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, ROOT

# The 督办 fixtures (a plan with a milestone, media in a temporary folder), shared by import.
from tests.duban import conftest as duban_fixtures
from tests.duban.conftest import pdf_bytes

media = duban_fixtures.media
plans = duban_fixtures.plans

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_DEFAULT = Path("/work/wt/screens")
SHOTS = Path(
    os.environ.get("TRACKER_SCREENSHOT_DIR")
    or (_DEFAULT if _DEFAULT.is_dir() else ROOT / ".run" / "screenshots")
)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(live_server, cast, plans, tree):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return live_server.url


def session(browser, site, username, phone=False):
    viewport = PHONE if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{site}/accounts/login/?next=/duban/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_url(f"{site}/duban/")
    return page


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"duban-{name}.png"), full_page=True)


def move(page, target, note=None, files=None):
    form = page.locator(f'form[data-move="{target}"]').first
    if note is not None:
        form.locator("[name=note]").fill(note)
    if files:
        form.locator("input[type=file]").set_input_files(files)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")


def state_of(page):
    return page.locator("#task-state").get_attribute("data-state")


def test_the_whole_loop_as_reviewer_official_and_leader(browser, site, cast, plans, tree, tmp_path):
    from duban import services
    from duban.models import Evidence, Task

    evidence = tmp_path / "目录印发稿.pdf"
    evidence.write_bytes(pdf_bytes("政府购买服务目录（印发稿）"))

    # bob (reviewer on 东莞) assigns from the milestone indicator.
    bob = session(browser, site, "bob")
    bob.goto(f"{site}/duban/tasks/new/?indicator={plans['milestone'].code}")
    assert bob.input_value("#id_title_zh") == "出台政府购买服务目录"
    bob.select_option("#id_lead_unit", "441900003")
    bob.select_option("#id_assignees", ["441900003"])
    bob.fill("#id_deadline", (date.today() + timedelta(days=60)).isoformat())
    bob.fill("#id_steps", f"{(date.today() + timedelta(days=20)).isoformat()} 起草目录并征求意见")
    shot(bob, "01-assign-desktop")
    bob.click("form.db-form button[type=submit]")
    bob.wait_for_url("**/duban/tasks/*/")
    task = Task.objects.get()
    assert state_of(bob) == "assigned"

    # alice (official on 东城), on her phone: acknowledge, start, report done with the PDF.
    alice = session(browser, site, "alice", phone=True)
    assert alice.locator(f'[data-task="{task.pk}"]').is_visible()
    shot(alice, "02-list-phone")
    alice.goto(f"{site}/duban/tasks/{task.pk}/")
    assert alice.locator('form[data-move="closed"]').count() == 0
    move(alice, "acknowledged")
    assert state_of(alice) == "acknowledged"
    move(alice, "in_progress")
    move(alice, "reported", note="目录已印发", files=[str(evidence)])
    assert state_of(alice) == "reported"
    thumb = alice.locator("img.db-thumb").first
    thumb.scroll_into_view_if_needed()
    alice.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    shot(alice, "03-reported-phone")

    # bob tries to close without reading? He returns it: the reason is required by the form.
    bob.reload()
    move(bob, "in_progress", note="缺少印发文号，请补充")
    assert state_of(bob) == "in_progress"
    assert "缺少印发文号" in bob.locator(".db-timeline").inner_text()
    shot(bob, "04-returned-desktop")

    # alice reports again; bob closes.
    alice.reload()
    move(alice, "reported", note="已补充文号", files=[str(evidence)])
    bob.reload()
    move(bob, "closed")
    assert state_of(bob) == "closed"
    timeline = bob.locator(".db-timeline li").evaluate_all("els => els.map(e => e.dataset.target)")
    assert timeline == ["assigned", "acknowledged", "in_progress", "reported", "in_progress",
                        "reported", "closed"]  # fmt: skip
    shot(bob, "05-closed-desktop")
    assert Evidence.objects.count() == 2
    from districts.models import DataValue

    assert DataValue.objects.get(element=plans["element"]).state == "approved"

    # An overdue task for the leader: red, with its 督办单; carol writes an instruction.
    late = services.task_assign(
        actor=cast["bob"], plan=plans["dg"], title_zh="建立社区工作准入制度",
        deadline=date.today() - timedelta(days=9), lead_unit=tree["441900003"],
        assignees=[tree["441900003"]],
    )  # fmt: skip
    carol = session(browser, site, "carol")
    carol.goto(f"{site}/duban/?lamp=red")
    assert carol.locator(f'[data-task="{late.pk}"] [data-lamp="red"]').is_visible()
    shot(carol, "06-red-list-desktop")
    carol.goto(f"{site}/duban/tasks/{late.pk}/")
    with carol.expect_download() as download:
        carol.click("a.db-sheet")
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    download.value.save_as(SHOTS / "duban-09-sheet.pdf")
    carol.click("text=写批示")
    carol.fill("#id_text", "请一周内拿出整改措施")
    carol.click("form.db-form button[type=submit]")
    carol.wait_for_url(f"**/duban/tasks/{late.pk}/")

    alice.goto(f"{site}/duban/tasks/{late.pk}/")
    reply = alice.locator("form.db-reply-form")
    reply.locator("textarea").fill("已召开专题会，月底前完成")
    reply.locator("input[type=checkbox]").check()
    reply.locator("button[type=submit]").click()
    alice.wait_for_load_state("load")

    carol.reload()
    thread = carol.locator(".db-instruction").inner_text()
    assert "请一周内拿出整改措施" in thread and "已召开专题会" in thread and "已落实" in thread
    shot(carol, "07-instruction-desktop")
    phone = session(browser, site, "carol", phone=True)
    phone.goto(f"{site}/duban/tasks/{late.pk}/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    shot(phone, "08-red-task-phone")
