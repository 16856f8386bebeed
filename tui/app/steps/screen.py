"""Step 2: the ranked table (sort, search, columns, held/portfolio marks) and the screen's form."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, Static, Switch
from textual.widgets.data_table import ColumnKey

from tui import CollectorHold
from tui.app.messages import CompanyChosen, EditsReset, ScreenEdited
from tui.app.steps.base import Cell, Step, Table, right, switch_parts

if TYPE_CHECKING:
    import pandas as pd

    from tui.session import Session, SolveOutcome


@dataclass(frozen=True)
class Column:
    """A column the ranked table can show: its key in the screen table, header, format."""

    key: str
    label: str
    kind: str  # "int", "num1", "num2", "money", "pct", "text"
    width: int = 0  # cut text to this many characters (0: as is)
    descending: bool = False  # a first click sorts best (largest) first

    def cell(self, value: Any) -> Any:
        from tui.output import fmt_money, fmt_num, fmt_pct

        if self.kind == "text":
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            return Cell(text[: self.width] if self.width else text, end="")  # as is, not read as markup
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return right("-")
        if self.kind == "int":
            return right(f"{int(value):,}")
        if self.kind == "money":
            return right(fmt_money(value))
        if self.kind == "pct":
            return right(fmt_pct(value))
        return right(fmt_num(value, 1 if self.kind == "num1" else 2))


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("rank", "#", "int"),
        Column("mark", "Own", "text"),
        Column("ticker", "Ticker", "text"),
        Column("composite", "Score", "num1", descending=True),
        Column("price_to_fair_value", "P/FV", "num2"),
        Column("quality", "Quality", "num1", descending=True),
        Column("value", "Value", "num1", descending=True),
        Column("piotroski_f", "F", "int", descending=True),
        Column("altman_z", "Z", "num2", descending=True),
        Column("price", "Price", "num2"),
        Column("fair_value", "Fair val", "num2"),
        Column("discount", "Discount", "pct", descending=True),
        Column("ev_to_ebit", "EV/EBIT", "num1"),
        Column("implied_growth", "Impl. growth", "pct"),
        Column("net_debt_to_ebitda", "ND/EBITDA", "num2"),
        Column("interest_coverage", "Coverage", "num1", descending=True),
        Column("market_cap", "Mkt cap", "money", descending=True),
        Column("adv_usd", "ADV $", "money", descending=True),
        Column("fiscal_year", "FY", "int"),
        Column("uncertainty", "Uncertainty", "text"),
        Column("piotroski_display", "F (of)", "text"),
        Column("cheap", "Cheap", "text"),
        Column("buy_below", "Buy below", "num2"),
        Column("intrinsic_value", "Intrinsic", "num2"),
        Column("relative_value", "Relative", "num2"),
        Column("fair_value_bear", "FV bear", "num2"),
        Column("fair_value_bull", "FV bull", "num2"),
        Column("wacc", "WACC", "pct"),
        Column("flag_count", "Flags #", "int"),
        Column("flags", "Red flags", "text", 40),
        Column("themes", "Themes", "text", 34),
        Column("rate_cut_gain", "Rate-cut gain", "pct"),
        Column("floating_share", "Floating", "pct"),
        Column("debt_to_ebitda", "Debt/EBITDA", "num2"),
        Column("sector", "Sector", "text", 18),
        Column("industry", "Industry", "text", 22),
        Column("name", "Name", "text", 30),
    )
}
DEFAULT_COLUMNS = ("rank", "mark", "ticker", "composite", "price_to_fair_value", "quality", "piotroski_f", "altman_z", "price", "fair_value", "market_cap", "flags", "themes", "sector", "name")


class ScreenStep(Step):
    """The ranked candidates of the screen, with the filters and weights beside them."""

    PRIMARY: ClassVar[str] = "#screen-table"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("slash", "search", "Search"),
        Binding("s", "sort", "Sort"),
        Binding("c", "columns", "Columns"),
        Binding("f", "toggle_form", "Filters"),
        Binding("u", "undo", "Undo"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns: list[str] = list(DEFAULT_COLUMNS)
        self.sort_column = "rank"
        self.sort_reverse = False
        self.search_text = ""
        self.selected: str | None = None
        self._rows: pd.DataFrame | None = None
        self._collector = CollectorHold()  # held by sort_by until the re-sorted table is painted

    def compose(self) -> ComposeResult:
        from screener import FACTORS, UNCERTAINTY_LEVELS
        from tui.forms import (
            ASSUMPTION_FIELDS,
            SCREEN_NUMBERS,
            SCREEN_SWITCHES,
            flag_names,
            penalty_field,
            weight_field,
        )

        narrow = self.app.size.width < 100  # a narrow terminal: the ranked table gets the whole width
        with Horizontal():
            with VerticalScroll(id="screen-form", classes="form hidden" if narrow else "form", can_focus=False):
                yield Static("", id="screen-error", classes="error")
                yield Label("[b]Filters[/b]")
                for key, fld in SCREEN_NUMBERS.items():
                    yield Label(f"{fld.label}{f' ({fld.unit.strip()})' if fld.unit else ''}")
                    yield Input(id=f"s-{key}", placeholder="off")
                for key, label in SCREEN_SWITCHES.items():
                    yield Horizontal(*switch_parts(Switch(False, id=f"s-{key}")), Label(label), classes="switch-row")
                yield Label("Altman zones (safe, grey, distress, n/a)")
                yield Input(id="s-z_zones", placeholder="all")
                yield Label("Themes (any of; ids, comma-separated)")
                yield Input(id="s-themes", placeholder="all (e.g. energy_transition)")
                yield Label("Drop companies with these red flags")
                yield Input(id="s-exclude_flags", placeholder="none (e.g. data_integrity)")
                yield Label("Most uncertain rating kept")
                yield Select([("any", "any"), *[(u, u) for u in UNCERTAINTY_LEVELS]], value="any", id="s-max_uncertainty", allow_blank=False)
                yield Label("Rank within")
                yield Select([("sector", "sector"), ("universe", "universe")], value="sector", id="s-peer_group", allow_blank=False)
                yield Label("Missing data ranks")
                yield Select([("worst", "worst"), ("neutral", "neutral")], value="worst", id="s-missing", allow_blank=False)
                yield Label("[b]Factor weights[/b]")
                for factor in FACTORS:
                    yield Label(weight_field(factor).label)
                    yield Input(id=f"s-w-{factor}")
                yield Label("[b]Red-flag penalties (points off the score)[/b]")
                for flag in flag_names():
                    yield Label(penalty_field(flag).label)
                    yield Input(id=f"s-p-{flag}")
                yield Label("[b]Valuation assumptions[/b]")
                for key, fld in ASSUMPTION_FIELDS.items():
                    yield Label(f"{fld.label} (%)")
                    yield Input(id=f"s-{key}")
                with Horizontal(classes="button-row"):
                    yield Button("Undo (u)", id="screen-undo", compact=True)
                    yield Button("Shipped screen", id="screen-reset", compact=True)
            with Vertical(id="screen-side"):
                yield Static("", id="screen-info")
                yield Input(placeholder="search ticker or name (Esc clears)", id="search", classes="hidden")
                yield Table(id="screen-table", cursor_type="row", zebra_stripes=True)

    # ---------------------------------------------------------------- form
    def show_session(self, session: Session) -> None:
        from tui.forms import form_from_screen

        values = form_from_screen(session.screen)
        form = self.query_one("#screen-form")
        with self.prevent(Input.Changed, Switch.Changed, Select.Changed):
            for widget in form.query("Input, Switch, Select"):
                key = (widget.id or "")[2:]
                if key in values:
                    widget.value = values[key]  # type: ignore[attr-defined]
                widget.remove_class("invalid")
        self.query_one("#screen-error", Static).update("")
        self.fill_table(session)

    def show_outcome(self, session: Session, outcome: SolveOutcome) -> None:
        self.fill_table(session)  # the portfolio marks follow the new portfolio

    def form_values(self) -> dict[str, Any]:
        """Every field of the form by its key."""
        values: dict[str, Any] = {}
        for widget in self.query_one("#screen-form").query("Input, Switch, Select"):
            if widget.id and widget.id.startswith("s-"):
                values[widget.id[2:]] = widget.value  # type: ignore[attr-defined]
        return values

    @on(Input.Changed, "#screen-form Input")
    @on(Switch.Changed, "#screen-form Switch")
    @on(Select.Changed, "#screen-form Select")
    def _edited(self) -> None:
        from tui.forms import FieldError, screen_from_form

        session = getattr(self.app, "session", None)
        if session is None:
            return
        form = self.query_one("#screen-form")
        for w in form.query(".invalid"):
            w.remove_class("invalid")
        try:
            screen = screen_from_form(session.screen, self.form_values())
        except FieldError as exc:
            self.query_one("#screen-error", Static).update(f"Not applied: {exc.message}")
            for w in form.query(f"#s-{exc.field}"):
                w.add_class("invalid")
            return
        self.query_one("#screen-error", Static).update("")
        if screen != session.screen:
            self.post_message(ScreenEdited(screen))

    def show_error(self, message: str) -> None:
        """Show why the screen could not be applied."""
        self.query_one("#screen-error", Static).update(message)

    @on(Button.Pressed, "#screen-undo")
    def action_undo(self) -> None:
        """Undo the last screen or constraint edit."""
        self.post_message(EditsReset("undo"))

    @on(Button.Pressed, "#screen-reset")
    def _reset(self) -> None:
        self.post_message(EditsReset("screen"))

    # ---------------------------------------------------------------- table
    def visible_rows(self, session: Session) -> pd.DataFrame:
        """The ranked rows that match the search, best first."""
        rows = session.screened.ranked
        if self.search_text:
            needle = self.search_text.lower()
            hit = rows.index.str.lower().str.contains(needle, regex=False) | rows["name"].fillna("").str.lower().str.contains(needle, regex=False)
            rows = rows[hit]
        return rows

    def _sort_table(self) -> None:
        """Order the table's rows in place by :attr:`sort_column` (missing values last)."""
        rows = self._rows
        table = self.query_one("#screen-table", DataTable)
        if rows is None or not len(rows):
            return
        column = self.sort_column if self.sort_column in rows.columns else "rank"
        values = rows[column].to_dict()
        reverse = self.sort_reverse

        def key(ticker: Any) -> tuple[bool, Any]:
            v = values.get(str(ticker))
            missing = v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == '<NA>'
            return (not missing if reverse else missing, 0 if missing else v)

        table.sort("ticker", key=key, reverse=reverse)
        if self.selected is not None and self.selected in values:  # the highlight follows the company
            table.move_cursor(row=table.get_row_index(self.selected), animate=False)

    def marks(self, session: Session, tickers: pd.Index) -> list[str]:
        """'H' for names held today, 'P' for names in the target portfolio."""
        held = set(session.holdings.shares.index) if session.holdings is not None else set()
        target: set[str] = set()
        if session.portfolio is not None:
            w = session.portfolio.weights["weight_after"]
            target = set(w.index[w > 1e-6])
        return [("H" if t in held else "") + ("P" if t in target else "") for t in tickers]

    def fill_table(self, session: Session) -> None:
        """Repaint the ranked table (keeps the highlighted company)."""
        rows = self.visible_rows(session)
        self._rows = rows
        table = self.query_one("#screen-table", DataTable)
        previous = self.selected
        table.clear(columns=True)
        for key in self.columns:
            col = COLUMNS[key]
            arrow = (" v" if self.sort_reverse else " ^") if key == self.sort_column else ""
            label = col.label + arrow
            table.add_column(right(label) if col.kind != "text" else label, key=key)
        data = {k: (self.marks(session, rows.index) if k == "mark" else rows[k].tolist() if k in rows.columns else [None] * len(rows)) for k in self.columns}
        specs = [COLUMNS[k] for k in self.columns]
        for i, ticker in enumerate(rows.index):
            table.add_row(*(spec.cell(data[spec.key][i]) for spec in specs), key=str(ticker))
        if self.sort_column != "rank" or self.sort_reverse:
            self._sort_table()
        self._info()
        if previous is not None and previous in rows.index:
            table.move_cursor(row=table.get_row_index(previous), animate=False)
        elif len(rows):
            self.selected = str(rows.index[0])
            self.post_message(CompanyChosen(self.selected))

    def _info(self) -> None:
        session = getattr(self.app, "session", None)
        if session is None or self._rows is None:
            return
        u = session.universe
        search = f" | search {self.search_text!r}: {len(self._rows):,} rows" if self.search_text else ""
        self.query_one("#screen-info", Static).update(
            f"{session.screen.name} | {len(session.screened.ranked):,} of {len(u):,} pass | sorted by "
            f"{COLUMNS[self.sort_column].label}{' (desc)' if self.sort_reverse else ''}{search}",
            layout=False,  # one line high (app.tcss), its size never changes: no layout of the whole screen after a sort
        )

    @on(DataTable.RowHighlighted, "#screen-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value != self.selected:
            self.selected = event.row_key.value
            self.post_message(CompanyChosen(str(self.selected)))

    @on(DataTable.RowSelected, "#screen-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.selected = event.row_key.value
        self.post_message(CompanyChosen(str(self.selected), open_step=True))

    @on(DataTable.HeaderSelected, "#screen-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column (the same column again reverses the order)."""
        # Drawing the ~500 cells again allocates enough to start the collector some 20 times
        # (about 5 ms of the 50 ms budget); it runs once the table is painted instead.
        self._collector.hold()
        self.call_after_refresh(self._collector.release)
        if reverse is not None:
            self.sort_column, self.sort_reverse = column, reverse
        elif column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, COLUMNS[column].descending
        table = self.query_one("#screen-table", DataTable)
        for key in self.columns:  # the arrow moves to the sorted column
            col = COLUMNS[key]
            arrow = (" v" if self.sort_reverse else " ^") if key == self.sort_column else ""
            table.columns[ColumnKey(key)].label = right(col.label + arrow) if col.kind != "text" else Text(col.label + arrow)
        self._sort_table()
        table.refresh()
        self._info()

    def on_unmount(self) -> None:
        self._collector.release()  # never leave the collector off (an app closed before the paint)

    def action_sort(self) -> None:
        """Pick the column to sort by from a list."""
        from tui.app.dialogs import ChoiceDialog

        choices = [(COLUMNS[k].label, k) for k in self.columns if k != "mark"]
        self.app.push_screen(ChoiceDialog("Sort the ranked table by (again: reverse)", choices, self.sort_column), lambda key: self.sort_by(key) if key else None)

    def action_columns(self) -> None:
        """Choose the columns of the ranked table."""
        from tui.app.dialogs import ColumnsDialog

        options = [(c.label, c.key) for c in COLUMNS.values() if c.key not in ("rank", "ticker")]
        self.app.push_screen(ColumnsDialog(options, [k for k in self.columns if k not in ("rank", "ticker")]), self._set_columns)

    def _set_columns(self, chosen: list[str] | None) -> None:
        if chosen is None:
            return
        self.columns = list(dict.fromkeys(["rank", "ticker", *[k for k in COLUMNS if k in chosen]]))
        if self.sort_column not in self.columns:
            self.sort_column, self.sort_reverse = "rank", False
        session = getattr(self.app, "session", None)
        if session is not None:
            self.fill_table(session)

    def action_toggle_form(self) -> None:
        """Show or hide the filters and weights."""
        self.query_one("#screen-form").toggle_class("hidden")

    def action_search(self) -> None:
        """Show the search box."""
        box = self.query_one("#search", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()
        session = getattr(self.app, "session", None)
        if session is not None:
            self.fill_table(session)

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#screen-table", DataTable).focus()

    def clear_search(self) -> None:
        """Empty and hide the search box (Esc)."""
        box = self.query_one("#search", Input)
        box.value = ""
        box.add_class("hidden")
        self.query_one("#screen-table", DataTable).focus()
