"""What a scenario run produced, and how it is reported and saved: :class:`ScenarioResult`.

:meth:`ScenarioResult.report` is the text ``neurosim run`` prints; :meth:`~ScenarioResult.save`
writes the learning curve, the trained network and ``summary.json`` (with the versions and
the arithmetic the run used) as a set, under the results folder's lock.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import arithmetic
from ..errors import DataError
from ..io import atomic_write_all, folder_lock, json_text, sweep_temporaries
from ..network import Network
from ..plugins import Registry
from ..version import __version__
from .measuring import RunState
from .model import Scenario

__all__ = ["ScenarioResult", "METRICS"]

#: The measures :meth:`ScenarioResult.metrics` reports for each task, on the training set
#: and (when there is one) the test set.
METRICS = {"classification": ("accuracy",), "regression": ("mae", "rmse", "r2")}


@dataclass
class ScenarioResult:
    """What a scenario run produced.

    Attributes
    ----------
    scenario : Scenario
    network : Network
        The trained network.
    history : ndarray
        ``history[k]``: total training error after ``k + 1`` epochs (with the running
        history, minibatch mode's default, the sum of epoch ``k + 1``'s minibatch errors
        before their updates; ``scenario.history`` says which).
    initial_error : float
        Total training error before training.
    initial_weights : dict
        ``{(src, dst): weight}`` before training.
    initial_state : dict
        ``{neuron_name: (net, out)}`` for training pattern 0 before training.
    checks : list of tuple
        ``(expectation, actual, met, bound)`` for each ``[[expect]]``.
    stopped_early : bool
        Whether a stop criterion ended training before ``training.epochs``.
    wall_time : float
        Seconds from start to end of the run.
    ensemble : EnsembleResult or None
        With ``training.ensemble = K``: all K members' results (``network`` and
        ``history`` are member 0's, the scenario's own seed; ``network`` is None when
        member 0 diverged).
    draws : list of str
        What the run drew from ``scenario.seed`` (:meth:`Scenario.random_draws`);
        empty when nothing was random, and then the seed is not reported.
    stopped_by : dict
        What stopped training (:attr:`neurosim.TrainingRun.stopped_by`): a criterion's
        or callback's name -> the networks it stopped.
    outcomes : list of str
        What the stop criteria did to the result (early stopping restoring its best
        epoch's weights), for the report.
    backend, backend_note : str, str or None
        Where training ran (``"numpy"``, ``"python"``, ``"numba"``: ``training.backend``,
        or numpy when generated code could not train this run) and why not the backend asked for.
    end_error : float or None
        The training error of the weights the run ended with, when ``history[-1]`` is not
        it: the weights are not the last epoch's (restored by early stopping), or the
        curve holds running errors (``training.history = "running"``); else None.
    task : str
        ``"classification"`` or ``"regression"``, decided before training by
        :func:`~neurosim.scenario.measuring.task_of` from the targets, the loss and the
        output activations; it chooses the metrics reported (:data:`METRICS`).
    """

    scenario: Scenario
    network: Network | None
    history: np.ndarray
    initial_error: float
    initial_weights: dict
    initial_state: dict
    checks: list = field(default_factory=list)
    stopped_early: bool = False
    wall_time: float = 0.0
    ensemble: Any = None
    draws: list = field(default_factory=list)
    task: str = "regression"
    stopped_by: dict = field(default_factory=dict)
    outcomes: list = field(default_factory=list)
    end_error: float | None = None
    backend: str = "numpy"
    backend_note: str | None = None

    @property
    def seed(self) -> int | None:
        """The seed the run drew its random numbers from, or None when it drew none."""
        return self.scenario.seed if self.draws else None

    @property
    def all_diverged(self) -> bool:
        """True for an ensemble whose every member diverged: the run failed, whatever it
        expected."""
        return self.ensemble is not None and bool(self.ensemble.diverged.all())

    @property
    def passed(self) -> bool:
        """True when every expectation was met (and training did not diverge)."""
        return all(met for _e, _a, met, _b in self.checks) and not self.all_diverged

    @property
    def failures(self) -> list[str]:
        """One line per unmet expectation (and one when every ensemble member diverged)."""
        lines = [f"{self.scenario.source}: training: every one of the {self.ensemble.members} ensemble members "
                 "diverged; lower training.learning_rate or scale the inputs"] if self.all_diverged else []
        return lines + [f"{self.scenario.source}: expect[{e.index}]: {e.describe(self.network)}: got {a:.10g}, "
                        f"wanted {b}" for e, a, met, b in self.checks if not met]

    @property
    def epochs_run(self) -> int:
        """Epochs actually trained."""
        return len(self.history)

    @property
    def final_error(self) -> float:
        """Total training error of the weights the run ended with: after the last epoch (the
        initial error if none ran), or of the weights early stopping restored."""
        if self.end_error is not None:
            return self.end_error
        return float(self.history[-1]) if len(self.history) else self.initial_error

    def _stopped_by(self) -> str:
        """`` (stopped by within)`` for the training line; for an ensemble, how many members each stopped."""
        if self.ensemble is None:
            return f" (stopped by {' and '.join(self.stopped_by)})" if self.stopped_early else ""
        if not self.stopped_by:
            return ""
        return " (members stopped by " + ", ".join(f"{name}: {n}" for name, n in self.stopped_by.items()) + ")"

    def metrics(self) -> dict:
        """Final numbers: the task, the training error and, by task (:data:`METRICS`), the
        training set's accuracy (classification) or mae, rmse and r2 (regression); with a
        test set, its error and the same measures.

        ``train_error`` and ``test_error`` are the training loss, on scaled targets with
        ``data.scale``; accuracy, mae, rmse and r2 are in the targets' original units. A
        measure that is undefined (r2 of targets that do not vary) is None, and so are
        the network's numbers of an ensemble whose member 0 diverged (the ``ensemble``
        statistics summarise the others).
        """
        if self.__dict__.get("_metrics") is not None:          # report() and save() both ask
            return copy.deepcopy(self._metrics)
        sc, net = self.scenario, self.network
        out = {"task": self.task, "backend": self.backend, "epochs_run": self.epochs_run,
               "stopped_early": self.stopped_early,
               "stopped_by": dict(self.stopped_by), "outcomes": list(self.outcomes),
               "train_error": self.final_error if net is not None else None}
        if net is not None:
            state = RunState(net, sc.train, sc.test, sc.loss, self.history, self.epochs_run, self.ensemble, sc.stop,
                             sc.ensemble, sc.registry, sc.raw_train, sc.raw_test)
            if sc.validation is not None:
                out["validation_error"] = net.error(sc.validation.inputs, sc.validation.targets, sc.loss)
            for which in ("train", "test") if sc.test is not None else ("train",):
                if which == "test":
                    out["test_error"] = sc.registry.measure("error")(state, set="test")
                for name in METRICS[self.task]:
                    try:
                        out[f"{which}_{name}"] = sc.registry.measure(name)(state, set=which)
                    except DataError:               # undefined here (r2 of constant targets)
                        out[f"{which}_{name}"] = None
        if self.ensemble is not None:
            out["of"] = f"ensemble member 0 (seed {sc.seed})"       # the network's numbers above
            out["ensemble"] = self.ensemble.summary()
        self._metrics = out
        return copy.deepcopy(out)

    def report(self) -> str:
        """The text ``neurosim run`` prints: forward pass, errors, weights, expectations."""
        sc, net = self.scenario, self.network
        drawn = f"; seed {sc.seed} (draws {', '.join(self.draws)})" if self.draws else ""
        lines = [f"scenario {sc.name}" + (f" — {sc.description}" if sc.description else ""),
                 f"network: {net!r}" if net is not None else
                 f"network: ensemble member 0 (seed {sc.seed}) diverged, so there is no trained network to show",
                 f"data: {_count(len(sc.train), 'training pattern')}"
                 + (f", {_count(len(sc.test), 'test pattern')}" if sc.test else "")
                 + (f", {_count(len(sc.validation), 'validation pattern')}" if sc.validation else "") + drawn]
        if sc.scaling is not None:
            lines.append(f"scaled: {sc.scaling.describe()} (fitted on the training set, applied to both sets)")
        if len(self.initial_state) <= 24:
            inputs = ", ".join(f"{x:.10g}" for x in sc.train.inputs[0][:8]) + (" ..." if sc.train.inputs.shape[1] > 8
                                                                              else "")
            scaled = "scaled " if sc.scaling is not None and sc.scaling.inputs is not None else ""
            lines.append(f"forward pass, training pattern 0, before training ({scaled}inputs {inputs}):")
            for name, (net_in, out) in self.initial_state.items():
                lines.append(f"  {name:>8}  net = {net_in:<14.10g} out = {out:.9g}")
        lines.append(f"total error ({sc.loss}) before training: {self.initial_error:.9g}")
        if sc.optimizer == "sgd":
            rule = f"learning rate {sc.learning_rate_at(0):g}, momentum {sc.momentum:g}" + (
                f" (schedule {sc.momentum_schedule})" if sc.momentum_schedule else "")
            extra = {k: v for k, v in sc.optimizer_options.items() if k not in ("learning_rate", "momentum",
                                                                                 "weight_decay")}
        else:
            rule, extra = f"optimizer {sc.optimizer}", dict(sc.optimizer_options)
            rule += f" (momentum schedule {sc.momentum_schedule})" if sc.momentum_schedule else ""
        if extra:
            rule += " (" + ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in extra.items()) + ")"
        if sc.learning_rate_schedule:
            rule += f", learning rate schedule {sc.learning_rate_schedule}"
        lines.append(f"training: {sc.mode}{f' ({sc.batch_size} per update)' if sc.mode == 'minibatch' else ''}, "
                     f"{rule}"
                     + (f", weight decay {sc.weight_decay:g}" if sc.weight_decay else "")
                     + (", patterns shuffled every epoch" if sc.shuffle else "")
                     + (", learning curve: running error (each epoch's update errors summed, each measured "
                        "before its update)" if sc.history == "running" else "")
                     + (f", backend {self.backend}" if self.backend != "numpy" or sc.backend != "numpy" else "")
                     + (f" ({self.backend_note})" if self.backend_note else "")
                     + f", {self.epochs_run} of {sc.epochs} epochs"
                     + self._stopped_by()
                     + (" (every ensemble member diverged)" if self.all_diverged else ""))
        trainable = [(u, v) for (u, v) in self.initial_weights if net is not None and net.trainable(u, v)]
        if net is not None and len(trainable) <= 40:
            lines.append("trainable weights, before -> after:")
            for u, v in trainable:
                label = net.edge_label(u, v)
                label = label if label != f"{u} -> {v}" else ""
                lines.append(f"  {label:>4}  {u:>6} -> {v:<6} {self.initial_weights[(u, v)]:>14.10g} -> "
                             f"{net.weight(u, v):.9g}")
        elif net is not None:
            lines.append(f"{len(trainable)} trainable weights (not listed)")
        running = sc.history == "running" and len(self.history)
        if net is not None:
            last = float(self.history[-1]) if len(self.history) else self.initial_error
            if running:
                lines.append(f"running error ({sc.loss}) of epoch {self.epochs_run}: {last:.9g}")
            if running and not self.outcomes and self.end_error is not None:
                last = self.end_error
            lines.append(f"total error ({sc.loss}) after {self.epochs_run} epoch{'s' if self.epochs_run != 1 else ''}:"
                         f" {last:.9g}")
        lines += self.outcomes
        if net is not None and self.end_error is not None and self.outcomes:
            lines.append(f"total error ({sc.loss}) of the restored weights: {self.end_error:.9g} (the weights above "
                         "and every number below are theirs)")
        if sc.validation is not None and net is not None:
            lines.append(f"validation set: error {self.metrics()['validation_error']:.6g}")
        if sc.test is not None and net is not None:
            m = self.metrics()
            scaled = sc.scaling is not None and sc.scaling.targets is not None
            lines.append(f"test set: error {m['test_error']:.6g}{' (scaled targets)' if scaled else ''}, "
                         + ", ".join(f"{name} " + ("undefined" if m[f"test_{name}"] is None else
                                                   f"{m[f'test_{name}']:.6g}") for name in METRICS[self.task])
                         + (" (original units)" if scaled else ""))
        if self.ensemble is not None:
            lines.append(f"ensemble (seeds {sc.seed} to {sc.seed + self.ensemble.members - 1}; network above is "
                         f"the first): {self.ensemble}")
        if self.checks:
            lines.append("expectations:")
            for e, actual, met, bound in self.checks:
                lines.append(f"  {'ok  ' if met else 'FAIL'}  {e.describe(net)}: {actual:.10g} (wanted {bound})")
            passed = sum(met for *_x, met, _b in self.checks)
            lines.append(f"{passed} of {len(self.checks)} expectations met")
        return "\n".join(lines)

    def save(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write the learning curve (CSV), the trained network (JSON) and a summary (JSON).

        All three are written to temporary names first and then renamed, so an
        interrupted run never leaves a half-written file, nor (short of a failure
        between the renames) new files beside old ones. The folder is held with
        :func:`neurosim.io.folder_lock` meanwhile, and temporary files a killed save left
        there are removed first.

        Parameters
        ----------
        out_dir : str or path
            Folder to write into (created if missing).

        Returns
        -------
        dict
            ``{"learning_curve": path, "network": path, "summary": path}`` (no
            ``network`` for an ensemble whose member 0 diverged: it has none).

        Raises
        ------
        DataError
            When the folder cannot be made, another run is using it, or a folder stands
            where a file would go (checked before anything is written).
        """
        if not isinstance(out_dir, (str, os.PathLike)) or not os.fspath(out_dir):
            raise DataError(f"save needs the path of a results folder (a str or pathlib.Path), not {out_dir!r:.60}")
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot use {out} as the results folder ({exc.strerror}); give a folder path "
                            "that can be created") from None
        curve = "epoch,error\n" + "".join(f"{k + 1},{e!r}\n" for k, e in enumerate(self.history.tolist()))
        sc = self.scenario
        summary = {
            "scenario": sc.name, "source": sc.source, "seed": self.seed, "draws": self.draws,
            "metrics": self.metrics(),
            "learning_curve": sc.history,       # exact: the error after each epoch; running: summed batch errors
            "passed": self.passed,
            "expectations": [{"index": e.index, "description": e.describe(self.network),
                              "actual": actual if math.isfinite(actual) else None,   # JSON has no NaN
                              "wanted": bound, "met": met} for e, actual, met, bound in self.checks],
            "versions": {"neurosim": __version__, "plugins": _plugin_versions(sc.registry)},
            "arithmetic": arithmetic.describe(),
            "wall_time_seconds": self.wall_time,
        }
        files = {"learning_curve": (out / "learning_curve.csv", curve),
                 "network": (out / "network.json", json_text(self.network.to_dict()) if self.network else None),
                 "summary": (out / "summary.json", json_text(summary))}
        with folder_lock(out):       # no other run writes here meanwhile, so no live temporary is swept
            sweep_temporaries(out, ["learning_curve.csv", "network.json", "summary.json"])
            if files["network"][1] is None:      # member 0 diverged: no network, and none of an older run's
                del files["network"]
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(out / "network.json")
            paths = atomic_write_all(dict(files.values()))
        return dict(zip(files, paths))


def _count(n: int, noun: str) -> str:
    """``"1 training pattern"``, ``"70 training patterns"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _plugin_versions(registry: Registry) -> dict[str, str]:
    return {info.name: f"{info.distribution} {info.version}" if info.origin == "entry point"
            else "not installed (loaded from a module)" for info in registry.plugins()}
