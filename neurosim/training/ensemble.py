"""Ensembles: K independent copies of one network trained in a single vectorised run.

:func:`train_ensemble` compiles the network's topology into an ensemble plan (a leading
member axis on every weight block and state array), draws each member's initial weights
from its own seed, trains all members together and freezes each one as it meets the
stop criterion. :class:`EnsembleResult` holds per-member histories, epochs, errors and
weights, and the statistics that turn a paper's single-run number into a distribution:
success rate, min/median/max epochs to criterion, final-error quantiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Plan
from ..errors import DataError, NumericalError, PluginError
from ..resources import require_memory
from .loop import Trainer, history_bytes
from .seeds import generators

__all__ = ["EnsembleResult", "train_ensemble", "ensemble_trainer", "ensemble_result"]


@dataclass
class EnsembleResult:
    """What an ensemble run produced, member by member.

    Attributes
    ----------
    seeds : list
        Member ``k``'s seed: its weights drawn by the initialiser are those a fresh
        network built the same way with ``Network(seed=seeds[k])`` draws.
    history : ndarray
        ``(epochs_run, K)`` training error after each epoch; NaN after a member stopped.
    epochs : ndarray
        ``(K,)`` epochs each member trained (to its stop, or all of them).
    converged : ndarray
        ``(K,)`` whether each member met the stop criterion (all False without one).
    final_error : ndarray
        ``(K,)`` training error at each member's last epoch (NaN for a member that
        diverged).
    theta : ndarray
        ``(K, P)`` final parameters, row ``k`` member ``k``'s (:meth:`weights` names them).
    diverged : ndarray
        ``(K,)`` whether each member diverged: its error or a weight stopped being
        finite, and it was frozen there. Diverged members never count as converged and
        are left out of every statistic (:meth:`summary` says how many there were).
    stopping : bool
        Whether training had a stop criterion (without one, no member converges and
        there is no success rate).
    """

    seeds: list
    history: np.ndarray
    epochs: np.ndarray
    converged: np.ndarray
    final_error: np.ndarray
    theta: np.ndarray
    diverged: np.ndarray = None
    stopping: bool = True
    _edge_pos: dict = field(repr=False, default_factory=dict)
    _template: dict = field(repr=False, default_factory=dict)
    _network_kwargs: dict = field(repr=False, default_factory=dict)

    def __post_init__(self):
        if self.diverged is None:
            self.diverged = ~np.isfinite(self.final_error) | ~np.isfinite(self.theta).all(axis=1)

    @property
    def members(self) -> int:
        """Number of members K."""
        return len(self.seeds)

    @property
    def n_diverged(self) -> int:
        """Number of members that diverged."""
        return int(np.count_nonzero(self.diverged))

    def weights(self, k: int) -> dict[tuple[str, str], float]:
        """Member ``k``'s weights as ``{(src_name, dst_name): weight}`` (NaN or inf where
        a diverged member's weights are)."""
        return {edge: float(self.theta[k, pos]) for edge, pos in self._edge_pos.items()}

    def _check_member(self, k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not -self.members <= k < self.members:
            raise DataError(f"member must be a whole number from 0 to {self.members - 1}, not {k!r}")
        k = int(k) % self.members
        if self.diverged[k]:
            raise NumericalError(f"ensemble member {k} diverged (its training error or weights stopped being "
                                 f"finite after {int(self.epochs[k])} epochs); it has no trained network")
        return k

    def network(self, k: int):
        """A new :class:`~neurosim.Network` with member ``k``'s trained weights.

        Parameters
        ----------
        k : int
            The member, 0 to K - 1.

        Raises
        ------
        NumericalError
            When member ``k`` diverged.
        """
        from ..network import Network

        k = self._check_member(k)
        data = dict(self._template)
        w = self.weights(k)
        data["edges"] = [{**e, "weight": w[(e["src"], e["dst"])]} for e in data["edges"]]
        return Network.from_dict(data, **self._network_kwargs)

    def networks(self) -> Iterator[tuple[int, Any]]:
        """Every member's trained network in turn: ``(k, network)``, ``network`` None for
        a member that diverged.

        One network is built and its weights are replaced for each member, so each
        network is valid only until the next is yielded (take :meth:`network` to keep one).
        """
        net = None
        for k in range(self.members):
            if self.diverged[k]:
                yield k, None
                continue
            if net is None:
                net = self.network(k)
            else:
                for (src, dst), w in self.weights(k).items():
                    net.set_weight(src, dst, w)
            yield k, net

    def summary(self) -> dict[str, Any]:
        """Statistics over the members; diverged members are counted, then left out.

        Returns
        -------
        dict
            ``members``; ``diverged`` (how many); ``success_rate`` (fraction of all
            members that met the stop criterion: a diverged member did not; None
            without a stop criterion);
            ``epochs_min``, ``epochs_median``, ``epochs_max`` over the converged members
            (None when none converged); ``error_min``, ``error_median``, ``error_max``
            of the final training error over the members that did not diverge (None
            when every member diverged). Every number is finite.
        """
        done = self.epochs[self.converged]
        errors = self.final_error[~self.diverged]
        stats = {"members": self.members, "diverged": self.n_diverged,
                 "success_rate": float(np.mean(self.converged)) if self.stopping else None}
        for name, fn in (("min", np.min), ("median", np.median), ("max", np.max)):
            stats[f"epochs_{name}"] = float(fn(done)) if len(done) else None
        for name, fn in (("min", np.min), ("median", np.median), ("max", np.max)):
            stats[f"error_{name}"] = float(fn(errors)) if len(errors) else None
        return stats

    def __str__(self) -> str:
        s = self.summary()
        epochs = ("none converged" if s["epochs_median"] is None else
                  f"epochs to criterion min {s['epochs_min']:g}, median {s['epochs_median']:g}, max {s['epochs_max']:g}")
        diverged = f"; {s['diverged']} diverged (left out of the statistics)" if s["diverged"] else ""
        error = ("every member diverged" if s["error_median"] is None else
                 f"final error min {s['error_min']:.4g}, median {s['error_median']:.4g}, max {s['error_max']:.4g}")
        if not self.stopping:
            return f"{s['members']} members{diverged}; {error}"
        return f"{s['members']} members: {100 * s['success_rate']:.1f}% converged{diverged}; {epochs}; {error}"


def train_ensemble(net, X: np.ndarray, T: np.ndarray, loss, *, members: int, seeds: list | None,
                   optimizer, epochs: int, mode: str, batch_size: int | None = None,
                   stop=None, schedule=None, shuffle=None, **more: Any) -> EnsembleResult:
    """Train ``members`` copies of ``net``'s topology at once (see ``Network.train``).

    Parameters
    ----------
    net : neurosim.Network
        The template: its topology, explicit weights, frozen edges and initialiser.
    X, T : ndarray
        Validated training data.
    loss : neurosim.Loss
    members : int
        K, the number of copies.
    seeds : list, optional
        One seed per member (anything ``numpy.random.default_rng`` takes). Default:
        ``net.seed + k``, which needs ``Network(seed=<int>)``.
    optimizer : neurosim.Optimizer
        Hyper-parameters shared by all members (its state is per member).
    epochs, mode, batch_size, stop, schedule, shuffle
        As for :class:`neurosim.training.Trainer` (every member sees the same pattern orders).
    **more
        ``callbacks``, ``hooks``, ``validation``: as for the Trainer.

    Returns
    -------
    EnsembleResult
    """
    trainer = ensemble_trainer(net, X, T, loss, members=members, seeds=seeds, optimizer=optimizer, epochs=epochs,
                               mode=mode, batch_size=batch_size, stop=stop, schedule=schedule, shuffle=shuffle,
                               **more)
    trainer.run()
    return ensemble_result(trainer)


def ensemble_trainer(net, X: np.ndarray, T: np.ndarray, loss, *, members: int, seeds: list | None,
                     optimizer, epochs: int, mode: str, batch_size: int | None = None,
                     stop=None, schedule=None, shuffle=None, **more: Any) -> Trainer:
    """The :class:`Trainer` of an ensemble run, before its first epoch (see :func:`train_ensemble`).

    Parameters
    ----------
    net, X, T, loss, members, seeds, optimizer, epochs, mode, batch_size, stop, schedule, shuffle, **more
        As for :func:`train_ensemble`.

    Returns
    -------
    Trainer
        Over an ensemble plan; :func:`ensemble_result` reads its outcome.
    """
    if not isinstance(members, (int, np.integer)) or isinstance(members, bool) or members < 1:
        raise DataError(f"ensemble must be a whole number of members >= 1, not {members!r}")
    single = net.compile()       # draws the single network's weights, so we know which are drawn
    # before anything of size K is made (the seeds included): the weights, a pass over
    # the data and, when every epoch will run, the learning curve of every member
    require_memory(single.parameter_bytes(members) + single.state_bytes(len(X), members) + 100.0 * members
                   + (history_bytes(epochs, members) if stop is None else 0.0),
                   f"training {members} ensemble members of this network on {len(X)} patterns",
                   "train fewer members at once")
    if seeds is None:
        if net.seed is None:
            raise DataError("an ensemble draws member k's weights from seed + k: build the network with "
                            "Network(seed=<int>), or pass seeds=[...]")
        seeds = [net.seed + k for k in range(members)]
    if not (isinstance(seeds, (list, tuple)) or (isinstance(seeds, np.ndarray) and seeds.ndim == 1)):
        raise DataError(f"seeds must be a list with one seed per ensemble member (ensemble={members}), e.g. "
                        f"seeds=[0, 1, ...], not {type(seeds).__name__} {seeds!r:.60}")
    if len(seeds) != members:
        raise DataError(f"seeds has {len(seeds)} entries for {members} members; give one seed per member")
    for k, seed in enumerate(seeds):
        if not isinstance(seed, np.random.SeedSequence) and (
                isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise DataError(f"seeds[{k}] is {seed!r:.60}, which is not a seed; give whole numbers >= 0 (or numpy "
                            "SeedSequences), one per ensemble member")
    try:
        loss.check_contract(members=True)
    except Exception as exc:
        raise PluginError(f"loss {loss.name!r} ({net.registry.owner('loss', loss.name)!r}) cannot train an ensemble: "
                          f"{exc}; its value must sum over axis=(-2, -1) only, one total per member") from None
    template = net.to_dict()

    rngs = generators(seeds)         # default_rng(seed)'s streams, hashed for all members at once

    def init_weights(fan_in, fan_out, k):
        return net.initializer(rngs[k], fan_in, fan_out, **net.init_options)

    plan = Plan(net._synced_graph(), net.inputs, net.biases, net.outputs, net.registry, net.dtype, init_weights,
                members=members, redraw=True)
    del single
    trainer = Trainer(plan, X, T, loss, optimizer=optimizer, epochs=epochs, mode=mode, batch_size=batch_size,
                      stop=stop, schedule=schedule, shuffle=shuffle, **more)
    trainer.ensemble = {"seeds": list(seeds), "template": template, "registry": net.registry,
                        "stopping": stop is not None}
    return trainer


def ensemble_result(trainer: Trainer) -> EnsembleResult:
    """What an :func:`ensemble_trainer`'s run produced so far, member by member.

    Parameters
    ----------
    trainer : Trainer
        Made by :func:`ensemble_trainer`, run to its end or part of the way.

    Returns
    -------
    EnsembleResult
    """
    plan, X, T, loss = trainer.plan, trainer.X, trainer.T, trainer.loss
    info = trainer.ensemble
    history = trainer.history.upto(trainer.epoch)
    ran = np.isfinite(history)
    epochs_run = ran.sum(axis=0)
    with np.errstate(all="ignore"):
        plan.forward(X)
        Y = plan.output_values(plan.last)
        final = np.asarray(loss.value(Y, T), dtype=float)
        theta = plan.member_theta()
        blown = trainer.diverged | ~np.isfinite(final) | ~np.isfinite(theta).all(axis=1)
        final[blown] = np.nan                     # diverged members: frozen, never converged
        converged = ~trainer.active & ~blown      # a stop criterion froze them, the last epoch's included
    return EnsembleResult(
        seeds=info["seeds"], history=history, epochs=epochs_run, converged=converged, final_error=final,
        theta=theta, diverged=blown, stopping=info["stopping"],
        _edge_pos={(u.name, v.name): p for (u, v), p in plan.edge_pos.items()},
        _template=info["template"], _network_kwargs={"registry": info["registry"]})
