"""A two-input network over its input plane: decision regions and each hidden neuron's response.

Both pictures evaluate the network on a square grid over the plane of its two inputs (in
the data's own units, through :meth:`~neurosim.Network.predict`, so a scenario's
``data.scale`` is applied as in training) and show the training patterns on top (circles)
and the test patterns (triangles), coloured by class. :func:`decision_regions` shades
the output — one output: its value, with the decision boundary where it crosses the
threshold; several: the class of the largest — and :func:`hidden_responses` draws the
output of every hidden neuron over the same plane, one panel each and a row per
generation, as TensorFlow Playground shows its neurons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..functions import Patterns
from .base import Subject, generations, new_figure, require_matplotlib, subject_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["decision_regions", "hidden_responses", "plane_bounds", "RANGES", "DEFAULT_BOUNDS", "MAX_HIDDEN"]

#: The value range drawn for an activation whose outputs are bounded.
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softmax": (0.0, 1.0)}
#: The plane drawn when no pattern says where the data lie: around the unit square.
DEFAULT_BOUNDS = (-0.25, 1.25, -0.25, 1.25)
#: The most hidden neurons :func:`hidden_responses` draws.
MAX_HIDDEN = 64
#: Colour map of outputs and responses: red low, blue high.
CMAP = "RdBu"


def POINTS(c: int) -> str:
    """The patterns' colour on a hidden neuron's panel: class 0 white, class 1 black, then tab10."""
    return ("white", "black")[c] if c < 2 else f"C{c % 10}"



def _two_inputs(subject: Subject, what: str) -> None:
    n = len(subject.network.inputs)
    if n != 2:
        names = ", ".join(u.name for u in subject.network.inputs[:6]) + (", ..." if n > 6 else "")
        raise DataError(f"{what} draws a network with 2 inputs over their plane; {subject.name} has {n} ({names})")


def _patterns(subject: Subject, patterns: Any) -> Subject:
    """The subject with ``patterns`` (Patterns or ``(X, T)``) as its training patterns."""
    if patterns is None:
        return subject
    if not isinstance(patterns, Patterns):
        try:
            X, T = patterns
            patterns = Patterns(np.asarray(X, dtype=float), np.asarray(T, dtype=float).reshape(len(X), -1))
        except (TypeError, ValueError):
            raise DataError(f"patterns must be neurosim Patterns or a pair (X, T) of arrays, not "
                            f"{type(patterns).__name__}") from None
    if patterns.inputs.ndim != 2 or patterns.inputs.shape[1] != len(subject.network.inputs):
        raise DataError(f"patterns have inputs of shape {patterns.inputs.shape}; the network has "
                        f"{len(subject.network.inputs)} inputs")
    return Subject(subject.network, patterns, None, subject.name, subject.task)


def plane_bounds(subject: Subject, bounds: Any = None) -> tuple[float, float, float, float]:
    """The part of the input plane drawn: ``(x_min, x_max, y_min, y_max)``.

    Parameters
    ----------
    subject : Subject
    bounds : sequence of 4 floats, optional
        Given bounds, checked; by default the patterns' range with a margin of 15% of it
        on each side (at least 0.1), or :data:`DEFAULT_BOUNDS` without patterns.

    Returns
    -------
    tuple of 4 floats
    """
    if bounds is not None:
        try:
            b = tuple(float(v) for v in bounds)
        except (TypeError, ValueError):
            b = ()
        if len(b) != 4 or not all(np.isfinite(b)) or not (b[0] < b[1] and b[2] < b[3]):
            raise DataError(f"bounds must be (x_min, x_max, y_min, y_max), finite, each min below its max, not "
                            f"{bounds!r:.60}")
        return b
    X = [p.inputs for p in (subject.train, subject.test) if p is not None and len(p)]
    if not X:
        return DEFAULT_BOUNDS
    X = np.concatenate(X)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.maximum(0.15 * (high - low), 0.1)
    return (float(low[0] - margin[0]), float(high[0] + margin[0]), float(low[1] - margin[1]),
            float(high[1] + margin[1]))


def _grid(bounds: tuple, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 10 <= resolution <= 1000:
        raise DataError(f"resolution must be a whole number of grid points per side from 10 to 1000, not "
                        f"{resolution!r:.40}")
    xs = np.linspace(bounds[0], bounds[1], resolution)
    ys = np.linspace(bounds[2], bounds[3], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def _classes(T: np.ndarray, threshold: float) -> np.ndarray:
    """Each pattern's class: its target above the threshold (one output), else the largest."""
    return (T[:, 0] > threshold).astype(int) if T.shape[1] == 1 else T.argmax(axis=1)


def _scatter(ax: Any, subject: Subject, colours: Any, threshold: float, size: float = 26.0,
             legend: bool = True, edge: str = "black", width: float = 0.6) -> None:
    """The training (circles) and test (triangles) patterns, coloured by class."""
    for patterns, marker, what in ((subject.train, "o", "training"), (subject.test, "^", "test")):
        if patterns is None or not len(patterns):
            continue
        classes = _classes(np.asarray(patterns.targets, float), threshold)
        for c in np.unique(classes):
            mine = classes == c
            ax.scatter(patterns.inputs[mine, 0], patterns.inputs[mine, 1], s=size, marker=marker,
                       color=colours(int(c)), edgecolors=edge, linewidths=width, zorder=3,
                       label=f"{what}, class {int(c)}" if legend else None)


def _axis_names(subject: Subject) -> tuple[str, str]:
    names = [u.name for u in subject.network.inputs]
    given = subject.train.input_names if subject.train is not None else None
    return tuple(given) if given and len(given) == 2 else tuple(names)


def decision_regions(source: Any, member: int | None = None, *, patterns: Any = None, bounds: Any = None,
                     resolution: int = 200, threshold: float = 0.5) -> Figure:
    """Draw a two-input classifier's decision regions over its input plane.

    One output: its value over the plane (red low, blue high; for a sigmoid output on
    the scale 0 to 1) and the decision boundary, where it crosses ``threshold``, as a
    black line. Several outputs: the class whose output is largest, each in its own
    colour, with the boundaries between them. The training patterns are circles, the
    test patterns triangles, coloured by their target's class.

    Parameters
    ----------
    source : Network, ScenarioResult or Results
        The network, or a run (its patterns are shown).
    member : int, optional
        The ensemble member to draw, for an ensemble's results (required there).
    patterns : Patterns or (X, T), optional
        Patterns to show with a bare network, in the data's units.
    bounds : (x_min, x_max, y_min, y_max), optional
        The part of the plane; default the patterns' range and a margin
        (:func:`plane_bounds`).
    resolution : int, default 200
        Grid points per side.
    threshold : float, default 0.5
        The output value between the classes (one output).

    Returns
    -------
    matplotlib.figure.Figure
        700 × 600 pixels at 100 dpi.

    Raises
    ------
    DataError
        Not 2 inputs, an ensemble without ``member``, bad bounds or resolution.
    """
    mpl = require_matplotlib()
    subject = _patterns(subject_of(source, member), patterns)
    _two_inputs(subject, "decision_regions")
    b = plane_bounds(subject, bounds)
    xs, ys, grid = _grid(b, resolution)
    net = subject.network
    with np.errstate(all="ignore"):
        Y = np.asarray(net.predict(grid), dtype=float).reshape(len(grid), -1)
    if not np.isfinite(Y).all():
        raise DataError(f"{subject.name}'s outputs are not finite over this plane; give smaller bounds")
    fig = new_figure(7.0, 6.0)
    ax = fig.subplots()
    outputs = [u.name for u in net.outputs]
    if Y.shape[1] == 1:
        Z = Y[:, 0].reshape(len(ys), len(xs))
        activation = net.outputs[0].activation
        low, high = RANGES.get(activation, (None, None))
        if low is None or not (low <= threshold <= high):
            spread = float(np.max(np.abs(Z - threshold))) or 1.0
            low, high = threshold - spread, threshold + spread
        cmap = mpl.colormaps[CMAP]
        shade = ax.contourf(xs, ys, Z, levels=np.linspace(low, high, 21), cmap=cmap, extend="both", alpha=0.75,
                            zorder=1)
        if Z.min() < threshold < Z.max():
            ax.contour(xs, ys, Z, levels=[threshold], colors="black", linewidths=1.6, zorder=2)
        fig.colorbar(shade, ax=ax, label=f"output {outputs[0]} (boundary at {threshold:g})", shrink=0.85)
        colours = lambda c: cmap(0.0 if c == 0 else 1.0)              # noqa: E731
        what = f"output {outputs[0]} > {threshold:g}: class 1"
    else:
        classes = Y.argmax(axis=1).reshape(len(ys), len(xs))
        palette = mpl.colormaps["tab10"]
        cmap = mpl.colors.ListedColormap([palette(k % 10) for k in range(Y.shape[1])])
        ax.pcolormesh(xs, ys, classes, cmap=cmap, vmin=-0.5, vmax=Y.shape[1] - 0.5, alpha=0.45, shading="auto",
                      zorder=1)
        if len(np.unique(classes)) > 1:
            ax.contour(xs, ys, classes, levels=np.arange(Y.shape[1] - 1) + 0.5, colors="black", linewidths=1.0,
                       zorder=2)
        colours = lambda c: palette(c % 10)                           # noqa: E731
        what = "the class of the largest output (" + ", ".join(outputs[:6]) + (", ..." if len(outputs) > 6
                                                                               else "") + ")"
    _scatter(ax, subject, colours, threshold, size=42.0, edge="white", width=1.2)
    if subject.train is not None or subject.test is not None:
        ax.legend(loc="upper right", fontsize=7, framealpha=0.85)
    names = _axis_names(subject)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_xlim(b[0], b[1])
    ax.set_ylim(b[2], b[3])
    ax.set_title(f"{subject.name}: decision regions ({what})", fontsize=10)
    return fig


def hidden_responses(source: Any, member: int | None = None, *, patterns: Any = None, bounds: Any = None,
                     resolution: int = 100, threshold: float = 0.5) -> Figure:
    """Draw each hidden neuron's output over the input plane of a two-input network.

    One panel per hidden neuron (a computing neuron that is not an output), a row per
    topological generation, as TensorFlow Playground shows them: the neuron's output at
    every point of the plane (red low, blue high; sigmoid on 0 to 1, tanh on −1 to 1,
    other activations on their own range), the training and test patterns on top.

    Parameters
    ----------
    source : Network, ScenarioResult or Results
        The network, or a run (its patterns are shown).
    member : int, optional
        The ensemble member to draw, for an ensemble's results (required there).
    patterns : Patterns or (X, T), optional
        Patterns to show with a bare network.
    bounds : (x_min, x_max, y_min, y_max), optional
        As for :func:`decision_regions`.
    resolution : int, default 100
        Grid points per side.
    threshold : float, default 0.5
        Where a one-output target's classes divide (for the patterns' colours).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        Not 2 inputs, no hidden neuron or more than :data:`MAX_HIDDEN`, an ensemble
        without ``member``.
    """
    mpl = require_matplotlib()
    subject = _patterns(subject_of(source, member), patterns)
    _two_inputs(subject, "hidden_responses")
    net = subject.network
    hidden = [u for u in net.neurons if not u.output]
    if not hidden:
        raise DataError(f"{subject.name} has no hidden neurons (every computing neuron is an output); "
                        "decision_regions draws its outputs")
    if len(hidden) > MAX_HIDDEN:
        raise DataError(f"{subject.name} has {len(hidden)} hidden neurons, more than the {MAX_HIDDEN} panels "
                        "hidden_responses draws")
    gen = generations(net.to_networkx())
    rows: dict[int, list] = {}
    for u in hidden:
        rows.setdefault(gen[u.name], []).append(u)
    per_row = min(8, max(len(r) for r in rows.values()))
    layout = [r[k:k + per_row] for g in sorted(rows) for r in [rows[g]] for k in range(0, len(r), per_row)]
    b = plane_bounds(subject, bounds)
    xs, ys, grid = _grid(b, resolution)
    with np.errstate(all="ignore"):
        net.predict(grid)
        values = {u.name: np.asarray(u.out, dtype=float).reshape(len(ys), len(xs)) for u in hidden}
    fig = new_figure(max(4.0, 2.0 * per_row + 1.2), 2.0 * len(layout) + 0.9)
    axes = fig.subplots(len(layout), per_row, squeeze=False)
    cmap = mpl.colormaps[CMAP]
    shown = sum(len(p) for p in (subject.train, subject.test) if p is not None)
    dots = 28.0 if shown <= 20 else 12.0 if shown <= 100 else 7.0
    ranges = set()
    image = None
    for r, units in enumerate(layout):
        for c in range(per_row):
            ax = axes[r, c]
            if c >= len(units):
                ax.set_visible(False)
                continue
            u = units[c]
            V = values[u.name]
            if not np.isfinite(V).all():
                raise DataError(f"{u.name}'s output is not finite over this plane; give smaller bounds")
            low, high = RANGES.get(u.activation, (float(V.min()), float(V.max())))
            if u.activation not in RANGES and low < 0 < high:
                low, high = -max(-low, high), max(-low, high)
            if high <= low:
                low, high = low - 1.0, high + 1.0
            ranges.add((low, high))
            image = ax.imshow(V, origin="lower", extent=b, aspect="auto", cmap=cmap, vmin=low, vmax=high,
                              interpolation="bilinear", zorder=1)
            _scatter(ax, subject, POINTS, threshold, size=dots, legend=False, edge="0.4")
            ax.set_xlim(b[0], b[1])
            ax.set_ylim(b[2], b[3])
            ax.set_title(f"{u.name} ({u.activation})", fontsize=8)
            ax.tick_params(labelsize=6)
            if r < len(layout) - 1:
                ax.set_xticklabels([])
            if c:
                ax.set_yticklabels([])
    if len(ranges) == 1 and image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), label="output", shrink=0.8)
    names = _axis_names(subject)
    fig.supxlabel(names[0], fontsize=9)
    fig.supylabel(names[1], fontsize=9)
    fig.suptitle(f"{subject.name}: each hidden neuron's output\nover the input plane (a row per generation)",
                 fontsize=10)
    return fig
