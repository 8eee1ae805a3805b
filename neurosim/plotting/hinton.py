"""Hinton diagrams of a network's weights, as Rumelhart, Hinton & Williams drew them.

Each weight is a square on a grey background: white for a positive weight, black for a
negative one, its area proportional to the weight's magnitude (the largest weight of the
figure fills 81% of its cell). :func:`hinton` draws one matrix per layer block — the
neurons of one topological generation (rows) against every unit that feeds them
(columns, bias units last), a darker cell where there is no connection — and
:func:`hinton_neurons` one panel per neuron in the style of the 1986 figures: the
neuron's incoming weights below, its bias weight at the top left and its outgoing weights
at the top right. :func:`weight_blocks` gives the numbers :func:`hinton` draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..network import Network
from .base import BLACK, GREY, WHITE, generations, new_figure, subject_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["WeightBlock", "weight_blocks", "hinton", "hinton_neurons", "FILL", "MAX_SQUARES", "MAX_PANELS"]

#: The fraction of its cell the largest weight's square covers (side 0.9 of the cell).
FILL = 0.81
#: The most weights a Hinton diagram draws (a larger network is refused with a hint).
MAX_SQUARES = 20_000
#: The most neurons :func:`hinton_neurons` draws in one figure.
MAX_PANELS = 64
#: The grey of a cell with no connection.
ABSENT = "0.42"
#: The height of the label strip under each row of a neuron's panel, in cells.
LABEL = 0.45


@dataclass
class WeightBlock:
    """The weights into one topological generation of neurons.

    Attributes
    ----------
    rows : list of str
        The generation's neurons.
    columns : list of str
        The units feeding them, by generation and in the network's order, bias units last.
    weights : ndarray
        ``(rows, columns)``; NaN where there is no connection.
    breaks : list of int
        Column indices where a new source generation (or the bias units) begins.
    """

    rows: list
    columns: list
    weights: np.ndarray
    breaks: list = field(default_factory=list)

    @property
    def label(self) -> str:
        """``"h1, h2"``, or ``"h11 … h15"`` for more than two neurons."""
        return ", ".join(self.rows) if len(self.rows) <= 2 else f"{self.rows[0]} … {self.rows[-1]}"


def weight_blocks(net: Network) -> list[WeightBlock]:
    """The weights of ``net`` as one matrix per generation of neurons (what :func:`hinton` draws).

    Parameters
    ----------
    net : Network

    Returns
    -------
    list of WeightBlock
        In generation order, first hidden generation first.
    """
    G = net.to_networkx()
    gen = generations(G)
    order = {name: k for k, name in enumerate(G)}
    by_gen: dict[int, list[str]] = {}
    for name, kind in G.nodes(data="kind"):
        if kind == "neuron":
            by_gen.setdefault(gen[name], []).append(name)
    blocks = []
    for g in sorted(by_gen):
        rows = by_gen[g]
        sources = {u for v in rows for u in G.predecessors(v)}
        is_bias = {u: G.nodes[u]["kind"] == "bias" for u in sources}
        columns = sorted(sources, key=lambda u: (is_bias[u], gen[u] if not is_bias[u] else 0, order[u]))
        W = np.full((len(rows), len(columns)), np.nan)
        col = {u: c for c, u in enumerate(columns)}
        for r, v in enumerate(rows):
            for u, data in G.pred[v].items():
                W[r, col[u]] = data["weight"]
        breaks = [c for c in range(1, len(columns)) if is_bias[columns[c]] != is_bias[columns[c - 1]]
                  or (not is_bias[columns[c]] and gen[columns[c]] != gen[columns[c - 1]])]
        blocks.append(WeightBlock(rows, columns, W, breaks))
    return blocks


def _largest(values: Any, max_weight: float | None) -> float:
    """The weight that fills :data:`FILL` of a cell: ``max_weight`` or the largest |w|."""
    if max_weight is not None:
        if isinstance(max_weight, bool) or not isinstance(max_weight, (int, float)) or not max_weight > 0 \
                or not math.isfinite(max_weight):
            raise DataError(f"max_weight must be a positive number (the |w| whose square fills the cell), not "
                            f"{max_weight!r:.40}")
        return float(max_weight)
    values = np.abs(np.asarray(values, dtype=float))
    values = values[~np.isnan(values)]                     # NaN: no connection
    if not np.isfinite(values).all():
        raise DataError("a weight is infinite; a Hinton diagram needs finite weights")
    largest = float(values.max()) if len(values) else 0.0
    return largest if largest > 0 else 1.0


def _square(ax: Any, x: float, y: float, w: float, largest: float, gid: str) -> None:
    """The square of weight ``w`` centred on ``(x, y)``: area ``FILL · min(|w| / largest, 1)``."""
    from matplotlib.patches import Rectangle

    if not math.isfinite(w):
        raise DataError(f"the weight {gid} is {w}; a Hinton diagram needs finite weights")
    if w == 0.0:
        return
    side = math.sqrt(FILL * min(abs(w) / largest, 1.0))
    ax.add_patch(Rectangle((x - side / 2, y - side / 2), side, side, facecolor=WHITE if w > 0 else BLACK,
                           edgecolor="none", gid=gid, zorder=2))


def _count_check(n: int, what: str) -> None:
    if n > MAX_SQUARES:
        raise DataError(f"{what} has {n} weights, more than the {MAX_SQUARES} a Hinton diagram draws legibly; "
                        "draw a part of it: hinton_neurons(net, neurons=[...])")


def hinton(source: Any, member: int | None = None, *, max_weight: float | None = None) -> Figure:
    """Draw a Hinton diagram of every weight, one matrix per layer block.

    Each block is one topological generation of neurons (rows, named) against the units
    feeding them (columns, named; bias units last; a thin line where the source
    generation changes). White squares are positive weights, black negative, on grey;
    a square's area is proportional to ``|w|``: ``FILL · |w| / max_weight`` of its cell
    (:data:`FILL` = 0.81), the same scale in every block. A darker cell has no
    connection. Each square's ``gid`` is ``"src->dst"``.

    Parameters
    ----------
    source : Network, ScenarioResult or Results
        The network, or a run (see :func:`~neurosim.plotting.base.subject_of`).
    member : int, optional
        The ensemble member to draw, for an ensemble's results (required there).
    max_weight : float, optional
        The ``|w|`` that fills :data:`FILL` of a cell (larger ones are clipped); default
        the largest ``|w|`` in the network.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        An ensemble without ``member``, non-finite weights, or more than
        :data:`MAX_SQUARES` weights.
    """
    subject = subject_of(source, member)
    net = subject.network
    _count_check(net.n_weights, subject.name)
    blocks = weight_blocks(net)
    if not blocks:
        raise DataError(f"{subject.name} has no computing neurons, so it has no weights to draw")
    largest = _largest(np.concatenate([b.weights.ravel() for b in blocks]), max_weight)
    # Every block is drawn with the same cell size, so squares compare across blocks too.
    cols = max(len(b.columns) for b in blocks)
    rows = sum(len(b.rows) for b in blocks)
    cell = min(0.6, 13.0 / cols, 24.0 / rows)
    left = 0.3 + 0.075 * max(len(name) for b in blocks for name in b.rows)
    below = [0.2 + (0.07 * max(map(len, b.columns)) if _rotated(b) else 0.1) for b in blocks]
    width = max(4.5, left + cols * cell + 0.3)
    height = 0.5 + sum(0.28 + len(b.rows) * cell + below[k] for k, b in enumerate(blocks))
    fig = new_figure(width, height, layout=None)
    top = height - 0.5
    for k, block in enumerate(blocks):
        w, h = len(block.columns) * cell, len(block.rows) * cell
        x0 = left + (width - left - 0.3 - w) / 2
        top -= 0.28
        ax = fig.add_axes((x0 / width, (top - h) / height, w / width, h / height))
        _block(ax, block, largest)
        top -= h + below[k]
    fig.suptitle(f"{subject.name}: the weights into each layer\nwhite +, black −, area ∝ |w| (largest |w| "
                 f"{largest:.3g}); darker: no connection", fontsize=9, y=1.0 - 0.08 / height, va="top")
    return fig


def _rotated(block: WeightBlock) -> bool:
    """Whether a block's column names are written upwards (many or long names)."""
    return len(block.columns) > 6 or max(map(len, block.columns)) > 4


def _block(ax: Any, block: WeightBlock, largest: float) -> None:
    """One block's matrix on ``ax``."""
    from matplotlib.patches import Rectangle

    n, m = block.weights.shape
    ax.set_facecolor(GREY)
    for r, dst in enumerate(block.rows):
        for c, src in enumerate(block.columns):
            w = block.weights[r, c]
            if np.isnan(w):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=ABSENT, edgecolor="none", zorder=1))
            else:
                _square(ax, c, r, float(w), largest, f"{src}->{dst}")
    for c in block.breaks:
        ax.axvline(c - 0.5, color="0.75", lw=0.8, zorder=3)
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks(range(m), block.columns, rotation=90 if _rotated(block) else 0, fontsize=8)
    ax.set_yticks(range(n), block.rows, fontsize=8)
    ax.tick_params(length=0)
    ax.set_title(f"into {block.label}", fontsize=9, pad=3)


def hinton_neurons(source: Any, member: int | None = None, *, neurons: list | None = None,
                   max_weight: float | None = None, per_row: int = 12) -> Figure:
    """Draw one Hinton diagram per neuron, in the style of Rumelhart et al.'s figures.

    Each panel is one neuron: its incoming weights from the units that are not bias units
    fill the rows below the line (``per_row`` to a row, each labelled with its source);
    the top row holds its bias weight at the left and its outgoing weights at the right
    (labelled ``→ destination``). White positive, black negative, on grey; areas
    proportional to ``|w|``, on one scale for the whole figure (as :func:`hinton`).

    Parameters
    ----------
    source : Network, ScenarioResult or Results
        The network, or a run.
    member : int, optional
        The ensemble member to draw, for an ensemble's results (required there).
    neurons : list of str, optional
        The neurons to draw; default every hidden neuron (the computing neurons that
        are not outputs), or the outputs when there is none. At most :data:`MAX_PANELS`.
    max_weight : float, optional
        As for :func:`hinton`.
    per_row : int, default 12
        Incoming weights per row of a panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        An ensemble without ``member``, an unknown neuron (or a unit that is not a
        computing neuron), more than :data:`MAX_PANELS` neurons, or non-finite weights.
    """
    subject = subject_of(source, member)
    net = subject.network
    if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
        raise DataError(f"per_row must be a whole number >= 1, not {per_row!r:.40}")
    if neurons is None:
        chosen = [u.name for u in net.neurons if not u.output] or [u.name for u in net.outputs]
        if len(chosen) > MAX_PANELS:
            raise DataError(f"{subject.name} has {len(chosen)} hidden neurons, more than the {MAX_PANELS} panels "
                            "hinton_neurons draws; choose some: hinton_neurons(net, neurons=[...])")
    else:
        chosen = [str(n) for n in neurons]
        computing = {u.name for u in net.neurons}
        for name in chosen:
            if name not in computing:
                net[name]                                     # an unknown name: NeuronNotFoundError, with a hint
                raise DataError(f"{name!r} is {net[name].kind!r} unit; a Hinton panel draws a computing neuron's "
                                "weights")
        if not chosen or len(chosen) > MAX_PANELS:
            raise DataError(f"neurons lists {len(chosen)} neurons; give 1 to {MAX_PANELS}")
    G = net.to_networkx()
    panels = []
    for name in chosen:
        inc = [(u, d["weight"]) for u, d in G.pred[name].items() if G.nodes[u]["kind"] != "bias"]
        bias = [(u, d["weight"]) for u, d in G.pred[name].items() if G.nodes[u]["kind"] == "bias"]
        out = [(v, d["weight"]) for v, d in G.succ[name].items()]
        panels.append((name, G.nodes[name].get("activation"), inc, bias, out))
    largest = _largest([w for p in panels for part in p[2:] for _u, w in part], max_weight)
    cols = max(max(min(per_row, max(len(inc), 1)), len(bias) + len(out) + (1 if bias and out else 0))
               for _n, _a, inc, bias, out in panels)
    rows = max(1 + max(1, math.ceil(len(inc) / cols)) for _n, _a, inc, _b, _o in panels)
    cell = min(0.5, 3.6 / cols)
    step = 1.0 + LABEL                                   # a row: the squares' cell, then their labels
    width, height = cols * cell + 0.3, rows * step * cell + 0.45
    ncols = max(1, min(len(panels), int(16.0 // width)))
    nrows = math.ceil(len(panels) / ncols)
    fig = new_figure(max(4.5, ncols * width + 0.4), nrows * height + 0.75)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, activation, inc, bias, out) in zip(axes, panels):
        ax.set_facecolor(GREY)
        cells = [(c, 0, u, w, f"{u}->{name}", "bias" if len(bias) == 1 else u) for c, (u, w) in enumerate(bias)]
        cells += [(cols - len(out) + c, 0, v, w, f"{name}->{v}", f"→{v}") for c, (v, w) in enumerate(out)]
        cells += [(k % cols, 1 + k // cols, u, w, f"{u}->{name}", u) for k, (u, w) in enumerate(inc)]
        for c, r, _u, w, gid, text in cells:
            _square(ax, c, r * step, w, largest, gid)
            ax.text(c, r * step + 0.5 + LABEL / 2, text, ha="center", va="center", fontsize=6, color="0.97")
        ax.axhline(step - 0.5, color="0.75", lw=0.8)
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows * step - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name}" + (f" ({activation})" if activation else ""), fontsize=9)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(f"{subject.name}: each neuron's weights\ntop: bias (left), outgoing (right); below: incoming; "
                 f"white +, black −, area ∝ |w| (largest {largest:.3g})", fontsize=9)
    return fig
