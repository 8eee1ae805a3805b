"""The stop criteria, asked directly with hand-made :class:`neurosim.Progress` objects and in training: ``error_below`` and ``within`` keep the strict bounds they always had (an error or a distance equal to the bound does not stop) and a run stops at the first epoch that meets them; ``bit_fail`` counts FANN's way (an output fails when it is ``limit`` or more from its target; at most ``count`` may fail) on outputs made so that exactly N fail; ``max_seconds`` is checked against a fake clock, never by sleeping; early stopping counts ``patience`` and ``min_delta`` epoch by epoch on a scripted validation-error sequence worked out in the test, and ``restore_best`` really leaves each network (each ensemble member) with the weights a callback saw at its best validation epoch; and the refusals of bad stop options, each naming the option.
"""

from __future__ import annotations

import importlib
import math
import types

import numpy as np
import pytest

import neurosim
from neurosim import DataError, PluginError, Progress
from neurosim.training import StopCriterion

REG = neurosim.default_registry()
ErrorBelow, Within, BitFail = (REG.stop_criterion(n) for n in ("error_below", "within", "bit_fail"))
MaxSeconds, EarlyStopping = REG.stop_criterion("max_seconds"), REG.stop_criterion("early_stopping")

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_T = np.array([[0], [1], [1], [0]], dtype=float)



def progress(error=1.0, outputs=None, targets=None, *, epoch=1, seconds=0.0, validation_error=None, members=None,
             theta=None, member_of=None):
    """A Progress as training makes one, from hand-made numbers."""
    targets = np.zeros((1, 1)) if targets is None else np.asarray(targets, float)
    Y = None if outputs is None else np.asarray(outputs, float)
    return Progress(epoch=epoch, epochs=100, error=error, targets=targets, seconds=seconds,
                    validation_error=validation_error, members=members,
                    active=None if members is None else np.ones(members, bool), theta=theta, member_of=member_of,
                    _outputs=lambda: Y)


def record(into):
    """A callback keeping each epoch's error, outputs, validation error and weights."""
    def callback(p):
        into.append({"epoch": p.epoch, "error": p.error, "outputs": p.outputs(), "theta": p.theta.copy(),
                     "validation": p.validation_error, "seconds": p.seconds})
    return callback


# --- error_below and within ----------------------------------------------------------------------


def test_error_below_is_strict_and_per_member():
    rule = ErrorBelow(0.25)
    assert rule(progress(0.2499999)) and not rule(progress(0.25)) and not rule(progress(0.3))
    got = rule(progress(np.array([0.1, 0.25, 0.4]), members=3))
    assert got.tolist() == [True, False, False]


def test_within_is_strict_over_every_output_and_per_member():
    T = np.array([[0.0, 1.0], [1.0, 0.0]])
    rule = Within(0.25)
    # largest distance 0.2 < 0.25: stop; exactly 0.25 (a power of two, exact): do not
    assert rule(progress(outputs=[[0.2, 0.9], [0.85, 0.1]], targets=T))
    assert not rule(progress(outputs=[[0.25, 0.9], [0.85, 0.1]], targets=T))
    members = np.array([[[0.2, 0.9], [0.85, 0.1]], [[0.0, 1.0], [1.0, 0.3]]])
    assert rule(progress(np.zeros(2), outputs=members, targets=T, members=2)).tolist() == [True, False]


def test_the_criteria_agree_with_stop_criterion_as_it_was():
    """StopCriterion(error_below=..., within=...) called as stop(error, Y, T) answers as it
    did before the criteria were plugins: either bound, strictly."""
    T = np.array([[0.0], [1.0]])
    stop = StopCriterion(error_below=0.01, within=0.4)
    assert stop.error_below == 0.01 and stop.within == 0.4
    assert stop(0.005, np.array([[0.5], [0.5]]), T) is True            # the error alone
    assert stop(0.5, np.array([[0.39], [0.61]]), T) is True            # every output within 0.4
    assert stop(0.01, np.array([[0.4], [0.6]]), T) is False            # both exactly at their bounds
    flags = stop(np.array([0.005, 0.5, 0.5]), np.array([[[0.5], [0.5]], [[0.1], [0.9]], [[0.5], [0.5]]]), T)
    assert flags.tolist() == [True, True, False]


@pytest.mark.parametrize("mode", ["batch", "online"])
def test_training_stops_at_the_first_epoch_that_meets_error_below_or_within(mode, xor_net):
    seen: list = []
    full = xor_net(3).train(XOR_X, XOR_T, learning_rate=2.0, epochs=400, mode=mode, callbacks=[record(seen)])
    bound = float(full[150])
    first = int(np.argmax(full < bound))                  # the first epoch whose error is below
    stopped = xor_net(3).train(XOR_X, XOR_T, learning_rate=2.0, epochs=400, mode=mode, stop={"error_below": bound})
    assert len(stopped) == first + 1 < 400 and np.array_equal(stopped, full[:first + 1])
    distance = [float(np.max(np.abs(s["outputs"] - XOR_T))) for s in seen]
    within = distance[200]
    first = next(k for k, d in enumerate(distance) if d < within)
    stopped = xor_net(3).train(XOR_X, XOR_T, learning_rate=2.0, epochs=400, mode=mode, stop={"within": within})
    assert len(stopped) == first + 1 < 400 and np.array_equal(stopped, full[:first + 1])
    # the same as a plain function stop(error, Y, T) with the old bound
    legacy = xor_net(3).train(XOR_X, XOR_T, learning_rate=2.0, epochs=400, mode=mode,
                              stop=lambda E, Y, T: bool(np.all(np.abs(Y - T) < within)))
    assert np.array_equal(legacy, stopped)


# --- bit_fail ------------------------------------------------------------------------------------


def test_bit_fail_counts_outputs_limit_or_more_away():
    T = np.zeros((3, 2))
    # |y − t| >= 0.35 fails (FANN's test is >=): 0.35 (exactly the limit), 0.4 and 1.0 fail;
    # 0.1, 0.349 and 0.0 do not: exactly 3 fail
    Y = np.array([[0.35, 0.1], [-0.4, 0.349], [0.0, 1.0]])
    assert BitFail(0.35, 3)(progress(outputs=Y, targets=T))
    assert not BitFail(0.35, 2)(progress(outputs=Y, targets=T))
    assert not BitFail()(progress(outputs=Y, targets=T))             # FANN's defaults: limit 0.35, count 0
    # limit 0.36: 0.35 no longer fails, so 2 do
    assert BitFail(0.36, 2)(progress(outputs=Y, targets=T)) and not BitFail(0.36, 1)(progress(outputs=Y, targets=T))
    # per member: 3, 0 and 6 failing outputs, count 2
    members = np.stack([Y, np.zeros((3, 2)), np.ones((3, 2))])
    assert BitFail(0.35, 2)(progress(np.zeros(3), outputs=members, targets=T, members=3)).tolist() == [False, True,
                                                                                                        False]


def test_training_stops_at_the_first_epoch_with_few_enough_bit_fails(xor_net):
    seen: list = []
    full = xor_net(3).train(XOR_X, XOR_T, learning_rate=2.0, epochs=400, mode="batch", callbacks=[record(seen)])
    fails = [int(np.count_nonzero(np.abs(s["outputs"] - XOR_T) >= 0.45)) for s in seen]
    assert fails[0] > 1 and min(fails) <= 1
    first = next(k for k, n in enumerate(fails) if n <= 1)
    stopped = xor_net(3).train(XOR_X, XOR_T, learning_rate=2.0, epochs=400, mode="batch",
                               stop={"bit_fail": {"limit": 0.45, "count": 1}})
    assert len(stopped) == first + 1 and np.array_equal(stopped, full[:first + 1])


# --- max_seconds ---------------------------------------------------------------------------------


def test_max_seconds_compares_the_time_so_far_and_stops_the_whole_run():
    rule = MaxSeconds(10)
    for seconds, over in ((9.999, False), (10.0, True), (11.0, True)):
        p = progress(seconds=seconds)
        assert not rule(p) and p.stop_requested == over     # the run stops; no network is "done"
    p = progress(np.zeros(3), seconds=10.0, members=3)
    assert rule(p).tolist() == [False] * 3 and p.stop_requested
    p = progress(np.zeros(3), seconds=1.0, members=3)
    assert rule(p).tolist() == [False] * 3 and not p.stop_requested


class FakeClock:
    """``perf_counter`` that moves on by one second each time it is read."""

    def __init__(self):
        self.now = 1000.0

    def perf_counter(self):
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("ensemble", [None, 2])
def test_training_stops_once_max_seconds_have_passed_by_a_fake_clock(monkeypatch, ensemble, xor_net):
    loop = importlib.import_module("neurosim.training.loop")
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=FakeClock().perf_counter))
    seen: list = []
    result = xor_net().train(XOR_X, XOR_T, epochs=1000, mode="batch", stop={"max_seconds": 5.5},
                             callbacks=[record(seen)], ensemble=ensemble)
    seconds = [s["seconds"] for s in seen]
    assert all(b > a for a, b in zip(seconds, seconds[1:]))         # the clock moves on
    assert seconds[-1] >= 5.5 and all(s < 5.5 for s in seconds[:-1])   # stopped at the first epoch past it
    epochs = len(result) if ensemble is None else int(result.history.shape[0])
    assert epochs == len(seen) < 1000
    if ensemble is not None:          # out of time is not converged: no success to count
        assert not result.converged.any() and result.summary()["success_rate"] == 0.0


# --- early stopping ------------------------------------------------------------------------------


def drive(rule, validation, members=None, member_of=None):
    """Ask ``rule`` after each epoch of a scripted validation-error sequence; theta holds the
    epoch number (per entry), so what ``end`` restores names the epoch it was saved at."""
    width = 1 if member_of is None else len(member_of)
    theta = np.zeros(width)
    rule.start(progress(math.nan, epoch=0, theta=theta, members=members, member_of=member_of))
    flags = []
    for epoch, v in enumerate(validation, start=1):
        theta[...] = epoch
        flags.append(np.asarray(rule(progress(epoch=epoch, validation_error=v if members is None else np.array(v),
                                              theta=theta, members=members, member_of=member_of))).tolist())
    rule.end(progress(epoch=len(validation), theta=theta, members=members, member_of=member_of))
    return flags, theta


#: A validation error that falls, wavers and rises.
SCRIPT = [1.0, 0.8, 0.85, 0.79, 0.795, 0.9, 0.95]


def test_patience_counted_by_hand():
    # min_delta 0, patience 2:
    # 1: 1.0 < inf, best 1.0;  2: 0.8 < 1.0, best 0.8;  3: 0.85: waited 1;
    # 4: 0.79 < 0.8, best 0.79, waited 0;  5: 0.795: waited 1;  6: 0.9: waited 2 = patience: stop
    flags, theta = drive(EarlyStopping(patience=2), SCRIPT)
    assert flags == [False, False, False, False, False, True, True]
    assert theta[0] == 4.0                                # the weights of epoch 4 (0.79) are back


def test_min_delta_counted_by_hand():
    # min_delta 0.02, patience 2: an epoch improves when it is below best − 0.02
    # 1: best 1.0;  2: 0.8 < 0.98: best 0.8;  3: 0.85 ≥ 0.78: waited 1;
    # 4: 0.79 ≥ 0.78 (better by only 0.01): waited 2 = patience: stop
    flags, theta = drive(EarlyStopping(patience=2, min_delta=0.02), SCRIPT)
    assert flags[:4] == [False, False, False, True]
    assert theta[0] == 2.0                                # epoch 2 was the last improvement
    # patience 3 with min_delta 0.02: 5: 0.795 waited 3: stop there
    flags, _ = drive(EarlyStopping(patience=3, min_delta=0.02), SCRIPT)
    assert flags[:5] == [False, False, False, False, True]


def test_an_equal_validation_error_is_no_improvement():
    # 1: best 1.0;  2: 0.5, best;  3: 0.5 is not below 0.5: waited 1;  4: waited 2: stop
    flags, theta = drive(EarlyStopping(patience=2), [1.0, 0.5, 0.5, 0.5])
    assert flags == [False, False, False, True]
    assert theta[0] == 2.0                                # the first epoch at 0.5, not a later one


def test_without_restore_best_the_last_weights_stay():
    flags, theta = drive(EarlyStopping(patience=2, restore_best=False), SCRIPT)
    assert flags[5] is True and theta[0] == 7.0


def test_early_stopping_counts_and_restores_per_member():
    # member 0 follows SCRIPT; member 1 improves until epoch 3, then only worsens.
    # patience 2. member 1: 1: 0.5;  2: 0.4;  3: 0.3;  4: 0.31 w1;  5: 0.32 w2: stop at 5
    second = [0.5, 0.4, 0.3, 0.31, 0.32, 0.33, 0.34]
    member_of = np.array([0, 1, 1, 0])
    flags, theta = drive(EarlyStopping(patience=2), list(zip(SCRIPT, second)), members=2, member_of=member_of)
    assert [f[0] for f in flags] == [False, False, False, False, False, True, True]
    assert [f[1] for f in flags] == [False, False, False, False, True, True, True]
    # each member's entries hold the epoch of its own best: member 0 epoch 4, member 1 epoch 3
    assert theta.tolist() == [4.0, 3.0, 3.0, 4.0]


def test_early_stopping_without_a_validation_error_never_stops():
    # as when a scenario asks its stop criteria outside training, with no validation set
    rule = EarlyStopping(patience=1)
    assert rule(progress(validation_error=None, theta=np.zeros(1))) is False
    assert rule(progress(np.zeros(2), validation_error=None, theta=np.zeros(2), members=2)).tolist() == [False] * 2


#: A validation set whose targets are XOR's inverted: as training learns XOR, it gets worse.
XOR_VAL = (XOR_X[:2], 1.0 - XOR_T[:2])


def test_restore_best_restores_the_best_epochs_weights_after_training(xor_net):
    seen: list = []
    net = xor_net()
    history = net.train(XOR_X, XOR_T, learning_rate=2.0, epochs=3000, mode="batch", validation=XOR_VAL,
                        stop={"early_stopping": {"patience": 5}}, callbacks=[record(seen)])
    validation = [float(s["validation"]) for s in seen]
    best = int(np.argmin(validation))
    assert len(history) == best + 1 + 5 < 3000              # five epochs without improvement
    assert validation[-1] > validation[best]
    theta = net.compile().theta
    assert np.array_equal(theta, seen[best]["theta"]) and not np.array_equal(theta, seen[-1]["theta"])
    assert net.error(*XOR_VAL) == validation[best]
    # without restore_best the network keeps the last epoch's weights
    last = xor_net()
    last.train(XOR_X, XOR_T, learning_rate=2.0, epochs=3000, mode="batch", validation=XOR_VAL,
               stop={"early_stopping": {"patience": 5, "restore_best": False}})
    assert np.array_equal(last.compile().theta, seen[-1]["theta"])


def test_restore_best_restores_each_members_best_weights(xor_net):
    seen: list = []
    members = []

    def keep(p):
        members.append(p.member_of)
    result = xor_net().train(XOR_X, XOR_T, learning_rate=2.0, epochs=3000, mode="batch", validation=XOR_VAL,
                             stop={"early_stopping": {"patience": 5}}, ensemble=3, callbacks=[record(seen), keep])
    validation = np.array([s["validation"] for s in seen])      # (epochs, K)
    assert len(set(result.epochs.tolist())) > 1                 # members stopped at different epochs
    member_of = members[0]
    for k in range(3):
        best = int(np.argmin(validation[:result.epochs[k], k]))
        assert result.epochs[k] == best + 1 + 5
        assert np.array_equal(result.theta[k], seen[best]["theta"][member_of == k]), k
        assert result.network(k).error(*XOR_VAL) == pytest.approx(validation[best, k], rel=1e-12)
    assert result.converged.all()


# --- refusals ------------------------------------------------------------------------------------


def test_early_stopping_without_a_validation_set_is_refused(refused, xor_net):
    refused(DataError, ("early_stopping", "validation set", "validation=(X_val, T_val)"),
            xor_net().train, XOR_X, XOR_T, stop={"early_stopping": {"patience": 3}})
    refused(DataError, ("early_stopping", "validation"), xor_net().train, XOR_X, XOR_T, ensemble=2,
            stop={"early_stopping": {}})


@pytest.mark.parametrize("stop, error, fragments", [
    ({"bit_fail": {"count": -1}}, DataError, ("bit_fail count", "whole number >= 0", "-1")),
    ({"bit_fail": {"count": 1.5}}, DataError, ("bit_fail count", "1.5")),
    ({"bit_fail": {"limit": 0}}, DataError, ("bit_fail limit", "> 0")),
    ({"bit_fail": 0.4}, DataError, ("'bit_fail'", "table of options", "limit, count", "0.4")),
    ({"within": 0}, DataError, ("within", "> 0", "never stop training")),
    ({"within": -0.1}, DataError, ("within", "> 0")),
    ({"error_below": "small"}, DataError, ("error_below", "must be a number")),
    ({"max_seconds": 0}, DataError, ("max_seconds", "> 0")),
    ({"max_seconds": float("inf")}, DataError, ("max_seconds", "finite")),
    ({"early_stopping": {"patience": 0}}, DataError, ("early_stopping patience", ">= 1", "0")),
    ({"early_stopping": {"patience": True}}, DataError, ("early_stopping patience",)),
    ({"early_stopping": {"min_delta": -1e-3}}, DataError, ("early_stopping min_delta", ">= 0")),
    ({"early_stopping": {"restore_best": "yes"}}, DataError, ("early_stopping restore_best", "true or false")),
    ({"early_stopping": {"patients": 3}}, PluginError, ("'early_stopping' has no option 'patients'",
                                                        "did you mean 'patience'")),
    ({"early_stopping": 3}, DataError, ("'early_stopping'", "patience, min_delta, restore_best")),
    ({"error_bellow": 0.1}, PluginError, ("unknown stop criterion 'error_bellow'", "did you mean 'error_below'")),
])
def test_bad_stop_options_are_refused_naming_the_option(refused, stop, error, fragments, xor_net):
    refused(error, fragments, xor_net().train, XOR_X, XOR_T, validation=XOR_VAL, stop=stop)


# --- what stopped a run, and what the criteria did to its result ---------------------------------


def test_a_run_says_which_criterion_or_callback_stopped_it(monkeypatch, xor_net):
    job = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, learning_rate=0.5, epochs=5000, mode="batch",
                               momentum=0.9, stop={"within": 0.4, "error_below": 1e-9})
    job.run()
    assert job.stopped and job.stopped_by == {"within": 1} and job.outcomes() == []

    def low_enough(p):
        return p.error < 0.9
    job = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, epochs=5000, mode="batch", callbacks=[low_enough])
    job.run()
    assert job.stopped_by == {"callback low_enough": 1}
    loop = importlib.import_module("neurosim.training.loop")
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=FakeClock().perf_counter))
    job = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, epochs=5000, mode="batch", stop={"max_seconds": 3.5},
                               ensemble=4)
    job.run()
    assert job.stopped_by == {"max_seconds": 4}           # it stops the whole ensemble
    job = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, epochs=30, mode="batch", stop={"within": 0.01})
    job.run()
    assert not job.stopped and job.stopped_by == {}


def test_members_stopped_by_each_criterion_are_counted(xor_net):
    job = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, learning_rate=0.5, momentum=0.9, epochs=200, mode="batch",
                               stop={"within": 0.4}, ensemble=20)
    job.run()
    result = job.result()
    assert job.stopped_by == {"within": 10} and result.converged.sum() == 10     # 10 of 20 within 200 epochs


def test_restore_best_says_which_epoch_it_restored(xor_net):
    seen: list = []
    job = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, learning_rate=2.0, epochs=3000, mode="batch",
                               validation=XOR_VAL, stop={"early_stopping": {"patience": 5}}, callbacks=[record(seen)])
    job.run()
    validation = [float(s["validation"]) for s in seen]
    best = int(np.argmin(validation))
    assert job.stopped_by == {"early_stopping": 1}
    assert job.outcomes() == [f"early_stopping restored the weights of epoch {best + 1}, the lowest validation "
                              f"error ({validation[best]:.9g})"]
    kept = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, learning_rate=2.0, epochs=3000, mode="batch",
                                validation=XOR_VAL, stop={"early_stopping": {"patience": 5, "restore_best": False}})
    kept.run()
    assert kept.outcomes() == []
    ensemble = neurosim.TrainingRun(xor_net(), XOR_X, XOR_T, learning_rate=2.0, epochs=3000, mode="batch",
                                    validation=XOR_VAL, stop={"early_stopping": {"patience": 5}}, ensemble=3)
    ensemble.run()
    assert ensemble.outcomes() == [m for m in ensemble.outcomes() if m.startswith(
        "early_stopping restored 3 of 3 members' weights to their lowest validation error, of epochs ")]
    assert len(ensemble.outcomes()) == 1 and ensemble.stopped_by == {"early_stopping": 3}
