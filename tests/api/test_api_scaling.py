"""Issue 18's read paths of the progress and data-value lists: keyset (cursor) pages beside page
numbers, a count only on the first page or on request, ``updated_since`` and ``latest=true``."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from reports.models import ProgressRow

PROGRESS = "/api/v1/progress/"
VALUES = "/api/v1/data-values/"


def walk(client, url: str) -> tuple[list[dict], list[dict]]:
    """Every page from ``url`` by its next links; the pages' bodies and all rows."""
    pages, rows = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        rows += body["results"]
        url = body["next"]
    return pages, rows


def key(row: dict) -> tuple:
    return (row["indicator"], row["org_unit"], row["period"])


def test_page_numbers_count_on_the_first_page_only_unless_asked(client_for, progress):
    client = client_for("admin")
    first = client.get(f"{PROGRESS}?page_size=5").json()
    assert first["count"] == progress and first["previous"] is None
    second = client.get(first["next"]).json()
    assert second["count"] is None and len(second["results"]) == 5
    assert "page=" not in second["previous"]  # page 1 is the URL without page=
    counted = client.get(f"{PROGRESS}?page_size=5&page=2&count=true").json()
    assert counted["count"] == progress and counted["results"] == second["results"]
    assert client.get(f"{PROGRESS}?page_size=5&count=false").json()["count"] is None
    pages, rows = walk(client, f"{PROGRESS}?page_size=7")
    assert len(rows) == progress and len({key(r) for r in rows}) == progress
    assert pages[-1]["next"] is None
    last = (progress + 6) // 7
    assert client.get(f"{PROGRESS}?page_size=7&page={last + 1}").status_code == 404
    assert client.get(f"{PROGRESS}?count=maybe").status_code == 400
    # Found by schemathesis: a page number whose offset is past a bigint's range.
    assert client.get(f"{PROGRESS}?page=754943540341980397568").status_code == 404
    assert client.get(f"{VALUES}?page=754943540341980397568").status_code == 404


def test_a_cursor_walk_gives_every_row_once_in_the_page_order(client_for, progress):
    client = client_for("admin")
    _pages, by_number = walk(client, f"{PROGRESS}?page_size=1000")
    pages, by_cursor = walk(client, f"{PROGRESS}?page_size=7&cursor=")
    assert [key(r) for r in by_cursor] == [key(r) for r in by_number]
    assert pages[0]["count"] == progress and pages[0]["previous"] is None
    assert all(p["count"] is None for p in pages[1:])
    assert "page=" not in pages[1]["next"] and "cursor=" in pages[1]["next"]
    # previous goes back to exactly the page before
    back = client.get(pages[2]["previous"]).json()
    assert back["results"] == pages[1]["results"]
    assert client.get(back["previous"]).json()["results"] == pages[0]["results"]
    assert client.get(back["previous"]).json()["previous"] is None


def test_a_cursor_walk_respects_scope_and_filters(client_for, progress):
    _pages, rows = walk(client_for("alice"), f"{PROGRESS}?page_size=3&cursor=&status=off_track")
    assert rows and {r["status"] for r in rows} == {"off_track"}
    assert {r["org_unit"] for r in rows} == {"441900003", "441900003001", "441900003002"}


def test_cursor_orderings_are_the_indexed_ones(client_for, progress):
    client = client_for("admin")
    ProgressRow.objects.filter(period="2014").update(computed_at=timezone.now() - timedelta(days=1))
    _pages, rows = walk(client, f"{PROGRESS}?page_size=4&cursor=&ordering=-computed_at")
    stamps = [r["computed_at"] for r in rows]
    assert len(rows) == progress and stamps == sorted(stamps, reverse=True)
    refused = client.get(f"{PROGRESS}?cursor=&ordering=status")
    assert refused.status_code == 400
    assert "computed_at" in refused.json()["errors"]["ordering"][0]
    assert client.get(f"{PROGRESS}?ordering=status").status_code == 200  # pages: as before


@pytest.mark.parametrize("token", ["garbage", "eyJvIjoiIiwiayI6WzFdfQ", "%%%"])
def test_a_bad_cursor_is_a_400(client_for, progress, token):
    response = client_for("admin").get(f"{PROGRESS}?cursor={token}")
    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_a_cursor_of_another_ordering_is_a_400(client_for, progress):
    client = client_for("admin")
    next_url = client.get(f"{PROGRESS}?page_size=2&cursor=").json()["next"]
    token = parse_qs(urlsplit(next_url).query)["cursor"][0]
    response = client.get(f"{PROGRESS}?cursor={token}&ordering=computed_at")
    assert response.status_code == 400


def test_data_values_walk_by_cursor_both_ways(client_for, values):
    client = client_for("admin")
    _pages, up = walk(client, f"{VALUES}?page_size=2&cursor=")
    _pages, down = walk(client, f"{VALUES}?page_size=2&cursor=&ordering=-id")
    assert [r["id"] for r in up] == sorted(v.pk for v in values.values())
    assert [r["id"] for r in down] == [r["id"] for r in reversed(up)]
    _pages, changed = walk(client, f"{VALUES}?page_size=2&cursor=&ordering=updated_at")
    assert sorted(r["id"] for r in changed) == sorted(r["id"] for r in up)
    assert client.get(f"{VALUES}?cursor=&ordering=element").status_code == 400


def test_updated_since_keeps_what_changed(client_for, values, progress):
    client = client_for("admin")
    before = timezone.now()
    ProgressRow.objects.filter(period="2014").update(computed_at=before - timedelta(days=2))
    since = (before - timedelta(days=1)).isoformat()
    rows = client.get(PROGRESS, {"updated_since": since, "page_size": 1000}).json()["results"]
    assert rows and {r["period"] for r in rows} == {"2015"}
    value = values["441900003002"]
    client.patch(f"{VALUES}{value.pk}/", {"value": 5, "version": value.version}, format="json")
    changed = client.get(VALUES, {"updated_since": before.isoformat()}).json()["results"]
    assert [r["id"] for r in changed] == [value.pk]
    # A date, a UTC "Z", and an offset whose "+" arrived as a space (unencoded in the URL).
    for text in ("2000-01-01", "2000-01-01T00:00:00Z", "2000-01-01T08:00:00 08:00"):
        assert client.get(VALUES, {"updated_since": text}).json()["count"] == len(values)
    assert client.get(VALUES, {"updated_since": "2999-01-01"}).json()["count"] == 0


@pytest.mark.parametrize("url", [PROGRESS, VALUES])
def test_an_invalid_updated_since_is_a_clear_400(client_for, url):
    response = client_for("admin").get(url, {"updated_since": "yesterday"})
    assert response.status_code == 400
    message = response.json()["errors"]["updated_since"][0]
    assert "yesterday" in message and "ISO 8601" in message


def test_latest_keeps_each_indicator_and_units_latest_period(client_for, progress):
    client = client_for("admin")
    ProgressRow.objects.filter(period="2015", org_unit__code="441900003001").delete()
    rows = client.get(PROGRESS, {"latest": "true", "page_size": 1000}).json()["results"]
    keys = {(r["indicator"], r["org_unit"]) for r in rows}
    assert len(rows) == len(keys) == progress // 2
    by_unit = {r["org_unit"]: r["period"] for r in rows}
    assert by_unit["441900003001"] == "2014" and by_unit["441900003002"] == "2015"
    everything = client.get(PROGRESS, {"latest": "false"}).json()["count"]
    assert everything == ProgressRow.objects.count()
    assert client.get(PROGRESS, {"latest": "yes please"}).status_code == 400
    _pages, walked = walk(client, f"{PROGRESS}?latest=true&cursor=&page_size=3")
    assert sorted(key(r) for r in walked) == sorted(key(r) for r in rows)


def test_a_csv_page_by_cursor_is_one_page(client_for, progress):
    response = client_for("admin").get(f"{PROGRESS}?format=csv&cursor=&page_size=5")
    assert response.status_code == 200
    assert len(response.content.decode().strip().splitlines()) == 1 + 5


def test_the_schema_documents_the_new_parameters(client_for):
    schema = client_for("admin").get("/api/schema/?format=json").json()
    for path, expected in (
        (PROGRESS, {"cursor", "count", "updated_since", "latest"}),
        (VALUES, {"cursor", "count", "updated_since"}),
    ):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert expected <= names, path
