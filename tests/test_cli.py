"""The ``neurosim`` command around a run: the ``--out`` folder is made only once the scenario has been checked (a refused or diverging run leaves no folder behind, and a file in the way is still reported before training), and a second run into a folder another run is using is refused with exit status 2 and the folder named, its results never overwritten -- tested with a real second process holding the folder. A Ctrl-C (a real SIGINT to ``python -m neurosim``) exits 130 with one line on stderr saying what was interrupted and what was kept, and no traceback: while training, while training into ``--out`` (the folder it made is gone again), while checking the second of three files, and (simulated) while writing results, which leaves the old ones as they were. Plugins a scenario names are code that ``check`` runs too; ``--no-plugins`` refuses such a scenario (exit 2, naming the file and the ``plugins`` key) for ``run`` and ``check`` before any of it runs, passes scenarios without plugins, and never loads a plugin even from a file that gains one after the check; ``run --help`` and ``check --help`` say so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import neurosim.cli
from neurosim.cli import main

#: SIGINT to a child and the lock's flock are POSIX's.
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX only")

#: The 2-2-1 XOR network and data of tests/data/xor_221.toml.
XOR_221 = (Path(__file__).parent / "data" / "xor_221.toml").read_text()

#: XOR on a 2-2-1 net, online: long enough (with many epochs) to be caught mid-training.
XOR_TOML = """\
[scenario]
name = "xor"
seed = 3

""" + XOR_221 + """
[training]
learning_rate = 0.5
epochs = 5
"""


def scenario(tmp_path: Path, name: str = "xor.toml", epochs: int = 5, extra: str = "") -> Path:
    """The XOR scenario with ``epochs`` epochs (and ``extra`` TOML) written to ``tmp_path/name``."""
    path = tmp_path / name
    path.write_text(extra + XOR_TOML.replace("epochs = 5", f"epochs = {epochs}"))
    return path


def refused_by_the_command(argv: list[str], capsys, fragments: list[str]) -> str:
    """``neurosim ARGV`` exits 2 with one ``error: ...`` line holding ``fragments`` and no traceback."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1, err
    missing = [f for f in fragments if f not in err]
    assert not missing, f"{err!r} lacks {missing}"
    return err


def start(argv: list[str], cwd: Path) -> subprocess.Popen:
    """``python -m neurosim ARGV`` in the background, its output captured, with Ctrl-C's
    default meaning (a shell may start background jobs with SIGINT ignored)."""
    return subprocess.Popen([sys.executable, "-m", "neurosim", *argv], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def marker_plugin(tmp_path: Path, then: str = "") -> tuple[Path, str]:
    """A plugin file that creates ``loaded`` when it is imported (and then runs ``then``),
    and the TOML line naming it: the run has reached its plugins when the file appears."""
    plugin = tmp_path / "marker_plugin.py"
    plugin.write_text(f"from pathlib import Path\nPath({str(tmp_path / 'loaded')!r}).touch()\n{then}\n")
    return tmp_path / "loaded", f'plugins = ["{plugin.name}"]\n'


def interrupt(proc: subprocess.Popen) -> tuple[int, str, str]:
    """Send Ctrl-C (SIGINT) to ``proc``; its exit status, stdout and stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"still running 120 s after SIGINT:\n{out}\n{err}")
    return proc.returncode, out, err


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    """Wait until ``condition()`` holds; fail if ``proc`` ends first or ``timeout`` passes."""
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (status {proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > end:
            proc.kill()
            proc.communicate()
            pytest.fail(f"no {what} after {timeout} s")
        time.sleep(0.05)


# --- the --out folder -------------------------------------------------------------------------


def test_out_is_not_created_when_the_scenario_is_refused(tmp_path, capsys):
    out = tmp_path / "new" / "res"
    bad_key = scenario(tmp_path, "typo.toml", extra="")
    bad_key.write_text(bad_key.read_text().replace("learning_rate", "learnig_rate"))
    refused_by_the_command(["run", str(bad_key), "--out", str(out)], capsys, ["training.learnig_rate"])
    unknown_loss = scenario(tmp_path, "loss.toml")           # found only by loading the plugins
    unknown_loss.write_text(unknown_loss.read_text() + 'loss = "mes"\n')
    refused_by_the_command(["run", str(unknown_loss), "--out", str(out)], capsys,
                           ["training.loss", "did you mean 'mse'"])
    refused_by_the_command(["run", str(scenario(tmp_path)), "--out", str(out), "--set", "expect[0].below=1"],
                           capsys, ["expect[0].below"])
    assert not (tmp_path / "new").exists()


def test_out_is_removed_again_when_training_diverges(tmp_path, capsys):
    path = scenario(tmp_path, epochs=200)
    path.write_text(path.read_text().replace("learning_rate = 0.5", "learning_rate = 1e6")
                    .replace('from = ["h"]', 'from = ["h"]\nactivation = "identity"')
                    .replace('name = "h"\nsize = 2', 'name = "h"\nsize = 2\nactivation = "identity"'))
    out = tmp_path / "res"
    assert main(["run", "-q", str(path), "--out", str(out)]) == 1
    assert "learning rate" in capsys.readouterr().err
    assert not out.exists()


def test_out_problems_are_reported_as_before_training(tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    long = scenario(tmp_path, epochs=10**9)             # would not finish if it trained first
    refused_by_the_command(["run", str(long), "--out", str(tmp_path / "a_file")], capsys,
                           [f"error: --out: {tmp_path / 'a_file'}: cannot be used as the results folder (a file or link that is not a folder is in the way)"])
    refused_by_the_command(["run", str(long), "--out", str(tmp_path / "a_file" / "res")], capsys,
                           ["cannot be used as the results folder (Not a directory)"])


def test_a_run_with_out_leaves_only_its_results(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", "-q", str(scenario(tmp_path)), "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("wrote ") == 3
    assert sorted(p.name for p in out.iterdir()) == ["learning_curve.csv", "network.json", "summary.json"]


@posix
def test_a_second_run_into_the_same_out_is_refused_while_the_first_holds_it(tmp_path, capsys):
    out = tmp_path / "res"
    first = start(["run", str(scenario(tmp_path, "long.toml", epochs=10**9)), "--out", str(out)], tmp_path)
    try:
        wait_for(lambda: (out / ".neurosim.lock").exists(), first, "lock file in the results folder")
        refused_by_the_command(["run", "-q", str(scenario(tmp_path)), "--out", str(out)], capsys,
                               [f"error: --out: {out}: another neurosim run is using this folder; wait for it to "
                                "finish or choose another folder"])
        assert [p.name for p in out.iterdir()] == [".neurosim.lock"]     # nothing of the second run's
    finally:
        first.kill()
        first.communicate()
    assert main(["run", "-q", str(scenario(tmp_path)), "--out", str(out)]) == 0   # a killed run holds nothing
    assert sorted(p.name for p in out.iterdir()) == ["learning_curve.csv", "network.json", "summary.json"]


# --- Ctrl-C -----------------------------------------------------------------------------------


@posix
def test_ctrl_c_while_training_exits_130_with_one_line(tmp_path):
    loaded, line = marker_plugin(tmp_path)
    path = scenario(tmp_path, "long.toml", epochs=10**9, extra=line)
    proc = start(["run", str(path)], tmp_path)
    wait_for(loaded.exists, proc, "plugin import")
    time.sleep(0.5)                                     # into the epochs
    status, out, err = interrupt(proc)
    assert (status, out) == (130, ""), (status, out, err)
    assert err == f"neurosim: interrupted while training {path}; nothing was written\n"


@posix
def test_ctrl_c_while_training_into_out_leaves_no_folder(tmp_path):
    path = scenario(tmp_path, "long.toml", epochs=10**9)
    out = tmp_path / "new" / "res"
    proc = start(["run", str(path), "--out", str(out)], tmp_path)
    wait_for(lambda: (out / ".neurosim.lock").exists(), proc, "lock file in the results folder")
    status, stdout, err = interrupt(proc)
    assert status == 130 and "Traceback" not in err, err
    assert err == f"neurosim: interrupted while training {path}; nothing was written\n"
    assert not (tmp_path / "new").exists()


@posix
def test_ctrl_c_while_checking_says_how_far_it_got(tmp_path):
    good = scenario(tmp_path, "good.toml")
    loaded, line = marker_plugin(tmp_path, then="import time\ntime.sleep(120)")
    slow = scenario(tmp_path, "slow.toml", extra=line)
    proc = start(["check", str(good), str(slow), str(good)], tmp_path)
    wait_for(loaded.exists, proc, "plugin import")
    status, out, err = interrupt(proc)
    assert status == 130 and out == f"{good}: ok\n", (status, out, err)
    assert err == (f"neurosim: interrupted while checking {slow}; nothing was written; 1 of 3 files were "
                   "checked before it\n")


def test_ctrl_c_while_writing_results_keeps_the_old_ones(tmp_path, monkeypatch, capsys):
    path = scenario(tmp_path)
    out = tmp_path / "res"
    assert main(["run", "-q", str(path), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def ctrl_c(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", ctrl_c)           # the first temporary file being flushed
    try:
        status = main(["run", "-q", str(path), "--out", str(out), "--set", "training.epochs=3"])
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped main()")
    assert status == 130
    captured = capsys.readouterr()
    assert captured.err == (f"neurosim: interrupted while writing results to {out}; the results already there "
                            "are unchanged\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --- plugins are code: --no-plugins -----------------------------------------------------------


def test_check_runs_a_scenarios_plugins_and_no_plugins_refuses_them(tmp_path, capsys):
    loaded, line = marker_plugin(tmp_path)
    path = scenario(tmp_path, "plugged.toml", extra=line)
    fragments = [f"error: {path}: plugins: names plugin code ('marker_plugin.py'), which would run with your "
                 "permissions; --no-plugins refuses such a scenario"]
    refused_by_the_command(["check", "--no-plugins", str(path)], capsys, fragments)
    refused_by_the_command(["run", "--no-plugins", str(path)], capsys, fragments)
    refused_by_the_command(["run", "--no-plugins", str(path), "--out", str(tmp_path / "res")], capsys, fragments)
    plain = scenario(tmp_path)
    refused_by_the_command(["run", "--no-plugins", str(plain), "--set", 'plugins=["marker_plugin.py"]'], capsys,
                           [f"error: {plain}: plugins: names plugin code ('marker_plugin.py')"])
    assert not loaded.exists() and not (tmp_path / "res").exists()
    assert main(["check", str(path)]) == 0                     # without --no-plugins, check runs the code
    assert loaded.exists()


def test_no_plugins_passes_scenarios_without_plugins(tmp_path, capsys):
    path = scenario(tmp_path)
    assert main(["check", "--no-plugins", str(path)]) == 0
    assert main(["run", "-q", "--no-plugins", str(path), "--out", str(tmp_path / "res")]) == 0
    assert (tmp_path / "res" / "summary.json").exists()


def test_no_plugins_never_loads_a_plugin_named_after_the_check(tmp_path, monkeypatch, capsys):
    """With --no-plugins the run uses the registry the check made, of installed plugins
    only: a scenario whose plugins appear after the check (simulated) runs none of them."""
    loaded, line = marker_plugin(tmp_path)
    path = scenario(tmp_path, "swapped.toml", extra=line)
    real = neurosim.cli.load_scenario

    def read_before_the_swap(*args, **kwargs):
        checked = real(*args, **kwargs)
        checked.plugins = []
        return checked

    monkeypatch.setattr(neurosim.cli, "load_scenario", read_before_the_swap)
    assert main(["run", "-q", "--no-plugins", str(path)]) == 0
    assert not loaded.exists()


@pytest.mark.parametrize("command", ["run", "check"])
def test_help_says_plugins_are_code(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for fragment in ("Plugins a scenario names (plugins = [...]) are Python code", "by neurosim run and by neurosim "
                     "check alike", "Installed plugins", "Data files are only read", "written with your permissions",
                     "--no-plugins", "docs/security.md"):
        assert fragment in text, fragment
