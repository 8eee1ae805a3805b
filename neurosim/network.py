"""The user's model: :class:`Network`, a NetworkX DAG of neuron objects.

A network owns a :class:`networkx.DiGraph` whose nodes are :class:`~neurosim.neurons.Unit`
objects and whose edges carry ``weight`` and ``trainable``. Building methods refuse, with
a :class:`~neurosim.errors.NeurosimError` that names the neurons, anything that is not a
feed-forward net (cycles, edges into inputs, duplicates). Running methods (:meth:`forward`,
:meth:`gradients`, :meth:`train`) validate the data, then hand over to the compiled
:class:`~neurosim.engine.Plan`, which is built lazily and rebuilt only when the topology
changes; while a plan exists it owns the weights, and the graph's edge attributes are
brought up to date whenever ``net.graph`` is read. ``net.graph`` is a read-only view
(:func:`neurosim.graphs.read_only_view`); the conversions to and from NetworkX graphs live
in :mod:`neurosim.graphs`. A network pickles and deep-copies: the weights go with the
graph and the plan is compiled again on first use.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from . import graphs, netfile
from .codegen import _numba, check_backend
from .engine import Plan
from .errors import (CycleError, DataError, NeuronNotFoundError, NumericalError, PluginError, TopologyError,
                     did_you_mean, with_article)
from .neurons import BiasUnit, InputUnit, Neuron, Unit
from .plugins import Registry, default_registry, make_registry
from .resources import BYTES_PER_EDGE, BYTES_PER_UNIT, require_memory
from .scaling import Scaling

__all__ = ["Network", "Tie", "REDUCES", "load"]

UnitRef = str | Unit

#: The floating types a network computes in.
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

#: How a tied set's gradient is made from its edges' gradients (:meth:`Network.tie`).
REDUCES = ("sum", "mean")


@dataclass(frozen=True)
class Tie:
    """A set of connections sharing one weight (made by :meth:`Network.tie`).

    Attributes
    ----------
    name : str
        The set's name, unique in its network.
    edges : tuple of (str, str)
        The connections ``(src_name, dst_name)``, in the order they were tied; the first
        gives the set its initial weight when the initialiser draws it.
    reduce : {'sum', 'mean'}
        The set's gradient: ``"sum"``, the true gradient of the error with respect to the
        shared weight, ``Σ delta(dst)·y(src)`` over the set; ``"mean"``, that sum divided
        by the set's size (Rumelhart, Hinton & Williams 1986).
    """

    name: str
    edges: tuple
    reduce: str = "sum"


class Network:
    """A feed-forward network of neuron objects held in a NetworkX DAG.

    Parameters
    ----------
    plugins : iterable, optional
        Extra plugins (modules, dotted names, ``.py`` paths or objects with hook
        implementations) on top of the installed ones; a fresh registry is made.
    registry : neurosim.plugins.Registry, optional
        Use this registry as it is (overrides ``plugins``). By default the installed
        plugins are used (:func:`neurosim.default_registry`).
    dtype : {float64, float32}, default float64
        Floating type of weights and activations; weights and data must lie in its range.
    seed : int or numpy.random.Generator, optional
        Seeds the initialiser for weights not given explicitly.
    init : str, default "uniform"
        Name of the initialiser plugin for weights not given explicitly.
    init_options : mapping, optional
        Keyword options for the initialiser (``{"scale": 0.3}``).
    backend : {'numpy', 'auto', 'python', 'numba'}, default 'numpy'
        Where training runs: the vectorised numpy engine, or code generated for this
        network (``python``: scalar Python source; ``numba``: the same source compiled
        by numba, ``pip install 'neurosim[fast]'``); ``auto`` takes ``python`` for small
        networks. Runs generated code cannot do (ensembles, minibatches, optimisers other
        than SGD, activations or losses without a scalar form) train on numpy; see
        docs/engine.md. Results agree to rounding, not bit for bit.

    Examples
    --------
    The worked example (Mazur's 2-2-2 network), one step of online backprop:

    >>> import neurosim
    >>> net = neurosim.Network()
    >>> for name in ("i1", "i2"):
    ...     _ = net.add_input(name)
    >>> _ = net.add_bias("b1"); _ = net.add_bias("b2")
    >>> for name in ("h1", "h2"):
    ...     _ = net.add_neuron(name, activation="sigmoid")
    >>> for name in ("o1", "o2"):
    ...     _ = net.add_neuron(name, activation="sigmoid", output=True)
    >>> for (s, d), w in {("i1", "h1"): .15, ("i2", "h1"): .20, ("i1", "h2"): .25, ("i2", "h2"): .30,
    ...                   ("h1", "o1"): .40, ("h2", "o1"): .45, ("h1", "o2"): .50, ("h2", "o2"): .55}.items():
    ...     net.connect(s, d, weight=w)
    >>> for h in ("h1", "h2"):
    ...     net.connect("b1", h, weight=0.35, trainable=False)
    >>> for o in ("o1", "o2"):
    ...     net.connect("b2", o, weight=0.60, trainable=False)
    >>> E, grads = net.gradients([0.05, 0.10], [0.01, 0.99], loss="mse")
    >>> print(f"{E:.9f} {net['h1'].out:.9f} {grads[('h1', 'o1')]:.9f}")
    0.298371109 0.593269992 0.082167041
    >>> history = net.train([[0.05, 0.10]], [[0.01, 0.99]], learning_rate=0.5, epochs=1)
    >>> print(f"{net.weight('h1', 'o1'):.8f} {net.weight('i1', 'h1'):.9f}")
    0.35891648 0.149780716

    Notes
    -----
    ``pickle`` and ``copy.deepcopy`` give an equal network: same units, weights (bit for
    bit), flags, labels, dtype, seed, and the initialiser's and the shuffle stream's
    random state, so training a copy continues exactly as training the original would.
    A deep copy shares the (read-only) plugin registry; unpickling rebuilds it (see
    :class:`~neurosim.plugins.Registry`).
    """

    def __init__(self, *, plugins: Iterable[Any] | None = None, registry: Registry | None = None,
                 dtype: Any = np.float64, seed: Any = None, init: str = "uniform",
                 init_options: Mapping[str, Any] | None = None, backend: str = "numpy"):
        if registry is None:
            registry = make_registry(plugins) if plugins else default_registry()
        elif not isinstance(registry, Registry):
            raise PluginError(f"registry must be a neurosim Registry (from neurosim.make_registry(...) or "
                              f"neurosim.default_registry()), not {type(registry).__name__} {registry!r}")
        self.registry = registry
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise DataError(f"dtype {dtype!r} is not a numpy dtype; use float64 or float32") from None
        if self.dtype not in DTYPES:
            raise DataError(f"dtype must be float64 or float32, the only floating types neurosim supports, not "
                            f"{self.dtype}")
        self._max_weight = float(np.finfo(self.dtype).max)
        if init_options is not None and not isinstance(init_options, Mapping):
            raise PluginError(f"init_options must be a mapping of the initialiser's options, e.g. "
                              f"{{'scale': 0.3}}, not {type(init_options).__name__} {init_options!r}")
        if seed is not None and not isinstance(seed, np.random.Generator) and \
                not (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
            raise DataError(f"seed must be a whole number >= 0 or a numpy Generator, not {seed!r}")
        self.rng = np.random.default_rng(seed)
        self.seed = int(seed) if isinstance(seed, numbers.Integral) else None
        self.init_options = dict(init_options or {})
        self.initializer = registry.with_options("initializer", init, self.init_options)
        self.backend = backend
        self._graph = nx.DiGraph()
        self._by_name: dict[str, Unit] = {}
        self._inputs: list[InputUnit] = []
        self._biases: list[BiasUnit] = []
        self._outputs: list[Neuron] = []
        self._plan: Plan | None = None
        self._synced = True   # graph edge weights equal the plan's
        self._orders: np.random.Generator | None = None   # train(shuffle=True)'s stream

    # --- building --------------------------------------------------------------------

    def _add(self, unit: Unit) -> Unit:
        if not isinstance(unit.name, str) or not unit.name:
            raise TopologyError(f"neuron names must be non-empty strings, not {unit.name!r}")
        if unit.name in self._by_name:
            raise TopologyError(f"a neuron named {unit.name!r} already exists "
                                f"({self._by_name[unit.name]!r}); names must be unique, choose another")
        unit._network = self
        self._graph.add_node(unit)
        self._by_name[unit.name] = unit
        self._invalidate()
        return unit

    def add_input(self, name: str) -> InputUnit:
        """Add an input unit; inputs take the columns of ``X`` in the order they are added.

        Parameters
        ----------
        name : str
            Unique name.

        Returns
        -------
        InputUnit
        """
        unit = self._add(InputUnit(name))
        self._inputs.append(unit)
        return unit

    def add_bias(self, name: str = "bias") -> BiasUnit:
        """Add a bias unit (output always 1); the bias of a neuron is the weight from it.

        Parameters
        ----------
        name : str, default "bias"
            Unique name. A network may have one shared bias unit or several.

        Returns
        -------
        BiasUnit
        """
        unit = self._add(BiasUnit(name))
        self._biases.append(unit)
        return unit

    def add_neuron(self, name: str, activation: str = "sigmoid", *, output: bool = False,
                   group: str | None = None) -> Neuron:
        """Add a computing neuron.

        Parameters
        ----------
        name : str
            Unique name.
        activation : str, default "sigmoid"
            Name of a registered activation (see ``neurosim list``).
        output : bool, default False
            Make it an output; outputs take the columns of ``Y`` and ``T`` in the order
            they are added. Any neuron may be an output, including one that feeds others.
        group : str, optional
            For group activations (softmax): which neurons are normalised together.
            Output neurons default to the group ``"outputs"``.

        Returns
        -------
        Neuron

        Raises
        ------
        PluginError
            When the activation is not registered (the message suggests the closest).
        """
        output = self._check_flag(output, f"neuron {name!r}: output")
        try:
            act = self.registry.activation(activation)
        except Exception as exc:
            raise type(exc)(f"neuron {name!r}: {exc}") from None
        if group is not None and (not isinstance(group, str) or not act.group):
            raise TopologyError(f"neuron {name!r}: group must be a string naming the neurons a group activation "
                                f"(softmax) normalises together, and {activation!r} is "
                                f"{'a group' if act.group else 'an elementwise'} activation; got group={group!r}")
        unit = self._add(Neuron(name, activation, output=output, group=group))
        if output:
            self._outputs.append(unit)
        return unit

    def add_layer(self, prefix: str, size: int, activation: str = "sigmoid", *, kind: str = "neuron",
                  output: bool = False, connect_from: Iterable[Iterable[UnitRef]] = (),
                  bias: UnitRef | None = None) -> list[Unit]:
        """Add ``size`` units named ``prefix1 … prefixN`` and fully connect them.

        Parameters
        ----------
        prefix : str
            Name prefix: layer ``"h"`` of size 2 gives ``h1, h2`` (the worked example's notation).
        size : int
            Number of units (>= 1).
        activation : str, default "sigmoid"
            For computing neurons.
        kind : {'neuron', 'input'}
            ``"input"`` adds input units.
        output : bool, default False
            Make the neurons outputs.
        connect_from : iterable of iterables of units or names
            Earlier layers to connect from, every unit to every new neuron; several make
            skip connections (``[net.inputs]``, ``[h, net.inputs]``, ``[["i1", "i2"]]``).
            Weights come from the initialiser.
        bias : str or Unit, optional
            A bias unit to connect to every new neuron.

        Returns
        -------
        list of Unit

        Raises
        ------
        TopologyError
            A bad size, kind or ``connect_from`` (e.g. a list of names instead of a list
            of layers), or an input layer given sources.
        ResourceError
            When the layer and its connections would not fit in memory (checked before
            any unit is made).
        """
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
            raise TopologyError(f"layer {prefix!r} must have a whole number of units >= 1, not {size!r}")
        if kind not in ("input", "neuron"):
            raise TopologyError(f"layer {prefix!r}: kind must be 'input' or 'neuron', not {kind!r}")
        output = self._check_flag(output, f"layer {prefix!r}: output")
        sources = [s for layer in self._layers(connect_from, f"layer {prefix!r}") for s in layer]
        if bias is not None:
            sources.append(bias)
        if kind == "input" and (sources or output):
            raise TopologyError(f"layer {prefix!r} is an input layer: its units take the columns of X, so it has no "
                                "connect_from, bias or output; give kind='neuron' for a layer of computing neurons")
        units = "input units" if kind == "input" else "neurons"
        n = _count(size)
        require_memory(n * (BYTES_PER_UNIT + len(sources) * BYTES_PER_EDGE),   # no inf * 0 = nan
                       f"layer {prefix!r} of {_show_count(size)} {units}" +
                       (f" and {_show_count(size * len(sources))} connections" if sources else ""),
                       f"make layer {prefix!r} smaller")
        if kind == "input":
            return [self.add_input(f"{prefix}{k + 1}") for k in range(int(size))]
        layer = [self.add_neuron(f"{prefix}{k + 1}", activation, output=output) for k in range(int(size))]
        self.connect_all(sources, layer)
        return layer

    @staticmethod
    def _layers(connect_from: Any, where: str) -> list[list]:
        """``connect_from`` as a list of layers (lists of units or names), or a TopologyError."""
        hint = ("connect_from must be an iterable of layers, each an iterable of units or names "
                "(connect_from=[net.inputs] or [['i1', 'i2']])")
        if isinstance(connect_from, (str, Unit)) or not isinstance(connect_from, Iterable):
            raise TopologyError(f"{where}: {hint}, not {connect_from!r}")
        layers = []
        for layer in connect_from:
            if isinstance(layer, (str, Unit)):
                raise TopologyError(f"{where}: {hint}; {layer!r} in {connect_from!r} is a single unit, not a "
                                    f"layer: put it in a list ([[{layer!r}]] connects from it alone)")
            if not isinstance(layer, Iterable):
                raise TopologyError(f"{where}: {hint}; {layer!r} in {connect_from!r} is not a layer")
            layers.append(list(layer))
        return layers

    @staticmethod
    def _check_flag(value: Any, what: str) -> bool:
        """``value`` as a bool when it is one (numpy's bool too), else a TopologyError naming ``what``."""
        if not isinstance(value, (bool, np.bool_)):
            raise TopologyError(f"{what} must be True or False, not {value!r}")
        return bool(value)

    @staticmethod
    def _refs(refs: Any, what: str) -> Iterable:
        """``refs`` when it is an iterable of units or names, else a TopologyError naming ``what``."""
        if isinstance(refs, (str, Unit)) or not isinstance(refs, Iterable):
            raise TopologyError(f"connect_all: {what} must be an iterable of units or names (net.inputs, "
                                f"['i1', 'i2'], a layer from add_layer), not {refs!r}")
        return refs

    def connect_all(self, sources: Iterable[UnitRef], targets: Iterable[UnitRef], *, trainable: bool = True) -> None:
        """Connect every source to every target (a fully connected block), weights drawn later.

        One call adds all ``len(sources) × len(targets)`` edges, much faster than
        :meth:`connect` edge by edge; the weights come from the initialiser at compile
        time.

        Parameters
        ----------
        sources, targets : iterables of str or Unit
            Units of this network; targets must be computing neurons.
        trainable : bool, default True
            Whether training may change the new weights.

        Raises
        ------
        TopologyError
            An edge that exists already, into an input or bias unit, or a self-loop;
            sources or targets that are not iterables of units or names.
        CycleError
            When an edge would close a cycle.
        ResourceError
            When the block would not fit in memory (checked before any edge is added).
        """
        srcs = [self._unit(s) for s in self._refs(sources, "sources")]
        dsts = [self._unit(d) for d in self._refs(targets, "targets")]
        trainable = self._check_flag(trainable, "connect_all: trainable")
        if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
            raise TopologyError("connect_all: a unit is listed twice among the sources or the targets")
        require_memory(float(len(srcs)) * len(dsts) * BYTES_PER_EDGE, f"connect_all of {len(srcs)} sources to "
                       f"{len(dsts)} targets ({len(srcs) * len(dsts)} connections)", "connect fewer units at once")
        fresh = all(self._graph.out_degree(v) == 0 for v in dsts) and not set(srcs) & set(dsts)
        if not fresh or any(not isinstance(v, Neuron) or self._graph.in_degree(v) for v in dsts):
            for u in srcs:                  # the general case: every edge checked on its own
                for v in dsts:
                    self.connect(u, v, trainable=trainable)
            return
        # Targets with no edges yet cannot close a cycle or duplicate an edge.
        self._graph.add_edges_from(((u, v) for v in dsts for u in srcs), weight=None, trainable=trainable)
        self._invalidate()

    def connect(self, src: UnitRef, dst: UnitRef, weight: float | None = None, *, trainable: bool = True,
                label: str | None = None) -> None:
        """Connect ``src`` to ``dst`` with a weight.

        Parameters
        ----------
        src, dst : str or Unit
            Names or neuron objects of this network.
        weight : float, optional
            The weight; when omitted, the network's initialiser draws it at compile time.
            It must be finite and within the range of the network's dtype.
        trainable : bool, default True
            A frozen weight (False) is never changed by training.
        label : str, optional
            A name for the weight in reports (the worked example's ``w5``).

        Raises
        ------
        TopologyError
            Self-loops, edges into input or bias units, edges that already exist, a
            ``trainable`` that is not a bool or a ``label`` that is not a string.
        CycleError
            When the edge would close a cycle; the message lists the cycle.
        DataError
            When the weight is not a number, not finite, or beyond the dtype's range.
        """
        u, v = self._unit(src), self._unit(dst)
        if u is v:
            raise TopologyError(f"cannot connect {u.name!r} to itself: a feed-forward network has no "
                                "self-loops (unroll it in time instead)")
        if not isinstance(v, Neuron):
            raise self._into_fixed(u, v)
        trainable = self._check_flag(trainable, f"connect {u.name!r} -> {v.name!r}: trainable")
        label = self._check_label(label, u, v)
        if self._graph.has_edge(u, v):
            raise TopologyError(f"{u.name!r} -> {v.name!r} is already connected; use set_weight to change "
                                "its weight, or disconnect it first")
        if self._graph.out_degree(v) and nx.has_path(self._graph, v, u):
            path = [n.name for n in nx.shortest_path(self._graph, v, u)]
            cycle = path + [v.name]
            raise CycleError(f"connecting {u.name!r} -> {v.name!r} would close the cycle "
                             f"{' -> '.join(cycle)}; a feed-forward network must stay acyclic", cycle)
        self._graph.add_edge(u, v, weight=None if weight is None else self._check_weight(weight, u, v),
                             trainable=trainable, **({"label": label} if label else {}))
        self._invalidate()

    @staticmethod
    def _into_fixed(u: Unit, v: Unit) -> TopologyError:
        """The refusal of an edge ``u -> v`` into an input or bias unit."""
        return TopologyError(f"cannot connect {u.name!r} -> {v.name!r}: {v.name!r} is {with_article(v.kind)} unit, "
                             "whose output is fixed; connect into a computing neuron (add_neuron)")

    @staticmethod
    def _check_label(label: Any, u: Unit, v: Unit) -> str | None:
        if label is not None and not isinstance(label, str):
            raise TopologyError(f"the label of {u.name!r} -> {v.name!r} must be a string such as 'w5' (or None), "
                                f"not {label!r}")
        return label or None

    def _connect_acyclic(self, G: nx.DiGraph, units: Mapping[Any, Unit], weight: str | None,
                         bias: BiasUnit | None = None, reduces: Mapping[str, Any] | None = None) -> None:
        """Add the edges of the acyclic graph ``G`` in bulk (for :func:`neurosim.graphs.from_networkx`).

        ``units`` maps ``G``'s nodes to this network's units, which have no edges yet;
        with ``bias``, an edge from it (weight drawn) into every computing neuron comes
        first. As ``G`` is known to be acyclic and every edge is new, there are no per-edge
        cycle or duplicate checks; everything else :meth:`connect` checks is checked,
        vectorised: no edge into an input or bias unit, and each edge's weight (attribute
        ``weight``; missing or None: drawn), ``trainable`` and ``label``. The adjacency is
        written with :func:`neurosim.graphs.fill_adjacency`, so that each unit's outgoing
        edges keep ``G.succ``'s order and each neuron's incoming edges ``G.pred``'s: the
        network is ``G`` down to the order in which each neuron sums its messages.
        Edges with a ``tie`` attribute are then tied, set by set (:meth:`tie`), each set's
        edges in ``G``'s edge order and with its reduce from ``reduces`` (default
        ``"sum"``), the sets in ``reduces``'s order and then in order of appearance.
        """
        for v, preds in G._pred.items():
            if preds and not isinstance(units[v], Neuron):
                raise self._into_fixed(units[next(iter(preds))], units[v])

        def edge(k: int) -> tuple[Unit, Unit]:          # the k-th edge, for a message
            u, v = next(itertools.islice(((u, v) for u, nbrs in G._succ.items() for v in nbrs), k, None))
            return units[u], units[v]

        datas = [d for nbrs in G._succ.values() for d in nbrs.values()]
        values = self._check_weights([d.get(weight) for d in datas] if weight is not None else [None] * len(datas),
                                     edge)
        flags = [d.get("trainable", True) for d in datas]
        if not set(map(type, flags)) <= {bool}:
            for k, flag in enumerate(flags):
                if type(flag) is not bool:
                    u, v = edge(k)
                    flags[k] = self._check_flag(flag, f"edge {u.name!r} -> {v.name!r}: its 'trainable' attribute")
        ties = [d.get("tie") for d in datas]
        labels = [d.get("label") for d in datas]
        if set(map(type, labels)) <= {type(None)}:
            attrs = [{"weight": w, "trainable": t} for w, t in zip(values, flags)]
        else:
            for k, label in enumerate(labels):
                if label is not None and not isinstance(label, str):
                    self._check_label(label, *edge(k))
            attrs = [{"weight": w, "trainable": t, **({"label": label} if label else {})}
                     for w, t, label in zip(values, flags, labels)]
        del datas
        if bias is not None:                             # first in every neuron's inputs
            neurons = self.neurons
            graphs.fill_adjacency(self._graph, [(bias, ((v, {"weight": None, "trainable": True}) for v in neurons))],
                                  ((v, [bias]) for v in neurons))
        unit, data = units.__getitem__, iter(attrs)
        graphs.fill_adjacency(self._graph,
                              ((unit(u), zip(map(unit, nbrs), data)) for u, nbrs in G._succ.items()),
                              ((unit(v), map(unit, nbrs)) for v, nbrs in G._pred.items()))
        self._invalidate()
        reduces = dict(reduces or {})
        if reduces or not set(map(type, ties)) <= {type(None)}:
            self._tie_attributes(ties, ((units[u], units[v]) for u, nbrs in G._succ.items() for v in nbrs), reduces)

    def _tie_attributes(self, ties: list, edges: Iterable[tuple[Unit, Unit]], reduces: dict) -> None:
        """Tie the edges by their ``tie`` attributes (``ties[k]`` of the k-th edge), for
        :meth:`_connect_acyclic`."""
        sets: dict[str, list] = {name: [] for name in reduces}
        for name, (u, v) in zip(ties, edges):
            if name is None:
                continue
            if not isinstance(name, str) or not name:
                raise TopologyError(f"edge {u.name!r} -> {v.name!r}: its 'tie' attribute must name the tied set it is "
                                    f"in (a non-empty string), not {name!r:.60}")
            sets.setdefault(name, []).append((u, v))
        for name, pairs in sets.items():
            if not pairs:
                raise TopologyError(f"the graph attribute 'ties' names the set {name!r}, but no edge has "
                                    f"tie={name!r}; give its edges that attribute, or leave the set out")
            self.tie(pairs, reduce=reduces.get(name, "sum"), name=name)

    def disconnect(self, src: UnitRef, dst: UnitRef) -> None:
        """Remove the edge ``src -> dst``.

        Parameters
        ----------
        src, dst : str or Unit
            The edge's ends.

        Raises
        ------
        TopologyError
            When there is no such edge.
        """
        u, v = self._edge(src, dst)
        name = self._graph.edges[u, v].get("tie")
        if name is not None:
            raise TopologyError(f"{u.name!r} -> {v.name!r} is tied in the set {name!r} "
                                f"({self._show_edges(self._ties()[name].edges)}); untie it first: "
                                f"net.untie({name!r})")
        self._invalidate()        # brings the graph's weights up to date while the edge is still there
        self._graph.remove_edge(u, v)

    def set_output(self, ref: UnitRef, output: bool = True) -> None:
        """Make a computing neuron an output (appended last) or stop it being one."""
        unit = self._unit(ref)
        output = self._check_flag(output, f"set_output {unit.name!r}: output")
        if not isinstance(unit, Neuron):
            raise TopologyError(f"{unit.name!r} is {with_article(unit.kind)} unit; only computing neurons can be "
                                "outputs")
        if output and unit not in self._outputs:
            self._outputs.append(unit)
        elif not output and unit in self._outputs:
            self._outputs.remove(unit)
        unit.output = output
        self._invalidate()

    # --- lookups -----------------------------------------------------------------------

    def _unit(self, ref: UnitRef) -> Unit:
        if isinstance(ref, Unit):
            if ref._network is not self:
                raise NeuronNotFoundError(f"{ref!r} belongs to another network; refer to this network's "
                                          "neurons (or their names)")
            return ref
        try:
            return self._by_name[ref]
        except (KeyError, TypeError):
            raise NeuronNotFoundError(f"no neuron named {ref!r}; "
                                      f"{did_you_mean(str(ref), self._by_name, 'neurons')}") from None

    def _edge(self, src: UnitRef, dst: UnitRef) -> tuple[Unit, Unit]:
        u, v = self._unit(src), self._unit(dst)
        if not self._graph.has_edge(u, v):
            into = ", ".join(p.name for p in self._graph.predecessors(v)) or "none"
            raise TopologyError(f"there is no connection {u.name!r} -> {v.name!r}; "
                                f"{v.name!r} has inputs from: {into}")
        return u, v

    def __getitem__(self, name: UnitRef) -> Unit:
        return self._unit(name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name or (isinstance(name, Unit) and name._network is self)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._graph.nodes)

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    @property
    def graph(self) -> nx.DiGraph:
        """A read-only view of the network's NetworkX graph (nodes are neuron objects;
        edges carry ``weight``, ``trainable`` and an optional ``label``).

        Query, analyse and draw it freely with NetworkX; it shows the weights as they are
        when it is read. It is read-only: adding or removing nodes or edges raises
        NetworkX's frozen-graph error, and writing node or edge data raises a
        :class:`~neurosim.errors.TopologyError`. Change the network through its methods,
        which keep the compiled plan in step: ``connect`` / ``disconnect``,
        ``set_weight(src, dst, w)``, ``set_trainable(src, dst, flag)``,
        ``set_label(src, dst, label)``, ``set_output``. ``net.graph.copy()`` (or
        :meth:`to_networkx`, with names as nodes) gives a writable copy to annotate.
        """
        return graphs.read_only_view(self._synced_graph())

    def _synced_graph(self) -> nx.DiGraph:
        """The internal graph, its edge weights brought up to date with the plan's."""
        if not self._synced:
            self._sync_graph()
        return self._graph

    @property
    def inputs(self) -> list[InputUnit]:
        """Input units, in column order of ``X``."""
        return list(self._inputs)

    @property
    def biases(self) -> list[BiasUnit]:
        """Bias units."""
        return list(self._biases)

    @property
    def outputs(self) -> list[Neuron]:
        """Output neurons, in column order of ``Y`` and ``T``."""
        return list(self._outputs)

    @property
    def neurons(self) -> list[Neuron]:
        """Computing neurons, in the order they were added."""
        return [u for u in self._graph.nodes if isinstance(u, Neuron)]

    @property
    def n_weights(self) -> int:
        """Number of edges (weights)."""
        return self._graph.number_of_edges()

    @property
    def backend(self) -> str:
        """Where training runs: ``"numpy"``, ``"auto"``, ``"python"`` or ``"numba"`` (see the class)."""
        return self.__dict__.get("_backend", "numpy")

    @backend.setter
    def backend(self, value: str) -> None:
        try:
            self._backend = check_backend(value)
        except ValueError as exc:
            raise DataError(f"{exc}; numpy is the vectorised engine, python and numba run generated code "
                            "(docs/engine.md)") from None
        if value == "numba":
            _numba()                                   # missing: say how to install it now

    def __repr__(self) -> str:
        backend = f", backend={self.backend!r}" if self.backend != "numpy" else ""
        return (f"Network({len(self._inputs)} inputs, {len(self.neurons)} neurons, {len(self._outputs)} outputs, "
                f"{len(self._biases)} bias units, {self.n_weights} weights{backend})")

    def __getstate__(self) -> dict:
        # The plan holds the weights while it exists: they go into the graph, the plan is
        # dropped (compiled again on first use) and so is the initialiser record, which is
        # looked up again in the registry.
        state = self.__dict__.copy()
        state["_graph"] = self._synced_graph()
        state["_plan"], state["_synced"] = None, True
        state["initializer"] = self.initializer.name
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.initializer = self.registry.with_options("initializer", state["initializer"], self.init_options)

    # --- weights -----------------------------------------------------------------------

    def _check_weight(self, value: Any, u: Unit, v: Unit) -> float:
        """``value`` as a float when it is a finite number in the dtype's range, else a DataError."""
        edge = f"weight of {u.name!r} -> {v.name!r}"
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise DataError(f"{edge} must be a number, not {value!r}")
        try:
            with np.errstate(over="ignore"):
                w = float(value)
        except OverflowError:
            w = math.inf
        if math.isnan(w) or (math.isinf(w) and value == w):
            raise DataError(f"{edge} is {w}; weights must be finite")
        if not abs(w) <= self._max_weight:
            too_large = "too large for a float" if math.isinf(w) else f"{w:g}, too large for {self.dtype}"
            raise DataError(f"{edge} is {too_large} ({self._range()}); give a smaller weight{self._wider()}")
        return w

    def _range(self) -> str:
        return f"beyond ±{self._max_weight:.2g}, the range of this {self.dtype} network"

    def _wider(self) -> str:
        return ", or build the network with dtype=float64" if self.dtype != np.float64 else ""

    def _check_weights(self, values: list, edge: Any) -> list:
        """:meth:`_check_weight` over many edges at once, vectorised: floats (None stays None:
        drawn). ``edge(k)`` gives the ends of edge ``k``, for the message."""
        types = set(map(type, values))
        none = type(None) in types
        types.discard(type(None))
        arr = None
        if all(issubclass(t, numbers.Real) and not issubclass(t, bool) for t in types):
            try:
                with np.errstate(all="ignore"):
                    arr = np.array(values, dtype=np.float64)       # None becomes NaN
            except (OverflowError, TypeError, ValueError):
                pass
        if arr is not None:
            bad = ~(np.abs(arr) <= self._max_weight)
            if none:
                bad &= np.fromiter((w is not None for w in values), bool, len(values))
            wrong = np.flatnonzero(bad)[:1].tolist()
        else:
            wrong = range(len(values))
        for k in wrong:                  # the first edge at fault raises, with its message
            if values[k] is not None:
                self._check_weight(values[k], *edge(k))
        if arr is None:
            return [None if w is None else float(w) for w in values]
        checked = arr.tolist()
        return [None if w is None else x for w, x in zip(values, checked)] if none else checked

    def weight(self, src: UnitRef, dst: UnitRef) -> float:
        """Return the weight of ``src -> dst`` (compiling first if it is not drawn yet)."""
        u, v = self._edge(src, dst)
        if self._plan is None and self._graph.edges[u, v]["weight"] is not None:
            return self._graph.edges[u, v]["weight"]
        plan = self.compile()
        return float(plan.theta[plan.edge_pos[(u, v)]])

    def set_weight(self, src: UnitRef, dst: UnitRef, value: float) -> None:
        """Set the weight of ``src -> dst``; never recompiles, seen by the next pass.

        Parameters
        ----------
        src, dst : str or Unit
            The connection's ends.
        value : float
            The weight; a tied connection shares it with its set (:meth:`tie`): the
            whole set gets it.
        """
        u, v = self._edge(src, dst)
        w = self._check_weight(value, u, v)
        for a, b in self._tied_with(u, v):
            data = self._graph.edges[a, b]
            if data.get("drawn"):
                # the user's weight now, in every ensemble member; an ensemble still draws for
                # the edge, so the other edges' draws stay where a single network has them
                data["set"] = True
            if self._plan is not None:
                self._plan.theta[self._plan.edge_pos[(a, b)]] = w
                self._synced = False
            else:
                data["weight"] = w

    def trainable(self, src: UnitRef, dst: UnitRef) -> bool:
        """Whether training may change the weight of ``src -> dst``."""
        u, v = self._edge(src, dst)
        return bool(self._graph.edges[u, v]["trainable"])

    def set_trainable(self, src: UnitRef, dst: UnitRef, trainable: bool) -> None:
        """Freeze (False) or unfreeze (True) the weight of ``src -> dst`` and of its tied set."""
        u, v = self._edge(src, dst)
        trainable = self._check_flag(trainable, f"set_trainable {u.name!r} -> {v.name!r}: trainable")
        for a, b in self._tied_with(u, v):
            self._graph.edges[a, b]["trainable"] = trainable
            if self._plan is not None:
                self._plan.mask[self._plan.edge_pos[(a, b)]] = 1.0 if trainable else 0.0

    def weights(self) -> dict[tuple[str, str], float]:
        """Return ``{(src_name, dst_name): weight}`` for every edge."""
        plan = self.compile()
        return {(u.name, v.name): float(plan.theta[p]) for (u, v), p in plan.edge_pos.items()}

    def edge_label(self, src: UnitRef, dst: UnitRef) -> str:
        """The edge's label if it has one (``w5``), else ``"src -> dst"``."""
        u, v = self._edge(src, dst)
        return self._graph.edges[u, v].get("label") or f"{u.name} -> {v.name}"

    def set_label(self, src: UnitRef, dst: UnitRef, label: str | None) -> None:
        """Name the weight of ``src -> dst`` in reports (the seed's ``w5``), or unname it.

        Parameters
        ----------
        src, dst : str or Unit
            The edge's ends.
        label : str or None
            The new label; None (or ``""``) removes it.

        Raises
        ------
        TopologyError
            When there is no such edge or the label is not a string.
        """
        u, v = self._edge(src, dst)
        label = self._check_label(label, u, v)
        data = self._graph.edges[u, v]
        if label is None:
            data.pop("label", None)
        else:
            data["label"] = label

    # --- tied weights ---------------------------------------------------------------------

    def tie(self, edges: Iterable[tuple[UnitRef, UnitRef]], *, reduce: str = "sum", name: str | None = None) -> str:
        """Make connections share one weight: a tied set, trained as one parameter.

        Parameters
        ----------
        edges : iterable of (src, dst)
            Two or more existing connections of this network, e.g.
            ``[("i1", "h1"), ("i2", "h2")]`` (names or neuron objects), all trainable or
            all frozen, none in another set.
        reduce : {'sum', 'mean'}, default 'sum'
            The set's gradient, which every edge of the set then receives: ``"sum"`` is
            ``Σ delta(dst)·y(src)`` over the set, the true gradient of the error with
            respect to the shared weight (what finite differences measure); ``"mean"`` is
            that sum divided by the set's size, as Rumelhart, Hinton & Williams (1986)
            change each set "by the average of its gradients" (with plain gradient descent
            the same as ``"sum"`` at the learning rate divided by the size).
        name : str, optional
            The set's name (default ``"tie1"``, ``"tie2"``, ...: the first one free).

        Returns
        -------
        str
            The set's name.

        Raises
        ------
        TopologyError
            A connection that does not exist or is listed twice, a unit of another network,
            a connection already in a set, trainable and frozen connections mixed, fewer
            than two connections, an unknown ``reduce``, or a name that is taken.

        Notes
        -----
        A set has one weight. It is the first weight given among its connections, in the
        order listed (given to :meth:`connect` or :meth:`set_weight`), written into all of
        them; when none was given, the initialiser draws it at compile time: its draw for
        the set's first connection. :meth:`set_weight` and :meth:`set_trainable` on any
        connection of a set change the whole set, and :meth:`disconnect` refuses a tied
        connection (:meth:`untie` the set first). After every backward pass each entry of
        the set gets the set's gradient (:meth:`gradients` reports it for every tied
        connection), so each gets the same optimiser step and the weights stay equal.
        Tying recompiles the network on its next pass.

        Examples
        --------
        >>> net = Network(seed=0)
        >>> for name in ("i1", "i2"):
        ...     _ = net.add_input(name)
        >>> for name in ("o1", "o2"):
        ...     _ = net.add_neuron(name, "identity", output=True)
        >>> net.connect("i1", "o1", weight=0.5); net.connect("i2", "o2")
        >>> net.tie([("i1", "o1"), ("i2", "o2")])
        'tie1'
        >>> net.weight("i2", "o2")
        0.5
        >>> E, grads = net.gradients([1.0, 2.0], [0.0, 0.0])    # dE/dw = 0.5·1 + 1·2
        >>> grads[("i1", "o1")], grads[("i2", "o2")]
        (2.5, 2.5)
        """
        ties = self._ties()
        if name is None:
            name = next(f"tie{k}" for k in itertools.count(1) if f"tie{k}" not in ties)
        elif not isinstance(name, str) or not name:
            raise TopologyError(f"tie: name must be a non-empty string naming the set, not {name!r:.60}")
        elif name in ties:
            raise TopologyError(f"tie: a set named {name!r} exists already "
                                f"({self._show_edges(ties[name].edges)}); choose another name")
        if not isinstance(reduce, str) or reduce not in REDUCES:
            raise TopologyError(f"tie {name!r}: reduce must be 'sum' (the true gradient of the shared weight) or "
                                f"'mean' (divided by the set's size), not {reduce!r:.60}")
        pairs = self._tie_pairs(edges, name)
        shown = self._show_edges([(u.name, v.name) for u, v in pairs])
        if len(pairs) < 2:
            raise TopologyError(f"tie {name!r}: a set of {len(pairs)} connection{'' if pairs else 's'} "
                                f"({shown or 'none'}) ties nothing; give two or more connections to share one weight")
        datas = [self._graph.edges[u, v] for u, v in pairs]
        frozen = [f"{u.name} -> {v.name}" for (u, v), d in zip(pairs, datas) if not d["trainable"]]
        if frozen and len(frozen) < len(pairs):
            raise TopologyError(f"tie {name!r}: {', '.join(frozen)} {'is' if len(frozen) == 1 else 'are'} frozen but "
                                f"the others of {shown} are trainable; a set shares one weight, so its connections "
                                "are all trainable or all frozen: set_trainable them alike first")
        self._invalidate()                 # the plan must learn the set; the graph now holds the weights
        given = next((d["weight"] for d in datas if d["weight"] is not None and (not d.get("drawn") or d.get("set"))),
                     None)
        for d in datas:
            d["tie"] = name
            if given is not None:
                d["weight"] = given
                if d.get("drawn"):
                    d["set"] = True        # the user's weight, in every ensemble member too
        tie = Tie(name, tuple((u.name, v.name) for u, v in pairs), reduce)
        self._graph.graph["ties"] = {**ties, name: tie}      # a new dict: graph copies keep theirs
        return name

    def untie(self, name: str) -> None:
        """Dissolve the tied set ``name``: its connections keep their (equal) weights and
        train independently again.

        Parameters
        ----------
        name : str
            The set's name (as :meth:`tie` returned it).

        Raises
        ------
        TopologyError
            When there is no such set.
        """
        ties = self._ties()
        if not isinstance(name, str) or name not in ties:
            raise TopologyError(f"no tied set named {name!r:.60}; {did_you_mean(str(name), ties, 'sets')}")
        self._invalidate()
        for s, d in ties[name].edges:
            del self._graph.edges[self._by_name[s], self._by_name[d]]["tie"]
        rest = {k: t for k, t in ties.items() if k != name}
        if rest:
            self._graph.graph["ties"] = rest
        else:
            del self._graph.graph["ties"]

    @property
    def ties(self) -> dict[str, Tie]:
        """The tied sets, ``{name: Tie}``, in the order they were made (a copy)."""
        return dict(self._ties())

    def _ties(self) -> dict[str, Tie]:
        return self._graph.graph.get("ties", {})

    def _tie_pairs(self, edges: Any, name: str) -> list[tuple[Unit, Unit]]:
        """``edges`` of :meth:`tie` as this network's ``(u, v)`` pairs, each an existing
        connection in no set, listed once; else a TopologyError naming the edge."""
        hint = "edges must be an iterable of (src, dst) pairs, e.g. [('i1', 'h1'), ('i2', 'h2')]"
        if isinstance(edges, (str, Unit)) or not isinstance(edges, Iterable):
            raise TopologyError(f"tie {name!r}: {hint}, not {edges!r:.60}")
        pairs: list[tuple[Unit, Unit]] = []
        seen: set[tuple[Unit, Unit]] = set()
        for edge in edges:
            if not isinstance(edge, (str, Unit)) and isinstance(edge, Iterable):
                edge = tuple(edge)
            if not isinstance(edge, tuple) or len(edge) != 2:
                raise TopologyError(f"tie {name!r}: {hint}; {edge!r:.60} is not a pair")
            try:
                u, v = self._edge(*edge)
            except TopologyError as exc:
                raise type(exc)(f"tie {name!r}: the connection {_show_ref(edge[0])} -> {_show_ref(edge[1])}: "
                                f"{exc}") from None
            where = self._graph.edges[u, v].get("tie")
            if (u, v) in seen:
                raise TopologyError(f"tie {name!r}: {u.name!r} -> {v.name!r} is listed twice; list each connection "
                                    "once")
            if where is not None:
                raise TopologyError(f"tie {name!r}: {u.name!r} -> {v.name!r} is already in the set {where!r} "
                                    f"({self._show_edges(self._ties()[where].edges)}); a connection has one "
                                    f"weight, so it is in at most one set: net.untie({where!r}) first, or tie "
                                    "the connections in one set")
            pairs.append((u, v))
            seen.add((u, v))
        return pairs

    def _tied_with(self, u: Unit, v: Unit) -> list[tuple[Unit, Unit]]:
        """The connections sharing the weight of ``u -> v``: its set's, or itself alone."""
        name = self._graph.edges[u, v].get("tie")
        if name is None:
            return [(u, v)]
        return [(self._by_name[s], self._by_name[d]) for s, d in self._ties()[name].edges]

    @staticmethod
    def _show_edges(edges: Iterable[tuple[str, str]], limit: int = 6) -> str:
        """``"i1 -> h1, i2 -> h2, ..."`` for a message (at most ``limit`` edges)."""
        edges = list(edges)
        shown = ", ".join(f"{s} -> {d}" for s, d in edges[:limit])
        return shown + (f", ... ({len(edges)} in all)" if len(edges) > limit else "")

    # --- compilation ----------------------------------------------------------------------

    def _invalidate(self) -> None:
        if self._plan is not None:
            if not self._synced:
                self._sync_graph()
            self._plan = None

    def _sync_graph(self) -> None:
        plan = self._plan
        if plan is not None:
            theta = plan.theta.tolist()
            edges = self._graph.edges
            for (u, v), p in plan.edge_pos.items():
                if edges[u, v]["weight"] != theta[p]:
                    edges[u, v]["weight"] = theta[p]
        self._synced = True

    def compile(self) -> Plan:
        """Return the compiled plan, building it if the topology changed since the last.

        Called by every pass; call it yourself only to surface topology errors early.

        Raises
        ------
        TopologyError
            No inputs or no outputs, or a group activation used inconsistently.
        """
        if self._plan is None:
            if not self._inputs:
                raise TopologyError("the network has no input units; add some with add_input")
            if not self._outputs:
                raise TopologyError("the network has no outputs; pass output=True to add_neuron "
                                    "(any computing neuron can be an output)")

            def init_weights(fan_in, fan_out, member):
                return self.initializer(self.rng, fan_in, fan_out, **self.init_options)

            self._plan = Plan(self._graph, self._inputs, self._biases, self._outputs, self.registry,
                              self.dtype, init_weights)
            self._synced = False
        return self._plan

    def _neuron_state(self, unit: Unit, field: str) -> Any:
        if self._plan is None:
            return None
        return self._plan.state(unit, field)

    # --- running ------------------------------------------------------------------------

    def _patterns(self, A: Any, columns: list[Unit], what: str, rows: int | None = None) -> tuple[np.ndarray, bool]:
        n = len(columns)
        try:
            raw = np.asarray(A)
            if raw.dtype.kind in "US":
                raise ValueError("strings are not numbers")
        except (TypeError, ValueError) as exc:
            raise DataError(f"{what} must be a numeric array (patterns × {n}); {_unconvertible(A, exc)}") from None
        if raw.dtype.kind == "c":
            raise DataError(f"{what} holds complex numbers ({raw.dtype}); neurosim computes with real numbers: give "
                            f"the real parts (numpy.real) or put real and imaginary parts in columns of their own")
        single = False
        if raw.ndim == 1:
            if len(raw) == n:
                raw, single = raw[None, :], True
            elif n == 1:
                raw = raw[:, None]
        if raw.ndim != 2 or raw.shape[1] != n:
            names = ", ".join(u.name for u in columns[:8]) + (" ..." if n > 8 else "")
            raise DataError(f"{what} has shape {np.shape(A)}, but the network has {n} {_what_of(what)} "
                            f"({names}); give an array of shape (patterns, {n}) or ({n},) for one pattern, "
                            "columns in the order the units were added")
        if rows is not None and raw.shape[0] != rows:
            raise DataError(f"{what} has {raw.shape[0]} patterns but the inputs have {rows}; give one target "
                            "row per input pattern")
        if raw.shape[0] == 0:
            raise DataError(f"{what} has no patterns")
        try:
            with np.errstate(all="ignore"):
                arr = raw.astype(self.dtype, copy=False)
        except (TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"{what} must be a numeric array (patterns × {n}); {_unconvertible(A, exc)}") from None
        if not np.isfinite(arr).all():
            r, c = np.argwhere(~np.isfinite(arr))[0]
            where = f"at pattern {r}, column {c} ({columns[c].name})"
            if _finite(raw[r, c]):
                raise DataError(f"{what} has the value {_show(raw[r, c])} {where}, too large for {self.dtype} "
                                f"({self._range()}); scale the data down{self._wider()}")
            raise DataError(f"{what} has a non-finite or missing value ({arr[r, c]}) {where}; remove or impute it")
        return arr, single

    def forward(self, X: Any) -> np.ndarray:
        """Run the forward phase and return the outputs.

        Parameters
        ----------
        X : array_like
            ``(batch, n_inputs)`` patterns, or ``(n_inputs,)`` for one, columns in the
            order the inputs were added.

        Returns
        -------
        ndarray
            ``(batch, n_outputs)`` (or ``(n_outputs,)`` for one pattern), columns in
            output order. Each neuron's ``net`` and ``out`` are then readable.
        """
        plan = self.compile()
        X, single = self._patterns(X, self._inputs, "X")
        buf = self._forward(plan, X, single)
        Y = plan.outputs_of(buf)
        return Y[0] if single else Y

    def gradients(self, X: Any, T: Any, loss: str = "mse") -> tuple[float, dict[tuple[str, str], float]]:
        """Run both phases and return the error and every weight's gradient.

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`forward`.
        T : array_like
            Targets ``(batch, n_outputs)`` or ``(n_outputs,)``.
        loss : str, default "mse"
            Name of a registered loss.

        Returns
        -------
        E : float
            The total error, summed over patterns (and output units).
        grads : dict
            ``{(src_name, dst_name): dE/dw}`` for every edge, frozen ones included;
            ``dE/dw = Σ_patterns delta(dst) · y(src)``.
        """
        plan, Xa, Ta, single, loss_ = self._prepare(X, T, loss)
        self._forward(plan, Xa, single, loss_)
        with np.errstate(all="ignore"):
            E = float(plan.backward(Ta, loss_))
        self._check_error(E, loss_)
        if not np.isfinite(plan.grad).all():
            raise NumericalError(f"the {loss_.name} gradient is not finite (outputs saturated at 0 or 1?); "
                                 "use the loss that pairs with the output activation (sigmoid+bce, "
                                 "softmax+cce) so the fused delta is used")
        grad = plan.grad
        return E, {(u.name, v.name): float(grad[p]) for (u, v), p in plan.edge_pos.items()}

    def error(self, X: Any, T: Any, loss: str = "mse") -> float:
        """Return the total error over the patterns (forward phase only)."""
        plan, Xa, Ta, single, loss_ = self._prepare(X, T, loss)
        buf = self._forward(plan, Xa, single, loss_)
        with np.errstate(all="ignore"):
            E = float(loss_.value(plan.output_values(buf), Ta))
        self._check_error(E, loss_)
        return E

    @property
    def scaling(self) -> Scaling | None:
        """The scaling of the network's inputs and targets (:class:`neurosim.scaling.Scaling`), or None.

        A scenario with ``data.scale`` sets it to the scaling fitted on its training set;
        :meth:`predict` applies it, :meth:`to_dict` saves it (the optional ``"scaling"``
        entry) and :meth:`from_dict` reads it back. :meth:`forward`, :meth:`error`,
        :meth:`gradients` and :meth:`train` do not use it: they take values already in
        the network's (scaled) units.
        """
        return self.__dict__.get("_scaling")

    @scaling.setter
    def scaling(self, value: Scaling | None) -> None:
        if value is not None and not isinstance(value, Scaling):
            raise DataError(f"net.scaling must be a neurosim.scaling.Scaling (Scaling.fit(X, T, inputs='standard')) "
                            f"or None, not {type(value).__name__} {value!r:.60}")
        self._scaling = value

    def predict(self, X: Any) -> np.ndarray:
        """Outputs in the targets' original units for inputs in their original units.

        With :attr:`scaling`, the inputs are scaled as in training, passed forward, and
        the outputs mapped back to the targets' units; without it, the same as
        :meth:`forward`.

        Parameters
        ----------
        X : array_like
            ``(batch, n_inputs)`` patterns, or ``(n_inputs,)`` for one, in the units the
            data came in.

        Returns
        -------
        ndarray
            ``(batch, n_outputs)`` (or ``(n_outputs,)`` for one pattern), in the targets'
            units. Each neuron's ``net`` and ``out`` are then readable (in scaled units).

        Raises
        ------
        DataError
            Bad inputs (as for :meth:`forward`), inputs that overflow once scaled, or a
            scaling of other widths than the network's.
        NumericalError
            When the outputs overflow, in the network or once mapped back.
        """
        scaling = self.scaling
        if scaling is None:
            return self.forward(X)
        self._patterns(X, self._inputs, "X")                    # the data's own mistakes, named as forward does
        scaling.check(len(self._inputs), len(self._outputs))
        scaled = scaling.scale_inputs(np.asarray(X, dtype=np.float64))
        if not np.isfinite(scaled).all():
            raise DataError("X overflows once scaled by net.scaling (x - offset) / scale: the inputs are too far "
                            "from the training data's offsets for float64; check the inputs' units")
        Y = scaling.unscale_targets(self.forward(scaled))
        if not np.isfinite(Y).all():
            raise NumericalError("the outputs overflow once mapped back to the targets' units by net.scaling "
                                 "(y · scale + offset); the network's outputs are far outside the training range")
        return Y

    @staticmethod
    def _forward(plan: Plan, X: np.ndarray, single: bool, loss=None):
        with np.errstate(all="ignore"):
            buf = plan.forward(X)
        plan.last_single = single
        where = plan.first_nonfinite(buf) if not np.isfinite(plan.output_values(buf)).all() else None
        if where is not None:
            during = f" (computing the {loss.name} error)" if loss is not None else ""
            raise NumericalError(f"the forward pass overflowed{during}: the output of neuron {where!r} is not "
                                 "finite; scale the inputs or the weights down")
        return buf

    def train(self, X: Any, T: Any, loss: str = "mse", learning_rate: float | None = None, epochs: int = 1,
              mode: str = "online", momentum: float | None = None, batch_size: int | None = None,
              weight_decay: float | None = None, optimizer: Any = None, stop: Any = None,
              ensemble: int | None = None, seeds: list | None = None, schedule: Any = None, shuffle: Any = False,
              *, optimizer_options: Mapping[str, Any] | None = None, callbacks: Iterable[Any] = (),
              validation: Any = None, history: str | None = None):
        """Train by backpropagation and an optimisation rule (plain SGD by default).

        Parameters
        ----------
        X, T : array_like
            Training inputs and targets, as for :meth:`gradients`.
        loss : str, default "mse"
            Name of a registered loss.
        learning_rate : float, default 0.1
            Step size of the SGD made here (not with ``optimizer``, which has its own).
        epochs : int, default 1
            Sweeps through the training set.
        mode : {'online', 'batch', 'minibatch'}, default 'online'
            ``online`` updates after every pattern, in order (the lecture notes' steps
            2–3, repeated for all training data); ``batch`` sums ``dE/dw`` over all
            patterns then updates once (Rumelhart et al. eq. 8); ``minibatch`` updates
            every ``batch_size`` patterns.
        momentum : float, default 0.0
            ``dw(t) = -lr · dE/dw(t) + momentum · dw(t-1)`` (eq. 9), ``t`` counting updates.
        batch_size : int, optional
            Patterns per update in ``minibatch`` mode.
        weight_decay : float, default 0.0
            After each change every trainable weight shrinks by this fraction.
        optimizer : str or neurosim.Optimizer, optional
            A registered optimiser's name (``"sgd"``, ``"rprop"``, ``"quickprop"``,
            ``"adam"``; its options in ``optimizer_options``), or an optimiser object
            (used as it is, state and all: pass the same one to successive calls to train
            in stages). Not together with ``learning_rate``, ``momentum`` or
            ``weight_decay``, which would then be ignored. Rprop and Quickprop train in
            batch mode only. See docs/training.md for every rule's equations.
        stop : mapping, StopCriterion, StopRule or callable, optional
            When to stop early: ``{"error_below": 0.01, "bit_fail": {"limit": 0.4}}``
            names registered stop criteria with their options (any of them stops), as
            does ``neurosim.training.StopCriterion(...)``; a callable ``stop(error, Y, T)
            -> bool`` is asked after every epoch too. ``early_stopping`` needs
            ``validation``.
        ensemble : int, optional
            Train this many independent copies in one vectorised run instead, each with
            its own initial weights (those the initialiser draws from ``seeds[k]``;
            explicit weights are shared) and its own optimiser state, and return an
            :class:`~neurosim.training.EnsembleResult`. The network itself is unchanged.
        seeds : list, optional
            Member seeds for ``ensemble``; default ``seed + k`` for ``Network(seed=seed)``.
            Member k equals a single run of ``Network(seed=seeds[k])`` built the same way.
        schedule : callable, optional
            ``schedule(epoch)`` is called before each epoch's first update (0-based), e.g.
            to change the optimiser's ``learning_rate`` or ``momentum`` from that epoch on
            (pass the ``optimizer`` it changes).
        shuffle : bool, int or numpy.random.Generator, default False
            Present the patterns in a new random order every epoch (``online`` and
            ``minibatch`` mode; in ``batch`` mode order does not matter). ``True`` draws
            the orders from a stream of the network's own (seeded from ``seed``, and
            continuing from one call to the next); an int seeds a new stream; a
            Generator is used as it is. An ensemble's members all see the same orders.
        optimizer_options : mapping, optional
            Options of the optimiser named by ``optimizer`` (``{"variant": "irprop+"}``).
        callbacks : list of callable, optional
            ``callback(progress)`` after every epoch with a :class:`~neurosim.Progress`
            (epoch, error, validation error, time); returning True or calling
            ``progress.request_stop()`` ends training.
        validation : (array_like, array_like), optional
            Inputs and targets of a validation set, whose error is measured after every
            epoch (``progress.validation_error``; the ``early_stopping`` criterion).
        history : {'exact', 'running'}, optional
            What the learning curve holds; by default ``running`` in minibatch mode and
            ``exact`` in online and batch mode. ``exact``: the total error over the whole
            training set after each epoch (online and minibatch mode make a forward
            pass over the whole set for it after every epoch; batch mode's training
            pass measures it for free). ``running``: the sum, over the epoch's updates,
            of the error of each update's patterns measured before that update (as
            Keras, FANN and scikit-learn report it), which costs no extra pass;
            ``error_below`` then watches that running error, and ``within`` and
            ``bit_fail`` still judge the outputs at the end of the epoch, from a pass
            made only for them.

        Returns
        -------
        ndarray or EnsembleResult
            ``history[k]``: total error over the whole training set after ``k + 1`` epochs
            (shorter than ``epochs`` when training stopped early), or with the running
            history (minibatch mode's default) the running error of epoch ``k + 1``; with
            ``ensemble``, the per-member results and statistics.

        Raises
        ------
        DataError
            Bad data or hyper-parameters, an ``optimizer`` that is not an optimiser or
            comes with ``learning_rate``, ``momentum`` or ``weight_decay``, a batch-only
            optimiser in another mode, or ``seeds`` that are not one seed per member.
        PluginError
            An unknown optimiser or stop criterion (with the closest name), or options
            it does not take.
        NumericalError
            When training diverges to NaN or infinity.
        """
        from .training.fit import fit        # training sits above the network: imported when used

        return fit(self, X, T, loss, learning_rate=learning_rate, epochs=epochs, mode=mode, momentum=momentum,
                   batch_size=batch_size, weight_decay=weight_decay, optimizer=optimizer,
                   optimizer_options=optimizer_options, stop=stop, ensemble=ensemble, seeds=seeds,
                   schedule=schedule, shuffle=shuffle, callbacks=list(callbacks) if not isinstance(
                       callbacks, (str, bytes)) and isinstance(callbacks, Iterable) else callbacks,
                   validation=validation, history=history)

    def _shuffle_rng(self, shuffle: Any, mode: str) -> np.random.Generator | None:
        """The generator of pattern orders that ``train(shuffle=...)`` asks for, or None."""
        if shuffle is None or shuffle is False:
            return None
        if mode == "batch":
            raise DataError("shuffle applies to mode='online' or 'minibatch'; batch mode sums the gradient over "
                            "all patterns, so their order does not matter")
        if isinstance(shuffle, np.random.Generator):
            return shuffle
        if shuffle is True:
            if self._orders is None:       # the network's own stream, apart from its weights'
                self._orders = np.random.default_rng(self.rng.bit_generator.seed_seq.spawn(1)[0])
            return self._orders
        if isinstance(shuffle, numbers.Integral) and not isinstance(shuffle, bool) and shuffle >= 0:
            return np.random.default_rng(int(shuffle))
        raise DataError(f"shuffle must be True, False, a whole number >= 0 (a seed) or a numpy Generator, not "
                        f"{shuffle!r}")

    def _prepare(self, X, T, loss):
        plan = self.compile()
        loss_ = self.registry.loss(loss)
        Xa, single = self._patterns(X, self._inputs, "X")
        Ta, _ = self._patterns(T, self._outputs, "T", rows=Xa.shape[0])
        loss_.check_targets(Ta)
        return plan, Xa, Ta, single, loss_

    @staticmethod
    def _check_error(E: float, loss) -> None:
        if not np.isfinite(E):
            raise NumericalError(f"the {loss.name} error is {E}; check that the targets suit this loss "
                                 "(cross-entropies need targets in [0, 1]) and the weights are finite")

    # --- conversion ------------------------------------------------------------------------

    @classmethod
    def from_networkx(cls, G: nx.DiGraph, *, activation: str = "sigmoid", output_activation: str | None = None,
                      weight: str | None = "weight", bias: bool | None = None, **kwargs: Any) -> Network:
        """Build a network from any NetworkX DAG in one call; the inverse of :meth:`to_networkx`.

        Node names are ``str(node)``, in ``G``'s node order. Each node's attributes, where
        present, say what it is (:data:`neurosim.graphs.NODE_ATTRIBUTES`): ``kind``
        (``"input"``, ``"bias"`` or ``"neuron"``), ``activation``, ``output`` (bool),
        ``output_index`` (outputs are ordered by it, then by node order) and ``group``.
        Without them a node is an input when it is a source, else a computing neuron,
        and an output when it is a sink. Edges carry ``weight``, ``trainable`` and
        ``label`` (:data:`neurosim.graphs.EDGE_ATTRIBUTES`). So
        ``Network.from_networkx(net.to_networkx())`` rebuilds ``net`` exactly, and a plain
        DAG gives: sources → inputs, sinks → outputs, one bias unit feeding every
        computing neuron.

        Parameters
        ----------
        G : networkx.DiGraph
            A directed acyclic graph.
        activation : str, default "sigmoid"
            Activation of computing neurons without an ``activation`` attribute (and of
            outputs, unless ``output_activation``).
        output_activation : str, optional
            Activation of the output neurons without an ``activation`` attribute.
        weight : str or None, default "weight"
            Edge attribute holding the initial weight; edges without it (or with None,
            or all edges when ``weight`` is None) get weights from the initialiser.
        bias : bool, optional
            Whether to add a shared bias unit (``"bias"``, or ``"bias_unit"`` when that
            name is taken) feeding every computing neuron. True adds it unless ``G``
            has bias units of its own (nodes of kind ``"bias"``: then those, with
            their edges, are the network's bias units and none is added); False never
            adds one. By default (None) it is added to a plain graph and not to one
            whose nodes carry ``kind`` attributes, which describes all its units, as
            :meth:`to_networkx` writes it.
        **kwargs
            Passed to :class:`Network` (``seed``, ``init``, ``dtype``, ``plugins``, ...).

        Returns
        -------
        Network

        Raises
        ------
        CycleError
            When ``G`` has a cycle (named in the message).
        TopologyError
            When ``G`` is undirected, two nodes have the same ``str``, or an attribute is
            invalid (the message names the node or edge).
        DataError
            When an edge's weight is not a finite number in the dtype's range.

        Notes
        -----
        Time and memory are linear in the size of ``G``: acyclicity is checked once for
        the whole graph, and the edges are then added in bulk with vectorised checks.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")])   # a skip connection
        >>> Network.from_networkx(G, seed=0)
        Network(1 inputs, 2 neurons, 1 outputs, 1 bias units, 5 weights)
        """
        return graphs.from_networkx(cls, G, activation=activation, output_activation=output_activation,
                                    weight=weight, bias=bias, **kwargs)

    def to_dict(self) -> dict:
        """Return the network as a JSON-ready mapping (format ``neurosim-network`` v1).

        What :meth:`save` writes; see :func:`neurosim.graphs.network_to_dict` and
        docs/network-format.md. :meth:`from_dict` reads it back.
        """
        return graphs.network_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict, **kwargs: Any) -> Network:
        """Rebuild a network written by :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            The mapping.
        **kwargs
            Passed to :class:`Network` (``registry``, ``plugins``, ``seed``, ``init``).

        Returns
        -------
        Network

        Raises
        ------
        DataError, TopologyError, PluginError
            A malformed entry (named), a newer format version, or a plugin that is not
            installed (see :func:`neurosim.graphs.network_from_dict`).
        """
        return graphs.network_from_dict(cls, data, **kwargs)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network to a JSON file, atomically: what :meth:`load` reads back exactly.

        The file is the ``neurosim-network`` format (version 1, docs/network-format.md),
        the same as ``network.json`` of ``neurosim run --out``: every unit, connection,
        weight (to the float64 bit), flag and label, the output order, groups, dtype,
        scaling, tied sets, the initialiser, and each plugin used with the distribution and
        version that provided it. It is written to a temporary file and renamed, so an
        interrupted save never leaves half a file. The random state is not saved (pickle
        the network to keep it).

        Parameters
        ----------
        path : str or path
            The file (``"net.json"``); its folder must exist.

        Returns
        -------
        Path

        Raises
        ------
        DataError
            The folder is missing or a folder stands at ``path``.
        TopologyError
            The network cannot compile yet (no inputs or outputs).

        Examples
        --------
        >>> import tempfile, os
        >>> net = Network(seed=0)
        >>> _ = net.add_input("x"); _ = net.add_neuron("y", "tanh", output=True)
        >>> net.connect("x", "y", weight=0.1 + 0.2)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = net.save(os.path.join(folder, "net.json"))
        ...     print(Network.load(path).weight("x", "y"))
        0.30000000000000004
        """
        return netfile.save_network(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, **kwargs: Any) -> Network:
        """Read a network file written by :meth:`save` or ``neurosim run --out`` (``neurosim.load``).

        Parameters
        ----------
        path : str or path
            The file.
        **kwargs
            Passed to :class:`Network`: ``plugins`` (e.g. the ``.py`` file of a plugin
            activation the file uses), ``registry``, ``seed``, and ``init`` /
            ``init_options`` to replace the file's initialiser.

        Returns
        -------
        Network

        Raises
        ------
        FileError
            Missing, not a regular file, not JSON or cut short, a newer format version
            (saying which neurosim to upgrade to), or a malformed entry (named:
            ``edges[7].weight``).
        PluginError
            An activation or the initialiser is not installed; the message names the
            plugin and the distribution to ``pip install``.
        TopologyError
            Connections that do not make a feed-forward network (an edge to a unit that
            does not exist, a cycle). Every message starts with the file's path.
        """
        return netfile.load_network(cls, path, **kwargs)

    def to_networkx(self) -> nx.DiGraph:
        """Return a new, writable graph of the network with neuron names as nodes.

        For drawing, analysing or saving, and for :meth:`from_networkx`, which reads it
        back exactly. Nodes come in the order the units were added, with the attributes
        ``kind``, and for computing neurons ``activation``, ``output``, ``output_index``
        (outputs only) and ``group`` (when named); edges carry ``weight``, ``trainable``
        and ``label`` (when set). Weights not drawn yet are drawn first, as
        :meth:`weights` and :meth:`to_dict` do; they stay None only while the network
        cannot compile (no inputs or outputs yet).

        Returns
        -------
        networkx.DiGraph
        """
        return graphs.to_networkx(self)


def load(path: str | os.PathLike, **kwargs: Any) -> Network:
    """Read a network file written by ``net.save(path)`` or ``neurosim run --out`` (``network.json``).

    The same as :meth:`Network.load`, which documents it.

    Parameters
    ----------
    path : str or path
        The file.
    **kwargs
        Passed to :class:`Network` (``plugins``, ``registry``, ``seed``, ``init``,
        ``init_options``).

    Returns
    -------
    Network
    """
    return Network.load(path, **kwargs)


def _count(n: int) -> float:
    """A whole number as a float for memory estimates (inf beyond float range, never OverflowError)."""
    return float(n) if n < 1e300 else math.inf


def _show_count(n: int) -> str:
    """A whole number for a message: in full up to 15 digits, else as a power of ten."""
    return str(n) if n < 10**15 else f"about 10^{int(math.log10(n))}"


def _finite(x: Any) -> bool:
    """Whether ``x`` is a finite number (in its own type: a long double may exceed float64)."""
    try:
        return bool(np.isfinite(x))
    except TypeError:              # a Python int beyond numpy's integers, or not a number
        try:
            return math.isfinite(x)
        except (OverflowError, TypeError, ValueError):
            return False


def _show(x: Any) -> str:
    """A number for a message: as it is when short, else to three significant digits."""
    text = str(x)
    return text if len(text) <= 12 else f"{float(x):.3g}"


def _unconvertible(A: Any, exc: Exception) -> str:
    """Say why ``A`` is not a numeric 2-D array: a ragged pattern, a complex number, a number
    too large for a float, or a non-number."""
    try:
        rows = list(A)
        widths = [len(r) if isinstance(r, (list, tuple, np.ndarray)) else None for r in rows]
    except TypeError:
        widths = []
    if widths and len(set(widths)) > 1:
        bad = next(i for i, w in enumerate(widths) if w != widths[0])
        return (f"pattern {bad} has {widths[bad] if widths[bad] is not None else 'a single'} values but "
                f"pattern 0 has {widths[0]}; every pattern needs one value per column")
    for r, row in enumerate(np.atleast_2d(np.asarray(A, dtype=object))):
        for c, x in enumerate(np.atleast_1d(row)):
            if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
                return f"{x!r} at pattern {r}, column {c} is complex; give real numbers (the real parts: numpy.real)"
            if isinstance(x, (str, bytes)) or not isinstance(x, numbers.Real):
                return f"{x!r} at pattern {r}, column {c} is not a number"
            if isinstance(x, numbers.Integral) and not _finite(x):
                return f"the integer at pattern {r}, column {c} is too large for a float (beyond ±1.8e308)"
    return f"it holds something that is not a number ({str(exc).split(':')[-1].strip()})"


def _show_ref(ref: Any) -> str:
    """A unit reference (name or neuron object) for a message."""
    return repr(ref.name) if isinstance(ref, Unit) else f"{ref!r:.40}"


def _what_of(what: str) -> str:
    """The kind of units the columns of an array named ``what`` belong to."""
    return "input units" if what.endswith("X") else "output neurons"
