"""The reproducibility promise (docs/reproducibility.md), part by part.

1. Bit for bit on one machine with the same library versions: two fresh processes running
   the same scenario write byte-identical learning curves and networks.
2. Across machines, a run that is not chaotic agrees to a stated tolerance: every single
   run of the scenario library, recomputed under other CPUs' arithmetic (OpenBLAS kernels
   chosen with ``OPENBLAS_CORETYPE``, numpy's SIMD loops turned off with
   ``NPY_DISABLE_CPU_FEATURES``), ends with every weight and the final error within
   :data:`TOLERANCE` (relative) of this machine's.
3. A chaotic run is stated as a distribution: the family-trees net ends somewhere else
   under every arithmetic when trained once, so its scenario is an ensemble of 100
   starts, and its statistics hold under every arithmetic — as does every expectation of
   every shipped scenario, and every ``[[sweep.expect]]`` of every shipped sweep (run with
   :func:`neurosim.sweep.run_sweep`, its worker processes under the same arithmetic).

The variants are those of :data:`neurosim.arithmetic.VARIANTS` that really change the
arithmetic on this machine (each is probed: both libraries ignore names they do not know
without a word). In CI at least four must; elsewhere the cross-machine tests are skipped,
saying why, when fewer do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim import arithmetic

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

#: Relative agreement of a non-chaotic run across arithmetic, promised in
#: docs/reproducibility.md: ``|a - b| <= TOLERANCE * max(1, |a|)`` for every final weight
#: and the final error.
TOLERANCE = 1e-6
#: How many arithmetic variants CI must test under.
MINIMUM_VARIANTS = 4

#: Run every scenario and print, as JSON: whether it passed, its failures, and for single
#: runs the final weights and error; for a sweep, whether its points and sweep expectations
#: passed and the arithmetic fingerprints its points' summaries record; then the
#: family-trees net trained once.
CHILD = r"""
import json, sys, tempfile, tomllib
import neurosim
from neurosim import arithmetic
from neurosim.sweep import is_sweep, run_sweep
out = {"signature": arithmetic.signature(), "scenarios": {}}
for path in sys.argv[1:]:
    if is_sweep(tomllib.loads(open(path).read())):
        with tempfile.TemporaryDirectory() as tmp:
            s = run_sweep(path, tmp + "/out", workers=1)
            seen = {json.load(open(f"{tmp}/out/points/{r['point']}/summary.json"))["arithmetic"]["fingerprint"]
                    for r in s.rows}
        out["scenarios"][path] = {"passed": s.passed, "failures": s.failures, "fingerprints": sorted(seen),
                                  "points": len(s.rows)}
        continue
    r = neurosim.run_scenario(path)
    entry = {"passed": r.passed, "failures": r.failures}
    if r.ensemble is None:
        entry["weights"] = [r.network.weight(u, v) for u, v in sorted(r.network.weights())]
        entry["error"] = r.final_error
    out["scenarios"][path] = entry
once = neurosim.run_scenario(sys.argv[-1].rsplit("/", 1)[0] + "/family_trees.toml", {"training.ensemble": 1})
out["family_trees_once"] = float(once.ensemble.final_error[0])
print(json.dumps(out))
"""


def _run_library(env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, SCENARIOS)], env=env, capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def variants():
    effective, skipped = arithmetic.variants_for_this_machine()
    if len(effective) < MINIMUM_VARIANTS:
        why = (f"only {len(effective)} arithmetic variants change the arithmetic on this machine "
               f"({arithmetic.describe()['machine']}); the cross-machine tests need {MINIMUM_VARIANTS}:\n  "
               + "\n  ".join(f"{core}|{level}: {reason}" for (core, level), reason in skipped.items()))
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return effective, {f"{core}|{level}": reason for (core, level), reason in skipped.items()}


@pytest.fixture(scope="module")
def library(variants):
    """``{label: child output}``: the library under the native arithmetic and every variant."""
    envs = {"native": arithmetic.variant_environment("", "")}
    for core, level, _sig in variants[0]:
        envs[f"{core}|{level}"] = arithmetic.variant_environment(core, level)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(envs, pool.map(_run_library, envs.values())))
    return results


def _variant_ids():
    """The labels the variant tests are parametrised with (probing here would cost a
    subprocess per variant at collection; the ``library`` fixture skips what is not
    effective)."""
    return [f"{core}|{level}" for core, level in arithmetic.VARIANTS.get(arithmetic.describe()["machine"], ())]


def test_summary_records_the_arithmetic(tmp_path):
    files = neurosim.run_scenario(ROOT / "scenarios" / "mazur.toml").save(tmp_path)
    info = json.loads(files["summary"].read_text())["arithmetic"]
    assert info["numpy"] == np.__version__
    assert info["blas"]["name"] and info["blas"]["version"]
    assert info["simd"]["found"] == arithmetic.signature()["simd"]
    assert set(info["simd"]["found"]).isdisjoint(info["simd"]["not_found"])
    assert info == arithmetic.describe()


def test_a_setting_numpy_or_openblas_do_not_know_changes_nothing():
    """``OPENBLAS_CORETYPE=Bogus`` and ``NPY_DISABLE_CPU_FEATURES=BOGUS`` are ignored by
    the libraries without a word: the probe computes the native bits under them."""
    env = {**arithmetic.variant_environment("", ""), "OPENBLAS_CORETYPE": "Bogus", "NPY_DISABLE_CPU_FEATURES": "BOGUS"}
    native = arithmetic.probe(arithmetic.variant_environment("", ""))
    assert arithmetic.probe(env)["fingerprint"] == native["fingerprint"]


def test_only_settings_that_run_and_change_the_bits_are_counted(monkeypatch):
    """A setting that crashes its child, is ignored (other kernels reported), keeps a loop
    on it should have turned off, or computes bits already seen is left out, saying why."""
    answers = {
        ("", ""): {"blas_core": "Haswell", "simd": ["X86_V3"], "fingerprint": "native"},
        ("A", ""): RuntimeError("a Python with OPENBLAS_CORETYPE='A' failed (killed by signal 4)"),
        ("B", ""): {"blas_core": "Haswell", "simd": ["X86_V3"], "fingerprint": "b"},
        ("C", ""): {"blas_core": "C", "simd": ["X86_V3"], "fingerprint": "native"},
        ("C", "baseline"): {"blas_core": "C", "simd": ["X86_V3"], "fingerprint": "c0"},
        ("D", ""): {"blas_core": "D", "simd": ["X86_V3"], "fingerprint": "d"},
        ("E", ""): {"blas_core": "E", "simd": ["X86_V3"], "fingerprint": "d"},
    }

    def probe(env):
        answer = answers[(env.get("OPENBLAS_CORETYPE", ""), "baseline" if env.get("NPY_DISABLE_CPU_FEATURES") else "")]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(arithmetic, "probe", probe)
    monkeypatch.setattr(arithmetic, "disabled_features", lambda level: "X86_V3" if level else "")
    monkeypatch.setattr(arithmetic.platform, "machine", lambda: "test")
    monkeypatch.setitem(arithmetic.VARIANTS, "test", (("A", ""), ("B", ""), ("C", ""), ("C", "baseline"),
                                                      ("D", ""), ("E", "")))
    effective, skipped = arithmetic.variants_for_this_machine()
    assert [(core, level) for core, level, _ in effective] == [("D", "")]
    reasons = "\n".join(skipped.values())
    for why in ("signal 4", "used its Haswell kernels instead", "the same bits", "numpy still uses X86_V3"):
        assert why in reasons, reasons
    assert len(skipped) == 5


def test_same_machine_same_bits(tmp_path):
    """Two processes, one scenario with random initial weights: identical result files."""
    scenario = ROOT / "scenarios" / "xor_skip.toml"
    for k in (1, 2):
        subprocess.run([sys.executable, "-m", "neurosim", "run", "-q", str(scenario), "--out", str(tmp_path / f"r{k}")],
                       check=True, capture_output=True)
    for name in ("learning_curve.csv", "network.json"):
        assert (tmp_path / "r1" / name).read_bytes() == (tmp_path / "r2" / name).read_bytes(), name


@pytest.mark.parametrize("label", _variant_ids())
def test_every_scenario_holds_under_another_arithmetic(label, library, variants):
    if label not in library:
        pytest.skip(f"{label}: {variants[1][label]}")
    failures = {Path(p).name: r["failures"] for p, r in library[label]["scenarios"].items() if not r["passed"]}
    assert not failures, f"under {label}: {failures}"


@pytest.mark.parametrize("label", _variant_ids())
def test_single_runs_agree_across_arithmetic(label, library, variants):
    if label not in library:
        pytest.skip(f"{label}: {variants[1][label]}")
    native, other = library["native"]["scenarios"], library[label]["scenarios"]
    assert library[label]["signature"] != library["native"]["signature"]
    compared = 0
    for path, mine in native.items():
        if "weights" not in mine:
            continue                      # an ensemble: a distribution, checked by its expectations
        theirs = other[path]
        a, b = np.array(mine["weights"] + [mine["error"]]), np.array(theirs["weights"] + [theirs["error"]])
        worst = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a)))
        assert worst <= TOLERANCE, f"{Path(path).name} under {label}: relative difference {worst:.3g}"
        compared += 1
    assert compared >= 8


@pytest.mark.parametrize("label", _variant_ids())
def test_sweeps_run_their_points_under_that_arithmetic(label, library, variants):
    """A sweep's points run in worker processes: every point's summary.json records the
    arithmetic of the variant (so its expectations above were checked under it)."""
    if label not in library:
        pytest.skip(f"{label}: {variants[1][label]}")
    sweeps = {Path(p).name: r for p, r in library[label]["scenarios"].items() if "fingerprints" in r}
    assert "symmetry_sweep.toml" in sweeps
    for name, r in sweeps.items():
        assert r["points"] >= 1 and r["fingerprints"] == [library[label]["signature"]["fingerprint"]], name
    assert library[label]["signature"]["fingerprint"] != library["native"]["signature"]["fingerprint"]


def test_the_family_trees_net_is_chaotic(library):
    """Trained once, the family-trees net ends elsewhere under other arithmetic (so its
    scenario is an ensemble whose statistics hold everywhere)."""
    errors = np.array([r["family_trees_once"] for r in library.values()])
    assert np.ptp(errors) > 0.1 * np.min(errors), errors
