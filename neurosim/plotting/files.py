"""Pictures as files: which kinds apply to a run, drawing them, writing them as PNGs, and
reading a finished ``neurosim run --out`` folder back (:func:`read_results`).

The kinds (:data:`KINDS`) and their files (:data:`FILES`, ``KIND.png``):
``learning_curve``, ``hinton`` (layer blocks), ``hinton_neurons`` (one panel per neuron),
``network`` (the DAG), ``decision_regions`` and ``hidden_responses`` (two-input networks).
:func:`choose_kinds` says which apply — by default all that do, and why the others do not;
asked for by name, one that does not apply is refused with the reason — and
:func:`save_figures` draws them and writes every PNG at once, atomically
(:func:`neurosim.io.atomic_write_all`). An ensemble's results have one learning curve for
all members; the pictures of one network need a member (``member=K``).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, NeurosimError, PluginError
from ..io import DATA_FILE_LIMIT, FileError, atomic_write_all, read_text
from ..network import Network
from ..plugins import Registry
from .base import Subject, check_member, subject_of
from .curves import CurveRecorder, Curves, learning_curve
from .graph import MAX_EDGES, MAX_UNITS, network_graph
from .hinton import MAX_PANELS, MAX_SQUARES, hinton, hinton_neurons
from .plane import MAX_HIDDEN, decision_regions, hidden_responses

__all__ = ["KINDS", "FILES", "Results", "read_results", "choose_kinds", "figures", "save_figures", "png_bytes"]

#: Every kind of picture, in the order they are drawn.
KINDS = ("learning_curve", "hinton", "hinton_neurons", "network", "decision_regions", "hidden_responses")
#: The file each kind is written to.
FILES = {kind: f"{kind}.png" for kind in KINDS}
#: The files of a ``neurosim run --out`` folder.
CURVE, NETWORK, SUMMARY = "learning_curve.csv", "network.json", "summary.json"


@dataclass
class Results:
    """A finished run read back from its ``neurosim run --out`` folder.

    Attributes
    ----------
    path : Path
        The folder.
    summary : dict
        ``summary.json``.
    history : ndarray
        ``learning_curve.csv``'s errors, epoch 1 first (member 0's for an ensemble).
    network : Network or None
        ``network.json`` (member 0's for an ensemble; None when that member diverged).
    scenario : Scenario or None
        The scenario ``summary.json`` names, loaded for its patterns, when its file can
        be read (and is the same scenario); else None, and :attr:`note` says why.
    note : str or None
        Why the patterns are not known.
    """

    path: Path
    summary: dict
    history: np.ndarray
    network: Network | None
    scenario: Any = None
    note: str | None = None

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.summary.get("scenario", self.path.name))

    @property
    def members(self) -> int | None:
        """K when the run trained an ensemble, else None."""
        ensemble = (self.summary.get("metrics") or {}).get("ensemble")
        return int(ensemble["members"]) if isinstance(ensemble, dict) and "members" in ensemble else None

    @property
    def task(self) -> str | None:
        """``"classification"`` or ``"regression"``, as the run decided."""
        return (self.summary.get("metrics") or {}).get("task")

    def _member(self, member: int | None) -> None:
        """Check that ``member`` is one the folder keeps (only member 0 of an ensemble)."""
        k = check_member(member, self.members, f"the results in {self.path}")
        if self.members is not None and k is None:
            raise DataError(f"the results in {self.path} are an ensemble's ({self.members} networks), and this "
                            "folder keeps member 0's learning curve and network only: draw them with member=0 "
                            "(--member 0), or draw any member, and every member's learning curve, from the "
                            f"scenario file (neurosim plot {self.summary.get('source', 'FILE.toml')} --member K "
                            "--out DIR)")
        if k:
            raise DataError(f"the results in {self.path} keep ensemble member 0's learning curve and network only, "
                            f"not member {k}'s; draw member {k} from the scenario file: neurosim plot "
                            f"{self.summary.get('source', 'FILE.toml')} --member {k}")

    def subject(self, member: int | None = None) -> Subject:
        """The network a picture of one network draws (see :func:`~neurosim.plotting.base.subject_of`).

        Parameters
        ----------
        member : int, optional
            For an ensemble's folder: 0, the member it keeps (required there).

        Returns
        -------
        Subject
        """
        self._member(member)
        if self.network is None:
            raise DataError(f"{self.path} holds no {NETWORK} (ensemble member 0 diverged), so there is no network "
                            "to draw")
        sc = self.scenario
        name = self.name if self.members is None else f"{self.name}, ensemble member 0 (seed {self.summary.get('seed')})"
        return Subject(self.network, None if sc is None else sc.raw_train, None if sc is None else sc.raw_test,
                       name, self.task)

    def curves(self, member: int | None = None) -> Curves:
        """The learning curve the folder keeps: the training error of each epoch.

        Parameters
        ----------
        member : int, optional
            For an ensemble's folder: 0 (required there).

        Returns
        -------
        Curves
        """
        self._member(member)
        name = self.name if self.members is None else f"{self.name}, ensemble member 0"
        loss = self.scenario.loss if self.scenario is not None else "training loss"
        return Curves(name, loss, self.history)


def _json(path: Path, what: str) -> Any:
    text = read_text(path, limit=DATA_FILE_LIMIT, what=what)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise FileError(os.fspath(path), f"is not valid JSON{where}; is it the {what} a finished neurosim run "
                        "wrote?") from None


def _history(path: Path) -> np.ndarray:
    """``learning_curve.csv``: ``epoch,error`` then one row per epoch, epochs 1, 2, ..."""
    lines = read_text(path, limit=DATA_FILE_LIMIT, what="a learning curve").splitlines()
    if not lines or lines[0].strip() != "epoch,error":
        raise FileError(os.fspath(path), "does not start with the header 'epoch,error'; is it the learning curve "
                        "a finished neurosim run wrote?")
    errors = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            epoch, error = line.split(",")
            epoch, error = int(epoch), float(error)
        except ValueError:
            raise FileError(os.fspath(path), f"line {n} is {line[:40]!r}, not 'epoch,error' with a whole number "
                            "and a number") from None
        if epoch != n - 1:
            raise FileError(os.fspath(path), f"line {n} is epoch {epoch}, where epoch {n - 1} should be; the file "
                            "is damaged or edited")
        errors.append(error)
    return np.asarray(errors, dtype=float)


def read_results(folder: str | os.PathLike, *, registry: Registry | None = None, plugins: bool = True) -> Results:
    """Read a finished ``neurosim run --out`` folder for its pictures.

    Reads ``summary.json``, ``learning_curve.csv`` and ``network.json`` (through
    :meth:`Network.from_dict`), and loads the scenario ``summary.json`` names (relative
    to the current folder, as the run was given it, with the run's seed) for its
    patterns; when that file is missing, another scenario, or invalid, the pictures
    are drawn without patterns and :attr:`Results.note` says why.

    Parameters
    ----------
    folder : str or path
    registry : Registry, optional
        Plugins for the network's activations (default: the scenario's, else the
        installed ones).
    plugins : bool, default True
        False: do not load a scenario that names plugins (their code would run); its
        patterns are then not shown.

    Returns
    -------
    Results

    Raises
    ------
    FileError
        The folder or one of its files is missing, unreadable, or not what a run writes
        (the message names the file); PluginError when the network needs an activation
        no plugin provides.
    """
    path = Path(folder)
    if not path.is_dir():
        raise FileError(os.fspath(path), "is not a folder; give the folder neurosim run --out DIR wrote (with "
                        f"{CURVE}, {NETWORK} and {SUMMARY}), or a .toml scenario file")
    summary = _json(path / SUMMARY, "summary of a run")
    if not isinstance(summary, dict) or "metrics" not in summary:
        raise FileError(os.fspath(path / SUMMARY), "is not the summary of a neurosim run (it has no 'metrics')")
    history = _history(path / CURVE)
    scenario, note = _scenario(summary, plugins)
    if scenario is not None and registry is None:
        registry = scenario.registry
    network = None
    if (path / NETWORK).exists() or (summary.get("metrics") or {}).get("train_error") is not None:
        data = _json(path / NETWORK, "network of a run")
        try:
            network = Network.from_dict(data, **({"registry": registry} if registry is not None else {}))
        except PluginError as exc:
            raise PluginError(f"{path / NETWORK}: {exc}; load the plugin that provides it (neurosim plot --plugin "
                              "MODULE)") from None
        except NeurosimError as exc:
            raise FileError(os.fspath(path / NETWORK), str(exc)) from None
    return Results(path, summary, history, network, scenario, note)


def _scenario(summary: dict, plugins: bool) -> tuple[Any, str | None]:
    """The run's scenario, for its patterns, or None and why not."""
    from ..scenario import load_scenario

    source = summary.get("source")
    if not isinstance(source, str) or not Path(source).is_file():
        return None, f"the scenario file {source!r} is not found from here, so the patterns are not shown"
    try:
        seed = summary.get("seed")
        sc = load_scenario(source, {"scenario.seed": seed} if isinstance(seed, int) else None)
        if sc.name != summary.get("scenario"):
            return None, (f"{source} is now the scenario {sc.name!r}, not {summary.get('scenario')!r}, so the "
                          "patterns are not shown")
        if sc.plugins and not plugins:
            return None, f"{source} names plugins, which --no-plugins does not load, so the patterns are not shown"
        return sc.resolve(), None
    except NeurosimError as exc:
        return None, f"the patterns are not shown: {exc}"


def _applies(kind: str, subject: Any, member: int | None) -> str | None:
    """Why ``kind`` does not apply to ``subject`` (None when it does)."""
    from ..scenario import ScenarioResult

    if kind == "learning_curve":
        if isinstance(subject, Network):
            return "a bare network has no learning curve"
        if isinstance(subject, Results):
            try:
                subject._member(member)
            except DataError as exc:
                return str(exc)
        if isinstance(subject, ScenarioResult):
            check_member(member, None if subject.ensemble is None else subject.ensemble.members,
                         f"the results of {subject.scenario.source}")
        return None
    try:
        one = subject_of(subject, member)
    except DataError as exc:
        return str(exc)
    net = one.network
    if kind == "hinton" and net.n_weights > MAX_SQUARES:
        return f"it has {net.n_weights} weights, more than the {MAX_SQUARES} a Hinton diagram draws"
    if kind == "hinton_neurons":
        hidden = [u for u in net.neurons if not u.output] or net.outputs
        if len(hidden) > MAX_PANELS:
            return f"it has {len(hidden)} hidden neurons, more than the {MAX_PANELS} panels it draws"
    if kind == "network" and (len(net) > MAX_UNITS or net.n_weights > MAX_EDGES):
        return f"it has {len(net)} units and {net.n_weights} connections, more than the {MAX_UNITS} and " \
               f"{MAX_EDGES} drawn"
    if kind in ("decision_regions", "hidden_responses"):
        if len(net.inputs) != 2:
            return f"the network has {len(net.inputs)} inputs, not 2"
        if kind == "decision_regions" and one.task == "regression":
            return "the run is a regression, not a classification"
        hidden = [u for u in net.neurons if not u.output]
        if kind == "hidden_responses" and not hidden:
            return "the network has no hidden neurons"
        if kind == "hidden_responses" and len(hidden) > MAX_HIDDEN:
            return f"it has {len(hidden)} hidden neurons, more than the {MAX_HIDDEN} drawn"
    return None


def choose_kinds(subject: Any, kinds: Sequence[str] | None = None, member: int | None = None
                 ) -> tuple[list[str], dict[str, str]]:
    """The kinds of picture to draw of ``subject``, and why the others are not drawn.

    Parameters
    ----------
    subject : ScenarioResult, Results or Network
    kinds : sequence of str, optional
        Kinds asked for (:data:`KINDS`); default every kind that applies.
    member : int, optional
        The ensemble member for the pictures of one network.

    Returns
    -------
    (list of str, dict)
        The kinds, in :data:`KINDS` order, and ``{kind: reason}`` for the kinds left out.

    Raises
    ------
    DataError
        An unknown kind; a kind asked for that does not apply (the message says why: an
        ensemble without a member, a network without 2 inputs, ...); or, by default,
        when no kind applies.
    """
    if kinds is not None:
        if isinstance(kinds, str):
            kinds = [kinds]
        for kind in kinds:
            if kind not in KINDS:
                from ..errors import did_you_mean

                raise DataError(f"unknown kind of picture {kind!r:.40}; {did_you_mean(str(kind), KINDS, 'kinds')}")
        chosen = [k for k in KINDS if k in kinds]
        for kind in chosen:
            why = _applies(kind, subject, member)
            if why is not None:
                raise DataError(f"cannot draw {kind}: {why}")
        return chosen, {}
    reasons = {kind: _applies(kind, subject, member) for kind in KINDS}
    chosen = [k for k, why in reasons.items() if why is None]
    skipped = {k: why for k, why in reasons.items() if why is not None}
    if not chosen:
        first = next(iter(dict.fromkeys(skipped.values())))
        raise DataError(f"no picture applies: {first}")
    return chosen, skipped


#: The function that draws each kind: ``draw(subject, member, recorder)``.
_DRAW = {
    "learning_curve": lambda s, m, r: learning_curve(s, r, m),
    "hinton": lambda s, m, r: hinton(s, m),
    "hinton_neurons": lambda s, m, r: hinton_neurons(s, m),
    "network": lambda s, m, r: network_graph(s, m),
    "decision_regions": lambda s, m, r: decision_regions(s, m),
    "hidden_responses": lambda s, m, r: hidden_responses(s, m),
}


def figures(subject: Any, kinds: Sequence[str] | None = None, member: int | None = None,
            recorder: CurveRecorder | None = None) -> dict[str, Any]:
    """Draw the pictures of ``subject``: ``{kind: matplotlib Figure}``.

    Parameters
    ----------
    subject : ScenarioResult, Results or Network
    kinds : sequence of str, optional
        As for :func:`choose_kinds` (default: every kind that applies).
    member : int, optional
        The ensemble member for the pictures of one network.
    recorder : CurveRecorder, optional
        The recorder that watched a ScenarioResult's run (test error and accuracy in its
        learning curve).

    Returns
    -------
    dict
        Kind → figure, in :data:`KINDS` order.
    """
    chosen, _skipped = choose_kinds(subject, kinds, member)
    return {kind: _DRAW[kind](subject, member, recorder) for kind in chosen}


def png_bytes(figure: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (rendered by Agg), ``dpi`` dots per inch.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    dpi : int, default 100

    Returns
    -------
    bytes
        A PNG of ``round(width · dpi)`` × ``round(height · dpi)`` pixels.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def save_figures(subject: Any, out_dir: str | os.PathLike, kinds: Sequence[str] | None = None,
                 member: int | None = None, recorder: CurveRecorder | None = None, dpi: int = 100) -> dict[str, Path]:
    """Draw the pictures of ``subject`` and write them into ``out_dir`` as ``KIND.png``.

    Every picture is drawn first, then all are written at once
    (:func:`neurosim.io.atomic_write_all`): an error or an interruption leaves none
    half-written.

    Parameters
    ----------
    subject : ScenarioResult, Results or Network
    out_dir : str or path
        The folder (created if missing).
    kinds, member, recorder
        As for :func:`figures`.
    dpi : int, default 100
        Dots per inch: a figure of 8 × 4.5 inches is 800 × 450 pixels at 100.

    Returns
    -------
    dict
        Kind → the path written (:data:`FILES`).

    Raises
    ------
    DataError
        As :func:`choose_kinds`, or a folder that cannot be made.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 600:
        raise DataError(f"dpi must be a whole number of dots per inch from 10 to 600, not {dpi!r:.40}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot use {out} as the pictures' folder ({exc.strerror}); give a folder that can be "
                        "created") from None
    drawn = figures(subject, kinds, member, recorder)
    files = {out / FILES[kind]: png_bytes(fig, dpi) for kind, fig in drawn.items()}
    paths = atomic_write_all(files)
    return dict(zip(drawn, paths))
