"""Training: the loop, the optimisers' host side, stop criteria, ensembles and ``fit``.

One concern a module: :mod:`.loop` runs the epochs (:class:`Trainer`, which holds a run's
whole state); :mod:`.optimizers` holds :class:`SGD`, the default rule, and makes any
registered rule by name; :mod:`.stopping` combines named stop criteria
(:class:`StopCriterion`); :mod:`.ensemble` trains K copies of a network in one vectorised
run; :mod:`.fit` is the body of ``Network.train`` (:class:`TrainingRun`, a run that can pause and go on);
:mod:`.checkpoints` saves a run to a file and continues it from there. The rules themselves — the optimisers
``sgd``, ``rprop``, ``quickprop``, ``adam`` and the stop criteria — are plugins (their
contracts in :mod:`neurosim.rules`, the built-ins in ``plugins/``); docs/training.md
gives their equations.
"""

from .checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from .ensemble import EnsembleResult, train_ensemble
from .fit import TrainingRun, fit
from .loop import HISTORIES, MODES, Trainer, TrainingInterrupted, default_history, diverged, history_bytes, train
from .optimizers import SGD, make_optimizer
from .stopping import StopCriterion, make_rule, make_stop

__all__ = ["SGD", "StopCriterion", "Trainer", "TrainingRun", "TrainingInterrupted", "EnsembleResult", "Checkpoint",
           "fit", "train", "train_ensemble", "diverged", "history_bytes", "make_optimizer", "make_rule", "make_stop",
           "save_checkpoint", "load_checkpoint", "MODES", "HISTORIES", "default_history"]
