"""The benchmark workloads W1–W7 as neurosim networks, data and training settings.
Each ``build_*`` function returns a :class:`Case`: a neurosim :class:`~neurosim.Network`
whose initial weights are already drawn, the training data, the keyword arguments of
``Network.train``, and the *layout* the hand-written references need to copy those
initial weights (which source units feed which layer, in which column order). The
references (:mod:`ref_numpy`, :mod:`ref_torch`) start from exactly these weights, so
every implementation computes the same numbers. ``smoke=True`` shrinks every workload so
the whole suite, correctness gate included, runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import neurosim

__all__ = ["Case", "Layer", "build_w1", "build_w2", "build_w3", "build_w4", "build_w5", "build_w6", "build_w7",
           "build_w3nm", "build_w4c", "build_w8", "mazur_trainable_biases", "FANN_LR",
           "dataset", "symmetry_net", "layer_matrices", "layer_masks", "matrices_to_weights",
           "DagLayout", "dag_layout", "dag_to_weights", "BUILDERS"]


@dataclass
class Layer:
    """One dense layer of a layered network, as the references see it.

    ``W[j, i]`` is the weight from ``sources[i]`` to ``targets[j]``; the last source is a
    bias unit (its output is always 1), so ``W[:, -1]`` is the layer's bias.
    """

    targets: list[str]
    sources: list[str]
    activation: str


@dataclass
class Case:
    """One workload, ready to run: network, data, training settings and layout."""

    key: str
    net: neurosim.Network
    X: np.ndarray
    T: np.ndarray
    train: dict[str, Any]          # keyword arguments of Network.train, epochs included
    layers: list[Layer] | None = None   # layered nets (W1–W4, W6, W7)
    dag: Any = None                # W5: a DagLayout
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dtype(self) -> np.dtype:
        return self.net.dtype


def _dense_layers(net: neurosim.Network, sizes: list[tuple[str, int]], activations: list[str],
                  input_prefix: str = "i") -> list[Layer]:
    """Fully connect layers named ``h1..``/``o1..`` in sequence, one shared bias unit ``b``."""
    n_in = sizes[0][1]
    previous = net.add_layer(input_prefix, n_in, kind="input")
    net.add_bias("b")
    layers = []
    for (prefix, size), act in zip(sizes[1:], activations):
        last = prefix == sizes[-1][0]
        units = net.add_layer(prefix, size, act, output=last, connect_from=[previous], bias="b")
        layers.append(Layer([u.name for u in units], [u.name for u in previous] + ["b"], act))
        previous = units
    return layers


def layer_matrices(net: neurosim.Network, layers: list[Layer]) -> list[np.ndarray]:
    """Read a layered network's current weights into one ``(targets, sources)`` matrix per layer.

    Parameters
    ----------
    net : neurosim.Network
    layers : list of Layer

    Returns
    -------
    list of ndarray
        In the network's dtype; entries are read through ``net.weights()``.
    """
    w = net.weights()
    return [np.array([[w[(s, d)] for s in L.sources] for d in L.targets], dtype=net.dtype) for L in layers]


def layer_masks(net: neurosim.Network, layers: list[Layer]) -> list[np.ndarray]:
    """1/0 trainable masks shaped like :func:`layer_matrices`."""
    return [np.array([[1.0 if net.trainable(s, d) else 0.0 for s in L.sources] for d in L.targets],
                     dtype=net.dtype) for L in layers]


def matrices_to_weights(mats: list[np.ndarray], layers: list[Layer]) -> dict[tuple[str, str], float]:
    """The inverse of :func:`layer_matrices`: ``{(src, dst): weight}``.

    Parameters
    ----------
    mats : list of array_like
        One ``(targets, sources)`` matrix per layer.
    layers : list of Layer

    Returns
    -------
    dict
    """
    out = {}
    for M, L in zip(mats, layers):
        M = np.asarray(M, dtype=np.float64)
        for j, d in enumerate(L.targets):
            for i, s in enumerate(L.sources):
                out[(s, d)] = M[j, i]
    return out


# --- W1: Mazur 2-2-2 ------------------------------------------------------------------------

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def build_w1(smoke: bool = False) -> Case:
    """W1: the worked example's 2-2-2 sigmoid net, one pattern, online SGD lr 0.5, 10,000 steps.

    The network, its weights and its data come from ``scenarios/mazur.toml``, the one
    definition of the worked example.

    Parameters
    ----------
    smoke : bool, default False
        200 steps instead of 10,000.

    Returns
    -------
    Case
        Biases are weights from the bias units ``b1`` (hidden) and ``b2`` (outputs),
        frozen as in the worked example.
    """
    scenario = neurosim.load_scenario(SCENARIOS / "mazur.toml")
    net = scenario.check()
    layers = [Layer(["h1", "h2"], ["i1", "i2", "b1"], "sigmoid"),
              Layer(["o1", "o2"], ["h1", "h2", "b2"], "sigmoid")]
    X, T = scenario.train.inputs, scenario.train.targets
    train = dict(loss="mse", learning_rate=0.5, epochs=200 if smoke else 10_000, mode="online", momentum=0.0)
    return Case("W1", net, X, T, train, layers=layers)


# --- W2: XOR 2-2-1 ----------------------------------------------------------------------------

def build_w2(smoke: bool = False, seed: int = 0) -> Case:
    """W2: XOR on a 2-2-1 sigmoid net, online (4 patterns in order), momentum 0.9, lr 0.5.

    Parameters
    ----------
    smoke : bool, default False
        50 epochs instead of 2,000.
    seed : int, default 0
        Seed of the network's initialiser.

    Returns
    -------
    Case
    """
    net = neurosim.Network(seed=seed)
    layers = _dense_layers(net, [("i", 2), ("h", 2), ("o", 1)], ["sigmoid", "sigmoid"])
    net.compile()
    X, T = dataset("xor")
    train = dict(loss="mse", learning_rate=0.5, epochs=50 if smoke else 2_000, mode="online", momentum=0.9)
    return Case("W2", net, X, T, train, layers=layers)


# --- W3 and W6: mirror symmetry 6-2-1 ------------------------------------------------------------

def dataset(name: str, **options) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of one of neurosim's built-in datasets (``xor``, ``symmetry``, ...).

    Parameters
    ----------
    name : str
    **options
        The dataset's options.

    Returns
    -------
    X, T : ndarray
    """
    patterns = neurosim.default_registry().dataset(name)(**options)
    return patterns.inputs, patterns.targets


def symmetry_net(seed: int, dtype=np.float64) -> tuple[neurosim.Network, list[Layer]]:
    """A 6-2-1 sigmoid net with a shared bias unit, weights drawn (uniform ±0.3) from ``seed``.

    Parameters
    ----------
    seed : int
    dtype : numpy dtype, default float64

    Returns
    -------
    net : neurosim.Network
        Not yet compiled: its weights are drawn on first use, so an ensemble built from
        it draws member ``k``'s weights from ``seed + k``.
    layers : list of Layer
    """
    net = neurosim.Network(seed=seed, dtype=dtype, init="uniform", init_options={"scale": 0.3})
    layers = _dense_layers(net, [("i", 6), ("h", 2), ("o", 1)], ["sigmoid", "sigmoid"])
    return net, layers


def build_w3(smoke: bool = False, seed: int = 0) -> Case:
    """W3: mirror symmetry 6-2-1, all 64 patterns, batch mode, lr 0.1, momentum 0.9, 1,500 sweeps.

    Parameters
    ----------
    smoke : bool, default False
        50 sweeps instead of 1,500.
    seed : int, default 0

    Returns
    -------
    Case
    """
    net, layers = symmetry_net(seed)
    net.compile()
    X, T = dataset("symmetry", bits=6)
    train = dict(loss="mse", learning_rate=0.1, epochs=50 if smoke else 1_500, mode="batch", momentum=0.9)
    return Case("W3", net, X, T, train, layers=layers)


def build_w6(smoke: bool = False, seed: int = 0) -> Case:
    """W6: an ensemble of symmetry nets (seeds ``seed .. seed+K-1``), batch lr 0.1, momentum 0.9.

    Parameters
    ----------
    smoke : bool, default False
        K = 8 nets and 20 sweeps instead of 1,000 and 500.
    seed : int, default 0

    Returns
    -------
    Case
        ``net`` is the uncompiled seed-``seed`` network (for ``net.train(..., ensemble=K)``);
        ``extra["members"]`` holds K compiled networks with seeds ``seed + k`` and
        ``extra["K"]`` the ensemble size; ``extra["loop_K"]`` and ``extra["torch_K"]`` are
        how many members the per-network loops time (scaled to K in the table).
    """
    K = 8 if smoke else 1_000
    net, layers = symmetry_net(seed)
    members = []
    for k in range(K):
        m, _ = symmetry_net(seed + k)
        m.compile()
        members.append(m)
    X, T = dataset("symmetry", bits=6)
    train = dict(loss="mse", learning_rate=0.1, epochs=20 if smoke else 500, mode="batch", momentum=0.9)
    return Case("W6", net, X, T, train, layers=layers,
                extra={"members": members, "K": K, "seed": seed,
                       "loop_K": K if smoke else 20, "torch_K": min(K, 4) if smoke else 10})


def build_w7(smoke: bool = False, seed: int = 0) -> Case:
    """W7: mirror symmetry 6-2-1 as W3, trained by Rprop (iRprop-, Riedmiller's constants), 1,500 sweeps.

    Parameters
    ----------
    smoke : bool, default False
        50 sweeps instead of 1,500.
    seed : int, default 0

    Returns
    -------
    Case
        ``train`` names the ``rprop`` optimiser (batch mode, its defaults: Δ0 0.1, η⁺ 1.2,
        η⁻ 0.5, Δmax 50, Δmin 1e-6); ``extra["rprop"]`` holds those constants for the
        references.
    """
    case = build_w3(smoke, seed)              # the same net, weights and data
    case.key = "W7"
    case.train = dict(loss="mse", epochs=case.train["epochs"], mode="batch", optimizer="rprop")
    case.extra = {"rprop": {"delta0": 0.1, "eta_plus": 1.2, "eta_minus": 0.5, "delta_max": 50.0, "delta_min": 1e-6}}
    return case


# --- W4: 784-256-128-10 softmax ------------------------------------------------------------------

def build_w4(smoke: bool = False, dtype=np.float64, seed: int = 0) -> Case:
    """W4: 784-256-128-10, sigmoid hidden, softmax + summed cross-entropy, batch 128, 200 steps.

    Parameters
    ----------
    smoke : bool, default False
        A 32-16-8-4 net, batch 16, 5 steps.
    dtype : numpy dtype, default float64
    seed : int, default 0
        Seeds both the initial weights and the random data.

    Returns
    -------
    Case
        The data are uniform [0, 1) inputs and random one-hot targets (fixed seed); every
        step is one batch-mode update over the same batch.
    """
    sizes = [("i", 32), ("h", 16), ("g", 8), ("o", 4)] if smoke else [("i", 784), ("h", 256), ("g", 128), ("o", 10)]
    batch, steps = (16, 5) if smoke else (128, 200)
    net = neurosim.Network(seed=seed, dtype=dtype)
    layers = _dense_layers(net, sizes, ["sigmoid", "sigmoid", "softmax"])
    net.compile()
    rng = np.random.default_rng(seed + 1)
    X = rng.random((batch, sizes[0][1]))
    T = np.eye(sizes[-1][1])[rng.integers(0, sizes[-1][1], batch)]
    train = dict(loss="cce", learning_rate=0.01, epochs=steps, mode="batch", momentum=0.0)
    name = "W4-f32" if np.dtype(dtype) == np.float32 else "W4-f64"
    return Case(name, net, X.astype(dtype), T.astype(dtype), train, layers=layers)


def build_w4c(smoke: bool = False, dtype=np.float64, seed: int = 0) -> Case:
    """W4c: the W4 net trained on cycling minibatches: 4 batches of 128, 200 steps (50 epochs).

    Parameters
    ----------
    smoke : bool, default False
        A 32-16-8-4 net, 4 batches of 16, 8 steps.
    dtype : numpy dtype, default float64
    seed : int, default 0
        Seeds the initial weights (the same as W4's) and the data.

    Returns
    -------
    Case
        512 uniform [0, 1) inputs with random one-hot targets; neurosim trains in
        ``minibatch`` mode with ``batch_size`` 128, the batches taken in order, so step
        ``s`` uses batch ``s mod 4``; ``extra["steps"]`` and ``extra["batch_size"]``
        are for the references.
    """
    sizes = [("i", 32), ("h", 16), ("g", 8), ("o", 4)] if smoke else [("i", 784), ("h", 256), ("g", 128), ("o", 10)]
    batch, batches, steps = (16, 4, 8) if smoke else (128, 4, 200)
    net = neurosim.Network(seed=seed, dtype=dtype)
    layers = _dense_layers(net, sizes, ["sigmoid", "sigmoid", "softmax"])
    net.compile()
    rng = np.random.default_rng(seed + 1)
    n = batch * batches
    X = rng.random((n, sizes[0][1]))
    T = np.eye(sizes[-1][1])[rng.integers(0, sizes[-1][1], n)]
    train = dict(loss="cce", learning_rate=0.01, epochs=steps // batches, mode="minibatch", batch_size=batch,
                 momentum=0.0)
    name = "W4c-f32" if np.dtype(dtype) == np.float32 else "W4c-f64"
    return Case(name, net, X.astype(dtype), T.astype(dtype), train, layers=layers,
                extra={"steps": steps, "batch_size": batch})


#: W3-nm and W8 use learning rates that a C float holds (FANN stores them as floats).
FANN_LR = {"W3-nm": float(np.float32(0.1)), "W8": float(np.float32(0.01))}


def build_w3nm(smoke: bool = False, seed: int = 0) -> Case:
    """W3-nm: W3 without momentum (FANN's batch mode has none), lr 0.1 as a C float, 900 sweeps.

    900 rather than 1,500 sweeps: near sweep 1,000 a hidden unit's output passes 0.99,
    where FANN clips ``y`` in the sigmoid's derivative, and FANN's weights leave the
    others' (by 7e-2 at sweep 1,500); up to 900 they agree to 1e-15.

    Parameters
    ----------
    smoke : bool, default False
        50 sweeps.
    seed : int, default 0

    Returns
    -------
    Case
    """
    case = build_w3(smoke, seed)
    case.key = "W3-nm"
    case.train = dict(case.train, momentum=0.0, learning_rate=FANN_LR["W3-nm"], epochs=50 if smoke else 900)
    return case


def build_w8(smoke: bool = False, seed: int = 0) -> Case:
    """W8: 784-256-128-10 all sigmoid, mse, online SGD over 1,000 patterns (1,000 updates), lr 0.01.

    FANN has no softmax, so every layer is logistic and the loss ``½ Σ (t − y)²``.

    Parameters
    ----------
    smoke : bool, default False
        A 32-16-8-4 net and 40 patterns.
    seed : int, default 0
        Seeds the initial weights (uniform ±1/√fan-in, neurosim's default) and the data.

    Returns
    -------
    Case
        Uniform [0, 1) inputs, random one-hot targets, one epoch of online updates.
    """
    sizes = [("i", 32), ("h", 16), ("g", 8), ("o", 4)] if smoke else [("i", 784), ("h", 256), ("g", 128), ("o", 10)]
    n = 40 if smoke else 1_000
    net = neurosim.Network(seed=seed)
    layers = _dense_layers(net, sizes, ["sigmoid", "sigmoid", "sigmoid"])
    net.compile()
    rng = np.random.default_rng(seed + 1)
    X = rng.random((n, sizes[0][1]))
    T = np.eye(sizes[-1][1])[rng.integers(0, sizes[-1][1], n)]
    train = dict(loss="mse", learning_rate=FANN_LR["W8"], epochs=1, mode="online", momentum=0.0)
    return Case("W8", net, X, T, train, layers=layers)


def mazur_trainable_biases(smoke: bool = False) -> Case:
    """W1 with the biases trainable: what FANN computes (its bias weights always train).

    Parameters
    ----------
    smoke : bool, default False

    Returns
    -------
    Case
    """
    case = build_w1(smoke)
    for L in case.layers:
        for d in L.targets:
            case.net.set_trainable(L.sources[-1], d, True)
    return case


# --- W5: random DAG ----------------------------------------------------------------------------------

@dataclass
class DagLayout:
    """A random DAG in plain arrays, units numbered inputs first, then generation by generation.

    Attributes
    ----------
    names : list of str
        Unit names in that numbering (no bias unit: biases are ``b``).
    n_inputs : int
    gens : list of (start, stop)
        Rows of each topological generation of computing neurons.
    src : list of ndarray
        Per generation ``(n_gen, fan_in)`` source rows of each neuron's incoming edges.
    W : list of ndarray
        Per generation ``(n_gen, fan_in)`` initial weights, aligned with ``src``.
    b : ndarray
        ``(n_units,)`` initial biases (0 for inputs).
    out_rows : ndarray
        Rows of the output neurons, in output order.
    is_output : ndarray of bool
        ``(n_units,)``: True for the sigmoid outputs (hidden neurons are tanh); within a
        generation the outputs come last.
    """

    names: list[str]
    n_inputs: int
    gens: list[tuple[int, int]]
    src: list[np.ndarray]
    W: list[np.ndarray]
    b: np.ndarray
    out_rows: np.ndarray
    is_output: np.ndarray


def build_w5(smoke: bool = False, seed: int = 0) -> Case:
    """W5: random DAG, 64 inputs, 2,000 tanh hidden, 10 sigmoid outputs, 25 edges in per neuron.

    Each computing neuron gets 25 incoming edges from distinct random earlier units
    (inputs or hidden neurons, so many connections skip levels) and a bias. mse, batch
    256, 50 steps of batch gradient descent (lr 0.001, no momentum).

    Parameters
    ----------
    smoke : bool, default False
        16 inputs, 100 hidden, 4 outputs, 6 edges in, batch 32, 3 steps.
    seed : int, default 0
        Seeds the structure, the initial weights and the data.

    Returns
    -------
    Case
        ``dag`` holds the :class:`DagLayout` for the references.
    """
    n_in, n_hid, n_out, fan, batch, steps = (16, 100, 4, 6, 32, 3) if smoke else (64, 2_000, 10, 25, 256, 50)
    rng = np.random.default_rng(seed)
    net = neurosim.Network(seed=seed)
    names = [u.name for u in net.add_layer("x", n_in, kind="input")]
    net.add_bias("b")
    preds: dict[str, list[str]] = {}
    for k in range(n_hid + n_out):
        output = k >= n_hid
        name = f"o{k - n_hid + 1}" if output else f"h{k + 1}"
        net.add_neuron(name, "sigmoid" if output else "tanh", output=output)
        pool = n_in + min(k, n_hid)           # earlier units: inputs and the hidden neurons so far
        chosen = rng.choice(pool, size=fan, replace=False)
        preds[name] = [names[i] for i in chosen]
        for s in preds[name]:
            net.connect(s, name)
        net.connect("b", name)
        if not output:
            names.append(name)
    net.compile()
    dag = dag_layout(net, n_in, preds)
    X = rng.uniform(-1.0, 1.0, (batch, n_in))
    T = rng.uniform(0.0, 1.0, (batch, n_out))
    train = dict(loss="mse", learning_rate=0.001, epochs=steps, mode="batch", momentum=0.0)
    return Case("W5", net, X, T, train, dag=dag)


def dag_layout(net: neurosim.Network, n_inputs: int, preds: dict[str, list[str]]) -> DagLayout:
    """Number a DAG's units by topological generation and read its weights (see :class:`DagLayout`).

    Parameters
    ----------
    net : neurosim.Network
        Compiled; weights are read through ``net.weights()``.
    n_inputs : int
    preds : dict
        ``{neuron: [source names]}`` (bias excluded), every computing neuron.

    Returns
    -------
    DagLayout
    """
    w = net.weights()
    level: dict[str, int] = {u.name: 0 for u in net.inputs}
    for name, ps in preds.items():            # preds is in insertion (topological) order
        level[name] = 1 + max(level[p] for p in ps)
    depth = max(level.values())
    by_level = [[n for n in preds if level[n] == g] for g in range(1, depth + 1)]
    names = [u.name for u in net.inputs] + [n for lv in by_level for n in lv]
    row = {n: i for i, n in enumerate(names)}
    gens, src, W = [], [], []
    start = n_inputs
    b = np.zeros(len(names))
    for lv in by_level:
        gens.append((start, start + len(lv)))
        src.append(np.array([[row[p] for p in preds[n]] for n in lv], dtype=np.int64))
        W.append(np.array([[w[(p, n)] for p in preds[n]] for n in lv]))
        for n in lv:
            b[row[n]] = w[("b", n)]
        start += len(lv)
    out_rows = np.array([row[u.name] for u in net.outputs], dtype=np.int64)
    is_output = np.zeros(len(names), bool)
    is_output[out_rows] = True
    return DagLayout(names, n_inputs, gens, src, W, b, out_rows, is_output)


def dag_to_weights(dag: DagLayout, W: list[np.ndarray], b: np.ndarray) -> dict[tuple[str, str], float]:
    """``{(src, dst): weight}`` from per-generation edge weights and biases in the DAG numbering.

    Parameters
    ----------
    dag : DagLayout
    W : list of array_like
        Per generation ``(n_gen, fan_in)``, aligned with ``dag.src``.
    b : array_like
        ``(n_units,)`` biases.

    Returns
    -------
    dict
    """
    out = {}
    b = np.asarray(b, dtype=np.float64)
    for (start, stop), S, Wg in zip(dag.gens, dag.src, W):
        Wg = np.asarray(Wg, dtype=np.float64)
        for j in range(stop - start):
            d = dag.names[start + j]
            for i, s in enumerate(S[j]):
                out[(dag.names[s], d)] = Wg[j, i]
            out[("b", d)] = b[start + j]
    return out


BUILDERS = {"W1": build_w1, "W2": build_w2, "W3": build_w3, "W3-nm": build_w3nm, "W4": build_w4, "W4c": build_w4c,
            "W5": build_w5, "W6": build_w6, "W7": build_w7, "W8": build_w8}
