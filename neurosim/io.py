"""Files neurosim writes and reads: atomic writes and the versioned network format.

Everything written to disk goes through :func:`atomic_write` (or
:func:`atomic_write_all` for files that belong together): the content goes to a
temporary file in the target's folder, which is then renamed over the target, so an
interrupted run never leaves a half-written file. :func:`network_to_dict` and
:func:`network_from_dict` convert a :class:`~neurosim.Network` to and from a plain,
JSON-ready mapping (format ``neurosim-network``, version 1) that records every unit, edge,
weight and the plugin that provides each activation.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from .errors import DataError
from .neurons import BiasUnit, InputUnit, Neuron

__all__ = ["atomic_write", "atomic_write_all", "json_text", "write_json", "network_to_dict", "network_from_dict", "FORMAT", "VERSION"]

FORMAT = "neurosim-network"
VERSION = 1


def atomic_write(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    Parameters
    ----------
    path : str or path
        The target; its folder must exist.
    text : str
        The whole content (UTF-8).

    Returns
    -------
    Path
        The target path.
    """
    return atomic_write_all({path: text})[0]


def atomic_write_all(files: Mapping[str | os.PathLike, str]) -> list[Path]:
    """Write several files that belong together: every one to a temporary file first, then
    all renamed over their targets.

    Every target is checked first (its folder exists, no folder is in its place); an
    interruption while writing then leaves every target as it was. Only a failure
    between the renames (they take microseconds) could leave a mix of old and new files,
    and never a half-written one.

    Parameters
    ----------
    files : mapping
        ``{path: text}``; each path's folder must exist.

    Returns
    -------
    list of Path
        The targets, in the order given.

    Raises
    ------
    DataError
        When a target's folder is missing or a folder stands where a target would go.
    """
    for path in files:
        path = Path(path)
        if not path.parent.is_dir():
            raise DataError(f"cannot write {path}: its folder {path.parent} does not exist (or is not a folder)")
        if path.is_dir():
            raise DataError(f"cannot write {path}: a folder of that name is in the way; move it or write "
                            "elsewhere")
    written: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path = Path(path)
            written.append((_write_temporary(path, text), path))
        for tmp, path in written:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in written:
            try:
                os.unlink(tmp)
            except FileNotFoundError:      # already renamed
                pass
        raise
    return [path for _, path in written]


def _write_temporary(path: Path, text: str) -> str:
    """Write ``text`` to a new temporary file beside ``path``, flushed to disk; its name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)     # mkstemp makes it private; results are for sharing
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def json_text(data: Any) -> str:
    """``data`` as indented JSON text, ending in a newline (what :func:`write_json` writes).

    JSON has no NaN or infinity (Python's ``json`` would write them anyway, and strict
    readers refuse the file): every non-finite float becomes ``null``.

    Parameters
    ----------
    data : JSON-serialisable object

    Returns
    -------
    str
    """
    return json.dumps(_finite(data), indent=2, sort_keys=False, allow_nan=False) + "\n"


def _finite(data: Any) -> Any:
    """``data`` with every NaN or infinite float (numpy's too) replaced by None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, Mapping):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically (see :func:`atomic_write`).

    Parameters
    ----------
    path : str or path
    data : JSON-serialisable object

    Returns
    -------
    Path
    """
    return atomic_write(path, json_text(data))


def network_to_dict(net) -> dict:
    """A JSON-ready description of ``net``: units, edges, weights and plugins used.

    Parameters
    ----------
    net : neurosim.Network

    Returns
    -------
    dict
        ``{"format": "neurosim-network", "version": 1, "dtype": ..., "units": [...],
        "edges": [...], "plugins": {activation: plugin}}``. Units keep their order (the
        input and output column order).
    """
    weights = net.weights()
    units = []
    for u in net.graph.nodes:
        entry: dict[str, Any] = {"name": u.name, "kind": u.kind}
        if isinstance(u, Neuron):
            entry["activation"] = u.activation
            if u.output:
                entry["output"] = net.outputs.index(u)
            if u.group is not None:
                entry["group"] = u.group
        units.append(entry)
    edges = []
    for u, v, data in net.graph.edges(data=True):
        edge = {"src": u.name, "dst": v.name, "weight": weights[(u.name, v.name)]}
        if not data.get("trainable", True):
            edge["trainable"] = False
        if data.get("label"):
            edge["label"] = data["label"]
        edges.append(edge)
    plugins = {name: net.registry.owner("activation", name) for name in sorted({u.activation for u in net.neurons})}
    return {"format": FORMAT, "version": VERSION, "dtype": str(net.dtype), "units": units, "edges": edges,
            "plugins": {"activation": plugins}}


def network_from_dict(data: dict, **network_kwargs: Any):
    """Rebuild a network from :func:`network_to_dict`'s mapping.

    Parameters
    ----------
    data : dict
        The mapping (e.g. loaded from ``network.json``).
    **network_kwargs
        Passed to :class:`~neurosim.Network` (``registry``, ``plugins``).

    Returns
    -------
    neurosim.Network

    Raises
    ------
    DataError
        When the mapping is not a neurosim network of a version this code reads, or an
        entry is malformed (the message names it).
    """
    from .network import Network

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"not a {FORMAT} file (its 'format' is {data.get('format') if isinstance(data, dict) else None!r})")
    if data.get("version") != VERSION:
        raise DataError(f"{FORMAT} version {data.get('version')!r} is not supported; this neurosim reads "
                        f"version {VERSION}")
    net = Network(dtype=data.get("dtype", "float64"), **network_kwargs)
    outputs = []
    where = "units"
    try:
        for k, entry in enumerate(data["units"]):
            where = f"units[{k}]"
            kind = entry["kind"]
            if kind == InputUnit.kind:
                net.add_input(entry["name"])
            elif kind == BiasUnit.kind:
                net.add_bias(entry["name"])
            else:
                net.add_neuron(entry["name"], entry["activation"], group=entry.get("group"))
                if "output" in entry:
                    outputs.append((entry["output"], entry["name"]))
        for _, name in sorted(outputs):
            net.set_output(name)
        for k, edge in enumerate(data["edges"]):
            where = f"edges[{k}]"
            net.connect(edge["src"], edge["dst"], edge["weight"], trainable=edge.get("trainable", True),
                        label=edge.get("label"))
    except (KeyError, TypeError) as exc:
        raise DataError(f"malformed {FORMAT} data at {where}: missing or wrong field {exc}") from None
    return net
