"""User files: reading CSV/Excel tables with errors that point at the cell at fault, and
writing any file atomically."""

from __future__ import annotations

import io
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
    if p.is_dir():
        raise DataFileError(name, "is a folder, not a file. Give the path of a .csv or .xlsx file.")
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
                io.StringIO(_csv_text(p, name)),
                dtype=object,
                skipinitialspace=True,
                keep_default_na=False,
                na_values=[""],
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
    except OSError as exc:
        raise DataFileError(name, f"cannot be read ({exc.strerror or exc}). Check its permissions.") from None
    except Exception as exc:  # the parsers raise many types; all mean "cannot read this file"
        raise DataFileError(name, f"cannot be read as {suffix[1:].upper()} ({exc}).") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_separator(frame, name)
    frame = frame.dropna(how="all")
    frame.index = frame.index + 2
    return frame, used_sheet


def _csv_text(path: Path, name: str) -> str:
    """A CSV file's text; a file that is not UTF-8 is an error naming the row."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise DataFileError(
            name,
            f"not UTF-8 text (byte {raw[exc.start]:#04x}). Save the file as 'CSV UTF-8'.",
            row=row,
        ) from None


def _check_separator(frame: pd.DataFrame, name: str) -> None:
    """A header read as one column that holds ';' or tabs: the file uses another separator."""
    if len(frame.columns) != 1:
        return
    header = frame.columns[0]
    for separator, label in ((";", ";"), ("\t", "tab")):
        if separator in header:
            raise DataFileError(
                name,
                f"the file looks {label}-separated (header {header!r}): save it with commas "
                "between the columns (in Excel: 'CSV UTF-8 (comma delimited)').",
                row=1,
            )


def find_column(frame: pd.DataFrame, *aliases: str) -> str | None:
    """The first column whose name matches one of ``aliases`` (case-insensitive)."""
    lower = {c.lower(): c for c in frame.columns}
    for alias in aliases:
        if alias.lower() in lower:
            return lower[alias.lower()]
    return None


#: Dates a user file may hold: wider than any fiscal year or trade, inside what pandas represents.
FIRST_DATE, LAST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    path: str,
    sheet: str | None,
    *,
    non_negative: bool = False,
    required: bool = True,
    whole: bool = False,
    below: float | None = None,
) -> pd.Series:
    """Parse a column as numbers, raising at the first bad cell.

    Thousands separators (``1,000``) and a leading ``$`` are accepted. Blank cells are an error
    when ``required``, otherwise NaN. Infinities (``inf``, ``1e400``) are always refused.

    Parameters
    ----------
    non_negative : bool
        Refuse numbers below 0.
    required : bool
        Refuse blank cells.
    whole : bool
        Refuse numbers with a fraction (years, counts of things).
    below : float, optional
        Refuse numbers of this size or more (a bound no real figure reaches).
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
    checks = [(values.isna() & ~blank, "{cell!r} is not a number.")]
    if required:
        checks.append((blank, "is blank; a number is required."))
    checks.append((pd.Series(np.isinf(values), index=values.index), "{cell!r} is not a finite number."))
    if non_negative:
        checks.append((values < 0, "{cell!r} is negative; it must be zero or more."))
    if whole:
        checks.append(((values % 1 != 0) & values.notna(), "{cell!r} is not a whole number."))
    if below is not None:
        checks.append((values.abs() >= below, "{cell!r} is not plausible here: it must be below {below:g}."))
    first: tuple[int, str] | None = None
    for bad, problem in checks:
        if bad.any():
            row = int(bad.idxmax())
            if first is None or row < first[0]:
                first = (row, problem)
    if first is not None:
        row, problem = first
        raise DataFileError(
            path, problem.format(cell=raw.loc[row], below=below), row=row, column=column, sheet=sheet
        )
    return values


def date_column(
    frame: pd.DataFrame, column: str, path: str, sheet: str | None, *, required: bool = True
) -> pd.Series:
    """Parse a column as dates (YYYY-MM-DD), raising at the first bad or out-of-range cell."""
    raw = frame[column]
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    parsed = pd.to_datetime(raw, errors="coerce")
    bad = parsed.isna() & (~blank | required)
    if bad.any():
        row = int(bad.idxmax())
        problem = "is blank; a date is required." if blank.loc[row] else f"{raw.loc[row]!r} is not a date (use YYYY-MM-DD)."
        raise DataFileError(path, problem, row=row, column=column, sheet=sheet)
    outside = (parsed < FIRST_DATE) | (parsed > LAST_DATE)
    if outside.any():
        row = int(outside.idxmax())
        raise DataFileError(
            path,
            f"{raw.loc[row]!r} is outside the dates this tool handles "
            f"({FIRST_DATE.date()} to {LAST_DATE.date()}).",
            row=row,
            column=column,
            sheet=sheet,
        )
    return parsed.astype("datetime64[ns]")


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
            out[f.name] = numeric_column(
                frame, f.name, path, sheet, required=f.required, whole=f.kind == "int"
            )
        elif f.kind == "date":
            out[f.name] = date_column(frame, f.name, path, sheet, required=f.required)
        else:
            blank = col.isna() | (col.astype("string").str.strip() == "")
            if f.required and blank.any():
                row = int(blank.idxmax())
                raise DataFileError(
                    path, "is blank; a value is required.", row=row, column=f.name, sheet=sheet
                )
            out[f.name] = col
    return out
