"""Step 3: the evidence for one company, any ticker of the data, with a dated price chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Label, Static

from tui.app.messages import CompanyChosen
from tui.app.steps.base import Step, Table, fill_table, leave_field

if TYPE_CHECKING:
    from tui.session import Session, SolveOutcome

CHART_SESSIONS = 252


class CompanyStep(Step):
    """Identity, fair-value methods with every input, quality signals, fundamentals, score."""

    PRIMARY: ClassVar[str] = "#company-view"
    FOLLOWS: ClassVar[tuple[str, ...]] = ("screen",)  # the card is the ranked table's highlighted company
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("n", "move(1)", "Next"),
        Binding("p", "move(-1)", "Previous"),
        Binding("l", "lookup", "Look up"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ticker: str | None = None
        self.shown: tuple[str, int, int] | None = None  # (ticker, session version, portfolio) on show

    def compose(self) -> ComposeResult:
        # textual_plotext takes 16 ms to import: when the step is built, not at start
        from textual_plotext import PlotextPlot

        with Horizontal(id="company-bar"):
            yield Label("Look up any ticker (l): ")
            yield Input(placeholder="ticker, Enter", id="company-lookup")
            yield Static("n / p: next / previous ranked company", classes="dim")
        with VerticalScroll(id="company-view"):
            yield Static("Highlight a company in step 2, or look one up.", id="company-head")
            yield Static("", id="company-error", classes="error")
            yield Static("", id="company-summary", classes="dim")
            yield Table(id="company-themes", cursor_type="none")
            yield Table(id="company-integrity", cursor_type="none")
            yield PlotextPlot(id="company-chart")
            yield Static("", id="company-fv-head")
            yield Table(id="company-flags", cursor_type="none")
            yield Table(id="company-fv", cursor_type="none")
            yield Table(id="company-range", cursor_type="none")
            yield Static("", id="company-rates-head")
            yield Table(id="company-rates", cursor_type="none")
            yield Table(id="company-uncertainty", cursor_type="none")
            yield Table(id="company-rate-cuts", cursor_type="none")
            yield Table(id="company-piotroski", cursor_type="none")
            yield Table(id="company-z", cursor_type="none")
            yield Static("", id="company-ratios")
            yield Static("", id="company-score")
            yield Table(id="company-factors", cursor_type="none")
            yield Static("[b]Fundamentals by fiscal year[/b]", id="company-fund-head")
            yield Table(id="company-fundamentals", cursor_type="none")

    def show_company(self, ticker: str) -> None:
        """Show ``ticker`` (filled now if the step is on show, else when it is shown)."""
        self.ticker = ticker
        if self.display and self.is_on_screen:
            self.refresh_card()

    def show_session(self, session: Session) -> None:
        if self.is_on_screen:
            self.refresh_card()

    def show_outcome(self, session: Session, outcome: SolveOutcome) -> None:
        if self.is_on_screen:
            self.refresh_card()

    def on_show_step(self) -> None:
        self.refresh_card()

    @property
    def is_on_screen(self) -> bool:
        tabs = self.app.query("#steps")
        return bool(tabs) and getattr(tabs.first(), "active", "") == "company"

    def refresh_card(self) -> None:
        """Fill every part of the card for :attr:`ticker` (skipped when nothing changed)."""
        from universes.errors import UserError

        session = getattr(self.app, "session", None)
        if session is None or self.ticker is None:
            return
        key = (self.ticker, session.version, id(session.portfolio))
        if self.shown == key:
            return
        try:
            card = session.company_card(self.ticker)
        except UserError as exc:
            self.query_one("#company-error", Static).update(str(exc))
            return
        self.shown = key
        self.query_one("#company-error", Static).update("")
        self._fill(session, card)

    def _fill(self, session: Session, card: dict[str, Any]) -> None:
        from tui import card as c
        from tui.output import fmt_num, fmt_pct

        head = c.identity_lines(card)
        if card.get("held_shares"):
            head.append(f"Held today: {card['held_shares']:,.0f} shares")
        if card.get("portfolio"):
            p = card["portfolio"]
            head.append(f"Portfolio: {fmt_pct(p['weight_before'], 2)} -> {fmt_pct(p['weight_after'], 2)}, expected alpha {fmt_pct(p['alpha'], 2)}")
        head[0] = f"[b]{head[0]}[/b]"
        self.query_one("#company-head", Static).update("\n".join(head))
        summary = card.get("business_summary") or ""
        self.query_one("#company-summary", Static).update(summary[:600] + ("..." if len(summary) > 600 else ""))
        fill_table(
            self.query_one("#company-integrity", DataTable),
            [("y", "FY", False), ("f", "Data correction or flag", False), ("c", "Check", False), ("r", "Raw -> corrected", True), ("e", "Evidence", False)],
            [tuple(r) for r in c.integrity_rows(card)],
        )
        self.query_one("#company-integrity", DataTable).display = bool(card.get("integrity"))
        fill_table(
            self.query_one("#company-themes", DataTable),
            [("t", "Theme", False), ("l", "", False), ("w", "Why", False), ("s", "Similarity", True)],
            [tuple(r) for r in c.theme_rows(card)],
        )
        ev = card["evidence"]
        self._chart(session, card, ev)
        fv_head = self.query_one("#company-fv-head", Static)
        if ev is None:
            fv_head.update(card["evidence_note"])
            for sel in ("#company-fv", "#company-piotroski", "#company-z", "#company-factors", "#company-flags", "#company-range", "#company-rates", "#company-uncertainty", "#company-rate-cuts"):
                self.query_one(sel, DataTable).clear(columns=True)
            for sel in ("#company-ratios", "#company-score", "#company-rates-head"):
                self.query_one(sel, Static).update("")
        else:
            fv_head.update(c.fair_value_headline(ev))
            fill_table(
                self.query_one("#company-flags", DataTable),
                [("r", "Red flag", False), ("f", "Flag", False), ("e", "Evidence", False)],
                [tuple(r[:3]) for r in c.flag_rows(ev)],
            )
            fill_table(self.query_one("#company-fv", DataTable), [("m", "Fair-value method and its inputs", False), ("v", "Per share / value", True)], [tuple(r) for r in c.fair_value_rows(ev)])
            fill_table(self.query_one("#company-range", DataTable), [("r", "Range", False), ("b", "Bear", True), ("m", "Base", True), ("u", "Bull", True)], [tuple(r) for r in c.range_rows(ev)])
            self.query_one("#company-rates-head", Static).update("Cost of capital: " + (ev.get("rates") or {}).get("formula", ""))
            fill_table(self.query_one("#company-rates", DataTable), [("i", "Rate build-up", False), ("v", "Value", True)], [tuple(r) for r in c.rate_rows(ev)])
            u = ev.get("uncertainty") or {}
            fill_table(
                self.query_one("#company-uncertainty", DataTable),
                [("c", f"Uncertainty {u.get('rating', '-')} (score {u.get('score', '-')})", False), ("m", "Measure", True), ("p", "Points", True), ("t", "Thresholds", False)],
                [tuple(r) for r in c.uncertainty_rows(ev)],
            )
            fill_table(self.query_one("#company-rate-cuts", DataTable), [("m", "Rate-cut diligence", False), ("v", "Value", True)], [tuple(r) for r in c.rate_cut_rows(ev)])
            p = ev["piotroski"]
            fill_table(self.query_one("#company-piotroski", DataTable), [("r", f"Piotroski F = {p.get('display', p['score'])} ({p['available']} of 9 computable)", False), ("s", "Signal", False)], [tuple(r) for r in c.piotroski_rows(ev)])
            a = ev["altman"]
            fill_table(
                self.query_one("#company-z", DataTable),
                [("c", f"Altman {a['model']} = {fmt_num(a['z'])} ({a['zone']})", False), ("v", "Value", True), ("w", "Weight", True), ("p", "Points", True)],
                [tuple(r) for r in c.altman_rows(ev)],
            )
            b = ev["beneish"]
            self.query_one("#company-ratios", Static).update(
                f"Beneish M = {fmt_num(b['m_score'])} ({b['flag']}) | " + ", ".join(f"{c.label(k)} {fmt_num(v)}" for k, v in ev["ratios"].items())
            )
            self.query_one("#company-score", Static).update(c.score_line(card))
            s = ev["score"]
            fill_table(
                self.query_one("#company-factors", DataTable),
                [("f", "Factor", False), ("v", "Value", True), ("w", "Weight", True), ("p", f"Pct ({s['peer_group']})", True), ("c", "Points", True)],
                [tuple(r) for r in c.factor_rows(ev)],
            )
        headers, rows = c.fundamentals_table(card)
        fill_table(self.query_one("#company-fundamentals", DataTable), [(f"h{i}", h, i > 0) for i, h in enumerate(headers)], [tuple(r) for r in rows])

    def _chart(self, session: Session, card: dict[str, Any], ev: dict[str, Any] | None) -> None:
        from universes import open_dataset

        plot = self.chart("#company-chart")
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        ticker = card["ticker"]
        history = open_dataset(session.universe.dataset).prices
        if ticker not in history.tickers:
            plot.refresh()
            return
        closes = history.series(ticker, "close")
        closes = closes[closes.index <= session.universe.as_of].iloc[-CHART_SESSIONS:]
        if closes.empty:
            plot.refresh()
            return
        plt.date_form("Y-m-d")
        dates = [d.strftime("%Y-%m-%d") for d in closes.index]
        plt.plot(dates, closes.to_list(), label="close", marker="braille")
        fair = None if ev is None else ev["fair_value"]["blend"]
        if fair is not None:
            plt.plot([dates[0], dates[-1]], [fair, fair], label=f"fair value {fair:,.2f}", marker="braille")
        plt.title(f"{ticker}: traded close, last {len(closes)} sessions to {dates[-1]}")
        plt.ylabel("USD")
        plot.refresh()

    # ---------------------------------------------------------------- moving
    def action_move(self, step: int) -> None:
        """The next or previous company of the ranked table (as sorted and searched)."""
        screen_step = self.app.query_one("#step-screen")
        rows = getattr(screen_step, "_rows", None)
        if rows is None or not len(rows):
            return
        tickers = list(rows.index)
        i = tickers.index(self.ticker) + step if self.ticker in tickers else 0
        ticker = str(tickers[max(0, min(len(tickers) - 1, i))])
        self.post_message(CompanyChosen(ticker))

    def action_lookup(self) -> None:
        """Focus the look-up field."""
        self.query_one("#company-lookup", Input).focus()

    @on(Input.Submitted, "#company-lookup")
    def _lookup(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        leave_field(event.input)
        if text:
            event.input.value = ""
            self.post_message(CompanyChosen(text.upper()))
