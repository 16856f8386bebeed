"""Results kept between runs (tui.kept): first solves and screens, read back only for the same
inputs and code, identical to a fresh computation, and never in the way of a tweak."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, run_cli

from optimizer import Limit
from tui.kept import KEEP, kept_dir, screen_key
from tui.session import Session


def solves_dir() -> Path:
    return kept_dir() / "solves"


def same_result(a: object, b: object, exact: bool = True) -> None:
    """The same portfolio: bit for bit when read back, to rounding when solved again."""
    pd.testing.assert_frame_equal(a.weights, b.weights, check_exact=exact)  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(a.trades.trades, b.trades.trades, check_exact=exact)  # type: ignore[attr-defined]
    assert a.stats == (b.stats if exact else pytest.approx(b.stats, rel=1e-9, abs=1e-12))  # type: ignore[attr-defined]


def test_a_second_session_of_the_same_inputs_reads_the_first_solve_back() -> None:
    first = Session().solve()
    assert not first.kept and first.result is not None
    assert len(list(solves_dir().glob("*.pickle"))) == 1
    again = Session()
    kept = again.solve()
    assert kept.kept and kept.result is not None
    same_result(kept.result, first.result)
    assert again.is_current and again.holdings_summary.total == pytest.approx(1_000_000)
    assert again._optimizer is None  # nothing compiled for a kept result
    fresh = Session(keep_solves=False).solve()
    assert not fresh.kept
    same_result(fresh.result, first.result)  # a fresh optimiser's first solve: the same bits


def test_any_changed_input_is_solved_afresh(tmp_path: Path) -> None:
    base = Session()
    key = base._solve_key(base.settings)
    tighter = replace(base.settings, max_weight=Limit(True, 0.04))
    assert base._solve_key(tighter) != key
    screen = replace(base.screen, filters={**base.screen.filters, "min_piotroski": 7})
    base.set_screen(screen)
    assert base._solve_key(base.settings) != key
    base.set_screen(Session().screen)
    assert base._solve_key(base.settings) == key  # the same inputs again: the same key
    base.set_capital(500_000)
    assert base._solve_key(base.settings) != key
    base.set_capital(None)
    holdings = tmp_path / "h.csv"
    holdings.write_text("ticker,shares\nMCFT,100\nCASH,1000\n")
    base.set_holdings(str(holdings))
    with_holdings = base._solve_key(base.settings)
    assert with_holdings != key
    holdings.write_text("ticker,shares\nMCFT,101\nCASH,1000\n")  # the same file, one share more
    base.set_holdings(str(holdings))
    assert base._solve_key(base.settings) != with_holdings
    base.set_holdings(None)
    base.set_universe("us-all")
    assert base._solve_key(base.settings) != key
    assert Session(solves_once=True)._solve_key(base.settings) != key


def test_switching_back_to_a_universe_reads_its_kept_solve() -> None:
    session = Session()
    assert not session.solve().kept
    session.set_universe("us-small")
    assert session.start_label  # the app's step 1 shows it before the solve: it must not build the optimiser
    assert not session.solve().kept
    session.set_universe("us-small-manufacturing")
    assert session.holdings_summary.total == pytest.approx(1_000_000)
    assert session.solve().kept


def test_a_kept_solve_is_prepared_then_tweaks_solve_for_real() -> None:
    Session().solve()
    session = Session()
    kept = session.solve()
    assert kept.kept
    session.prepare()
    assert session._optimizer is not None
    tweak = session.solve(replace(session.settings, max_weight=Limit(True, 0.04)))
    assert not tweak.kept and tweak.result is not None
    assert tweak.result.weights["weight_after"].max() <= 0.04 + 1e-6
    back = session.solve(Session().settings)  # the optimiser exists: solved, not read back
    assert not back.kept
    same_result(back.result, kept.result, exact=False)


def test_damaged_files_are_solved_afresh_and_the_folder_is_pruned() -> None:
    Session().solve()
    (path,) = solves_dir().glob("*.pickle")
    path.write_bytes(b"not a pickle")
    outcome = Session().solve()
    assert not outcome.kept and outcome.result is not None
    assert Session().solve().kept  # the damaged file was replaced by the new solve
    for i in range(KEEP['solves'] + 3):
        (solves_dir() / f"{i:064x}.pickle").write_bytes(b"old")
        os.utime(solves_dir() / f"{i:064x}.pickle", (1_000_000 + i, 1_000_000 + i))
    Session(capital=250_000).solve()
    left = list(solves_dir().glob("*.pickle"))
    assert len(left) == KEEP['solves']
    assert path in left  # recently used: kept
    assert not (solves_dir() / f"{0:064x}.pickle").exists()  # the least recently used went first


def test_an_infeasible_first_solve_is_not_kept() -> None:
    settings = replace(Session().settings, max_weight=Limit(True, 0.001))  # 1,000 names would be needed
    outcome = Session(constraints=settings).solve()
    assert outcome.result is None
    assert not list(solves_dir().glob("*.pickle"))


def test_reading_a_kept_solve_imports_no_solver() -> None:
    Session().solve()
    code = (
        "import sys\n"
        "from tui.session import Session\n"
        "outcome = Session().solve()\n"
        "print(outcome.kept, 'cvxpy' in sys.modules, sorted(m for m in sys.modules if m.startswith('scipy')) == [])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "True"]  # no cvxpy, and no scipy at all


def test_rotation_optimize_says_when_it_read_a_kept_solve_and_fresh_solves() -> None:
    first = run_cli("optimize", "--format", "json")
    kept = run_cli("optimize", "--format", "json")
    fresh = run_cli("optimize", "--format", "json", "--fresh")
    docs = [json.loads(r.stdout) for r in (first, kept, fresh)]
    assert [d["kept"] for d in docs] == [False, True, False]
    assert docs[0]["trades"] == docs[1]["trades"] == docs[2]["trades"]
    assert docs[0]["weights"] == docs[1]["weights"]
    text = run_cli("optimize")
    assert text.returncode == 0
    assert "kept from an earlier run of the same inputs; --fresh solves again" in text.stdout.splitlines()[0]


@pytest.mark.app
async def test_the_app_shows_a_kept_first_solve_and_a_tweak_then_solves_for_real() -> None:
    from test_app_defects import loaded, screen_text, settled, wait_for
    from textual.widgets import Input, Switch

    from tui.app import RotationApp

    Session().solve()  # an earlier run of the same inputs
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        assert app.last_outcome is not None and app.last_outcome.kept
        assert "optimal (kept)" in screen_text(app)
        session = app.session
        await wait_for(pilot, lambda: session._optimizer is not None)  # prepared in the worker
        await pilot.press("4")
        i = app.step("constraints").sectors.index("Technology")
        app.query_one(f"#c-sector-{i}-on", Switch).value = True
        before = app.solves
        app.query_one(f"#c-sector-{i}-max", Input).value = "1"
        await settled(pilot, app, before)
        assert not app.last_outcome.kept and app.last_outcome.result is not None
        assert "optimal (kept)" not in screen_text(app)
        await pilot.press("5")
        await pilot.pause(0.2)
        assert "kept from an earlier run" not in screen_text(app)


def test_a_second_session_reads_the_screen_back_bit_for_bit() -> None:
    first = Session(keep_solves=False)
    (path,) = (kept_dir() / "screens").glob("*.pickle")
    again = Session(keep_solves=False)
    pd.testing.assert_frame_equal(again.screened.table, first.screened.table, check_exact=True)
    assert again.screened.screen == first.screened.screen
    # the session really uses the file: a kept table with one company fewer comes back as it is
    trimmed = replace(first.screened, table=first.screened.table.iloc[1:])
    path.write_bytes(pickle.dumps(trimmed))
    assert len(Session(keep_solves=False).screened.table) == len(first.screened.table) - 1
    path.write_bytes(b"not a pickle")  # damaged: screened afresh, and the file replaced
    pd.testing.assert_frame_equal(Session(keep_solves=False).screened.table, first.screened.table, check_exact=True)
    assert len(Session(keep_solves=False).screened.table) == len(first.screened.table)


def test_a_changed_screen_universe_date_or_data_is_screened_afresh(tmp_path: Path) -> None:
    base = Session(keep_solves=False)
    key = screen_key(base.universe, base.screen, base.tags)
    cheaper = replace(base.screen, assumptions=replace(base.screen.assumptions, risk_free_rate=base.screen.assumptions.risk_free_rate + 0.01))
    assert screen_key(base.universe, cheaper, base.tags) != key
    assert screen_key(base.universe, base.screen, None) != key
    earlier = Session(as_of="2022-06-30", keep_solves=False)
    assert screen_key(earlier.universe, base.screen, earlier.tags) != key
    f = base.universe.fundamentals
    row = f[f["ticker"] == "MCFT"].sort_values("fiscal_year").iloc[-1]
    own = tmp_path / "fundamentals.csv"  # MCFT's latest year, its net income doubled
    own.write_text(
        "ticker,fiscal_year,period_end,publish_date,net_income\n"
        f"MCFT,{row['fiscal_year']},{row['period_end'].date()},{row['publish_date'].date()},{2 * row['net_income']}\n"
    )
    mine = Session(fundamentals=str(own), keep_solves=False)
    assert screen_key(mine.universe, base.screen, mine.tags) != key
    assert not mine.screened.table.equals(base.screened.table)
    assert screen_key(Session(keep_solves=False).universe, base.screen, base.tags) == key  # the same inputs: the same key


def test_screen_and_show_print_the_same_from_a_kept_screen() -> None:
    for args in (["screen", "--top", "10"], ["show", "MCFT"]):
        first, again = run_cli(*args), run_cli(*args)
        assert first.returncode == again.returncode == 0, first.stderr + again.stderr
        assert first.stdout == again.stdout
    assert len(list((kept_dir() / "screens").glob("*.pickle"))) >= 1
