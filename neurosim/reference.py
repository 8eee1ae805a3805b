"""A plain per-neuron reference path: the two phases written out one neuron at a time.

This is the textbook algorithm with no compilation and no vectorisation over neurons: walk
the graph in topological order summing ``w·y`` into each neuron, then walk it backwards
accumulating ``delta·w`` into each predecessor (``+=``, so fan-out and skip connections need
no special case, as in micrograd); a tied set's gradient is summed over its edges at the
end. It is slow on purpose: it is the oracle the compiled engine is tested against, and
the model for step-by-step "explain" traces.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from .engine import DEFAULT_OUTPUT_GROUP
from .neurons import BiasUnit, InputUnit, Neuron

__all__ = ["reference_pass"]


def reference_pass(net, X: Any, T: Any, loss: str = "mse") -> tuple[float, dict, dict, dict]:
    """Forward and backward, one neuron at a time, for one batch.

    Parameters
    ----------
    net : neurosim.Network
    X, T : array_like
        ``(batch, n_inputs)`` inputs and ``(batch, n_outputs)`` targets.
    loss : str
        Name of a registered loss.

    Returns
    -------
    E : float
        Total error.
    grads : dict
        ``{(src_name, dst_name): dE/dw}`` summed over the batch; every connection of a
        tied set (``Network.tie``) gets the set's gradient, the sum of its connections'
        (or that sum divided by the set's size, for ``reduce="mean"``).
    outs, deltas : dict
        ``{name: (batch,) array}`` of every unit's output and every neuron's delta.
    """
    reg = net.registry
    loss_ = reg.loss(loss)
    net.compile()   # draws the weights not given yet, so the graph holds them all
    X = np.atleast_2d(np.asarray(X, dtype=net.dtype))
    T = np.atleast_2d(np.asarray(T, dtype=net.dtype))
    G = net.graph
    w = {(u, v): d["weight"] for u, v, d in G.edges(data=True)}
    y: dict = {}
    z: dict = {}
    for k, u in enumerate(net.inputs):
        y[u] = X[:, k].copy()
    for b in net.biases:
        y[b] = np.ones(len(X), dtype=net.dtype)

    def group_key(u):
        act = reg.activation(u.activation)
        if not act.group:
            return None
        return u.group if u.group is not None else DEFAULT_OUTPUT_GROUP

    # Steps in topological order; a softmax group is one step (its members cannot feed
    # each other), so condense each group to one node before sorting.
    keyed = {u: group_key(u) for u in G.nodes if isinstance(u, Neuron)}
    C = nx.DiGraph()
    C.add_nodes_from(("group", keyed[u]) if keyed.get(u) else u for u in G.nodes)
    C.add_edges_from((("group", keyed[a]) if keyed.get(a) else a, ("group", keyed[b]) if keyed.get(b) else b)
                     for a, b in G.edges)
    steps = []
    for node in nx.topological_sort(C):
        if isinstance(node, tuple):
            steps.append([u for u in G.nodes if keyed.get(u) == node[1]])
        elif isinstance(node, Neuron):
            steps.append([node])
    order = [u for step in steps for u in step]
    for members in steps:   # forward: net = Σ w·y, then the activation
        for m in members:
            z[m] = sum((w[(p, m)] * y[p] for p in G.predecessors(m)), np.zeros(len(X), dtype=net.dtype))
        act = reg.activation(members[0].activation)
        out = act.function(np.stack([z[m] for m in members], axis=1))
        for j, m in enumerate(members):
            y[m] = out[:, j]

    Y = np.stack([y[o] for o in net.outputs], axis=1)
    E = loss_.value(Y, T)
    gy = {u: np.zeros(len(X), dtype=net.dtype) for u in order}
    col = {o: j for j, o in enumerate(net.outputs)}
    fused_members: set = set()
    for o in net.outputs:
        f = loss_.fused.get(o.activation)
        key = group_key(o)
        if f is not None and (key is None or all(m.output for m in order if group_key(m) == key)):
            fused_members.add(o)
    general = [o for o in net.outputs if o not in fused_members]
    if general:
        idx = [col[o] for o in general]
        g = loss_.gradient(Y[:, idx], T[:, idx])
        for j, o in enumerate(general):
            gy[o] += g[:, j]
    delta: dict = {}
    for members in reversed(steps):   # backward: delta = f'(net)·dE/dy, then delta·w back
        act = reg.activation(members[0].activation)
        stack = lambda d: np.stack([d[m] for m in members], axis=1)  # noqa: E731
        d = act.backward(stack(z), stack(y), stack(gy))
        if members[0] in fused_members:
            idx = [col[m] for m in members]
            d = d + loss_.fused[members[0].activation](stack(y), T[:, idx])
        for j, m in enumerate(members):
            delta[m] = d[:, j]
            for p in G.predecessors(m):
                if not isinstance(p, (InputUnit, BiasUnit)):
                    gy[p] += delta[m] * w[(p, m)]
    grads = {(p.name, u.name): float(np.sum(delta[u] * y[p])) for p, u in G.edges}
    for tie in net.ties.values():     # a tied set's edges share one gradient: their sum, or its mean
        total = sum(grads[edge] for edge in tie.edges)
        for edge in tie.edges:
            grads[edge] = total if tie.reduce == "sum" else total / len(tie.edges)
    return (float(E), grads, {u.name: y[u] for u in y}, {u.name: delta[u] for u in delta})
