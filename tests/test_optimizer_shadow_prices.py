"""Shadow prices mean what they say: each one shown agrees with a finite difference.

For every constraint the report prices, the objective is re-solved with the user's setting
loosened by a small step; the change per percentage point must match the shadow price within
5%. Constraints without a level (switches, lists, integer limits) must show none and say why.
Real snapshot, real solver, with and without the integer stage (max names / min position)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from optimizer import ConstraintSettings, Limit, Range, RotationOptimizer, load_constraints
from universes.holdings import Holdings

STEP = 1e-4


def loosen(s: ConstraintSettings, name: str, h: float) -> ConstraintSettings | None:
    """``s`` with the setting behind constraint ``name`` loosened by ``h`` (None: not a level)."""
    if name == "budget":
        return s.change(cash_buffer=s.cash_buffer - h)
    if name == "max_weight":
        return s.change(max_weight=Limit(True, s.max_weight.value + h))
    if name == "turnover":
        return s.change(turnover=Limit(True, s.turnover.value + h))
    if name == "adv":
        return s.change(adv=Limit(True, s.adv.value + h))
    if name == "tracking_error":
        return s.change(tracking_error=Limit(True, s.tracking_error.value + h))
    if name in ("beta:min", "beta:max"):
        lo, hi = s.beta.min, s.beta.max
        return s.change(beta=Range(True, lo - h if name == "beta:min" else lo, hi + h if name == "beta:max" else hi))
    if name.startswith("manufacturing:"):
        m = s.manufacturing
        return s.change(manufacturing=Range(True, m.min - h if name.endswith("min") else m.min, m.max + h if name.endswith("max") and m.max is not None else m.max))
    if name.startswith("sector:"):
        _, sector, side = name.split(":")
        r = s.sectors[sector]
        return s.with_sector(sector, Range(True, r.min - h if side == "min" else r.min, r.max + h if side == "max" else r.max))
    return None


HELD = Holdings(shares=pd.Series({"MCFT": 3000.0, "PLAB": 2000.0, "WNC": 1500.0, "ETD": 1000.0, "KFRC": 400.0, "FF": 4000.0}), cash=400_000.0)
SCENARIOS: dict[str, tuple[Callable[[ConstraintSettings], ConstraintSettings], Holdings | None]] = {
    "defaults": (lambda s: s, None),
    "sector band, tight cap, total risk": (
        lambda s: s.change(
            risk_mode="total", tracking_error=Limit(False, 0.08), beta=Range(False, 0.9, 1.1), max_weight=Limit(True, 0.04),
            sectors={"Utilities": Range(True, None, 0.05), "Industrials": Range(True, 0.10, 0.15)},
        ),
        None,
    ),
    "holdings, turnover, tracking error": (lambda s: s.change(turnover=Limit(True, 0.6), tracking_error=Limit(True, 0.095)), HELD),
    "daily volume and beta": (lambda s: s.change(adv=Limit(True, 0.01), beta=Range(True, 1.0, 1.05), manufacturing=Range(True, 0.8, None)), None),
    "manufacturing and tracking error": (lambda s: s.change(manufacturing=Range(True, 0.95, None), tracking_error=Limit(True, 0.05)), None),
    "sector minimum": (
        lambda s: s.change(risk_mode="total", tracking_error=Limit(False, 0.08), beta=Range(False, 0.9, 1.1), sectors={"Technology": Range(True, 0.3, None)}),
        None,
    ),
    "integer stage": (lambda s: s.change(max_names=Limit(True, 30), min_position=Limit(True, 0.015), max_weight=Limit(True, 0.045)), None),
    "integer stage with holdings": (lambda s: s.change(max_names=Limit(True, 35), min_position=Limit(True, 0.01), turnover=Limit(True, 0.7), tracking_error=Limit(True, 0.1)), HELD),
}


@pytest.fixture(scope="module")
def setup():
    from screener import load_screen, run_screen
    from universes import load_universe

    u = load_universe("us-small-manufacturing")
    return u, run_screen(u, load_screen())


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_shadow_price_shown_matches_a_finite_difference(setup, scenario: str) -> None:
    u, r = setup
    change, holdings = SCENARIOS[scenario]
    s = change(load_constraints())
    opt = RotationOptimizer(u, r, holdings=holdings)
    base = opt.solve(s)
    held = set(base.weights.index[base.weights["weight_after"] > 1e-6])
    checked = 0
    for row in base.constraints.itertuples():
        if not row.enabled:
            continue
        if row.shadow_price is None or pd.isna(row.shadow_price):
            assert row.shadow_price_note, f"{row.name}: no shadow price and no reason"
            continue
        looser = loosen(s, row.name, STEP)
        assert looser is not None, f"{row.name} shows a shadow price but has no level to loosen"
        again = opt.solve(looser)
        if base.integer is not None and set(again.weights.index[again.weights["weight_after"] > 1e-6]) != held:
            continue  # the step changed the selection of names: no derivative to compare
        fd = (again.objective - base.objective) / STEP * 0.01
        assert row.shadow_price == pytest.approx(fd, rel=0.05, abs=2e-7), f"{scenario}: {row.name} shows {row.shadow_price:.3g}, finite difference {fd:.3g}"
        checked += 1
    assert checked >= 2


def test_switches_lists_and_integer_limits_show_none_and_say_why(setup) -> None:
    u, r = setup
    s = load_constraints().change(max_names=Limit(True, 30), min_position=Limit(True, 0.015), no_buy=("MCFT",))
    c = RotationOptimizer(u, r).solve(s).constraints.set_index("name")
    for name in ("long_only", "no_buy", "max_names", "min_position"):
        assert pd.isna(c.loc[name, "shadow_price"]) or c.loc[name, "shadow_price"] is None
        assert c.loc[name, "shadow_price_note"]
