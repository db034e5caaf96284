"""Drift measures between a training reference (``stats.json``'s ``drift`` sketch) and served values.

numpy only (the service computes its ``/metrics`` gauges with these; it never imports polars).

Measures (all on the non-null, non-NaN values; null and NaN rates are measured apart):

``psi``
    Population stability index over the reference's bins, ``sum((s - t) * ln(s / t))`` with empty
    bins' shares floored at ``PSI_EPSILON`` (1e-4) — the usual convention; 0.1 / 0.25 are the
    classic "watch" / "act" levels.
``js``
    Jensen–Shannon *distance* (square root of the divergence, base 2, in [0, 1]) over the same bins
    (numeric features); Evidently's default threshold is 0.1.
``ks``
    Kolmogorov–Smirnov statistic (no p-value: on millions of rows every p-value is tiny), the
    largest gap between the two CDFs at the reference's ``ecdf`` points (the distinct 0, 2, ...,
    100th training percentiles): exact on the served side, and within about 0.02 of the statistic
    over every point.
``linf``
    Categorical L∞: the largest difference of a category's share (listed values and ``other``);
    Vertex AI's default threshold is 0.3.
``out_of_range``
    Numeric: share of served values below the training minimum or above its maximum.
    Categorical: share of served values the reference does not list (when it lists every
    training value; else the ``other`` share, compared by ``linf``).
``null_rate`` / ``nan_rate``
    Served rates, compared with the training rates by their absolute difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["Reference", "Counts", "psi", "js_distance", "ks_statistic", "linf", "DEFAULT_THRESHOLDS",
           "PSI_EPSILON", "measure", "thresholds_for", "MEASURES"]

PSI_EPSILON = 1e-4

#: Conventional alert thresholds (a measure above its threshold flags the feature); override per
#: feature with ``thresholds={"feature": {"psi": 0.5}}`` or for all with ``{"*": {...}}``.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "psi": 0.25,          # PSI convention: 0.1 watch, 0.25 act
    "js": 0.1,            # Evidently's default for Jensen-Shannon distance
    "ks": 0.1,            # KS statistic (not a p-value)
    "linf": 0.3,          # Vertex AI / TFDV categorical L-infinity default
    "out_of_range": 0.05,
    "null_rate": 0.05,    # absolute difference from the training rate
    "nan_rate": 0.05,
}
MEASURES = tuple(DEFAULT_THRESHOLDS)


def _float(v: Any) -> float:
    return float(v)  # stats.json writes non-finite floats as "inf" / "-inf" / "NaN" text


@dataclass(frozen=True)
class Reference:
    """One feature's training reference, parsed from ``stats.json`` (``features[name]["train"]``)."""

    name: str
    kind: str  # "numeric" | "categorical"
    rows: int  # rows of the split (non-null + null)
    null_rate: float
    nan_rate: float
    minimum: float | None = None
    maximum: float | None = None
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ecdf_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ecdf_f: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values: tuple = ()  # categorical: listed values, in order
    complete: bool = True  # categorical: every training value is listed (other == 0)

    @classmethod
    def from_stats(cls, name: str, entry: Mapping[str, Any]) -> "Reference":
        sk = entry.get("drift")
        if sk is None:
            raise ValueError(f"feature {name!r}: stats.json has no drift reference (rebuild with this version)")
        count, nulls = int(entry.get("count", 0)), int(entry.get("nulls", 0))
        rows = count + nulls
        nans = int(entry.get("nans", 0) or 0)
        base = dict(name=name, kind=sk["kind"], rows=rows, null_rate=nulls / rows if rows else 0.0,
                    nan_rate=nans / rows if rows else 0.0)
        if sk["kind"] == "numeric":
            pts = sk.get("ecdf", [])
            mn, mx = entry.get("min"), entry.get("max")
            return cls(**base, minimum=None if mn is None else _float(mn), maximum=None if mx is None else _float(mx),
                       edges=np.array([_float(e) for e in sk["edges"]], dtype=np.float64),
                       counts=np.array(sk["counts"], dtype=np.float64),
                       ecdf_x=np.array([_float(p[0]) for p in pts], dtype=np.float64),
                       ecdf_f=np.array([float(p[1]) for p in pts], dtype=np.float64))
        values = tuple(v for v, _ in sk["values"])
        counts = np.array([c for _, c in sk["values"]] + [sk.get("other", 0)], dtype=np.float64)
        return cls(**base, values=values, counts=counts, complete=sk.get("other", 0) == 0)

    @property
    def bins(self) -> int:
        return len(self.counts)

    def labels(self) -> list[str]:
        """Human names of the bins (for reports)."""
        if self.kind == "categorical":
            return [str(v) for v in self.values] + ["other"]
        e = self.edges
        if len(e) == 0:
            return ["(all)"]
        out = [f"< {e[0]:.4g}"]
        out += [f"[{a:.4g}, {b:.4g}{']' if i == len(e) - 2 else ')'}" for i, (a, b) in enumerate(zip(e[:-1], e[1:]))]
        return out + [f"> {e[-1]:.4g}"]


@dataclass
class Counts:
    """Served values of one feature in one window or time bucket, binned against a :class:`Reference`."""

    rows: int = 0
    nulls: int = 0
    nans: int = 0
    bins: np.ndarray | None = None  # per reference bin
    le: np.ndarray | None = None  # numeric: served values <= each ecdf point
    out_of_range: int = 0


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors (shares floored at :data:`PSI_EPSILON`)."""
    te, ta = expected.sum(), actual.sum()
    if te == 0 or ta == 0:
        return math.nan
    p = np.maximum(expected / te, PSI_EPSILON)
    q = np.maximum(actual / ta, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(expected: np.ndarray, actual: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) of two count vectors."""
    te, ta = expected.sum(), actual.sum()
    if te == 0 or ta == 0:
        return math.nan
    p, q = expected / te, actual / ta
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def ks_statistic(ref_cdf: np.ndarray, served_le: np.ndarray, served_n: int) -> float:
    """Largest |F_train - F_served| at the reference's ecdf points."""
    if served_n == 0 or len(ref_cdf) == 0:
        return math.nan
    return float(np.max(np.abs(ref_cdf - served_le / served_n)))


def linf(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest difference of a bin's share."""
    te, ta = expected.sum(), actual.sum()
    if te == 0 or ta == 0:
        return math.nan
    return float(np.max(np.abs(expected / te - actual / ta)))


def count(ref: Reference, values: np.ndarray, nulls: int, nans: int, rows: int) -> Counts:
    """Bin the served non-null, non-NaN ``values`` (numeric: float64; categorical: reference bin codes)."""
    if ref.kind == "categorical":
        codes = values.astype(np.int64, copy=False)
        bins = np.bincount(codes, minlength=ref.bins)
        oor = int(bins[-1]) if ref.complete else 0
        return Counts(rows, nulls, nans, bins, None, oor)
    e = ref.edges
    if len(e):
        idx = np.searchsorted(e, values, side="right")
        idx[values == e[-1]] = len(e) - 1
        bins = np.bincount(idx, minlength=ref.bins)
    else:
        bins = np.array([len(values)])
    le = np.searchsorted(np.sort(values), ref.ecdf_x, side="right") if len(ref.ecdf_x) else np.zeros(0)
    oor = 0
    if ref.minimum is not None and ref.maximum is not None:
        oor = int(np.count_nonzero((values < ref.minimum) | (values > ref.maximum)))
    return Counts(rows, nulls, nans, bins, le, oor)


def measure(ref: Reference, c: Counts) -> dict[str, float]:
    """Every measure of served counts ``c`` against ``ref`` (NaN where a measure has no data)."""
    n = int(c.bins.sum()) if c.bins is not None else 0
    out = {"rows": c.rows, "null_rate": c.nulls / c.rows if c.rows else math.nan,
           "nan_rate": c.nans / c.rows if c.rows else math.nan,
           "out_of_range": c.out_of_range / n if n else math.nan,
           "psi": psi(ref.counts, c.bins) if c.bins is not None else math.nan}
    if ref.kind == "numeric":
        out["js"] = js_distance(ref.counts, c.bins) if c.bins is not None else math.nan
        out["ks"] = ks_statistic(ref.ecdf_f, c.le, n) if c.le is not None else math.nan
    else:
        out["linf"] = linf(ref.counts, c.bins) if c.bins is not None else math.nan
    return out


def thresholds_for(name: str, overrides: Mapping[str, Mapping[str, float]] | None) -> dict[str, float]:
    """The thresholds of feature ``name``: the defaults, then ``overrides["*"]``, then ``overrides[name]``."""
    t = dict(DEFAULT_THRESHOLDS)
    if overrides:
        for key in ("*", name):
            for m, v in (overrides.get(key) or {}).items():
                if m not in DEFAULT_THRESHOLDS:
                    raise ValueError(f"unknown drift measure {m!r} in the thresholds of {key!r}; "
                                     f"known: {', '.join(MEASURES)}")
                t[m] = float(v)
    return t


def alerts(ref: Reference, values: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """The measures over their threshold (rates compared by their difference from training)."""
    out = []
    for m, limit in thresholds.items():
        v = values.get(m)
        if v is None or v != v:
            continue
        if m == "null_rate":
            v = abs(v - ref.null_rate)
        elif m == "nan_rate":
            v = abs(v - ref.nan_rate)
        if v > limit:
            out.append(m)
    return out


def codes_for(ref: Reference, values: Sequence[Any]) -> np.ndarray:
    """Categorical bin codes of Python ``values`` (unlisted values: the ``other`` bin)."""
    index = {v: i for i, v in enumerate(ref.values)}
    other = len(ref.values)
    return np.fromiter((index.get(v, other) for v in values), dtype=np.int64, count=len(values))
