"""Random mutations of every shipped scenario either run or are refused with a scenario error.

Hypothesis deletes keys, renames them with a typo, and swaps values for values of other
types or out-of-range numbers, anywhere in a shipped scenario; the run must then succeed,
or raise :class:`neurosim.ScenarioError` naming the file and key (or
:class:`neurosim.NumericalError` when a mutated learning rate makes training diverge) —
never a traceback from numpy, networkx or Python, and never a warning. Training is capped
at a few epochs so each example is quick.
"""

import copy
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim.sweep import is_sweep

SCENARIOS = [p for p in sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))
             if not is_sweep(tomllib.loads(p.read_text()))]
PARSED = {p: tomllib.loads(p.read_text()) for p in SCENARIOS}
ODD_VALUES = ["x", "", -1, 0, 1, 2.5, -0.5, 1e300, float("nan"), True, [], [1, "a"], {}, {"q": 1}]


def _paths(node, prefix=()):
    """Every (container path, key) in a parsed TOML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix, key
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix, i
            yield from _paths(value, prefix + (i,))


def _container(tree, path):
    for step in path:
        tree = tree[step]
    return tree


def _cap_epochs(data):
    training = data.get("training")
    if isinstance(training, dict) and isinstance(training.get("epochs"), int) and training["epochs"] > 3:
        training["epochs"] = 3
    for e in data.get("expect", []) if isinstance(data.get("expect"), list) else []:
        if isinstance(e, dict) and isinstance(e.get("after"), int) and e["after"] > 3:
            e["after"] = 3


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_scenarios_run_or_name_the_problem(data):
    path = data.draw(st.sampled_from(SCENARIOS), label="scenario")
    tree = copy.deepcopy(PARSED[path])
    _cap_epochs(tree)
    where, key = data.draw(st.sampled_from(list(_paths(tree))), label="where")
    container = _container(tree, where)
    kind = data.draw(st.sampled_from(["delete", "typo", "value"]), label="mutation")
    if kind == "delete":
        if isinstance(container, list):
            container.pop(key)
        else:
            del container[key]
    elif kind == "typo" and isinstance(container, dict):
        container[str(key) + data.draw(st.sampled_from(["s", "_", "x"]))] = container.pop(key)
    else:
        container[key] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES), label="value"))
    _cap_epochs(tree)
    # the mapping is run as if from the scenario's folder, so relative data files resolve
    try:
        result = neurosim.run_scenario(tree, registry=None) if "file" not in str(tree.get("data", "")) \
            else _run_in(path.parent, tree)
    except neurosim.ScenarioError as exc:
        assert str(exc).startswith("<mapping>: ") and exc.problem
    except neurosim.NumericalError as exc:
        assert "learning rate" in str(exc)
    else:
        assert isinstance(result, neurosim.ScenarioResult)


def _run_in(folder, tree):
    import os
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return neurosim.run_scenario(tree)
    finally:
        os.chdir(cwd)


def test_every_shipped_scenario_checks_cleanly(capsys):
    from neurosim.cli import main
    assert main(["check", *map(str, SCENARIOS)]) == 0
    assert capsys.readouterr().out.count(": ok") == len(SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_results_are_written_whole(path, tmp_path):
    import json
    result = neurosim.run_scenario(path, {"training.epochs": 2} if PARSED[path].get("training", {}).get(
        "epochs", 1) > 2 and not any("after" in e for e in PARSED[path].get("expect", [])) else None)
    files = result.save(tmp_path / "out")
    summary = json.loads(files["summary"].read_text())
    assert summary["seed"] == result.seed and summary["versions"]["neurosim"]
    assert (result.seed is None) == (not result.draws)      # a seed is reported only when something is drawn
    assert summary["metrics"]["epochs_run"] == len(result.history)
    curve = files["learning_curve"].read_text().splitlines()
    assert curve[0] == "epoch,error" and len(curve) == len(result.history) + 1
    net = neurosim.Network.from_dict(json.loads(files["network"].read_text()))
    assert net.weights() == result.network.weights()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["learning_curve.csv", "network.json",
                                                                      "summary.json"]
