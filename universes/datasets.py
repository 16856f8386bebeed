"""Datasets: the embedded snapshot and universes refreshed from live providers.

A dataset is a folder with ``companies.parquet``, ``fundamentals.parquet``, ``prices.parquet``
and ``manifest.json`` in the schema of :mod:`universes.schema` (and optionally
``profiles.parquet``, the business summaries). The embedded snapshot lives in
``universes/data``; ``rotation refresh`` writes new ones to the user's data directory.

Prices are read only when something asks for them (:attr:`Dataset.prices`), straight from the
parquet columns into session x ticker float32 matrices, batch by batch, so that the whole
2019-2024 history of about 3,400 tickers takes some 55 MB and no pandas frame of 4 million rows
is ever built.
"""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from universes.errors import UniverseError
from universes.paths import (  # noqa: F401 (re-exported: the public place they were)
    SNAPSHOT,
    SNAPSHOT_DIR,
    dataset_path,
    read_manifest,
    refreshed_dataset_names,
    refreshed_datasets_dir,
    user_data_dir,
)
from universes.schema import COMPANY_FIELDS, FUNDAMENTAL_FIELDS, PROFILE_FIELDS, coerce

DATA_FILES = ("companies.parquet", "fundamentals.parquet", "prices.parquet", "manifest.json")
PROFILES_FILE = "profiles.parquet"
#: Rows of the price file converted at a time (bounds the memory the conversion needs; the
#: snapshot's row groups have this size too).
PRICE_BATCH_ROWS = 131_072
#: Bumped when the cached price matrices change layout.
CACHE_FORMAT = 1




@dataclass(frozen=True)
class PriceHistory:
    """Daily prices as dense session x ticker matrices (NaN where a ticker did not trade).

    The matrices are float32, the precision of the source's prices (a volume above 16.7 million
    shares is rounded to 7 significant digits); :meth:`frame` and :meth:`series` return float64
    for computing with.

    Attributes
    ----------
    dates : numpy.ndarray
        Sessions, ascending (``datetime64[ns]``).
    tickers : pandas.Index
        Column labels.
    close : numpy.ndarray
        Traded close, float32.
    adj_close : numpy.ndarray
        Close adjusted for splits and dividends, float32.
    volume : numpy.ndarray
        Shares traded, float32.
    """

    dates: np.ndarray
    tickers: pd.Index
    close: np.ndarray
    adj_close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_long(cls, frame: pd.DataFrame) -> PriceHistory:
        """Build from a long frame with ``ticker``, ``date``, ``close``, ``adj_factor``, ``volume``."""
        codes = frame["ticker"].astype("category")
        categories = pd.Index(codes.cat.categories.astype(str))
        order = np.argsort(categories.to_numpy())
        tickers = pd.Index(categories.to_numpy()[order], name="ticker")
        col = np.empty(len(order), dtype=np.int64)
        col[order] = np.arange(len(order))
        col = col[codes.cat.codes.to_numpy()]
        stamps = frame["date"].to_numpy().astype("datetime64[ns]")
        dates = np.unique(stamps)
        row = np.searchsorted(dates, stamps)
        shape = (len(dates), len(tickers))

        def dense(values: np.ndarray) -> np.ndarray:
            out = np.full(shape, np.nan, dtype=np.float32)
            out[row, col] = values
            return out

        close = dense(frame["close"].to_numpy(np.float32))
        factor = dense(frame["adj_factor"].to_numpy(np.float32))
        return cls(
            dates, tickers, close, close * factor, dense(frame["volume"].to_numpy(np.float32))
        )

    MATRICES = ("close", "adj_close", "volume")

    @classmethod
    def read_cache(cls, folder: Path) -> PriceHistory | None:
        """The matrices cached by :meth:`write_cache`, memory-mapped copy-on-write (None when
        there is no readable cache)."""
        try:
            dates = np.load(folder / "dates.npy")
            tickers = pd.Index(np.load(folder / "tickers.npy", allow_pickle=False).astype(str), name="ticker")
            matrices = [np.asarray(np.load(folder / f"{m}.npy", mmap_mode="c")) for m in cls.MATRICES]  # plain arrays over the map
        except (OSError, ValueError):
            return None
        if any(m.shape != (len(dates), len(tickers)) for m in matrices):
            return None
        return cls(dates, tickers, *matrices)

    def write_cache(self, folder: Path) -> None:
        """Keep the matrices in ``folder`` for :meth:`read_cache`; a cache that cannot be
        written is simply not written."""
        from universes.files import atomic_write

        arrays = {"dates": self.dates, "tickers": np.asarray(self.tickers, dtype=str), **{m: getattr(self, m) for m in self.MATRICES}}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # tickers.npy last: a cache is only read whole once it is there
            for name in [*(a for a in arrays if a != "tickers"), "tickers"]:
                atomic_write(folder / f"{name}.npy", functools.partial(_save_array, arrays[name]))
        except (OSError, ValueError, TypeError):
            return

    @classmethod
    def from_parquet(cls, path: Path) -> PriceHistory:
        """Read a dataset's ``prices.parquet`` straight into the dense matrices, batch by batch."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        source = pq.ParquetFile(path, read_dictionary=["ticker"])
        seen = np.zeros(0, dtype=bool)  # seen[d]: a session on day d (days since 1970)
        names: set[str] = set()
        for batch in source.iter_batches(
            batch_size=PRICE_BATCH_ROWS, columns=["ticker", "date"], use_threads=False
        ):
            days = _days(batch.column("date"))
            if len(days) and days.max() >= len(seen):
                seen = np.concatenate([seen, np.zeros(days.max() + 1 - len(seen), dtype=bool)])
            seen[days] = True
            codes = batch.column("ticker")
            if not isinstance(codes, pa.DictionaryArray):
                codes = pc.dictionary_encode(codes)
            names.update(str(t) for t in codes.dictionary.to_pylist())
        dates_days = np.flatnonzero(seen)
        tickers = pd.Index(sorted(names), name="ticker")
        # Filled ticker by ticker (the file is sorted by ticker and date, so every write is
        # sequential); the matrices handed out are the session x ticker transposes.
        shape = (len(tickers), len(dates_days))
        close = np.full(shape, np.nan, dtype=np.float32)
        adj = np.full(shape, np.nan, dtype=np.float32)
        volume = np.full(shape, np.nan, dtype=np.float32)
        flat_close, flat_adj, flat_volume = close.reshape(-1), adj.reshape(-1), volume.reshape(-1)
        for batch in source.iter_batches(
            batch_size=PRICE_BATCH_ROWS,
            columns=["ticker", "date", "close", "adj_factor", "volume"],
            use_threads=False,
        ):
            codes = batch.column("ticker")
            if not isinstance(codes, pa.DictionaryArray):
                codes = pc.dictionary_encode(codes)
            col = tickers.get_indexer(codes.dictionary.to_pylist())[codes.indices.to_numpy()]
            row = np.searchsorted(dates_days, _days(batch.column("date")))
            at = col * shape[1] + row
            c = _floats(batch.column("close"))
            flat_close[at] = c
            flat_adj[at] = c * _floats(batch.column("adj_factor"))
            flat_volume[at] = _floats(batch.column("volume"))
        dates = dates_days.astype("datetime64[D]").astype("datetime64[ns]")
        pa.default_memory_pool().release_unused()  # hand the decoding buffers back to the system
        return cls(dates, tickers, close.T, adj.T, volume.T)

    def select(
        self, tickers: pd.Index | list[str], until: pd.Timestamp | None = None
    ) -> PriceHistory:
        """The history of ``tickers`` (all must be present) up to and including ``until``."""
        cols = self.tickers.get_indexer(pd.Index(tickers))
        if (cols < 0).any():
            missing = pd.Index(tickers)[cols < 0]
            raise KeyError(f"no prices for {list(missing[:5])}")
        rows = (
            len(self.dates)
            if until is None
            else int(np.searchsorted(self.dates, np.datetime64(until, "ns"), side="right"))
        )
        return PriceHistory(
            self.dates[:rows],
            pd.Index(tickers, name="ticker"),
            self.close[:rows, cols],
            self.adj_close[:rows, cols],
            self.volume[:rows, cols],
        )

    @functools.cached_property
    def first_dates(self) -> np.ndarray:
        """Each ticker's first session with a price (``NaT`` when it has none)."""
        traded = ~np.isnan(self.close)
        first = np.argmax(traded, axis=0)
        return np.where(traded.any(axis=0), self.dates[first], np.datetime64("NaT"))

    @functools.cached_property
    def dividend_events(self) -> tuple[np.ndarray, np.ndarray]:
        """Every ex-dividend session, for summing dividends per share over a period.

        Yahoo's adjusted close falls by the factor ``1 - D / close`` on each ex-dividend date,
        so ``D = previous close x (1 - previous factor / factor)``.

        Returns
        -------
        keys : numpy.ndarray
            ``column x sessions + row`` of each ex-date, sorted.
        cumulative : numpy.ndarray
            Cumulative dividends per share in key order, with a leading 0.
        """
        n = len(self.dates)
        keys, amounts = [], []
        for start in range(0, len(self.tickers), 250):  # in blocks: small float64 temporaries
            block = slice(start, start + 250)
            close = self.close[:, block].astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = self.adj_close[:, block].astype(np.float64) / close
                step = factor[:-1] / factor[1:]
                paid = close[:-1] * (1 - step)
            row, col = np.nonzero(step < 1 - 1e-5)
            keys.append((col + start) * n + row + 1)
            amounts.append(paid[row, col])
        every = np.concatenate(keys)
        order = np.argsort(every, kind="stable")
        return every[order], np.r_[0.0, np.cumsum(np.concatenate(amounts)[order])]

    def frame(self, field: str = "adj_close", last: int | None = None) -> pd.DataFrame:
        """One field as a session x ticker DataFrame (float64).

        ``last``: only the last that many sessions (all there are when fewer), and only those
        converted (the whole history of us-all is 30 MB of float64).
        """
        start = 0 if last is None else max(len(self.dates) - last, 0)
        return pd.DataFrame(
            getattr(self, field)[start:].astype(np.float64),
            index=pd.DatetimeIndex(self.dates[start:], name="date"),
            columns=self.tickers,
        )

    def series(self, ticker: str, field: str = "adj_close") -> pd.Series:
        """One ticker's field over time (float64), sessions without a trade dropped."""
        j = self.tickers.get_loc(ticker)
        values = pd.Series(
            getattr(self, field)[:, j].astype(np.float64),
            index=pd.DatetimeIndex(self.dates, name="date"),
            name=ticker,
        )
        return values.dropna()


def _floats(column: Any) -> np.ndarray:
    """A parquet numeric column as float32 (nulls as NaN)."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float32)


def _days(column: Any) -> np.ndarray:
    """A parquet date or timestamp column as whole days since 1970 (int64)."""
    import pyarrow as pa

    values = column.to_numpy() if isinstance(column, pa.ChunkedArray) else column.to_numpy(zero_copy_only=False)
    if pa.types.is_date32(column.type):
        return np.asarray(values, dtype="datetime64[D]").astype(np.int64)
    stamps = np.asarray(values, dtype="datetime64[ns]")
    return stamps.astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class Dataset:
    """Companies of one source and its manifest; fundamentals and prices read on first use
    (a point-in-time view cached between runs needs neither)."""

    name: str
    path: Path
    manifest: dict[str, Any]
    companies: pd.DataFrame
    given_fundamentals: pd.DataFrame | None = field(default=None, repr=False)

    def with_fundamentals(self, fundamentals: pd.DataFrame) -> Dataset:
        """The same dataset with other fundamentals (e.g. truncated, for a what-if)."""
        return Dataset(self.name, self.path, self.manifest, self.companies, fundamentals)

    @functools.cached_property
    def fundamentals(self) -> pd.DataFrame:
        """Every fiscal year of every company, as the source gives them (read the first time)."""
        import pyarrow as pa

        if self.given_fundamentals is not None:
            return self.given_fundamentals
        frame = coerce(pd.read_parquet(self.path / "fundamentals.parquet"), FUNDAMENTAL_FIELDS)
        pa.default_memory_pool().release_unused()  # the parquet decoding buffers are not needed
        return frame

    @functools.cached_property
    def prices(self) -> PriceHistory:
        """Daily prices of every listed company (read from disk the first time).

        Decoding the Parquet file into the dense matrices takes about 0.35 s; the matrices are
        kept in the user's cache folder and memory-mapped on later runs (about 0.04 s),
        until the file changes.
        """
        source = self.path / "prices.parquet"
        folder = price_cache_folder(self.name, source)
        cached = PriceHistory.read_cache(folder)
        if cached is not None:
            return cached
        prices = PriceHistory.from_parquet(source)
        for stale in folder.parent.glob(f"{self.name}-*"):  # caches of earlier versions of the file
            if stale != folder:
                shutil.rmtree(stale, ignore_errors=True)
        prices.write_cache(folder)
        return prices

    @functools.cached_property
    def profiles(self) -> pd.DataFrame:
        """Business summaries indexed by ticker (empty when the dataset has none)."""
        path = self.path / PROFILES_FILE
        frame = pd.read_parquet(path) if path.is_file() else pd.DataFrame()
        return coerce(frame, PROFILE_FIELDS).set_index("ticker")

    @property
    def as_of(self) -> pd.Timestamp:
        """The date the dataset is point-in-time as of."""
        return pd.Timestamp(self.manifest["as_of"])

    @property
    def provider(self) -> str:
        """Where the data came from (``snapshot`` or the live provider's name)."""
        return str(self.manifest.get("provider", SNAPSHOT))


def read_dataset_files(path: Path, name: str) -> Dataset:
    """Read a dataset folder without caching (used by :func:`open_dataset` and validation)."""
    missing = [f for f in DATA_FILES if not (path / f).is_file()]
    if missing:
        raise UniverseError(
            f"Dataset {name!r} at {path} is incomplete (missing {', '.join(missing)}); run `rotation refresh` again."
        )
    manifest = json.loads((path / "manifest.json").read_text())
    companies = coerce(pd.read_parquet(path / "companies.parquet"), COMPANY_FIELDS)
    companies["sector"] = companies["sector"].fillna("Unclassified")
    companies["industry"] = companies["industry"].fillna("Unclassified")
    companies = companies.set_index("ticker", drop=False).rename_axis(None)
    return Dataset(name, path, manifest, companies)



def _save_array(array: np.ndarray, path: Path) -> None:
    with open(path, "wb") as f:  # a file object: np.save would add ".npy" to a temporary name
        np.save(f, array, allow_pickle=False)


def price_cache_folder(dataset: str, source: Path) -> Path:
    """Where a dataset's price matrices are cached: keyed by the file's path, size and time."""
    import hashlib

    from universes.paths import cache_dir

    stat = source.stat()
    digest = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{CACHE_FORMAT}".encode()).hexdigest()[:16]
    return cache_dir() / "prices" / f"{dataset}-{digest}"


def dataset_key(name: str) -> tuple[str, str, float]:
    """A cache key that changes when the dataset's files are rewritten."""
    path = dataset_path(name)
    manifest = path / "manifest.json"
    if not manifest.is_file():
        known = [SNAPSHOT, *refreshed_dataset_names()]
        raise UniverseError(f"No dataset called {name!r}. Known datasets: {', '.join(known)}.")
    return (name, str(path), manifest.stat().st_mtime)


def open_dataset(name: str = SNAPSHOT) -> Dataset:
    """Open a dataset by name (cached for the life of the process, until its files change).

    Parameters
    ----------
    name : str
        ``"snapshot"`` for the embedded data, or the name of a refreshed dataset.

    Returns
    -------
    Dataset

    Raises
    ------
    UniverseError
        No such dataset, or its files are incomplete.
    """
    return _open_cached(dataset_key(name))


@functools.lru_cache(maxsize=8)
def _open_cached(key: tuple[str, str, float]) -> Dataset:
    name, path, _ = key
    return read_dataset_files(Path(path), name)

