"""Replay parity for lookups: the batch point-in-time join against the online path, value by value.

The online path replays the tables' history into a fresh store in event-time order and asks at each spine
row's time: before a request at time ``T`` the store has received every state stamped before ``T``, and those
stamped exactly at ``T`` too when the table's lookups allow exact matches (with ``allow_exact_matches=False``
a state at ``T`` arrives just after the requests at ``T``). Rows stamped at the same time arrive in table
order, so the later one wins, as in the batch join. Static tables are loaded first. Values compare bitwise
(floats by their bits, NaN equal to NaN; datetimes with their zone).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from skewless.state.batch import join_lookups
from skewless.state.codec import micros
from skewless.state.lookups import Lookups, state_rows
from skewless.state.protocol import OnlineStore


@dataclass
class ReplayReport:
    """Rows compared, mismatching values, and up to 20 examples ``(row, output, batch, online)``."""

    rows: int = 0
    values: int = 0
    mismatches: int = 0
    examples: list[tuple[int, str, Any, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


def same_value(a: Any, b: Any) -> bool:
    """Bitwise equality of two Python values (NaN equals NaN; types and datetime zones must match)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if hasattr(a, "tzinfo") and getattr(a, "tzinfo", None) is not None:
        return a == b and str(a.tzinfo) == str(b.tzinfo) and a.utcoffset() == b.utcoffset()
    return a == b


def replay_parity(lookups: Lookups, spine: pl.DataFrame, tables: Mapping[str, pl.DataFrame],
                  store: OnlineStore) -> ReplayReport:
    """Compare :func:`~skewless.state.batch.join_lookups` with the online path replayed into ``store``.

    ``store`` must be fresh (empty): the replay writes the tables' history into it.
    """
    outputs = list(lookups.outputs)
    batch = join_lookups(lookups, spine, tables).select(outputs).collect().rows()
    requests = spine.rows(named=True)
    on = next((lk.on for lk in lookups.lookups if lk.on is not None), None)
    exact = {lk.table.name: lk.allow_exact_matches for lk in lookups.lookups}
    events: list[tuple[int, int, int, str, tuple]] = []  # (time, phase, sequence, table, write)
    for name, table in lookups.tables.items():
        rows = state_rows(table, tables[name].select(
            [*table.key, *([table.time] if table.time else []), *table.columns]).rows(named=True))
        if not table.versioned:
            store.load(name, rows)
            continue
        for seq, write in enumerate(rows):
            # phase 0 arrives before the requests at the same time (exact matches allowed), 2 after them.
            events.append((write[1], 0 if exact[name] else 2, seq, name, write))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    order = sorted(range(len(requests)),
                   key=lambda i: (requests[i][on] is None, micros(requests[i][on]) if requests[i][on] else 0)) \
        if on else range(len(requests))
    online = lookups.online(store)
    report = ReplayReport()
    pending = 0
    for i in order:
        at = micros(requests[i][on]) if on and requests[i][on] is not None else None
        due = len(events) if on and at is None else pending
        while due < len(events) and (at is None or (events[due][0], events[due][1]) < (at, 1)):
            due += 1
        _ingest(store, events[pending:due])
        pending = due
        got = online(requests[i])
        report.rows += 1
        for j, name in enumerate(outputs):
            report.values += 1
            if not same_value(batch[i][j], got[name]):
                report.mismatches += 1
                if len(report.examples) < 20:
                    report.examples.append((i, name, batch[i][j], got[name]))
    return report


def _ingest(store: OnlineStore, events: list[tuple[int, int, int, str, tuple]]) -> None:
    by_table: dict[str, list[tuple]] = {}
    for _, _, _, name, write in events:
        by_table.setdefault(name, []).append(write)
    for name, writes in by_table.items():
        store.write(name, writes)
