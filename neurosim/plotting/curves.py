"""Learning curves: the training error of every epoch, and the test error and the accuracy
measured along the way (:class:`CurveRecorder`), drawn by :func:`learning_curve`.

The training error of every epoch is the run's history. Test error and accuracy are not
measured while training (that would cost a pass over the test set every epoch); instead a
:class:`CurveRecorder`, given to training as a callback, keeps a copy of the parameters
at up to ``points`` evenly spaced epochs (every epoch until there are more, then every
second, fourth, ...), and :meth:`CurveRecorder.curves` measures each copy afterwards with
the scenario's own measures (``error`` on the test set, ``accuracy`` on both), on a
separate network: training is not touched, and its results are the same bit for bit with
or without the recorder. For an ensemble every member is measured; a member that stopped
keeps its frozen weights, so its values stay where they were, and the picture shows the
median over the members that did not diverge with a band from the 10th to the 90th
percentile, and each member faintly up to the epoch it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..network import Network
from .base import check_member, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["CurveRecorder", "Curves", "curves_of", "learning_curve", "BAND"]

#: The percentiles of an ensemble's band.
BAND = (10.0, 90.0)


class CurveRecorder:
    """A training callback keeping the parameters at up to ``points`` epochs, for curves.

    Give it to a scenario run (``run_scenario(..., callbacks=[recorder])``); afterwards
    :meth:`curves` measures the copies. It only reads: training runs as it would without
    it. (It is a plain callback, so ``Network.train(..., callbacks=[recorder])`` fills
    :attr:`epochs` and :attr:`thetas` too, laid out as ``net.compile().theta``.)

    Parameters
    ----------
    points : int, default 200
        The most epochs kept: every epoch at first; when there would be more, every
        second one, then every fourth, ... (always multiples of the current stride).

    Attributes
    ----------
    epochs : list of int
        The epochs kept, each a multiple of :attr:`stride`.
    thetas : list of ndarray
        The parameters after each of those epochs: ``(P,)``, or ``(K, P)`` for an
        ensemble (row k member k's, as ``EnsembleResult.theta``).
    stride : int
        The spacing of the epochs kept (a power of 2).

    Examples
    --------
    >>> recorder = CurveRecorder()                                               # doctest: +SKIP
    >>> result = neurosim.run_scenario("scenarios/iris_softmax.toml", callbacks=[recorder])   # doctest: +SKIP
    >>> curves = recorder.curves(result)                                         # doctest: +SKIP
    >>> sorted(curves.measured)                                                  # doctest: +SKIP
    ['test_accuracy', 'test_error', 'train_accuracy']
    """

    def __init__(self, points: int = 200):
        if isinstance(points, bool) or not isinstance(points, int) or points < 2:
            raise DataError(f"points must be a whole number >= 2 (the most epochs kept), not {points!r:.40}")
        self.points = points
        self.stride = 1
        self.epochs: list[int] = []
        self.thetas: list[np.ndarray] = []
        self.members: int | None = None
        self._order: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"CurveRecorder({len(self.epochs)} of at most {self.points} epochs kept, every {self.stride})"

    def __call__(self, progress: Any) -> None:
        """Keep ``progress.theta`` when ``progress.epoch`` is a multiple of the stride.

        Parameters
        ----------
        progress : neurosim.Progress
        """
        epoch = int(progress.epoch)
        if epoch % self.stride:
            return
        if progress.members is not None and self._order is None:       # ensemble: member-minor -> (K, P)
            self.members = int(progress.members)
            self._order = np.argsort(progress.member_of, kind="stable")
        theta = np.asarray(progress.theta)
        self.epochs.append(epoch)
        self.thetas.append(theta.copy() if self._order is None else theta[self._order].reshape(self.members, -1))
        if len(self.epochs) > self.points:
            self.stride *= 2
            kept = [k for k, e in enumerate(self.epochs) if e % self.stride == 0]
            self.epochs = [self.epochs[k] for k in kept]
            self.thetas = [self.thetas[k] for k in kept]

    def curves(self, result: Any, member: int | None = None) -> Curves:
        """Measure the kept parameters: the run's curves (see :func:`curves_of`).

        Parameters
        ----------
        result : ScenarioResult
            The run this recorder watched.
        member : int, optional
            For an ensemble: one member's curves only.

        Returns
        -------
        Curves
        """
        return curves_of(result, self, member)


@dataclass
class Curves:
    """A run's learning curves, for :func:`learning_curve`.

    Attributes
    ----------
    name : str
        The run, for the title.
    loss : str
        The training loss (the error's name).
    train_error : ndarray
        ``(E,)``, or ``(E, K)`` for an ensemble: the training error after each epoch, or
        each epoch's running error with a running history (NaN after a member stopped).
    sampled : ndarray
        ``(S,)`` the epochs at which :attr:`measured` was taken.
    measured : dict
        ``"test_error"``, ``"train_accuracy"``, ``"test_accuracy"`` (those that apply) →
        ``(S,)`` or ``(S, K)``.
    stopped : ndarray or None
        ``(K,)`` epochs each ensemble member trained.
    kept : ndarray or None
        ``(K,)`` the members that did not diverge (the others are left out).
    patterns : tuple of int
        ``(training patterns, test patterns)``, 0 when unknown: with a test error, both
        errors are drawn per pattern, so that the two sets compare.
    """

    name: str
    loss: str
    train_error: np.ndarray
    sampled: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    measured: dict = field(default_factory=dict)
    stopped: np.ndarray | None = None
    kept: np.ndarray | None = None
    patterns: tuple = (0, 0)

    @property
    def members(self) -> int | None:
        """K for an ensemble's curves, else None."""
        return None if self.train_error.ndim == 1 else self.train_error.shape[1]


def _positions(net: Network) -> dict[tuple[str, str], int]:
    return {(u.name, v.name): p for (u, v), p in net.compile().edge_pos.items()}


def curves_of(result: Any, recorder: CurveRecorder | None = None, member: int | None = None) -> Curves:
    """The learning curves of a scenario run.

    Parameters
    ----------
    result : ScenarioResult
    recorder : CurveRecorder, optional
        The recorder that watched the run: then the test error (with a test set) and the
        training and test accuracy (for a classification) are measured at its epochs and
        at the last.
    member : int, optional
        For an ensemble: that member's curves alone.

    Returns
    -------
    Curves

    Raises
    ------
    DataError
        A member of a single run or out of range, or a recorder that watched another
        network.
    """
    sc = result.scenario
    ens = result.ensemble
    k = check_member(member, None if ens is None else ens.members, f"the results of {sc.source}")
    if ens is None:
        name, history = sc.name, np.asarray(result.history, float)
    elif k is None:
        name, history = f"{sc.name}, ensemble of {ens.members}", np.asarray(ens.history, float)
    else:
        name, history = f"{sc.name}, ensemble member {k} (seed {sc.seed + k})", ens.history[:ens.epochs[k], k]
    curves = Curves(name, sc.loss, history, patterns=(len(sc.train), len(sc.test) if sc.test is not None else 0))
    if ens is not None and k is None:
        curves.stopped, curves.kept = np.asarray(ens.epochs), ~np.asarray(ens.diverged)
    names = ([("error", "test")] if sc.test is not None else []) + \
        ([("accuracy", "train")] + ([("accuracy", "test")] if sc.test is not None else [])
         if result.task == "classification" else [])
    if recorder is None or not names or (result.network is None and ens is None):
        return curves
    epochs, rows = list(recorder.epochs), list(recorder.thetas)
    last = len(result.history) if ens is None else len(ens.history)
    if ens is None:
        final, positions, members = result.network.compile().theta.copy(), _positions(result.network), [None]
    else:
        final, positions = ens.theta, ens._edge_pos      # its rows' layout: {(src, dst): position}
        members = [j for j in range(ens.members) if not ens.diverged[j]] if k is None else [k]
    if not epochs or epochs[-1] != last:
        epochs.append(last)
        rows.append(final)
    if any(np.shape(r) != np.shape(final) for r in rows):
        raise DataError(f"this CurveRecorder watched another network than the one of {sc.source} (its parameters "
                        "have another shape); give each run a new recorder")
    if not members:                                    # every member diverged
        return curves
    scratch = Network.from_dict(result.network.to_dict(), registry=sc.registry) if ens is None else \
        ens.network(members[0])
    plan = scratch.compile()
    into = np.array([p for p in plan.edge_pos.values()], dtype=np.intp)
    take = np.array([positions[(u.name, v.name)] for (u, v) in plan.edge_pos], dtype=np.intp)
    from ..scenario.measuring import RunState

    state = RunState(scratch, sc.train, sc.test, sc.loss, np.zeros(0), registry=sc.registry,
                     raw_train=sc.raw_train, raw_test=sc.raw_test)
    shape = (len(epochs),) if ens is None or k is not None else (len(epochs), ens.members)
    measured = {f"{which}_{quantity}": np.full(shape, np.nan) for quantity, which in names}
    with np.errstate(all="ignore"):
        for s, row in enumerate(rows):
            for j in members:
                plan.theta[into] = (row if j is None else row[j])[take]     # the compiled plan's weights
                for quantity, which in names:
                    value = sc.registry.measure(quantity)(state, set=which)
                    column = measured[f"{which}_{quantity}"]
                    if column.ndim == 1:
                        column[s] = value
                    else:
                        column[s, j] = value
    curves.sampled, curves.measured = np.asarray(epochs), measured
    return curves


def _filled(values: np.ndarray) -> np.ndarray:
    """Each column's NaN after its last finite value replaced by that value (a stopped
    member keeps its frozen weights, and so its error)."""
    finite = np.isfinite(values)
    index = np.where(finite, np.arange(len(values))[:, None], 0)
    np.maximum.accumulate(index, axis=0, out=index)
    return np.take_along_axis(values, index, axis=0)


def _draw(ax: Any, x: np.ndarray, y: np.ndarray, colour: str, label: str, stopped: np.ndarray | None,
          kept: np.ndarray | None, final: int) -> None:
    """One series: a line, or an ensemble's faint members, median and band."""
    if y.ndim == 1:
        ax.plot(x, y, color=colour, lw=1.6, label=label)
        return
    kept = np.ones(y.shape[1], bool) if kept is None else kept
    if not kept.any():
        return
    y = y[:, kept]
    ends = (np.full(y.shape[1], final) if stopped is None else stopped[kept])
    for j in range(y.shape[1]):
        mine = x <= ends[j]
        ax.plot(x[mine], y[mine, j], color=colour, lw=0.6, alpha=0.15, zorder=1)
    filled = _filled(y)
    low, high = np.nanpercentile(filled, BAND, axis=1)
    ax.fill_between(x, low, high, color=colour, alpha=0.25, lw=0, zorder=2,
                    label=f"{label}: {BAND[0]:g}–{BAND[1]:g}% of members")
    ax.plot(x, np.nanmedian(filled, axis=1), color=colour, lw=1.8, zorder=3, label=f"{label}: median")


def learning_curve(source: Any, recorder: CurveRecorder | None = None, member: int | None = None, *,
                   log: bool | None = None) -> Figure:
    """Draw a run's learning curves: error per epoch and, for a classification, accuracy.

    The top panel shows the training error after every epoch (and the test error at the
    recorder's epochs, when there is a test set: then both are divided by their number
    of patterns, so the two compare); the bottom panel, for a
    classification, the training and test accuracy. An ensemble's curves are drawn as
    the median over the members that did not diverge, a band from the 10th to the 90th
    percentile (:data:`BAND`), and every member as a faint line up to the epoch it
    stopped; a member that stopped early counts with the values of its frozen weights.

    Parameters
    ----------
    source : ScenarioResult, Results, Curves or array_like
        A run (from :func:`neurosim.run_scenario`), a finished run's folder
        (:func:`~neurosim.plotting.read_results`: its training error only), curves made
        by :func:`curves_of`, or a history: ``(epochs,)`` or ``(epochs, K)``.
    recorder : CurveRecorder, optional
        With a ScenarioResult: the recorder that watched it (test error and accuracy).
    member : int, optional
        For an ensemble: that member's curves alone.
    log : bool, optional
        A logarithmic error axis; by default when every error is positive and they span
        more than a factor of 30.

    Returns
    -------
    matplotlib.figure.Figure
        800 × 450 pixels at 100 dpi, or 800 × 650 with the accuracy panel.

    Raises
    ------
    DataError
        An empty or non-numeric history, a member of a single run, or a member of a
        folder's ensemble other than 0 (the folder keeps only member 0's curve).
    """
    curves = _curves(source, recorder, member)
    if curves.train_error.size == 0:
        raise DataError(f"{curves.name}: no epoch was trained, so there is no learning curve to draw")
    accuracy = {name: v for name, v in curves.measured.items() if name.endswith("accuracy")}
    fig = new_figure(8.0, 6.5 if accuracy else 4.5)
    axes = fig.subplots(2 if accuracy else 1, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [3, 2]} if accuracy else None)[:, 0]
    E = len(curves.train_error)
    x = np.arange(1, E + 1)
    train, test = curves.train_error, curves.measured.get("test_error")
    per = test is not None and all(curves.patterns)          # two sets of different sizes: per pattern
    if per:
        train, test = train / curves.patterns[0], test / curves.patterns[1]
    _draw(axes[0], x, train, "C0", "training error", curves.stopped, curves.kept, E)
    if test is not None:
        _draw(axes[0], curves.sampled, test, "C1", "test error", curves.stopped, curves.kept, E)
    values = np.concatenate([np.ravel(train)] + ([np.ravel(test)] if test is not None else []))
    values = values[np.isfinite(values)]
    if log is None:
        log = bool(len(values)) and values.min() > 0 and values.max() > 30 * values.min()
    if log:
        axes[0].set_yscale("log")
    axes[0].set_ylabel(f"error per pattern ({curves.loss})" if per else f"total error ({curves.loss})")
    axes[0].grid(True, alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="upper right", fontsize=8)
    if accuracy:
        for (name, v), colour in zip(sorted(accuracy.items(), reverse=True), ("C0", "C1")):
            _draw(axes[1], curves.sampled, v, colour, name.replace("_", " "), curves.stopped, curves.kept, E)
        axes[1].set_ylabel("accuracy")
        axes[1].set_ylim(-0.03, 1.03)
        axes[1].grid(True, alpha=0.3)
        if axes[1].get_legend_handles_labels()[0]:
            axes[1].legend(loc="lower right", fontsize=8)
    axes[-1].set_xlabel("epoch")
    axes[-1].set_xlim(0.5 if E == 1 else 1, max(E, 2))
    diverged = "" if curves.kept is None or curves.kept.all() else \
        f"; {int((~curves.kept).sum())} diverged, left out"
    fig.suptitle(f"{curves.name}: learning curve{diverged}", fontsize=11)
    return fig


def _curves(source: Any, recorder: CurveRecorder | None, member: int | None) -> Curves:
    """The curves of whatever :func:`learning_curve` was given."""
    from ..scenario import ScenarioResult
    from .files import Results

    if isinstance(source, Curves):
        check_member(member, None, "curves")
        return source
    if isinstance(source, ScenarioResult):
        return curves_of(source, recorder, member)
    if isinstance(source, Results):
        return source.curves(member)
    try:
        history = np.asarray(source, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"a learning curve draws a ScenarioResult, the Results of read_results(folder), Curves or "
                        f"a history array, not {type(source).__name__} {source!r:.60}") from None
    if history.ndim not in (1, 2):
        raise DataError(f"a history is (epochs,) or (epochs, members), not of shape {history.shape}")
    if history.ndim == 2 and member is not None:
        check_member(member, history.shape[1], "the history")
        history = history[:, member]
        history = history[: int(np.isfinite(history).sum())]
    elif member is not None:
        check_member(member, None, "the history")
    return Curves("training", "loss", history)
