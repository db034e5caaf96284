"""Windows: exact batch build vs polars' rolling_*_by, per-request latency vs history, state bytes.

Run from the repository root::

    python -m benchmarks.windows                      # 10^7 events, latency at 10 .. 10^5 events per entity
    python -m benchmarks.windows --events 1000000     # a quicker batch part
    python -m benchmarks.windows --events 1000000 --skip-latency --bounded 10000000,50000000 --no-append
    python -m benchmarks.windows --requests-only      # only the per-request part
    python -m benchmarks.windows --ingest-only        # one-event ingest, one-row vs paged state

1. **Batch**: ``--events`` events over ``--entities`` entities and one year, amounts with cents; three windowed
   features (24 h ``len``, ``sum``, ``mean``, ``closed="left"``, per entity) built by
   ``skewless.windows.batch.compute_windows`` (exact) vs two hand-written polars peers in the same run: the
   inexact ``rolling_sum_by``/``rolling_mean_by(...).over(k)`` (the add/subtract float kernel), and the fastest
   exact equivalent I could write (the same kernel over exact Int128 integers, rounded once — see
   :func:`polars_exact`). Best of ``--reps`` runs each; ratios; the share of rows where polars' float sum is not
   the correctly rounded sum; values where the exact peer differs from skewless.
   ``--bounded 10000000,50000000``: the bounded build (:func:`skewless.windows.chunked.write_windows`) from
   parquet files, time and peak RSS of a fresh process.
2. **Per request**: 10 windowed features of one entity (SQLite, the embedded store; Redis when
   ``redis-server`` is on the PATH), p50/p99 of ``OnlineWindows(request)`` with N = 10 … 10^5 events of history:
   *sparse* — one event every 10 minutes, so the 24 h windows hold ≤ 144 events whatever N (the state keeps
   the last ``max_lateness + period``); *dense* — all N events inside the 24 h window (the state must hold them).
   States holding more than ``skewless.windows.pages.PAGED_ABOVE`` events are paged (a head row and pages
   of 256 events): "one-row p50" is the same request with paging off (the format before paging), same run.
   Side by side: the fastest hand-written Python over the same held events in the same store
   (:func:`peer_request`: JSON lists, bisect, ``math.fsum``, float mean/std — not exact), the ratio, and how
   many of its 10 values differ from the exact ones.
3. **State bytes** per entity for each N (skewless' columnar state with prefix sums, head and pages, vs the
   peer's JSON lists), and the bytes one request reads (and its round trips).
"""

from __future__ import annotations

import argparse
import bisect
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
from skewless.state.codec import encode_row, micros
from skewless.state.replay import same_value
from skewless.windows import EventSource, OnlineWindows, Windows, col, pages
from skewless.windows.batch import compute_windows

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
SOURCE = EventSource("bench", time="t", order="id", max_lateness=dt.timedelta(hours=1),
                     columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": Int64(), "x": Float64()})


def roll(expr, period="24h"):
    return expr.rolling(index_column="t", period=period, closed="left")


def bench_events(n: int, entities: int, seed: int = 0) -> pl.DataFrame:
    """``n`` events over ``entities`` entities and one year, amounts with cents, sorted by (entity, time)."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 365 * 86_400_000_000, n)) + int(T0.timestamp() * 1_000_000)
    return pl.DataFrame({"t": t, "id": np.arange(n), "k": rng.integers(0, entities, n),
                         "x": rng.integers(0, 50_000, n) / 100, "one": np.ones(n, np.int64)}).with_columns(
        pl.col("t").cast(pl.Datetime("us", "UTC"))).sort(["k", "t"])


BATCH_WINDOWS = Windows(SOURCE, {"n": roll(col("x").len()).over("k"), "s": roll(col("x").sum()).over("k"),
                                 "m": roll(col("x").mean()).over("k")}, requests_at="events")


WIDE_FEATURES = {
    "n": roll(col("x").len()).over("k"), "s": roll(col("x").sum()).over("k"), "m": roll(col("x").mean()).over("k"),
    "lo": roll(col("x").min()).over("k"), "hi": roll(col("x").max()).over("k"), "sd": roll(col("x").std()).over("k"),
    "v": roll(col("x").var()).over("k"), "n1": roll(col("x").len(), "1h").over("k"),
    "s1": roll(col("x").sum(), "1h").over("k"), "m1": roll(col("x").mean(), "1h").over("k"),
}
WIDE_WINDOWS = Windows(SOURCE, WIDE_FEATURES, requests_at="events")


def polars_inexact_wide(df: pl.DataFrame) -> pl.DataFrame:
    """The 10 features of :data:`WIDE_FEATURES` with polars' rolling_*_by kernels (std/var: polars' own
    sliding formula, not correctly rounded)."""
    r = {"window_size": "24h", "closed": "left"}
    h = {"window_size": "1h", "closed": "left"}
    x, one = pl.col("x"), pl.col("one")
    return df.with_columns(
        one.rolling_sum_by("t", **r).over("k").alias("n"), x.rolling_sum_by("t", **r).over("k").alias("s"),
        x.rolling_mean_by("t", **r).over("k").alias("m"), x.rolling_min_by("t", **r).over("k").alias("lo"),
        x.rolling_max_by("t", **r).over("k").alias("hi"), x.rolling_std_by("t", **r).over("k").alias("sd"),
        x.rolling_var_by("t", **r).over("k").alias("v"), one.rolling_sum_by("t", **h).over("k").alias("n1"),
        x.rolling_sum_by("t", **h).over("k").alias("s1"), x.rolling_mean_by("t", **h).over("k").alias("m1"))


def polars_inexact(df: pl.DataFrame) -> pl.DataFrame:
    """The fast inexact kernel: rolling_*_by over each entity (adds and subtracts floats as it slides)."""
    return df.with_columns(
        pl.col("one").rolling_sum_by("t", window_size="24h", closed="left").over("k").alias("n"),
        pl.col("x").rolling_sum_by("t", window_size="24h", closed="left").over("k").alias("s"),
        pl.col("x").rolling_mean_by("t", window_size="24h", closed="left").over("k").alias("m"))


def polars_exact(df: pl.DataFrame) -> pl.DataFrame:
    """The fastest exact equivalent I could write by hand in polars: the same kernel on exact Int128 integers.

    ``x * 2**59`` is an integer for these amounts (their lowest set bit is >= 2**-59; a general column needs
    its own lowest bit), integer sliding sums are exact whatever their order, and the sum is rounded once by
    the Int128 -> Float64 cast. The mean must round the exact quotient once: the Int128 quotient with >= 56
    bits, its lowest bit OR-ed with "remainder != 0" (round to odd), cast. (Ties at one timestamp still see
    each other in polars' kernel: the benchmark's times are µs-random, so ties are rare; counted below.)
    """
    i128 = pl.Int128
    t = pl.col("__x").rolling_sum_by("t", window_size="24h", closed="left").over("k")
    n = pl.col("one").rolling_sum_by("t", window_size="24h", closed="left").over("k")
    staged = df.with_columns((pl.col("x") * 2.0 ** 59).cast(i128).alias("__x")).with_columns(
        t.alias("__t"), n.alias("n"))
    big = pl.col("__t").abs()
    bits = (big.cast(pl.Float64) + 1.0).log(2).floor().cast(pl.Int64) + 1
    a = pl.max_horizontal(pl.lit(0), 58 + (pl.col("n") + 1).cast(pl.Float64).log(2).ceil().cast(pl.Int64) - bits)
    num = big * pl.lit(2.0).pow(a).cast(i128)
    den = pl.max_horizontal(pl.col("n"), pl.lit(1)).cast(i128)
    q = num // den
    odd = q + ((num % den != pl.lit(0, i128)) & (q % pl.lit(2, i128) == pl.lit(0, i128))).cast(i128)
    mag = odd.cast(pl.Float64) * pl.lit(2.0).pow(-59 - a)
    return staged.with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("__t").cast(pl.Float64) * 2.0 ** -59).alias("s"),
        pl.when(pl.col("n") > 0).then(pl.when(pl.col("__t") < pl.lit(0, i128)).then(-mag).otherwise(mag)).alias("m"),
    ).drop("__x", "__t")


def _timed(fn, reps: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(reps):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


BATCH_HEAD = ["build", "skewless (exact)", "polars rolling_*_by (inexact)", "ratio", "hand-written exact polars",
              "ratio", "polars sum ≠ correctly rounded", "exact peer ≠ skewless"]


def batch_part(n: int, entities: int, reps: int = 3, seed: int = 0, wide: bool = False) -> tuple[list[list], dict]:
    df = bench_events(n, entities, seed)
    head = df.head(1000)
    warm_s, _ = _timed(lambda: (compute_windows(BATCH_WINDOWS, head, head),  # the compiled kernels' load
                                compute_windows(WIDE_WINDOWS, head, head) if wide else None), 1)
    print(f"first calls (numba kernels loaded from the cache, or compiled): {warm_s:.2f} s", flush=True)
    peer_s, peer = _timed(lambda: polars_inexact(df), reps)
    exact_s, exact_peer = _timed(lambda: polars_exact(df), reps)
    ours_s, ours = _timed(lambda: compute_windows(BATCH_WINDOWS, df, df), reps)
    nonempty = ours["n"].to_numpy() > 0
    differ = (peer["s"].to_numpy() != ours["s"].fill_null(0.0).to_numpy()) & nonempty
    mism = sum(int((~exact_peer[c].eq_missing(ours[c])).sum()) for c in ("n", "s", "m"))
    timings = {"ours_s": ours_s, "peer_s": peer_s, "exact_s": exact_s}
    rows = [[f"{n:,} events, {entities:,} entities, 3 features (24 h len/sum/mean)",
             f"{ours_s:.2f} s ({n / ours_s:,.0f} events/s)", f"{peer_s:.2f} s", f"{ours_s / peer_s:.1f}×",
             f"{exact_s:.2f} s", f"{ours_s / exact_s:.2f}×", f"{differ.sum() / max(nonempty.sum(), 1):.1%}",
             f"{mism:,} of {3 * n:,} values"]]
    if wide:
        wpeer_s, wpeer = _timed(lambda: polars_inexact_wide(df), reps)
        wours_s, wours = _timed(lambda: compute_windows(WIDE_WINDOWS, df, df), reps)
        nonempty = wours["n"].to_numpy() > 0
        differ = (wpeer["s"].to_numpy() != wours["s"].fill_null(0.0).to_numpy()) & nonempty
        two = wours["n"].to_numpy() > 1
        sd_differ = (wpeer["sd"].to_numpy() != wours["sd"].fill_null(0.0).to_numpy()) & two
        same = sum(int((~wours[c].eq_missing(ours[c])).sum()) for c in ("n", "s", "m"))
        rows.append([f"{n:,} events, {entities:,} entities, 10 features (24 h len/sum/mean/min/max/std/var, "
                     f"1 h len/sum/mean)", f"{wours_s:.2f} s ({n / wours_s:,.0f} events/s)", f"{wpeer_s:.2f} s",
                     f"{wours_s / wpeer_s:.1f}×", "—", "—",
                     f"{differ.sum() / max(nonempty.sum(), 1):.1%} (std: {sd_differ.sum() / max(two.sum(), 1):.1%})",
                     f"{same:,} of the 3 features' {3 * n:,} values differ from the 3-feature build"])
        timings.update(wide_ours_s=wours_s, wide_peer_s=wpeer_s)
    print(md_table(BATCH_HEAD, rows), flush=True)
    return rows, timings


_BOUNDED = """
import resource, sys, time
import polars as pl
from benchmarks.windows import BATCH_WINDOWS
from skewless.windows.chunked import write_windows
src, out, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
res = write_windows(BATCH_WINDOWS, pl.scan_parquet(src), pl.scan_parquet(src), out, chunk_events=chunk)
took = time.perf_counter() - started
print(took, res.rows, res.partitions, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bounded_part(n: int, entities: int, chunk: int, files: int = 0) -> list[list]:
    """The bounded build (skewless.windows.chunked) from parquet: time and peak RSS in a fresh process."""
    import subprocess
    import sys

    tmp = Path(tempfile.mkdtemp())
    try:
        per = 1_000_000
        for i in range(0, n, per):  # written piece by piece: the generator is bounded too
            m = min(per, n - i)
            rng = np.random.default_rng(i)
            t = rng.integers(0, 365 * 86_400_000_000, m) + int(T0.timestamp() * 1_000_000)
            pl.DataFrame({"t": t, "id": np.arange(i, i + m), "k": rng.integers(0, entities, m),
                          "x": rng.integers(0, 50_000, m) / 100}).with_columns(
                pl.col("t").cast(pl.Datetime("us", "UTC"))).write_parquet(tmp / f"ev{i // per:05d}.parquet")
        out = subprocess.run([sys.executable, "-c", _BOUNDED, str(tmp / "*.parquet"), str(tmp / "out.parquet"),
                              str(chunk)], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent)
        took, rows, parts, rss_kib = out.stdout.split()
        row = [f"{n:,} events, {entities:,} entities (parquet, 3 features)", f"{int(chunk):,}", parts,
               f"{float(took):.1f} s ({n / float(took):,.0f} events/s)", f"{int(rss_kib) / 2**20:.2f} GiB"]
        print(md_table(BOUNDED_HEAD, [row]), flush=True)
        return [row]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


BOUNDED_HEAD = ["bounded build (write_windows)", "chunk_events", "partitions", "time", "peak RSS"]


# -- per request (helper q16's part) ------------------------------------------------------------------------
# skewless (exact) against the fastest hand-written Python over the same held events, in the same store.

LATENCY_FEATURES = {
    "n_1h": roll(col("x").len(), "1h").over("k"), "n_24h": roll(col("x").len()).over("k"),
    "sum_24h": roll(col("x").sum()).over("k"), "mean_24h": roll(col("x").mean()).over("k"),
    "min_24h": roll(col("x").min()).over("k"), "max_24h": roll(col("x").max()).over("k"),
    "std_24h": roll(col("x").std()).over("k"), "last_24h": roll(col("x").last()).over("k"),
    "mean_1h": roll(col("x").mean(), "1h").over("k"), "total": col("x").cum_sum().over("k", order_by="t", closed="left"),
}
_HOUR_US = 3_600_000_000


def peer_state(events: list[dict], keep_us: int) -> tuple[int, dict]:
    """The hand-written peer's state of one entity: the times and values of the events of the last
    ``keep_us`` as two JSON lists and a float running sum of the older ones (float sums: not exact)."""
    held = sorted((micros(e["t"]), e["x"]) for e in events)
    newest = held[-1][0]
    kept = [(t, x) for t, x in held if t >= newest - keep_us]
    old = [x for t, x in held if t < newest - keep_us]
    return newest, {"w": {"t": [t for t, _ in kept], "x": [x for _, x in kept], "total": math.fsum(old)}}


def peer_request(store, table: str, key: tuple, t: int) -> dict:
    """LATENCY_FEATURES by hand: one get_many, bisect on the sorted times, math.fsum, float mean and a
    two-pass float std (what one writes for speed; the means and std are not correctly rounded)."""
    (row,) = store.get_many([(table, key)])
    s = row.values["w"]
    times, xs = s["t"], s["x"]
    hi = bisect.bisect_left(times, t)
    day, hour = xs[bisect.bisect_left(times, t - 24 * _HOUR_US):hi], xs[bisect.bisect_left(times, t - _HOUR_US):hi]
    n, n1 = len(day), len(hour)
    total = math.fsum(day)
    mean = total / n if n else None
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in day) / (n - 1)) if n > 1 else None
    return {"n_1h": n1, "n_24h": n, "sum_24h": total if n else None, "mean_24h": mean,
            "min_24h": min(day) if n else None, "max_24h": max(day) if n else None, "std_24h": std,
            "last_24h": day[-1] if n else None, "mean_1h": math.fsum(hour) / n1 if n1 else None,
            "total": s["total"] + math.fsum(xs[:hi])}


def _p50_p99(fn, requests: int) -> tuple[float, float]:
    fn()
    took = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        fn()
        took.append((time.perf_counter_ns() - started) / 1000)
    return percentile(took, 50), percentile(took, 99)


LATENCY_HEADER = ["events in window", "events per entity", "store", "one-row p50 µs", "skewless p50 µs", "p99 µs",
                  "hand-written p50 µs", "ratio", "events held", "state bytes", "bytes read (round trips)",
                  "hand-written bytes", "hand-written ≠ exact"]


def _state_bytes(online, store, table: str, key: tuple, request: dict) -> tuple[int, int, int]:
    """Bytes of the entity's stored state (head and pages), and the bytes and round trips one request reads."""
    (row,) = store.get_many([(table, key)])
    stored = len(encode_row(row.values))
    if pages.is_paged(row.values):
        head = pages.Head(row.values, online._plans[0].kinds)
        stored += sum(len(encode_row(r.values)) for r in
                      store.get_many([(table, pages.page_key(key, p)) for p in head.dir.numbers]))
    real = store.get_many
    read = [0, 0]

    def counting(lookups):
        out = real(lookups)
        read[0] += sum(len(encode_row(r.values)) for r in out if r is not None)
        read[1] += 1
        return out

    store.get_many = counting
    try:
        online(request)
    finally:
        store.get_many = real
    return stored, read[0], read[1]


def latency_part(sizes: list[int], stores: dict, requests: int = 300) -> list[list]:
    """p50/p99 of OnlineWindows(request) (10 features) vs :func:`peer_request` on the same held events.

    *sparse*: one event every 10 minutes (the 24 h window holds ≤ 144 whatever the history); *dense*: every
    event of the history inside the 24 h window (the state must hold them all).
    """
    wins = Windows(SOURCE, LATENCY_FEATURES, requests_at="times")
    table = wins.entities[0].table
    keep = SOURCE.lateness_us + wins.entities[0].bound_us
    rows = []
    for scenario, step in (("sparse (≤ 144)", dt.timedelta(minutes=10)), ("dense (all)", None)):
        for n in sizes:
            span = dt.timedelta(hours=23)
            events = [{"t": T0 + (i * step if step else span * i / n), "id": i, "k": 1, "x": (i % 977) / 100}
                      for i in range(n)]
            end = events[-1]["t"] + dt.timedelta(minutes=1)
            request = {"t": end, "k": 1, "id": None, "x": None}
            for name, make in stores.items():
                store = make()
                # the one-row state (as before paging: never paged) in the same run, then the default
                one_row = OnlineWindows(wins, store, page_size=pages.PAGE, paged_above=10**9)
                one_row.materialize(events)
                before = _p50_p99(lambda: one_row(request), requests)
                online = OnlineWindows(wins, store)
                online.materialize(events)
                ours = _p50_p99(lambda: online(request), requests)
                newest, peer_row = peer_state(events, keep)
                store.write("peer", [((1,), newest, peer_row)])
                theirs = _p50_p99(lambda: peer_request(store, "peer", (1,), micros(end)), requests)
                exact_values = online(request)
                differ = sum(not same_value(v, exact_values[k])
                             for k, v in peer_request(store, "peer", (1,), micros(end)).items())
                (row,) = store.get_many([(table, (1,))])
                (prow,) = store.get_many([("peer", (1,))])
                stored, read, trips = _state_bytes(online, store, table, (1,), request)
                rows.append([scenario, f"{n:,}", name, f"{before[0]:,.0f}", f"{ours[0]:,.0f}", f"{ours[1]:,.0f}",
                             f"{theirs[0]:,.0f}",
                             f"{ours[0] / theirs[0]:.2f}×", f"{row.values['w']['n']:,}", f"{stored:,}",
                             f"{read:,} ({trips})", f"{len(encode_row(prow.values)):,}", f"{differ} of 10"])
                print(rows[-1], flush=True)
                store.close()
    print(md_table(LATENCY_HEADER, rows))
    return rows


INGEST_HEADER = ["events held", "store", "one-row ingest p50 ms", "paged ingest p50 ms", "ratio"]


def ingest_part(sizes: list[int], stores: dict, ingests: int = 60) -> list[list]:
    """p50 of a one-event in-order ingest (``OnlineWindows.ingest([event])``) into a dense state of N held
    events: the one-row state (paging off: it rewrites the whole row) vs the default (paged above
    ``PAGED_ABOVE``: the head, the last page), same run, same store."""
    wins = Windows(SOURCE, LATENCY_FEATURES, requests_at="times")
    rows = []
    for n in sizes:
        span = dt.timedelta(hours=23)
        events = [{"t": T0 + span * i / n, "id": i, "k": 1, "x": (i % 977) / 100} for i in range(n)]
        for name, make in stores.items():
            took = []
            for above in (10**9, pages.PAGED_ABOVE):
                store = make()
                online = OnlineWindows(wins, store, page_size=pages.PAGE, paged_above=above)
                online.materialize(events)
                times = []
                for k in range(ingests):
                    event = {"t": events[-1]["t"] + dt.timedelta(seconds=k + 1), "id": n + k, "k": 1, "x": 1.25}
                    started = time.perf_counter_ns()
                    online.ingest([event])
                    times.append((time.perf_counter_ns() - started) / 1e6)
                took.append(percentile(times, 50))
                store.close()
            rows.append([f"{n:,}", name, f"{took[0]:,.2f}", f"{took[1]:,.2f}", f"{took[1] / took[0]:.3f}×"])
            print(rows[-1], flush=True)
    print(md_table(INGEST_HEADER, rows))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3, help="batch: best of this many runs of each side")
    parser.add_argument("--bounded", default="", help="comma-separated event counts for the bounded build "
                                                       "(e.g. 10000000,50000000)")
    parser.add_argument("--chunk", type=int, default=2_000_000, help="chunk_events of the bounded build")
    parser.add_argument("--sizes", default="10,100,1000,10000,100000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--wide", action="store_true", help="batch: also 10 features (min/max/std/var, 1 h windows) "
                                                            "vs polars' rolling_*_by equivalents")
    parser.add_argument("--no-append", action="store_true")
    parser.add_argument("--requests-only", action="store_true", help="only the per-request part")
    parser.add_argument("--ingest-only", action="store_true", help="only the one-event ingest part (one-row vs "
                                                                   "paged state)")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    if args.ingest_only:
        _ingest_main(args, info)
        return
    batch_rows = [] if args.requests_only else batch_part(args.events, args.entities, args.reps, wide=args.wide)[0]
    bounded_rows = []
    for n in [] if args.requests_only else [int(v) for v in args.bounded.split(",") if v]:
        bounded_rows += bounded_part(n, args.entities, args.chunk)
    lat_rows = []
    if not args.skip_latency:
        tmp = Path(tempfile.mkdtemp())
        stores = {"sqlite": lambda: SQLiteStore(tmp / f"{time.perf_counter_ns()}.db")}
        server = None
        if shutil.which("redis-server"):
            import sys

            sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
            from redis_server import RedisServer

            server = RedisServer(tmp / "redis")
            stores["redis"] = lambda: RedisStore(server.url, namespace=f"b{time.perf_counter_ns()}:", timeout=30)
        try:
            lat_rows = latency_part([int(s) for s in args.sizes.split(",")], stores, args.requests)
        finally:
            if server is not None:
                server.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    body = md_table(BATCH_HEAD, batch_rows) if batch_rows else ""
    if bounded_rows:
        body += "\n\nBounded build from parquet (entity-partitioned chunks streamed to parquet, a fresh process):\n\n"
        body += md_table(BOUNDED_HEAD, bounded_rows)
    if lat_rows:
        body += (("\n\n" if body else "") + "Per request, 10 windowed features of one entity (one store round trip; "
                 "a paged state two), "
                 "skewless (exact) vs the hand-written Python peer over the same held events in the same store "
                 "(ratio = skewless / peer):\n\n" + md_table(LATENCY_HEADER, lat_rows))
    if not args.no_append:
        if args.requests_only:
            append_results("windows per request: skewless (exact) vs hand-written Python, sparse and dense, state "
                           "size (`python -m benchmarks.windows --requests-only`)", info,
                           "python -m benchmarks.windows --requests-only", body)
        else:
            append_results("windows: exact batch build vs polars rolling_*_by (inexact) and a hand-written exact "
                           "polars peer, bounded build, per-request latency, state size "
                           "(`python -m benchmarks.windows`)", info,
                           "python -m benchmarks.windows " + " ".join(sys_argv()), body)


def _ingest_main(args, info) -> None:
    tmp = Path(tempfile.mkdtemp())
    stores = {"sqlite": lambda: SQLiteStore(tmp / f"{time.perf_counter_ns()}.db", timeout=30)}
    server = None
    if shutil.which("redis-server"):
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from redis_server import RedisServer

        server = RedisServer(tmp / "redis")
        stores["redis"] = lambda: RedisStore(server.url, namespace=f"b{time.perf_counter_ns()}:", timeout=30)
    try:
        rows = ingest_part([int(s) for s in args.sizes.split(",") if int(s) > pages.PAGED_ABOVE], stores)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_append:
        append_results("windows ingest: one in-order event into a dense state, one-row vs paged "
                       "(`python -m benchmarks.windows --ingest-only`)", info,
                       "python -m benchmarks.windows --ingest-only", "One event ingested after every held one "
                       "(10 features' state), p50 of 60; ratio = paged / one-row:\n\n" + md_table(INGEST_HEADER, rows))


def sys_argv() -> list[str]:
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    main()
