"""Built-in measures for scenario expectations: error, weight, output, accuracy, epochs, structure,
and the regression errors max_abs_error, mae, rmse and r2.

Each is a :class:`neurosim.Measure` whose ``compute(run, **options)`` reads a run in
progress or finished (``run.network``, ``run.train``, ``run.test``, ``run.history``,
``run.epochs``) and returns one number, which an ``[[expect]]`` table bounds. The options
are the expectation's other keys (``set = "test"``, ``edge = "h1 -> o1"``). With
``data.scale``, ``run.train`` and ``run.test`` are the scaled patterns the network is
trained on (``error`` is the training loss on them); the measures that compare outputs with
targets (accuracy, correct and the regression errors) do so in the targets' original
units, through ``run.network.predict`` on the original patterns (``run.raw_train``,
``run.raw_test``).
"""

from __future__ import annotations

import numpy as np

from neurosim import DataError, Measure, hookimpl
from neurosim.functions import STATISTICS
from neurosim.errors import did_you_mean


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise DataError(f"{name} must be a number, not {value!r}")
    return float(value)


def _patterns(run, set):
    if set == "train":
        return run.train
    if set == "test":
        if run.test is None:
            raise DataError("set = 'test' needs a test set: give [data.test], data.test_fraction or "
                            "data.test_indices")
        return run.test
    if set == "validation":
        if getattr(run, "validation", None) is None:
            raise DataError("set = 'validation' needs a validation set: give [data.validation] or "
                            "data.validation_fraction")
        return run.validation
    raise DataError(f"set must be 'train', 'test' or 'validation', not {set!r}")


def _original(run, set):
    """``(Y, T)`` for ``set`` in the targets' original units: the network's predictions for
    the patterns as they were read (before ``data.scale``) and their targets."""
    data = _patterns(run, set)
    raw = getattr(run, f"raw_{set}", None)
    raw = data if raw is None else raw
    return run.network.predict(raw.inputs), raw.targets


def _residuals(run, set):
    """``y - t`` for every pattern of ``set`` and every output, in the targets' original units."""
    Y, T = _original(run, set)
    return Y - T


def _check_stat(run, stat):
    if stat is None:
        return
    if stat not in STATISTICS:
        raise DataError(f"stat must be one of {', '.join(STATISTICS)}, not {stat!r}")
    if not getattr(run, "members", None):
        raise DataError("stat summarises the members of an ensemble; set training.ensemble, or remove stat")


def _stat(values, stat):
    values = np.asarray(values, dtype=float)
    return float(STATISTICS[stat](values)) if len(values) else float("nan")


def error(run, set="train", stat=None):
    """Total error (the training loss, summed over patterns) on the train or test set.

    Computed on the patterns as the network is trained on them: with ``data.scale``, on
    the scaled targets (so it is the training curve's error). With an ensemble and
    ``stat`` (min, median, mean, max): that statistic of the final errors of the members
    that did not diverge.
    """
    _check_stat(run, stat)
    if stat is not None:
        _patterns(run, set)             # a test set must exist
        if run.ensemble is None:        # checked before training: nothing to summarise yet
            return float("nan")
        kept = ~run.ensemble.diverged
        if set == "train":              # known already: the final training errors
            return _stat(run.ensemble.final_error[kept], stat)
        return _stat(run.each_member("error", set=set)[kept], stat)
    data = _patterns(run, set)
    return run.network.error(data.inputs, data.targets, loss=run.loss)


def weight(run, edge):
    """The weight of ``edge = "src -> dst"``."""
    parts = [p.strip() for p in str(edge).split("->")]
    if len(parts) != 2 or not all(parts):
        raise DataError(f"edge {edge!r} is not of the form \"src -> dst\"")
    return run.network.weight(*parts)


def output(run, neuron, pattern=0, set="train"):
    """The output of ``neuron`` (any computing neuron) for pattern number ``pattern``.

    As the network computes it: with ``data.scale``, for the scaled inputs and, for an
    output neuron, in the scaled targets' units.
    """
    data = _patterns(run, set)
    if isinstance(pattern, bool) or not isinstance(pattern, int):
        raise DataError(f"pattern must be a whole number (0-based), not {pattern!r}")
    if not 0 <= int(pattern) < len(data):
        raise DataError(f"pattern {pattern} does not exist: the {set} set has {len(data)} patterns "
                        f"(0 to {len(data) - 1})")
    unit = run.network[neuron]
    if unit not in run.network.neurons:
        raise DataError(f"{neuron!r} is {unit.kind!r} unit, not a computing neuron; name a neuron whose output "
                        "is computed")
    run.network.forward(data.inputs[int(pattern)][None, :])
    return float(unit.out[0])


def _correct(run, set, margin, threshold, output):
    threshold = _number("threshold", threshold)
    margin = None if margin is None else _number("margin", margin)
    Y, T = _original(run, set)
    if output is not None:                 # judge one output on its own
        names = [u.name for u in run.network.outputs]
        if output not in names:
            raise DataError(f"output {output!r} is not an output neuron; "
                            f"{did_you_mean(str(output), names, 'outputs')}")
        j = names.index(output)
        Y, T = Y[:, j:j + 1], T[:, j:j + 1]
    if margin is not None:                 # every output within margin of its target
        return np.all(np.abs(Y - T) < float(margin), axis=1)
    if T.shape[1] == 1:                    # one output: on/off at the threshold
        return (Y[:, 0] > threshold) == (T[:, 0] > threshold)
    if np.all(T.sum(axis=1) == 1) and np.all((T == 0) | (T == 1)):   # one-hot: the winner
        return Y.argmax(axis=1) == T.argmax(axis=1)
    return np.all((Y > threshold) == (T > threshold), axis=1)


def accuracy(run, set="train", margin=None, threshold=0.5, output=None):
    """Fraction of patterns classified correctly.

    One output: output and target on the same side of ``threshold``. One-hot targets: the
    largest output is the target class. Other targets: every output on the target's side.
    With ``margin``: every output within ``margin`` of its target (Rumelhart et al.'s
    family trees: 0.2). With ``output`` (an output neuron's name): that output alone,
    judged as a one-output network. Outputs and targets are compared in the targets'
    original units (with ``data.scale``: after mapping the outputs back).
    """
    return float(np.mean(_correct(run, set, margin, threshold, output)))


def correct(run, set="train", margin=None, threshold=0.5, output=None):
    """Number of patterns classified correctly (see accuracy)."""
    return float(np.sum(_correct(run, set, margin, threshold, output)))


def max_abs_error(run, set="train"):
    """Largest absolute difference between an output and its target, in the targets' units.

    Over every pattern of ``set`` (``"train"`` or ``"test"``) and every output:
    ``max |y - t|``, with outputs and targets in the targets' original units (with
    ``data.scale``, the outputs mapped back).
    """
    return float(np.max(np.abs(_residuals(run, set))))


def mae(run, set="train"):
    """Mean absolute error, in the targets' units: the mean of ``|y - t|`` over patterns and outputs.

    Every output of every pattern of ``set`` counts once (so with several outputs it is
    the mean over all ``patterns × outputs`` differences), in the targets' original units.
    """
    return float(np.mean(np.abs(_residuals(run, set))))


def rmse(run, set="train"):
    """Root-mean-square error, in the targets' units: ``sqrt(mean((y - t)²))`` over patterns and outputs.

    Every output of every pattern of ``set`` counts once, in the targets' original units.
    Unlike ``error`` (the summed training loss) it does not grow with the number of
    patterns.
    """
    return float(np.sqrt(np.mean(_residuals(run, set) ** 2)))


def r2(run, set="train"):
    """Coefficient of determination: ``1 - SS_res / SS_tot`` over all outputs.

    ``SS_res = Σ (t - y)²`` over every pattern of ``set`` and every output;
    ``SS_tot = Σ (t - t̄_j)²`` with ``t̄_j`` the mean of output ``j``'s targets over the
    set. Several outputs are pooled in both sums (each about its own mean), so an output
    whose targets vary more weighs more (scikit-learn's ``multioutput =
    "variance_weighted"``). 1 is a perfect fit, 0 no better than each output's mean, and
    it can be negative. Computed in the targets' original units. Undefined, and refused,
    when the targets of the set do not vary.
    """
    Y, T = _original(run, set)
    total = float(np.sum((T - T.mean(axis=0)) ** 2))
    if not total > 0:
        raise DataError(f"r2 is undefined on the {set} set: its targets do not vary (SS_tot = 0); bound mae or "
                        "rmse instead")
    return 1.0 - float(np.sum((T - Y) ** 2)) / total


def epochs(run, stat=None):
    """Epochs trained so far (with a stop criterion: epochs to reach it).

    With an ensemble and ``stat`` (min, median, mean, max): that statistic over the
    members that met the stop criterion (NaN when none did).
    """
    _check_stat(run, stat)
    if stat is not None:
        if run.stop is None:
            raise DataError("epochs with stat summarises the epochs to criterion of the members that met the "
                            "stop criterion; add [training.stop], or remove stat")
        if run.ensemble is None:        # checked before training: nothing to summarise yet
            return float("nan")
        return _stat(run.ensemble.epochs[run.ensemble.converged], stat)
    return float(run.epochs)


def success_rate(run, success=None):
    """Fraction of ensemble members that succeeded (a diverged member never did); for one
    network, 1.0 when it succeeds, else 0.0.

    Success is meeting the stop criterion ([training.stop]) by the end of training, or,
    with ``success = { quantity = ..., above = ..., below = ... }``, a measure of the
    member's trained network within those (strict) bounds, e.g. ``{ quantity =
    "accuracy", margin = 0.2, above = 0.89 }``: at least 90% of the training patterns
    with every output within 0.2 of its target.
    """
    if success is not None:
        quantity, options, above, below = _success(run, success)
        if run.ensemble is not None:
            values = run.each_member(quantity, **options)
        else:   # one network; or an ensemble before training, whose untrained network tries the options
            values = np.array([run.registry.measure(quantity)(run, **options)])
            if getattr(run, "members", None):
                return float("nan")         # nothing to count yet
        met = np.isfinite(values) & (values > above) & (values < below)
        return float(np.mean(met))
    if run.stop is None:
        raise DataError("success_rate needs a stop criterion: add [training.stop] with error_below or within, "
                        "or define success = { quantity = ..., above = ... }")
    if run.ensemble is not None:
        return float(np.mean(run.ensemble.converged))
    error = run.network.error(run.train.inputs, run.train.targets, loss=run.loss)
    return float(bool(run.stop(error, run.network.forward(run.train.inputs), run.train.targets)))


def _success(run, success):
    """``(quantity, options, above, below)`` of a ``success`` table, checked."""
    if not isinstance(success, dict) or not isinstance(success.get("quantity"), str):
        raise DataError("success must be a table naming a measure and its bounds, e.g. "
                        "success = { quantity = \"accuracy\", margin = 0.2, above = 0.89 }")
    options = {k: v for k, v in success.items() if k not in ("quantity", "above", "below")}
    bounds = {k: success.get(k) for k in ("above", "below")}
    if bounds == {"above": None, "below": None}:
        raise DataError("success gives no bound; add above and/or below (strict bounds on the measure)")
    for key, value in bounds.items():
        if value is not None:
            _number(f"success.{key}", value)
    quantity = success["quantity"]
    if quantity == "success_rate":
        raise DataError("success cannot be defined by success_rate itself; name another measure")
    if "stat" in options:
        raise DataError("success is judged member by member, so it takes no stat; remove stat from success")
    run.registry.with_options("measure", quantity, options)
    above = -np.inf if bounds["above"] is None else float(bounds["above"])
    below = np.inf if bounds["below"] is None else float(bounds["below"])
    return quantity, options, above, below


def mirror_symmetry(run, inputs=None):
    """How far the hidden units are from Rumelhart et al.'s mirror-symmetry solution.

    For every hidden neuron fed by the ``inputs`` (default: all input units, in order),
    its weights from mirror-image inputs should be equal in size and opposite in sign
    (``w_i = -w_{n+1-i}``); and two hidden units should carry the same pattern with
    opposite signs. Returns the largest of: ``max_i |w_i + w_{n+1-i}| / max|w|`` over the
    hidden units, and ``1 + corr(w_a, w_b)`` for each pair of hidden units (0 when
    exactly opposite). 0 is the paper's structure; small values are close to it.
    """
    net = run.network
    if inputs is not None and (isinstance(inputs, str) or not isinstance(inputs, list) or len(inputs) < 2
                               or not all(isinstance(n, str) for n in inputs)):
        raise DataError(f"inputs must be a list of at least two input names, not {inputs!r}")
    ins = [net[name] for name in inputs] if inputs is not None else net.inputs
    hidden = [u for u in net.neurons if all(net.graph.has_edge(i, u) for i in ins) and not u.output]
    if not hidden:
        raise DataError("mirror_symmetry needs hidden neurons fed by every input")
    W = np.array([[net.weight(i, h) for i in ins] for h in hidden])
    asym = np.max(np.abs(W + W[:, ::-1]), axis=1) / np.maximum(np.max(np.abs(W), axis=1), 1e-300)
    scores = list(asym)
    for a in range(len(hidden)):
        for b in range(a + 1, len(hidden)):
            scores.append(1.0 + float(np.corrcoef(W[a], W[b])[0, 1]))
    return float(max(scores))


@hookimpl
def neurosim_register_measures(register):
    """Register error, weight, output, accuracy, correct, max_abs_error, mae, rmse, r2, epochs,
    success_rate and mirror_symmetry."""
    for fn in (error, weight, output, accuracy, correct, max_abs_error, mae, rmse, r2, epochs, success_rate,
               mirror_symmetry):
        register(Measure(fn.__name__, fn, description=fn.__doc__.split("\n")[0]))
