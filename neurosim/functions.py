"""The contracts that plugins fulfil: :class:`Activation`, :class:`Loss`, :class:`Initializer`.

These are small immutable records of plain numpy functions. A plugin builds them and hands
them to the ``register`` callback of a hook (see :mod:`neurosim.hookspecs`); the engine
calls them on whole ``(batch, k)`` blocks of neurons at once, never per neuron or per
pattern. Each record states its local chain rule in its docstring, the way micrograd states
it per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["Activation", "Loss", "Initializer"]

Array = np.ndarray


@dataclass(frozen=True, eq=False)
class Activation:
    """A neuron's activation function ``y = f(net)`` and its local chain rule.

    Parameters
    ----------
    name : str
        The name neurons use to ask for it (``activation="sigmoid"``).
    function : callable
        ``function(net) -> y`` on a ``(batch, k)`` array. For a group activation the
        ``k`` columns are one group (e.g. the outputs of a softmax layer).
    derivative : callable, optional
        Elementwise activations: ``derivative(net, y) -> f'(net)``, same shape. Both the
        net input and the output are passed so a rule may use whichever is cheaper
        (sigmoid: ``y (1 - y)``). Backward: ``delta = f'(net) * dE/dy``.
    vjp : callable, optional
        Group activations: ``vjp(net, y, dE_dy) -> dE/dnet`` (vector-Jacobian product
        over the group's columns). Elementwise activations may give it instead of
        ``derivative``.
    group : bool, default False
        True when ``function`` couples the neurons of a group (softmax).
    description : str, optional
        One line for ``neurosim list`` and error messages.

    Notes
    -----
    The registry refuses an activation that provides neither ``derivative`` nor ``vjp``,
    or a group activation without ``vjp``.
    """

    name: str
    function: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array] | None = None
    vjp: Callable[[Array, Array, Array], Array] | None = None
    group: bool = False
    description: str = ""

    def backward(self, net: Array, y: Array, grad_y: Array) -> Array:
        """Return ``dE/dnet`` given ``dE/dy`` (chain rule through this activation).

        Parameters
        ----------
        net, y, grad_y : ndarray
            Net input, output and ``dE/dy`` of a ``(batch, k)`` block.

        Returns
        -------
        ndarray
            ``f'(net) * grad_y`` (elementwise) or ``vjp(net, y, grad_y)`` (group).
        """
        if self.vjp is not None:
            return self.vjp(net, y, grad_y)
        return self.derivative(net, y) * grad_y

    def __repr__(self) -> str:
        return f"Activation({self.name!r}{', group' if self.group else ''})"


@dataclass(frozen=True, eq=False)
class Loss:
    """A loss ``E(y, t)`` summed over patterns and output units, with its gradient.

    Parameters
    ----------
    name : str
        The name used in ``net.train(..., loss="mse")`` and scenario files.
    value : callable
        ``value(y, t) -> float``: the total error over a ``(batch, n_outputs)`` block.
    gradient : callable
        ``gradient(y, t) -> dE/dy``, same shape as ``y``.
    fused : mapping of str to callable, optional
        Output deltas simplified for particular activations: ``fused[act](y, t) ->
        dE/dnet`` for a block of output neurons that all use activation ``act`` (for a
        group activation the block is one whole group). Used instead of
        ``gradient`` followed by the activation's derivative, because it stays finite
        when the outputs saturate (sigmoid + binary cross-entropy: ``y - t``).
    description : str, optional
        One line for ``neurosim list``.
    """

    name: str
    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]
    fused: Mapping[str, Callable[[Array, Array], Array]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    description: str = ""

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


@dataclass(frozen=True, eq=False)
class Initializer:
    """A named way to draw initial weights for many edges at once.

    Parameters
    ----------
    name : str
        The name used in ``Network(init="uniform")`` and scenario files.
    draw : callable
        ``draw(rng, fan_in, fan_out, **options) -> weights``: ``rng`` is a
        :class:`numpy.random.Generator`; ``fan_in`` and ``fan_out`` are integer arrays
        with one entry per edge (the destination's number of non-bias inputs and the
        source's number of outgoing edges); returns one float per edge.
    description : str, optional
        One line for ``neurosim list``.
    """

    name: str
    draw: Callable[..., Array]
    description: str = ""

    def __call__(self, rng: np.random.Generator, fan_in: Array, fan_out: Array, **options: Any) -> Array:
        """Draw one weight per edge; see ``draw``."""
        return self.draw(rng, fan_in, fan_out, **options)

    def __repr__(self) -> str:
        return f"Initializer({self.name!r})"
