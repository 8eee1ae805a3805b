"""Tests of the built-in datasets, reached through the registry like any plugin's.

Each dataset's content is checked against the classic experiments as their sources
describe them (docs/classics.md names the sources), written out here independently of
the plugin: the xor truth table, parity and symmetry counts, the 8-3-8 encoder, the
two-spirals formula point by point, and the family trees case by case (the English
family's 52 cases by hand, the Italian family's through the person-by-person
isomorphism). The regression sets are checked the same way: sine's first rows written
out, the polynomial at hand-computed points, Friedman's formula evaluated here on
friedman1's own inputs, and the noise's mean and standard deviation over many draws. Then
the options: bad values raise :class:`neurosim.DataError` naming the dataset and option,
and options a dataset does not take are refused by the registry.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurosim
from neurosim import DataError, NeurosimError, PluginError

NAMES = ("xor", "parity", "symmetry", "encoder", "two_spirals", "family_trees")
REGRESSION = ("sine", "polynomial", "friedman1")

#: name -> (options, n_patterns, n_inputs, n_outputs) of a default-sized call.
SHAPES = {
    "xor": ({}, 4, 2, 1),
    "parity": ({}, 16, 4, 1),
    "symmetry": ({}, 64, 6, 1),
    "encoder": ({}, 8, 8, 8),
    "two_spirals": ({}, 194, 2, 1),
    "family_trees": ({}, 104, 36, 24),
}

ENGLISH = ("Christopher", "Penelope", "Andrew", "Christine", "Margaret", "Arthur",
           "Victoria", "James", "Jennifer", "Charles", "Colin", "Charlotte")
ITALIAN = ("Roberto", "Maria", "Pierro", "Francesca", "Gina", "Emilio",
           "Lucia", "Marco", "Angela", "Tomaso", "Alfonso", "Sophia")
RELATIONSHIPS = ("father", "mother", "husband", "wife", "son", "daughter",
                 "uncle", "aunt", "brother", "sister", "nephew", "niece")
MALE = ("father", "husband", "son", "uncle", "brother", "nephew")
FEMALE = ("mother", "wife", "daughter", "aunt", "sister", "niece")

#: The same place in the two trees (the Italian family tree is the English one, person
#: for person).
ENGLISH_TO_ITALIAN = {
    "Christopher": "Roberto", "Penelope": "Maria", "Andrew": "Pierro", "Christine": "Francesca",
    "Arthur": "Emilio", "Victoria": "Lucia", "James": "Marco", "Jennifer": "Angela",
    "Margaret": "Gina", "Charles": "Tomaso", "Colin": "Alfonso", "Charlotte": "Sophia",
}

#: Every English case, read off the tree by hand: person 1 -> {relationship: person(s) 2}.
ENGLISH_CASES = {
    "Christopher": {"wife": "Penelope", "son": "Arthur", "daughter": "Victoria"},
    "Penelope": {"husband": "Christopher", "son": "Arthur", "daughter": "Victoria"},
    "Andrew": {"wife": "Christine", "son": "James", "daughter": "Jennifer"},
    "Christine": {"husband": "Andrew", "son": "James", "daughter": "Jennifer"},
    "Margaret": {"husband": "Arthur", "nephew": "Colin", "niece": "Charlotte"},
    "Arthur": {"father": "Christopher", "mother": "Penelope", "wife": "Margaret", "sister": "Victoria",
               "nephew": "Colin", "niece": "Charlotte"},
    "Victoria": {"father": "Christopher", "mother": "Penelope", "husband": "James", "son": "Colin",
                 "daughter": "Charlotte", "brother": "Arthur"},
    "James": {"father": "Andrew", "mother": "Christine", "wife": "Victoria", "son": "Colin",
              "daughter": "Charlotte", "sister": "Jennifer"},
    "Jennifer": {"father": "Andrew", "mother": "Christine", "husband": "Charles", "brother": "James",
                 "nephew": "Colin", "niece": "Charlotte"},
    "Charles": {"wife": "Jennifer", "nephew": "Colin", "niece": "Charlotte"},
    "Colin": {"father": "James", "mother": "Victoria", "uncle": "Arthur Charles", "aunt": "Jennifer Margaret",
              "sister": "Charlotte"},
    "Charlotte": {"father": "James", "mother": "Victoria", "uncle": "Arthur Charles", "aunt": "Jennifer Margaret",
                  "brother": "Colin"},
}


@pytest.fixture(scope="module")
def registry():
    return neurosim.make_registry()


@pytest.fixture(scope="module")
def make(registry):
    """``make(name, **options) -> Patterns`` through the registry."""
    return lambda name, **options: registry.dataset(name)(**options)


@pytest.fixture(scope="module")
def family(make):
    """``{(person1, relationship): frozenset(person2)}`` read back from the family_trees patterns."""
    p = make("family_trees")
    cases = {}
    for x, t in zip(p.inputs, p.targets):
        person, relation = (p.input_names[j] for j in np.flatnonzero(x))
        cases[person, relation] = frozenset(p.target_names[j] for j in np.flatnonzero(t))
    assert len(cases) == len(p), "two rows hold the same case"
    return cases


# --- the registry -------------------------------------------------------------------------


def test_registry_lists_the_builtins_owned_by_the_datasets_plugin(registry):
    assert set(NAMES + REGRESSION) <= set(registry.names("dataset"))
    for name in NAMES + REGRESSION:
        dataset = registry.dataset(name)
        assert isinstance(dataset, neurosim.Dataset)
        assert dataset.name == name
        assert dataset.description
        assert registry.owner("dataset", name) == "neurosim.datasets"


@pytest.mark.parametrize("name, option", [("parity", "bit"), ("two_spirals", "scaling"), ("family_trees", "seed"),
                                          ("sine", "points"), ("friedman1", "dims")])
def test_registry_refuses_an_option_the_dataset_does_not_take(registry, name, option):
    with pytest.raises(PluginError, match=f"dataset '{name}' has no option '{option}'"):
        registry.with_options("dataset", name, {option: 1})


def test_registry_accepts_the_options_the_datasets_take(registry):
    for name, options in {"xor": {"bipolar": True}, "parity": {"bits": 3}, "symmetry": {"bits": 4},
                          "encoder": {"n": 4}, "two_spirals": {"scale": 0.5}}.items():
        registry.with_options("dataset", name, options)(**options)


# --- every dataset ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_names_and_determinism(make, name):
    options, n, n_in, n_out = SHAPES[name]
    p = make(name, **options)
    assert isinstance(p, neurosim.Patterns)
    assert p.inputs.shape == (n, n_in) and p.targets.shape == (n, n_out)
    assert p.inputs.dtype == np.float64 and p.targets.dtype == np.float64
    assert len(p.input_names) == n_in and len(p.target_names) == n_out
    assert len(p.labels) == n and len(set(p.labels)) == n
    assert all(isinstance(s, str) for s in p.input_names + p.target_names + p.labels)
    again = make(name, **options)
    assert np.array_equal(p.inputs, again.inputs) and np.array_equal(p.targets, again.targets)
    assert p.labels == again.labels


# --- xor, parity, symmetry, encoder -------------------------------------------------------


def test_xor_truth_table(make):
    p = make("xor")
    assert p.inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert p.targets.tolist() == [[0], [1], [1], [0]]
    assert p.labels == ["0 0", "0 1", "1 0", "1 1"]


def test_xor_bipolar(make):
    p = make("xor", bipolar=True)
    assert p.inputs.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    assert p.targets.tolist() == [[-1], [1], [1], [-1]]


def counting_order(bits):
    return [[int(c) for c in format(k, f"0{bits}b")] for k in range(2 ** bits)]


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 7])
def test_parity_is_every_pattern_in_counting_order_odd_on(make, bits):
    p = make("parity", bits=bits)
    rows = counting_order(bits)
    assert p.inputs.tolist() == rows
    assert p.targets[:, 0].tolist() == [sum(r) % 2 for r in rows]
    assert p.targets.sum() == 2 ** (bits - 1)
    assert p.labels[-1] == "1" * bits


def test_parity_defaults_to_four_bits(make):
    p = make("parity")
    assert p.inputs.shape == (16, 4) and p.targets.sum() == 8
    assert p.targets[:, 0].tolist() == [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0]


def test_symmetry_six_bits_has_eight_mirror_images(make):
    p = make("symmetry")
    assert p.inputs.tolist() == counting_order(6)
    assert p.targets.sum() == 8
    for x, t in zip(p.inputs, p.targets):
        assert bool(t[0]) == (x.tolist() == x[::-1].tolist())
    positives = {"".join(str(int(v)) for v in x) for x, t in zip(p.inputs, p.targets) if t[0] == 1}
    assert positives == {"000000", "001100", "010010", "011110", "100001", "101101", "110011", "111111"}


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_symmetry_counts(make, bits):
    p = make("symmetry", bits=bits)
    assert len(p) == 2 ** bits and p.targets.sum() == 2 ** (bits // 2)


@pytest.mark.parametrize("n", [2, 3, 8])
def test_encoder_is_the_identity(make, n):
    p = make("encoder", n=n)
    assert np.array_equal(p.inputs, np.eye(n)) and np.array_equal(p.targets, np.eye(n))


def test_encoder_defaults_to_eight(make):
    assert np.array_equal(make("encoder").targets, np.eye(8))


# --- two spirals --------------------------------------------------------------------------


def test_two_spirals_first_points(make):
    p = make("two_spirals")
    assert p.inputs[0].tolist() == [0.0, 6.5] and p.targets[0, 0] == 1
    assert p.inputs[1].tolist() == [-0.0, -6.5] and p.targets[1, 0] == 0
    assert p.labels[:4] == ["spiral 1 #0", "spiral 0 #0", "spiral 1 #1", "spiral 0 #1"]


def test_two_spirals_follow_the_benchmark_formula(make):
    p = make("two_spirals")
    assert len(p) == 194
    assert p.targets[:, 0].tolist() == [1.0, 0.0] * 97
    for i in range(97):
        x, y = p.inputs[2 * i]
        radius = 6.5 * (104 - i) / 104
        assert math.hypot(x, y) == pytest.approx(radius, abs=1e-12)
        assert x == pytest.approx(radius * math.sin(i * math.pi / 16), abs=1e-12)
        assert y == pytest.approx(radius * math.cos(i * math.pi / 16), abs=1e-12)
    assert math.hypot(*p.inputs[-1]) == pytest.approx(0.5)


def test_two_spirals_classes_are_point_reflections(make):
    p = make("two_spirals")
    assert np.array_equal(p.inputs[1::2], -p.inputs[0::2])
    assert np.all(p.targets[0::2] == 1) and np.all(p.targets[1::2] == 0)


def test_two_spirals_scale_multiplies_the_coordinates(make):
    full, unit = make("two_spirals"), make("two_spirals", scale=1 / 6.5)
    assert np.allclose(unit.inputs, full.inputs / 6.5, rtol=1e-15, atol=0)
    assert np.abs(unit.inputs).max() == pytest.approx(1.0)
    assert np.array_equal(unit.targets, full.targets)


# --- regression: sine, polynomial, friedman1 ----------------------------------------------


@pytest.mark.parametrize("name, n, d", [("sine", 50, 1), ("polynomial", 50, 1), ("friedman1", 100, 10)])
def test_regression_sets_shape_names_and_determinism(make, name, n, d):
    p = make(name)
    assert p.inputs.shape == (n, d) and p.targets.shape == (n, 1)
    assert p.inputs.dtype == np.float64 and p.targets.dtype == np.float64
    assert p.input_names == (["x"] if d == 1 else [f"x{j}" for j in range(1, d + 1)])
    assert p.target_names == (["sin(x)"] if name == "sine" else ["y"])
    assert p.labels is None
    again = make(name)
    assert np.array_equal(p.inputs, again.inputs) and np.array_equal(p.targets, again.targets)


def test_sine_first_rows_and_grid(make):
    p = make("sine")
    # x_k = -π + k·2π/49; the first three rows, written out
    assert p.inputs[:3, 0].tolist() == pytest.approx([-3.141592653589793, -3.0133643820146996, -2.885136110439606],
                                                      abs=1e-15)
    assert p.targets[:3, 0].tolist() == pytest.approx([0.0, -0.12787716168450605, -0.25365458390950735], abs=1e-15)
    assert p.inputs[-1, 0] == math.pi and p.inputs[0, 0] == -math.pi          # both ends are grid points
    assert np.all(np.diff(p.inputs[:, 0]) > 0)
    for x, y in zip(p.inputs[:, 0], p.targets[:, 0]):
        assert y == pytest.approx(math.sin(x), abs=1e-15)


def test_sine_interval_and_size(make):
    p = make("sine", n=5, low=0, high=2)
    assert p.inputs[:, 0].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert p.targets[:, 0].tolist() == pytest.approx([0.0, 0.479425538604203, 0.8414709848078965,
                                                       0.9974949866040544, 0.9092974268256817], abs=1e-15)


def test_sine_noise_is_seeded_gaussian_of_the_given_deviation(make):
    clean = make("sine", n=20000)
    noisy = make("sine", n=20000, noise=0.5, seed=3)
    assert np.array_equal(noisy.inputs, clean.inputs)
    residual = noisy.targets[:, 0] - clean.targets[:, 0]
    # 20,000 draws: the mean is within 4 standard errors (4 · 0.5 / √20000 = 0.014) of 0, the
    # standard deviation within 4 of its (0.5 / √40000 = 0.0025) of 0.5
    assert abs(residual.mean()) < 0.014 and abs(residual.std() - 0.5) < 0.01
    # the k-th draw of default_rng(seed) goes to pattern k
    np.testing.assert_allclose(residual, 0.5 * np.random.default_rng(3).standard_normal(20000), rtol=0, atol=1e-15)
    assert np.array_equal(make("sine", n=20000, noise=0.5, seed=3).targets, noisy.targets)
    assert not np.array_equal(make("sine", n=20000, noise=0.5, seed=4).targets, noisy.targets)


def test_polynomial_at_hand_computed_points(make):
    # y = 1 - 2x + 0.5x² at x = -2, -1, 0, 1, 2
    p = make("polynomial", coefficients=[1, -2, 0.5], n=5, low=-2, high=2, noise=0)
    assert p.inputs[:, 0].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert p.targets[:, 0].tolist() == [7.0, 3.5, 1.0, -0.5, -1.0]
    constant = make("polynomial", coefficients=[4.25], n=3, noise=0)
    assert constant.targets[:, 0].tolist() == [4.25, 4.25, 4.25]


def test_polynomial_default_is_a_noisy_parabola(make):
    p = make("polynomial")
    x = p.inputs[:, 0]
    assert x[0] == -1.0 and x[-1] == 1.0
    residual = p.targets[:, 0] - x ** 2
    np.testing.assert_allclose(residual, 0.1 * np.random.default_rng(0).standard_normal(50), rtol=0, atol=1e-15)
    big = make("polynomial", n=20000, seed=1)
    residual = big.targets[:, 0] - big.inputs[:, 0] ** 2
    assert abs(residual.mean()) < 4 * 0.1 / math.sqrt(20000) and abs(residual.std() - 0.1) < 4 * 0.1 / math.sqrt(40000)


def friedman(x):
    """Friedman (1991)'s first function, written out for one pattern."""
    return 10 * math.sin(math.pi * x[0] * x[1]) + 20 * (x[2] - 0.5) ** 2 + 10 * x[3] + 5 * x[4]


def test_friedman1_follows_the_formula_on_its_own_inputs(make):
    p = make("friedman1", n=200, d=7, noise=0)
    assert p.inputs.shape == (200, 7) and p.input_names == [f"x{j}" for j in range(1, 8)]
    assert p.inputs.min() >= 0 and p.inputs.max() < 1
    for x, y in zip(p.inputs, p.targets[:, 0]):
        assert y == pytest.approx(friedman(x), abs=1e-12)
    # the draws: the inputs row by row from default_rng(seed), then the noise
    assert np.array_equal(p.inputs, np.random.default_rng(0).uniform(0, 1, (200, 7)))


def test_friedman1_inputs_are_uniform_and_the_extra_ones_irrelevant(make):
    p = make("friedman1", n=20000, d=10, noise=0, seed=5)
    # uniform on [0, 1]: mean 1/2, variance 1/12, within 4 standard errors
    assert np.all(np.abs(p.inputs.mean(axis=0) - 0.5) < 4 * math.sqrt(1 / 12 / 20000))
    assert np.all(np.abs(p.inputs.var(axis=0) - 1 / 12) < 4 * math.sqrt(1 / 180 / 20000))
    # x6 .. x10 do not enter y: the targets are the formula of the first five alone
    np.testing.assert_allclose(p.targets[:, 0], [friedman(x[:5]) for x in p.inputs], rtol=0, atol=1e-12)


def test_friedman1_noise_has_the_given_standard_deviation(make):
    clean, noisy = make("friedman1", n=20000, noise=0), make("friedman1", n=20000, noise=1.0)
    assert np.array_equal(clean.inputs, noisy.inputs)           # the inputs of a seed do not depend on noise
    z = noisy.targets[:, 0] - clean.targets[:, 0]
    assert abs(z.mean()) < 4 / math.sqrt(20000) and abs(z.std() - 1.0) < 4 / math.sqrt(40000)
    assert make("friedman1", n=1, d=5).inputs.shape == (1, 5)


# --- family trees -------------------------------------------------------------------------


def test_family_trees_layout(make):
    p = make("family_trees")
    assert p.input_names == list(ENGLISH + ITALIAN + RELATIONSHIPS)
    assert p.target_names == list(ENGLISH + ITALIAN)
    assert np.all(p.inputs[:, :24].sum(axis=1) == 1) and np.all(p.inputs[:, 24:].sum(axis=1) == 1)
    for x, label in zip(p.inputs, p.labels):
        assert label == " ".join(p.input_names[j] for j in np.flatnonzero(x))
    assert p.labels[0] == "Christopher wife"
    # cases run by person 1 in the person order, then by relationship
    order = [(p.input_names.index(a), RELATIONSHIPS.index(b)) for a, b in (s.split() for s in p.labels)]
    assert order == sorted(order)


def test_family_trees_counts(make, family):
    p = make("family_trees")
    assert len(family) == 104
    assert p.targets.sum() == 112 == sum(len(v) for v in family.values())
    for members in (ENGLISH, ITALIAN):
        cases = {k: v for k, v in family.items() if k[0] in members}
        assert len(cases) == 52
        assert sum(len(v) for v in cases.values()) == 56
        assert all(v <= set(members) for v in cases.values()), "a relative in the other family"


def test_colin_has_two_aunts_and_two_uncles(family):
    assert family["Colin", "aunt"] == {"Jennifer", "Margaret"}
    assert family["Colin", "uncle"] == {"Arthur", "Charles"}
    assert family["Charlotte", "aunt"] == {"Jennifer", "Margaret"}


def test_colin_and_charlotte_are_the_children_of_victoria_and_james(family):
    for child in ("Colin", "Charlotte"):
        assert family[child, "father"] == {"James"} and family[child, "mother"] == {"Victoria"}
    for parent in ("Victoria", "James"):
        assert family[parent, "son"] == {"Colin"} and family[parent, "daughter"] == {"Charlotte"}
    assert ("Arthur", "son") not in family and ("Margaret", "daughter") not in family


def test_english_family_matches_the_tree_case_by_case(family):
    expected = {(p, r): frozenset(who.split()) for p, rs in ENGLISH_CASES.items() for r, who in rs.items()}
    assert {k: v for k, v in family.items() if k[0] in ENGLISH} == expected


def test_italian_family_is_the_english_one_mapped_person_by_person(family):
    assert list(ENGLISH_TO_ITALIAN) != list(ENGLISH)                # the map is by name, not by position
    assert set(ENGLISH_TO_ITALIAN) == set(ENGLISH) and set(ENGLISH_TO_ITALIAN.values()) == set(ITALIAN)
    mapped = {(ENGLISH_TO_ITALIAN[p], r): frozenset(ENGLISH_TO_ITALIAN[q] for q in who)
              for (p, r), who in family.items() if p in ENGLISH}
    italian = {k: v for k, v in family.items() if k[0] in ITALIAN}
    assert mapped == italian
    assert italian["Alfonso", "aunt"] == {"Angela", "Gina"}


def test_no_one_is_their_own_relative(family):
    for (person, relation), who in family.items():
        assert person not in who, f"{person} is their own {relation}"


def test_relations_come_in_inverse_pairs(family):
    def holds(p, r, q):
        return q in family.get((p, r), ())

    facts = [(p, r, q) for (p, r), who in family.items() for q in who]
    inverse = {"father": ("son", "daughter"), "mother": ("son", "daughter"),
               "son": ("father", "mother"), "daughter": ("father", "mother"),
               "husband": ("wife",), "wife": ("husband",),
               "uncle": ("nephew", "niece"), "aunt": ("nephew", "niece"),
               "nephew": ("uncle", "aunt"), "niece": ("uncle", "aunt"),
               "brother": ("brother", "sister"), "sister": ("brother", "sister")}
    for p, r, q in facts:
        assert sum(holds(q, back, p) for back in inverse[r]) == 1, f"{q} is {p}'s {r}, but not the reverse"


def test_each_person_has_one_sex(family):
    men = set().union(*(who for (_, r), who in family.items() if r in MALE))
    women = set().union(*(who for (_, r), who in family.items() if r in FEMALE))
    assert not men & women
    assert men | women == set(ENGLISH + ITALIAN)
    assert "Margaret" in women and "Arthur" in men and "Pierro" in men and "Sophia" in women


# --- options ------------------------------------------------------------------------------

BAD_OPTIONS = [
    ("parity", "bits", 0, "parity: bits must be a whole number from 1 to 16, not 0"),
    ("parity", "bits", 17, "parity: bits must be a whole number from 1 to 16, not 17"),
    ("parity", "bits", 2.5, "parity: bits must be a whole number from 1 to 16, not 2.5"),
    ("parity", "bits", "4", "parity: bits must be a whole number from 1 to 16, not '4'"),
    ("parity", "bits", True, "parity: bits must be a whole number from 1 to 16, not True"),
    ("symmetry", "bits", 5, "symmetry: bits must be an even whole number from 2 to 16, not 5"),
    ("symmetry", "bits", 0, "symmetry: bits must be an even whole number from 2 to 16, not 0"),
    ("symmetry", "bits", 18, "symmetry: bits must be an even whole number from 2 to 16, not 18"),
    ("encoder", "n", 1, "encoder: n must be a whole number from 2 to 1024, not 1"),
    ("encoder", "n", None, "encoder: n must be a whole number from 2 to 1024, not None"),
    ("xor", "bipolar", "yes", "xor: bipolar must be true or false, not 'yes'"),
    ("xor", "bipolar", 1, "xor: bipolar must be true or false, not 1"),
    ("two_spirals", "scale", 0, "two_spirals: scale must be a positive finite number, not 0"),
    ("two_spirals", "scale", -1.0, "two_spirals: scale must be a positive finite number, not -1.0"),
    ("two_spirals", "scale", math.inf, "two_spirals: scale must be a positive finite number, not inf"),
    ("two_spirals", "scale", math.nan, "two_spirals: scale must be a positive finite number, not nan"),
    ("two_spirals", "scale", "1", "two_spirals: scale must be a positive finite number, not '1'"),
    ("sine", "n", 1, "sine: n must be a whole number from 2 to 1000000, not 1"),
    ("sine", "low", math.inf, "sine: low must be a finite number, not inf"),
    ("sine", "high", "pi", "sine: high must be a finite number, not 'pi'"),
    ("sine", "high", -4.0, "sine: low must be less than high (the interval the points lie on), not "
                           "low = -3.141592653589793 and high = -4.0"),
    ("sine", "noise", -0.1, "sine: noise must be a finite number >= 0, not -0.1"),
    ("sine", "noise", math.nan, "sine: noise must be a finite number >= 0, not nan"),
    ("sine", "seed", -1, "sine: seed must be a whole number from 0 to 9223372036854775807, not -1"),
    ("sine", "seed", 1.5, "sine: seed must be a whole number from 0 to 9223372036854775807, not 1.5"),
    ("polynomial", "coefficients", [], "polynomial: coefficients must be a list of 1 to 20 numbers, constant term "
                                       "first (e.g. [0, 0, 1] for x²), not []"),
    ("polynomial", "coefficients", 2.0, "polynomial: coefficients must be a list of 1 to 20 numbers, constant term "
                                        "first (e.g. [0, 0, 1] for x²), not 2.0"),
    ("polynomial", "coefficients", "12", "polynomial: coefficients must be a list of 1 to 20 numbers, constant "
                                         "term first (e.g. [0, 0, 1] for x²), not '12'"),
    ("polynomial", "coefficients", [1, True], "polynomial: coefficients[1] must be a finite number, not True"),
    ("polynomial", "coefficients", [1e400], "polynomial: coefficients[0] must be a finite number, not inf"),
    ("polynomial", "noise", "0.1", "polynomial: noise must be a finite number >= 0, not '0.1'"),
    ("polynomial", "low", 1.0, "polynomial: low must be less than high (the interval the points lie on), not "
                               "low = 1.0 and high = 1.0"),
    ("friedman1", "d", 4, "friedman1: d must be a whole number from 5 to 100, not 4"),
    ("friedman1", "n", 0, "friedman1: n must be a whole number from 1 to 100000, not 0"),
    ("friedman1", "n", 10**6, "friedman1: n must be a whole number from 1 to 100000, not 1000000"),
    ("friedman1", "noise", -1, "friedman1: noise must be a finite number >= 0, not -1"),
    ("friedman1", "seed", "0", "friedman1: seed must be a whole number from 0 to 9223372036854775807, not '0'"),
]


@pytest.mark.parametrize("name, option, value, message", BAD_OPTIONS,
                         ids=[f"{n}-{o}-{v!r}" for n, o, v, _ in BAD_OPTIONS])
def test_bad_option_raises_data_error_naming_dataset_and_option(make, name, option, value, message):
    with pytest.raises(DataError) as info:
        make(name, **{option: value})
    assert str(info.value) == message
    assert isinstance(info.value, NeurosimError) and isinstance(info.value, ValueError)


def test_whole_numbers_of_other_types_are_accepted(make):
    assert make("parity", bits=np.int64(3)).inputs.shape == (8, 3)
    assert make("parity", bits=3.0).inputs.shape == (8, 3)
    assert make("symmetry", bits=np.int32(4)).inputs.shape == (16, 4)
    assert make("xor", bipolar=np.bool_(True)).inputs.min() == -1
