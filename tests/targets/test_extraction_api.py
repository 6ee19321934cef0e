"""POST /api/v1/extractions/: a document in (multipart file or JSON text), candidates out;
catalog editors only; bad input in the API's error shape."""

from __future__ import annotations

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.targets.test_extraction_reading import docx_bytes, image_only_pdf, text_pdf

URL = "/api/v1/extractions/"
SENTENCE = "到2015年,全市注册志愿者占常住人口的12%以上。"
TEXT = (
    "一、目标任务\n1.志愿服务。" + SENTENCE + "\n2.社区建设。2013年底前出台社区服务设施建设规划。\n"
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(cast):
    """``client_for("alice")``: an API client with alice's token; ``client_for(None)``: none."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(name: str | None):
        client = APIClient()
        if name is not None:
            token = Token.objects.get_or_create(user=cast[name])[0]
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def editor(cast, client_for):
    from django.contrib.auth.models import Permission

    cast["zoe"].user_permissions.add(Permission.objects.get(codename="add_plan"))
    return client_for("zoe")


def test_json_text_gives_candidates_with_spans(editor):
    response = editor.post(
        URL, {"text": TEXT, "city": "441900", "issued": "2012-05-28"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert response["X-Request-ID"]
    assert body["count"] == 2 and body["characters"] == len(TEXT)
    share, task = body["candidates"]
    assert TEXT[share["start"] : share["end"]] == share["quote"] == SENTENCE.rstrip("。")
    assert (share["kind"], share["comparator"], share["target"], share["unit"]) == (
        "ratio", ">=", 12, "%")  # fmt: skip
    assert share["deadline"] == "2015-12-31" and share["deadline_rule"] == "date.year"
    assert share["clause"] == {"path": "1/1", "number": "1", "title": "志愿服务"}
    assert share["elements"]["numerator"]["code"] == "volunteers.registered"
    assert share["rule"] == "ratio.percent" and 0 < share["confidence"] < 1
    assert (task["kind"], task["deadline"]) == ("milestone", "2013-12-31")
    draft = yaml.safe_load(body["draft_yaml"])
    assert draft["draft"] is True and draft["plan"]["city"] == "441900"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plan.txt", TEXT.encode("gb18030")),
        ("plan.docx", docx_bytes(*TEXT.splitlines())),
        ("plan.pdf", text_pdf(TEXT.strip())),
    ],
)
def test_multipart_files_of_each_type(editor, name, data):
    upload = SimpleUploadedFile(name, data)
    response = editor.post(
        URL, {"file": upload, "city": "441900", "issued": "2012-05-28"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == name
    assert {c["kind"] for c in body["candidates"]} == {"ratio", "milestone"}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"text": "各单位:请准时参加会议。"}, "text", "未找到可量化的目标"),
        ({"file": ("scan.pdf", image_only_pdf())}, "file", "没有文字层"),
        ({}, "file", "二者选一"),
        ({"text": TEXT, "city": "999999"}, "city", "单位不存在"),
    ],
)
def test_bad_input_is_a_400_in_the_house_shape(editor, payload, field, message):
    data = {"city": "441900", "issued": "2012-05-28", **payload}
    if "file" in data:
        data["file"] = SimpleUploadedFile(*data["file"])
    response = editor.post(URL, data, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["request_id"]
    assert message in " ".join(body["errors"][field])


def test_only_catalog_editors_may_extract(client_for, cast):
    data = {"text": TEXT, "city": "441900", "issued": "2012-05-28"}
    assert client_for(None).post(URL, data, format="json").status_code == 401
    response = client_for("alice").post(URL, data, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client_for("admin").post(URL, data, format="json").status_code == 200


def test_the_endpoint_is_in_the_schema(client_for, cast):
    schema = client_for("admin").get("/api/schema/?format=json").json()
    assert set(schema["paths"][URL]) == {"post"}
    assert client_for("admin").get(URL).status_code == 405
    operation = schema["paths"][URL]["post"]
    assert {"multipart/form-data", "application/json"} <= set(operation["requestBody"]["content"])
    assert "200" in operation["responses"] and "403" in operation["responses"]
