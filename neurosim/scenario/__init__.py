"""Scenario files: a whole experiment (network, data, training, expectations) in TOML.

:func:`load_scenario` reads a file or mapping and validates every key, reporting mistakes
as ``FILE: key.path: what is wrong; what would be right`` (:class:`~neurosim.ScenarioError`);
:func:`run_scenario` builds the network, trains it, checks the ``[[expect]]`` tables and
returns a :class:`ScenarioResult`, whose :meth:`~ScenarioResult.report` is what the
``neurosim run`` command prints. The language is documented in ``docs/scenarios.md``. The
package keeps one concern a module, each importing only those before it: the vocabulary
(:mod:`.schema`), data sources (:mod:`.data`), building the network (:mod:`.build`),
expectations and measuring (:mod:`.measuring`), what a run does before training
(:mod:`.prepare`), the scenario object (:mod:`.model`), reading a file (:mod:`.load`), the
result (:mod:`.result`) and running (:mod:`.run`).
"""

from .load import load_scenario
from .measuring import Expectation, RunState
from .model import Scenario
from .result import ScenarioResult
from .run import run_scenario
from .schema import SCHEMA

__all__ = ["Scenario", "ScenarioResult", "Expectation", "RunState", "load_scenario", "run_scenario", "SCHEMA"]
