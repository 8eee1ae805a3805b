"""The compiled plan: a network's graph turned into arrays, and the two phases over them.

:class:`Plan` is built once per topology (the :class:`~neurosim.Network` rebuilds it when
neurons or edges change, never when only weights do). It orders the units as sources
(inputs, then bias units) followed by the computing neurons, one *level* per topological
generation of the graph (a softmax group is kept inside one level). Each level keeps one
weight block, a view into the flat parameter vector ``theta``, so an optimiser updates
every weight with one numpy operation; block entries that are not edges are masked out
of the gradient. A level's *kernel* is chosen by its shape: a dense block over the
level's distinct sources (one matrix product a direction: layers, skip blocks), or, where
that block would be mostly zeros (random DAGs), a slot per edge: gather every edge's
source and take small products per neuron. The backward pass of such a *gather* level's
edges runs from their sources' side (:class:`_Receive`): each source takes its edges'
destination deltas and sums its messages and the edges' gradients with small products,
so its cost is in proportion to the edges however wide the levels are.

State arrays are neuron-major, ``(units, batch)``: row ``i`` holds unit ``i``'s values over
the batch. An *ensemble* plan (``members=K``) trains K copies of the topology at once,
member-minor: the state is ``(units, K, batch)`` and each level's block ``(n, K, width)``,
so a level's rows are one contiguous array over all members; inputs and bias units are
held once and their part of every level is one product for all members. Each level runs
as a few numpy operations over the whole batch:

* forward, message ``w·y`` and sum:  ``net[level] = W @ y[sources]``; update:
  ``y[level] = f(net[level])``;
* backward, ``dE/dnet = f'(net) · dE/dy`` (or the loss's fused delta, or a group
  activation's vector-Jacobian product); message ``delta·w`` summed into the sources:
  ``dE/dy[sources] += W.T @ delta``; weight gradient ``dE/dW = delta @ y[sources].T``,
  i.e. ``dE/dw = delta(dst) · y(src)`` summed over the batch.

Tied sets (connections sharing one weight, ``Network.tie``) keep a slot per edge: the plan
makes a set's entries equal at compile time, and after every backward pass one
``np.bincount`` replaces the gradients of every set, of every member, by the set's sum
or mean, so every elementwise optimiser keeps them equal.

Loops run over levels and activation segments, never over neurons or edges.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from . import threads
from .errors import CycleError, NumericalError, PluginError, TopologyError
from .neurons import BiasUnit, Neuron, Unit
from .resources import require_memory

__all__ = ["Plan", "DEFAULT_OUTPUT_GROUP"]

#: Group of output neurons that use a group activation (softmax) without naming a group.
DEFAULT_OUTPUT_GROUP = "outputs"


def _units_last(a: np.ndarray) -> np.ndarray:
    """Neuron-major ``(k, [K,] batch)`` -> ``([K,] batch, k)``: the neurons on the last axis."""
    return a.T if a.ndim == 2 else a.transpose(1, 2, 0)      # not np.moveaxis: this runs every step


def _units_first(a: np.ndarray) -> np.ndarray:
    """``([K,] batch, k)`` -> neuron-major ``(k, [K,] batch)`` (inverse of :func:`_units_last`)."""
    return a.T if a.ndim == 2 else a.transpose(2, 0, 1)


def _same(a: np.ndarray) -> np.ndarray:
    """The identity on arrays (an elementwise activation's block needs no reorientation)."""
    return a


def _index(idx: np.ndarray) -> slice | np.ndarray:
    """A slice when ``idx`` is a contiguous ascending run (views, no copies), else ``idx``."""
    if len(idx) == 0:
        return slice(0, 0)
    if idx[-1] - idx[0] == len(idx) - 1 and np.all(np.diff(idx) == 1):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def _add_to_rows(gy: np.ndarray, rows, view: np.ndarray | None, values: np.ndarray,
                 scratch: np.ndarray | None) -> None:
    """``gy[rows] += values`` for distinct rows: in place on ``view`` (``gy[rows]`` when
    ``rows`` is a slice), else gathered into ``scratch``, added and put back (faster than
    numpy's buffered fancy-index ``+=``).

    Gathers here and in the kernels use ``ndarray.take`` with ``mode="clip"``: the
    indices are the plan's own, and numpy buffers ``out`` in the default mode (3x slower).
    """
    if view is not None:
        view += values
    else:
        gy.take(rows, axis=0, out=scratch, mode="clip")
        scratch += values
        gy[rows] = scratch


def _put_rows(gy: np.ndarray, rows, view: np.ndarray | None, values: np.ndarray) -> None:
    """``gy[rows] = values``: the first messages a level's sources receive in a backward
    pass (see ``_Level.assign``), so their rows need neither zeroing nor an addition."""
    if view is not None:
        view[...] = values
    else:
        gy[rows] = values


def _runs(mask: np.ndarray) -> list[slice]:
    """The runs of consecutive True entries of a 1-d boolean ``mask``, as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


@dataclass
class _Segment:
    """Neurons ``start:stop`` (state rows) of one level sharing an activation (one group)."""

    activation: Any
    start: int
    stop: int
    output: bool           # every neuron of the segment is an output (fused deltas apply)
    out_cols: Any = None   # their columns among the network outputs (slice or index array)


@dataclass
class _Pull:
    """The edges into gather levels that start at one level (or at the inputs and biases).

    Sorted by source row, then by destination row: ``src`` each edge's source row, ``dst``
    its destination's row (whose ``delta`` the edge's message and gradient need) and
    ``wpos`` its weight's index in ``theta``. Built once per plan; :class:`_Receive` cuts
    it into chunks for one batch size. The sums run in this order.
    """

    src: np.ndarray
    dst: np.ndarray
    wpos: np.ndarray


@dataclass
class _Level:
    """One topological generation: rows ``start:stop`` fed through the block ``W``.

    ``kind`` is ``"dense"`` (``W`` spans the level's distinct sources ``src``; columns
    from ``prop_from`` on are computing neurons, rows ``prop_rows``) or ``"gather"``
    (``W`` is ``(n, 1, F)``: slot ``f`` of neuron ``i`` reads source row ``src[i*F + f]``;
    ``prop_from`` is 0 and ``prop_rows`` None; its edges' backward pass is done by the
    sources' :class:`_Receive` steps).
    """

    start: int
    stop: int
    kind: str
    src: Any               # dense: source rows (slice or index array); gather: a row per slot
    prop_from: int         # dense: first column of W whose source is a computing neuron
    prop_rows: Any         # dense: those sources' rows (slice or index array); gather: None
    W: np.ndarray          # view into theta: dense (n, n_src), ensemble (n, K, n_src), gather (n, 1, F)
    G: np.ndarray          # the same view into grad
    segments: list
    # dense: the backward pass reaches this level before any other message or loss term
    # reaches its computing sources, so its messages are written into their dE/dy rows
    # rather than added (set by the Plan once all levels are known)
    assign: bool = False


class _Dense:
    """Kernel of a dense level of a single network: one matrix product a direction."""

    __slots__ = ("W", "G", "idx", "gather", "src", "srcT", "net", "delta", "WpT", "tmp", "prop_rows",
                 "gy_prop", "back", "weight_gradient", "assign", "buf", "scaled", "scaled_gradient")

    #: From this many weights on, a one-pattern level writes its gradient with ``einsum``
    #: (``'i,j->ij'``: 85 µs for W8's 256 x 785 where the broadcast multiply takes 105);
    #: below it the multiply's smaller call overhead wins.
    EINSUM_OUTER = 8192

    def __init__(self, lv: _Level, buf: _Buffers, batch: int):
        self.W, self.G = lv.W, lv.G
        if isinstance(lv.src, slice):
            self.idx, self.gather, self.src = None, None, buf.out[lv.src]
        else:
            self.idx, self.gather = lv.src, buf.scratch("gather", (len(lv.src), batch))
            self.src = self.gather
        self.srcT = self.src.T
        self.net, self.delta = buf.net[lv.start:lv.stop], buf.delta[lv.start:lv.stop]
        n_prop = lv.W.shape[-1] - lv.prop_from
        self.WpT = lv.W[:, lv.prop_from:].T if n_prop else None
        self.tmp = buf.scratch("send", (n_prop, batch)) if n_prop else None
        self.prop_rows = lv.prop_rows
        self.gy_prop, self.back = buf.add_target(lv.prop_rows, n_prop) if n_prop else (None, None)
        self.assign = lv.assign
        # dE/dw = delta(dst) · y(src), summed over the batch. One pattern (online): an outer
        # product, which einsum (large levels) or a broadcast multiply writes twice as fast
        # as a matrix product with an inner dimension of 1 (the same bits: one product each)
        self.weight_gradient = self._gradient_product(self.delta)
        # Plan.backward(scale=s): the deltas times s, into an array of the level's own (made
        # on first use: only online and minibatch steps ask; delta stays the state's), and
        # the same product from it, so the gradient written is s · dE/dw
        self.buf = buf
        self.scaled = self.scaled_gradient = None

    def _gradient_product(self, delta: np.ndarray) -> Callable[[], Any]:
        """``dE/dW = delta @ y[sources].T`` into ``G``, as one bound call."""
        if delta.shape[1] > 1:
            return functools.partial(np.matmul, delta, self.srcT, out=self.G)
        if self.G.size >= self.EINSUM_OUTER:
            return functools.partial(np.einsum, "i,j->ij", delta[:, 0], self.src[:, 0], out=self.G)
        return functools.partial(np.multiply, delta, self.srcT, out=self.G)

    def forward(self, out: np.ndarray) -> None:
        """Sum each neuron's messages ``w·y`` into its net input."""
        if self.idx is not None:
            out.take(self.idx, axis=0, out=self.gather, mode="clip")
        np.matmul(self.W, self.src, out=self.net)          # message w·y, summed per neuron

    def backward(self, out: np.ndarray, gy: np.ndarray) -> None:
        """Weight gradient, and the messages ``delta·w`` added to the sources' ``dE/dy``."""
        if self.idx is not None:                          # the scratch is shared: gather again
            out.take(self.idx, axis=0, out=self.gather, mode="clip")
        scale = self.buf.scale
        if scale is None:
            self.weight_gradient()                        # dE/dw = delta(dst) · y(src), summed
        else:                                             # s · dE/dw = (s · delta(dst)) · y(src)
            if self.scaled is None:
                self.scaled = np.empty_like(self.delta)
                self.scaled_gradient = self._gradient_product(self.scaled)
            np.multiply(self.delta, scale, out=self.scaled)
            self.scaled_gradient()
        if self.WpT is not None:                          # message delta·w back to the sources
            if self.assign and self.gy_prop is not None:  # the first they receive: straight into gy
                np.matmul(self.WpT, self.delta, out=self.gy_prop)
                return
            np.matmul(self.WpT, self.delta, out=self.tmp)
            if self.assign:
                gy[self.prop_rows] = self.tmp
            else:
                _add_to_rows(gy, self.prop_rows, self.gy_prop, self.tmp, self.back)


class _Gather:
    """Forward kernel of a sparse level: gather every edge's source, small products per neuron.

    Used where a dense block would be mostly structural zeros (a random DAG's level reads
    hundreds of sources, each neuron only a few of them). A wide level runs in chunks of
    neurons whose gathered sources fill at most :attr:`_Receive.CHUNK` values, so they stay
    in cache. Its edges' backward pass (the weight gradients and the messages back) is done
    from the sources' side, by the :class:`_Receive` step of each source level, so this
    kernel's backward does nothing.
    """

    __slots__ = ("chunks",)

    def __init__(self, lv: _Level, buf: _Buffers, batch: int):
        n, F = lv.W.shape[0], lv.W.shape[-1]
        per = max(1, _Receive.CHUNK // max(F * batch, 1))       # neurons a chunk
        gather = buf.scratch("gather", (min(n, per) * F, batch))
        net3 = buf.net[lv.start:lv.stop].reshape(n, 1, batch)
        self.chunks = []
        for a in range(0, n, per):
            b = min(n, a + per)
            g = gather[:(b - a) * F]
            self.chunks.append((lv.src[a * F:b * F], g, lv.W[a:b], g.reshape(b - a, F, batch), net3[a:b]))

    def forward(self, out: np.ndarray) -> None:
        """Sum each neuron's messages ``w·y`` into its net input."""
        for idx, gather, W, g3, net3 in self.chunks:
            out.take(idx, axis=0, out=gather, mode="clip")
            np.matmul(W, g3, out=net3)

    def backward(self, out: np.ndarray, gy: np.ndarray) -> None:
        """Nothing: the sources' :class:`_Receive` steps do this level's backward pass."""


class _Receive:
    """Backward step of the edges from one level into gather levels: messages and gradients.

    Runs in the backward pass right before the level's own step, when every later level's
    ``delta`` is known. It is a gather level on the reversed edges: each source row takes
    the ``delta`` rows of its edges' destinations; one small product per row with the
    edges' weights gives its message sum, added into its ``dE/dy``, and one with the row's
    own outputs gives each edge's weight gradient ``dE/dw = delta(dst)·y(src)`` summed over
    the batch. So work and scratch are in proportion to the edges however wide the levels
    are, and a gather level's sources are gathered once a step, not twice.

    The rows are taken in order of out-degree and cut into chunks of at most :attr:`CHUNK`
    values (edges times batch; a row with more edges is cut into pieces, one a chunk), each
    padded to its first row's out-degree: padding reads an all-zero ``delta`` row, so the
    padding adds nothing, and the scratch stays in cache. The inputs and bias units get a
    step too, for their edges' gradients only (it runs last).
    """

    __slots__ = ("delta", "theta", "grad", "chunks")

    #: Values (edges times batch) a chunk holds at most (unless the batch is larger).
    CHUNK = 1 << 17

    def __init__(self, pull: _Pull, buf: _Buffers, batch: int, messages: bool = True):
        plan = buf.plan
        self.delta, self.theta, self.grad = buf.delta_padded, plan.theta, plan.grad
        self.chunks = []
        per = max(1, self.CHUNK // max(batch, 1))          # edges a chunk
        first = np.flatnonzero(np.r_[True, pull.src[1:] != pull.src[:-1]])      # each row's first edge
        degree = np.diff(np.r_[first, len(pull.src)])
        pieces = -(-degree // per)                         # rows of more than `per` edges: pieces of `per`
        if pieces.max() > 1:
            k = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
            start = np.repeat(first, pieces) + per * k
            degree = np.minimum(start + per, np.repeat(first + degree, pieces)) - start
            first = start
        order = np.argsort(-degree, kind="stable")
        zero = buf.delta_padded.shape[0] - 1
        at = 0
        while at < len(order):
            width = int(degree[order[at]])
            stop = min(len(order), at + max(1, per // width))
            chunk = np.sort(order[at:stop])                # rows ascending: a slice when they are a run
            at = stop
            n = len(chunk)
            rank = np.arange(width)
            valid = rank[None, :] < degree[chunk][:, None]
            edge = np.where(valid, first[chunk][:, None] + rank[None, :], first[chunk][:, None])
            dst = np.where(valid, pull.dst[edge], zero).reshape(-1)
            wpos = pull.wpos[edge].reshape(-1)
            rows = _index(pull.src[first[chunk]])          # distinct: a full piece is alone in its chunk
            taken = buf.scratch("receive", (n * width, batch))
            taken3 = taken.reshape(n, width, batch)
            msg = None
            if messages:
                w = buf.scratch("receive_w", (n, 1, width))
                total = buf.scratch("received", (n, 1, batch))
                view, back = buf.add_target(rows, n)
                msg = (wpos, w, w.reshape(-1), total, total.reshape(n, batch), rows, view, back)
            if isinstance(rows, slice):
                y, y3 = None, buf.out[rows][:, :, None]
            else:
                y = buf.scratch("receive_y", (n, batch))
                y3 = y[:, :, None]
            g = buf.scratch("receive_g", (n, width, 1))
            keep = None if valid.all() else np.flatnonzero(valid.reshape(-1))
            grad = (rows, y, y3, g, g.reshape(-1), keep, wpos if keep is None else wpos[keep])
            self.chunks.append((dst, taken, taken3, msg, grad))

    def forward(self, out: np.ndarray) -> None:
        """Nothing: the messages flow in the backward pass only."""

    def backward(self, out: np.ndarray, gy: np.ndarray) -> None:
        """Add each edge's message ``w·delta(dst)`` to its source's ``dE/dy``; each edge's gradient."""
        delta, theta, grad = self.delta, self.theta, self.grad
        for dst, taken, taken3, msg, gr in self.chunks:
            delta.take(dst, axis=0, out=taken, mode="clip")
            if msg is not None:
                wpos, w, wflat, total, total2, rows, view, back = msg
                theta.take(wpos, out=wflat, mode="clip")
                np.matmul(w, taken3, out=total)
                _add_to_rows(gy, rows, view, total2, back)
            rows, y, y3, g, gflat, keep, gpos = gr
            if y is not None:
                out.take(rows, axis=0, out=y, mode="clip")
            np.matmul(taken3, y3, out=g)                  # dE/dw = delta(dst) · y(src), summed
            grad.put(gpos, gflat if keep is None else gflat.take(keep), mode="clip")


class _DenseEnsemble:
    """Kernel of a dense level of an ensemble, state ``(units, K, batch)``, W ``(n, K, n_src)``.

    Sources that are inputs or bias units hold the same values for every member, so their
    part is one matrix product over all members at once (``W_cat @ X``: the members'
    blocks stacked as the rows of one matrix, the patterns shared); sources that are
    computing neurons differ per member and go through K stacked products. A level of
    one neuron (the output of most ensemble studies) sends its messages back as one
    broadcast product and sums its weight gradient with one ``einsum`` instead: K stacked
    products of a single row are mostly loop overhead in numpy's matmul.
    """

    __slots__ = ("buf", "fixed_idx", "Ff", "Wf", "Gf", "idx", "gather", "Sc", "ScT", "Wc", "WcT", "Gc",
                 "net", "net2", "netK", "delta2", "deltaK", "summed", "summedK", "sent", "sentT", "prop_rows",
                 "gy_prop", "back", "one", "W1c", "G1c", "delta1", "assign", "fixed_product", "fixedT",
                 "bias_only", "Wall", "Sall")

    def __init__(self, lv: _Level, buf: _Buffers, batch: int):
        n, K, ns = lv.W.shape
        pf = lv.prop_from
        self.buf = buf
        if isinstance(lv.src, slice):
            self.fixed_idx = None
            self.Ff = buf.fixed[lv.src.start:lv.src.start + pf] if pf else None
        else:
            self.fixed_idx = lv.src[:pf] if pf else None     # gathered per pass (a few rows)
            self.Ff = None
        self.Wf = lv.W[:, :, :pf].reshape(n * K, pf) if pf else None
        self.Gf = lv.G[:, :, :pf].reshape(n * K, pf) if pf else None
        self.net = buf.net[lv.start:lv.stop]
        self.net2 = self.net.reshape(n * K, batch)
        self.netK = self.net.transpose(1, 0, 2)
        delta = buf.delta[lv.start:lv.stop]
        self.delta2 = delta.reshape(n * K, batch)
        self.deltaK = delta.transpose(1, 0, 2)
        self.prop_rows = lv.prop_rows
        nc = ns - pf
        self.idx = self.gather = self.Sc = self.ScT = self.Wc = self.WcT = self.Gc = None
        self.summed = self.summedK = self.sent = self.sentT = None
        self.gy_prop = self.back = None
        if nc:
            self.gy_prop, self.back = buf.add_target(lv.prop_rows, nc)
            if isinstance(lv.prop_rows, slice):
                self.Sc = buf.out[lv.prop_rows]
            else:
                self.idx, self.gather = lv.prop_rows, buf.scratch("gather", (nc, K, batch))
                self.Sc = self.gather
            self.ScT = self.Sc.transpose(1, 0, 2)             # (K, nc, batch)
            self.Wc = lv.W[:, :, pf:].transpose(1, 0, 2)      # (K, n, nc)
            self.WcT = lv.W[:, :, pf:].transpose(1, 2, 0)     # (K, nc, n)
            self.Gc = lv.G[:, :, pf:].transpose(1, 0, 2)
            # the computing sources' part of net (when added to the fixed part), and the
            # messages sent back: both views of one scratch, never used at once
            if pf:
                self.summedK = buf.scratch("send", (K, n, batch))
                self.summed = self.summedK.transpose(1, 0, 2)
            self.sent = buf.scratch("send", (K, nc, batch))
            self.sentT = self.sent.transpose(1, 0, 2)
        self.assign = lv.assign
        # one shared source (the bias alone, as in most output levels): the product over
        # the members is an outer product, which a broadcast multiply writes 2x faster
        self.fixed_product = np.multiply if pf == 1 else np.matmul
        # ... and when that source is a bias unit (always 1) beside computing sources, the
        # computing part goes straight into net and the bias weight is added to it: the
        # same sum (w_b + Σ w·y == Σ w·y + w_b), two passes over the level fewer
        fixed_rows = np.arange(buf.plan.n_units)[lv.src][:pf] if pf else ()
        self.bias_only = pf == 1 and bool(nc) and int(fixed_rows[0]) >= buf.plan.n_inputs
        # ... and when that bias unit's row and the computing sources' rows are one run of
        # the state (as in a layered net), the state's own row of ones for the bias makes
        # the whole sum one stacked product (W6's output level: 57 µs instead of 71)
        self.Wall = self.Sall = None
        if self.bias_only and isinstance(lv.src, slice):
            self.Wall, self.Sall = lv.W.transpose(1, 0, 2), buf.out[lv.src].transpose(1, 0, 2)
        # the shared sources' gradient, delta (n·K, batch) @ fixed.T: with a few sources and
        # many rows OpenBLAS is 3-4x faster on a contiguous copy of fixed.T than on the
        # transposed view (W6's first level: 40 µs instead of 150); elsewhere the view wins
        self.fixedT = buf.scratch("fixedT", (batch, pf)) if 1 < pf <= 16 and n * K >= 512 else None
        self.one = bool(nc) and n == 1
        self.W1c = self.G1c = self.delta1 = None
        if self.one:                                          # one neuron: broadcasts, not K products
            self.W1c = lv.W[0, :, pf:].T[:, :, None]          # (nc, K, 1)
            self.G1c = lv.G[0, :, pf:]                        # (K, nc)
            self.delta1 = delta[0]                            # (K, batch)
            self.sentT = buf.scratch("send", (nc, K, batch))  # the messages, laid out as gy's rows

    def _fixed(self) -> np.ndarray:
        return self.Ff if self.fixed_idx is None else self.buf.fixed[self.fixed_idx]

    def forward(self, out: np.ndarray) -> None:
        """Sum each neuron's messages ``w·y`` into its net input, for every member."""
        if self.Wf is None and self.Wc is None:           # no incoming edges: net is 0, rewritten
            self.net.fill(0.0)                            # as the outputs may be computed over it
            return
        if self.Wall is not None:
            np.matmul(self.Wall, self.Sall, out=self.netK)
            return
        if self.bias_only:
            if self.idx is not None:
                out.take(self.idx, axis=0, out=self.gather, mode="clip")
            np.matmul(self.Wc, self.ScT, out=self.netK)
            self.net2 += self.Wf                          # the bias weight times 1
            return
        if self.Wf is not None:                           # shared sources: one product for all members
            self.fixed_product(self.Wf, self._fixed(), out=self.net2)
        if self.Wc is not None:
            if self.idx is not None:
                out.take(self.idx, axis=0, out=self.gather, mode="clip")
            if self.summed is not None:
                np.matmul(self.Wc, self.ScT, out=self.summedK)
                self.net += self.summed
            else:
                np.matmul(self.Wc, self.ScT, out=self.netK)

    def backward(self, out: np.ndarray, gy: np.ndarray) -> None:
        """Weight gradients, and the messages ``delta·w`` added to the sources' ``dE/dy``."""
        if self.fixedT is not None:
            np.copyto(self.fixedT, self._fixed().T)
            np.matmul(self.delta2, self.fixedT, out=self.Gf)
        elif self.Wf is not None:
            np.matmul(self.delta2, self._fixed().T, out=self.Gf)
        if self.Wc is not None:
            if self.idx is not None:
                out.take(self.idx, axis=0, out=self.gather, mode="clip")
            if self.one:
                np.einsum("kb,ckb->kc", self.delta1, self.Sc, out=self.G1c)
                if self.assign and self.gy_prop is not None:      # straight into gy's rows
                    np.multiply(self.W1c, self.delta1, out=self.gy_prop)
                    return
                np.multiply(self.W1c, self.delta1, out=self.sentT)
            else:
                np.matmul(self.deltaK, self.ScT.transpose(0, 2, 1), out=self.Gc)
                np.matmul(self.WcT, self.deltaK, out=self.sent)
            if self.assign:
                _put_rows(gy, self.prop_rows, self.gy_prop, self.sentT)
            else:
                _add_to_rows(gy, self.prop_rows, self.gy_prop, self.sentT, self.back)


class _Threaded:
    """A level's kernel run with the BLAS thread count its products call for.

    Wraps the kernels of the levels :func:`neurosim.threads.choose` gives a count, so the
    passes' loops stay as they are and the other levels pay nothing.
    """

    __slots__ = ("kernel", "large", "blas")

    def __init__(self, kernel, large: bool, blas: threads.Switch):
        self.kernel, self.large, self.blas = kernel, large, blas

    def forward(self, out: np.ndarray) -> None:
        """Set the level's thread count (when it changes), then the kernel's forward."""
        self.blas.use(self.large)
        self.kernel.forward(out)

    def backward(self, out: np.ndarray, gy: np.ndarray) -> None:
        """Set the level's thread count (when it changes), then the kernel's backward."""
        self.blas.use(self.large)
        self.kernel.backward(out, gy)


def _largest_product(lv: _Level, batch: int, members: int | None) -> int:
    """Multiply-adds ``m * k * n`` of the largest BLAS product a level's kernel makes for
    ``batch`` patterns, in either phase (what :func:`neurosim.threads.choose` sizes)."""
    n, width = lv.W.shape[0], lv.W.shape[-1]
    if lv.kind == "gather":                  # n stacked (1, F) @ (F, batch); its receive steps' products
        return width * batch                 # are as small (a chunk's rows, their edges' deltas)
    if members is None:
        return n * width * batch             # W @ src, delta @ src.T, W.T @ delta: all within
    pf = lv.prop_from                        # the shared sources for all members; per member the rest
    return max(n * members * pf * batch, n * (width - pf) * batch)


class _Buffers:
    """Preallocated neuron-major state for one batch size, and each level's kernel.

    A single network's state is ``(units, batch)``; an ensemble's ``(units, K, batch)``
    (member-minor, so a level's rows are one contiguous block over all members), with the
    inputs and bias units kept once in ``fixed`` ``(n_fixed, batch)`` because they are the
    same for every member; an ensemble that keeps no net inputs (:attr:`Plan.keeps_net`)
    has ``net`` as ``out`` itself. Every view a pass needs is made here, once. Levels share a few
    scratch arrays (``gather``: sources gathered; ``send``, ``back``: messages sent back;
    ``receive...``: a :class:`_Receive` chunk's deltas, weights, sums and gradients), each
    as large as the largest level (or chunk) needs: buffers of their own would make every
    pass stream through memory far larger than the caches. The kernels are built twice:
    first to learn the scratch sizes, then on the scratch.

    ``levels`` holds ``(kernel, segments)`` in forward order; after each level whose
    neurons feed gather levels comes its :class:`_Receive` step (no segments), so the
    backward pass, which walks the list in reverse, runs it just before the level's own
    step; the step of the inputs and bias units comes first, so it runs last.
    ``delta_padded`` is ``delta`` with one more row that stays zero (read by padding).
    """

    def __init__(self, plan: Plan, batch: int):
        dtype = plan.dtype
        self.plan, self.batch = plan, batch
        shape = (plan.n_units,) + plan.lead + (batch,)
        self.out = out = np.zeros(shape, dtype)
        self.net = np.zeros(shape, dtype) if plan.keeps_net else out    # see Plan.keeps_net
        # one more row of delta, always zero: what the padding of a _Receive reads
        self.delta_padded = np.zeros((plan.n_units + 1,) + shape[1:], dtype)
        self.delta = self.delta_padded[:plan.n_units]
        self.gy = gy = np.zeros(shape, dtype)
        self.delta_valid = False   # delta belongs to the current out (set by backward)
        if plan.members is None:
            self.fixed = out[:plan.n_fixed]
        else:
            self.fixed = np.empty((plan.n_fixed, batch), dtype)
            out[plan.n_inputs:plan.n_fixed] = 1.0          # every member's bias rows (see _DenseEnsemble)
        self.fixed[plan.n_inputs:] = 1.0                   # bias units: always 1
        self.inputs = self.fixed[:plan.n_inputs]
        self.fed = None            # the private inputs the input rows hold (see Plan.forward)
        self.scale = None          # what this backward pass multiplies the gradient by (Plan.backward)
        rows = plan.out_rows
        self.Y = _units_last(out[rows]) if isinstance(rows, slice) else None
        self.gY = _units_last(gy[rows]) if isinstance(rows, slice) else None   # dE/dy of Y, laid out alike
        self._scratch: dict[str, np.ndarray] = {}
        sizes: dict[str, int] = {}
        kinds = {"dense": _Dense, "gather": _Gather} if plan.members is None else {"dense": _DenseEnsemble}
        self._sizing = sizes                               # first pass: record the sizes
        if plan.pulls[0] is not None:
            _Receive(plan.pulls[0], self, batch, messages=False)
        for k, lv in enumerate(plan.levels):
            kinds[lv.kind](lv, self, batch)
            if plan.pulls[k + 1] is not None:
                _Receive(plan.pulls[k + 1], self, batch)
        self._scratch = {name: np.empty(size, dtype) for name, size in sizes.items()}
        self._sizing = None
        self.levels = []
        if plan.pulls[0] is not None:                       # the gather levels' edges from inputs
            self.levels.append((_Receive(plan.pulls[0], self, batch, messages=False), []))   # and biases: last
        net, delta = self.net, self.delta
        for k, lv in enumerate(plan.levels):
            # Elementwise activations see the neuron-major blocks as they are (contiguous);
            # group activations see them with the neurons last, one group per row.
            segs = []
            for seg in lv.segments:
                orient = _units_last if seg.activation.group else _same
                segs.append((seg.activation, *(orient(a[seg.start:seg.stop]) for a in (net, out, gy, delta)), seg))
            self.levels.append((kinds[lv.kind](lv, self, batch), segs))
            if plan.pulls[k + 1] is not None:   # its edges into gather levels: run before its own backward
                self.levels.append((_Receive(plan.pulls[k + 1], self, batch), []))

    def add_target(self, rows, n: int) -> tuple:
        """Where :func:`_add_to_rows` adds into ``gy[rows]`` (``n`` rows): ``(view, None)``
        when ``rows`` is a slice, else ``(None, scratch)`` for the gather-add-put."""
        if isinstance(rows, slice):
            return self.gy[rows], None
        return None, self.scratch("back", (n,) + self.gy.shape[1:])

    def scratch(self, name: str, shape: tuple) -> np.ndarray:
        """A view of ``shape`` at the start of the shared scratch array ``name``."""
        size = int(np.prod(shape))
        if self._sizing is not None:
            self._sizing[name] = max(self._sizing.get(name, 0), size)
            return np.empty(shape, self.plan.dtype)
        return self._scratch[name][:size].reshape(shape)


class Plan:
    """A network compiled for fast passes. Built by :class:`~neurosim.Network`.

    Parameters
    ----------
    graph : networkx.DiGraph
        Nodes are :class:`~neurosim.neurons.Unit` objects; edges carry ``weight``
        (float or None: drawn by the initialiser), ``trainable`` and, when tied, ``tie``
        (a set's name); the graph attribute ``ties`` maps each set's name to its
        :class:`~neurosim.Tie` (its edges, the first first, and its reduce).
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
        Flat parameters and gradient, ``(P,)``; for an ensemble ``(K * P,)`` laid out
        member-minor (use :meth:`member_theta` for ``(K, P)``).
    size : int
        P, the number of parameters of one network (edges and block padding).
    mask : ndarray
        ``(P,)`` 1/0 trainable mask (0 for frozen edges and for block entries without an
        edge); :meth:`train_mask` gives it shaped like ``theta``.
    edge_pos : dict
        ``(src_unit, dst_unit) -> index into theta`` (into a row of :meth:`member_theta`
        for an ensemble), built on first use.
    keeps_net : bool
        False for an ensemble whose activations all say ``uses_net=False``: it computes
        its outputs over its net inputs and keeps none (see the attribute's comment).
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

        # Weight blocks, one per level, laid out in theta. Edges are gathered per level with
        # list comprehensions and placed with numpy, so a net of a million edges compiles
        # in seconds.
        index = self.index
        pred = graph.pred
        K = 1 if self.members is None else self.members
        blocks = []
        size = dense_size = 0
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
            rows = np.repeat(np.arange(len(dst), dtype=np.intp), counts)
            block = self._block(len(dst), counts, rows, src_idx)
            blocks.append((members, dst, src_units, datas, rows, size, block))
            size += block[1] * block[2]
            dense_size += len(dst) * len(np.unique(src_idx))
        self.size = size
        #: P of an ensemble plan of this topology (ensembles lay every level out dense)
        self.dense_size = dense_size
        require_memory(self.parameter_bytes(K, size), "the weights of this network" + (
            f" for {K} ensemble members" if self.members else ""), "use a smaller network or fewer members")
        self.theta = np.zeros(K * size if self.members else size, self.dtype)
        self.grad = np.zeros_like(self.theta)
        self.mask = np.zeros(size, self.dtype)
        self._edges: list[tuple[list, list, np.ndarray]] = []     # per level: sources, targets, positions
        self._edge_pos: dict[tuple[Unit, Unit], int] | None = None
        self.levels: list[_Level] = []
        pending, fan_in, fan_out, user_set = [], [], [], []
        fan_out_of: dict[Unit, int] = {}
        ties = graph.graph.get("ties")
        tied: dict[tuple[str, str], tuple[int, int]] = {}    # tied edge -> (flat index in member 0, stride)
        row = self.n_fixed
        sends = []
        for members, dst, src_units, datas, rows, offset, (kind, n_dst, width, cols, src) in blocks:
            pos = offset + rows * width + cols
            dst_units = np.array(dst, dtype=object)[rows].tolist()
            self._edges.append((src_units, dst_units, pos))
            if ties:
                for k, name in enumerate(map(dict.get, datas, itertools.repeat("tie"))):
                    if name is not None:    # where the edge sits in theta: K*offset + (row*K + k)*width + col
                        tied[(src_units[k].name, dst_units[k].name)] = (
                            K * offset + (int(rows[k]) * K) * width + int(cols[k]), width)
            self.mask[pos] = np.fromiter(map(dict.get, datas, itertools.repeat("trainable")), bool, len(datas))
            if self.members is None:
                W = self.theta[offset:offset + n_dst * width].reshape(n_dst, width)
                G = self.grad[offset:offset + n_dst * width].reshape(n_dst, width)
            else:       # member-minor: (n, K, width), so all members of a row are one block
                W = self.theta[K * offset:K * (offset + n_dst * width)].reshape(n_dst, K, width)
                G = self.grad[K * offset:K * (offset + n_dst * width)].reshape(n_dst, K, width)
            Wm = W[:, None, :] if W.ndim == 2 else W         # (n, K, width) either way
            given = np.array(list(map(dict.get, datas, itertools.repeat("weight"))), dtype=object)
            unknown = given == None  # noqa: E711  (elementwise: weights not given)
            if redraw:     # an ensemble draws again every weight the initialiser chose ...
                was_drawn = np.array(list(map(dict.get, datas, itertools.repeat("drawn"))), dtype=object) == True  # noqa: E712,E501
                unknown |= was_drawn
                # ... and then puts back those the user set afterwards (set_weight)
                kept = np.flatnonzero(was_drawn & (np.array(list(map(dict.get, datas, itertools.repeat("set"))),
                                                        dtype=object) == True))  # noqa: E712
                if len(kept):
                    user_set.append((Wm, rows[kept], cols[kept], given[kept].astype(float)))
            known = ~unknown
            Wm[rows[known], :, cols[known]] = given[known].astype(float)[:, None]
            new = np.flatnonzero(unknown)
            if len(new):
                for k in new.tolist():
                    datas[k]["drawn"] = True      # the initialiser chose it (an ensemble redraws it)
                pending.append((Wm, rows[new], cols[new]))
                fan_in_dst = np.array([sum(1 for u in pred[v] if not isinstance(u, BiasUnit)) for v in dst])
                fan_in.append(fan_in_dst[rows[new]])
                for u in {src_units[k] for k in new.tolist()}:
                    fan_out_of.setdefault(u, len(graph.succ[u]))
                fan_out.append(np.fromiter((fan_out_of[src_units[k]] for k in new.tolist()), np.intp, len(new)))
            segments = self._segments(members, row, out_pos)
            if kind == "dense":
                prop_from = int(np.searchsorted(src, self.n_fixed))
                level = _Level(row, row + n_dst, kind, _index(src), prop_from, _index(src[prop_from:]), W,
                               G.reshape(W.shape), segments)
            else:
                level = _Level(row, row + n_dst, kind, src, 0, None, W.reshape(n_dst, 1, width),
                               G.reshape(n_dst, 1, width), segments)
                slot = rows * width + cols                   # each edge's slot in the block
                sends.append((src[slot], row + rows, offset + slot))
            self.levels.append(level)
            row += n_dst
        if pending:
            fan_in, fan_out = np.concatenate(fan_in), np.concatenate(fan_out)
            drawn = np.empty((K, len(fan_in)), self.dtype)     # every member's draws, then put in place at once
            for k in range(K):
                try:
                    drawn_k = np.asarray(init_weights(fan_in, fan_out, k), dtype=self.dtype)
                except Exception as exc:
                    raise PluginError(f"the weight initialiser failed: {type(exc).__name__}: {exc}; check its "
                                      "options") from exc
                if drawn_k.shape != fan_in.shape:
                    raise PluginError(f"the weight initialiser returned {drawn_k.shape} values for {len(fan_in)} "
                                      "edges; it must return one finite weight per edge")
                drawn[k] = drawn_k
            if not np.isfinite(drawn).all():
                raise PluginError(f"the weight initialiser returned non-finite values for {len(fan_in)} edges; "
                                  "it must return one finite weight per edge")
            at = 0
            for Wm, r, c in pending:
                Wm[r, :, c] = drawn[:, at:at + len(r)].T
                at += len(r)
        for Wm, r, c, values in user_set:
            Wm[r, :, c] = values[:, None]
        #: the gather levels' edges by source: [inputs and biases, level 0, level 1, ...]
        self.pulls = self._pulls(sends)
        self._ties = self._tie_index(ties, tied) if ties else None
        parts, at = [], 0
        for lv in self.levels:                               # theta holds the levels' blocks in order
            parts.append(slice(at, at + lv.W.size))
            at += lv.W.size
        #: Each level's entries of ``theta`` (the block ``W`` views), in level order, for
        #: :meth:`backward`'s ``after``; None when a level's gradient is complete only later
        #: in the pass: tied sets span levels, and a gather level's gradient is written by
        #: its sources' receive steps.
        gathered = any(pull is not None for pull in self.pulls)
        self.parts: list[slice] | None = None if self._ties is not None or gathered else parts
        #: Whether the state keeps the net inputs apart from the outputs. An ensemble whose
        #: activations all leave their net argument unread (``Activation.uses_net``)
        #: computes its outputs in place over the net inputs instead: its elementwise passes
        #: touch a quarter less memory (W6: 7-8% faster), and :meth:`state` has no
        #: ``net`` for it. A single network keeps them, for ``Neuron.net`` and explanations.
        self.keeps_net = self.members is None or any(seg.activation.uses_net for lv in self.levels
                                                      for seg in lv.segments)
        self._plan_sends()
        self._buffers: dict[int, _Buffers] = {}
        self._loss_plans: dict[str, tuple] = {}
        self.last: _Buffers | None = None
        self.last_single = False

    def _plan_sends(self) -> None:
        """Which dense levels write their messages into ``gy`` rather than add them, and
        which rows of ``gy`` a backward pass must zero first (:attr:`_gy_zero`).

        The backward pass works through the levels last first. Output rows are written
        first of all (the loss's ``dE/dy``, or zeros where the loss is fused with the
        activation). A dense level whose computing sources have received nothing yet
        writes their rows (``_Level.assign``); every other send adds. So only the rows no
        level writes need zeroing: sources a level shares with one processed earlier,
        sources of gather levels (their receive steps add) and neurons that feed nothing.
        In a layered net that is no row at all.
        """
        written = np.zeros(self.n_units, bool)
        written[self.out_rows] = True
        assigned = np.zeros(self.n_units, bool)
        for lv in reversed(self.levels):
            # a gather level's messages are added by its sources' receive steps, which run
            # after every level above those sources: they never decide whether one may write
            rows = np.arange(self.n_units)[lv.prop_rows] if lv.kind == "dense" else ()
            if not len(rows):
                continue
            lv.assign = not written[rows].any()
            if lv.assign:
                assigned[rows] = True
            written[rows] = True
        zero = np.zeros(self.n_units, bool)
        zero[self.n_fixed:] = True
        zero &= ~assigned
        zero[self.out_rows] = False                       # the loss plan zeroes or writes these
        self._gy_zero = _runs(zero)

    def _pulls(self, sends: list) -> list:
        """The gather levels' edges grouped by where they start, as :class:`_Pull` s.

        ``sends`` holds, for every gather level, its edges' source rows, destination rows
        and weights' indices in ``theta``. Returns one entry for the inputs and bias units,
        then one a level (None where no edge into a gather level starts).
        """
        pulls: list[_Pull | None] = [None] * (len(self.levels) + 1)
        if not sends:
            return pulls
        src, dst, wpos = (np.concatenate(part) for part in zip(*sends))
        order = np.lexsort((dst, src))
        src, dst, wpos = src[order], dst[order], wpos[order]
        starts = np.array([lv.start for lv in self.levels], np.intp)
        bounds = np.searchsorted(src, np.r_[0, starts, self.n_units])
        for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            if b > a:
                pulls[k] = _Pull(src[a:b], dst[a:b], wpos[a:b])
        return pulls

    def _tie_index(self, ties: dict, tied: dict) -> tuple:
        """Index arrays of the tied sets, and every set's entries made equal to its first edge's.

        ``ties`` maps set names to objects with ``edges`` (``(src_name, dst_name)`` pairs,
        the set's first edge first) and ``reduce`` (``"sum"`` or ``"mean"``); ``tied`` gives
        each tied edge's flat index in member 0 and the stride to the next member. Returns
        ``(idx, gid, div)``: the flat index of every tied entry (entry-major, member-minor),
        its group (set ``s`` of member ``k`` is group ``s * K + k``, so an ensemble's sets
        reduce within each member) and each group's divisor (1 for a sum, the set's size
        for a mean), for :meth:`_reduce_ties`.
        """
        K = 1 if self.members is None else self.members
        where = [tied[edge] for tie in ties.values() for edge in tie.edges]
        sizes = np.array([len(tie.edges) for tie in ties.values()], np.intp)
        base, stride = (np.array(col, np.intp) for col in zip(*where))
        members = np.arange(K, dtype=np.intp)
        idx = (base[:, None] + stride[:, None] * members).reshape(-1)
        set_of = np.repeat(np.arange(len(sizes), dtype=np.intp), sizes)
        gid = (set_of[:, None] * K + members).reshape(-1)
        div = np.repeat(np.array([1.0 if tie.reduce == "sum" else float(len(tie.edges)) for tie in ties.values()]), K)
        start = np.cumsum(sizes) - sizes                   # each set's first edge ...
        leader = idx.reshape(-1, K)[start[set_of]].reshape(-1)
        self.theta[idx] = self.theta[leader]               # ... gives every edge of the set its weight
        return idx, gid, div

    def _reduce_ties(self) -> None:
        """Replace the gradient of every tied entry by its set's sum (or mean), in one pass.

        Every entry of a set then gets the same gradient, so any elementwise optimiser
        (SGD with momentum and weight decay, Rprop, Adam, ...) gives it the same step and
        the set's weights, equal at compile time, stay equal.
        """
        idx, gid, div = self._ties
        grad = self.grad
        sums = np.bincount(gid, weights=grad[idx], minlength=len(div))
        sums /= div
        grad[idx] = sums[gid]

    @property
    def edge_pos(self) -> dict:
        """``{(src_unit, dst_unit): position in theta}``, built on first use."""
        if self._edge_pos is None:
            self._edge_pos = {}
            for src_units, dst_units, pos in self._edges:
                self._edge_pos.update(zip(zip(src_units, dst_units), pos.tolist()))
        return self._edge_pos

    # --- compilation helpers ----------------------------------------------------------

    #: A single network's level runs as gathers (kind ``"gather"``) when a dense block
    #: over its distinct sources would have more than this many entries per edge slot,
    #: so that much more arithmetic in each direction (measured on W5, benchmarks/).
    GATHER_FACTOR = 4

    def _block(self, n_dst: int, counts: np.ndarray, rows: np.ndarray, src_idx: np.ndarray) -> tuple:
        """Choose a level's layout: ``(kind, n_dst, width, cols, src)``.

        ``cols`` places each edge in its row of the ``(n_dst, width)`` block. Dense:
        ``src`` are the distinct source rows, one a column. Gather: the block has a slot
        per edge (rows padded to the widest fan-in with zero, frozen slots) and ``src``
        gives each slot's source row.
        """
        srcs = np.unique(src_idx)
        width = int(counts.max()) if n_dst and len(src_idx) else 0
        if self.members is None and n_dst > 1 and width and len(srcs) > self.GATHER_FACTOR * width:
            rank = np.arange(len(src_idx)) - np.repeat(np.cumsum(counts) - counts, counts)
            slots = np.full(n_dst * width, srcs[0], np.intp)
            slots[rows * width + rank] = src_idx
            return "gather", n_dst, width, rank, slots
        return "dense", n_dst, len(srcs), np.searchsorted(srcs, src_idx), srcs

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
        sizes: dict[str, int] = {}
        for g in groups.values():
            sizes[g] = sizes.get(g, 0) + 1
        for g, size in sizes.items():
            if size == 1:
                u = first[g]
                raise TopologyError(f"group {g!r} has one neuron, {u.name!r}: {u.activation} over a group of one "
                                    "always gives 1, so nothing could be learned; give the group more neurons, or "
                                    "use an elementwise activation (sigmoid for one output)")
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

    def parameter_bytes(self, members: int = 1, size: int | None = None) -> float:
        """Bytes of ``theta``, ``grad`` and the masks for ``members`` copies of ``size``
        parameters (default: this plan's own, or :attr:`dense_size` for an ensemble)."""
        if size is None:
            size = self.size if members == 1 else self.dense_size
        return 4.0 * members * size * self.dtype.itemsize

    def state_bytes(self, batch: int, members: int = 1) -> float:
        """Bytes of the state buffers of one batch size: ``net``, ``out``, ``delta``,
        ``dE/dy`` and scratch of about the same size, for ``members`` copies."""
        return 6.0 * self.n_units * members * batch * self.dtype.itemsize

    def buffers(self, batch: int) -> _Buffers:
        """Return (creating on first use) the state buffers for ``batch`` patterns."""
        buf = self._buffers.get(batch)
        if buf is None:
            if len(self._buffers) >= 4:
                self._buffers.pop(next(iter(self._buffers)))
            K = 1 if self.members is None else self.members
            require_memory(self.state_bytes(batch, K), f"a pass over {batch} patterns"
                           + (f" for {K} ensemble members" if self.members else ""),
                           "use fewer patterns per pass (minibatch or online mode) or fewer members")
            buf = self._buffers[batch] = _Buffers(self, batch)
            self._choose_threads(buf, batch)
        return buf

    def _choose_threads(self, buf: _Buffers, batch: int) -> None:
        """Give the levels whose products are worth it their own BLAS thread count.

        Sets ``buf.blas`` to the process's :class:`neurosim.threads.Switch` and wraps
        those levels' kernels in :class:`_Threaded` (or, when no level is large, sets
        ``buf.blas_start`` False: one thread for the whole pass, no wrapper), or leaves
        ``buf.blas`` None when no level needs it (:func:`neurosim.threads.choose`;
        docs/engine.md, "BLAS threads").
        """
        buf.blas, buf.blas_start = None, None
        chosen = threads.choose([_largest_product(lv, batch, self.members) for lv in self.levels])
        blas = threads.switch() if chosen is not None else None
        if blas is None:
            return
        buf.blas = blas
        if True not in chosen:                   # no large level: the whole pass on one thread
            buf.blas_start = False
            return
        each = iter(chosen)                      # one a level; receive steps stay as they are
        buf.levels = [(kernel, segs) if isinstance(kernel, _Receive) else
                      (kernel if (large := next(each)) is None else _Threaded(kernel, large, blas), segs)
                      for kernel, segs in buf.levels]

    def forward(self, X: np.ndarray, private: bool = False) -> _Buffers:
        """Forward phase for validated inputs ``X`` of shape ``(batch, n_inputs)``.

        Parameters
        ----------
        X : ndarray
            Validated inputs ``(batch, n_inputs)``.
        private : bool, default False
            The caller owns ``X`` and never changes it: when the last pass on these
            buffers was fed this very array, its copy in the input rows is still there
            and is not made again (batch training's one batch, every epoch).

        Returns
        -------
        _Buffers
            The buffers holding every unit's ``net`` and ``out`` (neuron-major).
        """
        buf = self.buffers(X.shape[0])
        out = buf.out
        buf.delta_valid = False
        if not (private and buf.fed is X):
            buf.inputs[...] = X.T
        buf.fed = X if private else None
        blas = buf.blas                                      # BLAS threads per level, or None
        # an activation's exp may overflow on the way to a finite output (the sigmoid's
        # 1/(1+inf) = 0): no warning; a non-finite output is its checker's to report
        with np.errstate(over="ignore", under="ignore"):
            if blas is None:
                self._forward_levels(buf.levels, out)
            else:
                blas.begin(buf.blas_start)
                try:                                         # Ctrl-C or an error: the user's count back
                    self._forward_levels(buf.levels, out)
                finally:
                    blas.end()
        self.last = buf
        return buf

    @staticmethod
    def _forward_levels(levels: list, out: np.ndarray) -> None:
        for kernel, segs in levels:
            kernel.forward(out)                              # messages w·y, summed per neuron
            for act, net_s, out_s, *_ in segs:
                if act.function_into is not None:            # update: the activation, in place
                    act.function_into(net_s, out_s)
                else:
                    out_s[...] = act.function(net_s)

    def output_values(self, buf: _Buffers) -> np.ndarray:
        """Network outputs ``([K,] batch, n_outputs)`` of the pass held in ``buf`` (a view,
        or a copy when the outputs are not consecutive rows)."""
        return buf.Y if buf.Y is not None else _units_last(buf.out[self.out_rows])

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
            out_rows = np.asarray(self.out_rows if isinstance(self.out_rows, np.ndarray)
                                  else np.arange(self.out_rows.start, self.out_rows.stop))
            rows = out_rows[cols]
            zero = np.zeros(self.n_units, bool)              # rows no send writes, and fused outputs
            for run in self._gy_zero:
                zero[run] = True
            zero[out_rows[~general]] = True
            plan = (dict((id(s), f) for s, f in fused), _index(cols), _index(rows), len(cols), _runs(zero))
            self._loss_plans[loss.name] = plan
        return plan

    def backward(self, T: np.ndarray, loss, value: bool = True, after: Callable[[slice], None] | None = None,
                 scale: float | None = None):
        """Backward phase after :meth:`forward`; fills ``grad`` and returns the total error.

        Parameters
        ----------
        T : ndarray
            Validated targets ``(batch, n_outputs)``.
        loss : neurosim.Loss
        value : bool, default True
            Compute the error too (a float, or ``(K,)`` per ensemble member); when False
            return None and save the loss evaluation.
        after : callable, optional
            ``after(part)`` as soon as a level's gradient ``grad[part]`` is complete (its
            entry of :attr:`parts`; last level first), before the next level is worked
            on; it may change ``theta[part]``, which the rest of the pass no longer reads.
            Only for plans whose :attr:`parts` is not None.
        scale : float, optional
            Write ``scale · dE/dw`` into ``grad`` instead of the gradient: each level's
            deltas are multiplied by it before the weight gradient's product (the deltas
            themselves, the messages and the error are unchanged). For an optimiser's
            :meth:`~neurosim.Optimizer.gradient_scale`; only for a single network whose
            :attr:`parts` is not None.
        """
        buf = self.last
        if scale is not None and (self.parts is None or self.members is not None):
            raise ValueError("Plan.backward(scale=...) is for a single network's plan with parts (no tied "
                             "sets, no gather levels)")
        buf.scale = scale
        gy = buf.gy
        Y = self.output_values(buf)
        fused, gen_cols, gen_rows, n_general, zero = self._loss_plan(loss)
        for run in zero:
            gy[run] = 0.0
        if value and not fused and loss.value_and_gradient is not None:     # both from one pass
            if buf.gY is not None:                           # dE/dy written straight into its rows
                E = loss.value_and_gradient(Y, T, buf.gY)
            else:
                g = np.empty_like(Y)
                E = loss.value_and_gradient(Y, T, g)
                gy[gen_rows] = _units_first(g)
        else:
            E = loss.value(Y, T) if value else None
            if n_general:
                gy[gen_rows] = _units_first(loss.gradient(Y[..., gen_cols], T[:, gen_cols]))
        blas = buf.blas                                      # BLAS threads per level, or None
        if blas is None:
            self._backward_levels(buf, T, fused, after)
        else:
            blas.begin(buf.blas_start)
            try:                                             # Ctrl-C or an error: the user's count back
                self._backward_levels(buf, T, fused, after)
            finally:
                blas.end()
        if self._ties is not None:                           # tied sets: one shared gradient each
            self._reduce_ties()
        buf.delta_valid = True
        return E

    def _backward_levels(self, buf: _Buffers, T: np.ndarray, fused: dict, after) -> None:
        out, gy = buf.out, buf.gy
        for at, (kernel, segs) in zip(range(len(buf.levels) - 1, -1, -1), reversed(buf.levels)):
            for act, net_s, out_s, gy_s, delta_s, seg in segs:
                f = fused.get(id(seg))
                if act.backward_into is not None:            # delta = f'(net) · dE/dy, in place
                    act.backward_into(net_s, out_s, gy_s, delta_s)
                    if f is not None:
                        t = T[:, seg.out_cols]
                        delta_s += f(out_s, t if act.group else self._neuron_major(t))
                    continue
                d = act.backward(net_s, out_s, gy_s)
                if f is not None:
                    t = T[:, seg.out_cols]
                    d = d + f(out_s, t if act.group else self._neuron_major(t))
                delta_s[...] = d
            kernel.backward(out, gy)                         # dE/dw and the messages delta·w back
            if after is not None:
                after(self.parts[at])

    def _neuron_major(self, t: np.ndarray) -> np.ndarray:
        """Targets ``(batch, k)`` laid out like the state: ``(k, batch)`` or ``(k, 1, batch)``."""
        return t.T if self.members is None else t.T[:, None, :]

    def member_of(self) -> np.ndarray | None:
        """For an ensemble, the member each entry of ``theta`` belongs to; None for one network.

        Rules that treat members apart (iRprop+ reverts a member's step when that
        member's error rose) index their state with it.

        Returns
        -------
        ndarray of int or None
            ``(K * P,)``, laid out as ``theta`` (member-minor within each level's block).
        """
        if self.members is None:
            return None
        K = self.members
        return np.concatenate([np.broadcast_to(np.arange(K)[None, :, None], lv.W.shape).ravel()
                               for lv in self.levels] or [np.zeros(0, np.intp)])

    def member_theta(self) -> np.ndarray:
        """Parameters as ``(P,)``, or ``(K, P)`` for an ensemble: one vector per member.

        An ensemble's ``theta`` is stored member-minor (each level's block is
        ``(n, K, width)``); row ``k`` of the result is member ``k``'s parameter vector,
        indexed by this plan's :attr:`edge_pos`. (A single network of the same topology
        may lay its parameters out differently: ensembles always use dense blocks.)

        Returns
        -------
        ndarray
            A copy, ``(P,)`` or ``(K, P)``.
        """
        if self.members is None:
            return self.theta.copy()
        K = self.members
        return np.concatenate([lv.W.reshape(lv.W.shape[0], K, -1).transpose(1, 0, 2).reshape(K, -1)
                               for lv in self.levels] or [np.zeros((K, 0), self.dtype)], axis=1)

    def train_mask(self, active: np.ndarray | None = None) -> np.ndarray:
        """The 1/0 mask an optimiser applies to ``grad``, shaped like ``theta``.

        Parameters
        ----------
        active : ndarray of bool, optional
            For an ensemble, ``(K,)``: members still training (the others are frozen).

        Returns
        -------
        ndarray
            :attr:`mask` itself for a single network; for an ensemble a new array, 0 for
            every entry of a frozen member.
        """
        if self.members is None:
            return self.mask
        K = self.members
        on = np.ones(K, self.dtype) if active is None else np.asarray(active, self.dtype)
        full = np.empty_like(self.theta)
        at = 0
        for lv in self.levels:
            n, width = lv.W.shape[0], lv.W.shape[-1]
            m = self.mask[at:at + n * width].reshape(n, 1, width)
            np.multiply(m, on[None, :, None], out=full[K * at:K * (at + n * width)].reshape(n, K, width))
            at += n * width
        return full

    def check_finite(self, what: str) -> None:
        """Raise :class:`NumericalError` naming the first weight that is NaN or infinite."""
        if np.isfinite(self.theta).all():
            return
        theta = self.member_theta()
        bad = np.flatnonzero(~np.isfinite(theta).reshape(-1, self.size).all(axis=0))
        bad_set = set(bad.tolist())
        edges = [f"{u.name} -> {v.name}" for (u, v), p in self.edge_pos.items() if p in bad_set]
        raise NumericalError(f"{what}: weights became non-finite ({', '.join(edges[:5])}"
                             f"{' ...' if len(edges) > 5 else ''}); lower the learning rate or momentum, "
                             "or scale the inputs")

    def first_nonfinite(self, buf: _Buffers) -> str | None:
        """Name of the first neuron, in computation order, whose output is NaN or infinite."""
        computed = buf.out[self.n_fixed:]
        rows = np.isfinite(computed.reshape(len(computed), -1)).all(axis=1)
        bad = np.flatnonzero(~rows)
        return self.units[self.n_fixed + bad[0]].name if len(bad) else None

    def state(self, unit: Unit, field: str) -> Any:
        """Value of ``field`` (out, net, delta) of ``unit`` for the last pass, or None (also
        for ``net`` when the plan does not keep net inputs, :attr:`keeps_net`)."""
        buf = self.last
        if buf is None or (field == "delta" and not buf.delta_valid) or (field == "net" and not self.keeps_net):
            return None
        i = self.index[unit]
        if field == "out" and i < self.n_fixed:
            row = np.broadcast_to(buf.fixed[i], buf.out.shape[1:])   # one row for every member
        else:
            row = getattr(buf, field)[i]
        return float(row[..., 0]) if self.last_single and self.members is None else row.copy()
