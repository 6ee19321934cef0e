"""The audit log of sensitive actions: who, when, what, from where; append-only; readable by
administrators in the admin."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from rest_framework.authtoken.models import Token

from audit.models import AuditEvent
from audit.services import audit_record


def test_an_event_cannot_be_changed_or_deleted(cast):
    event = audit_record(actor=cast["bob"], action="test.something")
    event.action = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_rewrite_the_trail(cast):
    event = audit_record(actor=cast["bob"], action="test.something")
    for sql in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])


def test_a_deleted_user_keeps_their_trail(cast):
    audit_record(actor=cast["zoe"], action="test.something")
    cast["zoe"].delete()
    event = AuditEvent.objects.get(action="test.something")
    assert event.actor_username == "zoe"


def test_administrators_read_the_log_and_nobody_edits_it(client, cast):
    event = audit_record(actor=cast["bob"], action="test.something")
    client.force_login(cast["admin"])
    assert "test.something" in client.get("/admin/audit/auditevent/").content.decode()
    assert client.get("/admin/audit/auditevent/?action=test.something").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page

    bob = cast["bob"]
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    assert client.get("/admin/audit/auditevent/").status_code == 403


def test_token_creation_is_recorded_without_the_key(cast):
    call_command("drf_create_token", "dave")
    token = Token.objects.get(user=cast["dave"])
    event = AuditEvent.objects.get(action="token.create")
    assert event.detail == {"user": "dave", "via": "command"}
    assert token.key not in str(event.detail)


def test_changes_in_the_admin_are_recorded_including_bulk_deletions(client, cast):
    client.force_login(cast["admin"])
    client.post(
        f"/admin/auth/user/{cast['zoe'].pk}/change/",
        {
            "username": "zoe",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        REMOTE_ADDR="10.9.8.7",
    )
    change = AuditEvent.objects.get(action="admin.change", object_type="auth.user")
    assert change.actor == cast["admin"] and change.ip == "10.9.8.7"
    assert change.object_id == str(cast["zoe"].pk)

    from django.contrib.auth.models import Group

    groups = [Group.objects.create(name=name).pk for name in ("a", "b")]
    client.post(
        "/admin/auth/group/",
        {"action": "delete_selected", "_selected_action": groups, "post": "yes"},
    )
    assert not Group.objects.exists()
    assert AuditEvent.objects.filter(action="admin.delete", object_type="auth.group").count() == 2

    # The admin addresses a token by its user (DRF's TokenProxy), never by the key.
    Token.objects.create(user=cast["dave"])
    client.post(f"/admin/authtoken/tokenproxy/{cast['dave'].pk}/delete/", {"post": "yes"})
    assert not Token.objects.exists()
    assert AuditEvent.objects.filter(action="token.delete", actor=cast["admin"]).count() == 1


def test_a_pack_download_is_recorded(client, cast, tree, settings, tmp_path):
    from reports.models import ReportPack

    settings.MEDIA_ROOT = tmp_path
    pack = ReportPack.objects.create(
        city=tree["441900"], as_of="2024", state=ReportPack.SUCCEEDED, created_by=cast["carol"]
    )
    pack.xlsx.save("pack.xlsx", ContentFile(b"PK"), save=True)
    client.force_login(cast["carol"])
    response = client.get(f"/reports/packs/{pack.pk}/xlsx")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="pack.download")
    assert (event.actor, event.detail) == (cast["carol"], {"kind": "xlsx"})
