"""The events a bundle's golden rows read (``golden_events.json``) and their replay through a private store.

:func:`used_events` (batch side, polars) picks, for each event source of a feature set's windows, every
event that some golden row's window can contain: an event of the row's entity stamped at or before the row's
request time and no earlier than its longest window allows (the request time minus the longest period,
calendar days counted as 26 h; lifetime windows: every earlier event). Replaying the golden requests
against these events alone gives the batch values: each window holds exactly the events it held in batch
(an event outside every golden window changes none).

:func:`replay_golden` (no polars) is the self-check's online half: the events are ingested into a fresh store
in (time, order) order through :class:`~skewless.windows.OnlineWindows` — validated, one atomic update per
entity table — and each golden request is asked once every event at or before its position has arrived, on
the serving path (:meth:`skewless.windows.declared.FeatureWindows.online`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from skewless.windows.timing import to_micros

__all__ = ["GOLDEN_EVENTS_FILE", "used_events", "encode_events", "decode_events", "replay_golden"]

GOLDEN_EVENTS_FILE = "golden_events.json"


def used_events(windows: Any, golden: Any, events: Mapping[str, Any]) -> dict[str, Any]:
    """Per event source, the events the windows of the ``golden`` rows can read (polars DataFrames, by order).

    ``events`` may be lazy scans of any size: they are filtered to the golden rows' entities and times before
    anything is collected (streaming), so memory follows the events chosen, not the source.
    """
    import polars as pl

    from skewless.backends.polars.dtypes import to_polars

    out = {}
    for d, spine in zip(windows.declared, windows.spines(golden)):
        w, src = d.windows, d.windows.source
        tdtype = to_polars(src.columns[src.time])
        ev = (events[src.name].lazy().select(list(src.columns))
              .with_columns(pl.col(src.time).cast(tdtype, strict=True).to_physical().alias("__skewless_t")))
        req = spine.with_columns(pl.col(src.time).cast(tdtype, strict=True).to_physical().alias("__skewless_at"))
        chosen = []
        for ent in w.entities:
            by = list(ent.by)
            asked = req.select(*by, "__skewless_at").filter(
                pl.all_horizontal([pl.col(c).is_not_null() for c in [*by, "__skewless_at"]])).unique()
            if not asked.height:
                continue
            j = ev.select(*by, "__skewless_t", src.order).join(asked.lazy(), on=by, how="inner")
            cond = pl.col("__skewless_t") <= pl.col("__skewless_at")
            if not ent.lifetime:
                cond = cond & (pl.col("__skewless_t") >= pl.col("__skewless_at") - ent.bound_us)
            chosen.append(j.filter(cond).select(src.order))
        ids = (pl.concat(chosen).unique().collect(engine="streaming") if chosen
               else pl.DataFrame({src.order: []}, schema={src.order: pl.Int64}))
        out[src.name] = (ev.join(ids.lazy(), on=src.order, how="semi").collect(engine="streaming")
                         .sort("__skewless_t", src.order).drop("__skewless_t"))
    return out


def encode_events(windows: Any, events: Mapping[str, Any]) -> dict[str, Any]:
    """``golden_events.json``'s content: per source, its events column by column (bundle-codec values)."""
    from skewless.bundle.codec import encode_value

    out = {}
    for name, src in windows.sources.items():
        frame = events.get(name)
        out[name] = {c: [encode_value(v, d) for v in (frame.get_column(c).to_list() if frame is not None else [])]
                     for c, d in src.columns.items()}
    return {"about": "the events the golden rows' windows read in batch; the self-check ingests them into a "
                     "private store in time order and asks the golden requests on the serving path",
            "sources": out}


def decode_events(windows: Any, data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Inverse of :func:`encode_events` (``CodecError``/``KeyError`` on rows that are not the sources')."""
    from skewless.bundle.codec import decode_value

    sources = data["sources"]
    if set(sources) != set(windows.sources):
        raise KeyError(f"golden events hold sources {sorted(sources)}, the windows read {sorted(windows.sources)}")
    out = {}
    for name, src in windows.sources.items():
        columns = sources[name]
        if set(columns) != set(src.columns):
            raise KeyError(f"golden events of {name!r} have columns {sorted(columns)}, expected {sorted(src.columns)}")
        if len({len(v) for v in columns.values()}) > 1:
            raise KeyError(f"golden events of {name!r}: the columns have different lengths")
        decoded = {c: [decode_value(v, d) for v in columns[c]] for c, d in src.columns.items()}
        out[name] = [dict(zip(decoded, values)) for values in zip(*decoded.values())]
    return out


def replay_golden(windows: Any, requests: Sequence[Mapping[str, Any]],
                  events: Mapping[str, Sequence[Mapping[str, Any]]], store: Any) -> list[dict[str, Any]]:
    """The window outputs of each request (in the requests' order), replayed into ``store`` (fresh, empty)."""
    times = windows.times.row_fn
    ats = [times(r) for r in requests]
    out: list[dict[str, Any]] = [{} for _ in requests]
    for i, d in enumerate(windows.declared):
        src = d.windows.source
        zone = src.zone
        online = windows.reader(i, store)
        ingest = online.ingest
        feed = sorted((e for e in events.get(src.name, ()) if e[src.time] is not None),
                      key=lambda e: (to_micros(e[src.time], zone), e[src.order]))
        positions = [(to_micros(e[src.time], zone), e[src.order]) for e in feed]
        asked = []
        for j, r in enumerate(requests):
            req = windows.window_request(i, r, ats[j])
            at = req[src.time]
            if at is None:  # names no time: null windows, asked after every event
                asked.append(((1 << 62, 1 << 62), j, req))
                continue
            order = req.get(src.order) if d.windows.requests_at == "events" else None
            asked.append(((to_micros(at, zone), (1 << 62) if order is None else order), j, req))
        asked.sort(key=lambda a: (a[0], a[1]))
        done = 0
        for bound, j, req in asked:
            upto = bisect.bisect_right(positions, bound)
            if upto > done:
                ingest(feed[done:upto])
                done = upto
            out[j].update(online(req))
    return out
