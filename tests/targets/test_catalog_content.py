"""The plan catalog (targets/catalog/) checked against its sources — pure, no Django.

Every indicator quotes, character for character, the sentence of the policy document it comes
from; that quote must lie inside the part of the source file that holds its plan. Every element
an indicator uses is declared once in the shared vocabulary (elements.yaml); indicator codes are
unique across the catalog; a repeated target links to its first statement with `same_as`; and
no plan silently loses indicators.

Run alone with ``python -m pytest -p no:django tests/targets/test_catalog_content.py``.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "targets" / "catalog"
SOURCES = CATALOG / "sources"
ELEMENTS_FILE = CATALOG / "elements.yaml"
EXTRA_UNITS_FILE = CATALOG / "orgunits-extra.csv"
# The shared seed documents, where the working copy sits next to them (and in the build box).
SEED_DIRS = [ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")]
REFERENCE_DIVISIONS = [
    ROOT.parent / "shared" / "reference" / "four-cities-divisions.json",
    Path("/work/shared/reference/four-cities-divisions.json"),
]

# How many indicators each plan held when its document was gone through clause by clause.
# A plan may gain indicators; losing one must be a decision, made here.
MIN_INDICATORS = {
    "zhongshan-2014-ssyj": 25,
    "dongguan-2012-14": 38,
    "dongguan-2012-fwzf": 4,
    "dongguan-2012-shzz": 5,
    "dongguan-2012-rkfw": 8,
    "dongguan-2012-sgrc": 16,
    "dongguan-2012-xxh": 14,
    "dongguan-2012-csjwh": 23,
    "dongguan-2012-cwh": 13,
    "xiamen-2021-sg": 9,
    "yantian-2010-shjs": 7,
    "langxia-2013-xgy": 19,
}

# Source files that hold more than one document: the part of the file that is each plan's text,
# from a start marker up to an end marker (None: the end of the file). Markers must be unique.
PLAN_PARTS = {
    "langxia-2013-xgy": (
        "\n廊下镇关于调整完善“万人就业项目”协管员队伍的实施方案\n",
        "\n金山区廊下镇人民政府\n",
    ),
    "dongguan-2012-fwzf": (
        "\n关于加快推进社会体制改革建设服务型政府的实施意见\n",
        "\n关于加强社会组织管理的实施意见\n",
    ),
    "dongguan-2012-shzz": (
        "\n关于加强社会组织管理的实施意见\n",
        "\n关于加强人口服务和管理的实施意见\n",
    ),
    "dongguan-2012-rkfw": (
        "\n关于加强人口服务和管理的实施意见\n",
        "\n关于加强社会工作人才队伍建设的实施意见\n",
    ),
    "dongguan-2012-sgrc": (
        "\n关于加强社会工作人才队伍建设的实施意见\n",
        "\n关于加强社会建设信息化工作的实施意见\n",
    ),
    "dongguan-2012-xxh": (
        "\n关于加强社会建设信息化工作的实施意见\n",
        "\n关于加强城市社区居民委员会规范化建设的实施意见\n",
    ),
    "dongguan-2012-csjwh": (
        "\n关于加强城市社区居民委员会规范化建设的实施意见\n",
        "\n关于加强和改进村民委员会建设的实施意见\n",
    ),
    "dongguan-2012-cwh": (
        "\n关于加强和改进村民委员会建设的实施意见\n",
        "\n中共东莞市委办公室\n2012年 6月 12日",
    ),
    "xiamen-2021-sg": ("\n社会治理现代化实施方案 篇4\n", None),
    # The report's proposals (part 四); part 一 only describes the state of affairs.
    "yantian-2010-shjs": ("四、推进社会建设和管理创新的主要举措", None),
}

FOUR_CITIES = {"442000", "441900", "440300", "350200"}
COMPARATORS = {">=", ">", "<=", "<", "="}
KINDS = {"value", "ratio", "coverage", "growth", "milestone"}
COVERAGE_LEVELS = {"district", "town", "community", "grid"}
ELEMENT_LEVELS = {"city", "district", "town", "community"}
VALUE_TYPES = {"number", "integer", "boolean", "percent"}
PERIOD_TYPES = {"year", "quarter", "month"}
AGGREGATIONS = {"sum", "average", "weighted_average", "none"}
TEMPORALS = {"sum", "last"}
ORG_LEVELS = {"province", "city", "district", "town", "subdistrict", "community", "village", "grid"}

PLAN_KEYS = {
    "code", "city", "title_zh", "title_en", "document_number", "issuer_zh", "issuer_en",
    "issued_on", "source", "horizon", "kind",
}  # fmt: skip
INDICATOR_KEYS = {
    "code", "name_zh", "name_en", "kind", "element", "numerator", "denominator", "factor",
    "level", "condition", "of", "mode", "from", "unit", "comparator", "target", "deadline",
    "baseline", "quote", "note", "method", "limit", "same_as", "group",
}  # fmt: skip
ELEMENT_KEYS = {
    "code", "name_zh", "name_en", "unit", "value_type", "period_type", "aggregation", "weight",
    "temporal", "level", "not_above",
}  # fmt: skip
# What makes two indicators compute the same figure against the same target.
SAME_AS_KEYS = (
    "kind", "element", "numerator", "denominator", "factor", "level", "group", "condition", "of",
    "mode", "from", "comparator", "target", "deadline",
)  # fmt: skip
INDICATOR_CODE_RE = re.compile(r"^(zs|dg|xm|yt|lx)(\.[a-z0-9_]+){2,}$")
ELEMENT_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


PLAN_FILES = sorted(p for p in CATALOG.glob("*.yaml") if p != ELEMENTS_FILE)
PLANS = {path.name: _load(path) for path in PLAN_FILES}
ELEMENTS = {e["code"]: e for e in _load(ELEMENTS_FILE)["data_elements"]}


def _indicators(document: dict):
    for goal in document.get("goals") or []:
        yield from goal.get("indicators") or []


ALL_INDICATORS = [
    (name, doc["plan"]["code"], ind) for name, doc in PLANS.items() for ind in _indicators(doc)
]
INDICATORS_BY_CODE = {ind["code"]: (name, ind) for name, _plan, ind in ALL_INDICATORS}


def _seed_dir() -> Path | None:
    return next((d for d in SEED_DIRS if d.is_dir()), None)


def _plan_text(document: dict) -> str:
    """The part of the plan's source file that holds this plan's own text."""
    text = (SOURCES / document["plan"]["source"]).read_text(encoding="utf-8")
    part = PLAN_PARTS.get(document["plan"]["code"])
    if part is None:
        return text
    start_marker, end_marker = part
    assert text.count(start_marker) == 1, f"start marker {start_marker!r} is not unique"
    start = text.index(start_marker)
    if end_marker is None:
        return text[start:]
    assert text.count(end_marker) == 1, f"end marker {end_marker!r} is not unique"
    end = text.index(end_marker)
    assert start < end
    return text[start:end]


def _element_refs(ind: dict) -> list[str]:
    refs = [ind.get(key) for key in ("element", "numerator", "denominator")]
    condition = ind.get("condition") or {}
    refs += [condition.get(key) for key in ("element", "numerator", "denominator")]
    of = ind.get("of")
    if isinstance(of, str):
        refs.append(of)
    elif isinstance(of, dict):
        refs += [of.get("numerator"), of.get("denominator")]
    return [r for r in refs if r]


def _deadline(document: dict, ind: dict) -> date:
    return ind.get("deadline") or document["plan"]["horizon"]


# --- sources -----------------------------------------------------------------------------------


def test_catalog_holds_every_recorded_plan_and_no_other():
    assert sorted(d["plan"]["code"] for d in PLANS.values()) == sorted(MIN_INDICATORS)


def test_each_plan_file_is_named_after_its_plan_code():
    for name, document in PLANS.items():
        assert name == f"{document['plan']['code']}.yaml"


def test_every_plan_source_is_copied_into_the_repository():
    for document in PLANS.values():
        assert (SOURCES / document["plan"]["source"]).is_file(), document["plan"]["source"]


@pytest.mark.skipif(_seed_dir() is None, reason="the shared seed documents are not mounted")
def test_source_copies_are_byte_for_byte_the_seed_documents():
    seeds = _seed_dir()
    originals = sorted(p.name for p in seeds.glob("*.txt"))
    assert sorted(p.name for p in SOURCES.glob("*.txt")) == originals
    for name in originals:
        assert (SOURCES / name).read_bytes() == (seeds / name).read_bytes(), name


@pytest.mark.parametrize(
    ("plan_file", "indicator"),
    [(name, ind) for name, _plan, ind in ALL_INDICATORS],
    ids=[ind["code"] for _name, _plan, ind in ALL_INDICATORS],
)
def test_quote_is_verbatim_in_its_plans_part_of_the_source(plan_file, indicator):
    quote = indicator["quote"]
    assert isinstance(quote, str) and len(quote) >= 4
    assert quote == quote.strip(), "a quote carries no padding"
    assert quote in _plan_text(PLANS[plan_file]), f"not verbatim in the source: {quote}"


def test_a_changed_quote_is_not_found_in_the_source():
    """Guards the guard: a normalised space, a full-width comma or another digit breaks the match."""
    document = PLANS["dongguan-2012-14.yaml"]
    code = "dg.education.avg_years_25plus"
    quote = next(i["quote"] for i in _indicators(document) if i["code"] == code)
    text = _plan_text(document)
    assert quote == "到 2015年,25周岁以上人口平均受教育年限不低于 12年"
    assert quote in text
    assert quote.replace(" ", "") not in text
    assert quote.replace(",", "，") not in text
    assert quote.replace("12年", "13年") not in text


# --- elements ----------------------------------------------------------------------------------


def test_elements_file_is_a_vocabulary_only():
    document = _load(ELEMENTS_FILE)
    assert set(document) == {"data_elements"}
    codes = [e["code"] for e in document["data_elements"]]
    assert len(codes) == len(set(codes)), "an element is declared twice"


def test_plan_files_declare_no_elements_of_their_own():
    for name, document in PLANS.items():
        assert "data_elements" not in document, name


@pytest.mark.parametrize("code", sorted(ELEMENTS))
def test_element_is_well_formed(code):
    e = ELEMENTS[code]
    assert ELEMENT_CODE_RE.match(code)
    assert set(e) <= ELEMENT_KEYS, set(e) - ELEMENT_KEYS
    for key in ("name_zh", "name_en", "unit"):
        assert isinstance(e.get(key), str) and e[key].strip(), key
    assert e["value_type"] in VALUE_TYPES
    assert e["period_type"] in PERIOD_TYPES
    assert e["aggregation"] in AGGREGATIONS
    assert e["temporal"] in TEMPORALS
    assert e["level"] in ELEMENT_LEVELS
    if e["aggregation"] == "weighted_average":
        assert e.get("weight") in ELEMENTS, "a weighted average names its weight element"
    else:
        assert "weight" not in e
    if "not_above" in e:
        assert e["not_above"] in ELEMENTS and e["not_above"] != code
        assert ELEMENTS[e["not_above"]]["unit"] == e["unit"], "a part and its whole share a unit"
    if e["value_type"] == "boolean":
        assert (e["aggregation"], e["temporal"]) == ("none", "last")


def test_every_element_is_used():
    used = {ref for _n, _p, ind in ALL_INDICATORS for ref in _element_refs(ind)}
    used |= {e[k] for e in ELEMENTS.values() for k in ("weight", "not_above") if k in e}
    assert set(ELEMENTS) - used == set()


# --- indicators --------------------------------------------------------------------------------


def test_indicator_codes_are_unique_across_the_catalog():
    codes = [ind["code"] for _n, _p, ind in ALL_INDICATORS]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    assert duplicates == []


def test_indicator_codes_are_lower_case_dotted_with_a_city_prefix():
    prefixes = {
        "zhongshan": "zs",
        "dongguan": "dg",
        "xiamen": "xm",
        "yantian": "yt",
        "langxia": "lx",
    }
    for _name, plan_code, ind in ALL_INDICATORS:
        assert INDICATOR_CODE_RE.match(ind["code"]), ind["code"]
        assert ind["code"].split(".")[0] == prefixes[plan_code.split("-")[0]], ind["code"]


def test_indicators_reference_only_declared_elements():
    unknown = {
        (ind["code"], ref)
        for _n, _p, ind in ALL_INDICATORS
        for ref in _element_refs(ind)
        if ref not in ELEMENTS
    }
    assert unknown == set()


@pytest.mark.parametrize("plan_code", sorted(MIN_INDICATORS))
def test_plan_keeps_at_least_its_recorded_number_of_indicators(plan_code):
    document = PLANS[f"{plan_code}.yaml"]
    assert len(list(_indicators(document))) >= MIN_INDICATORS[plan_code]


def test_same_as_links_to_the_first_statement_of_the_same_target():
    links = [(name, ind) for name, _p, ind in ALL_INDICATORS if "same_as" in ind]
    assert links, "the Dongguan supporting documents repeat targets of the main document"
    for name, ind in links:
        target_code = ind["same_as"]
        assert target_code in INDICATORS_BY_CODE, f"{ind['code']}: unknown {target_code}"
        target_file, target = INDICATORS_BY_CODE[target_code]
        assert target_code != ind["code"]
        assert "same_as" not in target, f"{target_code} is itself a repeat: link to the first"
        # Plans load in file-name order, so the first statement must already be loaded.
        assert target_file < name, f"{ind['code']}: {target_file} loads after {name}"
        for key in SAME_AS_KEYS:
            assert ind.get(key) == target.get(key), f"{ind['code']} differs on {key}"


def test_a_share_never_exceeds_its_whole():
    """A ratio capped at 100 % counts a part of its denominator: the part's element says so
    with `not_above`, so the portal rejects a numerator above its denominator on entry."""
    for _name, _plan, ind in ALL_INDICATORS:
        if ind["kind"] == "ratio" and ind.get("limit") == 100:
            assert ind["factor"] == 100, ind["code"]
            assert ELEMENTS[ind["numerator"]].get("not_above") == ind["denominator"], ind["code"]


# --- plan and indicator structure ----------------------------------------------------------------


def _known_city_codes() -> set[str]:
    codes = set(FOUR_CITIES)
    for path in REFERENCE_DIVISIONS:
        if path.is_file():
            reference = json.loads(path.read_text(encoding="utf-8"))
            for city in reference["cities"]:
                codes.add(city["code"])
                codes |= {d["code"] for d in city["divisions"]}
            break
    else:
        codes.add("440308")  # 盐田区, as in the reference divisions
    with EXTRA_UNITS_FILE.open(encoding="utf-8", newline="") as fh:
        codes |= {row["code"] for row in csv.DictReader(fh)}
    return codes


@pytest.mark.parametrize("plan_file", sorted(PLANS))
def test_plan_block_is_complete(plan_file):
    plan = PLANS[plan_file]["plan"]
    assert set(plan) <= PLAN_KEYS, set(plan) - PLAN_KEYS
    for key in ("code", "city", "title_zh", "title_en", "issuer_zh", "issuer_en", "source"):
        assert isinstance(plan.get(key), str) and plan[key].strip(), key
    assert plan["city"] in _known_city_codes()
    assert isinstance(plan["horizon"], date)
    if "issued_on" in plan:
        assert isinstance(plan["issued_on"], date)
        assert plan["issued_on"] < plan["horizon"]


@pytest.mark.parametrize("plan_file", sorted(PLANS))
def test_goals_are_numbered_clauses_with_titles(plan_file):
    goals = PLANS[plan_file]["goals"]
    codes = [g["code"] for g in goals]
    assert goals and len(codes) == len(set(codes))
    for goal in goals:
        assert set(goal) <= {
            "code",
            "title_zh",
            "title_en",
            "indicators",
            "lead",
            "support",
            "lead_note",
        }
        assert isinstance(goal["code"], str) and goal["code"], "goal codes are strings"
        assert goal["title_zh"] and goal["title_en"]
        assert goal["indicators"], f"goal {goal['code']} has no indicator"


def _check_condition(ind: dict) -> None:
    condition = ind["condition"]
    assert condition["comparator"] in COMPARATORS
    assert isinstance(condition["value"], int | float)
    if "element" in condition:
        assert set(condition) == {"element", "comparator", "value"}
        element = ELEMENTS[condition["element"]]
        if element["value_type"] == "boolean":
            assert (condition["comparator"], condition["value"]) == ("=", 1)
    else:
        assert set(condition) == {"numerator", "denominator", "factor", "comparator", "value"}
        assert condition["factor"] > 0


def _numeric(code: str) -> bool:
    return ELEMENTS[code]["value_type"] != "boolean"


@pytest.mark.parametrize(
    ("plan_file", "indicator"),
    [(name, ind) for name, _plan, ind in ALL_INDICATORS],
    ids=[ind["code"] for _name, _plan, ind in ALL_INDICATORS],
)
def test_indicator_has_the_fields_its_kind_needs(plan_file, indicator):
    ind = indicator
    document = PLANS[plan_file]
    assert set(ind) <= INDICATOR_KEYS, set(ind) - INDICATOR_KEYS
    for key in ("name_zh", "name_en", "quote"):
        assert isinstance(ind.get(key), str) and ind[key].strip(), key
    assert isinstance(ind.get("unit"), str)
    assert ind["kind"] in KINDS
    assert ind["comparator"] in COMPARATORS
    assert isinstance(ind["target"], int | float) and not isinstance(ind["target"], bool)
    deadline = _deadline(document, ind)
    assert isinstance(deadline, date)
    issued_on = document["plan"].get("issued_on")
    assert issued_on is None or deadline >= issued_on
    kind = ind["kind"]
    if kind == "value":
        assert ind["element"] and _numeric(ind["element"])
        assert not {"numerator", "denominator", "condition", "of"} & set(ind)
    elif kind == "ratio":
        assert _numeric(ind["numerator"]) and _numeric(ind["denominator"])
        assert ind["numerator"] != ind["denominator"]
        assert ind["factor"] > 0
    elif kind == "coverage":
        assert ind["level"] in COVERAGE_LEVELS
        _check_condition(ind)
        assert ind["unit"] == "%" and 0 < ind["target"] <= 100
    elif kind == "growth":
        assert ind["mode"] in {"percent", "points"}
        assert isinstance(ind["from"], str) and re.fullmatch(r"\d{4}", ind["from"])
        assert int(ind["from"]) < deadline.year
        of = ind["of"]
        if isinstance(of, dict):
            assert set(of) == {"numerator", "denominator", "factor"} and of["factor"] > 0
        else:
            assert _numeric(of)
    elif kind == "milestone":
        assert ELEMENTS[ind["element"]]["value_type"] == "boolean"
        assert (ind["comparator"], ind["target"]) == ("=", 1)
        assert "deadline" in ind, "a milestone names its own date"
    if "baseline" in ind:
        baseline = ind["baseline"]
        assert set(baseline) == {"value", "period"}
        assert isinstance(baseline["period"], str) and int(baseline["period"][:4]) < deadline.year
    if "limit" in ind:
        assert ind["limit"] > 0 and ind["target"] <= ind["limit"]


def test_undated_indicators_say_so_or_use_the_horizon():
    """An indicator with no date of its own either omits `deadline` or explains it in `note`."""
    for name, _plan, ind in ALL_INDICATORS:
        horizon = PLANS[name]["plan"]["horizon"]
        if ind.get("deadline") == horizon and "same_as" not in ind:
            quote = ind["quote"]
            dated = re.search(r"20\d\d|十[二三四]五|年底|年内|每年|[0-9]+月", quote)
            assert dated or ind.get("note"), f"{ind['code']}: undated target without a note"


# --- the extra org units -------------------------------------------------------------------------


def test_extra_org_units_form_a_chain_to_langxia():
    with EXTRA_UNITS_FILE.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["code", "name_zh", "name_en", "level", "parent_code"]
        rows = {row["code"]: row for row in reader}
    for row in rows.values():
        assert row["level"] in ORG_LEVELS
        assert row["name_zh"] and row["name_en"]
        # "CN" is the national root that seed_catalog creates before this file is loaded.
        assert row["parent_code"] in ("", "CN") or row["parent_code"] in rows
    langxia = PLANS["langxia-2013-xgy.yaml"]["plan"]["city"]
    chain = []
    code = langxia
    while code and code != "CN":
        chain.append(rows[code]["name_zh"])
        code = rows[code]["parent_code"]
    assert chain == ["廊下镇", "金山区", "上海市"]


# --- the right population (issue 13) ---------------------------------------------------------

GROUPS = {"urban_community", "rural_village", "town", "subdistrict", "zone"}
# Targets the documents set for urban communities (社区居委会, 城市社区) or for villages
# (行政村, 村委会, 农村社区) only: measured over the units of that group, not over both.
URBAN_ONLY = {
    "dg.community.service_centre_all", "dg.community.service_website",
    "dg.community.purchased_service_project", "dg.community.service_day_event",
    "dg.community.annual_appraisal", "dg.communities.urban_min3_registered_sw",
    "dg.volunteers.urban_registered_share_2013", "dg.volunteers.urban_active_share_2013",
    "dg.community_workers.trained_share", "dg.csjwh.service_centre_share",
    "dg.csjwh.openness_model_share", "dg.community.monthly_publication",
    "dg.community.platform_sync",
}  # fmt: skip
RURAL_ONLY = {
    "dg.villages.public_service_station", "dg.villages.outdoor_square_or_park",
    "dg.communities.rural_min1_registered_sw", "dg.volunteers.rural_registered_share",
    "dg.volunteers.rural_active_share", "dg.cwh.rural_workers_trained_share",
    "dg.cwh.service_centre_share", "dg.cwh.openness_model_share", "dg.cwh.platform_sync",
    "dg.cwh.monthly_publication",
}  # fmt: skip


def _indicator(code: str) -> dict:
    return next(ind for _name, _plan, ind in ALL_INDICATORS if ind["code"] == code)


def test_urban_and_rural_targets_are_restricted_to_their_group():
    for code in URBAN_ONLY:
        assert _indicator(code).get("group") == "urban_community", code
    for code in RURAL_ONLY:
        assert _indicator(code).get("group") == "rural_village", code
    # Rural centres are built by the towns, which hold the villages.
    assert _indicator("dg.towns.rural_centre_buildout").get("group") == "town"
    # A share of urban communities (or of villages) is not the combined target restated.
    for code in ("dg.csjwh.service_centre_share", "dg.cwh.service_centre_share",
                 "dg.csjwh.openness_model_share", "dg.cwh.openness_model_share",
                 "dg.cwh.rural_workers_trained_share"):  # fmt: skip
        assert "same_as" not in _indicator(code), code


def test_a_group_is_known_and_restricts_only_a_coverage_or_a_ratio():
    for _name, _plan, ind in ALL_INDICATORS:
        if "group" in ind:
            assert ind["group"] in GROUPS, ind["code"]
            assert ind["kind"] in ("coverage", "ratio"), ind["code"]


def test_every_plan_says_what_kind_of_document_it_is():
    kinds = {d["plan"]["code"]: d["plan"].get("kind", "policy") for d in PLANS.values()}
    assert set(kinds.values()) <= {"policy", "implementation", "work_plan", "report", "proposal"}
    # The seed README: the Yantian text is a research report of proposals.
    assert kinds["yantian-2010-shjs"] in ("report", "proposal")
    assert kinds["dongguan-2012-14"] == "policy"


def test_zhongshan_clause_3_targets_run_to_the_far_end_of_5_to_10_years():
    for code in ("zs.income.annual_growth", "zs.health.life_expectancy"):
        ind = _indicator(code)
        assert ind["deadline"] == date(2024, 6, 12), code
        assert "5—10" in ind["note"] and "no date in the text" not in ind["note"].lower()


def test_one_stop_share_counts_the_items_the_sentence_names():
    ind = _indicator("zs.services.one_stop_share")
    assert ind["denominator"] == "services.approval_trading_procurement_items"
    assert ELEMENTS[ind["numerator"]]["not_above"] == ind["denominator"]
    assert "行政审批、公共资源交易、政府采购等事项" in ELEMENTS[ind["denominator"]]["name_zh"]


def test_the_supervisors_are_due_within_three_years_like_their_neighbours():
    due = {_indicator(c)["deadline"] for c in (
        "dg.social_workers.supervisors", "dg.social_work.admin_cadres_sent",
        "dg.institutions.heads_trained_share",
    )}  # fmt: skip
    assert due == {date(2015, 6, 12)}
