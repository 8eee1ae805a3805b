"""Hand-written plain-Python references for the small online workloads W1 and W2.

What someone would write in CPython with no library at all, as fast as the interpreter
allows: every weight, net input, output and delta a local float, the network unrolled by
hand (no lists of lists in the inner loop), ``math.exp`` for the logistic function. They
follow neurosim's semantics (online = one update per pattern in order; momentum as
Rumelhart et al.'s eq. 9, ``v = momentum·v − lr·g; w += v``; mse = ½Σ(t−y)²) and return
the same error history ``Network.train`` returns: the total training-set error after
every epoch. With one pattern (W1) the forward pass of each step measures the error the
previous step left, so only the last epoch needs a pass of its own; with several (W2) the
error after an epoch needs a pass over all of them. Weights come in and go out as the
``{(source, target): weight}`` dicts of ``Network.weights()``.
"""

from __future__ import annotations

from math import exp

__all__ = ["train_w1", "train_w2"]


def train_w1(weights, x, t, *, learning_rate, epochs):
    """Mazur's 2-2-2 sigmoid net on one pattern, online SGD without momentum.

    Parameters
    ----------
    weights : dict
        ``{(source, target): weight}`` with the keys of the worked example (inputs
        ``i1, i2``, hidden ``h1, h2``, outputs ``o1, o2``, bias units ``b1`` feeding the
        hidden and ``b2`` the outputs); the bias weights stay frozen.
    x, t : sequence of float
        The pattern's two inputs and two targets.
    learning_rate : float
    epochs : int
        Steps (one pattern, so one update per epoch).

    Returns
    -------
    weights : dict
        The final weights, same keys.
    history : list of float
        ``history[k]``: the error ½Σ(t−y)² after ``k + 1`` steps.
    """
    w = weights
    w1, w2, w3, w4 = w["i1", "h1"], w["i2", "h1"], w["i1", "h2"], w["i2", "h2"]
    w5, w6, w7, w8 = w["h1", "o1"], w["h2", "o1"], w["h1", "o2"], w["h2", "o2"]
    b11, b12, b21, b22 = w["b1", "h1"], w["b1", "h2"], w["b2", "o1"], w["b2", "o2"]
    x1, x2 = float(x[0]), float(x[1])
    t1, t2 = float(t[0]), float(t[1])
    lr = float(learning_rate)
    errors = []
    record = errors.append
    for _ in range(epochs):
        h1 = 1.0 / (1.0 + exp(-(w1 * x1 + w2 * x2 + b11)))
        h2 = 1.0 / (1.0 + exp(-(w3 * x1 + w4 * x2 + b12)))
        y1 = 1.0 / (1.0 + exp(-(w5 * h1 + w6 * h2 + b21)))
        y2 = 1.0 / (1.0 + exp(-(w7 * h1 + w8 * h2 + b22)))
        e1 = y1 - t1
        e2 = y2 - t2
        record(0.5 * (e1 * e1 + e2 * e2))          # the error the last step left
        d1 = e1 * y1 * (1.0 - y1)
        d2 = e2 * y2 * (1.0 - y2)
        g1 = (w5 * d1 + w7 * d2) * h1 * (1.0 - h1)
        g2 = (w6 * d1 + w8 * d2) * h2 * (1.0 - h2)
        w5 -= lr * d1 * h1
        w6 -= lr * d1 * h2
        w7 -= lr * d2 * h1
        w8 -= lr * d2 * h2
        w1 -= lr * g1 * x1
        w2 -= lr * g1 * x2
        w3 -= lr * g2 * x1
        w4 -= lr * g2 * x2
    h1 = 1.0 / (1.0 + exp(-(w1 * x1 + w2 * x2 + b11)))
    h2 = 1.0 / (1.0 + exp(-(w3 * x1 + w4 * x2 + b12)))
    e1 = 1.0 / (1.0 + exp(-(w5 * h1 + w6 * h2 + b21))) - t1
    e2 = 1.0 / (1.0 + exp(-(w7 * h1 + w8 * h2 + b22))) - t2
    record(0.5 * (e1 * e1 + e2 * e2))
    out = dict(weights)
    out.update({("i1", "h1"): w1, ("i2", "h1"): w2, ("i1", "h2"): w3, ("i2", "h2"): w4,
                ("h1", "o1"): w5, ("h2", "o1"): w6, ("h1", "o2"): w7, ("h2", "o2"): w8})
    return out, errors[1:]


def train_w2(weights, X, T, *, learning_rate, momentum, epochs):
    """XOR on a 2-2-1 sigmoid net with trainable biases, online SGD with momentum.

    Parameters
    ----------
    weights : dict
        ``{(source, target): weight}``: inputs ``i1, i2``, hidden ``h1, h2``, output
        ``o1``, one bias unit ``b`` feeding all three.
    X, T : sequence
        Patterns ``(x1, x2)`` and targets ``(t,)``, presented in this order every epoch.
    learning_rate, momentum : float
    epochs : int

    Returns
    -------
    weights : dict
        The final weights, same keys.
    history : list of float
        ``history[k]``: the error ½Σ(t−y)² over all patterns after ``k + 1`` epochs.
    """
    w = weights
    a1, a2, a0 = w["i1", "h1"], w["i2", "h1"], w["b", "h1"]
    c1, c2, c0 = w["i1", "h2"], w["i2", "h2"], w["b", "h2"]
    u1, u2, u0 = w["h1", "o1"], w["h2", "o1"], w["b", "o1"]
    va1 = va2 = va0 = vc1 = vc2 = vc0 = vu1 = vu2 = vu0 = 0.0
    data = [(float(x[0]), float(x[1]), float(y[0])) for x, y in zip(X, T)]
    lr, m = float(learning_rate), float(momentum)
    history = []
    record = history.append
    for _ in range(epochs):
        for x1, x2, t in data:
            h1 = 1.0 / (1.0 + exp(-(a1 * x1 + a2 * x2 + a0)))
            h2 = 1.0 / (1.0 + exp(-(c1 * x1 + c2 * x2 + c0)))
            y = 1.0 / (1.0 + exp(-(u1 * h1 + u2 * h2 + u0)))
            d = (y - t) * y * (1.0 - y)
            g1 = u1 * d * h1 * (1.0 - h1)
            g2 = u2 * d * h2 * (1.0 - h2)
            vu1 = m * vu1 - lr * d * h1
            vu2 = m * vu2 - lr * d * h2
            vu0 = m * vu0 - lr * d
            va1 = m * va1 - lr * g1 * x1
            va2 = m * va2 - lr * g1 * x2
            va0 = m * va0 - lr * g1
            vc1 = m * vc1 - lr * g2 * x1
            vc2 = m * vc2 - lr * g2 * x2
            vc0 = m * vc0 - lr * g2
            u1 += vu1
            u2 += vu2
            u0 += vu0
            a1 += va1
            a2 += va2
            a0 += va0
            c1 += vc1
            c2 += vc2
            c0 += vc0
        E = 0.0                                     # the error after the epoch: a pass of its own
        for x1, x2, t in data:
            h1 = 1.0 / (1.0 + exp(-(a1 * x1 + a2 * x2 + a0)))
            h2 = 1.0 / (1.0 + exp(-(c1 * x1 + c2 * x2 + c0)))
            e = 1.0 / (1.0 + exp(-(u1 * h1 + u2 * h2 + u0))) - t
            E += 0.5 * e * e
        record(E)
    out = dict(weights)
    out.update({("i1", "h1"): a1, ("i2", "h1"): a2, ("b", "h1"): a0, ("i1", "h2"): c1, ("i2", "h2"): c2,
                ("b", "h2"): c0, ("h1", "o1"): u1, ("h2", "o1"): u2, ("b", "o1"): u0})
    return out, history
