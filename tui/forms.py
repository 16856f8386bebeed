"""The app's editable forms as plain data: field ids, text <-> settings, validation with reasons.

The app shows one input (or switch) per field id below and passes every field's current value
to :func:`settings_from_form` / :func:`screen_from_form`; a :class:`FieldError` names the field
to mark and the reason to show beside it. Percentages are typed as percent (``5`` = 5%).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from optimizer import ConstraintError, ConstraintSettings, Limit, Range
from screener import FACTORS, Screen, ScreenError

FormValues = dict[str, Any]


class FieldError(ValueError):
    """A form field holds a value that cannot be used.

    Parameters
    ----------
    field : str
        The field id (the input to mark).
    message : str
        Why, in words a person can act on.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class NumberField:
    """A numeric input: how it is labelled, scaled and bounded."""

    id: str
    label: str
    unit: str = ""
    scale: float = 1.0  # typed value x scale = stored value (0.01 for percent)
    low: float = -math.inf
    high: float = math.inf
    integer: bool = False
    optional: bool = False

    def parse(self, text: str) -> float | None:
        """The stored value for ``text`` (None for a blank optional field)."""
        text = str(text).strip().replace(",", "").rstrip("%").strip()
        if not text:
            if self.optional:
                return None
            raise FieldError(self.id, f"{self.label}: enter a number.")
        try:
            typed = float(text)
        except ValueError:
            raise FieldError(self.id, f"{self.label}: {text!r} is not a number.") from None
        if not math.isfinite(typed):
            raise FieldError(self.id, f"{self.label}: enter a finite number.")
        if self.integer and not typed.is_integer():
            raise FieldError(self.id, f"{self.label}: enter a whole number.")
        if not self.low <= typed <= self.high:
            raise FieldError(
                self.id, f"{self.label}: must be from {self.low:g} to {self.high:g}{self.unit}."
            )
        return int(typed) if self.integer else round(typed * self.scale, 12)  # 4.1 % is 0.041, not 0.040999999999999995

    def text(self, value: float | None) -> str:
        """The text to show for a stored value."""
        if value is None:
            return ""
        typed = value / self.scale
        return f"{round(typed)}" if self.integer else f"{typed:.6g}"


def percent(id: str, label: str, high: float = 100.0, optional: bool = False) -> NumberField:
    """A field typed in percent and stored as a fraction."""
    return NumberField(id, label, "%", 0.01, 0.0, high, optional=optional)


# ------------------------------------------------------------------------------ constraints
#: Constraint rows: (key, label, kind). Kind "limit" = switch + one value, "range" = switch +
#: min + max, "scalar" = one value, always on.
CONSTRAINT_FIELDS: dict[str, NumberField] = {
    f.id: f
    for f in (
        NumberField("risk_aversion", "Risk aversion", "", 1.0, 0.0, 1e4),
        percent("cash_buffer", "Cash buffer", 99.0),
        NumberField("max_weight", "Name cap", "%", 0.01, 0.01, 100.0),
        percent("manufacturing-min", "Manufacturing min", optional=True),
        percent("manufacturing-max", "Manufacturing max", optional=True),
        percent("turnover", "Turnover max", 200.0),
        NumberField("adv", "Trade cap, % of daily volume", "%", 0.01, 0.01, 1000.0),
        NumberField("tracking_error", "Tracking error max", "%", 0.01, 0.01, 100.0),
        NumberField("beta-min", "Beta min", "", 1.0, -5.0, 5.0, optional=True),
        NumberField("beta-max", "Beta max", "", 1.0, -5.0, 5.0, optional=True),
        NumberField("max_names", "Max names", "", 1.0, 1, 10_000, integer=True),
        percent("min_position", "Min position"),
        NumberField("lot_size", "Lot size (shares)", "", 1.0, 1, 1_000_000, integer=True),
        NumberField("min_trade_usd", "Min trade (USD)", "", 1.0, 0.0, 1e12),
        NumberField("holding_years", "Holding horizon (years)", "", 1.0, 0.1, 50.0),
        NumberField("lookback_days", "Risk history (sessions)", "", 1.0, 40, 756, integer=True),
        NumberField("beta_lookback_days", "Beta history (sessions)", "", 1.0, 60, 1260, integer=True),
    )
}
#: Switch-only rows: key -> (label, the setting when on, the setting when off).
SWITCH_FIELDS: dict[str, tuple[str, Any, Any]] = {
    "risk_mode": ("Risk measured against the benchmark (off: the portfolio's own risk)", "active", "total"),
    "buy_negative_alpha": ("Buy negative-alpha names", True, False),
}
LIMIT_KEYS = ("max_weight", "turnover", "adv", "tracking_error", "max_names", "min_position")
RANGE_KEYS = ("manufacturing", "beta")


def sector_field(i: int, side: str, sector: str) -> NumberField:
    """The min or max field of the i-th sector row."""
    return percent(f"sector-{i}-{side}", f"{sector} {side}", optional=True)


def theme_field(i: int, side: str, theme: str) -> NumberField:
    """The min or max field of the i-th theme row."""
    return percent(f"theme-{i}-{side}", f"{theme.replace('_', ' ')} {side}", optional=True)


def form_from_settings(s: ConstraintSettings, sectors: list[str], themes: Sequence[str] = ()) -> FormValues:
    """The constraint form's values for settings ``s`` (sector and theme rows in the order given)."""
    f = CONSTRAINT_FIELDS
    v: FormValues = {
        "risk_aversion": f["risk_aversion"].text(s.risk_aversion),
        "cash_buffer": f["cash_buffer"].text(s.cash_buffer),
        "lot_size": f["lot_size"].text(s.lot_size),
        "min_trade_usd": f["min_trade_usd"].text(s.min_trade_usd),
        "holding_years": f["holding_years"].text(s.costs.holding_years),
        "lookback_days": f["lookback_days"].text(s.lookback_days),
        "beta_lookback_days": f["beta_lookback_days"].text(s.beta_lookback_days),
    }
    for key, (_, on, _off) in SWITCH_FIELDS.items():
        v[f"{key}-on"] = getattr(s, key) == on
    for key in LIMIT_KEYS:
        lim: Limit = getattr(s, key)
        v[f"{key}-on"] = lim.enabled
        v[key] = f[key].text(lim.value)
    for key in RANGE_KEYS:
        r: Range = getattr(s, key)
        v[f"{key}-on"] = r.enabled
        v[f"{key}-min"] = f[f"{key}-min"].text(r.min)
        v[f"{key}-max"] = f[f"{key}-max"].text(r.max)
    for i, sector in enumerate(sectors):
        r = s.sectors.get(sector, Range(False))
        v[f"sector-{i}-on"] = r.enabled
        v[f"sector-{i}-min"] = sector_field(i, "min", sector).text(r.min)
        v[f"sector-{i}-max"] = sector_field(i, "max", sector).text(r.max)
    for i, theme in enumerate(themes):
        r = s.themes.get(theme, Range(False))
        v[f"theme-{i}-on"] = r.enabled
        v[f"theme-{i}-min"] = theme_field(i, "min", theme).text(r.min)
        v[f"theme-{i}-max"] = theme_field(i, "max", theme).text(r.max)
    locks = [t for t in s.no_buy if t in s.no_sell]
    v["locks"] = ", ".join(locks)
    v["no_buy"] = ", ".join(t for t in s.no_buy if t not in locks)
    v["no_sell"] = ", ".join(t for t in s.no_sell if t not in locks)
    return v


#: The ticker-list fields of the constraint form: id -> label.
TICKER_FIELDS = {"no_buy": "No-buy", "no_sell": "No-sell", "locks": "Locked (hold as is)"}


def ticker_list(field: str, text: str, known: Collection[str] | None) -> tuple[str, ...]:
    """Tickers typed as ``a, b c``: normalised, each one known (else a FieldError with close matches)."""
    from universes.tickers import close_matches, normalize_ticker

    tickers = tuple(dict.fromkeys(normalize_ticker(t) for t in text.replace(",", " ").split() if t.strip()))
    if known is not None:
        for t in tickers:
            if t not in known:
                hint = close_matches(t, known)
                more = f" Did you mean {', '.join(hint)}?" if hint else ""
                raise FieldError(field, f"{TICKER_FIELDS[field]}: {t} is not a ticker of the data.{more}")
    return tickers


def _range(values: FormValues, key: str, lo: NumberField, hi: NumberField) -> Range:
    enabled = bool(values.get(f"{key}-on", False))
    low, high = lo.parse(values.get(lo.id, "")), hi.parse(values.get(hi.id, ""))
    if enabled and low is None and high is None:
        raise FieldError(lo.id, f"{lo.label.rsplit(' ', 1)[0]}: enter a min, a max or both (or switch it off).")
    if low is not None and high is not None and low > high:
        raise FieldError(hi.id, f"{hi.label}: must not be below the min.")
    return Range(enabled, low, high)


def _bounds(values: FormValues, prefix: str, labels: Sequence[str], field: Callable[[int, str, str], NumberField], base: dict[str, Range]) -> dict[str, Range]:
    """Sector or theme bounds from their form rows; rows left blank and off are dropped."""
    bounds = dict(base)
    for i, label in enumerate(labels):
        r = _range(values, f"{prefix}-{i}", field(i, "min", label), field(i, "max", label))
        if r.enabled or r.min is not None or r.max is not None:
            bounds[label] = r
        else:
            bounds.pop(label, None)
    return bounds


def settings_from_form(
    base: ConstraintSettings,
    values: FormValues,
    sectors: list[str],
    known: Collection[str] | None = None,
    themes: Sequence[str] = (),
) -> ConstraintSettings:
    """Settings from the constraint form (what the form does not show is kept from ``base``).

    Raises
    ------
    FieldError
        A field is invalid; ``field`` names it. Cross-field problems (min position above the
        name cap, ...) name the field that was checked second.
    """
    f = CONSTRAINT_FIELDS
    kw: dict[str, Any] = {
        "risk_aversion": f["risk_aversion"].parse(values.get("risk_aversion", "")),
        "cash_buffer": f["cash_buffer"].parse(values.get("cash_buffer", "")),
        "lot_size": f["lot_size"].parse(values.get("lot_size", "")),
        "min_trade_usd": f["min_trade_usd"].parse(values.get("min_trade_usd", "")),
    }
    for key in ("lookback_days", "beta_lookback_days"):
        if key in values:
            kw[key] = f[key].parse(values[key])
    if "holding_years" in values:
        years = f["holding_years"].parse(values["holding_years"])
        assert years is not None  # not optional: a blank raises FieldError
        kw["costs"] = replace(base.costs, holding_years=years)
    for key, (_, on, off) in SWITCH_FIELDS.items():
        if f"{key}-on" in values:
            kw[key] = on if values[f"{key}-on"] else off
    for key in LIMIT_KEYS:
        value = f[key].parse(values.get(key, ""))
        assert value is not None  # limit fields are not optional: a blank raises FieldError
        kw[key] = Limit(bool(values.get(f"{key}-on", False)), value)
    for key in RANGE_KEYS:
        kw[key] = _range(values, key, f[f"{key}-min"], f[f"{key}-max"])
    kw["sectors"] = _bounds(values, "sector", sectors, sector_field, base.sectors)
    kw["themes"] = _bounds(values, "theme", themes, theme_field, base.themes)
    if any(k in values for k in TICKER_FIELDS):
        lists = {k: ticker_list(k, str(values.get(k, "")), known) for k in TICKER_FIELDS}
        kw["no_buy"] = tuple(dict.fromkeys(lists["no_buy"] + lists["locks"]))
        kw["no_sell"] = tuple(dict.fromkeys(lists["no_sell"] + lists["locks"]))
    if kw["min_position"].enabled and kw["max_weight"].enabled and kw["min_position"].value > kw["max_weight"].value:
        raise FieldError("min_position", "Min position: must not be above the name cap.")
    try:
        return replace(base, **kw)
    except ConstraintError as exc:
        raise FieldError("risk_aversion", str(exc)) from exc


# ------------------------------------------------------------------------------ screen
SCREEN_NUMBERS: dict[str, NumberField] = {
    f.id: f
    for f in (
        NumberField("min_market_cap", "Min market cap", " M USD", 1e6, 0.0, 1e7, optional=True),
        NumberField("max_market_cap", "Max market cap", " M USD", 1e6, 0.0, 1e7, optional=True),
        NumberField("min_adv_usd", "Min daily volume", " M USD", 1e6, 0.0, 1e6, optional=True),
        NumberField("min_quality", "Min quality", "", 1.0, 0.0, 100.0, optional=True),
        NumberField("max_price_to_fair_value", "Max price / fair value", "", 1.0, 0.0, 100.0, optional=True),
        NumberField("min_piotroski", "Min Piotroski F", "", 1.0, 0, 9, integer=True, optional=True),
        NumberField("max_fundamentals_age_months", "Max age of the data", " months", 1.0, 0.0, 120.0, optional=True),
        NumberField("min_interest_coverage", "Min interest coverage", " x", 1.0, -100.0, 100.0, optional=True),
        NumberField("max_debt_to_ebitda", "Max debt / EBITDA", " x", 1.0, 0.0, 99.0, optional=True),
    )
}
SCREEN_SWITCHES = {
    "manufacturing": "Manufacturers only",
    "exclude_life_sciences": "No pharma / biotech",
    "only_cheap": "Only below the buy price",
}
Z_ZONES = ("safe", "grey", "distress", "n/a")
#: Valuation assumptions the screen form edits (the rest stay as the screen file sets them).
ASSUMPTION_FIELDS: dict[str, NumberField] = {
    f.id: f
    for f in (
        percent("a-risk_free_rate", "Risk-free rate"),
        percent("a-equity_risk_premium", "Equity risk premium"),
        percent("a-intrinsic_weight", "Weight of intrinsic value"),
    )
}


def flag_names() -> tuple[str, ...]:
    """The red flags a screen can exclude or penalise."""
    from screener.flags import FLAGS

    return tuple(FLAGS)


def penalty_field(flag: str) -> NumberField:
    """The penalty input (points off the composite) of one red flag."""
    return NumberField(f"p-{flag}", flag.replace("_", " "), " points", 1.0, 0.0, 100.0)


def weight_field(factor: str) -> NumberField:
    """The weight input of one ranking factor."""
    return NumberField(f"w-{factor}", FACTORS[factor].label, "", 1.0, 0.0, 100.0)


def form_from_screen(screen: Screen) -> FormValues:
    """The screen form's values for ``screen``."""
    v: FormValues = {}
    for key, fld in SCREEN_NUMBERS.items():
        v[key] = fld.text(screen.filters.get(key))
    for key in SCREEN_SWITCHES:
        v[key] = bool(screen.filters.get(key, False))
    v["z_zones"] = ", ".join(screen.filters.get("z_zones", []))
    v["exclude_flags"] = ", ".join(screen.filters.get("exclude_flags", []))
    v["themes"] = ", ".join(screen.filters.get("themes", []))
    v["max_uncertainty"] = screen.filters.get("max_uncertainty", "any")
    v["peer_group"] = screen.peer_group
    v["missing"] = screen.missing
    for key, fld in ASSUMPTION_FIELDS.items():
        v[key] = fld.text(getattr(screen.assumptions, key[2:]))
    for flag in flag_names():
        v[f"p-{flag}"] = penalty_field(flag).text(screen.penalties.get(flag, 0.0))
    for factor in FACTORS:
        v[f"w-{factor}"] = weight_field(factor).text(screen.weights.get(factor, 0.0))
    return v


def screen_from_form(base: Screen, values: FormValues) -> Screen:
    """A screen from the form (filters the form does not show are kept from ``base``).

    Raises
    ------
    FieldError
        A field is invalid; ``field`` names it.
    """
    filters = dict(base.filters)
    for key, fld in SCREEN_NUMBERS.items():
        value = fld.parse(values.get(key, ""))
        if value is None:
            filters.pop(key, None)
        else:
            filters[key] = value
    for key in SCREEN_SWITCHES:
        if values.get(key):
            filters[key] = True
        else:
            filters.pop(key, None)
    zones = [z.strip().lower() for z in str(values.get("z_zones", "")).split(",") if z.strip()]
    bad = [z for z in zones if z not in Z_ZONES]
    if bad:
        raise FieldError("z_zones", f"Altman zones: {bad[0]!r} is not one of {', '.join(Z_ZONES)}.")
    if zones:
        filters["z_zones"] = zones
    else:
        filters.pop("z_zones", None)
    flags = [f.strip().lower().replace(" ", "_") for f in str(values.get("exclude_flags", "")).split(",") if f.strip()]
    unknown = [f for f in flags if f not in flag_names()]
    if unknown:
        raise FieldError("exclude_flags", f"Exclude red flags: {unknown[0]!r} is not one of {', '.join(flag_names())}.")
    if flags:
        filters["exclude_flags"] = flags
    else:
        filters.pop("exclude_flags", None)
    themes = [t.strip().lower().replace(" ", "_") for t in str(values.get("themes", "")).split(",") if t.strip()]
    if themes:
        filters["themes"] = themes
    else:
        filters.pop("themes", None)
    level = str(values.get("max_uncertainty", "any"))
    if level and level != "any":
        filters["max_uncertainty"] = level
    else:
        filters.pop("max_uncertainty", None)
    changes: dict[str, Any] = {}
    for key, fld in ASSUMPTION_FIELDS.items():
        if key in values:
            value = fld.parse(values[key])
            if value is None:
                raise FieldError(key, f"{fld.label}: enter a number.")
            changes[key[2:]] = value
    try:
        assumptions = replace(base.assumptions, **changes) if changes else base.assumptions
    except (ValueError, ScreenError) as exc:
        raise FieldError(next(iter(ASSUMPTION_FIELDS)), str(exc)) from exc
    penalties = dict(base.penalties)
    if any(f"p-{f}" in values for f in flag_names()):  # the form shows the penalties
        typed = {f: penalty_field(f).parse(values.get(f"p-{f}", "0")) or 0.0 for f in flag_names()}
        penalties = {f: points for f, points in typed.items() if points > 0}
    weights = {f: weight_field(f).parse(values.get(f"w-{f}", "0")) or 0.0 for f in FACTORS}
    if sum(weights.values()) <= 0:
        raise FieldError("w-price_to_fair_value", "Weights: at least one factor needs a weight above 0.")
    try:
        return replace(
            base,
            filters=filters,
            assumptions=assumptions,
            penalties=penalties,
            weights={k: w for k, w in weights.items() if w > 0},
            peer_group=str(values.get("peer_group", base.peer_group)),
            missing=str(values.get("missing", base.missing)),
        )
    except ScreenError as exc:
        field = "themes" if "theme" in str(exc) else "min_market_cap"
        raise FieldError(field, str(exc)) from exc
