"""What C code prints while HiGHS runs goes to the null device, not the process's output.

The HiGHS bundled with SciPy (1.12 in SciPy 1.17) has a leftover debug line,
``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``, written with C's
``printf`` whenever its integer search turns certain solutions back into the original
problem's terms, whatever the options (presolve off included). It reached the process's
standard output: a stray line in ``rotation optimize --format json`` (printed at exit, after the
JSON, when the output is a pipe) and over the terminal app. The lot choice
(:func:`optimizer.trades.choose_lots`) solves inside :func:`c_output_discarded`.

While it is in force, file descriptor 1 points at the null device, for the whole process:
anything else that reaches it meanwhile is lost too, from any thread (text Python still holds
in ``sys.stdout``'s buffer is not: it reaches the output when flushed later), and a child
process started meanwhile inherits the null device as its output. Nothing in Rotation writes
there while it solves (the command line prints after; the terminal app draws on standard error
on Linux and macOS). Nested and concurrent uses share one redirection, undone when the last one
ends. On Windows it does nothing: Textual draws on standard output there, and C's buffers
cannot be reached to flush them.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_lock = threading.Lock()
_users = 0
_saved: int | None = None


def _flush_c_streams() -> None:
    """Flush C's output buffers (text printed before a redirection goes where it was meant to)."""
    with suppress(OSError, TypeError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def _redirect() -> int | None:
    """Point descriptor 1 at the null device; the saved descriptor (None when nothing was done)."""
    _flush_c_streams()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1: nothing to protect
        return None
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
        finally:
            os.close(null)
    except OSError:
        os.close(saved)
        return None
    return saved


def _restore(saved: int) -> None:
    _flush_c_streams()  # what HiGHS left in C's buffer goes to the null device, not later to the output
    try:
        os.dup2(saved, 1)
    finally:
        os.close(saved)


@contextmanager
def c_output_discarded() -> Iterator[None]:
    """Discard what is written to file descriptor 1 meanwhile (see the module docstring)."""
    global _users, _saved
    if os.name == "nt":
        yield
        return
    with _lock:
        if _users == 0:
            _saved = _redirect()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                _restore(_saved)
                _saved = None
