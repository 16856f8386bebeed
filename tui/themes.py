"""Theme tags of a dataset, computed once and kept between runs.

Tagging every company of the snapshot (TF-IDF similarity of the business summaries included)
takes a few seconds, most of it importing scikit-learn; the tags depend only on the dataset,
the theme files (shipped and the user's) and the tagging code, so they are cached in the user's
cache folder under a key made of all of those, and read back in milliseconds.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from screener.themes import ThemeTags


def _fingerprint(dataset: str) -> str:
    import screener.themes
    import universes.themes
    from universes.datasets import dataset_key

    digest = hashlib.sha256(repr(dataset_key(dataset)).encode())
    files = [Path(screener.themes.__file__), Path(universes.themes.__file__), universes.themes.SHIPPED_FILE]
    user = universes.themes.user_themes_file()
    files += [user] if user.is_file() else []
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def dataset_theme_tags(dataset: str = "snapshot") -> ThemeTags:
    """Theme tags of every company of a dataset (cached in memory and on disk).

    Raises
    ------
    universes.themes.ThemeError
        The user's themes file is malformed (the message names the file and the key).
    """
    return _tags(dataset, _fingerprint(dataset))


@functools.lru_cache(maxsize=4)
def _tags(dataset: str, fingerprint: str) -> ThemeTags:
    from screener.themes import tag_themes
    from universes import open_dataset
    from universes.files import atomic_write
    from universes.paths import cache_dir
    from universes.themes import load_themes

    path = cache_dir() / "themes" / f"{dataset}-{fingerprint}.pickle"
    if path.is_file():
        try:
            tags: ThemeTags = pd.read_pickle(path)
            return tags
        except Exception:  # a damaged cache is rebuilt, never trusted
            pass
    data = open_dataset(dataset)
    summaries = data.profiles["business_summary"] if "business_summary" in data.profiles else pd.Series(dtype="string")
    tags = tag_themes(data.companies, summaries, load_themes(known=data.companies.index))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: pd.to_pickle(tags, tmp))
    except OSError:
        pass
    return tags
