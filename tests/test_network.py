"""The object model stays in step with the compiled plan: edits, removals, views and state.

Regression tests for the review of the core: removing an edge after a pass, a delta that
must never describe a different pass than ``out``, momentum that must not move a weight
frozen between calls, the read-only graph view, and the round trip through the versioned
network format. Then the Network API's refusals of bad arguments (each a neurosim error
naming the argument and what would be right, never a bare Python or numpy error and no
leaked warning: wrong types, flags that are not bools, weights and data beyond the dtype's
range, complex data, optimisers and seeds, layers too large for memory), and pickling and
deep-copying networks and registries (an equal network that trains on identically).
"""

import copy
import pickle
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import DataError, PluginError, ResourceError, TopologyError, resources

DATA = Path(__file__).resolve().parent / "data"
MAZUR = Path(__file__).resolve().parents[1] / "scenarios" / "mazur.toml"


def small(seed=0):
    net = neurosim.Network(seed=seed)
    net.add_layer("x", 2, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 2, "tanh", connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h, net.inputs], bias=b)
    return net


X = np.array([[0.1, 0.9], [0.7, -0.3], [0.5, 0.5]])
T = np.array([[1.0], [0.0], [1.0]])


def test_disconnect_after_a_pass_recompiles_without_the_edge():
    net = small()
    before = net.forward(X)
    w = net.weight("x1", "o1")
    net.disconnect("x1", "o1")
    after = net.forward(X)
    assert not np.allclose(before, after)
    _, grads = net.gradients(X, T)
    assert ("x1", "o1") not in grads and len(grads) == net.n_weights
    net.connect("x1", "o1", weight=w)
    np.testing.assert_allclose(net.forward(X), before, rtol=0, atol=1e-15)


def test_delta_is_none_after_a_forward_only_pass():
    net = small()
    net.gradients(X, T)
    assert net["h1"].delta.shape == (3,)
    net.forward(X[:2])
    assert net["h1"].delta is None and net["h1"].out.shape == (2,)
    net.train(X, T, learning_rate=0.1, epochs=2, mode="online")
    assert net["o1"].delta is None          # the last pass measured the error at the final weights
    E, _ = net.gradients(X, T)
    assert net["o1"].delta.shape == (3,)


def test_weight_frozen_between_calls_keeps_no_momentum():
    net = small(1)
    opt = neurosim.SGD(0.5, momentum=0.9)
    net.train(X, T, epochs=3, mode="batch", optimizer=opt)
    net.set_trainable("h1", "o1", False)
    frozen = net.weight("h1", "o1")
    net.train(X, T, epochs=3, mode="batch", optimizer=opt)
    assert net.weight("h1", "o1") == frozen


def test_graph_is_a_read_only_live_view():
    net = small()
    G = net.graph
    assert isinstance(G, nx.DiGraph) and nx.is_directed_acyclic_graph(G)
    with pytest.raises(neurosim.TopologyError, match="read-only"):
        G.add_edge(net["o1"], net["h1"])
    net.set_weight("h1", "o1", 2.5)
    assert net.graph.edges[net["h1"], net["o1"]]["weight"] == 2.5
    assert [u.name for u in nx.topological_sort(net.graph)][:2] == ["x1", "x2"]


def test_group_must_name_a_group_activation():
    net = small()
    with pytest.raises(neurosim.TopologyError, match="elementwise"):
        net.add_neuron("s", "sigmoid", group="g")
    with pytest.raises(neurosim.TopologyError, match="string"):
        net.add_neuron("s", "softmax", group=1)


def test_network_round_trips_through_its_file_format():
    net = small(3)
    net.set_trainable("bias", "h1", False)
    data = net.to_dict()
    assert data["format"] == "neurosim-network" and data["version"] == 1
    assert data["plugins"]["activation"]["tanh"] == "neurosim.activations"
    copy = neurosim.Network.from_dict(data)
    assert copy.weights() == net.weights()
    assert [u.name for u in copy.outputs] == ["o1"] and not copy.trainable("bias", "h1")
    np.testing.assert_array_equal(copy.forward(X), net.forward(X))
    with pytest.raises(neurosim.DataError, match="version"):
        neurosim.Network.from_dict({**data, "version": 99})


# --- refusals of bad arguments -----------------------------------------------------------------


@pytest.mark.parametrize("kwargs, exc, fragments", [
    ({"init_options": "s"}, PluginError, ("init_options", "mapping", "{'scale': 0.3}", "'s'")),
    ({"registry": "x"}, PluginError, ("registry must be a neurosim Registry", "make_registry", "'x'")),
    ({"plugins": "x.py"}, PluginError, ("plugins must be a list", "['x.py']")),
    ({"dtype": np.float16}, DataError, ("float64 or float32", "only", "float16")),
    ({"dtype": np.longdouble}, DataError, ("float64 or float32", "only", str(np.dtype(np.longdouble)))),
    ({"dtype": "int32"}, DataError, ("float64 or float32", "only", "int32")),
])
def test_network_refuses_bad_constructor_arguments(kwargs, exc, fragments, refused):
    refused(exc, fragments, neurosim.Network, **kwargs)


def test_layers_must_be_iterables_of_units(refused):
    net = neurosim.Network(seed=0)
    net.add_layer("i", 2, kind="input")
    net.add_neuron("o", output=True)
    before = len(net)
    refused(TopologyError, ("layer 'h'", "connect_from must be an iterable of layers", "[net.inputs]", "not 5"),
            net.add_layer, "h", 2, connect_from=5)
    refused(TopologyError, ("layer 'h'", "'i1' in ['i1'] is a single unit", "[['i1']]"),
            net.add_layer, "h", 2, connect_from=["i1"])
    refused(TopologyError, ("layer 'x'", "input layer", "kind='neuron'"),
            net.add_layer, "x", 2, kind="input", connect_from=[net.inputs])
    refused(TopologyError, ("connect_all", "sources must be an iterable of units or names", "not 5"),
            net.connect_all, 5, ["o"])
    refused(TopologyError, ("connect_all", "targets must be an iterable of units or names", "not 5"),
            net.connect_all, ["i1"], 5)
    refused(TopologyError, ("connect_all", "sources", "not 'i1'"), net.connect_all, "i1", ["o"])
    assert len(net) == before and net.n_weights == 0
    net.add_layer("h", 2, connect_from=[["i1", "i2"]])      # names in a list are a layer
    assert net.n_weights == 4


def test_weights_too_large_for_the_dtype_are_refused(refused):
    net = neurosim.Network(seed=0)
    net.add_input("i1")
    net.add_neuron("o1", output=True)
    refused(DataError, ("weight of 'i1' -> 'o1'", "too large for a float"), net.connect, "i1", "o1", 10**400)
    refused(DataError, ("weight of 'i1' -> 'o1'", "too large for a float"), net.connect, "i1", "o1",
            np.longdouble("1e400") if np.finfo(np.longdouble).max > 1e400 else 10**400)
    net32 = neurosim.Network(seed=0, dtype=np.float32)
    net32.add_input("i1")
    net32.add_neuron("o1", output=True)
    for call in (net32.connect, net.connect):
        refused(DataError, ("weight of 'i1' -> 'o1'", "too large for a float"), call, "i1", "o1", 10**400)
    refused(DataError, ("weight of 'i1' -> 'o1'", "1e+39", "too large for float32", "dtype=float64"),
            net32.connect, "i1", "o1", 1e39)
    assert net32.n_weights == 0
    net32.connect("i1", "o1", weight=float(np.finfo(np.float32).max))       # the largest float32 is fine
    for compiled in (False, True):
        if compiled:
            net32.compile()
        refused(DataError, ("weight of 'i1' -> 'o1'", "too large for float32"), net32.set_weight, "i1", "o1", -1e39)
        refused(DataError, ("weight of 'i1' -> 'o1'", "too large for a float"), net32.set_weight, "i1", "o1",
                10**400)
    assert net32.weight("i1", "o1") == float(np.finfo(np.float32).max)
    net.connect("i1", "o1", weight=1e39)                     # float64 holds it


def test_flags_must_be_bools(refused):
    net = neurosim.Network(seed=0)
    net.add_layer("i", 2, kind="input")
    net.add_layer("h", 2)
    refused(TopologyError, ("'i1' -> 'h1'", "trainable must be True or False", "'no'"),
            net.connect, "i1", "h1", trainable="no")
    refused(TopologyError, ("connect_all", "trainable must be True or False", "1"),
            net.connect_all, net.inputs, ["h2"], trainable=1)
    assert net.n_weights == 0
    net.connect("i1", "h1", trainable=np.False_)             # numpy's bool is a bool
    assert net.trainable("i1", "h1") is False and type(net.graph.edges[net["i1"], net["h1"]]["trainable"]) is bool
    refused(TopologyError, ("'i1' -> 'h1'", "trainable must be True or False", "'no'"),
            net.set_trainable, "i1", "h1", "no")
    assert net.trainable("i1", "h1") is False
    refused(TopologyError, ("neuron 'o1'", "output must be True or False", "'yes'"),
            net.add_neuron, "o1", output="yes")
    refused(TopologyError, ("layer 'o'", "output must be True or False", "'yes'"),
            net.add_layer, "o", 2, output="yes")
    refused(TopologyError, ("'h1'", "output must be True or False", "'yes'"), net.set_output, "h1", "yes")
    assert "o1" not in net and not net.outputs


def test_labels_are_set_with_set_label_and_must_be_strings(refused):
    net = small()
    net.set_label("h1", "o1", "w5")
    assert net.edge_label("h1", "o1") == "w5"
    assert {e["label"] for e in net.to_dict()["edges"] if "label" in e} == {"w5"}
    net.set_label("h1", "o1", None)
    assert net.edge_label("h1", "o1") == "h1 -> o1"
    refused(TopologyError, ("label of 'h1' -> 'o1'", "string", "5"), net.set_label, "h1", "o1", 5)
    refused(TopologyError, ("label of 'x1' -> 'o1'", "string"), net.connect, "x1", "o1", label=3)
    refused(TopologyError, ("no connection 'h1' -> 'h2'",), net.set_label, "h1", "h2", "w")


def _one_to_one(dtype=np.float64):
    net = neurosim.Network(seed=0, dtype=dtype)
    net.add_layer("x", 2, kind="input")
    net.add_layer("o", 1, "identity", output=True, connect_from=[net.inputs])
    return net


@pytest.mark.parametrize("method", ["forward", "gradients", "error", "train"])
def test_complex_data_is_refused_not_truncated(method, refused):
    net = _one_to_one()
    good_X, good_T = [[0.5, 0.25]], [[1.0]]
    call = getattr(net, method)
    X_args = ([[0.5, 1 + 2j]],) if method == "forward" else ([[0.5, 1 + 2j]], good_T)
    refused(DataError, ("X holds complex numbers", "real"), call, *X_args)
    refused(DataError, ("X holds complex numbers",), call, *((np.array([[0.5, 0.25]], complex),) +
                                                              X_args[1:]))
    if method != "forward":
        refused(DataError, ("T holds complex numbers",), call, good_X, [[1j]])
        refused(DataError, ("T", "1j at pattern 0, column 0 is complex"), call, good_X,
                np.array([[1j]], dtype=object))


@pytest.mark.parametrize("method", ["forward", "train"])
def test_data_beyond_float32_is_too_large_not_missing(method, refused):
    net = _one_to_one(np.float32)
    call = getattr(net, method)
    args = ([[0.5, 1e39]],) if method == "forward" else ([[0.5, 1e39]], [[1.0]])
    err = refused(DataError, ("X has the value 1e+39 at pattern 0, column 1 (x2)", "too large for float32",
                              "dtype=float64"), call, *args)
    assert "non-finite" not in str(err) and "missing" not in str(err)
    if method == "train":
        refused(DataError, ("T has the value", "pattern 0, column 0 (o1)", "too large for float32"),
                call, [[0.5, 0.25]], [[-1e39]])
    refused(DataError, ("non-finite or missing",), call, *(([[0.5, np.inf]],) + args[1:]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_integers_too_large_for_a_float_are_a_data_error(dtype, refused):
    net = _one_to_one(dtype)
    refused(DataError, ("X", "pattern 0, column 1", "too large for a float"), net.forward, [[1, 10**400]])
    refused(DataError, ("T", "too large for a float"), net.gradients, [[1, 2]], [[10**400]])


def test_train_refuses_what_is_not_an_optimiser(refused):
    net = small()
    w = net.weights()
    refused(DataError, ("optimizer must be a neurosim.Optimizer", "neurosim.SGD(0.1)", "step"),
            net.train, X, T, optimizer=5)
    refused(PluginError, ("unknown optimizer 'sdg'", "did you mean 'sgd'"), net.train, X, T, optimizer="sdg")
    opt = neurosim.SGD(0.5)
    for name in ("learning_rate", "momentum", "weight_decay"):
        refused(DataError, (f"{name}=0.25 would be ignored", "optimizer", "own hyper-parameters"),
                net.train, X, T, optimizer=opt, **{name: 0.25})
    refused(DataError, ("'sgd' optimiser takes its own options", "learning_rate=0.25 would be ignored"),
            net.train, X, T, optimizer="sgd", learning_rate=0.25)
    assert net.weights() == w, "nothing may be trained"


def test_train_defaults_are_unchanged():
    a, b, c = small(), small(), small()
    ha = a.train(X, T, epochs=3)
    hb = b.train(X, T, epochs=3, optimizer=neurosim.SGD(0.1, 0.0, 0.0))
    hc = c.train(X, T, epochs=3, learning_rate=0.1, momentum=0.0, weight_decay=0.0, optimizer=None)
    np.testing.assert_array_equal(ha, hb)
    np.testing.assert_array_equal(ha, hc)
    assert a.weights() == b.weights() == c.weights()


def test_ensemble_seeds_must_be_one_per_member(refused):
    net = small()
    refused(DataError, ("seeds must be a list with one seed per ensemble member", "ensemble=2", "int 5"),
            net.train, X, T, ensemble=2, seeds=5)
    refused(DataError, ("seeds must be a list", "str"), net.train, X, T, ensemble=2, seeds="ab")
    refused(DataError, ("seeds[1] is 'b'", "not a seed"), net.train, X, T, ensemble=2, seeds=[0, "b"])
    refused(DataError, ("seeds", "ensemble=K"), net.train, X, T, seeds=[0, 1])
    refused(DataError, ("seeds has 3 entries for 2 members",), net.train, X, T, ensemble=2, seeds=[0, 1, 2])
    result = net.train(X, T, ensemble=2, seeds=(5, np.random.SeedSequence(6)), epochs=2)
    assert result.members == 2


@pytest.fixture
def little_memory(monkeypatch):
    """Pretend the machine has 8 GB available, so the refusals do not depend on this one."""
    monkeypatch.setattr(resources, "available_memory", lambda now=True: 8 * 10**9)


def test_layers_too_large_for_memory_are_refused_before_building(little_memory, refused):
    net = neurosim.Network(seed=0)
    net.add_layer("i", 2, kind="input")
    refused(ResourceError, ("layer 'h' of 1000000000 neurons and 2000000000 connections", "memory",
                            "make layer 'h' smaller"), net.add_layer, "h", 10**9, connect_from=[net.inputs])
    refused(ResourceError, ("layer 'x' of 1000000000 input units",), net.add_layer, "x", 10**9, kind="input")
    refused(ResourceError, ("layer 'h' of about 10^400 neurons",), net.add_layer, "h", 10**400)
    assert len(net) == 2


def test_connect_all_too_large_for_memory_is_refused_before_adding(monkeypatch, refused):
    net = neurosim.Network(seed=0)
    srcs = net.add_layer("i", 60, kind="input")
    dsts = [net.add_neuron(f"h{k}") for k in range(50)]
    monkeypatch.setattr(resources, "available_memory", lambda now=True: 10**6)      # 3,000 edges need more
    refused(ResourceError, ("connect_all of 60 sources to 50 targets (3000 connections)", "memory"),
            net.connect_all, srcs, dsts)
    assert net.n_weights == 0
    net.connect_all(srcs[:10], dsts[:10])
    assert net.n_weights == 100


# --- pickling and deep copies --------------------------------------------------------------------


def worked_example(dtype=np.float64, seed=None):
    """The seed's Mazur 2-2-2 net, with labels, frozen biases and one weight left to draw."""
    net = neurosim.Network(dtype=dtype, seed=seed)
    net.add_input("i1")
    net.add_input("i2")
    net.add_bias("b1")
    net.add_bias("b2")
    net.add_neuron("h1")
    net.add_neuron("h2")
    net.add_neuron("o2", output=True)
    net.add_neuron("o1", output=True)
    net.set_output("o2", False)
    net.set_output("o2")                                     # outputs o1, o2: not the order added
    for k, ((s, d), w) in enumerate({("i1", "h1"): .15, ("i2", "h1"): .20, ("i1", "h2"): .25, ("i2", "h2"): .30,
                                     ("h1", "o1"): .40, ("h2", "o1"): .45, ("h1", "o2"): .50}.items()):
        net.connect(s, d, weight=w, label=f"w{k + 1}")
    net.connect("h2", "o2", label="w8")                      # drawn by the initialiser
    for h in ("h1", "h2"):
        net.connect("b1", h, weight=0.35, trainable=False)
    for o in ("o1", "o2"):
        net.connect("b2", o, weight=0.60, trainable=False)
    return net


def weight_bits(net) -> bytes:
    return np.array(list(net.weights().values()), dtype=np.float64).tobytes()


def assert_equal_networks(a, b):
    assert a.to_dict() == b.to_dict()
    assert weight_bits(a) == weight_bits(b)
    assert [u.name for u in a.outputs] == [u.name for u in b.outputs]
    assert [u.name for u in a.inputs] == [u.name for u in b.inputs]
    assert a.dtype == b.dtype and a.seed == b.seed
    assert {e: a.trainable(*e) for e in a.weights()} == {e: b.trainable(*e) for e in b.weights()}
    assert {e: a.edge_label(*e) for e in a.weights()} == {e: b.edge_label(*e) for e in b.weights()}
    Xw = np.array([[0.05, 0.10], [0.3, -0.2]])
    assert a.forward(Xw).tobytes() == b.forward(Xw).tobytes()


COPIES = {"pickle": lambda net: pickle.loads(pickle.dumps(net)), "deepcopy": copy.deepcopy}


@pytest.mark.parametrize("how", list(COPIES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("state", ["built", "compiled", "trained"])
def test_a_copied_network_is_equal_and_trains_on_identically(how, dtype, state):
    net = worked_example(dtype, seed=7)
    Xw, Tw = [[0.05, 0.10], [0.3, -0.2], [0.9, 0.4]], [[0.01, 0.99], [0.5, 0.5], [0.2, 0.7]]
    if state != "built":
        net.compile()
    if state == "trained":
        net.train(Xw, Tw, learning_rate=0.5, epochs=3, shuffle=True)    # advances the shuffle stream
        net.set_weight("h1", "o1", 0.125)                                # the plan holds it, not the graph
    clone = COPIES[how](net)
    assert clone is not net and clone.registry is net.registry
    assert_equal_networks(clone, net)
    h_net = net.train(Xw, Tw, learning_rate=0.5, momentum=0.9, epochs=4, shuffle=True)
    h_clone = clone.train(Xw, Tw, learning_rate=0.5, momentum=0.9, epochs=4, shuffle=True)
    assert h_net.tobytes() == h_clone.tobytes()
    assert weight_bits(net) == weight_bits(clone)
    assert net.rng.bit_generator.state == clone.rng.bit_generator.state


def test_a_copy_before_compiling_draws_the_same_weights():
    net = small(seed=3)
    clone = pickle.loads(pickle.dumps(net))
    assert net.to_dict() == clone.to_dict()                           # both draw now, from the same state


def test_copies_are_independent():
    net = small()
    clone = copy.deepcopy(net)
    clone.set_weight("h1", "o1", 9.0)
    clone.disconnect("x1", "o1")
    assert net.weight("h1", "o1") != 9.0 and net.n_weights == clone.n_weights + 1
    assert all(u.network is clone for u in clone) and all(u.network is net for u in net)


def test_registries_pickle_and_deep_copy():
    default = neurosim.default_registry()
    assert pickle.loads(pickle.dumps(default)) is default
    made = neurosim.make_registry([DATA / "plugin_module.py"])
    again = pickle.loads(pickle.dumps(made))
    assert again is not made and again.names("activation") == made.names("activation")
    assert again.owner("activation", "softplus") == made.owner("activation", "softplus")
    assert copy.deepcopy(made) is made and copy.copy(made) is made


def test_a_network_with_a_file_plugin_pickles():
    net = neurosim.Network(plugins=[str(DATA / "plugin_module.py")], seed=0)
    net.add_input("x")
    net.add_neuron("y", "softplus", output=True)
    net.connect("x", "y", weight=0.5)
    clone = pickle.loads(pickle.dumps(net))
    assert clone.registry is not net.registry and "softplus" in clone.registry.names("activation")
    assert clone.to_dict() == net.to_dict()                   # the plugin's name is the same, too
    assert clone.forward([2.0]).tobytes() == net.forward([2.0]).tobytes()


class PicklablePlugin:
    """A plugin object of a module-level class: pickled by value."""

    @neurosim.hookimpl
    def neurosim_register_activations(self, register):
        register(neurosim.Activation("halve", lambda x: x / 2, derivative=_half))


def _half(net, y):
    return np.full_like(net, 0.5)


def test_a_plugin_object_is_pickled_by_value_and_keeps_its_name():
    net = neurosim.Network(plugins=[PicklablePlugin()], seed=0)
    net.add_input("x")
    net.add_neuron("y", "halve", output=True)
    net.connect("x", "y", weight=3.0)
    clone = pickle.loads(pickle.dumps(net))
    assert clone.registry.owner("activation", "halve") == net.registry.owner("activation", "halve")
    assert clone.to_dict() == net.to_dict() and clone.forward([1.0]).tolist() == [1.5]


def test_an_unpicklable_plugin_object_is_named(refused):
    class Local:                         # a class inside a function cannot be pickled
        @neurosim.hookimpl
        def neurosim_register_losses(self, register):
            register(neurosim.Loss("l1", lambda y, t: float(np.abs(y - t).sum()), lambda y, t: np.sign(y - t)))

    net = neurosim.Network(plugins=[Local()], seed=0)
    owner = net.registry.owner("loss", "l1")
    refused(PluginError, (f"plugin {owner!r} cannot be pickled", "module"), pickle.dumps, net)
    refused(PluginError, (f"plugin {owner!r} cannot be pickled",), pickle.dumps, net.registry)
    assert copy.deepcopy(net).registry is net.registry        # a deep copy shares the registry
    import pluggy
    from neurosim import hookspecs
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    refused(PluginError, ("plugin manager directly", "make_registry"), pickle.dumps, neurosim.Registry(pm))


def test_a_scenario_result_pickles():
    result = neurosim.run_scenario(MAZUR)
    again = pickle.loads(pickle.dumps(result))
    assert again.passed and again.network.to_dict() == result.network.to_dict()
    assert [c[1] for c in again.checks] == [c[1] for c in result.checks]
    assert again.history.tobytes() == result.history.tobytes()
