"""The terminal app, driven with Textual's Pilot as a person would: keys, typing, dialogs.

One app session walks the whole journey (loading the real snapshot takes a few seconds, so the
steps share it): every step by its key, a sector bound that must hold in the new portfolio, a
value refused at its field, an infeasible change with its diagnosis and the kept portfolio,
search and sort of the screen, and the export read back from the written workbook.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_app_defects import type_into, wait_for
from textual.widgets import DataTable, Input, Static, Switch

from tui.app import RotationApp
from tui.app.dialogs import ChoiceDialog, ConfirmDialog, PathDialog

pytestmark = pytest.mark.app


async def answer_path_dialog(pilot, app: RotationApp, key: str, path: Path) -> None:
    """Press ``key``, type ``path`` into the dialog that opens, and confirm it."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
    await type_into(pilot, app.screen, "#dialog-path", str(path))
    await pilot.press("enter")


async def solved_after(pilot, app: RotationApp, before: int) -> None:
    await wait_for(pilot, lambda: app.solves > before and app.session is not None and app.session.is_latest(app.last_outcome.request) and not app.busy)


def sector_row(app: RotationApp, sector: str) -> int:
    return app.step("constraints").sectors.index(sector)


async def test_journey_from_universe_to_exported_trade_list(tmp_path: Path) -> None:
    """A person's first session: universe, holdings, screen, constraints, infeasible, fixed,
    exported, saved, reopened."""
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("ticker,shares\nMCFT,300\nPLAB,200\nCASH,20000\n")
    app = RotationApp()
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: app.solves >= 1)
        bench = app.session
        assert bench is not None and bench.portfolio is not None
        assert app.last_outcome.error == ""

        # Step 1: another universe and back, then the holdings and new cash.
        from textual.widgets import Select

        await pilot.press("1")
        before = app.solves
        app.query_one("#universe-select", Select).value = "us-small"
        await wait_for(pilot, lambda: app.session.universe.name == "us-small" and app.solves > before and not app.busy)
        before = app.solves
        app.query_one("#universe-select", Select).value = "us-small-manufacturing"
        await wait_for(pilot, lambda: app.session.universe.name == "us-small-manufacturing" and app.solves > before and not app.busy)
        before = app.solves
        await type_into(pilot, app, "#holdings-path", str(holdings))
        await pilot.press("enter")
        await solved_after(pilot, app, before)
        before = app.solves
        await type_into(pilot, app, "#capital", "100k")
        await pilot.press("enter")
        await solved_after(pilot, app, before)
        start = bench.holdings_summary
        assert start.positions == 2 and start.cash == 20000 and start.new_cash == 100000
        assert bench.portfolio.trades.portfolio_value == pytest.approx(start.total)

        for key, step in zip("123456", ("universe", "screen", "company", "constraints", "portfolio", "trades"), strict=True):
            await pilot.press(key)
            await pilot.pause()
            assert app.query_one("#steps").active == step

        # Step 1 shows the universe and its sector mix.
        info = str(app.query_one("#universe-info", Static).render())
        assert "us-small-manufacturing" in info and "2024-03-08" in info
        assert app.query_one("#sector-mix", DataTable).row_count >= 5

        # Step 2: the ranked table, then search and sort.
        await pilot.press("2")
        table = app.query_one("#screen-table", DataTable)
        assert table.row_count == len(bench.screened.ranked)
        await pilot.press("slash")
        await pilot.press(*"inc")
        await pilot.pause()
        shown = [table.get_row_at(i) for i in range(table.row_count)]
        assert 0 < len(shown) < len(bench.screened.ranked)
        col = [c.key.value for c in table.ordered_columns].index("ticker")
        assert all("inc" in (str(row[col]) + str(bench.screened.table.loc[str(row[col]), "name"])).lower() for row in shown)
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == len(bench.screened.ranked)
        app.query_one("#screen-table", DataTable).focus()
        ticker_col = [c.key.value for c in table.ordered_columns].index("ticker")
        await pilot.press("s")  # a menu of the columns: pick Ticker
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        choice = [k for k in app.step("screen").columns if k != "mark"].index("ticker")
        await pilot.press("home", *["down"] * choice, "enter")
        await pilot.pause()
        tickers = [str(table.get_row_at(i)[ticker_col]) for i in range(table.row_count)]
        assert tickers == sorted(tickers)
        step = app.step("screen")
        step.sort_by("price_to_fair_value")
        await pilot.pause()
        assert step.sort_column == "price_to_fair_value"
        ratios = bench.screened.ranked.loc[[str(table.get_row_at(i)[ticker_col]) for i in range(table.row_count)], "price_to_fair_value"]
        assert ratios.dropna().is_monotonic_increasing

        # Step 3: the evidence for the highlighted company.
        table.move_cursor(row=0)
        await pilot.press("3")
        await pilot.pause(0.5)
        head = str(app.query_one("#company-head", Static).render())
        first = str(table.get_row_at(0)[ticker_col])
        assert first in head
        assert "Fair value" in str(app.query_one("#company-fv-head", Static).render())
        assert app.query_one("#company-piotroski", DataTable).row_count == 9
        assert app.query_one("#company-fv", DataTable).row_count >= 4

        # Step 4: cap Technology at 5% and see the new portfolio respect it.
        await pilot.press("4")
        i = sector_row(app, "Technology")
        before = app.solves
        app.query_one(f"#c-sector-{i}-on", Switch).focus()
        await pilot.press("enter")
        await type_into(pilot, app, f"#c-sector-{i}-max", "5")
        await solved_after(pilot, app, before)
        result = app.last_outcome.result
        assert result is not None
        tech = result.sectors.set_index("sector").loc["Technology", "after"]
        assert tech <= 0.05 + 1e-6
        assert bench.settings.sectors["Technology"].max == pytest.approx(0.05)
        await pilot.press("escape", "6")  # the trade list, painted when its step is shown
        await pilot.pause()
        assert app.query_one("#trade-table", DataTable).row_count == len(result.trades.trades)
        await pilot.press("4")
        await pilot.pause()

        # A value that is not a number is refused at its field, and nothing re-solves.
        before = app.solves
        await type_into(pilot, app, "#c-max_weight", "abc")
        await pilot.pause(0.3)
        assert "not a number" in str(app.query_one("#cerr-max_weight", Static).render())
        assert app.query_one("#c-max_weight", Input).has_class("invalid")
        assert app.solves == before
        await type_into(pilot, app, "#c-max_weight", "5")  # back to the value in force:
        await pilot.pause(0.3)  # the error goes, and there is nothing new to solve
        assert str(app.query_one("#cerr-max_weight", Static).render()) == ""
        assert app.solves == before

        # Infeasible: every dollar in manufacturers but a 2% cash buffer leaves 98% to invest.
        before = app.solves
        await type_into(pilot, app, "#c-manufacturing-min", "100")
        await solved_after(pilot, app, before)
        assert app.last_outcome.result is None
        await pilot.press("escape", "5")
        await pilot.pause()
        diagnosis = app.query_one("#diagnosis", Static)
        assert not diagnosis.has_class("hidden")
        text = str(diagnosis.render())
        assert "anufacturing" in text and "last feasible portfolio" in text and "earlier settings" in text
        kept = bench.portfolio  # the last feasible one (typing "1", "10" on the way solved too)
        assert kept is not None and kept.settings.manufacturing.min < 1.0
        shown = kept.positions()
        assert app.query_one("#weights", DataTable).row_count == len(shown) + 1  # and the cash row

        await pilot.press("4")
        before = app.solves
        await type_into(pilot, app, "#c-manufacturing-min", "50")
        await solved_after(pilot, app, before)
        assert app.last_outcome.result is not None
        await pilot.press("escape", "5")
        await pilot.pause()
        assert app.query_one("#diagnosis", Static).has_class("hidden")

        # Step 6: export, read the workbook back, and ask before replacing it.
        await pilot.press("escape", "6")
        assert app.query_one("#steps").active == "trades"
        out = tmp_path / "trades.xlsx"
        await answer_path_dialog(pilot, app, "e", out)
        await wait_for(pilot, lambda: out.exists() and out.with_name("trades.basket.csv").exists())
        expected = bench.portfolio.trades.trades
        sheet = pd.read_excel(out, sheet_name="Trades")
        assert list(sheet["Ticker"]) == list(expected["ticker"])
        assert list(sheet["Shares"]) == list(expected["shares"])
        assert {"Summary", "Trades", "Portfolio", "Screen", "Constraints", "Sources"} <= set(pd.ExcelFile(out).sheet_names)

        stamp = out.stat().st_mtime_ns
        await answer_path_dialog(pilot, app, "e", out)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await pilot.pause(0.3)
        assert out.stat().st_mtime_ns == stamp
        await answer_path_dialog(pilot, app, "e", out)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: out.stat().st_mtime_ns != stamp)

        summary = pd.read_excel(out, sheet_name="Summary", header=None)
        labels = dict(zip(summary[0].astype(str), summary[1], strict=False))
        assert "holdings.csv" in str(labels["Holdings"]) and "new cash" in str(labels["Holdings"])
        assert "changed in the app" in str(labels["Constraints"])

        # Save the workspace, change something, and reopen it in the app.
        ws = tmp_path / "work.toml"
        await answer_path_dialog(pilot, app, "ctrl+s", ws)
        await wait_for(pilot, ws.exists)
        saved_settings, saved_filters = bench.settings, dict(bench.screen.filters)
        await pilot.press("4")
        await type_into(pilot, app, "#c-max_weight", "4")
        await wait_for(pilot, lambda: app.session.settings.max_weight.value == pytest.approx(0.04) and not app.busy)
        await pilot.press("escape")
        await answer_path_dialog(pilot, app, "ctrl+o", ws)
        await wait_for(pilot, lambda: app.session is not bench and app.session.latest is not None and not app.busy)
        reopened = app.session
        assert reopened.settings == saved_settings
        assert reopened.screen.filters == saved_filters
        assert reopened.holdings is not None and reopened.holdings.shares["MCFT"] == 300
        assert reopened.capital == 100000
        assert app.query_one("#c-max_weight", Input).value == "5"


async def test_screen_edits_rerank_and_bad_holdings_are_refused(tmp_path: Path) -> None:
    app = RotationApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.solves >= 1)
        bench = app.session
        assert bench is not None
        await pilot.press("2")
        assert app.query_one("#screen-form").has_class("hidden")  # 80 columns: table first
        await pilot.press("f")
        passing = len(bench.screened.ranked)
        before = app.solves
        await type_into(pilot, app, "#s-min_piotroski", "7")
        await solved_after(pilot, app, before)
        ranked = bench.screened.ranked
        assert 0 < len(ranked) < passing and (ranked["piotroski_f"] >= 7).all()
        assert app.query_one("#screen-table", DataTable).row_count == len(ranked)
        held = set(app.last_outcome.result.weights.query("weight_after > 1e-6").index)
        assert held <= set(ranked.index)

        await type_into(pilot, app, "#s-min_piotroski", "12")
        await pilot.pause(0.5)
        assert "0 to 9" in str(app.query_one("#screen-error", Static).render())
        assert app.query_one("#s-min_piotroski", Input).has_class("invalid")
        assert bench.screen.filters["min_piotroski"] == 1  # the last valid entry, typed on the way

        bad = tmp_path / "holdings.csv"
        bad.write_text("ticker,shares\nMCFT,10\nNOPE_XYZ,5\n")
        await pilot.press("escape", "1")
        await type_into(pilot, app, "#holdings-path", str(bad))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "NOPE" in str(app.query_one("#universe-error", Static).render()))
        assert bench.holdings is None

        assert "keep unknown tickers" in str(app.query_one("#universe-error", Static).render())
        app.query_one("#ignore-unknown", Switch).focus()
        await pilot.press("enter")
        await type_into(pilot, app, "#holdings-path", str(bad))
        before = app.solves
        await pilot.press("enter")
        await solved_after(pilot, app, before)
        assert bench.holdings is not None and list(bench.holdings.untradeable.index) == ["NOPE-XYZ"]  # normalised
        app.query_one("#ignore-unknown", Switch).value = False

        good = tmp_path / "good.csv"
        good.write_text("ticker,shares\nMCFT,1000\nCASH,50000\n")
        before = app.solves
        await type_into(pilot, app, "#holdings-path", str(good))
        await pilot.press("enter")
        await solved_after(pilot, app, before)
        assert bench.holdings is not None and bench.holdings.shares["MCFT"] == 1000
        weights = app.last_outcome.result.weights
        assert weights.loc["MCFT", "weight_before"] > 0


async def test_switching_universe_and_opening_a_workspace_rebuild_every_step(tmp_path: Path) -> None:
    from textual.widgets import Select

    from optimizer import Range
    from tui.session import Session

    saved = Session()
    saved.solve(saved.settings.with_sector("Technology", Range(True, None, 0.12)))
    workspace = saved.save_workspace(tmp_path / "ws.toml")

    app = RotationApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.solves >= 1)
        await pilot.press("1")
        before = app.solves
        app.query_one("#universe-select", Select).value = "us-small"  # as a pick from the list
        await wait_for(pilot, lambda: app.session.universe.name == "us-small" and app.solves > before)
        assert app.last_outcome.result is not None
        assert "us-small (1," in str(app.query_one("#status-main", Static).render())
        # the hidden steps are refilled when shown (each shows the new universe then)
        await pilot.press("escape", "2")
        await pilot.pause()
        assert app.query_one("#screen-table", DataTable).row_count == len(app.session.screened.ranked)
        await pilot.press("escape", "4")
        await pilot.pause()
        assert len(app.step("constraints").sectors) >= 10 and app.query_one("#constraints-form").query("Switch")

        await pilot.press("escape")
        await answer_path_dialog(pilot, app, "ctrl+o", workspace)
        await wait_for(pilot, lambda: app.session.universe.name == "us-small-manufacturing")
        await pilot.pause(0.3)
        assert app.session.settings == saved.settings
        i = app.step("constraints").sectors.index("Technology")
        assert app.query_one(f"#c-sector-{i}-max", Input).value == "12"
        assert app.query_one(f"#c-sector-{i}-on", Switch).value is True
        tech = app.last_outcome.result.sectors.set_index("sector").loc["Technology", "after"]
        assert tech <= 0.12 + 1e-6


async def test_save_a_screen_and_open_it_again(tmp_path: Path) -> None:
    from screener import load_screen

    app = RotationApp()
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: app.solves >= 1)
        await pilot.press("2")
        before = app.solves
        await type_into(pilot, app, "#s-min_piotroski", "6")
        await solved_after(pilot, app, before)
        await pilot.press("escape")
        target = tmp_path / "mine.toml"
        await pilot.press("ctrl+p")  # through the command palette, as a person would
        await pilot.pause(0.3)
        await pilot.press(*"Save screen")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
        await type_into(pilot, app.screen, "#dialog-path", str(target))
        await pilot.press("enter")
        await wait_for(pilot, target.exists)
        assert load_screen(target).filters["min_piotroski"] == 6

        await type_into(pilot, app, "#s-min_piotroski", "3")
        await wait_for(pilot, lambda: app.session.screen.filters.get("min_piotroski") == 3)
        await pilot.press("escape")
        before = app.solves
        app.action_open_screen()
        await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
        await type_into(pilot, app.screen, "#dialog-path", str(target))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.screen.filters.get("min_piotroski") == 6 and app.solves > before)
        await pilot.pause(0.3)
        assert app.query_one("#s-min_piotroski", Input).value == "6"
        assert (app.session.screened.ranked["piotroski_f"] >= 6).all()
