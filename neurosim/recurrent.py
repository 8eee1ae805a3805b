"""Recurrent networks unrolled in time: :func:`unroll`.

An iterative (recurrent) net run for T steps computes what a layered, feed-forward net of
T copies of it computes, provided corresponding weights of the copies stay equal
(Rumelhart, Hinton & Williams 1986, Fig. 5). :func:`unroll` takes a small recurrent net as
a NetworkX graph that may have cycles — edges carry a ``delay``: 0 within a step, ``d``
from the source's value ``d`` steps earlier — and returns the layered
:class:`~neurosim.Network` of its copies ``name@t``, with the copies of every weight tied
(:meth:`~neurosim.Network.tie`), so that backpropagation through the unrolled net is
backpropagation through time and training keeps it one recurrent net.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import networkx as nx

from .engine import DEFAULT_OUTPUT_GROUP
from .errors import CycleError, NeurosimError, TopologyError
from .network import REDUCES, Network
from .resources import BYTES_PER_EDGE, BYTES_PER_UNIT, require_memory

__all__ = ["unroll", "INPUTS", "step_name"]

#: When a recurrent net's inputs are presented (:func:`unroll`).
INPUTS = ("every", "first")


def step_name(name: str, step: int) -> str:
    """The name of unit ``name``'s copy at step ``step`` in an unrolled net: ``"h1@3"``.

    Parameters
    ----------
    name : str
        The unit's name in the recurrent net.
    step : int
        The time step, from 0.

    Returns
    -------
    str
    """
    return f"{name}@{step}"


def unroll(recurrent: nx.DiGraph, steps: int, *, inputs: str = "every", outputs: Any = "last",
           reduce: str = "sum", activation: str = "sigmoid", output_activation: str | None = None,
           bias: bool | None = None, **kwargs: Any) -> Network:
    """Unroll a recurrent net for ``steps`` time steps into a layered network with tied weights.

    At step ``t`` every computing unit ``v`` of the recurrent net computes
    ``y_t(v) = f(Σ w_uv · y_{t - d_uv}(u))`` over its incoming edges ``u -> v`` of delay
    ``d_uv``; before step 0 every unit is 0 (so an edge of delay ``d`` has no copy at the
    steps ``t < d``), input units hold the pattern's values of step ``t`` and bias units
    are 1. The unrolled network has a copy ``v@t`` of every unit per step (bias units
    once: they are 1 at every step) and an edge ``u@(t - d) -> v@t`` for every edge and
    step, and the copies of each edge form one tied set named ``"u -> v"``: one weight,
    trained with the set's gradient. So its forward pass is the recurrent net iterated
    ``steps`` times, and its backward pass is backpropagation through time.

    Parameters
    ----------
    recurrent : networkx.DiGraph
        The recurrent net; it may have cycles and self-loops, as long as every cycle has
        an edge with a delay. Nodes are read as :meth:`Network.from_networkx` reads them
        (attributes ``kind``, ``activation``, ``output``, ``group``; without ``kind``, a
        node without incoming edges is an input, and without ``output`` a computing
        node that feeds no unit within a step, through an edge without delay, is an
        output), edges carry ``weight`` (shared by every copy; missing or None: drawn by
        the initialiser, once for the set), ``trainable`` and ``delay`` (a whole number
        >= 0, default 0: within a step; 1: from the previous step).
    steps : int
        T, the number of time steps (>= 1).
    inputs : {'every', 'first'}, default 'every'
        ``"every"``: the inputs take a value at every step, and the network's inputs are
        the copies ``x@t`` in step order (a pattern lists step 0's inputs, then step
        1's, ...); ``"first"``: only at step 0 (an initial state the net then iterates
        on; later steps see 0).
    outputs : 'last', 'every' or iterable of int, default 'last'
        The steps whose copies of the output units are the network's outputs, in step
        order (then in the recurrent net's node order): the last step, every step, or the
        steps listed (0-based; negative numbers count from the end, -1 being the last).
    reduce : {'sum', 'mean'}, default 'sum'
        Each tied set's gradient (:meth:`Network.tie`): ``"sum"`` over its copies, the
        true gradient of the error with respect to the recurrent net's weight (the
        default: what backpropagation through time computes and finite differences
        measure, and what any optimiser should be given); ``"mean"``, the sum divided by
        the number of copies, as Rumelhart, Hinton & Williams (1986) change each set "by
        the average of its gradients" (with plain gradient descent the same as ``"sum"``
        at a learning rate divided by the number of copies).
    activation, output_activation : str
        Activations of computing units without an ``activation`` attribute, as for
        :meth:`Network.from_networkx`.
    bias : bool, optional
        Add a bias unit feeding every computing unit, as for
        :meth:`Network.from_networkx` (by default: for a graph without ``kind``
        attributes).
    **kwargs
        Passed to :class:`Network` (``seed``, ``init``, ``dtype``, ``plugins``,
        ``registry``, ...).

    Returns
    -------
    Network
        The unrolled network; ``net.ties`` lists the sets (an edge with one copy, as an
        edge of delay ``d`` when ``steps = d + 1``, is an ordinary edge).

    Raises
    ------
    CycleError
        When a cycle has no delayed edge (the units on it would wait for each other).
    TopologyError
        Bad ``steps``, ``inputs``, ``outputs``, ``reduce`` or ``delay`` values, or an edge
        into an input or bias unit.
    ResourceError
        When the unrolled network would not fit in memory (checked before it is built).

    Notes
    -----
    A set's weight starts as the copies' given weight, or as the initialiser's draw for
    the set's first copy (the earliest step); every copy then gets the same gradient and
    the same optimiser step, so the copies stay equal. Softmax groups are normalised
    step by step (the copies of group ``g`` at step ``t`` form the group ``g@t``).

    Examples
    --------
    A unit that adds its input to its own previous value, ``y_t = x_t + 0.5 · y_{t-1}``:

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("x", kind="input"); G.add_node("y", kind="neuron", activation="identity", output=True)
    >>> G.add_edge("x", "y", weight=1.0); G.add_edge("y", "y", weight=0.5, delay=1)
    >>> net = unroll(G, 3)
    >>> float(net.forward([1.0, 0.0, 2.0])[0])         # 2 + 0.5 · (0 + 0.5 · 1)
    2.25
    >>> sorted(net.ties)
    ['x -> y', 'y -> y']
    """
    if not isinstance(recurrent, nx.DiGraph) or recurrent.is_multigraph():
        raise TopologyError(f"unroll needs a networkx.DiGraph of the recurrent net, not "
                            f"{type(recurrent).__name__}; it may have cycles and self-loops")
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise TopologyError(f"unroll: steps (time steps) must be a whole number >= 1, not {steps!r:.60}")
    steps = int(steps)
    if not isinstance(inputs, str) or inputs not in INPUTS:
        raise TopologyError(f"unroll: inputs must be 'every' (a value at every step) or 'first' (at step 0 "
                            f"only), not {inputs!r:.60}")
    if not isinstance(reduce, str) or reduce not in REDUCES:
        raise TopologyError(f"unroll: reduce must be 'sum' (the true gradient of each recurrent weight) or "
                            f"'mean' (divided by its number of copies), not {reduce!r:.60}")
    out_steps = _output_steps(outputs, steps)
    names = {node: str(node) for node in recurrent.nodes}
    if len(set(names.values())) < len(names):
        raise TopologyError("unroll: two units of the recurrent net have the same name as strings; relabel them "
                            "(networkx.relabel_nodes) so their names are unique")
    delays = _delays(recurrent, names)
    _check_delayed_cycles(recurrent, delays, names)
    n_nodes, n_edges = recurrent.number_of_nodes(), recurrent.number_of_edges()
    require_memory(2.0 * steps * ((n_nodes + 1.0) * BYTES_PER_UNIT + (n_edges + n_nodes) * BYTES_PER_EDGE),
                   f"the recurrent net of {n_nodes} units and {n_edges} edges unrolled for {steps} steps",
                   "unroll for fewer steps")
    probe = Network(**{k: kwargs[k] for k in ("plugins", "registry") if k in kwargs})   # for its activations
    kwargs = {k: v for k, v in kwargs.items() if k != "plugins"} | {"registry": probe.registry}
    feeding = {u for (u, _), d in delays.items() if d == 0}
    kinds, neurons = _units(recurrent, names, feeding, probe, activation, output_activation)
    for u, v in delays:
        if kinds[v] != "neuron":
            raise TopologyError(f"unroll: edge {names[u]!r} -> {names[v]!r} goes into {names[v]!r}, "
                                f"{'an input' if kinds[v] == 'input' else 'a bias'} unit, whose output is fixed; "
                                "connect into a computing unit")
    edges = list(recurrent.edges(data=True))
    if bias is not None:
        bias = Network._check_flag(bias, "unroll: bias")
    described = any("kind" in attrs for _, attrs in recurrent.nodes(data=True))
    if (bias if bias is not None else not described) and "bias" not in kinds.values():
        shared = next(n for n in ("bias", "bias_unit", *(f"bias_unit{k}" for k in range(2, n_nodes + 3)))
                      if n not in names.values())
        kinds[shared], names[shared] = "bias", shared
        feeds = [v for v, kind in kinds.items() if kind == "neuron"]
        edges = [(shared, v, {}) for v in feeds] + edges
        delays.update(dict.fromkeys(((shared, v) for v in feeds), 0))

    def copy_of(node, t: int) -> str | None:
        """The unrolled unit holding ``node``'s value at step ``t`` (None: none, the value is 0)."""
        if t < 0 or (kinds[node] == "input" and inputs == "first" and t > 0):
            return None
        return names[node] if kinds[node] == "bias" else step_name(names[node], t)

    D = nx.DiGraph()
    D.add_nodes_from((names[node], {"kind": "bias"}) for node, kind in kinds.items() if kind == "bias")
    index = 0
    for t in range(steps):                        # units step by step: inputs in step order, then outputs
        for node, kind in kinds.items():
            if kind == "input" and copy_of(node, t) is not None:
                D.add_node(step_name(names[node], t), kind="input")
            elif kind == "neuron":
                attrs, group = neurons[node]
                attrs = {**attrs, "output": attrs["output"] and t in out_steps}
                if group is not None:             # a softmax group is normalised step by step
                    attrs["group"] = step_name(group, t)
                if attrs["output"]:
                    attrs["output_index"], index = index, index + 1
                D.add_node(step_name(names[node], t), **attrs)
    copies = {(u, v): sum(copy_of(u, t - delays[(u, v)]) is not None for t in range(steps)) for u, v, _ in edges}
    ties = {f"{names[u]} -> {names[v]}": reduce for (u, v), n in copies.items() if n > 1}
    for t in range(steps):                        # edges step by step: a set's first copy is its earliest
        for u, v, data in edges:
            src = copy_of(u, t - delays[(u, v)])
            if src is not None:
                attrs = {key: data[key] for key in ("weight", "trainable") if key in data}
                if copies[(u, v)] > 1:
                    attrs["tie"] = f"{names[u]} -> {names[v]}"
                D.add_edge(src, step_name(names[v], t), **attrs)
    if ties:
        D.graph["ties"] = ties
    return Network.from_networkx(D, activation=activation, bias=False, **kwargs)


def _units(G: nx.DiGraph, names: dict, feeding: set, probe: Network, activation: str,
           output_activation: str | None) -> tuple:
    """``(kinds, neurons)``: every unit's kind, and each computing unit's node attributes
    for its copies with the name of its group when it normalises per step (or None).
    Without a ``kind`` attribute a unit without incoming edges is an input; without an
    ``output`` attribute a computing unit that feeds no unit within a step (not in
    ``feeding``) is an output."""
    kinds, neurons = {}, {}
    for node, attrs in G.nodes(data=True):
        name = names[node]
        kind = attrs.get("kind") or ("input" if G.in_degree(node) == 0 else "neuron")
        if kind not in ("input", "bias", "neuron"):
            raise TopologyError(f"unit {name!r}: the 'kind' attribute must be 'input', 'bias' or 'neuron', not "
                                f"{kind!r:.60}")
        kinds[node] = kind
        if kind != "neuron":
            continue
        output = probe._check_flag(attrs.get("output", node not in feeding), f"unit {name!r}: the 'output' attribute")
        act = attrs.get("activation") or (output_activation if output and output_activation else activation)
        try:
            grouped = probe.registry.activation(act).group
        except NeurosimError as exc:
            raise type(exc)(f"unit {name!r}: {exc}") from None
        group = attrs.get("group") or (DEFAULT_OUTPUT_GROUP if output else None)
        copied = {"kind": "neuron", "activation": act, "output": output}
        if not grouped and "group" in attrs:
            copied["group"] = attrs["group"]      # refused by the network, with its message
        neurons[node] = (copied, group if grouped else None)
    return kinds, neurons


def _output_steps(outputs: Any, steps: int) -> range | frozenset:
    """The steps ``outputs`` names ('last', 'every' or step numbers), as 0-based numbers (a
    range for 'last' and 'every', so that asking costs nothing however many steps there are)."""
    if isinstance(outputs, str):
        if outputs == "last":
            return range(steps - 1, steps)
        if outputs == "every":
            return range(steps)
    elif isinstance(outputs, Iterable):
        listed = list(outputs)
        if listed and all(isinstance(t, numbers.Integral) and not isinstance(t, bool) and -steps <= t < steps
                          for t in listed):
            chosen = [int(t) % steps for t in listed]
            if len(set(chosen)) == len(chosen):
                return frozenset(chosen)
            raise TopologyError(f"unroll: outputs lists a step twice ({listed!r:.60}); list each step once")
    raise TopologyError(f"unroll: outputs must be 'last', 'every' or a non-empty list of steps from 0 to "
                        f"{steps - 1} (or -{steps} to -1, from the end), not {outputs!r:.60}")


def _delays(G: nx.DiGraph, names: dict) -> dict:
    """``{(u, v): delay}`` of every edge of ``G``, each a whole number >= 0 (default 0)."""
    delays = {}
    for u, v, d in G.edges(data="delay", default=0):
        if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 0:
            raise TopologyError(f"unroll: edge {names[u]!r} -> {names[v]!r}: its delay must be a whole number of "
                                f"steps >= 0 (0 within a step, 1 from the previous step), not {d!r:.60}")
        delays[(u, v)] = int(d)
    return delays


def _check_delayed_cycles(G: nx.DiGraph, delays: dict, names: dict) -> None:
    """Refuse a cycle of edges without delay: its units would each wait for the others."""
    within = nx.DiGraph([(u, v) for (u, v), d in delays.items() if d == 0])
    if not nx.is_directed_acyclic_graph(within):
        cycle = [names[u] for u, _ in nx.find_cycle(within)]
        cycle.append(cycle[0])
        raise CycleError(f"unroll: the edges {' -> '.join(cycle)} form a cycle within one step; give one of them "
                         f"a delay (delay=1: from the previous step)", cycle)
