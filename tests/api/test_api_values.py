"""Writing values through the API: the same rules as an uploaded file, 400 with field messages,
scope (403), review, and concurrent edits caught by version / ETag / If-Match (409 / 412)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from districts.models import DataValue, DataValueChange

URL = "/api/v1/data-values/"


def post(client, **body):
    data = {"element": "population.resident", "org_unit": "441900003001", "period": "2016"}
    data.update(body)
    return client.post(URL, data, format="json")


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["request_id"] == response["X-Request-ID"]
    return body["errors"]


def test_official_enters_a_value_with_history_and_an_etag(client_for, cast, catalog):
    response = post(client_for("alice"), value=12000, comment="社区上报")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["value"] == 12000 and body["state"] == "draft" and body["version"] == 1
    assert (body["source"], body["created_by"]) == ("api", "alice")
    assert response["ETag"] == '"1"'
    assert response["Location"] == f"{URL}{body['id']}/"
    change = DataValueChange.objects.get(data_value_id=body["id"])
    assert (change.action, change.source, change.actor) == ("create", "api", cast["alice"])


def test_posting_the_same_key_again_changes_that_value(client_for, catalog):
    client = client_for("alice")
    first = post(client, value=100).json()
    response = post(client, value=101)
    assert response.status_code == 200
    assert response.json()["id"] == first["id"] and response.json()["version"] == 2
    assert post(client, value=101).json()["version"] == 2  # unchanged: no new version


@pytest.mark.parametrize(
    ("element", "period", "raw", "stored"),
    [
        ("population.resident", "2016", "12,345", Decimal(12345)),
        ("population.resident", "2016年", "１２３４５", Decimal(12345)),
        ("population.resident", "2016", 12345, Decimal(12345)),
        ("services.online_rate", "2016-07", "85.5%", Decimal("85.5")),
        ("services.online_rate", "2016/7/1", 85.5, Decimal("85.5")),
    ],
)
def test_values_are_read_like_cells_of_an_uploaded_file(
    client_for, catalog, element, period, raw, stored
):
    response = post(client_for("alice"), element=element, period=period, value=raw)
    assert response.status_code == 201, response.content
    assert DataValue.objects.get(pk=response.json()["id"]).value == stored


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"value": "12.5"}, "value", "integer element"),
        ({"value": "-3"}, "value", "negative"),
        ({"value": "15%"}, "value", "percent elements"),
        ({"value": "abc"}, "value", "not a number"),
        ({"value": "1e20"}, "value", "too large"),
        ({"value": [1]}, "value", "number or a string"),
        ({"element": "services.online_rate", "period": "2016-07", "value": "101"}, "value", "100"),
        ({"period": "2016-07", "value": 5}, "period", "period type does not match"),
        ({"period": "2016Q5", "value": 5}, "period", "not a period"),
        ({"element": "no.such", "value": 5}, "element", "no.such"),
        ({"org_unit": "999", "value": 5}, "org_unit", "999"),
        ({"value": 5, "state": "approved"}, "state", "approved"),
        ({"value": None}, "value", ""),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(client_for, catalog, body, field, fragment):
    found = errors(post(client_for("alice"), **body))
    assert list(found) == [field]
    assert fragment in found[field][0]
    assert not DataValue.objects.exists()


def test_a_value_may_not_exceed_its_not_above_element(client_for, values):
    response = post(client_for("alice"), element="volunteers.registered", period="2015", value=5000)
    found = errors(response)
    assert "population.resident" in found["value"][0] and "1002" in found["value"][0]
    ok = post(client_for("alice"), element="volunteers.registered", period="2015", value=900)
    assert ok.status_code == 201


def test_a_value_outside_the_scope_is_refused_before_it_is_validated(client_for, catalog):
    response = post(client_for("alice"), org_unit="441900101001", value="not a number")
    assert response.status_code == 403
    assert "441900101001" in response.json()["detail"]


def test_approved_values_are_locked(client_for, values):
    approved = values["441900003001"]
    response = client_for("alice").patch(
        f"{URL}{approved.pk}/", {"value": 5, "version": approved.version}, format="json"
    )
    assert "locked" in errors(response)["value"][0]


def test_etag_and_if_match_guard_against_lost_updates(client_for, values):
    value = values["441900003002"]
    alice, admin = client_for("alice"), client_for("admin")
    tag = alice.get(f"{URL}{value.pk}/")["ETag"]
    assert tag == f'"{value.version}"'
    # The administrator changes it first; alice's If-Match is now stale.
    first = admin.patch(f"{URL}{value.pk}/", {"value": 2000}, format="json", HTTP_IF_MATCH=tag)
    assert first.status_code == 200 and first["ETag"] == f'"{value.version + 1}"'
    stale = alice.patch(f"{URL}{value.pk}/", {"value": 3000}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert DataValue.objects.get(pk=value.pk).value == 2000
    fresh = alice.patch(
        f"{URL}{value.pk}/", {"value": 3000}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert fresh.status_code == 200 and fresh.json()["value"] == 3000


def test_a_stale_version_in_the_body_is_a_409(client_for, values):
    value = values["441900003002"]
    client = client_for("alice")
    response = client.patch(
        f"{URL}{value.pk}/", {"value": 7, "version": value.version + 5}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    ok = client.patch(f"{URL}{value.pk}/", {"value": 7, "version": value.version}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == value.version + 1


def test_version_zero_means_the_value_must_be_new(client_for, values):
    client = client_for("alice")
    exists = post(client, period="2015", value=1, version=0)
    assert exists.status_code == 409
    assert post(client, period="2017", value=1, version=0).status_code == 201


def test_if_match_star_needs_an_existing_value(client_for, values):
    client = client_for("alice")
    assert post(client, period="2017", value=1, HTTP_IF_MATCH="*").status_code == 201
    response = client.post(
        URL,
        {
            "element": "population.resident",
            "org_unit": "441900003001",
            "period": "2018",
            "value": 1,
        },
        format="json",
        HTTP_IF_MATCH="*",
    )
    assert response.status_code == 412


def test_if_match_and_version_must_agree(client_for, values):
    value = values["441900003002"]
    response = client_for("alice").patch(
        f"{URL}{value.pk}/", {"value": 7, "version": 99}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert set(errors(response)) == {"version"}
    for tag in ("yesterday", '"²"'):
        bad = client_for("alice").patch(
            f"{URL}{value.pk}/", {"value": 7}, format="json", HTTP_IF_MATCH=tag
        )
        assert set(errors(bad)) == {"If-Match"}


def test_patch_keeps_what_it_does_not_send(client_for, values):
    value = values["441900003002"]
    client = client_for("alice")
    first = client.patch(
        f"{URL}{value.pk}/", {"comment": "已核对", "version": value.version}, format="json"
    )
    response = client.patch(
        f"{URL}{value.pk}/", {"value": "1,500"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert response.json()["comment"] == "已核对" and response.json()["value"] == 1500


def test_officials_submit_with_the_state_field(client_for, catalog):
    client = client_for("alice")
    created = post(client, value=10).json()
    assert created["state"] == "draft"
    response = client.patch(
        f"{URL}{created['id']}/", {"state": "submitted", "version": 1}, format="json"
    )
    assert response.json()["state"] == "submitted"
    direct = post(client, period="2017", value=10, state="submitted").json()
    assert direct["state"] == "submitted"


def test_reviewer_approves_and_rejects_with_history(client_for, values, cast):
    value = values["441900003002"]
    bob = client_for("bob")
    approved = bob.post(f"{URL}{value.pk}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved" and approved.json()["reviewed_by"] == "bob"
    again = bob.post(f"{URL}{value.pk}/approve/", {}, format="json")
    assert "non_field_errors" in errors(again)  # only submitted values can be approved
    change = DataValueChange.objects.filter(data_value=value, action="approve").get()
    assert (change.source, change.actor) == ("api", cast["bob"])


def test_a_rejection_needs_a_comment(client_for, values):
    value = values["441900003002"]
    bob = client_for("bob")
    assert set(errors(bob.post(f"{URL}{value.pk}/reject/", {}, format="json"))) == {"comment"}
    rejected = bob.post(f"{URL}{value.pk}/reject/", {"comment": "与统计局数据不符"}, format="json")
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["review_comment"] == "与统计局数据不符"


def test_a_review_of_a_changed_value_is_refused(client_for, values):
    value = values["441900003002"]
    tag = client_for("bob").get(f"{URL}{value.pk}/")["ETag"]
    client_for("alice").patch(f"{URL}{value.pk}/", {"value": 5}, format="json", HTTP_IF_MATCH=tag)
    response = client_for("bob").post(
        f"{URL}{value.pk}/approve/", {}, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 412
    assert DataValue.objects.get(pk=value.pk).state == "submitted"
