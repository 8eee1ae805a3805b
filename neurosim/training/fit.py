"""``Network.train``'s body: check what the user asked for, make the pieces, run the loop.

:func:`fit` validates every argument (naming it and what would be right), makes the
optimisation rule (:func:`~neurosim.training.optimizers.make_optimizer`), the stop
criteria (:func:`~neurosim.training.stopping.make_stop`) and the validation set, and runs
a :class:`~neurosim.training.loop.Trainer` over the network's compiled plan — or, with
``ensemble=K``, trains K copies at once (:mod:`neurosim.training.ensemble`).
``Network.train`` is a thin front over it and documents the arguments.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DataError
import numpy as np

from .ensemble import ensemble_result, ensemble_trainer
from .loop import MODES, Trainer
from .optimizers import SGD, make_optimizer
from .stopping import make_stop

__all__ = ["fit", "TrainingRun"]


class TrainingRun:
    """One training job of a network — a single network or an ensemble — run in stages.

    Takes what :meth:`neurosim.Network.train` takes (which documents every argument) and
    checks it all before the first epoch; :meth:`run` then trains, to the end or to a
    given epoch, and a later :meth:`run` goes on exactly where the last one paused, as if
    training had never stopped (the optimiser's state, the pattern orders, the stop
    criteria's counts and the learning curve carry on). :meth:`state_dict` is that state,
    which :func:`~neurosim.training.save_checkpoint` writes to a file, and a run made the
    same way continues from it with :meth:`load_state_dict`, bit for bit; Ctrl-C ends
    :meth:`run` at the end of an epoch (:class:`~neurosim.training.TrainingInterrupted`),
    so an interrupted run can be saved too. ``net.train(...)`` is
    ``TrainingRun(net, ...).run().result()``.

    Parameters
    ----------
    net : neurosim.Network
    X, T, loss
        Training data and loss, as for ``Network.train``.
    **options
        ``learning_rate``, ``epochs``, ``mode``, ``momentum``, ``batch_size``,
        ``weight_decay``, ``optimizer``, ``optimizer_options``, ``stop``, ``ensemble``,
        ``seeds``, ``schedule``, ``shuffle``, ``callbacks``, ``validation``, ``history``:
        as for ``Network.train``.

    Attributes
    ----------
    network : neurosim.Network
    trainer : Trainer
        The loop and the whole state of the run.

    Examples
    --------
    >>> job = TrainingRun(net, X, T, optimizer="rprop", mode="batch", epochs=200)   # doctest: +SKIP
    >>> job.run(until=100); job.epoch                                                # doctest: +SKIP
    100
    >>> history = job.run().result()                                                 # doctest: +SKIP
    """

    def __init__(self, net, X: Any, T: Any, loss: str = "mse", *, learning_rate: float | None = None,
                 epochs: int = 1, mode: str = "online", momentum: float | None = None, batch_size: int | None = None,
                 weight_decay: float | None = None, optimizer: Any = None, optimizer_options: Mapping | None = None,
                 stop: Any = None, ensemble: int | None = None, seeds: Sequence | None = None, schedule: Any = None,
                 shuffle: Any = False, callbacks: Sequence = (), validation: Any = None, history: str | None = None):
        given = {name: value for name, value in (("learning_rate", learning_rate), ("momentum", momentum),
                                                 ("weight_decay", weight_decay)) if value is not None}
        if optimizer is not None and given:
            ignored = ", ".join(f"{name}={value!r}" for name, value in given.items())
            named = f"the {optimizer!r} optimiser takes its own options (optimizer_options={{...}})" if \
                isinstance(optimizer, str) else f"optimizer {optimizer!r} brings its own hyper-parameters"
            raise DataError(f"{named}, so {ignored} would be ignored; set them there, or leave optimizer out")
        if not isinstance(mode, str) or mode not in MODES:
            raise DataError(f"unknown training mode {mode!r:.60}; use one of {', '.join(MODES)}")
        if seeds is not None and ensemble is None:
            raise DataError("seeds applies to an ensemble (ensemble=K, one seed per member); a single network "
                            "draws its weights from Network(seed=...)")
        if batch_size is not None and mode != "minibatch":
            every = "after every pattern" if mode == "online" else "once per epoch, over all patterns"
            raise DataError(f"batch_size applies to mode='minibatch' (patterns per update); mode={mode!r} "
                            f"updates {every}: leave batch_size out, or use mode='minibatch'")
        for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
            if value is None and name == "batch_size":
                continue
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                what = "sweeps through the data" if name == "epochs" else "patterns per update in minibatch mode"
                raise DataError(f"{name} ({what}) must be a whole number >= {low}, not {value!r:.60}")
        if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
            raise DataError(f"callbacks must be a list of functions callback(progress), not {callbacks!r:.60}")
        if optimizer_options is not None and not isinstance(optimizer_options, Mapping):
            raise DataError(f"optimizer_options must be a mapping of the optimiser's options, not "
                            f"{optimizer_options!r:.60}")
        if optimizer_options and optimizer is None:
            raise DataError(f"optimizer_options {dict(optimizer_options)!r:.80} were given with no optimizer, so "
                            "they would be ignored; name the rule they belong to (optimizer='sgd', 'rprop', ...)")
        order_rng = net._shuffle_rng(shuffle, mode)
        plan, Xa, Ta, _single, loss_ = net._prepare(X, T, loss)
        rule = make_optimizer(net.registry, optimizer, optimizer_options, mode) if optimizer is not None else \
            SGD(given.get("learning_rate", 0.1), given.get("momentum", 0.0), given.get("weight_decay", 0.0))
        stopping = make_stop(net.registry, stop)
        held = _validation(net, validation, loss_)
        common = dict(optimizer=rule, epochs=int(epochs), mode=mode, batch_size=batch_size, stop=stopping,
                      schedule=schedule, shuffle=order_rng, callbacks=list(callbacks),
                      hooks=net.registry.manager.hook, validation=held, history=history)
        self.network = net
        self.members = ensemble
        if ensemble is not None:
            self.trainer = ensemble_trainer(net, Xa, Ta, loss_, members=ensemble, seeds=seeds, **common)
        else:
            self.trainer = Trainer(plan, Xa, Ta, loss_, backend=net.backend, **common)

    @property
    def epoch(self) -> int:
        """Epochs trained so far."""
        return self.trainer.epoch

    @property
    def finished(self) -> bool:
        """Whether every epoch has been trained or a stop criterion (or a callback) ended the run."""
        return self.trainer.finished

    @property
    def stopped(self) -> bool:
        """Whether a stop criterion or a callback ended the run before its last epoch."""
        return self.trainer.stopped

    @property
    def stopped_by(self) -> dict[str, int]:
        """What stopped training, and how many networks each stopped.

        Returns
        -------
        dict
            A stop criterion's name (``"within"``, ``"early_stopping"``), ``"callback
            NAME"`` or ``"a plugin's epoch-end hook"`` -> the networks it stopped (1 for a
            single network; for an ensemble, the members). Empty when every epoch ran.
        """
        return dict(self.trainer.stopped_by)

    def outcomes(self) -> list[str]:
        """What the stop criteria did to the result, in sentences (see :meth:`neurosim.StopRule.outcome`).

        Returns
        -------
        list of str
            Empty unless a criterion changed the weights at the end, as early stopping
            does when it restores the best epoch's.
        """
        if not self.trainer._ended:
            return []
        return [text for rule in self.trainer.rules if (text := rule.outcome())]

    @property
    def optimizer(self):
        """The optimisation rule, with its state."""
        return self.trainer.optimizer

    def run(self, until: int | None = None) -> TrainingRun:
        """Train to the end, or to epoch ``until``; returns ``self``.

        Parameters
        ----------
        until : int, optional
            Pause after this many epochs in all.

        Returns
        -------
        TrainingRun

        Raises
        ------
        NumericalError
            When a single network's training diverges.
        """
        try:
            self.trainer.run(until)
        finally:
            if self.members is None:                # the network's neurons read the new weights when asked
                self.trainer.plan.last_single = False
                self.network._synced = False
        return self

    def state_dict(self) -> dict:
        """The whole state of the run, to continue it later exactly (see :meth:`Trainer.state_dict`).

        Returns
        -------
        dict
            What :func:`~neurosim.training.save_checkpoint` writes.
        """
        return self.trainer.state_dict()

    def load_state_dict(self, state: dict) -> None:
        """Continue from :meth:`state_dict`'s ``state``: the next :meth:`run` goes on from there.

        Make the run as the saved one was made (the same network, seed, data and options);
        then the rest of the run, and its result, are bit for bit those of a run that
        never stopped.

        Parameters
        ----------
        state : dict
            A :meth:`state_dict`, or a :class:`~neurosim.training.Checkpoint`'s ``state``.

        Raises
        ------
        DataError
            When the state belongs to another run (see :meth:`Trainer.load_state_dict`).
        """
        self.trainer.load_state_dict(state)
        if self.members is None:                    # the network's neurons read the loaded weights when asked
            self.trainer.plan.last_single = False
            self.network._synced = False

    def history(self) -> np.ndarray:
        """The learning curve so far: ``(epochs_run,)``, or ``(epochs_run, K)`` for an ensemble."""
        return self.trainer.history.upto(self.trainer.epoch)

    def result(self):
        """What ``Network.train`` returns: the learning curve, or an ensemble's :class:`EnsembleResult`."""
        return self.history() if self.members is None else ensemble_result(self.trainer)


def fit(net, X: Any, T: Any, loss: str = "mse", **options: Any):
    """Train ``net`` (see :meth:`neurosim.Network.train`, which documents every argument).

    Parameters
    ----------
    net : neurosim.Network
    X, T, loss
    **options
        As for ``Network.train``.

    Returns
    -------
    ndarray or EnsembleResult
    """
    return TrainingRun(net, X, T, loss, **options).run().result()


def _validation(net, validation: Any, loss) -> tuple | None:
    """``(X_val, T_val)`` checked like training data, or None."""
    if validation is None:
        return None
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise DataError(f"validation must be a pair (X_val, T_val) of inputs and targets, not {validation!r:.60}")
    Xv, _ = net._patterns(validation[0], net._inputs, "validation X")
    Tv, _ = net._patterns(validation[1], net._outputs, "validation T", rows=Xv.shape[0])
    loss.check_targets(Tv)
    return Xv, Tv
