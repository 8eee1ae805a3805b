"""The worked example (Mazur's 2-2-2 network) and its derivations, number by number.

Every value the lecture notes print is checked against the engine to the last printed
digit (1e-9 for the nine-decimal values, 5e-9 for the few printed to eight), the gradients against the notes' closed-form chain rule to
1e-12, and the generalised delta rule and the cross-entropy simplification of the notes
against one training step. Printed values are the notes' own; the error after the step is
its exact float64 recomputation, 0.2910277737 (the blog post's 0.291027924 is a slip of
hand arithmetic; see docs/worked-example.md).
"""

import math

import numpy as np
import pytest

import neurosim

X = [0.05, 0.10]
T = [0.01, 0.99]
W = {("i1", "h1"): 0.15, ("i2", "h1"): 0.20, ("i1", "h2"): 0.25, ("i2", "h2"): 0.30,
     ("h1", "o1"): 0.40, ("h2", "o1"): 0.45, ("h1", "o2"): 0.50, ("h2", "o2"): 0.55}
B1, B2 = 0.35, 0.60


def mazur():
    net = neurosim.Network()
    net.add_input("i1")
    net.add_input("i2")
    net.add_bias("b1")
    net.add_bias("b2")
    net.add_neuron("h1", activation="sigmoid")
    net.add_neuron("h2", activation="sigmoid")
    net.add_neuron("o1", activation="sigmoid", output=True)
    net.add_neuron("o2", activation="sigmoid", output=True)
    for (s, d), w in W.items():
        net.connect(s, d, weight=w)
    for h in ("h1", "h2"):
        net.connect("b1", h, weight=B1, trainable=False)
    for o in ("o1", "o2"):
        net.connect("b2", o, weight=B2, trainable=False)
    return net


def close(actual, printed, tol=None):
    """|actual − printed| within ``tol``: by default 1e-9, or half a unit of the last
    printed digit where the notes print fewer than nine decimals (then 5e-9).

    1e-9 rather than 5e-10 for nine-decimal values because the notes' hand arithmetic
    carries rounded intermediates: dE_o2/dout_h1 is printed −0.019049119, exactly
    −0.0190491183 (7.4e-10 away).
    """
    if tol is None:
        text = repr(printed)
        decimals = len(text.split(".")[1]) if "." in text else 0
        tol = max(0.5 * 10.0 ** -decimals, 1e-9) * (1 + 1e-9)
    assert abs(actual - printed) <= tol, f"{actual!r} != {printed!r} (tolerance {tol:g})"


def test_forward_pass_matches_every_printed_value():
    net = mazur()
    Y = net.forward(X)
    close(net["h1"].net, 0.3775)
    close(net["h1"].out, 0.593269992)
    close(net["h2"].out, 0.596884378)
    close(net["o1"].net, 1.105905967)
    close(net["o1"].out, 0.75136507)
    close(net["o2"].out, 0.772928465)
    np.testing.assert_array_equal(Y, [net["o1"].out, net["o2"].out])
    E_o1 = 0.5 * (T[0] - Y[0]) ** 2
    E_o2 = 0.5 * (T[1] - Y[1]) ** 2
    close(E_o1, 0.274811083)
    close(E_o2, 0.023560026)
    close(net.error(X, T, loss="mse"), 0.298371109)
    close(net.error(X, T, loss="mse"), E_o1 + E_o2, 1e-15)


def test_backward_pass_w5_and_its_three_factors():
    net = mazur()
    E, grads = net.gradients(X, T, loss="mse")
    close(E, 0.298371109)
    o1, h1 = net["o1"], net["h1"]
    mse = net.registry.loss("mse")
    sigmoid = net.registry.activation("sigmoid")
    dE_dout = mse.gradient(np.array([[o1.out]]), np.array([[T[0]]]))[0, 0]
    dout_dnet = sigmoid.derivative(np.array(o1.net), np.array(o1.out))
    dnet_dw5 = h1.out
    close(dE_dout, 0.74136507)
    close(dout_dnet, 0.186815602)
    close(dnet_dw5, 0.593269992)
    close(o1.delta, 0.138498562)                 # dE/dnet_o1 = 0.74136507 * 0.186815602
    close(grads[("h1", "o1")], 0.082167041)
    assert grads[("h1", "o1")] == pytest.approx(dE_dout * dout_dnet * dnet_dw5, rel=1e-15)


def test_backward_pass_w1_and_its_factors():
    net = mazur()
    _, grads = net.gradients(X, T, loss="mse")
    o1, o2, h1 = net["o1"], net["o2"], net["h1"]
    dEo1_douth1 = o1.delta * W[("h1", "o1")]
    dEo2_douth1 = o2.delta * W[("h1", "o2")]
    close(dEo1_douth1, 0.055399425)
    close(dEo2_douth1, -0.019049119)
    dE_douth1 = dEo1_douth1 + dEo2_douth1
    close(dE_douth1, 0.036350306)
    douth1_dneth1 = h1.out * (1 - h1.out)
    close(douth1_dneth1, 0.241300709)
    close(h1.delta, dE_douth1 * douth1_dneth1, 1e-15)   # the engine's delta is exactly this product
    close(grads[("i1", "h1")], 0.000438568)
    assert grads[("i1", "h1")] == pytest.approx(dE_douth1 * douth1_dneth1 * X[0], rel=1e-14)


def test_one_step_gives_the_eight_printed_weights_and_the_exact_error():
    net = mazur()
    history = net.train([X], [T], loss="mse", learning_rate=0.5, epochs=1, mode="online")
    printed = {("h1", "o1"): 0.35891648, ("h2", "o1"): 0.408666186, ("h1", "o2"): 0.511301270,
               ("h2", "o2"): 0.561370121, ("i1", "h1"): 0.149780716, ("i2", "h1"): 0.19956143,
               ("i1", "h2"): 0.24975114, ("i2", "h2"): 0.29950229}
    for (s, d), value in printed.items():
        close(net.weight(s, d), value)
    # biases were frozen, as in the example
    assert net.weight("b1", "h1") == B1 and net.weight("b2", "o2") == B2
    close(history[0], 0.2910277737, 5e-11)
    assert history[0] == net.error(X, T)


def test_gradients_equal_the_closed_form_chain_rule_to_1e_12():
    """The notes' dE/dw for all eight weights, written out, against the engine."""
    net = mazur()
    _, grads = net.gradients(X, T)
    s = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    i1, i2 = X
    h1 = s(W["i1", "h1"] * i1 + W["i2", "h1"] * i2 + B1)
    h2 = s(W["i1", "h2"] * i1 + W["i2", "h2"] * i2 + B1)
    o = [s(W["h1", "o1"] * h1 + W["h2", "o1"] * h2 + B2), s(W["h1", "o2"] * h1 + W["h2", "o2"] * h2 + B2)]
    d = [-(T[k] - o[k]) * o[k] * (1 - o[k]) for k in range(2)]          # dE/dnet_o
    expected = {("h1", "o1"): d[0] * h1, ("h2", "o1"): d[0] * h2, ("h1", "o2"): d[1] * h1, ("h2", "o2"): d[1] * h2}
    for k, h, hv in ((0, "h1", h1), (1, "h2", h2)):
        dh = (d[0] * W[h, "o1"] + d[1] * W[h, "o2"]) * hv * (1 - hv)
        expected[("i1", h)] = dh * i1
        expected[("i2", h)] = dh * i2
    for edge, value in expected.items():
        assert abs(grads[edge] - value) <= 1e-12 * max(1.0, abs(value)), edge
    # frozen bias weights still report their gradient (delta(dst) * 1)
    assert grads[("b2", "o1")] == pytest.approx(d[0], abs=1e-15)


def delta_rule_221(loss):
    net = neurosim.Network()
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_bias("b")
    net.add_neuron("y1")
    net.add_neuron("y2")
    net.add_neuron("y", output=True)
    for (s, d), w in {("x1", "y1"): .15, ("x2", "y1"): .20, ("x1", "y2"): .25, ("x2", "y2"): .30,
                      ("y1", "y"): .40, ("y2", "y"): .45}.items():
        net.connect(s, d, weight=w)
    for d, w in (("y1", .35), ("y2", .35), ("y", .60)):
        net.connect("b", d, weight=w, trainable=False)
    return net


@pytest.mark.parametrize("t", [0.01, 0.99])
def test_generalised_delta_rule_for_output_and_inner_neurons(t):
    """δ_out = (t − y) y (1 − y); δ_inner = (Σ δ w) y (1 − y); w += α δ y_prev."""
    net, alpha, x = delta_rule_221("mse"), 0.5, (0.05, 0.10)
    net.forward(x)
    y, y1, y2 = net["y"].out, net["y1"].out, net["y2"].out
    w = {k: net.weight(*k) for k in (("y1", "y"), ("y2", "y"), ("x1", "y1"), ("x2", "y1"), ("x1", "y2"))}
    d2 = (t - y) * y * (1 - y)
    d1 = d2 * w["y1", "y"] * y1 * (1 - y1)
    d1b = d2 * w["y2", "y"] * y2 * (1 - y2)
    net.gradients(x, [t])
    # the engine's delta is dE/dnet, the notes' δ is -dE/dnet
    assert net["y"].delta == pytest.approx(-d2, rel=1e-14)
    assert net["y1"].delta == pytest.approx(-d1, rel=1e-14)
    net.train([x], [t], learning_rate=alpha, epochs=1)
    assert net.weight("y1", "y") == pytest.approx(w["y1", "y"] + alpha * d2 * y1, abs=1e-15)
    assert net.weight("y2", "y") == pytest.approx(w["y2", "y"] + alpha * d2 * y2, abs=1e-15)
    assert net.weight("x1", "y1") == pytest.approx(w["x1", "y1"] + alpha * d1 * x[0], abs=1e-15)
    assert net.weight("x2", "y1") == pytest.approx(w["x2", "y1"] + alpha * d1 * x[1], abs=1e-15)
    assert net.weight("x1", "y2") == pytest.approx(w["x1", "y2"] + alpha * d1b * x[0], abs=1e-15)


def test_cross_entropy_rule_of_the_notes():
    """With E = −(t log y + (1−t) log(1−y)): w1 += α (t − y) w5 y1 (1 − y1) x1, w5 += α (t − y) y1."""
    net, alpha, x, t = delta_rule_221("bce"), 0.5, (0.05, 0.10), 0.99
    net.forward(x)
    y, y1 = net["y"].out, net["y1"].out
    w5, w1 = net.weight("y1", "y"), net.weight("x1", "y1")
    E, _ = net.gradients(x, [t], loss="bce")
    assert E == pytest.approx(-(t * math.log(y) + (1 - t) * math.log(1 - y)), rel=1e-14)
    assert net["y"].delta == pytest.approx(y - t, rel=1e-15)        # the fused delta
    net.train([x], [t], loss="bce", learning_rate=alpha, epochs=1)
    assert net.weight("x1", "y1") == pytest.approx(w1 + alpha * (t - y) * w5 * y1 * (1 - y1) * x[0], abs=1e-15)
    assert net.weight("y1", "y") == pytest.approx(w5 + alpha * (t - y) * y1, abs=1e-15)


def test_bce_fused_delta_stays_finite_when_the_output_saturates():
    net = delta_rule_221("bce")
    net.set_weight("y1", "y", 400.0)          # net_y ≈ 240: sigmoid rounds to exactly 1.0
    E, grads = net.gradients((0.05, 0.10), [0.0], loss="bce")
    assert net["y"].out == 1.0
    assert math.isfinite(E) and E == pytest.approx(100.0)      # log clamped at -100, as PyTorch
    assert grads[("y1", "y")] == pytest.approx(net["y1"].out)  # delta = y − t = 1
