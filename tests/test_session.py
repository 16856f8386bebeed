"""The session core and the forms, without the app: validation reasons, workspaces, capital,
export safety."""

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
from tui.session import Session, WorkspaceError
from universes.errors import UserError

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
def session() -> Session:
    return Session()


def test_workspace_round_trip_and_no_silent_overwrite(session: Session, tmp_path: Path) -> None:
    holdings = tmp_path / "h.csv"
    holdings.write_text("ticker,shares\nMCFT,100\nCASH,1000\n")
    session.set_holdings(str(holdings))
    settings = session.settings.with_sector("Technology", Range(True, None, 0.1))
    assert session.solve(settings).result is not None
    path = session.save_workspace(tmp_path / "ws.toml")
    with pytest.raises(UserError, match="already exists"):
        session.save_workspace(path)
    again = Session.from_workspace(path)
    assert again.settings == session.settings
    assert again.screen == session.screen
    assert again.holdings is not None and again.holdings.shares["MCFT"] == 100
    session.set_holdings(None)


def test_bad_workspace_files_say_what_is_wrong(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(WorkspaceError, match="no such workspace"):
        Session.from_workspace(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[workspace\n")
    with pytest.raises(WorkspaceError, match="not valid TOML"):
        Session.from_workspace(broken)
    odd = tmp_path / "odd.toml"
    odd.write_text('[workspace]\nuniverse = "us-small"\ncolour = "red"\n')
    with pytest.raises(WorkspaceError, match=r"\[workspace\] unknown setting 'colour'"):
        Session.from_workspace(odd)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[workspace]\nuniverse = "us-tiny"\n')
    with pytest.raises(UserError, match="Valid names"):
        Session.from_workspace(unknown)


def test_infeasible_solve_keeps_the_last_feasible_portfolio(session: Session) -> None:
    ok = session.solve(ConstraintSettings())
    assert ok.result is not None
    bad = session.solve(ConstraintSettings().change(manufacturing=Range(True, 0.99, None)))
    assert bad.result is None and "anufacturing" in bad.error
    assert session.portfolio is ok.result


def test_an_overtaken_request_never_replaces_a_newer_portfolio(session: Session) -> None:
    old = session.next_request()
    new = session.next_request()
    newer = session.solve(ConstraintSettings().change(max_weight=Limit(True, 0.04)), new)
    assert newer.result is not None
    stale = session.solve(ConstraintSettings(), old)
    assert stale.error == "superseded" and stale.result is None
    assert session.portfolio is newer.result and session.settings.max_weight.value == 0.04


def test_a_session_that_solves_once_gives_the_same_portfolio_and_trades() -> None:
    import pandas as pd

    session, once = Session(), Session(solves_once=True)  # fresh: other tests change the shared one
    assert once.optimizer.solver.substitute_first and not session.optimizer.solver.substitute_first
    a, b = session.solve().result, once.solve().result
    assert a is not None and b is not None
    pd.testing.assert_frame_equal(a.weights, b.weights, check_exact=False, rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(a.trades.trades, b.trades.trades)
    again = once.solve(once.settings.change(max_weight=Limit(True, 0.04)))  # a second solve: parametrised
    assert again.result is not None and again.result.weights["weight_after"].max() <= 0.04 + 1e-6
