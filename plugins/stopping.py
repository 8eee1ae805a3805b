"""Built-in stop criteria: error_below, within, bit_fail, max_seconds and early_stopping.

Each is a :class:`neurosim.StopRule` registered through ``neurosim_register_stop_criteria``
exactly like a third party's, asked after every epoch with a :class:`neurosim.Progress`;
each answers for every ensemble member at once (an array of flags) when training an
ensemble, so a member that is done is frozen while the others go on.
"""

from __future__ import annotations

import numpy as np

from neurosim import DataError, StopRule, hookimpl
from neurosim.rules import check_rate


class ErrorBelow(StopRule):
    """Stop when the total training error is below ``value``.

    Parameters
    ----------
    value : float
        The bound (> 0).
    """

    name = "error_below"

    def __init__(self, value: float):
        self.value = check_rate("error_below", value, positive=True)

    def __call__(self, progress):
        """``error < value`` (per member)."""
        return np.asarray(progress.error) < self.value


class Within(StopRule):
    """Stop when every output of every training pattern is within ``value`` of its target.

    Fahlman's criterion; Rumelhart et al.'s family trees count an output as right within
    0.2 (on-units above 0.8, off-units below 0.2); 0.4 for 0/1 targets asks every output to
    be above 0.6 where its target is 1 and below 0.4 where it is 0 (the right side of 0.5,
    with a margin of 0.1).

    Parameters
    ----------
    value : float
        The distance (> 0).
    """

    name = "within"

    def __init__(self, value: float):
        self.value = check_rate("within", value, positive=True)

    def __call__(self, progress):
        """``max |y − t| < value`` over patterns and outputs (per member)."""
        return np.all(np.abs(progress.outputs() - progress.targets) < self.value, axis=(-2, -1))


class BitFail(StopRule):
    """FANN's bit-fail criterion: stop when at most ``count`` outputs miss by ``limit`` or more.

    An output "fails" when ``|y − t| >= limit``, counted over every pattern and output of
    the training set (FANN's ``FANN_STOPFUNC_BIT`` with its ``bit_fail_limit``).

    Parameters
    ----------
    limit : float, default 0.35
        How far an output may be from its target (FANN's default).
    count : int, default 0
        How many failing outputs are allowed.
    """

    name = "bit_fail"

    def __init__(self, limit: float = 0.35, count: int = 0):
        self.limit = check_rate("bit_fail limit", limit, positive=True)
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise DataError(f"bit_fail count must be a whole number >= 0 (outputs allowed to fail), not {count!r:.60}")
        self.count = int(count)

    def __call__(self, progress):
        """The number of outputs with ``|y − t| >= limit`` is at most ``count`` (per member)."""
        failing = np.count_nonzero(np.abs(progress.outputs() - progress.targets) >= self.limit, axis=(-2, -1))
        return failing <= self.count


class MaxSeconds(StopRule):
    """Stop when training has run for ``seconds`` (every member of an ensemble at once).

    Parameters
    ----------
    seconds : float
        Wall-clock time (> 0). The run ends after the epoch that crosses it, so the
        result depends on the machine's speed: a scenario that needs a reproducible
        result bounds epochs instead.
    """

    name = "max_seconds"

    def __init__(self, seconds: float):
        self.seconds = check_rate("max_seconds", seconds, positive=True)

    def __call__(self, progress):
        """When ``seconds`` have passed, ask the whole run to stop (``progress.request_stop()``).

        It never says a network is done: an ensemble member that ran out of time has not
        met a criterion, so it does not count as converged (nor in the success rate).
        """
        if progress.seconds >= self.seconds:
            progress.request_stop()
        return np.zeros(progress.members, bool) if progress.members else False


class EarlyStopping(StopRule):
    """Stop when the validation error has not improved for ``patience`` epochs.

    An epoch improves when its validation error is below the best so far by more than
    ``min_delta``; after ``patience`` epochs without one, training (that member of an
    ensemble) stops. With ``restore_best``, each network ends with the weights it had
    at its best validation error (the learning curve still shows every epoch trained).

    Parameters
    ----------
    patience : int, default 10
        Epochs without improvement before stopping (>= 1).
    min_delta : float, default 0.0
        The smallest decrease that counts as an improvement.
    restore_best : bool, default True
        Put back the weights of the best epoch at the end.
    """

    name = "early_stopping"
    needs_validation = True

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise DataError(f"early_stopping patience must be a whole number of epochs >= 1, not {patience!r:.60}")
        self.patience = int(patience)
        self.min_delta = check_rate("early_stopping min_delta", min_delta)
        if not isinstance(restore_best, (bool, np.bool_)):
            raise DataError(f"early_stopping restore_best must be true or false, not {restore_best!r:.60}")
        self.restore_best = bool(restore_best)
        self._best = self._waited = self._theta = self._best_epoch = self._restored = None

    def start(self, progress):
        """Forget any earlier run."""
        shape = (progress.members,) if progress.members else ()
        self._best = np.full(shape, np.inf)
        self._waited = np.zeros(shape, int)
        self._theta = progress.theta.copy() if self.restore_best else None
        self._best_epoch = np.zeros(shape, int)          # 0: the initial weights
        self._restored = None

    def __call__(self, progress):
        """Count the epochs since the last improvement; True (per member) at ``patience``."""
        if progress.validation_error is None:     # asked outside training (no validation set there)
            return np.zeros(progress.members, bool) if progress.members else False
        if self._best is None:
            self.start(progress)
        error = np.asarray(progress.validation_error, dtype=float)
        improved = error < self._best - self.min_delta
        self._best = np.where(improved, error, self._best)
        self._best_epoch = np.where(improved, progress.epoch, self._best_epoch)
        self._waited = np.where(improved, 0, self._waited + 1)
        if self.restore_best and improved.any():
            entries = improved if progress.member_of is None else improved[progress.member_of]
            np.copyto(self._theta, progress.theta, where=entries)
        return self._waited >= self.patience

    def end(self, progress):
        """Put back the best weights (with ``restore_best``)."""
        if self.restore_best and self._theta is not None and np.isfinite(self._best).any():
            kept = np.isfinite(self._best)
            entries = kept if progress.member_of is None else kept[progress.member_of]
            np.copyto(progress.theta, self._theta, where=entries)
            # the members whose weights changed: the best epoch was not the last one trained
            self._restored = kept & (self._best_epoch < progress.epoch)

    def outcome(self):
        """Which epoch's weights were put back, and their validation error."""
        if self._restored is None or not np.any(self._restored):
            return None
        if self._restored.ndim == 0:
            return (f"early_stopping restored the weights of epoch {int(self._best_epoch)}, the lowest validation "
                    f"error ({float(self._best):.9g})")
        epochs = self._best_epoch[self._restored]
        return (f"early_stopping restored {int(self._restored.sum())} of {self._restored.size} members' weights to "
                f"their lowest validation error, of epochs {int(epochs.min())} to {int(epochs.max())}")


@hookimpl
def neurosim_register_stop_criteria(register):
    """Register error_below, within, bit_fail, max_seconds and early_stopping."""
    for cls in (ErrorBelow, Within, BitFail, MaxSeconds, EarlyStopping):
        register(cls)
