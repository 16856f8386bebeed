"""What every step widget has: a way to show the session, and the widget that takes focus."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.containers import Container
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static, Switch
from textual.widgets.data_table import RowKey

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from textual_plotext import PlotextPlot

    from tui.session import Session, SolveOutcome


class Step(Container):
    """One of the app's steps: it owns its layout and bindings and posts requests as messages.

    The app calls :meth:`show_session` when the session was opened or its inputs changed,
    and :meth:`show_outcome` after every solve if the step is on show, otherwise with the
    latest outcome when it is next shown (just before :meth:`on_show_step`).
    """

    #: The widget (CSS selector) that takes focus when the step is shown.
    PRIMARY: ClassVar[str] = ""
    #: Steps (keys) whose view of the session this step follows: when this step is shown, each
    #: of them that has yet to show the current session shows it first.
    FOLLOWS: ClassVar[tuple[str, ...]] = ()

    def chart(self, selector: str) -> PlotextPlot:
        """One of the step's charts (textual_plotext loads with the first step that has one,
        after the first paint)."""
        from textual_plotext import PlotextPlot

        return self.query_one(selector, PlotextPlot)

    def show_session(self, session: Session) -> Awaitable[None] | None:
        """Fill the step from the session (inputs changed); a step that rebuilds widgets returns
        an awaitable (an ``async def``)."""
        return None

    def show_outcome(self, session: Session, outcome: SolveOutcome) -> None:
        """Show what the latest solve produced."""

    def on_show_step(self) -> None:
        """Called when the step is shown (the app also focuses :attr:`PRIMARY`)."""

    def primary(self) -> Widget | None:
        """The widget to focus when the step is shown (None: nothing)."""
        return self.query_one(self.PRIMARY) if self.PRIMARY else None


class Table(DataTable):
    """A DataTable that draws its rows again once it has measured their columns.

    Textual (8.2) measures the columns of new rows only when it is next idle, and caches a drawn
    row under a key without the column widths: a table filled again and drawn before it was idle
    (a busy machine) kept those rows as narrow as the headers ("5" for a Z of 5.12) once its
    columns were measured, and when the widths came out as before, nothing was drawn again.
    """

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        # The rows drawn since the last measurement may have had other widths: draw them again.
        self._clear_caches()
        self.refresh()


class Cell(Text):
    """A table cell: a :class:`~rich.text.Text` that draws its usual case, one unstyled line that
    fits the column, straight as one segment.

    A DataTable draws every visible cell again after a sort (about 500 cells in step 2), and
    Rich's general way for a Text (wrap, justify, join, render) was about a third of each cell's
    cost. The short way gives the same segments as Text's (tests/test_cells.py compares them);
    anything else (styles, spans, several lines, wrapping, a cell too wide) goes the general way.
    """

    __slots__ = ()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        plain = self.plain
        width = options.max_width
        justify = self.justify or options.justify or "default"
        no_wrap = self.no_wrap if self.no_wrap is not None else bool(options.no_wrap)
        if (
            self._spans
            or self.style
            or not no_wrap
            or justify not in ("default", "left", "right")
            or (self.overflow or options.overflow) == "ignore"
            or "\n" in plain
            or "\t" in plain
            or cell_len(plain) > width
        ):
            yield from super().__rich_console__(console, options)
            return
        if justify == "right":  # as Rich: trailing spaces dropped, padded on the left
            plain = plain.rstrip()
            plain = " " * (width - cell_len(plain)) + plain
        elif justify == "left":
            plain += " " * (width - cell_len(plain))
        yield Segment(plain)
        if self.end:
            yield Segment(self.end)


def right(text: str) -> Text:
    """A table cell aligned to the right (numbers)."""
    return Cell(text, justify="right")


def fill_table(table: DataTable, columns: list[tuple[str, str, bool]], rows: list[tuple[object, ...]], keys: list[str] | None = None) -> None:
    """Replace a table's columns and rows; ``columns`` are (key, label, right-aligned)."""
    table.clear(columns=True)
    for key, label, is_number in columns:
        table.add_column(right(label) if is_number else label, key=key)
    aligned = [i for i, (_, _, is_number) in enumerate(columns) if is_number]
    for n, row in enumerate(rows):
        cells = [right(str(c)) if i in aligned else c for i, c in enumerate(row)]
        table.add_row(*cells, key=keys[n] if keys else None)


def cell_sort_key(cell: object) -> tuple[int, float | str]:
    """Sort key of a displayed cell: numbers by value (``5.00%``, ``1.2M``, ``-3.1K``), text
    alphabetically after them, blanks and ``-`` last."""
    text = str(cell).strip().replace(",", "")
    if text in ("", "-"):
        return (2, "")
    scale = {"%": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(text[-1], 1.0)
    number = text[:-1] if text[-1] in "%KMBT" else text
    try:
        return (0, float(number) * scale)
    except ValueError:
        return (1, text.lower())


class SortableTables:
    """Mixin for a step: a click on a column header sorts that table by it (again: reverses)."""

    _sorted: dict[str, tuple[str, bool]]

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        table = event.data_table
        if table.id is None or table.id == "screen-table":
            return
        sorted_by = getattr(self, "_sorted", {})
        column = str(event.column_key.value)
        reverse = sorted_by.get(table.id) == (column, False)
        table.sort(event.column_key, key=cell_sort_key, reverse=reverse)
        sorted_by[table.id] = (column, reverse)
        self._sorted = sorted_by


def leave_field(widget: Input) -> None:
    """Take focus off an input (after Enter or Esc) to its step's main widget, so that the step
    keys (1-8) and the step's own keys work again at once."""
    step = next((a for a in widget.ancestors if isinstance(a, Step)), None)
    target = step.primary() if step is not None else None
    if target is not None and target is not widget and target.focusable:
        target.focus()
    else:
        widget.screen.set_focus(None)


class SwitchState(Static):
    """A switch's state in words ("on" / "off") beside it, for terminals without colour and for
    screen readers; it follows the switch however its value changes."""

    def __init__(self, switch: Switch) -> None:
        super().__init__("on " if switch.value else "off", classes="switch-state")
        self.switch = switch

    def on_mount(self) -> None:
        self.watch(self.switch, "value", self._show)

    def _show(self, value: bool) -> None:
        self.update("on " if value else "off")


def switch_parts(switch: Switch) -> list[Widget]:
    """A switch followed by its state in words."""
    return [switch, SwitchState(switch)]
