"""Errors a user can cause: one base class for every package, and the data package's own kinds."""

from __future__ import annotations


class UserError(ValueError):
    """Something the user named, typed or supplied cannot be used.

    Every error a user can cause derives from this class (universes, screens, constraints, the
    optimiser, exports, workspaces): the message says what is wrong, where, and what to do,
    and the command line and the app show it as it is, never a traceback.
    """


class UniverseError(UserError):
    """A universe, ticker or data file the user named cannot be used.

    The message says what is wrong and what to do instead; command-line and TUI front ends show
    it as it is.
    """


class DataFileError(UniverseError):
    """A user-supplied file is malformed.

    Parameters
    ----------
    path : str
        The file at fault.
    problem : str
        What is wrong.
    row : int, optional
        1-based row number as a spreadsheet shows it (the header is row 1).
    column : str, optional
        The column at fault.
    sheet : str, optional
        Worksheet name for Excel files.
    """

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.path = path
        self.problem = problem
        self.row = row
        self.column = column
        self.sheet = sheet
        where = [path]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}")
