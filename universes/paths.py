"""Where datasets and user files live, and reading a manifest: what needs neither NumPy nor pandas.

Commands that only list (``rotation universes``) import this and :mod:`universes.catalog`
alone, so they answer without loading the numerical libraries.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from universes.errors import UniverseError

SNAPSHOT = "snapshot"
#: File types a user can give as a table (tickers, holdings, fundamentals).
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
SNAPSHOT_DIR = Path(__file__).resolve().parent / "data"
#: A dataset name is one plain folder name: it can never point outside the datasets folder.
DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def user_data_dir() -> Path:
    """Where refreshed datasets and user files live (``$ROTATION_HOME`` overrides it)."""
    override = os.environ.get("ROTATION_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("rotation", appauthor=False))


def cache_dir() -> Path:
    """Where results that take long to compute are kept between runs: ``$ROTATION_CACHE``, else
    ``$ROTATION_HOME/cache``, else the user's cache folder. Everything in it can be deleted at
    any time (it is rebuilt on the next run)."""
    override = os.environ.get("ROTATION_CACHE")
    if override:
        return Path(override).expanduser()
    home = os.environ.get("ROTATION_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("rotation", appauthor=False))


def refreshed_datasets_dir() -> Path:
    """Folder holding one sub-folder per refreshed dataset."""
    return user_data_dir() / "datasets"


def check_dataset_name(name: str) -> str:
    """``name`` if it can name a dataset: ``"snapshot"`` or one plain folder name.

    Raises
    ------
    UniverseError
        A name with a path separator, ``..``, a leading dot or other characters, which could
        leave the datasets folder.
    """
    if name == SNAPSHOT or (DATASET_NAME.fullmatch(name) and ".." not in name):
        return name
    raise UniverseError(
        f"dataset name {name!r} is not a plain folder name: use letters, digits, '-', '_' and "
        f"'.' (no '/' or '..', at most 100 characters); datasets live in {refreshed_datasets_dir()}."
    )


def dataset_path(name: str) -> Path:
    """The folder of a dataset (it may not exist); the name is checked by :func:`check_dataset_name`."""
    return SNAPSHOT_DIR if name == SNAPSHOT else refreshed_datasets_dir() / check_dataset_name(name)


def refreshed_dataset_names() -> list[str]:
    """Names of the complete refreshed datasets in the user's data directory."""
    root = refreshed_datasets_dir()
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and (p / "manifest.json").is_file() and not p.name.startswith(".")
    )


def read_manifest(name: str) -> dict[str, Any]:
    """The manifest of a dataset, without loading its data."""
    result: dict[str, Any] = json.loads((dataset_path(name) / "manifest.json").read_text())
    return result


def is_table_path(text: str) -> bool:
    """Whether a universe argument names a file rather than a universe."""
    return Path(text).suffix.lower() in TABLE_SUFFIXES
