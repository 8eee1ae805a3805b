"""``neurosim explain`` and ``neurosim.explain``: one training step written out number by number.

The worked example's text holds every number the lecture notes print, to the digits they
print it with (the list below is the notes', in their order); the lines the issue quotes
appear verbatim. The numbers are the engine's: the explanation's gradients and updated
weights equal ``net.gradients`` and ``net.train`` bit for bit, step N of a scenario starts
from the weights ``run_scenario`` reaches after N - 1 steps (online, batch with momentum,
shuffled minibatches, an ensemble member), and on random DAGs (skip connections, outputs
that feed others, softmax groups, every loss) every formula written out agrees with the
engine (the explanation checks that itself, and would raise). Formulas are shown for the
built-ins and the fused deltas, a plugin's activation and loss by their values, large
networks as a summary, and every refusal names what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import neurosim
from neurosim.cli import main
from neurosim.explanation import SUMMARY_EDGES, SUMMARY_NEURONS, format_number
from neurosim.sweep import is_sweep

ROOT = Path(__file__).resolve().parents[1]
MAZUR = str(ROOT / "scenarios" / "mazur.toml")
X, T = [0.05, 0.10], [0.01, 0.99]

#: Every number the lecture notes print in the worked example, in their order, as printed.
PRINTED = [
    "0.05", "0.10", "0.01", "0.99",                                        # the pattern
    "0.15", "0.2", "0.1", "0.35", "0.3775", "0.593269992",                   # net_h1, out_h1
    "0.4", "0.45", "0.596884378", "0.6", "1.105905967", "0.75136507",        # net_o1, out_o1
    "0.772928465",                                                           # out_o2
    "0.274811083", "0.023560026", "0.298371109",                            # E_o1, E_o2, E_total
    "0.74136507", "0.186815602", "0.082167041",                             # dE/dw5 and its factors
    "0.5", "0.35891648", "0.408666186", "0.511301270", "0.561370121",        # eta, w5+ .. w8+
    "0.138498562", "0.40", "0.055399425",                                    # dE_o1/dout_h1
    "0.036350306", "0.59326999", "0.241300709",                              # dE/dout_h1, dout_h1/dnet_h1
    "0.000438568", "0.149780716", "0.19956143", "0.24975114", "0.29950229",  # dE/dw1, w1+ .. w4+
]
#: Printed with fewer or more digits than the explanation's nine decimals (matched by rounding).
NOT_VERBATIM = {"0.10", "0.40", "0.511301270", "0.59326999", "0.19956143", "0.24975114", "0.29950229"}
#: The notes' one slip of hand arithmetic (rounded intermediates): dE_o2/dout_h1.
SLIP, EXACT = "-0.019049119", -0.0190491183

NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?(?:e[−+-]?\d+)?")


def numbers_in(text: str) -> list[str]:
    return [token.replace("−", "-") for token in NUMBER.findall(text)]


def decimals(s: str) -> int:
    return len(s.split(".")[1]) if "." in s else 0


def shown_to_printed_digits(tokens: list[str], printed: str) -> bool:
    """A number in the output that, rounded to the printed number's decimals, reads as printed
    (and is no less precise, unless it is the same number)."""
    d = decimals(printed)
    return any(f"{float(tok):.{d}f}" == printed and (decimals(tok) >= d or float(tok) == float(printed))
               for tok in tokens)


@pytest.fixture(scope="module")
def mazur_text():
    return neurosim.explain_scenario(MAZUR).text()


# --- the worked example ---------------------------------------------------------------------------------


def test_every_number_of_the_worked_example_is_shown_to_its_printed_digits(mazur_text):
    tokens = numbers_in(mazur_text)
    missing = [p for p in PRINTED if not shown_to_printed_digits(tokens, p)]
    assert not missing, missing
    verbatim = [p for p in PRINTED if p not in NOT_VERBATIM]
    assert len(verbatim) == 32
    assert [p for p in verbatim if p not in tokens] == []


def test_the_issues_lines_appear_as_written(mazur_text):
    for line in ("net_h1 = 0.15·0.05 + 0.2·0.1 + 0.35·1 = 0.3775",
                 "∂E/∂w5 = 0.74136507 · 0.186815602 · 0.593269992 = 0.082167041",
                 "∂E/∂out_h1 = 0.055399425 + −0.019049118 = 0.036350306",
                 "out_h1 = 1 / (1 + e^(−net_h1)) = 1 / (1 + e^(−0.3775)) = 0.593269992",
                 "net_o1 = 0.4·0.593269992 + 0.45·0.596884378 + 0.6·1 = 1.105905967",
                 "E_o1 = ½ (t_o1 − out_o1)² = ½ (0.01 − 0.75136507)² = 0.274811083",
                 "E_total = 0.274811083 + 0.023560026 = 0.298371109",
                 "∂E/∂out_o1 = −(t_o1 − out_o1) = −(0.01 − 0.75136507) = 0.74136507",
                 "∂out_o1/∂net_o1 = out_o1·(1 − out_o1) = 0.75136507·(1 − 0.75136507) = 0.186815602",
                 "δ_o1 = ∂E/∂net_o1 = 0.74136507 · 0.186815602 = 0.138498562",
                 "δ_o1·w5 = 0.138498562 · 0.4 = 0.055399425",
                 "w5⁺ = 0.4 − 0.5 · 0.082167041 = 0.35891648",
                 "∂E/∂w1 = 0.036350306 · 0.241300709 · 0.05 = 0.000438568",
                 "w1⁺ = 0.15 − 0.5 · 0.000438568 = 0.149780716"):
        assert line in mazur_text, line


def test_the_notes_slip_is_shown_with_the_engines_value(mazur_text):
    # the notes print dE_o2/dout_h1 = -0.019049119; the engine's delta_o2 * w7 is -0.0190491183
    net = neurosim.load_scenario(MAZUR).build_network()
    net.gradients(X, T)
    message = net["o2"].delta * net.weight("h1", "o2")
    assert abs(message - EXACT) < 5e-11
    assert "δ_o2·w7 = −0.038098237 · 0.5 = −0.019049118" in mazur_text
    assert SLIP not in numbers_in(mazur_text)
    assert abs(float(SLIP) - message) < 1e-9            # one unit in the ninth decimal
    assert "−0.019049119" in (ROOT / "docs" / "explain.md").read_text()


def test_markdown_writes_the_same_step_in_latex():
    md = neurosim.explain_scenario(MAZUR).markdown()
    assert ("$\\mathrm{net}_{\\text{h1}} = 0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35 \\cdot 1 = 0.3775$") in md
    assert ("$\\frac{\\partial E}{\\partial \\mathrm{w5}} = 0.74136507 \\cdot 0.186815602 \\cdot 0.593269992 = "
            "0.082167041$") in md
    assert "\\frac{\\partial E}{\\partial \\mathrm{out}_{\\text{h1}}} = 0.055399425 + -0.019049118 = 0.036350306" in md
    for line in md.splitlines():
        assert line.count("$") % 2 == 0, line
        for formula in re.findall(r"\$([^$]*)\$", line):
            assert not set(formula) & set("−·∂δ²½⁺"), formula          # LaTeX, not Unicode, inside $...$
    assert all(shown_to_printed_digits(numbers_in(md), p) for p in PRINTED)


def test_the_python_form_explains_the_same_step_and_leaves_the_network_alone():
    net = neurosim.load_scenario(MAZUR).build_network()
    before = net.weights()
    step = neurosim.explain(net, X, T, learning_rate=0.5)
    assert net.weights() == before
    body = step.text().split("\nforward pass")[1]
    assert body == neurosim.explain_scenario(MAZUR).text().split("\nforward pass")[1]
    E, grads = net.gradients(X, T)
    assert step.error == E and step.gradients == grads
    assert step.deltas == {u.name: u.delta for u in net.neurons}
    assert step.weights == before
    net.train([X], [T], learning_rate=0.5, epochs=1)
    assert step.updated == net.weights()
    assert str(step) == step.text() and step._repr_markdown_() == step.markdown()
    assert repr(step) == "Explanation(step 1, 1 pattern, error 0.298371109)"


def test_numbers_read_as_the_notes_print_them():
    assert format_number(0.5932699921071872) == "0.593269992"
    assert format_number(0.51130127023) == "0.51130127"
    assert format_number(1.1059059670597702) == "1.105905967"
    assert format_number(0.00043856773) == "0.000438568"
    assert format_number(-0.0190491183) == "-0.019049118"
    assert format_number(123456.789012345) == "123456.789"
    assert format_number(3.2e-7) == "3.2e-07" and format_number(-1.5e12) == "-1.5e+12"
    assert format_number(-0.0) == "0" and format_number(float("nan")) == "nan"


# --- step N: the scenario's own training ------------------------------------------------------------------


def test_step_n_of_online_training_starts_where_n_minus_1_steps_left_it():
    xor = str(ROOT / "scenarios" / "xor_sigmoid.toml")
    after_one_epoch = neurosim.run_scenario(xor, {"training.epochs": 1}).network.weights()   # 4 online steps
    step5 = neurosim.explain_scenario(xor, step=5)
    assert step5.weights == after_one_epoch
    assert neurosim.explain_scenario(xor, step=4).updated == after_one_epoch
    text = step5.text()
    assert "training step 5 of at most 40000" in text and "epoch 2 of 10000, update 1 of 4" in text


def test_step_n_of_batch_training_with_momentum_uses_the_runs_previous_change():
    sym = str(ROOT / "scenarios" / "symmetry.toml")
    two = neurosim.run_scenario(sym, {"training.epochs": 2}).network
    step3 = neurosim.explain_scenario(sym, step=3, neurons="o1")
    assert step3.weights == two.weights()
    assert neurosim.explain_scenario(sym, step=2).updated == two.weights()
    assert step3.patterns == 64
    prev = two.weight("h1", "o1") - neurosim.run_scenario(sym, {"training.epochs": 1}).network.weight("h1", "o1")
    line = next(line for line in step3.text().splitlines() if "Δw(h1→o1) =" in line)
    assert f"0.9 · {format_number(prev).replace('-', '−')} =" in line
    three = neurosim.run_scenario(sym, {"training.epochs": 3}).network
    assert step3.updated == three.weights()


def test_step_n_of_shuffled_minibatches(tmp_path):
    options = {"training.mode": "minibatch", "training.batch_size": 2, "training.shuffle": True,
               "training.epochs": 3, "scenario.seed": 5}
    xor = str(ROOT / "scenarios" / "xor_sigmoid.toml")
    step5 = neurosim.explain_scenario(xor, step=5, overrides=options, pattern=1)
    two = neurosim.run_scenario(xor, {**options, "training.epochs": 2}).network
    assert step5.weights == two.weights() and step5.patterns == 2 and step5.pattern == 1
    text = step5.text()
    assert "pattern 1 of the step's 2" in text and "patterns shuffled" in text
    assert "(summed over the step's patterns)" in text


def test_an_ensemble_is_explained_one_member_at_a_time():
    path = str(ROOT / "scenarios" / "symmetry_ensemble.toml")
    result = neurosim.run_scenario(path, {"training.ensemble": 4, "training.epochs": 2})
    step3 = neurosim.explain_scenario(path, step=3, member=2, overrides={"training.ensemble": 4})
    assert step3.weights == result.ensemble.network(2).weights()
    assert "(ensemble member 2)" in step3.text()


# --- any activation, loss and topology --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(0, 30))
def test_random_dags_are_explained_with_the_engines_numbers(random_case_factory, seed):
    case = random_case_factory(seed)
    net = case.net
    names = [u.name for u in net.neurons]
    step = neurosim.explain(net, case.X, case.T, loss=case.loss, neurons=names, pattern=len(case.X) - 1)
    text, md = step.text(), step.markdown()          # every formula checked against the engine on the way
    E, grads = net.gradients(case.X, case.T, loss=case.loss)
    assert step.gradients == grads and step.error == pytest.approx(E, rel=1e-14)
    assert step.deltas == {u.name: float(u.delta[-1]) for u in net.neurons}
    for u in net.neurons:
        latex_name = u.name.replace("_", "\\_")
        assert f"net_{u.name} = " in text and f"\\delta_{{\\text{{{latex_name}}}}} = " in md


def net_of(activation: str, output: str, n_out: int = 2):
    net = neurosim.Network(seed=1)
    net.add_layer("i", 2, kind="input")
    b = net.add_bias()
    net.add_layer("h", 2, activation, connect_from=[net.inputs], bias=b)
    net.add_layer("o", n_out, output, output=True, connect_from=[[net["h1"], net["h2"]]], bias=b)
    return net


def test_fused_deltas_show_their_formulas():
    net = net_of("tanh", "softmax", 3)
    step = neurosim.explain(net, [0.3, -0.8], [0.0, 1.0, 0.0], loss="cce")
    text = step.text()
    net.gradients([0.3, -0.8], [0.0, 1.0, 0.0], loss="cce")
    o2 = net["o2"]
    assert f"δ_o2 = ∂E/∂net_o2 = out_o2·Σ_k t_k − t_o2 = {format_number(o2.out)}·1 − 1 = " \
           f"{format_number(o2.delta).replace('-', '−')}" in text
    assert "(cce with softmax: the fused delta)" in text
    assert "out_o1 = e^(net_o1) / Σ_k e^(net_k) = e^(" in text
    assert "E_o2 = −t_o2·ln(out_o2) = −1·ln(" in text
    assert "∂out_h1/∂net_h1 = 1 − out_h1² = 1 − " in text

    net = net_of("relu", "sigmoid", 1)
    text = neurosim.explain(net, [0.3, -0.8], [1.0], loss="bce").text()
    net.gradients([0.3, -0.8], [1.0], loss="bce")
    assert f"δ_o1 = ∂E/∂net_o1 = out_o1 − t_o1 = {format_number(net['o1'].out)} − 1 = " in text
    assert "(bce with sigmoid: the fused delta)" in text
    assert "E_o1 = −[t_o1·ln(out_o1) + (1 − t_o1)·ln(1 − out_o1)]" in text
    h = [u for u in ("h1", "h2") if net[u].net > 0]
    assert h and f"∂out_{h[0]}/∂net_{h[0]} = 1   (net_{h[0]} > 0)" in text


def test_softmax_without_its_fused_loss_shows_the_groups_chain_rule():
    net = net_of("sigmoid", "softmax", 2)
    step = neurosim.explain(net, [0.3, -0.8], [0.0, 1.0], loss="mse")
    text = step.text()
    assert "Σ_k out_k·∂E/∂out_k = " in text
    assert "δ_o1 = ∂E/∂net_o1 = out_o1·(∂E/∂out_o1 − Σ_k out_k·∂E/∂out_k) = " in text
    net.gradients([0.3, -0.8], [0.0, 1.0])
    assert step.deltas["o1"] == net["o1"].delta


PLUGIN = '''
import numpy as np
from neurosim import Activation, Loss, hookimpl

@hookimpl
def neurosim_register_activations(register):
    register(Activation("softsign", lambda x: x / (1 + np.abs(x)),
                        derivative=lambda x, y: 1 / (1 + np.abs(x)) ** 2))

@hookimpl
def neurosim_register_losses(register):
    register(Loss("quartic", lambda y, t: ((y - t) ** 4).sum(axis=(-2, -1)), lambda y, t: 4 * (y - t) ** 3))
'''


def test_a_plugins_activation_and_loss_are_shown_by_their_values(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(PLUGIN)
    net = neurosim.Network(plugins=[str(path)], seed=2)
    net.add_layer("i", 2, kind="input")
    net.add_neuron("h1", "softsign")
    net.add_neuron("o1", "softsign", output=True)
    net.connect("i1", "h1", 0.7)
    net.connect("i2", "h1", -0.2)
    net.connect("h1", "o1", 1.5)
    text = neurosim.explain(net, [0.5, 1.0], [0.9], loss="quartic").text()
    net.gradients([0.5, 1.0], [0.9], loss="quartic")
    n = net["h1"].net                                   # 0.7·0.5 − 0.2·1 = 0.15
    assert n == pytest.approx(0.15)
    assert f"out_h1 = softsign({format_number(n)}) = {format_number(n / (1 + n))}" in text
    assert f"∂out_h1/∂net_h1 = f'(net_h1) = {format_number(1 / (1 + n) ** 2)}" in text
    assert "softsign: no formula known, the derivative's value" in text
    y = net["o1"].out
    assert f"E_o1 = {format_number((y - 0.9) ** 4)}" in text and "quartic: no formula known" in text
    assert f"∂E/∂out_o1 = {format_number(4 * (y - 0.9) ** 3).replace('-', '−')}" in text


def test_tied_weights_show_the_shared_gradient():
    path = str(ROOT / "scenarios" / "unrolled_sequence.toml")
    step = neurosim.explain_scenario(path, neurons="o1@2")
    text = step.text()
    shared = step.gradients[("h1@2", "o1@2")]
    assert shared == step.gradients[("h1@0", "o1@0")]
    assert f"shared ∂E/∂w = {format_number(shared)}   (tied set 'h1 -> o1': the sum over its 5 connections' " \
           f"gradients, which the update uses)" in text


# --- large networks: a summary, never a flood ------------------------------------------------------------


def test_a_large_network_gets_a_summary_plus_the_neurons_asked_for():
    path = str(ROOT / "scenarios" / "family_trees.toml")
    step = neurosim.explain_scenario(path, member=0)
    net = step._net
    assert len(net.neurons) > SUMMARY_NEURONS and net.n_weights > SUMMARY_EDGES and step.summary
    text = step.text()
    assert len(text.splitlines()) < 40
    assert "so only a summary" in text and "--neurons" in text
    assert f"E_total = {format_number(step.error)}" in text
    largest = max(step.gradients.values(), key=abs)
    assert format_number(largest).replace("-", "−") in text
    assert "forward pass" not in text
    one = neurosim.explain_scenario(path, member=0, neurons="o2").text()
    assert "net_o2 = " in one and "δ_o2 = ∂E/∂net_o2 = " in one and "net_o1 = " not in one
    assert len(one.splitlines()) < 90
    assert "… (" in one                                # o2's sum over its many inputs is cut short


def test_small_networks_are_written_out_whole():
    step = neurosim.explain_scenario(str(ROOT / "scenarios" / "encoder_838.toml"))
    assert not step.summary and all(f"δ_{u.name} = " in step.text() for u in step._net.neurons)


@pytest.mark.parametrize("path", [p for p in sorted((ROOT / "scenarios").glob("*.toml"))
                                  if not is_sweep(tomllib.loads(p.read_text()))], ids=lambda p: p.stem)
def test_every_shipped_scenario_is_explained(path):
    member = 0 if "ensemble =" in path.read_text() else None
    step = neurosim.explain_scenario(str(path), member=member)
    assert step.text() and step.markdown()
    assert len(step.text().splitlines()) < 600


# --- refusals ----------------------------------------------------------------------------------------------


def test_a_neuron_that_does_not_exist_is_refused_with_the_closest(refused):
    net = neurosim.load_scenario(MAZUR).build_network()
    refused(neurosim.NeuronNotFoundError, ["no neuron named 'h3' to explain", "did you mean", "h1, h2, o1, o2"],
            neurosim.explain, net, X, T, neurons="h1,h3")
    refused(neurosim.NeuronNotFoundError, [MAZUR, "no neuron named 'ol'", "did you mean 'o1'"],
            neurosim.explain_scenario, MAZUR, neurons=["ol"])
    refused(neurosim.NeuronNotFoundError, ["'i1' is an input unit", "name computing neurons"],
            neurosim.explain, net, X, T, neurons=["i1"])
    refused(neurosim.DataError, ["neurons names no neuron"], neurosim.explain, net, X, T, neurons=" , ")
    big = neurosim.Network()
    big.add_layer("i", 2, kind="input")
    big.add_layer("h", 40, "tanh", connect_from=[big.inputs])
    big.add_layer("o", 1, output=True, connect_from=[[big[f"h{k}"] for k in range(1, 41)]])
    err = refused(neurosim.NeuronNotFoundError, ["did you mean 'h40'", "(41 in all)"], neurosim.explain,
                  big, [0, 1], [1], neurons="h400")
    assert len(str(err)) < 300


def test_bad_steps_patterns_members_and_shapes_are_refused(refused, tmp_path):
    refused(neurosim.DataError, ["step must be a whole number >= 1", "0"], neurosim.explain_scenario, MAZUR, step=0)
    refused(neurosim.DataError, ["step must be a whole number >= 1"], neurosim.explain_scenario, MAZUR, step=1.5)
    refused(neurosim.ScenarioError, [MAZUR, "step: is 2", "trains 1 step", "--set training.epochs=2"],
            neurosim.explain_scenario, MAZUR, step=2)
    xor = str(ROOT / "scenarios" / "xor_sigmoid.toml")
    refused(neurosim.ScenarioError, ["training stops after epoch 1", "stop criterion"], neurosim.explain_scenario,
            xor, step=5, overrides={"training.stop": {"error_below": 100.0}})
    ens = str(ROOT / "scenarios" / "symmetry_ensemble.toml")
    refused(neurosim.ScenarioError, [ens, "training.ensemble", "trains 100 networks", "--member K", "0 to 99"],
            neurosim.explain_scenario, ens)
    refused(neurosim.ScenarioError, ["--member", "is 100", "0 to 99"], neurosim.explain_scenario, ens, member=100)
    refused(neurosim.ScenarioError, ["--member", "trains one network"], neurosim.explain_scenario, MAZUR, member=0)
    refused(neurosim.DataError, [MAZUR, "pattern must be a whole number from 0 to 0"], neurosim.explain_scenario,
            MAZUR, pattern=1)
    net = neurosim.load_scenario(MAZUR).build_network()
    refused(neurosim.DataError, ["X has shape (3,)", "(i1, i2)"], neurosim.explain, net, [1, 2, 3], T)
    refused(neurosim.DataError, ["T has shape (1,)", "(o1, o2)"], neurosim.explain, net, X, [0.5])
    refused(neurosim.DataError, ["pattern must be a whole number from 0 to 1"], neurosim.explain, net,
            [X, X], [T, T], pattern=2)
    refused(neurosim.DataError, ["explain needs a neurosim Network"], neurosim.explain, "net", X, T)


# --- the command ------------------------------------------------------------------------------------------------


def test_the_command_prints_the_explanation(capsys, mazur_text):
    assert main(["explain", MAZUR]) == 0
    assert capsys.readouterr().out == mazur_text
    assert main(["explain", MAZUR, "--neurons", "h1", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out == neurosim.explain_scenario(MAZUR, neurons="h1").markdown()
    assert out.startswith("# ") and "\\mathrm{net}_{\\text{h1}}" in out and "net}_{\\text{h2}}" not in out


def test_the_command_refuses_clearly(capsys):
    assert main(["explain", MAZUR, "--neurons", "h3"]) == 2
    err = capsys.readouterr().err
    assert "no neuron named 'h3' to explain; did you mean 'h1'?" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["explain", MAZUR, "--step", "0"])
    assert exit_.value.code == 2
    assert "0 is not a step: the first update of training is step 1" in capsys.readouterr().err
    assert main(["explain", str(ROOT / "scenarios" / "symmetry_ensemble.toml")]) == 2
    assert "--member K" in capsys.readouterr().err


def test_the_command_refuses_plugin_code_with_no_plugins(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text('plugins = ["mine.py"]\n' + (ROOT / "scenarios" / "mazur.toml").read_text())
    assert main(["explain", str(path), "--no-plugins"]) == 2
    assert "--no-plugins refuses such a scenario" in capsys.readouterr().err


def test_the_docs_quote_the_commands_real_output(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = (ROOT / "docs" / "explain.md").read_text()
    blocks = re.findall(r"```console\n\$ (neurosim explain [^\n]*)\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    for command, shown in blocks:
        assert main(command.split()[1:]) == 0
        out = capsys.readouterr().out
        assert out.startswith(shown), command


def test_a_net_large_enough_to_update_level_by_level_is_explained_from_one_whole_step(monkeypatch):
    # 40-200-3 online: 8,803 weights; with the threshold lowered to 1 KB the run updates each
    # level inside the backward pass, which explain must not break: it takes its one step whole
    # (the learning rate a power of two, so the run's folding it into the deltas changes no bit)
    from neurosim.training.loop import Trainer
    monkeypatch.setattr(Trainer, "PART_STEP_BYTES", 1024)
    inputs = [[(k * j % 7) / 7 for j in range(40)] for k in range(3)]
    scenario = {
        "scenario": {"name": "wide", "seed": 2},
        "network": {"layers": [{"name": "i", "size": 40}, {"name": "h", "size": 200, "from": ["i"]},
                               {"name": "o", "size": 3, "from": ["h"]}]},
        "data": {"inputs": inputs, "targets": [[0.1, 0.9, 0.2], [0.9, 0.1, 0.5], [0.3, 0.3, 0.7]]},
        "training": {"mode": "online", "epochs": 2, "learning_rate": 0.25, "momentum": 0.5},
    }
    step5 = neurosim.explain_scenario(scenario, step=5)
    after = neurosim.run_scenario({**scenario, "training": {**scenario["training"], "epochs": 1}}).network
    two = neurosim.run_scenario(scenario).network                          # level by level, 6 updates
    assert step5.weights == neurosim.explain_scenario(scenario, step=4).updated
    assert neurosim.explain_scenario(scenario, step=3).updated == after.weights()
    assert neurosim.explain_scenario(scenario, step=6).updated == two.weights() and step5.patterns == 1
