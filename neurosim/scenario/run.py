"""Running a scenario: prepare, train, measure.

:func:`run_scenario` loads (or takes) a scenario, prepares everything a run has before its
first epoch (:func:`_prepare`, shared with :meth:`Scenario.check`), trains one network in
stages that end at the checkpoints, or an ensemble at once, and measures every expectation
(:func:`_measure`: a measure's own ``stat``, or one taken on every ensemble member).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import training
from ..errors import NeurosimError, NumericalError, ResourceError, ScenarioError
from ..functions import STATISTICS
from ..network import Network
from ..plugins import Registry
from ..resources import require_memory
from .load import _merge_overrides, load_scenario
from .model import Expectation, RunState, Scenario
from .result import ScenarioResult
from .schema import _accepts

__all__ = ["run_scenario"]


def run_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None, *,
                 registry: Registry | None = None, **more: Any) -> ScenarioResult:
    """Load, build, train and check a scenario.

    Parameters
    ----------
    source : str, path, mapping or Scenario
        A TOML scenario file, a parsed mapping (see ``docs/scenarios.md``), or a
        :class:`Scenario` from :func:`load_scenario` (after :meth:`Scenario.check`, the
        run starts from the network the check built instead of building it again).
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
    if isinstance(source, Scenario):                  # loaded already, perhaps checked
        if overrides or more:
            raise ScenarioError(source.source, "", "overrides apply when a scenario is loaded; pass them to "
                                "load_scenario, or give run_scenario the file")
        sc = source if source.registry is not None and registry is None else source.resolve(registry)
        p = sc.__dict__.pop("_prepared", None)       # what check() built, used once
    else:
        sc = load_scenario(source, _merge_overrides(source, overrides, more)).resolve(registry)
        p = None
    with _naming(sc.source):
        p = p or _prepare(sc)
        if sc.ensemble is not None:
            return _run_ensemble(sc, p, started)
        return _run_single(sc, p, started)


@dataclass
class _Prepared:
    """Everything a run has before its first epoch (see :func:`_prepare`)."""

    network: Network
    run: RunState
    optimizer: training.SGD
    initial_error: float
    initial_weights: dict
    initial_state: dict
    checks: list
    draws: list


def _prepare(sc: Scenario) -> _Prepared:
    """Build the network and take every step a run takes before training; ``check`` and
    ``run`` share it, so ``check`` refuses whatever ``run`` would refuse before its first
    epoch."""
    with _naming(sc.source):
        net = sc.build_network()
        draws = sc.random_draws(net)
        _check_memory(sc, net)
        X, T = sc.train.inputs, sc.train.targets
        try:
            optimizer = training.SGD(sc.learning_rate_at(0), sc.momentum_at(0), sc.weight_decay)
        except NeurosimError as exc:
            raise ScenarioError(sc.source, "training", str(exc)) from None
        run = RunState(net, sc.train, sc.test, sc.loss, np.empty(0), 0, None, sc.stop, sc.ensemble, sc.registry)
        try:
            initial_error = net.error(X, T, sc.loss)
        except NumericalError as exc:
            outs = sorted({u.activation for u in net.outputs})
            raise ScenarioError(sc.source, "training.loss", f"{exc}. The untrained network already gives no finite "
                                f"error: does {sc.loss!r} suit outputs with activation {', '.join(outs)}? (bce "
                                "needs outputs in (0, 1), e.g. sigmoid; cce needs softmax or sigmoid outputs)") from None
        initial = {e.index: _measure(sc, e, run) for e in sc.expectations}     # also validates every one
        net.forward(X[:1])
        initial_state = {u.name: (float(u.net[0]), float(u.out[0])) for u in net.neurons}
        checks = [_checked(e, initial[e.index], run) for e in sc.expectations if e.after == 0]
        return _Prepared(net, run, optimizer, initial_error, net.weights(), initial_state, checks, draws)


def _check_memory(sc: Scenario, net: Network) -> None:
    """Refuse, naming the key that asks for it, a run that cannot fit in memory: the
    ensemble's weights, the state of a pass over the training set, the learning curve."""
    plan = net.compile()
    members = sc.ensemble or 1
    parts = {"training.ensemble": plan.parameter_bytes(members) if sc.ensemble else 0.0,
             "data": plan.state_bytes(len(sc.train), members),
             "training.epochs": 8.0 * sc.epochs * members if sc.stop is None else 0.0}
    # the ensemble is to blame whenever it multiplies the need (unless the history is most of it)
    key = "training.ensemble" if sc.ensemble and sc.ensemble > 1 and max(parts, key=parts.get) != "training.epochs" \
        else max(parts, key=parts.get)
    what = {"training.ensemble": f"training {members} ensemble members of this network",
            "data": f"a pass over the {len(sc.train)} training patterns"
                    + (f" for {members} ensemble members" if sc.ensemble else ""),
            "training.epochs": f"the learning curve of {sc.epochs} epochs"
                               + (f" for {members} members" if sc.ensemble else "")}[key]
    fix = {"training.ensemble": "train fewer members at once", "data": "use fewer or smaller patterns",
           "training.epochs": "train for fewer epochs, or add [training.stop]"}[key]
    try:
        require_memory(sum(parts.values()), what, fix, now=key != "training.epochs")
    except ResourceError as exc:
        raise ScenarioError(sc.source, key, str(exc)) from None


def _run_single(sc: Scenario, p: _Prepared, started: float) -> ScenarioResult:
    """Train one network in stages that end at the checkpoints (``after``) and measure."""
    net, run, optimizer, checks = p.network, p.run, p.optimizer, list(p.checks)
    X, T = sc.train.inputs, sc.train.targets
    orders = sc.pattern_orders()
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
        checks += [_checked(e, _measure(sc, e, run), run) for e in sc.expectations if e.after == stop_at]
        # A segment that ended on a checkpoint cannot have asked the stop criterion about
        # its last epoch; ask now, so a checkpoint never buys an extra epoch of training.
        if sc.stop is not None and run.epochs < sc.epochs and len(run.history) and \
                sc.stop(run.history[-1], net.forward(X), T):
            stopped = True
            break
    checks += [_checked(e, _measure(sc, e, run), run) for e in sc.expectations
               if e.after is None or (stopped and e.after > run.epochs)]
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, net, run.history, p.initial_error, p.initial_weights, p.initial_state, checks,
                          stopped_early=stopped, wall_time=time.perf_counter() - started, draws=p.draws)


def _run_ensemble(sc: Scenario, p: _Prepared, started: float) -> ScenarioResult:
    """Train ``training.ensemble`` members; member k has the seed ``scenario.seed + k``."""
    X, T = sc.train.inputs, sc.train.targets
    optimizer = p.optimizer
    seeds = [np.random.SeedSequence(sc.seed + k).spawn(2)[0] for k in range(sc.ensemble)]
    try:
        result = p.network.train(X, T, sc.loss, epochs=sc.epochs, mode=sc.mode, batch_size=sc.batch_size,
                                 optimizer=optimizer, stop=sc.stop, ensemble=sc.ensemble, seeds=seeds,
                                 schedule=lambda epoch: sc.apply_schedule(optimizer, epoch),
                                 shuffle=sc.pattern_orders())
    except NumericalError as exc:
        raise NumericalError(f"{sc.source}: training: {exc} (training.learning_rate is "
                             f"{sc.learning_rate_at(0):g} at the start)") from None
    first = None if result.diverged[0] else result.network(0)
    history = result.history[:result.epochs[0], 0]
    run = RunState(first if first is not None else _Diverged(0, sc.seed), sc.train, sc.test, sc.loss, history,
                   int(result.epochs[0]), result, sc.stop, sc.ensemble, sc.registry)
    checks = p.checks + [_checked(e, _measure(sc, e, run), run) for e in sc.expectations if e.after is None]
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, first, history, p.initial_error, p.initial_weights, p.initial_state, checks,
                          stopped_early=bool(result.converged[0]) and len(history) < sc.epochs,
                          wall_time=time.perf_counter() - started, ensemble=result, draws=p.draws)


class _Diverged:
    """Stands in for the network of an ensemble member that diverged: a measure that
    needs it gets a NumericalError (and the expectation then fails, saying why)."""

    def __init__(self, member: int, seed: int):
        self.member, self.seed = member, seed

    def __getattr__(self, name: str):
        if name.startswith("__"):                # copy, pickle and repr look for these
            raise AttributeError(name)
        raise NumericalError(f"ensemble member {self.member} (seed {self.seed + self.member}) diverged, so "
                             "measures of its network are undefined")

    def __getitem__(self, name):
        return self.__getattr__("__getitem__")


@contextlib.contextmanager
def _naming(source: str):
    """Make every neurosim error raised inside name the scenario file it concerns.

    Scenario errors name it already; a plugin's, a data file's or a network's error
    from deep inside a run gets ``FILE: `` in front (keeping its type, so a diverged run
    is still a NumericalError).
    """
    try:
        yield
    except ScenarioError:
        raise
    except NeurosimError as exc:
        text = str(exc)
        if text.startswith(f"{source}:"):
            raise
        try:
            named = type(exc)(f"{source}: {text}")
        except TypeError:                   # an error class with another signature
            named = ScenarioError(source, "", text)
        raise named.with_traceback(exc.__traceback__) from None


def _checked(e: Expectation, actual: float, run: RunState) -> tuple:
    """``(expectation, actual, met, bound)``; when ``actual`` is NaN the bound says why."""
    met, bound = e.check(actual)
    ens = run.ensemble
    if ens is not None and e.stat is not None and ens.n_diverged:
        bound += ("; undefined: every ensemble member diverged" if ens.diverged.all() else
                  f"; {ens.n_diverged} of {ens.members} members diverged and are left out")
    elif ens is not None and not math.isfinite(actual) and isinstance(run.network, _Diverged):
        bound += f"; undefined: ensemble member 0 (seed {run.network.seed}) diverged"
    return e, actual, met, bound


def _measure(sc: Scenario, e: Expectation, run: RunState) -> float:
    """Take expectation ``e``'s measure; its errors name the expectation's key.

    With ``stat``, a measure that takes a ``stat`` option itself (``error``, ``epochs``)
    gets it; any other is taken on every ensemble member that did not diverge and
    summarised here (NaN before training, or when every member diverged).
    """
    options = dict(e.options)
    try:
        if e.stat is not None and _accepts(sc.registry, e.quantity, "stat"):
            options["stat"] = e.stat
        elif e.stat is not None:
            if run.ensemble is None:
                sc.registry.measure(e.quantity)(run, **options)      # validates the options before training
                return math.nan
            kept = run.each_member(e.quantity, **options)[~run.ensemble.diverged]
            return float(STATISTICS[e.stat](kept)) if len(kept) else math.nan
        return sc.registry.measure(e.quantity)(run, **options)
    except NumericalError:
        if run.ensemble is not None:      # a diverged member's measure: undefined, and the check fails
            return math.nan
        raise
    except NeurosimError as exc:
        raise ScenarioError(sc.source, f"expect[{e.index}]{_culprit(e.options, str(exc))}", str(exc)) from None
    except (TypeError, ValueError) as exc:    # a plugin measure that did not check its options
        raise ScenarioError(sc.source, f"expect[{e.index}]", f"measure {e.quantity!r} failed on these options "
                            f"({type(exc).__name__}: {exc}); check their types") from None


def _culprit(options: Mapping[str, Any], message: str) -> str:
    """``.key`` of the option a measure's error is about (its name is in the message, or
    it is the only option), else ``""``."""
    named = [k for k in options if k in message]
    if len(named) == 1:
        return f".{named[0]}"
    return f".{next(iter(options))}" if len(options) == 1 else ""
