"""Query counts of every list endpoint, pinned, and the same for 3 or 40 more rows of everything.

For a token client in a scoped role: 1 query for the token and its user, 1 for the user's
scope (data values, uploads, progress only), 1 COUNT for the pagination, 1 for the page
(+1 per prefetched relation). Progress and data values count only when the first page is full
(core.api.ScalablePagination): here it never is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests import factories

from .conftest import make_progress

ENDPOINTS = [
    ("/api/v1/org-units/", 3),
    ("/api/v1/org-units/441900003/", 2),
    ("/api/v1/plans/", 3),
    ("/api/v1/plans/dongguan-2012-14/", 4),  # + goals, + their indicators
    ("/api/v1/indicators/", 3),
    ("/api/v1/indicators/?plan=dongguan-2012-14&ordering=-deadline", 3),
    ("/api/v1/data-elements/", 3),
    ("/api/v1/data-values/", 3),
    ("/api/v1/data-values/?org_unit=441900003&state=submitted&ordering=-period", 3),
    ("/api/v1/uploads/", 4),  # her own uploads, and those a reviewer scope would let in
    ("/api/v1/progress/", 3),
    ("/api/v1/progress/?status=off_track&status=at_risk&period=2015&ordering=org_unit", 3),
    ("/api/v1/progress/?format=csv", 3),  # a whole CSV list is streamed: no COUNT
]


def grow(n: int, tree, catalog, cast) -> None:
    """``n`` more org units, elements, plans with an indicator each, values, progress rows and
    uploads, all in alice's 东城街道."""
    from districts.models import DataValue, OrgUnit, UploadJob
    from districts.services import orgunit_save
    from targets.models import DataElement

    town = tree["441900003"]
    for i in range(n):
        orgunit_save(
            unit=OrgUnit(code=f"441900003{i + 100}", name_zh=f"社区{i}", level="community",
                         parent=town)
        )  # fmt: skip
    elements = DataElement.objects.bulk_create(
        DataElement(code=f"extra.{i}", name_zh=f"数据项{i}", value_type="number",
                    period_type="year", aggregation="sum", temporal="last")
        for i in range(n)
    )  # fmt: skip
    indicators = []
    for i, element in enumerate(elements):
        plan = factories.plan(tree["441900"], f"extra-{i}", title_zh=f"规划{i}")
        indicators.append(
            factories.indicator(factories.goal(plan), f"extra.{i}", name_zh="指标", element=element)
        )
    DataValue.objects.bulk_create(
        DataValue(element=e, org_unit=town, period="2015", period_start=date(2015, 1, 1),
                  period_end=date(2015, 12, 31), value=Decimal(i), created_by=cast["alice"],
                  updated_by=cast["alice"])
        for i, e in enumerate(elements)
    )  # fmt: skip
    make_progress(indicators, [town])
    UploadJob.objects.bulk_create(
        UploadJob(original_name=f"{i}.csv", file=f"uploads/{i}.csv", created_by=cast["alice"])
        for i in range(n)
    )


@pytest.mark.parametrize("extra", [3, 40])
@pytest.mark.parametrize(("url", "queries"), ENDPOINTS)
def test_list_query_counts_do_not_grow_with_the_data(
    client_for,
    values,
    progress,
    tree,
    catalog,
    cast,
    django_assert_num_queries,
    url,
    queries,
    extra,
):
    grow(extra, tree, catalog, cast)
    client = client_for("alice")
    with django_assert_num_queries(queries):
        response = client.get(url)
        if response.streaming:
            response.getvalue()
    assert response.status_code == 200


def test_an_administrator_needs_no_scope_query(client_for, progress, django_assert_num_queries):
    with django_assert_num_queries(2):  # the token; the page (not full: no COUNT)
        assert client_for("admin").get("/api/v1/progress/").status_code == 200
