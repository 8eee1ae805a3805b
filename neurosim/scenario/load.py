"""Reading a scenario: a TOML file or a mapping, overrides, and every key checked.

:func:`load_scenario` reads the source (through the bounded, regular-file-only reader of
:mod:`neurosim.io`), applies ``--set``-style overrides, and validates the structure of every
table, returning a :class:`~neurosim.scenario.Scenario`; the data sources (inline arrays,
dataset plugins, CSV and FANN files) are read by :func:`_load_patterns` when the scenario is
resolved.
"""

from __future__ import annotations

import copy
import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import codegen, training
from ..errors import NeurosimError, ScenarioError, closest
from ..functions import STATISTICS
from ..io import SCENARIO_FILE_LIMIT, FileError, TOMLLimitError, parse_toml, read_text
from .data import _inline
from .measuring import Expectation
from .model import Scenario
from .schema import SCALE_CHOICES, SCHEMA, _MISSING, _Reader, _toml, check_integers

__all__ = ["load_scenario"]


def _source_name(source: Any) -> str:
    """How messages name a scenario source: its path, or ``<mapping>``; refuses anything else."""
    if isinstance(source, Scenario):
        return source.source
    if isinstance(source, Mapping):
        return "<mapping>"
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if not isinstance(name, str):
            raise ScenarioError(repr(source), "", "a scenario path must be text (str or pathlib.Path), not bytes")
        if "\0" in name:
            raise ScenarioError(name.replace("\0", "\\0"), "", "holds a NUL character, which no file name can; "
                                "give the path of a .toml scenario file")
        return name
    raise ScenarioError(f"<{type(source).__name__}>", "", f"{source!r:.60} is not a scenario; give the path of a "
                        ".toml scenario file or a mapping with its tables")


def _merge_overrides(source: Any, overrides: Mapping[str, Any] | None, more: Mapping[str, Any]) -> dict[str, Any]:
    """One ``{dotted.key: value}`` mapping from ``overrides`` and keyword overrides."""
    name = _source_name(source)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ScenarioError(name, "", f"overrides must be a mapping of dotted keys to values, e.g. "
                            f"{{'training.epochs': 100}}, not {overrides!r:.60}")
    for key in overrides or {}:
        if not isinstance(key, str):
            raise ScenarioError(name, "", f"override keys are dotted key paths (strings), not {key!r:.60}")
    merged = dict(overrides or {})

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                flatten(f"{prefix}.{k}", v)
        else:
            merged[prefix] = value

    for key, value in more.items():
        table = key.split(".")[0]
        if key != "seed" and table not in SCHEMA[""]:
            hint = ("; to write results, call result.save(DIR) on what run_scenario returns" if key == "out" else "")
            raise ScenarioError(name, key, f"is not a scenario table, so it cannot be a keyword override; "
                                f"keywords name tables (training={{'epochs': 100}}), dotted keys or seed={hint}")
        flatten("scenario.seed" if key == "seed" else key, value)
    return merged


_KEY_PIECE = re.compile(r"([^.\[\]]+)((?:\[[0-9]+\])*)")


def _key_path(dotted: str, source: str) -> list[str | int]:
    """``"expect[0].below"`` -> ``["expect", 0, "below"]``; ``"expect.0.below"`` keeps
    ``"0"`` a string, taken as an index only where the value there is an array."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        m = _KEY_PIECE.fullmatch(piece)
        if m is None:
            raise ScenarioError(source, dotted, "is not a key path; write table.key, with array[INDEX] or "
                                "array.INDEX for an entry of an array (e.g. expect[0].below)")
        name, indices = m.groups()
        parts.append(name)
        parts.extend(int(i) for i in re.findall(r"[0-9]+", indices))
    return parts


def _set_dotted(data: dict, dotted: str, value: Any, source: str) -> None:
    """Replace the value at a key path (``training.epochs``, ``network.layers[1].size``).

    Missing tables are created; an array must exist to be indexed.
    """
    parts = _key_path(dotted, source)
    node: Any = data
    here = ""                                   # the path walked so far, for messages
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if isinstance(key, str) and not (key.isascii() and key.isdigit()):
                raise ScenarioError(source, dotted, f"{here!r} is an array: index it with a number, "
                                    f"e.g. {here}[0]")
            key = int(key)
            if not 0 <= key < len(node):
                raise ScenarioError(source, dotted, f"{here!r} has {len(node)} entr"
                                    f"{'y' if len(node) == 1 else 'ies'}; index {key} is out of range "
                                    f"(0 to {len(node) - 1})")
            here = f"{here}[{key}]"
        elif isinstance(node, dict):
            if isinstance(key, int):
                raise ScenarioError(source, dotted, f"{here!r} is a table, not an array: name one of its keys")
            if not last and key not in node and isinstance(parts[depth + 1], int):
                raise ScenarioError(source, dotted, f"there is no array {f'{here}.{key}' if here else key!r} "
                                    "to take an entry of; add it to the file first")
            here = f"{here}.{key}" if here else key
            if not last:
                node = node.setdefault(key, {})
                continue
        else:
            raise ScenarioError(source, dotted, f"cannot override inside {here!r}, which is neither a table "
                                "nor an array")
        if last:
            node[key] = value
        else:
            node = node[key]


def load_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario's structure (plugin names are checked by ``resolve``).

    Parameters
    ----------
    source : str, path or mapping
        A TOML file, or an already parsed mapping.
    overrides : mapping, optional
        ``{"training.epochs": 100, "expect[0].below": 0.1, ...}``: key paths replaced
        before validation (an array's entry by index: ``network.layers[1].size``).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        The first problem found, as ``FILE: key.path: problem; fix``.
    """
    name = _source_name(source)
    if overrides is not None:
        overrides = _merge_overrides(source, overrides, {})
    if isinstance(source, Mapping):
        name, base_dir, data = "<mapping>", Path.cwd(), copy.deepcopy(dict(source))
    else:

        path = Path(source)
        # realpath, not Path.resolve(), which raises on a symbolic link loop (read_text reports it)
        name, base_dir = str(path), Path(os.path.realpath(path)).parent
        try:
            data = parse_toml(read_text(path, limit=SCENARIO_FILE_LIMIT, what="a .toml scenario file"))
        except FileError as exc:
            raise ScenarioError(name, "", exc.problem) from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(name, "", f"is not valid TOML: {exc}") from None
        except TOMLLimitError as exc:
            raise ScenarioError(name, "", f"cannot be read: {exc}") from None
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value, name)
    r = _Reader(name)
    check_integers(r, data)
    top = r.keys(data, "", "")
    meta = r.keys(top.get("scenario", {}), "scenario", "scenario")
    plugins = r.get(top, "plugins", "", (list,), [])
    for i, p in enumerate(plugins):
        if not isinstance(p, str):
            raise r.fail(f"plugins[{i}]", f"must be a string (a .py path or a dotted module name), not {p!r}")
    r.keys(top.get("network", {}), "network", "network")
    if "data" not in top:
        raise r.fail("data", "is required: give a [data] table with inputs and targets, a dataset or a file")
    d = r.keys(top["data"], "data", "data")
    tests = [k for k in ("test", "test_fraction", "test_indices") if k in d]
    if len(tests) > 1:
        raise r.fail(f"data.{tests[1]}", f"conflicts with data.{tests[0]}; give one way to make the test set")
    validations = [k for k in ("validation", "validation_fraction") if k in d]
    if len(validations) > 1:
        raise r.fail("data.validation_fraction", "conflicts with data.validation; give one way to make the "
                     "validation set")
    for table, path in ((d, "data"), (d.get("test"), "data.test"), (d.get("validation"), "data.validation")):
        if isinstance(table, Mapping) and "inputs" in table:   # inline patterns: check them now
            _inline(r, table, path)
    if "validation_fraction" in d:
        f = r.get(d, "validation_fraction", "data", (float,))
        if not 0 < f < 1:
            raise r.fail("data.validation_fraction", f"must be between 0 and 1 (the share of the training "
                         f"patterns held out for validation), not {f!r}")
    if "test_fraction" in d:
        f = r.get(d, "test_fraction", "data", (float,))
        if not 0 < f < 1:
            raise r.fail("data.test_fraction", f"must be between 0 and 1 (the share held out), not {f!r}")
    if "test_indices" in d:
        idx = r.get(d, "test_indices", "data", (list,))
        if not idx or not all(isinstance(i, int) and not isinstance(i, bool) for i in idx):
            raise r.fail("data.test_indices", "must be a non-empty array of pattern numbers (0-based)")
    scale = _scale(r, d)

    t = r.keys(top.get("training", {}), "training", "training")
    mode = r.get(t, "mode", "training", (str,), "online", choices=training.MODES)
    if "batch_size" in t and mode != "minibatch":
        raise r.fail("training.batch_size", f"applies to mode = 'minibatch' only; mode {mode!r} updates "
                     f"{'after every pattern' if mode == 'online' else 'once per epoch'}")
    epochs = r.get(t, "epochs", "training", (int,), 1, minimum=0)
    schedules = {}
    for key, what in (("momentum_schedule", "momentum"), ("learning_rate_schedule", "learning rate")):
        schedule = r.get(t, key, "training", (list,), [])
        for i, item in enumerate(schedule):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)
                    and not isinstance(item[0], bool) and item[0] >= 0 and isinstance(item[1], (int, float))
                    and not isinstance(item[1], bool) and math.isfinite(item[1]) and item[1] >= 0):
                raise r.fail(f"training.{key}[{i}]", f"must be [epoch, {what}] with a whole epoch >= 0 and a "
                             f"{what} >= 0, not {item!r}")
        epochs_listed = [int(a) for a, _ in schedule]
        if len(set(epochs_listed)) != len(epochs_listed):
            raise r.fail(f"training.{key}", "lists an epoch twice; give one value per epoch")
        schedules[key] = sorted((int(a), float(b)) for a, b in schedule)
    optimizer, optimizer_options = _optimizer(r, t)
    stop = _stop(r, t)
    seed = r.get(meta, "seed", "scenario", (int,), None, minimum=0)
    sc = Scenario(
        source=name, data=data, base_dir=base_dir,
        name=r.get(meta, "name", "scenario", (str,), Path(name).stem),
        description=r.get(meta, "description", "scenario", (str,), ""),
        seed=seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63),
        plugins=plugins,
        loss=r.get(t, "loss", "training", (str,), "mse"),
        learning_rate=optimizer_options.get("learning_rate"),
        mode=mode, epochs=epochs,
        momentum=optimizer_options.get("momentum", 0.0 if optimizer == "sgd" else None),
        momentum_schedule=schedules["momentum_schedule"],
        learning_rate_schedule=schedules["learning_rate_schedule"],
        batch_size=r.get(t, "batch_size", "training", (int,), None if mode != "minibatch" else _MISSING,
                         minimum=1),
        weight_decay=optimizer_options.get("weight_decay", 0.0 if optimizer == "sgd" else None),
        stop_spec=stop, ensemble=r.get(t, "ensemble", "training", (int,), None, minimum=1), expectations=[],
        shuffle=r.get(t, "shuffle", "training", (bool,), False), scale=scale,
        backend=r.get(t, "backend", "training", (str,), "numpy", choices=codegen.BACKENDS),
        history=r.get(t, "history", "training", (str,), training.default_history(mode), choices=training.HISTORIES),
        optimizer=optimizer, optimizer_options=optimizer_options,
    )
    for key in SGD_KEYS:                        # what SGD takes (weight_decay < 1)
        if key in t:
            try:
                setattr(training.SGD(0.0), key, getattr(sc, key))
            except NeurosimError as exc:
                raise r.fail(f"training.{key}", str(exc).removeprefix(f"{key} ")) from None
    if sc.shuffle and mode == "batch":
        raise r.fail("training.shuffle", "applies to mode = 'online' or 'minibatch'; batch mode sums the "
                     "gradient over all patterns, so their order does not matter")
    for i, e in enumerate(r.get(top, "expect", "", (list,), [])):
        sc.expectations.append(_expectation(r, e, i, epochs))
    for e in sc.expectations:
        if sc.ensemble is not None and e.after is not None:
            raise r.fail(f"expect[{e.index}].after", "an ensemble is measured at the end of its run; remove "
                         "'after'")
        if sc.ensemble is None and e.stat is not None:
            raise r.fail(f"expect[{e.index}].stat", "summarises the members of an ensemble; set "
                         "training.ensemble, or remove stat")
    return sc


#: The keys of ``[training]`` that are the sgd optimiser's options (kept there for the
#: classic scenarios, which all use it).
SGD_KEYS = ("learning_rate", "momentum", "weight_decay")


def _optimizer(r: _Reader, t: Mapping) -> tuple[str, dict]:
    """``training.optimizer``: the rule's name and its options (checked by the rule itself
    when the scenario is resolved, since a plugin may define it)."""
    spec = t.get("optimizer", "sgd")
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, Mapping):
        options = dict(spec)
        if "name" not in options:
            raise r.fail("training.optimizer.name", "is required: the optimiser's name (sgd, rprop, quickprop, "
                         "adam, or a plugin's)")
        name = r.get(options, "name", "training.optimizer", (str,))
        del options["name"]
        for key, value in options.items():
            if isinstance(value, (Mapping, list)):
                raise r.fail(f"training.optimizer.{key}", f"must be a number, a string or true/false, not "
                             f"{'a table' if isinstance(value, Mapping) else 'an array'}")
    else:
        raise r.fail("training.optimizer", f"must be an optimiser's name or a table with name and options, not "
                     f"{spec!r:.60}")
    if name == "sgd":
        for key in SGD_KEYS:
            if key in t and key in options:
                raise r.fail(f"training.optimizer.{key}", f"is also given as training.{key}; give it once")
        if "learning_rate" not in options:
            options["learning_rate"] = r.get(t, "learning_rate", "training", (float,), 0.1)
        for key in SGD_KEYS[1:]:
            if key in t:
                options[key] = r.get(t, key, "training", (float,))
    else:
        for key in SGD_KEYS:
            if key in t:
                raise r.fail(f"training.{key}", f"is an option of the sgd optimiser; training.optimizer is "
                             f"{name!r}, whose options go in its table: [training.optimizer] name = {name!r} "
                             "with the option names of docs/training.md")
    return name, options


def _stop(r: _Reader, t: Mapping) -> dict | None:
    """``[training.stop]``: criterion name -> its options (a number, true, or a table); the
    criteria are made, and their names and options checked, when the scenario is resolved."""
    if "stop" not in t:
        return None
    st = t["stop"]
    if not isinstance(st, Mapping):
        raise r.fail("training.stop", f"must be a table of stop criteria (error_below = 0.01, within = 0.4, ...), "
                     f"not {st!r:.60}")
    if not st:
        raise r.fail("training.stop", "is empty; give a criterion such as error_below = 0.01 or within = 0.4")
    for key, value in st.items():
        if isinstance(value, list):
            raise r.fail(f"training.stop.{key}", "must be a number, true/false, or a table of the criterion's "
                         "options, not an array")
    return dict(st)
def _scale(r: _Reader, d: Mapping) -> dict[str, str | None] | None:
    """``data.scale`` as ``{"inputs": method, "targets": method}`` (None for a side left as
    it is), or None when nothing is scaled. A string scales both sides; a table names them."""
    test = d.get("test")
    if isinstance(test, Mapping) and "scale" in test:
        raise r.fail("data.test.scale", "the test set is scaled with the training set's statistics, so it takes no "
                     "scale of its own; set data.scale (it applies to both sets)")
    if "scale" not in d:
        return None
    value = d["scale"]
    if isinstance(value, Mapping):
        table = r.keys(value, "data.scale", "data.scale")
        if not table:
            raise r.fail("data.scale", "is an empty table; give inputs and/or targets, e.g. "
                         "scale = { inputs = \"standard\" }")
        methods = {side: r.get(table, side, "data.scale", (str,), "none", choices=SCALE_CHOICES)
                   for side in ("inputs", "targets")}
    else:
        if not isinstance(value, str):
            raise r.fail("data.scale", f"must be a string (standard, minmax or none) or a table such as "
                         f"{{ inputs = \"standard\", targets = \"minmax\" }}, not {_toml(value)}")
        method = r.get(d, "scale", "data", (str,), choices=SCALE_CHOICES)
        methods = {"inputs": method, "targets": method}
    methods = {side: None if method == "none" else method for side, method in methods.items()}
    return methods if any(methods.values()) else None


def _expectation(r: _Reader, table: Any, i: int, epochs: int) -> Expectation:
    path = f"expect[{i}]"
    if not isinstance(table, Mapping):
        raise r.fail(path, f"must be a table, not {type(table).__name__}")
    e = dict(table)
    base = {k: e.pop(k) for k in list(e) if k in SCHEMA["expect"]}
    if "quantity" not in base:
        typo = closest("quantity", [str(k) for k in e])
        if typo is not None:
            raise r.fail(f"{path}.{typo}", "unknown key; did you mean 'quantity'? (the measure to take)")
    q = r.get(base, "quantity", path, (str,))
    ex = Expectation(
        index=i, quantity=q,
        after=r.get(base, "after", path, (int,), None, minimum=0),
        value=r.get(base, "value", path, (float,), None),
        tolerance=r.get(base, "tolerance", path, (float,), 0.0, minimum=0.0),
        below=r.get(base, "below", path, (float,), None),
        above=r.get(base, "above", path, (float,), None),
        options=e,
        stat=r.get(base, "stat", path, (str,), None, choices=tuple(STATISTICS)),
    )
    if ex.after is not None and ex.after > epochs:
        raise r.fail(f"{path}.after", f"is {ex.after} but training.epochs is {epochs}; measure at most after "
                     "the last epoch")
    if ex.below is not None and ex.above is not None and ex.below <= ex.above:
        raise r.fail(path, f"no value is below {ex.below:g} and above {ex.above:g}; the bounds are strict "
                     "(actual < below, actual > above): give below > above")
    if ex.value is None and ex.below is None and ex.above is None and not ex.options:
        # (with other keys, a misspelt bound is reported by resolve, which knows the options)
        raise r.fail(path, "gives no bound; add value (with tolerance), below or above")
    return ex
