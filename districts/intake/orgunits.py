"""The org-units file of SPEC §4.2: read with the same table reader as a values file, so the same
limits on hostile files apply. Pure: no ORM."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.text import bilingual

from ..levels import LEVELS
from .tables import RowError, Source, map_columns, open_table

ORGUNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("代码", "编码", "单位代码", "区划代码"),
    "name_zh": ("名称", "中文名称", "单位名称"),
    "name_en": ("英文名称", "英文名", "name (en)"),
    "level": ("层级", "级别"),
    "parent_code": ("上级代码", "上级编码", "上级单位代码", "parent"),
}
ORGUNIT_REQUIRED = ("code", "name_zh", "level", "parent_code")

LEVEL_ALIASES = {
    **{level: level for level in LEVELS},
    "国家": "country",
    "省": "province",
    "市": "city",
    "区": "district",
    "县": "district",
    "county": "district",
    "township": "town",
    "镇": "town",
    "乡": "town",
    "街道": "subdistrict",
    "社区": "community",
    "村": "village",
    "网格": "grid",
}


@dataclass(frozen=True, slots=True)
class OrgUnitRow:
    """One valid row of an org-units file. ``parent_code`` is ``None`` for a root."""

    line: int
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None


def parse_orgunit_file(data: Source) -> tuple[list[OrgUnitRow], list[RowError]]:
    """Parse an org-units file (columns ``code,name_zh,name_en,level,parent_code`` or
    ``代码,名称,英文名称,层级,上级代码``; ``name_en`` may be left out).

    Returns the valid rows and every row error: code empty, code given twice (naming the first
    line), name empty, level unknown, a unit that is its own parent. Whether parents exist is
    :func:`order_orgunit_rows`' job. Raises :class:`TabularError` for file-level problems.
    """
    rows: list[OrgUnitRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    with open_table(data) as table:
        columns = map_columns(table.header, ORGUNIT_ALIASES, ORGUNIT_REQUIRED)
        label = columns.label

        def cell(cells: Sequence[str], name: str, *, fold: bool = True) -> str:
            position = columns.index.get(name)
            if position is None or position >= len(cells):
                return ""
            text = cells[position].strip()
            # Codes and levels fold full-width letters and digits; names keep what was typed.
            return unicodedata.normalize("NFKC", text) if fold and not text.isascii() else text

        for line, cells in table.rows():
            problems: list[RowError] = []
            code = cell(cells, "code")
            name_zh = cell(cells, "name_zh", fold=False)
            name_en = cell(cells, "name_en", fold=False)
            raw_level = cell(cells, "level")
            parent = cell(cells, "parent_code") or None
            if not code:
                problems.append(
                    RowError(
                        line, label["code"], "", bilingual("代码为空", "code is empty"), "code"
                    )
                )
            elif any(ch.isspace() for ch in code):
                problems.append(
                    RowError(
                        line,
                        label["code"],
                        code,
                        bilingual("代码中不能有空格", "code may not contain spaces"),
                        "code",
                    )
                )
            elif code in first_line:
                problems.append(
                    RowError(
                        line,
                        label["code"],
                        code,
                        bilingual(
                            f"代码与第 {first_line[code]} 行重复",
                            f"duplicate code: already on line {first_line[code]}",
                        ),
                        "code",
                    )
                )
            else:
                first_line[code] = line
            if not name_zh:
                problems.append(
                    RowError(
                        line,
                        label["name_zh"],
                        "",
                        bilingual("名称为空", "name is empty"),
                        "name_zh",
                    )
                )
            level = LEVEL_ALIASES.get(raw_level.casefold())
            if level is None:
                problems.append(
                    RowError(
                        line,
                        label["level"],
                        raw_level,
                        bilingual(
                            "层级应为 国家/省/市/区/县/镇/乡/街道/社区/村/网格 之一",
                            "level must be one of " + ", ".join(LEVELS),
                        ),
                        "level",
                    )
                )
            if code and parent == code:
                problems.append(
                    RowError(
                        line,
                        label["parent_code"],
                        parent,
                        bilingual("上级代码不能是自身", "a unit cannot be its own parent"),
                        "parent_code",
                    )
                )
            if problems:
                errors.extend(problems)
            else:
                rows.append(OrgUnitRow(line, code, name_zh, name_en, level, parent))
    return rows, errors


def order_orgunit_rows(
    rows: Sequence[OrgUnitRow], existing_codes: Collection[str]
) -> tuple[list[OrgUnitRow], list[RowError]]:
    """Order rows so that every parent comes before its children (a parent may follow its
    children in the file), keeping file order otherwise.

    Reports each row whose parent is neither in the file nor in ``existing_codes``, and each row
    on a cycle of parents (naming the cycle). Rows on a cycle are left out of the order.
    """
    by_code = {row.code: row for row in rows}
    errors: list[RowError] = []
    done: set[str] = set()
    ordered: list[OrgUnitRow] = []
    for row in rows:
        if row.code in done:
            continue
        # Walk up to the first ancestor already placed (or outside the file), then place the
        # chain top-down.
        chain_: list[str] = []
        on_chain: set[str] = set()
        code: str | None = row.code
        cycle: list[str] = []
        while code is not None and code in by_code and code not in done:
            if code in on_chain:
                cycle = chain_[chain_.index(code) :]
                break
            chain_.append(code)
            on_chain.add(code)
            code = by_code[code].parent_code
        in_cycle = set(cycle)
        if cycle:
            shown = " → ".join([*cycle, cycle[0]])
            for member in cycle:
                unit = by_code[member]
                errors.append(
                    RowError(
                        unit.line,
                        "parent_code",
                        unit.parent_code or "",
                        bilingual(
                            f"上级关系形成循环：{shown}", f"parent codes form a cycle: {shown}"
                        ),
                        "parent_code",
                    )
                )
        for member in reversed(chain_):
            done.add(member)
            if member in in_cycle:
                continue
            unit = by_code[member]
            parent = unit.parent_code
            if parent is not None and parent not in by_code and parent not in existing_codes:
                errors.append(
                    RowError(
                        unit.line,
                        "parent_code",
                        parent,
                        bilingual(
                            f"上级代码 {parent} 既不在文件中也不在系统中",
                            f"parent {parent} is neither in the file nor in the database",
                        ),
                        "parent_code",
                    )
                )
            ordered.append(unit)
    errors.sort(key=lambda e: e.line)
    return ordered, errors
