"""Minibatch training at the hand-written loop's cost, and what the learning curve holds.

Minibatch training must give exactly (``np.array_equal``) the weights of the plain loop
written with ``net.gradients`` and ``set_weight`` — shuffled orders, a short last batch,
momentum — now that the chunks are views of one preallocated array and the activations
write into the state in place. ``history="running"`` must train the same weights as
``history="exact"``, hold the sum of every update's error measured before that update
(in batch mode: the error at the start of the epoch, one entry earlier than ``exact``),
and make no pass over the whole training set unless a criterion asks for the outputs.
The one-neuron ensemble level (broadcast products) must still match single runs.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurosim


def softmax_net(seed=4, dtype=np.float64):
    """8-6-4-3: sigmoid and tanh hidden layers, a softmax output group."""
    net = neurosim.Network(seed=seed, dtype=dtype)
    i = net.add_layer("i", 8, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 6, "sigmoid", connect_from=[i], bias=b)
    g = net.add_layer("g", 4, "tanh", connect_from=[h, i], bias=b)       # a skip from the inputs
    net.add_layer("o", 3, "softmax", output=True, connect_from=[g], bias=b)
    return net


def data(n=37, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8)), np.eye(3)[rng.integers(0, 3, n)]


def by_hand(net, X, T, lr, momentum, epochs, size, orders=None, loss="cce"):
    """Minibatch SGD with momentum written with net.gradients and set_weight; returns the
    running errors (each update's patterns' error before the update, summed per epoch)."""
    velocity = {k: 0.0 for k in net.weights()}
    running = []
    for _ in range(epochs):
        order = orders.permutation(len(X)) if orders is not None else np.arange(len(X))
        Xs, Ts = X[order], T[order]
        total = 0.0
        for i in range(0, len(X), size):
            E, g = net.gradients(Xs[i:i + size], Ts[i:i + size], loss=loss)
            total += E
            for (s, d), gw in g.items():
                velocity[s, d] = momentum * velocity[s, d] - lr * gw
                net.set_weight(s, d, net.weight(s, d) + velocity[s, d])
        running.append(total)
    return np.array(running)


@pytest.mark.parametrize("shuffle", [False, True])
def test_minibatch_weights_are_bit_identical_to_the_plain_loop(shuffle):
    X, T = data()
    net, twin = softmax_net(), softmax_net()
    net.train(X, T, "cce", learning_rate=0.3, momentum=0.9, epochs=4, mode="minibatch", batch_size=8,
              shuffle=np.random.default_rng(5) if shuffle else False)
    by_hand(twin, X, T, 0.3, 0.9, 4, 8, np.random.default_rng(5) if shuffle else None)
    assert net.weights() == twin.weights()                  # every weight, to the last bit
    assert net.weights() != softmax_net().weights()


@pytest.mark.parametrize("shuffle", [False, True])
def test_float32_minibatch_is_bit_identical_to_a_loop_over_fresh_copies(shuffle):
    # float32 arithmetic as the plan does it, each chunk a fresh copy (as the loop once made them)
    X, T = (a.astype(np.float32) for a in data())
    net, twin = softmax_net(dtype=np.float32), softmax_net(dtype=np.float32)
    net.train(X, T, "cce", learning_rate=0.3, momentum=0.9, epochs=4, mode="minibatch", batch_size=8,
              shuffle=np.random.default_rng(5) if shuffle else False)
    plan, loss, rule = twin.compile(), twin.registry.loss("cce"), neurosim.SGD(0.3, 0.9)
    rule.bind(plan.theta)
    orders = np.random.default_rng(5)
    for _ in range(4):
        order = orders.permutation(len(X)) if shuffle else np.arange(len(X))
        for i in range(0, len(X), 8):
            plan.forward(X[order[i:i + 8]].copy())
            plan.backward(T[order[i:i + 8]].copy(), loss, value=False)
            rule.step(plan.theta, plan.grad, plan.mask, None)
    assert np.array_equal(net.compile().theta, plan.theta)
    assert not np.array_equal(plan.theta, softmax_net(dtype=np.float32).compile().theta)


@pytest.mark.parametrize("mode, batch_size", [("minibatch", 8), ("online", None)])
def test_running_history_sums_the_errors_before_each_update_and_trains_the_same_weights(mode, batch_size):
    X, T = data()
    exact, running, twin = softmax_net(), softmax_net(), softmax_net()
    kw = dict(learning_rate=0.3, momentum=0.9, epochs=4, mode=mode, batch_size=batch_size, shuffle=np.random.default_rng(2))
    h_exact = exact.train(X, T, "cce", history="exact", **kw)
    kw["shuffle"] = np.random.default_rng(2)
    h_running = running.train(X, T, "cce", history="running", **kw)
    want = by_hand(twin, X, T, 0.3, 0.9, 4, batch_size or 1, np.random.default_rng(2))
    assert running.weights() == exact.weights() == twin.weights()
    np.testing.assert_allclose(h_running, want, rtol=1e-13)
    assert h_exact[-1] == exact.error(X, T, "cce")         # exact: the error after the epoch ...
    assert not np.allclose(h_running, h_exact, rtol=1e-3)  # ... which the running curve is not


def test_batch_mode_running_history_is_the_error_before_each_epochs_update():
    X, T = data()
    a, b = softmax_net(), softmax_net()
    start = a.error(X, T, "cce")
    h_exact = a.train(X, T, "cce", learning_rate=0.1, epochs=5, mode="batch")
    h_running = b.train(X, T, "cce", learning_rate=0.1, epochs=5, mode="batch", history="running")
    assert a.weights() == b.weights()
    assert h_running[0] == start
    assert np.array_equal(h_running[1:], h_exact[:-1])


def counting_passes(net, n):
    """Wrap the plan's forward pass; returns the list of batch sizes passed."""
    plan = net.compile()
    sizes, forward = [], plan.forward

    def counted(X, *args):
        sizes.append(len(X))
        return forward(X, *args)
    plan.forward = counted
    return sizes


def test_running_history_makes_no_pass_over_the_training_set():
    X, T = data(n=40)
    for history, whole in (("exact", 6), ("running", 0)):
        net = softmax_net()
        sizes = counting_passes(net, len(X))
        net.train(X, T, "cce", learning_rate=0.3, epochs=6, mode="minibatch", batch_size=8, history=history,
                  stop={"error_below": 1e-9})
        assert sizes.count(8) == 30 and sizes.count(40) == whole, history


def test_within_with_running_history_passes_only_when_asked_and_stops_at_the_same_epoch():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 2)
    T = np.array([[0.0], [1.0], [1.0], [0.0]] * 2)

    def xor():
        net = neurosim.Network(seed=5)
        i = net.add_layer("i", 2, kind="input")
        b = net.add_bias()
        h = net.add_layer("h", 3, "sigmoid", connect_from=[i], bias=b)
        net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h], bias=b)
        return net
    runs = {}
    for history in ("exact", "running"):
        net = xor()
        sizes = counting_passes(net, len(X))
        h = net.train(X, T, learning_rate=0.5, momentum=0.9, epochs=3000, mode="minibatch", batch_size=4,
                      history=history, stop={"within": 0.4, "bit_fail": {"limit": 0.4}})
        runs[history] = (len(h), net.weights(), sizes.count(len(X)), sizes.count(4))
    (n_e, w_e, full_e, _), (n_r, w_r, full_r, batches_r) = runs["exact"], runs["running"]
    assert 10 < n_e < 3000 and n_r == n_e and w_r == w_e      # the same stop, the same weights
    assert full_r == n_r                     # one pass an epoch, shared by within and bit_fail
    assert batches_r == 2 * n_r and full_e == n_e


def test_history_is_refused_when_it_is_not_a_known_one(refused):
    X, T = data()
    refused(neurosim.DataError, ("history must be one of", "'exact'", "'running'", "'final'"),
            softmax_net().train, X, T, "cce", history="final")


def test_a_checkpoint_of_one_history_does_not_continue_the_other(refused):
    X, T = data()
    net = softmax_net()
    job = neurosim.training.TrainingRun(net, X, T, "cce", epochs=4, mode="minibatch", batch_size=8,
                                        history="running").run(until=2)
    other = neurosim.training.TrainingRun(softmax_net(), X, T, "cce", epochs=4, mode="minibatch", batch_size=8,
                                          history="exact")
    refused(neurosim.DataError, ("'running' history", "history='running'"), other.load_state_dict, job.state_dict())


def xor_scenario(**training):
    return {
        "scenario": {"name": "xor", "seed": 3},
        "network": {"layers": [{"name": "i", "size": 2}, {"name": "h", "size": 2, "from": ["i"]},
                               {"name": "o", "size": 1, "from": ["h"]}]},
        "data": {"inputs": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], "targets": [[0.0], [1.0], [1.0], [0.0]]},
        "training": {"mode": "minibatch", "batch_size": 2, "epochs": 30, "learning_rate": 0.5, **training},
    }


def test_minibatch_mode_keeps_the_running_history_unless_asked_for_the_exact_one():
    X, T = data()
    default, running, exact, online = softmax_net(), softmax_net(), softmax_net(), softmax_net()
    kw = dict(learning_rate=0.3, epochs=3, mode="minibatch", batch_size=8)
    sizes = counting_passes(default, len(X))
    h_default = default.train(X, T, "cce", **kw)
    assert sizes == [8, 8, 8, 8, 5] * 3                   # no pass over the 37 patterns for the curve
    assert np.array_equal(h_default, running.train(X, T, "cce", history="running", **kw))
    h_exact = exact.train(X, T, "cce", history="exact", **kw)
    assert h_exact[-1] == exact.error(X, T, "cce") != h_default[-1]
    assert neurosim.training.default_history("minibatch") == "running"
    assert [neurosim.training.default_history(m) for m in ("online", "batch")] == ["exact", "exact"]
    h_online = online.train(X, T, "cce", learning_rate=0.3, epochs=2)      # online: the exact curve still
    assert h_online[-1] == online.error(X, T, "cce")
    assert neurosim.load_scenario(xor_scenario()).history == "running"
    online_scenario = xor_scenario(mode="online")
    del online_scenario["training"]["batch_size"]
    assert neurosim.load_scenario(online_scenario).history == "exact"


def test_a_scenario_says_which_history_it_holds(refused):
    exact = neurosim.run_scenario(xor_scenario(history="exact"))
    running = neurosim.run_scenario(xor_scenario(history="running"))
    assert running.network.weights() == exact.network.weights()
    assert running.final_error == exact.final_error == exact.history[-1]    # the error of the final weights
    assert running.history[-1] != exact.history[-1]
    text = running.report()
    assert "learning curve: running error" in text and f"running error (mse) of epoch 30: {running.history[-1]:.9g}" in text
    assert f"total error (mse) after 30 epochs: {exact.history[-1]:.9g}" in text
    assert "running" not in exact.report()
    refused(neurosim.ScenarioError, ("training.history", "exact", "running"),
            lambda s: neurosim.load_scenario(s).check(), xor_scenario(history="last"))


@pytest.mark.parametrize("mode, batch_size", [("batch", None), ("minibatch", 3)])
def test_one_neuron_ensemble_level_matches_single_runs(mode, batch_size):
    # the symmetry-style 6-2-1 net: its output level of one neuron uses broadcasts, not K products
    X = np.array([[int(b) for b in f"{k:06b}"] for k in range(64)], float)
    T = np.array([[float((x == x[::-1]).all())] for x in X])

    def net(seed):
        n = neurosim.Network(seed=seed, init="uniform", init_options={"scale": 0.3})
        i = n.add_layer("i", 6, kind="input")
        b = n.add_bias()
        h = n.add_layer("h", 2, "sigmoid", connect_from=[i], bias=b)
        n.add_layer("o", 1, "sigmoid", output=True, connect_from=[h], bias=b)
        return n
    kw = dict(learning_rate=0.1, momentum=0.9, epochs=30, mode=mode, batch_size=batch_size)
    # 300 members: the first level's 600 rows take its shared-source gradient from a
    # contiguous copy of the inputs (the engine's many-rows path); members 0, 1 and 299 checked
    result = net(10).train(X, T, ensemble=300, **kw)
    for k in (0, 1, 299):
        single = net(10 + k)
        history = single.train(X, T, **kw)
        np.testing.assert_allclose(result.history[:, k], history, rtol=1e-12)
        w = result.weights(k)
        assert max(abs(w[e] - v) for e, v in single.weights().items()) < 1e-12


def test_an_in_place_activation_form_must_write_what_the_plain_form_returns():
    good = neurosim.default_registry().activation("sigmoid")
    good.check_contract()                                    # the built-in forms agree bit for bit
    bad = neurosim.Activation("half", lambda x: 0.5 * x, derivative=lambda x, y: 0.5 * np.ones_like(x),
                              function_into=lambda x, out: np.multiply(x, 0.5000001, out=out))
    with pytest.raises(ValueError, match="function_into wrote .* bit for bit"):
        bad.check_contract()


def test_default_history_refuses_an_unknown_mode(refused):
    refused(neurosim.DataError, ("unknown training mode", "'mini'", "online, batch, minibatch"),
            neurosim.training.default_history, "mini")
