"""The patterns that turn a plan's sentences into target candidates.

Each rule is lexical: it reads what the sentence says (a comparator, a number in any written
form, a unit, a deadline, the set of units it applies to) and never adds a figure the text does
not hold. The few readings that are conventions of the catalog are named rules of their own
(``coverage.all`` reads “所有社区都…” as 100 % of communities) so a reviewer sees why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .dates import RECURRING, Deadline
from .numbers import ANY_NUMBER, CN_DIGITS, DIGITS, Number, read_number

_S = r"[ \t\u3000]*"

# Comparator words before a number, longest first so 不低于 wins over 低于.
PRE_COMPARATORS = {
    "不低于": ">=", "不少于": ">=", "不小于": ">=", "不得低于": ">=", "不得少于": ">=",
    "提高到": ">=", "提高至": ">=", "提升到": ">=", "提升至": ">=", "增加到": ">=",
    "增加至": ">=", "增长到": ">=", "扩大到": ">=", "达到": ">=", "达": ">=", "至少": ">=",
    "保持在": ">=", "稳定在": ">=",
    "不超过": "<=", "不高于": "<=", "不大于": "<=", "不得超过": "<=", "控制在": "<=",
    "降低到": "<=", "降低至": "<=", "下降到": "<=", "降至": "<=",
    "超过": ">", "高于": ">", "多于": ">", "低于": "<", "少于": "<",
    "各承担": "=", "分别承担": "=", "各占": "=",
}  # fmt: skip
POST_COMPARATORS = {"及以上": ">=", "以上": ">=", "以下": "<=", "以内": "<=", "之内": "<="}
UNITS = [
    "个百分点", "平方米", "学时", "小时", "人次", "万元", "亿元", "公里", "%", "％", "人", "名",
    "家", "个", "张", "所", "支", "间", "项", "次", "岁", "年", "户", "元", "条", "套", "处",
    "座", "天", "分钟", "床",
]  # fmt: skip
COUNT_UNITS = {
    "人",
    "名",
    "家",
    "个",
    "张",
    "所",
    "支",
    "间",
    "项",
    "次",
    "户",
    "条",
    "套",
    "处",
    "座",
}
_PRE = "|".join(sorted(PRE_COMPARATORS, key=len, reverse=True))
_POST = "|".join(POST_COMPARATORS)
_UNIT = "|".join(UNITS)

ATOM = re.compile(
    rf"(?P<pre>{_PRE})?{_S}(?P<num>{ANY_NUMBER}){_S}(?P<unit>{_UNIT})?{_S}(?P<post>{_POST})?"
)
GROWTH = re.compile(
    rf"(?P<how>年均|每年|逐年|年)(?:{_S}(?:增长|提高|递增|增加|提升|增幅)){{1,2}}(?:幅度)?{_S}"
    rf"(?:达到|达|为)?{_S}(?P<num>{ANY_NUMBER}){_S}(?P<unit>%|％|个百分点){_S}(?P<post>以上)?"
)
PER_CAPITA = re.compile(
    r"每(?P<scale>十万|万|千|百)(?:名|个|位)?(?P<base>常住人口|居民|人口|老年人|老人|人|户|"
    r"城乡社区|社区)"
)
FULL_COVERAGE = re.compile(
    r"全覆盖(?=[,，。；;和)）]|$)|应(?P<v>[\u4e00-\u9fff])尽(?P=v)|(?:实现|做到)[^,，。；;]{0,20}?全部"
    r"|普遍建立|完成[^,，。；;]{0,20}?全面|轮训一遍|各(?:社区居委会|村委会)要在每月"
)
# A direction, not a target: 推动…全覆盖, 在…全覆盖的基础上.
NOT_A_TARGET = re.compile(r"推动|推进|逐步|基础上|的基础")
_UNITS_SET = (
    r"(?:社区|村委会|行政村|村\(居\)|村（居）|村居|镇\(街道\)|镇（街道）|镇街|镇区|镇|街道|网格|村)"
)
# The share of units: 10%的社区, 50%以上的村委会 (the comparator may be left unsaid).
SHARE_OF_UNITS = re.compile(
    rf"(?P<num>{ANY_NUMBER}){_S}(?P<unit>%|％)(?P<post>以上)?的?{_S}(?:城乡|城市|农村)?{_UNITS_SET}"
)
# A count the plan sets out to build: 建立10个…基地, 培养100名…, 每年培养20名….
PLANNED_COUNT = re.compile(
    rf"(?P<pre>至少|不少于)?{_S}(?P<verb>合并成|合并为|调整为|整合为|整合成|"
    rf"新建|建立|建成|建设|培养|培育|选拔输送|输送|搭建|策划|组织|"
    rf"打造|引进|成立|设立|创建|配备|落实){_S}(?P<num>[0-9０-９]+|[{CN_DIGITS}]+){_S}"
    r"(?P<unit>个|名|家|所|支|项|处|座|间|套|人)"
)
# A share of a whole: 人力成本不少于购买服务项目总经费的70%.
SHARE_OF_WHOLE = re.compile(
    rf"(?P<pre>不少于|不低于|不超过|不高于|达到|占){_S}(?P<what>[^,，。；;\d]{{1,20}}?)的{_S}"
    rf"(?P<num>{ANY_NUMBER}){_S}(?P<unit>%|％)(?P<post>以上)?"
)
# A comparator, then the verb, then the figure: 至少配备3名, 不少于建设2个.
PRE_VERB = re.compile(
    rf"(?P<pre>至少|不少于|不低于)(?:要)?(?P<verb>配备|配置|建立|建成|设立|成立|培育|培养|建设|拥有|有|"
    rf"组织|参加|接受){_S}(?P<num>{ANY_NUMBER}){_S}(?P<unit>{'|'.join(UNITS)})"
)
# 每万人中有5名社工: the per-capita form says the comparator by itself.
PER_CAPITA_HAS = re.compile(
    r"每(?:十万|万|千|百)(?:名|个|位)?(?:常住人口|居民|人口|老年人|老人|人|户)中?"
    rf"(?:拥有|有|配备|配置){_S}(?P<num>{ANY_NUMBER}){_S}(?P<unit>名|张|人|个|平方米|家)"
)
UNIT_SETS_UP = re.compile(
    r"(?:各)?(?P<unit>镇区|镇街|镇\(街道\)|镇（街道）|村\(居\)委|村（居）委|村委会|社区居委会|居委会)"
    r"(?:要|均|都)?(?:建立|设立|成立|建有)"
)
QUALIFIED_SET = re.compile(
    rf"[{DIGITS}]+{_S}(?:人|名)以上的[^,，。；;]{{2,40}}?(?:建立|设立|成立|有|配备)(?:党组织|党员|工会)"
)
CHAINED_COUNT = re.compile(
    rf"(?:和|及|、){_S}(?P<num>[0-9０-９]+|[{CN_DIGITS}]+){_S}(?P<unit>个|名|家|所|项)"
)
EXACT_VERBS = {"合并成", "合并为", "调整为", "整合为", "整合成"}
NOT_BELOW_BENCHMARK = re.compile(
    r"(?:不低于|不少于)(?P<what>[^,，。；;\d]{2,30}?(?:平均水平|平均工资|收入))(?:标准)?"
)
HUNDRED = re.compile(r"(?P<num>100|１００)[ \t\u3000]*(?P<unit>%|％)")
NAMED_DELIVERABLE = re.compile(r"(?:基本建成|建成|打造)[“\"](?P<name>[^”\"]{2,24})[”\"]")
UNIVERSAL = re.compile(
    r"(?:所有|每个|每一个|全部|各个|全市所有|全市各|各)(?:城乡|城市|农村)?"
    r"(?P<what>社区|村委会|行政村|村\(居\)|村（居）|村居|镇\(街道\)|镇（街道）|镇街|镇区|镇|街道|网格)"
)
TASK_VERB = re.compile(
    r"(?:制定出台|出台|制定|建立健全|建立|建成|完成|启动|成立|设立|形成|召开|实现|完善|"
    r"印发|组建|制订|退出)"
)
CURRENT_STATE = re.compile(
    r"(?:已经达到|已达到|已达|已有|已建|已经建|目前|现有|现已|共有|截至|截止|全年|同比|比上年)"
)
HEADCOUNT = re.compile(
    rf"(?P<subj>[\u4e00-\u9fff]{{2,10}}(?:协管员|队员|管理员|专干)){_S}"
    rf"(?P<num>[0-9０-９]+){_S}(?P<unit>人|名)"
)

PER_CAPITA_UNITS = {
    ("万", "person"): ("万人", Decimal(10000), "population.resident"),
    ("十万", "person"): ("十万人", Decimal(100000), "population.resident"),
    ("千", "person"): ("千人", Decimal(1000), "population.resident"),
    ("千", "elderly"): ("千名老人", Decimal(1000), "elderly.population"),
    ("万", "elderly"): ("万名老人", Decimal(10000), "elderly.population"),
    ("百", "household"): ("百户", Decimal(100), "households.resident"),
}

LEVEL_WORDS = [
    ("城市社区", "community", "urban_community"),
    ("农村社区", "community", "rural_village"),
    ("行政村", "community", "rural_village"),
    ("村委会", "community", "rural_village"),
    ("村(居)", "community", ""),
    ("村（居）", "community", ""),
    ("村居", "community", ""),
    ("社区", "community", ""),
    ("网格", "grid", ""),
    ("镇(街道)", "town", ""),
    ("镇（街道）", "town", ""),
    ("镇街", "town", ""),
    ("镇区", "town", ""),
    ("街道", "town", "subdistrict"),
    ("镇", "town", "town"),
]
CITY_WORDS = ("全市", "全区", "全县", "全镇", "我市")


@dataclass
class Candidate:
    """One proposed indicator: what the text says, where, and which rule read it."""

    kind: str
    comparator: str
    target: Decimal
    unit: str
    start: int
    end: int
    rule: str
    confidence: float
    deadline: date | None = None
    deadline_rule: str = ""
    deadline_span: tuple[int, int] | None = None
    recurring: bool = False
    number_span: tuple[int, int] | None = None
    number_text: str = ""
    subject: str = ""
    level: str = ""
    group: str = ""
    factor: Decimal | None = None
    denominator_hint: str = ""
    growth_mode: str = ""
    condition: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    clause: Any = None  # the innermost numbered clause holding the candidate
    # Element references, as a plan file writes them: element / numerator / denominator /
    # condition / of, each an existing vocabulary code or one proposed in ``proposed``.
    refs: dict = field(default_factory=dict)
    proposed: list[dict] = field(default_factory=list)


def comparator_of(pre: str | None, post: str | None) -> str | None:
    if post and post in POST_COMPARATORS:
        # 不少于20%以上 reads as >=; 以下/以内 win over an upward verb only when no verb says so.
        if pre and PRE_COMPARATORS.get(pre) in (">", "<", "<="):
            return PRE_COMPARATORS[pre]
        return POST_COMPARATORS[post]
    if pre:
        return PRE_COMPARATORS[pre]
    return None


def level_of(text: str) -> tuple[str, str]:
    text = text.replace("城镇", "").replace("乡镇", "镇")  # 城镇 is urban, not a town
    for word, level, group in LEVEL_WORDS:
        if word in text:
            return level, group
    if any(w in text for w in CITY_WORDS):
        return "city", ""
    return "", ""


def _clean_subject(text: str) -> str:
    text = re.sub(r"^[\s,，、:：]*", "", text)
    text = re.sub(
        r"^(?:力争|争取|确保|努力|基本|要|并|使|让|实现|全市|我市|全区|同时|其中|均|都)+", "", text
    )
    text = re.sub(r"(?:均|都|要|的|应|比例均|达|已)+$", "", text)
    return text.strip(' ,，、:：“”"')


def find_atoms(text: str, start: int, end: int) -> list[tuple[re.Match, Number, str]]:
    """(match, number, comparator) for every number with a comparator in ``text[start:end]``."""
    out = []
    for m in ATOM.finditer(text, start, end):
        if not m.group("num"):
            continue
        comparator = comparator_of(m.group("pre"), m.group("post"))
        if comparator is None:
            continue
        number = read_number(text, m.start("num"))
        if number is None:
            continue
        unit = m.group("unit") or ""
        # A Chinese numeral counts only with a measure word or a per-cent form: 达到一流 is not
        # a target, 至少两名 is.
        if number.written == "chinese" and not unit:
            continue
        # 年 after a bare number is a date (2015年), not a unit of years.
        if unit == "年" and number.value >= 1900:
            continue
        out.append((m, number, comparator))
    return out


def growth_atoms(text: str, start: int, end: int):
    for m in GROWTH.finditer(text, start, end):
        number = read_number(text, m.start("num"))
        if number is not None:
            yield m, number


def deadline_for(deadlines: list[Deadline], position: int) -> Deadline | None:
    """The deadline governing a target at ``position`` of a sentence: the nearest one written
    before it, else the first one after it."""
    before = [d for d in deadlines if d.end <= position]
    if before:
        return before[-1]
    after = [d for d in deadlines if d.start >= position]
    return after[0] if after else None


def is_recurring(text: str, start: int, end: int) -> bool:
    return RECURRING.search(text, start, end) is not None


def number_is_part_of_deadline(number: Number, deadlines: list[Deadline]) -> bool:
    return any(number.start < d.end and d.start < number.end for d in deadlines)


def chinese_digit(ch: str) -> bool:
    return ch in CN_DIGITS
