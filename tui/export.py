"""The trade list leaves the tool: an Excel workbook and a broker basket CSV, written as a pair.

Workbook (written with XlsxWriter), one per optimisation:

* **Summary** - as-of date, universe, screen, capital, cash before/after, turnover, costs,
  number of trades, positions (before, in the target, after the trades), risk figures, and
  sector exposure before/after with a native bar chart;
* **Trades** - ticker, name, side, shares, price, notional (an Excel formula, shares x price,
  stored with its computed value), estimated cost, weight before, target weight, weight after
  trades, reason;
* **Portfolio** - every position held before or after, with the same three weights, sector,
  fair value, discount, quality;
* **Themes** - the weight in each investment theme (a name may count in several) before, in
  the target and after the trades, with the limits;
* **Styles** - size, value, momentum, quality and leverage exposures in cross-sectional
  standard deviations, the benchmark's beside them;
* **Screen** - the ranked candidates with every score that produced them, under readable
  headers; the headline columns come first and are the ones printed;
* **Constraints** - each constraint in words, its setting, whether it binds, its shadow price
  (or why it has none) and its level in the target and after the trades;
* **Sources** - where every number came from (dataset, provider, as-of dates, files).

Two weights are never confused: *Target weight* is the optimiser's weight; *Weight after
trades* is what the trade list actually reaches (whole lots, skipped small trades), so a name
"at the name cap 5%" shows a target of 5.00% beside, say, 4.99% after the trades. Both are
fractions of the portfolio's value before trading: the positions after trades, the cash left
and the estimated costs add up to 100%.

Every table sheet has a native Excel table (filters), a frozen header row, a number format on
every numeric column, widths that fit the headers, and a page setup for printing: landscape,
one page wide, the header row repeated on every page, a print area, the sheet name and page
numbers in the page header. Formula cells carry their computed values, so readers that do not
recalculate (pandas, file previewers) see numbers. Text from outside the project (company
names, reasons, notes, file names) can never become a formula: a string starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return is written with a leading apostrophe.

Basket CSV (``<workbook>.basket.csv``): Interactive Brokers' BasketTrader layout, one order per
row under the header ``Action,Quantity,Symbol,SecType,Exchange,Currency,TimeInForce,
OrderType,LmtPrice,BasketTag``: ``BUY``/``SELL``, whole shares, the symbol (class shares with
a space, ``BRK B``), ``STK``, ``SMART``, ``USD``, ``DAY``, ``MKT`` (market order; ``LmtPrice``
empty) or ``LMT`` at the as-of price, and a tag naming the basket.

The workbook and its basket land together or not at all: both are written in full to
temporary files in the target folder, then both moved over the targets; if the second move
fails, the first target is put back as it was. A failed write (read-only folder, full disk)
raises :class:`ExportError`, and SIGINT or SIGTERM during an export raises
:class:`ExportInterrupted`; either way the old files are untouched and no temporary file is
left behind. Signal handlers can only be installed on the main thread, so they are installed
there, around the write only; a front end exporting in a worker thread calls
:func:`discard_unfinished_exports` from its own SIGTERM handler. An existing file is only replaced when the caller says so (``overwrite=True``:
``--force`` on the command line, a confirmation in the terminal app).
"""

from __future__ import annotations

import csv
import errno
import io
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from universes.errors import UserError

if TYPE_CHECKING:
    from optimizer.rotation import RotationResult
    from screener import ScreenResult
    from universes import Universe

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BASKET_COLUMNS = ("Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency", "TimeInForce", "OrderType", "LmtPrice", "BasketTag")

USD = '"$"#,##0.00'
USD0 = '"$"#,##0'
PCT = "0.00%"
PCT0 = "0%"
INT = "#,##0"
WHOLE = "0"  # codes and years: no thousands separator
NUM = "#,##0.00"
NUM1 = "0.0"
NUM3 = "0.000"
BOOL = '"TRUE";"TRUE";"FALSE"'  # Excel shows booleans so anyway; LibreOffice shows 1 and 0 without it


class ExportError(UserError):
    """The export cannot be written (the message says what to do); nothing was changed."""


class ExportInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived during an export: nothing was replaced, no temporary file is left.

    A :class:`KeyboardInterrupt`, so a front end that already handles Ctrl+C handles both.

    Attributes
    ----------
    signum : int
        The signal that arrived.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"{signal.Signals(signum).name} during the export; nothing was replaced.")
        self.signum = signum


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


# ------------------------------------------------------------------------ sheet contents
@dataclass(frozen=True)
class Column:
    """One column of a sheet's table.

    Attributes
    ----------
    header : str
        The heading shown (unique within the table).
    values : list
        Plain Python values, one per row: float, int, bool, str, ``datetime`` or None (blank).
    number_format : str or None
        Excel number format of the whole column.
    width : float
        Column width in characters (at least the header's longest word fits).
    formula : str or None
        An Excel formula written in every row instead of a constant, with ``{row}`` standing
        for the row number; ``values`` then holds each row's computed result.
    """

    header: str
    values: list[Any]
    number_format: str | None = None
    width: float = 12.0
    formula: str | None = None


@dataclass(frozen=True)
class Highlight:
    """Colour a column's cells green where ``operator value`` holds and red where it does not."""

    header: str
    operator: str  # ">" or "<"
    value: float


@dataclass(frozen=True)
class TableSheet:
    """A sheet holding one native table, with its print setup.

    Attributes
    ----------
    title : str
        Sheet name and the table's name (for a table placed on another sheet, just the latter).
    columns : tuple of Column
    frozen_columns : int
        Columns kept in view when scrolling sideways (the header row is always frozen).
    printed_columns : int or None
        How many leading columns the print area takes (None: all). The rest stay in the sheet.
    highlight : Highlight or None
    """

    title: str
    columns: tuple[Column, ...]
    frozen_columns: int = 0
    printed_columns: int | None = None
    highlight: Highlight | None = None

    @property
    def rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0


@dataclass(frozen=True)
class SummaryItem:
    """One labelled figure of the Summary sheet."""

    label: str
    value: Any
    number_format: str | None = None


def frame_sheet(title: str, frame: pd.DataFrame, formats: dict[str, str] | None = None, widths: dict[str, float] | None = None) -> TableSheet:
    """A table sheet holding a DataFrame's columns as they are (headers: the column names)."""
    formats = formats or {}
    widths = widths or {}
    return TableSheet(
        title,
        tuple(Column(str(c), _plain(frame[c]), formats.get(str(c)), widths.get(str(c), 13.0)) for c in frame.columns),
    )


def new_workbook(buffer: IO[bytes]) -> Any:
    """An in-memory XlsxWriter workbook in which outside text can never become a formula, a
    link or a number."""
    import xlsxwriter

    return xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )


def write_file(target: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write one export file atomically, interrupts included (see :func:`write_together`)."""
    interrupts = _Interrupts()
    try:
        with interrupts.installed():
            write_together([(target, write)], interrupts)
    except _TargetError as exc:
        raise _failure(exc.target, exc.error, target) from None


def _plain(values: pd.Series) -> list[Any]:
    """A column as plain Python values, NaN/inf/NA/NaT as None."""
    if pd.api.types.is_float_dtype(values.dtype):
        floats = values.to_numpy(dtype=float)
        ok = np.isfinite(floats)
        return [x if k else None for x, k in zip(floats.tolist(), ok.tolist(), strict=True)]
    if pd.api.types.is_bool_dtype(values.dtype) and not values.hasnans:
        return [bool(x) for x in values.to_numpy(dtype=bool).tolist()]
    return [v if type(v) is str else _clean(v) for v in values.tolist()]


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def summary_items(result: RotationResult, ctx: ExportContext, portfolio: TableSheet, rates: dict[str, Any] | None = None) -> list[SummaryItem]:
    """The Summary sheet's figures; position counts are counted on the Portfolio sheet's rows.

    ``rates`` is :func:`screener.rate_cuts.portfolio_rate_sensitivity` of the weights after trades.
    """
    trades = result.trades
    stats = result.stats

    def held(header: str) -> int:
        values = next(c.values for c in portfolio.columns if c.header == header)
        return sum(1 for v in values if v)

    return [
        SummaryItem("As of", ctx.as_of),
        SummaryItem("Universe", ctx.universe),
        SummaryItem("Screen", ctx.screen),
        SummaryItem("Holdings", ctx.holdings),
        SummaryItem("Constraints", ctx.constraints),
        SummaryItem("Portfolio value (capital)", trades.portfolio_value, USD),
        SummaryItem("Cash before", trades.cash_before, USD),
        SummaryItem("Cash after", trades.cash_after, USD),
        SummaryItem("Buys", trades.buys, USD),
        SummaryItem("Sells", trades.sells, USD),
        SummaryItem("Turnover (buys + sells / value)", trades.turnover, PCT),
        SummaryItem("Estimated costs", trades.costs, USD),
        SummaryItem("Number of trades", len(trades.trades), INT),
        SummaryItem("Positions before", held("Weight before"), INT),
        SummaryItem("Positions in the target", held("Target weight"), INT),
        SummaryItem("Positions after trades", held("Weight after trades"), INT),
        SummaryItem("Expected alpha (annual)", stats["expected_alpha"], PCT),
        SummaryItem("Volatility (annual)", stats["volatility"], PCT),
        SummaryItem("Tracking error vs universe (annual)", stats["tracking_error"], PCT),
        SummaryItem("Beta vs universe", stats["beta"], NUM),
        SummaryItem("Expected alpha after trades", stats.get("expected_alpha_sent"), PCT),
        SummaryItem("Tracking error after trades", stats.get("tracking_error_sent"), PCT),
        SummaryItem("Beta after trades", stats.get("beta_sent"), NUM),
        SummaryItem("Holding horizon for costs (years)", stats.get("holding_years"), NUM1),
        *rate_items(rates),
        SummaryItem("Objective", result.objective, "0.000000"),
        SummaryItem("Status", result.status),
        SummaryItem("Solver / solve time (ms)", f"{result.solver} / {result.solve_ms:.1f}"),
    ]


def rate_items(rates: dict[str, Any] | None) -> list[SummaryItem]:
    """The portfolio's rate sensitivity as Summary figures (none without it)."""
    if rates is None:
        return []
    return [
        SummaryItem("Earnings a 100 bp cut adds (per $ invested)", rates["earnings_yield_gain"], "0.000%"),
        SummaryItem("Change of look-through earnings from the cut", rates["earnings_change"], PCT),
        SummaryItem("Weight in net-cash names", rates["net_cash_weight"], PCT),
        SummaryItem("Weight with a rate figure", rates["covered"], PCT),
    ]


def group_table(title: str, header: str, frame: pd.DataFrame, width: float) -> TableSheet:
    """A group's weight before, in the target and after trades, with its limits (sectors, themes)."""
    g = frame.reindex(columns=["label", "before", "after", "sent", "min", "max"])
    return TableSheet(
        title,
        (
            Column(header, [str(x).replace("_", " ") for x in g["label"]], None, width),
            Column("Before", _plain(g["before"].astype(float)), PCT, 12),
            Column("Target", _plain(g["after"].astype(float)), PCT, 12),
            Column("After trades", _plain(g["sent"].astype(float)), PCT, 12),
            Column("Min", _plain(g["min"].astype(float)), PCT, 12),
            Column("Max", _plain(g["max"].astype(float)), PCT, 12),
        ),
    )


def sector_table(result: RotationResult) -> TableSheet:
    """Sector exposure before, in the target and after trades, with the limits (a table on the
    Summary sheet)."""
    return group_table("SectorExposure", "Sector", result.sectors.rename(columns={"sector": "label"}), 34)


def themes_sheet(result: RotationResult) -> TableSheet:
    """The Themes sheet: the weight in each theme before, in the target and after trades."""
    return group_table("Themes", "Theme", result.themes.rename(columns={"theme": "label"}), 24)


def styles_sheet(result: RotationResult) -> TableSheet:
    """The Styles sheet: style exposures in cross-sectional standard deviations."""
    st = result.styles.reindex(columns=["style", "before", "after", "sent", "benchmark"])
    return TableSheet(
        "Styles",
        (
            Column("Style", _plain(st["style"]), None, 14),
            Column("Before", _plain(st["before"].astype(float)), NUM, 10),
            Column("Target", _plain(st["after"].astype(float)), NUM, 10),
            Column("After trades", _plain(st["sent"].astype(float)), NUM, 12),
            Column("Benchmark", _plain(st["benchmark"].astype(float)), NUM, 12),
        ),
    )


def trades_sheet(result: RotationResult) -> TableSheet:
    """The Trades sheet: one row per order, notional as a formula with its value."""
    t = result.trades.trades
    target = result.weights["weight_after"].reindex(t["ticker"]).astype(float).reset_index(drop=True)
    notional = "=D{row}*E{row}"  # Shares x Price, the fourth and fifth columns below
    return TableSheet(
        "Trades",
        (
            Column("Ticker", _plain(t["ticker"]), None, 9),
            Column("Name", _plain(t["name"]), None, 32),
            Column("Side", _plain(t["side"]), None, 7),
            Column("Shares", _plain(t["shares"].astype(float)), INT, 10),
            Column("Price", _plain(t["price"].astype(float)), USD, 11),
            Column("Notional", _plain((t["shares"] * t["price"]).astype(float)), USD, 15, formula=notional),
            Column("Est. cost", _plain(t["est_cost"].astype(float)), USD, 11),
            Column("Weight before", _plain(t["weight_before"].astype(float)), PCT, 10),
            Column("Target weight", _plain(target), PCT, 10),
            Column("Weight after trades", _plain(t["weight_after"].astype(float)), PCT, 10),
            Column("Reason", _plain(t["reason"]), None, 44),
        ),
        frozen_columns=1,
    )


def portfolio_sheet(result: RotationResult) -> TableSheet:
    """The Portfolio sheet: every name held before or after, largest target weight first."""
    held = result.positions()
    return TableSheet(
        "Portfolio",
        (
            Column("Ticker", [str(t) for t in held.index], None, 9),
            Column("Name", _plain(held["name"]), None, 32),
            Column("Sector", _plain(held["sector"]), None, 20),
            Column("Manufacturing", _plain(held["manufacturing"].astype(bool)), BOOL, 8),
            Column("Weight before", _plain(held["weight_before"].astype(float)), PCT, 10),
            Column("Target weight", _plain(held["weight_after"].astype(float)), PCT, 10),
            Column("Weight after trades", _plain(held["weight_sent"].astype(float)), PCT, 10),
            Column("Shares before", _plain(held["shares_before"].astype(float)), INT, 10),
            Column("Shares after trades", _plain(held["shares_after"].astype(float)), INT, 10),
            Column("Price", _plain(held["price"].astype(float)), USD, 11),
            Column("Fair value", _plain(held["fair_value"].astype(float)), USD, 11),
            Column("Discount", _plain(held["discount"].astype(float)), PCT, 10),
            Column("Quality", _plain(held["quality"].astype(float)), NUM1, 9),
            Column("Score", _plain(held["composite"].astype(float)), NUM1, 10),
            Column("Alpha", _plain(held["alpha"].astype(float)), PCT, 9),
            Column("Bound by", _plain(held["binding"]), None, 30),
        ),
        frozen_columns=1,
        highlight=Highlight("Discount", ">", 0.0),
    )


#: The Screen sheet's headline columns, in order: the ones printed.
SCREEN_HEADLINE = (
    "rank",
    "ticker",
    "name",
    "sector",
    "industry",
    "market_cap",
    "price",
    "fair_value",
    "price_to_fair_value",
    "discount",
    "piotroski_f",
    "altman_z",
    "value",
    "quality",
    "composite",
    "adv_usd",
)

#: The Screen sheet's further columns, after the headline: what explains a rank (red flags,
#: each fair-value method and its range, the balance-sheet ratios, the points each factor
#: gave). The screen computes many more (Piotroski's nine signals, Altman's ratios, Beneish's
#: indexes, percentiles, rate-cut inputs): they would triple the sheet and its writing time,
#: so they stay in ``rotation screen --format csv``, which the Sources sheet names.
SCREEN_EVIDENCE = (
    "flags",
    "fair_value_bear",
    "fair_value_bull",
    "fv_epv",
    "fv_dcf",
    "fv_ev_ebit",
    "fv_pb",
    "fv_graham",
    "uncertainty",
    "implied_growth",
    "interest_coverage",
    "net_debt_to_ebitda",
    "current_ratio",
    "sloan_accruals",
    "gross_profitability",
    "z_zone",
    "beneish_m",
    "rate_cut_gain",
    "manufacturing",
    "fiscal_year",
)

#: Heading, number format and width of the screen table's columns.
SCREEN_COLUMNS: dict[str, tuple[str, str | None, float]] = {
    "rank": ("Rank", WHOLE, 6),
    "ticker": ("Ticker", None, 8),
    "name": ("Name", None, 28),
    "sector": ("Sector", None, 18),
    "industry": ("Industry", None, 20),
    "sic": ("SIC code", WHOLE, 8),
    "market_cap": ("Market cap", USD0, 15),
    "price": ("Price", USD, 10),
    "fair_value": ("Fair value", USD, 10),
    "price_to_fair_value": ("Price / fair value", NUM3, 10),
    "discount": ("Discount to fair value", PCT, 10),
    "piotroski_f": ("Piotroski F", WHOLE, 9),
    "altman_z": ("Altman Z", NUM, 9),
    "value": ("Value score", NUM1, 8),
    "quality": ("Quality score", NUM1, 8),
    "composite": ("Score", NUM1, 10),
    "adv_usd": ("Daily volume (USD)", USD0, 13),
    "manufacturing": ("Manufacturer", BOOL, 13),
    "life_sciences": ("Life sciences", BOOL, 9),
    "exchange": ("Exchange", None, 10),
    "shares": ("Shares outstanding", INT, 14),
    "fiscal_year": ("Fiscal year", WHOLE, 7),
    "epv_op_margin": ("EPV operating margin", PCT, 10),
    "epv_normalised_earnings": ("EPV normalised earnings", USD0, 15),
    "fv_epv": ("Fair value: EPV", USD, 10),
    "ev_to_ebit": ("EV / EBIT", NUM, 9),
    "price_to_book": ("Price / book", NUM, 9),
    "peer_ev_to_ebit": ("Peer EV / EBIT", NUM, 9),
    "peer_price_to_book": ("Peer price / book", NUM, 9),
    "fv_ev_ebit": ("Fair value: EV / EBIT", USD, 10),
    "fv_pb": ("Fair value: price / book", USD, 10),
    "fv_multiples": ("Fair value: multiples", USD, 10),
    "dcf_fcf0": ("DCF free cash flow", USD0, 15),
    "dcf_capex_avg": ("DCF average capex", USD0, 15),
    "dcf_g0": ("DCF growth", PCT, 9),
    "fv_dcf": ("Fair value: DCF", USD, 10),
    "implied_growth": ("Growth the price implies", PCT, 10),
    "implied_growth_note": ("Implied growth note", None, 24),
    "eps": ("EPS", USD, 9),
    "book_per_share": ("Book per share", USD, 9),
    "fv_graham": ("Fair value: Graham", USD, 10),
    "net_debt": ("Net debt", USD0, 15),
    "fv_methods": ("Fair value methods", WHOLE, 8),
    "uncertainty": ("Uncertainty grade", None, 11),
    "piotroski_available": ("Piotroski signals available", WHOLE, 10),
    "altman_model": ("Altman model", None, 8),
    "z_zone": ("Altman zone", None, 9),
    "beneish_m": ("Beneish M-score", NUM, 9),
    "beneish_flag": ("Beneish flag", None, 10),
    "interest_coverage": ("Interest coverage", NUM, 9),
    "net_debt_to_ebitda": ("Net debt / EBITDA", NUM, 9),
    "current_ratio": ("Current ratio", NUM, 9),
    "sloan_accruals": ("Sloan accruals", PCT, 9),
    "gross_profitability": ("Gross profit / assets", NUM, 10),
    "revenue": ("Revenue", USD0, 15),
    "operating_income": ("Operating income", USD0, 15),
    "net_income": ("Net income", USD0, 15),
    "total_equity": ("Total equity", USD0, 15),
    "total_assets": ("Total assets", USD0, 15),
    "years_of_data": ("Years of data", WHOLE, 7),
    "flags": ("Red flags", None, 22),
    "fair_value_bear": ("Fair value: bear case", USD, 10),
    "fair_value_bull": ("Fair value: bull case", USD, 10),
    "rate_cut_gain": ("Earnings a 100 bp cut adds (of market cap)", PCT, 12),
    "flag_penalty": ("Penalty for red flags", NUM1, 9),
}
BENEISH_INDEXES = ("dsri", "gmi", "aqi", "sgi", "depi", "sgai", "tata", "lvgi")


def screen_column(name: str, dtype: Any) -> tuple[str, str | None, float]:
    """Heading, number format and width for a column of the screen table.

    Columns not listed in :data:`SCREEN_COLUMNS` get a heading from their family (fair
    values, Piotroski signals, Altman ratios, Beneish indexes, factor percentiles and points)
    or from the name itself, and a number format from their type, so no number is ever shown
    with a dozen digits.
    """
    from screener.quality import PIOTROSKI_LABELS
    from screener.ranking import FACTORS

    if name in SCREEN_COLUMNS:
        return SCREEN_COLUMNS[name]
    if name in PIOTROSKI_LABELS:
        return (f"Piotroski: {PIOTROSKI_LABELS[name]}", WHOLE, 12)
    if name.startswith("z_x"):
        return (f"Altman X{name[3:]}", NUM3, 8)
    if name in BENEISH_INDEXES:
        return (f"Beneish {name.upper()}", NUM3, 8)
    for prefix, label, fmt in (("pct_", "Percentile", PCT0), ("contrib_", "Points", NUM1)):
        if name.startswith(prefix):
            factor = FACTORS.get(name[len(prefix) :])
            what = factor.label if factor is not None else name[len(prefix) :].replace("_", " ")
            return (f"{label}: {what}", fmt, 12)
    label = name.replace("_", " ").capitalize()
    if name.startswith("fv_"):
        return (f"Fair value: {name[3:].replace('_', ' ')}", USD, 10)
    if pd.api.types.is_bool_dtype(dtype):
        return (label, BOOL, 10)
    if pd.api.types.is_integer_dtype(dtype):
        return (label, INT, 10)
    if pd.api.types.is_numeric_dtype(dtype):
        return (label, NUM, 12)
    return (label, None, 14)


def screen_sheet(screen: ScreenResult) -> TableSheet:
    """The Screen sheet: every ranked candidate, the headline columns, then the evidence for
    each rank (:data:`SCREEN_EVIDENCE`) and the points each factor gave."""
    ranked = screen.top()
    headline = [c for c in SCREEN_HEADLINE if c in ranked.columns]
    evidence = [c for c in SCREEN_EVIDENCE if c in ranked.columns]
    points = [c for c in ranked.columns if c.startswith("contrib_")] + [c for c in ("flag_penalty",) if c in ranked.columns]
    columns = []
    for name in headline + evidence + points:
        label, fmt, width = screen_column(name, ranked[name].dtype)
        columns.append(Column(label, _plain(ranked[name]), fmt, width))
    return TableSheet(
        "Screen",
        tuple(columns),
        frozen_columns=2,
        printed_columns=len(headline),
        highlight=Highlight("Price / fair value", "<", 1.0) if "price_to_fair_value" in headline else None,
    )


def constraints_sheet(result: RotationResult) -> TableSheet:
    """The Constraints sheet: each constraint, whether it binds, and what loosening it is worth."""
    c = result.constraints
    return TableSheet(
        "Constraints",
        (
            Column("Constraint", _plain(c["label"]), None, 30),
            Column("Setting", _plain(c["setting"]), None, 40),
            Column("Enabled", _plain(c["enabled"]), BOOL, 9),
            Column("Binding", _plain(c["binding"]), BOOL, 9),
            Column("Shadow price (objective per 1 pp loosening)", _plain(c["shadow_price"].astype(float)), "0.000000", 24),
            Column("Why no shadow price", _plain(c["shadow_price_note"].fillna("")), None, 36),
            Column("Level in the target", _plain(c["level"].astype(float)), "0.0000", 12),
            Column("Level after trades", _plain(c["level_sent"].astype(float)), "0.0000", 12),
            Column("Key", _plain(c["name"]), None, 22),
        ),
    )


def sources_sheet(ctx: ExportContext, result: RotationResult, screen_columns: tuple[int, int] | None = None) -> TableSheet:
    """The Sources sheet: provider, dataset, dates, inputs, file checksums and notes."""
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
    if screen_columns is not None:
        shown, computed = screen_columns
        rows.append(
            (
                "Screen sheet",
                f"{shown} of the {computed} columns the screen computed: the ones that explain a rank. "
                f"Every column: rotation screen --universe {ctx.universe} --format csv (same screen and as-of).",
            )
        )
    rows += [(f"File checksum: {name}", info.get("sha256", "")) for name, info in m.get("files", {}).items()]
    rows += [("Note", n) for n in result.notes]
    return TableSheet("Sources", (Column("Item", [r[0] for r in rows], None, 32), Column("Value", [_clean(r[1]) for r in rows], None, 90)))


def workbook_sheets(result: RotationResult, screen: ScreenResult, ctx: ExportContext) -> tuple[list[SummaryItem], TableSheet, list[TableSheet]]:
    """What the workbook holds, independent of the library that writes it.

    Returns
    -------
    summary : list of SummaryItem
        The Summary sheet's figures.
    sectors : TableSheet
        The sector exposure table of the Summary sheet (and its chart's data).
    tables : list of TableSheet
        Trades, Portfolio, Themes, Styles, Screen, Constraints and Sources, in sheet order.
    """
    from screener.rate_cuts import portfolio_rate_sensitivity

    portfolio = portfolio_sheet(result)
    screen_table = screen_sheet(screen)
    computed = sum(c != "passes" for c in screen.top(1).columns)
    sources = sources_sheet(ctx, result, (len(screen_table.columns), computed))
    tables = [trades_sheet(result), portfolio, themes_sheet(result), styles_sheet(result), screen_table, constraints_sheet(result), sources]
    rates = None
    if "rate_cut_gain" in screen.table.columns:
        rates = portfolio_rate_sensitivity(result.weights["weight_sent"], screen.table, screen.table)
    return summary_items(result, ctx, portfolio, rates), sector_table(result), tables


# ------------------------------------------------------------------------ writing the workbook
class WorkbookWriter:
    """Writes :class:`TableSheet` contents into an XlsxWriter workbook, with the print setup.

    ``heading`` is printed at the top of every page (e.g. "Rotation trade list as of ...").
    """

    def __init__(self, book: Any, heading: str) -> None:
        self.book = book
        self.heading_text = heading
        self.formats: dict[tuple[Any, ...], Any] = {}
        # the table style colours headers in Excel; the format does it for every other reader
        self.heading = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "text_wrap": True, "valign": "top"})

    def format(self, number_format: str | None, **extra: Any) -> Any:
        key = (number_format, *sorted(extra.items()))
        if key not in self.formats:
            props = dict(extra)
            if number_format:
                props["num_format"] = number_format
            self.formats[key] = self.book.add_format(props) if props else None
        return self.formats[key]

    def page_setup(self, ws: Any, last_row: int, last_col: int, header_row: int | None) -> None:
        """Landscape, one page wide, the header row repeated, print area, sheet name, page numbers."""
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.5)
        if header_row is not None:
            ws.repeat_rows(header_row)
        ws.print_area(0, 0, last_row, last_col)
        ws.set_header(f'&L&"-,Bold"&A&C{self.heading_text}&RPage &P of &N', {"margin": 0.25})

    def table(self, ws: Any, sheet: TableSheet, first_row: int = 0) -> int:
        """Write ``sheet``'s table starting at ``first_row``; returns the last row (0-based)."""
        rows = sheet.rows
        last_row = first_row + max(rows, 1)
        widths = []
        for j, col in enumerate(sheet.columns):
            width = max(col.width, max(len(w) for w in col.header.split()) + 2)
            widths.append(width)
            fmt = self.format(col.number_format)
            if first_row == 0:
                ws.set_column(j, j, width, fmt)
            self._values(ws, first_row + 1, j, col, fmt)
        lines = max(-(-len(col.header) // max(int(w) - 1, 1)) for col, w in zip(sheet.columns, widths, strict=True))
        ws.set_row(first_row, 15 * min(lines, 4))
        ws.add_table(
            first_row,
            0,
            last_row,
            len(sheet.columns) - 1,
            {
                "name": sheet.title,
                "style": "Table Style Medium 2",
                "columns": [{"header": c.header, "header_format": self.heading} for c in sheet.columns],
            },
        )
        if sheet.highlight is not None:
            j = [c.header for c in sheet.columns].index(sheet.highlight.header)
            h = sheet.highlight
            good, bad = (">", "<=") if h.operator == ">" else ("<", ">=")
            for criteria, colour in ((good, "#C6EFCE"), (bad, "#FFC7CE")):
                ws.conditional_format(first_row + 1, j, last_row, j, {"type": "cell", "criteria": criteria, "value": h.value, "format": self.format(None, bg_color=colour)})
        return last_row

    def _values(self, ws: Any, first_row: int, j: int, col: Column, fmt: Any) -> None:
        rows = range(first_row, first_row + len(col.values))
        if col.formula is not None:
            for i, v in zip(rows, col.values, strict=True):
                ws.write_formula(i, j, col.formula.format(row=i + 1), fmt, 0 if v is None else v)
            return
        kinds = {type(v) for v in col.values} - {type(None)}
        if kinds <= {int, float}:  # the bulk of the Screen sheet: one call per number
            write_number = ws.write_number
            for i, v in zip(rows, col.values, strict=True):
                if v is not None:
                    write_number(i, j, v, fmt)
            return
        for i, v in zip(rows, col.values, strict=True):
            if v is None or v == "":  # a blank cell reads the same, and costs nothing to write
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v, fmt)
            elif isinstance(v, int | float):
                ws.write_number(i, j, v, fmt)
            elif isinstance(v, str):
                ws.write_string(i, j, neutralise(v), fmt)
            elif hasattr(v, "isoformat"):
                ws.write_datetime(i, j, v, self.format("yyyy-mm-dd"))
            else:
                ws.write_string(i, j, neutralise(str(v)), fmt)

    def table_sheet(self, sheet: TableSheet) -> None:
        ws = self.book.add_worksheet(sheet.title)
        last_row = self.table(ws, sheet)
        ws.freeze_panes(1, sheet.frozen_columns)
        printed = sheet.printed_columns or len(sheet.columns)
        self.page_setup(ws, last_row, printed - 1, header_row=0)
        if printed < len(sheet.columns):
            ws.set_footer(f"&CPrinted: the first {printed} columns; the sheet holds all {len(sheet.columns)}.")

    def summary(self, items: list[SummaryItem], sectors: TableSheet, notes: Sequence[str]) -> None:
        ws = self.book.add_worksheet("Summary")
        ws.set_column(0, 0, 34)
        ws.set_column(1, 1, 22)
        ws.set_column(2, 5, 12)
        ws.write_string(0, 0, "Rotation trade list", self.format(None, bold=True, font_size=14))
        for i, item in enumerate(items, start=1):
            ws.write_string(i, 0, item.label)
            value = _clean(item.value)
            fmt = self.format(item.number_format)
            if isinstance(value, str):
                ws.write_string(i, 1, neutralise(value), fmt)
            elif value is not None:
                ws.write(i, 1, value, fmt)
        header_row = len(items) + 2
        last = self.table(ws, sectors, first_row=header_row)
        for k, note in enumerate(notes, start=last + 2):
            ws.write_string(k, 0, "Note")
            ws.write_string(k, 1, neutralise(note))
        chart = self.book.add_chart({"type": "bar"})
        for col, colour in ((1, "#8EA9C1"), (3, "#1F4E78")):  # before, after trades
            chart.add_series(
                {
                    "name": ["Summary", header_row, col],
                    "categories": ["Summary", header_row + 1, 0, last, 0],
                    "values": ["Summary", header_row + 1, col, last, col],
                    "fill": {"color": colour},
                }
            )
        chart.set_title({"name": "Sector exposure before / after trades"})
        chart.set_x_axis({"name": "Weight", "num_format": "0%"})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 560, "height": 22 * max(14, last - header_row + 4)})
        ws.insert_chart(1, 6, chart)
        self.page_setup(ws, last + len(notes) + 1, 14, header_row=None)


def write_workbook(out: IO[bytes], result: RotationResult, screen: ScreenResult, ctx: ExportContext) -> None:
    """Write the eight-sheet workbook into the binary file ``out``.

    The workbook is assembled in memory and written with one ``out.write``, so a failing disk
    surfaces there as an :class:`OSError` (and never inside the spreadsheet library).
    """
    summary, sectors, tables = workbook_sheets(result, screen, ctx)
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    book.set_properties({"title": f"Rotation trade list as of {ctx.as_of}", "comments": f"rotation {ctx.version}"})
    writer = WorkbookWriter(book, f"Rotation trade list as of {ctx.as_of}")
    writer.summary(summary, sectors, result.notes)
    for sheet in tables:
        writer.table_sheet(sheet)
    book.close()
    out.write(buffer.getbuffer())


# ------------------------------------------------------------------------ the basket
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


# ------------------------------------------------------------------------ landing the pair
class _Interrupts:
    """While installed, SIGINT and SIGTERM raise :class:`ExportInterrupted`, once.

    A step that must not be cut in two (a rename and its record) runs :meth:`deferred`: a
    signal arriving inside is acted on at its end. After :meth:`hold` (cleanup under way, or
    the pair in place) a signal is only noted, and delivered again once the previous handlers
    are back. Handlers can only be installed from the main thread; elsewhere (the app's worker
    threads) this does nothing and the process keeps its own handlers.
    """

    def __init__(self) -> None:
        self.raising = True
        self.pending: int | None = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.raising:
            self.raising = False
            raise ExportInterrupted(signum)
        self.pending = self.pending or signum

    def hold(self) -> None:
        """From now on a signal is only noted."""
        self.raising = False

    @contextmanager
    def deferred(self) -> Iterator[None]:
        raising, self.raising = self.raising, False
        try:
            yield
        finally:
            self.raising = raising
        if raising and self.pending is not None:
            signum, self.pending = self.pending, None
            self.raising = False
            raise ExportInterrupted(signum)

    @contextmanager
    def installed(self) -> Iterator[_Interrupts]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {signum: signal.signal(signum, self._handler) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            if self.pending is not None:
                signal.raise_signal(self.pending)


def _new_file_mode(path: Path) -> int:
    """The permissions a plain write would give ``path``: kept when it exists, else 0666 less umask."""
    if path.exists():
        return os.stat(path).st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _TargetError(Exception):
    """An :class:`OSError` met while writing or replacing ``target``."""

    def __init__(self, target: Path, error: OSError) -> None:
        super().__init__(str(error))
        self.target = target
        self.error = error


#: Temporary files of the exports being written now, in any thread: each is listed before it
#: is created, under the lock, so a SIGTERM handler on another thread never misses one.
_UNFINISHED: set[Path] = set()
_UNFINISHED_LOCK = threading.RLock()


def discard_unfinished_exports() -> None:
    """Remove the temporary files of every export still being written.

    For a front end that exports in a worker thread, where :func:`export_rotation` cannot
    install signal handlers: call this from the front end's own SIGTERM handler (on the main
    thread) before the process ends. The targets are not touched.
    """
    with _UNFINISHED_LOCK:
        for temporary in _UNFINISHED:
            _remove(temporary)


def _remove(path: Path) -> None:
    """Remove ``path`` if it exists (a read-only file system refuses even to remove nothing)."""
    if os.path.lexists(path):
        path.unlink(missing_ok=True)


class _Pair:
    """The files of one :func:`write_together` call: temporaries, old copies, targets moved."""

    def __init__(self, interrupts: _Interrupts) -> None:
        self.interrupts = interrupts
        self.temporaries: list[Path] = []
        self.moved: list[tuple[Path, Path | None]] = []

    def track(self, temporary: Path) -> None:
        self.temporaries.append(temporary)
        _UNFINISHED.add(temporary)

    def write(self, target: Path, write: Callable[[IO[bytes]], object]) -> Path:
        """A complete new ``target`` in a hidden temporary file beside it."""
        while True:
            temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
            with self.interrupts.deferred(), _UNFINISHED_LOCK:
                self.track(temporary)
                try:
                    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    break
                except FileExistsError:
                    continue
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, _new_file_mode(target))
        return temporary

    def keep_old(self, target: Path, temporary: Path) -> Path | None:
        """A second name for the old ``target`` (a hard link, else a copy), to put it back with."""
        if not target.exists():
            return None
        old = temporary.with_suffix(".old")
        self.track(old)
        try:
            os.link(target, old)
        except OSError:
            import shutil

            shutil.copy2(target, old)
        return old

    def move(self, temporary: Path, target: Path, old: Path | None) -> None:
        with self.interrupts.deferred():
            os.replace(temporary, target)
            self.moved.append((target, old))

    def put_back(self) -> None:
        """Undo the moves: the old file back, or no file where there was none."""
        for target, old in reversed(self.moved):
            if old is not None:
                os.replace(old, target)
            else:
                target.unlink(missing_ok=True)

    def clean(self) -> None:
        with _UNFINISHED_LOCK:
            for temporary in self.temporaries:
                _remove(temporary)
                _UNFINISHED.discard(temporary)


def write_together(writes: Sequence[tuple[Path, Callable[[IO[bytes]], object]]], interrupts: _Interrupts) -> None:
    """Replace every target with what its writer writes, or none of them.

    Each new file is written in full to a temporary file beside its target; then each is
    moved over its target. If anything fails or is interrupted, targets already moved are put
    back as they were and every temporary file is removed before the error goes on (an
    :class:`OSError` as a ``_TargetError`` naming the target it was met on).
    """
    pair = _Pair(interrupts)
    target = writes[0][0]
    try:
        ready = []
        for target, write in writes:
            ready.append((target, pair.write(target, write)))
        olds = []
        for target, temporary in ready:
            olds.append(pair.keep_old(target, temporary))
        for (target, temporary), old in zip(ready, olds, strict=True):
            pair.move(temporary, target, old)
        interrupts.hold()  # in place: a signal now must not cut the cleanup short
    except BaseException as exc:
        interrupts.hold()
        pair.put_back()
        pair.clean()
        if isinstance(exc, OSError):
            raise _TargetError(target, exc) from exc
        raise
    pair.clean()


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse to write over a file without ``overwrite``, into a missing folder, or onto a folder."""
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists. Use --force (or confirm in the app) to replace it, or choose another name.")
    if not path.parent.is_dir():
        raise ExportError(f"Folder {path.parent} does not exist. Create it first or choose another path.")
    if path.exists() and path.is_dir():
        raise ExportError(f"{path} is a folder. Give a file name ending in .xlsx.")


def _failure(culprit: Path, exc: OSError, *kept: Path) -> ExportError:
    """An :class:`ExportError` saying which file could not be written and what to do."""
    folder = culprit.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = f"the disk holding {folder} is full. Free some space or choose another folder"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = f"{folder} or {culprit.name} cannot be written here ({exc.strerror}). Choose a folder you can write to, or check the file's permissions"
    else:
        advice = f"{exc.strerror or exc}. Check the folder and try again"
    names = " and ".join(p.name for p in dict.fromkeys(kept))
    return ExportError(f"Could not write {culprit}: {advice}. Nothing was replaced; {names} {'are' if len(set(kept)) > 1 else 'is'} as {'they were' if len(set(kept)) > 1 else 'it was'}.")


def export_rotation(
    path: str | Path,
    result: RotationResult,
    screen: ScreenResult,
    ctx: ExportContext,
    *,
    overwrite: bool = False,
    order_type: str = "MKT",
) -> tuple[Path, Path]:
    """Write the workbook and the basket CSV beside it, both or neither.

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
        A target exists without ``overwrite``, the folder is missing, or the write failed
        (read-only folder, full disk, ...). The old files are untouched.
    ExportInterrupted
        SIGINT or SIGTERM arrived during the write (handled so when called from the main
        thread). The old files are untouched and no temporary file is left.
    """
    xlsx = Path(path).expanduser()
    if xlsx.suffix.lower() != ".xlsx":
        raise ExportError(f"{xlsx}: the workbook must end in .xlsx.")
    basket = basket_path(xlsx)
    check_target(xlsx, overwrite)
    check_target(basket, overwrite)
    text = basket_csv(result, order_type, tag=f"rotation-{ctx.as_of}").encode()
    interrupts = _Interrupts()
    try:
        with interrupts.installed():
            write_together(
                [(xlsx, lambda out: write_workbook(out, result, screen, ctx)), (basket, lambda out: out.write(text))],
                interrupts,
            )
    except _TargetError as exc:
        raise _failure(exc.target, exc.error, xlsx, basket) from None
    return xlsx, basket
