"""/api/v1/ departments, allocations, gaps, assessment schemes and assessments: scoped like the
rest (SPEC §5): the catalog-like resources to every signed-in user, the rest by org unit."""

from __future__ import annotations

import pytest

from accountability.models import Allocation, AllocationChange, AssessmentScheme, Department
from accountability.services import allocation_set, assessment_publish
from districts.unit_facts import orgunit_groups_assign_defaults
from targets.models import Indicator


def codes(response, key="org_unit"):
    assert response.status_code == 200, response.content
    return sorted(r[key] for r in response.json()["results"])


@pytest.fixture
def allocated(catalog, tree):
    ind = Indicator.objects.get(code="do.volunteers.share")
    allocation_set(indicator=ind, org_unit=tree["441900003"], target=10)
    allocation_set(indicator=ind, org_unit=tree["441900101"], target=14)
    return ind


def test_departments_are_read_by_every_signed_in_user(client_for, tree):
    Department.objects.create(code="dg-mzj", name_zh="东莞市民政局", city=tree["441900"])
    assert codes(client_for("zoe").get("/api/v1/departments/?city=441900"), "code") == ["dg-mzj"]
    assert client_for(None).get("/api/v1/departments/").status_code in (401, 403)
    one = client_for("erin").get("/api/v1/departments/dg-mzj/").json()
    assert one["name_zh"] == "东莞市民政局" and one["city"] == "441900"


@pytest.mark.parametrize(
    ("user", "seen"),
    [("carol", ["441900003", "441900101"]), ("alice", ["441900003"]), ("erin", []), ("zoe", [])],
)
def test_allocations_are_scoped(client_for, allocated, user, seen):
    assert codes(client_for(user).get("/api/v1/allocations/")) == seen


def test_an_official_sets_allocations_in_their_scope_only(client_for, catalog, tree):
    body = {"indicator": "do.volunteers.share", "org_unit": "441900003", "target": 11,
            "reason": "镇街分解"}  # fmt: skip
    created = client_for("alice").post("/api/v1/allocations/", body, format="json")
    assert created.status_code == 201, created.content
    assert Allocation.objects.get().target == 11
    change = AllocationChange.objects.get()
    assert change.changed_by.username == "alice" and change.reason == "镇街分解"
    other = client_for("alice").post(
        "/api/v1/allocations/", {**body, "org_unit": "441900101"}, format="json"
    )
    assert other.status_code == 403
    city = client_for("admin").post(
        "/api/v1/allocations/", {**body, "org_unit": "441900"}, format="json"
    )
    assert city.status_code == 400


def test_gaps_need_a_period_and_are_scoped(client_for, progress):
    assert client_for("carol").get("/api/v1/gaps/").status_code == 400
    rows = client_for("alice").get("/api/v1/gaps/?period=2015&indicator=do.volunteers.share")
    assert codes(rows) == ["441900003", "441900003001", "441900003002"]
    first = rows.json()["results"][0]
    # 8.5 of 12 at end-2015, the deadline: 3.5 left, no year left to do it in; from 7.5 a year
    # earlier, 1 a year achieved.
    assert first["remaining"] == 3.5 and first["years_left"] == 0
    assert first["required_rate"] is None and first["achieved_rate"] == pytest.approx(
        1 / (365 / 365.25)
    )
    # (the fixture has rows of every indicator at every unit: erin sees Zhongshan's only)
    erin = codes(client_for("erin").get("/api/v1/gaps/?period=2015"))
    assert erin and all(code.startswith("442000") for code in erin)


def test_published_assessments_show_the_units_in_scope(client_for, progress, tree):
    orgunit_groups_assign_defaults()
    scheme = AssessmentScheme.objects.create(
        code="dg-2015", city=tree["441900"], period="2015", title_zh="考评", unit_level="town",
        scoring={"achieved": 1, "on_track": 1, "at_risk": 0.5},
    )  # fmt: skip
    scheme.items.create(
        indicator=Indicator.objects.get(code="do.volunteers.share"), points=10, position=0
    )
    assessment_publish(scheme=scheme, reason="首次发布")
    [one] = client_for("alice").get("/api/v1/assessments/").json()["results"]
    assert [u["unit"] for u in one["units"]] == ["441900003"]
    [all_] = client_for("carol").get("/api/v1/assessments/?scheme=dg-2015").json()["results"]
    assert [(u["unit"], u["rank"]) for u in all_["units"]] == [("441900003", 1), ("441900101", 1)]
    assert client_for("erin").get("/api/v1/assessments/").json()["results"][0]["units"] == []
    schemes = client_for("zoe").get("/api/v1/assessment-schemes/dg-2015/").json()
    assert schemes["units"] == {"level": "town"} and schemes["items"][0]["points"] == 10
