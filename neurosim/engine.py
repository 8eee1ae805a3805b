"""The compiled plan: a network's graph turned into arrays, and the two phases over them.

:class:`Plan` is built once per topology (the :class:`~neurosim.Network` rebuilds it when
neurons or edges change, never when only weights do). It orders the units as sources
(inputs, then bias units) followed by the computing neurons, one *level* per topological
generation of the graph (a softmax group is kept inside one level). For each level it
keeps a dense weight block over the level's distinct source units, stored as a view into
one flat parameter vector ``theta``, so an optimiser updates every weight with one numpy
operation and structural zeros (pairs without an edge) are masked out of the gradient.

State arrays are neuron-major, shape ``(units, batch)``: row ``i`` holds unit ``i``'s values
over the batch. An *ensemble* plan (``members=K``) trains K copies of the topology at once:
``theta`` becomes ``(K, P)``, every block ``(K, n_level, n_src)`` and the state
``(K, units, batch)``; the same code runs both, indexing ``[..., rows, :]`` and multiplying
stacked matrices. Each level runs as a few numpy operations over the whole batch:

* forward, message ``w·y`` and sum:  ``net[level] = W @ y[sources]``; update:
  ``y[level] = f(net[level])``;
* backward, ``dE/dnet = f'(net) · dE/dy`` (or the loss's fused delta, or a group
  activation's vector-Jacobian product); message ``delta·w`` summed into the sources:
  ``dE/dy[sources] += W.T @ delta``; weight gradient ``dE/dW = delta @ y[sources].T``,
  i.e. ``dE/dw = delta(dst) · y(src)`` summed over the batch.

Loops run over levels and activation segments, never over neurons or edges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from .errors import CycleError, NumericalError, PluginError, TopologyError
from .neurons import BiasUnit, InputUnit, Neuron, Unit

__all__ = ["Plan", "DEFAULT_OUTPUT_GROUP"]

#: Group of output neurons that use a group activation (softmax) without naming a group.
DEFAULT_OUTPUT_GROUP = "outputs"


def _t(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes: neuron-major ``(..., k, batch)`` <-> ``(..., batch, k)``."""
    return a.swapaxes(-1, -2)


def _index(idx: np.ndarray) -> slice | np.ndarray:
    """A slice when ``idx`` is a contiguous ascending run (views, no copies), else ``idx``."""
    if len(idx) == 0:
        return slice(0, 0)
    if idx[-1] - idx[0] == len(idx) - 1 and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


@dataclass
class _Segment:
    """Neurons ``start:stop`` (state rows) of one level sharing an activation (one group)."""

    activation: Any
    start: int
    stop: int
    output: bool           # every neuron of the segment is an output (fused deltas apply)
    out_cols: Any = None   # their columns among the network outputs (slice or index array)


@dataclass
class _Level:
    """One topological generation: rows ``start:stop`` fed from ``src`` through ``W``."""

    start: int
    stop: int
    src: Any               # source rows (slice or index array)
    prop_from: int         # first column of W whose source is a computing neuron
    prop_rows: Any         # those sources' rows (slice or index array)
    W: np.ndarray          # ([K,] n_level, n_src) view into theta
    G: np.ndarray          # ([K,] n_level, n_src) view into grad
    segments: list


class _Buffers:
    """Preallocated neuron-major state ``([K,] units, batch)`` for one batch size."""

    def __init__(self, lead: tuple, n_units: int, n_sources_fixed: int, n_inputs: int, batch: int, dtype):
        shape = lead + (n_units, batch)
        self.out = np.empty(shape, dtype)
        self.out[..., n_inputs:n_sources_fixed, :] = 1.0    # bias units: always 1
        self.net = np.zeros(shape, dtype)
        self.delta = np.zeros(shape, dtype)
        self.gy = np.zeros(shape, dtype)
        self.delta_valid = False   # delta belongs to the current out (set by backward)


class Plan:
    """A network compiled for fast passes. Built by :class:`~neurosim.Network`.

    Parameters
    ----------
    graph : networkx.DiGraph
        Nodes are :class:`~neurosim.neurons.Unit` objects; edges carry ``weight``
        (float or None: drawn by the initialiser) and ``trainable``.
    inputs, biases, outputs : list of Unit
        In the order the user added them.
    registry : neurosim.plugins.Registry
        Where activation names are looked up.
    dtype : numpy dtype
        Floating type of every array.
    init_weights : callable
        ``init_weights(fan_in, fan_out, member) -> weights`` for edges whose weight is
        None (or in ``redraw``); ``member`` is 0 for a single network, else the ensemble
        member being initialised.
    members : int, optional
        Build an ensemble plan of this many independent copies.
    redraw : collection of (Unit, Unit), optional
        Edges whose weights are drawn by ``init_weights`` even though the graph has one
        (those the initialiser drew for the single network).

    Attributes
    ----------
    theta, grad : ndarray
        Flat parameters and gradient, ``(P,)`` or ``(K, P)`` for an ensemble.
    mask : ndarray
        ``(P,)`` 1/0 trainable mask (0 for frozen edges and for block entries without an
        edge).
    edge_pos : dict
        ``(src_unit, dst_unit) -> index into the last axis of theta``.
    drawn : list of (Unit, Unit)
        The edges whose weights the initialiser drew.
    """

    def __init__(self, graph: nx.DiGraph, inputs: list, biases: list, outputs: list, registry,
                 dtype, init_weights, members: int | None = None, redraw=frozenset()):
        self.dtype = np.dtype(dtype)
        self.members = None if members is None else int(members)
        lead = () if members is None else (self.members,)
        self.lead = lead
        self.registry = registry
        self.inputs, self.biases, self.outputs = list(inputs), list(biases), list(outputs)
        self.n_inputs = len(inputs)
        self.n_fixed = len(inputs) + len(biases)
        order = {u: k for k, u in enumerate(graph.nodes)}
        generations = self._generations(graph, order)

        units: list[Unit] = self.inputs + self.biases
        level_members: list[list[tuple]] = []
        for gen in generations:
            members = []
            for key in gen:
                for u in (self._group_members[key] if key in self._group_members else [key]):
                    act = registry.activation(u.activation)
                    # sort key: activation, group, outputs first (but a group stays whole), insertion
                    group = self._group_of(u, act)
                    members.append((u.activation, group or "", 0 if u.output or group else 1, order[u], u, act))
            members.sort(key=lambda m: m[:4])
            level_members.append(members)
            units.extend(m[4] for m in members)
        self.units = units
        self.index = {u: i for i, u in enumerate(units)}
        self.n_units = len(units)
        out_pos = {u: k for k, u in enumerate(self.outputs)}
        self.out_rows = _index(np.array([self.index[u] for u in self.outputs], dtype=np.intp))

        # Weight blocks: one per level over its distinct sources, laid out in theta.
        blocks, size = [], 0
        for members in level_members:
            dst = [m[4] for m in members]
            srcs = sorted({self.index[s] for v in dst for s in graph.predecessors(v)})
            blocks.append((dst, np.array(srcs, dtype=np.intp), size))
            size += len(dst) * len(srcs)
        self.theta = np.zeros(lead + (size,), self.dtype)
        self.grad = np.zeros(lead + (size,), self.dtype)
        self.mask = np.zeros(size, self.dtype)
        self.edge_pos: dict[tuple[Unit, Unit], int] = {}
        pending: list[tuple[int, Unit, Unit]] = []
        self.levels: list[_Level] = []
        row = self.n_fixed
        for members, (dst, srcs, offset) in zip(level_members, blocks):
            n_dst, n_src = len(dst), len(srcs)
            col = {int(s): c for c, s in enumerate(srcs)}
            for r, v in enumerate(dst):
                for u, data in graph.pred[v].items():
                    pos = offset + r * n_src + col[self.index[u]]
                    self.edge_pos[(u, v)] = pos
                    self.mask[pos] = 1.0 if data.get("trainable", True) else 0.0
                    if data.get("weight") is None or (u, v) in redraw:
                        pending.append((pos, u, v))
                    else:
                        self.theta[..., pos] = data["weight"]
            W = self.theta[..., offset:offset + n_dst * n_src].reshape(lead + (n_dst, n_src))
            G = self.grad[..., offset:offset + n_dst * n_src].reshape(lead + (n_dst, n_src))
            prop_from = int(np.searchsorted(srcs, self.n_fixed))
            segments = self._segments(members, row, out_pos)
            self.levels.append(_Level(row, row + n_dst, _index(srcs), prop_from, _index(srcs[prop_from:]),
                                      W, G, segments))
            row += n_dst
        if pending:
            fan_in_of: dict[Unit, int] = {}
            for _, _, v in pending:
                if v not in fan_in_of:
                    fan_in_of[v] = sum(1 for p in graph.predecessors(v) if not isinstance(p, BiasUnit))
            fan_in = np.array([fan_in_of[v] for _, _, v in pending])
            fan_out = np.array([graph.out_degree(u) for _, u, _ in pending])
            where = [p for p, _, _ in pending]
            for k in range(1 if self.members is None else self.members):
                try:
                    drawn = np.asarray(init_weights(fan_in, fan_out, k), dtype=self.dtype)
                except Exception as exc:
                    raise PluginError(f"the weight initialiser failed: {type(exc).__name__}: {exc}; check its "
                                      "options") from exc
                if drawn.shape != (len(pending),) or not np.isfinite(drawn).all():
                    raise PluginError(f"the weight initialiser returned {drawn.shape} values (finite: "
                                      f"{bool(np.isfinite(drawn).all())}) for {len(pending)} edges; it must return "
                                      "one finite weight per edge")
                if self.members is None:
                    self.theta[where] = drawn
                else:
                    self.theta[k, where] = drawn
        self.drawn = [(u, v) for _, u, v in pending]
        self._buffers: dict[int, _Buffers] = {}
        self._loss_plans: dict[str, tuple] = {}
        self.last: _Buffers | None = None
        self.last_single = False

    # --- compilation helpers ----------------------------------------------------------

    @staticmethod
    def _group_of(u: Neuron, act) -> str | None:
        if not act.group:
            return None
        if u.group is not None:
            return u.group
        if u.output:
            return DEFAULT_OUTPUT_GROUP
        raise TopologyError(f"neuron {u.name!r} uses the group activation {act.name!r} but is not an output "
                            f"and names no group; pass group='...' to add_neuron to say which neurons "
                            f"{act.name} normalises over")

    def _generations(self, graph: nx.DiGraph, order: dict) -> list[list]:
        """Topological generations of the computing neurons, each group kept whole."""
        groups: dict[str, list[Neuron]] = {}
        key_of: dict[Unit, Any] = {}
        for u in graph.nodes:
            if isinstance(u, Neuron):
                act = self.registry.activation(u.activation)
                g = self._group_of(u, act)
                if g is not None:
                    members = groups.setdefault(g, [])
                    if members and members[0].activation != u.activation:
                        raise TopologyError(f"group {g!r} mixes activations: neuron {members[0].name!r} uses "
                                            f"{members[0].activation!r}, neuron {u.name!r} uses {u.activation!r}; "
                                            "a group shares one activation")
                    members.append(u)
                    key_of[u] = ("group", g)
        self._group_members = {("group", g): m for g, m in groups.items()}
        if not key_of:
            condensed = graph
        else:
            condensed = nx.DiGraph()
            condensed.add_nodes_from(key_of.get(u, u) for u in graph.nodes)
            for u, v in graph.edges:
                ku, kv = key_of.get(u, u), key_of.get(v, v)
                if ku == kv:
                    raise TopologyError(f"edge {u.name!r} -> {v.name!r} joins two neurons of the group "
                                        f"{ku[1]!r}; a group is normalised at once, so its members cannot "
                                        "feed each other: remove the edge or put them in different groups")
                condensed.add_edge(ku, kv)
            try:
                cycle = nx.find_cycle(condensed)
            except nx.NetworkXNoCycle:
                cycle = None
            if cycle:
                names = [k[1] if isinstance(k, tuple) else k.name for k, _ in cycle]
                raise CycleError(f"the softmax group {names[0]!r} depends on itself through "
                                 f"{' -> '.join(names + names[:1])}; a group's neurons must not feed each "
                                 "other even through other neurons", names + names[:1])
        gens = []
        for gen in nx.topological_generations(condensed):
            comp = [k for k in gen if not isinstance(k, (InputUnit, BiasUnit))]
            if comp:
                gens.append(comp)
        return gens

    @staticmethod
    def _segments(members: list[tuple], row: int, out_pos: dict) -> list[_Segment]:
        """Split a sorted level into runs sharing (activation, group, output flag).

        A group is one run even when only some of its members are outputs; the loss's
        fused delta then does not apply to it (``output`` is False).
        """
        segments: list[_Segment] = []
        for key, run in itertools.groupby(members, key=lambda m: m[:3]):
            run = list(run)
            seg = _Segment(run[0][5], row, row + len(run), output=all(m[4].output for m in run))
            if seg.output:
                seg.out_cols = _index(np.array([out_pos[m[4]] for m in run], dtype=np.intp))
            segments.append(seg)
            row += len(run)
        return segments

    # --- buffers and passes -------------------------------------------------------------

    def buffers(self, batch: int) -> _Buffers:
        """Return (creating on first use) the state buffers for ``batch`` patterns."""
        buf = self._buffers.get(batch)
        if buf is None:
            if len(self._buffers) >= 4:
                self._buffers.pop(next(iter(self._buffers)))
            buf = self._buffers[batch] = _Buffers(self.lead, self.n_units, self.n_fixed, self.n_inputs, batch,
                                                  self.dtype)
        return buf

    def forward(self, X: np.ndarray) -> _Buffers:
        """Forward phase for validated inputs ``X`` of shape ``(batch, n_inputs)``.

        Returns the buffers holding every unit's ``net`` and ``out`` (neuron-major).
        """
        buf = self.buffers(X.shape[0])
        out, net = buf.out, buf.net
        buf.delta_valid = False
        out[..., :self.n_inputs, :] = X.T
        for lv in self.levels:
            np.matmul(lv.W, out[..., lv.src, :], out=net[..., lv.start:lv.stop, :])
            for seg in lv.segments:
                rows = slice(seg.start, seg.stop)
                _t(out[..., rows, :])[...] = seg.activation.function(_t(net[..., rows, :]))
        self.last = buf
        return buf

    def output_values(self, buf: _Buffers) -> np.ndarray:
        """Network outputs ``([K,] batch, n_outputs)`` of the pass held in ``buf`` (a view)."""
        return _t(buf.out[..., self.out_rows, :])

    def outputs_of(self, buf: _Buffers) -> np.ndarray:
        """Network outputs ``([K,] batch, n_outputs)`` of the pass held in ``buf`` (a copy)."""
        return self.output_values(buf).copy()

    def _loss_plan(self, loss) -> tuple:
        plan = self._loss_plans.get(loss.name)
        if plan is None:
            fused, general = [], np.ones(len(self.outputs), bool)
            for lv in self.levels:
                for seg in lv.segments:
                    f = loss.fused.get(seg.activation.name) if seg.output else None
                    if f is not None:
                        fused.append((seg, f))
                        general[seg.out_cols] = False
            cols = np.flatnonzero(general)
            rows = np.asarray(self.out_rows if isinstance(self.out_rows, np.ndarray)
                              else np.arange(self.out_rows.start, self.out_rows.stop))[cols]
            plan = (dict((id(s), f) for s, f in fused), _index(cols), _index(rows), len(cols))
            self._loss_plans[loss.name] = plan
        return plan

    def backward(self, T: np.ndarray, loss, value: bool = True):
        """Backward phase after :meth:`forward`; fills ``grad`` and returns the total error.

        Parameters
        ----------
        T : ndarray
            Validated targets ``(batch, n_outputs)``.
        loss : neurosim.Loss
        value : bool, default True
            Compute the error too (a float, or ``(K,)`` per ensemble member); when False
            return None and save the loss evaluation.
        """
        buf = self.last
        out, net, delta, gy = buf.out, buf.net, buf.delta, buf.gy
        Y = self.output_values(buf)
        E = loss.value(Y, T) if value else None
        fused, gen_cols, gen_rows, n_general = self._loss_plan(loss)
        gy[..., self.n_fixed:, :] = 0.0
        if n_general:
            gy[..., gen_rows, :] = _t(loss.gradient(Y[..., gen_cols], T[:, gen_cols]))
        for lv in reversed(self.levels):
            for seg in lv.segments:
                s = slice(seg.start, seg.stop)
                d = seg.activation.backward(_t(net[..., s, :]), _t(out[..., s, :]), _t(gy[..., s, :]))
                f = fused.get(id(seg))
                if f is not None:
                    d = d + f(_t(out[..., s, :]), T[:, seg.out_cols])
                _t(delta[..., s, :])[...] = d
            d = delta[..., lv.start:lv.stop, :]
            np.matmul(d, _t(out[..., lv.src, :]), out=lv.G)
            if lv.prop_from < lv.W.shape[-1]:
                gy[..., lv.prop_rows, :] += _t(lv.W[..., lv.prop_from:]) @ d
        buf.delta_valid = True
        return E

    def check_finite(self, what: str) -> None:
        """Raise :class:`NumericalError` naming the first weight that is NaN or infinite."""
        if np.isfinite(self.theta).all():
            return
        bad = np.flatnonzero(~np.isfinite(self.theta).reshape(-1, self.theta.shape[-1]).all(axis=0))
        bad_set = set(bad.tolist())
        edges = [f"{u.name} -> {v.name}" for (u, v), p in self.edge_pos.items() if p in bad_set]
        raise NumericalError(f"{what}: weights became non-finite ({', '.join(edges[:5])}"
                             f"{' ...' if len(edges) > 5 else ''}); lower the learning rate or momentum, "
                             "or scale the inputs")

    def first_nonfinite(self, buf: _Buffers) -> str | None:
        """Name of the first unit, in computation order, whose output is NaN or infinite."""
        rows = np.isfinite(buf.out).all(axis=-1)
        bad = np.flatnonzero(~rows.reshape(-1, self.n_units).all(axis=0))
        return self.units[bad[0]].name if len(bad) else None

    def state(self, unit: Unit, field: str) -> Any:
        """Value of ``field`` (out, net, delta) of ``unit`` for the last pass, or None."""
        if self.last is None or (field == "delta" and not self.last.delta_valid):
            return None
        row = getattr(self.last, field)[..., self.index[unit], :]
        return float(row[..., 0]) if self.last_single and self.members is None else row.copy()
