"""Typed validation of the settings files a user writes: one schema per file kind, one message.

Every TOML file a user gives the tool (a screen, universe definitions, a workspace, themes) is
checked against a :class:`Schema`, a strict pydantic v2 model: a string is not a number or a
boolean, a scalar is not a table or a list, NaN and infinities are refused, ranges are checked,
and a key the schema does not name is an error. :func:`validate` turns every problem into one
line that says where it is, what was found and what was expected::

    my.toml: [filters] sectors: found 5; expected a list in brackets, [ ... ] (sectors to keep).
    my.toml: [filters] sectors, item 1: unknown sector 'Tech'. Did you mean 'Technology'? ...
    my.toml: [weights] unknown factor 'altman'. Did you mean 'altman_z'? Valid factors: ...
    my.toml: the [weights] table is missing; a screen needs one, ...

(several problems are listed one per line after ``my.toml: N problems:``), and raises it as the
caller's :class:`universes.errors.UserError` subclass (a screen's ``ScreenError``, a universe's
``UniverseError``, ...), which the front ends show as it is.

A schema names the kind of its keys in ``noun`` ("filter", "factor"), describes each field with
``Field(description=...)`` (shown after what was expected), and checks a text that must be one
of a few names with ``AfterValidator(one_of(names, noun))`` (the error offers close matches).
Give every field its default as ``Field(default=...)`` (type checkers read it so).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from universes.errors import UserError

#: At most this many problems are listed in one message.
MAX_PROBLEMS = 8


class Schema(BaseModel):
    """Base of every settings schema: strict types, no unknown keys, finite numbers.

    Attributes
    ----------
    noun : str
        What the keys of this table are called in messages ("filter", "factor", "setting").
    """

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)
    noun: ClassVar[str] = "setting"


#: A number that is 0 or more.
NonNegative = Annotated[float, Field(ge=0)]


def close_names(name: str, valid: Iterable[str]) -> list[str]:
    """The valid names that look like ``name`` (case-insensitive), best first."""
    lower = {v.lower(): v for v in valid}
    wanted = name.lower().strip()
    hits = difflib.get_close_matches(wanted, list(lower), n=3, cutoff=0.6)
    if len(wanted) >= 3:
        hits += [v for v in lower if wanted in v and v not in hits]
    return [lower[h] for h in hits[:3]]


def unknown_name_message(noun: str, name: object, valid: Iterable[str]) -> str:
    """The one wording for a name nobody defined: close matches, then every valid name."""
    valid = list(valid)
    near = close_names(str(name), valid)
    hint = f" Did you mean {_either(near)}?" if near else ""
    return f"unknown {noun} {_shown(name)}.{hint} Valid {_plural(noun)}: {', '.join(valid)}."


def one_of(valid: Iterable[str], noun: str) -> Callable[[str], str]:
    """A check that a text is one of ``valid``; an unknown one is refused with close matches.

    Use it as ``Annotated[str, AfterValidator(one_of(SECTORS, "sector"))]``.

    Parameters
    ----------
    valid : iterable of str
        The accepted names.
    noun : str
        What a name is called in messages ("sector", "red flag").
    """
    names = tuple(valid)

    def check(value: str) -> str:
        if value not in names:
            raise ValueError(unknown_name_message(noun, value, names))
        return value

    return check


E = TypeVar("E", bound=UserError)
M = TypeVar("M", bound=BaseModel)


def validate(
    schema: type[M],
    data: Any,
    error: type[E],
    file: str | Path | None = None,
    table: str = "",
) -> M:
    """Check parsed TOML against ``schema``; any problem raises ``error`` saying where and why.

    Parameters
    ----------
    schema : type of pydantic.BaseModel
        Usually a :class:`Schema` subclass.
    data : object
        What ``tomllib`` read (a table is a dict).
    error : type of UserError
        The exception to raise (the caller package's own user-error class).
    file : str or pathlib.Path, optional
        The file the data came from, named first in the message.
    table : str
        Where ``data`` sits in the file (``"screen"`` for a workspace's ``[screen]``), so that
        keys are named as the user sees them (``[screen.filters] sectors``).

    Returns
    -------
    The validated model.

    Raises
    ------
    error
        ``FILE: PLACE: found VALUE; expected WHAT (DESCRIPTION).``, one line per problem.
    """
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise error(describe(exc, schema, file, table)) from None


def describe(
    exc: ValidationError, schema: type[BaseModel], file: str | Path | None = None, table: str = ""
) -> str:
    """The message for a pydantic ``ValidationError``: file, then one line per problem."""
    prefix = tuple(p for p in table.split(".") if p)
    lines = list(dict.fromkeys(_problem(e, schema, prefix) for e in exc.errors(include_url=False)))
    if len(lines) > MAX_PROBLEMS:
        lines = [*lines[:MAX_PROBLEMS], f"... and {len(lines) - MAX_PROBLEMS} more."]
    head = f"{file}: " if file is not None else ""
    if len(lines) == 1:
        return head + lines[0]
    return head + f"{len(lines)} problems:\n" + "\n".join(f"  {line}" for line in lines)


def place(parts: tuple[str | int, ...]) -> str:
    """A TOML location as the user sees it: ``[table.sub] key, item 2``."""
    names = [p for p in parts if isinstance(p, str)]
    if not names:
        return "the file"
    last = max(i for i, p in enumerate(parts) if isinstance(p, str))
    key = str(parts[last]) + "".join(f", item {p + 1}" for p in parts[last + 1 :] if isinstance(p, int))
    tables = [str(p) for p in parts[:last] if isinstance(p, str)]
    return f"[{'.'.join(tables)}] {key}" if tables else key


# ----------------------------------------------------------------------------- internals
def _problem(err: Any, schema: type[BaseModel], prefix: tuple[str, ...]) -> str:
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or not _is_internal(p))
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    where = place(prefix + loc)
    if kind == "extra_forbidden":
        owner = _model_at(schema, loc[:-1])
        noun = owner.noun if owner is not None and issubclass(owner, Schema) else "setting"
        valid = list(owner.model_fields) if owner is not None else []
        tables = [str(p) for p in prefix + loc[:-1] if isinstance(p, str)]
        table = f"[{'.'.join(tables)}] " if tables else ""
        return table + unknown_name_message(noun, loc[-1], valid)
    if kind == "missing":
        about = _description(schema, loc) or "it is required"
        if _model_at(schema, loc) is not None:
            return f"the [{'.'.join(str(p) for p in prefix + loc)}] table is missing; {about}."
        return f"{where}: missing; {about}."
    if kind in ("value_error", "assertion_error"):
        reason = str(ctx.get("error", err["msg"]))
        return f"{where}: {reason.rstrip('.')}."
    expected = _expected(kind, ctx, err["msg"])
    about = _description(schema, loc)
    detail = f" ({about})" if about and about not in expected else ""
    return f"{where}: found {_shown(value)}; expected {expected}{detail}."


def _is_internal(part: str) -> bool:
    """Parts pydantic adds to a location that are no key of the file (``function-after[...]``)."""
    return "[" in part


_EXPECTED: dict[str, str] = {
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "finite_number": "a finite number (not nan or inf)",
    "string_type": "text in quotes",
    "list_type": "a list in brackets, [ ... ]",
    "tuple_type": "a list in brackets, [ ... ]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "date_type": "a date (YYYY-MM-DD)",
}


def _expected(kind: str, ctx: dict[str, Any], msg: str) -> str:
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "greater_than_equal":
        return f"a number of at least {_number(ctx['ge'])}"
    if kind == "greater_than":
        return f"a number above {_number(ctx['gt'])}"
    if kind == "less_than_equal":
        return f"a number of at most {_number(ctx['le'])}"
    if kind == "less_than":
        return f"a number below {_number(ctx['lt'])}"
    if kind in ("too_short", "too_long"):
        low, high = ctx.get("min_length"), ctx.get("max_length")
        if low is not None and low == high:
            return f"a list of {low} items"
        return f"a list of at least {low} items" if kind == "too_short" else f"a list of at most {high} items"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return f"text matching {ctx.get('pattern', '')}"
    return msg[0].lower() + msg[1:] if msg else "something else"


def _model_at(schema: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that holds the table at ``loc`` (None when it is no model)."""
    current: type[BaseModel] = schema
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return None
        inner = _model_in(info.annotation)
        if inner is None:
            return None
        current = inner
    return current


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _description(schema: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return ""
    owner = _model_at(schema, tuple(p for p in loc if isinstance(p, str))[:-1])
    if owner is None:
        return ""
    info = owner.model_fields.get(names[-1])
    return (info.description or "") if info is not None else ""


def _shown(value: Any) -> str:
    """A value as the file spells it (TOML, not Python), shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        text = "[" + ", ".join(_shown(v) for v in value) + "]"
        return text if len(text) <= 60 else text[:56] + " ...]"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value) if not hasattr(value, "isoformat") else value.isoformat()


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _either(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _plural(noun: str) -> str:
    return noun if noun.endswith("s") else noun + "s"

