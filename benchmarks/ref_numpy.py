"""Hand-written numpy references: what a careful person would write for each workload by hand.
Each function trains from given initial weight matrices with neurosim's semantics
(Rumelhart et al.'s eq. 9 momentum ``v = momentum·v − lr·g; w += v``, summed losses,
``online`` = one update per pattern in order, ``batch`` = one update per sweep over the
summed gradient) and returns the final weights and the same error history that
``neurosim.Network.train`` returns: the total training-set error after every epoch. The
matrices are ``(targets, sources)`` with the bias as the last column (see
:class:`workloads.Layer`); pattern-major arrays ``(patterns, units)`` throughout.
"""

from __future__ import annotations

import numpy as np

__all__ = ["train_two_layer", "train_softmax_mlp", "train_two_layer_ensemble", "IRpropMinus"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _update(W, G, M, V, lr, momentum):
    """In place: ``V = momentum·V − lr·G·M; W += V`` (or ``W −= lr·G·M`` without momentum)."""
    G *= M
    G *= lr
    if momentum:
        V *= momentum
        V -= G
        W += V
    else:
        W -= G


class IRpropMinus:
    """iRprop− (Igel & Hüsken) by hand, per weight matrix: what :func:`train_two_layer` calls
    instead of the momentum update when given one.

    Parameters
    ----------
    shapes : list of tuple
        The weight matrices' shapes.
    delta0, eta_plus, eta_minus, delta_max, delta_min : float
    """

    def __init__(self, shapes, *, delta0, eta_plus, eta_minus, delta_max, delta_min):
        self.delta = [np.full(s, delta0) for s in shapes]
        self.previous = [np.zeros(s) for s in shapes]
        self.eta_plus, self.eta_minus, self.delta_max, self.delta_min = eta_plus, eta_minus, delta_max, delta_min

    def __call__(self, k, W, G, M):
        """Update ``W`` (matrix ``k``) in place from its gradient ``G`` and mask ``M``."""
        delta, previous = self.delta[k], self.previous[k]
        G *= M
        agreement = np.sign(G * previous)
        grow, flip = agreement > 0, agreement < 0
        delta[grow] = np.minimum(delta[grow] * self.eta_plus, self.delta_max)
        delta[flip] = np.maximum(delta[flip] * self.eta_minus, self.delta_min)
        G[flip] = 0.0
        change = -np.sign(G) * delta
        change *= M
        W += change
        previous[...] = G


def train_two_layer(W1, W2, M1, M2, X, T, *, learning_rate=0.0, momentum=0.0, epochs, mode, rule=None):
    """Train a sigmoid–sigmoid two-layer net on the half summed squared error.

    Parameters
    ----------
    W1, W2 : ndarray
        ``(hidden, inputs + 1)`` and ``(outputs, hidden + 1)`` initial weights, bias last.
    M1, M2 : ndarray
        1/0 trainable masks of the same shapes.
    X, T : ndarray
        ``(patterns, inputs)`` and ``(patterns, outputs)``.
    learning_rate, momentum : float
        Of the momentum update (eq. 9), used without ``rule``.
    epochs : int
    mode : {'online', 'batch'}
    rule : callable, optional
        ``rule(k, W, G, M)`` updates weight matrix ``k`` (0: ``W1``, 1: ``W2``) in place
        instead, e.g. an :class:`IRpropMinus`.

    Returns
    -------
    (W1, W2) : tuple of ndarray
        Final weights.
    history : ndarray
        Training-set error after each epoch.
    """
    W1, W2 = W1.copy(), W2.copy()
    V1, V2 = np.zeros_like(W1), np.zeros_like(W2)
    if rule is None:
        def rule(k, W, G, M):
            _update(W, G, M, (V1, V2)[k], learning_rate, momentum)
    n, nh = X.shape[0], W1.shape[0]
    Xa = np.hstack([X, np.ones((n, 1), X.dtype)])
    history = np.empty(epochs)
    size = 1 if mode == "online" else n
    chunks = [(Xa[i:i + size], T[i:i + size], np.ones((size, nh + 1), X.dtype)) for i in range(0, n, size)]
    for epoch in range(epochs):
        for xa, t, ha in chunks:
            h = _sigmoid(xa @ W1.T)
            ha[:, :nh] = h
            y = _sigmoid(ha @ W2.T)
            E = 0.5 * np.sum((t - y) ** 2)
            d2 = (y - t) * y * (1.0 - y)
            d1 = (d2 @ W2[:, :nh]) * h * (1.0 - h)
            G2 = d2.T @ ha
            G1 = d1.T @ xa
            if len(chunks) == 1 and epoch > 0:
                history[epoch - 1] = E
            rule(1, W2, G2, M2)
            rule(0, W1, G1, M1)
        if len(chunks) > 1 or epoch == epochs - 1:
            ha = np.ones((n, nh + 1), X.dtype)
            ha[:, :nh] = _sigmoid(Xa @ W1.T)
            history[epoch] = 0.5 * np.sum((T - _sigmoid(ha @ W2.T)) ** 2)
    return (W1, W2), history


def train_softmax_mlp(mats, X, T, *, learning_rate, epochs):
    """Train a sigmoid hidden-layer net with softmax outputs on the summed cross-entropy, batch mode.

    Parameters
    ----------
    mats : list of ndarray
        ``(targets, sources + 1)`` initial weights per layer, bias last; every layer but
        the last is sigmoid, the last softmax.
    X, T : ndarray
        Inputs and one-hot targets.
    learning_rate : float
    epochs : int
        Updates (one per sweep over the whole batch).

    Returns
    -------
    mats : list of ndarray
    history : ndarray
    """
    Ws = [W.copy() for W in mats]
    history = np.empty(epochs)

    def forward():
        acts = [X]
        a = X
        for k, W in enumerate(Ws):
            net = a @ W[:, :-1].T
            net += W[:, -1]
            if k < len(Ws) - 1:
                a = _sigmoid(net)
            else:
                z = np.exp(net - net.max(axis=1, keepdims=True))
                a = z / z.sum(axis=1, keepdims=True)
            acts.append(a)
        return acts

    def error(Y):
        with np.errstate(divide="ignore"):
            return -np.sum(T * np.maximum(np.log(Y), -100.0))

    for epoch in range(epochs):
        acts = forward()
        E = error(acts[-1])
        if epoch > 0:
            history[epoch - 1] = E
        delta = acts[-1] * T.sum(axis=1, keepdims=True) - T
        for k in range(len(Ws) - 1, -1, -1):
            W, a = Ws[k], acts[k]
            G = np.empty_like(W)
            G[:, :-1] = delta.T @ a
            G[:, -1] = delta.sum(axis=0)
            if k:
                delta = (delta @ W[:, :-1]) * a * (1.0 - a)
            G *= learning_rate
            W -= G
    history[-1] = error(forward()[-1])
    return Ws, history


def train_two_layer_ensemble(W1, W2, X, T, *, learning_rate, momentum, epochs):
    """Train K independent sigmoid–sigmoid nets at once (leading ensemble axis), batch mode, mse.

    Parameters
    ----------
    W1, W2 : ndarray
        ``(K, hidden, inputs + 1)`` and ``(K, outputs, hidden + 1)``, bias last.
    X, T : ndarray
        Shared ``(patterns, inputs)`` and ``(patterns, outputs)``.
    learning_rate, momentum : float
    epochs : int

    Returns
    -------
    (W1, W2) : tuple of ndarray
    history : ndarray
        ``(epochs, K)``: each member's training error after each epoch.
    """
    W1, W2 = W1.copy(), W2.copy()
    V1, V2 = np.zeros_like(W1), np.zeros_like(W2)
    K, nh = W1.shape[0], W1.shape[1]
    n = X.shape[0]
    Xa = np.hstack([X, np.ones((n, 1), X.dtype)])
    Ha = np.ones((K, n, nh + 1), X.dtype)
    history = np.empty((epochs, K))
    lr = learning_rate
    for epoch in range(epochs + 1):
        H = _sigmoid(Xa @ W1.transpose(0, 2, 1))            # (K, n, hidden)
        Ha[:, :, :nh] = H
        Y = _sigmoid(Ha @ W2.transpose(0, 2, 1))            # (K, n, outputs)
        if epoch > 0:
            history[epoch - 1] = 0.5 * np.sum((T - Y) ** 2, axis=(1, 2))
        if epoch == epochs:
            break
        d2 = (Y - T) * Y * (1.0 - Y)
        d1 = (d2 @ W2[:, :, :nh]) * H * (1.0 - H)
        G2 = d2.transpose(0, 2, 1) @ Ha
        G1 = d1.transpose(0, 2, 1) @ Xa
        G2 *= lr
        G1 *= lr
        if momentum:
            V2 *= momentum
            V2 -= G2
            W2 += V2
            V1 *= momentum
            V1 -= G1
            W1 += V1
        else:
            W2 -= G2
            W1 -= G1
    return (W1, W2), history
