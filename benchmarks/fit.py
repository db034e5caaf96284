"""Fitting time: ``features.fit`` of the demo's fitted feature set vs the same statistics by hand vs scikit-learn.

    .venv/bin/python -m benchmarks.fit              # the training split, then 10^7 rows: ~5-8 minutes
    .venv/bin/python -m benchmarks.fit --quick      # the training split and 10^6 rows, fewer repetitions
    .venv/bin/python -m benchmarks.fit --no-append

Data: ``skewless.definitions.flights_fitted`` (20 fitted features: 3 standardize, robust_scale,
min_max_scale, median impute, winsorize, 2 quantile_bucketize, uniform_bucketize, 3 one_hot,
ordinal_encode, 2 frequency_encode, 3 target_encode) fitted as the demo fits it: the
January-September flights (``split``), label ``arr_delay > 15``; then on 10^7 rows resampled with
replacement from all flights (as ``benchmarks/batch.py`` generates its frames), every row in
the training set.

Peers, each fitting every statistic the set needs, on an in-memory frame:

* ``skewless``    - ``fit(flights_fitted, frame, label=...)`` (derived operands, one ``collect_all``,
  the state, and the lowering into plain IR);
* ``hand polars`` - the same statistics written by hand as one polars ``select`` plus one
  ``group_by`` per target encoding, in one ``collect_all``, on the operands written by hand
  (``benchmarks/handwritten.py``), with the little Python needed to turn the results into
  vocabularies; its numbers are asserted equal to skewless' state (floats within 1e-9), on the first
  repetition's results;
* ``scikit-learn`` (when installed) - ``StandardScaler``, ``RobustScaler``, ``MinMaxScaler``,
  ``SimpleImputer(median)``, ``KBinsDiscretizer`` (quantile, linear, no subsampling; uniform),
  ``OneHotEncoder(max_categories=...)``, ``OrdinalEncoder(min_frequency=100)``,
  ``TargetEncoder(smooth=...)`` fitted on a pandas frame of the *already computed* operand
  columns (computing them and building the pandas frame are not timed, so this peer is
  favoured), plus ``numpy.nanquantile`` for winsorize and pandas ``value_counts`` for the
  frequency encodings, which scikit-learn has no transformer for.

Reported: median seconds over repetitions (peers in rotating order in each repetition), rows/s, and
ratios per repetition (hand / skewless, scikit-learn / skewless), then medianed.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from typing import Any, Callable

from . import _common as C

# Operands of the fitted features, named as in the hand-written flights features.
_STD = {"distance_log_std": "distance_log", "speed_std": "speed_mph", "local_hour_std": "local_hour"}


def hand_operands() -> dict[str, Any]:
    """Polars expressions of every operand the fitted set reads (written by hand)."""
    import polars as pl

    from .handwritten import hand_flights_exprs

    h = {e.meta.output_name(): e for e in hand_flights_exprs()}
    c = pl.col
    return {
        "distance_log": h["distance_log"], "speed_mph": h["speed_mph"], "local_hour": h["local_hour"],
        "sched_dep_hour": h["sched_dep_hour"], "sched_dep_minute_of_day": h["sched_dep_minute_of_day"],
        "dep_delay_band": h["dep_delay_band"], "route": h["route"],
        "distance": c("distance"), "air_time": c("air_time"), "dep_delay": c("dep_delay"), "carrier": c("carrier"),
        "origin": c("origin"), "dest": c("dest"), "tailnum": c("tailnum"),
    }


def _finite(e):
    import polars as pl

    x = e.cast(pl.Float64)
    return x.filter(x.is_finite())


def hand_fit(lf) -> dict[str, Any]:
    """The statistics of the fitted flights set, by hand: one select + 3 group_bys, one collect_all."""
    import polars as pl

    ops = hand_operands()
    y = pl.col("__y")
    aggs = [pl.len().alias("rows")]
    for name in _STD.values():
        aggs += [_finite(ops[name]).mean().alias(f"{name}:mean"), _finite(ops[name]).std(ddof=0).alias(f"{name}:std")]
    quantiles = {"distance": [0.5, 0.25, 0.75] + [i / 10 for i in range(11)], "dep_delay": [0.5, 0.01, 0.99],
                 "sched_dep_hour": [i / 8 for i in range(9)]}
    for name, qs in quantiles.items():
        aggs += [_finite(ops[name]).quantile(q, interpolation="linear").alias(f"{name}:q{q!r}")
                 for q in dict.fromkeys(qs)]
    for name in ("air_time", "sched_dep_minute_of_day"):
        aggs += [_finite(ops[name]).min().alias(f"{name}:min"), _finite(ops[name]).max().alias(f"{name}:max")]
    for name in ("carrier", "origin", "dep_delay_band", "dest", "tailnum"):
        aggs.append(ops[name].drop_nulls().alias("v").value_counts(name="n").implode().alias(f"{name}:counts"))
        aggs.append(ops[name].null_count().alias(f"{name}:nulls"))
    labelled = lf.filter(y.is_finite())
    te = ["route", "carrier", "tailnum"]
    aggs += [y.is_finite().sum().alias("labelled"), y.filter(y.is_finite()).sum().alias("label_sum")]
    queries = [labelled.group_by(ops[k].alias("k")).agg(pl.len().alias("n"), y.sum().alias("s")) for k in te]
    frames = pl.collect_all([lf.select(aggs), *queries])
    r = frames[0].row(0, named=True)
    out: dict[str, Any] = dict(r)
    for name in ("carrier", "origin", "dep_delay_band", "dest", "tailnum"):
        counts = {d["v"]: d["n"] for d in r[f"{name}:counts"]}
        out[f"{name}:counts"] = counts
    top = sorted(out["carrier:counts"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    out["carrier:vocabulary"] = sorted(k for k, _ in top)
    out["dest:vocabulary"] = sorted(k for k, n in out["dest:counts"].items() if n >= 100)
    for name in ("distance", "sched_dep_hour"):
        qs = [r[f"{name}:q{q!r}"] for q in ([i / 10 for i in range(11)] if name == "distance" else [i / 8 for i in range(9)])]
        kept = [qs[0]]
        for e in qs[1:]:
            if e > kept[-1]:
                kept.append(e)
        out[f"{name}:edges"] = kept[1:-1]
    for k, f in zip(te, frames[1:]):
        out[f"{k}:te"] = {row[0]: (row[1], row[2]) for row in f.iter_rows()}
    return out


def check_hand(fitted, hand: dict[str, Any]) -> int:
    """Compare the hand-written statistics with skewless' state; the number of values compared."""
    by_expr: dict[str, dict[str, Any]] = {}
    for st in fitted.state.values():
        by_expr.setdefault(st["op"], []).append(st)  # type: ignore[attr-defined]
    checks: list[tuple[str, Any, Any]] = []

    def state(op: str, needle: str) -> dict[str, Any]:
        hits = [s for s in by_expr[op] if needle in s["expr"]]
        assert len(hits) == 1, (op, needle, [s["expr"] for s in by_expr[op]])
        return hits[0]

    for name, needle in (("distance_log", "log1p"), ("speed_mph", "round"), ("local_hour", "dt.hour")):
        s = state("Standardize", needle)
        checks += [(f"{name} mean", s["mean"], hand[f"{name}:mean"]), (f"{name} std", s["std"], hand[f"{name}:std"])]
    s = state("RobustScale", "distance")
    checks += [("distance median", s["median"], hand["distance:q0.5"]),
               ("distance q25", s["q_low_value"], hand["distance:q0.25"]),
               ("distance q75", s["q_high_value"], hand["distance:q0.75"])]
    s = state("MinMaxScale", "air_time")
    checks += [("air_time min", s["min"], hand["air_time:min"]), ("air_time max", s["max"], hand["air_time:max"])]
    checks.append(("dep_delay median", state("Impute", "dep_delay")["value"], hand["dep_delay:q0.5"]))
    s = state("Winsorize", "dep_delay")
    checks += [("dep_delay q01", s["lower_value"], hand["dep_delay:q0.01"]),
               ("dep_delay q99", s["upper_value"], hand["dep_delay:q0.99"])]
    checks.append(("sched_dep_hour edges", state("QuantileBucketize", "sched_dep_time")["edges"],
                   hand["sched_dep_hour:edges"]))
    checks.append(("distance edges", state("QuantileBucketize", "col('distance')")["edges"], hand["distance:edges"]))
    s = state("UniformBucketize", "sched_dep_time")
    checks += [("minute min", s["min"], hand["sched_dep_minute_of_day:min"]),
               ("minute max", s["max"], hand["sched_dep_minute_of_day:max"])]
    checks.append(("carrier vocabulary", state("OneHot", "carrier")["vocabulary"], hand["carrier:vocabulary"]))
    checks.append(("origin vocabulary", state("OneHot", "origin")["vocabulary"], sorted(hand["origin:counts"])))
    checks.append(("band vocabulary", state("OneHot", "when")["vocabulary"], sorted(hand["dep_delay_band:counts"])))
    checks.append(("dest vocabulary", state("OrdinalEncode", "dest")["vocabulary"], hand["dest:vocabulary"]))
    for name in ("dest", "tailnum"):
        s = state("FrequencyEncode", f"col('{name}')")
        checks.append((f"{name} counts", dict(zip(s["keys"], s["counts"])), hand[f"{name}:counts"]))
    for name, needle in (("route", "concat_str"), ("carrier", "col('carrier'), smoothing"), ("tailnum", "tailnum")):
        s = state("TargetEncode", needle)
        got = {k: (n, sm) for k, n, sm in zip(s["keys"], s["counts"], s["sums"])}
        if s["null_count"]:
            got[None] = (s["null_count"], s["null_sum"])
        checks.append((f"{name} target sums", got, hand[f"{name}:te"]))

    def close(a: Any, b: Any) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
        return a == b

    bad = [(what, a, b) for what, a, b in checks if not close(a, b)]
    if bad:
        what, a, b = bad[0]
        raise SystemExit(f"hand-written statistics differ from skewless' state: {what}: {str(a)[:300]} vs {str(b)[:300]}"
                         f" ({len(bad)} of {len(checks)} differ)")
    return len(checks)


# --------------------------------------------------------------------------- scikit-learn


def sklearn_input(df):
    """A pandas frame of the operand columns plus the label (built outside the timing)."""
    import polars as pl

    ops = hand_operands()
    return df.select([e.alias(k) for k, e in ops.items()] + [pl.col("__y")]).to_pandas()


def sklearn_fit(pdf) -> dict[str, Any]:
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (KBinsDiscretizer, MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler,
                                       StandardScaler, TargetEncoder)

    out: dict[str, Any] = {}
    num = pdf[list(_STD.values())].astype("float64")
    out["std"] = StandardScaler().fit(num.to_numpy())
    out["robust"] = RobustScaler(quantile_range=(25.0, 75.0)).fit(pdf[["distance"]].astype("float64").to_numpy())
    out["minmax"] = MinMaxScaler().fit(pdf[["air_time"]].astype("float64").to_numpy())
    delay = pdf[["dep_delay"]].astype("float64").to_numpy()
    out["impute"] = SimpleImputer(strategy="median").fit(delay)
    out["winsor"] = np.nanquantile(delay[:, 0], [0.01, 0.99])
    for name, bins, strategy in (("sched_dep_hour", 8, "quantile"), ("distance", 10, "quantile"),
                                 ("sched_dep_minute_of_day", 24, "uniform")):
        kw = {"quantile_method": "linear"} if strategy == "quantile" else {}
        out[f"kbins {name}"] = KBinsDiscretizer(n_bins=bins, encode="ordinal", strategy=strategy, subsample=None,
                                                **kw).fit(pdf[[name]].astype("float64").to_numpy())
    out["carrier_oh"] = OneHotEncoder(max_categories=10, handle_unknown="infrequent_if_exist").fit(pdf[["carrier"]])
    out["origin_oh"] = OneHotEncoder(handle_unknown="ignore").fit(pdf[["origin"]])
    out["band_oh"] = OneHotEncoder(handle_unknown="ignore").fit(pdf[["dep_delay_band"]])
    out["dest_code"] = OrdinalEncoder(min_frequency=100, handle_unknown="use_encoded_value",
                                      unknown_value=-1).fit(pdf[["dest"]])
    out["dest_freq"] = pdf["dest"].value_counts(dropna=False)
    out["tailnum_freq"] = pdf["tailnum"].value_counts(dropna=False)
    labelled = pdf[pdf["__y"].notna()]
    y = labelled["__y"].to_numpy().astype(np.int64)
    for name, smooth in (("route", 20.0), ("carrier", 20.0), ("tailnum", 50.0)):
        out[f"te {name}"] = TargetEncoder(smooth=smooth, target_type="binary").fit(labelled[[name]], y)
    return out


def check_sklearn(fitted, sk: dict[str, Any]) -> None:
    """Spot-check that scikit-learn learned the same numbers (scalers, medians, bucket edges)."""
    st = {s["expr"]: s for s in fitted.state.values()}
    std = [s for e, s in st.items() if s["op"] == "Standardize"]
    want_means = sorted(s["mean"] for s in std)
    got_means = sorted(float(m) for m in sk["std"].mean_)
    robust = next(s for s in st.values() if s["op"] == "RobustScale")
    pairs = list(zip(want_means, got_means)) + [(robust["median"], float(sk["robust"].center_[0]))]
    bad = [(a, b) for a, b in pairs if not math.isclose(a, b, rel_tol=1e-9)]
    if bad:
        raise SystemExit(f"scikit-learn learned different statistics: {bad}")


# --------------------------------------------------------------------------- driver


def frames(quick: bool, big_rows: int):
    import polars as pl

    from skewless.datasets import load_flights
    from skewless.definitions.flights_fitted import split, training_label

    flights = load_flights()
    label = training_label().cast(pl.Float64).alias("__y")
    train, _ = split(flights)
    yield "flights training split (Jan-Sep 2013)", train.with_columns(label)
    yield f"{big_rows:,} resampled rows", flights.sample(big_rows, with_replacement=True, seed=big_rows).with_columns(label)


def bench(name: str, df, reps: int, use_sklearn: bool) -> dict[str, Any]:
    import polars as pl

    from skewless import fit
    from skewless.definitions.flights_fitted import flights_fitted

    print(f"\n== {name}: {df.height:,} rows", flush=True)
    pdf = None
    peers: dict[str, Callable[[], Any]] = {
        "skewless": lambda: fit(flights_fitted, df, label=pl.col("__y")),
        "hand polars": lambda: hand_fit(df.lazy()),
    }
    if use_sklearn:
        t0 = time.perf_counter()
        pdf = sklearn_input(df)
        print(f"   scikit-learn input built in {time.perf_counter() - t0:.1f} s (not timed)", flush=True)
        peers["scikit-learn"] = lambda: sklearn_fit(pdf)
    times: dict[str, list[float]] = {k: [] for k in peers}
    order = list(peers)
    for rep in range(reps):
        first: dict[str, Any] = {}
        for k in order[rep % len(order):] + order[:rep % len(order)]:
            gc.collect()
            t0 = time.perf_counter()
            out = peers[k]()
            times[k].append(time.perf_counter() - t0)
            if rep == 0:
                first[k] = out
        print(f"   rep {rep + 1}: " + ", ".join(f"{k} {times[k][-1]:.2f} s" for k in order), flush=True)
        if rep == 0:  # the peers' results of the first repetition, checked before any figure is reported
            n = check_hand(first["skewless"], first["hand polars"])
            print(f"   hand-written statistics == skewless state ({n} groups of values compared)", flush=True)
            if "scikit-learn" in first:
                check_sklearn(first["skewless"], first["scikit-learn"])
                print("   scikit-learn's scalers agree with skewless' state", flush=True)
        del first
    ratios = {k: [t / s for t, s in zip(times[k], times["skewless"])] for k in peers if k != "skewless"}
    return {"name": name, "rows": df.height, "times": times, "ratios": ratios}


def profile_fit() -> int:
    """cProfile of one ``fit`` on the training split (after a warm-up fit): where its time goes."""
    import cProfile
    import pstats

    import polars as pl

    from skewless import fit
    from skewless.definitions.flights_fitted import flights_fitted

    _, df = next(frames(False, 0))
    fit(flights_fitted, df, label=pl.col("__y"))
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fit(flights_fitted, df, label=pl.col("__y"))
    prof.disable()
    print(f"one fit on {df.height:,} rows: {time.perf_counter() - t0:.2f} s (under cProfile)")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5, help="repetitions on the training split")
    ap.add_argument("--big-reps", type=int, default=2, help="repetitions on the big frame")
    ap.add_argument("--big-rows", type=int, default=10_000_000)
    ap.add_argument("--no-sklearn-big", action="store_true", help="skip scikit-learn on the big frame")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 repetitions, 10^6 rows")
    ap.add_argument("--profile", action="store_true",
                    help="only profile one fit on the training split (cProfile, top functions by cumulative time)")
    ap.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    if args.quick:
        args.reps, args.big_reps, args.big_rows = 2, 1, 1_000_000
    if args.profile:
        return profile_fit()
    try:
        import sklearn

        have_sklearn = True
        sk_version = sklearn.__version__
    except ImportError:
        have_sklearn = False
        sk_version = None
        print("scikit-learn is not installed: that peer is skipped (`.venv/bin/pip install scikit-learn`)")
    info = C.machine_info()
    if sk_version:
        info["scikit-learn"] = sk_version
    C.print_machine(info)
    t_start = time.perf_counter()
    results = []
    for i, (name, df) in enumerate(frames(args.quick, args.big_rows)):
        big = i > 0
        results.append(bench(name, df, args.big_reps if big else args.reps,
                             have_sklearn and not (big and args.no_sklearn_big)))
        del df
        gc.collect()
    elapsed = time.perf_counter() - t_start
    print(f"\ntotal {elapsed:.0f} s; load average at the end {C.load_average()}")

    header = ["rows", "skewless `fit` s", "hand polars s", "scikit-learn s", "skewless rows/s",
              "hand / skewless time", "scikit-learn / skewless time"]
    table = []
    for r in results:
        med = {k: C.median(v) for k, v in r["times"].items()}

        def ratio(k):
            if k not in r["ratios"]:
                return "not measured"
            v = r["ratios"][k]
            return f"**{C.median(v):.2f}×** ({min(v):.2f}–{max(v):.2f})"

        table.append([f"{r['name']}: {r['rows']:,}", C.fmt(med["skewless"]), C.fmt(med["hand polars"]),
                      C.fmt(med["scikit-learn"]) if "scikit-learn" in med else "not measured",
                      f"{r['rows'] / med['skewless']:,.0f}", ratio("hand polars"), ratio("scikit-learn")])
    body = (
        f"`features.fit(flights_fitted, frame, label=arr_delay > 15)` (20 fitted features, 3 of them target "
        f"encodings) on in-memory frames; {args.reps} repetitions on the training split, {args.big_reps} on "
        f"{args.big_rows:,} rows, peers in rotating order; medians; ratios per repetition, then medianed (range in "
        f"brackets; > 1 means the peer is slower). The hand-written polars peer computes the same statistics "
        f"(asserted equal to skewless' state) in one `collect_all`. scikit-learn fits the equivalent transformers "
        f"on a pandas frame of the already computed operand columns (not timed). Total {elapsed:.0f} s; load "
        f"average at the end {C.load_average()}.\n\n" + C.md_table(header, table)
    )
    print("\n" + body)
    if not args.no_append:
        C.append_results("fit", info, C.command_line(), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
