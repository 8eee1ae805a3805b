"""A fuzz suite for the Python API: odd arguments to every public entry point.

Hypothesis calls the public functions and methods a user reaches first — building a
:class:`neurosim.Network` (its constructor, ``add_*``, ``connect``, ``connect_all``,
``set_weight``, ``set_trainable``, ``set_output``), running it (``forward``,
``predict`` through a scaling, ``gradients``, ``error``, ``train`` with every keyword),
the optimiser and stop criterion, the conversions (``from_networkx``, ``from_dict``, its
``scaling`` entry included) and the scenario entry
points (``run_scenario``, ``load_scenario``, ``ScenarioResult.save``) — with one argument
replaced by an odd value: another type, NaN, infinity, an integer too large for a float,
a huge count, a complex number, a string, an empty or ragged array. Each call must work or
raise a :class:`neurosim.NeurosimError`: never a bare ``TypeError``, ``ValueError``,
``OverflowError``, ``AttributeError`` or ``MemoryError`` from Python or numpy, and never
a warning (pytest turns warnings into errors here).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim.training import StopCriterion

#: Values put in place of one argument.
ODD = [None, True, "", "x", "sigmod", -1, 0, 1, 2.5, -0.5, 1e300, -1e300, math.nan, math.inf, -math.inf, 10**400,
       -10**30, 2**63, 10**9, 10**12, 1 + 2j, [], [1, "a"], [[1, 2], [3]], {}, {"q": 1}, object(), np.float16(1),
       np.array([np.nan]), b"bytes", (1,), range(3)]
odd = st.sampled_from(ODD)

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_T = [[0.0], [1.0], [1.0], [0.0]]


def net221(**kwargs) -> neurosim.Network:
    net = neurosim.Network(seed=0, **kwargs)
    net.add_layer("i", 2, kind="input")
    b = net.add_bias("b")
    h = net.add_layer("h", 2, connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, output=True, connect_from=[h], bias=b)
    return net


def works_or_refuses(call, *args, **kwargs):
    """Call; a NeurosimError is a fine answer, anything else fails the test."""
    try:
        return call(*args, **kwargs)
    except neurosim.NeurosimError as exc:
        assert str(exc), "a refusal must say what is wrong"
        return exc


def _without(kwargs: dict, *names: str) -> dict:
    return {k: v for k, v in kwargs.items() if k not in names}


@SETTINGS
@given(st.data())
def test_building_a_network(data):
    name = data.draw(st.sampled_from(["Network", "add_input", "add_bias", "add_neuron", "add_layer", "connect",
                                      "connect_all", "set_weight", "set_trainable", "set_output", "disconnect"]))
    value = data.draw(odd, label="value")
    if name == "Network":
        key = data.draw(st.sampled_from(["plugins", "registry", "dtype", "seed", "init", "init_options"]))
        works_or_refuses(neurosim.Network, **{key: value})
        return
    net = net221()
    calls = {
        "add_input": [("name", lambda v: net.add_input(v))],
        "add_bias": [("name", lambda v: net.add_bias(v))],
        "add_neuron": [("name", lambda v: net.add_neuron(v)), ("activation", lambda v: net.add_neuron("n", v)),
                       ("output", lambda v: net.add_neuron("n", output=v)),
                       ("group", lambda v: net.add_neuron("n", "softmax", output=True, group=v))],
        "add_layer": [("prefix", lambda v: net.add_layer(v, 2)), ("size", lambda v: net.add_layer("z", v)),
                      ("activation", lambda v: net.add_layer("z", 2, v)),
                      ("kind", lambda v: net.add_layer("z", 2, kind=v)),
                      ("connect_from", lambda v: net.add_layer("z", 2, connect_from=v)),
                      ("bias", lambda v: net.add_layer("z", 2, connect_from=[net.inputs], bias=v))],
        "connect": [("src", lambda v: net.connect(v, "o1")), ("dst", lambda v: net.connect("i1", v)),
                    ("weight", lambda v: net.connect("i1", "o1", v)),
                    ("trainable", lambda v: net.connect("i1", "o1", trainable=v)),
                    ("label", lambda v: net.connect("i1", "o1", label=v))],
        "connect_all": [("sources", lambda v: net.connect_all(v, ["o1"])),
                        ("targets", lambda v: net.connect_all(["i1"], v)),
                        ("trainable", lambda v: (net.add_neuron("n"), net.connect_all(["i1"], ["n"], trainable=v)))],
        "set_weight": [("value", lambda v: net.set_weight("i1", "h1", v)),
                       ("src", lambda v: net.set_weight(v, "h1", 0.5))],
        "set_trainable": [("trainable", lambda v: net.set_trainable("i1", "h1", v))],
        "set_output": [("ref", lambda v: net.set_output(v)), ("output", lambda v: net.set_output("h1", v))],
        "disconnect": [("dst", lambda v: net.disconnect("i1", v))],
    }[name]
    _arg, call = data.draw(st.sampled_from(calls))
    works_or_refuses(call, value)
    works_or_refuses(net.forward, [0.5, 0.5])      # whatever was accepted leaves a network that runs or says why


@SETTINGS
@given(st.data())
def test_running_and_training(data):
    net = net221()
    net.scaling = neurosim.Scaling.fit(XOR_X, XOR_T, inputs="standard", targets="minmax")
    method = data.draw(st.sampled_from(["forward", "predict", "gradients", "error", "train"]))
    valid = {"X": XOR_X, "T": XOR_T, "loss": "mse", "learning_rate": 0.5, "epochs": 2, "mode": "batch",
             "momentum": 0.0, "batch_size": None, "weight_decay": 0.0, "optimizer": None, "stop": None,
             "ensemble": None, "seeds": None, "schedule": None, "shuffle": False}
    keys = {"forward": ["X"], "predict": ["X"], "gradients": ["X", "T", "loss"],
            "error": ["X", "T", "loss"]}.get(method, list(valid))
    key = data.draw(st.sampled_from(keys))
    kwargs = {k: valid[k] for k in keys}
    kwargs[key] = data.draw(odd | st.just(np.array(XOR_X) * 1e300) | st.just(np.array(XOR_X, complex)),
                            label=key)
    if method == "train":
        kwargs = _without(kwargs, *(k for k in ("batch_size", "optimizer", "stop", "ensemble", "seeds",
                                                "schedule", "shuffle") if k != key and kwargs[k] is None))
        if key in ("learning_rate", "momentum", "weight_decay"):
            pass
        else:
            kwargs = _without(kwargs, *(k for k in ("learning_rate", "momentum", "weight_decay") if k != key))
        if key == "seeds":
            kwargs["ensemble"] = 2
    args = [kwargs.pop(k) for k in ("X", "T") if k in kwargs]
    works_or_refuses(getattr(net, method), *args, **kwargs)


@SETTINGS
@given(st.data())
def test_optimiser_and_stop_criterion(data):
    kind = data.draw(st.sampled_from(["SGD.learning_rate", "SGD.momentum", "SGD.weight_decay", "StopCriterion"]))
    value = data.draw(odd, label="value")
    if kind == "StopCriterion":
        key = data.draw(st.sampled_from(["error_below", "within"]))
        stop = works_or_refuses(StopCriterion, **{key: value})
        if isinstance(stop, StopCriterion):
            works_or_refuses(net221().train, XOR_X, XOR_T, epochs=3, stop=stop)
        return
    key = kind.split(".")[1]
    sgd = works_or_refuses(neurosim.SGD, **{"learning_rate": 0.1, key: value})
    if isinstance(sgd, neurosim.SGD):
        works_or_refuses(net221().train, XOR_X, XOR_T, epochs=3, optimizer=sgd)
        works_or_refuses(setattr, sgd, key, value)         # as a schedule would


@SETTINGS
@given(st.data())
def test_conversions(data):
    value = data.draw(odd, label="value")
    which = data.draw(st.sampled_from(["from_networkx", "from_networkx.weight", "from_networkx.activation",
                                       "from_dict", "from_dict.entry"]))
    if which == "from_networkx":
        works_or_refuses(neurosim.Network.from_networkx, value)
    elif which == "from_networkx.weight":
        G = nx.DiGraph([("x", "h"), ("h", "y")])
        G.edges["x", "h"]["weight"] = value
        works_or_refuses(neurosim.Network.from_networkx, G)
    elif which == "from_networkx.activation":
        G = nx.DiGraph([("x", "h"), ("h", "y")])
        G.nodes["h"]["activation"] = value
        works_or_refuses(neurosim.Network.from_networkx, G)
    elif which == "from_dict":
        works_or_refuses(neurosim.Network.from_dict, value)
    else:
        data_ = net221().to_dict()
        field = data.draw(st.sampled_from(["units", "edges", "dtype", "version", "scaling", "scaling.inputs"]))
        if field.startswith("scaling"):
            data_["scaling"] = {"inputs": {"method": "standard", "offset": [0.0, 1.0], "scale": [1.0, 2.0]}}
            if field == "scaling.inputs":
                key = data.draw(st.sampled_from(["method", "offset", "scale"]))
                data_["scaling"]["inputs"][key] = value
            else:
                data_["scaling"] = value
            net = works_or_refuses(neurosim.Network.from_dict, data_)
            if isinstance(net, neurosim.Network):
                works_or_refuses(net.predict, XOR_X)
            return
        if field in ("units", "edges") and data.draw(st.booleans()):
            data_[field][0] = value if not isinstance(value, dict) else {**data_[field][0], **value}
        else:
            data_[field] = value
        works_or_refuses(neurosim.Network.from_dict, data_)


MAPPING = {"scenario": {"seed": 1},
           "network": {"layers": [{"name": "i", "size": 2}, {"name": "o", "size": 1, "from": ["i"]}]},
           "data": {"dataset": "xor"}, "training": {"epochs": 2, "mode": "batch"},
           "expect": [{"quantity": "error", "below": 10.0}]}


@SETTINGS
@given(st.data())
def test_scenario_entry_points(tmp_path_factory, data):
    value = data.draw(odd, label="value")
    which = data.draw(st.sampled_from(["run_scenario", "load_scenario", "overrides", "keyword", "save",
                                       "registry"]))
    if which == "run_scenario":
        works_or_refuses(neurosim.run_scenario, value)
    elif which == "load_scenario":
        works_or_refuses(neurosim.load_scenario, value)
    elif which == "overrides":
        works_or_refuses(neurosim.run_scenario, MAPPING, value)
    elif which == "keyword":
        works_or_refuses(neurosim.run_scenario, MAPPING, training={"learning_rate": value})
    elif which == "registry":
        works_or_refuses(neurosim.run_scenario, MAPPING, registry=value)
    else:
        result = neurosim.run_scenario(MAPPING)
        if isinstance(value, str) and value:
            value = tmp_path_factory.mktemp("save") / value
        works_or_refuses(result.save, value)


def test_the_odd_values_are_odd():
    """A guard against an ODD list that silently became harmless."""
    with pytest.raises(neurosim.NeurosimError):
        net221().connect("i1", "o1", 10**400)
