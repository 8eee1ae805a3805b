"""Regression: the measures max_abs_error, mae, rmse and r2, and what a run reports by its task.

The measures are checked on a line ``o1 = 2x + 0.5`` (and a second output ``o2 = -x``)
whose outputs, residuals and sums are worked out by hand here, on the training and the
test set, member by member in an ensemble (``stat``), and in the targets' original units
when the data are scaled. Then the classification rule (:func:`task_of`): which targets,
losses and output activations make a classification, and that a regression's report and
``summary.json`` give mae, rmse and r2 where a classification's give accuracy.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim import ScenarioError
from neurosim.scenario.measuring import task_of

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("max_abs_error", "mae", "rmse", "r2")

#: o1 = 2x + 0.5 and o2 = -x, weights given, nothing trained. At x = 0, 1, 2, 3 the outputs
#: are o1 = 0.5, 2.5, 4.5, 6.5 and o2 = 0, -1, -2, -3.
LINES = {
    "network": {"activation": "identity", "bias": "explicit",
                "neurons": [{"name": "x", "kind": "input"}, {"name": "b", "kind": "bias"},
                            {"name": "o1", "output": True}, {"name": "o2", "output": True}],
                "connections": {"x -> o1": 2.0, "b -> o1": 0.5, "x -> o2": -1.0, "b -> o2": 0.0}},
    "data": {"inputs": [[0], [1], [2], [3]], "targets": [[0.5, 0], [3, -1], [4, -2], [7, -4]],
             "test": {"inputs": [[10], [20]], "targets": [[20, -9], [41, -20]]}},
    "training": {"epochs": 0},
}


def measured(mapping, **options):
    """Every regression measure of ``mapping``'s run, with ``options``."""
    data = copy.deepcopy(mapping)
    data["expect"] = [{"quantity": q, "above": -1e9, **options} for q in MEASURES]
    return dict(zip(MEASURES, (c[1] for c in neurosim.run_scenario(data).checks)))


def one_output(mapping):
    data = copy.deepcopy(mapping)
    data["network"]["neurons"] = data["network"]["neurons"][:3]
    data["network"]["connections"] = {k: v for k, v in data["network"]["connections"].items() if "o2" not in k}
    data["data"]["targets"] = [row[0] for row in data["data"]["targets"]]
    data["data"]["test"]["targets"] = [row[0] for row in data["data"]["test"]["targets"]]
    return data


def test_the_measures_of_one_output_by_hand():
    # residuals y - t: 0, -0.5, 0.5, -0.5; the targets' mean 3.625
    got = measured(one_output(LINES))
    assert got["max_abs_error"] == 0.5
    assert got["mae"] == 1.5 / 4
    assert got["rmse"] == pytest.approx(math.sqrt(0.75 / 4), rel=1e-15)
    ss_tot = 3.125 ** 2 + 0.625 ** 2 + 0.375 ** 2 + 3.375 ** 2          # 21.6875
    assert got["r2"] == pytest.approx(1 - 0.75 / ss_tot, rel=1e-15) == pytest.approx(0.9654178674351584)


def test_several_outputs_are_pooled():
    # o2's residuals 0, 0, 0, 1 (SS_res 1), its targets' mean -1.75 (SS_tot 8.75)
    got = measured(LINES)
    assert got["max_abs_error"] == 1.0
    assert got["mae"] == (1.5 + 1.0) / 8
    assert got["rmse"] == pytest.approx(math.sqrt((0.75 + 1.0) / 8), rel=1e-15)
    # pooled sums (each output about its own mean), not the mean of the two outputs' r2 (0.9256)
    assert got["r2"] == pytest.approx(1 - (0.75 + 1.0) / (21.6875 + 8.75), rel=1e-15) == pytest.approx(0.9425051)


def test_the_test_set():
    # x = 10, 20: o1 = 20.5, 40.5 against 20, 41; o2 = -10, -20 against -9, -20
    got = measured(LINES, set="test")
    assert got["max_abs_error"] == 1.0 and got["mae"] == (0.5 + 0.5 + 1.0 + 0.0) / 4
    assert got["rmse"] == pytest.approx(math.sqrt((0.25 + 0.25 + 1.0) / 4), rel=1e-15)
    # SS_tot: o1 about 30.5, 2 · 10.5²; o2 about -14.5, 2 · 5.5²
    assert got["r2"] == pytest.approx(1 - 1.5 / (220.5 + 60.5), rel=1e-15)


def test_r2_of_targets_that_do_not_vary_is_refused_before_training():
    data = copy.deepcopy(LINES)
    data["data"]["test"] = {"inputs": [[10]], "targets": [[20, -9]]}
    data["expect"] = [{"quantity": "r2", "set": "test", "above": 0.5}]
    with pytest.raises(ScenarioError, match=r"expect\[0\]\.set: r2 is undefined on the test set: its targets do "
                                            r"not vary \(SS_tot = 0\); bound mae or rmse instead"):
        neurosim.load_scenario(data).check()


def test_r2_of_a_constant_prediction_is_zero_and_can_be_negative():
    data = one_output(LINES)
    data["network"]["connections"] = {"x -> o1": 0.0, "b -> o1": 3.625}       # every output the targets' mean
    assert measured(data)["r2"] == 0.0
    data["network"]["connections"] = {"x -> o1": -2.0, "b -> o1": 7.0}        # backwards
    assert measured(data)["r2"] < 0


def test_a_regression_measure_over_ensemble_members():
    data = one_output(LINES)
    data["network"] = {"activation": "identity", "layers": [{"name": "x", "size": 1},
                                                            {"name": "o", "size": 1, "from": ["x"]}]}
    data["training"] = {"epochs": 3, "mode": "batch", "learning_rate": 0.01, "ensemble": 4}
    data["expect"] = [{"quantity": "rmse", "set": "test", "stat": stat, "above": -1.0} for stat in ("min", "max")]
    result = neurosim.run_scenario(data)
    test = result.scenario.test
    each = [math.sqrt(np.mean((net.forward(test.inputs) - test.targets) ** 2))
            for _k, net in result.ensemble.networks()]
    assert len(set(each)) == 4                                       # four different starts
    assert [c[1] for c in result.checks] == [min(each), max(each)]


def test_an_unknown_set_is_refused_naming_the_option():
    data = copy.deepcopy(LINES)
    data["expect"] = [{"quantity": "mae", "set": "valid", "below": 1.0}]
    with pytest.raises(ScenarioError, match=r"expect\[0\]\.set: set must be 'train', 'test' or 'validation', "
                                            r"not 'valid'"):
        neurosim.run_scenario(data)


# --- with data.scale ------------------------------------------------------------------------


def test_measures_are_in_the_targets_original_units_when_the_data_are_scaled():
    data = one_output(LINES)
    data["data"]["scale"] = "standard"
    result = neurosim.run_scenario({**data, "expect": [{"quantity": q, "above": -1e9} for q in MEASURES]})
    net, raw = result.network, result.scenario.raw_train
    residual = net.predict(raw.inputs) - raw.targets                 # predictions mapped back, raw targets
    got = [c[1] for c in result.checks]
    assert got[0] == np.max(np.abs(residual)) and got[1] == np.mean(np.abs(residual))
    assert got[2] == math.sqrt(np.mean(residual ** 2))
    # the same network's outputs in scaled units, compared with the scaled targets, are smaller by the scale
    scaled = net.forward(result.scenario.train.inputs) - result.scenario.train.targets
    assert np.mean(np.abs(scaled)) == pytest.approx(got[1] / net.scaling.target_scale[0], rel=1e-12)



# --- classification or regression ------------------------------------------------------------

REGISTRY = neurosim.default_registry()
ZERO_ONE = np.array([[0.0], [1.0], [1.0]])


@pytest.mark.parametrize("targets, loss, activations, task", [
    ([ZERO_ONE], "mse", ["sigmoid"], "classification"),             # XOR with sigmoid outputs
    ([np.eye(3)], "cce", ["softmax"] * 3, "classification"),         # one-hot classes
    ([ZERO_ONE], "bce", ["identity"], "classification"),             # a cross-entropy is a classifier's loss
    ([ZERO_ONE, np.array([[0.0]])], "mse", ["sigmoid"], "classification"),
    ([ZERO_ONE], "mse", ["identity"], "regression"),                 # a linear fit to 0/1 numbers
    ([ZERO_ONE], "mse", ["tanh"], "regression"),
    ([ZERO_ONE, np.array([[0.5]])], "mse", ["sigmoid"], "regression"),   # a test target that is not 0 or 1
    ([np.array([[0.01, 0.99]])], "mse", ["sigmoid", "sigmoid"], "regression"),   # the worked example
    ([np.sin(np.linspace(0, 3, 5))[:, None]], "mse", ["identity"], "regression"),
    ([np.array([[-1.0], [1.0]])], "mse", ["tanh"], "regression"),
])
def test_the_classification_rule(targets, loss, activations, task):
    assert task_of(targets, REGISTRY.loss(loss), activations) == task


def sine_mapping():
    return {
        "scenario": {"seed": 0},
        "network": {"activation": "tanh", "layers": [{"name": "i", "size": 1}, {"name": "h", "size": 4, "from": ["i"]},
                                                     {"name": "o", "size": 1, "from": ["h"],
                                                      "activation": "identity"}]},
        "data": {"dataset": "sine", "options": {"n": 20}, "test_fraction": 0.25},
        "training": {"epochs": 5, "mode": "batch", "learning_rate": 0.01},
    }


def test_a_regression_reports_mae_rmse_and_r2_not_accuracy(tmp_path):
    result = neurosim.run_scenario(sine_mapping())
    assert result.task == "regression"
    m = result.metrics()
    assert m["task"] == "regression"
    assert set(m) >= {"train_mae", "train_rmse", "train_r2", "test_error", "test_mae", "test_rmse", "test_r2"}
    assert not any("accuracy" in key for key in m)
    state = neurosim.scenario.RunState(result.network, result.scenario.train, result.scenario.test, "mse",
                                       result.history)
    rmse = REGISTRY.measure("rmse")
    assert m["test_rmse"] == rmse(state, set="test") and m["train_rmse"] == rmse(state)
    line = next(line for line in result.report().splitlines() if line.startswith("test set:"))
    assert line == (f"test set: error {m['test_error']:.6g}, mae {m['test_mae']:.6g}, rmse {m['test_rmse']:.6g}, "
                    f"r2 {m['test_r2']:.6g}")
    assert "accuracy" not in result.report()
    summary = json.loads(result.save(tmp_path)["summary"].read_text())
    assert summary["metrics"]["task"] == "regression" and summary["metrics"]["test_mae"] == m["test_mae"]


def test_a_classification_still_reports_accuracy():
    result = neurosim.run_scenario(ROOT / "scenarios" / "iris_binary.toml", {"training.epochs": 5})
    m = result.metrics()
    assert result.task == m["task"] == "classification"
    assert {"train_accuracy", "test_accuracy", "test_error"} <= set(m) and "test_mae" not in m
    assert f"test set: error {m['test_error']:.6g}, accuracy {m['test_accuracy']:.6g}" in result.report()


def test_an_undefined_metric_is_none():
    """The worked example is a regression (targets 0.01 and 0.99) of one pattern: its r2 is
    undefined, so summary.json says null and the run is not refused for it."""
    result = neurosim.run_scenario(ROOT / "scenarios" / "mazur.toml")
    m = result.metrics()
    assert m["task"] == "regression" and m["train_r2"] is None
    y = result.network.forward([0.05, 0.10])
    assert m["train_mae"] == (abs(y[0] - 0.01) + abs(y[1] - 0.99)) / 2
    assert "accuracy" not in json.dumps(m)
