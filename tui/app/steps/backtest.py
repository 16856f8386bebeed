"""Step 7: would it have worked? A point-in-time walk-forward backtest of the session's choices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static

from tui.app.messages import BacktestRequested
from tui.app.steps.base import Step, Table, fill_table, leave_field

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot

    from tui.session import Session


def plot_lines(plot: PlotextPlot, dates: list[str], series: dict[str, list[Any]], title: str, ylabel: str) -> None:
    """Draw dated lines with labelled axes (missing points are skipped)."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.date_form("Y-m-d")
    for label, values in series.items():
        points = [(d, v) for d, v in zip(dates, values, strict=True) if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            plt.plot(list(xs), list(ys), label=label, marker="braille")
    plt.title(title)
    plt.ylabel(ylabel)
    plot.refresh()


class BacktestStep(Step):
    """Runs the backtest in the background and shows curves, drawdowns, IC and the banner."""

    PRIMARY: ClassVar[str] = "#bt-run"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [Binding("r", "run", "Run backtest")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        # textual_plotext takes 16 ms to import: when the step is built, not at start
        from textual_plotext import PlotextPlot

        with Horizontal(id="bt-controls"):
            yield Label("Rebalance ")
            yield Select([("monthly", "monthly"), ("quarterly", "quarterly")], value="monthly", id="bt-frequency", allow_blank=False, compact=True)
            yield Label(" from ")
            yield Input(placeholder="first possible", id="bt-start")
            yield Button("Run backtest (r)", id="bt-run", variant="primary", compact=True)
            yield Button("Export workbook", id="bt-export", compact=True, disabled=True)
        yield ProgressBar(id="bt-progress", show_eta=False, classes="hidden")
        with VerticalScroll(id="bt-view"):
            yield Static(
                "Walks the session's universe, screen, constraints and holdings forward from the first date the data "
                "allow, rebalancing on each date exactly as `optimize --as-of` would then, with the same costs and lots. "
                "Press r to run (about half a minute).",
                id="bt-title",
            )
            yield Static("", id="bt-banner", classes="hidden")
            yield Table(id="bt-metrics", cursor_type="none")
            yield Table(id="bt-relative", cursor_type="none")
            yield PlotextPlot(id="bt-equity", classes="bt-chart")
            yield PlotextPlot(id="bt-drawdown", classes="bt-chart")
            yield PlotextPlot(id="bt-ic", classes="bt-chart")
            yield Static("", id="bt-canary", classes="dim")

    @on(Button.Pressed, "#bt-run")
    def action_run(self) -> None:
        """Run the backtest with the session's current choices."""
        start = self.query_one("#bt-start", Input).value.strip() or None
        frequency = str(self.query_one("#bt-frequency", Select).value)
        self.post_message(BacktestRequested(frequency, start))

    @on(Input.Submitted, "#bt-start")
    def _start(self, event: Input.Submitted) -> None:
        leave_field(event.input)
        self.action_run()

    @on(Button.Pressed, "#bt-export")
    def _export(self) -> None:
        export = getattr(self.app, "action_export_backtest", None)
        if export is not None:
            export()

    def show_running(self, done: int, total: int) -> None:
        """Progress of a running backtest (rebalances done of total)."""
        bar = self.query_one("#bt-progress", ProgressBar)
        bar.remove_class("hidden")
        bar.update(total=max(total, 1), progress=done)
        self.query_one("#bt-run", Button).disabled = True

    def show_error(self, message: str) -> None:
        """Why the backtest could not run."""
        self.query_one("#bt-progress", ProgressBar).add_class("hidden")
        self.query_one("#bt-run", Button).disabled = False
        banner = self.query_one("#bt-banner", Static)
        banner.update(message)
        banner.set_class(not message, "hidden")

    def show_result(self, view: dict[str, Any]) -> None:
        """Everything a finished backtest shows (``tui.backtest.app_view``)."""
        from tui.output import fmt_num, fmt_pct

        self.view = view
        self.query_one("#bt-progress", ProgressBar).add_class("hidden")
        self.query_one("#bt-run", Button).disabled = False
        self.query_one("#bt-export", Button).disabled = False
        self.query_one("#bt-title", Static).update(f"[b]{view['title']}[/b]" + (f"\n{view['partial']}" if view.get("partial") else ""))
        banner = self.query_one("#bt-banner", Static)
        banner.update(view["banner"])
        banner.remove_class("hidden")
        fill_table(
            self.query_one("#bt-metrics", DataTable),
            [("p", "Portfolio", False), ("c", "CAGR", True), ("v", "Volatility", True), ("s", "Sharpe", True), ("o", "Sortino", True), ("d", "Max drawdown", True)],
            [(m["label"], fmt_pct(m["cagr"]), fmt_pct(m["volatility"]), fmt_num(m["sharpe"]), fmt_num(m["sortino"]), fmt_pct(m["max_drawdown"])) for m in view["metrics"]],
        )
        fill_table(
            self.query_one("#bt-relative", DataTable),
            [("b", "Rotation against", False), ("a", "Active CAGR", True), ("t", "Tracking error", True), ("i", "Information ratio", True)],
            [(r["label"], fmt_pct(r["active_cagr"]), fmt_pct(r["tracking_error"]), fmt_num(r["information_ratio"])) for r in view["relative"]],
        )
        labels = view["labels"]
        plot_lines(self.chart("#bt-equity"), view["dates"], {labels[p]: v for p, v in view["equity"].items()}, "Growth of 1 (after costs for the rotation)", "value of 1")
        plot_lines(self.chart("#bt-drawdown"), view["dates"], {labels[p]: v for p, v in view["drawdown"].items()}, "Drawdown from the running peak", "drawdown")
        ic = dict(list(view["ic"].items())[:4])
        plot_lines(self.chart("#bt-ic"), view["ic_dates"], ic, "Rank IC of each signal with the next period's returns", "rank IC")
        t = view["trading"]
        self.query_one("#bt-canary", Static).update(
            f"{view['canary']}\nTurnover a year {fmt_pct(t.get('turnover_annual'))} after the first rebalance; costs {fmt_pct(t.get('cost_drag'), 2)} of value a year."
        )

    def show_session(self, session: Session) -> None:
        return None
