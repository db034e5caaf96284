"""``build_dataset`` of a windowed feature set on 10^7 … 5·10^7 events: time and peak RSS of a fresh process.

Run from the repository root::

    python -m benchmarks.windows_build                                    # 10^7 and 5·10^7 events
    python -m benchmarks.windows_build --events 10000000 --peer-python /path/to/old/.venv/bin/python

A synthetic set: ``--events`` events over ``--entities`` entities and one year (amounts with cents), written
as parquet files of 10^6 events each (the generator is bounded too); ``--rows`` training rows (entity, time,
label) at random times of the same year, also parquet. The feature set declares three windows over the events
(24 h ``len``, ``sum``, ``mean`` of the amount, ``closed="left"``, per entity, asked at the row's time) and four
features reading them; ``build_dataset(fs, rows_glob, out, events={"bench": events_glob})`` builds it
(time split 0.7 / 0.85) in a fresh process per size, which prints its wall time and ``ru_maxrss``.

Side by side in the same run, with ``--peer-python``: the same child under another interpreter (a checkout of
an older commit — there the build read every event into memory). ``--peer-max-events`` caps the sizes the peer
runs at (its peak grows with the events: 1.3 GiB at 10^7 here).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks._common import append_results, machine_info, md_table, print_machine

ROOT = Path(__file__).resolve().parent.parent
YEAR_US = 365 * 86_400_000_000
T0_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z

# The child: self-contained (it also runs under an older checkout, which has no benchmarks/windows_build.py).
_CHILD = """
import inspect, os, resource, sys, time
import datetime as dt
import polars as pl
import skewless
from skewless import Datetime, EventSource, FeatureSet, Float64, Input, Int64, Windowed, Windows, col
from skewless.training.build import build_dataset
from skewless.windows import col as ecol

events_glob, rows_glob, out, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
src = EventSource("bench", time="t", order="id", max_lateness=dt.timedelta(hours=1),
                  columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": Int64(), "x": Float64()})
roll = lambda e: e.rolling(index_column="t", period="24h", closed="left")
windows = Windows(src, {"n": roll(ecol("x").len()).over("k"), "s": roll(ecol("x").sum()).over("k"),
                        "m": roll(ecol("x").mean()).over("k")}, requests_at="times")
fs = FeatureSet("bench_windows", {"k": Input(Int64()), "t": Input(Datetime("us", "UTC"))},
                {"n_24h": col("n"), "s_24h": col("s").fill_null(0.0), "m_24h": col("m"),
                 "busy": col("n") >= 20}, windows=[Windowed(windows, at="t")])
kw = {"window_chunk_events": chunk} if "window_chunk_events" in inspect.signature(build_dataset).parameters else {}
started = time.perf_counter()
b = build_dataset(fs, rows_glob, out, label="y", event_time="t", split=(0.7, 0.85), events={"bench": events_glob},
                  **kw)
took = time.perf_counter() - started
print(took, sum(b.rows.values()), b.timings.get("computing the windows (point in time)", 0.0),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "bounded" if kw else "in-memory",
      os.path.dirname(skewless.__file__))
"""


def write_events(directory: Path, n: int, entities: int) -> str:
    """``n`` events as parquet files of 10^6 events (written piece by piece); returns their glob."""
    directory.mkdir(parents=True, exist_ok=True)
    per = 1_000_000
    for i in range(0, n, per):
        m = min(per, n - i)
        rng = np.random.default_rng(i)
        pl.DataFrame({"t": rng.integers(0, YEAR_US, m) + T0_US, "id": np.arange(i, i + m),
                      "k": rng.integers(0, entities, m), "x": rng.integers(0, 50_000, m) / 100}).with_columns(
            pl.col("t").cast(pl.Datetime("us", "UTC"))).write_parquet(directory / f"ev{i // per:05d}.parquet")
    return str(directory / "*.parquet")


def write_rows(path: Path, rows: int, entities: int) -> str:
    """The training rows: entity, time (random in the year), a Boolean label."""
    rng = np.random.default_rng(12345)
    pl.DataFrame({"k": rng.integers(0, entities, rows), "t": rng.integers(0, YEAR_US, rows) + T0_US,
                  "y": rng.random(rows) < 0.3}).with_columns(
        pl.col("t").cast(pl.Datetime("us", "UTC"))).write_parquet(path)
    return str(path)


def run_child(python: str, cwd: Path, events_glob: str, rows_glob: str, out: Path, chunk: int) -> dict:
    proc = subprocess.run([python, "-c", _CHILD, events_glob, rows_glob, str(out), str(chunk)],
                          capture_output=True, text=True, cwd=cwd)
    if proc.returncode:
        raise SystemExit(f"the build failed under {python}:\n{proc.stderr[-3000:]}")
    took, rows, windows_s, rss_kib, where, path = proc.stdout.split()[-6:]
    return {"seconds": float(took), "rows": int(rows), "windows_s": float(windows_s),
            "rss_gib": int(rss_kib) / 2 ** 20, "path": path, "code": where}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", default="10000000,50000000", help="comma-separated event counts")
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="training rows (the spine)")
    parser.add_argument("--chunk", default="2000000", help="window_chunk_events (comma-separated: this checkout "
                                                            "once per value; the peer with the first)")
    parser.add_argument("--peer-python", default="", help="an older checkout's interpreter, run side by side")
    parser.add_argument("--peer-max-events", type=int, default=50_000_000)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    tmp = Path(tempfile.mkdtemp(prefix="skewless-windows-build-"))
    head = ["events", "build", "windows step", "time", "of which windows", "peak RSS (fresh process)"]
    table = []
    try:
        rows_glob = write_rows(tmp / "rows.parquet", args.rows, args.entities)
        for n in [int(v) for v in args.events.split(",") if v]:
            shutil.rmtree(tmp / "events", ignore_errors=True)
            events_glob = write_events(tmp / "events", n, args.entities)
            chunks = [int(c) for c in args.chunk.split(",")]
            sides = [("this checkout", sys.executable, ROOT, c) for c in chunks]
            if args.peer_python and n <= args.peer_max_events:
                sides.append(("peer", args.peer_python, Path(tempfile.gettempdir()), chunks[0]))
            for label, python, cwd, chunk in sides:
                load = _load()
                r = run_child(python, cwd, events_glob, rows_glob, tmp / f"out-{label.replace(' ', '-')}-{n}",
                              chunk)
                path = "in memory" if r["code"] == "in-memory" or n <= chunk else f"bounded (chunk {chunk:,})"
                row = [f"{n:,} ({args.entities:,} entities, {args.rows:,} rows)", label, path,
                       f"{r['seconds']:.1f} s", f"{r['windows_s']:.1f} s", f"{r['rss_gib']:.2f} GiB"]
                print(md_table(head, [row]), f"(load before {load}, after {_load()}; skewless at {r['path']})",
                      flush=True)
                table.append(row)
                shutil.rmtree(tmp / f"out-{label.replace(' ', '-')}-{n}", ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    body = md_table(head, table)
    if not args.no_append:
        append_results("windows in build_dataset: bounded (entity-partitioned, parquet scanned lazily) vs the "
                       "in-memory build, time and peak RSS of a fresh process (`python -m benchmarks.windows_build`)",
                       info, "python -m benchmarks.windows_build " + " ".join(sys.argv[1:]), body)


def _load() -> str:
    import os

    return " ".join(f"{v:.1f}" for v in os.getloadavg())


if __name__ == "__main__":
    time.perf_counter()
    main()
