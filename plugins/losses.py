"""Built-in losses: mse (half sum of squares), bce and cce (cross-entropies).

All are *sums* over patterns and output units, as in Rumelhart, Hinton & Williams (1986)
and the worked example: ``mse`` is ``E = ½ Σ (t − y)²``, not a mean. The
cross-entropies give fused output deltas for the activation they pair with (sigmoid +
bce, softmax + cce), which stay finite when outputs saturate.
"""

from __future__ import annotations

import numpy as np

from neurosim import Loss, ScalarLoss, hookimpl

#: Like PyTorch's BCELoss, logarithms are clamped at -100 so a saturated output gives a
#: large finite error rather than infinity.
LOG_FLOOR = -100.0


def _log(y):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(y), LOG_FLOOR)


# Values sum over the last two axes (patterns, outputs): one total, or one per ensemble
# member when a leading member axis is present.
_AXES = (-2, -1)


def _mse_value(y, t):
    # ½ Σ (t − y)²; the ½ outside the sum is exact (a power of two) and this form runs
    # every epoch, so it makes one temporary instead of three. The squares are summed in
    # C order whatever the layout of y and t, so the sum is the same whoever computes it.
    d = np.subtract(y, t, order="C")
    np.multiply(d, d, out=d)
    return 0.5 * d.sum(axis=_AXES)


def _mse_value_and_gradient(y, t, out):
    # both from one y − t, written into out (the engine's dE/dy rows, laid out like y); the
    # squares go to a C-order temporary of their own, so the numbers are exactly
    # _mse_value's and the gradient's
    np.subtract(y, t, out=out)
    return 0.5 * np.multiply(out, out, order="C").sum(axis=_AXES)


def _bce_value(y, t):
    return -np.sum(t * _log(y) + (1.0 - t) * _log(1.0 - y), axis=_AXES)


def _bce_gradient(y, t):
    # dE/dy = (y - t) / (y (1 - y)); infinite at saturation, hence the fused delta.
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - t) / (y * (1.0 - y))


def _cce_value(y, t):
    return -np.sum(t * _log(y), axis=_AXES)


def _cce_gradient(y, t):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -t / y


def _cce_softmax_delta(y, t):
    # dE/dnet_j = y_j Σ_i t_i − t_j over one softmax group; = y − t when targets sum to 1.
    return y * t.sum(axis=-1, keepdims=True) - t


# The scalar forms (for the python and numba backends' generated code) clamp the
# logarithms as _log does: log(0) is an error in Python, not -inf.
_LOG_Y = "(max(log({y}), -100.0) if {y} > 0.0 else -100.0)"
_LOG_1MY = "(max(log(1.0-{y}), -100.0) if {y} < 1.0 else -100.0)"

MSE = Loss("mse", _mse_value, lambda y, t: y - t,
           description="E = ½ Σ (t − y)², the half *sum* of squares over patterns and outputs",
           scalar=ScalarLoss("0.5*(({y}-{t})*({y}-{t}))", "{y}-{t}"), value_and_gradient=_mse_value_and_gradient)
BCE = Loss("bce", _bce_value, _bce_gradient, fused={"sigmoid": lambda y, t: y - t},
           description="E = −Σ [t log y + (1−t) log(1−y)]; with sigmoid outputs delta = y − t",
           targets=(0.0, 1.0),
           scalar=ScalarLoss(f"-({{t}}*{_LOG_Y} + (1.0-{{t}})*{_LOG_1MY})", "({y}-{t})/({y}*(1.0-{y}))",
                             fused={"sigmoid": "{y}-{t}"}))
CCE = Loss("cce", _cce_value, _cce_gradient, fused={"softmax": _cce_softmax_delta},
           description="E = −Σ t log y over one output per class; with a softmax group delta = y − t (for one "
                       "output, use bce)", targets=(0.0, 1.0), min_outputs=2,
           scalar=ScalarLoss(f"-({{t}}*{_LOG_Y})", "-{t}/{y}"))


@hookimpl
def neurosim_register_losses(register):
    """Register mse, bce and cce."""
    for loss in (MSE, BCE, CCE):
        register(loss)
