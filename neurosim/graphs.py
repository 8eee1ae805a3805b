"""Networks as NetworkX graphs: the read-only view ``Network.graph`` and the conversions.

:func:`read_only_view` makes the view of a network's internal graph that ``net.graph``
returns. NetworkX's frozen views refuse adding and removing nodes and edges but hand out
the graph's own attribute dicts; here every node, edge and graph attribute mapping (and
each adjacency level leading to them) is wrapped in a live, read-only
:class:`~collections.abc.Mapping`, so that ``net.graph.edges[u, v]["weight"] = 5`` raises
a :class:`~neurosim.errors.TopologyError` naming the method that does it
(``set_weight``, ``set_trainable``, ``set_label``) instead of slipping past the compiled
plan. Reading, ``copy()`` (plain writable dicts) and NetworkX algorithms work as on any
DiGraph, and the internal graph itself stays a plain, fast ``networkx.DiGraph``.
:func:`to_networkx` and :func:`from_networkx` convert a network to and from a graph with
neuron names as nodes, carrying the attributes :data:`NODE_ATTRIBUTES` and
:data:`EDGE_ATTRIBUTES`, so that the round trip is exact; a plain DAG without them is read
as before: sources become inputs, sinks outputs, and one bias unit feeds every neuron.
:func:`network_to_dict` and :func:`network_from_dict` do the same for a plain, JSON-ready
mapping (the ``neurosim-network`` format, version 1, of ``network.json`` and
``Network.save``; docs/network-format.md describes it), which also records the neurosim
that wrote it and, for every plugin the network uses, the distribution and version that
provided it; reading it checks every entry (:func:`check_version` refuses a newer format
version) and names the entry at fault. Tied sets (``Network.tie``) go with all three: an
edge attribute ``tie`` and a graph attribute ``ties`` in NetworkX graphs, an optional
``"tied"`` entry in the mapping.
"""

from __future__ import annotations

import abc
import contextlib
import gc
import inspect
import itertools
import math
import numbers
import operator
import os
from collections.abc import Hashable, ItemsView, Iterable, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, NoReturn

import networkx as nx
import numpy as np

from .errors import CycleError, DataError, PluginError, TopologyError, did_you_mean, with_article
from .neurons import Neuron, Unit
from .plugins import owning_distribution
from .resources import BYTES_PER_EDGE, BYTES_PER_UNIT, require_memory
from .scaling import Scaling
from .version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["read_only_view", "to_networkx", "from_networkx", "fill_adjacency", "network_to_dict", "network_from_dict",
           "check_version", "NODE_ATTRIBUTES", "EDGE_ATTRIBUTES", "FORMAT", "VERSION"]

#: The name and version of the JSON-ready network format (:func:`network_to_dict`).
FORMAT = "neurosim-network"
VERSION = 1

#: Node attributes :func:`to_networkx` writes and :func:`from_networkx` reads: ``kind``
#: (``"input"``, ``"bias"`` or ``"neuron"``), and for computing neurons ``activation``,
#: ``output`` (bool), ``output_index`` (its column among the outputs, for outputs) and
#: ``group`` (a softmax group, when named).
NODE_ATTRIBUTES = ("kind", "activation", "output", "output_index", "group")
#: Edge attributes :func:`to_networkx` writes and :func:`from_networkx` reads: ``weight``
#: (float; None for a weight still to be drawn), ``trainable`` (bool), ``label`` (when set)
#: and ``tie`` (the name of the tied set the edge is in, when it is in one; the graph
#: attribute ``ties`` maps each set's name to its ``reduce``, ``"sum"`` or ``"mean"``).
EDGE_ATTRIBUTES = ("weight", "trainable", "label", "tie")

_READ_ONLY = "net.graph is read-only"
_COPY_HINT = "or annotate a writable copy (G = net.graph.copy())"
#: edge attribute -> (what it is, the call that sets it)
_SETTERS = {"weight": ("weight", "net.set_weight({u!r}, {v!r}, w)"),
            "trainable": ("trainable flag", "net.set_trainable({u!r}, {v!r}, False)"),
            "label": ("label", "net.set_label({u!r}, {v!r}, 'w5')"),
            "tie": ("tied set", "net.tie([({u!r}, {v!r}), ...]) or net.untie(name)")}


def _name(node: Any) -> Any:
    return getattr(node, "name", node)


class _ReadOnly(Mapping):
    """A live, read-only mapping over the dict ``_data``; every write raises TopologyError.

    ``_where`` says whose data it is, for the message: ``("edge", u, v)``, ``("node", u)``,
    ``("graph",)``, or (the levels above the attribute dicts, see :class:`_Level`)
    ``("nodes",)``, ``("succ",)``, ``("pred",)``, ``("succ", u)``, ``("pred", v)``.
    """

    __slots__ = ("_data", "_where")

    def __init__(self, data: dict, where: tuple):
        self._data = data
        self._where = where

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self):
        """The keys (a read-only view)."""
        return self._data.keys()

    def __repr__(self) -> str:
        return repr(self._data)

    def _refuse(self, key: Any = None) -> NoReturn:
        where = self._where
        if where[0] == "edge":
            u, v = _name(where[1]), _name(where[2])
            setter = _SETTERS.get(key) if isinstance(key, str) else None
            if setter:
                raise TopologyError(f"{_READ_ONLY}: set the {setter[0]} of {u!r} -> {v!r} with "
                                    f"{setter[1].format(u=u, v=v)}")
            raise TopologyError(f"{_READ_ONLY}: the data of the edge {u!r} -> {v!r} cannot be changed through it; "
                                "use net.set_weight(src, dst, w), net.set_trainable(src, dst, flag) or "
                                f"net.set_label(src, dst, label), {_COPY_HINT}")
        if where[0] == "node":
            raise TopologyError(f"{_READ_ONLY}: the data of the node {_name(where[1])!r} cannot be changed through "
                                f"it; change the network with its methods (add_neuron, set_output, connect, ...), "
                                f"{_COPY_HINT}")
        if where[0] == "graph":
            raise TopologyError(f"{_READ_ONLY}: its graph attributes cannot be changed; annotate a writable copy "
                                "instead (G = net.graph.copy())")
        raise TopologyError(f"{_READ_ONLY}: add and remove connections with net.connect(src, dst) and "
                            f"net.disconnect(src, dst), {_COPY_HINT}")

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        self._refuse(key)

    def __delitem__(self, key: Any) -> NoReturn:
        self._refuse(key)

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused: the graph is read-only."""
        self._refuse(next(iter(kwargs), None) if not args and len(kwargs) == 1 else None)

    def pop(self, key: Any, *default: Any) -> NoReturn:
        """Refused: the graph is read-only."""
        self._refuse(key)

    def popitem(self) -> NoReturn:
        """Refused: the graph is read-only."""
        self._refuse()

    def setdefault(self, key: Any, default: Any = None) -> NoReturn:
        """Refused: the graph is read-only."""
        self._refuse(key)

    def clear(self) -> NoReturn:
        """Refused: the graph is read-only."""
        self._refuse()

    def __ior__(self, other: Any) -> NoReturn:
        self._refuse()


class _Attributes(_ReadOnly):
    """The attribute dict of one edge, node or of the graph, read-only."""

    __slots__ = ()

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key``, or ``default``."""
        return self._data.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def items(self):
        """The items (a read-only view; the values are the attributes themselves)."""
        return self._data.items()

    def values(self):
        """The values (a read-only view)."""
        return self._data.values()

    def copy(self) -> dict:
        """A plain, writable copy."""
        return self._data.copy()


class _Items(ItemsView):
    """Items of a :class:`_Level`, each value wrapped once (faster than Mapping's)."""

    def __iter__(self):
        level = self._mapping
        wrap = level._wrap
        for key, value in level._data.items():
            yield key, wrap(key, value)


class _Values(ValuesView):
    """Values of a :class:`_Level`, each wrapped."""

    def __iter__(self):
        level = self._mapping
        wrap = level._wrap
        for key, value in level._data.items():
            yield wrap(key, value)


class _Level(_ReadOnly):
    """A level above the attribute dicts, its values wrapped read-only as they are read.

    Subclasses: :class:`_Nodes` (node -> attributes), :class:`_Adjacency` (``_succ`` or
    ``_pred``: node -> neighbours) and :class:`_Neighbours` (neighbour -> edge attributes).
    """

    __slots__ = ()

    @abc.abstractmethod
    def _wrap(self, key: Any, value: Any) -> Any:
        """``value`` (stored under ``key``) as this level hands it out: each subclass says how."""

    def __getitem__(self, key: Any) -> Any:
        return self._wrap(key, self._data[key])

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key`` (wrapped read-only), or ``default``."""
        return self._wrap(key, self._data[key]) if key in self._data else default

    def copy(self) -> dict:
        """A plain, writable copy, down to the attribute dicts."""
        return {key: value.copy() for key, value in self.items()}

    def items(self):
        """The items, values wrapped read-only."""
        return _Items(self)

    def values(self):
        """The values, wrapped read-only."""
        return _Values(self)


class _Nodes(_Level):
    """``_node``: node -> its attributes; ``_where`` is ``("nodes",)``."""

    __slots__ = ()

    def _wrap(self, key: Any, value: Any) -> Any:
        return _Attributes(value, ("node", key))

    def _refuse(self, key: Any = None) -> NoReturn:
        raise TopologyError(f"{_READ_ONLY}: add neurons with net.add_input, net.add_bias or net.add_neuron, "
                            f"{_COPY_HINT}")


class _Adjacency(_Level):
    """``_succ`` or ``_pred``: node -> its neighbours; ``_where`` is ``("succ",)`` or ``("pred",)``."""

    __slots__ = ()

    def _wrap(self, key: Any, value: Any) -> Any:
        return _Neighbours(value, (self._where[0], key))


class _Neighbours(_Level):
    """One node's neighbours -> the edges' attributes; ``_where`` is ``("succ", u)`` or
    ``("pred", v)``, so that each edge is named source first."""

    __slots__ = ()

    def _wrap(self, key: Any, value: Any) -> Any:
        direction, node = self._where
        return _Attributes(value, ("edge", node, key) if direction == "succ" else ("edge", key, node))


#: What ``networkx.freeze`` disables, each refused by :func:`_refuse_structure`.
_STRUCTURE = ("add_node", "add_nodes_from", "remove_node", "remove_nodes_from", "add_edge", "add_edges_from",
              "add_weighted_edges_from", "remove_edge", "remove_edges_from", "clear", "clear_edges")


def _refuse_structure(*args: Any, **kwargs: Any) -> NoReturn:
    raise TopologyError(f"{_READ_ONLY}: change the network through its methods (net.add_neuron, net.connect, "
                        f"net.disconnect, ...), which keep the compiled plan in step, {_COPY_HINT}")


def read_only_view(G: nx.DiGraph) -> nx.DiGraph:
    """A frozen view of ``G`` whose attribute dicts are read-only too (``net.graph``).

    Parameters
    ----------
    G : networkx.DiGraph
        The graph to view; it is neither copied nor changed.

    Returns
    -------
    networkx.DiGraph
        A frozen DiGraph that reads ``G`` live: adding or removing nodes or edges, and
        writing node, edge or graph attributes, raise
        :class:`~neurosim.errors.TopologyError` naming the network method that makes the
        change. ``copy()`` and ``networkx.DiGraph(view)`` give ordinary, writable graphs.
    """
    view = nx.freeze(nx.DiGraph())
    for name in _STRUCTURE:            # networkx's frozen refusal, in the network's words
        setattr(view, name, _refuse_structure)
    view._graph = G
    view.graph = _Attributes(G.graph, ("graph",))
    view._node = _Nodes(G._node, ("nodes",))
    view._succ = _Adjacency(G._succ, ("succ",))       # sets view._adj too
    view._pred = _Adjacency(G._pred, ("pred",))
    return view


# --- conversions -----------------------------------------------------------------------------


def to_networkx(net: Network) -> nx.DiGraph:
    """A new, writable graph of ``net`` with neuron names as nodes (see ``Network.to_networkx``).

    Parameters
    ----------
    net : neurosim.Network

    Returns
    -------
    networkx.DiGraph
        Nodes in the order the units were added, with :data:`NODE_ATTRIBUTES`; edges in
        ``net.graph``'s order, with :data:`EDGE_ATTRIBUTES`; with tied sets, the graph
        attribute ``ties``: ``{name: reduce}``.
    """
    try:
        net.compile()            # draws the weights not given yet, as to_dict and weights() do
    except TopologyError:        # not runnable yet (no inputs or outputs): those weights stay None
        pass
    graph = net._synced_graph()
    out_index = {u: k for k, u in enumerate(net.outputs)}
    G = nx.DiGraph()
    if net.ties:
        G.graph["ties"] = {name: tie.reduce for name, tie in net.ties.items()}
    for u in graph.nodes:
        G.add_node(u.name, **_unit_attributes(u, out_index))
    fill_adjacency(G, ((u.name, ((v.name, _edge_attributes(d)) for v, d in nbrs.items()))
                       for u, nbrs in graph._succ.items()),
                   ((v.name, (u.name for u in nbrs)) for v, nbrs in graph._pred.items()))
    return G


def _unit_attributes(unit: Unit, out_index: Mapping | None = None) -> dict:
    """:data:`NODE_ATTRIBUTES` of a neuron object (``out_index``: each output's column, by
    default looked up in its network)."""
    attrs: dict[str, Any] = {"kind": unit.kind}
    if isinstance(unit, Neuron):
        attrs.update(activation=unit.activation, output=unit.output)
        if unit.output and (out_index is not None or unit.network is not None):
            attrs["output_index"] = out_index[unit] if out_index is not None else unit.network.outputs.index(unit)
        if unit.group is not None:
            attrs["group"] = unit.group
    return attrs


def _edge_attributes(data: Mapping) -> dict:
    """An edge's :data:`EDGE_ATTRIBUTES` (not the network's bookkeeping, such as ``drawn``)."""
    attrs = {"weight": data["weight"], "trainable": data["trainable"]}
    for key in ("label", "tie"):
        if data.get(key):
            attrs[key] = data[key]
    return attrs


def fill_adjacency(graph: nx.DiGraph, succ: Iterable, pred: Iterable) -> None:
    """Add edges to ``graph`` with each node's outgoing and incoming edges in given orders.

    NetworkX keeps both orders (``G.succ[u]``, ``G.pred[v]``) but ``add_edges_from`` sets
    both from the one order the edges come in, and a network's plan sums each neuron's
    messages in ``pred`` order: copying a graph edge by edge would change the sums'
    rounding. So the adjacency dicts are written here directly, as networkx itself does.

    Parameters
    ----------
    graph : networkx.DiGraph
        Has every node already, and none of the edges.
    succ : iterable of (node, iterable of (neighbour, dict))
        For each node its outgoing edges, in order, with their attribute dicts.
    pred : iterable of (node, iterable of node)
        For each node the sources of its incoming edges, in order (each edge's dict is
        the one ``succ`` gave it).
    """
    out, into = graph._succ, graph._pred
    for u, edges in succ:
        out[u].update(edges)
    for v, sources in pred:
        sources = list(sources)
        into[v].update(zip(sources, map(operator.itemgetter(v), map(out.__getitem__, sources))))
    cache = getattr(graph, "__networkx_cache__", None)      # networkx >= 3.3 caches conversions
    if cache:
        cache.clear()


def from_networkx(cls: type[Network], G: nx.DiGraph, *, activation: str = "sigmoid",
                  output_activation: str | None = None, weight: str | None = "weight", bias: bool | None = None,
                  **kwargs: Any) -> Network:
    """Build a network from a NetworkX DAG (see ``Network.from_networkx``, which documents it).

    Parameters
    ----------
    cls : type
        :class:`~neurosim.Network` (or a subclass).
    G : networkx.DiGraph
    activation, output_activation, weight, bias, **kwargs
        As for ``Network.from_networkx``.

    Returns
    -------
    Network
    """
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise TopologyError(f"from_networkx needs a networkx.DiGraph, not {type(G).__name__}; "
                            "feed-forward networks are directed and have one weight per pair of neurons")
    if bias is not None:
        bias = cls._check_flag(bias, "from_networkx: bias")
    with _collector_paused():
        return _build(cls, G, weight, bias, activation, output_activation, kwargs)


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while a network is built in bulk.

    The build allocates an object per node and a dict per edge, none of them garbage, and
    with the source graph alive every collection the allocations trigger rescans millions
    of objects (measured: up to half of from_networkx's time at 10^6 edges).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(cls: type[Network], G: nx.DiGraph, weight: str | None, bias: bool | None, activation: str,
           output_activation: str | None, kwargs: dict) -> Network:
    """The body of :func:`from_networkx`, once ``G`` is known to be a DiGraph."""
    if not nx.is_directed_acyclic_graph(G):             # one check for the whole graph ...
        cycle = nx.find_cycle(G)                        # ... and only then the search for the cycle
        names = [str(u) for u, *_ in cycle] + [str(cycle[0][0])]
        raise CycleError(f"the graph has the cycle {' -> '.join(names)}; a feed-forward network must be "
                         "acyclic", names)
    net = cls(**kwargs)
    n_nodes, n_edges = G.number_of_nodes(), G.number_of_edges()
    require_memory((n_nodes + 1.0) * BYTES_PER_UNIT + (float(n_edges) + n_nodes) * BYTES_PER_EDGE,
                   f"a network of the graph's {n_nodes} nodes and {n_edges} edges", "use a smaller graph")
    nodes = [(node, _unit_attributes(node) if isinstance(node, Unit) else attrs) for node, attrs in G.nodes(data=True)]
    described = any("kind" in attrs for _, attrs in nodes)
    units: dict[Hashable, Any] = {}
    outputs: list[tuple[float, int, Any]] = []
    has_bias = False
    for k, (node, attrs) in enumerate(nodes):
        name = node.name if isinstance(node, Unit) else str(node)
        if name in net:
            raise TopologyError(f"two nodes of the graph are both named {name!r} as strings; relabel "
                                "them (networkx.relabel_nodes) so their names are unique")
        kind = attrs.get("kind")
        if kind is None:
            kind = "input" if G.in_degree(node) == 0 else "neuron"
        elif kind not in ("input", "bias", "neuron"):
            raise TopologyError(f"node {name!r}: the 'kind' attribute must be 'input', 'bias' or 'neuron', not "
                                f"{kind!r}")
        if "output" in attrs:
            output = net._check_flag(attrs["output"], f"node {name!r}: the 'output' attribute")
        else:
            output = kind == "neuron" and G.out_degree(node) == 0
        if kind == "neuron":
            act = attrs.get("activation") or (output_activation if output and output_activation else activation)
            units[node] = net.add_neuron(name, act, group=attrs.get("group"))
            if output:
                index = attrs.get("output_index", math.inf)
                if index is not math.inf and (not isinstance(index, numbers.Integral) or isinstance(index, bool)):
                    raise TopologyError(f"node {name!r}: the 'output_index' attribute (its column among the "
                                        f"outputs) must be a whole number, not {index!r}")
                outputs.append((index, k, name))
            continue
        if output:
            raise TopologyError(f"node {name!r} is {'an input' if kind == 'input' else 'a bias'} unit but its "
                                "'output' attribute is True; only computing neurons (kind 'neuron') can be outputs")
        if kind == "input":
            units[node] = net.add_input(name)
        else:
            units[node] = net.add_bias(name)
            has_bias = True
    for _, _, name in sorted(outputs):
        net.set_output(name)
    shared = None
    if not has_bias and (bias if bias is not None else not described):
        shared = net.add_bias(next(name for name in itertools.chain(("bias", "bias_unit"),
                                                                    (f"bias_unit{j}" for j in itertools.count(2)))
                                   if name not in net))
    net._connect_acyclic(G, units, weight, shared, _tie_reduces(G))
    return net


def _tie_reduces(G: nx.DiGraph) -> dict:
    """The graph attribute ``ties`` as ``{name: reduce}`` (its values are ``"sum"`` or
    ``"mean"``, or :class:`~neurosim.Tie` objects in a network's own graph)."""
    ties = G.graph.get("ties", {})
    if not isinstance(ties, Mapping):
        raise TopologyError(f"the graph attribute 'ties' must map each tied set's name to its reduce ('sum' or "
                            f"'mean'), e.g. {{'rec': 'sum'}}, not {ties!r:.60}")
    return {name: getattr(value, "reduce", value) for name, value in ties.items()}


# --- the neurosim-network mapping (network.json, Network.save) ----------------------------------


def network_to_dict(net: Network) -> dict:
    """A JSON-ready description of ``net``: units, edges, weights and the plugins they need.

    Parameters
    ----------
    net : neurosim.Network

    Returns
    -------
    dict
        The ``neurosim-network`` mapping, version :data:`VERSION` (docs/network-format.md
        describes every entry): ``{"format": "neurosim-network", "version": 1,
        "neurosim_version": ..., "dtype": ..., "initializer": {"name": ..., "options":
        {...}}, "units": [...], "edges": [...], "plugins": {"activation": {name: plugin},
        "initializer": {name: plugin}}, "distributions": {plugin: {"name": ..., "version":
        ...}}}``; ``"scaling"`` (:meth:`neurosim.scaling.Scaling.to_dict`) when
        ``net.scaling`` is set; and, when the network has tied sets, ``"tied": [{"name":
        ..., "reduce": "sum" or "mean", "edges": [[src, dst], ...]}, ...]`` (in the order
        they were made). ``"initializer"`` is left out when its options are not plain JSON
        values. Units keep their order (the input and output column order); edges are
        listed neuron by neuron, each neuron's in the order it sums them, so
        :func:`network_from_dict` rebuilds a network that computes the same bits.
    """
    weights = net.weights()                   # compiles: weights not given yet are drawn
    graph = net._synced_graph()
    out_index = {u: k for k, u in enumerate(net.outputs)}
    units = []
    for u in graph.nodes:
        entry: dict[str, Any] = {"name": u.name, "kind": u.kind}
        if isinstance(u, Neuron):
            entry["activation"] = u.activation
            if u.output:
                entry["output"] = out_index[u]
            if u.group is not None:
                entry["group"] = u.group
        units.append(entry)
    edges = []
    for v, sources in graph._pred.items():
        for u, data in sources.items():
            edge = {"src": u.name, "dst": v.name, "weight": weights[(u.name, v.name)]}
            if not data.get("trainable", True):
                edge["trainable"] = False
            if data.get("label"):
                edge["label"] = data["label"]
            edges.append(edge)
    registry = net.registry
    plugins = {"activation": {name: registry.owner("activation", name)
                              for name in sorted({u.activation for u in net.neurons})}}
    out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "neurosim_version": __version__,
                           "dtype": str(net.dtype)}
    options = _plain(net.init_options)
    if options is not _NOT_PLAIN:
        out["initializer"] = {"name": net.initializer.name, "options": options}
        plugins["initializer"] = {net.initializer.name: registry.owner("initializer", net.initializer.name)}
    out.update(units=units, edges=edges, plugins=plugins,
               distributions=_distributions(registry, {p for names in plugins.values() for p in names.values()}))
    if net.scaling is not None:               # optional: a version-1 reader that does not know it ignores it
        net.scaling.check(len(net.inputs), len(net.outputs))
        out["scaling"] = net.scaling.to_dict()
    if net.ties:                              # optional: a reader that does not know it builds the net untied
        out["tied"] = [{"name": tie.name, "reduce": tie.reduce, "edges": [list(edge) for edge in tie.edges]}
                       for tie in net.ties.values()]
    return out


#: What :func:`_plain` returns for a value JSON cannot hold as it is.
_NOT_PLAIN = object()


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data (numpy scalars as Python numbers), or :data:`_NOT_PLAIN`."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NOT_PLAIN
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        items = {k: _plain(v) for k, v in value.items()}
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items.values()) else items
    return _NOT_PLAIN


def _distributions(registry: Any, names: Iterable[str]) -> dict[str, dict]:
    """For each plugin name, where it comes from: ``{"name": distribution, "version": ...}``
    (both None for a plugin no installed distribution provides), plus ``"module"`` (its
    dotted name) or ``"file"`` (the ``.py`` file's name) for a plugin module. What the
    registry says of its plugins (:meth:`Registry.plugins`); a plugin object is credited
    to the distribution of its class's module."""
    infos = {info.name: info for info in registry.plugins()}
    out = {}
    for name in sorted(names):
        info = infos[name]
        if info.module is None and info.distribution is None:     # a plugin object no entry point advertises
            cls_module = inspect.getmodule(type(registry.manager.get_plugin(name)))
            dist, version = owning_distribution(getattr(cls_module, "__name__", None))
        else:
            dist, version = info.distribution, info.version
        entry: dict[str, Any] = {"name": dist, "version": version}
        if info.origin == "file":
            if info.file:
                entry["file"] = os.path.basename(info.file)
        elif info.module is not None:
            entry["module"] = info.module
        out[name] = entry
    return out


def _malformed(where: str, problem: str) -> DataError:
    return DataError(f"malformed {FORMAT} data at {where}: {problem}")


def _shown(value: Any) -> str:
    """A value from the mapping for a message: its repr, cut at 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


#: The default of :func:`_read` for an entry that must be there.
_REQUIRED = object()


def _read(entry: Mapping, key: str, where: str, check: Any, wanted: str, *, default: Any = _REQUIRED) -> Any:
    """``entry[key]`` when ``check(value)`` holds, ``default`` when it is missing (if given),
    else a DataError naming ``where.key`` and what was ``wanted``."""
    if key not in entry:
        if default is not _REQUIRED:
            return default
        raise _malformed(f"{where}.{key}" if where else key, f"the entry {key!r} is missing; it must be {wanted}")
    value = entry[key]
    if not check(value):
        raise _malformed(f"{where}.{key}" if where else key, f"must be {wanted}, not {_shown(value)}")
    return value


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_version(data: Any) -> int:
    """Check that ``data`` is a ``neurosim-network`` mapping of a version this neurosim reads.

    Parameters
    ----------
    data : object
        What a network file holds.

    Returns
    -------
    int
        Its format version (1 to :data:`VERSION`).

    Raises
    ------
    DataError
        Not a mapping with ``"format": "neurosim-network"``; a version that is not a whole
        number >= 1; or a newer version than :data:`VERSION`, the message saying which
        neurosim wrote it and how to upgrade.
    """
    if not isinstance(data, Mapping):
        raise DataError(f"not a {FORMAT} mapping: the file holds {with_article(type(data).__name__)} where a "
                        "JSON object is needed; give what net.save() or neurosim run --out (network.json) wrote")
    if data.get("format") != FORMAT:
        found = f"its 'format' is {_shown(data['format'])}" if "format" in data else "it has no 'format' entry"
        raise DataError(f"not a {FORMAT} mapping ({found}); give what net.save(), Network.to_dict() or neurosim "
                        "run --out (network.json) wrote")
    version = _read(data, "version", "", _is_index, "a whole number >= 1 (the format version)")
    if version < 1:
        raise _malformed("version", f"must be a whole number >= 1 (the format version), not {version}")
    if version > VERSION:
        writer = data.get("neurosim_version")
        writer = f"neurosim {writer}" if isinstance(writer, str) and writer else "a newer neurosim"
        raise DataError(f"written by {writer} with format version {version}; this neurosim ({__version__}) reads "
                        f"{FORMAT} format versions up to {VERSION}: upgrade with pip install -U neurosim")
    return version


def network_from_dict(cls: type[Network], data: Any, **network_kwargs: Any) -> Network:
    """Rebuild a network from :func:`network_to_dict`'s mapping (through :func:`from_networkx`).

    Parameters
    ----------
    cls : type
        :class:`~neurosim.Network` (or a subclass).
    data : dict
        The mapping (e.g. loaded from ``network.json``), of any version up to :data:`VERSION`.
    **network_kwargs
        Passed to the network (``registry``, ``plugins``, ``seed``; ``init`` and
        ``init_options`` replace the mapping's ``"initializer"``). The dtype is the
        mapping's.

    Returns
    -------
    Network
        Compiled, with ``scaling`` set when the mapping has a ``"scaling"`` entry and the
        tied sets of its ``"tied"`` entry. Keys this version does not know are ignored.

    Raises
    ------
    DataError
        When the mapping is not a neurosim network of a version this code reads, or an
        entry is malformed (the message names it: ``units[3].kind``, ``edges[7].weight``,
        ``scaling.inputs.offset``).
    TopologyError
        A unit named twice, a connection given twice, to a unit that does not exist or
        into an input or bias unit, outputs not numbered 0 to N-1, a tied set whose
        weights differ; :class:`~neurosim.errors.CycleError` when the edges close a cycle.
    PluginError
        When an activation or the initialiser is not installed: the message names the
        plugin and the distribution the mapping says it came from (``pip install ...``).
    """
    check_version(data)
    if "dtype" in network_kwargs:
        raise DataError(f"the dtype of a {FORMAT} mapping is its 'dtype' entry ({data.get('dtype')!r}); leave out "
                        "dtype=..., and convert the loaded network's weights yourself if you need another")
    dtype = _read(data, "dtype", "", lambda d: d in ("float64", "float32"), "'float64' or 'float32'",
                  default="float64")
    provenance = _provenance(data)
    G, positions = _graph_of(data)
    kwargs = dict(network_kwargs)
    init = data.get("initializer")
    file_init = init is not None and "init" not in kwargs       # the caller's init= wins over the file's
    if file_init:
        if not isinstance(init, Mapping):
            raise _malformed("initializer", f"must be a mapping {{'name': ..., 'options': {{...}}}}, not "
                                            f"{_shown(init)}")
        kwargs["init"] = _read(init, "name", "initializer", _is_name, "the initialiser's name (a string)")
        options = _read(init, "options", "initializer", lambda o: isinstance(o, Mapping),
                        "a mapping of the initialiser's options", default={})
        kwargs.setdefault("init_options", options)
    probe = cls(registry=kwargs.pop("registry", None), plugins=kwargs.pop("plugins", None), dtype=dtype)
    registry = probe.registry
    _check_plugins(G, positions, registry, provenance, kwargs["init"] if file_init else None)
    if file_init:
        try:
            registry.with_options("initializer", kwargs["init"], kwargs["init_options"])
        except PluginError as exc:
            raise PluginError(f"initializer.options: {exc}; or load with init_options={{...}} (or init=...) to "
                              "replace them") from None
    try:
        net = from_networkx(cls, G, bias=False, dtype=dtype, registry=registry, **kwargs)
    except CycleError as exc:
        raise CycleError(f"edges: {exc}", exc.cycle) from None
    if data.get("scaling") is not None:
        net.scaling = Scaling.from_dict(data["scaling"], len(net.inputs), len(net.outputs))
    _tie_sets(net, data.get("tied", []))
    net.compile()                    # group activations used inconsistently are refused now, not on first use
    return net


def _provenance(data: Mapping) -> tuple[dict, dict]:
    """The mapping's ``"plugins"`` and ``"distributions"`` entries, checked (``({}, {})`` when absent)."""
    plugins = data.get("plugins", {})
    if not isinstance(plugins, Mapping):
        raise _malformed("plugins", f"must map each plugin kind to {{name: plugin}}, not {_shown(plugins)}")
    for kind, names in plugins.items():
        if not isinstance(names, Mapping) or not all(isinstance(p, str) for p in names.values()):
            raise _malformed(f"plugins.{kind}", f"must map each {kind} name to the plugin that provides it, not "
                                                f"{_shown(names)}")
    dists = data.get("distributions", {})
    if not isinstance(dists, Mapping):
        raise _malformed("distributions", f"must map each plugin to its distribution, not {_shown(dists)}")
    for plugin, entry in dists.items():
        if not isinstance(entry, Mapping) or not all(v is None or isinstance(v, str) for v in entry.values()):
            raise _malformed(f"distributions.{plugin}", "must be a mapping {'name': ..., 'version': ...} of "
                                                        f"strings (or null), not {_shown(entry)}")
    return dict(plugins), dict(dists)


def _graph_of(data: Mapping) -> tuple[nx.DiGraph, dict]:
    """The mapping's units and edges as a graph for :func:`from_networkx`, every entry
    checked; and ``{name: k}``, each unit's position in ``units``."""
    units = _read(data, "units", "", lambda u: isinstance(u, list), "a list of units")
    edges = _read(data, "edges", "", lambda e: isinstance(e, list), "a list of connections")
    G = nx.DiGraph()
    positions: dict[str, int] = {}
    outputs: dict[int, int] = {}
    require_memory((len(units) + 1.0) * BYTES_PER_UNIT + float(len(edges)) * BYTES_PER_EDGE,
                   f"a network of {len(units)} units and {len(edges)} connections", "load a smaller network")
    for k, entry in enumerate(units):
        where = f"units[{k}]"
        if not isinstance(entry, Mapping):
            raise _malformed(where, f"must be a mapping such as {{'name': 'h1', 'kind': 'neuron', 'activation': "
                                    f"'sigmoid'}}, not {_shown(entry)}")
        name = _read(entry, "name", where, _is_name, "the unit's name (a non-empty string)")
        kind = _read(entry, "kind", where, lambda x: x in _KINDS, "'input', 'bias' or 'neuron'")
        if name in positions:
            raise TopologyError(f"{where}: a unit named {name!r} comes twice (units[{positions[name]}] too); names "
                                "must be unique")
        attrs: dict[str, Any] = {"kind": kind}
        if kind == Neuron.kind:
            attrs["activation"] = _read(entry, "activation", where, _is_name, "an activation's name (a string)")
            if "output" in entry:
                index = _read(entry, "output", where, _is_index, "the neuron's column among the outputs (0, 1, ...)")
                if index in outputs:
                    raise TopologyError(f"{where}.output: {name!r} and units[{outputs[index]}] are both output "
                                        f"column {index}; number the outputs 0 to N-1, each once")
                outputs[index] = k
                attrs.update(output=True, output_index=index)
            else:
                attrs["output"] = False
            group = _read(entry, "group", where, lambda g: g is None or _is_name(g),
                          "the name of its softmax group (a string)", default=None)
            if group is not None:
                attrs["group"] = group
        else:
            for key in ("activation", "output", "group"):
                if key in entry:
                    raise _malformed(f"{where}.{key}", f"{name!r} is {with_article(kind)} unit; only computing "
                                                       "neurons (kind 'neuron') have an activation, output or group")
        G.add_node(name, **attrs)
        positions[name] = k
    missing = next((j for j in range(len(outputs)) if j not in outputs), None)
    if missing is not None:
        k = outputs[max(outputs)]
        raise TopologyError(f"units[{k}].output: output column {max(outputs)} is given but column {missing} is not; "
                            f"number the {len(outputs)} outputs 0 to {len(outputs) - 1}, each once")
    succ, pred = G._succ, G._pred           # the nodes are all there: edges go straight into the adjacency
    neurons = {name for name, attrs in G._node.items() if attrs["kind"] == Neuron.kind}
    for k, edge in enumerate(edges):
        # the common case, checked in one expression; anything else gets the checks that name the fault
        if type(edge) is dict:
            u, v, w = edge.get("src"), edge.get("dst"), edge.get("weight")
            trainable, label = edge.get("trainable", True), edge.get("label")
            if type(u) is str and type(v) is str and type(w) is float and w - w == 0.0 and v in neurons and \
                    u in succ and v not in succ[u] and type(trainable) is bool and \
                    (label is None or type(label) is str):
                data = {"weight": w, "trainable": trainable, **({"label": label} if label else {})}
                succ[u][v] = pred[v][u] = data
                continue
        u, v, data = _edge(edge, f"edges[{k}]", G, edges)
        succ[u][v] = pred[v][u] = data
    return G, positions


def _edge(edge: Any, where: str, G: nx.DiGraph, edges: list) -> tuple[str, str, dict]:
    """A connection of the mapping checked entry by entry: ``(src, dst, attributes)``, or
    the error that names what is wrong with it (``edges`` are all of them, for a duplicate)."""
    if not isinstance(edge, Mapping):
        raise _malformed(where, f"must be a mapping such as {{'src': 'i1', 'dst': 'h1', 'weight': 0.15}}, not "
                                f"{_shown(edge)}")
    u = _read(edge, "src", where, _is_name, "the name of a unit (a string)")
    v = _read(edge, "dst", where, _is_name, "the name of a unit (a string)")
    for end in (u, v):
        if end not in G:
            raise TopologyError(f"{where}: {end!r} is not one of the units; list it in 'units' or remove the "
                                "connection")
    kind = G._node[v]["kind"]
    if kind != Neuron.kind:
        raise TopologyError(f"{where}: {u!r} -> {v!r} goes into {with_article(kind)} unit, whose output is fixed; "
                            "only computing neurons have incoming connections")
    if v in G._succ[u]:
        first = next(j for j, e in enumerate(edges)
                     if isinstance(e, Mapping) and (e.get("src"), e.get("dst")) == (u, v))
        raise TopologyError(f"{where}: the connection {u!r} -> {v!r} comes twice (edges[{first}] too); each pair of "
                            "units has one weight")
    weight = _weight(edge, where)
    trainable = _read(edge, "trainable", where, lambda t: isinstance(t, bool), "true or false", default=True)
    label = _read(edge, "label", where, lambda x: x is None or isinstance(x, str), "the weight's name (a string)",
                  default=None)
    return u, v, {"weight": weight, "trainable": bool(trainable), **({"label": label} if label else {})}


#: The unit kinds of the mapping's ``units``.
_KINDS = ("input", "bias", "neuron")


def _weight(edge: Mapping, where: str) -> float:
    """An edge's ``"weight"``: a finite number (JSON null, NaN or infinity are refused)."""
    w = _read(edge, "weight", where, lambda x: True, "a number")
    if w is None:
        raise _malformed(f"{where}.weight", "is null; every weight in a network file is a number (JSON writers "
                                            "put null for a NaN or infinite value: was the network finite?)")
    if isinstance(w, bool) or not isinstance(w, (int, float)):
        raise _malformed(f"{where}.weight", f"must be a number, not {_shown(w)}")
    try:
        value = float(w)
    except OverflowError:
        raise _malformed(f"{where}.weight", "is an integer too large for a float; weights must be finite") from None
    if not math.isfinite(value):
        raise _malformed(f"{where}.weight", f"is {value}; weights must be finite numbers")
    return value


def _check_plugins(G: nx.DiGraph, positions: dict, registry: Any, provenance: tuple[dict, dict],
                   init: str | None) -> None:
    """Refuse, naming plugin and distribution, the activations (and the mapping's
    initialiser ``init``) that ``registry`` does not have."""
    problems = []
    have = set(registry.names("activation"))
    users: dict[str, list[str]] = {}
    for name, attrs in G.nodes(data=True):
        if attrs["kind"] == Neuron.kind and attrs["activation"] not in have:
            users.setdefault(attrs["activation"], []).append(name)
    for act, names in users.items():
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        problems.append(f"units[{positions[names[0]]}] ({names[0]!r}{more}) uses the activation {act!r}, which no "
                        f"installed plugin provides; {_source_hint('activation', act, provenance)} "
                        f"({did_you_mean(act, have, 'installed activations')})")
    if init is not None and init not in registry.names("initializer"):
        problems.append(f"initializer: the initialiser {init!r} is not installed; "
                        f"{_source_hint('initializer', init, provenance)}; or load with init='uniform' (or another "
                        "installed initialiser: it only draws the weights of connections added later)")
    if problems:
        raise PluginError("; ".join(problems))


def _source_hint(kind: str, name: str, provenance: tuple[dict, dict]) -> str:
    """Where the mapping says ``kind`` ``name`` came from, and how to install it."""
    plugins, dists = provenance
    plugin = plugins.get(kind, {}).get(name)
    if plugin is None:
        return (f"the file does not say which plugin provided it: install the plugin that provides {kind} "
                f"{name!r}, or pass plugins=[...] when loading (neurosim.load(path, plugins=['my_plugin.py']))")
    dist = dists.get(plugin, {})
    if dist.get("name"):
        version = f" {dist['version']}" if dist.get("version") else ""
        return (f"the file says it comes from the plugin {plugin!r} of the distribution {dist['name']}{version}: "
                f"install it with pip install {dist['name']}")
    if dist.get("file"):
        return (f"the file says it came from the plugin file {dist['file']!r}, which no distribution provides: "
                f"pass it when loading (neurosim.load(path, plugins=['path/to/{dist['file']}']))")
    if dist.get("module"):
        return (f"the file says it came from the plugin module {dist['module']!r}, which no distribution "
                f"provides: install it, or pass it when loading (neurosim.load(path, plugins=[{dist['module']!r}]))")
    return (f"the file says it came from the plugin {plugin!r}: install the distribution that provides it, or pass "
            "the plugin when loading (neurosim.load(path, plugins=[...]))")


def _tie_sets(net: Network, tied: Any) -> None:
    """Tie the sets of the mapping's ``"tied"`` entry, refusing a set whose weights differ."""
    if not isinstance(tied, list):
        raise _malformed("tied", f"must be a list of tied sets, not {_shown(tied)}")
    for k, entry in enumerate(tied):
        where = f"tied[{k}]"
        if not isinstance(entry, Mapping):
            raise _malformed(where, f"must be a mapping {{'name': ..., 'reduce': ..., 'edges': [...]}}, not "
                                    f"{_shown(entry)}")
        pairs = _read(entry, "edges", where, lambda e: isinstance(e, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in e),
            "a list of connections [src, dst]")
        name = _read(entry, "name", where, _is_name, "the set's name (a string)")
        reduce = _read(entry, "reduce", where, lambda r: isinstance(r, str), "'sum' or 'mean'", default="sum")
        try:
            values = {(u, v): net.weight(u, v) for u, v in pairs}
            if len(set(values.values())) > 1:
                shown = ", ".join(f"{u} -> {v} {w!r}" for (u, v), w in list(values.items())[:4])
                raise TopologyError(f"the weights of its connections differ ({shown}); a tied set shares one "
                                    "weight")
            net.tie([tuple(p) for p in pairs], reduce=reduce, name=name)
        except TopologyError as exc:
            raise type(exc)(f"{where}: {exc}") from None
