"""Universes: the embedded point-in-time snapshot, named universe rules, custom and refreshed data.

The one way in is :func:`load_universe`::

    from universes import load_universe
    u = load_universe("us-small-manufacturing")          # as of the snapshot date
    u = load_universe("us-small", as_of="2023-06-30")    # an earlier date within the snapshot
    u.companies, u.fundamentals, u.prices
"""

from universes.catalog import DEFAULT_UNIVERSE, universe_definitions
from universes.datasets import PriceHistory, open_dataset
from universes.errors import DataFileError, UniverseError
from universes.loader import Universe, find_company, list_universes, load_universe
from universes.tickers import normalize_ticker

__all__ = [
    "DEFAULT_UNIVERSE",
    "DataFileError",
    "PriceHistory",
    "Universe",
    "UniverseError",
    "find_company",
    "list_universes",
    "load_universe",
    "normalize_ticker",
    "open_dataset",
    "universe_definitions",
]
