"""The generated-code backends (neurosim.codegen): the same training as the numpy engine.

Every random network of the engine's own suite (tests/conftest.py), with its softmax
neurons made sigmoid so that generated code applies, is trained on numpy and on the
``python`` backend from the same weights, online with momentum and in batch mode with
weight decay and L2; weights and learning curves must agree to 1e-12. Softmax groups,
plugins without a scalar form, ensembles, minibatches and other optimisers fall back to
numpy and say why; overflow falls back too, and numpy reports it as always.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace

import numpy as np
import pytest

import neurosim
from neurosim import Activation, PluginError, ScalarActivation, codegen

SEEDS = range(40)
TOL = 1e-12


def _without_softmax(spec):
    """The spec with every softmax neuron made a sigmoid outside any group."""
    neurons = tuple((n, "sigmoid" if a == "softmax" else a, o, None if a == "softmax" else g)
                    for n, a, o, g in spec.neurons)
    return replace(spec, neurons=neurons)


def _pair(case, spec_network, backend="python", tie=False):
    spec = _without_softmax(case.spec)
    nets = [spec_network(spec, backend=b) for b in ("numpy", backend)]
    if tie:
        edges = [(s, d) for s, d, _, tr in spec.edges if tr and not s.startswith("b")][:3]
        for net in nets:
            net.tie(edges[:2], reduce="mean" if case.seed % 2 else "sum")
    return nets


def _agree(a, b, what):
    wa, wb = a.weights(), b.weights()
    worst = max(abs(wa[k] - wb[k]) / max(1.0, abs(wa[k])) for k in wa)
    assert worst <= TOL, f"{what}: weights differ by {worst:.3g}"


@pytest.mark.parametrize("seed", SEEDS)
def test_python_backend_agrees_with_numpy_on_random_dags(seed, random_case_factory, spec_network):
    case = random_case_factory(seed)
    for mode, options in (("online", dict(learning_rate=0.01, momentum=0.5)),
                          ("batch", dict(learning_rate=0.005, momentum=0.5, weight_decay=1e-3))):
        a, b = _pair(case, spec_network, tie=seed % 3 == 0)
        frozen = {k: w for k, w in a.weights().items() if not a.trainable(*k)}
        runs = [neurosim.training.TrainingRun(net, case.X, case.T, case.loss, epochs=4, mode=mode, **options).run()
                for net in (a, b)]
        assert runs[0].trainer.backend == "numpy" and runs[1].trainer.backend == "python", runs[1].trainer.backend_note
        ha, hb = (r.result() for r in runs)
        assert len(hb) == 4
        np.testing.assert_allclose(hb, ha, rtol=TOL, atol=0)
        _agree(a, b, f"seed {seed} {mode}")
        assert {k: b.weights()[k] for k in frozen} == frozen          # frozen weights never move
        for tie in b.ties.values():                                  # a tied set stays one weight
            assert len({b.weight(*e) for e in tie.edges}) == 1
        assert b["o0"].out == pytest.approx(a["o0"].out, rel=1e-12)  # the neurons show the last pass


def test_l2_nesterov_and_shuffled_online_agree(random_case_factory, spec_network):
    case = random_case_factory(3)
    a, b = _pair(case, spec_network)
    for net in (a, b):
        net.train(case.X, case.T, case.loss, epochs=5, shuffle=7,
                  optimizer=neurosim.training.SGD(0.05, momentum=0.8, l2=0.01, nesterov=True))
    _agree(a, b, "nesterov + l2 + shuffle")


def test_worked_example_step_is_exact():
    """Mazur's one step: the lecture notes' w5 and w1, on generated code."""
    scenario = neurosim.load_scenario(__import__("pathlib").Path(__file__).parents[1] / "scenarios" / "mazur.toml")
    histories = []
    for backend in ("numpy", "python"):
        net = scenario.check()
        net.backend = backend
        histories.append(net.train(scenario.train.inputs, scenario.train.targets, learning_rate=0.5, epochs=1))
        assert f"{net.weight('h1', 'o1'):.8f}" == "0.35891648"
        assert f"{net.weight('i1', 'h1'):.9f}" == "0.149780716"
    assert histories[1][0] == pytest.approx(histories[0][0], rel=1e-15)
    assert histories[1][0] == pytest.approx(0.291027924, abs=2e-7)       # the notes round as they go


def test_each_backend_is_deterministic(random_case_factory, spec_network):
    case = random_case_factory(1)
    runs = []
    for _ in range(2):
        net = spec_network(_without_softmax(case.spec), backend="python")
        h = net.train(case.X, case.T, case.loss, epochs=20, momentum=0.9, learning_rate=0.1)
        runs.append((h.tobytes(), net.compile().theta.tobytes()))
    assert runs[0] == runs[1]


def test_long_runs_record_every_epoch():
    """Thousands of epochs run a few thousand a call; the curve grows past its first 1,024 rows."""
    curves = []
    for backend in ("numpy", "python"):
        net = neurosim.Network(backend=backend)
        net.add_input("x")
        net.add_neuron("y", "tanh", output=True)
        net.connect("x", "y", weight=0.1)
        curves.append(net.train([[1.0]], [[0.5]], learning_rate=1e-4, epochs=9000))
    assert len(curves[1]) == 9000 and np.isfinite(curves[1]).all() and curves[1][-1] < curves[1][0]
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-12)


def test_stop_criteria_and_callbacks_see_the_same_run(xor_net):
    X, T = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    seen = {}
    for backend in ("numpy", "python"):
        net = xor_net(backend=backend)
        outputs = []
        h = net.train(X, T, learning_rate=2.0, momentum=0.9, epochs=3000, stop={"error_below": 0.05},
                      callbacks=[lambda p: outputs.append(p.outputs()[:, 0].copy())])
        seen[backend] = (h, np.array(outputs))
    (ha, oa), (hb, ob) = seen["numpy"], seen["python"]
    assert len(ha) == len(hb) < 3000 and hb[-1] < 0.05 <= hb[-2]
    np.testing.assert_allclose(hb, ha, rtol=1e-9)
    np.testing.assert_allclose(ob, oa, rtol=1e-9)


def test_falls_back_to_numpy_and_says_why(random_case_factory, spec_network, xor_net):
    case = random_case_factory(0)                          # mse with a softmax output group
    net = spec_network(case.spec, backend="python")
    run = neurosim.training.TrainingRun(net, case.X, case.T, case.loss, epochs=1)
    assert run.trainer.backend == "numpy" and "'softmax' has no scalar form" in run.trainer.backend_note
    X, T = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    for options, why in ((dict(mode="minibatch", batch_size=2), "mode 'minibatch'"),
                         (dict(mode="batch", optimizer="rprop"), "the rprop optimiser"),):
        run = neurosim.training.TrainingRun(xor_net(backend="python"), X, T, epochs=1, **options)
        assert run.trainer.backend == "numpy" and why in run.trainer.backend_note
    run = neurosim.training.TrainingRun(xor_net(backend="python", dtype=np.float32), X, T, epochs=1)
    assert "float32" in run.trainer.backend_note
    result = xor_net(backend="python").train(X, T, epochs=2, ensemble=3)     # ensembles: numpy, as always
    assert len(result.final_error) == 3


def test_auto_takes_python_for_small_nets_only(xor_net):
    X, T = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    run = neurosim.training.TrainingRun(xor_net(backend="auto"), X, T, epochs=1)
    assert (run.trainer.backend, run.trainer.backend_note) == ("python", None)
    big = neurosim.Network(seed=0, backend="auto")
    big.add_layer("i", 12, kind="input")
    big.add_layer("h", 12, connect_from=[big.inputs])
    big.add_layer("o", 2, output=True, connect_from=[big.neurons])
    run = neurosim.training.TrainingRun(big, np.zeros((3, 12)), np.zeros((3, 2)), epochs=1)
    assert run.trainer.backend == "numpy" and "above" in run.trainer.backend_note
    assert "backend='auto'" in repr(big)


def test_overflow_falls_back_and_numpy_reports_it():
    errors = []
    for backend in ("numpy", "python"):
        net = neurosim.Network(backend=backend)
        net.add_input("x")
        net.add_neuron("y", "identity", output=True)
        net.connect("x", "y", weight=0.5)              # w <- w - 10 * 100 * (w - 0.1): grows 999-fold a step
        with pytest.raises(neurosim.NumericalError) as info:
            net.train([[10.0]], [[1.0]], learning_rate=10.0, epochs=500)
        errors.append(str(info.value))
    assert "after epoch" in errors[0] and errors[1] == errors[0]


def test_plugin_without_scalar_form_trains_on_numpy_and_a_wrong_one_is_refused():
    class Plugin:
        def __init__(self, activation):
            self.activation = activation

        @neurosim.hookimpl
        def neurosim_register_activations(self, register):
            register(self.activation)

    softsign = Activation("softsign", lambda x: x / (1.0 + np.abs(x)), derivative=lambda x, y: 1.0 / (1.0 + np.abs(x)) ** 2)
    reg = neurosim.make_registry([Plugin(softsign)])
    net = neurosim.Network(registry=reg, backend="python", seed=0)
    net.add_input("x")
    net.add_neuron("y", "softsign", output=True)
    net.connect("x", "y")
    run = neurosim.training.TrainingRun(net, [[1.0]], [[0.5]], epochs=1)
    assert "'softsign' has no scalar form" in run.trainer.backend_note
    good = replace(softsign, scalar=ScalarActivation("{x}/(1.0+abs({x}))", "1.0/((1.0+abs({x}))*(1.0+abs({x})))"))
    neurosim.make_registry([Plugin(good)])                 # checked against numpy and accepted
    for bad, said in (("{x}/(2.0+abs({x}))", "gives"), ("{z}", "placeholder"), ("{x} +", "not a Python expression")):
        with pytest.raises(PluginError, match=said):
            neurosim.make_registry([Plugin(replace(softsign, scalar=ScalarActivation(bad, "1.0")))])


def test_unknown_backend_and_missing_numba(monkeypatch, refused):
    refused(neurosim.DataError, ["backend must be one of numpy, auto, python, numba", "'torch'"],
            neurosim.Network, backend="torch")
    monkeypatch.setitem(sys.modules, "numba", None)
    refused(neurosim.MissingExtraError, ["pip install 'neurosim[fast]'"], neurosim.Network, backend="numba")


def test_generated_source_is_straight_line_and_cached(xor_net):
    net = xor_net(backend="python")
    X, T = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    net.train(X, T, epochs=2, momentum=0.9)
    plan = net.compile()
    (kernel,) = plan._kernels.values()
    assert "for x0, x1, t0, in rows:" in kernel.source and "v" in kernel.source and "h1" not in kernel.source
    # four sigmoids, written out four times: the step of one-pattern epochs, the step of
    # several, the end-of-epoch measure, the final measure; clamped by a conditional
    # expression, no call of max()
    assert kernel.source.count("exp(-") == 4 * 4 and "max(" not in kernel.source
    net.train(X, T, epochs=2, momentum=0.9)
    assert list(plan._kernels.values()) == [kernel]        # the same topology reuses its kernel


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed (pip install 'neurosim[fast]')")
@pytest.mark.parametrize("seed", [2, 4])
def test_numba_backend_agrees_with_numpy(seed, random_case_factory, spec_network):
    case = random_case_factory(seed)
    a, b = _pair(case, spec_network, backend="numba")
    ha = a.train(case.X, case.T, case.loss, epochs=3, momentum=0.9, learning_rate=0.05)
    hb = b.train(case.X, case.T, case.loss, epochs=3, momentum=0.9, learning_rate=0.05)
    np.testing.assert_allclose(hb, ha, rtol=TOL, atol=0)
    _agree(a, b, f"numba seed {seed}")


def test_the_backend_is_chosen_on_the_command_line_and_reported(tmp_path, capsys):
    from pathlib import Path

    from neurosim.cli import main

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "py"
    assert main(["run", str(root / "scenarios" / "mazur.toml"), "--backend", "python", "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "w5" in report and "0.35891648" in report and "13 of 13 expectations met" in report
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["backend"] == "python"
    assert main(["run", str(root / "scenarios" / "mazur.toml"), "--out", str(tmp_path / "np"), "-q"]) == 0
    assert json.loads((tmp_path / "np" / "summary.json").read_text())["metrics"]["backend"] == "numpy"
    with pytest.raises(SystemExit) as exit_:                # argparse's usage error
        main(["run", str(root / "scenarios" / "mazur.toml"), "--backend", "fortran"])
    assert exit_.value.code == 2 and "invalid choice: 'fortran'" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=pytest.mark.skipif(
    importlib.util.find_spec("numba") is None, reason="numba not installed: pip install 'neurosim[fast]'"))])
def test_a_second_training_on_new_or_changed_data_uses_that_data(backend):
    def xor_net(backend):
        net = neurosim.Network(seed=0, backend=backend)
        net.add_layer("i", 2, kind="input")
        b = net.add_bias()
        h = net.add_layer("h", 2, "sigmoid", connect_from=[net.inputs], bias=b)
        net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h], bias=b)
        return net
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    T = np.array([[0], [1], [1], [0]], dtype=float)
    fast, slow = xor_net(backend), xor_net("numpy")
    for net in (fast, slow):
        net.train(X, T, learning_rate=0.5, epochs=50)
        net.train(X, 1 - T, learning_rate=0.5, epochs=50)          # new targets, the same inputs object
    Xc = X.copy()
    for net in (fast, slow):
        net.train(Xc, T, learning_rate=0.5, epochs=20)
    Xc[0] = [0.5, 0.5]                                              # changed in place between two runs
    for net in (fast, slow):
        net.train(Xc, T, learning_rate=0.5, epochs=20)
    a, b = fast.weights(), slow.weights()
    assert max(abs(a[k] - b[k]) for k in a) < 1e-12
