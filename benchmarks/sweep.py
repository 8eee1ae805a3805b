"""Benchmark the sweep runner: per-point overhead and the speed-up of many small points.
``python benchmarks/sweep.py [--smoke] [--repeat 3] [--workers 2] [--points 200] [--epochs 300] [--no-dask]``.

(a) **Per-point overhead.** A sweep of ``--points`` trivial points (Mazur's worked example,
one epoch, the axis ``scenario.seed`` so every point is its own file) runs on the local
pool with one worker, and the same points run in a plain loop in this process
(``run_scenario(point).save(folder)`` for each: the work a worker does for a point).
Overhead per point = (pool wall time − loop wall time) / points: what the pool adds —
writing the point files and the table, starting the worker, sending each point and its
row, ``point.json`` — on top of the runs themselves. With ``--workers`` workers it is
(wall time × workers − the points' own seconds) / points, idle workers counted.
(b) **Speed-up.** 1,000 small points (mirror symmetry, 10 learning rates × 10 momenta ×
10 seeds as separate points, ``--epochs`` sweeps each) on ``--workers`` workers against the
plain loop: loop wall time / sweep wall time.
The machine's own ceiling is measured beside them, interleaved: ``--workers`` units of pure
training (mirror symmetry, 1,500 sweeps, five times; no files) sent to a warm process pool
at once, against the same units one after another: on a shared machine whose other cores
are busy this is well under ``--workers``, and no backend can beat it.
(c) The same on Dask: a ``distributed.LocalCluster`` (``--dask local``) of one worker and of
``--workers`` for (a), of ``--workers`` for (b), started and warmed up before its timing
(a user's cluster is running already; its start is printed) and closed after it, in every
repetition (an idle cluster's heartbeats would slow the other runs).

Every process computes with one BLAS thread (this script sets ``OPENBLAS_NUM_THREADS`` and
friends before numpy loads, as the pool and Dask's nannies do for their workers). Each
repetition runs loop, pool and Dask once, interleaved, after one warm-up round; the table
shows medians of ``--repeat`` runs. ``--smoke`` shrinks everything to seconds (its figures
mean nothing). Exit status 0 whatever the figures: this prints ratios, it is not a test.
"""

from __future__ import annotations

import os
import sys

#: neurosim.sweep.backends.ONE_THREAD, set here before numpy loads (importing neurosim would
#: load it): the loop computes with one BLAS thread, as the pool's and Dask's workers do.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update(ONE_THREAD)

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import contextlib  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import neurosim  # noqa: E402
from neurosim.sweep import dask_executor, load_sweep, run_sweep  # noqa: E402
from neurosim.sweep.backends import ONE_THREAD as _POOL_THREADS  # noqa: E402

assert _POOL_THREADS == ONE_THREAD, "benchmarks/sweep.py must pin threads as the pool does"

ROOT = Path(__file__).resolve().parents[1]
#: Targets: the largest per-point overhead on the pool with one worker, the least speed-up.
OVERHEAD_TARGET = 0.020
SPEEDUP_TARGET = 1.8


def write_sweeps(folder: Path, points: int, grid: int, seeds: int, epochs: int) -> dict[str, Path]:
    """The two sweep files, in ``folder``: ``trivial`` (Mazur, ``points`` seeds) and
    ``symmetry`` (``grid`` learning rates x ``grid`` momenta x ``seeds`` seeds as points)."""
    mazur = (ROOT / "scenarios" / "mazur.toml").as_posix()
    symmetry = (ROOT / "scenarios" / "symmetry.toml").as_posix()
    rates = ", ".join(repr(round(0.05 + 0.05 * k, 4)) for k in range(grid))
    momenta = ", ".join(repr(round(0.9 * k / max(1, grid - 1), 4)) for k in range(grid))
    files = {
        "trivial": (f'base = "{mazur}"\n\n[sweep.axes]\n'
                    f'"scenario.seed" = [{", ".join(str(k) for k in range(points))}]\n'),
        # symmetry.toml's expectations are about its seed 72: left out ("expect" = [[]])
        "symmetry": (f'base = "{symmetry}"\n\n[sweep]\nseeds = {seeds}\nseeds_as = "points"\n\n[sweep.axes]\n'
                     f'"training.learning_rate" = [{rates}]\n"training.momentum" = [{momenta}]\n'
                     f'"training.epochs" = [{epochs}]\n"expect" = [[]]\n'),
    }
    out = {}
    for name, text in files.items():
        out[name] = folder / f"{name}.toml"
        out[name].write_text(text)
    return out


def training_unit(repeat: int = 5) -> float:
    """Pure training, no files: the mirror-symmetry net, 1,500 sweeps, ``repeat`` times; its seconds."""
    started = time.perf_counter()
    for _ in range(repeat):
        neurosim.run_scenario(ROOT / "scenarios" / "symmetry.toml", {"expect": []})
    return time.perf_counter() - started


def time_ceiling(pool: cf.Executor, workers: int, repeat: int) -> tuple[float, float]:
    """``workers`` training units one after another, and all at once, on a warm pool: (serial, parallel)."""
    started = time.perf_counter()
    for _ in range(workers):
        pool.submit(training_unit, repeat).result()
    serial = time.perf_counter() - started
    started = time.perf_counter()
    for future in [pool.submit(training_unit, repeat) for _ in range(workers)]:
        future.result()
    return serial, time.perf_counter() - started


def time_loop(sweep, out: Path) -> tuple[float, float]:
    """Every point's ``run_scenario(...).save(...)`` in a plain loop here: (wall, wall)."""
    started = time.perf_counter()
    for p in sweep.points:
        neurosim.run_scenario(p.data).save(out / p.name)
    wall = time.perf_counter() - started
    return wall, wall


def time_sweep(sweep, out: Path, **kwargs) -> tuple[float, float]:
    """``run_sweep`` into ``out``: (wall, the points' own seconds summed)."""
    started = time.perf_counter()
    result = run_sweep(sweep, out, **kwargs)
    wall = time.perf_counter() - started
    bad = [r for r in result.rows if r["status"] == "error"]
    if bad:
        raise SystemExit(f"point {bad[0]['point']} raised: {bad[0]['message']}")
    return wall, sum(r["seconds"] for r in result.rows)


def fmt_time(t: float | None) -> str:
    """Seconds as ``12.3 ms`` or ``4.56 s`` (``—`` for None)."""
    if t is None:
        return "—"
    return f"{t * 1e3:.1f} ms" if t < 1.0 else f"{t:.2f} s"


def environment(workers: int) -> str:
    """One line on the machine, the libraries, the thread settings and the load."""
    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}", f"neurosim {neurosim.__version__}",
             f"{os.cpu_count()} CPUs", f"{workers} workers"]
    try:
        import distributed
        parts.append(f"distributed {distributed.__version__}")
    except ImportError:
        parts.append("no distributed")
    parts.append("BLAS env: " + ", ".join(f"{k}={os.environ[k]}" for k in ONE_THREAD))
    if hasattr(os, "getloadavg"):
        parts.append("load average %.1f %.1f %.1f" % os.getloadavg())
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; 0 unless a point raised."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; the figures mean nothing")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repetitions (default 3)")
    ap.add_argument("--workers", type=int, default=2, help="workers for the speed-up (default 2)")
    ap.add_argument("--points", type=int, default=200, help="trivial points for the overhead (default 200)")
    ap.add_argument("--epochs", type=int, default=300, help="sweeps of each symmetry point (default 300)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask columns")
    args = ap.parse_args(argv)
    grid, seeds = 10, 10
    if args.smoke:
        args.repeat, args.points, args.epochs, grid, seeds = 1, 8, 20, 2, 2
    dask = not args.no_dask
    if dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("note: distributed is not installed (pip install 'neurosim[dist]'); Dask columns skipped")
            dask = False
    print(environment(args.workers))
    t_start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="neurosim-sweep-bench-"))
    try:
        files = write_sweeps(tmp, args.points, grid, seeds, args.epochs)
        sweeps = {name: load_sweep(path) for name, path in files.items()}
        n_trivial, n_sym = len(sweeps["trivial"].points), len(sweeps["symmetry"].points)
        print(f"(a) {sweeps['trivial'].describe()}\n(b) {sweeps['symmetry'].describe()}, {args.epochs} sweeps each")
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        starts: dict[int, list[float]] = {}
        with contextlib.ExitStack() as stack:
            ceiling_pool = stack.enter_context(cf.ProcessPoolExecutor(
                args.workers, mp_context=multiprocessing.get_context("spawn")))
            unit = 1 if args.smoke else 5
            time_ceiling(ceiling_pool, args.workers, 1)        # start and warm its workers
            runs = {
                ("c", "ceiling"): lambda out: time_ceiling(ceiling_pool, args.workers, unit),
                ("a", "loop"): lambda out: time_loop(sweeps["trivial"], out),
                ("a", "pool 1"): lambda out: time_sweep(sweeps["trivial"], out, workers=1),
                ("a", f"pool {args.workers}"): lambda out: time_sweep(sweeps["trivial"], out, workers=args.workers),
                ("b", "loop"): lambda out: time_loop(sweeps["symmetry"], out),
                ("b", f"pool {args.workers}"): lambda out: time_sweep(sweeps["symmetry"], out, workers=args.workers),
            }
            # Dask: a LocalCluster per size and repetition, started (and warmed: its workers import
            # neurosim on their first task) before its timing, closed after it, so that an idle
            # cluster's heartbeats do not slow the other runs
            on_dask = {1: [("a", "trivial")], args.workers: [("a", "trivial"), ("b", "symmetry")]} if dask else {}
            warm = {"trivial": load_sweep(files["trivial"]), "symmetry": load_sweep(files["symmetry"])}
            warm["trivial"].points, warm["symmetry"].points = warm["trivial"].points[:2], warm["symmetry"].points[:2]
            for s in warm.values():
                time_loop(s, tmp / f"warm-loop-{s.name}")
            for rep in range(args.repeat):
                for key, run in runs.items():
                    out = tmp / f"{key[0]}-{key[1].replace(' ', '')}-{rep}"
                    times.setdefault(key, []).append(run(out))
                    shutil.rmtree(out, ignore_errors=True)
                for n, parts in on_dask.items():
                    started = time.perf_counter()
                    with dask_executor("local", workers=n) as executor:
                        starts.setdefault(n, []).append(time.perf_counter() - started)
                        for s in warm.values():
                            out = tmp / f"warm-dask{n}-{rep}-{s.name}"
                            run_sweep(s, out, executor=executor)
                            shutil.rmtree(out, ignore_errors=True)
                        for part, name in parts:
                            out = tmp / f"{part}-dask{n}-{rep}"
                            times.setdefault((part, f"dask {n}"), []).append(
                                time_sweep(sweeps[name], out, executor=executor))
                            shutil.rmtree(out, ignore_errors=True)
                print(f"repetition {rep + 1} of {args.repeat} done at {time.perf_counter() - t_start:.0f} s",
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(key, part=0):
        return statistics.median(t[part] for t in times[key]) if key in times else None

    print(f"\nmedians of {args.repeat} interleaved runs after one warm-up\n")
    print(f"(a) per-point overhead, {n_trivial} trivial points (Mazur, 1 epoch)\n")
    print("| backend | workers | wall | points' own time | overhead per point | target | met |\n"
          "|---|---:|---:|---:|---:|---:|:-:|")
    loop = med(("a", "loop"))
    print(f"| plain loop | 1 | {fmt_time(loop)} | {fmt_time(loop)} | — | | |")
    for name in ("pool", "dask"):
        for n in sorted({1, args.workers}):
            key = ("a", f"{name} {n}")
            if key not in times:
                continue
            wall, own = med(key), med(key, 1)
            over = (wall - loop) / n_trivial if n == 1 else (wall * n - own) / n_trivial
            how = "(wall − loop) / N" if n == 1 else f"(wall × {n} − own) / N"
            target = f"≤ {OVERHEAD_TARGET * 1e3:g} ms" if (name, n) == ("pool", 1) else "—"
            met = ("yes" if over <= OVERHEAD_TARGET else "**no**") if (name, n) == ("pool", 1) else ""
            label = "local pool" if name == "pool" else "dask LocalCluster"
            print(f"| {label} | {n} | {fmt_time(wall)} | {fmt_time(own)} | {over * 1e3:.1f} ms {how} | {target} "
                  f"| {met} |")
    print(f"\n(b) {n_sym} symmetry points ({grid} learning rates × {grid} momenta × {seeds} seeds as points, "
          f"{args.epochs} sweeps each)\n")
    print("| backend | workers | wall | per point | speed-up vs loop | target | met |\n"
          "|---|---:|---:|---:|---:|---:|:-:|")
    loop = med(("b", "loop"))
    print(f"| plain loop | 1 | {fmt_time(loop)} | {fmt_time(loop / n_sym)} | 1 | | |")
    for name, label in (("pool", "local pool"), ("dask", "dask LocalCluster")):
        key = ("b", f"{name} {args.workers}")
        if key not in times:
            continue
        wall = med(key)
        speed = loop / wall
        target = f"≥ {SPEEDUP_TARGET:g}" if name == "pool" else "—"
        met = ("yes" if speed >= SPEEDUP_TARGET else "**no**") if name == "pool" else ""
        print(f"| {label} | {args.workers} | {fmt_time(wall)} | {fmt_time(wall / n_sym)} | {speed:.2f} | {target} "
              f"| {met} |")
    serial, parallel = med(("c", "ceiling")), med(("c", "ceiling"), 1)
    print(f"| (this machine now: {args.workers} units of pure training at once vs one after another) | "
          f"{args.workers} | {fmt_time(parallel)} | | {serial / parallel:.2f} | | |")
    runs_text = "; ".join(f"{k[0]} {k[1]}: " + ", ".join(f"{w:.2f}" if k[0] != "c" else f"{w:.2f}/{o:.2f}"
                                                         for w, o in v) for k, v in times.items())
    print(f"\nevery run (wall s; ceiling: one after another/at once): {runs_text}")
    for n, seconds in starts.items():
        print(f"LocalCluster of {n} worker{'s' if n > 1 else ''}: started in {statistics.median(seconds):.2f} s "
              "(median; not in the times above)")
    print(f"\ntotal {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
