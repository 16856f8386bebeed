"""Named universe definitions: the shipped ``universes.toml``, the user's own, and refreshed data.

Every table of a definitions file is checked against :class:`UniverseTable` (strict types, known
settings, sector and security-type names, a dataset name that stays inside the data folder, a
``base`` that is not the universe itself; see :mod:`universes.validation` for the message).
The user's file (``$ROTATION_HOME/universes.toml``) never stops the shipped universes: a file
that cannot be read, or a definition in it that is invalid, is left out and said in
:func:`catalog_warnings` (for the front ends to show), and asking for that universe by name
raises its error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from universes.errors import UniverseError
from universes.paths import (
    SNAPSHOT,
    check_dataset_name,
    is_table_path,
    read_manifest,
    refreshed_dataset_names,
    user_data_dir,
)
from universes.toml_io import read_toml
from universes.validation import NonNegative, Schema, one_of, validate

BUILTIN_FILE = Path(__file__).resolve().parent / "universes.toml"
DEFAULT_UNIVERSE = "us-small-manufacturing"

#: Sector names in the data: SimFin's classification (the snapshot), Yahoo Finance's (refreshed
#: datasets; it adds Communication Services) and "Unclassified" where the source gives none.
SECTORS = (
    "Basic Materials",
    "Business Services",
    "Communication Services",
    "Consumer Cyclical",
    "Consumer Defensive",
    "Energy",
    "Financial Services",
    "Healthcare",
    "Industrials",
    "Other",
    "Real Estate",
    "Technology",
    "Unclassified",
    "Utilities",
)
#: What the listed line is (the snapshot's ``security_type``).
SECURITY_TYPES = (
    "common", "preferred", "unit", "warrant", "right", "adr", "blank check", "fund", "partnership",
)  # fmt: skip
RANKABLE = ("market_cap", "adv_usd", "price")


def _check_range(pair: list[int]) -> list[int]:
    if pair[0] > pair[1]:
        raise ValueError(f"{pair}: the first SIC code must not exceed the last")
    return pair


#: SIC code ranges, as ``[[first, last], ...]`` (SIC codes run from 100 to 9999).
SicRanges = list[
    Annotated[
        list[Annotated[int, Field(ge=100, le=9999)]],
        Field(min_length=2, max_length=2),
        AfterValidator(_check_range),
    ]
]
#: A list of sector names, each one of :data:`SECTORS`.
SectorNames = list[Annotated[str, AfterValidator(one_of(SECTORS, "sector"))]]


def _check_rank(pair: list[int]) -> list[int]:
    if pair[0] > pair[1]:
        raise ValueError(f"{pair}: the first rank must not exceed the last")
    return pair


def _check_country(code: str) -> str:
    if not (len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()):
        raise ValueError(f"{code!r} is not a country code: use two capital letters (ISO 3166, e.g. US, CA, GB)")
    return code


def _about(description: str) -> Any:
    return Field(default=None, description=description)


class UniverseTable(Schema):
    """One ``[name]`` table of a universe definitions file (see ``universes/universes.toml``)."""

    description: str = ""
    dataset: Annotated[str, AfterValidator(check_dataset_name)] | None = _about(
        '"snapshot" or the name of a dataset written by `rotation refresh`'
    )
    base: str | None = _about("another universe to start from")
    tickers_file: str | None = _about("a .csv/.xlsx list of tickers to start from")
    min_price: NonNegative | None = _about("USD, price at least")
    min_market_cap: NonNegative | None = _about("USD, market cap at least")
    max_market_cap: NonNegative | None = _about("USD, market cap at most")
    min_adv_usd: NonNegative | None = _about("USD, average daily dollar volume at least")
    manufacturing: bool | None = _about("true: SIC 2000-3999 only")
    exclude_life_sciences: bool | None = _about("true: drop SIC 2833-2836")
    sectors: SectorNames | None = _about('sectors to keep, e.g. ["Industrials"]')
    exchanges: list[str] | None = _about('exchanges to keep, e.g. ["NYSE", "Nasdaq"]')
    exclude_exchanges: list[str] | None = _about('exchanges to drop, e.g. ["OTC"]')
    sic_ranges: SicRanges | None = _about("SIC code ranges to keep, e.g. [[2000, 3999]]")
    security_types: list[Annotated[str, AfterValidator(one_of(SECURITY_TYPES, "security type"))]] | None = _about(
        "kinds of listed line to keep: " + ", ".join(SECURITY_TYPES)
    )
    countries: list[Annotated[str, AfterValidator(_check_country)]] | None = _about(
        'business-address countries to keep (ISO codes, e.g. ["US"])'
    )
    max_fundamentals_age_months: NonNegative | None = _about(
        "months, latest fiscal year ended at most this long before the as-of date"
    )
    rank_by: Annotated[str, AfterValidator(one_of(RANKABLE, "ranking column"))] | None = _about(
        "column to rank by, largest first: " + ", ".join(RANKABLE)
    )
    rank: (
        Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2, max_length=2), AfterValidator(_check_rank)]
        | None
    ) = _about("[first, last] ranks to keep, 1 = largest")
    notes: list[str] = Field(default_factory=list, description="a list of sentences")

    @model_validator(mode="after")
    def _one_source(self) -> UniverseTable:
        if self.dataset is not None and self.base is not None:
            raise ValueError("a universe cannot have both `dataset` and `base`")
        if (self.dataset is None) == (self.base is None and self.tickers_file is None):
            raise ValueError("a universe needs exactly one of `dataset`, `base` or `tickers_file`")
        return self


FILTER_KEYS = (
    "min_price",
    "min_market_cap",
    "max_market_cap",
    "min_adv_usd",
    "manufacturing",
    "exclude_life_sciences",
    "sectors",
    "exchanges",
    "exclude_exchanges",
    "sic_ranges",
    "security_types",
    "countries",
    "max_fundamentals_age_months",
)


@dataclass(frozen=True)
class UniverseDefinition:
    """One named universe: where it starts from and which rules narrow it.

    Attributes
    ----------
    name : str
    description : str
    dataset : str or None
        Dataset to start from (``"snapshot"`` or a refreshed dataset).
    base : str or None
        Another universe to start from.
    tickers_file : str or None
        A CSV/XLSX list of tickers to start from (within ``base``, default ``us-all``).
    filters : dict
        Eligibility filters (keys from ``FILTER_KEYS``).
    rank_by : str or None
        Column to rank by, largest first.
    rank : tuple of int or None
        Inclusive 1-based rank range to keep.
    origin : str
        The file the definition came from.
    notes : tuple of str
        Where the universe deviates from the rules it follows (printed by ``rotation universes``).
    """

    name: str
    description: str
    dataset: str | None = None
    base: str | None = None
    tickers_file: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    rank_by: str | None = None
    rank: tuple[int, int] | None = None
    origin: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """Every usable universe definition, and why any of the user's could not be used.

    Attributes
    ----------
    definitions : dict of str to UniverseDefinition
        Shipped, refreshed and the user's valid definitions.
    problems : dict of str to str
        The user's definitions that cannot be used (universe name -> the message).
    file_problem : str or None
        Why the user's definitions file could not be read at all (then none of it is used).
    """

    definitions: dict[str, UniverseDefinition]
    problems: dict[str, str] = field(default_factory=dict)
    file_problem: str | None = None

    @property
    def warnings(self) -> list[str]:
        """One line per problem, for a front end to show (the shipped universes still work)."""
        out = [f"{self.file_problem} The shipped universes are used without it."] if self.file_problem else []
        return out + [
            f"{msg} Universe {name!r} is left out until this is fixed."
            for name, msg in self.problems.items()
        ]


def user_universes_file() -> Path:
    """The user's own universe definitions (may not exist)."""
    return user_data_dir() / "universes.toml"


def parse_definition(name: str, table: Any, origin: str) -> UniverseDefinition:
    """Validate one TOML table and turn it into a :class:`UniverseDefinition`.

    Raises
    ------
    UniverseError
        Naming the file, the table and the key: an unknown setting (with close matches), a
        value of the wrong type or out of range, an unknown sector, a dataset name that is not
        a plain folder name, a ``base`` naming the universe itself.
    """
    checked = validate(UniverseTable, table, UniverseError, origin, table=name)
    if checked.base == name:
        raise UniverseError(
            f"{origin}: [{name}] base: the universe cannot start from itself; name another "
            "universe (`rotation universes` lists them) or use `dataset`."
        )
    base = checked.base
    if checked.tickers_file is not None and base is None:
        base = "us-all"
    rank = tuple(checked.rank) if checked.rank is not None else None
    rank_by = checked.rank_by or ("market_cap" if rank else None)
    return UniverseDefinition(
        name=name,
        description=checked.description,
        dataset=checked.dataset,
        base=base,
        tickers_file=checked.tickers_file,
        filters={k: table[k] for k in FILTER_KEYS if k in table},
        rank_by=rank_by,
        rank=rank,  # type: ignore[arg-type]
        origin=origin,
        notes=tuple(checked.notes),
    )


def read_catalog(include_user: bool = True) -> Catalog:
    """Every known universe: built-in, one per refreshed dataset, and the user's file.

    A user's file that cannot be read, or a definition in it that is invalid (or whose ``base``
    chain does not resolve), does not stop the rest: it is left out and said in
    :attr:`Catalog.warnings`, and asking for that universe by name raises its error.

    Parameters
    ----------
    include_user : bool
        False for the shipped definitions only (what the snapshot's manifest describes).

    Raises
    ------
    UniverseError
        The shipped definitions are invalid (a bug of the installation).
    """
    defs: dict[str, UniverseDefinition] = {}
    for name, table in read_toml(BUILTIN_FILE, UniverseError, "universe definitions").items():
        defs[name] = parse_definition(name, table, str(BUILTIN_FILE))
    if not include_user:
        return Catalog(defs)
    for name in refreshed_dataset_names():
        manifest = read_manifest(name)
        provider = manifest.get("provider", "?")
        defs[name] = UniverseDefinition(
            name=name,
            description=f"Refreshed from {provider} ({manifest.get('as_of', '?')})",
            dataset=name,
            filters={},
            origin=str(user_data_dir()),
        )
    user_file = user_universes_file()
    if not user_file.exists():
        return Catalog(defs)
    try:
        tables = read_toml(user_file, UniverseError, "universe definitions")
    except UniverseError as exc:
        return Catalog(defs, file_problem=str(exc))
    problems: dict[str, str] = {}
    mine: dict[str, UniverseDefinition] = {}
    for name, table in tables.items():
        if name in defs:
            problems[name] = (
                f"{user_file}: [{name}]: a universe called {name!r} already exists; give yours "
                "another name."
            )
            continue
        try:
            mine[name] = parse_definition(name, table, str(user_file))
        except UniverseError as exc:
            problems[name] = str(exc)
    everything = {**defs, **mine}
    for name in mine:
        try:
            resolve_chain(name, everything)
        except UniverseError as exc:
            problems[name] = f"{user_file}: [{name}] base: {exc}"
    defs.update({n: d for n, d in mine.items() if n not in problems})
    return Catalog(defs, problems)


def universe_definitions(include_user: bool = True) -> dict[str, UniverseDefinition]:
    """Every usable universe definition (see :func:`read_catalog`), by name."""
    return read_catalog(include_user).definitions


def catalog_warnings() -> list[str]:
    """Why any of the user's universe definitions is left out, for the front ends to show.

    Returns
    -------
    list of str
        One message per problem naming ``$ROTATION_HOME/universes.toml`` (and the table and
        key); empty when the file is fine or absent.
    """
    return read_catalog().warnings


def resolve_chain(name: str, defs: dict[str, UniverseDefinition]) -> list[UniverseDefinition]:
    """The definitions from the root dataset down to ``name`` (root first)."""
    chain: list[UniverseDefinition] = []
    current: str | None = name
    while current is not None:
        if current not in defs:
            raise UniverseError(_unknown_message(current, defs))
        d = defs[current]
        if d in chain:
            raise UniverseError(f"Universe {name!r} refers to itself through `base`.")
        chain.append(d)
        current = d.base
    chain.reverse()
    return chain


def root_dataset(chain: list[UniverseDefinition]) -> str:
    """The dataset a resolved chain starts from."""
    return chain[0].dataset or SNAPSHOT


def unknown_universe(name: str, defs: dict[str, UniverseDefinition]) -> UniverseError:
    """The error for a universe name that no usable definition has.

    When the user's definitions file defines ``name`` but the definition is invalid, the error
    is that definition's problem; when the file could not be read, the message says so too.
    """
    catalog = read_catalog()
    if name in catalog.problems:
        return UniverseError(catalog.problems[name])
    note = f" Note: {catalog.file_problem}" if catalog.file_problem else ""
    return UniverseError(_unknown_message(name, defs) + note)


def _unknown_message(name: str, defs: dict[str, UniverseDefinition]) -> str:
    return (
        f"Unknown universe {name!r}. Valid names: {', '.join(defs)}. "
        "A path to a .csv/.xlsx list of tickers also works."
    )


# ----------------------------------------------------------------------------- listing
def _chain(name: str) -> list[UniverseDefinition]:
    defs = universe_definitions()
    if not is_table_path(name) and name not in defs:
        raise unknown_universe(name, defs)
    if is_table_path(name):
        custom = UniverseDefinition(
            name=Path(name).name,
            description=f"Tickers listed in {name}",
            base="us-all",
            tickers_file=name,
        )
        return [*resolve_chain("us-all", defs), custom]
    return resolve_chain(name, defs)


def definition_fingerprint(name: str) -> str:
    """A short hash of a universe's definition chain (its rules and its bases')."""
    chain = resolve_chain(name, universe_definitions(include_user=False))
    text = json.dumps(
        [[d.name, d.dataset, d.base, d.filters, d.rank_by, d.rank] for d in chain],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def list_universes() -> list[dict[str, object]]:
    """Every known universe with its as-of date, size and notes, without loading prices.

    Sizes of the shipped universes come from the snapshot's manifest (computed when it was
    built) while their definitions are unchanged; a refreshed dataset's size is its company
    count; a universe defined in the user's own file is loaded to count it (one that cannot be
    loaded, its tickers file or dataset gone, is listed with ``count`` None and ``as_of`` "?";
    asking for it by name gives the reason).

    Returns
    -------
    list of dict
        ``name``, ``as_of``, ``count``, ``description``, ``dataset``, ``provider``, ``notes``.
    """
    manifest = read_manifest("snapshot")
    sizes = manifest.get("as_of_summary", {}).get("universe_sizes", {})
    rows: list[dict[str, object]] = []
    for name, d in universe_definitions().items():
        try:
            count, as_of, provider, dataset = _size(name, d, manifest, sizes)
        except (UniverseError, OSError):  # a user's universe whose file or dataset is gone
            count, as_of, provider, dataset = None, "?", "?", d.dataset or "?"
        rows.append(
            {
                "name": name,
                "as_of": as_of,
                "count": count,
                "description": d.description,
                "dataset": dataset,
                "provider": provider,
                "notes": list(universe_notes(name)),
            }
        )
    return rows


def _size(
    name: str, d: UniverseDefinition, manifest: dict[str, Any], sizes: dict[str, Any]
) -> tuple[int | None, str, str, str]:
    """A universe's ``count``, ``as_of``, ``provider`` and ``dataset`` for the listing."""
    if d.dataset is not None and d.dataset != "snapshot":
        info = read_manifest(d.dataset)
        return (
            int(info.get("counts", {}).get("companies", 0)),
            str(info.get("as_of", "?")),
            str(info.get("provider", "?")),
            d.dataset,
        )
    known = sizes.get(name)
    if (
        known is not None
        and d.origin == str(BUILTIN_FILE)
        and known.get("definition") == definition_fingerprint(name)
    ):
        return int(known["count"]), str(manifest["as_of"]), "snapshot", "snapshot"
    from universes.loader import load_universe

    u = load_universe(name)
    return len(u), u.as_of.date().isoformat(), u.provider, u.dataset


def universe_notes(name: str) -> tuple[str, ...]:
    """The documented deviations of a universe from the rules it follows (its ``notes``, and its
    bases'), for ``rotation universes`` to print."""
    out: list[str] = []
    for d in _chain(name):
        out += [n for n in d.notes if n not in out]
    return tuple(out)

