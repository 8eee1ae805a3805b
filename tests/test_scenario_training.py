"""The scenario language's training tables: ``[training.optimizer]``, the stop criteria of
``[training.stop]`` and the validation set of ``[data]``. A scenario must train exactly as
the same request from Python does (bit for bit), a run that pauses for ``after``
expectations must equal one that does not, and every mistake is refused at its own key,
by ``check`` as by ``run``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import neurosim
from neurosim.cli import main

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_T = [[0.0], [1.0], [1.0], [0.0]]


def xor(**training) -> dict:
    """A 2-2-1 XOR scenario with ``training`` keys (batch mode unless given)."""
    return {
        "scenario": {"name": "xor", "seed": 3},
        "network": {"layers": [{"name": "i", "size": 2}, {"name": "h", "size": 2, "from": ["i"]},
                               {"name": "o", "size": 1, "from": ["h"]}]},
        "data": {"inputs": copy.deepcopy(XOR_X), "targets": copy.deepcopy(XOR_T)},
        "training": {"mode": "batch", "epochs": 40, **training},
    }


def python_twin(sc: dict, **train) -> tuple[neurosim.Network, np.ndarray]:
    """The scenario's network built by the scenario (so the same initial weights), trained
    from Python with ``train``."""
    net = neurosim.load_scenario(sc).check()
    history = net.train(np.array(XOR_X), np.array(XOR_T), "mse", mode="batch", epochs=sc["training"]["epochs"],
                        **train)
    return net, history


@pytest.mark.parametrize("name, options", [
    ("rprop", {}), ("rprop", {"variant": "irprop+"}), ("rprop", {"variant": "rprop+", "delta0": 0.05}),
    ("quickprop", {"learning_rate": 0.5}), ("adam", {"learning_rate": 0.05}),
    ("sgd", {"learning_rate": 0.9, "momentum": 0.5, "nesterov": True, "l2": 0.001}),
])
def test_a_scenario_optimizer_trains_as_the_same_optimizer_from_python(name, options):
    sc = xor(optimizer={"name": name, **options})
    result = neurosim.run_scenario(sc)
    net, history = python_twin(sc, optimizer=name, optimizer_options=options)
    assert np.array_equal(result.history, history)
    assert result.network.weights() == net.weights()
    assert result.history[-1] < result.history[0]          # it learned something


def test_the_optimizer_may_be_named_by_a_string():
    a = neurosim.run_scenario(xor(optimizer="rprop"))
    b = neurosim.run_scenario(xor(optimizer={"name": "rprop"}))
    assert np.array_equal(a.history, b.history)


def test_sgd_options_in_the_table_equal_those_in_training():
    a = neurosim.run_scenario(xor(learning_rate=0.7, momentum=0.9))
    b = neurosim.run_scenario(xor(optimizer={"name": "sgd", "learning_rate": 0.7, "momentum": 0.9}))
    assert np.array_equal(a.history, b.history)
    assert b.scenario.learning_rate == 0.7 and b.scenario.momentum == 0.9


def test_a_learning_rate_schedule_drives_adam_from_its_own_rate():
    # adam starts at its own 0.05; from epoch 20 the schedule sets 0.01
    sc = xor(optimizer={"name": "adam", "learning_rate": 0.05}, learning_rate_schedule=[[20, 0.01]])
    result = neurosim.run_scenario(sc)
    seen = []
    opt = neurosim.training.make_optimizer(neurosim.default_registry(), "adam", {"learning_rate": 0.05}, "batch")

    def schedule(epoch):
        opt.learning_rate = 0.05 if epoch < 20 else 0.01
        seen.append(opt.learning_rate)
    net, history = python_twin(sc, optimizer=opt, schedule=schedule)
    assert np.array_equal(result.history, history)
    assert seen[19] == 0.05 and seen[20] == 0.01


@pytest.mark.parametrize("training, key, fragments", [
    ({"optimizer": "rprp"}, "training.optimizer", ("did you mean 'rprop'",)),
    ({"optimizer": {"name": "adamm"}}, "training.optimizer.name", ("did you mean 'adam'",)),
    ({"optimizer": {"variant": "irprop+"}}, "training.optimizer.name", ("is required",)),
    ({"optimizer": "rprop", "mode": "online"}, "training.mode", ("batch mode only", "sign")),
    ({"optimizer": "rprop", "mode": None}, "training.mode", ("is 'online' (the default)", "batch mode only")),
    ({"optimizer": "quickprop", "mode": "minibatch", "batch_size": 2}, "training.mode", ("batch mode only",)),
    ({"optimizer": {"name": "rprop", "delta0": "big"}}, "training.optimizer.delta0", ("must be a number",)),
    ({"optimizer": {"name": "rprop", "delta_0": 0.1}}, "training.optimizer.delta_0", ("did you mean 'delta0'",)),
    ({"optimizer": {"name": "adam", "beta1": 0.9, "lerning_rate": 0.1}}, "training.optimizer.lerning_rate",
     ("did you mean 'learning_rate'",)),
    ({"optimizer": {"name": "rprop", "variant": "irprop+", "delta_mx": 1.0}}, "training.optimizer.delta_mx",
     ("did you mean 'delta_max'",)),
    ({"optimizer": {"name": "rprop", "variant": "irprop"}}, "training.optimizer.variant", ("irprop-",)),
    ({"optimizer": {"name": "adam", "beta1": 1.0}}, "training.optimizer.beta1", ("[0, 1)",)),
    ({"optimizer": {"name": "sgd", "nesterov": True}}, "training.optimizer.nesterov", ("momentum",)),
    ({"optimizer": "rprop", "learning_rate": 0.1}, "training.learning_rate", ("sgd", "[training.optimizer]")),
    ({"optimizer": {"name": "sgd", "momentum": 0.5}, "momentum": 0.5}, "training.optimizer.momentum",
     ("also given as training.momentum",)),
    ({"optimizer": "rprop", "momentum_schedule": [[0, 0.5]]}, "training.momentum_schedule",
     ("rprop optimiser does not have",)),
    ({"optimizer": {"name": "rprop", "variant": ["a"]}}, "training.optimizer.variant", ("an array",)),
    ({"momentum": -0.5}, "training.momentum", (">= 0",)),
])
def test_optimizer_mistakes_are_refused_at_their_key_by_check_and_by_run(training, key, fragments, refused):
    sc = xor(**training)
    if sc["training"]["mode"] is None:          # not given: the default, online
        del sc["training"]["mode"]
    for entry in (lambda s: neurosim.load_scenario(s).check(), neurosim.run_scenario):
        err = refused(neurosim.ScenarioError, fragments, entry, sc)
        assert err.key == key, (err.key, str(err))


def test_neurosim_check_refuses_rprop_online(tmp_path, capsys):
    path = tmp_path / "online.toml"
    path.write_text('[data]\ndataset = "xor"\n[network]\nlayers = [{name = "i", size = 2}, {name = "h", size = 2, from = ["i"]}, '
                    '{name = "o", size = 1, from = ["h"]}]\n[training]\nmode = "online"\noptimizer = "rprop"\n')
    assert main(["check", str(path)]) == 2
    assert "training.mode" in capsys.readouterr().err


@pytest.mark.parametrize("stop, fragments", [
    ({"bit_fail": True}, ()), ({"bit_fail": {"limit": 0.4, "count": 1}}, ()), ({"within": 0.4, "bit_fail": False}, ()),
    ({"max_seconds": 3600}, ()),
])
def test_stop_criteria_from_a_scenario_stop_as_from_python(stop, fragments):
    sc = xor(optimizer="rprop", epochs=300, stop=stop)
    result = neurosim.run_scenario(sc)
    on = {k: v for k, v in stop.items() if v is not False}
    net, history = python_twin(sc, optimizer="rprop", stop={k: ({} if v is True else v) for k, v in on.items()})
    assert np.array_equal(result.history, history)
    assert result.stopped_early == (len(history) < 300)


def test_bit_fail_stops_at_the_first_epoch_every_output_is_within_its_limit():
    sc = xor(optimizer="rprop", epochs=300, stop={"bit_fail": {"limit": 0.3}})
    sc["scenario"]["seed"] = 4                     # a seed whose net learns XOR (seed 3's sticks at error 0.25)
    result = neurosim.run_scenario(sc)
    assert result.stopped_early
    Y = result.network.forward(np.array(XOR_X))
    assert np.all(np.abs(Y - np.array(XOR_T)) < 0.3)
    # one epoch fewer did not yet meet it: retrain that far and look
    shorter = neurosim.run_scenario(sc, {"training.epochs": len(result.history) - 1, "training.stop.bit_fail": False})
    Y1 = shorter.network.forward(np.array(XOR_X))
    assert np.any(np.abs(Y1 - np.array(XOR_T)) >= 0.3)


def parity_with_validation(**training) -> dict:
    """4-bit parity (16 patterns) with a quarter held out for validation."""
    return {
        "scenario": {"name": "parity", "seed": 5},
        "network": {"layers": [{"name": "i", "size": 4}, {"name": "h", "size": 4, "from": ["i"]},
                               {"name": "o", "size": 1, "from": ["h"]}]},
        "data": {"dataset": "parity", "options": {"bits": 4}, "validation_fraction": 0.25},
        "training": {"mode": "batch", "epochs": 200, "optimizer": "rprop", **training},
    }


def test_validation_fraction_holds_out_a_seeded_share_of_the_training_set():
    a = neurosim.load_scenario(parity_with_validation()).resolve()
    b = neurosim.load_scenario(parity_with_validation()).resolve()
    assert len(a.train) == 12 and len(a.validation) == 4
    assert np.array_equal(a.validation.inputs, b.validation.inputs)
    rows = {tuple(x) for x in a.train.inputs} | {tuple(x) for x in a.validation.inputs}
    assert len(rows) == 16                                  # disjoint, and together all 16 patterns
    c = neurosim.load_scenario(parity_with_validation(), {"scenario.seed": 6}).resolve()
    assert not np.array_equal(a.validation.inputs, c.validation.inputs)


def test_a_test_split_and_a_validation_split_do_not_overlap():
    sc = parity_with_validation()
    sc["data"]["test_fraction"] = 0.25
    s = neurosim.load_scenario(sc).resolve()
    assert (len(s.train), len(s.validation), len(s.test)) == (9, 3, 4)
    rows = [tuple(x) for part in (s.train, s.validation, s.test) for x in part.inputs]
    assert len(set(rows)) == 16


def test_early_stopping_in_a_scenario_restores_the_best_validation_weights():
    sc = parity_with_validation(stop={"early_stopping": {"patience": 5}})
    result = neurosim.run_scenario(sc)
    s = result.scenario
    assert result.stopped_early
    # the same run from Python, recording the weights and validation error of every epoch
    net = neurosim.load_scenario(sc).check()
    seen = []
    history = net.train(s.train.inputs, s.train.targets, "mse", mode="batch", epochs=200, optimizer="rprop",
                        stop={"early_stopping": {"patience": 5}}, validation=(s.validation.inputs,
                                                                             s.validation.targets),
                        callbacks=[lambda p: seen.append((p.validation_error, p.theta.copy()))])
    assert np.array_equal(result.history, history)
    errors = [e for e, _ in seen]
    best = int(np.argmin(errors))
    assert len(errors) - 1 - best == 5                     # stopped 5 epochs after its best
    assert np.array_equal(net.compile().theta, seen[best][1])
    assert result.network.weights() == net.weights()
    assert result.network.error(s.validation.inputs, s.validation.targets) == pytest.approx(errors[best],
                                                                                            rel=1e-12)
    # the report and summary.json speak of the restored weights, and say so
    train_error = net.error(s.train.inputs, s.train.targets)
    assert train_error != history[-1]
    m = result.metrics()
    assert m["train_error"] == result.final_error == train_error
    assert m["validation_error"] == pytest.approx(errors[best], rel=1e-12)
    assert m["stopped_by"] == {"early_stopping": 1}
    assert m["outcomes"] == [f"early_stopping restored the weights of epoch {best + 1}, the lowest validation "
                             f"error ({errors[best]:.9g})"]
    report = result.report()
    assert f"(stopped by early_stopping)" in report
    assert f"total error (mse) after {len(history)} epochs: {history[-1]:.9g}\n" + m["outcomes"][0] + "\n" \
        f"total error (mse) of the restored weights: {train_error:.9g}" in report
    assert f"validation set: error {errors[best]:.6g}" in report
    assert "data: 12 training patterns, 4 validation patterns; seed 5 (draws the initial weights, the validation " \
           "split)" in report


def test_the_validation_error_is_a_measure():
    sc = parity_with_validation()
    sc["expect"] = [{"quantity": "error", "set": "validation", "below": 100.0}]
    result = neurosim.run_scenario(sc)
    s = result.scenario
    expected = result.network.error(s.validation.inputs, s.validation.targets)
    assert result.checks[0][1] == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("data, key, fragments", [
    ({"validation_fraction": 1.5}, "data.validation_fraction", ("between 0 and 1",)),
    ({"validation_fraction": 0.01}, "data.validation_fraction", ("at least one pattern",)),
    ({"validation_fraction": 0.2, "validation": {"dataset": "xor"}}, "data.validation_fraction", ("conflicts",)),
    ({"validation": {"inputs": [[0.0]], "targets": [[0.0]]}}, "data.validation", ("1 inputs",)),
    ({"validation": {"datset": "xor"}}, "data.validation.datset", ("did you mean 'dataset'",)),
])
def test_validation_mistakes_are_refused_at_their_key(data, key, fragments, refused):
    sc = xor()
    sc["data"].update(data)
    err = refused(neurosim.ScenarioError, fragments, lambda s: neurosim.load_scenario(s).check(), sc)
    assert err.key == key


def test_a_measure_of_the_validation_set_needs_one(refused):
    sc = xor()
    sc["expect"] = [{"quantity": "error", "set": "validation", "below": 1.0}]
    refused(neurosim.ScenarioError, ("needs a validation set",), lambda s: neurosim.load_scenario(s).check(), sc)


def test_pausing_for_after_expectations_changes_nothing():
    # online with momentum, shuffling and early stopping: every piece of state must carry over the pauses
    base = parity_with_validation(optimizer="sgd", mode="online", learning_rate=0.3, momentum=0.9, shuffle=True,
                                  epochs=120, stop={"early_stopping": {"patience": 30}, "error_below": 1e-9})
    straight = neurosim.run_scenario(base)
    stopped = len(straight.history)
    assert straight.stopped_early and 25 < stopped < 120          # early stopping ended it
    pauses = (1, 7, 20, 21, stopped - 1, stopped, 119)
    paused = copy.deepcopy(base)
    paused["expect"] = [{"quantity": "error", "after": a, "below": 100.0} for a in pauses]
    result = neurosim.run_scenario(paused)
    assert np.array_equal(straight.history, result.history)
    assert straight.network.weights() == result.network.weights()
    # each measured at its epoch; from the early stop on, on the best weights it restored
    s = result.scenario
    restored = result.network.error(s.train.inputs, s.train.targets)
    assert restored != result.history[-1]
    assert [c[1] for c in result.checks] == [float(result.history[a - 1]) if a < stopped else restored
                                             for a in pauses]


def test_an_expectation_at_the_epoch_training_stops_is_measured_there():
    sc = xor(optimizer="rprop", epochs=300, stop={"within": 0.4})
    sc["scenario"]["seed"] = 4
    stopped_at = len(neurosim.run_scenario(sc).history)
    sc["expect"] = [{"quantity": "epochs", "after": stopped_at, "value": stopped_at}]
    result = neurosim.run_scenario(sc)
    assert result.passed and result.checks[0][1] == stopped_at


def test_the_validation_set_is_scaled_with_the_training_sets_statistics():
    sc = {"scenario": {"name": "sine", "seed": 2},
          "network": {"layers": [{"name": "i", "size": 1}, {"name": "h", "size": 4, "from": ["i"], "activation": "tanh"},
                                 {"name": "o", "size": 1, "from": ["h"], "activation": "identity"}]},
          "data": {"dataset": "sine", "options": {"n": 40}, "validation_fraction": 0.25, "scale": "standard"},
          "training": {"mode": "batch", "epochs": 50, "learning_rate": 0.01, "momentum": 0.9,
                       "stop": {"early_stopping": {"patience": 10}}}}
    s = neurosim.load_scenario(sc).resolve()
    assert len(s.train) == 30 and len(s.validation) == 10
    # fitted on the 30 training patterns only, then applied to the 10 held out
    mean, std = s.raw_train.inputs.mean(axis=0), s.raw_train.inputs.std(axis=0)
    assert np.allclose(s.validation.inputs, (s.raw_validation.inputs - mean) / std, rtol=0, atol=1e-15)
    assert not np.allclose(s.validation.inputs.mean(), 0.0, atol=1e-3)      # not refitted on itself
    result = neurosim.run_scenario(sc)
    assert len(result.history) <= 50
