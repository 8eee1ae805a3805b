"""Shared fixtures: a seeded random-DAG network factory, a finite-difference helper and the small XOR net the training tests use (``xor_net``). The factory (fixture ``make_random_case``) draws a plain description of a feed-forward net (:class:`NetSpec`: inputs, several bias units, neurons with mixed activations per generation, skip connections, an optional hidden softmax group, outputs that feed other neurons, dangling neurons, a zero-in-degree neuron and a bias-only neuron, some frozen edges and some weights left to the seeded initialiser) plus a batch of inputs and loss-appropriate targets, and accepts a draw only when it is well conditioned for finite differences (no relu net input near its kink, cross-entropy outputs away from 0 and 1, every requested feature present); rejected draws are redrawn from ``(seed, attempt)``, so the same seed always gives the same case. :class:`RandomCase` can instantiate the same network again with another dtype. Test modules use these through the fixtures only (no imports between test files).
"""

from __future__ import annotations

import contextlib
import signal
import warnings
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pytest

import neurosim

#: Elementwise activations drawn for hidden neurons (softmax is added as explicit groups).
ELEMENTWISE = ("identity", "sigmoid", "tanh", "relu")

#: f(0) of each elementwise activation: what a neuron with no incoming edges outputs.
F_OF_ZERO = {"identity": 0.0, "sigmoid": 0.5, "tanh": 0.0, "relu": 0.0}

#: Loss configurations the factory knows, and which loss each one uses.
#:   mse          -- plain outputs of every elementwise activation plus a softmax output
#:                   group (mse has no fused delta, so softmax takes the general vjp path);
#:   bce_sigmoid  -- sigmoid outputs only (fused delta y - t);
#:   bce_softmax  -- a softmax output group (general path: dE/dy then the vjp) next to
#:                   sigmoid outputs (fused) in the same network;
#:   cce_softmax  -- a softmax output group (fused delta y*sum(t) - t);
#:   cce_sigmoid  -- sigmoid outputs with cce (general path: -t/y times y(1-y)).
CONFIGS = {
    "mse": "mse",
    "bce_sigmoid": "bce",
    "bce_softmax": "bce",
    "cce_softmax": "cce",
    "cce_sigmoid": "cce",
}
CONFIG_NAMES = tuple(CONFIGS)

#: Margin kept between every relu net input and its kink at 0. A central difference with
#: h = 1e-6 moves any net input by at most ~h * |y| * |path weights| << 1e-4, so both
#: sides of every difference stay on the same linear piece.
RELU_MARGIN = 1e-3

#: Cross-entropy outputs are kept inside (OUT_MARGIN, 1 - OUT_MARGIN) so the error and its
#: derivatives stay moderate (saturated outputs would make finite differences meaningless).
OUT_MARGIN = 1e-3

#: Accepted draws have a total error below this, which bounds the rounding error of a
#: finite difference (see ``numeric_gradient``).
MAX_ERROR = 100.0


@dataclass(frozen=True)
class NetSpec:
    """A network as plain data: build it with :func:`build_network` in any dtype."""

    inputs: tuple
    biases: tuple
    neurons: tuple          # (name, activation, output, group) in add order
    edges: tuple            # (src, dst, weight or None, trainable) in connect order
    seed: int               # Network seed (initialiser draws for weight=None edges)


def build_network(spec: NetSpec, dtype: Any = np.float64, *, compile: bool = True,
                  **network_options: Any) -> neurosim.Network:
    """Instantiate ``spec`` as a :class:`neurosim.Network` (``network_options`` go to its
    constructor), compiled unless ``compile=False``."""
    net = neurosim.Network(seed=spec.seed, dtype=dtype, **network_options)
    for name in spec.inputs:
        net.add_input(name)
    for name in spec.biases:
        net.add_bias(name)
    for name, act, output, group in spec.neurons:
        net.add_neuron(name, act, output=output, group=group)
    for src, dst, w, trainable in spec.edges:
        net.connect(src, dst, weight=w, trainable=trainable)
    if compile:
        net.compile()   # draws the initialiser's weights, so net.graph carries numbers
    return net


@dataclass
class RandomCase:
    """One random network with a batch of data and a loss."""

    seed: int
    config: str
    loss: str
    spec: NetSpec
    X: np.ndarray
    T: np.ndarray
    net: neurosim.Network
    attempt: int = 0
    info: dict = field(default_factory=dict)

    def build(self, dtype: Any = np.float64) -> neurosim.Network:
        """A fresh network with this case's topology, in ``dtype``."""
        return build_network(self.spec, dtype)

    @property
    def activation(self) -> dict:
        """``{name: activation}`` of every computing neuron."""
        return {n: a for n, a, _, _ in self.spec.neurons}


def _graph_facts(spec: NetSpec) -> dict:
    """Structural facts of ``spec`` computed from its graph (independently of neurosim)."""
    G = nx.DiGraph()
    G.add_nodes_from(spec.inputs + spec.biases)
    G.add_nodes_from(n for n, *_ in spec.neurons)
    G.add_edges_from((s, d) for s, d, *_ in spec.edges)
    neurons = [n for n, *_ in spec.neurons]
    act = {n: a for n, a, _, _ in spec.neurons}
    outputs = [n for n, _, o, _ in spec.neurons if o]
    # A neuron is needed when some output depends on its net. Softmax couples a group, so
    # when one member is needed every member's net (and everything feeding it) is too.
    groups: dict[str, set] = {}
    for n, a, o, g in spec.neurons:
        if a == "softmax":
            groups.setdefault(g or "outputs", set()).add(n)
    needed: set = set()
    frontier = set(outputs)
    while frontier:
        needed |= frontier
        for n in list(frontier):
            needed |= nx.ancestors(G, n)
        frontier = {m for members in groups.values() if members & needed for m in members} - needed
    inputs = set(spec.inputs)
    gen = {u: k for k, g in enumerate(nx.topological_generations(G)) for u in g}
    by_gen: dict[int, set] = {}
    for n in neurons:
        by_gen.setdefault(gen[n], set()).add(act[n])
    return {
        "graph": G,
        "dangling": sorted(n for n in neurons if n not in needed),
        "zero_in": sorted(n for n in neurons if G.in_degree(n) == 0),
        "bias_only": sorted(n for n in neurons if G.in_degree(n) > 0
                            and all(p in spec.biases for p in G.predecessors(n))),
        "unreached": sorted(n for n in neurons if not inputs & nx.ancestors(G, n)),
        "skip_edges": [(s, d) for s, d in G.edges if gen[d] - gen[s] >= 2],
        "biases_used": sorted(b for b in spec.biases if G.out_degree(b)),
        "mixed_generation": any(len(a) >= 2 for a in by_gen.values()),
        "outputs_with_successors": sorted(o for o in outputs if G.out_degree(o)),
        "hidden_softmax": sorted(n for n, a, o, _ in spec.neurons if a == "softmax" and not o),
        "softmax_outputs": sorted(n for n, a, o, _ in spec.neurons if a == "softmax" and o),
    }


def _draw_spec(rng: np.random.Generator, config: str, *, n_layers: int, max_width: int, p_skip: float,
               hidden_softmax: bool, output_feeds: bool, softmax_feeds: bool, extras: bool,
               split_group: bool, net_seed: int) -> NetSpec:
    inputs = tuple(f"x{i}" for i in range(int(rng.integers(1, 4))))
    biases = tuple(f"b{i}" for i in range(int(rng.integers(2, 4))))
    neurons: list[tuple] = []
    edges: dict[tuple, tuple] = {}

    def add(name, act, output=False, group=None):
        neurons.append((name, act, bool(output), group))
        return name

    def connect(src, dst):
        if (src, dst) not in edges:
            w = None if rng.random() < 0.25 else float(rng.normal(0.0, 0.9))
            edges[(src, dst)] = (w, bool(rng.random() > 0.1))

    def pick(seq):
        return seq[int(rng.integers(len(seq)))]

    layers: list[list[str]] = [list(inputs)]

    def feed(dst, k, *, from_prev=True, bias=True):
        """Edges into ``dst`` of layer ``k``: one or more from layer k-1, skips, a bias."""
        earlier = [u for layer in layers[:k - 1] for u in layer]
        if from_prev or not earlier:
            prev = layers[k - 1]
            connect(pick(prev), dst)
            for u in prev:
                if rng.random() < 0.5:
                    connect(u, dst)
        else:
            connect(pick(earlier), dst)
        for u in earlier:
            if rng.random() < p_skip:
                connect(u, dst)
        if bias and rng.random() < 0.85:
            connect(pick(biases), dst)

    sm_layer = int(rng.integers(1, n_layers + 1)) if hidden_softmax else None
    ho_layer = int(rng.integers(1, n_layers)) if output_feeds and n_layers >= 2 else None
    ho = None
    for k in range(1, n_layers + 1):
        width = int(rng.integers(min(2, max_width) if k == 1 else 1, max_width + 1))
        acts = [pick(ELEMENTWISE) for _ in range(width)]
        if width >= 2 and len(set(acts)) == 1:     # mixed activations within a generation
            acts[1] = pick([a for a in ELEMENTWISE if a != acts[0]])
        layer = []
        for j, act in enumerate(acts):
            name = f"h{k}_{j}"
            is_out = ho_layer == k and j == 0
            if is_out:
                ho = name
                if CONFIGS[config] != "mse":
                    act = "sigmoid"               # an output must suit bce/cce: y in (0, 1)
            layer.append(add(name, act, output=is_out))
            feed(name, k)
        if sm_layer == k:
            # A hidden softmax group; members may sit at different depths (fed from any
            # earlier layer), so the engine must keep the group together in one level.
            for j in range(int(rng.integers(2, 4))):
                name = add(f"s{k}_{j}", "softmax", group="hsm")
                layer.append(name)
                feed(name, k, from_prev=bool(rng.random() < 0.5))
        if split_group and k == n_layers:
            # A softmax group with one output member and hidden members (see the test
            # that uses split_group=True).
            for j in range(2):
                name = add(f"g{j}", "softmax", output=(j == 0), group="split")
                layer.append(name)
                feed(name, k)
        layers.append(layer)

    # Output layer, in a shuffled add order so softmax and other columns interleave in T.
    loss = CONFIGS[config]
    plan: list[str] = []
    if config == "mse":
        plan += [pick(ELEMENTWISE) for _ in range(int(rng.integers(1, 3)))] + ["softmax"] * int(rng.integers(2, 4))
    elif config == "bce_sigmoid":
        plan += ["sigmoid"] * int(rng.integers(1, 4))
    elif config == "cce_sigmoid":                      # cce takes one output per class: two or more
        plan += ["sigmoid"] * int(rng.integers(2, 4))
    elif config == "bce_softmax":
        plan += ["softmax"] * int(rng.integers(2, 4)) + ["sigmoid"] * int(rng.integers(1, 3))
    elif config == "cce_softmax":
        plan += ["softmax"] * int(rng.integers(2, 4))
    else:
        raise ValueError(f"unknown config {config!r}")
    rng.shuffle(plan)
    k_out = n_layers + 1
    out_layer = []
    for j, act in enumerate(plan):
        name = add(f"o{j}", act, output=True)
        out_layer.append(name)
        feed(name, k_out)
    layers.append(out_layer)
    if ho is not None:
        # the hidden output feeds at least one neuron of the next layer
        nxt = [u for u in layers[ho_layer + 1]]
        connect(ho, pick(nxt))
    if softmax_feeds and "softmax" in plan:
        # a final output fed by the softmax outputs: outputs with successors on the fused path
        act = pick(ELEMENTWISE) if loss == "mse" else "sigmoid"
        name = add("fo", act, output=True)
        sm = [u for u, a in zip(out_layer, plan) if a == "softmax"]
        connect(pick(sm), name)
        for u in out_layer + layers[n_layers]:
            if rng.random() < 0.4:
                connect(u, name)
        connect(pick(biases), name)

    if extras:
        hidden = [u for layer in layers[1:n_layers + 1] for u in layer]
        computing = hidden + out_layer
        # dead1 -> dead2: a chain no output depends on
        k = int(rng.integers(1, n_layers + 1))
        add("dead1", pick(ELEMENTWISE))
        feed("dead1", k)
        add("dead2", pick(ELEMENTWISE))
        connect("dead1", "dead2")
        for u in [u for layer in layers[:k + 1] for u in layer]:
            if rng.random() < 0.3:
                connect(u, "dead2")
        # a neuron with no incoming edges at all: outputs f(0)
        add("zin", pick(ELEMENTWISE))
        if rng.random() < 0.7:
            connect("zin", pick(computing))
        # a neuron fed only by a bias unit: a constant over the batch
        add("bonly", pick(ELEMENTWISE))
        connect(pick(biases), "bonly")
        if rng.random() < 0.8:
            connect("bonly", pick(computing))
    return NetSpec(inputs, biases, tuple(neurons),
                   tuple((s, d, w, tr) for (s, d), (w, tr) in edges.items()), net_seed)


def _draw_data(rng, spec: NetSpec, config: str, batch: int):
    X = rng.uniform(-1.5, 1.5, size=(batch, len(spec.inputs)))
    outs = [(n, a) for n, a, o, _ in spec.neurons if o]
    T = np.empty((batch, len(outs)))
    loss = CONFIGS[config]
    sm_cols = [j for j, (_, a) in enumerate(outs) if a == "softmax"]
    for j, (_, a) in enumerate(outs):
        T[:, j] = rng.uniform(-1.0, 1.0, batch) if loss == "mse" and a != "softmax" else rng.uniform(0, 1, batch)
    if loss == "cce" and sm_cols and rng.random() < 0.5:
        # one-hot targets over the softmax group (the textbook case); otherwise arbitrary
        # targets in [0, 1], for which the fused delta y*sum(t) - t is still exact
        T[:, sm_cols] = np.eye(len(sm_cols))[rng.integers(len(sm_cols), size=batch)]
    return X, T


def _acceptable(case: RandomCase, facts: dict, require: dict) -> bool:
    net = case.net
    E = net.error(case.X, case.T, case.loss)
    if not np.isfinite(E) or E > MAX_ERROR:
        return False
    zero_in = set(facts["zero_in"])
    for name, act in case.activation.items():
        if act == "relu" and name not in zero_in and np.min(np.abs(net[name].net)) < RELU_MARGIN:
            return False
    if case.loss in ("bce", "cce"):
        Y = net.forward(case.X)
        if np.min(Y) < OUT_MARGIN or np.max(Y) > 1 - OUT_MARGIN:
            return False
    return all(bool(facts[key]) for key, wanted in require.items() if wanted)


def make_random_case(seed: int, config: str | None = None, *, n_layers: int | None = None,
                     max_width: int = 4, p_skip: float = 0.3, batch: int | None = None,
                     hidden_softmax: bool | None = None, output_feeds: bool | None = None,
                     softmax_feeds: bool | None = None, extras: bool = True, split_group: bool = False,
                     require_features: bool = True, max_attempts: int = 200) -> RandomCase:
    """Draw a well-conditioned random network with data, deterministically from ``seed``.

    ``config`` defaults to ``CONFIG_NAMES[seed % 5]``; options left as None are drawn from
    the seed. With ``require_features`` the draw is repeated until it has a skip edge, two
    or more bias units in use, a generation with mixed activations and (with ``extras``)
    dangling, zero-in-degree and bias-only neurons.
    """
    config = CONFIG_NAMES[seed % len(CONFIG_NAMES)] if config is None else config
    top = np.random.default_rng([seed, 7919])
    n_layers = int(top.integers(2, 5)) if n_layers is None else n_layers
    batch = int(top.integers(2, 6)) if batch is None else batch
    hidden_softmax = bool(top.random() < 0.6) if hidden_softmax is None else hidden_softmax
    output_feeds = bool(top.random() < 0.6) if output_feeds is None else output_feeds
    softmax_feeds = bool(top.random() < 0.5) if softmax_feeds is None else softmax_feeds
    require = {"skip_edges": True, "mixed_generation": True, "dangling": extras, "zero_in": extras,
               "bias_only": extras, "hidden_softmax": hidden_softmax} if require_features else {}
    for attempt in range(max_attempts):
        rng = np.random.default_rng([seed, attempt])
        spec = _draw_spec(rng, config, n_layers=n_layers, max_width=max_width, p_skip=p_skip,
                          hidden_softmax=hidden_softmax, output_feeds=output_feeds,
                          softmax_feeds=softmax_feeds, extras=extras, split_group=split_group,
                          net_seed=seed * 1000 + attempt)
        X, T = _draw_data(rng, spec, config, batch)
        facts = _graph_facts(spec)
        if require_features and len(facts["biases_used"]) < 2:
            continue
        case = RandomCase(seed, config, CONFIGS[config], spec, X, T, build_network(spec), attempt, facts)
        if _acceptable(case, facts, require):
            return case
    raise RuntimeError(f"no acceptable random network for seed {seed} ({config}) in {max_attempts} attempts")


def numeric_gradient(net: neurosim.Network, X, T, loss: str, h: float = 1e-6) -> dict:
    """Central differences ``(E(w+h) - E(w-h)) / 2h`` of ``net.error`` for every edge.

    Each weight is restored exactly afterwards. The step actually taken is
    ``(w + h) - (w - h)`` as represented in floating point.
    """
    fd = {}
    for (s, d), w in net.weights().items():
        wp, wm = w + h, w - h
        net.set_weight(s, d, wp)
        ep = net.error(X, T, loss)
        net.set_weight(s, d, wm)
        em = net.error(X, T, loss)
        net.set_weight(s, d, w)
        fd[(s, d)] = (ep - em) / (wp - wm)
    return fd


@pytest.fixture(scope="session")
def random_case_factory():
    """``make_random_case(seed, config=None, **options) -> RandomCase`` (fresh network each call)."""
    return make_random_case


@pytest.fixture(scope="session")
def spec_network():
    """``build_network(spec, dtype=float64, *, compile=True, **network_options) -> Network``."""
    return build_network


@pytest.fixture(scope="session")
def fd_gradient():
    """``numeric_gradient(net, X, T, loss, h=1e-6) -> {(src, dst): dE/dw}`` by central differences."""
    return numeric_gradient


@pytest.fixture(scope="session")
def random_case_constants():
    """Module constants of the factory: configs, f(0) per activation, margins."""
    return {"configs": CONFIG_NAMES, "loss_of": dict(CONFIGS), "f_of_zero": dict(F_OF_ZERO),
            "relu_margin": RELU_MARGIN, "out_margin": OUT_MARGIN, "max_error": MAX_ERROR,
            "elementwise": ELEMENTWISE}


# --- refusals and time limits, for every test module ------------------------------------------


def _refused(exc_type, fragments, func, *args, **kwargs):
    """Call ``func``; check it raises ``exc_type`` (a NeurosimError) whose message holds every
    fragment, and that no warning escaped. Returns the error."""
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


@pytest.fixture
def refused():
    """``refused(exc_type, fragments, func, *args, **kwargs) -> error``: ``func(*args,
    **kwargs)`` must raise ``exc_type`` (a NeurosimError) with every fragment in its message,
    and let no warning escape."""
    return _refused


@contextlib.contextmanager
def _time_limit(seconds: int, expired=None):
    """Raise ``expired`` (default: an AssertionError saying the body blocked) when the body
    takes longer than ``seconds``, instead of hanging the test run (POSIX: SIGALRM)."""
    def alarm(signum, frame):
        raise expired if expired is not None else AssertionError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def time_limit():
    """``with time_limit(seconds, expired=None):`` fails the test (or raises ``expired``,
    e.g. ``KeyboardInterrupt`` to play a Ctrl-C) when the body runs longer."""
    return _time_limit


def _xor_net(seed: int = 0, **kwargs: Any) -> neurosim.Network:
    """A 2-3-1 sigmoid net with a shared bias unit, its weights drawn from U(±0.5) by ``seed``."""
    net = neurosim.Network(seed=seed, init_options={"scale": 0.5}, **kwargs)
    net.add_layer("i", 2, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 3, "sigmoid", connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h], bias=b)
    return net


@pytest.fixture
def xor_net():
    """``xor_net(seed=0, **network_kwargs) -> Network``: the small net the training tests
    train on XOR (2-3-1 sigmoid, shared bias)."""
    return _xor_net
