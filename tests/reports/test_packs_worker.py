"""A report pack requested on the web is built by a real Celery worker (the task is registered
by ``ReportsConfig.ready``) and its files are downloadable from the web afterwards."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.models import ReportPack
from tests.conftest import wait_for
from tests.reports.test_dashboard_data import make_catalog, make_progress


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_pack_is_built_by_the_live_worker_and_downloadable(client, cast, tree, live_celery):
    make_progress(make_catalog(), tree)
    client.force_login(cast["carol"])
    response = client.post(
        reverse("reports:packs"), {"city": "441900", "as_of": "2014", "language": "zh-hans"}
    )
    pack = ReportPack.objects.get()
    assert response["Location"] == reverse("reports:pack", args=[pack.pk])

    def finished():
        pack.refresh_from_db()
        return pack.state in (ReportPack.SUCCEEDED, ReportPack.FAILED)

    wait_for(finished, timeout=120)
    assert (pack.state, pack.percent, pack.error) == ("succeeded", 100, "")
    status = client.get(reverse("reports:pack_status", args=[pack.pk])).json()
    assert status["state"] == "succeeded"
    for kind, magic in [("pdf", b"%PDF"), ("xlsx", b"PK")]:
        response = client.get(reverse("reports:pack_file", args=[pack.pk, kind]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(magic)
