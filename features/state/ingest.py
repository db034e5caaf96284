"""Ingest entity rows into an online store: validated like requests, each write stamped with its event time.

:func:`ingest` writes rows of one :class:`~skewless.state.lookups.EntityTable` into a store;
:func:`entity_validator` is its validation alone (the service's ``POST /v1/entities/{table}``,
:mod:`skewless.serving.entities`, validates with the same pydantic types). A row is a mapping of column to
value, typed as requests are (:func:`skewless.requests.input_type`: a bool is not an int, ``"1"`` is not a
number, datetimes are aware or ISO 8601 strings with an offset and are converted to the declared zone):

================  ==========================================================================================
key columns       required, never null (a null key identifies no entity), of the key's dtype
time column       (a time-versioned table) required, never null: an aware datetime or an ISO 8601 string with
                  an offset; it is the write's **event time**
value columns     required, ``None`` allowed (every lookup output is nullable); of the column's dtype
================  ==========================================================================================

A static table has no time column, so its writes take their event time from ``event_time=`` (one aware
datetime for the call, required): a plane's seats corrected today are stamped today. Unknown columns are
refused unless ``extra="ignore"``. Errors are one :class:`EntityRowError` naming the table, the row's index
and the column of every problem; nothing is written when any row is invalid.

The store decides what the write does (its rule, tested here through this API): a write whose event time
is older than the entity's stored state is dropped, an equal or newer one replaces it. A late write never
overwrites newer state, whatever order rows arrive in.

Float64 values: NaN and ±inf are kept by default here (entity tables read from files carry them and the
batch join keeps them, bit for bit); the HTTP endpoint refuses them by default, as the service's request
models do (JSON has no NaN).

This module never imports polars (the service imports it).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from skewless.dtypes import Datetime
from skewless.requests import RequestError, _message, input_type
from skewless.state.codec import micros
from skewless.state.lookups import EntityTable
from skewless.state.protocol import OnlineStore

__all__ = ["EntityRowError", "IngestResult", "entity_model", "entity_validator", "ingest"]

#: Rows per store write: each write is one transaction (SQLite) / one script (Redis).
WRITE_BATCH = 10_000
#: The type of a time column: any aware datetime (the event time is an instant; its zone does not matter).
_TIME_DTYPE = Datetime("us", "UTC")


class EntityRowError(RequestError):
    """Entity rows that do not match their table; ``errors`` is ``[(field, message), ...]``.

    ``field`` is ``"rows[i].column"`` (``"rows[i]"`` for a row that is not a mapping, ``"event_time"`` for the
    call's event time).
    """

    def __init__(self, table: str, errors: list[tuple[str, str]]):
        self.table = table
        self.errors = errors
        shown = "; ".join(f"{name}: {msg}" for name, msg in errors[:10])
        more = f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
        Exception.__init__(self, f"entity table {table!r}: {shown}{more}")


@dataclass(frozen=True)
class IngestResult:
    """What :func:`ingest` sent: the table and the number of rows written (the store drops late ones)."""

    table: str
    rows: int


def entity_model(table: EntityTable, *, extra: str = "forbid", allow_non_finite: bool = True) -> Any:
    """The pydantic model of one row of ``table`` (see the module docstring for the rules)."""
    from pydantic import ConfigDict, create_model

    if extra not in ("forbid", "ignore"):
        raise ValueError("extra must be 'forbid' or 'ignore'")
    fields: dict[str, Any] = {}
    for name, dtype in zip(table.key, table.key_dtypes):
        fields[name] = (input_type(dtype), ...)
    if table.time is not None:
        # the table's declared time dtype where it has one (a zoned Datetime); any aware datetime is accepted
        fields[table.time] = (input_type(getattr(table, "time_dtype", None) or _TIME_DTYPE), ...)
    for name, dtype in table.columns.items():
        fields[name] = (Optional[input_type(dtype, allow_non_finite=allow_non_finite)], ...)
    return create_model(f"{table.name}_entity", __config__=ConfigDict(extra=extra), **fields)


def _errors(exc: Any, prefix: str, table: EntityTable) -> list[tuple[str, str]]:
    out = []
    for e in exc.errors(include_url=False):
        where = prefix + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in e["loc"])
        column = e["loc"][0] if e["loc"] else None
        if e.get("input", 0) is None and column in table.key:
            msg = "null in a key column (a null key identifies no entity)"
        elif e.get("input", 0) is None and column == table.time:
            msg = "null event time (every write carries its event time)"
        else:
            msg = _message(e).replace("input", "column")
        out.append((where, msg))
    return out


def entity_validator(table: EntityTable, *, extra: str = "forbid", allow_non_finite: bool = True
                     ) -> Callable[[Iterable[Mapping[str, Any]]], list[dict[str, Any]]]:
    """``validate(rows) -> rows``: every row coerced to its table's types, or one :class:`EntityRowError`."""
    from pydantic import ValidationError

    model = entity_model(table, extra=extra, allow_non_finite=bool(allow_non_finite))
    names = [*table.key, *([table.time] if table.time else []), *table.columns]

    def validate(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        problems: list[tuple[str, str]] = []
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                problems.append((f"rows[{i}]", f"expected a mapping of column to value, got {type(row).__name__}"))
                continue
            try:
                m = model.model_validate(row)
            except ValidationError as exc:
                problems += _errors(exc, f"rows[{i}]", table)
                continue
            out.append({n: getattr(m, n) for n in names})
        if problems:
            raise EntityRowError(table.name, problems)
        return out

    return validate


def writes(table: EntityTable, rows: Iterable[Mapping[str, Any]], event_time: _dt.datetime | None = None
           ) -> list[tuple[tuple, int, dict[str, Any]]]:
    """Validated rows as store writes ``(key, event_time_us, values)``.

    The event time is the row's time column (time-versioned) or ``event_time`` (static; required).
    """
    if table.time is not None:
        if event_time is not None:
            raise EntityRowError(table.name, [("event_time", f"a time-versioned table's rows carry their event "
                                                             f"time in {table.time!r}; do not pass event_time")])
        return [(tuple(r[k] for k in table.key), micros(r[table.time]), {c: r[c] for c in table.columns})
                for r in rows]
    if not isinstance(event_time, _dt.datetime) or event_time.tzinfo is None:
        raise EntityRowError(table.name, [("event_time", "a static table's writes need event_time= (an aware "
                                                         f"datetime, the time the rows became true), got "
                                                         f"{event_time!r}")])
    at = micros(event_time)
    return [(tuple(r[k] for k in table.key), at, {c: r[c] for c in table.columns}) for r in rows]


def ingest(store: OnlineStore, table: EntityTable, rows: Iterable[Mapping[str, Any]], *,
           event_time: _dt.datetime | None = None, extra: str = "forbid", allow_non_finite: bool = True,
           batch_size: int = WRITE_BATCH) -> IngestResult:
    """Validate ``rows`` of ``table`` and write them into ``store``, each with its event time.

    Parameters
    ----------
    store
        The online store.
    table
        The entity table the rows belong to.
    rows
        Mappings of column to value (key, time and value columns; see the module docstring).
    event_time
        A static table's event time for every row of this call (an aware datetime); refused for a
        time-versioned table, whose rows carry their own.
    extra
        ``"forbid"`` (unknown columns are errors) or ``"ignore"``.
    allow_non_finite
        Whether Float64 values may be NaN or ±inf.
    batch_size
        Rows per store write. Each write is atomic; a call with more rows is several writes (for an atomic
        replacement of a whole table use :func:`skewless.state.materialize.materialize`).

    Raises
    ------
    EntityRowError
        Naming every invalid row and column; nothing is written.
    StoreUnavailable
        The store cannot be reached (rows of earlier batches of this call may be written: each is a
        valid write, and writing them again is harmless).
    """
    validated = entity_validator(table, extra=extra, allow_non_finite=allow_non_finite)(rows)
    triples = writes(table, validated, event_time)
    for i in range(0, len(triples), batch_size):
        store.write(table.name, triples[i:i + batch_size])
    return IngestResult(table.name, len(triples))
