"""Running a scenario: prepare, train, measure.

:func:`run_scenario` loads (or takes) a scenario, prepares everything a run has before its
first epoch (:func:`_prepare`, shared with :meth:`Scenario.check`), trains one network —
pausing at every epoch an expectation is measured after — or an ensemble at once, as one
:class:`~neurosim.training.TrainingRun`, and measures every expectation
(:func:`_measure`: a measure's own ``stat``, or one taken on every ensemble member).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import NumericalError, ScenarioError
from ..plugins import Registry
from ..training import TrainingRun
from .load import _merge_overrides, load_scenario
from .measuring import RunState, _checked, _Diverged, _measure
from .model import Scenario
from .prepare import _naming, _Prepared, _prepare
from .result import ScenarioResult

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


def _run_single(sc: Scenario, p: _Prepared, started: float) -> ScenarioResult:
    """Train one network, pausing at every epoch an expectation is measured after (``after``)."""
    net, run, checks = p.network, p.run, list(p.checks)
    job = TrainingRun(net, sc.train.inputs, sc.train.targets, sc.loss, **_options(sc, p))
    with _training(sc):
        for pause in sorted({e.after for e in sc.expectations if e.after} | {sc.epochs}):
            job.run(until=pause)
            run.history, run.epochs = job.history(), job.epoch
            if job.epoch == pause:
                checks += [_checked(e, _measure(sc, e, run), run) for e in sc.expectations if e.after == pause]
            if job.finished:
                break
    checks += [_checked(e, _measure(sc, e, run), run) for e in sc.expectations
               if e.after is None or e.after > run.epochs]
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, net, run.history, p.initial_error, p.initial_weights, p.initial_state, checks,
                          stopped_early=job.stopped, wall_time=time.perf_counter() - started, draws=p.draws, task=p.task)


def _run_ensemble(sc: Scenario, p: _Prepared, started: float) -> ScenarioResult:
    """Train ``training.ensemble`` members; member k has the seed ``scenario.seed + k``."""
    seeds = [np.random.SeedSequence(sc.seed + k).spawn(2)[0] for k in range(sc.ensemble)]
    job = TrainingRun(p.network, sc.train.inputs, sc.train.targets, sc.loss, ensemble=sc.ensemble, seeds=seeds,
                      **_options(sc, p))
    with _training(sc):
        result = job.run().result()
    first = None if result.diverged[0] else result.network(0)
    history = result.history[:result.epochs[0], 0]
    run = RunState(first if first is not None else _Diverged(0, sc.seed), sc.train, sc.test, sc.loss, history,
                   int(result.epochs[0]), result, sc.stop, sc.ensemble, sc.registry, sc.raw_train, sc.raw_test,
                   sc.validation, sc.raw_validation)
    checks = p.checks + [_checked(e, _measure(sc, e, run), run) for e in sc.expectations if e.after is None]
    checks.sort(key=lambda c: c[0].index)
    return ScenarioResult(sc, first, history, p.initial_error, p.initial_weights, p.initial_state, checks,
                          stopped_early=bool(result.converged[0]) and len(history) < sc.epochs,
                          wall_time=time.perf_counter() - started, ensemble=result, draws=p.draws, task=p.task)


def _options(sc: Scenario, p: _Prepared) -> dict[str, Any]:
    """What the scenario's training passes to :class:`~neurosim.training.TrainingRun`."""
    return dict(epochs=sc.epochs, mode=sc.mode, batch_size=sc.batch_size, optimizer=p.optimizer, stop=sc.stop,
                shuffle=sc.pattern_orders(), schedule=sc.schedule(p.optimizer),
                validation=None if sc.validation is None else (sc.validation.inputs, sc.validation.targets))


@contextlib.contextmanager
def _training(sc: Scenario):
    """A run that diverges names the file and the learning rate it started with."""
    try:
        yield
    except NumericalError as exc:
        rate = sc.learning_rate_at(0)
        start = f"training.learning_rate is {rate:g} at the start" if sc.optimizer == "sgd" else \
            f"training.optimizer is {sc.optimizer!r}" + (f" with {sc.optimizer_options}" if sc.optimizer_options
                                                         else "")
        raise NumericalError(f"{sc.source}: training: {exc} ({start})") from None
