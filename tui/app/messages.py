"""The messages that travel between the steps, the app and its workers.

Steps never change the session themselves: they post a *request* (``...Chosen``, ``...Edited``)
that the app carries out in a worker thread. Workers post what came of it (``SessionReady``,
``InputsChanged``, ``Solved``, ``WorkFailed``) and the app hands the session to every step
on the main thread. A key press therefore flows: step widget -> request message -> app ->
worker -> :class:`tui.session.Session` -> result message -> app -> every step's ``show_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from tui.session import Session, SolveOutcome


# ------------------------------------------------------------------ requests from the steps
class UniverseChosen(Message):
    """Switch to a universe (a name or a ticker-list file)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class HoldingsChosen(Message):
    """Start from a holdings file (``path`` None or blank: from cash)."""

    def __init__(self, path: str | None, sheet: str | None, ignore_unknown: bool) -> None:
        super().__init__()
        self.path = path
        self.sheet = sheet
        self.ignore_unknown = ignore_unknown


class CapitalChosen(Message):
    """New cash (USD; None: the default, see :class:`tui.session.Session`)."""

    def __init__(self, amount: float | None) -> None:
        super().__init__()
        self.amount = amount


class ScreenEdited(Message):
    """The screen form holds a valid, changed screen."""

    def __init__(self, screen: Any) -> None:
        super().__init__()
        self.screen = screen


class SettingsEdited(Message):
    """The constraint form holds valid, changed settings."""

    def __init__(self, settings: Any) -> None:
        super().__init__()
        self.settings = settings


class CompanyChosen(Message):
    """Show a company's evidence (``open_step``: go to step 3 as well)."""

    def __init__(self, ticker: str, open_step: bool = False) -> None:
        super().__init__()
        self.ticker = ticker
        self.open_step = open_step


class EditsReset(Message):
    """Undo the last screen or constraint edit, or reset one of them to the shipped file."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what  # "undo", "screen" or "constraints"


# ------------------------------------------------------------------ results from the workers
class SessionReady(Message):
    """A session was opened (start, universe switch, workspace) and solved once."""

    def __init__(self, session: Session, outcome: SolveOutcome, note: str = "", workspace: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.outcome = outcome
        self.note = note
        self.workspace = workspace  # the workspace file it was opened from (None: not from one)


class InputsChanged(Message):
    """Holdings, cash or the screen changed in the open session (a solve follows)."""

    def __init__(self, what: str, note: str = "") -> None:
        super().__init__()
        self.what = what
        self.note = note


class Solved(Message):
    """A solve finished (feasible or not)."""

    def __init__(self, outcome: SolveOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class WorkFailed(Message):
    """A request could not be carried out: the message says why; ``step`` is where to show it."""

    def __init__(self, message: str, step: str) -> None:
        super().__init__()
        self.message = message
        self.step = step


class BacktestRequested(Message):
    """Backtest the session's choices (``start`` None: the first date the data allow)."""

    def __init__(self, frequency: str, start: str | None) -> None:
        super().__init__()
        self.frequency = frequency
        self.start = start


class ThesisRequested(Message):
    """The thesis monitor on the session's date, or (``history``) month by month from ``start``
    (``YYYY-MM``; None: the start of the data's history)."""

    def __init__(self, history: bool, start: str | None = None) -> None:
        super().__init__()
        self.history = history
        self.start = start


class Progress(Message):
    """A long job of a step has done ``done`` of ``total`` parts."""

    def __init__(self, step: str, done: int, total: int) -> None:
        super().__init__()
        self.step = step
        self.done = done
        self.total = total


class StepResult(Message):
    """A long job of a step finished: ``payload`` is what the step shows."""

    def __init__(self, step: str, kind: str, payload: Any) -> None:
        super().__init__()
        self.step = step
        self.kind = kind
        self.payload = payload
