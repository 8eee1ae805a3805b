"""Tied weights (``Network.tie``): connections sharing one parameter.

A tied set's gradient is the sum over its connections of ``delta(dst) · y(src)`` (the true
gradient of E with respect to the shared weight: checked against central differences that
move every connection of the set together, on hand-built nets and on random DAGs, with
every kernel, and for ensemble members), or that sum divided by the set's size
(``reduce="mean"``); the engine agrees with the per-neuron oracle; a set's weights start
equal and stay bit-for-bit equal through training with momentum and weight decay (online,
batch, float32, ensembles); set_weight / set_trainable act on the whole set; mistakes are
refused naming the edges; and sets survive to_dict / from_dict, pickle, deepcopy and
to_networkx / from_networkx.
"""

from __future__ import annotations

import copy
import json
import pickle

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim.engine import Plan
from neurosim.reference import reference_pass

FD_STEP = 1e-6
FD_TOL = 1e-7
ORACLE_TOL = 1e-12


def _close(a, b, tol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) <= tol * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


@pytest.mark.parametrize("optimizer, options", [("rprop", {"variant": "irprop+"}), ("rprop", {"variant": "rprop+"}),
                                                ("quickprop", {"learning_rate": 0.1}), ("adam", {"learning_rate": 0.05}),
                                                ("sgd", {"learning_rate": 0.2, "momentum": 0.9, "nesterov": True,
                                                         "l2": 0.01})])
@pytest.mark.parametrize("ensemble", [None, 3])
def test_weights_stay_equal_under_every_optimiser(optimizer, options, ensemble):
    """Each optimiser keeps per-entry state (step sizes, moments, last changes); a set's
    entries see the same gradients, so their states and weights stay bit-for-bit equal,
    in every ensemble member too."""
    net = neurosim.Network(seed=5)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_bias("b")
    h = net.add_layer("h", 3, "tanh", connect_from=[net.inputs], bias="b")
    net.add_layer("o", 1, "sigmoid", connect_from=[h], bias="b", output=True)
    tie = net.tie([("x1", "h1"), ("x2", "h2"), ("x1", "h3")])
    X, T = _data(4, n=8)
    result = net.train(X, T, mode="batch", epochs=60, optimizer=optimizer, optimizer_options=options,
                       ensemble=ensemble)
    members = [net.weights()] if ensemble is None else [result.weights(k) for k in range(ensemble)]
    for k, w in enumerate(members):
        values = [w[e] for e in net.ties[tie].edges]
        assert values == [values[0]] * 3, (k, values)
        assert values[0] != w[("x2", "h1")]                # and it is not every weight that moved alike


def _two_two_one(seed=0, **weights):
    """x1, x2 -> h1, h2 (tanh) -> o (sigmoid), a bias unit b; weights drawn unless given."""
    net = neurosim.Network(seed=seed)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_bias("b")
    for name in ("h1", "h2"):
        net.add_neuron(name, "tanh")
    net.add_neuron("o", "sigmoid", output=True)
    for src, dst in [("x1", "h1"), ("x2", "h1"), ("b", "h1"), ("x1", "h2"), ("x2", "h2"), ("b", "h2"),
                     ("h1", "o"), ("h2", "o"), ("b", "o")]:
        net.connect(src, dst, weights.get(f"{src}_{dst}"))
    return net


def _data(seed=0, n=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.uniform(0.1, 0.9, size=(n, 1))


def _set_fd(net, X, T, loss, tie, h=FD_STEP):
    """Central difference of E when the shared weight of ``tie`` moves (all its edges together)."""
    s, d = tie.edges[0]
    w = net.weight(s, d)
    net.set_weight(s, d, w + h)
    ep = net.error(X, T, loss)
    net.set_weight(s, d, w - h)
    em = net.error(X, T, loss)
    net.set_weight(s, d, w)
    return (ep - em) / ((w + h) - (w - h))


# --- the gradient of a set -----------------------------------------------------------------


def test_hand_computed_sum_and_mean():
    """Two identity outputs y_k = w x_k sharing w: dE/dw = Σ_k (y_k - t_k) x_k, or half of it."""
    for reduce, factor in (("sum", 1.0), ("mean", 0.5)):
        net = neurosim.Network()
        for name in ("x1", "x2"):
            net.add_input(name)
        for name in ("y1", "y2"):
            net.add_neuron(name, "identity", output=True)
        net.connect("x1", "y1", weight=0.5)
        net.connect("x2", "y2", weight=-3.0)         # overwritten: the first given weight wins
        assert net.tie([("x1", "y1"), ("x2", "y2")], reduce=reduce) == "tie1"
        assert net.weight("x2", "y2") == 0.5
        E, grads = net.gradients([[1.0, 2.0], [-1.0, 4.0]], [[0.25, 0.0], [1.0, 1.0]])
        # pattern 1: y = (0.5, 1.0), pattern 2: y = (-0.5, 2.0)
        assert E == pytest.approx(0.5 * (0.25 ** 2 + 1.0 + 1.5 ** 2 + 1.0), rel=1e-15)
        g = (0.25 * 1 + 1.0 * 2) + (-1.5 * -1 + 1.0 * 4)
        assert grads[("x1", "y1")] == grads[("x2", "y2")] == pytest.approx(factor * g, rel=1e-15)
        history = net.train([[1.0, 2.0], [-1.0, 4.0]], [[0.25, 0.0], [1.0, 1.0]], learning_rate=0.01,
                            mode="batch", epochs=1)
        assert net.weight("x1", "y1") == net.weight("x2", "y2") == pytest.approx(0.5 - 0.01 * factor * g)
        assert history.shape == (1,)


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_sets_of_a_small_net_match_finite_differences_and_the_oracle(reduce):
    net = _two_two_one()
    X, T = _data()
    a = net.tie([("x1", "h1"), ("x2", "h2")], reduce=reduce, name="cross")
    b = net.tie([("h1", "o"), ("h2", "o"), ("b", "o")], reduce=reduce)
    E, grads = net.gradients(X, T)
    Er, gr, _, _ = reference_pass(net, X, T, "mse")
    assert _close(E, Er, ORACLE_TOL) and all(_close(grads[k], gr[k], ORACLE_TOL) for k in gr)
    for name in (a, b):
        tie = net.ties[name]
        fd = _set_fd(net, X, T, "mse", tie)
        size = len(tie.edges) if reduce == "mean" else 1
        for edge in tie.edges:
            assert _close(grads[edge] * size, fd, FD_TOL), (edge, grads[edge], fd)
        assert abs(fd) > 1e-3
    # untied edges keep their own gradients, which finite differences of one edge give
    for edge in [("x2", "h1"), ("b", "h1")]:
        w = net.weight(*edge)
        net.set_weight(*edge, w + FD_STEP)
        ep = net.error(X, T)
        net.set_weight(*edge, w - FD_STEP)
        em = net.error(X, T)
        net.set_weight(*edge, w)
        assert _close(grads[edge], (ep - em) / ((w + FD_STEP) - (w - FD_STEP)), FD_TOL)


def test_untied_gradients_are_each_edges_own():
    net = _two_two_one()
    X, T = _data()
    _, plain = net.gradients(X, T)
    net.tie([("x1", "h1"), ("x2", "h2")], name="t")
    w = net.weight("x1", "h1")
    _, tied = net.gradients(X, T)
    net.untie("t")
    assert net.ties == {} and net.weight("x2", "h2") == w          # the weights stay as the set left them
    _, untied = net.gradients(X, T)
    assert untied[("x1", "h1")] != untied[("x2", "h2")]
    assert tied[("x1", "h1")] == pytest.approx(untied[("x1", "h1")] + untied[("x2", "h2")], rel=1e-14)
    assert net.compile()._ties is None
    assert plain.keys() == untied.keys()


def _tie_random_sets(net, rng, max_sets=4):
    """Tie random sets of 2-4 edges of equal trainability; returns their names."""
    edges = [(u.name, v.name) for u, v in net.graph.edges]
    rng.shuffle(edges)
    names = []
    for flag in (True, False):
        pool = [e for e in edges if net.trainable(*e) == flag]
        while len(pool) >= 2 and len(names) < max_sets:
            size = int(rng.integers(2, min(4, len(pool)) + 1))
            chosen, pool = pool[:size], pool[size:]
            names.append(net.tie(chosen, reduce=("sum", "mean")[int(rng.integers(2))]))
    return names


@pytest.fixture(params=["chosen", "dense", "gather"])
def kernel(request, monkeypatch):
    """Levels with the kernels the plan chooses, every level dense, or every level gathered."""
    if request.param == "dense":
        monkeypatch.setattr(Plan, "GATHER_FACTOR", float("inf"))
    elif request.param == "gather":
        monkeypatch.setattr(Plan, "GATHER_FACTOR", -1)
    return request.param


@pytest.mark.parametrize("seed", range(0, 60, 4))
def test_random_dags_with_sets_match_finite_differences_and_the_oracle(seed, random_case_factory, kernel):
    case = random_case_factory(seed)
    net, X, T, loss = case.net, case.X, case.T, case.loss
    names = _tie_random_sets(net, np.random.default_rng([seed, 9]))
    assert len(names) >= 2
    E, grads = net.gradients(X, T, loss)
    if kernel == "gather":
        assert any(lv.kind == "gather" for lv in net.compile().levels)
    Er, gr, _, _ = reference_pass(net, X, T, loss)
    assert _close(E, Er, ORACLE_TOL)
    bad = {k: (grads[k], gr[k]) for k in gr if not _close(grads[k], gr[k], ORACLE_TOL)}
    assert not bad
    for name in names:
        tie = net.ties[name]
        fd = _set_fd(net, X, T, loss, tie)
        size = len(tie.edges) if tie.reduce == "mean" else 1
        assert len({grads[e] for e in tie.edges}) == 1                      # one gradient for the set
        assert _close(grads[tie.edges[0]] * size, fd, FD_TOL), (tie, grads[tie.edges[0]], fd)
        assert len({net.weight(*e) for e in tie.edges}) == 1


# --- weights: equal at the start, equal forever ---------------------------------------------


def test_initial_weight_is_one_draw_for_the_set():
    """No weight given: the set takes the initialiser's draw for its first edge, and the other
    edges' draws are those of the untied network (tying does not shift the stream)."""
    plain = _two_two_one(seed=4).weights()
    net = _two_two_one(seed=4)
    net.tie([("x2", "h2"), ("x1", "h1"), ("h1", "o")])
    w = net.weights()
    assert w[("x1", "h1")] == w[("x2", "h2")] == w[("h1", "o")] == plain[("x2", "h2")]
    assert {k: v for k, v in w.items() if k not in {("x1", "h1"), ("x2", "h2"), ("h1", "o")}} == \
        {k: v for k, v in plain.items() if k not in {("x1", "h1"), ("x2", "h2"), ("h1", "o")}}


def test_initial_weight_first_given_wins_and_set_weight_sets_the_set():
    net = _two_two_one(seed=1, x2_h2=0.7, h1_o=-0.2)
    net.tie([("x1", "h1"), ("h1", "o"), ("x2", "h2")])     # x1 -> h1 is drawn: h1 -> o's -0.2 is the first given
    assert net.weight("x1", "h1") == net.weight("x2", "h2") == net.weight("h1", "o") == -0.2
    net.set_weight("x2", "h2", 0.125)
    assert [net.weight(*e) for e in [("x1", "h1"), ("h1", "o"), ("x2", "h2")]] == [0.125] * 3
    net.compile()
    net.set_weight("h1", "o", 0.25)                        # with a plan: straight into theta
    assert [net.weight(*e) for e in [("x1", "h1"), ("h1", "o"), ("x2", "h2")]] == [0.25] * 3
    assert net.graph.edges[net["x1"], net["h1"]]["weight"] == 0.25


def test_tying_a_compiled_network_keeps_its_draw():
    net = _two_two_one(seed=2)
    before = net.weights()                                 # compiled: every weight drawn
    net.tie([("x1", "h1"), ("x2", "h2")])
    after = net.weights()
    assert after[("x1", "h1")] == after[("x2", "h2")] == before[("x1", "h1")]


@pytest.mark.parametrize("mode", ["online", "batch"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weights_stay_equal_through_training(mode, dtype):
    """Every entry of a set gets the same gradient and the same elementwise step (momentum,
    weight decay): its weights stay bit-for-bit equal, and they do move."""
    net = neurosim.Network(seed=3, dtype=dtype)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_bias("b")
    h = net.add_layer("h", 3, "tanh", connect_from=[net.inputs], bias="b")
    net.add_layer("o", 2, "sigmoid", connect_from=[h], bias="b", output=True)
    sets = [net.tie([("x1", "h1"), ("x2", "h2"), ("x1", "h3")]), net.tie([("h1", "o1"), ("h2", "o2")], reduce="mean"),
            net.tie([("b", "h1"), ("b", "h2"), ("b", "h3")])]
    start = net.weights()
    X = np.random.default_rng(0).normal(size=(6, 2)).astype(dtype)
    T = np.random.default_rng(1).uniform(size=(6, 2)).astype(dtype)
    net.train(X, T, learning_rate=0.3, momentum=0.9, weight_decay=0.001, epochs=200, mode=mode)
    end = net.weights()
    for name in sets:
        values = [end[e] for e in net.ties[name].edges]
        assert values == [values[0]] * len(values), (name, values)
        assert values[0] != start[net.ties[name].edges[0]]


def test_frozen_sets_stay_frozen_and_set_trainable_acts_on_the_set():
    net = _two_two_one(seed=5)
    for e in [("x1", "h1"), ("x2", "h2")]:
        net.set_trainable(*e, False)
    net.tie([("x1", "h1"), ("x2", "h2")], name="frozen")
    net.tie([("h1", "o"), ("h2", "o")], name="live")
    start = net.weights()
    X, T = _data()
    net.train(X, T, learning_rate=0.5, momentum=0.5, weight_decay=0.01, epochs=20)
    end = net.weights()
    assert end[("x1", "h1")] == end[("x2", "h2")] == start[("x1", "h1")]
    assert end[("h1", "o")] == end[("h2", "o")] != start[("h1", "o")]
    net.set_trainable("h2", "o", False)                   # the whole set freezes
    assert not net.trainable("h1", "o")
    frozen = net.weights()
    net.train(X, T, learning_rate=0.5, epochs=5)
    assert net.weight("h1", "o") == frozen[("h1", "o")]
    net.set_trainable("x1", "h1", True)                   # and thaws
    assert net.trainable("x2", "h2")


# --- ensembles ------------------------------------------------------------------------------


def _ensemble_theta_index(plan, pos):
    """Flat index in an ensemble plan's theta of member 0's entry at ``pos`` (P-space), and
    the stride between members (each level's block is (n, K, width), member-minor)."""
    K, at = plan.members, 0
    for lv in plan.levels:
        n, width = lv.W.shape[0], lv.W.shape[-1]
        if pos < at + n * width:
            r, c = divmod(pos - at, width)
            return K * at + r * K * width + c, width
        at += n * width
    raise AssertionError(pos)


def test_ensemble_members_reduce_within_themselves_and_match_finite_differences():
    """An ensemble plan's tied gradients, member by member, equal central differences of that
    member's error when its shared weight moves, and the members' sets start and stay equal."""
    net = _two_two_one(seed=0)
    net.tie([("x1", "h1"), ("x2", "h2")], name="a")
    net.tie([("h1", "o"), ("h2", "o"), ("b", "h1")], name="b", reduce="mean")
    X, T = _data(3)
    K = 4
    loss = net.registry.loss("mse")

    def init(fan_in, fan_out, k):
        return net.initializer(np.random.default_rng(10 + k), fan_in, fan_out, **net.init_options)

    plan = Plan(net._synced_graph(), net.inputs, net.biases, net.outputs, net.registry, net.dtype, init,
                members=K, redraw=True)
    plan.forward(X)
    plan.backward(T, loss)
    grad = plan.grad.copy()
    for name, tie in net.ties.items():
        where = [_ensemble_theta_index(plan, plan.edge_pos[(net[s], net[d])]) for s, d in tie.edges]
        for k in range(K):
            idx = [first + k * stride for first, stride in where]
            assert len(set(plan.theta[idx].tolist())) == 1 and len(set(grad[idx].tolist())) == 1
            w = plan.theta[idx[0]]
            errors = []
            for value in (w + FD_STEP, w - FD_STEP):
                plan.theta[idx] = value
                plan.forward(X)
                errors.append(loss.value(plan.output_values(plan.last), T))
            plan.theta[idx] = w
            (ep, em) = errors
            assert np.all(np.delete(ep, k) == np.delete(em, k))        # the other members do not move
            size = len(tie.edges) if tie.reduce == "mean" else 1
            fd = (ep[k] - em[k]) / ((w + FD_STEP) - (w - FD_STEP))
            assert _close(grad[idx[0]] * size, fd, FD_TOL), (name, k, grad[idx[0]], fd)
    # members start from different draws
    assert len({plan.member_theta()[k, plan.edge_pos[(net["x1"], net["h1"])]] for k in range(K)}) == K


def test_ensemble_member_equals_the_single_run():
    net = _two_two_one(seed=7)
    net.tie([("x1", "h1"), ("x2", "h2")])
    net.tie([("h1", "o"), ("h2", "o")], reduce="mean")
    X, T = _data(1, 8)
    result = net.train(X, T, learning_rate=0.5, momentum=0.9, epochs=60, mode="batch", ensemble=3)
    for k in range(3):
        single = _two_two_one(seed=7 + k)
        single.tie([("x1", "h1"), ("x2", "h2")])
        single.tie([("h1", "o"), ("h2", "o")], reduce="mean")
        history = single.train(X, T, learning_rate=0.5, momentum=0.9, epochs=60, mode="batch")
        np.testing.assert_allclose(result.history[:, k], history, rtol=1e-12)
        member = result.weights(k)
        for edge, w in single.weights().items():
            assert member[edge] == pytest.approx(w, rel=1e-12, abs=1e-13)
        assert member[("x1", "h1")] == member[("x2", "h2")] and member[("h1", "o")] == member[("h2", "o")]
        rebuilt = result.network(k)                          # through the template's "tied" entry
        assert rebuilt.ties == single.ties


# --- refusals -------------------------------------------------------------------------------


def test_refusals_name_the_edges(refused):
    net = _two_two_one()
    other = _two_two_one()
    TE = neurosim.TopologyError
    refused(TE, ["'x1'", "'o'", "no connection"], net.tie, [("x1", "h1"), ("x1", "o")])
    refused(TE, ["another network", "'x1'", "'h1'"], net.tie, [("x1", "h1"), (other["x1"], other["h1"])])
    refused(TE, ["a set of 1", "x1 -> h1", "two or more"], net.tie, [("x1", "h1")])
    refused(TE, ["a set of 0", "none"], net.tie, [])
    refused(TE, ["'x1' -> 'h1' is listed twice"], net.tie, [("x1", "h1"), ("x1", "h1")])
    refused(TE, ["(src, dst) pairs", "'x1' is not a pair"], net.tie, ["x1", "h1"])
    refused(TE, ["(src, dst) pairs"], net.tie, "x1 -> h1")
    refused(TE, ["reduce must be 'sum'", "'average'"], net.tie, [("x1", "h1"), ("x2", "h2")], reduce="average")
    net.set_trainable("x2", "h2", False)
    refused(TE, ["x2 -> h2 is frozen", "x1 -> h1", "all trainable or all frozen"], net.tie,
            [("x1", "h1"), ("x2", "h2")])
    net.set_trainable("x2", "h2", True)
    net.tie([("x1", "h1"), ("x2", "h2")], name="s")
    refused(TE, ["'x2' -> 'h2' is already in the set 's'", "x1 -> h1, x2 -> h2", "net.untie('s')"], net.tie,
            [("h1", "o"), ("x2", "h2")])
    refused(TE, ["a set named 's' exists already"], net.tie, [("h1", "o"), ("h2", "o")], name="s")
    refused(TE, ["name must be a non-empty string"], net.tie, [("h1", "o"), ("h2", "o")], name="")
    refused(TE, ["'x1' -> 'h1' is tied in the set 's'", "net.untie('s')"], net.disconnect, "x1", "h1")
    refused(TE, ["no tied set named 'z'"], net.untie, "z")
    refused(TE, ["net.graph is read-only", "tied set of 'x1' -> 'h1'"],
            net.graph.edges[net["x1"], net["h1"]].__setitem__, "tie", "q")
    assert list(net.ties) == ["s"]                        # the refusals changed nothing


# --- saving ---------------------------------------------------------------------------------


def _tied_net():
    net = _two_two_one(seed=11, x2_h1=0.3)
    net.tie([("x2", "h2"), ("x1", "h1")], name="in", reduce="mean")
    net.tie([("h1", "o"), ("h2", "o")])
    return net


def _same_network(a, b):
    X, T = _data(2)
    assert a.weights() == b.weights()
    assert a.gradients(X, T) == b.gradients(X, T)
    ha = a.train(X, T, learning_rate=0.5, momentum=0.9, epochs=20)
    hb = b.train(X, T, learning_rate=0.5, momentum=0.9, epochs=20)
    np.testing.assert_array_equal(ha, hb)
    assert a.weights() == b.weights()


def test_to_dict_and_from_dict_keep_the_sets():
    net = _tied_net()
    data = json.loads(json.dumps(net.to_dict()))
    assert data["tied"] == [{"name": "in", "reduce": "mean", "edges": [["x2", "h2"], ["x1", "h1"]]},
                            {"name": "tie1", "reduce": "sum", "edges": [["h1", "o"], ["h2", "o"]]}]
    back = neurosim.Network.from_dict(data)
    assert back.ties == net.ties
    _same_network(back, net)
    # the rest of the format is that of the untied network: a reader that ignores "tied"
    # reads the same units, edges and weights
    untied = neurosim.Network.from_dict({k: v for k, v in data.items() if k != "tied"})
    assert untied.ties == {} and untied.weights() == {(e["src"], e["dst"]): e["weight"] for e in data["edges"]}
    assert "tied" not in untied.to_dict()


def test_from_dict_refuses_bad_tied_entries(refused):
    data = _tied_net().to_dict()
    bad = dict(data, tied=[{"name": "x", "edges": [["x1", "o"], ["h1", "o"]]}])
    refused(neurosim.TopologyError, ["tied[0]", "'x1' -> 'o'", "no connection"], neurosim.Network.from_dict, bad)
    refused(neurosim.DataError, ["tied[0].name", "missing"], neurosim.Network.from_dict,
            dict(data, tied=[{"edges": [["x1", "h1"], ["x2", "h2"]]}]))
    refused(neurosim.DataError, ["tied: must be a list"], neurosim.Network.from_dict, dict(data, tied={"a": 1}))


def test_pickle_and_deepcopy_keep_the_sets():
    net = _tied_net()
    for back in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert back.ties == net.ties
        back.set_weight("h2", "o", 0.5)                    # still one weight
        assert back.weight("h1", "o") == 0.5
    _same_network(pickle.loads(pickle.dumps(net)), net)


def test_to_networkx_and_from_networkx_keep_the_sets():
    net = _tied_net()
    G = net.to_networkx()
    assert G.graph["ties"] == {"in": "mean", "tie1": "sum"}
    assert G.edges["x1", "h1"]["tie"] == G.edges["x2", "h2"]["tie"] == "in"
    assert "tie" not in G.edges["x2", "h1"]
    back = neurosim.Network.from_networkx(G)
    assert {n: (set(t.edges), t.reduce) for n, t in back.ties.items()} == \
        {n: (set(t.edges), t.reduce) for n, t in net.ties.items()}
    _same_network(back, _tied_net())
    again = neurosim.Network.from_networkx(_tied_net().graph)      # the graph of neuron objects
    assert {n: set(t.edges) for n, t in again.ties.items()} == {n: set(t.edges) for n, t in net.ties.items()}
    assert again.ties["in"].reduce == "mean"


def test_from_networkx_ties_a_plain_graph(refused):
    G = nx.DiGraph()
    G.add_edge("x1", "y1", weight=0.5, tie="w")
    G.add_edge("x2", "y2", tie="w")
    net = neurosim.Network.from_networkx(G, activation="identity", bias=False)
    assert net.ties["w"].reduce == "sum" and net.weight("x2", "y2") == 0.5
    G.graph["ties"] = {"w": "mean", "ghost": "sum"}
    refused(neurosim.TopologyError, ["'ghost'", "no edge has tie='ghost'"], neurosim.Network.from_networkx, G)
    G.graph["ties"] = {"w": "median"}
    refused(neurosim.TopologyError, ["tie 'w'", "'median'"], neurosim.Network.from_networkx, G)
    G.graph["ties"] = ["w"]
    refused(neurosim.TopologyError, ["graph attribute 'ties' must map"], neurosim.Network.from_networkx, G)
    del G.graph["ties"]
    G.edges["x2", "y2"]["tie"] = 3
    refused(neurosim.TopologyError, ["'x2' -> 'y2'", "'tie' attribute must name"], neurosim.Network.from_networkx,
            G)


# --- from a scenario ------------------------------------------------------------------------


def _tied_scenario(tied):
    return {
        "scenario": {"seed": 2},
        "network": {"layers": [{"name": "i", "size": 2}, {"name": "h", "size": 2, "from": ["i"]},
                               {"name": "o", "size": 1, "from": ["h"]}],
                    "connections": {"i2 -> h2": 0.3}, "tied": tied},
        "data": {"dataset": "xor"},
        "training": {"learning_rate": 0.5, "momentum": 0.9, "epochs": 30, "mode": "batch"},
        "expect": [{"quantity": "error", "below": 100.0}],
    }


def test_scenario_tied_sets(refused):
    result = neurosim.run_scenario(_tied_scenario([
        {"edges": ["i1 -> h1", "i2 -> h2"], "reduce": "mean", "name": "cross"},
        {"edges": ["bias -> h1", "bias -> h2", "bias -> o1"]}]))
    net = result.network
    assert net.ties["cross"] == neurosim.Tie("cross", (("i1", "h1"), ("i2", "h2")), "mean")
    assert net.ties["tie1"].edges == (("bias", "h1"), ("bias", "h2"), ("bias", "o1"))
    assert result.initial_weights[("i1", "h1")] == 0.3                     # the given weight of the set
    w = net.weights()
    assert w[("i1", "h1")] == w[("i2", "h2")] != 0.3
    assert w[("bias", "h1")] == w[("bias", "h2")] == w[("bias", "o1")]
    assert w[("i2", "h1")] != w[("i1", "h2")]
    SE = neurosim.ScenarioError

    def check(mapping):
        return neurosim.load_scenario(mapping).check()

    refused(SE, ["network.tied[0]", "'i1' -> 'o1'", "no connection"], check,
            _tied_scenario([{"edges": ["i1 -> h1", "i1 -> o1"]}]))
    refused(SE, ["network.tied[0]", "a set of 1"], check, _tied_scenario([{"edges": ["i1 -> h1"]}]))
    refused(SE, ["network.tied[0].edges[1]", "a string"], check, _tied_scenario([{"edges": ["i1 -> h1", 3]}]))
    refused(SE, ["network.tied[0].edges[0]", "\"src -> dst\""], check, _tied_scenario([{"edges": ["i1 h1", "x"]}]))
    refused(SE, ["network.tied[0].edges", "is required"], check, _tied_scenario([{"reduce": "sum"}]))
    refused(SE, ["network.tied[0].reduce", "choose from: mean, sum"], check,
            _tied_scenario([{"edges": ["i1 -> h1", "i2 -> h2"], "reduce": "avg"}]))
    refused(SE, ["network.tied[0].edge", "did you mean 'edges'"], check, _tied_scenario([{"edge": ["i1 -> h1"]}]))
    err = refused(SE, ["network.tied[1].edges[0]", "'i1 -> h1' is already in network.tied[0]", "list it once"],
                  check, _tied_scenario([{"edges": ["i1 -> h1", "i2 -> h2"], "name": "a"},
                                         {"edges": ["i1 -> h1", "h1 -> o1"]}]))
    assert "untie" not in str(err)          # Python's advice has no place in a scenario file
