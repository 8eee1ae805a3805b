"""Tests of neurosim's plugin system: the built-ins found through the ``neurosim`` entry-point group (with spot checks of their numbers), third-party plugins reached through an installed distribution's entry point, a ``.py`` path, a dotted module name, a plugin object and a scenario's ``plugins = [...]``, the registry's refusals (name clashes, unknown names, broken contracts, misspelt hooks, failing or missing plugins), a wheel built from a copy of the checkout that must ship the built-ins as ``neurosim_plugins`` and work when installed away from the source tree, and the example distribution in ``examples/neurosim-softsign`` installed into a fresh virtual environment and used through its scenario; tests marked ``slow`` run pip or Python in subprocesses, offline (``--no-index --no-build-isolation --no-deps``).
"""

from __future__ import annotations

import configparser
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim import Activation, Initializer, Loss, PluginError

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
PLUGIN_MODULE = DATA / "plugin_module.py"
PLUGIN_DIST = DATA / "plugin_dist"
EXAMPLE_DIST = REPO / "examples" / "neurosim-softsign"

BUILTIN_ACTIVATIONS = {"identity", "sigmoid", "tanh", "relu", "softmax"}
BUILTIN_LOSSES = {"mse", "bce", "cce"}
BUILTIN_INITIALIZERS = {"uniform", "normal", "xavier_uniform", "zeros"}

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: ``{entry-point name: module}`` of the built-ins, as pyproject.toml declares them.
DECLARED_ENTRY_POINTS = PYPROJECT["project"]["entry-points"]["neurosim"]
BUILTIN_MODULES = {"activation": "neurosim_plugins.activations", "loss": "neurosim_plugins.losses",
                   "initializer": "neurosim_plugins.initializers", "dataset": "neurosim_plugins.datasets",
                   "measure": "neurosim_plugins.measures", "optimizer": "neurosim_plugins.optimizers",
                   "stop criterion": "neurosim_plugins.stopping"}
#: The plugin name (entry-point name) that owns each built-in kind.
BUILTIN_OWNER = {kind: next((ep for ep, mod in DECLARED_ENTRY_POINTS.items() if mod == module), None)
                 for kind, module in BUILTIN_MODULES.items()}

#: Builds the worked example (Mazur's 2-2-2 sigmoid network) as ``net``.
MAZUR_CODE = textwrap.dedent("""
    net = neurosim.Network()
    for name in ("i1", "i2"):
        net.add_input(name)
    net.add_bias("b1")
    net.add_bias("b2")
    for name in ("h1", "h2"):
        net.add_neuron(name, activation="sigmoid")
    for name in ("o1", "o2"):
        net.add_neuron(name, activation="sigmoid", output=True)
    for (s, d), w in {("i1", "h1"): .15, ("i2", "h1"): .20, ("i1", "h2"): .25, ("i2", "h2"): .30,
                      ("h1", "o1"): .40, ("h2", "o1"): .45, ("h1", "o2"): .50, ("h2", "o2"): .55}.items():
        net.connect(s, d, weight=w)
    for h in ("h1", "h2"):
        net.connect("b1", h, weight=0.35, trainable=False)
    for o in ("o1", "o2"):
        net.connect("b2", o, weight=0.60, trainable=False)
""")


# --- helpers -------------------------------------------------------------------------------


def _run(args: list[str], *, cwd: Path, pythonpath: Path | None = None, timeout: float = 180) -> str:
    """Run a command with this interpreter's environment; fail the test with its output."""
    env = dict(os.environ)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if pythonpath is None:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = str(pythonpath)  # replaces, never extends: the checkout stays off the path
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (f"{' '.join(map(str, args))} failed ({proc.returncode})\n"
                                  f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc.stdout


def _pip(*args: str | Path, cwd: Path) -> str:
    return _run([sys.executable, "-m", "pip", *map(str, args)], cwd=cwd)


def _python_json(code: str, *, cwd: Path, pythonpath: Path | None, python: Path | str = sys.executable) -> dict:
    """Run ``code`` in a fresh interpreter (``python``, by default this one); it must print one
    JSON object as its last line."""
    out = _run([python, "-c", code], cwd=cwd, pythonpath=pythonpath)
    return json.loads(out.strip().splitlines()[-1])


def _checkout_copy(src: Path) -> Path:
    """Copy what a build of neurosim needs (pyproject, README, ``neurosim/``, ``plugins/``) into ``src``."""
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copy(REPO / "README.md", src)          # pyproject's `readme`: the build needs it
    shutil.copytree(REPO / "neurosim", src / "neurosim", ignore=ignore)
    shutil.copytree(REPO / "plugins", src / "plugins", ignore=ignore)
    return src


#: neurosim's core dependencies, the only third-party packages a fresh environment gets.
CORE_DEPENDENCIES = ("numpy", "networkx", "pluggy", "tqdm")


def _fresh_venv(folder: Path) -> tuple[Path, Path]:
    """A new virtual environment in ``folder`` (without pip: installs go in with this
    interpreter's pip, offline) that sees no package of this one but neurosim's core
    dependencies, linked in through a ``.pth`` file; returns its python and site-packages."""
    _run([sys.executable, "-m", "venv", "--without-pip", folder], cwd=folder.parent)
    python = folder / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=folder).strip())
    core = folder / "core-dependencies"
    core.mkdir()
    for module in CORE_DEPENDENCIES:
        installed = Path(importlib.import_module(module).__file__).parent.parent
        for entry in installed.iterdir():     # the package, its dist-info, numpy.libs
            if entry.name.split("-")[0].split(".")[0].lower() == module:
                (core / entry.name).symlink_to(entry)
    (site / "core-dependencies.pth").write_text(f"{core}\n")
    return python, site


def _write_plugin(folder: Path, name: str, body: str) -> Path:
    """Write a plugin module ``name.py`` (numpy and neurosim imported) into ``folder``."""
    path = folder / f"{name}.py"
    path.write_text("import numpy as np\nimport neurosim\nfrom neurosim import Activation, Loss, Initializer, "
                    "hookimpl\n\n" + textwrap.dedent(body))
    return path


def _numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """``J[i, j] = d f(x)_i / d x_j`` of a function of one row, by central differences."""
    k = x.shape[1]
    J = np.empty((k, k))
    for j in range(k):
        step = np.zeros_like(x)
        step[0, j] = eps
        J[:, j] = (f(x + step) - f(x - step))[0] / (2 * eps)
    return J


class SoftsignPlugin:
    """A plugin object: softsign and the sum of absolute errors as hook-implementing methods."""

    @neurosim.hookimpl
    def neurosim_register_activations(self, register):
        register(Activation("softsign", lambda x: x / (1.0 + np.abs(x)),
                            derivative=lambda x, y: 1.0 / (1.0 + np.abs(x)) ** 2))

    @neurosim.hookimpl
    def neurosim_register_losses(self, register):
        register(Loss("sae", lambda y, t: float(np.sum(np.abs(y - t))), lambda y, t: np.sign(y - t)))


def _softsign_net(**kwargs) -> neurosim.Network:
    """x -> y (softsign) with w = 0.5 and a bias weight 0.25: net(1.5) = 1, y = 0.5."""
    net = neurosim.Network(**kwargs)
    net.add_input("x")
    net.add_bias("b")
    net.add_neuron("y", activation="softsign", output=True)
    net.connect("x", "y", weight=0.5)
    net.connect("b", "y", weight=0.25)
    return net


# --- 1. built-ins through the registry -------------------------------------------------------


def test_builtins_come_from_the_entry_points_pyproject_declares():
    registry = neurosim.make_registry()
    assert BUILTIN_ACTIVATIONS <= set(registry.names("activation"))
    assert BUILTIN_LOSSES <= set(registry.names("loss"))
    assert BUILTIN_INITIALIZERS <= set(registry.names("initializer"))
    # pyproject advertises exactly the built-in modules, never a bare `plugins.*`.
    assert sorted(DECLARED_ENTRY_POINTS.values()) == sorted(BUILTIN_MODULES.values())
    assert None not in BUILTIN_OWNER.values()
    for name in BUILTIN_ACTIVATIONS:
        assert registry.owner("activation", name) == BUILTIN_OWNER["activation"]
    for name in BUILTIN_LOSSES:
        assert registry.owner("loss", name) == BUILTIN_OWNER["loss"]
    for name in BUILTIN_INITIALIZERS:
        assert registry.owner("initializer", name) == BUILTIN_OWNER["initializer"]
    # Each entry-point plugin is the module pyproject points at, never a bare `plugins`.
    for ep_name, module in DECLARED_ENTRY_POINTS.items():
        assert registry.manager.get_plugin(ep_name).__name__ == module
    assert isinstance(registry.activation("sigmoid"), Activation)
    assert isinstance(registry.loss("mse"), Loss)
    assert isinstance(registry.initializer("uniform"), Initializer)


def test_registry_without_entry_points_is_empty():
    registry = neurosim.make_registry(entry_points=False)
    assert registry.names("activation") == registry.names("loss") == registry.names("initializer") == []


def test_make_registry_returns_fresh_registries():
    a, b = neurosim.make_registry(), neurosim.make_registry()
    assert a is not b and a.manager is not b.manager
    assert neurosim.default_registry() is neurosim.default_registry()


def test_elementwise_builtins_values_and_derivatives():
    registry = neurosim.make_registry()
    sigmoid = registry.activation("sigmoid")
    x = np.array([[0.0, 1.0, -2.0, 3.5]])
    y = sigmoid.function(x)
    assert y[0, 0] == 0.5
    assert y[0, 1] == pytest.approx(0.7310585786300049, abs=1e-15)
    np.testing.assert_allclose(sigmoid.function(-x), 1.0 - y, rtol=0, atol=1e-15)
    assert sigmoid.derivative(x, y)[0, 0] == 0.25
    # Far in the tails: no overflow warning (warnings are errors here), and where e^-x
    # overflows the IEEE limit 0 exactly, in float64 and float32 alike.
    tails = sigmoid.function(np.array([[-800.0, 800.0, -709.78, -709.79, -np.inf, np.inf]]))
    np.testing.assert_array_equal(tails[0, [0, 1, 3, 4, 5]], [0.0, 1.0, 0.0, 0.0, 1.0])
    assert tails[0, 2] == pytest.approx(np.exp(-709.78), rel=1e-12)     # still finite: the textbook value
    tails32 = sigmoid.function(np.array([[-88.72, -88.73, -800.0]], np.float32))
    assert tails32.dtype == np.float32 and tails32[0, 0] > 0.0 and tails32[0, 1] == tails32[0, 2] == 0.0
    # The generated code's scalar form gives the same bits on both sides of the overflow limit.
    from neurosim.functions import scalar_function
    limit = np.log(np.finfo(np.float64).max)
    edge = np.array([-800.0, np.nextafter(-limit, -np.inf), -limit, np.nextafter(-limit, 0.0), -709.0, -3.0, 0.5,
                     40.0, -np.inf, np.inf])
    scalar = scalar_function(sigmoid.scalar.function, ("x",))
    np.testing.assert_array_equal([scalar(float(v)) for v in edge], sigmoid.function(edge))
    assert sigmoid.function(edge)[2] > 0.0 == sigmoid.function(edge)[1]
    # Every size takes the same path: a large array gives the bits of its pieces, NaN kept.
    big = np.random.default_rng(3).standard_normal(5000) * 400.0
    big[:3] = np.nan, -800.0, 800.0
    small = np.concatenate([sigmoid.function(big[k:k + 7]) for k in range(0, 5000, 7)])
    np.testing.assert_array_equal(sigmoid.function(big), small)
    assert np.isnan(small[0]) and small[1] == 0.0 and small[2] == 1.0 and (big < -710).sum() > 100
    np.testing.assert_allclose(registry.activation("tanh").function(x), np.tanh(x), rtol=0, atol=0)
    np.testing.assert_array_equal(registry.activation("relu").function(x), [[0.0, 1.0, 0.0, 3.5]])
    np.testing.assert_array_equal(registry.activation("relu").derivative(x, x), [[0.0, 1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(registry.activation("identity").function(x), x)
    # Every elementwise derivative agrees with central differences (away from relu's kink).
    x = np.array([[0.3, 1.0, -2.0, 3.5]])
    eps = 1e-6
    for name in ("identity", "sigmoid", "tanh", "relu"):
        act = registry.activation(name)
        numeric = (act.function(x + eps) - act.function(x - eps)) / (2 * eps)
        np.testing.assert_allclose(act.derivative(x, act.function(x)), numeric, rtol=1e-7, atol=1e-9,
                                   err_msg=name)
        g = np.array([[0.3, -1.2, 2.0, 0.7]])
        np.testing.assert_allclose(act.backward(x, act.function(x), g), numeric * g, rtol=1e-7, atol=1e-9)


def test_softmax_values_and_vjp_match_finite_differences():
    softmax = neurosim.make_registry().activation("softmax")
    assert softmax.group and softmax.vjp is not None
    np.testing.assert_allclose(softmax.function(np.zeros((1, 4))), np.full((1, 4), 0.25), rtol=0, atol=1e-16)
    net = np.array([[0.2, -1.0, 0.5, 2.0]])
    y = softmax.function(net)
    np.testing.assert_allclose(y, np.exp(net) / np.exp(net).sum(), rtol=1e-14)
    assert y.sum() == pytest.approx(1.0, abs=1e-15)
    # Shift invariance and no overflow for huge nets.
    np.testing.assert_allclose(softmax.function(net + 1000.0), y, rtol=1e-12)
    J = _numeric_jacobian(softmax.function, net)
    for g in (np.array([[1.0, 0.0, 0.0, 0.0]]), np.array([[0.3, -2.0, 0.7, 1.1]])):
        np.testing.assert_allclose(softmax.vjp(net, y, g), g @ J, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(softmax.backward(net, y, g), g @ J, rtol=1e-6, atol=1e-9)
    # Rows are independent groups.
    two = np.vstack([net, -net])
    np.testing.assert_allclose(softmax.function(two)[1], softmax.function(-net)[0], rtol=1e-14)


def test_loss_values_gradients_and_fused_deltas():
    registry = neurosim.make_registry()
    mse, bce, cce = registry.loss("mse"), registry.loss("bce"), registry.loss("cce")
    y = np.array([[0.8, 0.3], [0.6, 0.9]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    # mse is the half *sum* of squares, not a mean.
    assert mse.value(y, t) == pytest.approx(0.5 * (0.04 + 0.09 + 0.36 + 0.01), abs=1e-15)
    np.testing.assert_allclose(mse.gradient(y, t), y - t, rtol=0, atol=0)
    expected_bce = -(np.log(0.8) + np.log(0.7) + np.log(0.4) + np.log(0.9))
    assert bce.value(y, t) == pytest.approx(expected_bce, rel=1e-14)
    np.testing.assert_allclose(bce.gradient(y, t), (y - t) / (y * (1 - y)), rtol=1e-14)
    np.testing.assert_allclose(bce.fused["sigmoid"](y, t), y - t, rtol=0, atol=0)
    # The fused delta is the chain rule through sigmoid, simplified.
    sigmoid = registry.activation("sigmoid")
    np.testing.assert_allclose(sigmoid.backward(None, y, bce.gradient(y, t)), y - t, rtol=1e-12)
    # Saturated outputs: the value is large but finite (log floor -100), the fused delta exact.
    ys, ts = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    assert bce.value(ys, ts) == 200.0
    np.testing.assert_array_equal(bce.fused["sigmoid"](ys, ts), [[1.0, -1.0]])

    softmax = registry.activation("softmax")
    net = np.array([[0.5, 1.5, -0.5]])
    p = softmax.function(net)
    one_hot = np.array([[0.0, 1.0, 0.0]])
    assert cce.value(p, one_hot) == pytest.approx(-np.log(p[0, 1]), rel=1e-14)
    assert cce.value(np.array([[0.25, 0.75]]), np.array([[0.0, 1.0]])) == pytest.approx(-np.log(0.75), rel=1e-15)
    np.testing.assert_allclose(cce.gradient(p, one_hot), -one_hot / p, rtol=1e-14)
    np.testing.assert_allclose(cce.fused["softmax"](p, one_hot), p - one_hot, rtol=0, atol=1e-16)
    np.testing.assert_allclose(softmax.vjp(net, p, cce.gradient(p, one_hot)), p - one_hot, rtol=1e-12,
                               atol=1e-15)
    # Targets that do not sum to one: dE/dnet_j = y_j Σ t − t_j, still the chain rule.
    soft = np.array([[0.2, 0.5, 0.1]])
    np.testing.assert_allclose(cce.fused["softmax"](p, soft), p * 0.8 - soft, rtol=1e-14)
    np.testing.assert_allclose(softmax.vjp(net, p, cce.gradient(p, soft)), p * 0.8 - soft, rtol=1e-12,
                               atol=1e-15)
    assert set(mse.fused) == set()


# --- 2. a plugin distribution found through its entry point ----------------------------------


@pytest.mark.slow
def test_installed_distribution_is_found_through_its_entry_point(tmp_path):
    src = tmp_path / "plugin_dist"
    shutil.copytree(PLUGIN_DIST, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "--target", target, src,
         cwd=tmp_path)
    assert (target / "neurosim_testplugin.py").is_file()
    assert list(target.glob("neurosim_testplugin-0.0.1.dist-info/entry_points.txt"))
    code = textwrap.dedent("""
        import json
        import neurosim, neurosim_testplugin
        registry = neurosim.make_registry()
        net = neurosim.Network(registry=registry)
        net.add_input("x"); net.add_bias("b")
        net.add_neuron("y", activation="softsign", output=True)
        net.connect("x", "y", weight=0.5); net.connect("b", "y", weight=0.25)
        forward = net.forward([[1.5], [-3.0]]).tolist()
        history = net.train([[1.5]], [[0.0]], loss="mse", learning_rate=0.1, epochs=1).tolist()
        after_mse = [net.weight("x", "y"), net.weight("b", "y")]
        net.set_weight("x", "y", 0.5); net.set_weight("b", "y", 0.25)
        sae = net.train([[1.5]], [[0.0]], loss="sae", learning_rate=0.1, epochs=1).tolist()
        after_sae = [net.weight("x", "y"), net.weight("b", "y")]
        default = neurosim.Network()
        default.add_neuron("z", activation="softsign")
        print(json.dumps({
            "plugin_file": neurosim_testplugin.__file__,
            "activations": registry.names("activation"), "losses": registry.names("loss"),
            "owner": registry.owner("activation", "softsign"), "loss_owner": registry.owner("loss", "sae"),
            "sigmoid_owner": registry.owner("activation", "sigmoid"),
            "forward": forward, "history": history, "after_mse": after_mse,
            "sae": sae, "after_sae": after_sae,
        }))
    """)
    got = _python_json(code, cwd=tmp_path, pythonpath=target)
    assert Path(got["plugin_file"]).resolve().parent == target.resolve()
    assert set(got["activations"]) >= BUILTIN_ACTIVATIONS | {"softsign"}
    assert set(got["losses"]) >= BUILTIN_LOSSES | {"sae"}
    assert got["owner"] == got["loss_owner"] == "neurosim-testplugin"   # the entry point's name
    assert got["sigmoid_owner"] == BUILTIN_OWNER["activation"]
    # x = 1.5: net = 1, y = 1/2; x = -3: net = -1.25, y = -1.25/2.25
    np.testing.assert_allclose(got["forward"], [[0.5], [-1.25 / 2.25]], rtol=1e-15)
    # mse step: delta = (0.5 - 0) * f'(1) = 0.5 * 1/4; w -= 0.1 * delta * x
    np.testing.assert_allclose(got["after_mse"], [0.5 - 0.1 * 0.125 * 1.5, 0.25 - 0.1 * 0.125], rtol=1e-15)
    y1 = (0.48125 * 1.5 + 0.2375) / (1 + 0.48125 * 1.5 + 0.2375)
    np.testing.assert_allclose(got["history"], [0.5 * y1 ** 2], rtol=1e-14)
    # sae step: dE/dy = sign(0.5) = 1, delta = 1/4
    np.testing.assert_allclose(got["after_sae"], [0.5 - 0.1 * 0.25 * 1.5, 0.25 - 0.1 * 0.25], rtol=1e-15)
    y2 = (0.4625 * 1.5 + 0.225) / (1 + 0.4625 * 1.5 + 0.225)
    np.testing.assert_allclose(got["sae"], [y2], rtol=1e-14)


# --- 3. plugins through a path, a dotted name, an object, a scenario -------------------------


def test_plugin_by_absolute_path():
    registry = neurosim.make_registry([str(PLUGIN_MODULE)])
    assert set(registry.names("activation")) >= BUILTIN_ACTIVATIONS | {"softplus"}
    assert "constant" in registry.names("initializer")
    owner = registry.owner("activation", "softplus")
    assert "plugin_module" in owner and owner == registry.owner("initializer", "constant")
    softplus = registry.activation("softplus")
    x = np.array([[0.0, 1.0, -30.0]])
    np.testing.assert_allclose(softplus.function(x), [[np.log(2.0), np.log1p(np.e), np.log1p(np.exp(-30.0))]],
                               rtol=1e-14)
    np.testing.assert_allclose(softplus.derivative(x, None), registry.activation("sigmoid").function(x),
                               rtol=1e-14)
    draws = registry.initializer("constant")(np.random.default_rng(0), np.array([2, 3]), np.array([1, 1]),
                                             value=0.125)
    np.testing.assert_array_equal(draws, [0.125, 0.125])
    # The same file as a Path object, loaded twice, is one plugin (no clash with itself).
    again = neurosim.make_registry([PLUGIN_MODULE, str(PLUGIN_MODULE)])
    assert again.owner("activation", "softplus") == owner


def test_plugin_by_relative_path_and_alone():
    registry = neurosim.make_registry(["plugin_module.py"], base_dir=DATA, entry_points=False)
    assert registry.names("activation") == ["softplus"]
    assert registry.names("loss") == []
    assert registry.names("initializer") == ["constant"]


def test_plugin_by_dotted_module_name(tmp_path, monkeypatch):
    name = "neurosim_test_dotted_plugin"
    _write_plugin(tmp_path, name, """
        @hookimpl
        def neurosim_register_losses(register):
            register(Loss("quartic", lambda y, t: float(np.sum((y - t) ** 4)), lambda y, t: 4 * (y - t) ** 3))
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = neurosim.make_registry([name])
        assert set(registry.names("loss")) == BUILTIN_LOSSES | {"quartic"}
        assert registry.owner("loss", "quartic") == name
        assert registry.loss("quartic").value(np.array([[3.0]]), np.array([[1.0]])) == 16.0
        np.testing.assert_array_equal(registry.loss("quartic").gradient(np.array([[3.0]]), np.array([[1.0]])),
                                      [[32.0]])
        # An already imported module object works too.
        module = sys.modules[name]
        assert neurosim.make_registry([module]).owner("loss", "quartic") == name
        # ... and through a network, which then trains with it.
        net = neurosim.Network(plugins=[name])
        net.add_input("x")
        net.add_neuron("y", activation="identity", output=True)
        net.connect("x", "y", weight=3.0)
        history = net.train([[1.0]], [[1.0]], loss="quartic", learning_rate=0.01, epochs=1)
        assert net.weight("x", "y") == pytest.approx(3.0 - 0.01 * 32.0, abs=1e-15)
        assert history[0] == pytest.approx((2.68 - 1.0) ** 4, rel=1e-14)
    finally:
        sys.modules.pop(name, None)


def test_plugin_object_in_registry_and_network():
    plugin = SoftsignPlugin()
    registry = neurosim.make_registry([plugin])
    assert "softsign" in registry.names("activation") and "sae" in registry.names("loss")
    assert registry.owner("activation", "softsign") == registry.owner("loss", "sae")
    assert registry.manager.get_plugin(registry.owner("activation", "softsign")) is plugin

    net = _softsign_net(plugins=[plugin])
    assert net.registry is not neurosim.default_registry()
    np.testing.assert_allclose(net.forward([[1.5], [-3.0], [0.0]]), [[0.5], [-1.25 / 2.25], [0.2]], rtol=1e-15)
    E, grads = net.gradients([1.5], [0.0], loss="mse")
    assert E == 0.125
    assert grads == {("x", "y"): pytest.approx(0.1875, abs=1e-16), ("b", "y"): pytest.approx(0.125, abs=1e-16)}
    net.train([[1.5]], [[0.0]], loss="sae", learning_rate=0.1, epochs=1)
    assert net.weight("x", "y") == pytest.approx(0.4625, abs=1e-15)
    assert net.weight("b", "y") == pytest.approx(0.225, abs=1e-15)


def test_default_registry_does_not_see_plugins_given_to_one_network():
    _softsign_net(plugins=[SoftsignPlugin()])
    with pytest.raises(PluginError, match="softsign"):
        _softsign_net()
    assert "softsign" not in neurosim.default_registry().names("activation")


def test_scenario_plugins_are_relative_to_the_scenario_file(tmp_path, monkeypatch):
    folder = tmp_path / "experiment"
    folder.mkdir()
    shutil.copy(PLUGIN_MODULE, folder / "plugin_module.py")
    scenario = folder / "softplus.toml"
    scenario.write_text(textwrap.dedent("""
        plugins = ["plugin_module.py"]

        [scenario]
        name = "softplus"

        [network]
        activation = "softplus"
        init = { name = "constant", options = { value = 0.5 } }

        [[network.layers]]
        name = "i"
        size = 1

        [[network.layers]]
        name = "o"
        size = 1
        from = ["i"]

        [data]
        inputs = [[1.0]]
        targets = [[1.0]]

        [training]
        loss = "mse"
        learning_rate = 0.1
        epochs = 1

        [[expect]]
        quantity = "output"
        neuron = "o1"
        after = 0
        value = 1.3132616875182228
        tolerance = 1e-12

        [[expect]]
        quantity = "weight"
        edge = "i1 -> o1"
        value = 0.47709873559836913
        tolerance = 1e-12
    """))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)      # relative to the file, not the working directory
    result = neurosim.run_scenario(scenario)
    assert result.passed, result.report()
    net = result.network
    assert net.registry.owner("activation", "softplus").startswith("neurosim_user_plugin_plugin_module")
    assert net["o1"].activation == "softplus"
    # log(1 + e) before; delta = (y - t) sigmoid(1); both weights (input and shared bias) move alike.
    assert result.initial_error == pytest.approx(0.5 * (np.log1p(np.e) - 1.0) ** 2, rel=1e-14)
    assert net.weight("i1", "o1") == pytest.approx(0.47709873559836913, abs=1e-15)
    assert net.weight("bias", "o1") == pytest.approx(0.47709873559836913, abs=1e-15)
    assert result.history[0] == pytest.approx(0.5 * (np.logaddexp(0.0, 2 * 0.47709873559836913) - 1) ** 2,
                                              rel=1e-13)


def test_scenario_with_a_missing_plugin_file_names_the_key(tmp_path):
    scenario = tmp_path / "missing.toml"
    scenario.write_text(textwrap.dedent("""
        plugins = ["no_such_plugin.py"]
        [[network.layers]]
        name = "i"
        size = 1
        [[network.layers]]
        name = "o"
        size = 1
        from = ["i"]
        [data]
        inputs = [[1.0]]
        targets = [[1.0]]
    """))
    with pytest.raises(neurosim.ScenarioError) as info:
        neurosim.run_scenario(scenario)
    assert info.value.key == "plugins"
    assert str(tmp_path / "no_such_plugin.py") in str(info.value)


# --- 4. validation -----------------------------------------------------------------------------


def test_clash_with_a_builtin_names_both_plugins(tmp_path):
    path = _write_plugin(tmp_path, "dup_sigmoid", """
        @hookimpl
        def neurosim_register_activations(register):
            register(Activation("sigmoid", np.tanh, derivative=lambda x, y: 1 - y * y))
    """)
    with pytest.raises(PluginError, match=r"activation 'sigmoid' is provided by two plugins") as info:
        neurosim.make_registry([path])
    message = str(info.value)
    assert f"{BUILTIN_OWNER['activation']!r}" in message and "dup_sigmoid" in message


def test_clash_between_two_user_plugins_names_both(tmp_path):
    copy = tmp_path / "other_softplus.py"
    shutil.copy(PLUGIN_MODULE, copy)
    with pytest.raises(PluginError) as info:
        neurosim.make_registry([PLUGIN_MODULE, copy])
    message = str(info.value)
    assert f"'softplus' is provided by two plugins: the file {PLUGIN_MODULE} and the file {copy}" in message
    assert "neurosim_user_plugin_" not in message and "drop it from plugins = [...]" in message


def test_clash_between_losses_and_initializers_is_refused(tmp_path):
    loss = _write_plugin(tmp_path, "dup_mse", """
        @hookimpl
        def neurosim_register_losses(register):
            register(Loss("mse", lambda y, t: 0.0, lambda y, t: y * 0))
    """)
    with pytest.raises(PluginError, match=r"loss 'mse' is provided by two plugins: ") as info:
        neurosim.make_registry([loss])
    assert f"{BUILTIN_OWNER['loss']!r} and the file {loss}" in str(info.value)      # the file, not its module's name
    init = _write_plugin(tmp_path, "dup_zeros", """
        @hookimpl
        def neurosim_register_initializers(register):
            register(Initializer("zeros", lambda rng, fan_in, fan_out: np.zeros(len(fan_in))))
    """)
    with pytest.raises(PluginError, match=r"initializer 'zeros' is provided by two plugins"):
        neurosim.make_registry([init])


def test_unknown_names_list_the_registered_ones_and_the_closest():
    registry = neurosim.make_registry()
    with pytest.raises(PluginError) as info:
        registry.activation("sigmod")
    message = str(info.value)
    assert "unknown activation 'sigmod'" in message
    assert "did you mean 'sigmoid'?" in message
    assert "identity, relu, sigmoid, softmax, tanh" in message
    with pytest.raises(PluginError, match=r"did you mean 'mse'\? registered: bce, cce, mse"):
        registry.loss("msee")
    with pytest.raises(PluginError, match=r"unknown initializer 'gaussian'; registered: .*xavier_uniform"):
        registry.initializer("gaussian")
    with pytest.raises(PluginError, match="unknown activation 'nothing-like-it'; registered: identity"):
        registry.owner("activation", "nothing-like-it")
    net = neurosim.Network(registry=registry)
    with pytest.raises(PluginError, match=r"neuron 'h': unknown activation 'tanhh'; did you mean 'tanh'"):
        net.add_neuron("h", activation="tanhh")
    assert "h" not in net
    with pytest.raises(PluginError, match=r"did you mean 'uniform'"):
        neurosim.Network(init="uniformm")


def _activation_plugin(activation) -> object:
    class One:
        @neurosim.hookimpl
        def neurosim_register_activations(self, register):
            register(activation)
    return One()


def test_activation_without_derivative_or_vjp_is_refused():
    with pytest.raises(PluginError, match=r"activation 'bare' .* has neither a derivative nor a vjp"):
        neurosim.make_registry([_activation_plugin(Activation("bare", np.tanh))])
    # Either one alone is enough for an elementwise activation.
    ok = neurosim.make_registry([_activation_plugin(Activation("vjp_only", np.tanh,
                                                               vjp=lambda x, y, g: (1 - y * y) * g))])
    assert "vjp_only" in ok.names("activation")


def test_group_activation_without_vjp_is_refused():
    grouped = Activation("grouped", lambda x: x / x.sum(axis=1, keepdims=True),
                         derivative=lambda x, y: np.ones_like(x), group=True)
    with pytest.raises(PluginError, match=r"group activation 'grouped' .* must give vjp"):
        neurosim.make_registry([_activation_plugin(grouped)])


def test_an_activation_claiming_not_to_use_net_is_checked():
    """uses_net=False lets an ensemble pass y as net and compute in place: both are tried."""
    reads_net = Activation("softplus_like", lambda x: np.log1p(np.exp(x)), uses_net=False,
                           derivative=lambda x, y: 1.0 / (1.0 + np.exp(-x)))
    with pytest.raises(PluginError, match=r"softplus_like.*uses_net=False, but backward gives other values when "
                                          r"passed y as net"):
        neurosim.make_registry([_activation_plugin(reads_net)])

    def not_in_place(x, out):          # writes out before it has read all of x
        out[...] = 0.0
        out += np.tanh(x)
    clobbers = Activation("tanh_twice", np.tanh, derivative=lambda x, y: 1.0 - y * y, function_into=not_in_place,
                          uses_net=False)
    with pytest.raises(PluginError, match=r"tanh_twice.*function_into\(net, net\) computed in place"):
        neurosim.make_registry([_activation_plugin(clobbers)])
    # ... also where a form reads net only for large inputs, or goes wrong in place only on large blocks
    wide = Activation("tanh_clipped", np.tanh, derivative=lambda x, y: np.where(np.abs(x) > 3.5, 0.0, 1.0 - y * y),
                      uses_net=False)
    with pytest.raises(PluginError, match=r"tanh_clipped.*passed y as net \(net inputs in \[-40, 40\]\)"):
        neurosim.make_registry([_activation_plugin(wide)])

    def large_blocks_clobber(x, out):
        if out.size >= 4096:
            not_in_place(x, out)
        else:
            np.tanh(x, out=out)
    sized = Activation("tanh_sized", np.tanh, derivative=lambda x, y: 1.0 - y * y, function_into=large_blocks_clobber,
                       uses_net=False)
    with pytest.raises(PluginError, match=r"tanh_sized.*in place over its input \(4116 entries\)"):
        neurosim.make_registry([_activation_plugin(sized)])
    with pytest.raises(PluginError, match=r"uses_net must be True or False, not 'no'"):
        neurosim.make_registry([_activation_plugin(Activation("vague", np.tanh, derivative=lambda x, y: 1.0 - y * y,
                                                              uses_net="no"))])
    # The same tanh, honest about it, is accepted; every built-in makes the claim and passes.
    honest = Activation("tanh_honest", np.tanh, derivative=lambda x, y: 1.0 - y * y, uses_net=False)
    assert "tanh_honest" in neurosim.make_registry([_activation_plugin(honest)]).names("activation")
    registry = neurosim.make_registry()
    assert not any(registry.activation(name).uses_net for name in registry.names("activation"))


@pytest.mark.parametrize("thing", [
    pytest.param(lambda x: x, id="function"),
    pytest.param("sigmoid", id="string"),
    pytest.param(Loss("not_an_activation", lambda y, t: 0.0, lambda y, t: y), id="loss"),
])
def test_registering_a_non_activation_is_refused(thing):
    with pytest.raises(PluginError, match=r"registered .* as an activation; register a neurosim.Activation"):
        neurosim.make_registry([_activation_plugin(thing)])


def test_registering_an_activation_as_a_loss_is_refused(tmp_path):
    path = _write_plugin(tmp_path, "wrong_kind", """
        @hookimpl
        def neurosim_register_losses(register):
            register(Activation("oops", np.tanh, derivative=lambda x, y: 1 - y * y))
    """)
    with pytest.raises(PluginError, match=r"registered Activation\('oops'\) as an? loss; register a neurosim.Loss"):
        neurosim.make_registry([path])


def test_activation_without_a_name_is_refused():
    with pytest.raises(PluginError, match="without a name"):
        neurosim.make_registry([_activation_plugin(Activation("  ", np.tanh, derivative=lambda x, y: 1 - y * y))])


def test_misspelt_hook_name_is_refused(tmp_path):
    class Misspelt:
        @neurosim.hookimpl
        def neurosim_register_activation(self, register):  # singular: not a neurosim hook
            register(Activation("never", np.tanh, derivative=lambda x, y: 1 - y * y))

    with pytest.raises(PluginError) as info:
        neurosim.make_registry([Misspelt()])
    message = str(info.value)
    assert "neurosim_register_activation'" in message
    assert "Misspelt" in message
    for hook in ("neurosim_register_activations", "neurosim_register_initializers", "neurosim_register_losses"):
        assert hook in message
    path = _write_plugin(tmp_path, "misspelt_module", """
        @hookimpl
        def neurosim_register_loss(register):
            pass
    """)
    with pytest.raises(PluginError, match=r"unknown hook 'neurosim_register_loss' in plugin .*misspelt_module"):
        neurosim.make_registry([path])


def test_hook_with_a_wrong_argument_name_is_refused():
    class WrongArgument:
        @neurosim.hookimpl
        def neurosim_register_activations(self, add):
            pass

    with pytest.raises(PluginError, match=r"(?s)WrongArgument.*cannot be registered.*'add'.*hookspec"):
        neurosim.make_registry([WrongArgument()])


def test_hook_that_raises_names_the_plugin(tmp_path):
    path = _write_plugin(tmp_path, "exploding_plugin", """
        @hookimpl
        def neurosim_register_activations(register):
            raise RuntimeError("out of coffee")
    """)
    with pytest.raises(PluginError) as info:
        neurosim.make_registry([path])
    message = str(info.value)
    assert "exploding_plugin" in message
    assert "neurosim_register_activations" in message
    assert "RuntimeError: out of coffee" in message
    assert isinstance(info.value.__cause__, RuntimeError)


def test_hook_that_raises_in_a_plugin_object_names_its_class():
    class ExplodingPlugin:
        @neurosim.hookimpl
        def neurosim_register_losses(self, register):
            raise RuntimeError("out of tea")

    with pytest.raises(PluginError, match="ExplodingPlugin"):
        neurosim.make_registry([ExplodingPlugin()])


def test_hook_function_without_the_marker_is_refused():
    class ForgetfulPlugin:
        def neurosim_register_activations(self, register):
            raise AssertionError("never called")

    with pytest.raises(PluginError, match=r"ForgetfulPlugin.*neurosim_register_activations.*not marked"):
        neurosim.make_registry([ForgetfulPlugin()])


def test_missing_plugin_file_is_refused(tmp_path):
    missing = tmp_path / "nowhere" / "plugin.py"
    with pytest.raises(PluginError, match=r"plugin file .*nowhere.*plugin\.py' does not exist"):
        neurosim.make_registry([str(missing)])
    with pytest.raises(PluginError, match="does not exist"):
        neurosim.make_registry(["not_here.py"], base_dir=tmp_path)
    with pytest.raises(PluginError, match="does not exist"):
        neurosim.Network(plugins=[missing])


def test_plugin_file_that_fails_to_import_is_refused(tmp_path):
    path = tmp_path / "broken_plugin.py"
    path.write_text("import numpy as np\nraise ImportError('needs scipy')\n")
    with pytest.raises(PluginError, match=r"broken_plugin\.py' failed to import: ImportError: needs scipy"):
        neurosim.make_registry([path])
    assert not [m for m in sys.modules if m.startswith("neurosim_user_plugin_broken_plugin")]
    syntax = tmp_path / "syntax_plugin.py"
    syntax.write_text("def neurosim_register_activations(register:\n")
    with pytest.raises(PluginError, match="failed to import: SyntaxError"):
        neurosim.make_registry([syntax])


def test_unimportable_module_name_is_refused():
    with pytest.raises(PluginError, match=r"plugin module 'neurosim_no_such_plugin_module' cannot be imported"):
        neurosim.make_registry(["neurosim_no_such_plugin_module"])
    with pytest.raises(PluginError, match="cannot be imported"):
        neurosim.make_registry(["neurosim.no_such_submodule"])


def test_module_name_that_raises_at_import_is_refused(tmp_path, monkeypatch):
    name = "neurosim_test_raising_plugin"
    (tmp_path / f"{name}.py").write_text("raise ValueError('bad configuration')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(PluginError, match="bad configuration"):
            neurosim.make_registry([name])
    finally:
        sys.modules.pop(name, None)


# --- 5. the wheel ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_ships_builtins_as_neurosim_plugins_and_works_installed(tmp_path):
    src = _checkout_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "-w", dist, src, cwd=tmp_path)
    wheels = list(dist.glob("neurosim-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points_file = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(zf.read(entry_points_file).decode())
    for module in ("__init__", "activations", "losses", "initializers"):
        assert f"neurosim_plugins/{module}.py" in names
    assert {"neurosim/__init__.py", "neurosim/plugins.py", "neurosim/hookspecs.py"} <= names
    assert not [n for n in names if n.startswith("plugins/")], "the built-ins leaked as a top-level `plugins`"
    assert {n.split("/")[0] for n in names} == {"neurosim", "neurosim_plugins", entry_points_file.split("/")[0]}
    assert "neurosim" in entry_points.sections()
    assert dict(entry_points["neurosim"]) == DECLARED_ENTRY_POINTS
    assert entry_points["console_scripts"]["neurosim"] == "neurosim.cli:main"

    target = tmp_path / "site"
    _pip("install", "--no-deps", "--no-index", "--quiet", "--target", target, wheel, cwd=tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    code = "import json, sys\nimport neurosim, neurosim_plugins\n" + MAZUR_CODE + textwrap.dedent("""
        try:
            import plugins
            bare = plugins.__file__
        except ImportError:
            bare = None
        registry = neurosim.make_registry()
        o1, o2 = net.forward([0.05, 0.10]).tolist()
        print(json.dumps({
            "neurosim": neurosim.__file__, "neurosim_plugins": neurosim_plugins.__file__, "bare": bare,
            "version": neurosim.__version__,
            "activations": registry.names("activation"), "losses": registry.names("loss"),
            "initializers": registry.names("initializer"),
            "owner": registry.owner("activation", "sigmoid"),
            "owner_module": sys.modules[registry.manager.get_plugin(
                registry.owner("activation", "sigmoid")).__name__].__file__,
            "o1": o1, "o2": o2,
        }))
    """)
    got = _python_json(code, cwd=run, pythonpath=target)
    site = target.resolve()
    assert Path(got["neurosim"]).resolve().is_relative_to(site), got["neurosim"]
    assert Path(got["neurosim_plugins"]).resolve().is_relative_to(site), got["neurosim_plugins"]
    assert Path(got["owner_module"]).resolve().is_relative_to(site), got["owner_module"]
    assert got["bare"] is None, f"`import plugins` found {got['bare']}"
    assert got["version"] == PYPROJECT["project"]["version"]
    assert set(got["activations"]) >= BUILTIN_ACTIVATIONS
    assert set(got["losses"]) >= BUILTIN_LOSSES
    assert set(got["initializers"]) >= BUILTIN_INITIALIZERS
    assert got["owner"] == BUILTIN_OWNER["activation"]
    assert got["o1"] == pytest.approx(0.75136507, abs=1e-8)
    assert got["o2"] == pytest.approx(0.772928465, abs=1e-8)


# --- 6. the example distribution, in a fresh virtual environment ------------------------------------


@pytest.mark.slow
def test_example_distribution_works_in_a_fresh_virtual_environment(tmp_path):
    python, site = _fresh_venv(tmp_path / "venv")
    example = tmp_path / "neurosim-softsign"
    shutil.copytree(EXAMPLE_DIST, example, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    _pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "--target", site,
         _checkout_copy(tmp_path / "src"), example, cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(EXAMPLE_DIST / "softsign_huber.toml", work)     # no plugins = [...]: found installed

    report = _run([python, "-m", "neurosim", "run", "--check-plugins", "softsign_huber.toml"], cwd=work)
    lines = report.splitlines()
    assert lines[0] == ("checked activation 'softsign' from neurosim-softsign, loss 'huber' from "
                        "neurosim-softsign: all passed")
    assert "total error (huber) before training: 1.18055556" in lines      # 85/72
    assert "  ok    weight x -> o at the end: 0.4219907407 (wanted = 0.4219907407 ± 1e-14)" in lines
    assert lines[-2:] == ["4 of 4 expectations met", "softsign_huber.toml: passed"]

    listing = json.loads(_run([python, "-m", "neurosim", "plugins", "--json"], cwd=work))
    [mine] = [p for p in listing if p["name"] == "neurosim-softsign"]
    assert (mine["distribution"], mine["version"], mine["origin"]) == ("neurosim-softsign", "0.1.0", "entry point")
    assert mine["entry_point"] == "neurosim-softsign = neurosim_softsign"
    assert mine["provides"] == {"activation": ["softsign"], "loss": ["huber"]}
    assert Path(mine["file"]).parent.resolve() == site.resolve()
    assert all(Path(p["file"]).resolve().is_relative_to(site.resolve()) for p in listing)   # not the checkout
    checked = _run([python, "-m", "neurosim", "check-plugin", "neurosim-softsign"], cwd=work)
    assert checked.splitlines()[-1] == "2 checked, all passed"

    got = _python_json(textwrap.dedent("""
        import importlib.util, json, sys
        import numpy as np
        import neurosim
        registry = neurosim.make_registry()
        huber = registry.loss("huber")
        softsign = registry.activation("softsign")
        print(json.dumps({
            "prefix": sys.prefix, "neurosim": neurosim.__file__,
            "huber": float(huber.value(np.array([[0.5, 3.0]]), np.array([[0.0, 0.0]]))),
            "gradient": huber.gradient(np.array([[0.5, 3.0]]), np.array([[0.0, 0.0]])).tolist(),
            "softsign": softsign.function(np.array([1.0, -3.0])).tolist(),
            "owner": registry.owner("loss", "huber"),
            "others": [m for m in ("pytest", "hypothesis", "setuptools") if importlib.util.find_spec(m)],
        }))
    """), cwd=work, pythonpath=None, python=python)
    assert Path(got["prefix"]).resolve() == (tmp_path / "venv").resolve()
    assert Path(got["neurosim"]).resolve().is_relative_to(site.resolve())
    assert got["huber"] == 0.125 + 2.5            # 0.5²/2 inside the quadratic part, 3 - 1/2 beyond it
    assert got["gradient"] == [[0.5, 1.0]]
    assert got["softsign"] == [0.5, -0.75]
    assert got["owner"] == "neurosim-softsign"
    assert got["others"] == []                    # only the core dependencies are there


def test_a_loss_whose_value_and_gradient_differ_from_its_value_and_gradient_is_refused():
    mse = neurosim.default_registry().loss("mse")
    mse.check_contract()                                   # the built-in gives exactly the same bits
    off = neurosim.Loss("off", mse.value, mse.gradient,
                        value_and_gradient=lambda y, t, out: mse.value_and_gradient(y, t, out) * (1 + 2e-16))
    with pytest.raises(ValueError, match=r"value_and_gradient\(y, t, out\) gave a value other than value\(y, t\) "
                                         r"gives \(entry 0: 1\.48917438\d+ against 1\.48917438\d+\)"):
        off.check_contract()

    def half_written(y, t, out):                           # the right value, the gradient left out
        out[..., 0] = (y - t)[..., 0]
        return mse.value(y, t)
    with pytest.raises(ValueError, match=r"gave a gradient written into out other than gradient\(y, t\) gives "
                                         r"\(entry 1: nan against "):
        neurosim.Loss("half", mse.value, mse.gradient, value_and_gradient=half_written).check_contract()

    def rebinds(y, t, out):                                # a new array, never the one given
        out = y - t
        return mse.value(y, t)
    with pytest.raises(ValueError, match=r"left out as it was given; write dE/dy into it"):
        neurosim.Loss("rebinds", mse.value, mse.gradient, value_and_gradient=rebinds).check_contract()

    def both(y, t, out):                                   # the old contract: (value, gradient)
        out[...] = y - t
        return mse.value(y, t), out
    with pytest.raises(ValueError, match=r"value_and_gradient\(y, t, out\) for y of shape \(4, 3\) returned a "
                                         r"tuple of 2 items, not a float array"):
        neurosim.Loss("both", mse.value, mse.gradient, value_and_gradient=both).check_contract()

    def in_outs_order(y, t, out):                          # the squares summed in the layout of out
        np.subtract(y, t, out=out)
        return 0.5 * (out * out).sum(axis=(-2, -1))
    with pytest.raises(ValueError, match=r"gave a value other than value\(y, t\) gives \(Fortran order\) "
                                         r"\(entry 0: 7\.23354101272405\d+ against 7\.23354101272405\d+\)"):
        neurosim.Loss("layout", mse.value, mse.gradient, value_and_gradient=in_outs_order).check_contract()


def test_a_file_plugin_that_breaks_a_contract_is_named_by_its_file(tmp_path):
    path = _write_plugin(tmp_path, "bad_loss_file", """
        @hookimpl
        def neurosim_register_losses(register):
            register(Loss("badsum", lambda y, t: np.sum(y - t, axis=-1), lambda y, t: y - t))
    """)
    with pytest.raises(PluginError, match=rf"loss 'badsum' from plugin the file {re.escape(str(path))} does not "
                                          r"keep its contract: value\(y, t\) for y of shape \(4, 3\) returned an "
                                          r"array of shape \(4,\)"):
        neurosim.make_registry([str(path)])
