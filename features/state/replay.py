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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from skewless.state.batch import join_lookups
from skewless.state.golden import replay_requests
from skewless.state.lookups import Lookups
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

    def compare(self, row: int, outputs: Sequence[str], batch: Sequence[Any], online: Mapping[str, Any]) -> None:
        """Count one row: ``batch[j]`` (the batch value of ``outputs[j]``) against ``online[outputs[j]]``, bitwise."""
        self.rows += 1
        for name, expected in zip(outputs, batch):
            self.values += 1
            if not same_value(expected, online[name]):
                self.mismatches += 1
                if len(self.examples) < 20:
                    self.examples.append((row, name, expected, online[name]))


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
    rows = {name: tables[name].select([*t.key, *([t.time] if t.time else []), *t.columns]).rows(named=True)
            for name, t in lookups.tables.items()}
    online = replay_requests(lookups, spine.rows(named=True), rows, store)
    report = ReplayReport()
    for i, got in enumerate(online):
        report.compare(i, outputs, batch[i], got)
    return report
