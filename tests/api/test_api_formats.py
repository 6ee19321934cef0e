"""What every endpoint shares: CSV output (formula-safe), the error shape with its request id,
throttling of token clients, and the schema and docs served without the internet."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import override_settings

from reports.models import ProgressRow

from .conftest import DONGGUAN


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.getvalue() if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def test_csv_progress_is_exactly_the_off_track_rows_the_caller_may_see(client_for, progress):
    response = client_for("bob").get(
        "/api/v1/progress/?plan=dongguan-2012-14&status=off_track&format=csv"
    )
    rows = csv_rows(response)
    expected = set(
        ProgressRow.objects.filter(
            indicator__plan__code="dongguan-2012-14",
            status="off_track",
            org_unit__code__in=DONGGUAN,
        ).values_list("indicator__code", "org_unit__code", "period")
    )
    assert {(r["indicator"], r["org_unit"], r["period"]) for r in rows} == expected
    assert len(rows) == len(expected) == 2 * len(DONGGUAN)
    assert list(rows[0])[:13] == [
        "indicator", "plan", "org_unit", "period", "period_end", "value", "numerator",
        "denominator", "target", "comparator", "deadline", "expected", "status",
    ]  # fmt: skip
    assert response["Content-Disposition"] == 'attachment; filename="progress.csv"'


def test_a_csv_list_is_whole_unless_a_page_is_asked_for(client_for, progress):
    client = client_for("admin")
    assert len(csv_rows(client.get("/api/v1/progress/?format=csv"))) == progress
    assert len(csv_rows(client.get("/api/v1/progress/?format=csv&page_size=5"))) == 5
    page_two = csv_rows(client.get("/api/v1/progress/?format=csv&page_size=50&page=2"))
    assert len(page_two) == progress - 50


def test_accept_text_csv_is_the_same_as_format_csv(client_for, values):
    response = client_for("alice").get("/api/v1/data-values/", HTTP_ACCEPT="text/csv")
    assert {r["org_unit"] for r in csv_rows(response)} == {"441900003", "441900003001", "441900003002"}  # fmt: skip


def test_an_empty_csv_list_still_has_its_header(client_for, values):
    response = client_for("zoe").get("/api/v1/data-values/?format=csv")
    assert response.getvalue().decode().splitlines() == [
        "id,element,org_unit,period,period_end,value,state,comment,review_comment,source,"
        "version,upload,created_by,updated_by,reviewed_by,reviewed_at,created_at,updated_at"
    ]


def test_one_object_as_csv_with_nested_parts_as_json(client_for, catalog):
    rows = csv_rows(client_for("zoe").get("/api/v1/plans/dongguan-2012-14/?format=csv"))
    assert len(rows) == 1 and rows[0]["code"] == "dongguan-2012-14"
    assert rows[0]["goals"].startswith('[{"code": "19"')


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1+1", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_csv_neutralises_spreadsheet_formulas(client_for, catalog, text):
    client = client_for("alice")
    created = client.post(
        "/api/v1/data-values/",
        {"element": "population.resident", "org_unit": "441900003001", "period": "2016",
         "value": 10, "comment": text},
        format="json",
    )  # fmt: skip
    assert created.json()["comment"] == text  # JSON carries the text as typed
    rows = csv_rows(client.get("/api/v1/data-values/?format=csv"))
    assert rows[0]["comment"] == "'" + text
    quotes = csv_rows(client.get("/api/v1/indicators/?format=csv&kind=value"))
    assert quotes[0]["quote"].startswith("'=HYPERLINK")


def test_csv_numbers_stay_numbers_even_when_negative(client_for, catalog, tree):
    from targets.models import Indicator

    ProgressRow.objects.create(
        indicator=Indicator.objects.get(code="do.online"), org_unit=tree["441900"],
        period="2015", period_end=date(2015, 12, 31), value=Decimal("-3.5"),
        target=Decimal(90), comparator=">=", deadline=date(2015, 12, 31), status="off_track",
        ratio=-0.25,
    )  # fmt: skip
    row = csv_rows(client_for("admin").get("/api/v1/progress/?format=csv"))[0]
    assert (row["value"], row["ratio"], row["target"], row["numerator"]) == (
        "-3.5",
        "-0.25",
        "90",
        "",
    )


def test_errors_share_one_shape_and_carry_the_request_id(client_for, catalog):
    response = client_for("alice").get("/api/v1/plans/no-such-plan/?format=csv")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"  # errors are JSON in any format
    body = response.json()
    assert set(body) == {"detail", "code", "request_id"}
    assert body["code"] == "not_found"
    assert body["request_id"] == response["X-Request-ID"]
    assert uuid.UUID(body["request_id"]).version == 4


def test_every_response_has_its_own_request_id(client_for, catalog):
    client = client_for("alice")
    ids = {client.get("/api/v1/plans/")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_a_server_error_is_json_with_a_request_id_that_is_logged(
    client_for, catalog, monkeypatch, caplog
):
    from targets.api import DataElementViewSet

    def boom(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(DataElementViewSet, "get_queryset", boom)
    response = client_for("alice").get("/api/v1/data-elements/")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and body["request_id"] == response["X-Request-ID"]
    assert any(body["request_id"] in r.getMessage() for r in caplog.records)
    assert "boom" not in response.content.decode()


def rest_framework_with(**changes) -> dict:
    return {**settings.REST_FRAMEWORK, **changes}


def test_token_clients_are_throttled_and_the_web_session_is_not(client_for, cast, catalog):
    with override_settings(
        REST_FRAMEWORK=rest_framework_with(DEFAULT_THROTTLE_RATES={"token": "3/day"})
    ):
        client = client_for("alice")
        assert [client.get("/api/v1/plans/").status_code for _ in range(3)] == [200] * 3
        throttled = client.get("/api/v1/plans/")
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "throttled"
        assert int(throttled["Retry-After"]) > 0
        assert client_for("bob").get("/api/v1/plans/").status_code == 200  # per client
        from rest_framework.test import APIClient

        browser = APIClient()
        browser.force_login(cast["alice"])
        assert [browser.get("/api/v1/plans/").status_code for _ in range(5)] == [200] * 5


def test_the_schema_needs_a_signed_in_caller(client_for, cast):
    assert client_for(None).get("/api/schema/").status_code == 401
    response = client_for("zoe").get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_docs_page_works_without_the_internet(client, cast):
    assert client.get("/api/docs/").status_code == 302  # to the login page
    client.force_login(cast["zoe"])
    page = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and not re.search(r"https?://", page)
    # Swagger UI's start-up script comes from the view itself (no inline script: the CSP).
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    script = script.content.decode()
    for asset in assets:
        if asset.startswith("/api/docs/?script"):
            continue
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset
    assert "<script>" not in page and "<style>" not in page
    assert '"validatorUrl": null' in script
    assert "/api/schema/" in script


def test_an_ordering_that_names_no_field_still_pages_in_a_stable_order(client_for, catalog):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DRF warns when it pages an unordered list
        response = client_for("alice").get("/api/v1/indicators/", {"ordering": ","})
    assert response.status_code == 200 and response.json()["results"]
