"""Serve rows through the real service (in-process ASGI app, its lifespan and self-check) with the feature log on.

Used by ``skewless demo`` to produce a served-feature log from the test split, which ``skew`` and
``drift`` then read. Rows go as JSON bodies, exactly as a client would send them: the first
``single`` rows one request each (the single-row fast path), the rest in ``/v1/predict/batch``
requests of ``batch_size`` rows. Every request carries an ``X-Request-ID``.

A feature set with lookups serves keys and times only; its entity tables' history (``tables``) is written into
a fresh embedded store as the requests' times advance (:class:`skewless.state.golden.HistoryFeed`, the replay
order of replay parity): rows go in time order, and a batch holds rows of one request time, so each row's
lookups read exactly the state that had arrived by its time.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewless.errors import SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["replay", "ReplayResult"]


@dataclass
class ReplayResult:
    rows: int
    requests: int
    log_dir: Path
    log_stats: dict[str, int]
    seconds: float


def _json_value(v: Any) -> Any:
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        raise SkewlessError(f"cannot send the non-finite float {v!r} as JSON")
    return v


def replay(bundle_dir: str | Path, rows: "pl.DataFrame", log_dir: str | Path, *, single: int = 200,
           batch_size: int = 1000, request_prefix: str = "replay",
           tables: "dict[str, pl.DataFrame] | None" = None) -> ReplayResult:
    """Serve every row of ``rows`` (the bundle's request inputs) and log what was served to ``log_dir``.

    ``tables``: the entity tables' history, for a bundle with lookups (see the module docstring).
    """
    import tempfile
    import time

    from fastapi.testclient import TestClient

    from skewless.bundle import load_bundle
    from skewless.serving.app import create_app
    from skewless.serving.settings import Settings

    started = time.perf_counter()
    lookups = load_bundle(bundle_dir).transformer.lookups
    if lookups is not None and tables is None:
        raise SkewlessError(f"the bundle looks up {sorted(lookups.tables)}: give their history (tables=)")
    scratch = tempfile.TemporaryDirectory(prefix="skewless-replay-") if lookups is not None else None
    settings = Settings(bundle=Path(bundle_dir), log_dir=Path(log_dir), max_batch_size=max(batch_size, 1),
                        log_max_queue=max(10_000, 2 * batch_size),
                        store=f"sqlite:{Path(scratch.name) / 'replay.db'}" if scratch is not None else None)
    try:
        if lookups is None:
            return _serve(create_app(settings), rows, log_dir, single, batch_size, request_prefix, started)
        return _serve_in_time(create_app(settings), rows, log_dir, batch_size, request_prefix, started, lookups, tables)
    finally:
        if scratch is not None:
            scratch.cleanup()


def _serve(app: Any, rows: "pl.DataFrame", log_dir: str | Path, single: int, batch_size: int, request_prefix: str,
           started: float) -> ReplayResult:
    import time

    from fastapi.testclient import TestClient

    names = list(app.state.served.bundle.transformer.request_schema())  # keys and time: lookups read the store
    missing = [n for n in names if n not in rows.columns]
    if missing:
        raise SkewlessError(f"the rows to replay have no column {', '.join(missing)}")
    bodies = [{k: _json_value(v) for k, v in r.items()} for r in rows.select(names).iter_rows(named=True)]
    requests = 0
    with TestClient(app) as client:
        if not app.state.served.ready:
            raise SkewlessError("the service is not ready: " + "; ".join(app.state.served.problems[:3]))
        for i, body in enumerate(bodies[:single]):
            r = client.post("/v1/predict", json=body, headers={"x-request-id": f"{request_prefix}-{i}"})
            if r.status_code != 200:
                raise SkewlessError(f"row {i}: the service answered {r.status_code}: {r.text[:300]}")
            requests += 1
        for start in range(min(single, len(bodies)), len(bodies), batch_size):
            chunk = bodies[start:start + batch_size]
            r = client.post("/v1/predict/batch", json={"rows": chunk},
                            headers={"x-request-id": f"{request_prefix}-batch-{start}"})
            if r.status_code != 200:
                raise SkewlessError(f"rows {start}..{start + len(chunk) - 1}: the service answered "
                                    f"{r.status_code}: {r.text[:300]}")
            requests += 1
        flog = app.state.feature_log
    stats = flog.stats() if flog is not None else {}
    return ReplayResult(len(bodies), requests, Path(log_dir), stats, time.perf_counter() - started)


def _serve_in_time(app: Any, rows: "pl.DataFrame", log_dir: str | Path, batch_size: int, request_prefix: str,
                   started: float, lookups: Any, tables: "dict[str, pl.DataFrame]") -> ReplayResult:
    """Rows in time order, one batch per request time (at most ``batch_size``), the history fed before each."""
    import time

    from fastapi.testclient import TestClient

    from skewless.state.golden import HistoryFeed, request_time

    names = list(app.state.served.bundle.transformer.request_schema())  # keys and time: lookups read the store
    missing = [n for n in names if n not in rows.columns]
    if missing:
        raise SkewlessError(f"the rows to replay have no column {', '.join(missing)}")
    requests_in = rows.select(names).rows(named=True)
    times = [request_time(lookups, r) for r in requests_in]
    order = sorted(range(len(requests_in)), key=lambda i: (times[i] is None, times[i] or 0))
    history = {name: tables[name].rows(named=True) for name in lookups.tables}
    requests = 0
    with TestClient(app) as client:
        served = app.state.served
        if not served.ready:
            raise SkewlessError("the service is not ready: " + "; ".join(served.problems[:3]))
        feed = HistoryFeed(lookups, history, served.store)
        start = 0
        while start < len(order):
            end, at = start, times[order[start]]
            while end < len(order) and end - start < batch_size and times[order[end]] == at:
                end += 1
            feed.advance(at)
            chunk = [{k: _json_value(v) for k, v in requests_in[i].items()} for i in order[start:end]]
            r = client.post("/v1/predict/batch", json={"rows": chunk},
                            headers={"x-request-id": f"{request_prefix}-batch-{start}"})
            if r.status_code != 200:
                raise SkewlessError(f"rows {start}..{end - 1} (in time order): the service answered "
                                    f"{r.status_code}: {r.text[:300]}")
            requests += 1
            start = end
        flog = app.state.feature_log
    stats = flog.stats() if flog is not None else {}
    return ReplayResult(len(order), requests, Path(log_dir), stats, time.perf_counter() - started)
