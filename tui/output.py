"""Plain-text and JSON rendering for the command line (no Textual here)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types (NaN and NaT become ``null``)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime | date):
        return (
            None
            if pd.isna(value)
            else value.date().isoformat()
            if isinstance(value, datetime)
            else value.isoformat()
        )
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).date().isoformat()
    return value


def shortest_float(values: np.ndarray) -> np.ndarray:
    """Values that came from single precision written as the short decimal they were.

    Prices are stored as float32 (as the source gives them); widened to float64 they print as
    ``21.200000762939453``. A value that a float32 holds exactly is replaced by the shortest
    decimal that round-trips through float32 (``21.2``); other values are left as they are.
    """
    out = np.asarray(values, dtype=np.float64).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        single = out.astype(np.float32)
        exact = np.isfinite(out) & (single.astype(np.float64) == out) & (out != np.round(out))
    for i in np.flatnonzero(exact):
        out[i] = float(np.format_float_positional(single[i], unique=True))
    return out


def clean_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`shortest_float` applied to every float column."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column].dtype):
            out[column] = shortest_float(out[column].to_numpy())
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-ready row objects (float32 noise removed)."""
    frame = clean_floats(frame)
    return [
        jsonable(dict(zip(frame.columns, row, strict=True)))
        for row in frame.itertuples(index=False, name=None)
    ]


def dumps(obj: Any) -> str:
    """JSON text of any result (two-space indent, stable key order as given)."""
    return json.dumps(jsonable(obj), indent=2)


def fmt_money(x: float | None) -> str:
    """Compact dollars: 1.2B, 345.6M, 12.3K."""
    if x is None or not np.isfinite(x):
        return "-"
    sign = "-" if x < 0 else ""
    x = abs(x)
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if x >= scale:
            return f"{sign}{x / scale:.1f}{unit}"
    return f"{sign}{x:.0f}"


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number with fixed decimals, '-' for missing."""
    if x is None or (isinstance(x, float | np.floating) and not np.isfinite(x)) or x is pd.NA:
        return "-"
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    return f"{float(x):,.{digits}f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A fraction as a percentage, '-' for missing."""
    if x is None or x is pd.NA or not np.isfinite(float(x)):
        return "-"
    return f"{100 * float(x):.{digits}f}%"


def fmt_short(v: Any) -> str:
    """A value in few characters: large amounts as 1.2M, small numbers to 3 digits, '-' for None."""
    if isinstance(v, float):
        return fmt_money(v) if abs(v) >= 1e4 else f"{v:.3g}"
    return "-" if v is None else str(v)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None) -> str:
    """A fixed-width text table. ``align`` has one letter per column: l or r."""
    cells = [[str(c) for c in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" * len(headers)

    def line(r: Iterable[str]) -> str:
        return "  ".join(
            c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(r, widths, align, strict=True)
        ).rstrip()

    out = [line(cells[0]), line("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)
