"""Monitoring what the service served: row-level skew, distribution drift, in-service drift gauges, reports.

* :func:`skewless.monitoring.skew.skew` — recompute every logged row with the bundle's polars
  pipeline (or another bundle's: "what training used") and compare bitwise, feature by feature;
* :func:`skewless.monitoring.drift.drift` — served distributions vs the training split's
  ``stats.json`` (PSI, categorical L∞, numeric Jensen–Shannon, KS statistic, null / NaN rates,
  out-of-range share), overall and per time bucket;
* :class:`skewless.monitoring.gauges.DriftGauges` — the same measures over a sliding window of
  served rows, as ``/metrics`` gauges (numpy only: the service never imports polars);
* :mod:`skewless.monitoring.report` — self-contained HTML reports (inline SVG).

The measures themselves (:mod:`skewless.monitoring.measures`) need numpy only. This package's
``__init__`` imports nothing, so the service can import the gauges without polars.
"""

__all__ = ["measures", "logdata", "skew", "drift", "gauges", "report"]
