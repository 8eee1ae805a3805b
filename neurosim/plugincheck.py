"""Checking a plugin's numbers before anything trains with it: ``neurosim check-plugin``.

The registry (:mod:`neurosim.plugins`) only tries a plugin's functions once, for shape and
finiteness; a derivative that is simply wrong trains without a warning and learns badly.
:func:`check_plugin` compares what a plugin says with what its own functions do: each
activation's ``derivative`` (or vector-Jacobian product, for group activations such as
softmax) against central finite differences of its ``function``, and each loss's
``gradient`` and fused output deltas against central finite differences of its ``value``,
in float64 and in float32 (with a looser tolerance), over several array shapes laid out the
way the engine lays them out, checking on the way that every output keeps the input's
shape and dtype, stays finite, and leaves its input unchanged. Inputs where the function
itself is not differentiable (relu at 0; its one-sided differences disagree) are skipped,
not counted against it. A wrong derivative is reported with the numbers of its worst input
(``analytic 0.5 vs finite-difference 0.25 at net = -1``). Initialisers and datasets get a
light check (the right number of finite values, the same ones again from the same seed);
measures, optimisers and stop criteria have nothing to differentiate. The result is a
:class:`PluginReport`; the command line prints it, and ``neurosim run --check-plugins``
refuses to train when it has a failure.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import PluginError, closest, with_article
from .functions import Activation, Dataset, Initializer, Loss, Patterns
from .plugins import CLASS_KINDS, KINDS, Registry, load_plugin, make_registry

__all__ = ["check_plugin", "check_plugins", "PluginReport", "Check", "Subject", "TOLERANCES", "STEPS"]

#: The dtypes every activation and loss is checked in.
DTYPES = ("float64", "float32")

#: A derivative passes where ``|analytic - numeric| <= tolerance * max(1, |numeric|)``.
TOLERANCES: Mapping[str, float] = MappingProxyType({"float64": 1e-5, "float32": 1e-2})

#: Central differences step by ``h = step * max(1, |x|)`` around each input ``x``: small enough
#: that where only the second derivative jumps (softsign at 0, Huber at its corner) the
#: difference is still within tolerance (it is off by about a quarter of the jump times h),
#: large enough that rounding stays far below it.
STEPS: Mapping[str, float] = MappingProxyType({"float64": 1e-6, "float32": 1e-3})

#: An input is skipped as not differentiable when the forward and backward one-sided
#: differences there (in float64, with the dtype's step) differ by more than this times
#: ``max(1, |central difference|)``: relu at 0 differs by 1, a smooth function by ~f''·h.
KINK = 0.1

#: Net inputs far out, where an activation must stay finite (exp overflows float32 at 89).
LARGE = (-50.0, -20.0, -8.0, 8.0, 20.0, 50.0)

#: Kind names a ``kind:name`` target may use, mapped to the registry's kinds.
KIND_ALIASES = {
    "activation": "activation", "activations": "activation",
    "loss": "loss", "losses": "loss",
    "initializer": "initializer", "initializers": "initializer",
    "dataset": "dataset", "datasets": "dataset",
    "measure": "measure", "measures": "measure",
    "optimizer": "optimizer", "optimizers": "optimizer",
    **{f"stop{sep}{word}": "stop criterion" for sep in (" ", "_", "-") for word in ("criterion", "criteria")},
}


@dataclass(frozen=True)
class Check:
    """The outcome of one check of one registered object (in one dtype).

    Attributes
    ----------
    kind, name : str
        What was checked (``"activation"``, ``"softsign"``).
    what : str
        The function checked: ``"function"``, ``"derivative"``, ``"vjp"``, ``"large inputs"``,
        ``"value"``, ``"gradient"``, ``"fused['sigmoid']"``, ``"draw"``, ``"generate"`` or
        ``"registered"`` (a kind with nothing to differentiate).
    dtype : str or None
        ``"float64"`` or ``"float32"``; None for checks that have no dtype.
    passed : bool
    detail : str
        One line: what was compared and, when it failed, the numbers.
    analytic, numeric : float or None
        At the worst input of a finite-difference comparison: the plugin's value and the
        central difference.
    at : str or None
        That input, as text (``"net = -1"``).
    error : float or None
        The worst ``|analytic - numeric| / max(1, |numeric|)``.
    points, skipped : int
        Inputs compared, and inputs skipped where the function is not differentiable.
    """

    kind: str
    name: str
    what: str
    dtype: str | None
    passed: bool
    detail: str
    analytic: float | None = None
    numeric: float | None = None
    at: str | None = None
    error: float | None = None
    points: int = 0
    skipped: int = 0

    def line(self) -> str:
        """The check as one line: ``derivative (float64): ...``."""
        return f"{self.what}{f' ({self.dtype})' if self.dtype else ''}: {self.detail}"


@dataclass(frozen=True)
class Subject:
    """One registered object a report covers: its kind, name and where it came from.

    Attributes
    ----------
    kind, name : str
    plugin : str
        The plugin that provides it, as shown (a file path for a plugin loaded from a
        ``.py`` file, else the registered plugin name).
    """

    kind: str
    name: str
    plugin: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name!r} from {self.plugin}"


@dataclass(frozen=True)
class PluginReport:
    """What :func:`check_plugin` found: every object checked and every check made.

    Attributes
    ----------
    subjects : tuple of Subject
        The objects checked, in order.
    checks : tuple of Check
        Every check, grouped by subject.

    Examples
    --------
    >>> report = check_plugin("activation:tanh")
    >>> report.passed
    True
    >>> [c.what for c in report.checks if c.dtype == "float64"]
    ['function', 'derivative', 'large inputs']
    """

    subjects: tuple[Subject, ...]
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def of(self, kind: str, name: str) -> list[Check]:
        """The checks of ``kind`` ``name``.

        Parameters
        ----------
        kind, name : str
            As in the subjects (``"loss"``, ``"huber"``).

        Returns
        -------
        list of Check
        """
        return [c for c in self.checks if c.kind == kind and c.name == name]

    def text(self, verbose: bool = False) -> str:
        """The report as ``neurosim check-plugin`` prints it.

        Parameters
        ----------
        verbose : bool, default False
            Give every check a line; by default an object that passed gets one line and
            one that failed a line per failed check.

        Returns
        -------
        str
        """
        lines = []
        for s in self.subjects:
            checks = self.of(s.kind, s.name)
            bad = [c for c in checks if not c.passed]
            if not bad and not verbose:
                lines.append(f"{s}: ok ({_summary(checks)})")
                continue
            lines.append(f"{s}: {'FAILED' if bad else 'ok'}")
            lines += [f"  {'FAILED ' if not c.passed else ''}{c.line()}" for c in (checks if verbose else bad)]
            good = [c for c in checks if c.passed]
            if good and not verbose:
                lines.append(f"  passed: {_summary(good)}")
        failed = sum(1 for s in self.subjects if any(not c.passed for c in self.of(s.kind, s.name)))
        n = len(self.subjects)
        lines.append(f"{n} checked, {failed} failed" if failed else f"{n} checked, all passed")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def raise_if_failed(self, doing: str = "") -> None:
        """Raise :class:`~neurosim.PluginError` listing the failures, if there are any.

        Parameters
        ----------
        doing : str, optional
            What is refused, for the message (``"not training scenario.toml"``).

        Raises
        ------
        PluginError
            One line per failed check, naming the object and its plugin.
        """
        bad = self.failures
        if not bad:
            return
        subject = {(s.kind, s.name): s for s in self.subjects}
        lines = [f"{subject[c.kind, c.name]}: {c.line()}" for c in bad]
        head = f"plugin check failed{f', {doing}' if doing else ''}"
        raise PluginError(f"{head}: " + "; ".join(lines))


def _summary(checks: list[Check]) -> str:
    """``derivative, function in float64 and float32; worst difference 2.2e-11``."""
    whats = list(dict.fromkeys(c.what for c in checks))
    dtypes = list(dict.fromkeys(c.dtype for c in checks if c.dtype))
    text = ", ".join(whats) + (f" in {' and '.join(dtypes)}" if dtypes else "")
    errors = [c.error for c in checks if c.error is not None and c.dtype == "float64"]
    if errors:
        text += f"; worst float64 difference {max(errors):.2g}"
    return text


# --- the public entry points ----------------------------------------------------------------


def check_plugin(target: Any, *, registry: Registry | None = None, base_dir: str | os.PathLike | None = None,
                 seed: int = 0) -> PluginReport:
    """Check one plugin, or one registered object, against finite differences.

    Parameters
    ----------
    target : str, os.PathLike or object
        What to check:

        * a registered name (``"softsign"``; every kind that has it), or ``kind:name``
          (``"loss:huber"``, ``"activation:softsign"``);
        * a plugin: a path to a ``.py`` file (relative to ``base_dir``), a dotted module
          name, a registered plugin's name (its entry point, ``"neurosim-softsign"``) or
          its distribution's, a module or plugin object — everything it provides;
        * an :class:`~neurosim.Activation`, :class:`~neurosim.Loss` (or any registered
          record or class) itself.
    registry : Registry, optional
        Where names are looked up, and where a loss's fused deltas find their activations;
        by default the installed plugins (a plugin given by path or object is added to
        them when the registry does not hold it).
    base_dir : str or Path, optional
        Folder relative plugin paths are taken from (a scenario's folder).
    seed : int, default 0
        Seed of the sample inputs: the same seed, the same report.

    Returns
    -------
    PluginReport

    Raises
    ------
    PluginError
        The target names nothing registered, no installed plugin, and no file or module
        that can be loaded as a plugin (the message says which names exist), or the plugin
        cannot be loaded.

    Examples
    --------
    >>> import numpy as np
    >>> wrong = Activation("softsign", lambda x: x / (1 + np.abs(x)),
    ...                    derivative=lambda x, y: 1 / (1 + np.abs(x)))   # forgot the square
    >>> report = check_plugin(wrong)
    >>> report.passed
    False
    >>> print(report.failures[0].detail)     # doctest: +ELLIPSIS
    analytic 0.5 vs finite-difference 0.25 at net = -1: derivative(net, y) does not match ...
    """
    return check_plugins([target], registry=registry, base_dir=base_dir, seed=seed)


def check_plugins(targets: Iterable[Any], *, registry: Registry | None = None,
                  base_dir: str | os.PathLike | None = None, seed: int = 0) -> PluginReport:
    """Check several targets (see :func:`check_plugin`) into one report; each object once.

    Parameters
    ----------
    targets : iterable
        Targets as :func:`check_plugin` takes them.
    registry, base_dir, seed
        As for :func:`check_plugin`.

    Returns
    -------
    PluginReport
    """
    if isinstance(targets, (str, bytes, os.PathLike)):
        raise PluginError(f"targets must be a list of plugins or names, not the single {targets!r}; write "
                          f"[{targets!r}] or call check_plugin")
    registry = make_registry() if registry is None else registry
    found: dict[tuple[str, str], tuple[Subject, Any, Registry]] = {}
    for target in targets:
        for subject, obj, reg in _resolve(target, registry, base_dir):
            found.setdefault((subject.kind, subject.name), (subject, obj, reg))
    checks: list[Check] = []
    for subject, obj, reg in found.values():
        checks += _check_object(subject, obj, reg, np.random.default_rng(seed))
    return PluginReport(tuple(s for s, _o, _r in found.values()), tuple(checks))


# --- what a target names -------------------------------------------------------------------


def _shown(registry: Registry, owner: str) -> str:
    """How a plugin is named in a report: a file plugin by its path, others by name."""
    plugin = registry.manager.get_plugin(owner)
    path = getattr(plugin, "__file__", None)
    if owner.startswith("neurosim_user_plugin_") and path:
        relative = os.path.relpath(path)
        return relative if not relative.startswith("..") else path
    return owner


def _provided(registry: Registry, owner: str) -> list[tuple[Subject, Any, Registry]]:
    """Everything the plugin registered as ``owner`` provides."""
    shown = _shown(registry, owner)
    return [(Subject(kind, name, shown), registry.get(kind, name), registry)
            for kind in KINDS for name in registry.names(kind) if registry.owner(kind, name) == owner]


def _looks_like_path(target: Any) -> bool:
    return isinstance(target, os.PathLike) or (isinstance(target, str) and (
        target.endswith(".py") or "/" in target or "\\" in target))


def _from_plugin(spec: Any, registry: Registry, base_dir: Any) -> list[tuple[Subject, Any, Registry]]:
    """Everything a plugin (path, dotted name, module or object) provides, loading it into a
    registry of its own (with the installed plugins) when ``registry`` does not hold it."""
    obj = load_plugin(spec, base_dir)
    if not registry.manager.is_registered(obj):
        registry = make_registry([obj])
    owner = registry.manager.get_name(obj)
    items = _provided(registry, owner)
    if not items:
        hooks = [h.name for h in registry.manager.get_hookcallers(obj) or []]
        raise PluginError(f"plugin {_shown(registry, owner)!r} provides nothing to check (it implements "
                          f"{', '.join(hooks) or 'no hook'}); check-plugin checks what plugins register")
    return items


def _distribution_plugins(registry: Registry) -> dict[str, list[str]]:
    """``{normalised distribution name: [plugin names]}`` of the entry-point plugins."""
    out: dict[str, list[str]] = {}
    for plugin, dist in registry.manager.list_plugin_distinfo():
        out.setdefault(_normalise(dist.project_name), []).append(registry.manager.get_name(plugin))
    return out


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _resolve(target: Any, registry: Registry, base_dir: Any) -> list[tuple[Subject, Any, Registry]]:
    """The objects ``target`` stands for, each with its subject and the registry it lives in."""
    for kind, (cls, _hook) in KINDS.items():
        if isinstance(target, cls) or (kind in CLASS_KINDS and isinstance(target, type) and issubclass(target, cls)):
            return [(Subject(kind, str(target.name), "the object given"), target, registry)]
    if _looks_like_path(target) or not isinstance(target, str):
        return _from_plugin(target, registry, base_dir)
    head, sep, name = target.partition(":")
    if sep and head.strip().lower() in KIND_ALIASES:
        kind = KIND_ALIASES[head.strip().lower()]
        name = name.strip()
        obj = registry.get(kind, name)
        return [(Subject(kind, name, _shown(registry, registry.owner(kind, name))), obj, registry)]
    named = [(kind, target) for kind in KINDS if target in registry.names(kind)]
    if named:
        return [(Subject(kind, n, _shown(registry, registry.owner(kind, n))), registry.get(kind, n), registry)
                for kind, n in named]
    plugin_names = [n for n, _p in registry.manager.list_name_plugin()]
    if target in plugin_names:
        return _provided(registry, target)
    by_dist = _distribution_plugins(registry)
    if _normalise(target) in by_dist:
        return [item for owner in by_dist[_normalise(target)] for item in _provided(registry, owner)]
    try:
        importable = importlib.util.find_spec(target) is not None
    except (ImportError, ValueError):
        importable = False
    if importable:
        return _from_plugin(target, registry, base_dir)
    guess = closest(target, {n for kind in KINDS for n in registry.names(kind)} | set(plugin_names))
    raise PluginError(f"nothing to check called {target!r}: it is not a registered name, an installed plugin, "
                      f"a module that can be imported or a .py file; {f'did you mean {guess!r}? ' if guess else ''}"
                      "neurosim list shows every registered name and neurosim plugins every plugin (give "
                      "kind:name, e.g. activation:softsign, or the path of a .py file)")


# --- calling a plugin's functions safely --------------------------------------------------------


class _Failed(Exception):
    """A check failed; the message says how (raised inside the checks, caught per check)."""


def _call(what: str, fn: Callable, *args: Any) -> Any:
    """``fn(*args)`` with numpy's warnings silenced (non-finite results are checked instead),
    the plugin's own exceptions turned into a failure naming the call."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args)
    except Exception as exc:
        raise _Failed(f"{what} raised {type(exc).__name__}: {exc}") from None


def _array(what: str, value: Any, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """``value`` when it is a finite array of ``shape`` and ``dtype``; else a failure."""
    if not isinstance(value, np.ndarray):
        raise _Failed(f"{what} returned {type(value).__name__} {value!r:.60}, not a numpy array")
    if value.shape != shape:
        raise _Failed(f"{what} returned an array of shape {value.shape}; it must keep the input's shape {shape}")
    if value.dtype != dtype:
        raise _Failed(f"{what} returned {value.dtype} for {dtype} input; keep the input's dtype (compute with the "
                      "input's arrays, np.ones_like(x), x.dtype.type(...))")
    _finite(what, value)
    return value


def _finite(what: str, value: Any) -> None:
    bad = ~np.isfinite(np.asarray(value, dtype=float))
    if bad.any():
        raise _Failed(f"{what} returned non-finite values ({np.asarray(value, dtype=float)[bad].ravel()[0]}) "
                      "for finite inputs")


def _unchanged(what: str, before: np.ndarray, after: np.ndarray) -> None:
    if not np.array_equal(before, after):
        raise _Failed(f"{what} changed its input in place; compute into a new array (the engine reuses its input)")


def _num(value: float) -> str:
    return f"{float(value):.4g}"


def _inp(value: Any) -> str:
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return f"{float(value):.6g}"
    return "[" + ", ".join(f"{float(v):.6g}" for v in value.ravel()) + "]"


def _guarded(kind: str, name: str, what: str, dtype: str | None, run: Callable[[], Check]) -> Check:
    try:
        return run()
    except _Failed as exc:
        return Check(kind, name, what, dtype, False, str(exc))


# --- finite differences ---------------------------------------------------------------------------


@dataclass
class _Worst:
    """The worst disagreement of a comparison so far, over shapes."""

    ratio: float = -1.0
    error: float = 0.0
    analytic: float = 0.0
    numeric: float = 0.0
    at: str = ""
    shape: tuple = ()
    points: int = 0
    skipped: int = 0

    def update(self, analytic: np.ndarray, numeric: np.ndarray, smooth: np.ndarray, tol: float,
               describe: Callable[[int], str], shape: tuple) -> None:
        a, n = np.asarray(analytic, float).ravel(), np.asarray(numeric, float).ravel()
        ok = np.asarray(smooth, bool).ravel()
        self.points += int(ok.sum())
        self.skipped += int((~ok).sum())
        if not ok.any():
            return
        err = np.where(ok, np.abs(a - n) / np.maximum(1.0, np.abs(n)), -1.0)
        k = int(np.argmax(err))
        if err[k] / tol > self.ratio:
            self.ratio, self.error, self.analytic, self.numeric = err[k] / tol, err[k], a[k], n[k]
            self.at, self.shape = describe(k), shape

    def check(self, kind: str, name: str, what: str, dtype: str, call: str, tol: float) -> Check:
        where = f"{self.points} inputs" + (f" ({self.skipped} more skipped: not differentiable there)"
                                           if self.skipped else "")
        if self.points == 0:
            return Check(kind, name, what, dtype, False, f"no input was differentiable ({self.skipped} tried); "
                         "nothing could be compared", skipped=self.skipped)
        common = dict(analytic=self.analytic, numeric=self.numeric, at=self.at, error=self.error,
                      points=self.points, skipped=self.skipped)
        if self.ratio <= 1.0:
            return Check(kind, name, what, dtype, True, f"{call} agrees with central finite differences over "
                         f"{where} (worst difference {self.error:.2g}, tolerance {tol:g})", **common)
        return Check(kind, name, what, dtype, False,
                     f"analytic {_num(self.analytic)} vs finite-difference {_num(self.numeric)} at {self.at}: "
                     f"{call} does not match central differences (the worst of {where}, in an array of shape "
                     f"{self.shape}; difference {self.error:.3g} x max(1, |finite difference|), tolerance {tol:g})",
                     **common)


def _steps(x: np.ndarray, dtype: str) -> np.ndarray:
    return STEPS[dtype] * np.maximum(1.0, np.abs(np.asarray(x, float)))


def _shifted(x64: np.ndarray, h: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x ± h`` rounded to ``dtype``, and the exact distance between them."""
    xp, xm = (x64 + h).astype(dtype), (x64 - h).astype(dtype)
    return xp, xm, xp.astype(float) - xm.astype(float)


def _smooth(f64: Callable[[np.ndarray], np.ndarray], x64: np.ndarray, h: np.ndarray, central: np.ndarray
            ) -> np.ndarray:
    """Where ``f64`` (elementwise in its input) is differentiable: its one-sided differences agree."""
    f0, fp, fm = f64(x64), f64(x64 + h), f64(x64 - h)
    return np.abs((fp - f0) - (f0 - fm)) / h <= KINK * np.maximum(1.0, np.abs(central))


def _fd_positions(total: Callable[[np.ndarray, str], np.ndarray], x: np.ndarray, dtype: str, axes: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of ``total`` (a function of the whole array returning one number per
    leading index) with respect to each of ``x``'s last ``axes`` positions, one at a time
    (all leading indices at once), and where ``total`` is differentiable."""
    x64 = x.astype(float)
    h = _steps(x64, dtype)
    central = np.empty_like(x64)
    smooth = np.empty(x64.shape, bool)
    t0 = np.asarray(total(x64, "float64"), float)
    for pos in np.ndindex(x64.shape[-axes:]):
        index = (Ellipsis, *pos)
        step = np.zeros_like(x64)
        step[index] = h[index]
        xp, xm, dist = _shifted(x64, step, dtype)
        c = (np.asarray(total(xp, dtype), float) - np.asarray(total(xm, dtype), float)) / dist[index]
        tp = np.asarray(total(x64 + step, "float64"), float)
        tm = np.asarray(total(x64 - step, "float64"), float)
        c64 = (tp - tm) / (2 * h[index])
        central[index] = c
        smooth[index] = np.abs((tp - t0) - (t0 - tm)) / h[index] <= KINK * np.maximum(1.0, np.abs(c64))
    return central, smooth


# --- activations ------------------------------------------------------------------------------------


def _check_activation(s: Subject, act: Activation, rng: np.random.Generator) -> list[Check]:
    checks = []
    if act.group:
        nets = [rng.uniform(-3.0, 3.0, shape) for shape in ((6, 3), (4, 5), (2, 3, 4))]
        grads = [rng.normal(size=n.shape) for n in nets]
    else:
        base = np.concatenate([np.linspace(-3.0, 3.0, 25), rng.uniform(-4.0, 4.0, 23)])
        grads = [rng.normal(size=48)]
    for dtype in DTYPES:
        dt = np.dtype(dtype)
        if act.group:
            samples = [n.astype(dt) for n in nets]
            checks.append(_guarded(s.kind, s.name, "function", dtype, lambda: _group_function(s, act, samples, dt)))
            checks.append(_guarded(s.kind, s.name, "vjp", dtype,
                                   lambda: _group_vjp(s, act, samples, [g.astype(dt) for g in grads], dtype)))
        else:
            flat = base.astype(dt)
            checks.append(_guarded(s.kind, s.name, "function", dtype, lambda: _elementwise_function(s, act, flat)))
            what = "derivative" if act.derivative is not None else "vjp"
            checks.append(_guarded(s.kind, s.name, what, dtype,
                                   lambda: _elementwise_derivative(s, act, flat, grads[0].astype(dt), what)))
        checks.append(_guarded(s.kind, s.name, "large inputs", dtype, lambda: _large(s, act, dt)))
    return checks


#: The layouts an elementwise activation meets: a flat block, neuron-major (k, batch), and an
#: ensemble's (k, K, batch); 48 inputs each.
ELEMENTWISE_SHAPES = ((48,), (4, 12), (2, 3, 8))


def _elementwise_function(s: Subject, act: Activation, flat: np.ndarray) -> Check:
    dtype = flat.dtype
    ref = None
    for shape in ELEMENTWISE_SHAPES:
        net = flat.reshape(shape).copy()
        kept = net.copy()
        call = f"function(net) for net of shape {shape} ({dtype})"
        y = _array(call, _call(call, act.function, net), shape, dtype)
        _unchanged(call, kept, net)
        ref = y.ravel() if ref is None else ref
        if not np.allclose(y.ravel(), ref, rtol=_same_rtol(dtype), atol=0):
            k = int(np.argmax(np.abs(y.ravel() - ref)))
            raise _Failed(f"{call} gives {_num(y.ravel()[k])} at net = {_inp(flat[k])} where shape "
                          f"{ELEMENTWISE_SHAPES[0]} gives {_num(ref[k])}; an elementwise activation must not depend "
                          "on the layout (give group=True and a vjp for one that couples neurons)")
        if len(shape) == 1:
            half = shape[0] // 2
            parts = [_array(call, _call(call, act.function, part.copy()), part.shape, dtype)
                     for part in (net[:half], net[half:])]
            if not np.allclose(np.concatenate(parts), y, rtol=_same_rtol(dtype), atol=0):
                k = int(np.argmax(np.abs(np.concatenate(parts) - y)))
                raise _Failed(f"function(net) gives {_num(y[k])} at net = {_inp(net[k])} in a block of {shape[0]} "
                              f"but {_num(np.concatenate(parts)[k])} in a block of {half}; an elementwise activation "
                              "must work on each net input alone (give group=True and a vjp for one that couples "
                              "neurons)")
        if len(shape) == 2:
            yt = _array(f"function(net.T) for net of shape {shape[::-1]}", _call(call, act.function, net.T.copy()),
                        shape[::-1], dtype)
            if not np.allclose(yt.T, y, rtol=_same_rtol(dtype), atol=0):
                raise _Failed("function(net) of the transposed block is not the transpose of function(net); an "
                              "elementwise activation must not depend on the layout")
    return Check(s.kind, s.name, "function", str(dtype), True,
                 f"keeps shape and dtype, finite, elementwise in shapes {', '.join(map(str, ELEMENTWISE_SHAPES))}")


def _same_rtol(dtype: np.dtype) -> float:
    return 1e-12 if dtype == np.float64 else 1e-5


def _elementwise_derivative(s: Subject, act: Activation, flat: np.ndarray, g: np.ndarray, what: str) -> Check:
    dtype = str(flat.dtype)
    x64 = flat.astype(float)
    h = _steps(x64, dtype)
    xp, xm, dist = _shifted(x64, h, dtype)
    f = lambda v: _call(f"function(net) ({v.dtype})", act.function, v)  # noqa: E731
    central = (np.asarray(f(xp), float) - np.asarray(f(xm), float)) / dist
    c64 = (np.asarray(f(x64 + h), float) - np.asarray(f(x64 - h), float)) / (2 * h)
    smooth = _smooth(lambda v: np.asarray(f(v), float), x64, h, c64)
    worst = _Worst()
    call = ""
    for shape in ELEMENTWISE_SHAPES:
        net = flat.reshape(shape).copy()
        y = _array(f"function(net) for net of shape {shape}", f(net.copy()), shape, flat.dtype)
        gs = g.reshape(shape)
        kept = (net.copy(), y.copy())
        call = "derivative(net, y)" if what == "derivative" else "vjp(net, y, dE_dy)"
        shown = f"{call} for net of shape {shape} ({dtype})"
        args = (net, y) if what == "derivative" else (net, y, gs)
        value = _array(shown, _call(shown, act.derivative if what == "derivative" else act.vjp, *args), shape,
                       flat.dtype)
        _unchanged(f"{call} for net of shape {shape}", kept[0], net)
        _unchanged(f"{call} for net of shape {shape} (its y)", kept[1], y)
        numeric = central.reshape(shape) * (1.0 if what == "derivative" else gs.astype(float))
        worst.update(value, numeric, smooth.reshape(shape), TOLERANCES[dtype],
                     lambda k, shape=shape: f"net = {_inp(net.ravel()[k])}", shape)
    return worst.check(s.kind, s.name, what, dtype, call, TOLERANCES[dtype])


def _group_function(s: Subject, act: Activation, samples: list[np.ndarray], dtype: np.dtype) -> Check:
    for net in samples:
        kept = net.copy()
        call = f"function(net) for net of shape {net.shape} ({dtype})"
        y = _array(call, _call(call, act.function, net), net.shape, dtype)
        _unchanged(call, kept, net)
        rows = net.reshape(-1, net.shape[-1])
        each = np.concatenate([_array(call, _call(call, act.function, rows[i:i + 1].copy()), (1, net.shape[-1]),
                                      dtype) for i in range(len(rows))])
        if not np.allclose(each, y.reshape(each.shape), rtol=_same_rtol(dtype), atol=1e-300):
            i = int(np.argmax(np.abs(each - y.reshape(each.shape)).max(axis=1)))
            raise _Failed(f"{call}: row {i} ({_inp(rows[i])}) gives {_inp(y.reshape(each.shape)[i])} in the block "
                          f"but {_inp(each[i])} alone; a group activation normalises over the last axis only "
                          "(axis=-1), each row on its own")
    return Check(s.kind, s.name, "function", str(dtype), True, "keeps shape and dtype, finite, each row (group) on "
                 f"its own in shapes {', '.join(str(n.shape) for n in samples)}")


def _group_vjp(s: Subject, act: Activation, samples: list[np.ndarray], grads: list[np.ndarray], dtype: str
               ) -> Check:
    worst = _Worst()
    call = "vjp(net, y, dE_dy)"
    for net, g in zip(samples, grads):
        f = lambda v: _call(f"function(net) ({v.dtype})", act.function, v)  # noqa: E731
        y = _array(f"function(net) for net of shape {net.shape}", f(net.copy()), net.shape, net.dtype)
        kept = (net.copy(), y.copy(), g.copy())
        value = _call(f"{call} for net of shape {net.shape} ({dtype})", act.vjp, net, y, g)
        value = _array(f"{call} for net of shape {net.shape} ({dtype})", value, net.shape, net.dtype)
        for before, after, which in zip(kept, (net, y, g), ("net", "y", "dE_dy")):
            _unchanged(f"{call} (its {which})", before, after)
        g64 = g.astype(float)
        numeric, smooth = _fd_positions(lambda v, _d: (g64 * np.asarray(f(v), float)).sum(axis=-1), net, dtype, 1)
        worst.update(value, numeric, smooth, TOLERANCES[dtype],
                     lambda k, net=net, g=g: _row_at(net, g, k), net.shape)
    return worst.check(s.kind, s.name, "vjp", dtype, call, TOLERANCES[dtype])


def _row_at(net: np.ndarray, g: np.ndarray, k: int) -> str:
    width = net.shape[-1]
    row, col = divmod(k, width)
    return (f"net = {_inp(net.reshape(-1, width)[row])}, dE/dy = {_inp(g.reshape(-1, width)[row])} "
            f"(component {col})")


def _large(s: Subject, act: Activation, dtype: np.dtype) -> Check:
    values = np.array(LARGE)
    net = (np.stack([values, values[::-1], np.zeros_like(values)]) if act.group else values.reshape(2, 3)
           ).astype(dtype)
    call = f"function(net) for net = {_inp(values)} ({dtype})"
    y = _array(call, _call(call, act.function, net.copy()), net.shape, dtype)
    if act.vjp is not None:
        call = f"vjp(net, y, dE_dy) for net = {_inp(values)}"
        _array(call, _call(call, act.vjp, net.copy(), y, np.ones_like(net)), net.shape, dtype)
    else:
        call = f"derivative(net, y) for net = {_inp(values)}"
        _array(call, _call(call, act.derivative, net.copy(), y), net.shape, dtype)
    return Check(s.kind, s.name, "large inputs", str(dtype), True,
                 f"finite, shape and dtype kept for net inputs {_inp(values)}")


# --- losses ---------------------------------------------------------------------------------------


def _loss_shapes(loss: Loss) -> list[tuple[int, int]]:
    shapes = [(b, n) for b, n in ((4, 3), (6, 2), (5, 1)) if n >= loss.min_outputs]
    return shapes or [(3, loss.min_outputs)]


def _loss_samples(loss: Loss, shape: tuple, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and targets for ``loss``: inside its target range when it has one, else in [-2, 2]."""
    if loss.targets is not None:
        low, high = loss.targets
        span = high - low
        y = rng.uniform(low + 0.1 * span, high - 0.1 * span, shape)
        t = rng.choice([low, high, low + 0.3 * span], size=shape)
    else:
        y, t = rng.uniform(-2.0, 2.0, shape), rng.uniform(-1.5, 1.5, shape)
    return y, t


def _check_loss(s: Subject, loss: Loss, registry: Registry, rng: np.random.Generator) -> list[Check]:
    shapes = _loss_shapes(loss)
    # per shape: outputs and targets, and a second member's outputs for the ensemble layout
    pairs = [(_loss_samples(loss, shape, rng), _loss_samples(loss, shape, rng)[0]) for shape in shapes]
    nets = [rng.uniform(-3.0, 3.0, (2, *shape)) for shape in shapes]
    checks = []
    for dtype in DTYPES:
        dt = np.dtype(dtype)
        cast = [((y.astype(dt), t.astype(dt)), y2.astype(dt)) for (y, t), y2 in pairs]
        checks.append(_guarded(s.kind, s.name, "value", dtype, lambda: _loss_value(s, loss, cast)))
        checks.append(_guarded(s.kind, s.name, "gradient", dtype, lambda: _loss_gradient(s, loss, cast, dtype)))
        for act_name, delta in loss.fused.items():
            what = f"fused[{act_name!r}]"
            if act_name not in registry.names("activation"):
                checks.append(Check(s.kind, s.name, what, dtype, True, f"not checked: activation {act_name!r} is "
                                    "not registered here (load its plugin to check this delta)"))
                continue
            act = registry.activation(act_name)
            targets = [t for (_y, t), _y2 in cast]
            checks.append(_guarded(s.kind, s.name, what, dtype,
                                   lambda: _loss_fused(s, loss, act, delta, what, nets, targets, dt)))
    return checks


def _value(loss: Loss, y: np.ndarray, t: np.ndarray) -> float:
    call = f"value(y, t) for y of shape {y.shape} ({y.dtype})"
    v = _call(call, loss.value, y, t)
    if np.ndim(v) != 0 or np.asarray(v).dtype.kind not in "fiu":
        raise _Failed(f"{call} returned {v!r:.60}; it must return one number (the total over axis=(-2, -1))")
    _finite(call, v)
    return float(v)


def _loss_value(s: Subject, loss: Loss, cast: list) -> Check:
    for (y, t), y2 in cast:
        kept = (y.copy(), t.copy())
        single = [_value(loss, y, t), _value(loss, y2, t)]
        _unchanged("value(y, t)", kept[0], y)
        _unchanged("value(y, t) (its t)", kept[1], t)
        call = f"value(y, t) for y of shape (2, {y.shape[0]}, {y.shape[1]}) (two ensemble members) ({y.dtype})"
        try:
            both = _call(call, loss.value, np.stack([y, y2]), t)
        except _Failed as exc:
            raise _Failed(f"{exc}; for an ensemble's (members, batch, outputs) block value must return one total "
                          "per member: sum over axis=(-2, -1)") from None
        if np.shape(both) != (2,):
            raise _Failed(f"{call} returned {both!r:.60}; it must return one total per member (sum over "
                          "axis=(-2, -1), not over every axis)")
        _finite(call, both)
        if not np.allclose(np.asarray(both, float), single, rtol=_same_rtol(y.dtype) * 100, atol=0):
            raise _Failed(f"{call} returned {_inp(both)}, each member alone {_inp(single)}; sum over axis=(-2, -1)")
    return Check(s.kind, s.name, "value", str(cast[0][0][0].dtype), True, "one finite number per block, one per "
                 f"ensemble member, for y of shapes {', '.join(str(y.shape) for (y, _t), _y2 in cast)}")


def _loss_gradient(s: Subject, loss: Loss, cast: list, dtype: str) -> Check:
    worst = _Worst()
    call = "gradient(y, t)"
    for (y, t), y2 in cast:
        what = f"{call} for y of shape {y.shape} ({dtype})"
        kept = (y.copy(), t.copy())
        value = _array(what, _call(what, loss.gradient, y, t), y.shape, y.dtype)
        _unchanged(what, kept[0], y)
        _unchanged(f"{what} (its t)", kept[1], t)
        stacked = _array(f"{call} for y of shape (2, {y.shape[0]}, {y.shape[1]}) (two ensemble members)",
                         _call(what, loss.gradient, np.stack([y, y2]), t), (2, *y.shape), y.dtype)
        other = _call(what, loss.gradient, y2, t)
        if not np.allclose(stacked.astype(float), np.stack([value, np.asarray(other)]).astype(float),
                           rtol=_same_rtol(y.dtype) * 100, atol=1e-300):
            raise _Failed(f"{call} for two ensemble members differs from each member's own gradient; work "
                          "elementwise (or over axis=-1 only)")
        numeric, smooth = _fd_positions(lambda v, d: _value(loss, v, t.astype(d)), y, dtype, 2)
        worst.update(value, numeric, smooth, TOLERANCES[dtype],
                     lambda k, y=y, t=t: f"y = {_inp(y.ravel()[k])}, t = {_inp(t.ravel()[k])} (pattern "
                                         f"{k // y.shape[1]}, output {k % y.shape[1]} of a {y.shape} block)",
                     y.shape)
    return worst.check(s.kind, s.name, "gradient", dtype, call, TOLERANCES[dtype])


def _loss_fused(s: Subject, loss: Loss, act: Activation, delta: Callable, what: str, nets: list[np.ndarray],
                targets: list[np.ndarray], dtype: np.dtype) -> Check:
    """The fused delta against finite differences of ``value(function(net), t)`` in ``net``,
    called in the layout the engine uses: a group block ``([K,] batch, k)``, an elementwise
    one neuron-major ``(k, [K,] batch)`` with targets ``(k, [1,] batch)``."""
    worst = _Worst()
    call = f"{what}(y, t)"
    f = lambda v: _call(f"activation {act.name!r}: function(net) ({v.dtype})", act.function, v)  # noqa: E731
    for pair, t in zip(nets, targets):
        pair = pair.astype(dtype)
        ys = [_array(f"activation {act.name!r}: function(net)", f(net.copy()), net.shape, dtype) for net in pair]
        y = ys[0]

        def one(yk: np.ndarray) -> np.ndarray:
            if act.group:
                shown = f"{call} for a {yk.shape} block ({dtype})"
                return _array(shown, _call(shown, delta, yk.copy(), t), yk.shape, dtype)
            shown = f"{call} for a neuron-major {yk.T.shape} block ({dtype})"
            return _array(shown, _call(shown, delta, yk.T.copy(), t.T.copy()), yk.T.shape, dtype).T

        value, other = one(ys[0]), one(ys[1])
        if act.group:
            shown = f"{call} for two ensemble members, a {(2, *y.shape)} block ({dtype})"
            both = _array(shown, _call(shown, delta, np.stack(ys), t), (2, *y.shape), dtype)
        else:
            layout = (y.shape[1], 2, y.shape[0])
            shown = f"{call} for two ensemble members, a neuron-major {layout} block ({dtype})"
            both = _array(shown, _call(shown, delta, np.stack(ys).transpose(2, 0, 1), t.T[:, None, :]), layout,
                          dtype).transpose(1, 2, 0)
        if not np.allclose(both.astype(float), np.stack([value, other]).astype(float), rtol=_same_rtol(dtype) * 100,
                           atol=1e-300):
            raise _Failed(f"{call} for two ensemble members differs from each member's own delta; work "
                          "elementwise (or over a group's axis=-1 only)")
        net = pair[0]
        numeric, smooth = _fd_positions(lambda v, d: _value(loss, np.asarray(f(v)), t.astype(d)), net,
                                        str(dtype), 2)
        worst.update(value, numeric, smooth, TOLERANCES[str(dtype)],
                     lambda k, net=net, y=y, t=t: f"net = {_inp(net.ravel()[k])} (y = {_inp(y.ravel()[k])}), "
                                                  f"t = {_inp(t.ravel()[k])}", y.shape)
    return worst.check(s.kind, s.name, what, str(dtype), f"{call} (dE/dnet through {act.name})",
                       TOLERANCES[str(dtype)])


# --- the other kinds ----------------------------------------------------------------------------


def _required(fn: Callable, fixed: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())[fixed:]
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _check_initializer(s: Subject, init: Initializer) -> Check:
    needs = _required(init.draw, 3)
    if needs:
        return Check(s.kind, s.name, "draw", None, True, f"not drawn: it needs the option{'s' * (len(needs) > 1)} "
                     f"{', '.join(needs)}")
    fan_in, fan_out = np.array([2, 3, 3, 1]), np.array([1, 2, 2, 4])
    call = "draw(rng, fan_in, fan_out) for 4 edges"
    first = _call(call, init.draw, np.random.default_rng(0), fan_in, fan_out)
    if not isinstance(first, np.ndarray) or first.shape != (4,) or first.dtype.kind != "f":
        raise _Failed(f"{call} returned {first!r:.60}; it must return 4 floats, one per edge")
    _finite(call, first)
    again = _call(call, init.draw, np.random.default_rng(0), fan_in, fan_out)
    if not np.array_equal(first, again):
        raise _Failed(f"{call} drew other weights from the same seed; draw only from the rng it is given")
    return Check(s.kind, s.name, "draw", None, True, "one finite weight per edge, the same again from the same seed")


def _check_dataset(s: Subject, dataset: Dataset) -> Check:
    needs = _required(dataset.generate, 0)
    if needs:
        return Check(s.kind, s.name, "generate", None, True, f"not generated: it needs the option"
                     f"{'s' * (len(needs) > 1)} {', '.join(needs)}")
    first = _call("generate()", dataset.generate)
    if not isinstance(first, Patterns):
        raise _Failed(f"generate() returned {type(first).__name__}, not neurosim.Patterns")
    for which in ("inputs", "targets"):
        a = np.asarray(getattr(first, which))
        if a.ndim != 2 or a.dtype.kind not in "fiu" or len(a) != len(first.inputs):
            raise _Failed(f"generate() gave {which} of shape {a.shape} ({a.dtype}); give (patterns, columns) "
                          "floats, as many rows as inputs")
        _finite(f"generate() ({which})", a)
    again = _call("generate()", dataset.generate)
    if not (np.array_equal(first.inputs, again.inputs) and np.array_equal(first.targets, again.targets)):
        raise _Failed("generate() gave other patterns the second time; be deterministic (take a seed option)")
    return Check(s.kind, s.name, "generate", None, True, f"{len(first)} finite patterns, the same again")


def _check_object(s: Subject, obj: Any, registry: Registry, rng: np.random.Generator) -> list[Check]:
    if isinstance(obj, Activation):
        return _check_activation(s, obj, rng)
    if isinstance(obj, Loss):
        return _check_loss(s, obj, registry, rng)
    if isinstance(obj, Initializer):
        return [_guarded(s.kind, s.name, "draw", None, lambda: _check_initializer(s, obj))]
    if isinstance(obj, Dataset):
        return [_guarded(s.kind, s.name, "generate", None, lambda: _check_dataset(s, obj))]
    return [Check(s.kind, s.name, "registered", None, True,
                  f"kept its contract when registered; {with_article(s.kind)} has no derivative to check")]
