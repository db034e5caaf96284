"""Parity cases: temporal (``.dt`` field accessors, epoch, date, convert_time_zone, durations,
datetime literals and ``Datetime - Datetime`` across DST)."""

from __future__ import annotations

import datetime as dt

from skewless import Date, Datetime, Duration, Input, Int64, String, col, lit
from skewless.runtime.temporal import CUTOFF_SECONDS, _table_seconds
from skewless.runtime.tz import get_zone

from . import case

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

#: Zones of the cases (also checked against polars' database in tests/test_tz_database.py):
#: DST in both hemispheres, a 30-minute DST shift (Lord_Howe) and odd offsets
#: (+05:45, +12:45/+13:45, -03:30/-02:30).
ZONES = (
    "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham",
    "America/St_Johns",
)


def _instant(seconds: int, micros: int = 0) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=seconds, microseconds=micros)


def transition_instants(zone: str, years=(1900, 1969, 1970, 2013, 2024, 2037, 2038, 2099)) -> list[dt.datetime]:
    """UTC instants around ``zone``'s transitions in ``years``: the second before, at and after,
    one microsecond before, and half an hour either side."""
    starts, _ = _table_seconds(zone)
    out = []
    for t in starts:
        if _instant(t).year not in years:
            continue
        for delta_s, delta_us in ((-1, 0), (0, 0), (1, 0), (0, -1), (-1800, 0), (1800, 0)):
            out.append(_instant(t + delta_s, delta_us))
    return out


# Beyond 2099 polars keeps the last offset of 2099 (no more DST), Python's zoneinfo does not:
# summer and winter instants of 2100-2101 and 2500, at DST-sensitive hours.
_FUTURE = [_instant(CUTOFF_SECONDS + d * 86_400 + h * 3600) for d in (0, 72, 100, 180, 280, 300, 460, 3650 * 40) for h in (1, 7, 14)]
# Local-mean-time era (offsets with seconds, e.g. -4:56:02 in New York), year ends in odd zones.
_PAST = [dt.datetime(1850, 7, 1, 12, 0, 1, tzinfo=UTC), dt.datetime(1883, 11, 18, 16, 59, 59, tzinfo=UTC),
         dt.datetime(1901, 12, 31, 18, 14, 59, 999999, tzinfo=UTC), dt.datetime(1919, 12, 31, 18, 18, 44, tzinfo=UTC)]
_YEAR_ENDS = [dt.datetime(y, 12, 31, h, m, tzinfo=UTC) for y in (1999, 2020, 2026) for h, m in ((10, 59), (11, 15), (18, 14), (18, 15))]


def _rows(name: str, zone: str | None, instants: list[dt.datetime], unit: str = "us") -> list[dict]:
    tz = get_zone(zone) if zone else None
    out = []
    for d in instants:
        if unit == "ms":
            d = d.replace(microsecond=d.microsecond // 1000 * 1000)
        try:
            value = d.astimezone(tz) if tz else d.replace(tzinfo=None)
        except OverflowError:
            continue
        out.append({name: value})
    return out


def _fields(x):
    d = x.dt
    return {
        "year": d.year(), "month": d.month(), "day": d.day(), "hour": d.hour(), "minute": d.minute(),
        "second": d.second(), "millisecond": d.millisecond(), "microsecond": d.microsecond(), "weekday": d.weekday(),
        "ordinal_day": d.ordinal_day(), "week": d.week(), "quarter": d.quarter(), "epoch_s": d.epoch("s"),
        "epoch_ms": d.epoch("ms"), "epoch_us": d.epoch("us"), "epoch_d": d.epoch("d"), "epoch_default": d.epoch(),
        "date": d.date(),
    }


# Every field accessor on every zone (and naive), microseconds and milliseconds.
for zone in (None, *ZONES):
    extra = transition_instants(zone) if zone not in (None, "UTC") else []
    instants = extra + _FUTURE + _PAST + _YEAR_ENDS
    for unit in ("us", "ms"):
        tag = (zone or "naive").split("/")[-1].lower()
        case(
            f"temporal.fields_{tag}_{unit}",
            {"ts": Datetime(unit, zone)},
            _fields(col("ts")),
            rows=_rows("ts", zone, instants, unit),
        )

# Calendar fields and epoch of a Date.
case(
    "temporal.date_fields",
    {"d": Date},
    {
        "year": col("d").dt.year(), "month": col("d").dt.month(), "day": col("d").dt.day(),
        "weekday": col("d").dt.weekday(), "ordinal_day": col("d").dt.ordinal_day(), "week": col("d").dt.week(),
        "quarter": col("d").dt.quarter(), "epoch_s": col("d").dt.epoch("s"), "epoch_ms": col("d").dt.epoch("ms"),
        "epoch_us": col("d").dt.epoch("us"), "epoch_d": col("d").dt.epoch("d"), "date": col("d").dt.date(),
    },
    rows=[{"d": dt.date(y, m, dd)} for y in (1900, 1904, 2000, 2004, 2015, 2016, 2026, 2027, 2100)
          for m, dd in ((1, 1), (1, 3), (1, 4), (2, 28), (2, 29), (3, 1), (6, 30), (12, 28), (12, 29), (12, 31))
          if not (m == 2 and dd == 29 and (y % 4 or (y % 100 == 0 and y % 400)))],
)

# convert_time_zone: field accessors after conversion, from UTC (year 1 becomes year 0 in
# New York; 9999-12-31 becomes year 10000 in Kathmandu: polars' calendar has no bounds).
_conv = {}
for zone in ZONES[1:]:
    tag = zone.split("/")[-1].lower()
    c = col("ts").dt.convert_time_zone(zone)
    _conv.update({f"{tag}_hour": c.dt.hour(), f"{tag}_minute": c.dt.minute(), f"{tag}_year": c.dt.year(),
                  f"{tag}_day": c.dt.day(), f"{tag}_ordinal": c.dt.ordinal_day(), f"{tag}_week": c.dt.week(),
                  f"{tag}_weekday": c.dt.weekday(), f"{tag}_epoch": c.dt.epoch("ms")})
_conv_rows = _rows("ts", "UTC", [t for z in ZONES[1:] for t in transition_instants(z, (2024,))] + _FUTURE + _PAST)
case("temporal.convert_from_utc", {"ts": Datetime("us", "UTC")}, _conv, rows=_conv_rows)
case("temporal.convert_from_naive", {"ts": Datetime("ms")},
     {"ny_hour": col("ts").dt.convert_time_zone("America/New_York").dt.hour(),
      "chatham_day": col("ts").dt.convert_time_zone("Pacific/Chatham").dt.day()})

# convert_time_zone as an output (Datetime values in the new zone), rows kept inside years 1-9999.
_safe = [t for t in [*_conv_rows, *_rows("ts", "UTC", transition_instants("America/St_Johns"))]]
case(
    "temporal.convert_output",
    {"ts": Datetime("us", "America/New_York")},
    {"to_utc": col("ts").dt.convert_time_zone("UTC"), "to_kathmandu": col("ts").dt.convert_time_zone("Asia/Kathmandu"),
     "to_chatham_date": col("ts").dt.convert_time_zone("Pacific/Chatham").dt.date(),
     "chain": col("ts").dt.convert_time_zone("Europe/London").dt.convert_time_zone("America/St_Johns")},
    edges=False,
    rows=[{"ts": r["ts"].astimezone(get_zone("America/New_York"))} for r in _safe if r["ts"] is not None
          and 1900 <= r["ts"].year <= 2500] + [{"ts": None}],
)

# Durations: Datetime - Datetime across DST (instants: 23- and 25-hour days in New York,
# a 30-minute shift on Lord Howe; naive: wall-clock differences), every total_* unit,
# truncation toward zero for negative spans, fractional floats.
def _totals(x, prefix: str) -> dict:
    out = {}
    for name in ("days", "hours", "minutes", "seconds", "milliseconds", "microseconds"):
        method = getattr(x.dt, f"total_{name}")
        out[f"{prefix}{name}"] = method()
        out[f"{prefix}{name}_f"] = method(fractional=True)
    return out


for zone, unit in (("America/New_York", "us"), ("Australia/Lord_Howe", "ms"), (None, "us"), ("Pacific/Chatham", "us")):
    tag = (zone or "naive").split("/")[-1].lower()
    diff = col("a") - col("b")
    instants = (transition_instants(zone, (2013, 2024)) if zone else []) + _FUTURE[:6] + _PAST[:2]
    rows = []
    for i, x in enumerate(instants):
        for y in (instants[(i + 1) % len(instants)], instants[(i + 7) % len(instants)], x):
            rows += [{**ra, **rb} for ra, rb in zip(_rows("a", zone, [x], unit), _rows("b", zone, [y], unit))]
    case(
        f"temporal.duration_{tag}_{unit}",
        {"a": Datetime(unit, zone), "b": Datetime(unit, zone)},
        {"diff": diff, **_totals(diff, "")},
        rows=rows,
        edge_limit=400,
    )

_DURATIONS = [dt.timedelta(microseconds=v) for v in (1, -1, 999_999, -1_500_000, 1_500_000, -86_400_000_001, 123456789123,
                                                       -123456789123, 59_999_999, -3_599_999_999)]
_DURATIONS += [dt.timedelta(days=999_999_999, hours=23, microseconds=999_999), -dt.timedelta(days=999_999_999)]
for unit in ("us", "ms"):
    case(f"temporal.duration_input_{unit}", {"d": Duration(unit)}, _totals(col("d"), ""),
         rows=[{"d": v if unit == "us" else v // dt.timedelta(milliseconds=1) * dt.timedelta(milliseconds=1)}
               for v in _DURATIONS])

# Comparisons with datetime literals (same instant written in another zone, pre-1970,
# sub-millisecond literals on a millisecond column) and differences with literals.
_NY = get_zone("America/New_York")
case(
    "temporal.literals",
    {"ts": Datetime("us", "America/New_York"), "naive": Datetime("us"), "ms": Datetime("ms", "UTC")},
    {
        "after_dst": col("ts") >= dt.datetime(2013, 3, 10, 3, 0, tzinfo=_NY),
        "before_fallback": col("ts") < dt.datetime(2013, 11, 3, 1, 30, fold=1, tzinfo=_NY),
        "eq": col("ts") == dt.datetime(2013, 3, 10, 6, 59, 59, tzinfo=UTC).astimezone(_NY),
        "naive_lt": col("naive") < dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
        "naive_ge_epoch": col("naive") >= dt.datetime(1970, 1, 1),
        "ms_gt": col("ms") > lit(dt.datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=UTC), dtype=Datetime("ms", "UTC")),
        "ms_le": col("ms") <= lit(dt.datetime(2024, 3, 31, 1, 0, 0, 999, tzinfo=UTC), dtype=Datetime("ms", "UTC")),
        "since": (col("ts") - lit(dt.datetime(2013, 1, 1, tzinfo=_NY))).dt.total_hours(),
        "naive_since": (col("naive") - dt.datetime(2000, 1, 1)).dt.total_days(fractional=True),
        "hour_of_lit": lit(dt.datetime(2013, 11, 3, 1, 30, fold=1, tzinfo=_NY)).dt.hour(),
        "null_lit_year": lit(None).dt.year(),
    },
    edge_limit=1500,
)

_ = Input

# Date - Date: a Duration("us") of whole days (polars), over the whole Date range, with its totals.
case(
    "temporal.date_minus_date",
    {"a": Date, "b": Date},
    {"days_between": col("a") - col("b"), **_totals(col("a") - col("b"), "dd_")},
    rows=[{"a": dt.date(9999, 12, 31), "b": dt.date(1, 1, 1)}, {"a": dt.date(1, 1, 1), "b": dt.date(9999, 12, 31)},
          {"a": dt.date(2024, 3, 1), "b": dt.date(2024, 2, 28)}],
)

# Zoned literals after 2099 (issue 12, item 3): polars rebuilt lit(aware datetime) from its wall clock
# with no DST after 2099; skewless builds it from the instant. And EST before 1908 (item 10): values are
# compared as instants, not through the OS copy of the zone polars uses to build Python values.
_NY_2150 = dt.datetime(2150, 7, 1, 12, tzinfo=get_zone("America/New_York"))
_LH_2150 = dt.datetime(2150, 1, 15, 12, tzinfo=get_zone("Australia/Lord_Howe"))
case(
    "temporal.zoned_literals_after_2099",
    {"t": Datetime("us", "America/New_York"), "u": Datetime("us", "UTC")},
    {"hour": lit(_NY_2150).dt.hour(), "literal": lit(_NY_2150), "since": col("t") - lit(_NY_2150),
     "lord_howe": lit(_LH_2150).dt.minute(), "in_utc": col("u") - lit(_LH_2150).dt.convert_time_zone("UTC")},
)
case(
    "temporal.est_before_1908",
    {"t": Datetime("us", "EST")},
    {"same": col("t"), "hour": col("t").dt.hour(), "minute": col("t").dt.minute(),
     "utc": col("t").dt.convert_time_zone("UTC")},
    rows=[{"t": dt.datetime(1850, 12, 15, 16, 36, tzinfo=get_zone("EST"))},
          {"t": dt.datetime(1907, 12, 31, 23, 59, tzinfo=get_zone("EST"))}],
)

# Temporal arithmetic (issue 13): Datetime/Date ± Duration, Duration ± Duration, -Duration, mixed units
# (the coarser unit wins: a Datetime is floored to ms, a Duration truncated toward zero), Date ± Duration
# floored to the day (null beyond polars' Int32 day range with a ms Duration), Datetime - Date. Results are
# read through dt.epoch so that rows shifted past year 9999 (which a Python datetime cannot hold) compare too.
from skewless import duration  # noqa: E402

_ARITH_DURATIONS = [dt.timedelta(hours=1), dt.timedelta(microseconds=-1), dt.timedelta(microseconds=1500),
                    dt.timedelta(microseconds=-1500), dt.timedelta(days=1), dt.timedelta(minutes=-30),
                    dt.timedelta(microseconds=2**62), dt.timedelta(microseconds=-(2**62))]


def _arith(t, m, d, du, dm) -> dict:
    return {
        "t_plus_du": (t + du).dt.epoch("us"), "t_minus_du": (t - du).dt.epoch("us"), "du_plus_t": (du + t).dt.epoch("us"),
        "t_plus_dm": (t + dm).dt.epoch("ms"), "t_minus_dm": (t - dm).dt.epoch("ms"),
        "m_plus_du": (m + du).dt.epoch("ms"), "m_minus_du": (m - du).dt.epoch("ms"), "m_plus_dm": (m + dm).dt.epoch("ms"),
        "d_plus_du": (d + du).dt.epoch("d"), "d_minus_du": (d - du).dt.epoch("d"), "du_plus_d": (du + d).dt.epoch("d"),
        "d_plus_dm": (d + dm).dt.epoch("d"), "d_minus_dm": (d - dm).dt.epoch("d"),
        "du_plus_dm": du + dm, "du_minus_dm": du - dm, "dm_minus_du": dm - du, "du_plus_du": du + du, "neg_du": -du,
        "neg_dm": -dm,
        "m_minus_d": m - d, "d_minus_m": d - m, "t_minus_d": t - d,
        "t_plus_lit": (t + dt.timedelta(hours=1)).dt.hour(), "m_minus_lit": (m - dt.timedelta(microseconds=1500)).dt.epoch("ms"),
        "m_plus_duration_ms": (m + duration(microseconds=-1999, time_unit="ms")).dt.epoch("ms"),
        "d_minus_hour": (d - duration(hours=1)).dt.epoch("d"), "d_plus_lit_day": (d + dt.timedelta(days=1)).dt.epoch("d"),
        "t_plus_week": (t + duration(weeks=1, hours=1.5)).dt.weekday(),
    }


_arith_inputs = {"t": Datetime("us", "America/New_York"), "m": Datetime("ms"), "d": Date, "du": Duration("us"),
                 "dm": Duration("ms")}
_NYZ = get_zone("America/New_York")
_arith_rows = []
for i, t in enumerate(transition_instants("America/New_York", (2013, 2024)) + _PAST[:2] + _FUTURE[:3]):
    du = _ARITH_DURATIONS[i % len(_ARITH_DURATIONS)]
    _arith_rows.append({"t": t.astimezone(_NYZ), "m": t.replace(tzinfo=None, microsecond=t.microsecond // 1000 * 1000),
                        "d": t.date(), "du": du, "dm": du // dt.timedelta(milliseconds=1) * dt.timedelta(milliseconds=1)})
case("temporal.arithmetic", _arith_inputs, _arith(*(col(n) for n in _arith_inputs)), rows=_arith_rows, edge_limit=2500)

# The same results as values (Datetime/Date/Duration outputs, zoned across DST), on rows that stay in years 1-9999.
case(
    "temporal.arithmetic_values",
    {"t": Datetime("us", "America/New_York"), "u": Datetime("ms", "Europe/London"), "d": Date, "du": Duration("us")},
    {"t_plus": col("t") + col("du"), "t_minus": col("t") - col("du"), "u_plus": col("u") + col("du"),
     "d_plus": col("d") + col("du"), "d_minus": col("d") - col("du"), "t_minus_u": col("t").dt.convert_time_zone("UTC")
     - col("u").dt.convert_time_zone("UTC"), "u_minus_d": col("u") - col("d")},
    edges=False,
    rows=[{"t": t.astimezone(_NYZ), "u": t.replace(microsecond=t.microsecond // 1000 * 1000).astimezone(get_zone("Europe/London")),
           "d": t.date(), "du": _ARITH_DURATIONS[i % 6]}
          for i, t in enumerate(transition_instants("America/New_York", (2013, 2024)) + transition_instants("Europe/London", (2024,)))]
    + [{"t": None, "u": None, "d": None, "du": None}],
)

# Parsing text (issue 13): str.strptime / to_date / to_datetime with explicit chrono formats, strict=False (null on
# failure) over valid, lenient (unpadded, whitespace, signs, leap second) and invalid strings (impossible dates,
# trailing text, wrong case, Unicode digits and spaces); parsed values read through dt.epoch so that years outside
# 1-9999 compare too. A strict case where every value parses, and one where polars fails the column.
_PARSE_FORMATS = {
    "iso": ("%Y-%m-%d %H:%M:%S", ["2024-01-02 03:04:05", "1969-12-31 23:59:59", "0001-01-01 00:00:00", "9999-12-31 23:59:59"]),
    "iso_frac": ("%Y-%m-%dT%H:%M:%S%.f", ["2024-01-02T03:04:05.123456", "2024-01-02T03:04:05", "1969-12-31T23:59:59.9999999"]),
    "ms3": ("%F %T%.3f", ["2024-01-02 03:04:05.123", "2024-03-10 02:30:00.000"]),
    "compact": ("%Y%m%d%H%M", ["202401020304", "20240229235", "19700101000"]),
    "dmy": ("%d/%m/%Y", ["02/01/2024", "29/02/2023", "31/12/1999"]),
    "short_year": ("%d/%m/%y %H:%M", ["02/01/69 10:00", "02/01/70 10:00", "31/12/99 23:59", "01/01/00 00:00"]),
    "names": ("%d %B %Y %I:%M %p", ["02 January 2024 12:30 AM", "29 feb 2024 01:00 pm", "1 SEPTEMBER 2024 11:59 PM"]),
    "abbr": ("%b %e %Y", ["Jan  2 2024", "jan 2 2024", "Dec 31 9999"]),
    "ordinal": ("%Y-%j", ["2024-060", "2023-365", "2024-366"]),
    "nanos": ("%Y-%m-%d %H:%M:%S.%f", ["2024-01-02 03:04:05.5", "2024-01-02 03:04:05.123456789"]),
    "fixed6": ("%Y-%m-%d %H:%M:%S%.6f", ["2024-01-02 03:04:05.000001", "2024-01-02 03:04:05.12"]),
    "us_date": ("%D", ["01/02/24", "12/31/69"]),
    "fast_frac": ("%Y%m%d%H%M%S%3f", ["20240102030405123", "-20240102030405123", "00000102030405999"]),
    "fast_yy": ("%d/%m/%y", ["02/01/24", "02/01/4x", "02/01/-5", "02/01/+5", "02/01/ 5", "02/01/5 "]),
    "fast_neg": ("%Y-%m-%d", ["-2024-01-02", "--024-01-02", "-024-01-02", "+2024-01-02", "-20240-01-02"]),
    "dot3": ("%Y-%m-%d %H:%M:%S%.3f", ["2024-01-02 03:04:05.123", "2024-01-02 03:04:05"]),
    "dot_f": ("%Y-%m-%d %H:%M:%S.%3f", ["2024-01-02 03:04:05.123"]),
}


def _variants(s: str) -> list[str]:
    """Lenient and broken spellings of ``s``: what chrono accepts and refuses around a valid value."""
    out = [s, s + " ", " " + s, "\u3000" + s, s + "x", s[:-1], s + "0", s.replace("0", "", 1), s.replace(" ", "  "),
           s.replace(" ", ""), s.replace(" ", "\t"), s.replace(" ", "\u3000"), s.replace(" ", "\x1c"), s.replace("-", "/"),
           s.upper(), s.lower(), s.replace("2", "\uff12", 1), s.replace("1", "+1", 1), s.replace("0", " ", 1),
           "+" + s, "-" + s, "0" + s, s.replace(":59", ":60"), s.replace(":05", ":60"), s.replace(":05", ":61"),
           s.replace("02", "30", 1), s.replace("01", "13", 1), s.replace("01", "00", 1), s.replace("03", "24"),
           s.replace("AM", "XM"), s.replace(".", ""), s.replace(".", ".."), s + ".5", s.replace("T", "t"), ""]
    return list(dict.fromkeys(out))


_parse_rows = [{"s": v} for _, samples in _PARSE_FORMATS.values() for base in samples for v in _variants(base)]
_parse_rows += [{"s": v} for v in ("+12345-01-02 00:00:00", "-0001-01-01 00:00:00", "+262142-12-31 00:00:00",
                                   "+262143-01-01 00:00:00", "-262143-01-01 00:00:00", "-262144-12-31 00:00:00", None)]
_parse_feats: dict = {}
for tag, (fmt, _) in _PARSE_FORMATS.items():
    _parse_feats[f"{tag}_us"] = col("s").str.to_datetime(fmt, time_unit="us", strict=False).dt.epoch("us")
    _parse_feats[f"{tag}_ms"] = col("s").str.strptime(Datetime("ms"), fmt, strict=False).dt.epoch("ms")
    _parse_feats[f"{tag}_date"] = col("s").str.to_date(fmt, strict=False).dt.epoch("d")
_parse_feats["utc"] = col("s").str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC", strict=False).dt.hour()
case("temporal.strptime_lenient", {"s": String}, _parse_feats, rows=_parse_rows)

# %z / %:z (chrono's offset scan; the result is the UTC instant, dtype UTC as in polars; a Date keeps the date written)
_OFFSETS = ["+0100", "+01:00", "-0530", "+01", " +0100", "+1", "+01:0", "+2400", "+2359", "+0160", "Z", "+01: 00",
            "\u22120100", "+01:00:00", " +01:00", "+01 00", "+01 : 00", "+01::00", "+01\u300000", " \u3000+0100", "+01:00 ",
            "+0100x", "+-0100", "+ 0100", "+01\t:\t00", "-0000", "+1300", "-2359", ""]
case(
    "temporal.strptime_offsets",
    {"s": String},
    {"utc": col("s").str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False).dt.epoch("us"),
     "utc_value": col("s").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", strict=False),
     "ms": col("s").str.strptime(Datetime("ms"), "%Y-%m-%dT%H:%M:%S%.f%z", strict=False),
     "date": col("s").str.to_date("%Y-%m-%dT%H:%M:%S%z", strict=False)},
    edges=False,
    rows=[{"s": f"{d}{o}"} for d in ("2024-01-02T03:04:05", "2024-01-02T23:30:00.5", "1970-01-01T00:00:00") for o in _OFFSETS]
    + [{"s": None}],
)

case(
    "temporal.strptime_values",
    {"s": String},
    {"d": col("s").str.to_date("%Y-%m-%d", strict=False), "t": col("s").str.to_datetime("%Y-%m-%d %H:%M", strict=False),
     "t_ms": col("s").str.to_datetime("%Y-%m-%d %H:%M:%S%.3f", strict=False),
     "t_utc": col("s").str.to_datetime("%Y-%m-%d %H:%M", time_zone="UTC", strict=False)},
    edges=False,
    rows=[{"s": v} for v in ("2024-01-02", "2024-01-02 03:04", "2024-01-02 03:04:05.678", "1-1-1 0:0", "9999-12-31 23:59",
                             "2024-1-2", " 2024-01-02", "bad", "", None)],
)
case("temporal.strptime_strict_ok", {"s": String, "u": String},
     {"d": col("s").str.to_date("%d.%m.%Y"), "t": col("u").str.strptime(Datetime("us"), "%d.%m.%Y %H:%M", strict=True),
      "fast": col("u").str.to_datetime("%d.%m.%Y %H:%M"), "fixed": col("s").str.to_date("%Y%m%d", strict=False)},
     edges=False, rows=[{"s": "02.01.2024", "u": "02.01.2024 10:00"}, {"s": "2.1.2024", "u": "2.1.2024 0:00"},
                        {"s": None, "u": None}])
case("temporal.strptime_strict_fails", {"s": String}, {"d": col("s").str.to_date("%Y-%m-%d")},
     edges=False, rows=[{"s": "2024-01-02"}, {"s": "2024-02-30"}], expect_error=True)

# Formatting (issue 13): dt.strftime / dt.to_string with every supported directive, on naive us/ms, zoned
# values (wall clock and %z offset, local mean time, years 0 and 10000 after a zone shift) and Dates.
_TIME_FMT = "%Y|%m|%d|%e|%H|%k|%I|%l|%p|%P|%M|%S|%y|%j|%f|%.f|%.3f|%.6f|%.9f|%3f|%6f|%9f|%s"
_DATE_FMT = "%Y-%m-%d|%b|%B|%h|%a|%A|%u|%w|%U|%W|%V|%G|%g|%q|%D|%F|%-d/%-m|%n%t%%"
case(
    "temporal.strftime",
    {"n": Datetime("us"), "m": Datetime("ms"), "z": Datetime("us", "America/New_York"), "k": Datetime("ms", "Asia/Kathmandu"),
     "d": Date},
    {"n_time": col("n").dt.strftime(_TIME_FMT), "n_date": col("n").dt.to_string(_DATE_FMT),
     "n_iso": col("n").dt.strftime("%FT%T%.f"), "m_time": col("m").dt.strftime(_TIME_FMT),
     "z_time": col("z").dt.strftime(_TIME_FMT + "|%z|%:z"), "z_date": col("z").dt.strftime(_DATE_FMT),
     "k_time": col("k").dt.strftime("%F %T%.f %z %:z %s"), "k_date": col("k").dt.strftime(_DATE_FMT),
     "d_date": col("d").dt.strftime(_DATE_FMT), "null": lit(None).dt.strftime("%Y")},
    rows=_rows("z", "America/New_York", transition_instants("America/New_York", (1900, 2024)) + _PAST + _YEAR_ENDS)
    + [{"n": dt.datetime(2024, 1, 1) + dt.timedelta(days=i, hours=i % 24, microseconds=i * 7919), "d": dt.date(2020, 12, 26) + dt.timedelta(days=i)}
       for i in range(0, 420, 3)],
    edge_limit=1200,
)

# Local-mean-time offsets with seconds, as polars (chrono) writes them in %z, %:z and Datetime -> String: rounded
# to the nearest minute, half away from zero (St John's -3:30:52 is -03:31, Knox -5:46:30 is -05:47, Omsk
# +4:53:30 is +04:54, Kolkata +5:53:28 is +05:53); the per-request side truncated (fuzz seed 90210).
_LMT_ZONES = {"sj": "America/St_Johns", "kx": "America/Indiana/Knox", "om": "Asia/Omsk", "ko": "Asia/Kolkata"}
case(
    "temporal.offset_seconds_rounded",
    {k: Datetime("us", z) for k, z in _LMT_ZONES.items()},
    {f"{k}_{name}": f(col(k)) for k in _LMT_ZONES
     for name, f in (("z", lambda c: c.dt.strftime("%z")), ("cz", lambda c: c.dt.strftime("%d/%m/%Y %H:%M %:z")),
                     ("text", lambda c: c.cast(String)))},
    edges=False,
    rows=[{k: t.astimezone(get_zone(z)) for k, z in _LMT_ZONES.items()}
          for t in (dt.datetime(1, 11, 5, 7, 28, 23, 886000, tzinfo=dt.timezone.utc),
                    dt.datetime(1850, 1, 1, 12, tzinfo=dt.timezone.utc), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))]
    + [{k: None for k in _LMT_ZONES}],
)

# dt.truncate / dt.offset_by (issue 13): polars' Duration arithmetic. Every kind of `every` on naive (us, ms),
# UTC, zoned (wall clock and back into the zone across DST: repeated wall clocks keep the value's offset, skipped
# ones take the standard offset) and Date values; offset_by with month-end clamping, leap days, negative and mixed
# offsets, fixed offsets of zoned values across DST. Results are read through dt.epoch (a truncation to "2y" of
# year 1 is year 0, which polars holds and Python does not), plus one case of values.
_EVERY = ("1us", "1ms", "1s", "15m", "1h", "90m", "7h", "1h30m", "1d", "3d", "1w", "2w", "1mo", "2mo", "1q", "1y", "2y", "13mo")
_EVERY_MS = tuple(e for e in _EVERY if e != "1us")
_BY = ("1h", "-15m", "36h", "1d", "-1d", "1w", "-2w", "1mo", "-1mo", "13mo", "-25mo", "1y", "-1y", "1q", "1d12h", "1mo2h",
       "-1y3h", "1w1d", "1mo1w", "1500us")
_MONTH_ENDS = [dt.datetime(y, m, d, h, 30, 15, 123456) for y in (1900, 1999, 2000, 2023, 2024) for m, d in
               ((1, 31), (2, 28), (3, 31), (4, 30), (12, 31), (1, 1)) for h in (0, 23)]
_MONTH_ENDS += [dt.datetime(2024, 2, 29, 12), dt.datetime(2000, 2, 29), dt.datetime(1969, 12, 31, 23, 59, 59, 999999)]


def _windows(x, everys, bys, epoch_unit) -> dict:
    out = {f"trunc_{e}": x.dt.truncate(e).dt.epoch(epoch_unit) for e in everys}
    out |= {f"offset_{b}": x.dt.offset_by(b).dt.epoch(epoch_unit) for b in bys}
    return out


case("temporal.windows_naive_us", {"n": Datetime("us")}, _windows(col("n"), _EVERY, _BY, "us"),
     rows=[{"n": v} for v in _MONTH_ENDS])
case("temporal.windows_naive_ms", {"m": Datetime("ms")},
     _windows(col("m"), _EVERY_MS, tuple(b for b in _BY if b != "1500us") + ("1500ms", "-1ms"), "ms"),
     rows=[{"m": v.replace(microsecond=v.microsecond // 1000 * 1000)} for v in _MONTH_ENDS])
case("temporal.windows_date", {"d": Date},
     _windows(col("d"), ("1h", "7h", "1d", "3d", "1w", "2w", "1mo", "1q", "1y", "2y"), tuple(b for b in _BY if b != "1500us"), "d"),
     rows=[{"d": v.date()} for v in _MONTH_ENDS])
case("temporal.windows_utc", {"u": Datetime("us", "UTC")}, _windows(col("u"), _EVERY, _BY, "us"),
     rows=[{"u": v.replace(tzinfo=UTC)} for v in _MONTH_ENDS])
_FIXED = ("1h", "-15m", "36h", "24h", "-90m", "1500us")
for zone, unit in (("America/New_York", "us"), ("Australia/Lord_Howe", "ms"), ("Europe/London", "us"),
                   ("America/St_Johns", "us"), ("Pacific/Chatham", "ms")):
    tag = zone.split("/")[-1].lower()
    everys = _EVERY if unit == "us" else _EVERY_MS
    instants = transition_instants(zone, (1900, 1916, 1941, 1969, 1970, 1971, 2000, 2013, 2024, 2037, 2099)) + _PAST + _FUTURE[:6]
    case(f"temporal.windows_{tag}_{unit}", {"z": Datetime(unit, zone)},
         _windows(col("z"), everys, tuple(b for b in _FIXED if unit == "us" or b != "1500us"), unit),
         rows=_rows("z", zone, instants, unit), edge_limit=400)
case(
    "temporal.windows_values",
    {"n": Datetime("us"), "z": Datetime("us", "America/New_York"), "d": Date},
    {"n_month": col("n").dt.truncate("1mo"), "n_quarter_hour": col("n").dt.truncate(dt.timedelta(minutes=15)),
     "n_next_month": col("n").dt.offset_by("1mo"), "z_hour": col("z").dt.truncate("1h"), "z_day": col("z").dt.truncate("1d"),
     "z_later": col("z").dt.offset_by("25h"), "d_week": col("d").dt.truncate("1w"), "d_prev_month": col("d").dt.offset_by("-1mo"),
     "null": lit(None, dtype=Datetime("us")).dt.offset_by("1d")},
    edges=False,
    rows=[{"n": v, "z": v.replace(tzinfo=UTC).astimezone(_NYZ), "d": v.date()} for v in _MONTH_ENDS if v.year >= 1900]
    + [{"n": None, "z": None, "d": None}],
)
# polars raises when a zoned wall clock truncates into a gap left by a change of *standard* offset
# (Kathmandu moved from +05:30 to +05:45 at 1986-01-01 00:00): both runtimes raise.
case("temporal.truncate_into_standard_gap", {"k": Datetime("us", "Asia/Kathmandu")}, {"hour": col("k").dt.truncate("1h")},
     edges=False, rows=[{"k": dt.datetime(1986, 1, 1, 0, 20, tzinfo=get_zone("Asia/Kathmandu"))}], expect_error=True)

# duration() with Int64 expression components (issue 13): polars' kernel -- products and sum wrap in Int64, the ms
# unit truncates the microseconds component on its own, a null component gives null; used in arithmetic too.
case(
    "temporal.duration_from_columns",
    {"a": Int64, "b": Int64, "t": Datetime("us"), "m": Datetime("ms")},
    {"minutes": duration(minutes=col("a")), "mixed": duration(weeks=col("a"), hours=1, seconds=col("b")),
     "ms_unit": duration(days=col("a"), microseconds=col("b"), milliseconds=-3, time_unit="ms").dt.total_milliseconds(),
     "small": duration(milliseconds=col("b"), microseconds=col("a")),
     "shifted": (col("t") + duration(minutes=col("a"))).dt.epoch("us"),
     "shifted_ms": (col("m") - duration(seconds=col("b"), time_unit="ms")).dt.epoch("ms"),
     "null_part": duration(hours=col("a"), minutes=lit(None, dtype=Int64))},
    rows=[{"a": a, "b": b, "t": dt.datetime(2024, 3, 10, 1, 30), "m": dt.datetime(2024, 3, 10, 1, 30)}
          for a, b in ((1, 0), (-1, 30), (2**40, None), (2**63 - 1, 1), (0, -(2**62)), (-7, -1999), (1999, 7))],
    edge_limit=1500,
)

# Calendar fields, text and truncation of Dates and naive Datetimes COMPUTED past years 1-9999 (a Python date
# cannot hold them; polars can): the per-request function reads them as ProlepticDate, and writes their year as
# polars does ("-0109", "+11095"). Found by the differential fuzzer (seed 1201): d + duration crashed in
# fromordinal, and cast(String) wrote "-109".
_FAR = dt.timedelta(days=400_000)


def _far_fields(x) -> dict:
    return {"year": x.dt.year(), "month": x.dt.month(), "day": x.dt.day(), "quarter": x.dt.quarter(),
            "week": x.dt.week(), "weekday": x.dt.weekday(), "ordinal_day": x.dt.ordinal_day(),
            "text": x.cast(String), "strftime": x.dt.strftime("%Y/%m/%d %j"), "month_start": x.dt.truncate("1mo").cast(String),
            "bucket": x.hash_bucket(1000)}


case(
    "temporal.computed_past_year_range",
    {"d": Date, "n": Datetime("us"), "du": Duration("us")},
    {f"{name}_{k}": v for name, x in (("d_plus", col("d") + col("du")), ("d_minus", col("d") - col("du")),
                                      ("n_plus", col("n") + col("du")), ("n_minus", col("n") - col("du")),
                                      ("n_date", (col("n") + col("du")).dt.date()))
     for k, v in _far_fields(x).items() if not (name.startswith("n") and k == "bucket")},
    edges=False,
    rows=[{"d": d, "n": dt.datetime(d.year, d.month, d.day, 5, 6, 7, 89), "du": du}
          for d in (dt.date(1, 1, 1), dt.date(1, 3, 1), dt.date(9999, 12, 31), dt.date(2024, 2, 29))
          for du in (_FAR, -_FAR, dt.timedelta(days=1), dt.timedelta(days=-1), dt.timedelta(days=366 * 3))]
    + [{"d": None, "n": None, "du": None}],
)
