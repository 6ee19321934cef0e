"""Reading a 100,000-row XLSX values file through districts.intake.tables.open_table: calamine vs openpyxl.

Writes a values sheet like the upload template (单位代码, 期间, 数据项, 数值, 备注: codes, periods and
elements as text cells in the "@" format, integers and decimals as numbers, a comment on 1% of
the rows, a second "说明" sheet) with openpyxl's write-only mode into a temporary directory, then
reads it with ``open_table`` — every row iterated, as the upload job does — once through the
calamine path (what ``open_table`` chooses for such a file) and once through the openpyxl path
(forced by replacing ``tabular.xlsx_reader``). Each reader runs in a child process of its own,
so that its peak RSS is its own. Prints rows/s (wall and CPU, best of ``--repeat``: this machine
is shared), the peak RSS growth while reading, and how long ``xlsx_reader``'s look at the zip
(styles, sheet XML, shared strings) takes out of the calamine path's time.

    .venv/bin/python bench/xlsx_read.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()  # districts.intake's public face imports the models

from districts.intake import tables as tabular  # noqa: E402 - after django.setup()
from districts.intake.tables import CALAMINE, OPENPYXL, open_table  # noqa: E402 - after django.setup()

HEADER = ["单位代码", "期间", "数据项", "数值", "备注"]
ELEMENTS = [f"element.{i:02d}" for i in range(20)]


def generate(path: Path, rows: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rng = random.Random(20151231)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("数据")

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "@"
        return cell

    sheet.append([text(h) for h in HEADER])
    for i in range(rows):
        unit = f"4419{i // len(ELEMENTS):08d}"
        element = ELEMENTS[i % len(ELEMENTS)]
        if i % 3:
            value = rng.randint(100, 200_000)
        else:
            value = Decimal(f"{rng.uniform(10, 100_000):.2f}")
        comment = text("社区上报") if rng.random() < 0.01 else None
        sheet.append([text(unit), text("2015"), text(element), value, comment])
    workbook.create_sheet("说明").append(["填写说明（只导入第一个工作表“数据”）"])
    workbook.save(path)


def read_once(path: Path) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    rows = 0
    with open_table(path) as table:
        for _line, _cells in table.rows():
            rows += 1
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def child(path: Path, reader: str, repeat: int) -> None:
    """Read ``path`` ``repeat`` times with one reader; print one JSON line of figures."""
    if reader == OPENPYXL:
        tabular.xlsx_reader = lambda stream: OPENPYXL
    with open(path, "rb") as stream:
        chosen = tabular.xlsx_reader(stream)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs = [read_once(path) for _ in range(repeat)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scans = []
    for _ in range(repeat):
        with open(path, "rb") as stream:
            started = time.perf_counter()
            tabular.calamine_obstacle(stream)
            scans.append(time.perf_counter() - started)
    figures = {
        "reader": chosen,
        "walls": [r[0] for r in runs],
        "cpus": [r[1] for r in runs],
        "rows": runs[0][2],
        "rss_baseline_kb": baseline,
        "rss_peak_kb": peak,
        "scan": min(scans),
    }
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "READER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.repeat)
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "values.xlsx"
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows, {os.path.getsize(path) / 1e6:.1f} MB in "
              f"{time.perf_counter() - started:.1f}s: {path}")  # fmt: skip
        results = {}
        for reader in (CALAMINE, OPENPYXL):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path), reader, "--repeat",
                 str(args.repeat)],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            figures = json.loads(out.strip().splitlines()[-1])
            assert figures["reader"] == reader, figures
            assert figures["rows"] == args.rows, figures
            results[reader] = figures
            for attempt, (wall, cpu) in enumerate(
                zip(figures["walls"], figures["cpus"], strict=True), 1
            ):
                print(f"  {reader} run {attempt}: {wall:.2f}s wall ({args.rows / wall:,.0f} "
                      f"rows/s), {cpu:.2f}s CPU ({args.rows / cpu:,.0f} rows/s)")  # fmt: skip
        for reader, figures in results.items():
            wall, cpu = min(figures["walls"]), min(figures["cpus"])
            growth = (figures["rss_peak_kb"] - figures["rss_baseline_kb"]) / 1024
            print(f"{reader:>9}: best {args.rows / wall:,.0f} rows/s wall ({wall:.2f}s), "
                  f"{args.rows / cpu:,.0f} rows/s CPU; peak RSS {figures['rss_peak_kb'] / 1024:,.0f} MB "
                  f"(+{growth:,.0f} MB while reading)")  # fmt: skip
        scan, wall = results[CALAMINE]["scan"], min(results[CALAMINE]["walls"])
        speedup = min(results[OPENPYXL]["walls"]) / wall
        print(f"calamine is {speedup:.1f}x openpyxl; xlsx_reader's look at the zip: {scan:.2f}s "
              f"({scan / wall:.0%} of the calamine path); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(
        f"reproduce: .venv/bin/python bench/xlsx_read.py --rows {args.rows} --repeat {args.repeat}"
    )


if __name__ == "__main__":
    main()
