"""ONNX export: a network's forward pass as an ONNX model that onnxruntime (and Netron) opens.

:func:`to_onnx` turns a compiled :class:`~neurosim.Network` into an ONNX graph built with
``onnx.helper``, one step per level of the compiled plan (a topological generation, with a
softmax group kept whole, as the engine computes it). The model's input ``input`` is the
``(batch, n_inputs)`` pattern matrix; a *state* tensor holds the inputs followed by every
computing neuron's output, level by level. Each level gathers the state columns its
neurons read (``Gather``), multiplies them by the level's weight block (``MatMul``), adds
the summed bias weights (``Add``), splits the result by activation (``Split``), applies
``Identity`` / ``Sigmoid`` / ``Tanh`` / ``Relu`` / ``Softmax`` and appends the level to the
state (``Concat``); the output ``output`` gathers the output neurons' columns in output
order. A level whose dense block would be mostly zeros (a random DAG's sparse fan-in) is
computed per edge instead: its sources are gathered one per connection slot, multiplied
elementwise and summed per neuron (``Reshape``, ``Mul``, ``ReduceSum``). Only the built-in
activations can be expressed; any other activation is refused, naming the neuron. The
``onnx`` package is an optional extra (``pip install 'neurosim[onnx]'``), imported only
when :func:`to_onnx` runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..errors import DataError, MissingExtraError, PluginError
from ..io import atomic_write_all
from ..neurons import BiasUnit
from ..version import __version__

__all__ = ["to_onnx", "ONNX_ACTIVATIONS", "OPSET"]

#: The ONNX operator of each built-in activation (softmax over a group's columns).
ONNX_ACTIVATIONS = {"identity": "Identity", "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu",
                    "softmax": "Softmax"}

#: The plugin that provides the built-in activations (an activation of the same name from
#: another plugin is not assumed to compute the same function).
BUILT_IN = "neurosim.activations"

#: The default ONNX operator set, and the oldest IR version a model declares (ONNX 1.12's,
#: which goes with opset 17): old enough for every onnxruntime of the last years, new
#: enough for every operator used.
OPSET = 17
_IR_VERSION = 8

#: A level is computed per edge (gathered slots) when its dense block over its distinct
#: sources would hold more than this many entries per edge.
SPARSE_FACTOR = 4

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _require_onnx():
    """The ``onnx`` module, or a MissingExtraError naming the extra that installs it."""
    try:
        import onnx
        from onnx import helper, numpy_helper  # noqa: F401  (submodules used below)
    except ImportError:
        raise MissingExtraError("ONNX export needs the onnx package: pip install 'neurosim[onnx]' "
                                "(which also installs onnxruntime to run the model)") from None
    return onnx


def _check_activations(net) -> None:
    """Refuse the first neuron whose activation has no ONNX operator here, by name."""
    registry = net.registry
    for u in net.neurons:
        owner = registry.owner("activation", u.activation)
        if u.activation not in ONNX_ACTIVATIONS or owner != BUILT_IN:
            raise PluginError(f"neuron {u.name!r} uses the activation {u.activation!r} (from plugin {owner!r}), "
                              "which ONNX export cannot express; it exports the built-in activations "
                              f"{', '.join(ONNX_ACTIVATIONS)} (from {BUILT_IN}); change the neuron's activation "
                              "to one of them, or export to neurosim's own format (network.json) instead")


def to_onnx(net, path: str | os.PathLike | None = None, *, dtype: str = "float32", opset: int = OPSET,
            name: str = "neurosim") -> Any:
    """Export a network's forward pass as an ONNX model, and write it to ``path``.

    Parameters
    ----------
    net : neurosim.Network
        Any feed-forward network whose neurons use the built-in activations (identity,
        sigmoid, tanh, relu, softmax groups); skip connections, several bias units,
        outputs that feed other neurons and neurons without inputs are all fine.
    path : str or path, optional
        Where to write the ``.onnx`` file (atomically); without it the model is only
        returned.
    dtype : {"float32", "float64"}, default "float32"
        The model's tensor type. float32 is what most ONNX consumers expect; float64
        gives the network's own numbers to rounding.
    opset : int, default 17
        The ONNX operator set to declare (13 or newer).
    name : str, default "neurosim"
        The ONNX graph's name.

    Returns
    -------
    onnx.ModelProto
        A model with one input ``input`` ``(batch, n_inputs)`` and one output ``output``
        ``(batch, n_outputs)``, columns in the network's input and output order (their
        neuron names are in the model's metadata, ``neurosim.inputs`` and
        ``neurosim.outputs``). It passes ``onnx.checker.check_model(full_check=True)``.

    Raises
    ------
    MissingExtraError
        When the ``onnx`` package is not installed (``pip install 'neurosim[onnx]'``).
    PluginError
        When a neuron uses an activation that ONNX export cannot express (a plugin's);
        the message names the neuron and the activation.
    TopologyError
        When the network cannot compile (no inputs or outputs).
    DataError
        A bad ``dtype`` or ``opset``, or a ``path`` whose folder does not exist.

    Notes
    -----
    The model computes :meth:`neurosim.Network.forward`: the network's ``scaling`` (which
    :meth:`~neurosim.Network.predict` applies) is not part of it, nor is anything about
    training (trainable flags, tied sets, labels). Bias units become a per-neuron bias
    vector (the sum of the weights from bias units). See docs/exchange.md.

    Examples
    --------
    >>> import neurosim, numpy as np, onnxruntime
    >>> from neurosim.exchange import to_onnx
    >>> net = neurosim.Network(seed=1)
    >>> _ = net.add_layer("i", 2, kind="input"); b = net.add_bias()
    >>> h = net.add_layer("h", 2, "tanh", connect_from=[net.inputs], bias=b)
    >>> _ = net.add_layer("o", 1, "sigmoid", output=True, connect_from=[h, net.inputs], bias=b)
    >>> model = to_onnx(net)
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    >>> bool(np.allclose(session.run(None, {"input": X})[0], net.forward(X), atol=1e-6))
    True
    """
    if dtype not in _DTYPES:
        raise DataError(f"dtype must be 'float32' or 'float64' (the ONNX model's tensor type), not {dtype!r}")
    if not isinstance(opset, int) or isinstance(opset, bool) or opset < 13:
        raise DataError(f"opset must be a whole number >= 13 (ONNX operator set; Split and ReduceSum take their "
                        f"sizes as inputs from 13 on), not {opset!r}")
    onnx = _require_onnx()
    if opset > onnx.defs.onnx_opset_version():
        raise DataError(f"opset {opset} is newer than the installed onnx {onnx.__version__} knows "
                        f"({onnx.defs.onnx_opset_version()}); give a smaller opset or upgrade onnx")
    _check_activations(net)
    plan = net.compile()
    model = _build(onnx, net, plan, np.dtype(_DTYPES[dtype]), opset, str(name))
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        atomic_write_all({path: model.SerializeToString()})
    return model


class _Graph:
    """The nodes and initialisers of the ONNX graph being built, with fresh tensor names."""

    def __init__(self, helper, numpy_helper, dtype: np.dtype):
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, dtype
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, values: Any, dtype: Any = None) -> str:
        name = self.fresh(stem)
        array = np.asarray(values, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str, n_out: int = 1, **attrs: Any):
        outputs = [self.fresh(stem) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op_type, inputs, outputs, name=self.fresh(op_type), **attrs))
        return outputs[0] if n_out == 1 else outputs


def _build(onnx, net, plan, dtype: np.dtype, opset: int, name: str):
    from onnx import helper, numpy_helper

    g = _Graph(helper, numpy_helper, dtype)
    graph = net.graph
    inputs = net.inputs
    col = {u: k for k, u in enumerate(inputs)}          # the state's columns: inputs, then levels
    state, width = "input", len(inputs)
    for k, lv in enumerate(plan.levels):
        members = plan.units[lv.start:lv.stop]
        net_in = _level_net(g, graph, members, col, state, width, k)
        # activations, one per segment (a softmax segment is one whole group)
        segments = [(seg.activation.name, seg.stop - seg.start) for seg in lv.segments]
        if len(segments) == 1:
            parts = [net_in]
        else:
            sizes = g.const(f"L{k}_split", [n for _, n in segments], np.int64)
            parts = g.op("Split", [net_in, sizes], f"L{k}_net", n_out=len(segments), axis=1)
        outs = []
        for (act, _), part in zip(segments, parts):
            attrs = {"axis": -1} if act == "softmax" else {}
            outs.append(g.op(ONNX_ACTIVATIONS[act], [part], f"L{k}_{act}", **attrs))
        level_out = outs[0] if len(outs) == 1 else g.op("Concat", outs, f"L{k}_out", axis=1)
        state = g.op("Concat", [state, level_out], f"state{k + 1}", axis=1)
        for u in members:
            col[u] = width
            width += 1
    out_cols = g.const("output_columns", [col[u] for u in net.outputs], np.int64)
    g.nodes.append(helper.make_node("Gather", [state, out_cols], ["output"], name="outputs", axis=1))
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    x_info = helper.make_tensor_value_info("input", elem, ["batch", len(inputs)])
    y_info = helper.make_tensor_value_info("output", elem, ["batch", len(net.outputs)])
    doc = (f"neurosim {__version__} network: {len(inputs)} inputs, {len(net.neurons)} neurons, "
           f"{len(net.outputs)} outputs; computes Network.forward")
    onnx_graph = helper.make_graph(g.nodes, name, [x_info], [y_info], initializer=g.initializers, doc_string=doc)
    model = helper.make_model(onnx_graph, producer_name="neurosim", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", opset)], doc_string=doc)
    model.ir_version = max(_IR_VERSION, helper.find_min_ir_version_for(model.opset_import, ignore_unknown=True))
    helper.set_model_props(model, {"neurosim.inputs": json.dumps([u.name for u in inputs]),
                                   "neurosim.outputs": json.dumps([u.name for u in net.outputs])})
    return model


def _level_net(g: _Graph, graph, members: list, col: dict, state: str, width: int, k: int) -> str:
    """The net inputs ``(batch, n)`` of one level's neurons: weighted sources plus bias."""
    n = len(members)
    bias = np.zeros(n)
    edges: list[tuple[int, int, float]] = []          # (neuron row, state column, weight)
    for r, v in enumerate(members):
        for u, data in graph.pred[v].items():
            if isinstance(u, BiasUnit):
                bias[r] += data["weight"]
            else:
                edges.append((r, col[u], data["weight"]))
    stem = f"L{k}"
    if not edges:
        # no neuron of the level reads a neuron or an input: net = 0 (+ bias) per pattern,
        # a product with a zero block keeps the batch dimension
        zeros = g.const(f"{stem}_zero", np.zeros((width, n)))
        net_in = g.op("MatMul", [state, zeros], f"{stem}_net")
    else:
        sources = sorted({c for _, c, _ in edges})
        fan_in = np.bincount([r for r, _, _ in edges], minlength=n)
        F = int(fan_in.max())
        if n > 1 and len(sources) * n > SPARSE_FACTOR * len(edges) and n * F < len(sources) * n:
            # per edge: slot f of neuron r reads state column idx[r, f] (padding: weight 0)
            idx = np.zeros((n, F), np.int64)
            W = np.zeros((n, F))
            slot = np.zeros(n, np.intp)
            for r, c, w in edges:
                idx[r, slot[r]], W[r, slot[r]] = c, w
                slot[r] += 1
            gathered = g.op("Gather", [state, g.const(f"{stem}_slots", idx.reshape(-1), np.int64)],
                            f"{stem}_gathered", axis=1)
            shaped = g.op("Reshape", [gathered, g.const(f"{stem}_shape", [-1, n, F], np.int64)], f"{stem}_slots3")
            products = g.op("Mul", [shaped, g.const(f"{stem}_W", W)], f"{stem}_messages")
            net_in = g.op("ReduceSum", [products, g.const(f"{stem}_axes", [2], np.int64)], f"{stem}_net",
                          keepdims=0)
        else:
            position = {c: j for j, c in enumerate(sources)}
            W = np.zeros((len(sources), n))
            for r, c, w in edges:
                W[position[c], r] = w
            if sources == list(range(width)):
                gathered = state
            else:
                gathered = g.op("Gather", [state, g.const(f"{stem}_sources", sources, np.int64)],
                                f"{stem}_sources", axis=1)
            net_in = g.op("MatMul", [gathered, g.const(f"{stem}_W", W)], f"{stem}_net")
    if np.any(bias != 0.0):
        net_in = g.op("Add", [net_in, g.const(f"{stem}_bias", bias)], f"{stem}_net")
    return net_in
