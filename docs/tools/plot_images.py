"""Make the pictures of docs/plots.md: one of every kind, from the shipped scenarios.

Each picture is drawn from a run of a shipped scenario, with its own seed, by
``neurosim.plotting`` — the same functions ``neurosim plot`` calls — and written to
``docs/images/SCENARIO-KIND.png`` at 80 dots per inch:

- ``symmetry``: the Hinton diagrams (layer blocks and neurons) of Rumelhart, Hinton &
  Williams's mirror-symmetry net, whose 1:2:4 weight pattern they show, and its graph;
- ``symmetry_ensemble``: the learning curve of 100 starts (median, 10–90% band, members);
- ``iris_softmax``: a learning curve with a test set (training and test error and accuracy);
- ``xor_sigmoid`` and ``two_spirals``: decision regions and the hidden neurons'
  responses, and the two-spirals net's graph with its skip connections;
- ``symmetry_sweep`` (a sweep, run with :func:`neurosim.sweep.run_sweep` on 2 workers):
  the heatmap of its success rate over learning rate and momentum
  (``symmetry_sweep-sweep_success_rate.png``).

Run from anywhere: ``python docs/tools/plot_images.py`` (needs ``pip install
'neurosim[plot]'``); it prints each file it writes. The runs are deterministic, so the
pictures change only when the code that draws them (or trains the runs) does.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import neurosim
from neurosim import plotting
from neurosim.io import atomic_write_all
from neurosim.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images"
DPI = 80

#: scenario -> the kinds drawn of its run
PICTURES = {
    "symmetry": ["hinton", "hinton_neurons", "network"],
    "symmetry_ensemble": ["learning_curve"],
    "iris_softmax": ["learning_curve"],
    "xor_sigmoid": ["decision_regions", "hidden_responses"],
    "two_spirals": ["network", "decision_regions", "hidden_responses"],
}
#: sweep -> the measures drawn of its results (against its first two axes)
SWEEPS = {"symmetry_sweep": ["success_rate"]}


def main() -> int:
    """Run each scenario, draw its pictures and write them all at once."""
    plotting.require_matplotlib(headless=True)
    files = {}
    for name, kinds in PICTURES.items():
        recorder = plotting.CurveRecorder()
        result = neurosim.run_scenario(ROOT / "scenarios" / f"{name}.toml", callbacks=[recorder])
        for kind, figure in plotting.figures(result, kinds, recorder=recorder).items():
            files[OUT / f"{name}-{kind}.png"] = plotting.png_bytes(figure, DPI)
    for name, measures in SWEEPS.items():
        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(ROOT / "scenarios" / f"{name}.toml", Path(tmp) / "out", workers=2)
            for measure in measures:
                figure = plotting.sweep_figure(Path(tmp) / "out", measure)
                files[OUT / f"{name}-{plotting.sweep_file_name(measure)}"] = plotting.png_bytes(figure, DPI)
    OUT.mkdir(parents=True, exist_ok=True)
    for path in atomic_write_all(files):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
