"""Compiled (numba) loops of the batch side: exact 128-bit prefix sums, one correct rounding, bound placement.

Why compiled: the exact batch kernel was bound by numpy/polars temporaries (each a pass over 10^7 values
and, on this VM, page faults) and by polars' Int128 division; one loop per job over the sorted events
allocates only its outputs. numba is a maintained LLVM JIT for numpy loops; every function here is
``cache=True`` (compiled once per machine, then loaded from ``__pycache__``).

Integers wider than 64 bits are pairs ``(hi, lo)`` of uint64 words, two's complement (the sum of ``n < 2**31``
values below ``2**126`` cannot overflow them: :func:`skewless.windows.fixed.fits`). The arithmetic rules are
the same as :mod:`skewless.windows.fixed` (whose polars Int128 version they replace on the hot path):

* a finite double ``x = ±m·2**(max(E, 1) - 1075)`` is the exact integer ``X = x / 2**scale`` (``scale``
  the column's lowest set bit, so the shift drops only zero bits);
* a window's exact sum is ``T = P[hi] - P[lo]`` of the prefix sums;
* :func:`_round` rounds ``M·2**e`` (``M`` an integer, with a sticky bit "the true value is a bit more") to the
  nearest double, ties to even, **once**, normal or subnormal, ±inf past the largest double: the double's bit
  pattern is ``((q + 1074) << 52) + mantissa`` with ``q`` the result's ulp exponent — a carry out of the
  mantissa moves into the exponent field by itself;
* the mean divides ``|T|·2**a`` by the count (long division in 32-bit digits, counts below ``2**32``) with
  ``a`` chosen so that the quotient has >= 55 bits, the remainder becoming the sticky bit: with >= 2 bits
  below the 53-bit significand, round-to-nearest of (quotient, sticky) is the correct rounding of the exact
  quotient. When the result is so small that the quotient's last bit is above the result's ulp (a
  subnormal mean of a coarse column), the kernel says so (``slow``) and the caller recomputes it with
  Python integers (:func:`skewless.windows.exact.mean`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_M52 = (1 << 52) - 1
_M32 = 0xFFFFFFFF


@njit(cache=True)
def _bitlen64(x):
    """Number of bits of the uint64 ``x`` (0 for 0)."""
    n = 0
    if x >> np.uint64(32):
        n += 32
        x >>= np.uint64(32)
    if x >> np.uint64(16):
        n += 16
        x >>= np.uint64(16)
    if x >> np.uint64(8):
        n += 8
        x >>= np.uint64(8)
    if x >> np.uint64(4):
        n += 4
        x >>= np.uint64(4)
    if x >> np.uint64(2):
        n += 2
        x >>= np.uint64(2)
    if x >> np.uint64(1):
        n += 1
        x >>= np.uint64(1)
    return n + np.int64(x)


@njit(cache=True)
def _bitlen128(hi, lo):
    if hi:
        return 64 + _bitlen64(hi)
    return _bitlen64(lo)


@njit(cache=True)
def _shl(hi, lo, s):
    """``(hi, lo) << s`` for ``0 <= s < 128`` (bits past 128 dropped)."""
    if s == 0:
        return hi, lo
    if s < 64:
        return (hi << np.uint64(s)) | (lo >> np.uint64(64 - s)), lo << np.uint64(s)
    return lo << np.uint64(s - 64), np.uint64(0)


@njit(cache=True)
def _shr(hi, lo, s):
    """``(hi, lo) >> s`` (logical) for ``0 <= s < 128``."""
    if s == 0:
        return hi, lo
    if s < 64:
        return hi >> np.uint64(s), (lo >> np.uint64(s)) | (hi << np.uint64(64 - s))
    return np.uint64(0), hi >> np.uint64(s - 64)


@njit(cache=True)
def _neg(hi, lo):
    lo = ~lo + np.uint64(1)
    hi = ~hi + np.uint64(1 if lo == 0 else 0)
    return hi, lo


_INF_BITS = 0x7FF0000000000000
_NAN_BITS = 0x7FF8000000000000
_SIGN_BIT = 1 << 63


@njit(cache=True)
def _round(hi, lo, sticky, e):
    """The bit pattern of the nearest double (ties to even) to ``M·2**e`` (``M = (hi, lo)`` unsigned, plus a
    sticky bit: the true value is a little more than ``M·2**e``), and whether that rounding was possible from
    the bits given (False: the result's ulp is below ``2**e`` while the sticky bit is set)."""
    n = _bitlen128(hi, lo)
    if n == 0:
        return np.uint64(0), not sticky
    top = n - 1 + e  # M·2**e is in [2**top, 2**(top + 1))
    q = top - 52 if top >= -1022 else -1074  # the result's ulp exponent
    if q > 971:
        return np.uint64(_INF_BITS), True
    s = q - e  # low bits of M below the result's ulp
    if s <= 0:
        if sticky:
            return np.uint64(_NAN_BITS), False
        mant = lo << np.uint64(-s)  # M < 2**53 here: exact
    elif s > 128:  # M·2**e < 2**(q - 1): below half the smallest subnormal
        mant = np.uint64(0)
    else:
        if s == 128:
            mant = np.uint64(0)
            rh, rl = hi, lo
        else:
            mant = _shr(hi, lo, s)[1]
            rh, rl = _shl(hi, lo, 128 - s)  # the dropped bits, moved to the top
        half = rh >> np.uint64(63)
        rest = (rh & np.uint64(0x7FFFFFFFFFFFFFFF)) | rl
        if half and (rest or sticky or (mant & np.uint64(1))):
            mant += np.uint64(1)
    bits = (np.uint64(q + 1074) << np.uint64(52)) + mant  # a carry out of the mantissa lands in the exponent
    if bits >= np.uint64(_INF_BITS):
        return np.uint64(_INF_BITS), True
    return bits, True


@njit(cache=True)
def float_plan(u):
    """``(scale, top)`` of the doubles with bit patterns ``u`` (uint64): every finite nonzero value is an
    integer multiple of ``2**scale`` and below ``2**top`` in magnitude; ``(0, 0)`` when there is none; and
    whether any value is NaN or ±inf."""
    scale = 1 << 30
    top = -(1 << 30)
    nonfinite = False
    for i in range(len(u)):
        b = u[i]
        e = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
        if e == 0x7FF:
            nonfinite = True
            continue
        m = b & np.uint64(_M52)
        if e > 0:
            m |= np.uint64(1 << 52)
        if m == 0:
            continue
        ex = max(e, 1) - 1075
        low = m & (~m + np.uint64(1))  # the lowest set bit
        tz = _bitlen64(low) - 1
        if ex + tz < scale:
            scale = ex + tz
        if ex + _bitlen64(m) > top:
            top = ex + _bitlen64(m)
    if top == -(1 << 30):
        return 0, 0, nonfinite
    return scale, top, nonfinite


@njit(cache=True)
def float_prefix(u, scale):
    """Prefix sums ``(hi, lo)`` of the exact integers ``x / 2**scale`` (NaN, ±inf count 0)."""
    n = len(u)
    ph = np.zeros(n + 1, np.uint64)
    pl_ = np.zeros(n + 1, np.uint64)
    h = np.uint64(0)
    lo = np.uint64(0)
    for i in range(n):
        b = u[i]
        e = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
        if e != 0x7FF:
            m = b & np.uint64(_M52)
            if e > 0:
                m |= np.uint64(1 << 52)
            if m:
                s = max(e, 1) - 1075 - scale
                if s >= 0:
                    xh, xl = _shl(np.uint64(0), m, s)
                else:
                    xh, xl = np.uint64(0), m >> np.uint64(-s)
                if b >> np.uint64(63):
                    xh, xl = _neg(xh, xl)
                nl = lo + xl
                h = h + xh + np.uint64(1 if nl < lo else 0)
                lo = nl
        ph[i + 1] = h
        pl_[i + 1] = lo
    return ph, pl_


@njit(cache=True)
def int_prefix(v):
    """Prefix sums ``(hi, lo)`` of int64 values, exact (128-bit)."""
    n = len(v)
    ph = np.zeros(n + 1, np.uint64)
    pl_ = np.zeros(n + 1, np.uint64)
    h = np.uint64(0)
    lo = np.uint64(0)
    for i in range(n):
        x = v[i]
        xl = np.uint64(x)  # two's complement bits
        xh = np.uint64(0xFFFFFFFFFFFFFFFF) if x < 0 else np.uint64(0)
        nl = lo + xl
        h = h + xh + np.uint64(1 if nl < lo else 0)
        lo = nl
        ph[i + 1] = h
        pl_[i + 1] = lo
    return ph, pl_


@njit(cache=True)
def window_round(ph, pl_, lo, hi, count, scale, mean):
    """Per window ``[lo, hi)`` of the prefix sums: the correctly rounded exact sum ``T·2**scale`` (``mean`` False) or mean
    ``T·2**scale / count`` (``count >= 1``, below ``2**32``), and whether it must be recomputed (``slow``)."""
    m = len(lo)
    out = np.empty(m, np.uint64)
    slow = np.zeros(m, np.bool_)
    for i in range(m):
        a, b = lo[i], hi[i]
        l1, l0 = pl_[b], pl_[a]
        tl = l1 - l0
        th = ph[b] - ph[a] - np.uint64(1 if l1 < l0 else 0)
        neg = (th >> np.uint64(63)) != 0
        if neg:
            th, tl = _neg(th, tl)
        if th == 0 and tl == 0:
            out[i] = 0  # +0.0
            continue
        if not mean:
            v, ok = _round(th, tl, False, scale)
        else:
            c = np.uint64(max(count[i], 1))
            bc = _bitlen64(c)
            shift = max(0, 55 + bc - _bitlen128(th, tl))
            nh, nl = _shl(th, tl, shift)
            r = np.uint64(0)
            q3 = np.uint64(0)
            q2 = np.uint64(0)
            q1 = np.uint64(0)
            q0 = np.uint64(0)
            for j in range(4):  # long division in 32-bit digits, most significant first
                if j == 0:
                    d = nh >> np.uint64(32)
                elif j == 1:
                    d = nh & np.uint64(_M32)
                elif j == 2:
                    d = nl >> np.uint64(32)
                else:
                    d = nl & np.uint64(_M32)
                cur = (r << np.uint64(32)) | d
                qd = cur // c
                r = cur - qd * c
                if j == 0:
                    q3 = qd
                elif j == 1:
                    q2 = qd
                elif j == 2:
                    q1 = qd
                else:
                    q0 = qd
            v, ok = _round((q3 << np.uint64(32)) | q2, (q1 << np.uint64(32)) | q0, r != 0, scale - shift)
        out[i] = v | np.uint64(_SIGN_BIT) if neg else v
        slow[i] = not ok
    return out.view(np.float64), slow


@njit(cache=True)
def group_starts(eg, groups):
    """``starts[g]`` = index of the first event of group ``g`` in events sorted by group (``groups + 1`` long)."""
    starts = np.empty(groups + 1, np.int64)
    j = 0
    for gi in range(groups + 1):
        while j < len(eg) and eg[j] < gi:
            j += 1
        starts[gi] = j
    return starts


@njit(cache=True)
def place_bounds(starts, et, eo, g, times, back, orders, after):
    """For each request: the number of events before its bound ``(g, time - back, order)`` in the events
    sorted by (group, time, order); ``after``: the bound sorts after an event of equal (time, order), else
    before. A binary search inside the request's group (``starts``: :func:`group_starts`)."""
    m = len(g)
    out = np.empty(m, np.int64)
    groups = len(starts) - 1
    for i in range(m):
        gi = g[i]
        if gi < 0 or gi >= groups:
            out[i] = 0
            continue
        a = starts[gi]
        b = starts[gi + 1]
        t, o = times[i] - back, orders[i]
        while a < b:
            mid = (a + b) >> 1
            tm = et[mid]
            if tm < t or (tm == t and (eo[mid] <= o if after else eo[mid] < o)):
                a = mid + 1
            else:
                b = mid
        out[i] = a
    return out


@njit(cache=True)
def sorted_within_groups(eg, et, eo):
    """Whether every run of equal ``eg`` is sorted by (time, order)."""
    for i in range(1, len(eg)):
        if eg[i] == eg[i - 1]:
            if et[i] < et[i - 1] or (et[i] == et[i - 1] and eo[i] <= eo[i - 1]):
                return False
    return True


@njit(cache=True)
def n_unique(codes, lo, hi, order, n_codes):
    """Distinct codes in each window ``[lo, hi)``, windows visited in ``order`` (by ``lo`` then ``hi``): two
    pointers with a count per code, O(events + pointer movement)."""
    out = np.zeros(len(lo), np.int64)
    counts = np.zeros(n_codes, np.int64)
    cur_lo = 0
    cur_hi = 0
    distinct = 0
    for i in order:
        a, b = lo[i], hi[i]
        if a >= b:
            continue
        if a >= cur_hi or b <= cur_lo:  # disjoint: restart
            for j in range(cur_lo, cur_hi):
                counts[codes[j]] = 0
            distinct = 0
            cur_lo = a
            cur_hi = a
        while cur_hi < b:
            k = codes[cur_hi]
            if counts[k] == 0:
                distinct += 1
            counts[k] += 1
            cur_hi += 1
        while cur_hi > b:
            cur_hi -= 1
            k = codes[cur_hi]
            counts[k] -= 1
            if counts[k] == 0:
                distinct -= 1
        while cur_lo < a:
            k = codes[cur_lo]
            counts[k] -= 1
            if counts[k] == 0:
                distinct -= 1
            cur_lo += 1
        while cur_lo > a:
            cur_lo -= 1
            k = codes[cur_lo]
            if counts[k] == 0:
                distinct += 1
            counts[k] += 1
        out[i] = distinct
    return out


@njit(cache=True)
def first_repeat_in_range(ids, low, span):
    """The index of the first id seen before (-1: none), for ids known to lie in ``[low, low + span)``: one
    pass over a bitmap of the range (``span`` bits)."""
    seen = np.zeros((span >> 3) + 1, np.uint8)
    for i in range(len(ids)):
        k = ids[i] - low
        byte = k >> 3
        bit = np.uint8(1 << (k & 7))
        if seen[byte] & bit:
            return i
        seen[byte] |= bit
    return -1
