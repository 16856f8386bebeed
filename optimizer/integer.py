"""Maximum number of names and minimum position size: relax-and-fix on the compiled problem.

The exact problem is a mixed-integer QP (a binary per name). At n = 2,000 an exact solve takes
far longer than an interactive tweak allows, so the optimiser uses a relax-and-fix heuristic
that only re-solves the compiled convex problem with different per-name bounds:

1. Solve the continuous relaxation (no count, no minimum size). Its objective is an upper
   bound on the integer optimum.
2. Keep the ``max_names`` names with the largest relaxed weights (names that cannot be sold
   out - no-sell, or a position the daily-volume cap cannot exit in one go - are kept first;
   names whose name cap or daily-volume cap stops them below the minimum size are never
   picked); every other name gets an upper bound of zero. Re-solve.
3. Minimum size: a kept name below ``min_position`` is forced up to it if it already holds at
   least half of it, otherwise dropped and replaced by the next name of the relaxed ranking.
   Re-solve; repeat until every position is zero or at least the minimum (at most
   ``max_rounds`` rounds).

The result is feasible for the integer problem; its gap to the relaxation bound,
``(relaxed - heuristic) / |relaxed|``, bounds the distance to the true optimum and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.model import CompiledProblem, ParameterValues, RawSolution

ZERO = 1e-7


@dataclass(frozen=True)
class IntegerReport:
    """How the integer constraints were met.

    Attributes
    ----------
    relaxed_objective : float
        Objective of the continuous relaxation (an upper bound).
    objective : float
        Objective of the returned portfolio.
    gap : float
        ``(relaxed - objective) / |relaxed|``: at most this far from the integer optimum.
    rounds : int
        Re-solves after the relaxation.
    names : int
        Positions held.
    exact : bool
        True when the relaxation already met the integer constraints (gap 0).
    """

    relaxed_objective: float
    objective: float
    gap: float
    rounds: int
    names: int
    exact: bool


def _meets(w: np.ndarray, max_names: int | None, min_position: float | None) -> bool:
    held = np.abs(w) > ZERO
    if max_names is not None and held.sum() > max_names:
        return False
    return not (min_position is not None and np.any(held & (np.abs(w) < min_position - 1e-6)))


def relax_and_fix(
    problem: CompiledProblem,
    v: ParameterValues,
    max_names: int | None,
    min_position: float | None,
    max_rounds: int = 6,
) -> tuple[RawSolution, IntegerReport | None, ParameterValues]:
    """Solve with a cap on the number of names and/or a minimum position size.

    Returns
    -------
    solution : RawSolution
        The final solve (``ok`` False if no feasible selection was found).
    report : IntegerReport or None
        None when the relaxation itself was infeasible.
    values : ParameterValues
        The bounds of the final solve (needed to attribute shadow prices).
    """
    relaxed = problem.solve(v)
    if not relaxed.ok:
        return relaxed, None, v
    assert relaxed.weights is not None and relaxed.objective is not None
    w_r = relaxed.weights
    if _meets(w_r, max_names, min_position):
        report = IntegerReport(relaxed.objective, relaxed.objective, 0.0, 0, int((np.abs(w_r) > ZERO).sum()), True)
        return relaxed, report, v

    n = len(w_r)
    order = np.lexsort((-v.alpha, -np.abs(w_r)))  # biggest relaxed weight first, then alpha
    must_keep = (v.lower > ZERO) | (v.w0 - v.adv_cap > ZERO)
    # A name whose cap (or daily-volume limit) stops it short of the minimum size can only be
    # held at zero: never pick it to fill a slot.
    reachable = np.minimum(v.upper, v.w0 + v.adv_cap) >= (min_position or 0.0) - 1e-9
    limit = max_names if max_names is not None else n
    ranked = [i for i in order if must_keep[i]]
    ranked += [i for i in order if not must_keep[i] and reachable[i] and (np.abs(w_r[i]) > ZERO or max_names is None)]
    chosen = set(ranked)
    ranked += [i for i in order if i not in chosen and reachable[i]]
    keep = set(ranked[:limit])
    queue = [i for i in ranked[limit:]]
    forced_min: set[int] = set()
    dropped: set[int] = set()
    current = v
    solution = relaxed
    rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 (the count is reported after the loop)
        mask = np.zeros(n, dtype=bool)
        mask[list(keep)] = True
        upper = np.where(mask, v.upper, np.minimum(v.upper, 0.0))
        lower = np.where(mask, v.lower, np.minimum(v.lower, 0.0))
        if min_position is not None and forced_min:
            idx = np.array(sorted(forced_min))
            lower[idx] = np.maximum(lower[idx], min_position)
        current = replace(v, lower=lower, upper=upper)
        solution = problem.solve(current)
        if not solution.ok:
            break
        assert solution.weights is not None
        w = solution.weights
        if _meets(w, max_names, min_position):
            break
        if min_position is None:
            continue
        small = [i for i in keep if ZERO < abs(w[i]) < min_position - 1e-6 and i not in forced_min]
        if not small:
            break
        for i in small:
            if abs(w[i]) >= min_position / 2:
                forced_min.add(i)
            elif not must_keep[i]:
                keep.discard(i)
                dropped.add(i)
                while queue:
                    j = queue.pop(0)
                    if j not in dropped:
                        keep.add(j)
                        break
            else:
                forced_min.add(i)
    if not solution.ok or solution.objective is None:
        return solution, IntegerReport(float(relaxed.objective), float("nan"), float("nan"), rounds, 0, False), current
    assert solution.weights is not None
    gap = (relaxed.objective - solution.objective) / max(abs(relaxed.objective), 1e-12)
    report = IntegerReport(
        float(relaxed.objective), float(solution.objective), float(gap), rounds, int((np.abs(solution.weights) > ZERO).sum()), False
    )
    return solution, report, current
