"""Exceptions raised by neurosim.

Every refusal neurosim makes is an instance of :class:`NeurosimError`, so callers can
catch one class. Subclasses say which layer refused (the graph, the data, the plugins,
a scenario file, the numbers), and every message names the neuron, edge, field or plugin
at fault and what would fix it. :func:`did_you_mean` is the one place that suggests the
closest valid name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "NeurosimError",
    "TopologyError",
    "CycleError",
    "NeuronNotFoundError",
    "DataError",
    "PluginError",
    "ScenarioError",
    "NumericalError",
    "ResourceError",
    "MissingExtraError",
    "closest",
    "did_you_mean",
    "with_article",
]


class NeurosimError(Exception):
    """Base class of every error neurosim raises on purpose."""


class TopologyError(NeurosimError):
    """A network cannot be built or compiled as asked (bad edge, duplicate name, ...)."""


class CycleError(TopologyError):
    """A connection would close a cycle; ``cycle`` lists the neuron names around it.

    Parameters
    ----------
    message : str
        The full message.
    cycle : list of str
        Neuron names along the cycle, first name repeated at the end.
    """

    def __init__(self, message: str, cycle: list[str]):
        super().__init__(message)
        self.cycle = cycle


class NeuronNotFoundError(TopologyError, LookupError):
    """A neuron name or object is not part of the network."""

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError
        return str(self.args[0]) if self.args else ""


class DataError(NeurosimError, ValueError):
    """Input or target arrays have the wrong shape, type or non-finite values."""


class PluginError(NeurosimError):
    """A plugin is missing, clashes with another, or does not keep its contract."""


class ScenarioError(NeurosimError):
    """A scenario file or mapping is invalid; the message starts ``FILE: key.path:``.

    Parameters
    ----------
    source : str
        The scenario file (or ``<mapping>``).
    key : str
        Dotted path of the offending key, e.g. ``training.learning_rate``.
    problem : str
        What is wrong and what would be right.
    """

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class NumericalError(NeurosimError, FloatingPointError):
    """A computation produced NaN or infinity (diverging training, log of zero, ...)."""


class ResourceError(NeurosimError, MemoryError):
    """A network or run would need more memory than the machine has; refused before allocating.

    The message gives the estimate, what is available and what would fix it.
    """


class MissingExtraError(NeurosimError, ImportError):
    """An optional feature needs a package that is not installed; the message names the
    ``pip install`` that adds it (``pip install 'neurosim[plot]'``, ``'neurosim[onnx]'``)."""


_LOOKALIKE = str.maketrans({"l": "1", "o": "0"})


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The most similar choice, or None when nothing is similar enough.

    Case is ignored and look-alike characters (l/1, o/0) count as equal, so ``hl`` and
    ``ol``, typos of the worked example's short names, find ``h1`` and ``o1``; short names
    accept one wrong character (a ratio of 0.5, below difflib's usual 0.6). Ties go to the
    first of the choices in order.

    Parameters
    ----------
    name : str
        What was typed.
    choices : iterable of str
        The valid names.

    Returns
    -------
    str or None

    Examples
    --------
    >>> closest("hl", ["h1", "o1"]), closest("xyz", ["h1", "o1"])
    ('h1', None)
    """
    key = name.lower().translate(_LOOKALIKE)
    cutoff = 0.5 if len(key) <= 3 else 0.6
    best, best_score = None, cutoff
    for choice in choices:
        score = difflib.SequenceMatcher(None, key, choice.lower().translate(_LOOKALIKE)).ratio()
        if score > best_score or (score == best_score and best is None):
            best, best_score = choice, score
    return best


def did_you_mean(name: str, choices: Iterable[str], label: str = "registered") -> str:
    """Return a hint naming the closest valid choice and listing them all.

    Parameters
    ----------
    name : str
        The name that was not found.
    choices : iterable of str
        The valid names.
    label : str, optional
        The word that introduces the list (``"registered"``, ``"neurons"``, ...).

    Returns
    -------
    str
        E.g. ``"did you mean 'sigmoid'? registered: identity, relu, sigmoid"``, or only
        the list when nothing is close.

    Examples
    --------
    >>> did_you_mean("sigmod", ["relu", "sigmoid", "tanh"])
    "did you mean 'sigmoid'? registered: relu, sigmoid, tanh"
    """
    choices = sorted(choices)
    listing = ", ".join(choices) if choices else "(none)"
    close = closest(str(name), choices)
    if close:
        return f"did you mean {close!r}? {label}: {listing}"
    return f"{label}: {listing}"


def with_article(word: str) -> str:
    """``"an input"``, ``"a bias"``: the word with its indefinite article.

    Parameters
    ----------
    word : str

    Returns
    -------
    str
    """
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
