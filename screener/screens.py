"""Screen definitions: filters, factor weights, ranking options and valuation assumptions.

A screen is a TOML file::

    name = "Small-cap manufacturers: value + quality"
    description = "..."

    [filters]             # every key optional
    min_market_cap = 3e8
    manufacturing = true
    exclude_life_sciences = true
    z_zones = ["safe", "grey"]

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

A screen file is checked against :class:`ScreenFile` (see :mod:`universes.validation`): an
unknown table, filter, factor, red flag or assumption is an error that names it with close
matches and lists the valid ones; a value of the wrong type (``"1"`` for a number, ``"false"``
or ``1`` for a boolean, a number where a table or list belongs), NaN, an infinity or a value out
of range is an error naming the file, the table and the key. ``[weights]`` is required: a file
without it (an empty file too) is refused rather than ranked on weights it never gave. Screens
built in code (:class:`Screen`) pass the same schema. The shipped screens are in
``screener/screens``; users save theirs in ``$ROTATION_HOME/screens`` (or anywhere, by path).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pandas as pd
from pydantic import AfterValidator, Field, create_model, model_validator

from screener.assumptions import RETIRED, UNCERTAINTY_LEVELS, ValuationAssumptions
from screener.flags import FLAGS
from screener.ranking import FACTORS, MISSING_POLICIES, PEER_GROUPS
from universes.catalog import SectorNames, SicRanges
from universes.errors import UserError
from universes.files import atomic_write_text
from universes.toml_io import read_toml, toml_value
from universes.validation import NonNegative, Schema, one_of, validate

SHIPPED_DIR = Path(__file__).resolve().parent / "screens"
DEFAULT_SCREEN = "small-cap-value-quality"

FILTERS: dict[str, str] = {
    "min_market_cap": "USD, market capitalisation at least",
    "max_market_cap": "USD, market capitalisation at most",
    "sectors": "list of sectors to keep (empty: all)",
    "sic_ranges": "list of [first, last] SIC code ranges to keep, e.g. [[2000, 3999]]",
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
#: The largest factor weight (weights are relative; the app's form takes 0-100 too).
MAX_WEIGHT = 100.0


class ScreenError(UserError):
    """A screen file or setting is invalid; the message names it and lists the valid ones."""


# ----------------------------------------------------------------------------- the schema
def _about(key: str) -> Any:
    return Field(default=None, description=FILTERS[key])


def _theme_name(name: str) -> str:
    """A theme's id (shipped or the user's); a name that reads as an id gets the id to write."""
    from universes.themes import ThemeError, find_theme, load_themes, theme_id

    try:
        theme = find_theme(name, load_themes())
    except ThemeError as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    if theme_id(name) != theme.id:
        raise ValueError(f"write {theme.id!r} for {name!r}")
    return name


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


class ScreenFilters(Schema):
    """The ``[filters]`` table: every key optional (see :data:`FILTERS`)."""

    noun: ClassVar[str] = "filter"
    min_market_cap: NonNegative | None = _about("min_market_cap")
    max_market_cap: NonNegative | None = _about("max_market_cap")
    sectors: SectorNames | None = _about("sectors")
    sic_ranges: SicRanges | None = _about("sic_ranges")
    manufacturing: bool | None = _about("manufacturing")
    exclude_life_sciences: bool | None = _about("exclude_life_sciences")
    min_adv_usd: NonNegative | None = _about("min_adv_usd")
    min_quality: Annotated[float, Field(ge=0, le=100)] | None = _about("min_quality")
    max_price_to_fair_value: NonNegative | None = _about("max_price_to_fair_value")
    min_piotroski: Annotated[float, Field(ge=0, le=9)] | None = _about("min_piotroski")
    z_zones: list[Annotated[str, AfterValidator(one_of(Z_ZONE_NAMES, "Altman zone"))]] | None = (
        _about("z_zones")
    )
    max_fundamentals_age_months: NonNegative | None = _about("max_fundamentals_age_months")
    exclude_flags: list[Annotated[str, AfterValidator(one_of(FLAGS, "red flag"))]] | None = (
        _about("exclude_flags")
    )
    only_cheap: bool | None = _about("only_cheap")
    max_uncertainty: (
        Annotated[str, AfterValidator(one_of(UNCERTAINTY_LEVELS, "uncertainty rating"))] | None
    ) = _about("max_uncertainty")
    themes: list[Annotated[str, AfterValidator(_theme_name)]] | None = _about("themes")
    min_interest_coverage: Annotated[float, Field(ge=-100, le=100)] | None = _about("min_interest_coverage")
    max_debt_to_ebitda: NonNegative | None = _about("max_debt_to_ebitda")


class _FactorTable(Schema):
    noun: ClassVar[str] = "factor"

    @model_validator(mode="after")
    def _some_weight(self) -> _FactorTable:
        if not any(w for w in self.model_dump().values() if w):
            raise ValueError("at least one factor weight must be above 0")
        return self


class _FlagTable(Schema):
    noun: ClassVar[str] = "red flag"


Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]
Points = Annotated[float, Field(ge=0, le=100)]
#: The ``[weights]`` table: factor -> weight 0-100, at least one above 0.
ScreenWeights: type[Schema] = create_model(  # type: ignore[call-overload]
    "ScreenWeights",
    __base__=_FactorTable,
    **{
        name: (Weight | None, Field(default=None, description=f"{factor.label}, weight 0-{MAX_WEIGHT:g}"))
        for name, factor in FACTORS.items()
    },
)
#: The ``[penalties]`` table: red flag -> points off the composite, 0-100.
ScreenPenalties: type[Schema] = create_model(  # type: ignore[call-overload]
    "ScreenPenalties",
    __base__=_FlagTable,
    **{
        name: (Points | None, Field(default=None, description="points off the composite, 0-100"))
        for name in FLAGS
    },
)


class ScreenRanking(Schema):
    """The ``[ranking]`` table."""

    noun: ClassVar[str] = "ranking option"
    peer_group: Annotated[str, AfterValidator(one_of(PEER_GROUPS, "peer group"))] = "sector"
    missing: Annotated[str, AfterValidator(one_of(MISSING_POLICIES, "missing-data policy"))] = "worst"


_ASSUMPTION_TYPES = {bool: bool, int: int, float: float, str: str, tuple: list[float]}


class _AssumptionTable(Schema):
    noun: ClassVar[str] = "assumption"

    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data: Any) -> Any:
        for key in data if isinstance(data, dict) else ():
            if key in RETIRED:
                raise ValueError(f"assumption {key!r} is no longer used: {RETIRED[key]}. Remove it")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> _AssumptionTable:
        try:
            ValuationAssumptions(**self.model_dump(exclude_none=True))
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        return self


#: The ``[assumptions]`` table: any of :class:`ValuationAssumptions`' fields.
ScreenAssumptions: type[Schema] = create_model(  # type: ignore[call-overload]
    "ScreenAssumptions",
    __base__=_AssumptionTable,
    **{f.name: (_ASSUMPTION_TYPES[type(f.default)] | None, None) for f in fields(ValuationAssumptions)},
)


class ScreenFile(Schema):
    """A whole screen file (or a workspace's ``[screen]`` table).

    ``[weights]`` is required: a screen without weights would rank every company 0 and fall
    back to alphabetical order, so it is refused rather than given weights silently.
    """

    name: str = "custom"
    description: str = ""
    filters: ScreenFilters | None = Field(default=None, description="a [filters] table: filter = value")
    ranking: ScreenRanking | None = Field(
        default=None, description='a [ranking] table: peer_group = "sector", missing = "worst"'
    )
    weights: ScreenWeights = Field(  # type: ignore[valid-type]
        description="a screen needs one, giving at least one factor a weight above 0 (factor = "
        f"weight, 0-{MAX_WEIGHT:g}); factors: " + ", ".join(FACTORS)
    )
    penalties: ScreenPenalties | None = Field(  # type: ignore[valid-type]
        default=None, description="a [penalties] table: red flag = points, 0-100"
    )
    assumptions: ScreenAssumptions | None = Field(  # type: ignore[valid-type]
        default=None, description="an [assumptions] table: assumption = value"
    )


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
        check_screen(self)

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


def check_screen(screen: Screen, file: str | Path | None = None) -> None:
    """Raise :class:`ScreenError` for any unknown, mistyped or out-of-range setting of a screen."""
    validate(
        ScreenFile,
        {
            "name": screen.name,
            "description": screen.description,
            "filters": screen.filters,
            "ranking": {"peer_group": screen.peer_group, "missing": screen.missing},
            "weights": screen.weights,
            "penalties": screen.penalties,
        },
        ScreenError,
        file,
    )


def screen_from_dict(data: Any, file: str | Path | None = None, table: str = "") -> Screen:
    """Build a screen from parsed TOML, refusing anything unknown, mistyped or out of range.

    Parameters
    ----------
    data : dict
        The parsed file (or a workspace's ``[screen]`` table).
    file : str or pathlib.Path, optional
        Where it came from, named in messages.
    table : str
        Where ``data`` sits in that file (``"screen"`` in a workspace).

    Raises
    ------
    ScreenError
        Naming the file, table and key, the value found and what was expected (see
        :mod:`universes.validation`); a file without ``[weights]`` (an empty file too) is
        refused.
    """
    checked = validate(ScreenFile, data, ScreenError, file, table)
    ranking = checked.ranking or ScreenRanking()
    return Screen(
        name=checked.name,
        description=checked.description,
        filters=dict(data.get("filters", {})),
        weights=_floats(data["weights"]),
        peer_group=ranking.peer_group,
        missing=ranking.missing,
        assumptions=ValuationAssumptions(**data.get("assumptions", {})),
        penalties=_floats(data.get("penalties", {})),
    )


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
    return screen_from_dict(read_toml(path, ScreenError, "screen"), path)


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
