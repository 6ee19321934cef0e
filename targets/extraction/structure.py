"""A plan's own numbered structure (一、 (一) 1. （1） 第X条) and its sentences.

Spans are offsets into the text as read: a heading, a clause or a sentence is ``text[start:end]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import DIGITS, chinese_value

_CN = "一二三四五六七八九十百零〇两"
# Level, rule and pattern of each kind of heading, at the start of a line.
HEADINGS = [
    (1, "heading.article", re.compile(rf"第(?P<n>[{_CN}]+|[{DIGITS}]+)条")),
    (1, "heading.cn_comma", re.compile(rf"(?P<n>[{_CN}]+)[、．.]")),
    (2, "heading.cn_paren", re.compile(rf"[（(](?P<n>[{_CN}]+)[)）]")),
    (3, "heading.arabic_dot", re.compile(rf"(?P<n>[{DIGITS}]{{1,3}})(?:[.．、](?![{DIGITS}])|\s)")),
    (4, "heading.arabic_paren", re.compile(rf"[（(](?P<n>[{DIGITS}]{{1,3}})[)）]")),
    (4, "heading.circled", re.compile(r"(?P<n>[①②③④⑤⑥⑦⑧⑨⑩])")),
]
SENTENCE_END = re.compile(r"[。；;！？!?\n]+")
_LINE = re.compile(r"[^\n]*\n?")
_TITLE_END = re.compile(r"[。：:；;\n]")


@dataclass
class Clause:
    """A numbered part of the document: its number path (e.g. ``二/11``), title and span."""

    number: str
    path: str
    level: int
    title: str
    start: int
    end: int
    rule: str
    children: list[Clause] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.number


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


def _number(raw: str) -> str:
    if raw and raw[0] in _CN:
        value = chinese_value(raw)
        return raw if value is None else str(int(value))
    return str(int(raw.translate(str.maketrans("０１２３４５６７８９", "0123456789"))))


def split_clauses(text: str) -> list[Clause]:
    """Numbered clauses in reading order (flat; ``path`` shows the nesting). A clause runs to
    the next heading of the same or a higher level."""
    clauses: list[Clause] = []
    stack: list[Clause] = []
    for line in _LINE.finditer(text):
        s = line.start()
        while s < line.end() and text[s] in " \t\u3000":
            s += 1
        for level, rule, pattern in HEADINGS:
            m = pattern.match(text, s)
            if not m or m.end() >= line.end():
                continue
            number = _number(m.group("n")) if m.group("n") not in "①②③④⑤⑥⑦⑧⑨⑩" else m.group("n")
            while stack and stack[-1].level >= level:
                stack.pop().end = s
            body = m.end()
            title_end = _TITLE_END.search(text, body, line.end())
            title_stop = title_end.start() if title_end else line.end()
            title = text[body:title_stop].strip()[:60]
            path = "/".join([c.number for c in stack] + [number])
            clause = Clause(number, path, level, title, s, len(text), rule)
            if stack:
                stack[-1].children.append(clause)
            stack.append(clause)
            clauses.append(clause)
            break
    for clause in stack:
        clause.end = len(text)
    return clauses


def innermost(clauses: list[Clause], position: int) -> Clause | None:
    """The deepest clause holding ``position``."""
    best = None
    for clause in clauses:
        if clause.start <= position < clause.end and (best is None or clause.level >= best.level):
            best = clause
    return best


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    end = len(text) if end is None else end
    out: list[Sentence] = []
    pos = start
    for m in SENTENCE_END.finditer(text, start, end):
        if m.start() > pos:
            out.append(Sentence(pos, m.start()))
        pos = m.end()
    if pos < end:
        out.append(Sentence(pos, end))
    return [s for s in out if text[s.start : s.end].strip()]
