"""Stop criteria on the host side: :class:`StopCriterion`, several named criteria at once.

A stop criterion is a plugin (:class:`neurosim.StopRule`, registered with
``neurosim_register_stop_criteria``; the built-ins ``error_below``, ``within``,
``bit_fail``, ``max_seconds`` and ``early_stopping`` are in ``plugins/stopping.py``).
:class:`StopCriterion` makes the ones a user names, each with its options — from Python,
``StopCriterion(error_below=0.01, bit_fail={"limit": 0.4})``, and from a scenario's
``[training.stop]`` table, whose keys are the same names — and stops training (or an
ensemble member) as soon as any of them says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError, NeurosimError, PluginError
from ..rules import Progress, StopRule

__all__ = ["StopCriterion", "make_stop", "make_rule"]


class StopCriterion:
    """Stop training when any of the named criteria says so.

    Parameters
    ----------
    registry : neurosim.Registry, optional
        Where the criteria are looked up (default: the installed plugins).
    **criteria
        ``name=options``: each a registered stop criterion with its options, a mapping of
        keyword options, or one number for a criterion with one option (its value):
        ``error_below=0.01`` (the total training error is below 0.01), ``within=0.4``
        (every output of every pattern within 0.4 of its target), ``bit_fail={"limit":
        0.4, "count": 0}`` (FANN's: at most ``count`` outputs farther than ``limit``),
        ``max_seconds=60``, ``early_stopping={"patience": 20}`` (needs a validation set).

    Attributes
    ----------
    rules : list of StopRule
        The criteria, in the order given.

    Examples
    --------
    >>> stop = StopCriterion(error_below=0.01, within=0.4)
    >>> [rule.name for rule in stop.rules]
    ['error_below', 'within']
    """

    def __init__(self, *, registry=None, **criteria: Any):
        if registry is None:
            from ..plugins import default_registry

            registry = default_registry()
        self.rules: list[StopRule] = []
        for name, options in criteria.items():
            rule = make_rule(registry, name, options)
            if rule is not None:
                self.rules.append(rule)

    @classmethod
    def from_rules(cls, rules: list[StopRule]) -> StopCriterion:
        """A criterion combining stop rules made already.

        Parameters
        ----------
        rules : list of StopRule

        Returns
        -------
        StopCriterion
        """
        for k, rule in enumerate(rules):
            if not isinstance(rule, StopRule):
                raise DataError(f"rules[{k}] is not a neurosim.StopRule: {rule!r:.60}")
        combined = cls.__new__(cls)
        combined.rules = list(rules)
        return combined

    @property
    def error_below(self) -> float | None:
        """The ``error_below`` criterion's bound, if it is one of the criteria."""
        return self._option("error_below")

    @property
    def within(self) -> float | None:
        """The ``within`` criterion's distance, if it is one of the criteria."""
        return self._option("within")

    def _option(self, name: str) -> float | None:
        rule = next((r for r in self.rules if r.name == name), None)
        return None if rule is None else rule.value

    def __call__(self, error: Any, Y: np.ndarray, T: np.ndarray, **progress: Any) -> Any:
        """Whether to stop, given the training error and outputs ``Y`` for targets ``T``.

        Parameters
        ----------
        error : float or ndarray
            Total training error at the current weights (``(K,)`` for an ensemble).
        Y, T : ndarray
            Outputs ``([K,] n_patterns, n_outputs)`` and targets ``(n_patterns, n_outputs)``.
        **progress
            Further :class:`~neurosim.Progress` fields (``epoch``, ``seconds``,
            ``validation_error``) for criteria that look at them.

        Returns
        -------
        bool or ndarray of bool
            One flag, or one per ensemble member.
        """
        state = Progress(epoch=progress.pop("epoch", 0), epochs=progress.pop("epochs", 0), error=error, targets=T,
                         seconds=progress.pop("seconds", 0.0), _outputs=lambda: Y, **progress)
        result = np.zeros(np.shape(error), bool)
        for rule in self.rules:
            result |= np.asarray(rule(state), dtype=bool)
        return result if result.ndim else bool(result)

    def __repr__(self) -> str:
        return f"StopCriterion({', '.join(repr(r) for r in self.rules)})"


def make_rule(registry, name: str, options: Any) -> StopRule | None:
    """The stop criterion ``name`` with ``options`` (a mapping, or one value).

    Parameters
    ----------
    registry : neurosim.Registry
    name : str
    options : mapping, number, bool or None
        Keyword options, or the value of a criterion's only required option; ``True``
        for its defaults; ``False`` or None for none (the criterion is off).

    Returns
    -------
    StopRule or None
        None when ``options`` is False or None.

    Raises
    ------
    PluginError
        An unknown criterion (with the closest) or options it does not take.
    DataError
        Option values it refuses.
    """
    if not isinstance(name, str):
        raise PluginError(f"stop criteria are named by strings, not {name!r:.60}")
    registry.get("stop criterion", name)
    if options is None or options is False:
        return None
    if options is True:
        options = {}
    if not isinstance(options, Mapping):
        accepted = registry.options("stop criterion", name)
        known, required = accepted if accepted is not None else ([], [])
        if len(required) != 1:
            wanted = " and ".join(f"{r} = ..." for r in required) or ", ".join(known) or "its options"
            raise DataError(f"stop criterion {name!r} takes a table of options ({wanted}), not one value "
                            f"{options!r:.60}")
        options = {required[0]: options}
    cls = registry.with_options("stop criterion", name, options)
    try:
        return cls(**options)
    except NeurosimError:
        raise
    except (TypeError, ValueError) as exc:
        raise DataError(f"stop criterion {name!r}: {exc}") from None


def make_stop(registry, stop: Any) -> Any:
    """What ``net.train(stop=...)`` was given, as the loop takes it.

    Parameters
    ----------
    registry : neurosim.Registry
    stop : None, StopCriterion, StopRule, mapping or callable
        A mapping ``{name: options}`` is made into a :class:`StopCriterion` from
        ``registry``; anything else is passed on as it is.

    Returns
    -------
    StopCriterion, StopRule, callable or None
    """
    if isinstance(stop, Mapping):
        return StopCriterion(registry=registry, **stop)
    if stop is None or isinstance(stop, (StopCriterion, StopRule)) or callable(stop):
        return stop
    raise DataError(f"stop must be a mapping of stop criteria ({{'error_below': 0.01}}), a StopCriterion, a "
                    f"StopRule or a function stop(error, Y, T) -> bool, not {type(stop).__name__} {stop!r:.60}")
