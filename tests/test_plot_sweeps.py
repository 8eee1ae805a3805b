"""Pictures of a sweep's results (neurosim.plotting.sweeps, ``neurosim plot DIR`` of a sweep
folder): the numbers drawn are the table's — on a hand-made table, the median and the
10th/90th percentiles over seeds as points (median 0.5 of 0.2, 0.5, 0.9; band 0.26–0.82),
an ensemble row's success rate ± its standard error (0.31 ± 0.04625 over 100 members) and
``epochs_median`` between ``epochs_min`` and ``epochs_max``, a heatmap's image and cell
texts equal to its rows; on a real sweep run by ``neurosim sweep``, the PNG ``neurosim
plot`` writes is an image of its figure's pixel size that is not blank, and its heatmap's
cells are the results' success rates. Wrong measures and axes are refused naming the
closest, the options of a run's pictures are refused for a sweep folder, and the sweep
options for a run's folder.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from neurosim import DataError, plotting
from neurosim.cli import main
from neurosim.plotting.sweeps import sweep_file_name

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
LR, M = "training.learning_rate", "training.momentum"


@pytest.fixture(scope="module")
def mpl():
    """matplotlib, or the test is skipped saying why."""
    return pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install 'neurosim[plot]')")


def pixels(data: bytes, mpl):
    import matplotlib.image

    assert data[:8] == PNG
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def assert_not_blank(rgba):
    rgb = rgba[..., :3]
    assert rgb.std() > 0.05
    assert len(np.unique(rgb.reshape(-1, 3).round(2), axis=0)) > 20


def table(seeds_as: str) -> dict:
    """A results table: learning rate (2) x momentum (2), 3 seeds as points or 100 as an ensemble."""
    rows, i = [], 0
    values = {(0.1, 0.0): [0.2, 0.5, 0.9], (0.1, 0.9): [0.0, 0.0, 1.0], (0.5, 0.0): [1.0, 1.0, 1.0],
              (0.5, 0.9): [0.3, None, 0.6]}
    for (lr, m), rates in values.items():
        if seeds_as == "points":
            for seed, rate in enumerate(rates):
                rows.append({"index": i, "point": f"{i:04d}", LR: lr, M: m, "seed": seed, "status": "passed",
                             "success_rate": rate, "train_error": None if rate is None else 1.0 - rate})
                i += 1
        else:
            rate = {(0.1, 0.0): 0.31, (0.1, 0.9): 0.0, (0.5, 0.0): 1.0, (0.5, 0.9): 0.5}[(lr, m)]
            rows.append({"index": i, "point": f"{i:04d}", LR: lr, M: m, "status": "passed", "success_rate": rate,
                         "members": 100, "epochs_min": 300.0 + i, "epochs_median": 800.0 + i,
                         "epochs_max": 1400.0 + i, "train_error": 0.5})
            i += 1
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return {"format": "neurosim-sweep-results", "version": 1, "sweep": "toy", "axes": {LR: [0.1, 0.5], M: [0.0, 0.9]},
            "zip": [], "seeds": {"count": 3 if seeds_as == "points" else 100, "as": seeds_as},
            "total": len(rows), "finished": len(rows), "columns": columns, "rows": rows}


def test_a_line_is_the_median_with_the_10_90_band_over_seeds(mpl):
    view = plotting.sweep_view(table("points"), x=M)
    assert (view.x, view.y, view.measure) == (M, None, "success_rate")
    assert view.pooled == [LR, "seed"]
    # momentum 0: rates 0.2, 0.5, 0.9, 1, 1, 1; momentum 0.9: 0, 0, 1, 0.3, 0.6 (one missing)
    np.testing.assert_allclose(view.median, [0.95, 0.3])
    np.testing.assert_allclose([view.low[0], view.high[0]], np.percentile([0.2, 0.5, 0.9, 1, 1, 1], [10, 90]))
    np.testing.assert_allclose([view.low[1], view.high[1]], np.percentile([0, 0, 1, 0.3, 0.6], [10, 90]))
    assert view.count.tolist() == [6, 5]
    fig = plotting.sweep_figure(view)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), view.median)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert math.isclose(band.min(), min(view.low)) and math.isclose(band.max(), max(view.high))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.0", "0.9"]
    assert_not_blank(pixels(plotting.png_bytes(fig), mpl))


def test_a_line_of_one_axis_and_seeds_has_the_exact_percentiles(mpl):
    doc = table("points")
    doc["rows"] = [r for r in doc["rows"] if r[M] == 0.0]        # momentum fixed: one axis varies
    doc["axes"][M] = [0.0]
    view = plotting.sweep_view(doc)
    assert (view.x, view.y) == (LR, None)                       # the varying axis, not seed
    assert view.median.tolist() == [0.5, 1.0]
    np.testing.assert_allclose([view.low[0], view.high[0]], [0.26, 0.82])     # numpy's linear percentiles
    assert "10th to 90th percentile" in view.spread


def test_an_ensemble_line_has_error_bars_from_its_statistics(mpl):
    pooled = plotting.sweep_view(table("ensemble"), x=LR)      # two momenta at each rate: a band
    assert "percentile over training.momentum" in pooled.spread
    doc = table("ensemble")
    doc["rows"][1]["success_rate"] = None                        # lr 0.1 keeps one row: no bar mixed into the band
    mixed = plotting.sweep_view(doc, x=LR)
    assert mixed.count.tolist() == [1, 2] and mixed.median.tolist() == [0.31, 0.75]
    assert np.isnan(mixed.low[0]) and np.isnan(mixed.high[0])
    np.testing.assert_allclose([mixed.low[1], mixed.high[1]], [0.55, 0.95])
    doc = table("ensemble")                                      # one momentum alone: error bars
    doc["rows"] = [r for r in doc["rows"] if r[M] == 0.0]
    doc["axes"][M] = [0.0]
    view = plotting.sweep_view(doc)
    se = math.sqrt(0.31 * 0.69 / 100)
    np.testing.assert_allclose(view.median, [0.31, 1.0])
    np.testing.assert_allclose(view.low, [0.31 - se, 1.0])
    np.testing.assert_allclose(view.high, [0.31 + se, 1.0])
    assert math.isclose(se, 0.04625, rel_tol=1e-3)
    assert view.spread == "± one standard error over each ensemble's members"
    fig = plotting.sweep_figure(view)
    bars = fig.axes[0].containers[0]
    segments = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segments], [[0.31 - se, 0.31 + se], [1.0, 1.0]])
    epochs = plotting.sweep_view(doc, measure="epochs_median")
    assert epochs.median.tolist() == [800.0, 802.0]             # rows 0 and 2
    assert epochs.low.tolist() == [300.0, 302.0] and epochs.high.tolist() == [1400.0, 1402.0]
    assert epochs.spread == "epochs_min to epochs_max over each ensemble's members"


def test_a_heatmap_holds_the_tables_values(mpl):
    doc = table("ensemble")
    view = plotting.sweep_view(doc)
    assert (view.x, view.y) == (LR, M)                          # the first two axes
    fig = plotting.sweep_figure(view)
    ax = fig.axes[0]
    cells = np.asarray(ax.images[0].get_array())
    want = np.array([[r["success_rate"] for r in doc["rows"] if r[M] == m] for m in (0.0, 0.9)])
    np.testing.assert_array_equal(cells, want)                  # rows: momentum, columns: learning rate
    assert want.tolist() == [[0.31, 1.0], [0.0, 0.5]]
    assert [t.get_text() for t in ax.texts] == ["0.31", "1", "0", "0.5"]
    assert ax.images[0].norm.vmin == 0.0 and ax.images[0].norm.vmax == 1.0
    swapped = plotting.sweep_view(doc, x=M, y=LR)
    np.testing.assert_array_equal(swapped.median, want.T)


def test_a_heatmap_of_seeds_as_points_shows_median_and_band(mpl):
    view = plotting.sweep_view(table("points"), measure="train_error")
    assert view.pooled == ["seed"]
    # (lr 0.5, m 0.9): seeds 0.3, missing, 0.6 -> errors 0.7, 0.4
    np.testing.assert_allclose(view.median, [[0.5, 0.0], [1.0, 0.55]])
    assert view.count.tolist() == [[3, 3], [3, 2]]
    texts = [t.get_text() for t in plotting.sweep_figure(view).axes[0].texts]
    assert texts[0] == "0.5\n0.18–0.74" and texts[3] == "0.55\n0.43–0.67"


def test_bad_measures_and_axes_are_refused_naming_the_closest(mpl):
    doc = table("points")
    with pytest.raises(DataError, match="no measure 'sucess_rate'.*success_rate"):
        plotting.sweep_view(doc, measure="sucess_rate")
    with pytest.raises(DataError, match="no measure 'status'"):
        plotting.sweep_view(doc, measure="status")
    with pytest.raises(DataError, match=r"no axis 'training.momentun' \(--y\).*training.momentum"):
        plotting.sweep_view(doc, x=LR, y="training.momentun")
    with pytest.raises(DataError, match="--x and --y are both"):
        plotting.sweep_view(doc, x=LR, y=LR)
    doc["rows"] = []
    with pytest.raises(DataError, match="no finished points"):
        plotting.sweep_view(doc)
    assert sweep_file_name("expect[0].actual") == "sweep_expect_0_.actual.png"


#: The 2-2-1 XOR network and data of tests/data/xor_221.toml.
XOR_221 = (Path(__file__).parent / "data" / "xor_221.toml").read_text()

XOR = """
[scenario]
name = "xor_sweep"
seed = 1

[network]
activation = "sigmoid"
bias = "shared"

""" + XOR_221 + """
[training]
loss = "mse"
mode = "batch"
learning_rate = 0.5
epochs = 300

[training.stop]
within = 0.4

[sweep]
seeds = 8

[sweep.axes]
"training.learning_rate" = [0.5, 2.0, 8.0]
"training.momentum" = [0.0, 0.9]
"""


def test_neurosim_plot_of_a_sweep_folder_draws_its_table(tmp_path, capsys, monkeypatch, mpl):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xor.toml").write_text(XOR)
    assert main(["sweep", "xor.toml", "--out", "runs", "--workers", "2", "-q"]) == 0
    capsys.readouterr()
    assert main(["plot", "runs", "--out", "pics"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {Path('pics') / 'sweep_success_rate.png'}"
    doc = json.loads((tmp_path / "runs" / "results.json").read_text())
    view = plotting.sweep_view("runs")
    fig = plotting.sweep_figure(view)
    rgba = pixels((tmp_path / "pics" / "sweep_success_rate.png").read_bytes(), mpl)
    width, height = fig.get_size_inches()
    assert rgba.shape[:2] == (round(height * 100), round(width * 100))
    assert_not_blank(rgba)
    cells = np.asarray(fig.axes[0].images[0].get_array())
    want = [[next(r["success_rate"] for r in doc["rows"] if r[LR] == lr and r[M] == m) for lr in (0.5, 2.0, 8.0)]
            for m in (0.0, 0.9)]
    np.testing.assert_array_equal(cells, want)
    assert len({v for row in want for v in row}) > 1            # the grid shows something
    assert main(["plot", "runs", "--out", "pics", "--measure", "epochs_median", "--x", M, "--dpi", "50"]) == 0
    line = plotting.sweep_view("runs", measure="epochs_median", x=M)
    assert line.y is None and line.pooled == [LR]
    rgba = pixels((tmp_path / "pics" / "sweep_epochs_median.png").read_bytes(), mpl)
    width, height = plotting.sweep_figure(line).get_size_inches()
    assert rgba.shape[:2] == (round(height * 50), round(width * 50))
    # a run's options for a sweep folder, and a sweep's options for anything else, are refused
    capsys.readouterr()
    assert main(["plot", "runs", "--out", "pics", "--member", "0"]) == 2
    assert "is a sweep's results folder" in capsys.readouterr().err
    assert main(["plot", "runs", "--out", "pics", "--measure", "nope"]) != 0
    assert "no measure 'nope'" in capsys.readouterr().err
    assert main(["plot", "xor.toml", "--out", "pics", "--x", LR]) == 2
    assert "not a sweep's results folder" in capsys.readouterr().err


def test_docs_show_the_shipped_sweeps_picture(mpl):
    for page in ("sweeps.md", "plots.md"):
        assert "](images/symmetry_sweep-sweep_success_rate.png)" in (ROOT / "docs" / page).read_text(), page
    assert_not_blank(pixels((ROOT / "docs" / "images" / "symmetry_sweep-sweep_success_rate.png").read_bytes(), mpl))
