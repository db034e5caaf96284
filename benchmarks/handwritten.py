"""The flights features written by hand, twice: as a plain Python function and as polars expressions.

These are the peers a user would write without skewless. They compute the same
37 features as ``features.definitions.flights.flights`` and the benchmark
scripts assert identical output on sample rows before timing anything.

They are written the way a careful engineer who knows the data would write
them: no Int64 overflow handling (the values are small), no NaN/inf handling
(the inputs are integers), ``zoneinfo`` for the local time. Where polars has a
non-obvious rule that matters on this data it is mirrored (and commented),
otherwise the outputs would differ and the comparison would be meaningless.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from xxhash import xxh64_intdigest

__all__ = ["hand_flights_row", "hand_flights_exprs", "FLIGHTS_INPUTS"]

FLIGHTS_INPUTS = [
    "month", "day", "dep_time", "sched_dep_time", "dep_delay", "sched_arr_time", "carrier", "flight", "tailnum",
    "origin", "dest", "air_time", "distance", "time_hour",
]

_NY = ZoneInfo("America/New_York")
_LEGACY = frozenset(["AA", "DL", "UA", "US"])
_LOW_COST = frozenset(["B6", "WN", "F9", "FL", "VX"])
_TAIL = re.compile(r"N(\d+)")
_log1p = __import__("math").log1p


def hand_flights_row(row):
    """The flights feature set for one request, by hand."""
    sched_dep = row["sched_dep_time"]
    sched_arr = row["sched_arr_time"]
    dep_time = row["dep_time"]
    delay = row["dep_delay"]
    air_time = row["air_time"]
    distance = row["distance"]
    carrier = row["carrier"]
    origin = row["origin"]
    dest = row["dest"]
    tailnum = row["tailnum"]

    local = row["time_hour"].astimezone(_NY)
    hour = local.hour
    weekday = local.isoweekday()
    year, week, _ = local.isocalendar()
    day_of_year = local.timetuple().tm_yday

    sched_dep_hour = sched_dep // 100
    sched_dep_min = sched_dep_hour * 60 + sched_dep % 100
    sched_arr_min = sched_arr // 100 * 60 + sched_arr % 100
    dep_min = None if dep_time is None else (dep_time // 100 * 60 + dep_time % 100) % 1440

    if delay is None:
        clipped = log = None
        filled = 0
        late = False
        band = "missing"
    else:
        clipped = -30 if delay < -30 else (300 if delay > 300 else delay)
        log = _log1p(delay if delay > 0 else 0)
        filled = delay
        late = delay > 15
        band = "early" if delay <= 0 else "minor" if delay <= 15 else "major" if delay <= 60 else "severe"

    if air_time is None:
        speed = None
    else:
        # polars divides by a scalar through its reciprocal: x / 60 is x * (1 / 60) on a column.
        speed = round(distance / (air_time * (1 / 60)) * 10.0) / 10.0
    route = origin + "-" + dest
    if tailnum is None:
        tail_number = None
        tail_suffix = ""
    else:
        m = _TAIL.match(tailnum)
        tail_number = int(m.group(1)) if m else None
        tail_suffix = tailnum[-2:]
    days_to_christmas = 359 - day_of_year
    return {
        "sched_dep_hour": sched_dep_hour,
        "sched_dep_minute_of_day": sched_dep_min,
        "dep_minute_of_day": dep_min,
        "local_hour": hour,
        "local_weekday": weekday,
        "is_weekend": weekday >= 6,
        "local_month": local.month,
        "local_quarter": (local.month + 2) // 3,
        "day_of_year": day_of_year,
        "iso_week": week,
        "is_red_eye": hour >= 22 or hour < 5,
        "hour_clock_mismatch": sched_dep_hour != hour,
        "sched_block_minutes": (sched_arr_min - sched_dep_min) % 1440,
        "days_to_christmas": -7 if days_to_christmas < -7 else (60 if days_to_christmas > 60 else days_to_christmas),
        "dep_delay_missing": delay is None,
        "dep_delay_filled": filled,
        "dep_delay_clipped": clipped,
        "dep_delay_log": log,
        "departed_late": late,
        "dep_delay_band": band,
        "distance_log": _log1p(distance),
        "distance_band": "short" if distance < 500 else ("medium" if distance < 1500 else "long"),
        "air_time_missing": air_time is None,
        "speed_mph": speed,
        "route": route,
        "route_bucket": xxh64_intdigest(route.encode()) % 1024,
        "dest_bucket": xxh64_intdigest(dest.encode()) % 128,
        "long_haul_from_jfk": origin == "JFK" and distance >= 2000,
        "carrier_code": carrier.lower(),
        "is_legacy_carrier": carrier in _LEGACY,
        "is_low_cost_carrier": carrier in _LOW_COST,
        "from_lga": origin == "LGA",
        "from_ewr": origin == "EWR",
        "tailnum_missing": tailnum is None,
        "tail_number": tail_number,
        "tail_suffix": tail_suffix,
        "flight_number_band": row["flight"] // 1000,
    }


def hand_flights_exprs():
    """The flights feature set as polars expressions, written by hand (imports polars and polars_hash)."""
    import polars as pl
    import polars_hash  # noqa: F401  (registers the .nchash namespace)

    c = pl.col
    local = c("time_hour").dt.convert_time_zone("America/New_York")
    sched_dep_min = c("sched_dep_time") // 100 * 60 + c("sched_dep_time") % 100
    sched_arr_min = c("sched_arr_time") // 100 * 60 + c("sched_arr_time") % 100
    hour = local.dt.hour().cast(pl.Int64)
    weekday = local.dt.weekday().cast(pl.Int64)
    day_of_year = local.dt.ordinal_day().cast(pl.Int64)
    delay = c("dep_delay")
    route = pl.concat_str(c("origin"), c("dest"), separator="-")
    return [
        (c("sched_dep_time") // 100).alias("sched_dep_hour"),
        sched_dep_min.alias("sched_dep_minute_of_day"),
        ((c("dep_time") // 100 * 60 + c("dep_time") % 100) % 1440).alias("dep_minute_of_day"),
        hour.alias("local_hour"),
        weekday.alias("local_weekday"),
        (weekday >= 6).alias("is_weekend"),
        local.dt.month().cast(pl.Int64).alias("local_month"),
        local.dt.quarter().cast(pl.Int64).alias("local_quarter"),
        day_of_year.alias("day_of_year"),
        local.dt.week().cast(pl.Int64).alias("iso_week"),
        ((hour >= 22) | (hour < 5)).alias("is_red_eye"),
        (c("sched_dep_time") // 100 != hour).alias("hour_clock_mismatch"),
        ((sched_arr_min - sched_dep_min) % 1440).alias("sched_block_minutes"),
        (359 - day_of_year).clip(-7, 60).alias("days_to_christmas"),
        delay.is_null().alias("dep_delay_missing"),
        delay.fill_null(0).alias("dep_delay_filled"),
        delay.clip(-30, 300).alias("dep_delay_clipped"),
        delay.clip(0).cast(pl.Float64).log1p().alias("dep_delay_log"),
        (delay > 15).fill_null(False).alias("departed_late"),
        pl.when(delay.is_null()).then(pl.lit("missing"))
        .when(delay <= 0).then(pl.lit("early"))
        .when(delay <= 15).then(pl.lit("minor"))
        .when(delay <= 60).then(pl.lit("major"))
        .otherwise(pl.lit("severe")).alias("dep_delay_band"),
        c("distance").cast(pl.Float64).log1p().alias("distance_log"),
        pl.when(c("distance") < 500).then(pl.lit("short")).when(c("distance") < 1500).then(pl.lit("medium"))
        .otherwise(pl.lit("long")).alias("distance_band"),
        c("air_time").is_null().alias("air_time_missing"),
        (c("distance") / (c("air_time") / 60)).round(1).alias("speed_mph"),
        route.alias("route"),
        (route.nchash.xxhash64() % 1024).cast(pl.Int64).alias("route_bucket"),
        (c("dest").nchash.xxhash64() % 128).cast(pl.Int64).alias("dest_bucket"),
        ((c("origin") == "JFK") & (c("distance") >= 2000)).alias("long_haul_from_jfk"),
        c("carrier").str.to_lowercase().alias("carrier_code"),
        c("carrier").is_in(["AA", "DL", "UA", "US"]).alias("is_legacy_carrier"),
        c("carrier").is_in(["B6", "WN", "F9", "FL", "VX"]).alias("is_low_cost_carrier"),
        (c("origin") == "LGA").alias("from_lga"),
        (c("origin") == "EWR").alias("from_ewr"),
        c("tailnum").is_null().alias("tailnum_missing"),
        c("tailnum").str.extract(r"^N(\d+)", 1).cast(pl.Int64, strict=False).alias("tail_number"),
        c("tailnum").str.tail(2).fill_null("").alias("tail_suffix"),
        (c("flight") // 1000).alias("flight_number_band"),
    ]
