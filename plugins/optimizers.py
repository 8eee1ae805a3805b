"""Built-in optimisation rules: sgd, rprop (four variants), quickprop and adam.

Each is a :class:`neurosim.Optimizer` registered through ``neurosim_register_optimizers``
exactly like a third party's. They change the plan's flat parameter vector with a few
numpy operations per step, whatever the network's size or the number of ensemble members;
every per-weight quantity (a step size, a moment, the last change) is a state array
shaped like the parameters, so each member of an ensemble has its own. docs/training.md
gives the equations with their sources.
"""

from __future__ import annotations

import numpy as np

from neurosim import DataError, Optimizer, hookimpl
from neurosim.rules import hyper
from neurosim.training import SGD

RPROP_VARIANTS = ("irprop-", "rprop+", "rprop-", "irprop+")


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun 1993), in Igel & Hüsken's four variants.

    Each weight has its own step size Δ, adapted by the sign of its gradient alone:
    ``Δ ← min(η⁺ Δ, Δmax)`` when ``g(t) g(t−1) > 0``, ``Δ ← max(η⁻ Δ, Δmin)`` when
    ``< 0``, unchanged otherwise; the weight moves by ``−sign(g) Δ``. On a sign change
    the variants differ: ``rprop-`` moves anyway; ``rprop+`` takes its last change back
    (weight backtracking) and forgets the gradient; ``irprop-`` (the default, and
    PyTorch's ``Rprop`` with Δ0 = ``lr``) does not move and forgets the gradient;
    ``irprop+`` forgets the gradient and takes the last change back only if the error rose.

    Parameters
    ----------
    variant : {'irprop-', 'rprop+', 'rprop-', 'irprop+'}, default 'irprop-'
    eta_plus, eta_minus : float, default 1.2 and 0.5
        Growth and shrink factors.
    delta0 : float, default 0.1
        Initial step size.
    delta_max, delta_min : float, default 50 and 1e-6
        Bounds of the step sizes.

    References
    ----------
    .. [1] Riedmiller, M. & Braun, H. (1993). A direct adaptive method for faster
       backpropagation learning: the RPROP algorithm. *ICNN*, 586-591.
    .. [2] Igel, C. & Hüsken, M. (2003). Empirical evaluation of the improved Rprop
       learning algorithms. *Neurocomputing* 50, 105-123.
    """

    name = "rprop"
    batch_only = True
    eta_plus = hyper("Step size growth factor (> 0).", positive=True)
    eta_minus = hyper("Step size shrink factor (> 0).", positive=True)
    delta0 = hyper("Initial step size (> 0).", positive=True)
    delta_max = hyper("Largest step size (> 0).", positive=True)
    delta_min = hyper("Smallest step size (>= 0).")

    def __init__(self, variant: str = "irprop-", eta_plus: float = 1.2, eta_minus: float = 0.5, delta0: float = 0.1,
                 delta_max: float = 50.0, delta_min: float = 1e-6):
        super().__init__()
        self._last_error: np.ndarray | None = None
        if variant not in RPROP_VARIANTS:
            raise DataError(f"rprop variant must be one of {', '.join(RPROP_VARIANTS)}, not {variant!r:.60}")
        self.variant = variant
        self.eta_plus, self.eta_minus, self.delta0 = eta_plus, eta_minus, delta0
        self.delta_max, self.delta_min = delta_max, delta_min
        if not self.eta_minus < 1.0 < self.eta_plus:
            raise DataError(f"rprop needs eta_minus < 1 < eta_plus (the step shrinks on a sign change and grows "
                            f"otherwise), not eta_minus={self.eta_minus:g}, eta_plus={self.eta_plus:g}")
        if not self.delta_min <= self.delta0 <= self.delta_max:
            raise DataError(f"rprop needs delta_min <= delta0 <= delta_max, not {self.delta_min:g}, "
                            f"{self.delta0:g}, {self.delta_max:g}")

    def update(self, theta: np.ndarray, grad: np.ndarray, mask: np.ndarray, error) -> None:
        """One step of the rule (see the class docstring)."""
        delta = self.state("delta", self.delta0)
        previous = self.state("previous_gradient")
        g = grad * mask
        agreement = np.sign(g * previous)
        grow, flip = agreement > 0, agreement < 0
        delta[grow] = np.minimum(delta[grow] * self.eta_plus, self.delta_max)
        delta[flip] = np.maximum(delta[flip] * self.eta_minus, self.delta_min)
        if self.variant == "rprop-":
            change = -np.sign(g) * delta
        else:
            last = self.state("last_change") if self.variant in ("rprop+", "irprop+") else None
            g[flip] = 0.0                           # forget the gradient: next step takes the "else" branch
            change = -np.sign(g) * delta
            if self.variant == "rprop+":
                change[flip] = -last[flip]          # weight backtracking
            elif self.variant == "irprop+":
                rose = self._error_rose(error)
                back = flip & rose if rose is not None else np.zeros_like(flip)
                change[back] = -last[back]
            if last is not None:
                last[...] = change * mask
        change *= mask
        theta += change
        previous[...] = g

    def bind(self, theta: np.ndarray, member_of: np.ndarray | None = None) -> None:
        """Meet a plan's parameters (a new plan also forgets the last error)."""
        if self._theta is not theta:
            self._last_error = None
        super().bind(theta, member_of)

    def _error_rose(self, error) -> np.ndarray | None:
        """Per entry: did its network's (its member's) error rise since the last step?"""
        if error is None:
            return None
        error = np.asarray(error, dtype=float)
        last = self._last_error
        self._last_error = error.copy()
        if last is None:
            return None
        rose = np.asarray(error > last)
        if rose.ndim == 0:
            return np.broadcast_to(rose, self._theta.shape)
        return rose[self.member_of]

    def state_dict(self) -> dict:
        """The base's state, plus the last error iRprop+ compares with."""
        state = super().state_dict()
        state["last_error"] = None if self._last_error is None else np.array(self._last_error)
        return state

    def load_state_dict(self, state: dict, theta: np.ndarray) -> None:
        """Continue from :meth:`state_dict`'s ``state``."""
        super().load_state_dict(state, theta)
        last = state.get("last_error")
        self._last_error = None if last is None else np.array(last, dtype=float)

    def hyperparameters(self) -> dict:
        """The variant and the five constants."""
        return {k: getattr(self, k) for k in ("variant", "eta_plus", "eta_minus", "delta0", "delta_max", "delta_min")}


class Quickprop(Optimizer):
    """Quickprop (Fahlman 1988): a secant step to the minimum of a parabola, per weight.

    With ``S(t) = dE/dw + decay · w``: when the last change ``dw(t−1)`` is not zero, the
    change is the secant step ``dw(t) = S(t) / (S(t−1) − S(t)) · dw(t−1)``, at most
    ``mu`` times the last change (when the slope has not shrunk below ``mu / (1 + mu)``
    of the last one, the maximum growth ``mu · dw(t−1)`` is taken), plus the gradient
    step ``−learning_rate · S(t)`` while the slope still points the way of the last
    change; when the last change is zero (the first step, or after a step of zero), or the
    secant has no parabola to go to (an unchanged slope against the last change), it is
    the plain gradient step ``−learning_rate · S(t)``.

    Parameters
    ----------
    learning_rate : float, default 0.7
        ε of the gradient steps (FANN's default; Fahlman used 0.35-4).
    mu : float, default 1.75
        Maximum growth factor.
    decay : float, default 1e-4
        Weight decay added to the slope.

    References
    ----------
    .. [1] Fahlman, S. E. (1988). An empirical study of learning speed in
       back-propagation networks. Technical report CMU-CS-88-162.
    """

    name = "quickprop"
    batch_only = True
    learning_rate = hyper("ε of the gradient steps; a finite number >= 0.")
    mu = hyper("Maximum growth factor (> 0).", positive=True)
    decay = hyper("Weight decay added to the slope; a finite number >= 0.")

    def __init__(self, learning_rate: float = 0.7, mu: float = 1.75, decay: float = 1e-4):
        super().__init__()
        self.learning_rate, self.mu, self.decay = learning_rate, mu, decay

    def update(self, theta: np.ndarray, grad: np.ndarray, mask: np.ndarray, error) -> None:
        """One step of the rule (see the class docstring)."""
        last_change = self.state("last_change")
        last_slope = self.state("last_slope")
        slope = (grad + self.decay * theta) * mask
        gradient_step = -self.learning_rate * slope
        moved = last_change != 0.0
        shrink = self.mu / (1.0 + self.mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = slope / (last_slope - slope) * last_change
        # the slope in the direction of the last change has not shrunk enough: grow at most mu times
        same_way = -slope * np.sign(last_change)
        too_steep = same_way > shrink * (-last_slope * np.sign(last_change))
        quadratic = np.where(too_steep, self.mu * last_change, secant)
        # An unchanged slope that points back against the last change has no parabola (the
        # secant divides by zero): take the plain gradient step there, downhill.
        quadratic = np.where(np.isfinite(quadratic), quadratic, gradient_step)
        change = np.where(moved, quadratic + np.where(same_way > 0, gradient_step, 0.0), gradient_step)
        change *= mask
        theta += change
        last_change[...] = change
        last_slope[...] = slope


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): steps scaled by running estimates of the gradient's moments.

    ``m ← β1 m + (1 − β1) g``, ``v ← β2 v + (1 − β2) g²``, and the weight moves by
    ``−learning_rate · m̂ / (√v̂ + eps)`` with the bias-corrected ``m̂ = m / (1 − β1^t)``,
    ``v̂ = v / (1 − β2^t)``, ``t`` counting steps (PyTorch's ``Adam`` exactly).

    Parameters
    ----------
    learning_rate : float, default 0.001
        α.
    beta1, beta2 : float, default 0.9 and 0.999
        Decay rates of the moment estimates, in [0, 1).
    eps : float, default 1e-8

    References
    ----------
    .. [1] Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization.
       *ICLR*; arXiv:1412.6980, Algorithm 1.
    """

    name = "adam"
    learning_rate = hyper("α; a finite number >= 0.")
    beta1 = hyper("Decay of the first moment, in [0, 1).", below=1.0)
    beta2 = hyper("Decay of the second moment, in [0, 1).", below=1.0)
    eps = hyper("Added to the root of the second moment (> 0).", positive=True)

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__()
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps

    def update(self, theta: np.ndarray, grad: np.ndarray, mask: np.ndarray, error) -> None:
        """One step of the rule (see the class docstring)."""
        m, v = self.state("m"), self.state("v")
        g = grad * mask
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        t = self.steps
        m_hat = m / (1.0 - self.beta1 ** t)
        v_hat = v / (1.0 - self.beta2 ** t)
        theta -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps) * mask


@hookimpl
def neurosim_register_optimizers(register):
    """Register sgd, rprop, quickprop and adam."""
    for cls in (SGD, Rprop, Quickprop, Adam):
        register(cls)
