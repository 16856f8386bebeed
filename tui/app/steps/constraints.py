"""Step 4: every constraint with a switch and its values; a bad value is refused at its field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static, Switch

from tui.app.messages import EditsReset, SettingsEdited
from tui.app.steps.base import Step, switch_parts

if TYPE_CHECKING:
    from tui.session import Session


def _row_of(field_id: str) -> str:
    """The constraint row a field belongs to (``sector-3-min`` -> ``sector-3``)."""
    for suffix in ("-min", "-max", "-on"):
        if field_id.endswith(suffix):
            return field_id[: -len(suffix)]
    return field_id


class ConstraintsStep(Step):
    """The constraint form; every valid change re-solves the portfolio (in the background)."""

    PRIMARY: ClassVar[str] = "#constraints-form"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [Binding("u", "undo", "Undo")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sectors: list[str] = []
        self.themes: list[str] = []
        self.theme_labels: dict[str, str] = {}
        self._fields: dict[str, Input | Switch] = {}  # the form's fields by key, once built
        self._error_shown = False  # an edit was refused: its marks and message are on show

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="constraints-error", classes="error")
            yield VerticalScroll(id="constraints-form", classes="form")
            with Horizontal(classes="button-row"):
                yield Button("Undo (u)", id="constraints-undo", compact=True)
                yield Button("Shipped constraints", id="constraints-reset", compact=True)

    async def show_session(self, session: Session) -> None:
        from tui.forms import form_from_settings

        sectors = sorted(set(session.universe.companies["sector"].dropna()) | set(session.settings.sectors))
        labels = {t.id: t.label for t in session.tags.themes} if session.tags is not None else {}
        themes = [*labels, *(t for t in session.settings.themes if t not in labels)]
        self.theme_labels = labels
        if sectors != self.sectors or themes != self.themes or not self.query("#constraints-form Input"):
            self.sectors, self.themes = sectors, themes
            await self._build(session)
        values = form_from_settings(session.settings, self.sectors, self.themes)
        with self.prevent(Input.Changed, Switch.Changed):
            for key, widget in self._fields.items():
                if key in values:
                    widget.value = values[key]
                widget.remove_class("invalid")
        _clear_errors(self)
        self._error_shown = False

    async def _build(self, session: Session) -> None:
        from tui.forms import (
            CONSTRAINT_FIELDS,
            SWITCH_FIELDS,
            TICKER_FIELDS,
            sector_field,
            theme_field,
        )

        f = CONSTRAINT_FIELDS

        def row(key: str, label: str, inputs: Iterable[tuple[str, str]], switch: bool) -> Horizontal:
            parts: list[Any] = switch_parts(Switch(False, id=f"c-{key}-on")) if switch else [Static("", classes="switch-gap")]
            parts.append(Label(label, classes="row-label" if inputs else "row-label wide"))
            for fid, placeholder in inputs:
                parts.append(Input(id=f"c-{fid}", placeholder=placeholder, classes="num"))
            parts.append(Static("", id=f"cerr-{key}", classes="error row-error"))
            return Horizontal(*parts, classes="constraint-row")

        rows = [
            row("risk_aversion", "Risk aversion", [("risk_aversion", "")], False),
            row("risk_mode", SWITCH_FIELDS["risk_mode"][0], (), True),
            row("cash_buffer", "Cash buffer %", [("cash_buffer", "")], False),
            row("max_weight", "Name cap %", [("max_weight", "")], True),
            row("manufacturing", "Manufacturing (SIC) %", [("manufacturing-min", "min"), ("manufacturing-max", "max")], True),
        ]
        rows += [
            row(f"sector-{i}", f"{s[:21]} %", [(sector_field(i, 'min', s).id, "min"), (sector_field(i, 'max', s).id, "max")], True)
            for i, s in enumerate(self.sectors)
        ]
        rows += [
            row(f"theme-{i}", f"{self.theme_labels.get(t, t)[:17]} (theme) %", [(theme_field(i, 'min', t).id, "min"), (theme_field(i, 'max', t).id, "max")], True)
            for i, t in enumerate(self.themes)
        ]
        rows += [
            row("turnover", "Turnover % (buys+sells)", [("turnover", "")], True),
            row("adv", "Trade cap % of daily vol", [("adv", "")], True),
            row("tracking_error", "Tracking error %", [("tracking_error", "")], True),
            row("beta", "Beta", [("beta-min", "min"), ("beta-max", "max")], True),
            row("max_names", "Max names", [("max_names", "")], True),
            row("min_position", "Min position %", [("min_position", "")], True),
            row("buy_negative_alpha", SWITCH_FIELDS["buy_negative_alpha"][0], (), True),
            row("holding_years", f["holding_years"].label, [("holding_years", "")], False),
            row("lookback_days", f["lookback_days"].label, [("lookback_days", "")], False),
            row("beta_lookback_days", f["beta_lookback_days"].label, [("beta_lookback_days", "")], False),
            row("lot_size", f["lot_size"].label, [("lot_size", "")], False),
            row("min_trade_usd", f["min_trade_usd"].label, [("min_trade_usd", "")], False),
        ]
        for key, text in TICKER_FIELDS.items():
            rows.append(
                Horizontal(
                    Static("", classes="switch-gap"),
                    Label(f"{text} tickers", classes="row-label"),
                    Input(id=f"c-{key}", placeholder="e.g. MCFT, PLAB", classes="tickers"),
                    Static("", id=f"cerr-{key}", classes="error row-error"),
                    classes="constraint-row",
                )
            )
        form = self.query_one("#constraints-form", VerticalScroll)
        await form.remove_children()
        await form.mount_all(rows)
        fields: list[Input | Switch] = [*form.query(Input), *form.query(Switch)]
        self._fields = {w.id[2:]: w for w in fields if w.id and w.id.startswith("c-")}

    def form_values(self) -> dict[str, Any]:
        """Every field of the form by its key."""
        return {key: widget.value for key, widget in self._fields.items()}

    @on(Input.Changed, "#constraints-form Input")
    @on(Switch.Changed, "#constraints-form Switch")
    def _edited(self) -> None:
        from tui.forms import FieldError, settings_from_form

        session = getattr(self.app, "session", None)
        if session is None or not self.sectors:
            return
        form = self.query_one("#constraints-form")
        if self._error_shown:  # the queries below walk the whole form: only after an error
            for w in form.query(".invalid"):
                w.remove_class("invalid")
            _clear_errors(self)
            self._error_shown = False
        known = session.universe.reference_companies.index if session.universe.reference_companies is not None else None
        try:
            settings = settings_from_form(session.settings, self.form_values(), self.sectors, known, self.themes)
        except FieldError as exc:
            self._error_shown = True
            for w in form.query(f"#c-{exc.field}"):
                w.add_class("invalid")
            for w in form.query(f"#cerr-{_row_of(exc.field)}"):
                w.update(exc.message)  # type: ignore[attr-defined]
                w.add_class("shown")
            self.query_one("#constraints-error", Static).update(f"Not applied: {exc.message}")
            self.query_one("#constraints-error", Static).add_class("shown")
            return
        if settings != session.settings:
            self.post_message(SettingsEdited(settings))

    @on(Button.Pressed, "#constraints-undo")
    def action_undo(self) -> None:
        """Undo the last screen or constraint edit."""
        self.post_message(EditsReset("undo"))

    @on(Button.Pressed, "#constraints-reset")
    def _reset(self) -> None:
        self.post_message(EditsReset("constraints"))


def _clear_errors(step: Widget) -> None:
    """Empty the messages that show an error (only those: each update costs a layout)."""
    for w in step.query(".error.shown"):
        w.update("")  # type: ignore[attr-defined]
        w.remove_class("shown")
