"""Time training on the numpy engine against generated code (the python and numba backends).

For W1 (Mazur 2-2-2 online, 10,000 steps), W2 (XOR online with momentum), W3 (symmetry,
batch), two spirals online and 4-bit parity online with thousands of epochs, every backend
trains from the same initial weights; the weights must agree with numpy's to 1e-12 before
anything is timed. Medians of ``--repeat`` interleaved runs of the whole ``train`` call;
numba is timed after a warm-up run that compiles its kernel (the compile time is printed
apart). Ratios are numpy's time over the backend's: above 1 the backend is faster.

    python benchmarks/backends.py                 # every workload, 3 repeats
    python benchmarks/backends.py --only W1,W2 --repeat 5
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import neurosim  # noqa: E402
from workloads import SCENARIOS, BUILDERS, Case  # noqa: E402


def _scenario_case(key: str, name: str, epochs: int, **train) -> Case:
    """A shipped scenario's network and data, trained online by SGD for ``epochs`` (no stop criterion)."""
    sc = neurosim.load_scenario(SCENARIOS / f"{name}.toml", {"training.epochs": epochs})
    net = sc.check()
    train = dict(dict(loss=sc.loss, learning_rate=sc.learning_rate, momentum=sc.momentum or 0.0), epochs=epochs,
                 mode="online", **train)
    return Case(key, net, sc.train.inputs, sc.train.targets, train)


CASES = {
    "W1": lambda: BUILDERS["W1"](),
    "W2": lambda: BUILDERS["W2"](),
    "W3": lambda: BUILDERS["W3"](),
    "spirals": lambda: _scenario_case("spirals", "two_spirals", 200, learning_rate=0.005, momentum=0.5),
    "parity4": lambda: _scenario_case("parity4", "parity4", 2000),
}


def _train(case: Case, backend: str) -> tuple[float, np.ndarray]:
    net = copy.deepcopy(case.net)
    net.backend = backend
    started = time.perf_counter()
    net.train(case.X, case.T, **case.train)
    return time.perf_counter() - started, net.compile().theta.copy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workloads (default: all of " + ", ".join(CASES) + ")")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    keys = args.only.split(",") if args.only else list(CASES)
    backends = ["numpy", "python"] + (["numba"] if importlib.util.find_spec("numba") else [])
    print(f"numpy {np.__version__}, neurosim {neurosim.__version__}, backends {', '.join(backends)}")
    print(f"{'workload':10} {'epochs':>7} " + " ".join(f"{b:>10}" for b in backends)
          + " " + " ".join(f"{'numpy/' + b:>13}" for b in backends[1:]))
    for key in keys:
        case = CASES[key]()
        compile_note = ""
        thetas = {}
        for b in backends:                       # warm-up (numba compiles here) and the correctness gate
            t, thetas[b] = _train(case, b)
            if b == "numba":
                compile_note = f"  (numba's first run, compiling: {t:.2f} s)"
        ref = thetas["numpy"]
        for b in backends[1:]:
            worst = float(np.max(np.abs(thetas[b] - ref) / np.maximum(1.0, np.abs(ref))))
            if worst > 1e-12:
                print(f"GATE FAILED: {key} {b} differs from numpy by {worst:.3g}")
                return 1
        times = {b: [] for b in backends}
        for _ in range(args.repeat):
            for b in backends:
                times[b].append(_train(case, b)[0])
        med = {b: statistics.median(v) for b, v in times.items()}
        print(f"{key:10} {case.train['epochs']:>7} " + " ".join(f"{med[b] * 1e3:>8.1f}ms" for b in backends)
              + " " + " ".join(f"{med['numpy'] / med[b]:>12.1f}x" for b in backends[1:]) + compile_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
