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
