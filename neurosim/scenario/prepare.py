"""Everything a run takes before its first epoch, shared by ``check`` and ``run``.

:func:`_prepare` builds the network, checks the memory the run will need, makes the
optimiser, computes the untrained error and measures every expectation once (which also
validates them), so ``neurosim check`` refuses whatever ``neurosim run`` would refuse
before training; :func:`_naming` makes every error raised on the way name the file.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import training
from ..errors import NeurosimError, NumericalError, ResourceError, ScenarioError
from ..network import Network
from ..resources import require_memory
from ..rules import Optimizer
from .measuring import RunState, _checked, _measure, task_of

if TYPE_CHECKING:  # pragma: no cover
    from .model import Scenario

__all__: list[str] = []


@dataclass
class _Prepared:
    """Everything a run has before its first epoch (see :func:`_prepare`)."""

    network: Network
    run: RunState
    optimizer: Optimizer
    initial_error: float
    initial_weights: dict
    initial_state: dict
    checks: list
    draws: list
    task: str


def _prepare(sc: Scenario) -> _Prepared:
    """Build the network and take every step a run takes before training; ``check`` and
    ``run`` share it, so ``check`` refuses whatever ``run`` would refuse before its first
    epoch."""
    with _naming(sc.source):
        net = sc.build_network()
        draws = sc.random_draws(net)
        _check_memory(sc, net)
        _check_targets(sc)
        X, T = sc.train.inputs, sc.train.targets
        optimizer = sc.make_optimizer()
        run = RunState(net, sc.train, sc.test, sc.loss, np.empty(0), 0, None, sc.stop, sc.ensemble, sc.registry,
                       sc.raw_train, sc.raw_test, sc.validation, sc.raw_validation)
        try:
            initial_error = net.error(X, T, sc.loss)
        except NumericalError as exc:
            outs = sorted({u.activation for u in net.outputs})
            raise ScenarioError(sc.source, "training.loss", f"{exc}. The untrained network already gives no finite "
                                f"error: does {sc.loss!r} suit outputs with activation {', '.join(outs)}? (bce "
                                "needs outputs in (0, 1), e.g. sigmoid; cce needs softmax or sigmoid outputs)"
                                ) from None
        initial = {e.index: _measure(sc, e, run) for e in sc.expectations}     # also validates every one
        net.forward(X[:1])
        initial_state = {u.name: (float(u.net[0]), float(u.out[0])) for u in net.neurons}
        checks = [_checked(e, initial[e.index], run) for e in sc.expectations if e.after == 0]
        task = task_of([p.targets for p in (sc.raw_train, sc.raw_test, sc.raw_validation) if p is not None],
                       sc.registry.loss(sc.loss), [u.activation for u in net.outputs])
        return _Prepared(net, run, optimizer, initial_error, net.weights(), initial_state, checks, draws, task)


def _check_memory(sc: Scenario, net: Network) -> None:
    """Refuse, naming the key that asks for it, a run that cannot fit in memory: the
    ensemble's weights, the state of a pass over the training set, the learning curve.

    The need of one network is checked first, and its largest part named; then the
    ensemble's, which multiplies every part and is to blame when only it does not fit.
    """
    plan = net.compile()

    def parts(members: int) -> dict[str, float]:
        return {"training.ensemble": plan.parameter_bytes(members) if members > 1 else 0.0,
                "data": plan.state_bytes(len(sc.train), members),
                "training.epochs": training.history_bytes(sc.epochs, members) if sc.stop is None else 0.0}

    what = {"data": f"a pass over the {len(sc.train)} training patterns",
            "training.epochs": f"the learning curve of {sc.epochs} epochs"}
    fix = {"data": "use fewer or smaller patterns", "training.epochs": "train for fewer epochs, or add [training.stop]"}
    for members in (1,) + ((sc.ensemble,) if sc.ensemble and sc.ensemble > 1 else ()):
        need = parts(members)
        key = "training.ensemble" if members > 1 else max(need, key=need.get)
        try:
            require_memory(sum(need.values()), what[key] if members == 1 else
                           f"training {members} ensemble members of this network", fix[key] if members == 1 else
                           "train fewer members at once", now=key != "training.epochs")
        except ResourceError as exc:
            raise ScenarioError(sc.source, key, str(exc)) from None


def _check_targets(sc: Scenario) -> None:
    """Refuse training, test or validation targets outside the range the loss is defined on (a bce
    target of 2), naming the data key they came from, or ``data.scale`` when they were in
    range until scaling moved them."""
    loss = sc.registry.loss(sc.loss)
    d = sc.data["data"]
    for which, patterns, raw, table, path in (
            ("training", sc.train, sc.raw_train, d, "data"),
            ("test", sc.test, sc.raw_test, d.get("test", d), "data.test" if "test" in d else "data"),
            ("validation", sc.validation, sc.raw_validation, d.get("validation", d),
             "data.validation" if "validation" in d else "data")):
        if patterns is None:
            continue
        try:
            loss.check_targets(raw.targets)
        except NeurosimError as exc:
            key = next((f"{path}.{k}" for k in ("targets", "dataset", "file") if k in table), path)
            raise ScenarioError(sc.source, key, f"{which} {exc}") from None
        try:
            loss.check_targets(patterns.targets)
        except NeurosimError as exc:
            keep = f"scale = {{ inputs = \"{sc.scaling.inputs}\" }}" if sc.scaling.inputs else "remove data.scale"
            raise ScenarioError(sc.source, "data.scale", f"the scaled {which} {exc}. Scaling the targets "
                                f"({sc.scaling.targets}) moved them there: leave the targets as they are "
                                f"({keep})") from None


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
