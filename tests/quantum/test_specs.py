"""``name:key=value`` specs: parsing, literal values, round trip, errors."""
import pytest

from qcgrad.quantum.specs import format_spec, parse_spec

ALLOWED = {"tfim": ("h", "label"), "zz": ()}


def test_values_are_literals_else_strings_and_round_trip():
    name, options = parse_spec("tfim:h=0.5,label=chain", "cost", ALLOWED)
    assert (name, options) == ("tfim", {"h": 0.5, "label": "chain"})
    assert parse_spec(format_spec(name, options), "cost", ALLOWED) == (name, options)
    assert format_spec("zz", {}) == "zz"


@pytest.mark.parametrize("spec, error, match", [
    ("ising", ValueError, r"use one of \['tfim', 'zz'\]"),
    ("tfim:J=1", ValueError, r"\['h', 'label'\]"),
    ("zz:h=1", ValueError, "knobs of 'zz'"),
    (3, TypeError, "must be a string"),
])
def test_errors_name_the_allowed_values(spec, error, match):
    with pytest.raises(error, match=match):
        parse_spec(spec, "cost", ALLOWED)
