"""Step 5: the target portfolio before and after (with cash), sectors, risk, binding constraints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from tui.app.steps.base import SortableTables, Step, fill_table

if TYPE_CHECKING:
    from tui.session import Session, SolveOutcome


def _known(v: Any) -> bool:
    return v is not None and v == v


def sector_rows(result: Any, width: int = 10) -> list[tuple[object, ...]]:
    """Sector exposure before and after: weights, the bounds and a bar of the weight after."""
    from tui.output import fmt_pct

    rows = result.sectors
    top = max(float(rows[["before", "after"]].to_numpy().max()), 1e-9)
    out: list[tuple[object, ...]] = []
    for _, x in rows.iterrows():
        bounds = " ".join(f"{sign}{100 * x[side]:.0f}%" for side, sign in (("min", ">="), ("max", "<=")) if _known(x[side]))
        if x["before"] < 1e-6 and x["after"] < 1e-6 and not bounds:
            continue
        out.append((str(x["sector"]), fmt_pct(x["before"]), fmt_pct(x["after"]), bounds, "#" * round(width * x["after"] / top)))
    m = result.manufacturing
    out.append(("Manufacturing (SIC)", fmt_pct(m["before"]), fmt_pct(m["after"]), f">={100 * m['min']:.0f}%" if m["min"] is not None else "", ""))
    return out


class PortfolioStep(SortableTables, Step):
    """What the latest solve gives, or why it could not be solved."""

    PRIMARY: ClassVar[str] = "#weights"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("No portfolio yet.", id="portfolio-stats")
            yield Static("", id="diagnosis", classes="hidden")
            with Horizontal():
                yield DataTable(id="weights", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="portfolio-side", can_focus=False):
                    yield DataTable(id="sector-table", cursor_type="none")
                    yield DataTable(id="binding", cursor_type="none")

    def show_session(self, session: Session) -> None:
        if session.latest is not None:
            self.show_outcome(session, session.latest)

    def show_outcome(self, session: Session, outcome: SolveOutcome) -> None:
        from tui.output import fmt_money, fmt_num, fmt_pct

        diagnosis = self.query_one("#diagnosis", Static)
        r = session.portfolio
        if outcome.result is None and not outcome.superseded:
            kept = "The last feasible portfolio below belongs to earlier settings." if r is not None else "No feasible portfolio yet."
            diagnosis.update(f"[b]{outcome.error}[/b]\n{kept}")
            diagnosis.remove_class("hidden")
        else:
            diagnosis.add_class("hidden")
        if r is None:
            self.query_one("#portfolio-stats", Static).update("No portfolio yet.")
            return
        s, t = r.stats, r.trades
        label = f"[b]{r.status}[/b]" if session.is_current else "[b][red]EARLIER SETTINGS[/red][/b] (last feasible)"
        integer = ""
        if r.integer is not None and not r.integer.exact:
            integer = f" | max names/min position: {r.integer.names} names, {fmt_pct(r.integer.gap, 2)} below the relaxed optimum"
        timing = f" {r.solve_ms:.0f} ms" if getattr(self.app, "show_timings", True) else ""
        self.query_one("#portfolio-stats", Static).update(
            f"{label} | {r.solver}{timing} | value {fmt_money(t.portfolio_value)} | {s['names']} names | "
            f"alpha {fmt_pct(s['expected_alpha'], 2)} | vol {fmt_pct(s['volatility'])} | TE {fmt_pct(s['tracking_error'])} | "
            f"beta {fmt_num(s['beta'])} | turnover {fmt_pct(s['turnover'])}{integer}"
        )
        held = r.positions()
        rows: list[tuple[object, ...]] = [
            (tk, fmt_pct(x["weight_before"], 2), fmt_pct(x["weight_after"], 2), fmt_pct(x["weight_after"] - x["weight_before"], 2), str(x["sector"])[:18], x["binding"] or "", str(x["name"])[:28])
            for tk, x in held.iterrows()
        ]
        cash_before = 1.0 - float(r.weights["weight_before"].sum())
        cash_after = 1.0 - float(r.weights["weight_after"].sum())
        rows.append(("CASH", fmt_pct(cash_before, 2), fmt_pct(cash_after, 2), fmt_pct(cash_after - cash_before, 2), "", "cash buffer and rounding", ""))
        fill_table(
            self.query_one("#weights", DataTable),
            [("t", "Ticker", False), ("b", "Before", True), ("a", "After", True), ("d", "Change", True), ("s", "Sector", False), ("w", "Why", False), ("n", "Name", False)],
            rows,
        )
        fill_table(
            self.query_one("#sector-table", DataTable),
            [("s", "Sector", False), ("b", "Before", True), ("a", "After", True), ("l", "Bounds", False), ("bar", "", False)],
            sector_rows(r),
        )
        c = r.constraints
        binding = c[c["binding"]]
        fill_table(
            self.query_one("#binding", DataTable),
            [("c", "Binding constraint", False), ("w", "Worth / 1 pp", True), ("s", "Setting", False)],
            [
                (str(x["name"]), "-" if not _known(x["shadow_price"]) else f"{1e4 * x['shadow_price']:.2f} bp", str(x["setting"]))
                for _, x in binding.iterrows()
            ],
        )
