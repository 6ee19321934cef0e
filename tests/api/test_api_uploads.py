"""POST /api/v1/uploads/ → 202 and a URL to poll; the job's state, counts and row errors, and
the errors as CSV. (The job runs in-process here; tests/districts covers the live worker.)"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from districts.models import DataValue, UploadJob

GOOD = (
    "单位代码,期间,数据项,数值,备注\r\n"
    '441900003001,2016,population.resident,"12,000",\r\n'
    "441900003002,2016,population.resident,８００,社区上报\r\n"
).encode("gb18030")
BAD = (
    b"org_unit,period,element,value,comment\n"
    b"441900003001,2016,population.resident,12.5,\n"
    b"441900101001,2016,population.resident,5,=cmd|' /C calc'!A0\n"
)


def upload(client, content: bytes, **extra):
    return client.post(
        "/api/v1/uploads/",
        {"file": SimpleUploadedFile("values.csv", content), **extra},
        format="multipart",
    )


def test_an_upload_is_accepted_with_a_url_to_poll(
    client_for, catalog, django_capture_on_commit_callbacks
):
    client = client_for("alice")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD)
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/v1/uploads/{body['id']}/")
    assert (body["state"], body["source"], body["created_by"]) == ("queued", "api", "alice")
    polled = client.get(body["url"]).json()
    assert polled["state"] == "succeeded" and polled["percent"] == 100
    assert (polled["total_rows"], polled["created_count"], polled["error_count"]) == (2, 2, 0)
    assert polled["errors"] == [] and polled["errors_csv_url"] is None
    assert sorted(DataValue.objects.values_list("value", flat=True)) == [800, 12000]


def test_an_invalid_file_lists_every_bad_row_and_links_the_errors_csv(
    client_for, catalog, django_capture_on_commit_callbacks
):
    client = client_for("alice")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(client, BAD).json()["id"]
    body = client.get(f"/api/v1/uploads/{job_id}/").json()
    assert body["state"] == "failed" and body["error_count"] == 2
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(2, "value"), (3, "org_unit")]
    assert body["errors_truncated"] is False
    assert not DataValue.objects.exists()  # all or nothing
    csv_response = client.get(body["errors_csv_url"])
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    assert "441900101001" in text and "12.5" in text


def test_only_reviewers_and_admins_may_approve_an_upload(client_for, catalog):
    refused = upload(client_for("alice"), GOOD, approve="true")
    assert refused.status_code == 403
    assert upload(client_for("bob"), GOOD, approve="true").status_code == 202
    assert UploadJob.objects.get().approve is True


def test_a_field_given_twice_is_refused_not_read_as_its_last_value(client_for, catalog):
    response = upload(client_for("bob"), GOOD, approve=["false", "true"])
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"approve"}
    assert not UploadJob.objects.exists()


def test_an_upload_needs_a_file(client_for, catalog):
    response = client_for("alice").post("/api/v1/uploads/", {}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"file"}


def test_the_errors_csv_of_someone_elses_upload_is_a_404(client_for, catalog):
    job_id = upload(client_for("alice"), BAD).json()["id"]
    response = client_for("dave").get(f"/api/v1/uploads/{job_id}/errors/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
