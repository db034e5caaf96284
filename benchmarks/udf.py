"""The udf escape hatch vs native ops: rows/s in batch on 10^6 rows, µs per request.

``python -m benchmarks.udf [--rows N] [--no-append]``

Batch: ``fs.transform(frame).collect()`` of one feature, three ways on the same frame — the native op
(``col("x").abs().log1p()``), ``skewless.udf`` of the same computation in Python (``math.log1p(abs(x))``),
and the polars user's own escape hatch as a peer, ``pl.col("x").map_elements(...)`` (which skips nulls and
converts values itself); then a three-argument udf (``x * w + y * (1 - w)``) vs its native expression.
Per request: the generated function with the udf feature vs with the native one (median µs per call).
Outputs are compared (the udf and the native op must agree bitwise on this data) before anything is timed.
"""

from __future__ import annotations

import argparse
import math
import struct
import time

import numpy as np
import polars as pl

from benchmarks import _udf_functions as fns
from benchmarks._common import append_results, command_line, fmt, machine_info, md_table, median, print_machine

from skewless import FeatureSet, Float64, Input, col, udf


def _frame(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 100, rows)
    frame = pl.DataFrame({"x": x, "y": rng.normal(0, 1, rows), "w": rng.random(rows)})
    return frame.with_columns(pl.when(pl.int_range(rows) % 100 == 7).then(None).otherwise(pl.col("x")).alias("x"))


def _time(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return median(out)


def _bits(series: pl.Series) -> list:
    return [None if v is None else struct.pack("<d", v) for v in series.to_list()]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--calls", type=int, default=20_000)
    p.add_argument("--no-append", action="store_true")
    a = p.parse_args()
    info = machine_info()
    print_machine(info)
    inputs = {k: Input(Float64, nullable=True) for k in ("x", "y", "w")}
    sets = {
        "native": FeatureSet("native", inputs, {"f": col("x").abs().log1p()}),
        "udf": FeatureSet("udf1", inputs, {"f": udf(fns.abs_log1p, "x", return_dtype=Float64)}),
        "native3": FeatureSet("native3", inputs, {"f": col("x") * col("w") + col("y") * (1.0 - col("w"))}),
        "udf3": FeatureSet("udf3", inputs, {"f": udf(fns.weighted, "x", "y", "w", return_dtype=Float64)}),
    }
    frame = _frame(a.rows)
    peer = lambda: frame.lazy().select(  # noqa: E731 - the polars user's map_elements
        pl.col("x").map_elements(lambda v: math.log1p(abs(v)), return_dtype=pl.Float64).alias("f")).collect()
    results = {name: fs.transform(frame).collect()["f"] for name, fs in sets.items()}
    same1 = _bits(results["native"]) == _bits(results["udf"])
    same3 = _bits(results["native3"]) == _bits(results["udf3"])
    same_peer = _bits(peer()["f"]) == _bits(results["udf"])
    print(f"outputs bitwise equal: udf vs native {same1}, 3-arg udf vs native {same3}, map_elements vs udf {same_peer}")
    secs = {name: _time(lambda fs=fs: fs.transform(frame).collect(), a.repeat) for name, fs in sets.items()}
    secs["map_elements"] = _time(peer, a.repeat)
    rps = {k: a.rows / v for k, v in secs.items()}
    batch_rows = [
        ["`col('x').abs().log1p()` (native)", fmt(secs["native"]), fmt(rps["native"] / 1e6), "1×"],
        ["`udf(abs_log1p, 'x')`", fmt(secs["udf"]), fmt(rps["udf"] / 1e6), f"{fmt(secs['udf'] / secs['native'])}× slower"],
        ["polars `map_elements` (peer)", fmt(secs["map_elements"]), fmt(rps["map_elements"] / 1e6),
         f"{fmt(secs['map_elements'] / secs['native'])}× slower"],
        ["`x * w + y * (1 - w)` (native)", fmt(secs["native3"]), fmt(rps["native3"] / 1e6), "1×"],
        ["`udf(weighted, 'x', 'y', 'w')`", fmt(secs["udf3"]), fmt(rps["udf3"] / 1e6),
         f"{fmt(secs['udf3'] / secs['native3'])}× slower"],
    ]
    rows = frame.head(1000).to_dicts()
    per_call = {}
    for name, fs in sets.items():
        fn = fs.row_fn
        for r in rows[:200]:
            fn(r)
        samples = []
        for i in range(0, a.calls, 1000):
            t = time.perf_counter()
            for r in rows:
                fn(r)
            samples.append((time.perf_counter() - t) / len(rows) * 1e6)
        per_call[name] = median(samples)
    request_rows = [[k, fmt(per_call[k]), f"{fmt(per_call[k] / per_call[base])}×"]
                    for k, base in (("native", "native"), ("udf", "native"), ("native3", "native3"), ("udf3", "native3"))]
    body = "\n\n".join([
        f"Batch, {a.rows:,} rows (1% nulls), `fs.transform(frame).collect()`, median of {a.repeat}; outputs bitwise "
        f"equal: udf vs native {same1}, 3-argument udf vs native {same3}, map_elements vs udf {same_peer}.",
        md_table(["feature", "seconds", "million rows/s", "vs native"], batch_rows),
        "Per request, the generated function (`fs.row_fn`), median µs per call over "
        f"{a.calls:,} calls on 1,000 rows:",
        md_table(["feature set", "µs per call", "vs native"], request_rows),
    ])
    print(body)
    if not a.no_append:
        append_results("udf (the escape hatch) vs native ops", info, command_line(), body)


if __name__ == "__main__":
    main()
