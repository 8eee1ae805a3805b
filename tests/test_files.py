"""Files neurosim is pointed at: scenario files and data files are read through one bounded, regular-file-only reader (:func:`neurosim.io.read_text`). A FIFO, ``/dev/zero``, a directory, a socket, a symbolic-link loop, a file without read permission and a file past the size limit are each refused with the file named and what is wrong -- a FIFO without blocking, ``/dev/zero`` without reading it -- as a ``ScenarioError`` (``FILE: problem; fix``) for a scenario file, a ``DataError`` for a data file (with the scenario key ``data.file`` when a scenario names it), and exit status 2 with no traceback from ``neurosim run``. TOML that Python's reader cannot take for its own limits (arrays nested thousands deep, an integer of 5,000 digits) is refused the same way, in a file and through ``--set``. A plugin named by a path that is not a regular ``.py`` file (a text file, a directory, a link loop, a FIFO) is a ``PluginError`` naming the path, and an interrupted plugin import leaves no half-imported module behind. A results folder is held with a lock file while a save writes into it: the temporary files a save killed between writing and renaming left behind (planted, and from a real ``SIGKILL``) are swept by the next save, while a save into a folder another process holds is refused and sweeps nothing; the lock is reentrant for its thread only and refuses a lock file that is a link or a FIFO. ``docs/security.md`` states the limits the code uses and is linked from the README and ``docs/scenarios.md``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

import neurosim
from neurosim import DataError, PluginError, ScenarioError
from neurosim.cli import main
from neurosim.datafiles import read_csv, read_fann
from neurosim import io as nsio
from neurosim.resources import describe_bytes

#: FIFOs, Unix sockets, SIGALRM and SIGKILL are POSIX's.
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX only")

#: The OR scenario of the README: valid as it stands; tests change one thing in it.
OR_TOML = """\
[scenario]
name = "or"
seed = 1

[[network.layers]]
name = "i"
size = 2
[[network.layers]]
name = "o"
size = 1
from = ["i"]

[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 1]

[training]
learning_rate = 1.0
epochs = 20
mode = "batch"
"""


def command_refuses(argv: list[str], capsys, fragments: list[str]) -> str:
    """``neurosim ARGV`` exits 2 with one ``error: ...`` line holding ``fragments`` and no traceback."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1, err
    missing = [f for f in fragments if f not in err]
    assert not missing, f"{err!r} lacks {missing}"
    return err


def scenario_with_data_file(tmp_path: Path, data_file: str | Path, fmt: str = "csv") -> Path:
    """The OR scenario reading its patterns from ``data_file`` instead."""
    path = tmp_path / "from_file.toml"
    source = f'file = "{data_file}"\nformat = "{fmt}"' + ("\ntarget_columns = [0]" if fmt == "csv" else "")
    text = OR_TOML.replace("inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets = [0, 1, 1, 1]", source)
    path.write_text(text)
    return path


# --- what is not a regular file -------------------------------------------------------------


@posix
def test_a_fifo_is_refused_without_blocking(tmp_path, capsys, refused, time_limit):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with time_limit(10):
        err = refused(ScenarioError, [f"{fifo}: is a FIFO (named pipe), not a .toml scenario file"],
                      neurosim.load_scenario, fifo)
        assert err.key == ""
        command_refuses(["run", str(fifo)], capsys, [f"error: {fifo}: is a FIFO"])
        command_refuses(["check", str(fifo)], capsys, [f"error: {fifo}: is a FIFO"])
        data = tmp_path / "fifo.csv"
        os.mkfifo(data)
        refused(DataError, [f"{data}: is a FIFO (named pipe), not a data file"], read_csv, data, targets=[0])
        refused(DataError, ["is a FIFO"], read_fann, data)
        refused(ScenarioError, ["data.file", f"{data}: is a FIFO (named pipe), not a data file"],
                neurosim.run_scenario, scenario_with_data_file(tmp_path, data))


@posix
def test_a_fifo_swapped_in_after_the_look_is_not_waited_on(tmp_path, monkeypatch, refused, time_limit):
    """The look before opening can be raced; the open itself must not block either."""
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, **kw: real_stat(__file__) if path == str(fifo) else
                        real_stat(path, **kw))
    with time_limit(10):
        refused(nsio.FileError, [f"{fifo}: is a FIFO (named pipe), not a scenario"], nsio.read_text, fifo,
                limit=100, what="a scenario")


@pytest.mark.skipif(not os.path.exists("/dev/zero") or os.name != "posix", reason="needs /dev/zero and SIGALRM")
def test_dev_zero_is_refused_without_being_read(tmp_path, capsys, refused, time_limit):
    with time_limit(10):
        refused(ScenarioError, ["/dev/zero: is a character device, not a .toml scenario file"],
                neurosim.load_scenario, "/dev/zero")
        command_refuses(["run", "/dev/zero"], capsys, ["/dev/zero: is a character device"])
        refused(DataError, ["/dev/zero: is a character device, not a data file"], read_fann, "/dev/zero")
        refused(ScenarioError, ["data.file", "/dev/zero: is a character device, not a data file"],
                neurosim.run_scenario, scenario_with_data_file(tmp_path, "/dev/zero", "fann"))


@posix
def test_a_directory_and_a_socket_are_refused(tmp_path, refused):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    refused(ScenarioError, [f"{folder}: is a directory, not a .toml scenario file"], neurosim.load_scenario, folder)
    sock_path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        refused(DataError, [f"{sock_path}: is a socket, not a data file"], read_csv, sock_path, targets=[0])
        refused(ScenarioError, [f"{sock_path}: is a socket"], neurosim.load_scenario, sock_path)


# --- links, permissions, sizes --------------------------------------------------------------


@posix
def test_a_symbolic_link_loop_is_refused_with_the_file_named(tmp_path, capsys, refused):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop.name)           # Path.resolve() raises RuntimeError on this in Python 3.11
    refused(ScenarioError, [f"{loop}: is a symbolic link that loops back on itself", "point it at a file"],
            neurosim.load_scenario, loop)
    command_refuses(["run", str(loop)], capsys, [f"error: {loop}: is a symbolic link that loops"])
    data = tmp_path / "loop.csv"
    data.symlink_to(data.name)
    refused(DataError, [f"{data}: is a symbolic link that loops back on itself"], read_csv, data, targets=[0])
    refused(ScenarioError, ["data.file", f"{data}: is a symbolic link that loops"],
            neurosim.run_scenario, scenario_with_data_file(tmp_path, data))


def test_a_file_that_cannot_be_read_names_the_file_and_the_fix(tmp_path, monkeypatch, capsys, refused):
    # Simulated: the tests may run as root, which any file lets read.
    scenario = tmp_path / "private.toml"
    scenario.write_text(OR_TOML)
    data = tmp_path / "private.csv"
    data.write_text("a\n1\n")
    real_open = os.open

    def denied(path, flags, *args):
        if str(path) in (str(scenario), str(data)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", denied)
    refused(ScenarioError, [f"{scenario}: cannot be read (Permission denied); check its permissions"],
            neurosim.load_scenario, scenario)
    command_refuses(["check", str(scenario)], capsys, [f"{scenario}: cannot be read (Permission denied)"])
    err = refused(DataError, [f"{data}: cannot be read (Permission denied); check its permissions"],
                  read_csv, data, targets=[0])
    assert err.errno == errno.EACCES


def test_a_scenario_file_past_the_limit_is_refused_before_it_is_read(tmp_path, capsys, refused):
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:          # sparse: no disk space, and never read
        fh.truncate(nsio.SCENARIO_FILE_LIMIT + 1)
    assert nsio.SCENARIO_FILE_LIMIT == 16_000_000
    refused(ScenarioError, [f"{big}: is 16,000,001 bytes (16 MB), more than the 16,000,000 bytes (16 MB) "
                            "neurosim reads from a .toml scenario file; is it the right file?"],
            neurosim.load_scenario, big)
    command_refuses(["run", str(big)], capsys, ["16,000,001 bytes", "16,000,000 bytes"])


def test_a_data_file_past_the_limit_is_refused_before_it_is_read(tmp_path, refused):
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(nsio.DATA_FILE_LIMIT + 1)
    assert nsio.DATA_FILE_LIMIT == 1_000_000_000
    refused(DataError, [f"{big}: is 1,000,000,001 bytes (1 GB), more than the 1,000,000,000 bytes (1 GB) "
                        "neurosim reads from a data file"], read_csv, big, targets=[0])
    refused(ScenarioError, ["data.file", "1,000,000,001 bytes"], neurosim.run_scenario,
            scenario_with_data_file(tmp_path, big))


def test_a_file_longer_than_its_size_said_is_cut_off_at_the_limit(tmp_path, refused):
    path = tmp_path / "t.txt"
    path.write_text("x" * 100)
    assert nsio.read_text(path, limit=100, what="a text") == "x" * 100
    refused(nsio.FileError, [f"{path}: is 100 bytes, more than the 99 bytes neurosim reads from a text"],
            nsio.read_text, path, limit=99, what="a text")
    if os.path.exists("/proc/self/status"):          # a regular file whose size says 0
        refused(nsio.FileError, ["/proc/self/status: holds more than the 10 bytes neurosim reads from a text "
                            "(more than its size said)"], nsio.read_text, "/proc/self/status", limit=10, what="a text")


def test_read_text_keeps_line_ends_and_drops_a_bom_only_when_asked(tmp_path, refused):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa,b\r\n1,2\r\n".encode())
    assert nsio.read_text(path, limit=100, what="x", encoding="utf-8-sig") == "a,b\r\n1,2\r\n"
    assert nsio.read_text(path, limit=100, what="x").startswith("\ufeff")
    refused(nsio.FileError, [f"{tmp_path / 'no.csv'}: no such file; give the path of a data file"],
            nsio.read_text, tmp_path / "no.csv", limit=100, what="a data file")


# --- TOML past Python's own limits ----------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000
LONG = "7" * 5000


def test_deeply_nested_arrays_in_a_scenario_are_refused(tmp_path, capsys, refused):
    path = tmp_path / "deep.toml"
    path.write_text(OR_TOML + f"\n[extra]\ndeep = {DEEP}\n")
    err = refused(ScenarioError, [f"{path}: cannot be read: arrays or tables are nested too deeply to read",
                                  "nest them less deeply"], neurosim.load_scenario, path)
    assert err.key == ""
    command_refuses(["check", str(path)], capsys, [f"{path}: cannot be read: arrays or tables are nested"])


def test_an_integer_past_the_digit_limit_in_a_scenario_is_refused(tmp_path, capsys, refused):
    path = tmp_path / "long.toml"
    path.write_text(OR_TOML.replace("epochs = 20", f"epochs = {LONG}"))
    line = OR_TOML.splitlines().index("epochs = 20") + 1
    err = refused(ScenarioError, [f"{path}: cannot be read: the integer on line {line} has 5,000 digits; "
                                  "Python reads integers of at most 4,300 digits"], neurosim.load_scenario, path)
    assert LONG[:100] not in str(err)
    command_refuses(["run", str(path)], capsys, [f"on line {line} has 5,000 digits"])


def test_set_values_past_the_limits_are_refused(tmp_path, capsys):
    path = tmp_path / "or.toml"
    path.write_text(OR_TOML)
    err = command_refuses(["run", str(path), "--set", f"training.epochs={LONG}"], capsys,
                          ["error: --set: training.epochs: the value cannot be read: the integer has 5,000 digits; "
                           "Python reads integers of at most 4,300 digits"])
    assert LONG[:100] not in err
    command_refuses(["run", str(path), "--set", f"data.inputs={DEEP}"], capsys,
                    ["error: --set: data.inputs: the value cannot be read: arrays or tables are nested too deeply"])
    assert main(["run", "-q", str(path), "--set", "training.epochs=3"]) == 0       # ordinary values still work


# --- plugin files ---------------------------------------------------------------------------

MUST = "a plugin file must be a regular .py file, or give a dotted module name"


def test_a_plugin_path_that_is_not_a_py_file_is_refused(tmp_path, capsys, refused):
    notes = tmp_path / "notes.txt"
    notes.write_text("print('not a plugin')\n")
    refused(PluginError, [f"plugin file {str(notes)!r} is not a .py file; {MUST}"], neurosim.make_registry,
            [str(notes)])
    folder = tmp_path / "plugins"
    folder.mkdir()
    refused(PluginError, [f"plugin file {str(folder)!r} is not a .py file"], neurosim.make_registry, [folder])
    refused(PluginError, [f"plugin file {str(folder)!r} is not a .py file"], neurosim.make_registry, ["plugins/"],
            base_dir=tmp_path)
    scenario = tmp_path / "s.toml"
    scenario.write_text('plugins = ["./notes.txt"]\n' + OR_TOML)
    command_refuses(["check", str(scenario)], capsys,
                    [f"error: {scenario}: plugins: plugin file {str(notes)!r} is not a .py file; {MUST}"])


@posix
def test_a_plugin_path_that_is_a_directory_a_loop_or_a_fifo_is_refused(tmp_path, refused, time_limit):
    folder = tmp_path / "folder.py"
    folder.mkdir()
    refused(PluginError, [f"plugin file {str(folder)!r} is a directory, not a .py file; {MUST}"],
            neurosim.make_registry, [folder])
    loop = tmp_path / "loop.py"
    loop.symlink_to(loop.name)
    refused(PluginError, [f"plugin file {str(loop)!r} is a symbolic link that loops back on itself", MUST],
            neurosim.make_registry, ["loop.py"], base_dir=tmp_path)
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    with time_limit(10):
        refused(PluginError, [f"plugin file {str(fifo)!r} is a FIFO (named pipe), not a .py file; {MUST}"],
                neurosim.make_registry, [str(fifo)])


def test_an_interrupted_plugin_import_leaves_no_half_imported_module(tmp_path):
    plugin = tmp_path / "slow_plugin.py"
    plugin.write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        neurosim.make_registry([plugin])
    assert not [m for m in sys.modules if m.startswith("neurosim_user_plugin_slow_plugin")]


# --- the results folder: its lock and a killed writer's temporary files --------------------

RESULTS = ["learning_curve.csv", "network.json", "summary.json"]
STALE = [".summary.json.k3x_9q2a.tmp", ".network.json.abcdefgh.tmp", ".learning_curve.csv.00000000.tmp"]
NOT_OURS = [".summary.json.tmp", ".summary.json.toolong123.tmp", "summary.json.abcdefgh.tmp", ".notes.abcdefgh.tmp",
            ".summary.json.ABCDEFGH.tmp"]


def or_result() -> neurosim.ScenarioResult:
    """A finished 5-epoch run of the OR scenario, ready to save."""
    return neurosim.run_scenario(tomllib.loads(OR_TOML), {"training.epochs": 5})


def assert_whole_results(folder: Path, epochs: int = 5) -> None:
    """The three result files of an ``epochs``-epoch run are there and read back."""
    assert (folder / "learning_curve.csv").read_text().count("\n") == epochs + 1
    assert json.loads((folder / "summary.json").read_text())["metrics"]["epochs_run"] == epochs
    neurosim.Network.from_dict(json.loads((folder / "network.json").read_text()))


def test_a_save_sweeps_the_temporaries_a_killed_save_left(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    for name in STALE + NOT_OURS:
        (out / name).write_text("left behind")
    or_result().save(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(RESULTS + NOT_OURS)   # no lock file left either
    assert_whole_results(out)


@posix
def test_a_sigkill_between_write_and_rename_is_cleaned_up_by_the_next_save(tmp_path):
    out = tmp_path / "res"
    (tmp_path / "or.toml").write_text(OR_TOML)
    script = ("import os, signal, neurosim, neurosim.io\n"
              f"result = neurosim.run_scenario({str(tmp_path / 'or.toml')!r}, {{'training.epochs': 5}})\n"
              "neurosim.io.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)   # killed mid-save\n"
              f"result.save({str(out)!r})\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = sorted(p.name for p in out.iterdir())
    assert len([n for n in left if n.endswith(".tmp")]) == 3 and nsio.LOCK_NAME in left, left
    or_result().save(out)              # the killed process's lock is free; its temporaries are swept
    assert sorted(p.name for p in out.iterdir()) == RESULTS
    assert_whole_results(out)


def test_a_save_into_a_folder_another_run_holds_is_refused_and_sweeps_nothing(tmp_path, refused):
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "res"
    result = or_result()
    result.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / STALE[0]).write_text("a running writer's")
    with open(out / nsio.LOCK_NAME, "w") as held:      # another run's lock: a separate open file
        fcntl.flock(held, fcntl.LOCK_EX)
        err = refused(DataError, [f"{out}: another neurosim run is using this folder; wait for it to finish or "
                                  "choose another folder"], result.save, out)
        assert isinstance(err, nsio.FileError)
        assert (out / STALE[0]).read_text() == "a running writer's"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in RESULTS} == before


def test_the_lock_is_reentrant_for_its_thread_only(tmp_path):
    seen = []
    with nsio.folder_lock(tmp_path):
        with nsio.folder_lock(tmp_path):            # a run that holds its folder may save into it
            assert (tmp_path / nsio.LOCK_NAME).exists()

        def other():
            try:
                with nsio.folder_lock(tmp_path):
                    seen.append("taken")
            except nsio.FileError as exc:
                seen.append(str(exc))
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert (tmp_path / nsio.LOCK_NAME).exists()
    assert seen == [f"{tmp_path}: another neurosim run is using this folder; wait for it to finish or choose "
                    "another folder"]
    assert not (tmp_path / nsio.LOCK_NAME).exists()
    with pytest.raises(RuntimeError, match="needs folder_lock"):
        nsio.sweep_temporaries(tmp_path, RESULTS)


@posix
def test_a_lock_file_that_is_a_link_or_a_fifo_is_refused(tmp_path, refused, time_limit):
    (tmp_path / "victim").write_text("keep me")
    (tmp_path / nsio.LOCK_NAME).symlink_to(tmp_path / "victim")
    with time_limit(10):
        refused(nsio.FileError, [f"{tmp_path}: .neurosim.lock there is a symbolic link; remove it"],
                nsio.folder_lock(tmp_path).__enter__)
        (tmp_path / nsio.LOCK_NAME).unlink()
        os.mkfifo(tmp_path / nsio.LOCK_NAME)
        refused(nsio.FileError, [".neurosim.lock there is not a regular file; remove it"],
                nsio.folder_lock(tmp_path).__enter__)
    assert (tmp_path / "victim").read_text() == "keep me"


def test_security_is_documented_in_one_place_and_linked():
    root = Path(__file__).resolve().parents[1]
    doc = " ".join((root / "docs" / "security.md").read_text().split())
    for fragment in (f"`neurosim.io.SCENARIO_FILE_LIMIT` bytes ({describe_bytes(nsio.SCENARIO_FILE_LIMIT)})",
                     f"`neurosim.io.DATA_FILE_LIMIT` bytes ({describe_bytes(nsio.DATA_FILE_LIMIT)})",
                     f"DIR/{nsio.LOCK_NAME}", "--no-plugins", "by `neurosim check` too", "entry point",
                     "at most 40 characters", "never lists the file's header names or class labels"):
        assert fragment in doc, fragment
    assert "(docs/security.md)" in (root / "README.md").read_text()
    assert "(security.md)" in (root / "docs" / "scenarios.md").read_text()
