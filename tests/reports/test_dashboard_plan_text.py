"""Where the installation holds the documents' texts (``PLAN_TEXTS_DIR``), the indicator page
links to the plan's text with the quoted clause highlighted; the text is escaped, and a plan's
``source`` cannot name a file outside the folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from reports.dashboards.plan_text import find_quote
from tests.reports.test_dashboard_data import make_catalog, make_progress

SEEDS = Path("/work/shared/seeds")
INDICATOR = reverse("reports:indicator", args=["dg.volunteers.share"])
TEXT = reverse("reports:plan_text", args=["dongguan-2012-14"])


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


@pytest.fixture
def leader(client, cast):
    client.force_login(cast["carol"])
    return client


@pytest.fixture
def texts(settings, tmp_path):
    (tmp_path / "001_6b5a303b382abbae.txt").write_text(
        "<script>alert(1)</script> 网页导航\n一、总体要求\n力争到2015年全市注册志愿者\n占常住人口的12%以上。"
        " 其他 & 条款\n",
        encoding="utf-8",
    )
    (tmp_path.parent / "secret.txt").write_text("secret", encoding="utf-8")
    settings.PLAN_TEXTS_DIR = str(tmp_path)
    return tmp_path


def test_without_a_texts_folder_there_is_no_link_and_no_page(leader, data, settings):
    settings.PLAN_TEXTS_DIR = ""
    assert "reports/plan/" not in leader.get(INDICATOR).content.decode()
    assert leader.get(TEXT, {"indicator": "dg.volunteers.share"}).status_code == 404


def test_the_indicator_page_links_to_the_text_with_the_clause_highlighted(leader, data, texts):
    page = leader.get(INDICATOR).content.decode()
    link = f'href="{TEXT}?indicator=dg.volunteers.share#quote"'
    assert link in page
    response = leader.get(TEXT, {"indicator": "dg.volunteers.share"})
    assert response.status_code == 200
    html = response.content.decode()
    # The quote is found across the capture's line break, and marked (no inline style).
    marked = re.search(r'<mark id="quote">(.*?)</mark>', html, re.S).group(1)
    assert marked == "力争到2015年全市注册志愿者\n占常住人口的12%以上"
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "其他 &amp; 条款" in html and 'style="' not in html


def test_a_source_outside_the_folder_is_never_read(leader, data, texts):
    from targets.models import Plan

    for source in ("../secret.txt", "/etc/passwd", ".hidden", ""):
        Plan.objects.filter(code="dongguan-2012-14").update(source=source)
        assert leader.get(TEXT).status_code == 404, source
        assert "reports/plan/" not in leader.get(INDICATOR).content.decode()


def test_a_user_outside_the_plans_city_may_not_read_it(client, cast, data, texts):
    other = reverse("reports:plan_text", args=["zhongshan-2014"])
    from targets.models import Plan

    Plan.objects.filter(code="zhongshan-2014").update(source="001_6b5a303b382abbae.txt")
    client.force_login(cast["carol"])  # a Dongguan leader
    assert client.get(other).status_code == 403


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds are not on this machine")
def test_every_catalog_quote_is_found_in_its_documents_text():
    import yaml

    catalog = Path(__file__).resolve().parents[2] / "targets" / "catalog"
    missing = []
    for path in sorted(catalog.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "plan" not in data:
            continue
        text = (SEEDS / data["plan"]["source"]).read_text(encoding="utf-8")
        for goal in data.get("goals") or []:
            for ind in goal.get("indicators") or []:
                if not find_quote(text, ind.get("quote", "")):
                    missing.append(ind["code"])
    assert missing == []


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds are not on this machine")
def test_a_copy_of_the_seed_text_highlights_a_real_clause(leader, data, settings, tmp_path):
    shutil.copy(SEEDS / "001_6b5a303b382abbae.txt", tmp_path)
    settings.PLAN_TEXTS_DIR = str(tmp_path)
    from targets.models import Indicator

    Indicator.objects.filter(code="dg.volunteers.share").update(quote="人均公园绿地面积达 13平方米")
    html = leader.get(TEXT, {"indicator": "dg.volunteers.share"}).content.decode()
    assert '<mark id="quote">人均公园绿地面积达 13平方米</mark>' in html


def test_find_quote_tolerates_whitespace_and_elisions():
    text = "甲乙丙\n丁戊己庚辛壬癸子丑寅卯"
    assert find_quote(text, "乙丙丁") == [(1, 5)]
    assert find_quote(text, "甲乙丙丁……壬癸子丑") == [(0, 5), (9, 13)]
    assert find_quote(text, "不在原文中的话") == []
