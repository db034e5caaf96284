"""Value-range analysis in the python codegen: sound intervals, overflow checks omitted only when safe."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from skewless import Boolean, Datetime, FeatureSet, Input, Int64, col, lit, max_horizontal, min_horizontal, when
from skewless.backends.python.ranges import INT64, ValueRanges, fits_int64
from skewless.parity import check_parity

MIN, MAX = -(2**63), 2**63 - 1

INT_EDGES = [MIN, MIN + 1, MIN // 2, -(2**32), -101, -100, -99, -7, -1, 0, 1, 6, 7, 59, 60, 99, 100, 101,
             2**32, MAX // 2, MAX - 1, MAX]


def _fs(features: dict, **inputs) -> FeatureSet:
    decl = {"x": Input(Int64, nullable=True), "y": Input(Int64, nullable=True),
            "t": Input(Datetime("us", "UTC"), nullable=True), **inputs}
    return FeatureSet("ranges", decl, features)


def _raw(fs: FeatureSet, name: str):
    return ValueRanges(fs._fields).raw(fs.features[name].node)


def _wraps_in(fs: FeatureSet) -> bool:
    """Whether the generated function has any Int64 wrap: ``wrap64``, ``-MIN`` or ``abs(MIN)``."""
    src = fs.python_source()
    return "_wrap64(" in src or f"== {MAX + 1}" in src or f"== ({MIN})" in src


# --------------------------------------------------------------------------- rules, on edge values


@pytest.mark.parametrize(
    "expr, want",
    [
        (col("x"), INT64),
        (lit(5), (5, 5)),
        (col("x") > 0, (0, 1)),
        (col("x") // 100, (MIN // 100, MAX // 100)),
        (col("x") // -100, (MAX // -100, MIN // -100)),
        (col("x") // -1, (-MAX, 2**63)),  # INT64_MIN // -1 does not fit: the rule keeps its wrap
        (col("x") % 100, (0, 99)),
        (col("x") % -7, (-6, 0)),
        ((col("x") % 10) % 100, (0, 9)),  # already within the span: kept as is
        ((col("x") % 100) % 10, (0, 9)),
        (col("x") // 100 * 60, (MIN // 100 * 60, MAX // 100 * 60)),
        (col("x") // 100 * 60 + col("x") % 100, (MIN // 100 * 60, MAX // 100 * 60 + 99)),
        (col("x") // 100 * 100, (MIN // 100 * 100, MAX // 100 * 100)),  # below MIN: wraps
        (col("x") // 100 * 100 + 99, (MIN + 99, MAX + 99)),  # so the sum starts from all of Int64
        (col("x") % 100 - col("y") % 60, (-59, 99)),
        ((col("x") % 10) * (col("y") % -10), (-81, 0)),
        (-(col("x") // 2), (-(MAX // 2), -(MIN // 2))),
        (-col("x"), (-MAX, 2**63)),
        ((col("x") // 2).abs(), (0, -(MIN // 2))),
        ((col("x") % -5).abs(), (0, 4)),
        (col("x").abs(), (0, 2**63)),
        (col("x").sign(), (-1, 1)),
        (col("x").clip(-7, 60), (-7, 60)),
        ((col("x") % 10).clip(-7, 60), (0, 9)),
        ((col("x") % 10).clip(20, 60), (20, 20)),
        ((col("x") % 10).clip(60, 20), (60, 60)),  # lower > upper: polars gives the lower bound
        (col("x").clip(0.5, 9.5), (0, 9)),  # float bounds truncated, as polars casts them
        (col("x").clip(None, 10), (MIN, 10)),
        ((col("x") % 10).clip(col("y") % 100, None), (0, 99)),
        (col("x").clip(col("y"), 10), INT64),
        (when(col("x") > 0).then(col("x") % 10).otherwise(lit(-5)), (-5, 9)),
        (when(col("x") > 0).then(col("x") % 10).otherwise(lit(None, Int64)), None),  # conservative
        ((col("x") % 10).fill_null(-3), (-3, 9)),
        (min_horizontal(col("x") % 10, col("y") % 100), (0, 99)),
        (max_horizontal(col("x") % 10, lit(-4)), (-4, 9)),
        ((col("x") > 0).cast(Int64), (0, 1)),
        (col("t").dt.hour(), (0, 23)),
        (col("t").dt.minute(), (0, 59)),
        (col("t").dt.second(), (0, 59)),
        (col("t").dt.millisecond(), (0, 999)),
        (col("t").dt.microsecond(), (0, 999_999)),
        (col("t").dt.weekday(), (1, 7)),
        (col("t").dt.ordinal_day(), (1, 366)),
        (col("t").dt.week(), (1, 53)),
        (col("t").dt.quarter(), (1, 4)),
        (col("t").dt.month(), (1, 12)),
        (col("t").dt.day(), (1, 31)),
        (lit(359) - col("t").dt.ordinal_day(), (-7, 358)),
        (col("t").dt.hour() * 100 + col("t").dt.minute(), (0, 2359)),
        (col("t").dt.year(), None),  # a zoned wall clock reaches years 0 and 10000: unknown
        (col("t").dt.year() * 1000, None),
        (col("x").cast(Boolean).cast(Int64) + MAX, (MAX, MAX + 1)),
    ],
)
def test_interval_of_each_rule(expr, want):
    fs = _fs({"f": expr})
    assert _raw(fs, "f") == want


@pytest.mark.parametrize(
    "expr",
    [
        col("x") // 100 * 60 + col("x") % 100,
        -(col("x") // 2),
        (col("x") // 2).abs(),
        lit(359) - col("t").dt.ordinal_day(),
        col("t").dt.hour() * 100 + col("t").dt.minute(),
        (col("x") % 1000) * (col("y") % -1000) - 7,
        col("x").clip(-7, 60) * 1000,
        when(col("x") > 0).then(col("x") % 10).otherwise(lit(-5)) * 1_000_000,
        (col("x") > 0).cast(Int64) + (MAX - 1),
        col("x").sign() * MAX,
    ],
)
def test_checks_omitted_when_the_result_fits(expr):
    fs = _fs({"f": expr})
    assert fits_int64(_raw(fs, "f"))
    assert not _wraps_in(fs), fs.python_source()


@pytest.mark.parametrize(
    "expr",
    [
        col("x") + 1,
        col("x") * 2,
        col("x") - col("y"),
        -col("x"),
        col("x").abs(),
        col("x") // 100 * 100 + 99,  # MIN // 100 * 100 is below MIN
        col("x") // 7 * 7,  # likewise, by 7 units
        (col("x") // 100 * 60 + col("x") % 100) - (col("y") // 100 * 60),  # each fits, the difference not
        col("x").sign() * MIN,  # -1 * MIN
        col("t").dt.year() * 1000,  # no interval for year
        col("s").str.len_chars() * 2,  # no interval for len_chars
        col("x").clip(col("y"), 10) + 1,  # a column bound spans Int64
        (col("x") > 0).cast(Int64) + MAX,
    ],
)
def test_checks_kept_when_ranges_are_unknown_or_large(expr):
    fs = _fs({"f": expr}, s=Input("String", nullable=True))
    assert not fits_int64(_raw(fs, "f"))
    assert _wraps_in(fs), fs.python_source()


# --------------------------------------------------------------------------- soundness against polars


def _datetimes() -> list[dt.datetime]:
    utc = dt.timezone.utc
    out = [dt.datetime(1, 1, 1, tzinfo=utc), dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=utc),
           dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=utc), dt.datetime(2100, 12, 31, 23, 30, tzinfo=utc),
           dt.datetime(2024, 12, 31, 12, tzinfo=utc), dt.datetime(2023, 3, 12, 7, 0, 0, 1, tzinfo=utc)]
    rng = random.Random(4)
    out += [dt.datetime(1970, 1, 1, tzinfo=utc) + dt.timedelta(microseconds=rng.randrange(-6 * 10**16, 10**17))
            for _ in range(40)]
    return out


def test_results_within_intervals_and_equal_to_polars():
    """Every rule's interval holds the generated code's values, and polars agrees on them."""
    ny = "America/New_York"
    t = col("t").dt.convert_time_zone(ny)
    features = {
        "hhmm": col("x") // 100 * 60 + col("x") % 100,
        "hhmm_diff": (col("x") // 100 * 60 + col("x") % 100) - (col("y") // 100 * 60 + col("y") % 100),
        "neg_half": -(col("x") // 2),
        "abs_half": (col("x") // 2).abs(),
        "mod_prod": (col("x") % 1000) * (col("y") % -1000) - 7,
        "clipped": col("x").clip(-7, 60) * 1000,
        "clip_float": col("x").clip(0.5, 9.5) + (MAX - 9),
        "branch": when(col("x") > 0).then(col("x") % 10).otherwise(lit(-5)) * 1_000_000,
        "filled": (col("x") % 10).fill_null(-3) * (MAX // 9),
        "flag": (col("x") > 0).cast(Int64) + (MAX - 1),
        "sign": col("x").sign() * MAX,
        "minh": min_horizontal(col("x") % 10, col("y") % 100) * (MAX // 99),
        "to_christmas": lit(359) - t.dt.ordinal_day(),
        "clock": t.dt.hour() * 100 + t.dt.minute() + t.dt.second() * 0,
        "fields": t.dt.weekday() * t.dt.week() * t.dt.quarter() * t.dt.month() * t.dt.day()
        + t.dt.millisecond() * t.dt.microsecond(),
        "year_k": t.dt.year() * 1000,
        "wrapping": col("x") // 100 * 100 + 99,
    }
    fs = _fs(features)
    ranges = ValueRanges(fs._fields)
    rng = random.Random(5)
    xs = INT_EDGES + [rng.randrange(MIN, MAX + 1) for _ in range(30)] + [None]
    times = _datetimes() + [None]
    rows = [{"x": x, "y": rng.choice(xs), "t": rng.choice(times)} for x in xs for _ in range(4)]
    rows += [{"x": rng.choice(xs), "y": y, "t": tt} for y in xs for tt in times[:: max(1, len(times) // 6)]]
    for row in rows:
        out = fs.row_fn(row)
        for name, value in out.items():
            iv = ranges.of(fs.features[name].node)
            if value is not None and iv is not None:
                assert iv[0] <= value <= iv[1], (name, row, value, iv)
    report = check_parity(fs, rows)
    assert report.ok, str(report)
