"""Replay parity for windows: the batch point-in-time values against the online path, value by value.

The event log is ingested into a fresh store in **arrival order** (any permutation of the events: late
events, bursts), and each spine row is asked as soon as every event at or before its position has arrived —
so events after its position (later times, later-ordered ties, its own event at an upper-open window) may
already be in the store and must not be counted. The answers are compared bitwise with
:func:`skewless.windows.batch.compute_windows` (floats by their bits, NaN equal to NaN).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import polars as pl

from skewless.state.protocol import OnlineStore
from skewless.state.replay import ReplayReport
from skewless.windows.batch import compute_windows
from skewless.windows.online import OnlineWindows
from skewless.windows.spec import Windows
from skewless.windows.timing import to_micros


def replay_parity(windows: Windows, events: pl.DataFrame, spine: pl.DataFrame, store: OnlineStore, *,
                  arrival: Sequence[int] | None = None, max_batch: int = 1_000,
                  paging: tuple[int, int] | None = None) -> ReplayReport:
    """Compare batch and online windows on ``spine`` with ``events`` ingested in ``arrival`` order.

    Parameters
    ----------
    arrival
        Row indices of ``events`` in the order they arrive (default: by time, then order).
    max_batch
        At most this many events per ``ingest`` call (events between two requests go in one call).
    paging
        ``(page_size, paged_above)`` of the online side (:class:`~skewless.windows.OnlineWindows`; default
        its own).
    """
    src = windows.source
    batch = compute_windows(windows, spine, events).rows()
    outputs = list(windows.outputs)
    rows = events.rows(named=True)
    zone = src.zone
    pos = [(to_micros(r[src.time], zone), r[src.order]) if r[src.time] is not None else None for r in rows]
    if arrival is None:
        arrival = sorted((i for i in range(len(rows)) if pos[i] is not None), key=lambda i: pos[i])
        arrival += [i for i in range(len(rows)) if pos[i] is None]
    rank = {i: k for k, i in enumerate(arrival)}
    timed = sorted((pos[i], rank[i]) for i in range(len(rows)) if pos[i] is not None)
    keys = [p for p, _ in timed]
    latest = []  # latest[k]: the last arrival among the k + 1 first events by position
    for _, a in timed:
        latest.append(a if not latest else max(latest[-1], a))
    requests = spine.rows(named=True)
    due = []
    for i, req in enumerate(requests):
        at = req[src.time]
        if at is None:
            due.append((-1, i))
            continue
        t = to_micros(at, zone)
        bound = (t, req[src.order] if windows.requests_at == "events" and req[src.order] is not None
                 else float("inf"))
        k = bisect.bisect_right(keys, bound)
        due.append((latest[k - 1] if k else -1, i))
    due.sort()
    online = OnlineWindows(windows, store) if paging is None else OnlineWindows(
        windows, store, page_size=paging[0], paged_above=paging[1])
    report = ReplayReport()
    done = 0
    for need, i in due:
        while done <= need:
            upto = min(need + 1, done + max_batch)
            online.ingest([rows[j] for j in arrival[done:upto] if pos[j] is not None])
            done = upto
        report.compare(i, outputs, batch[i], online(requests[i]))
    return report
