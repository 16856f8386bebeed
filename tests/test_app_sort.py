"""Step 2's ranked table sorted by a column, as a person sorts it: companies without a value stay
last in both directions, the header's arrow moves, and the highlighted company stays highlighted
(and in view) wherever the sort puts it."""

from __future__ import annotations

import gc

import pytest
from test_app_defects import loaded, wait_for
from textual.widgets import DataTable, Static

from tui.app import RotationApp

pytestmark = pytest.mark.app


def shown_order(table: DataTable) -> list[str]:
    """The tickers (row keys) from the top of the table down."""
    return [str(row.key.value) for row in table.ordered_rows]


def arrows(table: DataTable) -> dict[str, str]:
    """The columns whose header carries a sort arrow, with the arrow."""
    labels = {str(c.key.value): str(c.label).rstrip() for c in table.ordered_columns}
    return {k: label[-1] for k, label in labels.items() if label.endswith((" ^", " v"))}


async def test_sort_keeps_missing_values_last_both_ways_and_the_highlight_on_its_company() -> None:
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("2")
        await pilot.pause()
        step = app.step("screen")
        table = app.query_one("#screen-table", DataTable)
        ranked = app.session.screened.ranked
        column = "price_to_fair_value"
        values = ranked[column]
        present = int(values.notna().sum())
        assert 10 < present < len(values)  # the case under test: some companies lack a value
        assert shown_order(table) == list(ranked.index) and arrows(table) == {"rank": "^"}

        pick = str(values.dropna().index[-3])  # a company with a value, low in the ranking
        table.move_cursor(row=table.get_row_index(pick))
        await wait_for(pilot, lambda: step.selected == pick)

        for reverse, arrow in ((False, "^"), (True, "v")):  # the first sort of P/FV is ascending, the same again reverses
            step.sort_by(column)
            await pilot.pause()
            order = shown_order(table)
            assert sorted(order) == sorted(ranked.index)
            ordered = values.loc[order]
            assert ordered.iloc[:present].notna().all() and ordered.iloc[present:].isna().all(), "missing values last"
            top = ordered.iloc[:present]
            assert top.is_monotonic_decreasing if reverse else top.is_monotonic_increasing
            assert step.sort_reverse is reverse and arrows(table) == {column: arrow}
            assert ("(desc)" in str(app.query_one("#screen-info", Static).render())) is reverse
            # the highlight follows the company, which stays the one shown in step 3, and in view
            assert table.cursor_row == order.index(pick) and step.selected == pick
            assert str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value) == pick
            assert app.step("company").ticker == pick
            await wait_for(pilot, lambda: table.scroll_y <= table.cursor_row < table.scroll_y + table.size.height - 1)

        step.sort_by("rank", reverse=False)  # back to the ranking
        assert not gc.isenabled()  # the collector waits for the paint ...
        await pilot.pause()
        await wait_for(pilot, gc.isenabled)  # ... and runs again after it
        assert shown_order(table) == list(ranked.index) and arrows(table) == {"rank": "^"}
        assert table.cursor_row == list(ranked.index).index(pick)

        step.sort_by("ticker")  # the app closed before the paint still turns it back on
    assert gc.isenabled()


async def test_what_the_app_loaded_is_left_out_of_garbage_collections() -> None:
    """Full collections walked ~450,000 long-lived objects (~250 ms stalls in a sort or a tweak)."""
    gc.unfreeze()
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await wait_for(pilot, lambda: app._all_steps_built)
        assert gc.get_freeze_count() > len(gc.get_objects()) // 2


async def test_the_collector_waits_for_the_first_paint_then_runs_again() -> None:
    """The start ran 3 full collections and ~40 young ones (0.12-0.2 s) that freed next to
    nothing: they wait until the first session is painted, and only until then."""
    assert gc.isenabled()
    app = RotationApp()
    async with app.run_test(size=(120, 36)) as pilot:
        assert not gc.isenabled()
        await loaded(pilot, app)
        await wait_for(pilot, lambda: app._all_steps_built)
        await wait_for(pilot, gc.isenabled)
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()


async def test_an_app_closed_before_its_first_paint_leaves_the_collector_on() -> None:
    """A review found the collector left off for good by an app built but closed before its
    first session was painted (it was held from the app's construction)."""
    app = RotationApp()
    async with app.run_test(size=(80, 24)):
        assert not gc.isenabled()
    assert gc.isenabled()
