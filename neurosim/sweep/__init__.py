"""Sweeps: many variants of one scenario, run on local cores or on a Dask cluster.

A ``[sweep]`` table (in a scenario file, or in a sweep file naming its ``base`` scenario)
lists axes over any key ``neurosim run --set`` reaches; :func:`load_sweep` expands them
into points (:mod:`.model`), :func:`run_sweep` runs every point as its own scenario file
and keeps ``results.csv`` and ``results.json`` up to date (:mod:`.run`), on an executor of
:mod:`.backends`: a local process pool (:func:`local_pool`) or a Dask client
(:func:`dask_executor`). The language, the results' columns and the backends are
documented in ``docs/sweeps.md``.
"""

from .backends import DASK_TIMEOUT, dask_executor, local_pool, require_distributed
from .model import FIXED_COLUMNS, STATUSES, Point, Sweep, SweepExpectation, is_sweep, load_sweep
from .run import POINT_FILE, RESULTS_FORMAT, SweepProgress, SweepResult, read_results, run_point, run_sweep

__all__ = ["Sweep", "Point", "SweepExpectation", "SweepResult", "SweepProgress", "load_sweep", "is_sweep",
           "run_sweep", "run_point", "read_results", "local_pool", "dask_executor", "require_distributed",
           "DASK_TIMEOUT", "RESULTS_FORMAT", "POINT_FILE", "STATUSES", "FIXED_COLUMNS"]
