"""Built-in weight initialisers: uniform, normal, xavier_uniform and zeros.

Each draws the weights of many edges in one call from the network's seeded
:class:`numpy.random.Generator`, so the same seed gives the same weights.
"""

from __future__ import annotations

import numpy as np

from neurosim import Initializer, hookimpl


def _uniform(rng, fan_in, fan_out, scale=None, low=None, high=None):
    # U(low, high) when given; else U(-scale, scale); scale defaults to 1/sqrt(fan_in),
    # PyTorch nn.Linear's default. Rumelhart et al. (1986) used scale = 0.3.
    if low is not None or high is not None:
        return rng.uniform(-0.5 if low is None else low, 0.5 if high is None else high, size=len(fan_in))
    limit = 1.0 / np.sqrt(np.maximum(fan_in, 1)) if scale is None else float(scale)
    return rng.uniform(-1.0, 1.0, size=len(fan_in)) * limit


def _normal(rng, fan_in, fan_out, std=None, mean=0.0):
    spread = 1.0 / np.sqrt(np.maximum(fan_in, 1)) if std is None else float(std)
    return mean + rng.standard_normal(len(fan_in)) * spread


def _xavier_uniform(rng, fan_in, fan_out, gain=1.0):
    limit = gain * np.sqrt(6.0 / np.maximum(fan_in + fan_out, 1))
    return rng.uniform(-1.0, 1.0, size=len(fan_in)) * limit


def _zeros(rng, fan_in, fan_out):
    return np.zeros(len(fan_in))


@hookimpl
def neurosim_register_initializers(register):
    """Register uniform, normal, xavier_uniform and zeros."""
    register(Initializer("uniform", _uniform,
                         description="U(-scale, scale), scale = 1/sqrt(fan_in) unless given; or U(low, high)"))
    register(Initializer("normal", _normal, description="N(mean, std²), std = 1/sqrt(fan_in) unless given"))
    register(Initializer("xavier_uniform", _xavier_uniform,
                         description="Glorot: U(±gain·sqrt(6/(fan_in+fan_out)))"))
    register(Initializer("zeros", _zeros, description="all weights 0 (symmetric: hidden units learn alike)"))
