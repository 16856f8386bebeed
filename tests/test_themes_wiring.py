"""Themes and the rate-cut tilt in the screen and the optimiser: the shipped thesis screen, the
theme filter, the coverage floor, theme bounds in the portfolio (real snapshot, real solver)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import RotationOptimizer
from optimizer.constraints import ConstraintSettings, Range, load_constraints, settings_to_toml
from optimizer.rotation import InfeasibleError
from screener import ScreenError, evidence, load_screen, run_screen
from screener.themes import tag_themes
from universes import load_universe, open_dataset
from universes.themes import load_themes

THESIS = "energy-transition-rate-cuts"


@pytest.fixture(scope="module")
def tags():
    data = open_dataset()
    return tag_themes(data.companies, data.profiles["business_summary"], load_themes(include_user=False))


@pytest.fixture(scope="module")
def universe():
    return load_universe("us-small-manufacturing")


def test_the_thesis_screen_keeps_sound_energy_transition_manufacturers(universe, tags) -> None:
    result = run_screen(universe, load_screen(THESIS), tags)
    ranked = result.ranked
    assert 1 <= len(ranked) <= 30
    assert ranked["theme_energy_transition"].all() and ranked["manufacturing"].all()
    assert (ranked["interest_coverage"] >= 3).all() and (ranked["debt_to_ebitda"] <= 4).all()
    assert "ARRY" in ranked.index  # the solar-tracker maker filed under SIC 3990
    why = evidence(result, "ARRY")
    assert why["themes"] == "Energy transition"
    assert set(why["rate_cuts"]) >= {"floating_share", "eps_gain_100bp_pct", "interest_coverage", "debt_to_ebitda"}
    assert any(f["factor"] == "rate_cut_gain" for f in why["score"]["factors"])


def test_a_theme_filter_without_tags_says_what_is_missing(universe) -> None:
    with pytest.raises(ScreenError, match="needs the theme tags"):
        run_screen(universe, load_screen(THESIS))


def test_an_unknown_theme_in_a_screen_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[filters]\nthemes = ["biotech"]\n')
    with pytest.raises(ScreenError) as err:
        load_screen(path)
    assert str(path) in str(err.value) and "Valid themes: automation" in str(err.value)


def test_theme_bounds_in_the_portfolio(universe, tags) -> None:
    result = run_screen(universe, load_screen(), tags)
    optimizer = RotationOptimizer(universe, result)
    settings = ConstraintSettings().with_theme("energy_transition", Range(True, 0.10, None))
    solved = optimizer.solve(settings)
    themes = solved.themes.set_index("theme")
    assert set(themes.index) == {"automation", "energy_transition", "medical_devices"}
    assert themes.at["energy_transition", "after"] >= 0.10 - 1e-6
    # the trade list keeps the user's theme minimum after rounding to whole lots, as sectors
    kept = optimizer.solve(ConstraintSettings().with_theme("energy_transition", Range(True, 0.08, None)))
    assert kept.themes.set_index("theme").at["energy_transition", "sent"] >= 0.08 - 1e-9
    assert not [n for n in kept.notes if "cannot hold" in n]
    # 10% is all the theme's candidates can hold: every one at its cap, so whole lots round
    # under it, and the notes say so with the level reached
    assert any(n.startswith("theme energy_transition cannot hold") and "9.99" in n for n in solved.notes)
    low = ConstraintSettings().with_theme("medical_devices", Range(True, None, 0.05))
    capped = optimizer.solve(low).themes.set_index("theme")
    assert capped.at["medical_devices", "sent"] <= 0.05 + 1e-9
    report = solved.constraints.set_index("name")
    assert bool(report.at["theme:energy_transition:min", "binding"])
    free = optimizer.solve(ConstraintSettings())
    assert free.themes.set_index("theme").at["energy_transition", "after"] < 0.10
    with pytest.raises(InfeasibleError, match="energy_transition"):
        optimizer.solve(ConstraintSettings().with_theme("energy_transition", Range(True, 0.9, None)))


def test_theme_bounds_round_trip_through_toml(tmp_path: Path) -> None:
    settings = ConstraintSettings().with_theme("medical_devices", Range(True, None, 0.2))
    path = tmp_path / "c.toml"
    path.write_text(settings_to_toml(settings))
    assert load_constraints(path).themes == {"medical_devices": Range(True, None, 0.2)}
