"""Scores the target extractor (targets.extraction) against the hand-written catalog.

The five seed documents are the input; the catalog's indicators (targets/catalog/*.yaml) are
the gold. Each plan is extracted from its own part of its source file (the parts the catalog
test uses; a source file may hold several plans) with the plan's issue date and horizon, as an
editor would run ``extract_targets`` on it.

- A gold indicator is *found* when a candidate's span overlaps its quote (any occurrence in the
  plan's part) with the same target number, comparator and deadline year. Recall = found / gold.
- A candidate is *right* when it overlaps a gold quote with the same number, comparator and
  deadline year. Precision = right / candidates (candidates inside the plans' parts only: the
  rest of a web capture is page chrome or another document the catalog does not cover).
- Per field (number, comparator, unit, deadline year, kind): recall = gold indicators with an
  overlapping candidate agreeing on that field; precision = candidates agreeing with an
  overlapping gold indicator on that field.

Goals: recall ≥ 90 %, precision ≥ 80 % on number + comparator + deadline. Then throughput: a
100-page plan (a seed repeated to 150,000 characters, 1,500 a page) must extract in under 2 s.

    .venv/bin/python bench/extract_eval.py [--details] [--pages 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from targets.extraction import extract  # noqa: E402

CATALOG = ROOT / "targets" / "catalog"
SOURCES = CATALOG / "sources"
# The part of a source file that is each plan's text (start marker, end marker or None for the
# end of the file) — the same parts tests/targets/test_catalog_content.py checks quotes against.
PLAN_PARTS = {
    "langxia-2013-xgy": ("\n廊下镇关于调整完善“万人就业项目”协管员队伍的实施方案\n", "\n金山区廊下镇人民政府\n"),
    "dongguan-2012-fwzf": ("\n关于加快推进社会体制改革建设服务型政府的实施意见\n", "\n关于加强社会组织管理的实施意见\n"),
    "dongguan-2012-shzz": ("\n关于加强社会组织管理的实施意见\n", "\n关于加强人口服务和管理的实施意见\n"),
    "dongguan-2012-rkfw": ("\n关于加强人口服务和管理的实施意见\n", "\n关于加强社会工作人才队伍建设的实施意见\n"),
    "dongguan-2012-sgrc": ("\n关于加强社会工作人才队伍建设的实施意见\n", "\n关于加强社会建设信息化工作的实施意见\n"),
    "dongguan-2012-xxh": ("\n关于加强社会建设信息化工作的实施意见\n", "\n关于加强城市社区居民委员会规范化建设的实施意见\n"),
    "dongguan-2012-csjwh": ("\n关于加强城市社区居民委员会规范化建设的实施意见\n", "\n关于加强和改进村民委员会建设的实施意见\n"),
    "dongguan-2012-cwh": ("\n关于加强和改进村民委员会建设的实施意见\n", "\n中共东莞市委办公室\n2012年 6月 12日"),
    "xiamen-2021-sg": ("\n社会治理现代化实施方案 篇4\n", None),
    "yantian-2010-shjs": ("四、推进社会建设和管理创新的主要举措", None),
}  # fmt: skip
FIELDS = ("number", "comparator", "unit", "deadline", "kind")
GOAL_RECALL, GOAL_PRECISION = 0.90, 0.80


def _part(text: str, code: str) -> tuple[int, int]:
    if code not in PLAN_PARTS:
        return 0, len(text)
    start_marker, end_marker = PLAN_PARTS[code]
    start = text.index(start_marker)
    return start, (text.index(end_marker) if end_marker else len(text))


def _unit(unit: str) -> str:
    return (unit or "").replace("％", "%").strip()


def _agree(field: str, gold: dict, cand) -> bool:
    if field == "number":
        return Decimal(str(gold["target"])) == cand.target
    if field == "comparator":
        return gold["comparator"] == cand.comparator
    if field == "unit":
        return _unit(gold.get("unit", "")) == _unit(cand.unit)
    if field == "deadline":
        return cand.deadline is not None and gold["deadline"].year == cand.deadline.year
    return gold["kind"] == cand.kind


def _full(gold: dict, cand) -> bool:
    return all(_agree(f, gold, cand) for f in ("number", "comparator", "deadline"))


def load_gold():
    """{source file: [(plan code, issued, horizon, (start, end) of its part, [gold…])]}."""
    documents = defaultdict(list)
    for path in sorted(CATALOG.glob("*.yaml")):
        if path.name == "elements.yaml":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        plan = doc["plan"]
        text = (SOURCES / plan["source"]).read_text(encoding="utf-8")
        start, end = _part(text, plan["code"])
        gold = []
        for goal in doc["goals"]:
            for ind in goal["indicators"]:
                spans, at = [], text.find(ind["quote"], start, end)
                while at != -1:
                    spans.append((at, at + len(ind["quote"])))
                    at = text.find(ind["quote"], at + 1, end)
                gold.append({**ind, "deadline": ind.get("deadline") or plan["horizon"],
                             "spans": spans})  # fmt: skip
        documents[plan["source"]].append(
            (plan["code"], plan.get("issued_on"), plan.get("horizon"), (start, end), gold)
        )
    return documents


def _overlaps(cand, gold: dict) -> bool:
    return any(cand.start < e and s < cand.end for s, e in gold["spans"])


def evaluate(details: bool = False):
    rows = []
    for source, plans in sorted(load_gold().items()):
        text = (SOURCES / source).read_text(encoding="utf-8")
        golds, cands = [], []
        for code, issued, horizon, (start, end), gold in plans:
            part = extract(text[start:end], issued=issued, horizon=horizon)
            for c in part.candidates:
                c.start += start
                c.end += start
                cands.append((code, c))
            golds.extend((code, g) for g in gold)
        found = {f: 0 for f in (*FIELDS, "all")}
        right = {f: 0 for f in (*FIELDS, "all")}
        for code, g in golds:
            near = [c for pc, c in cands if pc == code and _overlaps(c, g)]
            found["all"] += any(_full(g, c) for c in near)
            for f in FIELDS:
                found[f] += any(_agree(f, g, c) for c in near)
            if details and not any(_full(g, c) for c in near):
                print(f"  MISS {code} {g['kind']} {g['comparator']} {g['target']} "
                      f"{g['deadline']} | {g['quote'][:70]}")  # fmt: skip
                for c in near:
                    print(f"       got {c.rule} {c.comparator} {c.target} {c.deadline}")
        for code, c in cands:
            near = [g for pc, g in golds if pc == code and _overlaps(c, g)]
            right["all"] += any(_full(g, c) for g in near)
            for f in FIELDS:
                right[f] += any(_agree(f, g, c) for g in near)
            if details and not any(_full(g, c) for g in near):
                print(f"  EXTRA {code} {c.rule} {c.kind} {c.comparator} {c.target} {c.unit} "
                      f"{c.deadline} | {text[c.start:c.end][:70]}")  # fmt: skip
        rows.append((source, len(golds), len(cands), found, right))
    return rows


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "   — "


def print_table(rows) -> tuple[float, float]:
    header = f"{'document':<26}{'gold':>5}{'cand':>5}  {'recall':>7}{'prec.':>7}  " + "  ".join(
        f"{f[:6]:>13}" for f in FIELDS
    )
    print(header)
    print(f"{'':<26}{'':>5}{'':>5}  {'N+C+D':>7}{'N+C+D':>7}  " + "  ".join(
        f"{'R / P':>13}" for _ in FIELDS))  # fmt: skip
    totals = [0, 0, defaultdict(int), defaultdict(int)]
    for source, n_gold, n_cand, found, right in rows:
        totals[0] += n_gold
        totals[1] += n_cand
        for k, v in found.items():
            totals[2][k] += v
        for k, v in right.items():
            totals[3][k] += v
        _row(source, n_gold, n_cand, found, right)
    print("-" * len(header))
    _row("overall", *totals)
    recall = totals[2]["all"] / totals[0] if totals[0] else 0.0
    precision = totals[3]["all"] / totals[1] if totals[1] else 0.0
    print(f"\ngoal: recall ≥ {GOAL_RECALL:.0%} → {recall:.1%} "
          f"{'met' if recall >= GOAL_RECALL else 'NOT met'};  "
          f"precision ≥ {GOAL_PRECISION:.0%} → {precision:.1%} "
          f"{'met' if precision >= GOAL_PRECISION else 'NOT met'}")  # fmt: skip
    return recall, precision


def _row(name, n_gold, n_cand, found, right):
    cells = "  ".join(
        f"{_pct(found[f], n_gold).strip():>6} /{_pct(right[f], n_cand).strip():>6}" for f in FIELDS
    )
    print(f"{name:<26}{n_gold:>5}{n_cand:>5}  {_pct(found['all'], n_gold):>7}"
          f"{_pct(right['all'], n_cand):>7}  {cells}")  # fmt: skip


def throughput(pages: int) -> None:
    seed = (SOURCES / "000_3571e8818ef61e74.txt").read_text(encoding="utf-8")
    size = pages * 1500
    text = (seed * (size // len(seed) + 1))[:size]
    best = cpu = float("inf")
    for _ in range(3):  # the machine is shared: the best of three, wall and CPU
        began, began_cpu = time.perf_counter(), time.process_time()
        result = extract(text, issued=date(2014, 6, 12))
        best = min(best, time.perf_counter() - began)
        cpu = min(cpu, time.process_time() - began_cpu)
    print(f"\nthroughput: {pages}-page plan ({len(text):,} characters, {len(result.candidates)} "
          f"candidates) extracted in {best:.2f} s wall, {cpu:.2f} s CPU (best of 3; goal < 2 s: "
          f"{'met' if best < 2 else 'NOT met'})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every miss and extra")
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    print(
        "command: .venv/bin/python bench/extract_eval.py" + (" --details" if args.details else "")
    )
    print_table(evaluate(details=args.details))
    throughput(args.pages)


if __name__ == "__main__":
    main()
