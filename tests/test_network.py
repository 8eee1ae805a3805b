"""The object model stays in step with the compiled plan: edits, removals, views and state.

Regression tests for the review of the core: removing an edge after a pass, a delta that
must never describe a different pass than ``out``, momentum that must not move a weight
frozen between calls, the read-only graph view, and the round trip through the versioned
network format.
"""

import networkx as nx
import numpy as np
import pytest

import neurosim


def small(seed=0):
    net = neurosim.Network(seed=seed)
    net.add_layer("x", 2, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 2, "tanh", connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h, net.inputs], bias=b)
    return net


X = np.array([[0.1, 0.9], [0.7, -0.3], [0.5, 0.5]])
T = np.array([[1.0], [0.0], [1.0]])


def test_disconnect_after_a_pass_recompiles_without_the_edge():
    net = small()
    before = net.forward(X)
    w = net.weight("x1", "o1")
    net.disconnect("x1", "o1")
    after = net.forward(X)
    assert not np.allclose(before, after)
    _, grads = net.gradients(X, T)
    assert ("x1", "o1") not in grads and len(grads) == net.n_weights
    net.connect("x1", "o1", weight=w)
    np.testing.assert_allclose(net.forward(X), before, rtol=0, atol=1e-15)


def test_delta_is_none_after_a_forward_only_pass():
    net = small()
    net.gradients(X, T)
    assert net["h1"].delta.shape == (3,)
    net.forward(X[:2])
    assert net["h1"].delta is None and net["h1"].out.shape == (2,)
    net.train(X, T, learning_rate=0.1, epochs=2, mode="online")
    assert net["o1"].delta is None          # the last pass measured the error at the final weights
    E, _ = net.gradients(X, T)
    assert net["o1"].delta.shape == (3,)


def test_weight_frozen_between_calls_keeps_no_momentum():
    net = small(1)
    opt = neurosim.SGD(0.5, momentum=0.9)
    net.train(X, T, epochs=3, mode="batch", optimizer=opt)
    net.set_trainable("h1", "o1", False)
    frozen = net.weight("h1", "o1")
    net.train(X, T, epochs=3, mode="batch", optimizer=opt)
    assert net.weight("h1", "o1") == frozen


def test_graph_is_a_read_only_live_view():
    net = small()
    G = net.graph
    assert isinstance(G, nx.DiGraph) and nx.is_directed_acyclic_graph(G)
    with pytest.raises(nx.NetworkXError):
        G.add_edge(net["o1"], net["h1"])
    net.set_weight("h1", "o1", 2.5)
    assert net.graph.edges[net["h1"], net["o1"]]["weight"] == 2.5
    assert [u.name for u in nx.topological_sort(net.graph)][:2] == ["x1", "x2"]


def test_group_must_name_a_group_activation():
    net = small()
    with pytest.raises(neurosim.TopologyError, match="elementwise"):
        net.add_neuron("s", "sigmoid", group="g")
    with pytest.raises(neurosim.TopologyError, match="string"):
        net.add_neuron("s", "softmax", group=1)


def test_network_round_trips_through_its_file_format():
    net = small(3)
    net.set_trainable("bias", "h1", False)
    data = net.to_dict()
    assert data["format"] == "neurosim-network" and data["version"] == 1
    assert data["plugins"]["activation"]["tanh"] == "neurosim.activations"
    copy = neurosim.Network.from_dict(data)
    assert copy.weights() == net.weights()
    assert [u.name for u in copy.outputs] == ["o1"] and not copy.trainable("bias", "h1")
    np.testing.assert_array_equal(copy.forward(X), net.forward(X))
    with pytest.raises(neurosim.DataError, match="version"):
        neurosim.Network.from_dict({**data, "version": 99})
