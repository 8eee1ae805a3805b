"""Training: the optimiser and the epoch loop over a compiled plan.

:class:`SGD` is plain gradient descent with momentum, Rumelhart, Hinton & Williams (1986)
eq. 9: ``dw(t) = -lr * dE/dw(t) + momentum * dw(t-1)``. It works on the plan's flat
parameter vector in one numpy operation and skips frozen weights through the plan's
mask; later optimisers will be plugins with the same ``step`` shape. :func:`train` runs
epochs in online, minibatch or batch mode and records the training-set error after every
epoch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import DataError, NumericalError
from .resources import require_memory

__all__ = ["SGD", "StopCriterion", "train", "diverged", "history_bytes", "MODES"]

MODES = ("online", "batch", "minibatch")


class SGD:
    """Gradient descent with momentum over a flat parameter vector.

    Parameters
    ----------
    learning_rate : float
        Step size (the lecture notes' α or η, Rumelhart et al.'s ε).
    momentum : float, default 0.0
        Rumelhart et al.'s α: the fraction of the previous change added to this one.
        May be changed between calls to :meth:`step` (a momentum schedule).
    weight_decay : float, default 0.0
        After each change every trainable weight shrinks by this fraction,
        ``w ← w (1 − weight_decay)`` (Hinton's family trees: 0.002, "decremented by
        0.2%").

    Notes
    -----
    With momentum 0 the update is ``w ← w − lr · dE/dw``, computed exactly so, so the
    worked example is reproduced to the last bit. Entries whose mask is 0 (frozen
    weights, and block entries that are not edges) never change.
    """

    def __init__(self, learning_rate: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self._velocity: np.ndarray | None = None
        self._step: np.ndarray | None = None
        self._theta: np.ndarray | None = None

    # Hyper-parameters are checked whenever they are set (schedules set them between epochs):
    # a negative learning rate climbs the error, NaN never changes anything back.
    learning_rate = property(lambda self: self._learning_rate,
                             lambda self, value: setattr(self, "_learning_rate", _rate("learning_rate", value)),
                             doc="Step size; a finite number >= 0.")
    momentum = property(lambda self: self._momentum,
                        lambda self, value: setattr(self, "_momentum", _rate("momentum", value)),
                        doc="Fraction of the previous change added to this one; a finite number >= 0.")
    weight_decay = property(lambda self: self._weight_decay,
                            lambda self, value: setattr(self, "_weight_decay", _rate("weight_decay", value, 1.0)),
                            doc="Fraction every trainable weight shrinks by after each change; in [0, 1).")

    def step(self, theta: np.ndarray, grad: np.ndarray, mask: np.ndarray) -> None:
        """Update ``theta`` in place from ``grad`` (entries with ``mask == 0`` stay put).

        Parameters
        ----------
        theta, grad, mask : ndarray
            Flat parameters, gradient and 1/0 trainable mask of equal length.
        """
        if self._theta is not theta:        # a new network or a recompiled one: start afresh
            self._theta = theta
            self._step = np.empty_like(theta)
            self._velocity = None
        step = self._step
        np.multiply(grad, mask, out=step)
        step *= self.learning_rate
        if self.momentum:
            if self._velocity is None:
                self._velocity = np.zeros_like(theta)
            v = self._velocity
            v *= self.momentum
            v -= step
            v *= mask                       # a weight frozen meanwhile keeps no momentum
            theta += v
        else:
            if self._velocity is not None:    # momentum switched off: forget the old changes
                self._velocity[...] = 0.0
            theta -= step
        if self.weight_decay:
            np.multiply(theta, mask, out=step)
            step *= self.weight_decay
            theta -= step

    def __repr__(self) -> str:
        return (f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum}, "
                f"weight_decay={self.weight_decay})")


class StopCriterion:
    """Stop training early when the training set is learned well enough.

    Parameters
    ----------
    error_below : float, optional
        Stop when the total training error is below this.
    within : float, optional
        Stop when every output of every training pattern is within this distance of its
        target (Fahlman's criterion; Rumelhart et al.'s family trees use 0.2: on-units
        above 0.8, off-units below 0.2).

    Notes
    -----
    Either condition stops training; with neither, training runs all its epochs.
    """

    def __init__(self, error_below: float | None = None, within: float | None = None):
        bounds = {name: None if value is None else _rate(name, value, positive=True)
                  for name, value in (("error_below", error_below), ("within", within))}
        self.error_below, self.within = bounds["error_below"], bounds["within"]

    def __call__(self, error, Y: np.ndarray, T: np.ndarray):
        """Whether to stop, given the training error and outputs ``Y`` for targets ``T``.

        Parameters
        ----------
        error : float or ndarray
            Total training error at the current weights (``(K,)`` for an ensemble).
        Y, T : ndarray
            Outputs ``([K,] n_patterns, n_outputs)`` and targets ``(n_patterns, n_outputs)``.

        Returns
        -------
        bool or ndarray of bool
            One flag, or one per ensemble member.
        """
        result = np.zeros(np.shape(error), bool)
        if self.error_below is not None:
            result |= np.asarray(error) < self.error_below
        if self.within is not None:
            result |= np.all(np.abs(Y - T) < self.within, axis=(-2, -1))
        return result if result.ndim else bool(result)

    def __repr__(self) -> str:
        return f"StopCriterion(error_below={self.error_below}, within={self.within})"


def _real(value) -> bool:
    """A real number, not a bool (``True`` is an int to Python, never a rate to a user)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _rate(name: str, value, below: float | None = None, positive: bool = False) -> float:
    """``value`` as a float in ``[0, below)`` (``(0, ...)`` when ``positive``), else a
    DataError naming the hyper-parameter."""
    if not _real(value):
        raise DataError(f"{name} must be a number, not {value!r:.60}")
    try:
        value = float(value)
    except OverflowError:
        raise DataError(f"{name} {value!r:.60} is too large for a float") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0) or (below is not None and value >= below):
        bound = f"in [0, {below:g})" if below is not None else "> 0" if positive else ">= 0"
        hint = "; a stop criterion no run can meet would never stop training" if positive else ""
        raise DataError(f"{name} must be a finite number {bound}, not {value!r}{hint}")
    return value


def history_bytes(epochs: int, members: int = 1) -> float:
    """Bytes of the learning curve of ``epochs`` epochs for ``members`` networks (a float:
    products of user-given counts cannot overflow).

    Parameters
    ----------
    epochs : int
    members : int, default 1

    Returns
    -------
    float
    """
    return 8.0 * epochs * members


class _History:
    """The training error after each epoch, grown as epochs run (never preallocated whole:
    ``epochs = 10**9`` with an early stop must not reserve 8 GB up front)."""

    def __init__(self, epochs: int, lead: tuple, known: bool):
        self.lead = lead
        members = int(np.prod(lead)) if lead else 1
        if known:     # every epoch will run: refuse now a curve the machine could never hold
            require_memory(history_bytes(epochs, members), f"the learning curve of {epochs} epochs"
                           + (f" for {members} members" if lead else ""),
                           "train for fewer epochs, or add a stop criterion", now=False)
        self.array = np.full((min(epochs, 1024),) + lead, np.nan)
        self.epochs = epochs

    def __setitem__(self, epoch: int, value) -> None:
        if epoch >= len(self.array):
            rows = min(2 * len(self.array), self.epochs)
            members = int(np.prod(self.lead)) if self.lead else 1
            require_memory(history_bytes(rows, members), f"after {epoch} epochs, the learning curve",
                           "train for fewer epochs, or loosen the stop criterion")
            grown = np.full((rows,) + self.lead, np.nan)
            grown[:len(self.array)] = self.array
            self.array = grown
        self.array[epoch] = value

    def upto(self, epochs: int) -> np.ndarray:
        """The first ``epochs`` entries (a copy when the array holds more)."""
        return self.array[:epochs] if epochs == len(self.array) else self.array[:epochs].copy()


def train(plan, X: np.ndarray, T: np.ndarray, loss, *, optimizer: SGD, epochs: int, mode: str = "online",
          batch_size: int | None = None, stop: StopCriterion | None = None, schedule=None,
          shuffle: np.random.Generator | None = None) -> np.ndarray:
    """Train a compiled plan and return the error after each epoch.

    Parameters
    ----------
    plan : neurosim.engine.Plan
    X, T : ndarray
        Validated inputs ``(n, n_inputs)`` and targets ``(n, n_outputs)``.
    loss : neurosim.Loss
    optimizer : SGD
    epochs : int
        Number of sweeps through the training set.
    mode : {'online', 'batch', 'minibatch'}
        ``online`` updates after every pattern, in order; ``batch`` accumulates the
        gradient over all patterns, then updates once per epoch (Rumelhart et al. eq. 8);
        ``minibatch`` updates after every ``batch_size`` consecutive patterns.
    batch_size : int, optional
        Required for ``minibatch``.
    stop : callable, optional
        ``stop(error, Y, T) -> bool``, asked after every epoch with the training error and
        outputs at the current weights (e.g. a :class:`StopCriterion`). For an ensemble
        plan ``error`` is ``(K,)``, ``Y`` is ``(K, n, n_outputs)`` and it returns one flag
        per member; a member that stops is frozen while the others go on.
    schedule : callable, optional
        ``schedule(epoch)`` is called before each epoch's first update (0-based, and only
        for epochs that run), e.g. to change the optimiser's ``learning_rate`` or
        ``momentum`` from that epoch on.
    shuffle : numpy.random.Generator, optional
        Present the patterns in a new random order (``shuffle.permutation``) every epoch
        in ``online`` and ``minibatch`` mode; batch mode sums over all patterns, so order
        does not matter there. An ensemble's members all see the same order.

    Returns
    -------
    ndarray of shape (epochs_run,) or (epochs_run, K)
        ``history[k]`` is the total error over the whole training set after ``k + 1``
        epochs; shorter than ``epochs`` when ``stop`` ended training early. For an
        ensemble, a member's entries after it stopped are NaN.

    Raises
    ------
    NumericalError
        When the error or the weights become NaN or infinite.
    """
    n = X.shape[0]
    if mode == "online":
        size = 1
    elif mode == "batch":
        size = n
    elif mode == "minibatch":
        if batch_size is None or int(batch_size) < 1:
            raise DataError("mode 'minibatch' needs batch_size >= 1 (patterns per weight update)")
        size = int(batch_size)
    else:
        raise DataError(f"unknown training mode {mode!r}; use one of {', '.join(MODES)}")
    for name, hook, shape in (("stop", stop, "stop(error, Y, T) -> bool"), ("schedule", schedule, "schedule(epoch)")):
        if hook is not None and not callable(hook):
            raise DataError(f"{name} must be a function {shape}, not {type(hook).__name__} {hook!r}")
    chunks = [(X[i:i + size], T[i:i + size]) for i in range(0, n, size)]
    single_chunk = len(chunks) == 1
    reorder = shuffle is not None and not single_chunk
    lead = plan.lead                               # () or (K,) for an ensemble plan
    history = _History(int(epochs), lead, known=stop is None)
    active = np.ones(lead, bool)                   # ensemble members still training
    theta, grad, mask = plan.theta, plan.grad, plan.train_mask()

    def outputs():
        return plan.outputs_of(plan.last)

    def halt(E) -> bool:
        """Ask the stop criterion; freeze members that meet it. True when all have."""
        nonlocal mask
        if lead and not active.any():       # every member stopped or diverged: nothing left to train
            return True
        if stop is None:
            return False
        done = np.asarray(stop(E, outputs(), T), dtype=bool) & active
        if done.any():
            active[...] = active & ~done
            if lead:
                mask = plan.train_mask(active)
        return not active.any()

    def record(epoch: int, E) -> None:
        nonlocal mask
        if lead:
            bad = active & ~np.isfinite(E)
            if bad.any():          # a member that diverges is frozen; the others go on
                active[...] = active & ~bad
                mask = plan.train_mask(active)
            history[epoch] = np.where(active, E, np.nan)
        else:
            if not math.isfinite(E):
                raise diverged(plan, loss, E, f"after epoch {epoch + 1}")
            history[epoch] = E

    # Overflow is detected below and reported once, as a NumericalError naming where it
    # started, instead of as a stream of numpy warnings: every epoch's error comes from a
    # pass at the current weights, so a non-finite weight shows there by the next epoch at
    # the latest; the weights themselves are checked once, at the end.
    with np.errstate(all="ignore"):
        for epoch in range(int(epochs)):
            if reorder:
                order = shuffle.permutation(n)
                Xs, Ts = X[order], T[order]
                chunks = [(Xs[i:i + size], Ts[i:i + size]) for i in range(0, n, size)]
            for k, (Xc, Tc) in enumerate(chunks):
                plan.forward(Xc)
                # Batch mode: this pass measures the error after the previous epoch, so the
                # history costs no extra pass; other modes need no error per step.
                E = plan.backward(Tc, loss, value=single_chunk)
                if single_chunk and epoch > 0:
                    record(epoch - 1, E)
                    if halt(E):
                        return history.upto(epoch)
                if k == 0 and schedule is not None:      # only once the epoch surely runs
                    schedule(epoch)
                optimizer.step(theta, grad, mask)
            if not single_chunk or epoch == epochs - 1:
                plan.forward(X)
                E = loss.value(plan.output_values(plan.last), T)
                record(epoch, E)
                if halt(E):
                    return history.upto(epoch + 1)
    if not lead:
        plan.check_finite(f"after {epochs} epochs")
    return history.upto(int(epochs))


def diverged(plan, loss, E: float, when: str) -> NumericalError:
    """The error to raise when the total error became NaN or infinite.

    Parameters
    ----------
    plan : neurosim.engine.Plan
        The plan whose last pass produced ``E``.
    loss : neurosim.Loss
    E : float
        The non-finite error.
    when : str
        When it happened (``"epoch 3"``).

    Returns
    -------
    NumericalError
        Naming the first neuron whose output overflowed, if one did.
    """
    where = plan.first_nonfinite(plan.last)
    start = f"; it starts at neuron {where!r}" if where else ""
    return NumericalError(f"{when}: the {loss.name} error is {E}{start}: training diverged. Lower the "
                          "learning rate or momentum, scale the inputs, or check that the targets suit "
                          "this loss")
