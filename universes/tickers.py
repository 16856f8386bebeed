"""Ticker spelling: one normal form, and close matches for a ticker nobody knows."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

_CLASS_SEPARATORS = re.compile(r"[./ _]+")


def normalize_ticker(raw: object) -> str:
    """Return the snapshot's spelling of a ticker.

    Upper case, surrounding whitespace removed, and class-share separators (``BRK.B``,
    ``BRK/B``, ``BRK B``) written with a hyphen as the snapshot does (``BRK-B``).

    Parameters
    ----------
    raw : object
        A ticker as a user typed it.

    Returns
    -------
    str
        The normalised ticker ('' for blanks).
    """
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return ""
    text = str(raw).strip().upper()
    return _CLASS_SEPARATORS.sub("-", text).strip("-")


def normalize_tickers(raw: pd.Series) -> pd.Series:
    """Vectorised :func:`normalize_ticker`."""
    text = raw.astype("string").fillna("").str.strip().str.upper()
    return text.str.replace(_CLASS_SEPARATORS, "-", regex=True).str.strip("-")


def isin(values: pd.Series | pd.Index, wanted: Iterable[str]) -> np.ndarray:
    """``values.isin(wanted)`` as a boolean array, fast for Arrow-backed strings.

    pandas turns each wanted value of an Arrow-backed string column into an Arrow scalar in a
    Python loop (14 ms for the 2,900 usable tickers of a date, asked several times per date in
    a backtest); this hands both sides to Arrow at once. Missing values match missing values,
    as in pandas; anything but strings to look for goes to pandas.

    Parameters
    ----------
    values : pandas.Series or pandas.Index
        Tickers (or other strings) to test.
    wanted : iterable of str
        The set to test them against.

    Returns
    -------
    numpy.ndarray
        One boolean per value.
    """
    if not isinstance(wanted, pd.Index | pd.Series | np.ndarray | list):
        wanted = list(wanted)
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        data = pa.array(values.array)
        members = pa.array(wanted.array if isinstance(wanted, pd.Index | pd.Series) else wanted, from_pandas=True)
        if isinstance(members, pa.ChunkedArray):
            members = members.combine_chunks()
        kind = members.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
            return np.asarray(pc.is_in(data, value_set=members.cast(data.type)), dtype=bool)
    return np.asarray(values.isin(wanted), dtype=bool)


def close_matches(
    ticker: str, known: Iterable[str], names: pd.Series | None = None, n: int = 5
) -> list[str]:
    """Tickers that look like ``ticker``, or whose company name contains it.

    Parameters
    ----------
    ticker : str
        The unknown ticker (any spelling).
    known : iterable of str
        Valid tickers.
    names : pandas.Series, optional
        Company names indexed by ticker, to match a name typed as a ticker (``APPLE``).
    n : int
        At most this many suggestions.

    Returns
    -------
    list of str
        Suggestions, best first.
    """
    wanted = normalize_ticker(ticker)
    known_list = [str(k) for k in known]
    near = [
        k for k in known_list if abs(len(k) - len(wanted)) <= 1 and edit_distance(wanted, k) <= 1
    ]
    matches = sorted(
        near,
        key=lambda k: (len(k) != len(wanted), -difflib.SequenceMatcher(None, wanted, k).ratio(), k),
    )
    for k in difflib.get_close_matches(wanted, known_list, n=n, cutoff=0.6):
        if k not in matches:
            matches.append(k)
    if names is not None and len(wanted) >= 3:
        hits = names[names.astype("string").str.upper().str.contains(wanted, regex=False, na=False)]
        for t in hits.index[:n]:
            if t not in matches:
                matches.append(str(t))
    return matches[:n]


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    neighbouring letters (``APPL`` is one swap from ``AAPL``)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def unknown_ticker_message(ticker: str, suggestions: list[str], where: str) -> str:
    """The one wording for an unknown ticker, with what to try instead."""
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"Unknown ticker {ticker!r}: not in {where}.{hint}"
