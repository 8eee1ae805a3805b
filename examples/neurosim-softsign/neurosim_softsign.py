"""An example neurosim plugin: the softsign activation and the Huber loss.

``softsign`` is ``y = net / (1 + |net|)``: shaped like tanh, with tails that approach
±1 polynomially, ``f'(net) = 1 / (1 + |net|)² = (1 - |y|)²``. ``huber`` is Huber's (1964)
robust loss with δ = 1, summed over patterns and outputs like every neurosim loss:
``E = Σ h(y − t)`` with ``h(r) = r²/2`` for ``|r| ≤ 1`` and ``|r| − 1/2`` beyond, so a
large error pulls with a constant force (its gradient ``clip(y − t, −1, 1)``) rather than
one that grows with it. Installed, the distribution advertises this module under the
``neurosim`` entry-point group (see pyproject.toml); without installing it, give the
file's path instead (``plugins = ["neurosim_softsign.py"]`` in a scenario).
"""

import numpy as np

import neurosim

#: Where Huber's loss turns from quadratic to linear.
DELTA = 1.0


def _softsign(net):
    return net / (1.0 + np.abs(net))


def _softsign_derivative(net, y):
    # f'(net) = 1 / (1 + |net|)^2, and 1 - |y| = 1 / (1 + |net|)
    return (1.0 - np.abs(y)) ** 2


def _huber_value(y, t):
    r = np.abs(y - t)
    # sum over patterns and outputs only: one total per ensemble member
    return np.sum(np.where(r <= DELTA, 0.5 * r * r, DELTA * (r - 0.5 * DELTA)), axis=(-2, -1))


def _huber_gradient(y, t):
    return np.clip(y - t, -DELTA, DELTA)


SOFTSIGN = neurosim.Activation("softsign", _softsign, derivative=_softsign_derivative,
                               description="y = net / (1 + |net|); f' = (1 - |y|)^2")
HUBER = neurosim.Loss("huber", _huber_value, _huber_gradient,
                      description="E = Σ h(y − t): r²/2 for |r| ≤ 1, |r| − 1/2 beyond (Huber 1964, δ = 1)")


@neurosim.hookimpl
def neurosim_register_activations(register):
    """Register softsign."""
    register(SOFTSIGN)


@neurosim.hookimpl
def neurosim_register_losses(register):
    """Register huber."""
    register(HUBER)
