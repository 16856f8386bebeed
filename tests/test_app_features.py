"""What a user of a screening and portfolio tool expects from the app, driven with Pilot:
columns, held/portfolio marks, undo and reset, no-buy / no-sell / locked tickers, the cash row."""

from __future__ import annotations

import pytest
from test_app_defects import loaded, settled, type_into, wait_for
from textual.widgets import DataTable, SelectionList

from tui.app import RotationApp
from tui.app.dialogs import ColumnsDialog

pytestmark = pytest.mark.app


def column_keys(table: DataTable) -> list[str]:
    return [str(c.key.value) for c in table.ordered_columns]


async def test_columns_marks_undo_locks_and_cash(tmp_path) -> None:
    holdings = tmp_path / "h.csv"
    holdings.write_text("ticker,shares\nMCFT,200\nPLAB,100\nCASH,100000\n")
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        session = app.session
        await pilot.press("1")
        before = app.solves
        await type_into(pilot, app, "#holdings-path", str(holdings), enter=True)
        await settled(pilot, app, before)

        # Step 2: marks for held names and names in the target portfolio.
        await pilot.press("2")
        await pilot.pause(0.3)
        table = app.query_one("#screen-table", DataTable)
        keys = column_keys(table)
        mark = {str(table.get_row_at(i)[keys.index("ticker")]): str(table.get_row_at(i)[keys.index("mark")]) for i in range(table.row_count)}
        assert "H" in mark["MCFT"]
        target = session.portfolio.weights["weight_after"]
        in_portfolio = [t for t in mark if target.get(t, 0) > 1e-6]
        assert in_portfolio and all("P" in mark[t] for t in in_portfolio)

        # The column chooser: add Discount and EV/EBIT, drop Sector.
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ColumnsDialog))
        chooser = app.screen.query_one(SelectionList)
        chooser.select("discount")
        chooser.select("ev_to_ebit")
        chooser.deselect("sector")
        await pilot.click("#ok")
        await pilot.pause(0.3)
        keys = column_keys(table)
        assert "discount" in keys and "ev_to_ebit" in keys and "sector" not in keys

        # Undo: a screen edit, then ctrl+z brings the shipped value back.
        original = session.screen.filters["min_piotroski"]
        await pilot.press("f")
        app.query_one("#s-min_piotroski").value = "8"  # one edit, as a paste
        await wait_for(pilot, lambda: session.screen.filters.get("min_piotroski") == 8 and not app.busy)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: session.screen.filters.get("min_piotroski") != 8 and not app.busy)
        await pilot.pause(0.3)
        assert session.screen.filters["min_piotroski"] == original
        assert app.query_one("#s-min_piotroski").value == str(original)  # the form follows

        # Step 4: lock MCFT (hold as is) and forbid buying PLAB.
        await pilot.press("4")
        app.query_one("#c-locks").value = "mcft"
        await wait_for(pilot, lambda: "MCFT" in session.settings.no_sell and not app.busy)
        app.query_one("#c-no_buy").value = "PLAB"
        await wait_for(pilot, lambda: "PLAB" in session.settings.no_buy and session.is_current and not app.busy)
        assert set(session.settings.no_buy) == {"PLAB", "MCFT"} and session.settings.no_sell == ("MCFT",)
        w = session.portfolio.weights
        assert w.loc["MCFT", "weight_after"] == pytest.approx(w.loc["MCFT", "weight_before"], abs=1e-6)
        assert w.loc["PLAB", "weight_after"] <= w.loc["PLAB", "weight_before"] + 1e-6
        await type_into(pilot, app, "#c-no_sell", "NOTATICKER")
        await pilot.pause(0.3)
        assert "NOTATICKER is not a ticker" in str(app.query_one("#cerr-no_sell").render())

        # Step 5: the cash row closes the weights to 100%.
        await pilot.press("escape", "5")
        await pilot.pause(0.3)
        weights = app.query_one("#weights", DataTable)
        last = weights.get_row_at(weights.row_count - 1)
        assert str(last[0]) == "CASH"


async def test_theme_bounds_switches_and_the_portfolio_after_trades() -> None:
    """Step 4 sets a theme minimum, the risk mode and the holding horizon; step 5 shows the
    target beside the weights the trade list reaches, the theme mix and the styles."""
    app = RotationApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot, app)
        session = app.session
        await pilot.press("4")
        await pilot.pause(0.3)
        themes = [t.id for t in session.tags.themes]
        i = themes.index("energy_transition")
        app.query_one(f"#c-theme-{i}-min").value = "8"
        app.query_one(f"#c-theme-{i}-on").value = True
        await wait_for(pilot, lambda: session.settings.themes.get("energy_transition") is not None and session.is_current and not app.busy)
        assert session.settings.themes["energy_transition"].min == pytest.approx(0.08)
        row = session.portfolio.themes.set_index("theme").loc["energy_transition"]
        assert row["after"] >= 0.08 - 1e-6 and row["sent"] >= 0.08 - 1e-9

        app.query_one("#c-holding_years").value = "5"
        await wait_for(pilot, lambda: session.settings.costs.holding_years == 5 and session.is_current and not app.busy)
        assert session.portfolio.stats["holding_years"] == 5
        app.query_one("#c-risk_mode-on").value = False
        await wait_for(pilot, lambda: session.settings.risk_mode == "total" and session.is_current and not app.busy)
        app.query_one("#c-beta_lookback_days").value = "30"
        await pilot.pause(0.3)
        assert "Beta history (sessions)" in str(app.query_one("#cerr-beta_lookback_days").render())
        assert session.settings.beta_lookback_days == 504

        await pilot.press("escape", "5")
        await pilot.pause(0.3)
        weights = app.query_one("#weights", DataTable)
        assert [str(c.label) for c in weights.ordered_columns][:5] == ["Ticker", "Before", "Target", "After trades", "Change"]
        w = session.portfolio.weights
        first = weights.get_row_at(0)
        assert str(first[3]) == f"{100 * w.loc[str(first[0]), 'weight_sent']:.2f}%"
        theme_table = app.query_one("#theme-table", DataTable)
        labels = [str(theme_table.get_row_at(k)[0]) for k in range(theme_table.row_count)]
        assert "energy transition" in labels
        row = theme_table.get_row_at(labels.index("energy transition"))
        assert str(row[4]) == ">=8%"
        assert app.query_one("#style-table", DataTable).row_count == 5
        assert "A 100 bp cut" in str(app.query_one("#portfolio-stats").render())


async def test_the_first_step_paints_before_the_others_are_built_and_an_early_key_is_answered() -> None:
    from textual.widgets import TabbedContent

    from tui.app import STEPS
    from tui.app.steps.base import Step

    built_at_first_paint: list[int] = []

    class Watched(RotationApp):
        def on_ready(self) -> None:
            built_at_first_paint.append(len(self.query(Step)))

    app = Watched()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")  # before the session, perhaps before the other steps exist
        await loaded(pilot, app)
        assert built_at_first_paint == [1], "only the Universe step is composed before the first paint"
        assert len(app.query(Step)) == len(STEPS)
        assert app.query_one(TabbedContent).active == "constraints", "the early key was answered"
        assert app.focused is not None and app.step("constraints") in app.focused.ancestors_with_self
