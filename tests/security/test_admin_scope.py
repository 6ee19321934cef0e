"""Defect 3: a scoped staff user in the admin stays inside the scope. bob is a reviewer of 东莞
(441900) and, as in the report, a staff user given every admin permission on the districts,
supervision and targets models."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from districts.models import OrgUnit, RoleAssignment


@pytest.fixture
def staff_bob(cast, client):
    bob = cast["bob"]
    bob.is_staff = True
    bob.save()
    bob.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["districts", "supervision", "targets"]
        )
    )
    client.force_login(bob)
    return bob


def _add_role(client, user, role, unit):
    return client.post(
        "/admin/districts/roleassignment/add/",
        {"user": user.pk, "role": role, "org_unit": unit.pk},
    )


def test_a_reviewer_cannot_grant_a_role_outside_their_scope(client, staff_bob, tree):
    response = _add_role(client, staff_bob, "leader", tree["442000"])
    assert response.status_code == 200  # the form again, with the error
    assert not RoleAssignment.objects.filter(user=staff_bob, org_unit=tree["442000"]).exists()


def test_a_reviewer_cannot_grant_a_role_above_their_own(client, staff_bob, tree):
    response = _add_role(client, staff_bob, "leader", tree["441900"])
    assert response.status_code == 200
    assert "超出您的管辖范围" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=staff_bob, role="leader").exists()


def test_a_reviewer_grants_an_official_role_inside_their_scope_and_it_is_audited(
    client, staff_bob, cast, tree
):
    response = _add_role(client, cast["zoe"], "official", tree["441900101"])
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=cast["zoe"], org_unit=tree["441900101"]).exists()
    event = AuditEvent.objects.get(action="role.grant", actor=staff_bob)
    assert event.detail == {"user": "zoe", "role": "official", "org_unit": "441900101"}
    assert event.ip == "127.0.0.1"


def test_the_org_unit_choices_offered_are_limited_to_the_scope(client, staff_bob, tree):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = staff_bob
    model_admin = site._registry[RoleAssignment]
    field = model_admin.formfield_for_foreignkey(
        RoleAssignment._meta.get_field("org_unit"), request
    )
    codes = set(field.queryset.values_list("code", flat=True))
    assert "441900003001" in codes
    assert "442000" not in codes and "442000001" not in codes


def test_a_community_cannot_be_moved_under_another_citys_town(client, staff_bob, tree):
    community = tree["441900003001"]
    response = client.post(
        f"/admin/districts/orgunit/{community.pk}/change/",
        {
            "code": community.code,
            "name_zh": community.name_zh,
            "name_en": community.name_en,
            "level": community.level,
            "parent": tree["442000001"].pk,
        },
    )
    assert response.status_code == 200
    community.refresh_from_db()
    assert community.parent_id == tree["441900003"].pk
    assert community.path.startswith("441900/")


def test_a_community_can_be_moved_inside_the_scope(client, staff_bob, tree):
    community = tree["441900003001"]
    response = client.post(
        f"/admin/districts/orgunit/{community.pk}/change/",
        {
            "code": community.code,
            "name_zh": community.name_zh,
            "name_en": community.name_en,
            "level": community.level,
            "parent": tree["441900101"].pk,
        },
    )
    assert response.status_code == 302
    community.refresh_from_db()
    assert community.path == "441900/441900101/441900003001/"


def test_the_top_of_the_scope_and_units_outside_it_cannot_be_changed_or_deleted(
    client, staff_bob, tree
):
    city = tree["441900"]
    assert client.post(
        f"/admin/districts/orgunit/{city.pk}/change/",
        {"code": "441900", "name_zh": "改名", "name_en": "x", "level": "city", "parent": ""},
    ).status_code in (302, 403)
    city.refresh_from_db()
    assert city.name_zh == "东莞市"
    assert client.post(
        f"/admin/districts/orgunit/{city.pk}/delete/", {"post": "yes"}
    ).status_code in (302, 403)
    zhongshan = tree["442000001001"]
    client.post(f"/admin/districts/orgunit/{zhongshan.pk}/delete/", {"post": "yes"})
    assert OrgUnit.objects.filter(pk__in=[city.pk, zhongshan.pk]).count() == 2


def test_a_new_unit_cannot_be_added_outside_the_scope_or_at_the_top(client, staff_bob, tree):
    for parent in (tree["442000"].pk, ""):
        client.post(
            "/admin/districts/orgunit/add/",
            {"code": "999", "name_zh": "新", "name_en": "new", "level": "town", "parent": parent},
        )
    assert not OrgUnit.objects.filter(code="999").exists()


def test_roles_outside_the_scope_cannot_be_removed(client, staff_bob, cast):
    erin = RoleAssignment.objects.get(user=cast["erin"])
    client.post(f"/admin/districts/roleassignment/{erin.pk}/delete/", {"post": "yes"})
    client.post(
        "/admin/districts/roleassignment/",
        {"action": "delete_selected", "_selected_action": [erin.pk], "post": "yes"},
    )
    assert RoleAssignment.objects.filter(pk=erin.pk).exists()


def test_a_role_inside_the_scope_is_removed_and_audited(client, staff_bob, cast):
    alice = RoleAssignment.objects.get(user=cast["alice"])
    response = client.post(
        "/admin/districts/roleassignment/",
        {"action": "delete_selected", "_selected_action": [alice.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=alice.pk).exists()
    assert AuditEvent.objects.filter(action="role.remove", actor=staff_bob).count() == 1
    assert AuditEvent.objects.filter(action="admin.delete", object_id=str(alice.pk)).exists()


def test_grant_role_on_someones_behalf_follows_the_same_rule(cast, tree):
    with pytest.raises(CommandError, match="may not grant"):
        call_command("grant_role", "bob", "leader", "441900", "--as", "bob")
    with pytest.raises(CommandError, match="may not grant"):
        call_command("grant_role", "zoe", "official", "442000001", "--as", "bob")
    call_command("grant_role", "zoe", "official", "441900101", "--as", "bob")
    assert RoleAssignment.objects.filter(user=cast["zoe"], org_unit=tree["441900101"]).exists()


def test_a_schedule_for_another_city_cannot_be_edited(client, staff_bob, tree):
    from supervision.models import ReportingSchedule
    from supervision.services import schedules_seed

    schedules_seed()
    schedule = ReportingSchedule.objects.first()
    schedule.root = tree["442000"]
    schedule.save()
    page = client.get(f"/admin/supervision/reportingschedule/{schedule.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # shown read-only
    assert (
        client.post(
            f"/admin/supervision/reportingschedule/{schedule.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert ReportingSchedule.objects.filter(pk=schedule.pk, root=tree["442000"]).exists()


def test_the_catalog_is_changed_only_by_administrators_whatever_the_permissions(client, staff_bob):
    from targets.models import DataElement

    element = DataElement.objects.create(
        code="x.y", name_zh="项", name_en="x", unit="items", value_type="integer",
        period_type="year", aggregation="sum", temporal="last", level="town",
    )  # fmt: skip
    page = client.get(f"/admin/targets/dataelement/{element.pk}/change/")
    assert 'name="_save"' not in page.content.decode()
    assert (
        client.post(f"/admin/targets/dataelement/{element.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_a_staff_user_cannot_make_themselves_an_administrator(client, staff_bob, cast):
    staff_bob.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    page = client.get(f"/admin/auth/user/{cast['alice'].pk}/change/")
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    client.post(
        f"/admin/auth/user/{cast['alice'].pk}/change/",
        {
            "username": "alice",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    cast["alice"].refresh_from_db()
    assert not cast["alice"].is_superuser and not cast["alice"].is_staff
    # Their own record, a staff user's, is an administrator's to change.
    assert (
        client.get(f"/admin/auth/user/{staff_bob.pk}/change/")
        .content.decode()
        .count('name="_save"')
        == 0
    )
    staff_bob.refresh_from_db()
    assert not staff_bob.is_superuser


def test_second_factor_devices_are_for_administrators_only(client, staff_bob):
    staff_bob.user_permissions.add(*Permission.objects.filter(content_type__app_label="otp_totp"))
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 403
