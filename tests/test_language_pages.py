"""One language on every surface: a Chinese page's visible text has no English word and an
English page's none of Chinese (outside proper names, codes, numbers and a small allow-list),
over the main pages as a leader, an official and a reviewer, on the test fixture data.

What a page shows in another language on purpose carries a ``lang`` attribute (a document's
quoted clause, the language switch); such elements are left out, as are codes (``<code>``,
``.code``) and script data."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html as lxml_html

from core.periods import Period
from tests.reports.test_dashboard_data import make_catalog, make_progress

# Words a Chinese page may show: file formats and the demo/test users' names.
ALLOWED_EN = {"PDF", "XLSX", "CSV", "API", "Excel", "ID", "carol", "alice", "bob", "admin"}
CODE_LIKE = re.compile(r"[A-Za-z0-9_]+(?:[._][A-Za-z0-9_]+)+")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
# Period codes (2015Q3) and official document numbers (东委发〔2012〕14号: a document's name in
# any language) are not words of either language.
PERIOD = re.compile(r"\b\d{4}(?:Q[1-4]|H[12]|W\d{1,2})\b|\bQ[1-4]\b")
DOCUMENT_NUMBER = re.compile(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号")
CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]+")


def visible_text(page: str, language: str) -> str:
    tree = lxml_html.fromstring(page)
    for bad in tree.xpath(
        "//script | //style | //template | //code | //*[contains(concat(' ', @class, ' '), ' code ')]"
        " | //form[contains(@class, 'langswitch')] | //*[@lang and not(self::html)]"
    ):
        bad.drop_tree()
    body = tree.find("body")
    parts = [body.text_content() if body is not None else tree.text_content()]
    # Visible attribute text: placeholders, button values, aria labels read out.
    for el in tree.xpath("//*[@placeholder or @aria-label]"):
        parts.append(el.get("placeholder", "") + " " + el.get("aria-label", ""))
    return " ".join(parts)


def foreign_words(page: str, language: str) -> list[str]:
    text = visible_text(page, language)
    if language == "zh-hans":
        text = PERIOD.sub(" ", CODE_LIKE.sub(" ", text))
        return sorted({w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED_EN})
    return sorted(set(CHINESE.findall(DOCUMENT_NUMBER.sub(" ", text))))


@pytest.fixture
def data(cast, tree):
    from districts import services
    from districts.models import OrgUnit
    from targets.models import DataElement

    catalog = make_catalog()
    make_progress(catalog, tree)
    # Elements as the catalog stores them: English unit codes the pages must put in words.
    DataElement.objects.filter(code="population.resident").update(unit="persons")
    DataElement.objects.filter(code="volunteers.registered").update(unit="persons")
    DataElement.objects.filter(code="centres.built").update(unit="yes/no", level="community")
    DataElement.objects.create(
        code="community.service_space_m2", name_zh="社区服务用房面积",
        name_en="Community service floor space", unit="m2", value_type="number",
        period_type="year", aggregation="sum", temporal="last", level="community",
    )  # fmt: skip
    DataElement.objects.filter(unit="").update(level="community")
    community = OrgUnit.objects.get(code="441900003001")
    services.value_save(
        actor=cast["alice"], element=DataElement.objects.get(code="population.resident"),
        org_unit=community, period=Period.parse("2015"), value=Decimal(12000), submit=True,
    )  # fmt: skip
    services.value_save(
        actor=cast["alice"], element=DataElement.objects.get(code="community.service_space_m2"),
        org_unit=community, period=Period.parse("2015"), value=Decimal(350), submit=True,
    )  # fmt: skip
    return catalog


PAGES = {
    "carol": [
        "/",
        reverse("reports:city", args=["441900"]),
        reverse("reports:unit", args=["441900"]),
        reverse("reports:indicator", args=["dg.volunteers.share"]),
        reverse("reports:indicator", args=["dg.volunteers.total"]),
        reverse("reports:compare"),
    ],
    "alice": [
        "/",
        reverse("reports:unit", args=["441900003"]),
        reverse("districts:entry") + "?unit=441900003001&period=2015",
    ],
    "bob": [reverse("districts:review")],
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("user", sorted(PAGES))
def test_a_page_speaks_one_language(client, cast, data, user, language):
    client.force_login(cast[user])
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    found = {}
    for url in PAGES[user]:
        response = client.get(url)
        assert response.status_code == 200, url
        words = foreign_words(response.content.decode(), language)
        if words:
            found[url] = words
    assert found == {}


def test_the_check_sees_a_stray_word():
    assert foreign_words(
        "<html><body><p>人口 12,000 persons，350 m2，yes/no</p></body></html>", "zh-hans"
    ) == ["m2", "no", "persons", "yes"]
    assert foreign_words(
        '<html><body><p>Population <b>人</b></p><p lang="zh-Hans">原文</p></body></html>', "en"
    ) == ["人"]
    assert (
        foreign_words("<html><body><p>见 dg.volunteers.share · PDF</p></body></html>", "zh-hans")
        == []
    )
