"""Column statistics for ``stats.json``: small, human-readable, computed by polars in a few passes.

Per column (see :func:`column_stats`):

* every dtype: ``dtype``, ``count`` (non-null values), ``nulls``;
* Int64 / Float64: ``nans`` (Float64), ``min``, ``max``, ``mean``, ``std`` (ddof 1) and
  ``quantiles`` ``q01 .. q99`` (linear interpolation), all over the non-NaN values
  (±inf count; a float that is not finite is written as the text ``"NaN"``,
  ``"inf"`` or ``"-inf"``). ``mean`` and ``std`` are exact reductions rounded once and ``min`` /
  ``max`` take IEEE's total order (:mod:`skewless.exact`), so they do not depend on the files,
  threads or partitions the rows came through;
* Boolean: ``mean`` (the share of ``true``) and ``top`` values;
* String: ``distinct`` and the ``top`` ``k`` values with their counts (ties by value);
* Date / Datetime / Duration: ``min`` and ``max`` (ISO text).

With ``sketch=True`` (the build asks for it on the training split) each Int64 / Float64 / Boolean /
String column also gets ``drift``, the reference the drift metrics of :mod:`skewless.monitoring`
compare served values with (computed over the non-null, non-NaN values of the quantile sample):

* numeric: ``{"kind": "numeric", "from": rows, "edges": [...], "counts": [...], "ecdf": [[x, F], ...]}``
  — ``edges`` are the distinct 0, 5, ..., 100th percentiles (``inverted_cdf``: values of the data),
  ``counts`` the values per bin by :func:`bin_index` (below the first edge, one bin per interval
  with the last closed, above the last edge: ``len(edges) + 1`` bins), ``ecdf`` the share of values
  ``<= x`` at the distinct 0, 2, ..., 100th percentiles (the points the KS statistic is taken at);
* categorical (Boolean, String, and Int64 with at most ``CATEGORICAL_MAX`` distinct values, e.g.
  ordinal codes): ``{"kind": "categorical", "from": rows, "values": [[value, count], ...], "other":
  count}`` — the ``SKETCH_VALUES`` most frequent values and the count of all the others.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

from skewless.exact import from_order_key, int_moments_exprs, moments_query, order_key, read_int_moments, read_moments

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["column_stats", "QUANTILES", "bin_index", "drift_sketch"]

#: Quantiles written for every numeric column.
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: An Int64 column with at most this many distinct values is sketched as categorical.
CATEGORICAL_MAX = 64
#: Values a categorical sketch lists (the rest are counted as ``other``).
SKETCH_VALUES = 50
_SEP = "\x1f"


def _kind(dtype: Any) -> str:
    import polars as pl

    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64):
        return "int"
    if dtype in (pl.Float32, pl.Float64):
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    if dtype == pl.Date or isinstance(dtype, (pl.Datetime, pl.Duration)):
        return "temporal"
    return "other"


def bin_index(edges: Any, values: Any) -> Any:
    """Histogram bin of each value (numpy): 0 below ``edges[0]``, ``i`` for ``edges[i-1] <= v < edges[i]``
    (the last interval closed: ``edges[-1]`` itself is in bin ``len(edges) - 1``), ``len(edges)`` above."""
    import numpy as np

    edges = np.asarray(edges, dtype=np.float64)
    idx = np.searchsorted(edges, values, side="right")
    if len(edges) > 1:
        idx[values == edges[-1]] = len(edges) - 1
    return idx


def drift_sketch(values: Any, dtype: Any) -> dict[str, Any] | None:
    """The ``drift`` entry of one column from its sample (a polars Series); None for other dtypes."""
    import numpy as np
    import polars as pl

    kind = _kind(dtype)
    if kind not in ("int", "float", "bool", "string"):
        return None
    s = values.drop_nulls()
    if kind == "float":
        s = s.filter(s.is_not_nan())
    n = len(s)
    if kind in ("bool", "string") or (kind == "int" and s.n_unique() <= CATEGORICAL_MAX):
        vc = s.value_counts(name="n").sort(["n", s.name], descending=[True, False])
        top = vc.head(SKETCH_VALUES)
        listed = [[v, int(c)] for v, c in top.iter_rows()]
        return {"kind": "categorical", "from": n, "values": listed, "other": n - sum(c for _, c in listed)}
    if n == 0:
        return {"kind": "numeric", "from": 0, "edges": [], "counts": [0], "ecdf": []}
    x = np.sort(s.cast(pl.Float64).to_numpy())
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 21), method="inverted_cdf"))
    counts = np.bincount(bin_index(edges, x), minlength=len(edges) + 1)
    points = np.unique(np.quantile(x, np.linspace(0, 1, 51), method="inverted_cdf"))
    cdf = np.searchsorted(x, points, side="right") / n
    return {"kind": "numeric", "from": n, "edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
            "ecdf": [[float(p), float(f)] for p, f in zip(points, cdf)]}


def column_stats(lf: "pl.LazyFrame", columns: list[str] | None = None, *, top_k: int = 10, rows: int | None = None,
                 quantile_rows: int = 1_000_000, sketch: bool = False) -> dict[str, dict[str, Any]]:
    """Statistics of ``columns`` (default: all) of ``lf``: one aggregation pass, one group-by per text or boolean
    column, and one pass over a sample for the quantiles.

    Counts, extremes, mean and std are exact streaming reductions. Quantiles need
    the values in memory, so when ``lf`` has more than ``quantile_rows`` rows
    (``rows``, when known, saves a pass) they are computed on every k-th row
    (``quantiles_from`` then says how many rows were used); the memory of the
    statistics stays bounded whatever the size of the split. ``sketch`` adds the ``drift``
    reference (module docstring) computed on the same sample.
    """
    import polars as pl

    schema = lf.collect_schema()
    columns = list(schema) if columns is None else columns
    if rows is None:
        rows = lf.select(pl.len()).collect(engine="streaming").item()
    step = max(1, -(-rows // quantile_rows)) if quantile_rows else 1
    # Every step-th row, as gather_every(step) would pick them; a row index and a filter stream, while
    # gather_every held the whole split (stats of a 32M-row split: 1.72 GiB).
    sampled = lf if step == 1 else (lf.with_row_index("__skewless_row").filter(pl.col("__skewless_row") % step == 0)
                                    .drop("__skewless_row"))
    sample_rows = -(-rows // step)
    aggs: list[pl.Expr] = []
    qaggs: list[pl.Expr] = []
    top_queries: list[tuple[str, pl.LazyFrame]] = []
    moment_queries: list[tuple[str, pl.LazyFrame]] = []
    moment_columns: list[str] = []

    def agg(col: str, stat: str, expr: pl.Expr, *, quantile: bool = False) -> None:
        (qaggs if quantile and step > 1 else aggs).append(expr.alias(f"{col}{_SEP}{stat}"))

    for c in columns:
        kind = _kind(schema[c])
        x = pl.col(c)
        agg(c, "count", x.count().cast(pl.Int64))
        agg(c, "nulls", x.null_count().cast(pl.Int64))
        if kind in ("int", "float"):
            v = x.cast(pl.Float64)
            if kind == "float":
                agg(c, "nans", x.is_nan().sum().cast(pl.Int64))
                v = pl.when(v.is_not_nan()).then(v)  # NaN -> null; a filter inside the aggregations cost memory
            # exact, order-independent (skewless.exact): the same bits whatever the files, threads or partitions
            # (integers cast to Float64 have no -0.0: their plain min / max are order-independent)
            agg(c, "min", order_key(v).min() if kind == "float" else v.min())
            agg(c, "max", order_key(v).max() if kind == "float" else v.max())
            agg(c, "pinf", (v == math.inf).sum().cast(pl.Int64))
            agg(c, "ninf", (v == -math.inf).sum().cast(pl.Int64))
            if kind == "int":  # exact integer sums in the shared select
                aggs.extend(e for e in int_moments_exprs(x, f"{c}{_SEP}m:"))
            else:  # exact float moments: a group_by of their own (skewless.exact)
                finite = v.filter(v.is_finite())
                moment_queries.append((c, lf.select(finite.alias("x"))))
            moment_columns.append(c)
            for q in QUANTILES:
                agg(c, f"q{round(q * 100):02d}", v.quantile(q, interpolation="linear"), quantile=True)
        elif kind == "bool":
            agg(c, "mean", x.cast(pl.Float64).mean())
        elif kind == "temporal":
            agg(c, "min", x.min())
            agg(c, "max", x.max())
        if kind in ("string", "bool"):
            # n_unique() is not a streaming reduction (it would make the whole select fall back to the
            # in-memory engine): count the groups of a streaming group-by instead
            groups = lf.select(x.alias("value")).drop_nulls().group_by("value").agg(pl.len().cast(pl.Int64).alias("n"))
            if top_k > 0:
                top_queries.append((c, groups.sort(["n", "value"], descending=[True, False]).head(top_k)))
            if kind == "string":
                top_queries.append((f"{c}{_SEP}distinct", groups.select(pl.len().cast(pl.Int64).alias("n"))))
    queries = [lf.select(aggs), *(q for _, q in top_queries)]
    if qaggs:
        # The sample (at most quantile_rows rows) is collected first and the quantiles computed on it in
        # memory: the same values, but the streaming engine no longer holds the split's columns for the sorts.
        needed = [c for c in columns if _kind(schema[c]) in ("int", "float")]
        queries.append(sampled.select(needed).collect(engine="streaming").lazy().select(qaggs))
    # One query at a time: collect_all would share the scan between the queries, and the streaming engine
    # then buffers rows for the slower consumers (memory growing with the split: 1.5 vs 0.9 GiB at 3e7 rows).
    frames = [q.collect(engine="streaming") for q in queries]
    row = frames[0].row(0, named=True)
    float_moments = {c: read_moments(moments_query(q, pl.col("x")).collect(engine="streaming"))
                     for c, q in moment_queries}
    for c in moment_columns:  # mean and std over the non-NaN values: exact moments, ±inf counted apart
        if c in float_moments:
            m = float_moments[c]
            for stat in ("min", "max"):
                row[f"{c}{_SEP}{stat}"] = from_order_key(row[f"{c}{_SEP}{stat}"])
        else:
            m = read_int_moments(row, f"{c}{_SEP}m:")
            for k in [k for k in row if k.startswith(f"{c}{_SEP}m:")]:
                del row[k]
        pinf, ninf = row.pop(f"{c}{_SEP}pinf"), row.pop(f"{c}{_SEP}ninf")
        if pinf or ninf:
            row[f"{c}{_SEP}mean"] = math.nan if pinf and ninf else (math.inf if pinf else -math.inf)
            row[f"{c}{_SEP}std"] = math.nan if m.count + pinf + ninf > 1 else None
        else:
            row[f"{c}{_SEP}mean"], row[f"{c}{_SEP}std"] = m.mean(), m.std(1)
    if qaggs:
        row.update(frames[-1].row(0, named=True))
        frames = frames[:-1]
    out: dict[str, dict[str, Any]] = {}
    for c in columns:
        entry: dict[str, Any] = {"dtype": str(schema[c])}
        quantiles: dict[str, Any] = {}
        for key, value in row.items():
            col, _, stat = key.rpartition(_SEP)
            if col != c:
                continue
            if stat.startswith("q") and stat[1:].isdigit():
                quantiles[stat] = value
            else:
                entry[stat] = value
        if quantiles:
            entry["quantiles"] = quantiles
            if step > 1:
                entry["quantiles_from"] = sample_rows
        out[c] = entry
    if sketch:
        kinds = [c for c in columns if _kind(schema[c]) in ("int", "float", "bool", "string")]
        if kinds:
            sample = sampled.select(kinds).collect(engine="streaming")
            for c in kinds:
                out[c]["drift"] = drift_sketch(sample[c], schema[c])
    for (c, _), frame in zip(top_queries, frames[1:]):
        col, _, stat = c.partition(_SEP)
        if stat == "distinct":
            out[col]["distinct"] = frame.item()
        else:
            out[col]["top"] = [[r["value"], r["n"]] for r in frame.iter_rows(named=True)]
    return out


def label_stats(lf: "pl.LazyFrame", label: str, task: str) -> dict[str, Any]:
    """Rows and label summary of one split: the positive rate (binary) or mean/std (regression)."""
    import polars as pl

    if task == "multiclass":  # rows per class name
        counts = lf.group_by(label).agg(pl.len().cast(pl.Int64).alias("n")).collect(engine="streaming")
        per_class = dict(sorted(zip(counts[label].to_list(), counts["n"].to_list())))
        return {"rows": sum(per_class.values()), "classes": per_class}
    y = pl.col(label).cast(pl.Float64)
    exprs = [pl.len().cast(pl.Int64).alias("rows")]
    if task == "binary":
        exprs += [y.sum().cast(pl.Int64).alias("positives")]
        out = lf.select(exprs).collect(engine="streaming").row(0, named=True)
        # an exact count divided once (polars' mean of 0.0/1.0 gives the same value, in any order)
        out["positive_rate"] = out["positives"] / out["rows"] if out["rows"] else None
        return out
    # the build keeps finite regression labels only: exact moments (skewless.exact) and total-order extremes
    exprs += [order_key(y).min().alias("min"), order_key(y).max().alias("max")]
    out = lf.select(exprs).collect(engine="streaming").row(0, named=True)
    m = read_moments(moments_query(lf.select(y.filter(y.is_finite()).alias("x")), pl.col("x")).collect(engine="streaming"))
    return {"rows": out["rows"], "mean": m.mean(), "std": m.std(1), "min": from_order_key(out["min"]),
            "max": from_order_key(out["max"])}


def summarize(stats: Mapping[str, Any]) -> str:
    """A few lines for a terminal: rows per split and the label."""
    parts = []
    for name, s in stats.get("splits", {}).items():
        label = s.get("label", {})
        extra = ""
        if "positive_rate" in label and label["positive_rate"] is not None:
            extra = f", {label['positive_rate']:.1%} positive"
        elif "classes" in label:
            extra = ", classes " + ", ".join(f"{k} {v:,}" for k, v in label["classes"].items())
        elif "mean" in label and isinstance(label["mean"], float):
            extra = f", label mean {label['mean']:.3g}"
        parts.append(f"{name}: {s['rows']:,} rows ({s.get('from')} .. {s.get('to')}){extra}")
    return "\n".join(parts)
