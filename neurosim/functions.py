"""The contracts that plugins fulfil: activations, losses, initialisers, datasets, measures.

These are small immutable records of plain numpy functions. A plugin builds them and hands
them to the ``register`` callback of a hook (see :mod:`neurosim.hookspecs`); the engine
calls them on whole ``(batch, k)`` blocks of neurons at once, never per neuron or per
pattern. Each record states its local chain rule in its docstring, the way micrograd states
it per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import math

import numpy as np

from .errors import DataError

__all__ = ["Activation", "Loss", "Initializer", "Dataset", "Patterns", "Measure", "STATISTICS",
           "ScalarActivation", "ScalarLoss", "SCALAR_NAMES", "scalar_function"]

Array = np.ndarray

#: The statistics an expectation may take of a measure over ensemble members
#: (``stat = "median"``), and measures that summarise members themselves accept.
STATISTICS: Mapping[str, Callable[[Array], float]] = MappingProxyType(
    {"min": np.min, "median": np.median, "mean": np.mean, "max": np.max})


#: The names a scalar form's expression may use besides its placeholders: the functions
#: of :mod:`math` below and Python's ``max``, ``min`` and ``abs`` (numba compiles all of
#: them too). Generated code runs on Python floats: ``exp`` of a large argument raises
#: ``OverflowError`` instead of giving infinity, so clamp it as sigmoid does.
SCALAR_NAMES: Mapping[str, Any] = MappingProxyType(
    {"exp": math.exp, "log": math.log, "log1p": math.log1p, "expm1": math.expm1, "tanh": math.tanh,
     "sqrt": math.sqrt, "fabs": math.fabs, "inf": math.inf, "max": max, "min": min, "abs": abs})


def scalar_function(template: str, placeholders: tuple[str, ...]) -> Callable[..., float]:
    """Compile a scalar form's expression into a Python function of its placeholders.

    Parameters
    ----------
    template : str
        An expression with ``{x}``-style placeholders (``"1.0/(1.0+exp(-{x}))"``).
    placeholders : tuple of str
        Their names, in the order the function takes them (``("x", "y")``).

    Returns
    -------
    callable
        ``f(*floats) -> float``.

    Raises
    ------
    ValueError
        When the template is not a str, names another placeholder, or is not an expression.
    """
    if not isinstance(template, str):
        raise ValueError(f"a scalar form must be an expression string, not {type(template).__name__} {template!r:.60}")
    try:
        body = template.format(**{name: f"_{name}" for name in placeholders})
        code = compile(f"lambda {', '.join('_' + n for n in placeholders)}: ({body})", "<scalar form>", "eval")
    except (KeyError, IndexError) as exc:
        raise ValueError(f"scalar form {template!r:.80} uses the placeholder {exc}; it may use "
                         f"{', '.join('{' + n + '}' for n in placeholders)}") from None
    except SyntaxError as exc:
        raise ValueError(f"scalar form {template!r:.80} is not a Python expression: {exc.msg}") from None
    return eval(code, {"__builtins__": {}, **SCALAR_NAMES})


def _check_scalar(what: str, template: str, placeholders: tuple[str, ...], args: list[np.ndarray],
                  want: np.ndarray) -> None:
    """Evaluate ``template`` elementwise on ``args`` and compare with the numpy ``want``."""
    f = scalar_function(template, placeholders)
    try:
        got = np.array([f(*map(float, vals)) for vals in zip(*(a.ravel() for a in args))])
    except Exception as exc:
        raise ValueError(f"scalar {what} {template!r:.80} failed: {type(exc).__name__}: {exc}") from None
    want = np.asarray(want, dtype=float).ravel()
    bad = np.flatnonzero(~(np.abs(got - want) <= 1e-12 * np.maximum(1.0, np.abs(want))))
    if len(bad):
        k = bad[0]
        point = ", ".join(f"{n}={a.ravel()[k]:.6g}" for n, a in zip(placeholders, args))
        raise ValueError(f"scalar {what} {template!r:.80} gives {got[k]!r} at {point}, the numpy function "
                         f"{want[k]!r}; they must agree to 1e-12")


@dataclass(frozen=True)
class ScalarActivation:
    """An elementwise activation written as scalar expressions, for generated code.

    The ``python`` and ``numba`` backends (docs/engine.md) turn small networks into
    straight-line scalar code; they can only do so for activations that give this form.
    ``{x}`` stands for the net input and ``{y}`` for the output.

    Parameters
    ----------
    function : str
        ``y`` in terms of ``{x}``: ``"tanh({x})"``, or the sigmoid's
        ``"(0.0 if {x} < -709.782712893384 else 1.0/(1.0+exp(-{x})))"``.
    derivative : str
        ``f'(net)`` in terms of ``{x}`` and ``{y}``: ``"{y}*(1.0-{y})"``.

    Notes
    -----
    The expressions may use the names in :data:`SCALAR_NAMES`; the registry checks them
    against the numpy functions (to 1e-12) before accepting the activation.
    """

    function: str
    derivative: str


@dataclass(frozen=True)
class ScalarLoss:
    """A loss written as scalar expressions of one output ``{y}`` and its target ``{t}``.

    Parameters
    ----------
    value : str
        One output's term of the total error (the total is their sum over outputs and
        patterns): ``"0.5*({y}-{t})*({y}-{t})"``.
    gradient : str
        ``dE/dy`` of that term: ``"{y}-{t}"``.
    fused : mapping of str to str, optional
        The fused output deltas ``dE/dnet`` by activation name, as in :class:`Loss`
        (``{"sigmoid": "{y}-{t}"}``); a loss whose numpy form fuses an activation must give
        its scalar fused delta too, or networks with that pairing train on numpy.
    """

    value: str
    gradient: str
    fused: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, eq=False)
class Activation:
    """A neuron's activation function ``y = f(net)`` and its local chain rule.

    Parameters
    ----------
    name : str
        The name neurons use to ask for it (``activation="sigmoid"``).
    function : callable
        ``function(net) -> y``. A group activation receives ``(..., batch, k)`` arrays
        whose last axis is one group (e.g. the outputs of a softmax layer): normalise over
        ``axis=-1``; a leading axis appears when an ensemble is trained. An elementwise
        activation may receive its block in any layout (the engine passes it
        neuron-major, ``(k, batch)``, or ``(k, K, batch)`` for an ensemble of K), which
        is why it must not depend on axes.
    derivative : callable, optional
        Elementwise activations: ``derivative(net, y) -> f'(net)``, same shape. Both the
        net input and the output are passed so a rule may use whichever is cheaper
        (sigmoid: ``y (1 - y)``). Backward: ``delta = f'(net) * dE/dy``.
    vjp : callable, optional
        Group activations: ``vjp(net, y, dE_dy) -> dE/dnet`` (vector-Jacobian product
        over the group's columns). Elementwise activations may give it instead of
        ``derivative``.
    group : bool, default False
        True when ``function`` couples the neurons of a group (softmax).
    description : str, optional
        One line for ``neurosim list`` and error messages.
    scalar : ScalarActivation, optional
        The same function and derivative as scalar expressions, so that the ``python``
        and ``numba`` backends can generate code for networks that use it (without it
        they train on numpy). Elementwise activations only.
    function_into : callable, optional
        ``function_into(net, out)`` writes ``function(net)`` into the array ``out`` (same
        shape) with the same operations, so the engine's passes make no temporary for it.
        Elementwise activations only; it must give exactly the bits ``function`` gives.
        The engine calls it with numpy's overflow and underflow warnings silenced, so it
        need not silence them itself (``function`` should, when overflow is no error).
    backward_into : callable, optional
        ``backward_into(net, y, grad_y, out)`` writes :meth:`backward`'s result into
        ``out``, bit for bit, as ``function_into`` does for the function.
    uses_net : bool, default True
        Whether the backward pass reads its ``net`` argument. False (every built-in: their
        derivatives come from ``y``, relu's ``y > 0`` being ``net > 0``) lets an ensemble
        compute its outputs over the net inputs in place and keep no net inputs: a quarter
        less state for its elementwise passes to stream through. The backward forms then receive
        ``y`` as ``net``, and ``function`` (``function_into``) the array it writes into as
        its input. The registry checks both claims.

    Notes
    -----
    The registry refuses an activation that provides neither ``derivative`` nor ``vjp``,
    or a group activation without ``vjp``, and tries each one on net inputs in
    ``[-3, 3]`` in both layouts before accepting it (:meth:`check_contract`).
    """

    name: str
    function: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array] | None = None
    vjp: Callable[[Array, Array, Array], Array] | None = None
    group: bool = False
    description: str = ""
    scalar: ScalarActivation | None = None
    function_into: Callable[[Array, Array], None] | None = None
    backward_into: Callable[[Array, Array, Array, Array], None] | None = None
    uses_net: bool = True

    def backward(self, net: Array, y: Array, grad_y: Array) -> Array:
        """Return ``dE/dnet`` given ``dE/dy`` (chain rule through this activation).

        Parameters
        ----------
        net, y, grad_y : ndarray
            Net input, output and ``dE/dy`` of a ``(batch, k)`` block.

        Returns
        -------
        ndarray
            ``f'(net) * grad_y`` (elementwise) or ``vjp(net, y, grad_y)`` (group).
        """
        if self.vjp is not None:
            return self.vjp(net, y, grad_y)
        return self.derivative(net, y) * grad_y

    def check_contract(self) -> None:
        """Try the activation on sample net inputs; raise if it breaks its contract.

        The function, and the derivative or vector-Jacobian product, are called on net
        inputs spread over ``[-3, 3]``, laid out as the engine lays them out (one network,
        and an ensemble of two): each must return a finite array of the input's shape.

        Raises
        ------
        ValueError
            Saying which function returned what; the registry turns it into a
            :class:`~neurosim.PluginError` naming the plugin.
        """
        shapes = ((4, 3), (2, 4, 3)) if self.group else ((3, 4), (3, 2, 4))
        for shape in shapes:
            net = np.linspace(-3.0, 3.0, int(np.prod(shape))).reshape(shape)
            y = _returned(f"function(net) for net of shape {shape}", self.function(net.copy()), shape)
            if self.vjp is not None:
                _returned(f"vjp(net, y, dE_dy) for net of shape {shape}", self.vjp(net, y, np.ones(shape)), shape)
            else:
                _returned(f"derivative(net, y) for net of shape {shape}", self.derivative(net, y), shape)
        if self.function_into is not None or self.backward_into is not None:
            self._check_into()
        if not isinstance(self.uses_net, (bool, np.bool_)):
            raise ValueError(f"uses_net must be True or False, not {self.uses_net!r:.60}")
        if not self.uses_net:
            self._check_without_net()
        if self.scalar is not None:
            if self.group:
                raise ValueError("a group activation has no scalar form (scalar=None): its neurons are computed together")
            net = np.linspace(-3.0, 3.0, 13)
            y = self.function(net.copy())
            grad = self.backward(net, y, np.ones_like(net))
            _check_scalar("function", self.scalar.function, ("x",), [net], y)
            _check_scalar("derivative", self.scalar.derivative, ("x", "y"), [net, y], grad)

    def _check_into(self) -> None:
        """The in-place forms must write exactly what the plain forms return."""
        if self.group:
            raise ValueError("a group activation has no in-place forms (function_into, backward_into): give "
                             "function and vjp only")
        for shape in ((3, 4), (3, 2, 4)):
            net = np.linspace(-3.0, 3.0, int(np.prod(shape))).reshape(shape)
            y = self.function(net.copy())
            grad = np.linspace(-1.0, 2.0, net.size).reshape(shape)
            for name, form, args, want in (("function_into", self.function_into, (net,), y),
                                           ("backward_into", self.backward_into, (net, y, grad),
                                            self.backward(net, y, grad))):
                if form is None:
                    continue
                out = _written(form, *args)
                if not np.array_equal(out, want):
                    raise ValueError(f"{name} wrote {out.ravel()[:3]} ... where the plain form gives "
                                     f"{np.asarray(want).ravel()[:3]} ... (shape {shape}); it must write the "
                                     "same values, bit for bit")

    def _check_without_net(self) -> None:
        """``uses_net=False`` holds: the backward forms give the same bits with ``y`` passed
        for ``net``, and the function computes in place over its input."""
        # small and large blocks (a form may switch paths with the size), over a wide range
        small, large = ((4, 3), (1367, 3)) if self.group else ((3, 2, 4), (7, 4, 147))
        for shape, wide in ((small, 3.0), (large, 40.0)):
            with np.errstate(all="ignore"):
                self._check_without_net_on(np.linspace(-wide, wide, int(np.prod(shape))).reshape(shape))

    def _check_without_net_on(self, net: Array) -> None:
        y = self.function(net.copy())
        grad = np.linspace(-1.0, 2.0, net.size).reshape(net.shape)
        forms = [("backward", lambda a: self.backward(a, y, grad))]
        if self.backward_into is not None:
            forms.append(("backward_into", lambda a: _written(self.backward_into, a, y, grad)))
        for name, form in forms:
            if not np.array_equal(form(y.copy()), form(net), equal_nan=True):
                raise ValueError(f"uses_net=False, but {name} gives other values when passed y as net (net "
                                 f"inputs in [{net.min():g}, {net.max():g}]); it must not read net (or say "
                                 "uses_net=True)")
        inplace = net.copy()
        if self.function_into is not None:
            self.function_into(inplace, inplace)
        else:
            inplace[...] = self.function(inplace)
        if not np.array_equal(inplace, y, equal_nan=True):
            raise ValueError("uses_net=False, but " + ("function_into(net, net)" if self.function_into else
                             "function") + f" computed in place over its input ({net.size} entries) gives other "
                             "values than into a fresh array; an ensemble computes it so")

    def __repr__(self) -> str:
        return f"Activation({self.name!r}{', group' if self.group else ''})"


def _written(form: Callable[..., None], *args: Array) -> np.ndarray:
    """What the in-place ``form(*args, out)`` writes into a fresh ``out``."""
    out = np.full(args[0].shape, np.nan)
    form(*args, out)
    return out


def _returned(call: str, value: Any, shape: tuple) -> np.ndarray:
    """``value`` when it is a finite float array of ``shape`` (or a scalar for ``()``);
    else a ValueError saying what ``call`` returned instead."""
    if isinstance(value, (tuple, list)):       # e.g. (value, gradient) where one number is due
        raise ValueError(f"{call} returned a {type(value).__name__} of {len(value)} items, not a float array")
    if not isinstance(value, (np.ndarray, float, np.floating)) or np.asarray(value).dtype.kind not in "fiu":
        raise ValueError(f"{call} returned {type(value).__name__} {value!r:.80}, not a float array")
    value = np.asarray(value)
    if value.shape != shape:
        wanted = "one number" if shape == () else f"shape {shape}"
        raise ValueError(f"{call} returned an array of shape {value.shape}; it must return {wanted}")
    if not np.isfinite(value).all():
        raise ValueError(f"{call} returned non-finite values ({value.ravel()[~np.isfinite(value.ravel())][0]}) "
                         "for finite inputs")
    return value


@dataclass(frozen=True, eq=False)
class Loss:
    """A loss ``E(y, t)`` summed over patterns and output units, with its gradient.

    Parameters
    ----------
    name : str
        The name used in ``net.train(..., loss="mse")`` and scenario files.
    value : callable
        ``value(y, t)``: the total error over a ``(batch, n_outputs)`` block, summed over
        the last two axes (``axis=(-2, -1)``), so that with a leading ensemble axis
        ``(K, batch, n_outputs)`` it returns one total per member.
    gradient : callable
        ``gradient(y, t) -> dE/dy``, same shape as ``y``.
    fused : mapping of str to callable, optional
        Output deltas simplified for particular activations: ``fused[act](y, t) ->
        dE/dnet`` for a block of output neurons that all use activation ``act`` (for a
        group activation the block is one whole group, laid out ``(..., batch, k)``;
        for an elementwise one ``y`` and ``t`` come in the same, unspecified layout,
        ``t`` with length-1 axes where ``y`` has ensemble members). Used instead of
        ``gradient`` followed by the activation's derivative, because it stays finite
        when the outputs saturate (sigmoid + binary cross-entropy: ``y - t``). Reduce
        over ``axis=-1`` (a group's neurons) if at all.
    description : str, optional
        One line for ``neurosim list``.
    targets : (float, float), optional
        The closed range targets must lie in, e.g. ``(0.0, 1.0)`` for the
        cross-entropies (a target of 2 makes their error negative); None for any finite
        target. Training and error computations refuse targets outside it.
    min_outputs : int, default 1
        The fewest outputs the loss makes sense for (``cce``: 2, one per class; with a
        single output every pattern whose target is 0 would add nothing to the error).
    scalar : ScalarLoss, optional
        The loss as scalar expressions of one output, for the ``python`` and ``numba``
        backends (without it networks train on numpy with this loss).
    value_and_gradient : callable, optional
        ``value_and_gradient(y, t, out) -> value``, both in one go for a loss whose two
        share their work (mse: both come from ``y − t``): it writes ``dE/dy`` into
        ``out`` (an array shaped and laid out like ``y``: the engine passes the rows of
        its own ``dE/dy`` state, so the gradient is never copied) and returns the value.
        The numbers must be exactly the bits ``value`` and ``gradient`` give (the
        registry checks). Used by the engine where a pass needs both and no output has
        a fused delta.

    Notes
    -----
    The registry tries a loss on sample outputs and targets before accepting it
    (:meth:`check_contract`).
    """

    name: str
    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]
    fused: Mapping[str, Callable[[Array, Array], Array]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    description: str = ""
    targets: tuple[float, float] | None = None
    min_outputs: int = 1
    scalar: ScalarLoss | None = None
    value_and_gradient: Callable[[Array, Array, Array], Any] | None = None

    def check_targets(self, T: Array) -> None:
        """Refuse targets outside :attr:`targets`, and fewer outputs than :attr:`min_outputs`.

        Parameters
        ----------
        T : ndarray
            Targets ``(patterns, outputs)``.

        Raises
        ------
        DataError
            Naming the first target out of range, its pattern and output column.
        """
        if T.shape[-1] < self.min_outputs:
            raise DataError(f"the {self.name} loss needs at least {self.min_outputs} outputs and the network has "
                            f"{T.shape[-1]}; {self.description}")
        if self.targets is None:
            return
        low, high = self.targets
        bad = np.argwhere((T < low) | (T > high))
        if len(bad):
            r, c = bad[0]
            raise DataError(f"target {float(T[r, c])!r} at pattern {r}, output {c} is outside [{low:g}, {high:g}], the "
                            f"range the {self.name} loss is defined on; scale the targets into it or use another "
                            "loss (mse takes any targets)")

    def check_contract(self, members: bool = False) -> None:
        """Try the loss on sample outputs in (0, 1) and targets; raise if it breaks its contract.

        ``value`` must return one finite number for a ``(batch, outputs)`` block (and,
        with ``members``, one per member for ``(members, batch, outputs)``, as ensembles
        need); ``gradient`` and every fused delta a finite array of the outputs' shape.

        Parameters
        ----------
        members : bool, default False
            Check the ensemble layout only (the registry checks the single one; an
            ensemble run checks this before it starts).

        Raises
        ------
        ValueError
            Saying which function returned what; the registry turns it into a
            :class:`~neurosim.PluginError` naming the plugin.
        """
        low, high = self.targets if self.targets is not None else (0.0, 1.0)
        y = np.linspace(0.1, 0.9, 12).reshape(4, 3)
        y /= y.sum(axis=-1, keepdims=True)               # rows that sum to 1 suit softmax deltas too
        t = np.full((4, 3), low)
        t[np.arange(4), np.arange(4) % 3] = high
        if members:
            _returned("value(y, t) for y of shape (2, 4, 3) (two ensemble members)", self.value(np.stack([y, y]), t),
                      (2,))
            if self.value_and_gradient is not None:
                yy = np.stack([y, y])
                _returned("value_and_gradient(y, t, out) for y of shape (2, 4, 3) (two ensemble members)",
                          self.value_and_gradient(yy, t, np.empty_like(yy)), (2,))
            return
        _returned("value(y, t) for y of shape (4, 3)", self.value(y.copy(), t), ())
        _returned("gradient(y, t) for y of shape (4, 3)", self.gradient(y.copy(), t), (4, 3))
        for activation, delta in self.fused.items():
            _returned(f"fused[{activation!r}](y, t) for y of shape (4, 3)", delta(y.copy(), t), (4, 3))
        if self.value_and_gradient is not None:
            # in C order and in the engine's: its state is neuron-major, so y and out are
            # the transposes of C arrays, and the sums must not depend on that (on this
            # sample, summing the squares in the order of a Fortran-order out shows)
            rng = np.random.default_rng(1)
            yb, tb = rng.random((6, 7)) * 0.8 + 0.1, np.where(rng.random((6, 7)) < 0.5, low, high)
            for layout, yl, tl in (("", y, t), (" (Fortran order)", np.asfortranarray(yb), tb)):
                out = np.full_like(yl, np.nan)
                value = self.value_and_gradient(yl.copy(order="K"), tl, out)
                _returned(f"value_and_gradient(y, t, out) for y of shape {yl.shape}{layout}", value, ())
                if np.isnan(out).all():
                    raise ValueError("value_and_gradient(y, t, out) left out as it was given; write dE/dy into "
                                     "it (out[...] = ... or a ufunc's out=out), do not rebind the name")
                for what, plain, got, want in (
                        ("value", "value", value, self.value(yl.copy(order="K"), tl)),
                        ("gradient written into out", "gradient", out, self.gradient(yl.copy(order="K"), tl))):
                    if not np.array_equal(np.asarray(got), np.asarray(want)):
                        first = np.flatnonzero(np.asarray(got).ravel() != np.asarray(want).ravel())
                        at = int(first[0]) if len(first) else 0
                        raise ValueError(f"value_and_gradient(y, t, out) gave a {what} other than "
                                         f"{plain}(y, t) gives{layout} (entry {at}: "
                                         f"{float(np.asarray(got).ravel()[at])!r} against "
                                         f"{float(np.asarray(want).ravel()[at])!r}); it must return exactly the "
                                         "same numbers")
        if self.scalar is not None:
            terms = np.array([self.value(y[i:i + 1, j:j + 1].copy(), t[i:i + 1, j:j + 1]) for i in range(4)
                              for j in range(3)]).reshape(4, 3)
            _check_scalar("value", self.scalar.value, ("y", "t"), [y, t], terms)
            _check_scalar("gradient", self.scalar.gradient, ("y", "t"), [y, t], self.gradient(y.copy(), t))
            for activation, template in self.scalar.fused.items():
                if activation in self.fused:
                    _check_scalar(f"fused[{activation!r}]", template, ("y", "t"), [y, t],
                                  self.fused[activation](y.copy(), t))

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


@dataclass(frozen=True, eq=False)
class Initializer:
    """A named way to draw initial weights for many edges at once.

    Parameters
    ----------
    name : str
        The name used in ``Network(init="uniform")`` and scenario files.
    draw : callable
        ``draw(rng, fan_in, fan_out, **options) -> weights``: ``rng`` is a
        :class:`numpy.random.Generator`; ``fan_in`` and ``fan_out`` are integer arrays
        with one entry per edge (the destination's number of non-bias inputs and the
        source's number of outgoing edges); returns one float per edge.
    description : str, optional
        One line for ``neurosim list``.
    """

    name: str
    draw: Callable[..., Array]
    description: str = ""

    def __call__(self, rng: np.random.Generator, fan_in: Array, fan_out: Array, **options: Any) -> Array:
        """Draw one weight per edge; see ``draw``."""
        return self.draw(rng, fan_in, fan_out, **options)

    def __repr__(self) -> str:
        return f"Initializer({self.name!r})"


@dataclass(frozen=True, eq=False)
class Patterns:
    """Training or test patterns: inputs, targets and optional names.

    Parameters
    ----------
    inputs : ndarray
        ``(n_patterns, n_inputs)`` float array.
    targets : ndarray
        ``(n_patterns, n_outputs)`` float array.
    input_names, target_names : list of str, optional
        Column names (a CSV header, the people and relationships of the family trees).
    labels : list of str, optional
        One name per pattern (``"Colin father"``), for reports.
    """

    inputs: Array
    targets: Array
    input_names: list[str] | None = None
    target_names: list[str] | None = None
    labels: list[str] | None = None

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, index) -> Patterns:
        """The patterns at ``index`` (an index array or slice), names kept."""
        index = np.asarray(index) if not isinstance(index, slice) else index
        labels = None if self.labels is None else list(np.asarray(self.labels, dtype=object)[index])
        return Patterns(self.inputs[index], self.targets[index], self.input_names, self.target_names, labels)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A named generator of patterns (``xor``, ``parity``, ``two_spirals``, ...).

    Parameters
    ----------
    name : str
        The name used in scenario files (``[data] dataset = "parity"``).
    generate : callable
        ``generate(**options) -> Patterns``. Deterministic: the same options give the
        same patterns (datasets that need randomness take a ``seed`` option).
    description : str, optional
        One line for ``neurosim list``, with the source it follows.
    """

    name: str
    generate: Callable[..., Patterns]
    description: str = ""

    def __call__(self, **options: Any) -> Patterns:
        """Generate the patterns; see ``generate``."""
        return self.generate(**options)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r})"


@dataclass(frozen=True, eq=False)
class Measure:
    """A named number measured on a trained network, for scenario expectations.

    Parameters
    ----------
    name : str
        The ``quantity`` named in an ``[[expect]]`` table (``"accuracy"``).
    compute : callable
        ``compute(run, **options) -> float``; ``run`` gives ``network``, ``train`` and
        ``test`` (:class:`Patterns`, test may be None), ``history`` and ``epochs``
        (epochs run). Options are the expectation's extra keys.
    description : str, optional
        One line for ``neurosim list`` and docs.
    """

    name: str
    compute: Callable[..., float]
    description: str = ""

    def __call__(self, run: Any, **options: Any) -> float:
        """Measure; see ``compute``."""
        return float(self.compute(run, **options))

    def __repr__(self) -> str:
        return f"Measure({self.name!r})"
