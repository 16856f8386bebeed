"""Constraint settings: every constraint a named object that can be switched on or off and tuned.

Settings live in a TOML file (``optimizer/constraints.toml`` ships as the default)::

    risk_aversion = 2.0      # objective: alpha - risk_aversion x variance - costs
    cash_buffer = 0.02       # fully invested but for this cash fraction (always on)

    [max_weight]
    enabled = true
    value = 0.05

    [manufacturing]          # share of SIC 2000-3999 names
    enabled = true
    min = 0.5

    [sectors.Utilities]      # any sector by name
    enabled = true
    max = 0.05

    [themes.energy_transition]   # any theme by id (universes/themes.toml); needs theme tags
    enabled = true
    min = 0.3

Every value is validated with a reason a person can act on; an unknown key is an error that
names it and lists the valid ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from optimizer.costs import CostSettings
from universes.errors import UserError
from universes.toml_io import read_toml, toml_key, toml_value

DEFAULT_FILE = Path(__file__).resolve().parent / "constraints.toml"
RISK_MODELS = ("factor", "dense")
RISK_MODES = ("active", "total")


class ConstraintError(UserError):
    """A constraint setting is invalid (the message says which and why)."""


@dataclass(frozen=True)
class Limit:
    """A one-sided constraint: ``enabled`` and its ``value``."""

    enabled: bool
    value: float


@dataclass(frozen=True)
class Range:
    """A two-sided constraint: ``enabled``, ``min`` and ``max`` (either may be None)."""

    enabled: bool
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ConstraintSettings:
    """Everything the optimiser can be told.

    Attributes
    ----------
    risk_aversion : float
        Weight of the risk term (tracking variance, or total variance) in the objective.
    risk_mode : str
        ``"active"``: risk is the tracking variance against the benchmark (the universe,
        cap-weighted), the rotation's default; ``"total"``: the portfolio's own variance.
    cash_buffer : float
        Cash kept out of the market (budget: weights sum to ``1 - cash_buffer``).
    alpha_ic : float
        Information coefficient of the composite -> alpha transform (alpha = IC x residual
        volatility x score).
    buy_negative_alpha : bool
        Allow buying names whose expected alpha is negative (as diversifiers); off by default:
        such names may be held or sold only.
    risk_model : str
        ``"factor"`` (statistical factors) or ``"dense"`` (Ledoit-Wolf; up to 500 names).
    lookback_days : int
        Sessions of returns for the risk model.
    beta_lookback_days : int
        Sessions of returns behind each name's (Dimson) beta; the history the universe has
        when shorter.
    max_candidates : int
        Keep the best N names that pass the screen (0: all of them).
    long_only : bool
        No short positions.
    max_weight : Limit
        Largest weight of any one name.
    manufacturing : Range
        Total weight of manufacturers (SIC 2000-3999).
    sectors : dict of str to Range
        Bounds on any sector's total weight.
    themes : dict of str to Range
        Bounds on the total weight of the names tagged with a theme (by theme id). A name may
        carry several themes and count towards each.
    turnover : Limit
        Buys plus sells as a fraction of portfolio value (two-way: 100% rotates half the book;
        investing all cash counts the buys only).
    adv : Limit
        Each trade at most this fraction of the name's average daily dollar volume.
    tracking_error : Limit
        Annualised tracking error against the universe's cap-weighted benchmark.
    beta : Range
        Portfolio beta to that benchmark.
    no_buy, no_sell : tuple of str
        Tickers that may not be bought / sold.
    max_names : Limit
        At most this many positions (integer; solved by relax-and-fix).
    min_position : Limit
        Every position at least this weight (integer; relax-and-fix).
    lot_size : int
        Shares per round lot for the trade list.
    min_trade_usd : float
        Trades smaller than this are skipped.
    costs : CostSettings
    """

    risk_aversion: float = 2.0
    risk_mode: str = "active"
    cash_buffer: float = 0.02
    alpha_ic: float = 0.05
    buy_negative_alpha: bool = False
    risk_model: str = "factor"
    lookback_days: int = 252
    beta_lookback_days: int = 504
    max_candidates: int = 0
    long_only: bool = True
    max_weight: Limit = Limit(True, 0.05)
    manufacturing: Range = Range(True, 0.5, None)
    sectors: dict[str, Range] = field(default_factory=lambda: {"Utilities": Range(True, None, 0.05)})
    themes: dict[str, Range] = field(default_factory=dict)
    turnover: Limit = Limit(False, 1.0)
    adv: Limit = Limit(True, 0.10)
    tracking_error: Limit = Limit(True, 0.08)
    beta: Range = Range(True, 0.9, 1.1)
    no_buy: tuple[str, ...] = ()
    no_sell: tuple[str, ...] = ()
    max_names: Limit = Limit(False, 40)
    min_position: Limit = Limit(False, 0.01)
    lot_size: int = 1
    min_trade_usd: float = 500.0
    costs: CostSettings = field(default_factory=CostSettings)

    def __post_init__(self) -> None:
        problem = first_problem(self)
        if problem:
            raise ConstraintError(problem)

    def change(self, **changes: Any) -> ConstraintSettings:
        """A validated copy with some settings changed."""
        return replace(self, **changes)

    def with_sector(self, sector: str, bound: Range | None) -> ConstraintSettings:
        """A copy with one sector's bound set (``None`` removes it)."""
        sectors = dict(self.sectors)
        if bound is None:
            sectors.pop(sector, None)
        else:
            sectors[sector] = bound
        return replace(self, sectors=sectors)

    def with_theme(self, theme: str, bound: Range | None) -> ConstraintSettings:
        """A copy with one theme's bound set (``None`` removes it)."""
        themes = dict(self.themes)
        if bound is None:
            themes.pop(theme, None)
        else:
            themes[theme] = bound
        return replace(self, themes=themes)


def _fraction(name: str, value: Any, low: float = 0.0, high: float = 1.0) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return f"{name} must be a number (got {value!r})"
    if not low <= value <= high:
        return f"{name} must be between {low:g} and {high:g} (got {value:g})"
    return None


def _range_problem(name: str, r: Range, low: float, high: float) -> str | None:
    for side in ("min", "max"):
        v = getattr(r, side)
        if v is not None:
            p = _fraction(f"{name} {side}", v, low, high)
            if p:
                return p
    if r.min is not None and r.max is not None and r.min > r.max:
        return f"{name} min ({r.min:g}) is above its max ({r.max:g})"
    return None


def first_problem(s: ConstraintSettings) -> str | None:
    """The first invalid setting, described, or None when all are valid."""
    checks = [
        _fraction("risk_aversion", s.risk_aversion, 0.0, 1e4),
        _fraction("cash_buffer", s.cash_buffer, 0.0, 0.99),
        _fraction("alpha_ic", s.alpha_ic, 0.0, 1.0),
        None if s.risk_model in RISK_MODELS else f"risk_model must be one of {', '.join(RISK_MODELS)} (got {s.risk_model!r})",
        None if s.risk_mode in RISK_MODES else f"risk_mode must be one of {', '.join(RISK_MODES)} (got {s.risk_mode!r})",
        None if isinstance(s.buy_negative_alpha, bool) else f"buy_negative_alpha must be true or false (got {s.buy_negative_alpha!r})",
        None if isinstance(s.beta_lookback_days, int) and 60 <= s.beta_lookback_days <= 1260 else f"beta_lookback_days must be a whole number from 60 to 1260 (got {s.beta_lookback_days!r})",
        None if isinstance(s.lookback_days, int) and 40 <= s.lookback_days <= 756 else f"lookback_days must be a whole number from 40 to 756 (got {s.lookback_days!r})",
        None if isinstance(s.max_candidates, int) and s.max_candidates >= 0 else f"max_candidates must be a whole number, 0 or more (got {s.max_candidates!r})",
        _fraction("max_weight", s.max_weight.value, 1e-4, 1.0),
        _range_problem("manufacturing", s.manufacturing, 0.0, 1.0),
        *(_range_problem(f"sector {k}", v, 0.0, 1.0) for k, v in s.sectors.items()),
        *(_range_problem(f"theme {k}", v, 0.0, 1.0) for k, v in s.themes.items()),
        _fraction("turnover", s.turnover.value, 0.0, 2.0),
        _fraction("adv", s.adv.value, 1e-4, 10.0),
        _fraction("tracking_error", s.tracking_error.value, 1e-4, 1.0),
        _range_problem("beta", s.beta, -5.0, 5.0),
        None if isinstance(s.max_names.value, int | float) and float(s.max_names.value).is_integer() and s.max_names.value >= 1 else f"max_names must be a whole number, 1 or more (got {s.max_names.value!r})",
        _fraction("min_position", s.min_position.value, 0.0, 1.0),
        None if isinstance(s.lot_size, int) and s.lot_size >= 1 else f"lot_size must be a whole number, 1 or more (got {s.lot_size!r})",
        _fraction("min_trade_usd", s.min_trade_usd, 0.0, 1e12),
    ]
    if s.min_position.enabled and s.max_weight.enabled and s.min_position.value > s.max_weight.value:
        checks.append(f"min_position ({s.min_position.value:g}) is above max_weight ({s.max_weight.value:g})")
    return next((c for c in checks if c), None)


# ----------------------------------------------------------------------------- TOML
SCALARS = (
    "risk_aversion",
    "risk_mode",
    "cash_buffer",
    "alpha_ic",
    "buy_negative_alpha",
    "risk_model",
    "lookback_days",
    "beta_lookback_days",
    "max_candidates",
)
LIMITS = {"max_weight": "value", "turnover": "max", "adv": "max_fraction", "tracking_error": "max", "max_names": "value", "min_position": "value"}
RANGES = ("manufacturing", "beta")
LISTS = ("no_buy", "no_sell")
TABLES = ("long_only", *LIMITS, *RANGES, *LISTS, "sectors", "themes", "trades", "costs")


def _check_keys(table: dict[str, Any], valid: tuple[str, ...] | list[str], where: str) -> None:
    for key in table:
        if key not in valid:
            raise ConstraintError(f"{where}unknown setting {key!r}. Valid settings: {', '.join(valid)}.")


def settings_from_dict(data: Any, file: str | Path | None = None, table: str = "") -> ConstraintSettings:
    """Build settings from parsed TOML (missing keys keep their defaults).

    The table is checked against :class:`optimizer.constraints_schema.ConstraintsFile` first:
    every problem is named with the file, the table and the key, the value found and what was
    expected; then the settings' own cross-field rules apply.

    Raises
    ------
    ConstraintError
    """
    from optimizer.constraints_schema import ConstraintsFile
    from universes.validation import validate

    validate(ConstraintsFile, data, ConstraintError, file, table)
    where = f"{file}: " if file is not None else ""
    if table:
        where += f"[{table}] "
    d = ConstraintSettings()
    kw: dict[str, Any] = {k: data[k] for k in SCALARS if k in data}
    if "long_only" in data:
        _check_keys(data["long_only"], ("enabled",), f"{where}[long_only] ")
        kw["long_only"] = bool(data["long_only"].get("enabled", True))
    for name, key in LIMITS.items():
        if name in data:
            t = data[name]
            _check_keys(t, ("enabled", key), f"{where}[{name}] ")
            default: Limit = getattr(d, name)
            kw[name] = Limit(bool(t.get("enabled", True)), t.get(key, default.value))
    for name in RANGES:
        if name in data:
            t = data[name]
            _check_keys(t, ("enabled", "min", "max"), f"{where}[{name}] ")
            kw[name] = Range(bool(t.get("enabled", True)), t.get("min"), t.get("max"))
    for group in ("sectors", "themes"):
        if group in data:
            bounds = {}
            for label, t in data[group].items():
                if not isinstance(t, dict):
                    raise ConstraintError(f"{where}[{group}.{label}] must be a table with enabled, min, max.")
                _check_keys(t, ("enabled", "min", "max"), f"{where}[{group}.{label}] ")
                bounds[label] = Range(bool(t.get("enabled", True)), t.get("min"), t.get("max"))
            kw[group] = bounds
    for name in LISTS:
        if name in data:
            _check_keys(data[name], ("tickers",), f"{where}[{name}] ")
            from universes.tickers import normalize_ticker

            kw[name] = tuple(normalize_ticker(t) for t in data[name].get("tickers", []))
    if "trades" in data:
        _check_keys(data["trades"], ("lot_size", "min_trade_usd"), f"{where}[trades] ")
        kw.update(data["trades"])
    if "costs" in data:
        valid = [f.name for f in fields(CostSettings)]
        _check_keys(data["costs"], valid, f"{where}[costs] ")
        try:
            kw["costs"] = CostSettings(**data["costs"])
        except (TypeError, ValueError) as exc:
            raise ConstraintError(f"{where}[costs] {exc}.") from exc
    try:
        return ConstraintSettings(**kw)
    except ConstraintError as exc:
        raise ConstraintError(f"{where}{exc}.") from exc
    except TypeError as exc:
        raise ConstraintError(f"{where}{exc}.") from exc


def load_constraints(path: str | Path | None = None) -> ConstraintSettings:
    """Load constraint settings from TOML (default: the shipped ``constraints.toml``).

    Raises
    ------
    ConstraintError
        Missing or invalid file, unknown or invalid setting.
    """
    p = DEFAULT_FILE if path is None else Path(path).expanduser()
    return settings_from_dict(read_toml(p, ConstraintError, "constraints"), p)


def settings_to_toml(s: ConstraintSettings) -> str:
    """TOML text that :func:`load_constraints` reads back to the same settings."""
    out = [f"{k} = {toml_value(getattr(s, k))}" for k in SCALARS]
    out += ["", "[long_only]", f"enabled = {toml_value(s.long_only)}"]
    for name, key in LIMITS.items():
        lim: Limit = getattr(s, name)
        value = int(lim.value) if name == "max_names" else lim.value
        out += ["", f"[{name}]", f"enabled = {toml_value(lim.enabled)}", f"{key} = {toml_value(value)}"]
    for name in RANGES:
        r: Range = getattr(s, name)
        out += ["", f"[{name}]", f"enabled = {toml_value(r.enabled)}"]
        out += [f"{side} = {toml_value(getattr(r, side))}" for side in ("min", "max") if getattr(r, side) is not None]
    for group, bounds in (("sectors", s.sectors), ("themes", s.themes)):
        for label, r in bounds.items():
            out += ["", f"[{group}.{toml_key(label)}]", f"enabled = {toml_value(r.enabled)}"]
            out += [f"{side} = {toml_value(getattr(r, side))}" for side in ("min", "max") if getattr(r, side) is not None]
    for name in LISTS:
        out += ["", f"[{name}]", f"tickers = {toml_value(list(getattr(s, name)))}"]
    out += ["", "[trades]", f"lot_size = {s.lot_size}", f"min_trade_usd = {toml_value(float(s.min_trade_usd))}"]
    out += ["", "[costs]"] + [f"{k} = {toml_value(v)}" for k, v in s.costs.as_dict().items()]
    return "\n".join(out) + "\n"
