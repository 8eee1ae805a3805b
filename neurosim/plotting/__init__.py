"""Pictures of networks and runs, drawn with matplotlib (the optional extra ``plot``).

Learning curves (:func:`learning_curve`, with a :class:`CurveRecorder` for the test error
and the accuracy), Hinton diagrams of the weights (:func:`hinton` by layer block,
:func:`hinton_neurons` by neuron), the network as its DAG (:func:`network_graph`), and a
two-input network over its input plane (:func:`decision_regions`,
:func:`hidden_responses`). Each function returns a :class:`matplotlib.figure.Figure`;
:func:`save_figures` writes the kinds that apply as PNG files, and :func:`read_results`
reads a finished ``neurosim run --out`` folder to draw. A sweep's results folder
(``neurosim sweep --out``) gets a picture of one measure against one or two of its axes,
with the spread over seeds (:func:`sweep_figure`, :func:`save_sweep_figure`). Importing this package does not
import matplotlib: the first picture does, and without it raises
:class:`~neurosim.errors.MissingExtraError` naming ``pip install 'neurosim[plot]'``.
"""

from __future__ import annotations

from .base import INSTALL, Subject, require_matplotlib, subject_of
from .curves import BAND, CurveRecorder, Curves, curves_of, learning_curve
from .files import FILES, KINDS, Results, choose_kinds, figures, png_bytes, read_results, save_figures
from .graph import edge_styles, network_graph, network_layout
from .hinton import FILL, WeightBlock, hinton, hinton_neurons, weight_blocks
from .plane import decision_regions, hidden_responses, plane_bounds
from .sweeps import SweepView, is_sweep_folder, save_sweep_figure, sweep_figure, sweep_file_name, sweep_view

__all__ = [
    "BAND", "CurveRecorder", "Curves", "FILES", "FILL", "INSTALL", "KINDS", "Results", "Subject", "WeightBlock",
    "choose_kinds", "curves_of", "decision_regions", "edge_styles", "figures", "hidden_responses", "hinton",
    "hinton_neurons", "learning_curve", "network_graph", "network_layout", "plane_bounds", "png_bytes",
    "read_results", "require_matplotlib", "save_figures", "subject_of", "weight_blocks",
    "SweepView", "is_sweep_folder", "save_sweep_figure", "sweep_figure", "sweep_file_name", "sweep_view",
]
