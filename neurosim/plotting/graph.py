"""The network drawn as its DAG: topological generations from left to right.

:func:`network_layout` places each unit: its column is its topological generation
(:func:`networkx.topological_generations`, inputs in column 0), a bias unit sits in the
column before the first neuron it feeds, below that column's units; within a column the
units keep the network's order, top to bottom. :func:`network_graph` draws it with
NetworkX's drawing functions: inputs, bias units (squares), hidden and output neurons
each in their own style; a connection to the next column is straight, one that skips
columns curves (so it does not run through the units between), and a bias connection is
dashed; each edge's colour says its weight's sign and size (blue negative, red positive)
and its width grows with ``|w|``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..network import Network
from .base import generations, new_figure, require_matplotlib, subject_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["network_layout", "network_graph", "edge_styles", "MAX_UNITS", "MAX_EDGES", "CURVE"]

#: The most units and connections :func:`network_graph` draws (beyond, a Hinton diagram says more).
MAX_UNITS, MAX_EDGES = 300, 3000
#: How far a connection that skips columns bends (matplotlib's ``arc3`` radius).
CURVE = 0.25
#: Widths of the thinnest and the thickest (the largest |w|) connection, in points.
WIDTHS = (0.4, 4.4)


def network_layout(net: Network) -> dict[str, tuple[float, float]]:
    """Where :func:`network_graph` puts each unit: ``{name: (column, height)}``.

    Parameters
    ----------
    net : Network

    Returns
    -------
    dict
        The column is the unit's topological generation (bias units: see
        :func:`~neurosim.plotting.base.generations`); heights are 1 apart, each column
        centred on 0, its bias units last (lowest), half a step further down.
    """
    G = net.to_networkx()
    gen = generations(G)
    columns: dict[int, list[str]] = {}
    for name in G:
        columns.setdefault(gen[name], []).append(name)
    pos = {}
    for g, names in columns.items():
        names = sorted(names, key=lambda u: G.nodes[u]["kind"] == "bias")       # stable: bias units last
        n_bias = sum(G.nodes[u]["kind"] == "bias" for u in names)
        top = (len(names) - 1 + (0.5 if n_bias and n_bias < len(names) else 0.0)) / 2
        for k, name in enumerate(names):
            drop = 0.5 if G.nodes[name]["kind"] == "bias" and n_bias < len(names) else 0.0
            pos[name] = (float(g), top - k - drop)
    return pos


def edge_styles(net: Network) -> dict[tuple[str, str], dict[str, Any]]:
    """How :func:`network_graph` draws each connection.

    Parameters
    ----------
    net : Network

    Returns
    -------
    dict
        ``{(src, dst): {"weight", "curved", "bias", "width"}}``: ``curved`` when the
        connection skips at least one column, ``bias`` when it leaves a bias unit,
        ``width`` in points (:data:`WIDTHS`, in proportion to ``|w|``).
    """
    G = net.to_networkx()
    pos = network_layout(net)
    weights = {(u, v): float(d["weight"]) for u, v, d in G.edges(data=True)}
    largest = max((abs(w) for w in weights.values()), default=0.0) or 1.0
    return {(u, v): {"weight": w, "curved": pos[v][0] - pos[u][0] > 1.0, "bias": G.nodes[u]["kind"] == "bias",
                     "width": WIDTHS[0] + (WIDTHS[1] - WIDTHS[0]) * abs(w) / largest}
            for (u, v), w in weights.items()}


def network_graph(source: Any, member: int | None = None, *, labels: bool = True) -> Figure:
    """Draw the network as its DAG, generations from left to right.

    Inputs are green circles, bias units gold squares, hidden neurons grey circles and
    outputs blue circles with a thick rim; each unit is named. A connection is straight
    to the next column and curved when it skips columns, dashed from a bias unit; its
    colour is its weight on a blue (negative) to red (positive) scale, with a colour bar,
    and its width grows with ``|w|`` (:func:`edge_styles`).

    Parameters
    ----------
    source : Network, ScenarioResult or Results
        The network, or a run.
    member : int, optional
        The ensemble member to draw, for an ensemble's results (required there).
    labels : bool, default True
        Write each unit's name in it.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        An ensemble without ``member``, non-finite weights, or more than
        :data:`MAX_UNITS` units or :data:`MAX_EDGES` connections.
    """
    import networkx as nx

    mpl = require_matplotlib()
    from matplotlib.lines import Line2D

    subject = subject_of(source, member)
    net = subject.network
    if len(net) > MAX_UNITS or net.n_weights > MAX_EDGES:
        raise DataError(f"{subject.name} has {len(net)} units and {net.n_weights} connections, more than the "
                        f"{MAX_UNITS} and {MAX_EDGES} a drawing of the graph shows legibly; draw its Hinton "
                        "diagram instead")
    G = net.to_networkx()
    pos = network_layout(net)
    styles = edge_styles(net)
    if not all(np.isfinite(s["weight"]) for s in styles.values()):
        raise DataError(f"{subject.name} has a weight that is not finite; a drawing needs finite weights")
    n_cols = int(max(x for x, _y in pos.values())) + 1
    height = max(sum(1 for x, _y in pos.values() if x == c) for c in range(n_cols))
    fig = new_figure(min(2.4 + 1.9 * n_cols, 30.0), min(2.2 + 0.55 * height, 30.0))
    ax = fig.subplots()
    largest = max((abs(s["weight"]) for s in styles.values()), default=0.0) or 1.0
    norm = mpl.colors.Normalize(-largest, largest)
    cmap = mpl.colormaps["coolwarm"]
    size = max(120.0, min(700.0, 4000.0 / max(height, 1)))
    kinds = {"input": [], "bias": [], "hidden": [], "output": []}
    for name, data in G.nodes(data=True):
        kinds["output" if data.get("output") else "hidden" if data["kind"] == "neuron" else data["kind"]].append(name)
    looks = {"input": dict(node_shape="o", node_color="#b8e0b0", edgecolors="#2f6b2f", linewidths=1.0),
             "bias": dict(node_shape="s", node_color="#f2c94c", edgecolors="#8a6d00", linewidths=1.0),
             "hidden": dict(node_shape="o", node_color="#d9d9d9", edgecolors="#404040", linewidths=1.0),
             "output": dict(node_shape="o", node_color="#9ecae1", edgecolors="#08306b", linewidths=2.2)}
    for kind, names in kinds.items():
        if names:
            nx.draw_networkx_nodes(G, pos, nodelist=names, node_size=size, ax=ax, **looks[kind])
    for curved in (False, True):
        for bias in (False, True):
            edges = [e for e, s in styles.items() if s["curved"] == curved and s["bias"] == bias]
            if not edges:
                continue
            nx.draw_networkx_edges(G, pos, edgelist=edges, ax=ax, node_size=size, arrows=True, arrowstyle="-|>",
                                   arrowsize=8, width=[styles[e]["width"] for e in edges],
                                   edge_color=[cmap(norm(styles[e]["weight"])) for e in edges],
                                   style="dashed" if bias else "solid",
                                   connectionstyle=f"arc3,rad={CURVE}" if curved else "arc3")
    if labels:
        nx.draw_networkx_labels(G, pos, ax=ax, font_size=7 if height < 12 else 5)
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="weight", shrink=0.8)
    fig.legend(handles=[Line2D([], [], ls="", marker="s" if kind == "bias" else "o", markersize=8,
                               markerfacecolor=looks[kind]["node_color"], markeredgecolor=looks[kind]["edgecolors"],
                               label=kind) for kind in kinds if kinds[kind]]
               + [Line2D([], [], color="0.3", ls="--", label="from a bias unit"),
                  Line2D([], [], color="0.3", lw=2.5, label="width ∝ |w|")],
               loc="outside lower center", ncols=6, fontsize=7, frameon=False)
    ax.set_axis_off()
    ax.margins(0.08)
    fig.suptitle(f"{subject.name}: the network, generations left to right", fontsize=10)
    return fig
