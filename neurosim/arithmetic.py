"""Which floating-point arithmetic this process computes with, and how to select another.

Results are bit for bit the same on one machine with the same library versions, but numpy
picks SIMD loops for the CPU it runs on and OpenBLAS picks kernels for it, so sums and
``exp`` can differ in their last bits from one machine to another. :func:`describe` says
what this process uses (numpy's version, the BLAS library with the kernels it chose, and
the SIMD extensions numpy found and uses); ``summary.json`` records it with every result.
:data:`VARIANTS` lists, per processor family, environment settings that make this
machine compute as other CPUs do (``OPENBLAS_CORETYPE`` selects OpenBLAS kernels,
``NPY_DISABLE_CPU_FEATURES`` turns numpy's SIMD loops off); :func:`probe` starts a
Python with such a setting and reports the arithmetic it really got, because both
libraries ignore names they do not know without a word. docs/reproducibility.md states
the promise these make testable.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["describe", "signature", "fingerprint", "probe", "disabled_features", "variant_environment",
           "variants_for_this_machine", "VARIANTS", "MAX_VARIANTS"]

#: Settings that make this machine compute as other CPUs do, by ``platform.machine()``:
#: ``(OPENBLAS_CORETYPE, numpy level)``. The core selects OpenBLAS's kernels for that
#: processor family (the matrix products); the level turns numpy's SIMD loops off
#: (elementwise functions such as ``exp``, the pairwise sums of reductions): ``""`` keeps
#: them, ``"no-avx512"`` turns off every AVX-512 loop, ``"baseline"`` every loop beyond
#: numpy's baseline (:func:`disabled_features` spells a level out for the installed numpy).
#: The list is longer than a test needs: a setting this CPU cannot run (AVX-512 kernels on
#: an AVX2 machine crash) or that computes as another one does is left out by
#: :func:`variants_for_this_machine`, so at least four remain on any x86-64 machine.
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "x86_64": (
        ("Haswell", ""),
        ("Sandybridge", ""),
        ("SkylakeX", "no-avx512"),
        ("Haswell", "no-avx512"),
        ("Sandybridge", "no-avx512"),
        ("Haswell", "baseline"),
        ("Nehalem", "baseline"),
        ("Sandybridge", "baseline"),
        ("Nehalem", ""),
    ),
    "aarch64": (
        ("ARMV8", ""),
        ("NEOVERSEN1", ""),
        ("CORTEXA57", ""),
        ("ARMV8", "baseline"),
        ("NEOVERSEN1", "baseline"),
        ("CORTEXA57", "baseline"),
    ),
}
VARIANTS["AMD64"] = VARIANTS["x86_64"]
VARIANTS["arm64"] = VARIANTS["aarch64"]
#: How many variants :func:`variants_for_this_machine` keeps at most (each costs a run of
#: the scenario library in the tests).
MAX_VARIANTS = 6

_CORENAME_SYMBOLS = ("openblas_get_corename", "openblas_get_corename64_", "scipy_openblas_get_corename64_",
                     "scipy_openblas_get_corename")


def _cpu_tables() -> tuple[list[str], list[str], dict[str, bool]]:
    """numpy's baseline and dispatched SIMD extensions and which of them are usable."""
    try:
        from numpy._core import _multiarray_umath as umath      # numpy >= 2
    except ImportError:                                          # pragma: no cover - numpy 1.x
        from numpy.core import _multiarray_umath as umath
    return list(umath.__cpu_baseline__), list(umath.__cpu_dispatch__), dict(umath.__cpu_features__)


def _blas_build() -> dict[str, Any]:
    """The BLAS numpy was built against (name and version), from ``np.show_config``."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:                         # numpy < 1.26 has no mode="dicts"
        return {"name": None, "version": None}


def _blas_core() -> str | None:
    """The kernel family OpenBLAS chose at run time (``"Haswell"``), or None if unknown.

    Read from the OpenBLAS library loaded in this process (Linux: found through
    ``/proc/self/maps``), or through threadpoolctl when that is installed.
    """
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    for lib in sorted(set(re.findall(r"(/\S*openblas\S*\.(?:so|dylib)\S*)", maps))):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for symbol in _CORENAME_SYMBOLS:
            function = getattr(handle, symbol, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                name = function()
                return name.decode() if name else None
    try:
        import threadpoolctl                  # optional
    except ImportError:
        return None
    for info in threadpoolctl.threadpool_info():
        if info.get("internal_api") == "openblas":
            return info.get("architecture")
    return None


def disabled_features(level: str) -> str:
    """``NPY_DISABLE_CPU_FEATURES`` for a numpy level of :data:`VARIANTS`, for this numpy.

    numpy does not turn off what depends on a feature it is told to turn off
    (``X86_V4`` alone leaves ``AVX512_ICL`` on), so every dispatched extension of the level
    is named.

    Parameters
    ----------
    level : {"", "no-avx512", "baseline"}

    Returns
    -------
    str
        Space-separated names, empty for ``""``.
    """
    _baseline, dispatch, _features = _cpu_tables()
    if level == "baseline":
        return " ".join(dispatch)
    if level == "no-avx512":
        return " ".join(f for f in dispatch if f.startswith(("AVX512", "X86_V4")))
    if level:
        raise ValueError(f"unknown numpy level {level!r}; use '', 'no-avx512' or 'baseline'")
    return ""


def fingerprint() -> str:
    """A digest of the bits a few representative computations give in this process.

    A matrix product (OpenBLAS's kernels), ``exp`` and ``tanh`` (numpy's SIMD loops) and a
    long pairwise sum, on fixed inputs: two processes with the same fingerprint compute
    these the same way. Computing it also runs the BLAS kernels, so a setting this CPU
    cannot execute fails here, in the probe, rather than in a test.

    Returns
    -------
    str
        A hex digest.
    """
    import hashlib

    def values(*shape):
        return np.sin(np.arange(int(np.prod(shape)), dtype=np.float64) * 0.7371 + 0.1).reshape(shape)

    # OpenBLAS picks kernels by shape too: a large square product can agree where the
    # small, odd and vector-shaped products of a training step do not
    parts = [values(m, k) @ values(k, n) for m, k, n in ((96, 96, 64), (6, 24, 100), (13, 37, 5), (1, 200, 50),
                                                          (50, 200, 1))]
    x = values(4000) * 3.0
    parts += [np.exp(x), np.tanh(x), np.sum(values(100, 24), axis=0), np.array([np.sum(values(100_003))])]
    return hashlib.sha256(b"".join(np.ascontiguousarray(p).tobytes() for p in parts)).hexdigest()[:16]


def signature() -> dict[str, Any]:
    """What decides this process's arithmetic: the BLAS kernels and numpy's SIMD loops in use.

    Returns
    -------
    dict
        ``{"blas_core": "SkylakeX", "simd": ["X86_V3", "X86_V4", "AVX512_ICL"],
        "fingerprint": "..."}``: two processes with equal signatures (and equal library
        versions) compute the same bits.
    """
    _baseline, dispatch, features = _cpu_tables()
    return {"blas_core": _blas_core(), "simd": [f for f in dispatch if features.get(f)],
            "fingerprint": fingerprint()}


def describe() -> dict[str, Any]:
    """Everything ``summary.json`` records about the arithmetic of this process.

    Returns
    -------
    dict
        ``numpy`` (version), ``blas`` (``name``, ``version``, ``core``: the kernels
        chosen at run time), ``simd`` (``baseline``: extensions numpy was compiled for;
        ``found``: further extensions it found on this CPU and uses; ``not_found``: those
        it could dispatch to but did not, because the CPU lacks them or
        ``NPY_DISABLE_CPU_FEATURES`` turned them off), ``fingerprint`` (see
        :func:`fingerprint`: equal fingerprints, equal arithmetic), ``machine``, ``python``
        and the environment settings that change the arithmetic, when set.

    Examples
    --------
    >>> info = describe()
    >>> sorted(info)
    ['blas', 'environment', 'fingerprint', 'machine', 'numpy', 'python', 'simd']
    """
    baseline, dispatch, features = _cpu_tables()
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES")
           if os.environ.get(k)}
    return {
        "numpy": np.__version__,
        "blas": {**_blas_build(), "core": _blas_core()},
        "simd": {"baseline": baseline, "found": [f for f in dispatch if features.get(f)],
                 "not_found": [f for f in dispatch if not features.get(f)]},
        "fingerprint": fingerprint(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "environment": env,
    }


def variant_environment(core: str, level: str) -> dict[str, str]:
    """The environment of a child process that computes with another CPU's arithmetic.

    Parameters
    ----------
    core : str
        ``OPENBLAS_CORETYPE`` (empty: leave OpenBLAS to choose).
    level : str
        A numpy level of :data:`VARIANTS` (``""``: every SIMD loop numpy found).

    Returns
    -------
    dict
        A copy of ``os.environ`` with the two settings made (or removed when empty), and
        one BLAS thread (children run side by side; a product this small runs on one
        thread anyway).
    """
    env = dict(os.environ)
    for key, value in (("OPENBLAS_CORETYPE", core), ("NPY_DISABLE_CPU_FEATURES", disabled_features(level))):
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def probe(env: Mapping[str, str]) -> dict[str, Any]:
    """Start a Python with ``env`` and return its :func:`signature`.

    Parameters
    ----------
    env : mapping
        The child's whole environment (see :func:`variant_environment`).

    Returns
    -------
    dict
        The child's signature, as :func:`signature` returns it.

    Raises
    ------
    RuntimeError
        When the child fails (numpy refuses some settings outright).
    """
    code = "import json, neurosim.arithmetic as a; print(json.dumps(a.signature()))"
    done = subprocess.run([sys.executable, "-c", code], env=dict(env), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        why = f"killed by signal {-done.returncode}" if done.returncode < 0 else done.stderr.strip()[-300:]
        raise RuntimeError(f"a Python with {_settings(env)} failed ({why})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _settings(env: Mapping[str, str]) -> str:
    shown = [f"{k}={env[k]!r}" for k in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES") if env.get(k)]
    return " ".join(shown) or "the native settings"


def variants_for_this_machine() -> tuple[list[tuple[str, str, dict]], dict[tuple[str, str], str]]:
    """The :data:`VARIANTS` that really change the arithmetic here, each probed once.

    A setting counts when its child process runs (AVX-512 kernels on an AVX2 CPU crash
    it), reports the OpenBLAS kernels it asked for, no longer uses the numpy extensions
    it turned off, and computes other bits (:func:`fingerprint`) than this machine's
    native settings and every variant kept before it. At most :data:`MAX_VARIANTS` are
    kept.

    Returns
    -------
    effective : list of (core, level, signature)
        The variants to test under.
    skipped : dict
        ``{(core, level): why}`` for each candidate left out (it crashed, an unknown
        name, an extension this CPU does not have, the same bits as another setting).
    """
    seen = [probe(variant_environment("", ""))["fingerprint"]]
    effective, skipped = [], {}
    for core, level in VARIANTS.get(platform.machine(), ()):
        env = variant_environment(core, level)
        if len(effective) == MAX_VARIANTS:
            skipped[core, level] = f"not needed ({MAX_VARIANTS} variants are enough)"
            continue
        try:
            got = probe(env)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            skipped[core, level] = str(exc)
            continue
        still_on = [f for f in env.get("NPY_DISABLE_CPU_FEATURES", "").split() if f in got["simd"]]
        if core and got["blas_core"] is not None and got["blas_core"].lower() != core.lower():
            skipped[core, level] = f"OpenBLAS used its {got['blas_core']} kernels instead"
        elif still_on:
            skipped[core, level] = f"numpy still uses {', '.join(still_on)}"
        elif got["fingerprint"] in seen:
            skipped[core, level] = "computes the same bits as the native settings or an earlier variant"
        else:
            seen.append(got["fingerprint"])
            effective.append((core, level, got))
    return effective, skipped
