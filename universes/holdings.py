"""Current holdings from a CSV or Excel file: validated, normalised, merged.

Layout: one row per position with at least ``ticker`` and ``shares`` columns (``symbol`` and
``quantity`` / ``qty`` are accepted too); optional ``cost_basis`` (USD per share) and
``account``. Cash is a row whose ticker is ``CASH`` (or ``$CASH``, ``USD``) with the amount in
``shares`` (or in a ``market_value`` / ``amount`` column).

* Tickers are normalised (case, spaces, ``BRK.B`` / ``BRK/B`` -> ``BRK-B``).
* The same ticker on several rows (several accounts) is merged, with a warning.
* A ticker the dataset does not know is an error that lists close matches, unless
  ``ignore_unknown``: then it is kept as an *untradeable* holding (not valued, never traded).
* A missing column, a blank, non-numeric, infinite, negative or implausibly large (1e15 or more)
  share count, amount or cost basis, or a wrong sheet is an error naming the file, sheet, row
  and column. Nothing is written either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from universes.errors import DataFileError
from universes.files import find_column, numeric_column, read_table
from universes.tickers import close_matches, normalize_tickers, unknown_ticker_message

CASH_TICKERS = ("CASH", "$CASH", "USD", "CASH-USD")
#: No share count, amount of cash or price per share reaches this (1e15: a thousand trillion).
PLAUSIBLE_LIMIT = 1e15


@dataclass(frozen=True)
class Holdings:
    """What the user holds today.

    Attributes
    ----------
    shares : pandas.Series
        Shares per known ticker (float, > 0 after merging).
    cash : float
        Cash in USD.
    untradeable : pandas.Series
        Shares of tickers the dataset does not know (kept with ``ignore_unknown``).
    cost_basis : pandas.Series
        USD per share where the file gave it (share-weighted when rows were merged).
    source : str
        Where the holdings came from.
    warnings : tuple of str
        Merges and other notes for the user.
    """

    shares: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    cash: float = 0.0
    untradeable: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    cost_basis: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    source: str = "cash"
    warnings: tuple[str, ...] = ()

    @classmethod
    def all_cash(cls, capital: float) -> Holdings:
        """A starting point of ``capital`` dollars in cash and nothing else."""
        return cls(cash=float(capital), source=f"cash {capital:,.0f} USD")


def read_holdings(
    path: str | Path,
    known: pd.DataFrame,
    *,
    sheet: str | None = None,
    ignore_unknown: bool = False,
) -> Holdings:
    """Read a holdings file.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.csv`` or ``.xlsx``.
    known : pandas.DataFrame
        Companies the dataset knows (index = ticker, with ``name``), for validation and
        suggestions.
    sheet : str, optional
        Worksheet of an Excel file (default: the first).
    ignore_unknown : bool
        Keep unknown tickers as untradeable holdings instead of failing.

    Returns
    -------
    Holdings

    Raises
    ------
    DataFileError
        The file or one of its cells is unusable (the message names file, sheet, row, column).
    """
    name = str(path)
    frame, used_sheet = read_table(path, sheet)
    ticker_col = find_column(frame, "ticker", "symbol")
    shares_col = find_column(frame, "shares", "quantity", "qty")
    for col, label in ((ticker_col, "ticker"), (shares_col, "shares")):
        if col is None:
            raise DataFileError(
                name, f"required column {label!r} is missing (columns found: {', '.join(frame.columns) or 'none'}).", column=label, sheet=used_sheet
            )
    assert ticker_col is not None and shares_col is not None
    tickers = normalize_tickers(frame[ticker_col])
    for row, t in tickers.items():
        if not t:
            raise DataFileError(name, "ticker is blank.", row=int(row), column=ticker_col, sheet=used_sheet)

    is_cash = tickers.isin(CASH_TICKERS)
    amount_col = find_column(frame, "market_value", "amount", "value")
    cash = 0.0
    if is_cash.any():
        cash_rows = frame[is_cash]
        column = amount_col if amount_col is not None and cash_rows[amount_col].notna().all() else shares_col
        cash_values = numeric_column(cash_rows, column, name, used_sheet, non_negative=True, below=PLAUSIBLE_LIMIT)
        cash = float(cash_values.sum())
    positions = frame[~is_cash]
    shares = numeric_column(positions, shares_col, name, used_sheet, non_negative=True, below=PLAUSIBLE_LIMIT)
    basis_col = find_column(frame, "cost_basis", "cost", "basis")
    basis = (
        numeric_column(positions, basis_col, name, used_sheet, non_negative=True, required=False, below=PLAUSIBLE_LIMIT)
        if basis_col is not None
        else pd.Series(float("nan"), index=positions.index)
    )
    pos_tickers = tickers[~is_cash]

    warnings: list[str] = []
    unknown = [t for t in dict.fromkeys(pos_tickers) if t not in known.index]
    if unknown and not ignore_unknown:
        row = int(pos_tickers[pos_tickers == unknown[0]].index[0])
        details = "; ".join(unknown_ticker_message(t, close_matches(t, known.index, known["name"]), "the dataset") for t in unknown[:5])
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        raise DataFileError(
            name, f"{details}{more} Fix the tickers, or keep them as untradeable holdings (--ignore-unknown on the command line, 'keep unknown tickers' in the app).",
            row=row, column=ticker_col, sheet=used_sheet,
        )
    table = pd.DataFrame({"ticker": pos_tickers, "shares": shares, "basis": basis})
    counts = table["ticker"].value_counts()
    for t in counts[counts > 1].index:
        warnings.append(f"{t} appears on {counts[t]} rows of {name}; merged into one position of {table.loc[table['ticker'] == t, 'shares'].sum():,.0f} shares.")
    table["cost"] = table["shares"] * table["basis"]
    merged = table.groupby("ticker", sort=True).agg(shares=("shares", "sum"), cost=("cost", lambda c: c.sum(min_count=1)))
    merged["basis"] = merged["cost"] / merged["shares"].where(merged["shares"] > 0)
    merged = merged[merged["shares"] > 0]
    is_known = merged.index.isin(known.index)
    if unknown:
        warnings.append(f"Kept as untradeable (not in the dataset): {', '.join(unknown)}.")
    return Holdings(
        shares=merged.loc[is_known, "shares"].astype(float),
        cash=cash,
        untradeable=merged.loc[~is_known, "shares"].astype(float),
        cost_basis=merged.loc[is_known, "basis"].dropna(),
        source=name,
        warnings=tuple(warnings),
    )
