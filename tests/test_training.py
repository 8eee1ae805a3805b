"""Training semantics: online, batch and minibatch updates, momentum, frozen weights, history.

Each mode is checked against the same updates written out by hand from
``net.gradients`` (online: one pattern at a time, in order; batch: gradients summed over
all patterns, Rumelhart et al. eq. 8; momentum: eq. 9), to 1e-12 in float64. Softmax with
categorical cross-entropy is checked for its fused delta and for learning a small task.
"""

import numpy as np
import pytest

import neurosim

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_T = np.array([[0], [1], [1], [0]], dtype=float)


def xor_net(seed=0, hidden="sigmoid"):
    net = neurosim.Network(seed=seed, init_options={"scale": 0.5})
    net.add_layer("i", 2, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 2, hidden, connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h], bias=b)
    return net


def by_hand(net, X, T, lr, epochs, mode, momentum=0.0, loss="mse", batch_size=None):
    """The same training written with net.gradients and set_weight, one update at a time."""
    size = {"online": 1, "batch": len(X)}.get(mode, batch_size)
    velocity = {k: 0.0 for k in net.weights()}
    history = []
    for _ in range(epochs):
        for i in range(0, len(X), size):
            _, g = net.gradients(X[i:i + size], T[i:i + size], loss=loss)
            for (s, d), gw in g.items():
                if net.trainable(s, d):
                    velocity[s, d] = momentum * velocity[s, d] - lr * gw
                    net.set_weight(s, d, net.weight(s, d) + velocity[s, d])
        history.append(net.error(X, T, loss=loss))
    return np.array(history)


@pytest.mark.parametrize("mode, momentum, batch_size", [
    ("online", 0.0, None), ("batch", 0.0, None), ("online", 0.9, None), ("batch", 0.9, None),
    ("minibatch", 0.5, 2), ("minibatch", 0.0, 3)])
def test_modes_match_updates_written_by_hand(mode, momentum, batch_size):
    fast, slow = xor_net(seed=3), xor_net(seed=3)
    assert fast.weights() == slow.weights()
    h_fast = fast.train(XOR_X, XOR_T, learning_rate=0.5, epochs=25, mode=mode, momentum=momentum,
                        batch_size=batch_size, history="exact")
    h_slow = by_hand(slow, XOR_X, XOR_T, 0.5, 25, mode, momentum, batch_size=batch_size)
    np.testing.assert_allclose(h_fast, h_slow, rtol=1e-12, atol=0)
    for k, w in slow.weights().items():
        assert fast.weights()[k] == pytest.approx(w, rel=1e-12, abs=1e-13), k


def test_online_and_batch_differ_and_batch_is_one_summed_step():
    online, batch = xor_net(seed=1), xor_net(seed=1)
    w0 = batch.weights()
    _, g = batch.gradients(XOR_X, XOR_T)
    batch.train(XOR_X, XOR_T, learning_rate=0.3, epochs=1, mode="batch")
    online.train(XOR_X, XOR_T, learning_rate=0.3, epochs=1, mode="online")
    for k in w0:
        assert batch.weights()[k] == w0[k] - 0.3 * g[k]
    assert max(abs(online.weights()[k] - batch.weights()[k]) for k in w0) > 1e-4


def test_history_is_the_error_after_each_epoch():
    net = xor_net(seed=2)
    history = net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=5, mode="batch", momentum=0.9)
    assert history.shape == (5,)
    assert history[-1] == net.error(XOR_X, XOR_T)
    # resuming with the same optimiser continues the momentum: 5 + 5 epochs == 10 epochs
    a, b = xor_net(seed=2), xor_net(seed=2)
    opt = neurosim.training.SGD(0.5, 0.9)
    h1 = np.concatenate([a.train(XOR_X, XOR_T, epochs=5, mode="batch", optimizer=opt),
                         a.train(XOR_X, XOR_T, epochs=5, mode="batch", optimizer=opt)])
    h2 = b.train(XOR_X, XOR_T, learning_rate=0.5, momentum=0.9, epochs=10, mode="batch")
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(h2[:5], history)


def test_frozen_weights_never_change_but_report_gradients():
    net = xor_net(seed=4)
    net.set_trainable("bias", "o1", False)
    net.set_trainable("i1", "h2", False)
    frozen = {k: net.weight(*k) for k in (("bias", "o1"), ("i1", "h2"))}
    _, g = net.gradients(XOR_X, XOR_T)
    assert all(abs(g[k]) > 0 for k in frozen)
    net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=50, momentum=0.9)
    for k, w in frozen.items():
        assert net.weight(*k) == w
    assert net.weight("i2", "h2") != xor_net(seed=4).weight("i2", "h2")


def test_xor_is_learned_with_sigmoid_hidden_units():
    net = xor_net(seed=0)
    history = net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=3000, mode="online", momentum=0.9)
    assert history[-1] < 0.01
    np.testing.assert_array_equal(np.round(net.forward(XOR_X)), XOR_T)


def test_weight_edits_are_seen_by_the_next_pass_and_topology_edits_keep_weights():
    net = xor_net(seed=5)
    before = net.forward(XOR_X)
    net.set_weight("h1", "o1", 3.0)
    assert not np.array_equal(net.forward(XOR_X), before)
    weights = net.weights()
    net.add_neuron("extra", "tanh")
    net.connect("i1", "extra", weight=0.2)
    net.connect("extra", "o1", weight=0.0)
    after = net.weights()
    assert all(after[k] == w for k, w in weights.items())
    np.testing.assert_array_equal(net.forward(XOR_X), net.forward(XOR_X))
    assert net.graph.edges[net["h1"], net["o1"]]["weight"] == 3.0     # the live graph is in step


def iris_like(n=60, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [2, 0], [1, 2]], dtype=float)
    labels = np.arange(n) % 3
    X = centres[labels] + 0.3 * rng.standard_normal((n, 2))
    return X, np.eye(3)[labels], labels


def softmax_net(seed=0):
    net = neurosim.Network(seed=seed)
    net.add_layer("x", 2, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 4, "tanh", connect_from=[net.inputs], bias=b)
    net.add_layer("o", 3, "softmax", output=True, connect_from=[h], bias=b)
    return net


def test_softmax_with_cce_uses_the_fused_delta_and_learns():
    X, T, labels = iris_like()
    net = softmax_net()
    Y = net.forward(X)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    E, _ = net.gradients(X, T, loss="cce")
    assert E == pytest.approx(-np.sum(T * np.log(Y)), rel=1e-13)
    deltas = np.stack([net[f"o{k}"].delta for k in (1, 2, 3)], axis=1)
    np.testing.assert_allclose(deltas, Y - T, rtol=0, atol=1e-15)
    history = net.train(X, T, loss="cce", learning_rate=0.05, epochs=200, mode="batch", momentum=0.9)
    assert history[-1] < 0.1 * history[0]
    assert (net.forward(X).argmax(axis=1) == labels).mean() >= 0.95


def test_float32_training_tracks_float64():
    net64 = xor_net(seed=7)
    net32 = neurosim.Network(dtype=np.float32)
    for u in net64.graph.nodes:
        if u.kind == "input":
            net32.add_input(u.name)
        elif u.kind == "bias":
            net32.add_bias(u.name)
        else:
            net32.add_neuron(u.name, u.activation, output=u.output)
    for (s, d), w in net64.weights().items():
        net32.connect(s, d, weight=w)
    h64 = net64.train(XOR_X, XOR_T, learning_rate=0.5, epochs=100)
    h32 = net32.train(XOR_X, XOR_T, learning_rate=0.5, epochs=100)
    assert net32.forward(XOR_X).dtype == np.float32
    np.testing.assert_allclose(h32, h64, rtol=1e-4)


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_schedule_changes_the_optimiser_from_its_epoch_on(mode):
    """train(schedule=...) equals training in stages with the optimiser changed in between."""
    opt = neurosim.training.SGD(0.5, momentum=0.5)

    def schedule(epoch):
        opt.learning_rate = 0.5 if epoch < 3 else 0.1
        opt.momentum = 0.5 if epoch < 5 else 0.9

    net = xor_net(4)
    history = net.train(XOR_X, XOR_T, epochs=8, mode=mode, optimizer=opt, schedule=schedule)
    staged, opt2 = xor_net(4), neurosim.training.SGD(0.5, momentum=0.5)
    parts = []
    for epochs, lr, m in ((3, 0.5, 0.5), (2, 0.1, 0.5), (3, 0.1, 0.9)):
        opt2.learning_rate, opt2.momentum = lr, m
        parts.append(staged.train(XOR_X, XOR_T, epochs=epochs, mode=mode, optimizer=opt2))
    np.testing.assert_allclose(history, np.concatenate(parts), rtol=1e-12, atol=0)
    w, v = net.weights(), staged.weights()
    assert max(abs(w[e] - v[e]) for e in w) <= 1e-12
    assert w != xor_net(4).weights()


@pytest.mark.parametrize("mode, batch_size", [("online", None), ("minibatch", 2)])
def test_shuffle_presents_each_epoch_in_the_generators_order(mode, batch_size):
    """shuffle=Generator equals by-hand updates over X[perm] with perm drawn per epoch."""
    net = xor_net(2)
    history = net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=5, mode=mode, batch_size=batch_size,
                        momentum=0.5, shuffle=np.random.default_rng(9), history="exact")
    hand, rng = xor_net(2), np.random.default_rng(9)
    size = 1 if mode == "online" else batch_size
    velocity = {k: 0.0 for k in hand.weights()}
    expected = []
    for _ in range(5):
        order = rng.permutation(len(XOR_X))
        X, T = XOR_X[order], XOR_T[order]
        for i in range(0, len(X), size):
            _, g = hand.gradients(X[i:i + size], T[i:i + size])
            for (s, d), gw in g.items():
                velocity[s, d] = 0.5 * velocity[s, d] - 0.5 * gw
                hand.set_weight(s, d, hand.weight(s, d) + velocity[s, d])
        expected.append(hand.error(XOR_X, XOR_T))
    np.testing.assert_allclose(history, expected, rtol=1e-12, atol=0)
    w, v = net.weights(), hand.weights()
    assert max(abs(w[e] - v[e]) for e in w) <= 1e-12
    unshuffled = xor_net(2)
    unshuffled.train(XOR_X, XOR_T, learning_rate=0.5, epochs=5, mode=mode, batch_size=batch_size, momentum=0.5)
    assert unshuffled.weights() != w


def test_shuffle_true_is_seeded_and_continues_across_calls():
    a, b = xor_net(5), xor_net(5)
    a.train(XOR_X, XOR_T, epochs=4, shuffle=True)
    b.train(XOR_X, XOR_T, epochs=2, shuffle=True)
    b.train(XOR_X, XOR_T, epochs=2, shuffle=True)      # the same stream goes on
    assert a.weights() == b.weights()
    c = xor_net(5)
    c.train(XOR_X, XOR_T, epochs=2, shuffle=True)
    c.train(XOR_X, XOR_T, epochs=2, shuffle=7)           # a fresh stream: other orders
    assert c.weights() != a.weights()
    with pytest.raises(neurosim.DataError, match="batch mode sums the gradient"):
        xor_net().train(XOR_X, XOR_T, mode="batch", shuffle=True)
    with pytest.raises(neurosim.DataError, match="shuffle must be True, False"):
        xor_net().train(XOR_X, XOR_T, shuffle="yes")


def test_schedule_and_stop_must_be_functions_and_schedule_sees_only_epochs_that_run():
    with pytest.raises(neurosim.DataError, match=r"schedule must be a function schedule\(epoch\)"):
        xor_net().train(XOR_X, XOR_T, schedule=[(0, 0.1)])
    with pytest.raises(neurosim.DataError, match=r"stop must be a mapping of stop criteria .* or a function stop\(error, Y, T\)"):
        xor_net().train(XOR_X, XOR_T, stop=0.1)
    seen = []
    history = xor_net().train(XOR_X, XOR_T, epochs=50, mode="batch", schedule=seen.append,
                              stop=lambda E, Y, T: len(seen) >= 3)
    assert len(history) == 3 and seen == [0, 1, 2]      # stopped after epoch 3: epoch 3 never began


@pytest.mark.parametrize("mode, says", [("online", "updates after every pattern"),
                                         ("batch", "updates once per epoch, over all patterns")])
def test_a_batch_size_outside_minibatch_mode_is_refused_saying_what_the_mode_does(mode, says):
    with pytest.raises(neurosim.DataError, match=rf"batch_size applies to mode='minibatch' \(patterns per update\); "
                                                 rf"mode='{mode}' {says}: leave batch_size out, or use mode='minibatch'"):
        xor_net().train(XOR_X, XOR_T, mode=mode, batch_size=2)


def test_batch_inputs_stay_in_place_until_another_pass_replaces_them(monkeypatch):
    # Batch mode feeds its one (private) batch every epoch and copies it into the input
    # rows once; a pass on other inputs of the same size in between (a callback's
    # predict, the validation set) must make the next training pass copy it again.
    # Against a run whose passes all copy: the same bits, epoch by epoch.
    rng = np.random.default_rng(3)
    X, T = rng.random((4, 2)), rng.random((4, 1))
    other = rng.random((4, 2))

    def run():
        net, seen = xor_net(seed=2), []
        history = net.train(X, T, epochs=6, mode="batch", learning_rate=2.0, validation=(other, T),
                            callbacks=[lambda progress: seen.append(net.predict(other)[0, 0])])
        return history, net.compile().theta.copy(), seen

    kept = run()
    copies = []
    forward = neurosim.engine.Plan.forward

    def always_copy(self, X, private=False):
        copies.append(private)
        return forward(self, X)
    monkeypatch.setattr(neurosim.engine.Plan, "forward", always_copy)
    copied = run()
    assert True in copies                                   # the training passes would have kept theirs
    assert np.array_equal(kept[0], copied[0]) and np.array_equal(kept[1], copied[1]) and kept[2] == copied[2]
    plain = xor_net(seed=2)
    assert np.array_equal(plain.train(X, T, epochs=6, mode="batch", learning_rate=2.0), kept[0])
