"""Linear hidden units make the hidden layer ineffective (the lecture notes' warning), checked on
``scenarios/xor_linear.toml``: a 2-2-1 net whose hidden units are identities is, after
training, exactly one logistic unit of its two inputs, because o.net = Σ_h w_ho (Σ_i w_ih x_i
+ w_bh) + w_bo = Σ_i (Σ_h w_ho w_ih) x_i + (Σ_h w_ho w_bh + w_bo); the composed single-layer
net reproduces the trained net's outputs on random inputs to 1e-12. And no single linear
threshold unit gets more than 3 of the 4 XOR patterns right (net(0,1) + net(1,0) =
net(0,0) + net(1,1) for every weight setting), so no amount of training lets that net solve
XOR.
"""

from pathlib import Path

import numpy as np

import neurosim

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "xor_linear.toml"
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([0.0, 1.0, 1.0, 0.0])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def compose(net):
    """The single-layer equivalent ``(w, b)`` of a net of identity hidden units: o.net = w·x + b."""
    inputs = [u.name for u in net.inputs]
    (out,) = [u.name for u in net.outputs]
    hidden = [u.name for u in net.neurons if not u.output]
    w = np.zeros(len(inputs))
    b = net.weight("bias", out)
    for h in hidden:
        w_ho = net.weight(h, out)
        w += w_ho * np.array([net.weight(i, h) for i in inputs])
        b += w_ho * net.weight("bias", h)
    return w, b


def threshold_accuracy(w, b, X=XOR_X, T=XOR_T):
    """Share of XOR patterns a unit "on when w·x + b > 0" gets right, for many units at once."""
    on = np.tensordot(np.atleast_2d(w), X.T, axes=1) + np.atleast_1d(b)[:, None] > 0
    return np.mean(on == (T > 0.5), axis=-1)


def test_trained_linear_hidden_net_is_one_logistic_unit():
    # 300 epochs keep the test fast; the identity holds for any weights, trained or not.
    result = neurosim.run_scenario(SCENARIO, {"training.epochs": 300})
    net = result.network
    hidden = [u for u in net.neurons if not u.output]
    assert len(hidden) == 2 and all(u.activation == "identity" for u in hidden)
    assert {(s, d) for s, d in net.weights()} >= {("h1", "o1"), ("i1", "h1"), ("bias", "h2")}
    assert net.weights() != result.initial_weights, "training must have moved the weights"

    w, b = compose(net)
    X = np.random.default_rng(20240607).uniform(-5.0, 5.0, size=(1000, 2))
    np.testing.assert_allclose(net.forward(X)[:, 0], sigmoid(X @ w + b), rtol=0, atol=1e-12)
    np.testing.assert_allclose(net["o1"].net, X @ w + b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.forward(XOR_X)[:, 0], sigmoid(XOR_X @ w + b), rtol=0, atol=1e-12)

    # the trained net classifies XOR exactly as its one-unit equivalent does: no better than 3 of 4
    net_right = np.mean((net.forward(XOR_X)[:, 0] > 0.5) == (XOR_T > 0.5))
    assert net_right == threshold_accuracy(w, b)[0] <= 0.75


def test_no_linear_threshold_unit_solves_xor():
    rng = np.random.default_rng(7)
    # many random units, plus every unit of a small integer grid (which realises all 14
    # threshold functions of two binary inputs) and ties at the threshold
    W = rng.normal(0.0, 3.0, size=(50_000, 2))
    B = rng.normal(0.0, 3.0, size=50_000)
    g = np.arange(-3, 4, dtype=float)
    gw1, gw2, gb = np.meshgrid(g, g, np.arange(-3.5, 4.0, 0.5), indexing="ij")
    W = np.vstack([W, np.c_[gw1.ravel(), gw2.ravel()]])
    B = np.concatenate([B, gb.ravel()])
    acc = threshold_accuracy(W, B)
    assert acc.max() == 0.75
    on = (np.tensordot(W, XOR_X.T, axes=1) + B[:, None] > 0)
    realised = {tuple(row) for row in on.astype(int)}
    assert len(realised) == 14 and (0, 1, 1, 0) not in realised and (1, 0, 0, 1) not in realised

    # why: the two XOR-on patterns' nets sum to the two XOR-off patterns' nets, for every unit,
    # so both "on" nets > 0 and both "off" nets <= 0 cannot hold at once
    nets = np.tensordot(W, XOR_X.T, axes=1) + B[:, None]
    np.testing.assert_allclose(nets[:, 1] + nets[:, 2], nets[:, 0] + nets[:, 3], rtol=1e-12, atol=1e-9)
