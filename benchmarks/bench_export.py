"""Benchmark: the Excel workbook (eight sheets, tables, chart) and basket for a 3,000-row screen.

Target (issue 16): 1 s or less for a 3,000-row screen and 200+ trades. The screen is the real
us-all screen (2,788 companies) plus 212 SYNTHETIC rows (copies of real rows under made-up
tickers ``SYN0001``...) to reach 3,000; the 200+ trades come from a real optimisation of
us-all with a 0.45% name cap. Each timed run builds and writes the workbook and basket as a
pair to a temporary folder, as ``rotation optimize --out`` does.

For comparison, the same run times openpyxl (write-only mode, a number format on each cell,
native tables, ZIP level 1: how the workbook was written before) writing the same six
sheets' cells; it leaves out the chart and the page setup, so it flatters openpyxl slightly.
The two are timed alternately, so both see the same load on a shared machine; CPU time is
reported beside wall time because it varies less with the load of other processes.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from _common import machine, parser, report, summary

from optimizer import ConstraintSettings, Limit, RotationOptimizer
from screener import load_screen, run_screen
from tui.export import TableSheet, export_context, export_rotation, neutralise, workbook_sheets
from universes import load_universe

ROWS = 3000
RUNS = 7


def openpyxl_workbook(path: Path, result: Any, screen: Any, ctx: Any) -> None:
    """The same sheets' cells written with openpyxl, as the export did before XlsxWriter."""
    import warnings
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table
    from openpyxl.writer.excel import ExcelWriter

    items, sectors, tables = workbook_sheets(result, screen, ctx)
    book = Workbook(write_only=True)
    ws = book.create_sheet("Summary")
    for item in items:
        cell = WriteOnlyCell(ws, value=neutralise(item.value))
        if item.number_format:
            cell.number_format = item.number_format
        ws.append([item.label, cell])

    def table(sheet: TableSheet) -> None:
        ws = book.create_sheet(sheet.title)
        ws.freeze_panes = "A2"
        ws.append([c.header for c in sheet.columns])
        styles: dict[int, Any] = {}
        for i in range(sheet.rows):
            row: list[Any] = []
            for j, col in enumerate(sheet.columns):
                v = col.values[i]
                if col.formula is not None:
                    v = col.formula.format(row=i + 2)
                if isinstance(v, str) or v is None or col.number_format is None:
                    row.append(neutralise(v) if col.formula is None else v)
                    continue
                cell = WriteOnlyCell(ws, value=v)
                if j in styles:
                    cell._style = styles[j]
                else:
                    cell.number_format = col.number_format
                    styles[j] = cell._style
                row.append(cell)
            ws.append(row)
        ref = f"A1:{get_column_letter(len(sheet.columns))}{max(sheet.rows, 1) + 1}"
        tab = Table(displayName=sheet.title, ref=ref)
        tab._initialise_columns()
        for column, c in zip(tab.tableColumns, sheet.columns, strict=True):
            column.name = c.header
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ws.add_table(tab)

    for sheet in (sectors, *tables):
        table(sheet)
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=1) as archive:
        ExcelWriter(book, archive).save()


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    universe = load_universe("us-all")
    shipped = load_screen()
    screen = run_screen(universe, shipped.with_filters(**dict.fromkeys(shipped.filters)))
    settings = ConstraintSettings(max_weight=Limit(True, 0.0045), max_candidates=600)
    result = RotationOptimizer(universe, screen, capital=10_000_000).solve(settings)
    extra = ROWS - len(screen.table)
    synthetic = screen.table.sample(extra, random_state=1, replace=extra > len(screen.table)).copy()
    synthetic.index = [f"SYN{i:04d}" for i in range(1, extra + 1)]
    synthetic["ticker"] = synthetic.index
    synthetic["name"] = "SYNTHETIC copy of " + synthetic["name"].astype(str)
    big = replace(screen, table=pd.concat([screen.table, synthetic]))
    ctx = export_context(universe, "benchmark screen (no filters)", "cash 10,000,000 USD", "benchmark")
    folder = Path(tempfile.mkdtemp(prefix="rotation-bench-"))
    counter = iter(range(1_000_000))

    def ours() -> None:
        export_rotation(folder / f"trades-{next(counter)}.xlsx", result, big, ctx)

    def theirs() -> None:
        openpyxl_workbook(folder / f"openpyxl-{next(counter)}.xlsx", result, big, ctx)

    ours()  # warm-up: imports, format caches
    theirs()
    samples: dict[str, list[float]] = {"export": [], "openpyxl": []}
    cpu: dict[str, list[float]] = {"export": [], "openpyxl": []}
    for _ in range(RUNS):
        for name, func in (("export", ours), ("openpyxl", theirs)):
            start, start_cpu = time.perf_counter(), time.process_time()
            func()
            samples[name].append((time.perf_counter() - start) * 1000.0)
            cpu[name].append((time.process_time() - start_cpu) * 1000.0)
    s, o = summary(samples["export"]), summary(samples["openpyxl"])
    s_cpu, o_cpu = summary(cpu["export"]), summary(cpu["openpyxl"])
    size = next(folder.glob("trades-*.xlsx")).stat().st_size
    out = {
        "screen_rows": len(big.table),
        "screen_rows_synthetic": extra,
        "trades": len(result.trades.trades),
        "export_ms_median": s["median"],
        "export_ms_min": s["min"],
        "openpyxl_ms_median": o["median"],
        "openpyxl_ms_min": o["min"],
        "ratio_openpyxl_to_export": o["median"] / s["median"],
        "export_cpu_ms_median": s_cpu["median"],
        "openpyxl_cpu_ms_median": o_cpu["median"],
        "workbook_bytes": size,
        "target_ms": 1000.0,
        "machine": machine(),
    }
    lines = [
        f"export: {len(big.table):,}-row screen ({extra} synthetic), {len(result.trades.trades)} trades, workbook {size / 1e6:.1f} MB",
        f"  workbook + basket   median {s['median']:.0f} ms  (min {s['min']:.0f}, max {s['max']:.0f}, {s['runs']} runs)   target <= 1000 ms",
        f"  same cells, openpyxl median {o['median']:.0f} ms  (min {o['min']:.0f}, max {o['max']:.0f}): {o['median'] / s['median']:.2f}x the export's time",
        f"  CPU time (less noisy on a shared machine): export median {s_cpu['median']:.0f} ms, openpyxl {o_cpu['median']:.0f} ms",
    ]
    report(out, args.json, lines)


if __name__ == "__main__":
    main()
