"""Epochs to criterion of sgd, rprop and quickprop on XOR, 4-bit parity and the 8-3-8 encoder.

Prints the Markdown table of docs/classics.md's section "Epochs to criterion: sgd, rprop
and quickprop". Each problem is the network and data of its shipped scenario
(``scenarios/xor_sigmoid.toml``: 2-2-1, ``scenarios/parity4.toml``: 4-4-1,
``scenarios/encoder_838.toml``: 8-3-8; logistic units, a trained shared bias, ``mse``,
the scenario's initial weight range), trained from 100 random starts (seeds 0-99) as one
ensemble of 100 members per rule, in batch mode (one weight change per epoch, so every
rule sees the same gradient), until every output of every pattern is within 0.4 of its
target (``within = 0.4``) or the epoch budget runs out. Member ``k`` draws its initial
weights from ``numpy.random.default_rng(k)``, so a run is the same, bit for bit, every time
on one machine.

For each problem and rule the table gives how many of the members reached the criterion,
the median, interquartile range and range of their epochs to reach it (over those members
only), how many diverged, and the median final training error of the members that did not
reach it (which tells a plateau from a collapse). The first line printed is the command
that made the table, as a Markdown comment; the time taken goes to standard error.

Run from anywhere: ``python docs/tools/epochs_to_criterion.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

import neurosim

ROOT = Path(__file__).resolve().parents[2]

#: problem name -> (label in the table, scenario file whose network and data it uses)
PROBLEMS = {
    "xor": ("XOR 2-2-1", "xor_sigmoid.toml"),
    "parity": ("4-bit parity 4-4-1", "parity4.toml"),
    "encoder": ("8-3-8 encoder", "encoder_838.toml"),
}

#: rule name -> (label in the table, registered optimiser, its options)
RULES = {
    "sgd": ("sgd, lr 0.5, momentum 0.9", "sgd", {"learning_rate": 0.5, "momentum": 0.9}),
    "sgd-0.1": ("sgd, lr 0.1, momentum 0.9", "sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    "rprop": ("rprop (defaults: irprop-)", "rprop", {}),
    "quickprop": ("quickprop (defaults)", "quickprop", {}),
    "rprop-dmax1": ("rprop, delta_max 1", "rprop", {"delta_max": 1.0}),
}

#: the rules of the table in docs/classics.md (the others on request, with ``--rules``)
DEFAULT_RULES = ["sgd", "sgd-0.1", "rprop", "quickprop"]


def load_problem(name: str, scale: float | None = None) -> neurosim.scenario.Scenario:
    """The scenario a problem is taken from, resolved (its data loaded).

    Parameters
    ----------
    name : str
        A key of :data:`PROBLEMS`.
    scale : float, optional
        Draw the initial weights from U(-scale, scale) instead of the scenario's range.

    Returns
    -------
    neurosim.scenario.Scenario
        With ``train`` set; ``build_network()`` gives the untrained network.
    """
    overrides = {} if scale is None else {"network.init": {"name": "uniform", "options": {"scale": scale}}}
    return neurosim.load_scenario(ROOT / "scenarios" / PROBLEMS[name][1], overrides).resolve()


def run(problem: str, rule: str, members: int, first_seed: int, epochs: int, within: float,
        scale: float | None = None) -> neurosim.training.EnsembleResult:
    """Train one problem with one rule as a single ensemble.

    Parameters
    ----------
    problem : str
        A key of :data:`PROBLEMS`.
    rule : str
        A key of :data:`RULES`.
    members : int
        Ensemble members (random starts).
    first_seed : int
        Member ``k`` is seeded with ``first_seed + k``.
    epochs : int
        The budget: at most this many epochs.
    within : float
        The criterion: every output within this of its target.
    scale : float, optional
        As for :func:`load_problem`.

    Returns
    -------
    neurosim.training.EnsembleResult
    """
    sc = load_problem(problem, scale)
    _label, optimizer, options = RULES[rule]
    net = sc.build_network()
    return net.train(sc.train.inputs, sc.train.targets, loss="mse", mode="batch", epochs=epochs,
                     optimizer=optimizer, optimizer_options=options, stop={"within": within},
                     ensemble=members, seeds=list(range(first_seed, first_seed + members)))


def row(problem: str, rule: str, result: neurosim.training.EnsembleResult) -> str:
    """One Markdown table row for ``result``.

    Parameters
    ----------
    problem, rule : str
        Keys of :data:`PROBLEMS` and :data:`RULES`.
    result : neurosim.training.EnsembleResult

    Returns
    -------
    str
    """
    done = result.epochs[result.converged].astype(float)
    others = result.final_error[~result.converged & ~result.diverged]
    if len(done):
        q1, median, q3 = np.percentile(done, [25, 50, 75])
        epochs = f"{median:g} | {q1:.0f}–{q3:.0f} | {done.min():.0f}–{done.max():.0f}"
    else:
        epochs = "— | — | —"
    rest = f"{np.median(others):.3g}" if len(others) else "—"
    return (f"| {PROBLEMS[problem][0]} | {RULES[rule][0]} | {len(done)} of {result.members} | {epochs} | "
            f"{result.n_diverged} | {rest} |")


def table(problems: list[str], rules: list[str], members: int, first_seed: int, epochs: int, within: float,
          scale: float | None = None, log=None) -> list[str]:
    """The whole Markdown table, header first.

    Parameters
    ----------
    problems, rules : list of str
        Keys of :data:`PROBLEMS` and :data:`RULES`, in the order of the rows.
    members, first_seed, epochs, within, scale
        As for :func:`run`.
    log : file, optional
        Where to report each run's time (standard error by default; None for silence).

    Returns
    -------
    list of str
        The lines of the table.
    """
    lines = ["| problem | rule | reached | median epochs | interquartile range | min–max | diverged "
             "| final E of the rest (median) |",
             "|---|---|---|---|---|---|---|---|"]
    for problem in problems:
        for rule in rules:
            started = time.perf_counter()
            result = run(problem, rule, members, first_seed, epochs, within, scale)
            lines.append(row(problem, rule, result))
            if log is not None:
                print(f"{problem} / {rule}: {time.perf_counter() - started:.1f} s", file=log, flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, print the command as a Markdown comment, then the table.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument("--rules", nargs="+", choices=list(RULES), default=DEFAULT_RULES)
    parser.add_argument("--members", type=int, default=100, help="random starts, one ensemble (default 100)")
    parser.add_argument("--first-seed", type=int, default=0, help="member k's seed is FIRST_SEED + k (default 0)")
    parser.add_argument("--epochs", type=int, default=20000, help="epoch budget (default 20000)")
    parser.add_argument("--within", type=float, default=0.4, help="criterion: every output within this of its "
                        "target (default 0.4)")
    parser.add_argument("--scale", type=float, default=None, help="initial weights U(-SCALE, SCALE) for every "
                        "problem instead of each scenario's own range")
    args = parser.parse_args(argv)
    shown = "python docs/tools/epochs_to_criterion.py" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    print(f"<!-- {shown} -->")
    started = time.perf_counter()
    for line in table(args.problems, args.rules, args.members, args.first_seed, args.epochs, args.within,
                      args.scale, log=sys.stderr):
        print(line)
    print(f"total: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
