"""What a scenario is once read: :class:`Scenario`, the validated settings of one experiment.

:meth:`Scenario.resolve` loads its plugins and data (:mod:`.data`),
:meth:`Scenario.build_network` builds its network (:mod:`.build`) and :meth:`Scenario.check`
takes every step a run takes before training (:mod:`.prepare`); reading a file into a
Scenario lives in :mod:`.load`, running one in :mod:`.run`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    optimizer : str
        ``training.optimizer``'s name (``"sgd"`` by default); ``optimizer_options`` its
        options (for sgd, ``training.learning_rate``, ``momentum`` and ``weight_decay``
        among them).
    stop : StopCriterion or None
        ``[training.stop]``, after :meth:`resolve` (its criteria are plugins).
    backend : str
        ``training.backend``: where a single network trains (``"numpy"`` by default;
        see :mod:`neurosim.codegen`).
    train, test, validation : Patterns
        The data as the network is trained and measured on it, after :meth:`resolve`:
        with ``data.scale``, scaled by :attr:`scaling` (fitted on the training set);
        else as read. ``test`` and ``validation`` are None when the scenario has none.
    raw_train, raw_test, raw_validation : Patterns
        The data as read, in its original units (the same objects as ``train``,
        ``test`` and ``validation`` when nothing is scaled).
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
    stop_spec: dict | None
    ensemble: int | None
    expectations: list[Expectation]
    shuffle: bool = False
    backend: str = "numpy"
    history: str = "exact"
    optimizer: str = "sgd"
    optimizer_options: dict = field(default_factory=dict)
    registry: Registry | None = None
    train: Patterns | None = None
    test: Patterns | None = None
    validation: Patterns | None = None
    stop: training.StopCriterion | None = None
    scale: dict | None = None
    scaling: Scaling | None = None
    raw_train: Patterns | None = None
    raw_test: Patterns | None = None
    raw_validation: Patterns | None = None

    def momentum_at(self, epoch: int) -> float | None:
        """The momentum in force from ``epoch`` on (``momentum_schedule``, else ``momentum``)."""
        return _scheduled(self.momentum, self.momentum_schedule, epoch)

    def learning_rate_at(self, epoch: int) -> float | None:
        """The learning rate in force from ``epoch`` on (``learning_rate_schedule``, else ``learning_rate``)."""
        return _scheduled(self.learning_rate, self.learning_rate_schedule, epoch)

    def schedule(self, optimizer):
        """The ``schedule(epoch)`` function training calls for ``optimizer``, or None
        without ``learning_rate_schedule`` and ``momentum_schedule``.

        Before a schedule's first epoch the value is the rule's own (what it was made
        with), so make the function from a rule that has not yet been changed.

        Parameters
        ----------
        optimizer : neurosim.Optimizer
            The run's rule (with ``learning_rate`` / ``momentum`` where they are
            scheduled: :meth:`make_optimizer` checks it).

        Returns
        -------
        callable or None
            ``schedule(epoch)``, ``epoch`` the 0-based index of the epoch about to run.
        """
        plans = [(key, getattr(optimizer, key), schedule) for key, schedule in
                 (("learning_rate", self.learning_rate_schedule), ("momentum", self.momentum_schedule)) if schedule]
        if not plans:
            return None

        def apply(epoch: int) -> None:
            for key, base, schedule in plans:
                setattr(optimizer, key, _scheduled(base, schedule, epoch))
        return apply

    def make_optimizer(self):
        """A fresh optimisation rule of ``training.optimizer`` with its options.

        Returns
        -------
        neurosim.Optimizer

        Raises
        ------
        ScenarioError
            Naming the option at fault (``training.optimizer.delta0``), the optimiser
            (an unknown name, with the closest), or ``training.mode`` for a batch-only
            rule in another mode.
        """
        r = _Reader(self.source)
        table = isinstance(self.data.get("training", {}).get("optimizer"), Mapping)
        where = "training.optimizer.name" if table else "training.optimizer"
        try:
            self.registry.get("optimizer", self.optimizer)
        except NeurosimError as exc:
            raise r.fail(where, str(exc)) from None
        try:
            rule = training.make_optimizer(self.registry, self.optimizer, self.optimizer_options, "batch")
        except NeurosimError as exc:
            text = str(exc)
            found = {k: m.start() for k in self.optimizer_options
                     if (m := re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", text))}
            key = min(found, key=found.get) if found else None      # the option the message is about comes first
            if key is not None and self.optimizer == "sgd" and key in self.data.get("training", {}) and \
                    not (table and key in self.data["training"]["optimizer"]):
                raise r.fail(f"training.{key}", text) from None
            raise r.fail(f"training.optimizer.{key}" if key else "training.optimizer", text) from None
        if getattr(rule, "batch_only", False) and self.mode != "batch":
            given = "mode" in self.data.get("training", {})
            raise r.fail("training.mode", f"is {self.mode!r}{'' if given else ' (the default)'}, but the {rule.name} optimiser trains in batch mode "
                         "only (mode = 'batch'): it steps by the sign or the change of the whole epoch's gradient, "
                         "which per-pattern or per-minibatch gradients do not give (they flip from one update to "
                         "the next)")
        for key, what in (("learning_rate_schedule", "learning_rate"), ("momentum_schedule", "momentum")):
            if getattr(self, key) and not hasattr(rule, what):
                raise r.fail(f"training.{key}", f"sets {what}, which the {rule.name} optimiser does not have")
        return rule

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
        if "validation" in d:
            self.validation = _load_patterns(r, r.keys(d["validation"], "data.validation", "data.validation"),
                                             "data.validation", self.base_dir, registry)
        elif "validation_fraction" in d:       # from what the test split left, by a stream of its own
            n = len(self.train)
            k = int(round(d["validation_fraction"] * n))
            if not 0 < k < n:
                raise r.fail("data.validation_fraction", f"leaves {k} of {n} training patterns for validation; "
                             "choose a fraction that keeps at least one pattern in each set")
            rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(4)[3])
            held = np.sort(rng.permutation(n)[:k])
            self.train, self.validation = (self.train.subset(np.setdiff1d(np.arange(n), held)),
                                           self.train.subset(held))
        for other, key, what in ((self.test, "data.test", "test"), (self.validation, "data.validation",
                                                                      "validation")):
            if other is not None and (other.inputs.shape[1:] != self.train.inputs.shape[1:] or
                                      other.targets.shape[1:] != self.train.targets.shape[1:]):
                raise r.fail(key, f"{what} patterns have {other.inputs.shape[1]} inputs and "
                             f"{other.targets.shape[1]} targets, training patterns {self.train.inputs.shape[1]} "
                             f"and {self.train.targets.shape[1]}")
        self._scale_data(r)
        self.stop = self._stop_criterion(r, registry)
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

    def _stop_criterion(self, r: _Reader, registry: Registry) -> training.StopCriterion | None:
        """``[training.stop]`` made from the registry's criteria, each error naming its key."""
        if self.stop_spec is None:
            return None
        rules = []
        for key, options in self.stop_spec.items():
            where = f"training.stop.{key}"
            try:
                registry.get("stop criterion", key)
                rule = training.make_rule(registry, key, options)
            except NeurosimError as exc:
                raise r.fail(where, str(exc).removeprefix(f"{key} ")) from None
            if rule is None:                         # key = false: switched off
                continue
            if rule.needs_validation and self.validation is None:
                raise r.fail(where, "watches the error on a validation set, and the scenario has none; add "
                             "data.validation_fraction = 0.2 (say) or a [data.validation] table")
            rules.append(rule)
        return training.StopCriterion.from_rules(rules) if rules else None
    def _scale_data(self, r: _Reader) -> None:
        """Keep the data as read in ``raw_train``/``raw_test``/``raw_validation``; with
        ``data.scale``, fit the scaling on the training set and scale every set with it."""
        self.raw_train, self.raw_test, self.raw_validation = self.train, self.test, self.validation
        self.scaling = None
        if self.scale is None:
            return
        try:
            self.scaling = Scaling.fit(self.train.inputs, self.train.targets, **self.scale)
        except NeurosimError as exc:
            raise r.fail("data.scale", str(exc)) from None
        for name in ("train", "test", "validation"):
            patterns = getattr(self, name)
            if patterns is None:
                continue
            scaled = self.scaling.apply(patterns)
            for side in ("inputs", "targets"):
                bad = np.argwhere(~np.isfinite(getattr(scaled, side)))
                if len(bad):
                    row, column = bad[0]
                    which = "training" if name == "train" else name
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
        if "validation_fraction" in self.data["data"]:
            drawn.append("the validation split")
        if self.shuffle:
            drawn.append("the pattern orders")
        return drawn


def _scheduled(value: float, schedule: list, epoch: int) -> float:
    """The value in force from ``epoch`` on: the last schedule entry starting at or before it."""
    for start, v in schedule:
        if start <= epoch:
            value = v
    return value
