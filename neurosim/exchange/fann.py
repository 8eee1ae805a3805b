"""FANN ``.net`` files: read a network the FANN library saved, write one FANN opens.

The FANN library (Fast Artificial Neural Network, libfann) saves a network as a text file
of ``key=value`` lines under the header ``FANN_FLO_2.1``: the layer sizes (each counting
its bias neuron, the last of the layer), one ``(num_inputs, activation_function,
activation_steepness)`` triple per neuron, and one ``(connected_to_neuron, weight)`` pair
per connection, listed neuron by neuron. With ``connection_rate`` below 1 FANN follows
that explicit list, so a connection may come from any earlier layer: sparse networks,
shortcut connections and, through them, any feed-forward DAG laid out in layers.

:func:`read_fann` builds a :class:`~neurosim.Network` that computes what ``fann_run``
computes: FANN's neuron outputs ``f(s · Σ w·y)`` with steepness ``s``, so its sigmoid
``1/(1+e^(−2s·net))`` becomes neurosim's logistic with the weights multiplied by ``2s``
(by exactly 1 for FANN's default steepness 0.5), its symmetric sigmoid ``tanh(s·net)``
becomes tanh, its linear function identity, each with the weights multiplied by ``s``. A
neuron with no connections is, to FANN, a bias neuron (output 1): it becomes a bias unit.
:func:`write_fann` does the reverse: computing neurons go into layers by generation (the
longest path from the inputs), the outputs into the last layer in output order (an
output that feeds other neurons is passed on there through a linear relay neuron), every
neuron lists its connections in the order it sums them, and bias units map to the bias
neurons of earlier layers. What cannot be expressed in FANN 2.2 (relu, softmax, a
plugin's activation) is refused naming the neuron. Details, and what the format loses,
are in docs/exchange.md.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from ..errors import DataError, PluginError
from ..io import DATA_FILE_LIMIT, FileError, atomic_write_all, read_text
from ..network import Network
from ..neurons import BiasUnit, Neuron

__all__ = ["read_fann", "write_fann", "fann_text", "FANN_ACTIVATIONS", "FANN_FUNCTIONS"]

#: FANN's activation functions, by their number in ``fann_activationfunc_enum`` (FANN 2.2;
#: 18 and 19 came later).
FANN_FUNCTIONS = ("FANN_LINEAR", "FANN_THRESHOLD", "FANN_THRESHOLD_SYMMETRIC", "FANN_SIGMOID",
                  "FANN_SIGMOID_STEPWISE", "FANN_SIGMOID_SYMMETRIC", "FANN_SIGMOID_SYMMETRIC_STEPWISE",
                  "FANN_GAUSSIAN", "FANN_GAUSSIAN_SYMMETRIC", "FANN_GAUSSIAN_STEPWISE", "FANN_ELLIOT",
                  "FANN_ELLIOT_SYMMETRIC", "FANN_LINEAR_PIECE", "FANN_LINEAR_PIECE_SYMMETRIC",
                  "FANN_SIN_SYMMETRIC", "FANN_COS_SYMMETRIC", "FANN_SIN", "FANN_COS",
                  "FANN_LINEAR_PIECE_RECT", "FANN_LINEAR_PIECE_RECT_LEAKY")

#: FANN function number -> (neurosim activation, factor): FANN's ``f(s · net)`` equals the
#: activation of ``net`` computed with every incoming weight multiplied by ``factor · s``.
FANN_ACTIVATIONS = {0: ("identity", 1.0), 3: ("sigmoid", 2.0), 5: ("tanh", 1.0), 18: ("relu", 1.0)}

#: neurosim activation -> (FANN function number, steepness) that :func:`write_fann` writes.
_EXPORT = {"identity": (0, 1.0), "sigmoid": (3, 0.5), "tanh": (5, 1.0), "relu": (18, 1.0)}

#: The plugin that provides the built-in activations.
_BUILT_IN = "neurosim.activations"

#: The header of the files FANN 2.2 writes (``fann_save`` of floatfann and doublefann).
HEADER = "FANN_FLO_2.1"
_READABLE = ("FANN_FLO_2.1", "FANN_FLO_2.0")

_NETTYPE_LAYER, _NETTYPE_SHORTCUT = 0, 1

_NEURONS = "neurons (num_inputs, activation_function, activation_steepness)"
_CONNECTIONS = "connections (connected_to_neuron, weight)"
_REQUIRED = ("num_layers", "connection_rate", "network_type", "layer_sizes", _NEURONS, _CONNECTIONS)

#: What FANN 2.2's ``fann_save`` writes for a new network's training parameters (its
#: defaults); :func:`write_fann` writes them so that FANN trains the file as it would a
#: network it created (``{layers}`` and the rest are filled in).
_TEMPLATE = """\
FANN_FLO_2.1
num_layers={layers}
learning_rate=0.700000
connection_rate={rate}
network_type=0
learning_momentum=0.000000
training_algorithm=2
train_error_function=1
train_stop_function=0
cascade_output_change_fraction=0.010000
quickprop_decay=-0.000100
quickprop_mu=1.750000
rprop_increase_factor=1.200000
rprop_decrease_factor=0.500000
rprop_delta_min=0.000000
rprop_delta_max=50.000000
rprop_delta_zero=0.100000
cascade_output_stagnation_epochs=12
cascade_candidate_change_fraction=0.010000
cascade_candidate_stagnation_epochs=12
cascade_max_out_epochs=150
cascade_min_out_epochs=50
cascade_max_cand_epochs=150
cascade_min_cand_epochs=50
cascade_num_candidate_groups=2
bit_fail_limit=3.49999999999999977796e-01
cascade_candidate_limit=1.00000000000000000000e+03
cascade_weight_multiplier=4.00000000000000022204e-01
cascade_activation_functions_count=10
cascade_activation_functions=3 5 7 8 10 11 14 15 16 17 \n\
cascade_activation_steepnesses_count=4
cascade_activation_steepnesses=2.50000000000000000000e-01 5.00000000000000000000e-01 \
7.50000000000000000000e-01 1.00000000000000000000e+00 \n\
layer_sizes={sizes}
scale_included=0
"""

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)"
_NEURON_RE = re.compile(rf"\(\s*(\d+)\s*,\s*(\d+)\s*,\s*({_NUMBER})\s*\)", re.IGNORECASE)
_CONNECTION_RE = re.compile(rf"\(\s*(\d+)\s*,\s*({_NUMBER})\s*\)", re.IGNORECASE)


# --- reading -----------------------------------------------------------------------------


@dataclass
class _Field:
    """One ``key=value`` line of a .net file."""

    line: int
    value: str


def _function_name(number: int) -> str:
    return FANN_FUNCTIONS[number] if number < len(FANN_FUNCTIONS) else f"activation function {number}"


def read_fann(path: str | os.PathLike, **network_kwargs: Any):
    """Read a FANN ``.net`` file (``FANN_FLO_2.1`` or ``2.0``) as a network that computes the same outputs.

    Parameters
    ----------
    path : str or path
        A file saved by FANN's ``fann_save`` (floatfann or doublefann), or written by
        hand or by :func:`write_fann`.
    **network_kwargs
        Passed to :class:`neurosim.Network` (``dtype``, ``seed``, ``registry``, ...).

    Returns
    -------
    neurosim.Network
        Inputs ``i1 … in``; the neurons of hidden layer ``k`` named ``h{k}_{j}``; the
        outputs ``o1 … om`` (the first neurons of the last layer, in order); the bias
        neuron of layer ``k`` as the bias unit ``b{k}`` (only those some neuron reads).
        Each neuron's connections become its incoming edges in the file's order, with the
        weights multiplied by the steepness factor of :data:`FANN_ACTIVATIONS` (so
        FANN's sigmoid with steepness 0.5 keeps its weights as they are).

    Raises
    ------
    FileError
        The file is missing, unreadable, not a FANN network file, truncated or corrupt;
        the message starts with the file and names the line and field at fault.
    PluginError
        A neuron uses a FANN activation function neurosim has no equivalent for (the
        stepwise, threshold, Gaussian, Elliott, sine and cosine functions, piecewise
        linear): the message names the neuron and the function.

    Notes
    -----
    FANN clips ``s · net`` to ±150/s before applying the activation; for sigmoids that
    changes nothing (they are saturated long before), but a linear neuron's output is
    bounded by ±150/s in FANN and not after import. The file's training parameters
    (learning rate, algorithm, cascade settings) and scaling parameters are not read:
    ``fann_run`` does not use them. Two connections between the same pair of neurons
    become one edge with the sum of their weights.

    Examples
    --------
    A network with skip connections, to FANN and back:

    >>> import os, tempfile
    >>> import neurosim
    >>> from neurosim.exchange import read_fann, write_fann
    >>> net = neurosim.Network(seed=0)
    >>> _ = net.add_layer("i", 2, kind="input"); b = net.add_bias()
    >>> h = net.add_layer("h", 2, "tanh", connect_from=[net.inputs], bias=b)
    >>> _ = net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h, net.inputs], bias=b)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     back = read_fann(write_fann(net, os.path.join(folder, "skip.net")))
    >>> back
    Network(2 inputs, 3 neurons, 1 outputs, 2 bias units, 11 weights)
    >>> bool((back.forward([[0.5, -1.0]]) == net.forward([[0.5, -1.0]])).all())
    True
    """
    name = os.fspath(path)
    text = read_text(name, limit=DATA_FILE_LIMIT, what="a FANN .net network file")
    return _network(name, _parse(name, text), network_kwargs)


def _parse(name: str, text: str) -> dict:
    """The file's fields, ``{key: _Field}``, after its header line."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise FileError(name, f"line 1: the file is empty or has no header; a FANN network file starts with "
                              f"{HEADER}")
    header = lines[0].strip()
    if header not in _READABLE:
        if header.startswith("FANN_FIX_"):
            problem = (f"is a fixed-point FANN network ({header}); save the network from floating-point FANN "
                       "(floatfann or doublefann: fann_save, not fann_save_to_fixed) to read it")
        elif header.startswith("FANN_FLO_"):
            problem = f"is in the old FANN format {header}; load it in FANN 2.x and save it again ({HEADER})"
        else:
            problem = f"is not a FANN network file: line 1 is {header[:40]!r}, where FANN writes {HEADER}"
        raise FileError(name, problem)
    fields: dict[str, _Field] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FileError(name, f"line {number}: {line.strip()[:60]!r} is not a key=value line")
        if key in fields:
            raise FileError(name, f"line {number}: {key} is given twice (first on line {fields[key].line})")
        fields[key] = _Field(number, value.strip())
    for key in _REQUIRED:
        if key not in fields:
            raise FileError(name, f"{key}= is missing (the file has {len(lines)} lines: is it truncated?); FANN "
                                  f"writes it after the header")
    return fields


def _whole(name: str, field: _Field, key: str, low: int = 0) -> int:
    try:
        value = int(field.value)
    except ValueError:
        raise FileError(name, f"line {field.line}: {key}={field.value[:40]!r} is not a whole number") from None
    if value < low:
        raise FileError(name, f"line {field.line}: {key}={value} must be at least {low}")
    return value


def _real(name: str, line: int, what: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FileError(name, f"line {line}: {what} {text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise FileError(name, f"line {line}: {what} is {text}; it must be a finite number")
    return value


def _tuples(name: str, field: _Field, key: str, pattern: re.Pattern, count: int, what: str) -> list[tuple]:
    """The ``(…)`` tuples of a neurons= or connections= line, exactly ``count`` of them."""
    found, at = [], 0
    for match in pattern.finditer(field.value):
        if field.value[at:match.start()].strip():
            break
        found.append(match.groups())
        at = match.end()
    rest = field.value[at:].strip()
    if rest and len(found) < count:
        raise FileError(name, f"line {field.line}: {key}: {what} {len(found) + 1} cannot be read at "
                              f"{rest[:40]!r}; FANN writes {_SHAPES[what]}")
    if len(found) != count or rest:
        more = f"{len(found)}{' and more text' if rest else ''}"
        raise FileError(name, f"line {field.line}: {key}: the file lists {more} {what}s where the layer sizes and "
                              f"neurons call for {count} (is the file truncated?)")
    return found


_SHAPES = {"neuron": "(num_inputs, activation_function, activation_steepness)",
           "connection": "(connected_to_neuron, weight)"}


def _network(name: str, fields: dict, network_kwargs: dict):
    num_layers = _whole(name, fields["num_layers"], "num_layers", low=2)
    sizes_field = fields["layer_sizes"]
    try:
        sizes = [int(s) for s in sizes_field.value.split()]
    except ValueError:
        raise FileError(name, f"line {sizes_field.line}: layer_sizes={sizes_field.value[:40]!r} must be whole "
                              "numbers separated by spaces") from None
    if len(sizes) != num_layers:
        raise FileError(name, f"line {sizes_field.line}: layer_sizes lists {len(sizes)} layers, but "
                              f"num_layers={num_layers} (line {fields['num_layers'].line})")
    nettype = _whole(name, fields["network_type"], "network_type")
    if nettype not in (_NETTYPE_LAYER, _NETTYPE_SHORTCUT):
        raise FileError(name, f"line {fields['network_type'].line}: network_type={nettype}; FANN knows 0 "
                              "(layered) and 1 (shortcut)")
    rate_field = fields["connection_rate"]
    rate = _real(name, rate_field.line, "connection_rate", rate_field.value)
    shortcut = nettype == _NETTYPE_SHORTCUT
    for k, size in enumerate(sizes):
        if k == 0 and size < 2:
            need = "the input layer needs an input and its bias neuron"
        elif k and not shortcut and size < 2:
            need = "a layer of a layered network needs a neuron and its bias neuron"
        elif size < 1:
            need = "a layer needs a neuron"
        else:
            continue
        raise FileError(name, f"line {sizes_field.line}: layer_sizes: layer {k} has {size} neurons; {need}")
    first = [sum(sizes[:k]) for k in range(num_layers)]         # each layer's first neuron
    total = sum(sizes)
    layer_of = [k for k, size in enumerate(sizes) for _ in range(size)]
    nf = fields[_NEURONS]
    neurons = []
    for j, (n_in, function, steepness) in enumerate(_tuples(name, nf, "neurons", _NEURON_RE, total, "neuron")):
        neurons.append((int(n_in), int(function), _real(name, nf.line, f"neuron {j}: activation_steepness",
                                                        steepness)))
    n_inputs = sizes[0] - 1
    for j in range(sizes[0]):
        if neurons[j][0]:
            raise FileError(name, f"line {nf.line}: neurons: neuron {j} is in the input layer and lists "
                                  f"{neurons[j][0]} connections; input and bias neurons have none")
    cf = fields[_CONNECTIONS]
    conns = _tuples(name, cf, "connections", _CONNECTION_RE, sum(n for n, _, _ in neurons), "connection")
    n_outputs = sizes[-1] - (0 if shortcut else 1)
    out_first = first[-1]
    units: dict[int, Any] = {}

    def label(j: int) -> str:
        k = layer_of[j]
        if k == num_layers - 1 and j - out_first < n_outputs:
            return f"o{j - out_first + 1}"
        return f"h{k}_{j - first[k] + 1}"

    # sources first: which neurons are read, and how
    sources: list[list[tuple[int, float]]] = [[] for _ in range(total)]
    c = 0
    for j, (n_in, _, _) in enumerate(neurons):
        k = layer_of[j]
        for slot in range(n_in):
            src_text, w_text = conns[c]
            src = int(src_text)
            weight = _real(name, cf.line, f"connection {c}: weight", w_text)
            if rate >= 1:
                implied = (0 if shortcut else first[k - 1]) + slot
                if src != implied:
                    raise FileError(name, f"line {cf.line}: connections: connection {c} (into neuron {j}) comes "
                                          f"from neuron {src}, but with connection_rate={rate_field.value} FANN "
                                          f"connects it to neuron {implied} regardless; write a connection_rate "
                                          "below 1 for an explicit list")
            if src >= total or layer_of[src] >= k:
                where = "does not exist" if src >= total else f"is in layer {layer_of[src]}"
                raise FileError(name, f"line {cf.line}: connections: connection {c} into neuron {j} (layer {k}) "
                                      f"comes from neuron {src}, which {where}; a neuron reads only neurons of "
                                      "earlier layers")
            sources[j].append((src, weight))
            c += 1

    for j, (n_in, function, steepness) in enumerate(neurons):
        if j < n_inputs or n_in == 0:
            continue
        if function not in FANN_ACTIVATIONS:
            raise PluginError(f"{name}: neuron {j} (layer {layer_of[j]}, imported as {label(j)!r}) uses "
                              f"{_function_name(function)}, which neurosim has no activation for; it imports "
                              f"{', '.join(FANN_FUNCTIONS[f] for f in FANN_ACTIVATIONS)}. Set the activation "
                              "function to one of them in FANN (fann_set_activation_function_hidden/_output; "
                              "FANN's default FANN_SIGMOID_STEPWISE approximates FANN_SIGMOID), train and save "
                              "again")

    net = Network(**network_kwargs)
    for j in range(n_inputs):
        units[j] = net.add_input(f"i{j + 1}")
    used = {src for j in range(total) for src, _ in sources[j]}
    is_bias = [j >= n_inputs and neurons[j][0] == 0 for j in range(total)]
    outputs = set(range(out_first, out_first + n_outputs))
    for j in range(n_inputs, total):
        if is_bias[j] and j in used:
            k = layer_of[j]
            last = j == first[k] + sizes[k] - 1
            units[j] = net.add_bias(f"b{k}" if last else f"b{k}_{j - first[k] + 1}")
    for j in range(n_inputs, total):
        if j in outputs or not is_bias[j]:
            function = neurons[j][1]
            act = FANN_ACTIVATIONS[function][0] if not is_bias[j] else "identity"
            units[j] = net.add_neuron(label(j), act, output=j in outputs)
    for j in range(n_inputs, total):
        if j not in units or not isinstance(units[j], Neuron):
            continue
        if is_bias[j]:                        # an output FANN computes as a bias: always 1
            one = next((units[b] for b in range(n_inputs, total) if b in units and is_bias[b]
                        and not isinstance(units[b], Neuron)), None)
            if one is None:
                one = units[n_inputs] = net.add_bias(f"b{layer_of[n_inputs]}")
            net.connect(one, units[j], weight=1.0)
            continue
        function, steepness = neurons[j][1], neurons[j][2]
        factor = FANN_ACTIVATIONS[function][1] * steepness
        merged: dict[int, float] = {}
        for src, weight in sources[j]:
            merged[src] = merged.get(src, 0.0) + weight
        for src, weight in merged.items():
            net.connect(units[src], units[j], weight=_scaled(name, cf.line, j, factor, weight))
    return net


def _scaled(name: str, line: int, j: int, factor: float, weight: float) -> float:
    value = factor * weight
    if not math.isfinite(value):
        raise FileError(name, f"line {line}: connections: a weight into neuron {j} times its steepness factor "
                              f"{factor!r} overflows ({weight!r})")
    return value


# --- writing -----------------------------------------------------------------------------


def _check_activations(net, rectifier: bool) -> None:
    for u in net.neurons:
        owner = net.registry.owner("activation", u.activation)
        if owner == _BUILT_IN and u.activation in _EXPORT and (u.activation != "relu" or rectifier):
            continue
        if owner == _BUILT_IN and u.activation == "relu":
            why = ("FANN 2.2 has no rectifier (FANN_LINEAR_PIECE_RECT came in a later FANN); pass "
                   "rectifier=True (neurosim export --rectifier) to write it for a FANN that has it")
        elif owner == _BUILT_IN and u.activation == "softmax":
            why = "FANN has no softmax: its neurons are computed one by one, never normalised as a group"
        else:
            why = f"it comes from plugin {owner!r}, and FANN has only its own activation functions"
        raise PluginError(f"neuron {u.name!r} uses the activation {u.activation!r}, which a FANN .net file cannot "
                          f"express: {why}; FANN export takes identity, sigmoid and tanh")


def fann_text(net, *, rectifier: bool = False) -> str:
    """The text of the FANN ``.net`` file :func:`write_fann` writes for ``net``.

    Parameters
    ----------
    net : neurosim.Network
    rectifier : bool, default False
        See :func:`write_fann`.

    Returns
    -------
    str
    """
    _check_activations(net, rectifier)
    net.compile()                                        # draws the weights not given yet
    graph = net.graph
    inputs = net.inputs
    outputs = net.outputs
    # layers: inputs 0; a neuron one past its deepest non-bias source; outputs last
    level: dict[Any, int] = {u: 0 for u in inputs}
    for v in nx.topological_sort(graph):
        if isinstance(v, Neuron):
            level[v] = 1 + max((level[u] for u in graph.pred[v] if not isinstance(u, BiasUnit)), default=0)
    sink_outputs = [u for u in outputs if graph.out_degree(u) == 0]
    sinks = set(sink_outputs)
    hidden_neurons = [u for u in net.neurons if u not in sinks]
    depth = max((level[u] for u in hidden_neurons), default=0)
    layers: list[list[Any]] = [list(inputs)] + [[] for _ in range(depth)]
    for u in hidden_neurons:
        layers[level[u]].append(u)
    layers = [layers[0]] + [layer for layer in layers[1:] if layer]      # no empty layers
    final = [u if u in sinks else ("relay", u) for u in outputs]
    layers.append(final)
    first, index = [], {}
    position = 0
    for k, layer in enumerate(layers):
        first.append(position)
        for u in layer:
            index[u if not isinstance(u, tuple) else ("relay", u[1])] = position
            position += 1
        position += 1                                    # the layer's bias neuron, last
    bias_of = [first[k] + len(layer) for k, layer in enumerate(layers)]
    # each neuron's connections, in the order it sums them
    entries = []        # per FANN neuron: (function, steepness, [(source, weight)])
    for k, layer in enumerate(layers):
        for u in layer:
            if k == 0:
                entries.append(None)
                continue
            if isinstance(u, tuple):                     # relay: a linear copy of an output
                entries.append((0, 1.0, [(index[u[1]], 1.0)]))
                continue
            conns, n_bias = [], 0
            for src, data in graph.pred[u].items():
                if isinstance(src, BiasUnit):
                    b = k - 1 - n_bias if n_bias < k else k - 1
                    n_bias += 1
                    conns.append((bias_of[b], data["weight"]))
                else:
                    conns.append((index[src], data["weight"]))
            if not conns:                                # FANN would take it for a bias neuron
                conns.append((bias_of[k - 1], 0.0))
            function, steepness = _EXPORT[u.activation]
            entries.append((function, steepness, conns))
        entries.append(None)                             # the layer's bias neuron
    # fully connected layered net: FANN's own connection_rate=1 layout
    full = all(sorted(src for src, _ in e[2]) == list(range(first[k - 1], first[k]))
               for k in range(1, len(layers)) for e in entries[first[k]:bias_of[k]])
    if full:
        entries = [e if e is None else (e[0], e[1], sorted(e[2])) for e in entries]
        rate = "1.000000"
    else:
        n_conn = sum(len(e[2]) for e in entries if e is not None)
        possible = sum(len(layers[k]) * (len(layers[k - 1]) + 1) for k in range(1, len(layers)))
        rate = f"{min(n_conn / possible, 0.999999):f}"
    sizes = " ".join(str(len(layer) + 1) for layer in layers) + " "
    neurons = "".join("(0, 0, 0.00000000000000000000e+00) " if e is None else
                      f"({len(e[2])}, {e[0]}, {e[1]:.20e}) " for e in entries)
    connections = "".join(f"({src}, {float(w):.20e}) " for e in entries if e is not None for src, w in e[2])
    return (_TEMPLATE.format(layers=len(layers), rate=rate, sizes=sizes) +
            f"{_NEURONS}={neurons}\n{_CONNECTIONS}={connections}\n")


def write_fann(net, path: str | os.PathLike, *, rectifier: bool = False) -> Path:
    """Write a network as a FANN ``.net`` file (``FANN_FLO_2.1``), atomically.

    ``fann_create_from_file`` then loads it, ``fann_run`` computes ``net.forward``'s
    outputs, and FANN can go on training it.

    Parameters
    ----------
    net : neurosim.Network
        A network whose neurons use identity, sigmoid or tanh (the built-in ones): they
        become FANN_LINEAR (steepness 1), FANN_SIGMOID (steepness 0.5, which is the
        logistic) and FANN_SIGMOID_SYMMETRIC (steepness 1, which is tanh), so the
        weights are written as they are.
    path : str or path
        The file to write; its folder must exist.
    rectifier : bool, default False
        Write relu neurons as FANN_LINEAR_PIECE_RECT (function 18), which FANN releases
        after 2.2 know; FANN 2.2 does not, so by default relu is refused.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    PluginError
        A neuron's activation has no FANN equivalent (relu without ``rectifier``,
        softmax, a plugin's activation); the message names the neuron.
    DataError
        The path's folder does not exist.

    Notes
    -----
    Layer 0 holds the inputs (and FANN's bias neuron); computing neurons go into layer
    ``1 + `` the deepest layer of their non-bias sources, and the outputs into the last
    layer, in output order. An output that feeds other neurons stays in its own layer
    and is copied into the last layer by a FANN_LINEAR relay neuron (weight 1, exact,
    within FANN's ±150 clip of linear neurons). A bias unit's edge into a neuron of
    layer k comes from the bias neuron of layer k − 1 (a second one from layer k − 2, and
    so on). A neuron without incoming edges gets a connection of weight 0 from a bias
    neuron (FANN would otherwise take it for a bias neuron, output 1). Trainable flags,
    tied sets, labels, names and ``net.scaling`` are not part of the format. A fully
    connected layered network is written as FANN writes one (``connection_rate=1``);
    anything else with ``connection_rate`` below 1 and the explicit connection list.
    """
    if not isinstance(rectifier, bool):
        raise DataError(f"rectifier must be True or False, not {rectifier!r}")
    return atomic_write_all({path: fann_text(net, rectifier=rectifier)})[0]
