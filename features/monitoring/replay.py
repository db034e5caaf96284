"""Serve rows through the real service (in-process ASGI app, its lifespan and self-check) with the feature log on.

Used by ``skewless demo`` to produce a served-feature log from the test split, which ``skew`` and
``drift`` then read. Rows go as JSON bodies, exactly as a client would send them: the first
``single`` rows one request each (the single-row fast path), the rest in ``/v1/predict/batch``
requests of ``batch_size`` rows. Every request carries an ``X-Request-ID``.

A feature set with lookups serves keys and times only; its entity tables' history (``tables``) is written into
a fresh embedded store as the requests' times advance (:class:`skewless.state.golden.HistoryFeed`, the replay
order of replay parity): rows go in time order, and a batch holds rows of one request time, so each row's
lookups read exactly the state that had arrived by its time.

A feature set with windows likewise: its event sources' history (``events``) is posted to the service's
``POST /v1/events/{source}`` as the requests' times advance — before each batch, every event at or before the
batch's latest window request time; a batch spans at most the source's ``max_lateness`` of window request
times, so no event is newer than a request's time plus ``max_lateness`` (within the state horizon: the
windows are exact whatever arrived after a request's time). The history before the first request is not
posted one event at a time: it is materialized up to the first request's time ``T``
(:func:`skewless.windows.materialize.materialize_windows`) and the posting starts at ``T - max_lateness`` —
the documented recipe (the events already held are no-ops).
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
           tables: "dict[str, pl.DataFrame] | None" = None,
           events: "dict[str, pl.DataFrame] | None" = None) -> ReplayResult:
    """Serve every row of ``rows`` (the bundle's request inputs) and log what was served to ``log_dir``.

    ``tables``: the entity tables' history, for a bundle with lookups; ``events``: the event sources' history,
    for a bundle with windows (see the module docstring).
    """
    import tempfile
    import time

    from fastapi.testclient import TestClient

    from skewless.bundle import load_bundle
    from skewless.serving.app import create_app
    from skewless.serving.settings import Settings

    started = time.perf_counter()
    fs = load_bundle(bundle_dir).transformer
    lookups, windows = fs.lookups, fs.windows
    if lookups is not None and tables is None:
        raise SkewlessError(f"the bundle looks up {sorted(lookups.tables)}: give their history (tables=)")
    if windows is not None and events is None:
        raise SkewlessError(f"the bundle aggregates the events of {sorted(windows.sources)}: give their history "
                            f"(events=)")
    stateful = lookups is not None or windows is not None
    scratch = tempfile.TemporaryDirectory(prefix="skewless-replay-") if stateful else None
    settings = Settings(bundle=Path(bundle_dir), log_dir=Path(log_dir), max_batch_size=max(batch_size, 1),
                        # every row must reach the log: the service drops records when its writer falls behind
                        # (by design, on the request path); a replay holds all its rows anyway
                        log_max_queue=max(10_000, rows.height + 2 * batch_size),
                        store=f"sqlite:{Path(scratch.name) / 'replay.db'}" if scratch is not None else None)
    try:
        if not stateful:
            result = _serve(create_app(settings), rows, log_dir, single, batch_size, request_prefix, started)
        else:
            result = _serve_in_time(create_app(settings), rows, log_dir, batch_size, request_prefix, started, lookups,
                                    tables, windows, events)
        lost = result.log_stats.get("dropped", 0)
        if lost:  # a skew report over a partial log would look complete
            raise SkewlessError(f"the feature log lost {lost:,} of {result.rows:,} served rows "
                                f"(written {result.log_stats.get('written', 0):,}); see {log_dir}")
        return result
    finally:
        if scratch is not None:
            scratch.cleanup()


class _EventFeed:
    """The event sources' history, posted to ``/v1/events/{source}`` in (time, order) order as requests advance."""

    def __init__(self, windows: Any, events: "dict[str, pl.DataFrame]", requests: list[dict[str, Any]]):
        import polars as pl

        from skewless.windows.timing import to_micros

        times = windows.times.row_fn
        ats = [times(r) for r in requests]
        self.sources = []
        for i, d in enumerate(windows.declared):
            src = d.windows.source
            df = events[src.name].select(list(src.columns)).filter(pl.col(src.time).is_not_null()) \
                .sort(src.time, src.order)
            rows = [{k: _json_value(v) for k, v in r.items()} for r in df.rows(named=True)]
            at = [None if a[f"__skewless_at{i}"] is None else to_micros(a[f"__skewless_at{i}"], src.zone) for a in ats]
            stamps = [to_micros(t, src.zone) for t in df.get_column(src.time).to_list()]
            self.sources.append((src.name, src.lateness_us, rows, stamps, at))
        self.done = [0] * len(self.sources)
        # the ordering key: the first source's window request time (None last)
        first = self.sources[0][4]
        self.at = [(1 << 62) if a is None else a for a in first]

    def materialize(self, store: Any, windows: Any, events: "dict[str, pl.DataFrame]") -> None:
        """The history up to the first request's window time loaded at once; posting resumes at T - max_lateness."""
        import bisect

        from skewless.windows.materialize import materialize_windows
        from skewless.windows.timing import to_micros

        for k, d in enumerate(windows.declared):
            name, lateness, rows, stamps, at = self.sources[k]
            known = [a for a in at if a is not None]
            if not known:
                continue
            first = min(known)
            t = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(microseconds=first)
            src = d.windows.source
            if src.zone is None:
                t = t.replace(tzinfo=None)
            materialize_windows(store, windows, {name: events[name]}, as_of=t, sources=[name])
            self.done[k] = bisect.bisect_left(stamps, first - lateness)

    def fits(self, first: int, other: int) -> bool:
        """Whether request ``other`` may share a batch with ``first`` (window times within max_lateness)."""
        return all(a[first] is None or a[other] is None or abs(a[other] - a[first]) <= lateness
                   for _, lateness, _, _, a in self.sources)

    def advance(self, client: Any, batch: list[int], prefix: str) -> int:
        """Post every event at or before the batch's latest window time; returns the requests made."""
        import bisect

        posts = 0
        for k, (name, _, rows, stamps, at) in enumerate(self.sources):
            times = [at[i] for i in batch if at[i] is not None]
            if not times:
                continue
            upto = bisect.bisect_right(stamps, max(times))
            for lo in range(self.done[k], upto, 5_000):
                chunk = rows[lo:min(upto, lo + 5_000)]
                r = client.post(f"/v1/events/{name}", json={"events": chunk},
                                headers={"x-request-id": f"{prefix}-events-{name}-{lo}"})
                if r.status_code != 200:
                    raise SkewlessError(f"events {lo}..{lo + len(chunk) - 1} of {name!r}: the service answered "
                                        f"{r.status_code}: {r.text[:300]}")
                posts += 1
            self.done[k] = max(self.done[k], upto)
        return posts


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
                   started: float, lookups: Any, tables: "dict[str, pl.DataFrame] | None", windows: Any = None,
                   events: "dict[str, pl.DataFrame] | None" = None) -> ReplayResult:
    """Rows in time order, one batch per request time (at most ``batch_size``), the history fed before each."""
    import time

    from fastapi.testclient import TestClient

    from skewless.state.golden import HistoryFeed, request_time

    names = list(app.state.served.bundle.transformer.request_schema())  # keys and time: lookups read the store
    missing = [n for n in names if n not in rows.columns]
    if missing:
        raise SkewlessError(f"the rows to replay have no column {', '.join(missing)}")
    requests_in = rows.select(names).rows(named=True)
    wfeed = _EventFeed(windows, events, requests_in) if windows is not None else None
    times = [request_time(lookups, r) for r in requests_in] if lookups is not None else list(wfeed.at)
    order = sorted(range(len(requests_in)), key=lambda i: (times[i] is None, times[i] or 0,
                                                           wfeed.at[i] if wfeed is not None else 0))
    if wfeed is not None:
        wfeed.materialize(app.state.store, windows, events)
    history = {name: tables[name].rows(named=True) for name in lookups.tables} if lookups is not None else {}
    requests = 0
    with TestClient(app) as client:
        served = app.state.served
        if not served.ready:
            raise SkewlessError("the service is not ready: " + "; ".join(served.problems[:3]))
        feed = HistoryFeed(lookups, history, served.store) if lookups is not None else None
        start = 0
        while start < len(order):
            end, at = start, times[order[start]]
            while (end < len(order) and end - start < batch_size and times[order[end]] == at
                   and (wfeed is None or wfeed.fits(order[start], order[end]))):
                end += 1
            if feed is not None:
                feed.advance(at)
            if wfeed is not None:
                requests += wfeed.advance(client, [order[i] for i in range(start, end)], request_prefix)
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
