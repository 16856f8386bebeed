"""Load a universe by name, point in time, as validated and typed frames."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from universes.catalog import (
    DEFAULT_UNIVERSE,
    UniverseDefinition,
    resolve_chain,
    root_dataset,
    universe_definitions,
)
from universes.datasets import Dataset, PriceHistory, dataset_key, open_dataset
from universes.errors import DataFileError, UniverseError
from universes.files import TABLE_SUFFIXES, check_cells, check_columns, find_column, read_table
from universes.schema import FUNDAMENTAL_FIELDS, coerce, sic_flags
from universes.tickers import close_matches, normalize_tickers, unknown_ticker_message

#: Sessions over which average daily volume is measured (about three months).
ADV_SESSIONS = 63
#: A price older than this many sessions before the as-of date does not count.
MAX_PRICE_AGE_SESSIONS = 10
#: At least this many sessions of history are needed before an as-of date.
MIN_HISTORY_SESSIONS = ADV_SESSIONS
#: Share-count plausibility (see :func:`share_count_problems`).
MAX_DAILY_TURNOVER = 0.5
MIN_DAILY_TURNOVER = 3e-4
MAX_SHARE_JUMP = 20.0
MIN_PRICE_TO_BOOK = 0.05
#: Share-count / dividend-implied share-count ratios that betray a stock split (both ways).
SPLIT_RATIOS = (1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100)
SPLIT_TOLERANCE = 0.03


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
        market cap, ADV, latest fiscal year (see :mod:`universes.schema`).
    fundamentals : pandas.DataFrame
        Every fiscal year published on or before ``as_of`` for these companies, sorted by
        ticker and fiscal year.
    prices : PriceHistory
        Daily history of these companies up to ``as_of``.
    notes : tuple of str
        What was left out and why.
    reference_companies : pandas.DataFrame or None
        Every usable company of the dataset on ``as_of`` (price, share count, fundamentals and
        a plausible market cap), whatever universe rules say: the fixed peer set that relative
        valuation compares a company with, so that a company's fair value does not depend on
        which universe is screened.
    reference_fundamentals : pandas.DataFrame or None
        Their point-in-time fundamentals.
    """

    name: str
    description: str
    as_of: pd.Timestamp
    dataset: str
    provider: str
    companies: pd.DataFrame
    fundamentals: pd.DataFrame = field(repr=False)
    prices: PriceHistory = field(repr=False)
    notes: tuple[str, ...] = ()
    reference_companies: pd.DataFrame | None = field(default=None, repr=False)
    reference_fundamentals: pd.DataFrame | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.companies)

    @property
    def tickers(self) -> pd.Index:
        """The companies' tickers."""
        return self.companies.index

    def subset(self, tickers: list[str] | pd.Index, name: str | None = None) -> Universe:
        """The same universe restricted to ``tickers`` (which must all be members)."""
        tickers = pd.Index(tickers)
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
            prices=self.prices.select(tickers),
            notes=self.notes,
            reference_companies=self.reference_companies,
            reference_fundamentals=self.reference_fundamentals,
        )


def _resolve_as_of(data: Dataset, as_of: str | pd.Timestamp | None) -> pd.Timestamp:
    if as_of is None:
        return data.as_of
    try:
        when = pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError) as exc:
        raise UniverseError(f"As-of date {as_of!r} is not a date; use YYYY-MM-DD.") from exc
    first_usable = pd.Timestamp(
        data.prices.dates[min(MIN_HISTORY_SESSIONS, len(data.prices.dates) - 1)]
    )
    if when > data.as_of or when < first_usable:
        raise UniverseError(
            f"As-of date {when.date()} is outside the {data.name} dataset: use a date from "
            f"{first_usable.date()} to {data.as_of.date()}."
        )
    return when


def market_frame(dataset: str, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every company of a dataset with its market data as of a date, and the point-in-time fundamentals.

    Returns
    -------
    companies : pandas.DataFrame
        The dataset's companies with the columns of ``universes.schema.MARKET_FIELDS`` and
        ``fundamentals_age_months``; companies without a price or fundamentals on that date
        have missing values there.
    fundamentals : pandas.DataFrame
        Fiscal years published on or before ``as_of``.
    """
    return _market_frame_cached(dataset_key(dataset), as_of)


@functools.lru_cache(maxsize=16)
def _market_frame_cached(
    key: tuple[str, str, float], as_of: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = open_dataset(key[0])
    f = data.fundamentals
    pit = (
        f[f["publish_date"] <= as_of].sort_values(["ticker", "fiscal_year"]).reset_index(drop=True)
    )

    hist = data.prices
    upto = int(np.searchsorted(hist.dates, np.datetime64(as_of, "ns"), side="right"))
    recent_close = hist.close[max(0, upto - MAX_PRICE_AGE_SESSIONS) : upto]
    has_price = ~np.isnan(recent_close)
    last_row = np.where(
        has_price.any(axis=0), recent_close.shape[0] - 1 - np.argmax(has_price[::-1], axis=0), -1
    )
    cols = np.arange(recent_close.shape[1])
    price = np.where(last_row >= 0, recent_close[np.maximum(last_row, 0), cols], np.nan)
    price_date = np.where(
        last_row >= 0,
        hist.dates[max(0, upto - MAX_PRICE_AGE_SESSIONS) + np.maximum(last_row, 0)],
        np.datetime64("NaT"),
    )
    window = slice(max(0, upto - ADV_SESSIONS), upto)
    with warnings.catch_warnings():  # "mean of empty slice": no trades in the window -> NaN
        warnings.simplefilter("ignore", category=RuntimeWarning)
        adv_usd = np.nanmean(hist.close[window] * hist.volume[window], axis=0)
        adv_shares = np.nanmean(hist.volume[window], axis=0)
    market = pd.DataFrame(
        {"price": price, "price_date": price_date, "adv_usd": adv_usd, "adv_shares": adv_shares},
        index=hist.tickers,
    )

    companies = data.companies.join(sic_flags(data.companies["sic"]))
    companies = companies.join(market.rename_axis(None))
    return add_fundamental_columns(companies, pit, as_of, hist), pit


def dividends_per_share(hist: PriceHistory, tickers: pd.Index, period_end: pd.Series) -> pd.Series:
    """Dividends per share with ex-dates in the year to ``period_end``, read off the prices.

    Yahoo's adjusted close falls by the factor ``1 - D / close`` on each ex-dividend date, so
    ``D = previous close x (1 - previous factor / factor)``; the result is in the price file's
    share units.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = hist.adj_close / hist.close
        step = factor[:-1] / factor[1:]
        paid = np.where(step < 1 - 1e-5, hist.close[:-1] * (1 - step), 0.0)
    cum = np.vstack([np.zeros((1, paid.shape[1])), np.cumsum(np.nan_to_num(paid), axis=0)])
    col = hist.tickers.get_indexer(tickers)
    ends = period_end.reindex(tickers).to_numpy().astype("datetime64[ns]")
    known = (col >= 0) & ~np.isnat(ends)
    end_row = np.searchsorted(hist.dates, ends[known], side="right") - 1
    start_row = (
        np.searchsorted(hist.dates, ends[known] - np.timedelta64(365, "D"), side="right") - 1
    )
    inside = (start_row >= 0) & (end_row >= 0)
    out = np.full(len(tickers), np.nan)
    rows_known = np.flatnonzero(known)[inside]
    cols_known = col[known][inside]
    out[rows_known] = cum[end_row[inside], cols_known] - cum[start_row[inside], cols_known]
    return pd.Series(out, index=tickers)


def add_fundamental_columns(
    companies: pd.DataFrame, pit: pd.DataFrame, as_of: pd.Timestamp, hist: PriceHistory
) -> pd.DataFrame:
    """Shares, market cap, latest fiscal year, its age and the market-cap checks."""
    out = companies.copy()
    ordered = pit.sort_values(["ticker", "fiscal_year"])
    latest = ordered.groupby("ticker", sort=False).tail(1).set_index("ticker").reindex(out.index)
    prior = ordered.groupby("ticker", sort=False).nth(-2).set_index("ticker").reindex(out.index)
    shares = latest["shares_basic"].where(latest["shares_basic"] > 0, latest["shares_diluted"])
    prior_shares = prior["shares_basic"].where(prior["shares_basic"] > 0, prior["shares_diluted"])
    out["shares"] = shares
    out["market_cap"] = out["price"] * out["shares"]
    out["fiscal_year"] = latest["fiscal_year"].astype("Int64")
    out["fundamentals_age_months"] = (as_of - latest["period_end"]).dt.days / 30.4375
    dps = dividends_per_share(hist, out.index, latest["period_end"])
    with np.errstate(divide="ignore", invalid="ignore"):
        dividend_shares = (latest["dividends_paid"] / dps.where(dps > 0)).where(
            latest["dividends_paid"] > 0
        )
    out["market_cap_problem"] = market_cap_problems(
        out["market_cap"],
        shares,
        prior_shares,
        out["adv_shares"],
        latest["total_equity"],
        dividend_shares,
    )
    return out


def split_ratio(shares: pd.Series, dividend_shares: pd.Series) -> pd.Series:
    """The stock split (k, or 1/k for a reverse split) that ``shares / dividend_shares`` matches
    within ``SPLIT_TOLERANCE``; NaN when it matches none."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (shares / dividend_shares).to_numpy(float)
    candidates = np.array([*SPLIT_RATIOS, *(1 / r for r in SPLIT_RATIOS)])
    rel = np.abs(ratio[:, None] / candidates[None, :] - 1)
    rel = np.where(np.isnan(rel), np.inf, rel)
    best = rel.argmin(axis=1)
    match = rel[np.arange(len(ratio)), best] <= SPLIT_TOLERANCE
    return pd.Series(np.where(match, candidates[best], np.nan), index=shares.index)


def _split_text(k: float) -> str:
    return f"{k:g}-for-1 split" if k >= 1 else f"1-for-{1 / k:g} reverse split"


def market_cap_problems(
    market_cap: pd.Series,
    shares: pd.Series,
    prior_shares: pd.Series,
    adv_shares: pd.Series,
    equity: pd.Series,
    dividend_shares: pd.Series,
) -> pd.Series:
    """Why a company's market cap cannot be trusted ('' when it can).

    SimFin's share counts carry unit slips (a year reported in thousands) and are restated for
    splits made after the as-of date (SimFin was collected in 2025), while the prices are not;
    some listings are ADRs, preferred shares or units whose price is not per common share; a
    few statements are in the wrong unit. Each makes the market cap wrong by a factor of 1.5 to
    1,000,000. Five checks against other real data catch what they can:

    * dividends paid in the fiscal year / dividends per share read off the prices (see
      :func:`dividends_per_share`) gives the share count the dividends imply; when the reported
      count is a stock-split multiple of it (2x, 10x, 1/20, ... within 3%), the count was
      restated for a split the prices do not reflect;
    * the average daily volume of the last 63 sessions exceeds half of all shares
      (``MAX_DAILY_TURNOVER``): too few shares;
    * it is below 3 in 10,000 shares a day (``MIN_DAILY_TURNOVER``, under 8% a year): too many
      shares for the traded line (ADRs, preferreds, units, later splits), or a listing too thin
      to trade;
    * the share count changed more than 20-fold from the prior fiscal year (``MAX_SHARE_JUMP``);
    * the market cap is below 5% of positive book equity (``MIN_PRICE_TO_BOOK``): too few
      shares, or statements in the wrong unit.

    Splits after the as-of date by companies that pay no dividend and trade normally (for
    example SMCI, ANET) cannot be detected from these data and remain.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        turnover = adv_shares / shares
        jump = shares / prior_shares
        price_to_book = market_cap / equity.where(equity > 0)
    split = split_ratio(shares, dividend_shares)
    split_text = pd.Series(
        [
            f"share count matches a {_split_text(k)} the prices do not reflect (dividends per share vs dividends paid)"
            if np.isfinite(k)
            else ""
            for k in split
        ],
        index=shares.index,
    )
    problem = np.select(
        [
            split.notna() & (split != 1),
            turnover > MAX_DAILY_TURNOVER,
            turnover < MIN_DAILY_TURNOVER,
            (jump > MAX_SHARE_JUMP) | (jump < 1 / MAX_SHARE_JUMP),
            price_to_book < MIN_PRICE_TO_BOOK,
        ],
        [
            split_text,
            "daily volume above half of all shares: share count too small",
            "daily volume below 3 in 10,000 shares: share count too large, or too thin to trade",
            "share count changed over 20-fold in a year",
            "market cap below 5% of book equity: share count or statements in the wrong unit",
        ],
        default="",
    )
    return pd.Series(problem, index=shares.index, dtype="string")


def apply_rules(companies: pd.DataFrame, d: UniverseDefinition) -> pd.DataFrame:
    """Keep the rows of ``companies`` that pass a definition's filters and rank range."""
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
    if rules.get("manufacturing"):
        keep &= companies["manufacturing"]
    if rules.get("exclude_life_sciences"):
        keep &= ~companies["life_sciences"]
    if "sectors" in rules:
        keep &= companies["sector"].isin(rules["sectors"])
    if "exchanges" in rules:
        keep &= companies["exchange"].isin(rules["exchanges"])
    if "sic_ranges" in rules:
        sic = companies["sic"].astype("float64")
        in_any = pd.Series(False, index=companies.index)
        for lo, hi in rules["sic_ranges"]:
            in_any |= (sic >= lo) & (sic <= hi)
        keep &= in_any
    if "max_fundamentals_age_months" in rules:
        keep &= companies["fundamentals_age_months"] <= rules["max_fundamentals_age_months"]
    out = companies[keep.fillna(False).astype(bool)]
    if d.rank is not None and d.rank_by is not None:
        ordered = out.sort_values(
            [d.rank_by, "ticker"], ascending=[False, True], na_position="last"
        )
        ordered = ordered[ordered[d.rank_by].notna()]
        out = ordered.iloc[d.rank[0] - 1 : d.rank[1]]
    return out


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


def read_fundamentals_file(
    path: str | Path, known: pd.DataFrame, sheet: str | None = None
) -> pd.DataFrame:
    """A user-supplied fundamentals file in the snapshot schema, validated cell by cell.

    Columns are the names of ``universes.schema.FUNDAMENTAL_FIELDS`` (USD, the sign convention
    of :mod:`universes.schema`); ``ticker``, ``fiscal_year``, ``period_end``, ``publish_date``,
    ``revenue``, ``operating_income``, ``net_income``, ``total_assets`` and ``total_equity`` are
    required. Tickers must be in the dataset (prices come from there).
    """
    frame, used_sheet = read_table(path, sheet)
    name = str(path)
    check_columns(frame, FUNDAMENTAL_FIELDS, name, used_sheet)
    parsed = check_cells(frame, FUNDAMENTAL_FIELDS, name, used_sheet)
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
    return coerce(parsed, FUNDAMENTAL_FIELDS).reset_index(drop=True)


def is_table_path(text: str) -> bool:
    """Whether a universe argument names a file rather than a universe."""
    return Path(text).suffix.lower() in TABLE_SUFFIXES


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
        A user-supplied fundamentals file (see :func:`read_fundamentals_file`); its fiscal years
        replace the dataset's for the same ticker and year.

    Returns
    -------
    Universe

    Raises
    ------
    UniverseError
        Unknown name (the message lists the valid ones), bad date, or a malformed file.
    """
    defs = universe_definitions()
    if is_table_path(name):
        custom = UniverseDefinition(
            name=Path(name).name,
            description=f"Tickers listed in {name}",
            base="us-all",
            tickers_file=name,
        )
        chain = [*resolve_chain("us-all", defs), custom]
    else:
        chain = resolve_chain(name, defs)
    dataset_name = root_dataset(chain)
    data = open_dataset(dataset_name)
    when = _resolve_as_of(data, as_of)
    everyone, pit = market_frame(dataset_name, when)

    notes: list[str] = []
    if fundamentals_file is not None:
        extra = read_fundamentals_file(fundamentals_file, data.companies)
        key = ["ticker", "fiscal_year"]
        kept = (
            pit.merge(extra[key], on=key, how="left", indicator=True)["_merge"]
            .eq("left_only")
            .to_numpy()
        )
        usable = extra[extra["publish_date"] <= when]
        if len(usable) < len(extra):
            notes.append(
                f"{len(extra) - len(usable)} fiscal years in {fundamentals_file} were published after {when.date()} and are ignored."
            )
        pit = (
            pd.concat([pit[kept], usable], ignore_index=True)
            .sort_values(key)
            .reset_index(drop=True)
        )
        everyone = add_fundamental_columns(everyone, pit, when, data.prices)
        notes.append(f"Fundamentals from {fundamentals_file}: {len(usable)} fiscal years.")

    usable = everyone["price"].notna() & (everyone["shares"] > 0) & everyone["fiscal_year"].notna()
    dropped = int((~usable).sum())
    if dropped:
        notes.append(
            f"{dropped} companies of the dataset have no price, share count or published fundamentals on {when.date()}."
        )
    implausible = usable & (everyone["market_cap_problem"] != "")
    if implausible.any():
        notes.append(
            f"{int(implausible.sum())} companies left out: their market cap fails a plausibility check "
            "(`rotation show TICKER` says which)."
        )
    members = everyone[usable & ~implausible]
    reference = members
    for d in chain:
        if d.tickers_file is not None:
            listed = read_ticker_list(d.tickers_file, everyone)
            outside = [t for t in listed if t not in members.index]
            if outside:
                raise UniverseError(
                    f"{d.tickers_file}: {', '.join(outside[:10])} cannot be used on {when.date()} "
                    "(no price, share count or fundamentals then). Remove them from the list."
                )
            members = members.loc[listed]
        members = apply_rules(members, d)
    members = members.sort_values(["market_cap", "ticker"], ascending=[False, True])
    tickers = members.index
    fundamentals = pit[pit["ticker"].isin(tickers)].reset_index(drop=True)
    target = chain[-1]
    return Universe(
        name=target.name,
        description=target.description,
        as_of=when,
        dataset=dataset_name,
        provider=data.provider,
        companies=members,
        fundamentals=fundamentals,
        prices=data.prices.select(tickers, until=when),
        notes=tuple(notes),
        reference_companies=reference,
        reference_fundamentals=pit[pit["ticker"].isin(reference.index)].reset_index(drop=True),
    )


def find_company(
    ticker: str, dataset: str = "snapshot", as_of: str | pd.Timestamp | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """One company of a dataset, whatever universe it belongs to.

    Returns
    -------
    company : pandas.Series
        Identity and market data as of the date.
    fundamentals : pandas.DataFrame
        Its fiscal years published by then.

    Raises
    ------
    UniverseError
        The ticker is not in the dataset (the message suggests close matches).
    """
    from universes.tickers import normalize_ticker

    data = open_dataset(dataset)
    when = _resolve_as_of(data, as_of)
    everyone, pit = market_frame(dataset, when)
    wanted = normalize_ticker(ticker)
    if wanted not in everyone.index:
        hint = close_matches(wanted, everyone.index, everyone["name"])
        raise UniverseError(unknown_ticker_message(ticker, hint, f"the {dataset} dataset"))
    return everyone.loc[wanted], pit[pit["ticker"] == wanted].reset_index(drop=True)


def list_universes() -> list[dict[str, object]]:
    """Every known universe with its as-of date and size (loads each one).

    Returns
    -------
    list of dict
        ``name``, ``as_of``, ``count``, ``description``, ``dataset``, ``provider``.
    """
    rows: list[dict[str, object]] = []
    for name in universe_definitions():
        u = load_universe(name)
        rows.append(
            {
                "name": name,
                "as_of": u.as_of.date().isoformat(),
                "count": len(u),
                "description": u.description,
                "dataset": u.dataset,
                "provider": u.provider,
            }
        )
    return rows
