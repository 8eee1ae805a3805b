"""A fuzz suite: mutated copies of every shipped scenario through ``neurosim check`` and ``neurosim run``.

Each case takes one shipped scenario, changes one thing anywhere in it — deletes a key,
misspells it, or puts an odd value in its place (another type, zero, a negative number,
NaN or infinity, an integer too large for a float or for TOML's 64 bits, a count of a
billion, an array nested thousands deep) — writes it as a TOML file and runs both
commands in this process, as a user would. Every case must end in an exit status
(0 passed, 1 an expectation failed or training diverged, 2 the file was refused) within
a time limit: no traceback, no leaked warning, no hang, no ``MemoryError``. A refusal
names the file; ``check`` refuses everything ``run`` refuses before training starts; and
a ``summary.json`` that ``run --out`` writes is strict JSON (no NaN or Infinity).

The cases are drawn from a fixed seed, so a failure is reproduced by its test id, which
spells the mutation (``family_trees-training.ensemble=1000000000``). Training is capped at
a few epochs, except where the mutation is the number of epochs itself.
"""

from __future__ import annotations

import copy
import json
import math
import random
import shutil
import tomllib
from pathlib import Path

import pytest

from neurosim.cli import main
from neurosim.sweep import is_sweep

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [p for p in sorted((ROOT / "scenarios").glob("*.toml")) if not is_sweep(tomllib.loads(p.read_text()))]
PARSED = {p.stem: tomllib.loads(p.read_text()) for p in SCENARIOS}

#: Values put in place of whatever was there.
ODD = ["x", "", -1, 0, 1, 3, 2.5, -0.5, 1e300, -1e300, math.nan, math.inf, -math.inf, True, False, [], [1, "a"],
       [[1, 2], [3]], {}, {"q": 1}, 10**400, -10**30, 2**63, 10**9, 10**10, "sigmod", "../nowhere.csv",
       [10**400], {"name": "uniform", "options": {"scale": 10**400}}]
CASES_PER_RUN = 240
EPOCH_CAP = 3
TIME_LIMIT = 60          # seconds ``check`` may take: it never trains, so longer is a hang
RUN_LIMIT = 20           # seconds ``run`` may take before it is interrupted (Ctrl-C)


def _paths(node, prefix=()):
    """Every (container path, key) of a parsed TOML tree."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix, key
        yield from _paths(value, prefix + (key,))


def _spell(path, key) -> str:
    text = ""
    for step in (*path, key):
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} chars)"


def _cap(tree, touched: str) -> None:
    """At most EPOCH_CAP epochs (and checkpoints), unless the mutation is about them."""
    training = tree.get("training")
    if "epochs" not in touched and isinstance(training, dict) and isinstance(training.get("epochs"), int) \
            and not isinstance(training.get("epochs"), bool) and training["epochs"] > EPOCH_CAP:
        training["epochs"] = EPOCH_CAP
    for e in tree.get("expect", []) if isinstance(tree.get("expect"), list) else []:
        if isinstance(e, dict) and "after" not in touched and isinstance(e.get("after"), int) \
                and not isinstance(e.get("after"), bool) and e["after"] > EPOCH_CAP:
            e["after"] = EPOCH_CAP


class Deep:
    """An array nested ``depth`` deep (``[[[1]]]``), written out as TOML text directly."""

    def __init__(self, depth: int):
        self.depth = depth

    def toml(self) -> str:
        return "[" * self.depth + "1" + "]" * self.depth


def _cases(n: int, seed: int = 20261201) -> list:
    rng = random.Random(seed)
    cases = []
    names = sorted(PARSED)
    while len(cases) < n:
        name = rng.choice(names)
        tree = copy.deepcopy(PARSED[name])
        where, key = rng.choice(list(_paths(tree)))
        container = tree
        for step in where:
            container = container[step]
        kind = rng.choice(["delete", "typo", "value", "value", "value", "scale"])
        spelt = _spell(where, key)
        if kind == "delete":
            container.pop(key) if isinstance(container, list) else container.pop(key)
            label = f"{spelt}:deleted"
        elif kind == "typo" and isinstance(container, dict):
            container[f"{key}_"] = container.pop(key)
            label = f"{spelt}:typo"
        elif kind == "scale" and isinstance(container[key], int) and not isinstance(container[key], bool):
            container[key] = container[key] * 10 ** rng.choice([3, 6, 9, 12])
            label = f"{spelt}={container[key]}"
        else:
            value = rng.choice(ODD + ["nested"])
            container[key] = Deep(3000) if value == "nested" else copy.deepcopy(value)
            label = f"{spelt}={'[[...3000 deep]]' if value == 'nested' else _short(value)}"
        _cap(tree, spelt)
        cases.append(pytest.param(name, tree, id=f"{name}-{label}"))
    return cases


# --- writing TOML (the standard library only reads it) ------------------------------------


def _key(key: str) -> str:
    bare = key and all(c.isalnum() or c in "-_" for c in key) and key.isascii()
    return key if bare else json.dumps(key)


def _value(value) -> str:
    if isinstance(value, Deep):
        return value.toml()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def to_toml(tree: dict) -> str:
    """``tree`` as a TOML document, every table inline (enough for any parsed scenario)."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in tree.items())


def test_to_toml_round_trips_every_shipped_scenario():
    for name, tree in PARSED.items():
        assert tomllib.loads(to_toml(tree)) == tree, name


# --- the cases ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder like scenarios/, with its data files, for the mutated copies."""
    top = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(ROOT / "scenarios" / "data", top / "data")
    return top


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"summary.json holds {constant}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("name, tree", _cases(CASES_PER_RUN))
def test_mutated_scenario_is_run_or_refused_cleanly(name, tree, folder, capsys, time_limit):
    path = folder / f"{name}.toml"
    path.write_text(to_toml(tree))
    out = folder / f"{name}-out"
    shutil.rmtree(out, ignore_errors=True)
    with time_limit(TIME_LIMIT, TimeoutError(f"check took more than {TIME_LIMIT} s: a hang")):
        checked = main(["check", str(path)])
    check_err = capsys.readouterr().err
    # A valid scenario may ask for a long run (a million epochs): it is interrupted as by
    # Ctrl-C, and must then stop cleanly with status 130.
    with time_limit(RUN_LIMIT, KeyboardInterrupt() if checked == 0 else TimeoutError("run took too long")):
        ran = main(["run", "-q", str(path), "--out", str(out)])
    run_err = capsys.readouterr().err
    assert checked in (0, 2)
    assert ran in ((0, 1, 130) if checked == 0 else (2,)), \
        f"check said {'ok' if checked == 0 else 'invalid'}, run exited {ran}: {run_err}"
    for status, err in ((checked, check_err), (ran, run_err)):
        assert "Traceback" not in err
        if status == 2:
            assert err.startswith(f"error: {path}"), f"the refusal does not name the file: {err!r}"
    if checked != 0:
        assert not out.exists(), "--out was created for a refused scenario"
    if ran in (0, 1) and (out / "summary.json").exists():
        _strict_json((out / "summary.json").read_text())
