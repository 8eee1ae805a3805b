"""FANN .net files (neurosim.exchange.read_fann / write_fann) against hand-computed values and FANN itself.

Three files written by hand (tests/data/fann/: a fully connected layered net, a sparse one
with a skip connection, a shortcut net, with FANN's steepness in play) import to networks
whose outputs are the values worked out by hand from FANN's formulas. Corrupt and
truncated files are refused naming the file and the line or field. Where the FANN library
is installed (``apt-get install libfann-dev``) it is driven through ctypes (double
precision, libdoublefann): networks FANN creates and trains (layered, shortcut, sparse)
open in neurosim with FANN's outputs, and neurosim networks (random DAGs with skip
connections, several bias units, outputs that feed other neurons, neurons without inputs,
the shipped scenarios) open in FANN, which computes their outputs and trains them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import doctest
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.cli import main
from neurosim.datafiles import write_fann as write_patterns
from neurosim.exchange import read_fann, write_fann
from neurosim.exchange.fann import fann_text
from neurosim.io import FileError
from neurosim.sweep import is_sweep

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
HAND = DATA / "fann"

#: The five patterns every hand-written file is checked on.
PATTERNS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0), (0.5, -2.0)]


def _logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


# --- hand-written files, no FANN needed ---------------------------------------------------------

# xor_221.net: layered, connection_rate=1. Hidden FANN_SIGMOID with steepness 0.5, i.e.
# 1/(1+e^(-2*0.5*net)), the logistic; weights (1, 1, bias -0.5) and (1, 1, bias -1.5).
# Output FANN_LINEAR, steepness 1: o = h1 - 2 h2 (bias weight 0).
XOR_221 = [0.012689621185432709, -0.13262200639443622, -0.13262200639443622, -0.42734418621006554,
           0.024351175666983985]
# skip_sparse.net: connection_rate=0.5. h = FANN_SIGMOID_SYMMETRIC, steepness 0.5, from i1
# (2.0) and the input bias (-1.0): tanh(0.5 (2 x1 - 1)). o = FANN_SIGMOID, steepness 1, from
# h (1.5), i2 (-1.0, a skip connection) and layer 1's bias (0.25): 1/(1+e^(-2 (1.5 h - x2 + 0.25))).
SKIP_SPARSE = [0.2918633290189391, 0.05283239733808902, 0.8683389677259364, 0.47161840939462474,
               0.9890130573694068]
# shortcut.net: network_type=1 (shortcut), connection_rate=1, so every neuron reads every
# earlier one. h = FANN_LINEAR, steepness 0.5: 0.5 (x1 + 2 x2 + 0.5). o =
# FANN_SIGMOID_SYMMETRIC, steepness 1: tanh(-x1 + 0.5 x2 + 0.1 + h).
SHORTCUT = [0.3363755443363322, 0.9517459571646616, -0.148885033623318, 0.874053287886007,
            -0.9939631673505831]
HAND_FILES = {"xor_221.net": XOR_221, "skip_sparse.net": SKIP_SPARSE, "shortcut.net": SHORTCUT}


def test_the_hand_values_follow_from_fanns_formulas():
    # the constants above, recomputed from the formulas in the comments
    for (x1, x2), a, b, c in zip(PATTERNS, XOR_221, SKIP_SPARSE, SHORTCUT):
        assert a == pytest.approx(_logistic(x1 + x2 - 0.5) - 2 * _logistic(x1 + x2 - 1.5), abs=1e-15)
        assert b == pytest.approx(_logistic(2 * (1.5 * math.tanh(0.5 * (2 * x1 - 1)) - x2 + 0.25)), abs=1e-15)
        assert c == pytest.approx(math.tanh(-x1 + 0.5 * x2 + 0.1 + 0.5 * (x1 + 2 * x2 + 0.5)), abs=1e-15)


@pytest.mark.parametrize("name", sorted(HAND_FILES))
def test_hand_written_files_give_the_hand_computed_outputs(name):
    net = read_fann(HAND / name)
    Y = net.forward(np.array(PATTERNS))
    np.testing.assert_allclose(Y[:, 0], HAND_FILES[name], rtol=0, atol=1e-15)


def test_steepness_is_folded_into_the_weights():
    # FANN_SIGMOID with steepness s is the logistic of 2s*net: s = 0.5 keeps the weights, s = 1
    # doubles them; FANN_SIGMOID_SYMMETRIC and FANN_LINEAR multiply them by s
    xor = read_fann(HAND / "xor_221.net")
    assert [u.activation for u in xor.neurons] == ["sigmoid", "sigmoid", "identity"]
    assert xor.weights() == {("i1", "h1_1"): 1.0, ("i2", "h1_1"): 1.0, ("b0", "h1_1"): -0.5,
                             ("i1", "h1_2"): 1.0, ("i2", "h1_2"): 1.0, ("b0", "h1_2"): -1.5,
                             ("h1_1", "o1"): 1.0, ("h1_2", "o1"): -2.0, ("b1", "o1"): 0.0}
    skip = read_fann(HAND / "skip_sparse.net")
    assert [(u.name, u.activation) for u in skip.neurons] == [("h1_1", "tanh"), ("o1", "sigmoid")]
    assert skip.weights() == {("i1", "h1_1"): 1.0, ("b0", "h1_1"): -0.5,
                              ("h1_1", "o1"): 3.0, ("i2", "o1"): -2.0, ("b1", "o1"): 0.5}
    short = read_fann(HAND / "shortcut.net")
    assert [b.name for b in short.biases] == ["b0"]
    assert short.weights() == {("i1", "h1_1"): 0.5, ("i2", "h1_1"): 1.0, ("b0", "h1_1"): 0.25,
                               ("i1", "o1"): -1.0, ("i2", "o1"): 0.5, ("b0", "o1"): 0.1, ("h1_1", "o1"): 1.0}


@pytest.mark.parametrize("name", sorted(HAND_FILES))
def test_neurosim_round_trip_keeps_the_outputs(name, tmp_path):
    net = read_fann(HAND / name, dtype=np.float64)
    write_fann(net, tmp_path / "again.net")
    again = read_fann(tmp_path / "again.net")
    X = np.array(PATTERNS)
    np.testing.assert_array_equal(again.forward(X), net.forward(X))
    # the same weights; only the bias units may be others (a shortcut net's one bias neuron
    # becomes the bias neuron of the layer before each neuron's)
    assert sorted(again.weights().values()) == sorted(net.weights().values())
    same = {edge: w for edge, w in net.weights().items() if not edge[0].startswith("b")}
    assert {edge: w for edge, w in again.weights().items() if not edge[0].startswith("b")} == same


def test_a_layered_fully_connected_net_is_written_as_fann_writes_one():
    # Mazur's 2-2-2 net, b1 into the hidden layer and b2 into the outputs: FANN's own layout,
    # layer k's bias neuron last and feeding layer k + 1, connection_rate=1
    net = neurosim.load_scenario(ROOT / "scenarios" / "mazur.toml").build_network()
    lines = dict(line.split("=", 1) for line in fann_text(net).splitlines()[1:])
    assert lines["connection_rate"] == "1.000000"
    assert lines["layer_sizes"] == "3 3 3 "
    assert lines["neurons (num_inputs, activation_function, activation_steepness)"].count(
        "(3, 3, 5.00000000000000000000e-01)") == 4
    weights = [float(w) for w in
               lines["connections (connected_to_neuron, weight)"].replace("(", "").replace(")", ",").split(",")[1::2]
               if w.strip()]
    assert weights == [0.15, 0.20, 0.35, 0.25, 0.30, 0.35, 0.40, 0.45, 0.60, 0.50, 0.55, 0.60]


def test_an_output_that_feeds_others_is_relayed_into_the_last_layer(tmp_path):
    net = neurosim.Network(seed=2)
    net.add_input("x")
    b = net.add_bias()
    h = net.add_neuron("h", "tanh", output=True)         # an output that feeds o
    o = net.add_neuron("o", "sigmoid", output=True)
    lonely = net.add_neuron("z", "sigmoid")               # no inputs: outputs f(0) = 0.5
    net.connect("x", h, weight=0.7)
    net.connect(b, h, weight=-0.2)
    net.connect(h, o, weight=1.3)
    net.connect(lonely, o, weight=2.0)
    net.connect("x", o, weight=-0.4)
    text = fann_text(net)
    assert "layer_sizes=2 3 3 " in text                   # [x, bias] [h, z, bias] [relay of h, o, bias]
    write_fann(net, tmp_path / "relay.net")
    back = read_fann(tmp_path / "relay.net")
    X = np.array([[-1.0], [0.0], [0.5], [2.0]])
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    assert [u.activation for u in back.outputs] == ["identity", "sigmoid"]


def test_activations_fann_cannot_express_are_refused_by_neuron(refused, tmp_path):
    for act, why in (("relu", "no rectifier"), ("softmax", "no softmax")):
        net = neurosim.Network(seed=0)
        net.add_input("x")
        net.add_layer("out", 2, act, output=True, connect_from=[net.inputs])
        refused(neurosim.PluginError, ["neuron 'out1'", repr(act), why], write_fann, net, tmp_path / "x.net")
    plugin = neurosim.Network(plugins=[DATA / "plugin_module.py"], seed=0)
    plugin.add_input("x")
    plugin.add_neuron("soft", "softplus", output=True)
    plugin.connect("x", "soft")
    refused(neurosim.PluginError, ["neuron 'soft'", "'softplus'", "plugin"], write_fann, plugin, tmp_path / "x.net")
    assert not list(tmp_path.iterdir())


def test_relu_with_rectifier_is_fann_linear_piece_rect(tmp_path, capsys):
    net = neurosim.Network(seed=1)
    net.add_input("x")
    net.add_neuron("r", "relu", output=True)
    net.connect("x", "r", weight=-1.5)
    assert "(1, 18, 1.00000000000000000000e+00)" in fann_text(net, rectifier=True)
    write_fann(net, tmp_path / "r.net", rectifier=True)
    np.testing.assert_array_equal(read_fann(tmp_path / "r.net").forward([[-2.0], [3.0]]), [[3.0], [0.0]])
    # the same from the command line: refused as FANN 2.2 has no rectifier, written with --rectifier
    net.save(tmp_path / "relu.json")
    out = tmp_path / "cli.net"
    assert main(["export", str(tmp_path / "relu.json"), "--format", "fann", "--out", str(out)]) == 2
    assert "neurosim export --rectifier" in capsys.readouterr().err and not out.exists()
    assert main(["export", str(tmp_path / "relu.json"), "--format", "fann", "--out", str(out), "--rectifier"]) == 0
    assert out.read_text() == (tmp_path / "r.net").read_text()


# --- corrupt files -----------------------------------------------------------------------------


def _line_of(text, key):
    return next(n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(key))


def _corrupt(tmp_path, text, name="bad.net"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_corrupt_and_truncated_files_name_the_file_and_line(refused, tmp_path):
    good = (HAND / "xor_221.net").read_text()
    conn = _line_of(good, "connections")
    neur = _line_of(good, "neurons")
    cut = good[:good.index("(4, -2.0")]                        # truncated in the middle of the connections
    path = _corrupt(tmp_path, cut)
    refused(FileError, [str(path), f"line {conn}", "connections", "lists 7 connections", "call for 9", "truncated"],
            read_fann, path)
    path = _corrupt(tmp_path, good[:good.index("connections (")])
    refused(FileError, [str(path), "connections (connected_to_neuron, weight)= is missing", "truncated"],
            read_fann, path)
    path = _corrupt(tmp_path, good.replace("(3, 1.00000000000000000000e+00)", "(3, 1.0x)"))
    refused(FileError, [str(path), f"line {conn}", "connection 7 cannot be read at '(3, 1.0x)"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("(3, 1.00000000000000000000e+00)", "(3, nan)"))
    refused(FileError, [str(path), f"line {conn}", "connection 6: weight is nan"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("(3, 3, 5.00000000000000000000e-01) ", "", 1))
    refused(FileError, [str(path), f"line {neur}", "lists 7 neurons", "call for 8"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("layer_sizes=3 3 2 ", "layer_sizes=3 3 "))
    refused(FileError, [str(path), "layer_sizes lists 2 layers", "num_layers=3"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("layer_sizes=3 3 2 ", "layer_sizes=3 x 2"))
    refused(FileError, [str(path), "layer_sizes='3 x 2' must be whole numbers"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("layer_sizes=3 3 2 ", "layer_sizes=1 3 2"))
    refused(FileError, [str(path), "layer 0 has 1 neurons; the input layer needs an input and its bias neuron"],
            read_fann, path)
    path = _corrupt(tmp_path, good.replace("num_layers=3", "num_layers=three"))
    refused(FileError, [str(path), "line 2", "num_layers='three' is not a whole number"], read_fann, path)
    path = _corrupt(tmp_path, "")
    refused(FileError, [str(path), "line 1", "empty", "FANN_FLO_2.1"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("FANN_FLO_2.1", "FANN_FIX_2.0"))
    refused(FileError, [str(path), "fixed-point"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("FANN_FLO_2.1", "FANN_FLO_1.1"))
    refused(FileError, [str(path), "old FANN format FANN_FLO_1.1"], read_fann, path)
    path = _corrupt(tmp_path, "3 2 1\n0 0\n0\n")
    refused(FileError, [str(path), "is not a FANN network file", "'3 2 1'"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("network_type=0", "network_type=7"))
    refused(FileError, [str(path), "network_type=7"], read_fann, path)
    path = _corrupt(tmp_path, good + "num_layers=3\n")
    refused(FileError, [str(path), "num_layers is given twice (first on line 2)"], read_fann, path)
    refused(FileError, [str(tmp_path / "none.net"), "no such file"], read_fann, tmp_path / "none.net")


def test_connections_that_fann_would_compute_otherwise_are_refused(refused, tmp_path):
    good = (HAND / "xor_221.net").read_text()
    conn = _line_of(good, "connections")
    # with connection_rate=1 FANN ignores connected_to_neuron and reads the previous layer in order
    path = _corrupt(tmp_path, good.replace("(1, 1.00000000000000000000e+00)", "(0, 1.00000000000000000000e+00)", 1))
    refused(FileError, [str(path), f"line {conn}", "connection 1 (into neuron 3) comes from neuron 0",
                        "connects it to neuron 1"], read_fann, path)
    # with an explicit list, a connection from the same or a later layer is not feed-forward
    sparse = (HAND / "skip_sparse.net").read_text()
    path = _corrupt(tmp_path, sparse.replace("(3, 1.50000000000000000000e+00)", "(5, 1.50000000000000000000e+00)"))
    refused(FileError, [str(path), "connection 2 into neuron 5 (layer 2) comes from neuron 5, which is in layer 2",
                        "earlier layers"], read_fann, path)
    path = _corrupt(tmp_path, sparse.replace("(3, 1.50000000000000000000e+00)", "(40, 1.50000000000000000000e+00)"))
    refused(FileError, [str(path), "neuron 40, which does not exist"], read_fann, path)
    path = _corrupt(tmp_path, good.replace("(0, 0, 0.00000000000000000000e+00)", "(2, 0, 0.00000000000000000000e+00)",
                                           1))
    refused(FileError, [str(path), "neuron 0 is in the input layer and lists 2 connections"], read_fann, path)


def test_fann_activations_without_a_neurosim_equivalent_are_refused_by_neuron(refused, tmp_path):
    good = (HAND / "xor_221.net").read_text()
    path = _corrupt(tmp_path, good.replace("(3, 3, 5.00000000000000000000e-01)", "(3, 4, 5.00000000000000000000e-01)",
                                           1))
    refused(neurosim.PluginError, [str(path), "neuron 3 (layer 1, imported as 'h1_1')", "FANN_SIGMOID_STEPWISE",
                                   "FANN_LINEAR, FANN_SIGMOID, FANN_SIGMOID_SYMMETRIC"], read_fann, path)


def test_the_fann_module_docstring_examples_run():
    import neurosim.exchange.fann as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_cli_imports_a_fann_file_and_exports_it_again(tmp_path, capsys):
    out = tmp_path / "network.json"
    assert main(["import", str(HAND / "skip_sparse.net"), "--out", str(out)]) == 0
    net = neurosim.Network.from_dict(json.loads(out.read_text()))
    np.testing.assert_allclose(net.forward(np.array(PATTERNS))[:, 0], SKIP_SPARSE, rtol=0, atol=1e-15)
    assert main(["export", str(out), "--format", "fann", "--out", str(tmp_path / "again.net")]) == 0
    again = read_fann(tmp_path / "again.net")
    np.testing.assert_array_equal(again.forward(np.array(PATTERNS)), net.forward(np.array(PATTERNS)))
    bad = tmp_path / "bad.net"
    bad.write_text("FANN_FLO_2.1\nnum_layers=3\n")
    assert main(["import", str(bad), "--out", str(tmp_path / "n.json")]) == 2
    assert f"error: {bad}: connection_rate= is missing" in capsys.readouterr().err
    assert not (tmp_path / "n.json").exists()


# --- against the FANN library -------------------------------------------------------------------

FANN_SIGMOID, FANN_SIGMOID_SYMMETRIC, FANN_LINEAR = 3, 5, 0
FANN_TRAIN_RPROP = 2


class FANN:
    """The parts of libdoublefann (FANN's double-precision build) the tests use, via ctypes."""

    def __init__(self, lib):
        self.lib = lib
        p, u, d, s = ctypes.c_void_p, ctypes.c_uint, ctypes.c_double, ctypes.c_char_p
        for fname, res, args in (
                ("fann_create_from_file", p, [s]), ("fann_save", ctypes.c_int, [p, s]), ("fann_destroy", None, [p]),
                ("fann_run", ctypes.POINTER(d), [p, ctypes.POINTER(d)]),
                ("fann_get_num_input", u, [p]), ("fann_get_num_output", u, [p]),
                ("fann_create_standard_array", p, [u, ctypes.POINTER(u)]),
                ("fann_create_shortcut_array", p, [u, ctypes.POINTER(u)]),
                ("fann_create_sparse_array", p, [ctypes.c_float, u, ctypes.POINTER(u)]),
                ("fann_set_activation_function_hidden", None, [p, ctypes.c_int]),
                ("fann_set_activation_function_output", None, [p, ctypes.c_int]),
                ("fann_set_activation_steepness_hidden", None, [p, d]),
                ("fann_set_activation_steepness_output", None, [p, d]),
                ("fann_randomize_weights", None, [p, d, d]),
                ("fann_set_training_algorithm", None, [p, ctypes.c_int]),
                ("fann_read_train_from_file", p, [s]), ("fann_destroy_train", None, [p]),
                ("fann_train_on_data", None, [p, p, u, u, ctypes.c_float]),
                ("fann_train_epoch", ctypes.c_float, [p, p]), ("fann_test_data", ctypes.c_float, [p, p])):
            fn = getattr(lib, fname)
            fn.restype, fn.argtypes = res, args
        self.libc = ctypes.CDLL(None)

    def load(self, path):
        ann = self.lib.fann_create_from_file(str(path).encode())
        assert ann, f"FANN could not load {path}"
        return ann

    def run(self, ann, X):
        n_in, n_out = self.lib.fann_get_num_input(ann), self.lib.fann_get_num_output(ann)
        X = np.asarray(X, dtype=np.float64)
        assert X.shape[1] == n_in
        return np.array([self.lib.fann_run(ann, (ctypes.c_double * n_in)(*x))[:n_out] for x in X])

    def seed(self, value):
        # fann_randomize_weights draws with the C library's rand()
        self.libc.srand(value)

    def layers(self, sizes):
        return len(sizes), (ctypes.c_uint * len(sizes))(*sizes)


@pytest.fixture(scope="module")
def fann():
    """The FANN library (double precision), or a skip saying how to install it."""
    names = [ctypes.util.find_library("doublefann"), "libdoublefann.so.2", "libdoublefann.so"]
    for name in filter(None, names):
        try:
            return FANN(ctypes.CDLL(name))
        except OSError:
            continue
    pytest.skip("FANN not installed: apt-get install libfann-dev")


@pytest.mark.parametrize("name", sorted(HAND_FILES))
def test_fann_computes_the_hand_values_of_the_hand_written_files(fann, name):
    ann = fann.load(HAND / name)
    np.testing.assert_allclose(fann.run(ann, PATTERNS)[:, 0], HAND_FILES[name], rtol=0, atol=1e-15)
    fann.lib.fann_destroy(ann)


def _xor_data(tmp_path):
    X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    T = np.array([[0.0], [1.0], [1.0], [0.0]])
    path = tmp_path / "xor.data"
    write_patterns(path, neurosim.Patterns(X, T))
    return X, path


@pytest.mark.parametrize("kind", ["standard", "shortcut", "sparse"])
def test_a_fann_trained_network_opens_with_fanns_outputs(fann, tmp_path, kind):
    X, data_path = _xor_data(tmp_path)
    n, sizes = fann.layers([2, 4, 3, 1])
    data = fann.lib.fann_read_train_from_file(str(data_path).encode())
    # FANN seeds rand() from /dev/urandom when it makes a network, so a sparse net's
    # connections are drawn anew each run, and about one draw in fifteen is one rprop does
    # not train in 200 epochs: up to five draws (a standard or shortcut net is made once)
    for _ in range(5 if kind == "sparse" else 1):
        if kind == "standard":
            ann = fann.lib.fann_create_standard_array(n, sizes)
        elif kind == "shortcut":
            ann = fann.lib.fann_create_shortcut_array(n, sizes)
        else:
            ann = fann.lib.fann_create_sparse_array(0.6, n, sizes)
        fann.lib.fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC)
        fann.lib.fann_set_activation_steepness_hidden(ann, 0.75)        # tanh(0.75 net): weights x 0.75
        fann.lib.fann_set_activation_function_output(ann, FANN_SIGMOID)
        fann.lib.fann_set_activation_steepness_output(ann, 0.9)         # logistic(1.8 net): weights x 1.8
        fann.seed(11)
        fann.lib.fann_randomize_weights(ann, -0.7, 0.7)
        fann.lib.fann_set_training_algorithm(ann, FANN_TRAIN_RPROP)
        before = fann.lib.fann_test_data(ann, data)
        fann.lib.fann_train_on_data(ann, data, 200, 0, 0.0)
        after = fann.lib.fann_test_data(ann, data)
        if after < before:
            break
        fann.lib.fann_destroy(ann)
    assert after < before                                 # FANN did train it
    assert fann.lib.fann_save(ann, str(tmp_path / "trained.net").encode()) == 0
    net = read_fann(tmp_path / "trained.net")
    assert len(net.neurons) == 8 and [u.activation for u in net.outputs] == ["sigmoid"]
    grid = np.random.default_rng(4).uniform(-1.5, 1.5, size=(25, 2))
    for P in (X, grid):
        np.testing.assert_allclose(net.forward(P), fann.run(ann, P), rtol=0, atol=1e-12)
    fann.lib.fann_destroy_train(data)
    fann.lib.fann_destroy(ann)


def _fann_ready(case):
    """The case's network with activations FANN has: relu -> tanh, softmax -> sigmoid (no group)."""
    swap = {"relu": "tanh", "softmax": "sigmoid"}
    neurons = tuple((n, swap.get(a, a), o, None) for n, a, o, _ in case.spec.neurons)
    return dataclasses.replace(case.spec, neurons=neurons)


@pytest.mark.parametrize("seed", range(10))
def test_a_neurosim_dag_opens_in_fann_with_its_outputs(fann, random_case_factory, spec_network, tmp_path, seed):
    case = random_case_factory(seed)
    net = spec_network(_fann_ready(case))
    path = write_fann(net, tmp_path / "dag.net")
    ann = fann.load(path)
    assert fann.lib.fann_get_num_output(ann) == len(net.outputs)
    X = np.vstack([case.X, np.random.default_rng(seed).uniform(-2, 2, size=(10, len(net.inputs)))])
    np.testing.assert_allclose(fann.run(ann, X), net.forward(X), rtol=0, atol=1e-13)
    # FANN's own fann_save of it reads back to the same outputs
    assert fann.lib.fann_save(ann, str(tmp_path / "resaved.net").encode()) == 0
    np.testing.assert_allclose(read_fann(tmp_path / "resaved.net").forward(X), net.forward(X), rtol=0, atol=1e-13)
    fann.lib.fann_destroy(ann)



def test_the_random_dags_have_what_fann_export_must_handle(random_case_factory):
    facts = [random_case_factory(seed).info for seed in range(10)]
    for key in ("skip_edges", "zero_in", "bias_only", "dangling", "outputs_with_successors"):
        assert any(f[key] for f in facts), key
    assert all(len(f["biases_used"]) >= 2 for f in facts)


@pytest.mark.parametrize("path", [p for p in sorted((ROOT / "scenarios").glob("*.toml"))
                                  if not is_sweep(tomllib.loads(p.read_text()))], ids=lambda p: p.stem)
def test_shipped_scenario_networks_open_in_fann(fann, tmp_path, path):
    net = neurosim.load_scenario(path).build_network()
    if any(u.activation in ("softmax", "relu") for u in net.neurons):
        pytest.skip(f"{path.name} uses an activation FANN 2.2 lacks (refusal tested above)")
    ann = fann.load(write_fann(net, tmp_path / "net.net"))
    X = np.random.default_rng(8).uniform(-1.0, 1.0, size=(12, len(net.inputs)))
    np.testing.assert_allclose(fann.run(ann, X), net.forward(X), rtol=0, atol=1e-13)
    fann.lib.fann_destroy(ann)


def test_fann_trains_an_exported_dag_with_skip_connections(fann, tmp_path):
    # the 2-1-1 XOR net with skip connections x -> o: FANN's RPROP (its default) trains the
    # explicit connection list, and the trained file comes back to neurosim with FANN's outputs
    net = neurosim.load_scenario(ROOT / "scenarios" / "xor_skip.toml").build_network()
    X, data_path = _xor_data(tmp_path)
    ann = fann.load(write_fann(net, tmp_path / "skip.net"))
    data = fann.lib.fann_read_train_from_file(str(data_path).encode())
    before = fann.lib.fann_test_data(ann, data)
    for _ in range(300):
        fann.lib.fann_train_epoch(ann, data)
    after = fann.lib.fann_test_data(ann, data)
    assert after < before / 10
    fann.lib.fann_save(ann, str(tmp_path / "trained.net").encode())
    trained = read_fann(tmp_path / "trained.net")
    np.testing.assert_allclose(trained.forward(X), fann.run(ann, X), rtol=0, atol=1e-14)
    assert {(s, d) for s, d in trained.weights() if s.startswith("i") and d == "o1"}     # the skips survived
    fann.lib.fann_destroy_train(data)
    fann.lib.fann_destroy(ann)


def test_bias_units_map_to_earlier_layers_bias_neurons(tmp_path):
    # h (layer 1) reads two bias units: both can only be the input layer's bias neuron, so
    # FANN lists it twice and the import merges the two into one edge (their sum); o (layer
    # 2) reads two bias units: the bias neurons of layers 1 and 0
    net = neurosim.Network(seed=0)
    net.add_input("x")
    for name in ("p", "q"):
        net.add_bias(name)
    net.add_neuron("h", "tanh")
    net.add_neuron("o", "sigmoid", output=True)
    for src, dst, w in (("x", "h", 0.5), ("p", "h", 0.25), ("q", "h", -1.0), ("h", "o", 2.0), ("p", "o", 0.125),
                        ("q", "o", -0.375)):
        net.connect(src, dst, weight=w)
    text = fann_text(net)
    assert "connections (connected_to_neuron, weight)=(0, 5.0" in text
    assert "(1, 2.50000000000000000000e-01) (1, -1.00000000000000000000e+00)" in text    # the input bias, twice
    assert "(3, 1.25000000000000000000e-01) (1, -3.75000000000000000000e-01)" in text    # layer 1's, then layer 0's
    back = read_fann(write_fann(net, tmp_path / "biases.net"))
    assert back.weights() == {("i1", "h1_1"): 0.5, ("b0", "h1_1"): -0.75, ("h1_1", "o1"): 2.0, ("b1", "o1"): 0.125,
                              ("b0", "o1"): -0.375}
    X = np.array([[-1.0], [0.3], [2.0]])
    np.testing.assert_allclose(back.forward(X), net.forward(X), rtol=0, atol=1e-15)
