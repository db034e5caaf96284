"""Windows end to end on the service: the bundle's golden rows with windows, the real uvicorn server reading
window state from the store (materialized by ``skewless materialize --events``, then ``POST /v1/events``):
good, duplicate, conflicting, late and invalid events, a request that sees an ingested event, a request before
the state horizon, 503 when the store is down; ``skewless build --events``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import polars as pl
import pytest

from redis_server import RedisServer
from skewless.state import RedisStore, SQLiteStore
from skewless.state.replay import same_value
from skewless.windows.flights import flight_frames
from test_serving_http import Server
from test_windows_feature_set import flights_w

FEATURE_SET = f"{Path(__file__).parent / 'test_windows_feature_set.py'}:flights_w"
FAST = {"num_boost_round": 20, "early_stopping_rounds": 5, "tracking": False}
NEW_ID = 10 ** 9


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from skewless.datasets import load_flights
    from skewless.training.build import build_dataset
    from skewless.training.train import train

    root = tmp_path_factory.mktemp("windows_service")
    fl = load_flights()
    fl = fl.filter(pl.col("time_hour") < fl["time_hour"].min() + dt.timedelta(days=4))
    events, _ = flight_frames(fl)
    fl.write_parquet(root / "flights.parquet")
    events.write_parquet(root / "events.parquet")
    build_dataset(flights_w, fl, root / "build", label="arr_delay > 15", event_time="time_hour", split=(0.6, 0.8),
                  events={"flights": events})
    train(root / "build", root / "bundle", feature_set=flights_w, **FAST)
    return root, fl, events


def _as_of(fl):
    first = fl["time_hour"].min()
    return dt.datetime(first.year, first.month, first.day + 2, 12, tzinfo=dt.timezone.utc)


def _tail(events, before):
    """A tail number that departed in the 24 h before ``before``."""
    recent = events.filter((pl.col("dep_at") < before) & (pl.col("dep_at") >= before - dt.timedelta(hours=6))
                           & pl.col("tailnum").is_not_null())
    return recent.row(0, named=True)


def _request(ev, at):
    return {"tailnum": ev["tailnum"], "carrier": ev["carrier"], "origin": ev["origin"], "dest": ev["dest"],
            "time_hour": at.replace(minute=0).isoformat(), "sched_dep_time": at.hour * 100 + at.minute,
            "distance": 500}


def _event(ev, at, **changes):
    out = {"event_id": NEW_ID, "dep_at": at.isoformat(), "tailnum": ev["tailnum"], "carrier": ev["carrier"],
           "origin": ev["origin"], "dest": ev["dest"], "dep_delay": 3, "air_time": 100}
    out.update(changes)
    return out


def test_materialize_with_events_then_ingest_then_serve_on_a_real_server(served, tmp_path):
    from skewless.cli import run

    root, fl, events = served
    t = _as_of(fl)
    server = RedisServer(tmp_path / "redis")
    try:
        # the windows' state from the history up to T (the CLI: events as NAME=PATH, --as-of)
        assert run(["materialize", FEATURE_SET, "--store", server.url,
                    "--events", f"flights={root / 'events.parquet'}", "--as-of", t.isoformat()]) == 0
        ev = _tail(events, t)
        request = _request(ev, t + dt.timedelta(minutes=5))
        with Server(root / "bundle", tmp_path, store=server.url, store_timeout="0.5") as srv:
            def features(body):
                r = httpx.post(srv.url + "/v1/features", json=body, timeout=30)
                assert r.status_code == 200, r.text
                return r.json()["features"]

            before = features(request)["so_far"]
            want = flights_w.transform(pl.DataFrame([request]).with_columns(
                pl.col("time_hour").str.to_datetime(time_zone="UTC", time_unit="us")),
                events={"flights": events.filter(pl.col("dep_at") <= t)}).collect().row(0, named=True)
            assert before == want["so_far"]
            new = _event(ev, t + dt.timedelta(minutes=1))
            r = httpx.post(srv.url + "/v1/events", json={"events": [new]}, timeout=30)
            assert r.status_code == 200 and r.json() == {"source": "flights", "events": 1, "duplicate_updates": 0}, r.text
            assert features(request)["so_far"] == before + 1  # the request after the ingest sees the event
            # the same event again: a no-op (idempotent on the event id), on both routes
            r = httpx.post(srv.url + "/v1/events/flights", json={"events": [new]}, timeout=30)
            assert r.status_code == 200 and r.json()["duplicate_updates"] == 3  # tail, carrier-origin, route, r.text
            assert features(request)["so_far"] == before + 1
            # the same id with other contents, and an event older than the tail's state horizon: 409, not written
            r = httpx.post(srv.url + "/v1/events", json={"events": [_event(ev, t + dt.timedelta(minutes=1),
                                                                           dep_delay=99)]}, timeout=30)
            assert r.status_code == 409 and r.json()["kind"] == "conflict", r.text
            late = _event(ev, t - dt.timedelta(days=2), event_id=NEW_ID + 1)
            r = httpx.post(srv.url + "/v1/events", json={"events": [late]}, timeout=30)
            assert r.status_code == 409 and r.json()["kind"] == "late" and "horizon" in r.json()["detail"], r.text
            assert features(request)["so_far"] == before + 1
            # invalid events: 422 naming the field, nothing written
            for bad, loc in [({**new, "event_id": NEW_ID + 2, "dep_delay": "late"}, "dep_delay"),
                             ({k: v for k, v in new.items() if k != "dep_at"}, "dep_at"),
                             ({**new, "event_id": None}, "event_id"),
                             ({**new, "gate": "B7"}, "gate")]:
                r = httpx.post(srv.url + "/v1/events", json={"events": [new | {"event_id": NEW_ID + 3}, bad]},
                               timeout=30)
                assert r.status_code == 422, r.text
                assert r.json()["detail"][0]["loc"] == ["body", "events", 1, loc], r.text
            assert features(request)["so_far"] == before + 1
            r = httpx.post(srv.url + "/v1/events/nope", json={"events": []}, timeout=30)
            assert r.status_code == 404 and "flights" in r.text
            # a request whose 24 h window starts before the retained state: 422 naming the time, not a 500
            old = _request(ev, t - dt.timedelta(days=2))
            r = httpx.post(srv.url + "/v1/features", json=old, timeout=30)
            assert r.status_code == 422 and "windows cannot be computed" in r.text, r.text
            server.stop()  # the store goes away: 503 naming it, never a 500
            r = httpx.post(srv.url + "/v1/events", json={"events": [new | {"event_id": NEW_ID + 4}]}, timeout=30)
            assert r.status_code == 503 and r.json()["store"] == server.url, r.text
            r = httpx.post(srv.url + "/v1/features", json=request, timeout=30)
            assert r.status_code == 503 and r.json()["store"] == server.url, r.text
    finally:
        server.stop()


def test_materialized_state_answers_later_requests_as_the_batch_does(served, tmp_path):
    from skewless.windows.materialize import materialize_windows

    root, fl, events = served
    t = _as_of(fl)
    store = SQLiteStore(tmp_path / "w.db")
    loads = materialize_windows(store, flights_w, {"flights": events}, as_of=t)
    assert loads[0].events == events.filter(pl.col("dep_at") <= t).height
    later = fl.filter(pl.col("time_hour") == t)  # requests at t + their scheduled minute
    assert later.height > 10
    batch = flights_w.transform(later, events={"flights": events.filter(pl.col("dep_at") <= t)}).collect()
    fn = flights_w.online_row_fn(store)
    names = list(flights_w.request_schema())
    for row, want in zip(later.select(names).rows(named=True), batch.rows(named=True)):
        got = fn(row)
        assert all(same_value(got[k], want[k]) for k in want), (row, got, want)
    store.close()


def test_cli_build_takes_events_as_name_equals_path(served, tmp_path, capsys):
    from skewless.cli import run

    root, fl, events = served
    args = ["build", FEATURE_SET, "--data", str(root / "flights.parquet"), "--out",
            str(tmp_path / "b"), "--label", "arr_delay > 15", "--event-time", "time_hour", "--split", "0.6,0.8"]
    assert run(args) == 2
    assert "event source 'flights': no events" in capsys.readouterr().err
    assert run([*args, "--events", "flights"]) == 2
    assert "--events 'flights': expected NAME=PATH" in capsys.readouterr().err
    assert run([*args, "--events", f"flights={root / 'events.parquet'}"]) == 0
    m = json.loads((tmp_path / "b" / "build.json").read_text())
    assert m["event_sources"]["flights"]["kind"] == "files" and m["golden_events"] == "golden_events.json"
    a = pl.scan_parquet(tmp_path / "b" / "test" / "*.parquet").collect()
    b = pl.scan_parquet(root / "build" / "test" / "*.parquet").collect()
    assert a.columns == b.columns and all(a[c].equals(b[c]) for c in a.columns)
