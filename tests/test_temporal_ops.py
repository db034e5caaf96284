"""Issue 13's temporal ops outside the parity cases: definition-time refusals that name the feature, and
values skewless computes at definition time (``duration()`` literals) checked against polars itself."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
import pytest

from skewless import Date, Datetime, DefinitionError, Duration, FeatureSet, Int64, String, col, duration, lit

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
    ({"minutes": col("x")}, "not supported yet"),
    ({"hours": "1"}, "literal int or float"),
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
