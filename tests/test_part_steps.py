"""Level-by-level optimiser steps: online and minibatch SGD on a net whose parameters
outgrow the cache update each level's weights as soon as the backward pass has written
their gradient (``Trainer.PART_STEP_BYTES``). SGD also folds its learning rate into the
pass (``Optimizer.gradient_scale``): each level's deltas are multiplied by it before the
weight gradient's product, so the step is one pass. With a learning rate that is a power
of two that changes no bit, so every weight and every error must be the same bits as one
sweep after the pass; with another the products round differently, within 1e-12. Tied
sets, batch mode and other optimisers keep the one sweep.
"""

import numpy as np
import pytest

import neurosim
from neurosim.training.loop import Trainer


def wide_net(seed=4, outputs="sigmoid"):
    """40-200-150-3: 38,803 weights, 303 KB in float64 (above the 256 KB threshold)."""
    net = neurosim.Network(seed=seed)
    previous = net.add_layer("i", 40, kind="input")
    net.add_bias("b")
    for prefix, size, act in (("h", 200, "sigmoid"), ("g", 150, "tanh"), ("o", 3, outputs)):
        previous = net.add_layer(prefix, size, act, output=prefix == "o", connect_from=[previous], bias="b")
    return net


def data(n=24, seed=2):
    rng = np.random.default_rng(seed)
    return rng.random((n, 40)), rng.random((n, 3))


def counting_parts(net, scales=None):
    """Wrap the plan's backward; returns the list of ``after`` callables it was given (and
    appends each pass's ``scale`` to ``scales``)."""
    plan = net.compile()
    seen, backward = [], plan.backward

    def counted(*args, **kwargs):
        seen.append(kwargs.get("after"))
        if scales is not None:
            scales.append(kwargs.get("scale"))
        return backward(*args, **kwargs)
    plan.backward = counted
    return seen


@pytest.mark.parametrize("options, scale, exact", [
    (dict(mode="online", learning_rate=0.25), 0.25, True),
    (dict(mode="online", learning_rate=0.5, momentum=0.9, weight_decay=0.001), 0.5, True),
    (dict(mode="minibatch", batch_size=5, learning_rate=0.125, momentum=0.5, history="exact"), 0.125, True),
    (dict(mode="online", learning_rate=0.3), 0.3, False),
    (dict(mode="minibatch", batch_size=5, learning_rate=0.1, momentum=0.5, history="exact"), 0.1, False),
    (dict(mode="minibatch", batch_size=8, optimizer="sgd",             # l2 is added before scaling: no fold
          optimizer_options={"learning_rate": 0.05, "momentum": 0.9, "nesterov": True, "l2": 0.01}), None, True),
])
def test_level_by_level_steps_give_the_numbers_of_one_sweep(monkeypatch, options, scale, exact):
    X, T = data()
    assert wide_net().compile().theta.nbytes >= Trainer.PART_STEP_BYTES
    parted, swept = wide_net(), wide_net()
    scales = []
    seen = counting_parts(parted, scales)
    h_parted = parted.train(X, T, epochs=3, shuffle=np.random.default_rng(5), **options)
    assert seen and all(after is not None for after in seen)       # every update went level by level
    assert set(scales) == {scale}
    monkeypatch.setattr(Trainer, "PART_STEP_BYTES", float("inf"))
    scales_swept = []
    seen_swept = counting_parts(swept, scales_swept)
    h_swept = swept.train(X, T, epochs=3, shuffle=np.random.default_rng(5), **options)
    assert all(after is None for after in seen_swept) and set(scales_swept) == {None}
    a, b = parted.compile().theta, swept.compile().theta
    if exact:
        assert np.array_equal(a, b) and np.array_equal(h_parted, h_swept)
    else:                        # (lr·δ)·y against lr·(δ·y): the last bit, here and there
        assert not np.array_equal(a, b)
        assert np.allclose(a, b, rtol=1e-12, atol=1e-15) and np.allclose(h_parted, h_swept, rtol=1e-12)
    assert not np.allclose(a, wide_net().compile().theta, rtol=1e-3)


def test_a_scaled_pass_leaves_deltas_messages_and_error_as_they_were():
    # Plan.backward(scale=s) writes s · dE/dw and nothing else changes: deltas, the error,
    # every unit's dE/dy; on one pattern (outer products) and on a batch (matrix products)
    for n in (1, 6):
        X, T = data(n=n)
        plan = wide_net().compile()
        plan.forward(X)
        E = plan.backward(T, neurosim.default_registry().loss("mse"))
        grad, delta, gy = plan.grad.copy(), plan.last.delta.copy(), plan.last.gy.copy()
        plan.forward(X)
        E_scaled = plan.backward(T, neurosim.default_registry().loss("mse"), scale=0.375)
        assert E_scaled == E and np.array_equal(plan.last.delta, delta) and np.array_equal(plan.last.gy, gy)
        assert np.allclose(plan.grad, 0.375 * grad, rtol=1e-13, atol=1e-15 * np.abs(grad).max())
        assert not np.allclose(plan.grad, grad, rtol=1e-3)
    with pytest.raises(ValueError, match="single network's plan with parts"):
        tied = wide_net()
        tied.tie([("i1", "h1"), ("i2", "h1")], name="t")
        plan = tied.compile()
        plan.forward(X)
        plan.backward(T, neurosim.default_registry().loss("mse"), scale=0.5)


def test_a_learning_rate_schedule_applies_before_the_epochs_first_update(monkeypatch):
    X, T = data()
    rates = {0: 0.5, 1: 0.0625, 2: 0.25}                # powers of two: folded in, the same bits

    def trained(bytes_):
        monkeypatch.setattr(Trainer, "PART_STEP_BYTES", bytes_)
        net = wide_net()
        job = neurosim.training.TrainingRun(net, X, T, learning_rate=0.5, epochs=3, mode="minibatch",
                                            batch_size=6, history="exact")
        rule = job.trainer.optimizer
        job.trainer.schedule = lambda epoch: setattr(rule, "learning_rate", rates[epoch])
        scales.clear()
        counting_parts(net, scales)
        return job.run().result(), net.compile().theta.copy(), rule.steps

    scales = []
    h_parted, theta_parted, steps = trained(Trainer.PART_STEP_BYTES)
    assert scales == [0.5] * 4 + [0.0625] * 4 + [0.25] * 4   # each epoch's rate folded into its passes
    h_swept, theta_swept, steps_swept = trained(float("inf"))
    assert np.array_equal(theta_parted, theta_swept) and np.array_equal(h_parted, h_swept)
    assert steps == steps_swept == 3 * 4                  # one count per update, 4 minibatches an epoch


def test_every_level_owns_the_part_of_theta_its_block_views():
    plan = wide_net().compile()
    assert [p.stop - p.start for p in plan.parts] == [lv.W.size for lv in plan.levels] == [8200, 30150, 453]
    for part, lv in zip(plan.parts, plan.levels):
        block = plan.theta[part]
        assert np.shares_memory(block, lv.W) and np.array_equal(block, lv.W.reshape(-1))


def test_small_nets_tied_sets_batch_mode_and_rprop_make_one_sweep():
    X, T = data()
    for net, options in ((wide_net(), dict(mode="batch", learning_rate=0.1)),
                         (wide_net(), dict(mode="batch", optimizer="rprop"))):
        seen = counting_parts(net)
        net.train(X, T, epochs=2, **options)
        assert seen and all(after is None for after in seen)
    small = neurosim.Network(seed=0)
    small.add_layer("i", 2, kind="input")
    small.add_layer("o", 1, "sigmoid", output=True, connect_from=[["i1", "i2"]])
    seen = counting_parts(small)
    small.train([[0, 1]], [[1]], epochs=2)
    assert seen == [None, None]
    tied = wide_net()
    tied.tie([("i1", "h1"), ("i2", "h1")], name="t")
    assert tied.compile().parts is None
    seen = counting_parts(tied)
    tied.train(X, T, epochs=1, learning_rate=0.1)
    assert seen and all(after is None for after in seen)
    w = tied.weights()
    assert w[("i1", "h1")] == w[("i2", "h1")]


@pytest.mark.parametrize("momentum, at_start", [(0.0, True), (0.0, False), (0.9, True)])
def test_frozen_weights_stay_put_when_frozen_before_or_during_training(monkeypatch, momentum, at_start):
    X, T = data()

    def trained(bytes_):
        monkeypatch.setattr(Trainer, "PART_STEP_BYTES", bytes_)
        net = wide_net()
        net.set_trainable("i1", "h1", not at_start)
        before = net.weights()

        def freeze_later(progress):
            if progress.epoch == 1:
                net.set_trainable("h2", "g3", False)       # between epochs: the next epoch must see it
                frozen.append(net.weight("h2", "g3"))
        frozen = []
        net.train(X, T, epochs=3, learning_rate=0.25, momentum=momentum, callbacks=[freeze_later])
        return net, before, frozen

    parted, before, frozen = trained(Trainer.PART_STEP_BYTES)
    swept, _, _ = trained(float("inf"))
    assert (parted.weight("i1", "h1") == before[("i1", "h1")]) == at_start
    assert parted.weight("h2", "g3") == frozen[0] != before[("h2", "g3")]
    assert np.array_equal(parted.compile().theta, swept.compile().theta)


@pytest.mark.parametrize("options", [dict(learning_rate=0.1), dict(learning_rate=0.05, momentum=0.9),
                                     dict(learning_rate=0.1, weight_decay=0.01),
                                     dict(optimizer="sgd", optimizer_options=dict(learning_rate=0.05, momentum=0.9,
                                                                                  nesterov=True, weight_decay=0.01))])
def test_batch_mode_on_a_large_net_sweeps_once_through_the_part_step_with_the_same_bits(monkeypatch, options):
    X, T = data()
    swept_by_part, stepped = wide_net(), wide_net()
    calls = []
    sgd_update = neurosim.SGD._update
    monkeypatch.setattr(neurosim.SGD, "_update", lambda self, *a: (calls.append(a[4]), sgd_update(self, *a))[1])
    h_part = swept_by_part.train(X, T, epochs=4, mode="batch", **options)
    theta = swept_by_part.compile().theta
    assert calls == [slice(0, theta.size)] * 4             # one update an epoch, over all of theta
    monkeypatch.setattr(neurosim.SGD, "part_step", lambda self, theta, grad, scaled=False: None)
    calls.clear()
    h_step = stepped.train(X, T, epochs=4, mode="batch", **options)
    assert calls == [slice(None)] * 4                      # the rule's own step (batch mode: at any size)
    assert np.array_equal(theta, stepped.compile().theta) and np.array_equal(h_part, h_step)


def test_a_net_with_gather_levels_keeps_the_one_sweep():
    # 400 inputs, 60 neurons each reading 3 of them: a level of gathers, whose gradient its
    # sources' receive steps write after the level's own step
    net = neurosim.Network(seed=3)
    inputs = net.add_layer("i", 400, kind="input")
    net.add_bias("b")
    rng = np.random.default_rng(0)
    for k in range(60):
        picks = rng.choice(400, 3, replace=False)
        net.add_neuron(f"h{k}", "tanh", output=True)
        for p in picks:
            net.connect(inputs[p], f"h{k}")
        net.connect("b", f"h{k}")
    plan = net.compile()
    assert any(lv.kind == "gather" for lv in plan.levels) and plan.parts is None


def test_a_one_pattern_gradient_is_each_deltas_product_with_its_source_on_every_path():
    # the wide net's first level (8,200 weights) writes its one-pattern gradient with einsum,
    # the others with a broadcast multiply: either way dE/dw = delta(dst) · y(src), one product
    from neurosim.engine import _Dense
    net = wide_net()
    X, T = data(n=1)
    plan = net.compile()
    assert plan.levels[0].W.size >= _Dense.EINSUM_OUTER > plan.levels[2].W.size
    E, grads = net.gradients(X, T)
    units = {u.name: u for u in net}
    for (s, d), g in grads.items():
        assert g == units[d].delta * units[s].out, (s, d)
    assert E == net.error(X, T) and len(grads) == 38803


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_a_rule_that_changes_update_below_sgd_keeps_every_update(mode):
    """A subclass of SGD that overrides ``update`` (to watch or alter it) inherits
    ``part_step``, which would go around its override: the trainer keeps to ``step``."""
    seen = []

    class Watched(neurosim.SGD):
        def update(self, theta, grad, mask, error):
            seen.append(float(np.abs(grad).sum()))
            super().update(theta, grad, mask, error)

    X, T = data(n=6)
    watched, plain = wide_net(), wide_net()
    h_watched = watched.train(X, T, epochs=3, mode=mode, optimizer=Watched(learning_rate=0.3, momentum=0.5))
    h_plain = plain.train(X, T, epochs=3, mode=mode, learning_rate=0.3, momentum=0.5)
    assert len(seen) == (18 if mode == "online" else 3) and min(seen) > 0
    np.testing.assert_allclose(h_watched, h_plain, rtol=1e-12)       # the same rule, stepped whole
    # ... and so does a rule whose update is replaced on the object itself
    rule = neurosim.SGD(learning_rate=0.3, momentum=0.5)
    real = rule.update
    rule.update = lambda theta, grad, mask, error: (seen.append(0.0), real(theta, grad, mask, error))
    seen.clear()
    wide_net().train(X, T, epochs=3, mode=mode, optimizer=rule)
    assert len(seen) == (18 if mode == "online" else 3)
