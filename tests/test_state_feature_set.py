"""Entity lookups declared on a feature set: definition-time checks, the batch transforms with the tables,
the per-request function reading a store (SQLite and a real Redis), defaults, leakage, fitted sets, and the
definition's round trip through its serialized form."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from redis_server import new_store, redis_server  # noqa: F401 - fixtures
from skewless import (Boolean, Datetime, EntityTable, FeatureSet, Float64, Input, Int64, Lookup, String, col,
                      feature_set, fit, standardize)
from skewless.bundle.definition import definition_from_data
from skewless.errors import DefinitionError, SchemaError
from skewless.requests import RequestError
from skewless.runtime.tz import get_zone
from skewless.state.lookups import state_rows
from skewless.state.replay import same_value

UTC = get_zone("UTC")
T = dt.datetime(2013, 6, 1, 12, tzinfo=UTC)
US = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)

weather = EntityTable("weather", key="origin", key_dtypes=String(), time="time_hour",
                      columns={"temp": Float64(), "wind": Float64()})
planes = EntityTable("planes", key="tailnum", key_dtypes=String(), columns={"year": Int64(), "seats": Int64()})


@feature_set
class trips:
    origin = Input(String)
    tailnum = Input(String, nullable=True)
    time_hour = Input(Datetime("us", "UTC"))
    distance = Input(Int64)

    wx = Lookup(weather, by="origin", on="time_hour", tolerance=3 * HOUR, default={"wind": -1.0})
    plane = Lookup(planes, by="tailnum", prefix="plane_")

    plane_age = col("time_hour").dt.year() - col("plane_year")
    freezing = (col("weather_temp") < 32.0).fill_null(False)
    wind_x_distance = col("weather_wind") * col("distance")
    seats_per_mile = col("plane_seats") / col("distance")


WEATHER = pl.DataFrame({
    "origin": ["EWR", "EWR", "JFK", "LGA"],
    "time_hour": [T - HOUR, T + US, T - 2 * HOUR, T - 4 * HOUR],  # EWR's second state is 1 µs after T
    "temp": [30.5, 99.0, 50.0, 10.0],
    "wind": [5.0, 99.0, None, 7.0],
}, schema_overrides={"time_hour": pl.Datetime("us", "UTC")})
PLANES = pl.DataFrame({"tailnum": ["N1", "N2"], "year": [2001, None], "seats": [150, 200]})
TABLES = {"weather": WEATHER, "planes": PLANES}
SPINE = pl.DataFrame({
    "origin": ["EWR", "JFK", "LGA", "BOS", "EWR"],
    "tailnum": ["N1", "N2", None, "N9", "N2"],
    "time_hour": [T, T, T, T, T + 2 * HOUR],
    "distance": [100, 200, 300, 400, 500],
}, schema_overrides={"time_hour": pl.Datetime("us", "UTC")})




def load_as_of(store, fs, tables, at):
    """Each table's newest state at or before ``at`` (static tables whole), loaded into ``store``."""
    for name, table in fs.lookups.tables.items():
        df = tables[name]
        if table.versioned:
            df = df.filter(pl.col(table.time) <= at)
        store.load(name, state_rows(table, df.rows(named=True)))


# --- declaration -------------------------------------------------------------------------------------------


def test_declared_schemas():
    assert list(trips.request_schema()) == ["origin", "tailnum", "time_hour", "distance"]
    schema = trips.input_schema()
    assert [k for k in schema if k not in trips.request_schema()] == [
        "weather_temp", "weather_wind", "plane_year", "plane_seats"]
    assert all(schema[k].nullable for k in ("weather_temp", "plane_year"))
    assert str(trips.output_schema()["plane_age"].dtype) == "Int64"
    assert "lookups:" in trips.describe() and "weather by ['origin']" in trips.describe()


def _set(lookups, features):
    return FeatureSet("s", {"origin": String(), "tailnum": Input(String(), nullable=True),
                            "time_hour": Datetime("us", "UTC"), "local": Datetime("us", "America/New_York"),
                            "n": Int64()}, features, lookups=lookups)


@pytest.mark.parametrize("make, message", [
    (lambda: _set([Lookup(weather, by="origin", on="time_hour")], {"x": col("weather_temp").str.to_lowercase()}),
     "feature 'x'"),
    (lambda: _set([Lookup(weather, by="origin", on="local")], {"x": col("weather_temp")}),
     "on column 'local' is Datetime(time_unit='us', time_zone='America/New_York'), the table's time column"),
    (lambda: _set([Lookup(weather, by="n", on="time_hour")], {"x": col("weather_temp")}),
     "by column 'n' is Int64, key 'origin' is String"),
    (lambda: _set([Lookup(weather, by="origin", on="time_hour", default={"temp": "warm"})], {"x": col("n")}),
     "default for 'temp' is str"),
    (lambda: _set([Lookup(weather, by="origin", on="time_hour", default={"nope": 1.0})], {"x": col("n")}),
     "default for 'nope'"),
    (lambda: _set([Lookup(planes, by="tailnum", on="time_hour")], {"x": col("n")}), "static table takes no on="),
    (lambda: _set([Lookup(weather, by="origin", on="time_hour", strategy="forward")], {"x": col("n")}),
     "only 'backward'"),
    (lambda: _set([Lookup(EntityTable("t", key="origin", key_dtypes=String(), columns={"n": Int64()}),
                          by="origin", prefix="")], {"x": col("n")}), "output 'n' is already a column"),
])
def test_definition_errors(make, message):
    with pytest.raises(DefinitionError) as err:
        make()
    assert message in str(err.value)


def test_table_time_dtype_must_be_zoned():
    with pytest.raises(DefinitionError, match="must be a zoned Datetime"):
        EntityTable("w", key="k", key_dtypes=String(), time="t", time_dtype=Datetime("us"), columns={})


def test_definition_round_trips_through_its_serialized_form():
    data = trips.ir_json()
    again = definition_from_data(data)
    assert again.fingerprint == trips.fingerprint and again.ir_json() == data
    assert again.lookups == trips.lookups
    other = FeatureSet("trips", {k: Input(f.dtype, f.nullable) for k, f in trips.request_schema().items()},
                       {"d": col("distance")}, lookups=[Lookup(weather, by="origin", on="time_hour")])
    assert "lookups" in other.ir_json()
    no_lookups = FeatureSet("p", {"x": Float64()}, {"y": col("x")})
    assert "lookups" not in no_lookups.ir_json()  # fingerprints of sets without lookups are unchanged


# --- batch and per request ------------------------------------------------------------------------------------


def test_batch_transform_joins_point_in_time():
    out = trips.transform(SPINE, tables=TABLES).collect()
    rows = out.rows(named=True)
    # EWR at T: the state 1 µs after T is never used; JFK within tolerance, wind null in the state (not the
    # default); LGA 4 h old: too old -> temp null, wind the default; BOS: no entity -> default
    assert [r["freezing"] for r in rows] == [True, False, False, False, False]
    assert rows[0]["wind_x_distance"] == 500.0
    assert rows[1]["wind_x_distance"] is None
    assert rows[2]["wind_x_distance"] == -300.0 and rows[3]["wind_x_distance"] == -400.0
    assert rows[4]["wind_x_distance"] == 99.0 * 500  # 2 h later the newer state is old enough
    assert [r["plane_age"] for r in rows] == [12, None, None, None, None]
    with pytest.raises(SchemaError, match="pass tables="):
        trips.transform(SPINE)
    joined = trips.join_lookups(SPINE, TABLES)
    assert trips.transform(joined).collect().equals(out)  # a frame joined before is taken as it is


def test_table_time_column_dtype_is_checked_in_batch():
    wrong = WEATHER.with_columns(pl.col("time_hour").dt.convert_time_zone("America/New_York"))
    with pytest.raises(SchemaError, match="time column 'time_hour' is Datetime"):
        trips.transform(SPINE, tables={"weather": wrong, "planes": PLANES}).collect()


def test_online_row_fn_reads_the_store_in_one_round_trip_and_matches_batch(new_store):
    store = new_store()
    load_as_of(store, trips, TABLES, T)  # the state a service holds at T (the µs-later state not yet written)
    calls = []
    online = trips.online_row_fn(store, observe=lambda s, m, st: calls.append((m, st)))
    batch = trips.transform(SPINE.head(4), tables=TABLES).collect().rows(named=True)
    for request, want in zip(SPINE.head(4).rows(named=True), batch):
        got = online(request)
        assert all(same_value(got[k], want[k]) for k in want), (request, got, want)
    # misses: N9 and BOS (row 4); stale: LGA's 4-hour-old weather (row 3)
    assert calls == [(0, 0), (0, 0), (0, 1), (2, 0)]


def test_leakage_state_one_microsecond_after_the_row_is_never_joined(new_store):
    # batch: the EWR row at T must not see the state at T + 1 µs (it sees the one at T - 1 h)
    out = trips.transform(SPINE.head(1), tables=TABLES).collect()
    assert out["freezing"].to_list() == [True]  # 30.5, not 99.0
    # online: the store already holds the future state (written with its event time) -> never used
    store = new_store()
    load_as_of(store, trips, TABLES, T + US)
    got = trips.online_row_fn(store)(SPINE.row(0, named=True))
    assert got["freezing"] is False and got["wind_x_distance"] == -100.0  # no usable state: the default


def test_replay_parity_through_the_feature_set(new_store):
    report = trips.replay_parity(SPINE, TABLES, new_store())
    assert report.ok and report.rows == SPINE.height, report.examples


def test_checked_row_fn_validates_the_request_and_reads_the_store(new_store):
    store = new_store()
    load_as_of(store, trips, TABLES, T)
    checked = trips.checked_row_fn(store=store)
    request = {"origin": "EWR", "tailnum": "N1", "time_hour": "2013-06-01T12:00:00+00:00", "distance": 100}
    assert checked(request)["plane_age"] == 12
    unknown = checked({**request, "origin": "XXX", "tailnum": "N0"})
    assert unknown["wind_x_distance"] == -100.0 and unknown["plane_age"] is None  # unknown key: default / null
    null_key = checked({**request, "tailnum": None})
    assert null_key["plane_age"] is None and null_key["seats_per_mile"] is None
    with pytest.raises(RequestError) as err:
        checked({**request, "origin": 7})
    assert err.value.errors[0][0] == "origin"
    with pytest.raises(RequestError) as err:  # looked-up columns are not request fields
        checked({**request, "weather_temp": 1.0})
    assert err.value.errors[0][0] == "weather_temp"
    with pytest.raises(Exception, match="give the online store"):
        trips.online_row_fn(None)


def test_fitted_set_with_lookups():
    fs = FeatureSet("fitted", {k: Input(f.dtype, f.nullable) for k, f in trips.request_schema().items()},
                    {"temp_std": standardize(col("weather_temp")), "jet": col("plane_seats") > 100},
                    lookups=trips.lookups.lookups)
    fitted = fit(fs, trips.join_lookups(SPINE, TABLES).collect())
    assert fitted.lookups is not None and fitted.request_schema() == trips.request_schema()
    out = fitted.transform(SPINE, tables=TABLES).collect()
    training = fitted.transform_training(SPINE, tables=TABLES).collect()
    assert out.equals(training)
    assert out["jet"].to_list() == [True, True, None, None, True]
    assert fitted.check_parity(trips.join_lookups(SPINE, TABLES).collect()).ok


def test_check_parity_of_the_generated_function_on_joined_rows():
    assert trips.check_parity(trips.join_lookups(SPINE, TABLES).collect()).ok


def test_a_set_without_lookups_refuses_tables():
    plain = FeatureSet("p", {"x": Float64()}, {"y": col("x")})
    with pytest.raises(SchemaError, match="declares no lookups"):
        plain.transform(pl.DataFrame({"x": [1.0]}), tables=TABLES)
    assert plain.online_row_fn(None) is plain.row_fn
    assert Boolean  # (imported for the public names' sake)
