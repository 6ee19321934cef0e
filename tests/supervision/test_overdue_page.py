"""The overdue page and the selectors behind it: which units are late for which periods, counts
per district/town, traffic lights with icons and words, scoped by districts.scopes."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.urls import reverse

from districts.models import OrgUnit
from supervision import rules, selectors
from supervision.models import ReportingSchedule
from tests.supervision.helpers import report

pytestmark = pytest.mark.django_db

URL = reverse("supervision:overdue")
LATE = "2025-04-10"


def page(client, user, **params):
    client.force_login(user)
    return client.get(URL, {"as_of": LATE, **params})


def test_a_reviewer_sees_which_towns_are_late_with_counts_per_town(client, setup):
    response = page(client, setup["cast"]["bob"])
    assert response.status_code == 200
    areas = {a.area.code: a for a in response.context["areas"]}
    assert set(areas) == {"441900003", "441900101"}
    assert (areas["441900003"].overdue, areas["441900003"].units_late) == (3, 3)
    assert (areas["441900101"].overdue, areas["441900101"].units_late) == (2, 2)
    rows = list(response.context["page"].object_list)
    assert {(r.unit.code, r.period) for r in rows} == {
        ("441900003", "2024"),
        ("441900003001", "2024"),
        ("441900003002", "2024"),
        ("441900101", "2024"),
        ("441900101001", "2024"),
    }
    assert all(r.state == rules.OVERDUE and r.days_late == 10 for r in rows)
    html = response.content.decode()
    assert "rs-overdue" in html and "light-red" in html and "✗" in html and "已逾期" in html
    assert "逾期 10 天" in html and "东城社区A" in html and "石岐" not in html


def test_a_leader_of_another_city_sees_none_of_it(client, setup):
    response = page(client, setup["cast"]["erin"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "东城" not in html and "石碣" not in html
    assert {a.area.code for a in response.context["areas"]} == {"442000001"}


def test_an_official_sees_only_their_own_town(client, setup):
    response = page(client, setup["cast"]["alice"])
    assert {r.unit.code for r in response.context["page"].object_list} == {
        "441900003",
        "441900003001",
        "441900003002",
    }


def test_a_user_without_a_role_sees_an_empty_page(client, setup):
    response = page(client, setup["cast"]["zoe"])
    assert response.status_code == 200 and not response.context["has_scope"]
    assert "东城" not in response.content.decode()


def test_anonymous_users_are_sent_to_the_login_page(client, setup):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_due_soon_is_yellow_from_three_days_before(client, setup):
    response = page(client, setup["cast"]["bob"], as_of="2025-03-28", state="due_soon")
    rows = list(response.context["page"].object_list)
    assert len(rows) == 5 and {r.state for r in rows} == {rules.DUE_SOON}
    html = response.content.decode()
    assert "light-yellow" in html and "还剩 3 天" in html
    response = page(client, setup["cast"]["bob"], as_of="2025-03-27", state="due_soon")
    assert list(response.context["page"].object_list) == []


def test_submitted_units_leave_the_overdue_list(client, setup):
    cast, elements = setup["cast"], setup["elements"]
    report(cast["dave"], elements["town"], "441900101")
    report(cast["dave"], elements["community"], "441900101001", submit=False)  # a draft
    response = page(client, cast["bob"])
    late = {r.unit.code for r in response.context["page"].object_list}
    assert "441900101" not in late and "441900101001" in late
    submitted = page(client, cast["bob"], state="submitted").context["page"].object_list
    assert [r.unit.code for r in submitted] == ["441900101"]


def test_filtering_by_town_and_by_root(client, setup):
    bob = setup["cast"]["bob"]
    rows = page(client, bob, area="441900101").context["page"].object_list
    assert {r.unit.code for r in rows} == {"441900101", "441900101001"}
    response = page(client, bob, root="441900003")
    assert {r.unit.code for r in response.context["page"].object_list} == {
        "441900003",
        "441900003001",
        "441900003002",
    }
    assert page(client, bob, root="442000").status_code == 404  # outside bob's scope


def test_english_shows_english_names(client, setup):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client, setup["cast"]["bob"]).content.decode()
    assert "Dongcheng A" in html and "Shijie" in html
    assert "东城社区A" not in html


def test_the_overdue_page_runs_a_fixed_number_of_queries(
    client, setup, django_assert_max_num_queries
):
    bob = setup["cast"]["bob"]
    page(client, bob)
    for code in ("441900003003", "441900003004", "441900003005"):
        OrgUnit.objects.create(
            code=code,
            name_zh=code,
            level="community",
            parent=OrgUnit.objects.get(code="441900003"),
            path=f"441900/441900003/{code}/",
            depth=2,
        )
    with django_assert_max_num_queries(10):
        response = client.get(URL, {"as_of": LATE})
    assert response.context["rows_total"] == 8


def test_the_period_type_filter_and_other_schedules(client, setup):
    from targets.models import DataElement

    DataElement.objects.create(
        code="trainees.count", name_zh="培训人次", unit="persons", value_type="integer",
        period_type="month", aggregation="sum", temporal="sum", level="town",
    )  # fmt: skip
    ReportingSchedule.objects.filter(code="default-month").update(active_from=date(2025, 1, 1))
    bob = setup["cast"]["bob"]
    monthly = page(client, bob, period_type="month").context["page"].object_list
    # Towns owe January and February (due 10 Feb and 10 Mar); March is due on 10 April.
    assert {(r.unit.code, r.period) for r in monthly} == {
        (town, month) for town in ("441900003", "441900101") for month in ("2025-01", "2025-02")
    }
    assert all(r.schedule.code == "default-month" for r in monthly)


# --- selectors for the dashboards and the reviewer inbox ---------------------------------------


def test_who_has_not_reported_lists_the_late_first(setup):
    bob = setup["cast"]["bob"]
    report(setup["cast"]["alice"], setup["elements"]["town"], "441900003")
    rows = selectors.who_has_not_reported(bob, as_of=date(2025, 4, 10))
    assert [r.unit.code for r in rows] == [
        "441900003001",
        "441900003002",
        "441900101",
        "441900101001",
    ]
    assert all(r.missing == 1 and r.due == 1 and r.shown.light == "red" for r in rows)
    assert selectors.who_has_not_reported(bob, as_of=date(2025, 3, 20), late_only=True) == []
    open_ones = selectors.who_has_not_reported(bob, as_of=date(2025, 3, 20))
    assert {r.state for r in open_ones} == {rules.OPEN}
    counts = {a.area.code: a.overdue for a in selectors.counts_by_area(rows)}
    assert counts == {"441900003": 2, "441900101": 2}


def test_who_has_not_reported_in_the_review_scope_and_under_a_root(setup):
    cast = setup["cast"]
    shijie = OrgUnit.objects.get(code="441900101")
    rows = selectors.who_has_not_reported(
        cast["bob"], as_of=date(2025, 4, 10), root=shijie, action="review"
    )
    assert {r.unit.code for r in rows} == {"441900101", "441900101001"}
    assert (
        selectors.who_has_not_reported(cast["carol"], as_of=date(2025, 4, 10), action="review")
        == []
    )


def test_the_status_map_for_the_inbox(setup):
    cast = setup["cast"]
    report(cast["alice"], setup["elements"]["town"], "441900003")
    found = selectors.status_map(cast["bob"], as_of=date(2025, 4, 10), action="review")
    assert found[("441900003", "2024")].state == rules.SUBMITTED
    assert found[("441900003001", "2024")].state == rules.OVERDUE
    assert ("442000001", "2024") not in found


def test_unit_statuses_and_the_period_lock(setup):
    from districts.services import values_approve

    cast, elements = setup["cast"], setup["elements"]
    village = OrgUnit.objects.get(code="441900101001")
    [status] = selectors.unit_statuses(cast["bob"], village, as_of=date(2025, 4, 10))
    assert (status.period, status.state, status.deadline) == (
        "2024",
        rules.OVERDUE,
        date(2025, 3, 31),
    )
    assert selectors.unit_statuses(cast["erin"], village, as_of=date(2025, 4, 10)) == []
    assert not selectors.period_is_locked(village, "2024")
    value = report(cast["dave"], elements["community"], "441900101001")
    values_approve(actor=cast["bob"], values=[value])
    assert selectors.period_is_locked(village, "2024", as_of=date(2025, 4, 10))


# --- the unit page -----------------------------------------------------------------------------


def test_the_unit_page_lists_what_is_missing(client, setup):
    client.force_login(setup["cast"]["alice"])
    response = client.get(
        reverse("supervision:unit_status", args=["441900003001"]), {"as_of": LATE}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "常住人口" in html and "population.resident" in html and "去填报" in html
    assert "重新开放" not in html


def test_a_unit_outside_the_scope_is_not_found(client, setup):
    client.force_login(setup["cast"]["erin"])
    response = client.get(reverse("supervision:unit_status", args=["441900003001"]))
    assert response.status_code == 404


def test_the_schedules_page_lists_the_defaults(client, setup):
    client.force_login(setup["cast"]["zoe"])
    html = client.get(reverse("supervision:schedules")).content.decode()
    assert "default-month" in html and "default-year" in html and "次月10日前" in html
