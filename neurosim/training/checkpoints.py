"""Checkpoints: a training run saved to one file and continued from it, bit for bit.

:func:`trainer_state` gathers everything a :class:`~neurosim.training.Trainer` is at an
epoch's end — the parameters, the optimiser's state (velocities, Rprop's step sizes, Adam's
moments, per ensemble member), the pattern-order stream, the learning curve and the
validation errors, the epoch, which members still train, the stop criteria's counts — and
:func:`load_trainer_state` puts it back into a trainer made the same way, after which
training goes on exactly as if it had never stopped. :func:`save_checkpoint` writes that
state, with what the caller adds (a scenario's identity, the checks measured so far), to a
single ``.npz`` file through a temporary file and a rename; :func:`load_checkpoint` reads it
back, refusing a file of another format or neurosim version. The file holds arrays and one
JSON document, never pickles: loading a checkpoint runs no code.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..io import FileError, atomic_write_all, regular_file
from ..rules import Optimizer
from ..version import __version__
from .loop import Trainer, _History

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "trainer_state", "load_trainer_state",
           "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "CHECKPOINT_NAME"]

#: The ``format`` a checkpoint file declares.
CHECKPOINT_FORMAT = "neurosim-checkpoint"
#: The version of the checkpoint format this neurosim writes and reads.
CHECKPOINT_VERSION = 1
#: The checkpoint's file name in a results folder (``neurosim run --checkpoint-every``).
CHECKPOINT_NAME = "checkpoint.npz"

#: The JSON document's entry in the ``.npz`` file.
_META = "checkpoint.json"
#: Marks an array (stored as an entry of its own) or a tuple in the JSON document; no name
#: of a state's entry starts with a NUL character.
_ARRAY, _SCALAR, _TUPLE = "\0array", "\0scalar", "\0tuple"


# --- the state of a trainer ------------------------------------------------------------------


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """Everything needed to continue ``trainer`` exactly where it is (see :meth:`Trainer.state_dict`).

    Parameters
    ----------
    trainer : Trainer
        Paused or interrupted at an epoch's end (never in the middle of one).

    Returns
    -------
    dict
        Copies: arrays, numbers, strings, and lists and dicts of them.

    Raises
    ------
    DataError
        When an error or a second Ctrl-C left an epoch half done, or the optimiser is an
        object of one's own without ``state_dict()``.
    """
    if trainer._torn:
        raise DataError("training stopped in the middle of an epoch (an error, or a second Ctrl-C), so its state "
                        "is not that of a whole number of epochs and cannot be saved; save after run() returns or "
                        "raises TrainingInterrupted")
    optimizer = trainer.optimizer
    if not callable(getattr(optimizer, "state_dict", None)) or not callable(getattr(optimizer, "load_state_dict",
                                                                                    None)):
        raise DataError(f"optimizer {optimizer!r:.60} has no state_dict() and load_state_dict(), so a checkpoint "
                        "cannot hold its state; make it a neurosim.Optimizer")
    shuffle = trainer.shuffle
    return {
        "epoch": trainer.epoch,
        "epochs": trainer.epochs,
        "mode": trainer.mode,
        "history_mode": trainer.history_mode,
        "members": trainer.members,
        "parameters": int(trainer.plan.theta.size),
        "theta": trainer.plan.theta.copy(),
        "optimizer": optimizer.state_dict(),
        "shuffle": None if shuffle is None else shuffle.bit_generator.state,
        "history": trainer.history.upto(trainer.epoch).copy(),
        "validation_history": [np.asarray(v, dtype=float) for v in trainer.validation_history],
        "active": trainer.active.copy(),
        "diverged": trainer.diverged.copy(),
        "mask": trainer.mask.copy(),
        "seconds": float(trainer.seconds),
        "stopped": bool(trainer.stopped),
        "stopped_by": dict(trainer.stopped_by),
        "data": _data_digest(trainer),
        "ended": bool(trainer._ended),
        "rules": [rule.state_dict() for rule in trainer.rules],
    }


def _data_digest(trainer: Trainer) -> dict[str, Any]:
    """The training patterns' count and a SHA-256 of their inputs and targets, so that a run is
    continued only on the data it began with."""
    digest = hashlib.sha256()
    for array in (trainer.X, trainer.T):
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return {"patterns": int(trainer.X.shape[0]), "sha256": digest.hexdigest()}


def load_trainer_state(trainer: Trainer, state: dict[str, Any]) -> None:
    """Put :func:`trainer_state`'s ``state`` back into ``trainer`` (see :meth:`Trainer.load_state_dict`).

    Parameters
    ----------
    trainer : Trainer
        Made as the saved one was: the same network, data, mode, optimiser and stop
        criteria.
    state : dict

    Raises
    ------
    DataError
        Naming what does not match: the number of parameters or of ensemble members, the
        mode, the optimiser, the stop criteria, whether patterns are shuffled, the training
        data (their count and digest). A refused state leaves ``trainer`` as it was.
    """
    if not isinstance(state, dict) or "theta" not in state:
        raise DataError("the saved training state is not a trainer's state_dict()")
    theta = trainer.plan.theta
    saved = np.asarray(state["theta"])
    if state.get("parameters") != theta.size or saved.shape != theta.shape:
        raise DataError(f"the saved training state holds {state.get('parameters')} parameters, but this network "
                        f"has {theta.size}; it was saved from another network")
    if saved.dtype != theta.dtype:
        raise DataError(f"the saved parameters are {saved.dtype}, this network's {theta.dtype}; it was saved from "
                        "a network of another dtype")
    if state.get("members") != trainer.members:
        def count(k):
            return "a single network" if k is None else f"an ensemble of {k}"
        raise DataError(f"the saved training state is {count(state.get('members'))}'s, this run trains "
                        f"{count(trainer.members)}")
    if state.get("mode") != trainer.mode:
        raise DataError(f"the saved training state trained in mode {state.get('mode')!r}, this run in "
                        f"{trainer.mode!r}")
    if state.get("history_mode", "exact") != trainer.history_mode:      # older checkpoints: exact
        raise DataError(f"the saved training state recorded the {state.get('history_mode', 'exact')!r} history, "
                        f"this run the {trainer.history_mode!r} one; make the run with "
                        f"history={state.get('history_mode', 'exact')!r}")
    rules = state.get("rules", [])
    if [r.get("name") for r in rules] != [r.name for r in trainer.rules]:
        raise DataError(f"the saved training state has the stop criteria {[r.get('name') for r in rules]}, this run "
                        f"{[r.name for r in trainer.rules]}")
    saved_orders, orders = state.get("shuffle"), trainer.shuffle
    if (saved_orders is None) != (orders is None):
        raise DataError("the saved training state " + ("shuffled the patterns and this run does not" if orders is None
                                                       else "did not shuffle the patterns and this run does"))
    if orders is not None and saved_orders.get("bit_generator") != orders.bit_generator.state["bit_generator"]:
        raise DataError(f"the saved pattern orders come from a {saved_orders.get('bit_generator')} generator, this "
                        f"run's from a {orders.bit_generator.state['bit_generator']}")
    epoch = int(state["epoch"])
    history = np.asarray(state["history"], dtype=float)
    if history.shape != (epoch,) + trainer.lead:
        raise DataError(f"the saved learning curve has shape {history.shape}, not {(epoch,) + trainer.lead} "
                        f"for {epoch} epochs")
    masks = {}
    for name in ("active", "diverged", "mask"):
        value = np.asarray(state[name])
        if value.shape != np.shape(getattr(trainer, name)):
            raise DataError(f"the saved {name} mask has shape {value.shape}, this run's {np.shape(getattr(trainer, name))}")
        masks[name] = value.astype(getattr(trainer, name).dtype, copy=True)
    data = state.get("data")                       # older checkpoints did not record the data
    if data is not None and data != _data_digest(trainer):
        raise DataError(f"the saved training state was trained on {data.get('patterns')} patterns with digest "
                        f"{str(data.get('sha256'))[:12]}..., this run's data are {trainer.X.shape[0]} patterns with "
                        f"digest {_data_digest(trainer)['sha256'][:12]}...: continue it on the data it began with")
    optimizer = trainer.optimizer
    loads = callable(getattr(optimizer, "load_state_dict", None))
    if not loads:
        raise DataError(f"optimizer {optimizer!r:.60} has no load_state_dict(); make it a neurosim.Optimizer")
    # everything checked that can be checked without the rules themselves: from here a refusal
    # (by the optimiser or a stop criterion) puts back what it found, so a refused state changes nothing
    before = (optimizer.state_dict() if callable(getattr(optimizer, "state_dict", None)) else None,
              [rule.state_dict() for rule in trainer.rules])
    try:
        if isinstance(optimizer, Optimizer):
            optimizer.load_state_dict(state["optimizer"], theta)
        else:
            optimizer.load_state_dict(state["optimizer"])
        for rule, rule_state in zip(trainer.rules, rules):
            rule.load_state_dict(rule_state)
    except BaseException:
        if before[0] is not None:
            if isinstance(optimizer, Optimizer):
                optimizer.load_state_dict(before[0], theta)
            else:
                optimizer.load_state_dict(before[0])
        for rule, rule_state in zip(trainer.rules, before[1]):
            rule.load_state_dict(rule_state)
        raise
    if orders is not None:
        orders.bit_generator.state = saved_orders
    np.copyto(theta, saved)
    curve = _History(max(trainer.epochs, epoch), trainer.lead, known=False)
    if epoch > len(curve.array):
        curve.array = np.full((epoch,) + trainer.lead, np.nan)
    curve.array[:epoch] = history
    trainer.history = curve
    trainer.epoch = epoch
    trainer.validation_history = [v[()] if v.ndim == 0 else v.copy() for v in
                                  (np.asarray(v, dtype=float) for v in state.get("validation_history", []))]
    for name, value in masks.items():
        setattr(trainer, name, value)
    trainer.seconds = float(state.get("seconds", 0.0))
    trainer.stopped = bool(state.get("stopped", False))
    trainer.stopped_by = {str(k): int(v) for k, v in state.get("stopped_by", {}).items()}
    trainer._ended = bool(state.get("ended", False))
    trainer._torn = trainer._interrupt = False


# --- the file ----------------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """A checkpoint file as read by :func:`load_checkpoint`.

    Attributes
    ----------
    path : Path
        The file.
    epoch : int
        Epochs trained when it was written.
    state : dict
        The training state (``TrainingRun.load_state_dict(checkpoint.state)`` continues from it).
    info : dict
        What the writer added (for a scenario: its identity and the checks measured so far).
    neurosim : str
        The neurosim version that wrote it.
    version : int
        Its format version (:data:`CHECKPOINT_VERSION`).
    """

    path: Path
    epoch: int
    state: dict
    info: dict = field(default_factory=dict)
    neurosim: str = ""
    version: int = CHECKPOINT_VERSION


def save_checkpoint(path: str | os.PathLike, job: Any, info: dict | None = None) -> Path:
    """Write ``job``'s whole training state to ``path``, atomically.

    Parameters
    ----------
    path : str or path
        The file to write (``.npz``; its folder must exist). It is written to a temporary
        file beside it, then renamed over it: an interruption leaves the last checkpoint
        as it was, never half a new one.
    job : TrainingRun or Trainer
        Paused by ``run(until=...)``, finished, or interrupted at an epoch's end
        (:class:`~neurosim.training.TrainingInterrupted`).
    info : dict, optional
        More to keep (numbers, strings, arrays, and lists and dicts of them), read back as
        :attr:`Checkpoint.info`.

    Returns
    -------
    Path

    Raises
    ------
    DataError
        When the state cannot be saved (an epoch half done) or ``info`` holds objects a
        checkpoint cannot (anything but numbers, strings, arrays, lists and dicts).
    """
    state = job.state_dict()
    arrays: dict[str, np.ndarray] = {}
    meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "neurosim": __version__,
            "epoch": int(state["epoch"]), "parameters": int(state["parameters"]),
            "state": _pack(state, arrays, "the training state"), "info": _pack(info or {}, arrays, "info")}
    buffer = io.BytesIO()
    document = json.dumps(meta, allow_nan=False).encode("utf-8")
    np.savez(buffer, **arrays, **{_META: np.frombuffer(document, dtype=np.uint8)})
    return atomic_write_all({path: buffer.getvalue()})[0]


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str or path
        The checkpoint file, or a results folder holding :data:`CHECKPOINT_NAME`.

    Returns
    -------
    Checkpoint

    Raises
    ------
    FileError
        When the file is missing, not a regular file, truncated or corrupt, not a neurosim
        checkpoint, of another format version, or written by another neurosim version (a
        run continued by another version would not be the same run); the message starts
        with the file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    name = os.fspath(path)
    regular_file(path, what="a neurosim checkpoint (written by neurosim run --checkpoint-every or save_checkpoint)")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise FileError(name, f"cannot be read ({exc.strerror})", exc.errno) from None
    if magic != b"PK\x03\x04":      # not a zip archive, so not an .npz file (np.load would try other formats)
        raise FileError(name, "is not a neurosim checkpoint (not an .npz file: it is corrupt, or another kind of "
                              "file); start the run afresh")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            if _META not in npz.files:
                raise FileError(name, "is not a neurosim checkpoint (it has no checkpoint.json); give a file written "
                                      "by neurosim run --checkpoint-every or save_checkpoint")
            meta = json.loads(npz[_META].tobytes().decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
                raise FileError(name, "is not a neurosim checkpoint (its format is "
                                      f"{meta.get('format') if isinstance(meta, dict) else None!r})")
            if meta.get("version") != CHECKPOINT_VERSION:
                raise FileError(name, f"is a checkpoint of format version {meta.get('version')!r}; this neurosim "
                                      f"({__version__}) reads version {CHECKPOINT_VERSION} only: finish the run with "
                                      "the neurosim that wrote it, or start it afresh")
            if meta.get("neurosim") != __version__:
                raise FileError(name, f"was written by neurosim {meta.get('neurosim')}, and this is neurosim "
                                      f"{__version__}: a run continued by another version would not be the run it "
                                      f"began; finish it with neurosim {meta.get('neurosim')}, or start it afresh")
            arrays = {k: npz[k] for k in npz.files if k != _META}
    except FileError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise FileError(name, f"cannot be read as a neurosim checkpoint: it is truncated or corrupt "
                              f"({type(exc).__name__}: {exc}); start the run afresh") from None
    try:
        state = _unpack(meta["state"], arrays)
        info = _unpack(meta.get("info", {}), arrays)
        epoch = int(meta["epoch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FileError(name, f"cannot be read as a neurosim checkpoint: its content is incomplete "
                              f"({type(exc).__name__}: {exc}); start the run afresh") from None
    return Checkpoint(path=path, epoch=epoch, state=state, info=info, neurosim=meta["neurosim"],
                      version=meta["version"])


def _pack(value: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """``value`` as JSON-ready data, its arrays moved into ``arrays`` (each an entry of the file)."""
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise DataError(f"{where} is an array of Python objects, which a checkpoint does not hold (it would "
                            "need pickling)")
        key = f"a{len(arrays)}"
        arrays[key] = array
        return {_SCALAR if isinstance(value, np.generic) else _ARRAY: key}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_SCALAR: _pack(np.float64(value), arrays, where)[_SCALAR]}
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str) or k.startswith("\0"):
                raise DataError(f"{where} has the key {k!r:.60}; a checkpoint holds mappings with string keys")
        return {k: _pack(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list):
        return [_pack(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {_TUPLE: [_pack(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    raise DataError(f"{where} is a {type(value).__name__} ({value!r:.60}), which a checkpoint does not hold: it "
                    "holds numbers, strings, arrays, and lists and dicts of them (a stop criterion or optimiser "
                    "that keeps other objects needs a state_dict() and load_state_dict() of its own)")


def _unpack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of :func:`_pack`."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == _ARRAY:
                return np.array(arrays[inner])
            if key == _SCALAR:
                return arrays[inner][()]
            if key == _TUPLE:
                return tuple(_unpack(v, arrays) for v in inner)
        return {k: _unpack(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    return value
