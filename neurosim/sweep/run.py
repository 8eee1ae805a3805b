"""Running a sweep: every point on an executor, the results table kept up to date.

:func:`run_sweep` writes every point of a :class:`~neurosim.sweep.Sweep` as a scenario file
(``DIR/points/0007.toml``), hands the points to a :class:`concurrent.futures.Executor` (the
local process pool of :mod:`.backends` by default, or a Dask client's executor), and as
points finish rewrites ``DIR/results.csv`` and ``DIR/results.json`` atomically, so a killed
sweep keeps every point that finished. :func:`run_point` is what a worker runs: the point
file, exactly as ``neurosim run DIR/points/0007.toml --out DIR/points/0007`` would, then
``point.json`` (the point's row and the hash of its file) beside the results; ``resume``
skips the points whose ``point.json`` matches their file. A point that raises is an
``error`` row and the sweep goes on. The columns are listed in ``docs/sweeps.md``.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NeurosimError, NumericalError, ScenarioError
from ..io import DataError, FileError, atomic_write_all, folder_lock, json_text
from .model import FIXED_COLUMNS, MEASURE_COLUMNS, Point, Sweep, load_sweep

__all__ = ["run_sweep", "run_point", "read_results", "SweepResult", "SweepProgress", "RESULTS_FORMAT",
           "POINT_FILE"]

#: ``results.json``'s ``format`` (with ``version`` 1).
RESULTS_FORMAT = "neurosim-sweep-results"
#: The file in each point's folder that holds its row and the hash of its scenario file.
POINT_FILE = "point.json"
#: The least seconds between two rewrites of the results table while points finish (the
#: table of 1,000 rows takes about 40 ms to write, taken from the workers' cores; a killed
#: sweep keeps its finished points anyway, in their folders).
WRITE_INTERVAL = 5.0
#: The metrics of ``summary.json`` that are not measures of the table (said otherwise or not numbers).
_NOT_MEASURES = {"task", "epochs_run", "stopped_by", "outcomes", "of", "ensemble"}


@dataclass
class SweepProgress:
    """What a sweep callback is handed after every finished point.

    Attributes
    ----------
    done, total : int
        Points finished (including those a resume kept) and points in all.
    kept : int
        Points a resume kept without running them.
    failed : int
        Finished points that failed an expectation or diverged.
    errors : int
        Points that raised.
    elapsed : float
        Seconds since the sweep started running points.
    row : dict or None
        The row of the point that just finished.
    """

    done: int
    total: int
    kept: int
    failed: int
    errors: int
    elapsed: float
    row: dict | None = None


@dataclass
class SweepResult:
    """What a sweep produced.

    Attributes
    ----------
    sweep : Sweep
    out : Path
        The results folder.
    rows : list of dict
        One row per point, in point order (see :attr:`columns`).
    columns : list of str
        The results columns, in the order of ``results.csv``.
    checks : list of tuple
        ``(SweepExpectation, actual, met, bound)`` for each ``[[sweep.expect]]``.
    """

    sweep: Sweep
    out: Path
    rows: list
    columns: list
    checks: list = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many rows have this status."""
        return sum(row.get("status") == status for row in self.rows)

    @property
    def passed(self) -> bool:
        """True when no point raised (status ``error``) and every sweep expectation holds;
        points that fail their own expectations or diverge are results, not failures."""
        return self.count("error") == 0 and all(met for _e, _a, met, _b in self.checks)

    @property
    def failures(self) -> list[str]:
        """One line per point that raised and per unmet sweep expectation."""
        lines = [f"{self.sweep.source}: point {row['point']}: {row['message']}" for row in self.rows
                 if row.get("status") == "error"]
        return lines + [f"{self.sweep.source}: sweep.expect[{e.index}]: {e.describe()}: got {a:.6g}, wanted {b}"
                        for e, a, met, b in self.checks if not met]

    def report(self) -> str:
        """The text ``neurosim sweep`` prints: the counts by status and the sweep expectations."""
        counts = ", ".join(f"{self.count(s)} {s}" for s in ("passed", "failed", "diverged", "error"))
        lines = [f"sweep {self.sweep.name}: {self.sweep.describe()}", f"points: {counts}"]
        if self.checks:
            lines.append("sweep expectations:")
            for e, actual, met, bound in self.checks:
                lines.append(f"  {'ok  ' if met else 'FAIL'}  {e.describe()}: {actual:.6g} (wanted {bound})")
            lines.append(f"{sum(m for *_x, m, _b in self.checks)} of {len(self.checks)} sweep expectations met")
        return "\n".join(lines)


# --- the worker ---------------------------------------------------------------------------


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_point(index: int, point_file: str, out_dir: str, values: dict, sha256: str, has_stop: bool,
              expectations: int) -> dict:
    """Run one point file into its folder, as ``neurosim run FILE --out DIR`` does; its row.

    What a worker runs (a plain function of plain values, so any executor can send it).
    Every exception the run raises becomes the row's status (``diverged`` for a
    :class:`~neurosim.NumericalError`, else ``error``) and message; the row and
    ``sha256`` are written to ``out_dir/point.json`` last, so a folder with a
    ``point.json`` is a finished point.

    Parameters
    ----------
    index : int
        The point's number.
    point_file, out_dir : str
        Its scenario file and its results folder (absolute: a Dask worker must see them
        at these paths, on a filesystem shared with the client).
    values : dict
        Its axis columns.
    sha256 : str
        The hash of the point file as written.
    has_stop : bool
        Whether the scenario has a stop criterion (a diverged network's ``success_rate``
        is then 0).
    expectations : int
        How many ``[[expect]]`` tables the point has.

    Returns
    -------
    dict
        The row (see ``docs/sweeps.md``).
    """
    from ..scenario import run_scenario

    started = time.perf_counter()
    row: dict[str, Any] = {"index": index, "point": f"{index:04d}", **values}
    try:
        if not os.path.isfile(point_file):
            raise FileError(point_file, f"is not there on {socket.gethostname()}: a sweep's workers read the point "
                            "files and write the results at the client's paths, so they need the sweep folder on "
                            "a filesystem they share with it")
        result = run_scenario(point_file)
        result.save(out_dir)
        _fill(row, result)
    except NumericalError as exc:
        row.update(status="diverged", message=str(exc), epochs=None)
        if has_stop:
            row["success_rate"] = 0.0
        for k in range(expectations):
            row[f"expect[{k}].met"], row[f"expect[{k}].actual"] = False, None
    except Exception as exc:        # noqa: BLE001 - a point that raises is a row, and the sweep goes on
        message = str(exc) if isinstance(exc, NeurosimError) else f"{type(exc).__name__}: {exc}"
        row.update(status="error", message=message, epochs=None)
    row["seconds"] = time.perf_counter() - started
    row["worker"] = _worker()
    with contextlib.suppress(OSError, DataError):
        os.makedirs(out_dir, exist_ok=True)
        atomic_write_all({Path(out_dir) / POINT_FILE: json_text({"sha256": sha256, "row": row})})
    return row


def _fill(row: dict, result) -> None:
    """A finished run's status, expectations and measures into its row."""
    row["status"] = "diverged" if result.all_diverged else ("passed" if result.passed else "failed")
    prefix = f"{result.scenario.source}: "
    row["message"] = "; ".join(line.removeprefix(prefix) for line in result.failures)
    row["epochs"] = result.epochs_run
    for e, actual, met, _bound in result.checks:
        row[f"expect[{e.index}].met"] = bool(met)
        row[f"expect[{e.index}].actual"] = float(actual) if math.isfinite(actual) else None
    metrics = result.metrics()
    for key, value in metrics.items():
        if key not in _NOT_MEASURES:
            row[key] = value
    if metrics.get("ensemble") is not None:
        row.update(metrics["ensemble"])
    elif result.scenario.stop is not None:         # one network: 1 when it met its stop criterion, as the measure
        row["success_rate"] = 1.0 if result.stopped_early else 0.0


# --- the table ----------------------------------------------------------------------------


def _columns(sweep: Sweep, rows: Sequence[dict]) -> list[str]:
    expects = sweep.base.get("expect", []) if isinstance(sweep.base.get("expect"), list) else []
    cols = ["index", "point", *sweep.axis_columns, *FIXED_COLUMNS[2:]]
    cols += [f"expect[{k}].{part}" for k in range(len(expects)) for part in ("met", "actual")]
    present = {k for row in rows for k in row}
    cols += [m for m in MEASURE_COLUMNS if m in present]
    cols += sorted(present - set(cols))
    return cols


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _tables(sweep: Sweep, rows: list[dict], checks: list | None) -> dict[str, str]:
    columns = _columns(sweep, rows)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    doc = {"format": RESULTS_FORMAT, "version": 1, "sweep": sweep.name, "source": sweep.source,
           "axes": sweep.axes, "zip": sweep.zip,
           "seeds": None if sweep.seeds is None else {"count": sweep.seeds, "as": sweep.seeds_as},
           "total": len(sweep.points), "finished": len(rows), "columns": columns,
           "rows": [{c: row.get(c) for c in columns} for row in rows],
           "expectations": None if checks is None else [
               {"index": e.index, "description": e.describe(), "quantity": e.quantity, "where": e.where,
                "stat": e.stat, "actual": actual if math.isfinite(actual) else None, "wanted": bound, "met": met}
               for e, actual, met, bound in checks],
           "passed": None}
    if checks is not None:
        doc["passed"] = all(row["status"] != "error" for row in rows) and all(m for *_x, m, _b in checks)
    return {"results.csv": text.getvalue(), "results.json": json_text(doc)}


def read_results(folder: str | os.PathLike) -> dict:
    """Read a sweep's ``results.json`` (the table as written, possibly of an unfinished sweep).

    Parameters
    ----------
    folder : str or path
        The ``--out`` folder of ``neurosim sweep``.

    Returns
    -------
    dict
        ``format``, ``version``, ``sweep``, ``source``, ``axes``, ``zip``, ``seeds``,
        ``total``, ``finished``, ``columns``, ``rows`` (a list of ``{column: value}``),
        ``expectations`` and ``passed`` (both None until the sweep finished).

    Raises
    ------
    DataError
        When the folder holds no sweep results.
    """
    from ..io import read_text

    path = Path(folder) / "results.json"
    try:
        doc = json.loads(read_text(path, limit=1 << 30, what="a sweep's results.json"))
    except FileError:
        raise
    except ValueError as exc:
        raise DataError(f"{path} is not a sweep's results ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != RESULTS_FORMAT:
        raise DataError(f"{path} is not a sweep's results (its format is not {RESULTS_FORMAT!r})")
    return doc


def _kept(point: Point, folder: Path, sha: str) -> dict | None:
    """The row of a finished point that ``resume`` keeps: its ``point.json`` names the same
    file, it did not raise, and a passed or failed one has a complete ``summary.json``."""
    try:
        saved = json.loads((folder / POINT_FILE).read_text(encoding="utf-8"))
        row = saved["row"]
        if saved["sha256"] != sha or row["status"] == "error" or row["index"] != point.index:
            return None
        if row["status"] in ("passed", "failed"):
            json.loads((folder / "summary.json").read_text(encoding="utf-8"))["metrics"]
        return row
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- the runner ---------------------------------------------------------------------------


def run_sweep(source: str | os.PathLike | Sweep, out: str | os.PathLike, *, executor: cf.Executor | None = None,
              workers: int | None = None, resume: bool = False,
              callbacks: Sequence[Callable[[SweepProgress], Any]] = ()) -> SweepResult:
    """Run every point of a sweep and write its results table.

    Parameters
    ----------
    source : str, path or Sweep
        A sweep file (see :func:`~neurosim.sweep.load_sweep`) or a loaded sweep.
    out : str or path
        The results folder (created if missing; held with
        :func:`neurosim.io.folder_lock` meanwhile): ``points/NNNN.toml``,
        ``points/NNNN/`` (what ``neurosim run --out`` writes, and ``point.json``),
        ``results.csv`` and ``results.json``.
    executor : concurrent.futures.Executor, optional
        Where the points run: e.g. ``client.get_executor()`` of a Dask client
        (:func:`~neurosim.sweep.dask_executor`). By default a local process pool of
        ``workers`` processes (:func:`~neurosim.sweep.local_pool`), shut down at the end.
    workers : int, optional
        The pool's processes (default: the machine's cores); ignored with ``executor``.
    resume : bool, default False
        Keep the points a previous sweep into ``out`` finished (their ``point.json``
        matches their file and they did not raise), run the rest. Without it, a folder
        that holds a sweep's results already is refused.
    callbacks : sequence of callable
        ``callback(SweepProgress)`` after every finished point (e.g.
        :class:`neurosim.progress.SweepReporter`).

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        An invalid sweep, or a folder that cannot be used.
    KeyboardInterrupt
        Re-raised after the points not yet started are cancelled and the table of those
        that finished is written (``resume`` goes on from there).
    """
    from .backends import local_pool

    sweep = source if isinstance(source, Sweep) else load_sweep(source)
    out = Path(out).absolute()
    try:
        (out / "points").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError("--out", str(out), f"cannot be used as the results folder ({exc.strerror})") from None
    try:
        lock = folder_lock(out)
        lock.__enter__()
    except FileError as exc:
        raise ScenarioError("--out", str(out), exc.problem.replace("neurosim run", "neurosim sweep")) from None
    try:
        if not resume and (out / "results.json").exists():
            raise ScenarioError("--out", str(out), "holds a sweep's results already; give --resume to finish that "
                                "sweep, or another folder")
        return _run(sweep, out, executor, workers, resume, callbacks, local_pool)
    finally:
        lock.__exit__(None, None, None)


def _run(sweep: Sweep, out: Path, executor, workers, resume, callbacks, local_pool) -> SweepResult:
    texts = {p.index: p.toml() for p in sweep.points}
    shas = {i: hashlib.sha256(t.encode()).hexdigest() for i, t in texts.items()}
    files = {}
    for p in sweep.points:
        path = out / "points" / f"{p.name}.toml"
        try:
            same = path.read_text(encoding="utf-8") == texts[p.index]
        except OSError:
            same = False
        if not same:
            files[path] = texts[p.index]
    if files:
        atomic_write_all(files)
    rows: dict[int, dict] = {}
    if resume:
        for p in sweep.points:
            row = _kept(p, out / "points" / p.name, shas[p.index])
            if row is not None:
                rows[p.index] = row
    kept = len(rows)
    expects = sweep.base.get("expect", []) if isinstance(sweep.base.get("expect"), list) else []
    started = time.monotonic()
    last_write = [0.0]

    def write(checks: list | None = None) -> None:
        ordered = [rows[i] for i in sorted(rows)]
        tables = _tables(sweep, ordered, checks)
        atomic_write_all({out / name: text for name, text in tables.items()})
        last_write[0] = time.monotonic()

    counts = collections.Counter(r["status"] for r in rows.values())

    def tell(row: dict | None) -> None:
        if row is not None:
            counts[row["status"]] += 1
        progress = SweepProgress(done=len(rows), total=len(sweep.points), kept=kept,
                                 failed=counts["failed"] + counts["diverged"], errors=counts["error"],
                                 elapsed=time.monotonic() - started, row=row)
        for callback in callbacks:
            callback(progress)

    pending = [p for p in sweep.points if p.index not in rows]
    write()
    tell(None)
    owned = executor is None
    pool = local_pool(workers) if owned else contextlib.nullcontext(executor)
    with pool as ex:
        futures = {}
        try:
            for p in pending:
                folder = out / "points" / p.name
                futures[ex.submit(run_point, p.index, str(out / "points" / f"{p.name}.toml"), str(folder),
                                  p.values, shas[p.index], "stop" in (p.data.get("training") or {}),
                                  len(expects))] = p
            for future in cf.as_completed(futures):
                p = futures.pop(future)
                try:
                    row = future.result()
                except Exception as exc:     # noqa: BLE001 - the worker was lost, not the point's run
                    row = {"index": p.index, "point": p.name, **p.values, "status": "error", "epochs": None,
                           "message": f"the worker running it was lost ({type(exc).__name__}: {exc})",
                           "seconds": None, "worker": None}
                rows[p.index] = row
                if time.monotonic() - last_write[0] >= WRITE_INTERVAL:
                    write()
                tell(row)
        except BaseException:
            for future in futures:
                future.cancel()
            for future, p in list(futures.items()):      # those that finished meanwhile are kept
                if future.done() and not future.cancelled() and future.exception() is None:
                    rows[p.index] = future.result()
            write()
            raise
    ordered = [rows[i] for i in sorted(rows)]
    checks = [(e, *e.check(ordered)) for e in sweep.expectations]
    write(checks)
    return SweepResult(sweep=sweep, out=out, rows=ordered, columns=_columns(sweep, ordered), checks=checks)
