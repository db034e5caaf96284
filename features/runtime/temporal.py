"""Per-request helpers for the ``.dt`` ops: wall-clock offsets and calendar fields.

Internal values are ints (see :mod:`skewless.runtime.convert`): a ``Datetime``
is a count of its unit since the epoch (the UTC instant when it has a zone),
a ``Date`` a count of days. Field accessors work on the *local* count, the
instant plus the zone's UTC offset at that instant, with integer arithmetic.

Offsets come from :func:`zone_table`: the zone's transitions as two sorted
tuples, so that the generated code looks the offset up with one C-level
``bisect`` call. The transitions are those of the pinned ``tzdata`` package
(the explicit ones in the TZif file, then the ones its POSIX rule implies,
found with :mod:`zoneinfo` itself) — and they stop before 2100, because
polars' compiled database (chrono-tz) has no transition from 2100 on: it keeps
the offset in force at the end of 2099 forever (America/New_York stays on
EST, Australia/Lord_Howe on +11). Python's zoneinfo applies DST rules forever,
so reading zoneinfo directly would disagree with the batch runtime for every
summer after 2099; :func:`zone_table` copies polars instead.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.resources
import struct

from .tz import get_zone

__all__ = [
    "CUTOFF_SECONDS",
    "EPOCH_ORDINAL",
    "UNITS_PER_SECOND",
    "zone_table",
    "local_value",
    "civil",
    "ProlepticDate",
    "trunc_div",
]

#: 2100-01-01T00:00:00Z: polars (chrono-tz) knows no transition at or after this instant.
CUTOFF_SECONDS = 4_102_444_800
#: ``date(1970, 1, 1).toordinal()``: add to a day count to get a proleptic ordinal.
EPOCH_ORDINAL = 719_163
MIN_DAYS = 1 - EPOCH_ORDINAL  # date(1, 1, 1)
MAX_DAYS = 3_652_059 - EPOCH_ORDINAL  # date(9999, 12, 31)
UNITS_PER_SECOND = {"ms": 1_000, "us": 1_000_000}

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_SECOND = _dt.timedelta(seconds=1)
_DAY = 86_400
# Earliest instant every zone can shift without leaving Python's datetime range.
_FIRST_PROBE = -62_135_510_400  # 0001-01-02T00:00:00Z


# --------------------------------------------------------------------------- zone tables


def _tzif_transitions(key: str) -> tuple[list[int], bytes]:
    """Explicit transition instants (UTC seconds) of ``key``'s TZif file in the tzdata package,
    and its footer (the POSIX TZ rule in force after the last transition; empty in version 1)."""
    data = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes()
    if data[:4] != b"TZif":
        raise ValueError(f"{key!r} is not a TZif file")

    def counts(offset: int) -> tuple[int, ...]:
        return struct.unpack(">6l", data[offset + 20 : offset + 44])

    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts(0)
    if data[4:5] == b"\x00":  # version 1: 32-bit data only
        return list(struct.unpack(f">{timecnt}l", data[44 : 44 + 4 * timecnt])), b""
    # Version 2+: skip the 32-bit block, read the 64-bit one.
    second = 44 + timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts(second)
    start = second + 44
    times = list(struct.unpack(f">{timecnt}q", data[start : start + 8 * timecnt]))
    end = start + timecnt * 9 + typecnt * 6 + charcnt + leapcnt * 12 + isstdcnt + isutcnt
    return times, data[end:].strip()


def _offset_at(zone: _dt.tzinfo, seconds: int) -> int:
    """UTC offset (seconds) of ``zone`` at the UTC instant ``seconds``, as zoneinfo computes it."""
    delta = (_EPOCH + _dt.timedelta(seconds=seconds)).astimezone(zone).utcoffset()
    out, rest = divmod(delta, _SECOND)
    if rest:
        raise ValueError(f"zone {zone!r} has a sub-second UTC offset {delta!r}")
    return out


def _rule_transitions(zone: _dt.tzinfo, start: int, stop: int) -> list[int]:
    """Transitions in ``[start, stop)`` found by probing weekly, then bisecting to the second.

    Only used after a zone's last explicit transition, where a POSIX rule holds:
    at most two transitions a year, months apart.
    """
    out: list[int] = []
    t, off = start, _offset_at(zone, start)
    while t < stop:
        nxt = min(t + 7 * _DAY, stop)
        noff = _offset_at(zone, nxt) if nxt < stop else _offset_at(zone, stop - 1)
        if noff != off:
            lo, hi = t, nxt if nxt < stop else stop - 1  # offset(lo) == off != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_at(zone, mid) == off:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            t, off = hi, _offset_at(zone, hi)
            continue
        t = nxt
    return out


@functools.cache
def _table_seconds(key: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(starts, offsets)`` in seconds: ``offsets[i]`` holds from ``starts[i - 1]`` to ``starts[i]``."""
    zone = get_zone(key)
    if key == "UTC":
        return (), (0,)
    times, footer = _tzif_transitions(key)
    explicit = [t for t in times if _FIRST_PROBE < t < CUTOFF_SECONDS]
    # After its last explicit transition a zone follows its POSIX rule (the TZif footer),
    # which zoneinfo evaluates: when that rule has DST (a ","), probe it up to the cutoff.
    implied: list[int] = []
    if b"," in footer or not footer:
        probe_from = times[-1] + 1 if times else -2_208_988_800  # 1900-01-01 when the file has none
        if probe_from < CUTOFF_SECONDS:
            implied = _rule_transitions(zone, probe_from, CUTOFF_SECONDS)
    starts: list[int] = []
    offsets = [_offset_at(zone, _FIRST_PROBE)]
    for t in explicit + implied:
        off = _offset_at(zone, t)
        if off != offsets[-1]:  # transitions that only rename the zone or flip isdst are no-ops here
            starts.append(t)
            offsets.append(off)
    return tuple(starts), tuple(offsets)


@functools.cache
def zone_table(key: str, unit: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Transitions of ``key`` in ``unit`` (``"us"`` or ``"ms"``) for ``bisect_right`` lookups.

    ``offsets[bisect_right(starts, v)]`` is the UTC offset, in ``unit``, at the
    instant ``v``; ``len(offsets) == len(starts) + 1``. No transition is listed
    at or after 2100-01-01 (see the module docstring).
    """
    scale = UNITS_PER_SECOND[unit]
    starts, offsets = _table_seconds(key)
    return tuple(t * scale for t in starts), tuple(o * scale for o in offsets)


def local_value(value: int, unit: str, key: str | None) -> int:
    """Wall-clock count of ``unit`` since 1970-01-01T00:00 for the instant ``value`` in zone ``key``.

    Reference implementation (the generated code inlines the same lookup).
    """
    if key is None or key == "UTC":
        return value
    from bisect import bisect_right

    starts, offsets = zone_table(key, unit)
    return value + offsets[bisect_right(starts, value)]


# --------------------------------------------------------------------------- calendar


class ProlepticDate:
    """A ``datetime.date`` look-alike for years 0 and 10000.

    Polars' calendar is proleptic Gregorian without bounds: a UTC instant on
    0001-01-01 read in America/New_York is 0000-12-31 there. Python's ``date``
    stops at years 1 and 9999, so wall-clock dates just outside that range use
    this class (same attributes and methods the generated code uses).
    """

    __slots__ = ("year", "month", "day", "_days")

    def __init__(self, days: int):
        # Howard Hinnant's civil_from_days, days since 1970-01-01.
        z = days + 719_468
        era = z // 146_097
        doe = z - era * 146_097
        yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        self.day = doy - (153 * mp + 2) // 5 + 1
        self.month = mp + 3 if mp < 10 else mp - 9
        self.year = yoe + era * 400 + (self.month <= 2)
        self._days = days

    def toordinal(self) -> int:
        return self._days + EPOCH_ORDINAL

    def isoweekday(self) -> int:
        return (self._days + 3) % 7 + 1

    def isocalendar(self) -> tuple[int, int, int]:
        weekday = self.isoweekday()
        ordinal = self._days - days_from_civil(self.year, 1, 1) + 1
        week = (ordinal - weekday + 10) // 7
        if week < 1:
            return (self.year - 1, _iso_weeks(self.year - 1), weekday)
        if week > _iso_weeks(self.year):
            return (self.year + 1, 1, weekday)
        return (self.year, week, weekday)

    def isoformat(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def __repr__(self) -> str:
        return f"ProlepticDate({self.isoformat()})"


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _iso_weeks(year: int) -> int:
    def p(y: int) -> int:
        return (y + y // 4 - y // 100 + y // 400) % 7

    return 53 if p(year) == 4 or p(year - 1) == 3 else 52


_fromordinal = _dt.date.fromordinal


def civil(days: int) -> _dt.date | ProlepticDate:
    """The calendar date ``days`` after 1970-01-01 (a :class:`ProlepticDate` outside years 1-9999)."""
    if MIN_DAYS <= days <= MAX_DAYS:
        return _fromordinal(days + EPOCH_ORDINAL)
    return ProlepticDate(days)


#: Years covered by :func:`jan1_table`.
JAN1_FIRST_YEAR, JAN1_LAST_YEAR = 0, 10_000


@functools.cache
def jan1_table() -> tuple[int, ...]:
    """``table[y]`` is the day count (since 1970-01-01) of January 1st of year ``y``, for years 0-10000.

    The generated code reads the day of the year as ``days - table[year] + 1`` (one
    subscript instead of two helper calls); :data:`JAN1_MIN_DAYS`..:data:`JAN1_MAX_DAYS`
    are the day counts whose year the table covers.
    """
    # Days before January 1st of year y+1 since 0001-01-01 is 365*y + y//4 - y//100 + y//400
    # (floor division keeps it right for y < 0); 1970-01-01 is day 719162 of that count.
    out = []
    for year in range(JAN1_FIRST_YEAR, JAN1_LAST_YEAR + 1):
        y = year - 1
        out.append(365 * y + y // 4 - y // 100 + y // 400 - 719_162)
    return tuple(out)


JAN1_MIN_DAYS = -719_528  # 0000-01-01
JAN1_MAX_DAYS = 2_933_262  # 10000-12-31


def ordinal_day(d: _dt.date | ProlepticDate) -> int:
    """Day of the year, 1-366."""
    return d.toordinal() - days_from_civil(d.year, 1, 1) - EPOCH_ORDINAL + 1


# --------------------------------------------------------------------------- durations


def trunc_div(value: int, divisor: int) -> int:
    """Integer division rounding toward zero (polars' ``total_*``), ``divisor > 0``."""
    return value // divisor if value >= 0 else -(-value // divisor)
