"""Built-in datasets: the classic backpropagation benchmarks xor, parity, symmetry, encoder,
two_spirals and family_trees, and the regression sets sine, polynomial and friedman1,
registered through the ``neurosim_register_datasets`` hook exactly like a third party's.
Each is a deterministic ``generate(**options) -> Patterns`` whose options are keywords
with defaults, checked on entry: a bad value raises :class:`neurosim.DataError` naming the
dataset, the option and what is allowed. Each generator's docstring states its pattern
order and the source it follows. The random ones
(the noise of sine and polynomial, friedman1's inputs and noise) draw from
``numpy.random.default_rng(seed)``, so a seed gives the same patterns everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np

from neurosim import Dataset, DataError, Patterns, hookimpl

# --- option checks ----------------------------------------------------------------------


def _whole(dataset: str, option: str, value, low: int, high: int, even: bool = False) -> int:
    """``value`` as an int in ``[low, high]`` (even if asked), else a DataError naming it."""
    ok = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        ok = math.isfinite(value) and float(value).is_integer() and low <= value <= high and \
            (not even or int(value) % 2 == 0)
    if not ok:
        kind = "an even whole number" if even else "a whole number"
        raise DataError(f"{dataset}: {option} must be {kind} from {low} to {high}, not {value!r}")
    return int(value)


def _flag(dataset: str, option: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise DataError(f"{dataset}: {option} must be true or false, not {value!r}")
    return bool(value)


def _positive(dataset: str, option: str, value) -> float:
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value) and value > 0
    if not ok:
        raise DataError(f"{dataset}: {option} must be a positive finite number, not {value!r}")
    return float(value)


def _finite(dataset: str, option: str, value) -> float:
    """``value`` as a float when it is a finite real number, else a DataError naming it."""
    if not isinstance(value, Real) or isinstance(value, (bool, np.bool_)) or not math.isfinite(value):
        raise DataError(f"{dataset}: {option} must be a finite number, not {value!r}")
    return float(value)


def _non_negative(dataset: str, option: str, value) -> float:
    """``value`` as a float when it is a finite number >= 0, else a DataError naming it."""
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value) and value >= 0
    if not ok:
        raise DataError(f"{dataset}: {option} must be a finite number >= 0, not {value!r}")
    return float(value)


def _interval(dataset: str, low, high) -> tuple[float, float]:
    """``(low, high)`` as floats when both are finite and ``low < high``, else a DataError."""
    low, high = _finite(dataset, "low", low), _finite(dataset, "high", high)
    if not low < high:
        raise DataError(f"{dataset}: low must be less than high (the interval the points lie on), not "
                        f"low = {low!r} and high = {high!r}")
    return low, high


def _seed(dataset: str, value) -> int:
    """A seed for ``numpy.random.default_rng``: a whole number from 0 to 2**63 - 1."""
    return _whole(dataset, "seed", value, 0, 2**63 - 1)


def _counting(bits: int) -> np.ndarray:
    """All ``2**bits`` binary patterns in counting order, first column most significant."""
    k = np.arange(2 ** bits)[:, None]
    return ((k >> np.arange(bits - 1, -1, -1)) & 1).astype(np.float64)


def _bit_labels(X: np.ndarray) -> list[str]:
    return ["".join(str(int(v)) for v in row) for row in X]


# --- xor, parity, symmetry, encoder ------------------------------------------------------


def xor(*, bipolar: bool = False) -> Patterns:
    """Exclusive or of two inputs: the four patterns of its truth table.

    Parameters
    ----------
    bipolar : bool, default False
        Code off as -1 instead of 0, in the inputs and the target (for tanh units).

    Returns
    -------
    Patterns
        Inputs ``(4, 2)`` in counting order (0,0), (0,1), (1,0), (1,1); targets
        ``(4, 1)``: 0, 1, 1, 0 (or -1, 1, 1, -1 when ``bipolar``). Labels ``"0 1"``.

    References
    ----------
    .. [1] Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning internal
       representations by error propagation. In *Parallel Distributed Processing*,
       vol. 1, ch. 8. MIT Press.
    """
    bipolar = _flag("xor", "bipolar", bipolar)
    X = _counting(2)
    T = (X[:, :1] != X[:, 1:]).astype(np.float64)
    labels = [f"{int(a)} {int(b)}" for a, b in X]
    if bipolar:
        X, T = 2.0 * X - 1.0, 2.0 * T - 1.0
    return Patterns(X, T, input_names=["x1", "x2"], target_names=["xor"], labels=labels)


def parity(*, bits: int = 4) -> Patterns:
    """Parity of ``bits`` binary inputs: every pattern, target 1 when an odd number are on.

    Parameters
    ----------
    bits : int, default 4
        Number of inputs, 1 to 16.

    Returns
    -------
    Patterns
        Inputs ``(2**bits, bits)``: row ``k`` is ``k`` written in binary, first column
        most significant (counting order); targets ``(2**bits, 1)``; labels the bit strings
        (``"0101"``). Half the targets are 1.

    References
    ----------
    .. [1] Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning internal
       representations by error propagation. In *Parallel Distributed Processing*,
       vol. 1, ch. 8. MIT Press.
    """
    X = _counting(_whole("parity", "bits", bits, 1, 16))
    return _bit_patterns(X, X.sum(axis=1, keepdims=True) % 2, "odd")


def _bit_patterns(X: np.ndarray, T: np.ndarray, target: str) -> Patterns:
    """Patterns of all bit strings ``X`` with one 0/1 target column named ``target``."""
    return Patterns(X, T.astype(np.float64), input_names=[f"bit{i}" for i in range(1, X.shape[1] + 1)],
                    target_names=[target], labels=_bit_labels(X))


def symmetry(*, bits: int = 6) -> Patterns:
    """Mirror symmetry: every pattern of ``bits`` inputs, target 1 when it reads the same reversed.

    Parameters
    ----------
    bits : int, default 6
        Number of inputs, an even number from 2 to 16.

    Returns
    -------
    Patterns
        Inputs ``(2**bits, bits)`` in counting order (as :func:`parity`); targets
        ``(2**bits, 1)``, 1 for the ``2**(bits/2)`` patterns symmetric about their centre
        (8 of 64 for 6 bits); labels the bit strings.

    References
    ----------
    .. [1] Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning
       representations by back-propagating errors. *Nature* 323, 533-536 (Fig. 1).
    """
    X = _counting(_whole("symmetry", "bits", bits, 2, 16, even=True))
    return _bit_patterns(X, np.all(X == X[:, ::-1], axis=1, keepdims=True), "symmetric")


def encoder(*, n: int = 8) -> Patterns:
    """The encoder problem: ``n`` one-hot patterns, each its own target (8-3-8 by default).

    Parameters
    ----------
    n : int, default 8
        Number of patterns, inputs and outputs, 2 to 1024.

    Returns
    -------
    Patterns
        Inputs and targets both the ``(n, n)`` identity matrix: pattern ``k`` turns on
        unit ``k``. Labels ``"1 of 8"``.

    References
    ----------
    .. [1] Ackley, D. H., Hinton, G. E. & Sejnowski, T. J. (1985). A learning algorithm
       for Boltzmann machines. *Cognitive Science* 9, 147-169.
    .. [2] Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning internal
       representations by error propagation. In *Parallel Distributed Processing*,
       vol. 1, ch. 8. MIT Press.
    """
    n = _whole("encoder", "n", n, 2, 1024)
    eye = np.eye(n)
    return Patterns(eye, eye.copy(), input_names=[f"in{k}" for k in range(1, n + 1)],
                    target_names=[f"out{k}" for k in range(1, n + 1)],
                    labels=[f"{k} of {n}" for k in range(1, n + 1)])


# --- two spirals --------------------------------------------------------------------------


def two_spirals(*, scale: float = 1.0) -> Patterns:
    """The two-spirals benchmark: 194 points on two interlocking spirals, three turns each.

    For ``i = 0 .. 96``: ``angle = i·π/16``, ``radius = 6.5·(104 − i)/104``; the point
    ``(radius·sin angle, radius·cos angle)`` is on spiral 1 and its reflection through
    the origin ``(−x, −y)`` on spiral 0.

    Parameters
    ----------
    scale : float, default 1.0
        Multiplies every coordinate. The points lie within radius 6.5, so
        ``scale = 1/6.5`` brings them into [-1, 1].

    Returns
    -------
    Patterns
        Inputs ``(194, 2)``, columns ``x`` and ``y``; targets ``(194, 1)``, 1 for spiral 1
        and 0 for spiral 0. The order interleaves the spirals as the benchmark's program
        prints them: row ``2i`` is spiral 1's point ``i``, row ``2i + 1`` its reflection
        on spiral 0. Labels ``"spiral 1 #i"`` and ``"spiral 0 #i"``. The first rows are
        (0, 6.5) and (-0, -6.5); the last two lie at radius 0.5.

    References
    ----------
    .. [1] Lang, K. J. & Witbrock, M. J. (1988). Learning to tell two spirals apart. In
       *Proceedings of the 1988 Connectionist Models Summer School*, 52-59. Morgan
       Kaufmann. (The CMU neural-network benchmark collection.)
    """
    scale = _positive("two_spirals", "scale", scale)
    i = np.arange(97)
    angle = i * np.pi / 16.0
    radius = 6.5 * (104 - i) / 104.0
    x, y = radius * np.sin(angle), radius * np.cos(angle)
    X = np.empty((194, 2))
    X[0::2, 0], X[0::2, 1] = x, y
    X[1::2, 0], X[1::2, 1] = -x, -y
    T = np.tile([[1.0], [0.0]], (97, 1))
    labels = [f"spiral {c} #{k}" for k in range(97) for c in (1, 0)]
    return Patterns(X * scale, T, input_names=["x", "y"], target_names=["spiral 1"], labels=labels)


# --- regression: sine, polynomial, friedman1 ----------------------------------------------

#: The most points ``sine`` and ``polynomial`` make, and friedman1's largest ``n`` and ``d``.
MAX_POINTS = 1_000_000
MAX_FRIEDMAN_PATTERNS = 100_000
MAX_FRIEDMAN_INPUTS = 100
#: The most coefficients ``polynomial`` takes (degree 19).
MAX_COEFFICIENTS = 20


def _grid(dataset: str, n, low, high) -> np.ndarray:
    """``n`` evenly spaced points from ``low`` to ``high``, both included, as a column."""
    n = _whole(dataset, "n", n, 2, MAX_POINTS)
    low, high = _interval(dataset, low, high)
    return np.linspace(low, high, n)[:, None]


def _noisy(dataset: str, y: np.ndarray, noise, seed) -> np.ndarray:
    """``y`` plus ``noise`` times standard normal draws from ``default_rng(seed)`` (one per
    row, in order); ``y`` itself when ``noise`` is 0 (nothing is drawn)."""
    noise, seed = _non_negative(dataset, "noise", noise), _seed(dataset, seed)
    if noise == 0:
        return y
    return y + noise * np.random.default_rng(seed).standard_normal(y.shape)


def sine(*, n: int = 50, low: float = -math.pi, high: float = math.pi, noise: float = 0.0, seed: int = 0) -> Patterns:
    """y = sin(x) on an evenly spaced grid of ``n`` points, optionally with Gaussian noise.

    Parameters
    ----------
    n : int, default 50
        Number of points, 2 to 1,000,000.
    low, high : float, default -π and π
        The interval, ``low < high``; both ends are points of the grid.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise added to each target (0: none, and
        nothing is drawn).
    seed : int, default 0
        Seeds ``numpy.random.default_rng`` for the noise.

    Returns
    -------
    Patterns
        Inputs ``(n, 1)``, column ``x``: ``x_k = low + k (high - low) / (n - 1)`` for
        ``k = 0 .. n - 1``, in increasing order (``numpy.linspace``); targets ``(n, 1)``,
        column ``sin(x)``: ``sin(x_k) + noise · z_k`` with ``z_k`` the k-th standard
        normal draw. No labels (the input says which point a pattern is).

    Notes
    -----
    Not from a paper: the smallest regression problem, for checking that a network fits a
    smooth function (``scenarios/sine_regression.toml``).
    """
    X = _grid("sine", n, low, high)
    return Patterns(X, _noisy("sine", np.sin(X), noise, seed), input_names=["x"], target_names=["sin(x)"])


def polynomial(*, coefficients: Sequence[float] = (0.0, 0.0, 1.0), n: int = 50, low: float = -1.0,
               high: float = 1.0, noise: float = 0.1, seed: int = 0) -> Patterns:
    """y = c0 + c1 x + c2 x² + ... on an evenly spaced grid, plus Gaussian noise.

    Parameters
    ----------
    coefficients : sequence of float, default (0, 0, 1)
        ``c0, c1, ...``, constant term first (``coefficients[k]`` multiplies ``x**k``, as
        ``numpy.polynomial.polynomial.polyval``); 1 to 20 finite numbers. The default is
        y = x².
    n : int, default 50
        Number of points, 2 to 1,000,000.
    low, high : float, default -1 and 1
        The interval, ``low < high``; both ends are points of the grid.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each target (0: none).
    seed : int, default 0
        Seeds ``numpy.random.default_rng`` for the noise.

    Returns
    -------
    Patterns
        Inputs ``(n, 1)``, column ``x``, the grid of :func:`sine` in increasing order;
        targets ``(n, 1)``, column ``y``: the polynomial at ``x_k`` plus ``noise · z_k``,
        ``z_k`` the k-th standard normal draw. No labels.

    Notes
    -----
    Not from a paper: a noisy curve whose true form is known, for over- and under-fitting.
    """
    if isinstance(coefficients, (str, bytes, Mapping)) or not isinstance(coefficients, Sequence) or \
            not 1 <= len(coefficients) <= MAX_COEFFICIENTS:
        raise DataError(f"polynomial: coefficients must be a list of 1 to {MAX_COEFFICIENTS} numbers, constant "
                        f"term first (e.g. [0, 0, 1] for x²), not {coefficients!r:.60}")
    c = [_finite("polynomial", f"coefficients[{k}]", value) for k, value in enumerate(coefficients)]
    X = _grid("polynomial", n, low, high)
    y = np.zeros_like(X)
    for ck in reversed(c):                      # Horner: ((c_m x + c_{m-1}) x + ...) x + c0
        y = y * X + ck
    return Patterns(X, _noisy("polynomial", y, noise, seed), input_names=["x"], target_names=["y"])


def friedman1(*, n: int = 100, d: int = 10, noise: float = 1.0, seed: int = 0) -> Patterns:
    """Friedman's first regression problem: 5 relevant inputs of ``d``, uniform on [0, 1].

    ``y = 10 sin(π x1 x2) + 20 (x3 − 0.5)² + 10 x4 + 5 x5 + noise · z``; inputs ``x6 ..
    xd`` do not enter ``y``, so a model has to learn to ignore them.

    Parameters
    ----------
    n : int, default 100
        Number of patterns, 1 to 100,000.
    d : int, default 10
        Number of inputs, 5 to 100 (Friedman used 10).
    noise : float, default 1.0
        Standard deviation of the Gaussian noise ``z`` is scaled by (Friedman: 1).
    seed : int, default 0
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    Patterns
        Inputs ``(n, d)``, columns ``x1 .. xd``; targets ``(n, 1)``, column ``y``. The
        draws, in order: the inputs row by row (``rng.uniform(0, 1, (n, d))``), then one
        standard normal ``z`` per pattern (``rng.standard_normal(n)``), the order of
        scikit-learn's ``make_friedman1`` (whose older generator gives other numbers). So
        the inputs of a seed do not depend on ``noise``. No labels.

    References
    ----------
    .. [1] Friedman, J. H. (1991). Multivariate adaptive regression splines. *The Annals
       of Statistics* 19(1), 1-67.
    """
    n = _whole("friedman1", "n", n, 1, MAX_FRIEDMAN_PATTERNS)
    d = _whole("friedman1", "d", d, 5, MAX_FRIEDMAN_INPUTS)
    noise, seed = _non_negative("friedman1", "noise", noise), _seed("friedman1", seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (n, d))
    z = rng.standard_normal(n)
    x1, x2, x3, x4, x5 = X[:, :5].T
    y = 10.0 * np.sin(np.pi * x1 * x2) + 20.0 * (x3 - 0.5) ** 2 + 10.0 * x4 + 5.0 * x5 + noise * z
    return Patterns(X, y[:, None], input_names=[f"x{j}" for j in range(1, d + 1)], target_names=["y"])


# --- family trees -------------------------------------------------------------------------

#: The two families of Rumelhart, Hinton & Williams (1986) Figs. 2-4, as the paper draws
#: them: each person's sex, the marriages (husband, wife) and each couple's children.
#: Everyone's relatives are derived from these by :func:`_relatives`. The people are
#: listed generation by generation, and the Italian list holds, at each position, the
#: person in the same place in the tree as the English one (the isomorphism).
FAMILIES: dict[str, dict] = {
    "English": {
        "people": ("Christopher", "Penelope", "Andrew", "Christine", "Margaret", "Arthur",
                   "Victoria", "James", "Jennifer", "Charles", "Colin", "Charlotte"),
        "men": ("Christopher", "Andrew", "Arthur", "James", "Charles", "Colin"),
        "marriages": (("Christopher", "Penelope"), ("Andrew", "Christine"), ("Arthur", "Margaret"),
                      ("James", "Victoria"), ("Charles", "Jennifer")),
        "children": {("Christopher", "Penelope"): ("Arthur", "Victoria"),
                     ("Andrew", "Christine"): ("James", "Jennifer"),
                     ("James", "Victoria"): ("Colin", "Charlotte")},
    },
    "Italian": {
        "people": ("Roberto", "Maria", "Pierro", "Francesca", "Gina", "Emilio",
                   "Lucia", "Marco", "Angela", "Tomaso", "Alfonso", "Sophia"),
        "men": ("Roberto", "Pierro", "Emilio", "Marco", "Tomaso", "Alfonso"),
        "marriages": (("Roberto", "Maria"), ("Pierro", "Francesca"), ("Emilio", "Gina"),
                      ("Marco", "Lucia"), ("Tomaso", "Angela")),
        "children": {("Roberto", "Maria"): ("Emilio", "Lucia"),
                     ("Pierro", "Francesca"): ("Marco", "Angela"),
                     ("Marco", "Lucia"): ("Alfonso", "Sophia")},
    },
}

#: The 24 person units: the English family, then the Italian, each in its listed order.
PEOPLE: tuple[str, ...] = tuple(p for family in FAMILIES.values() for p in family["people"])

#: The 12 relationship units, in the paper's order.
RELATIONSHIPS: tuple[str, ...] = ("father", "mother", "husband", "wife", "son", "daughter",
                                  "uncle", "aunt", "brother", "sister", "nephew", "niece")


def _relatives(people: Sequence[str], men: Sequence[str], marriages: Sequence[tuple[str, str]],
               children: Mapping[tuple[str, str], Sequence[str]]) -> dict[tuple[str, str], frozenset[str]]:
    """``{(person1, relationship): {person2, ...}}`` for one family, from its structure.

    Parents and children come from the couples; spouses from the marriages; siblings
    share a parent; uncles and aunts are the siblings of a parent and those siblings'
    spouses; nephews and nieces are the children of one's siblings and of one's
    spouse's siblings. Each kin set splits by sex into the two relationships that name
    it (parents into father and mother, ...). Only non-empty sets are kept.
    """
    men = set(men)
    spouse: dict[str, set[str]] = {p: set() for p in people}
    for husband, wife in marriages:
        spouse[husband].add(wife)
        spouse[wife].add(husband)
    parents: dict[str, set[str]] = {p: set() for p in people}
    kids: dict[str, set[str]] = {p: set() for p in people}
    for couple, offspring in children.items():
        for child in offspring:
            parents[child].update(couple)
            for parent in couple:
                kids[parent].add(child)
    siblings = {p: {q for q in people if q != p and parents[p] & parents[q]} for p in people}

    def union(sets):
        return set().union(*sets)

    def siblings_and_their_spouses(p):
        return siblings[p] | union(spouse[s] for s in siblings[p])

    kin = {
        "parent": parents,
        "spouse": spouse,
        "child": kids,
        "parent's sibling": {p: union(siblings_and_their_spouses(q) for q in parents[p]) for p in people},
        "sibling": siblings,
        "sibling's child": {p: union(kids[s] for s in siblings[p] | union(siblings[q] for q in spouse[p]))
                            for p in people},
    }
    names = {"parent": ("father", "mother"), "spouse": ("husband", "wife"), "child": ("son", "daughter"),
             "parent's sibling": ("uncle", "aunt"), "sibling": ("brother", "sister"),
             "sibling's child": ("nephew", "niece")}
    facts = {}
    for p in people:
        for k, (male, female) in names.items():
            found = kin[k][p] - {p}
            for relationship, who in ((male, found & men), (female, found - men)):
                if who:
                    facts[p, relationship] = frozenset(who)
    return facts


def family_trees() -> Patterns:
    """Hinton's family-trees task: who is person 1's relationship, in two isomorphic families.

    Each case is a person and a relationship; its target is every person who stands in
    that relationship to them. The relations are derived from the families' marriages
    and children (:data:`FAMILIES`), and only cases with at least one answer are kept:
    104 cases (52 per family) holding 112 facts (56 per family).

    Returns
    -------
    Patterns
        Inputs ``(104, 36)``: 24 person units, one-hot, then 12 relationship units,
        one-hot; ``input_names`` the 24 people then the 12 relationships. Targets
        ``(104, 24)``: the person units of every correct answer on (several when, for
        example, Colin has two aunts); ``target_names`` the 24 people. Labels like
        ``"Colin aunt"``.

        The person order is the English family then the Italian, each generation by
        generation: Christopher, Penelope, Andrew, Christine, Margaret, Arthur, Victoria,
        James, Jennifer, Charles, Colin, Charlotte, Roberto, Maria, Pierro, Francesca,
        Gina, Emilio, Lucia, Marco, Angela, Tomaso, Alfonso, Sophia; person ``k`` of the
        English family holds the same place as person ``k + 12`` of the Italian. The
        relationships are father, mother, husband, wife, son, daughter, uncle, aunt,
        brother, sister, nephew, niece. Cases run by person 1 in that order and, for
        each, by relationship in that order.

    References
    ----------
    .. [1] Hinton, G. E. (1986). Learning distributed representations of concepts. In
       *Proceedings of the Eighth Annual Conference of the Cognitive Science Society*,
       1-12.
    .. [2] Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning
       representations by back-propagating errors. *Nature* 323, 533-536 (Figs. 2-4).
    """
    facts: dict[tuple[str, str], frozenset[str]] = {}
    for family in FAMILIES.values():
        facts.update(_relatives(**family))
    person = {p: k for k, p in enumerate(PEOPLE)}
    relation = {r: k for k, r in enumerate(RELATIONSHIPS)}
    cases = [(p, r) for p in PEOPLE for r in RELATIONSHIPS if (p, r) in facts]
    X = np.zeros((len(cases), len(PEOPLE) + len(RELATIONSHIPS)))
    T = np.zeros((len(cases), len(PEOPLE)))
    for row, (p, r) in enumerate(cases):
        X[row, person[p]] = 1.0
        X[row, len(PEOPLE) + relation[r]] = 1.0
        T[row, [person[q] for q in facts[p, r]]] = 1.0
    return Patterns(X, T, input_names=list(PEOPLE) + list(RELATIONSHIPS), target_names=list(PEOPLE),
                    labels=[f"{p} {r}" for p, r in cases])


# --- registration -------------------------------------------------------------------------

DATASETS = (
    Dataset("xor", xor, description="exclusive or, 4 patterns; bipolar=true for -1/+1 (PDP ch. 8)"),
    Dataset("parity", parity, description="all 2^bits patterns, target 1 when an odd number are on (PDP ch. 8)"),
    Dataset("symmetry", symmetry,
            description="all 2^bits patterns, target 1 when mirror-symmetric (Rumelhart et al. 1986, Fig. 1)"),
    Dataset("encoder", encoder, description="n one-hot patterns, target = input: the 8-3-8 encoder (PDP ch. 8)"),
    Dataset("two_spirals", two_spirals,
            description="194 points on two spirals, interleaved; scale=1/6.5 for [-1, 1] (Lang & Witbrock 1988)"),
    Dataset("family_trees", family_trees,
            description="104 (person, relationship) -> people cases, two isomorphic families (Hinton 1986)"),
    Dataset("sine", sine, description="y = sin(x) on n grid points of [low, high], optional Gaussian noise (seed)"),
    Dataset("polynomial", polynomial,
            description="y = c0 + c1 x + ... on a grid of [low, high], plus Gaussian noise (seed)"),
    Dataset("friedman1", friedman1,
            description="y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise, x uniform on [0, 1]^d "
                        "(Friedman 1991)"),
)


@hookimpl
def neurosim_register_datasets(register):
    """Register xor, parity, symmetry, encoder, two_spirals, family_trees, sine, polynomial and friedman1."""
    for dataset in DATASETS:
        register(dataset)
