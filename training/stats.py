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

__all__ = ["column_stats", "column_partial", "merge_column_partials", "label_stats", "label_partial",
           "merge_label_partials", "sample_step", "QUANTILES", "bin_index", "drift_sketch"]

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
    column and per float column (exact moments), and one pass over a sample for the quantiles.

    Counts, extremes, mean and std are exact streaming reductions. Quantiles need
    the values in memory, so when ``lf`` has more than ``quantile_rows`` rows
    (``rows``, when known, saves a pass) they are computed on every k-th row
    (``quantiles_from`` then says how many rows were used); the memory of the
    statistics stays bounded whatever the size of the split. ``sketch`` adds the ``drift``
    reference (module docstring) computed on the same sample.

    The same as :func:`merge_column_partials` of one :func:`column_partial` of ``lf``: the statistics of
    rows cut into parts (a build on Ray) are the merge of the parts' partials, bit for bit.
    """
    import polars as pl

    schema = lf.collect_schema()
    columns = list(schema) if columns is None else columns
    if rows is None:
        rows = lf.select(pl.len()).collect(engine="streaming").item()
    step = sample_step(rows, quantile_rows)
    part = column_partial(lf, columns, top_k=top_k, step=step, sketch=sketch)
    return merge_column_partials([part], {c: schema[c] for c in columns}, top_k=top_k, rows=rows, step=step,
                                 sketch=sketch)


def sample_step(rows: int, quantile_rows: int) -> int:
    """Quantiles are computed on every ``step``-th row: at most about ``quantile_rows`` rows."""
    return max(1, -(-rows // quantile_rows)) if quantile_rows else 1


def _sampled(kind: str, sketch: bool) -> bool:
    return kind in ("int", "float") or (sketch and kind in ("bool", "string"))


def column_partial(lf: "pl.LazyFrame", columns: list[str], *, top_k: int, step: int, offset: int = 0,
                   sketch: bool = False) -> dict[str, Any]:
    """The mergeable pieces of :func:`column_stats` over ``lf``, rows ``offset ..`` of the whole: integer counts,
    order-key extremes and exact moment pieces (one row), the value counts of text and boolean columns, and
    the quantile sample — the rows whose position in the whole is a multiple of ``step``."""
    import polars as pl

    schema = lf.collect_schema()
    aggs: list[pl.Expr] = []
    moments: dict[str, pl.LazyFrame] = {}
    groups: dict[str, pl.LazyFrame] = {}
    for c in columns:
        kind = _kind(schema[c])
        x = pl.col(c)
        aggs += [x.count().cast(pl.Int64).alias(f"{c}{_SEP}count"), x.null_count().cast(pl.Int64).alias(f"{c}{_SEP}nulls")]
        if kind in ("int", "float"):
            v = x.cast(pl.Float64)
            if kind == "float":
                aggs.append(x.is_nan().sum().cast(pl.Int64).alias(f"{c}{_SEP}nans"))
                v = pl.when(v.is_not_nan()).then(v)  # NaN -> null; a filter inside the aggregations cost memory
            # exact, order-independent (skewless.exact): the same bits whatever the files, threads or partitions
            # (integers cast to Float64 have no -0.0: their plain min / max are order-independent)
            aggs.append((order_key(v).min() if kind == "float" else v.min()).alias(f"{c}{_SEP}min"))
            aggs.append((order_key(v).max() if kind == "float" else v.max()).alias(f"{c}{_SEP}max"))
            aggs.append((v == math.inf).sum().cast(pl.Int64).alias(f"{c}{_SEP}pinf"))
            aggs.append((v == -math.inf).sum().cast(pl.Int64).alias(f"{c}{_SEP}ninf"))
            if kind == "int":  # exact integer sums in the shared select
                aggs.extend(int_moments_exprs(x, f"{c}{_SEP}m:"))
            else:  # exact float moments: a group_by of their own (skewless.exact)
                moments[c] = moments_query(lf.select(v.filter(v.is_finite()).alias("x")), pl.col("x"))
        elif kind == "bool":
            aggs.append(x.cast(pl.Int64).sum().alias(f"{c}{_SEP}trues"))
        elif kind == "temporal":
            aggs += [x.min().alias(f"{c}{_SEP}min"), x.max().alias(f"{c}{_SEP}max")]
        if kind in ("string", "bool") and (top_k > 0 or kind == "string"):
            # n_unique() is not a streaming reduction (it would make the whole select fall back to the
            # in-memory engine): count the groups of a streaming group-by instead
            groups[c] = lf.select(x.alias("value")).drop_nulls().group_by("value").agg(pl.len().cast(pl.Int64).alias("n"))
    sample = [c for c in columns if _sampled(_kind(schema[c]), sketch)]
    # Every step-th row of the whole, as gather_every(step) would pick them; a row index and a filter stream,
    # while gather_every held the whole split (stats of a 32M-row split: 1.72 GiB).
    sampled = lf.select(sample) if step == 1 else (
        lf.select(sample).with_row_index("__skewless_row")
        .filter((pl.col("__skewless_row").cast(pl.Int64) + offset) % step == 0).drop("__skewless_row"))
    # One query at a time: collect_all would share the scan between the queries, and the streaming engine
    # then buffers rows for the slower consumers (memory growing with the split: 1.5 vs 0.9 GiB at 3e7 rows).
    return {"row": lf.select(aggs).collect(engine="streaming").row(0, named=True) if aggs else {},
            "moments": {c: q.collect(engine="streaming") for c, q in moments.items()},
            "groups": {c: q.collect(engine="streaming") for c, q in groups.items()},
            "sample": sampled.collect(engine="streaming") if sample else None}


def merge_column_partials(parts: list[dict[str, Any]], schema: Mapping[str, Any], *, top_k: int, rows: int, step: int,
                          sketch: bool = False) -> dict[str, dict[str, Any]]:
    """:func:`column_stats` from the :func:`column_partial` of each part of the rows, in order (exact merges)."""
    import polars as pl

    from skewless.exact import Moments, merge_sums

    def total(key: str) -> int:
        return sum(int(p["row"][key] or 0) for p in parts)

    def extreme(key: str, pick: Any) -> Any:
        values = [p["row"][key] for p in parts if p["row"][key] is not None]
        return pick(values) if values else None

    samples = [p["sample"] for p in parts if p["sample"] is not None]
    sample = pl.concat(samples) if samples else None
    sample_rows = -(-rows // step)
    out: dict[str, dict[str, Any]] = {}
    for c, dtype in schema.items():
        kind, key = _kind(dtype), f"{c}{_SEP}"
        entry: dict[str, Any] = {"dtype": str(dtype), "count": total(key + "count"), "nulls": total(key + "nulls")}
        if kind in ("int", "float"):
            if kind == "float":
                entry["nans"] = total(key + "nans")
                entry["min"] = from_order_key(extreme(key + "min", min))
                entry["max"] = from_order_key(extreme(key + "max", max))
                m = read_moments(pl.concat([p["moments"][c] for p in parts]))  # Moments add exactly
            else:
                entry["min"], entry["max"] = extreme(key + "min", min), extreme(key + "max", max)
                m = Moments()
                for p in parts:
                    m = m + read_int_moments(p["row"], key + "m:")
            pinf, ninf = total(key + "pinf"), total(key + "ninf")
            if pinf or ninf:  # mean and std over the non-NaN values: exact moments, ±inf counted apart
                entry["mean"] = math.nan if pinf and ninf else (math.inf if pinf else -math.inf)
                entry["std"] = math.nan if m.count + pinf + ninf > 1 else None
            else:
                entry["mean"], entry["std"] = m.mean(), m.std(1)
            v = pl.col(c).cast(pl.Float64)
            if kind == "float":
                v = pl.when(v.is_not_nan()).then(v)
            entry["quantiles"] = sample.lazy().select(
                v.quantile(q, interpolation="linear").alias(f"q{round(q * 100):02d}") for q in QUANTILES
            ).collect().row(0, named=True)
            if step > 1:
                entry["quantiles_from"] = sample_rows
        elif kind == "bool":
            # the share of true: an exact count divided once (polars' mean of 0.0/1.0 gives the same value)
            entry["mean"] = total(key + "trues") / entry["count"] if entry["count"] else None
        elif kind == "temporal":
            entry["min"], entry["max"] = extreme(key + "min", min), extreme(key + "max", max)
        if sketch and _sampled(kind, True):
            entry["drift"] = drift_sketch(sample[c], dtype)
        if c in parts[0]["groups"]:
            counted = merge_sums([p["groups"][c] for p in parts], ["value"])
            if top_k > 0:
                top = counted.sort(["n", "value"], descending=[True, False]).head(top_k)
                entry["top"] = [[r["value"], r["n"]] for r in top.iter_rows(named=True)]
            if kind == "string":
                entry["distinct"] = counted.height
        out[c] = entry
    return out


def label_stats(lf: "pl.LazyFrame", label: str, task: str) -> dict[str, Any]:
    """Rows and label summary of one split: the positive rate (binary) or mean/std (regression)."""
    return merge_label_partials([label_partial(lf, label, task)], task)


def label_partial(lf: "pl.LazyFrame", label: str, task: str) -> dict[str, Any]:
    """The mergeable pieces of :func:`label_stats` over ``lf``: counts, order-key extremes, exact moments."""
    import polars as pl

    if task == "multiclass":  # rows per class name
        return {"classes": lf.group_by(label).agg(pl.len().cast(pl.Int64).alias("n")).collect(engine="streaming")
                .rename({label: "value"})}
    y = pl.col(label).cast(pl.Float64)
    exprs = [pl.len().cast(pl.Int64).alias("rows")]
    if task == "binary":
        return {"row": lf.select(*exprs, y.sum().cast(pl.Int64).alias("positives")).collect(engine="streaming")
                .row(0, named=True)}
    # the build keeps finite regression labels only: exact moments (skewless.exact) and total-order extremes
    exprs += [order_key(y).min().alias("min"), order_key(y).max().alias("max")]
    return {"row": lf.select(exprs).collect(engine="streaming").row(0, named=True),
            "moments": moments_query(lf.select(y.filter(y.is_finite()).alias("x")), pl.col("x")).collect(engine="streaming")}


def merge_label_partials(parts: list[dict[str, Any]], task: str) -> dict[str, Any]:
    """:func:`label_stats` from the :func:`label_partial` of each part of the rows (exact merges)."""
    import polars as pl

    from skewless.exact import merge_sums

    if task == "multiclass":
        counts = merge_sums([p["classes"] for p in parts], ["value"])
        per_class = dict(sorted(zip(counts["value"].to_list(), counts["n"].to_list())))
        return {"rows": sum(per_class.values()), "classes": per_class}
    rows = sum(int(p["row"]["rows"]) for p in parts)
    if task == "binary":
        positives = sum(int(p["row"]["positives"] or 0) for p in parts)
        # an exact count divided once (polars' mean of 0.0/1.0 gives the same value, in any order)
        return {"rows": rows, "positives": positives, "positive_rate": positives / rows if rows else None}
    lows = [p["row"]["min"] for p in parts if p["row"]["min"] is not None]
    highs = [p["row"]["max"] for p in parts if p["row"]["max"] is not None]
    m = read_moments(pl.concat([p["moments"] for p in parts]))
    return {"rows": rows, "mean": m.mean(), "std": m.std(1), "min": from_order_key(min(lows) if lows else None),
            "max": from_order_key(max(highs) if highs else None)}


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
