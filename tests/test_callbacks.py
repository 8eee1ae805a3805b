"""Callbacks and the training lifecycle hooks. ``net.train(callbacks=[f])`` calls ``f`` with a :class:`neurosim.Progress` after every epoch, in every mode and for ensembles, whose epoch numbers, errors, validation errors and outputs are those of the returned learning curve and the network's weights; a callback that returns True (a numpy True too) or calls ``progress.request_stop()`` ends training after that epoch, with the weights of that epoch. A plugin implementing ``neurosim_train_start``, ``neurosim_epoch_end`` and ``neurosim_train_end`` (a plugin object on a registry, as in tests/test_plugins.py) sees the start once, every epoch's end and the end once, per call of ``train``, and can stop training; and what is not a callback is refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurosim
from neurosim import DataError

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_T = np.array([[0], [1], [1], [0]], dtype=float)



class Recorder:
    """A callback keeping what each Progress said."""

    def __init__(self, stop_at=None, how="return"):
        self.seen: list = []
        self.stop_at, self.how = stop_at, how

    def __call__(self, p):
        self.seen.append({"epoch": p.epoch, "epochs": p.epochs, "error": np.copy(p.error), "theta": p.theta.copy(),
                          "outputs": p.outputs(), "validation": p.validation_error, "targets": p.targets,
                          "active": None if p.active is None else p.active.copy(), "members": p.members})
        if p.epoch == self.stop_at:
            if self.how == "request":
                p.request_stop()
                return None
            return True if self.how == "return" else np.True_
        return None


@pytest.mark.parametrize("mode, batch_size", [("batch", None), ("online", None), ("minibatch", 3)])
def test_a_callback_sees_every_epoch_of_the_learning_curve(mode, batch_size, xor_net):
    f = Recorder()
    net = xor_net()
    history = net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=7, mode=mode, batch_size=batch_size,
                        callbacks=[f], validation=(XOR_X[:3], XOR_T[:3]))
    assert [s["epoch"] for s in f.seen] == [1, 2, 3, 4, 5, 6, 7]
    assert all(s["epochs"] == 7 and s["members"] is None and s["active"] is None for s in f.seen)
    assert np.array_equal([float(s["error"]) for s in f.seen], history)          # the same numbers, exactly
    assert all(s["targets"] is not None and np.array_equal(s["targets"], XOR_T) for s in f.seen)
    # the last epoch's outputs and validation error are those of the trained network
    np.testing.assert_allclose(f.seen[-1]["outputs"], net.forward(XOR_X), rtol=1e-15)
    assert f.seen[-1]["validation"] == pytest.approx(net.error(XOR_X[:3], XOR_T[:3]), rel=1e-15)
    assert np.array_equal(f.seen[-1]["theta"], net.compile().theta)
    # each epoch's weights are those of a run of that many epochs
    for k in (1, 4):
        again = xor_net()
        again.train(XOR_X, XOR_T, learning_rate=0.5, epochs=k, mode=mode, batch_size=batch_size)
        assert np.array_equal(again.compile().theta, f.seen[k - 1]["theta"])


@pytest.mark.parametrize("how", ["return", "numpy", "request"])
@pytest.mark.parametrize("mode", ["batch", "online"])
def test_a_callback_stops_training_after_its_epoch(how, mode, xor_net):
    f = Recorder(stop_at=3, how=how)
    net = xor_net()
    history = net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=50, mode=mode, callbacks=[f])
    assert len(history) == 3 and [s["epoch"] for s in f.seen] == [1, 2, 3]
    three = xor_net()
    assert np.array_equal(three.train(XOR_X, XOR_T, learning_rate=0.5, epochs=3, mode=mode), history)
    assert np.array_equal(net.compile().theta, three.compile().theta)          # no step after the third


def test_other_return_values_do_not_stop_training(xor_net):
    for value in (None, False, 1, "stop", np.False_, [True]):
        history = xor_net().train(XOR_X, XOR_T, epochs=5, mode="batch", callbacks=[lambda p, v=value: v])
        assert len(history) == 5, value


def test_a_callback_stops_at_a_condition_on_the_error(xor_net):
    # `progress.error < bound` is a numpy bool: it stops training too
    full = xor_net().train(XOR_X, XOR_T, learning_rate=2.0, epochs=300, mode="batch")
    bound = float(full[100])
    first = int(np.argmax(full < bound))
    history = xor_net().train(XOR_X, XOR_T, learning_rate=2.0, epochs=300, mode="batch",
                              callbacks=[lambda p: p.error < bound])
    assert len(history) == first + 1


def test_every_callback_is_asked_and_stop_criteria_first(xor_net):
    a, b = Recorder(), Recorder(stop_at=4)
    history = xor_net().train(XOR_X, XOR_T, epochs=20, mode="batch", callbacks=[a, b])
    assert len(history) == 4 and len(a.seen) == len(b.seen) == 4
    # a stop criterion ends the run at an epoch the callbacks still see
    full = xor_net().train(XOR_X, XOR_T, learning_rate=2.0, epochs=300, mode="batch")
    c = Recorder()
    stopped = xor_net().train(XOR_X, XOR_T, learning_rate=2.0, epochs=300, mode="batch", callbacks=[c],
                              stop={"error_below": float(full[99])})
    assert c.seen[-1]["epoch"] == len(stopped) and float(c.seen[-1]["error"]) < float(full[99])


def test_ensemble_callbacks_see_every_member(xor_net):
    f = Recorder()
    result = xor_net(0).train(XOR_X, XOR_T, learning_rate=2.0, epochs=300, mode="batch", ensemble=3, callbacks=[f],
                              stop={"error_below": 0.45})
    assert result.epochs.tolist() == [289, 300, 129]           # two stop, at different epochs
    assert [s["epoch"] for s in f.seen] == list(range(1, len(result.history) + 1))
    assert all(s["members"] == 3 and s["error"].shape == (3,) for s in f.seen)
    errors = np.array([s["error"] for s in f.seen])
    active = np.array([s["active"] for s in f.seen])
    # while a member trains, its error is its learning curve's; once it stopped, it is frozen
    np.testing.assert_array_equal(np.where(np.isnan(result.history), errors, result.history), errors)
    assert (~active).any() and active[0].all()
    for k in range(3):
        # active tells who trained into this epoch: a member that stopped after epoch n is
        # inactive from epoch n + 1 on, and keeps epoch n's error
        stopped = ~active[:, k]
        if stopped.any():
            n = int(np.argmax(stopped))
            assert n == result.epochs[k] and stopped[n:].all()
            assert np.all(errors[n - 1:, k] == errors[n - 1, k])
        else:
            assert result.epochs[k] == 300


def test_request_stop_ends_every_member(xor_net):
    f = Recorder(stop_at=2, how="request")
    result = xor_net().train(XOR_X, XOR_T, epochs=30, mode="batch", ensemble=3, callbacks=[f])
    assert result.epochs.tolist() == [2, 2, 2]


def test_what_is_not_a_callback_is_refused(refused, xor_net):
    refused(DataError, ("callbacks[1]", "must be a function callback(progress)"),
            xor_net().train, XOR_X, XOR_T, callbacks=[Recorder(), 5])
    refused(DataError, ("callbacks must be a list",), xor_net().train, XOR_X, XOR_T, callbacks=Recorder())
    refused(DataError, ("callbacks must be a list",), xor_net().train, XOR_X, XOR_T, callbacks="f")


# --- lifecycle hooks -------------------------------------------------------------------------------


class LifecyclePlugin:
    """Implements the three training hooks; records them, and can stop training."""

    def __init__(self, stop_at=None):
        self.calls: list = []
        self.stop_at = stop_at

    @neurosim.hookimpl
    def neurosim_train_start(self, progress):
        self.calls.append(("start", progress.epoch, float(np.max(progress.error)), progress.outputs().shape))

    @neurosim.hookimpl
    def neurosim_epoch_end(self, progress):
        self.calls.append(("epoch", progress.epoch, np.copy(progress.error)))
        if progress.epoch == self.stop_at:
            progress.request_stop()

    @neurosim.hookimpl
    def neurosim_train_end(self, progress):
        self.calls.append(("end", progress.epoch, np.copy(progress.error), progress.outputs()))


def test_a_plugin_sees_start_once_every_epoch_and_end_once(xor_net):
    plugin = LifecyclePlugin()
    registry = neurosim.make_registry([plugin])
    net = xor_net(registry=registry)
    history = net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=6, mode="batch")
    kinds = [c[0] for c in plugin.calls]
    assert kinds == ["start"] + ["epoch"] * 6 + ["end"]
    start, *epochs, end = plugin.calls
    assert start[1] == 0 and np.isnan(start[2]) and start[3] == (4, 1)     # no error yet; outputs can be had
    assert [c[1] for c in epochs] == [1, 2, 3, 4, 5, 6]
    assert np.array_equal([float(c[2]) for c in epochs], history)
    assert end[1] == 6 and float(end[2]) == history[-1]
    # each call of train starts and ends once more
    net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=2, mode="online")
    assert [c[0] for c in plugin.calls[8:]] == ["start", "epoch", "epoch", "end"]


@pytest.mark.parametrize("mode", ["batch", "online"])
@pytest.mark.parametrize("rows", [slice(0, 3), slice(None, None, -1)])
def test_the_end_hook_sees_the_training_outputs_after_a_validation_pass(mode, rows, xor_net):
    # the validation set is measured after every epoch, the last one included; the end
    # still reports the training set's outputs (3 validation rows, or 4 in another order)
    plugin = LifecyclePlugin()
    net = xor_net(plugins=[plugin])
    net.train(XOR_X, XOR_T, learning_rate=0.5, epochs=3, mode=mode, validation=(XOR_X[rows], XOR_T[rows]))
    end = plugin.calls[-1]
    assert end[0] == "end"
    np.testing.assert_array_equal(end[3], net.forward(XOR_X))


def test_a_plugin_can_stop_training(xor_net):
    plugin = LifecyclePlugin(stop_at=3)
    net = xor_net(plugins=[plugin])
    history = net.train(XOR_X, XOR_T, epochs=40, mode="batch")
    assert len(history) == 3
    assert [c[0] for c in plugin.calls] == ["start", "epoch", "epoch", "epoch", "end"]
    assert plugin.calls[-1][1] == 3
    # an ensemble too: every member stops, and the hooks see every member's error
    plugin = LifecyclePlugin(stop_at=2)
    result = xor_net(plugins=[plugin]).train(XOR_X, XOR_T, epochs=40, mode="batch", ensemble=2)
    assert result.epochs.tolist() == [2, 2]
    assert plugin.calls[1][2].shape == (2,) and plugin.calls[-1][0] == "end"


def test_without_a_plugin_implementing_them_the_hooks_are_not_called():
    # the built-in plugins implement none of them: the trainer does not ask the hooks
    from neurosim.training.loop import _implemented

    assert not _implemented(neurosim.default_registry().manager.hook)
    assert _implemented(neurosim.make_registry([LifecyclePlugin()]).manager.hook)
