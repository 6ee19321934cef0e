"""Pages: a department's indicators with status and what is overdue; a ranking drilled from a
town's score to the items that cost it points, each linking to the indicator page; scoped."""

from __future__ import annotations

import re

import pytest

from accountability.models import AssessmentScheme, Department
from accountability.services import assessment_publish
from districts.unit_facts import orgunit_groups_assign_defaults
from targets.models import Indicator

from .test_assess_command import status

PASSWORD = "pass-for-tests"


@pytest.fixture
def published(catalog, tree, cast):
    orgunit_groups_assign_defaults()
    mzj = Department.objects.create(code="dg-mzj", name_zh="东莞市民政局", city=tree["441900"])
    share = Indicator.objects.get(code="do.volunteers.share")
    online = Indicator.objects.get(code="do.online")
    share.lead = mzj
    share.save()
    scheme = AssessmentScheme.objects.create(
        code="dg-2015", city=tree["441900"], period="2015", title_zh="东莞市2015年镇街考评",
        unit_level="town", scoring={"achieved": 1, "on_track": 1, "at_risk": 0.5},
    )  # fmt: skip
    scheme.items.create(indicator=share, points=10, position=0)
    scheme.items.create(indicator=online, points=20, veto=True, position=1)
    status(tree, share, "441900003", "achieved")
    status(tree, online, "441900003", "at_risk")  # 东城: 10 + 10 = 20
    status(tree, share, "441900101", "off_track")
    status(tree, online, "441900101", "achieved")  # 石碣: 0 + 20 = 20, a tie
    status(tree, share, "441900", "missed")
    return assessment_publish(scheme=scheme, reason="首次发布")


def login(client, name):
    assert client.login(username=name, password=PASSWORD)
    return client


def test_ranking_drills_to_the_items_that_cost_points(client, published):
    login(client, "carol")
    page = client.get(f"/accountability/assessments/{published.id}/").content.decode()
    assert "东莞市2015年镇街考评" in page
    ranks = re.findall(r'data-unit="(\d+)"[^>]*>\s*<td class="num">(\d+)</td>', page)
    assert ranks == [("441900003", "1"), ("441900101", "1")]  # equal scores share the rank
    unit = client.get(f"/accountability/assessments/{published.id}/441900101/").content.decode()
    rows = re.findall(r'data-indicator="([^"]+)" data-status="([^"]+)"', unit)
    assert rows[0] == ("do.volunteers.share", "off_track")  # lost 10: listed first
    assert "/reports/indicator/do.volunteers.share/?unit=441900101" in unit
    assert "/accountability/departments/dg-mzj/" in unit and "东莞市民政局" in unit


def test_ranking_is_scoped(client, published):
    login(client, "alice")  # official on 东城 only
    page = client.get(f"/accountability/assessments/{published.id}/").content.decode()
    assert 'data-unit="441900003"' in page and 'data-unit="441900101"' not in page
    assert client.get(f"/accountability/assessments/{published.id}/441900101/").status_code == 403


def test_department_page_lists_its_indicators_and_the_overdue(client, published):
    login(client, "carol")
    page = client.get("/accountability/departments/dg-mzj/?period=2015").content.decode()
    assert "注册志愿者占常住人口比例" in page
    assert 'data-status="missed"' in page
    overdue = page.split('id="h-overdue"')[1].split("</section>")[0]
    assert "/reports/indicator/do.volunteers.share/" in overdue
    assert "网上办理率" not in page  # not this department's


def test_pages_need_a_login(client, published):
    assert client.get("/accountability/").status_code == 302


def test_city_dashboard_filters_by_department(client, published):
    login(client, "carol")
    everything = client.get("/reports/city/441900/?as_of=2015")
    assert everything.status_code == 200
    assert [o["code"] for o in everything.context["d"].department_options] == ["dg-mzj"]
    assert len(everything.context["d"].plans[0].goals[0].lines) == 2
    mine = client.get("/reports/city/441900/?as_of=2015&department=dg-mzj").context["d"]
    assert [line.indicator_id for b in mine.plans for g in b.goals for line in g.lines] == [
        Indicator.objects.get(code="do.volunteers.share").id
    ]
    assert ("department", "dg-mzj") in mine.keep
    assert 'name="department"' in client.get("/reports/city/441900/").content.decode()


def test_a_leader_asks_for_the_bulletin_and_downloads_it(
    client, published, settings, tmp_path, django_capture_on_commit_callbacks
):
    import io as _io

    from openpyxl import load_workbook

    from accountability.bulletins import bulletin_content
    from accountability.models import Bulletin

    settings.MEDIA_ROOT = str(tmp_path)
    content = bulletin_content(published)
    assert content["commended"] == []
    assert [c["name"] for c in content["criticised"]] == ["石碣镇"]
    [dept] = [b for b in content["departments"] if b["department"] == "东莞市民政局"]
    assert dept["rows"][0]["behind"] == ["石碣镇"]

    login(client, "carol")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/accountability/assessments/{published.id}/bulletin/")
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    assert bulletin.state == Bulletin.SUCCEEDED, bulletin.error
    page = client.get(f"/accountability/assessments/{published.id}/").content.decode()
    assert f"/accountability/bulletins/{bulletin.id}/pdf" in page
    pdf = client.get(f"/accountability/bulletins/{bulletin.id}/pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    xlsx = client.get(f"/accountability/bulletins/{bulletin.id}/xlsx")
    workbook = load_workbook(_io.BytesIO(b"".join(xlsx.streaming_content)))
    assert workbook.sheetnames == ["排名", "表扬", "通报批评", "责任单位", "缺口"]
    assert workbook["通报批评"]["A2"].value == "石碣镇"
    # An official on one town may not ask for (or read) the city-wide bulletin.
    client.logout()
    login(client, "alice")
    assert client.post(f"/accountability/assessments/{published.id}/bulletin/").status_code == 403
    assert client.get(f"/accountability/bulletins/{bulletin.id}/pdf").status_code == 403
