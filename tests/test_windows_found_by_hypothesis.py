"""Window findings of a long local hypothesis run (helper fz): minimal reproducers of two batch crashes, kept as
regression tests now that both are fixed (they were strict xfails until then).

* std of ``[0.0, 2**65, 4.0]``: the float fixed-point sum of squares reached the exact rules as a float; fixed by
  the compiled multiword Σx² prefix sums (features/windows/kernels.py).
* Int64 var/std of ``[0, 3037000500]``: the exact window sums went through ``np.frompyfunc`` as Python-int lists,
  which numpy converts to float64 once an int passes int64 — ``batch._frompy`` now passes them as object arrays.

Found with the window tests' own strategies at 300 examples, random seeds (tests/test_windows_batch.py::
test_fast_and_wide_paths_agree_with_the_exact_reference): see /work/notes/fz.md.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from skewless.dtypes import Datetime, Float64, Int64, String
from skewless.windows import EventSource, Windows, col
from skewless.windows.batch import compute_windows

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
SRC = EventSource("ev", time="t", order="id", max_lateness=dt.timedelta(days=1),
                  columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": String(), "x": Float64(), "d": Int64()})


def test_rolling_std_of_a_huge_and_a_small_value_after_a_zero():
    values = [0.0, 2.0 ** 65, 4.0]
    events = pl.DataFrame({"t": [T0 + dt.timedelta(minutes=10 * i) for i in range(3)], "id": [0, 1, 2], "k": ["a"] * 3,
                           "x": values, "d": [None] * 3},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    feats = {"std": col("x").std().rolling(index_column="t", period="1h", closed="right").over("k")}
    got = compute_windows(Windows(SRC, feats, requests_at="events"), events, events)["std"].to_list()
    assert got[-1] == 2.1300465313256686e19  # the exact root of the exact variance, rounded once (statistics.stdev)


@pytest.mark.parametrize("agg, want", [("var", 4.611686018500125e18), ("std", 2147483648.0169353)])
def test_rolling_int64_var_and_std_when_a_later_square_passes_2_63(agg, want):
    events = pl.DataFrame({"t": [T0, T0 + dt.timedelta(minutes=10)], "id": [0, 1], "k": ["a", "a"], "x": [None, None],
                           "d": [0, 3037000500]},
                          schema={"t": pl.Datetime("us", "UTC"), "id": pl.Int64, "k": pl.String, "x": pl.Float64,
                                  "d": pl.Int64})
    feats = {agg: getattr(col("d"), agg)().rolling(index_column="t", period="1h", closed="right").over("k")}
    got = compute_windows(Windows(SRC, feats, requests_at="events"), events, events)[agg].to_list()
    assert got == [None, want]
