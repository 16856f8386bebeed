"""The app's state and forms without the app: validation reasons, workspaces, export safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import ConstraintSettings, Limit, Range
from screener import load_screen
from tui.forms import (
    FieldError,
    form_from_screen,
    form_from_settings,
    screen_from_form,
    settings_from_form,
)
from tui.workbench import USER_ERRORS, Workbench, WorkspaceError

SECTORS = ["Industrials", "Technology", "Utilities"]


def test_constraint_form_round_trips_the_shipped_settings() -> None:
    s = ConstraintSettings()
    assert settings_from_form(s, form_from_settings(s, SECTORS), SECTORS) == s


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("max_weight", "abc", "not a number"),
        ("max_weight", "0", "from 0.01 to 100"),
        ("cash_buffer", "-1", "from 0 to 99"),
        ("max_names", "2.5", "whole number"),
        ("turnover", "", "enter a number"),
        ("sector-1-max", "150", "from 0 to 100"),
    ],
)
def test_constraint_form_refuses_bad_values_at_their_field(field: str, text: str, reason: str) -> None:
    s = ConstraintSettings()
    values = form_from_settings(s, SECTORS)
    values[field] = text
    with pytest.raises(FieldError) as err:
        settings_from_form(s, values, SECTORS)
    assert err.value.field == field
    assert reason in err.value.message


def test_constraint_form_cross_field_checks() -> None:
    s = ConstraintSettings()
    values = form_from_settings(s, SECTORS)
    values.update({"sector-0-on": True, "sector-0-min": "30", "sector-0-max": "20"})
    with pytest.raises(FieldError) as err:
        settings_from_form(s, values, SECTORS)
    assert err.value.field == "sector-0-max"
    values = form_from_settings(s, SECTORS)
    values.update({"min_position-on": True, "min_position": "6"})
    with pytest.raises(FieldError) as err:
        settings_from_form(s, values, SECTORS)
    assert err.value.field == "min_position"


def test_constraint_form_sets_a_sector_bound_in_percent() -> None:
    s = ConstraintSettings()
    values = form_from_settings(s, SECTORS)
    values.update({"sector-1-on": True, "sector-1-max": "7.5"})
    out = settings_from_form(s, values, SECTORS)
    assert out.sectors["Technology"] == Range(True, None, 0.075)
    assert out.sectors["Utilities"] == s.sectors["Utilities"]


def test_screen_form_round_trip_and_refusals() -> None:
    screen = load_screen()
    assert screen_from_form(screen, form_from_screen(screen)) == screen
    values = form_from_screen(screen)
    values["z_zones"] = "safe, bogus"
    with pytest.raises(FieldError, match="bogus"):
        screen_from_form(screen, values)
    values = form_from_screen(screen)
    values["min_market_cap"] = "300"
    assert screen_from_form(screen, values).filters["min_market_cap"] == 300e6
    values = {**form_from_screen(screen), **{k: "0" for k in form_from_screen(screen) if k.startswith("w-")}}
    with pytest.raises(FieldError, match="at least one factor"):
        screen_from_form(screen, values)


@pytest.fixture(scope="module")
def bench() -> Workbench:
    return Workbench()


def test_workspace_round_trip_and_no_silent_overwrite(bench: Workbench, tmp_path: Path) -> None:
    holdings = tmp_path / "h.csv"
    holdings.write_text("ticker,shares\nMCFT,100\nCASH,1000\n")
    bench.set_holdings(str(holdings))
    settings = bench.settings.with_sector("Technology", Range(True, None, 0.1))
    assert bench.solve(settings).result is not None
    path = bench.save_workspace(tmp_path / "ws.toml")
    with pytest.raises(USER_ERRORS, match="already exists"):
        bench.save_workspace(path)
    again = Workbench.from_workspace(path)
    assert again.settings == bench.settings
    assert again.screen == bench.screen
    assert again.holdings is not None and again.holdings.shares["MCFT"] == 100
    bench.set_holdings(None)


def test_bad_workspace_files_say_what_is_wrong(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(WorkspaceError, match="no such workspace"):
        Workbench.from_workspace(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[workspace\n")
    with pytest.raises(WorkspaceError, match="not valid TOML"):
        Workbench.from_workspace(broken)
    odd = tmp_path / "odd.toml"
    odd.write_text('[workspace]\nuniverse = "us-small"\ncolour = "red"\n')
    with pytest.raises(WorkspaceError, match=r"workspace\.colour"):
        Workbench.from_workspace(odd)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[workspace]\nuniverse = "us-tiny"\n')
    with pytest.raises(USER_ERRORS, match="Valid names"):
        Workbench.from_workspace(unknown)


def test_infeasible_solve_keeps_the_last_feasible_portfolio(bench: Workbench) -> None:
    ok = bench.solve(ConstraintSettings())
    assert ok.result is not None
    bad = bench.solve(ConstraintSettings().change(manufacturing=Range(True, 0.99, None)))
    assert bad.result is None and "anufacturing" in bad.error
    assert bench.portfolio is ok.result


def test_an_overtaken_request_never_replaces_a_newer_portfolio(bench: Workbench) -> None:
    old = bench.next_request()
    new = bench.next_request()
    newer = bench.solve(ConstraintSettings().change(max_weight=Limit(True, 0.04)), new)
    assert newer.result is not None
    stale = bench.solve(ConstraintSettings(), old)
    assert stale.error == "superseded" and stale.result is None
    assert bench.portfolio is newer.result and bench.settings.max_weight.value == 0.04
