"""Event times as integers and window starts (pure Python; the batch side calls the same function).

Times are microseconds since the Unix epoch: UTC instants for a zoned column, wall-clock microseconds for a
naive one (as polars stores ``Datetime("us")``).
"""

from __future__ import annotations

import datetime as _dt
import functools

from skewless.runtime.tz import get_zone

_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_DAY_US = 86_400_000_000


def to_micros(value: _dt.datetime, zone: str | None) -> int:
    """``value`` (aware for a zoned column, naive otherwise) as microseconds; ``ValueError`` naming the rule."""
    if type(value) is not _dt.datetime:
        raise ValueError(f"expected a datetime, got {type(value).__name__} {value!r}")
    if zone is None:
        if value.tzinfo is not None:
            raise ValueError(f"expected a naive datetime (the column has no time zone), got {value!r}")
        delta = value - _EPOCH_NAIVE
    else:
        if value.tzinfo is None:
            raise ValueError(f"expected an aware datetime (the column's zone is {zone}), got naive {value!r}")
        delta = value - _EPOCH_UTC
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@functools.lru_cache(maxsize=65_536)
def _calendar_back(t_us: int, days: int, zone: str) -> int:
    tz = get_zone(zone)
    local = (_EPOCH_UTC + _dt.timedelta(microseconds=t_us)).astimezone(tz)
    # Wall-clock arithmetic: the same local time `days` earlier. fold=0: an ambiguous wall time (DST end) is
    # its first occurrence; a missing one (DST start) takes the offset before the gap (moved forward).
    wall = local.replace(tzinfo=None) - _dt.timedelta(days=days)
    back = wall.replace(tzinfo=tz, fold=0)
    delta = back - _EPOCH_UTC
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def window_start(t_us: int, days: int, micros: int, zone: str | None) -> int:
    """The start ``s`` of a window ending at ``t_us``: ``days`` calendar days earlier, then ``micros`` earlier."""
    if days:
        if zone is None or zone == "UTC":
            t_us -= days * _DAY_US
        else:
            t_us = _calendar_back(t_us, days, zone)
    return t_us - micros


_SAMPLE_US = 3_600_000_000  # offsets sampled hourly: a transition between two samples is then bisected
_MAX_SAMPLES = 500_000  # ~57 years; wider ranges use window_start per time


def _offset_us(tz, t_us: int) -> int:
    off = (_EPOCH_UTC + _dt.timedelta(microseconds=t_us)).astimezone(tz).utcoffset()
    return (off.days * 86_400 + off.seconds) * 1_000_000 + off.microseconds


def transitions(zone: str, start_us: int, end_us: int) -> tuple[int, list[tuple[int, int, int]]] | None:
    """The UTC offset at ``start_us`` and every offset change in ``(start_us, end_us]`` of ``zone``, as
    ``(instant, offset before, offset after)`` in µs — read from the same zone data as :func:`window_start`
    (the offset is sampled hourly, a change bisected to the µs). None when the range is too long to sample.
    """
    if (end_us - start_us) // _SAMPLE_US > _MAX_SAMPLES:
        return None
    tz = get_zone(zone)
    first = prev = _offset_us(tz, start_us)
    out = []
    t = start_us
    while t < end_us:
        nxt = min(t + _SAMPLE_US, end_us)
        off = _offset_us(tz, nxt)
        if off != prev:
            lo, hi = t, nxt  # offset(lo) == prev != offset(hi): the change is at some instant in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_us(tz, mid) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, prev, off))
            prev = off
        t = nxt
    return first, out
