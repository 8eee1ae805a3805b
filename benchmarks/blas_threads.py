"""Time ``W @ X`` on one thread and on the BLAS library's default count, for the table and the
threshold in docs/engine.md ("BLAS threads"). Needs threadpoolctl.

``python benchmarks/blas_threads.py [--rounds 5] [--budget 0.25]``: for each shape, each
round times the product for ``budget`` seconds at each count (rounds interleave the shapes,
so a change of load hits both counts alike) and the table gives the medians of the rounds,
their ranges, whether the two counts computed the same bits, and the cost of setting and
reading the count through threadpoolctl.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import ThreadpoolController

#: (m, k, n): W (m, k) @ X (k, n); a W5 level, W4's three levels, and larger.
SHAPES = ((10, 250, 256), (20, 300, 256), (10, 129, 128), (128, 257, 128), (256, 785, 128), (512, 1000, 256),
          (1024, 1024, 256), (1024, 1024, 1024))


def main() -> None:
    """Print the table (markdown) and the cost of a switch."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--budget", type=float, default=0.25, help="seconds per shape, count and round")
    args = p.parse_args()
    lib = ThreadpoolController().select(user_api="blas").lib_controllers[0]
    top = lib.get_num_threads()
    n = 20000
    t0 = time.perf_counter()
    for i in range(n):
        lib.set_num_threads(1 + i % 2)
    set_us = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for _ in range(n):
        lib.get_num_threads()
    get_us = (time.perf_counter() - t0) / n * 1e6
    rng = np.random.default_rng(0)
    arrays = {s: (rng.standard_normal(s[:2]), rng.standard_normal(s[1:]), np.empty((s[0], s[2]))) for s in SHAPES}
    times = {(s, t): [] for s in SHAPES for t in (1, top)}
    bits = {}
    load = os.getloadavg()
    for _ in range(args.rounds):
        for s in SHAPES:
            W, X, out = arrays[s]
            for t in (1, top):
                lib.set_num_threads(t)
                np.matmul(W, X, out=out)
                bits[s, t] = out.copy()
                ts, start = [], time.perf_counter()
                while time.perf_counter() - start < args.budget or len(ts) < 3:
                    a = time.perf_counter()
                    np.matmul(W, X, out=out)
                    ts.append(time.perf_counter() - a)
                times[s, t].append(float(np.median(ts)))
    lib.set_num_threads(top)
    print(f"set_num_threads {set_us:.2f} us, get_num_threads {get_us:.2f} us; load average "
          f"{load[0]:.1f} before, {os.getloadavg()[0]:.1f} after; {top} threads by default\n")
    print(f"| W @ X | multiply-adds | 1 thread | {top} threads | ratio | {top} threads, rounds | same bits |")
    print("|---|---:|---:|---:|---:|---|:-:|")
    for s in SHAPES:
        m, k, n_ = s
        a, b = np.median(times[s, 1]), np.median(times[s, top])
        lo, hi = min(times[s, top]), max(times[s, top])
        same = "yes" if np.array_equal(bits[s, 1], bits[s, top]) else "no"
        print(f"| {m}×{k} @ {k}×{n_} | {m * k * n_:,} | {a * 1e3:.3f} ms | {b * 1e3:.3f} ms | {b / a:.2f} "
              f"| {lo * 1e3:.3f}–{hi * 1e3:.3f} ms | {same} |")


if __name__ == "__main__":
    main()
