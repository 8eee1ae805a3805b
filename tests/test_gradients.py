"""Gradient correctness of the compiled engine on seeded random DAGs. Every weight gradient returned by ``Network.gradients`` is checked against central finite differences of ``Network.error`` on 60 random networks (skip connections, several bias units, mixed activations within a generation, hidden softmax groups, outputs that feed other neurons, dangling, zero-in-degree and bias-only neurons, batches of 2-5 patterns) under every loss and both the fused and the general output-delta paths; the engine is checked against the per-neuron oracle ``neurosim.reference.reference_pass`` (error, every gradient, every unit's out, net and delta) to 1e-12 on the same networks and on hypothesis-drawn ones, with the kernels the plan chooses, with every level forced dense and with every level forced to gather its edges; dangling neurons must get exactly zero deltas and gradients; float32 networks must agree with the float64 reference to 1e-4. Networks come from the ``random_case_factory`` fixture in ``conftest.py``.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurosim
from neurosim.engine import Plan, _Gather, _Receive
from neurosim.reference import reference_pass

#: Random networks checked by finite differences, against the oracle, and for dangling
#: neurons; the config cycles with the seed, so each of the 5 configs gets 12 networks.
N_CASES = 60
CASE_SEEDS = range(N_CASES)

#: The factory's configs (repeated here for hypothesis; checked against conftest below).
CONFIGS = ("mse", "bce_sigmoid", "bce_softmax", "cce_softmax", "cce_sigmoid")

#: Engine vs oracle: the same arithmetic in a different order, so agreement to a few ulps.
ORACLE_TOL = 1e-12

#: Finite differences: |g - fd| <= FD_TOL * max(1, |g|, |fd|). With h = 1e-6 the truncation
#: error of a central difference is ~h^2/6 * |E'''| ~ 1e-13, and the rounding error is
#: ~eps * |E| / h; the factory only accepts networks with E < 100 (and no relu net within
#: 1e-3 of its kink, no cross-entropy output within 1e-3 of 0 or 1), which bounds it by
#: ~2.2e-16 * 100 / 1e-6 ~ 2e-8. The worst error seen over all cases is ~3e-9, so 1e-7
#: leaves a margin without hiding real errors (a wrong term is typically >= 1e-3).
FD_STEP = 1e-6
FD_TOL = 1e-7

#: float32 engine vs float64 oracle: float32 has eps ~6e-8 and the passes accumulate a few
#: dozen roundings, so 1e-4 relative (1e-4 absolute for gradients below 1) is generous.
F32_TOL = 1e-4


def _close(a, b, tol):
    """|a - b| <= tol * max(1, |a|, |b|), elementwise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) <= tol * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def assert_engine_matches_reference(net, X, T, loss, tol=ORACLE_TOL):
    """Engine error, gradients and every unit's out, net and delta equal the oracle's."""
    E, grads = net.gradients(X, T, loss)
    Er, gr, outs, deltas = reference_pass(net, X, T, loss)
    assert _close(E, Er, tol), (E, Er)
    assert set(grads) == set(gr) == {(u.name, v.name) for u, v in net.graph.edges}
    bad = {k: (grads[k], gr[k]) for k in gr if not _close(grads[k], gr[k], tol)}
    assert not bad, f"engine gradients differ from the reference: {bad}"
    names = {u.name for u in net}
    assert set(outs) == names
    assert set(deltas) == {n.name for n in net.neurons}
    for name, ref in outs.items():
        got = np.broadcast_to(np.atleast_1d(net[name].out), ref.shape)
        assert _close(got, ref, tol).all(), (name, got, ref)
    for unit in net.neurons:
        got = np.atleast_1d(unit.delta)
        assert got.shape == deltas[unit.name].shape
        assert _close(got, deltas[unit.name], tol).all(), (unit.name, got, deltas[unit.name])
        expected_net = sum((net.weight(p, unit) * outs[p.name] for p in unit.predecessors),
                           np.zeros(len(deltas[unit.name])))
        assert _close(np.atleast_1d(unit.net), expected_net, tol).all(), (unit.name, unit.net, expected_net)
    return E, grads


def assert_fd_agrees(net, X, T, loss, fd_gradient, tol=FD_TOL):
    """Every analytic gradient equals the central difference of ``net.error``."""
    E, grads = net.gradients(X, T, loss)
    fd = fd_gradient(net, X, T, loss, h=FD_STEP)
    assert set(fd) == set(grads)
    bad = {k: (grads[k], fd[k]) for k in grads if not _close(grads[k], fd[k], tol)}
    assert not bad, f"{len(bad)} of {len(grads)} gradients disagree with finite differences: {bad}"
    # the weights were restored exactly, so the error is unchanged
    assert net.error(X, T, loss) == E
    return grads


# --- finite differences ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", CASE_SEEDS)
def test_gradients_match_finite_differences(seed, random_case_factory, fd_gradient, random_case_constants):
    """Every weight's dE/dw equals a central difference, on a random DAG."""
    case = random_case_factory(seed)
    net = case.net
    # guard the kink margin the tolerance relies on (relu with incoming edges only: a
    # neuron without any has net exactly 0 that no weight can move)
    net.forward(case.X)
    for name, act in case.activation.items():
        if act == "relu" and name not in case.info["zero_in"]:
            assert np.min(np.abs(net[name].net)) >= random_case_constants["relu_margin"]
    grads = assert_fd_agrees(net, case.X, case.T, case.loss, fd_gradient)
    assert max(abs(g) for g in grads.values()) > 1e-3     # not a vacuous all-zero network


def test_hand_built_skip_and_fan_out_finite_differences(fd_gradient):
    """A small net where an input skips a layer and an output feeds another output."""
    net = neurosim.Network(seed=3)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_bias("b1")
    net.add_bias("b2")
    net.add_neuron("h1", "tanh")
    net.add_neuron("h2", "relu")
    net.add_neuron("o1", "sigmoid", output=True)
    net.add_neuron("o2", "identity", output=True)
    for s, d, w in [("x1", "h1", 0.4), ("x2", "h1", -0.6), ("x1", "h2", 0.9), ("b1", "h2", 0.3),
                    ("h1", "o1", 1.1), ("h2", "o1", -0.8), ("x2", "o1", 0.5), ("b2", "o1", -0.2),
                    ("o1", "o2", 1.3), ("h1", "o2", 0.7), ("x1", "o2", -0.4)]:
        net.connect(s, d, weight=w)
    X = [[0.5, -1.0], [1.2, 0.3], [-0.7, 0.8]]
    T = [[0.2, 0.5], [0.9, -0.3], [0.4, 1.0]]
    assert_fd_agrees(net, X, T, "mse", fd_gradient)
    assert_engine_matches_reference(net, X, T, "mse")
    # bce needs outputs in (0, 1): drop the identity output, o2 is then a dangling neuron
    net.set_output("o2", False)
    T1 = [[0.2], [0.9], [0.4]]
    assert_fd_agrees(net, X, T1, "bce", fd_gradient)
    assert_engine_matches_reference(net, X, T1, "bce")
    assert np.all(net["o2"].delta == 0.0)


def test_from_networkx_random_dags(fd_gradient):
    """Networks made by Network.from_networkx from random DAGs: FD and oracle, mse and cce."""
    checked = 0
    for seed in range(4):
        rng = np.random.default_rng([seed, 11])
        n = 9
        G = nx.DiGraph()
        G.add_nodes_from(range(n))
        for i in range(n):
            for j in range(i + 1, n):
                if rng.random() < 0.35:
                    G.add_edge(i, j, **({"weight": float(rng.normal())} if rng.random() < 0.5 else {}))
        for node in G.nodes:
            if G.in_degree(node) and G.out_degree(node):
                G.nodes[node]["activation"] = ("tanh", "sigmoid", "identity")[int(rng.integers(3))]
        net = neurosim.Network.from_networkx(G, activation="tanh", output_activation="softmax",
                                             seed=seed)
        n_out, n_in = len(net.outputs), len(net.inputs)
        if n_out < 2:
            continue
        X = rng.uniform(-1, 1, size=(4, n_in))
        for loss, T in (("cce", np.eye(n_out)[rng.integers(n_out, size=4)]),
                        ("mse", rng.uniform(0, 1, size=(4, n_out)))):
            assert_fd_agrees(net, X, T, loss, fd_gradient)
            assert_engine_matches_reference(net, X, T, loss)
            checked += 1
    assert checked >= 4


# --- engine vs reference --------------------------------------------------------------------


@pytest.fixture(params=["chosen", "dense", "gather", "gather-chunked"])
def kernel(request, monkeypatch):
    """Compile levels with the kernel the plan chooses, or force every level dense, or every
    level of more than one neuron to gather its sources edge by edge (the backward pass run
    from the sources' side in one chunk a level, or in chunks of a few edges each)."""
    if request.param == "dense":
        monkeypatch.setattr(Plan, "GATHER_FACTOR", float("inf"))
    elif request.param.startswith("gather"):
        monkeypatch.setattr(Plan, "GATHER_FACTOR", -1)
        if request.param == "gather-chunked":
            monkeypatch.setattr(_Receive, "CHUNK", 12)      # 2-6 edges a chunk at batches of 2-5
    return request.param


@pytest.mark.parametrize("seed", CASE_SEEDS)
def test_engine_matches_reference(seed, random_case_factory, kernel):
    """Error, all gradients, and every unit's out/net/delta equal the per-neuron oracle,
    with either kernel for every level."""
    case = random_case_factory(seed)
    net = case.net
    levels = net.compile().levels
    if kernel == "dense":
        assert all(lv.kind == "dense" for lv in levels)
    elif kernel.startswith("gather"):     # every level of two or more neurons with edges in
        assert all(lv.kind == "gather" for lv in levels if lv.stop - lv.start > 1 and lv.W.size)
    assert_engine_matches_reference(net, case.X, case.T, case.loss)
    # new weights through set_weight (no recompilation): the next pass and the graph the
    # oracle reads must both see them
    rng = np.random.default_rng(seed)
    for (s, d), w in net.weights().items():
        net.set_weight(s, d, w * (1 + 0.01 * rng.standard_normal()))
    assert_engine_matches_reference(net, case.X, case.T, case.loss)


def test_two_output_softmax_groups_cce(fd_gradient):
    """cce over two named output softmax groups: a fused delta per group, any targets."""
    net = neurosim.Network(seed=5)
    net.add_input("x1")
    net.add_input("x2")
    net.add_bias("b")
    net.add_neuron("h", "tanh")
    for g, k in (("a", 3), ("b", 2)):
        for j in range(k):
            net.add_neuron(f"{g}{j}", "softmax", output=True, group=g)
    for u in net.neurons:
        for s in ("x1", "x2", "b"):
            net.connect(s, u)
        if u.name != "h":
            net.connect("h", u)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (4, 2))
    T = rng.uniform(0, 1, (4, 5))           # not normalised: delta = y * sum(t) - t per group
    Y = net.forward(X)
    np.testing.assert_allclose(Y[:, :3].sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(Y[:, 3:].sum(axis=1), 1.0, rtol=1e-14)
    assert_fd_agrees(net, X, T, "cce", fd_gradient)
    assert_engine_matches_reference(net, X, T, "cce")


@pytest.mark.parametrize("seed", range(0, N_CASES, 6))
def test_single_pattern_and_batch_additivity(seed, random_case_factory):
    """A 1-D pattern gives float states; batch E and dE/dw are sums over patterns."""
    case = random_case_factory(seed)
    net, X, T, loss = case.net, case.X, case.T, case.loss
    E, grads = net.gradients(X, T, loss)
    E_sum, g_sum = 0.0, dict.fromkeys(grads, 0.0)
    for x, t in zip(X, T):
        Ei, gi = assert_engine_matches_reference(net, x, t, loss)
        for unit in net.neurons:
            assert isinstance(unit.out, float) and isinstance(unit.delta, float)
        E_sum += Ei
        for k, v in gi.items():
            g_sum[k] += v
    assert _close(E, E_sum, 1e-12)
    assert all(_close(grads[k], g_sum[k], 1e-12) for k in grads)


CASE_PARAMS = dict(
    seed=st.integers(0, 2**20),
    config=st.sampled_from(CONFIGS),
    n_layers=st.integers(1, 4),
    max_width=st.integers(1, 4),
    p_skip=st.floats(0.0, 0.9),
    batch=st.integers(1, 6),
    hidden_softmax=st.booleans(),
    output_feeds=st.booleans(),
    softmax_feeds=st.booleans(),
    extras=st.booleans(),
)


@settings(max_examples=30, derandomize=True, deadline=None, database=None)
@given(**CASE_PARAMS)
def test_property_engine_matches_reference(random_case_factory, seed, config, n_layers, max_width, p_skip,
                                           batch, hidden_softmax, output_feeds, softmax_feeds, extras):
    """Hypothesis-drawn DAG parameters: the engine always equals the oracle."""
    case = random_case_factory(seed, config, n_layers=n_layers, max_width=max_width, p_skip=p_skip,
                               batch=batch, hidden_softmax=hidden_softmax, output_feeds=output_feeds,
                               softmax_feeds=softmax_feeds, extras=extras, require_features=False)
    assert case.X.shape[0] == batch
    assert_engine_matches_reference(case.net, case.X, case.T, case.loss)


# --- dangling and unreached neurons ---------------------------------------------------------


@pytest.mark.parametrize("seed", CASE_SEEDS)
def test_dangling_and_unreached_neurons(seed, random_case_factory, random_case_constants):
    """No output depends on it: delta and its weights' gradients exactly 0; no inputs: f(0)."""
    case = random_case_factory(seed)
    net, info = case.net, case.info
    f0 = random_case_constants["f_of_zero"]
    _, grads = net.gradients(case.X, case.T, case.loss)
    assert info["dangling"] and info["zero_in"] and info["bias_only"]
    for name in info["dangling"]:
        unit = net[name]
        assert np.all(unit.delta == 0.0), (name, unit.delta)
        for p in unit.predecessors:
            assert grads[(p.name, name)] == 0.0
    for name in info["zero_in"]:
        unit = net[name]
        assert np.all(unit.net == 0.0)
        assert np.all(unit.out == f0[case.activation[name]]), (name, unit.out)
    for name in info["bias_only"]:
        unit = net[name]
        (b,) = unit.predecessors
        w = net.weight(b, name)
        expected = net.registry.activation(case.activation[name]).function(np.array([[w]]))[0, 0]
        np.testing.assert_allclose(unit.out, np.full(case.X.shape[0], expected), rtol=1e-14, atol=0)
    for name in info["unreached"]:
        out = net[name].out
        assert np.all(out == out[0]), (name, out)     # no input reaches it: constant over the batch


def test_neuron_without_inputs_outputs_f_of_zero(fd_gradient):
    """A sigmoid neuron with no incoming edges outputs 0.5 and still passes a delta back."""
    net = neurosim.Network(seed=1)
    net.add_input("x")
    net.add_bias("b")
    net.add_neuron("z", "sigmoid")            # no incoming edges at all
    net.add_neuron("t", "tanh")               # no incoming edges, no outgoing either
    net.add_neuron("o", "sigmoid", output=True)
    net.connect("x", "o", weight=0.7)
    net.connect("z", "o", weight=0.8)
    net.connect("b", "o", weight=0.1)
    X, T = np.array([[0.3], [-0.2]]), np.array([[0.9], [0.1]])
    E, grads = net.gradients(X, T, "mse")
    assert np.all(net["z"].out == 0.5) and np.all(net["z"].net == 0.0)
    assert np.all(net["t"].out == 0.0) and np.all(net["t"].delta == 0.0)
    np.testing.assert_allclose(net["o"].net, 0.7 * X[:, 0] + 0.8 * 0.5 + 0.1, rtol=1e-15)
    y = 1 / (1 + np.exp(-(0.7 * X[:, 0] + 0.5)))
    delta_o = (y - T[:, 0]) * y * (1 - y)
    np.testing.assert_allclose(net["o"].delta, delta_o, rtol=1e-13)
    np.testing.assert_allclose(net["z"].delta, 0.8 * delta_o * 0.25, rtol=1e-13)   # sigmoid'(0) = 1/4
    assert grads[("z", "o")] == pytest.approx(np.sum(delta_o * 0.5), rel=1e-13)
    assert_fd_agrees(net, X, T, "mse", fd_gradient)
    # adding a dangling neuron later (a recompilation) changes neither E nor any gradient
    net.add_neuron("d", "relu")
    net.connect("x", "d", weight=2.0)
    E2, grads2 = net.gradients(X, T, "mse")
    assert E2 == E and all(grads2[k] == v for k, v in grads.items())
    assert grads2[("x", "d")] == 0.0 and np.all(net["d"].delta == 0.0)
    assert_engine_matches_reference(net, X, T, "mse")


# --- float32 --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(0, N_CASES, 5))
def test_float32_matches_float64_reference(seed, random_case_factory, kernel):
    """A float32 network's gradients agree with the float64 oracle on the same weights
    (with the chosen kernels, every level dense, every level gathered)."""
    case = random_case_factory(seed)
    net32 = case.build(np.float32)
    X32, T32 = case.X.astype(np.float32), case.T.astype(np.float32)
    E32, g32 = net32.gradients(X32, T32, case.loss)
    assert net32.forward(X32).dtype == np.float32
    assert net32[case.spec.neurons[0][0]].out.dtype == np.float32
    net64 = case.build(np.float64)
    for (s, d), w in net32.weights().items():       # the float32 weights, exactly
        net64.set_weight(s, d, w)
    E64, g64, _, _ = reference_pass(net64, X32.astype(np.float64), T32.astype(np.float64), case.loss)
    assert abs(E32 - E64) <= F32_TOL * max(1.0, abs(E64))
    bad = {k: (g32[k], g64[k]) for k in g64 if not _close(g32[k], g64[k], F32_TOL)}
    assert not bad, bad
    # and float32 really is less precise than float64 here: the test could tell them apart
    assert any(g32[k] != g64[k] for k in g64)


# --- softmax group split between output and hidden members ----------------------------------


def _split_group_net():
    net = neurosim.Network(seed=0)
    net.add_input("x")
    net.add_bias("b")
    net.add_neuron("s1", "softmax", output=True, group="g")
    net.add_neuron("s2", "softmax", group="g")
    net.add_neuron("o", "sigmoid", output=True)
    net.connect("x", "s1", weight=0.3)
    net.connect("x", "s2", weight=-0.7)
    net.connect("b", "s2", weight=0.2)
    net.connect("s2", "o", weight=1.5)
    return net, np.array([[0.5], [1.0]]), np.array([[0.2, 0.7], [0.9, 0.1]])


def test_split_softmax_group_reference_matches_fd():
    """The oracle normalises a group over all its members, output or not.

    Its gradients agree with central differences of the oracle's own error (not of
    ``net.error``, which runs the engine), so it is a trustworthy yardstick for the
    engine test below.
    """
    net, X, T = _split_group_net()
    _, gr, outs, _ = reference_pass(net, X, T, "mse")
    np.testing.assert_allclose(outs["s1"] + outs["s2"], 1.0, rtol=1e-15)
    for (s, d), g in gr.items():
        w = net.weight(s, d)
        net.set_weight(s, d, w + FD_STEP)
        ep = reference_pass(net, X, T, "mse")[0]
        net.set_weight(s, d, w - FD_STEP)
        em = reference_pass(net, X, T, "mse")[0]
        net.set_weight(s, d, w)
        fd = (ep - em) / ((w + FD_STEP) - (w - FD_STEP))
        assert _close(g, fd, FD_TOL), ((s, d), g, fd)
    assert max(abs(g) for g in gr.values()) > 1e-2


def test_split_softmax_group_engine_matches_reference():
    """A softmax group with one output member and one hidden member.

    Regression test: the engine used to split such a group into an output segment and a
    hidden segment and normalise each separately (s1 and s2 both output 1.0).
    """
    net, X, T = _split_group_net()
    net.forward(X)
    np.testing.assert_allclose(net["s1"].out + net["s2"].out, 1.0, rtol=1e-12)
    for loss in ("mse", "bce", "cce"):       # cce/bce: a partial group takes the general path
        assert_engine_matches_reference(net, X, T, loss)


@pytest.mark.parametrize("seed", range(9))
def test_split_softmax_group_random_dags(seed, random_case_factory, fd_gradient):
    """Random DAGs with a softmax group of one output and one hidden member: FD and oracle."""
    config = ("mse", "bce_softmax", "cce_softmax")[seed % 3]
    case = random_case_factory(seed, config, split_group=True)
    assert ("g0", "softmax", True, "split") in case.spec.neurons
    assert ("g1", "softmax", False, "split") in case.spec.neurons
    case.net.forward(case.X)
    np.testing.assert_allclose(case.net["g0"].out + case.net["g1"].out, 1.0, rtol=1e-12)
    assert_engine_matches_reference(case.net, case.X, case.T, case.loss)
    assert_fd_agrees(case.net, case.X, case.T, case.loss, fd_gradient)


# --- the factory really produces what the tests above claim ---------------------------------


def test_random_cases_cover_required_features(random_case_factory, random_case_constants):
    """Across the seeded cases, every required structure and loss path actually occurs."""
    assert tuple(random_case_constants["configs"]) == CONFIGS
    per_config = dict.fromkeys(CONFIGS, 0)
    counts = dict.fromkeys(["hidden_output", "softmax_output_feeds", "fused_softmax_feeds", "hidden_softmax",
                            "frozen", "initialiser", "relu", "zero_in_used", "softmax_outputs_mse",
                            "softmax_outputs_bce", "sigmoid_and_softmax_outputs", "hidden_softmax_depths"], 0)
    for seed in CASE_SEEDS:
        case = random_case_factory(seed)
        info, spec = case.info, case.spec
        per_config[case.config] += 1
        assert case.X.shape[0] >= 2                                      # batch > 1
        assert info["skip_edges"], seed                                  # edges skipping generations
        assert len(info["biases_used"]) >= 2, seed                       # several bias units
        assert info["mixed_generation"], seed                            # mixed activations in a generation
        assert info["dangling"] and info["zero_in"] and info["bias_only"], seed
        G = info["graph"]
        act = case.activation
        outputs = [n for n, _, o, _ in spec.neurons if o]
        with_succ = set(info["outputs_with_successors"])
        counts["hidden_output"] += any(n.startswith("h") for n in with_succ)
        counts["softmax_output_feeds"] += any(act[n] == "softmax" for n in with_succ)
        counts["fused_softmax_feeds"] += case.loss == "cce" and any(act[n] == "softmax" for n in with_succ)
        counts["hidden_softmax"] += bool(info["hidden_softmax"])
        depth = {u: k for k, gen in enumerate(nx.topological_generations(G)) for u in gen}
        counts["hidden_softmax_depths"] += len({depth[n] for n in info["hidden_softmax"]}) >= 2
        counts["frozen"] += any(not tr for *_, tr in spec.edges)
        counts["initialiser"] += any(w is None for _, _, w, _ in spec.edges)
        counts["relu"] += "relu" in act.values()
        counts["zero_in_used"] += any(G.out_degree(n) and n not in info["dangling"] for n in info["zero_in"])
        counts["softmax_outputs_mse"] += case.loss == "mse" and bool(info["softmax_outputs"])
        counts["softmax_outputs_bce"] += case.loss == "bce" and bool(info["softmax_outputs"])
        counts["sigmoid_and_softmax_outputs"] += (bool(info["softmax_outputs"])
                                                  and any(act[o] == "sigmoid" for o in outputs))
    assert set(per_config.values()) == {N_CASES // len(CONFIGS)}
    low = {k: v for k, v in counts.items() if v < 3}
    assert not low, f"features too rare in the random cases: {low} of {counts}"
