"""Built-in activation functions: identity, sigmoid (logistic), tanh, relu and softmax.

Each is registered through the ``neurosim_register_activations`` hook. Elementwise ones
give ``derivative(net, y)``; softmax normalises over a group of neurons and gives its
vector-Jacobian product instead.
"""

from __future__ import annotations

import numpy as np

from neurosim import Activation, ScalarActivation, hookimpl


def _sigmoid(x):
    # The textbook 1 / (1 + e^-x), bit-faithful to hand calculations. Below -700 the
    # argument is clamped so e^-x cannot overflow (the result, < 1e-304, is 0 for any
    # purpose); four array operations in all, since this runs on every pass.
    z = np.maximum(x, -700.0)
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)


def _softmax(x):
    # over the last axis: the neurons of the group
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _softmax_vjp(net, y, g):
    # dy_i/dnet_j = y_i (δ_ij - y_j)  =>  dE/dnet_j = y_j (g_j - Σ_i g_i y_i)
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


# The scalar forms are the same functions as expressions for generated code (the python
# and numba backends, docs/engine.md); the sigmoid clamps its argument as _sigmoid does.
IDENTITY = Activation("identity", lambda x: x, derivative=lambda x, y: np.ones_like(x),
                      description="y = net; f' = 1", scalar=ScalarActivation("{x}", "1.0"))
SIGMOID = Activation("sigmoid", _sigmoid, derivative=lambda x, y: y * (1.0 - y),
                     description="logistic y = 1/(1+e^-net); f' = y(1-y)",
                     scalar=ScalarActivation("1.0/(1.0+exp(-max({x}, -700.0)))", "{y}*(1.0-{y})"))
TANH = Activation("tanh", np.tanh, derivative=lambda x, y: 1.0 - y * y,
                  description="y = tanh(net); f' = 1 - y^2", scalar=ScalarActivation("tanh({x})", "1.0-{y}*{y}"))
RELU = Activation("relu", lambda x: np.maximum(x, 0.0), derivative=lambda x, y: (x > 0).astype(x.dtype),
                  description="y = max(0, net); f' = 1 if net > 0 else 0",
                  scalar=ScalarActivation("max({x}, 0.0)", "(1.0 if {x} > 0.0 else 0.0)"))
SOFTMAX = Activation("softmax", _softmax, vjp=_softmax_vjp, group=True,
                     description="y_i = e^net_i / sum_j e^net_j over a group (the outputs by default)")


@hookimpl
def neurosim_register_activations(register):
    """Register identity, sigmoid, tanh, relu and softmax."""
    for activation in (IDENTITY, SIGMOID, TANH, RELU, SOFTMAX):
        register(activation)
