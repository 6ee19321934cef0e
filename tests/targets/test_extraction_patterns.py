"""The extractor's patterns, each on a sentence written the way the plans write them. Pure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets.extraction import extract
from targets.extraction.numbers import read_number
from targets.extraction.structure import split_clauses, split_sentences

ISSUED = date(2012, 6, 12)


def one(sentence: str, **kwargs):
    """The single candidate of ``sentence``; its span must point at the sentence's own text."""
    result = extract(sentence, issued=kwargs.pop("issued", ISSUED), **kwargs)
    assert len(result.candidates) == 1, [
        (c.rule, c.target, sentence[c.start : c.end]) for c in result.candidates
    ]
    c = result.candidates[0]
    assert 0 <= c.start < c.end <= len(sentence)
    return c


def quote(sentence: str, c) -> str:
    return sentence[c.start : c.end]


# --- comparators ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "comparator", "target"),
    [
        ("到2015年,全市村(居)务公开民主管理示范建设达标率达到80%。", ">=", 80),
        ("到2015年,25周岁以上人口平均受教育年限不低于12年。", ">=", 12),
        ("到2015年,每个社区社会组织不少于5个。", ">=", 100),  # each community: a coverage
        ("到2015年,全市社会组织总数不少于5000个。", ">=", 5000),
        ("力争到2015年全市注册志愿者占常住人口的12%以上。", ">=", 12),
        ("到2015年,全市社区服务中心超过200个。", ">", 200),
        ("到2015年,全市刑事案件发案率控制在5%以内。", "<=", 5),
        ("到2015年,城镇登记失业率控制在3.5%。", "<=", Decimal("3.5")),
        ("到2015年,城镇登记失业率不高于3.5%。", "<=", Decimal("3.5")),
        ("到2015年,城镇登记失业率低于4%。", "<", 4),
        ("到2015年,社区工作者年龄在45岁以下。", "<=", 45),
    ],
)
def test_comparators(sentence, comparator, target):
    c = one(sentence)
    assert (c.comparator, c.target) == (comparator, Decimal(target))
    assert c.deadline == date(2015, 12, 31)


def test_full_coverage_reads_as_every_one():
    sentence = "实现基本养老保险、住院和门诊基本医疗保险全覆盖。"
    c = one(sentence, horizon=date(2015, 12, 31))
    assert (c.kind, c.comparator, c.target, c.unit) == ("ratio", ">=", 100, "%")
    assert c.rule == "coverage.full"
    assert quote(sentence, c) == "实现基本养老保险、住院和门诊基本医疗保险全覆盖"


def test_full_coverage_of_communities_is_a_coverage():
    c = one("到2015年,实现城乡社区综合服务设施全覆盖。")
    assert (c.kind, c.level, c.target) == ("coverage", "community", 100)


def test_a_direction_towards_full_coverage_is_not_a_target():
    assert extract("推动流动人口居住证全覆盖。", issued=ISSUED).candidates == []


# --- numbers in every written form ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "value", "percent"),
    [
        ("12%", Decimal(12), False),
        ("百分之八十", Decimal(80), True),
        ("百分之十五", Decimal(15), True),
        ("三分之一", Decimal("33.33"), True),
        ("一半", Decimal(50), True),
        ("十二", Decimal(12), False),
        ("两", Decimal(2), False),
        ("1.5万", Decimal(15000), False),
        ("５０", Decimal(50), False),
        ("78.6", Decimal("78.6"), False),
    ],
)
def test_numbers_in_every_written_form(written, value, percent):
    number = read_number(written + "名")
    assert number.value == value
    assert number.percent is percent


@pytest.mark.parametrize(
    ("sentence", "target", "unit"),
    [
        ("到2015年,城市社区服务设施覆盖率达到百分之八十。", 80, "%"),
        (
            "到2025年,专职工作人员应有三分之一以上取得社会工作者职业水平证书。",
            Decimal("33.33"),
            "%",
        ),
        ("到2020年,全市养老床位不少于1.5万张。", 15000, "张"),
        ("到2015年,社区工作者培训合格率不低于９５%。", 95, "%"),
        ("到2015年,每个社区至少配备十二名专职人员。", 100, "%"),
    ],
)
def test_numbers_in_sentences(sentence, target, unit):
    c = one(sentence)
    assert (c.target, c.unit) == (Decimal(target), unit)


def test_a_chinese_numeral_without_a_measure_word_is_no_target():
    assert extract("到2015年,社会工作水平达到一流。", issued=ISSUED).candidates == []


# --- units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "unit", "kind"),
    [
        ("到2015年,全市参训人数达到10000人。", "人", "value"),
        ("到2015年,培养100名优秀社会工作督导人才。", "名", "value"),
        ("到2025年,品牌社会工作服务机构达到100家。", "家", "value"),
        ("到2015年,建立10个社会工作专业重点实训基地。", "个", "value"),
        ("到2015年,全市养老床位达到2万张。", "张", "value"),
        ("到2015年,人均公园绿地面积达13平方米。", "平方米/人", "ratio"),
        ("到2015年,居民平均预期寿命达到78.6岁。", "岁", "value"),
        ("到2015年,25周岁以上人口平均受教育年限不低于12年。", "年", "value"),
        ("到2015年,社会建设支出比重提高到2个百分点。", "个百分点", "value"),
        ("到2015年,行政许可事项网上办理率达到90%。", "%", "ratio"),
    ],
)
def test_units(sentence, unit, kind):
    c = one(sentence)
    assert (c.unit, c.kind) == (unit, kind)


def test_yearly_minimum_hours_are_a_share_of_people_meeting_it():
    sentence = "确保社会工作从业人员每年接受继续教育不少于80学时。"
    c = one(sentence, horizon=date(2025, 12, 31))
    assert (c.kind, c.target, c.unit, c.recurring) == ("ratio", 100, "%", True)
    assert c.condition["value"] == 80 and c.condition["unit"] == "学时"


@pytest.mark.parametrize(
    ("sentence", "unit", "factor", "denominator", "target"),
    [
        ("到2015年,每万人中有5名社工。", "名/万人", 10000, "population.resident", 5),
        ("到2020年,基本实现每万名居民有3名以上合格的全科医生。", "名/万人", 10000,
         "population.resident", 3),
        ("“十二五”期末,每千名老人拥有养老床位不少于30张。", "张/千名老人", 1000,
         "elderly.population", 30),
        ("到2015年,社区服务设施面积每百户不少于20平方米。", "平方米/百户", 100,
         "households.resident", 20),
    ],
)  # fmt: skip
def test_per_capita_forms(sentence, unit, factor, denominator, target):
    c = one(sentence)
    assert (c.kind, c.unit, c.factor, c.target) == ("ratio", unit, factor, target)
    assert c.refs["denominator"]["code"] == denominator


# --- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "deadline", "rule"),
    [
        ("到2015年,全市注册志愿者占常住人口的12%以上。", date(2015, 12, 31), "date.year"),
        ("到 2015年,全市注册志愿者占常住人口的12%以上。", date(2015, 12, 31), "date.year"),
        ("2013年底前,全市注册志愿者占常住人口的10%以上。", date(2013, 12, 31), "date.year"),
        ("“十二五”期末,全市注册志愿者占常住人口的15%以上。", date(2015, 12, 31),
         "date.five_year_plan"),
        ("十三五期间,全市注册志愿者占常住人口的15%以上。", date(2020, 12, 31),
         "date.five_year_plan"),
        ("到“十四五”末,全市社会工作专业人才达到12000人。", date(2025, 12, 31),
         "date.five_year_plan"),
        ("3年内,全市社区服务中心超过200个。", date(2015, 6, 12), "date.within_years"),
        ("力争三年内全市社区服务中心超过200个。", date(2015, 6, 12), "date.within_years"),
        ("2013年9月30日前,全市社区服务中心超过200个。", date(2013, 9, 30), "date.day"),
    ],
)  # fmt: skip
def test_deadlines(sentence, deadline, rule):
    c = one(sentence)
    assert (c.deadline, c.deadline_rule) == (deadline, rule)
    s, e = c.deadline_span
    assert sentence[s:e].strip() in quote(sentence, c)


def test_every_year_is_a_recurring_yearly_target():
    c = one("每年培养20名具有较高实践和指导能力的专业社会工作督导者。", horizon=date(2025, 12, 31))
    assert (c.target, c.unit, c.recurring) == (20, "名", True)
    assert c.deadline == date(2025, 12, 31) and c.deadline_rule == "horizon"


def test_an_undated_target_takes_the_horizon_and_says_so():
    c = one("居民平均预期寿命达到78.6岁。", horizon=date(2015, 12, 31))
    assert (c.deadline, c.deadline_rule) == (date(2015, 12, 31), "horizon")
    assert any("horizon" in note for note in c.notes)


def test_without_a_horizon_the_most_named_deadline_is_the_horizon():
    text = "到2015年,行政许可事项网上办理率达到90%。\n居民平均预期寿命达到78.6岁。"
    result = extract(text, issued=ISSUED)
    assert result.horizon == date(2015, 12, 31)
    assert [c.deadline for c in result.candidates] == [date(2015, 12, 31)] * 2


def test_a_deadline_holds_for_later_sentences_of_its_clause():
    text = "11.加快发展社会事业。到2015年,普及学前教育。行政许可事项网上办理率达到90%。"
    c = one(text, horizon=date(2016, 12, 31))
    assert (c.deadline, c.deadline_rule) == (date(2015, 12, 31), "date.earlier_in_clause")


# --- the set of units a target covers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "level", "group"),
    [
        ("力争到2015年全市50%以上的社区都建有社区综合服务中心。", "community", ""),
        ("到2015年,每个社区都建立1个社区综合服务中心。", "community", ""),
        ("2012年底,所有行政村都要建立公共服务站。", "community", "rural_village"),
        ("到2015年,每个城市社区至少配备3名登记在册的社会工作人才。", "community",
         "urban_community"),
        ("到2015年,每个农村社区至少配备1名登记在册的社会工作人才。", "community",
         "rural_village"),
        ("2012年底,全市所有镇(街道)都要建立社区政务服务中心。", "town", ""),
    ],
)  # fmt: skip
def test_the_set_of_units(sentence, level, group):
    c = one(sentence)
    assert (c.kind, c.level, c.group, c.target, c.unit) == ("coverage", level, group, 100, "%") or (
        c.kind,
        c.level,
        c.target,
    ) == ("coverage", level, 50)


def test_a_city_wide_figure_is_not_a_coverage():
    c = one("到2015年,全市社会工作专业人才达到12000人。")
    assert (c.kind, c.level) == ("value", "")


def test_each_unit_condition_keeps_the_figure():
    c = one("到2015年,每个城市社区至少配备3名登记在册的社会工作人才。")
    assert c.condition["comparator"] == ">=" and c.condition["value"] == 3
    assert c.refs["condition"]["element"]["code"] == "social_workers.registered"


# --- growth ----------------------------------------------------------------------------------


def test_average_annual_growth_in_percent():
    c = one("城乡居民收入年均增长8%以上。", horizon=date(2015, 12, 31))
    assert (c.kind, c.growth_mode, c.comparator, c.target, c.unit) == (
        "growth", "percent", ">=", 8, "%")  # fmt: skip
    assert c.refs["of"]["code"] == "income.per_capita_disposable"


def test_yearly_increase_in_points():
    sentence = "确保“十二五”时期市、镇两级财政对社会建设支出的比重逐年递增2个百分点。"
    c = one(sentence)
    assert (c.kind, c.growth_mode, c.target, c.unit) == ("growth", "points", 2, "个百分点/年")
    assert c.deadline == date(2015, 12, 31)


def test_each_year_raised_by_points():
    c = one("到2015年,社会救助标准每年提高2个百分点。")
    assert (c.kind, c.growth_mode, c.target) == ("growth", "points", 2)


# --- dated tasks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "deadline"),
    [
        ("2012年制定出台政府向社会组织放权和购买服务目录。", date(2012, 12, 31)),
        ("2013年底前建立社区服务质量评估制度。", date(2013, 12, 31)),
        ("到“十二五”期末,完善以免费服务为基础的基本公共就业和人才服务平台。", date(2015, 12, 31)),
        ("力争3年内完成全市社区居委会换届选举工作。", None),
    ],
)
def test_dated_tasks_are_milestones(sentence, deadline):
    result = extract(sentence, issued=ISSUED)
    if deadline is None:  # 3年内 then a task: counted from the issue date
        deadline = date(2015, 6, 12)
    milestones = [c for c in result.candidates if c.kind == "milestone"]
    if sentence.startswith("力争3年内"):
        assert milestones == []  # a span of years alone does not make a dated task
        return
    assert len(milestones) == 1
    c = milestones[0]
    assert (c.comparator, c.target, c.deadline) == ("=", 1, deadline)
    assert c.refs["element"]["code"].startswith(("gov.", "employment.", "draft."))


def test_a_timeline_step_is_a_milestone_due_at_its_end():
    text = "10月16日—31日:召开相关单位负责人会议,确定机构设置及人员配备方案,报上级相关部门。"
    c = one(text, issued=date(2013, 9, 1))
    assert (c.kind, c.deadline) == ("milestone", date(2013, 10, 31))
    assert c.refs["element"]["code"] == "coordinators.m3_structure_reported"


def test_undated_tasks_are_not_milestones():
    assert extract("积极推进社区建设,建立健全社区服务体系。", issued=ISSUED).candidates == []


# --- nothing invented --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "目前全市已有社会组织3200个。",  # the state of affairs, not a target
        "《中共中央、国务院关于加强和创新社会管理的意见》(中发〔2011〕11号)。",
        "加强对在职员工100人以上的非公有制经济组织的指导。",  # a qualifier
        "申请续签服务合同(期限最长不超过3年)。",
    ],
)
def test_sentences_without_targets_give_nothing(sentence):
    assert extract(sentence, issued=ISSUED).candidates == []


def test_every_candidate_carries_span_clause_rule_and_confidence():
    text = (
        "三、着力保障改善民生\n"
        "11.加快发展社会事业。到 2015年,25周岁以上人口平均受教育年限不低于 12年,"
        "人均公园绿地面积达 13平方米。\n"
    )
    result = extract(text, issued=date(2012, 5, 28))
    assert [quote(text, c) for c in result.candidates] == [
        "到 2015年,25周岁以上人口平均受教育年限不低于 12年",
        "人均公园绿地面积达 13平方米",
    ]
    for c in result.candidates:
        assert c.clause.path == "3/11" and c.clause.title == "加快发展社会事业"
        assert c.rule and 0 < c.confidence < 1
        s, e = c.number_span
        assert text[s:e].strip() in ("12", "13")
    assert result.candidates[0].refs["element"]["code"] == "education.avg_years_25plus"


def test_an_unknown_figure_gets_a_proposed_element():
    c = one("到2015年,社区心理咨询室达到300个。")
    ref = c.refs["element"]
    assert ref["known"] is False and ref["code"].startswith("draft.")
    assert "心理咨询室" in ref["name_zh"]


# --- structure --------------------------------------------------------------------------------


def test_numbered_structure_and_sentences():
    text = (
        "一、总体要求\n"
        "(一)指导思想。坚持以人为本。\n"
        "1.目标。到2015年,达到80%。\n"
        "（1）社区建设;推进社区自治。\n"
        "第三条 本办法自发布之日起施行。\n"
    )
    clauses = split_clauses(text)
    assert [(c.path, c.title, c.rule) for c in clauses] == [
        ("1", "总体要求", "heading.cn_comma"),
        ("1/1", "指导思想", "heading.cn_paren"),
        ("1/1/1", "目标", "heading.arabic_dot"),
        ("1/1/1/1", "社区建设", "heading.arabic_paren"),
        ("3", "本办法自发布之日起施行", "heading.article"),
    ]
    assert clauses[0].end == clauses[4].start
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert "1.目标" in sentences[3] or "1.目标。" not in sentences
    assert "到2015年,达到80%" in sentences
    assert "推进社区自治" in sentences


# --- the catalog's readings of “every one” ------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "rule"),
    [
        ("努力实现在职员工100人以上的非公有制经济组织和30人以上的社会组织建立党组织。",
         "ratio.each_qualified"),
        ("保证其薪酬不低于同等条件专业技术人员平均水平。", "ratio.not_below_benchmark"),
        ("探索建立人大代表挂点联系制度,每年至少两次到挂点联系的社区接访居民。",
         "ratio.each_meets_minimum"),
        ("3年内对公益服务类事业单位负责人轮训一遍。", "coverage.full"),
    ],
)  # fmt: skip
def test_every_one_readings_are_100_percent(sentence, rule):
    c = one(sentence, horizon=date(2015, 12, 31))
    assert (c.comparator, c.target, c.unit, c.rule) == (">=", 100, "%", rule)


def test_three_years_from_issue_for_a_round_of_training():
    c = one("力争3年内对市、镇(街道)所有党政领导干部轮训一遍。")
    assert (c.deadline, c.deadline_rule) == (date(2015, 6, 12), "date.within_years")


def test_merged_into_is_an_exact_count():
    c = one("拟将涉及的8支协管员队伍调整合并成四个工作站。", horizon=date(2013, 12, 31))
    assert (c.comparator, c.target, c.unit) == ("=", 4, "个")


def test_a_second_count_joined_to_the_first():
    text = "全面落实九个国家基本公共卫生服务项目和四个重大公共卫生服务项目。"
    result = extract(text, horizon=date(2015, 12, 31))
    assert [(c.target, c.unit) for c in result.candidates] == [(9, "个"), (4, "个")]
    assert [c.refs["element"]["code"] for c in result.candidates] == [
        "health.basic_ph_projects", "health.major_ph_projects"]  # fmt: skip


def test_headcounts_of_a_list():
    text = "涉及协管员队伍:劳动保障协管员8人,就业援助协管员13人。"
    result = extract(text, horizon=date(2013, 12, 31))
    assert [(c.comparator, c.target, c.rule) for c in result.candidates] == [
        ("=", 8, "value.headcount"), ("=", 13, "value.headcount")]  # fmt: skip
    assert result.candidates[0].refs["element"]["code"] == "coordinators.labour_security"
