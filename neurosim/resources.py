"""Memory budgets: how much a network, a plan or a run would need, checked before allocating.

A layer of 10^9 neurons, an ensemble of 10^9 members or a history of 10^10 epochs does not
fail cleanly when numpy or Python finally runs out of memory: the machine swaps, the
kernel kills the process, or a ``MemoryError`` surfaces from deep inside numpy. Everything
that allocates in proportion to a number the user gave estimates its need first and calls
:func:`require_memory`, which refuses with a :class:`~neurosim.errors.ResourceError`
stating the estimate, what is available and what would fix it. The per-object costs
below were measured on CPython 3.11 (64-bit) and are deliberately round.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ResourceError

__all__ = ["BYTES_PER_UNIT", "BYTES_PER_EDGE", "SMALL_NEED", "available_memory", "require_memory", "describe_bytes"]

#: Needs of at most this many bytes are never refused, and the platform is not asked (a
#: process that cannot have 1 MiB more cannot go on anyway). Asking reads /proc, about
#: 50 us, and training a small network asked seven times: 0.4 ms of W1's 10-15 ms on the
#: python backend.
SMALL_NEED = 1 << 20

#: A unit object with its graph node and name index (measured: about 570 bytes).
BYTES_PER_UNIT = 600
#: An edge in the NetworkX graph: two adjacency entries and its data dict (measured: about
#: 270 bytes), plus what compiling it holds at its peak (about 200 more).
BYTES_PER_EDGE = 500


def available_memory(now: bool = True) -> int | None:
    """Bytes this process may allocate, or None when the platform does not say.

    Parameters
    ----------
    now : bool, default True
        True: what may be allocated now, the memory the operating system reports as
        available (Linux ``MemAvailable``, else the physical memory). False: what could
        ever be, the physical memory. Either way no more than the limit of the process's
        cgroup (containers), if it has one.

    Returns
    -------
    int or None
    """
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines() if now else ():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    for cgroup in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(cgroup).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:       # "max" or a huge number: no limit
            limits.append(int(text))
        break
    return min(limits) if limits else None


def describe_bytes(n: float) -> str:
    """``"1.5 GB"``: a byte count for messages (decimal units, two significant figures).

    Parameters
    ----------
    n : float
        A number of bytes.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_bytes(1.5e9), describe_bytes(812), describe_bytes(3.2e15)
    ('1.5 GB', '812 bytes', '3200 TB')
    """
    if n < 1000:
        return f"{n:.0f} bytes"
    for unit in ("kB", "MB", "GB"):
        n /= 1000.0
        if n < 1000:
            return f"{n:.2g} {unit}" if n < 100 else f"{n:.0f} {unit}"
    return f"{n / 1000.0:.0f} TB"


def require_memory(nbytes: float, what: str, fix: str, *, now: bool = True) -> None:
    """Refuse, before allocating, what cannot fit in the memory this process has.

    Parameters
    ----------
    nbytes : float
        The estimated need, in bytes (a float, so that products of user-given counts
        cannot overflow).
    what : str
        What would need it, as the start of a sentence (``"layer 'h' of 1000000000
        neurons"``).
    fix : str
        What the user can do instead (``"use fewer neurons"``).
    now : bool, default True
        The need is allocated now (compared with the memory available now), or only in
        the course of a run (the learning curve of many epochs grows as they run: compared
        with the machine's memory, which it could have by then).

    Raises
    ------
    ResourceError
        When ``nbytes`` exceeds that memory (see :func:`available_memory`). Nothing is
        refused when the platform does not report its memory, nor any need of at most
        :data:`SMALL_NEED` bytes.
    """
    if nbytes <= SMALL_NEED:
        return
    available = available_memory(now)
    if available is not None and nbytes > available:
        has = f"only {describe_bytes(available)} is available" if now else \
            f"this machine has only {describe_bytes(available)}"
        raise ResourceError(f"{what} would need about {describe_bytes(nbytes)} of memory, but {has}; {fix}")
