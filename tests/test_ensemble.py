"""Ensembles: K networks trained in one vectorised run equal K separate runs.

Member k of ``net.train(..., ensemble=K)`` must match a single network built the same way
with ``Network(seed=seed + k)`` — history, epochs to the stop criterion and every final
weight — to 1e-12 in float64, in online, minibatch and batch mode, with members stopping
at different epochs; explicit and frozen weights are shared; the statistics summarise
the members; and a scenario with ``training.ensemble`` reports them.
"""

import copy
import dataclasses

import numpy as np
import pytest

import neurosim
from neurosim.training import StopCriterion

SYM = neurosim.make_registry().dataset("symmetry")()


def symmetry_net(seed):
    net = neurosim.Network(seed=seed, init_options={"scale": 0.3})
    net.add_layer("i", 6, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 2, connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, output=True, connect_from=[h, net.inputs[:1]], bias=b)   # one skip edge
    net.set_weight("i1", "o1", 0.05)                  # an explicit weight, shared by every member
    net.set_trainable("bias", "h2", False)            # a frozen one
    return net


@pytest.mark.parametrize("mode, batch_size, epochs", [("batch", None, 1000), ("online", None, 15),
                                                      ("minibatch", 16, 100)])
def test_member_k_equals_a_single_run_with_seed_plus_k(mode, batch_size, epochs):
    X, T = SYM.inputs, SYM.targets
    kw = dict(learning_rate=0.1, momentum=0.9, epochs=epochs, mode=mode, batch_size=batch_size,
              stop=StopCriterion(within=0.45))
    result = symmetry_net(40).train(X, T, ensemble=4, **kw)
    assert result.members == 4 and result.history.shape[1] == 4
    for k in range(4):
        single = symmetry_net(40 + k)
        history = single.train(X, T, **kw)
        assert result.epochs[k] == len(history)
        np.testing.assert_allclose(result.history[:len(history), k], history, rtol=1e-12, atol=0)
        assert np.all(np.isnan(result.history[len(history):, k]))
        w = single.weights()
        assert max(abs(w[e] - v) for e, v in result.weights(k).items()) <= 1e-12
        assert result.weights(k)[("bias", "h2")] == w[("bias", "h2")]
        assert bool(result.converged[k]) == (len(history) < epochs or StopCriterion(within=0.45)(
            single.error(X, T), single.forward(X), T))


def test_outputs_computed_over_the_net_inputs_change_no_bit():
    """An ensemble whose activations say uses_net=False (every built-in) computes its
    outputs in place over its net inputs; with an activation that keeps them (a plugin's
    default) the same training gives the same bits."""
    kept = dataclasses.replace(neurosim.make_registry().activation("sigmoid"), name="sigmoid_kept", uses_net=True)

    class Kept:
        @neurosim.hookimpl
        def neurosim_register_activations(self, register):
            register(kept)

    def net_with(activation, plugins=None):
        net = neurosim.Network(seed=7, init_options={"scale": 0.3}, plugins=plugins)
        net.add_layer("i", 6, kind="input")
        b = net.add_bias()
        h = net.add_layer("h", 2, activation, connect_from=[net.inputs], bias=b)
        net.add_layer("o", 1, activation, output=True, connect_from=[h, net.inputs[:1]], bias=b)
        return net

    kw = dict(learning_rate=0.02, momentum=0.9, epochs=60, mode="batch", ensemble=5)
    runs = [neurosim.TrainingRun(net_with(*how), SYM.inputs, SYM.targets, **kw)
            for how in (("sigmoid",), ("sigmoid_kept", [Kept()]))]
    plans = [job.trainer.plan for job in runs]
    assert [plan.keeps_net for plan in plans] == [False, True]
    in_place, keeping = (job.run().result() for job in runs)
    nets = [plan.state(plan.units[plan.n_fixed], "net") for plan in plans]     # h1's
    assert nets[0] is None and nets[1].shape == (5, len(SYM.inputs))
    np.testing.assert_array_equal(in_place.history, keeping.history)
    np.testing.assert_array_equal(in_place.theta, keeping.theta)
    assert np.all(in_place.history[-1] < in_place.history[0])        # every member learnt something


def test_members_differ_and_share_explicit_weights():
    result = symmetry_net(3).train(SYM.inputs, SYM.targets, learning_rate=0.1, epochs=0, ensemble=4)
    first, second = result.weights(0), result.weights(1)
    assert first[("i1", "o1")] == second[("i1", "o1")] == 0.05
    assert first[("i1", "h1")] != second[("i1", "h1")]
    assert first == symmetry_net(3).weights()


def test_statistics_and_member_networks():
    X, T = SYM.inputs, SYM.targets
    result = symmetry_net(100).train(X, T, learning_rate=0.1, momentum=0.9, epochs=1500, mode="batch",
                                     ensemble=20, stop=StopCriterion(within=0.4))
    stats = result.summary()
    assert stats["members"] == 20
    assert stats["success_rate"] == np.mean(result.converged) > 0
    done = result.epochs[result.converged]
    assert stats["epochs_min"] == done.min() and stats["epochs_max"] == done.max()
    assert stats["epochs_median"] == np.median(done)
    assert stats["error_max"] == result.final_error.max()
    k = int(np.flatnonzero(result.converged)[0])
    net = result.network(k)
    assert net.weights() == result.weights(k)
    np.testing.assert_allclose(net.error(X, T), result.final_error[k], rtol=1e-12)
    assert "converged" in str(result)


def test_ensemble_needs_seeds():
    net = symmetry_net(None)
    with pytest.raises(neurosim.DataError, match="seed"):
        net.train(SYM.inputs, SYM.targets, ensemble=3)
    with pytest.raises(neurosim.DataError, match="one seed per member"):
        net.train(SYM.inputs, SYM.targets, ensemble=3, seeds=[1, 2])
    with pytest.raises(neurosim.DataError, match="whole number"):
        symmetry_net(1).train(SYM.inputs, SYM.targets, ensemble=0)


@pytest.mark.parametrize("seed, mode", [(s, "batch") for s in range(0, 60, 5)] +
                         [(s, "online") for s in range(2, 60, 10)])
def test_random_dag_members_equal_single_runs(seed, mode, random_case_factory):
    """On the random-DAG suite (skips, several biases, hidden softmax groups, frozen and
    explicit weights), member k of an ensemble matches a single run from seed + k."""
    case = random_case_factory(seed)
    kw = dict(loss=case.loss, learning_rate=0.05, momentum=0.5, epochs=4, mode=mode)
    result = case.net.train(case.X, case.T, ensemble=3, **kw)
    for k in range(3):
        single = dataclasses.replace(case, spec=dataclasses.replace(case.spec, seed=case.spec.seed + k)).build()
        history = single.train(case.X, case.T, **kw)
        np.testing.assert_allclose(result.history[:, k], history, rtol=1e-12, atol=0)
        w = single.weights()
        assert max(abs(w[e] - v) / max(1.0, abs(v)) for e, v in result.weights(k).items()) <= 1e-12


def test_float32_members_track_float32_single_runs():
    """A float32 ensemble stays float32 and each member agrees with the float32 single run
    to float32 precision (the products have other shapes, so not bit for bit)."""
    def net(seed):
        n = neurosim.Network(seed=seed, dtype=np.float32, init_options={"scale": 0.3})
        n.add_layer("i", 6, kind="input")
        b = n.add_bias()
        h = n.add_layer("h", 2, "sigmoid", connect_from=[n.inputs], bias=b)
        n.add_layer("o", 1, "sigmoid", output=True, connect_from=[h, n.inputs[:1]], bias=b)
        return n

    kw = dict(epochs=50, mode="batch", learning_rate=0.1, momentum=0.9)
    result = net(3).train(SYM.inputs, SYM.targets, ensemble=3, **kw)
    assert result.theta.dtype == np.float32
    for k in range(3):
        single = net(3 + k)
        history = single.train(SYM.inputs, SYM.targets, **kw)
        np.testing.assert_allclose(result.history[:, k], history, rtol=1e-5)
        w = single.weights()
        assert max(abs(w[e] - v) for e, v in result.weights(k).items()) <= 1e-5


def test_weight_set_after_drawing_is_shared_and_keeps_the_other_draws():
    """set_weight on an edge the initialiser drew: every member gets the user's value, and
    every other drawn weight still equals that of a single network built the same way."""
    def build(seed):
        net = neurosim.Network(seed=seed)
        net.add_input("x")
        net.add_neuron("h", "tanh")
        net.add_neuron("o", "sigmoid", output=True)
        net.connect("x", "h")
        net.connect("h", "o")
        net.compile()                   # draws both weights
        net.set_weight("x", "h", 0.5)   # the first draw is replaced
        return net

    X, T = np.array([[1.0]]), np.array([[0.0]])
    result = build(0).train(X, T, ensemble=3, epochs=0, mode="batch")
    for k in range(3):
        assert result.weights(k) == build(k).weights()
        assert result.weights(k)[("x", "h")] == 0.5


#: A 2-2-1 net in the scenario language (layers i, h, o), for the XOR scenarios below.
XOR_221 = {"layers": [{"name": "i", "size": 2}, {"name": "h", "size": 2, "from": ["i"]},
                      {"name": "o", "size": 1, "from": ["h"]}]}


@pytest.mark.parametrize("mode", ["batch", "online"])
def test_scenario_schedules_apply_to_every_member(mode):
    """Learning-rate and momentum schedules in an ensemble scenario: member k equals the
    single scenario run with seed + k, schedule and all."""
    mapping = {
        "scenario": {"seed": 11},
        "network": XOR_221,
        "data": {"dataset": "xor"},
        "training": {"mode": mode, "learning_rate": 0.5, "momentum": 0.5, "epochs": 9, "ensemble": 3,
                     "learning_rate_schedule": [[3, 0.2], [6, 0.9]], "momentum_schedule": [[4, 0.9]]},
    }
    result = neurosim.run_scenario(mapping)
    for k in range(3):
        single = neurosim.run_scenario(_without_ensemble(mapping), seed=11 + k)
        w, v = single.network.weights(), result.ensemble.weights(k)
        assert max(abs(w[e] - v[e]) for e in w) <= 1e-12
        np.testing.assert_allclose(result.ensemble.history[:, k], single.history, rtol=1e-12, atol=0)
    flat = neurosim.run_scenario(_without_ensemble(mapping), training={"learning_rate_schedule": [],
                                                                       "momentum_schedule": []})
    assert flat.network.weights() != result.network.weights()        # the schedule made a difference


def test_shuffled_ensemble_members_share_the_scenarios_orders():
    """With training.shuffle every member sees the scenario seed's pattern orders: member 0
    equals the single shuffled run, and member k a single run from seed + k's weights
    trained on those same orders."""
    mapping = {
        "scenario": {"seed": 21},
        "network": XOR_221,
        "data": {"dataset": "xor"},
        "training": {"mode": "online", "learning_rate": 0.5, "momentum": 0.5, "epochs": 7, "ensemble": 2,
                     "shuffle": True},
    }
    result = neurosim.run_scenario(mapping)
    single = neurosim.run_scenario(_without_ensemble(mapping))
    w, v = single.network.weights(), result.ensemble.weights(0)
    assert max(abs(w[e] - v[e]) for e in w) <= 1e-12
    sc = neurosim.load_scenario(_without_ensemble(mapping), {"scenario.seed": 22}).resolve()
    member1 = sc.build_network()
    member1.train(sc.train.inputs, sc.train.targets, learning_rate=0.5, momentum=0.5, epochs=7,
                  shuffle=np.random.default_rng(np.random.SeedSequence(21).spawn(3)[2]))
    w, v = member1.weights(), result.ensemble.weights(1)
    assert max(abs(w[e] - v[e]) for e in w) <= 1e-12


def test_scenario_ensemble_reports_the_distribution(tmp_path):
    mapping = {
        "scenario": {"name": "sym", "seed": 7},
        "network": {"init": {"name": "uniform", "options": {"scale": 0.3}},
                    "layers": [{"name": "i", "size": 6}, {"name": "h", "size": 2, "from": ["i"]},
                               {"name": "o", "size": 1, "from": ["h"]}]},
        "data": {"dataset": "symmetry"},
        "training": {"mode": "batch", "learning_rate": 0.1, "momentum": 0.9, "epochs": 1500, "ensemble": 12,
                     "stop": {"within": 0.4}},
        "expect": [{"quantity": "success_rate", "above": 0.0},
                   {"quantity": "epochs", "stat": "median", "below": 1500}],
    }
    result = neurosim.run_scenario(mapping)
    assert result.ensemble.members == 12 and result.passed, result.report()
    single = neurosim.run_scenario(_without_ensemble(mapping))
    ens, one = result.network.weights(), single.network.weights()         # member 0 is the scenario's seed
    assert ens.keys() == one.keys() and max(abs(ens[e] - one[e]) for e in one) <= 1e-12
    assert "converged" in result.report()
    summary = result.metrics()["ensemble"]
    assert summary["members"] == 12 and 0 < summary["success_rate"] <= 1


def _without_ensemble(mapping):
    """The same scenario as a single run (keeping only the first expectation, if any)."""
    m = copy.deepcopy(mapping)
    del m["training"]["ensemble"]
    if "expect" in m:
        m["expect"] = m["expect"][:1]
    return m


def test_member_generators_are_default_rngs_streams(monkeypatch):
    """Members' generators are seeded from words hashed for all seeds at once; they must be
    exactly ``default_rng(seed)``'s, and numpy itself seeds whatever the hashing cannot."""
    from neurosim.training import seeds as seeding
    small = np.r_[0:2000, 2**31, 2**32 - 1, np.random.default_rng(1).integers(0, 2**32, 500)]
    words = seeding._pcg64_words(small.astype(np.uint32))
    np.testing.assert_array_equal(words, [np.random.SeedSequence(int(s)).generate_state(4, np.uint64) for s in small])
    mixed = [0, 1, np.int64(77), 2**32 - 1, 2**32, 2**70, np.random.SeedSequence(5), 12345]
    for rng, seed in zip(seeding.generators(mixed), copy.deepcopy(mixed)):     # a SeedSequence counts its children
        want = np.random.default_rng(seed)
        np.testing.assert_array_equal(rng.random(4), want.random(4))
        np.testing.assert_array_equal(rng.spawn(2)[1].random(3), want.spawn(2)[1].random(3))   # children too
    # what code inspecting a generator's seed sequence reads, before and after a spawn
    rng, want = seeding.generators([9])[0].bit_generator.seed_seq, np.random.SeedSequence(9)
    for _ in range(2):
        assert (rng.entropy, rng.spawn_key, rng.pool_size, rng.n_children_spawned) == \
            (want.entropy, want.spawn_key, want.pool_size, want.n_children_spawned)
        assert rng.state == want.state
        rng.spawn(3), want.spawn(3)
    assert rng.n_children_spawned == want.n_children_spawned == 6
    # Words that disagree with numpy's SeedSequence on the first seed: numpy seeds them all.
    monkeypatch.setattr(seeding, "_pcg64_words", lambda entropy: np.zeros((len(entropy), 4), np.uint64))
    for rng, seed in zip(seeding.generators([3, 4]), [3, 4]):
        np.testing.assert_array_equal(rng.random(3), np.random.default_rng(seed).random(3))
