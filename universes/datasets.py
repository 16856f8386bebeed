"""Datasets: the embedded snapshot and universes refreshed from live providers.

A dataset is a folder with ``companies.parquet``, ``fundamentals.parquet``, ``prices.parquet``
and ``manifest.json`` in the schema of :mod:`universes.schema`. The embedded snapshot lives in
``universes/data``; ``rotation refresh`` writes new ones to the user's data directory.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from universes.errors import UniverseError
from universes.schema import COMPANY_FIELDS, FUNDAMENTAL_FIELDS, coerce

SNAPSHOT_DIR = Path(__file__).resolve().parent / "data"
SNAPSHOT = "snapshot"
DATA_FILES = ("companies.parquet", "fundamentals.parquet", "prices.parquet", "manifest.json")


def user_data_dir() -> Path:
    """Where refreshed datasets and user files live (``$ROTATION_HOME`` overrides it)."""
    override = os.environ.get("ROTATION_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("rotation", appauthor=False))


def refreshed_datasets_dir() -> Path:
    """Folder holding one sub-folder per refreshed dataset."""
    return user_data_dir() / "datasets"


@dataclass(frozen=True)
class PriceHistory:
    """Daily prices as dense session x ticker matrices (NaN where a ticker did not trade).

    Attributes
    ----------
    dates : numpy.ndarray
        Sessions, ascending (``datetime64[ns]``).
    tickers : pandas.Index
        Column labels.
    close : numpy.ndarray
        Traded close, float64.
    adj_close : numpy.ndarray
        Close adjusted for splits and dividends, float64.
    volume : numpy.ndarray
        Shares traded, float64.
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
            out = np.full(shape, np.nan)
            out[row, col] = values
            return out

        close = dense(frame["close"].to_numpy(np.float64))
        factor = dense(frame["adj_factor"].to_numpy(np.float64))
        return cls(
            dates, tickers, close, close * factor, dense(frame["volume"].to_numpy(np.float64))
        )

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

    def frame(self, field: str = "adj_close") -> pd.DataFrame:
        """One field as a session x ticker DataFrame."""
        return pd.DataFrame(
            getattr(self, field),
            index=pd.DatetimeIndex(self.dates, name="date"),
            columns=self.tickers,
        )

    def series(self, ticker: str, field: str = "adj_close") -> pd.Series:
        """One ticker's field over time, sessions without a trade dropped."""
        j = self.tickers.get_loc(ticker)
        values = pd.Series(
            getattr(self, field)[:, j], index=pd.DatetimeIndex(self.dates, name="date"), name=ticker
        )
        return values.dropna()


@dataclass(frozen=True)
class Dataset:
    """Companies, fundamentals and prices of one source, plus its manifest."""

    name: str
    path: Path
    manifest: dict[str, Any]
    companies: pd.DataFrame
    fundamentals: pd.DataFrame
    prices: PriceHistory = field(repr=False)

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
    fundamentals = coerce(pd.read_parquet(path / "fundamentals.parquet"), FUNDAMENTAL_FIELDS)
    prices = PriceHistory.from_long(read_prices(path / "prices.parquet"))
    return Dataset(name, path, manifest, companies, fundamentals, prices)


def read_prices(path: Path) -> pd.DataFrame:
    """The long price table, tickers dictionary-encoded (a categorical) for speed."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, read_dictionary=["ticker"])
    return table.to_pandas()


def dataset_path(name: str) -> Path:
    """The folder of a dataset (it may not exist)."""
    return SNAPSHOT_DIR if name == SNAPSHOT else refreshed_datasets_dir() / name


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


def refreshed_dataset_names() -> list[str]:
    """Names of the complete refreshed datasets in the user's data directory."""
    root = refreshed_datasets_dir()
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and (p / "manifest.json").is_file() and not p.name.startswith(".")
    )


def read_manifest(name: str) -> dict[str, Any]:
    """The manifest of a dataset, without loading its data."""
    result: dict[str, Any] = json.loads((dataset_path(name) / "manifest.json").read_text())
    return result
