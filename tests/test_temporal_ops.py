"""Issue 13's temporal ops outside the parity cases: definition-time refusals that name the feature, and
values skewless computes at definition time (``duration()`` literals) checked against polars itself."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
import pytest

from skewless import Date, Datetime, DefinitionError, Duration, FeatureSet, Float64, Int64, String, col, duration, lit

INPUTS = {"t": Datetime("us", "UTC"), "n": Datetime("us"), "d": Date, "du": Duration("us"), "x": Int64, "s": String}


@pytest.mark.parametrize("make, message", [
    (lambda: col("du") - col("t"), "not defined for Duration(time_unit='us') and Datetime"),
    (lambda: col("t") + col("t"), "not defined for Datetime"),
    (lambda: col("d") + col("d"), "not defined for Date and Date"),
    (lambda: col("t") - col("n"), "same zone"),
    (lambda: col("t") + 1, "duration(days=..."),
    (lambda: col("d") + col("x"), "duration(days=..."),
    (lambda: col("t") + lit(None), "give the null a dtype"),
    (lambda: -col("t"), "cannot negate"),
    (lambda: duration(hours=col("x").cast(Float64)), "needs an Int64 expression"),
    (lambda: duration(hours=col("s")), "needs an Int64 expression"),
])
def test_temporal_arithmetic_polars_refuses_is_refused_naming_the_feature(make, message):
    with pytest.raises(DefinitionError, match="feature 'f'") as err:
        FeatureSet("t", INPUTS, {"f": make()})
    assert message in str(err.value)


_COMPONENTS = {"weeks": [0, 1, -2], "days": [0, 1, -1, 1.5], "hours": [0, 3, -0.5, 36], "minutes": [0, 90, -1],
               "seconds": [0, 59, -0.25, 1e6], "milliseconds": [0, 1, -999, 2.5], "microseconds": [0, 1, -1999, 7]}


def test_duration_literals_equal_polars_duration():
    names = list(_COMPONENTS)
    exprs, ours = [], []
    for i, combo in enumerate(itertools.product(*_COMPONENTS.values())):
        if i % 7:  # a deterministic seventh of the 3072 combinations
            continue
        kw = dict(zip(names, combo))
        for unit in ("us", "ms"):
            try:
                value = duration(**kw, time_unit=unit)._node
            except Exception as exc:  # refused: only when a float product is not whole
                assert "not a whole number" in str(exc), exc
                continue
            exprs.append(pl.duration(**kw, time_unit=unit).alias(str(len(exprs))))
            ours.append(value)
    got = pl.select(exprs)
    assert len(ours) > 300
    for j, node in enumerate(ours):
        series = got[str(j)]
        assert series.dtype == pl.Duration(node.dtype.time_unit)
        assert series.to_list()[0] == node.value, (exprs[j], node)


@pytest.mark.parametrize("kw, message", [
    ({"microseconds": 0.7}, "not a whole number"),
    ({"days": 2**62}, "does not fit in Int64"),
    ({"minutes": col("x"), "seconds": 0.5}, "give ints"),
    ({"hours": "1"}, "an Int64 expression"),
    ({"hours": 1, "time_unit": "ns"}, "time_unit"),
])
def test_duration_refuses_what_polars_would_truncate_wrap_or_skewless_lacks(kw, message):
    with pytest.raises(Exception, match=message):
        duration(**kw)


def test_duration_ms_literals_truncate_toward_zero_like_polars():
    for us in (1500, -1500, 999, -999, -1000, 2**40 + 1):
        ours = lit(dt.timedelta(microseconds=us), dtype=Duration("ms"))._node.value
        theirs = pl.select(pl.lit(dt.timedelta(microseconds=us), dtype=pl.Duration("ms"))).item()
        assert ours == theirs, us


def test_a_result_outside_pythons_years_raises_naming_it_per_request():
    from skewless import InvalidOperationError

    fs = FeatureSet("t", {"d": Date, "n": Datetime("us")},
                    {"next_day": col("d") + duration(days=1), "later": col("n") + duration(days=1),
                     "day_number": (col("d") + duration(days=1)).dt.epoch("d")})
    row = {"d": dt.date(9999, 12, 31), "n": dt.datetime(9999, 12, 31, 12)}
    batch = fs.transform(pl.DataFrame([row], schema={"d": pl.Date, "n": pl.Datetime("us")}).lazy()).select("day_number").collect().to_dicts()
    assert [r["day_number"] for r in batch] == [2932897]  # polars holds 10000-01-01
    with pytest.raises(InvalidOperationError, match=r"years 1\.\.9999"):
        fs.row_fn(row)
    only_epoch = FeatureSet("e", {"d": Date}, {"day_number": (col("d") + duration(days=1)).dt.epoch("d")})
    assert only_epoch.row_fn({"d": row["d"]}) == {"day_number": 2932897}


@pytest.mark.parametrize("make, message", [
    (lambda: col("s").str.to_date("%Y-%m"), "whole date"),
    (lambda: col("s").str.to_datetime("%Y-%m-%d %H"), "both an hour and a minute"),
    (lambda: col("s").str.to_datetime("%Y-%m-%d %I:%M"), "%I/%l and %p go together"),
    (lambda: col("s").str.to_datetime("%Y-%m-%d %M:%S"), "hour and a minute"),
    (lambda: col("s").str.to_datetime("%Y-%m-%dT%H:%M:%S %Z"), "directive %Z"),
    (lambda: col("s").str.to_date("%a %Y-%m-%d"), "directive %a"),
    (lambda: col("s").str.to_date("%Y-%m-%d %"), "lone '%'"),
    (lambda: col("s").str.strptime(Datetime("us", "America/New_York"), "%Y-%m-%d"), "naive or UTC"),
    (lambda: col("t").dt.strftime("%Y %Z"), "directive %Z"),
    (lambda: col("d").dt.strftime("%Y %H"), "a Date has no time of day"),
    (lambda: col("n").dt.strftime("%Y %z"), "needs a zoned Datetime"),
    (lambda: col("n").dt.truncate("1d12h"), "mixes months, weeks, days"),
    (lambda: col("n").dt.truncate("-1h"), "positive duration"),
    (lambda: col("n").dt.truncate("1ns"), "not a whole number of microseconds"),
    (lambda: col("n").dt.truncate("1i"), "not a duration string"),
    (lambda: FeatureSet("z", {"z": Datetime("us", "Europe/Paris")}, {"f": col("z").dt.offset_by("1mo")}), "calendar offsets"),
])
def test_text_and_window_ops_refuse_what_they_do_not_copy_naming_the_feature(make, message):
    with pytest.raises(DefinitionError, match="feature 'f'") as err:
        built = make()
        if not isinstance(built, FeatureSet):
            FeatureSet("t", INPUTS, {"f": built})
    assert message in str(err.value)


@pytest.mark.parametrize("call, message", [
    (lambda: col("s").str.to_date(), "explicit format"),
    (lambda: col("s").str.to_date("%Y", exact=False), "exact=False"),
    (lambda: col("s").str.to_datetime("%F %T%.9f"), "nanoseconds"),
    (lambda: col("s").str.to_datetime("%F", ambiguous="earliest"), "ambiguous"),
    (lambda: col("t").dt.to_string(), "writes polars' ISO text"),
    (lambda: col("t").dt.truncate(col("s")), "duration string"),
])
def test_api_arguments_skewless_does_not_copy_are_refused(call, message):
    with pytest.raises(Exception, match=message):
        call()


def test_offset_by_zoned_fixed_offsets_move_the_instant_and_utc_takes_calendar_offsets():
    fs = FeatureSet("z", {"z": Datetime("us", "America/New_York"), "u": Datetime("us", "UTC")},
                    {"later": col("z").dt.offset_by("24h"), "next_month": col("u").dt.offset_by("1mo")})
    from skewless.runtime.tz import get_zone

    ny = get_zone("America/New_York")
    out = fs.row_fn({"z": dt.datetime(2024, 3, 9, 12, tzinfo=ny), "u": dt.datetime(2024, 1, 31, 8, tzinfo=dt.timezone.utc)})
    assert out["later"] == dt.datetime(2024, 3, 10, 13, tzinfo=ny)  # 24 hours of real time across the DST change
    assert out["next_month"] == dt.datetime(2024, 2, 29, 8, tzinfo=dt.timezone.utc)  # clamped to the month's end


def test_the_new_ops_survive_a_sealed_bundles_definition_round_trip():
    import json

    from skewless.bundle.definition import definition_from_data

    fs = FeatureSet("all_new", {"s": String, "t": Datetime("us", "America/New_York"), "n": Datetime("ms"), "d": Date,
                                "x": Int64},
                    {"parsed": col("s").str.to_datetime("%Y-%m-%d %H:%M", strict=False),
                     "day": col("s").str.strptime(Date, "%d/%m/%y", strict=False),
                     "text": col("t").dt.strftime("%F %T %z"), "hour": col("t").dt.truncate("1h"),
                     "next_month": col("n").dt.offset_by("1mo"), "shifted": col("n") + duration(minutes=col("x")),
                     "week_later": col("d") + duration(weeks=1), "part": col("s").str.split("-").list.get(1, null_on_oob=True),
                     "parts": col("s").str.split("-").list.len()})
    rebuilt = definition_from_data(json.loads(json.dumps(fs.ir_json())))
    assert rebuilt.compile_python().source == fs.compile_python().source
