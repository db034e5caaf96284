"""The production online store: Redis through redis-py.

Layout under a namespace (default ``skewless:``): ``{ns}meta:{table}``, a hash with the table's ``live``
version, the ``pending`` version a load is writing and the ``next`` version number; ``{ns}row:{table}:
{version}:{key}``, a hash with the row's event time ``t`` and its encoded row ``r``.

Every operation is one server-side Lua script, so each is atomic and is one round trip:

* a write compares event times on the server (an older write never overwrites newer state, whoever sends
  what, whatever the network reorders) and writes the live version and, during a load, the pending one;
* a read of all lookups of a request resolves each table's live version and reads every row in the same
  script: one round trip (what pipelined ``MGET`` would give) *and* one consistent version per table, which
  a client-side version cache could not give during a switch;
* the version switch of a load sets ``live`` and clears ``pending`` at once;
* :meth:`RedisStore.update` and :meth:`RedisStore.transact` are optimistic: scripts read the rows, the client
  decides the change, and one script writes it only if neither version and no row read changed since (else
  the client reads again, at most 100 times, then :class:`StoreUnavailable`); a change that raised after
  reading rows that changed meanwhile (a torn view) runs again too.

The first use of a script after the server starts costs two more round trips (``SCRIPT LOAD`` on
``NOSCRIPT``); after that a read is one ``EVALSHA``. Reads are the hot path: each thread sends them on a
connection of its own (kept for the store's lifetime, outside redis-py's pool) with ``send_command`` /
``read_response``, which skips the client's per-command pool checkout and response callbacks — measured
~67 -> ~30 µs per ``get_many`` on loopback (``benchmarks/state.py``); the round trip itself is unchanged. Old versions are removed after the switch with ``SCAN``/``UNLINK`` (readers no longer see them). The scripts
build key names themselves, so this store is for a single Redis server (or a primary with replicas), not a
Redis Cluster.

Timeouts: connect and socket timeouts are the store's ``timeout`` and redis-py's retries are off, so a dead,
refusing or stalled server raises :class:`StoreUnavailable` after at most ``timeout`` seconds.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from skewless.state.codec import decode_row, encode_key, encode_row
from skewless.state.protocol import (
    ConcurrentLoad, InvalidKey, Key, LoadResult, Row, StateRow, StoreUnavailable, check_event_time, check_table,
)

_WRITE = """
local ns, tbl, mode = ARGV[1], ARGV[2], ARGV[3]
local meta = ns .. 'meta:' .. tbl
local targets = {}
if mode == 'live' then
  local live = redis.call('HGET', meta, 'live')
  if not live then
    live = tostring(redis.call('HINCRBY', meta, 'next', 1))
    redis.call('HSET', meta, 'live', live)
  end
  targets[1] = live
  local pending = redis.call('HGET', meta, 'pending')
  if pending then targets[2] = pending end
else
  if redis.call('HGET', meta, 'pending') ~= mode then return redis.error_reply('SKEWLESS_LOAD_REPLACED') end
  targets[1] = mode
end
for i = 4, #ARGV, 3 do
  local ts = tonumber(ARGV[i + 1])
  for _, version in ipairs(targets) do
    local k = ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i]
    local old = redis.call('HGET', k, 't')
    if (not old) or tonumber(old) <= ts then redis.call('HSET', k, 't', ARGV[i + 1], 'r', ARGV[i + 2]) end
  end
end
return 0
"""
_GET = """
local ns = ARGV[1]
local lives, out = {}, {}
for i = 2, #ARGV, 2 do
  local tbl = ARGV[i]
  local live = lives[tbl]
  if live == nil then
    live = redis.call('HGET', ns .. 'meta:' .. tbl, 'live') or false
    lives[tbl] = live
  end
  if live then
    local v = redis.call('HMGET', ns .. 'row:' .. tbl .. ':' .. live .. ':' .. ARGV[i + 1], 't', 'r')
    out[#out + 1] = v[1] or false
    out[#out + 1] = v[2] or false
  else
    out[#out + 1] = false
    out[#out + 1] = false
  end
end
return out
"""
# update(): read the live and pending versions and every key's row in them ...
_READ_FOR_UPDATE = """
local ns, tbl = ARGV[1], ARGV[2]
local meta = ns .. 'meta:' .. tbl
local live = redis.call('HGET', meta, 'live') or ''
local pending = redis.call('HGET', meta, 'pending') or ''
local out = {live, pending}
for i = 3, #ARGV do
  for _, version in ipairs({live, pending}) do
    if version ~= '' then
      local v = redis.call('HMGET', ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i], 't', 'r')
      out[#out + 1] = v[1] or ''
      out[#out + 1] = v[2] or ''
    else
      out[#out + 1] = ''
      out[#out + 1] = ''
    end
  end
end
return out
"""
# ... then write the changed rows only if nothing changed since that read (else the client reads again).
# ARGV: ns, tbl, live, pending, then per write: version ('live' or 'pending'), key, expected row ('' = absent),
# new event time, new row.
_COMPARE_AND_SET = """
local ns, tbl = ARGV[1], ARGV[2]
local meta = ns .. 'meta:' .. tbl
local live = redis.call('HGET', meta, 'live') or ''
local pending = redis.call('HGET', meta, 'pending') or ''
if live ~= ARGV[3] or pending ~= ARGV[4] then return 0 end
if live == '' then
  live = tostring(redis.call('HINCRBY', meta, 'next', 1))
  redis.call('HSET', meta, 'live', live)
end
local keys = {}
for i = 5, #ARGV, 5 do
  local version = (ARGV[i] == 'live') and live or pending
  local k = ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i + 1]
  if (redis.call('HGET', k, 'r') or '') ~= ARGV[i + 2] then return 0 end
  keys[#keys + 1] = k
end
for j, k in ipairs(keys) do
  local i = 5 + (j - 1) * 5
  redis.call('HSET', k, 't', ARGV[i + 3], 'r', ARGV[i + 4])
end
return 1
"""
# transact(): the rows of some keys in one version ('' = no live version yet: every row absent) ...
_READ_ROWS = """
local ns, tbl, version = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV do
  if version == '' then
    out[#out + 1] = ''
    out[#out + 1] = ''
  else
    local v = redis.call('HMGET', ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i], 't', 'r')
    out[#out + 1] = v[1] or ''
    out[#out + 1] = v[2] or ''
  end
end
return out
"""
# ... whether neither version and no row read changed since (asked when the change raised) ...
_CURRENT = """
local ns, tbl = ARGV[1], ARGV[2]
local meta = ns .. 'meta:' .. tbl
if (redis.call('HGET', meta, 'live') or '') ~= ARGV[3] or (redis.call('HGET', meta, 'pending') or '') ~= ARGV[4] then
  return 0
end
for i = 6, 5 + 3 * tonumber(ARGV[5]), 3 do
  local version = (ARGV[i] == 'live') and ARGV[3] or ARGV[4]
  if version ~= '' then
    local r = redis.call('HGET', ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i + 1], 'r')
    if (r and redis.sha1hex(r) or '') ~= ARGV[i + 2] then return 0 end
  end
end
return 1
"""
# ... then the writes and deletes, only if neither version and no row read changed since (else run again).
# ARGV: ns, tbl, live, pending, number of reads, per read: version, key, SHA-1 of the row read ('' = absent);
# then per write: version, key, event time ('' = delete the row), row.
_TRANSACT = """
local ns, tbl = ARGV[1], ARGV[2]
local meta = ns .. 'meta:' .. tbl
local live = redis.call('HGET', meta, 'live') or ''
local pending = redis.call('HGET', meta, 'pending') or ''
if live ~= ARGV[3] or pending ~= ARGV[4] then return 0 end
local reads = tonumber(ARGV[5])
for i = 6, 5 + 3 * reads, 3 do
  local version = (ARGV[i] == 'live') and live or pending
  if version ~= '' then
    local r = redis.call('HGET', ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i + 1], 'r')
    if (r and redis.sha1hex(r) or '') ~= ARGV[i + 2] then return 0 end
  end
end
if live == '' then
  live = tostring(redis.call('HINCRBY', meta, 'next', 1))
  redis.call('HSET', meta, 'live', live)
end
for i = 6 + 3 * reads, #ARGV, 4 do
  local version = (ARGV[i] == 'live') and live or pending
  local k = ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i + 1]
  if ARGV[i + 2] == '' then redis.call('DEL', k) else redis.call('HSET', k, 't', ARGV[i + 2], 'r', ARGV[i + 3]) end
end
return 1
"""
#: Attempts of an update against concurrent writers before StoreUnavailable (each attempt is 2 round trips).
_UPDATE_ATTEMPTS = 100
_START = """
local meta = ARGV[1] .. 'meta:' .. ARGV[2]
local stale = redis.call('HGET', meta, 'pending') or false
local new = redis.call('HINCRBY', meta, 'next', 1)
redis.call('HSET', meta, 'pending', new)
return {stale, new}
"""
_SWITCH = """
local meta = ARGV[1] .. 'meta:' .. ARGV[2]
if redis.call('HGET', meta, 'pending') ~= ARGV[3] then return redis.error_reply('SKEWLESS_LOAD_REPLACED') end
local old = redis.call('HGET', meta, 'live') or false
redis.call('HSET', meta, 'live', ARGV[3])
redis.call('HDEL', meta, 'pending')
return old
"""
# load(merge=...): read the rows of some keys in the version being loaded, then write the merged batch only if
# none of them changed since (else the client reads again). ARGV: ns, tbl, version, keys... / then per row:
# key, expected row ('' = absent), event time, row.
_READ_VERSION = """
local ns, tbl, version = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', ns .. 'meta:' .. tbl, 'pending') ~= version then return redis.error_reply('SKEWLESS_LOAD_REPLACED') end
local out = {}
for i = 4, #ARGV do
  local v = redis.call('HMGET', ns .. 'row:' .. tbl .. ':' .. version .. ':' .. ARGV[i], 't', 'r')
  out[#out + 1] = v[1] or ''
  out[#out + 1] = v[2] or ''
end
return out
"""
_LOAD_COMPARE_AND_SET = """
local ns, tbl, version = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', ns .. 'meta:' .. tbl, 'pending') ~= version then return redis.error_reply('SKEWLESS_LOAD_REPLACED') end
local prefix = ns .. 'row:' .. tbl .. ':' .. version .. ':'
for i = 4, #ARGV, 4 do
  if (redis.call('HGET', prefix .. ARGV[i], 'r') or '') ~= ARGV[i + 1] then return 0 end
end
for i = 4, #ARGV, 4 do
  redis.call('HSET', prefix .. ARGV[i], 't', ARGV[i + 2], 'r', ARGV[i + 3])
end
return 1
"""
_ABANDON = """
local meta = ARGV[1] .. 'meta:' .. ARGV[2]
if redis.call('HGET', meta, 'pending') == ARGV[3] then redis.call('HDEL', meta, 'pending') return 1 end
return 0
"""
_NAMESPACE = re.compile(r"[A-Za-z0-9_.:-]{0,100}\Z")  # no glob characters: SCAN patterns are built from it
_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisStore:
    """The Redis :class:`~skewless.state.OnlineStore`.

    Parameters
    ----------
    url
        ``redis://host:port/db`` (redis-py's URL forms).
    timeout
        Seconds for connecting and for each reply before :class:`StoreUnavailable`; no retries.
    namespace
        Prefix of every key this store uses.
    """

    def __init__(self, url: str, *, timeout: float = 1.0, namespace: str = "skewless:"):
        if not _NAMESPACE.match(namespace):
            raise InvalidKey(f"Redis namespace {namespace!r} is not letters, digits and '_.:-'")
        self.timeout = float(timeout)
        self.namespace = namespace
        self._client = redis.Redis.from_url(
            url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0), retry_on_timeout=False)
        kw = self._client.connection_pool.connection_kwargs
        self.name = f"redis://{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
        self._scripts = {name: self._client.register_script(src) for name, src in
                         (("write", _WRITE), ("get", _GET), ("start", _START), ("switch", _SWITCH),
                          ("abandon", _ABANDON), ("read_for_update", _READ_FOR_UPDATE),
                          ("compare_and_set", _COMPARE_AND_SET), ("read_version", _READ_VERSION),
                          ("load_compare_and_set", _LOAD_COMPARE_AND_SET), ("read_rows", _READ_ROWS),
                          ("transact", _TRANSACT), ("current", _CURRENT))}
        self._get_sha = self._scripts["get"].sha
        self._local = threading.local()  # each thread's read connection
        self._readers: list[Any] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    def _reader(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._client.connection_pool.make_connection()  # connects on first send
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _read(self, args: list[Any]) -> Any:
        """The read script on this thread's connection: one EVALSHA (plus SCRIPT LOAD once per server)."""
        if self._closed:
            raise StoreUnavailable(self.name, "the store is closed")
        conn = self._reader()
        try:
            try:
                conn.send_command("EVALSHA", self._get_sha, 0, *args)
                return conn.read_response()
            except redis.exceptions.NoScriptError:
                conn.send_command("SCRIPT", "LOAD", _GET)
                conn.read_response()
                conn.send_command("EVALSHA", self._get_sha, 0, *args)
                return conn.read_response()
        except _ERRORS as exc:
            conn.disconnect()  # a reply may still be on its way: the next read reconnects
            raise StoreUnavailable(self.name, f"read failed within {self.timeout:g} s: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            raise StoreUnavailable(self.name, f"read: {exc}") from exc

    def _call(self, what: str, script: str, args: list[Any]) -> Any:
        if self._closed:
            raise StoreUnavailable(self.name, "the store is closed")
        try:
            return self._scripts[script](args=args)
        except _ERRORS as exc:
            raise StoreUnavailable(self.name, f"{what} failed within {self.timeout:g} s: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            if "SKEWLESS_LOAD_REPLACED" in str(exc):
                raise ConcurrentLoad(f"{self.name}: another load replaced this one ({what})") from None
            raise StoreUnavailable(self.name, f"{what}: {exc}") from exc

    def write(self, table: str, rows: Iterable[tuple[Key, int, Row]]) -> None:
        check_table(table)
        args: list[Any] = [self.namespace, table, "live"]
        for key, ts, row in rows:  # every row checked before anything is sent
            args += (encode_key(table, key), check_event_time(ts, table, key), encode_row(row))
        if len(args) > 3:
            self._call(f"write to {table!r}", "write", args)

    def update(self, table: str, keys: Sequence[Key],
               change: Callable[[Key, StateRow | None], tuple[int, Row] | None]) -> None:
        check_table(table)
        encoded = [(key, encode_key(table, key)) for key in keys]
        if not encoded:
            return
        for _ in range(_UPDATE_ATTEMPTS):
            flat = self._call(f"update of {table!r}", "read_for_update",
                              [self.namespace, table, *(text for _, text in encoded)])
            live, pending = (v.decode() for v in flat[:2])
            args: list[Any] = [self.namespace, table, live, pending]
            for i, (key, text) in enumerate(encoded):
                base = 2 + 4 * i
                for j, version in enumerate(("live", "pending")):
                    if version == "pending" and not pending:
                        continue
                    ts, raw = flat[base + 2 * j], flat[base + 2 * j + 1]
                    new = change(key, StateRow(int(ts), decode_row(raw)) if raw else None)
                    if new is not None:
                        args += (version, text, raw, check_event_time(new[0], table, key), encode_row(new[1]))
            if len(args) == 4 or self._call(f"update of {table!r}", "compare_and_set", args):
                return
        raise StoreUnavailable(self.name, f"update of {table!r}: other writers changed the rows "
                               f"{_UPDATE_ATTEMPTS} times in a row")

    def transact(self, table: str, change: Callable[[Callable[[Sequence[Key]], list[StateRow | None]]],
                                                    Mapping[Key, tuple[int, Row] | None]]) -> None:
        check_table(table)
        what = f"transaction on {table!r}"
        for _ in range(_UPDATE_ATTEMPTS):
            live, pending = (v.decode() for v in self._call(what, "read_for_update", [self.namespace, table]))
            reads: list[Any] = []  # per row read: version, key, SHA-1 of the row ('' = absent)
            writes: list[Any] = []
            try:
                for tag, version in (("live", live), ("pending", pending)):
                    if tag == "pending" and not pending:
                        continue

                    def read(keys: Sequence[Key], tag: str = tag, version: str = version) -> list[StateRow | None]:
                        texts = [encode_key(table, key) for key in keys]
                        if not texts:
                            return []
                        flat = self._call(what, "read_rows", [self.namespace, table, version, *texts])
                        out = []
                        for i, text in enumerate(texts):
                            ts, raw = flat[2 * i], flat[2 * i + 1]
                            reads.extend((tag, text, hashlib.sha1(raw).hexdigest() if raw else ""))
                            out.append(StateRow(int(ts), decode_row(raw)) if raw else None)
                        return out

                    for key, new in change(read).items():
                        text = encode_key(table, key)
                        if new is None:
                            writes += (tag, text, "", "")
                        else:
                            writes += (tag, text, check_event_time(new[0], table, key), encode_row(new[1]))
            except Exception:
                # what change saw may have been torn by another writer (its reads are not one snapshot): its
                # error counts only if every row it read is still current, else it runs again
                if self._call(what, "current", [self.namespace, table, live, pending, len(reads) // 3, *reads]):
                    raise
                continue
            if not writes or self._call(what, "transact", [self.namespace, table, live, pending, len(reads) // 3,
                                                           *reads, *writes]):
                return
        raise StoreUnavailable(self.name, f"{what}: other writers changed the rows {_UPDATE_ATTEMPTS} times in a row")

    def get_many(self, lookups: Sequence[tuple[str, Key]]) -> list[StateRow | None]:
        args: list[Any] = [self.namespace]
        for table, key in lookups:
            args += (check_table(table), encode_key(table, key))
        if not lookups:
            return []
        flat = self._read(args)
        return [None if flat[i] is None else StateRow(int(flat[i]), decode_row(flat[i + 1]))
                for i in range(0, len(flat), 2)]

    def load(self, table: str, rows: Iterable[tuple[Key, int, Row]], *, batch_size: int = 10_000,
             progress: Callable[[int], Any] | None = None,
             merge: Callable[[Key, StateRow, tuple[int, Row]], tuple[int, Row]] | None = None) -> LoadResult:
        check_table(table)
        stale, new = self._call(f"start of a load of {table!r}", "start", [self.namespace, table])
        if stale is not None:  # a load that never finished (its process died): its rows are garbage
            self._drop_version(table, stale.decode())
        version = str(new)
        written = 0
        try:
            if merge is not None:
                batch: list[tuple[Key, int, Row]] = []
                for item in rows:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        written += self._load_merged(table, version, batch, merge)
                        batch = []
                        if progress is not None:
                            progress(written)
                if batch or written == 0:
                    written += self._load_merged(table, version, batch, merge)
                    if progress is not None:
                        progress(written)
            else:
                args: list[Any] = [self.namespace, table, version]
                for key, ts, row in rows:
                    args += (encode_key(table, key), check_event_time(ts, table, key), encode_row(row))
                    if len(args) >= 3 + 3 * batch_size:
                        self._call(f"load of {table!r}", "write", args)
                        written += (len(args) - 3) // 3
                        args = args[:3]
                        if progress is not None:
                            progress(written)
                if len(args) > 3 or written == 0:
                    self._call(f"load of {table!r}", "write", args)
                    written += (len(args) - 3) // 3
                    if progress is not None:
                        progress(written)
            old = self._call(f"switch of {table!r} to version {version}", "switch",
                             [self.namespace, table, version])
        except BaseException:
            try:
                if self._call("clean-up of a failed load", "abandon", [self.namespace, table, version]):
                    self._drop_version(table, version)
            except StoreUnavailable:
                pass  # the next load of the table removes the rows
            raise
        if old is not None:
            self._drop_version(table, old.decode())
        return LoadResult(table, int(version), written)

    def _load_merged(self, table: str, version: str, batch: list[tuple[Key, int, Row]],
                     merge: Callable[[Key, StateRow, tuple[int, Row]], tuple[int, Row]]) -> int:
        """One batch of a load with ``merge``: read the batch's rows in the version being loaded, merge, and
        write only if none changed since the read (else read again)."""
        encoded = [(key, encode_key(table, key), check_event_time(ts, table, key), row) for key, ts, row in batch]
        if not encoded:
            return 0
        for _ in range(_UPDATE_ATTEMPTS):
            flat = self._call(f"load of {table!r}", "read_version",
                              [self.namespace, table, version, *(text for _, text, _, _ in encoded)])
            args: list[Any] = [self.namespace, table, version]
            for i, (key, text, ts, row) in enumerate(encoded):
                have_ts, have = flat[2 * i], flat[2 * i + 1]
                if have:
                    ts, row = merge(key, StateRow(int(have_ts), decode_row(have)), (ts, row))
                    ts = check_event_time(ts, table, key)
                args += (text, have, ts, encode_row(row))
            if self._call(f"load of {table!r}", "load_compare_and_set", args):
                return len(encoded)
        raise StoreUnavailable(self.name, f"load of {table!r}: other writers changed the rows "
                               f"{_UPDATE_ATTEMPTS} times in a row")

    def _drop_version(self, table: str, version: str) -> None:
        pattern = f"{self.namespace}row:{table}:{version}:*"
        try:
            batch = []
            for key in self._client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    self._client.unlink(*batch)
                    batch = []
            if batch:
                self._client.unlink(*batch)
        except _ERRORS as exc:
            raise StoreUnavailable(self.name, f"removal of {table!r} version {version}: {exc}") from exc

    def version(self, table: str) -> int | None:
        check_table(table)
        try:
            live = self._client.hget(f"{self.namespace}meta:{table}", "live")
        except _ERRORS as exc:
            raise StoreUnavailable(self.name, f"read failed within {self.timeout:g} s: {exc}") from exc
        return None if live is None else int(live)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with self._readers_lock:
                for conn in self._readers:
                    conn.disconnect()
                self._readers.clear()
            self._client.close()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RedisStore({self.name!r}, timeout={self.timeout}, namespace={self.namespace!r})"
