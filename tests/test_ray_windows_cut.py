"""The Ray engine's windows per partition change no window's value (no Ray needed).

Each partition of a Ray build computes its rows' windows with the single machine's ``FeatureWindows.join``
over only the events :func:`skewless.training.ray_engine._readable_events` ships to it (per key asked in
``[lo, hi]``: its events in ``[lo - longest period, hi]``, calendar days as 26 h; lifetime windows: all up to
``hi``), and the entity groups shuffled by entity (:mod:`skewless.training.ray_shuffle`: requests to buckets
by key, ``compute_windows`` there, values back by row position) are computed over their bucket's events.
Property: for random events (ties in time, null keys and times, NaN/±inf/-0.0 and null values), random
requests (some at exactly an event's time, some with null parts), every ``closed``, both ``requests_at``,
calendar-day periods across a DST change (a 25 h day), fixed periods (the bound is then exact), lifetime
windows, random contiguous partitions and a partition per row, and a random set of shuffled groups, every
partition's windows equal the whole-table windows of the same rows, bit for bit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless.dtypes import Datetime, Field, Float64, Int64, String
from skewless.exact import float_bits
from skewless.training import ray_shuffle
from skewless.training.ray_engine import _asked_windows, _readable_events
from skewless.windows import EventSource, Windows, col
from skewless.windows.declared import FeatureWindows, Windowed

ZONE = "America/New_York"
T0 = dt.datetime(2024, 11, 1, tzinfo=dt.timezone.utc)  # the fall-back day (2024-11-03) is 25 h long there
COLUMNS = {"t": Datetime("us", ZONE), "id": Int64(), "k": String(), "k2": String(), "x": Float64(), "d": Int64()}
SRC = EventSource("ev", time="t", order="id", max_lateness=dt.timedelta(hours=1), columns=COLUMNS)
XS = [0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, float("nan"), float("inf"), float("-inf"), 3.0, 0.1, None]


def _windows(closed: str, requests_at: str, lifetime: bool, periods: tuple[str, str, str]) -> Windows:
    def roll(agg, period):
        return agg.rolling(index_column="t", period=period, closed=closed)

    feats = {
        "x_sum": roll(col("x").sum(), periods[0]).over("k"),
        "x_mean": roll(col("x").mean(), periods[1]).over("k", "k2"),
        "x_std": roll(col("x").std(), periods[0]).over("k"),
        "d_max": roll(col("d").max(), periods[2]).over("k2"),
        "d_unique": roll(col("d").n_unique(), periods[1]).over("k"),
        "x_first": roll(col("x").first(), periods[2]).over("k", "k2"),
        "x_last": roll(col("x").last(), periods[0]).over("k2"),
        "n": roll(col("d").len(), periods[1]).over("k2"),
    }
    if lifetime:
        feats["d_so_far"] = col("d").cum_sum().over("k", order_by="t", closed="left" if closed in ("left", "none")
                                                    else "right")
    return Windows(SRC, feats, requests_at=requests_at)


def _frame(rng: np.random.Generator, n: int, ids: np.ndarray, null_times: bool) -> pl.DataFrame:
    # times on a 30-minute grid over 5 days (ties, and requests at exactly an event's time)
    minutes = rng.integers(0, 5 * 48, n) * 30
    times = [T0 + dt.timedelta(minutes=int(m)) for m in minutes]
    if null_times:
        times = [None if rng.random() < 0.05 else t for t in times]
    return pl.DataFrame({
        "t": times, "id": ids.tolist(),
        "k": rng.choice(["a", "b", "c", None], n, p=[0.4, 0.3, 0.2, 0.1]).tolist(),
        "k2": rng.choice(["x", "y", None], n, p=[0.5, 0.4, 0.1]).tolist(),
        "x": [XS[i] for i in rng.integers(0, len(XS), n)],
        "d": [None if v < 0 else int(v) for v in rng.integers(-1, 6, n)],
    }, schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "k2": pl.String, "x": pl.Float64,
               "d": pl.Int64}).with_columns(pl.col("t").dt.convert_time_zone(ZONE))


def _bits(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(float_bits(pl.col(c)).alias(c) for c in df.columns if df.schema[c] == pl.Float64)


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["left", "right", "both", "none"]),
       st.sampled_from(["times", "events"]), st.booleans(),
       st.sampled_from([("1d", "2h", "30m"), ("2d", "1d", "90m"), ("1h", "3h", "1d"), ("3h", "1h", "90m")]),
       st.lists(st.floats(0, 1), min_size=0, max_size=4), st.sets(st.integers(0, 3)))
def test_each_partition_s_windows_over_its_cut_equal_the_whole_table_s(seed, closed, requests_at, lifetime,
                                                                       periods, cuts, shuffled):
    rng = np.random.default_rng(seed)
    windows = _windows(closed, requests_at, lifetime, periods)
    inputs = {"t": Field(Datetime("us", ZONE), True), "k": Field(String(), True), "k2": Field(String(), True)}
    if requests_at == "events":
        inputs["id"] = Field(Int64(), True)
    fw = FeatureWindows(inputs, [Windowed(windows, at="t")])
    n_events, n_rows = int(rng.integers(0, 120)), int(rng.integers(1, 40))
    events = _frame(rng, n_events, rng.permutation(10 * n_events + 1)[:n_events], null_times=True)
    rows = _frame(rng, n_rows, rng.integers(0, 10 * n_events + 1, n_rows), null_times=True).select(list(inputs))
    whole = fw.join(rows, {"ev": events})
    # random cuts, and a partition per row (every request is then its key's first and last: the cut's edges)
    edges = sorted({0, n_rows, *(int(c * n_rows) for c in cuts)})
    for a, b in [*zip(edges, edges[1:]), *((i, i + 1) for i in range(n_rows))]:
        part = rows.slice(a, b - a)
        cut = _readable_events(fw, {"ev": events}, _asked_windows(fw, part.lazy()))["ev"]
        assert cut.columns == list(COLUMNS)
        assert cut.join(events, on=list(COLUMNS), how="anti", nulls_equal=True).height == 0  # events, in order
        assert cut["id"].to_list() == [i for i in events["id"].to_list() if i in set(cut["id"].to_list())]
        got = fw.join(part, {"ev": cut})
        assert _bits(got).equals(_bits(whole.slice(a, b - a)), null_equal=True), (a, b)

    # the shuffle by entity (ray_shuffle) of some entity groups, the others cut: the same values
    groups = [ray_shuffle.Group(0, j) for j in sorted(shuffled) if j < len(windows.entities)]
    bounds = list(zip(edges, edges[1:]))
    asked = [_asked_windows(fw, rows.slice(a, b - a).lazy()) for a, b in bounds]
    routes, bucket_events = ray_shuffle.plan(fw, {"ev": events}, asked, groups)
    n = len(bounds)
    spines = [ray_shuffle.spine_pieces(fw, rows.slice(a, b - a), a, routes[i], n) for i, (a, b) in enumerate(bounds)]
    values = [ray_shuffle.bucket_windows(fw, [spines[i][k] for i in range(n)], bucket_events[k], edges[:-1])
              for k in range(n)]
    assert sum(e[g].height for e in bucket_events for g in groups) <= len(groups) * n_events  # one copy at most
    for i, (a, b) in enumerate(bounds):
        cut = _readable_events(fw, {"ev": events}, asked[i], skip=groups)["ev"]
        got = ray_shuffle.join(fw, rows.slice(a, b - a), {"ev": cut}, [values[k][i] for k in range(n)])
        assert _bits(got).equals(_bits(whole.slice(a, b - a)), null_equal=True), ("shuffled", groups, a, b)
