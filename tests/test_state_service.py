"""Entity lookups end to end: build (tables joined point in time, golden state), train, the sealed bundle and
its self-check through a private store, and the real service reading the online store (SQLite by default in
the bundle's directory, Redis from settings): keys-only requests, 503 naming the store when it is down,
bad input, and /metrics."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil

import httpx
import polars as pl
import pytest
from fastapi.testclient import TestClient

from redis_server import RedisServer, redis_server  # noqa: F401 - a fixture
from skewless import (Datetime, EntityTable, FeatureSet, Float64, Input, Int64, Lookup, String, col,
                      standardize)
from skewless.bundle import BundleError, load_bundle, same_value
from skewless.bundle.loader import STORE_FILE
from skewless.runtime.tz import get_zone
from skewless.serving.app import create_app
from skewless.serving.settings import Settings
from skewless.state import RedisStore, SQLiteStore
from skewless.state.lookups import state_rows
from skewless.training.build import build_dataset
from skewless.training.train import train
from test_serving_http import Server

UTC = get_zone("UTC")
START = dt.datetime(2013, 1, 1, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)
FAST = {"num_boost_round": 30, "early_stopping_rounds": 5, "tracking": False}

weather = EntityTable("weather", key="origin", key_dtypes=String(), time="time_hour",
                      columns={"temp": Float64(), "wind": Float64()})
planes = EntityTable("planes", key="tailnum", key_dtypes=String(), columns={"seats": Int64(), "year": Int64()})

def _trips() -> FeatureSet:
    return FeatureSet(
        "trips",
        {"origin": String(), "tailnum": Input(String(), nullable=True), "time_hour": Datetime("us", "UTC"),
         "distance": Int64()},
        {"temp_std": standardize(col("weather_temp")), "wind": col("weather_wind"), "seats": col("plane_seats"),
         "plane_age": col("time_hour").dt.year() - col("plane_year"), "miles": col("distance") * 1},
        lookups=[Lookup(weather, by="origin", on="time_hour", tolerance=2 * HOUR, default={"wind": -1.0}),
                 Lookup(planes, by="tailnum", prefix="plane_")],
    )


TRIPS = _trips()


def _data(seed: int = 7):
    rng = random.Random(seed)
    hours = 24 * 30
    origins = ["EWR", "JFK", "LGA"]
    wx = []
    for h in range(hours):
        for o in origins:
            if rng.random() < 0.9:  # gaps: some hours have no observation
                wx.append((o, START + h * HOUR, round(rng.uniform(10, 90), 1), rng.choice([None, rng.uniform(0, 30)])))
    w = pl.DataFrame(wx, schema={"origin": pl.String, "time_hour": pl.Datetime("us", "UTC"), "temp": pl.Float64,
                                 "wind": pl.Float64}, orient="row")
    p = pl.DataFrame({"tailnum": [f"N{i}" for i in range(40)], "seats": [rng.randint(50, 300) for _ in range(40)],
                      "year": [rng.choice([None, rng.randint(1980, 2012)]) for _ in range(40)]})
    temps = {(o, t): temp for o, t, temp, _ in wx}
    rows = []
    for i in range(3000):
        t = START + rng.randrange(hours) * HOUR
        o = rng.choice(origins)
        tail = rng.choice([None, "N99", *[f"N{i}" for i in range(40)]])
        cold = temps.get((o, t), 50.0) < 30
        rows.append((o, tail, t, rng.randint(100, 2500), (rng.random() < 0.2) or (cold and rng.random() < 0.7)))
    flights = pl.DataFrame(rows, schema={"origin": pl.String, "tailnum": pl.String,
                                         "time_hour": pl.Datetime("us", "UTC"), "distance": pl.Int64,
                                         "late": pl.Boolean}, orient="row")
    return flights, {"weather": w, "planes": p}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("state_bundle")
    flights, tables = _data()
    result = build_dataset(TRIPS, flights, root / "build", label="late", event_time="time_hour",
                           split=(0.6, 0.8), tables=tables)
    train(root / "build", root / "bundle", **FAST)
    return root, flights, tables, result


def _materialize(store, fs, tables, at=None):
    for name, table in fs.lookups.tables.items():
        df = tables[name]
        if table.versioned and at is not None:
            df = df.filter(pl.col(table.time) <= at)
        store.load(name, state_rows(table, df.rows(named=True)))


def _bundle_copy(built, tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(built[0] / "bundle", dst)
    return dst


def test_build_records_the_tables_and_the_golden_state(built):
    root, flights, tables, result = built
    m = result.manifest
    assert m["entity_tables"]["weather"]["rows"] == tables["weather"].height
    assert m["entity_tables"]["planes"]["kind"] == "polars DataFrame"
    state = json.loads((root / "build" / m["golden_state"]).read_text())
    assert set(state["tables"]) == {"weather", "planes"} and state["tables"]["weather"]
    golden = pl.read_parquet(root / "build" / "golden_inputs.parquet")
    assert "weather_temp" in golden.columns and "plane_seats" in golden.columns
    # the build's training rows were joined point in time: no weather stamped after its row
    train_rows = pl.scan_parquet(root / "build" / "train" / "*.parquet").collect()
    assert train_rows.height == result.rows["train"]


def test_bundle_self_check_covers_the_lookups(built, tmp_path):
    bundle = load_bundle(built[0] / "bundle")
    assert bundle.manifest["golden"]["state_file"] == "golden_state.json"
    assert bundle.self_check() == []
    looked = bundle.golden_lookups()
    assert len(looked) == len(bundle.golden_rows()) and any(r["weather_temp"] is not None for r in looked)
    # the golden state is sealed like every file
    copy = _bundle_copy(built, tmp_path)
    doc = json.loads((copy / "golden_state.json").read_text())
    doc["tables"]["weather"][0]["temp"] = 1234.5
    (copy / "golden_state.json").write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="golden_state.json"):
        load_bundle(copy)


def test_golden_state_that_disagrees_fails_the_self_check(built, tmp_path):
    from skewless.bundle.seal import reseal

    copy = _bundle_copy(built, tmp_path)
    doc = json.loads((copy / "golden_state.json").read_text())
    for row in doc["tables"]["weather"]:
        row["temp"] = 1234.5
    (copy / "golden_state.json").write_text(json.dumps(doc))
    reseal(copy)
    problems = load_bundle(copy).self_check()
    assert problems and "lookup 'weather_temp' read 1234.5 from the store" in problems[0]


def test_service_reads_the_embedded_store_in_the_bundle_directory(built, tmp_path):
    root, flights, tables, _ = built
    bundle_dir = _bundle_copy(built, tmp_path)
    store = SQLiteStore(bundle_dir / STORE_FILE)
    at = START + 10 * 24 * HOUR
    _materialize(store, TRIPS, tables, at)
    store.close()
    load_bundle(bundle_dir)  # the store's files are not part of the sealed bundle
    fitted = load_bundle(bundle_dir).transformer
    requests = [{"origin": "EWR", "tailnum": "N3", "time_hour": at}, {"origin": "JFK", "tailnum": None, "time_hour": at},
                {"origin": "BOS", "tailnum": "N99", "time_hour": at}]
    spine = pl.DataFrame([{**r, "distance": 500} for r in requests],
                         schema={"origin": pl.String, "tailnum": pl.String, "time_hour": pl.Datetime("us", "UTC"),
                                 "distance": pl.Int64})
    want = fitted.transform(spine, tables=tables).collect().rows(named=True)
    app = create_app(Settings(bundle=bundle_dir))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        for r, w in zip(requests, want):
            body = {**r, "time_hour": r["time_hour"].isoformat(), "distance": 500}
            got = client.post("/v1/features", json=body)
            assert got.status_code == 200, got.text
            feats = got.json()["features"]
            assert feats["miles"] == 500 and same_value(feats["seats"], w["seats"])
            assert same_value(feats["wind"], w["wind"]) and same_value(feats["plane_age"], w["plane_age"])
        assert client.post("/v1/predict", json={**body, "origin": "LGA"}).status_code == 200
        # bad input: a looked-up column is not a request field; a wrong key type names the field
        bad = client.post("/v1/predict", json={**body, "weather_temp": 3.0})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "weather_temp"
        bad = client.post("/v1/predict", json={**body, "origin": 7})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "origin"
        bad = client.post("/v1/predict", json={**body, "origin": None})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "origin"
        metrics = client.get("/metrics").text
        assert "skewless_store_read_duration_seconds_count" in metrics
        misses = [line for line in metrics.splitlines() if line.startswith("skewless_lookup_misses_total")]
        assert misses and float(misses[0].split()[-1]) >= 2  # BOS and N99
        meta = client.get("/v1/metadata").json()
        assert "weather_temp" not in meta["input_schema"]


def test_readyz_reports_an_empty_store(built, tmp_path):
    app = create_app(Settings(bundle=_bundle_copy(built, tmp_path)))
    with TestClient(app) as client:
        r = client.get("/readyz")
        assert r.status_code == 503 and "was never loaded into the online store sqlite:" in r.text


def test_real_uvicorn_with_redis_keys_only_and_503_when_redis_is_down(built, tmp_path):
    root, flights, tables, _ = built
    bundle_dir = _bundle_copy(built, tmp_path)
    server = RedisServer(tmp_path / "redis")
    try:
        store = RedisStore(server.url)
        at = START + 12 * 24 * HOUR
        _materialize(store, TRIPS, tables, at)
        store.close()
        body = {"origin": "LGA", "tailnum": "N5", "time_hour": at.isoformat(), "distance": 800}
        with Server(bundle_dir, tmp_path, store=server.url, store_timeout="0.5") as srv:
            r = httpx.post(srv.url + "/v1/predict?include_features=true", json=body, timeout=30)
            assert r.status_code == 200, r.text
            assert r.json()["features"]["miles"] == 800
            server.stop()  # the store goes away
            for path in ("/v1/predict", "/v1/features"):
                r = httpx.post(srv.url + path, json=body, timeout=30)
                assert r.status_code == 503, r.text
                assert r.json()["store"] == server.url and "unavailable" in r.json()["detail"]
            r = httpx.post(srv.url + "/v1/predict/batch", json={"rows": [body, body]}, timeout=30)
            assert r.status_code == 503 and r.json()["store"] == server.url
            ready = httpx.get(srv.url + "/readyz", timeout=30)
            assert ready.status_code == 503 and server.url in ready.text
            assert "skewless_store_unavailable_total 3.0" in httpx.get(srv.url + "/metrics", timeout=30).text
    finally:
        server.stop()


def test_cli_build_takes_entity_tables_as_name_equals_path(built, tmp_path, capsys):
    from skewless.cli import run

    flights, tables = _data()
    flights.write_parquet(tmp_path / "flights.parquet")
    for name, df in tables.items():
        df.write_parquet(tmp_path / f"{name}.parquet")
    args = ["build", f"{__file__}:TRIPS", "--data", str(tmp_path / "flights.parquet"), "--out",
            str(tmp_path / "build"), "--label", "late", "--event-time", "time_hour", "--split", "0.6,0.8"]
    assert run([*args, "--table", f"weather={tmp_path / 'weather.parquet'}"]) == 2
    assert "entity table 'planes': no data" in capsys.readouterr().err
    assert run([*args, "--table", "weather"]) == 2
    assert "expected NAME=PATH" in capsys.readouterr().err
    assert run([*args, "--table", f"weather={tmp_path / 'weather.parquet'}",
                "--table", f"planes={tmp_path / 'planes.parquet'}"]) == 0
    m = json.loads((tmp_path / "build" / "build.json").read_text())
    assert m["entity_tables"]["planes"]["kind"] == "files" and m["golden_state"] == "golden_state.json"
    # the same rows as the in-memory build: the features do not depend on how the tables were read
    a = pl.scan_parquet(tmp_path / "build" / "test" / "*.parquet").collect()
    b = pl.scan_parquet(built[0] / "build" / "test" / "*.parquet").collect()
    assert a.columns == b.columns and a.height == b.height
    diff = [c for c in a.columns if not a[c].equals(b[c])]
    assert not diff, (diff, a.head(3), b.head(3))


def test_leakage_through_the_build_state_one_microsecond_after_a_row_is_never_joined(tmp_path):
    flights, tables = _data(seed=11)
    # a poisoned weather state 1 µs after every flight's time T, its value naming T (minus hours since the
    # epoch): a row at T never gets its own poison (a later row may: the state is in its past then)
    def mark(t):
        return -(pl.col(t).dt.epoch("s") // 3600).cast(pl.Float64)

    poison = (flights.select("origin", "time_hour").unique()
              .with_columns(temp=mark("time_hour"), wind=mark("time_hour"),
                            time_hour=pl.col("time_hour") + pl.duration(microseconds=1)))
    tables = {**tables, "weather": pl.concat([tables["weather"], poison]).sort("time_hour")}
    result = build_dataset(TRIPS, flights, tmp_path / "build", label="late", event_time="time_hour",
                           split=(0.6, 0.8), tables=tables)
    later = 0
    for split in ("train", "valid", "test"):
        rows = pl.scan_parquet(tmp_path / "build" / split / "*.parquet").collect().with_columns(own=mark("time_hour"))
        assert rows.height == result.rows[split]
        assert rows.filter(pl.col("wind") == pl.col("own")).height == 0, split
        later += rows.filter(pl.col("wind") < -300_000).height  # an earlier hour's poison: in the past, fine
    assert later > 0  # (the poison is joinable at all: the test could fail)
    golden = pl.read_parquet(tmp_path / "build" / "golden_inputs.parquet").with_columns(own=mark("time_hour"))
    assert golden.filter(pl.col("weather_wind") == pl.col("own")).height == 0
    # online: a store holding the poisoned (future) state answers the default, never its value
    store = SQLiteStore(tmp_path / "s.db")
    _materialize(store, TRIPS, tables)
    row = flights.row(0, named=True)
    got = TRIPS.lookup_fn(store)(row)
    assert got["weather_wind"] == -1.0 and got["weather_temp"] is None  # the newest state is 1 µs in the future
    assert TRIPS.replay_parity(flights, tables, SQLiteStore(tmp_path / "r.db")).ok
    store.close()


def test_entity_upserts_through_the_service_feed_its_lookups(built, tmp_path):
    bundle_dir = _bundle_copy(built, tmp_path)
    at = START + 5 * 24 * HOUR
    store = SQLiteStore(bundle_dir / STORE_FILE)
    _materialize(store, TRIPS, built[2], at)
    store.close()
    app = create_app(Settings(bundle=bundle_dir))
    body = {"origin": "EWR", "tailnum": "N1", "time_hour": at.isoformat(), "distance": 10}
    with TestClient(app) as client:
        before = client.post("/v1/features", json=body).json()["features"]
        r = client.post("/v1/entities/weather", json={"rows": [
            {"origin": "EWR", "time_hour": at.isoformat(), "temp": 20.0, "wind": 3.5}]})
        assert r.status_code == 200, r.text
        after = client.post("/v1/features", json=body).json()["features"]
        assert after["wind"] == 3.5 and before != after
        late = client.post("/v1/entities/weather", json={"rows": [
            {"origin": "EWR", "time_hour": (at - HOUR).isoformat(), "temp": 0.0, "wind": 9.0}]})
        assert late.status_code == 200  # an older write is dropped by the store: newer state stays
        assert client.post("/v1/features", json=body).json()["features"]["wind"] == 3.5
        bad = client.post("/v1/entities/weather", json={"rows": [{"origin": "EWR", "time_hour": at.isoformat(),
                                                                   "temp": "warm", "wind": 1.0}]})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "temp"


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_replay_parity_of_the_demo_set_on_flights_spread_over_the_year(kind, tmp_path, request):
    """The CI sample of the whole-table replay (``skewless demo --replay-rows 0``, with ``--replay-store
    redis://...`` for Redis): 4,000 flights from January to December, planes and weather, 0 mismatches."""
    import uuid

    from skewless.datasets import load_flights, load_planes, load_weather
    from skewless.definitions.flights_state import flights_state

    flights = load_flights().select(list(flights_state.lookups.request_columns))
    spine = flights.gather_every(flights.height // 4000).head(4000)
    tables = {"planes": load_planes(), "weather": load_weather()}
    store = (SQLiteStore(tmp_path / "replay.db") if kind == "sqlite" else
             RedisStore(request.getfixturevalue("redis_server").url, namespace=f"t{uuid.uuid4().hex[:12]}:"))
    try:
        report = flights_state.replay_parity(spine, tables, store)
    finally:
        store.close()
    assert report.ok and report.rows == 4000 and report.values == 4000 * 9, report.examples
    joined = flights_state.join_lookups(spine, tables).collect()
    assert joined["wx_temp"].null_count() < 100 and joined["plane_year"].null_count() < 1000
