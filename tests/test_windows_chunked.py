"""The bounded batch build (skewless.windows.chunked.write_windows): entity-partitioned chunks streamed to
parquet give the same bits as the in-memory build, for any chunk size, with several entity tables, null keys
and a lazy (scanned) source."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from skewless.dtypes import Datetime, Float64, Int64, String
from skewless.errors import SchemaError
from skewless.state.replay import same_value
from skewless.windows import EventSource, Windows, col
from skewless.windows.batch import compute_windows
from skewless.windows.chunked import write_windows

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
SRC = EventSource("ev", time="t", order="id", max_lateness=dt.timedelta(days=1),
                  columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": String(), "x": Float64(), "d": Int64()})
SCHEMA = {"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64, "d": pl.Int64}


def roll(expr, period="3h", closed="left"):
    return expr.rolling(index_column="t", period=period, closed=closed)


def events(n=400, seed=3):
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"t": T0 + dt.timedelta(minutes=rnd.randrange(0, 60 * 48)), "id": rnd.randrange(10**9) * 1000 + i,
                     "k": rnd.choice(["a", "b", "c", "d", "e", None]), "x": rnd.choice([None, rnd.uniform(-5, 5), 0.1]),
                     "d": rnd.choice([None, rnd.randrange(-3, 9)])})
    return pl.DataFrame(rows, schema=SCHEMA)


WINDOWS = Windows(SRC, {
    "n": roll(col("x").len()).over("k"), "s": roll(col("x").sum()).over("k"), "m": roll(col("x").mean(), "1d").over("k"),
    "sd": roll(col("x").std(), "1d", "both").over("k"), "mx": roll(col("d").max()).over("k"),
    "nu": roll(col("d").n_unique(), "12h").over("k"), "life": col("d").cum_sum().over("k", order_by="t", closed="left"),
    "pair": roll(col("x").count(), "1d", "right").over("k", "d"),
}, requests_at="events")


@pytest.mark.parametrize("chunk", [1_000_000, 150, 37])
def test_chunked_build_equals_the_in_memory_build(tmp_path, chunk):
    ev = events()
    out = tmp_path / "w.parquet"
    res = write_windows(WINDOWS, ev, ev, out, chunk_events=chunk, row_index="pos")
    got = pl.read_parquet(out).sort("pos")
    want = compute_windows(WINDOWS, ev, ev)
    assert res.rows == ev.height and res.partitions == -(-ev.height // chunk)
    assert got.drop("pos").columns == [*ev.columns, *WINDOWS.outputs]
    assert got.select(ev.columns).equals(ev)
    for name in WINDOWS.outputs:  # bitwise: NaN equals NaN, -0.0 differs from 0.0
        assert all(same_value(a, b) for a, b in zip(got[name].to_list(), want[name].to_list())), name
    assert list(tmp_path.iterdir()) == [out]  # the partition files are gone


def test_chunked_build_from_a_scanned_source_and_times_spine(tmp_path):
    ev = events(200, seed=5)
    ev.write_parquet(tmp_path / "ev.parquet")
    spine = pl.DataFrame({"t": [T0 + dt.timedelta(hours=h) for h in range(0, 48, 5)] * 2,
                          "k": ["a"] * 10 + [None] * 5 + ["zz"] * 5, "d": [1, 2] * 10},
                         schema={"t": pl.Datetime("us", "UTC"), "k": pl.String, "d": pl.Int64})
    wins = Windows(SRC, {"s": roll(col("x").sum(), "1d").over("k"), "p": roll(col("x").len(), "1d").over("k", "d")},
                   requests_at="times")
    write_windows(wins, spine, pl.scan_parquet(tmp_path / "ev.parquet"), tmp_path / "w.parquet", chunk_events=50,
                  row_index="pos")
    got = pl.read_parquet(tmp_path / "w.parquet").sort("pos")
    assert got.select("s", "p").equals(compute_windows(wins, spine, ev))


def test_chunked_build_refuses_duplicate_ids_across_partitions(tmp_path):
    ev = events(60)
    dup = ev.with_columns(pl.when(pl.col("id") == ev["id"][7]).then(ev["id"][3]).otherwise(pl.col("id")).alias("id"))
    with pytest.raises(SchemaError, match="more than once"):
        write_windows(WINDOWS, dup, dup, tmp_path / "w.parquet", chunk_events=10)
    assert not (tmp_path / "w.parquet").exists()
