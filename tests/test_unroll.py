"""``neurosim.unroll``: a recurrent net unrolled in time into a layered net with tied weights.

The unrolled net's forward pass must equal the recurrent net iterated T times by hand
(plain numpy, every step's state from the previous one), for inputs at every step or at
the first only, delays of 1 and 2, feedback from the outputs and softmax outputs
normalised step by step; its gradients must equal central differences of E with respect
to each recurrent weight (all its copies moved together), for both reductions, and the
oracle's; its copies stay equal through training, of a single net and of an ensemble;
and every mistake in the description is refused, naming the unit or edge.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim.recurrent import step_name
from neurosim.reference import reference_pass

FD_STEP = 1e-6
FD_TOL = 1e-7


def _close(a, b, tol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) <= tol * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def elman(rng, n_in=2, n_hid=3, n_out=2, *, feedback=False, delay=1):
    """An Elman net x -> h -> o with h -> h of ``delay`` (and, with ``feedback``, o -> h of
    delay 1), every weight given; returns the graph and the weight matrices."""
    W = {"xh": rng.normal(0, 0.8, (n_hid, n_in)), "hh": rng.normal(0, 0.6, (n_hid, n_hid)),
         "bh": rng.normal(0, 0.5, n_hid), "ho": rng.normal(0, 0.9, (n_out, n_hid)),
         "bo": rng.normal(0, 0.5, n_out), "oh": rng.normal(0, 0.6, (n_hid, n_out))}
    G = nx.DiGraph()
    G.add_node("b", kind="bias")
    for i in range(n_in):
        G.add_node(f"x{i}", kind="input")
    for j in range(n_hid):
        G.add_node(f"h{j}", kind="neuron", activation="tanh")
    for k in range(n_out):
        G.add_node(f"o{k}", kind="neuron", activation="sigmoid", output=True)
    for j in range(n_hid):
        G.add_edge("b", f"h{j}", weight=W["bh"][j])
        for i in range(n_in):
            G.add_edge(f"x{i}", f"h{j}", weight=W["xh"][j, i])
        for m in range(n_hid):
            G.add_edge(f"h{m}", f"h{j}", weight=W["hh"][j, m], delay=delay)
        if feedback:
            for k in range(n_out):
                G.add_edge(f"o{k}", f"h{j}", weight=W["oh"][j, k], delay=1)
    for k in range(n_out):
        G.add_edge("b", f"o{k}", weight=W["bo"][k])
        for j in range(n_hid):
            G.add_edge(f"h{j}", f"o{k}", weight=W["ho"][k, j])
    return G, W


def iterate(W, xs, *, feedback=False, delay=1, first_only=False):
    """The recurrent net run step by step: ``xs`` is (steps, batch, n_in); returns the
    outputs (steps, batch, n_out)."""
    steps, batch = xs.shape[:2]
    n_hid, n_out = W["hh"].shape[0], W["ho"].shape[0]
    hs = [np.zeros((batch, n_hid))] * delay          # before step 0 every unit is 0
    o_prev = np.zeros((batch, n_out))
    outs = []
    for t in range(steps):
        x = xs[t] if not first_only or t == 0 else np.zeros_like(xs[t])
        net_h = x @ W["xh"].T + hs[-delay] @ W["hh"].T + W["bh"]
        if feedback:
            net_h = net_h + o_prev @ W["oh"].T
        h = np.tanh(net_h)
        o = sigmoid(h @ W["ho"].T + W["bo"])
        hs.append(h)
        o_prev = o
        outs.append(o)
    return np.array(outs)


@pytest.mark.parametrize("feedback, delay", [(False, 1), (True, 1), (False, 2)])
def test_forward_equals_iterating_the_recurrent_net(feedback, delay):
    rng = np.random.default_rng([1, delay, feedback])
    G, W = elman(rng, feedback=feedback, delay=delay)
    steps, batch = 5, 4
    xs = rng.uniform(-1, 1, (steps, batch, 2))
    net = neurosim.unroll(G, steps, outputs="every")
    assert [u.name for u in net.inputs] == [step_name(f"x{i}", t) for t in range(steps) for i in range(2)]
    assert [u.name for u in net.outputs] == [step_name(f"o{k}", t) for t in range(steps) for k in range(2)]
    X = xs.transpose(1, 0, 2).reshape(batch, -1)          # a pattern: step 0's inputs, step 1's, ...
    Y = net.forward(X).reshape(batch, steps, 2).transpose(1, 0, 2)
    expected = iterate(W, xs, feedback=feedback, delay=delay)
    np.testing.assert_allclose(Y, expected, rtol=1e-14, atol=1e-15)
    assert abs(expected[-1] - expected[0]).max() > 0.05        # the state matters
    # every recurrent weight is one set of copies; the h -> h copies start at step `delay`
    assert len(net.ties["h0 -> h1"].edges) == steps - delay
    assert net.ties["h0 -> h1"].edges[0] == ("h0@0", f"h1@{delay}")
    assert all(t.reduce == "sum" for t in net.ties.values())


def test_inputs_at_the_first_step_and_outputs_of_chosen_steps():
    rng = np.random.default_rng(2)
    G, W = elman(rng)
    steps, batch = 4, 3
    xs = rng.uniform(-1, 1, (steps, batch, 2))
    net = neurosim.unroll(G, steps, inputs="first", outputs=[1, -1])
    assert [u.name for u in net.inputs] == ["x0@0", "x1@0"]
    assert [u.name for u in net.outputs] == ["o0@1", "o1@1", "o0@3", "o1@3"]
    expected = iterate(W, xs, first_only=True)
    np.testing.assert_allclose(net.forward(xs[0]), np.concatenate([expected[1], expected[3]], axis=1), rtol=1e-14)
    assert "x0 -> h0" not in net.ties                     # the input edges have one copy each: not tied
    last = neurosim.unroll(G, steps)                       # default: the last step's outputs
    assert [u.name for u in last.outputs] == ["o0@3", "o1@3"]
    X = xs.transpose(1, 0, 2).reshape(batch, -1)
    np.testing.assert_allclose(last.forward(X), iterate(W, xs)[-1], rtol=1e-14)


def test_softmax_outputs_are_normalised_step_by_step():
    rng = np.random.default_rng(3)
    G, W = elman(rng, n_out=3)
    for k in range(3):
        G.nodes[f"o{k}"]["activation"] = "softmax"
    net = neurosim.unroll(G, 3, outputs="every")
    Y = net.forward(rng.uniform(-1, 1, (2, 6)))
    np.testing.assert_allclose(Y.reshape(2, 3, 3).sum(axis=2), 1.0, rtol=1e-14)
    assert net["o0@1"].group == "outputs@1"


def test_plain_graph_gets_inputs_outputs_and_a_bias_as_from_networkx():
    """y_t = sigmoid(w x_t + v y_{t-1} + c): a plain graph, so a bias unit is added."""
    G = nx.DiGraph()
    G.add_edge("x", "y", weight=0.7)
    G.add_edge("y", "y", weight=-1.2, delay=1)
    G.add_node("z")                                        # an isolated node: an input
    net = neurosim.unroll(G, 3, seed=0)
    assert [u.name for u in net.biases] == ["bias"]
    assert [u.name for u in net.inputs] == ["x@0", "z@0", "x@1", "z@1", "x@2", "z@2"]
    assert [u.name for u in net.outputs] == ["y@2"]
    c = net.weight("bias", "y@0")
    assert c == net.weight("bias", "y@2") and net.ties["bias -> y"].edges == (("bias", "y@0"), ("bias", "y@1"),
                                                                              ("bias", "y@2"))
    x = np.array([0.5, -1.0, 2.0])
    y = 0.0
    for t in range(3):
        y = sigmoid(0.7 * x[t] - 1.2 * y + c)
    assert float(net.forward([x[0], 0, x[1], 0, x[2], 0])[0]) == pytest.approx(y, rel=1e-15)


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_gradients_match_finite_differences_of_the_recurrent_weights(reduce):
    rng = np.random.default_rng(4)
    G, _ = elman(rng, feedback=True)
    net = neurosim.unroll(G, 4, outputs="every", reduce=reduce)
    X = rng.uniform(-1, 1, (3, 8))
    T = rng.uniform(0.1, 0.9, (3, 8))
    E, grads = net.gradients(X, T)
    Er, gr, _, _ = reference_pass(net, X, T, "mse")
    assert _close(E, Er, 1e-12) and all(_close(grads[k], gr[k], 1e-12) for k in gr)
    assert set(net.ties) == {f"{u} -> {v}" for u, v in G.edges}
    for name, tie in net.ties.items():
        s, d = tie.edges[0]
        w = net.weight(s, d)
        net.set_weight(s, d, w + FD_STEP)
        ep = net.error(X, T)
        net.set_weight(s, d, w - FD_STEP)
        em = net.error(X, T)
        net.set_weight(s, d, w)
        fd = (ep - em) / ((w + FD_STEP) - (w - FD_STEP))
        size = len(tie.edges) if reduce == "mean" else 1
        assert _close(grads[(s, d)] * size, fd, FD_TOL), (name, grads[(s, d)], fd)
    assert max(abs(g) for g in grads.values()) > 1e-2


def test_drawn_weights_are_one_per_recurrent_weight_and_stay_equal():
    G, _ = elman(np.random.default_rng(5))
    for *_, data in G.edges(data=True):
        del data["weight"]
    net = neurosim.unroll(G, 4, outputs="every", seed=3)
    rng = np.random.default_rng(6)
    X, T = rng.uniform(-1, 1, (6, 8)), rng.uniform(0.1, 0.9, (6, 8))
    start = net.weights()
    net.train(X, T, learning_rate=0.2, momentum=0.9, epochs=100, mode="batch")
    result = net.train(X, T, learning_rate=0.2, momentum=0.9, epochs=50, ensemble=3)
    for weights in (start, net.weights(), *(result.weights(k) for k in range(3))):
        for tie in net.ties.values():
            assert len({weights[e] for e in tie.edges}) == 1, tie
    assert len({result.weights(k)[("h0@0", "h1@1")] for k in range(3)}) == 3


def test_refusals(refused):
    G, _ = elman(np.random.default_rng(7))
    TE = neurosim.TopologyError
    refused(TE, ["steps", "whole number >= 1"], neurosim.unroll, G, 0)
    refused(TE, ["steps"], neurosim.unroll, G, 2.0)
    refused(TE, ["inputs must be 'every'", "'all'"], neurosim.unroll, G, 3, inputs="all")
    refused(TE, ["outputs must be 'last', 'every'", "0 to 2"], neurosim.unroll, G, 3, outputs=[3])
    refused(TE, ["outputs lists a step twice"], neurosim.unroll, G, 3, outputs=[2, -1])
    refused(TE, ["outputs must be"], neurosim.unroll, G, 3, outputs="first")
    refused(TE, ["reduce must be 'sum'"], neurosim.unroll, G, 3, reduce="max")
    refused(TE, ["networkx.DiGraph"], neurosim.unroll, G.to_undirected(), 3)
    bad = G.copy()
    bad.edges["h0", "h1"]["delay"] = bad.edges["h1", "h0"]["delay"] = 0
    err = refused(neurosim.CycleError, ["h0 -> h1 -> h0", "cycle within one step", "delay=1"], neurosim.unroll, bad,
                  3)
    assert err.cycle[0] == err.cycle[-1]
    bad = G.copy()
    bad.add_edge("o0", "o0")
    refused(neurosim.CycleError, ["o0 -> o0", "give one of them a delay"], neurosim.unroll, bad, 3)
    bad = G.copy()
    bad.edges["h0", "h1"]["delay"] = -1
    refused(TE, ["'h0' -> 'h1'", "delay must be a whole number"], neurosim.unroll, bad, 3)
    bad = G.copy()
    bad.add_edge("h0", "x0", delay=1)
    refused(TE, ["'h0' -> 'x0'", "an input unit"], neurosim.unroll, bad, 3)
    bad = G.copy()
    bad.nodes["h0"]["kind"] = "hidden"
    refused(TE, ["unit 'h0'", "'kind' attribute"], neurosim.unroll, bad, 3)
    bad = G.copy()
    bad.nodes["h0"]["activation"] = "sigmod"
    refused(neurosim.PluginError, ["unit 'h0'", "sigmoid"], neurosim.unroll, bad, 3)
    bad = G.copy()
    bad.nodes["o0"]["output"] = "yes"
    refused(TE, ["unit 'o0'", "'output' attribute"], neurosim.unroll, bad, 3)
    refused(neurosim.ResourceError, ["unrolled for 1000000000000 steps"], neurosim.unroll, G, 10**12)


# --- from a scenario ------------------------------------------------------------------------


def _recurrent_scenario(**recurrent):
    """A hand-wired Elman net of one input, two tanh hidden units and one identity output,
    every weight given, unrolled by [network.recurrent]."""
    return {
        "scenario": {"name": "rnn", "seed": 1},
        "network": {
            "bias": "explicit",
            "neurons": [{"name": "x", "kind": "input"}, {"name": "b", "kind": "bias"},
                        {"name": "h1", "activation": "tanh"}, {"name": "h2", "activation": "tanh"},
                        {"name": "y", "activation": "identity", "output": True}],
            "connections": {"x -> h1": 0.9, "x -> h2": -0.4, "b -> h1": 0.1, "b -> h2": 0.3, "h1 -> y": 1.2,
                            "h2 -> y": -0.7},
            "recurrent": {"steps": 3, "outputs": "every",
                          "connections": {"h1 -> h1": 0.5, "h2 -> h1": -0.6, "h1 -> h2": 0.8,
                                          "y -> h2": {"weight": 0.25, "delay": 2}},
                          **recurrent},
        },
        "data": {"inputs": [[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]], "targets": [[0.1, 0.2, 0.3], [0.0, 0.5, 1.0]]},
        "training": {"learning_rate": 0.05, "epochs": 3, "mode": "batch"},
        "expect": [{"quantity": "error", "below": 100.0}],
    }


def _by_hand(x):
    """The net of :func:`_recurrent_scenario` iterated step by step."""
    h1 = h2 = 0.0
    ys = [0.0, 0.0]                                        # y before step 0
    for t in range(3):
        n1 = 0.9 * x[t] + 0.1 + 0.5 * h1 - 0.6 * h2
        n2 = -0.4 * x[t] + 0.3 + 0.8 * h1 + 0.25 * ys[-2]
        h1, h2 = np.tanh(n1), np.tanh(n2)
        ys.append(1.2 * h1 - 0.7 * h2)
    return ys[2:]


def test_scenario_unrolls_the_recurrent_table():
    sc = neurosim.load_scenario(_recurrent_scenario())
    net = sc.check()
    assert [u.name for u in net.inputs] == ["x@0", "x@1", "x@2"]
    assert [u.name for u in net.outputs] == ["y@0", "y@1", "y@2"]
    X = np.array(sc.data["data"]["inputs"])
    np.testing.assert_allclose(net.forward(X), [_by_hand(x) for x in X], rtol=1e-14)
    assert "y -> h2" not in net.ties and net.weight("y@0", "h2@2") == 0.25        # one copy (delay 2): not tied
    assert len(net.ties["h2 -> h1"].edges) == 2 and len(net.ties["x -> h1"].edges) == 3
    result = neurosim.run_scenario(sc)
    w = result.network.weights()
    assert w[("h2@0", "h1@1")] == w[("h2@1", "h1@2")] != -0.6                  # trained, still one weight
    mapping = _recurrent_scenario(reduce="mean", inputs="first", outputs=[-1])
    mapping["data"] = {"inputs": [[0.5], [1.0]], "targets": [0.3, 1.0]}
    first = neurosim.load_scenario(mapping).check()
    assert [u.name for u in first.inputs] == ["x@0"] and [u.name for u in first.outputs] == ["y@2"]
    np.testing.assert_allclose(first.forward([[0.5], [1.0]])[:, 0], [_by_hand([x, 0, 0])[-1] for x in (0.5, 1.0)],
                               rtol=1e-14)
    assert {t.reduce for t in first.ties.values()} == {"mean"}


def test_scenario_layers_from_previous_and_ensembles():
    """from_previous wires a layer to the previous step; weights left to the initialiser are
    drawn once per set, and again for every ensemble member."""
    mapping = {
        "scenario": {"seed": 0},
        "network": {"layers": [{"name": "x", "size": 1}, {"name": "h", "size": 2, "from": ["x"],
                                                          "from_previous": ["h", "o"]},
                               {"name": "o", "size": 1, "from": ["h"]}],
                    "recurrent": {"steps": 4, "outputs": [2, 3]}},
        "data": {"inputs": [[0, 1, 1, 0], [1, 0, 1, 1]], "targets": [[0, 1], [1, 0]]},
        "training": {"learning_rate": 0.5, "epochs": 5, "mode": "batch", "ensemble": 3},
        "expect": [{"quantity": "error", "stat": "max", "below": 100.0}],
    }
    result = neurosim.run_scenario(mapping)
    net = neurosim.load_scenario(mapping).check()
    assert {"h1 -> h2", "o1 -> h1", "bias -> o1", "x1 -> h2"} <= set(net.ties)
    assert len(net.ties["o1 -> h2"].edges) == 3
    members = [result.ensemble.weights(k) for k in range(3)]
    for w in members:
        for tie in net.ties.values():
            assert len({w[e] for e in tie.edges}) == 1
    assert len({w[("h1@0", "h2@1")] for w in members}) == 3        # every member its own draw


def test_scenario_refusals(refused):
    SE = neurosim.ScenarioError

    def mutated(change):
        mapping = _recurrent_scenario()
        change(mapping["network"])
        return mapping

    for change, fragments in [
        (lambda n: n["recurrent"].update(steps=0), ["network.recurrent.steps", ">= 1"]),
        (lambda n: n["recurrent"].update(outputs=[3]), ["network.recurrent.outputs", "0 to 2"]),
        (lambda n: n["recurrent"].update(inputs="all"), ["network.recurrent.inputs", "every, first"]),
        (lambda n: n["recurrent"].update(reduce="avg"), ["network.recurrent.reduce", "mean, sum"]),
        (lambda n: n["recurrent"].update(step=3), ["network.recurrent.step", "did you mean 'steps'"]),
        (lambda n: n["recurrent"]["connections"].update({"h1 -> x": 1.0}), ["'h1 -> x'", "'x' is an input unit"]),
        (lambda n: n["recurrent"]["connections"].update({"h1 -> zz": 1.0}), ["'h1 -> zz'", "no neuron named 'zz'"]),
        (lambda n: n["recurrent"]["connections"].update({"x -> h1": 1.0}), ["'x -> h1'", "connected already"]),
        (lambda n: n["recurrent"]["connections"].update({"h2 -> y": {"delay": 0}}), ["delay", ">= 1"]),
        (lambda n: n["connections"].update({"y -> h1": 1.0}), ["network.connections", "cycle"]),
        (lambda n: n["recurrent"].update(steps=10**9), ["network.recurrent", "unroll for fewer steps"]),
        (lambda n: n.update(tied=[{"edges": ["x -> h1", "x -> h2"]}]), ["network.tied[0]", "recurrent"]),
        (lambda n: n.update(layers=[{"name": "q", "size": 1, "from_previous": ["q"]}]),
         ["network.layers[0].from_previous", "input units"]),
    ]:
        refused(SE, ["<mapping>: ", *fragments], lambda m: neurosim.load_scenario(m).check(), mutated(change))
    plain = _recurrent_scenario()
    del plain["network"]["recurrent"]
    plain["network"]["layers"] = [{"name": "x", "size": 1}, {"name": "h", "size": 1, "from": ["x"],
                                                             "from_previous": ["h"]}]
    refused(SE, ["network.layers[1].from_previous", "[network.recurrent]"], lambda m: neurosim.load_scenario(m).check(),
            plain)
