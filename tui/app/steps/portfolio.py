"""Step 5: the portfolio before, in the target and after the trades as sent (with cash); sectors,
themes and styles; risk; the rate-cut sensitivity; binding constraints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from tui.app.steps.base import SortableTables, Step, Table, fill_table

if TYPE_CHECKING:
    from tui.session import Session, SolveOutcome


def _known(v: Any) -> bool:
    return v is not None and v == v


def _bounds(row: Any) -> str:
    return " ".join(f"{sign}{100 * row[side]:.0f}%" for side, sign in (("min", ">="), ("max", "<=")) if _known(row[side]))


def sector_rows(result: Any, width: int = 10) -> list[tuple[object, ...]]:
    """Sector exposure before, in the target and after trades: the bounds and a bar of the
    weight after trades."""
    from tui.output import fmt_pct

    rows = result.sectors
    top = max(float(rows[["before", "sent"]].to_numpy().max()), 1e-9)
    out: list[tuple[object, ...]] = []
    for _, x in rows.iterrows():
        bounds = _bounds(x)
        if x["before"] < 1e-6 and x["sent"] < 1e-6 and not bounds:
            continue
        out.append((str(x["sector"]), fmt_pct(x["before"]), fmt_pct(x["after"]), fmt_pct(x["sent"]), bounds, "#" * round(width * x["sent"] / top)))
    m = result.manufacturing
    out.append(("Manufacturing (SIC)", fmt_pct(m["before"]), fmt_pct(m["after"]), fmt_pct(m["sent"]), _bounds(m), ""))
    return out


def theme_rows(result: Any) -> list[tuple[object, ...]]:
    """Theme weights before, in the target and after trades, with their bounds."""
    from tui.output import fmt_pct

    return [
        (str(x["theme"]).replace("_", " "), fmt_pct(x["before"]), fmt_pct(x["after"]), fmt_pct(x["sent"]), _bounds(x))
        for _, x in result.themes.iterrows()
    ]


def style_rows(result: Any) -> list[tuple[object, ...]]:
    """Style exposures in cross-sectional standard deviations, the benchmark's beside them."""
    return [
        (str(x["style"]), f"{x['before']:+.2f}", f"{x['after']:+.2f}", f"{x['sent']:+.2f}", f"{x['benchmark']:+.2f}")
        for _, x in result.styles.iterrows()
    ]


class PortfolioStep(SortableTables, Step):
    """What the latest solve gives, or why it could not be solved."""

    PRIMARY: ClassVar[str] = "#weights"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("No portfolio yet.", id="portfolio-stats")
            yield Static("", id="diagnosis", classes="hidden")
            with Horizontal():
                yield Table(id="weights", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="portfolio-side", can_focus=False):
                    yield Table(id="sector-table", cursor_type="none")
                    yield Table(id="theme-table", cursor_type="none")
                    yield Table(id="style-table", cursor_type="none")
                    yield Table(id="binding", cursor_type="none")

    def show_session(self, session: Session) -> None:
        if session.latest is not None:
            self.show_outcome(session, session.latest)

    def show_outcome(self, session: Session, outcome: SolveOutcome) -> None:
        from tui.output import fmt_money, fmt_num, fmt_pct, worth

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
        if session.latest is not None and session.latest.kept and session.latest.result is r:
            timing += ", kept from an earlier run of the same inputs"
        rates = session.rate_sensitivity()
        rate = ""
        if rates is not None:
            rate = (
                f"\nA 100 bp cut: {1e4 * rates['earnings_yield_gain']:+.1f} bp of earnings per $ "
                f"| net cash {fmt_pct(rates['net_cash_weight'])}, net debt {fmt_pct(rates['net_debt_weight'])}"
            )
        self.query_one("#portfolio-stats", Static).update(
            f"{label} | {r.solver}{timing} | value {fmt_money(t.portfolio_value)} | target: {s['names']} names, "
            f"alpha {fmt_pct(s['expected_alpha'], 2)}, vol {fmt_pct(s['volatility'])}, TE {fmt_pct(s['tracking_error'])}, "
            f"beta {fmt_num(s['beta'])} | turnover {fmt_pct(s['turnover'])}{integer}\n"
            f"After trades: {s['names_sent']} names, alpha {fmt_pct(s['expected_alpha_sent'], 2)}, TE {fmt_pct(s['tracking_error_sent'])}, "
            f"beta {fmt_num(s['beta_sent'])}, cash {fmt_pct(s['cash_sent'])}, costs {fmt_money(t.costs)}{rate}"
        )
        held = r.positions()
        rows: list[tuple[object, ...]] = [
            (
                tk,
                fmt_pct(x["weight_before"], 2),
                fmt_pct(x["weight_after"], 2),
                fmt_pct(x["weight_sent"], 2),
                fmt_pct(x["weight_sent"] - x["weight_before"], 2),
                str(x["sector"])[:18],
                x["binding"] or "",
                str(x["name"])[:28],
            )
            for tk, x in held.iterrows()
        ]
        cash_before = 1.0 - float(r.weights["weight_before"].sum())
        cash_after = 1.0 - float(r.weights["weight_after"].sum())
        cash_sent = float(s["cash_sent"])
        rows.append(("CASH", fmt_pct(cash_before, 2), fmt_pct(cash_after, 2), fmt_pct(cash_sent, 2), fmt_pct(cash_sent - cash_before, 2), "", "cash buffer, rounding; costs aside", ""))
        fill_table(
            self.query_one("#weights", DataTable),
            [
                ("t", "Ticker", False),
                ("b", "Before", True),
                ("a", "Target", True),
                ("x", "After trades", True),
                ("d", "Change", True),
                ("s", "Sector", False),
                ("w", "Bound by", False),
                ("n", "Name", False),
            ],
            rows,
        )
        fill_table(
            self.query_one("#sector-table", DataTable),
            [("s", "Sector", False), ("b", "Before", True), ("a", "Target", True), ("x", "After", True), ("l", "Bounds", False), ("bar", "", False)],
            sector_rows(r),
        )
        themes = self.query_one("#theme-table", DataTable)
        themes.display = len(r.themes) > 0
        fill_table(themes, [("t", "Theme", False), ("b", "Before", True), ("a", "Target", True), ("x", "After", True), ("l", "Bounds", False)], theme_rows(r))
        styles = self.query_one("#style-table", DataTable)
        styles.display = len(r.styles) > 0
        fill_table(styles, [("s", "Style (sd)", False), ("b", "Before", True), ("a", "Target", True), ("x", "After", True), ("m", "Bench", True)], style_rows(r))
        c = r.constraints
        binding = c[c["binding"]]
        fill_table(
            self.query_one("#binding", DataTable),
            [("c", "Binding constraint", False), ("w", "Worth / 1 pp", True), ("s", "Setting", False)],
            # the reason a constraint has no shadow price is in the CLI output and the workbook
            [(str(x["label"]), worth(x["shadow_price"], "n/a"), str(x["setting"])) for _, x in binding.iterrows()],
        )
