"""Who may call what: every endpoint × anonymous / official in scope / official out of scope /
reviewer / leader / leader of another city / no role / admin, with status codes, and no row
outside the caller's scope in any list (SPEC §5)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from .conftest import ALL_UNITS, READS

USERS = ["admin", "alice", "dave", "bob", "carol", "erin", "zoe"]

CATALOG_URLS = [
    "/api/v1/org-units/",
    "/api/v1/org-units/441900003/",
    "/api/v1/org-units/?parent=441900&level=town",
    "/api/v1/plans/",
    "/api/v1/plans/dongguan-2012-14/",
    "/api/v1/plans/zhongshan-2014-1/",
    "/api/v1/indicators/",
    "/api/v1/indicators/?plan=dongguan-2012-14&kind=ratio",
    "/api/v1/indicators/zh.volunteers.share/",
    "/api/v1/data-elements/",
    "/api/v1/data-elements/population.resident/",
]


def all_pages(client, url: str) -> list[dict]:
    rows, next_url = [], url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        next_url = response.json()["next"]
    return rows


def test_anonymous_gets_401_for_the_catalog(client_for, catalog):
    for url in CATALOG_URLS:
        response = client_for(None).get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("user", USERS)
def test_the_catalog_is_readable_by_every_signed_in_user(client_for, catalog, user):
    client = client_for(user)
    for url in CATALOG_URLS:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/data-values/"),
        ("get", "/api/v1/data-values/{value}/"),
        ("post", "/api/v1/data-values/"),
        ("patch", "/api/v1/data-values/{value}/"),
        ("post", "/api/v1/data-values/{value}/approve/"),
        ("post", "/api/v1/data-values/{value}/reject/"),
        ("get", "/api/v1/uploads/"),
        ("post", "/api/v1/uploads/"),
        ("get", "/api/v1/uploads/1/"),
        ("get", "/api/v1/uploads/1/errors/"),
        ("get", "/api/v1/progress/"),
    ],
)
def test_anonymous_gets_401_everywhere(client_for, values, method, url):
    value = values["441900003002"]
    response = getattr(client_for(None), method)(url.format(value=value.pk), {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("user", USERS)
def test_data_value_lists_hold_exactly_the_units_in_scope(client_for, values, user):
    rows = all_pages(client_for(user), "/api/v1/data-values/?page_size=2")
    assert {r["org_unit"] for r in rows} == READS[user]
    assert len(rows) == len(READS[user])


@pytest.mark.parametrize("user", USERS)
def test_a_data_value_outside_the_scope_is_a_404(client_for, values, user):
    client = client_for(user)
    for unit in ALL_UNITS:
        response = client.get(f"/api/v1/data-values/{values[unit].pk}/")
        assert response.status_code == (200 if unit in READS[user] else 404), unit


@pytest.mark.parametrize("user", USERS)
def test_progress_lists_hold_exactly_the_units_in_scope(client_for, progress, user):
    rows = all_pages(client_for(user), "/api/v1/progress/?page_size=7")
    assert {r["org_unit"] for r in rows} == READS[user]
    assert len(rows) == len(READS[user]) * 3 * 2  # three indicators, two periods per unit


@pytest.mark.parametrize("user", USERS)
def test_filters_never_widen_the_scope(client_for, values, progress, user):
    client = client_for(user)
    for unit in ALL_UNITS:
        rows = all_pages(client, f"/api/v1/progress/?org_unit={unit}")
        assert bool(rows) == (unit in READS[user])
        rows = all_pages(client, f"/api/v1/data-values/?org_unit={unit}")
        assert bool(rows) == (unit in READS[user])
    csv_text = client.get("/api/v1/progress/?format=csv").getvalue().decode()
    units = {line.split(",")[2] for line in csv_text.splitlines()[1:]}
    assert units == READS[user]


# Writing 2016's population of a Dongcheng community.
POST_EXPECTED = {
    "admin": 201,
    "alice": 201,  # official in scope
    "dave": 403,  # official elsewhere
    "bob": 403,  # reviewer: reads, does not enter
    "carol": 403,  # leader
    "erin": 403,  # leader of another city
    "zoe": 403,  # no role
}


@pytest.mark.parametrize("user", USERS)
def test_who_may_enter_a_value(client_for, values, user):
    body = {
        "element": "population.resident",
        "org_unit": "441900003001",
        "period": "2016",
        "value": 1200,
    }
    response = client_for(user).post("/api/v1/data-values/", body, format="json")
    assert response.status_code == POST_EXPECTED[user], response.content


# Changing the submitted value of 东城社区B: unreadable units are 404, readable but not
# writable ones 403.
PATCH_EXPECTED = {
    "admin": 200,
    "alice": 200,
    "dave": 404,
    "bob": 403,
    "carol": 403,
    "erin": 404,
    "zoe": 404,
}


@pytest.mark.parametrize("user", USERS)
def test_who_may_change_a_value(client_for, values, user):
    value = values["441900003002"]
    response = client_for(user).patch(
        f"/api/v1/data-values/{value.pk}/",
        {"value": "1500", "version": value.version},
        format="json",
    )
    assert response.status_code == PATCH_EXPECTED[user], response.content


REVIEW_EXPECTED = {
    "admin": 200,
    "alice": 403,  # officials do not review
    "dave": 404,
    "bob": 200,  # reviewer on Dongguan
    "carol": 403,
    "erin": 404,
    "zoe": 404,
}


@pytest.mark.parametrize("verb", ["approve", "reject"])
@pytest.mark.parametrize("user", USERS)
def test_who_may_review_a_value(client_for, values, user, verb):
    value = values["441900003002"]
    response = client_for(user).post(
        f"/api/v1/data-values/{value.pk}/{verb}/", {"comment": "核对人口"}, format="json"
    )
    assert response.status_code == REVIEW_EXPECTED[user], response.content


UPLOAD_EXPECTED = {
    "admin": 202,
    "alice": 202,
    "dave": 202,  # may upload; rows outside his towns fail in the job, not here
    "bob": 403,  # a reviewer may only upload to approve at once
    "carol": 403,
    "erin": 403,
    "zoe": 403,
}


@pytest.mark.parametrize("user", USERS)
def test_who_may_upload(client_for, catalog, cast, user):
    upload = SimpleUploadedFile(
        "values.csv", b"org_unit,period,element,value\n441900003001,2016,population.resident,5\n"
    )
    response = client_for(user).post("/api/v1/uploads/", {"file": upload}, format="multipart")
    assert response.status_code == UPLOAD_EXPECTED[user], response.content


@pytest.mark.parametrize("user", USERS)
def test_uploads_are_seen_by_their_creator_and_admins_only(client_for, catalog, cast, user):
    from districts.services import upload_create

    job = upload_create(
        actor=cast["alice"],
        uploaded_file=SimpleUploadedFile("v.csv", b"org_unit,period,element,value\n"),
        source="api",
    )
    client = client_for(user)
    sees = user in ("alice", "admin")
    assert client.get(f"/api/v1/uploads/{job.pk}/").status_code == (200 if sees else 404)
    listed = [row["id"] for row in client.get("/api/v1/uploads/").json()["results"]]
    assert listed == ([job.pk] if sees else [])
