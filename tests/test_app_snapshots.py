"""Every step of the app as a picture, at 80x24 and 120x36 (pytest-textual-snapshot).

A change to a step's layout shows as a failing snapshot with an HTML report of the difference;
after checking the new pictures, accept them with ``pytest tests/test_app_snapshots.py
--snapshot-update``. Timings are hidden (they vary from run to run), toasts are cleared and nothing animates.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable

from tui.app import RotationApp

pytestmark = pytest.mark.app

STEPS = ("1", "2", "3", "4", "5", "6")
SIZES = ((80, 24), (120, 36))


def steady(key: str):
    """Wait for the first portfolio, go to a step, and let it settle."""

    async def run_before(pilot) -> None:
        app = pilot.app
        start = time.monotonic()
        while app.solves < 1 or app.busy:
            if time.monotonic() - start > 120:
                raise AssertionError("the app did not load")
            await pilot.pause(0.1)
        await pilot.press(key)
        await pilot.pause(0.5)
        app.clear_notifications()
        await pilot.pause(0.3)
        # A step is painted when it is shown and its tables measure their columns when they are
        # next idle, which a loaded machine can delay past the sleeps above.
        for _ in range(100):
            if not any(t._require_update_dimensions or t._updated_cells for t in app.query(DataTable)):
                break
            await pilot.pause(0.05)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", STEPS, ids=lambda k: f"step{k}")
def test_step_snapshot(snap_compare, key: str, size: tuple[int, int]) -> None:
    app = RotationApp(show_timings=False)
    # No animations: the tab underline slides for 0.3 s after a step key, and on a loaded
    # machine the picture was now and then taken mid-slide (same text, other colours).
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size, run_before=steady(key))
