"""The scenario language's vocabulary and its typed reader.

:data:`SCHEMA` lists every key each table may hold (so a typo is caught and the closest
valid key suggested); :class:`_Reader` reads a value of the expected type from a parsed
table and turns every mistake into a :class:`~neurosim.ScenarioError` that names the file
and the key path; :func:`check_integers` refuses integers TOML itself could not hold.
Nothing here knows what a network or a run is.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ScenarioError, did_you_mean
from ..plugins import Registry
from ..scaling import METHODS

__all__ = ["SCHEMA", "BIAS_POLICIES", "NEURON_KINDS", "FILE_FORMATS", "SCALE_CHOICES", "INT64", "check_integers"]

_MISSING = object()

_SOURCE_KEYS = {"inputs", "targets", "dataset", "options", "file", "format", "input_columns", "target_columns",
                "class_column", "keep_classes", "positive_class", "delimiter", "header"}

#: Every key the language knows, by table; used to catch typos. ``expect`` tables also
#: take the options of their measure, ``[training.optimizer]`` those of its rule and
#: ``[training.stop]`` the names of stop criteria, each checked against the plugin itself.
SCHEMA: dict[str, set[str]] = {
    "": {"scenario", "network", "data", "training", "expect", "plugins"},
    "scenario": {"name", "description", "seed"},
    "network": {"activation", "bias", "init", "dtype", "layers", "neurons", "connections", "tied", "recurrent"},
    "network.init": {"name", "options"},
    "network.layers": {"name", "size", "activation", "from", "output", "from_previous"},
    "network.neurons": {"name", "kind", "activation", "output", "group"},
    "network.connections.*": {"weight", "trainable", "label"},
    "network.tied": {"edges", "reduce", "name"},
    "network.recurrent": {"steps", "inputs", "outputs", "reduce", "connections"},
    "network.recurrent.connections.*": {"weight", "trainable", "delay"},
    "data": _SOURCE_KEYS | {"test", "test_fraction", "test_indices", "validation", "validation_fraction", "scale"},
    "data.test": set(_SOURCE_KEYS),
    "data.validation": set(_SOURCE_KEYS),
    "data.scale": {"inputs", "targets"},
    "training": {"loss", "optimizer", "learning_rate", "learning_rate_schedule", "mode", "epochs", "momentum",
                 "momentum_schedule", "batch_size", "shuffle",
                 "weight_decay", "stop", "ensemble", "backend", "history"},
    "expect": {"quantity", "after", "value", "tolerance", "below", "above", "stat"},
}
BIAS_POLICIES = ("shared", "none", "explicit")
NEURON_KINDS = ("input", "bias", "neuron")
FILE_FORMATS = ("csv", "fann")
#: What ``data.scale`` (or each of its ``inputs`` and ``targets``) may say: a method of
#: :mod:`neurosim.scaling`, or ``"none"``.
SCALE_CHOICES = METHODS + ("none",)


def _toml(value: Any) -> str:
    """A value as a TOML file spells it (``true``, not ``True``), for messages; shortened to
    about 60 characters (an array of a thousand patterns is not repeated back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list) and len(value) > 8:
        return f"an array of {len(value)} entries"
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_SHORT = reprlib.Repr()         # keyword arguments only from Python 3.12
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother = 3, 8, 40, 40


class _Reader:
    """Typed, path-aware access to a parsed scenario, raising :class:`ScenarioError`."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, key, problem)

    def keys(self, table: Any, schema: str, path: str, extra: Iterable[str] = ()) -> dict:
        if not isinstance(table, Mapping):
            raise self.fail(path, f"must be a table, not {type(table).__name__}")
        allowed = SCHEMA[schema] | set(extra)
        for key in table:
            if key not in allowed:
                raise self.fail(f"{path}.{key}" if path else key,
                                f"unknown key; {did_you_mean(key, allowed, 'valid keys here')}")
        return dict(table)

    def get(self, table: Mapping, key: str, path: str, kinds: tuple, default: Any = _MISSING,
            choices: tuple | None = None, minimum: float | None = None) -> Any:
        where = f"{path}.{key}" if path else key
        if key not in table:
            if default is _MISSING:
                raise self.fail(where, "is required")
            return default
        value = table[key]
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join({str: "a string", int: "an integer", float: "a number", bool: "true or false",
                                 list: "an array", dict: "a table"}[k] for k in kinds)
            raise self.fail(where, f"must be {names}, not {_toml(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(where, f"must be finite, not {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(where, f"{value!r} is not allowed; {did_you_mean(str(value), choices, 'choose from')}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be >= {minimum}, not {value!r}")
        return value


#: TOML integers are 64-bit signed (the TOML 1.0 spec); Python's parser reads any size.
INT64 = 2**63


def check_integers(r: _Reader, data: Mapping) -> None:
    """Refuse an integer anywhere in the scenario that does not fit TOML's 64 bits.

    A larger integer is never what the user meant: it overflows every float and numpy
    integer it would be turned into (``learning_rate = 1`` and 400 zeros,
    ``test_indices = [-10**30]``). The tree is walked with a stack, so nesting of any
    depth is safe.
    """
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(node))
        elif isinstance(node, int) and not isinstance(node, bool) and not -INT64 <= node < INT64:
            digits = int(abs(node).bit_length() * math.log10(2)) + 1       # str() refuses 4,300 digits
            raise r.fail(path, f"{'a negative' if node < 0 else 'an'} integer of about {digits} digits does not "
                         "fit in 64 bits (TOML integers lie between -2^63 and 2^63 - 1); give a smaller number")


def _accepts(registry: Registry, measure: str, option: str) -> bool:
    accepted = registry.options("measure", measure)
    return accepted is None or option in accepted[0]


def _options_of(registry: Registry, measure: str) -> list[str]:
    accepted = registry.options("measure", measure)
    return [] if accepted is None else accepted[0]
