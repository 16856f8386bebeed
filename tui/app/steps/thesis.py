"""Step 8: the thesis, from the data: small vs large, manufacturers vs utilities, and their history."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, ProgressBar, Static

from tui.app.messages import ThesisRequested
from tui.app.steps.backtest import plot_lines
from tui.app.steps.base import Step


class ThesisStep(Step):
    """The thesis monitor on the session's date, and month by month on request."""

    PRIMARY: ClassVar[str] = "#th-run"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("r", "run", "Monitor"),
        Binding("h", "history", "History"),
    ]

    def compose(self) -> ComposeResult:
        # textual_plotext takes 16 ms to import: when the step is built, not at start
        from textual_plotext import PlotextPlot

        with Horizontal(id="th-controls"):
            yield Button("Monitor on the session's date (r)", id="th-run", variant="primary", compact=True)
            yield Button("History, month by month (h)", id="th-history", compact=True)
        yield ProgressBar(id="th-progress", show_eta=False, classes="hidden")
        with VerticalScroll(id="th-view"):
            yield Static("Press r for the thesis monitor on us-all (a few seconds), h for its history (a minute or two).", id="th-text")
            yield PlotextPlot(id="th-chart", classes="bt-chart hidden")

    @on(Button.Pressed, "#th-run")
    def action_run(self) -> None:
        """The monitor on the session's date."""
        self.post_message(ThesisRequested(history=False))

    @on(Button.Pressed, "#th-history")
    def action_history(self) -> None:
        """The monitor at every month end of the data."""
        self.post_message(ThesisRequested(history=True))

    def show_running(self, done: int, total: int) -> None:
        bar = self.query_one("#th-progress", ProgressBar)
        bar.remove_class("hidden")
        bar.update(total=max(total, 1), progress=done)

    def show_error(self, message: str) -> None:
        self.query_one("#th-progress", ProgressBar).add_class("hidden")
        self.query_one("#th-text", Static).update(message)

    def show_monitor(self, text: str) -> None:
        """The monitor as text (tables in the words of ``rotation valuation``)."""
        self.query_one("#th-progress", ProgressBar).add_class("hidden")
        self.query_one("#th-text", Static).update(text)

    def show_history(self, chart: dict[str, Any]) -> None:
        """The history chart (``screener.valuation.history_chart``)."""
        self.query_one("#th-progress", ProgressBar).add_class("hidden")
        plot = self.chart("#th-chart")
        plot.remove_class("hidden")
        plot_lines(plot, chart["dates"], chart["series"], "The thesis month by month (point in time)", "P/E, P/FV")
