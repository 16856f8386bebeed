"""What a user of a screening and portfolio tool expects from the app, driven with Pilot:
columns, held/portfolio marks, undo and reset, no-buy / no-sell / locked tickers, the cash row."""

from __future__ import annotations

import pytest
from test_app_defects import loaded, settled, type_into, wait_for
from textual.widgets import DataTable, SelectionList

from tui.app import RotationApp
from tui.app.dialogs import ColumnsDialog

pytestmark = pytest.mark.slow


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
