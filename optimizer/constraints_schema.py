"""The typed schema of a constraints file (``optimizer/constraints.toml`` and the user's own).

Strict types (a string is not a boolean, a scalar is not a table, a text is not a list), no
unknown key, finite numbers, ranges checked, sector and theme names checked with close
matches; every problem becomes one line naming the file, the table and the key, the value found
and what was expected (:mod:`universes.validation`). Cross-field rules (a minimum above its
maximum, a minimum position above the name cap) are checked afterwards by
:class:`optimizer.constraints.ConstraintSettings` itself.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, create_model

from universes.catalog import SECTORS
from universes.validation import NonNegative, Schema, one_of

Fraction = Annotated[float, Field(ge=0, le=1)]
Bound = Annotated[float, Field(ge=0, le=1)] | None


def _theme_id(name: str) -> str:
    from universes.themes import load_themes

    ids = [t.id for t in load_themes()]
    return one_of(ids, "theme")(name)


class RangeTable(Schema):
    """``enabled``, ``min`` and ``max`` (fractions; either bound may be left out)."""

    enabled: bool = Field(default=True, description="true or false")
    min: Bound = Field(default=None, description="a fraction, 0-1")
    max: Bound = Field(default=None, description="a fraction, 0-1")


class BetaTable(Schema):
    """The beta band: ``enabled``, ``min``, ``max`` (betas, -5 to 5)."""

    enabled: bool = Field(default=True, description="true or false")
    min: Annotated[float, Field(ge=-5, le=5)] | None = Field(default=None, description="a beta, -5 to 5")
    max: Annotated[float, Field(ge=-5, le=5)] | None = Field(default=None, description="a beta, -5 to 5")


def _limit(name: str, key: str, low: float, high: float, what: str, whole: bool = False) -> type[Schema]:
    kind: Any = Annotated[int, Field(ge=int(low), le=int(high))] if whole else Annotated[float, Field(ge=low, le=high)]
    return create_model(  # type: ignore[call-overload]
        f"{name.title().replace('_', '')}Table",
        __base__=Schema,
        enabled=(bool, Field(default=True, description="true or false")),
        **{key: (kind | None, Field(default=None, description=what))},
    )


class LongOnlyTable(Schema):
    enabled: bool = Field(default=True, description="true or false")


class TickerList(Schema):
    tickers: list[str] = Field(default_factory=list, description='a list of tickers in brackets, ["MCFT", "PLAB"]')


class TradesTable(Schema):
    lot_size: Annotated[int, Field(ge=1, le=1_000_000)] = Field(default=1, description="whole shares per lot, 1 or more")
    min_trade_usd: Annotated[float, Field(ge=0, le=1e12)] = Field(default=500.0, description="USD, 0 or more")


class CostsTable(Schema):
    commission_bps: NonNegative | None = Field(default=None, description="basis points, 0 or more")
    half_spread_bps: NonNegative | None = Field(default=None, description="basis points, 0 or more")
    min_half_spread_bps: NonNegative | None = Field(default=None, description="basis points, 0 or more")
    max_half_spread_bps: NonNegative | None = Field(default=None, description="basis points, 0 or more")
    impact: bool | None = Field(default=None, description="true or false")
    impact_coefficient: Annotated[float, Field(ge=0, le=100)] | None = Field(default=None, description="0-100")
    holding_years: Annotated[float, Field(ge=0.1, le=50)] | None = Field(default=None, description="years, 0.1-50")


SectorName = Annotated[str, AfterValidator(one_of(SECTORS, "sector"))]
ThemeName = Annotated[str, AfterValidator(_theme_id)]


class ConstraintsFile(Schema):
    """A whole constraints file (or a workspace's ``[constraints]`` table)."""

    noun: ClassVar[str] = "setting"
    risk_aversion: Annotated[float, Field(ge=0, le=1e4)] | None = Field(default=None, description="0-10000")
    risk_mode: Annotated[str, AfterValidator(one_of(("active", "total"), "risk mode"))] | None = None
    cash_buffer: Annotated[float, Field(ge=0, le=0.99)] | None = Field(default=None, description="a fraction, 0-0.99")
    alpha_ic: Fraction | None = Field(default=None, description="a fraction, 0-1")
    buy_negative_alpha: bool | None = Field(default=None, description="true or false")
    risk_model: Annotated[str, AfterValidator(one_of(("factor", "dense"), "risk model"))] | None = None
    lookback_days: Annotated[int, Field(ge=40, le=756)] | None = Field(default=None, description="whole sessions, 40-756")
    beta_lookback_days: Annotated[int, Field(ge=60, le=1260)] | None = Field(default=None, description="whole sessions, 60-1260")
    max_candidates: Annotated[int, Field(ge=0)] | None = Field(default=None, description="a whole number, 0 or more")
    long_only: LongOnlyTable | None = Field(default=None, description="a table: [long_only] enabled = true")
    max_weight: _limit("max_weight", "value", 1e-4, 1, "a fraction, 0.0001-1") | None = Field(default=None, description="a table: enabled, value")  # type: ignore[valid-type]
    turnover: _limit("turnover", "max", 0, 2, "a fraction, 0-2") | None = Field(default=None, description="a table: enabled, max")  # type: ignore[valid-type]
    adv: _limit("adv", "max_fraction", 1e-4, 10, "a fraction of daily volume, 0.0001-10") | None = Field(default=None, description="a table: enabled, max_fraction")  # type: ignore[valid-type]
    tracking_error: _limit("tracking_error", "max", 1e-4, 1, "a fraction a year, 0.0001-1") | None = Field(default=None, description="a table: enabled, max")  # type: ignore[valid-type]
    max_names: _limit("max_names", "value", 1, 100_000, "a whole number, 1 or more", whole=True) | None = Field(default=None, description="a table: enabled, value")  # type: ignore[valid-type]
    min_position: _limit("min_position", "value", 0, 1, "a fraction, 0-1") | None = Field(default=None, description="a table: enabled, value")  # type: ignore[valid-type]
    manufacturing: RangeTable | None = Field(default=None, description="a table: enabled, min, max")
    beta: BetaTable | None = Field(default=None, description="a table: enabled, min, max")
    sectors: dict[SectorName, RangeTable] | None = Field(default=None, description="one table per sector: [sectors.Utilities] enabled, min, max")
    themes: dict[ThemeName, RangeTable] | None = Field(default=None, description="one table per theme id: [themes.energy_transition] enabled, min, max")
    no_buy: TickerList | None = Field(default=None, description='a table: [no_buy] tickers = ["..."]')
    no_sell: TickerList | None = Field(default=None, description='a table: [no_sell] tickers = ["..."]')
    trades: TradesTable | None = Field(default=None, description="a table: lot_size, min_trade_usd")
    costs: CostsTable | None = Field(default=None, description="a table: commission_bps, half_spread_bps, ...")
