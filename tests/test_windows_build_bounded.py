"""build_dataset's windows step on its two paths: in memory (an event source of at most ``window_chunk_events``
events) and bounded (more: the events scanned lazily, entity-partitioned by ``write_windows`` in the build's
temporary directory). Both must write the same bytes, and a bad event source must fail the same way on both,
naming the source and the column, with nothing left in the output directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from skewless.errors import SchemaError
from skewless.training.build import BuildError, build_dataset
from skewless.windows.flights import flight_frames

from test_windows_feature_set import flights_w

SPLIT = (0.6, 0.8)


@pytest.fixture(scope="module")
def flights2(tmp_path_factory):
    from skewless.datasets import load_flights

    fl = load_flights()
    fl = fl.filter(pl.col("time_hour") < fl["time_hour"].min() + dt.timedelta(days=2))
    events, _ = flight_frames(fl)
    path = tmp_path_factory.mktemp("events") / "departures.parquet"
    events.write_parquet(path)
    return fl, events, path


def _build(fl, events, out, **kw):
    return build_dataset(flights_w, fl, out, label="arr_delay > 15", event_time="time_hour", split=SPLIT,
                         events={"flights": events}, **kw)


def test_bounded_and_in_memory_builds_write_the_same_bytes(flights2, tmp_path, monkeypatch):
    import skewless.windows.chunked as chunked

    fl, events, path = flights2
    assert events.height > 1_000
    written = []
    real = chunked.write_windows

    def spy(*args, **kwargs):
        written.append(real(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(chunked, "write_windows", spy)
    memory = _build(fl, path, tmp_path / "memory")  # 2·10^6 by default: in memory
    assert written == []
    bounded = _build(fl, path, tmp_path / "bounded", window_chunk_events=400)  # several partitions
    from_frame = _build(fl, events, tmp_path / "frame", window_chunk_events=400)  # a frame, bounded too
    assert [w.partitions for w in written] == [-(-events.height // 400)] * 2
    assert all(w.rows == fl.height for w in written)
    files = sorted(p.relative_to(tmp_path / "memory") for p in (tmp_path / "memory").rglob("*") if p.is_file())
    assert {str(f) for f in files} >= {"train/00000000.parquet", "test/00000000.parquet", "stats.json",
                                       "golden_inputs.parquet", "golden_events.json", "build.json"}
    for other in ("bounded", "frame"):
        assert sorted(p.relative_to(tmp_path / other) for p in (tmp_path / other).rglob("*") if p.is_file()) == files
        for f in files:
            if f.name != "build.json":  # (its timings and creation time differ)
                assert (tmp_path / "memory" / f).read_bytes() == (tmp_path / other / f).read_bytes(), (other, f)
    for built in (bounded, from_frame):
        assert built.manifest["data_hash"] == memory.manifest["data_hash"]
        assert built.manifest["rows"] == memory.manifest["rows"]
    assert bounded.manifest["event_sources"] == memory.manifest["event_sources"]
    with pytest.raises(BuildError, match="window_chunk_events must be a positive integer"):
        _build(fl, path, tmp_path / "zero", window_chunk_events=0)


def _null_id(ev):
    return ev.with_columns(pl.when(pl.col("event_id") == 7).then(None).otherwise(pl.col("event_id")).alias("event_id"))


def _repeated_id(ev):
    return ev.with_columns(pl.when(pl.col("event_id") == 7).then(9).otherwise(pl.col("event_id")).alias("event_id"))


@pytest.mark.parametrize("bad, message", [
    (lambda ev: ev.drop("dep_delay"), "event source 'flights': the events have no column 'dep_delay'"),
    (lambda ev: ev.with_columns(pl.col("dep_delay").cast(pl.String)),
     "event source 'flights': column 'dep_delay' has dtype String, but the source declares Int64"),
    (lambda ev: ev.with_columns(pl.col("dep_at").dt.to_string()),
     "event source 'flights': column 'dep_at' has dtype String, but the source declares Datetime"),
    (lambda ev: ev.with_columns(pl.col("tailnum").cast(pl.Int64, strict=False)),
     "event source 'flights': column 'tailnum' has dtype Int64, but the source declares String"),
    (_null_id, "event source 'flights': the order column 'event_id' has nulls"),
    (_repeated_id, "event source 'flights': the order column 'event_id' has the value 9 more than once"),
], ids=["missing column", "value dtype", "time dtype", "key dtype", "null id", "repeated id"])
@pytest.mark.parametrize("chunk", [2_000_000, 300], ids=["in memory", "bounded"])
def test_a_bad_event_source_fails_naming_the_column_and_writes_nothing(flights2, tmp_path, bad, message, chunk):
    fl, events, _ = flights2
    path = tmp_path / "bad.parquet"
    bad(events).write_parquet(path)
    out = tmp_path / "out"
    with pytest.raises(SchemaError) as info:
        _build(fl, str(path), out, window_chunk_events=chunk)
    assert message in str(info.value)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet"]  # no temporary directory left either


def test_a_key_of_a_widening_dtype_is_conformed_on_both_paths(flights2, tmp_path):
    fl, events, _ = flights2
    cat = events.with_columns(pl.col("tailnum", "carrier").cast(pl.Categorical))
    ref = _build(fl, events, tmp_path / "ref")
    for chunk in (2_000_000, 500):
        got = _build(fl, cat, tmp_path / f"cat{chunk}", window_chunk_events=chunk)
        assert got.manifest["data_hash"] == ref.manifest["data_hash"], chunk
