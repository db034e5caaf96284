"""The Ray engine's partition-level rules, checked without Ray (they are polars and Python on the driver):

* lookups: a partition joined against only the table rows its keys can read (what the engine ships to it)
  gets exactly the single-machine join's answers;
* a stratified split: the cut keys merged from the partitions' counts put every row in the split the
  single-machine rank over the whole source puts it in.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from skewless import EntityTable, FeatureSet, Float64, Input, Int64, Lookup, String, col
from skewless.state.batch import join_lookups
from skewless.state.lookups import Lookups
from skewless.training import build as _b
from skewless.training import ray_engine
from skewless.training.ray_engine import _asked, _Job, _ranks_below, _readable_rows, _strata

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
KEYS = ["a", "b", "c", None]


def _lookups(tolerance: int | None, exact: bool) -> Lookups:
    versioned = EntityTable("obs", key=("site", "n"), key_dtypes=(String(), Int64()), time="at",
                            columns={"v": Float64()})
    static = EntityTable("sites", key="site", key_dtypes=String(), columns={"size": Int64()})
    return Lookups({"site": String(), "n": Int64(), "t": versioned.time_dtype}, [
        Lookup(versioned, by=("site", "n"), on="t", allow_exact_matches=exact,
               tolerance=None if tolerance is None else dt.timedelta(hours=tolerance), prefix="o_"),
        Lookup(static, by="site", prefix="s_"),
    ])


def _times(draw, size: int) -> list:  # few distinct hours: ties, and nulls
    return [None if h is None else T0 + dt.timedelta(hours=h)
            for h in draw(st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=size, max_size=size))]


@st.composite
def _case(draw):
    n_rows, n_obs = draw(st.integers(1, 40)), draw(st.integers(0, 40))
    spine = pl.DataFrame({
        "site": draw(st.lists(st.sampled_from(KEYS), min_size=n_rows, max_size=n_rows)),
        "n": draw(st.lists(st.integers(0, 1), min_size=n_rows, max_size=n_rows)),
        "t": _times(draw, n_rows),
    }, schema={"site": pl.String, "n": pl.Int64, "t": pl.Datetime("us", "UTC")})
    obs = pl.DataFrame({
        "site": draw(st.lists(st.sampled_from(KEYS), min_size=n_obs, max_size=n_obs)),
        "n": draw(st.lists(st.integers(0, 1), min_size=n_obs, max_size=n_obs)),
        "at": _times(draw, n_obs),
        "v": [float(i) for i in range(n_obs)],  # each row its own value: a different row read is seen
    }, schema={"site": pl.String, "n": pl.Int64, "at": pl.Datetime("us", "UTC"), "v": pl.Float64})
    sites = pl.DataFrame({"site": ["a", "b", "c"], "size": [1, 2, 3]})
    cuts = sorted(draw(st.lists(st.integers(0, n_rows), max_size=3)))
    return spine, {"obs": obs, "sites": sites}, [0, *cuts, n_rows], draw(st.sampled_from([None, 1, 3])), \
        draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(_case())
def test_a_partition_joined_against_its_readable_rows_equals_the_whole_join(case):
    spine, tables, edges, tolerance, exact = case
    lookups = _lookups(tolerance, exact)
    whole = join_lookups(lookups, spine, tables).collect()
    for a, b in zip(edges, edges[1:]):
        part = spine.slice(a, b - a)
        readable = _readable_rows(lookups, tables, _asked(lookups, part.lazy()))
        assert all(readable[n].height <= tables[n].height for n in tables)
        got = join_lookups(lookups, part, readable).collect()
        assert got.equals(whole.slice(a, b - a), null_equal=True), (a, b, tolerance, exact)


def test_only_the_rows_a_partition_can_read_are_shipped():
    lookups = _lookups(None, False)
    hours = [T0 + dt.timedelta(hours=h) for h in range(10)]
    obs = pl.DataFrame({"site": ["a"] * 10 + ["b"] * 10, "n": [0] * 20, "at": hours * 2, "v": [float(i) for i in range(20)]})
    spine = pl.DataFrame({"site": ["a", "a"], "n": [0, 0], "t": [hours[4], hours[6]]})
    readable = _readable_rows(lookups, {"obs": obs, "sites": pl.DataFrame({"site": ["a", "b"], "size": [1, 2]})},
                              _asked(lookups, spine.lazy()))
    # site a: hours 4 to 6, and hour 3 (the newest before 4: the request at 4 may not read hour 4); b not asked
    assert readable["obs"]["v"].to_list() == [3.0, 4.0, 5.0, 6.0]
    assert readable["sites"]["site"].to_list() == ["a"]
    within = _readable_rows(_lookups(2, True), {"obs": obs, "sites": pl.DataFrame({"site": ["a"], "size": [1]})},
                            _asked(lookups, spine.lazy()))
    assert within["obs"]["v"].to_list() == [2.0, 3.0, 4.0, 5.0, 6.0]  # tolerance 2 h: from hour 4 - 2 h


STRATA_SET = FeatureSet("strata", {"x": Input(Float64())}, {"y": col("x") * 2.0})


@st.composite
def _strata_case(draw):
    n = draw(st.integers(3, 300))
    labels = draw(st.sampled_from([[True, False], ["a", "b", "c"], ["only"]]))
    df = pl.DataFrame({"x": [float(i) for i in range(n)],
                       "c": draw(st.lists(st.sampled_from(labels), min_size=n, max_size=n))})
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    a = draw(st.floats(0.01, 0.98))
    b = draw(st.floats(a + 0.001, 0.999))
    return df, [0, *cuts, n], (a, b), draw(st.integers(0, 2**32)), draw(st.sampled_from([1 << 48, 1 << 62]))


@settings(max_examples=60, deadline=None)
@given(_strata_case())
def test_stratified_cuts_merged_from_partitions_split_every_row_as_one_machine(case):
    df, edges, fractions, seed, bucket = case
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ray_engine, "_BUCKET", bucket)  # 4 buckets: many rows share the cut's bucket
        lf = df.lazy().with_row_index(_b.SOURCE_ROW).with_columns(pl.col(_b.SOURCE_ROW).cast(pl.Int64))
        cols = _b._check_columns(STRATA_SET, lf, lf.collect_schema(), event_time=_b.SOURCE_ROW, label="c",
                                 task="binary" if df.schema["c"] == pl.Boolean else "multiclass")
        checks, keep = _b._row_checks(STRATA_SET, cols)
        base = _b._kept_rows(lf, cols, keep)
        conditions, _, whole = _b._split_conditions(base, cols, fractions, split_by="stratified", seed=seed,
                                                    quantiles=None)
        want = whole.select(_b._SPLIT).collect()[_b._SPLIT].to_list()
        bounds = [(a, b - a) for a, b in zip(edges, edges[1:])]
        job = _Job(STRATA_SET, None, _b.SOURCE_ROW, "stratified", cols, keep, bounds, seed,
                   frames=[df.slice(a, n) for a, n in bounds], conditions=conditions,
                   random_split=(fractions, cols.task))

        def run(stage, *args):
            return [ray_engine._STAGES[stage](job, i, None, *args) for i in range(len(bounds))]

        job.strata = _strata(run, fractions)
        got = [v for i in range(len(bounds)) for v in job.base(i).select(_b._SPLIT).collect()[_b._SPLIT].to_list()]
    assert got == want


def test_ranks_below_is_the_count_of_positions_below_the_fraction():
    for n in (1, 2, 3, 7, 10, 49, 1000, 12345):
        for q in (1e-9, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 0.9999):
            assert _ranks_below(n, q) == sum(float(j) / float(n) < q for j in range(n)), (n, q)
