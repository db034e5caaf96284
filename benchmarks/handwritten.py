"""The flights features written by hand, twice: as a plain Python function and as polars expressions.

These are the peers a user would write without skewless. They compute the same
37 features as ``skewless.definitions.flights.flights`` and the benchmark
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


# --------------------------------------------------------------------------- the fitted demo set


def fitted_state(fitted, op: str, needle: str) -> dict:
    """The learned state of the one fitted node of kind ``op`` whose rendered expression contains ``needle``."""
    hits = [s for s in fitted.state.values() if s["op"] == op and needle in s["expr"]]
    if len(hits) != 1:
        raise LookupError(f"{len(hits)} {op} nodes match {needle!r}")
    return hits[0]


def make_hand_fitted_row(fitted):
    """The ``flights_fitted`` features for one request, by hand, with ``fitted``'s learned state.

    What a careful engineer would write after exporting the fitted numbers: the
    scalers as ``(x - center) * (1 / spread)`` (polars divides a column by a
    scalar through its reciprocal, and the batch features the model was trained
    on come from polars), ``bisect_right`` over the bucket edges, dict lookups
    for the vocabularies and encodings, and the one-hot columns as precomputed
    dicts merged into the output (same column order as the generated function).
    """
    from bisect import bisect_right
    from math import ceil, floor

    def st(op, needle):
        return fitted_state(fitted, op, needle)

    s = st("Standardize", "log1p")
    dl_mean, dl_inv = s["mean"], 1.0 / s["std"]
    s = st("Standardize", "round")
    sp_mean, sp_inv = s["mean"], 1.0 / s["std"]
    s = st("Standardize", "dt.hour")
    hr_mean, hr_inv = s["mean"], 1.0 / s["std"]
    s = st("RobustScale", "distance")
    rb_median, rb_inv = s["median"], 1.0 / (s["q_high_value"] - s["q_low_value"])
    s = st("MinMaxScale", "air_time")
    at_min, at_inv = s["min"], 1.0 / (s["max"] - s["min"])
    delay_fill = float(st("Impute", "dep_delay")["value"])
    s = st("Winsorize", "dep_delay")
    w_lo, w_hi = floor(s["lower_value"]), ceil(s["upper_value"])  # Int64 input: integer bounds
    hour_edges = st("QuantileBucketize", "sched_dep_time")["edges"]
    minute_edges = st("UniformBucketize", "sched_dep_time")["edges"]
    distance_edges = st("QuantileBucketize", "col('distance')")["edges"]

    def one_hot(name, vocab):
        cols = [f"{name}__{v}" for v in vocab] + [f"{name}__other", f"{name}__null"]
        rows = [{c: int(i == j) for j, c in enumerate(cols)} for i in range(len(cols))]
        return {v: rows[i] for i, v in enumerate(vocab)}, rows[-2], rows[-1]

    carrier_oh, carrier_other, carrier_null = one_hot("carrier_oh", st("OneHot", "carrier")["vocabulary"])
    origin_oh, origin_other, _ = one_hot("origin_oh", st("OneHot", "origin")["vocabulary"])
    band_oh, band_other, _ = one_hot("dep_delay_band_oh", st("OneHot", "when")["vocabulary"])
    dest_vocab = st("OrdinalEncode", "dest")["vocabulary"]
    dest_code = {v: i for i, v in enumerate(dest_vocab)}
    dest_unknown = len(dest_vocab)
    s = st("FrequencyEncode", "col('dest')")
    dest_freq = {k: c / s["rows"] for k, c in zip(s["keys"], s["counts"])}
    s = st("FrequencyEncode", "col('tailnum')")
    tail_freq = {k: c / s["rows"] for k, c in zip(s["keys"], s["counts"])}
    tail_freq_null = s["null_count"] / s["rows"]

    def target(needle, m):
        s = st("TargetEncode", needle)
        prior = s["label_sum"] / s["labelled_rows"]
        enc = {k: (sm + m * prior) / (n + m) for k, n, sm in zip(s["keys"], s["counts"], s["sums"])}
        null = (s["null_sum"] + m * prior) / (s["null_count"] + m) if s["null_count"] else prior
        return enc, prior, null

    route_te, route_prior, _ = target("concat_str", 20.0)
    carrier_te, carrier_prior, _ = target("col('carrier'), smoothing", 20.0)
    tail_te, tail_prior, tail_null = target("tailnum", 50.0)

    def hand_fitted_row(row):
        distance = row["distance"]
        air_time = row["air_time"]
        delay = row["dep_delay"]
        carrier = row["carrier"]
        origin = row["origin"]
        dest = row["dest"]
        tailnum = row["tailnum"]
        sched_dep = row["sched_dep_time"]
        hour = row["time_hour"].astimezone(_NY).hour
        sched_hour = sched_dep // 100
        if air_time is None:
            speed_std = air_scaled = None
        else:
            speed = round(distance / (air_time * (1 / 60)) * 10.0) / 10.0
            speed_std = (speed - sp_mean) * sp_inv
            air_scaled = (air_time - at_min) * at_inv
        if delay is None:
            imputed, winsorized, band = delay_fill, None, "missing"
        else:
            imputed = float(delay)
            winsorized = w_lo if delay < w_lo else (w_hi if delay > w_hi else delay)
            band = "early" if delay <= 0 else "minor" if delay <= 15 else "major" if delay <= 60 else "severe"
        out = {
            "distance_log_std": (_log1p(distance) - dl_mean) * dl_inv,
            "distance_robust": (distance - rb_median) * rb_inv,
            "air_time_scaled": air_scaled,
            "speed_std": speed_std,
            "local_hour_std": (hour - hr_mean) * hr_inv,
            "dep_delay_imputed": imputed,
            "dep_delay_winsorized": winsorized,
            "sched_hour_bin": bisect_right(hour_edges, sched_hour),
            "sched_minute_bin": bisect_right(minute_edges, sched_hour * 60 + sched_dep % 100),
            "distance_bin": bisect_right(distance_edges, distance),
        }
        out.update(carrier_oh.get(carrier, carrier_other) if carrier is not None else carrier_null)
        out.update(origin_oh.get(origin, origin_other))
        out.update(band_oh.get(band, band_other))
        route = origin + "-" + dest
        out["dest_code"] = dest_code.get(dest, dest_unknown)
        out["dest_freq"] = dest_freq.get(dest, 0.0)
        out["tailnum_freq"] = tail_freq_null if tailnum is None else tail_freq.get(tailnum, 0.0)
        out["route"] = route
        out["route_te"] = route_te.get(route, route_prior)
        out["carrier_te"] = carrier_te.get(carrier, carrier_prior)
        out["tail_te"] = tail_null if tailnum is None else tail_te.get(tailnum, tail_prior)
        return out

    return hand_fitted_row
