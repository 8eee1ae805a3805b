"""Networks as NetworkX graphs: the read-only ``net.graph`` and the round trip through
``to_networkx`` / ``from_networkx``.

``net.graph`` must refuse every write -- edge, node and graph data, through every door
networkx offers (``edges[u, v]``, ``G[u][v]``, ``adj``, ``succ``, ``pred``, ``nodes``,
reversed and sub-graph views, ``set_edge_attributes``) -- with a TopologyError naming the
method that does it, while reading, copying and networkx's algorithms work as on any
DiGraph, and nothing in neurosim writes through it. ``from_networkx(to_networkx(net))``
must rebuild ``net`` exactly (the same ``to_dict()``: unit kinds and order, outputs and
their order, activations, groups, weights bit for bit, frozen edges, labels) for the
worked example, a layered net with skip connections and softmax groups, and random DAGs,
while a plain DiGraph still reads as sources -> inputs, sinks -> outputs, plus one bias
unit; its attributes are validated, naming the node or edge at fault; and acyclicity is
checked once for the whole graph, not per edge.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import CycleError, DataError, TopologyError

ROOT = Path(__file__).resolve().parents[1]
MAZUR = ROOT / "scenarios" / "mazur.toml"


def worked_example() -> neurosim.Network:
    """The seed's Mazur 2-2-2 network, labelled w1..w8, biases frozen."""
    net = neurosim.Network()
    for name in ("i1", "i2"):
        net.add_input(name)
    net.add_bias("b1")
    net.add_bias("b2")
    for name in ("h1", "h2"):
        net.add_neuron(name, "sigmoid")
    for name in ("o1", "o2"):
        net.add_neuron(name, "sigmoid", output=True)
    weights = {("i1", "h1"): .15, ("i2", "h1"): .20, ("i1", "h2"): .25, ("i2", "h2"): .30,
               ("h1", "o1"): .40, ("h2", "o1"): .45, ("h1", "o2"): .50, ("h2", "o2"): .55}
    for k, ((s, d), w) in enumerate(weights.items()):
        net.connect(s, d, weight=w, label=f"w{k + 1}")
    for h in ("h1", "h2"):
        net.connect("b1", h, weight=0.35, trainable=False)
    for o in ("o1", "o2"):
        net.connect("b2", o, weight=0.60, trainable=False)
    return net


def layered(seed=0, dtype=np.float64) -> neurosim.Network:
    """Layers with skip connections, a hidden softmax group, a frozen edge, a label, and a
    softmax output group whose outputs are not in the order they were added."""
    net = neurosim.Network(seed=seed, dtype=dtype)
    net.add_layer("x", 3, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 4, "tanh", connect_from=[net.inputs], bias=b)
    s = [net.add_neuron(f"s{k}", "softmax", group="hidden") for k in (1, 2)]
    net.connect_all(h, s)
    g = net.add_layer("g", 2, "relu", connect_from=[s, net.inputs], bias=b)       # skips the h layer
    net.add_layer("o", 3, "softmax", output=True, connect_from=[g, h, net.inputs], bias=b)
    net.set_output("o1", False)
    net.set_output("o1")                           # outputs o2, o3, o1
    net.set_trainable("x1", "o2", False)
    net.set_label("g1", "o3", "skip")
    return net


def round_trip(net, **kwargs):
    return neurosim.Network.from_networkx(net.to_networkx(), **kwargs)


def assert_round_trip(net, **kwargs):
    copy = round_trip(net, **kwargs)
    assert copy.to_dict() == net.to_dict()
    bits = [np.array(list(n.weights().values())).tobytes() for n in (net, copy)]
    assert bits[0] == bits[1]
    assert [u.name for u in copy.outputs] == [u.name for u in net.outputs]
    assert [u.name for u in copy.inputs] == [u.name for u in net.inputs]
    assert [u.name for u in copy.biases] == [u.name for u in net.biases]
    return copy


# --- the read-only view -----------------------------------------------------------------------


#: a write through the view -> the words its refusal must contain
WRITES = {
    "edges-weight": (lambda G, n: G.edges[n["h1"], n["o1"]].__setitem__("weight", 5.0),
                     ("read-only", "net.set_weight('h1', 'o1', w)")),
    "G[u][v]-trainable": (lambda G, n: G[n["h1"]][n["o1"]].__setitem__("trainable", False),
                          ("read-only", "net.set_trainable('h1', 'o1', False)")),
    "adj-label": (lambda G, n: G.adj[n["h1"]][n["o1"]].update(label="w5"), ("net.set_label('h1', 'o1', 'w5')",)),
    "succ-other": (lambda G, n: G.succ[n["h1"]][n["o1"]].__setitem__("colour", "red"),
                   ("'h1' -> 'o1'", "set_weight", "set_trainable", "set_label", "net.graph.copy()")),
    "pred-del": (lambda G, n: G.pred[n["o1"]][n["h1"]].__delitem__("weight"), ("set_weight('h1', 'o1'",)),
    "pop": (lambda G, n: G.edges[n["h1"], n["o1"]].pop("weight"), ("set_weight",)),
    "setdefault": (lambda G, n: G.edges[n["h1"], n["o1"]].setdefault("label", "w"), ("set_label",)),
    "clear": (lambda G, n: G.edges[n["h1"], n["o1"]].clear(), ("'h1' -> 'o1'", "read-only")),
    "popitem": (lambda G, n: G.edges[n["h1"], n["o1"]].popitem(), ("read-only",)),
    "ior": (lambda G, n: G.edges[n["h1"], n["o1"]].__ior__({"weight": 1.0}), ("read-only",)),
    "edge-data-view": (lambda G, n: next(d for u, v, d in G.edges(data=True)).__setitem__("weight", 1.0),
                       ("read-only", "set_weight")),
    "reverse-view": (lambda G, n: G.reverse(copy=False).edges[n["o1"], n["h1"]].__setitem__("weight", 1.0),
                     ("net.set_weight('h1', 'o1', w)",)),
    "subgraph-view": (lambda G, n: G.subgraph([n["h1"], n["o1"]]).edges[n["h1"], n["o1"]].update(weight=1),
                      ("set_weight",)),
    "set_edge_attributes": (lambda G, n: nx.set_edge_attributes(G, 1.0, "weight"), ("read-only", "set_weight")),
    "node-data": (lambda G, n: G.nodes[n["h1"]].__setitem__("colour", "red"),
                  ("read-only", "node 'h1'", "set_output", "net.graph.copy()")),
    "set_node_attributes": (lambda G, n: nx.set_node_attributes(G, 1, "size"), ("read-only", "node")),
    "node-data-view": (lambda G, n: next(iter(G.nodes(data=True)))[1].update(size=3), ("read-only", "node")),
    "graph-data": (lambda G, n: G.graph.__setitem__("name", "x"), ("read-only", "graph attributes")),
    "adjacency": (lambda G, n: G._succ[n["h1"]].__setitem__(n["x1"], {}), ("read-only", "net.connect")),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_through_the_graph_is_refused(write, refused):
    net = layered()
    net.compile()
    before = net.to_dict()
    call, fragments = WRITES[write]
    refused(TopologyError, fragments, call, net.graph, net)
    assert net.to_dict() == before
    assert not net.graph.nodes[net["h1"]] and "colour" not in net.graph.edges[net["h1"], net["o1"]]


@pytest.mark.parametrize("change", ["add_edge", "remove_node", "add_nodes_from", "clear"])
def test_structural_changes_are_refused_naming_the_network_methods(change, refused):
    net = layered()
    args = {"add_edge": (net["o1"], net["h1"]), "remove_node": (net["h1"],), "add_nodes_from": ([1],),
            "clear": ()}[change]
    refused(TopologyError, ("net.graph is read-only", "net.connect", "net.graph.copy()"),
            getattr(net.graph, change), *args)
    assert net.n_weights == layered().n_weights


def test_the_graph_reads_like_any_digraph_and_copies_are_writable():
    net = layered()
    net.compile()
    net.set_weight("h1", "o1", 2.5)
    G = net.graph
    assert isinstance(G, nx.DiGraph) and nx.is_directed_acyclic_graph(G)
    weights = net.weights()
    assert {(u.name, v.name): d["weight"] for u, v, d in G.edges(data=True)} == weights
    assert nx.get_edge_attributes(G, "weight")[(net["h1"], net["o1"])] == 2.5
    assert G.edges[net["h1"], net["o1"]] == {**G.edges[net["h1"], net["o1"]].copy()}
    assert G.edges[net["h1"], net["o1"]].get("label", "none") == "none"
    assert [sorted(u.name for u in gen) for gen in nx.topological_generations(G)][0] == ["bias", "x1", "x2", "x3"]
    assert nx.dag_longest_path_length(G, weight=None) == 4
    assert G.in_degree(net["o1"]) == 1 + 2 + 4 + 3
    assert G.in_degree(net["s1"], weight="weight") == pytest.approx(sum(weights[(f"h{k}", "s1")] for k in range(1, 5)))
    A = nx.to_numpy_array(G, nodelist=list(G), weight="weight")
    assert A.shape == (len(net),) * 2 and A.sum() == pytest.approx(sum(weights.values()))
    named = nx.relabel_nodes(G, {u: u.name for u in G})
    named.edges["h1", "o1"]["weight"] = 7.0                   # a copy: writable, and the net is untouched
    assert named.edges["x1", "o2"]["trainable"] is False and net.weight("h1", "o1") == 2.5
    for H in (G.copy(), nx.DiGraph(G)):
        assert type(H.edges[net["h1"], net["o1"]]) is dict and nx.utils.graphs_equal(H, G)
        H.edges[net["h1"], net["o1"]]["weight"] = 9.0
        H.add_edge(net["o1"], net["h1"])
        H.nodes[net["h1"]]["colour"] = "red"
    assert net.weight("h1", "o1") == 2.5 and not net.graph.has_edge(net["o1"], net["h1"])
    assert nx.is_isomorphic(G, G.copy())
    assert len(G.subgraph(net.outputs)) == 3 and G.reverse(copy=False).has_edge(net["o1"], net["h1"])
    net.set_weight("h1", "o1", -1.0)
    assert net.graph.edges[net["h1"], net["o1"]]["weight"] == -1.0          # a fresh view reads the plan


def test_nothing_in_neurosim_writes_through_the_public_graph():
    writes = re.compile(r"\.graph\.(edges|nodes|adj|succ|pred)\b[^=\n]*\]\s*(=[^=]|\.update|\.pop|\.setdefault)")
    strings = re.compile(r'""".*?"""', re.S)                # docstrings may show what is refused
    hits = [f"{path.relative_to(ROOT)}:{line}" for folder in ("neurosim", "plugins")
            for path in sorted((ROOT / folder).glob("*.py"))
            for line in strings.sub('""""""', path.read_text()).splitlines() if writes.search(line)]
    assert not hits, f"writes through net.graph: {hits}"


def test_ensembles_and_the_reference_path_work_with_the_read_only_graph():
    net = layered(seed=4)
    X = np.random.default_rng(0).random((5, 3))
    T = np.eye(3)[[0, 1, 2, 0, 1]]
    result = net.train(X, T, loss="cce", ensemble=2, epochs=2, mode="batch")
    assert result.members == 2 and np.isfinite(result.final_error).all()
    from neurosim.reference import reference_pass
    E, grads, *_ = reference_pass(net, X, T, "cce")
    E2, grads2 = net.gradients(X, T, loss="cce")
    assert E == pytest.approx(E2, rel=1e-12) and grads.keys() == grads2.keys()


# --- to_networkx / from_networkx ---------------------------------------------------------------


def test_to_networkx_writes_the_documented_attributes():
    net = layered()
    net.tie([("x1", "h1"), ("x2", "h2")], name="w", reduce="mean")
    G = net.to_networkx()
    assert G.edges["x2", "h2"] == {"weight": net.weight("x1", "h1"), "trainable": True, "tie": "w"}
    assert G.graph == {"ties": {"w": "mean"}}
    assert list(G) == [u.name for u in net]
    assert G.nodes["x1"] == {"kind": "input"} and G.nodes["bias"] == {"kind": "bias"}
    assert G.nodes["h1"] == {"kind": "neuron", "activation": "tanh", "output": False}
    assert G.nodes["s1"] == {"kind": "neuron", "activation": "softmax", "output": False, "group": "hidden"}
    assert [G.nodes[n]["output_index"] for n in ("o1", "o2", "o3")] == [2, 0, 1]
    assert G.edges["x1", "o2"] == {"weight": net.weight("x1", "o2"), "trainable": False}
    assert G.edges["g1", "o3"] == {"weight": net.weight("g1", "o3"), "trainable": True, "label": "skip"}
    assert set(neurosim.graphs.NODE_ATTRIBUTES) == {k for _, d in G.nodes(data=True) for k in d}
    assert set(neurosim.graphs.EDGE_ATTRIBUTES) == {k for *_, d in G.edges(data=True) for k in d}
    G.nodes["x1"]["colour"] = "red"                       # a new, writable graph
    assert "colour" not in net.graph.nodes[net["x1"]]


def test_the_worked_example_round_trips():
    net = worked_example()
    copy = assert_round_trip(net)
    assert copy.edge_label("h1", "o1") == "w5" and not copy.trainable("b1", "h1")
    E, _ = copy.gradients([0.05, 0.10], [0.01, 0.99])
    assert f"{E:.9f}" == "0.298371109"
    assert_round_trip(neurosim.run_scenario(MAZUR).network)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("compiled", [False, True])
def test_a_layered_net_with_skips_and_softmax_groups_round_trips(dtype, compiled):
    net = layered(seed=2, dtype=dtype)
    if compiled:
        net.train(np.random.default_rng(1).random((4, 3)), np.eye(3)[[0, 1, 2, 0]], loss="cce", epochs=2)
    assert_round_trip(net, dtype=dtype)


@pytest.mark.parametrize("seed", range(10))
def test_random_dags_round_trip(random_case_factory, seed):
    case = random_case_factory(seed)
    copy = assert_round_trip(case.net)
    np.testing.assert_array_equal(copy.forward(case.X), case.net.forward(case.X))
    fed = [u.name for u in case.net.outputs if u.successors]
    assert all(copy[name].output for name in fed)


def test_a_network_without_bias_units_gains_none():
    net = neurosim.Network(seed=0)
    net.add_input("x")
    net.add_neuron("y", "identity", output=True)
    net.connect("x", "y", weight=2.0)
    assert_round_trip(net)
    assert round_trip(net, bias=True).biases[0].name == "bias"        # asked for: added


def test_a_plain_digraph_still_reads_sources_sinks_and_one_bias():
    G = nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y"), ("x2", "y")])
    G.add_edge("h", "z", weight=0.5, trainable=False)
    G.nodes["h"]["activation"] = "tanh"
    net = neurosim.Network.from_networkx(G, seed=0, output_activation="identity")
    assert [u.name for u in net.inputs] == ["x", "x2"] and [u.name for u in net.outputs] == ["y", "z"]
    assert [u.name for u in net.biases] == ["bias"] and all(net.graph.has_edge(net["bias"], u) for u in net.neurons)
    assert net["h"].activation == "tanh" and net["y"].activation == "identity"
    assert net.weight("h", "z") == 0.5 and not net.trainable("h", "z")
    assert net.n_weights == 5 + 3
    assert not neurosim.Network.from_networkx(G, bias=False).biases
    G.add_edge("bias", "y")                               # a node already named bias
    assert neurosim.Network.from_networkx(G).biases[0].name == "bias_unit"


def test_bias_is_not_added_twice(refused):
    G = worked_example().to_networkx()
    for bias in (None, True, False):
        assert [u.name for u in neurosim.Network.from_networkx(G, bias=bias).biases] == ["b1", "b2"]
    refused(TopologyError, ("bias must be True or False", "'yes'"), neurosim.Network.from_networkx, G, bias="yes")


def test_hand_annotated_graphs_are_honoured():
    G = nx.DiGraph()
    G.add_node("a", kind="input")
    G.add_node("c", kind="neuron", activation="identity")       # an input-free neuron is no input
    G.add_node("k", kind="bias")
    G.add_node("p", output=True, output_index=1, activation="identity")
    G.add_node("q", output=True, output_index=0)
    G.add_edges_from([("a", "p"), ("k", "p"), ("p", "q"), ("c", "q")], weight=1.0)
    net = neurosim.Network.from_networkx(G)
    assert [u.name for u in net.outputs] == ["q", "p"] and [u.name for u in net.biases] == ["k"]
    assert net["c"].kind == "neuron" and [u.name for u in net.inputs] == ["a"]
    assert net["q"].output and net["p"].successors == [net["q"]]


#: a change to the worked example's graph -> (error class, words of the message)
BAD_ATTRIBUTES = {
    "kind": (lambda G: G.nodes["h1"].update(kind="hidden"), TopologyError, ("node 'h1'", "'kind'", "'hidden'")),
    "output": (lambda G: G.nodes["o1"].update(output="yes"), TopologyError, ("node 'o1'", "'output'", "'yes'")),
    "output-of-input": (lambda G: G.nodes["i1"].update(output=True), TopologyError,
                        ("node 'i1'", "input unit", "only computing neurons")),
    "output_index": (lambda G: G.nodes["o1"].update(output_index="first"), TopologyError,
                     ("node 'o1'", "output_index", "'first'")),
    "activation": (lambda G: G.nodes["h1"].update(activation="sigmod"), neurosim.PluginError,
                   ("'h1'", "did you mean 'sigmoid'")),
    "into-input": (lambda G: G.add_edge("b1", "i2", weight=1.0, trainable=True), TopologyError,
                   ("'b1' -> 'i2'", "input unit")),
    "into-bias": (lambda G: G.add_edge("i1", "b2"), TopologyError, ("'i1' -> 'b2'", "bias unit")),
    "trainable": (lambda G: G.edges["h1", "o1"].update(trainable="no"), TopologyError,
                  ("'h1' -> 'o1'", "'trainable'", "True or False", "'no'")),
    "weight": (lambda G: G.edges["h2", "o2"].update(weight="0.5"), DataError,
               ("weight of 'h2' -> 'o2'", "number", "'0.5'")),
    "bool-weight": (lambda G: G.edges["h2", "o2"].update(weight=True), DataError, ("'h2' -> 'o2'", "number")),
    "nan-weight": (lambda G: G.edges["h2", "o2"].update(weight=float("nan")), DataError,
                   ("'h2' -> 'o2'", "finite")),
    "huge-weight": (lambda G: G.edges["h2", "o2"].update(weight=10**400), DataError,
                    ("'h2' -> 'o2'", "too large for a float")),
    "label": (lambda G: G.edges["h2", "o2"].update(label=8), TopologyError, ("label of 'h2' -> 'o2'", "string")),
}


@pytest.mark.parametrize("bad", list(BAD_ATTRIBUTES))
def test_bad_attributes_name_the_node_or_edge(bad, refused):
    G = worked_example().to_networkx()
    change, exc, fragments = BAD_ATTRIBUTES[bad]
    change(G)
    refused(exc, fragments, neurosim.Network.from_networkx, G)


def test_weights_beyond_float32_are_refused_in_a_float32_network(refused):
    G = nx.DiGraph([("x", "y")])
    G.edges["x", "y"]["weight"] = 1e39
    refused(DataError, ("'x' -> 'y'", "too large for float32"), neurosim.Network.from_networkx, G, dtype=np.float32)
    assert neurosim.Network.from_networkx(G).weight("x", "y") == 1e39


def test_weights_of_any_real_type_are_taken_as_floats_and_missing_ones_drawn():
    G = nx.DiGraph([("a", "y"), ("b", "y"), ("c", "y"), ("d", "y")])
    G.edges["a", "y"]["weight"] = 3
    G.edges["b", "y"]["weight"] = np.float32(0.25)
    G.edges["c", "y"]["weight"] = None
    G.edges["d", "y"]["w"] = -1.5
    net = neurosim.Network.from_networkx(G, seed=0)
    assert net.graph.edges[net["a"], net["y"]]["weight"] == 3.0 and net.weight("b", "y") == 0.25
    assert type(net.graph.edges[net["a"], net["y"]]["weight"]) is float
    assert net.graph.edges[net["c"], net["y"]]["weight"] is None      # drawn at compile time
    assert neurosim.Network.from_networkx(G, weight="w").weight("d", "y") == -1.5
    drawn = neurosim.Network.from_networkx(G, weight=None)
    assert all(d["weight"] is None for *_, d in drawn.graph.edges(data=True))


def test_a_cycle_is_found_once_and_named(refused):
    G = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("c", "y")])
    err = refused(CycleError, ("the graph has the cycle", "a -> b -> c -> a", "acyclic"),
                  neurosim.Network.from_networkx, G)
    assert err.cycle == ["a", "b", "c", "a"]


def test_an_acyclic_graph_is_checked_once_not_edge_by_edge(monkeypatch):
    rng = np.random.default_rng(0)
    n = 300
    pairs = {(int(i), int(j)) for i, j in rng.integers(0, n, (4000, 2)) if i < j}
    G = nx.DiGraph(list(pairs))
    calls = {"has_path": 0, "find_cycle": 0, "connect": 0}

    def counting(name, func):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return func(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(nx, "has_path", counting("has_path", nx.has_path))
    monkeypatch.setattr(nx, "find_cycle", counting("find_cycle", nx.find_cycle))
    monkeypatch.setattr(neurosim.Network, "connect", counting("connect", neurosim.Network.connect))
    net = neurosim.Network.from_networkx(G, seed=0)
    assert calls == {"has_path": 0, "find_cycle": 0, "connect": 0}
    assert net.n_weights == len(pairs) + len(net.neurons)
    assert {(u.name, v.name) for u, v in net.graph.edges if u.kind != "bias"} == {(str(i), str(j)) for i, j in pairs}
    net.compile()


@pytest.mark.parametrize("seed", range(10))
def test_random_dags_round_trip_through_the_file_format_bit_for_bit(random_case_factory, seed):
    """to_dict lists each neuron's edges in the order it sums them, so from_dict rebuilds
    a network computing the same bits (json, as network.json holds it)."""
    import json

    case = random_case_factory(seed)
    copy = neurosim.Network.from_dict(json.loads(json.dumps(case.net.to_dict())))
    assert copy.to_dict() == case.net.to_dict()
    for v in case.net.neurons:           # each neuron sums its inputs in the same order
        assert [u.name for u in copy[v.name].predecessors] == [u.name for u in v.predecessors]
    np.testing.assert_array_equal(copy.forward(case.X), case.net.forward(case.X))
    loss = case.loss
    assert copy.gradients(case.X, case.T, loss)[1] == case.net.gradients(case.X, case.T, loss)[1]


def test_the_file_format_keeps_the_order_a_neuron_sums_in():
    net = neurosim.Network(seed=0)
    for name in ("a", "b", "c"):
        net.add_input(name)
    net.add_neuron("o", "identity", output=True)
    for name in ("c", "a", "b"):                       # not the order the inputs were added in
        net.connect(name, "o", weight=0.1)
    copy = neurosim.Network.from_dict(net.to_dict())
    assert [u.name for u in copy["o"].predecessors] == ["c", "a", "b"]


@pytest.mark.parametrize("mutate, fragments", [
    (lambda d: d["units"][1].pop("kind"), ("units[1]", "'kind'")),
    (lambda d: d["edges"][2].update(src="nowhere"), ("edges[2]", "'nowhere' is not one of the units")),
    (lambda d: d["units"].append(dict(d["units"][0])), ("units[", "comes twice")),
    (lambda d: d.update(units=5), ("malformed", "units")),
    (lambda d: d["edges"][0].update(weight="heavy"), ("weight", "'heavy'")),
])
def test_a_malformed_network_mapping_is_refused_naming_the_entry(mutate, fragments):
    data = layered(seed=2).to_dict()
    mutate(data)
    with pytest.raises(neurosim.NeurosimError) as info:
        neurosim.Network.from_dict(data)
    missing = [f for f in fragments if f not in str(info.value)]
    assert not missing, f"{info.value} lacks {missing}"


def test_a_networks_own_graph_of_neuron_objects_builds_the_same_network():
    net = layered(seed=2)
    net.compile()                           # draws the weights net.graph shows as None until then
    copy = neurosim.Network.from_networkx(net.graph)
    assert copy.to_dict() == net.to_dict()
