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
* ``default`` (per lookup, ``{column: value}``): the value of an output when no state qualifies (null key
  part, null request time, missing entity, no state old enough, state too old). A qualifying state whose
  column is null still gives null: the default stands for "no state", not for "a null value".
* Outputs are named ``prefix + column`` with the table's declared dtypes.

This module never imports polars (the serving path reads it).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skewless.dtypes import Boolean, DataType, Datetime, Float64, Int64, String
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
        The event-time column of a time-versioned table; ``None`` for a static table.
    key_dtypes
        The dtypes of the key columns.
    time_dtype
        The dtype of ``time``: a zoned ``Datetime`` (default ``Datetime("us", "UTC")``); a lookup's ``on``
        column must have exactly this dtype (unit and zone), as ``join_asof`` requires.
    source
        Where the table's history is read for batch builds when none is given (``build_dataset(tables=)``):
        a callable returning a polars frame, or a parquet/CSV path or glob. Not part of the definition (its
        fingerprint and a bundle's copy of it ignore it).
    """

    name: str
    key: tuple[str, ...]
    key_dtypes: tuple[DataType, ...]
    columns: Mapping[str, DataType]
    time: str | None = None
    time_dtype: DataType | None = None
    source: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        check_table(self.name)
        if isinstance(self.key, str):
            object.__setattr__(self, "key", (self.key,))
        if isinstance(self.key_dtypes, DataType):
            object.__setattr__(self, "key_dtypes", (self.key_dtypes,))
        object.__setattr__(self, "key", tuple(self.key))
        object.__setattr__(self, "key_dtypes", tuple(self.key_dtypes))
        if self.time is None and self.time_dtype is not None:
            raise DefinitionError(f"entity table {self.name!r}: time_dtype without time=")
        if self.time is not None:
            tdt = Datetime("us", "UTC") if self.time_dtype is None else self.time_dtype
            if not isinstance(tdt, Datetime) or tdt.time_zone is None:
                raise DefinitionError(f"entity table {self.name!r}: time column {self.time!r} must be a zoned "
                                      f"Datetime (an instant), got {tdt}")
            object.__setattr__(self, "time_dtype", tdt)
        for name, dtype in self.columns.items():
            if not isinstance(dtype, DataType):
                raise DefinitionError(f"entity table {self.name!r}: column {name!r} needs a dtype instance "
                                      f"(e.g. Int64()), got {dtype!r}")
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

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON of the declaration (fingerprints and bundles; read back by :meth:`from_json`)."""
        return {"name": self.name, "key": list(self.key), "key_dtypes": [d.to_json() for d in self.key_dtypes],
                "columns": {c: d.to_json() for c, d in self.columns.items()}, "time": self.time,
                "time_dtype": None if self.time_dtype is None else self.time_dtype.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntityTable":
        from skewless.dtypes import dtype_from_json

        return cls(data["name"], tuple(data["key"]), tuple(dtype_from_json(d) for d in data["key_dtypes"]),
                   {c: dtype_from_json(d) for c, d in data["columns"].items()}, data["time"],
                   None if data["time_dtype"] is None else dtype_from_json(data["time_dtype"]))


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
    default
        ``{column: value}``: the output's value when no state qualifies (see the module docstring); columns
        not named default to null. Int64, Float64, String and Boolean columns take defaults.
    """

    table: EntityTable
    by: tuple[str, ...]
    columns: tuple[str, ...] = ()
    on: str | None = None
    strategy: str = "backward"
    allow_exact_matches: bool = True
    tolerance: _dt.timedelta | None = None
    prefix: str | None = None
    default: Mapping[str, Any] | None = None

    def __post_init__(self):
        t = self.table
        where = f"lookup of {t.name!r}"
        if not isinstance(t, EntityTable):
            raise DefinitionError(f"a lookup reads an EntityTable, got {type(t).__name__}")
        if isinstance(self.by, str):
            object.__setattr__(self, "by", (self.by,))
        if isinstance(self.columns, str):
            object.__setattr__(self, "columns", (self.columns,))
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
        defaults = dict(self.default or {})
        for c, value in defaults.items():
            if c not in self.columns:
                raise DefinitionError(f"{where}: default for {c!r}, which the lookup does not read "
                                      f"(columns {list(self.columns)})")
            defaults[c] = _default_value(where, c, t.columns[c], value)
        object.__setattr__(self, "default", defaults)

    @property
    def outputs(self) -> dict[str, DataType]:
        """Output name -> dtype (every output nullable)."""
        return {self.prefix + c: self.table.columns[c] for c in self.columns}

    def defaults(self) -> dict[str, Any]:
        """Output name -> the value used when no state qualifies (``None`` where no default was given)."""
        return {self.prefix + c: self.default.get(c) for c in self.columns}

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON of the lookup (the table by name; read back by :meth:`from_json`)."""
        from skewless.bundle.codec import encode_value

        return {"table": self.table.name, "by": list(self.by), "columns": list(self.columns), "on": self.on,
                "strategy": self.strategy, "allow_exact_matches": self.allow_exact_matches,
                "tolerance_us": self.tolerance_us, "prefix": self.prefix,
                "default": {c: encode_value(v, self.table.columns[c]) for c, v in self.default.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], tables: Mapping[str, EntityTable]) -> "Lookup":
        from skewless.bundle.codec import decode_value

        table = tables[data["table"]]
        tol = data["tolerance_us"]
        return cls(table, tuple(data["by"]), tuple(data["columns"]), data["on"], data["strategy"],
                   bool(data["allow_exact_matches"]), None if tol is None else _dt.timedelta(microseconds=tol),
                   data["prefix"], {c: decode_value(v, table.columns[c]) for c, v in data["default"].items()})

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
        named: dict[str, EntityTable] = {}
        for lk in self.lookups:
            where = f"lookup of {lk.table.name!r}"
            if not isinstance(lk, Lookup):
                raise DefinitionError(f"lookups must be Lookup(...), got {type(lk).__name__}")
            if named.setdefault(lk.table.name, lk.table) != lk.table:
                raise DefinitionError(f"{where}: two different entity tables are named {lk.table.name!r}")
            for col, key_col, dtype in zip(lk.by, lk.table.key, lk.table.key_dtypes):
                have = self.inputs.get(col)
                if have is None:
                    raise DefinitionError(f"{where}: by column {col!r} is not a request input")
                if have != dtype:
                    raise DefinitionError(f"{where}: by column {col!r} is {have}, key {key_col!r} is {dtype}")
            if lk.on is not None and not isinstance(self.inputs.get(lk.on), Datetime):
                raise DefinitionError(f"{where}: on column {lk.on!r} must be a Datetime request input, "
                                      f"got {self.inputs.get(lk.on)}")
            if lk.on is not None and self.inputs[lk.on] != lk.table.time_dtype:
                raise DefinitionError(f"{where}: on column {lk.on!r} is {self.inputs[lk.on]}, the table's time "
                                      f"column {lk.table.time!r} is {lk.table.time_dtype} (join_asof needs the same "
                                      "unit and time zone; declare the table's time_dtype or convert the input)")
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

    @property
    def request_columns(self) -> tuple[str, ...]:
        """The request columns the lookups read (keys and the request time), in first-use order."""
        seen: dict[str, None] = {}
        for lk in self.lookups:
            seen.update(dict.fromkeys((*lk.by, *([lk.on] if lk.on else []))))
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        """``{"tables": {...}, "lookups": [...]}``: the declarations, canonical (see :meth:`from_json`)."""
        return {"tables": {n: t.to_json() for n, t in self.tables.items()},
                "lookups": [lk.to_json() for lk in self.lookups]}

    @classmethod
    def from_json(cls, inputs: Mapping[str, DataType], data: Mapping[str, Any]) -> "Lookups":
        tables = {n: EntityTable.from_json(t) for n, t in data["tables"].items()}
        return cls(inputs, tuple(Lookup.from_json(lk, tables) for lk in data["lookups"]))

    def online(self, store: OnlineStore, observe: Any = None):
        """``fn(request) -> {output: value}`` reading every lookup of the request in one store round trip.

        ``request`` holds the ``by`` keys and the ``on`` time (an aware ``datetime``), typed as declared
        (validate with ``skewless.requests`` first). :class:`~skewless.state.StoreUnavailable` propagates.
        ``observe``, when given, is called after each store read with ``(seconds, misses, stale)``: the
        read's wall time, the lookups whose entity the store does not hold, and those whose stored state
        the point-in-time rule refused (too old, or stamped after the request).
        """
        lookups = self.lookups
        defaults = [(lk, [(lk.prefix + c, c, lk.default.get(c)) for c in lk.columns]) for lk in lookups]
        clock = time.perf_counter

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
            if asked:
                started = clock()
                found = dict(zip((i for i, _ in asked), store.get_many([q for _, q in asked])))
                seconds = clock() - started
            else:
                found, seconds = {}, 0.0
            misses = stale = 0
            for i, (lk, cols) in enumerate(defaults):
                state = found.get(i)
                if state is None:
                    misses += i in found  # asked (no null key or time) and not held by the store
                elif lk.on is not None and not _usable(lk, state, times[i]):
                    state = None
                    stale += 1
                if state is None:
                    for name, _, default in cols:
                        out[name] = default
                else:
                    values = state.values
                    for name, c, _ in cols:
                        out[name] = values.get(c)
            if observe is not None and asked:
                observe(seconds, misses, stale)
            return out

        return lookup_row


_DEFAULT_TYPES = {Int64: (int,), Float64: (float, int), String: (str,), Boolean: (bool,)}


def _default_value(where: str, column: str, dtype: DataType, value: Any) -> Any:
    """``value`` as a default of a ``dtype`` column (an int is a Float64 default too), else DefinitionError."""
    if value is None:
        return None
    for kind, types in _DEFAULT_TYPES.items():
        if isinstance(dtype, kind):
            if type(value) in types:
                return float(value) if kind is Float64 else value
            raise DefinitionError(f"{where}: default for {column!r} is {type(value).__name__} {value!r}, the "
                                  f"column is {dtype}")
    raise DefinitionError(f"{where}: default for {column!r}: only Int64, Float64, String and Boolean columns take "
                          f"defaults (the column is {dtype}); use fill_null in a feature")


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
    (no lookup can match them, in batch either). Value columns a row lacks are not written (a golden state
    holds only the columns its lookups read).
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
        out.append((key, at, {c: row[c] for c in table.columns if c in row}))
    return out
