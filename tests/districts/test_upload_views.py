"""The upload pages (/data/uploads/): posting a file creates a job, the status JSON reports
progress, counts and errors, the errors CSV downloads, templates come pre-filled, and an upload
can be rolled back by its creator, a reviewer of its units or an administrator."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from core.periods import Period
from districts import scopes, services
from districts.models import DataValue, DataValueChange, OrgUnit, UploadJob
from districts.services import role_grant
from targets.models import DataElement
from tests import factories

UPLOADS = reverse("districts:uploads")
TEMPLATE = reverse("districts:upload_template")
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ACCEPT": "application/json"}

GOOD = (
    "单位代码,期间,数据项,数值,备注\r\n"
    '441900003001,2015,population.resident,"12,000",\r\n'
    "441900003001,2015,volunteers.registered,１５００,社区上报\r\n"
    "441900003002,2015,population.resident,8000,\r\n"
)
BAD = (
    "单位代码,期间,数据项,数值,备注\r\n"
    "441900003001,2015,population.resident,abc,\r\n"
    "441900101001,2015,population.resident,100,\r\n"  # dave's town: outside alice's scope
)


@pytest.fixture
def elements(db):
    pop = factories.element("population.resident", level="community")
    factories.element("volunteers.registered", level="community", not_above=pop)
    DataElement.objects.create(
        code="town.budget", name_zh="=镇街经费", unit="yuan", value_type="number",
        period_type="year", aggregation="sum", temporal="sum", level="town",
    )  # fmt: skip
    DataElement.objects.create(
        code="cases.monthly", name_zh="月度受理件数", unit="件", value_type="integer",
        period_type="month", aggregation="sum", temporal="sum", level="community",
    )  # fmt: skip


def login(client, cast, name):
    client.force_login(cast[name])
    return client


def upload(client, text: str, name="values.csv", django_capture_on_commit_callbacks=None, **data):
    """Post a file as the page's script does; the in-process job runs when the request's
    transaction commits."""
    payload = {"file": SimpleUploadedFile(name, text.encode("utf-8-sig")), **data}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOADS, payload, **XHR)
    return response


@pytest.fixture
def post_file(client, django_capture_on_commit_callbacks):
    def run(text: str, **data):
        return upload(
            client,
            text,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
            **data,
        )

    return run


def status(client, job_id: int) -> dict:
    response = client.get(reverse("districts:upload_status", args=[job_id]))
    assert response.status_code == 200
    return response.json()


# --- upload → job → status --------------------------------------------------------------------


def test_upload_page_creates_a_job_and_the_status_json_reports_the_result(
    client, cast, elements, post_file
):
    login(client, cast, "alice")
    assert client.get(UPLOADS).status_code == 200
    response = post_file(GOOD)
    assert response.status_code == 202
    job_id = response.json()["id"]
    job = UploadJob.objects.get(pk=job_id)
    assert job.created_by == cast["alice"] and job.source == "upload" and not job.approve
    body = status(client, job_id)
    assert body["state"] == "succeeded" and body["final"] and body["percent"] == 100
    assert (body["total_rows"], body["created"], body["updated"], body["error_count"]) == (
        3,
        3,
        0,
        0,
    )
    assert body["detail_url"] == reverse("districts:upload", args=[job_id])
    assert (
        DataValue.objects.get(
            org_unit__code="441900003001", element__code="population.resident"
        ).state
        == "submitted"
    )


def test_a_plain_form_post_goes_to_the_upload_page(
    client, cast, elements, django_capture_on_commit_callbacks
):
    login(client, cast, "alice")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOADS, {"file": SimpleUploadedFile("v.csv", GOOD.encode())})
    job = UploadJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "districts:upload", args=[job.pk]
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["status"]["created"] == 3
    assert len(page.context["page"].object_list) == 3  # the upload's history


def test_a_bad_file_lists_every_error_and_the_errors_csv_downloads(
    client, cast, elements, post_file
):
    login(client, cast, "alice")
    job_id = post_file(BAD).json()["id"]
    body = status(client, job_id)
    assert body["state"] == "failed" and body["error_count"] == 2
    lines = {(e["line"], e["field"]) for e in body["errors"]}
    assert lines == {(2, "value"), (3, "org_unit")}
    assert body["errors_csv_url"] == reverse("districts:upload_errors", args=[job_id])
    csv = client.get(body["errors_csv_url"])
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff") and "441900101001" in text
    assert not DataValue.objects.exists()
    page = client.get(body["detail_url"]).content.decode()
    assert "errors-table" in page and "441900101001" in page


def test_official_cannot_upload_for_another_town(client, cast, elements, post_file):
    login(client, cast, "alice")
    job_id = post_file(
        "org_unit,period,element,value\r\n441900101001,2015,population.resident,100\r\n"
    ).json()["id"]
    body = status(client, job_id)
    assert body["state"] == "failed"
    assert "scope" in body["errors"][0]["reason"]
    assert not DataValue.objects.exists()


def test_only_reviewers_and_admins_may_approve_an_upload(client, cast, elements, post_file):
    login(client, cast, "alice")
    response = post_file(GOOD, approve="on")
    assert response.status_code == 403 and not UploadJob.objects.exists()
    client.force_login(cast["bob"])
    assert client.get(UPLOADS).context["can_approve"] is True
    job_id = post_file(GOOD, approve="on").json()["id"]
    assert status(client, job_id)["state"] == "succeeded"
    assert set(DataValue.objects.values_list("state", flat=True)) == {"approved"}


def test_a_post_without_a_file_is_refused(client, cast, elements):
    response = login(client, cast, "alice").post(UPLOADS, {}, **XHR)
    assert response.status_code == 400 and "file" in response.json()["errors"]


@pytest.mark.parametrize("name", ["carol", "erin", "zoe"])
def test_users_without_a_write_or_review_role_cannot_upload(client, cast, elements, name):
    client = login(client, cast, name)
    assert client.get(UPLOADS).status_code == 403
    payload = {"file": SimpleUploadedFile("v.csv", GOOD.encode())}
    assert client.post(UPLOADS, payload).status_code == 403
    assert not UploadJob.objects.exists()


def test_uploads_are_private_to_their_creator(client, cast, elements, post_file):
    login(client, cast, "alice")
    job_id = post_file(GOOD).json()["id"]
    client.force_login(cast["dave"])
    assert [j.pk for j in client.get(UPLOADS).context["page"].object_list] == []
    for name in ("upload", "upload_status", "upload_errors"):
        assert client.get(reverse(f"districts:{name}", args=[job_id])).status_code == 404
    # A reviewer of every unit it wrote sees it; a reviewer elsewhere does not.
    client.force_login(cast["bob"])
    assert client.get(reverse("districts:upload", args=[job_id])).status_code == 200
    role_grant(username="ruth", role="reviewer", org_unit_code="442000", create=True)
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="ruth"))
    assert client.get(reverse("districts:upload", args=[job_id])).status_code == 404


@pytest.mark.parametrize(
    ("name", "sees"),
    [("alice", True), ("admin", True), ("bob", True), ("dave", False), ("carol", False)],
)
def test_who_may_see_an_upload_is_one_rule_for_one_upload_and_for_a_list(
    client, cast, elements, post_file, name, sees
):
    login(client, cast, "alice")
    job = UploadJob.objects.get(pk=post_file(GOOD).json()["id"])
    assert job.state == UploadJob.SUCCEEDED
    user = cast[name]
    assert scopes.upload_visible_to(user, job) is sees
    assert scopes.visible_uploads(user).filter(pk=job.pk).exists() is sees


# --- templates -----------------------------------------------------------------------------


def test_csv_template_has_a_bom_chinese_headers_and_the_rows_to_report(client, cast, elements):
    response = login(client, cast, "alice").get(
        TEMPLATE, {"unit": "441900003", "period": "2015", "fmt": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="values-template-441900003-2015.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "单位代码,期间,数据项,数值,备注,"
        "单位名称（仅供参考）,数据项名称（仅供参考）,计量单位（仅供参考）,上期数值（仅供参考）"
    )
    assert [",".join(line.split(",")[:5]) for line in lines[1:]] == [
        "441900003,2015,town.budget,,",
        "441900003001,2015,population.resident,,",
        "441900003001,2015,volunteers.registered,,",
        "441900003002,2015,population.resident,,",
        "441900003002,2015,volunteers.registered,,",
    ]


def test_a_filled_in_template_uploads_cleanly(client, cast, elements, post_file):
    login(client, cast, "alice")
    text = client.get(TEMPLATE, {"unit": "441900003001", "period": "2015", "fmt": "csv"})
    filled = (
        text.content.decode("utf-8-sig")
        .replace("population.resident,,", "population.resident,12000,")
        .replace("volunteers.registered,,", "volunteers.registered,1500,")
    )
    body = status(client, post_file(filled).json()["id"])
    assert body["state"] == "succeeded" and body["created"] == 2


def test_template_has_names_and_last_value_as_hints_and_a_filled_xlsx_uploads_cleanly(
    client, cast, elements, django_capture_on_commit_callbacks
):
    pop = DataElement.objects.get(code="population.resident")
    services.value_save(actor=cast["alice"], element=pop, org_unit=OrgUnit.objects.get(code="441900003001"),
                        period=Period.parse("2014"), value=Decimal(11800))  # fmt: skip
    login(client, cast, "alice")
    response = client.get(TEMPLATE, {"unit": "441900003001", "period": "2015", "fmt": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][5:] == (
        "单位名称（仅供参考）", "数据项名称（仅供参考）", "计量单位（仅供参考）", "上期数值（仅供参考）",
    )  # fmt: skip
    by_element = {r[2]: r for r in rows[1:]}
    assert by_element["population.resident"][5:] == ("东城社区A", "常住人口", "人", 11800)
    # Filled in as an official would, hint columns left as they are: it uploads cleanly.
    for row in sheet.iter_rows(min_row=2):
        row[3].value = 12000 if row[2].value == "population.resident" else 1500
    out = io.BytesIO()
    book.save(out)
    payload = {"file": SimpleUploadedFile("filled.xlsx", out.getvalue())}
    with django_capture_on_commit_callbacks(execute=True):
        job = client.post(UPLOADS, payload, **XHR).json()
    body = status(client, job["id"])
    assert body["state"] == "succeeded" and body["created"] == 2 and body["error_count"] == 0


def test_template_prefills_entered_values_and_leaves_out_approved_values(client, cast, elements):
    pop = DataElement.objects.get(code="population.resident")
    a = services.value_save(actor=cast["alice"], element=pop, org_unit=OrgUnit.objects.get(code="441900003001"),
                            period=Period.parse("2015"), value=Decimal(12000), submit=True)  # fmt: skip
    services.value_save(actor=cast["alice"], element=pop, org_unit=OrgUnit.objects.get(code="441900003002"),
                        period=Period.parse("2015"), value=Decimal(8000))  # fmt: skip
    services.values_approve(actor=cast["bob"], values=[a])
    lines = (
        login(client, cast, "alice")
        .get(TEMPLATE, {"unit": "441900003", "period": "2015", "fmt": "csv"})
        .content.decode("utf-8-sig")
        .splitlines()
    )
    lines = [",".join(line.split(",")[:5]) for line in lines]
    assert "441900003002,2015,population.resident,8000," in lines
    # The approved value is left out; the unit's other element is still to report.
    assert not any(line.startswith("441900003001,2015,population.resident") for line in lines)
    assert "441900003001,2015,volunteers.registered,," in lines


def test_xlsx_template_keeps_codes_as_text_and_names_the_elements(client, cast, elements):
    response = login(client, cast, "alice").get(
        TEMPLATE, {"unit": "441900003", "period": "2015", "fmt": "xlsx"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    data, notes = book.worksheets
    rows = list(data.iter_rows(values_only=True))
    assert rows[0][:5] == ("单位代码", "期间", "数据项", "数值", "备注")
    assert rows[1][:3] == ("441900003", "2015", "town.budget")
    assert data["A2"].number_format == "@" and len(rows) == 6
    text = [c for row in notes.iter_rows(values_only=True) for c in row if c]
    assert "注册志愿者人数" in text
    assert "'=镇街经费" in text  # a name that looks like a formula is shown, not run


def test_monthly_template_lists_the_monthly_elements(client, cast, elements):
    lines = (
        login(client, cast, "alice")
        .get(TEMPLATE, {"unit": "441900003001", "period": "2015-07", "fmt": "csv"})
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert lines[1:] == ["441900003001,2015-07,cases.monthly,,,东城社区A,月度受理件数,件,"]


def test_template_for_another_town_is_not_found(client, cast, elements):
    response = login(client, cast, "alice").get(
        TEMPLATE, {"unit": "441900101", "period": "2015", "fmt": "csv"}
    )
    assert response.status_code == 404


def test_template_with_a_bad_period_is_refused(client, cast, elements):
    response = login(client, cast, "alice").get(
        TEMPLATE, {"unit": "441900003", "period": "2015Q9", "fmt": "csv"}
    )
    assert response.status_code == 400


# --- rollback ------------------------------------------------------------------------------


@pytest.fixture
def two_uploads(client, cast, elements, post_file):
    login(client, cast, "alice")
    first = post_file(GOOD).json()["id"]
    second = post_file(
        GOOD.replace("１５００", "1700") + "441900003002,2015,volunteers.registered,9,\r\n"
    ).json()["id"]
    return first, second


def test_the_creator_rolls_an_upload_back(client, cast, two_uploads):
    _first, second = two_uploads
    url = reverse("districts:upload", args=[second])
    assert client.get(url).context["can_rollback"] is True
    response = client.post(reverse("districts:upload_rollback", args=[second]), {"reason": "错传"})
    assert response.status_code == 302 and response["Location"] == url
    assert UploadJob.objects.get(pk=second).state == "rolled_back"
    vol = DataValue.objects.get(
        org_unit__code="441900003001", element__code="volunteers.registered"
    )
    assert vol.value == 1500
    assert not DataValue.objects.filter(
        org_unit__code="441900003002", element__code="volunteers.registered"
    ).exists()
    assert (
        DataValueChange.objects.filter(upload_id=second, action="rollback", comment="错传").count()
        == 2
    )
    page = client.get(url)
    assert page.context["can_rollback"] is False and "已撤销" in page.content.decode()


def test_a_reviewer_of_its_units_may_roll_back_but_another_official_may_not(
    client, cast, two_uploads
):
    _first, second = two_uploads
    client.force_login(cast["dave"])
    assert client.post(reverse("districts:upload_rollback", args=[second])).status_code == 404
    assert UploadJob.objects.get(pk=second).state == "succeeded"
    client.force_login(cast["bob"])
    assert client.post(reverse("districts:upload_rollback", args=[second])).status_code == 302
    assert UploadJob.objects.get(pk=second).state == "rolled_back"


def test_rollback_is_refused_when_a_value_changed_since(client, cast, two_uploads):
    _first, second = two_uploads
    value = DataValue.objects.get(
        org_unit__code="441900003002", element__code="volunteers.registered"
    )
    services.values_approve(actor=cast["bob"], values=[value])
    response = client.post(reverse("districts:upload_rollback", args=[second]), follow=True)
    assert "不能撤销" in response.content.decode()
    assert UploadJob.objects.get(pk=second).state == "succeeded"


def test_a_conflict_found_while_writing_fails_the_job_cleanly(
    client, cast, elements, post_file, monkeypatch
):
    from django.core.exceptions import ValidationError

    def approved_meanwhile(cursor):
        raise ValidationError("第 2 行的数值刚被审核锁定（approved meanwhile: lines 2）")

    monkeypatch.setattr("districts.intake.write_postgresql._refuse_locked", approved_meanwhile)
    login(client, cast, "alice")
    body = status(client, post_file(GOOD).json()["id"])
    assert body["state"] == "failed" and "approved meanwhile" in body["message"]
    assert not DataValue.objects.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_data_page_renders_in_both_languages(client, cast, elements, post_file, language):
    login(client, cast, "bob")
    job_id = post_file(GOOD, approve="on").json()["id"]
    value = DataValue.objects.first()
    client.cookies["django_language"] = language
    pages = [
        reverse("districts:index"),
        reverse("districts:uploads"),
        reverse("districts:upload", args=[job_id]),
        reverse("districts:review") + "?state=approved",
        reverse("districts:value_history", args=[value.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.content.decode()
    client.force_login(cast["alice"])
    client.cookies["django_language"] = language
    response = client.get(reverse("districts:entry"), {"unit": "441900003001", "period": "2015"})
    assert response.status_code == 200


def test_a_file_above_the_size_limit_is_refused_by_the_page_before_it_is_stored(
    client, cast, elements, settings
):
    settings.UPLOAD_MAX_BYTES = len(GOOD.encode("utf-8-sig")) - 1
    login(client, cast, "alice")
    payload = {"file": SimpleUploadedFile("v.csv", GOOD.encode("utf-8-sig"))}
    response = client.post(UPLOADS, payload, **XHR)
    assert response.status_code == 413
    assert "文件过大" in response.json()["detail"]
    assert not UploadJob.objects.exists()
