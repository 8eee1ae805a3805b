"""Pictures (neurosim.plotting, ``neurosim plot``, ``neurosim run --plot``): every kind is
rendered headless to a PNG that is checked as an image — the PNG signature, decoded by
matplotlib, the pixel size its figure asks for, and content that is not blank (Hinton
diagrams hold both black and white) — and checked as data: a Hinton square's area is
``FILL · |w| / max|w|`` of its cell in data units and, measured in rendered pixels, in
proportion to ``|w|`` across blocks; the graph's columns are the topological generations
and exactly the connections that skip a generation curve (57 in the two-spirals net);
the decision regions put each XOR pattern on its own side; the hidden responses are the
neurons' outputs; the recorder keeps epochs at exact strides, leaves training unchanged
bit for bit, and its curves end on the numbers the run reports. An ensemble's results
refuse the pictures of one network without a member, in Python and on the command line,
and without matplotlib (simulated) the message names ``pip install 'neurosim[plot]'``.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim import DataError, MissingExtraError, plotting
from neurosim.cli import main
from neurosim.io import FileError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
PNG = b"\x89PNG\r\n\x1a\n"
REASON = "matplotlib is not installed (pip install 'neurosim[plot]'); the pictures cannot be drawn"


@pytest.fixture(scope="module")
def mpl():
    """matplotlib, or the test is skipped saying why."""
    return pytest.importorskip("matplotlib", reason=REASON)


@pytest.fixture(scope="module")
def xor_run(mpl):
    """The XOR scenario, trained, watched by a recorder."""
    recorder = plotting.CurveRecorder()
    result = neurosim.run_scenario(SCENARIOS / "xor_sigmoid.toml", callbacks=[recorder])
    return result, recorder


@pytest.fixture(scope="module")
def ensemble_run(mpl):
    """The mirror-symmetry ensemble (100 members, 1,500 epochs), watched by a recorder."""
    recorder = plotting.CurveRecorder(points=40)
    result = neurosim.run_scenario(SCENARIOS / "symmetry_ensemble.toml", callbacks=[recorder])
    return result, recorder


def image(path_or_bytes, mpl):
    """The decoded PNG, ``(height, width, channels)`` floats in [0, 1], after checking its signature."""
    import matplotlib.image

    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    assert data[:8] == PNG
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def expected_pixels(fig, dpi=100):
    width, height = fig.get_size_inches()
    return round(height * dpi), round(width * dpi)


def inside_axes(fig, ax, pixels):
    """The pixels inside ``ax`` (its frame left out) of the rendered ``fig``."""
    box = ax.get_window_extent()
    height = pixels.shape[0]
    return pixels[int(height - box.y1) + 2:int(height - box.y0) - 2, int(box.x0) + 2:int(box.x1) - 2]


def assert_not_blank(pixels):
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05                                     # not one flat colour
    assert len(np.unique(rgb.reshape(-1, 3).round(2), axis=0)) > 20


def symmetry_net():
    """The 6-2-1 mirror-symmetry net with the 1:2:4 pattern written in exactly."""
    net = neurosim.Network()
    for k in range(1, 7):
        net.add_input(f"i{k}")
    net.add_bias("bias")
    net.add_neuron("h1"), net.add_neuron("h2"), net.add_neuron("o1", output=True)
    pattern = [-2.0, 1.0, 4.0, -4.0, -1.0, 2.0]                  # inputs 1..6: pairs 2/5, 1/6, 3/4 in 1:2:4
    for k, w in enumerate(pattern, start=1):
        net.connect(f"i{k}", "h1", weight=w)
        net.connect(f"i{k}", "h2", weight=-w)
    net.connect("bias", "h1", weight=-1.5), net.connect("bias", "h2", weight=-1.5)
    net.connect("h1", "o1", weight=-4.0), net.connect("h2", "o1", weight=-4.0), net.connect("bias", "o1", weight=3.0)
    return net


# --- every kind, as a real image -----------------------------------------------------------------


def test_every_kind_is_a_png_of_its_figure_size_with_content(xor_run, tmp_path, mpl):
    result, recorder = xor_run
    drawn = plotting.figures(result, recorder=recorder)
    assert list(drawn) == list(plotting.KINDS)                   # a 2-input classifier: every kind applies
    paths = plotting.save_figures(result, tmp_path, recorder=recorder)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{k}.png" for k in plotting.KINDS)
    for kind, path in paths.items():
        assert path == tmp_path / plotting.FILES[kind]
        pixels = image(path, mpl)
        assert pixels.shape[:2] == expected_pixels(drawn[kind]), kind
        assert_not_blank(pixels)
    assert image(paths["learning_curve"], mpl).shape[:2] == (650, 800)      # with the accuracy panel
    assert image(paths["decision_regions"], mpl).shape[:2] == (600, 700)
    for kind in ("hinton", "hinton_neurons"):                   # inside the diagrams: black, white and grey
        rgb = image(paths[kind], mpl)[..., :3]
        inside = np.concatenate([inside_axes(drawn[kind], ax, rgb).reshape(-1, 3) for ax in drawn[kind].axes
                                 if ax.get_visible()])
        white = (inside > 0.97).all(axis=-1).sum()
        black = (inside < 0.03).all(axis=-1).sum()
        grey = (np.abs(inside - 0.5) < 0.02).all(axis=-1).sum()
        assert black > 100 and white > 100 and grey > 0.3 * len(inside), (kind, black, white, grey)


def test_dpi_scales_the_pixels(xor_run, tmp_path, mpl):
    result, _ = xor_run
    path = plotting.save_figures(result, tmp_path, ["decision_regions"], dpi=50)["decision_regions"]
    assert image(path, mpl).shape[:2] == (300, 350)


def test_a_regression_of_one_epoch_has_one_panel(mpl):
    recorder = plotting.CurveRecorder()
    result = neurosim.run_scenario(SCENARIOS / "mazur.toml", callbacks=[recorder])
    assert result.task == "regression" and len(result.history) == 1
    fig = plotting.learning_curve(result, recorder)
    assert len(fig.axes) == 1 and fig.axes[0].lines[0].get_ydata().tolist() == result.history.tolist()
    assert image(plotting.png_bytes(fig), mpl).shape[:2] == (450, 800)
    with pytest.raises(DataError, match="no epoch was trained"):
        plotting.learning_curve(np.zeros(0))


# --- Hinton diagrams: areas in proportion to |w| ----------------------------------------------------


def squares(fig):
    """``{gid: (patch, axes)}`` of every weight's square in a figure."""
    return {p.get_gid(): (p, ax) for ax in fig.axes for p in ax.patches if p.get_gid()}


def test_hinton_squares_have_areas_in_proportion_to_the_weights(mpl):
    net = symmetry_net()
    fig = plotting.hinton(net)
    drawn = squares(fig)
    weights = net.weights()
    assert set(drawn) == {f"{u}->{v}" for u, v in weights}       # one square per weight
    largest = max(abs(w) for w in weights.values())
    assert largest == 4.0
    for (u, v), w in weights.items():
        patch, _ax = drawn[f"{u}->{v}"]
        assert patch.get_width() == patch.get_height()
        assert math.isclose(patch.get_width() * patch.get_height(), plotting.FILL * abs(w) / largest, rel_tol=1e-12)
        assert mpl.colors.to_hex(patch.get_facecolor()) == ("#ffffff" if w > 0 else "#000000")
    # In rendered pixels: the same |w| is the same area in both blocks, and 1:2:4 stays 1:2:4.
    plotting.png_bytes(fig)                                        # rendered: the patches know their pixels
    area = {gid: p.get_window_extent().width * p.get_window_extent().height for gid, (p, _a) in drawn.items()}
    side = {gid: (p.get_window_extent().width, p.get_window_extent().height) for gid, (p, _a) in drawn.items()}
    for w, h in side.values():
        assert abs(w - h) < 0.01 * w                               # squares on screen too
    assert math.isclose(area["i1->h1"] / area["i2->h1"], 2.0, rel_tol=1e-6)
    assert math.isclose(area["i3->h1"] / area["i2->h1"], 4.0, rel_tol=1e-6)
    assert math.isclose(area["h1->o1"] / area["i3->h1"], 1.0, rel_tol=1e-6)     # block 2 against block 1
    assert_not_blank(image(plotting.png_bytes(fig), mpl))


def test_weight_blocks_are_the_generations_with_bias_last(mpl):
    net = symmetry_net()
    blocks = plotting.weight_blocks(net)
    assert [b.rows for b in blocks] == [["h1", "h2"], ["o1"]]
    assert blocks[0].columns == ["i1", "i2", "i3", "i4", "i5", "i6", "bias"]
    assert blocks[0].weights.tolist() == [[-2, 1, 4, -4, -1, 2, -1.5], [2, -1, -4, 4, 1, -2, -1.5]]
    assert blocks[0].breaks == [6] and blocks[1].columns == ["h1", "h2", "bias"]
    net.disconnect("i1", "h2")                                    # a missing connection: NaN, a darker cell
    block = plotting.weight_blocks(net)[0]
    assert np.isnan(block.weights[1, 0]) and "i1->h2" not in squares(plotting.hinton(net))


def test_hinton_neurons_puts_bias_outgoing_and_incoming_in_each_panel(mpl):
    net = symmetry_net()
    fig = plotting.hinton_neurons(net)
    drawn = squares(fig)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["h1 (sigmoid)", "h2 (sigmoid)"]
    expected = {f"{u}->{v}" for u, v in net.weights() if "h" in u + v}
    assert set(drawn) == expected                                 # incoming, bias and outgoing of h1 and h2
    for gid, (patch, _ax) in drawn.items():
        u, v = gid.split("->")
        assert math.isclose(patch.get_width() ** 2, plotting.FILL * abs(net.weight(u, v)) / 4.0, rel_tol=1e-12)
    (bias, _), (out, _), (first, _) = drawn["bias->h1"], drawn["h1->o1"], drawn["i1->h1"]
    assert bias.get_y() < first.get_y() and out.get_x() > bias.get_x()      # top row: bias left, outgoing right
    with pytest.raises(DataError, match="'i1' is 'input' unit"):
        plotting.hinton_neurons(net, neurons=["i1"])
    with pytest.raises(neurosim.NeuronNotFoundError, match="h3"):
        plotting.hinton_neurons(net, neurons=["h3"])


def test_the_shipped_symmetry_run_shows_the_one_two_four_pattern(mpl):
    result = neurosim.run_scenario(SCENARIOS / "symmetry.toml")
    drawn = squares(plotting.hinton(result))
    area = {gid: p.get_width() ** 2 for gid, (p, _a) in drawn.items()}
    small = area["i2->h1"]
    assert 1.6 < area["i1->h1"] / small < 2.4 and 3.2 < area["i3->h1"] / small < 4.8
    for a, b in (("i1", "i6"), ("i2", "i5"), ("i3", "i4")):         # mirror weights: equal size, opposite colour
        pa, pb = drawn[f"{a}->h1"][0], drawn[f"{b}->h1"][0]
        assert math.isclose(pa.get_width(), pb.get_width(), rel_tol=0.01)
        assert pa.get_facecolor() != pb.get_facecolor()


# --- the network as its DAG ---------------------------------------------------------------------


def test_layout_puts_generations_left_to_right_and_bias_below(xor_run):
    result, _ = xor_run
    pos = plotting.network_layout(result.network)
    assert {n: x for n, (x, _y) in pos.items()} == {"i1": 0, "i2": 0, "bias": 0, "h1": 1, "h2": 1, "o1": 2}
    assert pos["i1"][1] > pos["i2"][1] > pos["bias"][1] and pos["h1"][1] > pos["h2"][1]
    assert pos["i2"][1] - pos["bias"][1] == 1.5                   # half a step further down


def test_skip_connections_curve_and_widths_follow_the_weights(mpl):
    net = neurosim.load_scenario(SCENARIOS / "two_spirals.toml").build_network()
    styles = plotting.edge_styles(net)
    assert len(styles) == net.n_weights == 138
    # h2 from i (10), h3 from h1 and i (25 + 10), o from h2, h1 and i (5 + 5 + 2): 57 skip a generation;
    # the shared bias sits in column 0 and skips to h2, h3 and o (11 more)
    assert sum(s["curved"] and not s["bias"] for s in styles.values()) == 57
    assert sum(s["curved"] and s["bias"] for s in styles.values()) == 11
    assert plotting.network_layout(net)["o1"][0] == 4.0
    largest = max(abs(s["weight"]) for s in styles.values())
    for s in styles.values():
        assert math.isclose(s["width"], 0.4 + 4.0 * abs(s["weight"]) / largest, rel_tol=1e-12)
    fig = plotting.network_graph(net)
    arrows = [p for p in fig.axes[0].patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == 138                                      # every connection drawn
    bent = [p for p in arrows if getattr(p.get_connectionstyle(), "rad", 0) == plotting.graph.CURVE]
    assert len(bent) == 68
    colours = {mpl.colors.to_hex(p.get_edgecolor()) for p in arrows}
    assert len(colours) > 20                                        # coloured by weight
    assert_not_blank(image(plotting.png_bytes(fig), mpl))


# --- the input plane ----------------------------------------------------------------------------


def pixel_at(fig, ax, x, y, pixels):
    """The rendered colour at data point ``(x, y)`` of ``ax``."""
    px, py = ax.transData.transform((x, y))
    height = pixels.shape[0]
    return pixels[int(round(height - py)), int(round(px)), :3]


def test_decision_regions_put_each_xor_pattern_on_its_side(xor_run, mpl):
    result, _ = xor_run
    fig = plotting.decision_regions(result)
    pixels = image(plotting.png_bytes(fig), mpl)
    ax = fig.axes[0]
    X, T = result.scenario.train.inputs, result.scenario.train.targets
    for x, t in zip(X, T[:, 0]):
        probe = x + 0.12 * (0.5 - x) / np.abs(0.5 - x)              # beside the marker, towards the middle
        y = result.network.predict(probe)[0]
        assert (y > 0.5) == (t > 0.5)                                # the trained net is right there too
        r, _g, b = pixel_at(fig, ax, *probe, pixels)
        assert (b > r) == (t > 0.5)                                  # blue for class 1, red for class 0
    assert len(ax.collections) >= 2                                  # the shading and the boundary


def test_hidden_responses_are_the_neurons_outputs(xor_run, mpl):
    result, _ = xor_run
    fig = plotting.hidden_responses(result, resolution=20)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["h1 (sigmoid)", "h2 (sigmoid)"]
    net = result.network
    b = plotting.plane_bounds(plotting.subject_of(result))
    corner = np.array([[b[0], b[2]], [b[1], b[3]]])
    net.predict(corner)
    for ax, name in zip(panels, ("h1", "h2")):
        values = np.asarray(ax.images[0].get_array())
        assert values.shape == (20, 20)
        assert values[0, 0] == pytest.approx(net[name].out[0], abs=1e-12)      # origin lower: row 0 is y_min
        assert values[-1, -1] == pytest.approx(net[name].out[1], abs=1e-12)
        assert ax.images[0].get_clim() == (0.0, 1.0)
    assert_not_blank(image(plotting.png_bytes(fig), mpl))


def test_several_outputs_colour_the_class_of_the_largest(mpl):
    net = neurosim.Network(seed=1)
    net.add_input("x"), net.add_input("y"), net.add_bias("b")
    for k in range(3):
        net.add_neuron(f"o{k}", "softmax", output=True, group="out")
    for k, (wx, wy) in enumerate([(4.0, 0.0), (-4.0, 0.0), (0.0, 4.0)]):    # class 0 right, 1 left, 2 up
        net.connect("x", f"o{k}", weight=wx), net.connect("y", f"o{k}", weight=wy), net.connect("b", f"o{k}", weight=0.0)
    X = np.array([[1.0, -0.5], [-1.0, -0.5], [0.0, 1.0]])
    fig = plotting.decision_regions(net, patterns=(X, np.eye(3)), resolution=41)
    ax = fig.axes[0]
    classes = np.asarray(ax.collections[0].get_array()).reshape(41, 41)
    assert classes[0, -1] == 0 and classes[0, 0] == 1 and classes[-1, 20] == 2   # bottom right, bottom left, top
    assert "the class of the largest output (o0, o1, o2)" in ax.get_title()
    assert_not_blank(image(plotting.png_bytes(fig), mpl))
    with pytest.raises(DataError, match="no hidden neurons"):
        plotting.hidden_responses(net)


def test_plane_pictures_need_two_inputs(mpl):
    with pytest.raises(DataError, match="2 inputs over their plane; network has 6"):
        plotting.decision_regions(symmetry_net())
    with pytest.raises(DataError, match="bounds must be"):
        plotting.decision_regions(neurosim.load_scenario(SCENARIOS / "xor_sigmoid.toml").build_network(),
                                  bounds=(1, 0, 0, 1))


# --- learning curves ----------------------------------------------------------------------------


def test_the_recorder_leaves_training_unchanged_and_keeps_exact_strides(xor_run, mpl):
    result, _ = xor_run
    plain = neurosim.run_scenario(SCENARIOS / "xor_sigmoid.toml")
    assert np.array_equal(plain.history, result.history) and plain.network.weights() == result.network.weights()
    recorder = plotting.CurveRecorder(points=10)
    watched = neurosim.run_scenario(SCENARIOS / "xor_sigmoid.toml", callbacks=[recorder])
    assert len(watched.history) == 2065
    assert recorder.stride == 256 and recorder.epochs == [256 * k for k in range(1, 9)]
    # each copy is the weights after that epoch: its error is the history's
    copy = neurosim.Network.from_dict(watched.network.to_dict())
    names = {p: (u.name, v.name) for (u, v), p in watched.network.compile().edge_pos.items()}
    X, T = watched.scenario.train.inputs, watched.scenario.train.targets
    for epoch, theta in zip(recorder.epochs, recorder.thetas):
        for p, (u, v) in names.items():
            copy.set_weight(u, v, theta[p])
        assert copy.error(X, T) == pytest.approx(watched.history[epoch - 1], rel=1e-12)


def test_curves_end_on_the_numbers_the_run_reports(mpl):
    recorder = plotting.CurveRecorder()
    result = neurosim.run_scenario(SCENARIOS / "iris_softmax.toml", callbacks=[recorder])
    curves = recorder.curves(result)
    assert sorted(curves.measured) == ["test_accuracy", "test_error", "train_accuracy"]
    assert curves.sampled[-1] == len(result.history) == len(curves.train_error)
    m = result.metrics()
    assert curves.measured["test_error"][-1] == m["test_error"]
    assert curves.measured["train_accuracy"][-1] == m["train_accuracy"]
    assert curves.measured["test_accuracy"][-1] == m["test_accuracy"]
    assert curves.measured["train_accuracy"][0] < 0.9 < curves.measured["train_accuracy"][-1]
    fig = plotting.learning_curve(result, recorder)
    assert fig.axes[0].get_ylabel() == "error per pattern (cce)"   # two sets of different sizes compare
    line = fig.axes[0].lines[0]
    assert np.allclose(line.get_ydata(), result.history / len(result.scenario.train), rtol=1e-15)


def test_ensemble_curves_are_a_median_band_and_faint_members(ensemble_run, mpl):
    result, recorder = ensemble_run
    ens = result.ensemble
    curves = recorder.curves(result)
    assert curves.members == 100 and curves.train_error.shape == (1500, 100)
    accuracy = curves.measured["train_accuracy"]
    assert accuracy.shape == (len(curves.sampled), 100)
    registry = result.scenario.registry
    from neurosim.scenario.measuring import RunState

    for k in (0, 7, 31):                                            # the last column: each member's own accuracy
        state = RunState(ens.network(k), result.scenario.train, None, "mse", np.zeros(0), registry=registry)
        assert accuracy[-1, k] == registry.measure("accuracy")(state)
    # a member that stopped keeps its frozen weights: the band at the end is over the final errors
    filled = plotting.curves._filled(curves.train_error)
    assert np.allclose(filled[-1], ens.final_error, rtol=1e-12)
    assert np.median(filled[-1]) == pytest.approx(np.median(ens.final_error), rel=1e-12)
    fig = plotting.learning_curve(result, recorder)
    ax = fig.axes[0]
    faint = [line for line in ax.lines if line.get_alpha() == 0.15]
    assert len(faint) == 100
    median = [line for line in ax.lines if line.get_label() == "training error: median"][0]
    assert np.allclose(median.get_ydata(), np.median(filled, axis=1))
    assert any("10–90%" in t.get_text() for t in ax.get_legend().get_texts())
    member = recorder.curves(result, member=7)
    assert np.array_equal(member.train_error, ens.history[:ens.epochs[7], 7])
    assert member.measured["train_accuracy"][-1] == accuracy[-1, 7]
    assert_not_blank(image(plotting.png_bytes(fig), mpl))


# --- an ensemble is not one run -----------------------------------------------------------------


def test_an_ensemble_refuses_pictures_of_one_network_without_a_member(ensemble_run, mpl):
    result, recorder = ensemble_run
    for draw in (plotting.hinton, plotting.hinton_neurons, plotting.network_graph, plotting.decision_regions,
                 plotting.hidden_responses):
        with pytest.raises(DataError, match=r"an ensemble's: 100 networks.*member=K in Python, --member K"):
            draw(result)
    with pytest.raises(DataError, match="member .* from 0 to 99"):
        plotting.hinton(result, member=100)
    kinds, skipped = plotting.choose_kinds(result)
    assert kinds == ["learning_curve"] and set(skipped) == set(plotting.KINDS) - {"learning_curve"}
    with pytest.raises(DataError, match="cannot draw hinton: .*--member K"):
        plotting.choose_kinds(result, ["hinton"])
    fig = plotting.hinton(result, member=3)
    assert "ensemble member 3 (seed 3)" in fig.get_suptitle()
    assert plotting.weight_blocks(result.ensemble.network(3))[0].weights[0, 0] == \
        result.ensemble.network(3).weight("i1", "h1")


def test_a_single_run_refuses_a_member(xor_run):
    result, _ = xor_run
    with pytest.raises(DataError, match="one network's, not an ensemble's; leave out member"):
        plotting.hinton(result, member=0)


# --- results folders and the command line -------------------------------------------------------


def test_neurosim_plot_a_scenario_writes_every_kind(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(ROOT)
    assert main(["plot", "scenarios/xor_sigmoid.toml", "--out", str(tmp_path / "pics"), "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"wrote {tmp_path / 'pics' / plotting.FILES[k]}" for k in plotting.KINDS]
    for kind in plotting.KINDS:
        assert_not_blank(image(tmp_path / "pics" / f"{kind}.png", mpl))


def test_run_plot_and_plotting_its_folder(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results"                               # results and pictures in one folder
    assert main(["run", "scenarios/symmetry.toml", "--out", str(results), "--plot", str(results), "-q"]) == 0
    assert sorted(p.name for p in results.iterdir()) == ["hinton.png", "hinton_neurons.png", "learning_curve.csv",
                                                         "learning_curve.png", "network.json", "network.png",
                                                         "summary.json"]
    capsys.readouterr()
    again = tmp_path / "again"
    assert main(["plot", str(results), "--out", str(again), "--kind", "hinton", "--kind", "learning_curve"]) == 0
    assert sorted(p.name for p in again.iterdir()) == ["hinton.png", "learning_curve.png"]
    read = plotting.read_results(results)
    assert read.scenario is not None and read.note is None and read.members is None
    ran = neurosim.run_scenario("scenarios/symmetry.toml")
    assert np.array_equal(read.history, ran.history) and len(read.history) == 1425
    assert read.network.weights() == ran.network.weights()
    # the same Hinton squares from the folder as from the run
    ran_squares, back = squares(plotting.hinton(ran)), squares(plotting.hinton(read))
    assert {g: p.get_width() for g, (p, _a) in ran_squares.items()} == \
        {g: p.get_width() for g, (p, _a) in back.items()}
    summary = json.loads((results / "summary.json").read_text())
    summary["source"] = "gone.toml"
    (results / "summary.json").write_text(json.dumps(summary))
    assert "'gone.toml' is not found" in plotting.read_results(results).note


def test_an_ensemble_folder_and_scenario_need_a_member_on_the_command_line(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(ROOT)
    assert main(["plot", "scenarios/symmetry_ensemble.toml", "--out", str(tmp_path / "a"), "--kind",
                 "decision_regions"]) == 2
    err = capsys.readouterr().err
    assert "an ensemble's: 100 networks" in err and "--member K" in err and not (tmp_path / "a").exists()
    results = tmp_path / "results"
    assert main(["run", "scenarios/symmetry_ensemble.toml", "--out", str(results), "--set", "training.epochs=50",
                 "-q"]) == 1                                       # too few epochs for its expectations
    capsys.readouterr()
    assert main(["plot", str(results), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "member 0's learning curve and network only: draw them with member=0 (--member 0)" in err
    assert "neurosim plot scenarios/symmetry_ensemble.toml --member K" in err and "0 to 99" not in err
    assert main(["plot", str(results), "--out", str(tmp_path / "b"), "--member", "4"]) == 2
    assert "not member 4's" in capsys.readouterr().err
    assert main(["plot", str(results), "--out", str(tmp_path / "b"), "--member", "0", "--kind", "hinton"]) == 0


def test_a_run_into_a_plot_folder_reports_the_members(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(ROOT)
    assert main(["run", "scenarios/symmetry_ensemble.toml", "--set", "training.epochs=30", "--plot",
                 str(tmp_path)]) == 1                               # its expectations fail; the picture is drawn
    captured = capsys.readouterr()
    assert f"wrote {tmp_path / 'learning_curve.png'}" in captured.out
    assert ("note: only the learning curve is drawn: an ensemble's networks are drawn one member at a time: "
            f"neurosim plot scenarios/symmetry_ensemble.toml --member K --out {tmp_path}") in captured.err


def test_plot_refuses_what_cannot_be_drawn_before_training(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(ROOT)
    assert main(["plot", "scenarios/symmetry.toml", "--out", str(tmp_path / "x"), "--kind", "decision_regions"]) == 2
    assert "cannot draw decision_regions: the network has 6 inputs, not 2" in capsys.readouterr().err
    assert main(["plot", "scenarios/symmetry.toml", "--out", str(tmp_path / "x"), "--member", "1"]) == 2
    assert "leave out member" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_damaged_results_folder_is_named(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(ROOT)
    results = tmp_path / "results"
    assert main(["run", "scenarios/xor_sigmoid.toml", "--out", str(results), "-q"]) == 0
    curve = results / "learning_curve.csv"
    lines = curve.read_text().splitlines()
    curve.write_text("\n".join(lines[:5] + ["5,oops"] + lines[6:]) + "\n")
    capsys.readouterr()
    assert main(["plot", str(results), "--out", str(tmp_path / "p")]) == 2
    assert f"{curve}: line 6 is '5,oops'" in capsys.readouterr().err
    (results / "network.json").write_text('{"format": "neurosim-network", "version": 1, "units": [')
    curve.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileError, match=r"network.json: is not valid JSON \(line 1"):
        plotting.read_results(results)
    (results / "summary.json").unlink()
    with pytest.raises(FileError, match="summary.json"):
        plotting.read_results(results)


# --- without matplotlib ------------------------------------------------------------------------------


def test_without_matplotlib_the_message_names_the_pip_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)          # `import matplotlib` now fails
    net = symmetry_net()
    for draw in (plotting.hinton, plotting.network_graph, lambda n: plotting.learning_curve([1.0, 0.5])):
        with pytest.raises(MissingExtraError, match=r"plotting needs matplotlib.*pip install 'neurosim\[plot\]'"):
            draw(net)
    assert issubclass(MissingExtraError, ImportError)
    monkeypatch.chdir(ROOT)
    assert main(["plot", "scenarios/xor_sigmoid.toml", "--out", str(tmp_path / "p")]) == 2
    assert main(["run", "scenarios/xor_sigmoid.toml", "--plot", str(tmp_path / "p")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("pip install 'neurosim[plot]'") == 2
    assert captured.out == "" and not (tmp_path / "p").exists()    # refused before training


def test_the_core_does_not_import_matplotlib():
    code = "import sys, neurosim, neurosim.cli, neurosim.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- the pictures in docs/ ----------------------------------------------------------------------------


def test_docs_show_a_picture_of_every_kind_made_by_the_script(mpl):
    page = (ROOT / "docs" / "plots.md").read_text()
    assert "docs/tools/plot_images.py" in page
    assert (ROOT / "docs" / "tools" / "plot_images.py").is_file()
    shown = set()
    for name in sorted((ROOT / "docs" / "images").glob("*.png")):
        assert f"](images/{name.name})" in page, name
        pixels = image(name, mpl)
        assert_not_blank(pixels)
        shown.add(name.stem.split("-")[-1])
    assert set(plotting.KINDS) <= shown
