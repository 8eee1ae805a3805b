"""The contracts of the training plugins: optimisation rules, stop criteria, and what they see.

An :class:`Optimizer` changes a compiled plan's flat parameter vector ``theta`` in place
from its gradient, one numpy operation per state array, never per weight; entries whose
mask is 0 (frozen weights, block padding, ensemble members that have stopped) never
change. It keeps its per-entry state (a velocity, Rprop's step sizes, Adam's moments) as
named arrays shaped like ``theta``, made afresh whenever it meets a new plan, so one rule
object serves a single network and an ensemble of K alike (each member's entries have
their own state), and it saves and restores that state for checkpoints. A
:class:`StopRule` looks at a :class:`Progress` after every epoch and says whether
training (or each ensemble member) should stop. Plugins register subclasses of both
through the hooks in :mod:`neurosim.hookspecs`; the built-ins are in the top-level
``plugins/`` folder, and docs/training.md gives every rule's equations.
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["Optimizer", "StopRule", "Progress", "hyper", "check_rate"]

Array = np.ndarray


def check_rate(name: str, value: Any, below: float | None = None, positive: bool = False) -> float:
    """``value`` as a finite float in ``[0, below)`` (``(0, ...)`` when ``positive``).

    Parameters
    ----------
    name : str
        The hyper-parameter, for the message.
    value : number
    below : float, optional
        Exclusive upper bound.
    positive : bool, default False
        Refuse 0 too.

    Returns
    -------
    float

    Raises
    ------
    DataError
        Naming the hyper-parameter and what it must be.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
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


class hyper:
    """A numeric hyper-parameter of a rule, checked whenever it is set.

    Schedules set learning rates and momenta between epochs, so the check is on every
    assignment, not only in ``__init__``: a negative learning rate climbs the error, NaN
    never comes back. :class:`Optimizer` does the checking when the attribute is set and
    keeps the value as a plain instance attribute, so reading it in the update (every
    step) costs nothing extra.

    Parameters
    ----------
    doc : str
        What it is (shown by ``help``).
    below : float, optional
        Exclusive upper bound.
    positive : bool, default False
        Refuse 0.
    """

    def __init__(self, doc: str, *, below: float | None = None, positive: bool = False):
        self.__doc__ = doc
        self.below, self.positive = below, positive
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        raise AttributeError(f"{type(obj).__name__}.{self.name} was never set")

    def check(self, value: Any) -> float:
        """``value`` checked (see :func:`check_rate`)."""
        return check_rate(self.name, value, self.below, self.positive)


class Optimizer(abc.ABC):
    """Base of an optimisation rule over a plan's flat parameter vector.

    A subclass names itself (``name``), takes its hyper-parameters as keyword arguments
    with defaults (declared with :class:`hyper` where they are numbers), and implements
    :meth:`update`; it asks :meth:`state` for its per-entry arrays. Register it with the
    ``neurosim_register_optimizers`` hook; ``net.train(optimizer="name",
    optimizer_options={...})`` and a scenario's ``[training.optimizer]`` then make one.

    Attributes
    ----------
    name : str
        The name users ask for it by.
    batch_only : bool
        True for rules that need the whole epoch's gradient (Rprop and Quickprop use its
        sign or the change of its value between epochs): training in online or
        minibatch mode is then refused.
    steps : int
        Updates made since the rule met its current plan.
    member_of : ndarray or None
        For an ensemble, the member each entry of ``theta`` belongs to (for rules that
        compare each member's error, as iRprop+ does); None for a single network.
    """

    name = "optimizer"
    batch_only = False

    def __setattr__(self, name: str, value: Any) -> None:
        declared = getattr(type(self), name, None)
        if isinstance(declared, hyper):
            value = declared.check(value)
        object.__setattr__(self, name, value)

    def __init__(self) -> None:
        self._theta: Array | None = None
        self._arrays: dict[str, Array] = {}
        self.steps = 0
        self.member_of: Array | None = None

    def bind(self, theta: Array, member_of: Array | None = None) -> None:
        """Meet a plan's parameters: start afresh unless they are the ones already met.

        Parameters
        ----------
        theta : ndarray
            The plan's flat parameters (updated in place by :meth:`step`).
        member_of : ndarray, optional
            For an ensemble plan, each entry's member.
        """
        if self._theta is not theta:
            self._theta, self._arrays, self.steps = theta, {}, 0
        self.member_of = member_of

    def state(self, name: str, fill: float = 0.0) -> Array:
        """The per-entry state array ``name``, shaped like ``theta`` (made on first use).

        Parameters
        ----------
        name : str
        fill : float, default 0.0
            Its initial value.

        Returns
        -------
        ndarray
        """
        array = self._arrays.get(name)
        if array is None:
            array = self._arrays[name] = np.full_like(self._theta, fill)
        return array

    def step(self, theta: Array, grad: Array, mask: Array, error: Any = None) -> None:
        """Update ``theta`` in place from ``grad``; entries with ``mask == 0`` stay put.

        Parameters
        ----------
        theta, grad, mask : ndarray
            Flat parameters, gradient and 1/0 trainable mask of equal length.
        error : float or ndarray, optional
            The total error at the current ``theta`` (``(K,)`` for an ensemble), where the
            training mode computes it anyway (batch mode); rules such as iRprop+ use it.
        """
        self.count_step(theta)
        self.update(theta, grad, mask, error)

    def count_step(self, theta: Array) -> None:
        """Count one update: what :meth:`step` does before :meth:`update`, for a step made
        part by part (:meth:`part_step`).

        When ``theta`` is not the array the rule has met, the rule meets it first
        (:meth:`bind`: its state starts afresh), as :meth:`step` does.

        Parameters
        ----------
        theta : ndarray
            The plan's flat parameters.
        """
        if self._theta is not theta:
            self.bind(theta, self.member_of)
        self.__dict__["steps"] += 1       # a count, not a hyper-parameter: skip __setattr__'s check

    def part_step(self, theta: Array, grad: Array) -> Callable[[slice, Array | None], None] | None:
        """This rule's update made part by part, or None when it needs the whole gradient.

        The function returned, ``f(part, mask)``, updates ``theta[part]`` from
        ``grad[part]`` alone: ``part`` is a ``slice`` of the flat parameters, ``mask`` the
        whole 1/0 mask or None when every entry is trainable. ``f`` may use ``grad[part]``
        as scratch (nothing reads the gradient after the step).

        A rule may offer it when every entry changes from its own gradient and state only
        and nothing is computed over the whole step. On large nets the trainer then updates
        each level's weights as soon as the backward pass has written their gradient (or,
        in batch mode, all of them in one call), instead of through :meth:`step` (the same
        numbers: only the order of independent entries changes); it calls
        :meth:`count_step` once per update.

        Parameters
        ----------
        theta, grad : ndarray
            The plan's flat parameters and gradient.

        Returns
        -------
        callable or None
            ``f(part, mask)``; None (the default) keeps every update on :meth:`step`.
        """
        return None

    def gradient_scale(self) -> float | None:
        """The number this rule's step first multiplies the gradient by, when it may be
        folded into the backward pass; None (the default) when not.

        A rule that offers :meth:`part_step` and whose step starts with ``s · grad`` for
        every entry (SGD: ``s`` is the learning rate) may return ``s`` and accept
        ``part_step(theta, grad, scaled=True)``, a step whose ``grad`` is already
        ``s · dE/dw``. Online and minibatch training on large nets then has each level's
        deltas multiplied by ``s`` before its weight gradient's product, so the product
        writes ``s · dE/dw`` and the step saves a pass over the parameters. The numbers
        can differ from :meth:`step`'s in the last bit (``(s·δ)·y`` against ``s·(δ·y)``),
        and are the same bits when ``s`` is a power of two. Asked before every epoch, so
        a schedule's new learning rate is used from its epoch on.

        Returns
        -------
        float or None
        """
        return None

    @abc.abstractmethod
    def update(self, theta: Array, grad: Array, mask: Array, error: Any) -> None:
        """The rule itself: change ``theta`` in place (:meth:`step` counts and calls it).

        Parameters
        ----------
        theta, grad, mask : ndarray
            As for :meth:`step`.
        error : float, ndarray or None
            As for :meth:`step`.
        """

    def hyperparameters(self) -> dict[str, Any]:
        """The rule's hyper-parameters, ``{name: value}`` (what its ``repr`` shows)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("steps", "member_of")}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this rule is: for checkpoints.

        Returns
        -------
        dict
            ``{"name", "hyperparameters", "steps", "arrays": {name: ndarray}}`` (copies).
        """
        return {"name": self.name, "hyperparameters": self.hyperparameters(), "steps": self.steps,
                "arrays": {k: v.copy() for k, v in self._arrays.items()}}

    def load_state_dict(self, state: dict[str, Any], theta: Array) -> None:
        """Continue from :meth:`state_dict`'s ``state`` on the plan parameters ``theta``.

        Parameters
        ----------
        state : dict
        theta : ndarray

        Raises
        ------
        DataError
            When the state is another rule's, or its arrays do not fit ``theta``.
        """
        if state.get("name") != self.name:
            raise DataError(f"the saved optimiser state belongs to {state.get('name')!r}, not to {self.name!r}")
        arrays = state.get("arrays", {})
        for key, array in arrays.items():
            if np.shape(array) != theta.shape:
                raise DataError(f"the saved optimiser state {key!r} holds {np.size(array)} entries but the network "
                                f"has {theta.size} parameters; it belongs to another network")
        for key, value in state.get("hyperparameters", {}).items():
            setattr(self, key, value)
        self._theta = theta
        self._arrays = {k: np.array(v, dtype=theta.dtype) for k, v in arrays.items()}
        self.steps = int(state.get("steps", 0))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({shown})"

    @classmethod
    def check_contract(cls) -> None:
        """Try the rule, made with its defaults, on a small vector; raise if it breaks its contract.

        Three steps on six entries, one of them frozen: the weights must stay finite and
        the frozen one must not move. A rule that offers :meth:`part_step` must make
        exactly the same steps through it, in two parts, with the mask and (while every
        entry is trainable) without, and one with a :meth:`gradient_scale` the same steps
        from the gradient multiplied by it (``scaled=True``). A rule whose options have no
        defaults is tried when it is made instead.

        Raises
        ------
        ValueError
            Saying what the rule did; the registry names the plugin.
        """
        try:
            rule = cls()
        except TypeError:
            return
        theta = np.linspace(-1.0, 1.0, 6)
        grad = np.array([0.5, -0.25, 1.0, 2.0, -1.0, 0.1])
        mask = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
        frozen = theta[3]
        rule.bind(theta)
        for _ in range(3):
            rule.step(theta, grad, mask, 1.0)
        if not np.isfinite(theta).all():
            raise ValueError("three steps from finite weights and gradients gave non-finite weights")
        if theta[3] != frozen:
            raise ValueError("a step changed a weight whose mask is 0 (a frozen weight)")
        if rule.part_step(theta, grad.copy()) is None:
            return
        scale = rule.gradient_scale()
        for scaled in (False, True) if scale is not None else (False,):
            for part_mask in (mask, np.ones(6)):
                whole, parted = cls(), cls()
                a, b = np.linspace(-1.0, 1.0, 6), np.linspace(-1.0, 1.0, 6)
                whole.bind(a)
                parted.bind(b)
                for _ in range(3):
                    whole.step(a, grad, part_mask, None)
                    # a part step may use its gradient as scratch; a scaled one gets s · grad
                    given = grad * scale if scaled else grad.copy()
                    steps = parted.part_step(b, given, scaled=True) if scaled else parted.part_step(b, given)
                    parted.count_step(b)
                    for part in (slice(0, 4), slice(4, 6)):
                        steps(part, None if part_mask.all() else part_mask)
                if not np.array_equal(a, b):
                    what = f"part_step(scaled=True) from {scale} × the gradient" if scaled else "part_step"
                    raise ValueError(f"{what}'s updates ({b.tolist()}) differ from step's ({a.tolist()}); "
                                     "they must be the same numbers")


@dataclass
class Progress:
    """What a stop criterion, a callback or a lifecycle hook sees of training.

    Attributes
    ----------
    epoch : int
        Epochs completed.
    epochs : int
        Epochs asked for.
    error : float or ndarray
        Total training error after the last epoch; NaN before the first. For an ensemble
        ``(K,)``: a member that has stopped keeps the error of its frozen weights
        (:attr:`active` tells which still train; the learning curve has NaN there), and
        one that diverged is not finite.
    targets : ndarray
        Training targets ``(patterns, outputs)``.
    seconds : float
        Time since training started.
    validation_error : float, ndarray or None
        Total error on the validation set after the last epoch, when one was given.
    members : int or None
        K for an ensemble, else None.
    active : ndarray or None
        ``(K,)`` members still training (an ensemble), else None.
    theta : ndarray
        The plan's flat parameters, live (rules that restore weights write into it).
    member_of : ndarray or None
        For an ensemble, each entry of ``theta``'s member.
    """

    epoch: int
    epochs: int
    error: Any
    targets: Array
    seconds: float
    validation_error: Any = None
    members: int | None = None
    active: Array | None = None
    theta: Array | None = None
    member_of: Array | None = None
    _outputs: Callable[[], Array] | None = field(default=None, repr=False)
    stop_requested: bool = False

    def outputs(self) -> Array:
        """Training outputs after the last epoch, ``([K,] patterns, outputs)``."""
        return self._outputs()

    def request_stop(self) -> None:
        """Ask training to stop after this epoch (every member of an ensemble)."""
        self.stop_requested = True


class StopRule(abc.ABC):
    """Base of a stop criterion: asked after every epoch whether training should stop.

    A subclass names itself (``name``), takes its options as keyword arguments, and
    implements :meth:`__call__`; register it with the ``neurosim_register_stop_criteria``
    hook. A scenario's ``[training.stop]`` names criteria by ``name`` with their
    options; ``net.train(stop={...})`` does the same from Python.

    Attributes
    ----------
    name : str
    needs_validation : bool
        True when it looks at ``progress.validation_error`` (training then refuses to
        start without a validation set).
    """

    name = "stop"
    needs_validation = False

    @abc.abstractmethod
    def __call__(self, progress: Progress) -> Any:
        """Whether to stop: a bool, or one per ensemble member (``(K,)`` of bool)."""

    def start(self, progress: Progress) -> None:
        """Called once before the first epoch (reset any state here)."""

    def end(self, progress: Progress) -> None:
        """Called once after the last epoch (early stopping restores its best weights here)."""

    def outcome(self) -> str | None:
        """What this criterion did to the result, in a sentence for the run's report.

        Returns
        -------
        str or None
            None (the default) when the result is simply the last epoch's; early
            stopping says which epoch's weights it restored.
        """
        return None

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this criterion is: for checkpoints.

        The default copies every attribute, public and private (its options and any
        counts or arrays it keeps, such as early stopping's best error and weights), with
        no pickling: a checkpoint holds numbers, strings, arrays, and lists, tuples and
        dicts of them. A criterion that keeps anything else overrides this and
        :meth:`load_state_dict`.

        Returns
        -------
        dict
            ``{"name", "attributes": {name: value}}`` (copies).
        """
        return {"name": self.name, "attributes": {k: _copied(v) for k, v in vars(self).items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s ``state``.

        Parameters
        ----------
        state : dict

        Raises
        ------
        DataError
            When the state is another criterion's.
        """
        if state.get("name") != self.name:
            raise DataError(f"the saved stop criterion state belongs to {state.get('name')!r}, not to {self.name!r}")
        for key, value in state.get("attributes", {}).items():
            setattr(self, key, _copied(value))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({shown})"


def _copied(value: Any) -> Any:
    """A copy of ``value`` that shares no array or container with it (no pickling)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copied(v) for v in value)
    return value
