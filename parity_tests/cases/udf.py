"""Parity cases: ``udf`` — one per dtype family (numeric, string, boolean, temporal, null handling).

The functions are module-level ``def``s of this module (a udf names its function as
``module:qualname``). Each handles every edge value itself (a udf gets nulls, NaN, infinities,
extreme dates); both runtimes hand it the same Python values and check its result the same way.
A float result is compared bitwise, NaN payloads included.
"""

from __future__ import annotations

import datetime as dt
import math
import struct

from skewless import Boolean, Date, Datetime, Duration, Float64, Input, Int64, String, col, lit, udf

from . import case

_NAN_PAYLOAD = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]


# --------------------------------------------------------------------------- numeric


def ratio(a, b):
    """a / b in Python floats; None where Python raises (division by zero)."""
    if a is None or b is None:
        return None
    try:
        return a / b
    except ZeroDivisionError:
        return None


def negate(x):
    """-x: -0.0 for 0.0, and a NaN with a payload for NaN (kept bit for bit)."""
    if x is None:
        return None
    return _NAN_PAYLOAD if x != x else -x


def mix64(i):
    """An integer hash step wrapped into Int64 by hand (Python ints do not wrap)."""
    if i is None:
        return None
    return ((i * 0x9E3779B97F4A7C15 + 7) + 2 ** 63) % 2 ** 64 - 2 ** 63


def fsum3(a, b, c):
    """math.fsum: exactly rounded, unlike a + b + c (NaN where fsum raises: inf - inf, overflow)."""
    try:
        return math.fsum((a, b, c))
    except (OverflowError, ValueError):
        return math.nan


case(
    "udf.numeric",
    {"a": Float64, "b": Float64, "i": Int64, "f": Input(Float64, nullable=False)},
    {
        "ratio": udf(ratio, "a", "b", return_dtype=Float64),
        "negate": udf(negate, col("a"), return_dtype=Float64),
        "mix": udf(mix64, "i", return_dtype=Int64),
        "fsum": udf(fsum3, "f", col("f") * 1e-16, 1.0, return_dtype=Float64, nullable=False),
        "after": udf(ratio, "a", "b", return_dtype=Float64).fill_null(-1.0) + col("f"),
    },
    rows=[{"a": 1.0, "b": 3.0, "i": 2 ** 62, "f": 1e16}, {"a": -0.0, "b": -0.0, "i": -1, "f": -0.0}],
)


# --------------------------------------------------------------------------- strings


def initials(s):
    """Upper-case first letter of each whitespace-separated word (Python's str.split and str.upper)."""
    return None if s is None else "".join(w[:1] for w in s.split()).upper()


def reversed_code_points(s):
    """Reversed by code point (polars' str.reverse reverses grapheme clusters: a different op)."""
    return None if s is None else s[::-1]


def code_points(s):
    return 0 if s is None else len(s)


case(
    "udf.strings",
    {"s": String, "t": String},
    {
        "initials": udf(initials, "s", return_dtype=String),
        "reversed": udf(reversed_code_points, col("s") + col("t"), return_dtype=String),
        "length": udf(code_points, "t", return_dtype=Int64, nullable=False),
    },
    rows=[{"s": "New York  city", "t": "e\u0301"}, {"s": "\u00df\u0130", "t": ""}],
)


# --------------------------------------------------------------------------- booleans


def is_palindrome(s):
    if s is None:
        return None
    folded = [c for c in s.casefold() if c.isalnum()]
    return folded == folded[::-1]


def majority(p, q, r):
    """True when most of the present values are True; None when none is present (nulls are seen)."""
    present = [v for v in (p, q, r) if v is not None]
    if not present:
        return None
    return sum(present) * 2 > len(present)


case(
    "udf.boolean",
    {"s": String, "p": Boolean, "q": Boolean},
    {
        "palindrome": udf(is_palindrome, "s", return_dtype=Boolean),
        "majority": udf(majority, "p", "q", col("s") == "a", return_dtype=Boolean),
        "not_majority": ~udf(majority, "p", "q", lit(True), return_dtype=Boolean),
    },
    rows=[{"s": "A man, a plan, a canal: Panama", "p": True, "q": None}],
)


# --------------------------------------------------------------------------- temporal


def minutes_into_local_day(t):
    """The wall clock of a zoned datetime in its zone (the value arrives in the declared zone)."""
    return None if t is None else t.hour * 60 + t.minute


def next_monday(d):
    if d is None:
        return None
    try:
        return d + dt.timedelta(days=7 - d.weekday())
    except OverflowError:
        return None


def later_utc(t, gap):
    """An aware instant as UTC (any aware result is an instant), ms-floored for a Datetime('ms')."""
    if t is None or gap is None:
        return None
    try:
        out = (t + gap).astimezone(dt.timezone.utc)
    except OverflowError:
        return None
    return out.replace(microsecond=out.microsecond // 1000 * 1000)


def wall_clock(t):
    """A naive datetime: the wall clock of a zoned one."""
    return None if t is None else t.replace(tzinfo=None)


def since_midnight(t):
    if t is None:
        return None
    return dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


_NY = "America/New_York"
case(
    "udf.temporal",
    {"t": Datetime("us", _NY), "d": Date, "g": Duration("us"), "w": Datetime("ms")},
    {
        "minutes": udf(minutes_into_local_day, "t", return_dtype=Int64),
        "monday": udf(next_monday, "d", return_dtype=Date),
        "later": udf(later_utc, "t", "g", return_dtype=Datetime("ms", "UTC")),
        "wall": udf(wall_clock, "t", return_dtype=Datetime("us")),
        "since": udf(since_midnight, "w", return_dtype=Duration("us")),
        "lisbon": udf(minutes_into_local_day, col("t").dt.convert_time_zone("Europe/Lisbon"), return_dtype=Int64),
    },
    edge_limit=1500,
)


# --------------------------------------------------------------------------- null handling


def first_present(a, b, c):
    """A coalesce written by hand: nulls reach the function as None."""
    for v in (a, b, c):
        if v is not None:
            return v
    return None


def null_count(a, b, s):
    return sum(v is None for v in (a, b, s))


def null_unless_positive(x):
    return x if x is not None and x > 0 else None


case(
    "udf.nulls",
    {"a": Float64, "b": Float64, "s": String, "n": Input(Int64, nullable=False)},
    {
        "first": udf(first_present, "a", "b", lit(None, dtype=Float64), return_dtype=Float64),
        "nulls": udf(null_count, "a", "b", "s", return_dtype=Int64, nullable=False),
        "positive": udf(null_unless_positive, "n", return_dtype=Int64),
        "positive_or_zero": udf(null_unless_positive, "n", return_dtype=Int64).fill_null(0),
    },
)


# --------------------------------------------------------------------------- a wrong result raises on both runtimes


def float_or_int(x):
    """Returns an int for whole values: refused for a Float64 udf (never cast), on both runtimes."""
    return int(x) if x is not None and x == 2.0 else x


case(
    "udf.wrong_type_raises",
    {"x": Float64},
    {"y": udf(float_or_int, "x", return_dtype=Float64)},
    edges=False,
    rows=[{"x": 1.0}, {"x": 2.0}, {"x": None}],
    expect_error=True,
)
