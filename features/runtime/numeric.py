"""Numeric helpers with polars 2.1's exact results (pure Python, no polars).

Every function returns what polars computes, bit for bit, including the
IEEE special values where Python's :mod:`math` raises instead (``log(0)`` is
``-inf``, ``sqrt(-1)`` and ``sin(inf)`` are NaN, ``exp(1000)`` is ``inf``).
The transcendental functions call the C library like polars does (measured
bitwise-identical on 100k random values per function), except:

* ``cbrt``: polars' is correctly rounded while the C library's is not (half
  the results differ by one ULP), so :func:`cbrt` corrects ``math.cbrt``'s
  result with exact integer arithmetic;
* ``log10`` and ``log(base)``: polars computes ``ln(x) / ln(base)``, not the C
  ``log10``/``log2`` (which differ by one ULP on a quarter of the values).
"""

from __future__ import annotations

import math

from .arith import powi

_INF = float("inf")
_NAN = float("nan")
_TWO52 = 4503599627370496.0  # 2**52: every double at least this large is an integer
_copysign = math.copysign
_exp = math.exp


def exp(x: float) -> float:
    """``f64::exp``: ``inf`` on overflow instead of ``OverflowError``."""
    try:
        return _exp(x)
    except OverflowError:
        return _INF


def ln(x: float) -> float:
    """``f64::ln``: ``ln(±0.0)`` is ``-inf``, negative and NaN inputs give NaN."""
    if x > 0.0:
        return math.log(x)
    return -_INF if x == 0.0 else _NAN


def log1p(x: float) -> float:
    """``f64::ln_1p``: ``-inf`` at ``-1``, NaN below."""
    if x > -1.0:
        return math.log1p(x)
    return -_INF if x == -1.0 else _NAN


def log_base_divisor(base: float) -> float:
    """``ln(base)``, the divisor of polars' ``log(base)`` (``ln(x) / ln(base)``)."""
    return ln(float(base))


# --------------------------------------------------------------------------- cbrt


def _cube_above(m: int, e: int, n: int, f: int) -> bool:
    """Whether ``(m * 2**e) ** 3 > n * 2**f`` (all integers, ``m, n > 0``)."""
    shift = 3 * e - f
    if shift >= 0:
        return (m * m * m) << shift > n
    return m * m * m > n << -shift


def cbrt(x: float) -> float:
    """Correctly rounded cube root, as polars computes it (``math.cbrt`` is off by one ULP half the time).

    Starts from the C library's result and moves to the neighbour while the
    true cube root lies beyond the midpoint; the midpoint tests are exact
    integer comparisons of cubes (a midpoint's cube is never a double, so
    there are no ties).
    """
    if x != x or x == 0.0 or x == _INF or x == -_INF:
        return x
    ax = -x if x < 0.0 else x
    fx, ex = math.frexp(ax)
    n, f = int(fx * 9007199254740992.0), ex - 53  # ax == n * 2**f exactly
    fy, ey = math.frexp(math.cbrt(ax))
    m, e = int(fy * 9007199254740992.0), ey - 53  # y == m * 2**e, 2**52 <= m < 2**53 (y is normal)
    while True:
        # Upper midpoint (2m + 1) * 2**(e - 1): round up when the root lies above it.
        if not _cube_above(2 * m + 1, e - 1, n, f):
            m += 1
            if m == 1 << 53:
                m, e = 1 << 52, e + 1
            continue
        # Lower midpoint; at the bottom of a binade the lower neighbour is half as far.
        below = _cube_above(4 * m - 1, e - 2, n, f) if m == 1 << 52 else _cube_above(2 * m - 1, e - 1, n, f)
        if below:
            if m == 1 << 52:
                m, e = (1 << 53) - 1, e - 1
            else:
                m -= 1
            continue
        break
    return _copysign(math.ldexp(float(m), e), x)


# --------------------------------------------------------------------------- rounding


def round_half_even(x: float) -> float:
    """``f64::round_ties_even``: keeps NaN, ±inf and the sign of zero (``-0.5`` -> ``-0.0``)."""
    if -_TWO52 < x < _TWO52:
        return _copysign(float(round(x)), x)
    return x


def round_half_away(x: float) -> float:
    """``f64::round`` (C ``round``): halves away from zero; keeps NaN, ±inf and the sign of zero."""
    if -_TWO52 < x < _TWO52:
        t = float(int(x))
        d = x - t  # exact: the fractional part of x
        if d >= 0.5:
            t += 1.0
        elif d <= -0.5:
            t -= 1.0
        return _copysign(t, x)
    return x


def round_scaled(x: float, mul: float, rounder) -> float:
    """``rounder(x * mul) / mul``, or ``x`` itself when that is not finite (polars' overflow rule)."""
    out = rounder(x * mul) / mul
    return out if -_INF < out < _INF else x


def round_split(x: float, mul2: float, mul5: float, inv2: float, rounder) -> float:
    """Polars' rounding for 300 <= decimals < 326: ``10**d`` split as ``2**d * 5**d``."""
    out = rounder(x * mul2 * mul5) / mul5 * inv2
    return out if -_INF < out < _INF else x


def round_plan(decimals: int) -> tuple[str, tuple[float, ...]]:
    """How polars rounds a Float64 to ``decimals`` places: ``("int"|"scaled"|"split"|"same", constants)``."""
    if decimals == 0:
        return "int", ()
    if decimals >= 326:  # finer than the smallest subnormal: unchanged
        return "same", ()
    if decimals >= 300:
        mul2 = math.ldexp(1.0, decimals)
        return "split", (mul2, powi(5.0, decimals), 1.0 / mul2)
    return "scaled", (powi(10.0, decimals),)


def round_float(x: float, decimals: int, mode: str = "half_to_even") -> float:
    """Round one float like polars' ``round(decimals, mode)`` (reference implementation)."""
    rounder = round_half_even if mode == "half_to_even" else round_half_away
    kind, consts = round_plan(decimals)
    if kind == "int":
        return rounder(x)
    if kind == "same":
        return x
    if kind == "split":
        return round_split(x, *consts, rounder)
    return round_scaled(x, consts[0], rounder)
