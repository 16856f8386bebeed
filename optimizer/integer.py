"""Maximum number of names and minimum position size: relax-and-fix on the compiled problem.

The exact problem is a mixed-integer QP (a binary per name). At n = 2,000 an exact solve takes
far longer than an interactive tweak allows, so the optimiser uses a relax-and-fix heuristic
that only re-solves the compiled convex problem with different per-name bounds:

1. Solve the continuous relaxation (no count, no minimum size). Its objective is an upper
   bound on the integer optimum.
2. Rank the names the relaxation holds by their **contribution to the objective**: what the
   objective loses when the name goes, ``w_i x (its cap's dual - its minimum's dual) +
   gamma Sigma_ii w_i^2`` (at an optimum every held name's marginal value equals the
   budget's but for its own bounds, so the loss is the bound's price plus the risk of moving
   its weight elsewhere). Names that cannot be
   sold out (no-sell, or a position the daily-volume cap cannot exit at once) are kept first;
   names whose caps stop them below the minimum size are never picked.
3. **Fix**: the best ``max_names`` names are *in*, every other name is *out* (upper bound 0).
   With a minimum position, a name is in only if the relaxation gives it at least half the
   minimum, and every in-name gets the minimum as its lower bound. The fixed problem is
   convex; its solution holds at most ``max_names`` names, each at zero or at least the
   minimum, by construction (never a position below the minimum).
4. **Improve**: when the names in cannot invest what the relaxation invests (caps too small),
   the smallest position makes room for the best unused name; otherwise the name held out
   whose zero bound costs the objective most (its dual) comes in for the name in that
   contributes least (a name pinned at the minimum counts by what its minimum costs), as long
   as the first-order gain says it pays. The fixed problem is re-solved after each swap and
   the best selection found is kept (at most ``max_rounds`` re-solves).

The result is feasible for the integer problem; its gap to the relaxation,
``(relaxed - objective) / |relaxed|``, bounds the distance to the true optimum and is reported.
Every name the stage takes out says why: the max-names limit or the minimum position.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from optimizer.model import (
    CompiledProblem,
    ParameterValues,
    RawSolution,
    SolverSettings,
)

ZERO = 1e-7
#: Why the integer stage set a name's bounds (the labels of ``IntegerReport.fixed``).
MAX_NAMES = "max_names"
MIN_POSITION = "min_position"


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
    fixed : dict of int to str
        Candidate index -> ``"max_names"`` or ``"min_position"``: the names the stage held at
        zero, and the limit that did it.
    raised : tuple of int
        Candidates whose lower bound the stage raised to the minimum position.
    """

    relaxed_objective: float
    objective: float
    gap: float
    rounds: int
    names: int
    exact: bool
    fixed: dict[int, str] = field(default_factory=dict)
    raised: tuple[int, ...] = ()


def _meets(w: np.ndarray, max_names: int | None, min_position: float | None) -> bool:
    held = np.abs(w) > ZERO
    if max_names is not None and held.sum() > max_names:
        return False
    return not (min_position is not None and np.any(held & (np.abs(w) < min_position - 1e-9)))


def curvature(problem: CompiledProblem, v: ParameterValues) -> np.ndarray:
    """``gamma x Sigma_ii``: how fast the risk term bends along each name's weight."""
    d = problem.data
    result: np.ndarray = v.gamma * (np.sum((d.exposures @ d.factor_sqrt.T) ** 2, axis=1) + d.idio_sd**2)
    return result


def contributions(problem: CompiledProblem, v: ParameterValues, solution: RawSolution) -> np.ndarray:
    """What the objective loses when each name goes, estimated at an optimum.

    At an optimum every held name's marginal value equals the budget's, except for the duals
    of its own bounds, so the first-order loss of selling it out is its weight times its cap's
    dual (less a minimum's); the second-order loss is ``gamma Sigma_ii w_i^2`` (the risk of
    moving its weight elsewhere).
    """
    w = solution.weights
    assert w is not None
    up = solution.duals.get("upper", np.zeros(len(w)))
    low = solution.duals.get("lower", np.zeros(len(w)))
    result: np.ndarray = np.abs(w) * (up - low) + curvature(problem, v) * w**2
    return result


def _swap(
    problem: CompiledProblem,
    solution: RawSolution,
    v: ParameterValues,
    selection: set[int],
    must_keep: np.ndarray,
    reachable: np.ndarray,
    minimum: float,
) -> tuple[int, int] | None:
    """(name to take out, name to bring in) when the estimated gain beats the loss, else None."""
    w, up = solution.weights, solution.duals.get("upper")
    if w is None or up is None:
        return None
    bend = curvature(problem, v)
    outside = np.ones(len(w), dtype=bool)
    outside[list(selection)] = False
    outside &= ~must_keep & reachable & (v.upper > ZERO) & (up > 1e-9)
    if not outside.any():
        return None
    marginal = up - v.cost_rate * v.cost_weight
    size = np.clip(marginal / np.maximum(2 * bend, 1e-12), max(minimum, 1e-3), np.maximum(v.upper, 1e-3))
    gain = np.where(outside, marginal * size - bend * size**2, -np.inf)
    i_in = int(np.argmax(gain))
    inside = [i for i in selection if not must_keep[i]]
    if not inside or gain[i_in] <= 0:
        return None
    value = contributions(problem, v, solution)
    loss = {i: float(value[i]) for i in inside}
    i_out = min(inside, key=loss.__getitem__)
    return (i_out, i_in) if gain[i_in] > loss[i_out] else None


def relax_and_fix(
    problem: CompiledProblem,
    v: ParameterValues,
    max_names: int | None,
    min_position: float | None,
    solver: SolverSettings | None = None,
    max_rounds: int = 8,
) -> tuple[RawSolution, IntegerReport | None, ParameterValues]:
    """Solve with a cap on the number of names and/or a minimum position size.

    Returns
    -------
    solution : RawSolution
        The final solve (``ok`` False if no feasible selection was found).
    report : IntegerReport or None
        None when the relaxation itself failed.
    values : ParameterValues
        The bounds of the final solve (needed to attribute shadow prices).
    """
    relaxed = problem.solve(v, solver)
    if not relaxed.ok:
        return relaxed, None, v
    assert relaxed.weights is not None and relaxed.objective is not None
    w_r = relaxed.weights
    if _meets(w_r, max_names, min_position):
        report = IntegerReport(relaxed.objective, relaxed.objective, 0.0, 0, int((np.abs(w_r) > ZERO).sum()), True)
        return relaxed, report, v

    n = len(w_r)
    minimum = min_position or 0.0
    must_keep = (v.lower > ZERO) | (v.w0 - v.adv_cap > ZERO)
    reachable = np.minimum(v.upper, v.w0 + v.adv_cap) >= minimum - 1e-9
    score = contributions(problem, v, relaxed)
    order = [int(i) for i in np.lexsort((-v.alpha, -score)) if not must_keep[i] and reachable[i] and w_r[i] > ZERO]
    limit = (max_names if max_names is not None else n) - int(must_keep.sum())
    big_enough = [i for i in order if w_r[i] >= minimum / 2]
    chosen = big_enough[: max(limit, 0)]
    why: dict[int, str] = {}
    for i in order:
        if i not in chosen:
            why[i] = MIN_POSITION if w_r[i] < minimum / 2 else MAX_NAMES
    spare = [i for i in big_enough if i not in chosen] + [i for i in order if w_r[i] < minimum / 2]

    def fixed_values(selection: set[int]) -> ParameterValues:
        keep = must_keep.copy()
        keep[list(selection)] = True
        upper = np.where(keep, v.upper, np.minimum(v.upper, 0.0))
        lower = np.where(keep, v.lower, np.minimum(v.lower, 0.0))
        if min_position is not None:
            lower = np.where(keep, np.maximum(lower, min_position), lower)
        return replace(v, lower=lower, upper=upper)

    best: tuple[RawSolution, ParameterValues, set[int]] | None = None
    selection = set(chosen)
    rounds = 0
    tried: set[frozenset[int]] = set()
    while rounds < max_rounds and frozenset(selection) not in tried:
        tried.add(frozenset(selection))
        rounds += 1
        current = fixed_values(selection)
        solution = problem.solve(current, solver)
        if solution.ok and (best is None or solution.objective > best[0].objective):  # type: ignore[operator]
            best = (solution, current, set(selection))
        if not solution.ok:
            # The names in cannot meet the other constraints: bring in the next best, in place
            # of the weakest when the limit is reached.
            if not spare:
                break
            selection = set(selection)
            if len(selection) >= limit:
                weakest = min(selection, key=lambda i: score[i])
                selection.discard(weakest)
                why[weakest] = MAX_NAMES
            selection.add(spare.pop(0))
            continue
        w = solution.weights
        assert w is not None
        if w.sum() < w_r.sum() - 1e-4 and spare:
            # The names in cannot hold what the relaxation invests (their caps are too small):
            # the smallest position makes room for the best spare name.
            smallest = min((i for i in selection if not must_keep[i]), key=lambda i: w[i], default=None)
            if smallest is None:
                break
            selection = set(selection)
            selection.discard(smallest)
            why[smallest] = MAX_NAMES
            selection.add(spare.pop(0))
            continue
        # Dual-guided swap (a hill climb judged by re-solving): the name held out that gains
        # most on entering (its zero bound's dual, sized by the curvature of the risk term)
        # comes in for the name whose removal costs least (the dual of a minimum it is pinned
        # at, plus the curvature of its weight), while the gain exceeds the loss.
        if best is None or best[2] != selection:
            break  # the last swap made it worse: stop at the best selection
        swap = _swap(problem, solution, current, selection, must_keep, reachable, minimum)
        if swap is None:
            break
        i_out, i_in = swap
        selection = set(selection)
        selection.discard(i_out)
        why[i_out] = MIN_POSITION if minimum and w[i_out] <= minimum + 1e-9 else MAX_NAMES
        selection.add(i_in)
    if best is None:
        failed = problem.solve(fixed_values(selection), solver)
        return failed, IntegerReport(float(relaxed.objective), float("nan"), float("nan"), rounds, 0, False), fixed_values(selection)
    solution, current, selection = best
    assert solution.weights is not None and solution.objective is not None
    fixed = {i: reason for i, reason in why.items() if i not in selection}
    for i in range(n):
        if i not in selection and not must_keep[i] and i not in fixed and abs(w_r[i]) > ZERO:
            fixed[i] = MAX_NAMES
    raised = tuple(sorted(i for i in selection if min_position is not None and current.lower[i] >= min_position - 1e-12))
    gap = (relaxed.objective - solution.objective) / max(abs(relaxed.objective), 1e-12)
    report = IntegerReport(
        float(relaxed.objective), float(solution.objective), float(gap), rounds, int((np.abs(solution.weights) > ZERO).sum()), False, fixed, raised
    )
    return solution, report, current
