"""Per-request ``dt.truncate`` and ``dt.offset_by``: polars' window arithmetic (polars-time ``Duration``), copied.

Values are the internal ints (a ``Datetime`` count of its unit since the epoch, the UTC instant for a
zoned value; a ``Date`` a day count). A zoned value (any zone but UTC) is worked on its wall clock and
put back into the zone as polars does:

* ``truncate``: the wall clock is truncated (sub-daily and daily spans from 1970-01-01T00:00 local,
  weeks from Monday 1969-12-29, months from 1970-01), then localised; a wall clock the zone's clocks repeated
  takes the original value's side of the fold (its earliest or latest reading), one they skipped ...
  (see :func:`localize_truncated`);
* ``offset_by``: months (day clamped to the month's end, 2024-01-31 + 1mo = 2024-02-29), weeks and
  days move the wall clock and are localised strictly (a repeated or skipped wall clock raises, as
  polars does); the sub-daily part is then added to the instant.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right

from ..errors import InvalidOperationError
from .temporal import ProlepticDate, days_from_civil, zone_table

__all__ = ["parse_every", "truncate_value", "offset_value", "EveryError"]

_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DAYS_PER_MONTH = ((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))
_TOKEN = re.compile(r"(\d+)(ns|us|ms|mo|s|m|h|d|w|q|y)")


class EveryError(ValueError):
    """A duration string skewless refuses (the message says why)."""


def parse_every(text: str, *, what: str) -> tuple[int, int, int, int, bool]:
    """polars' duration language (``"1h30m"``, ``"-1mo"``, ``"2w"``) -> ``(months, weeks, days, nanoseconds, negative)``."""
    if not isinstance(text, str) or not text:
        raise EveryError(f"{what} must be a duration string such as '1h', '15m', '1d', '1w', '1mo', '1y', got {text!r}")
    body = text
    negative = body.startswith("-")
    if negative:
        body = body[1:]
    pos = 0
    months = weeks = days = nanos = 0
    for m in _TOKEN.finditer(body):
        if m.start() != pos:
            break
        pos = m.end()
        n, unit = int(m.group(1)), m.group(2)
        if unit == "mo":
            months += n
        elif unit == "q":
            months += 3 * n
        elif unit == "y":
            months += 12 * n
        elif unit == "w":
            weeks += n
        elif unit == "d":
            days += n
        else:
            nanos += n * _NS[unit]
    if pos != len(body) or not body:
        raise EveryError(f"{what} {text!r} is not a duration string (ns, us, ms, s, m, h, d, w, mo, q, y; e.g. '1h30m';"
                         " polars' 'i' index counts are not supported)")
    return months, weeks, days, nanos, negative


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _offsets(zone: str, unit: str):
    return zone_table(zone, unit)


def _local(t: int, starts, offsets) -> int:
    return t + offsets[bisect_right(starts, t)]


def _candidates(local: int, starts, offsets) -> list[int]:
    """The instants whose wall clock is ``local`` (0, 1 or 2 of them, earliest first)."""
    out = []
    # an instant t with t + offset(t) == local; offsets differ by under a day, so look near local - offset
    for off in sorted(set(offsets)):
        t = local - off
        if _local(t, starts, offsets) == local and t not in out:
            out.append(t)
    return sorted(out)


def localize(local: int, zone: str, unit: str, *, original: int | None = None) -> int:
    """The instant of the wall clock ``local`` in ``zone``.

    ``original`` (an instant): polars 2.1's rule for ``truncate`` results (measured): a wall clock the
    zone's clocks repeat takes the original value's UTC offset when it is one of the two (else the
    earliest); one they skip takes the offset in force just before the gap. Without ``original``, a
    repeated or skipped wall clock raises, as polars' ``offset_by`` does.
    """
    starts, offsets = _offsets(zone, unit)
    found = _candidates(local, starts, offsets)
    if len(found) == 1:
        return found[0]
    if original is not None:
        if found:
            if any(lo <= local < hi for lo, hi in standard_gaps(zone, unit)):
                return found[0]  # a fold between two standard offsets: polars takes the earliest reading
            own = offsets[bisect_right(starts, original)]
            same = [t for t in found if local - t == own]
            return same[0] if same else found[0]
        # skipped: polars raises in a gap between two standard offsets, else takes the offset before the gap
        for lo, hi in standard_gaps(zone, unit):
            if lo <= local < hi:
                raise InvalidOperationError(
                    f"the truncated wall clock does not exist in time zone {zone!r} (its standard offset changed"
                    " there; polars raises too)")
        # a daylight-saving gap: polars reads the wall clock at the zone's standard offset (the offset
        # before the gap, except in a gap between two daylight offsets: London's double summer time 1941)
        for lo, hi, std in _gap_standard(zone, unit):
            if lo <= local < hi:
                return local - std
        for off in sorted(set(offsets), reverse=True):  # a gap implied by the zone's POSIX rule: std -> dst
            t = local - off
            before = offsets[bisect_right(starts, t)]
            if before != off:
                return local - before
        return local - offsets[bisect_right(starts, local - offsets[0])]
    kind = "ambiguous (the zone's clocks repeat it)" if found else "non-existent (the zone's clocks skip it)"
    raise InvalidOperationError(f"datetime is {kind} in time zone {zone!r} (polars raises too)")


_PER_DAY = {"us": 86_400_000_000, "ms": 86_400_000}


def _truncate_local(local: int, every: tuple, per_day: int) -> int:
    months, weeks, days, nanos, _ = every
    if months:
        # polars' truncate_monthly, step by step: months counted from 1970-01 (measured: "13mo" keeps 1970-01), the
        # remainder turned into days by walking back year by year (with its leap-day rule) and then month by
        # month -- exact for spans up to a year; for longer ones ("13mo") this is what polars computes.
        midnight = local - local % per_day
        d = ProlepticDate(local // per_day)
        year, month = d.year, d.month
        remainder = ((year - 1970) * 12 + month - 1) % months
        is_leap = _leap(year)
        back = d.day - 1
        while remainder > 12:
            prev_leap = _leap(year - 1)
            back += 365 + ((is_leap and month > 2) or (prev_leap and month <= 2))
            remainder -= 12
            year -= 1
            is_leap = prev_leap
        while remainder > 0:
            month -= 1
            if month == 0:
                year -= 1
                is_leap = _leap(year)
                month = 12
            back += _DAYS_PER_MONTH[is_leap][month - 1]
            remainder -= 1
        return midnight - back * per_day
    if weeks:  # from Monday 1969-12-29 (1970-01-01 was a Thursday)
        span = 7 * weeks * per_day
        return local - (local - 4 * per_day) % span
    span = days * per_day if days else nanos * per_day // 86_400_000_000_000  # (never both: refused)
    return local - local % span


def truncate_value(value: int, every: tuple, unit: str, zone: str | None) -> int:
    """``dt.truncate(every)`` of a ``Datetime`` count (``unit``; None for a Date day count, worked on as ms)."""
    if unit is None:  # a Date: its midnight in milliseconds, truncated, back to days -- dividing toward zero,
        # as polars' truncate does (1969-12-31 by "7h" stays 1969-12-31; offset_by floors instead)
        ms = _truncate_local(value * 86_400_000, every, 86_400_000)
        return ms // 86_400_000 if ms >= 0 else -(-ms // 86_400_000)
    per_day = _PER_DAY[unit]
    if zone is None or zone == "UTC":
        return _truncate_local(value, every, per_day)
    starts, offsets = _offsets(zone, unit)
    local = _local(value, starts, offsets)
    return localize(_truncate_local(local, every, per_day), zone, unit, original=value)


def _add_months(local: int, months: int, per_day: int) -> int:
    day_count, rest = divmod(local, per_day)
    d = ProlepticDate(day_count)
    total = d.year * 12 + d.month - 1 + months
    y, m = divmod(total, 12)
    day = min(d.day, _DAYS_PER_MONTH[_leap(y)][m])  # clamped to the month's end, as polars
    return days_from_civil(y, m + 1, day) * per_day + rest


def offset_value(value: int, by: tuple, unit: str | None, zone: str | None) -> int:
    """``dt.offset_by(by)``: calendar months, then weeks and days on the wall clock, then the fixed part."""
    months, weeks, days, nanos, negative = by
    sign = -1 if negative else 1
    if unit is None:  # a Date: as a midnight in milliseconds, floored back to days
        return offset_value(value * 86_400_000, by, "ms", None) // 86_400_000
    per_day = _PER_DAY[unit]
    zoned = zone is not None and zone != "UTC"
    t = value
    if months or weeks or days:
        starts, offsets = _offsets(zone, unit) if zoned else ((), (0,))
        local = _local(t, starts, offsets) if zoned else t
        if months:
            local = _add_months(local, sign * months, per_day)
        local += sign * (7 * weeks + days) * per_day
        t = localize(local, zone, unit) if zoned else local
    return t + sign * (nanos // (1_000 if unit == "us" else 1_000_000))


@functools.cache
def _tzif(zone: str) -> tuple[tuple[int, int, int, int, int, int], ...]:
    """The explicit transitions of ``zone``'s TZif file (tzdata package) as
    ``(instant_s, offset_before, offset_after, isdst_before, isdst_after, standard_after)``, where
    ``standard_after`` is the offset of the latest non-daylight type in force after it."""
    import importlib.resources
    import struct

    if zone == "UTC":
        return ()
    data = importlib.resources.files("tzdata.zoneinfo").joinpath(*zone.split("/")).read_bytes()

    def counts(offset: int) -> tuple[int, ...]:
        return struct.unpack(">6l", data[offset + 20: offset + 44])

    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts(0)
    if data[4:5] == b"\x00":
        return ()
    second = 44 + timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts(second)
    start = second + 44
    times = struct.unpack(f">{timecnt}q", data[start: start + 8 * timecnt])
    idx = data[start + 8 * timecnt: start + 9 * timecnt]
    tt = start + 9 * timecnt
    types = [struct.unpack(">lBB", data[tt + 6 * i: tt + 6 * i + 6])[:2] for i in range(typecnt)]
    out = []
    prev = types[0]
    standard = prev[0] if prev[1] == 0 else 0
    for t, k in zip(times, idx):
        cur = types[k]
        if cur[1] == 0:
            standard = cur[0]
        out.append((t, prev[0], cur[0], prev[1], cur[1], standard))
        prev = cur
    return tuple(out)


@functools.cache
def standard_gaps(zone: str, unit: str) -> tuple[tuple[int, int], ...]:
    """Wall-clock ranges ``[start, end)`` (in ``unit``) skipped or repeated by a change between two *standard*
    offsets (isdst 0 on both sides in the zone's TZif file: Lord Howe 1981-03-01, Chatham 1946-01-01,
    Kathmandu 1986-01-01, St John's 1935-03-30 skip; London 1971-10-31 repeats). A truncated wall clock in
    such a skip makes polars 2.1 raise, in such a repeat it takes the earliest reading (measured); in the
    gaps and folds of daylight-saving changes it follows :func:`localize`."""
    scale = 1_000_000 if unit == "us" else 1_000
    out = []
    for t, before, after, dst_before, dst_after, _ in _tzif(zone):
        if before != after and dst_before == 0 and dst_after == 0:
            lo, hi = sorted((t + before, t + after))
            out.append((lo * scale, hi * scale))
    return tuple(out)


@functools.cache
def _gap_standard(zone: str, unit: str) -> tuple[tuple[int, int, int], ...]:
    """``(start, end, standard offset)`` of the wall-clock gaps of daylight-saving changes (in ``unit``)."""
    scale = 1_000_000 if unit == "us" else 1_000
    return tuple(((t + before) * scale, (t + after) * scale, std * scale)
                 for t, before, after, dst_before, dst_after, std in _tzif(zone)
                 if after > before and (dst_before or dst_after))


def check_every(text: str, *, method: str, dtype, unit: str | None) -> tuple[int, int, int, int, bool]:
    """Parse and check ``every`` (truncate) or ``by`` (offset_by) for a dtype: raises :class:`EveryError`
    naming what skewless refuses (and why)."""
    what = "every" if method == "truncate" else "by"
    parsed = parse_every(text, what=f"dt.{method}({what})")
    months, weeks, days, nanos, negative = parsed
    if nanos:
        per = 1_000 if unit in ("us", None) else 1_000_000
        if unit is None:
            per = 1_000_000  # a Date is worked on as milliseconds
        if nanos % per:
            raise EveryError(f"dt.{method}({text!r}): the sub-daily part is not a whole number of"
                             f" {'milliseconds' if per == 1_000_000 else 'microseconds'}, the resolution of"
                             f" {dtype!r} (polars would drop the rest silently)")
    if method == "truncate":
        if negative or not (months or weeks or days or nanos):
            raise EveryError(f"dt.truncate({text!r}): every must be a positive duration (polars refuses it)")
        if sum(bool(x) for x in (months, weeks, days, nanos)) > 1:
            raise EveryError(f"dt.truncate({text!r}) mixes months, weeks, days and sub-daily units; polars refuses"
                             " most mixes (give one kind, e.g. '36h' instead of '1d12h')")
    else:
        zone = getattr(dtype, "time_zone", None)
        if (months or weeks or days) and zone not in (None, "UTC"):
            raise EveryError(
                f"dt.offset_by({text!r}) on {dtype!r}: calendar offsets (d, w, mo, q, y) of a zoned value move its"
                " wall clock, and polars 2.1 resolves wall clocks skipped or repeated by the zone in ways skewless"
                " does not copy (it raises for some historical offset changes); convert to UTC or use a fixed"
                " offset ('24h')"
            )
    return parsed
