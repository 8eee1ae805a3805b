"""Tests of ``net.save(path)`` and ``neurosim.load(path)``: the ``neurosim-network`` JSON file (docs/network-format.md). Random DAGs from the conftest factory (skip connections, several bias units, hidden and output softmax groups, outputs that feed other neurons, dangling neurons, frozen edges, labels, tied sets, scaling, float32) and every shipped scenario come back exact to the bit: weights compared as bit patterns, forward outputs, gradients and a few epochs of training with ``np.array_equal``, and a second save gives the same bytes. The file records the format version, the neurosim that wrote it and every plugin with the distribution and version that provided it; files ``neurosim run --out`` wrote before those entries existed (tests/data/network_files) still load, with the worked example's trained weights. Refusals: a plugin that is not installed (named, with the distribution to install or the file to pass), a newer format version (with the version needed), a file that is empty, not JSON, cut short at any point, of wrong types, with missing keys, NaN or null weights, an edge to a unit that does not exist, a duplicate, a cycle; every message starts with the file. Saving is atomic, and pickle and deepcopy agree with the file.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.io import FileError
from neurosim.sweep import is_sweep

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
OLD_FILES = DATA / "network_files"
SCENARIOS = [p for p in sorted((REPO / "scenarios").glob("*.toml")) if not is_sweep(tomllib.loads(p.read_text()))]


# --- helpers -------------------------------------------------------------------------------


def bits(net: neurosim.Network) -> dict:
    """``{(src, dst): the weight's bit pattern}`` in the network's dtype."""
    names = list(net.weights())
    values = np.array([net.weights()[k] for k in names], dtype=net.dtype)
    return dict(zip(names, values.view(np.uint64 if net.dtype == np.float64 else np.uint32).tolist()))


def structure(net: neurosim.Network) -> dict:
    """Everything about a network but its weights, as plain data."""
    return {
        "dtype": str(net.dtype),
        "units": [(u.name, u.kind, getattr(u, "activation", None), getattr(u, "group", None)) for u in net],
        "inputs": [u.name for u in net.inputs], "biases": [u.name for u in net.biases],
        "outputs": [u.name for u in net.outputs],
        "preds": {v.name: [u.name for u in v.predecessors] for v in net.neurons},
        "trainable": {(u, v): net.trainable(u, v) for u, v in net.weights()},
        "labels": {(u, v): net.edge_label(u, v) for u, v in net.weights()},
        "ties": {name: (tie.edges, tie.reduce) for name, tie in net.ties.items()},
        "scaling": net.scaling.to_dict() if net.scaling is not None else None,
        "init": (net.initializer.name, net.init_options),
    }


def assert_same(a: neurosim.Network, b: neurosim.Network, X=None, T=None, loss: str = "mse") -> None:
    """``b`` equals ``a``: structure, weight bits, and (given data) forward, gradients, training."""
    assert structure(b) == structure(a)
    assert bits(b) == bits(a)
    if X is None:
        return
    assert np.array_equal(b.forward(X), a.forward(X))
    if T is None:
        return
    Ea, ga = a.gradients(X, T, loss)
    Eb, gb = b.gradients(X, T, loss)
    assert Eb == Ea and gb == ga
    ha = a.train(X, T, loss, learning_rate=0.05, epochs=3, mode="batch", momentum=0.5)
    hb = b.train(X, T, loss, learning_rate=0.05, epochs=3, mode="batch", momentum=0.5)
    assert np.array_equal(hb, ha) and bits(b) == bits(a)


def round_trip(net: neurosim.Network, folder: Path, **kwargs) -> neurosim.Network:
    """Save ``net`` into ``folder``, load it back, and check a second save writes the same bytes."""
    path = net.save(folder / "net.json")
    back = neurosim.load(path, **kwargs)
    again = back.save(folder / "again.json")
    assert again.read_bytes() == path.read_bytes()
    return back


def saved(tmp_path: Path, net: neurosim.Network | None = None) -> tuple[Path, dict]:
    """The worked example's network saved to ``tmp_path/net.json``; the path and its JSON."""
    if net is None:
        net = neurosim.load_scenario(REPO / "scenarios" / "mazur.toml").check()
    path = net.save(tmp_path / "net.json")
    return path, json.loads(path.read_text())


def write(tmp_path: Path, data, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return path


# --- exact round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(15))
def test_random_dags_round_trip_to_the_bit(random_case_factory, tmp_path, seed):
    case = random_case_factory(seed, split_group=seed % 3 == 0)
    net = case.net
    trainable = [(u, v) for u, v in net.weights() if net.trainable(u, v)]
    net.set_label(*trainable[0], "w_first")
    net.set_weight(*trainable[1], 0.1 + 0.2)               # a weight that is not a short decimal
    back = round_trip(net, tmp_path)
    assert back.weight(*trainable[1]) == 0.30000000000000004
    assert back.edge_label(*trainable[0]) == "w_first"
    assert_same(net, back, case.X, case.T, case.loss)


@pytest.mark.parametrize("seed", [3, 8])
def test_float32_networks_round_trip_to_the_bit(random_case_factory, tmp_path, seed):
    case = random_case_factory(seed)
    net = case.build(np.float32)
    back = round_trip(net, tmp_path)
    assert back.dtype == np.float32 and json.loads((tmp_path / "net.json").read_text())["dtype"] == "float32"
    assert_same(net, back, case.X.astype(np.float32), case.T.astype(np.float32), case.loss)


def test_tied_sets_scaling_and_the_initialiser_round_trip(random_case_factory, spec_network, tmp_path):
    case = random_case_factory(4)
    net = spec_network(case.spec, compile=False, init="normal", init_options={"std": 0.25})
    trainable = [(u, v) for u, v in net.weights() if net.trainable(u, v)]
    net.tie(trainable[:3], reduce="mean", name="shared")
    net.tie(trainable[3:5])
    net.scaling = neurosim.Scaling.fit(case.X, case.T, inputs="standard", targets="minmax")
    back = round_trip(net, tmp_path)
    assert set(back.ties) == {"shared", "tie1"} and back.ties["shared"].reduce == "mean"
    assert back.initializer.name == "normal" and back.init_options == {"std": 0.25}
    assert np.array_equal(back.predict(case.X), net.predict(case.X))
    assert_same(net, back, case.X, case.T, case.loss)
    w = back.weight(*trainable[0])
    assert all(back.weight(u, v) == w for u, v in trainable[:3])          # still one weight after training
    # init= replaces the file's initialiser
    other = neurosim.load(tmp_path / "net.json", init="uniform")
    assert other.initializer.name == "uniform" and other.init_options == {}
    assert bits(other) == bits(neurosim.load(tmp_path / "net.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenarios_network_round_trips(tmp_path, path):
    sc = neurosim.load_scenario(path)
    net = sc.check()
    back = round_trip(net, tmp_path)
    X, T = sc.train.inputs, sc.train.targets
    assert_same(net, back, X, T, sc.loss)


def test_the_worked_example_loads_with_its_numbers(tmp_path):
    net = neurosim.load_scenario(REPO / "scenarios" / "mazur.toml").check()
    back = round_trip(net, tmp_path)
    Y = back.forward([0.05, 0.10])
    assert f"{back['h1'].out:.9f} {Y[0]:.8f} {Y[1]:.9f}" == "0.593269992 0.75136507 0.772928465"
    assert not back.trainable("b1", "h1") and back.trainable("i1", "h1")
    back.train([[0.05, 0.10]], [[0.01, 0.99]], loss="mse", learning_rate=0.5, epochs=1)
    assert f"{back.weight('h1', 'o1'):.8f} {back.weight('i1', 'h1'):.9f}" == "0.35891648 0.149780716"


def test_neurosim_run_out_writes_what_net_save_writes(tmp_path):
    for name in ("mazur", "sine_regression", "unrolled_sequence"):
        result = neurosim.run_scenario(REPO / "scenarios" / f"{name}.toml")
        paths = result.save(tmp_path / name)
        mine = result.network.save(tmp_path / f"{name}.json")
        assert paths["network"].read_bytes() == mine.read_bytes()
        back = neurosim.load(paths["network"])
        X = result.scenario.train.inputs
        assert np.array_equal(back.forward(X), result.network.forward(X))
        assert np.array_equal(back.predict(X), result.network.predict(X))


# --- what the file records ----------------------------------------------------------------------


def test_the_file_records_its_version_the_writer_and_each_plugins_distribution(tmp_path):
    path, data = saved(tmp_path)
    assert (data["format"], data["version"], data["neurosim_version"]) == \
        ("neurosim-network", 1, neurosim.__version__)
    assert data["plugins"] == {"activation": {"sigmoid": "neurosim.activations"},
                               "initializer": {"uniform": "neurosim.initializers"}}
    assert data["distributions"] == {
        "neurosim.activations": {"name": "neurosim", "version": neurosim.__version__,
                                 "module": "neurosim_plugins.activations"},
        "neurosim.initializers": {"name": "neurosim", "version": neurosim.__version__,
                                  "module": "neurosim_plugins.initializers"}}
    assert data["initializer"] == {"name": "uniform", "options": {}}
    assert list(data)[:4] == ["format", "version", "neurosim_version", "dtype"]
    assert path.read_text().endswith("}\n")


def test_a_plugin_from_a_file_is_recorded_by_file_name_and_found_again(tmp_path, refused):
    plugin = tmp_path / "softsign_plugin.py"
    plugin.write_text(textwrap.dedent("""
        import numpy as np
        from neurosim import Activation, hookimpl

        @hookimpl
        def neurosim_register_activations(register):
            register(Activation("softsign", lambda x: x / (1 + np.abs(x)),
                                derivative=lambda x, y: 1 / (1 + np.abs(x)) ** 2))
    """))
    net = neurosim.Network(plugins=[plugin])
    net.add_input("x"); net.add_bias("b")
    net.add_neuron("h", "softsign"); net.add_neuron("y", "sigmoid", output=True)
    net.connect("x", "h", weight=1.5); net.connect("b", "h", weight=-0.5); net.connect("h", "y", weight=2.0)
    path, data = saved(tmp_path, net)
    owner = net.registry.owner("activation", "softsign")
    assert data["plugins"]["activation"]["softsign"] == owner
    assert data["distributions"][owner] == {"name": None, "version": None, "file": "softsign_plugin.py"}
    err = refused(neurosim.PluginError, [str(path), "units[2] ('h')", "activation 'softsign'",
                                         "no installed plugin provides", "softsign_plugin.py",
                                         "plugins=['path/to/softsign_plugin.py']"], neurosim.load, path)
    assert "pip install" not in str(err)
    back = neurosim.load(path, plugins=[plugin])
    # net_h = 1.5·1 − 0.5 = 1, y_h = 1/2; net_y = 2·1/2 = 1
    assert back.forward([1.0]).tolist() == [1 / (1 + np.exp(-1.0))]
    assert_same(net, back)


class Halved:
    """A plugin object (not a module): the activation ``half``, y = net / 2."""

    @neurosim.hookimpl
    def neurosim_register_activations(self, register):
        register(neurosim.Activation("half", lambda x: x / 2, derivative=lambda x, y: np.full_like(x, 0.5)))


def test_a_plugin_module_by_name_and_a_plugin_object_are_recorded(tmp_path, monkeypatch, refused):
    (tmp_path / "cube_plugin.py").write_text(textwrap.dedent("""
        import numpy as np
        from neurosim import Activation, hookimpl

        @hookimpl
        def neurosim_register_activations(register):
            register(Activation("cube", lambda x: x ** 3, derivative=lambda x, y: 3 * x ** 2))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    halved = Halved()
    net = neurosim.Network(plugins=["cube_plugin", halved])
    net.add_input("x")
    net.add_neuron("c", "cube"); net.add_neuron("y", "half", output=True)
    net.connect("x", "c", weight=2.0); net.connect("c", "y", weight=1.0)
    path, data = saved(tmp_path, net)
    owner = net.registry.owner("activation", "half")
    assert data["distributions"]["cube_plugin"] == {"name": None, "version": None, "module": "cube_plugin"}
    assert data["distributions"][owner] == {"name": None, "version": None}
    refused(neurosim.PluginError, ["'cube'", "plugin module 'cube_plugin'", "plugins=['cube_plugin']",
                                   "'half'", f"plugin {owner!r}"], neurosim.load, path)
    back = neurosim.load(path, plugins=["cube_plugin", halved])
    assert back.forward([1.5]).tolist() == [(2.0 * 1.5) ** 3 / 2]


def test_a_missing_plugin_names_the_distribution_to_install(tmp_path, refused):
    _, data = saved(tmp_path)
    data["units"][4]["activation"] = data["units"][5]["activation"] = "softsign"
    data["plugins"]["activation"]["softsign"] = "neurosim-testplugin"
    data["distributions"]["neurosim-testplugin"] = {"name": "neurosim-testplugin", "version": "0.0.1"}
    bad = write(tmp_path, data)
    refused(neurosim.PluginError, [f"{bad}: ", "units[4] ('h1' and 1 more)", "'softsign'",
                                   "plugin 'neurosim-testplugin' of the distribution neurosim-testplugin 0.0.1",
                                   "pip install neurosim-testplugin"], neurosim.load, bad)
    del data["distributions"]                                   # an older file: the plugin's name only
    refused(neurosim.PluginError, ["'softsign'", "plugin 'neurosim-testplugin'", "plugins=[...]"],
            neurosim.load, write(tmp_path, data))
    del data["plugins"]
    refused(neurosim.PluginError, ["'softsign'", "does not say which plugin"], neurosim.load, write(tmp_path, data))


def test_a_missing_initialiser_is_named_and_can_be_replaced(tmp_path, refused):
    _, data = saved(tmp_path)
    data["initializer"] = {"name": "lecun_normal", "options": {"gain": 2.0}}
    data["plugins"]["initializer"] = {"lecun_normal": "neurosim-inits"}
    data["distributions"]["neurosim-inits"] = {"name": "neurosim-inits", "version": "2.1"}
    bad = write(tmp_path, data)
    refused(neurosim.PluginError, [str(bad), "initializer", "'lecun_normal'", "pip install neurosim-inits",
                                   "init='uniform'"], neurosim.load, bad)
    assert neurosim.load(bad, init="uniform").initializer.name == "uniform"
    data["initializer"] = {"name": "uniform", "options": {"spread": 2.0}}
    refused(neurosim.PluginError, ["initializer.options", "'spread'"], neurosim.load, write(tmp_path, data))


@pytest.mark.slow
def test_a_network_of_an_installed_distributions_plugin_names_it_when_it_is_missing(tmp_path, refused):
    """A plugin found through its entry point is recorded with its distribution and version;
    loading where it is not installed says to pip install that distribution."""
    src = tmp_path / "plugin_dist"
    shutil.copytree(DATA / "plugin_dist", src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    site = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "--target", str(site), str(src)], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=180)
    code = textwrap.dedent("""
        import neurosim
        net = neurosim.Network()
        net.add_input("x"); net.add_bias("b")
        net.add_neuron("y", activation="softsign", output=True)
        net.connect("x", "y", weight=0.5); net.connect("b", "y", weight=0.25)
        net.save("soft.json")
    """)
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**env, "PYTHONPATH": str(site)}, check=True,
                   capture_output=True, timeout=180)
    data = json.loads((tmp_path / "soft.json").read_text())
    assert data["plugins"]["activation"]["softsign"] == "neurosim-testplugin"
    assert data["distributions"]["neurosim-testplugin"] == {"name": "neurosim-testplugin", "version": "0.0.1",
                                                           "module": "neurosim_testplugin"}
    refused(neurosim.PluginError, ["soft.json", "'softsign'", "distribution neurosim-testplugin 0.0.1",
                                   "pip install neurosim-testplugin"], neurosim.load, tmp_path / "soft.json")


# --- files written before these entries existed -------------------------------------------------


def test_files_neurosim_run_wrote_before_keep_loading(tmp_path):
    mazur = neurosim.load(OLD_FILES / "mazur_trained_v1_0.1.0.json")     # one epoch of the worked example
    assert f"{mazur.weight('h1', 'o1'):.8f} {mazur.weight('i1', 'h1'):.9f}" == "0.35891648 0.149780716"
    assert mazur.initializer.name == "uniform"
    sine = neurosim.load(OLD_FILES / "sine_regression_trained_v1_0.1.0.json")
    assert sine.scaling is not None and sine.scaling.describe() == "inputs standard, targets standard"
    for old, net in (("mazur", mazur), ("sine_regression", sine)):
        before = json.loads((OLD_FILES / f"{old}_trained_v1_0.1.0.json").read_text())
        now = net.to_dict()
        for key in ("format", "version", "dtype", "units", "edges", "scaling"):
            assert now.get(key) == before.get(key), key
        assert now["plugins"]["activation"] == before["plugins"]["activation"]
    x = np.linspace(-3, 3, 7)[:, None]
    y = sine.predict(x)[:, 0]
    assert np.max(np.abs(y - np.sin(x[:, 0]))) < 0.1      # the trained net fits sin x in its own units


# --- refusals ---------------------------------------------------------------------------------------


def test_a_newer_format_version_is_refused_with_the_version_needed(tmp_path, refused):
    _, data = saved(tmp_path)
    newer = write(tmp_path, {**data, "version": 2, "neurosim_version": "0.3.0"})
    refused(FileError, [f"{newer}: written by neurosim 0.3.0 with format version 2",
                        f"this neurosim ({neurosim.__version__}) reads neurosim-network format versions up to 1",
                        "upgrade with pip install -U neurosim"], neurosim.load, newer)
    refused(FileError, ["written by a newer neurosim with format version 7"], neurosim.load,
            write(tmp_path, {k: v for k, v in {**data, "version": 7}.items() if k != "neurosim_version"}))
    for version in ("1", 0, 1.0, True, None):
        refused(FileError, ["version", "whole number >= 1"], neurosim.load,
                write(tmp_path, {**data, "version": version}))


def test_an_empty_or_non_json_file_is_refused_naming_it(tmp_path, refused):
    refused(FileError, [str(write(tmp_path, "", "empty.json")), "is empty"], neurosim.load, tmp_path / "empty.json")
    refused(FileError, ["garbage.json: is not valid JSON", "line 1, column 1"], neurosim.load,
            write(tmp_path, "this is not json\n", "garbage.json"))
    refused(FileError, ["is not valid JSON", "line 3"], neurosim.load,
            write(tmp_path, '{\n  "format": "neurosim-network",\n  "version" 1\n}\n', "colon.json"))
    refused(FileError, ["list.json", "not a neurosim-network mapping", "a list"], neurosim.load,
            write(tmp_path, "[1, 2]", "list.json"))
    refused(FileError, ["summary.json", "no 'format' entry", "net.save()"], neurosim.load,
            write(tmp_path, {"scenario": "mazur"}, "summary.json"))
    refused(FileError, ["its 'format' is 'neurosim-checkpoint'"], neurosim.load,
            write(tmp_path, {"format": "neurosim-checkpoint"}))
    refused(FileError, ["nested too deeply"], neurosim.load, write(tmp_path, "[" * 100_000, "deep.json"))
    refused(FileError, ["no such file"], neurosim.load, tmp_path / "missing.json")
    refused(FileError, ["a directory"], neurosim.load, tmp_path)
    refused(neurosim.DataError, ["load needs the path"], neurosim.load, 5)


def test_a_file_cut_short_anywhere_is_refused_as_truncated(tmp_path, refused):
    path, _ = saved(tmp_path)
    text = path.read_text()
    cut = tmp_path / "cut.json"
    for n in range(1, len(text.rstrip()) - 1, 3):
        cut.write_text(text[:n])
        refused(FileError, [f"{cut}: ", "truncated"], neurosim.load, cut)


def test_a_file_written_by_an_interrupted_save_is_never_half_a_file(tmp_path, monkeypatch):
    net = neurosim.load_scenario(REPO / "scenarios" / "mazur.toml").check()
    path = net.save(tmp_path / "net.json")
    before = path.read_bytes()
    net.set_weight("h1", "o1", 1.25)

    def fail(src, dst):
        raise KeyboardInterrupt                 # a Ctrl-C between writing the temporary file and the rename

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        net.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["net.json"]
    net.save(path)
    assert neurosim.load(path).weight("h1", "o1") == 1.25


def test_saving_where_it_cannot_is_refused(tmp_path, refused):
    net = neurosim.load_scenario(REPO / "scenarios" / "mazur.toml").check()
    refused(neurosim.DataError, ["its folder", "does not exist"], net.save, tmp_path / "no" / "net.json")
    refused(neurosim.DataError, ["a folder of that name is in the way"], net.save, tmp_path)
    refused(neurosim.DataError, ["save needs the path"], net.save, None)
    empty = neurosim.Network()
    empty.add_input("x")
    refused(neurosim.TopologyError, ["no outputs"], empty.save, tmp_path / "empty.json")
    assert not (tmp_path / "empty.json").exists()


def _edit(fn):
    def edit(data):
        fn(data)
        return data
    return edit


CORRUPT = [
    ("units not a list", _edit(lambda d: d.update(units=5)), FileError, ["units: must be a list of units, not 5"]),
    ("unit not a mapping", _edit(lambda d: d["units"].__setitem__(1, "i2")), FileError,
     ["units[1]: must be a mapping"]),
    ("missing kind", _edit(lambda d: d["units"][1].pop("kind")), FileError, ["units[1].kind", "'kind' is missing"]),
    ("unknown kind", _edit(lambda d: d["units"][1].update(kind="hidden")), FileError,
     ["units[1].kind: must be 'input', 'bias' or 'neuron', not 'hidden'"]),
    ("name not a string", _edit(lambda d: d["units"][0].update(name=3)), FileError, ["units[0].name", "not 3"]),
    ("missing name", _edit(lambda d: d["units"][0].pop("name")), FileError, ["units[0].name", "missing"]),
    ("activation not a string", _edit(lambda d: d["units"][4].update(activation=["sigmoid"])), FileError,
     ["units[4].activation", "not ['sigmoid']"]),
    ("missing activation", _edit(lambda d: d["units"][4].pop("activation")), FileError,
     ["units[4].activation", "'activation' is missing"]),
    ("input with an activation", _edit(lambda d: d["units"][0].update(activation="tanh")), FileError,
     ["units[0].activation", "'i1' is an input unit"]),
    ("output column as text", _edit(lambda d: d["units"][6].update(output="0")), FileError,
     ["units[6].output", "not '0'"]),
    ("two outputs in one column", _edit(lambda d: d["units"][7].update(output=0)), neurosim.TopologyError,
     ["units[7].output", "'o2' and units[6] are both output column 0"]),
    ("a gap in the outputs", _edit(lambda d: d["units"][7].update(output=2)), neurosim.TopologyError,
     ["output column 2 is given but column 1 is not"]),
    ("a unit twice", _edit(lambda d: d["units"].append(dict(d["units"][0]))), neurosim.TopologyError,
     ["units[8]: a unit named 'i1' comes twice (units[0] too)"]),
    ("group not a string", _edit(lambda d: d["units"][4].update(group=7)), FileError, ["units[4].group", "not 7"]),
    ("group of an elementwise activation", _edit(lambda d: d["units"][4].update(group="g")), neurosim.TopologyError,
     ["'h1'", "group"]),
    ("edges not a list", _edit(lambda d: d.update(edges={"a": 1})), FileError, ["edges: must be a list"]),
    ("missing edges", _edit(lambda d: d.pop("edges")), FileError, ["edges", "'edges' is missing"]),
    ("edge not a mapping", _edit(lambda d: d["edges"].__setitem__(2, ["i1", "h1", 0.15])), FileError,
     ["edges[2]: must be a mapping"]),
    ("edge to a unit that does not exist", _edit(lambda d: d["edges"][2].update(dst="h9")), neurosim.TopologyError,
     ["edges[2]: 'h9' is not one of the units"]),
    ("missing src", _edit(lambda d: d["edges"][2].pop("src")), FileError, ["edges[2].src", "missing"]),
    ("edge into an input", _edit(lambda d: d["edges"][2].update(src="h1", dst="i2")), neurosim.TopologyError,
     ["edges[2]: 'h1' -> 'i2' goes into an input unit"]),
    ("edge twice", _edit(lambda d: d["edges"].append(dict(d["edges"][0]))), neurosim.TopologyError,
     ["edges[12]: the connection 'i1' -> 'h1' comes twice (edges[0] too)"]),
    ("a cycle", _edit(lambda d: d["edges"].append({"src": "o1", "dst": "h1", "weight": 0.5})), neurosim.CycleError,
     ["edges: the graph has the cycle", "h1 -> o1 -> h1"]),
    ("a self-loop", _edit(lambda d: d["edges"].append({"src": "h2", "dst": "h2", "weight": 0.5})),
     neurosim.CycleError, ["cycle h2 -> h2"]),
    ("weight as text", _edit(lambda d: d["edges"][3].update(weight="heavy")), FileError,
     ["edges[3].weight: must be a number, not 'heavy'"]),
    ("weight null", _edit(lambda d: d["edges"][3].update(weight=None)), FileError, ["edges[3].weight: is null"]),
    ("weight true", _edit(lambda d: d["edges"][3].update(weight=True)), FileError, ["edges[3].weight", "not True"]),
    ("missing weight", _edit(lambda d: d["edges"][3].pop("weight")), FileError, ["edges[3].weight", "missing"]),
    ("huge integer weight", _edit(lambda d: d["edges"][3].update(weight=10 ** 400)), FileError,
     ["edges[3].weight: is an integer too large"]),
    ("trainable as text", _edit(lambda d: d["edges"][3].update(trainable="no")), FileError,
     ["edges[3].trainable: must be true or false, not 'no'"]),
    ("label a number", _edit(lambda d: d["edges"][3].update(label=5)), FileError, ["edges[3].label", "not 5"]),
    ("dtype", _edit(lambda d: d.update(dtype="float16")), FileError, ["dtype: must be 'float64' or 'float32'"]),
    ("plugins", _edit(lambda d: d.update(plugins=["sigmoid"])), FileError, ["plugins: must map"]),
    ("distributions", _edit(lambda d: d["distributions"].update(x=5)), FileError, ["distributions.x"]),
    ("initializer", _edit(lambda d: d.update(initializer="uniform")), FileError, ["initializer: must be a mapping"]),
    ("scaling", _edit(lambda d: d.update(scaling={"inputs": {"method": "standard", "offset": [0.0], "scale": [1.0]}})),
     FileError, ["scaling"]),
    ("tied to a missing edge", _edit(lambda d: d.update(tied=[{"name": "t", "edges": [["i1", "o1"], ["i2", "h2"]]}])),
     neurosim.TopologyError, ["tied[0]", "'i1' -> 'o1'"]),
    ("tied weights that differ", _edit(lambda d: d.update(tied=[{"name": "t", "edges": [["i1", "h1"], ["i2", "h1"]]}])),
     neurosim.TopologyError, ["tied[0]: the weights of its connections differ (i1 -> h1 0.15, i2 -> h1 0.2)"]),
    ("tied edges malformed", _edit(lambda d: d.update(tied=[{"name": "t", "edges": ["i1-h1"]}])), FileError,
     ["tied[0].edges: must be a list of connections"]),
]


@pytest.mark.parametrize("what, edit, error, fragments", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_a_corrupt_file_is_refused_naming_the_file_and_the_field(tmp_path, refused, what, edit, error, fragments):
    _, data = saved(tmp_path)
    assert [u["name"] for u in data["units"]] == ["i1", "i2", "b1", "b2", "h1", "h2", "o1", "o2"]
    assert (data["edges"][0]["src"], data["edges"][0]["dst"]) == ("i1", "h1") and len(data["edges"]) == 12
    bad = write(tmp_path, edit(copy.deepcopy(data)))
    refused(error, [f"{bad}: ", *fragments], neurosim.load, bad)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_weight_that_is_not_finite_is_refused_naming_the_edge(tmp_path, refused, token):
    path, _ = saved(tmp_path)
    text = path.read_text().replace('"weight": 0.2,', f'"weight": {token},', 1)
    assert token in text
    refused(FileError, [f"{path}: ", "edges[1].weight: is ", "weights must be finite"], neurosim.load,
            write(tmp_path, text, "net.json"))


def test_from_dict_refuses_a_dtype_argument_and_accepts_the_same_mapping(tmp_path, refused):
    _, data = saved(tmp_path)
    refused(neurosim.DataError, ["'dtype' entry", "leave out dtype"], neurosim.Network.from_dict, data,
            dtype="float32")
    assert neurosim.Network.from_dict(data).to_dict() == data
    assert neurosim.Network.load is not None and isinstance(neurosim.Network.load(tmp_path / "net.json"),
                                                            neurosim.Network)


# --- pickle and deepcopy --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 6, 11])
def test_pickle_and_deepcopy_agree_with_the_file(random_case_factory, tmp_path, seed):
    case = random_case_factory(seed)
    net = case.net
    net.scaling = neurosim.Scaling.fit(case.X, case.T, inputs="minmax")
    path = net.save(tmp_path / "net.json")
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        loaded = neurosim.load(path)
        assert clone.to_dict() == loaded.to_dict() == net.to_dict()
        assert_same(loaded, clone, case.X, case.T, case.loss)


# --- the documentation's example ------------------------------------------------------------------


def test_the_documented_example_is_what_net_save_writes(tmp_path):
    doc = (REPO / "docs" / "network-format.md").read_text()
    block = doc.split("```json\n", 1)[1].split("```", 1)[0]
    net = neurosim.Network(init_options={"scale": 0.3})
    net.add_input("x1"); net.add_input("x2"); net.add_bias("b")
    net.add_neuron("h", "tanh"); net.add_neuron("y", "sigmoid", output=True)
    net.connect("x1", "h", weight=0.5, label="w1")
    net.connect("x2", "h", weight=-0.25)
    net.connect("b", "h", weight=0.1, trainable=False)
    net.connect("h", "y", weight=1.5)
    net.connect("x1", "y", weight=0.3)
    net.connect("b", "y", weight=-0.2)
    written = net.save(tmp_path / "example.json").read_text()
    assert written == block.replace('"0.1.0"', json.dumps(neurosim.__version__))
    back = neurosim.load(tmp_path / "example.json")
    # net_h = 0.5·1 − 0.25·2 + 0.1 = 0.1; net_y = 1.5·tanh(0.1) + 0.3·1 − 0.2
    assert back.forward([1.0, 2.0]).tolist() == [1 / (1 + np.exp(-(1.5 * np.tanh(0.5 * 1.0 + -0.25 * 2.0 + 0.1)
                                                                   + 0.3 * 1.0 + -0.2)))]
