"""ONNX export (neurosim.exchange.to_onnx): onnxruntime computes what Network.forward computes.

The exported model of random DAGs (skip connections, mixed activations in one generation,
hidden and output softmax groups, several bias units, outputs that feed other neurons,
neurons without inputs) and of every shipped scenario's network is run in onnxruntime and
compared with ``net.forward``: to 1e-6 in float32 (the network itself in float32), to
1e-12 in float64. A plugin's activation is refused by name, and a missing onnx package
names the pip install that adds it. Skipped where the ``onnx`` extra is not installed
(except that last test).
"""

from __future__ import annotations

import doctest
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.errors import MissingExtraError, PluginError
from neurosim.exchange import to_onnx
from neurosim.sweep import is_sweep

try:
    import onnx
    import onnxruntime as ort
except ImportError:            # the core without the extra: only the missing-extra test runs
    onnx = ort = None

needs_onnx = pytest.mark.skipif(ort is None, reason="the onnx extra is not installed: pip install 'neurosim[onnx]'")

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SCENARIOS = [p for p in sorted((ROOT / "scenarios").glob("*.toml")) if not is_sweep(tomllib.loads(p.read_text()))]


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": X})[0]


@needs_onnx
@pytest.mark.parametrize("seed", range(12))
def test_random_dags_match_forward_in_float32_and_float64(random_case_factory, seed):
    case = random_case_factory(seed, split_group=seed % 3 == 0)
    net32 = case.build(np.float32)
    X32 = case.X.astype(np.float32)
    Y = _run(to_onnx(net32), X32)
    assert Y.dtype == np.float32 and Y.shape == (len(case.X), len(net32.outputs))
    np.testing.assert_allclose(Y, net32.forward(X32), rtol=1e-6, atol=1e-6)
    Y64 = _run(to_onnx(case.net, dtype="float64"), case.X)
    np.testing.assert_allclose(Y64, case.net.forward(case.X), rtol=1e-12, atol=1e-12)


def test_the_random_dags_have_what_the_export_must_handle(random_case_factory):
    # the cases above are not trivial: skips, softmax groups (hidden and output), dangling,
    # zero-input and bias-only neurons all occur in them
    facts = [random_case_factory(seed, split_group=seed % 3 == 0).info for seed in range(12)]
    for key in ("skip_edges", "hidden_softmax", "softmax_outputs", "zero_in", "bias_only", "dangling",
                "outputs_with_successors"):
        assert any(f[key] for f in facts), key


@needs_onnx
def test_sparse_levels_are_computed_per_edge_and_still_match():
    # 12 hidden neurons, each reading 2 of 24 inputs and the bias, then an output reading
    # them all: a dense block over the level's 24 sources would be 12 x 24 for 24 edges, so
    # the level goes through the per-edge kernel (Gather one slot per connection, Mul,
    # ReduceSum) instead of a mostly-zero MatMul
    rng = np.random.default_rng(3)
    net = neurosim.Network(seed=3)
    inputs = net.add_layer("x", 24, kind="input")
    b = net.add_bias()
    hidden = []
    for k in range(12):
        h = net.add_neuron(f"h{k}", ("tanh", "sigmoid", "relu", "identity")[k % 4])
        for src in (inputs[2 * k], inputs[(2 * k + 5) % 24], b):
            net.connect(src, h, weight=float(rng.normal()))
        hidden.append(h)
    net.add_layer("o", 2, "sigmoid", output=True, connect_from=[hidden, inputs[:3]], bias=b)
    model = to_onnx(net, dtype="float64")
    assert [node.op_type for node in model.graph.node].count("ReduceSum") == 1
    X = rng.uniform(-1.0, 1.0, size=(7, 24))
    np.testing.assert_allclose(_run(model, X), net.forward(X), rtol=0, atol=1e-12)
    net32 = neurosim.Network.from_dict({**net.to_dict(), "dtype": "float32"})
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(_run(to_onnx(net32), X32), net32.forward(X32), rtol=1e-6, atol=1e-6)


@needs_onnx
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_network_exports(path):
    net = neurosim.load_scenario(path).build_network()
    X = np.random.default_rng(5).uniform(-1.0, 1.0, size=(9, len(net.inputs)))
    np.testing.assert_allclose(_run(to_onnx(net, dtype="float64"), X), net.forward(X), rtol=0, atol=1e-12)
    net32 = neurosim.Network.from_dict({**net.to_dict(), "dtype": "float32"})
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(_run(to_onnx(net32), X32), net32.forward(X32), rtol=1e-6, atol=1e-6)


@needs_onnx
def test_the_worked_example_in_onnx_gives_its_outputs():
    # Mazur's 2-2-2 net: out_o1 = 0.75136507, out_o2 = 0.772928465 for inputs (0.05, 0.10)
    net = neurosim.load_scenario(ROOT / "scenarios" / "mazur.toml").build_network()
    Y = _run(to_onnx(net, dtype="float64"), np.array([[0.05, 0.10]]))
    np.testing.assert_allclose(Y, [[0.75136507, 0.772928465]], atol=5e-9)


@needs_onnx
def test_model_is_valid_written_atomically_and_names_its_columns(tmp_path, xor_net):
    net = xor_net()
    path = tmp_path / "xor.onnx"
    model = to_onnx(net, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xor.onnx"]          # no temporary left
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded, full_check=True)
    props = {p.key: p.value for p in loaded.metadata_props}
    assert json.loads(props["neurosim.inputs"]) == ["i1", "i2"]
    assert json.loads(props["neurosim.outputs"]) == ["o1"]
    assert [i.name for i in loaded.graph.input] == ["input"] and [o.name for o in loaded.graph.output] == ["output"]
    assert loaded.SerializeToString() == model.SerializeToString()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    np.testing.assert_allclose(session.run(None, {"input": X})[0], net.forward(X), atol=1e-6)


@needs_onnx
@pytest.mark.parametrize("opset", [13, 17, 21])
def test_older_and_newer_opsets_run_alike(opset):
    net = neurosim.load_scenario(ROOT / "scenarios" / "two_spirals.toml").build_network()
    X = np.random.default_rng(1).uniform(-6.0, 6.0, size=(20, 2))
    model = to_onnx(net, dtype="float64", opset=opset)
    assert model.opset_import[0].version == opset
    np.testing.assert_allclose(_run(model, X), net.forward(X), rtol=0, atol=1e-12)


@needs_onnx
def test_a_plugin_activation_is_refused_by_neuron_and_name(refused):
    net = neurosim.Network(plugins=[DATA / "plugin_module.py"], seed=0)
    net.add_input("x")
    net.add_neuron("h", "softplus")
    net.add_neuron("y", "sigmoid", output=True)
    net.connect("x", "h")
    net.connect("h", "y")
    refused(PluginError, ["neuron 'h'", "'softplus'", "identity, sigmoid, tanh, relu, softmax"], to_onnx, net)


@needs_onnx
def test_bad_options_are_refused(refused, xor_net, tmp_path):
    refused(neurosim.DataError, ["dtype", "'float16'"], to_onnx, xor_net(), dtype="float16")
    refused(neurosim.DataError, ["opset", "13"], to_onnx, xor_net(), opset=11)
    refused(neurosim.DataError, ["opset 999 is newer than the installed onnx"], to_onnx, xor_net(), opset=999)
    refused(neurosim.DataError, ["does not exist"], to_onnx, xor_net(), tmp_path / "missing" / "x.onnx")


def test_a_missing_onnx_package_names_the_extra(monkeypatch, refused, xor_net):
    monkeypatch.setitem(sys.modules, "onnx", None)           # import onnx now raises ImportError
    err = refused(MissingExtraError, ["pip install 'neurosim[onnx]'"], to_onnx, xor_net())
    assert isinstance(err, ImportError)


@needs_onnx
def test_the_docstring_example_runs():
    import neurosim.exchange.onnx as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@needs_onnx
def test_cli_exports_a_results_folder_to_onnx(tmp_path, capsys):
    from neurosim.cli import main

    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios" / "xor_skip.toml"), "--out", str(out), "-q"]) == 0
    assert main(["export", str(out), "--format", "onnx", "--out", str(tmp_path / "xor.onnx")]) == 0
    assert "wrote" in capsys.readouterr().out
    net = neurosim.Network.from_dict(json.loads((out / "network.json").read_text()))
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    session = ort.InferenceSession(str(tmp_path / "xor.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": X})[0], net.forward(X), atol=1e-6)
