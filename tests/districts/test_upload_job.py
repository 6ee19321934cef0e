"""Uploads end to end on PostgreSQL: import_values, the upload job, locks, history, rollback,
and a live worker processing a web/API upload."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from districts.models import DataValue, DataValueChange, UploadJob
from districts.services import upload_create, upload_rollback
from tests import factories


@pytest.fixture
def elements(db):
    pop = factories.element("population.resident")
    factories.element("volunteers.registered", name_zh="注册志愿者", not_above=pop)
    factories.element("services.online_rate")


GOOD = (
    "单位代码,期间,数据项,数值,备注\r\n"
    '441900003001,2015,population.resident,"12,000",\r\n'
    "441900003001,2015,volunteers.registered,１５００,社区上报\r\n"
    "441900003002,2015-07,services.online_rate,85%,\r\n"
)


def import_file(tmp_path, text: str, *args, encoding="utf-8") -> str:
    path = tmp_path / "values.csv"
    path.write_bytes(text.encode(encoding))
    out = io.StringIO()
    call_command("import_values", str(path), *args, stdout=out)
    return out.getvalue()


def test_official_import_writes_submitted_values_with_history(tmp_path, cast, elements):
    output = import_file(tmp_path, GOOD, "--user", "alice", encoding="gb18030")
    assert "3 rows" in output and "3 new" in output
    values = {(v.element.code, v.org_unit.code, v.period): v for v in DataValue.objects.all()}
    vol = values[("volunteers.registered", "441900003001", "2015")]
    assert vol.value == 1500 and vol.state == "submitted" and vol.comment == "社区上报"
    assert vol.created_by == cast["alice"] and vol.source == "import"
    assert values[("services.online_rate", "441900003002", "2015-07")].value == 85
    history = DataValueChange.objects.get(data_value=vol)
    assert (history.action, history.new_value, history.actor) == ("create", 1500, cast["alice"])
    assert history.upload_id == vol.upload_id


def test_reimporting_the_same_file_changes_nothing(tmp_path, cast, elements):
    import_file(tmp_path, GOOD, "--user", "alice")
    before = list(DataValue.objects.order_by("id").values())
    changes = DataValueChange.objects.count()
    output = import_file(tmp_path, GOOD, "--user", "alice")
    assert "0 new, 0 changed, 3 unchanged" in output
    assert list(DataValue.objects.order_by("id").values()) == before
    assert DataValueChange.objects.count() == changes


def test_a_file_with_any_invalid_row_writes_nothing_and_names_every_error(tmp_path, cast, elements):
    bad = GOOD + (
        "441900101001,2015,population.resident,100,\r\n"  # dave's town: outside alice's scope
        "441900003002,2015,volunteers.registered,abc,\r\n"
        "441900003002,2015Q2,population.resident,5,\r\n"  # a yearly element
        "441900003001,2015,volunteers.registered,1600,\r\n"  # duplicate key
    )
    with pytest.raises(CommandError) as excinfo:
        import_file(tmp_path, bad, "--user", "alice")
    message = str(excinfo.value)
    assert "line 5" in message and "441900101001" in message
    assert "line 6" in message and "not a number" in message
    assert "line 7" in message
    assert "line 8" in message and "line 3" in message  # the duplicate names the first line
    assert not DataValue.objects.exists()
    job = UploadJob.objects.get()
    assert job.state == "failed" and job.error_count >= 4


def test_numerator_above_its_denominator_is_refused(tmp_path, cast, elements):
    text = (
        "org_unit,period,element,value\r\n"
        "441900003001,2015,population.resident,1000\r\n"
        "441900003001,2015,volunteers.registered,1001\r\n"
    )
    with pytest.raises(CommandError, match="line 3"):
        import_file(tmp_path, text, "--user", "alice")


def test_approved_values_are_locked_for_officials_but_a_corrected_file_goes_through(
    tmp_path, cast, elements
):
    import_file(tmp_path, GOOD, "--user", "bob", "--approve")
    assert set(DataValue.objects.values_list("state", flat=True)) == {"approved"}
    # The same file again changes nothing, approved or not.
    assert "3 unchanged" in import_file(tmp_path, GOOD, "--user", "alice")
    changed = GOOD.replace("１５００", "1600")
    with pytest.raises(CommandError, match=r"locked|锁定"):
        import_file(tmp_path, changed, "--user", "alice")
    assert DataValue.objects.get(element__code="volunteers.registered").value == 1500
    assert set(DataValue.objects.values_list("state", flat=True)) == {"approved"}
    # a file for another period is fine
    import_file(
        tmp_path,
        changed.replace(",2015,", ",2016,").replace("2015-07", "2015-08"),
        "--user",
        "alice",
    )
    assert DataValue.objects.filter(period__in=["2016", "2015-08"]).count() == 3


def test_only_reviewers_and_admins_may_approve(tmp_path, cast, elements):
    with pytest.raises(CommandError, match="neither an administrator nor a reviewer"):
        import_file(tmp_path, GOOD, "--user", "alice", "--approve")
    output = import_file(tmp_path, GOOD, "--approve")  # no --user: the administrator
    assert "3 new" in output


def test_rollback_restores_previous_values_and_removes_created_ones(tmp_path, cast, elements):
    import_file(tmp_path, GOOD, "--user", "alice")
    import_file(
        tmp_path,
        GOOD.replace("１５００", "1700") + "441900003002,2015,population.resident,9,\r\n",
        "--user",
        "alice",
    )
    second = UploadJob.objects.order_by("-id").first()
    assert (second.created_count, second.updated_count, second.unchanged_count) == (1, 1, 2)
    restored = upload_rollback(actor=cast["alice"], job=second, reason="错传")
    assert restored == 2
    assert DataValue.objects.get(element__code="volunteers.registered").value == 1500
    assert not DataValue.objects.filter(org_unit__code="441900003002", period="2015").exists()
    second.refresh_from_db()
    assert second.state == "rolled_back"
    assert DataValueChange.objects.filter(upload=second, action="rollback").count() == 2


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_upload_is_processed_by_the_live_worker(cast, elements, live_celery):
    from tests.conftest import wait_for

    job = upload_create(
        actor=cast["alice"],
        uploaded_file=SimpleUploadedFile("values.csv", GOOD.encode("utf-8-sig")),
    )
    done = wait_for(
        lambda: UploadJob.objects.filter(pk=job.pk, state__in=["succeeded", "failed"]).first()
    )
    assert done.state == "succeeded", done.message
    assert done.percent == 100 and done.created_count == 3
    assert DataValue.objects.get(element__code="population.resident").value == Decimal(12000)
