"""Neuron objects: the nodes of a network's NetworkX graph.

Three kinds: :class:`InputUnit` (its output is the pattern's value), :class:`BiasUnit`
(a source whose output is always 1, so a bias is just the weight of an edge from it, as in
Rumelhart, Hinton & Williams 1986) and :class:`Neuron` (sums ``w·y`` over its incoming
edges and applies its activation). They hash by identity, so two neurons with equal
attributes stay two nodes. After a pass each exposes ``net``, ``out`` and ``delta`` for the
last batch, read from the network's compiled state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["Unit", "InputUnit", "BiasUnit", "Neuron"]


class Unit:
    """Base class of every node in a :class:`~neurosim.Network` graph.

    Parameters
    ----------
    name : str
        Unique within its network.

    Notes
    -----
    Instances hash and compare by identity (``object`` semantics).
    """

    kind = "unit"

    def __init__(self, name: str):
        self.name = name
        self._network: Network | None = None

    @property
    def network(self) -> Network | None:
        """The network this unit belongs to (None before it is added)."""
        return self._network

    def _state(self, field: str) -> Any:
        if self._network is None:
            return None
        return self._network._neuron_state(self, field)

    @property
    def out(self) -> Any:
        """Output ``y`` for the last batch: a float for a single pattern, else ``(batch,)``.

        None before any pass.
        """
        return self._state("out")

    @property
    def net(self) -> Any:
        """Net input ``Σ w·y`` for the last batch (None for input and bias units)."""
        return None

    @property
    def delta(self) -> Any:
        """``dE/dnet`` for the last backward pass (None for input and bias units)."""
        return None

    @property
    def predecessors(self) -> list[Unit]:
        """Units with an edge into this one, in insertion order."""
        return [] if self._network is None else list(self._network._graph.predecessors(self))

    @property
    def successors(self) -> list[Unit]:
        """Units this one has an edge into, in insertion order."""
        return [] if self._network is None else list(self._network._graph.successors(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class InputUnit(Unit):
    """An input unit: its output is the value of its column of the input pattern.

    Parameters
    ----------
    name : str
        Unique within its network.
    """

    kind = "input"


class BiasUnit(Unit):
    """A bias unit: a source with no inputs whose output is always 1.0.

    The bias of a neuron is the weight of the edge from a bias unit into it, so forward,
    backward and weight updates need no bias code. A network may share one bias unit or
    use several.

    Parameters
    ----------
    name : str
        Unique within its network.
    """

    kind = "bias"

    @property
    def out(self) -> float:
        """Always 1.0."""
        return 1.0


class Neuron(Unit):
    """A computing neuron: ``net = Σ_i w_i y_i`` over incoming edges, ``out = f(net)``.

    Parameters
    ----------
    name : str
        Unique within its network.
    activation : str
        Name of a registered activation plugin (``"sigmoid"``, ``"tanh"``, ...).
    output : bool, default False
        Whether the neuron is an output of the network (any neuron may be).
    group : str, optional
        For group activations (softmax): the neurons normalised together. Output neurons
        with the same group activation form the group ``"outputs"`` by default.
    """

    kind = "neuron"

    def __init__(self, name: str, activation: str = "sigmoid", output: bool = False, group: str | None = None):
        super().__init__(name)
        self.activation = activation
        self.output = output
        self.group = group

    @property
    def net(self) -> Any:
        """Net input ``Σ w·y`` for the last batch: a float for one pattern, else ``(batch,)``."""
        return self._state("net")

    @property
    def delta(self) -> Any:
        """``dE/dnet`` from the last backward pass (float for one pattern, else ``(batch,)``).

        None when the last pass was forward only (``forward``, or the error measured after
        training), so a delta never describes other outputs than ``out``.
        """
        return self._state("delta")

    def __repr__(self) -> str:
        tail = ", output" if self.output else ""
        return f"Neuron({self.name!r}, {self.activation}{tail})"
