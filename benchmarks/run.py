"""Benchmark neurosim against hand-written numpy, PyTorch and FANN on workloads W1–W8, after a correctness gate.
``python benchmarks/run.py [--smoke] [--only W1,W3] [--repeat 5] [--no-torch] [--no-fann] [--threads N] [--profile W1,W5]``.
Every implementation of a workload starts from the neurosim network's initial weights;
before anything is timed, all of them must agree on the parameters after the first epoch
(and, for W1–W3 and W7, after the whole run) to 1e-12 in float64 or 1e-4 relative in float32,
else the script exits with status 1. Then each repetition runs every implementation
once, interleaved, after one warm-up round; the table shows median wall-clock times and
the ratios neurosim/numpy and neurosim/torch against their targets. PyTorch is optional:
without it (or with ``--no-torch`` or ``NEUROSIM_BENCH_NO_TORCH=1``) the torch columns are
skipped with a note; so is FANN (the C library, through ctypes on libdoublefann) where
``libfann-dev`` is missing, or with ``--no-fann`` / ``NEUROSIM_BENCH_NO_FANN=1``. ``--smoke`` shrinks every workload so the suite, gate included, runs
in seconds (its times mean nothing).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def _early_threads(argv: list[str]) -> int | None:
    """``--threads N`` must take effect before numpy loads OpenBLAS: read it from argv now."""
    for i, a in enumerate(argv):
        if a.startswith("--threads"):
            value = a.split("=", 1)[1] if "=" in a else (argv[i + 1] if i + 1 < len(argv) else "")
            if value.isdigit() and int(value) >= 1:
                for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                    os.environ[var] = value
                return int(value)
    return None


THREADS = _early_threads(sys.argv[1:]) if __name__ == "__main__" else None

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ref_fann  # noqa: E402
import ref_numpy  # noqa: E402
import workloads  # noqa: E402
from workloads import Case, layer_masks, layer_matrices, matrices_to_weights  # noqa: E402

import neurosim  # noqa: E402
import neurosim.arithmetic  # noqa: E402

WORKLOADS = ("W1", "W2", "W3", "W3-nm", "W4", "W4c", "W5", "W6", "W7", "W8")
#: The columns of references in the table, in order.
REFS = ("numpy", "torch", "fann")

#: Targets: the largest acceptable ratio neurosim time / reference time (issue 12's where it
#: sets one). Rows not listed here (extra rows such as "W6 (stacked numpy)") show ratios only.
TARGETS: dict[str, dict[str, float]] = {
    "W1": {"numpy": 2.0, "torch": 0.2},
    "W1 (numba)": {"numpy": 2.0, "fann": 3.0},
    "W2": {"numpy": 2.0, "torch": 0.2},
    "W3": {"numpy": 1.5, "torch": 0.25},
    "W3-nm": {"numpy": 1.5, "fann": 1.0},
    "W3-nm (numba)": {"numpy": 1.5, "fann": 1.0},
    "W4-f32": {"torch": 0.8},
    "W4-f64": {"torch": 0.8},
    "W4c-f32": {"torch": 1.0},
    "W4c-f64": {"torch": 1.0},
    "W5": {"torch": 0.5},
    "W6": {"numpy": 1.0, "torch": 0.01},
    "W7": {"numpy": 1.5, "torch": 0.25},
    "W8": {"fann": 1.0},
}


class GateError(Exception):
    """Two implementations of a workload computed different numbers."""


@dataclass
class Impl:
    """One implementation of a workload.

    ``prepare(epochs)`` does the untimed set-up and returns the timed thunk;
    ``extract(raw)`` turns what the thunk returned into ``(weights, history)``, where
    ``weights`` is ``{(src, dst): w}`` (a list of them, one per member, for W6).
    ``column`` is where its time goes in the table (``neurosim``, ``numpy``, ``torch``,
    ``fann`` or ``info``), ``row`` the extra row it goes in instead of the workload's own
    (e.g. ``"W6 (stacked numpy)"``: the other columns are copied from the workload's
    row); ``scale`` multiplies its time (loops timed on fewer members). ``checks``, when
    given, replaces the comparison with the gate's reference: a callable
    ``checks(epochs, result)`` that raises :class:`GateError` or returns the worst scaled
    difference (FANN on W1, whose biases train where neurosim's are frozen).
    """

    name: str
    column: str
    prepare: Callable[[int], Callable[[], Any]]
    extract: Callable[[Any], tuple[Any, Any]]
    scale: float = 1.0
    note: str = ""
    row: str | None = None
    checks: Callable[[int, Any], float] | None = None


def load_torch(disabled: bool):
    """Import :mod:`ref_torch` if PyTorch is importable and not disabled, else return None.

    Parameters
    ----------
    disabled : bool
        True for ``--no-torch``.

    Returns
    -------
    module or None
    """
    if disabled or os.environ.get("NEUROSIM_BENCH_NO_TORCH"):
        print("note: PyTorch disabled (--no-torch / NEUROSIM_BENCH_NO_TORCH); torch columns skipped")
        return None
    try:
        import ref_torch
    except ImportError as exc:
        print(f"note: PyTorch is not importable ({exc}); torch columns skipped")
        return None
    if THREADS is not None:
        ref_torch.torch.set_num_threads(THREADS)
    return ref_torch


def load_fann(disabled: bool) -> bool:
    """Whether FANN (libdoublefann) can be used; prints a note when it cannot.

    Parameters
    ----------
    disabled : bool
        True for ``--no-fann``.

    Returns
    -------
    bool
    """
    if disabled:
        print("note: FANN disabled (--no-fann); FANN column skipped")
        return False
    try:
        ref_fann.load()
    except ref_fann.FannMissing as exc:
        print(f"note: {exc}; FANN column skipped")
        return False
    return True


def numba_available() -> bool:
    """Whether neurosim's numba backend can run here (the ``fast`` extra)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


# --- implementations ------------------------------------------------------------------------

def neurosim_impl(case: Case, name: str = "neurosim", row: str | None = None) -> Impl:
    """neurosim itself: ``net.train`` from the case's initial weights (restored before each run).

    Parameters
    ----------
    case : Case
    name : str, default "neurosim"
    row : str, optional
        An extra row of the table for it (a backend other than numpy).

    Returns
    -------
    Impl
    """
    net = case.net
    theta0 = net.compile().theta.copy()
    kwargs = {k: v for k, v in case.train.items() if k != "epochs"}

    def prepare(epochs):
        net.compile().theta[...] = theta0

        def run():
            return net.train(case.X, case.T, epochs=epochs, **kwargs)
        return run

    return Impl(name, "neurosim", prepare, lambda history: (net.weights(), history), row=row)


def numpy_impls(case: Case) -> list[Impl]:
    """The hand-written numpy reference of a layered workload (W1–W4).

    Parameters
    ----------
    case : Case

    Returns
    -------
    list of Impl
    """
    return [_layered_impl(case, ref_numpy, "numpy")]


def _layered_impl(case: Case, module, name: str) -> Impl:
    """An Impl training a layered workload with ``module``'s ``train_two_layer`` (mse) or
    ``train_softmax_mlp`` (cce); the numpy and torch references share these signatures."""
    mats = layer_matrices(case.net, case.layers)
    masks = layer_masks(case.net, case.layers)
    tr = case.train
    X, T = case.X.astype(case.dtype), case.T.astype(case.dtype)
    if tr.get("optimizer") == "rprop":           # W7: Rprop's hand-written or torch.optim form
        constants = case.extra["rprop"]

        def prepare(epochs):
            if module is ref_numpy:
                rule = ref_numpy.IRpropMinus([m.shape for m in mats], **constants)
                return lambda: module.train_two_layer(mats[0], mats[1], masks[0], masks[1], X, T, epochs=epochs,
                                                      mode=tr["mode"], rule=rule)
            return lambda: module.train_two_layer(mats[0], mats[1], masks[0], masks[1], X, T, epochs=epochs,
                                                  mode=tr["mode"], rprop=constants)
    elif case.key.startswith("W4c"):               # cycling minibatches, the running error kept
        ex = case.extra

        def prepare(epochs):
            steps = epochs * (X.shape[0] // ex["batch_size"])
            return lambda: module.train_softmax_mlp_minibatch(mats, X, T, learning_rate=tr["learning_rate"],
                                                              steps=steps, batch_size=ex["batch_size"])
        return Impl(name, name, prepare, lambda raw: (matrices_to_weights(raw[0], case.layers), raw[1]))
    elif tr["loss"] == "mse" and len(mats) > 2:   # W8: a deep sigmoid net online
        def prepare(epochs):
            return lambda: module.train_sigmoid_mlp_online(mats, X, T, learning_rate=tr["learning_rate"],
                                                           epochs=epochs)
    elif tr["loss"] == "mse":
        def prepare(epochs):
            return lambda: module.train_two_layer(mats[0], mats[1], masks[0], masks[1], X, T,
                                                  learning_rate=tr["learning_rate"], momentum=tr["momentum"],
                                                  epochs=epochs, mode=tr["mode"])
    else:
        def prepare(epochs):
            return lambda: module.train_softmax_mlp(mats, X, T, learning_rate=tr["learning_rate"], epochs=epochs)
    return Impl(name, name, prepare, lambda raw: (matrices_to_weights(raw[0], case.layers), raw[1]))


def torch_impls(case: Case, rt) -> list[Impl]:
    """The PyTorch references of a workload (W1–W5).

    Parameters
    ----------
    case : Case
    rt : module
        :mod:`ref_torch`.

    Returns
    -------
    list of Impl
        W5 has two (``torch-dense``, ``torch-gather``); the table takes the faster.
    """
    tr = case.train
    X, T = case.X.astype(case.dtype), case.T.astype(case.dtype)
    if case.dag is not None:
        impls = []
        for name, cls in (("torch-dense", rt.DagDense), ("torch-gather", rt.DagGather)):
            def prepare(epochs, cls=cls):
                engine = cls(case.dag, X, T)
                return lambda: (engine, engine.train(epochs, tr["learning_rate"]))

            def extract(raw):
                engine, history = raw
                return workloads.dag_to_weights(case.dag, *engine.weights()), history
            impls.append(Impl(name, "torch", prepare, extract))
        return impls
    return [_layered_impl(case, rt, "torch")]


def products_impl(case: Case) -> Impl:
    """The matrix products of neurosim's plan for a layered batch workload, and nothing else (W4).

    Every step makes each level's forward product ``W @ y[sources]`` (first level first),
    then, last level first, its weight gradient ``delta @ y[sources].T`` and, where the
    sources compute, the messages back ``W[:, computing].T @ delta``; one more forward
    pass after the last step measures the final error, as ``Network.train`` does. The
    shapes, layouts, dtype and order are the compiled plan's; the arrays are its own and
    stay in cache between calls, and the gather of a level's scattered sources is left
    out. No activation, loss or update runs, so it trains nothing and is not gated: its
    time is the floor any implementation of the workload pays at this BLAS (at the
    benchmark's ``--threads``; without it neurosim picks threads per level and these
    products run at the library's default), printed beside the table to show how much of
    a ratio target is left above it.

    Parameters
    ----------
    case : Case

    Returns
    -------
    Impl
        Column ``info`` (not in the table).
    """
    plan = case.net.compile()
    batch = case.X.shape[0]
    rng = np.random.default_rng(0)
    forward, backward = [], []
    for lv in plan.levels:
        W = np.array(lv.W)
        n, width = W.shape
        S = rng.random((width, batch)).astype(plan.dtype)
        D = rng.random((n, batch)).astype(plan.dtype)
        forward.append(functools.partial(np.matmul, W, S, out=np.empty((n, batch), plan.dtype)))
        back = [functools.partial(np.matmul, D, S.T, out=np.empty_like(W))]
        if width > lv.prop_from:
            back.append(functools.partial(np.matmul, W[:, lv.prop_from:].T, D,
                                          out=np.empty((width - lv.prop_from, batch), plan.dtype)))
        backward[:0] = back                              # the backward pass runs last level first

    def prepare(epochs):
        def run():
            for _ in range(epochs):
                for call in forward + backward:
                    call()
            for call in forward:                         # the pass after the last step
                call()
        return run

    return Impl("products only", "info", prepare, lambda raw: (None, None), checks=lambda epochs, result: 0.0,
                note="the plan's matrix products alone, hot caches: not a trainer, not gated")


def fann_impls(case: Case) -> list[Impl]:
    """The FANN reference of the workloads FANN can compute with the same numbers (W1, W3-nm, W8).

    W1: FANN always trains its bias weights, the worked example freezes them, so FANN is
    checked twice: after step 1 its non-bias weights must be neurosim's on W1 itself
    (``w5`` to 1e-15; they are bit for bit the same here), and after the full run all its
    weights must be those of neurosim on W1 with the biases unfrozen. Its time goes
    against neurosim's on W1 proper (FANN updates 12 weights a step, neurosim 8).
    W3-nm runs in ``FANN_TRAIN_BATCH``, whose step is ``lr / n`` times the summed
    gradient, so FANN's learning rate is ``n`` times neurosim's. W8 runs incremental.

    Parameters
    ----------
    case : Case

    Returns
    -------
    list of Impl
        Empty for workloads FANN does not run.
    """
    if case.key not in ("W1", "W3-nm", "W8"):
        return []
    mats = layer_matrices(case.net, case.layers)
    tr = case.train
    batch = tr["mode"] == "batch"
    lr = ref_fann.fann_float(tr["learning_rate"] * (case.X.shape[0] if batch else 1))
    if ref_fann.fann_float(lr) != lr or (batch and lr / case.X.shape[0] != tr["learning_rate"]):
        raise GateError(f"{case.key}: FANN cannot hold the learning rate {tr['learning_rate']!r} exactly")
    fnet = ref_fann.FannNet(mats, case.X, case.T, algorithm=ref_fann.FANN_TRAIN_BATCH if batch
                            else ref_fann.FANN_TRAIN_INCREMENTAL, learning_rate=lr)

    def extract(f):
        return matrices_to_weights(f.matrices(), case.layers), None

    checks = None
    if case.key == "W1":
        free = workloads.mazur_trainable_biases(case.extra.get("smoke", False))
        free_impl = neurosim_impl(free)
        w1_impl = neurosim_impl(case)
        bias_units = {L.sources[-1] for L in case.layers}

        def checks(epochs, result):
            if epochs == 1:
                want = w1_impl.extract(w1_impl.prepare(1)())
                got_w = {k: v for k, v in result[0].items() if k[0] not in bias_units}
                worst = compare("W1", "fann vs neurosim after step 1 (non-bias weights)", (got_w, None),
                                ({k: want[0][k] for k in got_w}, None), np.float64)
                d5 = abs(result[0][("h1", "o1")] - want[0][("h1", "o1")])
                if d5 > 1e-15:
                    raise GateError(f"W1: fann's w5 after step 1 is {result[0][('h1', 'o1')]!r}, neurosim's "
                                    f"{want[0][('h1', 'o1')]!r}")
                FANN_NOTES.append(f"W1: FANN's w5 after step 1 = {float(result[0][('h1', 'o1')])!r}, neurosim's "
                                  f"{float(want[0][('h1', 'o1')])!r} "
                                  f"({'bit for bit' if d5 == 0 else f'{d5:.2g} apart'})")
                return worst
            want = free_impl.extract(free_impl.prepare(epochs)())
            return compare("W1", f"fann vs neurosim with trainable biases after {epochs} steps", result,
                           (want[0], None), np.float64)

    return [Impl("fann", "fann", fnet.prepare, extract, checks=checks,
                 note="FANN_TRAIN_BATCH, lr x n" if batch else "FANN_TRAIN_INCREMENTAL")]


#: Lines the FANN checks add to the report.
FANN_NOTES: list[str] = []


def ensemble_member_weights(result: neurosim.ensemble.EnsembleResult, K: int) -> tuple[list[dict], np.ndarray]:
    """Per-member weights and error history of what ``net.train(..., ensemble=K)`` returns.

    Parameters
    ----------
    result : neurosim.ensemble.EnsembleResult
    K : int

    Returns
    -------
    weights : list of dict
        ``{(src, dst): w}`` of each member.
    history : ndarray
        ``(epochs, K)``.
    """
    return [result.weights(k) for k in range(K)], np.asarray(result.history, dtype=np.float64)


def w6_impls(case: Case, rt) -> list[Impl]:
    """W6: the neurosim ensemble (the gate's reference), batched numpy twice, loops over networks.

    ``numpy-shared`` (the table's numpy column) shares the input product across members;
    ``numpy-stacked`` (the leading-ensemble-axis form of earlier tables) has its own row.

    Parameters
    ----------
    case : Case
    rt : module or None
        :mod:`ref_torch`, or None without PyTorch.

    Returns
    -------
    list of Impl
    """
    ex, tr = case.extra, case.train
    K, members, layers = ex["K"], ex["members"], case.layers
    mats = [layer_matrices(m, layers) for m in members]
    W1s = np.stack([m[0] for m in mats])
    W2s = np.stack([m[1] for m in mats])
    X, T = case.X, case.T

    def np_prepare(fn):
        return lambda epochs: lambda: fn(W1s, W2s, X, T, learning_rate=tr["learning_rate"],
                                         momentum=tr["momentum"], epochs=epochs)

    def np_extract(raw):
        (A, B), history = raw
        return [matrices_to_weights([A[k], B[k]], layers) for k in range(K)], history

    impls = [Impl("numpy-shared", "numpy", np_prepare(ref_numpy.train_two_layer_ensemble_shared), np_extract),
             Impl("numpy-stacked", "numpy", np_prepare(ref_numpy.train_two_layer_ensemble), np_extract,
                  row="W6 (stacked numpy)")]
    kwargs = {k: v for k, v in tr.items() if k != "epochs"}

    # neurosim ensemble: net.train(X, T, ..., ensemble=K); members draw from seeds seed + k.
    def ens_prepare(epochs):
        net, _ = workloads.symmetry_net(ex["seed"])
        return lambda: net.train(X, T, epochs=epochs, ensemble=K, **kwargs)

    impls.insert(0, Impl("neurosim-ensemble", "neurosim", ens_prepare, lambda r: ensemble_member_weights(r, K)))

    # ... and its sweeps alone: the run (its plan, every member's weights drawn) made before
    # the clock starts, as the numpy references are handed their members' weights
    def sweeps_prepare(epochs):
        net, _ = workloads.symmetry_net(ex["seed"])
        job = neurosim.training.TrainingRun(net, X, T, epochs=epochs, ensemble=K, **kwargs)
        return lambda: job.run().result()

    impls.insert(1, Impl("neurosim-sweeps", "neurosim", sweeps_prepare, lambda r: ensemble_member_weights(r, K),
                         note="setup outside the clock", row="W6 (sweeps)"))

    # neurosim, a Python loop over separate networks (first loop_K members, time scaled to K)
    loop_K = ex["loop_K"]
    theta0 = [m.compile().theta.copy() for m in members[:loop_K]]

    def loop_prepare(epochs):
        for m, t0 in zip(members, theta0):
            m.compile().theta[...] = t0
        return lambda: [m.train(X, T, epochs=epochs, **kwargs) for m in members[:loop_K]]

    def loop_extract(raw):
        return [m.weights() for m in members[:loop_K]], np.stack(raw, axis=1)

    impls.append(Impl("neurosim-loop", "neurosim", loop_prepare, loop_extract, scale=K / loop_K,
                      note=f"{loop_K} nets timed, x{K / loop_K:g}", row="W6 (neurosim loop)"))
    if rt is not None:
        torch_K = ex["torch_K"]
        masks = layer_masks(members[0], layers)

        def torch_prepare(epochs):
            return lambda: [rt.train_two_layer(W1s[k], W2s[k], masks[0], masks[1], X, T,
                                               learning_rate=tr["learning_rate"], momentum=tr["momentum"],
                                               epochs=epochs, mode="batch") for k in range(torch_K)]

        def torch_extract(raw):
            return [matrices_to_weights(list(r[0]), layers) for r in raw], np.stack([r[1] for r in raw], axis=1)

        impls.append(Impl("torch-loop", "torch", torch_prepare, torch_extract, scale=K / torch_K,
                          note=f"{torch_K} nets timed, x{K / torch_K:g}"))
    return impls


# --- correctness gate ---------------------------------------------------------------------------

def compare(key: str, what: str, got: Any, want: Any, dtype) -> float:
    """Check two results agree; return the largest scaled difference.

    Parameters
    ----------
    key : str
        Workload, for the message.
    what : str
        Which implementations and quantity, for the message.
    got, want : tuple
        ``(weights, history)``: weights a dict or a list of dicts (compared on the
        members both have), history an array (compared on the common columns) or None.
    dtype : numpy dtype
        float64: ``|a − b| ≤ 1e-12·max(1, |b|)``; float32: ``|a − b| ≤ 1e-4·(|b| + 1e-3)``.

    Returns
    -------
    float
        The worst ``|a − b|`` divided by its allowance (≤ 1 passes).

    Raises
    ------
    GateError
        On any mismatch, naming the worst parameter.
    """
    wg, hg = got
    ww, hw = want
    if isinstance(ww, Mapping):
        wg, ww = [wg], [ww]
    n = min(len(wg), len(ww))
    keys = list(ww[0])
    a = np.array([[m[k] for k in keys] for m in wg[:n]], dtype=np.float64)
    b = np.array([[m[k] for k in keys] for m in ww[:n]], dtype=np.float64)
    f32 = np.dtype(dtype) == np.float32

    def ratio(x, y):
        allow = 1e-4 * (np.abs(y) + 1e-3) if f32 else 1e-12 * np.maximum(1.0, np.abs(y))
        return np.abs(x - y) / allow

    r = ratio(a, b)
    worst = float(r.max()) if r.size else 0.0
    if not np.all(np.isfinite(a)) or worst > 1.0:
        m, i = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(r), r, np.inf))), r.shape)
        raise GateError(f"{key}: {what}: weight {keys[i][0]} -> {keys[i][1]} (member {m}) is {float(a[m, i])!r}, "
                        f"expected {float(b[m, i])!r} (difference {abs(a[m, i] - b[m, i]):.3g})")
    if hg is not None and hw is not None:
        hg, hw = np.asarray(hg, np.float64), np.asarray(hw, np.float64)
        if hg.ndim == 2:
            c = min(hg.shape[1], hw.shape[1])
            hg, hw = hg[:, :c], hw[:, :c]
        if hg.shape != hw.shape:
            raise GateError(f"{key}: {what}: error history has shape {hg.shape}, expected {hw.shape}")
        rh = ratio(hg, hw)
        if rh.size and not (np.all(np.isfinite(hg)) and rh.max() <= 1.0):
            j = int(np.nanargmax(np.where(np.isfinite(rh), rh, np.inf)))
            raise GateError(f"{key}: {what}: error history entry {j} is {float(hg.flat[j])!r}, expected {float(hw.flat[j])!r}")
        worst = max(worst, float(rh.max()) if rh.size else 0.0)
    return worst


def gate(key: str, impls: list[Impl], dtype, epochs: int, final: bool) -> dict[str, Any]:
    """Run every implementation for one epoch (and the full run when ``final``); compare.

    Parameters
    ----------
    key : str
    impls : list of Impl
        The first is the one the others are compared with.
    dtype : numpy dtype
    epochs : int
        The workload's full number of epochs.
    final : bool
        Compare the final parameters too (W1–W3, W3-nm, W7, W8).

    Returns
    -------
    dict
        ``{impl name: worst scaled difference}`` for the report.

    Raises
    ------
    GateError
    """
    worst = {}
    for label, n in (("after the first epoch", 1),) + ((("after the full run", epochs),) if final else ()):
        results = [impl.extract(impl.prepare(n)()) for impl in impls]
        for impl, res in zip(impls[1:], results[1:]):
            if impl.checks is not None:
                w = impl.checks(n, res)
            else:
                w = compare(key, f"{impl.name} vs {impls[0].name} {label}", res, results[0], dtype)
            worst[impl.name] = max(worst.get(impl.name, 0.0), w)
    return worst


# --- timing --------------------------------------------------------------------------------------

def time_impls(impls: list[Impl], epochs: int, repeat: int) -> dict[str, list[float]]:
    """Time each implementation ``repeat`` times, interleaved, after one warm-up round.

    Parameters
    ----------
    impls : list of Impl
    epochs : int
    repeat : int

    Returns
    -------
    dict
        ``{name: [seconds, ...]}``, already multiplied by each implementation's scale.
    """
    times: dict[str, list[float]] = {impl.name: [] for impl in impls}
    for rep in range(repeat + 1):
        for impl in impls:
            run = impl.prepare(epochs)
            t0 = time.perf_counter()
            run()
            dt = time.perf_counter() - t0
            if rep:
                times[impl.name].append(dt * impl.scale)
    return times


def build_cases(keys: list[str], smoke: bool) -> list[Case]:
    """Build the selected workloads (W4 and W4c twice: float32 and float64).

    Parameters
    ----------
    keys : list of str
    smoke : bool

    Returns
    -------
    list of Case
    """
    cases = []
    for key in keys:
        if key in ("W4", "W4c"):
            cases.append(workloads.BUILDERS[key](smoke, dtype=np.float32))
            cases.append(workloads.BUILDERS[key](smoke, dtype=np.float64))
        else:
            cases.append(workloads.BUILDERS[key](smoke))
    for case in cases:
        case.extra["smoke"] = smoke
    return cases


def impls_for(case: Case, rt, fann: bool = False, numba: bool = False) -> list[Impl]:
    """All implementations of a case, the gate's reference first.

    Parameters
    ----------
    case : Case
    rt : module or None
    fann : bool, default False
        Add the FANN reference where it runs the workload.
    numba : bool, default False
        Add neurosim's numba backend (its own row) on W1 and W3-nm.

    Returns
    -------
    list of Impl
    """
    if case.key == "W6":
        return w6_impls(case, rt)
    impls = [neurosim_impl(case)]
    if numba and case.key in ("W1", "W3-nm"):
        twin = workloads.BUILDERS[case.key](case.extra.get("smoke", False))
        twin.net.backend = "numba"
        impls.append(neurosim_impl(twin, "neurosim-numba", row=f"{case.key} (numba)"))
    if case.layers is not None:
        impls += numpy_impls(case)
    if case.key in ("W4-f32", "W4-f64"):
        impls.append(products_impl(case))
    if rt is not None:
        impls += torch_impls(case, rt)
    if fann:
        impls += fann_impls(case)
    return impls


def fmt_time(t: float | None) -> str:
    """Seconds as ``512 µs``, ``12.3 ms`` or ``4.56 s`` (``—`` for None)."""
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    return f"{t * 1e3:.1f} ms" if t < 1.0 else f"{t:.2f} s"


def table(rows: list[dict], arith: str) -> str:
    """The results as a Markdown table.

    Parameters
    ----------
    rows : list of dict
        ``key``, ``neurosim``, ``numpy``, ``torch``, ``fann`` (median seconds or None),
        ``torch_name``.
    arith : str
        The SIMD level and BLAS kernel every row ran with (one process, one machine).

    Returns
    -------
    str
    """
    head = ("| workload | neurosim | numpy | torch | FANN | neurosim/numpy | target | met | neurosim/torch | target | met "
            "| neurosim/FANN | target | met | SIMD · BLAS |\n"
            "|---|---:|---:|---:|---:|---:|---:|:-:|---:|---:|:-:|---:|---:|:-:|---|")
    lines = [head]
    for r in rows:
        cells = [r["key"], fmt_time(r["neurosim"]), fmt_time(r["numpy"]),
                 fmt_time(r["torch"]) + (f" ({r['torch_name']})" if r.get("torch_name") else ""), fmt_time(r["fann"])]
        for ref in REFS:
            target = TARGETS.get(r["key"], {}).get(ref)
            if r["neurosim"] is not None and r[ref] is not None:
                ratio = r["neurosim"] / r[ref]
                cells += [f"{ratio:.3g}", f"≤ {target:g}" if target else "—",
                          ("yes" if ratio <= target else "**no**") if target else ""]
            else:
                cells += ["—", f"≤ {target:g}" if target else "—", ""]
        cells.append(arith)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def arithmetic_summary(rt) -> tuple[str, str]:
    """The SIMD level and BLAS kernel of this process: a short form for the table, a long one for the header.

    Parameters
    ----------
    rt : module or None
        :mod:`ref_torch`, or None without PyTorch.

    Returns
    -------
    short, long : str
        ``short`` like ``"AVX512_ICL · OpenBLAS SkylakeX"`` (numpy's highest SIMD
        extension in use and OpenBLAS's kernel family, from :mod:`neurosim.arithmetic`);
        ``long`` adds numpy's baseline, PyTorch's CPU capability and FANN's build.
    """
    info = neurosim.arithmetic.describe()
    simd = info["simd"]
    top = (simd["found"] or simd["baseline"] or ["?"])[-1]
    core = info["blas"].get("core") or "unknown kernel"
    short = f"{top} · {info['blas'].get('name') or 'BLAS'} {core}"
    parts = [f"numpy SIMD baseline {'+'.join(simd['baseline']) or 'none'}, dispatched "
             f"{'+'.join(simd['found']) or 'none'} (not used: {'+'.join(simd['not_found']) or 'none'})",
             f"BLAS {info['blas'].get('name')} {info['blas'].get('version')} kernel {core}"]
    if rt is not None:
        try:
            parts.append(f"torch CPU capability {rt.torch.backends.cpu.get_cpu_capability()}")
        except AttributeError:
            pass
    parts.append("FANN: libdoublefann as packaged (plain C loops, no BLAS)")
    return short, "; ".join(parts)


def environment(rt) -> str:
    """One line on the machine, the libraries, the thread and BLAS settings and the load.

    Parameters
    ----------
    rt : module or None
        :mod:`ref_torch`, or None without PyTorch.

    Returns
    -------
    str
    """
    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}", f"neurosim {neurosim.__version__}"
             if hasattr(neurosim, "__version__") else "neurosim", f"{os.cpu_count()} CPUs"]
    if rt is not None:
        parts.append(f"torch {rt.torch.__version__} ({rt.torch.get_num_threads()} threads)")
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                       "OMP_NUM_THREADS") if k in os.environ}
    parts.append("BLAS env: " + (", ".join(f"{k}={v}" for k, v in blas.items()) or "none set"))
    if hasattr(os, "getloadavg"):
        parts.append("load average %.1f %.1f %.1f" % os.getloadavg())
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("internal_api") == "openblas":
                parts.append(f"openblas {info.get('version')} kernel {info.get('architecture')} "
                             f"{info.get('num_threads')} threads")
                break
    except ImportError:
        pass
    from neurosim import threads
    info = threads.describe()
    parts.append("neurosim BLAS threads per level: " + ("on" if info["active"] else f"off ({info['reason']})"))
    return "; ".join(parts)


def profile(cases: list[Case], rt) -> None:
    """Print a cProfile of neurosim's run of each case (top functions by own time).

    Parameters
    ----------
    cases : list of Case
    rt : module or None
    """
    for case in cases:
        impl = impls_for(case, None)[0] if case.key != "W6" else None
        if impl is None or impl.column != "neurosim":
            print(f"(no single neurosim run to profile for {case.key})")
            continue
        run = impl.prepare(case.train["epochs"])
        prof = cProfile.Profile()
        prof.enable()
        run()
        prof.disable()
        print(f"\n### profile of neurosim on {case.key} ({case.train['epochs']} epochs)\n")
        pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(18)


def floor_line(key: str, products: float, row: dict) -> str:
    """How a workload's time and its torch target compare with its matrix products alone (:func:`products_impl`).

    Parameters
    ----------
    key : str
    products : float
        Median seconds of the products alone.
    row : dict
        The workload's table row (median seconds of ``neurosim`` and ``torch``; ``torch``
        None without PyTorch).

    Returns
    -------
    str
        One line: the products' time, neurosim's time above them and, with PyTorch, what
        the target allows (the target's share of PyTorch's time) and that less the
        products: the room the target leaves for everything that is not a product.
    """
    above = row["neurosim"] - products
    line = f"{key}: the matrix products alone take {fmt_time(products)}; " + (
        f"neurosim spends {fmt_time(above)} above them" if above >= 0 else
        f"neurosim takes {fmt_time(-above)} less than them (a noisy run: they are its own products)")
    if row["torch"] is None:
        return line + " (no PyTorch: no target to compare)"
    target = TARGETS[key]["torch"]
    allowed = target * row["torch"]
    left = (f"so {fmt_time(allowed - products)} for everything else" if allowed >= products else
            f"{fmt_time(products - allowed)} less than the products' own time: less than nothing for the rest")
    return line + f", and ≤ {target:g} × PyTorch allows {fmt_time(allowed)}, {left}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status (1 when the correctness gate fails).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes and few steps: seconds in all (CI)")
    p.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W3 (default: all)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per implementation (median; >= 1)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch references")
    p.add_argument("--no-fann", action="store_true", help="skip the FANN reference")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for numpy's BLAS and torch (default: the libraries' own defaults)")
    p.add_argument("--profile", default="", help="comma-separated workloads to profile neurosim on, then exit")
    args = p.parse_args(argv)
    by_upper = {k.upper(): k for k in WORKLOADS}
    asked = [k.strip() for k in args.only.split(",") if k.strip()]
    keys = [by_upper.get(k.upper(), k) for k in asked] or list(WORKLOADS)
    bad = [k for k in keys if k not in WORKLOADS]
    if bad or args.repeat < 1:
        p.error(f"unknown workload(s) {', '.join(bad)}; choose from {', '.join(WORKLOADS)}" if bad
                else "--repeat must be >= 1")
    rt = load_torch(args.no_torch)
    fann = load_fann(args.no_fann)
    numba = numba_available()
    if not numba:
        print("note: numba is not importable (pip install 'neurosim[fast]'); the (numba) rows are skipped")
    arith, arith_long = arithmetic_summary(rt)
    print(environment(rt))
    print("arithmetic: " + arith_long)
    if args.profile:
        profile(build_cases([by_upper.get(k.strip().upper(), k.strip()) for k in args.profile.split(",")],
                            args.smoke), rt)
        return 0
    t_start = time.perf_counter()
    rows, details, floors = [], [], []
    for key in keys:
        t0 = time.perf_counter()
        for case in build_cases([key], args.smoke):
            try:
                impls = impls_for(case, rt, fann, numba)
                worst = gate(case.key, impls, case.dtype, case.train["epochs"],
                             final=case.key in ("W1", "W2", "W3", "W3-nm", "W7", "W8"))
            except GateError as exc:
                print(f"\nCORRECTNESS GATE FAILED: {exc}", file=sys.stderr)
                return 1
            times = time_impls(impls, case.train["epochs"], args.repeat)
            med = {name: statistics.median(ts) for name, ts in times.items()}
            row = {"key": case.key, "neurosim": None, "numpy": None, "torch": None, "fann": None, "torch_name": ""}
            extra: dict[str, dict] = {}
            for impl in impls:
                col = impl.column
                target = row if impl.row is None else extra.setdefault(impl.row, {"key": impl.row})
                if col in ("neurosim",) + REFS and (target.get(col) is None or med[impl.name] < target[col]):
                    target[col] = med[impl.name]
                    if col == "torch" and impl.name != "torch":
                        target["torch_name"] = impl.name
                details.append(f"{case.key:8s} {impl.name:18s} median {fmt_time(med[impl.name]):>10s}  "
                               f"min {fmt_time(min(times[impl.name])):>10s}  max {fmt_time(max(times[impl.name])):>10s}"
                               f"  gate {'ref' if impl is impls[0] else f'{worst.get(impl.name, 0):.2g}'}"
                               f"{'  (' + impl.note + ')' if impl.note else ''}")
            rows.append(row)
            if "products only" in med:
                floors.append(floor_line(case.key, med["products only"], row))
            for e in extra.values():                 # an extra row: its own entries, the rest from the main row
                rows.append({**row, "torch_name": row["torch_name"], **e})
        print(f"{key} done in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"\nmedian of {args.repeat} interleaved runs after one warm-up; all implementations passed the "
          f"correctness gate{' (SMOKE: tiny sizes, the ratios mean nothing)' if args.smoke else ''}\n")
    print(table(rows, arith))
    print("\n" + "\n".join(details))
    if floors:
        print("\n" + "\n".join(floors))
    for line in FANN_NOTES:
        print(line)
    if rt is None:
        print("\nnote: torch columns skipped (PyTorch not available)")
    if not fann:
        print("note: FANN column skipped (libdoublefann not available: apt-get install libfann-dev)")
    print(f"\ntotal {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
