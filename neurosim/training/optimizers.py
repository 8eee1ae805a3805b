"""The optimisers' host side: SGD, the default rule, and making any rule by name.

:class:`SGD` is Rumelhart, Hinton & Williams' (1986) eq. 9, gradient descent with
momentum, with Nesterov's look-ahead as an option and weight decay in both its forms:
Rumelhart's shrink after each change and an L2 term added to the gradient. It is the rule
``Network.train`` makes when no optimiser is named; the plugin ``sgd`` (in
``plugins/optimizers.py``, beside ``rprop``, ``quickprop`` and ``adam``) registers this
class. :func:`make_optimizer` turns what a user gives — a rule object, or a registered
name with options — into a rule, refusing an unknown name with the closest one and a
rule that cannot train in the mode asked for. The base class and its contract are in
:mod:`neurosim.rules`; docs/training.md gives every rule's equations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError, NeurosimError
from ..rules import Optimizer, hyper

__all__ = ["SGD", "make_optimizer"]


class SGD(Optimizer):
    """Gradient descent with momentum over a flat parameter vector (the rule ``sgd``).

    With ``g = dE/dw`` (plus ``l2 · w`` when ``l2`` is set), the change is Rumelhart et
    al.'s eq. 9, ``dw(t) = −learning_rate · g(t) + momentum · dw(t−1)``; with
    ``nesterov`` the weight moves by ``momentum · dw(t) − learning_rate · g(t)`` instead
    (the look-ahead of Nesterov's accelerated gradient, as PyTorch computes it). Then, with
    ``weight_decay``, every trainable weight shrinks: ``w ← w − weight_decay · w``.

    Parameters
    ----------
    learning_rate : float, default 0.1
        Step size (the lecture notes' α or η, Rumelhart et al.'s ε).
    momentum : float, default 0.0
        Rumelhart et al.'s α: the fraction of the previous change added to this one.
        May be changed between steps (a momentum schedule).
    weight_decay : float, default 0.0
        Rumelhart's decay: after each change every trainable weight shrinks by this
        fraction, ``w ← w (1 − weight_decay)`` (Hinton's family trees: 0.002,
        "decremented by 0.2%"). It is not a gradient: it does not go through momentum.
    l2 : float, default 0.0
        An L2 penalty ``½ · l2 · Σ w²`` added to the error, so ``l2 · w`` is added to the
        gradient before the step (and goes through momentum): PyTorch's ``weight_decay``.
        The two forms are not the same: with momentum the L2 term accumulates in the
        velocity; for plain SGD with ``weight_decay = learning_rate · l2`` they agree to
        first order only, since the decay also shrinks the change it follows:
        ``(w − lr·g)(1 − weight_decay) = w − lr·(g + l2·w) + weight_decay · lr · g``.
    nesterov : bool, default False
        Nesterov momentum.

    Notes
    -----
    With momentum 0 the update is ``w ← w − lr · dE/dw``, computed exactly so, so the
    worked example is reproduced to the last bit. Entries whose mask is 0 (frozen
    weights, block padding, stopped ensemble members) never change.
    """

    name = "sgd"
    learning_rate = hyper("Step size; a finite number >= 0.")
    momentum = hyper("Fraction of the previous change added to this one; a finite number >= 0.")
    weight_decay = hyper("Fraction every trainable weight shrinks by after each change; in [0, 1).", below=1.0)
    l2 = hyper("L2 penalty coefficient, added to the gradient as l2 · w; a finite number >= 0.")

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.0, weight_decay: float = 0.0, *,
                 l2: float = 0.0, nesterov: bool = False):
        super().__init__()
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.l2 = l2
        if not isinstance(nesterov, (bool, np.bool_)):
            raise DataError(f"nesterov must be true or false, not {nesterov!r:.60}")
        if nesterov and not momentum:
            raise DataError("nesterov momentum needs momentum > 0; give momentum=0.9, say, or leave nesterov out")
        self.nesterov = bool(nesterov)
        self._scratch: np.ndarray | None = None

    def update(self, theta: np.ndarray, grad: np.ndarray, mask: np.ndarray, error: Any) -> None:
        """One step of the rule (see the class docstring).

        Parameters
        ----------
        theta, grad, mask : ndarray
            Flat parameters (changed in place), gradient and 1/0 trainable mask.
        error : float, ndarray or None
            Not used by SGD.
        """
        self._update(theta, grad, mask, False, slice(None))

    def part_step(self, theta: np.ndarray, grad: np.ndarray, scaled: bool = False):
        """``f(part, mask)``: this step for ``theta[part]`` alone (every entry of SGD changes
        from its own gradient and velocity only; see :meth:`neurosim.Optimizer.part_step`);
        ``mask`` None says every entry is trainable.

        Parameters
        ----------
        theta, grad : ndarray
            The plan's flat parameters and gradient.
        scaled : bool, default False
            ``grad`` holds ``learning_rate × dE/dw`` already (:meth:`gradient_scale`).

        Returns
        -------
        callable
        """
        return lambda part, mask: self._update(theta, grad, mask, True, part, scaled)

    def gradient_scale(self) -> float | None:
        """The learning rate, which the backward pass may fold into the gradient.

        See :meth:`neurosim.Optimizer.gradient_scale`.

        Returns
        -------
        float or None
            ``learning_rate``; None with an ``l2`` penalty, which is added to the gradient
            before the gradient is scaled.
        """
        return None if self.l2 else float(self.learning_rate)

    def _update(self, theta: np.ndarray, grad: np.ndarray, mask: np.ndarray | None, scratch_grad: bool,
                part: slice, scaled: bool = False) -> None:
        """The step for ``theta[part]``; ``scratch_grad``: ``grad[part]`` may be overwritten
        (a part step's; :meth:`update` leaves the gradient as it found it); ``scaled``:
        ``grad`` is ``learning_rate × dE/dw`` already (no l2 then)."""
        step = self._scratch
        if step is None or step.shape != theta.shape:
            step = self._scratch = np.empty_like(theta)
        theta, grad, step = theta[part], grad[part], step[part]
        if mask is not None:
            mask = mask[part]
        elif self.l2:                       # the penalty's l2 · w · mask, with a mask of ones
            mask = np.ones(1, theta.dtype)
        if mask is None:                    # every entry trainable: the mask's passes left out, the same
            if scratch_grad:                # bits (g · 1 · lr is g · lr); a part step scales its gradient
                step = grad                 # in place, and a scaled one is the step already (no pass)
            if not scaled:
                np.multiply(grad, self.learning_rate, out=step)
            elif step is not grad:
                np.copyto(step, grad)
        else:
            np.multiply(grad, mask, out=step)
            if self.l2:
                step += self.l2 * theta * mask
            if not scaled:
                step *= self.learning_rate
        if self.momentum:
            v = self.state("velocity")[part]
            v *= self.momentum
            v -= step
            if mask is not None:
                v *= mask                   # a weight frozen meanwhile keeps no momentum
            if self.nesterov:
                theta += self.momentum * v - step
            else:
                theta += v
        else:
            if "velocity" in self._arrays:  # momentum switched off: forget the old changes
                self._arrays["velocity"][part] = 0.0
            theta -= step
        if self.weight_decay:
            if mask is None:                # (w · 1) · decay is w · decay exactly
                np.multiply(theta, self.weight_decay, out=step)
            else:
                np.multiply(theta, mask, out=step)
                step *= self.weight_decay
            theta -= step

    def hyperparameters(self) -> dict[str, Any]:
        """``learning_rate``, ``momentum``, ``weight_decay``, and ``l2`` and ``nesterov`` when set."""
        shown = {"learning_rate": self.learning_rate, "momentum": self.momentum, "weight_decay": self.weight_decay}
        if self.l2:
            shown["l2"] = self.l2
        if self.nesterov:
            shown["nesterov"] = True
        return shown

    def state_dict(self) -> dict[str, Any]:
        """The base's state, with ``l2`` and ``nesterov`` saved even at their defaults.

        :meth:`hyperparameters` (what the repr shows) leaves them out when unset, but a
        rule that loads the state must take them too, or one made with ``l2`` or
        ``nesterov`` would continue with its own.

        Returns
        -------
        dict
            As :meth:`neurosim.Optimizer.state_dict`.
        """
        state = super().state_dict()
        state["hyperparameters"].update(l2=self.l2, nesterov=self.nesterov)
        return state


def make_optimizer(registry, optimizer: Any, options: Mapping[str, Any] | None, mode: str) -> Optimizer:
    """The optimisation rule ``net.train(optimizer=..., optimizer_options=...)`` asks for.

    Parameters
    ----------
    registry : neurosim.Registry
        Where names are looked up.
    optimizer : str or Optimizer
        A registered name (``"rprop"``) or a rule object (used as it is, state and all:
        pass the same one to successive calls to train in stages).
    options : mapping, optional
        The named rule's options (``{"variant": "irprop+"}``); refused with an object.
    mode : str
        The training mode (a batch-only rule refuses online and minibatch).

    Returns
    -------
    Optimizer

    Raises
    ------
    PluginError
        An unknown name (with the closest), or options the rule does not take.
    DataError
        Options with an object, bad option values, a class instead of a rule, or a
        batch-only rule in another mode.
    """
    if isinstance(optimizer, type):
        named = getattr(optimizer, "name", None)
        by_name = f" or its name, optimizer={named!r}" if isinstance(named, str) else ""
        raise DataError(f"optimizer {optimizer.__name__} is a class; pass a rule made from it "
                        f"({optimizer.__name__}(...)){by_name}")
    if isinstance(optimizer, str):
        cls = registry.with_options("optimizer", optimizer, dict(options or {}))
        try:
            rule = cls(**dict(options or {}))
        except NeurosimError:
            raise
        except (TypeError, ValueError) as exc:
            raise DataError(f"optimizer {optimizer!r}: {exc}") from None
    elif options:
        raise DataError("optimizer_options go with an optimiser named by a string (optimizer='rprop'); an optimiser "
                        "object has its options already")
    else:
        rule = optimizer
    if getattr(rule, "batch_only", False) and mode != "batch":
        raise DataError(f"the {rule.name} optimiser trains in batch mode only (mode='batch'): it steps by the sign "
                        "or the change of the whole epoch's gradient, which per-pattern or per-minibatch gradients "
                        f"do not give (they flip from one update to the next); mode is {mode!r} here"
                        f"{' (the default)' if mode == 'online' else ''}: pass mode='batch'")
    return rule
