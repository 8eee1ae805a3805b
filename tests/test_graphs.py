"""``net.graph`` is read-only and says so.

It must refuse every write -- edge, node and graph data, through every door networkx
offers (``edges[u, v]``, ``G[u][v]``, ``adj``, ``succ``, ``pred``, ``nodes``, reversed and
sub-graph views, ``set_edge_attributes``) -- with a TopologyError naming the method that
does it, while reading, copying and networkx's algorithms work as on any DiGraph, and
nothing in neurosim writes through it.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import TopologyError

ROOT = Path(__file__).resolve().parents[1]


def refused(exc_type, fragments, func, *args, **kwargs):
    """Call ``func``; check it raises ``exc_type`` (a NeurosimError) whose message holds every
    fragment, and that no warning escaped."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Exception) as info:
            func(*args, **kwargs)
    err = info.value
    assert isinstance(err, exc_type) and isinstance(err, neurosim.NeurosimError), \
        f"expected {exc_type.__name__}, got {type(err).__name__}: {err}"
    missing = [f for f in fragments if f not in str(err)]
    assert not missing, f"message {str(err)!r} does not contain {missing}"
    assert not caught, f"warnings leaked: {[str(w.message) for w in caught]}"
    return err


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
def test_every_write_through_the_graph_is_refused(write):
    net = layered()
    net.compile()
    before = net.to_dict()
    call, fragments = WRITES[write]
    refused(TopologyError, fragments, call, net.graph, net)
    assert net.to_dict() == before
    assert not net.graph.nodes[net["h1"]] and "colour" not in net.graph.edges[net["h1"], net["o1"]]


def test_structural_changes_are_refused_by_networkx():
    net = layered()
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        net.graph.add_edge(net["o1"], net["h1"])
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        net.graph.remove_node(net["h1"])


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

