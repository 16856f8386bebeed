"""Property tests (hypothesis) on SYNTHETIC problems: random factor models, holdings and bounds
built around a known feasible portfolio (with room for the trading costs the budget pays), so
every generated problem is feasible. The solver's answer must satisfy the budget (costs
included), the bounds, the sector limits and the turnover limit to 1e-6."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.model import (
    LOOSE,
    SOLVER,
    CompiledProblem,
    ParameterValues,
    ProblemData,
    _ClarabelResolver,
)

TOL = 1e-6


@st.composite
def feasible_problems(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(4, 40))
    k = draw(st.integers(1, 5))
    n_sectors = draw(st.integers(1, 4))
    sectors = np.array([f"S{i}" for i in rng.integers(0, n_sectors, n)])
    invest = draw(st.floats(0.5, 1.0))
    # A feasible target and a current portfolio.
    target = rng.dirichlet(np.ones(n)) * invest
    current = rng.dirichlet(np.ones(n)) * rng.uniform(0.0, 1.0)
    current[rng.random(n) < draw(st.floats(0.0, 0.9))] = 0.0  # names not held today
    slack = draw(st.floats(0.0, 0.2))
    upper = np.full(n, target.max() + slack)
    lower = np.zeros(n)
    names = sorted(set(sectors.tolist()))
    sums = np.array([target[sectors == s].sum() for s in names])
    # costs (at most 1% of the trade) come out of the budget: leave room below the target
    sector_lo = np.clip(sums - 0.02 - rng.uniform(0, 0.2, len(names)), 0, None)
    sector_hi = sums + rng.uniform(0, 0.2, len(names))
    traded = np.abs(target - current)
    turnover_max = traded.sum() + 0.02 + draw(st.floats(0.0, 0.5))
    adv_cap = traded + 0.02 + rng.uniform(0.0, 0.3, n)
    b = rng.normal(0, 0.3, (n, k))
    data = ProblemData(
        tickers=__import__("pandas").Index([f"T{i}" for i in range(n)]),
        sectors=sectors,
        manufacturing=rng.random(n) < 0.5,
        exposures=b,
        factor_sqrt=np.diag(rng.uniform(0.05, 0.3, k)),
        idio_sd=rng.uniform(0.1, 0.5, n),
        bench_exposure=b.T @ np.full(n, 1 / n),
        bench_weight=np.full(n, 1 / n),
        bench_idio_const=0.0,
        betas=rng.uniform(0.5, 1.5, n),
    )
    values = ParameterValues(
        alpha=rng.normal(0, 0.05, n),
        w0=current,
        gamma=draw(st.floats(0.0, 10.0)),
        cost_rate=rng.uniform(0, 0.01, n),
        impact_coef=np.zeros(n),
        invest=invest,
        lower=lower,
        upper=upper,
        sector_lo=sector_lo,
        sector_hi=sector_hi,
        mfg_lo=-LOOSE,
        mfg_hi=LOOSE,
        turnover_max=turnover_max,
        adv_cap=adv_cap,
        te_max=LOOSE,
        beta_lo=-LOOSE,
        beta_hi=LOOSE,
    )
    return data, values


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_problems())
def test_solution_satisfies_every_constraint(problem) -> None:
    data, v = problem
    raw = CompiledProblem(data).solve(v)
    assert raw.ok, raw.status
    w = raw.weights
    traded = np.abs(w - v.w0)
    assert w.sum() + v.cost_rate @ traded <= v.invest + TOL
    assert (w >= v.lower - TOL).all() and (w <= v.upper + TOL).all()
    S = data.sector_matrix()
    assert (S @ w >= v.sector_lo - TOL).all() and (S @ w <= v.sector_hi + TOL).all()
    assert traded.sum() <= v.turnover_max + TOL
    assert (traded <= v.adv_cap + TOL).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_problems(), st.floats(0.0, 10.0), st.floats(0.0, 0.3))
def test_re_solving_with_new_values_equals_a_fresh_compile(problem, gamma, extra) -> None:
    data, v = problem
    compiled = CompiledProblem(data)
    compiled.solve(v)
    v.gamma = gamma
    v.turnover_max = v.turnover_max + extra
    again = compiled.solve(v)
    fresh = CompiledProblem(data).solve(v)
    assert again.ok and fresh.ok
    # the re-solve went through the cached solver that is sent only the changed data
    assert isinstance(compiled.problem._solver_cache.get(SOLVER), _ClarabelResolver)
    assert abs(again.objective - fresh.objective) <= 1e-6 * max(1.0, abs(fresh.objective))
    assert compiled.is_dpp()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_problems())
def test_smaller_long_only_form_gives_the_same_optimum(problem) -> None:
    """Names not held today get no trade variable (their trade is their weight): same answer."""
    from dataclasses import replace

    data, v = problem
    full = CompiledProblem(data).solve(v)
    small_problem = CompiledProblem(replace(data, traded_both_ways=v.w0 != 0))
    small = small_problem.solve(v)
    assert full.ok and small.ok
    assert abs(full.objective - small.objective) <= 1e-6 * max(1.0, abs(full.objective))
    w = small.weights
    traded = np.abs(w - v.w0)
    assert traded.sum() <= v.turnover_max + TOL and (traded <= v.adv_cap + TOL).all()
    assert w.sum() + v.cost_rate @ traded <= v.invest + TOL and (w >= v.lower - TOL).all()
    # (Duals are not compared: where a bound meets the kink of |w - w0| any subgradient is a
    # valid dual. Shadow prices are checked against finite differences in test_optimizer.py.)
