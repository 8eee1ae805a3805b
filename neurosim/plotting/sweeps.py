"""Pictures of a sweep's results: a measure against one or two of its axes, with the spread over seeds.

:func:`sweep_view` reads a sweep's results table (``DIR/results.json``, format
``neurosim-sweep-results``, see docs/sweeps.md) and works out what is drawn — the axis or
axes, the measure, and at every axis value (or pair of values) the median of the rows
there and their spread — and :func:`sweep_figure` draws it. One axis: the median as a
line, with a band from the 10th to the 90th percentile of the rows at each value (the
seeds, when they are separate points, and any axis not drawn); when every value has one
ensemble point's row, each is drawn with the error bar its statistics give (a success rate ± its
standard error over the members; ``epochs_median`` from ``epochs_min`` to
``epochs_max``; ``error_median`` from ``error_min`` to ``error_max``). Two axes: a
heatmap of the medians, each cell annotated with its value. :func:`save_sweep_figure`
writes the PNG atomically. The axis values are drawn in the sweep's order, equally spaced.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, did_you_mean
from ..io import atomic_write_all
from .base import new_figure
from .curves import BAND

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["SweepView", "sweep_view", "sweep_figure", "save_sweep_figure", "is_sweep_folder", "sweep_file_name",
           "ENSEMBLE_SPREAD"]

#: For an ensemble's rows: the columns that bound each measure's error bar (over the members).
ENSEMBLE_SPREAD = {"epochs_median": ("epochs_min", "epochs_max"), "error_median": ("error_min", "error_max")}
#: Columns that are not measures.
_NOT_MEASURES = {"index", "point", "status", "message", "worker", "seed"}


@dataclass
class SweepView:
    """What a picture of a sweep draws (the numbers behind :func:`sweep_figure`).

    Attributes
    ----------
    sweep : str
        The sweep's name.
    measure : str
        The results column drawn.
    x : str
        The axis along the picture (a column of the table).
    y : str or None
        The second axis of a heatmap; None for a line.
    x_values, y_values : list
        The axis values, in the sweep's order (``y_values`` empty for a line).
    median : ndarray
        ``(len(x_values),)`` for a line, ``(len(y_values), len(x_values))`` for a heatmap:
        the median of the measure over the rows at each value (NaN where none has one).
    low, high : ndarray
        The same shape: the spread drawn — the 10th and 90th percentiles of those rows
        (NaN where there is one row or none); or, when every value has one ensemble row,
        its error bar (see :data:`ENSEMBLE_SPREAD`).
    count : ndarray
        The same shape: how many rows have a value there.
    spread : str
        What ``low`` and ``high`` are, for the legend.
    pooled : list of str
        The columns whose values are pooled at each point (``seed``, and the axes not drawn).
    finished, total : int
        Rows in the table and points in the sweep.
    """

    sweep: str
    measure: str
    x: str
    y: str | None
    x_values: list
    y_values: list
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray
    spread: str
    pooled: list = field(default_factory=list)
    finished: int = 0
    total: int = 0


def is_sweep_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a sweep's results (a ``results.json``; its format is checked on reading).

    Parameters
    ----------
    folder : str or path

    Returns
    -------
    bool
    """
    return Path(folder).is_dir() and (Path(folder) / "results.json").is_file()


def sweep_file_name(measure: str) -> str:
    """The PNG a picture of ``measure`` is written to: ``sweep_success_rate.png``
    (characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``)."""
    return "sweep_" + re.sub(r"[^A-Za-z0-9._-]+", "_", measure).strip("_") + ".png"


def _label(value: Any) -> str:
    from ..scenario.schema import _toml

    text = _toml(value) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:23] + "…"


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return math.nan


def _load(source: Any) -> dict:
    from ..sweep import read_results

    if isinstance(source, dict):
        if not isinstance(source.get("rows"), list) or not isinstance(source.get("axes"), dict):
            raise DataError("a sweep's results table needs 'axes' and 'rows', as read_results returns")
        return source
    return read_results(source)


def sweep_view(source: Any, measure: str | None = None, x: str | None = None, y: str | None = None) -> SweepView:
    """Work out what a picture of a sweep draws.

    Parameters
    ----------
    source : str, path or dict
        A sweep's results folder (``neurosim sweep --out DIR``), or its table as
        :func:`neurosim.sweep.read_results` returns it.
    measure : str, optional
        A results column of numbers (``success_rate``, ``epochs_median``, ``test_accuracy``,
        ...); default ``success_rate`` when the table has it, else ``train_error``.
    x, y : str, optional
        Axes of the sweep (its ``[sweep.axes]`` keys, or ``seed`` for seeds as points).
        Default: the first axis with more than one value as ``x`` and, when there is
        another, the second as ``y`` (a heatmap). Given ``x`` alone, a line.

    Returns
    -------
    SweepView

    Raises
    ------
    DataError
        An axis or measure the table does not have (naming the closest), the same axis
        twice, a measure that is not a number, or a table without rows.
    """
    doc = _load(source)
    axes = {k: list(v) for k, v in doc["axes"].items()}
    seeds = doc.get("seeds") or {}
    if isinstance(seeds, dict) and seeds.get("as") == "points":
        rows_seeds = sorted({r.get("seed") for r in doc["rows"] if r.get("seed") is not None})
        axes["seed"] = rows_seeds or list(range(int(seeds.get("count", 0))))
    rows = [r for r in doc["rows"] if isinstance(r, dict)]
    name = str(doc.get("sweep", "sweep"))
    if not rows:
        raise DataError(f"the sweep {name} has no finished points yet, so there is nothing to draw")
    columns = list(doc.get("columns") or dict.fromkeys(k for r in rows for k in r))
    if measure is None:
        measure = "success_rate" if any(r.get("success_rate") is not None for r in rows) else "train_error"
    measures = [c for c in columns if c not in _NOT_MEASURES and c not in axes]
    if measure not in columns or measure in _NOT_MEASURES or measure in axes:
        raise DataError(f"the sweep {name}'s results have no measure {measure!r:.60} (--measure); "
                        + did_you_mean(str(measure), measures, "measures"))
    values = [r.get(measure) for r in rows]
    if any(v is not None and not isinstance(v, (int, float)) for v in values):
        raise DataError(f"the sweep {name}'s column {measure!r} holds text, not numbers; choose a measure "
                        "(--measure) such as success_rate, train_error or epochs")
    varying = [k for k, v in axes.items() if len(v) > 1]
    for flag, axis in (("--x", x), ("--y", y)):
        if axis is not None and axis not in axes:
            raise DataError(f"the sweep {name} has no axis {axis!r:.60} ({flag}); "
                            + did_you_mean(str(axis), list(axes), "axes"))
    if x is not None and x == y:
        raise DataError(f"--x and --y are both {x!r}; give two different axes, or --x alone for a line")
    if x is None:
        rest = [k for k in (varying or list(axes)) if k != y]
        if not rest:
            raise DataError(f"the sweep {name} has no axis to draw along besides {y!r}; give --x")
        x = rest[0]
        if y is None and len(rest) > 1 and x != "seed" and rest[1] != "seed":
            y = rest[1]
    pooled = [k for k in axes if k not in (x, y)]
    xs, ys = axes[x], axes[y] if y is not None else []
    shape = (len(ys), len(xs)) if y is not None else (len(xs),)
    median, low, high = (np.full(shape, np.nan) for _ in range(3))
    count = np.zeros(shape, dtype=int)
    ensemble = isinstance(seeds, dict) and seeds.get("as") == "ensemble"
    at_each = {at: [r for r in rows if r.get(x) == xs[at[-1]] and (y is None or r.get(y) == ys[at[0]])
                    and r.get(measure) is not None and not math.isnan(_number(r.get(measure)))]
               for at in np.ndindex(*shape)}
    one_row_each = max(len(here) for here in at_each.values()) <= 1     # else a band over the rows, everywhere
    spreads = set()
    for at, here in at_each.items():
        vals = np.array([_number(r.get(measure)) for r in here], dtype=float)
        count[at] = len(vals)
        if not len(vals):
            continue
        median[at] = float(np.median(vals))
        if len(vals) > 1:
            low[at], high[at] = (float(q) for q in np.percentile(vals, BAND))
            spreads.add("band")
        elif ensemble and one_row_each:
            bar = _ensemble_bar(measure, here[0])
            if bar is not None:
                low[at], high[at] = bar
                spreads.add(measure)
    if "band" in spreads:
        spread = f"{BAND[0]:g}th to {BAND[1]:g}th percentile over " + ", ".join(pooled)
    elif measure == "success_rate" and spreads:
        spread = "± one standard error over each ensemble's members"
    elif spreads:
        lo, hi = ENSEMBLE_SPREAD[measure]
        spread = f"{lo} to {hi} over each ensemble's members"
    else:
        spread = ""
    return SweepView(name, measure, x, y, xs, ys, median, low, high, count, spread, pooled,
                     finished=len(rows), total=int(doc.get("total", len(rows))))


def _ensemble_bar(measure: str, row: dict) -> tuple[float, float] | None:
    """The error bar of one ensemble row's measure, or None when its statistics give none."""
    if measure == "success_rate" and isinstance(row.get("members"), int) and row["members"] > 0:
        p, n = float(row["success_rate"]), row["members"]
        se = math.sqrt(max(p * (1 - p), 0.0) / n)
        return p - se, p + se
    if measure in ENSEMBLE_SPREAD:
        lo, hi = (row.get(c) for c in ENSEMBLE_SPREAD[measure])
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
            return float(lo), float(hi)
    return None


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def sweep_figure(source: Any, measure: str | None = None, x: str | None = None, y: str | None = None) -> Figure:
    """Draw a measure of a sweep against one axis (a line with its spread) or two (a heatmap).

    Parameters
    ----------
    source : str, path, dict or SweepView
        A sweep's results folder, its table (:func:`neurosim.sweep.read_results`), or a
        view already worked out.
    measure, x, y : str, optional
        As for :func:`sweep_view`.

    Returns
    -------
    matplotlib.figure.Figure
        A line: the first line of its axes is the median (y data = ``view.median``), the
        band a filled area, the error bars a container. A heatmap: the axes' first image
        holds ``view.median`` (rows = ``y`` values, columns = ``x`` values) and each cell
        has a text with its value (``—`` where no row has one).
    """
    view = source if isinstance(source, SweepView) else sweep_view(source, measure, x, y)
    title = f"{view.sweep}: {view.measure}"
    if view.finished < view.total:
        title += f" ({view.finished} of {view.total} points finished)"
    if view.y is None:
        fig = new_figure(max(5.0, 1.0 + 0.7 * len(view.x_values)), 4.0)
        ax = fig.add_subplot()
        pos = np.arange(len(view.x_values))
        ax.plot(pos, view.median, marker="o", color="C0", label=f"median of {view.measure}" if view.spread and
                "percentile" in view.spread else view.measure)
        has = ~np.isnan(view.low)
        if has.any() and "percentile" in view.spread:
            ax.fill_between(pos, view.low, view.high, where=has, color="C0", alpha=0.25, linewidth=0,
                            label=view.spread)
        elif has.any():
            ax.errorbar(pos[has], view.median[has], yerr=[view.median[has] - view.low[has],
                                                          view.high[has] - view.median[has]],
                        fmt="none", ecolor="C0", capsize=4, label=view.spread)
        ax.set_xticks(pos, [_label(v) for v in view.x_values])
        ax.set_xlabel(view.x)
        ax.set_ylabel(view.measure)
        if view.measure == "success_rate":
            ax.set_ylim(-0.03, 1.03)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
        ax.set_title(title)
        return fig
    ny, nx = len(view.y_values), len(view.x_values)
    fig = new_figure(max(5.0, 1.8 + 1.1 * nx), max(3.5, 1.4 + 0.6 * ny))
    ax = fig.add_subplot()
    if view.measure == "success_rate" or not np.isfinite(view.median).any():
        lo, hi = 0.0, 1.0
    else:
        lo, hi = float(np.nanmin(view.median)), float(np.nanmax(view.median))
    import matplotlib
    import matplotlib.colors

    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
    image = ax.imshow(np.ma.masked_invalid(view.median), cmap=cmap, norm=matplotlib.colors.Normalize(lo, hi),
                      aspect="auto", origin="upper")
    for iy in range(ny):
        for ix in range(nx):
            value = view.median[iy, ix]
            text = _fmt(value)
            if view.count[iy, ix] > 1 and np.isfinite(view.low[iy, ix]):
                text += f"\n{_fmt(view.low[iy, ix])}–{_fmt(view.high[iy, ix])}"
            shade = image.norm(value) if np.isfinite(value) else 1.0
            ax.text(ix, iy, text, ha="center", va="center", fontsize="small",
                    color="white" if shade < 0.55 else "black")
    ax.set_xticks(range(nx), [_label(v) for v in view.x_values])
    ax.set_yticks(range(ny), [_label(v) for v in view.y_values])
    ax.set_xlabel(view.x)
    ax.set_ylabel(view.y)
    fig.colorbar(image, ax=ax, label=view.measure)
    if view.pooled and np.max(view.count) > 1:
        title += f"\nmedian over {', '.join(view.pooled)}; below: {BAND[0]:g}th–{BAND[1]:g}th percentile"
    ax.set_title(title, fontsize="medium")
    return fig


def save_sweep_figure(source: Any, out_dir: str | os.PathLike, measure: str | None = None, x: str | None = None,
                      y: str | None = None, dpi: int = 100) -> Path:
    """Draw a sweep's picture and write it into ``out_dir`` as :func:`sweep_file_name` (atomically).

    Parameters
    ----------
    source : str, path or dict
        A sweep's results folder or its table.
    out_dir : str or path
        The folder (created if missing).
    measure, x, y : str, optional
        As for :func:`sweep_view`.
    dpi : int, default 100
        Dots per inch, 10 to 600.

    Returns
    -------
    Path
        The PNG written.

    Raises
    ------
    DataError
        As :func:`sweep_view`, a bad ``dpi``, or a folder that cannot be made.
    """
    from .files import png_bytes

    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 600:
        raise DataError(f"dpi must be a whole number of dots per inch from 10 to 600, not {dpi!r:.40}")
    view = sweep_view(source, measure, x, y)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot use {out} as the pictures' folder ({exc.strerror}); give a folder that can be "
                        "created") from None
    path = out / sweep_file_name(view.measure)
    atomic_write_all({path: png_bytes(sweep_figure(view), dpi)})
    return path
