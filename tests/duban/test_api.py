"""/api/v1/tasks/ and /api/v1/instructions/: scoped lists, assigning, transitions with the
API's error shape (409 illegal, 403 not yours, 400 missing reason or evidence), progress reports
with multipart evidence, instructions and replies."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from duban import rules, services
from duban.models import Evidence, Task
from tests.duban.conftest import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cast):
    def make(name):
        client = APIClient()
        client.force_authenticate(cast[name])
        return client

    return make


def pdf_upload(name="目录.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(), "application/pdf")


@pytest.mark.parametrize(
    ("user", "expected"),
    [("admin", {"dc", "zs"}), ("alice", {"dc"}), ("bob", {"dc"}), ("carol", {"dc"}),
     ("dave", set()), ("erin", {"zs"}), ("zoe", set())],
)  # fmt: skip
def test_task_lists_are_scoped(api, dongcheng_task, zhongshan_task, user, expected):
    ids = {dongcheng_task.pk: "dc", zhongshan_task.pk: "zs"}
    response = api(user).get("/api/v1/tasks/")
    assert response.status_code == 200
    assert {ids[row["id"]] for row in response.json()["results"]} == expected
    detail = api(user).get(f"/api/v1/tasks/{dongcheng_task.pk}/")
    assert detail.status_code == (200 if "dc" in expected else 404)


def test_the_task_detail_carries_lamp_steps_and_allowed_moves(api, dongcheng_task):
    body = api("alice").get(f"/api/v1/tasks/{dongcheng_task.pk}/").json()
    assert body["state"] == "assigned" and body["lamp"] in rules.LAMPS
    assert body["lead_unit"] == "441900003" and body["assignees"] == ["441900003"]
    assert body["indicator"] == "dg.gov.purchase_catalogue"
    assert body["allowed_transitions"] == ["acknowledged"]
    assert body["steps"][0]["due"] == "2026-10-31"
    assert body["transitions"][0]["target"] == "assigned"


def test_tasks_as_csv(api, dongcheng_task):
    response = api("bob").get("/api/v1/tasks/?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id,url,plan,indicator")
    assert "出台政府购买服务目录" in text


def test_assigning_through_the_api(api, plans):
    payload = {
        "plan": "dg-test", "indicator": "dg.gov.purchase_catalogue", "title_zh": "出台目录",
        "lead_unit": "441900101", "assignees": ["441900101"], "deadline": "2026-12-31",
        "steps": [{"title_zh": "起草", "due": "2026-09-30"}],
    }  # fmt: skip
    created = api("carol").post("/api/v1/tasks/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["clause"] == "8" and len(created.json()["steps"]) == 1
    refused = api("alice").post("/api/v1/tasks/", payload, format="json")
    assert refused.status_code == 403
    assert set(refused.json()) == {"detail", "code", "request_id"}
    bad = api("carol").post("/api/v1/tasks/", {**payload, "assignees": []}, format="json")
    assert bad.status_code == 400 and "assignees" in bad.json()["errors"]


def test_the_loop_through_the_api(api, dongcheng_task):
    url = f"/api/v1/tasks/{dongcheng_task.pk}/transitions/"
    assert api("alice").post(url, {"to": "acknowledged"}, format="json").status_code == 200
    report = api("alice").post(
        f"/api/v1/tasks/{dongcheng_task.pk}/progress-reports/",
        {"text": "已起草", "percent": 50, "evidence": [pdf_upload("初稿.pdf")]},
        format="multipart",
    )
    assert report.status_code == 201, report.json()
    assert report.json()["evidence"][0]["original_name"] == "初稿.pdf"
    assert report.json()["evidence"][0]["preview_url"].endswith("/preview.png")
    no_evidence = api("alice").post(url, {"to": "reported"}, format="json")
    assert no_evidence.status_code == 400
    assert no_evidence.json()["code"] == "invalid" and "evidence" in no_evidence.json()["errors"]
    done = api("alice").post(
        url, {"to": "reported", "note": "已印发", "evidence": [pdf_upload()]}, format="multipart"
    )
    assert done.status_code == 200 and done.json()["state"] == "reported"
    no_reason = api("bob").post(url, {"to": "in_progress"}, format="json")
    assert no_reason.status_code == 400 and "note" in no_reason.json()["errors"]
    returned = api("bob").post(url, {"to": "in_progress", "note": "缺盖章"}, format="json")
    assert returned.json()["state"] == "in_progress"
    api("alice").post(url, {"to": "reported", "evidence": [pdf_upload()]}, format="multipart")
    closed = api("bob").post(url, {"to": "closed"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert [t["target"] for t in closed.json()["transitions"]] == [
        "assigned", "acknowledged", "in_progress", "reported", "in_progress", "reported", "closed",
    ]  # fmt: skip


def test_an_illegal_transition_is_a_409_in_the_error_shape(api, dongcheng_task):
    response = api("bob").post(
        f"/api/v1/tasks/{dongcheng_task.pk}/transitions/", {"to": "closed"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition" and "不能转为“办结”" in body["detail"]
    assert set(body) == {"detail", "code", "request_id"}


def test_a_transition_by_the_wrong_role_is_a_403_and_outside_scope_a_404(api, dongcheng_task):
    url = f"/api/v1/tasks/{dongcheng_task.pk}/transitions/"
    forbidden = api("carol").post(url, {"to": "acknowledged"}, format="json")
    assert forbidden.status_code == 403 and "签收" in forbidden.json()["detail"]
    assert api("dave").post(url, {"to": "acknowledged"}, format="json").status_code == 404
    assert api("alice").post(url, {"to": "nonsense"}, format="json").status_code == 400


def test_a_bad_attachment_through_the_api_stores_nothing(api, dongcheng_task, cast):
    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.ACKNOWLEDGED)
    exe = SimpleUploadedFile("report.pdf", b"\x7fELF" + b"\x00" * 300, "application/pdf")
    response = api("alice").post(
        f"/api/v1/tasks/{dongcheng_task.pk}/progress-reports/",
        {"text": "进展", "evidence": [pdf_upload(), exe]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "不是可接受的文件类型" in response.json()["errors"]["evidence"][0]
    assert not Evidence.objects.exists()
    assert Task.objects.get(pk=dongcheng_task.pk).state == rules.ACKNOWLEDGED


def test_instructions_and_replies_through_the_api(api, dongcheng_task):
    created = api("carol").post(
        "/api/v1/instructions/",
        {"text": "请月底前印发", "addressee": "441900003", "task": dongcheng_task.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert api("alice").get("/api/v1/instructions/").json()["count"] == 1
    assert api("erin").get("/api/v1/instructions/").json()["count"] == 0
    assert (
        api("erin")
        .post("/api/v1/instructions/", {"text": "x", "addressee": "441900003", "unit": "441900003"}, format="json")
        .status_code
        == 403
    )  # fmt: skip
    reply = api("alice").post(
        f"/api/v1/instructions/{pk}/replies/",
        {"text": "已印发", "done": True, "evidence": [pdf_upload()]},
        format="multipart",
    )
    assert reply.status_code == 201 and len(reply.json()["evidence"]) == 1
    assert api("dave").post(f"/api/v1/instructions/{pk}/replies/", {"text": "x"}).status_code == 404
    assert api("carol").get(f"/api/v1/instructions/{pk}/").json()["done"] is True


def test_the_schema_documents_the_new_endpoints(api):
    schema = api("admin").get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/transitions/",
        "/api/v1/tasks/{id}/progress-reports/",
        "/api/v1/instructions/",
        "/api/v1/instructions/{id}/replies/",
    ):
        assert path in schema["paths"]


def test_a_malformed_id_is_the_api_s_json_404(api, dongcheng_task):
    for url in ("/api/v1/tasks/1.5/transitions/", "/api/v1/instructions/x/replies/"):
        response = api("alice").post(url, {"to": "acknowledged", "text": "x"}, format="json")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_instructions_done_filter_refuses_anything_but_true_or_false(client, cast):
    client.force_login(cast["carol"])
    assert client.get("/api/v1/instructions/", {"done": "0.5"}).status_code == 400
    assert client.get("/api/v1/instructions/", {"done": "true"}).status_code == 200


def test_the_schema_documents_done_as_the_text_true_or_false(client, cast):
    client.force_login(cast["admin"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    (done,) = [
        p for p in schema["paths"]["/api/v1/instructions/"]["get"]["parameters"]
        if p["name"] == "done"
    ]  # fmt: skip
    assert done["schema"] == {"type": "string", "enum": ["false", "true"]}
