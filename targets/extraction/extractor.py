"""The extractor: a document's text in, target candidates with their spans out. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import rules
from .dates import Deadline, find_deadlines, horizon_of
from .elements import Vocabulary, default_vocabulary
from .rules import Candidate
from .structure import Clause, Sentence, innermost, split_clauses, split_sentences

_SEGMENT_BREAK = re.compile(r"[,，:：]")


@dataclass
class Extraction:
    text: str
    clauses: list[Clause]
    candidates: list[Candidate]
    horizon: date | None
    issued: date | None


def _segment(text: str, sentence: Sentence, position: int) -> tuple[int, int]:
    """The comma-delimited piece of ``sentence`` around ``position``."""
    s = sentence.start
    for m in _SEGMENT_BREAK.finditer(text, sentence.start, position):
        s = m.end()
    m = _SEGMENT_BREAK.search(text, position, sentence.end)
    e = m.start() if m else sentence.end
    while s < e and text[s] in " \t\u3000":
        s += 1
    return s, e


def _span(text: str, sentence: Sentence, first: int, last: int, deadline: Deadline | None):
    """From the start of the piece holding ``first`` (or the deadline just before it in the
    same sentence) to the end of the piece holding ``last``."""
    s, _ = _segment(text, sentence, first)
    _, e = _segment(text, sentence, max(last - 1, first))
    if deadline is not None and sentence.start <= deadline.start < s:
        between = text[deadline.end : s]
        if len(_SEGMENT_BREAK.findall(between)) <= 1:
            s = deadline.start
    while s < e and text[s] in " \t\u3000":
        s += 1
    while e > s and text[e - 1] in " \t\u3000":
        e -= 1
    return s, e


def extract(
    text: str,
    *,
    issued: date | None = None,
    horizon: date | None = None,
    vocabulary: Vocabulary | None = None,
) -> Extraction:
    """Every target candidate of ``text``, in reading order. ``horizon`` is the plan's end date
    for targets the text leaves undated (else the deadline the text names most often)."""
    vocabulary = vocabulary or default_vocabulary()
    clauses = split_clauses(text)
    found: list[tuple[Candidate, Sentence]] = []
    year = issued.year if issued else (horizon.year if horizon else None)
    # The last deadline written in each clause: a later sentence of the same clause that names
    # none is read as due by it (“到2015年，…。…达到80%。”).
    clause_deadline: dict[int, Deadline] = {}
    for sentence in split_sentences(text):
        clause = innermost(clauses, sentence.start)
        key = id(clause)
        candidates, deadlines = _sentence_candidates(text, sentence, issued, year)
        for c in candidates:
            if c.deadline is None and key in clause_deadline and clause is not None:
                earlier = clause_deadline[key]
                c.deadline, c.deadline_rule = earlier.day, "date.earlier_in_clause"
                c.deadline_span = (earlier.start, earlier.end)
                c.notes.append("期限取自本条前文（deadline from earlier in the clause）")
        found.extend((c, sentence) for c in candidates)
        written = [d for d in deadlines if d.rule != "date.within_years"]
        if written:
            clause_deadline[key] = written[-1]
    explicit = [c.deadline for c, _ in found if c.deadline and c.deadline_rule != "horizon"]
    plan_horizon = horizon or horizon_of(explicit, issued)
    candidates = []
    for candidate, _sentence in found:
        if candidate.deadline is None and plan_horizon is not None:
            candidate.deadline = plan_horizon
            candidate.deadline_rule = "horizon"
            candidate.confidence = round(candidate.confidence - 0.15, 2)
            candidate.notes.append("未写明期限，取规划期末（no date in the text: plan horizon）")
        clause = innermost(clauses, candidate.start)
        candidate.clause = clause
        vocabulary.match(candidate, text)
        candidates.append(candidate)
    return Extraction(text, clauses, candidates, plan_horizon, issued)


def _sentence_candidates(
    text: str, sentence: Sentence, issued: date | None, year: int | None
) -> tuple[list[Candidate], list[Deadline]]:
    s, e = sentence.start, sentence.end
    deadlines = find_deadlines(text, s, e, issued=issued, year=year)
    out: list[Candidate] = []
    taken: list[tuple[int, int]] = []

    def add(candidate: Candidate, number_span: tuple[int, int]) -> None:
        if any(number_span[0] < te and ts < number_span[1] for ts, te in taken):
            return
        taken.append(number_span)
        out.append(candidate)

    for m, number in rules.growth_atoms(text, s, e):
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, m.start(), m.end(), deadline)
        points = m.group("unit") == "个百分点"
        seg_start, _ = _segment(text, sentence, m.start())
        candidate = Candidate(
            kind="growth",
            comparator=">=",
            target=number.value,
            unit="个百分点/年" if points else "%",
            start=start,
            end=end,
            rule="growth.points" if points else "growth.percent",
            confidence=0.85,
            growth_mode="points" if points else "percent",
            subject=rules._clean_subject(text[seg_start : m.start()]),
            number_span=(number.start, number.end),
            number_text=number.text,
        )
        _set_deadline(candidate, deadline, recurring=True)
        add(candidate, (m.start(), m.end()))

    for pattern, fixed in (
        (rules.PER_CAPITA_HAS, ">="),
        (rules.SHARE_OF_WHOLE, None),
        (rules.SHARE_OF_UNITS, ">="),
        (rules.PRE_VERB, None),
        (rules.HUNDRED, ">="),
    ):
        for m in pattern.finditer(text, s, e):
            number = rules.read_number(text, m.start("num"))
            if number is None or rules.number_is_part_of_deadline(number, deadlines):
                continue
            groups = m.groupdict()
            comparator = fixed or rules.comparator_of(groups.get("pre"), groups.get("post"))
            candidate = _numeric(text, sentence, m, number, comparator, deadlines)
            if candidate is not None:
                add(candidate, (m.start("num"), m.end()))

    for m, number, comparator in rules.find_atoms(text, s, e):
        if rules.number_is_part_of_deadline(number, deadlines):
            continue
        candidate = _numeric(text, sentence, m, number, comparator, deadlines)
        if candidate is not None:
            add(candidate, (m.start("num"), m.end()))

    for m in rules.PLANNED_COUNT.finditer(text, s, e):
        number = rules.read_number(text, m.start("num"))
        if number is None or rules.number_is_part_of_deadline(number, deadlines):
            continue
        exact = m.group("verb") in rules.EXACT_VERBS
        candidate = _numeric(text, sentence, m, number, "=" if exact else ">=", deadlines)
        if candidate is not None:
            candidate.subject = _counted(text, sentence, m) or candidate.subject
            candidate.rule = candidate.rule.replace("value.count", "value.planned_count")
            candidate.confidence = round(candidate.confidence - 0.1, 2)
            add(candidate, (m.start("num"), m.end()))

    for m in rules.HEADCOUNT.finditer(text, s, e):
        number = rules.read_number(text, m.start("num"))
        deadline = rules.deadline_for(deadlines, m.start())
        candidate = Candidate(
            kind="value",
            comparator="=",
            target=number.value,
            unit="人",
            start=m.start(),
            end=m.end(),
            rule="value.headcount",
            confidence=0.6,
            subject=m.group("subj"),
            number_span=(number.start, number.end),
            number_text=number.text,
        )
        _set_deadline(candidate, deadline)
        add(candidate, (m.start("num"), m.end()))

    for m in rules.FULL_COVERAGE.finditer(text, s, e):
        if any(ts <= m.start() < te for ts, te in taken):
            continue
        seg_start, seg_end = _segment(text, sentence, m.start())
        if rules.NOT_A_TARGET.search(text, seg_start, seg_end):
            continue
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, m.start(), m.end(), deadline)
        subject = rules._clean_subject(text[seg_start:seg_end].replace(m.group(0), ""))
        level, group = rules.level_of(text[seg_start:seg_end])
        kind = "coverage" if level and level != "city" else "ratio"
        if m.group(0).startswith("完成"):
            kind, level = "ratio", ""
        candidate = Candidate(
            kind=kind,
            comparator=">=",
            target=Decimal(100),
            unit="%",
            start=start,
            end=end,
            rule="coverage.full",
            confidence=0.6,
            subject=subject,
            level=level if kind == "coverage" else "",
            group=group,
        )
        candidate.notes.append("“全覆盖/应…尽…”读作100%（read as 100 %）")
        _set_deadline(candidate, deadline)
        add(candidate, m.span())

    # 在职员工50人以上的非公有制经济组织和15人以上的社会组织有党员: every such body, 100 %.
    for m in rules.QUALIFIED_SET.finditer(text, s, e):
        seg_start, seg_end = _segment(text, sentence, m.start())
        if any(seg_start <= ts < seg_end for ts, _ in taken):
            continue
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, seg_start, seg_end, deadline)
        candidate = Candidate(
            kind="ratio",
            comparator=">=",
            target=Decimal(100),
            unit="%",
            start=start,
            end=end,
            rule="ratio.each_qualified",
            confidence=0.5,
            subject=rules._clean_subject(text[seg_start:seg_end]),
            factor=Decimal(100),
        )
        candidate.notes.append("“N人以上的…都须…”读作100%（every body so qualified: 100 %）")
        _set_deadline(candidate, deadline)
        add(candidate, (seg_start, seg_end))

    # 九个…项目和四个…项目: a second count joined to a planned one.
    for m in rules.CHAINED_COUNT.finditer(text, s, e):
        earlier = [
            c
            for c in out
            if c.rule.startswith("value.planned_count") and c.number_span[1] <= m.start()
        ]
        if not earlier or earlier[-1].unit != m.group("unit"):
            continue
        number = rules.read_number(text, m.start("num"))
        if number is None or number.value == 1:
            continue
        candidate = _numeric(text, sentence, m, number, earlier[-1].comparator, deadlines)
        if candidate is not None:
            candidate.subject = _counted(text, sentence, m) or candidate.subject
            candidate.rule = "value.planned_count.chained"
            candidate.confidence = round(candidate.confidence - 0.15, 2)
            add(candidate, (m.start("num"), m.end()))

    # 薪酬不低于同等条件专业技术人员平均水平: at least the benchmark, i.e. 100 % of it.
    for m in rules.NOT_BELOW_BENCHMARK.finditer(text, s, e):
        if any(m.start() < te and ts < m.end() for ts, te in taken):
            continue
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, m.start(), m.end(), deadline)
        seg_start, _ = _segment(text, sentence, m.start())
        candidate = Candidate(
            kind="ratio",
            comparator=">=",
            target=Decimal(100),
            unit="%",
            start=start,
            end=end,
            rule="ratio.not_below_benchmark",
            confidence=0.5,
            subject=rules._clean_subject(text[seg_start : m.start()]) or m.group("what"),
            factor=Decimal(100),
        )
        candidate.notes.append("不低于基准读作基准的100%（at least 100 % of the benchmark）")
        _set_deadline(candidate, deadline)
        add(candidate, m.span())

    for m in rules.UNIVERSAL.finditer(text, s, e):
        seg_start, seg_end = _segment(text, sentence, m.start())
        if any(seg_start <= ts < seg_end for ts, _ in taken):
            continue  # the piece already holds a figure (每个社区至少配备3名…)
        rest = text[m.end() : seg_end]
        lead = text[seg_start : m.start()]
        verb = (
            (re.search(r"都|均", rest) and rules.TASK_VERB.search(rest))
            or re.search(r"(?:都|均)(?:要)?(?:建有|拥有|建立|设立|成为|配备|有)", rest)
            or re.match(
                r"[^,，]{0,6}?(?:要|均|都)?(?:逐步)?(?:建立|设立|成立|建有|成为|配备|拥有)", rest
            )
            or (not rest.strip() and re.search(r"(?:至|到|覆盖)(?:全市|全区)?$", lead))
        )
        if not verb or rules.CURRENT_STATE.search(lead):
            continue
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, m.start(), m.end(), deadline)
        level, group = rules.level_of(m.group(0))
        candidate = Candidate(
            kind="coverage",
            comparator=">=",
            target=Decimal(100),
            unit="%",
            start=start,
            end=end,
            rule="coverage.all",
            confidence=0.6,
            subject=rules._clean_subject(rest),
            level=level or "community",
            group=group,
        )
        candidate.notes.append("“所有/每个…都…”读作100%的单位（read as 100 % of the units）")
        _set_deadline(candidate, deadline)
        add(candidate, m.span())

    # 镇区建立群众工作站: a kind of unit that must set something up.
    for m in rules.UNIT_SETS_UP.finditer(text, s, e):
        if any(m.start() <= ts < te or ts <= m.start() < te for ts, te in taken):
            continue
        seg_start, seg_end = _segment(text, sentence, m.start())
        if m.start() != seg_start:
            continue
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, m.start(), seg_end, deadline)
        level, group = rules.level_of(m.group("unit"))
        candidate = Candidate(
            kind="coverage",
            comparator=">=",
            target=Decimal(100),
            unit="%",
            start=start,
            end=end,
            rule="coverage.unit_sets_up",
            confidence=0.5,
            subject=rules._clean_subject(text[m.end("unit") : seg_end]),
            level=level or "community",
            group=group,
        )
        candidate.notes.append("每个该级单位须建立（read as every such unit: 100 %）")
        _set_deadline(candidate, deadline)
        add(candidate, (m.start(), seg_end))

    # A named deliverable: 基本建成“十分钟文化体育圈”, 打造“15分钟社区服务圈”.
    for m in rules.NAMED_DELIVERABLE.finditer(text, s, e):
        if any(m.start() < te and ts < m.end() for ts, te in taken):
            continue
        deadline = rules.deadline_for(deadlines, m.start())
        start, end = _span(text, sentence, m.start(), m.end(), deadline)
        candidate = Candidate(
            kind="milestone",
            comparator="=",
            target=Decimal(1),
            unit="",
            start=start,
            end=end,
            rule="milestone.named_deliverable",
            confidence=0.55,
            subject=text[m.start() : m.end()],
        )
        _set_deadline(candidate, deadline)
        add(candidate, m.span())

    # Dated tasks: a deadline the text writes, then task verbs, each piece up to the next
    # deadline a milestone, unless the sentence sets a figure after that deadline.
    for i, deadline in enumerate(deadlines):
        if deadline.rule == "date.within_years":
            continue
        stop = deadlines[i + 1].start if i + 1 < len(deadlines) else e
        if any(deadline.start <= ts < stop for ts, _ in taken):
            continue
        if deadline.rule == "date.month_day_range":  # a timeline line: the whole step
            verb = rules.TASK_VERB.search(text, deadline.end, stop)
            if verb is not None:
                _milestone(text, deadline, deadline.start, stop, verb, add)
            continue
        pos, first = deadline.end, True
        while pos < stop:
            seg_start, seg_end = _segment(text, sentence, min(pos, e - 1))
            seg_end = min(seg_end, stop)
            piece = text[max(seg_start, pos) : seg_end]
            verb = rules.TASK_VERB.search(text, max(seg_start, pos), seg_end)
            lead = re.match(r"[\s,，:：]*(?:并|要|和|及|同时|力争|争取|全面|基本|逐步)*", piece)
            opens = verb is not None and verb.start() - max(seg_start, pos) <= (
                len(lead.group(0)) + (8 if first else 0)
            )
            if opens and not rules.CURRENT_STATE.search(text, deadline.start, verb.start()):
                begin = deadline.start if first else seg_start
                _milestone(text, deadline, begin, seg_end, verb, add)
            if piece.strip():
                first = False
            pos = max(seg_end, pos) + 1
    out.sort(key=lambda c: c.start)
    return out, deadlines


def _counted(text: str, sentence: Sentence, m) -> str:
    """What a planned count counts: the words after its unit, up to the piece's end or 和."""
    _, seg_end = _segment(text, sentence, m.end())
    words = re.split(r"和|及|、|并", text[m.end() : seg_end])[0]
    return rules._clean_subject(words)


def _milestone(text, deadline, start, end, verb, add) -> None:
    while end > start and text[end - 1] in " \t\u3000,，:：":
        end -= 1
    candidate = Candidate(
        kind="milestone",
        comparator="=",
        target=Decimal(1),
        unit="",
        start=start,
        end=end,
        rule="milestone.dated_task",
        confidence=0.55,
        subject=rules._clean_subject(text[verb.start() : end]),
    )
    _set_deadline(candidate, deadline)
    add(candidate, (max(start, verb.start()), end))


def _set_deadline(candidate: Candidate, deadline: Deadline | None, *, recurring=False) -> None:
    if deadline is not None:
        candidate.deadline = deadline.day
        candidate.deadline_rule = deadline.rule
        candidate.deadline_span = (deadline.start, deadline.end)
    else:
        candidate.confidence = round(candidate.confidence - 0.05, 2)
    if recurring:
        candidate.recurring = True


def _numeric(text, sentence, m, number, comparator, deadlines) -> Candidate | None:
    unit = m.group("unit") or ""
    if unit == "％":
        unit = "%"
    if number.percent and not unit:
        unit = "%"
    seg_start, seg_end = _segment(text, sentence, m.start("num"))
    before = text[seg_start : m.start()]
    after = text[m.end() : seg_end]
    if rules.CURRENT_STATE.search(before):
        return None  # a figure already reached is the state of affairs, not a target
    if unit in rules.COUNT_UNITS and re.match(r"\s*(?:的|或|及)", text[m.end() : m.end() + 2]):
        return None  # 100人以上的非公有制经济组织: a qualifier of what is counted
    if number.written == "chinese" and number.value == 1 and unit in ("个", "支", "批", "项"):
        return None  # 建设一支队伍, 一个社区设立一个居委会: an article, not a count
    if unit == "年" and re.search(r"期限|任期|合同|服务期", before):
        return None
    deadline = rules.deadline_for(deadlines, m.start())
    start, end = _span(text, sentence, m.start(), m.end(), deadline)
    # The subject may sit in the piece before when this one is only the figure.
    subject = rules._clean_subject(before)
    if deadline is not None and deadline.start >= seg_start:
        subject = rules._clean_subject(text[deadline.end : m.start()])
    recurring = rules.is_recurring(text, seg_start, m.start())
    confidence = 0.85 if deadline is not None else 0.75
    if number.written == "chinese":
        confidence -= 0.1
    candidate = Candidate(
        kind="value",
        comparator=comparator,
        target=number.value,
        unit=unit,
        start=start,
        end=end,
        rule="",
        confidence=confidence,
        subject=subject,
        number_span=(number.start, number.end),
        number_text=number.text,
    )
    per_capita = rules.PER_CAPITA.search(text, seg_start, number.start)
    # “每个社区都建立1个…;搭建1个…;培育1个…”: the quantifier governs the whole list, up to 。
    window = max(sentence.start - 1000, 0)
    full_start = (
        max(
            text.rfind("。", window, number.start),
            text.rfind("\n", window, number.start),
            window - 1,
        )
        + 1
    )
    universal = rules.UNIVERSAL.search(text, full_start, number.start)
    if universal is not None and unit in ("%", "个百分点"):
        universal = None  # a share set for each unit is still a share
    per_person = re.search(r"人均", before)
    if per_capita is not None:
        base = per_capita.group("base")
        base_kind = "elderly" if "老" in base else "household" if base == "户" else "person"
        scale = per_capita.group("scale")
        label, factor, denominator = rules.PER_CAPITA_UNITS.get(
            (scale, base_kind), (f"{scale}{base}", None, "")
        )
        candidate.unit = f"{unit}/{label}" if unit else label
        candidate.kind = "ratio"
        candidate.factor = factor
        candidate.denominator_hint = denominator
        candidate.rule = "ratio.per_capita"
        candidate.subject = rules._clean_subject(
            re.sub(r"^[中有拥]+", "", text[per_capita.end() : m.start()]) or subject
        )
    elif per_person is not None and unit and unit != "%":
        candidate.unit = f"{unit}/人"
        candidate.kind = "ratio"
        candidate.factor = Decimal(1)
        candidate.denominator_hint = "population.resident"
        candidate.rule = "ratio.per_person"
    elif unit == "%":
        level, group = rules.level_of(text[number.end : seg_end][:12])
        if level and level != "city" and re.match(r"^\s*(?:以上)?的?\s*(?:城乡|城市|农村)?", after):
            candidate.kind = "coverage"
            candidate.level, candidate.group = level, group
            candidate.rule = "coverage.share_of_units"
            candidate.subject = rules._clean_subject(text[number.end : seg_end])
        else:
            candidate.kind = "ratio"
            candidate.factor = Decimal(100)
            candidate.rule = "ratio.percent"
    elif unit == "个百分点":
        candidate.kind = "value"
        candidate.rule = "value.points"
    elif unit in rules.COUNT_UNITS:
        candidate.rule = "value.count"
    elif unit:
        candidate.rule = "value.measure"
    else:
        candidate.rule = "value.number"
        candidate.confidence -= 0.2
    frequency = unit == "次" and re.search(r"每(?:年|月|季|周)", before)
    if (unit in ("学时", "小时") or frequency) and comparator in (">=", ">"):
        # 每年参加不少于72学时的继续教育: a minimum every person must meet; the target is
        # that all of them do.
        candidate.condition = {"comparator": comparator, "value": candidate.target, "unit": unit}
        candidate.kind, candidate.comparator, candidate.target = "ratio", ">=", Decimal(100)
        candidate.unit, candidate.factor = "%", Decimal(100)
        candidate.rule = "ratio.each_meets_minimum"
        candidate.notes.append(f"每人须达到{unit}下限，目标为100%（everyone meets the minimum）")
    elif universal is not None and candidate.kind != "coverage":
        # “每个社区至少配备3名…”: the figure is the condition each unit must meet.
        level, group = rules.level_of(universal.group(0))
        candidate.condition = {
            "comparator": candidate.comparator,
            "value": candidate.target,
            "unit": candidate.unit,
            "factor": candidate.factor,
            "denominator_hint": candidate.denominator_hint,
        }
        candidate.kind = "coverage"
        candidate.level, candidate.group = level or "community", group
        candidate.comparator, candidate.target, candidate.unit = ">=", Decimal(100), "%"
        candidate.rule = "coverage.each_unit"
        candidate.notes.append("每个单位须达到该数值，目标为100%的单位（every unit: 100 %）")
    elif candidate.kind != "coverage" and not candidate.group:
        candidate.level, candidate.group = ("", *rules.level_of(before)[1:])
    if recurring and candidate.kind != "growth":
        candidate.recurring = True
        candidate.notes.append("每年须达到（a yearly target）")
    _set_deadline(candidate, deadline)
    return candidate
