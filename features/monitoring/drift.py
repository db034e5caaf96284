"""Drift: the distributions of served features vs the training split's statistics, overall and per time bucket.

:func:`drift` reads the served-feature log and compares every feature that has a reference in the
build's ``stats.json`` (the ``drift`` sketch of the training split, :mod:`skewless.training.stats`)
with the measures of :mod:`skewless.monitoring.measures`: PSI, categorical L∞, numeric
Jensen–Shannon distance, KS statistic (no p-values), null and NaN rates, out-of-range share. A
measure over its threshold (conventional defaults, overridable per feature) flags the feature.

Per time bucket (``bucket="hour" | "day" | "week"``) the same measures are computed for each
bucket of ``time_column`` — the request time by default, or an input such as the event time
(``"time_hour"``) when the logged requests replay history — so a change shows when it started.

Speed: one pass of numpy per feature over the whole log (``searchsorted`` against the reference
bins, ``bincount`` by bucket and bin); see ``benchmarks/monitoring.py`` for the rows per second.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .logdata import LogError, load_log, only_bundle, unnest
from .measures import Counts, Reference, alerts, measure, thresholds_for

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["drift", "DriftReport", "FeatureDrift", "load_references", "BUCKETS"]

BUCKETS = {"hour": "1h", "day": "1d", "week": "1w"}


@dataclass
class FeatureDrift:
    """One feature: its measures over the whole log, the flagged ones, and per bucket."""

    name: str
    reference: Reference
    overall: dict[str, float]
    alerts: list[str]
    thresholds: dict[str, float]
    served_bins: list[int]
    buckets: list[tuple[str, dict[str, float], list[str]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        ref = self.reference
        return {"name": self.name, "kind": ref.kind, "measures": self.overall, "alerts": self.alerts,
                "thresholds": self.thresholds,
                "training": {"null_rate": ref.null_rate, "nan_rate": ref.nan_rate, "bins": ref.counts.tolist()},
                "served_bins": self.served_bins, "bin_labels": ref.labels(),
                "buckets": [{"start": b, "measures": m, "alerts": a} for b, m, a in self.buckets]}


@dataclass
class DriftReport:
    """What :func:`drift` found."""

    rows: int
    features: list[FeatureDrift]
    bucket: str | None
    time_column: str
    skipped: list[str]
    other_bundles: dict[str, int]
    seconds: float = 0.0

    @property
    def flagged(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.alerts]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "bucket": self.bucket, "time_column": self.time_column,
                "flagged": [f.name for f in self.flagged], "features": [f.to_dict() for f in self.features],
                "skipped": self.skipped, "other_bundles": self.other_bundles, "seconds": self.seconds}

    def summary(self, top: int = 12) -> str:
        lines = [f"drift: {self.rows:,} served rows vs the training split, {len(self.features)} features"
                 + (f", per {self.bucket} of {self.time_column}" if self.bucket else "")]
        ranked = sorted(self.features, key=lambda f: (-len(f.alerts), -_nz(f.overall.get("psi"))))
        for f in ranked[:top]:
            m = f.overall
            shape = (f"js {m['js']:.3f}  ks {m['ks']:.3f}" if f.reference.kind == "numeric"
                     else f"linf {m['linf']:.3f}")
            flag = f"  DRIFT: {', '.join(f.alerts)}" if f.alerts else ""
            when = ""
            if f.alerts and f.buckets:
                first = next((b for b, _, a in f.buckets if a), None)
                when = f" (first flagged bucket {first})" if first else ""
            lines.append(f"  {f.name:<28} psi {m['psi']:.3f}  {shape}  out-of-range {_pct(m['out_of_range'])}  "
                         f"null {_pct(m['null_rate'])}{flag}{when}")
        if len(ranked) > top:
            lines.append(f"  ... {len(ranked) - top} more features (--json for all)")
        lines.append(f"  {len(self.flagged)} of {len(self.features)} features over a threshold; "
                     f"({self.seconds:.2f}s, {self.rows / max(self.seconds, 1e-9):,.0f} rows/s)")
        return "\n".join(lines)


def _nz(v: float | None) -> float:
    return 0.0 if v is None or v != v else v


def _pct(v: float) -> str:
    return "n/a" if v != v else f"{v:.1%}"


def load_references(stats: Any) -> dict[str, Reference]:
    """The training references of ``stats``: a ``stats.json`` path, a build or bundle directory, or its dict."""
    if isinstance(stats, (str, os.PathLike)):
        path = Path(stats)
        if path.is_dir():
            path = path / "stats.json"
        if not path.is_file():
            raise LogError(f"no stats.json at {str(path)!r}")
        stats = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, entry in stats.get("features", {}).items():
        train = entry.get("train")
        if train and train.get("drift"):
            out[name] = Reference.from_stats(name, train)
    if not out:
        raise LogError("stats.json has no drift references (built by an older version: rebuild)")
    return out


def _codes(ref: Reference, s: "pl.Series") -> Any:
    import polars as pl

    keys = pl.Series(list(ref.values), dtype=s.dtype) if ref.values else pl.Series([], dtype=s.dtype)
    return s.replace_strict(keys, pl.Series(range(len(ref.values)), dtype=pl.Int64), default=len(ref.values),
                            return_dtype=pl.Int64).to_numpy()


def _bucket_counts(ref: Reference, s: "pl.Series", b: Any, nb: int) -> list[Counts]:
    """:class:`Counts` of ``s`` for each of ``nb`` buckets (``b``: the bucket of each row)."""
    import numpy as np
    import polars as pl

    null = s.is_null().to_numpy()
    nan = (s.is_nan().fill_null(False).to_numpy() if s.dtype == pl.Float64 else np.zeros(len(s), dtype=bool))
    valid = ~null & ~nan
    rows = np.bincount(b, minlength=nb)
    nulls = np.bincount(b[null], minlength=nb)
    nans = np.bincount(b[nan], minlength=nb)
    bv = b[valid]
    if ref.kind == "categorical":
        codes = _codes(ref, s.filter(pl.Series(valid)))
        bins = np.bincount(bv * ref.bins + codes, minlength=nb * ref.bins).reshape(nb, ref.bins)
        oor = bins[:, -1] if ref.complete else np.zeros(nb, dtype=np.int64)
        return [Counts(int(rows[i]), int(nulls[i]), int(nans[i]), bins[i], None, int(oor[i])) for i in range(nb)]
    v = s.filter(pl.Series(valid)).cast(pl.Float64).to_numpy()
    e = ref.edges
    if len(e):
        idx = np.searchsorted(e, v, side="right")
        idx[v == e[-1]] = len(e) - 1
    else:
        idx = np.zeros(len(v), dtype=np.int64)
    bins = np.bincount(bv * ref.bins + idx, minlength=nb * ref.bins).reshape(nb, ref.bins)
    k = len(ref.ecdf_x)
    li = np.searchsorted(ref.ecdf_x, v, side="left")  # v <= x_j  <=>  li <= j
    le = np.cumsum(np.bincount(bv * (k + 1) + li, minlength=nb * (k + 1)).reshape(nb, k + 1), axis=1)[:, :k]
    out_mask = np.zeros(len(v), dtype=bool)
    if ref.minimum is not None and ref.maximum is not None:
        out_mask = (v < ref.minimum) | (v > ref.maximum)
    oor = np.bincount(bv[out_mask], minlength=nb)
    return [Counts(int(rows[i]), int(nulls[i]), int(nans[i]), bins[i], le[i], int(oor[i])) for i in range(nb)]


def _total(parts: list[Counts]) -> Counts:
    import numpy as np

    return Counts(sum(c.rows for c in parts), sum(c.nulls for c in parts), sum(c.nans for c in parts),
                  np.sum([c.bins for c in parts], axis=0),
                  None if parts[0].le is None else np.sum([c.le for c in parts], axis=0),
                  sum(c.out_of_range for c in parts))


def drift(log: Any, stats: Any, *, bucket: str | None = None, time_column: str = "time",
          thresholds: Mapping[str, Mapping[str, float]] | None = None, features: list[str] | None = None,
          bundle_id: str | None = None) -> DriftReport:
    """Drift of the served features in ``log`` against the training statistics ``stats``.

    Parameters
    ----------
    log : path or polars frame
        The served-feature log (directory or records).
    stats : path or dict
        ``stats.json`` (or the build / bundle directory holding it).
    bucket : {"hour", "day", "week"} or None
        Also compute every measure per bucket of ``time_column``.
    time_column : str
        ``"time"`` (when the request was served) or the name of a logged input (e.g. the event time).
    thresholds : dict, optional
        ``{"feature" or "*": {"psi": 0.5, ...}}`` over :data:`~skewless.monitoring.measures.DEFAULT_THRESHOLDS`.
    features : list of str, optional
        Only these features (default: every feature with a reference).
    bundle_id : str, optional
        Only rows served by this bundle (others skipped, counted).
    """
    import numpy as np
    import polars as pl

    started = time.perf_counter()
    refs = load_references(stats)
    frame = load_log(log)
    others: dict[str, int] = {}
    if bundle_id is not None:
        frame, others = only_bundle(frame, bundle_id)
    if frame.height == 0:
        raise LogError("the log holds no rows to measure" + (f" for bundle {bundle_id}" if bundle_id else ""))
    if bucket is not None and bucket not in BUCKETS:
        raise LogError(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r}")
    served = unnest(frame, "features")
    names = [n for n in (features or refs) if n in served.columns and n in refs]
    unknown = [n for n in (features or []) if n not in refs]
    if unknown:
        raise LogError(f"no training reference for feature(s) {', '.join(unknown)}")
    for n in (thresholds or {}):
        if n != "*" and n not in refs:
            raise LogError(f"thresholds given for {n!r}, which has no training reference")
    skipped = [n for n in served.columns if n not in refs]
    starts: list[str] = []
    if bucket is not None:
        if time_column == "time":
            t = frame["time"]
        else:
            inputs = unnest(frame, "inputs")
            if time_column not in inputs.columns:
                raise LogError(f"time column {time_column!r} is neither 'time' nor a logged input")
            t = inputs[time_column]
        if not t.dtype.is_temporal():
            raise LogError(f"time column {time_column!r} is not a date or datetime ({t.dtype})")
        key = t.dt.truncate(BUCKETS[bucket])
        uniq = key.unique().sort()
        codes = pl.DataFrame({"k": key}).with_columns(
            pl.col("k").rank("dense").cast(pl.Int64).alias("c") - 1)["c"].to_numpy()
        starts = [v.isoformat() if v is not None else "null" for v in uniq.to_list()]
        b, nb = codes, len(uniq)
    else:
        b, nb = np.zeros(frame.height, dtype=np.int64), 1
    out = []
    for name in names:
        ref = refs[name]
        th = thresholds_for(name, thresholds)
        parts = _bucket_counts(ref, served[name], b, nb)
        total = _total(parts)
        overall = measure(ref, total)
        fd = FeatureDrift(name, ref, overall, alerts(ref, overall, th), th, [int(x) for x in total.bins])
        if bucket is not None:
            for start, c in zip(starts, parts):
                m = measure(ref, c)
                fd.buckets.append((start, m, alerts(ref, m, th)))
        out.append(fd)
    return DriftReport(frame.height, out, bucket, time_column, skipped, others, time.perf_counter() - started)
