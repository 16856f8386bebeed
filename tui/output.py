"""Plain-text and JSON rendering for the command line (no Textual here)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types (NaN and NaT become ``null``).

    NumPy and pandas are only consulted when something already loaded them: a command that
    printed plain values never imports them.
    """
    np_ = sys.modules.get("numpy")
    pd_ = sys.modules.get("pandas")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if pd_ is not None and (value is pd_.NA or value is pd_.NaT):
        return None
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bool) or (np_ is not None and isinstance(value, np_.bool_)):
        return bool(value)
    if np_ is not None and isinstance(value, np_.integer):
        return int(value)
    if isinstance(value, float) or (np_ is not None and isinstance(value, np_.floating)):
        if not math.isfinite(float(value)):
            return None
        return float(shortest_float([float(value)])[0]) if np_ is not None else float(value)
    if np_ is not None and isinstance(value, np_.datetime64):
        return None if np_.isnat(value) else str(value)[:10]
    return value


def shortest_float(values: Any) -> np.ndarray:
    """Values that came from single precision written as the short decimal they were.

    Prices are stored as float32 (as the source gives them); widened to float64 they print as
    ``21.200000762939453``. A value that a float32 holds exactly is replaced by the shortest
    decimal that round-trips through float32 (``21.2``); other values are left as they are.
    """
    import numpy as np

    out = np.asarray(values, dtype=np.float64).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        single = out.astype(np.float32)
        exact = np.isfinite(out) & (single.astype(np.float64) == out) & (out != np.round(out))
    for i in np.flatnonzero(exact):
        out[i] = float(np.format_float_positional(single[i], unique=True))
    return out


def clean_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`shortest_float` applied to every float column."""
    import pandas as pd

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


def _number(x: Any) -> float | None:
    """``x`` as a finite float, or None for missing values (None, NaN, pd.NA, infinities)."""
    if x is None or isinstance(x, str):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):  # pd.NA and other missing markers
        return None
    return value if math.isfinite(value) else None


def fmt_money(x: Any) -> str:
    """Compact dollars: 1.2B, 345.6M, 12.3K; '-' for missing."""
    value = _number(x)
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{sign}{value / scale:.1f}{unit}"
    return f"{sign}{value:.0f}"


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number with fixed decimals (whole numbers with thousands separators), '-' for missing."""
    value = _number(x)
    if value is None:
        return "-"
    if isinstance(x, int) or type(x).__name__.startswith(("int", "uint")):
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A fraction as a percentage, '-' for missing."""
    value = _number(x)
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def fmt_short(v: Any) -> str:
    """A value in few characters: large amounts as 1.2M, small numbers to 3 digits, '-' for None."""
    if isinstance(v, float):
        if v != v:
            return "-"
        if abs(v) >= 1e4:
            return fmt_money(v)
        return f"{int(v)}" if v.is_integer() else f"{v:.3g}"
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


def worth(shadow_price: Any, note: Any) -> str:
    """A binding constraint's shadow price in basis points, or why it has none."""
    if shadow_price is not None and shadow_price == shadow_price:  # NaN is not equal to itself
        return f"{1e4 * shadow_price:.2f} bp"
    return str(note) if isinstance(note, str) and note else "-"


def rate_line(rates: dict[str, Any]) -> str:
    """The portfolio's rate-cut sensitivity in one line."""
    change = rates["earnings_change"]
    change_text = f" ({fmt_pct(change, 1)} of its look-through earnings)" if change == change else ""
    return (
        f"A 100 bp rate cut: {1e4 * rates['earnings_yield_gain']:+.1f} bp of earnings per $ invested{change_text} | "
        f"net-cash names {fmt_pct(rates['net_cash_weight'])}, net-debt names {fmt_pct(rates['net_debt_weight'])} | "
        f"{fmt_pct(rates['covered'])} of the weight has a figure"
    )
