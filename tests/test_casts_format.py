"""Float <-> String casts of the per-request runtime against polars 2.1, property-based.

Facts these tests pin (measured on polars 2.1):

* Float64 -> String: shortest round-trip digits (like ``repr``), ``NaN``,
  ``inf``/``-inf``, exponent written ``1e-7``/``1e+16`` (no zero padding,
  always signed); scientific notation exactly when the decimal exponent is
  below -5 or at least 16, so ``1e-5`` is ``0.00001`` (``repr``: ``1e-05``)
  and ``1e16`` is ``1e+16``.
* String -> Float64 (non-strict): Rust's grammar: ``[+-]?`` then digits with
  an optional point (``.5`` and ``5.`` accepted, ``.`` alone not), an optional
  exponent ``[eE][+-]?digits``; or ``inf``/``infinity``/``nan`` in any case with
  an optional sign. No surrounding whitespace, no underscores, ASCII digits
  only. Out-of-range values round to ``±inf`` or ``±0.0``.
* String -> Int64 (non-strict): ``[+-]?[0-9]+`` within Int64, else null.
"""

from __future__ import annotations

import math
import struct

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skewless.runtime.casts import float_to_str, str_to_float, str_to_int

SETTINGS = settings(max_examples=200, deadline=None)


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _same_float(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a != a or b != b:
        return a != a and b != b
    return _bits(a) == _bits(b)


def _polars_to_str(values: list[float]) -> list[str]:
    return pl.Series(values, dtype=pl.Float64).cast(pl.String).to_list()


def _polars_to_float(values: list[str]) -> list[float | None]:
    return pl.Series(values, dtype=pl.String).cast(pl.Float64, strict=False).to_list()


def _polars_to_int(values: list[str]) -> list[int | None]:
    return pl.Series(values, dtype=pl.String).cast(pl.Int64, strict=False).to_list()


# --------------------------------------------------------------------------- Float64 -> String

any_float = st.floats(allow_nan=True, allow_infinity=True)
bit_pattern_float = st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0])
# Around the thresholds where the notation switches (1e-5 and 1e16), with both signs.
threshold_float = st.one_of(
    st.floats(min_value=1e-7, max_value=1e-3),
    st.floats(min_value=1e14, max_value=1e18),
    st.integers(-8, 20).map(lambda e: 10.0**e),
    st.integers(-8, 20).map(lambda e: math.nextafter(10.0**e, 0.0)),
).flatmap(lambda x: st.sampled_from([x, -x]))


@SETTINGS
@given(st.lists(st.one_of(any_float, bit_pattern_float, threshold_float), min_size=1, max_size=50))
@example([1e-5, 1e-4, 1e-6, 9.999999999999999e-06, 1e16, 9999999999999998.0, 1e-7, -0.0, 0.0, float("nan"), 5e-324])
def test_float_to_str_matches_polars(values):
    assert [float_to_str(v) for v in values] == _polars_to_str(values)


@SETTINGS
@given(st.lists(st.one_of(any_float, bit_pattern_float), min_size=1, max_size=50))
def test_float_to_str_round_trips_through_polars_parser(values):
    text = [float_to_str(v) for v in values]
    back = _polars_to_float(text)
    assert all(_same_float(v, b) for v, b in zip(values, back))
    assert all(_same_float(str_to_float(t), b) for t, b in zip(text, back))


def test_float_to_str_thresholds():
    assert float_to_str(1e-5) == "0.00001"
    assert float_to_str(1.5e-5) == "0.000015"
    assert float_to_str(9.99e-6) == "9.99e-6"
    assert float_to_str(1e-7) == "1e-7"
    assert float_to_str(1e15) == "1000000000000000.0"
    assert float_to_str(1e16) == "1e+16"
    assert float_to_str(-1.5e300) == "-1.5e+300"
    assert float_to_str(float("nan")) == "NaN"
    assert float_to_str(float("-inf")) == "-inf"
    assert float_to_str(-0.0) == "-0.0"


# --------------------------------------------------------------------------- String -> Float64

# Pieces of the grammar, combined freely so that both valid and near-miss strings appear.
_sign = st.sampled_from(["", "+", "-", "--", "+-"])
_digits = st.text(alphabet="0123456789", max_size=25)
_exp = st.one_of(
    st.just(""),
    st.builds(lambda e, s, d: e + s + d, st.sampled_from(["e", "E"]), st.sampled_from(["", "+", "-"]), _digits),
)
_special = st.sampled_from(["inf", "INF", "Inf", "infinity", "Infinity", "iNfInItY", "nan", "NaN", "NAN", "infinit",
                            "infinityy", "in", "na", "nan(1)", "snan"])
structured_number = st.one_of(
    st.builds(lambda s, a, p, b, e: s + a + p + b + e, _sign, _digits, st.sampled_from(["", ".", ".."]), _digits, _exp),
    st.builds(lambda s, x: s + x, _sign, _special),
)
noisy = st.builds(
    lambda pre, core, post: pre + core + post,
    st.sampled_from(["", " ", "\t", "0x", "_", "\u0661"]),
    structured_number,
    st.sampled_from(["", " ", "\n", "_0", "f", "d", "\x00", "\uff11", "1"]),
)
random_text = st.text(alphabet="0123456789+-.eEinfatyINFATY_ x\u0661\uff11", max_size=12)


@SETTINGS
@given(st.lists(st.one_of(structured_number, noisy, random_text), min_size=1, max_size=50))
@example(["1e3", ".5", "5.", ".", "-0", "1_0", " 1", "1e", "1e+", "+.5", "1.5e-400", "1e400", "-nan", "Infinity"])
def test_str_to_float_matches_polars(values):
    got = [str_to_float(v) for v in values]
    want = _polars_to_float(values)
    bad = [(v, g, w) for v, g, w in zip(values, got, want) if not _same_float(g, w)]
    assert not bad


@SETTINGS
@given(st.lists(st.one_of(any_float, bit_pattern_float), min_size=1, max_size=30),
       st.sampled_from(["{!r}", "{:.17g}", "{:.3e}", "{:.20f}", "{:f}", "{:.0f}"]))
def test_str_to_float_of_formatted_floats(values, fmt):
    text = [fmt.format(v) for v in values]
    got = [str_to_float(t) for t in text]
    assert all(_same_float(g, w) for g, w in zip(got, _polars_to_float(text)))


# --------------------------------------------------------------------------- String -> Int64

int_text = st.one_of(
    st.builds(lambda s, d: s + d, _sign, _digits),
    st.integers(-(2**64), 2**64).map(str),
    st.sampled_from([str(2**63 - 1), str(-(2**63)), str(2**63), str(-(2**63) - 1), "007", "+0", "-0", "1.0", "1e3"]),
    random_text,
)


@SETTINGS
@given(st.lists(int_text, min_size=1, max_size=50))
def test_str_to_int_matches_polars(values):
    assert [str_to_int(v) for v in values] == _polars_to_int(values)


@pytest.mark.parametrize("text", ["1e3", "inf", "-Infinity", "NaN", ".5", "5.", "+1.5E-3", "0000.000e-0"])
def test_grammar_accepts(text):
    assert str_to_float(text) is not None


@pytest.mark.parametrize("text", ["", ".", "e5", "1e", "1e+", " 1", "1 ", "1_0", "0x10", "\u0661", "+-1", "1..", "nan(1)"])
def test_grammar_rejects(text):
    assert str_to_float(text) is None
