"""Screen definitions: filters, factor weights, ranking options and valuation assumptions.

A screen is a TOML file::

    name = "Small-cap manufacturers: value + quality"
    description = "..."

    [filters]             # every key optional
    min_market_cap = 3e8
    manufacturing = true
    exclude_life_sciences = true
    z_zones = ["safe", "grey"]
    themes = ["energy_transition"]    # needs theme tags (run_screen's ``tags``)
    min_interest_coverage = 3.0       # the rate-cut tilt's floor: no distress

    [ranking]
    peer_group = "sector"     # or "universe"
    missing = "worst"         # or "neutral"

    [weights]                 # factor -> weight (see screener.ranking.FACTORS)
    price_to_fair_value = 3.0
    piotroski_f = 1.0

    [penalties]               # red flag -> points off the composite (see screener.flags.FLAGS)
    data_integrity = 100.0

    [assumptions]             # see screener.assumptions.ValuationAssumptions
    risk_free_rate = 0.041

An unknown table, filter, factor or assumption is an error that names it and lists the valid
ones. The shipped screens are in ``screener/screens``; users save theirs in
``$ROTATION_HOME/screens`` (or anywhere, by path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from screener.assumptions import RETIRED, UNCERTAINTY_LEVELS, ValuationAssumptions
from screener.flags import FLAGS
from screener.ranking import FACTORS, MISSING_POLICIES, PEER_GROUPS
from universes.errors import UserError
from universes.files import atomic_write_text
from universes.toml_io import read_toml, toml_value

SHIPPED_DIR = Path(__file__).resolve().parent / "screens"
DEFAULT_SCREEN = "small-cap-value-quality"

FILTERS: dict[str, str] = {
    "min_market_cap": "USD, market capitalisation at least",
    "max_market_cap": "USD, market capitalisation at most",
    "sectors": "list of sectors to keep (empty: all)",
    "sic_ranges": "list of [first, last] SIC code ranges to keep",
    "manufacturing": "true: SIC 2000-3999 only",
    "exclude_life_sciences": "true: drop SIC 2833-2836 (pharma, biotech)",
    "min_adv_usd": "USD, average daily dollar volume at least",
    "min_quality": "0-100, quality score at least",
    "max_price_to_fair_value": "price / fair value at most",
    "min_piotroski": "0-9, Piotroski F-score at least",
    "z_zones": "list of Altman zones to keep: safe, grey, distress, n/a",
    "max_fundamentals_age_months": "months, latest fiscal year ended at most this long before the as-of date",
    "exclude_flags": "list of red flags whose companies are dropped: " + ", ".join(FLAGS),
    "only_cheap": "true: only companies priced at or below fair value less the margin of safety their uncertainty rating needs",
    "max_uncertainty": "most uncertain rating kept: " + ", ".join(UNCERTAINTY_LEVELS),
    "themes": "list of themes to keep, any of them (ids from themes.toml: automation, energy_transition, medical_devices, or your own)",
    "min_interest_coverage": "EBIT / net interest expense at least (companies with no net interest to pay pass)",
    "max_debt_to_ebitda": "debt / EBITDA at most (no debt: 0; debt without positive EBITDA: 99)",
}
Z_ZONE_NAMES = ("safe", "grey", "distress", "n/a")
TOP_KEYS = ("name", "description", "filters", "ranking", "weights", "penalties", "assumptions")
RANKING_KEYS = ("peer_group", "missing")


class ScreenError(UserError):
    """A screen file or setting is invalid; the message names it and lists the valid ones."""


@dataclass(frozen=True)
class Screen:
    """A complete screen: what to keep, how to rank, and the valuation assumptions."""

    name: str = "custom"
    description: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] = field(
        default_factory=lambda: {"price_to_fair_value": 1.0, "piotroski_f": 1.0}
    )
    peer_group: str = "sector"
    missing: str = "worst"
    assumptions: ValuationAssumptions = field(default_factory=ValuationAssumptions)
    penalties: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self)

    def with_filters(self, **changes: Any) -> Screen:
        """A copy with some filters changed (``None`` removes a filter)."""
        filters = {**self.filters, **changes}
        return replace(self, filters={k: v for k, v in filters.items() if v is not None})

    def with_weights(self, **changes: float) -> Screen:
        """A copy with some factor weights changed."""
        return replace(self, weights={**self.weights, **changes})

    def with_penalties(self, **changes: float) -> Screen:
        """A copy with some red-flag penalties changed (0 removes one)."""
        penalties = {**self.penalties, **changes}
        return replace(self, penalties={k: v for k, v in penalties.items() if v})


def _unknown(kind: str, name: str, valid: list[str] | tuple[str, ...], where: str) -> ScreenError:
    return ScreenError(f"{where}unknown {kind} {name!r}. Valid {kind}s: {', '.join(valid)}.")


def validate(screen: Screen, where: str = "") -> None:
    """Raise :class:`ScreenError` for any unknown or out-of-range setting."""
    for key, value in screen.filters.items():
        if key not in FILTERS:
            raise _unknown("filter", key, list(FILTERS), where)
        _check_filter(key, value, where)
    for key, w in screen.weights.items():
        if key not in FACTORS:
            raise _unknown("factor", key, list(FACTORS), where)
        if not isinstance(w, int | float) or isinstance(w, bool) or w < 0 or not math.isfinite(w):
            raise ScreenError(f"{where}weight of {key!r} must be a number >= 0, not {w!r}.")
    if screen.weights and sum(screen.weights.values()) <= 0:
        raise ScreenError(f"{where}at least one factor weight must be above 0.")
    for key, points in screen.penalties.items():
        if key not in FLAGS:
            raise _unknown("red flag", key, list(FLAGS), where)
        if not isinstance(points, int | float) or isinstance(points, bool) or not 0 <= points <= 100:
            raise ScreenError(f"{where}penalty of {key!r} must be 0-100 points, not {points!r}.")
    if screen.peer_group not in PEER_GROUPS:
        raise ScreenError(
            f"{where}peer_group must be one of {', '.join(PEER_GROUPS)}, not {screen.peer_group!r}."
        )
    if screen.missing not in MISSING_POLICIES:
        raise ScreenError(
            f"{where}missing must be one of {', '.join(MISSING_POLICIES)}, not {screen.missing!r}."
        )


def _check_filter(key: str, value: Any, where: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if key in ("manufacturing", "exclude_life_sciences"):
        ok = isinstance(value, bool)
    elif key == "sectors":
        ok = isinstance(value, list) and all(isinstance(s, str) for s in value)
    elif key == "z_zones":
        ok = isinstance(value, list) and all(z in Z_ZONE_NAMES for z in value)
    elif key == "exclude_flags":
        ok = isinstance(value, list) and all(f in FLAGS for f in value)
    elif key == "only_cheap":
        ok = isinstance(value, bool)
    elif key == "max_uncertainty":
        ok = value in UNCERTAINTY_LEVELS
    elif key == "themes":
        ok = isinstance(value, list) and all(isinstance(t, str) for t in value)
        if ok:
            _check_themes(value, where)
    elif key == "min_interest_coverage":
        ok = number
    elif key == "sic_ranges":
        ok = isinstance(value, list) and all(
            isinstance(r, list)
            and len(r) == 2
            and all(isinstance(x, int) for x in r)
            and r[0] <= r[1]
            for r in value
        )
    elif key == "min_piotroski":
        ok = number and 0 <= value <= 9
    elif key == "min_quality":
        ok = number and 0 <= value <= 100
    else:
        ok = number and value >= 0
    if not ok:
        raise ScreenError(f"{where}filter {key!r} has an invalid value {value!r} ({FILTERS[key]}).")


def _check_themes(names: list[str], where: str) -> None:
    """Every name is a theme (shipped or the user's), written as its id or as a name that reads
    as its id ("Energy transition" for ``energy_transition``)."""
    from universes.themes import ThemeError, find_theme, load_themes, theme_id

    try:
        themes = load_themes()
        for name in names:
            theme = find_theme(name, themes)
            if theme_id(name) != theme.id:
                raise ScreenError(f"{where}filter 'themes': write {theme.id!r} for {name!r}.")
    except ThemeError as exc:
        raise ScreenError(f"{where}filter 'themes': {exc}") from exc


def theme_columns(names: list[str], table: pd.DataFrame) -> list[str]:
    """The screen table's boolean columns for the themes a filter names.

    Raises
    ------
    ScreenError
        The table has no tags for one of them (the screen ran without theme tags).
    """
    from universes.themes import theme_id

    columns = [f"theme_{theme_id(name)}" for name in names]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ScreenError(
            f"filter 'themes' needs the theme tags ({', '.join(missing)} is not in the screen "
            "table): screen with run_screen(..., tags=tag_themes(...))."
        )
    return columns


def screen_from_dict(data: dict[str, Any], where: str = "") -> Screen:
    """Build a screen from parsed TOML, rejecting anything unknown."""
    for key in data:
        if key not in TOP_KEYS:
            raise _unknown("setting", key, TOP_KEYS, where)
    ranking = data.get("ranking", {})
    for key in ranking:
        if key not in RANKING_KEYS:
            raise _unknown("ranking option", key, RANKING_KEYS, where)
    assumptions_data = data.get("assumptions", {})
    valid_assumptions = ValuationAssumptions.names()
    for key in assumptions_data:
        if key in RETIRED:
            raise ScreenError(
                f"{where}assumption {key!r} is no longer used: {RETIRED[key]}. Remove it."
            )
        if key not in valid_assumptions:
            raise _unknown("assumption", key, valid_assumptions, where)
    try:
        assumptions = ValuationAssumptions(**assumptions_data)
    except (TypeError, ValueError) as exc:
        raise ScreenError(f"{where}invalid assumptions: {exc}.") from exc
    weights = _floats(data.get("weights", {}))
    try:
        return Screen(
            name=str(data.get("name", "custom")),
            description=str(data.get("description", "")),
            filters=dict(data.get("filters", {})),
            weights=weights,
            peer_group=ranking.get("peer_group", "sector"),
            missing=ranking.get("missing", "worst"),
            assumptions=assumptions,
            penalties=_floats(data.get("penalties", {})),
        )
    except ScreenError as exc:
        raise ScreenError(f"{where}{exc}") from exc


def _floats(table: Any) -> Any:
    """Integers of a TOML table as floats (``3`` and ``3.0`` mean the same weight)."""
    if not isinstance(table, dict):
        return table
    return {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in table.items()}


def user_screens_dir() -> Path:
    """Where saved screens go."""
    from universes.datasets import user_data_dir

    return user_data_dir() / "screens"


def available_screens() -> dict[str, Path]:
    """Screen name -> file, shipped first, then the user's saved ones."""
    found = {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}
    user_dir = user_screens_dir()
    if user_dir.is_dir():
        for p in sorted(user_dir.glob("*.toml")):
            found.setdefault(p.stem, p)
    return found


def load_screen(name_or_path: str | Path | None = None) -> Screen:
    """Load a screen by name (shipped or saved) or from a TOML file.

    Raises
    ------
    ScreenError
        Unknown name (lists the valid ones), unreadable file, or invalid contents.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_SCREEN
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.suffix.lower() != ".toml":
        screens = available_screens()
        if text not in screens:
            raise ScreenError(
                f"Unknown screen {text!r}. Valid screens: {', '.join(screens)}; or give a path to a .toml file."
            )
        path = screens[text]
    return screen_from_dict(read_toml(path, ScreenError, "screen"), where=f"{path}: ")


def screen_to_toml(screen: Screen) -> str:
    """The TOML text of a screen (round-trips through :func:`load_screen`)."""
    lines = [
        f"name = {toml_value(screen.name)}",
        f"description = {toml_value(screen.description)}",
        "",
        "[filters]",
    ]
    lines += [f"{k} = {toml_value(v)}" for k, v in screen.filters.items()]
    lines += [
        "",
        "[ranking]",
        f"peer_group = {toml_value(screen.peer_group)}",
        f"missing = {toml_value(screen.missing)}",
    ]
    lines += ["", "[weights]"] + [
        f"{k} = {toml_value(float(v))}" for k, v in screen.weights.items()
    ]
    lines += ["", "[penalties]"] + [
        f"{k} = {toml_value(float(v))}" for k, v in screen.penalties.items()
    ]
    lines += ["", "[assumptions]"] + [
        f"{k} = {toml_value(v)}" for k, v in screen.assumptions.as_dict().items()
    ]
    return "\n".join(lines) + "\n"


def save_screen(screen: Screen, path: str | Path | None = None) -> Path:
    """Save a screen as TOML (default: ``$ROTATION_HOME/screens/<name>.toml``)."""
    target = (
        Path(path).expanduser()
        if path is not None
        else user_screens_dir() / f"{_slug(screen.name)}.toml"
    )
    atomic_write_text(target, screen_to_toml(screen))
    return target


def _slug(name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower()).strip("-")
    return slug or "screen"


def apply_filters(table: pd.DataFrame, filters: dict[str, Any]) -> pd.Series:
    """Which rows of a screen table pass every filter (a boolean Series)."""
    keep = pd.Series(True, index=table.index)
    f = filters
    if "min_market_cap" in f:
        keep &= table["market_cap"] >= f["min_market_cap"]
    if "max_market_cap" in f:
        keep &= table["market_cap"] <= f["max_market_cap"]
    if f.get("sectors"):
        keep &= table["sector"].isin(f["sectors"])
    if f.get("sic_ranges"):
        sic = table["sic"].astype("float64")
        any_range = pd.Series(False, index=table.index)
        for lo, hi in f["sic_ranges"]:
            any_range |= (sic >= lo) & (sic <= hi)
        keep &= any_range
    if f.get("manufacturing"):
        keep &= table["manufacturing"]
    if f.get("exclude_life_sciences"):
        keep &= ~table["life_sciences"]
    if "min_adv_usd" in f:
        keep &= table["adv_usd"] >= f["min_adv_usd"]
    if "min_quality" in f:
        keep &= table["quality"] >= f["min_quality"]
    if "max_price_to_fair_value" in f:
        keep &= table["price_to_fair_value"] <= f["max_price_to_fair_value"]
    if "min_piotroski" in f:
        keep &= table["piotroski_f"] >= f["min_piotroski"]
    if f.get("z_zones"):
        keep &= table["z_zone"].isin(f["z_zones"])
    if "max_fundamentals_age_months" in f and "fundamentals_age_months" in table.columns:
        keep &= table["fundamentals_age_months"] <= f["max_fundamentals_age_months"]
    for flag in f.get("exclude_flags", []):
        keep &= ~table[f"flag_{flag}"]
    if f.get("only_cheap"):
        keep &= table["cheap"]
    if "max_uncertainty" in f:
        allowed = UNCERTAINTY_LEVELS[: UNCERTAINTY_LEVELS.index(f["max_uncertainty"]) + 1]
        keep &= table["uncertainty"].isin(allowed)
    if f.get("themes"):
        keep &= table[theme_columns(f["themes"], table)].any(axis=1)
    if "min_interest_coverage" in f:
        keep &= table["interest_coverage"] >= f["min_interest_coverage"]
    if "max_debt_to_ebitda" in f:
        keep &= table["debt_to_ebitda"] <= f["max_debt_to_ebitda"]
    return keep.fillna(False).astype(bool)
