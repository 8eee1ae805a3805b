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

__all__ = ["describe", "signature", "probe", "VARIANTS", "variants_for_this_machine"]

#: Environment settings that select another CPU's arithmetic, by ``platform.machine()``:
#: ``(OPENBLAS_CORETYPE, NPY_DISABLE_CPU_FEATURES)``. Each changes the kernels of a part of
#: the computation (OpenBLAS: matrix products; numpy: elementwise loops such as ``exp``
#: and the pairwise sums of reductions). On x86-64 the first three are OpenBLAS's kernels
#: for AVX2, AVX and AVX-512 machines, each also without numpy's AVX-512 loops, and the
#: last an SSE-only machine (Nehalem kernels, numpy's baseline loops only).
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "x86_64": (
        ("Haswell", ""),
        ("Sandybridge", ""),
        ("SkylakeX", "X86_V4 AVX512_ICL"),
        ("Haswell", "X86_V4 AVX512_ICL"),
        ("Sandybridge", "X86_V4 AVX512_ICL"),
        ("Nehalem", "X86_V3 X86_V4 AVX512_ICL"),
    ),
    "aarch64": (
        ("ARMV8", ""),
        ("NEOVERSEN1", ""),
        ("CORTEXA57", ""),
        ("ARMV8", "ASIMDHP ASIMDDP ASIMDFHM"),
        ("NEOVERSEN1", "ASIMDHP ASIMDDP ASIMDFHM"),
    ),
}
VARIANTS["AMD64"] = VARIANTS["x86_64"]
VARIANTS["arm64"] = VARIANTS["aarch64"]

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


def signature() -> dict[str, Any]:
    """What decides this process's arithmetic: the BLAS kernels and numpy's SIMD loops in use.

    Returns
    -------
    dict
        ``{"blas_core": "SkylakeX", "simd": ["X86_V3", "X86_V4", "AVX512_ICL"]}``: two
        processes with equal signatures (and equal library versions) compute the same
        bits.
    """
    _baseline, dispatch, features = _cpu_tables()
    return {"blas_core": _blas_core(), "simd": [f for f in dispatch if features.get(f)]}


def describe() -> dict[str, Any]:
    """Everything ``summary.json`` records about the arithmetic of this process.

    Returns
    -------
    dict
        ``numpy`` (version), ``blas`` (``name``, ``version``, ``core``: the kernels
        chosen at run time), ``simd`` (``baseline``: extensions numpy was compiled for;
        ``found``: further extensions it found on this CPU and uses; ``not_found``: those
        it could dispatch to but did not, because the CPU lacks them or
        ``NPY_DISABLE_CPU_FEATURES`` turned them off), ``machine``, ``python`` and the
        environment settings that change the arithmetic, when set.

    Examples
    --------
    >>> info = describe()
    >>> sorted(info)
    ['blas', 'environment', 'machine', 'numpy', 'python', 'simd']
    """
    baseline, dispatch, features = _cpu_tables()
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES")
           if os.environ.get(k)}
    return {
        "numpy": np.__version__,
        "blas": {**_blas_build(), "core": _blas_core()},
        "simd": {"baseline": baseline, "found": [f for f in dispatch if features.get(f)],
                 "not_found": [f for f in dispatch if not features.get(f)]},
        "machine": platform.machine(),
        "python": platform.python_version(),
        "environment": env,
    }


def variant_environment(core: str, disabled: str) -> dict[str, str]:
    """The environment of a child process that computes with another CPU's arithmetic.

    Parameters
    ----------
    core : str
        ``OPENBLAS_CORETYPE`` (empty: leave OpenBLAS to choose).
    disabled : str
        ``NPY_DISABLE_CPU_FEATURES``, space-separated (empty: every SIMD loop numpy found).

    Returns
    -------
    dict
        A copy of ``os.environ`` with the two set (or removed when empty).
    """
    env = dict(os.environ)
    for key, value in (("OPENBLAS_CORETYPE", core), ("NPY_DISABLE_CPU_FEATURES", disabled)):
        if value:
            env[key] = value
        else:
            env.pop(key, None)
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
        raise RuntimeError(f"a Python with {_settings(env)} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _settings(env: Mapping[str, str]) -> str:
    shown = [f"{k}={env[k]!r}" for k in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES") if env.get(k)]
    return " ".join(shown) or "the native settings"


def variants_for_this_machine() -> tuple[list[tuple[str, str, dict]], list[str]]:
    """The :data:`VARIANTS` that really change the arithmetic here, each probed once.

    A setting counts when its child process reports the OpenBLAS kernels it asked for
    (or did not ask) and no numpy SIMD extension it asked to disable is still in use,
    and when its signature differs from the native one and from every variant before it.

    Returns
    -------
    effective : list of (core, disabled, signature)
        The variants to test under.
    skipped : list of str
        One line for each variant left out, saying why (an unknown name, an extension
        this CPU does not have, the same arithmetic as another).
    """
    native = probe(variant_environment("", ""))
    seen = [native]
    effective, skipped = [], []
    for core, disabled in VARIANTS.get(platform.machine(), ()):
        env = variant_environment(core, disabled)
        label = _settings(env)
        try:
            got = probe(env)
        except RuntimeError as exc:
            skipped.append(f"{label}: {exc}")
            continue
        still_on = [f for f in disabled.split() if f in got["simd"]]
        if core and got["blas_core"] is not None and got["blas_core"].lower() != core.lower():
            skipped.append(f"{label}: OpenBLAS used its {got['blas_core']} kernels instead")
        elif still_on:
            skipped.append(f"{label}: numpy still uses {', '.join(still_on)}")
        elif got in seen:
            skipped.append(f"{label}: the same arithmetic as an earlier setting ({got})")
        else:
            seen.append(got)
            effective.append((core, disabled, got))
    return effective, skipped
