"""The catalog editors' extraction pages: upload → review → save a draft file; a superuser
loads it (audited); everyone else is kept out."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import PASSWORD
from tests.targets.test_extraction_reading import image_only_pdf

pytestmark = pytest.mark.django_db
TEXT = (
    "中山市社会建设实施方案\n一、目标任务\n"
    "1.志愿服务。“十二五”期末,全市注册志愿者占常住人口的15%以上。\n"
    "2.社会工作。到2015年,全市实现每万人中有5名社工的目标。\n"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def editor(client, cast):
    cast["zoe"].is_staff = True
    cast["zoe"].save()
    client.login(username="zoe", password=PASSWORD)
    return client


def _upload(client, data: bytes | None = None, name="plan.txt"):
    data = TEXT.encode("gb18030") if data is None else data
    return client.post(
        "/catalog/extract/",
        {"file": SimpleUploadedFile(name, data), "city": "442000", "issued": "2014-06-12"},
    )


def _review_fields(page: str) -> dict:
    """The review form as a browser would post it (checked radios, inputs, selected options)."""
    form = page[page.index('id="review-form"') :]
    fields = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields[name] = value
    text = re.search(r"<textarea name=\"text\" hidden>\n(.*?)</textarea>", form, re.S).group(1)
    fields["text"] = text.replace("\n", "\r\n")  # as browsers send a textarea
    for name, value in re.findall(r'name="(c\d+-decision)" value="(\w+)" checked', form):
        fields[name] = value
    for name, value in re.findall(r'<input name="(c\d+-\w+)" value="([^"]*)"', form):
        fields[name] = value
    for name, value in re.findall(r'type="date" name="(c\d+-deadline)" value="([^"]*)"', form):
        fields[name] = value
    for name, body in re.findall(r'<select name="(c\d+-\w+)">(.*?)</select>', form):
        fields[name] = re.search(r'value="([^"]+)" selected', body).group(1)
    return {name: html.unescape(value) for name, value in fields.items()}


def test_upload_review_save_and_load(editor, cast, media, client):
    response = _upload(editor)
    assert response.status_code == 200
    page = response.content.decode()
    assert "核对候选指标" in page and 'id="extract-candidates"' in page
    assert "<script>" not in page and "style=" not in page  # strict CSP: no inline code
    fields = _review_fields(page)
    assert fields["c0-decision"] == "accept" and fields["c1-decision"] == "accept"
    fields["c1-decision"] = "reject"
    fields["c0-target"] = "16"  # the reviewer's edit
    response = editor.post("/catalog/extract/save/", fields)
    assert response.status_code == 302, (
        re.findall(r'class="msg-error"[^>]*>([^<]*)', response.content.decode()),
        {k: v for k, v in fields.items() if k != "text"},
    )
    (saved,) = (media / "plan-drafts").glob("*.yaml")
    document = yaml.safe_load(saved.read_text(encoding="utf-8"))
    (indicator,) = [i for g in document["goals"] for i in g["indicators"]]
    assert indicator["target"] == 16
    assert indicator["quote"] == "“十二五”期末,全市注册志愿者占常住人口的15%以上"
    start, end = indicator["source_span"]
    assert TEXT[start:end] == indicator["quote"]
    assert document["draft"] is True

    # A staff editor may not load; the superuser may, and the admin log says who did.
    page = editor.get("/catalog/extract/").content.decode()
    assert saved.name in page and "load_plans" not in page
    assert editor.post(f"/catalog/extract/drafts/{saved.name}/load/").status_code == 403
    from targets.models import Plan
    from targets.services import plan_files_load
    from tests.targets.test_extraction_command import ELEMENTS

    plan_files_load(paths=[ELEMENTS])
    client.logout()
    client.login(username="admin", password=PASSWORD)
    response = client.post(f"/catalog/extract/drafts/{saved.name}/load/", follow=True)
    assert "已载入规划" in response.content.decode()
    plan = Plan.objects.get(code=document["plan"]["code"])
    entry = LogEntry.objects.get(object_id=str(plan.pk))
    assert entry.user == cast["admin"] and saved.name in entry.change_message


def test_saving_with_nothing_accepted_keeps_the_review(editor, media):
    fields = _review_fields(_upload(editor).content.decode())
    for key in [k for k in fields if k.endswith("-decision")]:
        fields[key] = "reject"
    response = editor.post("/catalog/extract/save/", fields)
    assert response.status_code == 400
    assert "没有接受任何候选指标" in response.content.decode()
    assert not (media / "plan-drafts").exists()


def test_bad_files_get_a_clear_message(editor):
    page = _upload(editor, image_only_pdf(), "scan.pdf").content.decode()
    assert "没有文字层" in page
    page = _upload(editor, "各单位:请准时参加会议。".encode(), "notice.txt").content.decode()
    assert "未找到可量化的目标" in page


def test_only_catalog_editors_see_the_page(client, cast, media):
    assert client.get("/catalog/extract/").status_code == 302  # to the login page
    client.login(username="alice", password=PASSWORD)
    assert client.get("/catalog/extract/").status_code == 403
    from django.contrib.auth.models import Permission

    cast["alice"].user_permissions.add(Permission.objects.get(codename="add_plan"))
    assert client.get("/catalog/extract/").status_code == 200


def test_a_draft_name_cannot_leave_the_drafts_folder(editor, media):
    assert editor.get("/catalog/extract/drafts/..%2Fsecret.yaml").status_code == 404
    assert editor.get("/catalog/extract/drafts/missing.yaml").status_code == 404
