"""The online replay of requests against entity-table history, and the golden state a bundle carries.

:func:`replay_requests` is the online half of replay parity (no polars): it writes the tables' history into a
fresh store in event-time order and asks each request's lookups at its time. Before a request at time ``T``
the store has received every state stamped before ``T``, and those stamped exactly at ``T`` too when the
table's lookups allow exact matches (with ``allow_exact_matches=False`` a state at ``T`` arrives just after
the requests at ``T``). Rows stamped at the same time arrive in table order, so the later one wins, as in the
batch join. Static tables are loaded first.

A bundle's golden rows carry the state they were computed with (``golden_state.json``): for each entity
table, the rows the batch join chose for the golden rows (:func:`skewless.state.batch.used_states`), written
with the bundle codec. The start-up self-check replays the golden requests through a private store holding
only that state, so the lookups are checked on the serving path without the live store.

This module never imports polars (the serving path reads it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from skewless.state.codec import micros
from skewless.state.lookups import Lookups, state_rows
from skewless.state.protocol import OnlineStore

__all__ = ["HistoryFeed", "replay_requests", "request_time", "encode_state", "decode_state"]


class HistoryFeed:
    """The tables' history, written into ``store`` in event-time order as requests' times advance.

    Static tables are loaded at once; time-versioned rows are written by :meth:`advance` up to (and, when
    the table's lookups allow exact matches, including) a request time.
    """

    def __init__(self, lookups: Lookups, tables: Mapping[str, Sequence[Mapping[str, Any]]], store: OnlineStore):
        self.store = store
        exact = {lk.table.name: lk.allow_exact_matches for lk in lookups.lookups}
        events: list[tuple[int, int, int, str, tuple]] = []  # (time, phase, sequence, table, write)
        for name, table in lookups.tables.items():
            rows = state_rows(table, tables[name])
            if not table.versioned:
                store.load(name, rows)
                continue
            for seq, write in enumerate(rows):
                # phase 0 arrives before the requests at the same time (exact matches allowed), 2 after them.
                events.append((write[1], 0 if exact[name] else 2, seq, name, write))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        self.events = events
        self.pending = 0

    def advance(self, at: int | None) -> None:
        """Write every state that has arrived before a request at ``at`` µs (``None``: all of them)."""
        events, due = self.events, self.pending
        if at is None:
            due = len(events)
        while due < len(events) and (events[due][0], events[due][1]) < (at, 1):
            due += 1
        by_table: dict[str, list[tuple]] = {}
        for _, _, _, name, write in events[self.pending:due]:
            by_table.setdefault(name, []).append(write)
        for name, writes in by_table.items():
            self.store.write(name, writes)
        self.pending = due


def request_time(lookups: Lookups, request: Mapping[str, Any]) -> int | None:
    """A request's time in µs (its lookups' ``on`` column; ``None`` when null or when no lookup has one)."""
    on = next((lk.on for lk in lookups.lookups if lk.on is not None), None)
    value = request[on] if on is not None else None
    return None if value is None else micros(value)


def replay_requests(lookups: Lookups, requests: Sequence[Mapping[str, Any]],
                    tables: Mapping[str, Sequence[Mapping[str, Any]]], store: OnlineStore) -> list[dict[str, Any]]:
    """The lookups' outputs for each request (in the requests' order), replayed into ``store`` (fresh, empty).

    ``tables``: each entity table's rows as dicts (key, time and value columns). Requests are asked in time
    order (a null time last, after the whole history), each after the states that arrived before it.
    """
    has_time = any(lk.on is not None for lk in lookups.lookups)
    times = [request_time(lookups, r) for r in requests]
    order = sorted(range(len(requests)), key=lambda i: (times[i] is None, times[i] or 0)) if has_time \
        else range(len(requests))
    feed = HistoryFeed(lookups, tables, store)
    online = lookups.online(store)
    out: list[dict[str, Any]] = [{} for _ in requests]
    for i in order:
        feed.advance(times[i] if has_time else None)
        out[i] = online(requests[i])
    return out


def _columns(lookups: Lookups, name: str) -> dict[str, Any]:
    """The columns of table ``name`` a golden state row holds: key, time, and every column a lookup reads."""
    t = lookups.tables[name]
    read = {c for lk in lookups.lookups if lk.table.name == name for c in lk.columns}
    cols: dict[str, Any] = dict(zip(t.key, t.key_dtypes))
    if t.versioned:
        cols[t.time] = t.time_dtype
    cols.update({c: d for c, d in t.columns.items() if c in read})
    return cols


def encode_state(lookups: Lookups, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """``golden_state.json``'s content: each table's rows, values written with the bundle codec."""
    from skewless.bundle.codec import encode_value

    out = {}
    for name in lookups.tables:
        cols = _columns(lookups, name)
        out[name] = [{c: encode_value(row[c], d) for c, d in cols.items()} for row in tables.get(name, ())]
    return {"about": "the entity-table rows the golden rows' lookups read in batch; the self-check replays the "
                     "golden requests through a private store holding only these", "tables": out}


def decode_state(lookups: Lookups, data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Inverse of :func:`encode_state` (``CodecError``/``KeyError`` on rows that are not the tables')."""
    from skewless.bundle.codec import decode_value

    tables = data["tables"]
    if set(tables) != set(lookups.tables):
        raise KeyError(f"golden state holds tables {sorted(tables)}, the lookups read {sorted(lookups.tables)}")
    out = {}
    for name in lookups.tables:
        cols = _columns(lookups, name)
        rows = []
        for row in tables[name]:
            if set(row) != set(cols):
                raise KeyError(f"golden state of {name!r}: a row has columns {sorted(row)}, expected {sorted(cols)}")
            rows.append({c: decode_value(row[c], d) for c, d in cols.items()})
        out[name] = rows
    return out
