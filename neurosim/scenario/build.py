"""Building a scenario's network from its ``[network]`` table.

:func:`build_network` turns layers, hand-wired neurons and connections into a
:class:`~neurosim.Network`, applying the bias policy, and reports every mistake with the key
it came from (``network.layers[1].from[0]``); it also checks that the network's inputs and
outputs match the data, and gives the network the scenario's scaling (``data.scale``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from .. import graphs
from ..errors import NeurosimError, did_you_mean
from ..network import REDUCES, Network
from ..recurrent import INPUTS, _output_steps, unroll
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
    recurrent = _recurrent_settings(r, nd)

    def guard(key: str, action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except NeurosimError as exc:
            raise r.fail(key, str(exc)) from None

    layers = r.get(nd, "layers", "network", (list,), [])
    layer_units: dict[str, list] = {}
    delayed: list[tuple[str, str, dict, str]] = []       # (src, dst, edge attributes, key) of network.recurrent
    from_previous: list[tuple[str, list, str]] = []
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
        if "from_previous" in ly:
            previous = r.get(ly, "from_previous", path, (list,))
            if recurrent is None:
                raise r.fail(f"{path}.from_previous", "connects from the previous time step, which only a recurrent "
                             "network has; add a [network.recurrent] table (steps = ...) or remove it")
            if kind == "input":
                raise r.fail(f"{path}.from_previous", "does not apply to a layer of input units (a layer without "
                             "'from'): input units take the pattern's values")
            from_previous.append((lname, previous, f"{path}.from_previous"))
    for lname, previous, path in from_previous:
        for j, s in enumerate(previous):
            if not isinstance(s, str) or s not in layer_units:
                raise r.fail(f"{path}[{j}]", f"no layer named {s!r:.60}; {did_you_mean(str(s), layer_units, 'layers')}")
            delayed.extend((u.name, v.name, {"delay": 1}, f"{path}[{j}]")
                           for u in layer_units[s] for v in layer_units[lname])

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
        path = _connection_key("network.connections", spec)
        parts = _ends(r, path, spec)
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
    tied_in: dict = {}                  # connection -> the network.tied entry that has it
    for i, entry in enumerate(r.get(nd, "tied", "network", (list,), [])):
        path = f"network.tied[{i}]"
        if recurrent is not None:
            raise r.fail(path, "a recurrent network ties the copies of each of its weights itself (one set per "
                         "connection); tying different connections of it is not supported: remove network.tied")
        tt = r.keys(entry, "network.tied", path)
        specs = r.get(tt, "edges", path, (list,))
        edges = []
        for j, spec in enumerate(specs):
            if not isinstance(spec, str):
                raise r.fail(f"{path}.edges[{j}]", f"must be a connection \"src -> dst\" (a string), not {spec!r:.60}")
            edges.append(_ends(r, f"{path}.edges[{j}]", spec))
            earlier = tied_in.setdefault(edges[-1], i)
            if earlier != i:
                raise r.fail(f"{path}.edges[{j}]", f"{spec!r} is already in network.tied[{earlier}]; a connection "
                             "has one weight, so it is in at most one tied set: list it once, in one set (merge "
                             "the two sets if all their connections should share a weight)")
        guard(path, net.tie, edges, reduce=r.get(tt, "reduce", path, (str,), "sum", choices=REDUCES),
              name=r.get(tt, "name", path, (str,), None))
    if recurrent is not None:
        for spec, value in recurrent["connections"].items():
            path = _connection_key("network.recurrent.connections", spec)
            src, dst = _ends(r, path, spec)
            ct = r.keys(value if isinstance(value, Mapping) else {"weight": value}, "network.recurrent.connections.*",
                        path)
            attrs = {"weight": r.get(ct, "weight", path, (float,), None),
                     "trainable": r.get(ct, "trainable", path, (bool,), True),
                     "delay": r.get(ct, "delay", path, (int,), 1, minimum=1)}
            delayed.append((src, dst, attrs, path))
        net = _unrolled(r, net, delayed, recurrent)
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


def _connection_key(table: str, spec: str) -> str:
    """The key path of the connection ``spec`` in ``table`` (quoted when it has spaces)."""
    return f"{table}.{spec!r}" if " " in spec else f"{table}.{spec}"


def _ends(r: _Reader, path: str, spec: str) -> tuple[str, str]:
    """``"src -> dst"`` as ``(src, dst)``, or a ScenarioError at ``path``."""
    parts = [p.strip() for p in spec.split("->")]
    if len(parts) != 2 or not all(parts):
        raise r.fail(path, f"{spec!r} is not of the form \"src -> dst\"")
    return parts[0], parts[1]


def _recurrent_settings(r: _Reader, nd: dict) -> dict[str, Any] | None:
    """``[network.recurrent]`` read and checked (None when the network is not recurrent)."""
    if "recurrent" not in nd:
        return None
    rt = r.keys(nd["recurrent"], "network.recurrent", "network.recurrent")
    steps = r.get(rt, "steps", "network.recurrent", (int,), minimum=1)
    outputs = r.get(rt, "outputs", "network.recurrent", (str, list), "last")
    try:
        _output_steps(outputs, steps)
    except NeurosimError as exc:
        raise r.fail("network.recurrent.outputs", str(exc).removeprefix("unroll: outputs ")) from None
    return {"steps": steps, "outputs": outputs,
            "inputs": r.get(rt, "inputs", "network.recurrent", (str,), "every", choices=INPUTS),
            "reduce": r.get(rt, "reduce", "network.recurrent", (str,), "sum", choices=REDUCES),
            "connections": r.get(rt, "connections", "network.recurrent", (dict,), {})}


def _unrolled(r: _Reader, net: Network, delayed: list, recurrent: dict) -> Network:
    """The network of one time step ``net`` plus its ``delayed`` connections, unrolled.

    ``net`` is not compiled: its weights not given are still None, so the unrolled
    network's initialiser draws them (one draw per tied set) and an ensemble redraws them.
    """
    G = nx.DiGraph()
    for u in net.graph.nodes:
        G.add_node(u.name, **graphs._unit_attributes(u))
    for u, v, data in net.graph.edges(data=True):
        G.add_edge(u.name, v.name, weight=data["weight"], trainable=data["trainable"])
    for src, dst, attrs, path in delayed:
        for end in (src, dst):
            if end not in net:
                raise r.fail(path, f"no neuron named {end!r}; {did_you_mean(end, [u.name for u in net], 'neurons')}")
        if net[dst].kind != "neuron":
            raise r.fail(path, f"{dst!r} is {'an input' if net[dst].kind == 'input' else 'a bias'} unit, whose "
                         "output is fixed; connect into a computing neuron")
        if G.has_edge(src, dst):
            raise r.fail(path, f"{src!r} -> {dst!r} is connected already (within a step, or by a layer's "
                         "from_previous); a pair of units has one connection, with one delay")
        G.add_edge(src, dst, **{k: v for k, v in attrs.items() if v is not None})
    try:
        return unroll(G, recurrent["steps"], inputs=recurrent["inputs"], outputs=recurrent["outputs"],
                      reduce=recurrent["reduce"], registry=net.registry, dtype=net.dtype, seed=net.rng,
                      init=net.initializer.name, init_options=net.init_options)
    except NeurosimError as exc:
        raise r.fail("network.recurrent", str(exc)) from None
