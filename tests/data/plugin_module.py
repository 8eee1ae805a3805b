"""Test fixture plugin loaded by path (``make_registry(["…/plugin_module.py"])``).

Provides the activation ``softplus`` (``y = log(1 + e^net)``, ``f' = 1 / (1 + e^-net)``)
and the initialiser ``constant`` (every weight equal to ``value``, default 0.5).
"""

import numpy as np

from neurosim import Activation, Initializer, hookimpl

SOFTPLUS = Activation(
    "softplus",
    lambda x: np.logaddexp(0.0, x),
    derivative=lambda x, y: 1.0 / (1.0 + np.exp(-x)),
    description="y = log(1 + e^net)",
)
CONSTANT = Initializer(
    "constant",
    lambda rng, fan_in, fan_out, value=0.5: np.full(len(fan_in), float(value)),
    description="every weight = value",
)


@hookimpl
def neurosim_register_activations(register):
    register(SOFTPLUS)


@hookimpl
def neurosim_register_initializers(register):
    register(CONSTANT)
