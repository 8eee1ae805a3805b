"""Writing TOML: scenario data back to text that ``tomllib`` reads to the same values.

Python reads TOML with the standard library's :mod:`tomllib` but has no writer, and a
sweep writes every point as a complete scenario file (``DIR/points/0007.toml``). The
values a scenario holds are few — strings, integers, floats (NaN and infinities
included), booleans, arrays, tables and arrays of tables — so :func:`dumps` writes those
and refuses anything else by its key, rather than adding a dependency to the core. Its
promise, which the tests check on every shipped scenario and on generated data, is the
round trip: ``tomllib.loads(dumps(data)) == data``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def dumps(data: Mapping[str, Any]) -> str:
    """Write ``data`` as a TOML document.

    Plain values of a table come first, then its sub-tables as ``[a.b]`` headers and its
    lists of tables as ``[[a.b]]`` (so scenarios keep their familiar shape); tables
    inside arrays, and arrays that mix tables with other values, are written inline.

    Parameters
    ----------
    data : mapping
        String keys; values of the types above, nested.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        A value TOML cannot hold as written here (None, a date, an object), naming its key.

    Examples
    --------
    >>> print(dumps({"scenario": {"name": "xor"}, "network": {"layers": [{"name": "i", "size": 2}]}}))
    [scenario]
    name = "xor"
    <BLANKLINE>
    [[network.layers]]
    name = "i"
    size = 2
    <BLANKLINE>
    """
    lines: list[str] = []
    _table(data, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(table: Mapping, path: tuple, lines: list[str]) -> None:
    """Append ``table``'s plain values, then its tables and arrays of tables."""
    for key, value in table.items():
        if not (isinstance(value, Mapping) or _is_tables(value)):
            lines.append(f"{_key(key)} = {_value(value, (*path, key))}")
    for key, value in table.items():
        where = (*path, key)
        if isinstance(value, Mapping):
            plain = any(not (isinstance(v, Mapping) or _is_tables(v)) for v in value.values())
            if plain or not value:            # a header of its own: it holds values (or nothing)
                lines += ["", f"[{_dotted(where)}]"]
            _table(value, where, lines)
        elif _is_tables(value):
            for item in value:
                lines += ["", f"[[{_dotted(where)}]]"]
                _table(item, where, lines)


def _dotted(path: tuple) -> str:
    return ".".join(_key(k) for k in path)


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"a TOML key must be a string, not {key!r:.60}")
    return key if _BARE.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's basic-string escapes; TOML also wants DEL escaped
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any, where: tuple) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(float(value))              # the shortest text that reads back to the same float
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v, (*where, k))}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, (*where, i)) for i, v in enumerate(value)) + "]"
    shown = ".".join(str(k) for k in where)
    raise TypeError(f"{shown}: TOML has no value for {type(value).__name__} {value!r:.60}")
