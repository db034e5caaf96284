"""The compiled kernels of the batch side (skewless.windows.kernels) against Python's exact arithmetic.

The 128-bit prefix sums and the one rounding of window sums and means are checked against ``Fraction``
(whose ``float()`` is CPython's correctly rounded int/int division) on adversarial values: ties at half an
ulp, sums near 2**126, the subnormal range, overflow to ±inf, counts up to 2**32 - 1, negative zero; through
``compute_windows`` with nulls, NaN and ±inf against the online side's definition
(:func:`skewless.windows.exact.aggregate`)."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless.dtypes import Datetime, Float64, Int64, String
from skewless.state.replay import same_value
from skewless.windows import EventSource, Windows, col, exact, kernels
from skewless.windows.batch import compute_windows

FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def rounded(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def words(value: int) -> tuple[int, int]:
    """``value`` as two's complement (hi, lo) uint64 words."""
    v = value % (1 << 128)
    return v >> 64, v & ((1 << 64) - 1)


def one_window(total: int, count: int, scale: int, mean: bool) -> tuple[float, bool]:
    hi, lo = words(total)
    ph = np.array([0, hi], np.uint64)
    pl_ = np.array([0, lo], np.uint64)
    out, slow = kernels.window_round(ph, pl_, np.array([0]), np.array([1]), np.array([count]), scale, mean)
    return float(out[0]), bool(slow[0])


def bits(x: float) -> int:
    return int(np.float64(x).view(np.uint64))


magnitudes = st.one_of(st.integers(0, 2 ** 126 - 1), st.integers(0, 2 ** 60), st.integers(0, 2 ** 54),
                       st.sampled_from([2 ** 53 + 1, 2 ** 53 + 3, 2 ** 54 + 2, 2 ** 126 - 1, 2 ** 125, 1,
                                        (2 ** 53 - 1) << 73, ((2 ** 53 - 1) << 1 | 1) << 72]))
counts = st.one_of(st.integers(1, 10), st.integers(1, 2 ** 32 - 1), st.sampled_from([2 ** 31 - 1, 2 ** 32 - 1, 3, 7]))
scales = st.one_of(st.integers(-1074, 971), st.sampled_from([-1074, -1073, -1022, -1000, -60, 0, 846, 900, 971]))


@FAST
@given(magnitudes, st.sampled_from([1, -1]), counts, scales)
def test_window_sum_and_mean_are_the_correct_rounding_of_the_exact_quotient(m, sign, c, scale):
    total = sign * m
    want_sum = rounded(Fraction(total) * Fraction(2) ** scale) if total else 0.0
    got, slow = one_window(total, c, scale, mean=False)
    assert not slow and bits(got) == bits(want_sum), (total, scale, got, want_sum)
    want_mean = rounded(Fraction(total, c) * Fraction(2) ** scale) if total else 0.0
    got, slow = one_window(total, c, scale, mean=True)
    if slow:  # the caller recomputes these with Python integers: only below the normal range
        assert abs(want_mean) < 2.0 ** -1021
        assert same_value(exact.mean(total, scale, c), want_mean)
    else:
        assert bits(got) == bits(want_mean), (total, c, scale, got, want_mean)


def test_ties_at_half_an_ulp_round_to_even():
    assert one_window(2 ** 53 + 1, 1, 0, False)[0] == 2.0 ** 53  # tie, down to even
    assert one_window(2 ** 53 + 3, 1, 0, False)[0] == 2.0 ** 53 + 4  # tie, up to even
    assert one_window(2 ** 54 + 2, 2, 0, True)[0] == 2.0 ** 53  # mean 2**53 + 1: tie
    assert one_window(2 ** 54 + 6, 2, 0, True)[0] == 2.0 ** 53 + 4
    assert one_window(3 * (2 ** 53 + 1), 3, 0, True)[0] == 2.0 ** 53  # tie after a division by 3
    assert one_window(1, 2, -1074, True)[0] == 0.0  # half the smallest subnormal: to even (0)
    assert one_window(3, 2, -1074, True)[0] == 1e-323  # 1.5 ulp: to 2 ulp
    assert math.copysign(1.0, one_window(-1, 2, -1074, True)[0]) == -1.0  # -2**-1075: -0.0
    assert one_window((2 ** 53 - 1) << 1 | 1, 1, 970, False)[0] == math.inf  # max + half ulp: to even = inf
    assert one_window(0, 5, -1074, True) == (0.0, False) and one_window(0, 1, 0, False) == (0.0, False)


floats = st.one_of(
    st.builds(lambda m, e, s: s * m * 2.0 ** e, st.integers(0, 2 ** 53 - 1), st.integers(-1074, 960),
              st.sampled_from([1.0, -1.0])),
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.0 ** 53, 2.0 ** 53 + 2, 1.0, 3.0,
                     1.7976931348623157e308, -1.7976931348623157e308, 0.1, 0.01, 1e-300]),
    st.integers(-50_000, 50_000).map(lambda k: k / 100))


@FAST
@given(st.lists(floats, min_size=1, max_size=30), st.data())
def test_float_prefix_sums_are_exact(values, data):
    x = np.array(values, np.float64)
    scale, top, nonfinite = kernels.float_plan(x.view(np.uint64))
    assert not nonfinite
    nz = [v for v in values if v]
    if not nz:
        assert (scale, top) == (0, 0)
    else:
        assert all((Fraction(v) / Fraction(2) ** scale).denominator == 1 for v in nz)
        assert all(abs(Fraction(v)) < Fraction(2) ** top for v in nz)
        assert any(abs(Fraction(v)) >= Fraction(2) ** (top - 1) for v in nz)
    if top - scale + len(x).bit_length() > 126:
        return  # too wide for one 128-bit fixed point: the batch takes the limbs
    ph, pl_ = kernels.float_prefix(x.view(np.uint64), scale)
    lo = np.array(data.draw(st.lists(st.integers(0, len(x)), min_size=1, max_size=10)), np.int64)
    hi = np.array([data.draw(st.integers(int(a), len(x))) for a in lo], np.int64)
    for mean in (False, True):
        out, slow = kernels.window_round(ph, pl_, lo, hi, np.maximum(hi - lo, 1), scale, mean)
        for a, b, got, s in zip(lo, hi, out, slow):
            exact_sum = sum(map(Fraction, values[a:b]), Fraction(0))
            want = rounded(exact_sum / max(b - a, 1) if mean else exact_sum) if exact_sum else 0.0
            assert s or bits(float(got)) == bits(want), (values[a:b], mean, got, want)


UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
SRC = EventSource("ev", time="t", order="id", max_lateness=dt.timedelta(days=1),
                  columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": String(), "x": Float64(), "d": Int64()})
specials = st.sampled_from([None, math.nan, math.inf, -math.inf, -0.0])


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.one_of(floats, specials), st.one_of(st.none(), st.integers(-2 ** 63, 2 ** 63 - 1)),
                          st.sampled_from("ab"), st.integers(0, 90)), min_size=1, max_size=30))
def test_batch_sums_and_means_equal_the_online_definition(rows):
    """Nulls, NaN, ±inf and -0.0 in the windows; Int64 means up to ±2**63: the batch's compiled path gives the
    bits of the online side's direct evaluation of each window."""
    rows = sorted(rows, key=lambda r: r[3])
    events = pl.DataFrame({"t": [T0 + dt.timedelta(minutes=r[3]) for r in rows], "id": list(range(len(rows))),
                           "k": [r[2] for r in rows], "x": [r[0] for r in rows], "d": [r[1] for r in rows]},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    roll = lambda e: e.rolling(index_column="t", period="30m", closed="both").over("k")  # noqa: E731
    feats = {"s": roll(col("x").sum()), "m": roll(col("x").mean()), "dm": roll(col("d").mean()),
             "u": roll(col("x").n_unique())}
    got = compute_windows(Windows(SRC, feats, requests_at="events"), events, events).to_dicts()
    for i, row in enumerate(rows):
        window = [r for j, r in enumerate(rows) if r[2] == row[2] and row[3] - 30 <= r[3] <= row[3]
                  and (r[3] < row[3] or j <= i)]
        xs, ds = [r[0] for r in window], [r[1] for r in window]
        assert same_value(got[i]["s"], exact.aggregate("sum", "float", xs)), (xs, got[i])
        assert same_value(got[i]["m"], exact.aggregate("mean", "float", xs)), (xs, got[i])
        assert same_value(got[i]["dm"], exact.aggregate("mean", "int", ds)), (ds, got[i])
        assert got[i]["u"] == exact.aggregate("n_unique", "float", xs), (xs, got[i])


def test_repeated_ids_found_by_the_bitmap():
    assert kernels.first_repeat_in_range(np.array([5, 3, 9, 4], np.int64), 3, 7) == -1
    assert kernels.first_repeat_in_range(np.array([5, 3, 9, 5, 4], np.int64), 3, 7) == 3
    assert kernels.first_repeat_in_range(np.array([-2 ** 63, 2 ** 62], np.int64)[:1], -2 ** 63, 1) == -1


# Columns that fit the fixed point (<= 93 bits between their lowest and highest bit) at any magnitude, from
# the subnormals to near the largest double; few distinct mantissas make exact variances and ties likely.
fitting = st.integers(-1074, 930).flatmap(lambda base: st.lists(st.builds(
    lambda m, e: math.ldexp(m, base + e),
    st.one_of(st.integers(-2 ** 53 + 1, 2 ** 53 - 1), st.integers(-8, 8)), st.integers(0, 40)), min_size=1, max_size=30))


@settings(max_examples=120, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(fitting, st.lists(floats, min_size=1, max_size=30)), st.sampled_from([0, 1]), st.data())
def test_window_var_and_std_are_the_correct_rounding_of_the_exact_variance(values, ddof, data):
    """Both compiled methods — one long division + integer square root (windows below 65,536 values), and the
    float candidate corrected by exact midpoint comparisons (larger windows) — against the ONE definition
    (:func:`skewless.windows.exact.var`/``std``, Python integers); rows either says are out of its range
    are left to that definition by the caller."""
    x = np.array(values, np.float64)
    u = x.view(np.uint64)
    scale, top, _ = kernels.float_plan(u)
    width = top - scale
    if width + len(x).bit_length() > 126:
        return  # too wide for the fixed point: the batch takes the limbs and Python integers
    ph, pl_ = kernels.float_prefix(u, scale)
    sq = kernels.square_prefix(u, scale, max(1, -(-(2 * width + len(x).bit_length()) // 64)))
    lo = np.array(data.draw(st.lists(st.integers(0, len(x) - 1), min_size=1, max_size=8)), np.int64)
    hi = np.array([data.draw(st.integers(int(a) + 1, len(x))) for a in lo], np.int64)
    ints = [exact.exact_int(v, scale) for v in values]
    for power, fn in ((1, exact.var), (2, exact.std)):
        div, todo = kernels.window_var_div(ph, pl_, sq, lo, hi, hi - lo, scale, ddof, power)
        cmp_, slow = kernels.window_var(ph, pl_, sq, lo, hi, hi - lo, scale, ddof, power)
        for j, (a, b) in enumerate(zip(lo, hi)):
            w = ints[a:b]
            want = fn(sum(w), sum(v * v for v in w), scale, len(w), ddof)
            if want is None:
                continue
            assert todo[j] or bits(float(div[j])) == bits(want), (values[a:b], ddof, power, div[j], want)
            assert slow[j] or bits(float(cmp_[j])) == bits(want), (values[a:b], ddof, power, cmp_[j], want)
            assert not slow[j] or not 2.0 ** -1018 < want < 2.0 ** 1019


def test_variance_ties_and_exact_roots():
    """Exact squares (std exact), a variance that is exactly a double, and a std whose square root is
    irrational, on both compiled methods."""
    for values, ddof in (([1.0, 3.0], 1), ([0.5, 0.5, 0.5], 1), ([2.0 ** 60, 2.0 ** 60 + 2 ** 8], 0),
                         ([0.1, 0.2, 0.3], 1), ([1e-5, -1e-5, 3e-5], 0), ([5.0], 0)):
        x = np.array(values, np.float64)
        u = x.view(np.uint64)
        scale, top, _ = kernels.float_plan(u)
        ph, pl_ = kernels.float_prefix(u, scale)
        sq = kernels.square_prefix(u, scale, -(-(2 * (top - scale) + 3) // 64))
        lo, hi = np.array([0]), np.array([len(x)])
        ints = [exact.exact_int(v, scale) for v in values]
        for power, fn in ((1, exact.var), (2, exact.std)):
            want = fn(sum(ints), sum(v * v for v in ints), scale, len(ints), ddof)
            for kernel in (kernels.window_var_div, kernels.window_var):
                got, flag = kernel(ph, pl_, sq, lo, hi, hi - lo, scale, ddof, power)
                assert not flag[0] and bits(float(got[0])) == bits(want), (values, kernel, got[0], want)


def test_var_and_std_on_many_small_windows():
    """Thousands of windows of 2-6 small integers and cents, ddof 0 and 1: exact divisions (n(n - ddof) a power
    of two), exact and inexact roots, ties after the root — every row against the ONE definition."""
    rng = np.random.default_rng(16)
    for x in (rng.integers(-1000, 1000, 3000).astype(float), rng.integers(-50_000, 50_000, 3000) / 100):
        u = x.view(np.uint64)
        scale, top, _ = kernels.float_plan(u)
        ph, pl_ = kernels.float_prefix(u, scale)
        sq = kernels.square_prefix(u, scale, -(-(2 * (top - scale) + 12) // 64))
        lo = np.arange(0, 2990, 1, dtype=np.int64)
        hi = lo + rng.integers(2, 7, len(lo))
        ints = [exact.exact_int(v, scale) for v in x.tolist()]
        for ddof in (0, 1):
            for power, fn in ((1, exact.var), (2, exact.std)):
                got, todo = kernels.window_var_div(ph, pl_, sq, lo, hi, hi - lo, scale, ddof, power)
                assert not todo.any()
                for a, b, g in zip(lo.tolist(), hi.tolist(), got.tolist()):
                    w = ints[a:b]
                    assert bits(g) == bits(fn(sum(w), sum(v * v for v in w), scale, len(w), ddof)), (x[a:b], ddof)


def test_min_max_of_short_and_long_windows():
    """Windows of 1 to ~300 values (the compiled loop below 128, the sparse table above), with NaN, ±0.0 and
    nulls, against the online definition."""
    rng = np.random.default_rng(5)
    n = 400
    x = rng.choice([0.0, -0.0, math.nan, 1.5, -2.25, math.inf, -math.inf, 7.0], n).tolist()
    x = [None if i % 37 == 0 else v for i, v in enumerate(x)]
    events = pl.DataFrame({"t": [T0 + dt.timedelta(minutes=i) for i in range(n)], "id": list(range(n)),
                           "k": ["a"] * n, "x": x, "d": [None] * n},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    feats = {f"{a}{p}": getattr(col("x"), a)().rolling(index_column="t", period=p, closed="right").over("k")
             for a in ("min", "max") for p in ("5m", "300m")}
    got = compute_windows(Windows(SRC, feats, requests_at="events"), events, events).to_dicts()
    for i in range(n):
        for name in feats:
            span = 5 if name.endswith("5m") else 300
            want = exact.aggregate(name[:3], "float", x[max(0, i - span + 1):i + 1])
            assert same_value(got[i][name], want), (name, i, got[i][name], want)


def test_rows_split_over_threads_give_the_same_bits(monkeypatch):
    """The compiled kernels run on row ranges in threads for large inputs: forced onto tiny ranges, every
    value is the same bits as one call."""
    from skewless.windows import batch as batch_mod

    rng = np.random.default_rng(9)
    n = 300
    events = pl.DataFrame({"t": [T0 + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 600, n))],
                           "id": list(range(n)), "k": rng.choice(["a", "b", "c"], n).tolist(),
                           "x": (rng.integers(-50_000, 50_000, n) / 100).tolist(),
                           "d": rng.integers(-10, 10, n).tolist()},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    feats = {f"{a}": getattr(col("x"), a)().rolling(index_column="t", period="1h", closed="left").over("k")
             for a in ("len", "sum", "mean", "var", "std")}
    feats["dm"] = col("d").mean().rolling(index_column="t", period="2h", closed="both").over("k")
    wins = Windows(SRC, feats, requests_at="events")
    whole = compute_windows(wins, events, events)
    monkeypatch.setattr(batch_mod, "_SPLIT_MIN", 7)
    split = compute_windows(wins, events, events)
    assert pl.thread_pool_size() == 1 or batch_mod._POOL  # the threads were used
    for name in feats:
        assert all(same_value(a, b) for a, b in zip(whole[name].to_list(), split[name].to_list())), name
