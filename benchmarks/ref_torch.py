"""PyTorch references (optional: imported only when torch is importable).
The small nets (W1–W3, W6, W7) and W4 use what a PyTorch user writes: ``nn.Linear``
layers, autograd and ``torch.optim.SGD`` (W7: ``torch.optim.Rprop``) (whose momentum ``buf = m·buf + g; w −= lr·buf`` equals
eq. 9 up to rounding). W5, the random DAG, has no idiomatic PyTorch form, so two hand-made
engines without autograd compete and the faster counts: :class:`DagDense` (one dense
weight block per topological generation over its distinct sources, like neurosim's plan)
and :class:`DagGather` (per-edge gather, ``bmm`` forward, ``index_add_`` backward). Every
function returns numpy weight matrices in the layouts of :mod:`workloads` and the
training-set error after every epoch, like ``neurosim.Network.train``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["train_two_layer", "train_softmax_mlp", "train_softmax_mlp_minibatch", "train_sigmoid_mlp_online",
           "DagDense", "DagGather", "torch_dtype"]


def torch_dtype(dtype) -> torch.dtype:
    """The torch dtype of a numpy float dtype.

    Parameters
    ----------
    dtype : numpy dtype

    Returns
    -------
    torch.dtype
    """
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


def _linear(W, M, dt):
    """``nn.Linear`` holding ``W`` (bias last); the bias is frozen when its mask is 0."""
    if not np.all(M[:, :-1] == 1) or len(np.unique(M[:, -1])) != 1:
        raise ValueError("the torch reference freezes only whole bias vectors")
    layer = nn.Linear(W.shape[1] - 1, W.shape[0], dtype=dt)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W[:, :-1])))
        layer.bias.copy_(torch.from_numpy(np.ascontiguousarray(W[:, -1])))
    layer.bias.requires_grad_(bool(M[0, -1]))
    return layer


def _matrix(layer) -> np.ndarray:
    with torch.no_grad():
        return np.hstack([layer.weight.numpy(), layer.bias.numpy()[:, None]]).astype(np.float64)


def train_two_layer(W1, W2, M1, M2, X, T, *, learning_rate=0.0, momentum=0.0, epochs, mode, rprop=None):
    """Train a sigmoid–sigmoid net with autograd and ``optim.SGD`` on ``E = ½ Σ (t − y)²``.

    Parameters
    ----------
    W1, W2, M1, M2, X, T, learning_rate, momentum, epochs, mode
        As :func:`ref_numpy.train_two_layer`.
    rprop : dict, optional
        Train with ``torch.optim.Rprop`` instead (it is iRprop−), with these constants:
        ``delta0`` (its ``lr``), ``eta_plus``, ``eta_minus``, ``delta_max``, ``delta_min``.

    Returns
    -------
    (W1, W2) : tuple of ndarray
    history : ndarray
    """
    dt = torch_dtype(X.dtype)
    l1, l2 = _linear(W1, M1, dt), _linear(W2, M2, dt)
    params = [p for p in (l1.weight, l1.bias, l2.weight, l2.bias) if p.requires_grad]
    if rprop is None:
        opt = torch.optim.SGD(params, lr=learning_rate, momentum=momentum)
    else:
        opt = torch.optim.Rprop(params, lr=rprop["delta0"], etas=(rprop["eta_minus"], rprop["eta_plus"]),
                                step_sizes=(rprop["delta_min"], rprop["delta_max"]))
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    n = X.shape[0]
    size = 1 if mode == "online" else n
    chunks = [(Xt[i:i + size], Tt[i:i + size]) for i in range(0, n, size)]
    errors = []
    for epoch in range(epochs):
        for x, t in chunks:
            y = torch.sigmoid(l2(torch.sigmoid(l1(x))))
            loss = 0.5 * ((t - y) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if len(chunks) == 1:
                errors.append(loss.detach())
        if len(chunks) > 1:
            with torch.no_grad():
                errors.append(0.5 * ((Tt - torch.sigmoid(l2(torch.sigmoid(l1(Xt))))) ** 2).sum())
    if len(chunks) == 1:
        with torch.no_grad():
            errors.append(0.5 * ((Tt - torch.sigmoid(l2(torch.sigmoid(l1(Xt))))) ** 2).sum())
        errors = errors[1:]
    return (_matrix(l1), _matrix(l2)), torch.stack(errors).numpy()


def train_softmax_mlp(mats, X, T, *, learning_rate, epochs):
    """Train ``nn.Sequential(Linear, Sigmoid, …, Linear)`` with summed ``CrossEntropyLoss``.

    Parameters
    ----------
    mats, X, T, learning_rate, epochs
        As :func:`ref_numpy.train_softmax_mlp` (``T`` one-hot).

    Returns
    -------
    mats : list of ndarray
    history : ndarray
    """
    dt = torch_dtype(X.dtype)
    layers = []
    for k, W in enumerate(mats):
        layers.append(_linear(W, np.ones_like(W), dt))
        if k < len(mats) - 1:
            layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    opt = torch.optim.SGD(model.parameters(), lr=learning_rate)
    Xt, labels = torch.from_numpy(X), torch.from_numpy(T.argmax(axis=1))
    errors = []
    for _ in range(epochs):
        loss = loss_fn(model(Xt), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        errors.append(loss.detach())
    with torch.no_grad():
        errors.append(loss_fn(model(Xt), labels))
    return [_matrix(layer) for layer in model if isinstance(layer, nn.Linear)], \
        torch.stack(errors[1:]).double().numpy()


def _sequential(mats, dt, last=None):
    """``nn.Sequential(Linear, Sigmoid, …, Linear[, last])`` holding ``mats`` (bias last)."""
    layers = []
    for k, W in enumerate(mats):
        layers.append(_linear(W, np.ones_like(W), dt))
        if k < len(mats) - 1:
            layers.append(nn.Sigmoid())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def train_softmax_mlp_minibatch(mats, X, T, *, learning_rate, steps, batch_size):
    """Cycling-minibatch SGD on ``nn.Sequential`` with summed ``CrossEntropyLoss``, as fast as eager PyTorch goes.

    The batches are views sliced once; labels are precomputed; the update is one
    ``torch._foreach_add_`` over all parameters (what ``optim.SGD(foreach=True)`` does,
    without its bookkeeping); gradients are set to None rather than zeroed; the running
    error (the sum of the batches' losses before their updates, one per epoch) is kept as
    detached tensors, so nothing synchronises with Python inside the loop.

    Parameters
    ----------
    mats, X, T, learning_rate, steps, batch_size
        As :func:`ref_numpy.train_softmax_mlp_minibatch`.

    Returns
    -------
    mats : list of ndarray
    history : ndarray
        Running error per epoch.
    """
    dt = torch_dtype(X.dtype)
    model = _sequential(mats, dt)
    params = list(model.parameters())
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    n = X.shape[0]
    nb = n // batch_size
    Xt, labels = torch.from_numpy(X), torch.from_numpy(T.argmax(axis=1))
    batches = [(Xt[i * batch_size:(i + 1) * batch_size], labels[i * batch_size:(i + 1) * batch_size])
               for i in range(nb)]
    losses = []
    for step in range(steps):
        x, y = batches[step % nb]
        loss = loss_fn(model(x), y)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            torch._foreach_add_(params, [p.grad for p in params], alpha=-learning_rate)
        losses.append(loss.detach())
    history = torch.stack(losses).double().numpy()[: (steps // nb) * nb].reshape(-1, nb).sum(axis=1)
    return [_matrix(layer) for layer in model if isinstance(layer, nn.Linear)], history


def train_sigmoid_mlp_online(mats, X, T, *, learning_rate, epochs):
    """Online SGD on ``nn.Sequential`` of sigmoid layers with ``E = ½ Σ (t − y)²`` (one pattern per update).

    Parameters
    ----------
    mats, X, T, learning_rate, epochs
        As :func:`ref_numpy.train_sigmoid_mlp_online`.

    Returns
    -------
    mats : list of ndarray
    history : ndarray
        Training-set error after each epoch.
    """
    dt = torch_dtype(X.dtype)
    model = _sequential(mats, dt, nn.Sigmoid())
    params = list(model.parameters())
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    rows = [(Xt[i:i + 1], Tt[i:i + 1]) for i in range(X.shape[0])]
    errors = []
    for _ in range(epochs):
        for x, t in rows:
            loss = 0.5 * ((t - model(x)) ** 2).sum()
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                torch._foreach_add_(params, [p.grad for p in params], alpha=-learning_rate)
        with torch.no_grad():
            errors.append(0.5 * ((Tt - model(Xt)) ** 2).sum())
    return [_matrix(layer) for layer in model if isinstance(layer, nn.Linear)], torch.stack(errors).numpy()


class _Dag:
    """Shared state of the DAG engines: neuron-major buffers ``(units, batch)`` and flat parameters."""

    def __init__(self, dag, X, T):
        self.dag = dag
        self.dt = torch_dtype(X.dtype)
        self.n_units = len(dag.names)
        self.B = X.shape[0]
        self.X = torch.from_numpy(np.ascontiguousarray(X.T))
        self.T = torch.from_numpy(np.ascontiguousarray(T.T))
        self.out_rows = torch.from_numpy(dag.out_rows)
        # within a generation hidden (tanh) neurons come first, then outputs (sigmoid)
        self.splits = []
        for start, stop in dag.gens:
            k = start
            while k < stop and not dag.is_output[k]:
                k += 1
            if not np.all(dag.is_output[k:stop]):
                raise ValueError("outputs must come last within a generation")
            self.splits.append(k)
        self.Y = torch.empty(self.n_units, self.B, dtype=self.dt)
        self.gY = torch.empty(self.n_units, self.B, dtype=self.dt)

    @staticmethod
    def _activate(net, out, start, split, stop):
        if split > start:
            torch.tanh(net[:split - start], out=out[:split - start])
        if stop > split:
            torch.sigmoid(net[split - start:], out=out[split - start:])

    @staticmethod
    def _backact(y, g, start, split, stop):
        """``delta = f'(net)·dE/dy`` in place in ``g``: tanh ``1 − y²``, sigmoid ``y(1 − y)``."""
        a = split - start
        if a:
            g[:a] *= 1.0 - y[:a] * y[:a]
        if stop > split:
            g[a:] *= y[a:] * (1.0 - y[a:])
        return g

    def error(self) -> torch.Tensor:
        """``E = ½ Σ (t − y)²`` of the last forward pass."""
        Yo = self.Y.index_select(0, self.out_rows)
        return 0.5 * ((self.T - Yo) ** 2).sum()

    def train(self, epochs: int, learning_rate: float) -> np.ndarray:
        """Run ``epochs`` batch updates; return the training error after each.

        Parameters
        ----------
        epochs : int
        learning_rate : float

        Returns
        -------
        ndarray
        """
        errors = []
        with torch.inference_mode():
            for epoch in range(epochs):
                self.forward()
                if epoch:
                    errors.append(self.error())
                self.backward()
                self.theta.add_(self.grad, alpha=-learning_rate)
            self.forward()
            errors.append(self.error())
        return torch.stack(errors).double().numpy()


class DagDense(_Dag):
    """Random-DAG engine, one dense weight block per generation over its distinct sources.

    Forward: ``net = W_g @ Y[src_g] + b_g``; backward: ``dW_g = δ @ Y[src_g]ᵀ`` (masked to
    the edges), ``gY[src_g] += W_gᵀ @ δ`` with ``index_add_``. All parameters live in one
    flat tensor, updated with one ``add_``.

    Parameters
    ----------
    dag : workloads.DagLayout
    X, T : ndarray
        ``(batch, inputs)`` and ``(batch, outputs)``.
    """

    def __init__(self, dag, X, T):
        super().__init__(dag, X, T)
        blocks = []
        for S, Wg in zip(dag.src, dag.W):
            cols = np.unique(S)
            pos = np.searchsorted(cols, S)
            D = np.zeros((S.shape[0], len(cols)))
            M = np.zeros_like(D)
            rows = np.arange(S.shape[0])[:, None]
            D[rows, pos] = Wg
            M[rows, pos] = 1.0
            blocks.append((cols, pos, D, M))
        sizes = [D.size for _, _, D, _ in blocks]
        total = sum(sizes) + self.n_units
        theta = np.concatenate([D.ravel() for _, _, D, _ in blocks] + [dag.b])
        mask = np.concatenate([M.ravel() for _, _, _, M in blocks] + [np.zeros(self.n_units)])
        mask[sum(sizes) + dag.n_inputs:] = 1.0
        self.theta = torch.from_numpy(theta.astype(X.dtype))
        self.grad = torch.zeros(total, dtype=self.dt)
        self.mask = torch.from_numpy(mask.astype(X.dtype))
        self.levels = []
        off = 0
        for (start, stop), split, (cols, pos, D, _) in zip(dag.gens, self.splits, blocks):
            n = D.size
            shape = D.shape
            self.levels.append((start, split, stop, torch.from_numpy(cols),
                                self.theta[off:off + n].view(shape), self.grad[off:off + n].view(shape),
                                [None], pos))
            off += n
        self.b = self.theta[off:].view(self.n_units, 1)
        self.gb = self.grad[off:].view(self.n_units, 1)

    def forward(self):
        """Forward phase over ``self.X`` into the state ``self.Y``."""
        Y = self.Y
        Y[:self.dag.n_inputs] = self.X
        for start, split, stop, cols, W, _, saved, _ in self.levels:
            Ys = Y.index_select(0, cols)
            saved[0] = Ys
            net = torch.addmm(self.b[start:stop], W, Ys)
            self._activate(net, Y[start:stop], start, split, stop)

    def backward(self):
        """Backward phase after :meth:`forward`: fills the flat ``self.grad``."""
        Y, gY = self.Y, self.gY
        gY.zero_()
        gY.index_copy_(0, self.out_rows, self.Y.index_select(0, self.out_rows) - self.T)
        for start, split, stop, cols, W, G, saved, _ in reversed(self.levels):
            d = self._backact(Y[start:stop], gY[start:stop], start, split, stop)
            torch.mm(d, saved[0].T, out=G)
            torch.sum(d, dim=1, keepdim=True, out=self.gb[start:stop])
            gY.index_add_(0, cols, W.T @ d)
        self.grad.mul_(self.mask)

    def weights(self):
        """Per-generation ``(n_gen, fan_in)`` weights aligned with ``dag.src``, and the biases."""
        Ws = []
        for start, split, stop, cols, W, _, _, pos in self.levels:
            Wn = W.double().numpy()
            Ws.append(Wn[np.arange(Wn.shape[0])[:, None], pos])
        return Ws, self.b.double().numpy().ravel()


class DagGather(_Dag):
    """Random-DAG engine over the edge lists: gather the sources of every edge, ``bmm``.

    Forward: ``Ys = Y[src_g]`` of shape ``(n_gen, fan_in, batch)``, ``net = bmm(W_g, Ys)
    + b_g``; backward: ``dW_g = bmm(δ, Ysᵀ)``, ``gY.index_add_(src_g, W_g ⊗ δ)``.

    Parameters
    ----------
    dag : workloads.DagLayout
    X, T : ndarray
    """

    def __init__(self, dag, X, T):
        super().__init__(dag, X, T)
        sizes = [Wg.size for Wg in dag.W]
        total = sum(sizes) + self.n_units
        theta = np.concatenate([Wg.ravel() for Wg in dag.W] + [dag.b])
        self.theta = torch.from_numpy(theta.astype(X.dtype))
        self.grad = torch.zeros(total, dtype=self.dt)
        self.levels = []
        off = 0
        for (start, stop), split, S, Wg in zip(dag.gens, self.splits, dag.src, dag.W):
            n = Wg.size
            self.levels.append((start, split, stop, torch.from_numpy(S.ravel().copy()), S.shape,
                                self.theta[off:off + n].view(S.shape[0], 1, S.shape[1]),
                                self.grad[off:off + n].view(S.shape[0], 1, S.shape[1]), [None]))
            off += n
        self.b = self.theta[off:].view(self.n_units, 1)
        self.gb = self.grad[off:].view(self.n_units, 1)
        self.gb_mask = torch.ones(self.n_units, 1, dtype=self.dt)
        self.gb_mask[:dag.n_inputs] = 0.0

    def forward(self):
        """Forward phase over ``self.X`` into the state ``self.Y``."""
        Y, B = self.Y, self.B
        Y[:self.dag.n_inputs] = self.X
        for start, split, stop, src, shape, W, _, saved in self.levels:
            Ys = Y.index_select(0, src).view(shape[0], shape[1], B)
            saved[0] = Ys
            net = torch.bmm(W, Ys).view(shape[0], B)
            net += self.b[start:stop]
            self._activate(net, Y[start:stop], start, split, stop)

    def backward(self):
        """Backward phase after :meth:`forward`: fills the flat ``self.grad``."""
        Y, gY, B = self.Y, self.gY, self.B
        gY.zero_()
        self.gb.zero_()
        gY.index_copy_(0, self.out_rows, self.Y.index_select(0, self.out_rows) - self.T)
        for start, split, stop, src, shape, W, G, saved in reversed(self.levels):
            d = self._backact(Y[start:stop], gY[start:stop], start, split, stop)
            d3 = d.view(shape[0], 1, B)
            torch.bmm(d3, saved[0].transpose(1, 2), out=G)
            torch.sum(d, dim=1, keepdim=True, out=self.gb[start:stop])
            gY.index_add_(0, src, (W.transpose(1, 2) * d3).view(-1, B))

    def weights(self):
        """Per-generation ``(n_gen, fan_in)`` weights aligned with ``dag.src``, and the biases."""
        return [W.double().numpy().reshape(shape) for _, _, _, _, shape, W, _, _ in self.levels], \
            self.b.double().numpy().ravel()
