"""Network files: :func:`save_network` and :func:`load_network` (``net.save``, ``neurosim.load``).

A network file is the ``neurosim-network`` mapping of :func:`neurosim.graphs.network_to_dict`
as JSON (docs/network-format.md): the same file ``neurosim run --out`` writes as
``network.json``. Saving writes it atomically (:func:`neurosim.io.atomic_write`), so an
interrupted save leaves the old file or the new one, never half of one. Loading reads it
through the bounded reader :func:`neurosim.io.read_text` (a regular file of at most
:data:`NETWORK_FILE_LIMIT` bytes), parses it and rebuilds the network with
:func:`neurosim.graphs.network_from_dict`; every refusal starts with the file's path: a
file that is not JSON or is cut short, a newer format version, a malformed entry (named:
``edges[7].weight``), a plugin that is not installed (named, with the distribution to
install).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import graphs
from .errors import CycleError, DataError, NeurosimError
from .io import DATA_FILE_LIMIT, FileError, atomic_write, json_text, read_text

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["save_network", "load_network", "NETWORK_FILE_LIMIT"]

#: Largest network file :func:`load_network` reads, in bytes (1 GB, as for data files).
NETWORK_FILE_LIMIT = DATA_FILE_LIMIT

_WHAT = "a neurosim network file (.json, written by net.save or neurosim run --out)"


def _path(path: Any, verb: str) -> str:
    """``path`` as a string, or a DataError when it is not a path."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise DataError(f"{verb} needs the path of a network file (a str or pathlib.Path), not {path!r:.60}")
    name = os.fspath(path)
    if isinstance(name, bytes):
        raise DataError(f"{verb} needs the path as a str or pathlib.Path, not bytes {name!r:.60}")
    return name


def save_network(net: Network, path: str | os.PathLike) -> Path:
    """Write ``net`` to ``path`` as a ``neurosim-network`` JSON file, atomically.

    Parameters
    ----------
    net : neurosim.Network
    path : str or path
        The file; its folder must exist. An existing file is replaced only once the new
        one is complete.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DataError
        When the folder is missing or a folder stands at ``path``.
    TopologyError
        When the network cannot compile yet (no inputs or no outputs), so that its
        weights cannot be drawn.
    """
    name = _path(path, "save")
    return atomic_write(name, json_text(net.to_dict()))


def load_network(cls: type[Network], path: str | os.PathLike, **network_kwargs: Any) -> Network:
    """Read a network file written by :func:`save_network` (or ``neurosim run --out``).

    Parameters
    ----------
    cls : type
        :class:`~neurosim.Network` (or a subclass).
    path : str or path
        The file.
    **network_kwargs
        Passed to the network: ``plugins`` (extra plugins, e.g. the ``.py`` file that
        provides an activation), ``registry``, ``seed``, ``init`` and ``init_options``
        (instead of the file's initialiser).

    Returns
    -------
    Network
        Equal to the saved one: the same units in the same order, weights to the bit,
        flags, labels, groups, output order, dtype, scaling and tied sets.

    Raises
    ------
    FileError
        The file is missing, not a regular file, too large, not UTF-8, not JSON (or cut
        short), not a network file, of a newer format version (the message says which
        neurosim wrote it and how to upgrade), or has a malformed entry (named).
    PluginError
        An activation or the initialiser is not installed: the message names the plugin
        and the distribution to ``pip install``.
    TopologyError
        The units and edges do not make a feed-forward network (an edge to a unit that
        does not exist, a unit named twice, a cycle: :class:`~neurosim.errors.CycleError`).
        Every message starts with the file's path.
    """
    name = _path(path, "load")
    text = read_text(name, limit=NETWORK_FILE_LIMIT, what=_WHAT)
    data = _parse(name, text)
    try:
        return graphs.network_from_dict(cls, data, **network_kwargs)
    except FileError:
        raise
    except CycleError as exc:
        raise CycleError(f"{name}: {exc}", exc.cycle) from None
    except DataError as exc:
        raise FileError(name, str(exc)) from None
    except NeurosimError as exc:
        try:
            again = type(exc)(f"{name}: {exc}")
        except TypeError:        # an error class with other arguments: as it is
            raise exc from None
        raise again from None


#: What is left after the place a JSON text cut inside a token breaks at: part of a number
#: (``0.``, ``1e-``) or of ``true``, ``false``, ``null``.
_TOKEN_START = re.compile(r"[-+.eE0-9]*|t(r(ue?)?)?|f(a(l(se?)?)?)?|n(u(ll?)?)?")


def _cut_short(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the JSON breaks off where ``text`` ends (a truncated file), not before."""
    return exc.msg.startswith("Unterminated string") or bool(_TOKEN_START.fullmatch(text[exc.pos:].strip()))


def _parse(name: str, text: str) -> Any:
    """The JSON of a network file, or a FileError saying where it is broken."""
    if not text.strip():
        raise FileError(name, "is empty; a network file holds the JSON net.save() writes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if _cut_short(text, exc):
            raise FileError(name, f"ends before its JSON does (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                                  "the file is truncated, e.g. a copy cut short: save or copy it again") from None
        raise FileError(name, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; a network "
                              "file holds the JSON net.save() writes") from None
    except RecursionError:
        raise FileError(name, "is JSON nested too deeply to read (past Python's recursion limit); it is not a "
                              "network file") from None
    except ValueError as exc:       # an integer of more digits than Python reads
        raise FileError(name, f"holds a number JSON cannot be read with here ({exc}); it is not a network "
                              "file net.save() wrote") from None
