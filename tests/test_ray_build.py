"""The Ray engine: the demo build on local Ray equals the single-machine build, bit for bit; bad things on a cluster.

Ray starts once for this module (``ray.init(num_cpus=2)``, ~15 s); everything that needs it runs in one
test so that pytest-xdist cannot start a second instance on its other worker.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from skewless.definitions.flights_fitted import flights_fitted  # noqa: E402
from skewless.exact import float_bits  # noqa: E402
from skewless.training.build import SPLITS, BuildError, build_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPLIT = ("2013-10-01", "2013-11-01")
ARGS = dict(label="arr_delay > 15", event_time="time_hour", split=SPLIT)


@pytest.fixture(scope="module")
def flights_parquet(tmp_path_factory) -> Path:
    """Every 4th flight of 2013 (all months, so the demo's time split has rows in each part), in two files."""
    from skewless.datasets import load_flights

    df = load_flights().gather_every(4)
    where = tmp_path_factory.mktemp("flights")
    half = df.height // 2
    df.slice(0, half).write_parquet(where / "a.parquet", row_group_size=10_000)
    df.slice(half).write_parquet(where / "b.parquet", row_group_size=10_000)
    return where


def _bits(df: pl.DataFrame) -> pl.DataFrame:
    """Floats as their bit patterns (so -0.0 != 0.0 and every NaN payload counts), nulls kept."""
    return df.with_columns(float_bits(pl.col(c)).alias(c) if df.schema[c] == pl.Float64 else pl.col(c)
                           for c in df.columns).with_columns(
        pl.when(df[c].is_null()).then(None).otherwise(pl.col(c)).alias(c) for c in df.columns)


def _same_build(single: Path, other: Path, what: str) -> None:
    for s in SPLITS:
        a = pl.read_parquet(single / s / "*.parquet")
        b = pl.read_parquet(other / s / "*.parquet")
        assert a.schema == b.schema, (what, s)
        assert a.height == b.height and a.height > 0, (what, s, a.height, b.height)
        assert _bits(a).equals(_bits(b), null_equal=True), f"{what}: the {s} rows differ"
    fitted = [json.loads((d / "fitted.json").read_text()) for d in (single, other)]
    for doc in fitted:  # the artifact's own time of writing is the one field that may differ
        assert doc["manifest"].pop("created_at")
    assert fitted[0] == fitted[1] and fitted[0]["state"], f"{what}: fitted.json"
    assert (single / "stats.json").read_bytes() == (other / "stats.json").read_bytes(), f"{what}: stats.json"
    assert pl.read_parquet(single / "golden_inputs.parquet").equals(pl.read_parquet(other / "golden_inputs.parquet"))
    a, b = (json.loads((d / "build.json").read_text()) for d in (single, other))
    for key in ("feature_set", "split", "rows", "columns", "feature_columns", "label", "event_time"):
        assert a[key] == b[key], (what, key)
    assert b["engine"]["name"] == "ray" and "engine" not in a


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unknown_engine_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(BuildError, match="engine must be 'polars' or 'ray'"):
        build_dataset(flights_fitted, str(tmp_path / "none.parquet"), tmp_path / "b", engine="spark", **ARGS)
    assert not (tmp_path / "b").exists()


def test_unreachable_address_is_a_clear_error_within_seconds(flights_parquet, tmp_path):
    pytest.importorskip("ray", reason="the Ray engine's tests need pip install -e '.[ray]'")
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "skewless", "build", "skewless.definitions.flights:flights",
                          "--data", str(flights_parquet / "a.parquet"), "--out", str(tmp_path / "b"),
                          "--label", "arr_delay > 15", "--event-time", "time_hour", "--engine", "ray",
                          "--address", address], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert f"cannot reach the Ray cluster at '{address}'" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert time.perf_counter() - started < 60  # the probe itself gives up after 5 s (the rest is imports)
    assert not (tmp_path / "b").exists()


def test_ray_build_equals_the_single_machine_build(flights_parquet, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray", reason="the Ray engine's tests need pip install -e '.[ray]'")
    faults = tmp_path / "faults"
    faults.mkdir()
    monkeypatch.setenv("SKEWLESS_RAY_FAULT_DIR", str(faults))  # inherited by the workers of the Ray started here
    pytest.importorskip("moto", reason="the object-store source needs moto[server] (pip install -e '.[test]')")
    from test_object_store import s3_server

    from skewless.datasets import load_weather
    from skewless.definitions.flights_windows import load_departures

    load_weather().write_parquet(tmp_path / "weather.parquet")
    load_departures().write_parquet(tmp_path / "departures.parquet")
    s3 = s3_server(monkeypatch, {**{f"history/flights/{n}": flights_parquet / n for n in ("a.parquet", "b.parquet")},
                                 "history/weather.parquet": tmp_path / "weather.parquet",
                                 "history/departures.parquet": tmp_path / "departures.parquet"})
    # the workers import a udf's function by its module (benchmarks._udf_functions, from the repository root)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    s3.__enter__()  # before ray.init: the workers inherit its endpoint and credentials
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        source = str(flights_parquet / "*.parquet")
        single = build_dataset(flights_fitted, source, tmp_path / "single", **ARGS)
        assert single.manifest["rows"]["train"] > 0 and single.transformer.state
        # a worker killed after writing its part of the train split, before publishing it: retried, same result
        (faults / "written-train-1").touch()
        on_two = build_dataset(flights_fitted, source, tmp_path / "ray2", engine="ray", partitions=2, **ARGS)
        assert not (faults / "written-train-1").exists()  # the fault fired
        assert on_two.manifest["engine"]["partitions"] == 2
        _same_build(single.out_dir, on_two.out_dir, "2 partitions, one worker killed")
        assert not list((tmp_path / "ray2" / "train").glob(".*"))  # no staging leftovers
        on_five = build_dataset(flights_fitted, source, tmp_path / "ray5", engine="ray", partitions=5, **ARGS)
        _same_build(single.out_dir, on_five.out_dir, "5 partitions")
        # the same files on an S3-compatible object store (moto on loopback): every task reads its range there
        from_s3 = build_dataset(flights_fitted, "s3://history/flights/*.parquet", tmp_path / "ray_s3", engine="ray",
                                partitions=3, **ARGS)
        _same_build(single.out_dir, from_s3.out_dir, "3 partitions read from s3://")

        # a source larger than a task may hold: partition_rows bounds every partition
        # (and stats.json's quantiles from a sample of every k-th row: each partition's share is at its offset)
        bounded = build_dataset(flights_fitted, source, tmp_path / "ray_small", engine="ray", partitions=1,
                                partition_rows=20_000, quantile_rows=7_000, **{**ARGS, "split": (0.7, 0.85)})
        sizes = bounded.manifest["engine"]["partition_rows"]
        assert max(sizes) <= 20_000 and sum(sizes) == single.manifest["rows"]["total"] + \
            single.manifest["rows"]["dropped_without_event_time_or_label"]
        fractions = build_dataset(flights_fitted, source, tmp_path / "single_fr", split=(0.7, 0.85), quantile_rows=7_000,
                                  **{k: v for k, v in ARGS.items() if k != "split"})
        assert json.loads((fractions.out_dir / "stats.json").read_text())["features"]["distance_log_std"]["train"][
            "quantiles_from"] < 10_000
        _same_build(fractions.out_dir, bounded.out_dir, "row fractions, partitions of at most 20,000 rows")

        # entity-keyed features: the demo set with its lookups (planes: the declared source, a callable; weather:
        # given as a parquet file); each partition joins against only the table rows its keys can read
        from skewless.definitions.flights_state import flights_state

        tables = {"weather": str(tmp_path / "weather.parquet")}
        single_state = build_dataset(flights_state, source, tmp_path / "single_state", tables=tables, **ARGS)
        for p in (2, 5):
            on_ray = build_dataset(flights_state, source, tmp_path / f"state{p}", engine="ray", partitions=p,
                                   tables=tables, **ARGS)
            _same_build(single_state.out_dir, on_ray.out_dir, f"flights_state, {p} partitions")
            for f in ("golden_state.json",):
                assert (single_state.out_dir / f).read_bytes() == (on_ray.out_dir / f).read_bytes(), (p, f)
            assert on_ray.manifest["entity_tables"] == single_state.manifest["entity_tables"]
            shipped = on_ray.manifest["engine"]["entity_rows_shipped"]
            assert shipped["weather"]["rows"] == load_weather().height
            assert all(n < shipped[t]["rows"] for t in shipped for n in shipped[t]["rows_per_partition"])

        # windows: the demo set flights_windows (flights_state + the 11 departure windows, one of them lifetime);
        # the events are the declared source (every departure of 2013, while the rows are every 4th flight, here
        # in time order), each partition gets the events its rows' windows can read and computes them with the
        # single machine's kernel; at 5 partitions the lifetime window's group is shuffled by entity instead
        from skewless.definitions.flights_windows import flights_windows

        in_time = str(tmp_path / "flights_in_time.parquet")
        pl.read_parquet(source).sort("time_hour", maintain_order=True).write_parquet(in_time, row_group_size=10_000)
        single_win = build_dataset(flights_windows, in_time, tmp_path / "single_win", tables=tables, **ARGS)
        for p in (2, 5):
            # with 5 partitions the weather table and the departures come from the object store (s3:// URLs)
            given = dict(tables=tables) if p == 2 else dict(tables={"weather": "s3://history/weather.parquet"},
                                                            events={"departures": "s3://history/departures.parquet"})
            on_ray = build_dataset(flights_windows, in_time, tmp_path / f"win{p}", engine="ray", partitions=p,
                                   **given, **ARGS)
            _same_build(single_win.out_dir, on_ray.out_dir, f"flights_windows, {p} partitions")
            for f in ("golden_state.json", "golden_events.json"):
                assert (single_win.out_dir / f).read_bytes() == (on_ray.out_dir / f).read_bytes(), (p, f)
            for key in ("entity_tables", "event_sources") if p == 2 else ():
                assert on_ray.manifest[key] == single_win.manifest[key], (p, key)
            shipped = on_ray.manifest["engine"]["event_rows_shipped"]["departures"]
            assert len(shipped["rows_per_partition"]) == p
            assert all(n < shipped["rows"] for n in shipped["rows_per_partition"]), shipped
            # with 5 partitions the tail number's group (a lifetime window) would ship > 2 copies of the events:
            # it is shuffled by entity instead (each of its events to one bucket); with 2 it is cut
            shuffled = shipped.get("shuffled_by_entity")
            if p == 5:
                assert [g["entity"] for g in shuffled] == [["tailnum"]], shuffled
                assert sum(shuffled[0]["events_per_bucket"]) <= shipped["rows"]
            else:
                assert shuffled is None, shuffled
            assert not [q.name for q in tmp_path.glob(".*joined*")]  # the joined partitions are removed

        # a udf (a row-level feature, and a fitted op learning over one): the compiled kernels go to the workers
        import math

        from benchmarks._udf_functions import abs_log1p
        from skewless import Datetime, FeatureSet, Float64, Input, Int64, standardize, udf

        udf_set = FeatureSet("ray_udf", {"dep_delay": Input(Int64, nullable=True), "distance": Input(Int64),
                                         "time_hour": Input(Datetime("us", "UTC"))},
                             {"delay_log": udf(abs_log1p, "dep_delay", return_dtype=Float64),
                              "distance_log_std": standardize(udf(abs_log1p, "distance", return_dtype=Float64))})
        one = build_dataset(udf_set, source, tmp_path / "udf", **ARGS)
        two = build_dataset(udf_set, source, tmp_path / "udf2", engine="ray", partitions=2, **ARGS)
        _same_build(one.out_dir, two.out_dir, "a udf feature set, 2 partitions")
        first = pl.read_parquet(two.out_dir / "train" / "*.parquet").drop_nulls("delay_log").row(0, named=True)
        assert first["delay_log"] >= 0 and math.isfinite(first["distance_log_std"])

        # what a user also has: a stratified split (multiclass labels) of a CSV file, and a LazyFrame source —
        # the unsplittable sources are staged once as parquet next to the output, and the staging goes away
        import palmerpenguins

        from test_multiclass import penguins

        csv = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
        strat = dict(label="species", event_time=None, split_by="stratified", seed=7)
        one = build_dataset(penguins, str(csv), tmp_path / "peng", **strat)
        three = build_dataset(penguins, str(csv), tmp_path / "peng3", engine="ray", partitions=3, **strat)
        _same_build(one.out_dir, three.out_dir, "stratified multiclass split of a CSV, 3 partitions")
        assert three.manifest["label"]["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
        lazy = pl.scan_csv(csv, null_values=["NA", ""], schema_overrides={"flipper_length_mm": pl.Float64}) \
            .filter(pl.col("year") != 2008)
        rand = dict(label="species", event_time=None, split_by="random", seed=3)
        one = build_dataset(penguins, lazy, tmp_path / "lazy", **rand)
        two = build_dataset(penguins, lazy, tmp_path / "lazy2", engine="ray", partitions=2, **rand)
        _same_build(one.out_dir, two.out_dir, "a LazyFrame source, random split, 2 partitions")
        assert not [p.name for p in tmp_path.glob(".*source*")]  # the staged parquet is removed

        # a worker that dies on every attempt: the build fails naming the stage, and nothing looks complete
        (faults / "write-0.always").touch()
        with pytest.raises(BuildError, match="a worker died"):
            build_dataset(flights_fitted, source, tmp_path / "killed", engine="ray", partitions=2, **ARGS)
        assert not (tmp_path / "killed").exists()
        assert not list(tmp_path.glob(".killed*"))  # the temporary directory went too
    finally:
        ray.shutdown()
        s3.__exit__(None, None, None)
