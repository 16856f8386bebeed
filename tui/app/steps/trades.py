"""Step 6: the trade list as it will be sent, its totals, and the export."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from tui.app.steps.base import SortableTables, Step, Table, fill_table

if TYPE_CHECKING:
    from tui.session import Session, SolveOutcome


class TradesStep(SortableTables, Step):
    """Trades with shares, prices, costs and reasons; marked when they belong to earlier settings."""

    PRIMARY: ClassVar[str] = "#trade-table"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="trade-stale", classes="hidden")
            yield Static("No trades yet.", id="trade-totals")
            yield Table(id="trade-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="trade-buttons"):
                yield Button("Export to Excel + basket (e)", id="export", variant="primary")
                yield Button("Save workspace (ctrl+s)", id="save")

    def show_session(self, session: Session) -> None:
        if session.latest is not None:
            self.show_outcome(session, session.latest)
        self._mark_stale(session)

    def _mark_stale(self, session: Session) -> None:
        banner = self.query_one("#trade-stale", Static)
        reason = session.stale_reason() if session.portfolio is not None else ""
        if reason:
            banner.update(f"[b]Not current:[/b] {reason}. These trades belong to earlier settings; export is refused until the portfolio solves again.")
            banner.remove_class("hidden")
        else:
            banner.add_class("hidden")

    def show_outcome(self, session: Session, outcome: SolveOutcome) -> None:
        from tui.output import fmt_money, fmt_num, fmt_pct

        self._mark_stale(session)
        r = session.portfolio
        if r is None:
            return
        t = r.trades
        buys = int((t.trades["side"] == "BUY").sum())
        self.query_one("#trade-totals", Static).update(
            f"{len(t.trades)} trades ({buys} buys, {len(t.trades) - buys} sells) | buys {fmt_money(t.buys)} | sells {fmt_money(t.sells)} | "
            f"turnover {fmt_pct(t.turnover)} | est. costs {fmt_money(t.costs)} | cash {fmt_money(t.cash_before)} -> {fmt_money(t.cash_after)}"
            + "".join(f"\nNote: {n}" for n in dict.fromkeys(r.notes))
        )
        fill_table(
            self.query_one("#trade-table", DataTable),
            [("t", "Ticker", False), ("side", "Side", False), ("sh", "Shares", True), ("p", "Price", True), ("n", "Notional", True), ("c", "Cost", True), ("w", "Weight after", True), ("r", "Reason", False), ("name", "Name", False)],
            [
                (x.ticker, x.side, f"{x.shares:,.0f}", fmt_num(x.price), fmt_money(x.notional), fmt_money(x.est_cost), fmt_pct(x.weight_after, 2), x.reason, str(x.name)[:26])
                for x in t.trades.itertuples()
            ],
        )
