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
from .neurons import BiasUnit, Neuron, Unit

__all__ = ["Plan", "DEFAULT_OUTPUT_GROUP"]

#: Group of output neurons that use a group activation (softmax) without naming a group.
DEFAULT_OUTPUT_GROUP = "outputs"


def _t(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes: neuron-major ``(..., k, batch)`` <-> ``(..., batch, k)``."""
    return a.swapaxes(-1, -2)


def _same(a: np.ndarray) -> np.ndarray:
    return a


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
    """Preallocated neuron-major state ``([K,] units, batch)`` for one batch size.

    Besides the arrays it holds, per level and per segment, every view a pass needs
    (blocks, transposes, gather buffers), made once, so a pass creates no views. Levels
    whose sources are not consecutive rows gather them into one scratch array shared by
    all levels (the backward phase gathers again), and the messages sent back to the
    sources use a second one: per-level buffers would make every pass stream through
    memory far larger than the caches.
    """

    def __init__(self, plan: Plan, batch: int):
        lead, dtype = plan.lead, plan.dtype
        shape = lead + (plan.n_units, batch)
        self.out = out = np.empty(shape, dtype)
        out[..., plan.n_inputs:plan.n_fixed, :] = 1.0    # bias units: always 1
        self.net = net = np.zeros(shape, dtype)
        self.delta = delta = np.zeros(shape, dtype)
        self.gy = gy = np.zeros(shape, dtype)
        self.delta_valid = False   # delta belongs to the current out (set by backward)
        self.inputs = out[..., :plan.n_inputs, :]
        self.gy_computed = gy[..., plan.n_fixed:, :]
        rows = plan.out_rows
        self.Y = _t(out[..., rows, :]) if isinstance(rows, slice) else None
        self.levels = []
        n_gather = max((len(lv.src) for lv in plan.levels if not isinstance(lv.src, slice)), default=0)
        n_send = max((lv.W.shape[-1] - lv.prop_from for lv in plan.levels), default=0)
        gather_scratch = np.empty(lead + (n_gather * batch,), dtype)
        send_scratch = np.empty(lead + (n_send * batch,), dtype)
        for lv in plan.levels:
            if isinstance(lv.src, slice):
                gather, src = None, out[..., lv.src, :]
            else:
                gather = src = gather_scratch[..., :len(lv.src) * batch].reshape(lead + (len(lv.src), batch))
            # Elementwise activations see the neuron-major blocks as they are (contiguous);
            # group activations see them transposed, one group per row of the last axis.
            segs = []
            for seg in lv.segments:
                orient = _t if seg.activation.group else _same
                segs.append((seg.activation, *(orient(a[..., seg.start:seg.stop, :]) for a in (net, out, gy, delta)),
                             seg))
            n_prop = lv.W.shape[-1] - lv.prop_from
            if n_prop:
                WpT = _t(lv.W[..., lv.prop_from:])
                tmp = send_scratch[..., :n_prop * batch].reshape(lead + (n_prop, batch))
                gy_prop = gy[..., lv.prop_rows, :] if isinstance(lv.prop_rows, slice) else None
            else:
                WpT = tmp = gy_prop = None
            self.levels.append((lv, gather, src, _t(src), net[..., lv.start:lv.stop, :],
                                delta[..., lv.start:lv.stop, :], segs, WpT, tmp, gy_prop))


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
    redraw : bool, default False
        Draw with ``init_weights`` also the edges whose weight the initialiser drew
        before (edge attribute ``drawn``), as an ensemble does for every member.

    Attributes
    ----------
    theta, grad : ndarray
        Flat parameters and gradient, ``(P,)`` or ``(K, P)`` for an ensemble.
    mask : ndarray
        ``(P,)`` 1/0 trainable mask (0 for frozen edges and for block entries without an
        edge).
    edge_pos : dict
        ``(src_unit, dst_unit) -> index into the last axis of theta`` (built on first use).
    """

    def __init__(self, graph: nx.DiGraph, inputs: list, biases: list, outputs: list, registry,
                 dtype, init_weights, members: int | None = None, redraw: bool = False):
        self.dtype = np.dtype(dtype)
        self.members = None if members is None else int(members)
        lead = () if members is None else (self.members,)
        self.lead = lead
        self.registry = registry
        self.inputs, self.biases, self.outputs = list(inputs), list(biases), list(outputs)
        self.n_inputs = len(inputs)
        self.n_fixed = len(inputs) + len(biases)
        order = {u: k for k, u in enumerate(graph.nodes)}
        groups = self._groups(graph)
        units: list[Unit] = self.inputs + self.biases
        level_members: list[list[tuple]] = []
        for gen in self._generations(graph, groups):
            members = []
            for u in gen:
                act = registry.activation(u.activation)
                # sort key: activation, group, outputs first (but a group stays whole), insertion
                group = groups.get(u)
                members.append((u.activation, group or "", 0 if u.output or group else 1, order[u], u, act))
            members.sort(key=lambda m: m[:4])
            level_members.append(members)
            units.extend(m[4] for m in members)
        self.units = units
        self.index = {u: i for i, u in enumerate(units)}
        self.n_units = len(units)
        out_pos = {u: k for k, u in enumerate(self.outputs)}
        self.out_rows = _index(np.array([self.index[u] for u in self.outputs], dtype=np.intp))

        # Weight blocks: one per level over its distinct sources, laid out in theta. Edges
        # are gathered per level with list comprehensions and placed with numpy, so a net
        # of a million edges compiles in seconds.
        index = self.index
        levels = []
        size = 0
        pred = graph.pred
        for members in level_members:
            dst = [m[4] for m in members]
            src_units: list[Unit] = []
            datas: list[dict] = []
            counts = np.empty(len(dst), np.intp)
            for r, v in enumerate(dst):
                p = pred[v]
                src_units.extend(p)
                datas.extend(p.values())
                counts[r] = len(p)
            src_idx = np.fromiter(map(index.__getitem__, src_units), np.intp, len(src_units))
            srcs = np.unique(src_idx)
            rows = np.repeat(np.arange(len(dst), dtype=np.intp), counts)
            pos = size + rows * len(srcs) + np.searchsorted(srcs, src_idx)
            levels.append((members, dst, srcs, size, rows, src_units, datas, pos))
            size += len(dst) * len(srcs)
        self.theta = np.zeros(lead + (size,), self.dtype)
        self.grad = np.zeros(lead + (size,), self.dtype)
        self.mask = np.zeros(size, self.dtype)
        self._edges: list[tuple[list, list, np.ndarray]] = []     # per level: sources, targets, positions
        self._edge_pos: dict[tuple[Unit, Unit], int] | None = None
        self.levels: list[_Level] = []
        pending_pos, fan_in, fan_out = [], [], []
        fan_out_of: dict[Unit, int] = {}
        row = self.n_fixed
        for members, dst, srcs, offset, rows, src_units, datas, pos in levels:
            n_dst, n_src = len(dst), len(srcs)
            dst_units = np.array(dst, dtype=object)[rows].tolist()
            self._edges.append((src_units, dst_units, pos))
            self.mask[pos] = np.fromiter(map(dict.get, datas, itertools.repeat("trainable")), bool, len(datas))
            given = np.array(list(map(dict.get, datas, itertools.repeat("weight"))), dtype=object)
            unknown = given == None  # noqa: E711  (elementwise: weights not given)
            if redraw:     # an ensemble draws again every weight the initialiser chose
                unknown |= np.array(list(map(dict.get, datas, itertools.repeat("drawn"))), dtype=object) == True  # noqa: E712,E501
            known = ~unknown
            self.theta[..., pos[known]] = given[known].astype(float)
            new = np.flatnonzero(unknown)
            if len(new):
                for k in new.tolist():
                    datas[k]["drawn"] = True      # the initialiser chose it (an ensemble redraws it)
                pending_pos.append(pos[new])
                fan_in_dst = np.array([sum(1 for u in pred[v] if not isinstance(u, BiasUnit)) for v in dst])
                fan_in.append(fan_in_dst[rows[new]])
                for u in {src_units[k] for k in new.tolist()}:
                    fan_out_of.setdefault(u, len(graph.succ[u]))
                fan_out.append(np.fromiter((fan_out_of[src_units[k]] for k in new.tolist()), np.intp, len(new)))
            W = self.theta[..., offset:offset + n_dst * n_src].reshape(lead + (n_dst, n_src))
            G = self.grad[..., offset:offset + n_dst * n_src].reshape(lead + (n_dst, n_src))
            prop_from = int(np.searchsorted(srcs, self.n_fixed))
            segments = self._segments(members, row, out_pos)
            self.levels.append(_Level(row, row + n_dst, _index(srcs), prop_from, _index(srcs[prop_from:]),
                                      W, G, segments))
            row += n_dst
        if pending_pos:
            where = np.concatenate(pending_pos)
            fan_in, fan_out = np.concatenate(fan_in), np.concatenate(fan_out)
            for k in range(1 if self.members is None else self.members):
                try:
                    drawn = np.asarray(init_weights(fan_in, fan_out, k), dtype=self.dtype)
                except Exception as exc:
                    raise PluginError(f"the weight initialiser failed: {type(exc).__name__}: {exc}; check its "
                                      "options") from exc
                if drawn.shape != where.shape or not np.isfinite(drawn).all():
                    raise PluginError(f"the weight initialiser returned {drawn.shape} values (finite: "
                                      f"{bool(np.isfinite(drawn).all())}) for {len(where)} edges; it must "
                                      "return one finite weight per edge")
                if self.members is None:
                    self.theta[where] = drawn
                else:
                    self.theta[k, where] = drawn
        self._buffers: dict[int, _Buffers] = {}
        self._loss_plans: dict[str, tuple] = {}
        self.last: _Buffers | None = None
        self.last_single = False

    @property
    def edge_pos(self) -> dict:
        """``{(src_unit, dst_unit): position in theta}``, built on first use."""
        if self._edge_pos is None:
            self._edge_pos = {}
            for src_units, dst_units, pos in self._edges:
                self._edge_pos.update(zip(zip(src_units, dst_units), pos.tolist()))
        return self._edge_pos

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

    def _groups(self, graph: nx.DiGraph) -> dict[Unit, str]:
        """``{neuron: group}`` for neurons with a group activation; checks one activation a group."""
        groups: dict[Unit, str] = {}
        first: dict[str, Neuron] = {}
        for u in graph.nodes:
            if isinstance(u, Neuron):
                act = self.registry.activation(u.activation)
                g = self._group_of(u, act)
                if g is not None:
                    f = first.setdefault(g, u)
                    if f.activation != u.activation:
                        raise TopologyError(f"group {g!r} mixes activations: neuron {f.name!r} uses "
                                            f"{f.activation!r}, neuron {u.name!r} uses {u.activation!r}; "
                                            "a group shares one activation")
                    groups[u] = g
        return groups

    def _generations(self, graph: nx.DiGraph, groups: dict[Unit, str]) -> list[list]:
        """Computing neurons by level (longest path from a source), each group on one level.

        A group's members are computed in one step, so they share the deepest level any of
        them needs; the members' successors move down with them. Levels are found by
        dynamic programming in topological order, repeated until the group levels settle.
        """
        for u, g in groups.items():
            for v in graph.succ[u]:
                if groups.get(v) == g:
                    raise TopologyError(f"edge {u.name!r} -> {v.name!r} joins two neurons of the group "
                                        f"{g!r}; a group is normalised at once, so its members cannot "
                                        "feed each other: remove the edge or put them in different groups")
        topo = list(nx.topological_sort(graph))
        floor: dict[str, int] = {}
        pred = graph.pred
        for _ in range(len(set(groups.values())) + 2):
            level: dict[Unit, int] = {}
            for v in topo:
                lv = max((level[u] + 1 for u in pred[v]), default=0)
                g = groups.get(v)
                level[v] = max(lv, floor.get(g, 0)) if g is not None else lv
            new_floor: dict[str, int] = {}
            for u, g in groups.items():
                new_floor[g] = max(new_floor.get(g, 0), level[u])
            if new_floor == floor:
                break
            floor = new_floor
        else:
            self._group_cycle(graph, groups)
        by_level: dict[int, list] = {}
        for v in topo:
            if isinstance(v, Neuron):
                by_level.setdefault(level[v], []).append(v)
        return [by_level[k] for k in sorted(by_level)]

    @staticmethod
    def _group_cycle(graph: nx.DiGraph, groups: dict[Unit, str]) -> None:
        """Raise the CycleError for a group that depends on itself through other neurons."""
        key = {u: ("group", g) for u, g in groups.items()}
        condensed = nx.DiGraph((key.get(u, u), key.get(v, v)) for u, v in graph.edges)
        cycle = nx.find_cycle(condensed)
        names = [k[1] if isinstance(k, tuple) else k.name for k, _ in cycle]
        raise CycleError(f"the softmax group {names[0]!r} depends on itself through "
                         f"{' -> '.join(names + names[:1])}; a group's neurons must not feed each "
                         "other even through other neurons", names + names[:1])

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
            buf = self._buffers[batch] = _Buffers(self, batch)
        return buf

    def forward(self, X: np.ndarray) -> _Buffers:
        """Forward phase for validated inputs ``X`` of shape ``(batch, n_inputs)``.

        Returns the buffers holding every unit's ``net`` and ``out`` (neuron-major).
        """
        buf = self.buffers(X.shape[0])
        out = buf.out
        buf.delta_valid = False
        buf.inputs[...] = X.T
        for lv, gather, src, _srcT, net_block, _d, segs, *_ in buf.levels:
            if gather is not None:
                np.take(out, lv.src, axis=-2, out=gather)
            np.matmul(lv.W, src, out=net_block)               # message w·y, summed per neuron
            for act, net_s, out_s, *_ in segs:
                out_s[...] = act.function(net_s)             # update: the activation
        self.last = buf
        return buf

    def output_values(self, buf: _Buffers) -> np.ndarray:
        """Network outputs ``([K,] batch, n_outputs)`` of the pass held in ``buf`` (a view,
        or a copy when the outputs are not consecutive rows)."""
        return buf.Y if buf.Y is not None else _t(buf.out[..., self.out_rows, :])

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
        gy = buf.gy
        Y = self.output_values(buf)
        E = loss.value(Y, T) if value else None
        fused, gen_cols, gen_rows, n_general = self._loss_plan(loss)
        buf.gy_computed.fill(0.0)
        if n_general:
            gy[..., gen_rows, :] = _t(loss.gradient(Y[..., gen_cols], T[:, gen_cols]))
        out = buf.out
        for lv, gather, _src, srcT, _n, delta_block, segs, WpT, tmp, gy_prop in reversed(buf.levels):
            for act, net_s, out_s, gy_s, delta_s, seg in segs:
                d = act.backward(net_s, out_s, gy_s)         # delta = f'(net) · dE/dy
                f = fused.get(id(seg))
                if f is not None:
                    t = T[:, seg.out_cols]
                    d = d + f(out_s, t if act.group else t.T)
                delta_s[...] = d
            if gather is not None:
                np.take(out, lv.src, axis=-2, out=gather)
            np.matmul(delta_block, srcT, out=lv.G)          # dE/dw = delta(dst) · y(src), summed
            if WpT is not None:                             # message delta·w back to the sources
                np.matmul(WpT, delta_block, out=tmp)
                if gy_prop is not None:
                    gy_prop += tmp
                else:
                    gy[..., lv.prop_rows, :] += tmp
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
