"""Every hook a neurosim plugin can implement, in one module.

A plugin is any module or object with functions marked ``@neurosim.hookimpl`` whose names
are hooks below. Each hook receives a ``register`` callback; the plugin calls it once per
thing it provides, and the host (:class:`neurosim.plugins.Registry`) validates everything
in one place: names are unique across all plugins, and each object keeps its contract.
The built-in activations, losses and initialisers in the top-level ``plugins/`` folder
use these hooks through the very same path as a third party's plugins.

Hooks are grouped by what they provide: building blocks of a network, then what
experiments use, then training (optimisers, stop criteria, and the lifecycle hooks a plugin
implements to watch or stop a run), each kind with the same ``register`` shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "neurosim"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[Any], None]


# --- building blocks of a network -------------------------------------------------------


@hookspec
def neurosim_register_activations(register: Register) -> None:
    """Provide activation functions.

    Call ``register(activation)`` once for each :class:`neurosim.Activation` the plugin
    provides. An elementwise activation must give ``function`` and ``derivative``; a group
    activation (such as softmax, which normalises over several neurons) must give
    ``function`` and ``vjp`` (vector-Jacobian product). Every function takes and returns
    whole numpy blocks of neurons (never one number at a time), in the input's dtype
    (float64, or float32 for a float32 network) and shape. ``neurosim check-plugin``
    compares ``derivative`` and ``vjp`` with finite differences of ``function``.

    Parameters
    ----------
    register : callable
        ``register(activation: neurosim.Activation) -> None``. Raises
        :class:`neurosim.PluginError` when the name is taken or the contract is broken.
    """


@hookspec
def neurosim_register_losses(register: Register) -> None:
    """Provide loss functions.

    Call ``register(loss)`` once for each :class:`neurosim.Loss`. A loss gives its value
    summed over patterns and output units (``axis=(-2, -1)``, so that an ensemble's
    ``(members, batch, outputs)`` block gets one total per member), its gradient with
    respect to the outputs, and optionally fused output deltas for activations it
    simplifies with (e.g. sigmoid with binary cross-entropy: ``delta = y - t``).
    ``neurosim check-plugin`` compares the gradient and each fused delta with finite
    differences of the value.

    Parameters
    ----------
    register : callable
        ``register(loss: neurosim.Loss) -> None``.
    """


@hookspec
def neurosim_register_initializers(register: Register) -> None:
    """Provide weight initialisers.

    Call ``register(initializer)`` once for each :class:`neurosim.Initializer`: a named
    function that draws the weights of many edges at once from a seeded generator.

    Parameters
    ----------
    register : callable
        ``register(initializer: neurosim.Initializer) -> None``.
    """


# --- experiments ------------------------------------------------------------------------


@hookspec
def neurosim_register_datasets(register: Register) -> None:
    """Provide dataset generators for scenario files.

    Call ``register(dataset)`` once for each :class:`neurosim.Dataset`: a named,
    deterministic function returning :class:`neurosim.Patterns`.

    Parameters
    ----------
    register : callable
        ``register(dataset: neurosim.Dataset) -> None``.
    """


@hookspec
def neurosim_register_measures(register: Register) -> None:
    """Provide measures that scenario expectations can bound.

    Call ``register(measure)`` once for each :class:`neurosim.Measure`: a named function
    of a finished run (accuracy, epochs to criterion, a weight-structure predicate).

    Parameters
    ----------
    register : callable
        ``register(measure: neurosim.Measure) -> None``.
    """


# --- training ---------------------------------------------------------------------------


@hookspec
def neurosim_register_optimizers(register: Register) -> None:
    """Provide optimisation rules.

    Call ``register(cls)`` once for each subclass of :class:`neurosim.Optimizer` the
    plugin provides (the class, not an instance: ``net.train(optimizer="name",
    optimizer_options={...})`` and a scenario's ``[training.optimizer]`` make one with
    the user's options, which are its constructor's keyword arguments). The class sets
    ``name`` and implements ``update(theta, grad, mask, error)``; it is tried with its
    defaults on a small vector when registered.

    Parameters
    ----------
    register : callable
        ``register(cls: type[neurosim.Optimizer]) -> None``.
    """


@hookspec
def neurosim_register_stop_criteria(register: Register) -> None:
    """Provide stop criteria.

    Call ``register(cls)`` once for each subclass of :class:`neurosim.StopRule`: it sets
    ``name``, takes its options as constructor keywords, and answers
    ``__call__(progress)`` with a bool (one per member for an ensemble). A scenario's
    ``[training.stop]`` and ``net.train(stop={...})`` name criteria by ``name``.

    Parameters
    ----------
    register : callable
        ``register(cls: type[neurosim.StopRule]) -> None``.
    """


@hookspec
def neurosim_train_start(progress: Any) -> None:
    """Training is about to run its first epoch.

    Called once per call of ``Network.train`` (and per scenario run), with a
    :class:`neurosim.Progress` at epoch 0. Only when some plugin implements one of the
    three training hooks are they called at all.

    Parameters
    ----------
    progress : neurosim.Progress
    """


@hookspec
def neurosim_epoch_end(progress: Any) -> None:
    """An epoch has ended: its error (and validation error) is recorded.

    Called after every epoch with a :class:`neurosim.Progress`; call
    ``progress.request_stop()`` to end training after this epoch.

    Parameters
    ----------
    progress : neurosim.Progress
    """


@hookspec
def neurosim_train_end(progress: Any) -> None:
    """Training has ended (all its epochs, or stopped early).

    Parameters
    ----------
    progress : neurosim.Progress
        At the last epoch run.
    """
