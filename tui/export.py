"""The trade list leaves the tool: an Excel workbook and a broker basket CSV.

Workbook (openpyxl, write-only mode), one per optimisation:

* **Summary** - as-of date, universe, screen, capital, cash before/after, turnover, costs,
  number of trades, risk figures, and sector exposure before/after with a native bar chart;
* **Trades** - ticker, name, side, shares, price, notional (an Excel formula: shares x price),
  estimated cost, weight before/after, reason;
* **Portfolio** - target holdings with weights, sector, fair value, discount, quality;
* **Screen** - the ranked candidates with every score that produced them;
* **Constraints** - each constraint, its setting, whether it binds, its shadow price;
* **Sources** - where every number came from (dataset, provider, as-of dates, files).

Every sheet has a native Excel table (filters), a frozen header row, number formats and
column widths; price / fair value is colour-coded. Text from outside the project (company
names, reasons, notes, file names) can never become a formula: a string starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return is written with a leading apostrophe.

Basket CSV (``<workbook>.basket.csv``): Interactive Brokers' BasketTrader layout, one order per
row under the header ``Action,Quantity,Symbol,SecType,Exchange,Currency,TimeInForce,
OrderType,LmtPrice,BasketTag``: ``BUY``/``SELL``, whole shares, the symbol (class shares with
a space, ``BRK B``), ``STK``, ``SMART``, ``USD``, ``DAY``, ``MKT`` (market order; ``LmtPrice``
empty) or ``LMT`` at the as-of price, and a tag naming the basket.

Writes are atomic (a temporary file in the same folder, then a rename): an interrupted export
leaves the old file or the new one, never a broken one. An existing file is only replaced when
the caller says so (``overwrite=True``: ``--force`` on the command line, a confirmation in the
terminal app).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from universes.errors import UserError
from universes.files import atomic_write, atomic_write_text

if TYPE_CHECKING:
    from optimizer.rotation import RotationResult
    from screener import ScreenResult
    from universes import Universe

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BASKET_COLUMNS = ("Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency", "TimeInForce", "OrderType", "LmtPrice", "BasketTag")

USD = '"$"#,##0.00'
USD0 = '"$"#,##0'
PCT = "0.00%"
INT = "#,##0"
NUM = "#,##0.00"
NUM3 = "0.000"


class ExportError(UserError):
    """The export cannot be written (the message says what to do); nothing was changed."""


@dataclass(frozen=True)
class ExportContext:
    """Where the numbers came from, for the Summary and Sources sheets."""

    as_of: str
    universe: str
    universe_description: str = ""
    screen: str = ""
    holdings: str = ""
    constraints: str = "shipped defaults"
    provider: str = "snapshot"
    dataset: str = "snapshot"
    manifest: dict[str, Any] = field(default_factory=dict)
    generated_at: str = ""
    version: str = ""


def tool_version() -> str:
    """The installed version of the project (``dev`` when run from a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smallcap-rotation")
    except PackageNotFoundError:
        return "dev"


def export_context(universe: Universe, screen_label: str, holdings_label: str, constraints_label: str) -> ExportContext:
    """Provenance of an export: as-of date, universe, screen, holdings, constraints, dataset."""
    from datetime import UTC, datetime

    from universes.datasets import read_manifest

    return ExportContext(
        as_of=universe.as_of.date().isoformat(),
        universe=universe.name,
        universe_description=universe.description,
        screen=screen_label,
        holdings=holdings_label,
        constraints=constraints_label,
        provider=universe.provider,
        dataset=universe.dataset,
        manifest=read_manifest(universe.dataset),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        version=tool_version(),
    )


def neutralise(value: Any) -> Any:
    """Make outside text inert in a spreadsheet: prefix an apostrophe to formula-like strings."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists. Use --force (or confirm in the app) to replace it, or choose another name.")
    if not path.parent.is_dir():
        raise ExportError(f"Folder {path.parent} does not exist. Create it first or choose another path.")
    if path.exists() and path.is_dir():
        raise ExportError(f"{path} is a folder. Give a file name ending in .xlsx.")


# ------------------------------------------------------------------------ workbook pieces
def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(i))


class _Sheet:
    """A write-only sheet with a header row, formats per column, a table and frozen header."""

    def __init__(self, wb: Any, title: str) -> None:
        self.ws = wb.create_sheet(title)
        self.title = title

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        formats: dict[int, str],
        widths: Sequence[float],
        name: str,
        start_row: int = 1,
        formula_columns: frozenset[int] = frozenset(),
        cleaned: bool = False,
    ) -> int:
        """Write a header and rows as a native table; returns the last row written.

        Strings are neutralised, except in ``formula_columns``, which hold the workbook's own
        formulas. ``cleaned`` rows hold plain Python values already (see :func:`_columns`).
        """
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font, PatternFill
        from openpyxl.worksheet.table import Table, TableStyleInfo

        ws = self.ws
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[_col(i)].width = w
        bold = Font(bold=True, color="FFFFFF")
        fill = PatternFill("solid", fgColor="1F4E78")
        header = []
        for h in headers:
            c = WriteOnlyCell(ws, value=neutralise(h))
            c.font = bold
            c.fill = fill
            header.append(c)
        ws.append(header)
        last = start_row
        prototypes: dict[int, Any] = {}
        for row in rows:
            last += 1
            out: list[Any] = []
            for j, v in enumerate(row):
                if not cleaned:
                    v = _clean(v)
                fmt = formats.get(j)
                own_formula = j in formula_columns and isinstance(v, str)
                if isinstance(v, str) and not own_formula:
                    out.append(neutralise(v))
                    continue
                if fmt is None or v is None:
                    out.append(v)
                    continue
                cell = WriteOnlyCell(ws, value=v)
                if j not in prototypes:
                    cell.number_format = fmt
                    prototypes[j] = cell._style
                else:
                    cell._style = prototypes[j]
                out.append(cell)
            ws.append(out)
        ref = f"A{start_row}:{_col(len(headers))}{max(last, start_row + 1)}"
        if last == start_row:
            ws.append([None] * len(headers))
        tab = Table(displayName=name, ref=ref)
        tab._initialise_columns()
        for column, h in zip(tab.tableColumns, headers, strict=True):
            column.name = str(neutralise(h))
        tab.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        with warnings.catch_warnings():  # openpyxl always warns in write-only mode; the columns are set above
            warnings.simplefilter("ignore", UserWarning)
            ws.add_table(tab)
        return last


def _columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column as plain Python values, NaN/inf/NA as None (vectorised :func:`_clean`)."""
    out = []
    for _, col in frame.items():
        if pd.api.types.is_float_dtype(col.dtype):
            values = col.to_numpy(dtype=float)
            ok = np.isfinite(values)
            out.append([float(x) if k else None for x, k in zip(values.tolist(), ok.tolist(), strict=True)])
        elif pd.api.types.is_bool_dtype(col.dtype) and not col.hasnans:
            out.append(col.to_numpy(dtype=bool).tolist())
        else:
            out.append([_clean(v) for v in col.tolist()])
    return out


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _summary(wb: Any, result: RotationResult, ctx: ExportContext) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    trades = result.trades
    stats = result.stats
    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 22
    for c in "CDE":
        ws.column_dimensions[c].width = 12
    title = WriteOnlyCell(ws, value="Rotation trade list")
    title.font = Font(bold=True, size=14)
    ws.append([title])
    items: list[tuple[str, Any, str | None]] = [
        ("As of", ctx.as_of, None),
        ("Universe", ctx.universe, None),
        ("Screen", ctx.screen, None),
        ("Holdings", ctx.holdings, None),
        ("Constraints", ctx.constraints, None),
        ("Portfolio value (capital)", trades.portfolio_value, USD),
        ("Cash before", trades.cash_before, USD),
        ("Cash after", trades.cash_after, USD),
        ("Buys", trades.buys, USD),
        ("Sells", trades.sells, USD),
        ("Turnover (buys + sells / value)", trades.turnover, PCT),
        ("Estimated costs", trades.costs, USD),
        ("Number of trades", len(trades.trades), INT),
        ("Positions after", stats["names"], INT),
        ("Expected alpha (annual)", stats["expected_alpha"], PCT),
        ("Volatility (annual)", stats["volatility"], PCT),
        ("Tracking error vs universe (annual)", stats["tracking_error"], PCT),
        ("Beta vs universe", stats["beta"], NUM),
        ("Objective", result.objective, "0.000000"),
        ("Status", result.status, None),
        ("Solver / solve time (ms)", f"{result.solver} / {result.solve_ms:.1f}", None),
    ]
    for label, value, fmt in items:
        cell = WriteOnlyCell(ws, value=neutralise(_clean(value)))
        if fmt:
            cell.number_format = fmt
        ws.append([label, cell])
    ws.append([])
    header_row = len(items) + 3
    sectors = result.sectors
    sheet = _Sheet.__new__(_Sheet)
    sheet.ws = ws
    sheet.title = "Summary"
    last = sheet.table(
        ["Sector", "Before", "After", "Min", "Max"],
        sectors[["sector", "before", "after", "min", "max"]].itertuples(index=False, name=None),
        {1: PCT, 2: PCT, 3: PCT, 4: PCT},
        [34, 22, 12, 12, 12],
        "SectorExposure",
        start_row=header_row,
    )
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Sector exposure before / after"
    chart.y_axis.title = "Weight"
    chart.y_axis.number_format = "0%"
    data = Reference(ws, min_col=2, max_col=3, min_row=header_row, max_row=max(last, header_row + 1))
    cats = Reference(ws, min_col=1, min_row=header_row + 1, max_row=max(last, header_row + 1))
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    chart.height = 9
    chart.width = 18
    ws.add_chart(chart, "G2")
    if result.notes:
        ws.append([])
        for note in result.notes:
            ws.append(["Note", neutralise(note)])


def _trades(wb: Any, result: RotationResult) -> None:
    t = result.trades.trades
    sheet = _Sheet(wb, "Trades")
    sheet.ws.freeze_panes = "A2"
    rows = []
    for i, r in enumerate(t.itertuples(index=False), start=2):
        rows.append(
            (r.ticker, r.name, r.side, r.shares, r.price, f"=D{i}*E{i}", r.est_cost, r.weight_before, r.weight_after, r.reason)
        )
    sheet.table(
        ["Ticker", "Name", "Side", "Shares", "Price", "Notional", "Est. cost", "Weight before", "Weight after", "Reason"],
        rows,
        {3: INT, 4: USD, 5: USD, 6: USD, 7: PCT, 8: PCT},
        [10, 34, 7, 11, 11, 15, 11, 13, 13, 48],
        "Trades",
        formula_columns=frozenset({5}),
    )


def _portfolio(wb: Any, result: RotationResult) -> None:
    held = result.positions()
    sheet = _Sheet(wb, "Portfolio")
    sheet.ws.freeze_panes = "A2"
    rows = [
        (
            t,
            r["name"],
            r["sector"],
            bool(r["manufacturing"]),
            r["weight_before"],
            r["weight_after"],
            r["price"],
            r["fair_value"],
            r["discount"],
            r["quality"],
            r["composite"],
            r["alpha"],
            r["binding"],
        )
        for t, r in held.iterrows()
    ]
    last = sheet.table(
        ["Ticker", "Name", "Sector", "Manufacturing", "Weight before", "Weight after", "Price", "Fair value", "Discount", "Quality", "Composite", "Alpha", "Binding"],
        rows,
        {4: PCT, 5: PCT, 6: USD, 7: USD, 8: PCT, 9: NUM, 10: NUM, 11: PCT},
        [10, 34, 20, 14, 13, 13, 11, 11, 10, 9, 10, 9, 30],
        "Portfolio",
    )
    _discount_colours(sheet.ws, f"I2:I{max(last, 2)}")


def _discount_colours(ws: Any, ref: str) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    ws.conditional_formatting.add(ref, CellIsRule(operator="greaterThan", formula=["0"], fill=PatternFill("solid", fgColor="C6EFCE")))
    ws.conditional_formatting.add(ref, CellIsRule(operator="lessThan", formula=["0"], fill=PatternFill("solid", fgColor="FFC7CE")))


SCREEN_FORMATS = {
    "market_cap": USD0,
    "price": USD,
    "fair_value": USD,
    "price_to_fair_value": NUM3,
    "discount": PCT,
    "altman_z": NUM,
    "composite": NUM,
    "quality": NUM,
    "value": NUM,
    "adv_usd": USD0,
    "implied_growth": PCT,
}


def _screen(wb: Any, screen: ScreenResult) -> None:
    ranked = screen.top()
    columns = [c for c in ranked.columns if c not in ("passes",)]
    frame = ranked[columns]
    formats = {i: SCREEN_FORMATS[c] for i, c in enumerate(columns) if c in SCREEN_FORMATS}
    sheet = _Sheet(wb, "Screen")
    sheet.ws.freeze_panes = "C2"
    widths = [6 if c == "rank" else 10 if c == "ticker" else 30 if c == "name" else 18 if c in ("sector", "industry") else 13 for c in columns]
    rows = zip(*_columns(frame), strict=True)
    last = sheet.table(columns, rows, formats, widths, "Screen", cleaned=True)
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    col = _col(columns.index("price_to_fair_value") + 1)
    ref = f"{col}2:{col}{max(last, 2)}"
    sheet.ws.conditional_formatting.add(ref, CellIsRule(operator="lessThan", formula=["1"], fill=PatternFill("solid", fgColor="C6EFCE")))
    sheet.ws.conditional_formatting.add(ref, CellIsRule(operator="greaterThanOrEqual", formula=["1"], fill=PatternFill("solid", fgColor="FFC7CE")))


def _constraints(wb: Any, result: RotationResult) -> None:
    c = result.constraints
    sheet = _Sheet(wb, "Constraints")
    sheet.ws.freeze_panes = "A2"
    sheet.table(
        ["Constraint", "Setting", "Enabled", "Binding", "Shadow price (objective per 1 pp loosening)", "Level"],
        c[["name", "setting", "enabled", "binding", "shadow_price", "level"]].itertuples(index=False, name=None),
        {4: "0.000000", 5: "0.0000"},
        [26, 40, 9, 9, 24, 12],
        "Constraints",
    )


def _sources(wb: Any, ctx: ExportContext, result: RotationResult) -> None:
    m = ctx.manifest
    rows: list[tuple[str, Any]] = [
        ("Data provider", ctx.provider),
        ("Dataset", ctx.dataset),
        ("Point in time as of", ctx.as_of),
        ("Dataset as of", m.get("as_of", "")),
        ("Price window", " to ".join(m.get("price_window", []))),
    ]
    rows += [(f"Source: {k}", v) for k, v in m.get("sources", {}).items()]
    rows += [
        ("Universe", f"{ctx.universe}: {ctx.universe_description}"),
        ("Screen", ctx.screen),
        ("Holdings", ctx.holdings),
        ("Constraints", ctx.constraints),
        ("Generated", ctx.generated_at),
        ("Tool", f"rotation {ctx.version}"),
    ]
    rows += [(f"File checksum: {name}", info.get("sha256", "")) for name, info in m.get("files", {}).items()]
    rows += [("Note", n) for n in result.notes]
    sheet = _Sheet(wb, "Sources")
    sheet.ws.freeze_panes = "A2"
    sheet.table(["Item", "Value"], rows, {}, [32, 90], "Sources")


def build_workbook(result: RotationResult, screen: ScreenResult, ctx: ExportContext) -> Any:
    """The openpyxl workbook (write-only; save it once)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    _summary(wb, result, ctx)
    _trades(wb, result)
    _portfolio(wb, result)
    _screen(wb, screen)
    _constraints(wb, result)
    _sources(wb, ctx, result)
    return wb


def save_workbook(wb: Any, path: Path) -> None:
    """Save like ``Workbook.save``, with fast ZIP compression (level 1 instead of 6).

    A workbook is mostly repetitive XML: level 1 costs about 10% in file size and saves a
    sixth of the export time for a 3,000-row screen.
    """
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    archive = ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    ExcelWriter(wb, archive).save()  # closes the archive


def basket_path(xlsx: Path) -> Path:
    """The basket CSV written beside a workbook."""
    return xlsx.with_name(xlsx.stem + ".basket.csv")


def basket_csv(result: RotationResult, order_type: str = "MKT", tag: str = "rotation") -> str:
    """The basket file's text (see the module docstring for the layout)."""
    if order_type not in ("MKT", "LMT"):
        raise ValueError("order_type must be MKT or LMT")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(BASKET_COLUMNS)
    for r in result.trades.trades.itertuples(index=False):
        limit = f"{r.price:.2f}" if order_type == "LMT" else ""
        symbol = str(r.ticker).replace("-", " ")
        writer.writerow([r.side, int(r.shares), neutralise(symbol), "STK", "SMART", "USD", "DAY", order_type, limit, neutralise(tag)])
    return buf.getvalue()


def export_rotation(
    path: str | Path,
    result: RotationResult,
    screen: ScreenResult,
    ctx: ExportContext,
    *,
    overwrite: bool = False,
    order_type: str = "MKT",
) -> tuple[Path, Path]:
    """Write the workbook and the basket CSV beside it, atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook (``.xlsx``).
    result : RotationResult
    screen : ScreenResult
    ctx : ExportContext
    overwrite : bool
        Replace existing files (otherwise an existing file is an error and nothing is written).
    order_type : {"MKT", "LMT"}

    Returns
    -------
    tuple of pathlib.Path
        The workbook and the basket file.

    Raises
    ------
    ExportError
        A target exists without ``overwrite``, the folder is missing, or the write failed.
    """
    xlsx = Path(path).expanduser()
    if xlsx.suffix.lower() != ".xlsx":
        raise ExportError(f"{xlsx}: the workbook must end in .xlsx.")
    basket = basket_path(xlsx)
    _check_target(xlsx, overwrite)
    _check_target(basket, overwrite)
    text = basket_csv(result, order_type, tag=f"rotation-{ctx.as_of}")
    wb = build_workbook(result, screen, ctx)
    try:
        atomic_write(xlsx, lambda tmp: save_workbook(wb, tmp))
        atomic_write_text(basket, text)
    except OSError as exc:
        raise ExportError(f"Could not write {xlsx}: {exc}. Nothing was replaced.") from exc
    return xlsx, basket
