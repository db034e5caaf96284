"""Arithmetic helpers with polars' semantics (IEEE floats, wrapping Int64)."""

from __future__ import annotations

import math

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_NAN = float("nan")
_INF = float("inf")


def wrap64(x: int) -> int:
    """Two's-complement wrap of an int to Int64, as polars' arithmetic does on overflow."""
    return ((x - INT64_MIN) & 0xFFFFFFFFFFFFFFFF) + INT64_MIN


def fdiv(a: float, b: float) -> float:
    """IEEE-754 division: ``x / 0.0`` is ±inf or NaN instead of raising."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def floorf(x: float) -> float:
    """``f64::floor``: keeps NaN, ±inf and the sign of zero (``floor(-0.0)`` is ``-0.0``)."""
    if x != x or x in (_INF, -_INF):
        return x
    return math.copysign(float(math.floor(x)), x)


def ceilf(x: float) -> float:
    """``f64::ceil``: keeps NaN, ±inf and the sign of zero (``ceil(-0.5)`` is ``-0.0``)."""
    if x != x or x in (_INF, -_INF):
        return x
    return math.copysign(float(math.ceil(x)), x)


def fpow(a: float, b: float) -> float:
    """C ``pow`` with IEEE results instead of Python's exceptions or complex numbers."""
    try:
        return math.pow(a, b)
    except ValueError:
        if a == 0.0:  # zero to a negative power
            odd = b == math.floor(b) and math.fmod(b, 2.0) != 0.0
            return math.copysign(_INF, a) if odd else _INF
        return _NAN  # negative base, non-integer exponent
    except OverflowError:
        odd = b == math.floor(b) and math.fmod(b, 2.0) != 0.0
        return -_INF if (a < 0 and odd) else _INF


def ipow(a: int, k: int) -> int:
    """``a ** k`` for ``k >= 0`` wrapped to Int64 (polars' wrapping integer pow)."""
    return wrap64(pow(a, k, 1 << 64))
