"""Data integrity: every dataset's figures checked, corrected where the data allow, flagged otherwise.

Every dataset passes through here on its way to a universe (the embedded snapshot, refreshed
datasets, a user's ``--fundamentals`` file merged into either): :func:`check_fundamentals` works
on the fiscal years published by the as-of date, :func:`check_market` on the companies with
their prices on that date. Each problem found becomes one row of the integrity table
(:data:`INTEGRITY_COLUMNS`) with the raw figure, the corrected one and a sentence of evidence
with the numbers, and a short phrase in the company's ``data_flags``. A figure that cannot be
made usable excludes the company, with the reason in ``excluded_reason``.

Point in time: a check compares a fiscal year only with the company's other years published by
the as-of date and with other companies on that date. Two sources of later public facts are
used, for identity and share basis only, never for a figure: the table of corporate actions
(``corporate_actions.toml``: splits made after the prices were collected, used because the
source restated its share counts for them) and the SEC's current ticker file (the companies
table's ``sec_*`` columns), to tell whose prices a ticker carries.

The classes of problem (the ``check`` column):

``unit slip``
    One statement of one fiscal year (or the whole year) in thousands or millions of dollars:
    its scale differs from the company's other statements and years by 1,000 or 1,000,000.
    Corrected by that factor; a statement off by a factor that is not a unit (over 100x) drops
    the year.
``share count``
    Basic and diluted counts 1,000x apart (one in thousands); a basic count missing.
``share class``
    A basic count of one share class only (BELFB: 2.14M class A against 12.4M in its other
    years and 10.4M diluted): replaced by the company's count in its nearest other year when the
    diluted count agrees with it; otherwise (dual-class and Up-C structures whose other class
    never appears) flagged.
``split``
    Share counts restated for a split the prices do not reflect: corrected from the corporate
    actions table; otherwise detected from dividends paid against dividends per share read off
    the prices (a split-ratio mismatch in two fiscal years excludes the company, in one flags
    it) and from multiples many times the sector's (flagged).
``market cap``
    A market cap no share count can explain (daily volume above half of all shares or below
    3 in 10,000, a 20-fold change in shares in a year, under 5% of book equity): excluded.
``identity``
    Prices that belong to another company (the ticker now names someone else: ALTM's prices are
    Arcadium Lithium's, its statements Kinetik's), or a listed line that is not the common
    stock (a preferred share, a unit): excluded.
``capex``
    Capital expenditure below a quarter of D&A while net PP&E (less acquisitions) grew by more
    than the capex could buy even with no depreciation (WNC FY2023: 5.5M while net PP&E grew
    54.3M with 45.3M of D&A): corrected to the roll-forward, PP&E growth + D&A - acquisitions.
``minority interest``
    Part of the group's profit belongs to minority holders (PLAB: 37%): flagged, and
    ``parent_share`` recorded on every fiscal year so valuation can scale group-level figures.
``gross profit``
    Gross profit exactly 0 while revenue and cost of revenue exist (a placeholder): set missing.
``sign``
    A cost or a balance that cannot be negative is: flagged.
``stale``
    The latest fiscal year ended over 12 months before the as-of date: flagged.
``sic``
    No SEC SIC code: inferred from the source's industry (``sic_by_industry.toml``) and marked
    ``sic_source = "inferred from industry"``.
"""

from __future__ import annotations

import functools
import tomllib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CORPORATE_ACTIONS_FILE = HERE / "corporate_actions.toml"
SIC_BY_INDUSTRY_FILE = HERE / "sic_by_industry.toml"

#: The columns of the integrity table.
INTEGRITY_COLUMNS = (
    "ticker",
    "fiscal_year",
    "field",
    "check",
    "action",
    "raw",
    "corrected",
    "evidence",
    "flag",
)
ACTIONS = ("corrected", "flagged", "dropped year", "excluded")
CHECKS = (
    "unit slip",
    "share count",
    "share class",
    "split",
    "market cap",
    "identity",
    "capex",
    "minority interest",
    "gross profit",
    "sign",
    "stale",
    "sic",
)

INCOME_ITEMS = (
    "revenue",
    "cogs",
    "gross_profit",
    "sga",
    "rnd",
    "operating_income",
    "interest_expense",
    "non_operating_income",
    "abnormal_gains",
    "pretax_income",
    "income_tax",
    "income_continuing_ops",
    "extraordinary_gains",
    "net_income",
    "net_income_common",
)
BALANCE_ITEMS = (
    "cash",
    "receivables",
    "inventory",
    "current_assets",
    "ppe_net",
    "long_term_investments",
    "total_assets",
    "payables",
    "current_liabilities",
    "short_term_debt",
    "long_term_debt",
    "total_liabilities",
    "paid_in_capital",
    "treasury_stock",
    "retained_earnings",
    "total_equity",
)
CASH_ITEMS = (
    "da",
    "non_cash_items",
    "working_capital_change",
    "operating_cash_flow",
    "capex",
    "acquisitions",
    "dividends_paid",
    "net_debt_issued",
    "net_equity_issued",
)
STATEMENTS: dict[str, tuple[str, ...]] = {
    "income statement": INCOME_ITEMS,
    "balance sheet": BALANCE_ITEMS,
    "cash-flow statement": CASH_ITEMS,
}
#: The items whose magnitude measures a statement's scale (robust to one item being zero).
SCALE_ITEMS: dict[str, tuple[str, ...]] = {
    "income statement": ("revenue", "sga", "operating_income", "pretax_income", "net_income"),
    "balance sheet": ("total_assets", "current_assets", "total_liabilities"),
    "cash-flow statement": ("operating_cash_flow", "capex", "da", "non_cash_items"),
}
#: Fields that are magnitudes in the schema and can never be negative.
NON_NEGATIVE = (
    "shares_basic",
    "shares_diluted",
    "cogs",
    "sga",
    "rnd",
    "da",
    "dividends_paid",
    "cash",
    "receivables",
    "inventory",
    "current_assets",
    "ppe_net",
    "total_assets",
    "payables",
    "current_liabilities",
    "short_term_debt",
    "long_term_debt",
    "total_liabilities",
    "treasury_stock",
)

#: A statement's scale within this many powers of ten of a unit factor (1e3, 1e6) is a slip.
UNIT_TOLERANCE_LOG10 = 0.6
#: A statement more than this many powers of ten out of line, but not by a unit, drops the year.
UNUSABLE_LOG10 = 2.0
#: A slipped statement moved this many powers of ten more than the same year's others ...
MOVED_ALONE_LOG10 = 1.5
#: ... and at least this many of its scale items moved by the same unit (a unit slip scales
#: every item; a statement that is simply wrong does not).
AGREEING_ITEMS = 2
#: Revenue above this multiple of total assets: the statements are in different units.
MAX_ASSET_TURNOVER = 100.0
#: Basic and diluted counts within this many powers of ten of 1,000x are a unit slip.
SHARE_UNIT_TOLERANCE_LOG10 = 0.05
#: Diluted above this multiple of basic: the basic count misses a share class or units.
CLASS_RATIO = 1.5
#: The nearest other year's count must be within this factor of the diluted count to replace it.
CLASS_AGREEMENT = 1.33
#: Capex below this share of D&A ...
CAPEX_SHARE_OF_DA = 0.25
#: ... while net PP&E grew (less acquisitions) by more than capex plus this share of total
#: assets is corrected to the PP&E roll-forward.
CAPEX_MATERIALITY = 0.02
#: Minority holders owning more than this share of profit are flagged.
MINORITY_SHARE = 0.10
#: Fundamentals older than this (months from the fiscal year end) are flagged as stale.
STALE_MONTHS = 12.0
#: Market-cap plausibility (see :func:`check_market`).
MAX_DAILY_TURNOVER = 0.5
MIN_DAILY_TURNOVER = 3e-4
MAX_SHARE_JUMP = 20.0
MIN_PRICE_TO_BOOK = 0.05
#: Share-count / dividend-implied share-count ratios that betray a stock split (both ways).
SPLIT_RATIOS = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100)
SPLIT_TOLERANCE = 0.03
#: Multiples this many times the sector median on both sales and book suggest a missed split.
SECTOR_MULTIPLE_FACTOR = 20.0


@dataclass(frozen=True)
class CheckedFundamentals:
    """The output of :func:`check_fundamentals`.

    Attributes
    ----------
    fundamentals : pandas.DataFrame
        The corrected fiscal years (dropped years removed), with ``parent_share``.
    findings : pandas.DataFrame
        One row per correction or flag (:data:`INTEGRITY_COLUMNS`).
    """

    fundamentals: pd.DataFrame
    findings: pd.DataFrame


# ----------------------------------------------------------------------------- helpers
def fmt_amount(x: float | None) -> str:
    """A figure the way the evidence sentences write it (390.7B, 2.14M, -5.5M, 0)."""
    if x is None or not np.isfinite(x):
        return "missing"
    a = abs(x)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if a >= size:
            digits = 2 if a < 10 * size else 1
            return f"{x / size:.{digits}f}{unit}"
    return f"{x:.0f}"


def _factor_text(k: float) -> str:
    return f"{k:,.0f}x" if k >= 1 else f"1/{1 / k:,.0f}"


def _undo_text(k: float) -> str:
    """How a figure ``k`` times too large is corrected."""
    return f"divided by {k:,.0f}" if k >= 1 else f"multiplied by {1 / k:,.0f}"


class Findings:
    """Collects integrity rows."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        ticker: str,
        fiscal_year: Any,
        field: str,
        check: str,
        action: str,
        raw: Any,
        corrected: Any,
        evidence: str,
        flag: str,
    ) -> None:
        self.rows.append(
            {
                "ticker": ticker,
                "fiscal_year": None if fiscal_year is None or pd.isna(fiscal_year) else int(fiscal_year),
                "field": field,
                "check": check,
                "action": action,
                "raw": _scalar(raw),
                "corrected": _scalar(corrected),
                "evidence": evidence,
                "flag": flag,
            }
        )

    def frame(self) -> pd.DataFrame:
        return findings_frame(self.rows)


def _scalar(x: Any) -> Any:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    if isinstance(x, np.generic):
        return x.item()
    return x


def findings_frame(rows: Iterable[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """The integrity table with its columns and types (empty when there are no rows)."""
    frame = pd.DataFrame(rows, columns=list(INTEGRITY_COLUMNS))
    frame["fiscal_year"] = pd.array(frame["fiscal_year"], dtype="Int64")
    for col in ("raw", "corrected"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("ticker", "field", "check", "action", "evidence", "flag"):
        frame[col] = frame[col].astype("string")
    return frame


def _log10(x: pd.Series | np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log10(np.abs(np.asarray(x, dtype=float)))
    return np.where(np.isfinite(v), v, np.nan)


class Columns:
    """A fundamentals frame as float arrays (fast to read and write row by row), and back.

    ``ticker`` and ``fiscal_year`` are plain arrays; every numeric column a float64 array.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.ticker = frame["ticker"].to_numpy(dtype=object)
        self.year = frame["fiscal_year"].to_numpy(dtype=np.int64)
        self.numbers = {
            c: frame[c].to_numpy(dtype=float, na_value=np.nan).copy()
            for c in frame.columns
            if c not in ("ticker", "fiscal_year") and pd.api.types.is_numeric_dtype(frame[c])
        }

    def __getitem__(self, column: str) -> np.ndarray:
        return self.numbers[column]

    def __len__(self) -> int:
        return len(self.ticker)

    def to_frame(self, keep: np.ndarray | None = None) -> pd.DataFrame:
        out = self.frame.copy()
        for c, values in self.numbers.items():
            out[c] = values
        if keep is not None:
            out = out[keep]
        return out.reset_index(drop=True)


def _scale(f: Columns, statement: str) -> np.ndarray:
    """log10 of a statement's scale per row: the largest magnitude among its scale items."""
    values = np.abs(np.column_stack([f[c] for c in SCALE_ITEMS[statement]]))
    values = np.where(values > 0, values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return _log10(np.nanmax(values, axis=1))


def _row_nanmedian(a: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an all-NaN row); faster than numpy's for the
    few columns a company's fiscal years make."""
    if a.shape[1] == 0:
        return np.full(len(a), np.nan)
    ordered = np.sort(a, axis=1)  # NaN sorts last
    count = (~np.isnan(a)).sum(axis=1)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    rows = np.arange(len(a))
    with np.errstate(invalid="ignore"):
        median = (ordered[rows, lo] + ordered[rows, hi]) / 2
    return np.where(count > 0, median, np.nan)


def _others_median(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, the median of ``values`` over the other rows of the same group (NaN if none).

    Rows of one group must be contiguous (the frame is sorted by ticker).
    """
    n = len(values)
    if n == 0:
        return np.full(0, np.nan)
    new = np.r_[True, group[1:] != group[:-1]]
    gid = np.cumsum(new) - 1
    slot = np.arange(n) - np.flatnonzero(new)[gid]
    table = np.full((gid[-1] + 1, slot.max() + 1), np.nan)
    table[gid, slot] = values
    out = np.full(n, np.nan)
    for j in range(table.shape[1]):
        rows = slot == j
        out[rows] = _row_nanmedian(np.delete(table, j, axis=1))[gid[rows]]
    return out


def _others_near_median(values: np.ndarray, group: np.ndarray, tolerance: float = 0.5) -> np.ndarray:
    """Per row, how many other rows of its group lie within ``tolerance`` of their median."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=int)
    new = np.r_[True, group[1:] != group[:-1]]
    gid = np.cumsum(new) - 1
    slot = np.arange(n) - np.flatnonzero(new)[gid]
    table = np.full((gid[-1] + 1, slot.max() + 1), np.nan)
    table[gid, slot] = values
    out = np.zeros(n, dtype=int)
    for j in range(table.shape[1]):
        rest = np.delete(table, j, axis=1)
        median = _row_nanmedian(rest)
        with np.errstate(invalid="ignore"):
            near = (np.abs(rest - median[:, None]) < tolerance).sum(axis=1)
        rows = slot == j
        out[rows] = near[gid[rows]]
    return out


def _previous(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each row's previous row within its group (NaN for a group's first row)."""
    out = np.full(len(values), np.nan)
    if len(values) > 1:
        same = group[1:] == group[:-1]
        out[1:] = np.where(same, values[:-1], np.nan)
    return out


# ----------------------------------------------------------------------------- fundamentals
def check_fundamentals(pit: pd.DataFrame) -> CheckedFundamentals:
    """Check and correct the fiscal years published by the as-of date.

    Parameters
    ----------
    pit : pandas.DataFrame
        Fundamentals in the schema of :mod:`universes.schema` (every company's fiscal years
        published on or before the as-of date; nothing later may be passed in).

    Returns
    -------
    CheckedFundamentals
        The corrected years with ``parent_share``, and the findings.
    """
    frame = pit.sort_values(["ticker", "fiscal_year"]).reset_index(drop=True)
    frame["parent_share"] = 1.0
    f = Columns(frame)
    found = Findings()
    keep = _unit_slips(f, found)
    _share_counts(f, keep, found)
    _gross_profit(f, keep, found)
    _capex(f, keep, found)
    _signs(f, keep, found)
    _minority(f, keep, found)
    return CheckedFundamentals(f.to_frame(keep), found.frame())


def _unit_slips(f: Columns, found: Findings) -> np.ndarray:
    """A statement (or a whole year) off by 1,000 or 1,000,000 against the company's others.

    Returns the rows to keep (a year whose statements disagree by a non-unit factor is dropped).
    """
    keep = np.ones(len(f), dtype=bool)
    if not len(f):
        return keep
    group = f.ticker
    names = list(STATEMENTS)
    scale = {s: _scale(f, s) for s in names}
    # Each statement's scale against the median of the company's other years; how many of the
    # company's years agree with that median (a slip is measured against a majority).
    growth = {s: scale[s] - _others_median(scale[s], group) for s in names}
    company = np.unique(group, return_inverse=True)[1]
    years_of = np.bincount(company)[company]
    majority = {s: _others_near_median(scale[s], group) > years_of / 2 for s in names}
    items = {
        c: _log10(f[c]) - _others_median(_log10(f[c]), group)
        for s in names
        for c in SCALE_ITEMS[s]
    }
    units = np.array([3.0, 6.0, -3.0, -6.0])
    moves = np.abs(np.column_stack([growth[s] for s in names]))
    moved = np.where(np.isnan(moves), 0.0, moves).max(axis=1) > 2.0
    for i in np.flatnonzero(moved):
        g = {s: growth[s][i] for s in names if np.isfinite(growth[s][i]) and majority[s][i]}
        ticker, year = group[i], f.year[i]
        others = int(years_of[i]) - 1
        if others < 2 or not g:
            continue
        steps = np.array([0.0, *units])
        nearest = {k: float(steps[np.argmin(np.abs(steps - v))]) for k, v in g.items()}
        fits = all(abs(g[k] - nearest[k]) < UNIT_TOLERANCE_LOG10 for k in g)
        shifted = {k for k, u in nearest.items() if u != 0}
        unit = {nearest[k] for k in shifted}
        whole = shifted == set(g) and len(g) >= 2
        scales_together = all(
            sum(
                abs(items[c][i] - nearest[k]) < UNIT_TOLERANCE_LOG10
                for c in SCALE_ITEMS[k]
                if np.isfinite(items[c][i])
            )
            >= min(AGREEING_ITEMS, int(np.isfinite([items[c][i] for c in SCALE_ITEMS[k]]).sum()))
            for k in shifted
        )
        if fits and len(unit) == 1 and (whole or (shifted != set(g) and scales_together)):
            factor = 10.0 ** unit.pop()
            moved_statements = [k for k in names if k in shifted]
            key = "total_assets" if whole else SCALE_ITEMS[moved_statements[0]][0]
            raw = f[key][i]
            for k in moved_statements:
                _rescale(f, i, STATEMENTS[k], factor)
            what = "every statement" if whole else " and ".join(moved_statements)
            found.add(
                ticker, year, key, "unit slip", "corrected", raw, f[key][i],
                f"{what} of FY{year} {'are' if len(moved_statements) > 1 and not whole else 'is'} "
                f"{_factor_text(factor)} the scale of the company's {others} other years"
                + ("" if whole else " while the year's other statements are not")
                + f" ({key} {fmt_amount(raw)}); every item {_undo_text(factor)}",
                f"{what} FY{year} {_factor_text(factor)} (unit slip), corrected",
            )
            continue
        s = max(g, key=lambda k: abs(g[k]))
        rest = [v for k, v in g.items() if k != s]
        if rest and abs(g[s]) - max(abs(v) for v in rest) > MOVED_ALONE_LOG10:
            rel = g[s] - float(np.median(rest))
            if abs(rel) >= UNUSABLE_LOG10:
                key = SCALE_ITEMS[s][0]
                keep[i] = False
                found.add(
                    ticker, year, key, "unit slip", "dropped year", f[key][i], None,
                    f"{s} FY{year} is {_factor_text(10**rel)} the scale of the same year's other "
                    f"statements against the company's {others} other years ({key} "
                    f"{fmt_amount(f[key][i])}; not a unit factor, or its items do not scale "
                    "together as a unit slip would): the year's ratios are meaningless",
                    f"FY{year} statements disagree {10**abs(rel):,.0f}x, year dropped",
                )
    revenue, assets = f["revenue"], f["total_assets"]
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = np.where((revenue > 0) & (assets > 0), revenue / assets, np.nan)
    for i in np.flatnonzero(keep & (turnover > MAX_ASSET_TURNOVER)):
        found.add(
            group[i], f.year[i], "total_assets", "unit slip", "flagged", assets[i], assets[i],
            f"FY{f.year[i]} revenue {fmt_amount(revenue[i])} is {turnover[i]:,.0f}x total assets "
            f"{fmt_amount(assets[i])}: the income statement and balance sheet are in different "
            "units, and the company's other years cannot tell which is right",
            f"FY{f.year[i]} revenue {turnover[i]:,.0f}x total assets (units disagree)",
        )
    return keep


def _rescale(f: Columns, i: int | np.integer, items: tuple[str, ...], factor: float) -> None:
    for c in items:
        f[c][i] /= factor


def _share_counts(f: Columns, keep: np.ndarray, found: Findings) -> None:
    """Basic and diluted counts: unit slips between them, one share class, missing basic."""
    b, d = f["shares_basic"], f["shares_diluted"]
    tickers, years = f.ticker, f.year
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _log10(d / np.where(b > 0, b, np.nan))
    units = np.array([3.0, 6.0, -3.0, -6.0])
    nearest_unit = units[np.argmin(np.abs(np.nan_to_num(ratio)[:, None] - units[None, :]), axis=1)]
    slips = keep & np.isfinite(ratio) & (np.abs(ratio - nearest_unit) < SHARE_UNIT_TOLERANCE_LOG10)
    sane_rows = np.isfinite(ratio) & (np.abs(ratio) < 0.3) & keep
    for i in np.flatnonzero(slips):
        near = nearest_unit[i]
        sane = sane_rows & (tickers == tickers[i])
        if not sane.any():
            found.add(
                tickers[i], years[i], "shares_basic", "share count", "flagged", b[i], b[i],
                f"basic ({fmt_amount(b[i])}) and diluted ({fmt_amount(d[i])}) shares of FY{years[i]} "
                "differ by a unit factor and no other year says which is right",
                f"basic and diluted shares {10**abs(near):,.0f}x apart",
            )
            continue
        reference = float(np.median(b[sane]))
        basic_off = abs(np.log10(b[i] / reference)) > abs(np.log10(d[i] / reference))
        column = "shares_basic" if basic_off else "shares_diluted"
        wrong, right = (b[i], d[i]) if basic_off else (d[i], b[i])
        fixed = wrong * 10.0 ** (near if basic_off else -near)
        f[column][i] = fixed
        found.add(
            tickers[i], years[i], column, "share count", "corrected", wrong, fixed,
            f"{column.replace('_', ' ')} of FY{years[i]} is {fmt_amount(wrong)} against "
            f"{fmt_amount(right)} {'diluted' if basic_off else 'basic'} and {fmt_amount(reference)} "
            "in the company's other years: a unit slip",
            f"{column.replace('shares_', '')} shares {10**abs(near):,.0f}x off (unit slip), corrected",
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = _log10(d / np.where(b > 0, b, np.nan))
        unit_apart = np.isfinite(ratio) & (
            np.abs(ratio - units[np.argmin(np.abs(np.nan_to_num(ratio)[:, None] - units), axis=1)])
            < SHARE_UNIT_TOLERANCE_LOG10
        )
        narrow = keep & (d > CLASS_RATIO * np.where(b > 0, b, np.inf)) & ~unit_apart
        usable = keep & (b > 0) & ~(d > CLASS_RATIO * b)
    for i in np.flatnonzero(narrow):
        same = np.flatnonzero(usable & (tickers == tickers[i]))
        nearest = min(same, key=lambda j: (abs(years[j] - years[i]), -years[j]), default=None)
        if nearest is not None and 1 / CLASS_AGREEMENT <= b[nearest] / d[i] <= CLASS_AGREEMENT:
            raw = b[i]
            b[i] = b[nearest]
            found.add(
                tickers[i], years[i], "shares_basic", "share class", "corrected", raw, b[nearest],
                f"FY{years[i]} basic shares {fmt_amount(raw)} against {fmt_amount(d[i])} diluted "
                f"and {fmt_amount(b[nearest])} basic in FY{years[nearest]}: the basic count holds "
                f"one share class only; FY{years[nearest]}'s count used",
                f"shares: one share class only ({fmt_amount(raw)} vs {fmt_amount(d[i])} diluted), corrected",
            )
        else:
            found.add(
                tickers[i], years[i], "shares_basic", "share class", "flagged", b[i], b[i],
                f"FY{years[i]} diluted shares {fmt_amount(d[i])} are {d[i] / b[i]:.1f}x the basic "
                f"{fmt_amount(b[i])}: another share class or exchangeable units (dual-class, Up-C) "
                "sit outside the basic count, which the market cap uses",
                f"shares: diluted {d[i] / b[i]:.1f}x basic (other class or units?)",
            )
    with np.errstate(invalid="ignore"):
        missing = keep & ~(b > 0) & (d > 0)
    for i in np.flatnonzero(missing):
        found.add(
            tickers[i], years[i], "shares_basic", "share count", "corrected", b[i], d[i],
            f"FY{years[i]} has no basic share count; the diluted count ({fmt_amount(d[i])}) is used",
            "shares: basic missing, diluted used",
        )
        b[i] = d[i]


def _gross_profit(f: Columns, keep: np.ndarray, found: Findings) -> None:
    """Gross profit exactly zero beside revenue and cost of revenue is a placeholder."""
    gp, rev, cogs = f["gross_profit"], f["revenue"], f["cogs"]
    bad = keep & (gp == 0) & (np.abs(rev) > 0) & ~np.isnan(cogs)
    for i in np.flatnonzero(bad):
        found.add(
            f.ticker[i], f.year[i], "gross_profit", "gross profit", "corrected", 0.0, None,
            f"FY{f.year[i]} gross profit is exactly 0 with revenue {fmt_amount(rev[i])} and cost "
            f"of revenue {fmt_amount(cogs[i])}: a placeholder, not a figure; gross profit and "
            "cost of revenue set missing",
            "gross profit 0 placeholder, set missing",
        )
    gp[bad] = np.nan
    cogs[bad] = np.nan


def _capex(f: Columns, keep: np.ndarray, found: Findings) -> None:
    """Capex that cannot have produced the year's PP&E: corrected to the roll-forward."""
    ppe, capex, assets = f["ppe_net"], f["capex"], f["total_assets"]
    prior_ppe = _previous(ppe, f.ticker)
    prior_year = _previous(f.year.astype(float), f.ticker)
    growth = ppe - prior_ppe
    da = np.clip(f["da"], 0, None)
    bought = np.nan_to_num(np.clip(f["acquisitions"], 0, None))
    implied = growth + da - bought
    with np.errstate(invalid="ignore"):
        # Net PP&E grew by more than capex could buy even with no depreciation at all.
        bad = (
            keep
            & (prior_year == f.year - 1)
            & (growth > 0)
            & (growth - bought > capex + CAPEX_MATERIALITY * assets)
            & (capex < CAPEX_SHARE_OF_DA * da)
        )
    for i in np.flatnonzero(bad):
        found.add(
            f.ticker[i], f.year[i], "capex", "capex", "corrected", capex[i], implied[i],
            f"FY{f.year[i]} capex {fmt_amount(capex[i])} while net PP&E grew "
            f"{fmt_amount(growth[i])} (to {fmt_amount(ppe[i])}) with {fmt_amount(da[i])} of D&A "
            f"and {fmt_amount(bought[i])} of acquisitions: capex set to the roll-forward, "
            f"{fmt_amount(implied[i])} (an upper estimate: D&A includes amortisation of intangibles)",
            f"capex {fmt_amount(capex[i])} vs PP&E roll-forward {fmt_amount(implied[i])}, corrected",
        )
    capex[bad] = implied[bad]


def _signs(f: Columns, keep: np.ndarray, found: Findings) -> None:
    """Magnitudes that cannot be negative (the figure is kept; a user file is refused earlier)."""
    for column in NON_NEGATIVE:
        values = f[column]
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero(keep & (values < 0))
        for i in rows:
            found.add(
                f.ticker[i], f.year[i], column, "sign", "flagged", values[i], values[i],
                f"FY{f.year[i]} {column} is negative ({fmt_amount(values[i])}); the schema stores "
                "it as a positive magnitude",
                f"{column} negative",
            )


def _minority(f: Columns, keep: np.ndarray, found: Findings) -> None:
    """The parent's share of the group's earnings, recorded for valuation; large minorities flagged."""
    group_income = f["income_continuing_ops"] + np.nan_to_num(f["extraordinary_gains"])
    net = f["net_income"]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((group_income > 0) & (net > 0), net / group_income, np.nan)
    f["parent_share"][:] = np.nan_to_num(np.clip(share, None, 1.0), nan=1.0)
    # The latest kept year of each company (rows are sorted by ticker and year).
    kept = np.flatnonzero(keep)
    tickers = f.ticker[kept]
    last_kept = kept[np.r_[tickers[1:] != tickers[:-1], True]] if len(kept) else kept
    for i in last_kept[f["parent_share"][last_kept] < 1 - MINORITY_SHARE]:
        ps = f["parent_share"][i]
        found.add(
            f.ticker[i], f.year[i], "net_income", "minority interest", "flagged",
            group_income[i], net[i],
            f"{1 - ps:.0%} of FY{f.year[i]} income from continuing operations "
            f"({fmt_amount(group_income[i])}) belongs to minority holders: net income to the "
            f"parent {fmt_amount(net[i])}; parent_share {ps:.2f} recorded so valuation can scale "
            "group-level figures (EBIT, cash flows)",
            f"minority interest {1 - ps:.0%} of profit",
        )


# ----------------------------------------------------------------------------- market
class Exclusions:
    """The first reason each company is excluded for (later checks do not overwrite it)."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}

    def add(self, ticker: str, why: str) -> None:
        self.reasons.setdefault(ticker, why)

    def __contains__(self, ticker: object) -> bool:
        return ticker in self.reasons

    def series(self, index: pd.Index) -> pd.Series:
        return pd.Series(self.reasons, dtype="string").reindex(index).fillna("").astype("string")


def check_market(
    companies: pd.DataFrame,
    pit: pd.DataFrame,
    as_of: pd.Timestamp,
    dividends_per_share: pd.DataFrame,
    manifest: dict[str, Any],
    found: Findings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Splits, market-cap plausibility, identity, SIC and staleness on the as-of date.

    Parameters
    ----------
    companies : pandas.DataFrame
        The dataset's companies with ``price``, ``adv_shares`` and ``first_price_date`` on the
        as-of date.
    pit : pandas.DataFrame
        The checked fundamentals (from :func:`check_fundamentals`).
    as_of : pandas.Timestamp
    dividends_per_share : pandas.DataFrame
        Per ticker, the dividends per share read off the prices in the year to the latest and
        the prior fiscal year's end (columns ``latest`` and ``prior``; see
        ``universes.loader.dividends_per_share``).
    manifest : dict
        The dataset's manifest (``prices_collected`` and ``fundamentals_collected`` decide
        which corporate actions apply).
    found : Findings
        Where the findings go.

    Returns
    -------
    companies, fundamentals : pandas.DataFrame
        Companies with corrected ``shares``, ``market_cap`` and ``sic``, ``excluded_reason``;
        fundamentals with the split-corrected share counts.
    """
    pit = _apply_splits(pit, manifest, found)
    out = companies.copy()
    ordered = pit.sort_values(["ticker", "fiscal_year"])
    latest = ordered.groupby("ticker", sort=False).tail(1).set_index("ticker").reindex(out.index)
    prior = ordered.groupby("ticker", sort=False).nth(-2).set_index("ticker").reindex(out.index)
    shares = latest["shares_basic"].where(latest["shares_basic"] > 0, latest["shares_diluted"])
    prior_shares = prior["shares_basic"].where(prior["shares_basic"] > 0, prior["shares_diluted"])
    out["shares"] = shares
    out["market_cap"] = out["price"] * shares
    out["fiscal_year"] = latest["fiscal_year"].astype("Int64")
    out["fundamentals_age_months"] = (as_of - latest["period_end"]).dt.days / 30.4375
    first_published = ordered.groupby("ticker")["publish_date"].min().reindex(out.index)
    excluded = Exclusions()
    facts = pd.DataFrame(
        {
            "fiscal_year": out["fiscal_year"],
            "price": out["price"],
            "shares": shares,
            "market_cap": out["market_cap"],
            "adv_shares": out["adv_shares"],
            "equity": latest["total_equity"],
            "period_end": latest["period_end"],
            "age": out["fundamentals_age_months"],
        }
    ).to_dict(orient="index")

    _identity(out, first_published, found, excluded)
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = latest["revenue"] / latest["total_assets"].where(latest["total_assets"] > 0)
    for t in out.index[(turnover > MAX_ASSET_TURNOVER).fillna(False) & out["price"].notna()]:
        why = (
            f"statements in inconsistent units: FY{facts[t]['fiscal_year']} revenue is "
            f"{turnover[t]:,.0f}x total assets, so every ratio built on them is meaningless"
        )
        found.add(t, facts[t]["fiscal_year"], "total_assets", "unit slip", "excluded",
                  latest.at[t, "total_assets"], None, why, "units disagree: excluded")
        excluded.add(t, why)
    usable = out["price"].notna() & (out["shares"] > 0)
    dps = dividends_per_share.reindex(out.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = pd.DataFrame(
            {
                when: (rows["dividends_paid"] / dps[when].where(dps[when] > 0)).where(
                    rows["dividends_paid"] > 0
                )
                for when, rows in (("latest", latest), ("prior", prior))
            }
        )
    corrected = out.index.isin(applicable_splits(manifest)["ticker"])
    _split_evidence(facts, shares, prior_shares, implied, usable & ~corrected, found, excluded)
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = out["adv_shares"] / shares
        jump = shares / prior_shares
        price_to_book = out["market_cap"] / latest["total_equity"].where(latest["total_equity"] > 0)
    checks = (
        (turnover > MAX_DAILY_TURNOVER, "daily volume above half of all shares: share count too small (a reverse split the prices do not reflect?)"),
        (turnover < MIN_DAILY_TURNOVER, "daily volume below 3 in 10,000 shares: share count too large for the traded line, or too thin to trade"),
        ((jump > MAX_SHARE_JUMP) | (jump < 1 / MAX_SHARE_JUMP), "share count changed over 20-fold in a year"),
        (price_to_book < MIN_PRICE_TO_BOOK, "market cap below 5% of book equity: share count or statements in the wrong unit"),
    )
    for mask, why in checks:
        for t in out.index[usable & mask.fillna(False)]:
            if t in excluded:
                continue
            x = facts[t]
            found.add(
                t, x["fiscal_year"], "market_cap", "market cap", "excluded", x["market_cap"], None,
                f"market cap {fmt_amount(x['market_cap'])} = price {x['price']:.2f} x "
                f"{fmt_amount(x['shares'])} shares: {why} (average daily volume "
                f"{fmt_amount(x['adv_shares'])} shares, book equity {fmt_amount(x['equity'])})",
                f"market cap implausible: {why.split(':')[0]}",
            )
            excluded.add(t, f"market cap implausible: {why}")
    still = usable & ~out.index.isin(list(excluded.reasons))
    _sector_multiples(out, latest, still, facts, found)
    _infer_sic(out, found)
    stale = (out["fundamentals_age_months"] > STALE_MONTHS).fillna(False) & out["price"].notna()
    for t in out.index[stale]:
        x = facts[t]
        found.add(
            t, x["fiscal_year"], "period_end", "stale", "flagged", x["age"], None,
            f"the latest fiscal year published by {as_of.date()} is FY{x['fiscal_year']}, ended "
            f"{x['period_end'].date()}, {x['age']:.0f} months earlier",
            f"fundamentals {x['age']:.0f} months old",
        )
    out["excluded_reason"] = excluded.series(out.index)
    return out, pit


@functools.lru_cache(maxsize=1)
def corporate_actions() -> pd.DataFrame:
    """The documented splits (``corporate_actions.toml``): ticker, effective, ratio, source."""
    table = tomllib.loads(CORPORATE_ACTIONS_FILE.read_text())
    frame = pd.DataFrame(table.get("split", []), columns=["ticker", "effective", "ratio", "source"])
    frame["effective"] = pd.to_datetime(frame["effective"])
    frame["ratio"] = frame["ratio"].astype(float)
    return frame


def applicable_splits(manifest: dict[str, Any]) -> pd.DataFrame:
    """The splits after a dataset's prices were collected and before its statements were."""
    actions = corporate_actions()
    prices = manifest.get("prices_collected")
    statements = manifest.get("fundamentals_collected")
    if prices is None or statements is None:
        return actions.iloc[0:0]
    keep = (actions["effective"] > pd.Timestamp(prices)) & (
        actions["effective"] <= pd.Timestamp(statements)
    )
    return actions[keep]


def _apply_splits(pit: pd.DataFrame, manifest: dict[str, Any], found: Findings) -> pd.DataFrame:
    splits = applicable_splits(manifest)
    if splits.empty:
        return pit
    pit = pit.copy()
    tickers = pit["ticker"].to_numpy(dtype=object)
    years = pit["fiscal_year"].to_numpy()
    basic = pit["shares_basic"].to_numpy(dtype=float, na_value=np.nan).copy()
    diluted = pit["shares_diluted"].to_numpy(dtype=float, na_value=np.nan).copy()
    for s in splits.itertuples():
        rows = np.flatnonzero(tickers == s.ticker)
        if not len(rows):
            continue
        latest = rows[np.argmax(years[rows])]
        raw = basic[latest]
        basic[rows] /= s.ratio
        diluted[rows] /= s.ratio
        kind = _split_text(s.ratio)
        found.add(
            s.ticker, years[latest], "shares_basic", "split", "corrected", raw, basic[latest],
            f"{kind} effective {s.effective.date()} ({s.source}): the source's share counts include "
            f"it, the prices (collected {manifest['prices_collected']}) do not; every fiscal year's "
            f"shares divided by {s.ratio:g}",
            f"shares restated for the {kind} of {s.effective.date()}, corrected",
        )
    pit["shares_basic"] = basic
    pit["shares_diluted"] = diluted
    return pit


def split_ratio(ratio: pd.Series) -> pd.Series:
    """The stock split (k, or 1/k for a reverse split) ``ratio`` matches within ``SPLIT_TOLERANCE``;
    NaN when it matches none."""
    r = ratio.to_numpy(float)
    candidates = np.array([*SPLIT_RATIOS, *(1 / k for k in SPLIT_RATIOS)])
    with np.errstate(invalid="ignore"):
        rel = np.abs(r[:, None] / candidates[None, :] - 1)
    rel = np.where(np.isnan(rel), np.inf, rel)
    best = rel.argmin(axis=1)
    match = rel[np.arange(len(r)), best] <= SPLIT_TOLERANCE
    return pd.Series(np.where(match, candidates[best], np.nan), index=ratio.index)


def _split_text(k: float) -> str:
    return f"{k:g}-for-1 split" if k >= 1 else f"1-for-{1 / k:g} reverse split"


def _split_evidence(
    facts: dict[str, dict[str, Any]],
    shares: pd.Series,
    prior_shares: pd.Series,
    implied: pd.DataFrame,
    usable: pd.Series,
    found: Findings,
    excluded: Exclusions,
) -> None:
    """Share counts a split-ratio away from what the dividends imply (two years exclude, one flags)."""
    latest = split_ratio(shares / implied["latest"])
    prior = split_ratio(prior_shares / implied["prior"])
    hits = usable & latest.notna()
    for t in shares.index[hits]:
        if t in excluded:
            continue
        k, both = latest[t], prior[t] == latest[t]
        years = "the latest two fiscal years" if both else "the latest fiscal year"
        evidence = (
            f"dividends paid / dividends per share read off the prices imply "
            f"{fmt_amount(implied.at[t, 'latest'])} shares, the source reports "
            f"{fmt_amount(shares[t])}: a {_split_text(k)} the prices do not reflect, in {years}"
        )
        if both:
            found.add(t, facts[t]["fiscal_year"], "shares_basic", "split", "excluded", shares[t], None,
                      evidence, f"shares match a {_split_text(k)} the prices do not reflect")
            excluded.add(
                t,
                f"market cap implausible: share count matches a {_split_text(k)} the prices do not "
                "reflect (dividends per share vs dividends paid, two fiscal years)",
            )
        else:
            found.add(t, facts[t]["fiscal_year"], "shares_basic", "split", "flagged", shares[t], shares[t],
                      evidence + " (one year of evidence: dividend timing can explain it)",
                      f"shares may include a {_split_text(k)} the prices do not reflect")


def _sector_multiples(
    out: pd.DataFrame,
    latest: pd.DataFrame,
    usable: pd.Series,
    facts: dict[str, dict[str, Any]],
    found: Findings,
) -> None:
    """Flag market caps many times the sector's on both sales and book (a missed split?)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ps = out["market_cap"] / latest["revenue"].where(latest["revenue"] > 0)
        pb = out["market_cap"] / latest["total_equity"].where(latest["total_equity"] > 0)
    frame = pd.DataFrame({"ps": ps, "pb": pb, "sector": out["sector"]})[usable]
    medians = frame.groupby("sector")[["ps", "pb"]].transform("median")
    factor = np.minimum(frame["ps"] / medians["ps"], frame["pb"] / medians["pb"])
    for t in factor.index[factor > SECTOR_MULTIPLE_FACTOR]:
        found.add(
            t, facts[t]["fiscal_year"], "market_cap", "split", "flagged", facts[t]["market_cap"],
            facts[t]["market_cap"],
            f"price/sales {frame.at[t, 'ps']:.1f} and price/book {frame.at[t, 'pb']:.1f} are "
            f"{factor[t]:.0f}x or more the {frame.at[t, 'sector']} medians ({medians.at[t, 'ps']:.1f}, "
            f"{medians.at[t, 'pb']:.1f}): a split after the prices' collection would explain it",
            f"multiples {factor[t]:.0f}x the sector's (missed split?)",
        )


#: Prices that start this long after the company's first published fiscal year are another listing.
LATE_PRICES = pd.Timedelta(days=180)


def _identity(
    out: pd.DataFrame, first_published: pd.Series, found: Findings, excluded: Exclusions
) -> None:
    """Prices that belong to another company, and listed lines that are not the common stock.

    Two patterns, from the identity columns of the companies table:

    * the source lists the company's CIK again under the ticker(s) the SEC's ticker file gives
      it, not under this one (ALTM: the statements are Kinetik's, KNTK; the prices under ALTM
      are Arcadium Lithium's);
    * the SEC's ticker file gives this ticker to another CIK and the company's own CIK to
      another ticker, and the prices under it start more than 180 days after the company's
      first published fiscal year (MSGE: the statements are Sphere Entertainment's, SPHR today;
      the MSGE prices start in May 2023, with the new Madison Square Garden Entertainment). A
      holding-company reorganisation (new CIK, same prices from the start) or a ticker reused
      after the company disappeared (the prices are still its own on the as-of date) is not a
      collision.
    """
    if not {"sec_tickers", "sec_ticker_cik", "other_tickers", "security_type"} <= set(out.columns):
        return
    listed = out["price"].notna()
    cik = out["cik"].astype("Float64")
    owner = out["sec_ticker_cik"].astype("Float64")
    late = (out["first_price_date"] - first_published) > LATE_PRICES
    renamed = pd.Series(
        [bool(v) and t not in str(v).split(";") for t, v in out["sec_tickers"].fillna("").items()],
        index=out.index,
    )
    taken = (owner.notna() & cik.notna() & (owner != cik)).fillna(False) & late.fillna(False)
    taken &= renamed
    sec_lists = {
        t: [x for x in str(v).split(";") if x]
        for t, v in out["sec_tickers"].fillna("").items()
    }
    other_lists = {
        t: {x for x in str(v).split(";") if x} for t, v in out["other_tickers"].fillna("").items()
    }
    for t in out.index[listed]:
        sec = sec_lists[t]
        again = sorted(set(sec) & other_lists[t])
        moved = bool(sec) and t not in sec and bool(again)
        if not (taken[t] or moved):
            continue
        name = out.at[t, "name"]
        if taken[t]:
            evidence = (
                f"the statements are {name}'s (CIK {int(cik[t])}, listed by the SEC as "
                f"{', '.join(sec) or 'no ticker'}); the SEC gives {t} to {out.at[t, 'sec_ticker_name']} "
                f"(CIK {int(owner[t])}), and the prices under {t} start on "
                f"{out.at[t, 'first_price_date'].date()}, after {name} had published fiscal years "
                f"(from {first_published[t].date()}): they are the other company's"
            )
        else:
            evidence = (
                f"the statements are {name}'s (CIK {int(cik[t])}), which the SEC lists as "
                f"{', '.join(sec)} and the source itself lists again under {', '.join(again)}: "
                f"{t} is a stale ticker and its prices belong to another company"
            )
        found.add(t, out.at[t, "fiscal_year"], "ticker", "identity", "excluded", None, None, evidence,
                  f"ticker collision: prices under {t} are another company's")
        excluded.add(
            t,
            f"ticker collision: the prices under {t} belong to another company than the statements "
            f"({name}, now {', '.join(sec) or 'unlisted'})",
        )
    kind = out["security_type"].fillna("common")
    for t in out.index[listed & ~kind.isin(["common", "blank check", "fund", "partnership"])]:
        found.add(
            t, out.at[t, "fiscal_year"], "ticker", "identity", "excluded", None, None,
            f"{t} is a {kind[t]} line (Nasdaq's fifth-letter convention or class suffix); "
            "its price times the company's common share count is no market cap",
            f"priced line is a {kind[t]}, not the common stock",
        )
        excluded.add(t, f"the priced line {t} is a {kind[t]}, not the common stock")


@functools.lru_cache(maxsize=1)
def sic_by_industry() -> dict[str, tuple[int, str]]:
    """The documented industry -> SIC table (``sic_by_industry.toml``): industry -> (SIC, basis)."""
    table = tomllib.loads(SIC_BY_INDUSTRY_FILE.read_text())
    return {k: (int(v["sic"]), str(v["basis"])) for k, v in table.items()}


INFERRED_SIC = "inferred from industry"


def _infer_sic(out: pd.DataFrame, found: Findings) -> None:
    table = sic_by_industry()
    missing = out["sic"].isna() & out["industry"].isin(list(table))
    for t in out.index[missing]:
        code, basis = table[out.at[t, "industry"]]
        found.add(
            t, None, "sic", "sic", "corrected", None, code,
            f"no SEC SIC code; SIC {code} inferred from the industry '{out.at[t, 'industry']}' "
            f"({basis})",
            f"SIC {code} inferred from industry",
        )
    codes = out.loc[missing, "industry"].map(lambda i: table[i][0])
    out.loc[missing, "sic"] = codes.astype("Int64")
    out.loc[missing, "sic_source"] = INFERRED_SIC


# ----------------------------------------------------------------------------- summaries
def data_flags(index: pd.Index, findings: pd.DataFrame) -> pd.Series:
    """Per company, its findings' short phrases joined by '; ' ('' when clean)."""
    phrases: dict[str, list[str]] = {}
    for ticker, flag in zip(findings["ticker"].tolist(), findings["flag"].tolist(), strict=True):
        seen = phrases.setdefault(ticker, [])
        if flag not in seen:
            seen.append(flag)
    joined = {t: "; ".join(p) for t, p in phrases.items()}
    return pd.Series(joined, dtype="string").reindex(index).fillna("").astype("string")


def integrity_counts(findings: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Counts of findings per check and action: ``{check: {action: n, ...}, ...}``."""
    counts: dict[str, dict[str, int]] = {}
    for (check, action), n in findings.groupby(["check", "action"]).size().items():
        counts.setdefault(str(check), {})[str(action)] = int(n)
    return {c: counts[c] for c in CHECKS if c in counts}


def integrity_report(universe: Any) -> dict[str, Any]:
    """Everything the integrity layer did for a universe, for ``rotation data-check``.

    Parameters
    ----------
    universe : universes.Universe

    Returns
    -------
    dict
        ``universe``, ``as_of``, ``dataset``, ``companies`` (members), ``excluded`` (companies
        of the dataset left out by an integrity check, with the reason), ``counts`` (per check,
        per action), ``companies_with_flags`` and ``rows`` (every row of ``universe.integrity``:
        ticker, fiscal_year, field, check, action, raw, corrected, evidence, flag; members and
        excluded companies alike).
    """
    table = universe.integrity
    excluded = table[table["action"] == "excluded"].drop_duplicates("ticker")
    rows = [
        {k: _scalar(v) if not (isinstance(v, float) and np.isnan(v)) else None for k, v in r.items()}
        for r in table.astype(object).where(table.notna(), None).to_dict(orient="records")
    ]
    return {
        "universe": universe.name,
        "as_of": universe.as_of.date().isoformat(),
        "dataset": universe.dataset,
        "companies": len(universe),
        "excluded": [
            {"ticker": r.ticker, "reason": r.evidence} for r in excluded.itertuples()
        ],
        "counts": integrity_counts(table),
        "companies_with_flags": int(table.loc[table["ticker"].isin(universe.tickers), "ticker"].nunique()),
        "rows": rows,
    }


def company_integrity(findings: pd.DataFrame, ticker: str) -> list[dict[str, Any]]:
    """One company's findings (raw figure, corrected figure, why), for ``rotation show``."""
    rows = findings[findings["ticker"] == ticker]
    return [
        {k: (None if pd.isna(v) else _scalar(v)) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]


__all__ = [
    "ACTIONS",
    "CHECKS",
    "INTEGRITY_COLUMNS",
    "CheckedFundamentals",
    "check_fundamentals",
    "check_market",
    "company_integrity",
    "corporate_actions",
    "data_flags",
    "integrity_counts",
    "integrity_report",
    "sic_by_industry",
]
