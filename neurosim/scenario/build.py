"""Building a scenario's network from its ``[network]`` table.

:func:`build_network` turns layers, hand-wired neurons and connections into a
:class:`~neurosim.Network`, applying the bias policy, and reports every mistake with the key
it came from (``network.layers[1].from[0]``); it also checks that the network's inputs and
outputs match the data, and gives the network the scenario's scaling (``data.scale``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NeurosimError, did_you_mean
from ..network import Network
from .schema import BIAS_POLICIES, NEURON_KINDS, _Reader

if TYPE_CHECKING:  # pragma: no cover
    from .model import Scenario

__all__ = ["build_network"]


def build_network(sc: Scenario) -> Network:
    r = _Reader(sc.source)
    nd = r.keys(sc.data.get("network", {}), "network", "network")
    default_act = r.get(nd, "activation", "network", (str,), "sigmoid")
    policy = r.get(nd, "bias", "network", (str,), "shared", choices=BIAS_POLICIES)
    dtype = r.get(nd, "dtype", "network", (str,), "float64", choices=("float64", "float32"))
    init = nd.get("init", "uniform")
    if isinstance(init, str):
        init_name, init_options = init, {}
    else:
        it = r.keys(init, "network.init", "network.init")
        init_name = r.get(it, "name", "network.init", (str,), "uniform")
        init_options = r.get(it, "options", "network.init", (dict,), {})
    registry = sc.registry
    init_key = "network.init" if isinstance(init, str) else "network.init.name"
    try:
        registry.initializer(init_name)
    except NeurosimError as exc:
        raise r.fail(init_key, str(exc)) from None
    try:
        registry.with_options("initializer", init_name, init_options)
    except NeurosimError as exc:
        raise r.fail("network.init.options", str(exc)) from None
    if "activation" in nd:
        try:
            registry.activation(default_act)
        except NeurosimError as exc:
            raise r.fail("network.activation", str(exc)) from None
    init_rng = np.random.default_rng(np.random.SeedSequence(sc.seed).spawn(2)[0])
    net = Network(registry=registry, dtype=dtype, seed=init_rng, init=init_name, init_options=init_options)

    def guard(key: str, action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except NeurosimError as exc:
            raise r.fail(key, str(exc)) from None

    layers = r.get(nd, "layers", "network", (list,), [])
    layer_units: dict[str, list] = {}
    for i, layer in enumerate(layers):
        path = f"network.layers[{i}]"
        ly = r.keys(layer, "network.layers", path)
        lname = r.get(ly, "name", path, (str,))
        size = r.get(ly, "size", path, (int,), minimum=1)
        sources = r.get(ly, "from", path, (list,), [])
        for j, s in enumerate(sources):
            if not isinstance(s, str):
                raise r.fail(f"{path}.from[{j}]", f"must be the name of an earlier layer (a string), not {s!r}")
            if s not in layer_units:
                hint = ("it comes later; layers may only take from earlier layers" if any(
                    isinstance(x, Mapping) and x.get("name") == s for x in layers[i:]) else
                    did_you_mean(str(s), layer_units, "earlier layers"))
                raise r.fail(f"{path}.from[{j}]", f"no earlier layer named {s!r}; {hint}")
        output = r.get(ly, "output", path, (bool,), i == len(layers) - 1 and bool(sources))
        act = r.get(ly, "activation", path, (str,), default_act)
        kind = "neuron" if sources else "input"
        for key in ("output", "activation"):
            if kind == "input" and key in ly:
                raise r.fail(f"{path}.{key}", "does not apply to a layer of input units (a layer without "
                             "'from'); give the layer from = [...] to make it computing neurons")
        layer_units[lname] = guard(path, net.add_layer, lname, size, act, kind=kind, output=output,
                                   connect_from=[layer_units[s] for s in sources])

    for i, neuron in enumerate(r.get(nd, "neurons", "network", (list,), [])):
        path = f"network.neurons[{i}]"
        nt = r.keys(neuron, "network.neurons", path)
        name = r.get(nt, "name", path, (str,))
        kind = r.get(nt, "kind", path, (str,), "neuron", choices=NEURON_KINDS)
        for key in ("output", "activation", "group"):
            if kind != "neuron" and key in nt:
                raise r.fail(f"{path}.{key}", f"does not apply to {kind} units, whose output is "
                             f"{'the pattern value' if kind == 'input' else 'always 1'}; remove it")
        if kind == "input":
            guard(path, net.add_input, name)
        elif kind == "bias":
            guard(path, net.add_bias, name)
        else:
            guard(path, net.add_neuron, name, r.get(nt, "activation", path, (str,), default_act),
                  output=r.get(nt, "output", path, (bool,), False), group=r.get(nt, "group", path, (str,), None))

    if policy == "shared" and "bias" not in net:
        guard("network.bias", net.add_bias, "bias")
    elif policy == "shared" and net["bias"].kind != "bias":
        raise r.fail("network.bias", "is 'shared', which adds a bias unit named 'bias', but a neuron already has "
                     "that name; rename it or use bias = 'explicit'")
    connections = r.get(nd, "connections", "network", (dict,), {})
    for spec, value in connections.items():
        path = f"network.connections.{spec!r}" if " " in spec else f"network.connections.{spec}"
        parts = [p.strip() for p in spec.split("->")]
        if len(parts) != 2 or not all(parts):
            raise r.fail(path, f"{spec!r} is not of the form \"src -> dst\"")
        if isinstance(value, Mapping):
            ct = r.keys(value, "network.connections.*", path)
            weight = r.get(ct, "weight", path, (float,), None)
            trainable = r.get(ct, "trainable", path, (bool,), True)
            label = r.get(ct, "label", path, (str,), None)
        else:
            weight = r.get({"weight": value}, "weight", path, (float,))
            trainable, label = True, None
        if parts[0] in net and parts[1] in net and net.graph.has_edge(net[parts[0]], net[parts[1]]):
            # Already connected by a layer: the entry sets the weight, trainability and label.
            if weight is not None:
                guard(path, net.set_weight, parts[0], parts[1], weight)
            guard(path, net.set_trainable, parts[0], parts[1], trainable)
            if label:
                net.set_label(parts[0], parts[1], label)
        else:
            guard(path, net.connect, parts[0], parts[1], weight, trainable=trainable, label=label)

    if policy == "shared":
        bias = net["bias"]
        others = [b.name for b in net.biases if b is not bias]
        if bias.kind != "bias" or others:
            raise r.fail("network.bias", f"is 'shared' (one bias unit named 'bias' feeds every neuron), but "
                         f"{'a neuron is named bias' if bias.kind != 'bias' else 'bias units ' + ', '.join(others)} "
                         "is declared; use bias = 'explicit' to wire bias units yourself")
        for u in net.neurons:
            if not net.graph.has_edge(bias, u):
                net.connect(bias, u)
    elif policy == "none" and net.biases:
        raise r.fail("network.bias", f"is 'none' but bias units are declared ({net.biases[0].name!r}); "
                     "use bias = 'explicit'")
    d = sc.data["data"]
    in_key, out_key = ("data.inputs", "data.targets") if "inputs" in d else (
        ("data.options", "data.options") if "dataset" in d else ("data.file", "data.file"))
    if len(net.inputs) != sc.train.inputs.shape[1]:
        raise r.fail(in_key, f"patterns have {sc.train.inputs.shape[1]} values but the network has "
                     f"{len(net.inputs)} inputs ({', '.join(u.name for u in net.inputs[:10]) or 'none'}"
                     f"{' ...' if len(net.inputs) > 10 else ''})")
    if len(net.outputs) != sc.train.targets.shape[1]:
        raise r.fail(out_key, f"target patterns have {sc.train.targets.shape[1]} values but the network has "
                     f"{len(net.outputs)} outputs ({', '.join(u.name for u in net.outputs[:10]) or 'none'}"
                     f"{' ...' if len(net.outputs) > 10 else ''})")
    guard("network", net.compile)
    net.scaling = sc.scaling                # fitted on the training set by resolve (data.scale), or None
    return net
