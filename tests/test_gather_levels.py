"""The gather levels' backward pass, run from the sources' side, on DAGs with wide levels.

A random DAG with few generations has levels of dozens of neurons, each reading a few of
hundreds of earlier units, so the plan gathers them, and every level, the inputs and the
bias units run a ``_Receive`` step: each source takes its edges' destination deltas and
sums the messages and gradients with small products, in chunks padded to the chunk's
largest out-degree (a source with more edges than a chunk holds is cut into pieces). These tests check on such DAGs that the engine equals the per-neuron
oracle (``neurosim.reference.reference_pass``) to 1e-12 and central finite differences to
1e-7, with one chunk a level and with chunks of at most 6 edges (source rows that are not
a run, padding, the bias unit's 48 edges in 8 pieces); that a level whose messages come both from a
dense level and from gather levels adds both; and that an ensemble of such DAGs (all of
whose levels are dense) trains each member as a single network does, to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurosim
from neurosim.engine import Plan, _Receive
from neurosim.reference import reference_pass

#: Engine vs oracle (the same arithmetic in another order) and vs central differences
#: (h = 1e-6; see test_gradients.py for the error budget).
ORACLE_TOL = 1e-12
FD_STEP, FD_TOL = 1e-6, 1e-7


def _close(a, b, tol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))))


def check_gradients(net, X, T, loss, fd_gradient):
    """Error, every gradient and every delta equal the oracle's; every gradient the central
    difference's. Returns the error and the gradients."""
    E, grads = net.gradients(X, T, loss)
    Er, gr, _, deltas = reference_pass(net, X, T, loss)
    assert _close(E, Er, ORACLE_TOL) and set(grads) == set(gr)
    bad = {k: (grads[k], gr[k]) for k in gr if not _close(grads[k], gr[k], ORACLE_TOL)}
    assert not bad, bad
    for unit in net.neurons:
        assert _close(np.atleast_1d(unit.delta), deltas[unit.name], ORACLE_TOL), unit.name
    fd = fd_gradient(net, X, T, loss, h=FD_STEP)
    bad = {k: (grads[k], fd[k]) for k in grads if not _close(grads[k], fd[k], FD_TOL)}
    assert not bad, bad
    return E, grads


def wide_dag(seed: int, gens: int = 3, size: int = 24, fan: int = 5, n_in: int = 6,
             net_seed: int | None = None) -> neurosim.Network:
    """A DAG of ``gens`` generations of ``size`` tanh neurons, each reading ``fan`` random
    earlier units (one of them in the generation before) with weights drawn from ``seed``,
    plus 2 sigmoid outputs reading 8 random hidden neurons each; one bias unit feeds every
    neuron (those weights drawn by the initialiser from ``net_seed``, default ``seed``)."""
    rng = np.random.default_rng(seed)
    net = neurosim.Network(seed=seed if net_seed is None else net_seed)
    names = [u.name for u in net.add_layer("x", n_in, kind="input")]
    net.add_bias("b")
    prev = 0
    for g in range(gens):
        start = len(names)
        for j in range(size):
            name = f"g{g}_{j}"
            net.add_neuron(name, "tanh")
            first = int(rng.integers(prev, start))
            rest = [int(s) for s in rng.choice(start, size=fan, replace=False) if s != first][:fan - 1]
            for s in [first] + rest:
                net.connect(names[s], name, float(rng.uniform(-0.8, 0.8)))
            net.connect("b", name)
        prev = start
        names.extend(f"g{g}_{j}" for j in range(size))
    for k in range(2):
        net.add_neuron(f"o{k}", "sigmoid", output=True)
        for s in rng.choice(np.arange(n_in, len(names)), size=8, replace=False):
            net.connect(names[int(s)], f"o{k}")
        net.connect("b", f"o{k}")
    return net


def data(net, seed: int, batch: int = 4):
    rng = np.random.default_rng(seed + 100)
    return rng.uniform(-1, 1, (batch, len(net.inputs))), rng.uniform(0, 1, (batch, len(net.outputs)))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("chunk", [None, 24])
def test_wide_levels_match_reference_and_finite_differences(seed, chunk, monkeypatch, fd_gradient):
    if chunk is not None:
        monkeypatch.setattr(_Receive, "CHUNK", chunk)       # 6 edges a chunk at batch 4
    net = wide_dag(seed)
    X, T = data(net, seed)
    plan = net.compile()
    kinds = [lv.kind for lv in plan.levels]
    assert kinds == ["dense", "gather", "gather", "dense"], kinds     # generation 0 reads 7 units
    check_gradients(net, X, T, "mse", fd_gradient)
    receives = [k for k, _ in plan.buffers(len(X)).levels if isinstance(k, _Receive)]
    assert len(receives) == 3          # the inputs and biases, generations 0 and 1 (2 feeds only dense)
    chunks = [c for r in receives for c in r.chunks]
    padded = [c for c in chunks if c[4][5] is not None]
    scattered = [c for c in chunks if not isinstance(c[4][0], slice)]
    if chunk is None:                  # one chunk a level: every source row of it, with padding
        assert len(chunks) == 3 and len(padded) == 3
    else:                              # several chunks a level, rows that are not a run, a big row alone
        assert len(chunks) > 20 and padded and scattered
        assert max(c[1].shape[0] for c in chunks) == 6         # never more than 6 edges a chunk ...
        bias = plan.index[net["b"]]
        pieces = [c for c in chunks if isinstance(c[4][0], slice) and c[4][0] == slice(bias, bias + 1)]
        assert len(pieces) == 8                                # ... so the bias unit's 48 edges: 8 pieces


def test_a_level_gets_messages_from_dense_and_gather_levels(fd_gradient, monkeypatch):
    """Generation 1 feeds gather generation 2 and the dense output level: both add up."""
    net = wide_dag(7)
    X, T = data(net, 7)
    plan = net.compile()
    g1, out_level = plan.levels[1], plan.levels[-1]
    rows = set(range(g1.start, g1.stop))
    assert out_level.kind == "dense"
    pushed = rows & set(np.arange(plan.n_units)[out_level.prop_rows].tolist())
    pulled = rows & set(plan.pulls[2].src.tolist())
    assert pushed & pulled                         # some rows get both
    E, grads = check_gradients(net, X, T, "bce", fd_gradient)
    monkeypatch.setattr(Plan, "GATHER_FACTOR", float("inf"))     # the same net, every level dense
    dense = wide_dag(7)
    assert all(lv.kind == "dense" for lv in dense.compile().levels)
    E2, grads2 = dense.gradients(X, T, "bce")
    assert abs(E - E2) <= 1e-12 * max(1.0, abs(E))
    assert max(abs(grads[k] - grads2[k]) for k in grads) <= 1e-12


def test_ensemble_members_equal_single_gathered_runs():
    """Ensembles lay every level out dense; each member trains as the gathered single net."""
    kw = dict(loss="mse", learning_rate=0.05, momentum=0.5, epochs=5, mode="batch")
    net = wide_dag(3)
    X, T = data(net, 3, batch=6)
    result = net.train(X, T, ensemble=2, seeds=[11, 12], **kw)
    for k, seed in enumerate([11, 12]):
        single = wide_dag(3, net_seed=seed)
        assert [lv.kind for lv in single.compile().levels][1] == "gather"
        history = single.train(X, T, **kw)
        np.testing.assert_allclose(result.history[:, k], history, rtol=1e-12, atol=0)
        w = single.weights()
        assert max(abs(w[e] - v) / max(1.0, abs(v)) for e, v in result.weights(k).items()) <= 1e-12
