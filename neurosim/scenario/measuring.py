"""What an expectation measures, and how: :class:`Expectation`, the :class:`RunState` a
measure sees, and taking a measure (:func:`measure`) — with its own ``stat``, on every
ensemble member, or as NaN with the reason when a diverged member makes it undefined;
and :func:`task_of`, the one rule that says whether a run is a classification (reported
by accuracy) or a regression (reported by mae, rmse and r2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NeurosimError, NumericalError, ScenarioError
from ..functions import Loss, Patterns, STATISTICS
from ..network import Network
from ..plugins import Registry
from .schema import _accepts

if TYPE_CHECKING:  # pragma: no cover
    from .model import Scenario

__all__ = ["Expectation", "RunState", "task_of", "PROBABILITY_ACTIVATIONS"]

#: Output activations whose every output lies in (0, 1), as a classifier's probabilities do.
PROBABILITY_ACTIVATIONS = ("sigmoid", "softmax")


def task_of(targets: Iterable[np.ndarray], loss: Loss, output_activations: Iterable[str]) -> str:
    """Whether a run is a ``"classification"`` or a ``"regression"``: the rule reports follow.

    A run is a classification when both hold:

    1. every target, of every set given (in the data's original units, before
       ``data.scale``), is exactly 0 or 1 — one 0/1 output, one-hot classes, or several
       0/1 labels;
    2. the outputs are a classifier's: the loss is defined on targets in [0, 1] only (the
       cross-entropies ``bce`` and ``cce``, or a plugin loss declaring ``targets = (0,
       1)``), or every output neuron's activation is one of
       :data:`PROBABILITY_ACTIVATIONS` (sigmoid, softmax).

    Anything else is a regression: targets that are not all 0 or 1 (sin x, 0.01 and 0.99,
    −1 and 1), or 0/1 targets fitted by unbounded outputs (identity, tanh, relu) with a
    loss such as ``mse``. A classification is reported by its accuracy, a regression by
    its mae, rmse and r2; any measure can still be bounded in ``[[expect]]``.

    Parameters
    ----------
    targets : iterable of ndarray
        The target arrays (training, and test when there is one), in original units.
    loss : neurosim.Loss
        The training loss.
    output_activations : iterable of str
        The activation of each output neuron.

    Returns
    -------
    str
        ``"classification"`` or ``"regression"``.
    """
    binary = all(bool(np.all((T == 0) | (T == 1))) for T in targets)
    classifier = loss.targets == (0.0, 1.0) or all(a in PROBABILITY_ACTIVATIONS for a in output_activations)
    return "classification" if binary and classifier else "regression"


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
    stat : str, optional
        With an ensemble: ``min``, ``median``, ``mean`` or ``max`` of the measure over
        the members that did not diverge.
    """

    index: int
    quantity: str
    after: int | None
    value: float | None = None
    tolerance: float = 0.0
    below: float | None = None
    above: float | None = None
    options: dict = field(default_factory=dict)
    stat: str | None = None

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
        over = f", {self.stat} over the members" if self.stat else ""
        return f"{what}{f' ({rest})' if rest else ''}{over} {when}"

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
        Training and test patterns as the network is trained on them (``test`` is None
        without a test set): with ``data.scale``, scaled.
    loss : str
        The training loss's name.
    history : ndarray
        Training error after each epoch so far (the running error with a running
        history, minibatch mode's default).
    epochs : int
        Epochs trained so far.
    ensemble : EnsembleResult or None
        With ``training.ensemble``: every member's results; ``network`` is then member 0
        (the scenario's own seed), or None when member 0 diverged.
    stop : StopCriterion or None
        The scenario's ``[training.stop]``.
    members : int or None
        ``training.ensemble`` (known before the ensemble has run).
    registry : Registry or None
        The run's plugins (what :meth:`each_member` looks measures up in).
    raw_train, raw_test : Patterns or None
        The same patterns in their original units, before ``data.scale`` (None: the
        same as ``train`` and ``test``). Measures in the targets' units compare
        ``network.predict(raw.inputs)`` with ``raw.targets``.
    validation, raw_validation : Patterns or None
        The validation set (``data.validation`` or ``data.validation_fraction``), if
        any, as trained on and as read.
    """

    network: Network | None
    train: Patterns
    test: Patterns | None
    loss: str
    history: np.ndarray
    epochs: int = 0
    ensemble: Any = None
    stop: Any = None
    members: int | None = None
    registry: Registry | None = None
    raw_train: Patterns | None = None
    raw_test: Patterns | None = None
    validation: Patterns | None = None
    raw_validation: Patterns | None = None

    def each_member(self, quantity: str, **options: Any) -> np.ndarray:
        """Take measure ``quantity`` on every ensemble member's trained network.

        Parameters
        ----------
        quantity : str
            A registered measure.
        **options
            Its options.

        Returns
        -------
        ndarray
            ``(K,)``, NaN for members that diverged (they have no trained network), and
            all NaN before the ensemble has run.
        """
        if self.ensemble is None:
            return np.full(self.members or 0, np.nan)
        measure = self.registry.measure(quantity)
        ens = self.ensemble
        values = np.full(ens.members, np.nan)
        for k, net in ens.networks():
            if net is not None:
                member = RunState(net, self.train, self.test, self.loss, ens.history[:ens.epochs[k], k],
                                  int(ens.epochs[k]), None, self.stop, None, self.registry, self.raw_train,
                                  self.raw_test, self.validation, self.raw_validation)
                values[k] = measure(member, **options)
        return values


class _Diverged:
    """Stands in for the network of an ensemble member that diverged: a measure that
    needs it gets a NumericalError (and the expectation then fails, saying why)."""

    def __init__(self, member: int, seed: int):
        self.member, self.seed = member, seed

    def _undefined(self) -> NumericalError:
        return NumericalError(f"ensemble member {self.member} (seed {self.seed + self.member}) diverged, so "
                              "measures of its network are undefined")

    def __getattr__(self, name: str):
        if name.startswith("__"):                # copy, pickle and repr look for these
            raise AttributeError(name)
        raise self._undefined()

    def __getitem__(self, name):
        raise self._undefined()


def _checked(e: Expectation, actual: float, run: RunState) -> tuple:
    """``(expectation, actual, met, bound)``; when ``actual`` is NaN the bound says why."""
    met, bound = e.check(actual)
    ens = run.ensemble
    if ens is None:
        return e, actual, met, bound
    if e.stat is not None and ens.diverged.all():
        bound += "; undefined: every ensemble member diverged"
    elif e.stat is not None:
        if ens.n_diverged:
            bound += f"; {ens.n_diverged} of {ens.members} members diverged and are left out"
        if not math.isfinite(actual) and e.quantity == "epochs" and not ens.converged.any():
            bound += "; undefined: no member met the stop criterion"
    elif not math.isfinite(actual) and isinstance(run.network, _Diverged):
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
        raise ScenarioError(sc.source, f"expect[{e.index}]{_culprit(options, str(exc))}", str(exc)) from None
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
