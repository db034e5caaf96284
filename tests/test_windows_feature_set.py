"""Windows declared on a feature set: definition-time checks, the batch transform and build with events
(= compute_windows on the same rows), the per-request function reading a store, the bundle's golden rows
with window outputs and their self-check through a private store, and the serialized definition."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from skewless import Datetime, EventSource, FeatureSet, Input, Int64, String, Windowed, Windows, col, duration, \
    feature_set
from skewless.bundle.definition import definition_from_data
from skewless.errors import DefinitionError, SchemaError
from skewless.state import SQLiteStore
from skewless.state.replay import same_value
from skewless.windows import col as ecol
from skewless.windows.batch import compute_windows
from skewless.windows.flights import flight_frames, flight_windows

AT = col("time_hour") + duration(minutes=col("sched_dep_time") % 100)


@feature_set
class flights_w:
    tailnum = Input(String, nullable=True)
    carrier = Input(String)
    origin = Input(String)
    dest = Input(String)
    time_hour = Input(Datetime("us", "UTC"))
    sched_dep_time = Input(Int64)
    distance = Input(Int64)

    recent = Windowed(flight_windows, at=AT)
    tail_busy = col("tail_departures_24h") >= 4
    late_rate_7d = col("carrier_origin_delay_rate_7d").fill_null(0.0)
    std_7d = col("carrier_origin_dep_delay_std_7d")
    so_far = col("tail_departures_so_far")
    air_hours = col("route_mean_air_hours_7d") * 1.0
    miles = col("distance") * 1


@pytest.fixture(scope="module")
def flights3():
    from skewless.datasets import load_flights

    fl = load_flights()
    fl = fl.filter(pl.col("time_hour") < fl["time_hour"].min() + dt.timedelta(days=4))
    events, spine = flight_frames(fl)
    return fl, events, spine


def test_schemas_a_request_carries_keys_and_time_never_window_outputs():
    assert list(flights_w.request_schema()) == ["tailnum", "carrier", "origin", "dest", "time_hour",
                                                "sched_dep_time", "distance"]
    schema = flights_w.input_schema()
    for name, dtype in flight_windows.outputs.items():
        assert schema[name].dtype == dtype and schema[name].nullable
    assert set(flights_w.windows.request_columns) == {"tailnum", "carrier", "origin", "dest", "time_hour",
                                                       "sched_dep_time"}
    assert "windows:" in flights_w.describe()


def _set(**body):
    base = {"carrier": Input(String), "origin": Input(String), "dest": Input(String), "tailnum": Input(String),
            "time_hour": Input(Datetime("us", "UTC")), "sched_dep_time": Input(Int64)}
    base.update(body)
    windows = [v for v in base.values() if isinstance(v, (Windowed, Windows))]
    inputs = {k: v for k, v in base.items() if isinstance(v, Input)}
    return FeatureSet("bad", inputs, {"x": col("carrier_origin_departures_1h")}, windows=windows)


@pytest.mark.parametrize("make, message", [
    (lambda: _set(carrier=None, w=Windowed(flight_windows, at=AT)), "keyed by 'carrier', which is not a request input"),
    (lambda: _set(dest=Input(Int64), w=Windowed(flight_windows, at=AT)), "request input 'dest' is Int64"),
    (lambda: _set(w=Windowed(flight_windows, at=col("sched_dep_time"))), "the request time at= of the windows of "
                                                                           "'flights' is Int64"),
    (lambda: _set(w=Windowed(flight_windows, at=col("time_hour").dt.convert_time_zone("America/New_York"))),
     "(same unit and zone)"),
    (lambda: _set(w=Windowed(flight_windows, at=col("nope"))), "the request time at="),
    (lambda: _set(w=Windowed(flight_windows)), "feature 'tail_departures_24h' in col('dep_at'): the request time at= of the windows of 'flights': "
                                              "unknown column 'dep_at'"),  # the default at: a request input dep_at
    (lambda: _set(tail_departures_24h=Input(Int64), w=Windowed(flight_windows, at=AT)), "feature 'tail_departures_24h'"),
    (lambda: _set(w=Windowed("flights", at=AT)), "takes a skewless.windows.Windows"),
    (lambda: _set(w=Windowed(flight_windows, at=AT), v=Windowed(flight_windows, at=AT)),
     "two window declarations over event source 'flights'"),
])
def test_definition_errors_name_the_feature(make, message):
    with pytest.raises(DefinitionError) as err:
        make()
    assert message in str(err.value)


def test_a_feature_reading_a_window_output_is_checked_like_an_input():
    with pytest.raises(DefinitionError, match="feature 'y'"):
        FeatureSet("bad", {c: Input(String) for c in ("carrier", "origin", "dest", "tailnum")}
                   | {"time_hour": Input(Datetime("us", "UTC")), "sched_dep_time": Input(Int64)},
                   {"y": col("tail_departures_24h").str.to_lowercase()}, windows=[Windowed(flight_windows, at=AT)])


def test_definition_round_trips_through_its_serialized_form():
    data = json.loads(json.dumps(flights_w.ir_json()))
    again = definition_from_data(data)
    assert again.fingerprint == flights_w.fingerprint
    assert again.windows.outputs == flights_w.windows.outputs
    data["windows"][0]["windows"]["features"]["tail_departures_24h"]["agg"] = "median"
    with pytest.raises(ValueError, match="windows"):
        definition_from_data(data)


def test_a_bare_windows_in_the_body_is_asked_at_the_source_time_column():
    src = EventSource("clicks", time="at", order="id", columns={"at": Datetime("us", "UTC"), "id": Int64(),
                                                                "user": String()})
    wins = Windows(src, {"clicks_1h": ecol("id").len().rolling(index_column="at", period="1h", closed="left")
                         .over("user")}, requests_at="times")

    @feature_set
    class clicks:
        user = Input(String)
        at = Input(Datetime("us", "UTC"))
        recent = wins
        busy = col("clicks_1h") > 2

    t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    events = pl.DataFrame({"at": [t, t + dt.timedelta(minutes=1), t + dt.timedelta(hours=2)], "id": [1, 2, 3],
                           "user": ["a", "a", "a"]}, schema_overrides={"at": pl.Datetime("us", "UTC")})
    rows = pl.DataFrame({"user": ["a", "a", "b"], "at": [t + dt.timedelta(minutes=30)] * 3},
                        schema_overrides={"at": pl.Datetime("us", "UTC")})
    out = clicks.join_windows(rows, {"clicks": events}).collect()
    assert out["clicks_1h"].to_list() == [2, 2, 0]


def test_batch_transform_is_compute_windows_on_the_same_rows(flights3):
    fl, events, spine = flights3
    joined = flights_w.join_windows(fl, {"flights": events}).collect()
    ref = compute_windows(flight_windows, spine, events)
    for name in flight_windows.outputs:
        assert all(same_value(a, b) for a, b in zip(joined[name].to_list(), ref[name].to_list())), name
    out = flights_w.transform(fl, events={"flights": events}).collect()
    assert out["so_far"].to_list() == ref["tail_departures_so_far"].to_list()
    with pytest.raises(SchemaError, match="pass events="):
        flights_w.transform(fl).collect()
    with pytest.raises(SchemaError, match="declares no windows"):
        FeatureSet("p", {"x": Int64}, {"y": col("x")}).transform(fl, events={"flights": events})


def test_online_row_fn_after_materialize_matches_batch(flights3, tmp_path):
    fl, events, _ = flights3
    last_day = fl["time_hour"].max() - dt.timedelta(hours=6)
    rows = fl.filter(pl.col("time_hour") >= last_day)
    batch = flights_w.transform(rows, events={"flights": events}).collect().rows(named=True)
    store = SQLiteStore(tmp_path / "w.db")
    # history up to the first of these rows' times (every event of it), then the rest ingested in time order
    online = flights_w.windows.online_windows(store)["flights"]
    first = rows.select((pl.col("time_hour") + pl.duration(minutes=pl.col("sched_dep_time") % 100)).min()).item()
    online.materialize(events.filter(pl.col("dep_at") < first).rows(named=True))
    fn = flights_w.online_row_fn(store)
    request = list(flights_w.request_schema())
    rows_in = rows.rows(named=True)
    at = [r["time_hour"] + dt.timedelta(minutes=r["sched_dep_time"] % 100) for r in rows_in]
    later = events.filter(pl.col("dep_at") >= first).sort("dep_at", "event_id").rows(named=True)
    fed = 0
    for i in sorted(range(len(rows_in)), key=lambda i: at[i]):
        upto = fed
        while upto < len(later) and later[upto]["dep_at"] <= at[i]:
            upto += 1
        if upto > fed:
            online.ingest(later[fed:upto])
            fed = upto
        got = fn({k: rows_in[i][k] for k in request})
        assert all(same_value(got[k], batch[i][k]) for k in got), (i, got, batch[i])
    store.close()


def test_build_and_bundle_golden_rows_carry_windows_and_self_check(flights3, tmp_path):
    from skewless.bundle.loader import load_bundle
    from skewless.training.build import BuildError, build_dataset
    from skewless.training.train import train

    fl, events, spine = flights3
    built = build_dataset(flights_w, fl, tmp_path / "b", label="arr_delay > 15", event_time="time_hour",
                          split=(0.6, 0.8), events={"flights": events})
    assert built.manifest["event_sources"]["flights"]["rows"] == events.height
    assert built.manifest["golden_events"] == "golden_events.json"
    # every written row's window features = compute_windows on the source rows (the rows are the spine)
    ref = flights_w.transform(fl, events={"flights": events}, keep=("time_hour",)).collect()
    written = pl.concat([pl.read_parquet(tmp_path / "b" / s / "*.parquet") for s in ("train", "valid", "test")])
    kept = fl.with_row_index("i").filter(pl.col("arr_delay").is_not_null())
    assert written.height == kept.height
    cols = ["time_hour", "miles", "so_far", "tail_busy", "late_rate_7d", "std_7d", "air_hours"]

    def rows(df):  # (the splits are written in split order: compare the rows as a multiset, floats by bits)
        return sorted(json.dumps([repr(v) for v in r]) for r in df.select(cols).rows())

    assert rows(written) == rows(ref[kept["i"]])
    golden_inputs = pl.read_parquet(tmp_path / "b" / "golden_inputs.parquet")
    assert set(flight_windows.outputs) <= set(golden_inputs.columns)

    train(tmp_path / "b", tmp_path / "bundle", tracking=False, feature_set=flights_w)
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.self_check() == []
    assert bundle.golden_events is not None and bundle.golden_events["flights"]
    assert bundle.golden_windows()[0].keys() == flight_windows.outputs.keys()
    # a golden event changed: the self-check replays it and says which window differs
    bundle.golden_events["flights"] = [dict(e, dep_delay=(e["dep_delay"] or 0) + 100)
                                       for e in bundle.golden_events["flights"]]
    assert any("window 'tail_max_dep_delay_24h'" in p for p in bundle.self_check())

    with pytest.raises(BuildError, match="declares no windows"):
        build_dataset(FeatureSet("p", {"distance": Int64}, {"y": col("distance")}), fl, tmp_path / "c",
                      label="arr_delay > 15", event_time="time_hour", split=(0.6, 0.8), events={"flights": events})
    with pytest.raises(BuildError, match="no events"):
        build_dataset(flights_w, fl, tmp_path / "d", label="arr_delay > 15", event_time="time_hour", split=(0.6, 0.8))
