"""Every shipped scenario runs through the public API and the command, and meets its expectations.

The shipped sweep files (a ``[sweep]`` table: ``scenarios/symmetry_sweep.toml``) run with
``neurosim sweep`` and meet their ``[[sweep.expect]]``; the mirror-symmetry sweep's cell at
the paper's setting equals ``symmetry_ensemble.toml`` (the same 100 starts).

Also checks what a scenario run returns (network, history, checks) and what ``neurosim run``
prints for the worked example: the forward pass, the total error 0.298371109, the
eight updated weights and the error after the step.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.cli import main
from neurosim.sweep import is_sweep

FILES = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))
SWEEPS = [p for p in FILES if is_sweep(tomllib.loads(p.read_text()))]
SCENARIOS = [p for p in FILES if p not in SWEEPS]


def test_there_are_scenarios():
    assert {p.name for p in SCENARIOS} >= {"mazur.toml", "delta_rule_221.toml"}
    assert {p.name for p in SWEEPS} >= {"symmetry_sweep.toml"}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_meets_its_expectations(path):
    result = neurosim.run_scenario(path)
    assert result.checks, "a shipped scenario must check something"
    assert result.passed, "\n".join(result.failures)
    assert len(result.history) == result.scenario.epochs or result.stopped_early


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """``{sweep file name: (exit status, what it printed, results.json)}``, each shipped sweep run once."""
    out = {}
    for path in SWEEPS:
        folder = tmp_path_factory.mktemp(path.stem)
        done = subprocess.run([sys.executable, "-m", "neurosim", "sweep", str(path), "--out", str(folder / "out"),
                               "--workers", "2", "-q"], capture_output=True, text=True, timeout=600)
        table = json.loads((folder / "out" / "results.json").read_text())
        out[path.name] = (done.returncode, done.stdout + done.stderr, table)
    return out


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_sweep_meets_its_expectations(path, swept):
    status, printed, table = swept[path.name]
    assert status == 0 and printed.strip() == f"{path}: passed", printed
    assert table["expectations"] and all(e["met"] for e in table["expectations"])
    assert table["finished"] == table["total"] and {row["status"] for row in table["rows"]} == {"passed"}


def test_symmetry_sweep_at_the_papers_setting_is_the_ensemble_scenario(swept):
    """The (0.1, 0.9) point trains the 100 starts of symmetry_ensemble.toml: 31 learn it,
    median 896 sweeps, the same numbers; and the grid's corners are as its header says."""
    rows = {(r["training.learning_rate"], r["training.momentum"]): r for r in swept["symmetry_sweep.toml"][2]["rows"]}
    assert len(rows) == 12
    ens = neurosim.run_scenario(SCENARIOS[[p.name for p in SCENARIOS].index("symmetry_ensemble.toml")])
    paper, stats = rows[(0.1, 0.9)], ens.metrics()["ensemble"]
    assert paper["members"] == 100 and paper["success_rate"] == stats["success_rate"] == 0.31
    for key in ("epochs_min", "epochs_median", "epochs_max"):
        assert paper[key] == stats[key]
    # sweeps to criterion move by a few under other CPUs' arithmetic (and with the engine's
    # rounding); who learns does not
    near = pytest.approx
    assert (paper["epochs_min"], paper["epochs_median"], paper["epochs_max"]) == (near(345, abs=5), near(896, abs=5),
                                                                                 near(1474, abs=5))
    assert [rows[(lr, 0.9)]["success_rate"] for lr in (0.05, 0.1, 0.2, 0.4)] == [0.94, 0.31, 0.0, 0.0]
    assert [rows[(0.4, m)]["success_rate"] for m in (0.0, 0.5, 0.9)] == [0.85, 1.0, 0.0]
    assert rows[(0.4, 0.5)]["epochs_median"] == near(362, abs=5)


def test_mazur_result_object():
    result = neurosim.run_scenario(SCENARIOS[[p.name for p in SCENARIOS].index("mazur.toml")])
    net = result.network
    assert isinstance(net, neurosim.Network)
    assert abs(net.weight("h1", "o1") - 0.35891648) < 5e-9
    assert abs(result.initial_error - 0.298371109) < 5e-10
    assert abs(result.history[0] - 0.2910277737) < 5e-11
    assert result.initial_weights[("h1", "o1")] == 0.40
    assert net.weight("b1", "h1") == 0.35          # frozen


def test_run_accepts_a_mapping_and_overrides(tmp_path):
    mapping = {
        "scenario": {"name": "tiny", "seed": 1},
        "network": {"layers": [{"name": "i", "size": 2}, {"name": "o", "size": 1, "from": ["i"]}]},
        "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 1]},
        "training": {"learning_rate": 1.0, "epochs": 10, "mode": "batch"},
        "expect": [{"quantity": "error", "below": 10.0}],
    }
    short = neurosim.run_scenario(mapping)
    long = neurosim.run_scenario(mapping, {"training.epochs": 500})
    assert len(short.history) == 10 and len(long.history) == 500
    assert long.final_error < short.final_error < short.initial_error
    assert long.network.forward([1, 1]) > 0.9 > 0.1 > long.network.forward([0, 0])   # OR is learned
    again = neurosim.run_scenario(mapping)
    np.testing.assert_array_equal(again.history, short.history)                    # same seed, same bits


def test_command_prints_the_worked_example(capsys):
    status = main(["run", str(SCENARIOS[[p.name for p in SCENARIOS].index("mazur.toml")])])
    out = capsys.readouterr().out
    assert status == 0
    for text in ("out = 0.593269992", "0.298371109", "0.35891648", "0.408666186", "0.51130127",
                 "0.561370121", "0.149780716", "0.199561432", "0.249751144", "0.299502287",
                 "after 1 epoch: 0.291027774", "13 of 13 expectations met", "passed"):
        assert text in out, text


def test_command_exit_status_follows_the_expectations(tmp_path, capsys):
    text = (SCENARIOS[[p.name for p in SCENARIOS].index("mazur.toml")]).read_text()
    failing = tmp_path / "failing.toml"
    failing.write_text(text.replace("value = 0.35891648", "value = 0.36"))
    assert main(["run", str(failing)]) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "h1 -> o1" in captured.err
    assert main(["run", "-q", str(failing), "--set", "training.learning_rate=0.0"]) == 1
    assert main(["check", *map(str, FILES)]) == 0


def test_list_shows_builtins_with_their_plugin(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("sigmoid", "softmax", "mse", "bce", "cce", "uniform"):
        assert name in out
    assert "neurosim.activations" in out


def test_command_writes_results_with_out(tmp_path, capsys):
    mazur = SCENARIOS[[p.name for p in SCENARIOS].index("mazur.toml")]
    assert main(["run", "-q", str(mazur), "--out", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert out.count("wrote ") == 3
    import json
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["passed"] is True and len(summary["expectations"]) == 13
    assert summary["versions"]["plugins"]["neurosim.activations"].startswith("neurosim ")
    assert abs(summary["metrics"]["train_error"] - 0.2910277737) < 5e-11


def test_save_interrupted_at_the_last_file_leaves_every_old_file(tmp_path, monkeypatch):
    """The three result files are written as a set: an interruption while writing the
    last one leaves all three old files as they were, and no temporary file."""
    delta_rule = SCENARIOS[[p.name for p in SCENARIOS].index("delta_rule_221.toml")]
    out = tmp_path / "res"
    neurosim.run_scenario(delta_rule, {"training.epochs": 2}).save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    later = neurosim.run_scenario(delta_rule, {"training.epochs": 5})
    calls = []
    real_fsync = os.fsync

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        later.save(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.setattr(os, "fsync", real_fsync)
    later.save(out)
    assert (out / "learning_curve.csv").read_text().count("\n") == 6     # header and 5 epochs
    # a folder where a file would go is found before anything is renamed
    (out / "network.json").unlink()
    (out / "network.json").mkdir()
    before = (out / "learning_curve.csv").read_bytes()
    with pytest.raises(neurosim.DataError, match="a folder of that name is in the way"):
        neurosim.run_scenario(delta_rule, {"training.epochs": 1}).save(out)
    assert (out / "learning_curve.csv").read_bytes() == before and not list(out.glob(".*.tmp"))
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(neurosim.DataError, match="cannot use .*a_file.* as the results folder"):
        later.save(tmp_path / "a_file")


def test_accuracy_of_one_output():
    """accuracy/correct with ``output`` judge that output alone; an unknown name is refused."""
    mapping = {
        "network": {"activation": "sigmoid", "bias": "explicit",
                    "neurons": [{"name": "x", "kind": "input"}, {"name": "b", "kind": "bias"},
                                {"name": "o1", "output": True}, {"name": "o2", "output": True}],
                    "connections": {"x -> o1": 0.0, "b -> o1": 5.0, "x -> o2": 0.0, "b -> o2": -5.0}},
        "data": {"inputs": [[0.0], [1.0]], "targets": [[1.0, 0.0], [1.0, 1.0]]},
        "training": {"epochs": 0},
        "expect": [{"quantity": "accuracy", "output": "o1", "value": 1.0},
                   {"quantity": "accuracy", "output": "o2", "value": 0.5},
                   {"quantity": "correct", "output": "o2", "value": 1.0},
                   {"quantity": "accuracy", "value": 0.5}],          # both outputs right: pattern 0 only
    }
    result = neurosim.run_scenario(mapping)
    assert result.passed and [c[1] for c in result.checks] == [1.0, 0.5, 1.0, 0.5]
    mapping["expect"] = [{"quantity": "accuracy", "output": "o3", "value": 1.0}]
    with pytest.raises(neurosim.ScenarioError, match=r"expect\[0\].*'o3' is not an output neuron.*did you mean"):
        neurosim.run_scenario(mapping)


#: A 2-2-1 net in the scenario language (layers i, h, o), for the XOR scenarios below.
XOR_221 = {"layers": [{"name": "i", "size": 2}, {"name": "h", "size": 2, "from": ["i"]},
                      {"name": "o", "size": 1, "from": ["h"]}]}


def test_shuffle_is_seeded_by_the_scenario_and_refused_in_batch_mode():
    mapping = {
        "scenario": {"seed": 4},
        "network": XOR_221,
        "data": {"dataset": "xor"},
        "training": {"mode": "online", "learning_rate": 0.5, "epochs": 6, "shuffle": True},
    }
    first, again = neurosim.run_scenario(mapping), neurosim.run_scenario(mapping)
    assert first.network.weights() == again.network.weights()          # the same seed, the same orders
    assert "patterns shuffled every epoch" in first.report()
    plain = neurosim.run_scenario(mapping, {"training.shuffle": False})
    assert plain.network.weights() != first.network.weights()
    # split into stages by a checkpoint, the orders go on from one stage to the next
    staged = neurosim.run_scenario({**mapping, "expect": [{"quantity": "error", "after": 2, "above": 0.0}]})
    assert staged.network.weights() == first.network.weights()
    with pytest.raises(neurosim.ScenarioError, match=r"training\.shuffle: applies to mode = 'online'"):
        neurosim.run_scenario(mapping, {"training.mode": "batch"})


def test_schedules_change_the_rate_and_momentum_at_their_epochs():
    mapping = {
        "scenario": {"seed": 3},
        "network": XOR_221,
        "data": {"dataset": "xor"},
        "training": {"mode": "batch", "learning_rate": 0.5, "momentum": 0.9, "epochs": 6,
                     "learning_rate_schedule": [[3, 0.0]], "momentum_schedule": [[3, 0.0]]},
        "expect": [{"quantity": "weight", "edge": "h1 -> o1", "after": 3, "above": -100.0},
                   {"quantity": "weight", "edge": "h1 -> o1", "above": -100.0}],
    }
    result = neurosim.run_scenario(mapping)
    after3, after6 = result.checks[0][1], result.checks[1][1]
    assert after3 == after6 != result.initial_weights[("h1", "o1")]     # nothing moves once both are 0
    assert result.history[2] == result.history[5] != result.history[1]


def test_overrides_as_keywords():
    delta_rule = SCENARIOS[[p.name for p in SCENARIOS].index("delta_rule_221.toml")]
    a = neurosim.run_scenario(delta_rule, training={"epochs": 3, "learning_rate": 0.25})
    b = neurosim.run_scenario(delta_rule, {"training.epochs": 3, "training.learning_rate": 0.25})
    c = neurosim.run_scenario(delta_rule, **{"training.epochs": 3}, seed=5, training={"learning_rate": 0.25})
    assert len(a.history) == 3 and a.scenario.learning_rate == 0.25
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.history, c.history)      # explicit weights: the seed changes nothing
    assert c.scenario.seed == 5
