"""The batch kernel of windows: the Int128 fixed-point fast path, the 32-bit-limb wide path and the Python
integers all give the correctly rounded values of the written definitions (against Fraction/fsum), at the
boundaries between the paths; the searchsorted placement of window bounds equals the merged-sort one."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless.dtypes import Datetime, Float64, Int64, String
from skewless.state.replay import same_value
from skewless.windows import EventSource, Windows, col, fixed
from skewless.windows import batch as batch_mod
from skewless.windows.batch import compute_windows

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
SRC = EventSource("ev", time="t", order="id", max_lateness=dt.timedelta(days=1),
                  columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": String(), "x": Float64(), "d": Int64()})


def frac_mean(values):
    return Fraction(sum(map(Fraction, values)), len(values))


def to_float(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def check_windows(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, sums: np.ndarray, means: np.ndarray):
    for i in range(len(lo)):
        w = x[lo[i]:hi[i]].tolist()
        want_sum = to_float(sum(map(Fraction, w), Fraction(0)))
        assert same_value(float(sums[i]), want_sum if want_sum else 0.0), (w, sums[i], want_sum)
        if w and not math.isnan(means[i]):  # NaN: below the normal range, recomputed by the caller
            assert same_value(float(means[i]), to_float(frac_mean(w))), (w, means[i])


COLUMNS = {
    "cents": lambda r, n: r.integers(-50_000, 50_000, n) / 100,
    "small_ints": lambda r, n: r.integers(-5, 5, n).astype(float),
    "near_2_53": lambda r, n: r.choice([2.0 ** 53, 2.0 ** 53 - 1, -(2.0 ** 53) + 1, 2.0 ** 52 + 0.5, 1.0], n),
    "subnormal": lambda r, n: r.choice([5e-324, 1e-323, -5e-324, 2.5e-308, 0.0, -0.0], n),
    "zeros": lambda r, n: r.choice([0.0, -0.0], n),
    "huge_ints": lambda r, n: r.choice([1e308, -1e308, 1.7976931348623157e308, 2.0 ** 1000], n),
    "mixed_fits": lambda r, n: r.integers(1, 2 ** 20, n) * 2.0 ** r.integers(-40, 40, n),
}


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_fixed_point_sums_and_means_are_correctly_rounded(kind):
    rng = np.random.default_rng(11)
    n = 600
    x = COLUMNS[kind](rng, n).astype(np.float64)
    finite = np.isfinite(x)
    scale, bits = fixed.plan(x, finite)
    assert fixed.fits(bits, n)
    assert all(Fraction(v) / Fraction(2) ** scale == int(Fraction(v) / Fraction(2) ** scale) for v in x[:50])
    assert all(abs(Fraction(v)) < Fraction(2) ** (bits + scale) for v in x[finite][:50])
    table = fixed.prefix(fixed.scaled_ints(x, finite, scale))
    assert table.dtype == pl.Int128 and table.to_list()[-1] == sum(int(Fraction(v) / Fraction(2) ** scale) for v in x)
    lo = rng.integers(0, n, 400)
    hi = np.minimum(n, lo + rng.integers(1, 80, 400))
    total = fixed.window_sums(table, lo, hi)
    check_windows(x, lo, hi, fixed.to_sum(total, scale), fixed.to_mean(total, hi - lo, scale))


bit_floats = st.builds(lambda m, e, s: s * m * 2.0 ** e, st.integers(0, 2 ** 53 - 1), st.integers(-1074, 960),
                       st.sampled_from([1.0, -1.0]))
edge = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.0 ** 53, 2.0 ** 53 + 2, 1.5,
                        1.7976931348623157e308, -1.7976931348623157e308, 0.1, 1e-300])


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(bit_floats, edge, st.floats(-1e6, 1e6), st.integers(-2 ** 60, 2 ** 60).map(float)),
                min_size=1, max_size=25),
       st.sampled_from([0, 3, 30, 60]))
def test_fast_and_wide_paths_agree_with_the_exact_reference(values, spread):
    """Values at the boundary between the paths (near 2**53, subnormals, ±0.0, the largest doubles, mixed
    magnitudes): the batch with the fixed point, then forced onto the limbs, equals Fraction/fsum bits."""
    values = [v * 2.0 ** (spread * (i % 3)) if abs(v) < 1e200 else v for i, v in enumerate(values)]
    events = pl.DataFrame({"t": [T0 + dt.timedelta(minutes=10 * i) for i in range(len(values))],
                           "id": list(range(len(values))), "k": ["a"] * len(values), "x": values,
                           "d": [None] * len(values)},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    feats = {a: getattr(col("x"), a)().rolling(index_column="t", period="1h", closed="right").over("k")
             for a in ("sum", "mean", "std")}
    wins = Windows(SRC, feats, requests_at="events")
    got = compute_windows(wins, events, events).to_dicts()
    wide = _forced_wide(wins, events)
    for i, (row, other) in enumerate(zip(got, wide)):
        window = values[max(0, i - 5):i + 1]
        exact_sum = sum(map(Fraction, window), Fraction(0))
        assert same_value(row["sum"], to_float(exact_sum) if exact_sum else 0.0), (window, row)
        assert same_value(row["mean"], to_float(frac_mean(window))), (window, row)
        for name in feats:
            assert same_value(row[name], other[name]), (name, window, row, other)


def _forced_wide(wins, events):
    old = fixed.MAX_BITS
    fixed.MAX_BITS = 0  # every column "too wide": the 32-bit limbs and Python integers
    try:
        return compute_windows(wins, events, events).to_dicts()
    finally:
        fixed.MAX_BITS = old


def test_int64_means_and_the_fixed_point_limits():
    vals = [2 ** 63 - 1, -2 ** 63, 3, -7, 2 ** 53 + 1, 2 ** 62]
    events = pl.DataFrame({"t": [T0 + dt.timedelta(minutes=i) for i in range(len(vals))], "id": range(len(vals)),
                           "k": ["a"] * len(vals), "x": [0.0] * len(vals), "d": vals},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    wins = Windows(SRC, {"m": col("d").mean().rolling(index_column="t", period="1h", closed="right").over("k"),
                         "v": col("d").var().rolling(index_column="t", period="1h", closed="right").over("k")},
                   requests_at="events")
    got = compute_windows(wins, events, events)
    for i in range(len(vals)):
        w = vals[:i + 1]
        assert got["m"][i] == float(Fraction(sum(w), len(w)))
    # the fixed point's own bound: n values below 2**bits never overflow Int128 prefix sums
    assert fixed.fits(126 - 24, 2 ** 24 - 1) and not fixed.fits(126 - 23, 2 ** 24)


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6), st.integers(0, 50)), min_size=0, max_size=40),
       st.lists(st.tuples(st.integers(0, 4), st.integers(-2, 8), st.integers(-1, 51), st.sampled_from([0, 2]),
                          st.sampled_from(["own", "min", "max"])), min_size=1, max_size=20))
def test_searchsorted_placement_equals_the_merged_sort(events, requests):
    ev = sorted({(g, t, o) for g, t, o in events})
    seen, uniq = set(), []
    for g, t, o in ev:  # the order column is unique
        if o not in seen:
            seen.add(o)
            uniq.append((g, t, o))
    uniq.sort()
    eg = np.array([e[0] for e in uniq], np.int64)
    et = np.array([e[1] for e in uniq], np.int64) * 1000
    eo = np.array([e[2] for e in uniq], np.int64)
    g = np.array([r[0] for r in requests], np.int64)
    fills = {"own": None, "min": batch_mod._I64_MIN, "max": batch_mod._I64_MAX}
    bounds = {}
    for kind in (0, 2):
        for which in ("own", "min", "max"):
            times = np.array([r[1] for r in requests], np.int64) * 1000
            orders = np.array([r[2] if fills[which] is None else fills[which] for r in requests], np.int64)
            bounds[(kind, which)] = (times, orders, kind)
    fast = batch_mod.place(eg, et, eo, g, bounds)
    slow = batch_mod._place_sorted(eg, et, eo, g, bounds)
    for name in bounds:
        assert fast[name].tolist() == slow[name].tolist(), name


def test_placement_through_long_runs_of_tied_times():
    n = 50  # one entity, 50 events at one time (past the stepping, into the binary search), then one more
    eg = np.zeros(n + 1, np.int64)
    et = np.array([7] * n + [9], np.int64)
    eo = np.arange(n + 1, dtype=np.int64) * 2
    orders = np.arange(-1, 2 * n + 3, dtype=np.int64)
    g = np.zeros(len(orders), np.int64)
    bounds = {(kind, t): (np.full(len(orders), t, np.int64), orders, kind) for kind in (0, 2) for t in (6, 7, 8, 9)}
    fast = batch_mod.place(eg, et, eo, g, bounds)
    slow = batch_mod._place_sorted(eg, et, eo, g, bounds)
    for name in bounds:
        assert fast[name].tolist() == slow[name].tolist(), name
    own = {kind: (et, eo, kind) for kind in (0, 2)}  # the requests are the events themselves, in order
    fast, slow = batch_mod.place(eg, et, eo, eg, own), batch_mod._place_sorted(eg, et, eo, eg, own)
    assert all(fast[k].tolist() == slow[k].tolist() for k in own)


ZONES = ["America/New_York", "Europe/London", "Europe/Dublin", "Australia/Lord_Howe", "America/Santiago",
         "Pacific/Apia", "Asia/Kolkata", "America/St_Johns"]


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), st.sampled_from([1995, 2011, 2024, 2041]), st.lists(st.integers(0, 366 * 24 * 4), min_size=1,
                                                                            max_size=30),
       st.sampled_from([1, 2, 7]), st.sampled_from([0, 1, 3_600_000_000]), st.integers(-2, 2))
def test_vectorised_calendar_starts_equal_window_start(zone, year, quarters, days, micros, jitter):
    """Calendar-day window starts across every DST change of a year (incl. negative DST, a skipped day and a
    year past tzdata's explicit transitions): the batch's vectorised starts == the online side's function."""
    from skewless.windows.timing import window_start

    base = int(dt.datetime(year, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    t = np.array([base + q * 900_000_000 + jitter for q in quarters], np.int64)  # quarter hours, ±2 us
    got = batch_mod._starts(t, days, micros, zone)
    assert got.tolist() == [window_start(int(v), days, micros, zone) for v in t]
