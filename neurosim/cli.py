"""The ``neurosim`` command: run and check scenario files, list plugins.

``neurosim run FILE`` prints the run's report and exits 0 when every expectation holds,
1 when one fails (or training diverges) and 2 when the scenario is invalid (the message
names the file and key); a Ctrl-C exits 130 with one line saying what was interrupted and
what was kept. ``neurosim run FILE --out DIR`` also writes the learning curve, the trained
network and a summary there: the scenario is checked first (a refused one leaves no folder
behind), then the folder is made and held with :func:`neurosim.io.folder_lock` until the
results are written, so a second run into it is refused rather than overwriting them.
While it trains, ``run`` shows its progress on standard error (``--progress``: a live bar on
a terminal, a line every few seconds elsewhere, :mod:`neurosim.progress`); the results on
standard output are the same with or without it. ``--checkpoint-every N`` saves the
training state into the ``--out`` folder every N epochs and on Ctrl-C, and ``--resume
DIR`` continues such a run to the result an uninterrupted run would have had, bit for bit,
and writes it into DIR. ``neurosim explain FILE`` writes out one training step number by number
(:mod:`neurosim.explanation`). ``neurosim check FILE...`` validates without training; ``neurosim list`` shows every
registered plugin object (activations, losses, initialisers, datasets, measures) with the
plugin that provides it, by kind, and ``neurosim plugins`` the same registry by plugin, for
plugin authors: what each provides, its distribution and version, and where it was loaded
from. ``neurosim check-plugin NAME|PATH`` checks a plugin's derivatives, gradients and fused
deltas against finite differences (:mod:`neurosim.plugincheck`; exit 1 when one is wrong),
and ``neurosim run --check-plugins`` runs the same check on what a scenario uses before it
trains. ``neurosim plot FILE --out DIR`` draws the pictures of a finished
``--out`` folder or of a scenario (run first) as PNG files, and ``run --plot DIR`` draws
them after a run (:mod:`neurosim.plotting`; matplotlib, checked before training). Plugins a scenario names are code that runs when it is loaded,
by ``run`` and ``check`` alike; ``--no-plugins`` refuses such a scenario instead (see
``docs/security.md``). ``neurosim export NETWORK --format onnx|fann --out PATH`` writes a
saved network (``network.json``, a results folder holding one, or a FANN ``.net`` file) as
an ONNX model or a FANN file, and ``neurosim import FILE.net --out network.json`` turns a
FANN file into neurosim's own format (:mod:`neurosim.exchange`, docs/exchange.md).
``neurosim sweep FILE --out DIR`` runs every point of a ``[sweep]`` on local processes or,
with ``--dask``, on a Dask cluster (:mod:`neurosim.sweep`, docs/sweeps.md); ``neurosim check``
validates every point of a sweep file.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shlex
import sys
import tomllib
from pathlib import Path
from collections.abc import Callable, Iterator, Sequence

from .version import __version__
from .codegen import BACKENDS
from .errors import DataError, NeurosimError, NumericalError, ScenarioError
from .explanation import explain_scenario
from .io import DATA_FILE_LIMIT, FileError, TOMLLimitError, folder_lock, parse_toml, read_text
from .network import Network
from .plugincheck import check_plugins
from .plotting import KINDS, CurveRecorder, choose_kinds, read_results, require_matplotlib, save_figures
from .plotting.base import check_member, ensemble_refusal
from .plotting.sweeps import is_sweep_folder, save_sweep_figure, sweep_view
from .plugins import Registry, make_registry
from .progress import PROGRESS_MODES, ProgressReporter, SweepReporter, progress_mode
from .resources import describe_bytes
from .scenario import Scenario, load_scenario, run_scenario
from .scenario.run import check_identity, read_checkpoint
from .sweep import DASK_TIMEOUT, dask_executor, is_sweep, load_sweep, run_sweep
from .training import TrainingInterrupted
from .training.checkpoints import CHECKPOINT_NAME

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130

#: How ``neurosim list`` heads each kind of plugin object (the rest just add an s).
PLURALS = {"loss": "losses", "stop criterion": "stop criteria"}

#: What ``run --help`` and ``check --help`` say about trust (docs/security.md says more).
SECURITY = ("Plugins a scenario names (plugins = [...]) are Python code: they run, with your permissions, as "
            "soon as the scenario is loaded -- by neurosim run and by neurosim check alike. Installed plugins "
            "(the 'neurosim' entry points of your installed packages) run whenever neurosim runs, checks or "
            f"lists. Data files are only read (regular files of at most {describe_bytes(DATA_FILE_LIMIT)}); "
            "results are written with your permissions. Give --no-plugins for a scenario file you do not "
            "trust. See docs/security.md.")
NO_PLUGINS = ("refuse a scenario that names plugins (plugins = [...]), before any of their code runs; "
              "installed entry-point plugins stay loaded")


class _Activity:
    """What the command is doing and what would be kept if it stopped now: the one line a
    Ctrl-C prints (``interrupted while training x.toml; nothing was written``)."""

    def __init__(self) -> None:
        self.doing, self.kept = "starting", "nothing was written"
        self.resume = ""                   # the command that resumes the run from its checkpoint

    def __call__(self, doing: str, kept: str = "nothing was written") -> None:
        self.doing, self.kept = doing, kept


def _parse_set(items: Sequence[str]) -> dict:
    overrides = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", item, "must be KEY=VALUE, e.g. training.epochs=100")
        try:
            value = parse_toml(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word is a string: --set training.loss=bce
        except TOMLLimitError as exc:
            raise ScenarioError("--set", key.strip(), f"the value cannot be read: {exc}") from None
        overrides[key.strip()] = value
    return overrides


@contextlib.contextmanager
def _results_folder(out: str | None) -> Iterator[Path | None]:
    """The ``--out`` folder while a run trains and saves: created (with missing parents) and
    held with :func:`neurosim.io.folder_lock`; the folders it created are removed again
    when nothing was written into them. ``None`` without ``--out``."""
    if out is None:
        yield None
        return
    if not out.strip():
        raise ScenarioError("--out", repr(out), "is empty; give the path of a results folder")
    folder = Path(out)
    try:
        created = list(itertools.takewhile(lambda p: not p.exists(), (folder, *folder.parents)))
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:           # ValueError: an embedded NUL byte
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, FileExistsError):
            why = "a file or link that is not a folder is in the way"
        raise ScenarioError("--out", out[:80] + ("..." if len(out) > 80 else ""),
                            f"cannot be used as the results folder ({why})") from None
    with contextlib.ExitStack() as stack:
        stack.callback(_remove_empty, created)
        try:
            stack.enter_context(folder_lock(folder))
        except FileError as exc:
            raise ScenarioError("--out", out, exc.problem) from None
        yield folder


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (innermost first) as long as they are empty."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            return


def _refuse_plugins(scenario: Scenario) -> Registry:
    """``--no-plugins``: refuse a scenario that names plugins; else a registry of the
    installed plugins only, for the whole run (a ``--set plugins=[...]`` is refused too)."""
    if scenario.plugins:
        named = ", ".join(map(repr, scenario.plugins[:3])) + (", ..." if len(scenario.plugins) > 3 else "")
        raise ScenarioError(scenario.source, "plugins", f"names plugin code ({named}), which would run with your "
                            "permissions; --no-plugins refuses such a scenario (leave it out only for a file you "
                            "trust)")
    return make_registry()


def _resume_command(args: argparse.Namespace, folder: str) -> str:
    """The command that resumes this run from the checkpoint in ``folder``."""
    words = ["neurosim", "run", args.scenario]
    for item in args.set:
        words += ["--set", item]
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    return shlex.join(words + ["--resume", folder])


def _reporter(args: argparse.Namespace, name: str | None = None) -> ProgressReporter | None:
    """The progress display ``--progress`` asks for on standard error (none with ``-q``)."""
    mode = "none" if args.quiet else progress_mode(args.progress, sys.stderr)
    return None if mode == "none" else ProgressReporter(name or args.scenario, mode, sys.stderr)


def _run(args: argparse.Namespace, now: _Activity) -> int:
    """``neurosim run``: check, then train and save; the exit status."""
    if args.resume is not None and args.out is not None:
        raise ScenarioError("--out", args.out, f"cannot go with --resume, which writes the results into the folder "
                            f"of its checkpoint ({args.resume}); leave --out out")
    if args.checkpoint_every is not None and args.out is None and args.resume is None:
        raise ScenarioError("--checkpoint-every", str(args.checkpoint_every), "saves checkpoints into the results "
                            "folder; give --out DIR")
    if args.plot is not None:
        _check_folder("--plot", args.plot)
        require_matplotlib(headless=True)  # before training: a missing matplotlib is said at once
    overrides = _parse_set(args.set)
    if args.seed is not None:
        overrides["scenario.seed"] = args.seed
    if args.backend is not None:
        overrides["training.backend"] = args.backend
    checkpoint = None
    if args.resume is not None:
        now(f"reading the checkpoint in {args.resume}")
        checkpoint = read_checkpoint(args.resume)
    now(f"checking {args.scenario}")       # before the folder is made: a refused run leaves none
    try:
        scenario = load_scenario(args.scenario, overrides)
    except ScenarioError as exc:
        if exc.key in ("sweep", "base"):
            raise ScenarioError(args.scenario, exc.key, "makes this file a sweep; run it with neurosim sweep "
                                f"{args.scenario} --out DIR (or one of its points, DIR/points/NNNN.toml)") from None
        raise
    saved_seed = checkpoint.info["scenario"].get("seed") if checkpoint is not None else None
    if isinstance(saved_seed, int) and "seed" not in scenario.data.get("scenario", {}):
        scenario = load_scenario(args.scenario, {**overrides, "scenario.seed": saved_seed})   # it drew its seed
    net = scenario.check(_refuse_plugins(scenario) if args.no_plugins else None)
    if args.check_plugins:
        now(f"checking the plugins of {args.scenario}")
        _check_scenario_plugins(scenario, net, args)
    if checkpoint is not None:
        check_identity(scenario, checkpoint)
    folder = args.out if args.resume is None else os.fspath(checkpoint.path.parent)
    flag = "--out" if args.resume is None else "--resume"
    with _results_folder(folder) as out:
        now(f"training {args.scenario}")
        now.resume = _resume_command(args, folder)
        saving = args.checkpoint_every is not None or checkpoint is not None
        reporter = _reporter(args)
        recorder = CurveRecorder() if args.plot is not None else None
        try:
            result = run_scenario(scenario, callbacks=[f for f in (reporter, recorder) if f is not None],  # trains
                                  checkpoint_every=args.checkpoint_every, checkpoint_dir=out if saving else None,
                                  resume=checkpoint)
        finally:
            if reporter is not None:
                reporter.close()
        if not args.quiet:
            print(result.report())
        if out is not None:
            now(f"writing results to {folder}", "the results already there are unchanged" if not saving else
                f"the results already there are unchanged; the checkpoint in {folder} is kept")
            try:
                paths = result.save(out)
            except OSError as exc:
                raise ScenarioError(flag, folder, f"cannot write the results ({exc.strerror})") from None
            except DataError as exc:
                raise ScenarioError(flag, folder, str(exc)) from None
            if saving:                      # the results are complete: the checkpoint has served
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(out / CHECKPOINT_NAME)
            now(f"reporting on {args.scenario}", f"the results in {folder} are complete")
            for path in paths.values():
                print(f"wrote {path}")
    if args.plot is not None:
        now(f"drawing the pictures of {args.scenario}", "no picture was written" + (
            f"; the results in {folder} are complete" if folder is not None else ""))
        _pictures(args, result, recorder, None, None)
    for line in result.failures:
        print(f"FAILED {line}", file=sys.stderr)
    print(f"{args.scenario}: {'passed' if result.passed else 'FAILED'}")
    return EXIT_OK if result.passed else EXIT_FAILED


def _sweep(args: argparse.Namespace, now: _Activity) -> int:
    """``neurosim sweep``: expand and check, then run every point; 0 when no point raised
    and every sweep expectation holds."""
    if not args.out.strip():
        raise ScenarioError("--out", repr(args.out), "is empty; give the path of a results folder")
    now(f"checking {args.sweep}")
    sweep = load_sweep(args.sweep)
    if args.no_plugins and sweep.base.get("plugins"):
        raise ScenarioError(args.sweep, "plugins", "names plugin code, which would run with your permissions; "
                            "--no-plugins refuses such a sweep")
    resume = shlex.join(["neurosim", "sweep", args.sweep, "--out", args.out, "--resume"])
    now(f"running the sweep {args.sweep}", f"the points that finished are kept in {args.out}; resume with: {resume}")
    mode = "none" if args.quiet else progress_mode(args.progress, sys.stderr)
    reporter = None if mode == "none" else SweepReporter(args.sweep, mode, sys.stderr)
    backend = (dask_executor(args.dask, args.workers, args.dask_timeout) if args.dask is not None
               else contextlib.nullcontext(None))
    try:
        with backend as executor:
            result = run_sweep(sweep, args.out, executor=executor, workers=args.workers, resume=args.resume,
                               callbacks=[reporter] if reporter is not None else [])
    finally:
        if reporter is not None:
            reporter.close()
    if not args.quiet:
        print(result.report())
        print(f"wrote {result.out / 'results.csv'}")
        print(f"wrote {result.out / 'results.json'}")
    for line in result.failures:
        print(f"FAILED {line}", file=sys.stderr)
    print(f"{args.sweep}: {'passed' if result.passed else 'FAILED'}")
    return EXIT_OK if result.passed else EXIT_FAILED


def _seconds(text: str) -> float:
    try:
        s = float(text)
    except ValueError:
        s = -1.0
    if not 0 < s < 1e6:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, not {text!r}")
    return s


def _add_sweep_command(sub) -> None:
    """The ``sweep`` subcommand."""
    sweep = sub.add_parser("sweep", help="run every point of a [sweep] on local cores or on a Dask cluster",
                           description="Run every point of a sweep file (a scenario with a [sweep] table, or a "
                           "file with base = 'scenario.toml' and [sweep]): each point is written as "
                           "DIR/points/NNNN.toml, run into DIR/points/NNNN/, and a row of DIR/results.csv and "
                           "results.json. Exit 0 when no point raised and every [[sweep.expect]] holds. See "
                           f"docs/sweeps.md. {SECURITY}")
    sweep.add_argument("sweep", help="path of a sweep file")
    sweep.add_argument("--out", metavar="DIR", required=True, help="the results folder (created if missing)")
    sweep.add_argument("--workers", type=_workers, metavar="N", help="processes of the local pool, or of "
                       "--dask local (default: the machine's cores)")
    sweep.add_argument("--dask", metavar="local|ADDRESS", help="run on Dask instead of the local pool: 'local' "
                       "starts a LocalCluster; tcp://HOST:8786 (or a scheduler file .json) uses a running "
                       "scheduler; needs pip install 'neurosim[dist]'")
    sweep.add_argument("--dask-timeout", type=_seconds, default=DASK_TIMEOUT, metavar="S",
                       help=f"seconds to wait for the Dask scheduler (default {DASK_TIMEOUT:g})")
    sweep.add_argument("--resume", action="store_true", help="keep the points a sweep into DIR finished, run the "
                       "rest")
    sweep.add_argument("--progress", choices=PROGRESS_MODES, default="auto", help="show the points done, failures "
                       "and time left on stderr, as neurosim run shows training")
    sweep.add_argument("-q", "--quiet", action="store_true", help="print only the verdict (and no progress)")
    sweep.add_argument("--no-plugins", action="store_true", help=NO_PLUGINS)


def _check_file(path: str, args: argparse.Namespace) -> str:
    """``neurosim check`` of one file: a scenario, or every point of a sweep; what it says."""
    try:
        data = parse_toml(read_text(path, limit=DATA_FILE_LIMIT, what="a .toml file"))
    except (FileError, tomllib.TOMLDecodeError, TOMLLimitError):
        data = {}                          # load_scenario says what is wrong with it
    if is_sweep(data):
        sweep = load_sweep(path)
        if args.no_plugins and sweep.base.get("plugins"):
            raise ScenarioError(path, "plugins", "names plugin code; --no-plugins refuses such a sweep")
        sweep.check()
        return f"{path}: ok ({sweep.describe()})"
    scenario = load_scenario(path)
    scenario.check(_refuse_plugins(scenario) if args.no_plugins else None)
    return f"{path}: ok"


def _check_scenario_plugins(scenario: Scenario, net: Network, args: argparse.Namespace) -> None:
    """``run --check-plugins``: check what the scenario's ``plugins = [...]`` provide and every
    activation and the loss it uses (built-in or not) before training; refuse on a failure."""
    used = sorted({neuron.activation for neuron in net.neurons})
    targets = [*scenario.plugins, *(f"activation:{name}" for name in used), f"loss:{scenario.loss}"]
    report = check_plugins(targets, registry=scenario.registry, base_dir=scenario.base_dir)
    report.raise_if_failed(f"not training {args.scenario}")
    if not args.quiet:
        print(f"checked {', '.join(map(str, report.subjects))}: all passed")


def _list_plugins(args: argparse.Namespace) -> int:
    """``neurosim plugins``: every plugin, with what it provides and where it came from."""
    infos = make_registry(args.plugin).plugins()
    if args.json:
        print(json.dumps([info.to_dict() for info in infos], indent=2))
        return EXIT_OK
    for info in infos:
        shown = info.file if info.origin == "file" else info.name
        print(shown)
        rows = [("distribution", f"{info.distribution} {info.version or ''}".strip() if info.distribution
                 else "none (not installed)")]
        rows.append(("loaded from", {"entry point": f"entry point {info.entry_point} (group 'neurosim')",
                                     "file": "the module file given (--plugin or a scenario's plugins)",
                                     "module": f"the module path given: {info.module}",
                                     "object": "a plugin object"}[info.origin]))
        if info.file:
            rows.append(("module file", info.file))
        for kind, names in info.provides.items():
            rows.append((PLURALS.get(kind, kind + "s"), ", ".join(names)))
        others = [h for h in info.hooks if not h.startswith("neurosim_register_")]
        if others:
            rows.append(("hooks", ", ".join(others)))
        if not info.provides and not others:
            rows.append(("provides", "nothing (it implements no neurosim hook)"))
        for label, text in rows:
            print(f"  {label:<14} {text}")
    return EXIT_OK


def _check_plugin(args: argparse.Namespace) -> int:
    """``neurosim check-plugin``: the report, and 1 when a check failed."""
    registry = make_registry(args.plugin)
    report = check_plugins(args.targets, registry=registry)
    print(report.text(verbose=args.verbose))
    return EXIT_OK if report.passed else EXIT_FAILED


def _check_folder(flag: str, folder: str) -> None:
    """An empty folder name is refused before anything runs."""
    if not folder.strip():
        raise ScenarioError(flag, repr(folder), "is empty; give the path of a folder")


def _pictures(args: argparse.Namespace, subject, recorder: CurveRecorder | None, kinds: list | None,
              member: int | None) -> None:
    """Draw the pictures of ``subject`` into the folder of ``--plot`` (run) or ``--out`` (plot)."""
    folder = args.plot if args.command == "run" else args.out
    flag = "--plot" if args.command == "run" else "--out"
    chosen, skipped = choose_kinds(subject, kinds, member)
    with _results_folder(folder) as out:
        try:
            paths = save_figures(subject, out, chosen, member, recorder, dpi=getattr(args, "dpi", 100))
        except OSError as exc:
            raise ScenarioError(flag, folder, f"cannot write the pictures ({exc.strerror})") from None
    member_hint = [why for why in skipped.values() if "member" in why]
    if member_hint and not args.quiet:
        if args.command == "run":          # run has no --member: plot draws one member's pictures
            member_hint = [f"an ensemble's networks are drawn one member at a time: neurosim plot {args.scenario} "
                           f"--member K --out {folder}"]
        print(f"note: only the learning curve is drawn: {member_hint[0]}", file=sys.stderr)
    for path in paths.values():
        print(f"wrote {path}")


def _plot(args: argparse.Namespace, now: _Activity) -> int:
    """``neurosim plot``: the pictures of a finished run's folder, or of a scenario run now."""
    _check_folder("--out", args.out)
    require_matplotlib(headless=True)
    source = Path(args.source)
    if is_sweep_folder(source):
        return _plot_sweep(args, now)
    for flag in ("measure", "x", "y"):
        if getattr(args, flag) is not None:
            raise ScenarioError(f"--{flag}", args.source, "is not a sweep's results folder (neurosim sweep --out DIR, "
                                "with results.json); --measure, --x and --y draw a sweep")
    if source.is_dir():
        if args.set or args.seed is not None:
            flag = "--set" if args.set else "--seed"
            raise ScenarioError(flag, args.source, "is a finished run's folder; --set and --seed change a scenario "
                                "before it runs: give the scenario file instead")
        now(f"reading the results in {args.source}")
        subject = read_results(source, registry=make_registry(args.plugin) if args.plugin else None,
                               plugins=not args.no_plugins)
        if subject.note and not args.quiet:
            print(f"note: {subject.note}", file=sys.stderr)
        recorder = None
    else:
        overrides = _parse_set(args.set)
        if args.seed is not None:
            overrides["scenario.seed"] = args.seed
        now(f"checking {args.source}")
        scenario = load_scenario(args.source, overrides)
        untrained = scenario.check(_refuse_plugins(scenario) if args.no_plugins else None)
        _check_kinds(scenario, untrained, args.kind, args.member)       # before training, as far as it can be
        now(f"training {args.source}")
        recorder = CurveRecorder()
        reporter = _reporter(args, args.source)
        try:
            subject = run_scenario(scenario, callbacks=[f for f in (reporter, recorder) if f is not None])
        finally:
            if reporter is not None:
                reporter.close()
    now(f"drawing the pictures of {args.source}")
    _pictures(args, subject, recorder, args.kind or None, args.member)
    return EXIT_OK


def _plot_sweep(args: argparse.Namespace, now: _Activity) -> int:
    """``neurosim plot DIR`` of a sweep's results: one measure against one or two axes."""
    for flag, given in (("--kind", args.kind), ("--member", args.member is not None), ("--set", args.set),
                        ("--seed", args.seed is not None), ("--plugin", args.plugin)):
        if given:
            raise ScenarioError(flag, args.source, "is a sweep's results folder; it is drawn as a measure against "
                                "its axes (--measure, --x, --y), and " + flag + " does not apply")
    now(f"reading the sweep's results in {args.source}")
    view = sweep_view(args.source, args.measure, args.x, args.y)
    if view.finished < view.total and not args.quiet:
        print(f"note: {view.finished} of {view.total} points have finished; drawing those", file=sys.stderr)
    now(f"drawing the sweep in {args.source}")
    path = save_sweep_figure(args.source, args.out, view.measure, view.x, view.y, dpi=args.dpi)
    print(f"wrote {path}")
    return EXIT_OK


def _check_kinds(scenario: Scenario, untrained, kinds: list | None, member: int | None) -> None:
    """Refuse, before training, the pictures that cannot be drawn of the scenario's run: a
    member of a single run or out of range, an ensemble's network without a member, and
    kinds asked for that the network cannot have (a decision region of six inputs)."""
    what = f"the results of {scenario.source}"
    check_member(member, scenario.ensemble, what)
    networks = [k for k in kinds or () if k != "learning_curve"]
    if networks and scenario.ensemble is not None and member is None:
        raise ensemble_refusal(what, scenario.ensemble)
    if networks:
        choose_kinds(untrained, networks)


# --- export and import: neurosim.exchange from the command line --------------------------------


def _add_exchange_commands(sub) -> None:
    """The ``export`` and ``import`` subcommands."""
    export = sub.add_parser("export", help="write a saved network as an ONNX model or a FANN .net file",
                            description="Write a saved network (network.json, a results folder written by "
                            "neurosim run --out, or a FANN .net file) as an ONNX model (needs pip install "
                            "'neurosim[onnx]') or a FANN .net file. See docs/exchange.md for what each format "
                            "keeps.")
    export.add_argument("network", help="network.json, a results folder holding one, or a FANN .net file")
    export.add_argument("--format", required=True, choices=("onnx", "fann"), help="the file format to write")
    export.add_argument("--out", required=True, metavar="PATH", help="the file to write (its folder must exist)")
    export.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="ONNX only: the model's tensor type (default float32)")
    export.add_argument("--rectifier", action="store_true",
                        help="FANN only: write relu neurons as FANN_LINEAR_PIECE_RECT, which FANN 2.2 lacks and "
                             "later FANNs have")
    imp = sub.add_parser("import", help="read a FANN .net file and write it as network.json",
                         description="Read a network saved by the FANN library (fann_save, FANN_FLO_2.1) and "
                         "write it in neurosim's own format, network.json, with the same outputs.")
    imp.add_argument("network", help="a FANN .net file")
    imp.add_argument("--out", required=True, metavar="PATH", help="the network.json file to write")


def _read_network(source: str):
    """The network saved in ``source``: a network.json file, a results folder, or a FANN .net file."""
    from .exchange import read_fann

    path = Path(source)
    if path.suffix == ".net":
        return read_fann(path)
    return Network.load(path / "network.json" if path.is_dir() else path)


def _exchange(args: argparse.Namespace, now: _Activity) -> int:
    """``neurosim export`` and ``neurosim import``: the exit status."""
    from .exchange import read_fann, to_onnx, write_fann

    now(f"reading {args.network}")
    if args.command == "import":
        net = read_fann(args.network)
        now(f"writing {args.out}")
        net.save(args.out)
    else:
        net = _read_network(args.network)
        now(f"writing {args.out}")
        if args.format == "onnx":
            to_onnx(net, args.out, dtype=args.dtype)
        else:
            write_fann(net, args.out, rectifier=args.rectifier)
        if net.scaling is not None:
            print(f"note: the network's input and target scaling ({net.scaling.describe()}) is not part of the "
                  f"{args.format} file, which computes the network on scaled values (Network.forward)",
                  file=sys.stderr)
    print(f"wrote {args.out} ({net!r})")
    return EXIT_OK


def _explain(args: argparse.Namespace, now: _Activity) -> int:
    """``neurosim explain``: write out one training step of a scenario; the exit status."""
    overrides = _parse_set(args.set)
    if args.seed is not None:
        overrides["scenario.seed"] = args.seed
    now(f"checking {args.scenario}")
    scenario = load_scenario(args.scenario, overrides)
    registry = _refuse_plugins(scenario) if args.no_plugins else None
    now(f"training {args.scenario} up to step {args.step}")
    explanation = explain_scenario(args.scenario, step=args.step, neurons=args.neurons, pattern=args.pattern,
                                   member=args.member, overrides=overrides, registry=registry)
    print(explanation.markdown() if args.format == "markdown" else explanation.text(), end="")
    return EXIT_OK


def _whole(what: str, minimum: int, maximum: int | None = None, refusal: str | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number (of ``what``) from ``minimum`` (to ``maximum``);
    ``refusal`` is the message for one out of range (``{value}`` filled in)."""
    of = f" of {what}" if what else ""
    if refusal is None:
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        refusal = f"{{value}} is not a {'number' if what else 'whole number'}{of} {bounds}"

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{of}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(refusal.format(value=value))
        return value
    return convert


#: ``--seed``, ``--checkpoint-every``, ``sweep --workers``, ``plot --dpi``, ``explain --step``,
#: and the member and pattern numbers (counted from 0).
_seed = _whole("", 0, refusal="{value} is negative; a seed is a whole number >= 0")
_every = _whole("epochs", 1)
_workers = _whole("processes", 1)
_dpi = _whole("dots per inch", 10, 600)
_step = _whole("", 1, refusal="{value} is not a step: the first update of training is step 1")
_index = _whole("", 0, refusal="{value} is negative; counting starts at 0")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``neurosim`` command."""
    parser = argparse.ArgumentParser(prog="neurosim", description="Run backpropagation experiments "
                                     "described in TOML scenario files.")
    parser.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train a scenario and check its expectations",
                         description=f"Train a scenario and check its expectations. {SECURITY}")
    run.add_argument("scenario", help="path of a .toml scenario file")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a key, e.g. --set training.epochs=100 or --set "
                          "network.layers[1].size=4 (repeatable)")
    run.add_argument("--seed", type=_seed, help="override scenario.seed (a whole number >= 0)")
    run.add_argument("--backend", choices=BACKENDS, help="override training.backend: where training runs (numpy; "
                     "python or numba: code generated for small networks, numba needs pip install "
                     "'neurosim[fast]'; auto: python when the network is small; docs/engine.md)")
    run.add_argument("--out", metavar="DIR", help="write learning_curve.csv, network.json and summary.json here "
                     "(created if missing; one run at a time: another run into DIR is refused)")
    run.add_argument("--checkpoint-every", type=_every, metavar="N",
                     help=f"with --out DIR: save the training state to DIR/{CHECKPOINT_NAME} every N epochs and "
                          "on Ctrl-C, so that --resume DIR can finish the run")
    run.add_argument("--resume", metavar="DIR", help=f"continue the run whose {CHECKPOINT_NAME} is in DIR (give the "
                     "same --set and --seed as the run that made it) and write its results into DIR; the result "
                     "is bit for bit an uninterrupted run's")
    run.add_argument("--plot", metavar="DIR", help="also draw the run's pictures into DIR as PNG files (learning "
                     "curve, Hinton diagrams, the network, decision regions; those that apply; needs matplotlib: "
                     "pip install 'neurosim[plot]'); see neurosim plot")
    run.add_argument("--progress", choices=PROGRESS_MODES, default="auto",
                     help="show training progress on stderr: a live bar (bar), a line every few seconds (lines), "
                          "nothing (none); auto (the default) is bar on a terminal, lines elsewhere or with CI set")
    run.add_argument("-q", "--quiet", action="store_true", help="print only the verdict (and no progress)")
    run.add_argument("--no-plugins", action="store_true", help=NO_PLUGINS)
    run.add_argument("--check-plugins", action="store_true",
                     help="before training, check the derivatives and gradients of every activation and the loss "
                          "the scenario uses, and of everything its plugins provide (as neurosim check-plugin "
                          "does); refuse to train when one is wrong")
    check = sub.add_parser("check", help="validate scenario files without training (loads their plugins)",
                           description=f"Validate scenario files without training. {SECURITY}")
    check.add_argument("scenarios", nargs="+", metavar="scenario")
    check.add_argument("--no-plugins", action="store_true", help=NO_PLUGINS)
    explain = sub.add_parser("explain", help="write out one training step of a scenario, number by number",
                             description="Write out one training step of a scenario the way the worked example "
                             "does it by hand: every net input as its sum of weighted inputs, the error, each "
                             "delta and gradient as its chain-rule product, the messages a hidden neuron sums, "
                             "each updated weight. The numbers are the engine's. Networks of more than "
                             "20 neurons or 100 weights get a summary plus the --neurons asked for. "
                             f"See docs/explain.md. {SECURITY}")
    explain.add_argument("scenario", help="path of a .toml scenario file")
    explain.add_argument("--step", type=_step, default=1, metavar="N",
                         help="explain the N-th update of the scenario's training, after training N-1 with its "
                              "settings (default 1; a step is one pattern online, one minibatch, one epoch in "
                              "batch mode)")
    explain.add_argument("--neurons", metavar="NAMES", help="write out only these computing neurons, e.g. h1,o2")
    explain.add_argument("--pattern", type=_index, default=0, metavar="K",
                         help="which of the step's patterns to write out in batch and minibatch steps (default 0; "
                              "the gradients are always the sums over all of them)")
    explain.add_argument("--member", type=_index, metavar="K",
                         help="for a scenario that trains an ensemble: explain member K (its weights drawn from "
                              "scenario.seed + K)")
    explain.add_argument("--format", choices=("text", "markdown"), default="text",
                         help="plain text (default) or Markdown with LaTeX formulas")
    explain.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="override a key, as for run (repeatable)")
    explain.add_argument("--seed", type=_seed, help="override scenario.seed (a whole number >= 0)")
    explain.add_argument("--no-plugins", action="store_true", help=NO_PLUGINS)
    plot = sub.add_parser("plot", help="draw a run's pictures as PNG files (needs matplotlib)",
                          description="Draw the pictures of a finished run (the folder of neurosim run --out DIR) "
                          "or of a scenario file (run first) as PNG files: " + ", ".join(f"{k}.png" for k in KINDS)
                          + ". By default every kind that applies is drawn; an ensemble's results have one "
                          "learning curve for all members, and the pictures of one network need --member K. "
                          "A sweep's results folder (neurosim sweep --out) is drawn as sweep_MEASURE.png: a "
                          "measure against one axis (a line with the spread over seeds) or two (a heatmap). "
                          f"Needs matplotlib: pip install 'neurosim[plot]'. {SECURITY}")
    plot.add_argument("source", help="a results folder written by neurosim run --out or neurosim sweep --out, "
                      "or a .toml scenario file")
    plot.add_argument("--out", metavar="DIR", required=True, help="write the pictures here (created if missing)")
    plot.add_argument("--kind", action="append", choices=KINDS, metavar="KIND",
                      help=f"draw only this kind (repeatable): {', '.join(KINDS)}")
    plot.add_argument("--member", type=_index, metavar="K", help="for an ensemble: draw member K's network "
                      "and learning curve (0 to K - 1)")
    plot.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="with a scenario file: override a key, as for neurosim run (repeatable)")
    plot.add_argument("--seed", type=_seed, help="with a scenario file: override scenario.seed")
    plot.add_argument("--dpi", type=_dpi, default=100, help="dots per inch of the PNG files, 10 to 600 (default 100)")
    plot.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                      help="with a results folder: load this plugin for the network's activations")
    plot.add_argument("--progress", choices=PROGRESS_MODES, default="auto", help="training progress on stderr "
                      "while a scenario file runs, as for neurosim run")
    plot.add_argument("-q", "--quiet", action="store_true", help="print only the files written")
    plot.add_argument("--no-plugins", action="store_true", help=NO_PLUGINS)
    plot.add_argument("--measure", metavar="COLUMN", help="with a sweep's results folder: the column to draw "
                      "(default success_rate if present, else train_error)")
    plot.add_argument("--x", metavar="AXIS", help="with a sweep's results folder: the axis along the picture")
    plot.add_argument("--y", metavar="AXIS", help="with a sweep's results folder: a second axis (a heatmap)")
    _add_exchange_commands(sub)
    _add_sweep_command(sub)
    plugins = sub.add_parser("list", help="list registered activations, losses, initialisers, datasets, measures, "
                             "optimisers and stop criteria, by kind (neurosim plugins: by plugin)")
    plugins.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                         help="also load this plugin (a .py path or a dotted module name)")
    authoring = sub.add_parser("plugins", help="list every plugin: what it provides, its distribution and "
                               "version, where it was loaded from",
                               description="List every plugin (neurosim list shows the same by kind): what it "
                               "provides, its distribution and version, and where it was loaded from.")
    authoring.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                           help="also load this plugin (a .py path or a dotted module name)")
    authoring.add_argument("--json", action="store_true", help="print the list as JSON")
    checker = sub.add_parser("check-plugin", help="check a plugin's derivatives and gradients against finite "
                             "differences",
                             description="Check activations' derivatives (group activations' vector-Jacobian "
                             "products) and losses' gradients and fused deltas against central finite "
                             "differences, in float64 and float32, over several shapes; exit 1 when one is wrong.")
    checker.add_argument("targets", nargs="+", metavar="NAME|PATH",
                         help="a registered name (softsign) or kind:name (loss:huber), an installed plugin or "
                              "distribution (neurosim-softsign), a .py file or a dotted module name")
    checker.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                         help="also load this plugin, so its names can be checked (a .py path or a dotted name)")
    checker.add_argument("-v", "--verbose", action="store_true", help="a line for every check, passed or not")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 an expectation failed, 2 invalid input, 130 interrupted (Ctrl-C:
        one line on stderr says what was interrupted and what was kept).
    """
    args = build_parser().parse_args(argv)
    now = _Activity()
    try:
        if args.command == "run":
            return _run(args, now)
        if args.command in ("export", "import"):
            return _exchange(args, now)
        if args.command == "explain":
            return _explain(args, now)
        if args.command == "sweep":
            return _sweep(args, now)
        if args.command == "plot":
            return _plot(args, now)
        if args.command == "check":
            status = EXIT_OK
            for k, path in enumerate(args.scenarios):
                now(f"checking {path}", f"nothing was written; {k} of {len(args.scenarios)} files were checked "
                    "before it")
                try:
                    print(_check_file(path, args))
                except NeurosimError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    status = EXIT_INVALID
            return status
        if args.command == "plugins":
            now("listing plugins")
            return _list_plugins(args)
        if args.command == "check-plugin":
            now("checking plugins")
            return _check_plugin(args)
        now("listing plugins")
        registry = make_registry(args.plugin)
        for kind, rows in registry.listing().items():
            print(f"{PLURALS.get(kind, kind + 's')}:")
            for name, owner, description in rows:
                print(f"  {name:<16} {owner:<26} {description}")
        return EXIT_OK
    except NumericalError as exc:      # the run itself failed (diverged): not an invalid file
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except NeurosimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt as exc:
        if isinstance(exc, TrainingInterrupted) and exc.checkpoint is not None:
            print(f"neurosim: interrupted while {now.doing}; the checkpoint of epoch {exc.epoch} is kept in "
                  f"{exc.checkpoint}; resume with: {now.resume}", file=sys.stderr)
        else:
            print(f"neurosim: interrupted while {now.doing}; {now.kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:            # neurosim run ... | head: the reader has gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())      # so the exit's flush of stdout cannot fail again
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
