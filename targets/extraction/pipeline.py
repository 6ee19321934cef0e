"""From a file to a draft plan: read, extract, write. Pure (no database, no network)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core.text import bilingual

from .. import plan_schema
from .draft import draft_plan, dump_plan, extraction_dicts
from .extractor import Extraction, extract
from .reading import DocumentError, read_document

_TITLE = re.compile(
    r"^\s*(?P<t>[^\n]{6,60}?(?:意见|方案|规划|纲要|办法|决定|通知|计划|报告))\s*$", re.M
)


class NoTargetError(DocumentError):
    """The document was read but holds no target the extractor recognises."""


@dataclass
class Draft:
    text: str
    extraction: Extraction
    candidates: list[dict]
    document: dict
    yaml_text: str


def guess_title(text: str, fallback: str) -> str:
    m = _TITLE.search(text[:5000])
    return m.group("t").strip() if m else fallback


def plan_code(filename: str, city: str, issued: date | None) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(filename).stem).strip("-").lower()[:40] or "plan"
    return f"draft-{city}-{issued.year if issued else 'undated'}-{stem}"


def schema_has_group() -> bool:
    """True once the plan schema accepts ``group:`` on indicators (added by another change)."""
    return "group" in getattr(plan_schema, "_INDICATOR_KEYS", set())


def build_draft(
    *,
    text: str,
    filename: str,
    city: str,
    issued: date | None,
    horizon: date | None = None,
    code: str = "",
    title: str = "",
) -> Draft:
    extraction = extract(text, issued=issued, horizon=horizon)
    if not extraction.candidates:
        raise NoTargetError(
            bilingual(
                "文中未找到可量化的目标或限期任务（没有“达到…%”“不少于…”“到2015年…”之类的表述）",
                "no target found: the text has no figure with a comparator and no dated task",
            )
        )
    candidates = extraction_dicts(extraction)
    document = draft_plan(
        candidates,
        code=code or plan_code(filename, city, issued),
        city=city,
        title_zh=title or guess_title(text, Path(filename).stem or "未命名规划"),
        issued=issued,
        horizon=horizon or extraction.horizon,
        source=Path(filename).name,
        group_key=schema_has_group(),
    )
    return Draft(text, extraction, candidates, document, dump_plan(document))


def draft_from_file(data: bytes, filename: str, **kwargs) -> Draft:
    """Read ``data`` (TXT, DOCX or PDF) and draft its plan; raises :class:`DocumentError`."""
    return build_draft(text=read_document(data, filename), filename=filename, **kwargs)
