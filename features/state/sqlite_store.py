"""The embedded online store: one SQLite file in WAL mode, from the standard library.

Why SQLite: it ships with every Python (no dependency, no server), one file is the whole store (it sits in
the bundle's directory), WAL mode lets readers run while a writer writes and gives each read statement one
consistent snapshot (which is what makes a version switch atomic for readers), and an upsert with a ``WHERE``
clause (``ON CONFLICT ... DO UPDATE ... WHERE excluded.event_time >= event_time``) states "an older write
never overwrites newer state" in one statement. LMDB or RocksDB bindings would be dependencies with their
own on-disk formats and no SQL for the conditional write; none was measured here (the benchmark of issue 15
measures this store against Redis and Feast's SQLite store).

Layout: ``skewless_tables(name, live, pending, next)`` holds each table's live version and the version a
load is writing; ``skewless_state(tbl, version, key, event_time, row)`` holds rows of every version
(``WITHOUT ROWID``, keyed by table, version and entity key). ``synchronous=NORMAL``: a committed write
survives a crash of the process; the last transactions may be lost on power loss (SQLite's documented WAL
trade-off).

Timeouts: every statement waits at most ``timeout`` seconds for another connection's write lock (SQLite's
busy timeout) and then raises :class:`StoreUnavailable`; readers in WAL mode never wait for writers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from skewless.state.codec import decode_row, encode_key, encode_row
from skewless.state.protocol import (
    ConcurrentLoad, Key, LoadResult, Row, StateRow, StoreUnavailable, check_event_time, check_table,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS skewless_tables (
    name TEXT PRIMARY KEY, live INTEGER, pending INTEGER, next INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS skewless_state (
    tbl TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, event_time INTEGER NOT NULL, row BLOB NOT NULL,
    PRIMARY KEY (tbl, version, key)
) WITHOUT ROWID;
"""
# The rule "an older write never overwrites newer state", ties to the later write, in one statement.
_UPSERT = """
INSERT INTO skewless_state (tbl, version, key, event_time, row) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (tbl, version, key) DO UPDATE SET event_time = excluded.event_time, row = excluded.row
WHERE excluded.event_time >= skewless_state.event_time
"""
# A row decided by the caller (an update's change, a load's merge): written whatever the stored event time.
_REPLACE = """
INSERT INTO skewless_state (tbl, version, key, event_time, row) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (tbl, version, key) DO UPDATE SET event_time = excluded.event_time, row = excluded.row
"""
_Merge = Callable[[Key, StateRow, tuple[int, Row]], tuple[int, Row]]
#: Lookups per SELECT (3 bound parameters each; SQLite allows 32,766 parameters per statement).
_LOOKUPS_PER_STATEMENT = 10_000


def _encode_rows(table: str, rows: Iterable[tuple[Key, int, Row]]) -> list[tuple[str, int, bytes]]:
    return [(encode_key(table, key), check_event_time(ts, table, key), encode_row(row)) for key, ts, row in rows]


class SQLiteStore:
    """The embedded :class:`~skewless.state.OnlineStore`: one SQLite file (created when missing).

    Parameters
    ----------
    path
        The database file; its directory must exist.
    timeout
        Seconds a statement may wait for another writer's lock before :class:`StoreUnavailable`.
    """

    def __init__(self, path: str | Path, *, timeout: float = 1.0):
        self.path = Path(path)
        self.name = f"sqlite:{self.path}"
        self.timeout = float(timeout)
        self._lock = threading.Lock()
        try:
            # isolation_level=None: no implicit transactions; every transaction below is explicit.
            self._conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreUnavailable(self.name, f"cannot open: {exc}") from exc

    # -- helpers -------------------------------------------------------------------------------------------
    def _run(self, what: str, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreUnavailable(self.name, "the store is closed")
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                raise StoreUnavailable(self.name, f"{what} failed after at most {self.timeout:g} s: {exc}") from exc
            finally:
                if conn.in_transaction:  # only when fn raised: every transaction above ends in COMMIT
                    try:
                        conn.rollback()
                    except sqlite3.Error:
                        pass

    @staticmethod
    def _meta(conn: sqlite3.Connection, table: str) -> tuple[int | None, int | None, int]:
        found = conn.execute("SELECT live, pending, next FROM skewless_tables WHERE name = ?", (table,)).fetchone()
        return found if found is not None else (None, None, 0)

    # -- the protocol --------------------------------------------------------------------------------------
    def write(self, table: str, rows: Iterable[tuple[Key, int, Row]]) -> None:
        check_table(table)
        encoded = _encode_rows(table, rows)  # every row checked before anything is written

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            live, pending, nxt = self._meta(conn, table)
            if live is None:
                live = nxt + 1
                conn.execute("INSERT INTO skewless_tables (name, live, next) VALUES (?, ?, ?) "
                             "ON CONFLICT (name) DO UPDATE SET live = excluded.live, next = excluded.next",
                             (table, live, live))
            for version in (live,) if pending is None else (live, pending):
                conn.executemany(_UPSERT, [(table, version, k, ts, r) for k, ts, r in encoded])
            conn.execute("COMMIT")

        self._run(f"write to {table!r}", run)

    def update(self, table: str, keys: Sequence[Key],
               change: Callable[[Key, StateRow | None], tuple[int, Row] | None]) -> None:
        check_table(table)
        encoded_keys = [(key, encode_key(table, key)) for key in keys]

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: no other writer between read and write
            live, pending, nxt = self._meta(conn, table)
            if live is None:
                live = nxt + 1
                conn.execute("INSERT INTO skewless_tables (name, live, next) VALUES (?, ?, ?) "
                             "ON CONFLICT (name) DO UPDATE SET live = excluded.live, next = excluded.next",
                             (table, live, live))
            writes = []
            for version in (live,) if pending is None else (live, pending):
                for key, text in encoded_keys:
                    found = conn.execute("SELECT event_time, row FROM skewless_state WHERE tbl = ? AND version = ? "
                                         "AND key = ?", (table, version, text)).fetchone()
                    new = change(key, None if found is None else StateRow(found[0], decode_row(found[1])))
                    if new is not None:
                        ts, row = new
                        writes.append((table, version, text, check_event_time(ts, table, key), encode_row(row)))
            conn.executemany(_REPLACE, writes)
            conn.execute("COMMIT")

        if encoded_keys:
            self._run(f"update of {table!r}", run)

    def transact(self, table: str, change: Callable[[Callable[[Sequence[Key]], list[StateRow | None]]],
                                                    Mapping[Key, tuple[int, Row] | None]]) -> None:
        check_table(table)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: every read below and the writes are one step
            live, pending, nxt = self._meta(conn, table)
            if live is None:
                live = nxt + 1
                conn.execute("INSERT INTO skewless_tables (name, live, next) VALUES (?, ?, ?) "
                             "ON CONFLICT (name) DO UPDATE SET live = excluded.live, next = excluded.next",
                             (table, live, live))
            writes, deletes = [], []
            for version in (live,) if pending is None else (live, pending):
                def read(keys: Sequence[Key], version: int = version) -> list[StateRow | None]:
                    out: list[StateRow | None] = []
                    for key in keys:
                        found = conn.execute("SELECT event_time, row FROM skewless_state WHERE tbl = ? AND "
                                             "version = ? AND key = ?",
                                             (table, version, encode_key(table, key))).fetchone()
                        out.append(None if found is None else StateRow(found[0], decode_row(found[1])))
                    return out

                for key, new in change(read).items():
                    text = encode_key(table, key)
                    if new is None:
                        deletes.append((table, version, text))
                    else:
                        writes.append((table, version, text, check_event_time(new[0], table, key),
                                       encode_row(new[1])))
            conn.executemany("DELETE FROM skewless_state WHERE tbl = ? AND version = ? AND key = ?", deletes)
            conn.executemany(_REPLACE, writes)
            conn.execute("COMMIT")

        self._run(f"transaction on {table!r}", run)

    def get_many(self, lookups: Sequence[tuple[str, Key]]) -> list[StateRow | None]:
        params: list[Any] = []
        for i, (table, key) in enumerate(lookups):
            params += (i, check_table(table), encode_key(table, key))

        def run(conn: sqlite3.Connection) -> list[StateRow | None]:
            out: list[StateRow | None] = [None] * len(lookups)
            step = 3 * _LOOKUPS_PER_STATEMENT
            chunks = [params[i:i + step] for i in range(0, len(params), step)]
            if len(chunks) > 1:
                conn.execute("BEGIN")  # one snapshot for every chunk
            for chunk in chunks:
                values = ",".join(["(?,?,?)"] * (len(chunk) // 3))
                sql = (f"WITH q(i, tbl, key) AS (VALUES {values}) "
                       "SELECT q.i, s.event_time, s.row FROM q "
                       "JOIN skewless_tables t ON t.name = q.tbl "
                       "JOIN skewless_state s ON s.tbl = q.tbl AND s.version = t.live AND s.key = q.key")
                for i, ts, row in conn.execute(sql, chunk):
                    out[i] = StateRow(ts, decode_row(row))
            if len(chunks) > 1:
                conn.execute("COMMIT")
            return out

        return self._run("read", run) if lookups else []

    def load(self, table: str, rows: Iterable[tuple[Key, int, Row]], *, batch_size: int = 10_000,
             progress: Callable[[int], Any] | None = None, merge: _Merge | None = None) -> LoadResult:
        check_table(table)

        def start(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            live, pending, nxt = self._meta(conn, table)
            if pending is not None:  # a load that never finished (its process died): its rows are garbage
                conn.execute("DELETE FROM skewless_state WHERE tbl = ? AND version = ?", (table, pending))
            new = nxt + 1
            conn.execute("INSERT INTO skewless_tables (name, pending, next) VALUES (?, ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET pending = excluded.pending, next = excluded.next",
                         (table, new, new))
            conn.execute("COMMIT")
            return new

        new = self._run(f"start of a load of {table!r}", start)
        written = 0
        try:
            batch: list[tuple[Key, int, Row]] = []
            for item in rows:
                batch.append(item)
                if len(batch) >= batch_size:
                    written += self._load_batch(table, new, batch, merge)
                    batch = []
                    if progress is not None:
                        progress(written)
            if batch or written == 0:
                written += self._load_batch(table, new, batch, merge)
                if progress is not None:
                    progress(written)

            def switch(conn: sqlite3.Connection) -> int | None:
                conn.execute("BEGIN IMMEDIATE")
                live, pending, _ = self._meta(conn, table)
                if pending != new:
                    raise ConcurrentLoad(f"{self.name}: another load of {table!r} replaced this one")
                conn.execute("UPDATE skewless_tables SET live = ?, pending = NULL WHERE name = ?", (new, table))
                conn.execute("COMMIT")
                return live

            old = self._run(f"switch of {table!r} to version {new}", switch)
        except BaseException:
            self._abandon(table, new)
            raise
        if old is not None:
            self._run(f"removal of {table!r} version {old}", lambda conn: conn.execute(
                "DELETE FROM skewless_state WHERE tbl = ? AND version = ?", (table, old)))
        return LoadResult(table, new, written)

    def _load_batch(self, table: str, version: int, batch: list[tuple[Key, int, Row]],
                    merge: _Merge | None = None) -> int:
        encoded = _encode_rows(table, batch)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            if self._meta(conn, table)[1] != version:
                raise ConcurrentLoad(f"{self.name}: another load of {table!r} replaced this one")
            if merge is None:
                conn.executemany(_UPSERT, [(table, version, k, ts, r) for k, ts, r in encoded])
            else:  # rows an update or write put into this version before the load reached their key
                found: dict[str, tuple[int, bytes]] = {}
                texts = [k for k, _, _ in encoded]
                for i in range(0, len(texts), 500):
                    chunk = texts[i:i + 500]
                    sql = ("SELECT key, event_time, row FROM skewless_state WHERE tbl = ? AND version = ? AND key IN "
                           f"({','.join('?' * len(chunk))})")
                    found.update((k, (ts, r)) for k, ts, r in conn.execute(sql, (table, version, *chunk)))
                writes = []
                for (key, _, row), (text, ts, raw) in zip(batch, encoded):
                    have = found.get(text)
                    if have is not None:
                        ts, row = merge(key, StateRow(have[0], decode_row(have[1])), (ts, row))
                        ts, raw = check_event_time(ts, table, key), encode_row(row)
                    writes.append((table, version, text, ts, raw))
                conn.executemany(_REPLACE, writes)
            conn.execute("COMMIT")

        self._run(f"load of {table!r}", run)
        return len(encoded)

    def _abandon(self, table: str, version: int) -> None:
        """Remove the rows of a load that failed, if it is still the pending one (best effort)."""
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            if self._meta(conn, table)[1] == version:
                conn.execute("DELETE FROM skewless_state WHERE tbl = ? AND version = ?", (table, version))
                conn.execute("UPDATE skewless_tables SET pending = NULL WHERE name = ?", (table,))
            conn.execute("COMMIT")

        try:
            self._run("clean-up of a failed load", run)
        except StoreUnavailable:
            pass  # the next load of the table removes the rows

    def version(self, table: str) -> int | None:
        check_table(table)
        return self._run("read", lambda conn: self._meta(conn, table)[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r}, timeout={self.timeout})"
