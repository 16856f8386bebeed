"""The key map: what each step is for and which keys work where."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = """\
[b]Steps[/b] (keys 1-8 work everywhere but in a text field: Esc leaves the field)
  1 Universe     universe or ticker list, holdings file (and sheet), new cash
  2 Screen       ranked candidates; the filters and factor weights beside them (f)
  3 Company      the evidence for the highlighted company; look up any ticker (l)
  4 Constraints  every constraint with a switch (sectors, themes too); no-buy/no-sell/locked
  5 Portfolio    weights before, target, after trades; sectors, themes, styles, rate cut
  6 Trades       the trade list as it will be sent; e exports it
  7 Backtest     the same choices walked forward over the data, point in time (r runs it)
  8 Thesis       small vs large, manufacturers vs utilities (r), month by month (h)

[b]Everywhere[/b]
  e          export the trade list (Excel workbook + broker basket)
  ctrl+s     save the workspace          ctrl+o  open a workspace
  ctrl+z     undo the last screen or constraint edit
  ctrl+r     re-solve now                ctrl+p  command palette (save/open screen, ...)
  ?          this key map                q       quit (asks if changes are unsaved)

[b]Step 2[/b]   / search   s sort by a column   c choose columns   f filters   u undo
            Enter on a row: its evidence (step 3); Own column: H held today, P in the portfolio
[b]Step 3[/b]   n / p next / previous ranked company   l look up a ticker
[b]Step 4[/b]   u undo; every valid change re-solves in the background (the newest wins)

Esc or ? closes this panel."""


class HelpScreen(ModalScreen[None]):
    """The steps and their keys, in the app's own words."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(KEYS, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
