"""Window state built in bulk from history: :func:`materialize_windows` (``skewless materialize --events``).

For each event source of a feature set's windows, the history's events stamped at or before ``as_of`` (all of
them without) are validated and grouped per entity exactly as :meth:`skewless.windows.OnlineWindows.ingest`
would apply them, and every entity table is loaded as a new version with one atomic switch
(:meth:`skewless.windows.OnlineWindows.materialize`; the state equals the incrementally built one).

**Materialize, then ingest.** A load replaces a table's states whole: an event ingested while the load runs
can be overwritten by it. The recipe: materialize the history up to a time ``T`` (``as_of=T``), then start
ingesting the live events from ``T - max_lateness`` on (``POST /v1/events`` or ``OnlineWindows.ingest``):
the events between ``T - max_lateness`` and ``T`` are already held and are no-ops (ingestion is idempotent on
the event id), and every later one is applied. Ingesting from later than ``T`` loses events; ingesting from
much earlier than ``T - max_lateness`` can be refused as late (``LateEvent``).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["materialize_windows", "WindowsLoad"]


@dataclass(frozen=True)
class WindowsLoad:
    """One event source materialized: events read, entities loaded per store table, seconds."""

    source: str
    events: int
    tables: dict[str, int]
    seconds: float


def materialize_windows(store: Any, feature_set: Any, events: Mapping[str, Any] | None = None, *,
                        as_of: _dt.datetime | None = None, batch_size: int = 10_000,
                        sources: Any = None) -> list[WindowsLoad]:
    """Build the window state of ``feature_set`` (a feature set with windows, or its ``FeatureWindows``) in
    ``store`` from ``events``.

    ``events``: each source's history by name (a frame, a path or glob, or a callable; default: the declared
    ``Windowed(source=...)``). ``as_of``: only events stamped at or before it (an aware datetime; naive for a
    source whose time has no zone). ``sources``: only these sources (default: every one).
    """
    import polars as pl

    from skewless.compiled import event_frames
    from skewless.errors import SchemaError, SkewlessError
    from skewless.windows.online import InvalidEvent

    from skewless.windows.declared import FeatureWindows

    windows = feature_set if isinstance(feature_set, FeatureWindows) else getattr(feature_set, "windows", None)
    if windows is None:
        raise SkewlessError(f"{getattr(feature_set, 'name', feature_set)!r} declares no windows")
    wanted = set(windows.sources) if sources is None else set(sources)
    unknown = sorted(wanted - set(windows.sources))
    if unknown:
        raise SkewlessError(f"no event source {unknown[0]!r} (the windows read {sorted(windows.sources)})")
    frames = event_frames(windows, events, only=wanted)
    loaded = windows.online_windows(store)
    out = []
    for name, lf in frames.items():
        if name not in wanted:
            continue
        started = time.perf_counter()
        src = windows.sources[name]
        if as_of is not None and (as_of.tzinfo is None) != (src.zone is None):
            raise SchemaError(f"as_of {as_of.isoformat()}: the time of event source {name!r} is "
                              f"{'zoned: give an aware datetime' if src.zone else 'naive: give a naive datetime'}")
        have = lf.collect_schema()
        missing = [c for c in src.columns if c not in have]
        if missing:
            raise SchemaError(f"event source {name!r}: the events have no column {missing[0]!r}")
        lf = lf.select(list(src.columns))
        if as_of is not None:
            lf = lf.filter(pl.col(src.time) <= as_of)
        rows = lf.collect().rows(named=True)
        try:
            tables = loaded[name].materialize(rows, batch_size=batch_size)
        except InvalidEvent as exc:
            raise SchemaError(str(exc)) from None
        out.append(WindowsLoad(name, len(rows), tables, time.perf_counter() - started))
    return out
