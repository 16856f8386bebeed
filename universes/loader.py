"""Load a universe by name, point in time, through the integrity layer.

:func:`point_in_time` is the one path from a dataset to usable figures on a date: the fiscal
years published by then (and a user's own file merged in), checked and corrected by
:mod:`universes.integrity`, with each company's market data. :func:`load_universe` applies a
universe's rules to it; :func:`find_company` and :func:`company_record` give one company;
:func:`list_universes` answers from the manifest without loading prices.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from universes.catalog import (
    DEFAULT_UNIVERSE,
    UniverseDefinition,
    _chain,
    resolve_chain,
    root_dataset,
    universe_definitions,
)
from universes.datasets import Dataset, PriceHistory, dataset_key, open_dataset
from universes.errors import DataFileError, UniverseError
from universes.files import check_cells, check_columns, find_column, read_table
from universes.integrity import (
    NON_NEGATIVE,
    Findings,
    check_fundamentals,
    check_market,
    company_integrity,
    data_flags,
    findings_frame,
)
from universes.schema import FUNDAMENTAL_FIELDS, Field, coerce, sic_flags
from universes.tickers import close_matches, isin, normalize_tickers, unknown_ticker_message

#: Sessions over which average daily volume is measured (about three months).
ADV_SESSIONS = 63
#: A price older than this many sessions before the as-of date does not count.
MAX_PRICE_AGE_SESSIONS = 10
#: At least this many sessions of history are needed before an as-of date.
MIN_HISTORY_SESSIONS = ADV_SESSIONS
#: Identity columns of a fundamentals row; every other column may be left blank in a user file.
ROW_KEYS = ("ticker", "fiscal_year", "period_end", "publish_date")
#: A fiscal year a user file adds (not in the dataset) needs these.
#: (``shares_basic`` too: without it the company has no share count, so no market cap.)
NEW_YEAR_REQUIRED = (
    *(f.name for f in FUNDAMENTAL_FIELDS if f.required and f.name not in ROW_KEYS),
    "shares_basic",
)

def _empty_integrity() -> pd.DataFrame:
    return findings_frame([])


@dataclass(frozen=True)
class Universe:
    """A set of companies with everything known about them on one date.

    Attributes
    ----------
    name : str
        Universe name (or the custom file it came from).
    description : str
    as_of : pandas.Timestamp
        Nothing published after this date is included.
    dataset : str
        The dataset it was built from (``"snapshot"`` or a refreshed one).
    provider : str
        Data provider (``"snapshot"`` for the embedded data).
    companies : pandas.DataFrame
        One row per company, indexed by ticker: identity, SIC, sector, flags, price, shares,
        market cap, ADV, latest fiscal year, ``fundamentals_age_months``, ``data_flags``
        ('' when clean) and ``excluded_reason`` ('' for members; see :mod:`universes.schema`).
        Share counts, market caps and SIC codes are the corrected ones.
    fundamentals : pandas.DataFrame
        Every fiscal year published on or before ``as_of`` for these companies, sorted by
        ticker and fiscal year, as corrected by :mod:`universes.integrity` (years it drops are
        absent), with ``parent_share``.
    prices : PriceHistory
        Daily history of these companies up to ``as_of``, read from the dataset the first time
        it is used (screening and company cards need no prices; the optimiser and charts do).
    prices_source : callable
        What reads :attr:`prices` (a constructor argument; use :attr:`prices`).
    notes : tuple of str
        What was left out and why, and what a user's fundamentals file changed.
    reference_companies : pandas.DataFrame or None
        Every usable company of the dataset on ``as_of`` (price, share count, fundamentals and
        a plausible market cap), whatever universe rules say: the fixed peer set that relative
        valuation compares a company with, so that a company's fair value does not depend on
        which universe is screened. Corrected figures.
    reference_fundamentals : pandas.DataFrame or None
        Their corrected point-in-time fundamentals.
    integrity : pandas.DataFrame
        One row per correction or flag (columns of ``universes.integrity.INTEGRITY_COLUMNS``:
        ticker, fiscal_year, field, check, action, raw, corrected, evidence, flag) for the
        members, and for the companies an integrity check excluded that the universe's other
        rules would not have (so a front end can say why a company is missing).
    """

    name: str
    description: str
    as_of: pd.Timestamp
    dataset: str
    provider: str
    companies: pd.DataFrame
    fundamentals: pd.DataFrame = field(repr=False)
    prices_source: Callable[[], PriceHistory] = field(repr=False)
    notes: tuple[str, ...] = ()
    reference_companies: pd.DataFrame | None = field(default=None, repr=False)
    reference_fundamentals: pd.DataFrame | None = field(default=None, repr=False)
    integrity: pd.DataFrame = field(default_factory=_empty_integrity, repr=False)

    def __len__(self) -> int:
        return len(self.companies)

    @functools.cached_property
    def prices(self) -> PriceHistory:
        """Daily history of the members up to ``as_of`` (read on first use)."""
        return self.prices_source()

    @property
    def tickers(self) -> pd.Index:
        """The companies' tickers."""
        return self.companies.index

    def subset(self, tickers: list[str] | pd.Index, name: str | None = None) -> Universe:
        """The same universe restricted to ``tickers`` (which must all be members)."""
        tickers = pd.Index(tickers)
        keep = self.integrity["ticker"].isin(tickers) | (self.integrity["action"] == "excluded")
        return Universe(
            name=name or self.name,
            description=self.description,
            as_of=self.as_of,
            dataset=self.dataset,
            provider=self.provider,
            companies=self.companies.loc[tickers],
            fundamentals=self.fundamentals[self.fundamentals["ticker"].isin(tickers)].reset_index(
                drop=True
            ),
            prices_source=lambda: self.prices.select(tickers),
            notes=self.notes,
            reference_companies=self.reference_companies,
            reference_fundamentals=self.reference_fundamentals,
            integrity=self.integrity[keep].reset_index(drop=True),
        )


def _resolve_as_of(data: Dataset, as_of: str | pd.Timestamp | None) -> pd.Timestamp:
    if as_of is None:
        return data.as_of
    try:
        when = pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError) as exc:
        raise UniverseError(f"As-of date {as_of!r} is not a date; use YYYY-MM-DD.") from exc
    if when == data.as_of:
        return when  # the dataset's own date: no need to read the prices to check it
    dates = data.prices.dates
    first_usable = pd.Timestamp(dates[min(MIN_HISTORY_SESSIONS, len(dates) - 1)])
    if when > data.as_of or when < first_usable:
        raise UniverseError(
            f"As-of date {when.date()} is outside the {data.name} dataset: use a date from "
            f"{first_usable.date()} to {data.as_of.date()}."
        )
    return when


# ----------------------------------------------------------------------------- point in time
@dataclass(frozen=True)
class PointInTime:
    """Every company of a dataset on one date, after the integrity layer.

    Attributes
    ----------
    companies : pandas.DataFrame
        The dataset's companies with identity, market data (``universes.schema.MARKET_FIELDS``)
        and corrected shares, market cap and SIC; ``excluded_reason`` is '' for the companies
        a universe can use.
    fundamentals : pandas.DataFrame
        Corrected fiscal years published by the date, with ``parent_share``.
    integrity : pandas.DataFrame
        Every correction and flag (``universes.integrity.INTEGRITY_COLUMNS``).
    notes : tuple of str
        What a user's fundamentals file changed, for printing.
    """

    companies: pd.DataFrame
    fundamentals: pd.DataFrame
    integrity: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def usable(self) -> pd.Series:
        """Companies with a price, a share count, fundamentals and no exclusion."""
        return self.companies["excluded_reason"] == ""

    @functools.cached_property
    def missing_data(self) -> pd.Series:
        """Companies without a price, a share count or a published fiscal year."""
        c = self.companies
        return c["price"].isna() | c["fiscal_year"].isna() | ~(c["shares"] > 0)

    @functools.cached_property
    def excluded(self) -> pd.DataFrame:
        """Companies with the data a universe needs that an integrity check left out (computed
        once per view; do not modify it)."""
        return self.companies[~self.missing_data & ~self.usable]

    @functools.cached_property
    def members(self) -> pd.DataFrame:
        """The :attr:`usable` companies: where every universe starts, and the peers of relative
        valuation (computed once per view; do not modify it)."""
        return self.companies[self.usable]

    @functools.cached_property
    def members_fundamentals(self) -> pd.DataFrame:
        """The fiscal years of :attr:`members` (computed once per view; do not modify it)."""
        f = self.fundamentals
        return f[isin(f["ticker"], self.members.index)].reset_index(drop=True)


def point_in_time(
    data: Dataset, as_of: pd.Timestamp, extra: pd.DataFrame | None = None, source: str = ""
) -> PointInTime:
    """A dataset on ``as_of``: published fundamentals checked and corrected, market data joined.

    Parameters
    ----------
    data : Dataset
    as_of : pandas.Timestamp
    extra : pandas.DataFrame, optional
        Fiscal years from a user's file (:func:`read_fundamentals_file`): merged into the
        dataset's (the file's non-blank cells win) when published by ``as_of``.
    source : str
        The file ``extra`` came from, for the notes.

    Returns
    -------
    PointInTime
    """
    f = data.fundamentals
    pit = f[f["publish_date"] <= as_of]
    notes: list[str] = []
    user_years: pd.DataFrame | None = None
    if extra is not None:
        pit, notes, user_years = merge_fundamentals(pit, extra, as_of, source)
    checked = check_fundamentals(pit)
    hist = data.prices
    market = market_data(hist, as_of)
    companies = data.companies.join(market.rename_axis(None))
    ordered = checked.fundamentals.sort_values(["ticker", "fiscal_year"])
    ends = {
        when: rows.set_index("ticker")["period_end"]
        for when, rows in (
            ("latest", ordered.groupby("ticker", sort=False).tail(1)),
            ("prior", ordered.groupby("ticker", sort=False).nth(-2)),
        )
    }
    dps = pd.DataFrame(
        {when: dividends_per_share(hist, companies.index, end) for when, end in ends.items()}
    )
    found = Findings()
    companies, fundamentals = check_market(
        companies, checked.fundamentals, as_of, dps, data.manifest, found
    )
    companies = companies.join(sic_flags(companies["sic"]))
    findings = pd.concat([checked.findings, found.frame()], ignore_index=True)
    findings = findings.sort_values(["ticker", "fiscal_year"], kind="stable", na_position="first")
    findings = findings.reset_index(drop=True)
    companies["data_flags"] = data_flags(companies.index, findings)
    companies["excluded_reason"] = _missing_data_reason(companies, as_of).where(
        lambda r: r != "", companies["excluded_reason"]
    )
    if user_years is not None:
        notes += _user_file_findings(findings, user_years, source)
    return PointInTime(companies, fundamentals.reset_index(drop=True), findings, tuple(notes))


def _missing_data_reason(companies: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    reason = pd.Series("", index=companies.index, dtype="string")
    no_shares = ~(companies["shares"] > 0)
    no_years = companies["fiscal_year"].isna()
    no_price = companies["price"].isna()
    listed = companies["listed"] if "listed" in companies else pd.Series(True, index=companies.index)
    reason = reason.mask(no_shares, "no share count in the latest fiscal year")
    reason = reason.mask(no_years, f"no fiscal year published by {as_of.date()}")
    reason = reason.mask(
        no_price & listed,
        f"no price on {as_of.date()} or in the {MAX_PRICE_AGE_SESSIONS} sessions before (not yet listed)",
    )
    reason = reason.mask(
        no_price & ~listed,
        "no prices: the company stopped trading (delisted or renamed) before the dataset's as-of "
        "date, and the price file holds only companies listed then",
    )
    return reason


@functools.lru_cache(maxsize=16)
def _point_in_time_cached(key: tuple[str, str, float], as_of: pd.Timestamp) -> PointInTime:
    folder = pit_cache_folder(key, as_of)
    cached = read_pit_cache(folder)
    if cached is not None:
        return cached
    pit = point_in_time(open_dataset(key[0]), as_of)
    write_pit_cache(folder, pit)
    return pit


#: What a cached point-in-time view depends on besides the dataset: the code and tables that
#: check and correct it. A change to any of them makes a new cache key.
PIT_SOURCES = ("loader.py", "integrity.py", "datasets.py", "schema.py", "corporate_actions.toml", "sic_by_industry.toml")
PIT_PARTS = ("companies", "fundamentals", "integrity")


def pit_cache_folder(key: tuple[str, str, float], as_of: pd.Timestamp) -> Path:
    """Where the point-in-time view of a dataset on a date is cached between runs.

    The integrity checks take about a second on the whole snapshot; their result depends only
    on the dataset's files, the date and the code, all of which are in the key. The cache
    lives in the user's cache folder (``$ROTATION_HOME/cache`` when that is set).
    """
    import hashlib

    from universes.paths import cache_dir

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(repr(key).encode())
    for name in PIT_SOURCES:
        digest.update((here / name).read_bytes())
    return cache_dir() / "point-in-time" / f"{key[0]}-{as_of.date()}-{digest.hexdigest()[:16]}"


def read_pit_cache(folder: Path) -> PointInTime | None:
    """A cached point-in-time view, or None when there is none (or it cannot be read).

    The cache is pickled frames (exact dtypes, fast to read), written only by this process into
    the user's own cache folder.
    """
    path = folder / "point-in-time.pickle"
    if not path.is_file():
        return None
    try:
        frames = pd.read_pickle(path)
        return PointInTime(*(frames[part] for part in PIT_PARTS))
    except Exception:  # a damaged or foreign cache is rebuilt, never trusted
        return None


def write_pit_cache(folder: Path, pit: PointInTime) -> None:
    """Cache a point-in-time view; a cache that cannot be written is simply not written."""
    from universes.files import atomic_write

    frames = {part: getattr(pit, part) for part in PIT_PARTS}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "point-in-time.pickle", lambda tmp: pd.to_pickle(frames, tmp))
    except (OSError, ValueError, TypeError):
        return


def dataset_point_in_time(dataset: str, as_of: pd.Timestamp) -> PointInTime:
    """:func:`point_in_time` of a named dataset, cached per date (until its files change)."""
    return _point_in_time_cached(dataset_key(dataset), as_of)


def market_frame(dataset: str, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every company of a dataset with its market data as of a date, and the point-in-time fundamentals.

    Both after the integrity layer: corrected share counts, market caps, SIC codes and figures
    (the raw ones are in the ``raw`` column of :attr:`PointInTime.integrity`).

    Returns
    -------
    companies : pandas.DataFrame
        The dataset's companies with the columns of ``universes.schema.MARKET_FIELDS``;
        companies without a price or fundamentals on that date have missing values there and
        an ``excluded_reason``.
    fundamentals : pandas.DataFrame
        Corrected fiscal years published on or before ``as_of``.
    """
    pit = dataset_point_in_time(dataset, as_of)
    return pit.companies, pit.fundamentals


def market_data(hist: PriceHistory, as_of: pd.Timestamp) -> pd.DataFrame:
    """Price (last session within ``MAX_PRICE_AGE_SESSIONS``), its date, 63-session ADV and the
    ticker's first session in the price history."""
    upto = int(np.searchsorted(hist.dates, np.datetime64(as_of, "ns"), side="right"))
    first = max(0, upto - MAX_PRICE_AGE_SESSIONS)
    recent_close = hist.close[first:upto]
    has_price = ~np.isnan(recent_close)
    last_row = np.where(
        has_price.any(axis=0), recent_close.shape[0] - 1 - np.argmax(has_price[::-1], axis=0), -1
    )
    cols = np.arange(recent_close.shape[1])
    price = np.where(last_row >= 0, recent_close[np.maximum(last_row, 0), cols], np.nan)
    price_date = np.where(
        last_row >= 0, hist.dates[first + np.maximum(last_row, 0)], np.datetime64("NaT")
    )
    window = slice(max(0, upto - ADV_SESSIONS), upto)
    close = hist.close[window].astype(np.float64)
    volume = hist.volume[window].astype(np.float64)
    with warnings.catch_warnings():  # "mean of empty slice": no trades in the window -> NaN
        warnings.simplefilter("ignore", category=RuntimeWarning)
        adv_usd = np.nanmean(close * volume, axis=0)
        adv_shares = np.nanmean(volume, axis=0)
    return pd.DataFrame(
        {
            "price": price.astype(np.float64),
            "price_date": price_date,
            "adv_usd": adv_usd,
            "adv_shares": adv_shares,
            "first_price_date": hist.first_dates,
        },
        index=hist.tickers,
    )


def dividends_per_share(hist: PriceHistory, tickers: pd.Index, period_end: pd.Series) -> pd.Series:
    """Dividends per share with ex-dates in the year to ``period_end``, read off the prices.

    Yahoo's adjusted close falls by the factor ``1 - D / close`` on each ex-dividend date, so
    ``D = previous close x (1 - previous factor / factor)``; the result is in the price file's
    share units. NaN where the ticker has no prices or the year is not covered by them.
    """
    keys, cum = hist.dividend_events
    n = len(hist.dates)
    col = hist.tickers.get_indexer(tickers)
    ends = period_end.reindex(tickers).to_numpy().astype("datetime64[ns]")
    known = (col >= 0) & ~np.isnat(ends)
    end_row = np.searchsorted(hist.dates, ends[known], side="right") - 1
    start_row = (
        np.searchsorted(hist.dates, ends[known] - np.timedelta64(365, "D"), side="right") - 1
    )
    inside = (start_row >= 0) & (end_row >= 0)
    out = np.full(len(tickers), np.nan)
    c = col[known][inside]
    lo = np.searchsorted(keys, c * n + start_row[inside], side="right")
    hi = np.searchsorted(keys, c * n + end_row[inside], side="right")
    out[np.flatnonzero(known)[inside]] = cum[hi] - cum[lo]
    return pd.Series(out, index=tickers)


# ----------------------------------------------------------------------------- rules
def apply_rules(companies: pd.DataFrame, d: UniverseDefinition, rank: bool = True) -> pd.DataFrame:
    """Keep the rows of ``companies`` that pass a definition's filters (and rank range)."""
    rows = np.flatnonzero(rule_mask(companies, d))
    if rank:
        rows = rank_range(companies, rows, d)
    return companies.iloc[rows]


def rule_mask(companies: pd.DataFrame, d: UniverseDefinition) -> np.ndarray:
    """The filters of ``d`` (all but its rank range), row by row, as a mask."""
    keep = pd.Series(True, index=companies.index)
    rules = d.filters
    if "min_price" in rules:
        keep &= companies["price"] >= rules["min_price"]
    if "min_market_cap" in rules:
        keep &= companies["market_cap"] >= rules["min_market_cap"]
    if "max_market_cap" in rules:
        keep &= companies["market_cap"] <= rules["max_market_cap"]
    if "min_adv_usd" in rules:
        keep &= companies["adv_usd"] >= rules["min_adv_usd"]
    keep &= identity_rules(companies, d)
    if "max_fundamentals_age_months" in rules:
        keep &= companies["fundamentals_age_months"] <= rules["max_fundamentals_age_months"]
    return keep.fillna(False).astype(bool).to_numpy()


def rank_range(companies: pd.DataFrame, rows: np.ndarray, d: UniverseDefinition) -> np.ndarray:
    """The positions among ``rows`` of ``companies`` inside the rank range of ``d``, best
    first (``rows`` as they are when ``d`` ranks nothing).

    Ranked by ``d.rank_by``, largest first, ties by ticker; companies without it are unranked.
    """
    if d.rank is None or d.rank_by is None:
        return rows
    keys = companies[[d.rank_by, "ticker"]].iloc[rows].reset_index(drop=True)
    ordered = keys.sort_values([d.rank_by, "ticker"], ascending=[False, True], na_position="last")
    ordered = ordered[ordered[d.rank_by].notna()]
    return rows[ordered.index.to_numpy()[d.rank[0] - 1 : d.rank[1]]]


def identity_rules(companies: pd.DataFrame, d: UniverseDefinition) -> pd.Series:
    """The filters of ``d`` that do not depend on prices (``IDENTITY_FILTERS``), as a mask."""
    keep = pd.Series(True, index=companies.index)
    rules = d.filters
    if rules.get("manufacturing"):
        keep &= companies["manufacturing"]
    if rules.get("exclude_life_sciences"):
        keep &= ~companies["life_sciences"]
    if "sectors" in rules:
        keep &= companies["sector"].isin(rules["sectors"])
    if "exchanges" in rules:
        keep &= companies["exchange"].isin(rules["exchanges"])
    if "exclude_exchanges" in rules:
        keep &= ~companies["exchange"].isin(rules["exclude_exchanges"]).fillna(False)
    if "sic_ranges" in rules:
        sic = companies["sic"].astype("float64")
        in_any = pd.Series(False, index=companies.index)
        for lo, hi in rules["sic_ranges"]:
            in_any |= (sic >= lo) & (sic <= hi)
        keep &= in_any
    if "security_types" in rules:
        keep &= companies["security_type"].fillna("common").isin(rules["security_types"])
    if "countries" in rules:
        country = companies["country"]
        keep &= country.isna() | country.isin(rules["countries"])
    return keep.fillna(False).astype(bool)


# ----------------------------------------------------------------------------- user files
def read_ticker_list(path: str | Path, known: pd.DataFrame, sheet: str | None = None) -> list[str]:
    """Tickers from a CSV/XLSX file with a ``ticker`` (or ``symbol``) column.

    Raises
    ------
    DataFileError
        No ticker column, or a ticker that is not in the dataset (with close matches).
    """
    frame, used_sheet = read_table(path, sheet)
    column = find_column(frame, "ticker", "symbol")
    if column is None:
        if len(frame.columns) != 1:
            raise DataFileError(
                str(path),
                "no 'ticker' column; name the column of tickers 'ticker'.",
                sheet=used_sheet,
            )
        column = frame.columns[0]
    tickers = normalize_tickers(frame[column])
    for row, ticker in tickers.items():
        if not ticker:
            raise DataFileError(
                str(path), "ticker is blank.", row=int(row), column=column, sheet=used_sheet
            )
        if ticker not in known.index:
            hint = close_matches(ticker, known.index, known["name"])
            raise DataFileError(
                str(path),
                unknown_ticker_message(ticker, hint, "the dataset"),
                row=int(row),
                column=column,
                sheet=used_sheet,
            )
    return list(dict.fromkeys(tickers))


#: The fields of a user fundamentals file: only the row keys must be filled in.
USER_FILE_FIELDS: tuple[Field, ...] = tuple(
    Field(f.name, f.kind, f.description, f.name in ROW_KEYS) for f in FUNDAMENTAL_FIELDS
)


#: Figures a user file may not give as negative numbers: the integrity layer's magnitudes and
#: revenue (the data layer flags a negative revenue in a source; a person's file must not have one).
USER_NON_NEGATIVE = (*NON_NEGATIVE, "revenue")
#: Fiscal years a user file may name.
FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 1900, 2100


def _check_fiscal_years(parsed: pd.DataFrame, name: str, sheet: str | None) -> None:
    """Fiscal years are whole years of 1900-2100, named after the year their period ends (or the
    one before, for a year ending early in the calendar year, as the snapshot's do)."""
    year = parsed["fiscal_year"]
    outside = (year < FIRST_FISCAL_YEAR) | (year > LAST_FISCAL_YEAR)
    lag = parsed["period_end"].dt.year - year
    mismatch = ~outside & ~lag.isin([0, 1])
    for bad, problem in (
        (outside, f"{{year}} is not a fiscal year of {FIRST_FISCAL_YEAR}-{LAST_FISCAL_YEAR}."),
        (mismatch, "{year} does not match period_end {end}: a fiscal year is named after the "
         "calendar year it ends in (or the one before, for a year ending in its first months)."),
    ):
        if bad.any():
            row = int(bad.idxmax())
            end = parsed.at[row, "period_end"].date()
            raise DataFileError(
                name, problem.format(year=f"{year.loc[row]:g}", end=end), row=row, column="fiscal_year", sheet=sheet
            )


def read_fundamentals_file(
    path: str | Path, known: pd.DataFrame, sheet: str | None = None
) -> pd.DataFrame:
    """A user-supplied fundamentals file in the snapshot schema, validated cell by cell.

    Columns are the names of ``universes.schema.FUNDAMENTAL_FIELDS`` (USD, the sign convention
    of :mod:`universes.schema`: costs, capex and dividends as positive magnitudes). ``ticker``,
    ``fiscal_year``, ``period_end`` and ``publish_date`` are required on every row; any other
    cell may be blank, and a blank keeps the dataset's figure for that year (a fiscal year the
    dataset does not have needs ``revenue``, ``operating_income``, ``net_income``,
    ``total_assets`` and ``total_equity``). Tickers must be in the dataset (prices come from
    there).

    Returns
    -------
    pandas.DataFrame
        The rows in the schema's columns and types; blank cells are missing.

    Raises
    ------
    DataFileError
        Naming the file, row and column: an unknown or missing column, a cell that is not a
        number (or is infinite) or not a date of 1900-2100, a fiscal year that is not a whole
        year of 1900-2100 or does not match its period end, an unknown ticker, a row repeated,
        a publish date before its period end, or a cost, balance, share count or revenue
        entered as a negative number.
    """
    frame, used_sheet = read_table(path, sheet)
    name = str(path)
    check_columns(frame, USER_FILE_FIELDS, name, used_sheet)
    parsed = check_cells(frame, USER_FILE_FIELDS, name, used_sheet)
    parsed["ticker"] = normalize_tickers(parsed["ticker"])
    for row, ticker in parsed["ticker"].items():
        if ticker not in known.index:
            hint = close_matches(ticker, known.index, known["name"])
            raise DataFileError(
                name,
                unknown_ticker_message(ticker, hint, "the dataset"),
                row=int(row),
                column="ticker",
                sheet=used_sheet,
            )
    _check_fiscal_years(parsed, name, used_sheet)
    dup = parsed.duplicated(["ticker", "fiscal_year"])
    if dup.any():
        row = int(dup.idxmax())
        raise DataFileError(
            name,
            "the same ticker and fiscal_year appear twice.",
            row=row,
            column="fiscal_year",
            sheet=used_sheet,
        )
    early = parsed["publish_date"] < parsed["period_end"]
    if early.any():
        row = int(early.idxmax())
        raise DataFileError(
            name,
            f"published {parsed.at[row, 'publish_date'].date()}, before the period end "
            f"{parsed.at[row, 'period_end'].date()}: figures cannot be public before the year "
            "ends. Fix the publish_date (the filing date of the annual report).",
            row=row,
            column="publish_date",
            sheet=used_sheet,
        )
    for column in USER_NON_NEGATIVE:
        if column not in parsed:
            continue
        negative = parsed[column] < 0
        if negative.any():
            row = int(negative.idxmax())
            raise DataFileError(
                name,
                f"{parsed.at[row, column]:,.0f} is negative: {column} is a positive magnitude in "
                "this schema (costs, capex and dividends paid are entered as positive numbers; "
                "SimFin-style exports show costs as negative numbers: flip the sign).",
                row=row,
                column=column,
                sheet=used_sheet,
            )
    out = coerce(parsed, FUNDAMENTAL_FIELDS)
    out.index = parsed.index
    return out


def merge_fundamentals(
    pit: pd.DataFrame, extra: pd.DataFrame, as_of: pd.Timestamp, source: str
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """A user's fiscal years merged into a dataset's, point in time.

    Rows published after ``as_of`` are ignored and the dataset's figures for those years kept.
    A row for a year the dataset has overrides only the cells the user filled in (and its
    period end and publish date); a new year must carry the required figures.

    Returns
    -------
    fundamentals : pandas.DataFrame
        The merged fiscal years.
    notes : list of str
        What the file changed, for printing.
    user_years : pandas.DataFrame
        ``ticker`` and ``fiscal_year`` of the years the file supplied.

    Raises
    ------
    DataFileError
        A new fiscal year without a required figure (the file's row number and column).
    """
    key = ["ticker", "fiscal_year"]
    usable = extra[extra["publish_date"] <= as_of]
    notes: list[str] = []
    late = len(extra) - len(usable)
    if late:
        notes.append(
            f"{source}: {late} fiscal years were published after {as_of.date()} and are ignored "
            "(the dataset's figures for them, if any, are kept)."
        )
    base = pit.set_index(key)
    mine = usable.set_index(key)
    overlap = mine.index.intersection(base.index)
    new = mine.index.difference(base.index)
    for (ticker, year), row in mine.loc[new].iterrows():
        missing = [c for c in NEW_YEAR_REQUIRED if pd.isna(row[c])]
        if missing:
            line = int(usable.index[(usable["ticker"] == ticker) & (usable["fiscal_year"] == year)][0])
            raise DataFileError(
                source,
                f"{ticker} FY{year} is not in the dataset, so {', '.join(missing)} must be filled in "
                "(a year the dataset has may leave any figure blank to keep the dataset's).",
                row=line,
                column=missing[0],
            )
    merged = base.copy()
    if len(overlap):
        merged.loc[overlap] = mine.loc[overlap].combine_first(base.loc[overlap])
    merged = pd.concat([merged, mine.loc[new]])
    out = coerce(merged.reset_index(), FUNDAMENTAL_FIELDS).sort_values(key).reset_index(drop=True)
    notes.append(
        f"Fundamentals from {source}: {len(usable)} fiscal years ({len(overlap)} merged into the "
        f"dataset's, blank cells keeping its figures; {len(new)} new)."
    )
    return out, notes, usable[key].reset_index(drop=True)


def _user_file_findings(findings: pd.DataFrame, user_years: pd.DataFrame, source: str) -> list[str]:
    """The integrity findings on the years a user's file supplied, as notes."""
    mine = findings.merge(user_years.assign(_user=True), on=["ticker", "fiscal_year"], how="inner")
    return [f"{source}: {r.ticker} FY{r.fiscal_year} {r.check}: {r.evidence}." for r in mine.itertuples()]





# ----------------------------------------------------------------------------- universes



def load_universe(
    name: str = DEFAULT_UNIVERSE,
    as_of: str | pd.Timestamp | None = None,
    *,
    fundamentals_file: str | Path | None = None,
) -> Universe:
    """Load a universe by name (or from a ticker-list file), point in time.

    Parameters
    ----------
    name : str
        A universe name (``rotation universes`` lists them) or the path of a ``.csv`` /
        ``.xlsx`` file with a ``ticker`` column (a custom universe within ``us-all``).
    as_of : str or pandas.Timestamp, optional
        Load the universe as it was on this earlier date within the dataset: only fiscal years
        published by then, prices up to then, market caps and ranks recomputed.
    fundamentals_file : str or pathlib.Path, optional
        A user-supplied fundamentals file (see :func:`read_fundamentals_file`): its fiscal years
        published by ``as_of`` are merged into the dataset's and checked like them.

    Returns
    -------
    Universe

    Raises
    ------
    UniverseError
        Unknown name (the message lists the valid ones), bad date, or a malformed file.
    """
    chain = _chain(name)
    data = open_dataset(root_dataset(chain))
    when = _resolve_as_of(data, as_of)
    if fundamentals_file is None:
        pit = dataset_point_in_time(data.name, when)
    else:
        extra = read_fundamentals_file(fundamentals_file, data.companies)
        pit = point_in_time(data, when, extra, str(fundamentals_file))
    return _build_universe(data, chain, when, pit)


def universe_from_dataset(data: Dataset, name: str, as_of: pd.Timestamp | None = None) -> Universe:
    """A universe of an already opened dataset (used by the snapshot build to count members)."""
    chain = resolve_chain(name, universe_definitions(include_user=False))
    when = data.as_of if as_of is None else as_of
    return _build_universe(data, chain, when, point_in_time(data, when))


def _build_universe(
    data: Dataset, chain: list[UniverseDefinition], when: pd.Timestamp, pit: PointInTime
) -> Universe:
    everyone = pit.companies
    notes = list(pit.notes)
    no_data = pit.missing_data
    if no_data.any():
        notes.append(
            f"{int(no_data.sum())} companies of the dataset have no price, share count or "
            f"published fundamentals on {when.date()}."
        )
    excluded = pit.excluded
    if len(excluded):
        notes.append(
            f"{len(excluded)} companies left out by integrity checks (implausible market "
            "cap, ticker collision, a non-common line): `rotation show TICKER` says why."
        )
    # Each rule is row by row except the rank range, so the chain narrows positions into the
    # usable companies (and the excluded ones) and the frames are cut once at the end.
    reference = pit.members
    rows = np.arange(len(reference))
    excluded_rows = np.arange(len(excluded))
    for d in chain:
        if d.tickers_file is not None:
            listed = read_ticker_list(d.tickers_file, everyone)
            current = reference.index[rows]
            outside = [t for t in listed if t not in current]
            if outside:
                reasons = [f"{t} ({everyone.at[t, 'excluded_reason']})" for t in outside[:5]]
                raise UniverseError(
                    f"{d.tickers_file}: {', '.join(outside[:10])} cannot be used on {when.date()}: "
                    f"{'; '.join(reasons)}. Remove them from the list."
                )
            rows = reference.index.get_indexer(listed)
            excluded_rows = excluded_rows[isin(excluded.index[excluded_rows], listed)]
        rows = rank_range(reference, rows[rule_mask(reference, d)[rows]], d)
        excluded_rows = excluded_rows[identity_rules(excluded, d).to_numpy()[excluded_rows]]
    keys = reference[["market_cap", "ticker"]].iloc[rows].reset_index(drop=True)
    order = keys.sort_values(["market_cap", "ticker"], ascending=[False, True]).index.to_numpy()
    members = reference.iloc[rows[order]]
    candidates = excluded.iloc[excluded_rows]
    tickers = members.index
    findings = pit.integrity
    integrity = findings[isin(findings["ticker"], tickers) | isin(findings["ticker"], candidates.index)]
    target = chain[-1]
    return Universe(
        name=target.name,
        description=target.description,
        as_of=when,
        dataset=data.name,
        provider=data.provider,
        companies=members,
        fundamentals=pit.fundamentals[isin(pit.fundamentals["ticker"], tickers)].reset_index(drop=True),
        prices_source=lambda: data.prices.select(tickers, until=when),
        notes=tuple(notes),
        reference_companies=reference,
        reference_fundamentals=pit.members_fundamentals,
        integrity=integrity.reset_index(drop=True),
    )


# ----------------------------------------------------------------------------- one company
@dataclass(frozen=True)
class CompanyRecord:
    """One company on one date, for ``rotation show``.

    Attributes
    ----------
    company : pandas.Series
        Identity, market data, corrected shares and market cap, ``data_flags`` and
        ``excluded_reason`` ('' when a universe can use it).
    fundamentals : pandas.DataFrame
        Its corrected fiscal years published by the date (a user's file merged in): the
        figures the screen computes from.
    raw_fundamentals : pandas.DataFrame
        The same years as the dataset (and file) give them, before any correction.
    integrity : list of dict
        Each correction or flag: ``fiscal_year``, ``field``, ``check``, ``action``, ``raw``,
        ``corrected``, ``evidence``, ``flag``.
    business_summary : str or None
        The source's description of the business.
    notes : tuple of str
        What a user's fundamentals file changed.
    """

    company: pd.Series
    fundamentals: pd.DataFrame
    raw_fundamentals: pd.DataFrame
    integrity: list[dict[str, Any]]
    business_summary: str | None
    notes: tuple[str, ...] = ()


def company_record(
    ticker: str,
    dataset: str = "snapshot",
    as_of: str | pd.Timestamp | None = None,
    *,
    fundamentals_file: str | Path | None = None,
) -> CompanyRecord:
    """One company of a dataset, whatever universe it belongs to: raw figures, corrected, why.

    Raises
    ------
    UniverseError
        The ticker is not in the dataset (the message suggests close matches), a bad date or
        a malformed fundamentals file.
    """
    from universes.tickers import normalize_ticker

    data = open_dataset(dataset)
    when = _resolve_as_of(data, as_of)
    wanted = normalize_ticker(ticker)
    if wanted not in data.companies.index:
        hint = close_matches(wanted, data.companies.index, data.companies["name"])
        raise UniverseError(unknown_ticker_message(ticker, hint, f"the {dataset} dataset"))
    raw = data.fundamentals[data.fundamentals["publish_date"] <= when]
    if fundamentals_file is None:
        pit = dataset_point_in_time(dataset, when)
    else:
        extra = read_fundamentals_file(fundamentals_file, data.companies)
        pit = point_in_time(data, when, extra, str(fundamentals_file))
        raw, _, _ = merge_fundamentals(raw, extra, when, str(fundamentals_file))
    summary = data.profiles["business_summary"].get(wanted) if len(data.profiles) else None
    return CompanyRecord(
        company=pit.companies.loc[wanted],
        fundamentals=pit.fundamentals[pit.fundamentals["ticker"] == wanted].reset_index(drop=True),
        raw_fundamentals=raw[raw["ticker"] == wanted].sort_values("fiscal_year").reset_index(drop=True),
        integrity=company_integrity(pit.integrity, wanted),
        business_summary=None if summary is None or pd.isna(summary) else str(summary),
        notes=pit.notes,
    )


def find_company(
    ticker: str,
    dataset: str = "snapshot",
    as_of: str | pd.Timestamp | None = None,
    *,
    fundamentals_file: str | Path | None = None,
) -> tuple[pd.Series, pd.DataFrame]:
    """One company of a dataset, whatever universe it belongs to (see :func:`company_record`).

    Returns
    -------
    company : pandas.Series
        Identity and market data as of the date, after the integrity layer.
    fundamentals : pandas.DataFrame
        Its corrected fiscal years published by then.

    Raises
    ------
    UniverseError
        The ticker is not in the dataset (the message suggests close matches).
    """
    record = company_record(ticker, dataset, as_of, fundamentals_file=fundamentals_file)
    return record.company, record.fundamentals








