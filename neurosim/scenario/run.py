"""Running a scenario: prepare, train, measure — and save and resume the training.

:func:`run_scenario` loads (or takes) a scenario, prepares everything a run has before its
first epoch (:func:`_prepare`, shared with :meth:`Scenario.check`), trains one network —
pausing at every epoch an expectation is measured after — or an ensemble at once, as one
:class:`~neurosim.training.TrainingRun`, and measures every expectation
(:func:`_measure`: a measure's own ``stat``, or one taken on every ensemble member). With
a checkpoint folder it also pauses every ``checkpoint_every`` epochs to save the training
state there (and saves it when Ctrl-C interrupts training), with the checks measured so
far and the scenario's identity (:func:`scenario_identity`); ``resume`` continues such a
run, refusing a checkpoint of another scenario, and ends with the result an uninterrupted
run would have had, bit for bit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NeurosimError, NumericalError, ScenarioError
from ..io import FileError, folder_lock, sweep_temporaries
from ..plugins import Registry
from ..training import TrainingRun
from ..training.checkpoints import CHECKPOINT_NAME, Checkpoint, load_checkpoint, save_checkpoint
from ..training.loop import TrainingInterrupted
from .load import _merge_overrides, load_scenario
from .measuring import RunState, _checked, _Diverged, _measure
from .model import Scenario
from .prepare import _naming, _Prepared, _prepare
from .result import ScenarioResult

__all__ = ["run_scenario", "scenario_identity", "read_checkpoint"]


def run_scenario(source: str | os.PathLike | Mapping, overrides: Mapping[str, Any] | None = None, *,
                 registry: Registry | None = None, callbacks: Sequence[Callable] = (),
                 checkpoint_every: int | None = None, checkpoint_dir: str | os.PathLike | None = None,
                 resume: str | os.PathLike | Checkpoint | None = None, **more: Any) -> ScenarioResult:
    """Load, build, train and check a scenario.

    Parameters
    ----------
    source : str, path, mapping or Scenario
        A TOML scenario file, a parsed mapping (see ``docs/scenarios.md``), or a
        :class:`Scenario` from :func:`load_scenario` (after :meth:`Scenario.check`, the
        run starts from the network the check built instead of building it again).
    overrides : mapping, optional
        Dotted keys to replace, e.g. ``{"training.epochs": 100, "scenario.seed": 3}``.
    registry : Registry, optional
        Plugins to use. By default a fresh registry of the installed plugins plus the
        scenario's ``plugins = [...]`` is made for this run.
    callbacks : sequence of callable, optional
        ``callback(progress)`` after every epoch of training (a
        :class:`neurosim.Progress`; see ``Network.train``), e.g. a
        :class:`neurosim.progress.ProgressReporter`.
    checkpoint_every : int, optional
        Save the training state to ``checkpoint_dir`` every this many epochs (at epochs
        N, 2N, ...; not at the end).
    checkpoint_dir : str or path, optional
        The folder of the checkpoint file, ``checkpoint.npz`` (created if missing, and held
        with :func:`neurosim.io.folder_lock` while training). A Ctrl-C during training
        saves the state of the last completed epoch there too, then raises
        :class:`~neurosim.training.TrainingInterrupted` with its ``checkpoint``. The file
        stays when the run ends (``neurosim run`` removes it once the results are
        written).
    resume : str, path or Checkpoint, optional
        A checkpoint folder (or file, or one :func:`read_checkpoint` read) to continue from: the run goes on from the saved
        epoch and returns what an uninterrupted run would have, bit for bit. Give the
        scenario and overrides the checkpoint was made from (a scenario that draws its
        seed gets the checkpoint's); another is refused. Checkpoints go on being saved
        into that folder every ``checkpoint_every`` epochs (by default as often as
        before), unless ``checkpoint_dir`` names another.
    **more
        More overrides as keywords: a table of keys (``training={"epochs": 100}``),
        ``seed=3`` for ``scenario.seed``, or dotted keys (``**{"training.epochs": 100}``).

    Returns
    -------
    ScenarioResult
        ``result.network`` (trained), ``result.history``, ``result.checks``,
        ``result.passed``; ``result.save(DIR)`` writes the results.

    Raises
    ------
    ScenarioError
        When the scenario is invalid (the message names the file and key).
        Also a checkpoint to resume that is missing, corrupt, of another neurosim or
        format version, or made from another scenario (the message says which).
    NumericalError
        When training diverges (the message names the file).
    TrainingInterrupted
        On Ctrl-C while training; with a checkpoint folder, after saving the last
        completed epoch there (its ``checkpoint``; ``epoch`` is the epoch saved).

    Examples
    --------
    >>> result = run_scenario("scenarios/mazur.toml")            # doctest: +SKIP
    >>> round(result.network.weight("h1", "o1"), 8)               # doctest: +SKIP
    0.35891648
    """
    started = time.perf_counter()
    if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or
                                         not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 1):
        raise ScenarioError("checkpoint_every", repr(checkpoint_every), "must be a whole number of epochs >= 1")
    ckpt = resume if resume is None or isinstance(resume, Checkpoint) else read_checkpoint(resume)
    if isinstance(source, Scenario):                  # loaded already, perhaps checked
        if overrides or more:
            raise ScenarioError(source.source, "", "overrides apply when a scenario is loaded; pass them to "
                                "load_scenario, or give run_scenario the file")
        sc = source if source.registry is not None and registry is None else source.resolve(registry)
        p = sc.__dict__.pop("_prepared", None)       # what check() built, used once
    else:
        merged = _merge_overrides(source, overrides, more)
        sc = load_scenario(source, merged)
        if ckpt is not None:                          # a scenario that draws its seed: the checkpoint's
            seed = ckpt.info.get("scenario", {}).get("seed")
            if "seed" not in sc.data.get("scenario", {}) and isinstance(seed, int):
                sc = load_scenario(source, {**merged, "scenario.seed": seed})
        sc = sc.resolve(registry)
        p = None
    if ckpt is not None:
        check_identity(sc, ckpt)
        if checkpoint_dir is None:
            checkpoint_dir = ckpt.path.parent
        if checkpoint_every is None:
            checkpoint_every = ckpt.info.get("checkpoint_every")
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ScenarioError("checkpoint_every", str(checkpoint_every), "needs checkpoint_dir, the folder to save "
                            "the checkpoints in")
    saving = None if checkpoint_dir is None else _Saving(sc, Path(checkpoint_dir), checkpoint_every, started, ckpt)
    with _naming(sc.source), (saving.held() if saving else contextlib.nullcontext()):
        p = p or _prepare(sc)
        if sc.ensemble is not None:
            return _run_ensemble(sc, p, started, callbacks, saving, ckpt)
        return _run_single(sc, p, started, callbacks, saving, ckpt)


def _run_single(sc: Scenario, p: _Prepared, started: float, callbacks: Sequence[Callable] = (),
                saving: _Saving | None = None, ckpt: Checkpoint | None = None) -> ScenarioResult:
    """Train one network, pausing at every epoch an expectation is measured after (``after``)
    and at every checkpoint."""
    net, run, checks = p.network, p.run, list(p.checks)
    net.backend = sc.backend
    job = TrainingRun(net, sc.train.inputs, sc.train.targets, sc.loss, **_options(sc, p, callbacks))
    measured: set[int] = set()
    if ckpt is not None:
        job.load_state_dict(ckpt.state)
        by_index = {e.index: e for e in sc.expectations}
        for index, actual, met, bound in ckpt.info.get("checks", []):
            checks.append((by_index[index], float(actual), bool(met), bound))
            measured.add(index)
    afters = sorted({e.after for e in sc.expectations if e.after} | {sc.epochs})

    def measure_due() -> None:      # the expectations measured after this epoch, unless they were
        run.history, run.epochs = job.history(), job.epoch
        for e in sc.expectations:
            if e.after and e.after == job.epoch and e.index not in measured:
                checks.append(_checked(e, _measure(sc, e, run), run))
                measured.add(e.index)

    with _training(sc), _saved_on_interrupt(saving, job, lambda: checks):
        measure_due()               # a checkpoint of an `after` epoch, interrupted before measuring
        while not job.finished:
            job.run(until=_next_pause(job.epoch, afters, saving))
            measure_due()
            if saving is not None:
                saving.periodic(job, checks)
    checks += [_checked(e, _measure(sc, e, run), run) for e in sc.expectations
               if e.after is None or e.after > run.epochs]
    checks.sort(key=lambda c: c[0].index)
    outcomes = job.outcomes()           # early stopping put back an earlier epoch's weights: their error
    # the error of the final weights, when history[-1] is not it: early stopping put back
    # an earlier epoch's weights, or the curve holds running errors
    end_error = net.error(sc.train.inputs, sc.train.targets, sc.loss) if outcomes or sc.history == "running" \
        else None
    return ScenarioResult(sc, net, run.history, p.initial_error, p.initial_weights, p.initial_state, checks,
                          stopped_early=job.stopped, wall_time=_wall_time(started, ckpt), draws=p.draws,
                          task=p.task, stopped_by=job.stopped_by, outcomes=outcomes, end_error=end_error,
                          backend=job.trainer.backend, backend_note=job.trainer.backend_note)


def _run_ensemble(sc: Scenario, p: _Prepared, started: float, callbacks: Sequence[Callable] = (),
                  saving: _Saving | None = None, ckpt: Checkpoint | None = None) -> ScenarioResult:
    """Train ``training.ensemble`` members; member k has the seed ``scenario.seed + k``."""
    seeds = [np.random.SeedSequence(sc.seed + k).spawn(2)[0] for k in range(sc.ensemble)]
    job = TrainingRun(p.network, sc.train.inputs, sc.train.targets, sc.loss, ensemble=sc.ensemble, seeds=seeds,
                      **_options(sc, p, callbacks))
    if ckpt is not None:
        job.load_state_dict(ckpt.state)
    with _training(sc), _saved_on_interrupt(saving, job, list):
        while not job.finished:
            job.run(until=_next_pause(job.epoch, [sc.epochs], saving))
            if saving is not None:
                saving.periodic(job, [])
    result = job.result()
    first = None if result.diverged[0] else result.network(0)
    history = result.history[:result.epochs[0], 0]
    run = RunState(first if first is not None else _Diverged(0, sc.seed), sc.train, sc.test, sc.loss, history,
                   int(result.epochs[0]), result, sc.stop, sc.ensemble, sc.registry, sc.raw_train, sc.raw_test,
                   sc.validation, sc.raw_validation)
    checks = p.checks + [_checked(e, _measure(sc, e, run), run) for e in sc.expectations if e.after is None]
    checks.sort(key=lambda c: c[0].index)
    outcomes = job.outcomes()
    end_error = first.error(sc.train.inputs, sc.train.targets, sc.loss) \
        if (outcomes or sc.history == "running") and first is not None else None
    return ScenarioResult(sc, first, history, p.initial_error, p.initial_weights, p.initial_state, checks,
                          stopped_early=bool(result.converged[0]) and len(history) < sc.epochs,
                          wall_time=_wall_time(started, ckpt), ensemble=result, draws=p.draws, task=p.task,
                          stopped_by=job.stopped_by, outcomes=outcomes, end_error=end_error)


def _options(sc: Scenario, p: _Prepared, callbacks: Sequence[Callable] = ()) -> dict[str, Any]:
    """What the scenario's training passes to :class:`~neurosim.training.TrainingRun`.

    The schedule is made here, from the rule as the scenario made it, before any saved
    state is loaded into the rule: a resumed run schedules from the same base values.
    """
    return dict(epochs=sc.epochs, mode=sc.mode, batch_size=sc.batch_size, optimizer=p.optimizer, stop=sc.stop,
                history=sc.history,
                shuffle=sc.pattern_orders(), schedule=sc.schedule(p.optimizer), callbacks=list(callbacks),
                validation=None if sc.validation is None else (sc.validation.inputs, sc.validation.targets))


def _next_pause(epoch: int, afters: Sequence[int], saving: _Saving | None) -> int:
    """The next epoch after ``epoch`` to pause at: an ``after`` expectation's, or a checkpoint's."""
    pause = min((a for a in afters if a > epoch), default=max(afters))
    if saving is not None and saving.every:
        pause = min(pause, (epoch // saving.every + 1) * saving.every)
    return pause


def _wall_time(started: float, ckpt: Checkpoint | None) -> float:
    """Seconds since the run started, with the time the checkpoint's run had taken before."""
    return time.perf_counter() - started + (float(ckpt.info.get("wall_time", 0.0)) if ckpt is not None else 0.0)


# --- checkpoints ---------------------------------------------------------------------------------


def scenario_identity(sc: Scenario) -> dict[str, Any]:
    """What a checkpoint records of the scenario it was made from, to refuse another.

    Parameters
    ----------
    sc : Scenario
        Resolved (its data loaded).

    Returns
    -------
    dict
        ``source`` (the file), ``name``, ``seed``, ``data`` (the scenario's mapping after
        overrides, with its seed, as JSON text) and ``hash``: the SHA-256 of that text and
        of the training, validation and test patterns as resolved (scaled), so a changed
        data file changes it too.
    """
    data = json.loads(json.dumps(sc.data, default=str))
    data.setdefault("scenario", {})["seed"] = sc.seed     # drawn or given: the same run
    text = json.dumps(data, sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8"))
    for patterns in (sc.train, sc.validation, sc.test):
        for array in (() if patterns is None else (patterns.inputs, patterns.targets)):
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
    return {"source": sc.source, "name": sc.name, "seed": sc.seed, "data": text, "hash": digest.hexdigest()}


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The checkpoint of a scenario run in folder (or file) ``path``, for ``resume``.

    Parameters
    ----------
    path : str or path
        A results folder holding ``checkpoint.npz``, or the file itself.

    Returns
    -------
    Checkpoint

    Raises
    ------
    ScenarioError
        Keyed ``--resume``: the folder has no checkpoint (saying when its run had
        finished already), or the file is corrupt or of another format or version.
    """
    path = Path(path)
    hint = "give the folder a run with --checkpoint-every (or checkpoint_dir) saved its checkpoint in"
    if not path.exists():
        raise ScenarioError("--resume", os.fspath(path), f"no such folder or checkpoint file; {hint}")
    if path.is_dir() and not (path / CHECKPOINT_NAME).exists():
        done = " (its run finished: the results are there)" if (path / "summary.json").exists() else ""
        raise ScenarioError("--resume", os.fspath(path), f"holds no {CHECKPOINT_NAME}{done}; {hint}")
    try:
        ckpt = load_checkpoint(path)
    except FileError as exc:
        raise ScenarioError("--resume", exc.path, exc.problem) from None
    except NeurosimError as exc:
        raise ScenarioError("--resume", os.fspath(path), str(exc)) from None
    if not isinstance(ckpt.info.get("scenario"), dict) or "hash" not in ckpt.info["scenario"]:
        raise ScenarioError("--resume", os.fspath(ckpt.path), "is a training checkpoint but not a scenario run's "
                            "(it records no scenario); continue it from Python with TrainingRun.load_state_dict")
    return ckpt


def check_identity(sc: Scenario, ckpt: Checkpoint) -> None:
    """Refuse to continue ``ckpt`` with a scenario other than the one it was made from.

    Parameters
    ----------
    sc : Scenario
        Resolved.
    ckpt : Checkpoint

    Raises
    ------
    ScenarioError
        Naming the scenario the checkpoint was made from and the keys that differ.
    """
    saved, now = ckpt.info["scenario"], scenario_identity(sc)
    if saved["hash"] == now["hash"]:
        return
    before, after = _leaves(json.loads(saved.get("data", "{}"))), _leaves(json.loads(now["data"]))
    keys = sorted(k for k in before.keys() | after.keys() if before.get(k, _ABSENT) != after.get(k, _ABSENT))
    shown = "; ".join(f"{k} is {_shown(before.get(k, _ABSENT))} there, {_shown(after.get(k, _ABSENT))} here"
                      for k in keys[:3]) + ("; ..." if len(keys) > 3 else "")
    why = shown or "the same keys, but the data they read differ"
    raise ScenarioError("--resume", os.fspath(ckpt.path), f"was made from another scenario: {saved.get('name')!r} "
                        f"({saved.get('source')}, seed {saved.get('seed')}), not this run of {sc.source} ({why}); "
                        "resume with the scenario and overrides it was made with (neurosim run: the same --set and "
                        "--seed), or start it afresh")


_ABSENT = object()


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{dotted key: value}`` of a parsed scenario's leaves (lists of tables by index)."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(data, list) and any(isinstance(v, dict) for v in data):
        out = {}
        for i, v in enumerate(data):
            out.update(_leaves(v, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def _shown(value: Any) -> str:
    return "absent" if value is _ABSENT else json.dumps(value)[:40]


class _Saving:
    """Where and how often a scenario run saves its training state."""

    def __init__(self, sc: Scenario, folder: Path, every: int | None, started: float, ckpt: Checkpoint | None):
        self.sc, self.folder, self.every, self.started = sc, folder, every, started
        self.before = float(ckpt.info.get("wall_time", 0.0)) if ckpt is not None else 0.0
        self.path = folder / CHECKPOINT_NAME
        self.saved: int | None = ckpt.epoch if ckpt is not None else None    # the epoch of the checkpoint there

    @contextlib.contextmanager
    def held(self):
        """The folder, made if missing and locked while the run trains."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ScenarioError("checkpoint_dir", os.fspath(self.folder), f"cannot be used as the checkpoint "
                                f"folder ({exc.strerror})") from None
        with folder_lock(self.folder):
            sweep_temporaries(self.folder, [CHECKPOINT_NAME])
            yield

    def save(self, job: TrainingRun, checks: list) -> None:
        """Write the checkpoint of ``job``'s current epoch."""
        info = {"scenario": scenario_identity(self.sc), "checkpoint_every": self.every,
                "wall_time": time.perf_counter() - self.started + self.before,
                "checks": [[e.index, float(actual), bool(met), bound] for e, actual, met, bound in checks
                           if e.after]}
        try:
            save_checkpoint(self.path, job, info)
        except OSError as exc:
            raise ScenarioError("checkpoint_dir", os.fspath(self.folder), f"cannot write the checkpoint "
                                f"({exc.strerror})") from None
        self.saved = job.epoch

    def periodic(self, job: TrainingRun, checks: list) -> None:
        """Save when the run has paused at a multiple of ``every`` (and goes on)."""
        if self.every and not job.finished and job.epoch % self.every == 0 and job.epoch != self.saved:
            self.save(job, checks)


@contextlib.contextmanager
def _saved_on_interrupt(saving: _Saving | None, job: TrainingRun, checks: Callable[[], list]):
    """Ctrl-C while training: save the last completed epoch (when the state is whole) and
    raise :class:`TrainingInterrupted` naming the checkpoint kept."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if saving is None:
            raise
        if not job.trainer._torn:
            saving.save(job, checks())
        if saving.saved is None:
            raise
        raise TrainingInterrupted(saving.saved, saving.path) from exc


@contextlib.contextmanager
def _training(sc: Scenario):
    """A run that diverges names the file and the learning rate it started with."""
    try:
        yield
    except NumericalError as exc:
        rate = sc.learning_rate_at(0)
        start = f"training.learning_rate is {rate:g} at the start" if sc.optimizer == "sgd" else \
            f"training.optimizer is {sc.optimizer!r}" + (f" with {sc.optimizer_options}" if sc.optimizer_options
                                                         else "")
        raise NumericalError(f"{sc.source}: training: {exc} ({start})") from None
