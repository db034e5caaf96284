"""Property test: parsing and formatting text (``str.strptime``/``to_date``/``to_datetime``, ``dt.strftime``) agree
between polars and the per-request runtime on random near-dates (digits, separators, signs, Unicode spaces and
digits, month names in any case) and on random instants, dates and zones."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless import Date, Datetime, FeatureSet, Input, String, col
from skewless.parity import check_parity

FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%d/%m/%y %I:%M %p", "%Y%m%d", "%e %B %Y", "%Y-%j", "%F %T%.3f", "%b %d %Y %k:%M",
           "%FT%T%z")

_parse = FeatureSet(
    "text_parse", {"s": Input(String, nullable=True)},
    {**{f"us{i}": col("s").str.to_datetime(f, time_unit="us", strict=False).dt.epoch("us") for i, f in enumerate(FORMATS)},
     **{f"d{i}": col("s").str.to_date(f, strict=False).dt.epoch("d") for i, f in enumerate(FORMATS)}},
)
_pieces = st.sampled_from(["+0100", "-05:30", "Z", "+2400", "2024", "1969", "0001", "9999", "+12345", "-0001", "1", "01", "12", "13", "29", "30", "31", "00",
                           "59", "60", "24", "366", "-", "/", ":", " ", "  ", "\u3000", "\t", ".", ".5", ".123456789",
                           "T", "AM", "pm", "Jan", "january", "FEB", "Sept", "\uff11", "x", ""])
_near_dates = st.lists(_pieces, min_size=1, max_size=12).map("".join)
_from_format = st.builds(
    lambda d, f: d.strftime(f.replace("%.f", ".%f").replace("%.3f", ".%f").replace("%e", "%d").replace("%k", "%H")),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)), st.sampled_from(FORMATS))


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_near_dates, _from_format, st.none()), min_size=1, max_size=40))
def test_parsing_agrees_on_near_dates(values):
    report = check_parity(_parse, [{"s": v} for v in values])
    assert report.ok, report


_ZONES = ("America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe")
_format = FeatureSet(
    "text_format",
    {"n": Input(Datetime("us"), nullable=True), "z": Input(Datetime("us", "America/New_York"), nullable=True),
     "d": Input(Date, nullable=True)},
    {"n_text": col("n").dt.strftime("%Y-%m-%d %H:%M:%S%.f|%j|%U|%W|%V|%G|%a %b|%I%p|%s"),
     "z_text": col("z").dt.strftime("%F %T%.f %z %:z %A %B %e %k %l %P"), "d_text": col("d").dt.strftime("%D|%u|%w|%g|%q|%-d")},
)


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.fixed_dictionaries({
    "n": st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))),
    "z": st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2200, 1, 1),
                                           timezones=st.just(dt.timezone.utc))),
    "d": st.one_of(st.none(), st.dates()),
}), min_size=1, max_size=30))
def test_formatting_agrees_on_random_values(rows):
    from skewless.runtime.tz import get_zone

    ny = get_zone("America/New_York")
    report = check_parity(_format, [{**r, "z": None if r["z"] is None else r["z"].astimezone(ny)} for r in rows])
    assert report.ok, report
