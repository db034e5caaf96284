"""Feast's side of ``benchmarks/state.py``, run by the Feast venv's Python (Feast's dependencies conflict
with skewless'; see benchmarks/README.md). Not imported by skewless.

    python benchmarks/feast_peer.py --work DIR --planes planes.parquet --weather weather.parquet \
        --requests requests.parquet --spine spine.parquet --out feast.json

Builds a Feast repository in DIR (local provider, SQLite online store, file offline store): entities
``tailnum`` and ``origin``, feature views ``planes`` (year, seats, engines, type; stamped at one time, no
TTL) and ``weather`` (temp, wind_speed, wind_gust, visib, precip; ``time_hour``, TTL 3 h = skewless'
tolerance). Materializes the online store, then measures ``get_online_features`` for one request at a time
(both entities, all nine features) and ``get_historical_features`` on the spine, and writes the timings and
the historical result (for the agreement check) as JSON / parquet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

PLANES = ["year", "seats", "engines", "type"]
WEATHER = ["temp", "wind_speed", "wind_gust", "visib", "precip"]


def _log(message: str) -> None:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"feast peer: {message} (peak RSS {rss:.0f} MB)", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    for name in ("work", "planes", "weather", "requests", "spine", "out"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    import feast
    import pandas as pd
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig, ValueType
    from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
    from feast.types import Float64, Int64, String

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(project="skewless_bench", registry=str(work / "registry.db"), provider="local",
                        online_store=SqliteOnlineStoreConfig(path=str(work / "online.db")),
                        offline_store={"type": "file"}, entity_key_serialization_version=3)
    fs = FeatureStore(config=config)
    tailnum = Entity(name="tailnum", join_keys=["tailnum"], value_type=ValueType.STRING)
    origin = Entity(name="origin", join_keys=["origin"], value_type=ValueType.STRING)
    planes = FeatureView(
        name="planes", entities=[tailnum], ttl=dt.timedelta(0),  # 0: no TTL (a static table)
        schema=[Field(name="year", dtype=Int64), Field(name="seats", dtype=Int64), Field(name="engines", dtype=Int64),
                Field(name="type", dtype=String)],
        source=FileSource(path=str(Path(args.planes).resolve()), timestamp_field="stamp"), online=True)
    weather = FeatureView(
        name="weather", entities=[origin], ttl=dt.timedelta(hours=3),
        schema=[Field(name=c, dtype=Float64) for c in WEATHER],
        source=FileSource(path=str(Path(args.weather).resolve()), timestamp_field="time_hour"), online=True)
    fs.apply([tailnum, origin, planes, weather])
    features = [f"planes:{c}" for c in PLANES] + [f"weather:{c}" for c in WEATHER]

    out: dict = {"feast": feast.__version__, "pandas": pd.__version__}
    t0 = time.perf_counter()
    fs.materialize(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2014, 1, 1, tzinfo=dt.timezone.utc))
    out["materialize_s"] = time.perf_counter() - t0
    _log(f"materialized in {out['materialize_s']:.1f}s")

    requests = pd.read_parquet(args.requests)
    rows = requests[["tailnum", "origin"]].to_dict("records")
    for row in rows[:50]:  # warm-up (registry cache, connections)
        fs.get_online_features(features=features, entity_rows=[row]).to_dict()
    lat = []
    for row in rows:
        s = time.perf_counter_ns()
        fs.get_online_features(features=features, entity_rows=[row]).to_dict()
        lat.append(time.perf_counter_ns() - s)
    out["online_ns"] = lat
    _log(f"{len(lat)} online requests")
    sample = fs.get_online_features(features=features, entity_rows=rows[:200]).to_dict()
    out["online_sample"] = {c: sample[c] for c in PLANES + WEATHER}

    spine = pd.read_parquet(args.spine)
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        hist = fs.get_historical_features(entity_df=spine, features=features).to_df()
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
        _log(f"historical features of {len(spine):,} rows in {took:.1f}s")
    out["historical_s"] = best
    out["historical_rows"] = int(len(hist))
    hist.to_parquet(work / "historical.parquet")
    Path(args.out).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
