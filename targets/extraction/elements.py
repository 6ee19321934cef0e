"""Matching a candidate's subject to the shared vocabulary of data elements (elements.yaml).

Simple lexical matching: the share of an element name's character pairs found in the words the
candidate's sentence uses. Where nothing fits, a new element is proposed under ``draft.*`` for
the editor to name, so a draft is loadable and nothing pretends to be a known figure.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from .rules import Candidate

ELEMENTS_FILE = Path(__file__).resolve().parents[1] / "catalog" / "elements.yaml"
MATCH_AT = 0.6
_NOISE = re.compile(r"[\s,，、:：；;。“”\"'()（）0-9０-９%％]+")
_GENERIC = {"人数", "数(", "(累计", "累计)", "建立", "建有", "比例", "社会", "工作"}


def _pairs(text: str) -> set[str]:
    text = _NOISE.sub("", text)
    return {text[i : i + 2] for i in range(len(text) - 1)} - _GENERIC


@dataclass(frozen=True)
class Element:
    code: str
    name_zh: str
    unit: str
    value_type: str
    level: str
    not_above: str | None
    pairs: frozenset[str]


class Vocabulary:
    def __init__(self, elements: list[dict]):
        self.elements = [
            Element(
                e["code"],
                e["name_zh"],
                e.get("unit", ""),
                e.get("value_type", "number"),
                e.get("level", ""),
                e.get("not_above"),
                frozenset(_pairs(e["name_zh"])),
            )
            for e in elements
        ]
        self.by_code = {e.code: e for e in self.elements}

    def best(self, words: str, *, boolean: bool | None = None, part: bool = False):
        """The element whose name the words cover best, with its score, or (None, 0)."""
        have = _pairs(words)
        best, score = None, 0.0
        for e in self.elements:
            if not e.pairs:
                continue
            if boolean is not None and (e.value_type == "boolean") != boolean:
                continue
            if part and not e.not_above:
                continue
            common = len(e.pairs & have)
            s = common / len(e.pairs)
            if len(have) >= 3:  # a short subject wholly inside a longer name also fits
                s = max(s, common / len(have) - 0.05)
            if s > score:
                best, score = e, s
        return (best, score) if score >= MATCH_AT else (None, score)

    def match(self, candidate: Candidate, text: str) -> None:
        """Fill ``candidate.refs`` (and ``proposed``) for the candidate's kind."""
        words = text[candidate.start : candidate.end]
        subject = candidate.subject or words
        key = _draft_key(candidate, text)
        kind = candidate.kind
        if kind == "milestone":
            element, score = self.best(words, boolean=True)
            candidate.refs = {"element": self._ref(element, score, key, subject, "boolean")}
        elif kind == "value":
            element, score = self.best(subject or words, boolean=False)
            vtype = "number" if candidate.unit in ("年", "岁", "平方米", "%", "") else "integer"
            candidate.refs = {"element": self._ref(element, score, key, subject, vtype)}
        elif kind == "growth":
            element, score = self.best(subject or words, boolean=False)
            candidate.refs = {"of": self._ref(element, score, key, subject, "number")}
        elif kind == "ratio":
            hint = candidate.denominator_hint
            part, score = self.best(subject or words, boolean=False, part=not hint)
            numerator = self._ref(part, score, key, subject, "number")
            if hint and hint in self.by_code:
                denominator = {"code": hint, "score": 1.0, "known": True}
            elif part is not None and part.not_above:
                denominator = {"code": part.not_above, "score": score, "known": True}
            else:
                denominator = self._propose(f"{key}_total", f"{subject}（总数 total）", "number")
            candidate.refs = {
                "numerator": numerator,
                "denominator": denominator,
                "factor": candidate.factor or Decimal(100),
            }
        elif kind == "coverage":
            condition = candidate.condition
            if condition:
                element, score = self.best(words, boolean=False)
                ref = self._ref(element, score, key, subject, "number")
                candidate.refs = {
                    "condition": {
                        "element": ref,
                        "comparator": condition["comparator"],
                        "value": condition["value"],
                    }
                }
            else:
                element, score = self.best(words, boolean=True)
                ref = self._ref(element, score, key, subject, "boolean")
                candidate.refs = {"condition": {"element": ref, "comparator": "=", "value": 1}}
        candidate.proposed = [
            r for r in _walk(candidate.refs) if isinstance(r, dict) and r.get("known") is False
        ]

    def _ref(self, element: Element | None, score: float, key: str, subject: str, vtype: str):
        if element is not None:
            return {"code": element.code, "score": round(score, 2), "known": True,
                    "name_zh": element.name_zh}  # fmt: skip
        return self._propose(key, subject, vtype)

    @staticmethod
    def _propose(code: str, name: str, vtype: str) -> dict:
        return {"code": code, "score": 0.0, "known": False, "name_zh": name[:60] or code,
                "value_type": vtype}  # fmt: skip


def _walk(refs):
    for value in refs.values():
        if isinstance(value, dict) and "code" in value:
            yield value
        elif isinstance(value, dict):
            yield from _walk(value)


def _draft_key(candidate: Candidate, text: str) -> str:
    """A stable code for a proposed element: the clause number and a short hash of the quote."""
    digest = hashlib.sha1(text[candidate.start : candidate.end].encode()).hexdigest()[:6]
    clause = getattr(candidate.clause, "path", "") or "0"
    return f"draft.c{re.sub(r'[^0-9A-Za-z]+', '_', clause)}_{digest}"


@functools.cache
def default_vocabulary() -> Vocabulary:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster
    document = yaml.load(ELEMENTS_FILE.read_text(encoding="utf-8"), Loader=loader)
    return Vocabulary(document["data_elements"])
