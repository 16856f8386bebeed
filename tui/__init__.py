"""The front ends: the ``rotation`` command line, the terminal app, the session core they share,
and the exports.

The front ends run the numerical libraries single-threaded (unless the environment says
otherwise): their problems are small (hundreds to a few thousand names), where BLAS threads add
overhead, and on a busy two-core machine threaded BLAS turned a 16 ms decomposition into a
second. This must happen before NumPy is first imported, hence here.

They also share the ways they keep Python's garbage collector out of the way: off what they
have loaded (:func:`freeze_long_lived`), and held back for a while (:class:`CollectorHold`).
"""

import gc
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def freeze_long_lived() -> None:
    """Leave what exists now (modules, loaded data, widgets) out of future garbage collections.

    A front end keeps hundreds of thousands of objects the collector can track (pandas, SciPy,
    cvxpy, Textual, the session), nearly all of them for its whole life. A full collection
    walked them all: about 250 ms in the middle of whatever the app's user was doing (a sort,
    a tweak), and 0.2-0.3 s when the interpreter shut down after a command had printed its
    answer. :func:`gc.freeze` moves them to a generation that is never collected. Objects freed
    later by reference counting are freed as ever; only a cycle among them that becomes
    garbage would stay in memory until the process ends.
    """
    gc.freeze()


class CollectorHold:
    """Holds Python's garbage collector back for a while, then lets it run as it did before.

    For work that allocates a lot and frees next to nothing until it is done (the app's start,
    a re-sort of the ranked table): the collector runs once at the end instead of many times
    in the middle. :meth:`release` is safe to call more than once, and does nothing when the
    collector was already off at :meth:`hold`.
    """

    def __init__(self) -> None:
        self._held = False

    def hold(self) -> None:
        """Turn the collector off, if it is on (and remember to turn it back on)."""
        if not self._held and gc.isenabled():
            self._held = True
            gc.disable()

    def release(self) -> None:
        """Turn the collector back on, if :meth:`hold` turned it off."""
        if self._held:
            self._held = False
            gc.enable()
