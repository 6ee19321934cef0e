"""Units, numbers and place names in the page's language: one table (core.text.unit_label) used
by the pages, the charts, the PDF briefing and the workbook."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.urls import reverse
from django.utils import translation

from core.numbers import format_number
from core.text import name_of, place_name_en, unit_label
from tests.reports.test_dashboard_data import AS_OF, make_catalog, make_progress

CITY_DG = reverse("reports:city", args=["441900"])

ENGLISH = {
    "年": "years",
    "平方米/人": "m²/person",
    "名/万人": "per 10,000",
    "岁": "years",
    "个百分点/年": "pp/yr",
    "人": "persons",
    "名": "persons",
    "个": "units",
    "家": "organisations",
    "张": "beds",
    "persons": "persons",
    "m2": "m²",
    "yes/no": "yes/no",
    "%": "%",
}
CHINESE = {"persons": "人", "yes/no": "是/否", "m2": "平方米", "yuan": "元", "名/万人": "名/万人"}


def test_unit_label_reads_in_the_active_language():
    with translation.override("en"):
        assert {u: unit_label(u) for u in ENGLISH} == ENGLISH
        assert unit_label("enterprises") == "enterprises"
    with translation.override("zh-hans"):
        assert {u: unit_label(u) for u in CHINESE} == CHINESE
        # One Chinese word for different things in English: each its own context.
        assert unit_label("enterprises") == unit_label("organisations") == "家"
    assert unit_label("") == "" and unit_label("unknown-unit") == "unknown-unit"


def test_thousands_are_separated_in_both_languages():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert format_number(10466625) == "10,466,625"


def test_place_names_have_english_suffixes_not_pinyin():
    assert place_name_en("Langxia Zhen") == "Langxia Town"
    assert place_name_en("Dongcheng Jiedao") == "Dongcheng Subdistrict"
    assert place_name_en("Futian Qu (demo)") == "Futian District (demo)"
    assert place_name_en("Dongguan") == "Dongguan"
    with translation.override("en"):
        assert name_of({"name_zh": "廊下镇", "name_en": "Langxia Zhen"}) == "Langxia Town"
    with translation.override("zh-hans"):
        assert name_of({"name_zh": "廊下镇", "name_en": "Langxia Zhen"}) == "廊下镇"


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


def test_english_pages_charts_and_packs_show_english_units(client, cast, data, tree):
    from reports import packs

    client.force_login(cast["carol"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(CITY_DG).content.decode()
    row = re.search(r'<tr data-indicator="dg.volunteers.total".*?</tr>', html, re.S).group(0)
    assert "≥ 1,000,000 persons" in row and "人" not in row
    page = client.get(reverse("reports:indicator", args=["dg.volunteers.total"])).content.decode()
    trend = json.loads(re.search(r'id="trend-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert trend["unit"] == "persons"

    with translation.override("en"):
        content = packs.pack_content(city=tree["441900"], as_of=AS_OF)
        briefing = packs.briefing_html(content)
        workbook = packs.workbook_bytes(content)
    assert "1,000,000 persons" in briefing and "1,000,000 人" not in briefing
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(workbook))["Indicator"]
    header = [c.value for c in sheet[1]]
    units = {
        r[2].value: r[header.index("Unit of measure")].value for r in sheet.iter_rows(min_row=2)
    }
    assert units["dg.volunteers.total"] == "persons"


def test_chinese_pages_show_chinese_units(client, cast, data):
    client.force_login(cast["carol"])
    html = client.get(CITY_DG).content.decode()
    row = re.search(r'<tr data-indicator="dg.volunteers.total".*?</tr>', html, re.S).group(0)
    assert "≥ 1,000,000 人" in row


def test_a_template_string_with_a_percent_sign_is_translated(client, cast, data):
    # {% translate %} looks a string with % up as %%: the catalogue must hold that form.
    client.force_login(cast["admin"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("reports:compare")).content.decode()
    caption = re.search(r'<figcaption class="sr-only">(.*?)</figcaption>', html).group(1)
    assert caption == "% of target"
