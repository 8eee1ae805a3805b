"""Sweeps (neurosim.sweep, ``neurosim sweep``): the grid, zip groups and seeds a [sweep] expands
into, point files that reproduce alone, the results table (with the numbers of tiny XOR
runs), a point that diverges or raises, resume after a kill, ``neurosim check`` naming the
axis and value at fault, and the Dask backends: missing ``distributed``, an unreachable
scheduler, and a LocalCluster agreeing with the process pool row for row."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from neurosim import MissingExtraError, ScenarioError
from neurosim.cli import main
from neurosim.sweep import dask_executor, load_sweep, read_results, run_sweep

#: The 2-2-1 XOR network and data of tests/data/xor_221.toml.
XOR_221 = (Path(__file__).parent / "data" / "xor_221.toml").read_text()

XOR = """
[scenario]
name = "xor"
seed = 1

[network]
activation = "sigmoid"
bias = "shared"

""" + XOR_221 + """
[training]
loss = "mse"
learning_rate = 0.5
mode = "batch"
epochs = {epochs}

[training.stop]
within = 0.1

[[expect]]
quantity = "error"
below = 0.5
{extra}
"""

#: Columns that say where and how fast a point ran, not what it computed.
WHERE = ("worker", "seconds")


def write(folder: Path, sweep: str, epochs: int = 300, extra: str = "") -> Path:
    (folder / "xor.toml").write_text(XOR.replace("{epochs}", str(epochs)).replace("{extra}", extra))
    path = folder / "sweep.toml"
    path.write_text('base = "xor.toml"\n' + sweep)
    return path


def computed(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in WHERE} for row in rows]


GRID = """
[sweep.axes]
"training.learning_rate" = [0.5, 2.0]
"network.layers[1].size" = [2, 3]
"""


def test_grid_is_the_cartesian_product_in_file_order_last_axis_fastest(tmp_path):
    sweep = load_sweep(write(tmp_path, GRID))
    assert [p.values for p in sweep.points] == [
        {"training.learning_rate": 0.5, "network.layers[1].size": 2},
        {"training.learning_rate": 0.5, "network.layers[1].size": 3},
        {"training.learning_rate": 2.0, "network.layers[1].size": 2},
        {"training.learning_rate": 2.0, "network.layers[1].size": 3}]
    p = sweep.points[3]
    assert p.data["training"]["learning_rate"] == 2.0 and p.data["network"]["layers"][1]["size"] == 3
    assert "sweep" not in p.data and "base" not in p.data
    assert tomllib.loads(p.toml()) == p.data                 # the point file round-trips through TOML
    assert sweep.describe() == "4 points: training.learning_rate (2) x network.layers[1].size (2)"


def test_zip_moves_axes_together_and_refuses_unequal_lengths(tmp_path):
    sweep = load_sweep(write(tmp_path, """
[sweep]
zip = [["training.learning_rate", "training.momentum"]]
[sweep.axes]
"training.learning_rate" = [0.5, 2.0]
"network.layers[1].size" = [2, 3]
"training.momentum" = [0.0, 0.9]
"""))
    assert [(p.values["training.learning_rate"], p.values["training.momentum"], p.values["network.layers[1].size"])
            for p in sweep.points] == [(0.5, 0.0, 2), (0.5, 0.0, 3), (2.0, 0.9, 2), (2.0, 0.9, 3)]
    with pytest.raises(ScenarioError, match=r'sweep\.zip\[0\]: its axes move together, so they need as many '
                       r"values each; training\.learning_rate has 3, training\.momentum has 2"):
        load_sweep(write(tmp_path, """
[sweep]
zip = [["training.learning_rate", "training.momentum"]]
[sweep.axes]
"training.learning_rate" = [0.5, 1.0, 2.0]
"training.momentum" = [0.0, 0.9]
"""))


def test_seeds_run_as_an_ensemble_inside_each_point(tmp_path):
    path = write(tmp_path, GRID.replace('"network.layers[1].size" = [2, 3]', '"training.momentum" = [0.9]')
                 + "[sweep]\nseeds = 3\n")
    sweep = load_sweep(path)
    assert sweep.seeds_as == "ensemble" and len(sweep.points) == 2
    assert all(p.data["training"]["ensemble"] == 3 for p in sweep.points)
    result = run_sweep(sweep, tmp_path / "out", workers=2)
    fast = result.rows[1]                    # learning rate 2, momentum 0.9, seeds 1, 2, 3 at once
    assert (fast["members"], fast["success_rate"], fast["epochs_min"], fast["epochs_median"],
            fast["epochs_max"]) == (3, 1.0, 65.0, 71.0, 82.0)
    assert fast["status"] == "passed" and fast["epochs"] == 71          # member 0, seed 1
    slow = result.rows[0]                    # learning rate 0.5, momentum 0.9
    assert (slow["success_rate"], slow["epochs_min"], slow["epochs_median"], slow["epochs_max"]) == (1.0, 195.0, 198.0, 240.0)


def test_seeds_are_separate_points_when_the_scenario_cannot_be_an_ensemble(tmp_path):
    after = '[[expect]]\nquantity = "error"\nafter = 1\nbelow = 10.0\n'
    sweep = load_sweep(write(tmp_path, '[sweep]\nseeds = 3\n[sweep.axes]\n"training.learning_rate" = [2.0]\n'
                             '"training.momentum" = [0.9]\n', extra=after))
    assert sweep.seeds_as == "points"
    assert [p.values for p in sweep.points] == [{"training.learning_rate": 2.0, "training.momentum": 0.9, "seed": s}
                                                for s in (1, 2, 3)]
    assert [p.data["scenario"]["seed"] for p in sweep.points] == [1, 2, 3]
    assert all("ensemble" not in p.data["training"] for p in sweep.points)
    result = run_sweep(sweep, tmp_path / "out", workers=2)
    # one network per seed: the three members of the ensemble test's point, one by one
    # (there: epochs min 65, median 71, max 82)
    assert [(r["seed"], r["epochs"], r["success_rate"]) for r in result.rows] == [(1, 71, 1.0), (2, 65, 1.0),
                                                                                  (3, 82, 1.0)]
    with pytest.raises(ScenarioError, match=r"sweep\.seeds_as: cannot be 'ensemble': the base scenario has "
                       r"expectations measured 'after'"):
        load_sweep(write(tmp_path, '[sweep]\nseeds = 3\nseeds_as = "ensemble"\n', extra=after))


def test_a_point_file_reproduces_its_results_alone(tmp_path, capsys):
    result = run_sweep(write(tmp_path, GRID), tmp_path / "out", workers=2)
    assert [r["status"] for r in result.rows] == ["passed"] * 4
    point = tmp_path / "out" / "points" / "0002.toml"
    assert main(["run", str(point), "--out", str(tmp_path / "alone"), "-q"]) == 0
    swept = json.loads((tmp_path / "out" / "points" / "0002" / "summary.json").read_text())
    alone = json.loads((tmp_path / "alone" / "summary.json").read_text())
    assert alone["metrics"] == swept["metrics"] and alone["expectations"] == swept["expectations"]
    assert (tmp_path / "alone" / "learning_curve.csv").read_text() == \
        (tmp_path / "out" / "points" / "0002" / "learning_curve.csv").read_text()
    row = result.rows[2]
    assert row["train_error"] == swept["metrics"]["train_error"] and row["epochs"] == swept["metrics"]["epochs_run"]
    doc = read_results(tmp_path / "out")
    assert doc["finished"] == doc["total"] == 4 and doc["passed"] is True
    assert doc["columns"][:5] == ["index", "point", "training.learning_rate", "network.layers[1].size", "status"]
    header = (tmp_path / "out" / "results.csv").read_text().splitlines()[0].split(",")
    assert header == doc["columns"]


def test_a_diverging_or_raising_point_is_a_row_and_the_sweep_goes_on(tmp_path, capsys):
    path = write(tmp_path, """
[sweep.axes]
"network.activation" = ["sigmoid", "identity"]
"data.dataset" = ["xor", "no_such_dataset"]
""")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2", "-q"]) == 1
    rows = read_results(tmp_path / "out")["rows"]
    assert [r["status"] for r in rows] == ["passed", "error", "diverged", "error"]
    assert "training diverged" in rows[2]["message"] and rows[2]["success_rate"] == 0.0
    assert "no_such_dataset" in rows[1]["message"]
    assert rows[0]["expect[0].met"] is True and rows[2]["expect[0].met"] is False
    err = capsys.readouterr()
    assert "FAILED" in err.err and "point 0001" in err.err


def test_check_names_the_axis_and_the_value_at_fault(tmp_path, capsys):
    path = write(tmp_path, '[sweep.axes]\n"training.learning_rate" = [0.5, 1.0, -1]\n')
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f'error: {path}: sweep.axes."training.learning_rate"[2] = -1: training.learning_rate: must be a finite '
        "number >= 0, not -1.0")
    path = write(tmp_path, '[sweep.axes]\n"network.layers[1].size" = [2, 0]\n')
    with pytest.raises(ScenarioError, match=r'sweep\.axes\."network\.layers\[1\]\.size"\[1\] = 0: '
                       r"network\.layers\[1\]\.size: must be >= 1"):
        load_sweep(path).check()
    path = write(tmp_path, '[sweep.axes]\n"data.dataset" = ["xor", "nope"]\n')
    with pytest.raises(ScenarioError, match=r'sweep\.axes\."data\.dataset"\[1\] = \'nope\''):
        load_sweep(path).check()
    path = write(tmp_path, GRID)
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok (4 points: training.learning_rate (2) x " \
        "network.layers[1].size (2))"


def test_sweep_expectations_are_statistics_over_the_table(tmp_path):
    path = write(tmp_path, GRID.replace('"network.layers[1].size" = [2, 3]', '"training.momentum" = [0.0, 0.9]')
                 + """
[sweep]
seeds = 3
[[sweep.expect]]
quantity = "success_rate"
where = { "training.momentum" = 0.9 }
above = 0.9
[[sweep.expect]]
quantity = "epochs_median"
stat = "min"
value = 71.0
[[sweep.expect]]
quantity = "index"
where = { status = "passed" }
stat = "count"
value = 4
[[sweep.expect]]
quantity = "success_rate"
below = 0.1
""")
    result = run_sweep(path, tmp_path / "out", workers=2)
    got = [(round(a, 6), met) for _e, a, met, _b in result.checks]
    # success: lr 0.5 at momentum 0.9 and lr 2 at 0.9 learn it; at momentum 0, only lr 2 does
    assert got[0] == (1.0, True) and got[1] == (71.0, True) and got[2] == (4.0, True)
    assert got[3][1] is False and not result.passed
    assert read_results(tmp_path / "out")["passed"] is False
    with pytest.raises(ScenarioError, match=r"sweep\.expect\[0\]\.quantity: 'sucess_rate' is not a results "
                       r"column; did you mean 'success_rate'"):
        load_sweep(write(tmp_path, GRID + '[[sweep.expect]]\nquantity = "sucess_rate"\nabove = 0.5\n'))
    with pytest.raises(ScenarioError, match=r"0\.95 is not one of the axis's values"):
        load_sweep(write(tmp_path, GRID + '[[sweep.expect]]\nquantity = "epochs"\nabove = 0.5\n'
                         'where = { "training.learning_rate" = 0.95 }\n'))


def test_resume_after_a_kill_loses_only_the_points_that_were_running(tmp_path):
    # no point stops early (a criterion no run meets), so each takes all its 4,000 epochs and the
    # kill, after the third, lands while the others are still to come
    sweep = ('[sweep.axes]\n"training.learning_rate" = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]\n'
             '"training.stop.within" = [1e-9]\n')
    path = write(tmp_path, sweep, epochs=4000)
    whole = run_sweep(path, tmp_path / "whole", workers=1)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "neurosim", "sweep", str(path), "--out", str(out),
                             "--workers", "1", "-q"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while len(list(out.glob("points/*/point.json"))) < 3 and proc.poll() is None:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = {p.parent.name: json.loads(p.read_text())["row"]["worker"] for p in out.glob("points/*/point.json")}
    assert 3 <= len(finished) < 8, "the sweep should have been killed half way"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "-q"]) == 2    # refused without --resume
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "-q", "--resume"]) == 0
    doc = read_results(out)
    assert computed(doc["rows"]) == computed(whole.rows)
    for row in doc["rows"]:                  # the finished points were kept, not run again
        if row["point"] in finished:
            assert row["worker"] == finished[row["point"]]
    assert not list(out.rglob("*.tmp*"))


def test_an_interrupted_sweep_writes_what_finished(tmp_path):
    path = write(tmp_path, GRID)

    def stop_after_two(progress):
        if progress.done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(path, tmp_path / "out", workers=1, callbacks=[stop_after_two])
    assert read_results(tmp_path / "out")["finished"] >= 2
    result = run_sweep(path, tmp_path / "out", workers=1, resume=True)
    assert [r["status"] for r in result.rows] == ["passed"] * 4


def test_missing_distributed_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'neurosim\[dist\]'"):
        with dask_executor("local"):
            pass
    assert main(["sweep", str(write(tmp_path, GRID)), "--out", str(tmp_path / "out"), "--dask", "local"]) == 2
    assert "pip install 'neurosim[dist]'" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ScenarioError, match=rf"--dask: {address}: no Dask scheduler answered within 0\.5 s"):
        with dask_executor(address, timeout=0.5):
            pass


@pytest.fixture(scope="module")
def local_cluster():
    pytest.importorskip("distributed")
    with dask_executor("local", workers=2) as executor:
        yield executor


def test_the_pool_and_a_local_dask_cluster_agree_row_for_row(tmp_path, local_cluster):
    path = write(tmp_path, GRID + '[sweep]\nseeds = 2\nseeds_as = "points"\n')
    pool = run_sweep(path, tmp_path / "pool", workers=2)
    dask = run_sweep(path, tmp_path / "dask", executor=local_cluster)
    assert len(pool.rows) == 8 and pool.columns == dask.columns
    assert computed(pool.rows) == computed(dask.rows)
    assert {r["worker"] for r in pool.rows} != {r["worker"] for r in dask.rows}
    assert (tmp_path / "pool" / "points" / "0005.toml").read_text() == \
        (tmp_path / "dask" / "points" / "0005.toml").read_text()


def test_sweep_progress_lines_say_points_failures_and_time_left():
    import io

    from neurosim.progress import SweepReporter
    from neurosim.sweep import SweepProgress

    now = [0.0]
    stream = io.StringIO()
    reporter = SweepReporter("s.toml", "lines", stream, interval=5.0, clock=lambda: now[0])
    reporter(SweepProgress(done=2, total=10, kept=2, failed=0, errors=0, elapsed=0.0))      # resumed: 2 kept
    for t, done, failed in ((3.0, 3, 0), (6.0, 4, 1), (8.0, 5, 1)):
        now[0] = t
        reporter(SweepProgress(done=done, total=10, kept=2, failed=failed, errors=0, elapsed=t))
    reporter.close()
    # at 6 s, 2 points ran in 6 s: 6 left take ~18 s; the last line gives the time it all took
    assert stream.getvalue().splitlines() == ["s.toml: 4/10 points, 1 failed, 0 errors, ~18 s left",
                                              "s.toml: 5/10 points, 1 failed, 0 errors, 8 s in all"]


def test_odd_axes_are_refused_by_name(tmp_path, capsys):
    for axes, fragment in (('"training.learning_rate" = [nan]', 'sweep.axes."training.learning_rate"[0]: is nan'),
                           ('"seed" = [1, 2]', 'sweep.axes."seed": is not a scenario key; did you mean "scenario.seed"')):
        path = write(tmp_path, f"[sweep.axes]\n{axes}\n")
        assert main(["check", str(path)]) == 2
        assert fragment in capsys.readouterr().err
    path = write(tmp_path, "[sweep]\nseeds = 1000000000\nseeds_as = \"points\"\n")
    assert main(["check", str(path)]) == 2
    assert "makes 1,000,000,000 points; a sweep is at most 100,000" in capsys.readouterr().err


def test_an_aborted_sweep_lets_go_of_its_folder_only_when_its_workers_are_done(tmp_path):
    sweep = ('[sweep.axes]\n"training.learning_rate" = [0.1, 0.2, 0.3, 0.4]\n'
             '"training.stop.within" = [1e-9]\n')
    path = write(tmp_path, sweep, epochs=4000)

    def abort(progress):
        if progress.done >= 1:
            raise RuntimeError("stop here")
    with pytest.raises(RuntimeError):
        run_sweep(path, tmp_path / "out", workers=2, callbacks=[abort])
    seen = sorted(p.parent.name for p in (tmp_path / "out").glob("points/*/point.json"))
    time.sleep(1.0)                       # nothing is still running to write more
    assert sorted(p.parent.name for p in (tmp_path / "out").glob("points/*/point.json")) == seen
    assert not (tmp_path / "out" / ".neurosim.lock").exists()
