"""Modal dialogs of the app: ask for a path, confirm, pick one choice or several columns."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option


class PathDialog(ModalScreen[str | None]):
    """Ask for a file path; dismisses with the path, or None when cancelled."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: str, hint: str = "", suffixes: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self.hint = hint
        self.suffixes = suffixes
        self.names = names  # also accepted without a suffix (e.g. shipped screen names)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Input(self.default, id="dialog-path")
            yield Static(self.hint, id="dialog-hint")
            yield Static("", id="dialog-error", classes="error")
            with Horizontal(id="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _submit(self) -> None:
        path = self.query_one("#dialog-path", Input).value.strip()
        if not path:
            self.query_one("#dialog-error", Static).update("Enter a path.")
            return
        if self.suffixes and not path.lower().endswith(self.suffixes) and path not in self.names:
            self.query_one("#dialog-error", Static).update(
                f"The file name must end in {' or '.join(self.suffixes)}."
            )
            return
        self.dismiss(path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; dismisses with True for yes."""

    YES = "Yes, replace (y)"

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]

    def __init__(self, question: str, yes: str = YES) -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="dialog-title")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.yes, variant="warning", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of a list (Enter); dismisses with its key, or None (Esc)."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield OptionList(*[Option(label, id=key) for label, key in self.choices], id="dialog-choices")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        keys = [key for _, key in self.choices]
        if self.current in keys:
            options.highlighted = keys.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnsDialog(ModalScreen[list[str] | None]):
    """Tick the columns to show (space toggles, Enter or OK applies, Esc cancels)."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, options: list[tuple[str, str]], chosen: list[str]) -> None:
        super().__init__()
        self.options = options
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Columns of the ranked table (space: show/hide; rank and ticker always show)", id="dialog-title")
            yield SelectionList[str](*[(label, key, key in self.chosen) for label, key in self.options], id="dialog-columns")
            with Horizontal(id="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(list(self.query_one(SelectionList).selected) if event.button.id == "ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
