"""The sweep language: reading a ``[sweep]`` table and expanding it into points.

:func:`load_sweep` reads a scenario file holding a ``[sweep]`` table, or a sweep file that
names its scenario with ``base = "other.toml"``, checks every key of ``[sweep]`` (axes over
any key ``neurosim run --set`` reaches, ``zip`` groups, ``seeds``, ``[[sweep.expect]]``)
and returns a :class:`Sweep` whose :attr:`Sweep.points` are the complete scenarios it runs,
each with the overrides applied and its text as a TOML file (:meth:`Point.toml`).
:meth:`Sweep.check` validates every point the way ``neurosim check`` validates a scenario,
naming the axis and the value at fault. Nothing here runs a network.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NeurosimError, ScenarioError, did_you_mean
from ..functions import STATISTICS
from ..io import SCENARIO_FILE_LIMIT, FileError, TOMLLimitError, parse_toml, read_text
from ..plugins import Registry, make_registry
from ..scenario import Expectation, load_scenario
from ..scenario.result import METRICS
from ..scenario.schema import _toml
from ..tomlfile import dumps

__all__ = ["Sweep", "Point", "SweepExpectation", "load_sweep", "is_sweep", "SWEEP_KEYS", "SWEEP_STATS",
           "STATUSES", "FIXED_COLUMNS"]

#: The keys of ``[sweep]``.
SWEEP_KEYS = ("axes", "zip", "seeds", "seeds_as", "expect", "name")
#: What ``[[sweep.expect]]`` takes as ``stat``: a statistic over the rows (``count``: how
#: many rows have a value).
SWEEP_STATS = ("mean", "min", "median", "max", "count")
#: The keys of a ``[[sweep.expect]]`` table.
EXPECT_KEYS = ("quantity", "where", "stat", "value", "tolerance", "below", "above")
#: A point's status in the results table.
STATUSES = ("passed", "failed", "diverged", "error")
#: The columns every results row has besides the axes and the expectations and measures.
FIXED_COLUMNS = ("index", "point", "status", "message", "epochs", "seconds", "worker")
#: The measures a row may hold (from the point's ``summary.json`` metrics).
MEASURE_COLUMNS = (
    "train_error", "validation_error", "test_error",
    *(f"{which}_{m}" for which in ("train", "test") for names in METRICS.values() for m in names),
    "stopped_early", "success_rate", "members", "diverged",
    "epochs_min", "epochs_median", "epochs_max", "error_min", "error_median", "error_max",
)


def _data_file_keys() -> tuple[tuple[str, ...], ...]:
    return (("data",), ("data", "test"), ("data", "validation"))


@dataclass
class SweepExpectation:
    """One ``[[sweep.expect]]`` table: a statistic of a results column over some rows.

    Attributes
    ----------
    index : int
        Position in the file (``sweep.expect[index]``).
    quantity : str
        A results column (``success_rate``, ``test_accuracy``, ``expect[0].met``, ...).
    where : dict
        ``{column: value}``: only the rows whose column equals the value count.
    stat : str
        ``mean`` (default), ``min``, ``median``, ``max`` or ``count``.
    bound : Expectation
        The bounds (``value`` with ``tolerance``, ``below``, ``above``), checked with
        :meth:`neurosim.scenario.Expectation.check`.
    """

    index: int
    quantity: str
    where: dict
    stat: str
    bound: Expectation

    def describe(self) -> str:
        """``mean of success_rate where training.momentum = 0.9``."""
        where = " and ".join(f"{k} = {_toml(v)}" for k, v in self.where.items())
        return f"{self.stat} of {self.quantity}" + (f" where {where}" if where else "")

    def measure(self, rows: list[dict]) -> float:
        """The statistic over the rows that match ``where`` and have a value (NaN when none)."""
        values = []
        for row in rows:
            if all(row.get(k) == v for k, v in self.where.items()):
                v = row.get(self.quantity)
                if v is not None and not (isinstance(v, float) and math.isnan(v)):
                    values.append(float(v) if isinstance(v, (int, float)) else math.nan)
        if self.stat == "count":
            return float(len(values))
        if not values:
            return math.nan
        return float(STATISTICS[self.stat](values))

    def check(self, rows: list[dict]) -> tuple[float, bool, str]:
        """``(actual, met, bound)`` over the results rows."""
        actual = self.measure(rows)
        met, bound = self.bound.check(actual)
        return actual, met, bound


@dataclass
class Point:
    """One point of a sweep: a complete scenario.

    Attributes
    ----------
    index : int
        Its number, from 0 in sweep order (the last axis moves fastest).
    values : dict
        ``{axis key: value}`` (and ``"seed"`` when seeds are separate points): the row's
        axis columns.
    overrides : dict
        The dotted keys set on the base scenario (``training.ensemble`` for seeds run
        as an ensemble, ``scenario.seed`` for seeds run as points).
    data : dict
        The resolved scenario mapping, with the overrides applied and relative paths
        made absolute; :meth:`toml` is its text.
    """

    index: int
    values: dict
    overrides: dict
    data: dict

    @property
    def name(self) -> str:
        """``"0007"``: the stem of its file and folder."""
        return f"{self.index:04d}"

    def toml(self) -> str:
        """The point as a TOML scenario file, which ``neurosim run`` runs alone."""
        head = "".join(f"# {k} = {_toml(v)}\n" for k, v in self.values.items())
        return f"# sweep point {self.name}\n{head}\n" + dumps(self.data)

    @property
    def sha256(self) -> str:
        """The SHA-256 of :meth:`toml`: what ``--resume`` compares a finished point with."""
        return hashlib.sha256(self.toml().encode()).hexdigest()


@dataclass
class Sweep:
    """A validated sweep; build it with :func:`load_sweep`.

    Attributes
    ----------
    source : str
        The sweep file.
    name : str
        ``sweep.name``, else the base scenario's name, else the file's stem.
    base : dict
        The base scenario (without ``[sweep]``), relative paths made absolute.
    axes : dict
        ``{key: [values]}`` in file order.
    zip : list of list of str
        The groups of axes that move together.
    seeds : int or None
        ``sweep.seeds``.
    seeds_as : str or None
        ``"ensemble"`` (``training.ensemble = seeds`` in every point) or ``"points"``
        (``seeds`` points per combination, ``scenario.seed + k``); None without seeds.
    expectations : list of SweepExpectation
    points : list of Point
    """

    source: str
    name: str
    base: dict
    axes: dict
    zip: list
    seeds: int | None
    seeds_as: str | None
    expectations: list[SweepExpectation]
    points: list[Point] = field(default_factory=list)
    plugins_dir: Path = field(default_factory=Path.cwd)

    @property
    def axis_columns(self) -> list[str]:
        """The axis columns of the results: every axis key, then ``seed`` for seeds as points."""
        return list(self.axes) + (["seed"] if self.seeds_as == "points" else [])

    def describe(self) -> str:
        """``12 points: training.learning_rate (3) x training.momentum (2) x 2 seeds as points``."""
        parts = []
        zipped = {k: g for g in self.zip for k in g}
        done = set()
        for key, values in self.axes.items():
            if key in done:
                continue
            group = zipped.get(key, [key])
            done.update(group)
            parts.append(" with ".join(group) + f" ({len(values)})")
        if self.seeds:
            parts.append(f"{self.seeds} seeds as {'an ensemble' if self.seeds_as == 'ensemble' else 'points'}")
        return f"{len(self.points)} point{'s' if len(self.points) != 1 else ''}: " + " x ".join(parts or ["one"])

    def check(self, registry: Registry | None = None) -> None:
        """Validate every point as ``neurosim check`` validates a scenario (builds each
        network, loads its data and plugins), naming the axis and value at fault.

        Parameters
        ----------
        registry : Registry, optional
            Plugins to use for every point (default: the installed ones plus the base
            scenario's ``plugins``, loaded once).

        Raises
        ------
        ScenarioError
            ``SWEEP: sweep.axes."KEY"[i] = VALUE: key: problem``.
        """
        if registry is None:
            try:
                registry = make_registry(self.base.get("plugins", []), base_dir=self.plugins_dir)
            except NeurosimError as exc:
                raise ScenarioError(self.source, "plugins", str(exc)) from None
        for point in self.points:
            try:
                load_scenario(point.data).check(registry)
            except ScenarioError as exc:
                raise _at_fault(self, point, exc) from None


def _at_fault(sweep: Sweep, point: Point, exc: ScenarioError) -> ScenarioError:
    """The error of a point, said as the axis value that made it (or every axis value of the point)."""
    key = exc.key or ""
    for axis, values in sweep.axes.items():
        if key == axis or key.startswith(axis + ".") or key.startswith(axis + "["):
            i = next((i for i, v in enumerate(values) if v == point.values[axis]), 0)
            return ScenarioError(sweep.source, f'sweep.axes."{axis}"[{i}] = {_toml(point.values[axis])}',
                                 f"{key}: {exc.problem}" if key else exc.problem)
    where = ", ".join(f"{k} = {_toml(v)}" for k, v in point.values.items()) or "the base scenario"
    return ScenarioError(sweep.source, f"point {point.name} ({where})", f"{key}: {exc.problem}" if key else
                         exc.problem)


def is_sweep(data: Mapping) -> bool:
    """Whether a parsed TOML file is a sweep (has ``[sweep]`` or ``base``)."""
    return isinstance(data, Mapping) and ("sweep" in data or "base" in data)


def _read(path: Path, what: str, name: str, key: str = "") -> dict:
    try:
        return parse_toml(read_text(path, limit=SCENARIO_FILE_LIMIT, what=what))
    except FileError as exc:
        raise ScenarioError(name, key, exc.problem) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(name, key, f"is not valid TOML: {exc}") from None
    except TOMLLimitError as exc:
        raise ScenarioError(name, key, f"cannot be read: {exc}") from None


def _absolute_paths(data: dict, base_dir: Path) -> None:
    """Make the data files and ``.py`` plugins a scenario names absolute (from ``base_dir``),
    so that a point file runs from its own folder."""
    for keys in _data_file_keys():
        table = data
        for k in keys:
            table = table.get(k) if isinstance(table, dict) else None
        if isinstance(table, dict) and isinstance(table.get("file"), str) and not os.path.isabs(table["file"]):
            table["file"] = os.path.abspath(base_dir / table["file"])
    plugins = data.get("plugins")
    if isinstance(plugins, list):
        data["plugins"] = [os.path.abspath(base_dir / p) if isinstance(p, str) and not os.path.isabs(p) and (
            p.endswith(".py") or "/" in p or "\\" in p) else p for p in plugins]


def load_sweep(source: str | os.PathLike) -> Sweep:
    """Read and validate a sweep file and expand its points.

    Parameters
    ----------
    source : str or path
        A scenario file with a ``[sweep]`` table, or a sweep file with ``base =
        "scenario.toml"`` (relative to the sweep file) and a ``[sweep]`` table. See
        ``docs/sweeps.md``.

    Returns
    -------
    Sweep
        With every point; each point's scenario is validated as ``load_scenario``
        validates (its structure), :meth:`Sweep.check` goes on to build each one.

    Raises
    ------
    ScenarioError
        ``FILE: sweep.key: problem``; a point's problem names the axis and value at
        fault (``sweep.axes."training.learning_rate"[2] = -1: training.learning_rate: ...``).
    """
    name = os.fspath(source)
    path = Path(name)
    data = _read(path, "a .toml sweep file", name)
    here = Path(os.path.realpath(path)).parent
    if "sweep" not in data:
        raise ScenarioError(name, "sweep", "is missing: a sweep file needs a [sweep] table with its axes")
    spec = data.pop("sweep")
    if "base" in data:
        base_name = data.pop("base")
        if not isinstance(base_name, str) or not base_name:
            raise ScenarioError(name, "base", f"must be the path of a scenario file (text), not {base_name!r:.60}")
        if data:
            raise ScenarioError(name, sorted(data)[0], "cannot go beside base: a sweep file holds base and [sweep] "
                                "only; put the scenario's tables in the base file, or change them with an axis")
        base_path = Path(base_name) if os.path.isabs(base_name) else here / base_name
        base = _read(base_path, "a .toml scenario file", name, f"base ({base_name})")
        if is_sweep(base):
            raise ScenarioError(name, "base", f"{base_name} is a sweep itself; a base must be a plain scenario")
        base_dir = Path(os.path.realpath(base_path)).parent
    else:
        base, base_dir = data, here
    _absolute_paths(base, base_dir)
    if not isinstance(spec, dict):
        raise ScenarioError(name, "sweep", "must be a table ([sweep]) with axes, zip, seeds and expect")
    for key in spec:
        if key not in SWEEP_KEYS:
            raise ScenarioError(name, f"sweep.{key}", "unknown key; " + did_you_mean(key, SWEEP_KEYS, "sweep keys"))
    axes = spec.get("axes", {})
    if not isinstance(axes, dict):
        raise ScenarioError(name, "sweep.axes", 'must be a table of KEY = [values], e.g. "training.momentum" = '
                            "[0.0, 0.9]")
    for key, values in axes.items():
        where = f'sweep.axes."{key}"'
        if key == "seed":               # the row's own column when seeds are points, not a scenario key
            raise ScenarioError(name, where, "is not a scenario key; did you mean \"scenario.seed\" (or sweep.seeds "
                                "= N for N random starts)?")
        if key == "scenario.seed" and "seeds" in spec:
            raise ScenarioError(name, where, "conflicts with sweep.seeds, which sets scenario.seed; give one")
        if key == "training.ensemble" and "seeds" in spec:
            raise ScenarioError(name, where, "conflicts with sweep.seeds; give one")
        if not isinstance(values, list) or not values:
            raise ScenarioError(name, where, f"must be a non-empty array of the values to try, not {values!r:.60}")
        for i, v in enumerate(values):
            if isinstance(v, float) and not math.isfinite(v):
                raise ScenarioError(name, f"{where}[{i}]", f"is {_toml(v)}; an axis's values are finite numbers, "
                                    "strings, booleans, arrays or tables")
            if v in values[:i]:
                raise ScenarioError(name, f"{where}[{i}]", f"lists {_toml(v)} a second time; give each value once")
    seeds = spec.get("seeds")
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ScenarioError(name, "sweep.seeds", f"must be a whole number of seeds >= 1, not {seeds!r:.60}")
    zip_groups = _zip_groups(name, spec.get("zip", []), axes)
    seeds_as = _seeds_as(name, spec.get("seeds_as", "auto"), seeds, base, axes)
    sweep_name = spec.get("name", base.get("scenario", {}).get("name", path.stem) if isinstance(
        base.get("scenario"), dict) else path.stem)
    if not isinstance(sweep_name, str):
        raise ScenarioError(name, "sweep.name", f"must be text, not {sweep_name!r:.60}")
    sweep = Sweep(source=name, name=sweep_name, base=base, axes=axes, zip=zip_groups, seeds=seeds,
                  seeds_as=seeds_as, expectations=[], plugins_dir=base_dir)
    raw = spec.get("expect", [])
    if not isinstance(raw, list):
        raise ScenarioError(name, "sweep.expect", "must be an array of tables ([[sweep.expect]])")
    sweep.expectations = [_sweep_expectation(sweep, e, i) for i, e in enumerate(raw)]
    sweep.points = _expand(sweep, here)
    return sweep


def _zip_groups(name: str, raw: Any, axes: dict) -> list[list[str]]:
    if not isinstance(raw, list) or not all(isinstance(g, list) for g in raw):
        raise ScenarioError(name, "sweep.zip", 'must be an array of groups of axis keys, e.g. [["training.'
                            'learning_rate", "training.momentum"]]')
    seen: dict[str, int] = {}
    for g, group in enumerate(raw):
        if len(group) < 2:
            raise ScenarioError(name, f"sweep.zip[{g}]", "must name at least two axes that move together")
        for key in group:
            if key not in axes:
                raise ScenarioError(name, f"sweep.zip[{g}]", f"names {key!r}, which is not an axis"
                                    + "; " + did_you_mean(str(key), list(axes), "axes"))
            if key in seen:
                raise ScenarioError(name, f"sweep.zip[{g}]", f"names {key!r}, which sweep.zip[{seen[key]}] "
                                    "names already; an axis moves in one group")
            seen[key] = g
        lengths = {key: len(axes[key]) for key in group}
        if len(set(lengths.values())) > 1:
            said = ", ".join(f"{k} has {n}" for k, n in lengths.items())
            raise ScenarioError(name, f"sweep.zip[{g}]", f"its axes move together, so they need as many values "
                                f"each; {said}")
    return [list(g) for g in raw]


def _seeds_as(name: str, raw: Any, seeds: int | None, base: dict, axes: dict) -> str | None:
    if raw not in ("auto", "ensemble", "points"):
        raise ScenarioError(name, "sweep.seeds_as", f"must be 'auto', 'ensemble' or 'points', not {raw!r:.60}")
    if seeds is None:
        return None
    training_table = base.get("training", {}) if isinstance(base.get("training"), dict) else {}
    expects = base.get("expect", []) if isinstance(base.get("expect"), list) else []
    refusal = None
    if "ensemble" in training_table:
        refusal = "the base scenario trains an ensemble already (training.ensemble)"
    elif any(isinstance(e, dict) and "after" in e for e in expects):
        refusal = "the base scenario has expectations measured 'after' an epoch, which an ensemble refuses"
    elif any(k.endswith(".after") for k in axes):
        refusal = "an axis sets an expectation's 'after', which an ensemble refuses"
    if raw == "ensemble" and refusal:
        raise ScenarioError(name, "sweep.seeds_as", f"cannot be 'ensemble': {refusal}; give 'points'")
    if raw == "auto":
        return "points" if refusal else "ensemble"
    return raw


def _sweep_expectation(sweep: Sweep, table: Any, i: int) -> SweepExpectation:
    name, path = sweep.source, f"sweep.expect[{i}]"
    if not isinstance(table, dict):
        raise ScenarioError(name, path, f"must be a table, not {type(table).__name__}")
    for key in table:
        if key not in EXPECT_KEYS:
            raise ScenarioError(name, f"{path}.{key}", "unknown key; " + did_you_mean(key, EXPECT_KEYS, "keys"))
    quantity = table.get("quantity")
    if not isinstance(quantity, str):
        raise ScenarioError(name, f"{path}.quantity", "is required: the results column to take, e.g. "
                            "'success_rate' or 'test_accuracy'")
    expects = sweep.base.get("expect", []) if isinstance(sweep.base.get("expect"), list) else []
    known = [*FIXED_COLUMNS, *sweep.axis_columns, *MEASURE_COLUMNS,
             *(f"expect[{k}].{part}" for k in range(len(expects)) for part in ("met", "actual"))]
    if quantity not in known:
        raise ScenarioError(name, f"{path}.quantity", f"{quantity!r} is not a results column"
                            + "; " + did_you_mean(quantity, known, "columns"))
    where = table.get("where", {})
    if not isinstance(where, dict):
        raise ScenarioError(name, f"{path}.where", 'must be a table of column = value, e.g. { "training.'
                            'momentum" = 0.9 }')
    for key, value in where.items():
        if key == "status":
            if value not in STATUSES:
                raise ScenarioError(name, f"{path}.where.status", f"must be one of {', '.join(STATUSES)}")
            continue
        if key not in sweep.axis_columns:
            raise ScenarioError(name, f'{path}.where."{key}"', "is not an axis of the sweep"
                                + "; " + did_you_mean(key, [*sweep.axis_columns, "status"], "axes"))
        if key in sweep.axes and value not in sweep.axes[key]:
            raise ScenarioError(name, f'{path}.where."{key}"', f"{_toml(value)} is not one of the axis's values "
                                f"({', '.join(map(_toml, sweep.axes[key]))}), so no row would match")
    stat = table.get("stat", "mean")
    if stat not in SWEEP_STATS:
        raise ScenarioError(name, f"{path}.stat", f"must be one of {', '.join(SWEEP_STATS)}, not {stat!r:.60}")
    bounds = {}
    for key in ("value", "tolerance", "below", "above"):
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ScenarioError(name, f"{path}.{key}", f"must be a finite number, not {v!r:.60}")
            bounds[key] = float(v)
    if not {"value", "below", "above"} & set(bounds):
        raise ScenarioError(name, path, "gives no bound; add value (with tolerance), below or above")
    if bounds.get("tolerance", 0.0) < 0:
        raise ScenarioError(name, f"{path}.tolerance", "must be >= 0")
    if "below" in bounds and "above" in bounds and bounds["below"] <= bounds["above"]:
        raise ScenarioError(name, path, f"no value is below {bounds['below']:g} and above {bounds['above']:g}; "
                            "the bounds are strict: give below > above")
    bound = Expectation(index=i, quantity=quantity, after=None, value=bounds.get("value"),
                        tolerance=bounds.get("tolerance", 0.0), below=bounds.get("below"), above=bounds.get("above"))
    return SweepExpectation(index=i, quantity=quantity, where=dict(where), stat=stat, bound=bound)


#: The most points a sweep may have.
MAX_POINTS = 100_000


def _expand(sweep: Sweep, here: Path) -> list[Point]:
    """Every point, in order: the grid over the units (an axis, or a zip group at its first
    axis's place), the last fastest, then the seeds when they are points."""
    zipped = {k: g for g in sweep.zip for k in g}
    units, done = [], set()
    for key in sweep.axes:
        if key in done:
            continue
        group = zipped.get(key, [key])
        done.update(group)
        units.append([dict(zip(group, vals)) for vals in zip(*(sweep.axes[k] for k in group))])
    count = math.prod(len(u) for u in units) * (sweep.seeds if sweep.seeds_as == "points" else 1)
    if count > MAX_POINTS:
        raise ScenarioError(sweep.source, "sweep", f"makes {count:,} points; a sweep is at most {MAX_POINTS:,} "
                            "(each is a scenario file and a results folder): fewer values, or seeds run as an "
                            "ensemble (seeds_as = \"ensemble\")")
    meta = sweep.base.get("scenario") if isinstance(sweep.base.get("scenario"), dict) else {}
    base_seed = meta.get("seed", 0) if isinstance(meta.get("seed", 0), int) else 0
    if sweep.seeds_as == "points":
        units.append([{"seed": base_seed + k} for k in range(sweep.seeds)])
    points = []
    for index, combo in enumerate(itertools.product(*units)):
        values = {k: v for part in combo for k, v in part.items()}
        overrides = {k: copy.deepcopy(v) for k, v in values.items() if k != "seed"}
        if sweep.seeds_as == "points":
            overrides["scenario.seed"] = values["seed"]
        elif "scenario.seed" not in overrides and "seed" not in meta:
            overrides["scenario.seed"] = 0            # a base that draws its seed: fixed, so the point reproduces
        if sweep.seeds_as == "ensemble":
            overrides["training.ensemble"] = sweep.seeds
        point = Point(index=index, values=values, overrides=overrides, data={})
        try:
            sc = load_scenario(sweep.base, overrides)
        except ScenarioError as exc:
            raise _at_fault(sweep, point, exc) from None
        point.data = sc.data
        _absolute_paths(point.data, here)      # a path an axis gives: from the sweep file's folder
        points.append(point)
    return points
