"""Ingesting entity rows (skewless.state.ingest) and the upsert endpoint (skewless.serving.entities): rows
validated like requests with errors naming the row and column, event times from the rows (or the call, for
a static table), late writes never overwriting newer state — on SQLite and a real Redis; the endpoint's
200/404/422/503 answers, over a real uvicorn server for the store-down case."""

from __future__ import annotations

import datetime as dt
import math

import threading
import time
import uuid

import httpx
import pytest

from redis_server import free_port, redis_server  # noqa: F401 - a fixture
from skewless.dtypes import Boolean, Datetime, Float64, Int64, String
from skewless.runtime.tz import get_zone
from skewless.state import RedisStore, SQLiteStore
from skewless.state.ingest import EntityRowError, ingest
from skewless.state.lookups import EntityTable, Lookup, Lookups

UTC = get_zone("UTC")
NY = get_zone("America/New_York")
T = dt.datetime(2013, 1, 1, 6, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)

weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                      columns={"temp": Float64(), "seen": Datetime("us", "America/New_York")})
planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),), columns={"year": Int64(), "jet": Boolean()})
gates = EntityTable("gates", key=("airport", "gate"), key_dtypes=(String(), Int64()), time="at", columns={"open": Boolean()})


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "state.db")
    else:
        s = RedisStore(request.getfixturevalue("redis_server").url, namespace=f"t{uuid.uuid4().hex[:12]}:")
    yield s
    s.close()


def w(origin, at, temp, seen=None):
    return {"origin": origin, "time_hour": at, "temp": temp, "seen": seen}


# -- the Python API --------------------------------------------------------------------------------------------
def test_rows_are_written_with_their_event_times_and_types(store):
    seen = dt.datetime(2013, 1, 1, 1, 30, tzinfo=NY)
    got = ingest(store, weather, [w("EWR", T, 1.5, seen.astimezone(UTC)), w("JFK", "2013-01-01T07:00:00+01:00",
                                                                          math.nan)])
    assert got.rows == 2 and got.table == "weather"
    ewr, jfk = store.get_many([("weather", ("EWR",)), ("weather", ("JFK",))])
    assert ewr.event_time == 1357020000_000000 and ewr.values["temp"] == 1.5
    assert ewr.values["seen"] == seen and str(ewr.values["seen"].tzinfo) == "America/New_York"  # declared zone
    assert jfk.event_time == 1357020000_000000 and math.isnan(jfk.values["temp"]) and jfk.values["seen"] is None


def test_a_late_write_never_overwrites_newer_state(store):
    ingest(store, weather, [w("EWR", T + HOUR, 2.0)])
    ingest(store, weather, [w("EWR", T, 1.0)])  # older: dropped
    assert store.get_many([("weather", ("EWR",))])[0].values["temp"] == 2.0
    ingest(store, weather, [w("EWR", T + HOUR, 3.0)])  # equal: the later write wins
    assert store.get_many([("weather", ("EWR",))])[0].values["temp"] == 3.0
    ingest(store, weather, [w("EWR", T + 2 * HOUR, 4.0), w("EWR", T - HOUR, 0.0)])  # one call, out of order
    state = store.get_many([("weather", ("EWR",))])[0]
    assert state.values["temp"] == 4.0 and state.event_time == 1357020000_000000 + 2 * 3600_000000
    # and a lookup reads it as of the request time
    online = Lookups({"origin": String(), "t": Datetime("us", "UTC")},
                     [Lookup(weather, by=("origin",), on="t")]).online(store)
    assert online({"origin": "EWR", "t": T + 2 * HOUR})["weather_temp"] == 4.0
    assert online({"origin": "EWR", "t": T + HOUR})["weather_temp"] is None  # never the future value


def test_a_static_table_takes_the_calls_event_time(store):
    ingest(store, planes, [{"tailnum": "N1", "year": 1999, "jet": True}], event_time=T + HOUR)
    ingest(store, planes, [{"tailnum": "N1", "year": 1, "jet": False}], event_time=T)  # an older correction
    assert store.get_many([("planes", ("N1",))])[0].values == {"year": 1999, "jet": True}
    with pytest.raises(EntityRowError, match="'planes': event_time: a static table's writes need event_time="):
        ingest(store, planes, [{"tailnum": "N1", "year": 1, "jet": False}])
    with pytest.raises(EntityRowError, match="'weather': event_time: a time-versioned table's rows carry"):
        ingest(store, weather, [w("EWR", T, 1.0)], event_time=T)


@pytest.mark.parametrize("rows, field, message", [
    ([w(1, T, 1.0)], "rows[0].origin", "valid string"),
    ([w(None, T, 1.0)], "rows[0].origin", "null in a key column"),
    ([w("EWR", None, 1.0)], "rows[0].time_hour", "null event time"),
    ([w("EWR", dt.datetime(2013, 1, 1), 1.0)], "rows[0].time_hour", "timezone"),
    ([w("EWR", "1357020000", 1.0)], "rows[0].time_hour", "ISO 8601"),
    ([w("EWR", T, "1.0")], "rows[0].temp", "valid number"),
    ([w("EWR", T, 1.0), {**w("EWR", T, True)}], "rows[1].temp", "valid number"),
    ([{**w("EWR", T, 1.0), "wind": 3.0}], "rows[0].wind", "not a declared column"),
    ([{"origin": "EWR", "time_hour": T, "temp": 1.0}], "rows[0].seen", "missing"),
    (["EWR"], "rows[0]", "expected a mapping"),
])
def test_invalid_rows_name_the_row_and_column_and_nothing_is_written(store, rows, field, message):
    with pytest.raises(EntityRowError) as err:
        ingest(store, weather, [w("LGA", T, 9.0), *rows])
    fields = [f for f, _ in err.value.errors]
    shifted = field.replace(f"rows[{field[5]}]", f"rows[{int(field[5]) + 1}]")
    assert fields == [shifted] and message in err.value.errors[0][1], err.value.errors
    assert str(err.value).startswith(f"entity table 'weather': {shifted}: ")
    assert store.get_many([("weather", ("LGA",))]) == [None]


def test_composite_keys_and_strict_key_types(store):
    ingest(store, gates, [{"airport": "EWR", "gate": 1, "at": T, "open": True}])
    assert store.get_many([("gates", ("EWR", 1))])[0].values == {"open": True}
    for bad in (True, 1.0, "1"):
        with pytest.raises(EntityRowError, match=r"rows\[0\]\.gate"):
            ingest(store, gates, [{"airport": "EWR", "gate": bad, "at": T, "open": True}])


def test_extra_ignore_and_non_finite_refusal():
    store = SQLiteStore(":memory:")
    ingest(store, weather, [{**w("EWR", T, 1.0), "wind": 3.0}], extra="ignore")
    assert store.get_many([("weather", ("EWR",))])[0].values == {"temp": 1.0, "seen": None}
    with pytest.raises(EntityRowError, match=r"rows\[0\]\.temp"):
        ingest(store, weather, [w("EWR", T, math.inf)], allow_non_finite=False)


# -- the endpoint ------------------------------------------------------------------------------------------------
def small_app(get_store):
    from fastapi import FastAPI

    from skewless.serving.entities import entities_router

    app = FastAPI()
    app.include_router(entities_router([weather, planes], get_store, max_rows=3, max_errors=2))
    return app


def test_the_endpoint_upserts_validated_rows(tmp_path):
    from fastapi.testclient import TestClient

    store = SQLiteStore(tmp_path / "s.db")
    client = TestClient(small_app(lambda: store))
    ok = client.post("/v1/entities/weather", json={"rows": [
        {"origin": "EWR", "time_hour": "2013-01-01T06:00:00+00:00", "temp": 1, "seen": None}]})
    assert ok.status_code == 200 and ok.json() == {"table": "weather", "rows": 1}
    state = store.get_many([("weather", ("EWR",))])[0]
    assert state.values["temp"] == 1.0 and type(state.values["temp"]) is float and state.event_time == 1357020000_000000
    late = client.post("/v1/entities/weather", json={"rows": [
        {"origin": "EWR", "time_hour": "2013-01-01T05:00:00+00:00", "temp": 0.0, "seen": None}]})
    assert late.status_code == 200 and store.get_many([("weather", ("EWR",))])[0].values["temp"] == 1.0
    static = client.post("/v1/entities/planes", json={"event_time": "2013-01-01T00:00:00Z",
                                                      "rows": [{"tailnum": "N1", "year": 1999, "jet": True}]})
    assert static.status_code == 200 and store.get_many([("planes", ("N1",))])[0].values["year"] == 1999
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/entities/weather"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["rows"]["maxItems"] == 3 and "$ref" not in str(body)
    assert "/v1/entities/{table}" not in spec["paths"]


@pytest.mark.parametrize("path, body, status, where", [
    ("/v1/entities/runways", {"rows": []}, 404, "no entity table 'runways'; this service writes ['planes', 'weather']"),
    ("/v1/entities/weather", {"rows": [{"origin": None, "time_hour": "2013-01-01T06:00:00Z", "temp": 1.0,
                                        "seen": None}]}, 422, ["body", "rows", 0, "origin"]),
    ("/v1/entities/weather", {"rows": [{"origin": "EWR", "time_hour": "2013-01-01T06:00:00", "temp": 1.0,
                                        "seen": None}]}, 422, ["body", "rows", 0, "time_hour"]),
    ("/v1/entities/weather", {"rows": [{"origin": "EWR", "time_hour": "2013-01-01T06:00:00Z", "temp": True,
                                        "seen": None}]}, 422, ["body", "rows", 0, "temp"]),
    ("/v1/entities/weather", {"rows": [{"origin": "EWR", "time_hour": "2013-01-01T06:00:00Z", "temp": 1.0,
                                        "seen": None, "x": 1}]}, 422, ["body", "rows", 0, "x"]),
    ("/v1/entities/weather", {"rows": [{}] * 4}, 422, ["body", "rows"]),
    ("/v1/entities/weather", {"rows": [], "event_time": "2013-01-01T00:00:00Z"}, 422, ["body", "event_time"]),
    ("/v1/entities/planes", {"rows": []}, 422, ["body", "event_time"]),
])
def test_the_endpoint_refuses_bad_input_naming_the_field(tmp_path, path, body, status, where):
    from fastapi.testclient import TestClient

    store = SQLiteStore(tmp_path / "s.db")
    got = TestClient(small_app(lambda: store)).post(path, json=body)
    assert got.status_code == status, got.text
    detail = got.json()["detail"]
    if status == 404:
        assert detail == where
    else:
        assert detail[0]["loc"] == where, detail
    assert store.version("weather") is None  # nothing written


def test_the_endpoint_bounds_its_errors(tmp_path):
    from fastapi.testclient import TestClient

    store = SQLiteStore(tmp_path / "s.db")
    got = TestClient(small_app(lambda: store)).post("/v1/entities/weather", json={"rows": [{}] * 3})
    detail = got.json()["detail"]
    assert got.status_code == 422 and len(detail) == 3 and detail[-1]["type"] == "too_many_errors"
    assert "12 in all" in detail[-1]["msg"]


class Uvicorn:
    """A real uvicorn server for ``app`` on a free loopback port, in a thread."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(30)


def test_store_down_is_a_503_naming_the_store_over_real_uvicorn(redis_server):  # noqa: F811
    store = RedisStore(redis_server.url, timeout=0.5, namespace=f"t{uuid.uuid4().hex[:12]}:")
    dead = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)  # nothing listens there
    current = {"store": store}
    row = {"origin": "EWR", "time_hour": "2013-01-01T06:00:00+00:00", "temp": 2.5, "seen": None}
    with Uvicorn(small_app(lambda: current["store"])) as url:
        assert httpx.post(f"{url}/v1/entities/weather", json={"rows": [row]}, timeout=10).status_code == 200
        assert store.get_many([("weather", ("EWR",))])[0].values["temp"] == 2.5
        current["store"] = dead
        got = httpx.post(f"{url}/v1/entities/weather", json={"rows": [row]}, timeout=10)
        assert got.status_code == 503, got.text
        assert got.json()["store"] == dead.name and got.json()["detail"].startswith(f"online store {dead.name} is "
                                                                                    "unavailable")
        # a 503 is an answer, not a broken server: the next request is served again
        current["store"] = store
        assert httpx.post(f"{url}/v1/entities/weather", json={"rows": [row]}, timeout=10).status_code == 200
    store.close()
    dead.close()


def test_a_locked_sqlite_store_is_a_503(tmp_path):
    import sqlite3

    from fastapi.testclient import TestClient

    store = SQLiteStore(tmp_path / "s.db", timeout=0.2)
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        got = TestClient(small_app(lambda: store)).post("/v1/entities/weather", json={"rows": [
            {"origin": "EWR", "time_hour": "2013-01-01T06:00:00Z", "temp": 1.0, "seen": None}]})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert got.status_code == 503 and got.json()["store"] == store.name and "locked" in got.json()["detail"]


def test_serving_entities_imports_no_polars():
    import subprocess
    import sys

    code = "import sys, skewless.serving.entities, skewless.state.ingest; assert 'polars' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0



