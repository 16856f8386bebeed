"""cvxpy, imported without the 0.4 s of ``scipy.stats`` it does not need to solve anything.

cvxpy (1.9) imports ``scipy.stats`` when it loads, for one function: ``entropy``, which its
``quantum_rel_entr`` atom calls to evaluate itself numerically. Importing ``scipy.stats``
takes about 0.43 s on the 2-core machine the benchmarks run on, a third of a first
``rotation optimize`` (the rest of cvxpy takes 0.1 s). Nothing this project builds uses that
atom.

So while cvxpy loads, ``scipy.stats`` is a stand-in module: its ``entropy`` imports the real
``scipy.stats`` on its first call and hands over, and any other name asked of it imports the
real module and answers from it. The stand-in leaves ``sys.modules`` as soon as cvxpy has
loaded, so a later ``import scipy.stats`` anywhere gets the real module. When ``scipy.stats``
or cvxpy is already loaded, this is a plain import.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

_STATS = "scipy.stats"
_lock = threading.Lock()


def _real_stats() -> types.ModuleType:
    """The real ``scipy.stats``, imported now if it was not (the stand-in set aside first)."""
    loaded = sys.modules.get(_STATS)
    if loaded is not None and not isinstance(loaded, _StandIn):
        return loaded
    sys.modules.pop(_STATS, None)
    return importlib.import_module(_STATS)


class _StandIn(types.ModuleType):
    """``scipy.stats`` while cvxpy loads: every name is the real one, looked up when used.

    To the thread loading cvxpy it is a plain module without ``__path__`` and the like (the
    import system would otherwise load the real package at once); to any other thread that
    imports ``scipy.stats`` meanwhile, every name, those included, is the real module's.
    """

    def __init__(self, loader: int) -> None:
        super().__init__(_STATS, "scipy.stats, until first used (optimizer._cvxpy)")
        self.loader = loader

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and threading.get_ident() == self.loader:
            raise AttributeError(name)
        return getattr(_real_stats(), name)


def _entropy(*args: Any, **kwargs: Any) -> Any:
    """``scipy.stats.entropy``, imported on the first call."""
    return _real_stats().entropy(*args, **kwargs)


def load_cvxpy() -> types.ModuleType:
    """Import cvxpy (see the module docstring) and return it.

    Returns
    -------
    types.ModuleType
        The ``cvxpy`` module.
    """
    loaded = sys.modules.get("cvxpy")
    if loaded is not None:
        return loaded
    with _lock:
        if _STATS in sys.modules:
            return importlib.import_module("cvxpy")
        stand_in = _StandIn(threading.get_ident())
        stand_in.entropy = _entropy  # type: ignore[attr-defined]
        sys.modules[_STATS] = stand_in
        try:
            return importlib.import_module("cvxpy")
        finally:
            if sys.modules.get(_STATS) is stand_in:
                del sys.modules[_STATS]

