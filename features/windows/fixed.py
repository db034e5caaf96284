"""Exact window sums and means in ONE fixed point per column (polars Int128), rounded once: the batch's fast path.

Every finite double is an integer multiple of its lowest set bit. A column whose values, taken at the
column's own lowest bit ``2**scale``, are integers below ``2**bits`` with ``bits + bit_length(n) <= 126``
(integer-valued columns, cents, any column spanning up to ~2**100 between its smallest and largest bit on
10^7 events) holds them exactly as Int128 ``X = x / 2**scale`` (a product with ``2.0**-scale`` then a cast:
both exact).
Prefix sums of ``X`` cannot overflow (``n * 2**bits <= 2**126``), so ``P[hi] - P[lo]`` is the window's exact
sum ``T`` — the same integer (up to the common scale) that :mod:`skewless.windows.exact` rounds on the
online side. From it, with one rounding each (the rules of :mod:`skewless.exact`):

* **sum** ``T * 2**scale``: the Int128 -> Float64 cast rounds to nearest, ties to even (Rust's ``as``), then
  the product with ``2.0**scale`` is exact — or the result is below ``2**-1022``, where ``|T| < 2**52`` so the cast was exact and
  the product a multiple of ``2**scale >= 2**-1074`` (representable); past the largest double it is ±inf,
  as IEEE (and Python's int division) round.
* **mean** ``T * 2**scale / c``: for ``|T| < 2**53`` the IEEE division of two exact doubles (correctly rounded)
  then the scaling; otherwise the integer quotient ``Q = floor(|T| * 2**a / c)`` with ``a`` chosen so that
  ``Q >= 2**55``, its lowest bit OR-ed with "remainder != 0" (round to odd: with >= 2 bits beyond the
  53-bit significand, rounding that once more is the correct rounding of the exact quotient), cast and
  scaled. A result at or below ``2**-1022`` (where scaling would round a second time) is returned as NaN
  for the caller to recompute with Python integers (:func:`skewless.windows.exact.mean`).

Columns wider than that fall back to 32-bit limbs (:mod:`skewless.windows.limbs`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

MAX_BITS = 126
_TINY = 2.0 ** -1021  # results below this may have been rounded twice by the scaling (subnormal range): recompute
_TWO53 = 2.0 ** 53


def plan(x: np.ndarray, finite: np.ndarray) -> tuple[int, int]:
    """``(scale, bits)``: every finite ``x`` is ``X * 2**scale`` with an integer ``|X| < 2**bits``."""
    b = x.view(np.int64)
    e = (b >> 52) & 0x7FF
    m = (b & ((1 << 52) - 1)) | np.where(e > 0, np.int64(1 << 52), np.int64(0))
    nz = finite & (m != 0)
    if not nz.any():
        return 0, 0
    m, e = m[nz], e[nz]
    tz = np.frexp((m & -m).astype(np.float64))[1].astype(np.int64) - 1  # trailing zeros (a power of two: exact)
    scale = int((np.maximum(e, 1) - 1075 + tz).min())
    top = int(np.frexp(np.abs(x[nz]))[1].max())  # |x| < 2**top
    return scale, top - scale


def fits(bits: int, n: int) -> bool:
    """Whether Int128 prefix sums of ``n`` integers below ``2**bits`` cannot overflow."""
    return bits + max(n, 1).bit_length() <= MAX_BITS


def scaled_ints(x: np.ndarray, finite: np.ndarray, scale: int) -> pl.Series:
    """The finite values as exact Int128 integers ``x / 2**scale`` (0 elsewhere)."""
    y = np.where(finite, x, 0.0)
    if scale < -1022 + 64:  # 2**-scale would overflow: two exact steps (every product is an integer < 2**126)
        return pl.Series(y * 2.0 ** 64 * 2.0 ** (-scale - 64)).cast(pl.Int128)
    return pl.Series(y * 2.0 ** -scale).cast(pl.Int128)


def prefix(ints: pl.Series) -> pl.Series:
    """``[0, x0, x0 + x1, ...]`` in Int128."""
    return pl.concat([pl.Series([0], dtype=pl.Int128), ints.cast(pl.Int128).cum_sum()])


def window_sums(table: pl.Series, lo: np.ndarray, hi: np.ndarray) -> pl.Series:
    """Exact sums of the windows ``[lo, hi)`` from a :func:`prefix` table."""
    return table.gather(pl.Series(hi)) - table.gather(pl.Series(lo))


def _times_pow2(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``x * 2**e`` for ``x >= 2**55`` (or 0) and integer ``e >= -1163``: exact while the result is normal.

    Two IEEE multiplications by exact powers of two (``np.ldexp`` with an array exponent is ~100x slower):
    the first stays normal (exact), the second rounds once.
    """
    first = np.maximum(e, -1022)
    return x * ((first + 1023) << 52).view(np.float64) * ((e - first + 1023) << 52).view(np.float64)


def to_sum(total: pl.Series, scale: int) -> np.ndarray:
    """The correctly rounded ``total * 2**scale`` (see the module docstring); +0.0 for an exact zero.

    ``scale`` is a double's lowest bit (``-1074 <= scale <= 971``), so ``2.0**scale`` is exact and the IEEE
    product is the one rounding of the exact ``total * 2**scale`` after the (exact or correctly rounded) cast.
    """
    with np.errstate(over="ignore"):
        return total.cast(pl.Float64).to_numpy() * 2.0 ** scale


def to_mean(total: pl.Series, count: np.ndarray, scale: int) -> np.ndarray:
    """The correctly rounded ``total * 2**scale / count`` (``count >= 1``); NaN where it must be recomputed."""
    tf = total.cast(pl.Float64).to_numpy()
    c = np.maximum(count, 1)
    big = np.abs(tf) >= _TWO53
    n_big = int(np.count_nonzero(big))
    if n_big < len(tf):  # |total| < 2**53: both operands exact, one IEEE division (then exact unless tiny)
        out = tf / c * 2.0 ** scale
    else:
        out = np.empty(len(tf))
    if n_big:
        every = n_big == len(tf)
        tb = total if every else total.filter(pl.Series(big))
        cb, fb = (c, tf) if every else (c[big], tf[big])
        bc = np.frexp(cb.astype(np.float64))[1]  # bit length of the count (exact)
        bt = np.frexp(fb)[1]  # bit length of |total|, or one more
        a = np.maximum(57 + bc - bt, 0)  # |total| * 2**a >= 2**(55 + bc): a quotient of >= 56 bits
        cols = {"t": tb, "c": pl.Series(cb)}
        num = pl.col("t").abs()
        if a.any():
            cols["p1"] = pl.Series(np.left_shift(np.int64(1), np.minimum(a, 62)))
            num = num * pl.col("p1").cast(pl.Int128)
            if (a > 62).any():
                cols["p2"] = pl.Series(np.left_shift(np.int64(1), np.maximum(a - 62, 0)))
                num = num * pl.col("p2").cast(pl.Int128)
        den = pl.col("c").cast(pl.Int128)
        q = num // den
        one, zero = pl.lit(1, pl.Int128), pl.lit(0, pl.Int128)
        sticky = (num - q * den != zero) & (q.and_(one) == zero)
        odd = pl.DataFrame(cols).select((q + sticky.cast(pl.Int128)).cast(pl.Float64)).to_series()  # round to odd
        mag = _times_pow2(odd.to_numpy(), (scale - a).astype(np.int64))
        signed = np.where(fb < 0, -mag, mag)
        if every:
            out = signed
        else:
            out[big] = signed
    tiny = np.abs(out) < _TINY
    if tiny.any():
        out[tiny & (out != 0)] = np.nan
    return out
