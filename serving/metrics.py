"""Prometheus metrics of one app (``GET /metrics``), in a registry of its own.

Every app gets its own :class:`prometheus_client.CollectorRegistry` (not the process-global one),
so several apps in one process (tests) do not clash and ``/metrics`` shows only this service.

What is measured
----------------
``skewless_http_requests_total{route, method, status}``
    Requests by route *template* (``/v1/predict``; a path no route matches is ``<unmatched>``,
    so arbitrary URLs cannot blow up the label set) and status code.
``skewless_http_request_duration_seconds{route}``
    Latency histogram per route template, measured around the whole app (routing, validation,
    compute, encoding).
``skewless_served_rows_total{route}``
    Rows served (a batch request counts each row).
``skewless_feature_null_total{feature}`` / ``skewless_feature_nan_total{feature}``
    Null and NaN feature values served (only features that can be null / are Float64 have series).
``skewless_score``
    Histogram of served scores (0.05-wide buckets for a binary model's probability).
``skewless_feature_log_records_total{state}`` / ``skewless_feature_log_files`` / ``..._recovered_records``
    The served-feature log's counters (submitted, sampled_out, dropped, written), read from
    :meth:`skewless.serving.feature_log.FeatureLog.stats` when scraped (a custom collector: no work per request).
``skewless_drift_*{feature}``
    Drift of a sliding window of served rows vs the bundle's training statistics (PSI, JS, KS,
    L-inf, out-of-range, null rate, alerts), computed when scraped:
    :class:`skewless.monitoring.gauges.DriftGauges` (``SKEWLESS_SERVE_DRIFT_WINDOW`` rows, 0: off).
``skewless_client_disconnects_total{route}``
    Requests whose client went away before the body was read (not errors of the service: counted
    here, logged once at debug level, answered 499 in ``skewless_http_requests_total``).
``skewless_ready`` / ``skewless_self_check_problems``
    1 when the startup self-check passed, and how many problems it found.

Cost per request: labelled children are bound once (a dict lookup then ``inc``/``observe``); the
feature scan only looks at the features that can be null or NaN.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

from skewless.dtypes import Float64

__all__ = ["ServiceMetrics", "MetricsMiddleware", "CONTENT_TYPE"]

#: The classic text format (0.0.4), which every Prometheus server reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
UNMATCHED = "<unmatched>"
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PROBABILITY_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 20)) + (1.0,)


#: Store reads take tens to hundreds of microseconds (one SQLite statement, one Redis round trip).
_STORE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                  2.5)


class _StateCollector:
    """Gauges and counters read from live objects when scraped (self-check, feature log)."""

    def __init__(self, served: Any, feature_log: Callable[[], Any]):
        self._served, self._feature_log = served, feature_log

    def collect(self) -> Iterable[Any]:
        ready = GaugeMetricFamily("skewless_ready", "1 when the model is loaded and the startup self-check passed")
        ready.add_metric([], 1.0 if self._served.ready else 0.0)
        yield ready
        problems = GaugeMetricFamily("skewless_self_check_problems",
                                     "Problems found by the startup self-check (golden rows that differ)")
        problems.add_metric([], float(len(self._served.problems)))
        yield problems
        fl = self._feature_log()
        if fl is not None:
            stats = fl.stats()
            records = CounterMetricFamily("skewless_feature_log_records",
                                          "Served-feature log records by what happened to them", labels=["state"])
            for state in ("submitted", "sampled_out", "dropped", "written"):
                records.add_metric([state], float(stats.get(state, 0)))
            yield records
            files = GaugeMetricFamily("skewless_feature_log_files", "Served-feature log files written so far")
            files.add_metric([], float(stats.get("files", 0)))
            yield files
            recovered = GaugeMetricFamily("skewless_feature_log_recovered_records",
                                          "Records finalized at start from files a crashed writer left")
            recovered.add_metric([], float(stats.get("recovered_records", 0)))
            yield recovered


class ServiceMetrics:
    """The metrics of one app.

    Parameters
    ----------
    served : ServedBundle
        Read when scraped for the readiness gauges.
    output_schema : dict
        The feature set's output schema (name -> Field): which features get null / NaN counters.
    routes : sequence of str
        Route templates whose children are bound up front.
    binary : bool
        Whether scores are probabilities (score histogram buckets).
    feature_log : callable
        Returns the current :class:`~skewless.serving.feature_log.FeatureLog` or None (it is created later,
        in the lifespan).
    """

    def __init__(self, served: Any, output_schema: Mapping[str, Any], routes: Sequence[str], *, binary: bool,
                 feature_log: Callable[[], Any] = lambda: None, drift: Any = None):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._requests = Counter("skewless_http_requests", "HTTP requests by route template, method and status",
                                 ["route", "method", "status"], registry=r)
        self._latency = Histogram("skewless_http_request_duration_seconds", "Request latency by route template",
                                  ["route"], buckets=_LATENCY_BUCKETS, registry=r)
        rows = Counter("skewless_served_rows", "Rows served (each row of a batch counts)", ["route"], registry=r)
        nulls = Counter("skewless_feature_null", "Null feature values served", ["feature"], registry=r)
        nans = Counter("skewless_feature_nan", "NaN feature values served", ["feature"], registry=r)
        self._score = Histogram("skewless_score", "Served scores", registry=r,
                                **({"buckets": _PROBABILITY_BUCKETS} if binary else {}))
        self._disconnects = Counter("skewless_client_disconnects", "Requests whose client disconnected before the "
                                    "body was read (not service errors)", registry=r)
        # entity lookups: one store read per served row (all its lookups in one round trip)
        self._store_read = Histogram("skewless_store_read_duration_seconds", "Online store reads (one per served "
                                     "row with lookups: every lookup in one round trip)", buckets=_STORE_BUCKETS,
                                     registry=r)
        self._misses = Counter("skewless_lookup_misses", "Lookups whose entity the online store does not hold "
                               "(answered with the lookup's default or null)", registry=r)
        self._stale = Counter("skewless_lookup_stale", "Lookups whose stored state the point-in-time rule refused "
                              "(older than the tolerance, or stamped after the request; default or null)",
                              registry=r)
        self._store_down = Counter("skewless_store_unavailable", "Requests answered 503 because the online store "
                                   "was unavailable", registry=r)
        r.register(_StateCollector(served, feature_log))
        # drift gauges (skewless.monitoring.gauges.DriftGauges): one deque append per served row
        self._drift = drift
        if drift is not None:
            r.register(drift)

        # Children bound once: the request path does a dict lookup, never ``labels()``.
        self._latency_of = {route: self._latency.labels(route) for route in (*routes, UNMATCHED)}
        self._requests_of: dict[tuple[str, str, int], Any] = {}
        self._rows_of = {route: rows.labels(route) for route in routes}
        nullable = [n for n, f in output_schema.items() if f.nullable]
        floats = [n for n, f in output_schema.items() if isinstance(f.dtype, Float64)]
        self._null_of = {n: nulls.labels(n) for n in nullable}
        self._nan_of = {n: nans.labels(n) for n in floats}
        # features scanned per row: (name, can be null, can be NaN)
        self._scan = [(n, n in self._null_of, n in self._nan_of) for n in output_schema
                      if n in self._null_of or n in self._nan_of]
        for c in (*self._null_of.values(), *self._nan_of.values()):
            c.inc(0)  # a series from the start (rate() needs a zero sample)

    # --- per request ----------------------------------------------------------------------
    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request and observe its latency."""
        key = (route, method, status)
        child = self._requests_of.get(key)
        if child is None:  # first request with this (route, method, status): bind it once
            child = self._requests_of[key] = self._requests.labels(route, method, str(status))
        child.inc()
        child = self._latency_of.get(route)
        if child is None:
            child = self._latency_of[route] = self._latency.labels(route)
        child.observe(seconds)

    def store_read(self, seconds: float, misses: int, stale: int) -> None:
        """Observe one store read of a served row's lookups (``observe`` of :meth:`Lookups.online`)."""
        self._store_read.observe(seconds)
        if misses:
            self._misses.inc(misses)
        if stale:
            self._stale.inc(stale)

    def store_unavailable(self) -> None:
        self._store_down.inc()

    def disconnected(self) -> None:
        """Count a client that went away before its request was read."""
        self._disconnects.inc()

    def served(self, route: str, rows: Sequence[Mapping[str, Any]], scores: Optional[Sequence[float]]) -> None:
        """Count the served rows' null / NaN feature values and observe their scores."""
        self._rows_of[route].inc(len(rows))
        if self._drift is not None:
            self._drift.observe_many(rows)
        if len(rows) == 1:
            f = rows[0]
            for name, nullable, floating in self._scan:
                v = f[name]
                if v is None:
                    if nullable:
                        self._null_of[name].inc()
                elif floating and v != v:
                    self._nan_of[name].inc()
        else:
            for name, nullable, floating in self._scan:
                n_null = n_nan = 0
                for f in rows:
                    v = f[name]
                    if v is None:
                        n_null += 1
                    elif v != v:
                        n_nan += 1
                if n_null and nullable:
                    self._null_of[name].inc(n_null)
                if n_nan and floating:
                    self._nan_of[name].inc(n_nan)
        if scores is not None:
            observe = self._score.observe
            for s in scores:
                if not math.isnan(s):  # a NaN score would land in no bucket but +Inf's count
                    observe(s)

    def exposition(self) -> bytes:
        """The text exposition of every metric of this app."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware timing each HTTP request and counting it by route template and status.

    The route template is what the router stored in ``scope["route"]`` (FastAPI/Starlette set it
    when a route matches). An exception escaping the app counts as a 500.
    """

    def __init__(self, app: Any, metrics: ServiceMetrics, static_paths: Iterable[str] = ()):
        self.app, self.metrics = app, metrics
        # Plain Starlette routes (FastAPI's /openapi.json, /docs) do not set scope["route"]: these
        # known paths are their own template.
        self.static_paths = frozenset(static_paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None)
            if template is None:
                template = scope["path"] if scope["path"] in self.static_paths else UNMATCHED
            self.metrics.request(template, scope["method"], status, time.perf_counter() - start)
