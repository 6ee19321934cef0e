"""A research report's or proposal's figures are labelled as such and left out of headline
counts and scores unless asked for; status and progress bars draw without script; 目标 reads
"Goal" or "Target" in English according to what it names."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.reports.test_dashboard_data import AS_OF, make_catalog, make_progress, put_row

CITY_DG = reverse("reports:city", args=["441900"])
UNIT_DG = reverse("reports:unit", args=["441900"])


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
def report(data, tree):
    """A research report for Dongguan proposing two figures, both off track."""
    from targets.models import Goal, Indicator, Plan

    plan = Plan.objects.create(
        code="dongguan-report", city=tree["441900"], title_zh="东莞社会建设调研报告",
        title_en="Dongguan social construction research report", kind="report",
        issued_on=date(2013, 1, 1),
    )  # fmt: skip
    goal = Goal.objects.create(plan=plan, code="四", title_zh="主要举措", position=1)
    found = []
    for n in (1, 2):
        ind = Indicator.objects.create(
            code=f"dg.report.{n}", plan=plan, goal=goal, position=n, name_zh=f"建议指标{n}",
            name_en=f"Proposed figure {n}", kind="value", element=data["el"]["social_orgs.count"],
            unit="个", comparator=">=", target=Decimal(100), deadline=date(2015, 12, 31),
            quote="力争五年内",
        )  # fmt: skip
        for period in ("2013", AS_OF):
            put_row(ind, tree["441900"], period, 10, "off_track")
        found.append(ind)
    return found


def test_a_reports_figures_are_left_out_of_the_headline_and_labelled(leader, data, report):
    before = leader.get(CITY_DG).context["d"]
    codes = {line.code for line in before.attention}
    assert not codes & {"dg.report.1", "dg.report.2"}
    assert before.total == 5 and before.proposals == 2 and before.listed == 7
    assert sum(c["n"] for c in before.counts) == 5
    proposal = next(x for x in before.all_lines if x.code == "dg.report.1")
    assert not proposal.binding and proposal.plan_kind_label == "研究报告 · 建议"
    html = leader.get(CITY_DG).content.decode()
    row = re.search(r'<tr data-indicator="dg.report.1".*?</tr>', html, re.S).group(0)
    assert "研究报告 · 建议" in row
    assert "另有 2 项研究报告或建议中的数字未计入以上统计" in html

    included = leader.get(CITY_DG, {"proposals": "1"}).context["d"]
    assert included.total == 7
    assert {"dg.report.1", "dg.report.2"} <= {line.code for line in included.attention}
    assert len(included.attention) == len(before.attention) + 2

    unit = leader.get(UNIT_DG).context["o"]
    assert unit.proposals == 2
    assert not {line.code for line in unit.attention} & {"dg.report.1", "dg.report.2"}
    assert {
        line.code for line in leader.get(UNIT_DG, {"proposals": "1"}).context["o"].attention
    } >= {"dg.report.1"}

    page = leader.get(reverse("reports:indicator", args=["dg.report.1"])).content.decode()
    assert "研究报告 · 建议" in page

    leader.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = leader.get(CITY_DG).content.decode()
    assert "Research report · proposal" in english


def test_home_card_leaves_a_reports_figures_out(client, cast, data, report):
    client.force_login(cast["admin"])
    card = next(c for c in client.get("/").context["cards"] if c.unit.code == "441900")
    assert card.indicators == 5 and card.proposals == 2
    assert sum(c["n"] for c in card.counts) == 5


def test_a_unit_with_only_a_research_report_has_no_score(client, cast, tree, data):
    from targets.models import Plan

    Plan.objects.filter(code="zhongshan-2014").update(kind="report")
    client.force_login(cast["admin"])
    card = next(c for c in client.get("/").context["cards"] if c.unit.code == "442000")
    assert card.proposals_only and card.share_good is None


def test_briefing_and_workbook_label_a_reports_figures(data, report, tree):
    from openpyxl import load_workbook

    from reports import packs

    content = packs.pack_content(city=tree["441900"], as_of=AS_OF)
    html = packs.briefing_html(content)
    assert "研究报告 · 建议" in html
    wb = load_workbook(io.BytesIO(packs.workbook_bytes(content)))
    ws = wb["指标"]
    header = [c.value for c in ws[1]]
    kind_col = header.index("文件性质")
    labels = {row[2].value: row[kind_col].value for row in ws.iter_rows(min_row=2)}
    assert labels["dg.report.1"] == "研究报告 · 建议" and not labels["dg.volunteers.share"]


def test_bars_are_svg_with_widths_as_attributes_no_script_needed(leader, data):
    html = leader.get(CITY_DG).content.decode()
    assert "data-width" not in html and "data-left" not in html and 'style="' not in html
    table = html[html.index('<table class="lines">') :]
    row = re.search(r'<tr data-indicator="dg.volunteers.share".*?</tr>', table, re.S).group(0)
    # 8.6% of ≥ 12%: 71.7% of the target; the trajectory marker at the expected value.
    assert re.search(r'<rect class="pfill fill-off_track" x="0" y="3" width="71\.7"', row)
    assert '<line class="pexp"' in row
    assert re.search(r'<svg class="stackbar"[^>]*>.*?<rect class="seg fill-', html, re.S)
    from pathlib import Path

    from django.conf import settings

    script = (Path(settings.BASE_DIR) / "static/js/dashboard.js").read_text()
    assert "style." not in script


def test_goal_and_target_read_right_in_english(leader, data):
    leader.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = leader.get(CITY_DG).content.decode()
    form = re.search(r'<form class="filters.*?</form>', html, re.S).group(0)
    assert re.search(r"<label>Goal<select name=\"goal\"", form)
    head = re.search(r'<table class="lines">.*?</thead>', html, re.S).group(0)
    assert ">Target<" in head and "Goal" not in head
    page = leader.get(reverse("reports:indicator", args=["dg.volunteers.share"])).content.decode()
    assert "Target (deadline" in page
    from django.utils import translation

    with translation.override("en"):
        from targets.models import Goal

        assert str(Goal._meta.verbose_name) == "Goal"


def test_a_unit_with_only_a_research_reports_figures_counts_them_without_a_score(
    leader, data, tree
):
    from targets.models import Plan

    Plan.objects.filter(code="dongguan-2012-14").update(kind="report")
    d = leader.get(CITY_DG).context["d"]
    assert d.proposals_only and d.share_good is None and d.total == 5
    assert d.attention
    o = leader.get(UNIT_DG).context["o"]
    assert o.proposals_only and o.share_good is None and o.counts


def test_childrens_counts_leave_a_reports_figures_out(leader, data, report, tree):
    from tests.reports.test_dashboard_data import put_row

    for ind in report:
        put_row(ind, tree["441900003"], AS_OF, 1, "off_track")
    d = leader.get(CITY_DG).context["d"]
    town = next(c for c in d.children if c["code"] == "441900003")
    included = leader.get(CITY_DG, {"proposals": "1"}).context["d"]
    town_all = next(c for c in included.children if c["code"] == "441900003")
    assert town_all["bad"] == town["bad"] + 2
    o = leader.get(UNIT_DG).context["o"]
    child = next(c for c in o.children if c["code"] == "441900003")
    assert child["bad"] == town["bad"]


def test_the_comparison_labels_a_reports_figures(client, cast, data):
    from targets.models import Plan

    Plan.objects.filter(code="zhongshan-2014").update(kind="report")
    client.force_login(cast["admin"])
    html = client.get(reverse("reports:compare")).content.decode()
    row = re.search(r'<tr data-city="442000">.*?</tr>', html, re.S).group(0)
    assert "研究报告 · 建议" in row
    dongguan = re.search(r'<tr data-city="441900">.*?</tr>', html, re.S).group(0)
    assert "研究报告" not in dongguan
