"""Entity state for lookups: the online store behind one small protocol.

A store keeps, per entity table and entity key, the newest row by **event time** (an older write never
overwrites newer state; on equal event times the later write wins). Every lookup of one request is one
round trip (:meth:`OnlineStore.get_many`). Bulk loads are versioned (:meth:`OnlineStore.load`): rows go to a
new version that readers cannot see until one atomic switch, so a half-finished load is never visible.
Every failure to reach the store is one :class:`StoreUnavailable` naming the store, raised within the
store's bounded timeout.

Two implementations share one conformance suite (``tests/test_state_store.py``):

* :class:`SQLiteStore` — the embedded default, one file, the standard library's ``sqlite3`` in WAL mode;
* :class:`RedisStore` — Redis through redis-py, for production.

Lookups into entity tables are declared in :mod:`skewless.state.lookups` (``join_asof``'s words; the online
side, no polars), compiled for batch by :mod:`skewless.state.batch` (polars) and proven equal by
:mod:`skewless.state.replay`. Rows are written by :mod:`skewless.state.ingest` (validated like requests, each with its
event time; the service's ``POST /v1/entities/{table}`` is :mod:`skewless.serving.entities`).

This package's ``__init__``, ``lookups`` and the stores never import polars: the serving path reads them.
"""

from __future__ import annotations

from typing import Any

from skewless.state.lookups import EntityTable, Lookup, Lookups
from skewless.state.protocol import InvalidKey, LoadResult, OnlineStore, StateRow, StoreUnavailable

__all__ = ["EntityTable", "InvalidKey", "LoadResult", "Lookup", "Lookups", "OnlineStore", "RedisStore", "SQLiteStore",
           "StateRow", "StoreUnavailable", "open_store"]


def __getattr__(name: str) -> Any:
    # The stores are imported when first named: ``import skewless`` (which exports EntityTable and Lookup)
    # does not import redis-py.
    if name == "RedisStore":
        from skewless.state.redis_store import RedisStore

        return RedisStore
    if name == "SQLiteStore":
        from skewless.state.sqlite_store import SQLiteStore

        return SQLiteStore
    raise AttributeError(f"module 'skewless.state' has no attribute {name!r}")


def open_store(url: str, *, timeout: float = 1.0, namespace: str | None = None) -> OnlineStore:
    """The store a URL names — the one parser of store URLs (the service, ``skewless materialize`` and the
    Python API all use it).

    Parameters
    ----------
    url
        ``redis://HOST:PORT/DB`` / ``rediss://...`` / ``unix://PATH`` (Redis), ``sqlite:PATH`` or a bare file
        path (SQLite; the file is created, its directory must exist).
    timeout
        Seconds a store operation may take before :class:`StoreUnavailable` (a bulk load wants more than a
        request: ``skewless materialize`` passes 5 s).
    namespace
        Redis key prefix (default ``"skewless:"``); not allowed for SQLite.

    Raises
    ------
    SkewlessError
        An empty URL, an unknown scheme, a SQLite directory that does not exist, or a namespace for SQLite.
    """
    from pathlib import Path

    from skewless.errors import SkewlessError

    text = str(url).strip()
    if text.startswith(("redis://", "rediss://", "unix://")):
        from skewless.state.redis_store import RedisStore

        return RedisStore(text, timeout=timeout, **({} if namespace is None else {"namespace": namespace}))
    if namespace is not None:
        raise SkewlessError(f"store {text!r}: a namespace is a Redis key prefix; SQLite has none")
    path_text = text[len("sqlite:"):] if text.startswith("sqlite:") else text
    if not path_text or "://" in path_text:
        raise SkewlessError(f"store {text!r}: expected sqlite:PATH or redis://HOST:PORT/DB (or a file path)")
    path = Path(path_text)
    if not path.parent.is_dir():
        raise SkewlessError(f"store {text!r}: directory {str(path.parent)!r} does not exist")
    from skewless.state.sqlite_store import SQLiteStore

    return SQLiteStore(path, timeout=timeout)
