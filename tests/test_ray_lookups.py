"""The Ray engine's lookups: a partition joined against only the table rows its keys can read (what the engine
ships to it) gets exactly the single-machine join's answers. Runs without Ray (the pruning is polars)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from skewless import EntityTable, Float64, Int64, Lookup, String
from skewless.state.batch import join_lookups
from skewless.state.lookups import Lookups
from skewless.training.ray_engine import _asked, _readable_rows

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
