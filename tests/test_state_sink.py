"""sink_lookups: the point-in-time join slice by slice into parquet parts equals join_lookups of the whole spine
(real flights, weather and planes; slices that cut through equal request times), and a failed run leaves
nothing that looks complete."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from skewless.dtypes import Datetime, Float64, Int64, String
from skewless.errors import SchemaError, SkewlessError
from skewless.state.batch import join_lookups
from skewless.state.lookups import EntityTable, Lookup, Lookups
from skewless.state.sink import sink_lookups

weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                      columns={c: Float64() for c in ("temp", "wind_gust")})
planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),), columns={"year": Int64(), "type": String()})
LOOKUPS = Lookups({"origin": String(), "tailnum": String(), "time_hour": Datetime("us", "UTC")},
                  [Lookup(weather, by=("origin",), on="time_hour", tolerance=dt.timedelta(hours=3)),
                   Lookup(planes, by=("tailnum",), prefix="plane_")])


@pytest.fixture(scope="module")
def data():
    from skewless.datasets import load_flights, load_table

    flights = load_flights().filter(pl.col("month") == 1, pl.col("day") <= 2).select("origin", "tailnum", "time_hour")
    w = load_table("weather").with_columns(pl.col("time_hour").str.to_datetime(
        "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC"))
    # shuffled: the slices are not in time order, as a real spine need not be
    return flights.sample(fraction=1.0, shuffle=True, seed=3), {"weather": w, "planes": load_table("planes")}


def test_slices_equal_the_whole_join(tmp_path, data):
    spine, tables = data
    spine.write_parquet(tmp_path / "spine.parquet")
    n = sink_lookups(LOOKUPS, tmp_path / "spine.parquet", tables, tmp_path / "out", chunk_rows=333)
    parts = sorted((tmp_path / "out").glob("*.parquet"))
    assert n == spine.height and len(parts) == -(-spine.height // 333)
    whole = join_lookups(LOOKUPS, spine, tables).collect()
    assert_frame_equal(pl.read_parquet(tmp_path / "out" / "*.parquet"), whole)
    assert whole["weather_temp"].null_count() < 50 and 0 < whole["plane_year"].null_count() < whole.height / 5


def test_a_failed_run_leaves_nothing(tmp_path, data):
    spine, tables = data
    with pytest.raises(SchemaError, match="no data for entity tables"):
        sink_lookups(LOOKUPS, spine, {"weather": tables["weather"]}, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "out").mkdir()
    with pytest.raises(SkewlessError, match="exists; pass overwrite=True"):
        sink_lookups(LOOKUPS, spine, tables, tmp_path / "out")
