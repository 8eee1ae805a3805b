"""BLAS threads per level (neurosim/threads.py): the chooser gives one thread to a level whose
largest product is below the threshold, the library's count to a larger one and nothing to
products OpenBLAS runs on one thread anyway; the plan sizes its levels' products (dense,
gathered and ensemble kernels) when it builds a batch's buffers; during a pass the count is
set only when it changes and put back when the pass ends (seen through a recording
controller), never raised above the count in force (``threadpool_limits(1)``), repaired
after a pass that raised, and left alone when the user set ``OPENBLAS_NUM_THREADS``, after
``set_blas_threads("off")`` and without threadpoolctl. With the real library, a pass with
per-level threads computes the one-thread results: bit for bit when every level runs on one
thread, to 1e-12 when a level runs on the library's threads (OpenBLAS splits a product
among threads differently, which can change its last bits).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import neurosim
from neurosim import engine, threads
from neurosim.engine import Plan
from neurosim.errors import DataError

BATCH = 64


class Recorder:
    """A stand-in library controller: its thread count and every count it was set to."""

    def __init__(self, n: int):
        self.n, self.calls = n, []

    def get_num_threads(self) -> int:
        return self.n

    def set_num_threads(self, n: int) -> None:
        self.n = n
        self.calls.append(n)


@pytest.fixture
def fresh(monkeypatch):
    """The module as a new process finds it, with no user thread settings and mode auto."""
    for key in threads.USER_SETTINGS + ("NEUROSIM_BLAS_THREADS",):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(threads, "_found", False)
    monkeypatch.setattr(threads, "_switch", None)
    monkeypatch.setattr(threads, "_mode", "auto")
    monkeypatch.setattr(threads, "_why", "")
    return monkeypatch


def install(monkeypatch, controller) -> threads.Switch:
    sw = threads.Switch([controller])
    monkeypatch.setattr(threads, "_switch", sw)
    monkeypatch.setattr(threads, "_found", True)
    return sw


def wide_net(seed: int = 0) -> neurosim.Network:
    """300 inputs -> 40 sigmoid -> 30 sigmoid outputs, one bias unit: products of
    40*301*64 = 770,560 and 30*41*64 = 78,720 multiply-adds for 64 patterns."""
    net = neurosim.Network(seed=seed)
    net.add_layer("i", 300, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 40, connect_from=[net.inputs], bias=b)
    net.add_layer("o", 30, output=True, connect_from=[h], bias=b)
    return net


def data(seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (BATCH, 300)), rng.uniform(0, 1, (BATCH, 30))


def test_the_chooser_gives_small_levels_one_thread_and_large_ones_the_default():
    assert threads.choose([9216, 9217, 999_999, 1_000_000, 5_000_000], threshold=1_000_000) == \
        [None, False, False, True, True]
    assert threads.choose([100, 640_000], threshold=2 ** 30) == [None, False]
    # nothing to switch: every product small enough for one thread inside OpenBLAS, or every
    # level that could be threaded is large
    assert threads.choose([8, 9216]) is None
    assert threads.choose([8, 2 ** 31], threshold=2 ** 30) is None
    assert threads.THRESHOLD == 2 ** 30


def test_the_plan_sizes_each_kernels_largest_product(monkeypatch):
    net = wide_net()
    plan = net.compile()
    assert [lv.kind for lv in plan.levels] == ["dense", "dense"]
    assert [engine._largest_product(lv, BATCH, None) for lv in plan.levels] == [40 * 301 * BATCH, 30 * 41 * BATCH]

    ens = Plan(net._synced_graph(), net.inputs, net.biases, net.outputs, net.registry, net.dtype,
               lambda fan_in, fan_out, k: np.zeros((fan_out, fan_in)), members=3)
    # level 1: its inputs and bias for all 3 members in one product; level 2: the bias for
    # all members (30*3*1*64), or the 40 hidden sources per member (30*40*64), the larger
    assert [engine._largest_product(lv, BATCH, 3) for lv in ens.levels] == [40 * 3 * 301 * BATCH, 30 * 40 * BATCH]

    monkeypatch.setattr(Plan, "GATHER_FACTOR", -1)        # every level gathered
    gathered = wide_net().compile()
    assert [lv.kind for lv in gathered.levels] == ["gather", "gather"]
    sizes = [engine._largest_product(lv, BATCH, None) for lv in gathered.levels]
    assert sizes == [301 * BATCH, 41 * BATCH]             # n stacked (1, F) @ (F, 64); the receive steps' as small


def test_a_pass_sets_the_count_only_when_it_changes_and_puts_it_back(fresh):
    X, T = data()
    rec = Recorder(2)
    sw = install(fresh, rec)
    net = wide_net()
    net.gradients(X, T)                                   # both levels small: one thread throughout
    buf = net.compile().buffers(BATCH)
    assert buf.blas is sw and buf.blas_start is False
    assert not any(isinstance(k, engine._Threaded) for k, _ in buf.levels)
    assert rec.calls == [1, 2, 1, 2]                      # forward: 1, back to 2; backward the same
    assert rec.n == 2

    fresh.setattr(threads, "THRESHOLD", 500_000)          # the hidden level (770,560) is now large
    rec.calls.clear()
    net = wide_net()
    net.gradients(X, T)
    buf = net.compile().buffers(BATCH)
    assert [(type(k).__name__, k.large) for k, _ in buf.levels] == [("_Threaded", True), ("_Threaded", False)]
    # forward: hidden on 2 (no call), outputs on 1, end back to 2; backward: outputs on 1,
    # hidden on 2, nothing left to put back
    assert rec.calls == [1, 2, 1, 2]
    assert sw.changes == 8


def test_the_count_in_force_is_a_ceiling(fresh):
    X, T = data()
    rec = Recorder(1)                                     # e.g. inside threadpool_limits(1)
    install(fresh, rec)
    wide_net().gradients(X, T)
    assert rec.calls == []


def test_a_pass_that_raised_is_repaired_by_the_next():
    rec = Recorder(2)
    sw = threads.Switch([rec])
    sw.begin(False)                                       # the pass raises before end()
    assert rec.calls == [1]
    sw.begin(None)                                        # the next pass first puts 2 back
    assert rec.calls == [1, 2] and sw.top == 2 and sw.current == 2


def test_nothing_is_switched_when_the_user_set_the_thread_count(fresh):
    fresh.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.switch() is None
    info = threads.describe()
    assert info["active"] is False and "OPENBLAS_NUM_THREADS" in info["reason"]
    if threads._controllers():                            # the library is still reported, with its count
        assert info["libraries"] and all(lib["num_threads"] >= 1 for lib in info["libraries"])
    net = wide_net()
    X, T = data()
    net.gradients(X, T)
    assert net.compile().buffers(BATCH).blas is None


def test_off_switches_nothing_and_a_bad_mode_is_refused(fresh):
    rec = Recorder(2)
    install(fresh, rec)
    neurosim.set_blas_threads("off")
    X, T = data()
    wide_net().gradients(X, T)
    assert rec.calls == []
    assert threads.describe()["active"] is False
    neurosim.set_blas_threads("auto")
    wide_net().gradients(X, T)
    assert rec.calls == [1, 2, 1, 2]
    with pytest.raises(DataError, match="mode 4 is not one of 'auto', 'off'; to fix the thread count"):
        neurosim.set_blas_threads(4)


def test_without_threadpoolctl_the_passes_run_as_before(fresh):
    X, T = data()
    E_on, g_on = wide_net().gradients(X, T)
    fresh.setattr(threads, "_found", False)
    fresh.setitem(sys.modules, "threadpoolctl", None)     # import threadpoolctl raises ImportError
    assert threads.switch() is None
    info = threads.describe()
    assert info == {"active": False, "mode": "auto", "threshold": 2 ** 30, "libraries": [],
                    "reason": "threadpoolctl is not installed (pip install 'neurosim[fast]')"}
    net = wide_net()
    E, g = net.gradients(X, T)
    assert net.compile().buffers(BATCH).blas is None
    assert E == pytest.approx(E_on, rel=1e-12)
    assert all(g[k] == pytest.approx(g_on[k], rel=1e-12, abs=1e-15) for k in g_on)


class Spy:
    """The real controller, recording the counts neurosim sets."""

    def __init__(self, controller):
        self.controller, self.calls = controller, []

    def get_num_threads(self):
        return self.controller.get_num_threads()

    def set_num_threads(self, n):
        self.calls.append(n)
        self.controller.set_num_threads(n)


def test_per_level_threads_compute_the_one_thread_results(fresh):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    real = threads.switch()
    if real is None:
        pytest.skip(f"no BLAS to switch: {threads.describe()['reason']}")
    X, T = data()
    with threadpoolctl.threadpool_limits(1):
        E1, g1 = wide_net().gradients(X, T)
        h1 = wide_net().train(X, T, learning_rate=0.1, epochs=5, mode="batch")
    top = real.controllers[0].get_num_threads()
    spy = Spy(real.controllers[0])
    install(fresh, spy)
    E, g = wide_net().gradients(X, T)                     # every level small: one thread throughout
    h = wide_net().train(X, T, learning_rate=0.1, epochs=5, mode="batch")
    assert spy.calls[:2] == ([1, top] if top > 1 else [])
    assert E == E1 and g == g1                            # bit for bit
    assert np.array_equal(h, h1)
    assert real.controllers[0].get_num_threads() == top   # put back

    fresh.setattr(threads, "THRESHOLD", 500_000)          # the hidden level on the library's threads
    E2, g2 = wide_net().gradients(X, T)
    assert E2 == pytest.approx(E1, rel=1e-12)
    assert all(g2[k] == pytest.approx(g1[k], rel=1e-12, abs=1e-15) for k in g1)
    assert real.controllers[0].get_num_threads() == top
    assert os.environ.get("OPENBLAS_NUM_THREADS") is None


def test_a_pass_interrupted_midway_puts_the_users_count_back_at_once(fresh):
    # Ctrl-C (or an error) inside a level must not leave the process on one thread
    rec = Recorder(2)
    install(fresh, rec)
    net = wide_net()
    X, T = data()
    plan = net.compile()
    plan.forward(X)
    kernel = plan.buffers(BATCH).levels[-1][0]
    real = type(kernel).forward

    def interrupted(self, out):
        raise KeyboardInterrupt
    type(kernel).forward = interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            plan.forward(X)
    finally:
        type(kernel).forward = real
    assert rec.n == 2 and rec.calls[-1] == 2             # set to 1 for the pass, 2 again on the way out


def test_the_environment_variable_takes_auto_or_off_and_warns_about_anything_else():
    assert threads._mode_from_env(None) == threads._mode_from_env("") == threads._mode_from_env(" Auto ") == "auto"
    assert threads._mode_from_env("OFF") == "off"
    for value in ("1", "bogus"):
        with pytest.warns(UserWarning, match=f"NEUROSIM_BLAS_THREADS='{value}' is neither 'auto' nor 'off'.*"
                                              "OPENBLAS_NUM_THREADS"):
            assert threads._mode_from_env(value) == "auto"
