"""Edge values of each input dtype: the values where runtimes differ first (used by assert_parity and parity cases)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from skewless.dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, String
from skewless.runtime.tz import get_zone

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 2.675, 0.1, 3.0, -7.5, 14.13, 100.0, 1e-7, 123456.789,
    1e16, -1e300, 1.7976931348623157e308, 5e-324, -5e-324, 2.0**53, 9.223372036854776e18,
    float("inf"), float("-inf"), float("nan"),
]
INTS = [0, 1, -1, 2, -2, 3, 7, -7, 10, 15, 100, 2400, 2**31, 2**53 + 1, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1]
STRINGS = [
    "", " ", "a", "abc", "ABC", "Hello, World", "  padded  ", "\t tab\n", "42", "-7", "+7", "3.5", "1e3", "nan",
    "inf", "true", "İ", "ΣΑΣ", "straße", "e\u0301", "東京", "🙂👍🏽", "a.b", "a\\b", "'quote\"", "x\x00y",
    "JFK-LAX", "\u212a", "ǅ", "ﬁ",
]


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


# Instants around DST transitions (America/New_York, Europe/London, Australia/Lord_Howe has a
# 30-minute shift), year boundaries, leap days, the epoch and before it.
DATETIMES_UTC = [
    _utc(1970, 1, 1), _utc(1969, 12, 31, 23, 59, 59, 999999), _utc(2013, 1, 1), _utc(2013, 12, 31, 23, 59, 59),
    _utc(2013, 3, 10, 6, 59, 59), _utc(2013, 3, 10, 7, 0, 0), _utc(2013, 11, 3, 5, 30), _utc(2013, 11, 3, 6, 30),
    _utc(2024, 2, 29, 12), _utc(2024, 3, 31, 0, 59), _utc(2024, 3, 31, 1, 0), _utc(2024, 10, 6, 15, 0),
    _utc(2020, 12, 31, 23, 0), _utc(2021, 1, 3, 12), _utc(1900, 6, 15, 3, 4, 5), _utc(2100, 1, 1), _utc(1, 1, 1),
    _utc(9999, 12, 31, 23, 59, 59, 999000),
]
DATES = [dt.date(1970, 1, 1), dt.date(1969, 12, 31), dt.date(2013, 1, 1), dt.date(2024, 2, 29), dt.date(2020, 12, 31),
         dt.date(2021, 1, 3), dt.date(1, 1, 1), dt.date(9999, 12, 31)]
DURATIONS = [dt.timedelta(0), dt.timedelta(microseconds=-1), dt.timedelta(days=1, seconds=1), dt.timedelta(seconds=-90),
             dt.timedelta(days=-3, microseconds=500)]


def edge_values(dtype: DataType, nullable: bool = True) -> list[Any]:
    """The default edge values of ``dtype`` (with ``None`` first when nullable)."""
    if isinstance(dtype, Float64):
        values: list[Any] = list(FLOATS)
    elif isinstance(dtype, Int64):
        values = list(INTS)
    elif isinstance(dtype, Boolean):
        values = [True, False]
    elif isinstance(dtype, String):
        values = list(STRINGS)
    elif isinstance(dtype, Datetime):
        if dtype.time_zone is None:
            values = [d.replace(tzinfo=None) for d in DATETIMES_UTC]
        else:
            zone = get_zone(dtype.time_zone)
            values = []
            for d in DATETIMES_UTC:
                try:
                    values.append(d.astimezone(zone))
                except OverflowError:  # year 1 or 9999 shifted out of Python's range
                    continue
        if dtype.time_unit == "ms":
            values = [v.replace(microsecond=v.microsecond // 1000 * 1000) for v in values]
    elif isinstance(dtype, Date):
        values = list(DATES)
    elif isinstance(dtype, Duration):
        values = list(DURATIONS)
    else:
        raise TypeError(f"no edge values for {dtype!r}")
    return ([None] if nullable else []) + values


def edge_rows(columns: dict[str, tuple[DataType, bool]], *, limit: int = 3000, seed: int = 0) -> list[dict[str, Any]]:
    """Cross product of each column's edge values; sampled (deterministically) above ``limit`` rows."""
    names = list(columns)
    pools = [edge_values(dtype, nullable) for dtype, nullable in columns.values()]
    total = 1
    for p in pools:
        total *= len(p)
    if total <= limit:
        return [dict(zip(names, combo)) for combo in itertools.product(*pools)]
    rng = random.Random(seed)
    rows = [dict(zip(names, (p[i % len(p)] for p in pools))) for i in range(max(len(p) for p in pools))]
    while len(rows) < limit:
        rows.append({n: rng.choice(p) for n, p in zip(names, pools)})
    return rows
