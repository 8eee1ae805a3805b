"""Tests of the plugin author's tools: ``neurosim check-plugin`` and :func:`neurosim.check_plugin` (a softsign with a wrong derivative, a loss with a wrong fused delta, a softmax with a wrong vector-Jacobian product, shape, dtype, layout and in-place violations are each caught with the numbers of the worst input; every built-in passes; corners such as relu's are skipped, not failed), ``neurosim run --check-plugins`` (refuses to train on a failure), ``neurosim plugins`` (each plugin with what it provides, its distribution and version, where it was loaded from), the hook reference of docs/plugins.md (generated from neurosim/hookspecs.py; stale or missing text fails), the tutorial in docs/plugins.md (its files and commands run as quoted), and the example distribution in examples/neurosim-softsign loaded by path (its Huber loss and softsign on known inputs, its hand-checkable scenario). Installing that distribution into a fresh virtual environment is in tests/test_plugins.py, beside the other installs.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import re
import shlex
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import neurosim
import neurosim.hookspecs
from neurosim import Activation, Loss, PluginError
from neurosim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
PLUGIN_MODULE = DATA / "plugin_module.py"
EXAMPLE = ROOT / "examples" / "neurosim-softsign"
EXAMPLE_MODULE = EXAMPLE / "neurosim_softsign.py"
PAGE = ROOT / "docs" / "plugins.md"


def softsign(x):
    return x / (1.0 + np.abs(x))


#: The newcomer's mistake: the derivative without its square. |1/(1+a) - 1/(1+a)^2| is
#: largest at |net| = 1: 0.5 against 0.25.
WRONG_SOFTSIGN = Activation("softsign", softsign, derivative=lambda x, y: 1.0 / (1.0 + np.abs(x)))
RIGHT_SOFTSIGN = Activation("softsign", softsign, derivative=lambda x, y: 1.0 / (1.0 + np.abs(x)) ** 2)

WRONG_SOFTSIGN_FILE = """
import numpy as np
import neurosim

@neurosim.hookimpl
def neurosim_register_activations(register):
    register(neurosim.Activation("softsign", lambda x: x / (1 + np.abs(x)),
                                 derivative=lambda x, y: 1 / (1 + np.abs(x))))
"""


def _failure(report, what, dtype="float64"):
    [check] = [c for c in report.checks if c.what == what and c.dtype == dtype]
    return check


# --- 1. wrong derivatives are caught, with the numbers -----------------------------------------


def test_softsign_with_a_wrong_derivative_is_caught_with_the_worst_input():
    report = neurosim.check_plugin(WRONG_SOFTSIGN)
    assert not report.passed
    assert [(c.what, c.dtype) for c in report.failures] == [("derivative", "float64"), ("derivative", "float32")]
    for check in report.failures:
        assert check.analytic == 0.5                         # 1 / (1 + 1)
        assert check.numeric == pytest.approx(0.25, abs=1e-9 if check.dtype == "float64" else 1e-4)
        assert check.at == "net = -1"
        assert check.error == pytest.approx(0.25, abs=1e-4)
        assert check.points == 144                           # 48 inputs in each of three layouts
        assert check.detail.startswith("analytic 0.5 vs finite-difference 0.25 at net = -1: derivative(net, y)")
    assert "analytic 0.5 vs finite-difference 0.25 at net = -1" in report.text()
    with pytest.raises(PluginError, match=r"activation 'softsign' from the object given: derivative \(float64\): "
                                          r"analytic 0\.5 vs finite-difference 0\.25 at net = -1"):
        report.raise_if_failed()
    # The correct derivative passes; its worst float64 difference is at the kink of f'' (net = 0).
    right = neurosim.check_plugin(RIGHT_SOFTSIGN)
    assert right.passed, right.text()
    derivative = _failure(right, "derivative")
    assert derivative.at == "net = 0" and derivative.error == pytest.approx(1e-6, rel=1e-3)


def test_check_plugin_command_on_a_wrong_file_exits_1_with_the_numbers(tmp_path, capsys, monkeypatch):
    (tmp_path / "wrong_softsign.py").write_text(WRONG_SOFTSIGN_FILE)
    monkeypatch.chdir(tmp_path)
    assert main(["check-plugin", "wrong_softsign.py"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("activation 'softsign' from wrong_softsign.py: FAILED\n")
    assert "  FAILED derivative (float64): analytic 0.5 vs finite-difference 0.25 at net = -1" in out
    assert "  FAILED derivative (float32): analytic 0.5 vs finite-difference 0.25 at net = -1" in out
    assert out.endswith("1 checked, 1 failed\n")


def test_a_loss_with_a_wrong_fused_delta_is_caught():
    bce = neurosim.make_registry().loss("bce")
    flipped = Loss("bce_flipped", bce.value, bce.gradient, fused={"sigmoid": lambda y, t: t - y}, targets=(0.0, 1.0))
    report = neurosim.check_plugin(flipped)
    assert {(c.what, c.passed) for c in report.checks} == {("value", True), ("gradient", True),
                                                           ("fused['sigmoid']", False)}
    check = _failure(report, "fused['sigmoid']")
    net, y, t = map(float, re.fullmatch(r"net = (\S+) \(y = (\S+)\), t = (\S+)", check.at).groups())
    assert y == pytest.approx(1.0 / (1.0 + np.exp(-net)), rel=1e-5)
    assert check.numeric == pytest.approx(y - t, rel=1e-6)                # the true delta
    assert check.analytic == pytest.approx(t - y, rel=1e-6)               # the flipped one
    assert check.error == pytest.approx(2 * abs(y - t), rel=1e-6)
    assert f"analytic {check.analytic:.4g} vs finite-difference {check.numeric:.4g} at net = " in check.detail

    # A subtler slip: softmax + cce's delta written as y - t, right only when each target
    # row sums to 1; the check's targets (0, 0.3 and 1) do not.
    cce = neurosim.make_registry().loss("cce")
    naive = Loss("cce_naive", cce.value, cce.gradient, fused={"softmax": lambda y, t: y - t}, targets=(0.0, 1.0),
                 min_outputs=2)
    report = neurosim.check_plugin(naive)
    check = _failure(report, "fused['softmax']")
    assert not check.passed and _failure(report, "gradient").passed
    assert abs(check.analytic - check.numeric) > 0.1
    assert neurosim.check_plugin(cce).passed


def test_a_softmax_with_a_wrong_vjp_is_caught():
    def softmax(x):
        z = np.exp(x - x.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    wrong = Activation("softmax_wrong", softmax, vjp=lambda net, y, g: y * g, group=True)   # no - Σ g y
    report = neurosim.check_plugin(wrong)
    check = _failure(report, "vjp")
    assert not check.passed and _failure(report, "function").passed
    numbers = re.fullmatch(r"net = \[(.*)\], dE/dy = \[(.*)\] \(component (\d)\)", check.at)
    net = np.array([float(v) for v in numbers.group(1).split(", ")])
    g = np.array([float(v) for v in numbers.group(2).split(", ")])
    j = int(numbers.group(3))
    y = softmax(net)
    assert check.analytic == pytest.approx(y[j] * g[j], rel=1e-4)
    assert check.numeric == pytest.approx(y[j] * (g[j] - g @ y), rel=1e-4)          # the true vjp
    right = Activation("softmax_right", softmax, vjp=lambda net, y, g: y * (g - (g * y).sum(-1, keepdims=True)),
                       group=True)
    assert neurosim.check_plugin(right).passed


# --- 2. shapes, dtypes, layouts, in-place changes ---------------------------------------------------


def _detail(report, what, dtype):
    check = _failure(report, what, dtype)
    assert not check.passed, check
    return check.detail


def test_a_float32_input_that_comes_back_float64_is_caught():
    upcast = Activation("upcast", lambda x: np.asarray(x, dtype=np.float64) / (1 + np.abs(x)),
                        derivative=lambda x, y: 1 / (1 + np.abs(x)) ** 2)
    report = neurosim.check_plugin(upcast)
    assert _failure(report, "function", "float64").passed
    assert "returned float64 for float32 input; keep the input's dtype" in _detail(report, "function", "float32")
    loss = Loss("upcast_mse", lambda y, t: 0.5 * np.sum((y - t) ** 2, axis=(-2, -1)),
                lambda y, t: (y - t).astype(np.float64))
    report = neurosim.check_plugin(loss)
    assert _failure(report, "gradient", "float64").passed
    assert re.match(r"gradient\(y, t\) for y of shape \(4, 3\) \(float32\) returned float64 for float32 input",
                    _detail(report, "gradient", "float32"))


def test_a_derivative_of_the_wrong_shape_is_caught():
    flat = Activation("flat", lambda x: 2.0 * x, derivative=lambda x, y: np.full(x.size, 2.0, x.dtype))
    report = neurosim.check_plugin(flat)
    assert _detail(report, "derivative", "float64") == (
        "derivative(net, y) for net of shape (4, 12) (float64) returned an array of shape (48,); it must keep the "
        "input's shape (4, 12)")
    scalar = Activation("scalar", lambda x: 2.0 * x, derivative=lambda x, y: 2.0)
    assert "returned float 2.0, not a numpy array" in _detail(neurosim.check_plugin(scalar), "derivative", "float64")


def test_a_loss_summing_over_every_axis_is_caught_for_ensembles():
    total = Loss("sae", lambda y, t: float(np.sum(np.abs(y - t))), lambda y, t: np.sign(y - t))
    detail = _detail(neurosim.check_plugin(total), "value", "float64")
    assert "for y of shape (2, 4, 3) (two ensemble members)" in detail
    assert re.search(r"returned \d+\.\d+; it must return one total per member \(sum over axis=\(-2, -1\)", detail)
    assert _failure(neurosim.check_plugin(total), "gradient").passed


def test_non_elementwise_in_place_and_overflowing_activations_are_caught():
    normalised = Activation("normalised", lambda x: x / np.abs(x).sum(), derivative=lambda x, y: np.ones_like(x))
    assert "an elementwise activation must work on each net input alone" in _detail(
        neurosim.check_plugin(normalised), "function", "float64")

    def tanh_in_place(x):
        return np.tanh(x, out=x)

    in_place = Activation("in_place", tanh_in_place, derivative=lambda x, y: 1 - y * y)
    assert "changed its input in place" in _detail(neurosim.check_plugin(in_place), "function", "float64")

    steep = Activation("exp2", lambda x: np.exp(2 * x), derivative=lambda x, y: 2 * y)
    report = neurosim.check_plugin(steep)
    assert _failure(report, "large inputs", "float64").passed                     # e^100 is finite in float64
    assert "returned non-finite values (inf)" in _detail(report, "large inputs", "float32")

    rows_mixed = Activation("column_softmax", lambda x: np.exp(x) / np.exp(x).sum(axis=0, keepdims=True),
                            vjp=lambda net, y, g: y * (g - (g * y).sum(0, keepdims=True)), group=True)
    assert "a group activation normalises over the last axis only" in _detail(
        neurosim.check_plugin(rows_mixed), "function", "float64")

    def raises(x):
        raise RuntimeError("not today")

    broken = Activation("broken", raises, derivative=lambda x, y: x)
    assert _detail(neurosim.check_plugin(broken), "function", "float64") == (
        "function(net) for net of shape (48,) (float64) raised RuntimeError: not today")


# --- 3. every built-in passes; corners are skipped --------------------------------------------


def test_every_builtin_plugin_passes():
    registry = neurosim.make_registry()
    report = neurosim.check_plugin("neurosim", registry=registry)     # the distribution: every built-in
    assert report.passed, report.text()
    expected = {(kind, name) for kind in neurosim.plugins.KINDS for name in registry.names(kind)}
    assert {(s.kind, s.name) for s in report.subjects} == expected
    numeric = [c for c in report.checks if c.error is not None]
    assert {(c.kind, c.name) for c in numeric} == {
        ("activation", n) for n in ("identity", "sigmoid", "tanh", "relu", "softmax")} | {
        ("loss", n) for n in ("mse", "bce", "cce")}
    assert max(c.error for c in numeric if c.dtype == "float64") < 1e-7
    assert max(c.error for c in numeric if c.dtype == "float32") < 2e-3
    # the fused deltas of bce and cce are among them
    assert {c.what for c in report.of("loss", "bce")} >= {"fused['sigmoid']"}
    assert {c.what for c in report.of("loss", "cce")} >= {"fused['softmax']"}


def test_relu_corner_is_skipped_not_failed():
    report = neurosim.check_plugin("activation:relu")
    check = _failure(report, "derivative")
    assert check.passed and check.error == 0.0
    assert (check.points, check.skipped) == (141, 3)                  # net = 0 in each of the three layouts
    assert "(3 more skipped: not differentiable there)" in check.detail


def test_docstring_examples_run():
    result = doctest.testmod(neurosim.plugincheck, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 7 and result.failed == 0


def test_reports_are_reproducible():
    assert neurosim.check_plugin(WRONG_SOFTSIGN, seed=3) == neurosim.check_plugin(WRONG_SOFTSIGN, seed=3)


# --- 4. what a target names ------------------------------------------------------------------------


def test_targets_by_name_kind_plugin_path_and_module(tmp_path, monkeypatch):
    def subjects(target, **kw):
        return [(s.kind, s.name, s.plugin) for s in neurosim.check_plugin(target, **kw).subjects]

    assert subjects("tanh") == [("activation", "tanh", "neurosim.activations")]
    assert subjects("loss:mse") == subjects("losses:mse") == [("loss", "mse", "neurosim.losses")]
    assert subjects("stop_criterion:within") == [("stop criterion", "within", "neurosim.stopping")]
    assert [n for _k, n, _p in subjects("neurosim.losses")] == ["bce", "cce", "mse"]
    path = str(PLUGIN_MODULE)
    assert [(k, n) for k, n, _p in subjects(path)] == [("activation", "softplus"), ("initializer", "constant")]
    assert subjects("plugin_module.py", base_dir=DATA)[0][2] in (path, "tests/data/plugin_module.py")
    (tmp_path / "neurosim_test_check_dotted.py").write_text(WRONG_SOFTSIGN_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    report = neurosim.check_plugin("neurosim_test_check_dotted")
    assert [(s.kind, s.name, s.plugin) for s in report.subjects] == [
        ("activation", "softsign", "neurosim_test_check_dotted")]
    assert not report.passed
    # several targets, one report; an object named twice is checked once
    both = neurosim.plugincheck.check_plugins(["tanh", "activation:tanh", "loss:mse"])
    assert [(s.kind, s.name) for s in both.subjects] == [("activation", "tanh"), ("loss", "mse")]


def test_unknown_targets_are_refused_with_a_suggestion(tmp_path, capsys):
    with pytest.raises(PluginError, match=r"nothing to check called 'tanhh'.*did you mean 'tanh'\?"):
        neurosim.check_plugin("tanhh")
    with pytest.raises(PluginError, match=r"unknown activation 'sigmod'; did you mean 'sigmoid'"):
        neurosim.check_plugin("activation:sigmod")
    with pytest.raises(PluginError, match=r"plugin file .*nowhere\.py' does not exist"):
        neurosim.check_plugin(str(tmp_path / "nowhere.py"))
    watcher = tmp_path / "watcher.py"
    watcher.write_text("import neurosim\n\n@neurosim.hookimpl\ndef neurosim_epoch_end(progress):\n    pass\n")
    with pytest.raises(PluginError, match=r"provides nothing to check \(it implements neurosim_epoch_end\)"):
        neurosim.check_plugin(watcher)
    assert main(["check-plugin", "tanhh"]) == 2
    assert "did you mean 'tanh'?" in capsys.readouterr().err


# --- 5. neurosim run --check-plugins -----------------------------------------------------------------


SCENARIO = """
plugins = ["{plugin}"]

[network]
activation = "softsign"

[[network.layers]]
name = "i"
size = 1

[[network.layers]]
name = "o"
size = 1
from = ["i"]
activation = "identity"

[data]
inputs = [[1.0], [-1.0]]
targets = [[0.5], [-0.5]]

[training]
loss = "mse"
epochs = 3
"""


def test_run_check_plugins_refuses_to_train_on_a_wrong_derivative(tmp_path, capsys):
    (tmp_path / "wrong_softsign.py").write_text(WRONG_SOFTSIGN_FILE)
    scenario = tmp_path / "softsign.toml"
    scenario.write_text(SCENARIO.format(plugin="wrong_softsign.py"))
    out = tmp_path / "results"
    assert main(["run", "--check-plugins", "--out", str(out), str(scenario)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""                                        # nothing trained, nothing reported
    assert not out.exists()
    assert f"error: plugin check failed, not training {scenario}: activation 'softsign' from " in captured.err
    assert "derivative (float64): analytic 0.5 vs finite-difference 0.25 at net = -1" in captured.err
    # Without the flag the same scenario trains (the silent failure the check exists for).
    assert main(["run", "-q", str(scenario)]) == 0


def test_run_check_plugins_checks_what_the_scenario_uses_and_trains(tmp_path, capsys):
    right = WRONG_SOFTSIGN_FILE.replace("(1 + np.abs(x))))", "(1 + np.abs(x)) ** 2))")
    assert right != WRONG_SOFTSIGN_FILE
    (tmp_path / "softsign_plugin.py").write_text(right)
    scenario = tmp_path / "softsign.toml"
    scenario.write_text(SCENARIO.format(plugin="softsign_plugin.py"))
    assert main(["run", "--check-plugins", str(scenario)]) == 0
    first, *rest = capsys.readouterr().out.splitlines()
    assert first == (f"checked activation 'softsign' from {tmp_path / 'softsign_plugin.py'}, activation 'identity' "
                     "from neurosim.activations, loss 'mse' from neurosim.losses: all passed")
    assert rest[-1] == f"{scenario}: passed"


# --- 6. neurosim plugins ----------------------------------------------------------------------------------


def test_plugins_lists_each_plugin_with_its_distribution_and_origin(capsys):
    assert main(["plugins", "--plugin", str(PLUGIN_MODULE)]) == 0
    out = capsys.readouterr().out
    version = neurosim.__version__
    assert (f"neurosim.activations\n  distribution   neurosim {version}\n  loaded from    entry point "
            "neurosim.activations = neurosim_plugins.activations (group 'neurosim')\n  module file    ") in out
    assert "  activations    identity, relu, sigmoid, softmax, tanh\n" in out
    assert "  stop criteria  bit_fail, early_stopping, error_below, max_seconds, within\n" in out
    assert (f"{PLUGIN_MODULE}\n  distribution   none (not installed)\n  loaded from    the module file given "
            f"(--plugin or a scenario's plugins)\n  module file    {PLUGIN_MODULE}\n  activations    softplus\n"
            "  initializers   constant\n") in out

    assert main(["plugins", "--json"]) == 0
    infos = {info["name"]: info for info in json.loads(capsys.readouterr().out)}
    assert set(infos) == {"neurosim.activations", "neurosim.losses", "neurosim.initializers", "neurosim.datasets",
                          "neurosim.measures", "neurosim.optimizers", "neurosim.stopping"}
    losses = infos["neurosim.losses"]
    assert losses["provides"] == {"loss": ["bce", "cce", "mse"]}
    assert (losses["distribution"], losses["version"], losses["origin"]) == ("neurosim", version, "entry point")
    assert losses["entry_point"] == "neurosim.losses = neurosim_plugins.losses"
    assert losses["hooks"] == ["neurosim_register_losses"]
    assert Path(losses["file"]).name == "losses.py"


def test_plugin_info_of_a_module_and_an_object():
    class Watcher:
        @neurosim.hookimpl
        def neurosim_epoch_end(self, progress):
            pass

    watcher = Watcher()
    infos = {i.name: i for i in neurosim.make_registry(["neurosim.functions", watcher]).plugins()}
    module = infos["neurosim.functions"]
    assert (module.origin, module.distribution, module.version) == ("module", "neurosim", neurosim.__version__)
    assert (module.provides, module.hooks) == ({}, [])
    [obj] = [i for i in infos.values() if i.origin == "object"]
    assert obj.name.startswith("test_plugin_info_of_a_module_and_an_object.<locals>.Watcher@")
    assert (obj.hooks, obj.provides, obj.distribution, obj.file) == (["neurosim_epoch_end"], {}, None, None)


# --- 7. the hook reference in docs/plugins.md ------------------------------------------------------------


def _hook_reference():
    spec = importlib.util.spec_from_file_location("hook_reference", ROOT / "docs" / "tools" / "hook_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hook_reference_is_generated_and_up_to_date():
    tool = _hook_reference()
    page = PAGE.read_text()
    assert tool.update(page) == page, "docs/plugins.md's hook reference is stale: python docs/tools/hook_reference.py"
    section = page[page.index(tool.BEGIN):page.index(tool.END)]
    hooks = [n for n in dir(neurosim.hookspecs) if n.startswith("neurosim_")]
    assert len(hooks) == 10 and [name for _group, name in tool.hooks()] != []
    assert sorted(name for _group, name in tool.hooks()) == hooks
    for hook in hooks:
        heading = re.search(rf"^#### `{hook}\((\w+)\)`\n\n(.+)$", section, re.M)
        assert heading, f"hook {hook} is missing from the hook reference"
        assert heading.group(2) == neurosim.hookspecs.__dict__[hook].__doc__.strip().splitlines()[0]


def test_hook_reference_notices_stale_and_missing_text(tmp_path, monkeypatch, capsys):
    tool = _hook_reference()
    page = PAGE.read_text()
    missing = tmp_path / "missing.md"
    start = page.index("#### `neurosim_epoch_end(progress)`")
    missing.write_text(page[:start] + page[page.index("#### `neurosim_train_end", start):])
    assert tool.main(["--check", "--page", str(missing)]) == 1
    assert "the hook reference is stale" in capsys.readouterr().err
    assert tool.main(["--page", str(missing)]) == 0                  # rewritten: the hook is back
    assert missing.read_text() == page
    monkeypatch.setattr(neurosim.hookspecs.neurosim_epoch_end, "__doc__", "An epoch has ended (new text).")
    assert tool.update(page) != page
    assert "An epoch has ended (new text)." in tool.render()
    with pytest.raises(ValueError, match="markers"):
        tool.update(page.replace(tool.END, ""))


# --- 8. the tutorial runs as written ---------------------------------------------------------------------


def _tutorial() -> str:
    page = PAGE.read_text()
    start = page.index("## Your first plugin in ten minutes")
    return page[start:page.index("\n## ", start + 3)]


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w+)\n(.*?)^```", text, re.S | re.M)


def _matches(expected: str, actual: str) -> bool:
    """``expected`` with each ``...`` line standing for any number of lines."""
    parts = [re.escape(part) for part in expected.split("...\n")]
    return re.fullmatch("(?:.*\n)*?".join(parts), actual) is not None


def test_tutorial_files_and_commands_run_as_quoted(tmp_path, capsys, monkeypatch):
    blocks = _blocks(_tutorial())
    written = []
    for lang, body in blocks:
        first = body.splitlines()[0]
        if lang in ("python", "toml") and re.fullmatch(r"# [\w.]+\.(py|toml)", first):
            (tmp_path / first[2:]).write_text(body)
            written.append(first[2:])
    assert written == ["softsign.py", "xor_softsign.toml"]
    monkeypatch.chdir(tmp_path)
    commands = [body for lang, body in blocks if lang == "console"]
    assert len(commands) == 3
    for body in commands:
        command, expected = body.split("\n", 1)
        assert command.startswith("$ neurosim ")
        capsys.readouterr()
        assert main(shlex.split(command)[2:]) == 0, command
        actual = capsys.readouterr().out
        assert _matches(expected, actual), f"{command}\n--- quoted\n{expected}--- printed\n{actual}"
    [session] = [body for lang, body in blocks if lang == "pycon"]
    test = doctest.DocTestParser().get_doctest(session, {}, "plugins.md tutorial", str(PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and len(test.examples) == 5


def test_tutorial_pyproject_is_the_example_distributions():
    [pyproject] = [body for lang, body in _blocks(_tutorial()) if lang == "toml" and body.startswith("[project]")]
    assert pyproject in (EXAMPLE / "pyproject.toml").read_text()
    assert _matches("x\n...\ny\n", "x\na\nb\ny\n") and _matches("x\n...\ny\n", "x\ny\n")
    assert not _matches("x\n...\ny\n", "x\na\nz\n")


# --- 9. the example distribution, loaded by path ----------------------------------------------------


def test_example_plugin_values_and_checks():
    registry = neurosim.make_registry([EXAMPLE_MODULE])
    huber, soft = registry.loss("huber"), registry.activation("softsign")
    y, t = np.array([[0.5, 3.0], [-0.25, 1.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])
    # r = 0.5 and 0.25 inside the quadratic part (r²/2), r = 3 in the linear part (3 - 1/2)
    assert huber.value(y, t) == 0.125 + 2.5 + 0.03125 + 0.0
    np.testing.assert_array_equal(huber.value(np.stack([y, t]), t), [2.65625, 0.0])
    np.testing.assert_array_equal(huber.gradient(y, t), [[0.5, 1.0], [-0.25, 0.0]])
    net = np.array([[1.0, -3.0, 0.0]])
    np.testing.assert_array_equal(soft.function(net), [[0.5, -0.75, 0.0]])
    np.testing.assert_array_equal(soft.derivative(net, soft.function(net)), [[0.25, 0.0625, 1.0]])
    report = neurosim.check_plugin(EXAMPLE_MODULE)
    assert report.passed, report.text()
    assert [(s.kind, s.name) for s in report.subjects] == [("activation", "softsign"), ("loss", "huber")]


def test_example_scenario_by_path_matches_the_hand_arithmetic():
    scenario = neurosim.load_scenario(EXAMPLE / "softsign_huber.toml", {"plugins": [str(EXAMPLE_MODULE)]})
    result = neurosim.run_scenario(scenario)
    assert result.passed, result.report()
    E = Fraction(1, 8) + Fraction(14, 9) - Fraction(1, 2)
    assert E == Fraction(85, 72)
    assert result.initial_error == pytest.approx(float(E), abs=1e-15)
    grad_w = Fraction(1, 8) * Fraction(3, 2) + Fraction(16, 81) * 3      # deltas 1/8 and -16/81, inputs 1.5, -3
    grad_b = Fraction(1, 8) - Fraction(16, 81)
    assert result.network.weight("x", "o") == pytest.approx(float(Fraction(1, 2) - Fraction(1, 10) * grad_w),
                                                             abs=1e-15)
    assert result.network.weight("b", "o") == pytest.approx(float(Fraction(1, 4) - Fraction(1, 10) * grad_b),
                                                            abs=1e-15)
    text = (EXAMPLE / "softsign_huber.toml").read_text()
    assert "plugins" not in neurosim.load_scenario(EXAMPLE / "softsign_huber.toml").data   # found installed
    assert textwrap.dedent("""\
        [[expect]]
        quantity = "error"
        after = 0
        value = 1.1805555555555556        # 85/72""") in text
