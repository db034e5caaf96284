"""The fuzzer's input schema (every dtype, nullable and not) and its random rows and scalars."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from skewless import Input
from skewless.dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, Null, String
from skewless.ir.base import DATETIME_MAX, DATETIME_MIN
from skewless.runtime.tz import get_zone

from ..edges import STRINGS, edge_values

#: Every dtype skewless supports, with zones that have DST, a 30-minute shift and none.
DTYPES: dict[str, DataType] = {
    "i": Int64(), "f": Float64(), "b": Boolean(), "s": String(), "d": Date(),
    "t": Datetime("us", None), "tu": Datetime("us", "UTC"), "tz": Datetime("us", "America/New_York"),
    "tl": Datetime("ms", "Australia/Lord_Howe"), "du": Duration("us"), "dm": Duration("ms"),
}

#: ``{column: Input}``: each dtype twice, ``x`` not nullable and ``x_n`` nullable.
SCHEMA: dict[str, Input] = {
    **{name: Input(dtype, nullable=False) for name, dtype in DTYPES.items()},
    **{f"{name}_n": Input(dtype, nullable=True) for name, dtype in DTYPES.items()},
}

ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns",
         "Pacific/Chatham", "EST", "Etc/GMT+5"]
# (Africa/Casablanca is left out: polars' compiled-in database and tzdata disagree on its future rules,
# which check_parity reports as a time-zone-database difference, not as a value mismatch.)

_ALPHABET = list("aAbzZ09 -_.,:/()[]*+?$^\\|{}İıΣσςßẞ\u212a\u0301\u00a0\t\n🙂東")


def _in_domain(value: Any) -> bool:
    """Datetimes between 0001-01-02 and 9999-12-30 UTC: the per-request runtime (Python's datetime)
    cannot hold a wall clock outside years 1..9999, which the first and last day reach in some zones
    (a documented limit: see skewless.ir.base.DATETIME_MIN)."""
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
        return DATETIME_MIN <= utc <= DATETIME_MAX
    return True


def random_value(dtype: DataType, rng: random.Random) -> Any:
    """One non-null value of ``dtype``: an edge value half the time, else a random one."""
    if rng.random() < 0.5:
        return rng.choice([v for v in edge_values(dtype, nullable=False) if _in_domain(v)])
    if isinstance(dtype, Float64):
        pick = rng.randrange(5)
        if pick == 0:
            return round(rng.uniform(-100, 100), rng.randrange(4))
        if pick == 1:
            return float(rng.randint(-12, 12))
        if pick == 2:
            return rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 20)
        if pick == 3:
            return rng.choice([0.1, 0.2, 0.3, 0.7, 1.34e-6, 60.0, 1e15, 2.0**63, -(2.0**63), 4.5, 1 / 3])
        return rng.gauss(0, 3)
    if isinstance(dtype, Int64):
        pick = rng.randrange(3)
        if pick == 0:
            return rng.randint(-100, 100)
        if pick == 1:
            return rng.randint(-(2**63), 2**63 - 1)
        return rng.choice([2**62, -(2**62), 2**32, 86_400_000_000, 1_000, 60, 24, 9223372036854775806])
    if isinstance(dtype, Boolean):
        return rng.random() < 0.5
    if isinstance(dtype, String):
        if rng.random() < 0.3:
            return rng.choice(STRINGS) + rng.choice(STRINGS)
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(9)))
    if isinstance(dtype, Datetime):
        naive = dt.datetime(1900, 1, 1) + dt.timedelta(microseconds=rng.randrange(200 * 365 * 86_400 * 10**6))
        if dtype.time_unit == "ms":
            naive = naive.replace(microsecond=naive.microsecond // 1000 * 1000)
        if dtype.time_zone is None:
            return naive
        return naive.replace(tzinfo=dt.timezone.utc).astimezone(get_zone(dtype.time_zone))
    if isinstance(dtype, Date):
        return dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(200 * 365))
    if isinstance(dtype, Duration):
        us = rng.choice([rng.randint(-10**6, 10**6), rng.randint(-20_000 * 86_400 * 10**6, 20_000 * 86_400 * 10**6)])
        if dtype.time_unit == "ms":
            us = us // 1000 * 1000
        return dt.timedelta(microseconds=us)
    raise TypeError(f"no random values for {dtype!r}")


def random_rows(rng: random.Random, n: int, columns: dict[str, Input] = SCHEMA) -> list[dict[str, Any]]:
    """``n`` rows over ``columns``; nullable columns are null about one time in five."""
    rows = []
    for _ in range(n):
        row = {}
        for name, spec in columns.items():
            dtype = spec.field().dtype
            row[name] = None if spec.nullable and rng.random() < 0.2 else random_value(dtype, rng)
        rows.append(row)
    return rows


def random_scalar(rng: random.Random, dtype: DataType | None = None) -> Any:
    """A Python scalar for a literal: any dtype's value, ``None``, or an aware datetime in any zone and year."""
    if dtype is None:
        if rng.random() < 0.08:
            return None
        dtype = rng.choice(list(DTYPES.values()))
    if isinstance(dtype, Null):
        return None
    value = random_value(dtype, rng)
    if isinstance(dtype, Datetime) and dtype.time_zone is not None and rng.random() < 0.5:
        # Aware literals in other zones, also after 2099 and near the ends of the range.
        year = rng.choice([1, 2, 1850, 1970, 2013, 2038, 2099, 2100, 2150, 2400, 9999])
        try:
            moved = value.astimezone(get_zone(rng.choice(ZONES))).replace(year=year)
            value = moved if _in_domain(moved) else value
        except (OverflowError, ValueError):
            pass
    return value
