"""Filters, whitelisted ordering and pagination of the list endpoints."""

from __future__ import annotations

import pytest


def codes(response, key: str = "code") -> list[str]:
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_org_units_filter_by_parent_and_level(client_for, tree):
    client = client_for("zoe")
    assert codes(client.get("/api/v1/org-units/?parent=441900&level=town")) == ["441900101"]
    assert codes(client.get("/api/v1/org-units/?parent=441900003&ordering=-code")) == [
        "441900003002",
        "441900003001",
    ]
    assert codes(client.get("/api/v1/org-units/?parent=nowhere")) == []


def test_indicators_filter_by_plan_city_and_kind(client_for, catalog):
    client = client_for("zoe")
    assert codes(client.get("/api/v1/indicators/?city=442000")) == ["zh.volunteers.share"]
    assert codes(client.get("/api/v1/indicators/?plan=dongguan-2012-14&kind=value")) == [
        "do.online"
    ]
    assert len(codes(client.get("/api/v1/indicators/?kind=ratio"))) == 2


def test_progress_filters_combine(client_for, progress):
    client = client_for("carol")
    rows = client.get(
        "/api/v1/progress/?plan=dongguan-2012-14&org_unit=441900101&period=2015年"
    ).json()["results"]
    assert {(r["org_unit"], r["period"], r["status"]) for r in rows} == {
        ("441900101", "2015", "off_track")
    }
    assert len(rows) == 2  # the plan's two indicators
    both = client.get("/api/v1/progress/?status=off_track&status=at_risk&page_size=1000")
    assert both.json()["count"] == 6 * 3 * 2


def test_the_progress_row_has_exactly_its_documented_fields(client_for, progress):
    from reports.api import ProgressOut

    row = client_for("admin").get("/api/v1/progress/").json()["results"][0]
    assert list(row) == list(ProgressOut().fields)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ordering=quote", "ordering"),  # not whitelisted
        ("ordering=", "ordering"),
        ("kind=", "kind"),
        ("kind=policy", "kind"),
        ("page_size=1001", "page_size"),
        ("page_size=0", "page_size"),
        ("page=abc", "page"),
        ("page=²", "page"),
        ("page_size=١٠", "page_size"),
    ],
)
def test_bad_list_parameters_are_a_400(client_for, catalog, query, field):
    response = client_for("zoe").get(f"/api/v1/indicators/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_bad_periods_and_states_are_a_400(client_for, values):
    client = client_for("alice")
    assert "period" in client.get("/api/v1/data-values/?period=2015%Q9").json()["errors"]
    assert "state" in client.get("/api/v1/data-values/?state=").json()["errors"]


def test_pages_up_to_1000_rows_and_a_page_past_the_end_is_a_404(client_for, progress):
    client = client_for("admin")
    assert len(client.get("/api/v1/progress/?page_size=1000").json()["results"]) == progress
    page = client.get("/api/v1/progress/?page_size=10&page=2").json()
    assert "page=3" in page["next"] and "page_size=10" in page["next"]
    assert client.get("/api/v1/progress/?page=99").status_code == 404


def test_unknown_paths_and_formats_are_json_404s(client_for, catalog):
    client = client_for("zoe")
    for url in ("/api/v1/nothing-here/", "/api/v1/plans/?format=xml", "/api/v1/plans/?format="):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
