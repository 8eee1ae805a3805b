"""Scenario files: a whole experiment (network, data, training, expectations) in TOML.

:func:`load_scenario` reads a file or mapping and validates every key, reporting mistakes
as ``FILE: key.path: what is wrong; what would be right`` (:class:`ScenarioError`);
:func:`run_scenario` builds the network, trains it, checks the ``[[expect]]`` tables and
returns a :class:`ScenarioResult`, whose :meth:`~ScenarioResult.report` is what the
``neurosim run`` command prints. The language is documented in ``docs/scenarios.md``.
"""

from __future__ import annotations

import copy
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import training
from .errors import NeurosimError, NumericalError, ScenarioError, did_you_mean
from .network import Network
from .plugins import Registry, make_registry

__all__ = ["Scenario", "ScenarioResult", "Expectation", "load_scenario", "run_scenario"]

_MISSING = object()

#: Every key the language knows, by table; used to catch typos.
SCHEMA: dict[str, set[str]] = {
    "": {"scenario", "network", "data", "training", "expect", "plugins"},
    "scenario": {"name", "description", "seed"},
    "network": {"activation", "bias", "init", "dtype", "layers", "neurons", "connections"},
    "network.init": {"name", "options"},
    "network.layers": {"name", "size", "activation", "from", "output"},
    "network.neurons": {"name", "kind", "activation", "output", "group"},
    "network.connections.*": {"weight", "trainable", "label"},
    "data": {"inputs", "targets"},
    "training": {"loss", "learning_rate", "mode", "epochs", "momentum", "batch_size"},
    "expect": {"quantity", "edge", "neuron", "pattern", "after", "value", "tolerance", "below", "above"},
}
QUANTITIES = ("error", "weight", "output")
BIAS_POLICIES = ("shared", "none", "explicit")
NEURON_KINDS = ("input", "bias", "neuron")


class _Reader:
    """Typed, path-aware access to a parsed scenario, raising :class:`ScenarioError`."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, key, problem)

    def keys(self, table: Any, schema: str, path: str) -> dict:
        if not isinstance(table, Mapping):
            raise self.fail(path, f"must be a table, not {type(table).__name__}")
        allowed = SCHEMA[schema]
        for key in table:
            if key not in allowed:
                raise self.fail(f"{path}.{key}" if path else key,
                                f"unknown key; {did_you_mean(key, allowed, 'valid keys here')}")
        return dict(table)

    def get(self, table: Mapping, key: str, path: str, kinds: tuple, default: Any = _MISSING,
            choices: tuple | None = None, minimum: float | None = None) -> Any:
        where = f"{path}.{key}" if path else key
        if key not in table:
            if default is _MISSING:
                raise self.fail(where, "is required")
            return default
        value = table[key]
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join({str: "a string", int: "an integer", float: "a number", bool: "true or false",
                                 list: "an array", dict: "a table"}[k] for k in kinds)
            raise self.fail(where, f"must be {names}, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(where, f"must be finite, not {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(where, f"{value!r} is not allowed; {did_you_mean(str(value), choices, 'choose from')}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be >= {minimum}, not {value!r}")
        return value


@dataclass
class Expectation:
    """One ``[[expect]]`` table: a quantity, when to measure it, and the bound it must meet.

    Parameters
    ----------
    index : int
        Position in the file (``expect[index]``).
    quantity : {'error', 'weight', 'output'}
    after : int
        Epochs of training after which it is measured (0 = before training).
    value, tolerance : float, optional
        ``|actual - value| <= tolerance``.
    below, above : float, optional
        ``actual < below`` and/or ``actual > above``.
    edge : tuple of str, optional
        ``(src, dst)`` for ``weight``.
    neuron : str, optional
        For ``output``.
    pattern : int
        Pattern index for ``output``.
    """

    index: int
    quantity: str
    after: int
    value: float | None = None
    tolerance: float = 0.0
    below: float | None = None
    above: float | None = None
    edge: tuple[str, str] | None = None
    neuron: str | None = None
    pattern: int = 0

    def describe(self, net: Network | None = None) -> str:
        """A short human description (``weight w5 (h1 -> o1) after 1 epoch``)."""
        if self.quantity == "weight":
            label = net.edge_label(*self.edge) if net is not None else None
            arrow = f"{self.edge[0]} -> {self.edge[1]}"
            what = f"weight {label} ({arrow})" if label and label != arrow else f"weight {arrow}"
        elif self.quantity == "output":
            what = f"output of {self.neuron} for pattern {self.pattern}"
        else:
            what = "total error"
        return f"{what} after {self.after} epoch{'s' if self.after != 1 else ''}"

    def check(self, actual: float) -> tuple[bool, str]:
        """Return ``(met, bound)``; ``bound`` says what was required."""
        parts, ok = [], True
        if self.value is not None:
            ok &= abs(actual - self.value) <= self.tolerance
            parts.append(f"= {self.value:.10g} ± {self.tolerance:g}")
        if self.below is not None:
            ok &= actual < self.below
            parts.append(f"< {self.below:g}")
        if self.above is not None:
            ok &= actual > self.above
            parts.append(f"> {self.above:g}")
        return bool(ok), " and ".join(parts)


@dataclass
class Scenario:
    """A validated scenario, ready to run. Build it with :func:`load_scenario`.

    Attributes
    ----------
    source : str
        The file it came from (or ``<mapping>``).
    data : dict
        The parsed mapping (after overrides).
    """

    source: str
    data: dict
    base_dir: Path
    name: str
    description: str
    seed: int | None
    plugins: list
    X: np.ndarray
    T: np.ndarray
    loss: str
    learning_rate: float
    mode: str
    epochs: int
    momentum: float
    batch_size: int | None
    expectations: list[Expectation]
    registry: Registry | None = None

    def build_network(self) -> Network:
        """Build the scenario's network (weights not given are drawn from ``seed``)."""
        return _build_network(self)


@dataclass
class ScenarioResult:
    """What a scenario run produced.

    Attributes
    ----------
    scenario : Scenario
    network : Network
        The trained network.
    history : ndarray
        ``history[k]``: total training error after ``k + 1`` epochs.
    initial_error : float
        Total error before training.
    initial_weights : dict
        ``{(src, dst): weight}`` before training.
    initial_state : dict
        ``{neuron_name: (net, out)}`` for pattern 0 before training.
    checks : list of tuple
        ``(expectation, actual, met, bound)`` for each ``[[expect]]``.
    """

    scenario: Scenario
    network: Network
    history: np.ndarray
    initial_error: float
    initial_weights: dict
    initial_state: dict
    checks: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every expectation was met."""
        return all(met for _e, _a, met, _b in self.checks)

    @property
    def failures(self) -> list[str]:
        """One line per unmet expectation."""
        return [f"expect[{e.index}]: {e.describe(self.network)}: got {a:.10g}, wanted {b}"
                for e, a, met, b in self.checks if not met]

    @property
    def final_error(self) -> float:
        """Total training error after the last epoch (the initial error if none ran)."""
        return float(self.history[-1]) if len(self.history) else self.initial_error

    def report(self) -> str:
        """The text ``neurosim run`` prints: forward pass, errors, weights, expectations."""
        sc, net = self.scenario, self.network
        lines = [f"scenario {sc.name}" + (f" — {sc.description}" if sc.description else ""), f"network: {net!r}"]
        n = len(sc.X)
        lines.append(f"forward pass, pattern 0 of {n}, before training "
                     f"(inputs {', '.join(f'{x:.10g}' for x in sc.X[0])}):")
        for name, (net_in, out) in self.initial_state.items():
            lines.append(f"  {name:>8}  net = {net_in:<14.10g} out = {out:.9g}")
        lines.append(f"total error ({sc.loss}) before training: {self.initial_error:.9g}")
        lines.append(f"training: {sc.mode}, learning rate {sc.learning_rate:g}, momentum {sc.momentum:g}, "
                     f"{sc.epochs} epoch{'s' if sc.epochs != 1 else ''}")
        trainable = [(u, v) for (u, v) in self.initial_weights if net.trainable(u, v)]
        if len(trainable) <= 60:
            lines.append("trainable weights, before -> after:")
            for u, v in trainable:
                label = net.edge_label(u, v)
                label = label if label != f"{u} -> {v}" else ""
                lines.append(f"  {label:>4}  {u:>6} -> {v:<6} {self.initial_weights[(u, v)]:>14.10g} -> "
                             f"{net.weight(u, v):.9g}")
        else:
            lines.append(f"{len(trainable)} trainable weights (not listed)")
        lines.append(f"total error ({sc.loss}) after {sc.epochs} epoch{'s' if sc.epochs != 1 else ''}: "
                     f"{self.final_error:.9g}")
        if self.checks:
            lines.append("expectations:")
            for e, actual, met, bound in self.checks:
                lines.append(f"  {'ok  ' if met else 'FAIL'}  {e.describe(net)}: {actual:.10g} (wanted {bound})")
            passed = sum(met for *_x, met, _b in self.checks)
            lines.append(f"{passed} of {len(self.checks)} expectations met")
        return "\n".join(lines)


# --- loading ----------------------------------------------------------------------------


def _set_dotted(data: dict, dotted: str, value: Any, source: str) -> None:
    keys = dotted.split(".")
    table = data
    for k in keys[:-1]:
        table = table.setdefault(k, {})
        if not isinstance(table, dict):
            raise ScenarioError(source, dotted, f"cannot override inside {k!r}, which is not a table")
    table[keys[-1]] = value


def _patterns(r: _Reader, value: Any, path: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise r.fail(path, "must be a non-empty array of patterns, e.g. [[0.05, 0.10]]")
    rows = [row if isinstance(row, list) else [row] for row in value]
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        bad = next(i for i, row in enumerate(rows) if len(row) != len(rows[0]))
        raise r.fail(f"{path}[{bad}]", f"has {len(rows[bad])} values but pattern 0 has {len(rows[0])}; "
                                      "every pattern needs the same number of values")
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise r.fail(f"{path}[{i}][{j}]", f"must be a finite number, not {x!r}")
    return np.array(rows, dtype=np.float64)


def load_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario.

    Parameters
    ----------
    source : str, path or mapping
        A TOML file, or an already parsed mapping.
    overrides : mapping, optional
        ``{"training.epochs": 100, ...}``: dotted keys replaced before validation.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        The first problem found, as ``FILE: key.path: problem; fix``.
    """
    if isinstance(source, Mapping):
        name, base_dir, data = "<mapping>", Path.cwd(), copy.deepcopy(dict(source))
    else:
        path = Path(source)
        name, base_dir = str(path), path.resolve().parent
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ScenarioError(name, "", "no such file; give the path of a .toml scenario") from None
        except IsADirectoryError:
            raise ScenarioError(name, "", "is a directory; give the path of a .toml scenario file") from None
        except OSError as exc:
            raise ScenarioError(name, "", f"cannot be read ({exc.strerror}); check its permissions") from None
        except UnicodeDecodeError:
            raise ScenarioError(name, "", "is not UTF-8 text; TOML files must be saved as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(name, "", f"is not valid TOML: {exc}") from None
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value, name)
    r = _Reader(name)
    top = r.keys(data, "", "")
    meta = r.keys(top.get("scenario", {}), "scenario", "scenario")
    plugins = r.get(top, "plugins", "", (list,), [])
    for i, p in enumerate(plugins):
        if not isinstance(p, str):
            raise r.fail(f"plugins[{i}]", f"must be a string (a .py path or a dotted module name), not {p!r}")
    r.keys(top.get("network", {}), "network", "network")

    if "data" not in top:
        raise r.fail("data", "is required: give a [data] table with inputs and targets")
    d = r.keys(top["data"], "data", "data")
    X = _patterns(r, r.get(d, "inputs", "data", (list,)), "data.inputs")
    T = _patterns(r, r.get(d, "targets", "data", (list,)), "data.targets")
    if len(T) != len(X):
        raise r.fail("data.targets", f"has {len(T)} patterns but data.inputs has {len(X)}; give one target row "
                     "per input pattern")

    t = r.keys(top.get("training", {}), "training", "training")
    mode = r.get(t, "mode", "training", (str,), "online", choices=training.MODES)
    sc = Scenario(
        source=name, data=data, base_dir=base_dir,
        name=r.get(meta, "name", "scenario", (str,), Path(name).stem),
        description=r.get(meta, "description", "scenario", (str,), ""),
        seed=r.get(meta, "seed", "scenario", (int,), None),
        plugins=plugins, X=X, T=T,
        loss=r.get(t, "loss", "training", (str,), "mse"),
        learning_rate=r.get(t, "learning_rate", "training", (float,), 0.1, minimum=0.0),
        mode=mode,
        epochs=r.get(t, "epochs", "training", (int,), 1, minimum=0),
        momentum=r.get(t, "momentum", "training", (float,), 0.0, minimum=0.0),
        batch_size=r.get(t, "batch_size", "training", (int,), None if mode != "minibatch" else _MISSING,
                         minimum=1),
        expectations=[],
    )
    expects = r.get(top, "expect", "", (list,), [])
    for i, e in enumerate(expects):
        sc.expectations.append(_expectation(r, e, i, sc.epochs))
    return sc


def _expectation(r: _Reader, table: Any, i: int, epochs: int) -> Expectation:
    path = f"expect[{i}]"
    e = r.keys(table, "expect", path)
    q = r.get(e, "quantity", path, (str,), choices=QUANTITIES)
    ex = Expectation(
        index=i, quantity=q,
        after=r.get(e, "after", path, (int,), epochs, minimum=0),
        value=r.get(e, "value", path, (float,), None),
        tolerance=r.get(e, "tolerance", path, (float,), 0.0, minimum=0.0),
        below=r.get(e, "below", path, (float,), None),
        above=r.get(e, "above", path, (float,), None),
        pattern=r.get(e, "pattern", path, (int,), 0, minimum=0),
    )
    if ex.after > epochs:
        raise r.fail(f"{path}.after", f"is {ex.after} but training.epochs is {epochs}; measure at most after "
                     "the last epoch")
    if ex.value is None and ex.below is None and ex.above is None:
        raise r.fail(path, "gives no bound; add value (with tolerance), below or above")
    if q == "weight":
        edge = r.get(e, "edge", path, (str,))
        parts = [p.strip() for p in edge.split("->")]
        if len(parts) != 2 or not all(parts):
            raise r.fail(f"{path}.edge", f"{edge!r} is not of the form \"src -> dst\"")
        ex.edge = (parts[0], parts[1])
    elif q == "output":
        ex.neuron = r.get(e, "neuron", path, (str,))
    for key, needed in (("edge", "weight"), ("neuron", "output")):
        if key in e and q != needed:
            raise r.fail(f"{path}.{key}", f"only applies to quantity = {needed!r}, not {q!r}")
    return ex


# --- building and running ------------------------------------------------------------------


def _build_network(sc: Scenario) -> Network:
    r = _Reader(sc.source)
    nd = r.keys(sc.data.get("network", {}), "network", "network")
    default_act = r.get(nd, "activation", "network", (str,), "sigmoid")
    policy = r.get(nd, "bias", "network", (str,), "shared", choices=BIAS_POLICIES)
    dtype = r.get(nd, "dtype", "network", (str,), "float64", choices=("float64", "float32"))
    init = nd.get("init", "uniform")
    if isinstance(init, str):
        init_name, init_options = init, {}
    else:
        it = r.keys(init, "network.init", "network.init")
        init_name = r.get(it, "name", "network.init", (str,), "uniform")
        init_options = r.get(it, "options", "network.init", (dict,), {})
    registry = sc.registry
    init_key = "network.init" if isinstance(init, str) else "network.init.name"
    try:
        registry.initializer(init_name)
    except NeurosimError as exc:
        raise r.fail(init_key, str(exc)) from None
    try:
        registry.initializer_with(init_name, init_options)
    except NeurosimError as exc:
        raise r.fail("network.init.options", str(exc)) from None
    if "activation" in nd:
        try:
            registry.activation(default_act)
        except NeurosimError as exc:
            raise r.fail("network.activation", str(exc)) from None
    net = Network(registry=registry, dtype=dtype, seed=sc.seed, init=init_name, init_options=init_options)

    def guard(key: str, action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except NeurosimError as exc:
            raise r.fail(key, str(exc)) from None

    layers = r.get(nd, "layers", "network", (list,), [])
    layer_units: dict[str, list] = {}
    for i, layer in enumerate(layers):
        path = f"network.layers[{i}]"
        ly = r.keys(layer, "network.layers", path)
        lname = r.get(ly, "name", path, (str,))
        size = r.get(ly, "size", path, (int,), minimum=1)
        sources = r.get(ly, "from", path, (list,), [])
        for j, s in enumerate(sources):
            if s not in layer_units:
                hint = ("it comes later; layers may only take from earlier layers" if any(
                    isinstance(x, Mapping) and x.get("name") == s for x in layers[i:]) else
                    did_you_mean(str(s), layer_units, "earlier layers"))
                raise r.fail(f"{path}.from[{j}]", f"no earlier layer named {s!r}; {hint}")
        output = r.get(ly, "output", path, (bool,), i == len(layers) - 1 and bool(sources))
        act = r.get(ly, "activation", path, (str,), default_act)
        kind = "neuron" if sources else "input"
        layer_units[lname] = guard(path, net.add_layer, lname, size, act, kind=kind, output=output,
                                   connect_from=[layer_units[s] for s in sources])

    for i, neuron in enumerate(r.get(nd, "neurons", "network", (list,), [])):
        path = f"network.neurons[{i}]"
        nt = r.keys(neuron, "network.neurons", path)
        name = r.get(nt, "name", path, (str,))
        kind = r.get(nt, "kind", path, (str,), "neuron", choices=NEURON_KINDS)
        if kind == "input":
            guard(path, net.add_input, name)
        elif kind == "bias":
            guard(path, net.add_bias, name)
        else:
            guard(path, net.add_neuron, name, r.get(nt, "activation", path, (str,), default_act),
                  output=r.get(nt, "output", path, (bool,), False), group=r.get(nt, "group", path, (str,), None))

    if policy == "shared" and "bias" not in net:
        guard("network.bias", net.add_bias, "bias")
    connections = r.get(nd, "connections", "network", (dict,), {})
    for spec, value in connections.items():
        path = f"network.connections.{spec!r}" if " " in spec else f"network.connections.{spec}"
        parts = [p.strip() for p in spec.split("->")]
        if len(parts) != 2 or not all(parts):
            raise r.fail(path, f"{spec!r} is not of the form \"src -> dst\"")
        if isinstance(value, Mapping):
            ct = r.keys(value, "network.connections.*", path)
            weight = r.get(ct, "weight", path, (float,), None)
            trainable = r.get(ct, "trainable", path, (bool,), True)
            label = r.get(ct, "label", path, (str,), None)
        else:
            weight = r.get({"weight": value}, "weight", path, (float,))
            trainable, label = True, None
        if parts[0] in net and parts[1] in net and net.graph.has_edge(net[parts[0]], net[parts[1]]):
            # Already connected by a layer: the entry sets the weight, trainability and label.
            if weight is not None:
                guard(path, net.set_weight, parts[0], parts[1], weight)
            guard(path, net.set_trainable, parts[0], parts[1], trainable)
            if label:
                net.graph.edges[net[parts[0]], net[parts[1]]]["label"] = label
        else:
            guard(path, net.connect, parts[0], parts[1], weight, trainable=trainable, label=label)

    if policy == "shared":
        bias = net["bias"]
        for u in net.neurons:
            if not net.graph.has_edge(bias, u):
                net.connect(bias, u)
    elif policy == "none" and net.biases:
        raise r.fail("network.bias", f"is 'none' but bias units are declared ({net.biases[0].name!r}); "
                     "use bias = 'explicit'")
    if len(net.inputs) != sc.X.shape[1]:
        raise r.fail("data.inputs", f"patterns have {sc.X.shape[1]} values but the network has "
                     f"{len(net.inputs)} inputs ({', '.join(u.name for u in net.inputs)})")
    if len(net.outputs) != sc.T.shape[1]:
        raise r.fail("data.targets", f"patterns have {sc.T.shape[1]} values but the network has "
                     f"{len(net.outputs)} outputs ({', '.join(u.name for u in net.outputs) or 'none'})")
    guard("network", net.compile)
    return net


def run_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None, *,
                 registry: Registry | None = None) -> ScenarioResult:
    """Load, build, train and check a scenario.

    Parameters
    ----------
    source : str, path or mapping
        A TOML scenario file or a parsed mapping (see ``docs/scenarios.md``).
    overrides : mapping, optional
        Dotted keys to replace, e.g. ``{"training.epochs": 100}``.
    registry : Registry, optional
        Plugins to use. By default a fresh registry of the installed plugins plus the
        scenario's ``plugins = [...]`` is made for this run.

    Returns
    -------
    ScenarioResult
        ``result.network`` (trained), ``result.history``, ``result.checks``,
        ``result.passed``.

    Raises
    ------
    ScenarioError
        When the scenario is invalid (the message names the file and key).
    NumericalError
        When training diverges.

    Examples
    --------
    >>> result = run_scenario("scenarios/mazur.toml")            # doctest: +SKIP
    >>> round(result.network.weight("h1", "o1"), 8)               # doctest: +SKIP
    0.35891648
    """
    sc = load_scenario(source, overrides)
    r = _Reader(sc.source)
    if registry is None:
        try:
            registry = make_registry(sc.plugins, base_dir=sc.base_dir)
        except NeurosimError as exc:
            raise r.fail("plugins", str(exc)) from None
    sc.registry = registry
    net = sc.build_network()
    try:
        loss = registry.loss(sc.loss)
    except NeurosimError as exc:
        raise r.fail("training.loss", str(exc)) from None
    for e in sc.expectations:
        try:
            if e.quantity == "weight":
                net.weight(*e.edge)
            elif e.quantity == "output":
                if net[e.neuron] not in net.neurons:
                    raise ScenarioError(sc.source, f"expect[{e.index}].neuron", f"{e.neuron!r} is not a computing "
                                        "neuron")
        except ScenarioError:
            raise
        except NeurosimError as exc:
            key = "edge" if e.quantity == "weight" else "neuron"
            raise r.fail(f"expect[{e.index}].{key}", str(exc)) from None
        if e.quantity == "output" and e.pattern >= len(sc.X):
            raise r.fail(f"expect[{e.index}].pattern", f"is {e.pattern} but there are {len(sc.X)} patterns "
                         f"(0 to {len(sc.X) - 1})")

    X, T = sc.X, sc.T
    initial_error = net.error(X, T, sc.loss)
    initial_state = {u.name: (float(u.net[0]), float(u.out[0])) for u in net.neurons}
    initial_weights = net.weights()

    checks: list = []

    def measure(after: int) -> None:
        for e in sc.expectations:
            if e.after != after:
                continue
            if e.quantity == "error":
                actual = initial_error if after == 0 else float(history[after - 1])
            elif e.quantity == "weight":
                actual = net.weight(*e.edge)
            else:
                net.forward(X)
                actual = float(net[e.neuron].out[e.pattern])
            checks.append((e, actual, *e.check(actual)))

    optimizer = training.SGD(sc.learning_rate, sc.momentum)
    history = np.empty(0)
    done = 0
    measure(0)
    for stop in sorted({e.after for e in sc.expectations if e.after > 0} | {sc.epochs}):
        if stop > done:
            try:
                part = net.train(X, T, loss.name, epochs=stop - done, mode=sc.mode, batch_size=sc.batch_size,
                                 optimizer=optimizer)
            except NumericalError as exc:
                raise NumericalError(f"{sc.source}: training: {exc} (training.learning_rate is "
                                     f"{sc.learning_rate:g})") from None
            history = np.concatenate([history, part])
            done = stop
            measure(stop)
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, net, history, initial_error, initial_weights, initial_state, checks)
