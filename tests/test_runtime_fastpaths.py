"""The per-request runtime's fast paths give exactly what the general formulas give."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from features.runtime import convert

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
