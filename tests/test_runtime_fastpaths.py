"""The per-request runtime's fast paths give exactly what the general formulas give."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from skewless.runtime import convert

_US = dt.timedelta(microseconds=1)


def _reference_epoch_us(value: dt.datetime) -> int:
    if value.tzinfo is None:
        return (value - dt.datetime(1970, 1, 1)) // _US
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // _US


def _sample_datetimes(n: int) -> list[dt.datetime]:
    rng = random.Random(6)
    span = (dt.datetime.max - dt.datetime.min) // _US
    edges = [
        dt.datetime.min,
        dt.datetime.max,
        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999),
        dt.datetime(1970, 1, 1),
        dt.datetime(1970, 1, 1, 0, 0, 0, 1),
        dt.datetime(2099, 12, 31, 23, 59, 59, 999_999),
    ]
    return edges + [dt.datetime.min + dt.timedelta(microseconds=rng.randrange(span)) for _ in range(n)]


@pytest.mark.parametrize(
    "tz",
    [None, dt.timezone.utc, ZoneInfo("UTC"), ZoneInfo("America/New_York"), dt.timezone(dt.timedelta(hours=-3, minutes=-30))],
    ids=["naive", "timezone.utc", "ZoneInfo-UTC", "New_York", "fixed-offset"],
)
def test_datetime_to_epoch_matches_timedelta_division(tz):
    checked = 0
    for naive in _sample_datetimes(3000):
        value = naive.replace(tzinfo=tz)
        try:
            want = _reference_epoch_us(value)
        except OverflowError:  # a non-UTC offset pushes the extremes out of datetime's range
            continue
        assert convert.datetime_to_epoch_us(value) == want, value
        assert convert.datetime_to_epoch_ms(value) == want // 1000, value
        checked += 1
    assert checked > 3000


def test_datetime_to_epoch_same_instant_in_any_zone():
    instant = dt.datetime(2013, 3, 10, 7, 30, 0, 123_456, tzinfo=dt.timezone.utc)
    values = {convert.datetime_to_epoch_us(instant.astimezone(z))
              for z in (dt.timezone.utc, ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kathmandu"))}
    assert values == {1_362_900_600_123_456}


# --------------------------------------------------------------------------- ordinal day


def test_jan1_table_matches_days_from_civil():
    from skewless.runtime import temporal as rt

    table = rt.jan1_table()
    assert len(table) == rt.JAN1_LAST_YEAR - rt.JAN1_FIRST_YEAR + 1
    assert all(table[y] == rt.days_from_civil(y, 1, 1) for y in range(rt.JAN1_FIRST_YEAR, rt.JAN1_LAST_YEAR + 1))
    assert rt.JAN1_MIN_DAYS == rt.days_from_civil(rt.JAN1_FIRST_YEAR, 1, 1)
    assert rt.JAN1_MAX_DAYS == rt.days_from_civil(rt.JAN1_LAST_YEAR + 1, 1, 1) - 1


@pytest.mark.parametrize("zone", [None, "UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati"])
def test_generated_ordinal_day_matches_the_helper(zone):
    """Year boundaries (leap and not), and the extremes whose wall clock is in year 0 or 10000."""
    from skewless import Datetime, FeatureSet, Input, col
    from skewless.runtime import temporal as rt

    t = col("t") if zone is None else col("t").dt.convert_time_zone(zone)
    fs = FeatureSet("yday", {"t": Input(Datetime("us", "UTC"))}, {"yday": t.dt.ordinal_day()})
    assert "_ordinal_day(" not in fs.python_source().split(" else ")[0]
    utc = dt.timezone.utc
    instants = [dt.datetime.min.replace(tzinfo=utc), dt.datetime.max.replace(tzinfo=utc)]
    for year in (1, 4, 100, 1900, 1969, 1970, 2000, 2024, 2099, 2100, 9999):
        for month, day in ((1, 1), (2, 28), (12, 31)):
            for hour in (0, 12, 23):
                instants.append(dt.datetime(year, month, day, hour, tzinfo=utc))
    for instant in instants:
        us = convert.datetime_to_epoch_us(instant)
        local = rt.local_value(us, "us", zone)
        want = rt.ordinal_day(rt.civil(local // 86_400_000_000))
        assert fs.row_fn({"t": instant}) == {"yday": want}, instant


# --------------------------------------------------------------------------- String -> Int64


def _reference_str_to_int(value: str) -> int | None:
    """The rule before the fast path: regex, ASCII only, Int64 range."""
    import re

    if not re.fullmatch(r"[+-]?[0-9]+", value) or not value.isascii():
        return None
    out = int(value)
    return out if -(2**63) <= out <= 2**63 - 1 else None


def _int_strings() -> list[str]:
    rng = random.Random(3)
    out = ["", "+", "-", "0", "00", "-0", "+0", "007", "1_000", " 1", "1 ", "1\n", "0x10", "1e3", "1.0",
           "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
           "+9223372036854775807", "09223372036854775807", "99999999999999999", "999999999999999999",
           "9999999999999999999", "000000000000000000001",
           "\u0663", "1\u0663", "\u00b2", "1\u00b2", "\uff11", "\u09e7\u09e8", "\U0001d7ce"]
    for length in range(1, 26):
        for _ in range(40):
            digits = "".join(rng.choice("0123456789") for _ in range(length))
            out += [digits, "-" + digits, "+" + digits]
    return out


def test_str_to_int_fast_path_is_the_same_function():
    from skewless.runtime.casts import str_to_int

    for text in _int_strings():
        assert str_to_int(text) == _reference_str_to_int(text), text
        assert type(str_to_int(text)) is type(_reference_str_to_int(text)), text
