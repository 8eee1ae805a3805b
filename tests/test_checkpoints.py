"""Checkpoints: a run interrupted, saved and resumed ends bit for bit where the run that never stopped does.

Every test interrupts a run at epochs drawn from a seeded generator — by raising
``KeyboardInterrupt`` from a callback at epoch k (what Ctrl-C does, at an epoch's end), or
by a crash after a ``checkpoint_every`` save — writes the checkpoint, builds the run afresh,
loads it and finishes; then ``np.array_equal`` holds on the learning curve, the weights and
(with one) the validation errors against the straight run. Covered: sgd with momentum 0.9
and shuffling (online), rprop (irprop+, batch), quickprop, adam (minibatch, shuffled), an
ensemble with a stop criterion, early stopping with a validation set (its best weights
restored at the end), a scenario with ``after`` expectations and learning-rate and
momentum schedules, a scenario ensemble and a scenario that draws its seed. A resume from
the weights alone is shown to differ, so the tests would see a missing piece of state.
Refused, each with a message naming the file and the reason: a checkpoint of another
scenario (naming it and the keys that differ, or its data), of another neurosim version or
format version, a truncated, garbage or missing file, another network's (parameter count),
and a state left half done by an error. The ``neurosim run`` flags: ``--checkpoint-every``
with a simulated and a real Ctrl-C (exit 130, the line naming the checkpoint and the resume
command), ``--resume`` to the same files as an uninterrupted ``--out`` run, and the
refusals with exit status 2.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import neurosim
import neurosim.cli
import neurosim.training.checkpoints as checkpoints
from neurosim import DataError, ScenarioError, run_scenario
from neurosim.cli import main
from neurosim.io import FileError
from neurosim.training import TrainingInterrupted, TrainingRun, load_checkpoint, save_checkpoint

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX only")

#: The epochs interrupted at come from this generator (each test draws its own few).
RNG_SEED = 20240601

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_T = np.array([[0], [1], [1], [0]], dtype=float)


def net_of(hidden=3, seed=5):
    net = neurosim.Network(seed=seed)
    i = net.add_layer("i", 2, kind="input")
    net.add_bias("bias")
    h = net.add_layer("h", hidden, "sigmoid", connect_from=[i], bias="bias")
    net.add_layer("o", 1, "sigmoid", connect_from=[h], bias="bias", output=True)
    return net


def interrupt_at(k):
    """A callback that does what Ctrl-C does, at the end of epoch k."""
    def callback(progress):
        if progress.epoch == k:
            raise KeyboardInterrupt
    return callback


def epochs_to_interrupt(n, count=3):
    """``count`` distinct epochs in [1, n), drawn from the seeded generator."""
    rng = np.random.default_rng(RNG_SEED + n)
    return sorted(int(k) for k in rng.choice(np.arange(1, n), size=min(count, n - 1), replace=False))


# --- from Python: TrainingRun ---------------------------------------------------------------

#: name -> (options of TrainingRun, validation set or None). Each trains to its end (or
#: its stop) in well under a second.
CONFIGS = {
    "sgd momentum 0.9, shuffled, online": dict(learning_rate=0.5, momentum=0.9, shuffle=True, epochs=300),
    "rprop irprop+, batch": dict(optimizer="rprop", optimizer_options={"variant": "irprop+"}, mode="batch",
                                 epochs=300),
    "quickprop, batch": dict(optimizer="quickprop", mode="batch", epochs=200),
    "adam, minibatch, shuffled": dict(optimizer="adam", optimizer_options={"learning_rate": 0.05},
                                      mode="minibatch", batch_size=2, shuffle=True, epochs=300),
    "ensemble of 6, rprop, stop within 0.4": dict(optimizer="rprop", mode="batch", epochs=300, ensemble=6,
                                                  seeds=list(range(6)), stop={"within": 0.4}),
    "early stopping on a validation set": dict(learning_rate=0.9, momentum=0.9, shuffle=True, epochs=400,
                                               validation=(XOR_X, XOR_T * 0.6 + 0.2),   # stops at 119
                                               stop={"early_stopping": {"patience": 25}}),
}


def straight_and_resumed(options, k, tmp_path):
    """The straight run, and one interrupted at epoch k, saved, loaded into a fresh run and finished."""
    straight = TrainingRun(net_of(), XOR_X, XOR_T, **options).run()
    job = TrainingRun(net_of(), XOR_X, XOR_T, callbacks=[interrupt_at(k)], **options)
    with pytest.raises(TrainingInterrupted) as caught:
        job.run()
    assert caught.value.epoch == k == job.epoch
    path = save_checkpoint(tmp_path / f"at{k}.npz", job)
    resumed = TrainingRun(net_of(), XOR_X, XOR_T, **options)
    resumed.load_state_dict(load_checkpoint(path).state)
    assert resumed.epoch == k
    return straight, resumed.run()


def assert_same_run(a, b):
    assert np.array_equal(a.history(), b.history(), equal_nan=True)
    assert np.array_equal(a.trainer.plan.theta, b.trainer.plan.theta)
    assert len(a.trainer.validation_history) == len(b.trainer.validation_history)
    for x, y in zip(a.trainer.validation_history, b.trainer.validation_history):
        assert np.array_equal(x, y, equal_nan=True)
    assert (a.epoch, a.stopped) == (b.epoch, b.stopped)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_an_interrupted_run_resumes_bit_for_bit(name, tmp_path):
    options = CONFIGS[name]
    straight = TrainingRun(net_of(), XOR_X, XOR_T, **options).run()
    if "early_stopping" in str(options.get("stop")):
        assert straight.stopped and straight.epoch < options["epochs"]      # it did stop early
    for k in epochs_to_interrupt(straight.epoch):
        a, b = straight_and_resumed(options, k, tmp_path)
        assert_same_run(a, b)
        if "ensemble" in options:
            ra, rb = a.result(), b.result()
            assert np.array_equal(ra.theta, rb.theta) and np.array_equal(ra.epochs, rb.epochs)
            assert np.array_equal(ra.converged, rb.converged) and ra.summary() == rb.summary()


def test_a_run_paused_with_until_saves_and_resumes_bit_for_bit(tmp_path):
    options = CONFIGS["sgd momentum 0.9, shuffled, online"]
    straight = TrainingRun(net_of(), XOR_X, XOR_T, **options).run()
    job = TrainingRun(net_of(), XOR_X, XOR_T, **options).run(until=123)
    resumed = TrainingRun(net_of(), XOR_X, XOR_T, **options)
    resumed.load_state_dict(load_checkpoint(save_checkpoint(tmp_path / "c.npz", job)).state)
    assert_same_run(straight, resumed.run())
    assert resumed.network.weights() == straight.network.weights()      # the network reads the loaded weights


def test_resuming_from_the_weights_alone_differs(tmp_path):
    """What the checkpoint adds matters: with the momentum and the order stream lost, the run differs."""
    options = CONFIGS["sgd momentum 0.9, shuffled, online"]
    straight = TrainingRun(net_of(), XOR_X, XOR_T, **options).run()
    half = TrainingRun(net_of(), XOR_X, XOR_T, **options).run(until=150)
    by_hand = TrainingRun(net_of(), XOR_X, XOR_T, **{**options, "epochs": 150})
    by_hand.trainer.plan.theta[...] = half.trainer.plan.theta
    by_hand.run()
    assert np.max(np.abs(by_hand.trainer.plan.theta - straight.trainer.plan.theta)) > 1e-3


def test_early_stopping_state_round_trips_with_its_arrays():
    options = CONFIGS["early stopping on a validation set"]
    job = TrainingRun(net_of(), XOR_X, XOR_T, **options).run(until=60)
    [rule] = job.trainer.rules
    state = rule.state_dict()
    fresh = TrainingRun(net_of(), XOR_X, XOR_T, **options)
    [other] = fresh.trainer.rules
    other.load_state_dict(state)
    assert np.array_equal(other._best, rule._best) and np.array_equal(other._waited, rule._waited)
    assert np.array_equal(other._theta, rule._theta) and other._theta is not rule._theta
    rule._theta[:] = 0.0                                   # a copy: the loaded one is untouched
    assert not np.array_equal(other._theta, rule._theta)
    with pytest.raises(DataError, match="the saved stop criterion state belongs to 'early_stopping', not to "
                                        "'within'"):
        neurosim.StopCriterion(within=0.4).rules[0].load_state_dict(state)


def test_a_checkpoint_holds_no_pickles(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", TrainingRun(net_of(), XOR_X, XOR_T,
                                                           **CONFIGS["rprop irprop+, batch"]).run(until=10))
    with np.load(path, allow_pickle=False) as npz:          # every entry loads without unpickling
        assert all(not npz[name].dtype.hasobject for name in npz.files)
    with np.load(path) as npz:
        entries = dict(npz)
    with_pickle = tmp_path / "pickled.npz"
    np.savez(with_pickle, **entries, x=np.array([object()]))           # a valid checkpoint, plus a pickle
    with pytest.raises(FileError, match="cannot be read as a neurosim checkpoint: it is truncated or corrupt"):
        load_checkpoint(with_pickle)


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    options = CONFIGS["sgd momentum 0.9, shuffled, online"]
    path = save_checkpoint(tmp_path / "c.npz", TrainingRun(net_of(hidden=2), XOR_X, XOR_T, **options).run(until=5))
    with pytest.raises(DataError, match="the saved training state holds 9 parameters, but this network has 13; it "
                                        "was saved from another network"):
        TrainingRun(net_of(hidden=3), XOR_X, XOR_T, **options).load_state_dict(load_checkpoint(path).state)
    with pytest.raises(DataError, match="the saved training state shuffled the patterns and this run does not"):
        TrainingRun(net_of(hidden=2), XOR_X, XOR_T, **{**options, "shuffle": False}).load_state_dict(
            load_checkpoint(path).state)


def test_a_checkpoint_of_other_data_is_refused(tmp_path):
    options = CONFIGS["sgd momentum 0.9, shuffled, online"]
    state = load_checkpoint(save_checkpoint(tmp_path / "c.npz", TrainingRun(net_of(), XOR_X, XOR_T, **options)
                                            .run(until=5))).state
    assert state["data"]["patterns"] == 4
    for X, T, what in ((np.vstack([XOR_X, XOR_X]), np.vstack([XOR_T, XOR_T]), "8 patterns"),
                       (XOR_X, 1.0 - XOR_T, "4 patterns")):          # as many patterns, other targets
        with pytest.raises(DataError, match=f"was trained on 4 patterns with digest .*, this run's data are {what}"):
            TrainingRun(net_of(), X, T, **options).load_state_dict(state)


def test_a_refused_state_changes_nothing(tmp_path):
    options = CONFIGS["sgd momentum 0.9, shuffled, online"]
    state = dict(load_checkpoint(save_checkpoint(tmp_path / "c.npz", TrainingRun(net_of(), XOR_X, XOR_T, **options)
                                                 .run(until=20))).state)
    fresh = TrainingRun(net_of(), XOR_X, XOR_T, **options).run(until=3)
    before = fresh.state_dict()
    for broken in ({"history": np.zeros(5)}, {"mask": np.ones(2, bool)},
                   {"optimizer": {**state["optimizer"], "name": "adam"}}):
        with pytest.raises(DataError):
            fresh.load_state_dict({**state, **broken})
        after = fresh.state_dict()
        assert np.array_equal(after["theta"], before["theta"]) and after["epoch"] == 3
        assert after["shuffle"] == before["shuffle"] and np.array_equal(after["history"], before["history"])
        assert json.dumps(after["optimizer"], default=lambda a: np.asarray(a).tolist()) == \
            json.dumps(before["optimizer"], default=lambda a: np.asarray(a).tolist())
    # and it then goes on exactly as the same run never offered the broken states
    twin = TrainingRun(net_of(), XOR_X, XOR_T, **options).run(until=3)
    assert np.array_equal(fresh.run().history(), twin.run().history())


def test_a_state_left_half_done_by_an_error_is_not_saved(tmp_path):
    def crash(progress):
        if progress.epoch == 7:
            raise RuntimeError("boom")
    job = TrainingRun(net_of(), XOR_X, XOR_T, callbacks=[crash], **CONFIGS["sgd momentum 0.9, shuffled, online"])
    with pytest.raises(RuntimeError):
        job.run()
    with pytest.raises(DataError, match="training stopped in the middle of an epoch"):
        save_checkpoint(tmp_path / "c.npz", job)
    assert not (tmp_path / "c.npz").exists()


def test_broken_checkpoint_files_are_refused_naming_the_file(tmp_path):
    good = save_checkpoint(tmp_path / "good.npz", TrainingRun(net_of(), XOR_X, XOR_T, epochs=3).run(until=2))
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[:300])
    (tmp_path / "garbage.npz").write_text("not a checkpoint\n")
    for name, problem in (("truncated.npz", "cannot be read as a neurosim checkpoint: it is truncated or corrupt"),
                          ("garbage.npz", "is not a neurosim checkpoint (not an .npz file"),
                          ("missing.npz", "no such file")):
        with pytest.raises(FileError) as caught:
            load_checkpoint(tmp_path / name)
        assert str(caught.value).startswith(f"{tmp_path / name}: {problem}"), caught.value


def test_a_checkpoint_of_another_version_or_format_is_refused(tmp_path, monkeypatch):
    job = TrainingRun(net_of(), XOR_X, XOR_T, epochs=3).run(until=2)
    monkeypatch.setattr(checkpoints, "__version__", "0.0.1")
    old = save_checkpoint(tmp_path / "old.npz", job)
    monkeypatch.undo()
    with pytest.raises(FileError, match=re.escape(f"{old}: was written by neurosim 0.0.1, and this is neurosim "
                                                  f"{neurosim.__version__}: a run continued by another version")):
        load_checkpoint(old)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_VERSION", 2)
    future = save_checkpoint(tmp_path / "future.npz", job)
    monkeypatch.undo()
    with pytest.raises(FileError, match=re.escape(f"{future}: is a checkpoint of format version 2; this neurosim "
                                                  f"({neurosim.__version__}) reads version 1 only")):
        load_checkpoint(future)


# --- scenarios ---------------------------------------------------------------------------------

#: The 2-2-1 XOR network and data of tests/data/xor_221.toml.
XOR_221 = (Path(__file__).parent / "data" / "xor_221.toml").read_text()

#: XOR online with momentum and shuffling, both rates scheduled, and expectations measured
#: after epochs 50 and 200 as well as at the end.
SCENARIO = """\
[scenario]
name = "xor-ckpt"
seed = 11

""" + XOR_221.replace('name = "h"\nsize = 2', 'name = "h"\nsize = 3') + """
[training]
learning_rate = 0.5
learning_rate_schedule = [[0, 0.3], [80, 0.6]]
momentum_schedule = [[0, 0.5], [40, 0.9]]
shuffle = true
epochs = 300

[[expect]]
quantity = "error"
after = 50
below = 10

[[expect]]
quantity = "weight"
edge = "h1 -> o1"
after = 200
above = -100

[[expect]]
quantity = "error"
below = 10
"""

ENSEMBLE = """\
[scenario]
name = "xor-ensemble"
seed = 2

""" + XOR_221 + """
[training]
mode = "batch"
epochs = 250
ensemble = 5

[training.optimizer]
name = "rprop"
variant = "irprop+"

[training.stop]
within = 0.4

[[expect]]
quantity = "success_rate"
above = 0.1
"""


def write(tmp_path, text, name="xor.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_same_result(a, b):
    assert np.array_equal(a.history, b.history)
    assert [(c[0].index, c[1], c[2], c[3]) for c in a.checks] == [(c[0].index, c[1], c[2], c[3]) for c in b.checks]
    assert a.stopped_early == b.stopped_early
    if a.ensemble is not None:
        assert np.array_equal(a.ensemble.theta, b.ensemble.theta)
        assert np.array_equal(a.ensemble.history, b.ensemble.history, equal_nan=True)
        assert a.ensemble.summary() == b.ensemble.summary()
    else:
        assert a.network.weights() == b.network.weights()
    assert a.metrics() == b.metrics()


def test_a_scenario_with_after_expectations_and_schedules_resumes_bit_for_bit(tmp_path):
    path = write(tmp_path, SCENARIO)
    straight = run_scenario(path)
    assert [c[0].after for c in straight.checks] == [50, 200, None]
    for k in sorted({50, 200, *epochs_to_interrupt(300, 4)}):      # at an `after` epoch too
        folder = tmp_path / f"at{k}"
        with pytest.raises(TrainingInterrupted) as caught:
            run_scenario(path, callbacks=[interrupt_at(k)], checkpoint_dir=folder)
        assert (caught.value.epoch, caught.value.checkpoint) == (k, folder / "checkpoint.npz")
        saved = load_checkpoint(folder)
        assert saved.epoch == k and [c[0] for c in saved.info["checks"]] == [i for i, a in ((0, 50), (1, 200))
                                                                            if a < k]
        assert_same_result(straight, run_scenario(path, resume=folder))


def test_checkpoint_every_saves_at_its_epochs_and_a_crash_resumes_from_the_last(tmp_path):
    path = write(tmp_path, SCENARIO)
    straight = run_scenario(path)
    kept = run_scenario(path, checkpoint_every=60, checkpoint_dir=tmp_path / "every")
    assert_same_result(straight, kept)                   # pausing to save changes nothing
    assert load_checkpoint(tmp_path / "every").epoch == 240      # the last multiple of 60 before the end

    def crash(progress):
        if progress.epoch == 150:
            raise RuntimeError("power cut")
    with pytest.raises(RuntimeError):
        run_scenario(path, callbacks=[crash], checkpoint_every=60, checkpoint_dir=tmp_path / "crash")
    assert load_checkpoint(tmp_path / "crash").epoch == 120
    resumed = run_scenario(path, resume=tmp_path / "crash")
    assert_same_result(straight, resumed)
    assert load_checkpoint(tmp_path / "crash").epoch == 240      # it went on saving every 60 epochs


def test_a_scenario_ensemble_resumes_bit_for_bit(tmp_path):
    path = write(tmp_path, ENSEMBLE)
    straight = run_scenario(path)
    assert 0 < straight.ensemble.summary()["success_rate"] < 1       # some members stop, others train on
    for k in epochs_to_interrupt(len(straight.ensemble.history)):
        with pytest.raises(TrainingInterrupted):
            run_scenario(path, callbacks=[interrupt_at(k)], checkpoint_dir=tmp_path / f"at{k}")
        assert_same_result(straight, run_scenario(path, resume=tmp_path / f"at{k}"))


def test_a_scenario_that_draws_its_seed_resumes_with_the_checkpoints(tmp_path):
    path = write(tmp_path, SCENARIO.replace("seed = 11\n", ""))
    with pytest.raises(TrainingInterrupted):
        run_scenario(path, callbacks=[interrupt_at(77)], checkpoint_dir=tmp_path / "c")
    seed = load_checkpoint(tmp_path / "c").info["scenario"]["seed"]
    assert_same_result(run_scenario(path, seed=seed), run_scenario(path, resume=tmp_path / "c"))


def test_a_checkpoint_of_another_scenario_is_refused_saying_which(tmp_path):
    path = write(tmp_path, SCENARIO)
    with pytest.raises(TrainingInterrupted):
        run_scenario(path, callbacks=[interrupt_at(30)], checkpoint_dir=tmp_path / "c")
    with pytest.raises(ScenarioError) as caught:
        run_scenario(path, {"training.learning_rate": 0.4}, resume=tmp_path / "c")
    assert str(caught.value) == (
        f"--resume: {tmp_path / 'c' / 'checkpoint.npz'}: was made from another scenario: 'xor-ckpt' ({path}, seed "
        f"11), not this run of {path} (training.learning_rate is 0.5 there, 0.4 here); resume with the scenario and "
        "overrides it was made with (neurosim run: the same --set and --seed), or start it afresh")
    other = write(tmp_path, ENSEMBLE, "ensemble.toml")
    with pytest.raises(ScenarioError, match=r"was made from another scenario: 'xor-ckpt' .*data\.dataset is absent"
                                            r"|was made from another scenario: 'xor-ckpt'"):
        run_scenario(other, resume=tmp_path / "c")


def test_a_changed_data_file_is_another_scenario(tmp_path):
    (tmp_path / "xor.csv").write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    path = write(tmp_path, SCENARIO.replace('dataset = "xor"', 'file = "xor.csv"\ntarget_columns = ["y"]'))
    with pytest.raises(TrainingInterrupted):
        run_scenario(path, callbacks=[interrupt_at(30)], checkpoint_dir=tmp_path / "c")
    (tmp_path / "xor.csv").write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,1\n")
    with pytest.raises(ScenarioError, match=r"was made from another scenario: .*\(the same keys, but the data they "
                                            r"read differ\)"):
        run_scenario(path, resume=tmp_path / "c")


# --- neurosim run --checkpoint-every / --resume -------------------------------------------------


def interrupting_cli(monkeypatch, k):
    """Make ``neurosim run`` train with a callback that does what Ctrl-C does at epoch k."""
    real = neurosim.cli.run_scenario

    def run(scenario, **kw):
        return real(scenario, **{**kw, "callbacks": [*kw.get("callbacks", []), interrupt_at(k)]})
    monkeypatch.setattr(neurosim.cli, "run_scenario", run)


def results(folder):
    """The files of a results folder, summary.json without its wall time."""
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    summary = json.loads(files.pop("summary.json"))
    del summary["wall_time_seconds"]
    return files, summary


def test_checkpoint_every_and_resume_end_to_end(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, SCENARIO)
    assert main(["run", str(path), "--out", str(tmp_path / "straight"), "--progress", "none"]) == 0
    straight_out = capsys.readouterr().out
    folder = tmp_path / "res"
    interrupting_cli(monkeypatch, 130)
    assert main(["run", str(path), "--out", str(folder), "--checkpoint-every", "40"]) == 130
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"neurosim: interrupted while training {path}; the checkpoint of epoch 130 is kept in "
                   f"{folder / 'checkpoint.npz'}; resume with: neurosim run {path} --resume {folder}\n")
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.npz"]
    monkeypatch.undo()
    assert main(["run", str(path), "--resume", str(folder), "--progress", "none"]) == 0
    out, err = capsys.readouterr()
    assert out == straight_out.replace(str(tmp_path / "straight"), str(folder)) and err == ""
    assert results(folder) == results(tmp_path / "straight")       # and the checkpoint is gone
    refused = main(["run", str(path), "--resume", str(folder)])
    assert refused == 2
    assert capsys.readouterr().err == (f"error: --resume: {folder}: holds no checkpoint.npz (its run finished: the "
                                       "results are there); give the folder a run with --checkpoint-every (or "
                                       "checkpoint_dir) saved its checkpoint in\n")


def test_checkpoint_every_without_interruption_leaves_the_same_results(tmp_path, capsys):
    path = write(tmp_path, SCENARIO)
    assert main(["run", "-q", str(path), "--out", str(tmp_path / "a")]) == 0
    assert main(["run", "-q", str(path), "--out", str(tmp_path / "b"), "--checkpoint-every", "7"]) == 0
    assert results(tmp_path / "a") == results(tmp_path / "b")
    assert "checkpoint.npz" not in os.listdir(tmp_path / "b")


def test_resume_keeps_the_set_and_seed_it_is_given(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, SCENARIO)
    interrupting_cli(monkeypatch, 90)
    argv = ["run", str(path), "--set", "training.epochs=200", "--seed", "4"]
    assert main([*argv, "--out", str(tmp_path / "c"), "--checkpoint-every", "50"]) == 130
    assert f"resume with: neurosim run {path} --set training.epochs=200 --seed 4 --resume {tmp_path / 'c'}\n" in \
        capsys.readouterr().err
    monkeypatch.undo()
    assert main(["run", str(path), "--resume", str(tmp_path / "c")]) == 2          # without them: another run
    assert "(scenario.seed is 4 there, 11 here; training.epochs is 200 there, 300 here)" in capsys.readouterr().err
    assert main([*argv, "-q", "--resume", str(tmp_path / "c")]) == 0
    assert main([*argv, "-q", "--out", str(tmp_path / "straight")]) == 0
    assert results(tmp_path / "c") == results(tmp_path / "straight")


def refused(argv, capsys, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"error: {message}\n", err


def test_resume_refusals_from_the_command_line(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, SCENARIO)
    folder = tmp_path / "c"
    monkeypatch.setattr(checkpoints, "__version__", "0.0.1")
    interrupting_cli(monkeypatch, 20)
    assert main(["run", str(path), "--out", str(folder), "--checkpoint-every", "10"]) == 130
    monkeypatch.undo()
    capsys.readouterr()
    ckpt = folder / "checkpoint.npz"
    refused(["run", str(path), "--resume", str(folder)], capsys,
            f"--resume: {ckpt}: was written by neurosim 0.0.1, and this is neurosim {neurosim.__version__}: a run "
            "continued by another version would not be the run it began; finish it with neurosim 0.0.1, or start it "
            "afresh")
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    refused(["run", str(path), "--resume", str(folder)], capsys,
            f"--resume: {ckpt}: cannot be read as a neurosim checkpoint: it is truncated or corrupt (BadZipFile: File "
            "is not a zip file); start the run afresh")
    interrupting_cli(monkeypatch, 20)
    assert main(["run", str(path), "--out", str(tmp_path / "d"), "--checkpoint-every", "10"]) == 130
    capsys.readouterr()
    monkeypatch.undo()
    refused(["run", str(path), "--set", "training.momentum_schedule=[]", "--resume", str(tmp_path / "d")], capsys,
            f"--resume: {tmp_path / 'd' / 'checkpoint.npz'}: was made from another scenario: 'xor-ckpt' ({path}, seed "
            f"11), not this run of {path} (training.momentum_schedule is [[0, 0.5], [40, 0.9]] there, [] here); resume "
            "with the scenario and overrides it was made with (neurosim run: the same --set and --seed), or start it "
            "afresh")
    refused(["run", str(path), "--resume", str(tmp_path / "nowhere")], capsys,
            f"--resume: {tmp_path / 'nowhere'}: no such folder or checkpoint file; give the folder a run with "
            "--checkpoint-every (or checkpoint_dir) saved its checkpoint in")
    refused(["run", str(path), "--checkpoint-every", "5"], capsys,
            "--checkpoint-every: 5: saves checkpoints into the results folder; give --out DIR")
    refused(["run", str(path), "--resume", str(tmp_path / "d"), "--out", str(tmp_path / "e")], capsys,
            f"--out: {tmp_path / 'e'}: cannot go with --resume, which writes the results into the folder of its "
            f"checkpoint ({tmp_path / 'd'}); leave --out out")
    assert not (tmp_path / "e").exists()


@posix
def test_a_real_ctrl_c_keeps_a_checkpoint_that_resumes_bit_for_bit(tmp_path):
    path = write(tmp_path, SCENARIO.replace("epochs = 300", f"epochs = {10**9}"))
    folder = tmp_path / "res"
    proc = subprocess.Popen([sys.executable, "-m", "neurosim", "run", str(path), "--out", str(folder),
                             "--checkpoint-every", "100"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    end = time.monotonic() + 120
    while not (folder / "checkpoint.npz").exists():
        assert proc.poll() is None and time.monotonic() < end, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and out == "", (proc.returncode, out, err)
    last = err.splitlines()[-1]
    match = re.fullmatch(rf"neurosim: interrupted while training {re.escape(str(path))}; the checkpoint of epoch "
                         rf"(\d+) is kept in {re.escape(str(folder / 'checkpoint.npz'))}; resume with: neurosim run "
                         rf"{re.escape(str(path))} --resume {re.escape(str(folder))}", last)
    assert match, err
    epoch = int(match.group(1))
    assert load_checkpoint(folder).epoch == epoch >= 100

    def stop_at(progress):
        return progress.epoch >= epoch + 25
    straight = run_scenario(path, callbacks=[stop_at])
    assert_same_result(straight, run_scenario(path, callbacks=[stop_at], resume=folder))
