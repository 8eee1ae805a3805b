"""Test fixture plugin, advertised under the ``neurosim`` entry-point group.

Provides the activation ``softsign`` (``y = net / (1 + |net|)``, ``f' = 1 / (1 + |net|)²``)
and the loss ``sae`` (sum of absolute errors, gradient ``sign(y - t)``).
"""

import numpy as np

from neurosim import Activation, Loss, hookimpl

SOFTSIGN = Activation(
    "softsign",
    lambda x: x / (1.0 + np.abs(x)),
    derivative=lambda x, y: 1.0 / (1.0 + np.abs(x)) ** 2,
    description="y = net / (1 + |net|)",
)
SAE = Loss(
    "sae",
    lambda y, t: float(np.sum(np.abs(y - t))),
    lambda y, t: np.sign(y - t),
    description="E = Σ |y − t|",
)


@hookimpl
def neurosim_register_activations(register):
    register(SOFTSIGN)


@hookimpl
def neurosim_register_losses(register):
    register(SAE)
