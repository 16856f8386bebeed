"""Optimizer: a sector-constrained rotation portfolio with cvxpy, and the trade list.

Pure computation on pandas/numpy (no UI). The API a notebook uses::

    from optimizer import RotationOptimizer, load_constraints
    opt = RotationOptimizer(universe, screen_result, holdings=None, capital=1_000_000)
    settings = load_constraints()                  # or ConstraintSettings(...)
    result = opt.solve(settings)                   # compiles the problem once
    result = opt.solve(settings.change(risk_aversion=5.0))   # re-solves in milliseconds
    result.weights, result.trades.trades, result.constraints

With your own expected returns and risk model (no Universe, no screen)::

    from optimizer import optimize_portfolio
    result = optimize_portfolio(mu, covariance=sigma, risk_aversion=1.0)

See :mod:`optimizer.portfolio`. Settings (``optimizer.constraints``, ``optimizer.costs``)
import without cvxpy; the solver parts load on first use, so that commands that only read
settings start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from optimizer.constraints import (
    ConstraintError,
    ConstraintSettings,
    Limit,
    Range,
    load_constraints,
    settings_to_toml,
)
from optimizer.costs import CostSettings

if TYPE_CHECKING:
    from optimizer.diagnose import Conflict
    from optimizer.model import SolverSettings
    from optimizer.portfolio import PortfolioInputError, PortfolioResult, optimize_portfolio
    from optimizer.rotation import (
        InfeasibleError,
        OptimizerError,
        RotationOptimizer,
        RotationResult,
    )

_LAZY = {
    "Conflict": "optimizer.diagnose",
    "SolverSettings": "optimizer.model",
    "PortfolioInputError": "optimizer.portfolio",
    "PortfolioResult": "optimizer.portfolio",
    "optimize_portfolio": "optimizer.portfolio",
    "InfeasibleError": "optimizer.rotation",
    "OptimizerError": "optimizer.rotation",
    "RotationOptimizer": "optimizer.rotation",
    "RotationResult": "optimizer.rotation",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
    "Conflict",
    "ConstraintError",
    "ConstraintSettings",
    "CostSettings",
    "InfeasibleError",
    "Limit",
    "OptimizerError",
    "PortfolioInputError",
    "PortfolioResult",
    "Range",
    "RotationOptimizer",
    "RotationResult",
    "SolverSettings",
    "load_constraints",
    "optimize_portfolio",
    "settings_to_toml",
]
