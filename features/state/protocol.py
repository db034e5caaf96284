"""The online store protocol, its value types and its one error.

Vocabulary
----------
table
    The name of an entity table (``"planes"``, ``"weather"``): letters, digits, ``_`` and ``-``.
key
    A tuple of the entity key's values (``("N14228",)``, ``("EWR",)``); each part an ``int``, ``str`` or
    ``bool``. ``None`` (a null key) and floats are refused with :class:`InvalidKey`: a null key identifies no
    entity, and float keys would make ``-0.0``/``0.0`` and NaN identities a matter of encoding.
event time
    An ``int``: microseconds since the Unix epoch, UTC (the unit of polars' ``Datetime("us")``).
    :func:`skewless.state.codec.micros` converts an aware ``datetime``.
row
    A mapping of column name to value: ``None``, ``bool``, ``int``, ``float`` (every bit kept: ``-0.0``,
    ``NaN``, ``inf``), ``str``, ``date``, ``datetime`` (naive, or aware with a ``zoneinfo`` zone, kept) or
    ``timedelta``.

Rules every store follows (the conformance suite checks each on every store)
--------------------------------------------------------------------------
* A write whose event time is older than the stored row's is dropped; an equal or newer one replaces the
  row (ties: the later write wins, as the later of two equal-time rows wins in the batch as-of join).
* :meth:`OnlineStore.get_many` reads every lookup of a request in one round trip, from one consistent
  version of each table; a missing key answers ``None``.
* :meth:`OnlineStore.load` writes a new version of a table and switches to it atomically; readers see the
  old version until the switch and the new one after it, never a mix. Writes arriving during a load go to
  the live version and to the version being loaded, so the switch loses none of them.
* A load given ``merge=`` combines each loaded row with a row that a write or update put into the version
  being loaded before the load reached that key (``merge(key, that row, (event time, loaded row))``), in
  one atomic step, instead of the event-time rule: the windows' bulk build so keeps events ingested while
  it ran.
* :meth:`OnlineStore.update` reads, changes and writes the rows of some keys as one atomic step against
  every other writer (the windows' per-entity state is updated so: two ingesters never lose an event); the
  change is applied to the live version and, during a load, to the version being loaded.
* :meth:`OnlineStore.transact` is the multi-key form: ``change(read)`` reads any rows of the table (``read(keys)``,
  as often as it needs, each read seeing the same consistent state) and returns the rows to write or delete;
  the reads and the writes are one atomic step against every other writer (SQLite: one ``BEGIN IMMEDIATE``
  transaction; Redis: optimistic — one script writes only if no row read and neither version changed since,
  else ``change`` runs again, as it does when it raised after reading rows that changed meanwhile). The
  windows' paged state (a head row and page rows) changes so.
* Any failure to reach or use the store (refused connection, timeout, locked or unreadable database) raises
  :class:`StoreUnavailable` naming the store, after at most the store's ``timeout`` seconds per operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from skewless.errors import SkewlessError

Key = tuple[Any, ...]
Row = Mapping[str, Any]

#: Event times are exact integers in every store (Redis scripts compare them as doubles: 2**53 is exact).
_MAX_EVENT_TIME = 2**53
_TABLE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}\Z")


class StoreUnavailable(SkewlessError, ConnectionError):
    """The online store cannot be reached or used; the message names the store and the cause.

    The service answers it with 503 naming the store, never a 500.
    """

    def __init__(self, store: str, cause: str):
        self.store = store
        self.cause = cause
        super().__init__(f"online store {store} is unavailable: {cause}")


class InvalidKey(SkewlessError, ValueError):
    """An entity key or table name a store refuses (a null key, a float key part, a bad table name)."""


class ConcurrentLoad(SkewlessError, RuntimeError):
    """Another load of the same table started while this one ran; this one is abandoned, nothing switched."""


@dataclass(frozen=True, slots=True)
class StateRow:
    """One entity's state as stored: its event time (µs since the epoch, UTC) and its row."""

    event_time: int
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What :meth:`OnlineStore.load` did: the table, the version now live, and the rows written to it."""

    table: str
    version: int
    rows: int


@runtime_checkable
class OnlineStore(Protocol):
    """Entity state by table and key, newest by event time. See the module docstring for the rules."""

    #: Names the store in errors and metrics, e.g. ``sqlite:/srv/state.db`` or ``redis://127.0.0.1:6379/0``.
    name: str
    #: Seconds any one operation may take before :class:`StoreUnavailable`.
    timeout: float

    def write(self, table: str, rows: Iterable[tuple[Key, int, Row]]) -> None:
        """Upsert ``(key, event_time, row)`` triples into the live version; older writes are dropped."""

    def get_many(self, lookups: Sequence[tuple[str, Key]]) -> list[StateRow | None]:
        """The state of each ``(table, key)`` (``None`` when absent), in order, in one round trip."""

    def load(self, table: str, rows: Iterable[tuple[Key, int, Row]], *, batch_size: int = 10_000,
             progress: Any = None, merge: Any = None) -> LoadResult:
        """Replace ``table`` by ``rows`` atomically: write a new version, then switch to it.

        ``progress``, when given, is called with the number of rows written so far after each batch.
        ``merge``, when given, is called as ``merge(key, existing StateRow, (event_time, row))`` for a loaded
        row whose key already has a row in the version being loaded (written there by a concurrent write or
        update during the load) and returns the ``(event_time, row)`` to store; when it raises, the load is
        abandoned (nothing switched).
        """

    def update(self, table: str, keys: Sequence[Key],
               change: Callable[[Key, StateRow | None], tuple[int, Row] | None]) -> None:
        """Atomically replace each key's row by ``change(key, current)`` (``None``: keep it).

        ``change`` must be a pure function of its arguments: a store may call it again when another writer
        got in between (Redis), and calls it once per version (live, and pending during a load). When it
        raises, nothing is written.
        """

    def transact(self, table: str,
                 change: Callable[[Callable[[Sequence[Key]], list[StateRow | None]]],
                                  Mapping[Key, tuple[int, Row] | None]]) -> None:
        """Atomically apply ``change(read)`` to ``table``: ``read(keys)`` returns the current rows of ``keys``
        (``None`` when absent; it may be called several times, keys decided from earlier reads) and ``change``
        returns ``{key: (event_time, row)}`` to write (whatever the stored event time) or ``{key: None}`` to
        delete.

        The writes apply only together with the reads they were decided from: no other writer changes a row
        that was read in between. ``change`` must be a pure function of what it read: it is called once per
        version (live, and pending during a load, each reading its own version), and a store may call it
        again when another writer got in between (Redis: its reads are not one snapshot, so a call that read
        rows changed meanwhile — whatever it returned or raised — has no effect and runs again). When it
        raises (on rows still current), nothing is written and the error propagates.
        """

    def version(self, table: str) -> int | None:
        """The live version of ``table`` (``None`` before its first write or load)."""

    def close(self) -> None:
        """Release connections. Idempotent."""


def check_table(table: str) -> str:
    """``table`` if it is a valid entity table name, else :class:`InvalidKey`."""
    if not isinstance(table, str) or not _TABLE_NAME.match(table):
        raise InvalidKey(f"entity table name {table!r} is not 1-100 letters, digits, '_' or '-'")
    return table


def check_event_time(event_time: Any, table: str, key: Key) -> int:
    """``event_time`` if it is an ``int`` (µs since the epoch), else :class:`InvalidKey` naming the row."""
    if type(event_time) is not int or not -_MAX_EVENT_TIME <= event_time <= _MAX_EVENT_TIME:
        raise InvalidKey(f"table {table!r} key {key!r}: event time must be an int of microseconds since the "
                         f"epoch (UTC), got {type(event_time).__name__} {event_time!r}"
                         " (at most 2**53 in magnitude, years 1685-2255, exact in every store)")
    return event_time

