"""Themes: the shipped ``themes.toml`` and the user's own, read and validated.

A theme names a part of the economy the thesis looks at (automation, energy transition, medical
devices) and the evidence that tags a company with it: SEC SIC codes, the source's industries,
phrases of the business summary, a similarity threshold and per-ticker pins. The tagging itself
is pure computation in :mod:`screener.themes`; this module only reads the definitions::

    [themes.energy_transition]
    label = "Energy transition"
    description = "..."                 # what the summaries are compared with (TF-IDF)
    sic = [3674, [3690, 3692]]          # codes or [first, last] ranges
    industries = ["Alternative Energy Sources & Other"]
    include = ["solar", "fuel cell*"]   # summary phrases; '*' ends a prefix
    exclude = ["crude oil refin*"]      # a phrase that rules the theme out
    min_similarity = 0.10               # 0-1
    pins = ["ARRY"]                     # always tagged
    unpins = ["PLAB"]                   # never tagged

The shipped file is ``universes/themes.toml``; ``$ROTATION_HOME/themes.toml`` adds themes or
changes shipped ones: a table for a shipped theme replaces only the keys it gives, and its
``pins`` and ``unpins`` are added to the shipped ones. Every key is checked; a mistake raises
:class:`ThemeError` naming the file, the table and the key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from universes.errors import UserError
from universes.paths import user_data_dir
from universes.tickers import normalize_ticker
from universes.toml_io import read_toml

SHIPPED_FILE = Path(__file__).resolve().parent / "themes.toml"
LIST_KEYS = ("industries", "include", "exclude", "pins", "unpins")
VALID_KEYS = ("label", "description", "sic", "min_similarity", *LIST_KEYS)
#: Keys every theme needs (a user's table for a shipped theme inherits them).
REQUIRED_KEYS = ("label", "description")


class ThemeError(UserError):
    """A themes file is invalid, or a theme name is unknown (the message says where and what)."""


@dataclass(frozen=True)
class Theme:
    """One theme and the evidence that tags a company with it.

    Attributes
    ----------
    id : str
        The table name (``energy_transition``): lower case, words joined by ``_``.
    label : str
        The name people read (``Energy transition``).
    description : str
        The theme in words; business summaries are compared with it.
    sic : tuple of (int, int)
        SEC SIC code ranges, inclusive (a single code is ``(c, c)``).
    industries : tuple of str
        The source's industries.
    include : tuple of str
        Phrases of the business summary that are evidence (``*`` at the end: any ending).
    exclude : tuple of str
        Phrases that rule the theme out.
    min_similarity : float
        TF-IDF cosine similarity of a summary to ``description`` that counts as evidence.
    pins : tuple of str
        Tickers always tagged.
    unpins : tuple of str
        Tickers never tagged.
    origin : str
        The file(s) the definition came from.
    """

    id: str
    label: str
    description: str
    sic: tuple[tuple[int, int], ...] = ()
    industries: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_similarity: float = 0.1
    pins: tuple[str, ...] = ()
    unpins: tuple[str, ...] = ()
    origin: str = ""

    @property
    def column(self) -> str:
        """The boolean column of a screen table that says whether a company has the theme."""
        return f"theme_{self.id}"


def theme_id(name: str) -> str:
    """The id a theme name stands for: ``"Energy transition"`` -> ``energy_transition``."""
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def user_themes_file() -> Path:
    """The user's own themes file (may not exist)."""
    return user_data_dir() / "themes.toml"


def _where(origin: str, tid: str, key: str | None = None) -> str:
    return f"{origin}: [themes.{tid}]" + (f" key {key!r}" if key else "")


def _string_list(value: Any, origin: str, tid: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ThemeError(f"{_where(origin, tid, key)} must be a list of non-empty strings, not {value!r}.")
    return tuple(v.strip() for v in value)


def _sic_ranges(value: Any, origin: str, tid: str) -> tuple[tuple[int, int], ...]:
    out = []
    for item in value if isinstance(value, list) else [None]:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 9999:
            out.append((item, item))
        elif (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and 100 <= x <= 9999 for x in item)
            and item[0] <= item[1]
        ):
            out.append((item[0], item[1]))
        else:
            raise ThemeError(
                f"{_where(origin, tid, 'sic')}: {item!r} is not a SIC code (a whole number from 100 "
                "to 9999) or a [first, last] range; write e.g. sic = [3674, [3690, 3692]]."
            )
    return tuple(out)


def _check_phrases(phrases: tuple[str, ...], origin: str, tid: str, key: str) -> None:
    for phrase in phrases:
        body = phrase[:-1] if phrase.endswith("*") else phrase
        if "*" in body or not any(c.isalnum() for c in body):
            raise ThemeError(
                f"{_where(origin, tid, key)}: {phrase!r} is not a phrase: use words, with '*' only "
                "at the end for any ending (\"robot*\")."
            )


def _tickers(value: tuple[str, ...], known: set[str] | None, origin: str, tid: str, key: str) -> tuple[str, ...]:
    tickers = tuple(dict.fromkeys(normalize_ticker(t) for t in value))
    if known is not None:
        unknown = [t for t in tickers if t not in known]
        if unknown:
            raise ThemeError(
                f"{_where(origin, tid, key)}: {', '.join(unknown)} not in the dataset; check the "
                "ticker (`rotation show TICKER` suggests close matches)."
            )
    return tickers


def parse_theme(tid: str, table: dict[str, Any], origin: str, known: set[str] | None = None) -> Theme:
    """Validate one ``[themes.ID]`` table and turn it into a :class:`Theme`.

    Raises
    ------
    ThemeError
        An unknown or missing key, or a value of the wrong kind (naming file, table and key).
    """
    if theme_id(tid) != tid:
        raise ThemeError(
            f"{origin}: [themes.{tid}]: a theme's table name is lower case with words joined by "
            f"'_' (write [themes.{theme_id(tid)}])."
        )
    unknown = [k for k in table if k not in VALID_KEYS]
    if unknown:
        raise ThemeError(f"{_where(origin, tid, unknown[0])} is unknown. Valid keys: {', '.join(VALID_KEYS)}.")
    missing = [k for k in REQUIRED_KEYS if k not in table]
    if missing:
        raise ThemeError(f"{_where(origin, tid, missing[0])} is missing: every theme needs {' and '.join(REQUIRED_KEYS)}.")
    for key in REQUIRED_KEYS:
        if not isinstance(table[key], str) or not table[key].strip():
            raise ThemeError(f"{_where(origin, tid, key)} must be a non-empty string.")
    lists = {k: _string_list(table.get(k, []), origin, tid, k) for k in LIST_KEYS}
    for key in ("include", "exclude"):
        _check_phrases(lists[key], origin, tid, key)
    similarity = table.get("min_similarity", Theme.min_similarity)
    if (
        not isinstance(similarity, int | float)
        or isinstance(similarity, bool)
        or not math.isfinite(similarity)
        or not 0 < similarity <= 1
    ):
        raise ThemeError(f"{_where(origin, tid, 'min_similarity')} must be a number above 0 and at most 1, not {similarity!r}.")
    pins = _tickers(lists["pins"], known, origin, tid, "pins")
    unpins = _tickers(lists["unpins"], known, origin, tid, "unpins")
    both = sorted(set(pins) & set(unpins))
    if both:
        raise ThemeError(f"{_where(origin, tid)}: {', '.join(both)} both pinned and unpinned; keep one.")
    if not (table.get("sic") or lists["industries"] or lists["include"]):
        raise ThemeError(
            f"{_where(origin, tid)}: no evidence: give at least one of sic, industries or include "
            "(a summary phrase or a similar summary must agree with one more kind)."
        )
    return Theme(
        id=tid,
        label=table["label"].strip(),
        description=" ".join(table["description"].split()),
        sic=_sic_ranges(table.get("sic", []), origin, tid),
        industries=lists["industries"],
        include=lists["include"],
        exclude=lists["exclude"],
        min_similarity=float(similarity),
        pins=pins,
        unpins=unpins,
        origin=origin,
    )


def _tables(data: dict[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    extra = [k for k in data if k != "themes"]
    if extra:
        raise ThemeError(f"{origin}: unknown table or key {extra[0]!r}; every theme is a [themes.ID] table.")
    themes = data.get("themes", {})
    for tid, table in themes.items():
        if not isinstance(table, dict):
            raise ThemeError(f"{origin}: themes.{tid} must be a table ([themes.{tid}]).")
    return dict(themes)


def merge_tables(shipped: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """A user's table over a shipped one: its keys replace the shipped ones; pins and unpins add up."""
    merged = {**shipped, **user}
    for key in ("pins", "unpins"):
        if key in shipped and key in user and isinstance(user[key], list):
            merged[key] = [*shipped[key], *user[key]]
    return merged


def load_themes(
    path: str | Path | None = None, *, include_user: bool = True, known: Iterable[str] | None = None
) -> tuple[Theme, ...]:
    """Read the themes: the shipped file (or ``path``) and the user's ``themes.toml`` over it.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A themes file to read instead of the shipped one.
    include_user : bool
        Apply ``$ROTATION_HOME/themes.toml`` (when it exists).
    known : iterable of str, optional
        The dataset's tickers: pins and unpins must be among them.

    Returns
    -------
    tuple of Theme
        In file order, the user's new themes last.

    Raises
    ------
    ThemeError
        A missing or malformed file, an unknown or invalid key, a ticker not in ``known``.
    """
    base = SHIPPED_FILE if path is None else Path(path).expanduser()
    tables = {
        tid: (table, str(base))
        for tid, table in _tables(read_toml(base, ThemeError, "themes"), str(base)).items()
    }
    user = user_themes_file()
    if include_user and user.is_file():
        for tid, table in _tables(read_toml(user, ThemeError, "themes"), str(user)).items():
            if tid in tables:
                shipped, origin = tables[tid]
                tables[tid] = (merge_tables(shipped, table), f"{origin} + {user}")
            else:
                tables[tid] = (table, str(user))
    names = set(known) if known is not None else None
    return tuple(parse_theme(tid, table, origin, names) for tid, (table, origin) in tables.items())


def find_theme(name: str, themes: Iterable[Theme]) -> Theme:
    """The theme a name (id or label, any case, spaces or ``_``) stands for.

    Raises
    ------
    ThemeError
        No such theme (the message lists the valid ones).
    """
    pool = tuple(themes)
    wanted = theme_id(name)
    for theme in pool:
        if wanted in (theme.id, theme_id(theme.label)):
            return theme
    valid = ", ".join(f"{t.id} ({t.label})" for t in pool)
    raise ThemeError(f"Unknown theme {name!r}. Valid themes: {valid}; add your own in {user_themes_file()}.")
