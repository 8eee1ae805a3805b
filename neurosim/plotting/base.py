"""What every picture shares: matplotlib imported lazily (the extra ``plot``), new figures,
and the one network a picture of a single network draws (:func:`subject_of`).

matplotlib is imported only when a picture is drawn, and a missing matplotlib is a
:class:`~neurosim.errors.MissingExtraError` naming ``pip install 'neurosim[plot]'``. Figures
are :class:`matplotlib.figure.Figure` objects made without pyplot, so drawing never opens a
window or changes the user's backend; saved as PNG they are rendered by Agg. A picture of
one network refuses an ensemble's results unless a member is chosen: an ensemble is K
networks, and drawing member 0 as if it were the run would misreport it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import DataError, MissingExtraError
from ..functions import Patterns
from ..network import Network

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["INSTALL", "require_matplotlib", "new_figure", "Subject", "subject_of", "check_member", "ensemble_refusal", "generations", "WHITE",
           "BLACK", "GREY"]

#: The one message a missing matplotlib gets.
INSTALL = "plotting needs matplotlib, which is not installed: pip install 'neurosim[plot]'"

#: Hinton diagrams' colours: positive weights, negative weights, the background.
WHITE, BLACK, GREY = "white", "black", "0.5"


def require_matplotlib(headless: bool = False) -> Any:
    """Import matplotlib, or refuse with the ``pip install`` that adds it.

    Parameters
    ----------
    headless : bool, default False
        Select the Agg backend (no window), unless pyplot has chosen a backend already
        (the command line does this; a Python session keeps its own backend).

    Returns
    -------
    module
        ``matplotlib``.

    Raises
    ------
    MissingExtraError
        When matplotlib cannot be imported: ``plotting needs matplotlib, which is not
        installed: pip install 'neurosim[plot]'``.
    """
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401  (the pieces every picture uses)
        import matplotlib.patches  # noqa: F401
    except ImportError:
        raise MissingExtraError(INSTALL) from None
    if headless and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return matplotlib


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """A new figure of ``width`` × ``height`` inches (at most 40 × 40).

    Parameters
    ----------
    width, height : float
        Inches; at 100 dots per inch (the default of :func:`~neurosim.plotting.save_figures`)
        the PNG is ``100 · width`` × ``100 · height`` pixels.
    layout : str or None, default "constrained"
        matplotlib's layout engine; None when the caller places the axes itself.

    Returns
    -------
    matplotlib.figure.Figure
    """
    mpl = require_matplotlib()
    return mpl.figure.Figure(figsize=(min(float(width), 40.0), min(float(height), 40.0)), dpi=100, layout=layout)


@dataclass
class Subject:
    """The network a picture draws, the patterns to show with it, and its title.

    Attributes
    ----------
    network : Network
    train, test : Patterns or None
        Patterns in their original units (what ``network.predict`` takes), if known.
    name : str
        For titles: the scenario's name, with the ensemble member when it is one.
    task : str or None
        ``"classification"``, ``"regression"``, or None when unknown (a bare network).
    """

    network: Network
    train: Patterns | None = None
    test: Patterns | None = None
    name: str = "network"
    task: str | None = None


def check_member(member: Any, members: int | None, what: str) -> int | None:
    """Check ``member`` against an ensemble of ``members`` (None: not an ensemble).

    Parameters
    ----------
    member : int or None
        The member asked for.
    members : int or None
        K, or None for a single run.
    what : str
        The results, for messages (``"the results of scenarios/xor.toml"``).

    Returns
    -------
    int or None
        The member (0 to K - 1), or None when none was asked for.

    Raises
    ------
    DataError
        A member of a single run, or one outside 0 to K - 1.
    """
    if member is None:
        return None
    if members is None:
        raise DataError(f"{what} are one network's, not an ensemble's; leave out member (--member), which chooses "
                        "one network of an ensemble")
    if isinstance(member, bool) or not isinstance(member, int) or not 0 <= member < members:
        raise DataError(f"member (--member) must be a whole number from 0 to {members - 1} (the ensemble has "
                        f"{members} members), not {member!r:.40}")
    return member


def ensemble_refusal(what: str, members: int, hint: str = "; the learning curve draws them all") -> DataError:
    """The error for a picture of one network asked of an ensemble without a member.

    Parameters
    ----------
    what : str
        The results, for the message.
    members : int
        K.
    hint : str, optional
        What else the results offer (default: the learning curve of all members).

    Returns
    -------
    DataError
    """
    return DataError(f"{what} are an ensemble's: {members} networks, one per seed, and a picture of one network "
                     f"needs one of them: member=K in Python, --member K on the command line (K from 0 to "
                     f"{members - 1}){hint}")


def subject_of(source: Any, member: int | None = None, *, patterns: Patterns | None = None) -> Subject:
    """The one network a picture of a single network draws from ``source``.

    Parameters
    ----------
    source : Network, ScenarioResult or Results
        A network; the results of :func:`neurosim.run_scenario`; or a finished run's folder
        read by :func:`~neurosim.plotting.read_results`.
    member : int, optional
        For an ensemble's results: the member to draw (required: an ensemble is not one
        network).
    patterns : Patterns, optional
        Patterns to show with a bare network (original units).

    Returns
    -------
    Subject

    Raises
    ------
    DataError
        An ensemble's results without ``member``, a member of a single run, a member out
        of range, or results without a network; NumericalError for a member that diverged.
    """
    from ..scenario import ScenarioResult
    from .files import Results

    if isinstance(source, Network):
        check_member(member, None, "a Network's weights")
        return Subject(source, patterns, None, "network", None)
    if isinstance(source, ScenarioResult):
        sc = source.scenario
        what = f"the results of {sc.source}"
        if source.ensemble is None:
            check_member(member, None, what)
            return Subject(source.network, sc.raw_train, sc.raw_test, sc.name, source.task)
        k = check_member(member, source.ensemble.members, what)
        if k is None:
            raise ensemble_refusal(what, source.ensemble.members)
        return Subject(source.ensemble.network(k), sc.raw_train, sc.raw_test,
                       f"{sc.name}, ensemble member {k} (seed {sc.seed + k})", source.task)
    if isinstance(source, Results):
        return source.subject(member)
    raise DataError(f"a picture of a network draws a neurosim Network, the ScenarioResult of run_scenario, or the "
                    f"Results of read_results(folder), not {type(source).__name__} {source!r:.60}")


def generations(G: Any) -> dict[str, int]:
    """Each unit's topological generation, bias units left out of the count.

    Parameters
    ----------
    G : networkx.DiGraph
        :meth:`Network.to_networkx`'s graph (names as nodes, a ``kind`` on each).

    Returns
    -------
    dict
        ``{name: generation}`` from :func:`networkx.topological_generations` of the graph
        without its bias units (inputs are generation 0); a bias unit gets the generation
        before the earliest of the neurons it feeds (0 when it feeds none), so a bias sits
        beside the units its targets read.
    """
    import networkx as nx

    biases = [u for u, kind in G.nodes(data="kind") if kind == "bias"]
    rest = G.subgraph([u for u in G if u not in set(biases)])
    gen = {u: g for g, units in enumerate(nx.topological_generations(rest)) for u in units}
    for b in biases:
        gen[b] = max(0, min((gen[v] for v in G.successors(b)), default=1) - 1)
    return gen
