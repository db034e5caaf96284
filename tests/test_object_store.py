"""Sources on an object store: a build reads ``s3://bucket/key`` (and globs of it) from an S3-compatible server —
moto's, started here on a free loopback port — with the credentials and endpoint from the environment, and
writes the same build as from local files. (The Ray engine reads them too: tests/test_ray_build.py.)"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from skewless.errors import SkewlessError
from skewless.training.build import SPLITS, build_dataset

pytest.importorskip("moto", reason="the object-store tests need moto[server] (pip install -e '.[test]')")

SPLIT = ("2013-10-01", "2013-11-01")
ARGS = dict(label="arr_delay > 15", event_time="time_hour", split=SPLIT)


@contextlib.contextmanager
def s3_server(monkeypatch: pytest.MonkeyPatch, files: dict[str, Path]) -> Iterator[str]:
    """A moto S3 server on ``127.0.0.1:<free port>`` holding ``files`` (``bucket/key`` -> local file); the
    environment points polars (and any Ray worker started after this) at it. Yields the endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "skewless-test", "AWS_SECRET_ACCESS_KEY": "skewless-test",
                        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true"}.items():
        monkeypatch.setenv(name, value)
    try:
        client = boto3.client("s3")
        for bucket in sorted({k.partition("/")[0] for k in files}):
            client.create_bucket(Bucket=bucket)
        for key, path in files.items():
            bucket, _, name = key.partition("/")
            client.upload_file(str(path), bucket, name)
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
def flights_parquet(tmp_path_factory) -> Path:
    """Every 8th flight of 2013 in two parquet files."""
    from skewless.datasets import load_flights

    df = load_flights().gather_every(8)
    where = tmp_path_factory.mktemp("flights")
    df.slice(0, df.height // 2).write_parquet(where / "a.parquet")
    df.slice(df.height // 2).write_parquet(where / "b.parquet")
    return where


def test_a_build_from_s3_urls_equals_the_build_from_local_files(flights_parquet, tmp_path, monkeypatch):
    from skewless.definitions.flights_fitted import flights_fitted

    local = build_dataset(flights_fitted, str(flights_parquet / "*.parquet"), tmp_path / "local", **ARGS)
    files = {f"history/flights/{n}": flights_parquet / n for n in ("a.parquet", "b.parquet")}
    with s3_server(monkeypatch, files):
        glob = build_dataset(flights_fitted, "s3://history/flights/*.parquet", tmp_path / "glob", **ARGS)
        listed = build_dataset(flights_fitted, ["s3://history/flights/a.parquet", "s3://history/flights/b.parquet"],
                               tmp_path / "listed", **ARGS)
        with pytest.raises(SkewlessError, match="nope.parquet"):  # a missing object names itself
            build_dataset(flights_fitted, "s3://history/flights/nope.parquet", tmp_path / "missing", **ARGS)
        with pytest.raises(SkewlessError, match="only parquet is read from an object store"):
            build_dataset(flights_fitted, "s3://history/flights/a.csv", tmp_path / "csv", **ARGS)
    for other in (glob, listed):
        for s in SPLITS:
            a, b = (pl.read_parquet(r.out_dir / s / "*.parquet") for r in (local, other))
            assert a.height > 0 and a.equals(b, null_equal=True), s
        assert (local.out_dir / "stats.json").read_bytes() == (other.out_dir / "stats.json").read_bytes()
        assert local.transformer.state_fingerprint == other.transformer.state_fingerprint
        source = json.loads((other.out_dir / "build.json").read_text())["source"]
        assert source["paths"][0].startswith("s3://history/flights/") and source["files"] == []
    assert not (tmp_path / "missing").exists() and not (tmp_path / "csv").exists()


def test_entity_tables_and_event_sources_from_s3_urls_equal_local_files(flights_parquet, tmp_path, monkeypatch):
    """The windowed demo set with its weather table and its departures given as s3:// URLs: the same build as
    from the local files (the Ray engine reads them the same way, on its driver: tests/test_ray_build.py)."""
    from skewless.datasets import load_weather
    from skewless.definitions.flights_windows import flights_windows, load_departures

    load_weather().write_parquet(tmp_path / "weather.parquet")
    load_departures().write_parquet(tmp_path / "departures.parquet")
    source = str(flights_parquet / "*.parquet")
    local = build_dataset(flights_windows, source, tmp_path / "local", tables={"weather": str(tmp_path / "weather.parquet")},
                          events={"departures": str(tmp_path / "departures.parquet")}, **ARGS)
    files = {"state/weather.parquet": tmp_path / "weather.parquet", "state/departures.parquet": tmp_path / "departures.parquet"}
    with s3_server(monkeypatch, files):
        remote = build_dataset(flights_windows, source, tmp_path / "remote", tables={"weather": "s3://state/weather.parquet"},
                               events={"departures": "s3://state/departures.parquet"}, **ARGS)
        with pytest.raises(SkewlessError, match="nope.parquet"):  # a missing object names itself
            build_dataset(flights_windows, source, tmp_path / "missing", tables={"weather": "s3://state/nope.parquet"},
                          events={"departures": "s3://state/departures.parquet"}, **ARGS)
    for s in SPLITS:
        a, b = (pl.read_parquet(r.out_dir / s / "*.parquet") for r in (local, remote))
        assert a.height > 0 and a.equals(b, null_equal=True), s
    for f in ("stats.json", "golden_state.json", "golden_events.json"):
        assert (local.out_dir / f).read_bytes() == (remote.out_dir / f).read_bytes(), f
    assert local.transformer.state_fingerprint == remote.transformer.state_fingerprint
    assert remote.manifest["entity_tables"]["weather"] == {"kind": "files", "paths": ["s3://state/weather.parquet"],
                                                           "rows": local.manifest["entity_tables"]["weather"]["rows"]}
    assert remote.manifest["event_sources"]["departures"]["paths"] == ["s3://state/departures.parquet"]
    assert "sha256" not in remote.manifest["event_sources"]["departures"]
    assert not (tmp_path / "missing").exists()
