"""The app's table cell (``tui.app.steps.base.Cell``) draws exactly what a Rich Text draws.

Cell takes a short way for its usual case (one unstyled line that fits), since a DataTable
draws every visible cell again after each sort; these tests fail if that way and Rich's own
ever part (a new Rich that justifies, pads or ends lines differently), and if the short way is
no longer taken for a plain number.
"""

from __future__ import annotations

import itertools

import pytest
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.renderables.styled import Styled

from tui.app.steps.base import Cell, right

CONSOLE = Console(width=80, height=25, force_terminal=True, color_system="truecolor", legacy_windows=False)
TEXTS = ["", "-", "7", "1,234.56", "12.5%", "  lead", "trail  ", "RUSH ENTERPRISES INC \\TX\\", "[b]not markup[/b]", "日本株", "a\tb", "two\nlines", "x" * 14]
JUSTIFY = [None, "default", "left", "right", "center", "full"]


def segments(renderable, width: int, no_wrap: bool | None, justify=None, overflow=None, height: int | None = 1):
    options = CONSOLE.options.update(width=width, no_wrap=no_wrap, justify=justify, overflow=overflow)
    if height is not None:
        options = options.update_dimensions(width, height)
    direct = list(CONSOLE.render(renderable, options))
    # as Textual's DataTable draws a cell: padded, styled, cut into lines
    table = CONSOLE.render_lines(Styled(Padding(renderable, (0, 1)), pre_style=Style(bgcolor="blue"), post_style=Style(bold=True)), options)
    return direct, table


@pytest.mark.parametrize("justify", JUSTIFY)
def test_cell_draws_the_same_segments_as_text(justify) -> None:
    for plain, width, no_wrap, end, option_justify in itertools.product(TEXTS, [1, 5, 20], [True, False, None], ["\n", ""], [None, "right"]):
        for kwargs in ({"justify": justify, "end": end}, {"justify": justify, "end": end, "no_wrap": True}):
            expected = segments(Text(plain, **kwargs), width, no_wrap, option_justify)
            assert segments(Cell(plain, **kwargs), width, no_wrap, option_justify) == expected, (plain, width, no_wrap, end, option_justify, kwargs)


def test_cell_with_a_style_or_overflow_ignore_is_drawn_as_text() -> None:
    for plain, width in itertools.product(TEXTS, [1, 20]):
        assert segments(Cell(plain, style="red", justify="right"), width, True) == segments(Text(plain, style="red", justify="right"), width, True)
        assert segments(Cell(plain, justify="right"), width, True, overflow="ignore") == segments(Text(plain, justify="right"), width, True, overflow="ignore")


def test_cell_with_spans_and_markup_characters_is_drawn_as_text() -> None:
    cell, text = Cell("ab cd", justify="right"), Text("ab cd", justify="right")
    cell.stylize("bold", 0, 2)
    text.stylize("bold", 0, 2)
    assert segments(cell, 10, True) == segments(text, 10, True)
    assert str(Cell("[b]x[/b]")) == "[b]x[/b]"  # shown as it is, never read as markup


def test_a_plain_number_takes_the_short_way(monkeypatch) -> None:
    """The speed-up is real: a right-aligned number that fits never reaches Rich's Text.__rich_console__."""

    def refuse(*args, **kwargs):
        raise AssertionError("drawn the general way")

    expected = segments(Text("1,234.56", justify="right"), 10, True)
    monkeypatch.setattr(Text, "__rich_console__", refuse)
    assert segments(right("1,234.56"), 10, True) == expected
    assert isinstance(right("1"), Text)
