"""Input and target scaling: :class:`Scaling`, the per-column affine maps a network is trained through.

A scaling is fitted on training patterns (:meth:`Scaling.fit`: ``"standard"`` subtracts
each column's mean and divides by its standard deviation, ``"minmax"`` maps each column's
range onto [0, 1]) and then applied unchanged to any other patterns, the test set's and
those a user predicts for, so that no statistic of held-out data leaks into training. A
network holds its scaling (``net.scaling``), writes it into ``network.json`` as the
optional ``"scaling"`` entry of the ``neurosim-network`` format (version 1: readers that do
not know it ignore it) and applies it in :meth:`neurosim.Network.predict`, while
``forward`` stays the engine's pass on values already scaled.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError
from .functions import Patterns

__all__ = ["Scaling", "METHODS", "CONSTANT"]

#: The ways a column can be scaled: ``x' = (x - offset) / scale`` with offset and scale the
#: training column's mean and (population) standard deviation, or its minimum and range.
METHODS = ("standard", "minmax")

#: A column whose spread (standard deviation or range) is at most this fraction of its
#: largest magnitude is constant (its spread is rounding, or exactly 0): its scale is 1,
#: so it is only shifted (to 0) and nothing is divided by zero.
CONSTANT = 1e-12


@dataclass(frozen=True, eq=False)
class Scaling:
    """Per-column affine maps for a network's inputs and targets: ``x' = (x - offset) / scale``.

    Build one with :meth:`fit` (or :meth:`from_dict`). A side that is not scaled has
    method None, offsets 0 and scales 1, and its maps return their argument unchanged.

    Attributes
    ----------
    inputs, targets : str or None
        The method of each side: ``"standard"``, ``"minmax"`` or None (not scaled).
    input_offset, input_scale : ndarray
        ``(n_inputs,)``: what each input column has subtracted, then is divided by.
    target_offset, target_scale : ndarray
        ``(n_outputs,)``: the same for each target column (and, in reverse, each output).

    Notes
    -----
    ``"standard"``: offset the column's mean, scale its standard deviation (``ddof=0``),
    so the training column has mean 0 and standard deviation 1. ``"minmax"``: offset the
    minimum, scale the range (max − min), so the training column spans [0, 1]; other
    patterns may fall outside. A constant column (spread at most :data:`CONSTANT` times
    its largest magnitude) gets scale 1: it becomes 0 (its offset subtracted) instead of a
    division by zero.
    """

    inputs: str | None
    targets: str | None
    input_offset: np.ndarray
    input_scale: np.ndarray
    target_offset: np.ndarray
    target_scale: np.ndarray

    @classmethod
    def fit(cls, X: Any, T: Any, inputs: str | None = None, targets: str | None = None) -> Scaling:
        """Fit the scaling of each side on training patterns.

        Parameters
        ----------
        X, T : array_like
            Training inputs ``(patterns, n_inputs)`` and targets ``(patterns, n_outputs)``,
            finite.
        inputs, targets : {"standard", "minmax", None}
            How to scale each side; None leaves it as it is.

        Returns
        -------
        Scaling

        Raises
        ------
        DataError
            An unknown method, or patterns that are not a finite 2-D array.
        """
        sides = []
        for name, A, method in (("inputs", X, inputs), ("targets", T, targets)):
            if method is not None and method not in METHODS:
                raise DataError(f"unknown scaling {method!r:.40} for the {name}; use one of {', '.join(METHODS)} "
                                "(or None to leave them as they are)")
            A = np.asarray(A, dtype=np.float64)
            if A.ndim != 2 or len(A) == 0 or not np.isfinite(A).all():
                raise DataError(f"the {name} to fit a scaling on must be a non-empty, finite (patterns, columns) "
                                f"array, not one of shape {A.shape}")
            offset, scale = _fit_columns(A, method)
            bad = np.flatnonzero(~np.isfinite(offset) | ~np.isfinite(scale))
            if len(bad):
                raise DataError(f"the {name}' column {bad[0]} is too spread out to scale: its "
                                f"{'standard deviation' if method == 'standard' else 'range'} overflows float64; "
                                "scale the data down first")
            sides.append((offset, scale))
        (in_offset, in_scale), (t_offset, t_scale) = sides
        return cls(inputs, targets, in_offset, in_scale, t_offset, t_scale)

    def scale_inputs(self, X: Any) -> np.ndarray:
        """Inputs in the units the network computes with: ``(X - input_offset) / input_scale``.

        Parameters
        ----------
        X : array_like
            ``(patterns, n_inputs)`` or ``(n_inputs,)``, in original units.

        Returns
        -------
        ndarray
            The same shape (``X`` itself, as an array, when the inputs are not scaled).
        """
        return _forward(X, self.inputs, self.input_offset, self.input_scale)

    def scale_targets(self, T: Any) -> np.ndarray:
        """Targets in the units the network is trained on: ``(T - target_offset) / target_scale``.

        Parameters
        ----------
        T : array_like
            ``(patterns, n_outputs)`` or ``(n_outputs,)``, in original units.

        Returns
        -------
        ndarray
        """
        return _forward(T, self.targets, self.target_offset, self.target_scale)

    def unscale_targets(self, Y: Any) -> np.ndarray:
        """Outputs (or scaled targets) back in the targets' original units: ``Y · target_scale + target_offset``.

        Parameters
        ----------
        Y : array_like
            ``(patterns, n_outputs)`` or ``(n_outputs,)``, in the network's units.

        Returns
        -------
        ndarray
            Of ``Y``'s dtype (``Y`` itself when the targets are not scaled).
        """
        Y = np.asarray(Y)
        if self.targets is None:
            return Y
        with np.errstate(over="ignore"):
            return (Y * self.target_scale + self.target_offset).astype(Y.dtype if Y.dtype.kind == "f" else np.float64,
                                                                       copy=False)

    def apply(self, patterns: Patterns) -> Patterns:
        """The patterns scaled (inputs and targets), names and labels kept.

        Parameters
        ----------
        patterns : Patterns

        Returns
        -------
        Patterns
        """
        return Patterns(self.scale_inputs(patterns.inputs), self.scale_targets(patterns.targets),
                        patterns.input_names, patterns.target_names, patterns.labels)

    def check(self, n_inputs: int, n_outputs: int) -> None:
        """Refuse a scaling whose widths are not a network's.

        Parameters
        ----------
        n_inputs, n_outputs : int
            The network's numbers of input units and outputs.

        Raises
        ------
        DataError
            Saying which side has how many columns.
        """
        for side, have, want in (("inputs", len(self.input_offset), n_inputs),
                                 ("targets", len(self.target_offset), n_outputs)):
            if have != want:
                units = "input units" if side == "inputs" else "outputs"
                raise DataError(f"the scaling has {have} {side} columns but the network has {want} {units}; fit the "
                                "scaling on patterns of this network (or set net.scaling = None)")

    def describe(self) -> str:
        """One line for reports: ``inputs standard, targets minmax``."""
        return ", ".join(f"{side} {method or 'not scaled'}" for side, method in
                         (("inputs", self.inputs), ("targets", self.targets)))

    def to_dict(self) -> dict:
        """The scaling as a JSON-ready mapping (the ``"scaling"`` entry of ``network.json``).

        Returns
        -------
        dict
            ``{"inputs": {"method": "standard", "offset": [...], "scale": [...]},
            "targets": {...}}``; a side that is not scaled is left out.
        """
        out = {}
        for side, method, offset, scale in (("inputs", self.inputs, self.input_offset, self.input_scale),
                                            ("targets", self.targets, self.target_offset, self.target_scale)):
            if method is not None:
                out[side] = {"method": method, "offset": offset.tolist(), "scale": scale.tolist()}
        return out

    @classmethod
    def from_dict(cls, data: Any, n_inputs: int, n_outputs: int) -> Scaling:
        """Read :meth:`to_dict`'s mapping back, for a network of ``n_inputs`` and ``n_outputs``.

        Parameters
        ----------
        data : mapping
            ``{"inputs": {...}, "targets": {...}}``, either side optional.
        n_inputs, n_outputs : int
            The widths each side must have.

        Returns
        -------
        Scaling

        Raises
        ------
        DataError
            Naming the entry that is malformed (``scaling.targets.scale[0]``).
        """
        if not isinstance(data, Mapping) or not set(data) <= {"inputs", "targets"}:
            raise DataError(f"scaling must be a mapping with 'inputs' and/or 'targets' entries, not {data!r:.60}")
        fields: dict[str, Any] = {}
        for side, n in (("inputs", n_inputs), ("targets", n_outputs)):
            entry = data.get(side)
            if entry is None:
                fields[side] = (None, np.zeros(n), np.ones(n))
                continue
            where = f"scaling.{side}"
            if not isinstance(entry, Mapping) or entry.get("method") not in METHODS:
                raise DataError(f"{where} must be a mapping whose 'method' is one of {', '.join(METHODS)}, "
                                f"not {entry!r:.60}")
            offset = _numbers(entry.get("offset"), f"{where}.offset", n, positive=False)
            scale = _numbers(entry.get("scale"), f"{where}.scale", n, positive=True)
            fields[side] = (entry["method"], offset, scale)
        (inputs, in_offset, in_scale), (targets, t_offset, t_scale) = fields["inputs"], fields["targets"]
        return cls(inputs, targets, in_offset, in_scale, t_offset, t_scale)


def _fit_columns(A: np.ndarray, method: str | None) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)`` per column of ``A`` for ``method`` (None: 0 and 1)."""
    n = A.shape[1]
    if method is None:
        return np.zeros(n), np.ones(n)
    with np.errstate(over="ignore", invalid="ignore"):       # an overflow is found and reported by fit
        if method == "standard":
            offset, spread = A.mean(axis=0), A.std(axis=0)
        else:
            offset = A.min(axis=0)
            spread = A.max(axis=0) - offset
    constant = spread <= CONSTANT * np.abs(A).max(axis=0)
    return offset, np.where(constant, 1.0, spread)


def _forward(A: Any, method: str | None, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    A = np.asarray(A)
    if method is None:
        return A
    with np.errstate(over="ignore"):             # an overflow leaves inf, which the caller reports
        return (np.asarray(A, dtype=np.float64) - offset) / scale


def _numbers(values: Any, where: str, n: int, positive: bool) -> np.ndarray:
    """``values`` as a float array of ``n`` finite numbers (``> 0`` if ``positive``), else a DataError."""
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise DataError(f"{where} must be a list of {n} numbers (one per column), not {values!r:.60}")
    out = np.empty(n)
    for k, x in enumerate(values):
        try:
            out[k] = float(x) if isinstance(x, numbers.Real) and not isinstance(x, bool) else math.nan
        except OverflowError:                   # an integer beyond float range
            out[k] = math.nan
        if not math.isfinite(out[k]) or (positive and out[k] <= 0):
            raise DataError(f"{where}[{k}] must be a finite number{' > 0' if positive else ''}, not {x!r:.40}")
    return out
