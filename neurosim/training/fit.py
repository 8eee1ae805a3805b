"""``Network.train``'s body: check what the user asked for, make the pieces, run the loop.

:func:`fit` validates every argument (naming it and what would be right), makes the
optimisation rule (:func:`~neurosim.training.optimizers.make_optimizer`), the stop
criteria (:func:`~neurosim.training.stopping.make_stop`) and the validation set, and runs
a :class:`~neurosim.training.loop.Trainer` over the network's compiled plan — or, with
``ensemble=K``, trains K copies at once (:mod:`neurosim.training.ensemble`).
``Network.train`` is a thin front over it and documents the arguments.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DataError
from .loop import MODES, Trainer
from .optimizers import SGD, make_optimizer
from .stopping import make_stop

__all__ = ["fit"]


def fit(net, X: Any, T: Any, loss: str = "mse", *, learning_rate: float | None = None, epochs: int = 1,
        mode: str = "online", momentum: float | None = None, batch_size: int | None = None,
        weight_decay: float | None = None, optimizer: Any = None, optimizer_options: Mapping | None = None,
        stop: Any = None, ensemble: int | None = None, seeds: Sequence | None = None, schedule: Any = None,
        shuffle: Any = False, callbacks: Sequence = (), validation: Any = None):
    """Train ``net`` (see :meth:`neurosim.Network.train`, which documents every argument).

    Parameters
    ----------
    net : neurosim.Network
    X, T, loss, learning_rate, epochs, mode, momentum, batch_size, weight_decay, optimizer,
    optimizer_options, stop, ensemble, seeds, schedule, shuffle, callbacks, validation
        As for ``Network.train``.

    Returns
    -------
    ndarray or EnsembleResult
    """
    given = {name: value for name, value in (("learning_rate", learning_rate), ("momentum", momentum),
                                             ("weight_decay", weight_decay)) if value is not None}
    if optimizer is not None and given:
        ignored = ", ".join(f"{name}={value!r}" for name, value in given.items())
        named = f"the {optimizer!r} optimiser takes its own options (optimizer_options={{...}})" if \
            isinstance(optimizer, str) else f"optimizer {optimizer!r} brings its own hyper-parameters"
        raise DataError(f"{named}, so {ignored} would be ignored; set them there, or leave optimizer out")
    if not isinstance(mode, str) or mode not in MODES:
        raise DataError(f"unknown training mode {mode!r:.60}; use one of {', '.join(MODES)}")
    if seeds is not None and ensemble is None:
        raise DataError("seeds applies to an ensemble (ensemble=K, one seed per member); a single network "
                        "draws its weights from Network(seed=...)")
    if batch_size is not None and mode != "minibatch":
        raise DataError(f"batch_size applies to mode='minibatch' (patterns per update); mode={mode!r} "
                        "updates after every pattern (online) or once per epoch (batch)")
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if value is None and name == "batch_size":
            continue
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            what = "sweeps through the data" if name == "epochs" else "patterns per update in minibatch mode"
            raise DataError(f"{name} ({what}) must be a whole number >= {low}, not {value!r:.60}")
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
        raise DataError(f"callbacks must be a list of functions callback(progress), not {callbacks!r:.60}")
    if optimizer_options is not None and not isinstance(optimizer_options, Mapping):
        raise DataError(f"optimizer_options must be a mapping of the optimiser's options, not "
                        f"{optimizer_options!r:.60}")
    if optimizer_options and optimizer is None:
        raise DataError(f"optimizer_options {dict(optimizer_options)!r:.80} were given with no optimizer, so they "
                        "would be ignored; name the rule they belong to (optimizer='sgd', 'rprop', ...)")
    order_rng = net._shuffle_rng(shuffle, mode)
    plan, Xa, Ta, _single, loss_ = net._prepare(X, T, loss)
    rule = make_optimizer(net.registry, optimizer, optimizer_options, mode) if optimizer is not None else \
        SGD(given.get("learning_rate", 0.1), given.get("momentum", 0.0), given.get("weight_decay", 0.0))
    stopping = make_stop(net.registry, stop)
    held = _validation(net, validation, loss_)
    more = {"callbacks": list(callbacks), "hooks": net.registry.manager.hook, "validation": held}
    if ensemble is not None:
        from .ensemble import train_ensemble

        return train_ensemble(net, Xa, Ta, loss_, members=ensemble, seeds=seeds, optimizer=rule,
                              epochs=int(epochs), mode=mode, batch_size=batch_size, stop=stopping,
                              schedule=schedule, shuffle=order_rng, **more)
    try:
        return Trainer(plan, Xa, Ta, loss_, optimizer=rule, epochs=int(epochs), mode=mode, batch_size=batch_size,
                       stop=stopping, schedule=schedule, shuffle=order_rng, **more).run()
    finally:
        plan.last_single = False
        net._synced = False


def _validation(net, validation: Any, loss) -> tuple | None:
    """``(X_val, T_val)`` checked like training data, or None."""
    if validation is None:
        return None
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise DataError(f"validation must be a pair (X_val, T_val) of inputs and targets, not {validation!r:.60}")
    Xv, _ = net._patterns(validation[0], net._inputs, "validation X")
    Tv, _ = net._patterns(validation[1], net._outputs, "validation T", rows=Xv.shape[0])
    loss.check_targets(Tv)
    return Xv, Tv
