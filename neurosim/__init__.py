"""neurosim: an object-oriented backpropagation simulator with a plugin architecture.

Networks are NetworkX DAGs of neuron objects (:class:`Network`); the forward and backward
phases run as vectorised message passing over topological generations
(:mod:`neurosim.engine`); activations, losses and initialisers are pluggy plugins
(:mod:`neurosim.hookspecs`, :func:`make_registry`); scenario files describe whole
experiments (:func:`run_scenario`); :mod:`neurosim.exchange` writes and reads ONNX and FANN
files. This module re-exports the public API.
"""

from __future__ import annotations

from . import datafiles, exchange
from .errors import (
    CycleError,
    DataError,
    MissingExtraError,
    NeurosimError,
    NeuronNotFoundError,
    NumericalError,
    PluginError,
    ResourceError,
    ScenarioError,
    TopologyError,
)
from .explanation import Explanation, explain, explain_scenario
from .functions import Activation, Dataset, Initializer, Loss, Measure, Patterns, ScalarActivation, ScalarLoss
from .hookspecs import hookimpl, hookspec
from .network import Network, Tie, load
from .neurons import BiasUnit, InputUnit, Neuron, Unit
from .plugincheck import PluginReport, check_plugin
from .plugins import Registry, default_registry, make_registry
from .recurrent import unroll
from .rules import Optimizer, Progress, StopRule
from .scaling import Scaling
from .scenario import ScenarioResult, load_scenario, run_scenario
from .threads import set_blas_threads
from .training import SGD, StopCriterion, TrainingRun

from .version import __version__

__all__ = [
    "Activation", "BiasUnit", "CycleError", "DataError", "Dataset", "Explanation", "InputUnit", "Initializer", "Loss",
    "Measure", "MissingExtraError", "ScalarActivation", "ScalarLoss", "Network", "Patterns", "Neuron", "NeuronNotFoundError", "NeurosimError",
    "NumericalError", "Optimizer",
    "PluginError", "Progress", "Registry", "ResourceError", "SGD", "Scaling", "ScenarioError", "ScenarioResult",
    "StopCriterion", "StopRule", "Tie", "TopologyError", "TrainingRun", "Unit", "__version__", "datafiles",
    "default_registry", "exchange", "explain", "explain_scenario", "hookimpl", "hookspec", "load", "load_scenario",
    "make_registry", "run_scenario", "unroll", "PluginReport", "check_plugin", "set_blas_threads",
]
