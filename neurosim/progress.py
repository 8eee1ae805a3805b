"""Training progress on standard error: a live bar on a terminal, a plain line every few seconds elsewhere.

:class:`ProgressReporter` is a training callback (``callbacks=[reporter]`` in
``Network.train`` or :func:`neurosim.run_scenario`): after every epoch the trainer hands it
a :class:`neurosim.Progress`, and on most epochs it only counts down a counter; every so
many epochs (about ten times a second) it reads the clock, and then either moves a tqdm bar
(drawn once training has run :data:`BAR_DELAY` seconds) — epoch of epochs, the training error, epochs per second, the time left and, for an
ensemble, how many members have converged — or, at most every :data:`PROGRESS_INTERVAL`
seconds, writes one line such as ``xor.toml: epoch 1200/5000, error 0.0123, 850
epochs/s, ~4 s left``. :func:`progress_mode` chooses between them the way ``neurosim run
--progress auto`` does: the bar when the stream is a terminal and ``CI`` is not set, lines
otherwise. :class:`SweepReporter` does the same for ``neurosim sweep``: points done of
all, the failures so far and the time left. Results never go through it: they stay on
standard output.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import numpy as np

from .errors import DataError

__all__ = ["ProgressReporter", "SweepReporter", "progress_mode", "PROGRESS_MODES", "PROGRESS_INTERVAL", "BAR_INTERVAL", "BAR_DELAY"]

#: What ``--progress`` takes: ``auto`` (a bar on a terminal, lines elsewhere), ``bar``,
#: ``lines`` or ``none``.
PROGRESS_MODES = ("auto", "bar", "lines", "none")
#: Seconds between two progress lines (the ``lines`` mode).
PROGRESS_INTERVAL = 5.0
#: Seconds between two looks at the clock, and so between two refreshes of the bar.
BAR_INTERVAL = 0.1
#: Seconds of training before the bar appears: a run shorter than that (the worked
#: example's one epoch) shows no bar and does not even import tqdm.
BAR_DELAY = 0.5
#: The most epochs between two looks at the clock, however fast the epochs are.
_MOST_EPOCHS = 100_000


def progress_mode(mode: str, stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The mode ``--progress MODE`` means for ``stream``: ``"bar"``, ``"lines"`` or ``"none"``.

    Parameters
    ----------
    mode : {'auto', 'bar', 'lines', 'none'}
        ``auto`` is ``bar`` when ``stream`` is a terminal and the environment does not
        say it is CI (``CI`` set to anything but ``""``, ``0`` or ``false``), else ``lines``.
    stream : file, optional
        Where progress goes (default ``sys.stderr``).
    environ : mapping, optional
        The environment (default ``os.environ``).

    Returns
    -------
    str

    Raises
    ------
    DataError
        For a mode not in :data:`PROGRESS_MODES`.
    """
    if mode not in PROGRESS_MODES:
        raise DataError(f"progress must be one of {', '.join(PROGRESS_MODES)}, not {mode!r:.60}")
    if mode != "auto":
        return mode
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):         # no isatty, or closed
        terminal = False
    return "bar" if terminal and not ci else "lines"


def _duration(seconds: float) -> str:
    """``"4 s"``, ``"3 min 20 s"``, ``"2 h 5 min"``: a time to read at a glance."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _rate(rate: float) -> str:
    """Epochs per second, with as many digits as matter."""
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"


class ProgressReporter:
    """A training callback that shows the progress of training on a stream (standard error).

    Parameters
    ----------
    name : str
        What is training, the start of each line (``"xor.toml"``).
    mode : {'bar', 'lines', 'none'}, default 'lines'
        ``bar``: a live tqdm bar, refreshed about every :data:`BAR_INTERVAL` seconds;
        ``lines``: a plain line every ``interval`` seconds; ``none``: nothing.
        :func:`progress_mode` turns ``--progress auto`` into one of these.
    stream : file, optional
        Where to write (default ``sys.stderr``, looked up when the reporter is made).
    interval : float, optional
        Seconds between lines (default :data:`PROGRESS_INTERVAL`, as it is when the
        reporter is made).
    delay : float, optional
        Seconds of training before the bar appears (default :data:`BAR_DELAY`).
    clock : callable, default time.monotonic
        Seconds, as a float (tests pass a fake one).

    Notes
    -----
    Per epoch the callback keeps the progress it is given and decrements a counter; only when it reaches zero
    does it read the clock, and it then sets the counter so that the next look comes
    about :data:`BAR_INTERVAL` seconds later at the speed measured so far (at most every
    100,000 epochs). The speed and the time left are measured from the first epoch it
    saw, so a resumed run shows its own speed. For an ensemble the error is the median
    over the members still training, and ``converged 37/100`` counts the members a stop
    criterion has frozen (diverged ones are counted apart).

    Examples
    --------
    >>> import io
    >>> reporter = ProgressReporter("xor", "lines", io.StringIO())
    >>> history = net.train(X, T, epochs=10_000, callbacks=[reporter])   # doctest: +SKIP
    >>> reporter.close()                                                  # doctest: +SKIP
    """

    def __init__(self, name: str, mode: str = "lines", stream: TextIO | None = None, *,
                 interval: float | None = None, delay: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if mode not in ("bar", "lines", "none"):
            raise DataError(f"a progress reporter's mode is 'bar', 'lines' or 'none', not {mode!r:.60} (choose "
                            "'auto' with progress_mode())")
        self.name, self.mode, self.clock = name, mode, clock
        self.interval = float(PROGRESS_INTERVAL if interval is None else interval)
        self.delay = float(BAR_DELAY if delay is None else delay)
        self.stream = sys.stderr if stream is None else stream
        self.lines = 0                            # lines written (the lines mode)
        self._countdown = 1                       # epochs until the next look at the clock
        self._stride = 1
        self._start: tuple[float, int] | None = None      # (time, epoch) of the first epoch seen
        self._look: tuple[float, int] = (0.0, 0)          # (time, epoch) of the last look
        self._printed = 0.0                       # when the last line was written (or the start)
        self._last: Any = None                    # the last progress seen, for close()
        self._bar = None

    def __call__(self, progress) -> None:
        """After every epoch: count down; at zero, look at the clock and show progress.

        Parameters
        ----------
        progress : neurosim.Progress
        """
        self._last = progress
        self._countdown -= 1
        if self._countdown > 0 or self.mode == "none":
            return None
        self._look_now(progress)
        return None

    def _look_now(self, progress) -> None:
        now, epoch = self.clock(), progress.epoch
        if self._start is None:
            self._start = self._look = (now, epoch)
            self._printed = now
        else:
            then, before = self._look
            speed = (epoch - before) / (now - then) if now > then else math.inf
            self._stride = int(round(max(1.0, min(speed * BAR_INTERVAL, _MOST_EPOCHS))))
            self._look = (now, epoch)
        self._countdown = self._stride
        if self.mode == "bar":
            if self._bar is not None or now - self._start[0] >= self.delay:
                self._show_bar(progress)
        elif now - self._printed >= self.interval:
            self._write_line(progress, now)
            self._printed = now

    # --- what is shown -----------------------------------------------------------------------

    def _speed(self, now: float, epoch: int) -> float:
        started, first = self._start
        return (epoch - first) / (now - started) if now > started else math.nan

    def _figures(self, progress) -> list[str]:
        """``error 0.0123`` and, for an ensemble, ``converged 37/100`` (and the diverged)."""
        error = np.asarray(progress.error, dtype=float)
        if progress.members is None or error.ndim == 0:
            return [f"error {float(error):.4g}"]
        active = np.asarray(progress.active, dtype=bool) if progress.active is not None else np.ones(error.shape, bool)
        finite = np.isfinite(error)
        shown = error[active & finite] if (active & finite).any() else error[finite]
        figures = [f"median error {float(np.median(shown)):.4g}" if len(shown) else "error nan",
                   f"converged {int(np.count_nonzero(~active & finite))}/{progress.members}"]
        if not finite.all():
            figures.append(f"{int(np.count_nonzero(~finite))} diverged")
        return figures

    def _write_line(self, progress, now: float, final: bool = False) -> None:
        speed = self._speed(now, progress.epoch)
        parts = [f"epoch {progress.epoch}/{progress.epochs}", *self._figures(progress)]
        if math.isfinite(speed):
            parts.append(f"{_rate(speed)} epochs/s")
        if final:
            parts.append(f"{_duration(now - self._start[0])} in all")
        elif math.isfinite(speed) and speed > 0:
            parts.append(f"~{_duration((progress.epochs - progress.epoch) / speed)} left")
        self.stream.write(f"{self.name}: {', '.join(parts)}\n")
        self.stream.flush()
        self.lines += 1

    def _show_bar(self, progress) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=progress.epochs, initial=progress.epoch, desc=self.name, unit="epoch",
                             file=self.stream, mininterval=0.0, miniters=1, dynamic_ncols=True, leave=True)
        else:
            self._bar.update(progress.epoch - self._bar.n)
        self._bar.set_postfix_str(", ".join(self._figures(progress)), refresh=True)

    def close(self) -> None:
        """End the display: the bar's last state and a new line, or (when lines were
        written) one last line with the epoch reached and the time it took."""
        if self.mode == "bar" and self._bar is not None:
            if self._last is not None:
                self._bar.set_postfix_str(", ".join(self._figures(self._last)), refresh=False)
                self._bar.update(self._last.epoch - self._bar.n)
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and self.lines and self._last is not None:
            self._write_line(self._last, self.clock(), final=True)
        self._last = None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SweepReporter:
    """A sweep callback that shows its progress on a stream: points done of all, the failures
    so far, the time left.

    The same conventions as :class:`ProgressReporter`: ``bar`` is a tqdm bar (``points``
    as the unit, ``failed 2, errors 0`` beside it), ``lines`` a line at most every
    ``interval`` seconds (``sweep.toml: 12/100 points, 2 failed, 0 errors, ~40 s left``)
    and one when it closes, ``none`` nothing.

    Parameters
    ----------
    name : str
        What is running, the start of each line.
    mode : {'bar', 'lines', 'none'}, default 'lines'
    stream : file, optional
        Where to write (default ``sys.stderr``).
    interval : float, optional
        Seconds between lines (default :data:`PROGRESS_INTERVAL`).
    clock : callable, default time.monotonic
    """

    def __init__(self, name: str, mode: str = "lines", stream: TextIO | None = None, *,
                 interval: float | None = None, clock: Callable[[], float] = time.monotonic):
        if mode not in ("bar", "lines", "none"):
            raise DataError(f"a progress reporter's mode is 'bar', 'lines' or 'none', not {mode!r:.60}")
        self.name, self.mode, self.clock = name, mode, clock
        self.interval = float(PROGRESS_INTERVAL if interval is None else interval)
        self.stream = sys.stderr if stream is None else stream
        self.lines = 0
        self._printed: float | None = None
        self._last: Any = None
        self._bar = None

    def _figures(self, p) -> str:
        return f"{p.failed} failed, {p.errors} error{'s' if p.errors != 1 else ''}"

    def _left(self, p) -> str:
        ran = p.done - p.kept
        if ran <= 0 or p.elapsed <= 0:
            return ""
        return f", ~{_duration((p.total - p.done) * p.elapsed / ran)} left"

    def __call__(self, progress) -> None:
        """After every finished point (and once before the first).

        Parameters
        ----------
        progress : neurosim.sweep.SweepProgress
        """
        self._last = progress
        if self.mode == "bar":
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=progress.total, initial=progress.done, desc=self.name, unit="point",
                                 file=self.stream, mininterval=0.0, miniters=1, dynamic_ncols=True, leave=True)
            else:
                self._bar.update(progress.done - self._bar.n)
            self._bar.set_postfix_str(self._figures(progress), refresh=True)
        elif self.mode == "lines":
            now = self.clock()
            if self._printed is None:
                self._printed = now
            elif now - self._printed >= self.interval:
                self._write(progress, self._left(progress))
                self._printed = now

    def _write(self, p, tail: str) -> None:
        self.stream.write(f"{self.name}: {p.done}/{p.total} points, {self._figures(p)}{tail}\n")
        self.stream.flush()
        self.lines += 1

    def close(self) -> None:
        """End the display: the bar's last state, or a last line with the time it all took."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and self._last is not None and self._last.done > self._last.kept:
            self._write(self._last, f", {_duration(self._last.elapsed)} in all")
        self._last = None
