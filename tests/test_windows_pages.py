"""The paged window state (skewless.windows.pages) on SQLite and a real Redis: what a request and an ingest read,
bounded page keys, one-row states of any size still read, materialize while ingesting, retries on a page
rewritten under a request, concurrent ingesters. (Every conformance case and the generated replay logs of
tests/test_windows.py also run paged, with page_size=2.)"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest

from redis_server import new_store, redis_server  # noqa: F401 - fixtures
from skewless.dtypes import Datetime, Float64, Int64, String
from skewless.state import RedisStore, SQLiteStore
from skewless.windows import (
    ConcurrentIngest, EventConflict, EventSource, LateEvent, OnlineWindows, Windows, col,
)
from skewless.windows import pages

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 1, tzinfo=UTC)
M = dt.timedelta(minutes=1)
SRC = EventSource("ev", time="t", order="id", max_lateness=dt.timedelta(minutes=30),
                  columns={"t": Datetime("us", "UTC"), "id": Int64(), "k": String(), "x": Float64(), "d": Int64()})


def rolling(expr, period, closed="left"):
    return expr.rolling(index_column="t", period=period, closed=closed)


FEATS = {
    "n": rolling(col("x").len(), "1h"), "s": rolling(col("x").sum(), "1h"), "m": rolling(col("x").mean(), "10m"),
    "sd": rolling(col("x").std(), "1h", "right"), "lo": rolling(col("x").min(), "1h"),
    "hi": rolling(col("d").max(), "1h", "both"), "f": rolling(col("x").first(), "1h"),
    "l": rolling(col("x").last(), "1h"), "u": rolling(col("d").n_unique(), "1h"),
    "tot": col("x").cum_sum().over("k", order_by="t", closed="left"),
    "cmax": col("d").cum_max().over("k", order_by="t", closed="right"),
}
WINS = Windows(SRC, {name: f if name in ("tot", "cmax") else f.over("k") for name, f in FEATS.items()},
               requests_at="times")
TABLE = WINS.entities[0].table


def ev(i, t, k="a", x=None, d=None):
    return {"t": t, "id": i, "k": k, "x": x, "d": d}


def history(n, k="a", start=0):
    """One event a minute, values with repeats, a -0.0 and a null."""
    return [ev(start + i, T0 + (start + i) * M, k, x=[0.25, -1.5, 3.0, -0.0, None][i % 5] if i % 7 else 2.0 ** -30,
               d=(start + i) % 11) for i in range(n)]


def req(t, k="a"):
    return ev(None, t, k)


def answers(online, times, k="a"):
    return [[(type(v).__name__, v.hex() if type(v) is float else v) for v in online(req(t, k)).values()]
            for t in times]


def page_rows(store, key=("a",)):
    """The page numbers stored for ``key`` in the live version (read from the store itself)."""
    prefix = list(pages.page_key(key, 0))[:-1]
    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        live = conn.execute("SELECT live FROM skewless_tables WHERE name = ?", (TABLE,)).fetchone()[0]
        keys = [k for (k,) in conn.execute("SELECT key FROM skewless_state WHERE tbl = ? AND version = ?",
                                           (TABLE, live))]
        conn.close()
    else:
        live = store._client.hget(f"{store.namespace}meta:{TABLE}", "live").decode()
        head = f"{store.namespace}row:{TABLE}:{live}:"
        keys = [k.decode()[len(head):] for k in store._client.scan_iter(match=head + "*")]
    import json

    return sorted(json.loads(k)[-1] for k in keys if json.loads(k)[:-1] == prefix)


def counting(store):
    """Wrap the store's reads: every key read by requests (get_many) and by transactions, in a list."""
    seen = {"get": [], "tx": []}
    get, transact = store.get_many, store.transact

    def get_many(lookups):
        seen["get"].append([k for _, k in lookups])
        return get(lookups)

    def tx(table, change):
        def counted(read):
            def r(keys):
                seen["tx"].append(list(keys))
                return read(keys)
            return change(r)
        return transact(table, counted)

    store.get_many, store.transact = get_many, tx
    return seen


def test_paged_state_answers_as_one_row_and_reads_only_the_pages_it_needs(new_store):
    events = history(400)
    paged_store, one_store = new_store(), new_store()
    paged = OnlineWindows(WINS, paged_store, page_size=8, paged_above=16)
    one = OnlineWindows(WINS, one_store, page_size=10**6, paged_above=10**6)
    paged.ingest(events[:150])  # one ingest: a one-row state split into pages
    for e in events[150:]:  # in-order ingests: the last page grows, sealed pages are deleted
        paged.ingest([e])
    one.ingest(events)
    (head,) = paged_store.get_many([(TABLE, ("a",))])
    assert pages.is_paged(head.values)
    times = [T0 + (400 + s) * M for s in (-0.5, 0, 1, 20, 59)] + [events[-1]["t"] + dt.timedelta(seconds=s)
                                                                 for s in (-90, -60, -1)]
    assert answers(paged, times) == answers(one, times)
    # bounded: the events of the last 30 min lateness + 1 h, in pages of 8 (+ the first page's sealed events)
    stored = page_rows(paged_store)
    d = pages.Head(head.values, paged._plans[0].kinds).dir
    assert stored == list(d.numbers) and len(stored) <= 90 // 8 + 2 and stored[0] > 0
    seen = counting(paged_store)
    paged(req(T0 + 401 * M))
    # heads, the pages of the window ends, then every page of the windows whose values are needed: n_unique,
    # min over values with nulls, the lifetime max (from the first held event)
    assert len(seen["get"]) == 3 and len(seen["get"][1]) <= 4
    paged.ingest([ev(1000, T0 + 401 * M, x=1.0, d=1)])
    read = [k for keys in seen["tx"] for k in keys]
    assert 1 < len(read) <= 5  # the head, the last page, the horizon's page (+ the pages it seals)
    # count/sum/mean/std/first/last/lifetime sum, max without nulls: the pages of the window ends only
    cheap = Windows(SRC, {name: f if name == "tot" else f.over("k")
                          for name, f in FEATS.items() if name in ("n", "s", "m", "sd", "f", "l", "hi", "tot")},
                    requests_at="times")
    store = new_store()
    online = OnlineWindows(cheap, store, page_size=8, paged_above=16)
    online.ingest(events)
    seen = counting(store)
    online(req(T0 + 401 * M))
    assert len(seen["get"]) == 2 and len(seen["get"][1]) <= 4


def test_paged_ingest_is_idempotent_and_refuses_conflicts_and_late_events(new_store):
    online = OnlineWindows(WINS, new_store(), page_size=4, paged_above=8)
    events = history(60)
    online.ingest(events)
    before = answers(online, [T0 + 61 * M])
    assert online.ingest(events[30:]).duplicates == 30  # held events, in pages in the middle and at the end
    assert online.ingest([events[45], ev(500, T0 + 70 * M, x=1.0)]).duplicates == 1
    with pytest.raises(EventConflict, match="event 40 was already ingested with other contents"):
        online.ingest([{**events[40], "x": 9.0}])
    with pytest.raises(EventConflict, match="event 58"):  # an id held in the last page, at a later time
        online.ingest([{**events[58], "t": T0 + 80 * M}])
    online.ingest([ev(502, T0 + 65 * M, x=2.0)])  # out of order but within the horizon: re-encoded, exact
    reference = OnlineWindows(WINS, new_store(), page_size=10**6, paged_above=10**6)
    reference.ingest(events + [ev(500, T0 + 70 * M, x=1.0), ev(502, T0 + 65 * M, x=2.0)])
    assert answers(online, [T0 + 71 * M]) == answers(reference, [T0 + 71 * M]) != before
    online.ingest([ev(503, T0 + 200 * M, x=1.0)])  # horizon: 200 min - 30 min lateness - 1 h = 110 min
    with pytest.raises(LateEvent, match="older than the state horizon"):
        online.ingest([ev(504, T0 + 100 * M, x=1.0)])


def test_a_one_row_state_of_any_size_is_read_exactly_and_paged_by_the_next_ingest(new_store):
    store = new_store()
    online = OnlineWindows(WINS, store, page_size=4, paged_above=8)
    events = history(50)
    # the one-row format of before paging, holding 50 events (a state materialized by the earlier version)
    row, _ = online._plans[0].add(None, [online.prepare([e])[0][("a",)][0] for e in events], ("a",))
    store.write(TABLE, [(("a",), row["w"]["m"], row)])
    reference = OnlineWindows(WINS, new_store(), page_size=10**6, paged_above=10**6)
    reference.ingest(events)
    times = [T0 + 50 * M, T0 + 30 * M]
    assert answers(online, times) == answers(reference, times)
    online.ingest([ev(100, T0 + 51 * M, x=1.0)])
    reference.ingest([ev(100, T0 + 51 * M, x=1.0)])
    assert pages.is_paged(store.get_many([(TABLE, ("a",))])[0].values)
    assert answers(online, [T0 + 52 * M]) == answers(reference, [T0 + 52 * M])


def test_a_request_reads_again_when_a_page_changed_under_it(new_store):
    store = new_store()
    online = OnlineWindows(WINS, store, page_size=4, paged_above=8)
    online.ingest(history(40))
    real = store.get_many
    calls = []

    def racing(lookups):
        calls.append(lookups)
        out = real(lookups)
        if len(calls) == 1:  # between the head and its pages: an ingest rewrites the last page
            online.ingest([ev(99, T0 + 40 * M, x=5.0, d=3)])
        return out

    store.get_many = racing
    got = online(req(T0 + 41 * M))
    store.get_many = real
    assert len(calls) >= 4 and got == online(req(T0 + 41 * M)) and got["l"] == 5.0


def _loading_with(store, during, at):
    """``store.load`` calls ``during()`` after ``at`` rows of a load have been written (batch_size=1)."""
    real = store.load

    def load(table, rows, **kw):
        def gen():
            for i, row in enumerate(rows):
                if i == at:
                    during()
                yield row
        return real(table, gen(), **{**kw, "batch_size": 1})

    store.load = load


@pytest.mark.parametrize("at", [1, 11])
def test_materialize_pages_large_states_and_merges_events_ingested_while_it_loads(new_store, at):
    store, reference = new_store(), new_store()
    online = OnlineWindows(WINS, store, page_size=4, paged_above=8)
    hist = history(40, "a") + history(40, "b") + history(3, "c")
    live = [ev(900, T0 + 41 * M, "a", x=1.0), ev(901, T0 + 41 * M, "b", x=2.0), ev(902, T0 + 41 * M, "d", x=3.0)]
    # the load writes a paged state's pages, then its head: "a" has 10 pages and a head. at=11: "a" is loaded
    # before the ingest (which changes the paged state in the version being loaded); at=1 (and "b" in both):
    # the ingest comes first, the paged bulk state is merged with the ingested event into one row, and the
    # loaded pages are deleted by the key's next ingest
    _loading_with(store, lambda: online.ingest(live), at)
    assert online.materialize(hist) == {TABLE: 3}
    ref = OnlineWindows(WINS, reference, page_size=10**6, paged_above=10**6)
    ref.ingest(hist + live)
    for k in "abcd":
        assert answers(online, [T0 + 42 * M], k) == answers(ref, [T0 + 42 * M], k)
    assert page_rows(store, ("b",))  # the loaded pages of "b", no longer read
    online.ingest([ev(903, T0 + 43 * M, "b", x=1.0)])
    ref.ingest([ev(903, T0 + 43 * M, "b", x=1.0)])
    b = store.get_many([(TABLE, ("b",))])[0].values
    assert page_rows(store, ("b",)) == list(pages.Head(b, online._plans[0].kinds).dir.numbers)
    assert answers(online, [T0 + 44 * M], "b") == answers(ref, [T0 + 44 * M], "b")


def test_materialize_refuses_a_state_paged_by_an_ingest_during_the_load(new_store):
    store = new_store()
    online = OnlineWindows(WINS, store, page_size=2, paged_above=4)
    online.ingest([ev(1, T0, "z", x=1.0)])
    before = store.version(TABLE)
    _loading_with(store, lambda: online.ingest(history(10, "b", start=100)), 1)
    with pytest.raises(ConcurrentIngest, match="materialize again"):
        online.materialize(history(3, "a") + history(10, "b"))
    assert store.version(TABLE) == before


def test_concurrent_ingesters_of_a_paged_state_lose_no_event(new_store):
    wins = Windows(SRC, {"n": col("d").cum_count().over("k", order_by="t", closed="right"),
                         "r": rolling(col("d").len(), "1d", "right").over("k")}, requests_at="times")
    first = new_store()
    second = SQLiteStore(first.path) if isinstance(first, SQLiteStore) else RedisStore(
        f"redis://127.0.0.1:{first._client.connection_pool.connection_kwargs['port']}/0", namespace=first.namespace)
    OnlineWindows(wins, first, page_size=3, paged_above=6).ingest([ev(i, T0 + i * M, d=1) for i in range(10)])
    errors = []

    def run(store, offset):
        try:
            online = OnlineWindows(wins, store, page_size=3, paged_above=6)
            for i in range(30):
                online.ingest([ev(offset + i, T0 + (10 + 2 * i + offset % 2) * M, d=1)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s, o)) for s, o in ((first, 1000), (second, 2001))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    second.close()
    assert not errors
    got = OnlineWindows(wins, first, page_size=3, paged_above=6)(req(T0 + 2 * dt.timedelta(hours=1)))
    assert got == {"n": 70, "r": 70}


def test_a_page_missing_under_its_head_is_a_clear_error_never_a_wrong_answer(new_store):
    store = new_store()
    online = OnlineWindows(WINS, store, page_size=4, paged_above=8)
    online.ingest(history(40))
    head = pages.Head(store.get_many([(TABLE, ("a",))])[0].values, online._plans[0].kinds)
    store.transact(TABLE, lambda read: {pages.page_key(("a",), head.dir.numbers[1]): None})
    with pytest.raises(ValueError, match="materialize"):
        online.ingest([ev(41, T0 + 20 * M, x=1.0)])  # out of order: every page is read
