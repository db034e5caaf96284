"""Per-request latency: the generated function vs a hand-written one vs polars on a one-row frame.

    .venv/bin/python -m benchmarks.per_request            # ~1-2 minutes
    .venv/bin/python -m benchmarks.per_request --quick    # smoke run
    .venv/bin/python -m benchmarks.per_request --no-append

Peers, on each feature set (flights: 37 features over 14 inputs; flights fitted:
the demo's ``flights_fitted`` set fitted as the demo fits it (January-September
flights, label ``arr_delay > 15``): scalers, buckets, one-hot, ordinal,
frequency and target encodings, 40 output columns over the same 14 inputs;
wide: 100 generated features over 10 numeric/string inputs):

* ``generated``  - ``fs.row_fn(row)`` (the skewless per-request function);
* ``hand``       - a hand-written Python function computing the same features
  (``benchmarks/handwritten.py`` for flights, and for flights fitted a function
  built from the learned state: ``make_hand_fitted_row``; mechanically generated
  from the same templates for wide: ``benchmarks/synthetic.py``); asserted
  identical on every sample row before timing;
* ``polars eager`` - ``pl.DataFrame([row], schema=...).select(exprs).row(0, named=True)``
  with the compiled expressions built once;
* ``polars lazy``  - ``fs.transform(pl.DataFrame([row], schema=...)).collect().row(0, named=True)``
  (what calling the batch pipeline per request costs, compilation included).

Each call is timed on its own with ``perf_counter_ns`` over a sample of rows;
the Python peers are called back to back on each row (rotating order). Reported: median and p99 µs per call (median
over repetitions) and ratios computed within each repetition, then medianed.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from time import perf_counter_ns
from typing import Any, Callable

from . import _common as C

TARGET_HAND = 1.2  # generated <= 1.2x hand-written
TARGET_POLARS = 200.0  # polars one-row frame >= 200x slower than generated


def time_interleaved(fns: list[Callable[[Any], Any]], rows: list) -> list[list[int]]:
    """Per-call times of each function, the functions called back to back on every row (rotating order).

    Pairing the peers call by call cancels most of the drift a shared machine adds
    between two separate passes.
    """
    pc = perf_counter_ns
    k = len(fns)
    out: list[list[int]] = [[0] * len(rows) for _ in fns]
    for i, r in enumerate(rows):
        for j in range(k):
            idx = (i + j) % k
            f = fns[idx]
            t0 = pc()
            f(r)
            out[idx][i] = pc() - t0
    return out


def timer_overhead_ns(n: int = 20000) -> float:
    pc = perf_counter_ns
    ds = []
    for _ in range(n):
        t0 = pc()
        ds.append(pc() - t0)
    return C.median(ds)


def check_identical(name: str, fs, hand: Callable, rows: list[dict]) -> None:
    fn = fs.row_fn
    for i, r in enumerate(rows):
        a, b = fn(r), hand(r)
        diff = C.same_dict(a, b)
        if diff:
            raise SystemExit(f"[{name}] hand-written function differs from fs.row_fn on sample row {i}: "
                             f"{diff[:5]}\nrow={r}\ngenerated={ {k: a.get(k) for k in diff[:5]} }\n"
                             f"hand={ {k: b.get(k) for k in diff[:5]} }")


def check_polars_one_row(name: str, fs, peers: dict[str, Callable], rows: list[dict]) -> None:
    fn = fs.row_fn
    for r in rows:
        want = fn(r)
        for pname, peer in peers.items():
            got = peer(r)
            diff = C.same_dict(want, got)
            if diff:
                raise SystemExit(f"[{name}] {pname} differs from fs.row_fn: {diff[:5]} on row {r}")


def polars_peers(fs) -> dict[str, Callable]:
    import polars as pl

    from skewless.backends.polars.dtypes import to_polars

    from skewless.backends.polars.compiler import compile_exprs

    schema = {k: to_polars(f.dtype) for k, f in fs.inputs.items()}
    # Lookups as a user would write them for one-row frames: native replace_strict / search_sorted,
    # not the per-batch kernels skewless uses to keep the streaming engine bounded (same values).
    plain = fs.plain  # a fitted set's plain (lowered) feature set
    exprs = list(compile_exprs(plain, per_batch=False).values())

    def eager(row):
        return pl.DataFrame([row], schema=schema).select(exprs).row(0, named=True)

    def lazy(row):
        return plain.transform(pl.DataFrame([row], schema=schema), per_batch=False).collect().row(0, named=True)

    return {"polars eager": eager, "polars lazy": lazy}


def bench_set(name: str, fs, hand: Callable, rows: list[dict], reps: int, n_polars: int,
              polars_reps: int) -> dict[str, Any]:
    print(f"\n== {name}: {len(fs.features)} features over {len(fs.inputs)} inputs; "
          f"{len(rows)} rows x {reps} reps (python peers), {n_polars} rows x {polars_reps} reps (polars peers)")
    check_identical(name, fs, hand, rows)
    print(f"   hand-written == fs.row_fn on all {len(rows)} sample rows")
    fn = fs.row_fn
    pol = polars_peers(fs)
    check_polars_one_row(name, fs, pol, rows[:20])
    print("   polars one-row peers == fs.row_fn on 20 sample rows")

    # Warm up (imports, caches, zone tables, regex compilation, polars plugin load).
    for r in rows[:200]:
        fn(r)
        hand(r)
    for r in rows[:5]:
        for p in pol.values():
            p(r)

    py_peers = {"generated": fn, "hand": hand}
    stats: dict[str, dict[str, list[float]]] = {k: {"med": [], "p99": []} for k in [*py_peers, *pol]}
    ratio_hand: list[float] = []
    ratio_pol: dict[str, list[float]] = {k: [] for k in pol}
    order = list(py_peers)
    for rep in range(max(reps, polars_reps)):
        meds: dict[str, float] = {}
        if rep < reps:
            shuffled = rows[:]
            random.Random(rep).shuffle(shuffled)
            gc.collect()
            for k, ts in zip(order, time_interleaved([py_peers[k] for k in order], shuffled)):
                meds[k] = C.median(ts) / 1000
                stats[k]["med"].append(meds[k])
                stats[k]["p99"].append(C.percentile(ts, 99) / 1000)
            ratio_hand.append(meds["generated"] / meds["hand"])
        if rep < polars_reps:
            sample = rows[rep * n_polars % len(rows):][:n_polars] or rows[:n_polars]
            gc.collect()
            # Polars calls evict the caches the Python functions live in: time them in their own
            # passes, next to a warm pass of the generated function on the same rows.
            gen_med = C.median(time_interleaved([fn], sample)[0]) / 1000
            for k, p in pol.items():
                ts = time_interleaved([p], sample)[0]
                m = C.median(ts) / 1000
                stats[k]["med"].append(m)
                stats[k]["p99"].append(C.percentile(ts, 99) / 1000)
                ratio_pol[k].append(m / gen_med)
    out = {
        "name": name,
        "n_features": len(fs.features),
        "n_inputs": len(fs.inputs),
        "us": {k: (C.median(v["med"]), C.median(v["p99"])) for k, v in stats.items()},
        "gen_vs_hand": C.median(ratio_hand),
        "gen_vs_hand_range": (min(ratio_hand), max(ratio_hand)),
        "polars_vs_gen": {k: C.median(v) for k, v in ratio_pol.items()},
    }
    for k, (m, p) in out["us"].items():
        print(f"   {k:13s} median {C.fmt(m):>8s} µs   p99 {C.fmt(p):>8s} µs")
    lo, hi = out["gen_vs_hand_range"]
    print(f"   generated / hand-written = {out['gen_vs_hand']:.3f}x  (per-rep range {lo:.3f}-{hi:.3f}; "
          f"target <= {TARGET_HAND}x: {'MET' if out['gen_vs_hand'] <= TARGET_HAND else 'MISSED'})")
    for k, r in out["polars_vs_gen"].items():
        print(f"   {k} / generated = {r:,.0f}x  (target >= {TARGET_POLARS:.0f}x: "
              f"{'MET' if r >= TARGET_POLARS else 'MISSED'})")
    return out


def flights_rows(n: int, seed: int = 1) -> list[dict]:
    from skewless.datasets import load_flights

    from .handwritten import FLIGHTS_INPUTS

    df = load_flights().select(FLIGHTS_INPUTS)
    return list(df.sample(n, seed=seed).iter_rows(named=True))


def fit_flights():
    """The demo's fitted set, fitted as the demo fits it (training months, label ``arr_delay > 15``)."""
    from skewless import fit
    from skewless.datasets import load_flights
    from skewless.definitions.flights_fitted import flights_fitted, split, training_label

    train, _ = split(load_flights())
    t0 = time.perf_counter()
    fitted = fit(flights_fitted, train, label=training_label())
    print(f"\nfitted flights_fitted on {train.height:,} training rows in {time.perf_counter() - t0:.1f} s")
    return fitted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3000, help="sample rows per repetition (python peers)")
    ap.add_argument("--reps", type=int, default=15, help="repetitions (python peers)")
    ap.add_argument("--polars-rows", type=int, default=150, help="rows per repetition (polars peers)")
    ap.add_argument("--polars-reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smoke run: 500 rows x 3 reps, 30 polars rows")
    ap.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.reps, args.polars_rows, args.polars_reps = 500, 3, 30, 2

    info = C.machine_info()
    C.print_machine(info)
    overhead = timer_overhead_ns()
    print(f"perf_counter_ns overhead per timed call: {overhead:.0f} ns (included in every figure)")
    t_start = time.perf_counter()

    from skewless.definitions.flights import flights

    from .handwritten import hand_flights_row, make_hand_fitted_row
    from .synthetic import make_wide, wide_rows

    sample = flights_rows(args.rows)
    results = [
        bench_set("flights", flights, hand_flights_row, sample, args.reps, args.polars_rows, args.polars_reps),
    ]
    fitted = fit_flights()
    results.append(bench_set("flights fitted", fitted.lowered, make_hand_fitted_row(fitted), sample, args.reps,
                             args.polars_rows, args.polars_reps))
    wide, hand_wide, _ = make_wide()
    results.append(bench_set("wide (generated)", wide, hand_wide, wide_rows(args.rows), args.reps,
                             args.polars_rows, args.polars_reps))
    elapsed = time.perf_counter() - t_start
    print(f"\ntotal {elapsed:.0f} s")

    header = ["feature set", "generated µs (p50 / p99)", "hand µs (p50 / p99)", "polars eager µs (p50 / p99)",
              "polars lazy µs (p50 / p99)", "generated / hand (target ≤ 1.2×)",
              "polars eager / generated (target ≥ 200×)", "polars lazy / generated"]
    table = []
    for r in results:
        us = r["us"]

        def cell(k):
            return f"{C.fmt(us[k][0])} / {C.fmt(us[k][1])}"

        lo, hi = r["gen_vs_hand_range"]
        table.append([
            f"{r['name']} ({r['n_features']} features)",
            cell("generated"), cell("hand"), cell("polars eager"), cell("polars lazy"),
            f"**{r['gen_vs_hand']:.2f}×** ({lo:.2f}–{hi:.2f}) {'met' if r['gen_vs_hand'] <= TARGET_HAND else 'MISSED'}",
            f"**{r['polars_vs_gen']['polars eager']:,.0f}×** "
            f"{'met' if r['polars_vs_gen']['polars eager'] >= TARGET_POLARS else 'MISSED'}",
            f"{r['polars_vs_gen']['polars lazy']:,.0f}×",
        ])
    body = (
        f"{args.rows} sample rows × {args.reps} repetitions for the Python peers, {args.polars_rows} rows × "
        f"{args.polars_reps} for the polars peers; each call timed alone (perf_counter_ns, overhead "
        f"{overhead:.0f} ns included); medians over repetitions; ratios per repetition, then medianed "
        f"(range in brackets). Total {elapsed:.0f} s; load average at the end {C.load_average()}.\n\n" + C.md_table(header, table)
    )
    if not args.no_append:
        C.append_results("per request", info, C.command_line(), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
