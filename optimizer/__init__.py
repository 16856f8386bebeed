"""Optimizer: a sector-constrained rotation portfolio with cvxpy, and the trade list.

Pure computation on pandas/numpy (no UI). The API a notebook uses::

    from optimizer import RotationOptimizer, load_constraints
    opt = RotationOptimizer(universe, screen_result, holdings=None, capital=1_000_000)
    settings = load_constraints()                  # or ConstraintSettings(...)
    result = opt.solve(settings)                   # compiles the problem once
    result = opt.solve(settings.change(risk_aversion=5.0))   # re-solves in milliseconds
    result.weights, result.trades.trades, result.constraints
"""

from optimizer.constraints import (
    ConstraintError,
    ConstraintSettings,
    Limit,
    Range,
    load_constraints,
    settings_to_toml,
)
from optimizer.costs import CostSettings
from optimizer.diagnose import Conflict
from optimizer.rotation import InfeasibleError, OptimizerError, RotationOptimizer, RotationResult

__all__ = [
    "Conflict",
    "ConstraintError",
    "ConstraintSettings",
    "CostSettings",
    "InfeasibleError",
    "Limit",
    "OptimizerError",
    "Range",
    "RotationOptimizer",
    "RotationResult",
    "load_constraints",
    "settings_to_toml",
]
