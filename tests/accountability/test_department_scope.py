"""A role on a department (责任单位) through the one scope rule (districts.scopes): its staff see
and enter that department's indicators — and the elements they are computed from — in every
unit of its city, nothing else; a department reviewer approves them. The permission matrix for
department roles, in the web-independent rule, the services and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accountability.models import Department
from accountability.services import department_role_grant
from core.periods import Period
from districts import scopes
from districts.services import value_save, values_approve
from targets.models import Indicator

Y2015 = Period.parse("2015")


@pytest.fixture
def department(catalog, tree, cast):
    mzj = Department.objects.create(code="dg-mzj", name_zh="东莞市民政局", city=tree["441900"])
    # 民政局 leads the volunteers share (volunteers.registered / population.resident), not the
    # online rate (services.online_rate).
    share = Indicator.objects.get(code="do.volunteers.share")
    share.lead = mzj
    share.save()
    staff, _a, _c = department_role_grant(
        username="mia", role="official", department_code="dg-mzj", create=True
    )
    checker, _a, _c = department_role_grant(
        username="rex", role="reviewer", department_code="dg-mzj", create=True
    )
    return {"department": mzj, "mia": staff, "rex": checker}


@pytest.mark.parametrize(
    ("who", "action", "element", "unit", "allowed"),
    [
        # the department's elements, anywhere in Dongguan
        ("mia", scopes.WRITE, "volunteers.registered", "441900101001", True),
        ("mia", scopes.WRITE, "population.resident", "441900", True),
        ("mia", scopes.READ, "volunteers.registered", "441900003002", True),
        # not another department's element, not another city, not review
        ("mia", scopes.WRITE, "services.online_rate", "441900101001", False),
        ("mia", scopes.WRITE, "volunteers.registered", "442000001001", False),
        ("mia", scopes.REVIEW, "volunteers.registered", "441900101001", False),
        ("rex", scopes.REVIEW, "volunteers.registered", "441900101001", True),
        ("rex", scopes.WRITE, "volunteers.registered", "441900101001", False),
        ("rex", scopes.REVIEW, "services.online_rate", "441900101001", False),
    ],
)
def test_department_role_matrix(department, catalog, tree, who, action, element, unit, allowed):
    user = department[who]
    e = catalog["elements"][element]
    assert scopes.can(user, action, tree[unit], element=e) is allowed
    # A department role grants no subtree: without an element or indicator, nothing.
    assert scopes.can(user, action, tree[unit]) is False


def test_department_staff_enter_and_its_reviewer_approves(department, catalog, tree):
    vol = catalog["elements"]["volunteers.registered"]
    row = value_save(
        actor=department["mia"], element=vol, org_unit=tree["441900101001"], period=Y2015,
        value=Decimal(80), submit=True,
    )  # fmt: skip
    [approved] = values_approve(actor=department["rex"], values=[row])
    assert approved.state == "approved"
    with pytest.raises(PermissionDenied):
        value_save(
            actor=department["mia"], element=catalog["elements"]["services.online_rate"],
            org_unit=tree["441900101001"], period=Period.parse("2015-01"), value=Decimal(50),
        )  # fmt: skip


def test_api_lists_only_the_departments_values_and_progress(department, catalog, tree, cast,
                                                           progress, client_for, tokens):  # fmt: skip
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    for code in ("441900003001", "442000001001"):
        for element in ("volunteers.registered", "services.online_rate"):
            e = catalog["elements"][element]
            period = Y2015 if e.period_type == "year" else Period.parse("2015-01")
            value_save(actor=cast["admin"], element=e, org_unit=tree[code], period=period,
                       value=Decimal(5))  # fmt: skip
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=department['mia'])}")
    values = client.get("/api/v1/data-values/").json()["results"]
    assert sorted((v["element"], v["org_unit"]) for v in values) == [
        ("volunteers.registered", "441900003001")]  # fmt: skip
    rows = client.get("/api/v1/progress/?period=2015").json()["results"]
    assert rows and {r["indicator"] for r in rows} == {"do.volunteers.share"}
    assert all(r["org_unit"].startswith("441900") for r in rows)
    # An official on a unit keeps exactly the subtree rule.
    alice = client_for("alice").get("/api/v1/data-values/").json()["results"]
    assert {v["org_unit"] for v in alice} <= {"441900003", "441900003001", "441900003002"}
