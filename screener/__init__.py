"""Screener: fair value, balance-sheet quality and sector-relative ranking (pure pandas/numpy).

::

    from universes import load_universe
    from screener import load_screen, run_screen
    result = run_screen(load_universe("us-small-manufacturing"), load_screen())
    result.top(20)                 # ranked, contract columns first
    evidence(result, "ABC")        # why ABC ranks where it does: methods, rates, range, flags
"""

from screener.assumptions import UNCERTAINTY_LEVELS, ValuationAssumptions
from screener.flags import FLAGS
from screener.ranking import FACTORS
from screener.run import CONTRACT_COLUMNS, ScreenResult, evidence, rescreen, run_screen
from screener.screens import (
    DEFAULT_SCREEN,
    FILTERS,
    Screen,
    ScreenError,
    available_screens,
    load_screen,
    save_screen,
)
from screener.valuation import group_valuation, sector_valuation, thesis_monitor, valuation_inputs

__all__ = [
    "CONTRACT_COLUMNS",
    "DEFAULT_SCREEN",
    "FACTORS",
    "FILTERS",
    "FLAGS",
    "UNCERTAINTY_LEVELS",
    "Screen",
    "ScreenError",
    "ScreenResult",
    "ValuationAssumptions",
    "available_screens",
    "evidence",
    "group_valuation",
    "load_screen",
    "rescreen",
    "run_screen",
    "save_screen",
    "sector_valuation",
    "thesis_monitor",
    "valuation_inputs",
]
