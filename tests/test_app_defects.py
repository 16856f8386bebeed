"""Every defect a first-time user met in the app and CLI (the November 2026 walkthrough), each
reproduced as that user met it: the real app driven with Pilot, the real command line.

The walkthrough's numbering is kept (defect 1 = H1 "Select.NULL", ...). Each test failed on the
app as it was before the session core and the rebuilt app.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from conftest import run_cli
from textual.widgets import Input

from tui.app import RotationApp

pytestmark = pytest.mark.app


def session_of(app: RotationApp):
    """The app's session (``bench`` in the app before the session core)."""
    return getattr(app, "session", None) or getattr(app, "bench", None)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 90.0) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)
    await pilot.pause()


async def loaded(pilot, app: RotationApp) -> None:
    await wait_for(pilot, lambda: app.solves >= 1 and session_of(app) is not None)


async def settled(pilot, app: RotationApp, before: int) -> None:
    """Wait until a solve newer than ``before`` has been shown and nothing is pending."""
    await wait_for(pilot, lambda: app.solves > before and not getattr(app, "busy", ""))


def screen_text(app: RotationApp) -> str:
    """What a person sees on the terminal now, as text."""
    svg = app.export_screenshot()
    parts = re.findall(r">([^<]*)</text>", svg)
    return html.unescape(" ".join(parts)).replace("\xa0", " ")


def pane_text(app: RotationApp, pane: str) -> str:
    return " ".join(str(w.render()) for w in app.query_one(f"#{pane}").query("Static"))


async def type_into(pilot, app, selector: str, text: str, enter: bool = False) -> None:
    box = app.query_one(selector, Input)
    box.focus()
    await pilot.pause()
    await pilot.press("end", "ctrl+u")
    if text:
        await pilot.press(*text)
    if enter:
        await pilot.press("enter")


async def make_infeasible(pilot, app: RotationApp) -> None:
    """Every dollar in manufacturers, while a 2% cash buffer leaves 98% to invest."""
    await pilot.press("4")
    before = app.solves
    await type_into(pilot, app, "#c-manufacturing-min", "100")
    await wait_for(pilot, lambda: app.solves > before and app.last_outcome is not None and app.last_outcome.result is None and not getattr(app, "busy", ""))


async def test_1_loading_holdings_shows_no_false_universe_error(tmp_path: Path) -> None:
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("ticker,shares\nMCFT,100\nPLAB,50\nPLAB,25\nCASH,5000\n")
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("1")
        before = app.solves
        await type_into(pilot, app, "#holdings-path", str(holdings), enter=True)
        await settled(pilot, app, before)
        await pilot.pause(0.5)
        text = pane_text(app, "universe")
        assert "Select.NULL" not in text and "Unknown universe" not in text
        assert "PLAB appears on 2 rows" in text  # the holdings warning stays on show
        before = app.solves
        await type_into(pilot, app, "#capital", "250000", enter=True)
        await settled(pilot, app, before)
        await pilot.pause(0.5)
        assert "Select.NULL" not in pane_text(app, "universe")


async def test_2_step_keys_work_from_the_portfolio_table_and_a_trades_button() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("5")
        app.query_one("#weights").focus()
        await pilot.pause()
        for key, step in (("2", "screen"), ("4", "constraints"), ("1", "universe")):
            await pilot.press("5")
            app.query_one("#weights").focus()
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause(0.2)
            assert app.query_one("#steps").active == step
        await pilot.press("6")
        app.query_one("#export").focus()
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause(0.2)
        assert app.query_one("#steps").active == "screen"


async def test_3_an_infeasible_change_marks_the_trades_and_export_refuses_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await make_infeasible(pilot, app)
        await pilot.press("escape", "6")
        await pilot.pause(0.3)
        assert "earlier settings" in pane_text(app, "trades")
        await pilot.press("e")
        await pilot.pause(0.5)
        from tui.app.dialogs import PathDialog

        if isinstance(app.screen, PathDialog):  # the old app offered the stale list for export
            await pilot.press("enter")
            await pilot.pause(3)
        assert not list(tmp_path.glob("*.xlsx"))
        assert not list(tmp_path.glob("*.basket.csv"))


async def test_4_new_cash_is_added_to_loaded_holdings(tmp_path: Path) -> None:
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("ticker,shares\nMCFT,1000\nCASH,50000\n")
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("1")
        before = app.solves
        await type_into(pilot, app, "#holdings-path", str(holdings), enter=True)
        await settled(pilot, app, before)
        value = session_of(app).portfolio.trades.portfolio_value
        before = app.solves
        await type_into(pilot, app, "#capital", "250000", enter=True)
        await settled(pilot, app, before)
        assert session_of(app).portfolio.trades.portfolio_value == pytest.approx(value + 250_000)
        assert "new cash" in pane_text(app, "universe")


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_5_the_status_line_shows_infeasible_and_no_stale_optimal(size: tuple[int, int]) -> None:
    app = RotationApp()
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app)
        await make_infeasible(pilot, app)
        await pilot.press("escape", "5")
        await pilot.pause(0.5)
        app.clear_notifications()
        await pilot.pause(0.2)
        seen = screen_text(app)
        assert "INFEASIBLE" in seen
        stats = pane_text(app, "portfolio").split("Infeasible")[0]
        assert "optimal" not in stats.split("\n")[0]


async def test_6_focus_stays_where_the_user_types() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        box = app.query_one("#holdings-path", Input)
        box.focus()
        await pilot.press(*"abc")  # typing while the first load runs
        await loaded(pilot, app)
        await pilot.pause(0.5)
        assert app.query_one("#steps").active == "universe"
        assert box.value == "abc" and app.focused is box
        await pilot.press("escape", "2")
        await pilot.pause(0.3)
        assert app.focused is not None  # a step key leaves the focus on the step's table
        await pilot.press("1")
        await type_into(pilot, app, "#universe-file", "nofile.csv", enter=True)
        await pilot.press("2")
        await pilot.pause(0.3)
        assert app.query_one("#universe-file", Input).value == "nofile.csv"
        assert app.query_one("#steps").active == "screen"


def test_7_an_unknown_universe_stops_before_the_app_starts() -> None:
    done = run_cli("app", "--universe", "us-smal", timeout=60)
    assert done.returncode == 2
    assert "Unknown universe 'us-smal'" in done.stderr and "us-small" in done.stderr


async def test_8_holdings_sheet_switch_reload_and_summary(tmp_path: Path) -> None:
    book = tmp_path / "hold2.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb["Notes"].append(["These are my notes"])
    ws = wb.create_sheet("Positions")
    ws.append(["ticker", "shares"])
    ws.append(["MCFT", 100])
    ws.append(["ZZZQ", 5])
    ws.append(["CASH", 10000])
    wb.save(book)
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("1")
        await type_into(pilot, app, "#holdings-sheet", "Positions")
        await type_into(pilot, app, "#holdings-path", str(book), enter=True)
        await wait_for(pilot, lambda: "ZZZQ" in pane_text(app, "universe") and not getattr(app, "busy", ""))
        assert session_of(app).holdings is None  # the unknown ticker is refused...
        before = app.solves
        app.query_one("#ignore-unknown").value = True  # ...and the switch reloads at once
        await settled(pilot, app, before)
        holdings = session_of(app).holdings
        assert holdings is not None and list(holdings.untradeable.index) == ["ZZZQ"]
        text = pane_text(app, "universe")
        assert "1 priced positions" in text and "cash 10.0K" in text and "ZZZQ" in text


async def test_9_the_company_step_names_everything_and_says_which_filter_failed() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        session = session_of(app)
        table = session.screened.table
        out = table[~table["passes"] & (table["piotroski_f"] < 4)].index[0]
        await pilot.press("3")
        await type_into(pilot, app, "#company-lookup", "MCFT", enter=True)
        await wait_for(pilot, lambda: "MCFT" in str(app.query_one("#company-head").render()))
        head = str(app.query_one("#company-head").render())
        assert "MCFT - MCBC" in head
        text = pane_text(app, "company")
        z_rows = [str(app.query_one("#company-z").get_row_at(i)[0]) for i in range(app.query_one("#company-z").row_count)]
        assert any("Working capital / assets" in r for r in z_rows)
        assert app.query_one("#company-fundamentals").row_count >= 10
        assert app.query_one("#company-chart") is not None
        await type_into(pilot, app, "#company-lookup", out, enter=True)
        await wait_for(pilot, lambda: out in str(app.query_one("#company-head").render()))
        text = pane_text(app, "company")
        assert "filtered out" in text and "min_piotroski" in text


async def test_10_shadow_prices_show_at_160_columns() -> None:
    app = RotationApp()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("5")
        await pilot.pause(0.5)
        app.clear_notifications()
        await pilot.pause(0.2)
        assert "Worth / 1 pp" in screen_text(app)


async def test_11_numbers_are_right_aligned_in_the_tables() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("5")
        await pilot.pause(0.3)
        weights = app.query_one("#weights")
        after = weights.get_row_at(0)[2]
        assert getattr(after, "justify", None) == "right"


def test_11_csv_has_no_single_precision_noise() -> None:
    done = run_cli("screen", "--top", "3", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert not re.search(r"\d\.\d*0000\d{3,}", done.stdout), done.stdout[:500]


def test_12_show_uses_the_screens_universe_and_says_which() -> None:
    done = run_cli("show", "MCFT", "--format", "json")
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    assert card["evidence_universe"] == "us-small-manufacturing"
    done = run_cli("screen", "--format", "json")
    row = next(r for r in json.loads(done.stdout) if r["ticker"] == "MCFT")
    assert card["evidence"]["fair_value"]["blend"] == pytest.approx(row["fair_value"])
    assert card["evidence"]["score"]["rank"] == row["rank"]


async def test_13_screenshot_shipped_screen_by_name_and_quit_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.app.dialogs import ConfirmDialog, PathDialog

    monkeypatch.chdir(tmp_path)
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Screenshot")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(list(tmp_path.glob("*.svg"))), timeout=10)

        app.action_open_screen()
        await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
        await type_into(pilot, app.screen, "#dialog-path", "deep-value", enter=True)
        await wait_for(pilot, lambda: session_of(app).screen.name == "Deep value" and not getattr(app, "busy", ""))

        await pilot.press("q")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ConfirmDialog)  # the edit is not in any workspace
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.is_running


async def test_a_malformed_workspace_shows_an_error_and_the_app_goes_on(tmp_path: Path) -> None:
    """Issue 16: a malformed workspace must not crash the app (three crashes that exited 0 were
    seen); at start it opens the default universe, later the open session stays as it was."""
    from tui.app.dialogs import PathDialog

    bad = tmp_path / "broken.toml"
    bad.write_text("[workspace]\nuniverse = 5\n", encoding="utf-8")
    app = RotationApp(workspace=str(bad))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        assert app.is_running and app.session is not None
        assert app.session.universe.name == "us-small-manufacturing"
        shown = str(app.query_one("#universe-error").render())
        assert "broken.toml" in shown and "universe" in shown
        assert app.workspace_path != str(bad)  # ctrl+s must not offer to write over the broken file

        session = app.session
        other = tmp_path / "also-broken.toml"
        other.write_bytes(b"\xff\xfe not toml")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
        await type_into(pilot, app.screen, "#dialog-path", str(other), enter=True)
        await wait_for(pilot, lambda: "also-broken.toml" in str(app.query_one("#universe-error").render()))
        assert app.is_running and app.session is session
        assert app.workspace_path != str(other)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
        assert app.screen.query_one("#dialog-path", Input).value not in (str(bad), str(other))


@pytest.mark.parametrize("when", ["session loaded", "steps being built"])
async def test_quitting_during_the_start_shows_no_traceback(when: str) -> None:
    """`q` (or ctrl+c) in the first second, at 80 columns: the app used to die with a MountError
    (steps built into tabs already taken down), a NoMatches from the screen step's mount, or one
    from a Select taken down half-mounted. The app runs as `rotation app` runs it (not Pilot,
    whose teardown skips the app's own exit)."""
    import asyncio

    app = RotationApp()

    async def quit_at_start() -> None:
        while app.session is None or (when == "steps being built" and len(app.steps()) < 2):
            await asyncio.sleep(0.002)
        app.exit()

    quitter = asyncio.create_task(quit_at_start())
    await asyncio.wait_for(app.run_async(headless=True, size=(80, 24)), timeout=120)
    await quitter
    assert app.return_code == 0
    assert not app._exit_renderables  # nothing printed on the way out (a traceback would be)


async def test_the_company_step_opened_first_shows_the_top_ranked_company() -> None:
    """Step 3 follows step 2's highlighted company (CompanyStep.FOLLOWS): opened straight from
    step 1 after the load, before step 2 was ever shown, it shows the first of the ranking."""
    app = RotationApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("3")
        first = str(session_of(app).screened.ranked.index[0])
        await wait_for(pilot, lambda: first in str(app.query_one("#company-head").render()))


async def test_a_table_row_drawn_before_its_columns_are_measured_is_drawn_again() -> None:
    """On a busy machine step 2's ranked table was now and then shown with every column as wide
    as its header ("5" for a Z of 5.12), and stayed so: Textual (8.2) measures the columns of
    new rows only when idle, and caches a drawn row under a key without the column widths; a
    table filled again and drawn before it was idle kept the narrow rows once measured, and
    when the widths came out as before nothing was drawn again."""
    from textual.app import App, ComposeResult

    from tui.app.steps.base import Table

    class OneTable(App[None]):
        def compose(self) -> ComposeResult:
            yield Table(id="t")

    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one("#t", Table)
        for _ in range(2):
            table.clear(columns=True)
            table.add_column("Z", key="z")
            table.add_row("5.12", key="a")
            assert "5.12" not in table.render_line(1).text  # drawn before the column is measured
            await pilot.pause()
            assert "5.12" in table.render_line(1).text
            assert "5.12" in app.export_screenshot()
