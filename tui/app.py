"""The Textual app: six steps from a universe to an exported trade list.

Start-up imports only Textual; the data, the screener and the optimiser load in a worker
thread after the first screen is on show. Every change of a screen filter, a factor weight or
a constraint re-solves in a background worker (debounced; the newest request wins), so the
interface never waits for the solver.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen as TextualScreen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    Select,
    Sparkline,
    Static,
    Switch,
    TabbedContent,
    TabPane,
)
from textual.worker import get_current_worker

from tui.dialogs import ConfirmDialog, PathDialog

if TYPE_CHECKING:
    from tui.workbench import SolveOutcome, Workbench

STEPS = (
    ("universe", "1 Universe"),
    ("screen", "2 Screen"),
    ("company", "3 Company"),
    ("constraints", "4 Constraints"),
    ("portfolio", "5 Portfolio"),
    ("trades", "6 Trades"),
)
#: Seconds to wait after the last change before re-solving (typing "15" is one solve).
DEBOUNCE_S = 0.05
SCREEN_COLUMNS = (
    ("rank", "#"),
    ("ticker", "Ticker"),
    ("composite", "Score"),
    ("price_to_fair_value", "P/FV"),
    ("quality", "Quality"),
    ("piotroski_f", "F"),
    ("altman_z", "Z"),
    ("price", "Price"),
    ("fair_value", "Fair val"),
    ("market_cap", "Mkt cap"),
    ("sector", "Sector"),
    ("name", "Name"),
)


def serialised(method: Callable[..., None]) -> Callable[..., None]:
    """Run a loading worker after any earlier one, and not at all if a newer one replaced it.

    Thread workers cannot be stopped, so an overtaken load (say a universe picked and then
    another) would otherwise finish after the newer one and win.
    """

    @functools.wraps(method)
    def run(self: RotationApp, *args: Any, **kwargs: Any) -> None:
        with self._load_lock:
            if not get_current_worker().is_cancelled:
                method(self, *args, **kwargs)

    return run


def _row_of(field_id: str) -> str:
    """The constraint row a field belongs to (``sector-3-min`` -> ``sector-3``)."""
    for suffix in ("-min", "-max", "-on"):
        if field_id.endswith(suffix):
            return field_id[: -len(suffix)]
    return field_id


class RotationApp(App[None]):
    """Small-cap rotation workbench."""

    TITLE = "Rotation"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        *(Binding(str(i + 1), f"step('{key}')", label.split()[1], show=False) for i, (key, label) in enumerate(STEPS)),
        Binding("question_mark", "toggle_keys", "Keys"),
        Binding("slash", "search", "Search", show=False),
        Binding("e", "export", "Export"),
        Binding("ctrl+s", "save_workspace", "Save"),
        Binding("ctrl+o", "open_workspace", "Open"),
        Binding("ctrl+r", "resolve", "Re-solve", show=False),
        Binding("s", "sort", "Sort", show=False),
        Binding("f", "toggle_form", "Filters", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, workspace: str | None = None, universe: str | None = None) -> None:
        super().__init__()
        self.workspace_path = workspace
        self.start_universe = universe
        self.bench: Workbench | None = None
        self.sectors: list[str] = []
        self.selected: str | None = None
        self.solves = 0
        self.last_outcome: SolveOutcome | None = None
        self.sort_column = "rank"
        self.sort_reverse = False
        self.search_text = ""
        self._solve_timer: Any = None
        self.pending_settings: Any = None
        self._load_lock = threading.Lock()
        self._filling = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static("Rotation | loading the universe...", id="status")
        with TabbedContent(id="steps", initial="universe"):
            with TabPane(STEPS[0][1], id="universe"), Horizontal():
                with VerticalScroll(id="universe-form", classes="form"):
                    yield Label("Universe")
                    yield Select[str]([], id="universe-select", allow_blank=True, prompt="loading...")
                    yield Input(placeholder="or a .csv/.xlsx list of tickers, Enter", id="universe-file")
                    yield Label("Holdings file (ticker, shares; CASH row)")
                    yield Input(placeholder="path to .csv/.xlsx, Enter (blank: cash)", id="holdings-path")
                    yield Horizontal(Switch(False, id="ignore-unknown"), Label("keep unknown tickers"), classes="switch-row")
                    yield Label("Capital, USD (cash to invest)")
                    yield Input("1000000", id="capital")
                    yield Static("", id="universe-error", classes="error")
                with Vertical(id="universe-side"):
                    yield Static("", id="universe-info")
                    yield DataTable(id="sector-mix", cursor_type="none", zebra_stripes=True)
            with TabPane(STEPS[1][1], id="screen"), Horizontal():
                yield VerticalScroll(id="screen-form", classes="form")
                with Vertical(id="screen-side"):
                    yield Static("", id="screen-info")
                    yield Input(placeholder="search ticker or name (Esc clears)", id="search", classes="hidden")
                    yield DataTable(id="screen-table", cursor_type="row", zebra_stripes=True)
            with TabPane(STEPS[2][1], id="company"), VerticalScroll(id="company-view"):
                yield Static("Highlight a company in step 2.", id="company-head")
                yield Sparkline([], id="company-chart")
                yield Static("", id="company-chart-label", classes="dim")
                yield DataTable(id="company-fv", cursor_type="none")
                yield DataTable(id="company-piotroski", cursor_type="none")
                yield DataTable(id="company-z", cursor_type="none")
                yield Static("", id="company-score")
            with TabPane(STEPS[3][1], id="constraints"), Vertical():
                yield Static("Loading...", id="constraints-error", classes="error")
                yield VerticalScroll(id="constraints-form", classes="form")
            with TabPane(STEPS[4][1], id="portfolio"), Vertical():
                yield Static("", id="portfolio-stats")
                yield Static("", id="diagnosis", classes="hidden")
                with Horizontal():
                    yield DataTable(id="weights", cursor_type="row", zebra_stripes=True)
                    with VerticalScroll(id="portfolio-side"):
                        yield Static("", id="sector-chart")
                        yield DataTable(id="binding", cursor_type="none")
            with TabPane(STEPS[5][1], id="trades"), Vertical():
                yield Static("", id="trade-totals")
                yield DataTable(id="trade-table", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="trade-buttons"):
                    yield Button("Export to Excel + basket (e)", id="export", variant="primary")
                    yield Button("Save workspace (ctrl+s)", id="save")
        yield Footer()

    def on_mount(self) -> None:
        if self.size.width < 100:  # narrow terminal: the ranked table gets the whole width
            self.query_one("#screen-form").add_class("hidden")
        self.load_workbench()

    # ------------------------------------------------------------------ loading
    @work(thread=True, exclusive=True, group="load")
    @serialised
    def load_workbench(self, universe: str | None = None) -> None:
        """Open the workspace (or the default universe), screen it and solve once."""
        from tui.workbench import USER_ERRORS, Workbench

        try:
            if self.bench is None and self.workspace_path:
                bench = Workbench.from_workspace(self.workspace_path)
            elif self.bench is None:
                bench = Workbench(self.start_universe) if self.start_universe else Workbench()
            else:
                bench = self.bench
                if universe is not None:
                    bench.set_universe(universe)
        except USER_ERRORS as exc:
            self.call_from_thread(self._load_failed, str(exc))
            return
        outcome = bench.solve(request=bench.next_request())
        self.call_from_thread(self._loaded, bench, outcome)

    def _load_failed(self, message: str) -> None:
        self._universe_error(message)
        if self.bench is None and self.workspace_path:
            self.workspace_path = None
            self.load_workbench()
        else:
            self._set_status()

    async def _loaded(self, bench: Workbench, outcome: SolveOutcome) -> None:
        first = self.bench is None
        self.bench = bench
        self.pending_settings = None  # the loaded session's own settings apply
        self.query_one("#universe-error", Static).update("")
        self._fill_universe()
        await self._build_screen_form()
        self._fill_screen_table()
        await self._build_constraints_form()
        self._apply_outcome(outcome)
        if first:
            self.query_one("#screen-table", DataTable).focus()
            self.notify(f"{bench.universe.name}: {len(bench.universe):,} companies as of {bench.universe.as_of.date()}")

    def _set_status(self, extra: str = "") -> None:
        b = self.bench
        if b is None:
            text = "Rotation | loading..."
        else:
            text = (
                f"Rotation | {b.universe.name} ({len(b.universe):,}) as of {b.universe.as_of.date()} | "
                f"{len(b.result.ranked):,} pass the screen | start: {b.holdings_label}"
            )
        self.query_one("#status", Static).update(text + (f" | {extra}" if extra else ""))

    # ------------------------------------------------------------------ step 1
    def _fill_universe(self) -> None:
        from universes import universe_definitions

        b = self._bench()
        select = self.query_one("#universe-select", Select)
        names = list(universe_definitions())
        self._filling = True
        options = [(n, n) for n in names]
        if b.universe.name not in names:
            options.append((b.universe.name, b.universe.name))
        select.set_options(options)
        select.value = b.universe.name
        self.call_after_refresh(setattr, self, "_filling", False)
        u = b.universe
        notes = "\n".join(f"- {n}" for n in u.notes)
        self.query_one("#universe-info", Static).update(
            f"[b]{u.name}[/b]: {u.description}\n"
            f"As of {u.as_of.date()} | {len(u):,} companies | dataset {u.dataset} ({u.provider})\n"
            f"Start: {b.holdings_label}\n{notes}"
        )
        table = self.query_one("#sector-mix", DataTable)
        table.clear(columns=True)
        table.add_columns("Sector", "Companies", "Share of market cap")
        table.add_rows((s, f"{n:,}", f"{100 * w:.1f}%") for s, n, w in b.sector_mix())
        self._set_status()

    @on(Select.Changed, "#universe-select")
    def _universe_chosen(self, event: Select.Changed) -> None:
        if self._filling or self.bench is None or event.value in (Select.BLANK, self.bench.universe.name):
            return
        self.notify(f"Loading {event.value}...")
        self.load_workbench(universe=str(event.value))

    @on(Input.Submitted, "#universe-file")
    def _universe_file(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        if not Path(path).expanduser().is_file():
            self.query_one("#universe-error", Static).update(f"{path}: no such file. Check the path.")
            return
        self.notify(f"Loading the tickers in {path}...")
        self.load_workbench(universe=str(Path(path).expanduser()))

    @on(Input.Submitted, "#holdings-path")
    def _holdings_path(self, event: Input.Submitted) -> None:
        self.load_holdings(event.value.strip(), self.query_one("#ignore-unknown", Switch).value)

    @work(thread=True, exclusive=True, group="load")
    @serialised
    def load_holdings(self, path: str, ignore_unknown: bool = False) -> None:
        """Read a holdings file (blank: start from cash) and re-solve."""
        from tui.workbench import USER_ERRORS

        b = self._bench()
        try:
            b.set_holdings(str(Path(path).expanduser()) if path else None, ignore_unknown)
        except USER_ERRORS as exc:
            self.call_from_thread(self._universe_error, str(exc))
            return
        outcome = b.solve(request=b.next_request())
        self.call_from_thread(self._holdings_loaded, outcome)

    def _universe_error(self, message: str) -> None:
        self.query_one("#universe-error", Static).update(message)
        self.notify(message, severity="error", timeout=10)

    def _holdings_loaded(self, outcome: SolveOutcome) -> None:
        b = self._bench()
        self.query_one("#universe-error", Static).update(
            "\n".join(b.holdings.warnings) if b.holdings is not None else ""
        )
        self._fill_universe()
        self._apply_outcome(outcome)
        self.notify(f"Starting from {b.holdings_label}")

    @on(Input.Submitted, "#capital")
    def _capital(self, event: Input.Submitted) -> None:
        text = event.value.replace(",", "").replace("_", "").strip()
        try:
            capital = float(text)
        except ValueError:
            self._universe_error(f"Capital: {event.value!r} is not a number of USD.")
            return
        if not capital > 0:
            self._universe_error("Capital: enter a positive amount of USD.")
            return
        self.set_capital(capital)

    @work(thread=True, exclusive=True, group="load")
    @serialised
    def set_capital(self, capital: float) -> None:
        """Change the cash to invest and re-solve."""
        b = self._bench()
        b.set_capital(capital)
        outcome = b.solve(request=b.next_request())
        self.call_from_thread(self._holdings_loaded, outcome)

    # ------------------------------------------------------------------ step 2
    async def _build_screen_form(self) -> None:
        from screener import FACTORS
        from tui.forms import SCREEN_NUMBERS, SCREEN_SWITCHES, form_from_screen, weight_field

        b = self._bench()
        values = form_from_screen(b.screen)
        form = self.query_one("#screen-form", VerticalScroll)
        await form.remove_children()
        widgets: list[Any] = [Static("", id="screen-error", classes="error"), Label("[b]Filters[/b]")]
        for key, fld in SCREEN_NUMBERS.items():
            widgets += [Label(f"{fld.label}{f' ({fld.unit.strip()})' if fld.unit else ''}"), Input(values[key], id=f"s-{key}", placeholder="off")]
        for key, label in SCREEN_SWITCHES.items():
            widgets.append(Horizontal(Switch(values[key], id=f"s-{key}"), Label(label), classes="switch-row"))
        widgets += [Label("Altman zones (safe, grey, distress, n/a)"), Input(values["z_zones"], id="s-z_zones", placeholder="all")]
        widgets += [
            Label("Rank within"),
            Select([("sector", "sector"), ("universe", "universe")], value=values["peer_group"], id="s-peer_group", allow_blank=False),
            Label("Missing data ranks"),
            Select([("worst", "worst"), ("neutral", "neutral")], value=values["missing"], id="s-missing", allow_blank=False),
            Label("[b]Factor weights[/b]"),
        ]
        for factor in FACTORS:
            widgets += [Label(weight_field(factor).label), Input(values[f"w-{factor}"], id=f"s-w-{factor}")]
        self._filling = True
        await form.mount_all(widgets)
        self._filling = False

    def _form_values(self, container: str, prefix: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for widget in self.query_one(container).query("Input, Switch, Select"):
            if widget.id and widget.id.startswith(prefix):
                values[widget.id[len(prefix):]] = widget.value  # type: ignore[attr-defined]
        return values

    @on(Input.Changed, "#screen-form Input")
    @on(Switch.Changed, "#screen-form Switch")
    @on(Select.Changed, "#screen-form Select")
    def _screen_changed(self) -> None:
        """Validate the screen form; on success re-rank with it (in a worker)."""
        from tui.forms import FieldError, screen_from_form

        if self._filling or self.bench is None:
            return
        form = self.query_one("#screen-form")
        for w in form.query(".invalid"):
            w.remove_class("invalid")
        try:
            screen = screen_from_form(self.bench.screen, self._form_values("#screen-form", "s-"))
        except FieldError as exc:
            self.query_one("#screen-error", Static).update(exc.message)
            for w in form.query(f"#s-{exc.field}"):
                w.add_class("invalid")
            return
        self.query_one("#screen-error", Static).update("")
        if screen != self.bench.screen:  # mounting the form echoes its values: not a change
            self.apply_screen(screen)

    @work(thread=True, exclusive=True, group="screen")
    def apply_screen(self, screen: Any, from_file: bool = False) -> None:
        """Re-screen with the edited filters and weights (or a screen file), then re-solve."""
        from tui.workbench import USER_ERRORS

        b = self._bench()
        try:
            b.set_screen(screen)
        except USER_ERRORS as exc:
            self.call_from_thread(self.query_one("#screen-error", Static).update, str(exc))
            return
        self.call_from_thread(self._screen_applied, from_file)

    async def _screen_applied(self, from_file: bool = False) -> None:
        if from_file:  # the form shows the file's settings
            await self._build_screen_form()
        self._fill_screen_table()
        self._set_status()
        self.request_solve()

    def _screen_rows(self) -> Any:
        b = self._bench()
        rows = b.result.ranked
        if self.search_text:
            needle = self.search_text.lower()
            hit = rows.index.str.lower().str.contains(needle, regex=False) | rows["name"].fillna("").str.lower().str.contains(needle, regex=False)
            rows = rows[hit]
        if self.sort_column != "rank":
            rows = rows.sort_values(self.sort_column, ascending=not self.sort_reverse, na_position="last", kind="stable")
        elif self.sort_reverse:
            rows = rows.iloc[::-1]
        return rows

    def _fill_screen_table(self) -> None:
        from tui.output import fmt_money, fmt_num

        b = self._bench()
        rows = self._screen_rows()
        table = self.query_one("#screen-table", DataTable)
        previous = self.selected
        table.clear(columns=not table.columns)
        if not table.columns:
            for key, label in SCREEN_COLUMNS:
                arrow = (" v" if self.sort_reverse else " ^") if key == self.sort_column else ""
                table.add_column(label + arrow, key=key)

        def cells(r: Any) -> tuple[Any, ...]:
            return (
                int(r.rank),
                r.ticker,
                fmt_num(r.composite, 1),
                fmt_num(r.price_to_fair_value),
                fmt_num(r.quality, 1),
                "-" if r.piotroski_f != r.piotroski_f else int(r.piotroski_f),
                fmt_num(r.altman_z),
                fmt_num(r.price),
                fmt_num(r.fair_value),
                fmt_money(r.market_cap),
                str(r.sector)[:18],
                str(r.name)[:30],
            )

        cols = [k for k, _ in SCREEN_COLUMNS]
        for r in rows[cols].itertuples(index=False):
            table.add_row(*cells(r), key=r.ticker)
        search = f" | search {self.search_text!r}: {len(rows):,} rows" if self.search_text else ""
        self.query_one("#screen-info", Static).update(
            f"{b.screen.name} | {len(b.result.ranked):,} of {len(b.universe):,} pass | sorted by "
            f"{dict(SCREEN_COLUMNS)[self.sort_column]}{' (desc)' if self.sort_reverse else ''} "
            f"| s sort, / search, f filters{search}"
        )
        if previous is not None and previous in rows.index:
            table.move_cursor(row=table.get_row_index(previous))
        elif len(rows):
            self.selected = str(rows.index[0])
        if self.query_one("#steps", TabbedContent).active == "company":
            self._fill_company()  # otherwise it is filled when step 3 is shown

    @on(DataTable.RowHighlighted, "#screen-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value != self.selected:
            self.selected = event.row_key.value
            if self.query_one("#steps", TabbedContent).active == "company":
                self._fill_company()

    @on(DataTable.RowSelected, "#screen-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.selected = event.row_key.value
        self.action_step("company")

    @on(DataTable.HeaderSelected, "#screen-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self._sort_by(str(event.column_key.value))

    def _sort_by(self, column: str) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = column
            self.sort_reverse = column in ("composite", "quality", "market_cap", "piotroski_f", "altman_z")
        table = self.query_one("#screen-table", DataTable)
        table.clear(columns=True)
        self._fill_screen_table()

    def action_sort(self) -> None:
        """Sort the screen table by the next column (press again to cycle)."""
        if self.bench is None:
            return
        keys = [k for k, _ in SCREEN_COLUMNS]
        self._sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)])
        self.notify(f"Sorted by {dict(SCREEN_COLUMNS)[self.sort_column]}", timeout=2)

    def action_toggle_form(self) -> None:
        """Show or hide the filter and weight form beside the screen table."""
        self.action_step("screen")
        self.query_one("#screen-form").toggle_class("hidden")

    def action_search(self) -> None:
        """Show the search box of the screen table."""
        self.action_step("screen")
        box = self.query_one("#search", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()
        if self.bench is not None:
            self._fill_screen_table()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#screen-table", DataTable).focus()

    def on_key(self, event: Any) -> None:
        if event.key != "escape" or not isinstance(self.focused, Input) or self.screen is not self.screen_stack[0]:
            return
        box = self.query_one("#search", Input)
        if self.focused is box:
            box.value = ""
            box.add_class("hidden")
            self.query_one("#screen-table", DataTable).focus()
        else:
            self.set_focus(None)  # leave the field: the step keys 1-6 work again

    # ------------------------------------------------------------------ step 3
    def _fill_company(self) -> None:
        from screener import evidence
        from tui.output import fmt_money, fmt_num, fmt_pct, fmt_short

        b = self.bench
        if b is None or self.selected is None or self.selected not in b.result.table.index:
            return
        t = self.selected
        row = b.result.table.loc[t]
        ev = evidence(b.result, t)
        fv = ev["fair_value"]
        sc = ev["score"]
        self.query_one("#company-head", Static).update(
            f"[b]{t}[/b]  {row['name']} | {row['sector']} / {row['industry']} | SIC {row['sic'] if row['sic'] == row['sic'] else '?'}\n"
            f"Price {fmt_num(fv['price'])} | fair value {fmt_num(fv['blend'])} ({fv['methods_used']} methods, uncertainty {fv['uncertainty']}) | "
            f"P/FV {fmt_num(fv['price_to_fair_value'])} | market cap {fmt_money(row['market_cap'])}\n"
            f"Rank {sc['rank'] if sc['rank'] is not None else '- (filtered out)'} | composite {fmt_num(sc['composite'], 1)} "
            f"(quality {fmt_num(sc['quality'], 1)}, value {fmt_num(sc['value'], 1)}) | growth the price implies {fmt_pct(fv['implied_growth'])}"
        )
        prices = b.universe.prices.series(t).iloc[-252:]
        self.query_one("#company-chart", Sparkline).data = [float(x) for x in prices.to_numpy()]
        if len(prices):
            self.query_one("#company-chart-label", Static).update(
                f"Adjusted close, last {len(prices)} sessions to {prices.index[-1].date()}: "
                f"low {prices.min():.2f}, high {prices.max():.2f}, last {prices.iloc[-1]:.2f}"
            )
        table = self.query_one("#company-fv", DataTable)
        table.clear(columns=True)
        table.add_columns("Fair-value method", "Per share", "Key inputs")
        for key in fv["method_order"]:
            m = fv["methods"][key]
            inputs = ", ".join(f"{k}={fmt_short(v)}" for k, v in list(m["inputs"].items())[:3])
            table.add_row(m["label"], fmt_num(m["value"]), inputs)
        table = self.query_one("#company-piotroski", DataTable)
        table.clear(columns=True)
        p = ev["piotroski"]
        table.add_columns(f"Piotroski F = {p['score']}/9", "")
        for s in p["signals"]:
            table.add_row(s["label"], "pass" if s["pass"] else "fail")
        a = ev["altman"]
        table = self.query_one("#company-z", DataTable)
        table.clear(columns=True)
        table.add_columns(f"Altman {a['model']} = {fmt_num(a['z'])} ({a['zone']})", "Value", "Weight", "Points")
        for c in a["components"]:
            pts = None if c["value"] is None else c["value"] * c["weight"]
            table.add_row(c["component"], fmt_num(c["value"], 3), fmt_num(c["weight"], 3), fmt_num(pts, 3))
        factors = "  ".join(f"{f['label']} {fmt_num(f['contribution'], 1)}" for f in sc["factors"])
        self.query_one("#company-score", Static).update(f"Points by factor ({sc['peer_group']} percentiles): {factors}")

    # ------------------------------------------------------------------ step 4
    async def _build_constraints_form(self) -> None:
        from tui.forms import CONSTRAINT_FIELDS, form_from_settings, sector_field

        b = self._bench()
        sectors = sorted(set(b.universe.companies["sector"].dropna()) | set(b.settings.sectors))
        self.sectors = sectors
        v = form_from_settings(b.settings, sectors)
        f = CONSTRAINT_FIELDS

        def row(key: str, label: str, inputs: Iterable[tuple[str, str]], switch: bool) -> Horizontal:
            parts: list[Any] = [Switch(bool(v[f"{key}-on"]), id=f"c-{key}-on")] if switch else [Static("", classes="switch-gap")]
            parts.append(Label(label, classes="row-label"))
            for fid, placeholder in inputs:
                parts.append(Input(v[fid], id=f"c-{fid}", placeholder=placeholder, classes="num"))
            parts.append(Static("", id=f"cerr-{key}", classes="error row-error"))
            return Horizontal(*parts, classes="constraint-row")

        rows = [
            row("risk_aversion", "Risk aversion", [("risk_aversion", "")], False),
            row("cash_buffer", "Cash buffer %", [("cash_buffer", "")], False),
            row("max_weight", "Name cap %", [("max_weight", "")], True),
            row("manufacturing", "Manufacturing (SIC) %", [("manufacturing-min", "min"), ("manufacturing-max", "max")], True),
        ]
        rows += [
            row(f"sector-{i}", f"{s[:21]} %", [(sector_field(i, 'min', s).id, "min"), (sector_field(i, 'max', s).id, "max")], True)
            for i, s in enumerate(sectors)
        ]
        rows += [
            row("turnover", "Turnover % (buys+sells)", [("turnover", "")], True),
            row("adv", "Trade cap % of daily vol", [("adv", "")], True),
            row("tracking_error", "Tracking error %", [("tracking_error", "")], True),
            row("beta", "Beta", [("beta-min", "min"), ("beta-max", "max")], True),
            row("max_names", "Max names", [("max_names", "")], True),
            row("min_position", "Min position %", [("min_position", "")], True),
            row("lot_size", f["lot_size"].label, [("lot_size", "")], False),
            row("min_trade_usd", f["min_trade_usd"].label, [("min_trade_usd", "")], False),
        ]
        form = self.query_one("#constraints-form", VerticalScroll)
        self._filling = True
        await form.remove_children()
        await form.mount_all(rows)
        self._filling = False
        self.query_one("#constraints-error", Static).update("")

    @on(Input.Changed, "#constraints-form Input")
    @on(Switch.Changed, "#constraints-form Switch")
    def _constraints_changed(self) -> None:
        """Validate the constraint form; on success keep the settings and schedule a re-solve."""
        from tui.forms import FieldError, settings_from_form

        if self._filling or self.bench is None:
            return
        form = self.query_one("#constraints-form")
        for w in form.query(".invalid"):
            w.remove_class("invalid")
        for w in form.query(".row-error"):
            w.update("")  # type: ignore[attr-defined]
        try:
            settings = settings_from_form(self.bench.settings, self._form_values("#constraints-form", "c-"), self.sectors)
        except FieldError as exc:
            for w in form.query(f"#c-{exc.field}"):
                w.add_class("invalid")
            for w in form.query(f"#cerr-{_row_of(exc.field)}"):
                w.update(exc.message)  # type: ignore[attr-defined]
            self.query_one("#constraints-error", Static).update(f"Not applied: {exc.message}")
            return
        self.query_one("#constraints-error", Static).update("")
        if settings == (self.pending_settings or self.bench.settings):
            return  # mounting the form echoes its values: not a change
        self.pending_settings = settings
        self.request_solve()

    # ------------------------------------------------------------------ solving
    def request_solve(self) -> None:
        """Re-solve shortly (a burst of changes becomes one solve)."""
        if self._solve_timer is not None:
            self._solve_timer.stop()
        self._set_status("solving...")
        self._solve_timer = self.set_timer(DEBOUNCE_S, self._launch_solve)

    def _launch_solve(self) -> None:
        b = self._bench()
        self.solve(self.pending_settings, b.next_request())

    @work(thread=True, exclusive=True, group="solve")
    def solve(self, settings: Any, request: int) -> None:
        """Solve in the background; only the newest request's outcome is shown."""
        b = self._bench()
        if not b.is_latest(request):
            return
        outcome = b.solve(settings, request)
        if b.is_latest(request):
            self.call_from_thread(self._apply_outcome, outcome)

    def action_resolve(self) -> None:
        """Re-solve now with the current settings."""
        if self.bench is not None:
            self.request_solve()

    def _apply_outcome(self, outcome: SolveOutcome) -> None:
        from tui.output import fmt_money, fmt_num, fmt_pct

        self.last_outcome = outcome
        diagnosis = self.query_one("#diagnosis", Static)
        if outcome.result is None:
            kept = self._bench().portfolio
            diagnosis.update(
                f"[b]{outcome.error}[/b]\n"
                + ("Showing the last feasible portfolio below." if kept is not None else "No feasible portfolio yet.")
            )
            diagnosis.remove_class("hidden")
            self._set_status("INFEASIBLE: see step 5")
            self.notify(outcome.error.splitlines()[0], severity="error", timeout=6)
            self.solves += 1
            return
        diagnosis.add_class("hidden")
        r = outcome.result
        s, t = r.stats, r.trades
        integer = ""
        if r.integer is not None:
            integer = f" | relax-and-fix {r.integer.names} names, gap {fmt_pct(r.integer.gap, 3)}"
        self.query_one("#portfolio-stats", Static).update(
            f"[b]{r.status}[/b] in {r.solve_ms:.0f} ms ({r.solver}) | value {fmt_money(t.portfolio_value)} | {s['names']} names | "
            f"expected alpha {fmt_pct(s['expected_alpha'], 2)} | volatility {fmt_pct(s['volatility'])} | "
            f"tracking error {fmt_pct(s['tracking_error'])} | beta {fmt_num(s['beta'])} | turnover {fmt_pct(s['turnover'])}{integer}"
        )
        held = r.positions()
        table = self.query_one("#weights", DataTable)
        table.clear(columns=not table.columns)
        if not table.columns:
            table.add_columns("Ticker", "Before", "After", "Sector", "Why", "Name")
        table.add_rows(
            (tk, fmt_pct(x["weight_before"], 2), fmt_pct(x["weight_after"], 2), str(x["sector"])[:16], x["binding"] or "", str(x["name"])[:24])
            for tk, x in held.iterrows()
        )
        self.query_one("#sector-chart", Static).update(sector_chart(r))
        binding = self.query_one("#binding", DataTable)
        binding.clear(columns=not binding.columns)
        if not binding.columns:
            binding.add_columns("Binding constraint", "Setting", "Worth / 1pp")
        c = r.constraints
        for _, x in c[c["binding"]].iterrows():
            worth = "-" if x["shadow_price"] is None or x["shadow_price"] != x["shadow_price"] else f"{1e4 * x['shadow_price']:.2f} bp"
            binding.add_row(x["name"], str(x["setting"])[:22], worth)
        self._fill_trades(r)
        self.solves += 1
        self._set_status(f"solved in {r.solve_ms:.0f} ms")

    # ------------------------------------------------------------------ step 6
    def _fill_trades(self, r: Any) -> None:
        from tui.output import fmt_money, fmt_num, fmt_pct

        t = r.trades
        self.query_one("#trade-totals", Static).update(
            f"{len(t.trades)} trades | buys {fmt_money(t.buys)} | sells {fmt_money(t.sells)} | turnover {fmt_pct(t.turnover)} | "
            f"est. costs {fmt_num(t.costs)} USD | cash {fmt_money(t.cash_before)} -> {fmt_money(t.cash_after)}"
            + ("".join(f"\nNote: {n}" for n in r.notes[:3]))
        )
        table = self.query_one("#trade-table", DataTable)
        table.clear(columns=not table.columns)
        if not table.columns:
            table.add_columns("Ticker", "Name", "Side", "Shares", "Price", "Notional", "Cost", "Weight", "Reason")
        table.add_rows(
            (x.ticker, str(x.name)[:22], x.side, f"{x.shares:,.0f}", fmt_num(x.price), fmt_money(x.notional), fmt_num(x.est_cost), fmt_pct(x.weight_after, 2), x.reason)
            for x in t.trades.itertuples()
        )

    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
        """Ask for a path and export the trade list (workbook + basket)."""
        b = self.bench
        if b is None or b.portfolio is None:
            self.notify("No feasible portfolio to export yet.", severity="warning")
            return
        default = str(Path.cwd() / f"rotation-{b.universe.name}-{b.universe.as_of.date()}.xlsx")
        self.push_screen(
            PathDialog("Export the trade list to (a broker basket .csv is written beside it):", default, "The workbook has Summary, Trades, Portfolio, Screen, Constraints and Sources sheets.", (".xlsx",)),
            self._export_to,
        )

    def _ask_before_replacing(self, targets: list[Path], then: Callable[[bool], None]) -> None:
        """Run ``then(overwrite)`` at once when no target exists, else after a yes."""
        existing = [p for p in targets if p.exists()]
        if not existing:
            then(False)
            return
        names = ", ".join(str(p) for p in existing)
        self.push_screen(ConfirmDialog(f"{names} already exists. Replace?"), lambda yes: then(True) if yes else None)

    def _export_to(self, path: str | None) -> None:
        if not path:
            return
        from optimizer.export import basket_path

        target = Path(path).expanduser()
        self._ask_before_replacing([target, basket_path(target)], lambda overwrite: self.export(str(target), overwrite))

    @work(thread=True, exclusive=True, group="export")
    def export(self, path: str, overwrite: bool) -> None:
        """Write the workbook and basket in the background."""
        from tui.workbench import USER_ERRORS

        try:
            xlsx, basket = self._bench().export(path, overwrite=overwrite)
        except USER_ERRORS as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        self.call_from_thread(self.notify, f"Wrote {xlsx} and {basket}", timeout=10)

    # ------------------------------------------------------------------ workspace
    @on(Button.Pressed, "#save")
    def action_save_workspace(self) -> None:
        """Save universe, screen, constraints and holdings path as a TOML workspace."""
        if self.bench is None:
            return
        default = self.workspace_path or str(Path.cwd() / "rotation-workspace.toml")
        self.push_screen(PathDialog("Save the workspace to:", default, "Universe, screen, constraints and holdings path.", (".toml",)), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if path:
            self._ask_before_replacing([Path(path).expanduser()], lambda overwrite: self._save_workspace(path, overwrite))

    def _save_workspace(self, path: str, overwrite: bool) -> None:
        from tui.workbench import USER_ERRORS

        try:
            saved = self._bench().save_workspace(path, overwrite=overwrite)
        except USER_ERRORS as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.workspace_path = str(saved)
        self.notify(f"Saved the workspace to {saved}")

    def action_save_screen(self) -> None:
        """Save the screen as edited (filters, weights, ranking, assumptions) as a screen file."""
        if self.bench is None:
            return
        default = str(Path.cwd() / "my-screen.toml")
        self.push_screen(PathDialog("Save the screen to:", default, "Use it later with --screen FILE, or open it here.", (".toml",)), self._save_screen_to)

    def _save_screen_to(self, path: str | None) -> None:
        if path:
            target = Path(path).expanduser()
            self._ask_before_replacing([target], lambda _: self._save_screen(target))

    def _save_screen(self, target: Path) -> None:
        from screener import ScreenError, save_screen

        if not target.parent.is_dir():
            self.notify(f"Folder {target.parent} does not exist. Create it first or choose another path.", severity="error", timeout=10)
            return
        try:
            saved = save_screen(self._bench().screen, target)
        except (OSError, ScreenError) as exc:
            self.notify(f"Could not save the screen: {exc}", severity="error", timeout=10)
            return
        self.notify(f"Saved the screen to {saved}")

    def action_open_screen(self) -> None:
        """Load a screen file (shipped name or path) and re-rank with it."""
        if self.bench is not None:
            self.push_screen(PathDialog("Open a screen file:", str(Path.cwd() / "my-screen.toml"), "", (".toml",)), self._open_screen)

    def _open_screen(self, path: str | None) -> None:
        from screener import ScreenError, load_screen

        if not path:
            return
        try:
            screen = load_screen(path)
        except ScreenError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.apply_screen(screen, from_file=True)
        self.notify(f"Screen {screen.name!r} from {path}")

    def action_open_workspace(self) -> None:
        """Open a saved workspace (replaces the current session)."""
        default = self.workspace_path or str(Path.cwd() / "rotation-workspace.toml")
        self.push_screen(PathDialog("Open the workspace:", default, "", (".toml",)), self._open)

    def _open(self, path: str | None) -> None:
        if path:
            self.open_workspace(path)

    @work(thread=True, exclusive=True, group="load")
    @serialised
    def open_workspace(self, path: str) -> None:
        """Load a workspace; on error the current session stays as it was."""
        from tui.workbench import USER_ERRORS, Workbench

        try:
            bench = Workbench.from_workspace(path)
        except USER_ERRORS as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        outcome = bench.solve(request=bench.next_request())
        self.workspace_path = path
        self.call_from_thread(self._loaded, bench, outcome)
        self.call_from_thread(self.notify, f"Opened {path}")

    # ------------------------------------------------------------------ navigation
    def action_step(self, step: str) -> None:
        """Show one of the six steps (step 3 is filled when it is shown: see ``_tab``)."""
        self.query_one("#steps", TabbedContent).active = step

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "company":
            self._fill_company()

    def action_toggle_keys(self) -> None:
        """Show or hide the key map."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: TextualScreen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, label in STEPS:
            yield SystemCommand(f"Go to step {label}", f"Show the {key} step", lambda k=key: self.action_step(k))
        yield SystemCommand("Export trade list", "Excel workbook and broker basket CSV", self.action_export)
        yield SystemCommand("Save workspace", "Universe, screen, constraints, holdings path as TOML", self.action_save_workspace)
        yield SystemCommand("Open workspace", "Load a saved workspace", self.action_open_workspace)
        yield SystemCommand("Save screen", "The screen as edited, as a screen file (.toml)", self.action_save_screen)
        yield SystemCommand("Open screen", "Re-rank with a screen file (.toml)", self.action_open_screen)
        yield SystemCommand("Search the screen", "Filter the ranked table by ticker or name", self.action_search)
        yield SystemCommand("Sort the screen", "Sort the ranked table by the next column", self.action_sort)
        yield SystemCommand("Re-solve", "Solve the portfolio again now", self.action_resolve)
        yield SystemCommand("Load holdings", "Start from a holdings file (step 1)", lambda: self._focus("#holdings-path", "universe"))

    def _focus(self, selector: str, step: str) -> None:
        self.action_step(step)
        self.query_one(selector).focus()

    def _bench(self) -> Workbench:
        assert self.bench is not None, "the workbench is still loading"
        return self.bench


def _known(v: Any) -> bool:
    return v is not None and v == v


def sector_chart(result: Any, width: int = 8) -> str:
    """Sector exposure before and after, one line per sector: weights, a bar, the bounds."""
    rows = result.sectors
    top = max(float(rows[["before", "after"]].to_numpy().max()), 1e-9)
    lines = ["[b]Sector         before  after[/b]"]
    for _, x in rows.iterrows():
        bounds = []
        if _known(x["min"]):
            bounds.append(f">={100 * x['min']:.0f}%")
        if _known(x["max"]):
            bounds.append(f"<={100 * x['max']:.0f}%")
        if x["before"] < 1e-6 and x["after"] < 1e-6 and not bounds:
            continue
        bar = "#" * round(width * x["after"] / top)
        lines.append(
            f"{str(x['sector'])[:13]:<13} {100 * x['before']:6.1f}% {100 * x['after']:5.1f}% "
            f"[green]{bar:<{width}}[/green] {' '.join(bounds)}"
        )
    m = result.manufacturing
    lines.append(
        f"{'Manufacturing':<13} {100 * m['before']:6.1f}% {100 * m['after']:5.1f}%"
        + (f" (min {100 * m['min']:.0f}%)" if m["min"] is not None else "")
    )
    return "\n".join(lines)


def run_app(workspace: str | None = None, universe: str | None = None) -> int:
    """Run the app until the user quits."""
    RotationApp(workspace=workspace, universe=universe).run()
    return 0
