"""Windows: exact batch build vs polars' rolling_*_by, per-request latency vs history, state bytes.

Run from the repository root::

    python -m benchmarks.windows                      # 10^7 events, latency at 10 .. 10^5 events per entity
    python -m benchmarks.windows --events 1000000     # a quicker batch part

1. **Batch**: ``--events`` events over ``--entities`` entities and one year, amounts with cents; three windowed
   features (24 h ``len``, ``sum``, ``mean``, ``closed="left"``, per entity) built by
   ``skewless.windows.batch.compute_windows`` (exact) vs the hand-written polars peer
   ``rolling_sum_by``/``rolling_mean_by(...).over(k)`` (the add/subtract kernel). Ratio of times, and the share
   of rows where polars' sum is not the correctly rounded sum of the window.
2. **Per request**: 10 windowed features of one entity (SQLite, the embedded store; Redis when
   ``redis-server`` is on the PATH), p50/p99 of ``OnlineWindows(request)`` with N = 10 … 10^5 events of history:
   *history* — one event every 10 minutes, so the 24 h windows hold ≤ 144 events whatever N (the state keeps
   the last ``max_lateness + period``); *dense* — all N events inside the 24 h window (the state must hold them).
3. **State bytes** per entity for each N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks._common import append_results, machine_info, md_table, percentile, print_machine
from skewless.dtypes import Datetime, Float64, Int64
from skewless.state import RedisStore, SQLiteStore
from skewless.state.codec import encode_row
from skewless.windows import EventSource, OnlineWindows, Windows, col
from skewless.windows.batch import compute_windows

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
SOURCE = EventSource("bench", time="t", order="id", max_lateness=dt.timedelta(hours=1),
                     columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": Int64(), "x": Float64()})


def roll(expr, period="24h"):
    return expr.rolling(index_column="t", period=period, closed="left")


def batch_part(n: int, entities: int, seed: int = 0) -> tuple[list[list], dict]:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 365 * 86_400_000_000, n)) + int(T0.timestamp() * 1_000_000)
    df = pl.DataFrame({"t": t, "id": np.arange(n), "k": rng.integers(0, entities, n),
                       "x": rng.integers(0, 50_000, n) / 100, "one": np.ones(n, np.int64)}).with_columns(
        pl.col("t").cast(pl.Datetime("us", "UTC"))).sort(["k", "t"])
    wins = Windows(SOURCE, {"n": roll(col("x").len()).over("k"), "s": roll(col("x").sum()).over("k"),
                            "m": roll(col("x").mean()).over("k")}, requests_at="events")
    started = time.perf_counter()
    peer = df.with_columns(
        pl.col("one").rolling_sum_by("t", window_size="24h", closed="left").over("k").alias("n"),
        pl.col("x").rolling_sum_by("t", window_size="24h", closed="left").over("k").alias("s"),
        pl.col("x").rolling_mean_by("t", window_size="24h", closed="left").over("k").alias("m"))
    peer_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = compute_windows(wins, df, df)
    ours_s = time.perf_counter() - started
    nonempty = ours["n"].to_numpy() > 0
    differ = (peer["s"].to_numpy() != ours["s"].fill_null(0.0).to_numpy()) & nonempty
    rows = [[f"{n:,} events, {entities:,} entities, 3 features (24 h len/sum/mean)",
             f"{ours_s:.2f} s ({n / ours_s:,.0f} events/s)", f"{peer_s:.2f} s", f"{ours_s / peer_s:.1f}×",
             f"{differ.sum() / max(nonempty.sum(), 1):.1%}"]]
    print(md_table(["build", "skewless (exact)", "polars rolling_*_by", "ratio", "polars sum ≠ correctly rounded"],
                   rows))
    return rows, {"ours_s": ours_s, "peer_s": peer_s}


LATENCY_FEATURES = {
    "n_1h": roll(col("x").len(), "1h").over("k"), "n_24h": roll(col("x").len()).over("k"),
    "sum_24h": roll(col("x").sum()).over("k"), "mean_24h": roll(col("x").mean()).over("k"),
    "min_24h": roll(col("x").min()).over("k"), "max_24h": roll(col("x").max()).over("k"),
    "std_24h": roll(col("x").std()).over("k"), "last_24h": roll(col("x").last()).over("k"),
    "mean_1h": roll(col("x").mean(), "1h").over("k"), "total": col("x").cum_sum().over("k", order_by="t", closed="left"),
}


def latency_part(sizes: list[int], stores: dict, requests: int = 300) -> list[list]:
    wins = Windows(SOURCE, LATENCY_FEATURES, requests_at="times")
    rows = []
    for scenario, step in (("history", dt.timedelta(minutes=10)), ("dense", None)):
        for n in sizes:
            span = dt.timedelta(hours=23)
            events = [{"t": T0 + (i * step if step else span * i / n), "id": i, "k": 1, "x": (i % 977) / 100}
                      for i in range(n)]
            end = events[-1]["t"] + dt.timedelta(minutes=1)
            for name, make in stores.items():
                store = make()
                online = OnlineWindows(wins, store)
                online.materialize(events)
                request = {"t": end, "k": 1, "id": None, "x": None}
                online(request)
                took = []
                for _ in range(requests):
                    started = time.perf_counter_ns()
                    online(request)
                    took.append((time.perf_counter_ns() - started) / 1000)
                (row,) = store.get_many([(wins.entities[0].table, (1,))])
                held = row.values["w"]["n"]
                rows.append([scenario, f"{n:,}", name, f"{percentile(took, 50):,.0f}", f"{percentile(took, 99):,.0f}",
                             f"{held:,}", f"{len(encode_row(row.values)):,}"])
                print(rows[-1], flush=True)
                store.close()
    print(md_table(["history", "events per entity", "store", "p50 µs", "p99 µs", "events held", "state bytes"], rows))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--sizes", default="10,100,1000,10000,100000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    batch_rows, _ = batch_part(args.events, args.entities)
    tmp = Path(tempfile.mkdtemp())
    stores = {"sqlite": lambda: SQLiteStore(tmp / f"{time.perf_counter_ns()}.db")}
    server = None
    if shutil.which("redis-server"):
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from redis_server import RedisServer

        server = RedisServer(tmp / "redis")
        stores["redis"] = lambda: RedisStore(server.url, namespace=f"b{time.perf_counter_ns()}:")
    try:
        lat_rows = latency_part([int(s) for s in args.sizes.split(",")], stores, args.requests)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    body = (md_table(["build", "skewless (exact)", "polars rolling_*_by", "ratio", "polars sum ≠ correctly rounded"],
                     batch_rows) + "\n\nPer request, 10 windowed features of one entity (one store round trip):\n\n"
            + md_table(["history", "events per entity", "store", "p50 µs", "p99 µs", "events held", "state bytes"],
                       lat_rows))
    if not args.no_append:
        append_results("windows: exact batch build vs polars rolling_*_by, per-request latency, state size "
                       "(`python -m benchmarks.windows`)", info, "python -m benchmarks.windows", body)


if __name__ == "__main__":
    main()
