"""Polars rule: ``dt`` fields of a zoned column are read off its wall clock, identically to polars' own."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from features import Datetime, FeatureSet, Input, col

FIELDS = ("year", "month", "day", "hour", "minute", "second", "millisecond", "microsecond", "weekday",
          "ordinal_day", "week", "quarter")
ZONES = ["America/New_York", "Europe/London", "Europe/Dublin", "Australia/Lord_Howe", "Asia/Kathmandu",
         "Pacific/Chatham", "America/St_Johns", "Africa/Casablanca", "Antarctica/Troll", "Etc/GMT+12",
         "Pacific/Kiritimati", "America/Santiago"]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _instants_us() -> list[int]:
    rng = random.Random(8)
    lo = (dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(microseconds=1)
    hi = (dt.datetime(9999, 12, 30, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(microseconds=1)
    out = [lo, hi, -1, 0, 1] + [rng.randrange(lo, hi) for _ in range(3000)]
    for year in (1883, 1918, 1969, 2021, 2099, 2100, 2150):  # every ~3.5 hours through DST-era years
        start = (dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(microseconds=1)
        out += [start + k * 12_600_000_000 + rng.randrange(12_600_000_000) for k in range(2500)]
    return out


@pytest.mark.parametrize("unit", ["us", "ms"])
def test_fields_of_zoned_columns_match_polars_accessors(unit):
    values = _instants_us()
    frame = pl.DataFrame({"t": pl.Series(values, dtype=pl.Int64)})
    if unit == "ms":
        frame = frame.with_columns(pl.col("t") // 1000)
    frame = frame.with_columns(pl.col("t").cast(pl.Datetime(unit, "UTC")))
    for zone in ZONES:
        local = col("t").dt.convert_time_zone(zone)
        fs = FeatureSet("wall", {"t": Input(Datetime(unit, "UTC"))}, {f: getattr(local.dt, f)() for f in FIELDS})
        assert "replace_time_zone" in str(fs.polars_exprs()["hour"])
        got = fs.transform(frame).collect()
        aware = pl.col("t").dt.convert_time_zone(zone)
        want = frame.select([getattr(aware.dt, f)().cast(pl.Int64).alias(f) for f in FIELDS])
        assert got.equals(want), zone


def test_utc_and_naive_columns_are_read_directly():
    fs = FeatureSet("direct", {"u": Input(Datetime("us", "UTC")), "n": Input(Datetime("us"))},
                    {"uh": col("u").dt.hour(), "nh": col("n").dt.hour()})
    assert all("replace_time_zone" not in str(e) for e in fs.polars_exprs().values())
