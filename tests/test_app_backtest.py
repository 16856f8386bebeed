"""The app's Backtest and Thesis steps, driven with Pilot on the real snapshot (a short span so
that the default run stays quick)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_app_defects import loaded, type_into, wait_for
from textual.widgets import DataTable, Static

from tui.app import RotationApp
from tui.app.dialogs import PathDialog
from tui.app.messages import ThesisRequested

pytestmark = pytest.mark.app


async def test_the_backtest_step_runs_plots_and_exports(tmp_path: Path) -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("7")
        await pilot.pause(0.3)
        assert app.query_one("#steps").active == "backtest"
        app.query_one("#bt-frequency").value = "quarterly"
        await type_into(pilot, app, "#bt-start", "2023-06-30")
        await pilot.press("escape", "r")
        await wait_for(pilot, lambda: app.backtest_result is not None and not app.busy, timeout=240)
        await pilot.pause(0.5)
        metrics = app.query_one("#bt-metrics", DataTable)
        assert metrics.row_count == 4  # the rotation and three benchmarks built from constituents
        banner = str(app.query_one("#bt-banner", Static).render())
        assert "survivorship" in banner.lower()
        assert "2023-06-30" in str(app.query_one("#bt-title", Static).render())
        plot = app.query_one("#bt-equity")
        assert plot.plt._active.monitor.x  # the equity curve was drawn (dates on the x axis)

        out = tmp_path / "bt.xlsx"
        app.action_export_backtest()
        await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
        await type_into(pilot, app.screen, "#dialog-path", str(out), enter=True)
        await wait_for(pilot, out.exists, timeout=60)
        book = openpyxl.load_workbook(out, read_only=True)
        assert {"Summary", "Equity", "Drawdown", "Holdings", "IC"} <= set(book.sheetnames)


async def test_the_thesis_step_shows_the_monitor_and_its_history() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("8")
        await pilot.pause(0.3)
        await pilot.press("r")
        await wait_for(pilot, lambda: "Small (us-small" in str(app.query_one("#th-text", Static).render()), timeout=120)
        text = str(app.query_one("#th-text", Static).render())
        assert "Manufacturers vs utilities" in text and "Disclosures" in text
        app.post_message(ThesisRequested(history=True, start="2024-01"))
        await wait_for(pilot, lambda: not app.query_one("#th-chart").has_class("hidden") and not app.busy, timeout=120)
