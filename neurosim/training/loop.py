"""The epoch loop: online, minibatch and batch training of a compiled plan.

:class:`Trainer` holds everything a run is at any moment — the epoch reached, the
learning curve so far, which ensemble members still train, the optimiser with its state,
the stop criteria, the stream the pattern orders come from — so that a run can stop,
be saved and go on exactly where it was (:mod:`neurosim.training.checkpoints`).
:meth:`Trainer.run` runs the epochs: every update is one forward and one backward pass
over a chunk of patterns and one optimiser step (a shuffled epoch's order is gathered
once into a preallocated copy of the data, whose chunks are views); after every epoch the
error on the whole training set is recorded (in batch mode the next epoch's pass measures
it, so the history costs no extra pass), or with ``history="running"`` the sum of the
chunks' errors before their updates (no pass at all), the stop criteria, callbacks and the plugins' ``epoch end`` hooks
are asked, and members that are done or diverged are frozen while the others go on.
A Ctrl-C while it runs takes effect at the end of the epoch under way
(:class:`TrainingInterrupted`), so an interrupted run is always a whole number of epochs
in, ready to be saved.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import codegen
from ..errors import DataError, NumericalError
from ..resources import require_memory
from ..rules import Optimizer, Progress, StopRule

__all__ = ["Trainer", "TrainingInterrupted", "train", "diverged", "history_bytes", "default_history", "MODES",
           "HISTORIES"]

MODES = ("online", "batch", "minibatch")
#: What the learning curve holds: ``exact``, the error over the whole training set at the
#: end of each epoch (a pass of its own in online and minibatch mode); ``running``, the
#: sum of the errors of the epoch's chunks, each measured by its own training pass
#: before its update (as Keras reports it: no extra pass).
HISTORIES = ("exact", "running")


def default_history(mode: str) -> str:
    """The learning curve a training mode keeps when none is asked for.

    ``running`` in minibatch mode (as Keras, FANN and scikit-learn report it, so the curve
    costs no pass over the training set), ``exact`` in online and batch mode (batch mode
    measures it for free; the classic online curves are the end-of-epoch error).

    Parameters
    ----------
    mode : {'online', 'batch', 'minibatch'}
        The training mode (:data:`MODES`).

    Returns
    -------
    str
        One of :data:`HISTORIES`.

    Raises
    ------
    DataError
        For a mode that is not one of :data:`MODES`.
    """
    if mode not in MODES:
        raise DataError(f"unknown training mode {mode!r:.60}; use one of {', '.join(MODES)}")
    return "running" if mode == "minibatch" else "exact"


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


def _steps_its_own_way(rule: Optimizer) -> bool:
    """Whether ``rule`` changes ``step`` or ``update`` below the class that gave it its
    ``part_step`` (a subclass of SGD that watches or alters every update, or a function
    set on the rule itself): a part step would go around that change, so the trainer
    keeps to ``step``."""
    cls = type(rule)
    owner = next(c for c in cls.__mro__ if "part_step" in c.__dict__)
    return any(getattr(cls, name) is not getattr(owner, name) or name in vars(rule) for name in ("step", "update"))


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a callback's ``KeyboardInterrupt``) ended training at an epoch's end.

    The trainer's state is then exactly that of ``epoch`` epochs trained — the weights,
    the optimiser's state, the pattern orders, the stop criteria, the learning curve —
    so it can be saved (:func:`neurosim.training.save_checkpoint`) and a later
    :meth:`Trainer.run` goes on as if nothing had happened. A ``KeyboardInterrupt`` is
    one, so code that catches those catches this too.

    Parameters
    ----------
    epoch : int
        Epochs completed when training stopped.
    checkpoint : path, optional
        Where that state was saved, when the code that ran training saved it (a scenario
        run with checkpoints: :func:`neurosim.run_scenario`).

    Attributes
    ----------
    epoch : int
    checkpoint : Path or None
    """

    def __init__(self, epoch: int, checkpoint=None):
        super().__init__(f"training interrupted after epoch {epoch}")
        self.epoch, self.checkpoint = epoch, checkpoint


@contextlib.contextmanager
def _interrupts_at_epoch_ends(trainer: Trainer):
    """While training runs, a first Ctrl-C only marks the trainer (it stops at the end of
    the epoch under way); a second one interrupts at once. Only in the main thread, and
    only where Ctrl-C has Python's own meaning (another handler is left alone)."""
    previous = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        def defer(signum, frame):
            if trainer._interrupt:
                raise KeyboardInterrupt
            trainer._interrupt = True
        previous = signal.signal(signal.SIGINT, defer)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _chunk_size(mode: str, n: int, batch_size: int | None) -> int:
    if mode == "online":
        return 1
    if mode == "batch":
        return n
    if mode == "minibatch":
        if batch_size is None or int(batch_size) < 1:
            raise DataError("mode 'minibatch' needs batch_size >= 1 (patterns per weight update)")
        return int(batch_size)
    raise DataError(f"unknown training mode {mode!r:.60}; use one of {', '.join(MODES)}")


class Trainer:
    """One training run of a compiled plan, its whole state in one object.

    Parameters
    ----------
    plan : neurosim.engine.Plan
    X, T : ndarray
        Validated inputs ``(n, n_inputs)`` and targets ``(n, n_outputs)``.
    loss : neurosim.Loss
    optimizer : neurosim.Optimizer
    epochs : int
        Sweeps through the training set (the run's total; a resumed run goes on to it).
    mode : {'online', 'batch', 'minibatch'}
        ``online`` updates after every pattern, in order; ``batch`` accumulates the
        gradient over all patterns, then updates once per epoch (Rumelhart et al. eq. 8);
        ``minibatch`` updates after every ``batch_size`` consecutive patterns.
    batch_size : int, optional
        Required for ``minibatch``.
    stop : sequence of StopRule, or callable, optional
        Stop criteria asked after every epoch with a :class:`~neurosim.Progress` (any of
        them stops training; for an ensemble, each member on its own: a member that
        stops is frozen while the others go on). A plain callable ``stop(error, Y, T)``
        is asked the same way.
    schedule : callable, optional
        ``schedule(epoch)`` is called before each epoch's first update (0-based, and only
        for epochs that run), e.g. to change the optimiser's ``learning_rate``.
    shuffle : numpy.random.Generator, optional
        Present the patterns in a new random order every epoch (online and minibatch);
        every ensemble member sees the same orders.
    callbacks : sequence of callable, optional
        ``callback(progress)`` after every epoch; a callback that returns True or calls
        ``progress.request_stop()`` ends training. A callback that raises
        ``KeyboardInterrupt`` interrupts it once the epoch's bookkeeping is done
        (:class:`TrainingInterrupted`), as Ctrl-C does.
    hooks : pluggy hook relay, optional
        The registry's hooks (``neurosim_train_start``, ``neurosim_epoch_end``,
        ``neurosim_train_end``), called when plugins implement them.
    validation : (ndarray, ndarray), optional
        Validated inputs and targets whose error is measured after every epoch
        (``progress.validation_error``; early stopping needs it).
    history : {'exact', 'running'}, optional
        What the learning curve holds (:data:`HISTORIES`; by default
        :func:`default_history`, ``running`` in minibatch mode): ``exact``, the total error
        over the training set at the end of each epoch (in online and minibatch mode a
        forward pass over the whole set after every epoch; in batch mode the next
        epoch's training pass measures it, at no cost); ``running``, the sum over the
        epoch's updates of the error of each update's patterns before that update, which
        costs no extra pass. With ``running``, ``progress.error`` (and so
        ``error_below``) sees the running error, and ``progress.outputs()`` makes a pass
        over the training set only when a criterion or a callback asks for it.
    backend : {'numpy', 'auto', 'python', 'numba'}, default 'numpy'
        Where the epochs run: the numpy engine, or code generated for this network
        (:mod:`neurosim.codegen`; SGD in online and batch mode, activations and losses
        with a scalar form, one float64 network). A run that cannot use generated code
        trains on numpy; :attr:`backend` says which one ran and :attr:`backend_note` why.

    Attributes
    ----------
    backend : str
        ``"numpy"``, ``"python"`` or ``"numba"``: where the epochs run.
    backend_note : str or None
        Why that is not the backend asked for (None when it is).
    """

    def __init__(self, plan, X: np.ndarray, T: np.ndarray, loss, *, optimizer: Optimizer, epochs: int,
                 mode: str = "online", batch_size: int | None = None, stop: Any = None, schedule=None,
                 shuffle: np.random.Generator | None = None, callbacks: Sequence[Callable] = (), hooks=None,
                 validation: tuple[np.ndarray, np.ndarray] | None = None, backend: str = "numpy",
                 history: str | None = None):
        if history is None:
            history = default_history(mode)
        if not isinstance(history, str) or history not in HISTORIES:
            raise DataError(f"history must be one of {', '.join(map(repr, HISTORIES))} (the error over the whole "
                            f"training set after each epoch, or the sum of the epoch's batch errors), not "
                            f"{history!r:.60}")
        self.history_mode = history
        self.plan, self.X, self.T, self.loss = plan, X, T, loss
        self.optimizer, self.epochs, self.mode, self.schedule, self.shuffle = optimizer, int(epochs), mode, schedule, shuffle
        self.size = _chunk_size(mode, X.shape[0], batch_size)
        for name, hook, shape in (("schedule", schedule, "schedule(epoch)"),):
            if hook is not None and not callable(hook):
                raise DataError(f"{name} must be a function {shape}, not {type(hook).__name__} {hook!r:.60}")
        self.rules, self.legacy_stop = _stop_rules(stop)
        self.callbacks = list(callbacks)
        for k, f in enumerate(self.callbacks):
            if not callable(f):
                raise DataError(f"callbacks[{k}] must be a function callback(progress), not {f!r:.60}")
        if validation is None and any(rule.needs_validation for rule in self.rules):
            names = ", ".join(rule.name for rule in self.rules if rule.needs_validation)
            raise DataError(f"the stop criterion {names} watches the error on a validation set, and none was given; "
                            "pass validation=(X_val, T_val), or in a scenario add [data.validation] or "
                            "data.validation_fraction")
        self.validation = validation
        self.hooks = hooks if hooks is not None and _implemented(hooks) else None
        self.lead = plan.lead                              # () or (K,) for an ensemble plan
        self.members = plan.members
        self.member_of = plan.member_of()
        if isinstance(optimizer, Optimizer):
            optimizer.bind(plan.theta, self.member_of)
            self._step = optimizer.step
        else:                                              # an object of one's own: step(theta, grad, mask)
            if not callable(getattr(optimizer, "step", None)):
                raise DataError(f"optimizer must be a neurosim.Optimizer (such as neurosim.SGD(0.1)) or have a "
                                f"step(theta, grad, mask) method, not {optimizer!r:.60}")
            self._step = lambda theta, grad, mask, error: optimizer.step(theta, grad, mask)
        self.epoch = 0                                     # epochs completed
        self.history = _History(self.epochs, self.lead, known=not self.rules and self.legacy_stop is None
                                and not self.callbacks and self.hooks is None)
        self.active = np.ones(self.lead, bool)             # ensemble members still training
        self.diverged = np.zeros(self.lead, bool)          # ... and those frozen because they diverged
        self.mask = plan.train_mask()
        self.seconds = 0.0
        self.stopped = False                               # a criterion or a callback ended the run before its end
        self.stopped_by: dict[str, int] = {}               # criterion or callback -> members it stopped
        self.validation_history: list = []
        self._ended = False                                # the rules' end and the end hooks were called
        self._last_outputs: Callable[[], np.ndarray] | None = None
        self._asked = bool(self.rules or self.legacy_stop or self.callbacks or self.hooks)
        self._interrupt = False                            # Ctrl-C: stop at the end of this epoch
        self._torn = False                                 # an exception left an epoch half done
        self._stale = False                                # generated code ran: plan.last is not the last pass
        self._all_trainable = False                        # asked again when something may have frozen one
        if not isinstance(backend, str) or backend not in codegen.BACKENDS:
            raise DataError(f"backend must be one of {', '.join(codegen.BACKENDS)}, not {backend!r:.60}")
        self.backend_asked = backend
        self.backend, self.backend_note = self._choose_backend(self.backend_asked)

    def _choose_backend(self, asked: str) -> tuple[str, str | None]:
        """The backend this run uses and why it is not ``asked`` (see :func:`neurosim.codegen.choose_backend`)."""
        from .optimizers import SGD

        if asked == "numpy":
            return "numpy", None
        backend, note = codegen.choose_backend(asked, self.plan, self.loss, self.mode, self.size)
        if backend == "numpy":                 # the network, the loss or the mode has no generated code
            return backend, note
        if type(self.optimizer) is not SGD:
            name = getattr(self.optimizer, "name", type(self.optimizer).__name__)
            return "numpy", f"the {name} optimiser trains on numpy (generated code has SGD only)"
        if self.history_mode == "running":
            return "numpy", "history 'running' trains on numpy (generated code records the exact error)"
        return backend, note

    # --- one epoch's bookkeeping ----------------------------------------------------------

    def _progress(self, E, train_buf, Ev) -> Progress:
        return Progress(epoch=self.epoch, epochs=self.epochs, error=E, targets=self.T,
                        seconds=self.seconds + time.perf_counter() - self._started, validation_error=Ev,
                        members=self.members, active=self.active.copy() if self.lead else None,
                        theta=self.plan.theta, member_of=self.member_of,
                        _outputs=(lambda: self.plan.outputs_of(train_buf)) if train_buf is not None
                        else self._lazy_outputs())

    def _start_progress(self) -> Progress:
        """The progress before the first epoch: no error yet (NaN); its outputs, if asked
        for, come from a pass at the initial weights (no pass may have been made yet)."""
        progress = self._progress(math.nan, None, None)
        progress._outputs = self._lazy_outputs()
        return progress

    def _fresh_outputs(self) -> np.ndarray:
        """Training outputs from a pass at the current weights."""
        self.plan.forward(self.X)
        return self.plan.outputs_of(self.plan.last)

    def _lazy_outputs(self) -> Callable[[], np.ndarray]:
        """:meth:`_fresh_outputs` made on the first call only: every criterion and callback
        of an epoch that asks shares one pass, and none is made when nobody asks."""
        made: list[np.ndarray] = []

        def outputs() -> np.ndarray:
            if not made:
                made.append(self._fresh_outputs())
            return made[0]
        return outputs

    def _record(self, epoch: int, E) -> None:
        if not self.lead and math.isfinite(E) and epoch < len(self.history.array):
            self.history.array[epoch] = E                  # the common case, kept short
        elif self.lead:
            finite = np.isfinite(E)
            if not finite.all():
                bad = self.active & ~finite
                if bad.any():      # a member that diverges is frozen; the others go on
                    self.active &= ~bad
                    self.diverged |= bad
                    self.mask = self.plan.train_mask(self.active)
            self.history[epoch] = E if self.active.all() else np.where(self.active, E, np.nan)
        else:
            if not math.isfinite(E):
                raise diverged(self.plan, self.loss, E, f"after epoch {epoch + 1}")
            self.history[epoch] = E

    def _note_stop(self, name: str, said: Any, progress, asked: bool) -> bool:
        """Count the members ``name`` stopped: those it said are done, or every one still
        training when it was the first to call ``progress.request_stop()`` (``asked``: someone
        had already). Returns whether a stop has been asked for now."""
        if progress.stop_requested and not asked:
            newly = int(self.active.sum()) if self.lead else 1
        else:
            newly = int((np.asarray(said, bool) & self.active).sum())
        if newly:
            self.stopped_by[name] = self.stopped_by.get(name, 0) + newly
        return progress.stop_requested

    def _epoch_end(self, epoch: int, E) -> bool:
        """Record epoch ``epoch``'s error and ask whoever is asked; True to stop."""
        self._record(epoch, E)
        self.epoch = epoch + 1
        if self.lead and not self.active.any():            # every member diverged: the run is over
            self.stopped = self.epoch < self.epochs
            return True
        if not self._asked:
            return False
        # None: the last pass was not one over the training set at these weights (generated
        # code made it, or the running history kept the batches' passes only)
        train_buf = None if self._stale or self.history_mode == "running" else self.plan.last
        Y = None
        Ev = None
        if self.validation is not None:
            if train_buf is not None and self.validation[0].shape[0] == self.X.shape[0]:   # the same buffers
                Y = self.plan.outputs_of(train_buf)
            self.plan.forward(self.validation[0])
            Ev = self.loss.value(self.plan.output_values(self.plan.last), self.validation[1])
            self.validation_history.append(Ev)
        progress = self._progress(E, train_buf, Ev)
        if Y is not None:
            progress._outputs = lambda: Y
        self._last_outputs = progress._outputs     # for the end: the validation pass moved plan.last
        judged = self.legacy_stop is not None or bool(self.rules)
        asked = False
        if judged:
            done = np.zeros(self.lead, bool)
            if self.legacy_stop is not None:
                said = np.asarray(self.legacy_stop(E, progress.outputs(), self.T), dtype=bool)
                asked = self._note_stop("the stop function", said, progress, asked)
                done |= said
            for rule in self.rules:
                said = np.asarray(rule(progress), dtype=bool)
                asked = self._note_stop(rule.name, said, progress, asked)
                done |= said
        for f in self.callbacks:
            try:
                said = f(progress)
            except KeyboardInterrupt:      # Ctrl-C in a callback: once this epoch's bookkeeping is done
                self._interrupt = True
                break
            if isinstance(said, (bool, np.bool_)) and said:    # np.True_ too: `progress.error < 0.01`
                progress.request_stop()
            asked = self._note_stop(f"callback {getattr(f, '__name__', type(f).__name__)}", False, progress, asked)
        if self.hooks is not None:
            self.hooks.neurosim_epoch_end(progress=progress)
            self._note_stop("a plugin's epoch-end hook", False, progress, asked)
        if progress.stop_requested:
            self.stopped = self.epoch < self.epochs
            return True
        if not judged:              # no criterion: nothing else stops a member (callbacks only watch)
            return False
        done &= self.active
        if done.any():
            self.active &= ~done
            if self.lead:
                self.mask = self.plan.train_mask(self.active)
        if not self.active.any():
            self.stopped = self.epoch < self.epochs
            return True
        return False

    # --- the run ----------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether the run is over: every epoch trained, or stopped early."""
        return self.stopped or self.epoch >= self.epochs

    def run(self, until: int | None = None) -> np.ndarray:
        """Run the epochs from :attr:`epoch` to :attr:`epochs` (or until stopped).

        Parameters
        ----------
        until : int, optional
            Pause after this many epochs in all (at most :attr:`epochs`); a later call
            goes on exactly where this one paused, as if the run had never stopped (the
            stop criteria keep their state; their ``end`` and the ``train end`` hooks
            wait for the real end).

        Returns
        -------
        ndarray of shape (epochs_run,) or (epochs_run, K)
            ``history[k]`` is the total error over the whole training set after ``k + 1``
            epochs (with ``history="running"``, epoch ``k + 1``'s running error), for every
            epoch run so far; shorter than ``epochs`` when training
            stopped early. For an ensemble, a member's entries after it stopped are NaN.

        Raises
        ------
        NumericalError
            When the error or the weights become NaN or infinite (a single network; an
            ensemble freezes its diverged members and goes on).
        TrainingInterrupted
            On Ctrl-C, at the end of the epoch under way (a second Ctrl-C interrupts at
            once, with a plain ``KeyboardInterrupt``, and leaves a state that cannot be
            saved), or when a callback raised ``KeyboardInterrupt``.
        """
        self._interrupt, self._torn = False, True
        with _interrupts_at_epoch_ends(self):
            history = self._run(until)
        self._torn = False
        if self._interrupt:
            self._interrupt = False
            raise TrainingInterrupted(self.epoch)
        return history

    def state_dict(self) -> dict[str, Any]:
        """The whole state of the run, to continue it later exactly (a checkpoint's content).

        Returns
        -------
        dict
            Arrays, numbers and strings only (see :mod:`neurosim.training.checkpoints`).

        Raises
        ------
        DataError
            When an interruption or an error left an epoch half done.
        """
        from .checkpoints import trainer_state

        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s ``state``: the next :meth:`run` goes on from there.

        Parameters
        ----------
        state : dict

        Raises
        ------
        DataError
            When the state belongs to another run: another number of parameters or
            members, another mode, optimiser or stop criteria.
        """
        from .checkpoints import load_trainer_state

        load_trainer_state(self, state)

    def _run(self, until: int | None) -> np.ndarray:
        plan, X, T, loss = self.plan, self.X, self.T, self.loss
        n, size = X.shape[0], self.size
        single_chunk = size >= n
        reorder = self.shuffle is not None and not single_chunk
        running = self.history_mode == "running"
        if reorder:       # every epoch's order is gathered into these, so the chunks are views of them
            Xs, Ts = np.empty_like(X), np.empty_like(T)
            X_, T_ = Xs, Ts
        elif size > 1 and X.nbytes <= self.INPUT_COPY_BYTES and not X.flags.f_contiguous:
            # the passes copy each chunk's inputs into the neuron-major state: from an
            # input-major copy that is a copy of rows, 2-3x faster than transposing
            X_, T_ = np.asfortranarray(X), T
        else:
            X_, T_ = X, T
        # a copy of our own that nobody changes: a pass fed the same chunk as the pass
        # before it on the same buffers (batch mode's one chunk) need not copy it again
        private = X_ is not X and not reorder
        chunks = [(X_[i:i + size], T_[i:i + size]) for i in range(0, n, size)]
        theta, grad = plan.theta, plan.grad
        # large nets: online and minibatch updates level by level inside the backward pass;
        # one update per epoch (batch mode) as one sweep, through the same part step
        parts = self._part_steps(any_size=single_chunk)
        whole = scaled_parts = None
        if single_chunk and parts is not None:
            whole, parts, everything = parts, None, slice(0, theta.size)
        elif parts is not None and not self.lead:
            scaled_parts = self._part_steps(scaled=True)
        watched, checked = self._asked or self.schedule is not None, None   # what may freeze weights
        start = self.epoch
        end = self.epochs if until is None else max(start, min(int(until), self.epochs))
        self._started = time.perf_counter()
        if self.finished or end == start:
            return self._finish()
        if start == 0:
            first = self._start_progress()
            if self.hooks is not None:
                self.hooks.neurosim_train_start(progress=first)
            for rule in self.rules:
                rule.start(first)
        if self.backend != "numpy":
            try:
                start = self._run_generated(start, end)
            finally:
                if self._stale:            # the plan's buffers hold the last pass, as on numpy
                    with np.errstate(all="ignore"):
                        plan.forward(X)
                    self._stale = False
            now = time.perf_counter()
            self.seconds += now - self._started
            self._started = now
            if start is None:
                return self._finish()
        try:
            # Overflow is detected below and reported once, as a NumericalError naming where
            # it started, instead of as a stream of numpy warnings: every epoch's error comes
            # from a pass at the current weights, so a non-finite weight shows there by the
            # next epoch at the latest; the weights themselves are checked once, at the end.
            with np.errstate(all="ignore"):
                for epoch in range(start, end):
                    if reorder:
                        order = self.shuffle.permutation(n)
                        X.take(order, axis=0, out=Xs, mode="clip")
                        T.take(order, axis=0, out=Ts, mode="clip")
                    total = 0.0
                    if parts is not None and self.schedule is not None:
                        self.schedule(epoch)                  # before the first update, made in backward
                    # a rule that folds its learning rate into the gradient: asked every epoch,
                    # after the schedule, since a schedule or callback may change it
                    scale = self.optimizer.gradient_scale() if scaled_parts is not None else None
                    after = scaled_parts if scale is not None else parts
                    if parts is not None and (watched or self.mask is not checked):
                        # a callback, hook, criterion or schedule may have frozen weights since
                        # (batch mode's one update asks just before it: the epoch's end comes first)
                        checked, self._all_trainable = self.mask, bool(self.mask.all())
                    for k, (Xc, Tc) in enumerate(chunks):
                        plan.forward(Xc, private)
                        if parts is not None:                 # each level updated once its gradient is in
                            self.optimizer.count_step(theta)
                            E = plan.backward(Tc, loss, value=running, after=after, scale=scale)
                            if running:
                                total = total + np.asarray(E, np.float64)
                            continue
                        # Batch mode: this pass measures the error after the previous epoch, so
                        # the exact history costs no extra pass; the running history sums every
                        # chunk's error before its update; otherwise no error is needed per step.
                        E = plan.backward(Tc, loss, value=single_chunk or running)
                        if single_chunk and not running and epoch > start and \
                                (self._epoch_end(epoch - 1, E) or self._interrupt):
                            return self._finish()
                        if k == 0 and self.schedule is not None:      # only once the epoch surely runs
                            self.schedule(epoch)
                        if running:
                            total = total + np.asarray(E, np.float64)
                        if whole is not None:
                            if watched or self.mask is not checked:     # the epoch's end may have frozen some
                                checked, self._all_trainable = self.mask, bool(self.mask.all())
                            self.optimizer.count_step(theta)
                            whole(everything)
                        else:
                            self._step(theta, grad, self.mask, E if single_chunk else None)
                    if running:
                        if self._epoch_end(epoch, total if self.lead else float(total)) or self._interrupt:
                            return self._finish()
                    elif not single_chunk or epoch == end - 1:
                        plan.forward(X)
                        E = loss.value(plan.output_values(plan.last), T)
                        if self._epoch_end(epoch, E) or self._interrupt:
                            return self._finish()
            if not self.lead:
                plan.check_finite(f"after {end} epochs")
            return self._finish()
        finally:
            self.seconds += time.perf_counter() - self._started

    #: Batch and unshuffled minibatch training read their patterns from an input-major
    #: copy (``np.asfortranarray``) when the inputs take at most this many bytes.
    INPUT_COPY_BYTES = 64 * 1024 * 1024

    #: From this many bytes of parameters on, online and minibatch updates go through the
    #: rule's :meth:`~neurosim.Optimizer.part_step` (SGD's), changing each level's weights as
    #: soon as the backward pass has their gradient; batch mode's one update an epoch sweeps
    #: all of theta through it at any size (one call either way). A part step may use the
    #: gradient as its scratch and skips the mask when every weight is trainable: two passes
    #: over the parameters instead of three, which is what W8 (784-256-128-10 online) and W4
    #: gain (with momentum four instead of six: W6); smaller nets trained online keep the
    #: rule's ``step``, which costs fewer Python calls than a call per level. (Updating in
    #: row blocks small enough to stay in the L2 cache was measured too: slower, more calls.)
    PART_STEP_BYTES = 256 * 1024

    #: False keeps every update on the rule's ``step`` (one whole update each, where it can
    #: be watched: explanations capture a step so).
    use_part_steps = True

    def _part_steps(self, scaled: bool = False, any_size: bool = False) -> Callable[[slice], None] | None:
        """``after(part)`` for :meth:`Plan.backward` making the optimiser's update level by
        level, or None where the whole step is made at once (small nets unless ``any_size``,
        tied sets, rules without :meth:`~neurosim.Optimizer.part_step`). ``scaled``: the step
        for gradients the pass multiplied by the rule's
        :meth:`~neurosim.Optimizer.gradient_scale` (None when the rule has none)."""
        plan = self.plan
        small = plan.theta.nbytes < self.PART_STEP_BYTES and not any_size
        if not self.use_part_steps or plan.parts is None or small or not isinstance(self.optimizer, Optimizer) \
                or _steps_its_own_way(self.optimizer):
            return None
        if scaled:
            if self.optimizer.gradient_scale() is None:
                return None
            step = self.optimizer.part_step(plan.theta, plan.grad, scaled=True)
        else:
            step = self.optimizer.part_step(plan.theta, plan.grad)
        if step is None:
            return None
        return lambda part: step(part, None if self._all_trainable else self.mask)

    #: Generated code runs at most this many pattern presentations a call (and at most
    #: 4,096 epochs) when nothing is asked after each epoch, so Ctrl-C still takes effect
    #: soon (milliseconds for the nets it is meant for).
    GENERATED_CHUNK = 16_384

    def _run_generated(self, start: int, end: int) -> int | None:
        """Epochs ``start`` to ``end`` in generated code; None when the run is over or
        paused, else the epoch numpy must go on from (the arithmetic overflowed: numpy
        then repeats that stretch from the same state and reports the divergence as it
        always does, and trains the rest of the run)."""
        opt, plan, X, T = self.optimizer, self.plan, self.X, self.T
        theta, n = plan.theta, X.shape[0]
        reorder = self.shuffle is not None and n > 1
        per_epoch = self._asked or self.schedule is not None
        epoch = start
        while epoch < end:
            if self.schedule is not None:
                self.schedule(epoch)
            k = 1 if per_epoch else min(end - epoch, 4096, max(1, self.GENERATED_CHUNK // n))
            mom = opt.momentum
            if not mom and "velocity" in opt._arrays:       # momentum switched off: forget the old changes
                opt._arrays["velocity"][...] = 0.0
            flags = (bool(mom), bool(opt.nesterov), bool(opt.weight_decay), bool(opt.l2))
            kernel = codegen.kernel_for(plan, self.loss, self.mode, flags, self.backend)
            velocity = opt.state("velocity") if mom else None
            saved = (theta.copy(), None if velocity is None else velocity.copy(),
                     self.shuffle.bit_generator.state if reorder else None)
            orders = [self.shuffle.permutation(n) for _ in range(k)] if reorder else None
            try:
                errors = kernel.run(theta, velocity, X, T, orders, k, opt.learning_rate, mom, opt.weight_decay,
                                    opt.l2, owner=self)
            except (ArithmeticError, ValueError):
                errors = None
            # a sum is finite only if every term is: one C loop instead of a call per epoch
            if errors is None or not (math.isfinite(sum(errors)) or all(map(math.isfinite, errors))):
                theta[...] = saved[0]                        # numpy repeats these epochs from here
                if velocity is not None:
                    velocity[...] = saved[1]
                if reorder:
                    self.shuffle.bit_generator.state = saved[2]
                self.backend_note = f"the arithmetic overflowed in epochs {epoch + 1}-{epoch + k}; numpy went on"
                self.backend = "numpy"
                return epoch
            if velocity is not None:
                velocity *= self.mask                        # frozen entries keep no momentum, as on numpy
            opt.__dict__["steps"] += k * (n if self.mode == "online" else 1)
            self._stale = True
            if per_epoch:
                if self._epoch_end(epoch, errors[0]):
                    return None
            else:                                            # nothing to ask: the curve in one write
                while epoch + k > len(self.history.array):  # grow it as epochs one by one would
                    self.history[len(self.history.array)] = math.nan
                self.history.array[epoch:epoch + k] = errors
                self.epoch = epoch + k
            epoch += k
            if self._interrupt:
                return None
        return None

    def _finish(self) -> np.ndarray:
        history = self.history.upto(self.epoch)
        if self.finished and not self._ended and (self.rules or self.hooks is not None):
            self._ended = True
            last = history[-1] if len(history) else math.nan
            progress = self._progress(last, self.plan.last, self.validation_history[-1]
                                      if self.validation_history else None)
            # the last epoch's training outputs (plan.last may hold a validation pass)
            progress._outputs = self._last_outputs if self._last_outputs is not None else self._lazy_outputs()
            for rule in self.rules:
                rule.end(progress)
            if self.hooks is not None:
                self.hooks.neurosim_train_end(progress=progress)
        return history


def _stop_rules(stop: Any) -> tuple[list[StopRule], Callable | None]:
    """Split ``stop`` into stop rules and a plain ``stop(error, Y, T)`` callable."""
    if stop is None:
        return [], None
    rules = getattr(stop, "rules", None)        # a StopCriterion: a combination of rules
    if rules is not None:
        return list(rules), None
    if isinstance(stop, StopRule):
        return [stop], None
    if isinstance(stop, Iterable) and not isinstance(stop, (str, bytes)) and all(isinstance(s, StopRule) for s in stop):
        return list(stop), None
    if callable(stop):
        return [], stop
    raise DataError(f"stop must be a StopCriterion, stop rules, or a function stop(error, Y, T) -> bool, not "
                    f"{type(stop).__name__} {stop!r:.60}")


def _implemented(hooks) -> bool:
    """Whether any plugin implements a training lifecycle hook (else they are not called)."""
    return any(getattr(hooks, name).get_hookimpls() for name in
               ("neurosim_train_start", "neurosim_epoch_end", "neurosim_train_end"))


def train(plan, X: np.ndarray, T: np.ndarray, loss, *, optimizer: Optimizer, epochs: int, mode: str = "online",
          batch_size: int | None = None, stop: Any = None, schedule=None,
          shuffle: np.random.Generator | None = None, **more: Any) -> np.ndarray:
    """Train a compiled plan and return the error after each epoch (see :class:`Trainer`).

    Parameters
    ----------
    plan : neurosim.engine.Plan
    X, T : ndarray
        Validated inputs and targets.
    loss : neurosim.Loss
    optimizer : neurosim.Optimizer
    epochs : int
    mode : {'online', 'batch', 'minibatch'}, default 'online'
    batch_size : int, optional
    stop, schedule, shuffle
        As for :class:`Trainer`.
    **more
        ``callbacks``, ``hooks``, ``validation``: as for :class:`Trainer`.

    Returns
    -------
    ndarray
        The learning curve (see :meth:`Trainer.run`).
    """
    return Trainer(plan, X, T, loss, optimizer=optimizer, epochs=epochs, mode=mode, batch_size=batch_size,
                   stop=stop, schedule=schedule, shuffle=shuffle, **more).run()


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
