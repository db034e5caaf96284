"""Property-based parity of the numeric ops and arithmetic operators.

Hypothesis draws batches of rows (random floats of every magnitude and bit
pattern, edge values, nulls, Int64 extremes); one feature set exercising
every numeric op runs on both runtimes and must agree bitwise. Each example is
a batch of rows so that one ``check_parity`` call (in-memory and streaming)
covers many values.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skewless import FeatureSet, Float64, Input, Int64, col, max_horizontal, min_horizontal, sum_horizontal
from skewless.parity import check_parity

from .edges import FLOATS, INTS

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_bits_float = st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0])
floats = st.one_of(
    st.none(),
    st.sampled_from(FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e3, max_value=1e3),
    st.integers(-(10**6), 10**6).map(lambda n: n / 8.0),  # exact halves: rounding ties
    st.integers(-12, 12).map(float),  # small integers: pow specialisations, log bases
    _bits_float,
)
ints = st.one_of(
    st.none(),
    st.sampled_from(INTS),
    st.integers(INT64_MIN, INT64_MAX),
    st.integers(-20, 20),
)
rows = st.lists(st.fixed_dictionaries({"a": floats, "b": floats, "c": floats, "i": ints, "j": ints}), min_size=1, max_size=40)


def _numeric_features() -> dict:
    a, b, c, i, j = col("a"), col("b"), col("c"), col("i"), col("j")
    feats = {
        # arithmetic operators
        "add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "floordiv": a // b, "mod": a % b, "pow": a ** b,
        "neg": -a, "iadd": i + j, "isub": i - j, "imul": i * j, "ifloordiv": i // j, "imod": i % j, "idiv": i / j,
        "ipow": i ** 3, "mixed": a * i + j, "div_lit": a / 3.0, "pow2": a ** 2, "pow_half": a ** 0.5,
        "pow_int_col": a ** j, "pow_lit_base": 1.5 ** b, "pow_neg": a ** -2,
        # clip / is_between / horizontal
        "clip_cols": a.clip(b, c), "clip_lits": a.clip(-1.5, 2.5), "clip_int": i.clip(j, 10), "clip_lo": a.clip(b),
        "between": a.is_between(b, c), "between_none": a.is_between(b, c, closed="none"),
        "between_int": i.is_between(j, 100, closed="left"), "between_mixed": i.is_between(b, c, closed="right"),
        "min_h": min_horizontal(a, b, i), "max_h": max_horizontal(a, b, c), "sum_h": sum_horizontal(a, b, c, i),
        "sum_h_strict": sum_horizontal(a, b, ignore_nulls=False), "isum_h": sum_horizontal(i, j),
        "imin_h": min_horizontal(i, j),
        # fill_nan
        "fill_nan_col": a.fill_nan(b), "fill_nan_lit": (a / b).fill_nan(0.0), "fill_nan_int": i.fill_nan(b),
        # composites
        "log1p_round": (a.log1p() * b).round(3), "dist": (a - b).abs().sqrt(), "ratio_clip": (a / b).clip(-1e3, 1e3),
    }
    for name, x in (("a", a), ("i", i)):
        feats.update({
            f"{name}_abs": x.abs(), f"{name}_sign": x.sign(), f"{name}_floor": x.floor(), f"{name}_ceil": x.ceil(),
            f"{name}_round": x.round(), f"{name}_round2": x.round(2), f"{name}_round_away": x.round(1, "half_away_from_zero"),
            f"{name}_round17": x.round(17), f"{name}_exp": x.exp(), f"{name}_log": x.log(), f"{name}_log2": x.log(2),
            f"{name}_log10": x.log10(), f"{name}_log1p": x.log1p(), f"{name}_sqrt": x.sqrt(), f"{name}_cbrt": x.cbrt(),
            f"{name}_sin": x.sin(), f"{name}_cos": x.cos(), f"{name}_tan": x.tan(), f"{name}_arcsin": x.arcsin(),
            f"{name}_arctan": x.arctan(),
            f"{name}_is_nan": x.is_nan(), f"{name}_is_finite": x.is_finite(), f"{name}_is_infinite": x.is_infinite(),
            f"{name}_fill_nan": x.fill_nan(-1),
        })
    return feats


FS = FeatureSet(
    "numeric_properties",
    {k: Input(Float64 if k in "abc" else Int64, nullable=True) for k in ("a", "b", "c", "i", "j")},
    _numeric_features(),
)


@settings(max_examples=200, deadline=None)
@given(rows)
def test_numeric_parity(batch):
    report = check_parity(FS, batch)
    assert report.ok, report.summary()


# One-row frames: polars specialises some kernels when an operand holds a single value
# (pow with a column exponent, adding a scalar zero); the batch result must not change.
@settings(max_examples=30, deadline=None)
@given(st.lists(st.fixed_dictionaries({"a": floats, "b": floats, "c": floats, "i": ints, "j": ints}), min_size=1, max_size=4))
def test_numeric_parity_one_row_frames(batch):
    report = check_parity(FS, batch, single_row_frames=True)
    assert report.ok, report.summary()


TRANSCENDENTAL = FeatureSet(
    "transcendental",
    {"x": Input(Float64, nullable=False)},
    {f: getattr(col("x"), f)()
     for f in ("exp", "log", "log10", "log1p", "sqrt", "cbrt", "sin", "cos", "tan", "arcsin", "arctan")}
    | {"log2": col("x").log(2), "log3": col("x").log(3), "pow": col("x").abs() ** 1.37, "round3": col("x").round(3)},
)


@pytest.mark.parametrize("seed", [0])
def test_transcendental_bitwise_100k(seed):
    """100k random values per run (several magnitudes and raw bit patterns), in-memory and streaming."""
    rng = np.random.default_rng(seed)
    n = 100_000 // 4
    values = np.concatenate([
        rng.standard_normal(n) * 10,
        rng.uniform(-1, 1, n),
        np.exp(rng.uniform(-745, 709, n)) * rng.choice([-1.0, 1.0], n),
        rng.integers(0, 2**64, n, dtype=np.uint64).view(np.float64),  # raw bit patterns, both signs
    ])
    values = [float(v) for v in values if not math.isnan(v)] + [float("nan")]
    report = check_parity(TRANSCENDENTAL, [{"x": v} for v in values])
    assert report.ok, report.summary()
