"""Issue 14's API defects: the upload's Location header under a strict WSGI server (5), a throttle
shared by every web process (10), size limits answered 413 in the API's error shape (11), and a
PATCH that must say which version it read (12, 428)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import wsgiref.validate
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart

from districts.models import DataValue, UploadJob

ROOT = Path(__file__).resolve().parents[2]
GOOD = b"org_unit,period,element,value\n441900003001,2016,population.resident,12000\n"


def error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "code", "request_id"} <= body.keys()
    assert body["code"] == code and body["request_id"] == response["X-Request-ID"]
    return body


# --- 5: the Location header of an upload ------------------------------------------------------


def test_the_upload_location_header_is_a_plain_string(client_for, catalog):
    response = client_for("alice").post(
        "/api/v1/uploads/", {"file": SimpleUploadedFile("v.csv", GOOD)}, format="multipart"
    )
    assert response.status_code == 202
    # A str subclass (DRF's Hyperlink) is what wsgiref, and so runserver, refuse.
    assert type(response["Location"]) is str
    assert response["Location"].endswith(f"/api/v1/uploads/{response.json()['id']}/")


@pytest.fixture
def wsgi_app():
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    # As Django's test client does: a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_an_api_upload_passes_wsgi_validation_as_under_runserver(wsgi_app, tokens, catalog):
    """runserver is wsgiref: its validator is what turned every API upload into a 500."""
    body = encode_multipart("BoUnDaRy", {"file": SimpleUploadedFile("v.csv", GOOD)})
    environ = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/api/v1/uploads/",
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "multipart/form-data; boundary=BoUnDaRy",
        "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Token {tokens['alice']}",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }  # fmt: skip
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    result = wsgiref.validate.validator(wsgi_app)(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        result.close()
    assert seen["status"].startswith("202"), payload
    assert seen["headers"]["Location"].endswith(f"/api/v1/uploads/{json.loads(payload)['id']}/")
    assert UploadJob.objects.count() == 1


# --- 11: size limits --------------------------------------------------------------------------


def test_a_12_mb_json_body_is_a_413_in_the_error_shape(client_for, catalog):
    big = {"element": "population.resident", "org_unit": "441900003001", "period": "2016",
           "value": 1, "comment": "x" * (12 * 1024 * 1024)}  # fmt: skip
    response = client_for("alice").post("/api/v1/data-values/", big, format="json")
    body = error_shape(response, 413, "payload_too_large")
    assert "2621440" in body["detail"] and "limit" in body["detail"]
    assert not DataValue.objects.exists()


def test_the_json_body_limit_is_configurable(client_for, catalog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    body = {"element": "population.resident", "org_unit": "441900003001", "period": "2016",
            "value": 1, "comment": "y" * 300}  # fmt: skip
    response = client_for("alice").post("/api/v1/data-values/", body, format="json")
    error_shape(response, 413, "payload_too_large")
    body["comment"] = ""
    assert client_for("alice").post("/api/v1/data-values/", body, format="json").status_code == 201


def test_an_upload_over_the_limit_is_refused_by_the_api(client_for, catalog, settings):
    settings.UPLOAD_MAX_BYTES = 100
    client = client_for("alice")
    # Over the limit by Content-Length: refused before the body is read.
    huge = client.post(
        "/api/v1/uploads/",
        {"file": SimpleUploadedFile("v.csv", GOOD * 2000)},
        format="multipart",
    )
    assert "UPLOAD" not in error_shape(huge, 413, "payload_too_large")["detail"]
    # A file just over the limit (its body within the form's slack): refused by its size.
    small = client.post(
        "/api/v1/uploads/", {"file": SimpleUploadedFile("v.csv", GOOD * 3)}, format="multipart"
    )
    detail = error_shape(small, 413, "payload_too_large")["detail"]
    assert f"{len(GOOD) * 3} 字节" in detail and "limit is 100 bytes" in detail
    assert not UploadJob.objects.exists()
    settings.UPLOAD_MAX_BYTES = 10_000
    ok = client.post(
        "/api/v1/uploads/", {"file": SimpleUploadedFile("v.csv", GOOD)}, format="multipart"
    )
    assert ok.status_code == 202


def test_the_upload_limit_is_read_from_the_environment():
    code = "from django.conf import settings; print(settings.UPLOAD_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)"
    env = {**os.environ, "UPLOAD_MAX_BYTES": "1234", "API_MAX_BODY_BYTES": "5678"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split() == ["1234", "5678"]
    del env["UPLOAD_MAX_BYTES"], env["API_MAX_BODY_BYTES"]
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split() == [str(50 * 1024 * 1024), str(2_621_440)]


@pytest.mark.parametrize("wants_json", [True, False])
def test_the_upload_page_refuses_a_file_over_the_limit(client, cast, catalog, settings, wants_json):
    settings.UPLOAD_MAX_BYTES = 100
    client.force_login(cast["alice"])
    headers = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"} if wants_json else {}
    for content in (GOOD * 3, GOOD * 2000):  # by the file's size, by Content-Length
        response = client.post(
            "/data/uploads/", {"file": SimpleUploadedFile("v.csv", content)}, **headers
        )
        assert response.status_code == 413
        text = response.json()["detail"] if wants_json else response.content.decode()
        assert "limit is 100 bytes" in text
    assert not UploadJob.objects.exists()


# --- 12: a PATCH says which version it read ---------------------------------------------------


def test_a_patch_without_version_or_if_match_is_a_428(client_for, values):
    value = values["441900003002"]
    client = client_for("alice")
    url = f"/api/v1/data-values/{value.pk}/"
    for headers in ({}, {"HTTP_IF_MATCH": "*"}):
        response = client.patch(url, {"value": 5}, format="json", **headers)
        body = error_shape(response, 428, "precondition_required")
        assert "If-Match" in body["detail"]
    assert DataValue.objects.get(pk=value.pk).value == value.value
    by_body = client.patch(url, {"value": 5, "version": value.version}, format="json")
    assert by_body.status_code == 200
    by_header = client.patch(url, {"value": 6}, format="json", HTTP_IF_MATCH=by_body["ETag"])
    assert by_header.status_code == 200 and by_header.json()["value"] == 6


def test_the_schema_documents_428_and_413(client_for):
    schema = client_for("alice").get("/api/schema/?format=json").json()
    patch = schema["paths"]["/api/v1/data-values/{id}/"]["patch"]
    assert {"428", "413"} <= patch["responses"].keys()
    assert "413" in schema["paths"]["/api/v1/uploads/"]["post"]["responses"]


# --- 10: one throttle count for every web process ---------------------------------------------

_OTHER_PROCESS = """
import django, sys
django.setup()
from types import SimpleNamespace
from rest_framework.authentication import TokenAuthentication
from core.api import TokenRateThrottle
throttle = TokenRateThrottle()
request = SimpleNamespace(successful_authenticator=TokenAuthentication(),
                          auth=SimpleNamespace(key=sys.argv[1]))
print(" ".join(str(throttle.allow_request(request, None)) for _ in range(int(sys.argv[2]))))
"""


def test_the_throttle_counts_across_processes(settings):
    """Two web processes, one count: a token allowed 5 a minute gets 5 in all, not 5 each."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)  # REDIS_URL is set by scripts/test.sh
    env = {**os.environ, "API_THROTTLE_RATE": "5/minute"}
    key = os.urandom(20).hex()

    def other_process(n: int) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, key, str(n)],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout.split()

    assert other_process(3) == ["True"] * 3
    assert other_process(3) == ["True", "True", "False"]


def test_the_cache_is_redis_in_its_own_database_when_redis_is_configured():
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION', '-'))"
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6399/2"}
    env.pop("CACHE_URL", None)
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    out = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6399/3",
    ]
    env["REDIS_URL"] = ""
    out = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "django.core.cache.backends.locmem.LocMemCache"
