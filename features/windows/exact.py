"""The canonical value of every window aggregate, in exact arithmetic (pure Python, no polars).

Both runtimes reduce a window to the same exact quantities and round them here, once; the batch side
(:mod:`skewless.windows.batch`) gets the quantities from prefix differences over sorted events, the online
side (:mod:`skewless.windows.online`) by summing the window's events directly. Because each quantity is
exact, the two agree bit for bit whatever the order, chunking or partitioning of the events, and an
aggregate's value is a function of the window's contents only (polars' ``rolling_sum_by`` is not: it adds
and subtracts as it slides).

Definitions (values are the window's non-null values; ``n`` their number):

* ``len``: the number of events; ``count``: ``n``; both 0 for an empty window.
* ``sum``: Int64 and Boolean values: the exact sum wrapped to Int64 (two's complement, as polars' Int64 sum
  wraps). Float64: the **correctly rounded** exact sum (round half to even, to ±inf beyond the largest
  double); an exact zero is ``+0.0`` (as polars and ``math.fsum``); any NaN, or both +inf and -inf, gives
  NaN; otherwise +inf (-inf) when one is present. Null when ``n == 0``.
* ``mean``: the exact rational ``Σx / n`` correctly rounded (Float64 output for every input dtype), with the
  NaN/inf rules of ``sum``. Null when ``n == 0``.
* ``var`` (``ddof`` 0 or 1, default 1 as polars): the exact rational ``(nΣx² − (Σx)²) / (n(n − ddof))``
  correctly rounded; ``std``: the **correctly rounded square root of that exact variance** (one rounding — the
  same definition as the fitted std of :class:`skewless.exact.Moments`, by the same function). Never the float
  sum-of-squares formula. NaN when any value is NaN or ±inf; null when ``n <= ddof``.
* ``min``/``max``: in the total order ``-inf < ... < -0.0 < +0.0 < ... < +inf``; NaN is ignored unless every
  value is NaN (then NaN), as polars' ``min``/``max`` ignore NaN. (polars' choice between ``-0.0`` and ``0.0``
  depends on their order; here it does not.) Null when ``n == 0``.
* ``first``/``last``: the value of the first/last event in (time, order) — possibly null. Null when empty.
* ``n_unique``: distinct values, null counting as one value, NaN as one, ``-0.0`` equal to ``0.0`` (polars'
  ``n_unique``). 0 for an empty window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

# The one implementation of exact float statistics in the package (also the fitted state's and stats.json's).
from skewless.exact import exact_int, exact_ints, exact_variance, scaled_quotient, scaled_sqrt

__all__ = ["FLOAT_SCALE", "wrap_int64", "exact_int", "exact_ints", "scaled_quotient", "special", "float_sum",
           "mean", "var", "std", "float_min", "float_max", "distinct_key", "n_unique", "aggregate", "NAN_KEY"]

#: Exact float values are integers at this scale: every finite double is a multiple of 2**-1074.
FLOAT_SCALE = -1074
_INT64 = 1 << 64
_INT64_MIN = -(1 << 63)


def wrap_int64(value: int) -> int:
    """``value`` modulo 2**64 as a signed Int64 (polars' Int64 sum wraps)."""
    value %= _INT64
    return value - _INT64 if value >= 1 << 63 else value


def special(nan: int, pinf: int, ninf: int) -> float | None:
    """The result forced by non-finite values (NaN, ±inf), or ``None`` when every value is finite."""
    if nan or (pinf and ninf):
        return math.nan
    if pinf:
        return math.inf
    if ninf:
        return -math.inf
    return None


def float_sum(total: int, scale: int, n: int, nan: int, pinf: int, ninf: int) -> float | None:
    """The canonical Float64 sum of ``n`` values whose finite part sums exactly to ``total * 2**scale``."""
    if n == 0:
        return None
    forced = special(nan, pinf, ninf)
    if forced is not None:
        return forced
    return scaled_quotient(total, 1, scale) if total else 0.0


def mean(total: int, scale: int, n: int, nan: int = 0, pinf: int = 0, ninf: int = 0) -> float | None:
    """The canonical mean: ``total * 2**scale / n`` correctly rounded (NaN/inf rules of the sum)."""
    if n == 0:
        return None
    forced = special(nan, pinf, ninf)
    if forced is not None:
        return forced
    return scaled_quotient(total, n, scale) if total else 0.0


def var(total: int, squares: int, scale: int, n: int, ddof: int, nonfinite: int = 0) -> float | None:
    """The canonical variance: ``(n·squares − total²) · 4**scale / (n(n − ddof))`` correctly rounded.

    ``total`` and ``squares`` are the exact ``Σx / 2**scale`` and ``Σx² / 4**scale``.
    """
    v = exact_variance(total, squares, n, ddof)
    if v is None:
        return None
    if nonfinite:
        return math.nan
    return scaled_quotient(v[0], v[1], 2 * scale) if v[0] else 0.0


def std(total: int, squares: int, scale: int, n: int, ddof: int, nonfinite: int = 0) -> float | None:
    """The canonical std: the correctly rounded square root of the exact variance (one rounding)."""
    v = exact_variance(total, squares, n, ddof)
    if v is None:
        return None
    if nonfinite:
        return math.nan
    return scaled_sqrt(v[0], v[1], 2 * scale)


def float_min(values: Sequence[float]) -> float | None:
    """Canonical min of non-null floats (see the module docstring)."""
    if not values:
        return None
    numbers = [x for x in values if x == x]
    if not numbers:
        return math.nan
    best = min(numbers)
    if best == 0.0:  # -0.0 before +0.0, whatever their order (min() keeps the first of equal values)
        return -0.0 if any(x == 0.0 and math.copysign(1.0, x) < 0 for x in numbers) else 0.0
    return best


def float_max(values: Sequence[float]) -> float | None:
    """Canonical max of non-null floats (see the module docstring)."""
    if not values:
        return None
    numbers = [x for x in values if x == x]
    if not numbers:
        return math.nan
    best = max(numbers)
    if best == 0.0:
        return 0.0 if any(x == 0.0 and math.copysign(1.0, x) > 0 for x in numbers) else -0.0
    return best


class _NaN:
    """The one distinct-value key of every NaN."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NaN"


NAN_KEY = _NaN()


def distinct_key(value: Any) -> Any:
    """The key under which ``n_unique`` compares values (NaN one value; ``-0.0 == 0.0`` already in Python)."""
    return NAN_KEY if type(value) is float and value != value else value


def n_unique(values: Iterable[Any]) -> int:
    """Canonical distinct count (null is one value)."""
    return len({distinct_key(v) for v in values})


# -- direct evaluation over a window's values (the online side) -----------------------------------------

def aggregate(agg: str, dtype: str, values: Sequence[Any], ddof: int = 1) -> Any:
    """The canonical ``agg`` of a window's values in (time, order) order (nulls included).

    ``dtype`` is the value column's kind: ``"int"`` (Int64), ``"bool"``, ``"float"`` or ``"other"``.
    """
    if agg == "len":
        return len(values)
    if agg == "first":
        return values[0] if values else None
    if agg == "last":
        return values[-1] if values else None
    if agg == "n_unique":
        return n_unique(values)
    present = [v for v in values if v is not None]
    if agg == "count":
        return len(present)
    if dtype == "float":
        return _float_aggregate(agg, present, ddof)
    ints = [int(v) for v in present]  # bool -> 0/1
    if agg == "sum":
        return wrap_int64(sum(ints)) if ints else None
    if agg == "min":
        return (min(ints) if dtype == "int" else bool(min(ints))) if ints else None
    if agg == "max":
        return (max(ints) if dtype == "int" else bool(max(ints))) if ints else None
    n = len(ints)
    total = sum(ints)
    if agg == "mean":
        return mean(total, 0, n)
    squares = sum(v * v for v in ints)
    if agg == "var":
        return var(total, squares, 0, n, ddof)
    if agg == "std":
        return std(total, squares, 0, n, ddof)
    raise ValueError(f"unknown aggregate {agg!r}")


def _float_aggregate(agg: str, present: list[float], ddof: int) -> Any:
    if agg == "min":
        return float_min(present)
    if agg == "max":
        return float_max(present)
    n = len(present)
    nan = pinf = ninf = 0
    finite = []
    for x in present:
        if x - x == 0.0:
            finite.append(x)
        elif x != x:
            nan += 1
        elif x > 0:
            pinf += 1
        else:
            ninf += 1
    ints = exact_ints(finite)
    total = sum(ints)
    if agg == "sum":
        return float_sum(total, FLOAT_SCALE, n, nan, pinf, ninf)
    if agg == "mean":
        return mean(total, FLOAT_SCALE, n, nan, pinf, ninf)
    squares = sum(v * v for v in ints)
    nonfinite = nan + pinf + ninf
    if agg == "var":
        return var(total, squares, FLOAT_SCALE, n, ddof, nonfinite)
    if agg == "std":
        return std(total, squares, FLOAT_SCALE, n, ddof, nonfinite)
    raise ValueError(f"unknown aggregate {agg!r}")
