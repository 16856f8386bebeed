"""Step 1: choose the universe, load holdings, set the new cash; see what the session starts from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, Select, Static, Switch

from tui.app.messages import CapitalChosen, HoldingsChosen, UniverseChosen
from tui.app.steps.base import Step, Table, fill_table, leave_field, switch_parts

if TYPE_CHECKING:
    from tui.session import Session


class UniverseStep(Step):
    """Universe, ticker list, holdings file (and sheet), new cash; the start and the sector mix."""

    PRIMARY: ClassVar[str] = "#universe-select"

    def compose(self) -> ComposeResult:
        with Horizontal():
            with VerticalScroll(id="universe-form", classes="form", can_focus=False):
                yield Label("Universe")
                yield Select[str]([], id="universe-select", allow_blank=True, prompt="loading...")
                yield Label("or a ticker list (.csv/.xlsx), Enter")
                yield Input(placeholder="path to a ticker list", id="universe-file")
                yield Label("Holdings file, Enter")
                yield Input(placeholder="ticker,shares (+CASH row); blank: cash", id="holdings-path")
                yield Input(placeholder="sheet of an .xlsx (blank: first)", id="holdings-sheet")
                yield Horizontal(*switch_parts(Switch(False, id="ignore-unknown")), Label("keep unknown tickers", id="ignore-unknown-label"), classes="switch-row")
                yield Label("New cash, USD (250k, 1.5m), Enter")
                yield Input(placeholder="blank = 1,000,000 (0 with holdings)", id="capital")
                yield Static("", id="universe-error", classes="error")
            with Vertical(id="universe-side"):
                yield Static("Loading the universe...", id="universe-info")
                yield Static("", id="start-info")
                yield Table(id="sector-mix", cursor_type="none", zebra_stripes=True)

    # ---------------------------------------------------------------- showing
    def show_session(self, session: Session) -> None:
        from tui.output import fmt_money
        from universes import universe_definitions

        select = self.query_one("#universe-select", Select)
        names = list(universe_definitions())
        current = session.universe.name
        options = [(n, n) for n in names] + ([(current, current)] if current not in names else [])
        with select.prevent(Select.Changed):
            select.set_options(options)
            select.value = current
        from universes.catalog import catalog_warnings

        u = session.universe
        notes = "\n".join([f"- {n}" for n in u.notes] + [f"- [b]Warning[/b]: {w}" for w in catalog_warnings()])
        self.query_one("#universe-info", Static).update(
            f"[b]{u.name}[/b]: {u.description}\n"
            f"As of {u.as_of.date()} | {len(u):,} companies | dataset {u.dataset} ({u.provider})"
            + (f"\n{notes}" if notes else "")
        )
        start = session.holdings_summary
        lines = [f"[b]Start[/b]: {start.label}"]
        if start.source != "cash":
            lines.append(
                f"{start.positions} priced positions worth {fmt_money(start.value)}, cash {fmt_money(start.cash)}, "
                f"new cash {fmt_money(start.new_cash)}: {fmt_money(start.total)} to allocate"
            )
            if start.untradeable:
                lines.append(f"Untradeable (not in the data, kept as they are): {', '.join(start.untradeable)}")
            if start.unpriced:
                lines.append(f"No price on {u.as_of.date()} (left out): {', '.join(start.unpriced)}")
            lines += [f"Note: {w}" for w in start.warnings]
        keeps = [text for key, text in (("manufacturing", "manufacturers only"), ("exclude_life_sciences", "no pharma / biotech")) if session.screen.filters.get(key)]
        if keeps and not session.universe.companies["manufacturing"].all():
            lines.append(
                f"[dim]Note: the screen keeps {' and '.join(keeps)} of this universe "
                f"({len(session.screened.ranked):,} pass); switch those filters off in step 2 (f) to rank every company.[/dim]"
            )
        self.query_one("#start-info", Static).update("\n".join(lines))
        with self.query_one("#ignore-unknown", Switch).prevent(Switch.Changed):
            self.query_one("#ignore-unknown", Switch).value = session.ignore_unknown
        fill_table(
            self.query_one("#sector-mix", DataTable),
            [("sector", "Sector", False), ("count", "Companies", True), ("share", "Share of market cap", True)],
            [(s, f"{n:,}", f"{100 * w:.1f}%") for s, n, w in session.sector_mix()],
        )

    def show_error(self, message: str) -> None:
        """Show why the last request of this step failed ('' clears it)."""
        self.query_one("#universe-error", Static).update(message)

    # ---------------------------------------------------------------- requests
    @on(Select.Changed, "#universe-select")
    def _universe_chosen(self, event: Select.Changed) -> None:
        session = getattr(self.app, "session", None)
        if isinstance(event.value, str) and session is not None and event.value != session.universe.name:
            self.show_error("")
            self.post_message(UniverseChosen(event.value))

    @on(Input.Submitted, "#universe-file")
    def _universe_file(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        leave_field(event.input)
        if not path:
            return
        if not Path(path).expanduser().is_file():
            self.show_error(f"{path}: no such file. Check the path (relative paths start from {Path.cwd()}).")
            return
        self.show_error("")
        self.post_message(UniverseChosen(str(Path(path).expanduser())))

    def _holdings_request(self) -> HoldingsChosen:
        path = self.query_one("#holdings-path", Input).value.strip()
        sheet = self.query_one("#holdings-sheet", Input).value.strip() or None
        keep = self.query_one("#ignore-unknown", Switch).value
        return HoldingsChosen(str(Path(path).expanduser()) if path else None, sheet, keep)

    @on(Input.Submitted, "#holdings-path")
    @on(Input.Submitted, "#holdings-sheet")
    def _holdings(self, event: Input.Submitted) -> None:
        leave_field(event.input)
        self.show_error("")
        self.post_message(self._holdings_request())

    @on(Switch.Changed, "#ignore-unknown")
    def _keep_unknown(self) -> None:
        if self.query_one("#holdings-path", Input).value.strip():
            self.show_error("")
            self.post_message(self._holdings_request())

    @on(Input.Submitted, "#capital")
    def _capital(self, event: Input.Submitted) -> None:
        from tui.session import parse_money
        from universes.errors import UserError

        leave_field(event.input)
        try:
            amount = parse_money(event.value) if event.value.strip() else None
        except UserError as exc:
            self.show_error(f"New cash: {exc}")
            return
        self.show_error("")
        self.post_message(CapitalChosen(amount))
