"""Named universe definitions: the shipped ``universes.toml``, the user's own, and refreshed data."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from universes.errors import UniverseError
from universes.paths import (
    SNAPSHOT,
    is_table_path,
    read_manifest,
    refreshed_dataset_names,
    user_data_dir,
)

BUILTIN_FILE = Path(__file__).resolve().parent / "universes.toml"
DEFAULT_UNIVERSE = "us-small-manufacturing"

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
SOURCE_KEYS = ("dataset", "base", "tickers_file")
VALID_KEYS = ("description", *SOURCE_KEYS, *FILTER_KEYS, "rank_by", "rank", "notes")
RANKABLE = ("market_cap", "adv_usd", "price")


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


def user_universes_file() -> Path:
    """The user's own universe definitions (may not exist)."""
    return user_data_dir() / "universes.toml"


def parse_definition(name: str, table: dict[str, Any], origin: str) -> UniverseDefinition:
    """Validate one TOML table and turn it into a :class:`UniverseDefinition`."""
    unknown = [k for k in table if k not in VALID_KEYS]
    if unknown:
        raise UniverseError(
            f"{origin}: universe {name!r} has unknown setting {unknown[0]!r}. "
            f"Valid settings: {', '.join(VALID_KEYS)}."
        )
    sources = [k for k in SOURCE_KEYS if k in table and k != "base"]
    if len(sources) > 1 or (not sources and "base" not in table):
        raise UniverseError(
            f"{origin}: universe {name!r} needs exactly one of `dataset`, `base` or `tickers_file`."
        )
    if "dataset" in table and "base" in table:
        raise UniverseError(f"{origin}: universe {name!r} cannot have both `dataset` and `base`.")
    rank = table.get("rank")
    if rank is not None:
        if not (
            isinstance(rank, list)
            and len(rank) == 2
            and all(isinstance(r, int) and r >= 1 for r in rank)
            and rank[0] <= rank[1]
        ):
            raise UniverseError(
                f"{origin}: universe {name!r}: `rank` must be [first, last] with 1 <= first <= last."
            )
        rank = (rank[0], rank[1])
    rank_by = table.get("rank_by", "market_cap" if rank else None)
    if rank_by is not None and rank_by not in RANKABLE:
        raise UniverseError(
            f"{origin}: universe {name!r}: cannot rank by {rank_by!r}; use one of {', '.join(RANKABLE)}."
        )
    base = table.get("base")
    if "tickers_file" in table and base is None:
        base = "us-all"
    notes = table.get("notes", [])
    if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        raise UniverseError(f"{origin}: universe {name!r}: `notes` must be a list of strings.")
    return UniverseDefinition(
        name=name,
        description=str(table.get("description", "")),
        dataset=table.get("dataset"),
        base=base,
        tickers_file=table.get("tickers_file"),
        filters={k: table[k] for k in FILTER_KEYS if k in table},
        rank_by=rank_by,
        rank=rank,
        origin=origin,
        notes=tuple(notes),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UniverseError(f"{path}: not valid TOML ({exc}). Fix the file or remove it.") from exc


def universe_definitions(include_user: bool = True) -> dict[str, UniverseDefinition]:
    """Every known universe: built-in, the user's file, and one per refreshed dataset.

    Parameters
    ----------
    include_user : bool
        False for the shipped definitions only (what the snapshot's manifest describes).

    Raises
    ------
    UniverseError
        A definition file is invalid, or a user definition reuses a built-in name.
    """
    defs: dict[str, UniverseDefinition] = {}
    for name, table in _read_toml(BUILTIN_FILE).items():
        defs[name] = parse_definition(name, table, str(BUILTIN_FILE))
    if not include_user:
        return defs
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
    if user_file.is_file():
        for name, table in _read_toml(user_file).items():
            if name in defs:
                raise UniverseError(
                    f"{user_file}: universe {name!r} already exists; give yours another name."
                )
            defs[name] = parse_definition(name, table, str(user_file))
    return defs


def resolve_chain(name: str, defs: dict[str, UniverseDefinition]) -> list[UniverseDefinition]:
    """The definitions from the root dataset down to ``name`` (root first)."""
    chain: list[UniverseDefinition] = []
    current: str | None = name
    while current is not None:
        if current not in defs:
            raise unknown_universe(current, defs)
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
    """The error for a universe name nobody defined."""
    return UniverseError(
        f"Unknown universe {name!r}. Valid names: {', '.join(defs)}. "
        "A path to a .csv/.xlsx list of tickers also works."
    )


# ----------------------------------------------------------------------------- listing
def _chain(name: str) -> list[UniverseDefinition]:
    defs = universe_definitions()
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
    count; a universe defined in the user's own file is loaded to count it.

    Returns
    -------
    list of dict
        ``name``, ``as_of``, ``count``, ``description``, ``dataset``, ``provider``, ``notes``.
    """
    manifest = read_manifest("snapshot")
    sizes = manifest.get("as_of_summary", {}).get("universe_sizes", {})
    rows: list[dict[str, object]] = []
    for name, d in universe_definitions().items():
        dataset = d.dataset or "snapshot"
        if d.dataset is not None and d.dataset != "snapshot":
            info = read_manifest(d.dataset)
            count: int | None = int(info.get("counts", {}).get("companies", 0))
            as_of, provider = str(info.get("as_of", "?")), str(info.get("provider", "?"))
        else:
            known = sizes.get(name)
            fresh = (
                known is not None
                and d.origin == str(BUILTIN_FILE)
                and known.get("definition") == definition_fingerprint(name)
            )
            if fresh:
                count = int(known["count"])
                as_of, provider = str(manifest["as_of"]), "snapshot"
            else:
                from universes.loader import load_universe

                u = load_universe(name)
                count, as_of, provider, dataset = len(u), u.as_of.date().isoformat(), u.provider, u.dataset
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


def universe_notes(name: str) -> tuple[str, ...]:
    """The documented deviations of a universe from the rules it follows (its ``notes``, and its
    bases'), for ``rotation universes`` to print."""
    out: list[str] = []
    for d in _chain(name):
        out += [n for n in d.notes if n not in out]
    return tuple(out)

