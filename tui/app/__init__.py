"""The Textual app: six steps from a universe to an exported trade list, a backtest of the same
choices and the thesis monitor, over one Session.

Start-up imports only Textual; the data, the screener and the optimiser load in a worker thread
after the first screen is on show. Each step is a widget of its own (``tui/app/steps``) that
owns its layout and bindings and posts *requests* as typed messages (``tui/app/messages.py``).
The app carries a request out on the :class:`tui.session.Session` in a worker thread; the
worker posts the result as a message, and the app hands the session to every step on the main
thread. Every change of a filter, a weight or a constraint re-solves in the background
(debounced; the newest request wins), so the interface never waits for the solver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen as TextualScreen
from textual.widgets import Button, Footer, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from tui import CollectorHold, freeze_long_lived
from tui.app.dialogs import ConfirmDialog, PathDialog
from tui.app.help import HelpScreen
from tui.app.messages import (
    BacktestRequested,
    CapitalChosen,
    CompanyChosen,
    EditsReset,
    HoldingsChosen,
    InputsChanged,
    Progress,
    ScreenEdited,
    SessionReady,
    SettingsEdited,
    Solved,
    StepResult,
    ThesisRequested,
    UniverseChosen,
    WorkFailed,
)
from tui.app.steps.backtest import BacktestStep
from tui.app.steps.base import Step, leave_field
from tui.app.steps.company import CompanyStep
from tui.app.steps.constraints import ConstraintsStep
from tui.app.steps.portfolio import PortfolioStep
from tui.app.steps.screen import ScreenStep
from tui.app.steps.thesis import ThesisStep
from tui.app.steps.trades import TradesStep
from tui.app.steps.universe import UniverseStep

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.actions import ActionParseResult
    from textual.dom import DOMNode

    from tui.session import Session, SolveOutcome

STEPS: tuple[tuple[str, str, type[Step]], ...] = (
    ("universe", "1 Universe", UniverseStep),
    ("screen", "2 Screen", ScreenStep),
    ("company", "3 Company", CompanyStep),
    ("constraints", "4 Constraints", ConstraintsStep),
    ("portfolio", "5 Portfolio", PortfolioStep),
    ("trades", "6 Trades", TradesStep),
    ("backtest", "7 Backtest", BacktestStep),
    ("thesis", "8 Thesis", ThesisStep),
)
#: Seconds to wait after the last change before re-solving or re-screening (a paste, or keys
#: faster than a person types, is one).
DEBOUNCE_S = 0.03
#: A re-solve says "solving..." on the status line only when it takes longer than this: each
#: change of the line's width costs a layout of the screen.
BUSY_SHOWN_AFTER_S = 0.2


class RotationApp(App[None]):
    """Small-cap rotation workbench."""

    TITLE = "Rotation"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        *(Binding(str(i + 1), f"step('{key}')", label.split()[1], show=False) for i, (key, label, _) in enumerate(STEPS)),
        Binding("question_mark", "help", "Keys"),
        Binding("e", "export", "Export"),
        Binding("ctrl+s", "save_workspace", "Save"),
        Binding("ctrl+o", "open_workspace", "Open"),
        Binding("ctrl+r", "resolve", "Re-solve", show=False),
        Binding("ctrl+z", "undo", "Undo", show=False),
        Binding("escape", "leave_field", show=False),
        Binding("q", "quit_app", "Quit"),
    ]

    def __init__(self, workspace: str | None = None, universe: str | None = None, *, show_timings: bool = True) -> None:
        super().__init__()
        self._collector = CollectorHold()  # held from the load until the first session is painted
        self.workspace_path = workspace
        self.start_universe = universe
        self.show_timings = show_timings  # snapshot tests switch timings off (they vary)
        self.session: Session | None = None
        self.backtest_result: Any = None
        self.saved_version = 0
        self.solves = 0
        self.last_outcome: SolveOutcome | None = None
        self._status = ("", "")  # the status line as painted: main part, solve part
        self._unshown: set[str] = set()  # ids of the hidden steps that have yet to show the last outcome
        self._unshown_session: set[str] = set()  # ... and the session's inputs as they are now
        self._all_steps_built = False  # the steps after the first are built after the first paint
        self._building_steps = False
        self._exit_when_built: tuple[Any, int, Any] | None = None
        self.busy = "loading..."
        self._solve_timer: Any = None
        self._busy_timer: Any = None
        self._screen_timer: Any = None
        self.pending_screen: Any = None
        self._load_lock = threading.Lock()
        self._screen_lock = threading.Lock()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="status-bar"):
            yield Static("Rotation | loading the universe...", id="status-main")
            yield Static("", id="status-solve")
        first, _, first_step = STEPS[0]
        with TabbedContent(id="steps", initial=first):
            for key, label, _ in STEPS:
                with TabPane(label, id=key):
                    if key == first:
                        yield first_step(id=f"step-{key}")
        yield Footer()

    def on_load(self) -> None:
        # No garbage collection until the first session is painted (see _settle): the load
        # (pandas, the universe, the screen, some 100 widgets) ran 3 full collections and ~40
        # young ones, 0.12-0.2 s of a 1 s start, to free next to nothing (peak memory +2 MB).
        self._collector.hold()

    def on_unmount(self) -> None:
        self._collector.release()  # an app closed before its first session was painted

    def on_mount(self) -> None:
        self._install_sigterm()
        self.open_session(self.start_universe, self.workspace_path)

    async def _mount_hidden_steps(self) -> None:
        """Build the steps not shown at start, once the first session is on screen (or at once
        when a key or a tab click needs them).

        Composing all eight steps (some 460 widgets) before the first paint kept the app blank
        for most of a second, and building them while the session loads slowed the load as
        much. This runs in the app's own message queue, so a key pressed meanwhile is handled
        once every step exists; each new step shows the session when it is first shown.
        """
        if self._all_steps_built:  # every key's action passes here: no walk of the DOM
            return
        self._building_steps = True
        try:
            for key, _, step in STEPS[1:]:
                if self._exit:  # quitting (maybe before the first paint): nothing more to build
                    return
                pane = self.query_one(f"#{key}", TabPane)
                if not pane.children:
                    await pane.mount(step(id=f"step-{key}"))
                    if self.session is not None:
                        self._unshown_session.add(f"step-{key}")
                        self._unshown.add(f"step-{key}")
            self._all_steps_built = True
        finally:
            self._building_steps = False
            if self._exit_when_built is not None:
                super().exit(*self._exit_when_built)

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        """Quit, but not in the middle of building the steps: Textual's widgets (Select) fail
        when taken down half-mounted, so a quit then waits for the build (at most ~0.3 s)."""
        if self._building_steps:
            self._exit_when_built = (result, return_code, message)
            return
        super().exit(result, return_code, message)

    def _install_sigterm(self) -> None:
        """On SIGTERM, remove an export's temporary files before the app goes (exports run in a
        worker thread, where Python cannot install signal handlers)."""
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return

        def stop(signum: int, frame: object) -> None:
            from tui.export import discard_unfinished_exports

            discard_unfinished_exports()
            self.exit(return_code=128 + signum)

        signal.signal(signal.SIGTERM, stop)

    def step(self, key: str) -> Step:
        """The widget of one step."""
        return self.query_one(f"#step-{key}", Step)

    def steps(self) -> list[Step]:
        """Every step widget built so far, in order (all of them once the first session is shown)."""
        return list(self.query(Step))

    # ------------------------------------------------------------------ status
    def set_busy(self, text: str) -> None:
        """What the app is doing now ('' when idle); shown at the right of the status line."""
        self.busy = text
        self._paint_status()

    def _paint_status(self) -> None:
        s = self.session
        if s is None:
            main = "Rotation | loading the universe..."
        else:
            u = s.universe
            start = "cash" if s.holdings is None else Path(s.holdings.source).name
            main = f"{u.name} ({len(u):,}) as of {u.as_of.date()} | {len(s.screened.ranked):,} pass | start: {start}"
        solve = self.busy
        if not solve and s is not None and s.latest is not None:
            latest = s.latest
            if s.is_current and latest.result is not None:
                solve = latest.result.status
                if latest.kept:  # read back from an earlier run (tui.kept): no solve time to show
                    solve += " (kept)"
                elif self.show_timings:
                    solve += f" {latest.result.solve_ms:.0f} ms"
            elif latest.infeasible:
                solve = "[b red]INFEASIBLE: see step 5[/]"
            elif latest.error and not latest.superseded:
                solve = "[b red]NOT SOLVED: see step 5[/]"
        if (main, solve) == self._status:
            return  # an unchanged status line costs a layout of the whole screen
        if main != self._status[0]:
            self.query_one("#status-main", Static).update(main, layout=False)  # fixed size: 1fr x 1
        if solve != self._status[1]:
            # auto width: a layout of the whole screen only when the text's width changes
            resized = Text.from_markup(solve).cell_len != Text.from_markup(self._status[1]).cell_len
            self.query_one("#status-solve", Static).update(solve, layout=resized)
        self._status = (main, solve)

    # ------------------------------------------------------------------ workers
    def _serialised(self) -> bool:
        """In a loading worker: whether to go on (False when a newer load replaced this one)."""
        return not get_current_worker().is_cancelled

    @work(thread=True, exclusive=True, group="load")
    def open_session(self, universe: str | None = None, workspace: str | None = None) -> None:
        """Open the workspace or universe (the default one if it fails at start) and solve once."""
        from tui.session import Session
        from universes.errors import UserError

        with self._load_lock:
            if not self._serialised():
                return
            note = ""
            try:
                session = Session.from_workspace(workspace) if workspace else Session(universe) if universe else Session()
            except UserError as exc:
                self.post_message(WorkFailed(str(exc), "universe"))
                if self.session is not None:
                    return
                note = f"Started on the default universe: {exc}"
                session, workspace = Session(), None
            self.call_from_thread(self.set_busy, "solving...")
            outcome = session.solve(request=session.next_request())
            self.post_message(SessionReady(session, outcome, note, workspace))

    @work(thread=True, exclusive=True, group="load")
    def change_inputs(self, what: str, change: Callable[[Session], None], step: str) -> None:
        """Change the open session's universe, holdings or cash, then solve."""
        from universes.errors import UserError

        with self._load_lock:
            session = self.session
            if session is None or not self._serialised():
                return
            try:
                change(session)
            except UserError as exc:
                self.post_message(WorkFailed(str(exc), step))
                return
            self.post_message(InputsChanged(what))
            self._solve_now(session)

    def _solve_now(self, session: Session) -> None:
        request = session.next_request()
        self.call_from_thread(self.set_busy, "solving...")
        outcome = session.solve(request=request)
        if session.is_latest(request):
            self.post_message(Solved(outcome))

    @work(thread=True, exclusive=True, group="screen")
    def apply_screen(self, screen: Any) -> None:
        """Re-rank with an edited screen (only the newest edit is applied), then solve."""
        from universes.errors import UserError

        with self._screen_lock:
            session = self.session
            if session is None or screen is not self.pending_screen:
                return
            try:
                session.set_screen(screen)
            except UserError as exc:
                self.post_message(WorkFailed(str(exc), "screen"))
                return
            self.post_message(InputsChanged("screen"))
        self.call_from_thread(self.request_solve)

    @work(thread=True, exclusive=True, group="solve")
    def solve(self, request: int) -> None:
        """Solve in the background; only the newest request's outcome is shown."""
        session = self.session
        if session is None or not session.is_latest(request):
            return
        outcome = session.solve(request=request)
        if session.is_latest(request):
            self.post_message(Solved(outcome))

    @work(thread=True, group="prepare")
    def prepare_solver(self, session: Session) -> None:
        """Compile the optimiser after a kept first solve was shown, so that the first tweak
        re-solves at once (see :meth:`tui.session.Session.prepare`)."""
        session.prepare()
        freeze_long_lived()  # cvxpy's modules, imported just now

    @work(thread=True, exclusive=True, group="load")
    def reset_edits(self, what: str) -> None:
        """Undo the last edit, or go back to the shipped screen or constraints; then solve."""
        with self._load_lock:
            session = self.session
            if session is None:
                return
            if what == "undo":
                if not session.undo():
                    self.call_from_thread(self.notify, "Nothing to undo.", timeout=3)
                    return
            elif what == "screen":
                session.reset_screen()
            else:
                session.reset_constraints()
            self.post_message(InputsChanged("edits", note={"undo": "Undone.", "screen": "Shipped screen.", "constraints": "Shipped constraints."}[what]))
            self._solve_now(session)

    @work(thread=True, exclusive=True, group="export")
    def export(self, path: str, overwrite: bool) -> None:
        """Write the workbook and basket in the background."""
        from universes.errors import UserError

        session = self.session
        if session is None:
            return
        self.call_from_thread(self.set_busy, "exporting...")
        try:
            xlsx, basket = session.export(path, overwrite=overwrite)
        except UserError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
        else:
            self.call_from_thread(self.notify, f"Wrote {xlsx} and {basket}", timeout=10)
        self.call_from_thread(self.set_busy, "")

    @work(thread=True, exclusive=True, group="backtest")
    def run_backtest(self, frequency: str, start: str | None) -> None:
        """Backtest the session's choices as they are now, reporting each rebalance."""
        from tui.backtest import app_view, run_backtest, spec_from_session
        from universes.errors import UserError

        session = self.session
        if session is None:
            return
        def tell(done: int, total: int, _when: object) -> None:
            self.post_message(Progress("backtest", done, total))

        try:
            spec = spec_from_session(session, frequency=frequency, start=start)
            result = run_backtest(spec, tell)
        except UserError as exc:
            self.post_message(WorkFailed(str(exc), "backtest"))
            return
        self.backtest_result = result
        self.post_message(StepResult("backtest", "result", app_view(result)))

    @work(thread=True, exclusive=True, group="thesis")
    def run_thesis(self, history: bool, start: str | None = None) -> None:
        """The thesis monitor on the session's date, or month by month."""
        from screener.valuation import history_chart
        from tui.thesis import (
            SNAPSHOT_HISTORY_START,
            monitor_for,
            month_ends,
            monthly_history,
            render_monitor,
        )
        from universes.errors import UserError

        session = self.session
        if session is None:
            return
        try:
            if history:
                import pandas as pd

                total = len(month_ends(pd.Timestamp(start or SNAPSHOT_HISTORY_START), session.universe.as_of))
                count = iter(range(1, total + 2))

                def tell(_when: object) -> None:
                    self.post_message(Progress("thesis", next(count), total))

                frame = monthly_history("us-all", start, tell)
                self.post_message(StepResult("thesis", "history", history_chart(frame)))
            else:
                self.post_message(Progress("thesis", 0, 1))
                self.post_message(StepResult("thesis", "monitor", render_monitor(monitor_for("us-all", session.universe.as_of))))
        except UserError as exc:
            self.post_message(WorkFailed(str(exc), "thesis"))

    # ------------------------------------------------------------------ results
    async def on_session_ready(self, message: SessionReady) -> None:
        first = self.session is None
        self.session = message.session
        self.workspace_path = message.workspace  # only a workspace that opened; ctrl+s offers it
        self.saved_version = message.session.version
        if message.note:
            self.step("universe").show_error(message.note)  # type: ignore[attr-defined]
            self.notify(message.note, severity="warning", timeout=10)
        await self._show_session()
        self._show_outcome(message.outcome)
        u = message.session.universe
        self.notify(f"{u.name}: {len(u):,} companies as of {u.as_of.date()}", timeout=4)
        if first and self.focused is None:
            self._focus_step(self.query_one("#steps", TabbedContent).active)
        if first:
            self.call_after_refresh(self._settle)

    async def _settle(self) -> None:
        """Once the first session is painted: build the other steps, freeze what is loaded,
        and let the garbage collector run again."""
        await self._mount_hidden_steps()
        freeze_long_lived()
        self._collector.release()

    async def _show_session(self) -> None:
        session = self.session
        if session is None:
            return
        active = f"step-{self.query_one('#steps', TabbedContent).active}"
        for step in self.steps():
            if step.id == active:
                await self._show_session_on(step, session)
            else:  # filled when shown: refilling the hidden forms and tables took ~0.3 s a load
                self._unshown_session.add(step.id or "")
        self._paint_status()

    async def _show_session_on(self, step: Step, session: Session) -> None:
        self._unshown_session.discard(step.id or "")
        result = step.show_session(session)
        if result is not None:  # a step that rebuilds its widgets is a coroutine
            await result

    async def on_inputs_changed(self, message: InputsChanged) -> None:
        if message.what != "screen":
            self.step("universe").show_error("")  # type: ignore[attr-defined]
        await self._show_session()
        if message.note:
            self.notify(message.note, timeout=3)

    def on_solved(self, message: Solved) -> None:
        session = self.session
        if session is not None and session.is_latest(message.outcome.request):
            self._show_outcome(message.outcome)

    def _show_outcome(self, outcome: SolveOutcome) -> None:
        session = self.session
        if session is None:
            return
        self.last_outcome = outcome
        self.solves += 1
        active = self.query_one("#steps", TabbedContent).active
        for step in self.steps():
            if step.id == f"step-{active}":
                step.show_outcome(session, outcome)
            else:  # painted when shown: a hidden table's refill and measuring cost ~100 ms a solve
                self._unshown.add(step.id or "")
        self.busy = ""
        self._paint_status()
        if outcome.kept:  # nothing compiled yet: compile once the kept result is on screen
            self.call_after_refresh(self.prepare_solver, session)
        if outcome.result is None and outcome.error and not outcome.superseded:
            self.notify(outcome.error.splitlines()[0], severity="error", timeout=6)

    def on_progress(self, message: Progress) -> None:
        step = self.step(message.step)
        if hasattr(step, "show_running"):
            step.show_running(message.done, message.total)
        self.set_busy(f"{message.step} {message.done}/{message.total}")

    def on_step_result(self, message: StepResult) -> None:
        step = self.step(message.step)
        show = {"result": "show_result", "monitor": "show_monitor", "history": "show_history"}[message.kind]
        getattr(step, show)(message.payload)
        self.set_busy("")

    def on_backtest_requested(self, message: BacktestRequested) -> None:
        if self.session is not None:
            self.set_busy("backtest starting...")
            self.run_backtest(message.frequency, message.start)

    def on_thesis_requested(self, message: ThesisRequested) -> None:
        if self.session is not None:
            self.set_busy("thesis...")
            self.run_thesis(message.history, message.start)

    def action_export_backtest(self) -> None:
        """Ask for a path and write the backtest workbook."""
        if self.backtest_result is None:
            self.notify("Run a backtest first (step 7, r).", severity="warning")
            return
        default = str(Path.cwd() / "rotation-backtest.xlsx")
        self.push_screen(PathDialog("Write the backtest workbook to:", default, "Summary, equity and drawdown charts, periods, holdings, trades, IC, attribution, survivorship.", (".xlsx",)), self._export_backtest_to)

    def _export_backtest_to(self, path: str | None) -> None:
        if not path:
            return
        target = Path(path).expanduser()

        def write(overwrite: bool) -> None:
            self.export_backtest(str(target), overwrite)

        self._ask_before_replacing([target], write)

    @work(thread=True, exclusive=True, group="export")
    def export_backtest(self, path: str, overwrite: bool) -> None:
        """Write the backtest workbook in the background."""
        from tui.backtest import export_backtest
        from universes.errors import UserError

        try:
            written = export_backtest(path, self.backtest_result, overwrite=overwrite)
        except UserError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        self.call_from_thread(self.notify, f"Wrote {written}", timeout=10)

    def on_work_failed(self, message: WorkFailed) -> None:
        step = self.step(message.step)
        if hasattr(step, "show_error"):
            step.show_error(message.message)
        self.notify(message.message, severity="error", timeout=10)
        self.set_busy("")

    # ------------------------------------------------------------------ requests
    def on_universe_chosen(self, message: UniverseChosen) -> None:
        self.set_busy(f"loading {Path(message.name).name}...")
        self.change_inputs("universe", lambda s: s.set_universe(message.name), "universe")

    def on_holdings_chosen(self, message: HoldingsChosen) -> None:
        self.set_busy("reading holdings...")
        self.change_inputs("holdings", lambda s: s.set_holdings(message.path, message.sheet, message.ignore_unknown), "universe")

    def on_capital_chosen(self, message: CapitalChosen) -> None:
        self.set_busy("solving...")
        self.change_inputs("capital", lambda s: s.set_capital(message.amount), "universe")

    def on_screen_edited(self, message: ScreenEdited) -> None:
        self.pending_screen = message.screen
        if self._screen_timer is not None:
            self._screen_timer.stop()
        self.set_busy("re-ranking...")
        self._screen_timer = self.set_timer(DEBOUNCE_S, lambda: self.apply_screen(self.pending_screen))

    def on_settings_edited(self, message: SettingsEdited) -> None:
        if self.session is not None:
            self.session.set_settings(message.settings)
            self.request_solve()

    def on_edits_reset(self, message: EditsReset) -> None:
        self.reset_edits(message.what)

    def on_company_chosen(self, message: CompanyChosen) -> None:
        company = self.step("company")
        company.show_company(message.ticker)  # type: ignore[attr-defined]
        if message.open_step:
            self.action_step("company")

    def request_solve(self) -> None:
        """Re-solve shortly (a burst of changes becomes one solve)."""
        for timer in (self._solve_timer, self._busy_timer):
            if timer is not None:
                timer.stop()
        self.busy = "solving..."
        self._busy_timer = self.set_timer(BUSY_SHOWN_AFTER_S, self._paint_status)  # only a solve that takes a while says so
        self._solve_timer = self.set_timer(DEBOUNCE_S, self._launch_solve)

    def _launch_solve(self) -> None:
        if self.session is not None:
            self.solve(self.session.next_request())

    # ------------------------------------------------------------------ actions
    def action_step(self, step: str) -> None:
        """Show one of the six steps and focus its main widget."""
        self.screen.set_focus(None)  # a focused widget in the old step would pull it back
        self.query_one("#steps", TabbedContent).active = step
        self.call_after_refresh(self._focus_step, step)

    def _focus_step(self, step: str) -> None:
        widget = self.step(step).primary()
        if widget is not None and widget.focusable:
            widget.focus()

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Run a key's (or the palette's) action once every step exists."""
        await self._mount_hidden_steps()
        return await super().run_action(action, default_namespace, namespaces)

    @on(TabbedContent.TabActivated)
    async def _tab(self, event: TabbedContent.TabActivated) -> None:
        if not event.pane.children:
            await self._mount_hidden_steps()  # a click on a tab the moment the app appears
        if event.pane.id:
            step = self.step(event.pane.id)
            if self.session is not None:
                for key in (*step.FOLLOWS, event.pane.id):
                    if f"step-{key}" in self._unshown_session:
                        await self._show_session_on(self.step(key), self.session)
            if step.id in self._unshown and self.session is not None and self.last_outcome is not None:
                self._unshown.discard(step.id)
                step.show_outcome(self.session, self.last_outcome)
            step.on_show_step()

    def action_leave_field(self) -> None:
        """Esc: leave an input field (the step keys work again); in the search box, clear it."""
        focused = self.focused
        if not isinstance(focused, Input) or self.screen is not self.screen_stack[0]:
            return
        if focused.id == "search":
            self.step("screen").clear_search()  # type: ignore[attr-defined]
        else:
            leave_field(focused)

    def action_resolve(self) -> None:
        """Re-solve now with the current settings."""
        if self.session is not None:
            self.request_solve()

    def action_undo(self) -> None:
        """Undo the last screen or constraint edit."""
        self.reset_edits("undo")

    def action_help(self) -> None:
        """Show the steps and keys."""
        self.push_screen(HelpScreen())

    def action_quit_app(self) -> None:
        """Quit; ask first when there are edits that no workspace holds."""
        if self.session is not None and self.session.version != self.saved_version:
            self.push_screen(
                ConfirmDialog("Quit? Your changes since the workspace was opened or saved are not saved (ctrl+s saves them).", "Quit without saving (y)"),
                lambda yes: self.exit() if yes else None,
            )
        else:
            self.exit()

    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
        """Ask for a path and export the trade list (workbook + basket)."""
        s = self.session
        if s is None or s.portfolio is None:
            self.notify("No feasible portfolio to export yet.", severity="warning")
            return
        if not s.is_current:
            self.notify(f"Not exported: {s.stale_reason()}. The trade list on show belongs to earlier settings.", severity="error", timeout=10)
            return
        default = str(Path.cwd() / f"rotation-{s.universe.name}-{s.universe.as_of.date()}.xlsx")
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
        from tui.export import basket_path

        target = Path(path).expanduser()
        def write(overwrite: bool) -> None:
            self.export(str(target), overwrite)

        self._ask_before_replacing([target, basket_path(target)], write)

    @on(Button.Pressed, "#save")
    def action_save_workspace(self) -> None:
        """Save universe, screen, constraints, holdings and cash as a TOML workspace."""
        if self.session is None:
            return
        default = self.workspace_path or str(Path.cwd() / "rotation-workspace.toml")
        self.push_screen(PathDialog("Save the workspace to:", default, "Universe, date, screen, constraints, holdings file and new cash.", (".toml",)), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if path:
            self._ask_before_replacing([Path(path).expanduser()], lambda overwrite: self._save_workspace(path, overwrite))

    def _save_workspace(self, path: str, overwrite: bool) -> None:
        from universes.errors import UserError

        session = self.session
        if session is None:
            return
        try:
            saved = session.save_workspace(path, overwrite=overwrite)
        except UserError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.workspace_path = str(saved)
        self.saved_version = session.version
        self.notify(f"Saved the workspace to {saved}")

    def action_open_workspace(self) -> None:
        """Open a saved workspace (replaces the current session; on error it stays as it was)."""
        default = self.workspace_path or str(Path.cwd() / "rotation-workspace.toml")
        self.push_screen(PathDialog("Open the workspace:", default, "", (".toml",)), self._open)

    def _open(self, path: str | None) -> None:
        if path:
            self.set_busy(f"opening {Path(path).name}...")
            self.open_session(None, path)

    def action_save_screen(self) -> None:
        """Save the screen as edited as a screen file (usable with ``--screen FILE``)."""
        if self.session is None:
            return
        default = str(Path.cwd() / "my-screen.toml")
        self.push_screen(PathDialog("Save the screen to:", default, "Use it later with --screen FILE, or open it here.", (".toml",)), self._save_screen_to)

    def _save_screen_to(self, path: str | None) -> None:
        if path:
            target = Path(path).expanduser()
            self._ask_before_replacing([target], lambda _: self._save_screen(target))

    def _save_screen(self, target: Path) -> None:
        from dataclasses import replace

        from screener import save_screen
        from universes.errors import UserError

        session = self.session
        if session is None:
            return
        if not target.parent.is_dir():
            self.notify(f"Folder {target.parent} does not exist. Create it first or choose another path.", severity="error", timeout=10)
            return
        screen = session.screen
        if screen == session.shipped_screen or screen.name == session.shipped_screen.name:
            screen = replace(screen, name=f"{target.stem} (edited from {session.shipped_screen.name})")
        try:
            saved = save_screen(screen, target)
        except (OSError, UserError) as exc:
            self.notify(f"Could not save the screen: {exc}", severity="error", timeout=10)
            return
        self.notify(f"Saved the screen to {saved}")

    def action_open_screen(self) -> None:
        """Load a screen: a shipped or saved name, or a file."""
        from screener import available_screens

        if self.session is None:
            return
        names = tuple(available_screens())
        self.push_screen(
            PathDialog("Open a screen (a name or a .toml file):", str(Path.cwd() / "my-screen.toml"), f"Names: {', '.join(names)}", (".toml",), names),
            self._open_screen,
        )

    def _open_screen(self, path: str | None) -> None:
        from screener import load_screen
        from universes.errors import UserError

        if not path:
            return
        try:
            screen = load_screen(path)
        except UserError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.post_message(ScreenEdited(screen))
        self.notify(f"Screen {screen.name!r} from {path}")

    def action_screenshot_here(self) -> None:
        """Save an SVG picture of the screen in the current folder."""
        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"Saved a screenshot to {path}")

    def get_system_commands(self, screen: TextualScreen) -> Iterable[SystemCommand]:
        for key, label, _ in STEPS:
            yield SystemCommand(f"Go to step {label}", f"Show the {key} step", lambda k=key: self.action_step(k))
        yield SystemCommand("Export trade list", "Excel workbook and broker basket CSV", self.action_export)
        yield SystemCommand("Save workspace", "Universe, screen, constraints, holdings and cash as TOML", self.action_save_workspace)
        yield SystemCommand("Open workspace", "Load a saved workspace", self.action_open_workspace)
        yield SystemCommand("Save screen", "The screen as edited, as a screen file (.toml)", self.action_save_screen)
        yield SystemCommand("Open screen", "Re-rank with a shipped or saved screen, or a .toml file", self.action_open_screen)
        yield SystemCommand("Undo", "Undo the last screen or constraint edit", self.action_undo)
        yield SystemCommand("Shipped screen", "Go back to the shipped screen (undoable)", lambda: self.reset_edits("screen"))
        yield SystemCommand("Shipped constraints", "Go back to the shipped constraints (undoable)", lambda: self.reset_edits("constraints"))
        yield SystemCommand("Re-solve", "Solve the portfolio again now", self.action_resolve)
        yield SystemCommand("Load holdings", "Start from a holdings file (step 1)", lambda: self._focus("#holdings-path", "universe"))
        yield SystemCommand("Look up a company", "Any ticker of the data (step 3)", lambda: self._focus("#company-lookup", "company"))
        yield SystemCommand("Backtest", "Walk the session's choices forward over the data (step 7)", lambda: self.action_step("backtest"))
        yield SystemCommand("Export backtest", "The backtest workbook with its charts", self.action_export_backtest)
        yield SystemCommand("Thesis monitor", "Small vs large, manufacturers vs utilities (step 8)", lambda: self.action_step("thesis"))
        yield SystemCommand("Keys", "The steps and their keys", self.action_help)
        yield SystemCommand("Theme", "Change the colours", self.action_change_theme)
        yield SystemCommand("Screenshot", "Save an SVG picture of the screen in the current folder", self.action_screenshot_here)
        yield SystemCommand("Quit", "Quit (asks first if there are unsaved changes)", self.action_quit_app)

    def _focus(self, selector: str, step: str) -> None:
        self.action_step(step)
        self.call_after_refresh(lambda: self.query_one(selector).focus())


def run_app(workspace: str | None = None, universe: str | None = None) -> int:
    """Run the app until the user quits."""
    RotationApp(workspace=workspace, universe=universe).run()
    return 0
