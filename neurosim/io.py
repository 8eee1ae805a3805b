"""Files neurosim reads and writes: bounded reads, atomic writes and the results-folder lock.

:func:`read_text` is the one way neurosim reads a file it is pointed at (a scenario file,
a CSV or FANN data file): it takes only a regular file, looks at it before opening it and
opens it without blocking (so a FIFO or a device is refused, never waited on or read
forever), and reads at most a stated number of bytes (:data:`SCENARIO_FILE_LIMIT`,
:data:`DATA_FILE_LIMIT`); every refusal is a :class:`FileError` whose message starts with
the file. :func:`parse_toml` reads TOML text and reports the limits of Python's own reader
(nesting depth, integer digits) as :class:`TOMLLimitError` instead of a bare
``RecursionError`` or ``ValueError``. Everything written to disk goes through
:func:`atomic_write` (or :func:`atomic_write_all` for files that belong together): the
content goes to a temporary file in the target's folder, which is then renamed over the
target, so an interrupted run never leaves a half-written file. :func:`folder_lock` keeps
two runs from writing one results folder at once, and :func:`sweep_temporaries` removes,
under that lock, the temporary files a killed writer left behind. :func:`network_to_dict`
and :func:`network_from_dict` convert a :class:`~neurosim.Network` to and from a plain,
JSON-ready mapping (format ``neurosim-network``, version 1) that records every unit, edge,
weight and the plugin that provides each activation. What neurosim reads, writes and runs
is summed up in ``docs/security.md``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import DataError
from .resources import describe_bytes

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
    import msvcrt

__all__ = ["read_text", "regular_file", "parse_toml", "folder_lock", "sweep_temporaries", "atomic_write",
           "atomic_write_all", "json_text", "write_json", "FileError",
           "TOMLLimitError", "SCENARIO_FILE_LIMIT", "DATA_FILE_LIMIT", "LOCK_NAME"]

#: Largest scenario file :func:`neurosim.load_scenario` reads, in bytes (16 MB).
SCENARIO_FILE_LIMIT = 16_000_000
#: Largest CSV or FANN data file :mod:`neurosim.datafiles` reads, in bytes (1 GB).
DATA_FILE_LIMIT = 1_000_000_000
#: The lock file :func:`folder_lock` holds in a results folder.
LOCK_NAME = ".neurosim.lock"


class FileError(DataError):
    """A file or folder neurosim was given cannot be used: missing, not a regular file,
    too large, unreadable, not UTF-8 text, or a results folder another run is using.

    Parameters
    ----------
    path : str
        The path as the caller spelt it; the message starts with it.
    problem : str
        What is wrong and what would fix it (the message after ``path: ``).
    errno : int, optional
        The operating system's error number, when the refusal came from it.
    """

    def __init__(self, path: str, problem: str, errno: int | None = None):
        self.path, self.problem, self.errno = path, problem, errno
        super().__init__(f"{path}: {problem}")


class TOMLLimitError(ValueError):
    """TOML text that Python's reader cannot take for a limit of its own (arrays or tables
    nested past the recursion limit, an integer past the digit limit), not for a mistake
    in its syntax (that is ``tomllib.TOMLDecodeError``)."""


# --- reading ------------------------------------------------------------------------------

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))

#: Open for reading without blocking (a FIFO would wait for a writer) and without making a
#: terminal the controlling one; the flags a platform lacks are left out.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)


def _not_regular(mode: int, what: str) -> str:
    """The problem with a path whose ``st_mode`` is not a regular file's."""
    kind = next((kind for test, kind in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not {what}"


def _os_problem(exc: OSError, what: str) -> str:
    """The problem an ``OSError`` from looking at or reading a file means, for a message."""
    if exc.errno == errno.ENOENT:
        return f"no such file; give the path of {what}"
    if exc.errno == errno.ENOTDIR:
        return f"no such file (a part of the path is not a folder); give the path of {what}"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link that loops back on itself (too many levels of links); point it at a file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot be read ({exc.strerror}); check its permissions"
    return f"cannot be read ({exc.strerror or exc})"


def _bytes(n: int) -> str:
    """``"17,825,792 bytes (18 MB)"``: an exact size for a message, and a round one."""
    return f"{n:,} bytes ({describe_bytes(n)})" if n >= 1000 else f"{n:,} bytes"


def regular_file(path: str | os.PathLike, *, what: str) -> os.stat_result:
    """Check that ``path`` is a regular file, without opening it; return its status.

    Parameters
    ----------
    path : str or path
        The file (symbolic links are followed).
    what : str
        What the file should be, for messages: ``"a data file"``.

    Returns
    -------
    os.stat_result

    Raises
    ------
    FileError
        The path does not exist, loops, cannot be looked at, or is a directory, a FIFO,
        a socket or a device.
    """
    name = os.fspath(path)
    if "\0" in name:
        raise FileError(name.replace("\0", "\\0"), f"holds a NUL character, which no file name can; give the path "
                        f"of {what}")
    try:
        st = os.stat(name)
    except OSError as exc:
        raise FileError(name, _os_problem(exc, what), exc.errno) from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError(name, _not_regular(st.st_mode, what))
    return st


def read_text(path: str | os.PathLike, *, limit: int, what: str, encoding: str = "utf-8") -> str:
    """Read a regular file of at most ``limit`` bytes as text.

    The path is looked at first, so a FIFO, a socket, a directory or a device
    (``/dev/zero``) is refused without being opened; it is then opened with
    ``O_NONBLOCK`` (a FIFO swapped in meanwhile is refused too, never waited on), checked
    again with ``fstat`` and read. A file larger than ``limit`` is refused before it is
    read, and so is one that grows past ``limit`` while it is read.

    Parameters
    ----------
    path : str or path
        The file; messages name it as spelt here.
    limit : int
        The most bytes to read (:data:`SCENARIO_FILE_LIMIT`, :data:`DATA_FILE_LIMIT`).
    what : str
        What the file should be, for messages: ``"a .toml scenario file"``.
    encoding : str, default "utf-8"
        ``"utf-8-sig"`` also drops a byte-order mark.

    Returns
    -------
    str
        The whole text, line ends as they are in the file.

    Raises
    ------
    FileError
        Missing, a symbolic link loop, not permitted, not a regular file, larger than
        ``limit``, or not text in ``encoding``; the message starts with the path.
    """
    name = os.fspath(path)
    regular_file(name, what=what)
    try:
        fd = os.open(name, _READ_FLAGS)
    except OSError as exc:
        raise FileError(name, _os_problem(exc, what), exc.errno) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileError(name, _not_regular(st.st_mode, what))
        if st.st_size > limit:
            raise FileError(name, f"is {_bytes(st.st_size)}, more than the {_bytes(limit)} neurosim reads from "
                                  f"{what}; is it the right file?")
        data = bytearray()
        while len(data) <= limit:      # the size said first, then in pieces (it may be wrong: /proc)
            chunk = os.read(fd, min(max(st.st_size + 1 - len(data), 2**16), limit + 1 - len(data)))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise FileError(name, _os_problem(exc, what), exc.errno) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileError(name, f"holds more than the {_bytes(limit)} neurosim reads from {what} (more than its "
                              "size said); is it the right file?")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileError(name, f"not a UTF-8 text file (byte {exc.start} cannot be decoded); save it as "
                              "UTF-8") from None


def parse_toml(text: str) -> dict:
    """Parse TOML text, as :func:`tomllib.loads`, with Python's own limits reported clearly.

    Parameters
    ----------
    text : str

    Returns
    -------
    dict

    Raises
    ------
    tomllib.TOMLDecodeError
        The text is not valid TOML (the message gives the line and column).
    TOMLLimitError
        Arrays or tables are nested deeper than Python's recursion limit lets it read, or
        an integer has more digits than ``sys.get_int_max_str_digits()`` (the message
        gives its line and length).
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise TOMLLimitError("arrays or tables are nested too deeply to read (past Python's recursion "
                             "limit); nest them less deeply") from None
    except ValueError as exc:          # int() refusing more than sys.get_int_max_str_digits() digits
        raise TOMLLimitError(_long_integer(text) or str(exc)) from None


def _long_integer(text: str) -> str | None:
    """Where the first integer too long for ``int()`` is, and how long, for a message."""
    most = sys.get_int_max_str_digits()
    for match in re.finditer(r"(?<![\w.])[0-9][0-9_]*(?![\w.])", text):     # not part of a float or a name
        digits = len(match.group().replace("_", ""))
        if most and digits > most:
            line = text.count("\n", 0, match.start()) + 1
            where = f" on line {line}" if "\n" in text.strip() else ""
            return (f"the integer{where} has {digits:,} digits; Python reads integers of at most {most:,} "
                    "digits")
    return None


# --- the results folder -------------------------------------------------------------------

_BUSY = "another neurosim run is using this folder; wait for it to finish or choose another folder"
_held: dict[tuple[int, int], int] = {}       # (st_dev, st_ino) of a locked folder -> the holding thread
_held_guard = threading.Lock()


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the results folder ``folder`` for this run: no other run can write there meanwhile.

    The lock is ``folder/.neurosim.lock`` (:data:`LOCK_NAME`), locked with
    ``fcntl.flock`` (``msvcrt.locking`` on Windows), so a process that is killed releases
    it; the file is removed again on release. The holding thread may take the lock again
    (a run that holds its folder can save into it); any other thread or process is
    refused, never made to wait.

    Parameters
    ----------
    folder : str or path
        An existing folder.

    Yields
    ------
    Path
        ``folder``.

    Raises
    ------
    FileError
        Another run (or another thread) holds the folder; or it is not a folder, cannot
        be used (permissions), or its lock file has been replaced by something else.
    """
    folder = Path(folder)
    name = os.fspath(folder)
    try:
        st = os.stat(folder)
    except OSError as exc:
        raise FileError(name, f"cannot be used as the results folder ({exc.strerror})", exc.errno) from None
    if not stat.S_ISDIR(st.st_mode):
        raise FileError(name, "is not a folder; give a folder for the results")
    key, me = (st.st_dev, st.st_ino), threading.get_ident()
    with _held_guard:
        holder = _held.get(key)
        if holder is not None and holder != me:
            raise FileError(name, _BUSY)
    if holder == me:                            # taken again by its holder: it stays theirs
        yield folder
        return
    fd = _acquire(folder / LOCK_NAME, name)
    with _held_guard:
        _held[key] = me
    try:
        yield folder
    finally:
        with _held_guard:
            del _held[key]
        _release(folder / LOCK_NAME, fd)


def _acquire(path: Path, name: str) -> int:
    """Open and lock the lock file ``path``; its descriptor. ``name`` is the folder."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            problem = (f"{LOCK_NAME} there is a symbolic link; remove it" if exc.errno == errno.ELOOP else
                       f"cannot be used as the results folder ({exc.strerror}); check its permissions")
            raise FileError(name, problem, exc.errno) from None
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise FileError(name, f"{LOCK_NAME} there is not a regular file; remove it")
            _lock(fd, name)
            try:
                now = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)          # its holder removed the file as we locked it: lock the new one


def _lock(fd: int, name: str) -> None:
    """Lock ``fd`` without waiting; a :class:`FileError` when someone else holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            raise FileError(name, _BUSY, exc.errno) from None
        raise FileError(name, f"cannot be locked for the results ({exc.strerror})", exc.errno) from None


def _release(path: Path, fd: int) -> None:
    """Remove the lock file while it is still locked, then close (and so unlock) it."""
    try:
        if fcntl is not None:       # Windows cannot remove an open file; the file stays there
            os.unlink(path)
        else:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    except OSError:
        pass
    finally:
        os.close(fd)


#: The temporary files :func:`atomic_write_all` writes: ``.NAME.XXXXXXXX.tmp`` beside
#: ``NAME``, ``XXXXXXXX`` being what ``tempfile.mkstemp`` draws.
_TEMPORARY = r"\.{name}\.[a-z0-9_]{{8}}\.tmp"


def sweep_temporaries(folder: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Remove the temporary files a killed writer left beside ``names`` in ``folder``.

    A process killed between writing a temporary file and renaming it (a ``SIGKILL``, a
    power cut) leaves ``.NAME.XXXXXXXX.tmp`` behind. Only files of exactly that pattern,
    for the names given, are removed, and only while the caller holds
    :func:`folder_lock`, so no running writer's temporary file is ever touched.

    Parameters
    ----------
    folder : str or path
        The folder, held with :func:`folder_lock` by this thread.
    names : iterable of str
        The file names about to be written (``"summary.json"``).

    Returns
    -------
    list of Path
        The files removed.

    Raises
    ------
    RuntimeError
        When this thread does not hold ``folder``'s lock.
    """
    st = os.stat(folder)
    with _held_guard:
        if _held.get((st.st_dev, st.st_ino)) != threading.get_ident():
            raise RuntimeError(f"sweep_temporaries({os.fspath(folder)!r}) needs folder_lock held by this thread")
    stale = re.compile("|".join(_TEMPORARY.format(name=re.escape(n)) for n in names))
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if stale.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


# --- writing ------------------------------------------------------------------------------


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


def atomic_write_all(files: Mapping[str | os.PathLike, str | bytes]) -> list[Path]:
    """Write several files that belong together: every one to a temporary file first, then
    all renamed over their targets.

    Every target is checked first (its folder exists, no folder is in its place); an
    interruption while writing then leaves every target as it was. Only a failure
    between the renames (they take microseconds) could leave a mix of old and new files,
    and never a half-written one.

    Parameters
    ----------
    files : mapping
        ``{path: text}``, text a ``str`` (written as UTF-8) or ``bytes`` (written as they
        are); each path's folder must exist.

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


def _write_temporary(path: Path, text: str | bytes) -> str:
    """Write ``text`` (or bytes) to a new temporary file beside ``path``, flushed to disk; its name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else
              os.fdopen(fd, "w", encoding="utf-8", newline="")) as fh:
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
