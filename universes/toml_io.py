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
    """Parse a TOML file; a file that cannot be used raises ``error`` saying which and why.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (``~`` expanded).
    error : type of Exception
        The caller's user-error class.
    what : str
        What the file is, for the message ("screen", "workspace").

    Raises
    ------
    error
        The file is missing or a folder, cannot be read (permissions), is not UTF-8 text, or
        is not valid TOML; the message names the file.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise error(f"{p}: is a folder, not a {what} file. Give the path of the .toml file.")
    if not p.exists():
        raise error(f"{p}: no such {what} file. Check the path.")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise error(f"{p}: cannot read this {what} file ({exc.strerror or exc}). Check its permissions.") from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise error(
            f"{p}: not UTF-8 text (byte {exc.start + 1} is {raw[exc.start]:#04x}). Save the {what} "
            "file as UTF-8."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{p}: not valid TOML ({exc}).") from None
