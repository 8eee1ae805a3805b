"""Networks as NetworkX graphs: the read-only view ``Network.graph``.

:func:`read_only_view` makes the view of a network's internal graph that ``net.graph``
returns. NetworkX's frozen views refuse adding and removing nodes and edges but hand out
the graph's own attribute dicts; here every node, edge and graph attribute mapping (and
each adjacency level leading to them) is wrapped in a live, read-only
:class:`~collections.abc.Mapping`, so that ``net.graph.edges[u, v]["weight"] = 5`` raises
a :class:`~neurosim.errors.TopologyError` naming the method that does it
(``set_weight``, ``set_trainable``, ``set_label``) instead of slipping past the compiled
plan. Reading, ``copy()`` (plain writable dicts) and NetworkX algorithms work as on any
DiGraph, and the internal graph itself stays a plain, fast ``networkx.DiGraph``.
"""

from __future__ import annotations

from collections.abc import ItemsView, Mapping, ValuesView
from typing import Any, NoReturn

import networkx as nx

from .errors import TopologyError

__all__ = ["read_only_view"]


_READ_ONLY = "net.graph is read-only"
_COPY_HINT = "or annotate a writable copy (G = net.graph.copy())"
#: edge attribute -> (what it is, the call that sets it)
_SETTERS = {"weight": ("weight", "net.set_weight({u!r}, {v!r}, w)"),
            "trainable": ("trainable flag", "net.set_trainable({u!r}, {v!r}, False)"),
            "label": ("label", "net.set_label({u!r}, {v!r}, 'w5')")}


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

    def _wrap(self, key: Any, value: Any) -> Any:
        return value

    def __getitem__(self, key: Any) -> Any:
        return self._wrap(key, self._data[key])

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key``, or ``default``."""
        if key in self._data:
            return self[key]
        return default

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

    def copy(self) -> dict:
        """A plain, writable copy (nested levels copied down to the attribute dicts)."""
        return {k: (v.copy() if isinstance(v, _ReadOnly) else v) for k, v in self.items()}

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


def read_only_view(G: nx.DiGraph) -> nx.DiGraph:
    """A frozen view of ``G`` whose attribute dicts are read-only too (``net.graph``).

    Parameters
    ----------
    G : networkx.DiGraph
        The graph to view; it is neither copied nor changed.

    Returns
    -------
    networkx.DiGraph
        A frozen DiGraph that reads ``G`` live: structural changes raise
        ``networkx.NetworkXError`` (networkx's frozen-graph refusal); writing node, edge
        or graph attributes raises :class:`~neurosim.errors.TopologyError` naming the
        network method that makes the change. ``copy()`` and ``networkx.DiGraph(view)``
        give ordinary, writable graphs.
    """
    view = nx.freeze(nx.DiGraph())
    view._graph = G
    view.graph = _Attributes(G.graph, ("graph",))
    view._node = _Nodes(G._node, ("nodes",))
    view._succ = _Adjacency(G._succ, ("succ",))       # sets view._adj too
    view._pred = _Adjacency(G._pred, ("pred",))
    return view
