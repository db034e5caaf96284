"""Windowed per-entity aggregations: conformance of every written rule on both runtimes, exactness against an
independent reference, replay parity (hypothesis event logs, late arrivals) on SQLite and a real Redis,
leakage, determinism, validation. See skewless.windows.spec for the rules."""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_server import new_store, redis_server  # noqa: F401 - fixtures
from skewless.dtypes import Boolean, Datetime, Float64, Int64, String
from skewless.errors import DefinitionError, SchemaError
from skewless.runtime.tz import get_zone
from skewless.state import RedisStore, SQLiteStore
from skewless.state.replay import same_value
from skewless.windows import (
    ConcurrentIngest, EventConflict, EventSource, InvalidEvent, LateEvent, OnlineWindows, RequestBeforeHorizon,
    Windows, col,
)
from skewless.windows.batch import compute_windows
from skewless.windows.replay import replay_parity

UTC = dt.timezone.utc
NY = get_zone("America/New_York")
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
H = dt.timedelta(hours=1)
US = dt.timedelta(microseconds=1)
AGGS = ("len", "count", "sum", "mean", "min", "max", "std", "var", "first", "last", "n_unique")


def source(zone="UTC", lateness=dt.timedelta(days=2), **extra):
    return EventSource("ev", time="t", order="id", max_lateness=lateness,
                       columns={"t": Datetime("us", zone), "id": Int64(), "k": String(), "x": Float64(), "d": Int64(),
                                **extra})


def frame(rows, zone="UTC", **extra):
    schema = {"t": pl.Datetime("us", zone), "id": pl.Int64, "k": pl.String, "x": pl.Float64, "d": pl.Int64, **extra}
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema, orient="row")


def ev(i, t, k="a", x=None, d=None, **extra):
    return {"t": t, "id": i, "k": k, "x": x, "d": d, **extra}




def both(wins, events, requests, new_store, *, arrival=None, zone="UTC"):
    """Batch values of ``requests`` and the replayed online ones; asserts they are bitwise equal."""
    ev_frame = frame(events, zone) if isinstance(events, list) else events
    spine = frame(requests, zone) if isinstance(requests, list) else requests
    report = replay_parity(wins, ev_frame, spine, new_store(), arrival=arrival)
    assert report.ok, report.examples
    paged = replay_parity(wins, ev_frame, spine, new_store(), arrival=arrival, paging=(2, 4))  # > 4 events: paged
    assert paged.ok, paged.examples
    return compute_windows(wins, spine, ev_frame).to_dicts()


def rolling(expr, period="2h", closed="left"):
    return expr.rolling(index_column="t", period=period, closed=closed)


# -- conformance: one case per written rule, on both runtimes ------------------------------------------------

def test_bounds_closed_left_right_both_none(new_store):
    events = [ev(i, T0 + i * H, x=10.0 ** i) for i in range(4)]  # 1, 10, 100, 1000 at T0 .. T0+3h
    wins = Windows(source(), {c: rolling(col("x").sum(), "2h", c).over("k") for c in ("left", "right", "both", "none")},
                   requests_at="times")
    got = both(wins, events, [ev(None, T0 + 3 * H)], new_store)[0]
    # s = T0+1h, t = T0+3h: [s, t) = 10+100, (s, t] = 100+1000, [s, t] = all three, (s, t) = 100
    assert got == {"left": 110.0, "right": 1100.0, "both": 1110.0, "none": 100.0}


def test_boundary_events_one_microsecond_either_side(new_store):
    t = T0 + 5 * H
    s = t - 2 * H
    events = [ev(1, s - US, d=1), ev(2, s, d=10), ev(3, s + US, d=100), ev(4, t - US, d=1000), ev(5, t, d=10000),
              ev(6, t + US, d=100000)]
    wins = Windows(source(), {c: rolling(col("d").sum(), "2h", c).over("k") for c in ("left", "right", "both", "none")},
                   requests_at="times")
    got = both(wins, events, [ev(None, t)], new_store)[0]
    assert got == {"left": 1110, "right": 11100, "both": 11110, "none": 1100}


def test_ties_ordered_by_the_order_column_and_the_own_event(new_store):
    t = T0 + H
    events = [ev(3, t, d=100), ev(1, t, d=1), ev(2, t, d=10), ev(9, t - H, d=1000)]
    feats = {f"{c}": rolling(col("d").sum(), "2h", c).over("k") for c in ("left", "right")}
    feats["n_left"] = rolling(col("d").len(), "2h", "left").over("k")
    wins = Windows(source(), feats, requests_at="events")
    got = both(wins, events, events, new_store)
    # at an event: earlier-ordered ties are before it, later-ordered ones after it; its own event is counted
    # by the upper-closed window only
    assert [g["left"] for g in got] == [1011, None if False else 1000, 1001, None]
    assert [g["right"] for g in got] == [1111, 1001, 1011, 1000]
    assert [g["n_left"] for g in got] == [3, 1, 2, 0]
    # at a time: every event at that time is at the request's position
    wins_t = Windows(source(), {c: rolling(col("d").sum(), "2h", c).over("k") for c in ("left", "right")},
                     requests_at="times")
    assert both(wins_t, events, [ev(None, t)], new_store) == [{"left": 1000, "right": 1111}]


def test_empty_windows_and_unknown_entities(new_store):
    feats = {a: rolling(getattr(col("x"), a)(), "1h", "left").over("k") for a in AGGS}
    feats.update({f"cum_{a}": getattr(col("x"), f"cum_{a}")().over("k", order_by="t", closed="left")
                  for a in ("sum", "count", "min", "max")})
    wins = Windows(source(), feats, requests_at="times")
    events = [ev(1, T0, x=2.0)]
    got = both(wins, events, [ev(None, T0 + 5 * H), ev(None, T0 + 5 * H, k="nobody"), ev(None, T0)], new_store)
    for row in got[:2]:
        assert row["cum_sum"] == (2.0 if row is got[0] else None)
        rolled = {a: row[a] for a in AGGS}
        assert rolled == {"len": 0, "count": 0, "n_unique": 0, **{a: None for a in AGGS
                                                                  if a not in ("len", "count", "n_unique")}}
    assert got[1]["cum_count"] == 0 and got[1]["cum_min"] is None
    assert got[2]["cum_count"] == 0 and got[2]["len"] == 0  # its own time excluded: upper-open


def test_null_values_keys_and_request_times(new_store):
    events = [ev(1, T0, x=None, d=None), ev(2, T0, k=None, x=5.0, d=5), ev(3, T0 + H, x=float("nan"), d=2)]
    feats = {a: rolling(getattr(col("x"), a)(), "3h", "right").over("k") for a in AGGS}
    wins = Windows(source(), feats, requests_at="times")
    got = both(wins, events, [ev(None, T0 + H), ev(None, T0 + H, k=None), ev(None, None)], new_store)
    a = got[0]
    assert a["len"] == 2 and a["count"] == 1 and a["n_unique"] == 2  # null and NaN: two distinct values
    assert math.isnan(a["sum"]) and math.isnan(a["mean"]) and math.isnan(a["min"]) and math.isnan(a["max"])
    assert a["first"] is None and math.isnan(a["last"]) and a["std"] is None and a["var"] is None
    assert got[1] == dict.fromkeys(feats) and got[2] == dict.fromkeys(feats)  # a null key / time names nobody


def test_null_part_of_a_composite_key(new_store):
    src = source(k2=Int64())
    events = [ev(1, T0, d=1, k2=7), ev(2, T0, d=10, k2=None), ev(3, T0, k=None, d=100, k2=7)]
    wins = Windows(src, {"n": rolling(col("d").sum(), "3h", "right").over("k", "k2")}, requests_at="times")
    ev_frame = frame(events, k2=pl.Int64)
    spine = frame([ev(None, T0 + H, k2=7), ev(None, T0 + H, k2=None)], k2=pl.Int64)
    report = replay_parity(wins, ev_frame, spine, new_store())
    assert report.ok, report.examples
    assert compute_windows(wins, spine, ev_frame)["n"].to_list() == [1, None]


def test_calendar_day_vs_fixed_24h_across_the_dst_start(new_store):
    zone = "America/New_York"
    start = dt.datetime(2024, 3, 9, 0, 0, tzinfo=NY).astimezone(UTC)
    events = [ev(i, (start + i * H).astimezone(NY), d=1) for i in range(60)]  # hourly, every instant once
    wins = Windows(source(zone), {"day": rolling(col("d").len(), "1d", "right").over("k"),
                                  "fixed": rolling(col("d").len(), "24h", "right").over("k")}, requests_at="times")
    noon = dt.datetime(2024, 3, 10, 12, 0, tzinfo=NY)
    got = both(wins, events, [ev(None, noon), ev(None, noon + 2 * H)], new_store, zone=zone)
    assert got[0] == {"day": 23, "fixed": 24}  # the reference: polars counts 23 for "1d" at 12:00 local
    # polars' own rolling agrees on these lengths (no ties; lengths are exact in any engine)
    ref = frame(events, zone).rolling(index_column="t", period="1d", closed="right").agg(pl.len().alias("n"))
    at_noon = ref.filter(pl.col("t") == noon)["n"].item()
    assert at_noon == 23


def test_calendar_start_in_a_dst_gap_and_in_a_repeated_hour(new_store):
    zone = "America/New_York"
    # 2024-03-11 02:30 EDT minus 1d = 2024-03-10 02:30, which does not exist: read with the offset before the
    # gap (EST), i.e. 03:30 EDT = 07:30 UTC.
    t = dt.datetime(2024, 3, 11, 2, 30, tzinfo=NY)
    gap_start = dt.datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    events = [ev(1, gap_start - US, d=1), ev(2, gap_start, d=10), ev(3, gap_start + US, d=100)]
    wins = Windows(source(zone), {c: rolling(col("d").sum(), "1d", c).over("k") for c in ("left", "right")},
                   requests_at="times")
    assert both(wins, events, [ev(None, t)], new_store, zone=zone) == [{"left": 110, "right": 100}]
    # 2024-11-04 01:30 EST minus 1d = 2024-11-03 01:30, which happens twice: the first (EDT, 05:30 UTC).
    t2 = dt.datetime(2024, 11, 4, 1, 30, tzinfo=NY)
    first = dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    events2 = [ev(1, first - US, d=1), ev(2, first, d=10), ev(3, first + H, d=100)]
    assert both(wins, events2, [ev(None, t2)], new_store, zone=zone) == [{"left": 110, "right": 100}]


def test_late_events_do_not_change_values_whatever_the_arrival_order(new_store):
    rng = random.Random(5)
    events = [ev(i, T0 + dt.timedelta(minutes=rng.randint(0, 600)), k=rng.choice("ab"), x=rng.uniform(-1e6, 1e6),
                 d=rng.randint(-5, 5)) for i in range(120)]
    feats = {f"{a}_x": rolling(getattr(col("x"), a)(), "90m", "left").over("k") for a in AGGS}
    feats["cum"] = col("x").cum_sum().over("k", order_by="t", closed="right")
    wins = Windows(source(lateness=dt.timedelta(hours=3)), feats, requests_at="events")
    by_time = sorted(range(120), key=lambda i: (events[i]["t"], i))
    late = sorted(range(120), key=lambda i: events[i]["t"] + dt.timedelta(minutes=rng.randint(0, 170)))
    first = both(wins, events, events, new_store, arrival=by_time)
    second = both(wins, events, events, new_store, arrival=late)
    assert _bits(first) == _bits(second)


def test_lifetime_windows_seal_old_events_exactly(new_store):
    # lateness 0 and a 1h window: the state keeps about an hour of events; the rest is sealed into the
    # lifetime partials, which must still give the exact lifetime values.
    events = [ev(i, T0 + i * 20 * dt.timedelta(minutes=1), x=[0.1, 1e16, -1e16, 3.0][i % 4], d=i) for i in range(40)]
    feats = {a: getattr(col("x"), f"cum_{a}")().over("k", order_by="t", closed="left")
             for a in ("sum", "count", "min", "max")}
    feats["dmax"] = col("d").cum_max().over("k", order_by="t", closed="right")
    feats["r"] = rolling(col("x").sum(), "1h", "left").over("k")
    wins = Windows(source(lateness=dt.timedelta(0)), feats, requests_at="events")
    got = both(wins, events, events, new_store)
    xs = [e["x"] for e in events]
    assert [g["sum"] for g in got] == [None] + [math.fsum(xs[:i]) for i in range(1, 40)]
    assert [g["dmax"] for g in got] == list(range(40))
    store = new_store()
    online = OnlineWindows(wins, store)
    online.ingest(events)
    (row,) = store.get_many([(wins.entities[0].table, ("a",))])
    assert row.values["w"]["n"] == 4  # the last hour and a bit: bounded, not 40


def test_exact_sums_where_polars_rolling_sum_by_drifts(new_store):
    # mixed magnitudes: polars' add/subtract kernel loses the small values (measured: up to 207x off)
    xs = [1e12, 1e-3, -1e12, 2.5e-3, 7e11, 3e-4, -7e11, 1.0] * 8
    events = [ev(i, T0 + i * H, x=x) for i, x in enumerate(xs)]
    wins = Windows(source(), {"s": rolling(col("x").sum(), "3h", "right").over("k")}, requests_at="events")
    got = [g["s"] for g in both(wins, events, events, new_store)]
    want = [math.fsum(xs[max(0, i - 2):i + 1]) for i in range(len(xs))]
    assert got == want
    drift = frame(events).with_columns(pl.col("x").rolling_sum_by("t", window_size="3h", closed="right").alias("p"))
    assert drift["p"].to_list() != want  # the trap this layer avoids


# -- exactness against an independent reference ---------------------------------------------------------------

def reference(events, request, agg, period_h, closed, column, ddof=1):
    """The written semantics, straight: filter the window, then exact arithmetic with fractions/fsum."""
    t = request["t"]
    s = t - dt.timedelta(hours=period_h)
    inside = []
    for e in sorted(events, key=lambda e: (e["t"], e["id"])):
        if e["k"] is None or e["k"] != request["k"]:
            continue
        lower = e["t"] >= s if closed in ("left", "both") else e["t"] > s
        pos, rpos = (e["t"], e["id"]), (t, request["id"])
        upper = pos <= rpos if closed in ("right", "both") else pos < rpos
        if lower and upper:
            inside.append(e[column])
    vals = [v for v in inside if v is not None]
    if agg == "len":
        return len(inside)
    if agg == "count":
        return len(vals)
    if not vals:
        return None
    if agg == "sum":
        return math.fsum(vals) if column == "x" else sum(vals)
    exact = [Fraction(v) for v in vals]
    n = len(exact)
    m = sum(exact) / n
    if agg == "mean":
        return float(m)
    if n <= ddof:
        return None
    v = sum((x - m) ** 2 for x in exact) / (n - ddof)  # a different exact formula: two-pass, in rationals
    if agg == "std":
        return decimal_sqrt(v)
    try:
        return float(v)
    except OverflowError:  # the exact variance of values near 1e300 is past the largest double
        return math.inf


def decimal_sqrt(q: Fraction) -> float:
    """sqrt(q) with 100 decimal digits (decimal's own square root), then rounded to a double: the reference of
    the one-rounding std, independent of skewless.exact's integer square root."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec, ctx.Emin, ctx.Emax = 100, -999_999, 999_999
        return float((decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator)).sqrt())


finite = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.floats(allow_nan=False, allow_infinity=False,
                                                                      min_value=-1e300, max_value=1e300),
                   st.sampled_from([0.0, -0.0, 5e-324, 0.1, 1e-300, 2.0 ** 60]))


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 12), st.sampled_from("ab"), st.one_of(st.none(), finite),
                          st.one_of(st.none(), st.integers(-2**40, 2**40))), min_size=1, max_size=40),
       st.sampled_from(["left", "right", "both", "none"]), st.integers(1, 4))
def test_batch_equals_an_independent_exact_reference(rows, closed, period_h):
    events = [ev(i, T0 + t * 30 * dt.timedelta(minutes=1), k=k, x=x, d=d) for i, (t, k, x, d) in enumerate(rows)]
    feats = {f"{a}_{c}": rolling(getattr(col(c), a)(), f"{period_h}h", closed).over("k")
             for a in ("len", "count", "sum", "mean", "var", "std") for c in ("x", "d")}
    wins = Windows(source(), feats, requests_at="events")
    got = compute_windows(wins, frame(events), frame(events)).to_dicts()
    for e, row in zip(events, got):
        for name in feats:
            agg, c = name.split("_")
            want = reference(events, e, agg, period_h, closed, c)
            assert same_value(row[name], want), (name, e, row[name], want)  # std: one rounding of the exact root


# -- replay parity on generated event logs -----------------------------------------------------------------

DST_TIMES = [dt.datetime(2024, 3, 10, 6, 0, tzinfo=UTC) + k * dt.timedelta(minutes=30) for k in range(-6, 8)] + \
            [dt.datetime(2024, 11, 3, 5, 0, tzinfo=UTC) + k * dt.timedelta(minutes=30) for k in range(-6, 8)]
values = st.one_of(st.none(), finite, st.sampled_from([float("nan"), float("inf"), -float("inf")]))


@st.composite
def event_logs(draw):
    """Events with ties, bursts and gaps around both DST changes, and an arrival order with late events."""
    n = draw(st.integers(1, 30))
    base = draw(st.sampled_from(DST_TIMES))
    events = []
    t = base
    for i in range(n):
        step = draw(st.sampled_from([0, 0, 1, 30, 60, 600, 1440 * 2]))  # ties, bursts, gaps
        t = t + dt.timedelta(minutes=step)
        jitter = draw(st.sampled_from([0, 0, 1]))  # 1 us off a boundary
        events.append(ev(draw(st.integers(0, 10**6)) * 100 + i, t + jitter * US, k=draw(st.sampled_from(["a", "b", None])),
                         x=draw(values), d=draw(st.one_of(st.none(), st.integers(-10, 10)))))
    delays = [draw(st.sampled_from([0, 0, 0, 5, 59])) for _ in events]  # minutes late, within max_lateness 1h
    arrival = sorted(range(n), key=lambda i: (events[i]["t"] + dt.timedelta(minutes=delays[i]), i))
    return events, arrival


REPLAY_FEATURES = {
    **{f"{a}_{c}_{cl}": rolling(getattr(col(c), a)(), p, cl).over("k")
       for a in AGGS for c in ("x", "d") for cl, p in (("left", "1d"), ("right", "90m"), ("both", "24h"), ("none", "3h"))},
    **{f"cum_{a}_{c}_{cl}": getattr(col(c), f"cum_{a}")().over("k", order_by="t", closed=cl)
       for a in ("sum", "count", "min", "max") for c in ("x", "d") for cl in ("left", "right")},
    "late_rate": rolling((col("d") > 3).mean(), "2h", "left").over("k"),
    "pair": rolling(col("x").len(), "1d", "right").over("k", "d"),
}


@pytest.mark.parametrize("requests_at", ["events", "times"])
def test_replay_parity_on_generated_logs(new_store, requests_at):
    wins = Windows(source("America/New_York", lateness=H), REPLAY_FEATURES, requests_at=requests_at)

    @settings(max_examples=12, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(event_logs())
    def check(log):
        events, arrival = log
        zoned = [{**e, "t": e["t"].astimezone(NY)} for e in events]
        for paging in (None, (2, 4)):
            report = replay_parity(wins, frame(zoned, "America/New_York"), frame(zoned, "America/New_York"),
                                   new_store(), arrival=arrival, paging=paging)
            assert report.ok, (paging, report.examples)

    check()


# -- leakage and determinism -------------------------------------------------------------------------------

def test_leakage_later_events_and_later_ordered_ties_are_never_counted(new_store):
    t = T0 + 3 * H
    request = ev(5, t)
    events = [ev(1, t - H, d=1), ev(4, t, d=10), ev(5, t, d=100), ev(6, t, d=1000), ev(7, t + US, d=10000)]
    feats = {"left": rolling(col("d").sum(), "2h", "left").over("k"),
             "right": rolling(col("d").sum(), "2h", "right").over("k"),
             "cum": col("d").cum_sum().over("k", order_by="t", closed="right")}
    wins = Windows(source(), feats, requests_at="events")
    batch = compute_windows(wins, frame([request]), frame(events)).to_dicts()[0]
    assert batch == {"left": 11, "right": 111, "cum": 111}
    store = new_store()
    online = OnlineWindows(wins, store)
    online.ingest(events)  # the store already holds the later tie (6) and the later event (7)
    assert online(request) == batch


def test_determinism_streaming_runs_row_order_and_arrival_order(new_store):
    rng = random.Random(11)
    events = [ev(i, T0 + dt.timedelta(minutes=rng.randint(0, 3000)), k=rng.choice("abc"),
                 x=rng.choice([rng.uniform(-1, 1) * 10.0 ** rng.randint(-8, 12), 0.01 * rng.randint(0, 50000)]),
                 d=rng.randint(-100, 100)) for i in range(400)]
    feats = {f"{a}": rolling(getattr(col("x"), a)(), "6h", "left").over("k") for a in AGGS}
    wins = Windows(source(lateness=dt.timedelta(days=5)), feats, requests_at="events")  # every request answerable
    df = frame(events)
    runs = [compute_windows(wins, df, df, engine="streaming") for _ in range(2)]
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=3)
    runs.append(compute_windows(wins, df, shuffled, engine="streaming"))
    runs.append(compute_windows(wins, df, pl.concat([shuffled.slice(0, 150), shuffled.slice(150)], rechunk=False)))
    bits = [_bits(r.to_dicts()) for r in runs]
    assert bits[0] == bits[1] == bits[2] == bits[3]
    online_runs = []
    for seed in (1, 2):
        order = list(range(len(events)))
        random.Random(seed).shuffle(order)  # any arrival order: all events are in before the requests
        store = new_store()
        online = OnlineWindows(wins, store)
        online.ingest([events[i] for i in order])
        online_runs.append(_bits([online(e) for e in events]))
    assert online_runs[0] == online_runs[1] == bits[0]


def _bits(rows):
    return [[(type(v).__name__, v.hex() if type(v) is float else v) for v in row.values()] for row in rows]


# -- online rules: idempotence, validation, bounds ---------------------------------------------------------

def test_ingest_is_idempotent_and_refuses_conflicts_and_too_late_events(new_store):
    wins = Windows(source(lateness=H), {"n": rolling(col("d").len(), "2h", "left").over("k"),
                                        "s": col("d").cum_sum().over("k", order_by="t", closed="left")},
                   requests_at="times")
    store = new_store()
    online = OnlineWindows(wins, store)
    events = [ev(1, T0, d=1), ev(2, T0 + H, d=2)]
    assert online.ingest(events).duplicates == 0
    assert online.ingest(events).duplicates == 2  # the same events again: no-ops
    assert online(ev(None, T0 + 2 * H)) == {"n": 2, "s": 3}
    with pytest.raises(EventConflict, match="event 2 was already ingested with other contents"):
        online.ingest([ev(2, T0 + H, d=3)])
    online.ingest([ev(3, T0 + 10 * H, d=4)])  # horizon: 10h - 1h lateness - 2h period = T0 + 7h
    with pytest.raises(LateEvent, match="older than the state horizon"):
        online.ingest([ev(4, T0 + 6 * H, d=5), ev(5, T0 + 11 * H, d=5)])
    assert online(ev(None, T0 + 11 * H)) == {"n": 1, "s": 7}  # nothing of the refused batch was written
    with pytest.raises(RequestBeforeHorizon, match="before the state horizon"):
        online(ev(None, T0 + 8 * H))


def test_invalid_events_name_the_field_and_write_nothing(new_store):
    wins = Windows(source(), {"n": rolling(col("d").len(), "2h", "left").over("k")}, requests_at="times")
    store = new_store()
    online = OnlineWindows(wins, store)
    with pytest.raises(InvalidEvent, match=r"event 1 of source 'ev': .*\bd\b"):
        online.ingest([ev(1, T0, d=1), ev(2, T0, d="three")])
    with pytest.raises(InvalidEvent, match="'id' is null"):
        online.ingest([ev(None, T0, d=1)])
    with pytest.raises(InvalidEvent, match=r"\bt\b"):
        online.ingest([{"id": 3, "k": "a", "x": None, "d": 1}])
    assert online(ev(None, T0 + H)) == {"n": 0}
    assert store.version(wins.entities[0].table) is None


def test_materialize_builds_the_same_state_as_incremental_ingestion(new_store):
    rng = random.Random(2)
    events = [ev(i, T0 + dt.timedelta(minutes=rng.randint(0, 5000)), k=rng.choice("ab"), x=rng.uniform(-9, 9),
                 d=rng.randint(0, 9)) for i in range(200)]
    feats = {"m": rolling(col("x").mean(), "3h", "left").over("k"),
             "c": col("x").cum_sum().over("k", order_by="t", closed="left")}
    wins = Windows(source(lateness=H), feats, requests_at="times")
    bulk, incremental = new_store(), new_store()
    OnlineWindows(wins, bulk).materialize(events)
    inc = OnlineWindows(wins, incremental)
    for e in sorted(events, key=lambda e: (e["t"], e["id"])):
        inc.ingest([e])
    table = wins.entities[0].table
    a = bulk.get_many([(table, ("a",)), (table, ("b",))])
    b = incremental.get_many([(table, ("a",)), (table, ("b",))])
    # the same held events, horizon, sealed count and lifetime partials (the bytes may differ: an in-order
    # ingest appends to the prefix columns, which keep their base)
    assert [_content(r) for r in a] == [_content(r) for r in b]
    newest = max(events, key=lambda e: (e["t"], e["id"]))
    assert inc.ingest([newest]).duplicates == 1  # idempotent on the appended state too
    for k in "ab":
        req = ev(None, max(e["t"] for e in events) + US, k=k)
        assert _bits([OnlineWindows(wins, bulk)(req)]) == _bits([inc(req)])


def _content(row):
    from skewless.windows.state import decode_state

    s = decode_state(row.values)
    return s.newest, s.horizon, s.sealed, s.partials, [[(type(v).__name__, v.hex() if type(v) is float else v)
                                                        for v in e] for e in s.events()]


def test_one_store_round_trip_per_request(new_store):
    src = source(k2=Int64())
    wins = Windows(src, {"a": rolling(col("d").len(), "2h", "left").over("k"),
                         "b": rolling(col("d").sum(), "1d", "left").over("k", "k2"),
                         "c": rolling(col("x").mean(), "1h", "left").over("k2")}, requests_at="times")
    store = new_store()
    online = OnlineWindows(wins, store)
    online.ingest([ev(1, T0, d=1, x=1.0, k2=3)])
    calls = []
    real = store.get_many

    def counting(lookups):
        calls.append(list(lookups))
        return real(lookups)

    store.get_many = counting
    assert online(ev(None, T0 + H, k2=3)) == {"a": 1, "b": 1, "c": 1.0}
    assert len(calls) == 1 and len(calls[0]) == 3


def test_concurrent_ingesters_lose_no_event(new_store):
    wins = Windows(source(lateness=dt.timedelta(days=30)), {"n": col("d").cum_count().over("k", order_by="t",
                                                                                            closed="right")},
                   requests_at="times")
    first = new_store()
    # a second connection to the same store
    second = SQLiteStore(first.path) if isinstance(first, SQLiteStore) else RedisStore(
        f"redis://127.0.0.1:{first._client.connection_pool.connection_kwargs['port']}/0", namespace=first.namespace)
    errors = []

    def run(store, offset):
        try:
            online = OnlineWindows(wins, store)
            for i in range(40):
                online.ingest([ev(offset + i, T0 + i * US, d=1)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s, o)) for s, o in ((first, 0), (second, 1000))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    second.close()
    assert not errors
    assert OnlineWindows(wins, first)(ev(None, T0 + H)) == {"n": 80}


def test_store_update_applies_to_a_pending_load_too(new_store):
    store = new_store()
    store.write("t", [(("a",), 1, {"v": 1})])
    seen = []

    def rows():
        yield (("a",), 1, {"v": 10})
        # mid-load: an update reaches the live and the pending version
        store.update("t", [("a",)], lambda key, cur: (cur.event_time, {"v": cur.values["v"] + 1}))
        seen.append(store.get_many([("t", ("a",))])[0].values)
        yield (("b",), 1, {"v": 0})

    store.load("t", rows(), batch_size=1)
    assert seen == [{"v": 2}]
    assert store.get_many([("t", ("a",))])[0].values == {"v": 11}


def test_store_update_that_raises_writes_nothing(new_store):
    store = new_store()
    store.write("t", [(("a",), 1, {"v": 1})])

    def change(key, cur):
        if key == ("b",):
            raise ValueError("no")
        return 2, {"v": 2}

    with pytest.raises(ValueError):
        store.update("t", [("a",), ("b",)], change)
    assert store.get_many([("t", ("a",))])[0].values == {"v": 1}


# -- definitions ---------------------------------------------------------------------------------------------

def test_definition_errors_name_the_feature():
    src = source()
    with pytest.raises(DefinitionError, match="closed= is required"):
        col("x").mean().rolling(index_column="t", period="1h")
    with pytest.raises(DefinitionError, match="closed= is required"):
        col("x").rolling_sum_by("t", window_size="1h")
    with pytest.raises(DefinitionError, match="whole group's mean, later events included"):
        col("x").mean().over("k")
    with pytest.raises(DefinitionError, match="unit 'mo'"):
        col("x").mean().rolling(index_column="t", period="1mo", closed="left")
    with pytest.raises(DefinitionError, match="cannot read the duration"):
        col("x").mean().rolling(index_column="t", period="24 hours", closed="left")
    with pytest.raises(DefinitionError, match="requests_at= is required"):
        Windows(src, {"a": rolling(col("x").sum()).over("k")})
    with pytest.raises(DefinitionError, match="feature 'a'.*indexed by 'u'"):
        Windows(src, {"a": col("x").sum().rolling(index_column="u", period="1h", closed="left").over("k")},
                requests_at="times")
    with pytest.raises(DefinitionError, match="feature 'a'.*entity key 'x' must be"):
        Windows(src, {"a": rolling(col("d").sum()).over("x")}, requests_at="times")
    with pytest.raises(DefinitionError, match="feature 'a'.*mean needs Int64, Float64 or Boolean"):
        Windows(src, {"a": rolling(col("k").mean()).over("k")}, requests_at="times")
    with pytest.raises(DefinitionError, match="feature 'a'"):
        Windows(src, {"a": rolling(col("nope").sum()).over("k")}, requests_at="times")
    with pytest.raises(DefinitionError, match="min_samples"):
        col("x").rolling_mean_by("t", window_size="1h", closed="left", min_samples=3)
    with pytest.raises(DefinitionError, match="order column 'id' must be an Int64"):
        EventSource("ev", time="t", order="id", columns={"t": Datetime("us", "UTC"), "id": String()})


def test_rolling_by_spellings_are_the_same_ir():
    a = col("x").rolling_mean_by("t", window_size="24h", closed="left").over("k")
    b = col("x").mean().rolling(index_column="t", period="24h", closed="left").over("k")
    assert a == b
    assert b.render() == "col('x').mean().rolling(index_column='t', period='24h', closed='left').over('k')"


def test_batch_refuses_duplicate_and_null_event_ids():
    wins = Windows(source(), {"n": rolling(col("d").len()).over("k")}, requests_at="times")
    with pytest.raises(SchemaError, match="the value 1 more than once"):
        compute_windows(wins, frame([ev(1, T0)]), frame([ev(1, T0), ev(1, T0 + H)]))
    with pytest.raises(SchemaError, match="has nulls"):
        compute_windows(wins, frame([ev(1, T0)]), frame([ev(None, T0)]))


def test_the_online_modules_never_import_polars():
    import subprocess
    import sys

    code = ("import sys; import skewless.windows, skewless.windows.online, skewless.windows.exact; "
            "assert 'polars' not in sys.modules, 'polars imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_boolean_and_string_values(new_store):
    src = source(b=Boolean())
    wins = Windows(src, {"bmin": rolling(col("b").min(), "3h", "right").over("k"),
                         "bsum": rolling(col("b").sum(), "3h", "right").over("k"),
                         "kfirst": rolling(col("k").first(), "3h", "right").over("d"),
                         "knu": rolling(col("k").n_unique(), "3h", "right").over("d")}, requests_at="times")
    events = [ev(1, T0, b=True, d=1), ev(2, T0 + H, b=False, d=1), ev(3, T0 + H, b=None, k=None, d=1),
              ev(4, T0 + H, b=None, k="b", d=1)]
    spine, history = frame([ev(None, T0 + H, d=1)], b=pl.Boolean), frame(events, b=pl.Boolean)
    assert compute_windows(wins, spine, history).to_dicts() == [{"bmin": False, "bsum": 1, "kfirst": "a", "knu": 3}]
    report = replay_parity(wins, history, spine, new_store())
    assert report.ok, report.examples
    # a lifetime count of strings skips their nulls (online it counted them: fixed with the paged state)
    wins = Windows(source(), {"kc": col("k").cum_count().over("d", order_by="t", closed="right"),
                              "kr": rolling(col("k").count(), "1h", "right").over("d")}, requests_at="times")
    events = [ev(i, T0 + i * 10 * dt.timedelta(minutes=1), k=[None, "a", "b"][i % 3], d=1) for i in range(12)]
    assert [r["kc"] for r in both(wins, events, events, new_store)] == [0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8]


@pytest.mark.parametrize("kind", ["cents", "mixed", "extreme", "small_ints", "subnormal", "int64"])
def test_vectorised_limb_rounding_equals_the_exact_integers(kind):
    """The batch's fast path (32-bit limbs, rounded from their top 64 bits) against skewless.windows.exact."""
    import numpy as np

    from skewless.windows import exact, limbs
    from skewless.windows.batch import _float_parts, _rounded

    rng = np.random.default_rng(7)
    n = 2_000
    x = {"cents": lambda: rng.integers(0, 50_000, n) / 100,
         "mixed": lambda: rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-8, 12, n),
         "extreme": lambda: rng.choice([1e308, -1e308, 5e-324, 1.0, -0.5, 3e-310, 1.7976931348623157e308], n),
         "small_ints": lambda: rng.integers(-5, 5, n).astype(float),
         "subnormal": lambda: rng.choice([5e-324, 1e-323, -5e-324, 2.5e-308], n),
         "int64": lambda: rng.choice([2**63 - 1, -2**63, 3, -7, 2**53 + 1], n)}[kind]()
    lo = rng.integers(0, n, 3_000)
    hi = np.minimum(n, lo + rng.integers(1, 300, 3_000))
    count = hi - lo
    if kind == "int64":
        table = limbs.prefix(limbs.split(x.astype(np.int64), np.zeros(n, np.int64), limbs.limb_count(64, n)))
        got = {"mean": _rounded(table, lo, hi, count, 0, "mean")}
    else:
        fp = _float_parts(pl.Series(x))
        table = limbs.prefix(limbs.split(fp["mant"], fp["shift"], fp["k"]))
        got = {agg: _rounded(table, lo, hi, count, fp["scale"], agg) for agg in ("sum", "mean")}
    fallbacks = 0
    for agg, values in got.items():
        for i in range(len(lo)):
            window = x[lo[i]:hi[i]].tolist()
            want = exact.aggregate(agg, "int" if kind == "int64" else "float", window)
            if math.isnan(values[i]):  # below the normal range: the batch recomputes these with exact integers
                fallbacks += 1
                continue
            assert same_value(float(values[i]), want), (agg, window, values[i], want)
    assert fallbacks < len(lo) // 10 if kind != "subnormal" else True


@pytest.mark.parametrize("first", [0.0, -0.0])
def test_min_max_order_minus_zero_before_zero_whatever_the_event_order(new_store, first):
    second = -0.0 if math.copysign(1.0, first) > 0 else 0.0
    events = [ev(1, T0, x=first), ev(2, T0 + US, x=second), ev(3, T0 + 2 * US, x=float("nan"))]
    wins = Windows(source(), {"lo": rolling(col("x").min(), "1h", "right").over("k"),
                              "hi": rolling(col("x").max(), "1h", "right").over("k"),
                              "cum_lo": col("x").cum_min().over("k", order_by="t", closed="right"),
                              "names": col("k").cum_count().over("d", order_by="t", closed="right")},
                   requests_at="times")
    (got,) = both(wins, [{**e, "d": 1} for e in events], [ev(None, T0 + H / 2, d=1)], new_store)
    assert same_value(got["lo"], -0.0) and same_value(got["hi"], 0.0) and same_value(got["cum_lo"], -0.0)
    assert got["names"] == 3


# -- materialize while ingesting -------------------------------------------------------------------------------

def _loading_with(store, during):
    """``store.load`` calls ``during()`` after the first batch of a load has been written (batch_size=1)."""
    real = store.load

    def load(table, rows, **kw):
        def gen():
            for i, row in enumerate(rows):
                if i == 1:
                    during()
                yield row
        return real(table, gen(), **{**kw, "batch_size": 1})

    store.load = load


def test_materialize_merges_events_ingested_while_it_loads(new_store):
    history = [ev(i, T0 + i * 10 * dt.timedelta(minutes=1), k=k, x=float(i), d=i) for i, k in
               enumerate("ababab")]
    live = [ev(100, T0 + H, k="a", x=0.5), ev(101, T0 + H, k="b", x=1.5), ev(102, T0 + H, k="c", x=2.5),
            history[4]]  # a duplicate of a history event: a no-op
    feats = {"s": rolling(col("x").sum(), "2h", "left").over("k"),
             "c": col("x").cum_count().over("k", order_by="t", closed="left")}
    wins = Windows(source(lateness=H), feats, requests_at="times")
    store, reference = new_store(), new_store()
    online = OnlineWindows(wins, store)
    # "a" is loaded before the ingest (the ingest updates the loaded row), "b" after it (the load merges the
    # row the ingest created in the version being loaded), "c" has no history (the ingest's row stays)
    _loading_with(store, lambda: online.ingest(live))
    online.materialize(history)
    OnlineWindows(wins, reference).ingest(history + live)
    table = wins.entities[0].table
    keys = [(table, (k,)) for k in "abc"]
    assert [_content(r) for r in store.get_many(keys)] == [_content(r) for r in reference.get_many(keys)]
    req = ev(None, T0 + 2 * H)
    for k in "abc":
        assert online({**req, "k": k}) == OnlineWindows(wins, reference)({**req, "k": k})


def test_materialize_refuses_what_it_cannot_merge_exactly_and_switches_nothing(new_store):
    feats = {"c": col("x").cum_count().over("k", order_by="t", closed="left")}
    wins = Windows(source(lateness=dt.timedelta(0)), {**feats, "r": rolling(col("x").sum(), "1h", "left").over("k")},
                   requests_at="times")
    store = new_store()
    online = OnlineWindows(wins, store)
    online.ingest([ev(1, T0, k="z", x=1.0)])
    table = wins.entities[0].table
    before = store.version(table)
    history = [ev(i, T0 + i * H, k=k, x=1.0) for i, k in enumerate("ab", start=10)]
    # the ingest during the load reaches back further than the state keeps: it seals events into its own
    # lifetime partial, which may overlap the history's (an event cannot be recognised once sealed)
    _loading_with(store, lambda: online.ingest([ev(50 + i, T0 + i * H, k="b", x=1.0) for i in range(5)]))
    with pytest.raises(ConcurrentIngest, match="materialize again"):
        online.materialize(history)
    assert store.version(table) == before
    assert online(ev(None, T0 + 5 * H, k="z")) == {"c": 1, "r": None}
