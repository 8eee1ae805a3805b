"""Built-in activation functions: identity, sigmoid (logistic), tanh, relu and softmax.

Each is registered through the ``neurosim_register_activations`` hook. Elementwise ones
give ``derivative(net, y)``; softmax normalises over a group of neurons and gives its
vector-Jacobian product instead. None of them needs the net input to go backward (relu's
``net > 0`` is ``y > 0``), so all say ``uses_net=False`` and an ensemble computes them in
place over its net inputs.
"""

from __future__ import annotations

import numpy as np

from neurosim import Activation, ScalarActivation, hookimpl


def _sigmoid(x):
    # The textbook 1 / (1 + e^-x), bit-faithful to hand calculations (see _sigmoid_into);
    # e^-x overflowing on the way to the limit 0 is no error, so it does not warn
    out = np.empty_like(x, dtype=np.result_type(x, 1.0))
    with np.errstate(over="ignore", under="ignore"):
        _sigmoid_into(x, out)
    return out


#: The largest float64 ``z`` whose ``e^z`` is finite (``log`` of the largest float): the
#: scalar form's branch for the arguments whose ``e^-x`` overflows in numpy's exp.
_EXP_LIMIT = 709.782712893384


def _sigmoid_into(x, out):
    # 1 / (1 + e^-x), into out. Where e^-x overflows (x below -709.78 in float64, -88.72 in
    # float32) it is inf and the quotient exactly 0, less than 6e-309 from the true value
    # (1e-38 in float32): IEEE arithmetic gives the limit, with no clamp to look for. The
    # overflow's warning is the caller's to silence, as for numpy's own in-place ufuncs:
    # the engine's passes do (np.errstate costs a microsecond, once a pass rather than once
    # a call). np.divide(1, z) rather than np.reciprocal(z): the same bits, and divide has
    # a SIMD loop (1.7x faster in float64, 3x in float32, on this project's machine).
    np.negative(x, out=out)
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
    # (x > 0) g, the step as 1.0 or 0.0 times g; x > 0 exactly where y = max(x, 0) > 0, so y
    # may stand for x (uses_net=False)
    np.multiply(x > 0, g, out=out)


def _softmax(x):
    # over the last axis: the neurons of the group
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _softmax_vjp(net, y, g):
    # dy_i/dnet_j = y_i (δ_ij - y_j)  =>  dE/dnet_j = y_j (g_j - Σ_i g_i y_i)
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


# The scalar forms are the same functions as expressions for generated code (the python
# and numba backends, docs/engine.md); the sigmoid is 0 where e^-x would overflow, as
# _sigmoid_into's is (Python's exp raises there). Such branches are conditional
# expressions, not max(): the same value for every input (NaN and -0.0 included), without
# a builtin call per neuron, which cost W1 a quarter of its time.
IDENTITY = Activation("identity", lambda x: x, derivative=lambda x, y: np.ones_like(x),
                      description="y = net; f' = 1", scalar=ScalarActivation("{x}", "1.0"),
                      function_into=lambda x, out: np.copyto(out, x),
                      backward_into=lambda x, y, g, out: np.multiply(g, 1.0, out=out), uses_net=False)
SIGMOID = Activation("sigmoid", _sigmoid, derivative=lambda x, y: y * (1.0 - y),
                     description="logistic y = 1/(1+e^-net); f' = y(1-y)",
                     scalar=ScalarActivation(f"(0.0 if {{x}} < -{_EXP_LIMIT!r} else 1.0/(1.0+exp(-{{x}})))",
                                             "{y}*(1.0-{y})"),
                     function_into=_sigmoid_into, backward_into=_sigmoid_backward_into, uses_net=False)
TANH = Activation("tanh", np.tanh, derivative=lambda x, y: 1.0 - y * y,
                  description="y = tanh(net); f' = 1 - y^2", scalar=ScalarActivation("tanh({x})", "1.0-{y}*{y}"),
                  function_into=lambda x, out: np.tanh(x, out=out), backward_into=_tanh_backward_into,
                  uses_net=False)
RELU = Activation("relu", lambda x: np.maximum(x, 0.0), derivative=lambda x, y: (x > 0).astype(x.dtype),
                  description="y = max(0, net); f' = 1 if net > 0 else 0",
                  scalar=ScalarActivation("(0.0 if {x} < 0.0 else {x})", "(1.0 if {x} > 0.0 else 0.0)"),
                  function_into=lambda x, out: np.maximum(x, 0.0, out=out), backward_into=_relu_backward_into,
                  uses_net=False)
SOFTMAX = Activation("softmax", _softmax, vjp=_softmax_vjp, group=True, uses_net=False,
                     description="y_i = e^net_i / sum_j e^net_j over a group (the outputs by default)")


@hookimpl
def neurosim_register_activations(register):
    """Register identity, sigmoid, tanh, relu and softmax."""
    for activation in (IDENTITY, SIGMOID, TANH, RELU, SOFTMAX):
        register(activation)
