"""Why a set of constraints has no solution, in the user's terms.

Two passes:

1. **Arithmetic checks** catch the common conflicts before any solve and explain them with
   numbers: a sector minimum that its names cannot reach at the name cap ("manufacturing >= 60%
   with a 2% name cap needs 30 names, but max names is 20"), a budget the name caps cannot fill,
   sector minimums that add up to more than the money invested, a position the user will not
   sell that is above the name cap, a minimum for a sector with no candidates.
2. **Elastic relaxation** for everything else: every bound gets a non-negative slack and the
   total slack is minimised. Constraints that need slack are the ones that cannot all hold;
   the constraints binding in that relaxed solution (non-zero dual) are the ones they conflict
   with. Both are reported with the size of the shortfall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.model import CompiledProblem, ParameterValues, ProblemData

TOL = 1e-6


@dataclass(frozen=True)
class Conflict:
    """One reason the constraints cannot all hold.

    Attributes
    ----------
    constraints : tuple of str
        The named constraints involved (as in the constraint report).
    message : str
        The explanation, with numbers.
    """

    constraints: tuple[str, ...]
    message: str


def pct(x: float) -> str:
    return f"{100 * x:.4g}%"


def arithmetic_checks(
    data: ProblemData,
    v: ParameterValues,
    sector_limits: dict[str, tuple[float | None, float | None]],
    max_names: int | None,
    cap: float | None,
    min_position: float | None,
) -> list[Conflict]:
    """Conflicts that simple counting proves, explained with their numbers."""
    out: list[Conflict] = []
    invest = v.invest
    upper = np.minimum(v.upper, 1.0)
    if np.sum(np.clip(upper, 0, None)) < invest - TOL:
        n_buyable = int((upper > TOL).sum())
        reason = f"a {pct(cap)} name cap" if cap is not None else "the per-name limits"
        out.append(
            Conflict(
                ("budget", "max_weight"),
                f"Investing {pct(invest)} needs more room than {reason} leaves: {n_buyable} names can hold at most "
                f"{pct(float(np.sum(np.clip(upper, 0, None))))}. Raise the name cap, widen the screen, or hold more cash.",
            )
        )
    if max_names is not None and cap is not None and max_names * cap < invest - TOL:
        out.append(
            Conflict(
                ("max_names", "max_weight", "budget"),
                f"max names {max_names} x name cap {pct(cap)} = {pct(max_names * cap)}, less than the {pct(invest)} to invest. "
                f"Allow at least {math.ceil(invest / cap - 1e-9)} names or a cap of at least {pct(invest / max_names)}.",
            )
        )
    if min_position is not None and min_position > invest + TOL:
        out.append(Conflict(("min_position", "budget"), f"min position {pct(min_position)} is above the {pct(invest)} to invest."))
    bad = np.flatnonzero(v.lower > v.upper + TOL)
    if bad.size:
        t = data.tickers[bad[0]]
        out.append(
            Conflict(
                ("no_sell", "max_weight"),
                f"{t} may not be sold but already weighs {pct(float(v.lower[bad[0]]))}, above its limit of {pct(float(v.upper[bad[0]]))}"
                + (f" (and {bad.size - 1} more names)" if bad.size > 1 else "")
                + ". Remove it from no-sell or raise the name cap.",
            )
        )
    for sector, (lo, _hi) in sector_limits.items():
        if lo is not None and invest + TOL < lo <= 1.0 + TOL:
            name = "manufacturing:min" if sector == "Manufacturing" else f"sector:{sector}:min"
            out.append(
                Conflict(
                    (name, "budget"),
                    f"{sector} >= {pct(lo)} cannot hold with a {pct(1 - invest)} cash buffer: only {pct(invest)} is invested. "
                    f"Lower the minimum to {pct(invest)} or the cash buffer to {pct(max(0.0, 1 - lo))}.",
                )
            )
    present = set(data.sectors.tolist())
    needed_names = 0
    for sector, (lo, _hi) in sector_limits.items():
        if lo is None or lo <= TOL:
            continue
        label = sector
        if sector == "Manufacturing":
            members = data.manufacturing
            name = "manufacturing:min"
        else:
            members = data.sectors == sector
            name = f"sector:{sector}:min"
            if sector not in present:
                out.append(Conflict((name,), f"{label} >= {pct(lo)}, but no {label} names are among the candidates. Remove the bound or widen the screen."))
                continue
        room = float(np.sum(np.clip(upper[members], 0, None)))
        if room < lo - TOL:
            out.append(
                Conflict(
                    (name, "max_weight"),
                    f"{label} >= {pct(lo)}, but its {int(members.sum())} candidates can hold at most {pct(room)} under their limits. "
                    "Lower the minimum, raise the name cap, or widen the screen.",
                )
            )
        if cap is not None and sector != "Manufacturing":
            needed_names += math.ceil(lo / cap - 1e-9)
        if max_names is not None and cap is not None:
            need = math.ceil(lo / cap - 1e-9)
            if need > max_names:
                out.append(
                    Conflict(
                        (name, "max_weight", "max_names"),
                        f"{label} >= {pct(lo)} with a {pct(cap)} name cap needs {need} names, but max names is {max_names}.",
                    )
                )
    sector_total = sum(lo for s, (lo, _h) in sector_limits.items() if s != "Manufacturing" and lo)
    if sector_total > invest + TOL:
        out.append(Conflict(tuple(f"sector:{s}:min" for s, (lo, _h) in sector_limits.items() if s != "Manufacturing" and lo), f"Sector minimums add up to {pct(sector_total)}, more than the {pct(invest)} invested."))
    if max_names is not None and cap is not None and needed_names > max_names:
        out.append(Conflict(("max_names",), f"The sector minimums need at least {needed_names} names at a {pct(cap)} cap, but max names is {max_names}."))
    return out


def theme_checks(data: ProblemData, v: ParameterValues) -> list[Conflict]:
    """A theme minimum that its tagged candidates cannot reach under their limits."""
    out: list[Conflict] = []
    upper = np.clip(np.minimum(v.upper, 1.0), 0, None)
    for i, theme in enumerate(data.theme_names):
        lo = float(v.theme_lo[i])
        if lo <= TOL:
            continue
        members = np.asarray(data.theme_members)[i].astype(bool)
        room = float(np.sum(upper[members]))
        if room < lo - TOL:
            out.append(
                Conflict(
                    (f"theme:{theme}:min", "max_weight"),
                    f"{theme} >= {pct(lo)}, but its {int(members.sum())} candidates can hold at most {pct(room)} under their limits. "
                    "Lower the minimum, raise the name cap, or widen the screen.",
                )
            )
    return out


SOURCE_LABELS = {
    "max_weight": "the name cap",
    "no_buy": "the no-buy list",
    "hold_only": "what they hold today (they fail the screen or are outside the universe: hold or sell only)",
    "negative_alpha": "what they hold today (negative expected alpha: hold or sell only)",
    "no_sell": "what they hold today (the no-sell list)",
    "long_only": "zero (long-only: no short positions)",
    "max_names": "zero (left out by the max names limit)",
    "min_position": "the minimum position",
    "integer": "the max names / min position selection",
    "": "its bound",
}
#: Constraint names as a person reads them (for "also binding").
CONSTRAINT_LABELS = {
    "budget": "the budget (cash buffer)",
    "max_weight": "the name cap",
    "hold_only": "hold-or-sell only for names that fail the screen",
    "negative_alpha": "no buying of names with negative alpha",
    "no_buy": "the no-buy list",
    "no_sell": "the no-sell list",
    "long_only": "long-only",
    "adv": "the daily-volume cap",
    "turnover": "the turnover limit",
    "tracking_error": "the tracking-error limit",
    "beta:min": "the beta minimum",
    "beta:max": "the beta maximum",
    "manufacturing:min": "the manufacturing minimum",
    "manufacturing:max": "the manufacturing maximum",
    "max_names": "max names",
    "min_position": "the minimum position",
}


def constraint_label(name: str) -> str:
    """A constraint's name in words (``sector:Technology:max`` -> "the Technology maximum")."""
    if name.startswith("sector:"):
        _, sector, side = name.split(":")
        return f"the {sector} {'minimum' if side == 'min' else 'maximum'}"
    return CONSTRAINT_LABELS.get(name, name)


def _names_and_amounts(idx: np.ndarray, tickers: list[str], amounts: np.ndarray, limit: int = 6) -> str:
    order = idx[np.argsort(-amounts[idx])]
    shown = ", ".join(f"{tickers[i]} by {100 * amounts[i]:.2f} pp" for i in order[:limit])
    return shown + (f" and {len(order) - limit} more" if len(order) > limit else "")


def describe_shortfalls(
    slacks: dict[str, np.ndarray],
    v: ParameterValues,
    tickers: list[str],
    sectors: list[str],
    sources: dict[str, np.ndarray],
    themes: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(constraint name, sentence) for every bound the elastic solution had to loosen."""
    out: list[tuple[str, str]] = []
    big = slacks.get
    for row, kind in (("upper", "rise above"), ("lower", "fall below")):
        slack = big(row)
        if slack is None:
            continue
        src = sources[row]
        for label in dict.fromkeys(src[slack > 1e-5]):
            idx = np.flatnonzero((slack > 1e-5) & (src == label))
            name = str(label or row)
            out.append((name, f"{len(idx)} position(s) would have to {kind} {SOURCE_LABELS.get(str(label), 'their bound')}: {_names_and_amounts(idx, tickers, slack)}"))
    for row, verb, bound in (("sector_lo", "minimum", v.sector_lo), ("sector_hi", "maximum", v.sector_hi)):
        slack = big(row)
        if slack is None:
            continue
        for i in np.flatnonzero(slack > 1e-5):
            side = "min" if row == "sector_lo" else "max"
            reach = bound[i] - slack[i] if side == "min" else bound[i] + slack[i]
            out.append((f"sector:{sectors[i]}:{side}", f"{sectors[i]} {verb} {pct(bound[i])}: the best reachable is {pct(reach)}"))
    for row, verb, bound in (("theme_lo", "minimum", v.theme_lo), ("theme_hi", "maximum", v.theme_hi)):
        slack = big(row)
        if slack is None:
            continue
        for i in np.flatnonzero(slack > 1e-5):
            side = "min" if row == "theme_lo" else "max"
            reach = bound[i] - slack[i] if side == "min" else bound[i] + slack[i]
            name = (themes or [])[i]
            out.append((f"theme:{name}:{side}", f"theme {name} {verb} {pct(bound[i])}: the best reachable is {pct(reach)}"))
    scalars = {
        "mfg_lo": ("manufacturing:min", "manufacturing minimum", v.mfg_lo, -1),
        "mfg_hi": ("manufacturing:max", "manufacturing maximum", v.mfg_hi, 1),
        "turnover": ("turnover", "turnover limit", v.turnover_max, 1),
        "tracking_error": ("tracking_error", "tracking-error limit", v.te_max, 1),
        "beta_lo": ("beta:min", "beta minimum", v.beta_lo, -1),
        "beta_hi": ("beta:max", "beta maximum", v.beta_hi, 1),
    }
    for row, (name, label, value, sign) in scalars.items():
        slack = big(row)
        if slack is not None and slack[0] > 1e-5:
            level = float(value + sign * slack[0])
            shown = f"{level:.3g}" if row.startswith("beta") else pct(level)
            limit = f"{value:.3g}" if row.startswith("beta") else pct(value)
            out.append((name, f"{label} {limit}: " + (f"reaches only {shown}" if sign < 0 else f"needs {shown}")))
    adv = slacks.get("adv", np.zeros(len(tickers)))
    idx = np.flatnonzero(adv > 1e-5)
    if idx.size:
        out.append(("adv", f"{idx.size} trade(s) exceed the daily-volume cap: {_names_and_amounts(idx, tickers, adv)}"))
    return out


def elastic_diagnosis(
    elastic: CompiledProblem,
    v: ParameterValues,
    tickers: list[str],
    sectors: list[str],
    sources: dict[str, np.ndarray],
    themes: list[str] | None = None,
) -> list[Conflict]:
    """Solve the elastic problem and report which constraints need loosening, and against what.

    Parameters
    ----------
    elastic : CompiledProblem
        Built with ``elastic=True`` for the same data.
    v : ParameterValues
    tickers, sectors : list of str
        Candidate tickers and the sector of each sector row.
    sources : dict
        ``"lower"`` / ``"upper"`` -> which named constraint set each name's bound.
    themes : list of str, optional
        The theme of each theme row.
    """
    raw = elastic.solve(v)
    if not raw.ok:
        return [Conflict(("budget",), "Even with every bound relaxed there is no portfolio: check the cash buffer and the holdings.")]
    short = describe_shortfalls(raw.slacks, v, tickers, sectors, sources, themes)
    if not short:
        return []
    involved = [name for name, _ in short]
    blocking: list[str] = []
    dual_names = {
        "sector_lo": [f"sector:{x}:min" for x in sectors],
        "sector_hi": [f"sector:{x}:max" for x in sectors],
        "theme_lo": [f"theme:{x}:min" for x in themes or []],
        "theme_hi": [f"theme:{x}:max" for x in themes or []],
        "mfg_lo": ["manufacturing:min"],
        "mfg_hi": ["manufacturing:max"],
        "turnover": ["turnover"],
        "tracking_error": ["tracking_error"],
        "beta_lo": ["beta:min"],
        "beta_hi": ["beta:max"],
        "upper": [str(x or "upper") for x in sources["upper"]],
        "lower": [str(x or "lower") for x in sources["lower"]],
        "adv": ["adv"] * len(tickers),
    }
    for row, labels in dual_names.items():
        dual = raw.duals.get(row)
        if dual is None:
            continue
        for i in np.flatnonzero(np.abs(dual) > 1e-5):
            label = labels[i]
            # a name kept at zero because it may not be bought says nothing about the conflict
            at_zero = row == "upper" and label in ("hold_only", "negative_alpha", "no_buy", "integer", "max_names") and v.w0[i] <= 1e-12
            if label not in involved and label not in blocking and label != "long_only" and not at_zero:
                blocking.append(label)
    message = "These constraints cannot all hold: " + "; ".join(text for _, text in short)
    if blocking:
        levels = {
            "turnover": v.turnover_max, "tracking_error": v.te_max, "beta:min": v.beta_lo, "beta:max": v.beta_hi,
            "manufacturing:min": v.mfg_lo, "manufacturing:max": v.mfg_hi,
        }
        shown = []
        for name in blocking:
            level = levels.get(name)
            at = "" if level is None else (f" ({level:.3g})" if name.startswith("beta") else f" ({pct(level)})")
            shown.append(constraint_label(name) + at)
        message += ". Also binding: " + ", ".join(shown)
    return [Conflict(tuple(dict.fromkeys(involved + blocking)), message + ".")]
