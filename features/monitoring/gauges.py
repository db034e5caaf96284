"""Drift gauges for the service's ``/metrics``: the drift measures over a sliding window of served rows.

The request path only appends each served feature row to a bounded :class:`collections.deque` (the
window: the last ``window`` rows; ``append`` on a deque with ``maxlen`` is O(1) and atomic under the
GIL, about 50 ns). The measures are computed when ``/metrics`` is scraped, with numpy over the
window (a few tens of milliseconds for 10,000 rows of 40 features; at most once per
``min_interval`` seconds, the last result is served in between), so a Prometheus alert can fire
without a batch job and without a cost per request beyond the append. Measured in
``benchmarks/monitoring.py``.

Gauges, per feature with a training reference (``stats.json`` in the bundle):
``skewless_drift_psi``, ``skewless_drift_js`` / ``skewless_drift_ks`` (numeric),
``skewless_drift_linf`` (categorical), ``skewless_drift_out_of_range``, ``skewless_drift_null_rate``,
``skewless_drift_alerts`` (how many measures are over their threshold), and
``skewless_drift_window_rows``. numpy only: the service never imports polars.
"""

from __future__ import annotations

import collections
import json
import math
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .measures import Counts, Reference, alerts, codes_for, count, measure, thresholds_for

__all__ = ["DriftGauges", "references_from_bundle"]


def references_from_bundle(bundle_dir: str | Path) -> dict[str, Reference]:
    """The training references in a bundle's ``stats.json`` (empty when it has none)."""
    path = Path(bundle_dir) / "stats.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for name, entry in doc.get("features", {}).items():
        train = entry.get("train") or {}
        if train.get("drift"):
            out[name] = Reference.from_stats(name, train)
    return out


class DriftGauges:
    """A sliding window of served rows and the drift measures of each feature over it.

    Parameters
    ----------
    references : dict of name -> Reference
    window : int
        Rows kept (the most recent).
    thresholds : dict, optional
        As for :func:`skewless.monitoring.drift.drift`.
    min_interval : float
        Seconds a computed result is reused by later scrapes.
    """

    def __init__(self, references: Mapping[str, Reference], *, window: int = 10_000,
                 thresholds: Mapping[str, Mapping[str, float]] | None = None, min_interval: float = 1.0):
        if window < 1:
            raise ValueError(f"window must be positive, got {window!r}")
        self.references = dict(references)
        self.window = window
        self.thresholds = {n: thresholds_for(n, thresholds) for n in self.references}
        self.min_interval = min_interval
        self._rows: collections.deque = collections.deque(maxlen=window)
        #: The request path's only call: ``observe(row)`` appends one feature row.
        self.observe = self._rows.append
        self._lock = threading.Lock()
        self._cached: tuple[float, int, dict[str, dict[str, float]]] | None = None

    def observe_many(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._rows.extend(rows)

    def _counts(self, ref: Reference, values: Sequence[Any]) -> Counts:
        n = len(values)
        nulls = sum(1 for v in values if v is None)
        present = [v for v in values if v is not None] if nulls else list(values)
        if ref.kind == "categorical":
            return count(ref, codes_for(ref, present), nulls, 0, n)
        arr = np.asarray(present, dtype=np.float64)
        nan = np.isnan(arr)
        return count(ref, arr[~nan], nulls, int(nan.sum()), n)

    def compute(self) -> tuple[int, dict[str, dict[str, float]]]:
        """(rows in the window, measures per feature, with ``alerts`` = how many are over their threshold)."""
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.min_interval:
                return self._cached[1], self._cached[2]
            rows = list(self._rows)  # a snapshot: requests keep appending meanwhile
            out: dict[str, dict[str, float]] = {}
            if rows:
                for name, ref in self.references.items():
                    if name not in rows[0]:
                        continue
                    m = measure(ref, self._counts(ref, [r[name] for r in rows]))
                    m["alerts"] = float(len(alerts(ref, m, self.thresholds[name])))
                    out[name] = m
            self._cached = (now, len(rows), out)
            return len(rows), out

    def describe(self) -> Iterable[Any]:
        """The metric families without computing anything (called by the registry when registering)."""
        return self._families(0, {})

    def collect(self) -> Iterable[Any]:
        """prometheus_client collector protocol."""
        return self._families(*self.compute())

    def _families(self, n: int, measures: dict[str, dict[str, float]]) -> Iterable[Any]:
        from prometheus_client.metrics_core import GaugeMetricFamily

        rows = GaugeMetricFamily("skewless_drift_window_rows", "Served rows in the drift gauges' sliding window")
        rows.add_metric([], float(n))
        yield rows
        docs = {
            "psi": "Population stability index of the window vs the training split",
            "js": "Jensen-Shannon distance (base 2) of the window vs the training split (numeric features)",
            "ks": "Kolmogorov-Smirnov statistic of the window vs the training split (numeric features)",
            "linf": "Largest category share difference of the window vs the training split (categorical features)",
            "out_of_range": "Share of the window outside the training range (or unseen categories)",
            "null_rate": "Share of null values in the window",
            "alerts": "Drift measures over their threshold",
        }
        for key, doc in docs.items():
            fam = GaugeMetricFamily(f"skewless_drift_{key}", doc, labels=["feature"])
            for name, m in measures.items():
                v = m.get(key)
                if v is not None and not (isinstance(v, float) and math.isnan(v)):
                    fam.add_metric([name], float(v))
            yield fam
