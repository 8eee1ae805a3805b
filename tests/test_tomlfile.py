"""``neurosim.tomlfile.dumps``: whatever a scenario holds comes back from ``tomllib`` equal —
every shipped scenario, strings that need escapes, floats to the last bit (NaN and the
infinities too), tables inside arrays of tables — and what TOML cannot hold is refused by
its key."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosim.tomlfile import dumps

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def same(a, b) -> bool:
    """Equal, with NaN equal to NaN and floats compared bit for bit (0.0 and -0.0 differ)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_round_trips(path):
    data = tomllib.loads(path.read_text())
    assert same(tomllib.loads(dumps(data)), data)


def test_the_layout_keeps_headers_and_arrays_of_tables():
    text = dumps({"scenario": {"name": "xor", "seed": 3},
                  "network": {"layers": [{"name": "i", "size": 2}, {"name": "h", "from": ["i"], "init": {"scale": 0.3}}]},
                  "sweep": {"axes": {"training.learning_rate": [0.1, 0.5]}}})
    assert text == ('[scenario]\nname = "xor"\nseed = 3\n\n[[network.layers]]\nname = "i"\nsize = 2\n\n'
                    '[[network.layers]]\nname = "h"\nfrom = ["i"]\n\n[network.layers.init]\nscale = 0.3\n\n'
                    '[sweep.axes]\n"training.learning_rate" = [0.1, 0.5]\n')


def test_awkward_values_round_trip():
    data = {"s": 'quote " backslash \\ tab \t newline \n del \x7f nul \x00 é ✓ 𝔸', "f": [0.1, -0.0, 1e-310, 1.7976931348623157e308,
            math.inf, -math.inf, math.nan, 5e-324], "i": [-(2**63), 2**63 - 1, 0], "b": [True, False],
            "mixed": [1, "a", [2.5, {"k": "v"}], {"x": [{"y": 1}]}], "empty": {}, "none_here": [],
            "odd key = ": {"a.b": 1, "": 2}}
    assert same(tomllib.loads(dumps(data)), data)


scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), values, max_size=5))
def test_generated_documents_round_trip(data):
    assert same(tomllib.loads(dumps(data)), data)


@pytest.mark.parametrize("data, where", [({"training": {"seed": None}}, "training.seed"),
                                         ({"a": [1, object()]}, "a.1")])
def test_what_toml_cannot_hold_is_refused_by_its_key(data, where):
    with pytest.raises(TypeError, match=rf"^{where}: TOML has no value for"):
        dumps(data)
