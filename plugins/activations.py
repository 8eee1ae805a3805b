"""Built-in activation functions: identity, sigmoid (logistic), tanh, relu and softmax.

Each is registered through the ``neurosim_register_activations`` hook. Elementwise ones
give ``derivative(net, y)``; softmax normalises over a group of neurons and gives its
vector-Jacobian product instead.
"""

from __future__ import annotations

import numpy as np

from neurosim import Activation, ScalarActivation, hookimpl


def _sigmoid(x):
    # The textbook 1 / (1 + e^-x), bit-faithful to hand calculations (see _sigmoid_into)
    out = np.empty_like(x, dtype=np.result_type(x, 1.0))
    _sigmoid_into(x, out)
    return out


#: From this many entries on, the clamp below first asks whether any entry needs it: a
#: maximum reduction is 4-5x faster than numpy's elementwise maximum against a scalar,
#: which has no SIMD loop here; below it, one call costs less than two.
_CLAMP_CHECK = 4096


def _sigmoid_into(x, out):
    # 1 / (1 + e^-x), in place. Below -700 the argument is clamped so e^-x cannot overflow
    # (the result, < 1e-304, is 0 for any purpose); min(-x, 700) is -max(x, -700) exactly.
    # np.divide(1, z) rather than np.reciprocal(z): the same bits, and divide has a SIMD
    # loop (1.7x faster in float64, 3x in float32, on this project's machine).
    if out.size >= _CLAMP_CHECK:
        np.negative(x, out=out)
        if not np.maximum.reduce(out, axis=None) <= 700.0:      # NaN too: then clamp the rest
            np.minimum(out, 700.0, out=out)
    else:
        np.maximum(x, -700.0, out=out)
        np.negative(out, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.divide(1.0, out, out=out)


def _sigmoid_backward_into(x, y, g, out):
    # (y (1 - y)) g, as derivative(x, y) * g computes it
    np.subtract(1.0, y, out=out)
    out *= y
    out *= g


def _tanh_backward_into(x, y, g, out):
    # (1 - y y) g
    np.multiply(y, y, out=out)
    np.subtract(1.0, out, out=out)
    out *= g


def _relu_backward_into(x, y, g, out):
    # (x > 0) g, the step as 1.0 or 0.0 times g
    np.multiply(x > 0, g, out=out)


def _softmax(x):
    # over the last axis: the neurons of the group
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _softmax_vjp(net, y, g):
    # dy_i/dnet_j = y_i (δ_ij - y_j)  =>  dE/dnet_j = y_j (g_j - Σ_i g_i y_i)
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


# The scalar forms are the same functions as expressions for generated code (the python
# and numba backends, docs/engine.md); the sigmoid clamps its argument as _sigmoid does.
# Clamps are conditional expressions, not max(): the same value for every input (NaN and
# -0.0 included), without a builtin call per neuron, which cost W1 a quarter of its time.
IDENTITY = Activation("identity", lambda x: x, derivative=lambda x, y: np.ones_like(x),
                      description="y = net; f' = 1", scalar=ScalarActivation("{x}", "1.0"),
                      function_into=lambda x, out: np.copyto(out, x),
                      backward_into=lambda x, y, g, out: np.multiply(g, 1.0, out=out))
SIGMOID = Activation("sigmoid", _sigmoid, derivative=lambda x, y: y * (1.0 - y),
                     description="logistic y = 1/(1+e^-net); f' = y(1-y)",
                     scalar=ScalarActivation("1.0/(1.0+(exp(700.0) if {x} < -700.0 else exp(-{x})))", "{y}*(1.0-{y})"),
                     function_into=_sigmoid_into, backward_into=_sigmoid_backward_into)
TANH = Activation("tanh", np.tanh, derivative=lambda x, y: 1.0 - y * y,
                  description="y = tanh(net); f' = 1 - y^2", scalar=ScalarActivation("tanh({x})", "1.0-{y}*{y}"),
                  function_into=lambda x, out: np.tanh(x, out=out), backward_into=_tanh_backward_into)
RELU = Activation("relu", lambda x: np.maximum(x, 0.0), derivative=lambda x, y: (x > 0).astype(x.dtype),
                  description="y = max(0, net); f' = 1 if net > 0 else 0",
                  scalar=ScalarActivation("(0.0 if {x} < 0.0 else {x})", "(1.0 if {x} > 0.0 else 0.0)"),
                  function_into=lambda x, out: np.maximum(x, 0.0, out=out), backward_into=_relu_backward_into)
SOFTMAX = Activation("softmax", _softmax, vjp=_softmax_vjp, group=True,
                     description="y_i = e^net_i / sum_j e^net_j over a group (the outputs by default)")


@hookimpl
def neurosim_register_activations(register):
    """Register identity, sigmoid, tanh, relu and softmax."""
    for activation in (IDENTITY, SIGMOID, TANH, RELU, SOFTMAX):
        register(activation)
