"""Input and target scaling: :class:`neurosim.Scaling`, ``net.scaling`` and ``net.predict``, the
``"scaling"`` entry of ``network.json``, and a scenario's ``data.scale``.

Every number is worked out by hand from the patterns written here: the training set's
means, standard deviations, minima and ranges, the test set scaled with the training set's
statistics (never its own), a constant column shifted to 0 instead of divided by zero, and
a network's prediction through its scaling. A network keeps its scaling through
``to_dict``/``from_dict`` (JSON included), pickling and ensembles; a reader ignores
entries it does not know; and bad scaling values are refused naming the file and key.
"""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import pytest

import neurosim
from neurosim import DataError, Scaling, ScenarioError

#: Training patterns: x1 = 1, 3, 5 (mean 3, standard deviation √(8/3), range 4), x2 constant
#: 10, t = 2, 4, 9 (mean 5, standard deviation √(26/3), range 7).
X = [[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]]
T = [[2.0], [4.0], [9.0]]
#: Test pattern, scaled with the training statistics above.
X_TEST, T_TEST = [[7.0, 11.0]], [[16.0]]


# --- fitting and applying ------------------------------------------------------------------


def test_standard_scaling_uses_the_training_mean_and_deviation():
    s = Scaling.fit(X, T, inputs="standard", targets="standard")
    assert s.input_offset.tolist() == [3.0, 10.0] and s.target_offset.tolist() == [5.0]
    assert s.input_scale.tolist() == pytest.approx([math.sqrt(8 / 3), 1.0])      # x2 constant: scale 1
    assert s.target_scale.tolist() == pytest.approx([math.sqrt(26 / 3)])
    # training column x1 becomes -√(3/2), 0, √(3/2); x2 becomes 0
    np.testing.assert_allclose(s.scale_inputs(X), [[-math.sqrt(1.5), 0], [0, 0], [math.sqrt(1.5), 0]], atol=1e-15)
    # the test pattern with the training statistics: (7 - 3) / √(8/3) = √6, (11 - 10) / 1 = 1
    np.testing.assert_allclose(s.scale_inputs(X_TEST), [[math.sqrt(6), 1.0]], rtol=1e-15)
    np.testing.assert_allclose(s.scale_targets(T_TEST), [[11 / math.sqrt(26 / 3)]], rtol=1e-15)
    np.testing.assert_allclose(s.unscale_targets(s.scale_targets(T_TEST)), T_TEST, rtol=1e-15)


def test_minmax_scaling_maps_the_training_range_onto_0_1():
    s = Scaling.fit(X, T, inputs="minmax", targets="minmax")
    assert s.input_offset.tolist() == [1.0, 10.0] and s.input_scale.tolist() == [4.0, 1.0]
    assert s.target_offset.tolist() == [2.0] and s.target_scale.tolist() == [7.0]
    assert s.scale_inputs(X).tolist() == [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]]
    assert s.scale_inputs(X_TEST).tolist() == [[1.5, 1.0]]     # outside [0, 1]: the test set's own range is not used
    assert s.scale_targets(T_TEST).tolist() == [[2.0]]
    assert s.unscale_targets([[0.5]]).tolist() == [[5.5]]


def test_a_side_left_alone_is_returned_unchanged():
    s = Scaling.fit(X, T, inputs="standard")
    assert s.targets is None and s.target_offset.tolist() == [0.0] and s.target_scale.tolist() == [1.0]
    Y = np.array([[0.1], [0.2]])
    assert s.unscale_targets(Y) is Y and s.scale_targets(T).tolist() == T
    assert s.describe() == "inputs standard, targets not scaled"


def test_a_constant_column_is_shifted_to_zero_not_divided_by_zero():
    # 0.1 three times: its computed deviation is rounding (or 0), not a spread
    X = [[0.1, 0.0, 2.0], [0.1, 0.0, 4.0], [0.1, 0.0, 6.0]]
    for method in ("standard", "minmax"):
        s = Scaling.fit(X, [[1.0], [1.0], [1.0]], inputs=method, targets=method)
        assert s.input_scale[:2].tolist() == [1.0, 1.0] and s.target_scale.tolist() == [1.0]
        scaled = s.scale_inputs(X)
        assert np.all(np.abs(scaled[:, :2]) < 1e-15)
        assert s.scale_targets([[1.0], [3.0]]).tolist() == [[0.0], [2.0]]     # only shifted, by the training value


@pytest.mark.parametrize("call, fragments", [
    (lambda: Scaling.fit(X, T, inputs="z"), ("unknown scaling 'z' for the inputs", "standard, minmax")),
    (lambda: Scaling.fit([[1e308], [-1e308]], [[0.0], [1.0]], inputs="minmax"),
     ("inputs' column 0 is too spread out", "range overflows")),
    (lambda: Scaling.fit([[np.nan]], [[0.0]], inputs="standard"), ("finite",)),
])
def test_fit_refuses_what_it_cannot_scale(refused, call, fragments):
    refused(DataError, fragments, call)


# --- the network: predict, saving, copies --------------------------------------------------


def line_net(w=2.0, b=1.0, n_inputs=1):
    """``o1 = w · x1 + b`` (identity output); extra inputs feed nothing."""
    net = neurosim.Network()
    for k in range(1, n_inputs + 1):
        net.add_input(f"x{k}")
    net.add_bias("b")
    net.add_neuron("o1", "identity", output=True)
    net.connect("x1", "o1", weight=w)
    net.connect("b", "o1", weight=b)
    return net


def test_predict_scales_the_inputs_and_maps_the_outputs_back():
    net = line_net()
    net.scaling = Scaling(inputs="standard", targets="standard", input_offset=np.array([3.0]),
                          input_scale=np.array([2.0]), target_offset=np.array([10.0]), target_scale=np.array([5.0]))
    # x = 7: scaled (7 - 3) / 2 = 2, forward 2·2 + 1 = 5, back 5·5 + 10 = 35
    assert net.predict([7.0]).tolist() == [35.0]
    assert net.predict([[7.0], [3.0]]).tolist() == [[35.0], [15.0]]
    assert net.forward([2.0]).tolist() == [5.0]                      # forward is the engine on scaled values
    net.scaling = None
    assert net.predict([7.0]).tolist() == [15.0] == net.forward([7.0]).tolist()


def test_predict_refuses_bad_inputs_and_a_scaling_of_other_widths(refused):
    net = line_net()
    net.scaling = Scaling.fit(X, T, inputs="standard", targets="standard")        # fitted on two inputs
    refused(DataError, ("2 inputs columns", "1 input units"), net.predict, [[1.0]])
    refused(DataError, ("X has shape (2, 3)", "1 input units"), net.predict, [[1.0, 2.0, 3.0]] * 2)
    refused(DataError, ("net.scaling must be a neurosim.scaling.Scaling", "str"), setattr, net, "scaling", "standard")
    net = line_net()
    net.scaling = Scaling("standard", "standard", np.array([0.0]), np.array([1e-300]), np.array([0.0]),
                          np.array([1e300]))
    refused(DataError, ("X overflows once scaled by net.scaling",), net.predict, [1e10])
    refused(neurosim.NumericalError, ("the outputs overflow once mapped back",), net.predict, [1e-290])


def test_the_scaling_is_saved_with_the_network_and_read_back():
    net = line_net(n_inputs=2)
    net.scaling = Scaling.fit(X, T, inputs="standard", targets="minmax")
    data = json.loads(json.dumps(net.to_dict()))
    assert data["version"] == 1
    assert data["scaling"] == {"inputs": {"method": "standard", "offset": [3.0, 10.0],
                                          "scale": [math.sqrt(8 / 3), 1.0]},
                               "targets": {"method": "minmax", "offset": [2.0], "scale": [7.0]}}
    back = neurosim.Network.from_dict(data)
    assert back.scaling.inputs == "standard" and back.scaling.targets == "minmax"
    for attr in ("input_offset", "input_scale", "target_offset", "target_scale"):
        assert np.array_equal(getattr(back.scaling, attr), getattr(net.scaling, attr))
    assert back.predict(X_TEST).tolist() == net.predict(X_TEST).tolist()
    # x1 = 7 -> √6 -> 2√6 + 1 -> (2√6 + 1)·7 + 2
    assert net.predict(X_TEST)[0, 0] == pytest.approx((2 * math.sqrt(6) + 1) * 7 + 2, rel=1e-15)
    assert back.to_dict() == data


def test_a_network_without_scaling_has_no_entry_and_unknown_entries_are_ignored():
    data = line_net().to_dict()
    assert "scaling" not in data
    assert neurosim.Network.from_dict(data).scaling is None
    # a version-1 reader ignores what it does not know, which is why "scaling" needs no new version
    later = {**data, "a_later_entry": {"anything": [1, 2]}}
    assert neurosim.Network.from_dict(later).to_dict() == data


@pytest.mark.parametrize("entry, fragments", [
    ("standard", ("scaling must be a mapping with 'inputs' and/or 'targets'",)),
    ({"input": {}}, ("scaling must be a mapping with 'inputs' and/or 'targets'",)),
    ({"inputs": {"method": "z", "offset": [0.0], "scale": [1.0]}}, ("scaling.inputs", "'method'", "standard")),
    ({"inputs": {"method": "standard", "offset": [0.0, 1.0], "scale": [1.0]}},
     ("scaling.inputs.offset must be a list of 1 numbers",)),
    ({"targets": {"method": "minmax", "offset": [0.0], "scale": [0.0]}}, ("scaling.targets.scale[0]", "> 0")),
    ({"targets": {"method": "minmax", "offset": [math.nan], "scale": [1.0]}}, ("scaling.targets.offset[0]",)),
    ({"targets": {"method": "minmax", "offset": [10**400], "scale": [1.0]}}, ("scaling.targets.offset[0]", "finite")),
    ({"targets": {"method": "minmax", "offset": ["1"], "scale": [1.0]}}, ("scaling.targets.offset[0]", "'1'")),
])
def test_a_malformed_scaling_entry_is_refused_naming_it(refused, entry, fragments):
    data = {**line_net().to_dict(), "scaling": entry}
    refused(DataError, fragments, neurosim.Network.from_dict, data)


def test_copies_and_ensemble_members_keep_the_scaling():
    net = line_net(w=0.5, b=0.0)
    net.scaling = Scaling.fit([[0.0], [2.0]], [[1.0], [5.0]], inputs="minmax", targets="minmax")
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        # x = 4: (4 - 0) / 2 = 2, forward 0.5·2 = 1, back 1·4 + 1 = 5
        assert clone.predict([4.0]).tolist() == net.predict([4.0]).tolist() == [5.0]
    free = neurosim.Network(seed=0)
    free.add_input("x1")
    free.add_bias("b")
    free.add_neuron("o1", "identity", output=True)
    free.connect("x1", "o1")
    free.connect("b", "o1")
    free.scaling = net.scaling
    result = free.train([[0.0], [1.0]], [[0.0], [1.0]], epochs=2, ensemble=3)
    member = result.network(1)
    assert member.scaling is not None and member.scaling.to_dict() == net.scaling.to_dict()


# --- a scenario's data.scale -----------------------------------------------------------------

#: A 2-input, 1-output linear net on the patterns above, with a test set; nothing trained.
MAPPING = {
    "scenario": {"seed": 0},
    "network": {"layers": [{"name": "x", "size": 2}, {"name": "o", "size": 1, "from": ["x"],
                                                      "activation": "identity"}]},
    "data": {"inputs": X, "targets": T, "test": {"inputs": X_TEST, "targets": T_TEST}, "scale": "standard"},
    "training": {"epochs": 0},
    "expect": [{"quantity": "mae", "set": "test", "above": -1.0}],
}


def test_a_scenario_fits_on_the_training_set_and_applies_it_to_the_test_set():
    result = neurosim.run_scenario(MAPPING)
    sc = result.scenario
    np.testing.assert_allclose(sc.train.inputs[:, 0], [-math.sqrt(1.5), 0, math.sqrt(1.5)], atol=1e-15)
    np.testing.assert_allclose(sc.test.inputs, [[math.sqrt(6), 1.0]], rtol=1e-15)           # train statistics
    np.testing.assert_allclose(sc.test.targets, [[11 / math.sqrt(26 / 3)]], rtol=1e-15)
    assert sc.raw_train.inputs.tolist() == X and sc.raw_test.targets.tolist() == T_TEST
    assert result.network.scaling is sc.scaling
    # measures in original units: mae on the test set is |predict(7, 11) - 16|
    net = result.network
    y = net.predict(X_TEST)[0, 0]
    assert result.checks[0][1] == pytest.approx(abs(y - 16.0), rel=1e-15)
    # the training loss is on the scaled targets: error is the network's on the scaled set
    assert result.final_error == net.error(sc.train.inputs, sc.train.targets)
    report = result.report()
    assert "scaled: inputs standard, targets standard (fitted on the training set" in report
    assert "(scaled inputs -1.224744871, 0)" in report and "(scaled targets)" in report


def test_the_saved_network_predicts_what_the_run_did(tmp_path):
    result = neurosim.run_scenario({**MAPPING, "training": {"epochs": 20, "mode": "batch", "learning_rate": 0.05}})
    files = result.save(tmp_path)
    back = neurosim.Network.from_dict(json.loads(files["network"].read_text()))
    assert back.scaling.to_dict() == result.network.scaling.to_dict()
    assert back.predict(X_TEST).tolist() == result.network.predict(X_TEST).tolist()
    assert result.checks[0][1] == abs(back.predict(X_TEST)[0, 0] - 16.0)          # mae on the test set


def test_the_table_form_scales_one_side_only():
    only_inputs = neurosim.run_scenario(MAPPING, {"data.scale": {"inputs": "minmax"}}).scenario
    assert only_inputs.train.inputs.tolist() == [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]]
    assert only_inputs.train.targets.tolist() == T and only_inputs.scaling.targets is None
    only_targets = neurosim.run_scenario(MAPPING, {"data.scale": {"targets": "minmax"}}).scenario
    assert only_targets.train.inputs.tolist() == X
    assert only_targets.train.targets.tolist() == [[0.0], [2 / 7], [1.0]]
    assert only_targets.test.targets.tolist() == [[2.0]]
    none = neurosim.run_scenario(MAPPING, {"data.scale": "none"}).scenario
    assert none.scaling is None and none.train is none.raw_train


def write_scenario(tmp_path, scale_line, extra=""):
    path = tmp_path / "s.toml"
    path.write_text(f"""
[[network.layers]]
name = "x"
size = 1
[[network.layers]]
name = "o"
size = 1
from = ["x"]
[data]
inputs = [[0], [1], [2]]
targets = [0, 1, 1]
{scale_line}
{extra}
[training]
epochs = 0
""")
    return path


@pytest.mark.parametrize("scale_line, extra, key, fragments", [
    ('scale = "z"', "", "data.scale", ("'z' is not allowed", "choose from: minmax, none, standard")),
    ('scale = 3', "", "data.scale", ("must be a string (standard, minmax or none) or a table",)),
    ('scale = { input = "standard" }', "", "data.scale.input", ("unknown key", "did you mean 'inputs'")),
    ('scale = { inputs = "standrd" }', "", "data.scale.inputs",
     ("'standrd' is not allowed", "did you mean 'standard'")),
    ('scale = {}', "", "data.scale", ("empty table", "inputs and/or targets")),
    ('scal = "standard"', "", "data.scal", ("unknown key", "did you mean 'scale'")),
    ("", '[data.test]\ninputs = [[3]]\ntargets = [1]\nscale = "standard"', "data.test.scale",
     ("scaled with the training set's statistics", "set data.scale")),
])
def test_bad_scale_values_are_refused_at_their_key(tmp_path, refused, scale_line, extra, key, fragments):
    path = write_scenario(tmp_path, scale_line, extra)
    refused(ScenarioError, (f"{path}: {key}: ",) + fragments, neurosim.load_scenario, path)


def test_targets_scaled_out_of_the_loss_range_are_refused_at_data_scale(tmp_path, refused):
    path = write_scenario(tmp_path, 'scale = "standard"', "")
    refused(ScenarioError, (f"{path}: data.scale: the scaled training target", "bce",
                            'leave the targets as they are (scale = { inputs = "standard" })'),
            neurosim.run_scenario, path, {"training.loss": "bce"})
    # minmax keeps 0/1 targets where they are, so bce takes them
    assert neurosim.run_scenario(path, {"training.loss": "bce", "data.scale": "minmax"}).passed
    # a target out of range before any scaling is the data's mistake, not the scaling's
    refused(ScenarioError, (f"{path}: data.targets: training target 2.0",), neurosim.run_scenario, path,
            {"training.loss": "bce", "data.targets": [0, 1, 2]})


def test_data_too_spread_out_to_scale_is_refused_without_a_warning(refused):
    data = copy.deepcopy(MAPPING)
    data["data"]["inputs"] = [[1e308, 0.0], [-1e308, 0.0], [0.0, 0.0]]
    refused(ScenarioError, ("data.scale", "too spread out to scale"), neurosim.run_scenario, data)


def test_every_ensemble_member_is_measured_in_original_units():
    data = copy.deepcopy(MAPPING)
    data["training"] = {"epochs": 4, "mode": "batch", "learning_rate": 0.05, "ensemble": 3}
    data["expect"] = [{"quantity": "mae", "set": "test", "stat": "max", "above": -1.0},
                      {"quantity": "accuracy", "threshold": 4.5, "stat": "min", "above": -1.0}]
    result = neurosim.run_scenario(data)
    raw_test, raw_train = result.scenario.raw_test, result.scenario.raw_train
    maes, accuracies = [], []
    for _k, net in result.ensemble.networks():
        assert net.scaling.to_dict() == result.scenario.scaling.to_dict()
        maes.append(float(np.mean(np.abs(net.predict(raw_test.inputs) - raw_test.targets))))
        # accuracy's threshold is in the targets' units too: t = 2, 4, 9 against 4.5
        accuracies.append(float(np.mean((net.predict(raw_train.inputs)[:, 0] > 4.5)
                                        == (raw_train.targets[:, 0] > 4.5))))
    assert len(set(maes)) == 3
    assert [c[1] for c in result.checks] == [max(maes), min(accuracies)]
