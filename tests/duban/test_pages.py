"""The 督办 pages and the evidence downloads, for the whole cast: who sees which task, who gets
which buttons, illegal moves shown as a message, and files served only in scope."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from duban import rules, services
from duban.models import Evidence, Task
from tests.conftest import PASSWORD
from tests.duban.conftest import docx_bytes, pdf_bytes

pytestmark = pytest.mark.django_db

# Who reads the 东城 task (led by 东城, in 东莞) and the 中山 task.
READS_DONGCHENG = {"admin": True, "alice": True, "bob": True, "carol": True, "dave": False,
                   "erin": False, "zoe": False}  # fmt: skip


def login(client, user):
    client.login(username=user, password=PASSWORD)
    return client


@pytest.fixture
def reported(dongcheng_task, cast):
    task = dongcheng_task
    services.task_transition(actor=cast["alice"], task=task, to=rules.ACKNOWLEDGED)
    services.progress_report_add(
        actor=cast["alice"], task=task, text="初稿", files=[("初稿.docx", docx_bytes())]
    )
    services.task_transition(
        actor=cast["alice"], task=task, to=rules.REPORTED, files=[("目录.pdf", pdf_bytes())]
    )
    return task


@pytest.mark.parametrize("user", sorted(READS_DONGCHENG))
def test_the_task_list_and_page_are_scoped(client, cast, dongcheng_task, zhongshan_task, user):
    login(client, user)
    listing = client.get(reverse("duban:task_list"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert (f'data-task="{dongcheng_task.pk}"' in body) is READS_DONGCHENG[user]
    assert (f'data-task="{zhongshan_task.pk}"' in body) is (user in ("admin", "erin"))
    page = client.get(reverse("duban:task_detail", args=[dongcheng_task.pk]))
    assert page.status_code == (200 if READS_DONGCHENG[user] else 404)


@pytest.mark.parametrize("user", sorted(READS_DONGCHENG))
def test_evidence_is_served_only_in_scope_as_an_attachment(client, cast, reported, user):
    login(client, user)
    for row in Evidence.objects.all():
        response = client.get(reverse("duban:evidence_download", args=[row.pk]))
        assert response.status_code == (200 if READS_DONGCHENG[user] else 404)
        if response.status_code == 200:
            assert response["Content-Disposition"].startswith("attachment")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Content-Type"] == row.content_type


def test_anonymous_users_get_the_login_page_not_the_file(client, reported):
    row = Evidence.objects.first()
    response = client.get(reverse("duban:evidence_download", args=[row.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_pdf_preview_is_drawn_once_and_cached(client, cast, reported, media):
    login(client, "bob")
    pdf = Evidence.objects.get(kind="pdf")
    first = client.get(reverse("duban:evidence_preview", args=[pdf.pk]))
    assert first.status_code == 200 and first.content.startswith(b"\x89PNG")
    pdf.refresh_from_db()
    assert pdf.preview.name and (media / pdf.preview.name).exists()
    second = client.get(reverse("duban:evidence_preview", args=[pdf.pk]))
    assert second.content == first.content
    docx = Evidence.objects.get(kind="docx")
    assert client.get(reverse("duban:evidence_preview", args=[docx.pk])).status_code == 404


def test_each_role_sees_only_its_own_buttons(client, cast, reported):
    url = reverse("duban:task_detail", args=[reported.pk])
    login(client, "alice")
    assert 'data-move="closed"' not in client.get(url).content.decode()
    client.logout()
    login(client, "bob")
    body = client.get(url).content.decode()
    assert 'data-move="closed"' in body and 'data-move="in_progress"' in body
    client.logout()
    login(client, "carol")
    body = client.get(url).content.decode()
    assert 'data-move="closed"' not in body and "写批示" in body


def test_an_illegal_move_from_the_page_is_a_clear_message(client, cast, dongcheng_task):
    login(client, "bob")
    response = client.post(
        reverse("duban:task_transition", args=[dongcheng_task.pk]), {"to": "closed"}, follow=True
    )
    body = response.content.decode()
    assert "不能转为“办结”" in body and "cannot become closed" in body
    assert Task.objects.get(pk=dongcheng_task.pk).state == rules.ASSIGNED


def test_a_move_the_user_may_not_make_is_a_403_page(client, cast, dongcheng_task):
    login(client, "carol")
    response = client.post(
        reverse("duban:task_transition", args=[dongcheng_task.pk]), {"to": "acknowledged"}
    )
    assert response.status_code == 403
    assert "只有承办单位的填报员可以签收" in response.content.decode()


def test_reporting_done_from_the_page_with_an_executable_stores_nothing(
    client, cast, dongcheng_task
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.ACKNOWLEDGED)
    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.IN_PROGRESS)
    login(client, "alice")
    fake = SimpleUploadedFile("目录.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")
    response = client.post(
        reverse("duban:task_transition", args=[dongcheng_task.pk]),
        {"to": "reported", "note": "完成", "evidence": [fake]},
        follow=True,
    )
    assert "不是可接受的文件类型" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_red_task_offers_the_supervision_sheet_pdf(client, cast, dongcheng_task):
    login(client, "carol")
    url = reverse("duban:task_detail", args=[dongcheng_task.pk])
    assert "打印督办单" not in client.get(url).content.decode()
    body = client.get(url, {"as_of": "2027-01-05"}).content.decode()
    assert "打印督办单" in body
    pdf = client.get(reverse("duban:task_sheet", args=[dongcheng_task.pk]), {"as_of": "2027-01-05"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    import pypdfium2 as pdfium

    text = pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert "督办单" in text and "出台政府购买服务目录" in text and "已逾期 5 天" in text


def test_a_leader_assigns_a_task_from_a_milestone_indicator(client, cast, plans, tree):
    login(client, "carol")
    url = reverse("duban:task_create")
    form = client.get(url, {"indicator": plans["milestone"].code})
    assert "出台政府购买服务目录" in form.content.decode()
    response = client.post(
        url,
        {
            "indicator": plans["milestone"].code,
            "plan": "dg-test",
            "title_zh": "出台政府购买服务目录",
            "goal": plans["goal"].pk,
            "lead_unit": "441900101",
            "assignees": ["441900101"],
            "deadline": "2026-12-31",
            "steps": "2026-09-30 起草\n2026-11-30 征求意见",
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/tasks/{task.pk}/")
    assert task.indicator == plans["milestone"] and task.clause == "8"
    assert [s.due for s in task.steps.all()] == [date(2026, 9, 30), date(2026, 11, 30)]


def test_officials_cannot_open_the_assign_form(client, cast, plans):
    login(client, "alice")
    assert client.get(reverse("duban:task_create")).status_code == 403


def test_the_list_filters_by_lamp_and_state(client, cast, dongcheng_task, zhongshan_task):
    login(client, "admin")
    url = reverse("duban:task_list")
    red = client.get(url, {"lamp": "red", "as_of": "2026-07-15"}).content.decode()
    assert f'data-task="{zhongshan_task.pk}"' in red
    assert f'data-task="{dongcheng_task.pk}"' not in red
    unit = client.get(url, {"unit": "441900003"}).content.decode()
    assert f'data-task="{zhongshan_task.pk}"' not in unit
    state = client.get(url, {"state": "closed"}).content.decode()
    assert "data-task=" not in state


def test_the_instruction_thread_shows_on_the_task_page(client, cast, dongcheng_task, tree):
    instruction = services.instruction_create(
        actor=cast["carol"], text="请于月底前印发", addressee=tree["441900003"], task=dongcheng_task
    )
    login(client, "alice")
    response = client.post(
        reverse("duban:instruction_reply", args=[instruction.pk]),
        {"text": "已按要求推进", "done": "on", "back": "task"},
    )
    assert response["Location"].endswith(f"/tasks/{dongcheng_task.pk}/")
    client.logout()
    login(client, "carol")
    body = client.get(reverse("duban:task_detail", args=[dongcheng_task.pk])).content.decode()
    assert "请于月底前印发" in body and "已按要求推进" in body and "已落实" in body


def test_no_inline_scripts_or_styles_on_the_pages(client, cast, reported):
    login(client, "bob")
    for url in (
        reverse("duban:task_list"),
        reverse("duban:task_detail", args=[reported.pk]),
        reverse("duban:instruction_list"),
        reverse("duban:task_create") + "?plan=dg-test",
    ):
        body = client.get(url).content.decode()
        assert "<style" not in body and 'style="' not in body
        assert "<script>" not in body and "duban.js" in body


def test_the_admin_lists_tasks_read_only(client, cast, reported):
    login(client, "admin")
    for name in ("task", "instruction", "evidence", "taskalert"):
        assert client.get(f"/admin/duban/{name}/").status_code == 200
    page = client.get(f"/admin/duban/task/{reported.pk}/change/")
    assert page.status_code == 200 and "出台政府购买服务目录" in page.content.decode()
    assert client.get("/admin/duban/task/add/").status_code == 403
