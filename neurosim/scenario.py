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
import re
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import training
from .errors import DataError, NeurosimError, NumericalError, ScenarioError, did_you_mean
from .functions import Patterns
from .io import atomic_write_all, json_text
from .network import Network
from .plugins import Registry, make_registry

__all__ = ["Scenario", "ScenarioResult", "Expectation", "RunState", "load_scenario", "run_scenario"]

_MISSING = object()

_SOURCE_KEYS = {"inputs", "targets", "dataset", "options", "file", "format", "input_columns", "target_columns",
                "class_column", "keep_classes", "positive_class", "delimiter", "header"}

#: Every key the language knows, by table; used to catch typos. ``expect`` tables also
#: take the options of their measure, checked against the measure itself.
SCHEMA: dict[str, set[str]] = {
    "": {"scenario", "network", "data", "training", "expect", "plugins"},
    "scenario": {"name", "description", "seed"},
    "network": {"activation", "bias", "init", "dtype", "layers", "neurons", "connections"},
    "network.init": {"name", "options"},
    "network.layers": {"name", "size", "activation", "from", "output"},
    "network.neurons": {"name", "kind", "activation", "output", "group"},
    "network.connections.*": {"weight", "trainable", "label"},
    "data": _SOURCE_KEYS | {"test", "test_fraction", "test_indices"},
    "data.test": set(_SOURCE_KEYS),
    "training": {"loss", "learning_rate", "learning_rate_schedule", "mode", "epochs", "momentum",
                 "momentum_schedule", "batch_size", "shuffle",
                 "weight_decay", "stop", "ensemble"},
    "training.stop": {"error_below", "within"},
    "expect": {"quantity", "after", "value", "tolerance", "below", "above"},
}
BIAS_POLICIES = ("shared", "none", "explicit")
NEURON_KINDS = ("input", "bias", "neuron")
FILE_FORMATS = ("csv", "fann")


def _toml(value: Any) -> str:
    """A value as a TOML file spells it (``true``, not ``True``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table"
    return repr(value)


class _Reader:
    """Typed, path-aware access to a parsed scenario, raising :class:`ScenarioError`."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, key, problem)

    def keys(self, table: Any, schema: str, path: str, extra: Iterable[str] = ()) -> dict:
        if not isinstance(table, Mapping):
            raise self.fail(path, f"must be a table, not {type(table).__name__}")
        allowed = SCHEMA[schema] | set(extra)
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
            raise self.fail(where, f"must be {names}, not {_toml(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(where, f"must be finite, not {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(where, f"{value!r} is not allowed; {did_you_mean(str(value), choices, 'choose from')}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be >= {minimum}, not {value!r}")
        return value


@dataclass
class Expectation:
    """One ``[[expect]]`` table: a measure, when to take it, and the bound it must meet.

    Parameters
    ----------
    index : int
        Position in the file (``expect[index]``).
    quantity : str
        Name of a registered measure (``error``, ``weight``, ``output``, ``accuracy``,
        ``correct``, ``epochs``, ``mirror_symmetry``, or a plugin's).
    after : int or None
        Epochs of training after which it is measured (0 = before training); None = at
        the end of the run (also when a stop criterion ended it early).
    value, tolerance : float, optional
        ``|actual - value| <= tolerance``.
    below, above : float, optional
        ``actual < below`` and/or ``actual > above``.
    options : dict
        The measure's options (the table's other keys).
    """

    index: int
    quantity: str
    after: int | None
    value: float | None = None
    tolerance: float = 0.0
    below: float | None = None
    above: float | None = None
    options: dict = field(default_factory=dict)

    def describe(self, net: Network | None = None) -> str:
        """A short human description (``weight w5 (h1 -> o1) after 1 epoch``)."""
        opts = dict(self.options)
        if self.quantity == "weight" and net is not None and "edge" in opts:
            edge = str(opts.pop("edge"))
            parts = [p.strip() for p in edge.split("->")]
            try:
                label = net.edge_label(*parts)
            except NeurosimError:
                label = edge
            what = f"weight {label} ({edge})" if label != edge.replace(" ", "").replace("->", " -> ") and \
                label != edge else f"weight {edge}"
        elif self.quantity == "output" and "neuron" in opts:
            what = f"output of {opts.pop('neuron')} for pattern {opts.pop('pattern', 0)}"
        else:
            what = self.quantity
        rest = ", ".join(f"{k}={v}" for k, v in opts.items())
        when = "at the end" if self.after is None else f"after {self.after} epoch{'s' if self.after != 1 else ''}"
        return f"{what}{f' ({rest})' if rest else ''} {when}"

    def check(self, actual: float) -> tuple[bool, str]:
        """Return ``(met, bound)``; ``bound`` says what was required."""
        parts, ok = [], math.isfinite(actual)
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
class RunState:
    """What a measure sees of a run in progress or finished.

    Attributes
    ----------
    network : Network
    train, test : Patterns
        Training and test patterns (``test`` is None without a test set).
    loss : str
        The training loss's name.
    history : ndarray
        Training error after each epoch so far.
    epochs : int
        Epochs trained so far.
    ensemble : EnsembleResult or None
        With ``training.ensemble``: every member's results; ``network`` is then member 0
        (the scenario's own seed).
    stop : StopCriterion or None
        The scenario's ``[training.stop]``.
    members : int or None
        ``training.ensemble`` (known before the ensemble has run).
    """

    network: Network
    train: Patterns
    test: Patterns | None
    loss: str
    history: np.ndarray
    epochs: int = 0
    ensemble: Any = None
    stop: Any = None
    members: int | None = None


@dataclass
class Scenario:
    """A validated scenario, ready to run. Build it with :func:`load_scenario`.

    The plugin-dependent parts (datasets, measures, activations) are checked by
    :meth:`resolve`, which also loads the data.

    Attributes
    ----------
    source : str
        The file it came from (or ``<mapping>``).
    data : dict
        The parsed mapping (after overrides).
    seed : int
        The seed of every random choice; drawn and recorded when the file gives none.
    train, test : Patterns
        The data, after :meth:`resolve`.
    """

    source: str
    data: dict
    base_dir: Path
    name: str
    description: str
    seed: int
    plugins: list
    loss: str
    learning_rate: float
    mode: str
    epochs: int
    momentum: float
    momentum_schedule: list
    learning_rate_schedule: list
    batch_size: int | None
    weight_decay: float
    stop: training.StopCriterion | None
    ensemble: int | None
    expectations: list[Expectation]
    shuffle: bool = False
    registry: Registry | None = None
    train: Patterns | None = None
    test: Patterns | None = None

    def momentum_at(self, epoch: int) -> float:
        """The momentum in force from ``epoch`` on (``momentum_schedule``, else ``momentum``)."""
        return _scheduled(self.momentum, self.momentum_schedule, epoch)

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate in force from ``epoch`` on (``learning_rate_schedule``, else ``learning_rate``)."""
        return _scheduled(self.learning_rate, self.learning_rate_schedule, epoch)

    def apply_schedule(self, optimizer: training.SGD, epoch: int) -> None:
        """Set ``optimizer``'s learning rate and momentum to those in force at ``epoch``.

        Parameters
        ----------
        optimizer : neurosim.training.SGD
        epoch : int
            Epochs trained so far (0-based index of the epoch about to run).
        """
        optimizer.learning_rate = self.learning_rate_at(epoch)
        optimizer.momentum = self.momentum_at(epoch)

    def pattern_orders(self) -> np.random.Generator | None:
        """With ``training.shuffle``: the generator of the pattern orders, seeded from the
        scenario's seed (its third stream, after the initial weights' and the test
        split's); else None."""
        if not self.shuffle:
            return None
        return np.random.default_rng(np.random.SeedSequence(self.seed).spawn(3)[2])

    def resolve(self, registry: Registry | None = None) -> Scenario:
        """Load the plugins and the data, and check everything that depends on them.

        Parameters
        ----------
        registry : Registry, optional
            Plugins to use; by default the installed ones plus the scenario's
            ``plugins = [...]``, in a registry made for this run.

        Returns
        -------
        Scenario
            ``self``, with ``registry``, ``train`` and ``test`` set.
        """
        r = _Reader(self.source)
        if registry is None:
            try:
                registry = make_registry(self.plugins, base_dir=self.base_dir)
            except NeurosimError as exc:
                raise r.fail("plugins", str(exc)) from None
        self.registry = registry
        try:
            registry.loss(self.loss)
        except NeurosimError as exc:
            raise r.fail("training.loss", str(exc)) from None
        d = self.data["data"]
        self.train = _load_patterns(r, d, "data", self.base_dir, registry)
        split_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(2)[1])
        if "test" in d:
            self.test = _load_patterns(r, r.keys(d["test"], "data.test", "data.test"), "data.test",
                                       self.base_dir, registry)
        elif "test_fraction" in d:
            n = len(self.train)
            k = int(round(d["test_fraction"] * n))
            if not 0 < k < n:
                raise r.fail("data.test_fraction", f"leaves {k} of {n} patterns for testing; choose a fraction "
                             "that keeps at least one pattern in each set")
            held = np.sort(split_rng.permutation(n)[:k])
            self.train, self.test = self.train.subset(np.setdiff1d(np.arange(n), held)), self.train.subset(held)
        elif "test_indices" in d:
            held = np.array(d["test_indices"], dtype=np.intp)
            n = len(self.train)
            if len(held) == 0 or held.min() < 0 or held.max() >= n or len(set(held.tolist())) != len(held):
                raise r.fail("data.test_indices", f"must be distinct pattern numbers from 0 to {n - 1}")
            if len(held) >= n:
                raise r.fail("data.test_indices", "holds out every pattern; keep some for training")
            self.train, self.test = self.train.subset(np.setdiff1d(np.arange(n), held)), self.train.subset(np.sort(held))
        if self.test is not None and self.test.inputs.shape[1:] != self.train.inputs.shape[1:] or \
                self.test is not None and self.test.targets.shape[1:] != self.train.targets.shape[1:]:
            raise r.fail("data.test", f"test patterns have {self.test.inputs.shape[1]} inputs and "
                         f"{self.test.targets.shape[1]} targets, training patterns {self.train.inputs.shape[1]} "
                         f"and {self.train.targets.shape[1]}")
        if self.mode == "minibatch" and self.batch_size > len(self.train):
            raise r.fail("training.batch_size", f"is {self.batch_size} but there are only {len(self.train)} "
                         "training patterns")
        for e in self.expectations:
            try:
                registry.measure(e.quantity)
            except NeurosimError as exc:
                raise r.fail(f"expect[{e.index}].quantity", str(exc)) from None
            for key in e.options:
                if not _accepts(registry, e.quantity, key):
                    owners = [m for m in registry.names("measure") if m != e.quantity and
                              _accepts(registry, m, key)]
                    if owners:
                        raise r.fail(f"expect[{e.index}].{key}", f"only applies to quantity = "
                                     f"{' or '.join(map(repr, owners))}, not {e.quantity!r}")
                    known = SCHEMA["expect"] | set(_options_of(registry, e.quantity))
                    raise r.fail(f"expect[{e.index}].{key}", f"unknown key for quantity = {e.quantity!r}; "
                                 f"{did_you_mean(key, known, 'valid keys here')}")
            try:
                registry.with_options("measure", e.quantity, e.options)
            except NeurosimError as exc:
                raise r.fail(f"expect[{e.index}]", str(exc)) from None
            if e.value is None and e.below is None and e.above is None:
                raise r.fail(f"expect[{e.index}]", "gives no bound; add value (with tolerance), below or above")
        return self

    def build_network(self) -> Network:
        """Build the scenario's network (weights not given are drawn from ``seed``)."""
        if self.registry is None:
            self.resolve()
        return _build_network(self)

    def check(self, registry: Registry | None = None) -> Network:
        """Validate everything short of training: plugins, data, network, expectations.

        Each expectation is measured once on the untrained network, so a missing edge
        or neuron is reported now rather than after training (``neurosim check``).

        Parameters
        ----------
        registry : Registry, optional
            As for :meth:`resolve`.

        Returns
        -------
        Network
            The untrained network.

        Raises
        ------
        ScenarioError
            The first problem, naming the file and key.
        """
        self.resolve(registry)
        net = self.build_network()
        run = RunState(net, self.train, self.test, self.loss, np.empty(0), 0, None, self.stop, self.ensemble)
        for e in self.expectations:
            _measure(self, e, run)
        return net


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
        Total training error before training.
    initial_weights : dict
        ``{(src, dst): weight}`` before training.
    initial_state : dict
        ``{neuron_name: (net, out)}`` for training pattern 0 before training.
    checks : list of tuple
        ``(expectation, actual, met, bound)`` for each ``[[expect]]``.
    stopped_early : bool
        Whether a stop criterion ended training before ``training.epochs``.
    wall_time : float
        Seconds from start to end of the run.
    ensemble : EnsembleResult or None
        With ``training.ensemble = K``: all K members' results (``network`` and
        ``history`` are member 0's, the scenario's own seed).
    """

    scenario: Scenario
    network: Network
    history: np.ndarray
    initial_error: float
    initial_weights: dict
    initial_state: dict
    checks: list = field(default_factory=list)
    stopped_early: bool = False
    wall_time: float = 0.0
    ensemble: Any = None

    @property
    def passed(self) -> bool:
        """True when every expectation was met."""
        return all(met for _e, _a, met, _b in self.checks)

    @property
    def failures(self) -> list[str]:
        """One line per unmet expectation."""
        return [f"{self.scenario.source}: expect[{e.index}]: {e.describe(self.network)}: got {a:.10g}, wanted {b}"
                for e, a, met, b in self.checks if not met]

    @property
    def epochs_run(self) -> int:
        """Epochs actually trained."""
        return len(self.history)

    @property
    def final_error(self) -> float:
        """Total training error after the last epoch (the initial error if none ran)."""
        return float(self.history[-1]) if len(self.history) else self.initial_error

    def metrics(self) -> dict:
        """Final numbers: training error, test error and accuracy (when there is a test set)."""
        sc, net = self.scenario, self.network
        state = RunState(net, sc.train, sc.test, sc.loss, self.history, self.epochs_run, self.ensemble, sc.stop, sc.ensemble)
        accuracy = sc.registry.measure("accuracy")
        out = {"epochs_run": self.epochs_run, "stopped_early": self.stopped_early,
               "train_error": self.final_error, "train_accuracy": accuracy(state)}
        if sc.test is not None:
            out["test_error"] = sc.registry.measure("error")(state, set="test")
            out["test_accuracy"] = accuracy(state, set="test")
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble.summary()
        return out

    def report(self) -> str:
        """The text ``neurosim run`` prints: forward pass, errors, weights, expectations."""
        sc, net = self.scenario, self.network
        lines = [f"scenario {sc.name}" + (f" — {sc.description}" if sc.description else ""),
                 f"network: {net!r}",
                 f"data: {len(sc.train)} training patterns" + (f", {len(sc.test)} test patterns" if sc.test else "")
                 + f"; seed {sc.seed}"]
        if len(self.initial_state) <= 24:
            inputs = ", ".join(f"{x:.10g}" for x in sc.train.inputs[0][:8]) + (" ..." if sc.train.inputs.shape[1] > 8
                                                                              else "")
            lines.append(f"forward pass, training pattern 0, before training (inputs {inputs}):")
            for name, (net_in, out) in self.initial_state.items():
                lines.append(f"  {name:>8}  net = {net_in:<14.10g} out = {out:.9g}")
        lines.append(f"total error ({sc.loss}) before training: {self.initial_error:.9g}")
        momentum = f"momentum {sc.momentum:g}" + (f" (schedule {sc.momentum_schedule})" if sc.momentum_schedule else "")
        if sc.learning_rate_schedule:
            momentum += f", learning rate schedule {sc.learning_rate_schedule}"
        lines.append(f"training: {sc.mode}{f' ({sc.batch_size} per update)' if sc.mode == 'minibatch' else ''}, "
                     f"learning rate {sc.learning_rate_at(0):g}, {momentum}"
                     + (f", weight decay {sc.weight_decay:g}" if sc.weight_decay else "")
                     + (", patterns shuffled every epoch" if sc.shuffle else "")
                     + f", {self.epochs_run} of {sc.epochs} epochs" + (" (stop criterion met)" if self.stopped_early else ""))
        trainable = [(u, v) for (u, v) in self.initial_weights if net.trainable(u, v)]
        if len(trainable) <= 40:
            lines.append("trainable weights, before -> after:")
            for u, v in trainable:
                label = net.edge_label(u, v)
                label = label if label != f"{u} -> {v}" else ""
                lines.append(f"  {label:>4}  {u:>6} -> {v:<6} {self.initial_weights[(u, v)]:>14.10g} -> "
                             f"{net.weight(u, v):.9g}")
        else:
            lines.append(f"{len(trainable)} trainable weights (not listed)")
        lines.append(f"total error ({sc.loss}) after {self.epochs_run} epoch{'s' if self.epochs_run != 1 else ''}: "
                     f"{self.final_error:.9g}")
        if sc.test is not None:
            m = self.metrics()
            lines.append(f"test set: error {m['test_error']:.6g}, accuracy {m['test_accuracy']:.4g}")
        if self.ensemble is not None:
            lines.append(f"ensemble (seeds {sc.seed} to {sc.seed + self.ensemble.members - 1}; network above is "
                         f"the first): {self.ensemble}")
        if self.checks:
            lines.append("expectations:")
            for e, actual, met, bound in self.checks:
                lines.append(f"  {'ok  ' if met else 'FAIL'}  {e.describe(net)}: {actual:.10g} (wanted {bound})")
            passed = sum(met for *_x, met, _b in self.checks)
            lines.append(f"{passed} of {len(self.checks)} expectations met")
        return "\n".join(lines)

    def save(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write the learning curve (CSV), the trained network (JSON) and a summary (JSON).

        All three are written to temporary names first and then renamed, so an
        interrupted run never leaves a half-written file, nor (short of a failure
        between the renames) new files beside old ones.

        Parameters
        ----------
        out_dir : str or path
            Folder to write into (created if missing).

        Returns
        -------
        dict
            ``{"learning_curve": path, "network": path, "summary": path}``.

        Raises
        ------
        DataError
            When the folder cannot be made, or a folder stands where a file would go
            (checked before anything is written).
        """
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot use {out} as the results folder ({exc.strerror}); give a folder path "
                            "that can be created") from None
        curve = "epoch,error\n" + "".join(f"{k + 1},{e!r}\n" for k, e in enumerate(self.history.tolist()))
        sc = self.scenario
        summary = {
            "scenario": sc.name, "source": sc.source, "seed": sc.seed,
            "metrics": self.metrics(),
            "passed": self.passed,
            "expectations": [{"index": e.index, "description": e.describe(self.network),
                              "actual": actual if math.isfinite(actual) else None,   # JSON has no NaN
                              "wanted": bound, "met": met} for e, actual, met, bound in self.checks],
            "versions": {"neurosim": _version(), "plugins": _plugin_versions(sc.registry)},
            "wall_time_seconds": self.wall_time,
        }
        paths = atomic_write_all({out / "learning_curve.csv": curve,
                                  out / "network.json": json_text(self.network.to_dict()),
                                  out / "summary.json": json_text(summary)})
        return dict(zip(("learning_curve", "network", "summary"), paths))


def _options_of(registry: Registry, measure: str) -> list[str]:
    accepted = registry.options("measure", measure)
    return [] if accepted is None else accepted[0]


def _run_ensemble(sc: Scenario, net: Network, optimizer, orders, initial_error, initial_weights, initial_state,
                  checks, started) -> ScenarioResult:
    """Train ``training.ensemble`` members; member k has the seed ``scenario.seed + k``."""
    X, T = sc.train.inputs, sc.train.targets
    seeds = [np.random.SeedSequence(sc.seed + k).spawn(2)[0] for k in range(sc.ensemble)]
    try:
        result = net.train(X, T, sc.loss, epochs=sc.epochs, mode=sc.mode, batch_size=sc.batch_size,
                           optimizer=optimizer, stop=sc.stop, ensemble=sc.ensemble, seeds=seeds,
                           schedule=lambda epoch: sc.apply_schedule(optimizer, epoch), shuffle=orders)
    except NumericalError as exc:
        raise NumericalError(f"{sc.source}: training: {exc} (training.learning_rate is "
                             f"{sc.learning_rate_at(0):g} at the start)") from None
    first = result.network(0)
    history = result.history[:result.epochs[0], 0]
    run = RunState(first, sc.train, sc.test, sc.loss, history, int(result.epochs[0]), result, sc.stop, sc.ensemble)
    checks = checks + [(e, a, *e.check(a)) for e in sc.expectations if e.after is None
                       for a in [_measure(sc, e, run)]]
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, first, history, initial_error, initial_weights, initial_state, checks,
                          stopped_early=bool(result.converged[0]) and len(history) < sc.epochs,
                          wall_time=time.perf_counter() - started, ensemble=result)


def _measure(sc: Scenario, e: Expectation, run: RunState) -> float:
    """Take expectation ``e``'s measure; its errors name the expectation's key."""
    try:
        return sc.registry.measure(e.quantity)(run, **e.options)
    except NumericalError:
        raise
    except NeurosimError as exc:
        raise ScenarioError(sc.source, f"expect[{e.index}]{_culprit(e.options, str(exc))}", str(exc)) from None
    except (TypeError, ValueError) as exc:    # a plugin measure that did not check its options
        raise ScenarioError(sc.source, f"expect[{e.index}]", f"measure {e.quantity!r} failed on these options "
                            f"({type(exc).__name__}: {exc}); check their types") from None


def _merge_overrides(overrides: Mapping[str, Any] | None, more: Mapping[str, Any]) -> dict[str, Any]:
    """One ``{dotted.key: value}`` mapping from ``overrides`` and keyword overrides."""
    merged = dict(overrides or {})

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                flatten(f"{prefix}.{k}", v)
        else:
            merged[prefix] = value

    for key, value in more.items():
        flatten("scenario.seed" if key == "seed" else key, value)
    return merged


def _scheduled(value: float, schedule: list, epoch: int) -> float:
    """The value in force from ``epoch`` on: the last schedule entry starting at or before it."""
    for start, v in schedule:
        if start <= epoch:
            value = v
    return value


def _accepts(registry: Registry, measure: str, option: str) -> bool:
    accepted = registry.options("measure", measure)
    return accepted is None or option in accepted[0]


def _culprit(options: Mapping[str, Any], message: str) -> str:
    """``.key`` of the option a measure's error is about (its name is in the message, or
    it is the only option), else ``""``."""
    named = [k for k in options if k in message]
    if len(named) == 1:
        return f".{named[0]}"
    return f".{next(iter(options))}" if len(options) == 1 else ""


def _version() -> str:
    from . import __version__

    return __version__


def _plugin_versions(registry: Registry) -> dict[str, str]:
    dists = {name: f"{dist.project_name} {dist.version}"
             for plugin, dist in registry.manager.list_plugin_distinfo()
             for name in [registry.manager.get_name(plugin)]}
    return {name: dists.get(name, "not installed (loaded from a module)")
            for name, _plugin in registry.manager.list_name_plugin()}


# --- loading ----------------------------------------------------------------------------


_KEY_PIECE = re.compile(r"([^.\[\]]+)((?:\[[0-9]+\])*)")


def _key_path(dotted: str, source: str) -> list[str | int]:
    """``"expect[0].below"`` -> ``["expect", 0, "below"]``; ``"expect.0.below"`` keeps
    ``"0"`` a string, taken as an index only where the value there is an array."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        m = _KEY_PIECE.fullmatch(piece)
        if m is None:
            raise ScenarioError(source, dotted, "is not a key path; write table.key, with array[INDEX] or "
                                "array.INDEX for an entry of an array (e.g. expect[0].below)")
        name, indices = m.groups()
        parts.append(name)
        parts.extend(int(i) for i in re.findall(r"[0-9]+", indices))
    return parts


def _set_dotted(data: dict, dotted: str, value: Any, source: str) -> None:
    """Replace the value at a key path (``training.epochs``, ``network.layers[1].size``).

    Missing tables are created; an array must exist to be indexed.
    """
    parts = _key_path(dotted, source)
    node: Any = data
    here = ""                                   # the path walked so far, for messages
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if isinstance(key, str) and not (key.isascii() and key.isdigit()):
                raise ScenarioError(source, dotted, f"{here!r} is an array: index it with a number, "
                                    f"e.g. {here}[0]")
            key = int(key)
            if not 0 <= key < len(node):
                raise ScenarioError(source, dotted, f"{here!r} has {len(node)} entr"
                                    f"{'y' if len(node) == 1 else 'ies'}; index {key} is out of range "
                                    f"(0 to {len(node) - 1})")
            here = f"{here}[{key}]"
        elif isinstance(node, dict):
            if isinstance(key, int):
                raise ScenarioError(source, dotted, f"{here!r} is a table, not an array: name one of its keys")
            if not last and key not in node and isinstance(parts[depth + 1], int):
                raise ScenarioError(source, dotted, f"there is no array {f'{here}.{key}' if here else key!r} "
                                    "to take an entry of; add it to the file first")
            here = f"{here}.{key}" if here else key
            if not last:
                node = node.setdefault(key, {})
                continue
        else:
            raise ScenarioError(source, dotted, f"cannot override inside {here!r}, which is neither a table "
                                "nor an array")
        if last:
            node[key] = value
        else:
            node = node[key]


def _array(r: _Reader, value: Any, path: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise r.fail(path, "must be an array of patterns (non-empty), e.g. [[0.05, 0.10]]")
    rows = [row if isinstance(row, list) else [row] for row in value]
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise r.fail(f"{path}[{i}]", f"has {len(row)} values but pattern 0 has {len(rows[0])}; "
                                         "every pattern needs the same number of values")
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise r.fail(f"{path}[{i}][{j}]", f"must be a finite number, not {x!r}")
    return np.array(rows, dtype=np.float64)


def _inline(r: _Reader, d: Mapping, path: str) -> Patterns:
    """Patterns written in the file: ``inputs`` and ``targets`` arrays of equal length."""
    X = _array(r, d["inputs"], f"{path}.inputs")
    T = _array(r, r.get(d, "targets", path, (list,)), f"{path}.targets")
    if len(T) != len(X):
        raise r.fail(f"{path}.targets", f"has {len(T)} patterns but {path}.inputs has {len(X)}; give one "
                     "target row per input pattern")
    return Patterns(X, T)


def _load_patterns(r: _Reader, d: Mapping, path: str, base_dir: Path, registry: Registry) -> Patterns:
    """Patterns from one data source: inline arrays, a dataset plugin, or a file."""
    sources = [k for k in ("inputs", "dataset", "file") if k in d]
    if len(sources) != 1:
        raise r.fail(path, "give exactly one source: inputs and targets, dataset = NAME, or file = PATH"
                     + (f" (found {', '.join(sources)})" if sources else ""))
    only = {"targets": "inputs", "options": "dataset", "format": "file", "input_columns": "file",
            "target_columns": "file", "class_column": "file", "delimiter": "file", "header": "file",
            "keep_classes": "class_column", "positive_class": "class_column"}
    for key, needs in only.items():
        if key in d and needs not in d:
            raise r.fail(f"{path}.{key}", f"only applies with {needs} = ...")
    if "inputs" in d:
        return _inline(r, d, path)
    if "dataset" in d:
        name = r.get(d, "dataset", path, (str,))
        options = r.get(d, "options", path, (dict,), {})
        try:
            dataset = registry.with_options("dataset", name, options)
        except NeurosimError as exc:
            raise r.fail(f"{path}.{'options' if 'option' in str(exc) and name in registry.names('dataset') else 'dataset'}",
                         str(exc)) from None
        try:
            return dataset(**options)
        except NeurosimError as exc:
            raise r.fail(f"{path}.options", str(exc)) from None
    from .datafiles import read_patterns

    file = Path(r.get(d, "file", path, (str,)))
    fmt = r.get(d, "format", path, (str,), None, choices=FILE_FORMATS)
    kwargs: dict[str, Any] = {}
    for key, arg in (("input_columns", "inputs"), ("target_columns", "targets")):
        if key in d:
            cols = r.get(d, key, path, (list,))
            if not cols or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in cols):
                raise r.fail(f"{path}.{key}", "must be a non-empty array of column names or 0-based numbers")
            kwargs[arg] = cols
    if "class_column" in d:
        kwargs["classes"] = r.get(d, "class_column", path, (str, int))
    if "keep_classes" in d:
        kwargs["keep_classes"] = r.get(d, "keep_classes", path, (list,))
        if not kwargs["keep_classes"] or not all(isinstance(c, str) for c in kwargs["keep_classes"]):
            raise r.fail(f"{path}.keep_classes", "must be a non-empty array of class labels (strings)")
    if "positive_class" in d:
        kwargs["positive_class"] = r.get(d, "positive_class", path, (str,))
    if "delimiter" in d:
        kwargs["delimiter"] = r.get(d, "delimiter", path, (str,))
    if "header" in d:
        kwargs["header"] = r.get(d, "header", path, (bool,))
    try:
        return read_patterns(file if file.is_absolute() else base_dir / file, format=fmt, **kwargs)
    except NeurosimError as exc:
        # The reader names its own arguments; report the scenario key they came from.
        text, key = str(exc), "file"
        for arg, scenario_key in (("keep_classes", "keep_classes"), ("positive_class", "positive_class"),
                                  ("classes", "class_column"), ("inputs", "input_columns"),
                                  ("targets", "target_columns")):
            if f": {arg}:" in text and scenario_key in d:
                key = scenario_key
                break
        raise r.fail(f"{path}.{key}", text) from None


def load_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario's structure (plugin names are checked by ``resolve``).

    Parameters
    ----------
    source : str, path or mapping
        A TOML file, or an already parsed mapping.
    overrides : mapping, optional
        ``{"training.epochs": 100, "expect[0].below": 0.1, ...}``: key paths replaced
        before validation (an array's entry by index: ``network.layers[1].size``).

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
        raise r.fail("data", "is required: give a [data] table with inputs and targets, a dataset or a file")
    d = r.keys(top["data"], "data", "data")
    tests = [k for k in ("test", "test_fraction", "test_indices") if k in d]
    if len(tests) > 1:
        raise r.fail(f"data.{tests[1]}", f"conflicts with data.{tests[0]}; give one way to make the test set")
    for table, path in ((d, "data"), (d.get("test"), "data.test")):
        if isinstance(table, Mapping) and "inputs" in table:   # inline patterns: check them now
            _inline(r, table, path)
    if "test_fraction" in d:
        f = r.get(d, "test_fraction", "data", (float,))
        if not 0 < f < 1:
            raise r.fail("data.test_fraction", f"must be between 0 and 1 (the share held out), not {f!r}")
    if "test_indices" in d:
        idx = r.get(d, "test_indices", "data", (list,))
        if not idx or not all(isinstance(i, int) and not isinstance(i, bool) for i in idx):
            raise r.fail("data.test_indices", "must be a non-empty array of pattern numbers (0-based)")

    t = r.keys(top.get("training", {}), "training", "training")
    mode = r.get(t, "mode", "training", (str,), "online", choices=training.MODES)
    if "batch_size" in t and mode != "minibatch":
        raise r.fail("training.batch_size", f"applies to mode = 'minibatch' only; mode {mode!r} updates "
                     f"{'after every pattern' if mode == 'online' else 'once per epoch'}")
    epochs = r.get(t, "epochs", "training", (int,), 1, minimum=0)
    schedules = {}
    for key, what in (("momentum_schedule", "momentum"), ("learning_rate_schedule", "learning rate")):
        schedule = r.get(t, key, "training", (list,), [])
        for i, item in enumerate(schedule):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)
                    and not isinstance(item[0], bool) and item[0] >= 0 and isinstance(item[1], (int, float))
                    and not isinstance(item[1], bool) and math.isfinite(item[1]) and item[1] >= 0):
                raise r.fail(f"training.{key}[{i}]", f"must be [epoch, {what}] with a whole epoch >= 0 and a "
                             f"{what} >= 0, not {item!r}")
        epochs_listed = [int(a) for a, _ in schedule]
        if len(set(epochs_listed)) != len(epochs_listed):
            raise r.fail(f"training.{key}", "lists an epoch twice; give one value per epoch")
        schedules[key] = sorted((int(a), float(b)) for a, b in schedule)
    stop = None
    if "stop" in t:
        st = r.keys(t["stop"], "training.stop", "training.stop")
        if not st:
            raise r.fail("training.stop", "is empty; give error_below and/or within")
        stop = training.StopCriterion(r.get(st, "error_below", "training.stop", (float,), None, minimum=0.0),
                                      r.get(st, "within", "training.stop", (float,), None, minimum=0.0))
    seed = r.get(meta, "seed", "scenario", (int,), None, minimum=0)
    sc = Scenario(
        source=name, data=data, base_dir=base_dir,
        name=r.get(meta, "name", "scenario", (str,), Path(name).stem),
        description=r.get(meta, "description", "scenario", (str,), ""),
        seed=seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63),
        plugins=plugins,
        loss=r.get(t, "loss", "training", (str,), "mse"),
        learning_rate=r.get(t, "learning_rate", "training", (float,), 0.1, minimum=0.0),
        mode=mode, epochs=epochs,
        momentum=r.get(t, "momentum", "training", (float,), 0.0, minimum=0.0),
        momentum_schedule=schedules["momentum_schedule"],
        learning_rate_schedule=schedules["learning_rate_schedule"],
        batch_size=r.get(t, "batch_size", "training", (int,), None if mode != "minibatch" else _MISSING,
                         minimum=1),
        weight_decay=r.get(t, "weight_decay", "training", (float,), 0.0, minimum=0.0),
        stop=stop, ensemble=r.get(t, "ensemble", "training", (int,), None, minimum=1), expectations=[],
        shuffle=r.get(t, "shuffle", "training", (bool,), False),
    )
    if sc.shuffle and mode == "batch":
        raise r.fail("training.shuffle", "applies to mode = 'online' or 'minibatch'; batch mode sums the "
                     "gradient over all patterns, so their order does not matter")
    for i, e in enumerate(r.get(top, "expect", "", (list,), [])):
        sc.expectations.append(_expectation(r, e, i, epochs))
    if sc.ensemble is not None:
        for e in sc.expectations:
            if e.after is not None:
                raise r.fail(f"expect[{e.index}].after", "an ensemble is measured at the end of its run; remove "
                             "'after'")
    return sc


def _expectation(r: _Reader, table: Any, i: int, epochs: int) -> Expectation:
    path = f"expect[{i}]"
    if not isinstance(table, Mapping):
        raise r.fail(path, f"must be a table, not {type(table).__name__}")
    e = dict(table)
    base = {k: e.pop(k) for k in list(e) if k in SCHEMA["expect"]}
    q = r.get(base, "quantity", path, (str,))
    ex = Expectation(
        index=i, quantity=q,
        after=r.get(base, "after", path, (int,), None, minimum=0),
        value=r.get(base, "value", path, (float,), None),
        tolerance=r.get(base, "tolerance", path, (float,), 0.0, minimum=0.0),
        below=r.get(base, "below", path, (float,), None),
        above=r.get(base, "above", path, (float,), None),
        options=e,
    )
    if ex.after is not None and ex.after > epochs:
        raise r.fail(f"{path}.after", f"is {ex.after} but training.epochs is {epochs}; measure at most after "
                     "the last epoch")
    if ex.value is None and ex.below is None and ex.above is None and not ex.options:
        # (with other keys, a misspelt bound is reported by resolve, which knows the options)
        raise r.fail(path, "gives no bound; add value (with tolerance), below or above")
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
        registry.with_options("initializer", init_name, init_options)
    except NeurosimError as exc:
        raise r.fail("network.init.options", str(exc)) from None
    if "activation" in nd:
        try:
            registry.activation(default_act)
        except NeurosimError as exc:
            raise r.fail("network.activation", str(exc)) from None
    init_rng = np.random.default_rng(np.random.SeedSequence(sc.seed).spawn(2)[0])
    net = Network(registry=registry, dtype=dtype, seed=init_rng, init=init_name, init_options=init_options)

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
            if not isinstance(s, str):
                raise r.fail(f"{path}.from[{j}]", f"must be the name of an earlier layer (a string), not {s!r}")
            if s not in layer_units:
                hint = ("it comes later; layers may only take from earlier layers" if any(
                    isinstance(x, Mapping) and x.get("name") == s for x in layers[i:]) else
                    did_you_mean(str(s), layer_units, "earlier layers"))
                raise r.fail(f"{path}.from[{j}]", f"no earlier layer named {s!r}; {hint}")
        output = r.get(ly, "output", path, (bool,), i == len(layers) - 1 and bool(sources))
        act = r.get(ly, "activation", path, (str,), default_act)
        kind = "neuron" if sources else "input"
        for key in ("output", "activation"):
            if kind == "input" and key in ly:
                raise r.fail(f"{path}.{key}", "does not apply to a layer of input units (a layer without "
                             "'from'); give the layer from = [...] to make it computing neurons")
        layer_units[lname] = guard(path, net.add_layer, lname, size, act, kind=kind, output=output,
                                   connect_from=[layer_units[s] for s in sources])

    for i, neuron in enumerate(r.get(nd, "neurons", "network", (list,), [])):
        path = f"network.neurons[{i}]"
        nt = r.keys(neuron, "network.neurons", path)
        name = r.get(nt, "name", path, (str,))
        kind = r.get(nt, "kind", path, (str,), "neuron", choices=NEURON_KINDS)
        for key in ("output", "activation", "group"):
            if kind != "neuron" and key in nt:
                raise r.fail(f"{path}.{key}", f"does not apply to {kind} units, whose output is "
                             f"{'the pattern value' if kind == 'input' else 'always 1'}; remove it")
        if kind == "input":
            guard(path, net.add_input, name)
        elif kind == "bias":
            guard(path, net.add_bias, name)
        else:
            guard(path, net.add_neuron, name, r.get(nt, "activation", path, (str,), default_act),
                  output=r.get(nt, "output", path, (bool,), False), group=r.get(nt, "group", path, (str,), None))

    if policy == "shared" and "bias" not in net:
        guard("network.bias", net.add_bias, "bias")
    elif policy == "shared" and net["bias"].kind != "bias":
        raise r.fail("network.bias", "is 'shared', which adds a bias unit named 'bias', but a neuron already has "
                     "that name; rename it or use bias = 'explicit'")
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
                net.set_label(parts[0], parts[1], label)
        else:
            guard(path, net.connect, parts[0], parts[1], weight, trainable=trainable, label=label)

    if policy == "shared":
        bias = net["bias"]
        others = [b.name for b in net.biases if b is not bias]
        if bias.kind != "bias" or others:
            raise r.fail("network.bias", f"is 'shared' (one bias unit named 'bias' feeds every neuron), but "
                         f"{'a neuron is named bias' if bias.kind != 'bias' else 'bias units ' + ', '.join(others)} "
                         "is declared; use bias = 'explicit' to wire bias units yourself")
        for u in net.neurons:
            if not net.graph.has_edge(bias, u):
                net.connect(bias, u)
    elif policy == "none" and net.biases:
        raise r.fail("network.bias", f"is 'none' but bias units are declared ({net.biases[0].name!r}); "
                     "use bias = 'explicit'")
    d = sc.data["data"]
    in_key, out_key = ("data.inputs", "data.targets") if "inputs" in d else (
        ("data.options", "data.options") if "dataset" in d else ("data.file", "data.file"))
    if len(net.inputs) != sc.train.inputs.shape[1]:
        raise r.fail(in_key, f"patterns have {sc.train.inputs.shape[1]} values but the network has "
                     f"{len(net.inputs)} inputs ({', '.join(u.name for u in net.inputs[:10]) or 'none'}"
                     f"{' ...' if len(net.inputs) > 10 else ''})")
    if len(net.outputs) != sc.train.targets.shape[1]:
        raise r.fail(out_key, f"target patterns have {sc.train.targets.shape[1]} values but the network has "
                     f"{len(net.outputs)} outputs ({', '.join(u.name for u in net.outputs[:10]) or 'none'}"
                     f"{' ...' if len(net.outputs) > 10 else ''})")
    guard("network", net.compile)
    return net


def run_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None, *,
                 registry: Registry | None = None, **more: Any) -> ScenarioResult:
    """Load, build, train and check a scenario.

    Parameters
    ----------
    source : str, path or mapping
        A TOML scenario file or a parsed mapping (see ``docs/scenarios.md``).
    overrides : mapping, optional
        Dotted keys to replace, e.g. ``{"training.epochs": 100, "scenario.seed": 3}``.
    registry : Registry, optional
        Plugins to use. By default a fresh registry of the installed plugins plus the
        scenario's ``plugins = [...]`` is made for this run.
    **more
        More overrides as keywords: a table of keys (``training={"epochs": 100}``),
        ``seed=3`` for ``scenario.seed``, or dotted keys (``**{"training.epochs": 100}``).

    Returns
    -------
    ScenarioResult
        ``result.network`` (trained), ``result.history``, ``result.checks``,
        ``result.passed``; ``result.save(DIR)`` writes the results.

    Raises
    ------
    ScenarioError
        When the scenario is invalid (the message names the file and key).
    NumericalError
        When training diverges (the message names the file).

    Examples
    --------
    >>> result = run_scenario("scenarios/mazur.toml")            # doctest: +SKIP
    >>> round(result.network.weight("h1", "o1"), 8)               # doctest: +SKIP
    0.35891648
    """
    started = time.perf_counter()
    sc = load_scenario(source, _merge_overrides(overrides, more)).resolve(registry)
    net = sc.build_network()
    run = RunState(net, sc.train, sc.test, sc.loss, np.empty(0), 0, None, sc.stop, sc.ensemble)
    X, T = sc.train.inputs, sc.train.targets

    def measure(e: Expectation) -> float:
        return _measure(sc, e, run)

    try:
        initial_error = net.error(X, T, sc.loss)
    except NumericalError as exc:
        outs = sorted({u.activation for u in net.outputs})
        raise ScenarioError(sc.source, "training.loss", f"{exc}. The untrained network already gives no finite "
                            f"error: does {sc.loss!r} suit outputs with activation {', '.join(outs)}? (bce needs "
                            "outputs in (0, 1), e.g. sigmoid; cce needs softmax or sigmoid outputs)") from None
    initial = {e.index: measure(e) for e in sc.expectations}     # also validates every one
    net.forward(X[:1])
    initial_state = {u.name: (float(u.net[0]), float(u.out[0])) for u in net.neurons}
    initial_weights = net.weights()
    checks = [(e, initial[e.index], *e.check(initial[e.index])) for e in sc.expectations if e.after == 0]

    optimizer = training.SGD(sc.learning_rate_at(0), sc.momentum_at(0), sc.weight_decay)
    orders = sc.pattern_orders()
    if sc.ensemble is not None:
        return _run_ensemble(sc, net, optimizer, orders, initial_error, initial_weights, initial_state, checks,
                             started)
    stops = sorted({e.after for e in sc.expectations if e.after} | {sc.epochs})
    parts, stopped = [], False
    for stop_at in stops:
        if stop_at <= run.epochs:
            continue
        want = stop_at - run.epochs
        try:
            part = net.train(X, T, sc.loss, epochs=want, mode=sc.mode, batch_size=sc.batch_size,
                             optimizer=optimizer, stop=sc.stop, shuffle=orders,
                             schedule=lambda epoch: sc.apply_schedule(optimizer, run.epochs + epoch))
        except NumericalError as exc:
            raise NumericalError(f"{sc.source}: training: {exc} (training.learning_rate is "
                                 f"{sc.learning_rate_at(0):g} at the start)") from None
        parts.append(part)
        run.history = np.concatenate(parts)
        run.epochs += len(part)
        stopped = len(part) < want
        if stopped:
            break
        checks += [(e, a, *e.check(a)) for e in sc.expectations if e.after == stop_at for a in [measure(e)]]
        # A segment that ended on a checkpoint cannot have asked the stop criterion about
        # its last epoch; ask now, so a checkpoint never buys an extra epoch of training.
        if sc.stop is not None and run.epochs < sc.epochs and len(run.history) and \
                sc.stop(run.history[-1], net.forward(X), T):
            stopped = True
            break
    checks += [(e, a, *e.check(a)) for e in sc.expectations
               if e.after is None or (stopped and e.after > run.epochs) for a in [measure(e)]]
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, net, run.history, initial_error, initial_weights, initial_state, checks,
                          stopped_early=stopped, wall_time=time.perf_counter() - started)
