"""How many threads the BLAS library uses for each level of a pass (needs threadpoolctl).

A multi-threaded BLAS (OpenBLAS in numpy's wheels) splits a matrix product among its
threads. On a machine whose cores are busy with other work the second thread may wait a
scheduler tick (4 ms) or more before it runs, so a product of a fraction of a millisecond
takes tens of milliseconds; only very large products gain from threads there. The
compiled plan (:mod:`neurosim.engine`) therefore sizes every level's products when it
builds the buffers for a batch (:func:`choose`) and, during a pass, runs the levels whose
products are smaller than :data:`THRESHOLD` on one thread and the others on the count the
library had when the pass began, which it puts back when the pass ends
(:class:`Switch`). The count is set through threadpoolctl's library controllers, found
once, and only when it changes (a call of under a microsecond).

Nothing is switched when threadpoolctl is not installed (``pip install 'neurosim[fast]'``
installs it), when the user fixed the count with ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, or after ``set_blas_threads("off")`` (or
``NEUROSIM_BLAS_THREADS=off`` in the environment). The choice depends on the sizes only,
never on the load, so a run computes the same bits every time on one machine.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from .errors import DataError

__all__ = ["THRESHOLD", "SINGLE", "USER_SETTINGS", "Switch", "choose", "switch", "set_blas_threads", "describe"]

#: Multiply-adds (``m * k * n``) from which a product runs on the library's threads; a
#: level whose largest product is smaller runs on one thread. Measured on a 2-core machine
#: under a load of about 2 (docs/engine.md, "BLAS threads"): below about 2**30 (a
#: 1024x1024 by 1024x1024 product, some 60 ms on one core) two threads were slower than
#: one at the median, by up to 90x for products of a few million.
THRESHOLD = 2 ** 30
#: Products of at most this many multiply-adds run on one thread inside OpenBLAS anyway
#: (its matrix-vector cut, the lower of its two); a pass whose products are all this
#: small never switches.
SINGLE = 9216
#: The environment variables with which a user fixes the BLAS thread count; when any is
#: set, neurosim leaves the count alone.
USER_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_MODES = ("auto", "off")



def _mode_from_env(value: str | None) -> str:
    """The mode ``NEUROSIM_BLAS_THREADS`` asks for: ``"off"`` or ``"auto"`` (unset or empty);
    any other value warns, naming the variable, and leaves the default, ``"auto"``."""
    text = (value or "").strip().lower()
    if text in ("", "auto"):
        return "auto"
    if text == "off":
        return "off"
    warnings.warn(f"NEUROSIM_BLAS_THREADS={value!r} is neither 'auto' nor 'off'; per-level BLAS threads stay "
                  "'auto'. To fix the thread count, set OPENBLAS_NUM_THREADS instead", stacklevel=2)
    return "auto"


_mode = _mode_from_env(os.environ.get("NEUROSIM_BLAS_THREADS"))
_switch: Switch | None = None
_found = False
_why = ""


class Switch:
    """Sets the BLAS thread count of the libraries found, only when it changes.

    A pass calls :meth:`begin`, then :meth:`use` before each level that needs a count
    (or ``begin(False)``: one thread throughout), then :meth:`end` (in a ``finally``, so
    an interrupted pass puts the count back too). :meth:`begin` reads the count the
    library has now (the library's default, or what ``threadpoolctl.threadpool_limits``
    made it) and :meth:`end` puts it back, so neurosim never raises the count above the
    user's and leaves it as it found it. Should a pass still end without :meth:`end`, the
    next :meth:`begin` repairs it.

    Parameters
    ----------
    controllers : list
        threadpoolctl library controllers (``ThreadpoolController().select(...)
        .lib_controllers``), or any objects with ``get_num_threads()`` and
        ``set_num_threads(n)``.
    """

    def __init__(self, controllers: list):
        self.controllers = list(controllers)
        self._get = [c.get_num_threads for c in self.controllers]
        self._set = [c.set_num_threads for c in self.controllers]
        # threadpoolctl lets one Python thread at a time set OpenBLAS's process-wide
        # count; neurosim gives that up after each pass it changed something in
        self._release = [f for f in {getattr(type(c), "clear_controlling_thread", None)
                                     for c in self.controllers} if f is not None]
        self.top = self.low = self.current = 0      # 0: nothing to do in this pass
        self.changes = 0                            # counts set calls (tests read it)

    def _apply(self, n: int) -> None:
        for s in self._set:
            s(n)
        self.current = n
        self.changes += 1

    def begin(self, start: bool | None = None) -> None:
        """Start a pass: read the count in force (the one :meth:`end` restores).

        Parameters
        ----------
        start : bool, optional
            ``use(start)`` at once: False runs the whole pass on one thread, when no
            level is large and the levels' kernels are not wrapped.
        """
        if self.current != self.top:                # the last pass raised before end()
            self.end()
        top = max((g() or 1 for g in self._get), default=1) if _mode == "auto" else 0
        self.top = self.current = top
        self.low = 1 if top > 1 else top            # top 1 or 0: nothing to switch
        if start is not None:
            self.use(start)

    def use(self, large: bool) -> None:
        """Before a level: one thread, or the count the pass began with for ``large``."""
        n = self.top if large else self.low
        if n != self.current:
            self._apply(n)

    def end(self) -> None:
        """End a pass: put back the count :meth:`begin` found."""
        if self.current != self.top:
            self._apply(self.top)
            for release in self._release:
                release()


def _controllers() -> list | None:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process; None
    without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController        # optional: the fast extra
    except ImportError:
        return None
    import numpy  # noqa: F401  (the BLAS numpy loads must be in the process to be found)
    return ThreadpoolController().select(user_api="blas").lib_controllers


def _find() -> Switch | None:
    """The switch for the BLAS libraries loaded in this process, or None (``_why`` says why)."""
    global _why
    user = [k for k in USER_SETTINGS if os.environ.get(k, "").strip()]
    if user:
        _why = f"{user[0]} is set: the user's thread count is kept"
        return None
    controllers = _controllers()
    if controllers is None:
        _why = "threadpoolctl is not installed (pip install 'neurosim[fast]')"
        return None
    if not controllers:
        _why = "threadpoolctl found no BLAS library in this process"
        return None
    _why = ""
    return Switch(controllers)


def switch() -> Switch | None:
    """The process's :class:`Switch`, found on first use; None when nothing can be switched."""
    global _switch, _found
    if not _found:
        _switch, _found = _find(), True
    return _switch


def choose(sizes: list[int], threshold: int | None = None) -> list[bool | None] | None:
    """Which levels need which thread count, from their largest product.

    Parameters
    ----------
    sizes : list of int
        Per level, the multiply-adds ``m * k * n`` of its largest matrix product for the
        batch at hand.
    threshold : int, optional
        Default :data:`THRESHOLD`.

    Returns
    -------
    list or None
        Per level: None (every product runs on one thread in the library anyway: no
        switch), False (one thread) or True (the library's count). None instead of a
        list when no level needs a switch: every product is small, or every level that
        could use threads is large (the library's own count is right for all).

    Examples
    --------
    >>> choose([8, 640_000, 2 ** 31], threshold=2 ** 30)
    [None, False, True]
    >>> choose([8, 2 ** 31], threshold=2 ** 30) is None
    True
    """
    threshold = THRESHOLD if threshold is None else threshold
    levels = [None if s <= SINGLE else s >= threshold for s in sizes]
    return levels if False in levels else None


def set_blas_threads(mode: str) -> None:
    """Turn the per-level choice of BLAS threads on (``"auto"``, the default) or off.

    ``"off"`` leaves the BLAS library's thread count alone in every pass, as does setting
    ``NEUROSIM_BLAS_THREADS=off`` before neurosim is imported. To run every product on a
    fixed number of threads, set ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``) before
    starting Python, or call ``threadpoolctl.threadpool_limits(n)``: neurosim never
    raises the count above the one in force when a pass begins.

    Parameters
    ----------
    mode : {"auto", "off"}

    Raises
    ------
    DataError
        For any other mode (a ``ValueError`` too).
    """
    global _mode
    if mode not in _MODES:
        raise DataError(f"set_blas_threads: mode {mode!r} is not one of 'auto', 'off'; to fix the thread "
                         "count, set OPENBLAS_NUM_THREADS or use threadpoolctl.threadpool_limits")
    _mode = mode


def describe() -> dict[str, Any]:
    """Whether levels get their own BLAS thread counts in this process, and why not.

    Returns
    -------
    dict
        ``active`` (bool), ``mode`` (``"auto"`` or ``"off"``), ``threshold``
        (:data:`THRESHOLD`), ``libraries`` (the BLAS libraries threadpoolctl finds, also
        when they are not switched: ``internal_api``, ``num_threads`` now; empty without
        threadpoolctl) and ``reason`` (empty when active).
    """
    sw = switch()
    found = sw.controllers if sw is not None else _controllers() or []
    libraries = [{"internal_api": getattr(c, "internal_api", None), "num_threads": c.get_num_threads()}
                 for c in found]
    reason = _why if sw is None else ("" if _mode == "auto" else "set_blas_threads('off') or NEUROSIM_BLAS_THREADS=off")
    return {"active": sw is not None and _mode == "auto", "mode": _mode, "threshold": THRESHOLD,
            "libraries": libraries, "reason": reason}
