"""From target weights to a trade list that keeps every hard bound: whole lots, cash, costs.

Weights are fractions of the portfolio's value *before* trading (tradeable holdings at the
as-of price plus cash), the unit of every constraint.

1. **Options per name.** Shares after trading move from today's shares in whole lots (``lot``
   shares a trade; selling a whole position is always allowed). For each name the candidates
   are the lots just below and above the target (and one more each way), no trade, and the
   exit; a candidate survives only if it keeps every per-name bound: long-only, name cap,
   no-buy / no-sell / hold-only, negative alpha, the integer stage's bounds, the daily-volume
   cap on the trade, and the minimum position (zero or at least the minimum). Trades smaller
   than ``min_trade_usd`` are dropped in favour of no trade (unless no trade breaks a bound).
   A name left with no candidate gets a message saying which bound cannot hold at this lot
   size, and keeps its position.
2. **Repair.** One candidate per name is chosen by a small mixed-integer program (HiGHS,
   through :func:`scipy.optimize.milp`) that stays as close as it can to the targets, prefers
   deviations the objective's gradient favours, pays the costs, and keeps the bounds across
   names: cash after trading and costs never below zero (hard) and at least the cash buffer,
   sector, manufacturing and theme bounds, turnover, max names and the beta band. A bound across
   names that no choice of lots can keep is kept as nearly as possible and named in the notes
   with the level reached.
3. Each trade says why: entering, exiting, increasing or decreasing, and the constraint that
   bound the target (name cap, daily-volume cap, max names, ...) when one did.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._quiet import c_output_discarded

TRADE_COLUMNS = (
    "ticker",
    "name",
    "side",
    "shares",
    "price",
    "notional",
    "est_cost",
    "weight_before",
    "weight_after",
    "shares_before",
    "shares_after",
    "reason",
)
#: Objective units lost per unit of weight away from the target (the repair stays close).
PROXIMITY = 1.0
#: Penalty per unit of weight by which a bound across names is missed (only when unavoidable);
#: the cash buffer is given up last.
MISS_PENALTY = 1e3
BUFFER_PENALTY = 1e6
TOL = 1e-9
LOOSE = 5.0


def _ignore_options_passed_on() -> None:
    """Silence SciPy's warning that it passes HiGHS options it does not know on as they are
    (what the lot choice wants), for the warnings it attributes to this module only.

    Set on every lot choice, not once: a ``catch_warnings`` block that was open when it was set
    drops it on leaving (pytest opens one around each test); and not in a ``catch_warnings``
    block of its own, which is not thread-safe. Setting the same filter again only moves it to
    the front of the list.
    """
    warnings.filterwarnings("ignore", message="Unrecognized options detected", category=RuntimeWarning, module=__name__)


@dataclass(frozen=True)
class TradeBounds:
    """The hard bounds the trade list keeps (weights: fractions of the pre-trade value).

    Per-name arrays are aligned with the table's rows; a bound of magnitude ``LOOSE`` (5) or
    more is treated as absent.

    Attributes
    ----------
    lower, upper : numpy.ndarray
        Weight bounds per name.
    adv_cap : numpy.ndarray
        Largest trade per name, as a weight.
    min_position : float or None
        Every position zero or at least this weight.
    groups : dict of str to (numpy.ndarray, float, float)
        Named bounds on a group's total weight: member mask, minimum, maximum (sectors,
        ``manufacturing``, themes).
    turnover_max : float
        Buys plus sells over the pre-trade value.
    max_names : int or None
    invest : float
        Largest invested share after costs (one minus the cash buffer).
    beta : numpy.ndarray or None
        Beta per name, with ``beta_lo`` and ``beta_hi``.
    beta_lo, beta_hi : float
    labels : dict of str to numpy.ndarray
        ``"lower"``/``"upper"`` -> the constraint behind each name's bound (for messages).
    words : dict of str to str
        Those constraints in words (``"max_weight"`` -> ``"the name cap"``).
    """

    lower: np.ndarray
    upper: np.ndarray
    adv_cap: np.ndarray
    min_position: float | None = None
    groups: dict[str, tuple[np.ndarray, float, float]] = field(default_factory=dict)
    turnover_max: float = LOOSE
    max_names: int | None = None
    invest: float = 1.0
    beta: np.ndarray | None = None
    beta_lo: float = -LOOSE
    beta_hi: float = LOOSE
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TradeList:
    """The trades, the portfolio they leave (as sent) and their totals.

    Attributes
    ----------
    trades : pandas.DataFrame
        One row per trade (``TRADE_COLUMNS``): ``side`` is BUY or SELL, ``shares`` is positive,
        ``notional`` = shares x price (USD), ``est_cost`` in USD, ``weight_after`` the weight
        after the trade as sent (fraction of the pre-trade value).
    cash_before, cash_after : float
        Cash before trading, and after the trades and their estimated costs.
    portfolio_value : float
        Value of the tradeable holdings and cash before trading.
    notes : tuple of str
    as_sent : pandas.DataFrame
        Per name (every row of the input table): ``shares_after``, ``weight_target``,
        ``weight_sent`` (the portfolio the trade list leaves).
    problems : tuple of str
        Per-name messages: a bound that cannot hold at the lot size.
    """

    trades: pd.DataFrame
    cash_before: float
    cash_after: float
    portfolio_value: float
    notes: tuple[str, ...] = field(default=())
    as_sent: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: tuple[str, ...] = field(default=())

    @property
    def buys(self) -> float:
        return self._notional("BUY")

    @property
    def sells(self) -> float:
        return self._notional("SELL")

    def _notional(self, side: str) -> float:
        notional = self.trades["notional"].to_numpy(float)
        return float(np.nansum(notional[self.trades["side"].to_numpy(object) == side]))

    @property
    def costs(self) -> float:
        return float(self.trades["est_cost"].sum())

    @property
    def turnover(self) -> float:
        """Buys plus sells over portfolio value."""
        return (self.buys + self.sells) / self.portfolio_value if self.portfolio_value > 0 else 0.0

    @property
    def names(self) -> int:
        """Positions held after the trades as sent."""
        return int((self.as_sent["shares_after"] != 0).sum()) if len(self.as_sent) else 0


def round_to_lots(shares: np.ndarray, lot: int, down: bool = False) -> np.ndarray:
    """Shares rounded to whole lots (nearest, or down towards zero)."""
    lots = shares / lot
    rounded = np.trunc(lots) if down else np.round(lots)
    result: np.ndarray = rounded * lot
    return result


def _options(
    target: np.ndarray, before: np.ndarray, price: np.ndarray, value: float, lot: int, min_trade_usd: float, b: TradeBounds
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Candidate shares after trading (n x m, NaN where absent) and which survive the bounds."""
    step = (target - before) / lot
    lo_k, hi_k = np.floor(step + 1e-9), np.ceil(step - 1e-9)
    # the smallest trade of at least min_trade_usd towards the target: when the targets are
    # many small trades, a few of these can keep a bound that dropping them all would break
    smallest = np.ceil(min_trade_usd / (np.where(price > 0, price, np.inf) * lot)) * lot
    smallest = np.maximum(smallest, lot)
    cand = np.column_stack(
        [
            before,
            np.zeros_like(before),
            before + lo_k * lot,
            before + hi_k * lot,
            before + (lo_k - 1) * lot,
            before + (hi_k + 1) * lot,
            before + np.sign(target - before) * smallest,
        ]
    )
    w = cand * price[:, None] / value
    trade_w = np.abs(cand - before[:, None]) * price[:, None] / value
    eps = 1e-12  # the lots must keep the bounds themselves, not to a solver tolerance
    ok = (w >= b.lower[:, None] - eps) & (w <= b.upper[:, None] + eps)
    ok &= trade_w <= b.adv_cap[:, None] + eps
    if b.min_position is not None:
        ok &= (cand == 0) | (np.abs(w) >= b.min_position - eps)
    ok[:, 1] &= before != 0  # the exit column only where there is something to exit
    small = (np.abs(cand - before[:, None]) * price[:, None] < min_trade_usd) & (cand != before[:, None]) & (cand != 0)
    tradeable = ok & ~small
    use = np.where(tradeable.any(axis=1)[:, None], tradeable, ok)
    stuck = [int(i) for i in np.flatnonzero(~use.any(axis=1))]
    return cand, use, stuck


def _stuck_message(i: int, ticker: str, before: float, target: float, price: float, value: float, lot: int, b: TradeBounds) -> str:
    lot_w = 100 * lot * price / value
    upper_src = str(b.labels["upper"][i]) if "upper" in b.labels else ""
    lower_src = str(b.labels["lower"][i]) if "lower" in b.labels else ""
    upper_label = b.words.get(upper_src, upper_src) or "its limit"
    lower_label = b.words.get(lower_src, lower_src) or "its minimum"
    if b.min_position is not None and 0 < target * price / value < b.min_position + 1e-9 and lot_w > 0:
        bound = f"the minimum position {100 * b.min_position:.3g}%"
    elif before * price / value > b.upper[i] + TOL:
        bound = f"{upper_label} ({100 * b.upper[i]:.3g}%)"
    elif before * price / value < b.lower[i] - TOL:
        bound = f"{lower_label} ({100 * b.lower[i]:.3g}%)"
    else:
        bound = f"the daily-volume cap ({100 * b.adv_cap[i]:.3g}% of the portfolio a trade)"
    return f"{ticker}: {bound} cannot hold with lots of {lot} shares (one lot is {lot_w:.3g}% of the portfolio); position left at {before:,.0f} shares."


def choose_lots(
    table: pd.DataFrame,
    value: float,
    cash_before: float,
    lot: int,
    min_trade_usd: float,
    cost: Callable[[np.ndarray, np.ndarray], np.ndarray],
    bounds: TradeBounds,
    gradient: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Shares after trading for every row, keeping the bounds (see the module docstring).

    Returns
    -------
    shares_after : numpy.ndarray
    notes : list of str
        Bounds across names that could not hold at this lot size, with the level reached.
    problems : list of str
        Per-name bounds that cannot hold at this lot size.
    """
    # scipy.optimize and scipy.sparse take 0.2 s to import: only when lots are chosen (reading a
    # result needs neither)
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    price = table["price"].to_numpy(float)
    before = table["shares_before"].to_numpy(float)
    w_target = table["weight_after"].to_numpy(float)
    target = w_target * value / price
    n = len(table)
    cand, use, stuck = _options(target, before, price, value, lot, min_trade_usd, bounds)
    problems = [_stuck_message(i, str(table.index[i]), before[i], target[i], price[i], value, lot, bounds) for i in stuck]
    use[stuck, 0] = True  # keep the position
    # Each surviving (name, candidate) pair; identical candidates of one name count once.
    repeated = np.zeros_like(use)
    missing = np.isnan(cand)
    for j in range(1, cand.shape[1]):
        for earlier in range(j):
            same = (cand[:, earlier] == cand[:, j]) | (missing[:, earlier] & missing[:, j])
            repeated[:, j] |= use[:, earlier] & same
    rows, cols = np.nonzero(use & ~repeated)
    shares = cand[rows, cols]
    count = np.bincount(rows, minlength=n)
    w = shares * price[rows] / value
    delta = shares - before[rows]
    notional = np.abs(delta) * price[rows]
    est = np.where(notional > 0, cost(notional, rows), 0.0)
    spend = (delta * price[rows] + est) / value  # cash each option uses, as a weight
    grad = np.zeros(n) if gradient is None else np.asarray(gradient, dtype=float)
    score = -PROXIMITY * np.abs(w - w_target[rows]) + grad[rows] * (w - w_target[rows]) - est / value
    free = count[rows] > 1
    fixed_rows = rows[~free]
    choice = np.zeros(n)
    choice[fixed_rows] = shares[~free]
    fw, fspend = np.zeros(n), np.zeros(n)
    fw[fixed_rows], fspend[fixed_rows] = w[~free], spend[~free]
    var_rows, var_w, var_spend, var_shares = rows[free], w[free], spend[free], shares[free]
    var_trade = (notional / value)[free]
    m = len(var_rows)
    notes: list[str] = []
    if m == 0:
        return choice, notes + _misses(choice, before, price, value, cash_before, lot, bounds, cost), problems

    # Rows of the program: (name, coefficients over options, lower, upper, penalised miss?).
    checks: list[tuple[str, np.ndarray, float, float, bool]] = []
    names_idx = np.unique(var_rows)
    owner = np.searchsorted(names_idx, var_rows)
    cash_room = cash_before / value - float(fspend.sum())
    checks.append(("cash", var_spend, -np.inf, cash_room, False))
    buffer = 1.0 - bounds.invest
    checks.append(("cash buffer", var_spend, -np.inf, cash_room - buffer, True))
    for label, (members, lo, hi) in bounds.groups.items():
        fixed_level = float(fw[members].sum())
        coef = np.where(members[var_rows], var_w, 0.0)
        checks.append((label, coef, lo - fixed_level if lo > -LOOSE else -np.inf, hi - fixed_level if hi < LOOSE else np.inf, True))
    if bounds.turnover_max < LOOSE:
        fixed_trade = float(np.sum(np.abs(choice[fixed_rows] - before[fixed_rows]) * price[fixed_rows]) / value)
        checks.append(("turnover", var_trade, -np.inf, bounds.turnover_max - fixed_trade, True))
    if bounds.max_names is not None:
        fixed_names = int(np.sum(choice[fixed_rows] != 0))
        checks.append(("max names", (var_shares != 0).astype(float), -np.inf, bounds.max_names - fixed_names, True))
    if bounds.beta is not None:
        fixed_beta = float(bounds.beta @ fw)
        coef = bounds.beta[var_rows] * var_w
        lo = bounds.beta_lo - fixed_beta if bounds.beta_lo > -LOOSE else -np.inf
        hi = bounds.beta_hi - fixed_beta if bounds.beta_hi < LOOSE else np.inf
        checks.append(("beta", coef, lo, hi, True))
    soft = [c for c in checks if c[4]]
    k = len(soft)
    # Variables: one binary per option, then a lower and an upper miss per penalised row.
    penalty = np.array([BUFFER_PENALTY if label == "cash buffer" else MISS_PENALTY for label, *_rest in soft])
    c = np.concatenate([-score[free], np.repeat(penalty, 2)])
    # One row per name (exactly one of its options), then the rows across names.
    across = np.zeros((len(checks), m + 2 * k))
    j = 0
    for r, (_label, coef, _lo, _hi, penalised) in enumerate(checks):
        across[r, :m] = coef
        if penalised:
            across[r, m + 2 * j], across[r, m + 2 * j + 1] = 1.0, -1.0  # lo - miss_lo <= a'x <= hi + miss_hi
            j += 1
    at_row, at_col = np.nonzero(across)
    A = sp.csr_matrix(
        (
            np.concatenate([np.ones(m), across[at_row, at_col]]),
            (np.concatenate([owner, len(names_idx) + at_row]), np.concatenate([np.arange(m), at_col])),
        ),
        shape=(len(names_idx) + len(checks), m + 2 * k),
    )
    row_lo = np.concatenate([np.ones(len(names_idx)), [lo for _label, _coef, lo, _hi, _p in checks]])
    row_hi = np.concatenate([np.ones(len(names_idx)), [hi for _label, _coef, _lo, hi, _p in checks]])
    free_bounds = Bounds(np.zeros(m + 2 * k), np.concatenate([np.ones(m), np.full(2 * k, np.inf)]))
    integrality = np.concatenate([np.ones(m), np.zeros(2 * k)])
    # The integer programs feasible to 1e-9, not HiGHS's default 1e-6: an answer could cross a
    # bound across names by a few 1e-7 without paying the miss, and the trade list then said the
    # bound "cannot hold" where whole lots keep it (4 of 200 random cases). SciPy passes the two
    # options on to HiGHS as they are (and warns that it does). Presolve off, as before: the
    # programs are small.
    options = {
        "time_limit": 10.0,
        "mip_rel_gap": 1e-6,
        "presolve": False,
        "mip_feasibility_tolerance": 1e-9,
        "primal_feasibility_tolerance": 1e-9,
    }
    _ignore_options_passed_on()
    with c_output_discarded():
        # The linear relaxation first: at a vertex at most one name per row across names is
        # fractional, so the integer program only branches on those few names, the others fixed.
        relaxed = milp(c, constraints=LinearConstraint(A, row_lo, row_hi), bounds=free_bounds)
        x: np.ndarray | None = None
        if relaxed.x is not None:
            best_share = np.zeros(len(names_idx))
            np.maximum.at(best_share, owner, relaxed.x[:m])
            settled = best_share[owner] >= 1 - 1e-9
            fixed_x = np.where(settled, np.round(relaxed.x[:m]), 0.0)
            if settled.all():
                x = relaxed.x
            else:
                open_cols = np.concatenate([~settled, np.ones(2 * k, dtype=bool)])
                shift = A[:, : m] @ fixed_x
                small = milp(
                    c[open_cols],
                    constraints=LinearConstraint(A[:, open_cols], row_lo - shift, row_hi - shift),
                    integrality=integrality[open_cols],
                    bounds=Bounds(free_bounds.lb[open_cols], free_bounds.ub[open_cols]),
                    options=options,
                )
                if small.x is not None:
                    x = np.zeros(m + 2 * k)
                    x[:m] = fixed_x
                    x[open_cols] = small.x
        lp_miss = float(relaxed.x[m:].sum()) if relaxed.x is not None else 0.0
        if x is None or float(x[m:].sum()) > lp_miss + 1e-9:  # fixing the settled names cost a bound: all
            full = milp(c, constraints=LinearConstraint(A, row_lo, row_hi), integrality=integrality, bounds=free_bounds, options=options)
            if full.x is not None and (x is None or c @ full.x < c @ x - 1e-12):
                x = full.x
    if x is None:
        # Cannot happen while keeping every position is an option (it spends no cash); keep them.
        notes.append("The lot repair found no solution; positions left unchanged where a trade was in doubt.")
        for i in names_idx:
            choice[i] = before[i]
        return choice, notes, problems
    chosen = x[:m] > 0.5
    choice[var_rows[chosen]] = var_shares[chosen]
    return choice, notes + _misses(choice, before, price, value, cash_before, lot, bounds, cost), problems


def _misses(
    after: np.ndarray,
    before: np.ndarray,
    price: np.ndarray,
    value: float,
    cash_before: float,
    lot: int,
    b: TradeBounds,
    cost: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[str]:
    """A note for each bound across names the chosen lots do not keep, with the level reached."""
    w = after * price / value
    delta = after - before
    traded = np.flatnonzero(delta != 0)
    spent = float(np.sum(delta * price)) + (float(cost(np.abs(delta[traded]) * price[traded], traded).sum()) if traded.size else 0.0)
    out: list[str] = []
    tol = 1e-12

    def shown(level: float, bound: float, scale: float = 100.0) -> str:
        """``level`` with the digits that tell it from ``bound`` (0.8999996, not 0.9)."""
        for digits in range(3, 10):
            if f"{scale * level:.{digits}g}" != f"{scale * bound:.{digits}g}":
                break
        return f"{scale * level:.{digits}g}"

    def note(label: str, level: str, bound: str) -> None:
        out.append(f"{label} cannot hold with lots of {lot} shares: the trade list reaches {level} against {bound}.")

    cash_share = (cash_before - spent) / value
    if cash_share < 1.0 - b.invest - tol:
        note("cash buffer", f"{shown(cash_share, 1.0 - b.invest)}% cash", f"a {100 * (1 - b.invest):.3g}% buffer")
    for label, (members, lo, hi) in b.groups.items():
        level = float(w[members].sum())
        if (lo > -LOOSE and level < lo - tol) or (hi < LOOSE and level > hi + tol):
            note(label, f"{shown(level, lo if level < lo else hi)}%", f"{100 * lo:.3g}%-{100 * hi:.3g}%" if lo > -LOOSE and hi < LOOSE else (f">= {100 * lo:.3g}%" if lo > -LOOSE else f"<= {100 * hi:.3g}%"))
    turnover = float(np.sum(np.abs(delta) * price) / value)
    if b.turnover_max < LOOSE and turnover > b.turnover_max + tol:
        note("turnover", f"{shown(turnover, b.turnover_max)}%", f"<= {100 * b.turnover_max:.3g}%")
    names = int(np.sum(after != 0))
    if b.max_names is not None and names > b.max_names:
        note("max names", f"{names} names", f"<= {b.max_names}")
    if b.beta is not None:
        beta = float(b.beta @ w)
        if beta < b.beta_lo - tol or beta > b.beta_hi + tol:
            note("beta", shown(beta, b.beta_lo if beta < b.beta_lo else b.beta_hi, 1.0), f"{b.beta_lo:.3g}-{b.beta_hi:.3g}")
    return out


def build_trades(
    table: pd.DataFrame,
    portfolio_value: float,
    cash_before: float,
    lot_size: int,
    min_trade_usd: float,
    cost: Callable[[np.ndarray, np.ndarray], np.ndarray],
    bounds: TradeBounds | None = None,
    gradient: np.ndarray | None = None,
) -> TradeList:
    """Turn target weights into trades that keep the hard bounds.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ticker: ``name``, ``price``, ``shares_before``, ``weight_before``,
        ``weight_after`` (the target) and ``binding`` (text naming a binding constraint, or '').
    portfolio_value : float
        Value the weights refer to (USD, before trading).
    cash_before : float
    lot_size : int
    min_trade_usd : float
    cost : callable
        ``cost(notional, rows)`` -> estimated cost in USD per trade, ``rows`` the positions
        of the traded names in ``table``.
    bounds : TradeBounds, optional
        The bounds to keep (default: long-only, and cash never below zero).
    gradient : numpy.ndarray, optional
        The objective's gradient at the target: which way a rounding should lean.

    Returns
    -------
    TradeList
    """
    n = len(table)
    if bounds is None:
        bounds = TradeBounds(lower=np.zeros(n), upper=np.full(n, LOOSE), adv_cap=np.full(n, LOOSE), invest=1.0)
    price = table["price"].to_numpy(float)
    before = table["shares_before"].to_numpy(float)
    after, notes, problems = choose_lots(table, portfolio_value, cash_before, lot_size, min_trade_usd, cost, bounds, gradient)
    delta = after - before
    traded = np.flatnonzero(delta != 0)
    notional_all = np.abs(delta) * price
    est_all = np.zeros(n)
    if traded.size:
        est_all[traded] = cost(notional_all[traded], traded)
    cash_after = float(cash_before - np.sum(delta * price) - est_all.sum())
    skipped = int(np.sum((np.abs(table["weight_after"].to_numpy(float) * portfolio_value / price - before) * price >= 1.0) & (delta == 0)))
    if skipped:
        notes.append(f"{skipped} target change(s) left untraded: smaller than a lot, than ${min_trade_usd:,.0f}, or than a bound allows.")
    largest = float(np.max(bounds.upper, initial=0.0)) * portfolio_value
    if skipped and 0 < largest <= min_trade_usd:  # whole shares land above or below, never on it
        notes.append(
            f"No new position can reach the ${min_trade_usd:,.0f} minimum trade: the most any name may hold is "
            f"${largest:,.0f} (the name cap of a ${portfolio_value:,.0f} portfolio). Lower the minimum trade or raise the name cap."
        )
    weight_sent = after * price / portfolio_value
    as_sent = pd.DataFrame(
        {"shares_after": after, "weight_target": table["weight_after"].to_numpy(float), "weight_sent": weight_sent}, index=table.index
    )
    t = traded[np.lexsort((-notional_all[traded], delta[traded] > 0))]  # sells first, then the largest
    d, p, b0 = delta[t], price[t], before[t]
    after_t = b0 + d
    side = np.where(d > 0, "BUY", "SELL")
    reason = np.where(
        (b0 == 0) & (after_t > 0),
        "enter",
        np.where(after_t == 0, "exit", np.where(d > 0, "increase", "decrease")),
    ).astype(object)
    binding = table["binding"].to_numpy(object)[t]
    reason = np.where(binding != "", reason + "; " + binding, reason)
    trades = pd.DataFrame(
        {
            "ticker": table.index[t],
            "name": table["name"].to_numpy(object)[t],
            "side": side,
            "shares": np.abs(d),
            "price": p,
            "notional": notional_all[t],
            "est_cost": est_all[t],
            "weight_before": table["weight_before"].to_numpy(float)[t],
            "weight_after": weight_sent[t],
            "shares_before": b0,
            "shares_after": after_t,
            "reason": reason,
        },
        columns=list(TRADE_COLUMNS),
    )
    return TradeList(trades, float(cash_before), cash_after, float(portfolio_value), tuple(notes), as_sent, tuple(problems))
