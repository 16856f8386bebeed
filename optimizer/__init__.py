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

See :mod:`optimizer.portfolio`.
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
from optimizer.model import SolverSettings
from optimizer.portfolio import PortfolioInputError, PortfolioResult, optimize_portfolio
from optimizer.rotation import InfeasibleError, OptimizerError, RotationOptimizer, RotationResult

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
