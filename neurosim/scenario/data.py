"""A scenario's data sources: patterns written inline, from a dataset plugin, or from a
CSV or FANN file, each read and checked with the scenario key it came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NeurosimError
from ..functions import Patterns
from ..plugins import Registry
from .schema import FILE_FORMATS, _Reader, _toml

__all__: list[str] = []


def _array(r: _Reader, value: Any, path: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise r.fail(path, "must be an array of patterns (non-empty), e.g. [[0.05, 0.10]]")
    rows = [row if isinstance(row, list) else [row] for row in value]
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise r.fail(f"{path}[{i}]", f"has {len(row)} values but pattern 0 has {len(rows[0])}; "
                                         "every pattern needs the same number of values")
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise r.fail(f"{path}[{i}][{j}]", f"must be a finite number, not {_toml(x)}")
    return np.array(rows, dtype=np.float64)


def _inline(r: _Reader, d: Mapping, path: str) -> Patterns:
    """Patterns written in the file: ``inputs`` and ``targets`` arrays of equal length."""
    X = _array(r, d["inputs"], f"{path}.inputs")
    T = _array(r, r.get(d, "targets", path, (list,)), f"{path}.targets")
    if len(T) != len(X):
        raise r.fail(f"{path}.targets", f"has {len(T)} patterns but {path}.inputs has {len(X)}; give one "
                     "target row per input pattern")
    return Patterns(X, T)


def _load_patterns(r: _Reader, d: Mapping, path: str, base_dir: Path, registry: Registry) -> Patterns:
    """Patterns from one data source: inline arrays, a dataset plugin, or a file."""
    sources = [k for k in ("inputs", "dataset", "file") if k in d]
    if len(sources) != 1:
        raise r.fail(path, "give exactly one source: inputs and targets, dataset = NAME, or file = PATH"
                     + (f" (found {', '.join(sources)})" if sources else ""))
    only = {"targets": "inputs", "options": "dataset", "format": "file", "input_columns": "file",
            "target_columns": "file", "class_column": "file", "delimiter": "file", "header": "file",
            "keep_classes": "class_column", "positive_class": "class_column"}
    for key, needs in only.items():
        if key in d and needs not in d:
            raise r.fail(f"{path}.{key}", f"only applies with {needs} = ...")
    if "inputs" in d:
        return _inline(r, d, path)
    if "dataset" in d:
        name = r.get(d, "dataset", path, (str,))
        options = r.get(d, "options", path, (dict,), {})
        try:
            dataset = registry.with_options("dataset", name, options)
        except NeurosimError as exc:
            raise r.fail(f"{path}.{'options' if 'option' in str(exc) and name in registry.names('dataset') else 'dataset'}",
                         str(exc)) from None
        try:
            return dataset(**options)
        except NeurosimError as exc:
            raise r.fail(f"{path}.options", str(exc)) from None
    from ..datafiles import read_patterns

    file = Path(r.get(d, "file", path, (str,)))
    fmt = r.get(d, "format", path, (str,), None, choices=FILE_FORMATS)
    kwargs: dict[str, Any] = {}
    for key, arg in (("input_columns", "inputs"), ("target_columns", "targets")):
        if key in d:
            cols = r.get(d, key, path, (list,))
            if not cols or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in cols):
                raise r.fail(f"{path}.{key}", "must be a non-empty array of column names or 0-based numbers")
            kwargs[arg] = cols
    if "class_column" in d:
        kwargs["classes"] = r.get(d, "class_column", path, (str, int))
    if "keep_classes" in d:
        kwargs["keep_classes"] = r.get(d, "keep_classes", path, (list,))
        if not kwargs["keep_classes"] or not all(isinstance(c, str) for c in kwargs["keep_classes"]):
            raise r.fail(f"{path}.keep_classes", "must be a non-empty array of class labels (strings)")
    if "positive_class" in d:
        kwargs["positive_class"] = r.get(d, "positive_class", path, (str,))
    if "delimiter" in d:
        kwargs["delimiter"] = r.get(d, "delimiter", path, (str,))
    if "header" in d:
        kwargs["header"] = r.get(d, "header", path, (bool,))
    try:
        return read_patterns(file if file.is_absolute() else base_dir / file, format=fmt, **kwargs)
    except NeurosimError as exc:
        # The reader names its own arguments; report the scenario key they came from.
        text, key = str(exc), "file"
        for arg, scenario_key in (("keep_classes", "keep_classes"), ("positive_class", "positive_class"),
                                  ("classes", "class_column"), ("inputs", "input_columns"),
                                  ("targets", "target_columns")):
            if f": {arg}:" in text and scenario_key in d:
                key = scenario_key
                break
        raise r.fail(f"{path}.{key}", text) from None
