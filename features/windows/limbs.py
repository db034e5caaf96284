"""Exact window sums in 32-bit limbs, rounded once, vectorized (numpy): the fast path of the batch side.

Every finite value of a column is the exact integer ``X = x / 2**scale`` (``scale`` the column's lowest set
bit), split into K limbs of 32 bits with the value's sign: ``X = Σ_k sign·L_k·2**(32k)``. Prefix sums of each
limb fit int64 for fewer than 2**31 events, so ``prefix[hi] - prefix[lo]`` per limb is the window's exact sum,
limb by limb. The limbs are then normalised (carries, sign) and rounded to the nearest double (half to even)
from their top 64 bits and a sticky bit — the same value :func:`skewless.windows.exact.float_sum` gives
(tested), computed without Python integers. The mean divides the normalised limbs by ``n`` (long division,
with three extra fractional limbs) and rounds the quotient the same way.
"""

from __future__ import annotations

import numpy as np

_MASK = np.int64(0xFFFFFFFF)
EXTRA = 3  # fractional limbs of a mean: >= 65 significant quotient bits for any n < 2**31


def limb_count(bits: int, n: int) -> int:
    """Limbs holding window sums of ``n`` values of at most ``bits`` bits, with room for the sign."""
    return (bits + max(n, 1).bit_length() + 1) // 32 + 2


def split(mant: np.ndarray, shift: np.ndarray, k: int) -> np.ndarray:
    """``(k, n)`` signed limbs of ``mant << shift`` (``mant`` int64 with |mant| < 2**53, ``shift >= 0`` where set)."""
    mag = np.abs(mant).astype(np.uint64)
    neg = mant < 0
    out = np.empty((k, len(mant)), np.int64)
    for j in range(k):
        off = 32 * j - shift  # bit of mag that lands on the limb's lowest bit
        right = np.where((off >= 0) & (off < 64), mag >> np.clip(off, 0, 63).astype(np.uint64), 0)
        left = np.where((off < 0) & (off > -32), mag << np.clip(-off, 0, 31).astype(np.uint64), 0)
        limb = ((right | left) & np.uint64(0xFFFFFFFF)).astype(np.int64)
        out[j] = np.where(neg, -limb, limb)
    return out


def prefix(limbs: np.ndarray) -> np.ndarray:
    out = np.zeros((limbs.shape[0], limbs.shape[1] + 1), np.int64)
    np.cumsum(limbs, axis=1, out=out[:, 1:])
    return out


def normalise(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(magnitude limbs in [0, 2**32), negative)`` of the signed, unnormalised limbs ``d`` (``(k, m)``)."""
    d = d.copy()
    carry = np.zeros(d.shape[1], np.int64)
    for j in range(d.shape[0]):
        v = d[j] + carry
        carry = v >> 32
        d[j] = v & _MASK
    neg = carry < 0
    if neg.any():  # two's complement negation of the negative rows
        sub = d[:, neg] ^ _MASK
        c = np.ones(sub.shape[1], np.int64)
        for j in range(sub.shape[0]):
            v = sub[j] + c
            c = v >> 32
            sub[j] = v & _MASK
        d[:, neg] = sub
    return d, neg


def round_limbs(mag: np.ndarray, exp0: int, sticky: np.ndarray | None = None) -> np.ndarray:
    """The nearest double (half to even) to ``Σ mag[j]·2**(32j + exp0)`` (+ a sticky bit below), for magnitudes.

    Returns ``nan`` where the result would be subnormal and inexact (the caller falls back to exact ints).
    """
    k, m = mag.shape
    padded = np.zeros((k + 2, m), np.int64)
    padded[2:] = mag
    nz = padded != 0
    any_nz = nz.any(axis=0)
    top = np.where(any_nz, k + 1 - np.argmax(nz[::-1], axis=0), 2)  # index of the top nonzero limb in padded
    cols = np.arange(m)
    a = padded[top, cols].astype(np.uint64)
    b = padded[top - 1, cols].astype(np.uint64)
    c = padded[top - 2, cols].astype(np.uint64)
    bits = np.maximum(np.frexp(a.astype(np.float64))[1].astype(np.int64), 1)  # bit length of a (exact: a < 2**32)
    ub = bits.astype(np.uint64)
    top64 = (a << (np.uint64(64) - ub)) | (b << (np.uint64(32) - ub)) | (c >> ub)
    below = c & ((np.uint64(1) << ub) - np.uint64(1))
    # any nonzero limb below top - 2: the lowest nonzero limb is below it
    lower_any = any_nz & (np.argmax(nz, axis=0) < top - 2)
    st = (below != 0) | lower_any
    if sticky is not None:
        st = st | sticky
    mant = top64 >> np.uint64(11)
    r = top64 & np.uint64(0x7FF)
    half = np.uint64(0x400)
    up = (r > half) | ((r == half) & (st | ((mant & np.uint64(1)) == 1)))
    mant = mant + up.astype(np.uint64)
    # weight of mant's lowest bit: top64's lowest bit is bit `bits` of limb top - 2 (padded index 2 is limb 0)
    e = 32 * (top - 4) + bits + 11 + exp0
    with np.errstate(over="ignore"):  # past the largest double the correctly rounded value is ±inf
        out = np.ldexp(mant.astype(np.float64), np.clip(e, -2000, 2000).astype(np.int32))
    inexact = (r != 0) | st
    out = np.where(any_nz, out, 0.0)
    # below the normal range a 53-bit rounding then ldexp would round twice: leave those to the exact path
    sub = any_nz & inexact & (e < -1074)
    return np.where(sub, np.nan, out)


def divide(mag: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(quotient limbs, remainder != 0)`` of ``Σ mag[j]·2**(32j) · 2**(32·EXTRA) / n`` (``n >= 1``, < 2**31)."""
    k, m = mag.shape
    q = np.zeros((k + EXTRA, m), np.int64)
    r = np.zeros(m, np.int64)
    full = np.concatenate([np.zeros((EXTRA, m), np.int64), mag])
    for j in range(k + EXTRA - 1, -1, -1):
        cur = (r << 32) | full[j]
        q[j] = cur // n
        r = cur - q[j] * n
    return q, r != 0
