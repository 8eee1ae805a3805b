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

__all__ = ["train_two_layer", "train_softmax_mlp", "train_two_layer_ensemble", "train_two_layer_ensemble_shared",
           "train_softmax_mlp_minibatch", "train_sigmoid_mlp_online", "IRpropMinus"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sigmoid_(z):
    """In place: ``z = 1 / (1 + exp(-z))`` in four passes and no temporaries; returns ``z``.

    ``np.divide(1, z)`` rather than ``np.reciprocal(z)``: the same correctly rounded
    quotient, but numpy has a SIMD loop for the division only (about 3x faster here).
    """
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.divide(1.0, z, out=z)
    return z


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


def train_two_layer_ensemble_shared(W1, W2, X, T, *, learning_rate, momentum, epochs):
    """:func:`train_two_layer_ensemble` written for speed: members share the input product.

    All members see the same patterns, so the first layer of all of them is one GEMM,
    ``Xa @ W1_all``, with the members' first-layer weights side by side along the output
    axis (``(inputs + 1, hidden·K)``, hidden-major so that each hidden unit's block over
    the members is contiguous), and its gradient is one GEMM too, ``Xaᵀ @ δ1``. The second
    layer is per member; with a handful of hidden units and outputs it is a few
    broadcast multiply-adds over ``(patterns, K)`` blocks (the per-member products
    unrolled over the hidden units), not K small matrix products. Every buffer is
    allocated once; the loop allocates only the few small reductions numpy makes.

    Parameters
    ----------
    W1, W2, X, T, learning_rate, momentum, epochs
        As :func:`train_two_layer_ensemble`.

    Returns
    -------
    (W1, W2) : tuple of ndarray
        ``(K, hidden, inputs + 1)`` and ``(K, outputs, hidden + 1)``.
    history : ndarray
        ``(epochs, K)``.
    """
    K, nh, ni1 = W1.shape
    no = W2.shape[1]
    n = X.shape[0]
    dt = X.dtype
    Xa = np.hstack([X, np.ones((n, 1), dt)])
    XaT = np.ascontiguousarray(Xa.T)
    A = np.ascontiguousarray(W1.transpose(2, 1, 0)).reshape(ni1, nh * K)   # A[i, h*K + k] = W1[k, h, i]
    B = np.ascontiguousarray(W2.transpose(1, 2, 0))                          # B[o, h, k] (h = nh: bias)
    VA, VB = np.zeros_like(A), np.zeros_like(B)
    H = np.empty((n, nh * K), dt)                    # hidden outputs, (patterns, hidden·K)
    H3 = H.reshape(n, nh, K)
    Y = np.empty((n, no, K), dt)
    E = np.empty((n, no, K), dt)
    D1 = np.empty((n, nh * K), dt)
    D13 = D1.reshape(n, nh, K)
    S = np.empty((n, nh, K), dt)
    P = np.empty((n, K), dt)
    GA = np.empty_like(A)
    GB = np.empty_like(B)
    T3 = np.ascontiguousarray(np.broadcast_to(T[:, :, None], (n, no, K)))
    history = np.empty((epochs, K))
    lr = learning_rate
    for epoch in range(epochs + 1):
        np.matmul(Xa, A, out=H)
        _sigmoid_(H)
        for o in range(no):
            y = Y[:, o]
            np.multiply(H3[:, 0], B[o, 0], out=y)
            for h in range(1, nh):
                np.multiply(H3[:, h], B[o, h], out=P)
                y += P
            y += B[o, nh]
        _sigmoid_(Y)
        np.subtract(Y, T3, out=E)                    # y − t
        if epoch > 0:
            history[epoch - 1] = 0.5 * np.einsum("nok,nok->k", E, E)
        if epoch == epochs:
            break
        # δ2 = (y − t)·y·(1 − y), in E
        E *= Y
        np.subtract(1.0, Y, out=Y)
        E *= Y
        # second-layer gradient per member, and δ1 = Σ_o δ2·w2 · h(1 − h)
        for o in range(no):
            e = E[:, o]
            for h in range(nh):
                np.multiply(e, H3[:, h], out=P)
                np.sum(P, axis=0, out=GB[o, h])
            np.sum(e, axis=0, out=GB[o, nh])
            for h in range(nh):
                if o == 0:
                    np.multiply(e, B[o, h], out=D13[:, h])
                else:
                    np.multiply(e, B[o, h], out=P)
                    D13[:, h] += P
        np.subtract(1.0, H3, out=S)
        S *= H3
        D13 *= S
        np.matmul(XaT, D1, out=GA)                   # every member's first-layer gradient: one GEMM
        GA *= lr
        GB *= lr
        if momentum:
            VB *= momentum
            VB -= GB
            B += VB
            VA *= momentum
            VA -= GA
            A += VA
        else:
            B -= GB
            A -= GA
    W1o = A.reshape(ni1, nh, K).transpose(2, 1, 0).copy()
    W2o = B.transpose(2, 0, 1).copy()
    return (W1o, W2o), history


def _softmax_(z, m, s):
    """In place, row by row: ``z = exp(z − max) / Σ exp(z − max)``; ``m``, ``s`` are ``(rows, 1)`` scratch."""
    np.max(z, axis=1, keepdims=True, out=m)
    z -= m
    np.exp(z, out=z)
    np.sum(z, axis=1, keepdims=True, out=s)
    z /= s
    return z


def train_softmax_mlp_minibatch(mats, X, T, *, learning_rate, steps, batch_size):
    """Minibatch SGD cycling over the batches of ``X`` in order: sigmoid hidden layers, softmax
    outputs, summed cross-entropy — as fast as numpy goes.

    Weights are kept transposed, ``(sources, targets)``, so every product is a plain GEMM
    into a preallocated buffer (``out=``); activations, deltas and gradients are
    allocated once; the learning rate is folded into the output delta (a ``(batch, 10)``
    array) so that every gradient comes out already scaled and each weight matrix is
    read and written once per step. No end-of-epoch pass over the data: the history is
    the running error, the sum of the batches' errors before their updates (what Keras
    reports), one per epoch.

    Parameters
    ----------
    mats : list of ndarray
        ``(targets, sources + 1)`` per layer, bias last; the last layer is softmax.
    X, T : ndarray
        ``(patterns, inputs)`` and one-hot ``(patterns, outputs)``; the number of
        patterns is a multiple of ``batch_size``.
    learning_rate : float
    steps : int
        Updates; step ``s`` uses batch ``s mod (patterns / batch_size)``.
    batch_size : int

    Returns
    -------
    mats : list of ndarray
    history : ndarray
        Running error per epoch (``steps // batches`` entries).
    """
    dt = X.dtype
    n = X.shape[0]
    if n % batch_size:
        raise ValueError("the number of patterns must be a multiple of batch_size")
    nb = n // batch_size
    L = len(mats)
    Wt = [np.ascontiguousarray(W[:, :-1].T) for W in mats]
    b = [np.array(W[:, -1]) for W in mats]
    Xs = [X[i * batch_size:(i + 1) * batch_size] for i in range(nb)]
    Ts = [T[i * batch_size:(i + 1) * batch_size] for i in range(nb)]
    labels = [t.argmax(axis=1) for t in Ts]
    rows = np.arange(batch_size)
    A = [np.empty((batch_size, W.shape[0]), dt) for W in mats]
    D = [np.empty((batch_size, W.shape[0]), dt) for W in mats]
    S = [np.empty((batch_size, W.shape[0]), dt) for W in mats]
    G = [np.empty_like(w) for w in Wt]
    gb = [np.empty_like(v) for v in b]
    m, s = np.empty((batch_size, 1), dt), np.empty((batch_size, 1), dt)
    lr = dt.type(learning_rate)
    history = np.zeros(steps // nb)
    running = 0.0
    for step in range(steps):
        i = step % nb
        a = Xs[i]
        for k in range(L):
            z = A[k]
            np.matmul(a, Wt[k], out=z)
            z += b[k]
            if k < L - 1:
                _sigmoid_(z)
            else:
                _softmax_(z, m, s)
            a = z
        with np.errstate(divide="ignore"):
            running -= float(np.maximum(np.log(a[rows, labels[i]]), -100.0).sum())
        if i == nb - 1:
            history[step // nb] = running
            running = 0.0
        np.subtract(a, Ts[i], out=D[-1])
        D[-1] *= lr
        for k in range(L - 1, -1, -1):
            prev = A[k - 1] if k else Xs[i]
            np.matmul(prev.T, D[k], out=G[k])
            np.sum(D[k], axis=0, out=gb[k])
            if k:
                np.matmul(D[k], Wt[k].T, out=D[k - 1])
                np.subtract(1.0, prev, out=S[k - 1])
                S[k - 1] *= prev
                D[k - 1] *= S[k - 1]
            Wt[k] -= G[k]
            b[k] -= gb[k]
    return [np.hstack([w.T, v[:, None]]) for w, v in zip(Wt, b)], history


def train_sigmoid_mlp_online(mats, X, T, *, learning_rate, epochs):
    """Online SGD on a sigmoid MLP (every layer sigmoid) with ``E = ½ Σ (t − y)²``, as fast as numpy goes.

    One update per pattern, in order; matrix–vector products into preallocated vectors;
    the learning rate is folded into the output delta, so each weight matrix takes one
    outer product into a scratch matrix and one subtraction per update. The history is
    the training-set error after each epoch (one batched forward pass), as
    ``Network.train`` returns it.

    Parameters
    ----------
    mats : list of ndarray
        ``(targets, sources + 1)`` per layer, bias last.
    X, T : ndarray
    learning_rate : float
    epochs : int

    Returns
    -------
    mats : list of ndarray
    history : ndarray
    """
    dt = X.dtype
    L = len(mats)
    W = [np.ascontiguousarray(M[:, :-1]) for M in mats]
    b = [np.array(M[:, -1]) for M in mats]
    A = [np.empty(w.shape[0], dt) for w in W]
    D = [np.empty(w.shape[0], dt) for w in W]
    S = [np.empty(w.shape[0], dt) for w in W]
    G = [np.empty_like(w) for w in W]
    lr = dt.type(learning_rate)
    history = np.empty(epochs)
    for epoch in range(epochs):
        for x, t in zip(X, T):
            a = x
            for k in range(L):
                np.matmul(W[k], a, out=A[k])
                A[k] += b[k]
                a = _sigmoid_(A[k])
            d = D[-1]
            np.subtract(a, t, out=d)
            d *= a
            np.subtract(1.0, a, out=S[-1])
            d *= S[-1]
            d *= lr
            for k in range(L - 1, -1, -1):
                prev = A[k - 1] if k else x
                if k:
                    np.matmul(D[k], W[k], out=D[k - 1])
                    np.subtract(1.0, prev, out=S[k - 1])
                    S[k - 1] *= prev
                    D[k - 1] *= S[k - 1]
                np.outer(D[k], prev, out=G[k])
                W[k] -= G[k]
                b[k] -= D[k]
        a = X
        for k in range(L):
            a = _sigmoid_(a @ W[k].T + b[k])
        history[epoch] = 0.5 * float(np.sum((T - a) ** 2))
    return [np.hstack([w, v[:, None]]) for w, v in zip(W, b)], history
