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
* variance and std (:func:`window_var_div`): ``Σx²`` as exact multiword prefix sums (:func:`square_prefix`),
  the exact numerator ``n·Σx² - (Σx)²`` in 32-bit limbs, then one long division by ``n(n - ddof)`` (below
  2**32 for windows of up to 65,536 values) to a quotient with >= 55 bits (variance) or >= 110 bits whose
  exact integer square root has >= 55 (std; the root's inexactness joins the sticky bit), rounded once by
  :func:`_round`: the correctly rounded variance and the correctly rounded root of the exact variance, as
  :func:`skewless.exact.scaled_quotient` / ``scaled_sqrt`` define them. Larger windows: a float candidate
  moved to the double whose rounding interval holds the exact value by exact comparisons with the midpoints
  (:func:`window_var`).
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


# -- variance and std: exact Σx² in 64-bit words, the exact numerator in 32-bit limbs, a float candidate
# corrected by exact comparisons with the midpoints between neighbouring doubles ---------------------------

_L = 12  # 32-bit limbs of the multiword scratch numbers (384 bits: n·Σx² < 2**(2·126 + 32) fits)


@njit(cache=True)
def _magnitude(b, scale):
    """``(hi, lo)`` = ``|x| / 2**scale`` of the finite double with bits ``b`` (0 for NaN/±inf)."""
    e = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
    if e == 0x7FF:
        return np.uint64(0), np.uint64(0)
    m = b & np.uint64(_M52)
    if e > 0:
        m |= np.uint64(1 << 52)
    if m == 0:
        return np.uint64(0), np.uint64(0)
    s = max(e, 1) - 1075 - scale
    if s >= 0:
        return _shl(np.uint64(0), m, s)
    return np.uint64(0), m >> np.uint64(-s)


@njit(cache=True)
def square_prefix(u, scale, words):
    """Prefix sums of ``(x / 2**scale)**2`` as ``words`` 64-bit words per row (little-endian), exact: the
    caller checks ``2·bits + bit_length(n) <= 64·words``."""
    n = len(u)
    out = np.zeros((n + 1, words), np.uint64)
    acc = np.zeros(words, np.uint64)
    a = np.zeros(4, np.uint64)
    r = np.zeros(8, np.uint64)
    m32 = np.uint64(_M32)
    for i in range(n):
        xh, xl = _magnitude(u[i], scale)
        if xh or xl:
            a[0] = xl & m32
            a[1] = xl >> np.uint64(32)
            a[2] = xh & m32
            a[3] = xh >> np.uint64(32)
            r[:] = 0
            for p in range(4):
                carry = np.uint64(0)
                for q in range(4):
                    t = r[p + q] + a[p] * a[q] + carry
                    r[p + q] = t & m32
                    carry = t >> np.uint64(32)
                r[p + 4] = carry
            carry = np.uint64(0)
            for w in range(words):
                x = r[2 * w] | (r[2 * w + 1] << np.uint64(32)) if w < 4 else np.uint64(0)
                s = acc[w] + x
                c1 = s < x
                s2 = s + carry
                c2 = s2 < s
                acc[w] = s2
                carry = np.uint64(1 if (c1 or c2) else 0)
        out[i + 1, :] = acc
    return out


@njit(cache=True)
def _top(a):
    """Number of used limbs of ``a`` (0 for zero)."""
    k = len(a)
    while k > 0 and a[k - 1] == 0:
        k -= 1
    return k


@njit(cache=True)
def _mul(a, b, out):
    """``out = a * b`` (32-bit limbs; ``out`` long enough)."""
    out[:] = 0
    la, lb = _top(a), _top(b)
    m32 = np.uint64(_M32)
    for p in range(la):
        carry = np.uint64(0)
        ap = a[p]
        for q in range(lb):
            t = out[p + q] + ap * b[q] + carry
            out[p + q] = t & m32
            carry = t >> np.uint64(32)
        k = p + lb
        while carry:
            t = out[k] + carry
            out[k] = t & m32
            carry = t >> np.uint64(32)
            k += 1


@njit(cache=True)
def _sub(a, b, out):
    """``out = a - b`` for ``a >= b`` (32-bit limbs)."""
    borrow = np.int64(0)
    for k in range(len(a)):
        t = np.int64(a[k]) - np.int64(b[k]) - borrow
        if t < 0:
            t += np.int64(1) << np.int64(32)
            borrow = 1
        else:
            borrow = 0
        out[k] = np.uint64(t)


@njit(cache=True)
def _bits(a):
    k = _top(a)
    if k == 0:
        return 0
    return 32 * (k - 1) + _bitlen64(a[k - 1])


@njit(cache=True)
def _shl_limbs(a, s, out):
    """``out = a << s`` (32-bit limbs, bits past ``out`` dropped)."""
    out[:] = 0
    w, b = s // 32, s % 32
    m32 = np.uint64(_M32)
    for k in range(_top(a)):
        if k + w < len(out):
            out[k + w] |= (a[k] << np.uint64(b)) & m32
        if b and k + w + 1 < len(out):
            out[k + w + 1] |= a[k] >> np.uint64(32 - b)


@njit(cache=True)
def _cmp_scaled(x, ex, y, ey, tmp):
    """The sign of ``x·2**ex - y·2**ey`` (nonnegative multiword ``x``, ``y``)."""
    bx, by = _bits(x), _bits(y)
    if bx == 0 or by == 0:
        return (bx > 0) - (by > 0)
    if bx + ex != by + ey:
        return 1 if bx + ex > by + ey else -1
    d = ex - ey  # same top bit: the shifted one has as many bits as the other (fits)
    if d >= 0:
        _shl_limbs(x, d, tmp)
        first, second = tmp, y
    else:
        _shl_limbs(y, -d, tmp)
        first, second = x, tmp
    for k in range(len(tmp) - 1, -1, -1):
        if first[k] != second[k]:
            return 1 if first[k] > second[k] else -1
    return 0


@njit(cache=True)
def _set_u64(out, v):
    out[:] = 0
    out[0] = v & np.uint64(_M32)
    out[1] = v >> np.uint64(32)


@njit(cache=True)
def _versus_midpoint(num, e2s, den, ybits, power, odd, prod, tmp):
    """The sign of ``V - mid`` where ``V = num·2**e2s / den`` (``power`` 1, a variance) or its square root
    (``power`` 2), and ``mid`` the midpoint between the positive normal double ``ybits`` and the next one up:
    ``num·2**e2s`` vs ``(2m + 1)**power · den · 2**(power·(q - 1))``."""
    e = np.int64(ybits >> np.uint64(52))
    m = (ybits & np.uint64(_M52)) | np.uint64(1 << 52)
    q = e - 1075
    _set_u64(odd, np.uint64(2) * m + np.uint64(1))
    if power == 2:
        _mul(odd, odd, tmp)
        odd[:] = tmp
    _mul(odd, den, prod)
    return _cmp_scaled(num, e2s, prod, power * (q - 1), tmp)


@njit(cache=True)
def _approx(num):
    """``(f, e)`` with ``num ≈ f·2**e`` and ``f`` in [1, 2), from its top three limbs (relative error < 2**-52)."""
    k = _top(num)
    acc = 0.0
    low = max(k - 3, 0)
    for j in range(k - 1, low - 1, -1):
        acc = acc * 4294967296.0 + float(num[j])
    f, e = math.frexp(acc)
    return f * 2.0, e - 1 + 32 * low


@njit(cache=True, nogil=True)
def _numerator(ph, pl_, sq, a, b, n, t, s, small, ns, t2, num):
    """``num = n·Σx² - (Σx)²`` (>= 0, exact, 32-bit limbs) of the window ``[a, b)``: ``Σx`` from the 128-bit
    prefix sums ``(ph, pl_)``, ``Σx²`` from the word prefix sums ``sq``; ``t, s, small, ns, t2`` are scratch."""
    m32 = np.uint64(_M32)
    l1, l0 = pl_[b], pl_[a]
    tl = l1 - l0
    th = ph[b] - ph[a] - np.uint64(1 if l1 < l0 else 0)
    if th >> np.uint64(63):
        th, tl = _neg(th, tl)
    t[:] = 0
    t[0] = tl & m32
    t[1] = tl >> np.uint64(32)
    t[2] = th & m32
    t[3] = th >> np.uint64(32)
    s[:] = 0
    borrow = np.uint64(0)
    for w in range(sq.shape[1]):
        x1, x0 = sq[b, w], sq[a, w]
        d = x1 - x0
        nb = np.uint64(1 if x1 < x0 else 0)
        d2 = d - borrow
        if d < borrow:
            nb = np.uint64(1)
        borrow = nb
        s[2 * w] = d2 & m32
        s[2 * w + 1] = d2 >> np.uint64(32)
    _set_u64(small, np.uint64(n))
    _mul(s, small, ns)
    _mul(t, t, t2)
    _sub(ns, t2, num)


@njit(cache=True)
def window_var(ph, pl_, sq, lo, hi, count, scale, ddof, power):
    """Per window: the correctly rounded exact variance (``power`` 1) or the correctly rounded square root of it
    (``power`` 2, the std) of the window's values, from the 128-bit prefix sums of ``x / 2**scale`` and the
    word prefix sums ``sq`` of their squares; ``count > ddof`` rows only (others 0). ``slow``: results outside
    [2**-1020, 2**1020] (subnormal or overflowing candidates), for the caller's Python integers."""
    m = len(lo)
    out = np.zeros(m, np.uint64)
    slow = np.zeros(m, np.bool_)
    t = np.zeros(_L, np.uint64)
    s = np.zeros(_L, np.uint64)
    ns = np.zeros(_L, np.uint64)
    t2 = np.zeros(_L, np.uint64)
    num = np.zeros(_L, np.uint64)
    den = np.zeros(_L, np.uint64)
    small = np.zeros(_L, np.uint64)
    odd = np.zeros(_L, np.uint64)
    prod = np.zeros(_L, np.uint64)
    tmp = np.zeros(_L, np.uint64)
    ybuf = np.zeros(1, np.float64)
    yview = ybuf.view(np.uint64)
    for i in range(m):
        n = count[i]
        if n <= ddof:
            continue
        _numerator(ph, pl_, sq, lo[i], hi[i], n, t, s, small, ns, t2, num)
        if _top(num) == 0:
            continue  # +0.0
        dd = np.uint64(n) * np.uint64(n - ddof)
        _set_u64(den, dd)
        nf, ne = _approx(num)
        df, de = _approx(den)
        if power == 1:
            f = nf / df
            ex = ne - de + 2 * scale
        else:
            ex2 = ne - de
            f = nf / df
            if ex2 % 2:
                f *= 2.0
                ex2 -= 1
            f = math.sqrt(f)
            ex = ex2 // 2 + scale
        if ex < -1020 or ex > 1020:
            slow[i] = True
            continue
        ybuf[0] = math.ldexp(f, ex)
        ybits = yview[0]
        while True:  # y is within a few ulps: step to the double whose rounding interval holds V
            c = _versus_midpoint(num, 2 * scale, den, ybits, power, odd, prod, tmp)
            if c > 0:
                ybits += np.uint64(1)
                continue
            if c == 0:  # a tie: to even
                if ybits & np.uint64(1):
                    ybits += np.uint64(1)
                break
            c = _versus_midpoint(num, 2 * scale, den, ybits - np.uint64(1), power, odd, prod, tmp)
            if c < 0:
                ybits -= np.uint64(1)
                continue
            if c == 0 and ybits & np.uint64(1):
                ybits -= np.uint64(1)
            break
        out[i] = ybits
    return out.view(np.float64), slow


@njit(cache=True)
def _mul64(a, b):
    """``a * b`` of two uint64 as ``(hi, lo)``."""
    m32 = np.uint64(_M32)
    a0, a1 = a & m32, a >> np.uint64(32)
    b0, b1 = b & m32, b >> np.uint64(32)
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> np.uint64(32)) + (p01 & m32) + (p10 & m32)
    lo = (p00 & m32) | (mid << np.uint64(32))
    hi = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))
    return hi, lo


@njit(cache=True)
def _quotient(num, shift, den, tmp):
    """``(hi, lo, sticky)``: ``floor(num·2**shift / den)`` (``den`` below 2**32, the quotient below 2**128) and
    whether it is inexact (dropped bits or a remainder)."""
    sticky = False
    if shift >= 0:
        _shl_limbs(num, shift, tmp)
    else:  # drop the low -shift bits into the sticky bit (floor(floor(a / 2**j) / d) = floor(a / (2**j·d)))
        s = -shift
        w, b = s // 32, s % 32
        for k in range(min(w, len(num))):
            if num[k]:
                sticky = True
        if b and w < len(num) and num[w] & np.uint64((1 << b) - 1):
            sticky = True
        tmp[:] = 0
        for k in range(w, len(num)):
            v = num[k] >> np.uint64(b)
            if b and k + 1 < len(num):
                v |= (num[k + 1] << np.uint64(32 - b)) & np.uint64(_M32)
            tmp[k - w] = v
    r = np.uint64(0)
    qh = np.uint64(0)
    ql = np.uint64(0)
    for k in range(_top(tmp) - 1, -1, -1):
        cur = (r << np.uint64(32)) | tmp[k]
        d = cur // den
        r = cur - d * den
        qh = (qh << np.uint64(32)) | (ql >> np.uint64(32))
        ql = (ql << np.uint64(32)) | d
    return qh, ql, sticky or r != 0


@njit(cache=True)
def _isqrt(hi, lo):
    """``(r, exact)``: ``r = floor(sqrt(W))`` of the 128-bit ``W = (hi, lo)`` and whether ``r*r == W``."""
    w = float(hi) * 18446744073709551616.0 + float(lo)
    r = np.uint64(math.sqrt(w))
    while True:  # the float estimate is within a few units: correct it exactly
        sh, sl = _mul64(r, r)
        if sh > hi or (sh == hi and sl > lo):
            r -= np.uint64(1)
            continue
        r1 = r + np.uint64(1)
        sh1, sl1 = _mul64(r1, r1)
        if sh1 < hi or (sh1 == hi and sl1 <= lo):
            r = r1
            continue
        return r, sh == hi and sl == lo


@njit(cache=True, nogil=True)
def window_var_div(ph, pl_, sq, lo, hi, count, scale, ddof, power):
    """As :func:`window_var`, by one long division (windows of fewer than 65,536 values: ``n(n - ddof)`` below
    2**32) and, for the std, an exact integer square root; other rows are left to :func:`window_var`
    (``todo``).

    variance = ``num·2**(2·scale) / den`` with ``num = n·Σx² - (Σx)²``, ``den = n(n - ddof)``: the quotient
    ``Q = floor(num·2**d / den)`` has >= 55 bits, the remainder (and any dropped bits) is the sticky bit, and
    :func:`_round` rounds ``Q·2**(2·scale - d)`` once. std: ``W = floor(num·2**(2a) / den)`` has >= 110 bits,
    ``R = floor(sqrt(W))`` is also ``floor`` of the exact root (``(R + 1)**2 >= W + 1``) and the root is exact
    iff ``R*R == W`` and the division was; ``R·2**(scale - a)`` rounded once."""
    m = len(lo)
    out = np.zeros(m, np.uint64)
    todo = np.zeros(m, np.bool_)
    t = np.zeros(_L, np.uint64)
    s = np.zeros(_L, np.uint64)
    ns = np.zeros(_L, np.uint64)
    t2 = np.zeros(_L, np.uint64)
    num = np.zeros(_L, np.uint64)
    small = np.zeros(_L, np.uint64)
    tmp = np.zeros(_L, np.uint64)
    for i in range(m):
        n = count[i]
        if n <= ddof:
            continue
        if n > 65536:
            todo[i] = True
            continue
        _numerator(ph, pl_, sq, lo[i], hi[i], n, t, s, small, ns, t2, num)
        nbits = _bits(num)
        if nbits == 0:
            continue  # +0.0
        den = np.uint64(n) * np.uint64(n - ddof)
        dbits = _bitlen64(den)
        if power == 1:
            shift = 56 + dbits - nbits
            qh, ql, st = _quotient(num, shift, den, tmp)
            v, ok = _round(qh, ql, st, 2 * scale - shift)
        else:
            half = (112 + dbits - nbits + 1) // 2  # W = floor(num·2**(2·half) / den) has >= 111 bits
            qh, ql, st = _quotient(num, 2 * half, den, tmp)
            r, exact_root = _isqrt(qh, ql)
            v, ok = _round(np.uint64(0), r, st or not exact_root, scale - half)
        if not ok:
            todo[i] = True
        out[i] = v
    return out.view(np.float64), todo


@njit(cache=True)
def small_extremes(keys, lo, hi, take, is_min, limit):
    """``min`` (or ``max``) of ``keys[lo:hi]`` for the rows ``take`` whose windows hold at most ``limit``
    values, by a loop (no ``rows x block`` matrix); ``big`` marks the longer ones, for the sparse table."""
    m = len(lo)
    out = np.zeros(m, np.int64)
    big = np.zeros(m, np.bool_)
    for i in range(m):
        if not take[i]:
            continue
        a, b = lo[i], hi[i]
        if b - a > limit:
            big[i] = True
            continue
        best = keys[a]
        for j in range(a + 1, b):
            k = keys[j]
            if (k < best) if is_min else (k > best):
                best = k
        out[i] = best
    return out, big
