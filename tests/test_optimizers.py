"""The optimisation rules, number by number: iRprop−, Rprop+, Rprop− and iRprop+ on one weight with hand-worked step sizes (growth, shrink, backtracking, the error-rose test, Δmax/Δmin clamping); Quickprop's secant step on a parabola, its growth limit μ, the plain gradient step after a zero step and its decay term; Adam's first two steps on E = w²; SGD's momentum, Nesterov's look-ahead as PyTorch computes it, and Rumelhart's weight decay against an L2 penalty (different with momentum; for plain SGD with weight_decay = lr · l2 they differ by weight_decay · lr · g a step, to rounding: the decay shrinks the change too). Every expected value is worked out in the test with its arithmetic in a comment, and the rules are driven through ``step(theta, grad, mask, error)`` directly. Then the rules in training: each registered rule keeps ``Optimizer.check_contract`` (and a rule that breaks it is refused), a saved state continues bit for bit, each ensemble member has its own state in one vectorised run (member k's entries step exactly as a lone rule fed member k's gradients and error; iRprop+ compares each member's own error), PyTorch's ``Rprop``, ``Adam`` and ``SGD`` (momentum, Nesterov) agree to 1e-12 over 100 batch steps of random DAGs, fed neurosim's gradients and, end to end, their own autograd gradients; and what ``net.train`` refuses about optimisers, each refusal naming the key.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import DataError, PluginError
from neurosim.rules import Optimizer

REG = neurosim.default_registry()
Rprop = REG.optimizer("rprop")
Quickprop = REG.optimizer("quickprop")
Adam = REG.optimizer("adam")
SGD = neurosim.SGD

ONE = np.ones(1)

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_T = np.array([[0], [1], [1], [0]], dtype=float)



def changes(rule, grads, errors=None, w0=0.0):
    """Drive ``rule`` on one weight with the gradients ``grads`` (and errors); the changes."""
    w = np.array([w0])
    out = []
    for t, g in enumerate(grads):
        before = float(w[0])
        rule.step(w, np.array([float(g)]), ONE, None if errors is None else errors[t])
        out.append(float(w[0]) - before)
    return out


def close(got, want, tol=1e-15):
    assert len(got) == len(want)
    for t, (a, b) in enumerate(zip(got, want)):
        assert abs(a - b) <= tol, f"step {t + 1}: {a!r} != {b!r}"


# --- Rprop -------------------------------------------------------------------------------------

#: One weight's gradients: three agreeing signs, a flip, then the first sign again.
FLIP = [1, 1, 1, -1, 1]


def test_irprop_minus_by_hand():
    # Δ0 = 0.1; the weight moves by −sign(g)·Δ.
    # 1: no previous gradient: Δ = 0.1, dw = −0.1
    # 2: agree: Δ = 0.1·1.2 = 0.12, dw = −0.12
    # 3: agree: Δ = 0.12·1.2 = 0.144, dw = −0.144
    # 4: flip: Δ = 0.144·0.5 = 0.072, no move, the gradient is forgotten
    # 5: previous gradient 0: Δ stays 0.072, dw = −0.072
    close(changes(Rprop(delta0=0.1), FLIP), [-0.1, -0.12, -0.144, 0.0, -0.072])


def test_rprop_plus_backtracks_on_the_flip():
    # Steps 1-3 as for iRprop−; 4: flip: Δ = 0.072 and the last change (−0.144) is undone,
    # dw = +0.144, the gradient is forgotten; 5: previous 0: dw = −0.072.
    rule = Rprop(variant="rprop+", delta0=0.1)
    got = changes(rule, FLIP)
    close(got, [-0.1, -0.12, -0.144, 0.144, -0.072])
    # after the backtrack the weight is where it was after step 2: −0.1 − 0.12 = −0.22
    assert sum(got[:4]) == pytest.approx(-0.22, abs=1e-15)


def test_rprop_minus_moves_on_the_flip_with_the_shrunk_step():
    # 4: flip: Δ = 0.144·0.5 = 0.072 and the weight moves by −sign(−1)·0.072 = +0.072;
    # the gradient is kept, so 5 (g = +1 after −1) flips again: Δ = 0.036, dw = −0.036.
    close(changes(Rprop(variant="rprop-", delta0=0.1), FLIP), [-0.1, -0.12, -0.144, 0.072, -0.036])


def test_irprop_plus_takes_the_last_change_back_only_when_the_error_rose():
    # Errors at the weights each step starts from. The flip is at step 4.
    rose = [5.0, 4.0, 3.0, 4.0, 2.0]        # 4.0 > 3.0: step 3 made it worse: undo its −0.144
    fell = [5.0, 4.0, 3.0, 2.5, 2.0]        # 2.5 < 3.0: keep it, do not move (as iRprop−)
    close(changes(Rprop(variant="irprop+", delta0=0.1), FLIP, rose), [-0.1, -0.12, -0.144, 0.144, -0.072])
    close(changes(Rprop(variant="irprop+", delta0=0.1), FLIP, fell), [-0.1, -0.12, -0.144, 0.0, -0.072])
    # an error that stays equal did not rise
    same = [5.0, 4.0, 3.0, 3.0, 2.0]
    close(changes(Rprop(variant="irprop+", delta0=0.1), FLIP, same), [-0.1, -0.12, -0.144, 0.0, -0.072])


def test_rprop_step_sizes_are_clamped_to_delta_max_and_delta_min():
    # Δmax = 0.15: 0.1, 0.12, 0.144, then 0.144·1.2 = 0.1728 → 0.15, and it stays 0.15.
    close(changes(Rprop(delta0=0.1, delta_max=0.15), [1] * 6), [-0.1, -0.12, -0.144, -0.15, -0.15, -0.15])
    # Δmin = 0.03 with Rprop− (which moves on every flip): 0.1, then flips:
    # 0.1·0.5 = 0.05, 0.05·0.5 = 0.025 → 0.03, 0.03·0.5 = 0.015 → 0.03.
    close(changes(Rprop(variant="rprop-", delta0=0.1, delta_min=0.03), [1, -1, 1, -1, 1]),
          [-0.1, 0.05, -0.03, 0.03, -0.03])


def test_rprop_is_per_entry_and_leaves_frozen_and_zero_gradient_entries_alone():
    rule = Rprop(delta0=0.1)
    w = np.zeros(4)
    mask = np.array([1.0, 1.0, 0.0, 1.0])
    rule.step(w, np.array([1.0, -2.0, 5.0, 0.0]), mask)
    rule.step(w, np.array([3.0, 1.0, 5.0, 0.0]), mask)
    # entry 0: −0.1 then agree: −0.12 → −0.22; entry 1: +0.1 then flip: no move → 0.1;
    # entry 2 is frozen; entry 3 has no gradient: no move and its Δ stays Δ0
    np.testing.assert_allclose(w, [-0.22, 0.1, 0.0, 0.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(rule.state("delta"), [0.12, 0.05, 0.1, 0.1], rtol=0, atol=1e-15)


# --- Quickprop ---------------------------------------------------------------------------------


def test_quickprop_on_a_parabola_by_hand():
    # E = ½·2·(w − 3)², dE/dw = 2(w − 3); learning_rate 0.7, decay 0.
    rule = Quickprop(learning_rate=0.7, decay=0.0)
    w = np.array([0.0])
    # 1: no last change: the gradient step −0.7·S, S = 2(0 − 3) = −6: dw = 4.2, w = 4.2
    rule.step(w, 2 * (w - 3), ONE)
    assert w[0] == pytest.approx(4.2, abs=1e-15)
    # 2: S = 2(4.2 − 3) = 2.4 opposes the last change (+4.2): no gradient term; the slope
    # did not keep 1.75/2.75 of its size in that direction, so the secant step:
    # S/(S(t−1) − S)·dw(t−1) = 2.4/(−6 − 2.4)·4.2 = −1.2, w = 3.0, the minimum of the parabola
    rule.step(w, 2 * (w - 3), ONE)
    assert w[0] == pytest.approx(3.0, abs=1e-15)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_quickprop_growth_limit_mu(sign):
    # learning_rate 0.5, mu 1.75, decay 0; the second slope is 0.9 of the first, same sign.
    # (sign = −1 mirrors it: the last change negative.)
    rule = Quickprop(learning_rate=0.5, mu=1.75, decay=0.0)
    got = changes(rule, [-1.0 * sign, -0.9 * sign])
    # 1: dw = −0.5·S = −0.5·(−1) = 0.5
    # 2: the secant step would be S/(S(t−1) − S)·dw = −0.9/(−1 + 0.9)·0.5 = 4.5, more than
    # μ·dw = 1.75·0.5 = 0.875; the slope still has 0.9 > μ/(1 + μ) = 0.636 of its size, so
    # the step is μ·dw(t−1) plus the gradient term −0.5·(−0.9) = 0.45: 0.875 + 0.45 = 1.325
    close(got, [0.5 * sign, 1.325 * sign])


def test_quickprop_secant_steps_with_and_without_the_gradient_term():
    # S(1) = −1, dw(1) = 0.5 (learning_rate 0.5).
    # Same sign, shrunk to 0.25 (< 0.636): secant −0.25/(−1 + 0.25)·0.5 = 1/6, plus the
    # gradient term −0.5·(−0.25) = 0.125: 1/6 + 0.125
    close(changes(Quickprop(learning_rate=0.5, decay=0.0), [-1.0, -0.25]), [0.5, 1 / 6 + 0.125])
    # The sign turned (+0.5): secant 0.5/(−1 − 0.5)·0.5 = −1/6, no gradient term
    close(changes(Quickprop(learning_rate=0.5, decay=0.0), [-1.0, 0.5]), [0.5, -1 / 6])


def test_quickprop_takes_a_plain_gradient_step_after_a_zero_step():
    rule = Quickprop(learning_rate=0.7, decay=0.0)
    w = np.array([0.0])
    for _ in range(2):                         # 0 → 4.2 → 3.0 (see the parabola test)
        rule.step(w, 2 * (w - 3), ONE)
    # 3: at w = 3, S = 0: the secant step is 0/(2.4 − 0)·(−1.2) = 0, so dw = 0
    before = float(w[0])
    rule.step(w, 2 * (w - 3), ONE)
    assert w[0] == before
    assert rule.state("last_change")[0] == 0.0
    # 4: the last change was zero, so a gradient step: S = 2 gives dw = −0.7·2 = −1.4 (the
    # secant and growth terms, proportional to dw(t−1) = 0, would not move at all)
    rule.step(w, np.array([2.0]), ONE)
    assert w[0] - before == pytest.approx(-1.4, abs=1e-15)


def test_quickprop_decay_term():
    # E = (w − 3)² from w = 1, learning_rate 0.7, decay 1e-4: S = dE/dw + 1e-4·w.
    rule = Quickprop(learning_rate=0.7, decay=1e-4)
    w = np.array([1.0])
    # 1: S1 = 2(1 − 3) + 1e-4·1 = −3.9999; dw1 = −0.7·S1 = 2.79993; w = 3.79993
    s1 = 2 * (1.0 - 3) + 1e-4 * 1.0
    dw1 = -0.7 * s1
    rule.step(w, 2 * (w - 3), ONE)
    assert s1 == pytest.approx(-3.9999, abs=1e-15) and w[0] == pytest.approx(1 + 2.79993, abs=1e-14)
    # 2: S2 = 2(3.79993 − 3) + 1e-4·3.79993 = 1.59986 + 0.000379993 = 1.600239993, opposing
    # the last change: the secant step S2/(S1 − S2)·dw1 alone
    w1 = 1.0 + dw1
    s2 = 2 * (w1 - 3) + 1e-4 * w1
    assert s2 == pytest.approx(1.600239993, abs=1e-14)
    rule.step(w, 2 * (w - 3), ONE)
    assert w[0] == pytest.approx(w1 + s2 / (s1 - s2) * dw1, abs=1e-15)
    # without the decay the second slope would be 1.59986, and the step another
    plain = Quickprop(learning_rate=0.7, decay=0.0)
    v = np.array([1.0])
    plain.step(v, 2 * (v - 3), ONE)
    plain.step(v, 2 * (v - 3), ONE)
    assert abs(v[0] - w[0]) > 1e-5


# --- Adam --------------------------------------------------------------------------------------


def test_adam_two_steps_on_w_squared():
    # E = w², dE/dw = 2w, from w = 1; lr 0.001, β1 0.9, β2 0.999, eps 1e-8.
    rule = Adam()
    w = np.array([1.0])
    rule.step(w, 2 * w, ONE)
    # 1: g = 2; m = 0.1·2 = 0.2, v = 0.001·4 = 0.004; m̂ = 0.2/0.1 = 2, v̂ = 0.004/0.001 = 4;
    # w = 1 − 0.001·2/(√4 + 1e-8) = 1 − 0.001/(1 + 5e-9) = 1 − 0.000999999995 = 0.999000000005
    assert abs(w[0] - 0.999000000005) <= 1e-15
    rule.step(w, 2 * w, ONE)
    # 2: g = 2·0.999000000005 = 1.99800000001
    g = 2 * 0.999000000005
    m = 0.9 * 0.2 + 0.1 * g                    # 0.18 + 0.199800000001 = 0.379800000001
    v = 0.999 * 0.004 + 0.001 * g * g          # 0.003996 + 0.001·3.99200400004 = 0.00798800400004
    m_hat = m / (1 - 0.9 ** 2)                 # / 0.19   = 1.99894736842...
    v_hat = v / (1 - 0.999 ** 2)               # / 0.001999 = 3.99599999999...
    w2 = 0.999000000005 - 0.001 * m_hat / (v_hat ** 0.5 + 1e-8)
    assert m == pytest.approx(0.379800000001, abs=1e-15)
    assert v == pytest.approx(0.00798800400004, abs=1e-15)
    assert abs(w[0] - w2) <= 1e-15
    assert w2 == pytest.approx(0.99800002621, abs=1e-11)


# --- SGD ---------------------------------------------------------------------------------------


def test_sgd_momentum_by_hand():
    # lr 0.1, momentum 0.9, g = 1, 1, 1: dw = −0.1; −0.1 + 0.9·(−0.1) = −0.19;
    # −0.1 + 0.9·(−0.19) = −0.271
    close(changes(SGD(0.1, momentum=0.9), [1, 1, 1]), [-0.1, -0.19, -0.271])


def test_sgd_nesterov_as_pytorch_computes_it():
    # PyTorch: buf = μ·buf + g; the weight moves by −lr·(g + μ·buf). lr 0.1, μ 0.9:
    # 1: g = 1: buf = 1, dw = −0.1·(1 + 0.9·1) = −0.19
    # 2: g = 0.5: buf = 0.9·1 + 0.5 = 1.4, dw = −0.1·(0.5 + 0.9·1.4) = −0.1·1.76 = −0.176
    close(changes(SGD(0.1, momentum=0.9, nesterov=True), [1.0, 0.5]), [-0.19, -0.176])
    # without Nesterov the same gradients give −0.1 and −0.05 + 0.9·(−0.1) = −0.14
    close(changes(SGD(0.1, momentum=0.9), [1.0, 0.5]), [-0.1, -0.14])


def test_weight_decay_and_l2_are_different_things_with_momentum():
    # w = 1, dE/dw = 0 (only the decay acts), lr 0.1, momentum 0.9.
    # L2 0.5 adds l2·w to the gradient, which goes through momentum:
    # 1: v = −0.1·0.5·1 = −0.05, w = 0.95
    # 2: v = 0.9·(−0.05) − 0.1·0.5·0.95 = −0.045 − 0.0475 = −0.0925, w = 0.8575
    close(changes(SGD(0.1, momentum=0.9, l2=0.5), [0, 0], w0=1.0), [-0.05, -0.0925])
    # Rumelhart's decay 0.05 shrinks the weight by 5% each step and never enters momentum:
    # 1: w = 1 − 0.05 = 0.95;  2: w = 0.95 − 0.05·0.95 = 0.9025 (dw = −0.0475)
    close(changes(SGD(0.1, momentum=0.9, weight_decay=0.05), [0, 0], w0=1.0), [-0.05, -0.0475])


def test_weight_decay_and_l2_agree_to_first_order_for_plain_sgd():
    # One step from w = 1 with g = 2, lr 0.1:
    # L2 0.5: w = 1 − 0.1·(2 + 0.5·1) = 0.75
    # decay 0.1·0.5 = 0.05 after the change: (1 − 0.1·2)·(1 − 0.05) = 0.8·0.95 = 0.76:
    # the L2 step plus weight_decay·lr·g = 0.05·0.1·2 = 0.01 (the decay shrinks the change too)
    close(changes(SGD(0.1, l2=0.5), [2.0], w0=1.0), [-0.25])
    close(changes(SGD(0.1, weight_decay=0.05), [2.0], w0=1.0), [-0.24])
    # that relation, step by step, for many weights (one frozen) from the same start
    rng = np.random.default_rng(5)
    lr, l2 = 0.05, 0.3
    mask = np.array([1, 1, 1, 0, 1, 1, 1], float)
    for _ in range(20):
        w, g = rng.normal(size=7), rng.normal(size=7)
        a, b = w.copy(), w.copy()
        SGD(lr, l2=l2).step(a, g, mask)
        SGD(lr, weight_decay=lr * l2).step(b, g, mask)
        np.testing.assert_allclose(b - a, lr * l2 * lr * g * mask, rtol=0, atol=1e-15)
        assert a[3] == b[3] == w[3]


# --- contracts and saved state ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REG.names("optimizer")))
def test_every_registered_optimizer_keeps_its_contract(name):
    REG.optimizer(name).check_contract()


def registry_with(rule):
    """A registry with the built-ins and a plugin object registering the optimiser ``rule``."""
    class Plugin:
        @neurosim.hookimpl
        def neurosim_register_optimizers(self, register):
            register(rule)
    return neurosim.make_registry([Plugin()])


def test_a_rule_that_moves_frozen_weights_is_refused():
    class Sloppy(Optimizer):
        name = "sloppy"

        def update(self, theta, grad, mask, error):
            theta -= 0.1 * grad                 # ignores the mask

    with pytest.raises(ValueError, match="mask is 0"):
        Sloppy.check_contract()

    with pytest.raises(PluginError, match="optimizer 'sloppy' .* does not keep its contract"):
        registry_with(Sloppy)


def test_a_rule_whose_part_steps_differ_from_its_steps_is_refused():
    from neurosim.training.optimizers import SGD

    class Drifting(SGD):
        name = "drifting"

        def part_step(self, theta, grad, scaled=False):       # every part a little further than step goes
            inner = super().part_step(theta, grad, scaled)
            return lambda part, mask: (inner(part, mask), theta.__setitem__(part, theta[part] * (1 + 1e-12)))

    with pytest.raises(ValueError, match="part_step's updates .* differ from step's"):
        Drifting.check_contract()

    class ScalesTwice(SGD):                     # says it takes s · grad, then scales it again
        name = "scales_twice"

        def part_step(self, theta, grad, scaled=False):
            return super().part_step(theta, grad)

    with pytest.raises(ValueError, match=r"part_step\(scaled=True\) from 0\.1 × the gradient's updates .* differ "
                                         r"from step's"):
        ScalesTwice.check_contract()
    SGD.check_contract()                                  # the built-in keeps both
    assert SGD(0.3).gradient_scale() == 0.3 and SGD(0.3, l2=0.01).gradient_scale() is None

    with pytest.raises(PluginError, match="optimizer 'drifting' .* does not keep its contract"):
        registry_with(Drifting)


#: Every rule with options that make its state matter (momentum, a variant's backtracking).
RULES = [("sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
         ("sgd", {"learning_rate": 0.05, "momentum": 0.5, "weight_decay": 0.01, "l2": 0.1}),
         ("rprop", {}), ("rprop", {"variant": "rprop+"}), ("rprop", {"variant": "rprop-"}),
         ("rprop", {"variant": "irprop+"}), ("quickprop", {}), ("adam", {"learning_rate": 0.05})]


def _quadratic(rng):
    """A convex quadratic E(w) = ½ wᵀAw − bᵀw with its gradient and value."""
    M = rng.normal(size=(6, 6))
    A, b = M @ M.T + np.eye(6), rng.normal(size=6)
    return (lambda w: A @ w - b), (lambda w: 0.5 * w @ A @ w - b @ w)


@pytest.mark.parametrize("name, options", RULES)
def test_saved_state_continues_bit_for_bit(name, options):
    grad, value = _quadratic(np.random.default_rng(1))
    mask = np.array([1, 1, 0, 1, 1, 1], float)

    def run(rule, w, steps):
        for _ in range(steps):
            rule.step(w, grad(w), mask, value(w))

    cls = REG.optimizer(name)
    straight = np.linspace(-1, 1, 6)
    run(cls(**options), straight, 20)
    w = np.linspace(-1, 1, 6)
    first = cls(**options)
    run(first, w, 10)
    state = first.state_dict()
    fresh = cls()                                  # made with the defaults: the state brings the options
    fresh.load_state_dict(state, w)
    assert fresh.hyperparameters() == first.hyperparameters()
    run(fresh, w, 10)
    assert np.array_equal(w, straight)
    assert not np.array_equal(w, np.linspace(-1, 1, 6))


def test_loaded_sgd_state_brings_every_option_back():
    # a rule made with other options than the saved one's takes the saved ones, all of them
    # (l2 and nesterov too, though the saved rule's repr leaves them out at their defaults)
    grad, _ = _quadratic(np.random.default_rng(2))
    w, straight = np.zeros(6), np.zeros(6)
    saved = SGD(0.05, momentum=0.9)
    for _ in range(5):
        saved.step(straight, grad(straight), np.ones(6))
    w[...] = straight
    state = saved.state_dict()
    other = SGD(0.2, momentum=0.5, l2=0.3, nesterov=True)
    other.load_state_dict(state, w)
    for _ in range(5):
        saved.step(straight, grad(straight), np.ones(6))
        other.step(w, grad(w), np.ones(6))
    assert np.array_equal(w, straight)


def test_saved_irprop_plus_state_keeps_the_last_error():
    # FLIP with errors rising before the flip (see the iRprop+ test), saved after step 3:
    # the rule that loads it still knows the error was 3.0, so at 4.0 it undoes −0.144.
    errors = [5.0, 4.0, 3.0, 4.0, 2.0]
    w = np.zeros(1)
    first = Rprop(variant="irprop+", delta0=0.1)
    for g, e in zip(FLIP[:3], errors[:3]):
        first.step(w, np.array([float(g)]), ONE, e)
    fresh = Rprop()
    fresh.load_state_dict(first.state_dict(), w)
    moved = []
    for g, e in zip(FLIP[3:], errors[3:]):
        before = float(w[0])
        fresh.step(w, np.array([float(g)]), ONE, e)            # the theta the state was loaded for
        moved.append(float(w[0]) - before)
    close(moved, [0.144, -0.072])


@pytest.mark.parametrize("options", [{}, {"variant": "irprop+"}])
def test_saved_state_continues_training_bit_for_bit(options, xor_net):
    # through net.train in batch mode (iRprop+ carries the last error across the calls)
    straight = xor_net(4)
    h20 = straight.train(XOR_X, XOR_T, mode="batch", epochs=20, optimizer="rprop", optimizer_options=options)
    net = xor_net(4)
    first = Rprop(**options)
    h10 = net.train(XOR_X, XOR_T, mode="batch", epochs=10, optimizer=first)
    state = first.state_dict()
    fresh = Rprop()
    fresh.load_state_dict(state, net.compile().theta)
    h10b = net.train(XOR_X, XOR_T, mode="batch", epochs=10, optimizer=fresh)
    assert np.array_equal(np.concatenate([h10, h10b]), h20)
    assert net.weights() == straight.weights()


def test_loading_another_rules_or_networks_state_is_refused(refused):
    state = Rprop().state_dict()
    refused(DataError, ("'rprop'", "'adam'"), Adam().load_state_dict, state, np.zeros(3))
    rule = Rprop()
    rule.step(np.zeros(3), np.ones(3), np.ones(3))
    refused(DataError, ("'delta'", "3 entries", "5 parameters", "another network"),
            Rprop().load_state_dict, rule.state_dict(), np.zeros(5))


# --- ensembles: each member its own state --------------------------------------------------------


def _spy(cls):
    """A subclass of ``cls`` that records every step it takes: (theta before, grad, mask,
    error, theta after)."""
    class Spy(cls):
        def update(self, theta, grad, mask, error):
            before = theta.copy()
            super().update(theta, grad, mask, error)
            self.log.append((before, grad.copy(), mask.copy(), None if error is None else np.array(error, float),
                             theta.copy()))
    return Spy


SYM = REG.dataset("symmetry")()


def symmetry_net(seed):
    net = neurosim.Network(seed=seed, init_options={"scale": 0.3})
    net.add_layer("i", 6, kind="input")
    b = net.add_bias()
    h = net.add_layer("h", 2, connect_from=[net.inputs], bias=b)
    net.add_layer("o", 1, output=True, connect_from=[h, net.inputs[:1]], bias=b)
    net.set_trainable("bias", "h2", False)
    return net


#: Options and a stop bound at which the three members stop at different epochs.
ENSEMBLE_RULES = [("rprop", {}, 2.6), ("rprop", {"variant": "rprop+"}, 2.7), ("rprop", {"variant": "rprop-"}, 2.5),
                  ("rprop", {"variant": "irprop+"}, 2.5), ("quickprop", {"learning_rate": 0.2}, 2.3),
                  ("adam", {"learning_rate": 0.05}, 3.45)]


@pytest.mark.parametrize("name, options, bound", ENSEMBLE_RULES)
def test_ensemble_members_step_exactly_as_lone_rules(name, options, bound):
    """Member k's entries of the vectorised run step bit for bit as a rule of its own fed
    member k's gradient, mask and error at every step."""
    cls = REG.optimizer(name)
    rule = _spy(cls)(**options)
    rule.log = []
    result = symmetry_net(40).train(SYM.inputs, SYM.targets, mode="batch", epochs=150, ensemble=3,
                                    optimizer=rule, stop={"error_below": bound})
    assert len(set(result.epochs.tolist())) > 1, result.epochs        # members stopped apart
    member_of = rule.member_of
    for k in range(3):
        mine = member_of == k
        lone = cls(**options)
        w = rule.log[0][0][mine].copy()
        for t, (before, grad, mask, error, after) in enumerate(rule.log):
            lone.step(w, grad[mine], mask[mine], None if error is None else error[k])
            assert np.array_equal(w, after[mine]), f"member {k}, step {t + 1}"
        assert np.array_equal(w, result.theta[k])


@pytest.mark.parametrize("name, options, epochs", [("rprop", {}, 60), ("rprop", {"variant": "irprop+"}, 60),
                                                   ("adam", {"learning_rate": 0.05}, 60),
                                                   ("quickprop", {"learning_rate": 0.2}, 10)])
def test_ensemble_members_equal_single_runs(name, options, epochs):
    """Member k of an ensemble ends where a single network with member k's initial weights
    ends, to 1e-12. Not bit for bit: an ensemble's levels are batched matrix products, a
    single network's are not, so the gradients differ in the last bit. Quickprop's secant
    divides by the change of the slope, which magnifies that tenfold every few epochs
    here (1e-15 after 10 epochs, 1e-10 after 30), so it is compared over 10."""
    tol = 1e-12
    kw = dict(mode="batch", epochs=epochs, optimizer=name, optimizer_options=options)
    result = symmetry_net(40).train(SYM.inputs, SYM.targets, ensemble=3, **kw)
    for k in range(3):
        single = symmetry_net(40 + k)
        history = single.train(SYM.inputs, SYM.targets, **kw)
        np.testing.assert_allclose(result.history[:, k], history, rtol=tol, atol=0)
        w = single.weights()
        assert max(abs(w[e] - v) for e, v in result.weights(k).items()) <= tol


def test_irprop_plus_compares_each_members_own_error():
    # Two members, one weight each (member_of [0, 1]), the same gradients with a flip at
    # step 4; member 0's error rose before the flip (3 → 4), member 1's fell (3 → 2.5):
    # member 0 undoes its last change (+0.144), member 1 does not move.
    rule = Rprop(variant="irprop+", delta0=0.1)
    w = np.zeros(2)
    member_of = np.array([0, 1])
    rule.bind(w, member_of)
    errors = [[5, 5], [4, 4], [3, 3], [4, 2.5]]
    moves = []
    for g, e in zip([1, 1, 1, -1], errors):
        before = w.copy()
        rule.step(w, np.full(2, float(g)), np.ones(2), np.array(e, float))
        moves.append(w - before)
    np.testing.assert_allclose(moves[3], [0.144, 0.0], rtol=0, atol=1e-15)
    # the weights: member 0 back at −0.1 − 0.12 = −0.22, member 1 at −0.364
    np.testing.assert_allclose(w, [-0.22, -0.364], rtol=0, atol=1e-15)


def test_irprop_plus_members_errors_move_apart_in_a_real_run():
    """In a real ensemble run the members' errors rise at different steps, and each member
    follows its own (the lone-rule replay above checks the arithmetic)."""
    rule = _spy(Rprop)(variant="irprop+", delta0=0.5)
    rule.log = []
    symmetry_net(40).train(SYM.inputs, SYM.targets, mode="batch", epochs=60, ensemble=3, optimizer=rule)
    errors = np.array([e for _, _, _, e, _ in rule.log])
    rose = errors[1:] > errors[:-1]
    assert rose.any() and (rose.any(axis=1) & ~rose.all(axis=1)).any()   # some step: one rose, another not


# --- PyTorch ---------------------------------------------------------------------------------------

#: neurosim's rule and options, and PyTorch's optimiser with the same hyper-parameters.
TORCH_RULES = {
    "rprop": ({"delta0": 0.01}, lambda torch, p: torch.optim.Rprop([p], lr=0.01, etas=(0.5, 1.2),
                                                                    step_sizes=(1e-6, 50), foreach=False)),
    "adam": ({"learning_rate": 0.01}, lambda torch, p: torch.optim.Adam([p], lr=0.01, foreach=False)),
    "sgd": ({"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
            lambda torch, p: torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True, foreach=False)),
}

#: Random DAGs of every loss configuration (the torch optimiser is fed neurosim's gradients).
TORCH_SEEDS = (0, 1, 2, 3, 4, 7)

#: Every parameter agrees to this after 100 steps.
TORCH_TOL = 1e-12


def _twin(torch, cls, make_torch, diffs):
    """A subclass of ``cls`` that steps a PyTorch copy of theta with the same gradient."""
    class Twin(cls):
        param = None

        def update(self, theta, grad, mask, error):
            if self.param is None:
                self.param = torch.tensor(theta.copy(), requires_grad=True)
                self.torch_rule = make_torch(torch, self.param)
            self.param.grad = torch.from_numpy(grad * mask)
            self.torch_rule.step()
            super().update(theta, grad, mask, error)
            diffs.append(float(np.max(np.abs(theta - self.param.detach().numpy()))))
    return Twin


@pytest.mark.parametrize("name", sorted(TORCH_RULES))
def test_rules_match_pytorch_fed_the_same_gradients(name, random_case_factory):
    torch = pytest.importorskip("torch")
    options, make_torch = TORCH_RULES[name]
    worst = 0.0
    for seed in TORCH_SEEDS:
        case = random_case_factory(seed)
        diffs: list = []
        rule = _twin(torch, REG.optimizer(name), make_torch, diffs)(**options)
        history = case.net.train(case.X, case.T, case.loss, mode="batch", epochs=100, optimizer=rule)
        assert len(diffs) == 100 and np.isfinite(history).all()
        assert history[-1] < history[0]                     # it learned something
        worst = max(worst, max(diffs))
    print(f"\n{name}: max |neurosim - torch| over 100 steps of {len(TORCH_SEEDS)} random DAGs: {worst:.3g}")
    assert worst <= TORCH_TOL


ACT = {"identity": lambda torch, x: x, "sigmoid": lambda torch, x: torch.sigmoid(x),
       "tanh": lambda torch, x: torch.tanh(x), "relu": lambda torch, x: torch.relu(x)}


def _torch_error(torch, case, net):
    """E(theta) of ``case``'s network in torch, theta laid out as the plan's (no softmax)."""
    pos = {(u.name, v.name): p for (u, v), p in net.compile().edge_pos.items()}
    G = nx.DiGraph()
    G.add_nodes_from(case.spec.inputs + case.spec.biases + tuple(n for n, *_ in case.spec.neurons))
    G.add_edges_from((s, d) for s, d, *_ in case.spec.edges)
    order, act, outputs = list(nx.topological_sort(G)), case.activation, [u.name for u in net.outputs]
    assert "softmax" not in act.values()
    X, T = torch.tensor(case.X), torch.tensor(case.T)

    def error(theta):
        out = {name: X[:, i] for i, name in enumerate(case.spec.inputs)}
        out.update({name: torch.ones(X.shape[0], dtype=torch.float64) for name in case.spec.biases})
        for n in order:
            if n not in out:
                s = torch.zeros(X.shape[0], dtype=torch.float64)
                for p in G.predecessors(n):
                    s = s + theta[pos[(p, n)]] * out[p]
                out[n] = ACT[act[n]](torch, s)
        Y = torch.stack([out[n] for n in outputs], dim=1)
        return -(T * torch.log(Y) + (1 - T) * torch.log(1 - Y)).sum()     # bce, summed like neurosim's
    return error


@pytest.mark.parametrize("name", sorted(TORCH_RULES))
def test_training_matches_pytorch_end_to_end(name, random_case_factory):
    """PyTorch computes the gradient itself (autograd through the same DAG) and steps its
    own optimiser; 100 batch epochs end at the same weights and error."""
    torch = pytest.importorskip("torch")
    options, make_torch = TORCH_RULES[name]
    worst = 0.0
    for seed in (1, 6, 11):
        case = random_case_factory(seed, "bce_sigmoid", hidden_softmax=False, softmax_feeds=False)
        net = case.build()
        plan = net.compile()
        error = _torch_error(torch, case, net)
        param = torch.tensor(plan.theta.copy(), requires_grad=True)
        mask = torch.tensor(plan.mask.copy())
        rule = make_torch(torch, param)
        assert error(param).item() == pytest.approx(net.error(case.X, case.T, "bce"), rel=1e-13)
        for _ in range(100):
            rule.zero_grad()
            error(param).backward()
            param.grad.mul_(mask)                                  # frozen weights (and padding)
            rule.step()
        history = net.train(case.X, case.T, "bce", mode="batch", epochs=100, optimizer=name, optimizer_options=options)
        assert history[-1] == pytest.approx(error(param).item(), rel=1e-12)
        assert history[-1] < history[0]
        worst = max(worst, float(np.max(np.abs(plan.theta - param.detach().numpy()))))
    print(f"\n{name} end to end: max |neurosim - torch| after 100 epochs: {worst:.3g}")
    assert worst <= TORCH_TOL


# --- what net.train refuses ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rprop", "quickprop"])
@pytest.mark.parametrize("mode, batch_size", [("online", None), ("minibatch", 2)])
def test_batch_only_rules_refuse_other_modes(refused, name, mode, batch_size, xor_net):
    refused(DataError, (f"the {name} optimiser trains in batch mode only", "mode='batch'",
                        "the whole epoch's gradient", f"mode is {mode!r} here", "pass mode='batch'"),
            xor_net().train, XOR_X, XOR_T, optimizer=name, mode=mode, batch_size=batch_size)
    refused(DataError, ("batch mode only",), xor_net().train, XOR_X, XOR_T,
            optimizer=REG.optimizer(name)(), mode=mode, batch_size=batch_size)
    xor_net().train(XOR_X, XOR_T, optimizer=name, mode="batch", epochs=2)       # batch mode trains


def test_unknown_optimizer_name_gets_did_you_mean(refused, xor_net):
    refused(PluginError, ("unknown optimizer 'rpop'", "did you mean 'rprop'", "adam, quickprop, rprop, sgd"),
            xor_net().train, XOR_X, XOR_T, optimizer="rpop", mode="batch")


@pytest.mark.parametrize("options, error, fragments", [
    ({"delta0": "big"}, DataError, ("delta0", "must be a number", "'big'")),
    ({"delta0": -0.1}, DataError, ("delta0", "> 0")),
    ({"delta": 0.1}, PluginError, ("optimizer 'rprop' has no option 'delta'", "did you mean 'delta0'")),
    ({"variant": "irprop"}, DataError, ("rprop variant", "irprop-, rprop+, rprop-, irprop+", "'irprop'")),
    ({"eta_plus": 0.9}, DataError, ("eta_minus < 1 < eta_plus", "eta_plus=0.9")),
    ({"delta0": 100.0}, DataError, ("delta_min <= delta0 <= delta_max",)),
])
def test_bad_rprop_options_are_refused_naming_the_key(refused, options, error, fragments, xor_net):
    refused(error, fragments, xor_net().train, XOR_X, XOR_T, optimizer="rprop", mode="batch",
            optimizer_options=options)


@pytest.mark.parametrize("name, options, fragments", [
    ("adam", {"beta1": 1.0}, ("beta1", "[0, 1)")),
    ("adam", {"eps": 0}, ("eps", "> 0")),
    ("quickprop", {"mu": True}, ("mu", "must be a number")),
    ("sgd", {"nesterov": True}, ("nesterov", "momentum > 0")),
    ("sgd", {"nesterov": "yes", "momentum": 0.9}, ("nesterov", "true or false")),
])
def test_bad_options_of_other_rules_are_refused_naming_the_key(refused, name, options, fragments, xor_net):
    refused(DataError, fragments, xor_net().train, XOR_X, XOR_T, optimizer=name, mode="batch",
            optimizer_options=options)


def test_optimizer_options_need_an_optimizer_named_by_a_string(refused, xor_net):
    refused(DataError, ("optimizer_options", "optimizer='rprop'", "has its options already"),
            xor_net().train, XOR_X, XOR_T, optimizer=SGD(0.1), optimizer_options={"momentum": 0.9})
    # without any optimizer they would be ignored silently
    refused(DataError, ("optimizer_options", "no optimizer", "optimizer='sgd'"),
            xor_net().train, XOR_X, XOR_T, optimizer_options={"momentum": 0.9})
    refused(DataError, ("optimizer_options", "mapping"), xor_net().train, XOR_X, XOR_T, optimizer="sgd",
            optimizer_options=[("momentum", 0.9)])


def test_an_optimizer_class_instead_of_an_object_is_refused(refused, xor_net):
    refused(DataError, ("optimizer", "SGD", "class", "SGD(...)", "'sgd'"),
            xor_net().train, XOR_X, XOR_T, optimizer=SGD)
    refused(DataError, ("optimizer", "Rprop", "class", "'rprop'"),
            xor_net().train, XOR_X, XOR_T, optimizer=Rprop, mode="batch")


def test_a_schedule_may_set_a_rules_hyperparameters_and_bad_values_are_refused(refused):
    rule = Rprop()
    rule.delta_max = 10.0
    assert rule.delta_max == 10.0
    refused(DataError, ("delta_max", "> 0"), setattr, rule, "delta_max", 0.0)
    adam = Adam()
    refused(DataError, ("learning_rate", "must be a number"), setattr, adam, "learning_rate", "fast")
    refused(DataError, ("beta2", "[0, 1)"), setattr, adam, "beta2", float("nan"))


def test_quickprop_without_a_parabola_steps_downhill():
    # last change +1 with slope S = 2 both times (uphill along the change, no curvature):
    # the secant S / (S_prev - S) divides by zero; the step is the gradient step -0.5·2 = -1
    rule = neurosim.default_registry().optimizer("quickprop")(learning_rate=0.5, decay=0.0)
    theta, mask = np.array([0.0]), np.array([1.0])
    rule.bind(theta)
    rule.state("last_change")[...] = 1.0
    rule.state("last_slope")[...] = 2.0
    rule.step(theta, np.array([2.0]), mask, None)
    assert theta.tolist() == [-1.0]
