"""One training step, number by number: what ``neurosim explain`` and :func:`explain` print.

:func:`explain` (a network and a pattern) and :func:`explain_scenario` (a scenario file
and a step of its training) run the step through neurosim's own training loop and engine
and keep what the engine computed at the moment of the update: every neuron's net input
and output, the error, each neuron's ``dE/dout`` and delta, every weight's gradient and
the weight the optimiser made of it. The :class:`Explanation` they return writes that
step out the way the lecture notes work Mazur's example by hand — each net input as the
sum of its weighted inputs with the numbers filled in, each gradient as the chain-rule
product of its factors, the messages a hidden neuron receives summed — as plain text
(:meth:`Explanation.text`) or as Markdown with LaTeX formulas
(:meth:`Explanation.markdown`). Formulas are written out for the built-in activations,
losses, fused deltas and SGD; for anything else (a plugin's) the engine's value is shown
(``f'(net) = ...``). Every number shown is the engine's; where a formula is evaluated
again for display (a sum of terms, a product of factors) it is checked to agree with the
engine's value. Networks of more than :data:`SUMMARY_NEURONS` computing neurons or
:data:`SUMMARY_EDGES` weights get a summary plus the neurons asked for. docs/explain.md
shows the output for the worked example.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import DEFAULT_OUTPUT_GROUP
from .errors import DataError, NeuronNotFoundError, NeurosimError, NumericalError, ScenarioError, closest
from .network import Network
from .neurons import BiasUnit, InputUnit, Neuron
from .plugins import Registry
from .scenario import load_scenario
from .training import SGD, TrainingRun

__all__ = ["explain", "explain_scenario", "Explanation", "SUMMARY_NEURONS", "SUMMARY_EDGES", "format_number"]

#: A network with more computing neurons than this is summarised (plus the neurons asked for).
SUMMARY_NEURONS = 20
#: A network with more weights than this is summarised (plus the neurons asked for).
SUMMARY_EDGES = 100
#: The most terms a sum is written out with (net inputs, messages, patterns); the rest are counted.
MAX_TERMS = 12
#: The most weights into one neuron listed in full (those with the largest gradients first).
MAX_WEIGHTS = 20
#: The most outputs whose error is listed one by one.
MAX_OUTPUTS = 12


# --- numbers --------------------------------------------------------------------------------------------


def format_number(x: float) -> str:
    """A number as the lecture notes print them: nine decimals, trailing zeros dropped.

    Numbers from 1e-4 up are rounded to nine decimals (at most ten significant digits,
    so ``1.105905967`` keeps its ten and ``0.000438568`` its six); smaller and very large
    ones get nine significant digits in exponent form. ``-0.0`` is ``0``.

    Parameters
    ----------
    x : float

    Returns
    -------
    str
        With an ASCII minus (the text renderer turns it into ``−``).

    Examples
    --------
    >>> format_number(0.7513650695523157), format_number(0.35891647967), format_number(1.1059059670597702)
    ('0.75136507', '0.35891648', '1.105905967')
    >>> format_number(0.00043856773), format_number(2.5e-07), format_number(-0.0)
    ('0.000438568', '2.5e-07', '0')
    """
    x = float(x)
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    a = abs(x)
    if 1e-4 <= a < 1e10:
        digits = int(math.floor(math.log10(a))) + 1          # before the point (<= 0 below 1)
        decimals = 9 if digits <= 1 else max(0, 10 - digits)
        s = f"{a:.{decimals}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        if float(s) == 0.0:
            s = f"{a:.9g}"
    else:
        s = f"{a:.9g}"
        if "e" in s:
            mantissa, exponent = s.split("e")
            if "." in mantissa:
                mantissa = mantissa.rstrip("0").rstrip(".")
            s = f"{mantissa}e{exponent}"
    return ("-" if x < 0 else "") + s


# --- renderers: one document, two notations -----------------------------------------------------------


class _Text:
    """Plain text with Unicode symbols (∂, δ, ·, −, ½, ²)."""

    sym = {"eta": "η", "alpha": "α", "Delta": "Δ", "sum": "Σ", "norm": "|∇E|", "le": "≤", "w_ij": "w_ij",
           "w_jk": "w_jk", "out": "out", "dw_prev": "Δw_prev", "vjp": "vjp", "f'": "f'", "space": "   "}

    def num(self, x: float) -> str:
        return format_number(x).replace("-", "−")

    def m(self, math_text: str) -> str:
        return math_text

    def code(self, name: str) -> str:
        return name

    def var(self, kind: str, name: str) -> str:
        return {"net": "net_", "out": "out_", "delta": "δ_", "t": "t_", "E": "E_"}[kind] + str(name)

    def ivar(self, kind: str, index: str) -> str:
        return self.var(kind, index)

    def w(self, label: str | None, src: str, dst: str) -> str:
        return label if label else f"w({src}→{dst})"

    def plus_mark(self, w: str) -> str:
        return f"{w}⁺"

    def d(self, top: str, bottom: str) -> str:
        return f"∂{top}/∂{bottom}"

    def times(self, *xs: str) -> str:
        return " · ".join(xs)

    def tight(self, a: str, b: str) -> str:
        return f"{a}·{b}"

    def plus(self, xs: Iterable[str]) -> str:
        return " + ".join(xs)

    def minus(self, a: str, b: str) -> str:
        return f"{a} − {b}"

    def neg(self, a: str) -> str:
        return f"−{a}"

    def paren(self, a: str) -> str:
        return f"({a})"

    def eq(self, *xs: str) -> str:
        return " = ".join(xs)

    def half(self, a: str) -> str:
        return f"½ {a}"

    def sq(self, a: str) -> str:
        return f"{a}²"

    def frac(self, a: str, b: str) -> str:
        return f"{a} / {b}"

    def exp(self, a: str) -> str:
        return f"e^({a})"

    def fn(self, name: str, a: str) -> str:
        return f"{name}({a})"

    def ln(self, a: str) -> str:
        return f"ln({a})"

    def sigma(self, index: str, body: str) -> str:
        return f"Σ_{index} {body}"

    def more(self, n: int, what: str) -> str:
        return f"… ({n} more {what})"

    def word(self, s: str) -> str:
        return s

    def render(self, items: list) -> str:
        lines: list[str] = []
        width = 0
        for item in items:
            kind = item[0]
            if kind == "h1":
                lines.append(item[1])
            elif kind == "p":
                lines.append(item[1])
            elif kind == "h2":
                lines.append("")
                lines.append(item[1])
                width = max((len(it[1]) for it in _section(items, item)), default=0)
            elif kind == "eq":
                label, body, note = item[1], item[2], item[3]
                text = f"  {label:<{width}}  {body}" if width else f"  {body}"
                lines.append(text + (f"   ({note})" if note else ""))
        return "\n".join(line.rstrip() for line in lines) + "\n"


class _Latex:
    """Markdown prose with LaTeX formulas (``$...$``)."""

    sym = {"eta": "\\eta", "alpha": "\\alpha", "Delta": "\\Delta ", "sum": "\\sum",
           "norm": "\\lVert \\nabla E \\rVert", "le": "\\le", "w_ij": "w_{ij}", "w_jk": "w_{jk}",
           "out": "\\mathrm{out}", "dw_prev": "\\Delta w_{\\mathrm{prev}}", "vjp": "\\mathrm{vjp}", "f'": "f'",
           "space": "\\quad "}

    def num(self, x: float) -> str:
        s = format_number(x)
        if "e" in s and s not in ("inf", "-inf", "nan"):
            mantissa, exponent = s.split("e")
            s = f"{mantissa} \\times 10^{{{int(exponent)}}}"
        return {"inf": "\\infty", "-inf": "-\\infty", "nan": "\\mathrm{NaN}"}.get(s, s)

    def m(self, math_text: str) -> str:
        return f"${math_text}$"

    def code(self, name: str) -> str:
        return f"`{name}`"

    def _name(self, name: str) -> str:
        escaped = "".join("\\" + c if c in "#$%&_{}" else ("\\textasciitilde{}" if c == "~" else
                          "\\textasciicircum{}" if c == "^" else "\\textbackslash{}" if c == "\\" else c)
                          for c in str(name))
        return f"\\text{{{escaped}}}"

    def var(self, kind: str, name: str) -> str:
        base = {"net": "\\mathrm{net}", "out": "\\mathrm{out}", "delta": "\\delta", "t": "t", "E": "E"}[kind]
        return f"{base}_{{{self._name(name)}}}"

    def ivar(self, kind: str, index: str) -> str:
        base = {"net": "\\mathrm{net}", "out": "\\mathrm{out}", "delta": "\\delta", "t": "t", "E": "E"}[kind]
        return f"{base}_{{{index}}}"

    def w(self, label: str | None, src: str, dst: str) -> str:
        if label:
            return f"\\mathrm{{{self._name(label)[6:-1]}}}"
        return f"w_{{{self._name(src)} \\to {self._name(dst)}}}"

    def plus_mark(self, w: str) -> str:
        return f"{w}^{{+}}"

    def d(self, top: str, bottom: str) -> str:
        return f"\\frac{{\\partial {top}}}{{\\partial {bottom}}}"

    def times(self, *xs: str) -> str:
        return " \\cdot ".join(xs)

    def tight(self, a: str, b: str) -> str:
        return f"{a} \\cdot {b}"

    def plus(self, xs: Iterable[str]) -> str:
        return " + ".join(xs)

    def minus(self, a: str, b: str) -> str:
        return f"{a} - {b}"

    def neg(self, a: str) -> str:
        return f"-{a}"

    def paren(self, a: str) -> str:
        return f"\\left({a}\\right)"

    def eq(self, *xs: str) -> str:
        return " = ".join(xs)

    def half(self, a: str) -> str:
        return f"\\tfrac{{1}}{{2}} {a}"

    def sq(self, a: str) -> str:
        return f"{{{a}}}^{{2}}"

    def frac(self, a: str, b: str) -> str:
        if b.startswith("\\left(") and b.endswith("\\right)") and b.count("\\left(") == 1:
            b = b[6:-7]                      # a fraction's bar groups already
        return f"\\frac{{{a}}}{{{b}}}"

    def exp(self, a: str) -> str:
        return f"e^{{{a}}}"

    def fn(self, name: str, a: str) -> str:
        known = {"tanh": "\\tanh", "max": "\\max"}
        op = known.get(name) or "\\operatorname{" + self._name(name)[6:-1] + "}"
        return f"{op}\\left({a}\\right)"

    def ln(self, a: str) -> str:
        return f"\\ln\\left({a}\\right)"

    def sigma(self, index: str, body: str) -> str:
        return f"\\sum_{{{index}}} {body}"

    def more(self, n: int, what: str) -> str:
        return f"\\ldots\\ (\\text{{{n} more {what}}})"

    def word(self, s: str) -> str:
        return f"\\text{{{s}}}"

    def render(self, items: list) -> str:
        lines: list[str] = []
        for item in items:
            kind = item[0]
            if kind == "h1":
                lines += [f"# {item[1]}", ""]
            elif kind == "p":
                lines += [item[1], ""]
            elif kind == "h2":
                if lines and lines[-1] != "":
                    lines.append("")
                lines += [f"## {item[1]}", ""]
            elif kind == "eq":
                label, body, note = item[1], item[2], item[3]
                head = f"**{label}** " if label else ""
                lines.append(f"- {head}${body}$" + (f" ({note})" if note else ""))
        return "\n".join(lines).rstrip() + "\n"


def _section(items: list, heading: tuple) -> list:
    """The ``eq`` items under ``heading``, up to the next heading."""
    at = next(k for k, it in enumerate(items) if it is heading)
    out = []
    for it in items[at + 1:]:
        if it[0] == "h2":
            break
        if it[0] == "eq":
            out.append(it)
    return out


# --- what the engine computed ----------------------------------------------------------------------------


@dataclass
class _Snapshot:
    """The engine's state at the moment of one update (copies, taken before the step)."""

    network: Network
    plan: Any
    loss: Any
    X: np.ndarray              # the step's inputs (P, n_inputs)
    T: np.ndarray              # the step's targets (P, n_outputs)
    out: np.ndarray            # every unit's output (units, P)
    net: np.ndarray            # net inputs
    delta: np.ndarray          # dE/dnet
    gy: np.ndarray             # dE/dout
    grad: np.ndarray           # the gradient the optimiser was given (ties reduced)
    before: np.ndarray         # theta before the step
    after: np.ndarray          # ... and after it
    mask: np.ndarray           # trainable mask
    optimizer: Any
    hyper: dict                # the rule's hyper-parameters at the step
    velocity: np.ndarray | None    # SGD's previous change (momentum), before the step
    step: int                  # 1-based update number


class _Reached(Exception):
    """Raised from inside the training loop once the step asked for has been taken."""


def _capture(job: TrainingRun, step: int) -> _Snapshot | None:
    """Run ``job`` until its ``step``-th update and return the engine's state at it, or
    None when training ends before (its epochs run out or a stop criterion ends it).

    The run's own loop trains, so the step is exactly the one the run makes (its pattern
    order, schedule, optimiser state); only the update function and the backward pass are
    wrapped, to see the targets and the buffers at the update.
    """
    trainer = job.trainer
    plan = trainer.plan
    trainer.use_part_steps = False            # one whole update per step, through the wrapped _step
    seen: dict[str, Any] = {"updates": 0, "T": None}
    real_backward, real_step = plan.backward, trainer._step

    def backward(T, loss, value=True, **more):
        seen["T"] = T
        return real_backward(T, loss, value, **more)

    def update(theta, grad, mask, error=None):
        seen["updates"] += 1
        if seen["updates"] < step:
            return real_step(theta, grad, mask, error)
        buf = plan.last
        opt = trainer.optimizer
        hyper = dict(opt.hyperparameters()) if hasattr(opt, "hyperparameters") else {}
        velocity = None
        if type(opt) is SGD and opt.momentum:
            velocity = opt.state("velocity").copy()
        before = theta.copy()
        real_step(theta, grad, mask, error)
        X = np.ascontiguousarray(buf.inputs.T).copy()
        snap = _Snapshot(job.network, plan, trainer.loss, X, np.array(seen["T"], copy=True), buf.out.copy(),
                         buf.net.copy(), buf.delta.copy(), buf.gy.copy(), grad.copy(), before, theta.copy(),
                         np.asarray(mask).copy(), opt, hyper, velocity, step)
        raise _Reached(snap)

    plan.backward, trainer._step = backward, update
    try:
        job.run()
    except _Reached as reached:
        return reached.args[0]
    finally:
        del plan.backward
        trainer._step = real_step
    return None


# --- the explanation ---------------------------------------------------------------------------------------


class Explanation:
    """One training step written out number by number (made by :func:`explain` or
    :func:`explain_scenario`).

    :meth:`text` is what ``neurosim explain`` prints; :meth:`markdown` the same with the
    formulas in LaTeX (``$...$``), for a notebook or a web page (a Jupyter notebook shows
    it by itself). ``str(explanation)`` is the text. The numbers behind it are attributes.

    Attributes
    ----------
    step : int
        Which update of the training this is (1 for the first).
    pattern : int
        Which of the step's patterns the per-pattern arithmetic is shown for.
    patterns : int
        How many patterns the step's gradient sums over (1 online; the batch otherwise).
    error : float
        The total error of the step's patterns before the update.
    gradients : dict
        ``{(src, dst): dE/dw}`` as the optimiser received it (summed over the step's
        patterns; a tied set's shared gradient).
    weights, updated : dict
        ``{(src, dst): w}`` before and after the update.
    deltas : dict
        ``{neuron: dE/dnet}`` of the shown pattern.
    summary : bool
        Whether the network was summarised (too large to write out whole).
    """

    def __init__(self, snap: _Snapshot, *, title: str, context: list[str], neurons: list[str] | None,
                 pattern: int):
        self._s = snap
        self._title = title
        self._context = context
        net = snap.network
        self._net = net
        self._plan = snap.plan
        self.step = snap.step
        self.pattern = pattern
        self.patterns = snap.X.shape[0]
        self._reg = net.registry
        self._idx = snap.plan.index
        self._pos = snap.plan.edge_pos
        self._names = {u.name: u for u in net}
        p = pattern
        rows = [self._idx[u] for u in net.outputs]
        self._Y = snap.out[rows].T.copy()          # (P, n_outputs)
        with np.errstate(all="ignore"):
            self.error = float(snap.loss.value(self._Y, snap.T))
        self.gradients = {(u.name, v.name): float(snap.grad[k]) for (u, v), k in self._pos.items()}
        self.weights = {(u.name, v.name): float(snap.before[k]) for (u, v), k in self._pos.items()}
        self.updated = {(u.name, v.name): float(snap.after[k]) for (u, v), k in self._pos.items()}
        self.deltas = {u.name: float(snap.delta[self._idx[u], p]) for u in net.neurons}
        self.summary = len(net.neurons) > SUMMARY_NEURONS or net.n_weights > SUMMARY_EDGES
        self._asked = neurons
        units = snap.plan.units
        levels = [[u for u in units[lv.start:lv.stop]] for lv in snap.plan.levels]
        if neurons is not None:
            wanted = set(neurons)
            levels = [[u for u in level if u.name in wanted] for level in levels]
        elif self.summary:
            levels = []
        self._levels = [level for level in levels if level]
        self._shown = [u for level in self._levels for u in level]      # computation order
        self._backward_order = [u for level in reversed(self._levels) for u in level]
        self._fused = self._fused_rows()
        self._out_col = {u: k for k, u in enumerate(net.outputs)}
        self._ties = {e: tie for tie in net.ties.values() for e in tie.edges}
        dtype = np.dtype(snap.plan.dtype)
        self._rtol = 1e4 * float(np.finfo(dtype).eps)
        self._known: dict = {}          # which registered functions compute the built-in formulas

    # --- public ---------------------------------------------------------------------------------------------

    def text(self) -> str:
        """The step as plain text (what ``neurosim explain`` prints).

        Returns
        -------
        str
        """
        return self._render(_Text())

    def markdown(self) -> str:
        """The step as Markdown, every formula in LaTeX between ``$`` signs.

        Returns
        -------
        str
        """
        return self._render(_Latex())

    def __str__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return (f"Explanation(step {self.step}, {self.patterns} pattern{'s' if self.patterns != 1 else ''}, "
                f"error {format_number(self.error)})")

    # --- engine values ----------------------------------------------------------------------------------------

    def _v(self, array: np.ndarray, unit, p: int | None = None) -> float:
        return float(array[self._idx[unit], self.pattern if p is None else p])

    def _w(self, u, v) -> float:
        return float(self._s.before[self._pos[(u, v)]])

    def _label(self, u, v) -> str | None:
        return self._net.graph.edges[u, v].get("label")

    def _fused_rows(self) -> dict:
        """``{neuron: fused delta function}`` for the outputs whose delta the loss gives directly,
        as the engine decides it (a segment of outputs all with the activation the loss pairs with)."""
        loss = self._s.loss
        rows = {}
        units = self._plan.units
        for lv in self._plan.levels:
            for seg in lv.segments:
                f = loss.fused.get(seg.activation.name) if seg.output else None
                if f is not None:
                    for r in range(seg.start, seg.stop):
                        rows[units[r]] = f
        return rows

    def _group(self, u) -> list:
        """The neurons a group activation normalises ``u`` with, in the engine's order."""
        key = u.group if u.group is not None else (DEFAULT_OUTPUT_GROUP if u.output else None)
        return [v for v in self._plan.units if isinstance(v, Neuron) and v.activation == u.activation and
                (v.group if v.group is not None else (DEFAULT_OUTPUT_GROUP if v.output else None)) == key]

    def _agree(self, what: str, shown: float, engine: float, scale: float = 0.0) -> None:
        """A formula evaluated for display must give the engine's value (to rounding)."""
        if not (math.isfinite(shown) and math.isfinite(engine)):
            if shown == engine or (math.isnan(shown) and math.isnan(engine)):
                return
        tol = self._rtol * (abs(engine) + abs(scale)) + 1e-300
        if not abs(shown - engine) <= tol:
            raise NumericalError(f"explain: {what} written out gives {shown!r}, the engine computed {engine!r}; "
                                 "the explanation would not match the training step (please report this)")

    # --- the document -------------------------------------------------------------------------------------------

    def _render(self, R) -> str:
        items: list = [("h1", self._title)]
        for line in self._context:
            items.append(("p", line))
        items += self._header(R)
        if self.summary:
            items += self._summary(R)
        if self._shown:
            items += self._forward(R)
            items += self._error(R)
            items += self._backward(R)
            items += self._weights(R)
        elif not self.summary:
            items += self._error(R)
        return R.render(items)

    def _header(self, R) -> list:
        s, net = self._s, self._net
        p = self.pattern
        items = [("p", f"network: {net!r}")]
        loss = s.loss
        formula = self._loss_formula(R)
        items.append(("p", f"loss: {loss.name}" + (f", {R.m(formula)}" if formula else
                                                   f" ({loss.description})" if loss.description else "")))
        items.append(("p", "rule: " + self._rule_text(R)))
        ins = [f"{R.code(u.name)} = {R.m(R.num(s.X[p, k]))}" for k, u in enumerate(net.inputs[:MAX_TERMS])]
        if len(net.inputs) > MAX_TERMS:
            ins.append(f"… ({len(net.inputs)} inputs)")
        outs = [f"{R.code(u.name)} = {R.m(R.num(s.T[p, k]))}" for k, u in enumerate(net.outputs[:MAX_TERMS])]
        if len(net.outputs) > MAX_TERMS:
            outs.append(f"… ({len(net.outputs)} outputs)")
        which = f"pattern {p} of the step's {self.patterns}" if self.patterns > 1 else "pattern"
        items.append(("p", f"{which}: inputs {', '.join(ins)}; targets {', '.join(outs)}"))
        if self.patterns > 1:
            items.append(("p", f"this step's gradient sums over its {self.patterns} patterns; the arithmetic of "
                               f"pattern {p} is shown (choose another with pattern= / --pattern), each gradient as "
                               "the sum of every pattern's term"))
        return items

    def _rule_text(self, R) -> str:
        s = self._s
        opt, hyper = s.optimizer, s.hyper
        if type(opt) is SGD:
            lr = hyper.get("learning_rate", opt.learning_rate)
            m = hyper.get("momentum", 0.0)
            eta, alpha, dw = R.sym["eta"], R.sym["alpha"], R.sym["Delta"] + "w"
            g = R.d("E", "w")
            if hyper.get("l2"):
                g = R.paren(R.plus([g, R.tight(R.num(hyper["l2"]), "w")]))
            if m:
                parts = [R.m(R.eq(dw, R.plus([R.neg(R.tight(eta, g)), R.tight(alpha, R.sym["dw_prev"])]))),
                         R.m(R.eq(R.plus_mark("w"), R.plus(["w", dw])))]
            else:
                parts = [R.m(R.eq(R.plus_mark("w"), R.minus("w", R.tight(eta, g))))]
            text = f"sgd, {', '.join(parts)}; {R.m(R.eq(eta, R.num(lr)))}"
            if m:
                text += f", {R.m(R.eq(alpha, R.num(m)))}"
                if hyper.get("nesterov"):
                    text += " (Nesterov: the weight moves by " + R.m(R.minus(R.tight(alpha, dw), R.tight(eta, g))) + \
                        " instead)"
            if hyper.get("weight_decay"):
                text += f"; then every trainable weight shrinks by {R.num(hyper['weight_decay'])}"
            return text
        shown = ", ".join(f"{k} = {v}" for k, v in hyper.items())
        return (f"{getattr(opt, 'name', type(opt).__name__)} ({shown}): the rule's own change of each weight is "
                "shown, with its state from the steps before")

    # --- formulas of the built-ins ---------------------------------------------------------------------------------

    def _loss_formula(self, R) -> str | None:
        name = self._s.loss.name
        t, y, total = "t", R.sym["out"], R.sym["sum"] + " "
        if name == "mse":
            return R.eq("E", total + R.half(R.sq(R.paren(R.minus(t, y)))))
        if name == "bce":
            body = R.plus([R.tight(t, R.ln(y)), R.tight(R.paren(R.minus("1", t)), R.ln(R.minus("1", y)))])
            return R.eq("E", R.neg(total + "[" + body + "]"))
        if name == "cce":
            return R.eq("E", R.neg(total + R.tight(t, R.ln(y))))
        return None

    def _known_loss(self) -> str | None:
        """The built-in loss's name when the registered loss computes what its formula says."""
        if "loss" not in self._known:
            self._known["loss"] = self._check_loss()
        return self._known["loss"]

    def _check_loss(self) -> str | None:
        name = self._s.loss.name
        if name not in ("mse", "bce", "cce"):
            return None
        y = np.array([[0.3, 0.6]])
        t = np.array([[0.2, 0.9]])
        loss = self._s.loss
        want = {"mse": (0.5 * ((t - y) ** 2).sum(), y - t),
                "bce": (-(t * np.log(y) + (1 - t) * np.log(1 - y)).sum(), (y - t) / (y * (1 - y))),
                "cce": (-(t * np.log(y)).sum(), -t / y)}[name]
        try:
            ok = np.isclose(float(loss.value(y.copy(), t)), want[0], rtol=1e-12) and \
                np.allclose(loss.gradient(y.copy(), t), want[1], rtol=1e-12)
        except Exception:        # a plugin's loss under a built-in name, with another contract
            ok = False
        return name if ok else None

    def _known_activation(self, act) -> str | None:
        """The built-in activation's name when the registered one computes what its formula says."""
        key = ("activation", act.name)
        if key not in self._known:
            self._known[key] = self._check_activation(act)
        return self._known[key]

    @staticmethod
    def _check_activation(act) -> str | None:
        name = act.name
        net = np.linspace(-2.0, 2.0, 5)[None, :]
        try:
            y = act.function(net.copy())
            if name == "sigmoid":
                ok = np.allclose(y, 1 / (1 + np.exp(-net)), rtol=1e-13) and act.derivative is not None and \
                    np.allclose(act.derivative(net, y), y * (1 - y), rtol=1e-13)
            elif name == "tanh":
                ok = np.allclose(y, np.tanh(net), rtol=1e-13) and act.derivative is not None and \
                    np.allclose(act.derivative(net, y), 1 - y * y, rtol=1e-13)
            elif name == "identity":
                ok = np.allclose(y, net) and act.derivative is not None and np.allclose(act.derivative(net, y), 1)
            elif name == "relu":
                ok = np.allclose(y, np.maximum(net, 0)) and act.derivative is not None and \
                    np.allclose(act.derivative(net, y), net > 0)
            elif name == "softmax":
                z = np.exp(net - net.max())
                soft = z / z.sum()
                g = np.linspace(0.5, -0.5, 5)[None, :]
                ok = act.group and act.vjp is not None and np.allclose(y, soft, rtol=1e-13) and \
                    np.allclose(act.vjp(net, y, g), y * (g - (g * y).sum()), rtol=1e-12, atol=1e-15)
            else:
                ok = False
        except Exception:
            ok = False
        return name if ok else None

    # --- sections --------------------------------------------------------------------------------------------------

    def _summary(self, R) -> list:
        net = self._net
        items: list = [("h2", "summary")]
        n_train = int(sum(1 for (u, v) in self._pos if net.trainable(u, v)))
        items.append(("p", f"{len(net.neurons)} computing neurons and {net.n_weights} weights ({n_train} trainable): "
                           f"more than {SUMMARY_NEURONS} neurons or {SUMMARY_EDGES} weights, so only a summary"
                           + (" and the neurons asked for are written out" if self._asked else
                              "; name the neurons to write out with neurons=[...] (--neurons h1,o2)")))
        items.append(("eq", "", R.eq(R.var("E", "total"), R.num(self.error)), f"the step's {self.patterns} "
                      f"pattern{'s' if self.patterns != 1 else ''}"))
        grads = sorted(self.gradients.items(), key=lambda kv: -abs(kv[1]))[:5]
        items.append(("eq", "", R.eq(R.sym["norm"],
                                     R.num(float(np.sqrt(sum(g * g for g in self.gradients.values()))))),
                      "the gradient's length over every weight"))
        for (a, b), g in grads:
            u, v = self._names[a], self._names[b]
            wname = R.w(self._label(u, v), a, b)
            items.append(("eq", "", R.eq(R.d("E", wname), R.num(g)), f"{a} → {b}, among the largest"))
        deltas = sorted(self.deltas.items(), key=lambda kv: -abs(kv[1]))[:5]
        for name, d in deltas:
            items.append(("eq", "", R.eq(R.var("delta", name), R.num(d)), "among the largest deltas"))
        changes = sorted(((k, self.updated[k] - self.weights[k]) for k in self.weights), key=lambda kv: -abs(kv[1]))
        moved = sum(1 for _, c in changes if c != 0.0)
        items.append(("p", f"the update changes {moved} of the {net.n_weights} weights; the largest changes:"))
        for (a, b), c in changes[:3]:
            u, v = self._names[a], self._names[b]
            wname = R.w(self._label(u, v), a, b)
            items.append(("eq", "", R.eq(R.plus_mark(wname), R.plus([R.num(self.weights[a, b]), R.num(c)]),
                                         R.num(self.updated[a, b])), f"{a} → {b}"))
        return items

    def _forward(self, R) -> list:
        s = self._s
        rule = R.eq(R.ivar("net", "j"), R.sigma("i", R.tight(R.sym["w_ij"], R.ivar("out", "i"))))
        items: list = [("h2", f"forward pass: {R.m(rule)}, "
                              f"{R.m(R.eq(R.ivar('out', 'j'), R.fn('f', R.ivar('net', 'j'))))}")]
        for u in self._shown:
            items += self._net_line(R, u)
            act = self._reg.activation(u.activation)
            known = self._known_activation(act)
            out = self._v(s.out, u)
            net_in = self._v(s.net, u)
            name = u.name
            if act.group:
                group = self._group(u)
                if known == "softmax":
                    terms = [R.exp(R.num(self._v(s.net, v))) for v in group[:MAX_TERMS]]
                    if len(group) > MAX_TERMS:
                        terms.append(R.more(len(group) - MAX_TERMS, "terms"))
                    denominator = R.plus(terms)
                    nets = [self._v(s.net, v) for v in group]
                    top = max(nets)
                    exact = math.exp(net_in - top) / sum(math.exp(n - top) for n in nets)
                    self._agree(f"the softmax output of {name}", exact, out)
                    sym = R.frac(R.exp(R.var("net", name)), R.sigma("k", R.exp(R.ivar("net", "k"))))
                    items.append(("eq", "", R.eq(R.var("out", name), sym, R.frac(R.exp(R.num(net_in)),
                                                                                 R.paren(denominator)), R.num(out)),
                                  None if u.group is None and u.output and len(group) == len(self._net.outputs)
                                  else f"k over group {u.group or DEFAULT_OUTPUT_GROUP!r}"))
                else:
                    items.append(("eq", "", R.eq(R.var("out", name), R.fn(u.activation, R.var("net", name)),
                                                 R.num(out)),
                                  f"{u.activation}: a group activation over "
                                  f"{', '.join(v.name for v in group[:6])}{' …' if len(group) > 6 else ''}; "
                                  "no formula known, the engine's value"))
                continue
            if known == "sigmoid":
                body = R.eq(R.frac("1", R.paren(R.plus(["1", R.exp(R.neg(R.var("net", name)))]))),
                            R.frac("1", R.paren(R.plus(["1", R.exp(R.num(-net_in))]))))
            elif known == "tanh":
                body = R.eq(R.fn("tanh", R.var("net", name)), R.fn("tanh", R.num(net_in)))
            elif known == "relu":
                body = R.eq(R.fn("max", f"0, {R.var('net', name)}"), R.fn("max", f"0, {R.num(net_in)}"))
            elif known == "identity":
                body = R.var("net", name)
            else:
                body = R.fn(u.activation, R.num(net_in))
            items.append(("eq", "", R.eq(R.var("out", name), body, R.num(out)),
                          None if known else f"{u.activation}: no formula known, the engine's value"))
        return items

    def _net_line(self, R, u) -> list:
        s = self._s
        preds = list(self._net.graph.predecessors(u))
        net_in = self._v(s.net, u)
        terms, exact, scale = [], 0.0, 0.0
        for k, src in enumerate(preds):
            w, y = self._w(src, u), self._v(s.out, src)
            exact += w * y
            scale += abs(w * y)
            if k < MAX_TERMS or len(preds) <= MAX_TERMS:
                terms.append(R.tight(R.num(w), R.num(y)))
        if len(preds) > MAX_TERMS:
            terms = terms[:MAX_TERMS - 2] + [R.more(len(preds) - (MAX_TERMS - 2), "terms")]
        self._agree(f"the net input of {u.name}", exact, net_in, scale)
        if not preds:
            return [("eq", u.name, R.eq(R.var("net", u.name), R.num(net_in)), "no incoming connections")]
        return [("eq", u.name, R.eq(R.var("net", u.name), R.plus(terms), R.num(net_in)), None)]

    def _error_terms(self, p: int) -> tuple[list[float] | None, float]:
        """Each output's error for pattern ``p`` (the loss on its column alone) when the loss
        is a sum over outputs, else None; and the pattern's total."""
        s = self._s
        loss = s.loss
        Y, T = self._Y[p:p + 1], s.T[p:p + 1]
        with np.errstate(all="ignore"):
            total = float(loss.value(Y, T))
            try:
                each = [float(loss.value(Y[:, k:k + 1], T[:, k:k + 1])) for k in range(Y.shape[1])]
            except Exception:
                return None, total
        scale = abs(total) + sum(map(abs, each))
        if not all(map(math.isfinite, each)) or abs(sum(each) - total) > self._rtol * scale:
            return None, total
        return each, total

    def _error(self, R) -> list:
        s, net = self._s, self._net
        p = self.pattern
        loss = s.loss
        known = self._known_loss()
        formula = self._loss_formula(R)
        items: list = [("h2", f"error: {loss.name}" + (f", {R.m(formula)}" if formula else ""))]
        each, total = self._error_terms(p)
        outputs = net.outputs
        shown = set(self._shown)
        listed = [k for k, u in enumerate(outputs) if (not self.summary or u in shown)]
        if len(listed) > MAX_OUTPUTS and not self._asked:
            listed = listed[:MAX_OUTPUTS]
        if each is not None:
            for k in listed:
                u = outputs[k]
                y, t = float(self._Y[p, k]), float(s.T[p, k])
                sym, num = self._error_formula(R, known, u.name, y, t)
                parts = [R.var("E", u.name)] + ([sym, num] if sym else []) + [R.num(each[k])]
                items.append(("eq", "", R.eq(*parts), None if sym else f"{loss.name}: no formula known, the "
                              "loss's value for this output alone"))
            terms = [R.num(e) for e in each[:MAX_TERMS]]
            if len(each) > MAX_TERMS:
                terms = terms[:MAX_TERMS - 2] + [R.more(len(each) - (MAX_TERMS - 2), "outputs")]
            label = R.var("E", "total") if self.patterns == 1 else "E"
            note = None if self.patterns == 1 else f"pattern {p}'s error"
            if len(each) > 1:
                items.append(("eq", "", R.eq(label, R.plus(terms), R.num(total)), note))
            elif self.patterns > 1:
                items.append(("eq", "", R.eq(label, R.num(total)), note))
            else:
                items.append(("eq", "", R.eq(label, R.num(total)), note))
        else:
            label = R.var("E", "total") if self.patterns == 1 else "E"
            items.append(("eq", "", R.eq(label, R.num(total)), f"{loss.name} is not a sum over the outputs"
                          + ("" if self.patterns == 1 else f"; pattern {p}'s error")))
        if self.patterns > 1:
            per = [self._error_terms(q)[1] for q in range(self.patterns)]
            self._agree("the step's error summed over its patterns", sum(per), self.error, sum(map(abs, per)))
            terms = [R.num(e) for e in per[:MAX_TERMS]]
            if len(per) > MAX_TERMS:
                terms = terms[:MAX_TERMS - 2] + [R.more(len(per) - (MAX_TERMS - 2), "patterns")]
            items.append(("eq", "", R.eq(R.var("E", "total"), R.plus(terms), R.num(self.error)),
                          f"over the step's {self.patterns} patterns"))
        return items

    def _error_formula(self, R, known: str | None, name: str, y: float, t: float) -> tuple[str | None, str | None]:
        ty, yy = R.var("t", name), R.var("out", name)
        if known == "mse":
            return (R.half(R.sq(R.paren(R.minus(ty, yy)))), R.half(R.sq(R.paren(R.minus(R.num(t), R.num(y))))))
        if known == "bce" and 0 < y < 1:
            sym = R.neg("[" + R.plus([R.tight(ty, R.ln(yy)), R.tight(R.paren(R.minus("1", ty)),
                                                                   R.ln(R.minus("1", yy)))]) + "]")
            num = R.neg("[" + R.plus([R.tight(R.num(t), R.ln(R.num(y))), R.tight(R.paren(R.minus("1", R.num(t))),
                                                                              R.ln(R.minus("1", R.num(y))))]) + "]")
            return sym, num
        if known == "cce" and y > 0:
            return R.neg(R.tight(ty, R.ln(yy))), R.neg(R.tight(R.num(t), R.ln(R.num(y))))
        return None, None

    def _backward(self, R) -> list:
        head = ("backward pass: " + R.m(R.eq(R.ivar("delta", "j"), R.d("E", R.ivar("net", "j")),
                                            R.times(R.d("E", R.ivar("out", "j")), R.d(R.ivar("out", "j"),
                                                                                     R.ivar("net", "j")))))
                + "; " + R.m(R.eq(R.d("E", R.ivar("out", "j")), R.sigma("k", R.tight(R.ivar("delta", "k"),
                                                                                            R.sym["w_jk"]))))
                + " (k: the neurons j feeds; an output adds the loss's own term)")
        items: list = [("h2", head)]
        self._factors = {}
        for u in self._backward_order:
            items += self._neuron_backward(R, u)
        return items

    def _messages(self, R, u) -> tuple[list, float, float]:
        """The backward messages ``δ_k·w_jk`` into ``u``: lines, their sum and its scale."""
        s = self._s
        lines, total, scale = [], 0.0, 0.0
        succ = list(self._net.graph.successors(u))
        for k, v in enumerate(succ):
            d, w = self._v(s.delta, v), self._w(u, v)
            m = d * w
            total += m
            scale += abs(m)
            if k < MAX_TERMS or len(succ) <= MAX_TERMS:
                wname = R.w(self._label(u, v), u.name, v.name)
                lines.append((v, R.eq(R.tight(R.var("delta", v.name), wname), R.times(R.num(d), R.num(w)),
                                      R.num(m)), m))
        return lines, total, scale, len(succ)

    def _neuron_backward(self, R, u) -> list:
        s = self._s
        name = u.name
        act = self._reg.activation(u.activation)
        known_act = self._known_activation(act)
        out, net_in = self._v(s.out, u), self._v(s.net, u)
        delta, gy = self._v(s.delta, u), self._v(s.gy, u)
        fused = self._fused.get(u)
        col = self._out_col.get(u)
        items: list = []
        label = name
        dEdout = R.d("E", R.var("out", name))

        def add(body, note=None):
            nonlocal label
            items.append(("eq", label, body, note))
            label = ""

        # dE/dout: the loss's own term (an output on the general path) and the messages
        loss_part = None
        if col is not None and fused is None:
            loss_part = self._loss_gradient(u, col)
        msgs, msum, mscale, n_succ = self._messages(R, u)
        if loss_part is not None:
            lg, sym, num = loss_part[0], *self._loss_grad_formula(R, name, col)
            if not msgs:
                parts = [dEdout] + ([sym, num] if sym else []) + [R.num(lg)]
                add(R.eq(*parts), None if sym else f"{s.loss.name}: no formula known, the loss's gradient")
            else:
                add(R.eq(sym, num, R.num(lg)) if sym else R.num(lg),
                    "the loss's own term" if sym else f"the loss's own term: {s.loss.name}'s gradient, no formula "
                    "known")
        for v, body, _m in msgs:
            add(body, f"message from {v.name}")
        if n_succ > MAX_TERMS:
            add(R.more(n_succ - len(msgs), "messages"), None)
        terms = ([R.num(loss_part[0])] if loss_part is not None and msgs else []) + [R.num(m) for _v, _b, m in msgs]
        if n_succ > MAX_TERMS:
            terms.append(R.more(n_succ - len(msgs), "messages"))
        expected = (loss_part[0] if loss_part is not None else 0.0) + msum
        self._agree(f"dE/dout of {name}", expected, gy, mscale + (abs(loss_part[0]) if loss_part else 0.0))
        if msgs:
            if len(terms) > 1:
                add(R.eq(dEdout, R.plus(terms), R.num(gy)), None)
            else:
                add(R.eq(dEdout, R.num(gy)), None)
        elif loss_part is None and fused is None:
            add(R.eq(dEdout, R.num(gy)), "it feeds no neuron and is no output" if col is None else None)
        # delta
        dvar = R.var("delta", name)
        dnet = R.d("E", R.var("net", name))
        if act.group:
            group = self._group(u)
            if act.vjp is None:
                raise NumericalError(f"explain: group activation {act.name!r} of {name!r} has no vjp")
            g = np.array([[self._v(s.gy, v) for v in group]])
            y = np.array([[self._v(s.out, v) for v in group]])
            n = np.array([[self._v(s.net, v) for v in group]])
            k = group.index(u)
            general = float(act.vjp(n, y, g)[0, k])
            if known_act == "softmax":
                inner = sum(float(a * b) for a, b in zip(y[0], g[0]))
                pairs = [R.tight(R.num(a), R.num(b)) for a, b in zip(y[0][:MAX_TERMS], g[0][:MAX_TERMS])]
                if len(group) > MAX_TERMS:
                    pairs.append(R.more(len(group) - MAX_TERMS, "terms"))
                ssum = R.sigma("k", R.tight(R.ivar("out", "k"), R.d("E", R.ivar("out", "k"))))
                if fused is None or np.any(g):
                    add(R.eq(ssum, R.plus(pairs), R.num(inner)), f"k over the group of {name}")
                    sym = R.tight(R.var("out", name), R.paren(R.minus(dEdout, ssum)))
                    num = R.tight(R.num(out), R.paren(R.minus(R.num(gy), R.num(inner))))
                    self._agree(f"the softmax delta of {name}", out * (gy - inner), general,
                                abs(out * gy) + abs(out * inner))
                    general_line = (sym, num)
                else:
                    general_line = None
            else:
                general_line = None
                if fused is None or np.any(g):
                    add(R.eq(R.sym["vjp"], R.num(general)),
                        f"{act.name}'s vector-Jacobian product for {name}: no formula known, the engine's value")
            fprime = None
        else:
            general_line = None
            if act.derivative is not None and act.vjp is None:
                fprime = float(np.asarray(act.derivative(np.array([[net_in]]), np.array([[out]])))[0, 0])
                general = fprime * gy
                if fused is None or msgs:
                    add(self._derivative_line(R, known_act, u, net_in, out, fprime), None if known_act else
                        f"{act.name}: no formula known, the derivative's value")
            else:
                fprime = None
                general = float(np.asarray(act.backward(np.array([[net_in]]), np.array([[out]]),
                                                        np.array([[gy]])))[0, 0])
                add(R.eq(R.sym["vjp"], R.num(general)),
                    f"{act.name} gives its chain rule as a vector-Jacobian product: the engine's value")
        if fused is not None:
            fv = self._fused_value(u, fused, act)
            fsym = self._fused_formula(R, u, act)
            if fsym is not None:
                fbody = [fsym[0], fsym[1], R.num(fv)]
                fnote = f"{s.loss.name} with {act.name}: the fused delta"
            else:
                fbody = [R.num(fv)]
                fnote = f"the fused delta of {s.loss.name} for {act.name}: no formula known, the loss's value"
            if general == 0.0 and not msgs:          # nothing flows back into it: the loss's delta alone
                self._agree(f"the delta of {name}", fv, delta, abs(fv))
                add(R.eq(dvar, dnet, *fbody), fnote)
                self._factors[u] = [delta]
            else:
                add(R.eq(*fbody), f"the loss's own term: {fnote}")
                gen = R.times(R.num(gy), R.num(fprime)) if fprime is not None else R.num(general)
                self._agree(f"the delta of {name}", fv + general, delta, abs(fv) + abs(general))
                add(R.eq(dvar, dnet, R.plus([R.num(fv), gen]), R.num(delta)), None)
                self._factors[u] = [delta]
            return items
        if general_line is not None:
            self._agree(f"the delta of {name}", general, delta, abs(general))
            add(R.eq(dvar, dnet, general_line[0], general_line[1], R.num(delta)), "softmax's chain rule")
            self._factors[u] = [delta]
        elif fprime is not None:
            self._agree(f"the delta of {name}", fprime * gy, delta, abs(fprime * gy))
            add(R.eq(dvar, dnet, R.times(R.num(gy), R.num(fprime)), R.num(delta)), None)
            self._factors[u] = [gy, fprime]
        else:
            self._agree(f"the delta of {name}", general, delta, abs(general))
            add(R.eq(dvar, dnet, R.num(delta)), None)
            self._factors[u] = [delta]
        return items

    def _loss_gradient(self, u, col: int) -> tuple[float]:
        """The loss's ``dE/dout`` of output ``u`` (general path), as the engine computes it."""
        s = self._s
        gen = [k for k, v in enumerate(self._net.outputs) if v not in self._fused]
        with np.errstate(all="ignore"):
            g = s.loss.gradient(self._Y[:, gen], s.T[:, gen])
        return (float(np.asarray(g)[self.pattern, gen.index(col)]),)

    def _loss_grad_formula(self, R, name: str, col: int) -> tuple[str | None, str | None]:
        known = self._known_loss()
        y, t = float(self._Y[self.pattern, col]), float(self._s.T[self.pattern, col])
        ty, yy = R.var("t", name), R.var("out", name)
        if known == "mse":
            return R.neg(R.paren(R.minus(ty, yy))), R.neg(R.paren(R.minus(R.num(t), R.num(y))))
        if known == "bce":
            return (R.frac(R.minus(yy, ty), R.tight(yy, R.paren(R.minus("1", yy)))),
                    R.frac(R.minus(R.num(y), R.num(t)), R.tight(R.num(y), R.paren(R.minus("1", R.num(y))))))
        if known == "cce":
            return R.neg(R.frac(ty, yy)), R.neg(R.frac(R.num(t), R.num(y)))
        return None, None

    def _derivative_line(self, R, known: str | None, u, net_in: float, out: float, fprime: float) -> str:
        name = u.name
        lhs = R.d(R.var("out", name), R.var("net", name))
        yy = R.var("out", name)
        if known == "sigmoid":
            self._agree(f"the sigmoid derivative of {name}", out * (1 - out), fprime)
            return R.eq(lhs, R.tight(yy, R.paren(R.minus("1", yy))),
                        R.tight(R.num(out), R.paren(R.minus("1", R.num(out)))), R.num(fprime))
        if known == "tanh":
            self._agree(f"the tanh derivative of {name}", 1 - out * out, fprime)
            return R.eq(lhs, R.minus("1", R.sq(yy)), R.minus("1", R.sq(R.num(out))), R.num(fprime))
        if known == "relu":
            cond = "> 0" if net_in > 0 else R.sym["le"] + " 0"
            return R.eq(lhs, R.num(fprime)) + f"{R.sym['space']}({R.var('net', name)} {cond})"
        if known == "identity":
            return R.eq(lhs, R.num(fprime))
        return R.eq(lhs, R.fn(R.sym["f'"], R.var("net", name)), R.num(fprime))

    def _fused_value(self, u, fused, act) -> float:
        s = self._s
        p = self.pattern
        if act.group:
            group = self._group(u)
            y = np.array([[self._v(s.out, v) for v in group]])
            t = np.array([[float(s.T[p, self._out_col[v]]) for v in group]])
            return float(np.asarray(fused(y, t))[0, group.index(u)])
        y = np.array([[self._v(s.out, u)]])
        t = np.array([[float(s.T[p, self._out_col[u]])]])
        return float(np.asarray(fused(y, t))[0, 0])

    def _fused_formula(self, R, u, act) -> tuple[str, str] | None:
        s = self._s
        p = self.pattern
        name = u.name
        y, t = self._v(s.out, u), float(s.T[p, self._out_col[u]])
        yy, ty = R.var("out", name), R.var("t", name)
        if self._known_loss() == "bce" and self._known_activation(act) == "sigmoid":
            return R.minus(yy, ty), R.minus(R.num(y), R.num(t))
        if self._known_loss() == "cce" and self._known_activation(act) == "softmax":
            group = self._group(u)
            tsum = sum(float(s.T[p, self._out_col[v]]) for v in group)
            return (R.minus(R.tight(yy, R.sigma("k", R.ivar("t", "k"))), ty),
                    R.minus(R.tight(R.num(y), R.num(tsum)), R.num(t)))
        return None

    def _weights(self, R) -> list:
        s = self._s
        eta = R.sym["eta"]
        head = "weights: " + R.m(R.eq(R.d("E", R.sym["w_ij"]),
                                      R.times(R.d("E", R.ivar("out", "j")), R.d(R.ivar("out", "j"), R.ivar("net", "j")),
                                              R.ivar("out", "i")), R.tight(R.ivar("delta", "j"), R.ivar("out", "i"))))
        if type(s.optimizer) is SGD and not s.hyper.get("momentum") and not s.hyper.get("l2") and \
                not s.hyper.get("weight_decay"):
            head += ", " + R.m(R.eq(R.plus_mark("w"), R.minus("w", R.tight(eta, R.d("E", "w")))))
        items: list = [("h2", head)]
        for v in self._backward_order:
            edges = list(self._net.graph.predecessors(v))
            if len(edges) > MAX_WEIGHTS:
                ranked = sorted(edges, key=lambda u: -abs(self.gradients[(u.name, v.name)]))
                keep = set(ranked[:MAX_WEIGHTS])
                shown = [u for u in edges if u in keep]
            else:
                shown = edges
            for u in shown:
                items += self._weight_lines(R, u, v)
            if len(shown) < len(edges):
                items.append(("eq", "", R.more(len(edges) - len(shown), f"weights into {v.name}"),
                              f"the {MAX_WEIGHTS} with the largest gradients are shown"))
        return items

    def _weight_lines(self, R, u, v) -> list:
        s = self._s
        label = self._label(u, v)
        wname = R.w(label, u.name, v.name)
        tag = (f"{R.code(label)} " if label else "") + f"{u.name} → {v.name}"
        pos = self._pos[(u, v)]
        lhs = R.d("E", wname)
        p = self.pattern
        factors = self._factors.get(v)
        y = self._v(s.out, u)
        own = [float(s.delta[self._idx[v], q] * s.out[self._idx[u], q]) for q in range(self.patterns)]
        engine = float(s.grad[pos])
        items = []
        if factors is None:
            factors = [self._v(s.delta, v)]
        product = math.prod(factors) * y
        self._agree(f"the gradient term of {tag} for pattern {p}", product, own[p], abs(product))
        body = R.times(*[R.num(f) for f in factors], R.num(y))
        tie = self._ties.get((u.name, v.name))
        raw = sum(own)
        if self.patterns == 1:
            items.append(("eq", tag, R.eq(lhs, body, R.num(own[0])), None))
        else:
            items.append(("eq", tag, R.eq(R.d(R.var("E", str(p)), wname), body, R.num(own[p])),
                          f"pattern {p}'s term"))
            terms = [R.num(g) for g in own[:MAX_TERMS]]
            if len(own) > MAX_TERMS:
                terms = terms[:MAX_TERMS - 2] + [R.more(len(own) - (MAX_TERMS - 2), "patterns")]
            items.append(("eq", "", R.eq(lhs, R.plus(terms), R.num(raw)), "summed over the step's patterns"))
        if tie is not None:
            members = [self._names[a] for a, _ in tie.edges]
            others = [float(np.sum(s.delta[self._idx[self._names[b]]] * s.out[self._idx[self._names[a]]]))
                      for a, b in tie.edges]
            shared = sum(others) / (len(others) if tie.reduce == "mean" else 1)
            self._agree(f"the shared gradient of tied set {tie.name!r}", shared, engine, sum(map(abs, others)))
            items.append(("eq", "", R.word("shared ") + R.eq(R.d("E", "w"), R.num(engine)),
                          f"tied set {tie.name!r}: the {tie.reduce} over its {len(members)} connections' gradients, "
                          "which the update uses"))
        else:
            self._agree(f"the gradient of {tag}", raw, engine, sum(map(abs, own)))
        items += self._update_lines(R, u, v, wname, engine)
        return items

    def _update_lines(self, R, u, v, wname: str, g: float) -> list:
        s = self._s
        pos = self._pos[(u, v)]
        before, after = float(s.before[pos]), float(s.after[pos])
        plus = R.plus_mark(wname)
        if not s.mask[pos]:
            return [("eq", "", R.eq(plus, R.num(after)), "frozen: the update leaves it")]
        opt, hyper = s.optimizer, s.hyper
        if type(opt) is not SGD:
            change = after - before
            return [("eq", "", R.eq(plus, R.plus([R.num(before), R.num(change)]), R.num(after)),
                     f"{getattr(opt, 'name', 'the rule')}'s change")]
        lr, m = hyper.get("learning_rate", 0.0), hyper.get("momentum", 0.0)
        l2, wd = hyper.get("l2", 0.0), hyper.get("weight_decay", 0.0)
        nesterov = hyper.get("nesterov", False)
        lines = []
        geff, gtext = g, R.num(g)
        if l2:
            geff = g + l2 * before
            gtext = R.paren(R.plus([R.num(g), R.tight(R.num(l2), R.num(before))]))
        if m:
            prev = float(s.velocity[pos]) if s.velocity is not None else 0.0
            dw = m * prev - lr * geff
            dname = R.sym["Delta"] + wname
            lines.append(("eq", "", R.eq(dname, R.plus([R.neg(R.times(R.num(lr), gtext)), R.times(R.num(m),
                                                                                                 R.num(prev))]),
                                         R.num(dw)), "momentum: the previous change is carried on"))
            moved = before + (m * dw - lr * geff if nesterov else dw)
            body = R.plus([R.num(before), R.num(moved - before)])
        else:
            moved = before - lr * geff
            body = R.minus(R.num(before), R.times(R.num(lr), gtext))
        if wd:
            final = moved - wd * moved
            lines.append(("eq", "", R.eq(plus, R.tight(R.paren(body), R.paren(R.minus("1", R.num(wd)))),
                                         R.num(after)), "weight decay"))
        else:
            final = moved
            lines.append(("eq", "", R.eq(plus, body, R.num(after)), None))
        self._agree(f"the updated weight {wname}", final, after, abs(before) + abs(lr * geff))
        return lines


# --- the two ways in ------------------------------------------------------------------------------------------


def _selection(net: Network, neurons: Any, where: str = "") -> list[str] | None:
    """The computing neurons asked for, checked: unknown names get the closest one."""
    if neurons is None:
        return None
    if isinstance(neurons, str):
        names = [n.strip() for n in neurons.split(",") if n.strip()]
    elif isinstance(neurons, Iterable):
        names = [getattr(n, "name", n) for n in neurons]
    else:
        raise DataError(f"{where}neurons must be names of neurons, e.g. ['h1', 'o2'] or 'h1,o2', not {neurons!r:.60}")
    if not names:
        raise DataError(f"{where}neurons names no neuron; give names such as 'h1,o2', or leave it out")
    computing = [u.name for u in net.neurons]
    for name in names:
        if not isinstance(name, str) or name not in net:
            near = closest(str(name), computing)
            hint = f"did you mean {near!r}? " if near else ""
            listing = ", ".join(computing[:12]) + (f", … ({len(computing)} in all)" if len(computing) > 12 else "")
            raise NeuronNotFoundError(f"{where}no neuron named {name!r} to explain; {hint}the network's computing "
                                      f"neurons: {listing}")
        unit = net[name]
        if isinstance(unit, (InputUnit, BiasUnit)):
            kind = "an input unit" if isinstance(unit, InputUnit) else "a bias unit (its output is always 1)"
            raise NeuronNotFoundError(f"{where}{name!r} is {kind}: it computes nothing to explain (its value is in "
                                      f"the pattern line, its weights under the neurons it feeds); name computing "
                                      f"neurons, e.g. {', '.join(computing[:4])}")
    return names


def _check_pattern(pattern: Any, patterns: int, where: str = "") -> int:
    if isinstance(pattern, bool) or not isinstance(pattern, numbers.Integral) or not 0 <= pattern < patterns:
        raise DataError(f"{where}pattern must be a whole number from 0 to {patterns - 1} (which of the step's "
                        f"{patterns} pattern{'s' if patterns != 1 else ''} to write out), not {pattern!r:.60}")
    return int(pattern)


def explain(net: Network, x: Any, t: Any, *, loss: str = "mse", learning_rate: float | None = None,
            optimizer: Any = None, optimizer_options: Mapping[str, Any] | None = None,
            neurons: Any = None, pattern: int = 0) -> Explanation:
    """Explain one training step of ``net`` on pattern ``x`` with targets ``t``, number by number.

    The step is made on a copy by neurosim's training loop (``net`` itself is left as it
    was); the :class:`Explanation` holds what the engine computed in it.

    Parameters
    ----------
    net : neurosim.Network
    x : array_like
        One pattern ``(n_inputs,)``, or several ``(P, n_inputs)``: then one batch step,
        its gradient summed over the P patterns (``pattern`` chooses whose arithmetic is
        written out).
    t : array_like
        The targets, ``(n_outputs,)`` or ``(P, n_outputs)``.
    loss : str, default "mse"
        A registered loss.
    learning_rate : float, default 0.1
        The SGD step size (as for :meth:`neurosim.Network.train`).
    optimizer : str or neurosim.Optimizer, optional
        Another rule, with ``optimizer_options`` (not with ``learning_rate``).
    optimizer_options : mapping, optional
    neurons : str or list of str, optional
        Write out only these computing neurons (``"h1,o2"`` or ``["h1", "o2"]``). By
        default every neuron, unless the network is large (more than
        :data:`SUMMARY_NEURONS` neurons or :data:`SUMMARY_EDGES` weights): then a summary.
    pattern : int, default 0
        Which of the step's patterns to write out.

    Returns
    -------
    Explanation

    Raises
    ------
    NeuronNotFoundError
        A name in ``neurons`` that is no computing neuron of the network (with the closest).
    DataError
        ``x`` or ``t`` of the wrong shape or not numbers, a ``pattern`` out of range.

    Examples
    --------
    >>> import neurosim
    >>> net = neurosim.load_scenario("scenarios/mazur.toml").build_network()   # doctest: +SKIP
    >>> print(neurosim.explain(net, [0.05, 0.10], [0.01, 0.99], learning_rate=0.5).text())   # doctest: +SKIP
    """
    if not isinstance(net, Network):
        raise DataError(f"explain needs a neurosim Network, not {type(net).__name__} {net!r:.60}")
    names = _selection(net, neurons)
    work = copy.deepcopy(net)
    given = {} if learning_rate is None and optimizer is not None else \
        {"learning_rate": 0.1 if learning_rate is None else learning_rate}
    job = TrainingRun(work, x, t, loss, epochs=1, mode="batch", optimizer=optimizer,
                      optimizer_options=optimizer_options, **given)
    snap = _capture(job, 1)
    if snap is None:                       # pragma: no cover  (one epoch of batch mode always updates once)
        raise DataError("explain: the training step was not made")
    p = _check_pattern(pattern, snap.X.shape[0])
    title = f"one training step of {work!r}"
    return Explanation(snap, title=title, context=[], neurons=names, pattern=p)


def explain_scenario(source: str | os.PathLike | Mapping, *, step: int = 1, neurons: Any = None, pattern: int = 0,
                     member: int | None = None, overrides: Mapping[str, Any] | None = None,
                     registry: Registry | None = None) -> Explanation:
    """Explain step ``step`` of a scenario's training: what ``neurosim explain FILE`` prints.

    The scenario's network is built and trained with its own settings (mode, optimiser,
    schedule, pattern order, stop criteria) for ``step - 1`` updates; the ``step``-th
    update is the one explained. In batch mode a step is an epoch and its gradient sums
    over every pattern; in online mode a step is one pattern; in minibatch mode one
    minibatch.

    Parameters
    ----------
    source : str, path or mapping
        A scenario file (or a parsed mapping).
    step : int, default 1
        Which update, counting from 1.
    neurons : str or list of str, optional
        As for :func:`explain`.
    pattern : int, default 0
        Which of the step's patterns to write out (batch and minibatch steps).
    member : int, optional
        For a scenario that trains an ensemble (``training.ensemble``): which member
        (0 to K-1; member k draws its initial weights from seed ``scenario.seed + k``).
        Required there, refused elsewhere.
    overrides : mapping, optional
        Dotted keys to replace, as for :func:`neurosim.load_scenario`.
    registry : Registry, optional
        Plugins to use (by default the installed ones plus the scenario's).

    Returns
    -------
    Explanation

    Raises
    ------
    ScenarioError
        An invalid scenario, a step past the end of its training, an ensemble without
        ``member`` (or a member out of range).
    NeuronNotFoundError
        A name in ``neurons`` that is no computing neuron.
    DataError
        ``step`` below 1 or not a whole number, ``pattern`` out of range.
    """
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 1:
        raise DataError(f"step must be a whole number >= 1 (the first update of training is step 1), not "
                        f"{step!r:.60}")
    step = int(step)
    sc = load_scenario(source, overrides).resolve(registry)
    where = f"{sc.source}: "
    if sc.ensemble is not None:
        if member is None:
            raise ScenarioError(sc.source, "training.ensemble", f"trains {sc.ensemble} networks at once; explain "
                                f"writes out one network's step: choose a member with member= (--member K, K from "
                                f"0 to {sc.ensemble - 1}; member k starts from the weights seed {sc.seed} + k draws)")
        if isinstance(member, bool) or not isinstance(member, numbers.Integral) or not 0 <= member < sc.ensemble:
            raise ScenarioError(sc.source, "--member", f"is {member!r:.60}; the ensemble's members are 0 to "
                                f"{sc.ensemble - 1}")
        built = dataclasses.replace(sc, seed=sc.seed + int(member), ensemble=None)
    else:
        if member is not None:
            raise ScenarioError(sc.source, "--member", "applies to a scenario that trains an ensemble "
                                "(training.ensemble); this one trains one network: leave it out")
        built = sc
    try:
        net = built.build_network()
    except ScenarioError:
        raise
    except NeurosimError as exc:
        raise type(exc)(f"{where}{exc}") from None
    names = _selection(net, neurons, where)
    optimizer = sc.make_optimizer()
    validation = None if sc.validation is None else (sc.validation.inputs, sc.validation.targets)
    job = TrainingRun(net, sc.train.inputs, sc.train.targets, sc.loss, epochs=sc.epochs, mode=sc.mode,
                      batch_size=sc.batch_size, optimizer=optimizer, stop=sc.stop, shuffle=sc.pattern_orders(),
                      schedule=sc.schedule(optimizer), validation=validation)
    size = {"online": 1, "batch": len(sc.train)}.get(sc.mode, sc.batch_size)
    per_epoch = len(range(0, len(sc.train), size))
    total = sc.epochs * per_epoch
    if step > total:
        raise ScenarioError(sc.source, "step", f"is {step}, but the scenario trains {total} step"
                            f"{'s' if total != 1 else ''} ({sc.epochs} epoch{'s' if sc.epochs != 1 else ''} of "
                            f"{per_epoch} update{'s' if per_epoch != 1 else ''}, {sc.mode} mode); explain one of "
                            f"them, or train longer (--set training.epochs={-(-step // per_epoch)})")
    try:
        snap = _capture(job, step)
    except NumericalError as exc:
        raise NumericalError(f"{where}training before step {step}: {exc}") from None
    if snap is None:
        raise ScenarioError(sc.source, "step", f"is {step}, but training stops after epoch {job.epoch} (step "
                            f"{job.epoch * per_epoch}): a stop criterion ([training.stop]) ended it; explain an "
                            "earlier step")
    p = _check_pattern(pattern, snap.X.shape[0], where)
    epoch, update = (step - 1) // per_epoch + 1, (step - 1) % per_epoch + 1
    of = "" if sc.stop is None else "at most "
    title = f"{sc.source}: training step {step} of {of}{total}"
    if member is not None:
        title += f" (ensemble member {member})"
    context = [f"epoch {epoch} of {sc.epochs}, update {update} of {per_epoch} ({sc.mode} mode"
               + (", patterns shuffled" if sc.shuffle else "") + f"); the step's patterns: {snap.X.shape[0]}"]
    return Explanation(snap, title=title, context=context, neurons=names, pattern=p)
