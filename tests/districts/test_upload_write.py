"""How an upload writes (districts.intake.write_postgresql): changed values get an 'update'
history row with what they were, unchanged ones are not touched, a value approved while the
file was being checked is never overwritten, and the elements and units an upload references
cannot be deleted under it (the values table has no per-row foreign-key checks; see DataValue)."""

from __future__ import annotations

from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.db.models import ProtectedError

from districts import services
from districts.intake import pipeline, write_postgresql
from districts.models import DataValue, DataValueChange, OrgUnit, UploadJob
from tests.districts.test_upload_views import GOOD, elements, login, post_file, status  # noqa: F401

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the set-based write is PostgreSQL's",
)

CHANGED = GOOD.replace('"12,000"', "13000")


def _population(unit: str = "441900003001") -> DataValue:
    return DataValue.objects.get(org_unit__code=unit, element__code="population.resident")


def test_a_second_file_updates_what_changed_and_records_the_old_value(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
):
    login(client, cast, "alice")
    first = status(client, post_file(GOOD).json()["id"])
    second = status(client, post_file(CHANGED).json()["id"])
    assert (first["created"], second["created"], second["updated"], second["unchanged"]) == (
        3,
        0,
        1,
        2,
    )
    value = _population()
    assert (value.value, value.version, value.upload_id) == (Decimal(13000), 2, second["id"])
    change = DataValueChange.objects.get(upload_id=second["id"])
    assert (change.action, change.old_value, change.new_value, change.old_state) == (
        "update",
        Decimal(12000),
        Decimal(13000),
        "submitted",
    )
    assert (change.element_code, change.org_unit_code, change.period) == (
        "population.resident",
        "441900003001",
        "2015",
    )


def test_a_value_approved_while_the_file_was_checked_is_not_overwritten(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
    monkeypatch,
):
    login(client, cast, "alice")
    status(client, post_file(GOOD).json()["id"])
    write = pipeline._write

    def reviewer_approves_first(job, *args):
        # The reviewer approves between the check (no lock then) and the write.
        services.values_approve(actor=cast["bob"], values=[_population()])
        return write(job, *args)

    monkeypatch.setattr("districts.intake.pipeline._write", reviewer_approves_first)
    body = status(client, post_file(CHANGED).json()["id"])
    assert body["state"] == "failed"
    assert "approved meanwhile: lines 2" in body["message"]
    value = _population()
    assert (value.value, value.state) == (Decimal(12000), "approved")
    assert not DataValueChange.objects.filter(upload_id=body["id"]).exists()


def test_an_element_or_unit_with_values_cannot_be_deleted(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
):
    login(client, cast, "alice")
    status(client, post_file(GOOD).json()["id"])
    value = _population()
    with pytest.raises(ProtectedError):
        value.element.delete()
    with pytest.raises(ProtectedError):
        OrgUnit.objects.get(code="441900003002").delete()
    assert DataValue.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_upload_locks_the_units_it_writes_against_deletion(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
    monkeypatch,
):
    """What a foreign key would do row by row, the upload does once: another session cannot
    delete a unit the upload is writing until the upload has committed."""
    unit = OrgUnit.objects.get(code="441900003002")
    refuse_locked = write_postgresql._refuse_locked
    seen: dict[str, str] = {}

    def delete_from_another_session(cursor):
        db = settings.DATABASES["default"]
        other = psycopg2.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"],
            host=db["HOST"],
            port=db["PORT"],
        )
        try:
            with other.cursor() as c:
                c.execute("SET lock_timeout = '300ms'")
                try:
                    c.execute("DELETE FROM districts_orgunit WHERE id = %s", [unit.pk])
                    seen["delete"] = "done"
                except psycopg2.errors.LockNotAvailable:
                    seen["delete"] = "blocked"
            other.rollback()
        finally:
            other.close()
        return refuse_locked(cursor)

    monkeypatch.setattr(
        "districts.intake.write_postgresql._refuse_locked", delete_from_another_session
    )
    login(client, cast, "alice")
    body = status(client, post_file(GOOD).json()["id"])
    assert seen == {"delete": "blocked"}
    assert body["state"] == "succeeded"
    assert UploadJob.objects.get(pk=body["id"]).created_count == 3
    assert OrgUnit.objects.filter(pk=unit.pk).exists()


def test_only_approved_values_are_locked_not_their_whole_unit_and_period(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
):
    """As in the entry form: a reviewer approved one value of 441900003001/2015; the official
    may still correct the unit's other value, and send the approved figure again unchanged."""
    login(client, cast, "alice")
    status(client, post_file(GOOD).json()["id"])
    services.values_approve(actor=cast["bob"], values=[_population()])
    corrected = GOOD.replace("１５００", "1600")
    body = status(client, post_file(corrected).json()["id"])
    assert body["state"] == "succeeded", body
    assert (body["updated"], body["unchanged"]) == (1, 2)
    volunteers = DataValue.objects.get(element__code="volunteers.registered")
    assert (volunteers.value, volunteers.state) == (Decimal(1600), "submitted")
    assert (_population().value, _population().state) == (Decimal(12000), "approved")


def test_changing_an_approved_value_is_reported_with_every_other_problem(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
):
    login(client, cast, "alice")
    status(client, post_file(GOOD).json()["id"])
    services.values_approve(actor=cast["bob"], values=[_population()])
    bad = CHANGED + "441900003002,2015,volunteers.registered,abc,\r\n"
    body = status(client, post_file(bad).json()["id"])
    assert body["state"] == "failed"
    errors = [(e["line"], e["column"], e["value"], e["reason"]) for e in body["errors"]]
    assert errors[0] == (
        2,
        "数值",
        "13000",
        "该数值已审核通过并锁定，需审核员重新开放后才能修改"
        "（approved value: a reviewer must reopen it before it can change）",
    )
    assert [line for line, *_ in errors] == [2, 5]
    assert body["error_count"] == 2
    assert (_population().value, _population().state) == (Decimal(12000), "approved")


def test_a_file_without_a_comment_column_keeps_the_stored_comments(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
):
    login(client, cast, "alice")
    status(client, post_file(GOOD).json()["id"])
    without = (
        "单位代码,期间,数据项,数值\r\n"
        "441900003001,2015,volunteers.registered,1700\r\n"
        "441900003002,2016,population.resident,8100\r\n"
    )
    body = status(client, post_file(without).json()["id"])
    assert (body["state"], body["created"], body["updated"]) == ("succeeded", 1, 1)
    volunteers = DataValue.objects.get(element__code="volunteers.registered")
    assert (volunteers.value, volunteers.comment) == (Decimal(1700), "社区上报")
    assert DataValue.objects.get(period="2016").comment == ""
    # The same file again: nothing changes, the comment included.
    again = status(client, post_file(without).json()["id"])
    assert (again["updated"], again["unchanged"]) == (0, 2)


MESSY = (
    "单位代码,期间,数据项,数值,备注\r\n"
    "441900003001,2016,population.resident,50000,\r\n"  # 2: over 3x line 3 (compared back)
    "441900003001,2015,population.resident,12000,\r\n"  # 3
    "441900003001,2015,volunteers.registered,13000,\r\n"  # 4: above line 3
    "441900003002,2015,volunteers.registered,9000,\r\n"  # 5: above the stored 8000
    "441900003002,2016,population.resident,2000,\r\n"  # 6: under a third of the stored 8000
    "441900003001,2015,population.resident,12500,\r\n"  # 7: a duplicate of line 3
    "441900003001,2015-03,cases.monthly,10,\r\n"  # 8
    "441900003001,2015-04,cases.monthly,100,\r\n"  # 9: over 3x line 8
    "441900003002,2015-04,cases.monthly,abc,\r\n"  # 10: not a number
    "441900003001,2015-04,cases.monthly,7,\r\n"  # 11: a duplicate of line 9
)


def test_the_database_checks_report_what_the_validator_reports(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
):
    """On PostgreSQL duplicates, not_above and outliers are checked where the rows are staged
    (districts.intake.checks); the report must be the pure validator's, word for word."""
    from districts import scopes
    from districts.intake.validator import validate_values
    from districts.rules import element_rule
    from targets.models import DataElement

    login(client, cast, "alice")
    status(client, post_file("单位代码,期间,数据项,数值\r\n441900003002,2015,population.resident,8000\r\n").json()["id"])  # fmt: skip
    body = status(client, post_file(MESSY).json()["id"])
    assert body["state"] == "failed"

    expected = validate_values(
        MESSY.encode("utf-8-sig"),
        elements={e.code: element_rule(e) for e in DataElement.objects.all()},
        org_units=dict(OrgUnit.objects.values_list("code", "id")),
        scope=scopes.codes_in_scope(cast["alice"], scopes.WRITE),
        existing={
            (v.element.code, v.org_unit.code, v.period): v.value
            for v in DataValue.objects.select_related("element", "org_unit")
        },
    )
    job = UploadJob.objects.get(pk=body["id"])
    assert job.errors == [e.as_dict() for e in expected.errors]
    assert job.warnings == [w.as_dict() for w in expected.warnings]
    assert job.error_count == expected.errors_total == 5
    assert [w["line"] for w in job.warnings] == [2, 6, 9]
    assert [e["line"] for e in job.errors] == [4, 5, 7, 10, 11]
    assert DataValue.objects.count() == 1


def test_while_it_writes_the_job_says_so_and_the_page_shows_it(
    client,
    cast,
    elements,  # noqa: F811
    post_file,  # noqa: F811
    monkeypatch,
):
    """The write is one transaction the polling page cannot see into: before it starts, the job
    row says what is happening, and the status JSON and page carry it."""
    from django.urls import reverse

    write = pipeline._write
    seen = {}

    def look_at_the_job_first(job, *args):
        seen["json"] = client.get(reverse("districts:upload_status", args=[job.pk])).json()
        seen["page"] = client.get(reverse("districts:upload", args=[job.pk])).content
        return write(job, *args)

    monkeypatch.setattr("districts.intake.pipeline._write", look_at_the_job_first)
    login(client, cast, "alice")
    body = status(client, post_file(GOOD).json()["id"])
    assert body["state"] == "succeeded" and body["percent"] == 100
    running = seen["json"]
    assert (running["state"], running["percent"], running["final"]) == ("running", 50, False)
    assert (
        running["message"]
        == "正在写入 3 行，完成前不会有任何数据生效（writing 3 rows: nothing counts until all are in）"
    )
    assert '<span id="upload-phase" class="upload-phase">正在写入 3 行' in seen["page"].decode()
