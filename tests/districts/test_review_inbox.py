"""The reviewer inbox (/data/review/) and value history: submissions in scope grouped by unit
and period, approve and reject with a comment, bulk approve, filters, and scopes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from core.periods import Period
from districts import services
from districts.models import DataValue, DataValueChange, OrgUnit
from districts.services import role_grant
from targets.models import DataElement

URL = reverse("districts:review")


@pytest.fixture
def elements(db):
    pop = DataElement.objects.create(
        code="population.resident", name_zh="常住人口", name_en="Resident population",
        unit="persons", value_type="integer", period_type="year", aggregation="sum",
        temporal="last", level="community",
    )  # fmt: skip
    vol = DataElement.objects.create(
        code="volunteers.registered", name_zh="注册志愿者人数", unit="persons",
        value_type="integer", period_type="year", aggregation="sum", temporal="last",
        level="community", not_above=pop,
    )  # fmt: skip
    return {"pop": pop, "vol": vol}


def submitted(actor, element, unit, value, period="2015") -> DataValue:
    return services.value_save(
        actor=actor, element=element, org_unit=OrgUnit.objects.get(code=unit),
        period=Period.parse(period), value=Decimal(value), submit=True,
    )  # fmt: skip


@pytest.fixture
def inbox(cast, elements):
    """Two values of 东城社区A, one of 东城社区B (alice), one of 石碣村A (dave), all 2015, one
    of 2016; and one of 中山 (by the admin), outside bob's scope."""
    pop, vol = elements["pop"], elements["vol"]
    return {
        "a_pop": submitted(cast["alice"], pop, "441900003001", 12000),
        "a_vol": submitted(cast["alice"], vol, "441900003001", 1500),
        "b_pop": submitted(cast["alice"], pop, "441900003002", 8000),
        "v_pop": submitted(cast["dave"], pop, "441900101001", 3000),
        "a_pop16": submitted(cast["alice"], pop, "441900003001", 12500, period="2016"),
        "zs_pop": submitted(cast["admin"], pop, "442000001001", 9000),
    }


def login(client, cast, name):
    client.force_login(cast[name])
    return client


def state(value) -> str:
    value.refresh_from_db()
    return value.state


def test_reviewer_sees_submissions_in_scope_grouped_by_unit_and_period(client, cast, inbox):
    response = login(client, cast, "bob").get(URL)
    assert response.status_code == 200
    groups = [(g.unit.code, g.period, len(g.values)) for g in response.context["groups"]]
    assert groups == [
        ("441900003001", "2016", 1),
        ("441900003001", "2015", 2),
        ("441900003002", "2015", 1),
        ("441900101001", "2015", 1),
    ]
    assert "442000001001" not in response.content.decode()  # Zhongshan: outside bob's scope
    assert response.context["summary"]["values"] == 5


def test_reviewer_approves_in_scope_and_history_records_it(client, cast, inbox):
    value = inbox["a_pop"]
    response = login(client, cast, "bob").post(URL, {"action": "approve", "ids": [value.pk]})
    assert response.status_code == 302
    value.refresh_from_db()
    assert value.state == "approved" and value.reviewed_by == cast["bob"]
    change = DataValueChange.objects.filter(data_value=value).order_by("-id").first()
    assert (change.action, change.actor, change.old_state) == ("approve", cast["bob"], "submitted")


def test_approval_triggers_the_progress_recompute(client, cast, inbox, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "reports.triggers.progress_recompute_for_keys", lambda **keys: calls.append(keys)
    )
    login(client, cast, "bob").post(URL, {"action": "approve", "ids": [inbox["a_pop"].pk]})
    value = inbox["a_pop"]
    assert calls == [
        {
            "element_codes": {value.element.code},
            "unit_codes": {value.org_unit.code},
            "trigger": "approval",
        }
    ]


def test_reviewer_cannot_approve_outside_their_scope(client, cast, inbox):
    role_grant(username="rita", role="reviewer", org_unit_code="441900101", create=True)
    from django.contrib.auth import get_user_model

    rita = get_user_model().objects.get(username="rita")
    client.force_login(rita)
    groups = client.get(URL).context["groups"]
    assert [g.unit.code for g in groups] == ["441900101001"]
    response = client.post(URL, {"action": "approve", "ids": [inbox["a_pop"].pk]})
    assert response.status_code == 404  # 东城 is outside rita's scope: as if it did not exist
    assert state(inbox["a_pop"]) == "submitted"
    # One value out of scope spoils the whole batch: nothing is approved.
    response = client.post(
        URL, {"action": "approve", "ids": [inbox["v_pop"].pk, inbox["zs_pop"].pk]}
    )
    assert response.status_code == 404
    assert state(inbox["v_pop"]) == "submitted"


def test_a_user_who_reads_but_does_not_review_is_refused(client, cast, inbox):
    role_grant(username="carol", role="reviewer", org_unit_code="441900101")
    # carol leads all of Dongguan (reads 东城) but reviews only 石碣.
    response = login(client, cast, "carol").post(
        URL, {"action": "approve", "ids": [inbox["a_pop"].pk]}
    )
    assert response.status_code == 403
    assert state(inbox["a_pop"]) == "submitted"


@pytest.mark.parametrize("name", ["alice", "carol", "erin", "zoe"])
def test_only_reviewers_and_admins_may_open_the_inbox(client, cast, inbox, name):
    client = login(client, cast, name)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "approve", "ids": [inbox["a_pop"].pk]}).status_code == 403
    assert state(inbox["a_pop"]) == "submitted"


def test_reject_requires_a_comment(client, cast, inbox):
    value = inbox["a_vol"]
    client = login(client, cast, "bob")
    response = client.post(URL, {"action": "reject", "ids": [value.pk], "comment": "  "})
    assert response.status_code == 400
    assert state(value) == "submitted"
    html = response.content.decode()
    # The error sits at the comment field, and the checked value is still checked.
    field = html.split('id="review-comment"', 1)[1].split("</p>", 1)[0]
    assert 'aria-invalid="true"' in field and "退回时请填写原因" in field
    assert f'value="{value.pk}" class="pick"' in html
    checkbox = html.split(f'id="pick-{value.pk}"', 1)[1].split(">", 1)[0]
    assert "checked" in checkbox
    other = html.split(f'id="pick-{inbox["a_pop"].pk}"', 1)[1].split(">", 1)[0]
    assert "checked" not in other
    client.post(URL, {"action": "reject", "ids": [value.pk], "comment": "志愿者人数偏高"})
    value.refresh_from_db()
    assert value.state == "rejected" and value.review_comment == "志愿者人数偏高"


def test_a_rejected_value_goes_back_to_the_official_with_the_comment(client, cast, inbox):
    login(client, cast, "bob").post(
        URL, {"action": "reject", "ids": [inbox["a_vol"].pk], "comment": "请附统计口径"}
    )
    client.force_login(cast["alice"])
    entry = client.get(reverse("districts:entry"), {"unit": "441900003001", "period": "2015"})
    assert "请附统计口径" in entry.content.decode()


def test_bulk_approve_approves_every_checked_value(client, cast, inbox):
    ids = [inbox[k].pk for k in ("a_pop", "a_vol", "b_pop", "v_pop", "a_pop16")]
    response = login(client, cast, "bob").post(
        URL, {"action": "approve", "ids": ids, "comment": "批量审核"}
    )
    assert response.status_code == 302
    assert set(DataValue.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"approved"}
    assert state(inbox["zs_pop"]) == "submitted"
    assert DataValueChange.objects.filter(action="approve", comment="批量审核").count() == 5


def test_approving_an_already_approved_value_is_explained_not_repeated(client, cast, inbox):
    client = login(client, cast, "bob")
    client.post(URL, {"action": "approve", "ids": [inbox["a_pop"].pk]})
    client.post(URL, {"action": "approve", "ids": [inbox["a_pop"].pk, inbox["b_pop"].pk]})
    assert state(inbox["b_pop"]) == "submitted"  # the batch is all or nothing
    assert DataValueChange.objects.filter(action="approve").count() == 1


def test_filters_by_unit_subtree_period_element_and_state(client, cast, inbox):
    client = login(client, cast, "bob")

    def codes(**query):
        page = client.get(URL, query).context["page"]
        return sorted((v.org_unit.code, v.period, v.element.code) for v in page.object_list)

    assert codes(unit="441900101") == [("441900101001", "2015", "population.resident")]
    assert len(codes(period="2016")) == 1
    assert len(codes(element="volunteers.registered")) == 1
    client.post(URL, {"action": "approve", "ids": [inbox["b_pop"].pk]})
    assert codes(state="approved") == [("441900003002", "2015", "population.resident")]


def test_inbox_queries_do_not_grow_with_the_number_of_values(
    client, cast, inbox, elements, django_assert_max_num_queries
):
    for i in range(40):
        element = DataElement.objects.create(
            code=f"extra.{i}", name_zh=f"附加{i}", unit="个", value_type="integer",
            period_type="year", aggregation="sum", temporal="last", level="community",
        )  # fmt: skip
        submitted(cast["alice"], element, "441900003002", i)
    client = login(client, cast, "bob")
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    assert response.context["page"].paginator.count == 45


# --- history -------------------------------------------------------------------------------


def test_value_history_lists_every_change_with_who_and_what(client, cast, inbox, elements):
    value = inbox["a_pop"]
    services.values_reject(actor=cast["bob"], values=[value], comment="偏高")
    value.refresh_from_db()
    services.value_save(
        actor=cast["alice"], element=elements["pop"], org_unit=value.org_unit,
        period=Period.parse("2015"), value=Decimal(11900), expected_version=value.version,
    )  # fmt: skip
    response = login(client, cast, "alice").get(reverse("districts:value_history", args=[value.pk]))
    assert response.status_code == 200
    actions = [c.action for c in response.context["changes"]]
    assert actions == ["update", "reject", "create"]
    latest = response.context["changes"][0]
    assert (latest.old_shown, latest.new_shown, latest.actor) == ("12000", "11900", cast["alice"])
    body = response.content.decode()
    assert "偏高" in body and "bob" in body


@pytest.mark.parametrize("name", ["erin", "zoe", "dave"])
def test_value_history_outside_scope_is_not_found(client, cast, inbox, name):
    url = reverse("districts:value_history", args=[inbox["a_pop"].pk])
    assert login(client, cast, name).get(url).status_code == 404


def test_inbox_shows_previous_value_change_and_flags(client, cast, inbox, elements):
    """ "30 against 3 last year" stands out; so does a part larger than its whole."""
    unit = "441900003002"
    submitted(cast["alice"], elements["pop"], unit, 3, period="2014")
    DataValue.objects.filter(pk=inbox["b_pop"].pk).update(value=Decimal(30))
    submitted(cast["alice"], elements["vol"], unit, 20, period="2015")
    DataValue.objects.filter(element=elements["vol"], org_unit__code=unit).update(value=Decimal(40))
    html = login(client, cast, "bob").get(URL, {"unit": unit, "period": "2015"}).content.decode()
    row = html.split(f'id="pick-{inbox["b_pop"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert ">3 <" in row and "2014" in row  # the previous period's value
    assert "+27 (+900%)" in row
    assert "比上期高出 3 倍以上" in row
    vol = DataValue.objects.get(element=elements["vol"], org_unit__code=unit)
    row = html.split(f'id="pick-{vol.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "不能大于" in row and "常住人口" in row


def test_a_rejection_notifies_the_submitter_in_the_portal_and_by_e_mail(
    client, cast, inbox, django_capture_on_commit_callbacks, mailoutbox
):
    from supervision.models import Notification

    cast["alice"].email = "alice@example.org"
    cast["alice"].save()
    with django_capture_on_commit_callbacks(execute=True):
        login(client, cast, "bob").post(
            URL, {"action": "reject", "ids": [inbox["a_vol"].pk], "comment": "请附统计口径"}
        )
    note = Notification.objects.get(recipient=cast["alice"])
    assert note.kind == "rejected" and note.message == "请附统计口径" and note.count == 1
    link = note.entry_url
    assert link.endswith("#row-volunteers.registered") and "unit=441900003001" in link
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.org"]
    assert "请附统计口径" in mailoutbox[0].body and link in mailoutbox[0].body

    client.force_login(cast["alice"])
    page = client.get(reverse("supervision:notifications")).content.decode()
    assert "请附统计口径" in page and link.replace("&", "&amp;") in page
    grid = client.get(link.split("#")[0]).content.decode()
    row = grid.split('id="row-volunteers.registered"', 1)[1].split("</tr>", 1)[0]
    assert "请附统计口径" in row
