"""Progress on standard error: what the reporter writes, when, and that results never change.

The line reporter is driven with a fake clock (no sleeping): a run at a steady 100 epochs
a second writes the expected lines — epoch, error, speed and time left — about every
``interval`` seconds and one closing line; an ensemble's line counts the converged and the
diverged members. The reporter reads the clock about ten times a second of training, not
every epoch. ``--progress auto`` is the bar on a terminal and lines elsewhere or under CI.
``neurosim run`` with ``--progress none`` or ``-q`` writes nothing on stderr; with lines or
a forced bar it does, and stdout is byte for byte what it is without; the bar mode draws a
tqdm bar on any stream it is given.
"""

from __future__ import annotations

from pathlib import Path
import io

import numpy as np
import pytest

import neurosim
import neurosim.progress
from neurosim import Progress
from neurosim.cli import main
from neurosim.progress import BAR_DELAY, BAR_INTERVAL, ProgressReporter, progress_mode

#: The 2-2-1 XOR network and data of tests/data/xor_221.toml.
XOR_221 = (Path(__file__).parent / "data" / "xor_221.toml").read_text()

XOR = """\
[scenario]
name = "xor"
seed = 3

""" + XOR_221 + """
[training]
learning_rate = 0.5
momentum = 0.9
shuffle = true
epochs = 400
"""


class Clock:
    """A fake clock: ``now`` seconds, set by the test; counts how often it is read."""

    def __init__(self):
        self.now, self.reads = 0.0, 0

    def __call__(self):
        self.reads += 1
        return self.now


def drive(reporter, clock, epochs, seconds_per_epoch, error=lambda e: 1.0 / e, **fields):
    """Call ``reporter`` after each of ``epochs`` epochs, each ``seconds_per_epoch`` long."""
    for e in range(1, epochs + 1):
        clock.now = e * seconds_per_epoch
        reporter(Progress(epoch=e, epochs=epochs, error=error(e), targets=None, seconds=clock.now, **fields))


def test_lines_come_every_interval_with_epoch_error_speed_and_time_left():
    clock, out = Clock(), io.StringIO()
    reporter = ProgressReporter("xor.toml", "lines", out, clock=clock)
    drive(reporter, clock, 2000, 0.01)        # 100 epochs/s for 20 s
    reporter.close()
    # The clock is read at epochs 1, 2 and then every 10 (100 epochs/s × BAR_INTERVAL); a line
    # is written at the first look 5 s or more after the last (epoch 1 at 0.01 s starts it).
    assert out.getvalue() == (
        "xor.toml: epoch 502/2000, error 0.001992, 100 epochs/s, ~15 s left\n"
        "xor.toml: epoch 1012/2000, error 0.0009881, 100 epochs/s, ~10 s left\n"
        "xor.toml: epoch 1512/2000, error 0.0006614, 100 epochs/s, ~5 s left\n"
        "xor.toml: epoch 2000/2000, error 0.0005, 100 epochs/s, 20 s in all\n")
    assert reporter.lines == 4


def test_the_clock_is_read_about_ten_times_a_second_not_every_epoch():
    clock = Clock()
    reporter = ProgressReporter("fast", "lines", io.StringIO(), clock=clock)
    drive(reporter, clock, 200_000, 1e-4)      # 10,000 epochs/s for 20 s
    assert clock.reads == 201                  # epochs 1 and 2, then every 1,000 (0.1 s): 1002 ... 199002
    assert 20 / BAR_INTERVAL <= clock.reads <= 20 / BAR_INTERVAL + 5


def test_a_short_run_writes_nothing():
    clock, out = Clock(), io.StringIO()
    reporter = ProgressReporter("mazur.toml", "lines", out, clock=clock)
    drive(reporter, clock, 300, 0.01)          # 3 s: under the interval
    reporter.close()
    assert out.getvalue() == "" and reporter.lines == 0


def test_an_ensembles_line_counts_converged_and_diverged_members():
    clock, out = Clock(), io.StringIO()
    reporter = ProgressReporter("ens.toml", "lines", out, interval=1.0, clock=clock)
    errors = np.array([0.5, 0.1, np.nan, 0.3, 0.2])          # member 2 diverged
    for e in range(1, 201):
        clock.now = e * 0.01
        active = np.array([True, e < 50, False, True, e < 150])   # members 1 and 4 stop
        reporter(Progress(epoch=e, epochs=1000, error=errors, targets=None, seconds=clock.now, members=5,
                          active=active))
    reporter.close()
    # the median is over the members still training: 0.5, 0.3 and 0.2 at epoch 102; 0.5 and 0.3 at the end
    assert out.getvalue().splitlines() == [
        "ens.toml: epoch 102/1000, median error 0.3, converged 1/5, 1 diverged, 100 epochs/s, ~9 s left",
        "ens.toml: epoch 200/1000, median error 0.4, converged 2/5, 1 diverged, 100 epochs/s, 2 s in all"]


def test_none_writes_nothing_and_the_bar_draws_on_any_stream():
    clock, quiet = Clock(), io.StringIO()
    reporter = ProgressReporter("x", "none", quiet, clock=clock)
    drive(reporter, clock, 1000, 0.01)
    reporter.close()
    assert quiet.getvalue() == "" and clock.reads == 0
    short = io.StringIO()
    reporter = ProgressReporter("mazur.toml", "bar", short, clock=clock)
    drive(reporter, clock, 40, 0.01)           # 0.4 s: less than BAR_DELAY, so no bar at all
    reporter.close()
    assert short.getvalue() == "" and BAR_DELAY == 0.5
    bar = io.StringIO()
    reporter = ProgressReporter("xor.toml", "bar", bar, clock=clock)
    drive(reporter, clock, 1000, 0.01)
    reporter.close()
    shown = bar.getvalue()
    assert "\r" in shown and shown.endswith("\n")
    last = shown.rstrip("\n").split("\r")[-1]
    assert last.startswith("xor.toml: 100%|") and "| 1000/1000 [" in last and "epoch/s, error 0.001]" in last


def test_the_bar_follows_a_real_training_run():
    xor = neurosim.default_registry().dataset("xor")()
    net = neurosim.Network(seed=1)
    net.add_layer("i", 2, kind="input")
    net.add_layer("o", 1, "sigmoid", connect_from=[net.inputs], output=True)
    stream = io.StringIO()
    with ProgressReporter("or", "bar", stream, delay=0.0) as reporter:
        history = net.train(xor.inputs, xor.targets, epochs=500, mode="batch", callbacks=[reporter])
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert "| 500/500 [" in last and f"error {history[-1]:.4g}]" in last


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("mode, stream, environ, chosen", [
    ("auto", Terminal(), {}, "bar"),
    ("auto", Terminal(), {"CI": "true"}, "lines"),
    ("auto", Terminal(), {"CI": "0"}, "bar"),
    ("auto", io.StringIO(), {}, "lines"),
    ("bar", io.StringIO(), {"CI": "true"}, "bar"),
    ("lines", Terminal(), {}, "lines"),
    ("none", Terminal(), {}, "none"),
])
def test_auto_is_the_bar_on_a_terminal_and_lines_elsewhere(mode, stream, environ, chosen):
    assert progress_mode(mode, stream, environ) == chosen


def test_an_unknown_mode_is_refused():
    with pytest.raises(neurosim.DataError, match="progress must be one of auto, bar, lines, none, not 'fancy'"):
        progress_mode("fancy")


# --- neurosim run --progress ------------------------------------------------------------------


@pytest.fixture
def xor_file(tmp_path):
    path = tmp_path / "xor.toml"
    path.write_text(XOR)
    return path


def test_progress_goes_to_stderr_and_stdout_stays_the_same(xor_file, capsys, monkeypatch):
    monkeypatch.setattr(neurosim.progress, "PROGRESS_INTERVAL", 0.0)      # a line at every look
    monkeypatch.setattr(neurosim.progress, "BAR_DELAY", 0.0)              # the bar from the start
    assert main(["run", str(xor_file), "--progress", "none"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert main(["run", str(xor_file), "--progress", "lines"]) == 0
    lines = capsys.readouterr()
    assert lines.out == quiet.out
    shown = lines.err.splitlines()
    assert len(shown) >= 3 and all(line.startswith(f"{xor_file}: epoch ") for line in shown)
    assert shown[-1].startswith(f"{xor_file}: epoch 400/400, error ") and shown[-1].endswith(" in all")
    assert main(["run", str(xor_file), "--progress", "bar"]) == 0
    bar = capsys.readouterr()
    assert bar.out == quiet.out and "| 400/400 [" in bar.err
    assert main(["run", str(xor_file)]) == 0                   # auto: stderr is no terminal here
    auto = capsys.readouterr()
    assert auto.out == quiet.out and auto.err.startswith(f"{xor_file}: epoch ")


def test_quiet_shows_no_progress(xor_file, capsys, monkeypatch):
    monkeypatch.setattr(neurosim.progress, "PROGRESS_INTERVAL", 0.0)
    assert main(["run", "-q", str(xor_file), "--progress", "lines"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == f"{xor_file}: passed\n"
