"""The plan API says what kind of document a plan is (SPEC §7: policy, implementation,
work_plan, report, proposal), so clients can tell a research report's proposals from policy."""

from __future__ import annotations

import copy

from rest_framework.test import APIClient
from test_load_plans import PLAN, load, write


def test_plan_api_gives_the_kind_of_document(cast, tmp_path):
    document = copy.deepcopy(PLAN)
    document["plan"]["kind"] = "report"
    load(write(tmp_path, document))
    client = APIClient()
    client.force_authenticate(cast["zoe"])  # the catalog is readable by every signed-in user
    detail = client.get("/api/v1/plans/dongguan-2012-14/").json()
    assert detail["kind"] == "report"
    listed = client.get("/api/v1/plans/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["kind"] for row in rows] == ["report"]
