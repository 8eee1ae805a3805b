"""The plain-Python benchmark references (benchmarks/ref_python.py) compute what neurosim does.

backends.py compares the python backend's time with these hand-written loops, which is
only meaningful if they train the same network the same way: W1 after one step must give
the worked example's weights and error, and W1 and W2 must follow numpy's weights and
learning curve to 1e-12. The benchmark's own gate must refuse a reference that does not.
W4's products-only floor (run.py) must make exactly the compiled plan's matrix products.
No timings are asserted.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import backends  # noqa: E402
import ref_python  # noqa: E402
from workloads import build_w1, build_w2  # noqa: E402

#: The worked example after one step (scenarios/mazur.toml: its printed values).
MAZUR_STEP = {("h1", "o1"): 0.35891648, ("h2", "o1"): 0.408666186, ("h1", "o2"): 0.511301270,
              ("h2", "o2"): 0.561370121, ("i1", "h1"): 0.149780716, ("i2", "h1"): 0.19956143,
              ("i1", "h2"): 0.24975114, ("i2", "h2"): 0.29950229}


def _numpy_run(case, epochs):
    net = copy.deepcopy(case.net)
    history = net.train(case.X, case.T, **dict(case.train, epochs=epochs))
    return net.weights(), np.asarray(history)


def _assert_agree(weights, history, ref_weights, ref_history):
    assert weights.keys() == ref_weights.keys()
    for k, v in ref_weights.items():
        assert abs(weights[k] - v) <= 1e-12 * max(1.0, abs(v)), k
    assert len(history) == len(ref_history)
    np.testing.assert_allclose(history, ref_history, rtol=1e-12, atol=0)


def test_w1_one_step_is_the_worked_example():
    case = build_w1()
    start = case.net.weights()
    weights, history = ref_python.train_w1(start, [0.05, 0.10], [0.01, 0.99], learning_rate=0.5, epochs=1)
    assert weights["h1", "o1"] == pytest.approx(0.35891647971788465, abs=1e-16)
    for edge, value in MAZUR_STEP.items():
        assert abs(weights[edge] - value) <= 5e-9, edge
    for bias in (("b1", "h1"), ("b1", "h2"), ("b2", "o1"), ("b2", "o2")):     # frozen
        assert weights[bias] == start[bias]
    assert history == [pytest.approx(0.2910277737, abs=5e-11)]               # the error after the step
    assert start["h1", "o1"] == 0.40                                         # the input is not changed
    ref_weights, ref_history = _numpy_run(case, 1)
    _assert_agree(weights, history, ref_weights, ref_history)


def test_w1_follows_numpy_for_200_steps():
    case = build_w1(smoke=True)
    weights, history = ref_python.train_w1(case.net.weights(), case.X[0], case.T[0], learning_rate=0.5, epochs=200)
    _assert_agree(weights, history, *_numpy_run(case, 200))
    assert history[-1] < history[0] < 0.2910277737                           # it learns


def test_w2_follows_numpy_for_20_epochs():
    case = build_w2()
    weights, history = ref_python.train_w2(case.net.weights(), case.X, case.T, learning_rate=0.5,
                                           momentum=0.9, epochs=20)
    _assert_agree(weights, history, *_numpy_run(case, 20))
    # momentum matters: without it the weights are elsewhere by far more than the gate allows
    plain, _ = ref_python.train_w2(case.net.weights(), case.X, case.T, learning_rate=0.5, momentum=0.0, epochs=20)
    assert max(abs(plain[k] - weights[k]) for k in weights) > 1e-3


def test_backends_benchmark_gates_the_references(monkeypatch, capsys):
    monkeypatch.setattr(backends, "available_backends", lambda: ["numpy", "python"])
    assert backends.main(["--only", "W1,W2", "--repeat", "1", "--smoke"]) == 0
    out = capsys.readouterr().out
    assert "python/plain" in out and "target (issue 12): W2 python backend <= 2x plain Python" in out
    assert "SMOKE:" in out and out.count("not judged (smoke)") == 2

    original = backends.PLAIN["W2"]

    def off(case, w):                        # a reference one epoch behind
        _, history = original(case, w)
        return ref_python.train_w2(w, case.X, case.T, learning_rate=0.5, momentum=0.9,
                                   epochs=case.train["epochs"] - 1)[0], history

    monkeypatch.setitem(backends.PLAIN, "W2", off)
    assert backends.main(["--only", "W2", "--repeat", "1", "--smoke"]) == 1
    assert "GATE FAILED: W2 plain Python differs from numpy" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_w4_floor_makes_the_plans_products_and_states_the_margin(monkeypatch, dtype):
    # the products-only row must make the products neurosim's own training makes, in the
    # same order, shapes, layouts and dtypes (forward, weight gradient, messages back to
    # computing sources, and the pass after the last step), and the line beside the table
    # must do the target's arithmetic right: room = 0.8 x torch - products
    import run
    from workloads import build_w4
    calls = []
    matmul = np.matmul

    def recording(a, b, out):
        calls.append(tuple((x.shape, x.strides, x.dtype.str) for x in (a, b, out)))
        return matmul(a, b, out=out)
    monkeypatch.setattr(np, "matmul", recording)         # before the plan binds its products
    case = build_w4(smoke=True, dtype=dtype)              # 32-16-8-4, batch 16
    case.net.train(case.X, case.T, **dict(case.train, epochs=2))
    engine = list(calls)
    calls.clear()
    run.products_impl(case).prepare(2)()
    assert calls == engine
    sizes = [c[0][0] + c[1][0][1:] for c in engine]   # (rows, inner, cols) of each product
    assert sizes[:8] == [(16, 33, 16), (8, 17, 16), (4, 9, 16),           # forward
                         (4, 16, 9), (8, 4, 16), (8, 16, 17), (16, 8, 16), (16, 16, 33)]   # backward
    assert len(engine) == 2 * 8 + 3 and {c[0][2] for c in engine} == {np.dtype(dtype).str}
    line = run.floor_line("W4-f32", 0.300, {"neurosim": 0.340, "torch": 0.400})
    assert "take 300.0 ms; neurosim spends 40.0 ms above them" in line
    assert "allows 320.0 ms, so 20.0 ms for everything else" in line and "less than nothing" not in line
    assert "allows 288.0 ms, 12.0 ms less than the products' own time" in run.floor_line(
        "W4-f64", 0.300, {"neurosim": 0.340, "torch": 0.360})
    assert "neurosim takes 10.0 ms less than them" in run.floor_line("W4-f64", 0.300, {"neurosim": 0.290, "torch": None})
