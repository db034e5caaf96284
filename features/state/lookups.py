"""Entity tables and point-in-time lookups, declared in polars' words; the online side of a lookup.

An :class:`EntityTable` is static (keyed: ``planes`` by ``tailnum``) or time-versioned (keyed and stamped:
``weather`` by ``origin`` with ``time_hour``). A :class:`Lookup` reads some of a table's columns for a request
the way ``DataFrame.join_asof`` reads them for a training row — ``by`` (the request's key columns, matched to
the table's key in order), ``on`` (the request's time), ``strategy="backward"``, ``allow_exact_matches``,
``tolerance`` (Feast's TTL) — or, for a static table, the way a left join on the key does.

Written semantics, shared by both runtimes (``skewless.state.batch`` compiles them to polars,
:meth:`Lookups.online` reads a store; ``skewless.state.replay`` proves them equal):

* The value is the row of the entity's newest state stamped at or before the request time (strictly before
  when ``allow_exact_matches=False``); of rows stamped at the same time, the last (the batch join's choice,
  and the store's "later write wins").
* With ``tolerance``, a state older than the request time by more than ``tolerance`` is not used (a state
  exactly ``tolerance`` old is).
* Every output is nullable and is null when: a key part or the request time is null, the entity is missing,
  no state qualifies, or the state is too old. A stored state stamped *after* the request time is never used
  (online the store keeps one state per entity, so such a request answers null rather than an older value;
  replay proves the online answer equal to the batch join when state arrives in event-time order).
* Outputs are named ``prefix + column`` with the table's declared dtypes.

This module never imports polars (the serving path reads it).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skewless.dtypes import Boolean, DataType, Datetime, Int64, String
from skewless.errors import DefinitionError
from skewless.state.codec import micros
from skewless.state.protocol import OnlineStore, StateRow, check_table

_KEY_DTYPES = (Int64, String, Boolean)


@dataclass(frozen=True)
class EntityTable:
    """An entity table: its name, key columns, value columns with dtypes, and (time-versioned) its time column.

    Parameters
    ----------
    name
        The table's name in the store.
    key
        The key columns (Int64, String or Boolean).
    columns
        Value columns and their dtypes.
    time
        The event-time column (a ``Datetime``) of a time-versioned table; ``None`` for a static table.
    key_dtypes
        The dtypes of the key columns.
    """

    name: str
    key: tuple[str, ...]
    key_dtypes: tuple[DataType, ...]
    columns: Mapping[str, DataType]
    time: str | None = None

    def __post_init__(self):
        check_table(self.name)
        if not self.key or len(self.key) != len(self.key_dtypes):
            raise DefinitionError(f"entity table {self.name!r}: give one dtype per key column")
        for name, dtype in zip(self.key, self.key_dtypes):
            if not isinstance(dtype, _KEY_DTYPES):
                raise DefinitionError(f"entity table {self.name!r}: key column {name!r} is {dtype}; "
                                      "keys are Int64, String or Boolean")
        clash = set(self.columns) & {*self.key, self.time}
        if clash:
            raise DefinitionError(f"entity table {self.name!r}: {sorted(clash)} are key or time columns, not values")
        object.__setattr__(self, "columns", dict(self.columns))

    @property
    def versioned(self) -> bool:
        return self.time is not None


@dataclass(frozen=True)
class Lookup:
    """Columns of ``table`` for a request: ``join_asof(table, on=..., by=..., strategy="backward", ...)``.

    Parameters
    ----------
    table
        The entity table.
    by
        The request's columns holding the key, in the order of ``table.key``.
    columns
        The table's columns to read (all of them when empty).
    on
        The request's time column (required for a time-versioned table, refused for a static one).
    strategy
        ``"backward"`` only: ``"forward"`` and ``"nearest"`` would read state from after the request.
    allow_exact_matches
        Whether a state stamped exactly at the request time is used.
    tolerance
        The oldest usable state, as a positive ``timedelta`` (``None``: any age).
    prefix
        Prefix of the output names (default ``table.name + "_"``).
    """

    table: EntityTable
    by: tuple[str, ...]
    columns: tuple[str, ...] = ()
    on: str | None = None
    strategy: str = "backward"
    allow_exact_matches: bool = True
    tolerance: _dt.timedelta | None = None
    prefix: str | None = None

    def __post_init__(self):
        t = self.table
        where = f"lookup of {t.name!r}"
        if self.strategy != "backward":
            raise DefinitionError(f"{where}: strategy={self.strategy!r} would read state stamped after the "
                                  "request; only 'backward' is point-in-time correct")
        if len(self.by) != len(t.key):
            raise DefinitionError(f"{where}: by={self.by!r} has {len(self.by)} columns, the key {t.key!r} has "
                                  f"{len(t.key)}")
        if t.versioned and self.on is None:
            raise DefinitionError(f"{where}: a time-versioned table needs on= (the request's time column)")
        if not t.versioned and (self.on is not None or self.tolerance is not None or not self.allow_exact_matches):
            raise DefinitionError(f"{where}: a static table takes no on=, tolerance= or allow_exact_matches=")
        if self.tolerance is not None and (not isinstance(self.tolerance, _dt.timedelta)
                                           or self.tolerance <= _dt.timedelta(0)):
            raise DefinitionError(f"{where}: tolerance must be a positive timedelta, got {self.tolerance!r}")
        unknown = [c for c in self.columns if c not in t.columns]
        if unknown:
            raise DefinitionError(f"{where}: unknown columns {unknown}; the table has {sorted(t.columns)}")
        object.__setattr__(self, "by", tuple(self.by))
        object.__setattr__(self, "columns", tuple(self.columns) or tuple(t.columns))
        object.__setattr__(self, "prefix", f"{t.name}_" if self.prefix is None else self.prefix)

    @property
    def outputs(self) -> dict[str, DataType]:
        """Output name -> dtype (every output nullable)."""
        return {self.prefix + c: self.table.columns[c] for c in self.columns}

    @property
    def tolerance_us(self) -> int | None:
        if self.tolerance is None:
            return None
        return (self.tolerance.days * 86_400 + self.tolerance.seconds) * 1_000_000 + self.tolerance.microseconds


@dataclass(frozen=True)
class Lookups:
    """The lookups of one request schema, type-checked against it when declared.

    Parameters
    ----------
    inputs
        The request's columns and dtypes (keys and the request time among them).
    lookups
        The lookups; all time-versioned lookups share one ``on`` column (the request time), so one store
        state per entity serves them all.
    """

    inputs: Mapping[str, DataType]
    lookups: tuple[Lookup, ...]
    _outputs: dict[str, DataType] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "inputs", dict(self.inputs))
        object.__setattr__(self, "lookups", tuple(self.lookups))
        outputs: dict[str, DataType] = {}
        ons = {lk.on for lk in self.lookups if lk.on is not None}
        if len(ons) > 1:
            raise DefinitionError(f"lookups use several request times {sorted(ons)}; use one on= column")
        exact: dict[str, bool] = {}
        for lk in self.lookups:
            where = f"lookup of {lk.table.name!r}"
            for col, key_col, dtype in zip(lk.by, lk.table.key, lk.table.key_dtypes):
                have = self.inputs.get(col)
                if have is None:
                    raise DefinitionError(f"{where}: by column {col!r} is not a request input")
                if have != dtype:
                    raise DefinitionError(f"{where}: by column {col!r} is {have}, key {key_col!r} is {dtype}")
            if lk.on is not None and not isinstance(self.inputs.get(lk.on), Datetime):
                raise DefinitionError(f"{where}: on column {lk.on!r} must be a Datetime request input, "
                                      f"got {self.inputs.get(lk.on)}")
            if lk.table.versioned and exact.setdefault(lk.table.name, lk.allow_exact_matches) != lk.allow_exact_matches:
                raise DefinitionError(f"{where}: every lookup of one table uses the same allow_exact_matches")
            for name, dtype in lk.outputs.items():
                if name in outputs or name in self.inputs:
                    raise DefinitionError(f"{where}: output {name!r} is already a column; set prefix=")
                outputs[name] = dtype
        object.__setattr__(self, "_outputs", outputs)

    @property
    def outputs(self) -> dict[str, DataType]:
        """Every output name -> dtype, in lookup order."""
        return dict(self._outputs)

    @property
    def tables(self) -> dict[str, EntityTable]:
        return {lk.table.name: lk.table for lk in self.lookups}

    def online(self, store: OnlineStore):
        """``fn(request) -> {output: value}`` reading every lookup of the request in one store round trip.

        ``request`` holds the ``by`` keys and the ``on`` time (an aware ``datetime``), typed as declared
        (validate with ``skewless.requests`` first). :class:`~skewless.state.StoreUnavailable` propagates.
        """
        lookups = self.lookups

        def lookup_row(request: Mapping[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            asked: list[tuple[int, tuple[str, tuple]]] = []
            times: list[int | None] = []
            for i, lk in enumerate(lookups):
                key = tuple(request[c] for c in lk.by)
                at = request[lk.on] if lk.on is not None else None
                if any(part is None for part in key) or (lk.on is not None and at is None):
                    times.append(None)
                    continue
                times.append(micros(at) if at is not None else None)
                asked.append((i, (lk.table.name, key)))
            found = dict(zip((i for i, _ in asked), store.get_many([q for _, q in asked]))) if asked else {}
            for i, lk in enumerate(lookups):
                state = found.get(i)
                if state is not None and lk.on is not None and not _usable(lk, state, times[i]):
                    state = None
                for c in lk.columns:
                    out[lk.prefix + c] = None if state is None else state.values.get(c)
            return out

        return lookup_row


def _usable(lk: Lookup, state: StateRow, at: int) -> bool:
    """Whether a stored state qualifies for a request at ``at`` µs (the batch join's backward rule)."""
    age = at - state.event_time
    if age < 0 or (age == 0 and not lk.allow_exact_matches):
        return False
    tol = lk.tolerance_us
    return tol is None or age <= tol


def state_rows(table: EntityTable, rows: Sequence[Mapping[str, Any]]) -> list[tuple[tuple, int, dict]]:
    """Rows of ``table`` (dicts with key, time and value columns) as store writes ``(key, event_time, row)``.

    A static table's rows are written with event time 0; rows with a null key part or time are skipped
    (no lookup can match them, in batch either).
    """
    out = []
    for row in rows:
        key = tuple(row[c] for c in table.key)
        if any(part is None for part in key):
            continue
        if table.time is not None:
            at = row[table.time]
            if at is None:
                continue
            at = micros(at)
        else:
            at = 0
        out.append((key, at, {c: row[c] for c in table.columns}))
    return out
