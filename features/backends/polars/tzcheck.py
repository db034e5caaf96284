"""Check that polars' time-zone database agrees with the per-request one.

Polars converts instants with the IANA database compiled into chrono-tz (its
vintage is fixed by the polars release); the per-request runtime reads the
pinned ``tzdata`` package (:mod:`skewless.runtime.tz`,
:func:`skewless.runtime.temporal.zone_table`). Whenever the two vintages
differ on a rule, field accessors silently differ between training and
serving. :func:`compare_with_polars` finds such differences for given zones.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_right
from typing import Iterable

from ...errors import SchemaError
from ...runtime.temporal import _table_seconds, zone_table
from ...runtime.tz import check_zone, tzdata_version
from .lazy import pl

__all__ = ["compare_with_polars", "sample_instants"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_US = 1_000_000


def _year_start(year: int) -> int:
    return int((_dt.datetime(year, 1, 1, tzinfo=_dt.timezone.utc) - _EPOCH).total_seconds())


def sample_instants(zone: str, years: range) -> list[int]:
    """UTC instants (seconds) to compare: every hour of ``years``, plus every 15 minutes
    within an hour and the seconds either side of each of ``zone``'s tzdata transitions."""
    lo, hi = _year_start(years.start), _year_start(years.stop)
    out = set(range(lo, hi, 3600))
    starts, _ = _table_seconds(zone)
    for t in starts:
        if lo - 86_400 <= t < hi + 86_400:
            out.update(t + d for d in range(-3600, 3601, 900))
            out.update((t - 1, t + 1))
    return sorted(out)


def _fmt_offset(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"UTC{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _fmt_instant(seconds: int) -> str:
    return (_EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def compare_with_polars(zones: Iterable[str], years: range = range(1970, 2040)) -> list[str]:
    """Differences between polars' and the per-request UTC offsets of ``zones`` over ``years``.

    Returns one line per zone that one side does not know and per run of
    consecutive sampled instants on which the offsets differ; an empty list
    means the two databases agree on every sampled instant.

    Examples
    --------
    >>> compare_with_polars(["Asia/Kathmandu"], range(2000, 2002))
    []
    """
    out: list[str] = []
    version = tzdata_version()
    for zone in zones:
        try:
            check_zone(zone)
        except SchemaError:
            out.append(f"{zone}: unknown to tzdata {version}")
            continue
        seconds = sample_instants(zone, years)
        values = [s * _US for s in seconds]
        try:
            local = (
                pl.Series(values, dtype=pl.Int64)
                .cast(pl.Datetime("us", "UTC"))
                .dt.convert_time_zone(zone)
                .dt.replace_time_zone(None)
                .to_physical()
                .to_list()
            )
        except Exception as exc:  # polars refuses zones it does not know
            out.append(f"{zone}: polars cannot convert to it ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        starts, offsets = zone_table(zone, "us")
        ours = [offsets[bisect_right(starts, v)] for v in values]
        theirs = [lv - v for lv, v in zip(local, values)]
        bad = [i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b]
        # One line per run of consecutive differing samples with the same pair of offsets.
        i = 0
        while i < len(bad):
            j = i
            key = (theirs[bad[i]], ours[bad[i]])
            while j + 1 < len(bad) and bad[j + 1] == bad[j] + 1 and (theirs[bad[j + 1]], ours[bad[j + 1]]) == key:
                j += 1
            out.append(
                f"{zone}: {_fmt_instant(seconds[bad[i]])} .. {_fmt_instant(seconds[bad[j]])} ({j - i + 1} sampled"
                f" instants): polars {_fmt_offset(key[0] // _US)}, tzdata {version} {_fmt_offset(key[1] // _US)}"
            )
            i = j + 1
    return out
