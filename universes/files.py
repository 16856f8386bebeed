"""User files: reading CSV/Excel tables with errors that point at the cell at fault, and
writing any file atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from universes.errors import DataFileError
from universes.paths import TABLE_SUFFIXES
from universes.schema import Field


def _new_file_mode(path: Path) -> int:
    """The permissions a plain write would give ``path``: kept when it exists, else 0666 less umask."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(temporary_path)`` and move the result over ``path`` in one rename.

    An interrupted or failed write leaves ``path`` as it was (and no temporary file behind);
    the new file gets the permissions a plain write would have given it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file through a temporary file and a rename (never half-written)."""
    atomic_write(path, lambda tmp: _write_text(tmp, text))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


def read_table(path: str | Path, sheet: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV or Excel file as strings, header on the first row.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv``, ``.xlsx`` or ``.xlsm`` file.
    sheet : str, optional
        Worksheet to read from an Excel file (default: the first one).

    Returns
    -------
    frame : pandas.DataFrame
        Cells as objects (numbers stay numbers in Excel files); column names stripped. The index
        is the spreadsheet row number (header = row 1).
    sheet : str or None
        The worksheet read, ``None`` for CSV.

    Raises
    ------
    DataFileError
        The file is missing, of another type, unreadable, or has no such sheet.
    """
    p = Path(path).expanduser()
    name = str(path)
    if not p.is_file():
        raise DataFileError(
            name, "no such file. Check the path (relative paths start from the current folder)."
        )
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataFileError(
            name, f"unsupported file type {suffix or '(none)'}; use a .csv or .xlsx file."
        )
    try:
        if suffix == ".csv":
            frame = pd.read_csv(
                p, dtype=object, skipinitialspace=True, keep_default_na=False, na_values=[""]
            )
            used_sheet = None
        else:
            import openpyxl

            book = openpyxl.load_workbook(p, read_only=True, data_only=True)
            try:
                names = book.sheetnames
            finally:
                book.close()
            if sheet is not None and sheet not in names:
                raise DataFileError(
                    name,
                    f"no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))}.",
                    sheet=sheet,
                )
            used_sheet = sheet if sheet is not None else names[0]
            frame = pd.read_excel(p, sheet_name=used_sheet, dtype=object, engine="openpyxl")
    except DataFileError:
        raise
    except Exception as exc:  # the parsers raise many types; all mean "cannot read this file"
        raise DataFileError(name, f"cannot be read as {suffix[1:].upper()} ({exc}).") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.dropna(how="all")
    frame.index = frame.index + 2
    return frame, used_sheet


def find_column(frame: pd.DataFrame, *aliases: str) -> str | None:
    """The first column whose name matches one of ``aliases`` (case-insensitive)."""
    lower = {c.lower(): c for c in frame.columns}
    for alias in aliases:
        if alias.lower() in lower:
            return lower[alias.lower()]
    return None


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    path: str,
    sheet: str | None,
    *,
    non_negative: bool = False,
    required: bool = True,
) -> pd.Series:
    """Parse a column as numbers, raising at the first bad cell.

    Thousands separators (``1,000``) and a leading ``$`` are accepted. Blank cells are an error
    when ``required``, otherwise NaN.
    """
    raw = frame[column]
    text = (
        raw.astype("string")
        .str.strip()
        .str.replace(",", "", regex=False)
        .str.replace("$", "", regex=False)
    )
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    blank = raw.isna() | (text.fillna("") == "")
    bad = values.isna() & ~blank
    if required:
        bad |= blank
    if non_negative:
        bad |= values < 0
    if bad.any():
        row = int(bad.idxmax())
        cell = raw.loc[row]
        if blank.loc[row]:
            problem = "is blank; a number is required."
        elif not np.isnan(values.loc[row]) and non_negative:
            problem = f"{cell!r} is negative; it must be zero or more."
        else:
            problem = f"{cell!r} is not a number."
        raise DataFileError(path, problem, row=row, column=column, sheet=sheet)
    return values


def check_columns(
    frame: pd.DataFrame, fields: tuple[Field, ...], path: str, sheet: str | None
) -> None:
    """Every column must be a known field and every required field must be present."""
    valid = [f.name for f in fields]
    for column in frame.columns:
        if column not in valid:
            raise DataFileError(
                path,
                f"unknown column {column!r}. Valid columns: {', '.join(valid)}.",
                column=column,
                sheet=sheet,
            )
    for f in fields:
        if f.required and f.name not in frame.columns:
            raise DataFileError(
                path, f"required column {f.name!r} is missing.", column=f.name, sheet=sheet
            )


def check_cells(
    frame: pd.DataFrame, fields: tuple[Field, ...], path: str, sheet: str | None
) -> pd.DataFrame:
    """Parse each present column by its kind; report the first bad cell by row and column."""
    out = pd.DataFrame(index=frame.index)
    for f in fields:
        if f.name not in frame.columns:
            continue
        col = frame[f.name]
        if f.kind in ("usd", "count", "int"):
            out[f.name] = numeric_column(frame, f.name, path, sheet, required=f.required)
        elif f.kind == "date":
            parsed = pd.to_datetime(col, errors="coerce")
            bad = parsed.isna() & (col.notna() if not f.required else True)
            if bad.any():
                row = int(bad.idxmax())
                raise DataFileError(
                    path,
                    f"{col.loc[row]!r} is not a date (use YYYY-MM-DD).",
                    row=row,
                    column=f.name,
                    sheet=sheet,
                )
            out[f.name] = parsed
        else:
            blank = col.isna() | (col.astype("string").str.strip() == "")
            if f.required and blank.any():
                row = int(blank.idxmax())
                raise DataFileError(
                    path, "is blank; a value is required.", row=row, column=f.name, sheet=sheet
                )
            out[f.name] = col
    return out
