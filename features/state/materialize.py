"""Materialize entity tables into an online store as of a time: bulk, idempotent, atomic per table.

:func:`materialize` reads each table's history (a parquet or CSV file or glob, or a polars frame), keeps
what a lookup at ``as_of`` could read — for a time-versioned table the newest row per key stamped at or
before ``as_of``, for a static table every row — and replaces the table in the store with it through the
store's versioned :meth:`~skewless.state.OnlineStore.load`: rows go to a new version that readers cannot see,
then one atomic switch. So:

* **atomic**: until the switch readers see the previous version whole; a failed, interrupted
  (``KeyboardInterrupt``) or killed load never switches, and its rows are removed (at the latest by the
  table's next load). Each table switches on its own: if the second of two tables fails, the first is
  already fully switched and the second is fully the old one, never a mix within a table;
* **idempotent**: loading the same data as of the same time again gives the same state (a new version
  with the same rows); the version number is the only difference;
* **checked before anything is written**: every table's data is read and checked (columns present, key
  and value types, no null key or event time, a static table's keys unique) before the first load starts,
  so bad input never touches the store. Errors are :class:`~skewless.errors.SchemaError` naming the table
  and the column.

Newest row per key (the polars behaviour relied on): the history is sorted by the time column with
``sort(..., maintain_order=True)`` (stable: rows stamped at the same time keep their table order), then
``unique(subset=key, keep="last")`` keeps, per key, the last row in that order — the newest, and of rows
stamped at the same time the last in the table. That is the row ``join_asof(strategy="backward")`` joins
to a training row at ``as_of`` (it too takes the last of equal stamps) and the row the store keeps when the
history is written in order (later write wins). The tests compare the loaded state with the batch join.

Event times: a time-versioned row's event time is its time column (a zoned ``Datetime``, or in a CSV an ISO
8601 string with an offset, e.g. ``2013-01-01T06:00:00Z``), kept in microseconds (sub-microsecond stamps
are refused: the store could not order them). A static table's rows are stamped ``as_of`` (or the epoch
when no ``as_of`` is given), so any later ingested write replaces them.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from skewless.backends.polars.dtypes import to_polars
from skewless.dtypes import Datetime, Int64, String
from skewless.errors import SchemaError, SkewlessError
from skewless.state import open_store  # re-exported: materialize(store=open_store(...)) reads naturally
from skewless.state.codec import micros
from skewless.state.lookups import EntityTable
from skewless.state.protocol import OnlineStore

__all__ = ["TableLoad", "MaterializeResult", "materialize", "prepare", "open_store", "tables_of"]

#: A CSV time column is read as text and parsed with this format: ISO 8601 with an offset, nothing naive.
ISO_WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%.f%#z"
_NULLS = ["NA", ""]
_INTEGERS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)
_TIME = "__skewless_event_us"


@dataclass(frozen=True)
class TableLoad:
    """One table materialized: rows read from its history, rows loaded (one per key), the live version."""

    table: str
    rows_read: int
    rows_loaded: int
    version: int
    seconds: float


@dataclass(frozen=True)
class MaterializeResult:
    """What :func:`materialize` did: the store, ``as_of`` and each table's :class:`TableLoad`."""

    store: str
    as_of: _dt.datetime | None
    tables: list[TableLoad]
    seconds: float


def tables_of(obj: Any) -> dict[str, EntityTable]:
    """The entity tables of ``obj``: an EntityTable, a sequence or mapping of them, a ``Lookups``, or any
    object with a ``lookups`` attribute holding one (a feature set with lookups)."""
    if isinstance(obj, EntityTable):
        return {obj.name: obj}
    found = getattr(obj, "tables", None)
    if isinstance(found, Mapping) and all(isinstance(t, EntityTable) for t in found.values()):
        return dict(found)
    if hasattr(obj, "lookups") and not isinstance(obj, (tuple, list, Mapping)):
        inner = obj.lookups
        if inner is None or not getattr(inner, "tables", None):
            raise SkewlessError(f"{getattr(obj, 'name', type(obj).__name__)!r} declares no lookups, so no entity "
                                "tables to materialize")
        if not isinstance(inner, (tuple, list)):
            return tables_of(inner)
    items = list(obj.values()) if isinstance(obj, Mapping) else list(obj) if isinstance(obj, (list, tuple)) else None
    if items and all(isinstance(t, EntityTable) for t in items):
        return {t.name: t for t in items}
    raise SkewlessError(f"{type(obj).__name__} is not an EntityTable, a list of them, Lookups or a feature set "
                        "with lookups")


def _read(table: EntityTable, source: Any) -> pl.LazyFrame:
    if callable(source) and not isinstance(source, (pl.DataFrame, pl.LazyFrame)):
        source = source()  # an EntityTable's source= may be a callable returning a frame
    if isinstance(source, (pl.DataFrame, pl.LazyFrame)):
        return source.lazy()
    from skewless.io import _paths

    matches = _paths(source)
    suffixes = {Path(m).suffix.lower() for m in matches}
    if suffixes <= {".parquet", ".pq"}:
        return pl.scan_parquet(matches)
    if suffixes <= {".csv", ".tsv", ".txt"}:
        # Key and time columns as text (a String key "0123" stays a string; times are parsed strictly below),
        # the other columns inferred over the whole file and cast to their declared dtypes.
        text = {c: pl.String for c, d in zip(table.key, table.key_dtypes) if d == String()}
        if table.time:
            text[table.time] = pl.String
        return pl.scan_csv(matches, separator="\t" if suffixes == {".tsv"} else ",", null_values=_NULLS,
                           infer_schema_length=None, schema_overrides=text)
    raise SkewlessError(f"entity table {table.name!r}: unsupported data format {sorted(suffixes)} for "
                        f"{str(source)!r}; use parquet or csv")


def _declared_time(table: EntityTable) -> Any:
    declared = getattr(table, "time_dtype", None)  # declared on newer EntityTables
    return declared if isinstance(declared, Datetime) else None


def _time_expr(table: EntityTable, have: Any) -> pl.Expr:
    t, where = table.time, f"entity table {table.name!r}: time column {table.time!r}"
    declared = _declared_time(table)
    col = pl.col(t)
    if have == pl.String:
        target = to_polars(declared) if declared is not None else pl.Datetime("us", "UTC")
        col = col.str.to_datetime(ISO_WITH_OFFSET, time_unit=target.time_unit, time_zone=target.time_zone,
                                  strict=False)
    elif isinstance(have, pl.Datetime):
        if have.time_zone is None:
            raise SchemaError(f"{where} is a naive Datetime; event times are instants (give it a time zone)")
        if declared is not None and have != to_polars(declared):
            raise SchemaError(f"{where} is {have} in the data, declared {declared}")
    else:
        raise SchemaError(f"{where} is {have} in the data; expected a zoned Datetime (or ISO 8601 text with an offset)")
    return col


def prepare(table: EntityTable, source: Any, as_of: _dt.datetime | None = None) -> tuple[pl.DataFrame, int]:
    """``(rows to load, rows read)``: key, event time (µs, ``__skewless_event_us``) and value columns.

    Raises :class:`SchemaError` naming the table and column for anything a load would get wrong.
    """
    lf = _read(table, source)
    where = f"entity table {table.name!r}"
    have = lf.collect_schema()
    needed = [*table.key, *([table.time] if table.time else []), *table.columns]
    absent = [c for c in needed if c not in have]
    if absent:
        raise SchemaError(f"{where}: the data has no column(s) {absent} (it has {list(have)})")
    exprs = []
    for name, dtype in zip(table.key, table.key_dtypes):
        got = have[name]
        ok = got == to_polars(dtype) or (isinstance(dtype, Int64) and got in _INTEGERS)
        if not ok:
            raise SchemaError(f"{where}: key column {name!r} is {got} in the data, declared {dtype}")
        exprs.append(pl.col(name).cast(to_polars(dtype), strict=True))
    # Value columns are cast exactly as the batch join casts them, so the store holds the values batch joins.
    exprs += [pl.col(c).cast(to_polars(d), strict=True) for c, d in table.columns.items()]
    if table.versioned:
        exprs.append(_time_expr(table, have[table.time]))
    try:
        df = lf.select(exprs).collect()
    except pl.exceptions.PolarsError as exc:
        raise SchemaError(f"{where}: {_polars_message(exc, table)}") from None
    read = df.height
    _check_nulls(table, df, lf if table.versioned and have[table.time] == pl.String else None)
    if table.versioned:
        us = df[table.time].dt.epoch("ns")
        if (us % 1000 != 0).any():
            raise SchemaError(f"{where}: time column {table.time!r} has sub-microsecond stamps; the store keeps "
                              "microseconds")
        df = df.with_columns(pl.col(table.time).dt.epoch("us").alias(_TIME))
        if as_of is not None:
            df = df.filter(pl.col(_TIME) <= micros(as_of))
        # Stable sort by event time, then the last row per key: the newest, ties -> the last in table order.
        df = df.sort(_TIME, maintain_order=True).unique(subset=list(table.key), keep="last", maintain_order=True)
        df = df.drop(table.time)
    else:
        dupes = df.group_by(list(table.key)).len().filter(pl.col("len") > 1)
        if dupes.height:
            raise SchemaError(f"{where}: static table with several rows for key {tuple(dupes.row(0)[:-1])!r} "
                              f"({dupes.height} keys repeat); a static table has one row per key")
        df = df.with_columns(pl.lit(0 if as_of is None else micros(as_of), dtype=pl.Int64).alias(_TIME))
    return df, read


def _polars_message(exc: Exception, table: EntityTable) -> str:
    text = " ".join(str(exc).split())
    for c, d in table.columns.items():
        if f"'{c}'" in text or f'"{c}"' in text:
            return f"value column {c!r} does not convert to {d}: {text[:300]}"
    return text[:400]


def _check_nulls(table: EntityTable, df: pl.DataFrame, raw: pl.LazyFrame | None) -> None:
    where = f"entity table {table.name!r}"
    for name in table.key:
        n = df[name].null_count()
        if n:
            first = df.with_row_index().filter(pl.col(name).is_null())["index"][0]
            raise SchemaError(f"{where}: key column {name!r} is null in {n:,} rows (first: row {first}); a null "
                              "key identifies no entity — drop those rows first")
    if table.versioned:
        n = df[table.time].null_count()
        if n:
            idx = df.with_row_index().filter(pl.col(table.time).is_null())["index"]
            what = "null"
            if raw is not None:
                text = raw.select(table.time).collect()[table.time]
                bad = [text[i] for i in idx.head(50).to_list() if text[i] is not None]
                if bad:
                    what = (f"not an ISO 8601 datetime with an offset (e.g. {bad[0]!r}; "
                            "expected like 2013-01-01T06:00:00Z) or null")
            raise SchemaError(f"{where}: time column {table.time!r} is {what} in {n:,} rows (first: row "
                              f"{idx[0]}); every state row needs its event time")


def _writes(table: EntityTable, df: pl.DataFrame) -> Iterable[tuple[tuple, int, dict[str, Any]]]:
    k = len(table.key)
    names = list(table.columns)
    for row in df.select([*table.key, _TIME, *names]).iter_rows():
        yield row[:k], row[k], dict(zip(names, row[k + 1:]))


def materialize(store: OnlineStore, tables: Any, data: Mapping[str, Any] | None = None, *, as_of: _dt.datetime | None = None,
                batch_size: int = 10_000, progress: Callable[[str, int, int], Any] | None = None
                ) -> MaterializeResult:
    """Load the entity tables in ``data`` into ``store`` as of ``as_of``, each table atomically.

    Parameters
    ----------
    store
        The online store (see :func:`open_store`).
    tables
        The declared tables (anything :func:`tables_of` reads).
    data
        Table name -> its history: a parquet or CSV path or glob, or a polars frame. Every name must be a
        declared table; the tables not named are left as they are. ``None``: every table that declares a
        ``source=`` (its history for batch builds), from that source.
    as_of
        An aware datetime: only rows stamped at or before it are considered (``None``: every row).
    batch_size
        Rows per store batch.
    progress
        ``progress(table, rows_written, rows_total)``, called after each batch.

    Raises
    ------
    SchemaError
        Bad input, naming the table and column; nothing is written.
    StoreUnavailable
        The store failed; the table being loaded did not switch.
    """
    started = time.perf_counter()
    declared = tables_of(tables)
    if data is None:
        data = {n: t.source for n, t in declared.items() if getattr(t, "source", None) is not None}
    if not data:
        raise SkewlessError(f"no entity table data given (and no table declares a source=); the declared tables "
                            f"are {sorted(declared)}")
    unknown = [n for n in data if n not in declared]
    if unknown:
        raise SkewlessError(f"unknown entity table(s) {unknown}; the declared tables are {sorted(declared)}")
    if as_of is not None and (not isinstance(as_of, _dt.datetime) or as_of.tzinfo is None):
        raise SkewlessError(f"as_of must be an aware datetime, got {as_of!r}")
    prepared = {name: prepare(declared[name], source, as_of) for name, source in data.items()}
    done = []
    for name, (df, read) in prepared.items():
        t0 = time.perf_counter()
        total = df.height
        report = None if progress is None else (lambda n, name=name, total=total: progress(name, n, total))
        try:
            result = store.load(name, _writes(declared[name], df), batch_size=batch_size, progress=report)
        except BaseException as exc:
            switched = [t.table for t in done]
            exc.add_note(f"the load of {name!r} did not switch: readers see its previous version; "
                         + (f"already switched: {switched}" if switched else "no table was switched"))
            raise
        done.append(TableLoad(name, read, result.rows, result.version, time.perf_counter() - t0))
    return MaterializeResult(store.name, as_of, done, time.perf_counter() - started)
