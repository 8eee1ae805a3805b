"""Generated scalar code for small networks: the ``python`` and ``numba`` backends.

A 2-2-2 network's training step is about thirty floating-point operations, and the numpy
engine spends some twenty microseconds of dispatch on them. For such networks this module
writes the whole training run out as straight-line scalar Python source, once per
topology (Brian2's approach: the model compiles to source, the source runs): one local
variable per weight, net input, output and delta, one line per message, the forward pass,
the backward pass and the SGD update (momentum, Nesterov, weight decay, L2; frozen and
tied weights) unrolled over the network, inside loops over epochs and patterns. The
source is compiled with :func:`compile` and run by the interpreter (``python``), or
compiled to machine code by ``numba.njit`` (``numba``, the optional extra ``fast``).

A :class:`Kernel` runs a number of epochs in ``online`` mode (one update per pattern, in
order or in given orders) or ``batch`` mode (the gradient summed over the patterns, one
update per epoch), reading and writing the plan's own ``theta`` and the optimiser's
velocity, and returns the training error after every epoch, so everything around it (the
learning curve, stop criteria, callbacks, checkpoints) stays as it is.
:func:`unsupported` says why a run cannot use generated code (an activation or loss
without a scalar form, a group activation, an ensemble, float32, ...); such runs train on
numpy. Results agree with the numpy engine to rounding (about 1e-15 relative per step:
sums are taken in another order); each backend is deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import MissingExtraError
from .functions import SCALAR_NAMES

__all__ = ["BACKENDS", "Kernel", "kernel_for", "unsupported", "choose_backend", "AUTO_MAX_WORK", "check_backend"]

#: The backends a network may ask for: ``auto`` chooses generated Python code for small
#: networks and numpy for the rest.
BACKENDS = ("numpy", "auto", "python", "numba")

#: ``auto`` uses generated Python code when a run's work per update, weights times
#: patterns per update, is at most this. The interpreter costs 50-70 ns per weight and
#: pattern, numpy some 10-20 us per level and pass whatever the size; measured on a
#: 2-core machine (docs/engine.md) the generated code is 1.6-4x faster up to here (a
#: 2-4-2 net online or in batch mode over 4 patterns, a 2-8-2 net online) and slower
#: from about twice this on (a 12-12-2 net online: 1.3x slower; W3, 17 weights x 64
#: patterns in batch mode: 3x slower).
AUTO_MAX_WORK = 120

_compiled: dict[tuple[str, str], Any] = {}


def check_backend(backend: Any) -> str:
    """``backend`` when it is one of :data:`BACKENDS`, else a ``ValueError`` naming them.

    Parameters
    ----------
    backend : str

    Returns
    -------
    str
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r:.60}")
    return backend


def _numba():
    """numba, or the MissingExtraError that says how to install it."""
    try:
        import numba
    except ImportError:
        raise MissingExtraError("the numba backend needs numba: pip install 'neurosim[fast]' "
                                "(or use backend='python', which needs nothing more)") from None
    return numba


def unsupported(plan, loss, mode: str) -> str | None:
    """Why generated code cannot train ``plan`` with ``loss`` in ``mode``, or None if it can.

    The optimiser is the trainer's business (only :class:`~neurosim.training.SGD` has
    generated code).

    Parameters
    ----------
    plan : neurosim.engine.Plan
    loss : neurosim.Loss
    mode : str

    Returns
    -------
    str or None
        A short reason (``"the activation 'softmax' has no scalar form"``).
    """
    if plan.members is not None:
        return "ensembles train on numpy"
    if plan.dtype != np.float64:
        return f"generated code computes in float64 and the network is {plan.dtype}"
    if mode not in ("online", "batch"):
        return f"mode {mode!r} trains on numpy"
    if loss.scalar is None:
        return f"the loss {loss.name!r} has no scalar form"
    for lv in plan.levels:
        for seg in lv.segments:
            act = seg.activation
            if act.group or act.scalar is None:
                return f"the activation {act.name!r} has no scalar form"
            if seg.output and act.name in loss.fused and act.name not in loss.scalar.fused:
                return f"the loss {loss.name!r} has no scalar fused delta for {act.name!r}"
    return None


def work(plan, patterns_per_update: int) -> int:
    """Weights times patterns per update: what :data:`AUTO_MAX_WORK` bounds."""
    return sum(len(pos) for _, _, pos in plan._edges) * max(1, patterns_per_update)


def choose_backend(asked: str, plan, loss, mode: str, patterns_per_update: int) -> tuple[str, str | None]:
    """The backend a run uses, and why it is not the one asked for (None when it is).

    Parameters
    ----------
    asked : {'numpy', 'auto', 'python', 'numba'}
    plan, loss, mode
        As for :func:`unsupported`.
    patterns_per_update : int
        1 online, the number of patterns in batch mode.

    Returns
    -------
    (str, str or None)
        ``("python", None)``, ``("numpy", "the activation 'softmax' has no scalar form")``, ...

    Raises
    ------
    MissingExtraError
        ``numba`` asked for and not installed.
    """
    if asked == "numpy":
        return "numpy", None
    if asked == "numba":
        _numba()
    why = unsupported(plan, loss, mode)
    if why is not None:
        return "numpy", why
    if asked == "auto":
        w = work(plan, patterns_per_update)
        if w > AUTO_MAX_WORK:
            return "numpy", f"auto: {w} weights x patterns per update is above {AUTO_MAX_WORK}"
        return "python", None
    return asked, None


class _Writer:
    """Source lines with indentation."""

    def __init__(self):
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)


def _sub(template: str, **names: str) -> str:
    return "(" + template.format(**names) + ")"


class _Net:
    """The network as the generator sees it: units, edges and the loss's terms by row."""

    def __init__(self, plan, loss):
        self.plan = plan
        self.n_inputs, self.n_fixed = plan.n_inputs, plan.n_fixed
        index = plan.index
        self.incoming: dict[int, list[tuple[int, int]]] = {}     # dst row -> [(src row, theta position)]
        self.outgoing: dict[int, list[tuple[int, int]]] = {}     # src row -> [(dst row, theta position)]
        for src_units, dst_units, pos in plan._edges:
            for s, d, p in zip(src_units, dst_units, pos.tolist()):
                self.incoming.setdefault(index[d], []).append((index[s], p))
                self.outgoing.setdefault(index[s], []).append((index[d], p))
        self.act: dict[int, Any] = {}
        self.fused_rows: set[int] = set()
        for lv in plan.levels:
            for seg in lv.segments:
                for r in range(seg.start, seg.stop):
                    self.act[r] = seg.activation
                    if seg.output and seg.activation.name in loss.scalar.fused:
                        self.fused_rows.add(r)
        self.rows = sorted(self.act)
        self.out_col = {index[u]: c for c, u in enumerate(plan.outputs)}
        self.positions = sorted(p for _, _, pos in plan._edges for p in pos.tolist())
        self.loss = loss.scalar
        self.ties: list[tuple[list[int], float]] = []
        if plan._ties is not None:
            idx, gid, div = plan._ties
            groups: dict[int, list[int]] = {}
            for i, g in zip(idx.tolist(), gid.tolist()):
                groups.setdefault(g, []).append(i)
            self.ties = [(groups[g], float(div[g])) for g in sorted(groups)]

    def y(self, row: int) -> str:
        if row < self.n_inputs:
            return f"x{row}"
        if row < self.n_fixed:
            return "1.0"
        return f"y{row}"

    def forward(self, w: _Writer) -> None:
        for r in self.rows:
            terms = []
            for s, p in self.incoming.get(r, []):
                terms.append(f"w{p}" if s >= self.n_inputs and s < self.n_fixed else f"w{p}*{self.y(s)}")
            w(f"n{r} = {' + '.join(terms) if terms else '0.0'}")
            w(f"y{r} = {_sub(self.act[r].scalar.function, x=f'n{r}')}")

    def _error_parts(self) -> list[str]:
        return [_sub(self.loss.value, y=f"y{r}", t=f"t{c}")
                for r, c in sorted(self.out_col.items(), key=lambda rc: rc[1])]

    def error_terms(self, w: _Writer, target: str = "E") -> None:
        for term in self._error_parts():
            w(f"{target} += {term}")

    def error_sum(self) -> str:
        """One pattern's error as one expression (the same sum, in the same order, as
        :meth:`error_terms` adds to 0.0)."""
        return " + ".join(self._error_parts()) or "0.0"

    def backward(self, w: _Writer) -> set[int]:
        """Deltas in reverse order; returns the rows whose delta is identically zero."""
        zero: set[int] = set()
        for r in reversed(self.rows):
            terms = []
            if r in self.out_col and r not in self.fused_rows:
                terms.append(_sub(self.loss.gradient, y=f"y{r}", t=f"t{self.out_col[r]}"))
            for d, p in self.outgoing.get(r, []):
                if d not in zero:
                    terms.append(f"w{p}*d{d}")
            parts = []
            if terms:
                gy = " + ".join(terms)
                parts.append(f"{_sub(self.act[r].scalar.derivative, x=f'n{r}', y=f'y{r}')}*({gy})")
            if r in self.fused_rows:
                parts.append(_sub(self.loss.fused[self.act[r].name], y=f"y{r}", t=f"t{self.out_col[r]}"))
            if parts:
                w(f"d{r} = {' + '.join(parts)}")
            else:
                zero.add(r)
        return zero

    def gradient(self, p: int, s: int, d: int, zero: set[int]) -> str:
        if d in zero:
            return "0.0"
        y = self.y(s)
        return f"d{d}" if y == "1.0" else f"d{d}*{y}"


class Kernel:
    """Generated code that trains one plan: ``epochs`` epochs of SGD in one call.

    Parameters
    ----------
    plan : neurosim.engine.Plan
    loss : neurosim.Loss
    mode : {'online', 'batch'}
    mask : ndarray
        The plan's 1/0 trainable mask (frozen weights are constants of the code).
    flags : tuple of bool
        ``(momentum, nesterov, weight_decay, l2)``: which terms of the update are nonzero.
    backend : {'python', 'numba'}

    Attributes
    ----------
    source : str
        The generated Python source (one function, ``train``).
    """

    def __init__(self, plan, loss, mode: str, mask: np.ndarray, flags: tuple, backend: str):
        self.backend = backend
        self.mode = mode
        self.flags = flags
        self.n_theta = len(plan.theta)
        self.source = _generate(_Net(plan, loss), mode, mask, flags, backend)
        key = (self.source, backend)
        fn = _compiled.get(key)
        if fn is None:
            space: dict[str, Any] = {"__builtins__": {"range": range, "len": len, **{
                k: v for k, v in SCALAR_NAMES.items() if k in ("max", "min", "abs")}}}
            space.update({k: v for k, v in SCALAR_NAMES.items() if k not in ("max", "min", "abs")})
            exec(compile(self.source, f"<neurosim generated {mode} kernel>", "exec"), space)
            fn = space["train"]
            if backend == "numba":
                fn = _numba().njit(cache=False, error_model="numpy")(fn)
            _compiled[key] = fn
        self.fn = fn
        self._data: tuple | None = None

    def run(self, theta: np.ndarray, velocity: np.ndarray | None, X: np.ndarray, T: np.ndarray,
            orders: list | None, epochs: int, lr: float, momentum: float, weight_decay: float,
            l2: float, owner: object = None) -> list[float]:
        """Train ``epochs`` epochs in place; return the training error after each.

        Parameters
        ----------
        theta : ndarray
            The plan's parameters (changed in place).
        velocity : ndarray or None
            The SGD velocity (changed in place), when momentum is on.
        X, T : ndarray
            Inputs and targets ``(n, k)``.
        orders : list of ndarray, optional
            Online mode: the pattern order of every epoch (default: as given).
        epochs : int
        lr, momentum, weight_decay, l2 : float
        owner : object, optional
            Who holds ``X`` and ``T`` fixed for a whole run (the trainer): their converted
            copies are kept for its later calls. Without one they are converted every call,
            so new data (or data changed in place) is never mistaken for the last.

        Returns
        -------
        list of float
            ``errors[e]``: the total error over ``X`` after epoch ``e``.

        Raises
        ------
        ArithmeticError, ValueError
            (python backend) when the arithmetic overflowed; ``theta`` and ``velocity``
            are then unchanged.
        """
        n = X.shape[0]
        vel = velocity if velocity is not None else theta[:0]
        if self.backend == "numba":
            if owner is None or self._data is None or self._data[0] is not owner:
                self._data = (owner, np.ascontiguousarray(X, np.float64), np.ascontiguousarray(T, np.float64))
            Xc, Tc = self._data[1], self._data[2]
            order = (np.arange(n, dtype=np.int64)[None, :] if orders is None
                     else np.ascontiguousarray(np.array(orders, dtype=np.int64)))
            errs = np.empty(epochs + 1)
            self.fn(theta, vel, Xc, Tc, order, orders is not None, epochs, lr, momentum, weight_decay, l2, errs)
            out = errs.tolist()
        else:
            if owner is None or self._data is None or self._data[0] is not owner:
                # one tuple per pattern, inputs then targets: one unpacking a presentation
                self._data = (owner, [tuple(x) + tuple(t) for x, t in zip(X.tolist(), T.tolist())])
            rows = self._data[1]
            order = None if orders is None else [o.tolist() for o in orders]
            th = theta.tolist()
            vl = vel.tolist()
            errs = [0.0] * (epochs + 1)
            self.fn(th, vl, rows, None, order, orders is not None, epochs, lr, momentum, weight_decay, l2, errs)
            theta[:] = th
            if velocity is not None:
                velocity[:] = vl
            out = errs
        return out[1:] if self._measures_first(n) else out[:epochs]

    def _measures_first(self, n: int) -> bool:
        """Whether errors come as 'before each update, then after the last' (batch, one pattern)."""
        return self.mode == "batch" or n == 1


def _generate(net: _Net, mode: str, mask: np.ndarray, flags: tuple, backend: str) -> str:
    """The source of ``train(th, vel, X, T, orders, shuffled, epochs, lr, mom, wd, l2, errs)``.

    numba: ``X``, ``T`` are the ``(n, k)`` arrays and ``orders`` an ``(epochs, n)`` index
    array. python: ``X`` is a list of one tuple per pattern, its inputs then its targets
    (``T`` is unused), and ``orders`` a list of index lists (None when not ``shuffled``).
    """
    momentum, nesterov, decay, l2 = flags
    trainable = [p for p in net.positions if mask[p] != 0.0]
    w = _Writer()
    w("def train(th, vel, X, T, orders, shuffled, epochs, lr, mom, wd, l2, errs):")
    w.depth += 1
    w('"""Generated by neurosim.codegen: do not edit."""')
    for p in net.positions:
        w(f"w{p} = th[{p}]")
    if momentum:
        for p in trainable:
            w(f"v{p} = vel[{p}]")
    w("n = len(X)")
    w("one = n == 1")
    n_in, n_out = net.n_inputs, len(net.out_col)

    # the python backend's X holds each pattern's inputs and targets as one tuple
    unpack = "".join(f"x{j}, " for j in range(n_in)) + "".join(f"t{c}, " for c in range(n_out))

    def load(p: str) -> None:
        for j in range(n_in):
            w(f"x{j} = X[{p}, {j}]")
        for c in range(n_out):
            w(f"t{c} = T[{p}, {c}]")

    def patterns(order: str | None = None) -> None:
        """``for`` every pattern, in order or in the order ``order`` (python: a list of
        rows; numba: an array of indices), its inputs and targets loaded; indents."""
        if backend == "numba":
            w("for i in range(n):")
            w.depth += 1
            load("i" if order is None else f"{order}[i]")
        else:
            w(f"for {unpack}in {order or 'X'}:")
            w.depth += 1

    tie_of: dict[int, tuple[int, list[int], float]] = {}
    for k, (members, div) in enumerate(net.ties):
        for p in members:
            tie_of[p] = (k, members, div)

    def update(grad: dict[int, str]) -> None:
        """SGD on every trainable weight from the gradient expressions ``grad``, as
        :class:`neurosim.training.SGD` computes it, operation for operation."""
        for k, (members, div) in enumerate(net.ties):        # a tied set shares one gradient
            total = " + ".join(f"({grad[p]})" for p in members)
            w(f"q{k} = ({total})" + (f" / {div!r}" if div != 1.0 else ""))
        for p in trainable:
            g = f"q{tie_of[p][0]}" if p in tie_of else grad[p]
            step = f"({g})" if not l2 else f"(({g}) + l2*w{p})"
            if momentum:
                w(f"v{p} = v{p}*mom - {step}*lr")
                w(f"w{p} += mom*v{p} - {step}*lr" if nesterov else f"w{p} += v{p}")
            else:
                w(f"w{p} -= {step}*lr")
            if decay:
                w(f"w{p} -= w{p}*wd")

    def edges():
        for r in net.rows:
            for s, p in net.incoming.get(r, []):
                yield p, s, r

    def measure(condition: str | None, into: str) -> None:
        """(``if condition:``) a pass over every pattern at the current weights, its error into ``into``."""
        if condition is not None:
            w(f"if {condition}:")
            w.depth += 1
        w("E = 0.0")
        patterns()
        net.forward(w)
        net.error_terms(w)
        w.depth -= 1
        w(f"{into} = E")
        if condition is not None:
            w.depth -= 1

    def online_step(measure_first: bool) -> None:
        """One pattern's forward pass, (its error into ``errs[e]``,) backward pass and update."""
        net.forward(w)
        if measure_first:
            w(f"errs[e] = {net.error_sum()}")
        zero = net.backward(w)
        update({p: net.gradient(p, s, r, zero) for p, s, r in edges()})

    if mode == "batch":
        w("for e in range(epochs):")
        w.depth += 1
        for p in net.positions:
            if p in trainable or p in tie_of:
                w(f"G{p} = 0.0")
        w("E = 0.0")
        patterns()
        net.forward(w)
        net.error_terms(w)
        zero = net.backward(w)
        for p, s, r in edges():
            if p in trainable or p in tie_of:
                g = net.gradient(p, s, r, zero)
                if g != "0.0":
                    w(f"G{p} += {g}")
        w.depth -= 1
        w("errs[e] = E")
        update({p: f"G{p}" if p in trainable or p in tie_of else "0.0" for p in net.positions})
        w.depth -= 1
    elif backend == "numba":                 # one loop for both cases: half the code to compile
        w("for e in range(epochs):")
        w.depth += 1
        w("o = orders[e if shuffled else 0]")
        patterns("o")
        net.forward(w)
        w("if one:")                         # one-pattern epochs: this pass measures the last epoch's error
        w.depth += 1
        w(f"errs[e] = {net.error_sum()}")
        w.depth -= 1
        zero = net.backward(w)
        update({p: net.gradient(p, s, r, zero) for p, s, r in edges()})
        w.depth -= 1
        measure("n > 1", "errs[e]")
        w.depth -= 1
    else:
        # python: one pattern (W1) loads it once and measures each epoch's error in the
        # next epoch's forward pass; several loop over them and measure in a pass of its own
        w("if one:")
        w.depth += 1
        w(f"{unpack}= X[0]")
        w("for e in range(epochs):")
        w.depth += 1
        online_step(True)
        w.depth -= 2
        w("else:")
        w.depth += 1
        w("for e in range(epochs):")
        w.depth += 1
        w("rows = [X[p] for p in orders[e]] if shuffled else X")
        patterns("rows")
        online_step(False)
        w.depth -= 1
        measure(None, "errs[e]")
        w.depth -= 2
    # the error after the last update (batch mode and one-pattern epochs measure before each)
    measure("n == 1 or BATCH", "errs[epochs]")
    for p in net.positions:
        w(f"th[{p}] = w{p}")
    if momentum:
        for p in trainable:
            w(f"vel[{p}] = v{p}")
    w("return 0")
    return "\n".join(w.lines).replace("BATCH", "True" if mode == "batch" else "False") + "\n"


def kernel_for(plan, loss, mode: str, flags: tuple, backend: str) -> Kernel:
    """The plan's kernel for ``loss``, ``mode``, the update terms ``flags`` and its mask,
    generated on first use and kept on the plan (a new topology makes a new plan).

    Parameters
    ----------
    plan, loss, mode, flags, backend
        As for :class:`Kernel`.

    Returns
    -------
    Kernel
    """
    cache = plan.__dict__.setdefault("_kernels", {})
    key = (loss.name, mode, flags, backend, plan.mask.tobytes())
    kernel = cache.get(key)
    if kernel is None:
        kernel = cache[key] = Kernel(plan, loss, mode, plan.mask, flags, backend)
    return kernel
