"""What showing progress costs a run: ``neurosim run``'s progress reporter against no callback.
``python benchmarks/progress_overhead.py [--repeat 7] [--epochs 10000]``.
Each workload is a shipped scenario run with ``run_scenario`` four ways, interleaved, after one
warm-up round: without callbacks; with an empty callback (``lambda progress: None``: what any
callback costs, the trainer building a ``neurosim.Progress`` after every epoch); with the
reporter in ``lines`` mode and in ``bar`` mode (a tqdm bar, drawn from the start), both
writing to an in-memory stream. The table gives the fastest of the repetitions (the least disturbed by whatever
else the machine runs), and what the reporter adds to the run without callbacks: in all,
and per epoch. Training is the same in every variant (the script checks the learning
curves are identical), so the differences are the callbacks' alone. The short runs are the
scenarios as shipped (``mazur.toml`` trains one epoch): there the cost is making the reporter
(``neurosim run`` draws no bar in the first half second, so such a run does not import tqdm;
its import is timed apart, in a fresh interpreter).
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: (label, scenario, overrides): a one-pattern online net (the worked example, W1's), XOR
#: online with momentum (W2's), mirror symmetry in batch mode (W3's), and an ensemble of 100
#: (W6-like). As shipped first, then with the overrides for ``--epochs`` epochs (shuffled, and
#: with a stop criterion no run meets).
WORKLOADS = [
    ("mazur 2-2-2, online, 1 pattern", "mazur.toml", {}),
    ("xor 2-2-1, online", "xor_sigmoid.toml", {"training.shuffle": True, "training.stop.within": 1e-9}),
    ("symmetry 6-2-1, batch, 64 patterns", "symmetry.toml", {"training.stop.within": 1e-9}),
    ("symmetry, ensemble of 100, batch", "symmetry_ensemble.toml", {"training.stop.within": 1e-9}),
]


def _variants():
    from neurosim.progress import ProgressReporter

    return {
        "none": lambda: [],
        "empty callback": lambda: [lambda progress: None],
        "lines": lambda: [ProgressReporter("bench", "lines", io.StringIO())],
        "bar": lambda: [ProgressReporter("bench", "bar", io.StringIO(), delay=0.0)],
    }


def _time(path: Path, overrides: dict, callbacks: list) -> tuple[float, np.ndarray]:
    from neurosim import run_scenario

    started = time.perf_counter()
    result = run_scenario(path, overrides, callbacks=callbacks)
    seconds = time.perf_counter() - started
    for f in callbacks:
        getattr(f, "close", lambda: None)()
    history = result.ensemble.history if result.ensemble is not None else result.history
    return seconds, history


def main(argv: list[str] | None = None) -> int:
    """Time every workload and print the table; the exit status.

    Parameters
    ----------
    argv : list of str, optional
        ``--repeat N`` (default 7) and ``--epochs N`` (default 10000).

    Returns
    -------
    int
        0, or 1 when a variant trained differently from the run without callbacks.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10_000)
    args = parser.parse_args(argv)
    variants = _variants()
    print(f"| workload | epochs | {' | '.join(variants)} | lines adds | bar adds |")
    print("|---|---|" + "---|" * len(variants) + "---|---|")
    for epochs in (None, args.epochs):
        for label, name, overrides in WORKLOADS:
            path = ROOT / "scenarios" / name
            more = {} if epochs is None else {**overrides, "training.epochs": epochs}
            times: dict[str, list[float]] = {v: [] for v in variants}
            reference = None
            for round_ in range(args.repeat + 1):
                for variant, make in variants.items():
                    seconds, history = _time(path, more, make())
                    if reference is None:
                        reference = history
                    elif not np.array_equal(history, reference, equal_nan=True):
                        print(f"{label}: the {variant} run trained differently", file=sys.stderr)
                        return 1
                    if round_:                      # round 0 warms up
                        times[variant].append(seconds)
            median = {v: min(t) for v, t in times.items()}
            ran = len(reference)
            added = {v: median[v] - median["none"] for v in ("lines", "bar")}
            cells = " | ".join(f"{1e3 * median[v]:.1f} ms" for v in variants)
            shown = " | ".join(f"{1e3 * added[v]:+.2f} ms ({100 * added[v] / median['none']:+.1f}%; "
                               f"{1e6 * added[v] / ran:+.2f} µs/epoch)" for v in ("lines", "bar"))
            suffix = " (as shipped)" if epochs is None else ", shuffled" if "training.shuffle" in overrides else ""
            print(f"| {label}{suffix} | {ran} | {cells} | {shown} |")
    code = "import time; t = time.perf_counter(); import tqdm; print((time.perf_counter() - t) * 1e3)"
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(5)]
    print(f"\nimporting tqdm (the bar mode only, once per process): {statistics.median(imports):.1f} ms median of 5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
