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


def fsqrt(x: float) -> float:
    """``f64::sqrt``: NaN below zero (``-inf`` included), ``sqrt(-0.0)`` is ``-0.0``."""
    return math.sqrt(x) if x >= 0.0 else _NAN


def powi(base: float, n: int) -> float:
    """``f64::powi`` as compiled for polars (compiler-rt ``__powidf2``): square-and-multiply.

    Exact while the intermediate powers are (``10.0 ** n`` for ``n <= 22``), then it
    can differ from C ``pow``: ``powi(10.0, 23)`` is ``1e23`` where ``10.0 ** 23`` is
    ``1.0000000000000001e23``. Polars' ``round`` builds ``10 ** decimals`` with it.
    """
    recip = n < 0
    k = -n if recip else n
    acc = 1.0
    while True:
        if k & 1:
            acc *= base
        k >>= 1
        if k == 0:
            break
        base *= base
    return 1.0 / acc if recip else acc


def repeated_product(x: float, k: int) -> float:
    """``x * x * ... * x`` (``k`` factors, left to right): polars' ``x ** k`` for ``k`` in 2..9."""
    out = x
    for _ in range(k - 1):
        out *= x
    return out


#: Exponents polars does not send to C ``pow`` when the exponent is a single value:
#: ``0.5`` becomes ``sqrt`` and the integers 2..9 a repeated product.
SPECIAL_EXPONENTS = (0.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)


def fpow_scalar(x: float, y: float) -> float:
    """``x ** y`` with polars' scalar-exponent rules (see :class:`skewless.ir.core.Pow`).

    ``y == 0.5`` is ``sqrt(x)`` (so ``(-0.0) ** 0.5`` is ``-0.0`` and ``(-inf) ** 0.5`` NaN);
    ``y`` in 2..9 is ``x * x * ... * x`` (rounded at each step); anything else is C ``pow``.
    """
    if y == 2.0:
        return x * x
    if y == 0.5:
        return math.sqrt(x) if x >= 0.0 else _NAN
    if 3.0 <= y <= 9.0 and y == int(y):
        return repeated_product(x, int(y))
    return fpow(x, y)


def special_exponents_for(base: float) -> tuple[float, ...]:
    """The special exponents at which :func:`fpow_scalar` differs from C ``pow`` for this base."""

    def same(p: float, q: float) -> bool:
        return (p != p and q != q) or (p == q and math.copysign(1.0, p) == math.copysign(1.0, q))

    return tuple(k for k in SPECIAL_EXPONENTS if not same(fpow_scalar(base, k), fpow(base, k)))
