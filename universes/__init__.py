"""Universes: the embedded point-in-time snapshot, named universe rules, custom and refreshed data.

The one way in is :func:`load_universe`::

    from universes import load_universe
    u = load_universe("us-small-manufacturing")          # as of the snapshot date
    u = load_universe("us-small", as_of="2023-06-30")    # an earlier date within the snapshot
    u.companies, u.fundamentals, u.prices, u.integrity

Every dataset passes through :mod:`universes.integrity` on its way: figures are corrected where
the data allow it and flagged otherwise, with the evidence in ``Universe.integrity``
(:func:`integrity_report` summarises it; :func:`company_record` gives one company's raw and
corrected figures and why).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from universes.catalog import (
    DEFAULT_UNIVERSE,
    catalog_warnings,
    list_universes,
    universe_definitions,
    universe_notes,
)
from universes.errors import DataFileError, UniverseError

if TYPE_CHECKING:
    from universes.datasets import PriceHistory, open_dataset
    from universes.integrity import integrity_report
    from universes.loader import (
        CompanyRecord,
        Universe,
        company_record,
        find_company,
        load_universe,
    )
    from universes.tickers import normalize_ticker

#: Loaded on first use, so that listing universes needs neither NumPy nor pandas.
_LAZY = {
    "PriceHistory": "universes.datasets",
    "open_dataset": "universes.datasets",
    "integrity_report": "universes.integrity",
    "CompanyRecord": "universes.loader",
    "Universe": "universes.loader",
    "company_record": "universes.loader",
    "find_company": "universes.loader",
    "load_universe": "universes.loader",
    "normalize_ticker": "universes.tickers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'universes' has no attribute {name!r}")


__all__ = [
    "DEFAULT_UNIVERSE",
    "CompanyRecord",
    "DataFileError",
    "PriceHistory",
    "Universe",
    "UniverseError",
    "catalog_warnings",
    "company_record",
    "find_company",
    "integrity_report",
    "list_universes",
    "load_universe",
    "normalize_ticker",
    "open_dataset",
    "universe_definitions",
    "universe_notes",
]
