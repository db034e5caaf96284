"""Throughput of ``skewless skew`` and ``skewless drift`` on >= 10^6 logged rows, and the per-request cost of
the /metrics drift gauges — each with a peer side by side.

Needs the demo's outputs (``skewless demo --out out/demo``: the bundle and its served-feature log of the
test split, 55,479 rows). The log is repeated to ``--rows`` rows (default 1,100,000) as one frame.

* skew: :func:`skewless.monitoring.skew.skew` (polars pipeline + LightGBM batch + bitwise compare) vs the
  peer "recompute each row with the per-request function" (``row_fn`` per row, measured on a sample,
  extrapolated);
* drift: :func:`skewless.monitoring.drift.drift` with day buckets vs the peer "per feature and per day,
  ``scipy.stats.ks_2samp`` + ``numpy.histogram``" against a training sample (measured on a few features,
  extrapolated to all);
* gauges: ``ServiceMetrics.served`` per row with and without the drift window (the request path's whole
  cost of the gauges), vs the peer "update histogram counts per request" (bisect per feature per row), and
  the cost of one scrape of a full 10,000-row window.

Usage: ``python -m benchmarks.monitoring [--demo out/demo] [--rows 1100000]``
"""

from __future__ import annotations

import argparse
import bisect
import time
from types import SimpleNamespace
from pathlib import Path


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    import numpy as np
    import polars as pl

    from skewless.monitoring.drift import drift, load_references
    from skewless.monitoring.gauges import DriftGauges
    from skewless.monitoring.logdata import load_log
    from skewless.monitoring.skew import skew
    from skewless.serving.metrics import ServiceMetrics
    from skewless.training.bundle import load_bundle

    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", default="out/demo")
    ap.add_argument("--rows", type=int, default=1_100_000)
    args = ap.parse_args()
    demo = Path(args.demo)
    bundle = load_bundle(demo / "bundle")
    base = load_log(demo / "served-log")
    frame = pl.concat([base] * -(-args.rows // base.height)).head(args.rows)
    n = frame.height
    print(f"{n:,} logged rows ({base.height:,} served by the demo, repeated), {len(bundle.transformer.output_schema())} "
          f"features")

    # --- skew
    t = time.perf_counter()
    report = skew(frame, bundle, check_score=False)
    skew_s = time.perf_counter() - t
    assert report.ok
    t = time.perf_counter()
    report = skew(frame, bundle)
    skew_scores_s = time.perf_counter() - t
    assert report.ok and report.score.mismatches == 0
    sample = base.head(2000)
    inputs = sample.select(pl.col("inputs").struct.unnest()).to_dicts()
    fn = bundle.transformer.row_fn
    peer_s = _best(lambda: [fn(r) for r in inputs], 1) / len(inputs) * n
    print(f"skew:   {n / skew_s:>12,.0f} rows/s ({skew_s:.1f}s, every feature recomputed and compared bitwise; "
          f"with the scores too: {n / skew_scores_s:,.0f} rows/s, LightGBM dominates)   "
          f"peer row_fn per row: {n / peer_s:,.0f} rows/s (features only)   ratio {peer_s / skew_s:.1f}x")

    # --- drift
    t = time.perf_counter()
    d = drift(frame, demo / "bundle", bucket="day", time_column="time_hour")
    drift_s = time.perf_counter() - t
    t = time.perf_counter()
    d0 = drift(frame, demo / "bundle")
    drift0_s = time.perf_counter() - t
    from scipy.stats import ks_2samp

    refs = load_references(demo / "bundle")
    train = pl.read_parquet(demo / "build" / "train" / "*.parquet")
    feats = frame.select(pl.col("features").struct.unnest(), pl.col("inputs").struct.field("time_hour"))
    day = feats["time_hour"].dt.truncate("1d")
    numeric = [f for f, r in refs.items() if r.kind == "numeric"][:4]

    def peer():
        days = day.unique().sort()
        for name in numeric:
            ref = train[name].drop_nulls().to_numpy()
            ref = ref[~np.isnan(ref)]
            edges = np.quantile(ref, np.linspace(0, 1, 21))
            for dd in days:
                v = feats.filter(day == dd)[name].drop_nulls().to_numpy()
                ks_2samp(ref, v)
                np.histogram(v, edges)

    peer_s = _best(peer, 1) / len(numeric) * len(refs)
    print(f"drift:  {n / drift_s:>12,.0f} rows/s ({drift_s:.1f}s, {len(d.features)} features, "
          f"{len(d.features[0].buckets)} day buckets; {n / drift0_s:,.0f} rows/s without buckets)   "
          f"peer scipy ks_2samp + np.histogram per feature and day: {n / peer_s:,.0f} rows/s   "
          f"ratio {peer_s / drift_s:.1f}x")
    assert d0.rows == n

    # --- gauges: the request path's cost
    rows = [dict(zip(r, r.values())) for r in
            base.head(20_000).select(pl.col("features").struct.unnest()).to_dicts()]
    schema = bundle.transformer.output_schema()
    routes = ["/v1/predict"]
    served = SimpleNamespace(ready=True, problems=[])
    plain = ServiceMetrics(served, schema, routes, binary=True)
    gauges = DriftGauges(refs, window=10_000)
    with_drift = ServiceMetrics(served, schema, routes, binary=True, drift=gauges)

    def serve(m):
        for r in rows:
            m.served("/v1/predict", (r,), (0.5,))

    a = _best(lambda: serve(plain)) / len(rows)
    b = _best(lambda: serve(with_drift)) / len(rows)
    edges = {name: list(ref.edges) for name, ref in refs.items() if ref.kind == "numeric"}
    counts = {name: [0] * (len(e) + 1) for name, e in edges.items()}

    def incremental():
        for r in rows:
            for name, e in edges.items():
                v = r[name]
                if v is not None and v == v:
                    counts[name][bisect.bisect_right(e, v)] += 1

    c = _best(incremental) / len(rows)
    single = [(r,) for r in rows]

    def append_only():
        observe = gauges.observe_many
        for one in single:
            observe(one)

    def loop_only():
        for one in single:
            pass

    direct = max(0.0, _best(append_only, 5) - _best(loop_only, 5)) / len(rows)
    gauges.min_interval = 0
    scrape = _best(lambda: gauges.compute())
    print(f"gauges: {direct * 1e9:,.0f} ns per served row (the window append; ServiceMetrics.served per row "
          f"{a * 1e6:.2f} us without, {b * 1e6:.2f} us with the gauges, noisy)   peer per-request histogram "
          f"update (bisect, numeric features only): {c * 1e9:,.0f} ns   ratio {c / max(direct, 1e-12):.0f}x;  "
          f"one scrape of a full 10,000-row window: {scrape * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
