"""TOML in and out for every settings file of the project (screens, constraints, workspaces).

``tomllib`` reads TOML but nothing in the standard library writes it; the few value kinds our
files hold (booleans, numbers, strings, lists, nested tables) are written here, once.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def toml_value(value: Any) -> str:
    """A TOML literal for a boolean, number, string or list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def toml_key(key: str) -> str:
    """A bare key where TOML allows one, else a quoted key (``"Consumer Cyclical"``)."""
    return key if key and key.replace("-", "").replace("_", "").isalnum() else toml_value(key)


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Nested dicts as TOML: scalars first, then one ``[table]`` per nested dict."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            name = f"{prefix}.{toml_key(k)}" if prefix else toml_key(k)
            lines += ["", f"[{name}]", dump_toml(v, name).rstrip("\n")]
    return "\n".join(lines) + "\n"


def read_toml(path: str | Path, error: type[Exception], what: str) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file raises ``error`` saying which and why."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise error(f"{p}: no such {what} file. Check the path.")
    try:
        return tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{p}: not valid TOML ({exc}).") from exc
