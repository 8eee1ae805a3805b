"""How build, compile, memory and a training step grow with the number of edges.

Builds fully connected layer stacks of about 10^4, 10^5 and 10^6 edges through the layer
API, and prints for each: edges, build and compile time, peak resident memory of a fresh
process, and the median time of one batch step (forward + backward + update, batch 128).
Each size runs in its own subprocess so the memory figure is that size's alone.

Then, for the same number of edges, ``Network.from_networkx`` of a random DAG (nodes in a
random order, weighted edges only from earlier to later ones, an average of 50 edges a
node: 20,000 nodes at 10^6 edges): its time, its ratio to the layer API's build time, and
for scale the time networkx itself takes to copy that graph (``G.copy()``).

Then ``--levels`` instead: a training step of two random DAGs of about 10^5 edges (25
random earlier units into each neuron), one of 4 wide generations of 1,000 neurons and
one of 160 generations of 25, to show that the width of the levels does not change the
cost per edge (their gather levels' backward pass, docs/engine.md).

Run: ``python benchmarks/scale.py`` (``--smoke`` for the smallest size only;
``--levels`` for the wide-against-deep DAGs).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

SIZES = {"1e4": (100, [80, 20, 10]), "1e5": (784, [120, 40, 10]), "1e6": (784, [1000, 200, 10])}
#: Edges per node of the random DAGs given to from_networkx.
DAG_DEGREE = 50


def random_dag(n_edges: int, seed: int = 0):
    """A random weighted DAG of ``n_edges`` edges on ``n_edges / DAG_DEGREE`` nodes (at least 200).

    The nodes are added in a random order and every edge goes from an earlier node to a
    later one in that order, so the graph is acyclic without being sorted.

    Parameters
    ----------
    n_edges : int
    seed : int

    Returns
    -------
    networkx.DiGraph
    """
    import networkx as nx
    import numpy as np

    n = max(200, n_edges // DAG_DEGREE)
    rng = np.random.default_rng(seed)
    keys = np.empty(0, np.int64)
    while len(keys) < n_edges:                      # distinct pairs (earlier, later)
        a, b = rng.integers(0, n, (2, 2 * n_edges))
        keys = np.unique(np.concatenate([keys, (np.minimum(a, b) * n + np.maximum(a, b))[a != b]]))
    keys = rng.permutation(keys)[:n_edges]
    position = rng.permutation(n)                   # node k is the position[k]-th in the order
    label = np.argsort(position)                    # the node at each position
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    weights = rng.uniform(-1.0, 1.0, n_edges).tolist()
    G.add_edges_from((u, v, {"weight": w}) for u, v, w in zip(label[keys // n].tolist(), label[keys % n].tolist(),
                                                                 weights))
    return G


def measure_from_networkx(n_edges: int) -> dict:
    """Time ``Network.from_networkx`` (and networkx's ``G.copy()``) on a random DAG.

    Parameters
    ----------
    n_edges : int
        Edges of the DAG.

    Returns
    -------
    dict
        ``dag_nodes``, ``dag_edges``, ``from_networkx_s``, ``nx_copy_s``.
    """
    import neurosim

    G = random_dag(n_edges)
    t0 = time.perf_counter()
    net = neurosim.Network.from_networkx(G, seed=0)
    t1 = time.perf_counter()
    del net
    t2 = time.perf_counter()
    G.copy()
    t3 = time.perf_counter()
    return {"dag_nodes": G.number_of_nodes(), "dag_edges": G.number_of_edges(), "from_networkx_s": t1 - t0,
            "nx_copy_s": t3 - t2}


def measure(n_in: int, layers: list[int], steps: int = 5) -> dict:
    """Build, compile and step one network; return the figures.

    Parameters
    ----------
    n_in : int
        Input units.
    layers : list of int
        Sizes of the fully connected layers after the inputs (the last is softmax output).
    steps : int
        Timed batch steps (the median is reported).

    Returns
    -------
    dict
        ``edges``, ``build_s``, ``compile_s``, ``step_s``, ``peak_mb``.
    """
    import numpy as np

    import neurosim

    t0 = time.perf_counter()
    net = neurosim.Network(seed=0)
    prev = net.add_layer("i", n_in, kind="input")
    bias = net.add_bias()
    for k, size in enumerate(layers):
        last = k == len(layers) - 1
        prev = net.add_layer(f"l{k}_", size, "softmax" if last else "sigmoid", output=last,
                             connect_from=[prev], bias=bias)
    t1 = time.perf_counter()
    net.compile()
    t2 = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.random((128, n_in))
    T = np.eye(layers[-1])[rng.integers(0, layers[-1], 128)]
    times = []
    for _ in range(steps):
        s = time.perf_counter()
        net.train(X, T, "cce", learning_rate=1e-3, epochs=1, mode="batch")
        times.append(time.perf_counter() - s)
    figures = {"edges": net.n_weights, "build_s": t1 - t0, "compile_s": t2 - t1, "step_s": statistics.median(times),
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    del net
    return {**figures, **measure_from_networkx(figures["edges"])}


def level_dag(generations: int, size: int, fan: int = 25, n_in: int = 64, seed: int = 0):
    """A random DAG of ``generations`` generations of ``size`` tanh neurons each.

    Every neuron reads ``fan`` distinct earlier units (inputs or neurons of any earlier
    generation), one of them in the generation just before, so the generations are the
    plan's levels; the first 10 neurons of the last generation are sigmoid outputs.

    Parameters
    ----------
    generations, size, fan, n_in, seed : int

    Returns
    -------
    networkx.DiGraph
        With the node attributes :meth:`neurosim.Network.from_networkx` reads.
    """
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    names = [f"x{i}" for i in range(n_in)]
    G.add_nodes_from(names, kind="input")
    previous = 0
    for g in range(generations):
        start = len(names)
        for j in range(size):
            name = f"g{g}_{j}"
            out = g == generations - 1 and j < 10
            G.add_node(name, kind="neuron", activation="sigmoid" if out else "tanh", output=out)
            first = int(rng.integers(previous, start))
            rest = [int(s) for s in rng.choice(start, size=fan, replace=False) if s != first][:fan - 1]
            G.add_edges_from((names[s], name, {"weight": float(rng.uniform(-0.2, 0.2))}) for s in [first] + rest)
        previous = start
        names.extend(f"g{g}_{j}" for j in range(size))
    return G


def measure_levels(generations: int, size: int, steps: int = 10, repeats: int = 5) -> dict:
    """Median time of one batch step (mse, batch 256, gradient descent) of a :func:`level_dag`.

    Parameters
    ----------
    generations, size : int
    steps : int
        Steps per timed run.
    repeats : int
        Timed runs (after one warm-up of 2 steps); the median is reported.

    Returns
    -------
    dict
        ``edges``, ``levels`` (kernel name: count), ``step_s``.
    """
    import numpy as np

    import neurosim

    net = neurosim.Network.from_networkx(level_dag(generations, size), bias=True, seed=0)
    rng = np.random.default_rng(1)
    X = rng.uniform(-1.0, 1.0, (256, len(net.inputs)))
    T = rng.uniform(0.0, 1.0, (256, len(net.outputs)))
    train = dict(loss="mse", learning_rate=1e-3, mode="batch", momentum=0.0)
    net.train(X, T, epochs=2, **train)
    times = []
    for _ in range(repeats):
        s = time.perf_counter()
        net.train(X, T, epochs=steps, **train)
        times.append((time.perf_counter() - s) / steps)
    kinds: dict[str, int] = {}
    for lv in net.compile().levels:
        kinds[lv.kind] = kinds.get(lv.kind, 0) + 1
    return {"edges": net.n_weights, "levels": kinds, "step_s": statistics.median(times)}


def main(argv=None) -> int:
    """Run every size in a subprocess and print the table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="only the smallest size")
    parser.add_argument("--levels", action="store_true", help="a step of a wide and of a deep 10^5-edge DAG")
    parser.add_argument("--one", choices=list(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.levels:
        print(f"{'DAG':>22} {'edges':>7} {'levels':>22} {'step ms':>8}")
        for generations, size in ((4, 1000), (160, 25)):
            r = measure_levels(generations, size)
            kinds = ", ".join(f"{n} {k}" for k, n in r["levels"].items())
            print(f"{f'{generations} generations of {size}':>22} {r['edges']:>7} {kinds:>22} {r['step_s'] * 1e3:>8.1f}")
        return 0
    if args.one:
        n_in, layers = SIZES[args.one]
        print(json.dumps(measure(n_in, layers)))
        return 0
    print(f"{'size':>5} {'edges':>9} {'build s':>8} {'compile s':>9} {'step s':>8} {'peak MB':>8} | "
          f"{'DAG nodes':>9} {'from_networkx s':>15} {'/ build':>7} {'nx copy s':>9}")
    for name in (["1e4"] if args.smoke else list(SIZES)):
        out = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:>5} {r['edges']:>9} {r['build_s']:>8.2f} {r['compile_s']:>9.2f} {r['step_s']:>8.4f} "
              f"{r['peak_mb']:>8.0f} | {r['dag_nodes']:>9} {r['from_networkx_s']:>15.2f} "
              f"{r['from_networkx_s'] / r['build_s']:>7.2f} {r['nx_copy_s']:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
