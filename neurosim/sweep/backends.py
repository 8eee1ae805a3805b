"""Where a sweep's points run: a local process pool, or a Dask cluster.

Both are :class:`concurrent.futures.Executor` objects, so :func:`~neurosim.sweep.run_sweep`
has one code path. :func:`local_pool` is a :class:`~concurrent.futures.ProcessPoolExecutor`
of freshly started ('spawn') processes, each with its BLAS limited to one thread
(:data:`ONE_THREAD`, in the environment the workers start with, before they import numpy)
so that N workers on N cores do not fight over them. :func:`dask_executor` connects to a
Dask scheduler (``"local"``: a :class:`distributed.LocalCluster` on this machine, one thread
per worker) and yields its client's executor; Dask's nannies start their workers with the
same one-thread settings (its ``distributed.nanny.pre-spawn-environ`` configuration).
Dask is the optional extra ``dist``; no scheduler, queue or RPC of neurosim's own.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Iterator

from ..errors import MissingExtraError, ScenarioError

__all__ = ["local_pool", "dask_executor", "require_distributed", "ONE_THREAD", "DASK_TIMEOUT"]

#: The environment that keeps each worker's BLAS (OpenBLAS, MKL, OpenMP) to one thread.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Seconds to wait for a Dask scheduler to answer before giving up.
DASK_TIMEOUT = 10.0
_environ_guard = threading.Lock()


def _pin_threads() -> None:
    """The pool's initializer: the one-thread settings for anything the worker starts in turn."""
    os.environ.update(ONE_THREAD)


@contextlib.contextmanager
def _one_thread_environment() -> Iterator[None]:
    """Set :data:`ONE_THREAD` in this process's environment while workers are started (a
    spawned worker inherits it before its first import), then put it back."""
    with _environ_guard:
        saved = {k: os.environ.get(k) for k in ONE_THREAD}
        os.environ.update(ONE_THREAD)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@contextlib.contextmanager
def local_pool(workers: int | None = None) -> Iterator[cf.Executor]:
    """A process pool of ``workers`` processes (default: the machine's cores), one BLAS thread each.

    The pool lives inside :func:`_one_thread_environment` (workers are spawned as work
    is submitted, and inherit it); on an exception (Ctrl-C) the points not yet started
    are cancelled rather than waited for.

    Parameters
    ----------
    workers : int, optional
        How many processes (>= 1).

    Yields
    ------
    concurrent.futures.ProcessPoolExecutor

    Raises
    ------
    ScenarioError
        For a number of workers that is not a whole number >= 1.
    """
    n = workers if workers is not None else (os.cpu_count() or 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ScenarioError("--workers", repr(workers), "must be a whole number of processes >= 1")
    with _one_thread_environment():            # workers are spawned as points are submitted
        pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_pin_threads)
        try:
            yield pool
        except BaseException:
            # points not started are dropped; those running finish (and write their folders)
            # before the sweep lets go of its folder, so no orphaned worker writes into it later
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def require_distributed():
    """Import ``distributed``, or say which extra installs it.

    Returns
    -------
    module
        ``distributed``.

    Raises
    ------
    MissingExtraError
        When Dask's distributed scheduler is not installed.
    """
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("running a sweep on Dask needs dask's distributed scheduler: "
                                "pip install 'neurosim[dist]'") from None
    return distributed


@contextlib.contextmanager
def dask_executor(address: str, workers: int | None = None, timeout: float = DASK_TIMEOUT) -> Iterator[cf.Executor]:
    """A Dask client's executor: on a new local cluster, or on the scheduler at ``address``.

    Parameters
    ----------
    address : str
        ``"local"``: start a :class:`distributed.LocalCluster` of ``workers`` processes
        with one thread each (closed at the end); else a scheduler's address
        (``tcp://host:8786``) or a scheduler file (a path ending in ``.json``, as
        ``dask scheduler --scheduler-file`` and dask-jobqueue write).
    workers : int, optional
        The local cluster's workers (default: the machine's cores); a remote cluster's
        workers are its own.
    timeout : float, default :data:`DASK_TIMEOUT`
        Seconds to wait for the scheduler.

    Yields
    ------
    concurrent.futures.Executor
        ``client.get_executor(pure=False)``.

    Raises
    ------
    MissingExtraError
        Without the ``dist`` extra.
    ScenarioError
        When no scheduler answers at ``address`` within ``timeout`` seconds.
    """
    distributed = require_distributed()
    import logging

    with contextlib.ExitStack() as stack:
        if address == "local":
            n = workers if workers is not None else (os.cpu_count() or 1)
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR))
            client = stack.enter_context(distributed.Client(cluster, timeout=timeout))
        else:
            kwargs = {"scheduler_file": address} if address.endswith(".json") else {"address": address}
            try:
                client = distributed.Client(**kwargs, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ScenarioError("--dask", address, f"no Dask scheduler answered within {timeout:g} s ({exc}); "
                                    "start one (dask scheduler, then dask worker tcp://HOST:8786) or check the "
                                    "address") from None
            stack.enter_context(client)
        executor = client.get_executor(pure=False)
        try:
            yield executor
        except BaseException:
            executor.shutdown(wait=False)
            raise
        executor.shutdown(wait=True)
