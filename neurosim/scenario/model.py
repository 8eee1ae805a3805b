"""What a scenario is once read: :class:`Scenario`, the validated settings of one experiment.

:meth:`Scenario.resolve` loads its plugins and data (:mod:`.data`),
:meth:`Scenario.build_network` builds its network (:mod:`.build`) and :meth:`Scenario.check`
takes every step a run takes before training (:mod:`.prepare`); reading a file into a
Scenario lives in :mod:`.load`, running one in :mod:`.run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import training
from ..errors import NeurosimError, did_you_mean
from ..functions import Patterns
from ..network import Network
from ..plugins import Registry, make_registry
from ..scaling import Scaling
from .build import build_network
from .data import _load_patterns
from .measuring import Expectation
from .prepare import _prepare
from .schema import SCHEMA, _Reader, _accepts, _options_of

__all__ = ["Scenario"]


@dataclass
class Scenario:
    """A validated scenario, ready to run. Build it with :func:`load_scenario`.

    The plugin-dependent parts (datasets, measures, activations) are checked by
    :meth:`resolve`, which also loads the data.

    Attributes
    ----------
    source : str
        The file it came from (or ``<mapping>``).
    data : dict
        The parsed mapping (after overrides).
    seed : int
        The seed of every random choice; drawn and recorded when the file gives none.
    train, test : Patterns
        The data as the network is trained and measured on it, after :meth:`resolve`:
        with ``data.scale``, scaled by :attr:`scaling` (fitted on the training set);
        else as read. ``test`` is None without a test set.
    raw_train, raw_test : Patterns
        The data as read, in its original units (the same objects as ``train`` and
        ``test`` when nothing is scaled).
    scale : dict or None
        ``data.scale`` as ``{"inputs": method, "targets": method}`` (None for a side
        left as it is), or None.
    scaling : neurosim.scaling.Scaling or None
        The scaling :meth:`resolve` fitted on the training set; the built network holds
        it (``net.scaling``).
    """

    source: str
    data: dict
    base_dir: Path
    name: str
    description: str
    seed: int
    plugins: list
    loss: str
    learning_rate: float
    mode: str
    epochs: int
    momentum: float
    momentum_schedule: list
    learning_rate_schedule: list
    batch_size: int | None
    weight_decay: float
    stop: training.StopCriterion | None
    ensemble: int | None
    expectations: list[Expectation]
    shuffle: bool = False
    registry: Registry | None = None
    train: Patterns | None = None
    test: Patterns | None = None
    scale: dict | None = None
    scaling: Scaling | None = None
    raw_train: Patterns | None = None
    raw_test: Patterns | None = None

    def momentum_at(self, epoch: int) -> float:
        """The momentum in force from ``epoch`` on (``momentum_schedule``, else ``momentum``)."""
        return _scheduled(self.momentum, self.momentum_schedule, epoch)

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate in force from ``epoch`` on (``learning_rate_schedule``, else ``learning_rate``)."""
        return _scheduled(self.learning_rate, self.learning_rate_schedule, epoch)

    def apply_schedule(self, optimizer: training.SGD, epoch: int) -> None:
        """Set ``optimizer``'s learning rate and momentum to those in force at ``epoch``.

        Parameters
        ----------
        optimizer : neurosim.training.SGD
        epoch : int
            Epochs trained so far (0-based index of the epoch about to run).
        """
        optimizer.learning_rate = self.learning_rate_at(epoch)
        optimizer.momentum = self.momentum_at(epoch)

    def pattern_orders(self) -> np.random.Generator | None:
        """With ``training.shuffle``: the generator of the pattern orders, seeded from the
        scenario's seed (its third stream, after the initial weights' and the test
        split's); else None."""
        if not self.shuffle:
            return None
        return np.random.default_rng(np.random.SeedSequence(self.seed).spawn(3)[2])

    def resolve(self, registry: Registry | None = None) -> Scenario:
        """Load the plugins and the data, and check everything that depends on them.

        Parameters
        ----------
        registry : Registry, optional
            Plugins to use; by default the installed ones plus the scenario's
            ``plugins = [...]``, in a registry made for this run.

        Returns
        -------
        Scenario
            ``self``, with ``registry``, ``train`` and ``test`` set.
        """
        r = _Reader(self.source)
        self.__dict__.pop("_prepared", None)      # what a check built belongs to the old registry
        if registry is not None and not isinstance(registry, Registry):
            raise r.fail("", "registry must be a neurosim Registry (neurosim.make_registry(...)), not "
                         f"{registry!r:.60}")
        if registry is None:
            try:
                registry = make_registry(self.plugins, base_dir=self.base_dir)
            except NeurosimError as exc:
                raise r.fail("plugins", str(exc)) from None
        self.registry = registry
        try:
            registry.loss(self.loss)
        except NeurosimError as exc:
            raise r.fail("training.loss", str(exc)) from None
        d = self.data["data"]
        self.train = _load_patterns(r, d, "data", self.base_dir, registry)
        split_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(2)[1])
        if "test" in d:
            self.test = _load_patterns(r, r.keys(d["test"], "data.test", "data.test"), "data.test",
                                       self.base_dir, registry)
        elif "test_fraction" in d:
            n = len(self.train)
            k = int(round(d["test_fraction"] * n))
            if not 0 < k < n:
                raise r.fail("data.test_fraction", f"leaves {k} of {n} patterns for testing; choose a fraction "
                             "that keeps at least one pattern in each set")
            held = np.sort(split_rng.permutation(n)[:k])
            self.train, self.test = self.train.subset(np.setdiff1d(np.arange(n), held)), self.train.subset(held)
        elif "test_indices" in d:
            held = np.array(d["test_indices"], dtype=np.intp)
            n = len(self.train)
            if len(held) == 0 or held.min() < 0 or held.max() >= n or len(set(held.tolist())) != len(held):
                raise r.fail("data.test_indices", f"must be distinct pattern numbers from 0 to {n - 1}")
            if len(held) >= n:
                raise r.fail("data.test_indices", "holds out every pattern; keep some for training")
            self.train, self.test = self.train.subset(np.setdiff1d(np.arange(n), held)), self.train.subset(np.sort(held))
        if self.test is not None and self.test.inputs.shape[1:] != self.train.inputs.shape[1:] or \
                self.test is not None and self.test.targets.shape[1:] != self.train.targets.shape[1:]:
            raise r.fail("data.test", f"test patterns have {self.test.inputs.shape[1]} inputs and "
                         f"{self.test.targets.shape[1]} targets, training patterns {self.train.inputs.shape[1]} "
                         f"and {self.train.targets.shape[1]}")
        self._scale_data(r)
        if self.mode == "minibatch" and self.batch_size > len(self.train):
            raise r.fail("training.batch_size", f"is {self.batch_size} but there are only {len(self.train)} "
                         "training patterns")
        for e in self.expectations:
            try:
                registry.measure(e.quantity)
            except NeurosimError as exc:
                raise r.fail(f"expect[{e.index}].quantity", str(exc)) from None
            for key in e.options:
                if not _accepts(registry, e.quantity, key):
                    owners = [m for m in registry.names("measure") if m != e.quantity and
                              _accepts(registry, m, key)]
                    if owners:
                        raise r.fail(f"expect[{e.index}].{key}", f"only applies to quantity = "
                                     f"{' or '.join(map(repr, owners))}, not {e.quantity!r}")
                    known = SCHEMA["expect"] | set(_options_of(registry, e.quantity))
                    raise r.fail(f"expect[{e.index}].{key}", f"unknown key for quantity = {e.quantity!r}; "
                                 f"{did_you_mean(key, known, 'valid keys here')}")
            try:
                registry.with_options("measure", e.quantity, e.options)
            except NeurosimError as exc:
                raise r.fail(f"expect[{e.index}]", str(exc)) from None
            if e.value is None and e.below is None and e.above is None:
                raise r.fail(f"expect[{e.index}]", "gives no bound; add value (with tolerance), below or above")
        return self

    def _scale_data(self, r: _Reader) -> None:
        """Keep the data as read in ``raw_train``/``raw_test``; with ``data.scale``, fit the
        scaling on the training set and scale both sets with it."""
        self.raw_train, self.raw_test, self.scaling = self.train, self.test, None
        if self.scale is None:
            return
        try:
            self.scaling = Scaling.fit(self.train.inputs, self.train.targets, **self.scale)
        except NeurosimError as exc:
            raise r.fail("data.scale", str(exc)) from None
        for name in ("train", "test"):
            patterns = getattr(self, name)
            if patterns is None:
                continue
            scaled = self.scaling.apply(patterns)
            for side in ("inputs", "targets"):
                bad = np.argwhere(~np.isfinite(getattr(scaled, side)))
                if len(bad):
                    row, column = bad[0]
                    which = "training" if name == "train" else "test"
                    raise r.fail("data.scale", f"scaling the {which} {side} overflows at pattern {row}, column "
                                 f"{column}: the values are too far apart for float64 once divided by the training "
                                 "spread; scale the data down first")
            setattr(self, name, scaled)

    def build_network(self) -> Network:
        """Build the scenario's network (weights not given are drawn from ``seed``)."""
        if self.registry is None:
            self.resolve()
        return build_network(self)

    def check(self, registry: Registry | None = None) -> Network:
        """Validate everything short of training: plugins, data, network, expectations.

        Runs every step :func:`run_scenario` takes before its first epoch (building the
        network, the untrained error, the optimiser, the memory the run will need), so
        whatever ``run`` would refuse before training, ``check`` refuses too. Each
        expectation is measured once on the untrained network, so a missing edge or
        neuron is reported now rather than after training (``neurosim check``).

        Parameters
        ----------
        registry : Registry, optional
            As for :meth:`resolve`.

        Returns
        -------
        Network
            The untrained network.

        Raises
        ------
        ScenarioError
            The first problem, naming the file and key.
        """
        self._prepared = _prepare(self.resolve(registry))     # run_scenario(self) trains from here
        return self._prepared.network

    def random_draws(self, net: Network) -> list[str]:
        """What this scenario draws from its seed, given its built network.

        Parameters
        ----------
        net : Network
            The network :meth:`build_network` made.

        Returns
        -------
        list of str
            Empty when nothing is random (the worked example: every weight given, no
            test split, no shuffling); then the seed plays no part and is not reported.
        """
        drawn = []
        if any(data.get("drawn") for _u, _v, data in net.graph.edges(data=True)):
            drawn.append("the initial weights" + (" of every member" if self.ensemble else ""))
        if "test_fraction" in self.data["data"]:
            drawn.append("the test split")
        if self.shuffle:
            drawn.append("the pattern orders")
        return drawn


def _scheduled(value: float, schedule: list, epoch: int) -> float:
    """The value in force from ``epoch`` on: the last schedule entry starting at or before it."""
    for start, v in schedule:
        if start <= epoch:
            value = v
    return value
