"""Conversions between Python values and the generated code's internal representation.

Internally ``Datetime`` is an int count of its unit since 1970-01-01T00:00 UTC
(wall-clock time for zone-less datetimes), ``Date`` an int count of days and
``Duration`` an int count of its unit — the physical representation polars
uses, which makes arithmetic and comparisons exact and DST-proof.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any
from zoneinfo import ZoneInfo

from .tz import get_zone

_UTC = _dt.timezone.utc
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
# Polars hands out ``ZoneInfo("UTC")`` (the cached instance) for UTC columns.
_ZONEINFO_UTC = ZoneInfo("UTC")
_EPOCH_ZONEINFO_UTC = _dt.datetime(1970, 1, 1, tzinfo=_ZONEINFO_UTC)
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_US = _dt.timedelta(microseconds=1)
_MS = _dt.timedelta(milliseconds=1)
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


def datetime_to_epoch_us(value: _dt.datetime) -> int:
    """Aware datetimes are instants (any zone); naive ones are wall-clock times."""
    tz = value.tzinfo
    # Fast paths (this runs on every request): when both sides share one tzinfo object,
    # CPython subtracts the wall clocks without calling utcoffset(), which is exact for
    # UTC (and for naive values); the total is then read off the normalised timedelta
    # (days, 0 <= seconds < 86400, 0 <= microseconds < 10**6) instead of ``// _US``.
    if tz is _ZONEINFO_UTC:
        d = value - _EPOCH_ZONEINFO_UTC
    elif tz is _UTC:
        d = value - _EPOCH_UTC
    elif tz is None:
        d = value - _EPOCH_NAIVE
    else:
        return (value - _EPOCH_UTC) // _US
    return (d.days * 86400 + d.seconds) * 1000000 + d.microseconds


def datetime_to_epoch_ms(value: _dt.datetime) -> int:
    # polars truncates sub-unit precision toward negative infinity when casting to "ms".
    return datetime_to_epoch_us(value) // 1000


def epoch_to_datetime(value: int, unit: str, tz: str | None) -> _dt.datetime:
    delta = _dt.timedelta(microseconds=value) if unit == "us" else _dt.timedelta(milliseconds=value)
    if tz is None:
        try:
            return _EPOCH_NAIVE + delta
        except OverflowError:
            from ..errors import InvalidOperationError

            raise InvalidOperationError(
                f"the datetime {value} {unit} after 1970-01-01 is outside what a Python datetime can hold"
                " (years 1..9999); polars holds it: read it through dt.epoch() or keep results in range"
            ) from None
    try:
        return (_EPOCH_UTC + delta).astimezone(get_zone(tz))
    except OverflowError:
        from ..errors import InvalidOperationError

        raise InvalidOperationError(
            f"the instant {value} {unit} after the epoch has no wall clock in {tz} that a Python"
            " datetime can hold (years 1..9999); keep zoned values between 0001-01-02 and 9999-12-30 UTC"
        ) from None


def date_to_days(value: _dt.date) -> int:
    if isinstance(value, _dt.datetime):
        raise TypeError(f"expected a date, got a datetime: {value!r}")
    return value.toordinal() - _EPOCH_ORDINAL


def days_to_date(value: int) -> _dt.date:
    try:
        return _dt.date.fromordinal(value + _EPOCH_ORDINAL)
    except (OverflowError, ValueError):
        from ..errors import InvalidOperationError

        raise InvalidOperationError(
            f"the date {value} days after 1970-01-01 is outside what a Python date can hold (years 1..9999);"
            " polars holds it: read it through dt.epoch('d') or keep results in range"
        ) from None


def timedelta_to_us(value: _dt.timedelta) -> int:
    return value // _US


def timedelta_to_ms(value: _dt.timedelta) -> int:
    return value // _MS


def int_to_timedelta(value: int, unit: str) -> _dt.timedelta:
    try:
        return _dt.timedelta(microseconds=value) if unit == "us" else _dt.timedelta(milliseconds=value)
    except OverflowError:
        from ..errors import InvalidOperationError

        raise InvalidOperationError(
            f"the duration of {value} {unit} is longer than a Python timedelta can hold (+-999999999 days);"
            " polars holds it: read it through dt.total_milliseconds() or keep results in range"
        ) from None


def literal_to_internal(value: Any, dtype: Any) -> Any:
    """A literal's value in the internal representation of ``dtype``."""
    name = type(dtype).__name__
    if value is None:
        return None
    if name == "Datetime":
        us = datetime_to_epoch_us(value)
        return us if dtype.time_unit == "us" else us // 1000
    if name == "Date":
        return date_to_days(value)
    if name == "Duration":
        return timedelta_to_us(value) if dtype.time_unit == "us" else timedelta_to_ms(value)
    if name == "Float64" and type(value) is int:
        return float(value)
    return value
