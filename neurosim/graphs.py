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
mapping (the ``neurosim-network`` format, version 1, of ``network.json``). Tied sets
(``Network.tie``) go with all three: an edge attribute ``tie`` and a graph attribute
``ties`` in NetworkX graphs, an optional ``"tied"`` entry in the mapping.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import numbers
import operator
from collections.abc import Hashable, ItemsView, Iterable, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, NoReturn

import networkx as nx

from .errors import CycleError, DataError, TopologyError
from .neurons import Neuron, Unit
from .resources import BYTES_PER_EDGE, BYTES_PER_UNIT, require_memory
from .scaling import Scaling

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["read_only_view", "to_networkx", "from_networkx", "fill_adjacency", "network_to_dict", "network_from_dict",
           "NODE_ATTRIBUTES", "EDGE_ATTRIBUTES", "FORMAT", "VERSION"]

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

    def _wrap(self, key: Any, value: Any) -> Any:
        raise NotImplementedError

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


def network_to_dict(net: Network) -> dict:
    """A JSON-ready description of ``net``: units, edges, weights and plugins used.

    Parameters
    ----------
    net : neurosim.Network

    Returns
    -------
    dict
        ``{"format": "neurosim-network", "version": 1, "dtype": ..., "units": [...],
        "edges": [...], "plugins": {"activation": {name: plugin}}}``; ``"scaling"``
        (:meth:`neurosim.scaling.Scaling.to_dict`) when ``net.scaling`` is set; and, when
        the network has tied sets, ``"tied": [{"name": ..., "reduce": "sum" or "mean",
        "edges": [[src, dst], ...]}, ...]`` (in the order they were made). Readers that do
        not know an optional entry ignore it. Units keep their order (the input and output
        column order); edges are listed neuron by neuron, each neuron's in the order it
        sums them, so :func:`network_from_dict` rebuilds a network that computes the
        same bits.
    """
    weights = net.weights()                   # compiles: weights not given yet are drawn
    graph = net._synced_graph()
    units = []
    for u in graph.nodes:
        entry: dict[str, Any] = {"name": u.name, "kind": u.kind}
        if isinstance(u, Neuron):
            entry["activation"] = u.activation
            if u.output:
                entry["output"] = net.outputs.index(u)
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
    plugins = {name: net.registry.owner("activation", name) for name in sorted({u.activation for u in net.neurons})}
    out = {"format": FORMAT, "version": VERSION, "dtype": str(net.dtype), "units": units, "edges": edges,
           "plugins": {"activation": plugins}}
    if net.scaling is not None:               # optional: a version-1 reader that does not know it ignores it
        net.scaling.check(len(net.inputs), len(net.outputs))
        out["scaling"] = net.scaling.to_dict()
    if net.ties:                              # optional: a reader that does not know it builds the net untied
        out["tied"] = [{"name": tie.name, "reduce": tie.reduce, "edges": [list(edge) for edge in tie.edges]}
                       for tie in net.ties.values()]
    return out


def network_from_dict(cls: type[Network], data: Any, **network_kwargs: Any) -> Network:
    """Rebuild a network from :func:`network_to_dict`'s mapping (through :func:`from_networkx`).

    Parameters
    ----------
    cls : type
        :class:`~neurosim.Network` (or a subclass).
    data : dict
        The mapping (e.g. loaded from ``network.json``).
    **network_kwargs
        Passed to the network (``registry``, ``plugins``).

    Returns
    -------
    Network
        With ``scaling`` set when the mapping has a ``"scaling"`` entry. Keys this
        version does not know are ignored.

    Raises
    ------
    DataError
        When the mapping is not a neurosim network of a version this code reads, or an
        entry is malformed (the message names it: ``units[3]``, ``edges[7]``,
        ``scaling.inputs.offset``).
    """
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        raise DataError(f"not a {FORMAT} mapping (its 'format' is {found!r:.60}); give what Network.to_dict() "
                        "or network.json holds")
    if data.get("version") != VERSION:
        raise DataError(f"{FORMAT} version {data.get('version')!r:.60} is not supported; this neurosim reads "
                        f"version {VERSION}")
    G = nx.DiGraph()
    where = "units"
    try:
        for k, entry in enumerate(data["units"]):
            where = f"units[{k}]"
            attrs = {"kind": entry["kind"]}
            if entry["kind"] == Neuron.kind:
                attrs["activation"] = entry["activation"]
                attrs["output"] = "output" in entry
                if "output" in entry:
                    attrs["output_index"] = entry["output"]
                if entry.get("group") is not None:
                    attrs["group"] = entry["group"]
            if entry["name"] in G:
                raise TopologyError(f"{where}: a unit named {entry['name']!r} comes twice; names must be unique")
            G.add_node(entry["name"], **attrs)
        for k, edge in enumerate(data["edges"]):
            where = f"edges[{k}]"
            u, v = edge["src"], edge["dst"]
            for end in (u, v):
                if end not in G:
                    raise TopologyError(f"{where}: {end!r} is not one of the units")
            G.add_edge(u, v, weight=edge["weight"], trainable=edge.get("trainable", True),
                       **({"label": edge["label"]} if edge.get("label") else {}))
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"malformed {FORMAT} data at {where}: missing or wrong field ({type(exc).__name__}: "
                        f"{exc!s:.80})") from None
    net = from_networkx(cls, G, bias=False, dtype=data.get("dtype", "float64"), **network_kwargs)
    if data.get("scaling") is not None:
        net.scaling = Scaling.from_dict(data["scaling"], len(net.inputs), len(net.outputs))
    tied = data.get("tied", [])
    if not isinstance(tied, list):
        raise DataError(f"malformed {FORMAT} data at tied: must be a list of tied sets, not {tied!r:.60}")
    for k, entry in enumerate(tied):
        try:
            edges = [tuple(edge) if isinstance(edge, list) else edge for edge in entry["edges"]]
            net.tie(edges, reduce=entry.get("reduce", "sum"), name=entry["name"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"malformed {FORMAT} data at tied[{k}]: missing or wrong field ({type(exc).__name__}: "
                            f"{exc!s:.80})") from None
        except TopologyError as exc:
            raise type(exc)(f"tied[{k}]: {exc}") from None
    return net
