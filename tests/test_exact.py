"""skewless.exact: exact, mergeable reductions — any split of the rows into partitions gives the same bits."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skewless import exact

finite = st.floats(allow_nan=False, allow_infinity=False)
# values of very different magnitudes, subnormals and both zeros: the cases a float sum gets wrong
mixed = st.one_of(finite, st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 1.0, 1e16, -1e16]))


def _query_moments(values: list[float]) -> exact.Moments:
    lf = pl.DataFrame({"x": values}, schema={"x": pl.Float64}).lazy()
    return exact.read_moments(exact.moments_query(lf, pl.col("x")).collect())


def _split(values: list[float], cuts: list[int]) -> list[list[float]]:
    bounds = sorted({min(c, len(values)) for c in cuts} | {0, len(values)})
    return [values[a:b] for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=200, deadline=None)
@given(st.lists(mixed, max_size=60), st.lists(st.integers(0, 60), max_size=6), st.randoms(use_true_random=False))
def test_any_partitioning_and_order_give_the_same_moments(values, cuts, rnd):
    whole = exact.moments_of(values)
    shuffled = list(values)
    rnd.shuffle(shuffled)
    parts = _split(shuffled, cuts)
    merged = sum((_query_moments(p) for p in parts), exact.Moments())
    assert merged == whole  # the polars query per partition, merged: the same integers
    frames = [exact.moments_query(pl.DataFrame({"x": p}, schema={"x": pl.Float64}).lazy(), pl.col("x")).collect()
              for p in parts] or [exact.moments_query(pl.DataFrame({"x": []}, schema={"x": pl.Float64}).lazy(),
                                                      pl.col("x")).collect()]
    assert exact.read_moments(exact.merge_sums(frames, ["e"])) == whole  # merged as tables: the same too
    exact_sum = sum(map(Fraction, values), Fraction(0))
    assert whole.exact_sum() == exact_sum
    assert whole.total() == exact.to_float(exact_sum)
    try:
        assert whole.total() == math.fsum(values)
    except OverflowError:  # fsum refuses an intermediate sum past the largest float; the exact one does not
        pass
    if values:
        mean = exact_sum / len(values)
        assert whole.mean() == exact.to_float(mean)
        if len(values) > 1:
            var = sum(((Fraction(v) - mean) ** 2 for v in values), Fraction(0)) / (len(values) - 1)
            assert whole.variance(1) == var
            assert whole.std(1) == exact.sqrt_to_float(var)
    else:
        assert whole.mean() is None and whole.std(1) is None


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=0, max_denominator=10**30).filter(lambda q: q < 10**40))
def test_sqrt_is_correctly_rounded(q):
    r = exact.sqrt_to_float(q)
    below, above = math.nextafter(r, -math.inf), math.nextafter(r, math.inf)
    err = abs(Fraction(r) ** 2 - q)
    # no neighbour is closer to the true root (comparing squares is monotonic for non-negative floats)
    assert (Fraction(r) - Fraction(below)) * (Fraction(r) + Fraction(below)) / 2 >= err or r == 0.0
    assert all(abs(Fraction(c) ** 2 - q) >= err for c in (below, above) if c >= 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(finite, st.just(-0.0), st.just(0.0)), min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_min_max_take_the_total_order(values, rnd):
    shuffled = list(values)
    rnd.shuffle(shuffled)
    frame = pl.DataFrame({"x": shuffled}, schema={"x": pl.Float64})
    lo = exact.from_order_key(frame.select(exact.order_key(pl.col("x")).min()).item())
    hi = exact.from_order_key(frame.select(exact.order_key(pl.col("x")).max()).item())
    key = lambda v: (v, math.copysign(1.0, v))  # noqa: E731  (-0.0 before 0.0)
    assert math.copysign(1.0, lo) == math.copysign(1.0, min(values, key=key)) and lo == min(values)
    assert math.copysign(1.0, hi) == math.copysign(1.0, max(values, key=key)) and hi == max(values)


_FIT = """
import json, sys
import polars as pl
from skewless import Float64, Input, FeatureSet, col, fit, standardize, impute, target_encode, String, min_max_scale
rows = 20_000
x = [((i * 7919) % 10007) * 1.37e-3 + (1e9 if i % 97 == 0 else 0.0) for i in range(rows)]
df = pl.DataFrame({"x": x, "c": [str(i % 13) for i in range(rows)], "y": [(i * 31 % 17) / 7.0 for i in range(rows)]})
fs = FeatureSet("t", {"x": Float64, "c": Input(String)}, {"s": standardize(col("x")), "m": impute(col("x"), "mean"),
                "t": target_encode(col("c")), "n": min_max_scale(col("x") * -0.0)})
f = fit(fs, pl.concat([df.slice(i, 1000) for i in range(0, rows, 1000)], rechunk=False).lazy(), label="y",
        engine="streaming")
print(f.state_fingerprint)
"""


def test_fitted_state_is_the_same_on_1_2_and_4_threads():
    prints = set()
    for threads in ("1", "2", "4"):
        env = {**os.environ, "POLARS_MAX_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", _FIT], env=env, capture_output=True, text=True, check=True)
        prints.add(out.stdout.strip())
    assert len(prints) == 1, prints


def test_fit_merges_partials_of_any_partitioning_into_the_same_state():
    from skewless import FeatureSet, Float64, Input, String, col, fit, standardize, target_encode
    from skewless.fitting.plan import training_frame

    rows = 3000
    df = pl.DataFrame({"x": [((i * 7919) % 10007) * 1.37e-3 for i in range(rows)],
                       "c": [str(i % 13) for i in range(rows)], "y": [(i * 31 % 17) / 7.0 for i in range(rows)]})
    fs = FeatureSet("t", {"x": Float64, "c": Input(String)}, {"s": standardize(col("x")),
                                                              "t": target_encode(col("c"))})
    whole = fit(fs, df, label="y")
    for n in (2, 3, 7):
        parts = [df.slice(i * rows // n, (i + 1) * rows // n - i * rows // n) for i in range(n)]
        split = fit(fs, df, label="y",
                    partials=lambda plan: [plan.partials(training_frame(fs, p, "y")) for p in parts])
        assert split.state == whole.state and split.state_fingerprint == whole.state_fingerprint


@pytest.mark.parametrize("values", [[], [0.0], [-0.0, -0.0], [1e308, 1e308], [5e-324] * 3])
def test_edge_values(values):
    m = exact.moments_of(values)
    assert m == _query_moments(values)
    assert m.total() == (math.inf if values == [1e308, 1e308] else math.fsum(values))
