"""Time training on the numpy engine against generated code (the python and numba backends).

For W1 (Mazur 2-2-2 online, 10,000 steps), W2 (XOR online with momentum), W3 (symmetry,
batch), two spirals online and 4-bit parity online with thousands of epochs, every backend
trains from the same initial weights; the weights must agree with numpy's to 1e-12 before
anything is timed. Medians of ``--repeat`` interleaved runs of the whole ``train`` call;
numba is timed after a warm-up run that compiles its kernel (the compile time is printed
apart); what the warm-up leaves alive is then frozen out of the garbage collector's reach
(``gc.freeze``: with numba's heap a full collection takes about 0.1 s, and would fall
inside some timed run at random). Ratios ``numpy/B`` are numpy's time over the backend's: above 1 the backend is
faster.

W1 and W2 also run the hand-written scalar loops of :mod:`ref_python` ("plain", plain
CPython, no library), gated the same way (weights and learning curve within 1e-12 of
numpy's); ``B/plain`` is the backend's time over theirs, and issue 12's target, the python
backend at most 2x plain Python, is checked at the end.

    python benchmarks/backends.py                 # every workload, 3 repeats
    python benchmarks/backends.py --only W1,W2 --repeat 5
    python benchmarks/backends.py --smoke         # a few epochs each, gate included: seconds
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib.util
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import neurosim  # noqa: E402
import ref_python  # noqa: E402
from workloads import SCENARIOS, BUILDERS, Case  # noqa: E402


def _scenario_case(key: str, name: str, epochs: int, **train) -> Case:
    """A shipped scenario's network and data, trained online by SGD for ``epochs`` (no stop criterion)."""
    sc = neurosim.load_scenario(SCENARIOS / f"{name}.toml", {"training.epochs": epochs})
    net = sc.check()
    train = dict(dict(loss=sc.loss, learning_rate=sc.learning_rate, momentum=sc.momentum or 0.0), epochs=epochs,
                 mode="online", **train)
    return Case(key, net, sc.train.inputs, sc.train.targets, train)


#: ``CASES[key](smoke)``: the workload, or with ``smoke`` a few epochs of it.
CASES = {
    "W1": lambda smoke: BUILDERS["W1"](smoke=smoke),
    "W2": lambda smoke: BUILDERS["W2"](smoke=smoke),
    "W3": lambda smoke: BUILDERS["W3"](smoke=smoke),
    "spirals": lambda smoke: _scenario_case("spirals", "two_spirals", 5 if smoke else 200, learning_rate=0.005,
                                            momentum=0.5),
    "parity4": lambda smoke: _scenario_case("parity4", "parity4", 20 if smoke else 2000),
}

#: The plain-Python references: ``run(case, weights) -> (final weights, history)``.
PLAIN = {
    "W1": lambda case, w: ref_python.train_w1(w, case.X[0].tolist(), case.T[0].tolist(),
                                              learning_rate=case.train["learning_rate"], epochs=case.train["epochs"]),
    "W2": lambda case, w: ref_python.train_w2(w, case.X.tolist(), case.T.tolist(),
                                              learning_rate=case.train["learning_rate"],
                                              momentum=case.train["momentum"], epochs=case.train["epochs"]),
}

#: Issue 12: the python backend at most this many times plain Python's time.
PLAIN_TARGET = 2.0


def available_backends() -> list[str]:
    """numpy, python and, when installed, numba."""
    return ["numpy", "python"] + (["numba"] if importlib.util.find_spec("numba") else [])


def _train(case: Case, backend: str) -> tuple[float, np.ndarray, dict, np.ndarray]:
    net = copy.deepcopy(case.net)
    net.backend = backend
    started = time.perf_counter()
    history = net.train(case.X, case.T, **case.train)
    return time.perf_counter() - started, net.compile().theta.copy(), net.weights(), np.asarray(history)


def _plain(case: Case) -> tuple[float, dict, np.ndarray]:
    weights = case.net.weights()
    started = time.perf_counter()
    final, history = PLAIN[case.key](case, weights)
    return time.perf_counter() - started, final, np.asarray(history)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:>8.1f}ms"


def _worst(a, b) -> float:
    """Largest difference relative to max(1, |b|)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.shape == b.shape else math.inf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workloads (default: all of " + ", ".join(CASES) + ")")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a few epochs of each workload (checks the gate)")
    args = parser.parse_args(argv)
    keys = args.only.split(",") if args.only else list(CASES)
    unknown = [k for k in keys if k not in CASES]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(CASES)}")
    backends = available_backends()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"numpy {np.__version__}, neurosim {neurosim.__version__}, backends {', '.join(backends)}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, load average {load}")
    if "numba" not in backends:
        print("note: numba columns skipped (numba not installed: pip install 'neurosim[fast]')")
    if args.smoke:
        print("SMOKE: a few epochs each, the gate only; the times and ratios mean nothing")
    print(f"{'workload':10} {'epochs':>7} " + " ".join(f"{b:>10}" for b in backends) + f" {'plain':>10} "
          + " ".join(f"{'numpy/' + b:>12}" for b in backends[1:])
          + " " + " ".join(f"{b + '/plain':>12}" for b in backends[1:]))
    verdicts = []
    for key in keys:
        case = CASES[key](args.smoke)
        compile_note = ""
        thetas, weights = {}, {}
        for b in backends:                       # warm-up (numba compiles here) and the correctness gate
            t, thetas[b], weights[b], history = _train(case, b)
            if b == "numpy":
                ref_history = history
            if b == "numba":
                compile_note = f"  (numba's first run, compiling: {t:.2f} s)"
        ref = thetas["numpy"]
        for b in backends[1:]:
            worst = _worst(thetas[b], ref)
            if worst > 1e-12:
                print(f"GATE FAILED: {key} {b} differs from numpy by {worst:.3g}")
                return 1
        plain = key in PLAIN
        if plain:
            _, final, history = _plain(case)
            names = list(weights["numpy"])
            worst = max(_worst([final[k] for k in names], [weights["numpy"][k] for k in names]),
                        _worst(history, ref_history))
            if worst > 1e-12:
                print(f"GATE FAILED: {key} plain Python differs from numpy by {worst:.3g}")
                return 1
        gc.collect()
        gc.freeze()
        times = {b: [] for b in backends + ["plain"]}
        for _ in range(args.repeat):             # interleaved: a change of load hits every column alike
            for b in backends:
                times[b].append(_train(case, b)[0])
            if plain:
                times["plain"].append(_plain(case)[0])
        gc.unfreeze()
        med = {b: statistics.median(v) if v else math.nan for b, v in times.items()}
        print(f"{key:10} {case.train['epochs']:>7} " + " ".join(_ms(med[b]) for b in backends)
              + (f" {_ms(med['plain'])} " if plain else f" {'-':>10} ")
              + " ".join(f"{med['numpy'] / med[b]:>11.1f}x" for b in backends[1:])
              + " " + " ".join(f"{med[b] / med['plain']:>11.2f}x" if plain else f"{'-':>12}" for b in backends[1:])
              + compile_note)
        if plain:
            verdicts.append((key, med["python"] / med["plain"]))
    for key, ratio in verdicts:
        verdict = "not judged (smoke)" if args.smoke else "met" if ratio <= PLAIN_TARGET else "NOT met"
        print(f"target (issue 12): {key} python backend <= {PLAIN_TARGET:g}x plain Python: {ratio:.2f}x, {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
