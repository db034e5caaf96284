"""Shared helpers for the benchmark scripts: machine info, timing statistics, RESULTS.md entries.

Every figure a script reports is either a median over repetitions or a ratio
against a peer measured in the same run, because the machines these run on are
shared and noisy. Absolute numbers are printed for context only.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def total_memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:  # pragma: no cover
        pass
    return None


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "features"], cwd=HERE,
                               capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + ("+dirty(features)" if dirty.stdout.strip() else "")
    except Exception:  # pragma: no cover
        return "unknown"


def load_average() -> str:
    """1-minute load average against the core count: other work on a shared machine shows here."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover
        return "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("polars", "pandas", "numpy", "xxhash"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            pass
    return out


def machine_info() -> dict[str, Any]:
    mem = total_memory_gib()
    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "memory": f"{mem:.1f} GiB" if mem else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "commit": git_commit(),
        **versions(),
        "load average at start": load_average(),
    }


def machine_line(info: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in info.items())


def print_machine(info: dict[str, Any]) -> None:
    print("machine:", machine_line(info))
    try:
        import polars as pl

        print("polars thread pool:", pl.thread_pool_size())
    except Exception:  # pragma: no cover
        pass


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= digits:
        return f"{x:,.0f}"
    return f"{x:.{max(0, digits - 1 - mag)}f}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def append_results(title: str, info: dict[str, Any], command: str, body: str) -> None:
    """Append a dated entry to benchmarks/RESULTS.md."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\n"
            "Appended by the scripts in `benchmarks/` (newest last). Machines are shared and noisy: "
            "compare the ratios, which are measured against peers in the same run; absolute figures "
            "are context.\n"
        )
    entry = (
        f"\n## {stamp} — {title}\n\n"
        f"`{command}`\n\n"
        f"Machine: {machine_line(info)}\n\n"
        f"{body.rstrip()}\n"
    )
    with RESULTS.open("a") as fh:
        fh.write(entry)
    print(f"\nappended an entry to {RESULTS.relative_to(HERE.parent)}")


def command_line() -> str:
    mod = sys.argv[0]
    name = Path(mod).stem
    return " ".join([".venv/bin/python -m benchmarks." + name, *sys.argv[1:]])


def same_value(a: Any, b: Any) -> bool:
    """Exact equality as the parity harness means it: same Python type, floats bitwise (NaN == NaN)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def same_dict(a: dict, b: dict) -> list[str]:
    """Keys whose values differ (including a different key order)."""
    if list(a) != list(b):
        return [f"keys differ: {list(a)} vs {list(b)}"]
    return [k for k in a if not same_value(a[k], b[k])]
